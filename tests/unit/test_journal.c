/* test_journal.c: the store journal: one record per commit, LSNs gapless. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/wait.h>

#include "err.h"
#include "store.h"
#include "unit.h"
#include "unit_store.h"

#define POOL	UNIT_POOL
#define ALICE	UNIT_ALICE
#define BOB	UNIT_BOB
#define NCHILD	2
#define PERCHILD 200

/* The records one store_journal_list call passed to its callback. */
struct jlist {
	size_t n, cap;
	struct store_jrec *r;
};

static int
setup(void **state)
{
	struct unit_fx *f = unit_fx_new(0);
	char *file = unit_path(f->tmp, "content");

	unit_write_file(file, "hello, conference\n", 18);
	free(file);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{

	unit_fx_free(*state);
	return (0);
}

static int
jlist_add(void *arg, const struct store_jrec *r)
{
	struct jlist *l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->r = realloc(l->r, l->cap * sizeof(*l->r));
		assert_non_null(l->r);
	}
	l->r[l->n++] = *r;
	return (0);
}

/* The records of ${mod} (all modules if ${all}) after ${since}. */
static struct jlist
jlist_get(struct store *st, int all, enum store_module mod, int64_t since,
    size_t limit)
{
	struct jlist l = { 0, 0, NULL };

	if (store_journal_list(st, all, mod, since, limit, jlist_add, &l) != 0)
		fail_msg("store_journal_list: %s", pp_errmsg());
	return (l);
}

/* Assert that ${r} is record ${lsn} of ${mod}: ${entity} ${k1} ${k2} ${op}. */
static void
expect_rec(const struct store_jrec *r, enum store_module mod, int64_t lsn,
    const char *entity, const char *k1, const char *k2, const char *op)
{

	if (r->module != mod || r->lsn != lsn || r->epoch != 1 ||
	    strcmp(r->entity, entity) != 0 || strcmp(r->k1, k1) != 0 ||
	    strcmp(r->k2, k2) != 0 || strcmp(r->op, op) != 0)
		fail_msg("record %d/%lld epoch %lld is '%s %s %s %s', expected "
		    "%d/%lld '%s %s %s %s'", (int)r->module, (long long)r->lsn,
		    (long long)r->epoch, r->entity, r->k1, r->k2, r->op,
		    (int)mod, (long long)lsn, entity, k1, k2, op);
}

/* Assert that ${l} holds LSNs ${first}.. in order with times not falling. */
static void
expect_gapless(const struct jlist *l, int64_t first)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		assert_int_equal(l->r[i].lsn, first + (int64_t)i);
		assert_int_equal(l->r[i].epoch, 1);
		if (i > 0)
			assert_true(l->r[i].ts_ms >= l->r[i - 1].ts_ms);
	}
}

/* Put the fixture's small file as ${name} of ${conf}. */
static void
content_new(struct unit_fx *f, const char *conf, const char *name)
{
	char *file = unit_path(f->tmp, "content");

	if (unit_put(f->st, conf, name, "text/plain", file, NULL) != 0)
		fail_msg("content put: %s", pp_errmsg());
	free(file);
}

static void
test_mixed_ops_in_order(void **state)
{
	struct unit_fx *f = *state;
	const char *const groups[] = { "friends", "work" };
	const enum store_module U = STORE_MOD_USERDATA,
	    C = STORE_MOD_CONFCONTENT, G = STORE_MOD_CONFIG;
	char id[PP_CONF_ID_LEN + 1];
	struct store_stats s;
	struct jlist l;
	size_t i;

	assert_int_equal(unit_head(f->st, U), 0);
	assert_int_equal(store_user_add(f->st, ALICE, "Alice"), 0);
	assert_int_equal(store_user_add(f->st, "SIP:Bob@POOL-A.example.test",
	    "Bob"), 0);
	assert_int_equal(store_setting_set(f->st, ALICE, "lang", "en"), 0);
	assert_int_equal(store_group_add(f->st, ALICE, "friends"), 0);
	assert_int_equal(store_contact_put(f->st, ALICE, BOB, "Bobby",
	    STORE_REL_FRIENDS, groups, 2, 0), 0);
	unit_conf_new(f->st, ALICE, 1800, id);
	content_new(f, id, "a.txt");
	assert_int_equal(store_config_set(f->st, "dialplan", "v1", 2, NULL), 0);
	assert_int_equal(store_config_set(f->st, "dialplan", "v2", 2, NULL), 0);
	assert_int_equal(store_setting_del(f->st, ALICE, "lang"), 0);
	assert_int_equal(store_contact_del(f->st, ALICE, BOB), 0);
	assert_int_equal(store_group_del(f->st, ALICE, "work"), 0);
	assert_int_equal(store_content_del(f->st, id, "a.txt"), 0);
	assert_int_equal(store_conf_del(f->st, id), 0);
	assert_int_equal(store_user_del(f->st, BOB), 0);

	l = jlist_get(f->st, 0, U, 0, 0);
	assert_int_equal(l.n, 12);
	expect_gapless(&l, 1);
	expect_rec(&l.r[0], U, 1, "user", ALICE, "", "put");
	expect_rec(&l.r[1], U, 2, "user", BOB, "", "put");
	expect_rec(&l.r[2], U, 3, "setting", ALICE, "lang", "put");
	expect_rec(&l.r[3], U, 4, "group", ALICE, "friends", "put");
	expect_rec(&l.r[4], U, 5, "group", ALICE, "work", "put");
	expect_rec(&l.r[5], U, 6, "contact", ALICE, BOB, "put");
	expect_rec(&l.r[6], U, 7, "conf", id, "", "put");
	expect_rec(&l.r[7], U, 8, "setting", ALICE, "lang", "del");
	expect_rec(&l.r[8], U, 9, "contact", ALICE, BOB, "del");
	expect_rec(&l.r[9], U, 10, "group", ALICE, "work", "del");
	expect_rec(&l.r[10], U, 11, "conf", id, "", "del");
	expect_rec(&l.r[11], U, 12, "user", BOB, "", "del");
	free(l.r);
	l = jlist_get(f->st, 0, C, 0, 0);
	assert_int_equal(l.n, 2);
	expect_rec(&l.r[0], C, 1, "content", id, "a.txt", "put");
	expect_rec(&l.r[1], C, 2, "content", id, "a.txt", "del");
	free(l.r);
	l = jlist_get(f->st, 0, G, 0, 0);
	assert_int_equal(l.n, 2);
	expect_rec(&l.r[0], G, 1, "config", "dialplan", "", "put");
	expect_rec(&l.r[1], G, 2, "config", "dialplan", "", "put");
	free(l.r);
	assert_int_equal(unit_head(f->st, U), 12);
	assert_int_equal(unit_head(f->st, C), 2);
	assert_int_equal(unit_head(f->st, G), 2);

	/* All modules: (module, LSN) order. */
	l = jlist_get(f->st, 1, U, 0, 0);
	assert_int_equal(l.n, 16);
	for (i = 1; i < l.n; i++)
		assert_true(l.r[i - 1].module < l.r[i].module ||
		    (l.r[i - 1].module == l.r[i].module &&
		    l.r[i - 1].lsn + 1 == l.r[i].lsn));
	free(l.r);
	assert_int_equal(store_stats(f->st, &s), 0);
	assert_int_equal(s.journal_records, 16);

	/* since and limit. */
	l = jlist_get(f->st, 0, U, 3, 2);
	assert_int_equal(l.n, 2);
	expect_rec(&l.r[0], U, 4, "group", ALICE, "friends", "put");
	expect_rec(&l.r[1], U, 5, "group", ALICE, "work", "put");
	free(l.r);
	l = jlist_get(f->st, 0, U, 12, 0);
	assert_int_equal(l.n, 0);
	free(l.r);
}

static void
test_refused_appends_nothing(void **state)
{
	struct unit_fx *f = *state;
	char id[PP_CONF_ID_LEN + 1];
	const char *const self[] = { "g" };
	struct store_conf c;
	struct unit_snap h;
	char *file;

	assert_int_equal(store_user_add(f->st, ALICE, "Alice"), 0);
	assert_int_equal(store_group_add(f->st, ALICE, "friends"), 0);
	unit_conf_new(f->st, ALICE, 1800, id);
	unit_snap(f->st, &h);
	assert_int_equal(h.head[STORE_MOD_USERDATA], 3);

	unit_refused(f->st, store_user_add(f->st, ALICE, "Again"),
	    PP_EEXIST, &h, "duplicate user");
	unit_refused(f->st, store_user_add(f->st,
	    "sip:ALICE@pool-a.example.test.", "Again"), PP_EEXIST, &h,
	    "duplicate user, other spelling");
	unit_refused(f->st, store_user_add(f->st, "tel:+1555", "X"),
	    PP_EINVAL, &h, "bad uri");
	unit_refused(f->st, store_setting_set(f->st, BOB, "k", "v"),
	    PP_ENOENT, &h, "setting of unknown user");
	unit_refused(f->st, store_setting_del(f->st, ALICE, "unset"),
	    PP_ENOENT, &h, "unset setting");
	unit_refused(f->st, store_group_add(f->st, BOB, "g"), PP_ENOENT, &h,
	    "group of unknown user");
	unit_refused(f->st, store_group_add(f->st, ALICE, "friends"),
	    PP_EEXIST, &h, "duplicate group");
	unit_refused(f->st, store_contact_put(f->st, ALICE, ALICE, NULL,
	    STORE_REL_FRIENDS, self, 1, 0), PP_EINVAL, &h, "self contact");
	unit_refused(f->st, store_contact_del(f->st, ALICE, BOB),
	    PP_ENOENT, &h, "unknown contact");
	unit_refused(f->st, store_user_del(f->st, BOB), PP_ENOENT, &h,
	    "unknown user del");
	memset(&c, 0, sizeof(c));
	snprintf(c.organizer, sizeof(c.organizer), "%s", BOB);
	c.start = 1795428000;
	c.end = c.start + 60;
	unit_refused(f->st, store_conf_create(f->st, &c), PP_ENOENT, &h,
	    "conf of unknown organizer");
	unit_refused(f->st, store_conf_del(f->st,
	    "0123456789abcdef0123456789abcdef"), PP_ENOENT, &h,
	    "unknown conf");
	file = unit_path(f->tmp, "content");
	unit_refused(f->st, unit_put(f->st, "0123456789abcdef0123456789abcdef",
	    "x", "text/plain", file, NULL), PP_ENOENT, &h,
	    "content of unknown conf");
	free(file);
	unit_refused(f->st, store_content_del(f->st, id, "none"), PP_ENOENT,
	    &h, "unknown content");
	unit_refused(f->st, store_config_set(f->st, "bad name", "x", 1,
	    NULL), PP_EINVAL, &h, "bad config name");
}

static void
test_batch_commit(void **state)
{
	struct unit_fx *f = *state;
	struct store *other;
	struct store_user u;
	struct jlist l;

	other = store_open(f->dir);
	assert_non_null(other);
	assert_int_equal(store_begin(f->st), 0);
	pp_err_clear();
	assert_int_equal(store_begin(f->st), -1);
	assert_int_equal(store_user_add(f->st, ALICE, "Alice"), 0);
	assert_int_equal(store_user_add(f->st, BOB, "Bob"), 0);
	assert_int_equal(store_setting_set(f->st, BOB, "tz", "UTC"), 0);
	assert_int_equal(store_group_add(f->st, ALICE, "team"), 0);
	/* Another handle sees nothing until the commit. */
	assert_int_equal(unit_head(other, STORE_MOD_USERDATA), 0);
	pp_err_clear();
	assert_int_equal(store_user_get(other, ALICE, &u), -1);
	assert_int_equal(pp_errcode(), PP_ENOENT);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(unit_head(other, STORE_MOD_USERDATA), 4);
	assert_int_equal(store_user_get(other, ALICE, &u), 0);
	l = jlist_get(other, 0, STORE_MOD_USERDATA, 0, 0);
	assert_int_equal(l.n, 4);
	expect_gapless(&l, 1);
	expect_rec(&l.r[2], STORE_MOD_USERDATA, 3, "setting", BOB, "tz",
	    "put");
	free(l.r);
	assert_int_equal(store_commit(f->st), -1);
	store_close(other);
}

static void
test_batch_rollback(void **state)
{
	struct unit_fx *f = *state;
	struct store_user u;
	struct jlist l;

	assert_int_equal(store_user_add(f->st, ALICE, "Alice"), 0);
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_user_add(f->st, BOB, "Bob"), 0);
	assert_int_equal(store_user_add(f->st, "sip:carol@" POOL, "Carol"), 0);
	assert_int_equal(unit_head(f->st, STORE_MOD_USERDATA), 3);
	store_rollback(f->st);
	assert_int_equal(unit_head(f->st, STORE_MOD_USERDATA), 1);
	assert_int_equal(store_user_get(f->st, BOB, &u), -1);
	assert_int_equal(store_user_add(f->st, "sip:dave@" POOL, "Dave"), 0);

	/* A refused write inside a batch leaves the batch usable. */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_user_add(f->st, "sip:erin@" POOL, "Erin"), 0);
	pp_err_clear();
	assert_int_equal(store_user_add(f->st, "sip:erin@" POOL, "Erin"), -1);
	assert_int_equal(pp_errcode(), PP_EEXIST);
	assert_int_equal(store_setting_set(f->st, BOB, "k", "v"), -1);
	assert_int_equal(store_user_add(f->st, "sip:frank@" POOL, "F"), 0);
	assert_int_equal(store_commit(f->st), 0);

	l = jlist_get(f->st, 0, STORE_MOD_USERDATA, 0, 0);
	assert_int_equal(l.n, 4);
	expect_gapless(&l, 1);
	expect_rec(&l.r[0], STORE_MOD_USERDATA, 1, "user", ALICE, "", "put");
	expect_rec(&l.r[1], STORE_MOD_USERDATA, 2, "user", "sip:dave@" POOL,
	    "", "put");
	expect_rec(&l.r[2], STORE_MOD_USERDATA, 3, "user", "sip:erin@" POOL,
	    "", "put");
	expect_rec(&l.r[3], STORE_MOD_USERDATA, 4, "user", "sip:frank@" POOL,
	    "", "put");
	free(l.r);
	assert_int_equal(unit_head(f->st, STORE_MOD_USERDATA), 4);

	/* Closing with a batch open rolls it back. */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_user_add(f->st, "sip:gina@" POOL, "G"), 0);
	store_close(f->st);
	f->st = store_open(f->dir);
	assert_non_null(f->st);
	assert_int_equal(unit_head(f->st, STORE_MOD_USERDATA), 4);
	assert_int_equal(store_user_get(f->st, "sip:gina@" POOL, &u), -1);
}

/*
 * Records of a batch are inserted many rows at a time: a batch of more than
 * one block's worth reads back whole and in order inside the batch, is gone
 * after a rollback, and commits gapless.
 */
static void
test_batch_many_records(void **state)
{
	struct unit_fx *f = *state;
	struct jlist l;
	char key[32];
	int64_t epoch, lsn;
	int round, i;

	assert_int_equal(store_user_add(f->st, ALICE, "Alice"), 0);
	for (round = 0; round < 2; round++) {
		assert_int_equal(store_begin(f->st), 0);
		for (i = 0; i < 150; i++) {
			snprintf(key, sizeof(key), "k%03d", i);
			assert_int_equal(store_setting_set(f->st, ALICE, key,
			    "v"), 0);
		}
		l = jlist_get(f->st, 0, STORE_MOD_USERDATA, 0, 0);
		assert_int_equal(l.n, 151);
		for (i = 0; i < 151; i++)
			assert_int_equal(l.r[i].lsn, i + 1);
		expect_rec(&l.r[150], STORE_MOD_USERDATA, 151, "setting",
		    ALICE, "k149", "put");
		free(l.r);
		if (round == 0)
			store_rollback(f->st);
		else
			assert_int_equal(store_commit(f->st), 0);
		assert_int_equal(store_journal_head(f->st, STORE_MOD_USERDATA,
		    &epoch, &lsn), 0);
		assert_int_equal(lsn, round == 0 ? 1 : 151);
	}
	l = jlist_get(f->st, 0, STORE_MOD_USERDATA, 100, 0);
	assert_int_equal(l.n, 51);
	assert_int_equal(l.r[0].lsn, 101);
	free(l.r);
}

/*
 * Pruning in batches (as poolpaird does after an ACK): each batch drops
 * at most max LSNs, the oldest; more says whether some are left; the floor
 * follows; what is left stays gapless and listable.
 */
static void
test_prune_batches(void **state)
{
	struct unit_fx *f = *state;
	struct jlist l;
	int64_t floor;
	char key[32];
	int i, more, rounds = 0;

	assert_int_equal(store_user_add(f->st, ALICE, "Alice"), 0);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		assert_int_equal(store_setting_set(f->st, ALICE, key, "v"), 0);
	}
	do {
		assert_int_equal(store_journal_prune_some(f->st,
		    STORE_MOD_USERDATA, 15, 4, &more), 0);
		rounds++;
		assert_int_equal(store_journal_floor(f->st, STORE_MOD_USERDATA,
		    &floor), 0);
		assert_int_equal(floor, rounds * 4 < 15 ? rounds * 4 : 15);
	} while (more);
	assert_int_equal(rounds, 4);
	l = jlist_get(f->st, 0, STORE_MOD_USERDATA, 15, 0);
	assert_int_equal(l.n, 6);
	expect_gapless(&l, 16);
	free(l.r);
	/* Nothing left up to 15: a no-op; a batch of no LSN is refused. */
	assert_int_equal(store_journal_prune_some(f->st, STORE_MOD_USERDATA,
	    15, 4, &more), 0);
	assert_int_equal(more, 0);
	assert_int_equal(store_journal_prune_some(f->st, STORE_MOD_USERDATA,
	    21, 0, &more), -1);
	assert_int_equal(store_journal_floor(f->st, STORE_MOD_USERDATA,
	    &floor), 0);
	assert_int_equal(floor, 15);
}

static void
test_user_del_cascade(void **state)
{
	struct unit_fx *f = *state;
	char x[PP_CONF_ID_LEN + 1], y[PP_CONF_ID_LEN + 1];
	char z[PP_CONF_ID_LEN + 1];
	struct store_conf c;
	struct store_stats s;
	struct jlist l;
	int64_t u0, c0;

	assert_int_equal(store_user_add(f->st, ALICE, "Alice"), 0);
	assert_int_equal(store_user_add(f->st, BOB, "Bob"), 0);
	assert_int_equal(store_setting_set(f->st, ALICE, "lang", "de"), 0);
	assert_int_equal(store_contact_put(f->st, ALICE, BOB, NULL,
	    STORE_REL_COLLEAGUE, NULL, 0, 0), 0);
	unit_conf_new(f->st, ALICE, 1800, x);
	unit_conf_new(f->st, ALICE, 1800, y);
	unit_conf_new(f->st, BOB, 1800, z);
	content_new(f, x, "one.txt");
	content_new(f, x, "two.txt");
	content_new(f, z, "bob.txt");
	u0 = unit_head(f->st, STORE_MOD_USERDATA);
	c0 = unit_head(f->st, STORE_MOD_CONFCONTENT);

	assert_int_equal(store_user_del(f->st, ALICE), 0);
	l = jlist_get(f->st, 0, STORE_MOD_USERDATA, u0, 0);
	assert_int_equal(l.n, 3);
	expect_gapless(&l, u0 + 1);
	/* Her two conferences (in either order), then the user. */
	assert_string_equal(l.r[0].entity, "conf");
	assert_string_equal(l.r[1].entity, "conf");
	assert_true((strcmp(l.r[0].k1, x) == 0 && strcmp(l.r[1].k1, y) == 0) ||
	    (strcmp(l.r[0].k1, y) == 0 && strcmp(l.r[1].k1, x) == 0));
	assert_string_equal(l.r[0].op, "del");
	assert_string_equal(l.r[1].op, "del");
	expect_rec(&l.r[2], STORE_MOD_USERDATA, u0 + 3, "user", ALICE, "",
	    "del");
	free(l.r);
	l = jlist_get(f->st, 0, STORE_MOD_CONFCONTENT, c0, 0);
	assert_int_equal(l.n, 2);
	expect_gapless(&l, c0 + 1);
	assert_string_equal(l.r[0].k1, x);
	assert_string_equal(l.r[1].k1, x);
	assert_true((strcmp(l.r[0].k2, "one.txt") == 0 &&
	    strcmp(l.r[1].k2, "two.txt") == 0) ||
	    (strcmp(l.r[0].k2, "two.txt") == 0 &&
	    strcmp(l.r[1].k2, "one.txt") == 0));
	assert_string_equal(l.r[0].op, "del");
	assert_string_equal(l.r[1].op, "del");
	free(l.r);

	/* Bob and his conference and content are untouched. */
	assert_int_equal(store_conf_get(f->st, z, &c), 0);
	pp_err_clear();
	assert_int_equal(store_conf_get(f->st, x, &c), -1);
	assert_int_equal(pp_errcode(), PP_ENOENT);
	assert_int_equal(store_stats(f->st, &s), 0);
	assert_int_equal(s.users, 1);
	assert_int_equal(s.contacts, 0);
	assert_int_equal(s.conferences, 1);
	assert_int_equal(s.content_items, 1);
	assert_int_equal(s.chunks, 1);
}

/* Child ${k}: add PERCHILD users, one transaction each.  Exit status 0/1. */
static void
child_main(const char *dir, int k, int go)
{
	char uri[64], b;
	struct store *st;
	int i;

	if ((st = store_open(dir)) == NULL)
		_exit(10);
	/* Start together: wait until the parent closes the pipe. */
	if (read(go, &b, 1) != 0)
		_exit(11);
	for (i = 0; i < PERCHILD; i++) {
		snprintf(uri, sizeof(uri), "sip:c%du%03d@" POOL, k, i);
		if (store_user_add(st, uri, "Concurrent") != 0) {
			fprintf(stderr, "child %d: %s\n", k, pp_errmsg());
			store_close(st);
			_exit(1);
		}
		/* A pause between commits lets the writers take turns. */
		usleep(300);
	}
	store_close(st);
	_exit(0);
}

static void
test_concurrent_writers(void **state)
{
	struct unit_fx *f = *state;
	pid_t pid[NCHILD];
	struct store_stats s;
	struct jlist l;
	int k, status, last[NCHILD], who, i, go[2], prev = -1;
	int switches = 0;
	size_t n;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(pipe(go), 0);
	for (k = 0; k < NCHILD; k++) {
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0) {
			close(go[1]);
			child_main(f->dir, k, go[0]);
		}
	}
	close(go[0]);
	close(go[1]);
	for (k = 0; k < NCHILD; k++) {
		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	f->st = store_open(f->dir);
	assert_non_null(f->st);
	l = jlist_get(f->st, 0, STORE_MOD_USERDATA, 0, 0);
	assert_int_equal(l.n, NCHILD * PERCHILD);
	expect_gapless(&l, 1);
	assert_int_equal(unit_head(f->st, STORE_MOD_USERDATA),
	    NCHILD * PERCHILD);
	/* Each child's adds appear once each, in the order it made them. */
	for (k = 0; k < NCHILD; k++)
		last[k] = -1;
	for (n = 0; n < l.n; n++) {
		assert_string_equal(l.r[n].entity, "user");
		assert_string_equal(l.r[n].op, "put");
		assert_int_equal(sscanf(l.r[n].k1, "sip:c%du%d@", &who, &i), 2);
		assert_true(who >= 0 && who < NCHILD);
		assert_int_equal(i, last[who] + 1);
		last[who] = i;
		switches += n > 0 && who != prev;
		prev = who;
	}
	print_message("writers took turns %d times\n", switches);
	for (k = 0; k < NCHILD; k++)
		assert_int_equal(last[k], PERCHILD - 1);
	free(l.r);
	assert_int_equal(store_stats(f->st, &s), 0);
	assert_int_equal(s.users, NCHILD * PERCHILD);
	assert_int_equal(s.journal_records, NCHILD * PERCHILD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mixed_ops_in_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused_appends_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_batch_rollback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_batch_many_records, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_prune_batches, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_user_del_cascade, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
