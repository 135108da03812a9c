/*
 * fileio.h: whole small files: bounded reads that check what kind of file is
 * being read (and, for secrets, its owner and mode), and atomic writes
 * (temporary file, fsync, rename or link, fsync of the directory).
 */
#ifndef PP_FILEIO_H
#define PP_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* fileio_read flags. */
#define FILEIO_SECRET	1	/* must be owned by us, no group/other bits */
#define FILEIO_TRUSTED	2	/* owned by us or root, not group/other-writable */

/*
 * Read the regular file ${path} (symbolic links followed) into a new buffer
 * if it holds 1..${max} bytes; set ${buf} (caller frees, with fileio_free
 * when it is secret) and ${len}.  With FILEIO_SECRET in ${flags}, refuse a
 * file that group or others may access or that another user owns; with
 * FILEIO_TRUSTED, one that group or others may write or that a user other
 * than us or root owns (it says what to trust).  ${what}
 * names the file in errors ("key file").  Returns 0, or -1 with PP_EIO
 * (missing, unreadable, not a regular file, empty), PP_ELIMIT (over ${max})
 * or PP_EKEY (a loose or foreign file) recorded.
 */
int fileio_read(const char *path, size_t max, int flags, uint8_t **buf,
    size_t *len, const char *what);

/* Wipe ${len} bytes of ${buf} and free it; NULL does nothing. */
void fileio_free(uint8_t *buf, size_t len);

/*
 * Write ${len} bytes of ${buf} to ${path} with mode ${mode}, atomically: a
 * temporary file beside it is written, synced and then renamed over ${path}
 * (${replace} nonzero) or linked to it (${replace} zero: an existing
 * ${path} is kept and PP_EEXIST recorded); the directory is synced last.
 * Returns 0, or -1 with PP_EEXIST or PP_EIO recorded; nothing is left
 * behind on failure.
 */
int fileio_write(const char *path, const void *buf, size_t len, mode_t mode,
    int replace);

/*
 * Make directory ${dir} with mode 0700 unless it is already a directory.
 * Returns 0, or -1 with PP_EIO recorded.
 */
int fileio_mkdir(const char *dir);

/*
 * Join ${dir} and ${name} into ${out} (${outlen} bytes) as "dir/name".
 * Returns 0, or -1 with PP_EINVAL recorded when it does not fit.
 */
int fileio_join(char *out, size_t outlen, const char *dir, const char *name);

/*
 * Remove ${path} on a thread of its own, detached, so that the caller (an
 * event loop) does not wait for it: removing a file of gigabytes can take
 * the better part of a second (its extents freed, and discarded where the
 * filesystem is mounted with discard: 0.6 s for 2.8 GB on the benchmarks'
 * machine).  Removes it at once if no thread can be started.  Only for a
 * name no one will create again while the thread runs.  No error: the
 * caller cleans up what is left at its next start.
 */
void fileio_unlink_bg(const char *path);

/*
 * A file written once front to back and read at most once soon after (a
 * stage, a spool): keep its page-cache footprint small, so that its writes
 * reuse pages just freed rather than take pages never used.  On a VM whose
 * free memory goes back to the host, a never-used page faults in the host
 * first: on the machine the benchmarks run on, writing into such pages
 * cost about three times the system time of writing into reused ones
 * (docs/store.md).
 *
 * fileio_writeback: start writing back ${fd}'s bytes from *${done} up to
 * ${end} once there are FILEIO_BEHIND_STEP of them (no wait; the pages are
 * then clean for fileio_drop_behind soon); *${done} moves to ${end}.
 * fileio_drop_behind: drop from the page cache ${fd}'s pages from *${done}
 * to FILEIO_BEHIND_LAG short of ${pos}, once there are FILEIO_BEHIND_STEP
 * of them; a page not yet clean stays (the kernel skips it).  The bytes
 * stay in the file: a later read goes to the disk.  Neither reports an
 * error: both are hints.
 */
#define FILEIO_BEHIND_STEP	((off_t)8 << 20)
#define FILEIO_BEHIND_LAG	((off_t)32 << 20)
void fileio_writeback(int fd, off_t *done, off_t end);
void fileio_drop_behind(int fd, off_t *done, off_t pos);

/*
 * fileio_punch_behind: a file written and read once, whose bytes will
 * never be read again once read (a spool its only reader has read): free
 * ${fd}'s bytes (and their pages, written back or not: a dirty page goes
 * without being written) from *${done}, but not below ${keep}, up to
 * ${pos} rounded down to FILEIO_BEHIND_STEP, once there are that many;
 * they read as zeros after.  ${fd} must be open for writing.  Returns 1
 * if it freed some, 0 if not yet, -1 (errno) if the filesystem cannot
 * (EOPNOTSUPP) or the call failed; *${done} moves only when it freed.
 */
int fileio_punch_behind(int fd, off_t *done, off_t pos, off_t keep);

/*
 * fileio_drop_read: the ${len} bytes at ${off} of ${fd} (a file of ${size}
 * bytes) were just read and will not be read again soon: drop from the page
 * cache the pages of the FILEIO_FOLIO_MAX blocks the read finished with,
 * from the one ${off} falls in up to the one its end falls in, or to the
 * end of the file if the read reached it.  Whole blocks because the page
 * cache holds a file in folios of up to FILEIO_FOLIO_MAX, naturally aligned,
 * and keeps a folio that a dropped range covers only in part.  For bulk
 * reads of files read front to back in pieces (an export reading packs):
 * read-ahead then reuses pages just freed.  A hint: no error.
 */
#define FILEIO_FOLIO_MAX	((off_t)2 << 20)
void fileio_drop_read(int fd, off_t off, size_t len, off_t size);

#endif
