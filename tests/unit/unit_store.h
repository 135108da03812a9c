/*
 * unit_store.h: helpers for the store unit tests: a fresh store in a private
 * temp directory, conference and content shortcuts, a snapshot of a store's
 * journal heads and counts, and the check that a refused write moved neither.
 * Include after <cmocka.h>, "err.h", "store.h" and "unit.h".
 */
#ifndef PP_UNIT_STORE_H
#define PP_UNIT_STORE_H

#include <string.h>

#define UNIT_POOL	"pool-a.example.test"
#define UNIT_ALICE	"sip:alice@" UNIT_POOL
#define UNIT_BOB	"sip:bob@" UNIT_POOL
#define UNIT_START	1795428000	/* 2026-11-23T10:00:00Z */

/* A store in tmp/store; with users, Alice and Bob and a conference. */
struct unit_fx {
	char *tmp;			/* the test's private directory */
	char *dir;			/* tmp/store */
	struct store *st;
	char conf[PP_CONF_ID_LEN + 1];	/* Alice's, or "" */
};

/* Create conference of ${org} from UNIT_START for ${secs}; id to ${id}. */
static inline void
unit_conf_new(struct store *st, const char *org, int64_t secs,
    char id[PP_CONF_ID_LEN + 1])
{
	struct store_conf c;

	memset(&c, 0, sizeof(c));
	snprintf(c.organizer, sizeof(c.organizer), "%s", org);
	c.start = UNIT_START;
	c.end = UNIT_START + secs;
	c.access = STORE_ACCESS_INVITED;
	if (store_conf_create(st, &c) != 0)
		fail_msg("conf create: %s", pp_errmsg());
	assert_int_equal(strlen(c.id), PP_CONF_ID_LEN);
	memcpy(id, c.id, PP_CONF_ID_LEN + 1);
}

/* A new fixture (caller frees with unit_fx_free). */
static inline struct unit_fx *
unit_fx_new(int with_users)
{
	struct unit_fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->tmp = unit_mkdtemp();
	f->dir = unit_path(f->tmp, "store");
	assert_int_equal(store_create(f->dir, UNIT_POOL, NULL), 0);
	f->st = store_open(f->dir);
	assert_non_null(f->st);
	if (with_users) {
		assert_int_equal(store_user_add(f->st, UNIT_ALICE, "Alice"), 0);
		assert_int_equal(store_user_add(f->st, UNIT_BOB, "Bob"), 0);
		unit_conf_new(f->st, UNIT_ALICE, 3600, f->conf);
	}
	return (f);
}

static inline void
unit_fx_free(struct unit_fx *f)
{

	store_close(f->st);
	free(f->dir);
	unit_rmtree(f->tmp);
	free(f);
}

/* Put file ${path} as ${name} (MIME ${mime}) of ${conf}; put's result. */
static inline int
unit_put(struct store *st, const char *conf, const char *name,
    const char *mime, const char *path, struct store_content *out)
{
	int fd = open(path, O_RDONLY), rc;

	assert_true(fd >= 0);
	rc = store_content_put(st, conf, name, STORE_KIND_HANDOUT, mime, fd,
	    out);
	close(fd);
	return (rc);
}

/* What a refused write must leave as it was. */
struct unit_snap {
	int64_t head[STORE_NMOD];	/* last LSN of each module */
	int64_t users, contacts, conferences, content_items, chunks;
	int64_t chunk_bytes, journal_records;
};

/* The last LSN of ${mod}, asserting the epoch is still 1. */
static inline int64_t
unit_head(struct store *st, enum store_module mod)
{
	int64_t epoch, last;

	assert_int_equal(store_journal_head(st, mod, &epoch, &last), 0);
	assert_int_equal(epoch, 1);
	return (last);
}

static inline void
unit_snap(struct store *st, struct unit_snap *s)
{
	struct store_stats x;
	int m;

	memset(s, 0, sizeof(*s));
	for (m = 0; m < STORE_NMOD; m++)
		s->head[m] = unit_head(st, (enum store_module)m);
	assert_int_equal(store_stats(st, &x), 0);
	s->users = x.users;
	s->contacts = x.contacts;
	s->conferences = x.conferences;
	s->content_items = x.content_items;
	s->chunks = x.chunks;
	s->chunk_bytes = x.chunk_bytes;
	s->journal_records = x.journal_records;
	/* Successful calls may leave a stale record; start clean. */
	pp_err_clear();
}

/*
 * ${rc} must be -1 with error class ${code} and a message, and the store's
 * heads and counts must equal ${before}.  ${what} names the case.
 */
static inline void
unit_refused(struct store *st, int rc, enum pp_err code,
    const struct unit_snap *before, const char *what)
{
	struct unit_snap after;

	if (rc != -1)
		fail_msg("%s: accepted (returned %d)", what, rc);
	if (pp_errcode() != code)
		fail_msg("%s: class %d (%s), expected %d", what,
		    (int)pp_errcode(), pp_errmsg(), (int)code);
	if (pp_errmsg()[0] == '\0')
		fail_msg("%s: refused without a message", what);
	unit_snap(st, &after);
	if (memcmp(before, &after, sizeof(after)) != 0)
		fail_msg("%s: the store changed", what);
}

/* cmocka fixtures: a store with Alice, Bob and Alice's conference. */
static inline int
unit_setup_users(void **state)
{

	*state = unit_fx_new(1);
	return (0);
}

static inline int
unit_teardown(void **state)
{

	unit_fx_free(*state);
	return (0);
}

#endif
