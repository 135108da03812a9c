/* test_store.c: store refusals change nothing; bounds; config; conferences. */
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
#define NOCONF	"0123456789abcdef0123456789abcdef"

/* In a test with fixture f and snapshot s: refused, store unchanged. */
#define REFUSED(call, code, what) \
	unit_refused(f->st, (call), (code), &s, (what))

static void
conf_fill(struct store_conf *c, const char *org, int64_t start, int64_t end)
{

	memset(c, 0, sizeof(*c));
	snprintf(c->organizer, sizeof(c->organizer), "%s", org);
	c->start = start;
	c->end = end;
	c->access = STORE_ACCESS_INVITED;
}

static int
setup(void **state)
{
	struct unit_fx *f = unit_fx_new(1);
	char *empty = unit_path(f->tmp, "empty");

	unit_write_file(empty, "", 0);
	free(empty);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{

	unit_fx_free(*state);
	return (0);
}

/* A string of ${n} copies of ${c}; the caller frees it. */
static char *
str_of(size_t n, char c)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return (s);
}

/* Put an empty file as ${name} (MIME ${mime}) of ${conf}. */
static int
put(struct unit_fx *f, const char *conf, const char *name, const char *mime)
{
	char *empty = unit_path(f->tmp, "empty");
	int rc = unit_put(f->st, conf, name, mime, empty, NULL);

	free(empty);
	return (rc);
}

/* A contact list callback keeping the one contact expected. */
static int
contact_one(void *arg, const struct store_contact *c)
{

	memcpy(arg, c, sizeof(*c));
	return (0);
}

static void
test_duplicates_refused(void **state)
{
	struct unit_fx *f = *state;
	const char *const g[] = { "friends" };
	struct store_contact c;
	struct store_user u;
	struct unit_snap s;

	assert_int_equal(store_group_add(f->st, ALICE, "friends"), 0);
	assert_int_equal(store_contact_put(f->st, ALICE, BOB, "Bob",
	    STORE_REL_COLLEAGUE, g, 1, 0), 0);
	unit_snap(f->st, &s);
	REFUSED(store_user_add(f->st, ALICE, "A"), PP_EEXIST, "same user");
	/* sips: is another address, but only once. */
	assert_int_equal(store_user_add(f->st, "SIPS:alice@" POOL, "A"), 0);
	unit_snap(f->st, &s);
	REFUSED(store_user_add(f->st, "sips:ALICE@" POOL ".", "A"), PP_EEXIST,
	    "sips user, other spelling");
	REFUSED(store_user_add(f->st, "sip:%41lice@" POOL, "A"), PP_EEXIST,
	    "same user, escaped");
	REFUSED(store_group_add(f->st, ALICE, "friends"), PP_EEXIST,
	    "same group");
	REFUSED(store_contact_put(f->st, ALICE, "SIP:BOB@" POOL, NULL,
	    STORE_REL_BLOCKED, NULL, 0, 0), PP_EEXIST, "same contact");
	/* What was there is as it was. */
	assert_int_equal(store_user_get(f->st, "sip:ALICE@" POOL, &u), 0);
	assert_string_equal(u.uri, ALICE);
	assert_string_equal(u.name, "Alice");
	assert_int_equal(u.primary, 1);
	assert_int_equal(store_contact_list(f->st, ALICE, contact_one, &c), 0);
	assert_string_equal(c.uri, BOB);
	assert_string_equal(c.name, "Bob");
	assert_int_equal(c.rel, STORE_REL_COLLEAGUE);
	assert_int_equal(c.ngroups, 1);
}

static void
test_unknown_refused(void **state)
{
	struct unit_fx *f = *state;
	const char *carol = "sip:carol@" POOL;
	struct store_setting set;
	struct store_content ct;
	struct store_conf c;
	struct store_config cfg;
	struct unit_snap s;

	unit_snap(f->st, &s);
	REFUSED(store_user_del(f->st, carol), PP_ENOENT, "user del");
	REFUSED(store_setting_set(f->st, carol, "k", "v"), PP_ENOENT,
	    "setting of unknown user");
	REFUSED(store_setting_get(f->st, ALICE, "k", &set), PP_ENOENT,
	    "unset setting get");
	REFUSED(store_setting_del(f->st, ALICE, "k"), PP_ENOENT,
	    "unset setting del");
	REFUSED(store_group_add(f->st, carol, "g"), PP_ENOENT,
	    "group of unknown user");
	REFUSED(store_group_del(f->st, ALICE, "g"), PP_ENOENT,
	    "unknown group del");
	REFUSED(store_contact_put(f->st, carol, ALICE, NULL, STORE_REL_FRIENDS,
	    NULL, 0, 0), PP_ENOENT, "contact of unknown owner");
	REFUSED(store_contact_del(f->st, ALICE, carol), PP_ENOENT,
	    "unknown contact del");
	conf_fill(&c, carol, UNIT_START, UNIT_START + 60);
	REFUSED(store_conf_create(f->st, &c), PP_ENOENT,
	    "conf of unknown organizer");
	REFUSED(store_conf_get(f->st, NOCONF, &c), PP_ENOENT,
	    "unknown conf get");
	REFUSED(store_conf_del(f->st, NOCONF), PP_ENOENT, "unknown conf del");
	REFUSED(put(f, NOCONF, "a.txt", "text/plain"), PP_ENOENT,
	    "content of unknown conf");
	REFUSED(store_content_info(f->st, f->conf, "a.txt", &ct), PP_ENOENT,
	    "unknown content info");
	REFUSED(store_content_del(f->st, f->conf, "a.txt"), PP_ENOENT,
	    "unknown content del");
	REFUSED(store_config_get(f->st, "dialplan", &cfg, NULL), PP_ENOENT,
	    "unknown config doc");
	/* A malformed conference id is bad input, not an unknown one. */
	REFUSED(store_conf_del(f->st, "0123456789ABCDEF0123456789" "ABCDEF"),
	    PP_EINVAL, "uppercase conf id");
	REFUSED(store_conf_get(f->st, "abc", &c), PP_EINVAL, "short conf id");
	REFUSED(store_conf_get(f->st, NOCONF "0", &c), PP_EINVAL,
	    "long conf id");
}

/*
 * ${accept} (a call with a value at its bound) must succeed and move the
 * journal; ${refuse} (one byte over) must be refused with ${code}.
 */
#define BOUND(f, accept, refuse, code, what) do {			\
	struct unit_snap s_;						\
	unit_snap((f)->st, &s_);					\
	unit_refused((f)->st, (refuse), (code), &s_, what);		\
	if ((accept) != 0)						\
		fail_msg("%s at the bound: %s", what, pp_errmsg());	\
} while (0)

static void
test_overlong_refused(void **state)
{
	struct unit_fx *f = *state;
	char *x = str_of(PP_SETTING_VALUE_MAX + 1, 'x'), m[140];
	uint8_t *doc = calloc(1, PP_CONFIG_DOC_MAX + 1);
	char uri[2][PP_URI_MAX + 2];
	struct store_conf c;
	struct unit_snap s;

/* The last ${n} bytes of x: a string of ${n} 'x's. */
#define LEN(n)	(x + PP_SETTING_VALUE_MAX + 1 - (n))
	assert_non_null(doc);
	BOUND(f, store_user_add(f->st, "sip:carol@" POOL, LEN(256)),
	    store_user_add(f->st, "sip:carol@" POOL, LEN(257)), PP_EINVAL,
	    "display name");
	BOUND(f, store_setting_set(f->st, ALICE, LEN(128), "v"),
	    store_setting_set(f->st, ALICE, LEN(129), "v"), PP_EINVAL,
	    "setting key");
	BOUND(f, store_setting_set(f->st, ALICE, "sig", LEN(4096)),
	    store_setting_set(f->st, ALICE, "sig", LEN(4097)), PP_EINVAL,
	    "setting value");
	BOUND(f, store_group_add(f->st, ALICE, LEN(128)),
	    store_group_add(f->st, ALICE, LEN(129)), PP_EINVAL, "group name");
	BOUND(f, store_contact_put(f->st, ALICE, BOB, LEN(256),
	    STORE_REL_FRIENDS, NULL, 0, 0), store_contact_put(f->st, ALICE,
	    BOB, LEN(257), STORE_REL_FRIENDS, NULL, 0, 0), PP_EINVAL,
	    "contact name");
	BOUND(f, put(f, f->conf, LEN(255), "text/plain"),
	    put(f, f->conf, LEN(256), "text/plain"), PP_EINVAL, "content name");
	memset(m, 'm', sizeof(m));
	m[4] = '/';
	BOUND(f, (m[127] = '\0', put(f, f->conf, "m.bin", m)),
	    (m[127] = 'm', m[128] = '\0', put(f, f->conf, "m2.bin", m)),
	    PP_EINVAL, "MIME type");
	BOUND(f, store_config_set(f->st, LEN(64), "x", 1, NULL),
	    store_config_set(f->st, LEN(65), "x", 1, NULL), PP_EINVAL,
	    "config name");
	BOUND(f, store_config_set(f->st, "big", doc, PP_CONFIG_DOC_MAX, NULL),
	    store_config_set(f->st, "big", doc, PP_CONFIG_DOC_MAX + 1, NULL),
	    PP_ELIMIT, "config document");
	/* "sip:" + 232 + "@" + 19 = 256 bytes; one more user byte is 257. */
	snprintf(uri[0], sizeof(uri[0]), "sip:%s@%s", LEN(232), POOL);
	snprintf(uri[1], sizeof(uri[1]), "sip:%s@%s", LEN(233), POOL);
	assert_int_equal(strlen(uri[0]), PP_URI_MAX);
	BOUND(f, store_user_add(f->st, uri[0], "Long"),
	    store_user_add(f->st, uri[1], "Long"), PP_EINVAL, "URI");
#undef LEN

	/* The subject field is PP_SUBJECT_MAX + 1 bytes: fill it unended. */
	conf_fill(&c, ALICE, UNIT_START, UNIT_START + 60);
	memset(c.subject, 's', sizeof(c.subject));
	unit_snap(f->st, &s);
	REFUSED(store_conf_create(f->st, &c), PP_EINVAL, "subject");
	c.subject[PP_SUBJECT_MAX] = '\0';
	assert_int_equal(store_conf_create(f->st, &c), 0);
	free(doc);
	free(x);
}

static void
test_bad_text_refused(void **state)
{
	struct unit_fx *f = *state;
	const char *const twice[] = { "g", "g" };
	struct store_conf c;
	struct unit_snap s;

	unit_snap(f->st, &s);
	REFUSED(store_user_add(f->st, "sip:carol@" POOL, ""), PP_EINVAL,
	    "empty display name");
	REFUSED(store_user_add(f->st, "sip:carol@" POOL, "a\nb"), PP_EINVAL,
	    "newline in display name");
	REFUSED(store_user_add(f->st, "sip:carol@" POOL, "\xc3\x28"), PP_EINVAL,
	    "bad UTF-8 display name");
	REFUSED(store_user_add(f->st, "sip:carol@10.0.0.1", "C"), PP_EINVAL,
	    "IP host");
	REFUSED(store_setting_set(f->st, ALICE, "a key", "v"), PP_EINVAL,
	    "setting key with a space");
	REFUSED(store_group_add(f->st, ALICE, "g\x01"), PP_EINVAL,
	    "control char in group");
	REFUSED(store_contact_put(f->st, ALICE, "tel:+1555", NULL,
	    STORE_REL_FRIENDS, NULL, 0, 0), PP_EINVAL, "tel contact");
	REFUSED(store_contact_put(f->st, ALICE, BOB, NULL, STORE_REL_FRIENDS,
	    twice, 2, 0), PP_EINVAL, "group twice");
	REFUSED(store_contact_put(f->st, ALICE, BOB, NULL, (enum store_rel)9,
	    NULL, 0, 0), PP_EINVAL, "relationship");
	REFUSED(put(f, f->conf, "x", "text"), PP_EINVAL,
	    "MIME type without subtype");
	REFUSED(put(f, f->conf, "x", "text/"), PP_EINVAL,
	    "MIME type with empty subtype");
	REFUSED(put(f, f->conf, "x", "a/b/c"), PP_EINVAL,
	    "MIME type with two slashes");
	conf_fill(&c, ALICE, UNIT_START, UNIT_START + 60);
	c.access = (enum store_access)7;
	REFUSED(store_conf_create(f->st, &c), PP_EINVAL, "access");
}

static void
test_setting_limit(void **state)
{
	struct unit_fx *f = *state;
	struct store_setting set;
	struct unit_snap s;
	char key[16];
	int i;

	assert_int_equal(store_begin(f->st), 0);
	for (i = 0; i < PP_SETTINGS_PER_USER; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		assert_int_equal(store_setting_set(f->st, ALICE, key, "v"), 0);
	}
	assert_int_equal(store_commit(f->st), 0);
	unit_snap(f->st, &s);
	REFUSED(store_setting_set(f->st, ALICE, "one-more", "v"), PP_ELIMIT,
	    "setting 257");
	/* At the limit an existing key may still change ... */
	assert_int_equal(store_setting_set(f->st, ALICE, "k007", "new"), 0);
	assert_int_equal(store_setting_get(f->st, ALICE, "k007", &set), 0);
	assert_string_equal(set.value, "new");
	/* ... another user is not affected, and a freed slot is reusable. */
	assert_int_equal(store_setting_set(f->st, BOB, "one-more", "v"), 0);
	assert_int_equal(store_setting_del(f->st, ALICE, "k000"), 0);
	assert_int_equal(store_setting_set(f->st, ALICE, "one-more", "v"), 0);
}

static void
test_content_limit(void **state)
{
	struct unit_fx *f = *state;
	struct unit_snap s;
	char name[16];
	int i;

	assert_int_equal(store_begin(f->st), 0);
	for (i = 0; i < PP_CONTENT_PER_CONF; i++) {
		snprintf(name, sizeof(name), "item%04d", i);
		assert_int_equal(put(f, f->conf, name, "text/plain"), 0);
	}
	assert_int_equal(store_commit(f->st), 0);
	unit_snap(f->st, &s);
	REFUSED(put(f, f->conf, "one-more", "text/plain"), PP_ELIMIT,
	    "content item 1001");
	/* Replacing an item is still allowed at the limit. */
	assert_int_equal(put(f, f->conf, "item0001", "text/html"), 0);
}

static void
test_config_master_elsewhere(void **state)
{
	struct unit_fx *f = *state;
	char *dir = unit_path(f->tmp, "replica");
	char master[PP_FQDN_MAX + 1];
	struct store_config c;
	struct unit_snap s;
	struct store *st;

	assert_int_equal(store_config_master(f->st, master), 0);
	assert_string_equal(master, POOL);
	assert_int_equal(store_create(dir, POOL, "pool-b.example.test"), 0);
	st = store_open(dir);
	assert_non_null(st);
	assert_string_equal(store_pool(st), POOL);
	assert_int_equal(store_config_master(st, master), 0);
	assert_string_equal(master, "pool-b.example.test");
	unit_snap(st, &s);
	unit_refused(st, store_config_set(st, "dialplan", "x", 1, &c),
	    PP_EROFS, &s, "config set off the master");
	assert_int_equal(store_config_get(st, "dialplan", &c, NULL), -1);
	assert_int_equal(pp_errcode(), PP_ENOENT);
	/* Users are still writable there: only configuration is not. */
	assert_int_equal(store_user_add(st, ALICE, "Alice"), 0);
	store_close(st);
	/* A second store in the same directory is refused. */
	pp_err_clear();
	assert_int_equal(store_create(dir, POOL, NULL), -1);
	assert_int_equal(pp_errcode(), PP_EEXIST);
	assert_int_equal(store_create(f->tmp, "not_a_fqdn", NULL), -1);
	assert_int_equal(pp_errcode(), PP_EINVAL);
	free(dir);
}

static void
test_config_versions(void **state)
{
	struct unit_fx *f = *state;
	static const char *const bodies[] = { "a", "bb", "" };
	struct store_config c;
	uint8_t *body;
	int i;

	for (i = 0; i < 3; i++) {
		memset(&c, 0, sizeof(c));
		assert_int_equal(store_config_set(f->st, "dialplan", bodies[i],
		    strlen(bodies[i]), &c), 0);
		assert_int_equal(c.version, i + 1);
		assert_int_equal(c.size, strlen(bodies[i]));
		assert_int_equal(store_config_get(f->st, "dialplan", &c,
		    &body), 0);
		assert_int_equal(c.version, i + 1);
		assert_int_equal(c.size, strlen(bodies[i]));
		assert_memory_equal(body, bodies[i], c.size);
		free(body);
	}
	assert_int_equal(store_config_set(f->st, "policy", "p", 1, &c), 0);
	assert_int_equal(c.version, 1);
	assert_int_equal(store_config_get(f->st, "dialplan", &c, NULL), 0);
	assert_int_equal(c.version, 3);
	assert_int_equal(unit_head(f->st, STORE_MOD_CONFIG), 4);
}

static void
test_conf_times(void **state)
{
	struct unit_fx *f = *state;
	struct store_conf c, got;
	struct unit_snap s;
	const int64_t t = UNIT_START;

	unit_snap(f->st, &s);
	conf_fill(&c, ALICE, t, t);
	REFUSED(store_conf_create(f->st, &c), PP_EINVAL, "end == start");
	conf_fill(&c, ALICE, t, t - 1);
	REFUSED(store_conf_create(f->st, &c), PP_EINVAL, "end < start");
	conf_fill(&c, ALICE, t, t + 367LL * 86400);
	REFUSED(store_conf_create(f->st, &c), PP_EINVAL, "longer than a year");

	conf_fill(&c, "SIP:ALICE@POOL-A.EXAMPLE.TEST", t, t + 1);
	snprintf(c.subject, sizeof(c.subject), "Planning \xe2\x80\x94 Q3");
	assert_int_equal(store_conf_create(f->st, &c), 0);
	assert_int_equal(strlen(c.id), PP_CONF_ID_LEN);
	assert_int_equal(strspn(c.id, "0123456789abcdef"), PP_CONF_ID_LEN);
	assert_string_not_equal(c.id, f->conf);
	assert_int_equal(store_conf_get(f->st, c.id, &got), 0);
	assert_string_equal(got.organizer, ALICE);
	assert_string_equal(got.subject, "Planning \xe2\x80\x94 Q3");
	assert_int_equal(got.start, t);
	assert_int_equal(got.end, t + 1);
	assert_int_equal(got.access, STORE_ACCESS_INVITED);
	assert_string_equal(got.home, POOL);
	assert_int_equal(got.primary, 1);
}

/*
 * A conference from the first to the last representable second spans far
 * more than a year.  Tried in a child (with its own handle) so that a
 * sanitizer stopping on signed overflow fails this test alone.
 */
static void
test_conf_extreme_times(void **state)
{
	struct unit_fx *f = *state;
	struct unit_snap s, after;
	struct store_conf c;
	struct store *st;
	int status, rc;
	pid_t pid;

	unit_snap(f->st, &s);
	if ((pid = fork()) == 0) {
		if ((st = store_open(f->dir)) == NULL)
			_exit(10);
		conf_fill(&c, ALICE, INT64_MIN, INT64_MAX);
		rc = store_conf_create(st, &c);
		store_close(st);
		_exit(rc == 0 ? 11 : pp_errcode() == PP_EINVAL ? 0 : 12);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("conference of INT64_MIN..INT64_MAX: %s",
		    !WIFEXITED(status) ? "child killed by a signal" :
		    WEXITSTATUS(status) == 11 ? "accepted" :
		    WEXITSTATUS(status) == 12 ? "refused, not as PP_EINVAL" :
		    "child stopped (a sanitizer report above?)");
	unit_snap(f->st, &after);
	assert_memory_equal(&after, &s, sizeof(s));
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_duplicates_refused),
		T(test_unknown_refused),
		T(test_overlong_refused),
		T(test_bad_text_refused),
		T(test_setting_limit),
		T(test_content_limit),
		T(test_config_master_elsewhere),
		T(test_config_versions),
		T(test_conf_times),
		T(test_conf_extreme_times),
	};
#undef T

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
