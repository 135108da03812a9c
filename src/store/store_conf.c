/*
 * store_conf.c: the conference directory (module userdata).  A conference id
 * is 128 random bits in lowercase hex: knowing one conference's id tells
 * nothing about another's.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "sipuri.h"
#include "store_int.h"
#include "util.h"

#define CONF_MAX_SPAN	(366LL * 86400)	/* a conference lasts at most a year */
#define CONF_MAX_TIME	253402300799LL	/* 9999-12-31T23:59:59Z */

/* Check that ${id} has the form of a conference id. */
int
conf_id_ok(const char *id)
{
	size_t i;

	for (i = 0; i < PP_CONF_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			break;
	if (i != PP_CONF_ID_LEN || id[i] != '\0') {
		pp_err(PP_EINVAL, "'%.40s' is not a conference id (%d "
		    "lowercase hex digits)", id, PP_CONF_ID_LEN);
		return (-1);
	}
	return (0);
}

static void
conf_row(struct store *st, sqlite3_stmt *s, struct store_conf *c)
{

	db_col_text(s, 0, c->id, sizeof(c->id));
	db_col_text(s, 1, c->organizer, sizeof(c->organizer));
	db_col_text(s, 2, c->subject, sizeof(c->subject));
	c->start = sqlite3_column_int64(s, 3);
	c->end = sqlite3_column_int64(s, 4);
	c->access = (enum store_access)sqlite3_column_int(s, 5);
	db_col_text(s, 6, c->home, sizeof(c->home));
	c->created_ms = sqlite3_column_int64(s, 7);
	c->updated_ms = sqlite3_column_int64(s, 8);
	c->primary = strcmp(c->home, st->pool) == 0;
}

#define CONF_COLS "id, organizer, subject, start, end, access, home, created," \
	" updated"

int
conf_find(struct store *st, const char *id, struct store_conf *c)
{
	sqlite3_stmt *s;
	int r;

	if (conf_id_ok(id) != 0)
		return (-1);
	if ((s = db_stmt(st, "SELECT " CONF_COLS " FROM conferences"
	    " WHERE id = ?")) == NULL)
		return (-1);
	db_bind_text(s, 1, id);
	if ((r = sqlite3_step(s)) == SQLITE_DONE) {
		pp_err(PP_ENOENT, "unknown conference %s", id);
		return (-1);
	}
	if (r != SQLITE_ROW)
		return (db_fail(st, "conference lookup"));
	conf_row(st, s, c);
	sqlite3_reset(s);
	return (0);
}

int
conf_writable(struct store *st, const char *id)
{
	struct store_conf c;

	if (conf_find(st, id, &c) != 0)
		return (-1);
	return (db_home_writable(st, c.home, "conference"));
}

int
conf_exists(struct store *st, const char *id)
{
	struct store_conf c;

	return (conf_find(st, id, &c));
}

int
conf_write(struct store *st, const struct store_conf *c, int replace)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, replace ? "INSERT OR REPLACE INTO conferences"
	    " VALUES(?,?,?,?,?,?,?,?,?)" : "INSERT INTO conferences"
	    " VALUES(?,?,?,?,?,?,?,?,?)")) == NULL)
		return (-1);
	db_bind_text(s, 1, c->id);
	db_bind_text(s, 2, c->organizer);
	db_bind_text(s, 3, c->subject);
	sqlite3_bind_int64(s, 4, c->start);
	sqlite3_bind_int64(s, 5, c->end);
	sqlite3_bind_int(s, 6, (int)c->access);
	db_bind_text(s, 7, c->home);
	sqlite3_bind_int64(s, 8, c->created_ms);
	sqlite3_bind_int64(s, 9, c->updated_ms);
	return (db_done(st, s, replace ? "replica conference" :
	    "conference create"));
}

int
conf_fields_ok(const struct store_conf *c)
{

	if (c->subject[0] != '\0' &&
	    util_text_ok(c->subject, PP_SUBJECT_MAX, "subject") != 0)
		return (-1);
	/* Compare before subtracting: no overflow whatever the input. */
	if (c->start < 0 || c->start > CONF_MAX_TIME || c->end <= c->start ||
	    c->end > CONF_MAX_TIME || c->end - c->start > CONF_MAX_SPAN) {
		pp_err(PP_EINVAL, "a conference must start after 1970, end "
		    "after it starts, within a year, before the year 10000");
		return (-1);
	}
	if ((unsigned)c->access > STORE_ACCESS_INVITED) {
		pp_err(PP_EINVAL, "unknown access");
		return (-1);
	}
	return (0);
}

int
store_conf_create(struct store *st, struct store_conf *c)
{
	uint8_t rnd[PP_CONF_ID_LEN / 2];
	char norm[PP_URI_MAX + 1];
	struct store_user u;
	int64_t now = util_now_ms();
	int rc = -1;

	if (conf_fields_ok(c) != 0 || db_wbegin(st) != 0)
		return (-1);
	if (db_user_find(st, c->organizer, norm, &u) != 0 ||
	    db_home_writable(st, u.home, norm) != 0)
		goto out;
	memcpy(c->organizer, norm, sizeof(norm));
	if (crypto_random(rnd, sizeof(rnd)) != 0)
		goto out;
	util_hex(c->id, rnd, sizeof(rnd));
	snprintf(c->home, sizeof(c->home), "%s", st->pool);
	c->primary = 1;
	c->created_ms = c->updated_ms = now;
	if (conf_write(st, c, 0) != 0 ||
	    jrnl_append(st, STORE_MOD_USERDATA, "conf", c->id, NULL,
	    "put") != 0)
		goto out;
	rc = 0;
out:
	return (db_wend(st, rc));
}

int
store_conf_get(struct store *st, const char *id, struct store_conf *out)
{
	int rc;

	if (db_rbegin(st) != 0)
		return (-1);
	rc = conf_find(st, id, out);
	db_rend(st);
	return (rc);
}

int
store_conf_del(struct store *st, const char *id)
{
	sqlite3_stmt *s;
	int rc = -1;

	if (db_wbegin(st) != 0)
		return (-1);
	if (conf_writable(st, id) != 0 || content_del_conf(st, id) != 0)
		goto out;
	if ((s = db_stmt(st, "DELETE FROM conferences WHERE id = ?")) == NULL)
		goto out;
	db_bind_text(s, 1, id);
	if (db_done(st, s, "conference delete") != 0 ||
	    jrnl_append(st, STORE_MOD_USERDATA, "conf", id, NULL, "del") != 0)
		goto out;
	rc = 0;
out:
	return (db_wend(st, rc));
}

int
store_conf_list(struct store *st, const char *organizer, store_conf_cb *cb,
    void *arg)
{
	char norm[PP_URI_MAX + 1];
	struct store_conf c;
	struct store_user u;
	sqlite3_stmt *s;
	int rc = -1, r;

	if (db_rbegin(st) != 0)
		return (-1);
	if (organizer != NULL) {
		if (db_user_find(st, organizer, norm, &u) != 0)
			goto out;
		s = db_stmt(st, "SELECT " CONF_COLS " FROM conferences"
		    " WHERE organizer = ? ORDER BY start, id");
		if (s != NULL)
			db_bind_text(s, 1, norm);
	} else
		s = db_stmt(st, "SELECT " CONF_COLS " FROM conferences"
		    " ORDER BY start, id");
	if (s == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		conf_row(st, s, &c);
		if (cb(arg, &c) != 0)
			goto out;
	}
	if (r != SQLITE_DONE) {
		db_fail(st, "conference list");
		goto out;
	}
	rc = 0;
out:
	db_rend(st);
	return (rc);
}
