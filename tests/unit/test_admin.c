/*
 * test_admin.c: the admin socket (admin.h): a server on an event loop in a
 * thread of its own with a test handler, asked by admin_call and by raw
 * clients that misbehave.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "admin.h"
#include "err.h"
#include "unit.h"
#include "util.h"

struct fx {
	char *dir;
	char *path;		/* DIR/admin.sock */
	struct event_base *base;
	struct admin_server *srv;
	pthread_t loop;
	int idle_ms;		/* 0: the default */
	atomic_int running, requests, cancels, late, refused;
	atomic_uint refused_uid;
	char refused_why[128];	/* set before refused is counted */
};

/* A "slow" request, answered by a timer. */
struct slow {
	struct fx *f;
	struct admin_req *r;
	struct event *ev;
	int cancelled;
};

/* Wait up to 5 s for ${v} to reach ${want}. */
static void
wait_for(atomic_int *v, int want)
{
	int64_t end = util_mono_ms() + 5000;

	while (atomic_load(v) < want && util_mono_ms() < end)
		usleep(5000);
	assert_int_equal(atomic_load(v), want);
}

static void
slow_cancel(void *cbarg, struct admin_req *r)
{
	struct slow *s = cbarg;

	(void)r;
	s->cancelled = 1;	/* and still answered by the timer */
	atomic_fetch_add(&s->f->cancels, 1);
}

static void
slow_cb(evutil_socket_t fd, short what, void *arg)
{
	struct slow *s = arg;

	(void)fd;
	(void)what;
	if (s->cancelled)
		atomic_fetch_add(&s->f->late, 1);
	admin_reply(s->r, json_pack("{s:b,s:b}", "ok", 1, "slow", 1));
	event_free(s->ev);
	free(s);
}

/* Answer ${r} after ${ms}. */
static void
slow_start(struct fx *f, struct admin_req *r, json_int_t ms)
{
	struct slow *s = calloc(1, sizeof(*s));
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	assert_non_null(s);
	s->f = f;
	s->r = r;
	s->ev = evtimer_new(f->base, slow_cb, s);
	assert_non_null(s->ev);
	admin_req_on_cancel(r, slow_cancel, s);
	evtimer_add(s->ev, &tv);
}

/* "never" requests are answered (with nothing) only when cancelled. */
static void
never_cancel(void *cbarg, struct admin_req *r)
{
	struct fx *f = cbarg;

	atomic_fetch_add(&f->cancels, 1);
	admin_reply(r, NULL);
}

static void
handler(void *arg, struct admin_req *r, json_t *req)
{
	struct fx *f = arg;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *big;
	char *x;

	atomic_fetch_add(&f->requests, 1);
	if (strcmp(cmd, "status") == 0)
		admin_reply(r, json_pack("{s:b,s:{s:s}}", "ok", 1, "status",
		    "pool", "pool-a.example.test"));
	else if (strcmp(cmd, "echo") == 0)
		admin_reply(r, json_pack("{s:b,s:O}", "ok", 1, "req", req));
	else if (strcmp(cmd, "slow") == 0)
		slow_start(f, r, json_integer_value(json_object_get(req,
		    "ms")));
	else if (strcmp(cmd, "never") == 0)
		admin_req_on_cancel(r, never_cancel, f);
	else if (strcmp(cmd, "big") == 0) {
		assert_non_null(x = malloc(ADMIN_RESP_MAX));
		memset(x, 'x', ADMIN_RESP_MAX);
		big = json_stringn(x, ADMIN_RESP_MAX);
		free(x);
		admin_reply(r, json_pack("{s:b,s:o}", "ok", 1, "big", big));
	} else
		admin_reply(r, admin_err("unknown command '%s'", cmd));
}

static void
on_refused(void *arg, uid_t uid, const char *reason)
{
	struct fx *f = arg;

	snprintf(f->refused_why, sizeof(f->refused_why), "%s", reason);
	atomic_store(&f->refused_uid, (unsigned)uid);
	atomic_fetch_add(&f->refused, 1);
}

/* The loop runs: from now on, event_base_loopbreak will stop it. */
static void
loop_started(evutil_socket_t fd, short what, void *arg)
{
	struct fx *f = arg;

	(void)fd;
	(void)what;
	atomic_store(&f->running, 1);
}

static void *
loop_main(void *arg)
{
	struct fx *f = arg;

	event_base_loop(f->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return (NULL);
}

static int
setup_idle(void **state, int idle_ms)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = unit_mkdtemp();
	f->path = unit_path(f->dir, ADMIN_SOCK_NAME);
	assert_non_null(f->base = event_base_new());
	f->srv = admin_server_new(f->base, f->path, handler, f);
	if (f->srv == NULL)
		fail_msg("admin_server_new: %s", pp_errmsg());
	admin_server_on_refused(f->srv, on_refused);
	if (idle_ms > 0)
		admin_server_set_idle(f->srv, idle_ms);
	assert_int_equal(event_base_once(f->base, -1, EV_TIMEOUT,
	    loop_started, f, NULL), 0);
	assert_int_equal(pthread_create(&f->loop, NULL, loop_main, f), 0);
	wait_for(&f->running, 1);
	*state = f;
	return (0);
}

static int
setup(void **state)
{

	return (setup_idle(state, 0));
}

static int
setup_short_idle(void **state)
{

	return (setup_idle(state, 300));
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	event_base_loopbreak(f->base);
	pthread_join(f->loop, NULL);
	admin_server_free(f->srv);
	event_base_free(f->base);
	free(f->path);
	unit_rmtree(f->dir);
	free(f);
	return (0);
}

/* --- raw clients ------------------------------------------------------ */

static int
raw_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	assert_int_equal(admin_sockaddr(&sun, path), 0);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	return (fd);
}

static void
raw_send(int fd, const char *s)
{
	size_t len = strlen(s);

	assert_int_equal(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

/*
 * Read one line (without "\n") into a new buffer, within 5 s; NULL at end
 * of file.
 */
static char *
raw_line(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t len = 0, size = 256;
	char *buf = malloc(size);
	ssize_t n;

	assert_non_null(buf);
	for (;;) {
		assert_int_equal(poll(&p, 1, 5000), 1);
		if ((n = recv(fd, buf + len, 1, 0)) <= 0) {
			assert_int_equal(len, 0);
			free(buf);
			return (NULL);
		}
		if (buf[len] == '\n')
			break;
		if (++len == size)
			assert_non_null(buf = realloc(buf, size *= 2));
	}
	buf[len] = '\0';
	return (buf);
}

/* The next line of ${fd} must be a response holding ${want}. */
static void
expect_line(int fd, const char *want)
{
	char *l = raw_line(fd);

	if (l == NULL)
		fail_msg("end of file, expected a line with '%s'", want);
	if (strstr(l, want) == NULL)
		fail_msg("got '%.200s', expected '%s'", l, want);
	free(l);
}

/* ${fd} must come to end of file (the server closed it). */
static void
expect_eof(int fd)
{

	assert_null(raw_line(fd));
	close(fd);
}

/* admin_call ${line} (JSON text); the response must say "ok":true. */
static json_t *
call_ok(struct fx *f, const char *line)
{
	json_t *req = json_loads(line, 0, NULL), *resp;

	assert_non_null(req);
	if (admin_call(f->path, req, &resp, 5000) != 0)
		fail_msg("admin_call: %s", pp_errmsg());
	json_decref(req);
	assert_true(json_is_true(json_object_get(resp, "ok")));
	return (resp);
}

/* --- tests -------------------------------------------------------------- */

static void
test_status_roundtrip(void **state)
{
	json_t *resp = call_ok(*state, "{\"cmd\":\"status\"}");

	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(resp, "status"), "pool")), "pool-a.example.test");
	json_decref(resp);
}

static void
test_async_reply(void **state)
{
	int64_t t0 = util_mono_ms();
	json_t *resp = call_ok(*state, "{\"cmd\":\"slow\",\"ms\":200}");

	assert_true(util_mono_ms() - t0 >= 190);
	assert_true(json_is_true(json_object_get(resp, "slow")));
	json_decref(resp);
}

static void
test_disconnect_before_reply(void **state)
{
	struct fx *f = *state;
	int fd = raw_connect(f->path);

	raw_send(fd, "{\"cmd\":\"slow\",\"ms\":300}\n");
	wait_for(&f->requests, 1);
	close(fd);
	wait_for(&f->cancels, 1);	/* the daemon is told */
	wait_for(&f->late, 1);		/* and its late reply is safe */
	json_decref(call_ok(f, "{\"cmd\":\"status\"}"));
}

static void
test_line_bound(void **state)
{
	struct fx *f = *state;
	size_t n = ADMIN_LINE_MAX - strlen("{\"cmd\":\"echo\",\"pad\":\"\"}");
	char *pad = malloc(n + 1), *line;
	json_t *req, *resp;
	int fd;

	assert_non_null(pad);
	memset(pad, 'x', n);
	pad[n] = '\0';
	/* Exactly ADMIN_LINE_MAX bytes: answered. */
	req = json_pack("{s:s,s:s}", "cmd", "echo", "pad", pad);
	assert_int_equal(admin_call(f->path, req, &resp, 5000), 0);
	assert_true(json_is_true(json_object_get(resp, "ok")));
	json_decref(resp);
	/* One more: admin_call will not send it, the server refuses it. */
	json_object_set_new(req, "pad", json_sprintf("%sx", pad));
	assert_int_equal(admin_call(f->path, req, &resp, 5000), -1);
	assert_int_equal(pp_errcode(), PP_ELIMIT);
	line = json_dumps(req, JSON_COMPACT);
	fd = raw_connect(f->path);
	raw_send(fd, line);
	expect_line(fd, "over 65536 bytes");
	expect_eof(fd);
	free(line);
	json_decref(req);
	free(pad);
}

static void
test_bad_requests(void **state)
{
	struct fx *f = *state;
	int fd = raw_connect(f->path);

	raw_send(fd, "{nope\n");
	expect_line(fd, "\"error\":\"bad request: not JSON");
	raw_send(fd, "[1]\n{\"cmd\":7}\n");
	expect_line(fd, "not a JSON object with a string");
	expect_line(fd, "not a JSON object with a string");
	raw_send(fd, "{\"cmd\":\"x\",\"cmd\":\"y\"}\n");
	expect_line(fd, "bad request");
	/* The connection still serves. */
	raw_send(fd, "{\"cmd\":\"status\"}\n");
	expect_line(fd, "pool-a.example.test");
	close(fd);
	assert_int_equal(atomic_load(&f->requests), 1);
}

static void
test_pipelined_in_order(void **state)
{
	struct fx *f = *state;
	const char *three = "{\"cmd\":\"slow\",\"ms\":100}\n"
	    "{\"cmd\":\"echo\",\"n\":2}\n{\"cmd\":\"nope\"}\n";
	int fd = raw_connect(f->path);

	raw_send(fd, three);
	expect_line(fd, "\"slow\":true");
	expect_line(fd, "\"n\":2");
	expect_line(fd, "unknown command 'nope'");
	/* A client that shuts its writing side still gets its answer. */
	raw_send(fd, "{\"cmd\":\"status\"}\n");
	shutdown(fd, SHUT_WR);
	expect_line(fd, "pool-a");
	expect_eof(fd);
}

static void
test_connection_cap(void **state)
{
	struct fx *f = *state;
	int fds[ADMIN_MAX_CONNS], fd, i;
	json_t *req, *resp;

	for (i = 0; i < ADMIN_MAX_CONNS; i++) {
		fds[i] = raw_connect(f->path);
		raw_send(fds[i], "{\"cmd\":\"status\"}\n");
		expect_line(fds[i], "\"ok\":true");
	}
	fd = raw_connect(f->path);
	expect_line(fd, "too many admin connections");
	expect_eof(fd);
	wait_for(&f->refused, 1);
	assert_string_equal(f->refused_why, "too many admin connections");
	assert_int_equal(atomic_load(&f->refused_uid), geteuid());
	/* One goes, and there is room again. */
	close(fds[0]);
	req = json_pack("{s:s}", "cmd", "status");
	for (i = 0; i < 100; i++) {
		assert_int_equal(admin_call(f->path, req, &resp, 5000), 0);
		if (json_is_true(json_object_get(resp, "ok")))
			break;
		json_decref(resp);
		usleep(10000);
	}
	assert_true(i < 100);
	json_decref(resp);
	json_decref(req);
	for (i = 1; i < ADMIN_MAX_CONNS; i++)
		close(fds[i]);
}

static void
test_big_response_replaced(void **state)
{
	json_t *req = json_pack("{s:s}", "cmd", "big"), *resp;
	struct fx *f = *state;

	assert_int_equal(admin_call(f->path, req, &resp, 5000), 0);
	assert_non_null(strstr(json_string_value(json_object_get(resp,
	    "error")), "over 1 MiB"));
	json_decref(resp);
	json_decref(req);
}

static void
test_call_timeout_cancels(void **state)
{
	json_t *req = json_pack("{s:s}", "cmd", "never"), *resp;
	struct fx *f = *state;

	assert_int_equal(admin_call(f->path, req, &resp, 200), -1);
	assert_int_equal(pp_errcode(), PP_EIO);
	assert_non_null(strstr(pp_errmsg(), "(timeout)"));
	assert_null(resp);
	wait_for(&f->cancels, 1);
	json_decref(req);
}

static void
test_no_server(void **state)
{
	json_t *req = json_pack("{s:s}", "cmd", "status"), *resp;
	struct fx *f = *state;
	char *gone = unit_path(f->dir, "gone.sock"), want[512];
	struct sockaddr_un sun;
	int fd;

	assert_int_equal(admin_call(gone, req, &resp, 1000), -1);
	snprintf(want, sizeof(want), "poolpaird is not running for %s (no "
	    "%s)", f->dir, gone);
	assert_string_equal(pp_errmsg(), want);
	/* A stale socket: nobody listens. */
	assert_int_equal(admin_sockaddr(&sun, gone), 0);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(admin_call(gone, req, &resp, 1000), -1);
	assert_non_null(strstr(pp_errmsg(), "not running"));
	free(gone);
	json_decref(req);
}

static void
test_socket_files(void **state)
{
	struct fx *f = *state;
	struct event_base *b = event_base_new();
	char *file = unit_path(f->dir, "file"), *sock = unit_path(f->dir,
	    "stale.sock"), buf[8] = { 0 };
	struct admin_server *s;
	struct sockaddr_un sun;
	struct stat sb;
	mode_t old;
	int fd;

	/* The server's socket is 0600, whatever the umask. */
	assert_int_equal(lstat(f->path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* A regular file is not replaced, nor a live socket. */
	unit_write_file(file, "keep", 4);
	assert_null(admin_server_new(b, file, handler, f));
	assert_int_equal(pp_errcode(), PP_EEXIST);
	fd = open(file, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "keep");
	close(fd);
	assert_null(admin_server_new(b, f->path, handler, f));
	assert_non_null(strstr(pp_errmsg(), "another server listens"));
	/* A stale socket is replaced, under a loose umask, by a 0600 one. */
	assert_int_equal(admin_sockaddr(&sun, sock), 0);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	old = umask(0);
	s = admin_server_new(b, sock, handler, f);
	umask(old);
	assert_non_null(s);
	assert_int_equal(lstat(sock, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	admin_server_free(s);
	assert_int_equal(lstat(sock, &sb), -1);	/* removed at free */
	event_base_free(b);
	free(file);
	free(sock);
}

static void
test_foreign_uid_refused(void **state)
{
	struct fx *f = *state;
	int status;
	pid_t pid;

	if (geteuid() != 0)
		skip();		/* needs root to become another uid */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chmod(f->path, 0666), 0);
	if ((pid = fork()) == 0) {
		struct sockaddr_un sun;
		ssize_t n;
		char c;
		int fd;

		if (setgid(65534) != 0 || setuid(65534) != 0 ||
		    admin_sockaddr(&sun, f->path) != 0 ||
		    (fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
			_exit(2);
		(void)send(fd, "{\"cmd\":\"status\"}\n", 17, MSG_NOSIGNAL);
		/* Closed unheard (a reset if our line was still unread). */
		n = recv(fd, &c, 1, 0);
		_exit(n == 0 || (n < 0 && errno == ECONNRESET) ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	wait_for(&f->refused, 1);
	assert_int_equal(atomic_load(&f->refused_uid), 65534);
	assert_non_null(strstr(f->refused_why, "uid not allowed"));
	assert_int_equal(atomic_load(&f->requests), 0);
}

static void
test_idle_timeout(void **state)
{
	struct fx *f = *state;
	int64_t t0 = util_mono_ms();
	int fd = raw_connect(f->path);

	expect_eof(fd);			/* after 300 ms without a request */
	assert_true(util_mono_ms() - t0 >= 250);
	/* Not while a request is pending. */
	fd = raw_connect(f->path);
	raw_send(fd, "{\"cmd\":\"slow\",\"ms\":800}\n");
	expect_line(fd, "\"slow\":true");
	expect_eof(fd);
}

/* Freed with a request pending: cancelled, and its late reply is safe. */
static void
test_free_with_pending(void **state)
{
	struct fx g = { 0 }, *f = *state;
	char *path = unit_path(f->dir, "other.sock");
	int fd, i;

	assert_non_null(g.base = event_base_new());
	assert_non_null(g.srv = admin_server_new(g.base, path, handler, &g));
	fd = raw_connect(path);
	raw_send(fd, "{\"cmd\":\"slow\",\"ms\":50}\n");
	for (i = 0; i < 500 && atomic_load(&g.requests) == 0; i++)
		event_base_loop(g.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(atomic_load(&g.requests), 1);
	admin_server_free(g.srv);
	assert_int_equal(atomic_load(&g.cancels), 1);
	event_base_loop(g.base, 0);	/* the timer answers, to nobody */
	assert_int_equal(atomic_load(&g.late), 1);
	expect_eof(fd);
	event_base_free(g.base);
	free(path);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_status_roundtrip),
		T(test_async_reply),
		T(test_disconnect_before_reply),
		T(test_line_bound),
		T(test_bad_requests),
		T(test_pipelined_in_order),
		T(test_connection_cap),
		T(test_big_response_replaced),
		T(test_call_timeout_cancels),
		T(test_no_server),
		T(test_socket_files),
		T(test_foreign_uid_refused),
		cmocka_unit_test_setup_teardown(test_idle_timeout,
		    setup_short_idle, teardown),
		T(test_free_with_pending),
	};

	/* Writes to a client that went must not kill the test (or daemon). */
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
