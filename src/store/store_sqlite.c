/*
 * store_sqlite.c: the SQLite store's statement cache, transactions and the
 * helpers every store file uses.  Creating and opening: store_open.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "err.h"
#include "store_int.h"
#include "util.h"

sqlite3_stmt *
db_stmt(struct store *st, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % STORE_NSTMT, i, slot;
	sqlite3_stmt *s;

	for (i = 0; i < STORE_NSTMT; i++) {
		slot = (h + i) % STORE_NSTMT;
		if (st->stmts[slot].sql == sql) {
			/* Callers bind every parameter: no clear_bindings. */
			s = st->stmts[slot].stmt;
			sqlite3_reset(s);
			return (s);
		}
		if (st->stmts[slot].sql == NULL)
			break;
	}
	if (i == STORE_NSTMT) {
		pp_err(PP_EINTERNAL, "statement cache is full");
		return (NULL);
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &s, NULL) != SQLITE_OK) {
		db_fail(st, "prepare");
		return (NULL);
	}
	st->stmts[slot].sql = sql;
	st->stmts[slot].stmt = s;
	return (s);
}

int
db_insert_rows(struct store *st, const char *const *sql, size_t max,
    size_t n, db_row_bind *bind, int64_t *changes, const char *what)
{
	sqlite3_stmt *s;
	size_t i, j, k, b;

	for (i = 0; i < n; i += k) {
		for (b = 0; (max >> b) > n - i; b++)
			;
		k = max >> b;
		if ((s = db_stmt(st, sql[b])) == NULL)
			return (-1);
		for (j = 0; j < k; j++)
			bind(st, s, (int)j, i + j);
		if (db_done(st, s, what) != 0)
			return (-1);
		*changes += sqlite3_changes64(st->db);
	}
	return (0);
}

int
db_fail(struct store *st, const char *what)
{
	int rc = sqlite3_extended_errcode(st->db) & 0xff;

	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		pp_err(PP_ESTORE, "store %s is corrupted (%s: %s)", st->dir,
		    what, sqlite3_errmsg(st->db));
	else if (rc == SQLITE_FULL)
		pp_err(PP_ESTORE, "store %s: disk full (%s)", st->dir, what);
	else if (rc == SQLITE_BUSY)
		pp_err(PP_ESTORE, "store %s is busy (another writer held it "
		    "too long)", st->dir);
	else
		pp_err(PP_ESTORE, "store %s: %s: %s", st->dir, what,
		    sqlite3_errmsg(st->db));
	return (-1);
}

int
db_done(struct store *st, sqlite3_stmt *s, const char *what)
{

	if (sqlite3_step(s) != SQLITE_DONE)
		return (db_fail(st, what));
	return (0);
}

int
db_has_id(struct store *st, const char *sql, const uint8_t *id,
    const char *what)
{
	sqlite3_stmt *s;
	int r;

	if ((s = db_stmt(st, sql)) == NULL)
		return (-1);
	sqlite3_bind_blob(s, 1, id, CRYPTO_HASH_LEN, SQLITE_STATIC);
	r = sqlite3_step(s);
	/* Reset at once: an open statement would pin a read snapshot. */
	sqlite3_reset(s);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return (db_fail(st, what));
	return (r == SQLITE_ROW);
}

int
db_id_add(struct store *st, const char *sql, const uint8_t *id,
    int64_t delta, const char *what)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, sql)) == NULL)
		return (-1);
	sqlite3_bind_int64(s, 1, delta);
	sqlite3_bind_blob(s, 2, id, CRYPTO_HASH_LEN, SQLITE_STATIC);
	if (db_done(st, s, what) != 0)
		return (-1);
	return (sqlite3_changes(st->db));
}

int
db_bind_text(sqlite3_stmt *s, int i, const char *v)
{

	return (sqlite3_bind_text(s, i, v != NULL ? v : "", -1,
	    SQLITE_STATIC) == SQLITE_OK ? 0 : -1);
}

void
db_col_text(sqlite3_stmt *s, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	size_t n = t != NULL ? (size_t)sqlite3_column_bytes(s, i) : 0;

	/* What snprintf would do, without its cost on a snapshot's rows. */
	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	if (n > 0)
		memcpy(out, t, n);
	out[n] = '\0';
}

/*
 * Reset every cached statement, so that none keeps a read snapshot open
 * between operations (that would block writers and checkpoints).
 */
void
db_reset_all(struct store *st)
{
	size_t i;

	for (i = 0; i < STORE_NSTMT; i++)
		if (st->stmts[i].stmt != NULL)
			sqlite3_reset(st->stmts[i].stmt);
}

int
db_exec(struct store *st, const char *sql)
{

	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return (db_fail(st, sql));
	return (0);
}

int
db_wbegin(struct store *st)
{
	int i;

	/* Another write: the buffered contacts go in first. */
	if ((st->ncb > 0 && !st->cb_keep && contact_flush(st) != 0) ||
	    (st->nsb > 0 && !st->sb_keep && setting_flush(st) != 0))
		return (-1);
	st->cb_prior = st->ncb;
	st->op_changes = sqlite3_total_changes64(st->db);
	st->wlive_op = st->wlive;
	st->wops++;
	if (st->in_tx) {
		/* SQLite ends a transaction itself after some errors. */
		if (sqlite3_get_autocommit(st->db)) {
			st->tx_failed = 1;
			pp_err(PP_ESTORE, "store %s: the batch was rolled back "
			    "after an earlier error", st->dir);
			return (-1);
		}
		return (0);
	}
	st->tx_id++;
	db_reset_all(st);
	if (db_done(st, db_stmt(st, "BEGIN IMMEDIATE"), "begin") != 0)
		return (-1);
	st->in_tx = 1;
	st->tx_failed = 0;
	for (i = 0; i < STORE_NMOD; i++)
		st->mod[i].loaded = st->mod[i].dirty = 0;
	return (0);
}

/* Write back the journal counters and commit.  Returns 0 or -1. */
static int
tx_commit(struct store *st)
{
	sqlite3_stmt *s;
	int i;

	if (contact_flush(st) != 0 || setting_flush(st) != 0 ||
	    jrnl_flush(st) != 0)
		return (-1);
	for (i = 0; i < STORE_NMOD; i++) {
		if (!st->mod[i].dirty)
			continue;
		if ((s = db_stmt(st, "UPDATE modstate SET next_lsn = ?"
		    " WHERE module = ?")) == NULL)
			return (-1);
		sqlite3_bind_int64(s, 1, st->mod[i].next_lsn);
		sqlite3_bind_int(s, 2, i);
		if (db_done(st, s, "journal counter") != 0)
			return (-1);
	}
	if (pack_precommit(st) != 0)
		return (-1);
	db_reset_all(st);
	if (db_done(st, db_stmt(st, "COMMIT"), "commit") != 0)
		return (-1);
	st->in_tx = 0;
	for (i = 0; i < STORE_NMOD; i++)
		if (st->mod[i].dirty)
			st->written[i] = st->mod[i].next_lsn - 1;
	pack_end(st, 1);
	return (0);
}

void
store_written(const struct store *st, int64_t lsn[STORE_NMOD])
{

	memcpy(lsn, st->written, sizeof(st->written));
}

void
tx_rollback(struct store *st)
{
	sqlite3_stmt *s;

	if (!st->in_tx)
		return;
	db_reset_all(st);
	if ((s = db_stmt(st, "ROLLBACK")) != NULL)
		(void)sqlite3_step(s);
	st->in_tx = st->batch = st->tx_failed = 0;
	st->njbuf = st->ncb = st->cb_used = st->cb_prior = 0;
	st->nsb = st->sb_used = 0;
	pack_end(st, 0);
}

int
db_wend(struct store *st, int rc)
{

	if (st->batch) {
		if (rc != 0 &&
		    (sqlite3_total_changes64(st->db) != st->op_changes ||
		    sqlite3_get_autocommit(st->db)))
			st->tx_failed = 1;
		/* A refused operation's pack bytes are dead, not live. */
		if (rc != 0 && !st->tx_failed)
			st->wlive = st->wlive_op;
		return (rc);
	}
	if (rc == 0 && tx_commit(st) == 0)
		return (0);
	tx_rollback(st);
	return (-1);
}

int
db_rbegin(struct store *st)
{

	/* A read in a batch sees the rows buffered so far. */
	if ((st->ncb > 0 && contact_flush(st) != 0) ||
	    (st->nsb > 0 && setting_flush(st) != 0))
		return (-1);
	if (st->in_tx || st->in_read)
		return (0);
	db_reset_all(st);
	return (db_done(st, db_stmt(st, "BEGIN"), "begin"));
}

void
db_rend(struct store *st)
{
	sqlite3_stmt *s;

	if (st->in_tx || st->in_read)
		return;
	db_reset_all(st);
	if ((s = db_stmt(st, "COMMIT")) != NULL)
		(void)sqlite3_step(s);
}

int
store_begin(struct store *st)
{

	if (st->in_tx) {
		pp_err(PP_EINTERNAL, "a batch is already open");
		return (-1);
	}
	if (db_wbegin(st) != 0)
		return (-1);
	st->batch = 1;
	return (0);
}

int
store_commit(struct store *st)
{

	if (!st->batch) {
		pp_err(PP_EINTERNAL, "no batch is open");
		return (-1);
	}
	if (st->tx_failed) {
		tx_rollback(st);
		pp_err(PP_ESTORE, "a write in the batch failed part-way; the "
		    "whole batch was rolled back");
		return (-1);
	}
	st->batch = 0;
	if (tx_commit(st) != 0) {
		tx_rollback(st);
		return (-1);
	}
	return (0);
}

void
store_rollback(struct store *st)
{

	tx_rollback(st);
}

int
db_home_writable(struct store *st, const char *home, const char *what)
{
	struct store_owner o;

	if (owner_find(st, home, &o) != 0)
		return (-1);
	if (st->importing) {
		if (strcmp(o.owner, st->import_src) == 0)
			return (0);
		pp_err(PP_EROFS, "%s belongs to the user set of %s, which %s "
		    "owns (epoch %lld), not %s", what, home, o.owner,
		    (long long)o.epoch, st->import_src);
		return (-1);
	}
	if (strcmp(o.owner, st->pool) == 0 && o.mode != STORE_MODE_FAILINGBACK)
		return (0);
	if (strcmp(o.owner, st->pool) == 0)
		pp_err(PP_EROFS, "%s is read-only here: the users of %s are "
		    "being handed over to the partner (epoch %lld)", what,
		    home, (long long)o.epoch);
	else if (strcmp(home, st->pool) == 0)
		pp_err(PP_EROFS, "%s is read-only here: this pool is fenced; "
		    "its users are owned by %s since a failover (epoch %lld)",
		    what, o.owner, (long long)o.epoch);
	else
		pp_err(PP_EROFS, "%s belongs to pool %s; this pool (%s) holds "
		    "a read-only replica", what, home, st->pool);
	return (-1);
}
