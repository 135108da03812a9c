/*
 * admin_client.c: the admin socket's client side: a blocking call (connect,
 * write one request line, poll for one response line) for the poolpair CLI,
 * and the socket path and address that both sides use.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "err.h"
#include "util.h"

_Static_assert(ADMIN_PATH_MAX == sizeof(((struct sockaddr_un *)0)->sun_path),
    "ADMIN_PATH_MAX must be the size of sun_path");

int
admin_sock_path(char out[static ADMIN_PATH_MAX], const char *data)
{
	int n;

	n = snprintf(out, ADMIN_PATH_MAX, "%s/%s", data, ADMIN_SOCK_NAME);
	if (n < 0 || n >= ADMIN_PATH_MAX) {
		pp_err(PP_ELIMIT, "the admin socket path %.200s/%s is over %d "
		    "bytes: use a shorter data directory", data,
		    ADMIN_SOCK_NAME, ADMIN_PATH_MAX - 1);
		return (-1);
	}
	return (0);
}

int
admin_sockaddr(struct sockaddr_un *sun, const char *path)
{
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(sun->sun_path)) {
		pp_err(PP_ELIMIT, "admin socket path '%.200s' is empty or over "
		    "%zu bytes", path, sizeof(sun->sun_path) - 1);
		return (-1);
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	return (0);
}

/* Record why connecting to ${path} failed (errno set by connect). */
static void
connect_err(const char *path)
{
	char dir[ADMIN_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int e = errno;

	/* DATA: the socket's directory ("." or "/" at the ends). */
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	if (e == ENOENT)
		pp_err(PP_EIO, "poolpaird is not running for %s (no %s)", dir,
		    path);
	else if (e == ECONNREFUSED)
		pp_err(PP_EIO, "poolpaird is not running for %s (nothing "
		    "listens on %s)", dir, path);
	else if (e == EAGAIN)
		pp_err(PP_EIO, "poolpaird is busy: %s has no room for another "
		    "connection", path);
	else {
		errno = e;
		pp_errp(PP_EIO, "cannot connect to %s", path);
	}
}

/* A non-blocking stream socket connected to ${path}, or -1. */
static int
sock_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	if (admin_sockaddr(&sun, path) != 0)
		return (-1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0) {
		pp_errp(PP_EIO, "socket");
		return (-1);
	}
	/* A UNIX socket connects at once or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		connect_err(path);
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Wait until ${fd} is ready for ${events} or ${deadline} (monotonic ms,
 * < 0: none) passes.  Returns 0, or -1 with the error recorded.
 */
static int
sock_wait(int fd, short events, int64_t deadline, const char *path)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int n;

	do {
		left = deadline < 0 ? -1 : deadline - util_mono_ms();
		if (deadline >= 0 && left <= 0) {
			pp_err(PP_EIO, "poolpaird did not answer on %s in time "
			    "(timeout)", path);
			return (-1);
		}
		n = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
	} while (n == 0 || (n < 0 && errno == EINTR));
	if (n < 0) {
		pp_errp(PP_EIO, "poll on %s", path);
		return (-1);
	}
	return (0);
}

/* Write all ${len} bytes of ${buf} to ${fd} before ${deadline}. */
static int
sock_send(int fd, const char *buf, size_t len, int64_t deadline,
    const char *path)
{
	ssize_t n;

	while (len > 0) {
		if (sock_wait(fd, POLLOUT, deadline, path) != 0)
			return (-1);
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			pp_errp(PP_EIO, "cannot send to poolpaird on %s", path);
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/*
 * Read one line from ${fd} into ${buf} (ADMIN_RESP_MAX + 1 bytes) before
 * ${deadline}; set ${len} to its length without the "\n".
 */
static int
sock_readline(int fd, char *buf, size_t *len, int64_t deadline,
    const char *path)
{
	size_t got = 0;
	char *nl;
	ssize_t n;

	for (;;) {
		if (sock_wait(fd, POLLIN, deadline, path) != 0)
			return (-1);
		n = recv(fd, buf + got, ADMIN_RESP_MAX + 1 - got, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			pp_errp(PP_EIO, "cannot read from poolpaird on %s",
			    path);
			return (-1);
		}
		if (n == 0) {
			pp_err(PP_EIO, "poolpaird closed %s without "
			    "answering", path);
			return (-1);
		}
		if ((nl = memchr(buf + got, '\n', (size_t)n)) != NULL) {
			*len = (size_t)(nl - buf);
			return (0);
		}
		got += (size_t)n;
		if (got > ADMIN_RESP_MAX) {
			pp_err(PP_ELIMIT, "poolpaird's response on %s is over "
			    "%d bytes", path, ADMIN_RESP_MAX);
			return (-1);
		}
	}
}

/* Parse response line ${buf} of ${len} bytes into ${resp}. */
static int
resp_parse(const char *buf, size_t len, json_t **resp, const char *path)
{
	json_error_t e;
	json_t *j;

	if ((j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e)) == NULL ||
	    !json_is_object(j)) {
		pp_err(PP_EIO, "poolpaird sent a bad response on %s (%s)",
		    path, j == NULL ? e.text : "not a JSON object");
		json_decref(j);
		return (-1);
	}
	*resp = j;
	return (0);
}

int
admin_call(const char *sock_path, json_t *req, json_t **resp,
    int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? util_mono_ms() + timeout_ms : -1;
	char *line = NULL, *buf = NULL;
	size_t len;
	int fd, rc = -1;

	*resp = NULL;
	if ((line = json_dumps(req, JSON_COMPACT)) == NULL) {
		pp_err(PP_EINTERNAL, "cannot encode the admin request");
		return (-1);
	}
	if ((len = strlen(line)) > ADMIN_LINE_MAX) {
		pp_err(PP_ELIMIT, "admin request over %d bytes",
		    ADMIN_LINE_MAX);
		goto err0;
	}
	line[len] = '\n';	/* json_dumps's NUL: no longer needed */
	if ((buf = malloc(ADMIN_RESP_MAX + 1)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		goto err0;
	}
	if ((fd = sock_connect(sock_path)) < 0)
		goto err1;
	if (sock_send(fd, line, len + 1, deadline, sock_path) != 0 ||
	    sock_readline(fd, buf, &len, deadline, sock_path) != 0 ||
	    resp_parse(buf, len, resp, sock_path) != 0)
		goto err2;
	rc = 0;
err2:
	close(fd);
err1:
	free(buf);
err0:
	free(line);
	return (rc);
}
