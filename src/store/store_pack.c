/*
 * store_pack.c: pack files, where sealed content chunks live.
 *
 * A chunk's sealed bytes are appended to DATA/chunks/pack-NNNNNN; its row in
 * table chunks (in the same SQLite transaction as the item that uses it)
 * says where.  Appends happen only while the store's write lock is held, are
 * made durable (fdatasync) before the transaction commits, and are cut off
 * again if it rolls back, so a chunk is never visible before its bytes are
 * on disk and a crash leaves at most dead bytes at a pack's tail.  Keeping
 * chunks out of the database means each content byte is written once, not
 * twice (WAL, then checkpoint).  Space freed by deletions is reclaimed by
 * store_compact.
 */
#include <sys/stat.h>

#include <sys/file.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "store_int.h"
#include "util.h"

#define PACK_MAX	(256LL << 20)	/* start a new pack past this size */
#define PACK_WBUF	(1 << 20)	/* appends are written in 1 MiB runs */

static void
pack_path(struct store *st, int64_t id, char *out, size_t len)
{

	snprintf(out, len, "%s/%s/pack-%06lld", st->dir, STORE_PACKDIR,
	    (long long)id);
}

/* The slot of st->rfd with a read descriptor for pack ${id}; -1 on failure. */
static int
pack_rfd(struct store *st, int64_t id)
{
	char path[PATH_MAX + 64];
	struct stat sb;
	size_t i, slot = 0;

	for (i = 0; i < STORE_NPACKFD; i++) {
		if (st->rfd[i].fd >= 0 && st->rfd[i].id == id)
			return ((int)i);
		if (st->rfd[i].fd < 0)
			slot = i;
	}
	if (st->rfd[slot].fd >= 0) {
		slot = (size_t)id % STORE_NPACKFD;
		close(st->rfd[slot].fd);
	}
	pack_path(st, id, path, sizeof(path));
	if ((st->rfd[slot].fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(st->rfd[slot].fd, &sb) != 0) {
		pp_errp(PP_ESTORE, "store %s is damaged: cannot open pack %s",
		    st->dir, path);
		if (st->rfd[slot].fd >= 0)
			close(st->rfd[slot].fd);
		st->rfd[slot].fd = -1;
		return (-1);
	}
	st->rfd[slot].id = id;
	st->rfd[slot].size = (int64_t)sb.st_size;
	return ((int)slot);
}

/* Write out the append buffer.  Returns 0 or -1. */
static int
pack_flush(struct store *st)
{

	if (st->wlen == 0)
		return (0);
	if (pwrite(st->wfd, st->wbuf, st->wlen, st->wbase) !=
	    (ssize_t)st->wlen) {
		pp_errp(PP_ESTORE, "store %s: cannot write pack %06lld",
		    st->dir, (long long)st->wpack);
		return (-1);
	}
	st->wbase += (int64_t)st->wlen;
	st->wlen = 0;
	return (0);
}

/* Open the pack appends go to in this transaction. */
static int
pack_wopen(struct store *st)
{
	char path[PATH_MAX + 64];
	struct stat sb;
	sqlite3_stmt *s;
	int64_t id = 0;

	if ((s = db_stmt(st, "SELECT max(id) FROM packs")) == NULL)
		return (-1);
	if (sqlite3_step(s) != SQLITE_ROW)
		return (db_fail(st, "pack lookup"));
	id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	pack_path(st, id, path, sizeof(path));
	if (id == 0 || st->wfresh ||
	    (stat(path, &sb) == 0 && sb.st_size >= PACK_MAX)) {
		if ((s = db_stmt(st, "INSERT INTO packs(live) VALUES(0)")) ==
		    NULL)
			return (-1);
		if (db_done(st, s, "pack create") != 0)
			return (-1);
		id = sqlite3_last_insert_rowid(st->db);
		pack_path(st, id, path, sizeof(path));
	}
	/* Everything that can fail before the descriptor is ours. */
	if (st->wbuf == NULL && (st->wbuf = malloc(PACK_WBUF)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	st->wcreated = stat(path, &sb) != 0;
	if ((st->wfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0 || fstat(st->wfd, &sb) != 0) {
		pp_errp(PP_ESTORE, "store %s: cannot open pack %s", st->dir,
		    path);
		if (st->wfd >= 0)
			close(st->wfd);
		st->wfd = -1;
		return (-1);
	}
	st->wpack = id;
	st->wstart = st->wbase = (int64_t)sb.st_size;
	st->wlen = 0;
	st->wlive = 0;
	return (0);
}

int
pack_append(struct store *st, const uint8_t *buf, size_t len, int64_t *pack,
    int64_t *off)
{

	if (st->wfd < 0 && pack_wopen(st) != 0)
		return (-1);
	if (st->wlen + len > PACK_WBUF && pack_flush(st) != 0)
		return (-1);
	*pack = st->wpack;
	*off = st->wbase + (int64_t)st->wlen;
	memcpy(st->wbuf + st->wlen, buf, len);
	st->wlen += len;
	st->wlive += (int64_t)len;
	return (0);
}

int
pack_read(struct store *st, int64_t pack, int64_t off, uint8_t *buf,
    size_t len)
{
	ssize_t n;
	int fd, slot;

	/* A chunk appended in this transaction may still be buffered. */
	if (st->wfd >= 0 && pack == st->wpack && pack_flush(st) != 0)
		return (-1);
	if ((slot = pack_rfd(st, pack)) < 0)
		return (-1);
	fd = st->rfd[slot].fd;
	if ((n = pread(fd, buf, len, off)) != (ssize_t)len) {
		if (n < 0)
			pp_errp(PP_ESTORE, "store %s: cannot read pack "
			    "%06lld", st->dir, (long long)pack);
		else
			pp_err(PP_ESTORE, "store %s is damaged: pack %06lld "
			    "is short", st->dir, (long long)pack);
		return (-1);
	}
	if (off + (int64_t)len > st->rfd[slot].size)
		st->rfd[slot].size = off + (int64_t)len;
	if (st->read_once)
		fileio_drop_read(fd, (off_t)off, len,
		    (off_t)st->rfd[slot].size);
	return (0);
}

int
pack_dir_sync(struct store *st)
{
	char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", st->dir, STORE_PACKDIR);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(fd) != 0) {
		pp_errp(PP_ESTORE, "store %s: cannot sync %s", st->dir, path);
		if (fd >= 0)
			close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

int
pack_adopted(struct store *st, int64_t pack)
{
	int64_t *p;
	size_t cap;

	if (st->nadopted == st->cadopted) {
		cap = st->cadopted ? 2 * st->cadopted : 16;
		if ((p = realloc(st->adopted, cap * sizeof(*p))) == NULL) {
			pp_err(PP_EINTERNAL, "out of memory");
			return (-1);
		}
		st->adopted = p;
		st->cadopted = cap;
	}
	st->adopted[st->nadopted++] = pack;
	return (0);
}

/* Close the cached read descriptor of pack ${id}, if any. */
static void
pack_rfd_drop(struct store *st, int64_t id)
{
	size_t i;

	for (i = 0; i < STORE_NPACKFD; i++) {
		if (st->rfd[i].fd >= 0 && st->rfd[i].id == id) {
			close(st->rfd[i].fd);
			st->rfd[i].fd = -1;
		}
	}
}

int
pack_live(struct store *st, int64_t pack, int64_t delta)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, "UPDATE packs SET live = live + ? WHERE id = ?"))
	    == NULL)
		return (-1);
	sqlite3_bind_int64(s, 1, delta);
	sqlite3_bind_int64(s, 2, pack);
	return (db_done(st, s, "pack accounting"));
}

int
pack_precommit(struct store *st)
{

	if (st->wfd < 0)
		return (0);
	if (pack_flush(st) != 0)
		return (-1);
	if (fdatasync(st->wfd) != 0) {
		pp_errp(PP_ESTORE, "store %s: cannot sync pack %06lld",
		    st->dir, (long long)st->wpack);
		return (-1);
	}
	/* A pack created in this transaction needs its name durable too. */
	if (st->wcreated && pack_dir_sync(st) != 0)
		return (-1);
	st->wcreated = 0;
	if (st->wlive != 0 && pack_live(st, st->wpack, st->wlive) != 0)
		return (-1);
	st->wlive = 0;
	return (0);
}

void
pack_end(struct store *st, int committed)
{
	char path[PATH_MAX + 64];
	size_t i;

	/*
	 * Packs adopted from stages by a rolled-back transaction go too, and
	 * so do cached descriptors of packs it created: the rollback also
	 * rolls back the pack counter, so their numbers come round again.
	 */
	for (i = 0; i < st->nadopted; i++) {
		if (committed)
			break;
		pack_path(st, st->adopted[i], path, sizeof(path));
		unlink(path);
		pack_rfd_drop(st, st->adopted[i]);
	}
	st->nadopted = 0;
	if (st->wfd < 0)
		return;
	if (!committed)
		pack_rfd_drop(st, st->wpack);
	st->wcreated = 0;
	/* Cut off what a rolled-back transaction appended. */
	if (!committed && ftruncate(st->wfd, st->wstart) != 0)
		(void)0;	/* dead bytes stay; compaction drops them */
	close(st->wfd);
	st->wfd = -1;
	st->wlen = 0;
}

void
pack_close_all(struct store *st)
{
	size_t i;

	pack_end(st, 0);
	for (i = 0; i < STORE_NPACKFD; i++) {
		if (st->rfd[i].fd >= 0)
			close(st->rfd[i].fd);
		st->rfd[i].fd = -1;
	}
	free(st->wbuf);
	st->wbuf = NULL;
	free(st->adopted);
	st->adopted = NULL;
	st->nadopted = st->cadopted = 0;
}

/* Move the live chunks of pack ${id} to the current pack. */
static int
compact_pack(struct store *st, int64_t id, struct store_compact *out)
{
	uint8_t ids[256][CRYPTO_HASH_LEN];
	int64_t off[256], len[256], npack, noff;
	uint8_t *buf = NULL;
	sqlite3_stmt *s;
	int n, i, rc = -1;

	if ((buf = malloc(STORE_SEALED_MAX)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	do {
		if ((s = db_stmt(st, "SELECT id, off, len FROM chunks"
		    " WHERE pack = ? LIMIT 256")) == NULL)
			goto out;
		sqlite3_bind_int64(s, 1, id);
		for (n = 0; n < 256 && sqlite3_step(s) == SQLITE_ROW; n++) {
			if (sqlite3_column_bytes(s, 0) != CRYPTO_HASH_LEN) {
				sqlite3_reset(s);
				pp_err(PP_ESTORE, "store %s is corrupted (chunk "
				    "id)", st->dir);
				goto out;
			}
			memcpy(ids[n], sqlite3_column_blob(s, 0),
			    CRYPTO_HASH_LEN);
			off[n] = sqlite3_column_int64(s, 1);
			len[n] = sqlite3_column_int64(s, 2);
		}
		sqlite3_reset(s);
		for (i = 0; i < n; i++) {
			if (len[i] < 0 || len[i] > STORE_SEALED_MAX) {
				pp_err(PP_ESTORE, "store %s is corrupted (chunk "
				    "length)", st->dir);
				goto out;
			}
			if (pack_read(st, id, off[i], buf, (size_t)len[i]) != 0 ||
			    pack_append(st, buf, (size_t)len[i], &npack,
			    &noff) != 0)
				goto out;
			if ((s = db_stmt(st, "UPDATE chunks SET pack = ?,"
			    " off = ? WHERE id = ?")) == NULL)
				goto out;
			sqlite3_bind_int64(s, 1, npack);
			sqlite3_bind_int64(s, 2, noff);
			sqlite3_bind_blob(s, 3, ids[i], CRYPTO_HASH_LEN,
			    SQLITE_STATIC);
			if (db_done(st, s, "chunk move") != 0)
				goto out;
			out->chunks_moved++;
			out->bytes_moved += len[i];
		}
	} while (n == 256);
	if ((s = db_stmt(st, "DELETE FROM packs WHERE id = ?")) == NULL)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	rc = db_done(st, s, "pack delete");
out:
	free(buf);
	return (rc);
}

/* Is ${name} "pack-NNNNNN"?  Sets ${id}. */
static int
pack_name(const char *name, int64_t *id)
{
	char *end;

	if (strncmp(name, "pack-", 5) != 0 || strlen(name) != 11)
		return (0);
	*id = strtoll(name + 5, &end, 10);
	return (*end == '\0' && *id > 0);
}

/* Does the packs table hold ${id}?  1, 0, or -1 on error. */
static int
pack_known(struct store *st, int64_t id)
{
	sqlite3_stmt *s;
	int r;

	if ((s = db_stmt(st, "SELECT 1 FROM packs WHERE id = ?")) == NULL)
		return (-1);
	sqlite3_bind_int64(s, 1, id);
	r = sqlite3_step(s);
	sqlite3_reset(s);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return (db_fail(st, "pack lookup"));
	return (r == SQLITE_ROW);
}

/* Is ${name} in the chunks directory garbage: an unlocked stage or a pack
 * no row names?  1, 0, or -1 on error. */
static int
pack_garbage(struct store *st, const char *name, const char *path)
{
	struct stat sb;
	int64_t id;
	int fd, k;

	if (pack_name(name, &id))
		return ((k = pack_known(st, id)) < 0 ? -1 : !k);
	if (strncmp(name, "stage-", 6) != 0)
		return (0);
	/*
	 * A stage in use is locked by its upload; one just made may not be
	 * locked yet, so a stage must also be a minute old to go.
	 */
	if (stat(path, &sb) != 0 || sb.st_mtime > time(NULL) - 60)
		return (0);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return (0);
	k = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return (k);
}

/*
 * Remove the files of the chunks directory that nothing uses: packs whose
 * rows are gone and stages whose uploads are over.  Runs under the write
 * lock (no writer is between creating a pack file and committing its row).
 */
static int
compact_sweep(struct store *st, struct store_compact *out)
{
	char path[PATH_MAX + 320];
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int rc = -1, g = 0;

	if (db_wbegin(st) != 0)
		return (-1);
	snprintf(path, sizeof(path), "%s/%s", st->dir, STORE_PACKDIR);
	if ((d = opendir(path)) == NULL) {
		pp_errp(PP_ESTORE, "store %s: cannot read %s", st->dir, path);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s/%s", st->dir,
		    STORE_PACKDIR, de->d_name);
		if ((g = pack_garbage(st, de->d_name, path)) < 0)
			break;
		if (g == 1 && stat(path, &sb) == 0 && unlink(path) == 0) {
			out->bytes_removed += (int64_t)sb.st_size;
			out->files_removed++;
		}
	}
	closedir(d);
	rc = g < 0 ? -1 : 0;
out:
	/* Nothing was written: ending the transaction just drops the lock. */
	return (db_wend(st, rc));
}

int
store_compact(struct store *st, struct store_compact *out)
{
	char path[PATH_MAX + 64];
	int64_t ids[64], id, live;
	struct stat sb;
	sqlite3_stmt *s;
	int n = 0, i, rc = -1, busy = 1;

	memset(out, 0, sizeof(*out));
	if (st->batch) {
		pp_err(PP_EINTERNAL, "compaction cannot run inside a batch");
		return (-1);
	}
	if (db_wbegin(st) != 0)
		return (-1);
	if ((s = db_stmt(st, "SELECT id, live FROM packs ORDER BY id")) == NULL)
		goto out;
	while (n < 64 && sqlite3_step(s) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		live = sqlite3_column_int64(s, 1);
		out->packs++;
		pack_path(st, id, path, sizeof(path));
		/* Worth rewriting when at least half of it is dead. */
		if (stat(path, &sb) == 0 && live * 2 <= (int64_t)sb.st_size)
			ids[n++] = id;
	}
	sqlite3_reset(s);
	/* Live chunks move to a new pack, never to one being emptied. */
	st->wfresh = 1;
	for (i = 0; i < n; i++)
		if (compact_pack(st, ids[i], out) != 0)
			goto out;
	out->packs_rewritten = n;
	rc = 0;
out:
	st->wfresh = 0;
	if (db_wend(st, rc) != 0)
		return (-1);
	pack_close_all(st);
	/*
	 * Readers in other processes may still work from a snapshot that
	 * names the old packs.  A RESTART checkpoint waits (busy timeout)
	 * until every reader has moved past our commit; only then may the
	 * old files go.  If it cannot, they stay for the next compaction.
	 */
	if (sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_RESTART,
	    NULL, NULL) == SQLITE_OK)
		busy = 0;
	out->deferred = busy;
	if (!busy && compact_sweep(st, out) != 0)
		return (-1);
	/* Net: what the removed files held less what the moves wrote. */
	out->bytes_freed = out->bytes_removed > out->bytes_moved ?
	    out->bytes_removed - out->bytes_moved : 0;
	return (0);
}
