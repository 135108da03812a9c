/*
 * store_user.c: users and their settings (module userdata).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sipuri.h"
#include "store_int.h"
#include "util.h"

static void
user_row(struct store *st, sqlite3_stmt *s, struct store_user *u)
{

	db_col_text(s, 0, u->uri, sizeof(u->uri));
	db_col_text(s, 1, u->name, sizeof(u->name));
	db_col_text(s, 2, u->home, sizeof(u->home));
	u->created_ms = sqlite3_column_int64(s, 3);
	u->updated_ms = sqlite3_column_int64(s, 4);
	u->primary = strcmp(u->home, st->pool) == 0;
}

int
db_user_find(struct store *st, const char *uri, char out[static PP_URI_MAX + 1],
    struct store_user *u)
{
	sqlite3_stmt *s;
	int rc;

	if (sipuri_normalize(uri, out) != 0)
		return (-1);
	if ((s = db_stmt(st, "SELECT uri, name, home, created, updated"
	    " FROM users WHERE uri = ?")) == NULL)
		return (-1);
	db_bind_text(s, 1, out);
	if ((rc = sqlite3_step(s)) == SQLITE_DONE) {
		pp_err(PP_ENOENT, "unknown user %s", out);
		return (-1);
	}
	if (rc != SQLITE_ROW)
		return (db_fail(st, "user lookup"));
	user_row(st, s, u);
	sqlite3_reset(s);
	return (0);
}

/* Find user ${uri} (normalized into ${out}) and check it is writable here. */
static int
user_writable(struct store *st, const char *uri,
    char out[static PP_URI_MAX + 1])
{
	struct store_user u;

	if (db_user_find(st, uri, out, &u) != 0)
		return (-1);
	return (db_home_writable(st, u.home, out));
}

int
store_user_add(struct store *st, const char *uri, const char *name)
{
	char norm[PP_URI_MAX + 1], found[PP_URI_MAX + 1];
	struct store_user u;
	sqlite3_stmt *s;
	int64_t now = util_now_ms();
	int rc = -1;

	if (sipuri_normalize(uri, norm) != 0 ||
	    util_text_ok(name, PP_NAME_MAX, "display name") != 0)
		return (-1);
	if (db_wbegin(st) != 0)
		return (-1);
	/* A fenced pool takes no new users either. */
	if (db_home_writable(st, st->pool, norm) != 0)
		goto out;
	if (db_user_find(st, norm, found, &u) == 0) {
		pp_err(PP_EEXIST, "user %s already exists (home pool %s)",
		    norm, u.home);
		goto out;
	}
	if (pp_errcode() != PP_ENOENT)
		goto out;
	if ((s = db_stmt(st, "INSERT INTO users VALUES(?,?,?,?,?)")) == NULL)
		goto out;
	db_bind_text(s, 1, norm);
	db_bind_text(s, 2, name);
	db_bind_text(s, 3, st->pool);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, now);
	if (db_done(st, s, "user add") != 0 ||
	    jrnl_append(st, STORE_MOD_USERDATA, "user", norm, NULL, "put") != 0)
		goto out;
	rc = 0;
out:
	return (db_wend(st, rc));
}

/* Delete the conferences ${uri} organizes, with their content. */
static int
user_del_confs(struct store *st, const char *uri)
{
	char ids[64][PP_CONF_ID_LEN + 1];
	sqlite3_stmt *s;
	int n, i;

	/* In rounds: the statement must be finished before deleting. */
	do {
		if ((s = db_stmt(st, "SELECT id FROM conferences"
		    " WHERE organizer = ? LIMIT 64")) == NULL)
			return (-1);
		db_bind_text(s, 1, uri);
		for (n = 0; n < 64 && sqlite3_step(s) == SQLITE_ROW; n++)
			db_col_text(s, 0, ids[n], sizeof(ids[n]));
		sqlite3_reset(s);
		for (i = 0; i < n; i++) {
			if (content_del_conf(st, ids[i]) != 0)
				return (-1);
			if ((s = db_stmt(st, "DELETE FROM conferences"
			    " WHERE id = ?")) == NULL)
				return (-1);
			db_bind_text(s, 1, ids[i]);
			if (db_done(st, s, "conference delete") != 0 ||
			    jrnl_append(st, STORE_MOD_USERDATA, "conf", ids[i],
			    NULL, "del") != 0)
				return (-1);
		}
	} while (n == 64);
	return (0);
}

int
store_user_del(struct store *st, const char *uri)
{
	static const char *const del[] = {
		"DELETE FROM settings WHERE uri = ?",
		"DELETE FROM contacts WHERE owner = ?",
		"DELETE FROM groups WHERE owner = ?",
		"DELETE FROM users WHERE uri = ?",
	};
	char norm[PP_URI_MAX + 1];
	sqlite3_stmt *s;
	size_t i;
	int rc = -1;

	if (db_wbegin(st) != 0)
		return (-1);
	if (user_writable(st, uri, norm) != 0)
		goto out;
	if (user_del_confs(st, norm) != 0)
		goto out;
	for (i = 0; i < sizeof(del) / sizeof(del[0]); i++) {
		if ((s = db_stmt(st, del[i])) == NULL)
			goto out;
		db_bind_text(s, 1, norm);
		if (db_done(st, s, "user delete") != 0)
			goto out;
	}
	if (jrnl_append(st, STORE_MOD_USERDATA, "user", norm, NULL, "del") != 0)
		goto out;
	rc = 0;
out:
	return (db_wend(st, rc));
}

int
store_user_get(struct store *st, const char *uri, struct store_user *out)
{
	char norm[PP_URI_MAX + 1];
	int rc;

	if (db_rbegin(st) != 0)
		return (-1);
	rc = db_user_find(st, uri, norm, out);
	db_rend(st);
	return (rc);
}

int
store_user_list(struct store *st, store_user_cb *cb, void *arg)
{
	struct store_user u;
	sqlite3_stmt *s;
	int rc = -1, r;

	if (db_rbegin(st) != 0)
		return (-1);
	if ((s = db_stmt(st, "SELECT uri, name, home, created, updated"
	    " FROM users ORDER BY uri")) == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		user_row(st, s, &u);
		if (cb(arg, &u) != 0)
			goto out;
	}
	if (r != SQLITE_DONE) {
		db_fail(st, "user list");
		goto out;
	}
	rc = 0;
out:
	db_rend(st);
	return (rc);
}

/* Check a setting key and the user it belongs to (writable if ${w}). */
static int
setting_prep(struct store *st, const char *uri, const char *key,
    char norm[static PP_URI_MAX + 1], int w)
{
	struct store_user u;

	if (util_token_ok(key, PP_SETTING_KEY_MAX, "setting key") != 0)
		return (-1);
	if (w)
		return (user_writable(st, uri, norm));
	return (db_user_find(st, uri, norm, &u));
}

#define SV	"(?,?,?)"
#define SV2	SV "," SV
#define SV4	SV2 "," SV2
#define SV8	SV4 "," SV4
#define SV16	SV8 "," SV8
#define SV32	SV16 "," SV16
#define SINS	"INSERT OR IGNORE INTO settings VALUES"
_Static_assert(SETTING_BUF == 32, "the statements below are for 32 rows");

/* Bind buffered setting ${r} as row ${i} of statement ${s}. */
static void
setting_bind(struct store *st, sqlite3_stmt *s, int i, size_t r)
{
	const char *a = st->sb_arena;

	sqlite3_bind_text(s, i * 3 + 1, a + st->sb[r].uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i * 3 + 2, a + st->sb[r].k, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i * 3 + 3, a + st->sb[r].v, -1, SQLITE_STATIC);
}

int
setting_flush(struct store *st)
{
	/* OR IGNORE cannot abort: no statement journal is kept; a key
	 * named twice is caught by the count of rows. */
	static const char *const sql[] = { SINS SV32, SINS SV16, SINS SV8,
		SINS SV4, SINS SV2, SINS SV };
	int64_t n = 0;

	if (db_insert_rows(st, sql, SETTING_BUF, st->nsb, setting_bind, &n,
	    "setting set") != 0)
		goto fail;
	if (n != (int64_t)st->nsb) {
		pp_err(PP_EEXIST, "a setting is named twice (near %s's)",
		    st->sb_arena + st->sb[0].uri);
		goto fail;
	}
	st->nsb = st->sb_used = 0;
	return (0);
fail:
	st->nsb = st->sb_used = 0;
	st->tx_failed = 1;
	return (-1);
}

/* Copy ${p} and its NUL into the settings arena; its offset. */
static uint32_t
sb_put(struct store *st, const char *p)
{
	uint32_t off = (uint32_t)st->sb_used;
	size_t len = strlen(p) + 1;

	memcpy(st->sb_arena + st->sb_used, p, len);
	st->sb_used += len;
	return (off);
}

/* Buffer the row (its user, key and value are checked). */
static int
setting_buffer(struct store *st, const char *norm, const char *key,
    const char *value)
{

	if (st->sb_arena == NULL &&
	    (st->sb_arena = malloc(SETTING_ARENA)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	st->sb[st->nsb].uri = sb_put(st, norm);
	st->sb[st->nsb].k = sb_put(st, key);
	st->sb[st->nsb].v = sb_put(st, value);
	if (++st->nsb == SETTING_BUF)
		return (setting_flush(st));
	return (0);
}

/*
 * Settings of ${norm}, exactly if it might be at the limit, else the cached
 * upper bound; into ${n}.  ${exists}: whether key ${key} is one (only
 * known, and only needed, at the limit; else 0).
 */
static int
setting_count(struct store *st, const char *norm, const char *key,
    int64_t *n, int *exists)
{
	sqlite3_stmt *s;

	*exists = 0;
	if (st->suser.tx == st->tx_id && st->suser.wop + 1 == st->wops &&
	    strcmp(st->suser.uri, norm) == 0 &&
	    st->suser.nmax < PP_SETTINGS_PER_USER) {
		*n = st->suser.nmax;
		return (0);
	}
	if (setting_flush(st) != 0 ||
	    (s = db_stmt(st, "SELECT (SELECT count(*) FROM settings"
	    " WHERE uri = ?1), EXISTS(SELECT 1 FROM settings"
	    " WHERE uri = ?1 AND k = ?2)")) == NULL)
		return (-1);
	db_bind_text(s, 1, norm);
	db_bind_text(s, 2, key);
	if (sqlite3_step(s) != SQLITE_ROW)
		return (db_fail(st, "setting count"));
	*n = sqlite3_column_int64(s, 0);
	*exists = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	return (0);
}

int
store_setting_set(struct store *st, const char *uri, const char *key,
    const char *value)
{
	char norm[PP_URI_MAX + 1];
	sqlite3_stmt *s;
	int64_t n = 0;
	int rc = -1, exists = 0, cached, buffered;

	/* Into an empty replica, rows wait to go in many per statement. */
	buffered = st->importing && st->import_fresh;
	if (util_text_ok(value, PP_SETTING_VALUE_MAX, "setting value") != 0)
		return (-1);
	st->sb_keep = buffered;
	rc = db_wbegin(st);
	st->sb_keep = 0;
	if (rc != 0)
		return (-1);
	rc = -1;
	/*
	 * The user of the last write, if it was a setting of theirs in this
	 * transaction, is known to exist and to be writable: a snapshot's
	 * runs of one user's settings skip the lookups.
	 */
	cached = st->suser.tx == st->tx_id && st->suser.wop + 1 == st->wops &&
	    strcmp(st->suser.uri, uri) == 0;
	if (cached) {
		if (util_token_ok(key, PP_SETTING_KEY_MAX, "setting key") != 0)
			goto out;
		memcpy(norm, st->suser.uri, sizeof(norm));
	} else if (setting_prep(st, uri, key, norm, 1) != 0)
		goto out;
	if (!cached)
		st->suser.tx = 0;
	if (setting_count(st, norm, key, &n, &exists) != 0)
		goto out;
	if (!exists && n >= PP_SETTINGS_PER_USER) {
		pp_err(PP_ELIMIT, "user %s already has %d settings, the most "
		    "allowed", norm, PP_SETTINGS_PER_USER);
		goto out;
	}
	if (buffered) {
		/* (An import keeps no journal.) */
		if (setting_buffer(st, norm, key, value) != 0)
			goto out;
	} else if ((s = db_stmt(st, "INSERT OR REPLACE INTO settings"
	    " VALUES(?,?,?)")) == NULL)
		goto out;
	else {
		db_bind_text(s, 1, norm);
		db_bind_text(s, 2, key);
		db_bind_text(s, 3, value);
		if (db_done(st, s, "setting set") != 0 ||
		    jrnl_append(st, STORE_MOD_USERDATA, "setting", norm, key,
		    "put") != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc == 0) {
		/* One more, or the same count if the key was there. */
		memcpy(st->suser.uri, norm, sizeof(norm));
		st->suser.nmax = n + !exists;
		st->suser.tx = st->tx_id;
		st->suser.wop = st->wops;
	} else
		st->suser.tx = 0;
	return (db_wend(st, rc));
}

int
store_setting_get(struct store *st, const char *uri, const char *key,
    struct store_setting *out)
{
	char norm[PP_URI_MAX + 1];
	sqlite3_stmt *s;
	int rc = -1, r;

	if (db_rbegin(st) != 0)
		return (-1);
	if (setting_prep(st, uri, key, norm, 0) != 0)
		goto out;
	if ((s = db_stmt(st, "SELECT v FROM settings WHERE uri = ? AND k = ?"))
	    == NULL)
		goto out;
	db_bind_text(s, 1, norm);
	db_bind_text(s, 2, key);
	if ((r = sqlite3_step(s)) != SQLITE_ROW) {
		if (r == SQLITE_DONE)
			pp_err(PP_ENOENT, "user %s has no setting '%s'", norm,
			    key);
		else
			db_fail(st, "setting get");
		goto out;
	}
	snprintf(out->key, sizeof(out->key), "%s", key);
	db_col_text(s, 0, out->value, sizeof(out->value));
	rc = 0;
out:
	db_rend(st);
	return (rc);
}

int
store_setting_del(struct store *st, const char *uri, const char *key)
{
	char norm[PP_URI_MAX + 1];
	sqlite3_stmt *s;
	int rc = -1;

	if (db_wbegin(st) != 0)
		return (-1);
	if (setting_prep(st, uri, key, norm, 1) != 0)
		goto out;
	if ((s = db_stmt(st, "DELETE FROM settings WHERE uri = ? AND k = ?"))
	    == NULL)
		goto out;
	db_bind_text(s, 1, norm);
	db_bind_text(s, 2, key);
	if (db_done(st, s, "setting delete") != 0)
		goto out;
	if (sqlite3_changes(st->db) == 0) {
		pp_err(PP_ENOENT, "user %s has no setting '%s'", norm, key);
		goto out;
	}
	if (jrnl_append(st, STORE_MOD_USERDATA, "setting", norm, key,
	    "del") != 0)
		goto out;
	rc = 0;
out:
	return (db_wend(st, rc));
}

int
store_setting_list(struct store *st, const char *uri, store_setting_cb *cb,
    void *arg)
{
	char norm[PP_URI_MAX + 1];
	struct store_setting set;
	struct store_user u;
	sqlite3_stmt *s;
	int rc = -1, r;

	if (db_rbegin(st) != 0)
		return (-1);
	if (db_user_find(st, uri, norm, &u) != 0)
		goto out;
	if ((s = db_stmt(st, "SELECT k, v FROM settings WHERE uri = ?"
	    " ORDER BY k")) == NULL)
		goto out;
	db_bind_text(s, 1, norm);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		db_col_text(s, 0, set.key, sizeof(set.key));
		db_col_text(s, 1, set.value, sizeof(set.value));
		if (cb(arg, &set) != 0)
			goto out;
	}
	if (r != SQLITE_DONE) {
		db_fail(st, "setting list");
		goto out;
	}
	rc = 0;
out:
	db_rend(st);
	return (rc);
}
