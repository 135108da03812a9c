/*
 * store_contact.c: contact groups and contacts (module userdata).  A contact
 * is the owner's entry for another SIP URI: a display name, the presence
 * privacy relationship the owner grants, and the groups it is filed in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sipuri.h"
#include "store_int.h"
#include "util.h"

/* Find owner ${uri}, normalized into ${norm}, and check it is writable. */
static int
owner_writable(struct store *st, const char *uri,
    char norm[static PP_URI_MAX + 1])
{
	struct store_user u;

	if (db_user_find(st, uri, norm, &u) != 0)
		return (-1);
	return (db_home_writable(st, u.home, norm));
}

static int owner_load(struct store *, const char *);
static int owner_has_group(struct store *, const char *);

/*
 * ${owner}'s normal form into ${norm}.  A normal form normalizes to
 * itself: the cached owner's (owner_load) is known.
 */
static int
owner_norm(struct store *st, const char *owner,
    char norm[static PP_URI_MAX + 1])
{

	if (st->owner.tx != 0 && strcmp(owner, st->owner.uri) == 0) {
		memcpy(norm, st->owner.uri, PP_URI_MAX + 1);
		return (0);
	}
	return (sipuri_normalize(owner, norm));
}

/* Count the rows ${sql} (one text parameter, ${key}) returns as count(*). */
static int
count_of(struct store *st, const char *sql, const char *key, int64_t *n)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, sql)) == NULL)
		return (-1);
	db_bind_text(s, 1, key);
	if (sqlite3_step(s) != SQLITE_ROW)
		return (db_fail(st, "count"));
	*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return (0);
}

/* Does ${owner} have group ${name}?  1 yes, 0 no, -1 error. */
int
group_exists(struct store *st, const char *owner, const char *name)
{
	sqlite3_stmt *s;
	int r;

	if ((s = db_stmt(st, "SELECT 1 FROM groups WHERE owner = ?"
	    " AND name = ?")) == NULL)
		return (-1);
	db_bind_text(s, 1, owner);
	db_bind_text(s, 2, name);
	if ((r = sqlite3_step(s)) != SQLITE_ROW && r != SQLITE_DONE)
		return (db_fail(st, "group lookup"));
	sqlite3_reset(s);
	return (r == SQLITE_ROW);
}

/* Insert group ${name} of ${owner} and journal it. */
static int
group_insert(struct store *st, const char *owner, const char *name)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, "INSERT INTO groups VALUES(?, ?)")) == NULL)
		return (-1);
	db_bind_text(s, 1, owner);
	db_bind_text(s, 2, name);
	if (db_done(st, s, "group add") != 0)
		return (-1);
	return (jrnl_append(st, STORE_MOD_USERDATA, "group", owner, name,
	    "put"));
}

int
store_group_add(struct store *st, const char *owner, const char *name)
{
	char norm[PP_URI_MAX + 1];
	int rc = -1;

	if (util_text_ok(name, PP_GROUP_NAME_MAX, "group name") != 0)
		return (-1);
	if (owner_norm(st, owner, norm) != 0 || db_wbegin(st) != 0)
		return (-1);
	if (owner_load(st, norm) != 0)
		goto out;
	if (owner_has_group(st, name)) {
		pp_err(PP_EEXIST, "user %s already has group '%s'", norm, name);
		goto out;
	}
	if (st->owner.ngroups >= PP_GROUPS_PER_USER) {
		pp_err(PP_ELIMIT, "user %s already has %d groups, the most "
		    "allowed", norm, PP_GROUPS_PER_USER);
		goto out;
	}
	if (group_insert(st, norm, name) != 0)
		goto out;
	snprintf(st->owner.groups[st->owner.ngroups++], PP_GROUP_NAME_MAX + 1,
	    "%s", name);
	rc = 0;
out:
	if (rc != 0)
		st->owner.tx = 0;
	return (db_wend(st, rc));
}

int
store_group_del(struct store *st, const char *owner, const char *name)
{
	static const char *const del[] = {
		"UPDATE contacts SET groups = CASE WHEN replace(groups, ?2,"
		" char(31)) = char(31) THEN '' ELSE replace(groups, ?2,"
		" char(31)) END WHERE owner = ?1 AND instr(groups, ?2) > 0",
		"DELETE FROM groups WHERE owner = ?1 AND name = ?3",
	};
	char norm[PP_URI_MAX + 1], tag[PP_GROUP_NAME_MAX + 3];
	sqlite3_stmt *s;
	int rc = -1, e, i;

	if (util_text_ok(name, PP_GROUP_NAME_MAX, "group name") != 0 ||
	    db_wbegin(st) != 0)
		return (-1);
	if (owner_writable(st, owner, norm) != 0)
		goto out;
	if ((e = group_exists(st, norm, name)) <= 0) {
		if (e == 0)
			pp_err(PP_ENOENT, "user %s has no group '%s'", norm,
			    name);
		goto out;
	}
	snprintf(tag, sizeof(tag), "\x1f%s\x1f", name);
	for (i = 0; i < 2; i++) {
		if ((s = db_stmt(st, del[i])) == NULL)
			goto out;
		db_bind_text(s, 1, norm);
		if (i == 0)
			db_bind_text(s, 2, tag);
		else
			db_bind_text(s, 3, name);
		if (db_done(st, s, "group delete") != 0)
			goto out;
	}
	rc = jrnl_append(st, STORE_MOD_USERDATA, "group", norm, name, "del");
out:
	return (db_wend(st, rc));
}

int
store_group_list(struct store *st, const char *owner, store_group_cb *cb,
    void *arg)
{
	char norm[PP_URI_MAX + 1];
	struct store_group g;
	struct store_user u;
	sqlite3_stmt *s;
	int rc = -1, r;

	if (db_rbegin(st) != 0)
		return (-1);
	if (db_user_find(st, owner, norm, &u) != 0)
		goto out;
	if ((s = db_stmt(st, "SELECT g.name, (SELECT count(*) FROM"
	    " contacts c WHERE c.owner = g.owner AND instr(c.groups,"
	    " char(31) || g.name || char(31)) > 0)"
	    " FROM groups g WHERE g.owner = ? ORDER BY g.name")) == NULL)
		goto out;
	db_bind_text(s, 1, norm);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		db_col_text(s, 0, g.name, sizeof(g.name));
		g.ncontacts = (size_t)sqlite3_column_int64(s, 1);
		if (cb(arg, &g) != 0)
			goto out;
	}
	if (r != SQLITE_DONE) {
		db_fail(st, "group list");
		goto out;
	}
	rc = 0;
out:
	db_rend(st);
	return (rc);
}

/*
 * Check the fields of a contact: ${uri} normalized into ${norm}, an optional
 * name, a known relationship, and up to PP_GROUPS_PER_USER distinct groups.
 */
static int
contact_check(const char *uri, const char *name,
    enum store_rel rel, const char *const *groups, size_t ngroups,
    char norm[static PP_URI_MAX + 1])
{
	size_t i, j;

	if (sipuri_normalize(uri, norm) != 0)
		return (-1);
	if (name != NULL && name[0] != '\0' &&
	    util_text_ok(name, PP_NAME_MAX, "contact name") != 0)
		return (-1);
	if ((unsigned)rel > STORE_REL_FRIENDS) {
		pp_err(PP_EINVAL, "unknown relationship");
		return (-1);
	}
	if (ngroups > PP_GROUPS_PER_USER) {
		pp_err(PP_ELIMIT, "a contact may be in at most %d groups",
		    PP_GROUPS_PER_USER);
		return (-1);
	}
	for (i = 0; i < ngroups; i++) {
		if (util_text_ok(groups[i], PP_GROUP_NAME_MAX,
		    "group name") != 0)
			return (-1);
		for (j = 0; j < i; j++) {
			if (strcmp(groups[i], groups[j]) == 0) {
				pp_err(PP_EINVAL, "group '%s' is named twice",
				    groups[i]);
				return (-1);
			}
		}
	}
	return (0);
}

/* Does ${owner} have contact ${uri}?  1 yes, 0 no, -1 error. */
static int
contact_exists(struct store *st, const char *owner, const char *uri)
{
	sqlite3_stmt *s;
	int r;

	if (contact_flush(st) != 0 ||
	    (s = db_stmt(st, "SELECT 1 FROM contacts WHERE owner = ?"
	    " AND uri = ?")) == NULL)
		return (-1);
	db_bind_text(s, 1, owner);
	db_bind_text(s, 2, uri);
	if ((r = sqlite3_step(s)) != SQLITE_ROW && r != SQLITE_DONE)
		return (db_fail(st, "contact lookup"));
	sqlite3_reset(s);
	return (r == SQLITE_ROW);
}

/*
 * Load what contact_put needs to know of ${owner} (normalized) into the
 * owner cache, unless it is still valid: that the owner is writable here,
 * how many contacts and which groups it has.
 */
static int
owner_load(struct store *st, const char *owner)
{
	char norm[PP_URI_MAX + 1];
	sqlite3_stmt *s;
	size_t n = 0;

	if (st->owner.tx == st->tx_id && st->owner.wop + 1 == st->wops &&
	    strcmp(st->owner.uri, owner) == 0)
		goto valid;
	st->owner.tx = 0;
	if (contact_flush(st) != 0 || owner_writable(st, owner, norm) != 0 ||
	    count_of(st, "SELECT count(*) FROM contacts WHERE owner = ?",
	    norm, &st->owner.ncontacts) != 0)
		return (-1);
	if ((s = db_stmt(st, "SELECT name FROM groups WHERE owner = ?")) ==
	    NULL)
		return (-1);
	db_bind_text(s, 1, norm);
	while (n < PP_GROUPS_PER_USER && sqlite3_step(s) == SQLITE_ROW)
		db_col_text(s, 0, st->owner.groups[n++], PP_GROUP_NAME_MAX + 1);
	sqlite3_reset(s);
	st->owner.ngroups = n;
	memcpy(st->owner.uri, norm, sizeof(norm));
	st->owner.tx = st->tx_id;
	/* An owner without contacts: its new ones need no lookups. */
	st->owner.fresh = 0;
	if (st->owner.ncontacts == 0 && !st->importing) {
		if (st->owner.added == NULL)
			st->owner.added = calloc(OWNER_ADDED,
			    sizeof(st->owner.added[0]));
		else
			memset(st->owner.added, 0, OWNER_ADDED *
			    sizeof(st->owner.added[0]));
		st->owner.fresh = st->owner.added != NULL;
	}
valid:
	st->owner.wop = st->wops;
	return (0);
}

/*
 * Is ${uri} perhaps one of the contacts added to the fresh owner (owner_load)?
 * A hash of it is, or is not: not there, it is certainly new.  With ${add},
 * record it.  The table holds at most PP_CONTACTS_PER_USER hashes.
 */
static int
owner_added(struct store *st, const char *uri, int add)
{
	uint64_t h = 14695981039346656037ULL, *t = st->owner.added;
	const unsigned char *p;
	size_t i;

	for (p = (const unsigned char *)uri; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	if (h == 0)
		h = 1;
	for (i = h & (OWNER_ADDED - 1); t[i] != 0; i = (i + 1) &
	    (OWNER_ADDED - 1))
		if (t[i] == h)
			return (1);
	if (add)
		t[i] = h;
	return (0);
}

/* Is ${name} among the cached owner's groups? */
static int
owner_has_group(struct store *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->owner.ngroups; i++)
		if (strcmp(st->owner.groups[i], name) == 0)
			return (1);
	return (0);
}

/* Remove ${owner}'s contact ${uri} if present; ${existed} says if it was. */
static int
contact_remove(struct store *st, const char *owner, const char *uri,
    int *existed)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, "DELETE FROM contacts WHERE owner = ?"
	    " AND uri = ?")) == NULL)
		return (-1);
	db_bind_text(s, 1, owner);
	db_bind_text(s, 2, uri);
	if (db_done(st, s, "contact update") != 0)
		return (-1);
	*existed = sqlite3_changes(st->db) > 0;
	return (0);
}

#define CV	"(?,?,?,?,?)"
#define CV2	CV "," CV
#define CV4	CV2 "," CV2
#define CV8	CV4 "," CV4
#define CV16	CV8 "," CV8
#define CV32	CV16 "," CV16
#define CINS	"INSERT OR IGNORE INTO contacts VALUES"
_Static_assert(CONTACT_BUF == 32, "the statements below are for 32 rows");

/* Bind row ${r} of the buffer as the ${i}th row of statement ${s}. */
static void
contact_bind(struct store *st, sqlite3_stmt *s, int i, size_t r)
{
	const char *a = st->cb_arena;

	sqlite3_bind_text(s, i * 5 + 1, a + st->cb[r].owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i * 5 + 2, a + st->cb[r].uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i * 5 + 3, a + st->cb[r].name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, i * 5 + 4, st->cb[r].rel);
	sqlite3_bind_text(s, i * 5 + 5, a + st->cb[r].groups, -1,
	    SQLITE_STATIC);
}

int
contact_flush(struct store *st)
{
	/* OR IGNORE cannot abort: no statement journal is kept. */
	static const char *const sql[] = { CINS CV32, CINS CV16, CINS CV8,
		CINS CV4, CINS CV2, CINS CV };
	int64_t n = 0;

	if (db_insert_rows(st, sql, CONTACT_BUF, st->ncb, contact_bind, &n,
	    "contact add") != 0)
		goto fail;
	if (n != (int64_t)st->ncb) {
		pp_err(PP_EEXIST, "a contact is named twice (near %s's)",
		    st->cb_arena + st->cb[0].owner);
		goto fail;
	}
	/*
	 * The rows of earlier operations are not this one's changes: a
	 * refusal after this flush still leaves a batch whole (db_wend).
	 */
	st->op_changes += (int64_t)st->cb_prior;
	st->cb_prior = 0;
	st->ncb = 0;
	st->cb_used = 0;
	return (0);
fail:
	st->cb_prior = 0;
	st->ncb = 0;
	st->cb_used = 0;
	st->tx_failed = 1;
	return (-1);
}

/* Copy ${len} bytes of ${p} and a NUL into the arena; its offset. */
static uint32_t
arena_put(struct store *st, const char *p, size_t len)
{
	uint32_t off = (uint32_t)st->cb_used;

	memcpy(st->cb_arena + st->cb_used, p, len);
	st->cb_arena[st->cb_used + len] = '\0';
	st->cb_used += len + 1;
	return (off);
}

/*
 * Buffer the row.  Into an empty replica a duplicate is refused when the
 * buffer is flushed, and fails the import; for a fresh owner the caller
 * has made sure the contact is new (owner_added).
 */
static int
contact_buffer(struct store *st, const char *owner, const char *uri,
    const char *name, enum store_rel rel, const char *list, size_t n)
{

	if (st->cb_arena == NULL &&
	    (st->cb_arena = malloc(CONTACT_ARENA)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	st->cb[st->ncb].owner = arena_put(st, owner, strlen(owner));
	st->cb[st->ncb].uri = arena_put(st, uri, strlen(uri));
	if (name == NULL)
		name = "";
	st->cb[st->ncb].name = arena_put(st, name, strlen(name));
	st->cb[st->ncb].groups = arena_put(st, list, n);
	st->cb[st->ncb].rel = (int)rel;
	if (++st->ncb == CONTACT_BUF)
		return (contact_flush(st));
	return (0);
}

/*
 * Insert the contact row; a contact already there is refused (PP_EEXIST)
 * before anything is written.  In a snapshot into an empty replica, or
 * for a fresh owner, the row is buffered instead (contact_buffer).
 */
static int
contact_insert(struct store *st, const char *owner, const char *uri,
    const char *name, enum store_rel rel, const char *const *groups,
    size_t ngroups)
{
	char list[PP_GROUPS_PER_USER * (PP_GROUP_NAME_MAX + 1) + 2];
	size_t i, n = 0, len;
	sqlite3_stmt *s;

	/* Names are checked (<= 128 bytes, no control characters). */
	for (i = 0; i < ngroups; i++) {
		len = strlen(groups[i]);
		list[n++] = '\x1f';
		memcpy(list + n, groups[i], len);
		n += len;
	}
	if (ngroups > 0)
		list[n++] = '\x1f';
	list[n] = '\0';
	if (st->cb_keep)
		return (contact_buffer(st, owner, uri, name, rel, list, n));
	/* OR IGNORE cannot abort, so SQLite keeps no statement journal. */
	if ((s = db_stmt(st, "INSERT OR IGNORE INTO contacts"
	    " VALUES(?,?,?,?,?)")) == NULL)
		return (-1);
	db_bind_text(s, 1, owner);
	db_bind_text(s, 2, uri);
	db_bind_text(s, 3, name);
	sqlite3_bind_int(s, 4, (int)rel);
	db_bind_text(s, 5, list);
	if (db_done(st, s, "contact add") != 0)
		return (-1);
	if (sqlite3_changes(st->db) == 0) {
		pp_err(PP_EEXIST, "%s is already a contact of %s", uri, owner);
		return (-1);
	}
	return (0);
}

/* Create those of ${groups} that ${owner} does not have yet. */
static int
contact_groups_add(struct store *st, const char *owner,
    const char *const *groups, size_t ngroups)
{
	size_t i;

	for (i = 0; i < ngroups; i++) {
		if (owner_has_group(st, groups[i]))
			continue;
		if (group_insert(st, owner, groups[i]) != 0)
			return (-1);
		snprintf(st->owner.groups[st->owner.ngroups++],
		    PP_GROUP_NAME_MAX + 1, "%s", groups[i]);
	}
	return (0);
}

int
store_contact_put(struct store *st, const char *owner, const char *uri,
    const char *name, enum store_rel rel, const char *const *groups,
    size_t ngroups, int replace)
{
	char onorm[PP_URI_MAX + 1], cnorm[PP_URI_MAX + 1];
	size_t i, add = 0;
	int rc = -1, existed = 0, c;

	if (contact_check(uri, name, rel, groups, ngroups, cnorm) != 0)
		return (-1);
	/* A replica's rows come in normal form (store_import.c). */
	if (st->importing && strcmp(uri, cnorm) != 0) {
		pp_err(PP_EINVAL, "'%.64s' is not in normal form", uri);
		return (-1);
	}
	if (owner_norm(st, owner, onorm) != 0)
		return (-1);
	/*
	 * Into an empty replica, or to an owner that had no contacts (the
	 * cached owner, still valid once db_wbegin counts this operation),
	 * contacts go in many per statement.
	 */
	st->cb_keep = !replace && ((st->importing && st->import_fresh) ||
	    (st->in_tx && st->owner.fresh && st->owner.tx == st->tx_id &&
	    st->owner.wop == st->wops && strcmp(st->owner.uri, onorm) == 0));
	rc = db_wbegin(st);
	st->cb_keep = 0;
	if (rc != 0)
		return (-1);
	rc = -1;
	if (owner_load(st, onorm) != 0)
		goto out;
	if (strcmp(onorm, cnorm) == 0) {
		pp_err(PP_EINVAL, "%s cannot be their own contact", onorm);
		goto out;
	}
	for (i = 0; i < ngroups; i++)
		add += !owner_has_group(st, groups[i]);
	if (st->owner.ngroups + add > PP_GROUPS_PER_USER) {
		pp_err(PP_ELIMIT, "user %s would have more than %d groups",
		    onorm, PP_GROUPS_PER_USER);
		goto out;
	}
	if (st->owner.ncontacts >= PP_CONTACTS_PER_USER &&
	    (existed = contact_exists(st, onorm, cnorm)) <= 0) {
		if (existed == 0)
			pp_err(PP_ELIMIT, "user %s already has %d contacts, "
			    "the most allowed", onorm, PP_CONTACTS_PER_USER);
		goto out;
	}
	/* A fresh owner's added[] knows the contact is new, or may not. */
	if (replace)
		st->owner.fresh = 0;
	else if (st->owner.fresh && owner_added(st, cnorm, 0) &&
	    (existed = contact_exists(st, onorm, cnorm)) != 0) {
		if (existed > 0)
			pp_err(PP_EEXIST, "%s is already a contact of %s",
			    cnorm, onorm);
		goto out;
	}
	/* The first write: a refusal up to here has changed nothing. */
	if (replace && contact_remove(st, onorm, cnorm, &existed) != 0)
		goto out;
	st->cb_keep = !replace && ((st->importing && st->import_fresh) ||
	    st->owner.fresh);
	c = contact_insert(st, onorm, cnorm, name, rel, groups, ngroups);
	st->cb_keep = 0;
	if (c != 0 ||
	    contact_groups_add(st, onorm, groups, ngroups) != 0 ||
	    jrnl_append(st, STORE_MOD_USERDATA, "contact", onorm, cnorm,
	    "put") != 0)
		goto out;
	st->owner.ncontacts += !existed;
	if (st->owner.fresh)
		(void)owner_added(st, cnorm, 1);
	rc = 0;
out:
	if (rc != 0)
		st->owner.tx = 0;
	return (db_wend(st, rc));
}

int
store_contact_del(struct store *st, const char *owner, const char *uri)
{
	char onorm[PP_URI_MAX + 1], cnorm[PP_URI_MAX + 1];
	sqlite3_stmt *s;
	int rc = -1, e;

	if (sipuri_normalize(uri, cnorm) != 0 || db_wbegin(st) != 0)
		return (-1);
	if (owner_writable(st, owner, onorm) != 0)
		goto out;
	if ((e = contact_exists(st, onorm, cnorm)) <= 0) {
		if (e == 0)
			pp_err(PP_ENOENT, "%s is not a contact of %s", cnorm,
			    onorm);
		goto out;
	}
	if ((s = db_stmt(st, "DELETE FROM contacts WHERE owner = ?"
	    " AND uri = ?")) == NULL)
		goto out;
	db_bind_text(s, 1, onorm);
	db_bind_text(s, 2, cnorm);
	if (db_done(st, s, "contact delete") != 0)
		goto out;
	rc = jrnl_append(st, STORE_MOD_USERDATA, "contact", onorm, cnorm,
	    "del");
out:
	return (db_wend(st, rc));
}

/* Split the \x1f-separated group names of column ${i} into ${c}->groups. */
void
contact_groups_split(sqlite3_stmt *s, int i, struct store_contact *c)
{
	const char *p = (const char *)sqlite3_column_text(s, i), *e;
	size_t len;

	c->ngroups = 0;
	if (p != NULL && *p == '\x1f')
		p++;
	while (p != NULL && *p != '\0' && c->ngroups < PP_GROUPS_PER_USER) {
		e = strchr(p, '\x1f');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (len > PP_GROUP_NAME_MAX)
			len = PP_GROUP_NAME_MAX;
		memcpy(c->groups[c->ngroups], p, len);
		c->groups[c->ngroups++][len] = '\0';
		p = e != NULL ? e + 1 : NULL;
	}
}

int
contact_find(struct store *st, const char *owner, const char *uri,
    struct store_contact *c)
{
	sqlite3_stmt *s;
	int r;

	if ((s = db_stmt(st, "SELECT name, rel, groups FROM contacts"
	    " WHERE owner = ? AND uri = ?")) == NULL)
		return (-1);
	db_bind_text(s, 1, owner);
	db_bind_text(s, 2, uri);
	if ((r = sqlite3_step(s)) != SQLITE_ROW) {
		if (r != SQLITE_DONE)
			return (db_fail(st, "contact lookup"));
		pp_err(PP_ENOENT, "%s is not a contact of %s", uri, owner);
		return (-1);
	}
	snprintf(c->owner, sizeof(c->owner), "%s", owner);
	snprintf(c->uri, sizeof(c->uri), "%s", uri);
	db_col_text(s, 0, c->name, sizeof(c->name));
	c->rel = (enum store_rel)sqlite3_column_int(s, 1);
	contact_groups_split(s, 2, c);
	sqlite3_reset(s);
	return (0);
}

int
store_contact_list(struct store *st, const char *owner, store_contact_cb *cb,
    void *arg)
{
	struct store_contact c;
	struct store_user u;
	sqlite3_stmt *s;
	int rc = -1, r;

	if (db_rbegin(st) != 0)
		return (-1);
	if (db_user_find(st, owner, c.owner, &u) != 0)
		goto out;
	if ((s = db_stmt(st, "SELECT uri, name, rel, groups FROM contacts"
	    " WHERE owner = ? ORDER BY uri")) == NULL)
		goto out;
	db_bind_text(s, 1, c.owner);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		db_col_text(s, 0, c.uri, sizeof(c.uri));
		db_col_text(s, 1, c.name, sizeof(c.name));
		c.rel = (enum store_rel)sqlite3_column_int(s, 2);
		contact_groups_split(s, 3, &c);
		if (cb(arg, &c) != 0)
			goto out;
	}
	if (r != SQLITE_DONE) {
		db_fail(st, "contact list");
		goto out;
	}
	rc = 0;
out:
	db_rend(st);
	return (rc);
}
