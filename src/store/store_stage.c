/*
 * store_stage.c: staging the sealed chunks of one upload before the store's
 * write lock is taken, so a slow upload (a pipe, a network peer) never holds
 * the lock that every writer of the pool needs.
 *
 * The new chunks of an upload are sealed and appended to a private file
 * chunks/stage-XXXXXX (flock'ed while in use, so compaction can tell a
 * leftover from a live one), synced, and only then does the metadata
 * transaction run.  In it the staged bytes become part of the store: a
 * large stage is renamed into a pack of its own, a small one is copied into
 * the shared current pack so that small items do not each make a file.
 * Nothing on disk is ever plaintext.
 *
 * A stage larger than one buffer (a package's, a large upload) is written
 * around the page cache (O_DIRECT, in whole blocks; the last part of a
 * block waits in the next buffer) where the filesystem allows it: its
 * bytes are not read again soon, and on a machine whose free pages go back
 * to the host, putting them in the page cache costs more CPU than the
 * disk's own transfer (docs/store.md).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "store_int.h"
#include "util.h"

#define STAGE_BUF	(1 << 20)	/* appends are written in 1 MiB runs */
#define STAGE_INLINE	(1 << 20)	/* stages up to this are copied */
#define STAGE_ALIGN	4096		/* O_DIRECT: offsets, lengths, memory */
/* A buffer: a run, after up to a block carried over from the last one. */
#define STAGE_CAP	(STAGE_BUF + STAGE_ALIGN)

/*
 * Two buffers: the caller fills one while a writer thread writes the other,
 * so the copy into the page cache overlaps with sealing.
 */
struct stage {
	struct store *st;
	int fd;
	int dfd;		/* the same file, O_DIRECT; -1 if not allowed */
	char path[PATH_MAX + 64];
	uint8_t *buf[2];
	size_t len;		/* bytes in buf[cur], not yet handed over */
	int cur;
	int64_t size;		/* bytes staged, written or buffered */
	off_t bufoff;		/* where buf[cur]'s first byte goes */
	pthread_t thread;
	int started;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	size_t wlen;		/* bytes of buf[!cur] the writer is to write */
	size_t wdirect;		/* ... the first of them through dfd */
	off_t woff;		/* where the writer's next bytes go */
	int busy, stop, werr;	/* werr: the writer's errno, 0 if none */
	int nodirect;		/* the writer found O_DIRECT refused */
	int adopted;		/* renamed into a pack: not ours to remove */
	off_t dropped;		/* the writer's: page cache dropped below */
};

/* Write ${len} bytes of ${p} at ${off} of ${fd}; errno if short. */
static int
write_at(int fd, const uint8_t *p, size_t len, off_t off)
{
	ssize_t n;

	while (len > 0) {
		if ((n = pwrite(fd, p, len, off)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = EIO;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return (0);
}

static void *
stage_writer(void *arg)
{
	struct stage *sg = arg;
	const uint8_t *p;
	size_t len, dlen;
	off_t off;
	int rc, nodirect = 0;

	(void)pthread_setname_np(pthread_self(), "pp-stager");
	pthread_mutex_lock(&sg->mtx);
	for (;;) {
		while (!sg->busy && !sg->stop)
			pthread_cond_wait(&sg->cv, &sg->mtx);
		if (!sg->busy)
			break;
		p = sg->buf[!sg->cur];
		len = sg->wlen;
		dlen = sg->wdirect;
		off = sg->woff;
		pthread_mutex_unlock(&sg->mtx);
		/* Whole blocks around the page cache, unless refused. */
		rc = 0;
		if (dlen > 0 && (rc = write_at(sg->dfd, p, dlen, off)) != 0 &&
		    errno == EINVAL) {
			nodirect = 1;
			rc = 0;
			dlen = 0;
		}
		if (rc == 0 && len > dlen) {
			rc = write_at(sg->fd, p + dlen, len - dlen,
			    off + (off_t)dlen);
			/*
			 * Start writeback now, off the caller's path, so the
			 * final fdatasync finds little left to wait for.
			 */
			if (rc == 0) {
				(void)sync_file_range(sg->fd, off + (off_t)dlen,
				    (off_t)(len - dlen), SYNC_FILE_RANGE_WRITE);
				/* A large stage reuses its own pages. */
				fileio_drop_behind(sg->fd, &sg->dropped,
				    off + (off_t)len);
			}
		}
		pthread_mutex_lock(&sg->mtx);
		sg->woff += (off_t)len;
		if (rc != 0 && sg->werr == 0)
			sg->werr = errno != 0 ? errno : EIO;
		sg->nodirect |= nodirect;
		sg->busy = 0;
		pthread_cond_broadcast(&sg->cv);
	}
	pthread_mutex_unlock(&sg->mtx);
	return (NULL);
}

/* Wait until the writer is idle; report its error if it had one. */
static int
stage_wait(struct stage *sg)
{
	int err;

	pthread_mutex_lock(&sg->mtx);
	while (sg->busy)
		pthread_cond_wait(&sg->cv, &sg->mtx);
	err = sg->werr;
	pthread_mutex_unlock(&sg->mtx);
	if (err != 0) {
		errno = err;
		pp_errp(PP_ESTORE, "store %s: cannot write %s", sg->st->dir,
		    sg->path);
		return (-1);
	}
	return (0);
}

struct stage *
stage_open(struct store *st)
{
	struct stage *sg;

	if ((sg = calloc(1, sizeof(*sg))) == NULL)
		goto nomem;
	sg->st = st;
	sg->fd = sg->dfd = -1;
	pthread_mutex_init(&sg->mtx, NULL);
	pthread_cond_init(&sg->cv, NULL);
	if (posix_memalign((void **)&sg->buf[0], STAGE_ALIGN, STAGE_CAP) != 0 ||
	    posix_memalign((void **)&sg->buf[1], STAGE_ALIGN, STAGE_CAP) != 0)
		goto nomem;
	snprintf(sg->path, sizeof(sg->path), "%s/%s/stage-XXXXXX", st->dir,
	    STORE_PACKDIR);
	if ((sg->fd = mkstemp(sg->path)) < 0) {
		pp_errp(PP_ESTORE, "store %s: cannot create %s", st->dir,
		    sg->path);
		goto err;
	}
	if (flock(sg->fd, LOCK_EX) != 0) {
		pp_errp(PP_ESTORE, "store %s: cannot lock %s", st->dir,
		    sg->path);
		goto err;
	}
	/* Not every filesystem takes O_DIRECT (some tmpfs): then buffered. */
	sg->dfd = open(sg->path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (pthread_create(&sg->thread, NULL, stage_writer, sg) != 0) {
		pp_err(PP_EINTERNAL, "cannot start the stage writer");
		goto err;
	}
	sg->started = 1;
	return (sg);
nomem:
	pp_err(PP_EINTERNAL, "out of memory");
err:
	stage_free(sg);
	return (NULL);
}

/*
 * Hand the current buffer to the writer and switch to the other one.  Once
 * a stage is larger than a buffer (not ${last}), its whole blocks go
 * around the page cache and the part of the last block stays behind, at
 * the start of the next buffer; ${last} hands over every byte.
 */
static int
stage_flush(struct stage *sg, int last)
{
	size_t keep = 0, wlen;
	int direct;

	if (sg->len == 0)
		return (0);
	if (stage_wait(sg) != 0)
		return (-1);
	pthread_mutex_lock(&sg->mtx);
	direct = sg->dfd >= 0 && !sg->nodirect && (!last || sg->bufoff > 0);
	if (direct && !last)
		keep = (size_t)((sg->bufoff + (off_t)sg->len) % STAGE_ALIGN);
	sg->wlen = wlen = sg->len - keep;
	sg->wdirect = direct ? wlen - wlen % STAGE_ALIGN : 0;
	sg->cur = !sg->cur;
	sg->busy = 1;
	pthread_cond_broadcast(&sg->cv);
	pthread_mutex_unlock(&sg->mtx);
	/* (The writer only reads buf[!cur] too, and not these bytes.) */
	memcpy(sg->buf[sg->cur], sg->buf[!sg->cur] + wlen, keep);
	sg->bufoff += (off_t)wlen;
	sg->len = keep;
	return (0);
}

uint8_t *
stage_reserve(struct stage *sg, size_t len, int64_t *off)
{
	uint8_t *p;

	if (len > STAGE_BUF) {
		pp_err(PP_EINTERNAL, "stage append of %zu bytes", len);
		return (NULL);
	}
	if (sg->len + len > STAGE_CAP && stage_flush(sg, 0) != 0)
		return (NULL);
	*off = sg->size;
	p = sg->buf[sg->cur] + sg->len;
	sg->len += len;
	sg->size += (int64_t)len;
	return (p);
}

int
stage_sync(struct stage *sg)
{

	if (stage_flush(sg, 1) != 0 || stage_wait(sg) != 0)
		return (-1);
	if (sg->size > 0 && fdatasync(sg->fd) != 0) {
		pp_errp(PP_ESTORE, "store %s: cannot sync %s", sg->st->dir,
		    sg->path);
		return (-1);
	}
	return (0);
}

/* Copy the stage into the current pack; ${base} is where it starts. */
static int
stage_copy(struct stage *sg, int64_t *pack, int64_t *base)
{
	int64_t done = 0, p, o;
	ssize_t n;
	size_t want;

	while (done < sg->size) {
		want = (size_t)(sg->size - done) < STAGE_BUF ?
		    (size_t)(sg->size - done) : STAGE_BUF;
		if ((n = pread(sg->fd, sg->buf[0], want, done)) !=
		    (ssize_t)want) {
			pp_errp(PP_ESTORE, "store %s: cannot read %s",
			    sg->st->dir, sg->path);
			return (-1);
		}
		if (pack_append(sg->st, sg->buf[0], want, &p, &o) != 0)
			return (-1);
		if (done == 0) {
			*pack = p;
			*base = o;
		}
		done += (int64_t)want;
	}
	return (0);
}

int
stage_adopt(struct stage *sg, int64_t *pack, int64_t *base, int *counted)
{
	char path[PATH_MAX + 64];
	sqlite3_stmt *s;

	*pack = *base = 0;
	*counted = 0;
	if (sg->size == 0)
		return (0);
	if (sg->size <= STAGE_INLINE) {
		/* pack_append counts what it appends as live. */
		*counted = 1;
		return (stage_copy(sg, pack, base));
	}
	if ((s = db_stmt(sg->st, "INSERT INTO packs(live) VALUES(0)")) == NULL ||
	    db_done(sg->st, s, "pack create") != 0)
		return (-1);
	*pack = sqlite3_last_insert_rowid(sg->st->db);
	snprintf(path, sizeof(path), "%s/%s/pack-%06lld", sg->st->dir,
	    STORE_PACKDIR, (long long)*pack);
	/* Recorded first, so a rollback removes it whatever happens. */
	if (pack_adopted(sg->st, *pack) != 0)
		return (-1);
	if (rename(sg->path, path) != 0) {
		pp_errp(PP_ESTORE, "store %s: cannot rename %s", sg->st->dir,
		    sg->path);
		return (-1);
	}
	/* From here the file is the pack: stage_free must not remove it. */
	sg->adopted = 1;
	return (pack_dir_sync(sg->st));
}

void
stage_rehome(struct stage *sg, struct store *st)
{

	sg->st = st;
}

int64_t
stage_size(const struct stage *sg)
{

	return (sg->size);
}

void
stage_free(struct stage *sg)
{

	if (sg == NULL)
		return;
	if (sg->started) {
		pthread_mutex_lock(&sg->mtx);
		sg->stop = 1;
		pthread_cond_broadcast(&sg->cv);
		pthread_mutex_unlock(&sg->mtx);
		pthread_join(sg->thread, NULL);
	}
	if (sg->fd >= 0) {
		/* A stage never adopted as a pack is only dead bytes. */
		if (!sg->adopted)
			unlink(sg->path);
		else
			/*
			 * A new pack, synced, is not read again soon; its
			 * pages serve the next stage better, warm (as
			 * fileio_drop_behind's do; docs/store.md).
			 */
			(void)posix_fadvise(sg->fd, 0, 0, POSIX_FADV_DONTNEED);
		close(sg->fd);
	}
	if (sg->dfd >= 0)
		close(sg->dfd);
	free(sg->buf[0]);
	free(sg->buf[1]);
	pthread_mutex_destroy(&sg->mtx);
	pthread_cond_destroy(&sg->cv);
	free(sg);
}
