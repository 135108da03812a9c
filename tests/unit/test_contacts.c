/* test_contacts.c: contact groups and contacts: limits, replace, delete. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "err.h"
#include "store.h"
#include "unit.h"
#include "unit_store.h"

#define POOL	UNIT_POOL
#define ALICE	UNIT_ALICE
#define BOB	UNIT_BOB

/* In a test with fixture f and snapshot s: refused, store unchanged. */
#define REFUSED(call, code, what) \
	unit_refused(f->st, (call), (code), &s, (what))

/* The contacts or groups a list call passed to its callback. */
struct clist {
	size_t n;
	struct store_contact c[4];
};
struct glist {
	size_t n;
	struct store_group g[PP_GROUPS_PER_USER];
};


static int
clist_add(void *arg, const struct store_contact *c)
{
	struct clist *l = arg;

	assert_true(l->n < 4);
	l->c[l->n++] = *c;
	return (0);
}

static int
glist_add(void *arg, const struct store_group *g)
{
	struct glist *l = arg;

	assert_true(l->n < PP_GROUPS_PER_USER);
	l->g[l->n++] = *g;
	return (0);
}

static void
test_contact_limit(void **state)
{
	struct unit_fx *f = *state;
	struct unit_snap s;
	char uri[64];
	int i;

	assert_int_equal(store_begin(f->st), 0);
	for (i = 0; i < PP_CONTACTS_PER_USER; i++) {
		snprintf(uri, sizeof(uri), "sip:c%04d@other.example", i);
		assert_int_equal(store_contact_put(f->st, ALICE, uri, NULL,
		    STORE_REL_EXTERNAL, NULL, 0, 0), 0);
	}
	/* Refused inside the batch too, which stays whole. */
	assert_int_equal(store_contact_put(f->st, ALICE, BOB, NULL,
	    STORE_REL_FRIENDS, NULL, 0, 0), -1);
	assert_int_equal(pp_errcode(), PP_ELIMIT);
	assert_int_equal(store_commit(f->st), 0);
	unit_snap(f->st, &s);
	REFUSED(store_contact_put(f->st, ALICE, BOB, NULL, STORE_REL_FRIENDS,
	    NULL, 0, 0), PP_ELIMIT, "contact 1001");
	/* Replacing a contact is still allowed at the limit. */
	assert_int_equal(store_contact_put(f->st, ALICE, "sip:c0001@other."
	    "example", "Renamed", STORE_REL_FRIENDS, NULL, 0, 1), 0);
	/* Bob's contacts are his own. */
	assert_int_equal(store_contact_put(f->st, BOB, ALICE, NULL,
	    STORE_REL_FRIENDS, NULL, 0, 0), 0);
}

static void
test_group_limit(void **state)
{
	struct unit_fx *f = *state;
	const char *many[PP_GROUPS_PER_USER + 1];
	char names[PP_GROUPS_PER_USER + 1][8];
	const char *const g0[] = { "g00" }, *const gnew[] = { "new" };
	struct unit_snap s;
	int i;

	for (i = 0; i <= PP_GROUPS_PER_USER; i++) {
		snprintf(names[i], sizeof(names[i]), "g%02d", i);
		many[i] = names[i];
	}
	/* One contact may not name more groups than a user may have. */
	unit_snap(f->st, &s);
	REFUSED(store_contact_put(f->st, ALICE, BOB, NULL, STORE_REL_FRIENDS,
	    many, PP_GROUPS_PER_USER + 1, 0), PP_ELIMIT,
	    "contact in 65 groups");
	assert_int_equal(store_begin(f->st), 0);
	for (i = 0; i < PP_GROUPS_PER_USER; i++)
		assert_int_equal(store_group_add(f->st, ALICE, names[i]), 0);
	assert_int_equal(store_commit(f->st), 0);
	unit_snap(f->st, &s);
	REFUSED(store_group_add(f->st, ALICE, "g64"), PP_ELIMIT, "group 65");
	REFUSED(store_contact_put(f->st, ALICE, BOB, NULL, STORE_REL_FRIENDS,
	    gnew, 1, 0), PP_ELIMIT, "contact creating group 65");
	/* Existing groups are fine. */
	assert_int_equal(store_contact_put(f->st, ALICE, BOB, NULL,
	    STORE_REL_FRIENDS, g0, 1, 0), 0);
	assert_int_equal(store_contact_put(f->st, ALICE, BOB, NULL,
	    STORE_REL_FRIENDS, many, PP_GROUPS_PER_USER, 1), 0);
}

static void
test_self_contact_refused(void **state)
{
	struct unit_fx *f = *state;
	struct unit_snap s;

	unit_snap(f->st, &s);
	REFUSED(store_contact_put(f->st, ALICE, ALICE, NULL, STORE_REL_FRIENDS,
	    NULL, 0, 0), PP_EINVAL, "self");
	REFUSED(store_contact_put(f->st, "SIP:Alice@" POOL,
	    "sip:%61lice@POOL-A.example.test.", NULL, STORE_REL_FRIENDS, NULL,
	    0, 1), PP_EINVAL, "self, other spelling");
}

static void
test_contact_replace(void **state)
{
	struct unit_fx *f = *state;
	const char *const ab[] = { "a", "b" }, *const c1[] = { "c" };
	struct unit_snap s;
	struct clist cl;
	struct glist gl;

	assert_int_equal(store_contact_put(f->st, ALICE, BOB, "Bob",
	    STORE_REL_COLLEAGUE, ab, 2, 0), 0);
	unit_snap(f->st, &s);
	REFUSED(store_contact_put(f->st, ALICE, BOB, "X", STORE_REL_BLOCKED, c1,
	    1, 0), PP_EEXIST, "put without replace");
	assert_int_equal(store_contact_put(f->st, ALICE, BOB, NULL,
	    STORE_REL_FRIENDS, c1, 1, 1), 0);
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(store_contact_list(f->st, ALICE, clist_add, &cl), 0);
	assert_int_equal(cl.n, 1);
	assert_string_equal(cl.c[0].uri, BOB);
	assert_string_equal(cl.c[0].name, "");
	assert_int_equal(cl.c[0].rel, STORE_REL_FRIENDS);
	assert_int_equal(cl.c[0].ngroups, 1);
	assert_string_equal(cl.c[0].groups[0], "c");
	/* The old groups stay, empty. */
	memset(&gl, 0, sizeof(gl));
	assert_int_equal(store_group_list(f->st, ALICE, glist_add, &gl), 0);
	assert_int_equal(gl.n, 3);
	assert_string_equal(gl.g[0].name, "a");
	assert_int_equal(gl.g[0].ncontacts, 0);
	assert_string_equal(gl.g[1].name, "b");
	assert_int_equal(gl.g[1].ncontacts, 0);
	assert_string_equal(gl.g[2].name, "c");
	assert_int_equal(gl.g[2].ncontacts, 1);
}

static void
test_group_del_keeps_contacts(void **state)
{
	struct unit_fx *f = *state;
	const char *const g[] = { "g" }, *const gh[] = { "g", "h" };
	struct unit_snap s;
	struct clist cl;
	struct glist gl;

	assert_int_equal(store_contact_put(f->st, ALICE, BOB, NULL,
	    STORE_REL_WORKGROUP, g, 1, 0), 0);
	assert_int_equal(store_contact_put(f->st, ALICE, "sip:carol@x.example",
	    "Carol", STORE_REL_FRIENDS, gh, 2, 0), 0);
	assert_int_equal(store_group_del(f->st, ALICE, "g"), 0);
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(store_contact_list(f->st, ALICE, clist_add, &cl), 0);
	assert_int_equal(cl.n, 2);
	assert_string_equal(cl.c[0].uri, BOB);
	assert_int_equal(cl.c[0].rel, STORE_REL_WORKGROUP);
	assert_int_equal(cl.c[0].ngroups, 0);
	assert_string_equal(cl.c[1].uri, "sip:carol@x.example");
	assert_int_equal(cl.c[1].ngroups, 1);
	assert_string_equal(cl.c[1].groups[0], "h");
	memset(&gl, 0, sizeof(gl));
	assert_int_equal(store_group_list(f->st, ALICE, glist_add, &gl), 0);
	assert_int_equal(gl.n, 1);
	assert_string_equal(gl.g[0].name, "h");
	assert_int_equal(gl.g[0].ncontacts, 1);
	unit_snap(f->st, &s);
	REFUSED(store_group_del(f->st, ALICE, "g"), PP_ENOENT,
	    "group deleted twice");
}

/* Group names that contain one another stay apart. */
static void
test_similar_group_names(void **state)
{
	struct unit_fx *f = *state;
	const char *const x[] = { "ab", "b", "abc" }, *const y[] = { "b" };
	struct clist cl;
	struct glist gl;

	assert_int_equal(store_contact_put(f->st, ALICE, "sip:x@x.example",
	    NULL, STORE_REL_FRIENDS, x, 3, 0), 0);
	assert_int_equal(store_contact_put(f->st, ALICE, "sip:y@x.example",
	    NULL, STORE_REL_FRIENDS, y, 1, 0), 0);
	assert_int_equal(store_group_del(f->st, ALICE, "b"), 0);
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(store_contact_list(f->st, ALICE, clist_add, &cl), 0);
	assert_int_equal(cl.n, 2);
	assert_int_equal(cl.c[0].ngroups, 2);
	assert_true((strcmp(cl.c[0].groups[0], "ab") == 0 &&
	    strcmp(cl.c[0].groups[1], "abc") == 0) ||
	    (strcmp(cl.c[0].groups[0], "abc") == 0 &&
	    strcmp(cl.c[0].groups[1], "ab") == 0));
	assert_int_equal(cl.c[1].ngroups, 0);
	memset(&gl, 0, sizeof(gl));
	assert_int_equal(store_group_list(f->st, ALICE, glist_add, &gl), 0);
	assert_int_equal(gl.n, 2);
	assert_string_equal(gl.g[0].name, "ab");
	assert_int_equal(gl.g[0].ncontacts, 1);
	assert_string_equal(gl.g[1].name, "abc");
	assert_int_equal(gl.g[1].ncontacts, 1);
}

/*
 * In one batch, contact puts for one owner share what they know of it;
 * other writes in between must be seen: group deletions, other owners,
 * the group limit.
 */
static void
test_batch_of_contacts(void **state)
{
	struct unit_fx *f = *state;
	const char *const g1[] = { "g1" }, *const g12[] = { "g1", "g2" };
	const char *const n1[] = { "n1" }, *const n2[] = { "n2" };
	char name[8];
	struct unit_snap s;
	struct glist gl;
	int i;

	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_contact_put(f->st, ALICE, "sip:c1@x.example",
	    NULL, STORE_REL_FRIENDS, g1, 1, 0), 0);
	assert_int_equal(store_contact_put(f->st, ALICE, "sip:c2@x.example",
	    NULL, STORE_REL_FRIENDS, g12, 2, 0), 0);
	assert_int_equal(store_group_del(f->st, ALICE, "g1"), 0);
	assert_int_equal(store_contact_put(f->st, ALICE, "sip:c3@x.example",
	    NULL, STORE_REL_FRIENDS, g1, 1, 0), 0);
	assert_int_equal(store_contact_put(f->st, BOB, "sip:c1@x.example",
	    NULL, STORE_REL_FRIENDS, g1, 1, 0), 0);
	assert_int_equal(store_contact_put(f->st, ALICE, "sip:c4@x.example",
	    NULL, STORE_REL_FRIENDS, g12, 2, 0), 0);
	assert_int_equal(store_commit(f->st), 0);
	memset(&gl, 0, sizeof(gl));
	assert_int_equal(store_group_list(f->st, ALICE, glist_add, &gl), 0);
	assert_int_equal(gl.n, 2);
	assert_string_equal(gl.g[0].name, "g1");
	assert_int_equal(gl.g[0].ncontacts, 2);	/* c3, c4 */
	assert_string_equal(gl.g[1].name, "g2");
	assert_int_equal(gl.g[1].ncontacts, 2);	/* c2, c4 */
	memset(&gl, 0, sizeof(gl));
	assert_int_equal(store_group_list(f->st, BOB, glist_add, &gl), 0);
	assert_int_equal(gl.n, 1);

	/* Fill Alice's groups to the limit, then batch against it. */
	assert_int_equal(store_begin(f->st), 0);
	for (i = 2; i < PP_GROUPS_PER_USER - 1; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		assert_int_equal(store_group_add(f->st, ALICE, name), 0);
	}
	assert_int_equal(store_contact_put(f->st, ALICE, "sip:c5@x.example",
	    NULL, STORE_REL_FRIENDS, n1, 1, 0), 0);
	unit_snap(f->st, &s);
	REFUSED(store_contact_put(f->st, ALICE, "sip:c6@x.example", NULL,
	    STORE_REL_FRIENDS, n2, 1, 0), PP_ELIMIT, "group 65 in a batch");
	assert_int_equal(store_group_del(f->st, ALICE, "f02"), 0);
	assert_int_equal(store_contact_put(f->st, ALICE, "sip:c6@x.example",
	    NULL, STORE_REL_FRIENDS, n2, 1, 0), 0);
	assert_int_equal(store_commit(f->st), 0);
	memset(&gl, 0, sizeof(gl));
	assert_int_equal(store_group_list(f->st, ALICE, glist_add, &gl), 0);
	assert_int_equal(gl.n, PP_GROUPS_PER_USER);
}

static int
count_cb(void *arg, const struct store_contact *c)
{

	(void)c;
	(*(size_t *)arg)++;
	return (0);
}

static size_t
ncontacts(struct store *st, const char *owner)
{
	size_t n = 0;

	assert_int_equal(store_contact_list(st, owner, count_cb, &n), 0);
	return (n);
}

#define CAROL	"sip:carol@" POOL

/* Put contact sip:c${i}@x.example of ${owner}, in group g1. */
static int
put_c(struct unit_fx *f, const char *owner, int i, int replace)
{
	const char *const g1[] = { "g1" };
	char uri[64];

	snprintf(uri, sizeof(uri), "sip:c%d@x.example", i);
	return (store_contact_put(f->st, owner, uri, NULL, STORE_REL_FRIENDS,
	    g1, 1, replace));
}

/* Contact ${i} of ${owner} is refused as a duplicate. */
static void
dup_refused(struct unit_fx *f, const char *owner, int i)
{

	assert_int_equal(put_c(f, owner, i, 0), -1);
	assert_int_equal(pp_errcode(), PP_EEXIST);
}

/*
 * The contacts of an owner that had none wait to go in many per statement
 * (store_contact.c): a batch still refuses each duplicate, and only it,
 * sees its own rows, and keeps to what was committed or rolled back.
 */
static void
test_batch_fresh_owner(void **state)
{
	struct unit_fx *f = *state;
	const char *const g1[] = { "g1" };
	struct store_stats ss;
	int64_t jr;
	int i;

	assert_int_equal(store_user_add(f->st, CAROL, "Carol"), 0);
	assert_int_equal(store_begin(f->st), 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(put_c(f, ALICE, i, 0), 0);
	/* Reads in the batch see every row, inserted or still waiting. */
	assert_int_equal(ncontacts(f->st, ALICE), 40);
	for (i = 40; i < 45; i++)
		assert_int_equal(put_c(f, ALICE, i, 0), 0);
	/* Duplicates, inserted (c5) and still waiting (c44): refused. */
	dup_refused(f, ALICE, 5);
	dup_refused(f, ALICE, 44);
	/* Spelled otherwise, the same contact. */
	assert_int_equal(store_contact_put(f->st, ALICE, "SIP:C43@X.Example.",
	    NULL, STORE_REL_FRIENDS, g1, 1, 0), -1);
	assert_int_equal(pp_errcode(), PP_EEXIST);
	/* A replace, then the same contact again without. */
	assert_int_equal(put_c(f, ALICE, 45, 0), 0);
	assert_int_equal(put_c(f, ALICE, 46, 1), 0);
	dup_refused(f, ALICE, 46);
	assert_int_equal(put_c(f, ALICE, 47, 0), 0);
	/* Deleted, then added again; another owner in between. */
	assert_int_equal(put_c(f, ALICE, 48, 0), 0);
	assert_int_equal(store_contact_del(f->st, ALICE, "sip:c48@x.example"),
	    0);
	assert_int_equal(put_c(f, ALICE, 48, 0), 0);
	assert_int_equal(put_c(f, BOB, 1, 0), 0);
	assert_int_equal(put_c(f, ALICE, 49, 0), 0);
	dup_refused(f, ALICE, 49);
	/* The refusals left the batch whole. */
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(ncontacts(f->st, ALICE), 50);
	assert_int_equal(ncontacts(f->st, BOB), 1);
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.contacts, 51);

	/* A rolled-back batch leaves none of its waiting rows. */
	assert_int_equal(store_begin(f->st), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(put_c(f, CAROL, i, 0), 0);
	store_rollback(f->st);
	assert_int_equal(ncontacts(f->st, CAROL), 0);
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.contacts, 51);
	jr = ss.journal_records;
	/* Committed, the journal has a record for each (and the group's). */
	assert_int_equal(store_begin(f->st), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(put_c(f, CAROL, i, 0), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(ncontacts(f->st, CAROL), 3);
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.journal_records, jr + 4);
}


int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, unit_setup_users, \
    unit_teardown)
	const struct CMUnitTest tests[] = {
		T(test_contact_limit),
		T(test_group_limit),
		T(test_self_contact_refused),
		T(test_contact_replace),
		T(test_group_del_keeps_contacts),
		T(test_similar_group_names),
		T(test_batch_of_contacts),
		T(test_batch_fresh_owner),
	};
#undef T

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
