/*
 * fuzz_admin_server.c: libFuzzer harness for the admin socket's server side
 * as a local client speaks it: the real admin_server (line framing, JSON
 * parsing, one request at a time, pending requests) on the daemon of
 * fuzz_daemon.h, whose handler is the daemon's own (ops_handle: status,
 * sync, wait, verify, failover).  The input:
 *
 *   byte 0    flags: FUZZ_D_* of fuzz_daemon.h (master, links up, fenced,
 *             replica)
 *   the rest  what the client writes on the socket; it reads every
 *             response, then closes
 *
 * Properties: the handler gets only JSON objects with a string "cmd"; the
 * client gets one response line per request line, in order, each a JSON
 * object with a boolean "ok" (and a string "error" when false), and a line
 * that is not such a request gets "bad request"; at the end no package is
 * open and no descriptor leaked (fuzz_daemon_end).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "admin.h"
#include "err.h"
#include "fuzz_daemon.h"
#include "fuzz_keys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROUNDS	64	/* settle passes waiting for the responses */

static struct daemon *d;
static struct admin_server *srv;
static char sock[ADMIN_PATH_MAX];
static size_t nhandled;

/* The handler: the server's contract, then the daemon's own. */
static void
handler(void *arg, struct admin_req *r, json_t *req)
{

	if (!json_is_object(req) ||
	    !json_is_string(json_object_get(req, "cmd")))
		fuzz_fail("the handler got a request without a string cmd");
	nhandled++;
	ops_handle(arg, r, req);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{

	(void)argc;
	(void)argv;
	d = fuzz_daemon_new();
	if (admin_sock_path(sock, d->cfg.data) != 0 ||
	    (srv = admin_server_new(d->base, sock, handler, d)) == NULL)
		fuzz_fail("cannot start the admin server");
	admin_server_on_refused(srv, ops_refused);
	return (0);
}

/* A client socket connected to the server (not blocking). */
static int
client_connect(void)
{
	struct sockaddr_un sun;
	int fd;

	if (admin_sockaddr(&sun, sock) != 0 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		fuzz_fail("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		fuzz_fail("cannot connect to the admin server");
	return (fd);
}

/*
 * Check response ${k} (${rlen} bytes at ${resp}) against request line ${k}
 * of the input (${q}, ${qlen} bytes, without its "\n").
 */
static void
check_response(const char *resp, size_t rlen, const char *q, size_t qlen)
{
	json_error_t e;
	json_t *r, *req;
	const char *err;
	int good, ok;

	if ((r = json_loadb(resp, rlen, JSON_REJECT_DUPLICATES, &e)) == NULL ||
	    !json_is_object(r) || !json_is_boolean(json_object_get(r, "ok")))
		fuzz_fail("a response is not a JSON object with a boolean ok");
	ok = json_is_true(json_object_get(r, "ok"));
	err = json_string_value(json_object_get(r, "error"));
	if (!ok && err == NULL)
		fuzz_fail("a refusal without a string error");
	req = json_loadb(q, qlen, JSON_REJECT_DUPLICATES, &e);
	good = req != NULL && json_is_object(req) &&
	    json_is_string(json_object_get(req, "cmd"));
	if (!good && (ok || strncmp(err, "bad request", 11) != 0))
		fuzz_fail("a bad request line did not get \"bad request\"");
	json_decref(req);
	json_decref(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *got;
	const uint8_t *s, *q, *nl;
	char buf[65536];
	size_t n, pos = 0, qleft, len;
	int fd, i, idle = 0;
	ssize_t w;

	/* Under a pipe's capacity: see fuzz_daemon_settle. */
	if (size < 1 || size > 65536)
		return (0);
	s = data + 1;
	n = size - 1;
	fuzz_daemon_begin(d, data[0]);
	nhandled = 0;
	if ((got = evbuffer_new()) == NULL)
		fuzz_fail("out of memory");
	fd = client_connect();
	q = s;
	qleft = n;
	/*
	 * The client keeps its writing side open (a half-closed client is
	 * not watched while its request is pending: see docs/fuzzing.md)
	 * and reads until two rounds bring nothing new.
	 */
	for (i = 0; i < ROUNDS && idle < 2; i++) {
		while (pos < n && (w = write(fd, s + pos, n - pos)) > 0)
			pos += (size_t)w;
		fuzz_daemon_settle(d);
		idle = pos == n ? idle + 1 : 0;
		while ((w = read(fd, buf, sizeof(buf))) > 0) {
			evbuffer_add(got, buf, (size_t)w);
			idle = 0;
		}
		if (w == 0 || (errno != EAGAIN && errno != EINTR))
			break;		/* the server closed or dropped us */
		/* Each whole response answers the next request line. */
		while (evbuffer_get_length(got) > 0 &&
		    (nl = memchr(evbuffer_pullup(got, -1), '\n',
		    evbuffer_get_length(got))) != NULL) {
			len = (size_t)(nl - evbuffer_pullup(got, -1));
			if (qleft == 0 || memchr(q, '\n', qleft) == NULL)
				fuzz_fail("more responses than request lines");
			nl = memchr(q, '\n', qleft);
			check_response((const char *)evbuffer_pullup(got, -1),
			    len, (const char *)q, (size_t)(nl - q));
			qleft -= (size_t)(nl - q) + 1;
			q = nl + 1;
			evbuffer_drain(got, len + 1);
		}
	}
	if (evbuffer_get_length(got) > 0)
		fuzz_fail("a response without its newline");
	close(fd);
	evbuffer_free(got);
	/* The server sees the client go: pending requests are cancelled. */
	fuzz_daemon_settle(d);
	fuzz_daemon_end(d);
	fuzz_daemon_settle(d);
	return (0);
}
