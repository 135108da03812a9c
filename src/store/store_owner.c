/*
 * store_owner.c: who may write each user set.  A pool is home to a set of
 * users; normally it alone writes them.  A failover hands the set to the
 * partner under a higher epoch; the home pool, learning of it (the owner
 * record replicates first), is fenced: read-only for its own users.  A
 * failback hands it back under a higher epoch still.  Every write checks
 * here (db_home_writable).
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "store_int.h"
#include "util.h"

static const char *const modes[] = { "Normal", "FailedOver", "FailingBack" };

const char *
store_mode_name(enum store_mode m)
{

	return ((unsigned)m <= STORE_MODE_FAILINGBACK ? modes[m] : "?");
}

/* The owner of ${home} (default: itself, epoch 1, Normal). */
int
owner_find(struct store *st, const char *home, struct store_owner *o)
{
	sqlite3_stmt *s;
	int r;

	memset(o, 0, sizeof(*o));
	snprintf(o->home, sizeof(o->home), "%s", home);
	snprintf(o->owner, sizeof(o->owner), "%s", home);
	o->epoch = 1;
	if ((s = db_stmt(st, "SELECT owner, epoch, mode, changed, lsn_ud,"
	    " lsn_cc, master FROM owners WHERE home = ?")) == NULL)
		return (-1);
	db_bind_text(s, 1, home);
	if ((r = sqlite3_step(s)) == SQLITE_ROW) {
		db_col_text(s, 0, o->owner, sizeof(o->owner));
		o->epoch = sqlite3_column_int64(s, 1);
		o->mode = (enum store_mode)sqlite3_column_int(s, 2);
		o->changed_ms = sqlite3_column_int64(s, 3);
		o->lsn[0] = sqlite3_column_int64(s, 4);
		o->lsn[1] = sqlite3_column_int64(s, 5);
		o->master = sqlite3_column_int(s, 6);
		r = sqlite3_step(s);
	}
	sqlite3_reset(s);
	if (r != SQLITE_DONE)
		return (db_fail(st, "owner lookup"));
	return (0);
}

int
store_owner_get(struct store *st, const char *home, struct store_owner *out)
{
	int rc;

	if (util_fqdn_ok(home) != 0 || db_rbegin(st) != 0)
		return (-1);
	rc = owner_find(st, home, out);
	db_rend(st);
	return (rc);
}

int
store_owner_list(struct store *st, store_owner_cb *cb, void *arg)
{
	struct store_owner o;
	char home[PP_FQDN_MAX + 1];
	sqlite3_stmt *s;
	int rc = -1, r, seen = 0;

	if (db_rbegin(st) != 0)
		return (-1);
	if ((s = db_stmt(st, "SELECT home FROM owners ORDER BY home")) == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		db_col_text(s, 0, home, sizeof(home));
		seen |= strcmp(home, st->pool) == 0;
	}
	sqlite3_reset(s);
	if (r != SQLITE_DONE) {
		db_fail(st, "owner list");
		goto out;
	}
	/* This pool's own set first, recorded or not. */
	if (owner_find(st, st->pool, &o) != 0 || cb(arg, &o) != 0)
		goto out;
	if ((s = db_stmt(st, "SELECT home FROM owners WHERE home <> ?"
	    " ORDER BY home")) == NULL)
		goto out;
	db_bind_text(s, 1, st->pool);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		db_col_text(s, 0, home, sizeof(home));
		/* A statement of its own walks; owner_find uses another. */
		if (owner_find(st, home, &o) != 0 || cb(arg, &o) != 0) {
			sqlite3_reset(s);
			goto out;
		}
	}
	sqlite3_reset(s);
	(void)seen;
	rc = r == SQLITE_DONE ? 0 : db_fail(st, "owner list");
out:
	db_rend(st);
	return (rc);
}

/* Write the row of ${o}; with ${o}->master, move the config master too. */
int
owner_write(struct store *st, const struct store_owner *o)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, "INSERT OR REPLACE INTO owners"
	    " VALUES(?,?,?,?,?,?,?,?)")) == NULL)
		return (-1);
	db_bind_text(s, 1, o->home);
	db_bind_text(s, 2, o->owner);
	sqlite3_bind_int64(s, 3, o->epoch);
	sqlite3_bind_int(s, 4, (int)o->mode);
	sqlite3_bind_int64(s, 5, o->changed_ms);
	sqlite3_bind_int64(s, 6, o->lsn[0]);
	sqlite3_bind_int64(s, 7, o->lsn[1]);
	sqlite3_bind_int(s, 8, o->master);
	if (db_done(st, s, "owner") != 0)
		return (-1);
	if (!o->master)
		return (0);
	if ((s = db_stmt(st, "UPDATE meta SET v = ? WHERE k = 'config_master'"))
	    == NULL)
		return (-1);
	db_bind_text(s, 1, o->owner);
	return (db_done(st, s, "config master"));
}

/* Check that ${o} may follow ${cur}: a higher epoch, or a mode change. */
int
owner_follows(const struct store_owner *cur, const struct store_owner *o)
{

	if (o->epoch > cur->epoch)
		return (1);
	return (o->epoch == cur->epoch && strcmp(o->owner, cur->owner) == 0 &&
	    o->mode != cur->mode);
}

int
store_owner_set(struct store *st, const struct store_owner *o)
{
	struct store_owner cur, row = *o;
	int rc = -1;

	if (util_fqdn_ok(o->home) != 0 || util_fqdn_ok(o->owner) != 0 ||
	    (unsigned)o->mode > STORE_MODE_FAILINGBACK)
		return (-1);
	if (db_wbegin(st) != 0)
		return (-1);
	if (owner_find(st, o->home, &cur) != 0)
		goto out;
	if (!owner_follows(&cur, o)) {
		pp_err(PP_EINVAL, "the user set of %s is owned by %s at epoch "
		    "%lld (%s): epoch %lld does not follow", o->home,
		    cur.owner, (long long)cur.epoch, store_mode_name(cur.mode),
		    (long long)o->epoch);
		goto out;
	}
	row.changed_ms = util_now_ms();
	if (owner_write(st, &row) != 0 ||
	    jrnl_append(st, STORE_MOD_USERDATA, "owner", o->home, NULL,
	    "put") != 0)
		goto out;
	rc = 0;
out:
	return (db_wend(st, rc));
}
