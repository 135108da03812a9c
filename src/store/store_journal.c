/*
 * store_journal.c: reading the journal, and the store's counts and sizes.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "store_int.h"

int
store_journal_list(struct store *st, int all, enum store_module module,
    int64_t since, size_t limit, store_jrec_cb *cb, void *arg)
{
	struct store_jrec r;
	sqlite3_stmt *s;
	int rc = -1, st_rc, kind, nent = 0;

	while (jrnl_entities[nent] != NULL)
		nent++;

	if (!all && (unsigned)module >= STORE_NMOD) {
		pp_err(PP_EINVAL, "unknown module");
		return (-1);
	}
	if (db_rbegin(st) != 0)
		return (-1);
	if ((s = db_stmt(st, "SELECT seq >> 48, seq & 281474976710655, epoch,"
	    " kind, k1, k2, ts FROM journal WHERE seq >= ?1 AND seq < ?2"
	    " AND (seq & 281474976710655) > ?3 ORDER BY seq LIMIT ?4")) ==
	    NULL)
		goto out;
	sqlite3_bind_int64(s, 1, all ? 0 : JRNL_SEQ(module, 0));
	sqlite3_bind_int64(s, 2, all ? JRNL_SEQ(STORE_NMOD, 0) :
	    JRNL_SEQ(module + 1, 0));
	sqlite3_bind_int64(s, 3, since);
	sqlite3_bind_int64(s, 4, limit > 0 ? (int64_t)limit : -1);
	while ((st_rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.module = (enum store_module)sqlite3_column_int(s, 0);
		r.lsn = sqlite3_column_int64(s, 1);
		r.epoch = sqlite3_column_int64(s, 2);
		kind = sqlite3_column_int(s, 3);
		if (kind < 0 || kind / 2 >= nent) {
			pp_err(PP_ESTORE, "store %s is corrupted (journal "
			    "record kind %d)", st->dir, kind);
			goto out;
		}
		snprintf(r.entity, sizeof(r.entity), "%s",
		    jrnl_entities[kind / 2]);
		snprintf(r.op, sizeof(r.op), "%s", kind % 2 ? "del" : "put");
		db_col_text(s, 4, r.k1, sizeof(r.k1));
		db_col_text(s, 5, r.k2, sizeof(r.k2));
		r.ts_ms = sqlite3_column_int64(s, 6);
		if (cb(arg, &r) != 0)
			goto out;
	}
	if (st_rc != SQLITE_DONE) {
		db_fail(st, "journal list");
		goto out;
	}
	rc = 0;
out:
	db_rend(st);
	return (rc);
}

/* Size of file ${name} in the store's directory, 0 if absent. */
static int64_t
file_size(struct store *st, const char *name)
{
	char path[PATH_MAX + 32];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", st->dir, name);
	return (stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0);
}

int
store_stats(struct store *st, struct store_stats *out)
{
	char name[64];
	sqlite3_stmt *s;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (db_rbegin(st) != 0)
		return (-1);
	if ((s = db_stmt(st, "SELECT (SELECT count(*) FROM users),"
	    " (SELECT count(*) FROM contacts),"
	    " (SELECT count(*) FROM conferences),"
	    " (SELECT count(*) FROM content),"
	    " (SELECT count(*) FROM chunks),"
	    " (SELECT coalesce(sum(size), 0) FROM chunks),"
	    " (SELECT count(*) FROM journal)")) == NULL)
		goto out;
	if (sqlite3_step(s) != SQLITE_ROW) {
		db_fail(st, "stats");
		goto out;
	}
	out->users = sqlite3_column_int64(s, 0);
	out->contacts = sqlite3_column_int64(s, 1);
	out->conferences = sqlite3_column_int64(s, 2);
	out->content_items = sqlite3_column_int64(s, 3);
	out->chunks = sqlite3_column_int64(s, 4);
	out->chunk_bytes = sqlite3_column_int64(s, 5);
	out->journal_records = sqlite3_column_int64(s, 6);
	out->db_bytes = file_size(st, STORE_DB) + file_size(st, STORE_DB "-wal");
	if ((s = db_stmt(st, "SELECT id FROM packs")) == NULL)
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(name, sizeof(name), "%s/pack-%06lld", STORE_PACKDIR,
		    (long long)sqlite3_column_int64(s, 0));
		out->pack_bytes += file_size(st, name);
	}
	rc = 0;
out:
	db_rend(st);
	return (rc);
}
