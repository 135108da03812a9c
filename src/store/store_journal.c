/*
 * store_journal.c: the journal (appending, in batches of rows, and reading)
 * and the store's counts and sizes.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "store_int.h"
#include "util.h"

/* Journal entities, by their code (journal.kind / 2); never reorder. */
const char *const jrnl_entities[] = { "user", "setting", "group", "contact",
	"conf", "content", "config", "owner", NULL };

/* Bind buffered record ${r} as row ${i} of journal INSERT ${s}. */
static void
jrnl_bind(struct store *st, sqlite3_stmt *s, int i, size_t r)
{
	const struct jrec_buf *j = &st->jbuf[r];
	int b = i * 6;

	sqlite3_bind_int64(s, b + 1, j->seq);
	sqlite3_bind_int64(s, b + 2, j->epoch);
	sqlite3_bind_int(s, b + 3, j->kind);
	sqlite3_bind_text(s, b + 4, j->k1, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, b + 5, j->k2, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, b + 6, j->ts);
}

#define JV	"(?,?,?,?,?,?)"
#define JV2	JV "," JV
#define JV4	JV2 "," JV2
#define JV8	JV4 "," JV4
#define JV16	JV8 "," JV8
#define JV32	JV16 "," JV16
#define JV64	JV32 "," JV32
#define JINS	"INSERT OR REPLACE INTO journal VALUES"
_Static_assert(JRNL_BUF == 64, "the statements below are for 64 rows");

int
jrnl_flush(struct store *st)
{
	/* OR REPLACE cannot abort: no statement journal is kept. */
	static const char *const sql[] = { JINS JV64, JINS JV32, JINS JV16,
		JINS JV8, JINS JV4, JINS JV2, JINS JV };
	int64_t n = 0;

	if (db_insert_rows(st, sql, JRNL_BUF, st->njbuf, jrnl_bind, &n,
	    "journal append") != 0)
		return (-1);
	st->njbuf = 0;
	return (0);
}

/* The epoch and next LSN of ${module} as committed. */
static int
modstate_read(struct store *st, enum store_module module, int64_t *epoch,
    int64_t *next)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, "SELECT epoch, next_lsn FROM modstate"
	    " WHERE module = ?")) == NULL)
		return (-1);
	sqlite3_bind_int(s, 1, (int)module);
	if (sqlite3_step(s) != SQLITE_ROW)
		return (db_fail(st, "journal state"));
	*epoch = sqlite3_column_int64(s, 0);
	*next = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return (0);
}

int
jrnl_append(struct store *st, enum store_module module, const char *entity,
    const char *k1, const char *k2, const char *op)
{
	struct jrec_buf *r;
	int kind;

	if (st->importing)	/* an import writes the replica: no journal */
		return (0);
	if (!st->mod[module].loaded) {
		if (modstate_read(st, module, &st->mod[module].epoch,
		    &st->mod[module].next_lsn) != 0)
			return (-1);
		st->mod[module].loaded = 1;
	}
	for (kind = 0; jrnl_entities[kind] != NULL; kind++)
		if (strcmp(jrnl_entities[kind], entity) == 0)
			break;
	if (jrnl_entities[kind] == NULL) {
		pp_err(PP_EINTERNAL, "journal entity '%s'", entity);
		return (-1);
	}
	if (st->njbuf == JRNL_BUF && jrnl_flush(st) != 0)
		return (-1);
	r = &st->jbuf[st->njbuf++];
	r->seq = JRNL_SEQ(module, st->mod[module].next_lsn);
	r->epoch = st->mod[module].epoch;
	r->kind = kind * 2 + (strcmp(op, "del") == 0);
	snprintf(r->k1, sizeof(r->k1), "%s", k1 != NULL ? k1 : "");
	snprintf(r->k2, sizeof(r->k2), "%s", k2 != NULL ? k2 : "");
	r->ts = util_now_ms();
	st->mod[module].next_lsn++;
	st->mod[module].dirty = 1;
	return (0);
}

int
store_journal_head(struct store *st, enum store_module module,
    int64_t *epoch, int64_t *last_lsn)
{

	if ((unsigned)module >= STORE_NMOD) {
		pp_err(PP_EINVAL, "unknown module");
		return (-1);
	}
	if (st->in_tx && st->mod[module].loaded) {
		*epoch = st->mod[module].epoch;
		*last_lsn = st->mod[module].next_lsn - 1;
		return (0);
	}
	if (modstate_read(st, module, epoch, last_lsn) != 0)
		return (-1);
	(*last_lsn)--;
	return (0);
}

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
	/* Inside a batch the last records may still be buffered. */
	if (st->in_tx && jrnl_flush(st) != 0)
		return (-1);
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
	if ((st->in_tx && jrnl_flush(st) != 0) || db_rbegin(st) != 0)
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
