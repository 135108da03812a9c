/*
 * fileio.c: bounded whole-file reads and atomic whole-file writes, and
 * the hints and helpers for large files written and read once (see
 * fileio.h).
 */
#include <sys/stat.h>

#include <linux/falloc.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "err.h"
#include "fileio.h"
#include "util.h"

/*
 * Check that ${sb} (of ${path}) is private to this user (FILEIO_SECRET) or
 * that only this user or root can change it (FILEIO_TRUSTED).
 */
static int
owner_ok(const struct stat *sb, int flags, const char *path, const char *what)
{

	if ((flags & FILEIO_TRUSTED) && (sb->st_mode & 022) != 0) {
		pp_err(PP_EKEY, "%s %s is writable by group or others (mode "
		    "%04o): chmod go-w %s", what, path,
		    (unsigned)(sb->st_mode & 07777), path);
		return (-1);
	}
	if ((flags & FILEIO_TRUSTED) && sb->st_uid != geteuid() &&
	    sb->st_uid != 0) {
		pp_err(PP_EKEY, "%s %s is owned by uid %u, neither this user "
		    "(uid %u) nor root", what, path, (unsigned)sb->st_uid,
		    (unsigned)geteuid());
		return (-1);
	}
	if (!(flags & FILEIO_SECRET))
		return (0);
	if ((sb->st_mode & 077) != 0) {
		pp_err(PP_EKEY, "%s %s is readable or writable by group or "
		    "others (mode %04o): chmod 600 %s", what, path,
		    (unsigned)(sb->st_mode & 07777), path);
		return (-1);
	}
	if (sb->st_uid != geteuid()) {
		pp_err(PP_EKEY, "%s %s is owned by uid %u, not by this user "
		    "(uid %u)", what, path, (unsigned)sb->st_uid,
		    (unsigned)geteuid());
		return (-1);
	}
	return (0);
}

int
fileio_read(const char *path, size_t max, int flags, uint8_t **buf,
    size_t *len, const char *what)
{
	struct stat sb;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		pp_errp(PP_EIO, "cannot open %s %s", what, path);
		goto err0;
	}
	if (fstat(fd, &sb) != 0) {
		pp_errp(PP_EIO, "cannot stat %s %s", what, path);
		goto err1;
	}
	if (!S_ISREG(sb.st_mode)) {
		pp_err(PP_EIO, "%s %s is not a regular file", what, path);
		goto err1;
	}
	if (owner_ok(&sb, flags, path, what) != 0)
		goto err1;
	if ((uintmax_t)sb.st_size > max) {
		pp_err(PP_ELIMIT, "%s %s is larger than %zu bytes", what, path,
		    max);
		goto err1;
	}
	if (util_read_fd(fd, max, buf, len, what) != 0)
		goto err1;
	if (*len == 0) {
		free(*buf);
		pp_err(PP_EIO, "%s %s is empty", what, path);
		goto err1;
	}
	close(fd);
	return (0);

err1:
	close(fd);
err0:
	return (-1);
}

void
fileio_free(uint8_t *buf, size_t len)
{

	if (buf == NULL)
		return;
	OPENSSL_cleanse(buf, len);
	free(buf);
}

/* fsync the directory holding ${path}, so that a new name in it lasts. */
static int
sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else if ((size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	} else {
		pp_err(PP_EIO, "path %.64s... is too long", path);
		return (-1);
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		pp_errp(PP_EIO, "cannot open directory %s", dir);
		return (-1);
	}
	if ((rc = fsync(fd)) != 0)
		pp_errp(PP_EIO, "cannot sync directory %s", dir);
	close(fd);
	return (rc == 0 ? 0 : -1);
}

/* Put the written temporary ${tmp} in place as ${path}. */
static int
install(const char *tmp, const char *path, int replace)
{

	if (replace) {
		if (rename(tmp, path) != 0) {
			pp_errp(PP_EIO, "cannot rename %s to %s", tmp, path);
			return (-1);
		}
		return (0);
	}
	/* link(2) never replaces: an existing file stays as it was. */
	if (link(tmp, path) != 0) {
		if (errno == EEXIST)
			pp_err(PP_EEXIST, "%s already exists", path);
		else
			pp_errp(PP_EIO, "cannot create %s", path);
		return (-1);
	}
	unlink(tmp);
	return (0);
}

int
fileio_write(const char *path, const void *buf, size_t len, mode_t mode,
    int replace)
{
	char tmp[PATH_MAX];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    sizeof(tmp)) {
		pp_err(PP_EIO, "path %.64s... is too long", path);
		goto err0;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		pp_errp(PP_EIO, "cannot create a temporary file for %s", path);
		goto err0;
	}
	if (fchmod(fd, mode) != 0) {
		pp_errp(PP_EIO, "cannot set the mode of %s", tmp);
		goto err1;
	}
	if (util_write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
		pp_errp(PP_EIO, "cannot write %s", tmp);
		goto err1;
	}
	if (close(fd) != 0) {
		pp_errp(PP_EIO, "cannot write %s", tmp);
		goto err2;
	}
	if (install(tmp, path, replace) != 0)
		goto err2;
	return (sync_parent(path));

err1:
	close(fd);
err2:
	unlink(tmp);
err0:
	return (-1);
}

int
fileio_mkdir(const char *dir)
{
	struct stat sb;

	if (mkdir(dir, 0700) == 0)
		return (0);
	if (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
		return (0);
	pp_errp(PP_EIO, "cannot create directory %s", dir);
	return (-1);
}

int
fileio_join(char *out, size_t outlen, const char *dir, const char *name)
{

	if ((size_t)snprintf(out, outlen, "%s/%s", dir, name) >= outlen) {
		pp_err(PP_EINVAL, "path %.64s/%s is too long", dir, name);
		return (-1);
	}
	return (0);
}

static void *
unlink_main(void *arg)
{

	(void)unlink(arg);
	free(arg);
	return (NULL);
}

void
fileio_unlink_bg(const char *path)
{
	pthread_attr_t at;
	pthread_t t;
	char *p;
	int rc = -1;

	if ((p = strdup(path)) == NULL) {
		(void)unlink(path);
		return;
	}
	if (pthread_attr_init(&at) == 0) {
		if (pthread_attr_setdetachstate(&at,
		    PTHREAD_CREATE_DETACHED) == 0)
			rc = pthread_create(&t, &at, unlink_main, p);
		pthread_attr_destroy(&at);
	}
	if (rc != 0) {
		(void)unlink(p);
		free(p);
	}
}

void
fileio_writeback(int fd, off_t *done, off_t end)
{

	if (end - *done < FILEIO_BEHIND_STEP)
		return;
	(void)sync_file_range(fd, *done, end - *done, SYNC_FILE_RANGE_WRITE);
	*done = end;
}

void
fileio_drop_behind(int fd, off_t *done, off_t pos)
{
	off_t upto = pos - FILEIO_BEHIND_LAG;

	if (upto - *done < FILEIO_BEHIND_STEP)
		return;
	(void)posix_fadvise(fd, *done, upto - *done, POSIX_FADV_DONTNEED);
	*done = upto;
}

int
fileio_punch_behind(int fd, off_t *done, off_t pos, off_t keep)
{
	off_t lo = *done > keep ? *done : keep;
	off_t hi = pos - pos % FILEIO_BEHIND_STEP;

	if (hi - lo < FILEIO_BEHIND_STEP)
		return (0);
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, lo,
	    hi - lo) != 0)
		return (-1);
	*done = hi;
	return (1);
}

void
fileio_drop_read(int fd, off_t off, size_t len, off_t size)
{
	off_t lo = off - off % FILEIO_FOLIO_MAX, hi = off + (off_t)len;

	if (hi >= size)
		(void)posix_fadvise(fd, lo, 0, POSIX_FADV_DONTNEED);
	else if ((hi -= hi % FILEIO_FOLIO_MAX) > lo)
		(void)posix_fadvise(fd, lo, hi - lo, POSIX_FADV_DONTNEED);
}
