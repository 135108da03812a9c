/*
 * store_upload.c: taking in the bytes of one content item in two phases.
 *
 * upload_read, before the write lock: reads the input to its end (chunking
 * and hashing on the ingest thread), looks up each chunk, and seals and
 * stages the chunks the store does not hold yet (store_stage.c); the stage
 * is synced there, or by the caller later (a put queue's committer).
 * upload_commit, inside the write transaction: adopts the stage and takes a
 * reference to every chunk, inserting the new ones.  A chunk that was held
 * at the first phase but was deleted before the second makes the upload
 * fail with PP_EAGAIN: its bytes were not kept, and the caller may retry.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ingest.h"
#include "store_int.h"

#define LOOKUP_RUN	64	/* chunk lookups in one read transaction */

/* Record chunk ${id}, staged at ${off} (-1: held already), ${len} bytes. */
static int
upload_add(struct upload *u, const uint8_t *id, int64_t off, uint32_t len)
{
	size_t cap;
	void *a, *b, *c;

	if (u->n == u->cap) {
		cap = u->cap ? u->cap * 2 : 256;
		a = realloc(u->ids, cap * CRYPTO_HASH_LEN);
		if (a != NULL)
			u->ids = a;
		b = realloc(u->off, cap * sizeof(*u->off));
		if (b != NULL)
			u->off = b;
		c = realloc(u->len, cap * sizeof(*u->len));
		if (c != NULL)
			u->len = c;
		if (a == NULL || b == NULL || c == NULL) {
			pp_err(PP_EINTERNAL, "out of memory");
			return (-1);
		}
		u->cap = cap;
	}
	memcpy(u->ids + u->n * CRYPTO_HASH_LEN, id, CRYPTO_HASH_LEN);
	u->off[u->n] = off;
	u->len[u->n] = len;
	u->n++;
	return (0);
}

int
upload_read(struct store *st, int fd, struct upload *u, int sync)
{
	uint8_t id[CRYPTO_HASH_LEN], *sealed;
	const uint8_t *p;
	struct ingest *in = NULL;
	int64_t off;
	size_t len, run = 0;
	int r, held, rc = -1;

	if ((u->sg = stage_open(st)) == NULL ||
	    (in = ingest_start(fd, PP_CONTENT_MAX)) == NULL)
		goto out;
	for (;;) {
		/*
		 * Lookups share a read transaction, LOOKUP_RUN at most: one
		 * BEGIN and one lock for many chunks.  It ends before any wait
		 * for input, so a slow upload never pins a snapshot (and so
		 * the WAL, which a checkpoint could not then reset).
		 */
		if (run > 0 && (run == LOOKUP_RUN || !ingest_ready(in))) {
			db_rend(st);
			run = 0;
		}
		if ((r = ingest_next(in, &p, &len, id)) != 1) {
			if (run > 0)
				db_rend(st);
			run = 0;
			break;
		}
		if (run++ == 0 && db_rbegin(st) != 0)
			goto out;
		if ((held = store_chunk_has(st, id)) < 0)
			goto out;
		/*
		 * A new chunk that the item committing ahead of this one
		 * (a put queue's) staged: wait for that commit and look
		 * again, rather than stage it a second time.
		 */
		if (!held && u->ahead != NULL && u->ahead->has(u->ahead->arg,
		    id)) {
			db_rend(st);
			u->ahead->wait(u->ahead->arg);
			u->ahead = NULL;
			run = 1;	/* a new read run, from this lookup */
			if (db_rbegin(st) != 0 ||
			    (held = store_chunk_has(st, id)) < 0)
				goto out;
		}
		off = -1;
		/* Sealed straight into the stage's buffer. */
		if (!held && ((sealed = stage_reserve(u->sg,
		    len + CRYPTO_SEAL_OVERHEAD, &off)) == NULL ||
		    crypto_aead_seal(st->aead, id, CRYPTO_HASH_LEN, p, len,
		    sealed) != 0))
			goto out;
		if (upload_add(u, id, off,
		    (uint32_t)(len + CRYPTO_SEAL_OVERHEAD)) != 0)
			goto out;
	}
	if (r < 0 || (sync && stage_sync(u->sg) != 0))
		goto out;
	ingest_result(in, u->sha256, &u->size);
	rc = 0;
out:
	if (run > 0)
		db_rend(st);
	ingest_free(in);
	return (rc);
}

/*
 * Insert chunk ${i} of ${u}, staged, now at ${pack} from ${base}, unless
 * the store holds it already (then ${added} is 0).
 */
static int
chunk_insert(struct store *st, struct upload *u, size_t i, int64_t pack,
    int64_t base, int *added)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, "INSERT OR IGNORE INTO chunks(id, refs, size,"
	    " pack, off, len) VALUES(?, 1, ?, ?, ?, ?)")) == NULL)
		return (-1);
	sqlite3_bind_blob(s, 1, u->ids + i * CRYPTO_HASH_LEN, CRYPTO_HASH_LEN,
	    SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)u->len[i] - CRYPTO_SEAL_OVERHEAD);
	sqlite3_bind_int64(s, 3, pack);
	sqlite3_bind_int64(s, 4, base + u->off[i]);
	sqlite3_bind_int64(s, 5, (int64_t)u->len[i]);
	if (db_done(st, s, "chunk store") != 0)
		return (-1);
	*added = sqlite3_changes(st->db) > 0;
	return (0);
}

/* Take one more reference to chunk ${i} of ${u}; ${held}: it exists. */
static int
chunk_ref(struct store *st, struct upload *u, size_t i, int *held)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, "UPDATE chunks SET refs = refs + 1"
	    " WHERE id = ?")) == NULL)
		return (-1);
	sqlite3_bind_blob(s, 1, u->ids + i * CRYPTO_HASH_LEN, CRYPTO_HASH_LEN,
	    SQLITE_STATIC);
	if (db_done(st, s, "chunk reference") != 0)
		return (-1);
	*held = sqlite3_changes(st->db) > 0;
	return (0);
}

int
upload_commit(struct store *st, struct upload *u)
{
	int64_t pack, base, live = 0, dead = 0;
	size_t i;
	int counted, added, held;

	if (stage_adopt(u->sg, &pack, &base, &counted) != 0)
		return (-1);
	for (i = 0; i < u->n; i++) {
		/* Staged: insert it, unless it arrived meanwhile. */
		if (u->off[i] >= 0) {
			if (chunk_insert(st, u, i, pack, base, &added) != 0)
				return (-1);
			if (added) {
				live += u->len[i];
				u->nnew++;
				continue;
			}
			dead += u->len[i];
		}
		if (chunk_ref(st, u, i, &held) != 0)
			return (-1);
		if (!held) {
			pp_err(PP_EAGAIN, "a chunk this upload shares with other "
			    "content was deleted meanwhile; put it again");
			return (-1);
		}
	}
	/* pack_append counted an inline copy as live already. */
	if (pack != 0 && (counted ? dead : live) != 0 &&
	    pack_live(st, pack, counted ? -dead : live) != 0)
		return (-1);
	return (0);
}

void
upload_free(struct upload *u)
{

	stage_free(u->sg);
	free(u->ids);
	free(u->off);
	free(u->len);
	memset(u, 0, sizeof(*u));
}
