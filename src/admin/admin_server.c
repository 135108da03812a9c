/*
 * admin_server.c: the admin socket's server side on the daemon's libevent
 * loop.  It owns the socket file, the peer check, the connection cap, the
 * line framing (one bounded JSON request at a time per connection, answered
 * in order), idle timeouts and the life of pending requests; what a request
 * means is the daemon's handler's business.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "admin.h"
#include "err.h"

struct admin_req {
	struct admin_conn *conn;	/* NULL once the client went */
	admin_cancel_cb *on_cancel;
	void *cbarg;
	uid_t uid;
};

struct admin_conn {
	struct admin_server *srv;
	struct bufferevent *bev;
	struct admin_req *pending;	/* the request being answered */
	uid_t uid;
	int eof;		/* the client shut its side: finish, then close */
	int closing;		/* the last response is being flushed */
	LIST_ENTRY(admin_conn) next;
};

struct admin_server {
	struct event_base *base;
	struct evconnlistener *lev;
	struct event *resume;	/* accepting again after EMFILE */
	admin_handler *h;
	admin_refused_cb *on_refused;
	void *arg;
	LIST_HEAD(, admin_conn) conns;
	int nconns;
	struct timeval idle;
	uid_t euid;
	dev_t dev;		/* the socket file we made */
	ino_t ino;
	char path[ADMIN_PATH_MAX];
};

static void conn_process(struct admin_conn *c);

json_t *
admin_err(const char *fmt, ...)
{
	char msg[513];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return (json_pack("{s:b,s:s}", "ok", 0, "error", msg));
}

/* Restart the idle clock of ${c}: none while a request is pending. */
static void
conn_idle(struct admin_conn *c)
{

	bufferevent_set_timeouts(c->bev, c->pending != NULL ? NULL :
	    &c->srv->idle, &c->srv->idle);
}

/* Close ${c} now; its pending request, if any, is cancelled. */
static void
conn_free(struct admin_conn *c)
{
	struct admin_req *r = c->pending;

	LIST_REMOVE(c, next);
	c->srv->nconns--;
	bufferevent_free(c->bev);
	free(c);
	if (r != NULL) {
		r->conn = NULL;
		if (r->on_cancel != NULL)
			r->on_cancel(r->cbarg, r);
	}
}

/* Queue ${resp} (stolen; NULL: an internal error) as one line to ${c}. */
static void
conn_send(struct admin_conn *c, json_t *resp)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char *s;

	s = resp == NULL ? NULL : json_dumps(resp, JSON_COMPACT |
	    JSON_PRESERVE_ORDER);
	json_decref(resp);
	if (s != NULL && strlen(s) > ADMIN_RESP_MAX) {
		free(s);
		s = strdup("{\"ok\":false,\"error\":\"internal error: the "
		    "response is over 1 MiB\"}");
	} else if (s == NULL)
		s = strdup("{\"ok\":false,\"error\":\"internal error: no "
		    "response\"}");
	if (s == NULL || evbuffer_add(out, s, strlen(s)) != 0 ||
	    evbuffer_add(out, "\n", 1) != 0)
		c->closing = 1;	/* out of memory: drop the client */
	free(s);
}

/* Send ${resp} (stolen), then close ${c} once it is flushed. */
static void
conn_send_close(struct admin_conn *c, json_t *resp)
{

	conn_send(c, resp);
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
}

/* Parse request line ${line} (${len} bytes) of ${c} and hand it over. */
static void
conn_request(struct admin_conn *c, const char *line, size_t len)
{
	struct admin_req *r;
	json_error_t e;
	json_t *req;

	if ((req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &e)) ==
	    NULL) {
		conn_send(c, admin_err("bad request: not JSON (column %d: "
		    "%s)", e.column, e.text));
		return;
	}
	if (!json_is_object(req) ||
	    !json_is_string(json_object_get(req, "cmd"))) {
		conn_send(c, admin_err("bad request: not a JSON object with "
		    "a string \"cmd\""));
		json_decref(req);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		conn_send(c, NULL);
		json_decref(req);
		return;
	}
	r->conn = c;
	r->uid = c->uid;
	c->pending = r;
	conn_idle(c);
	c->srv->h(c->srv->arg, r, req);
	json_decref(req);
}

/*
 * Take the next complete request line of ${c} if it may (nothing pending,
 * the last response flushed), or close ${c} when it is done.
 */
static void
conn_process(struct admin_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr p;
	size_t eol, len;
	char *line;

	if (c->pending != NULL || c->closing ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		return;
	p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_LF);
	if (p.pos < 0 ? evbuffer_get_length(in) > ADMIN_LINE_MAX :
	    (size_t)p.pos > ADMIN_LINE_MAX) {
		conn_send_close(c, admin_err("request line over %d bytes",
		    ADMIN_LINE_MAX));
		return;
	}
	if (p.pos < 0) {
		if (c->eof)
			conn_free(c);
		return;
	}
	if ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) == NULL) {
		conn_free(c);
		return;
	}
	conn_request(c, line, len);
	free(line);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{

	(void)bev;
	conn_process(arg);
}

/* The output is flushed: close, or take the next request. */
static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct admin_conn *c = arg;

	(void)bev;
	if (c->closing)
		conn_free(c);
	else
		conn_process(c);
}

/* Whether the peer of ${fd} closed both ways (not just its writing side). */
static int
peer_gone(evutil_socket_t fd)
{
	struct pollfd p = { .fd = fd, .events = 0 };
	int n = poll(&p, 1, 0);

	return (n < 0 || (n == 1 && (p.revents & (POLLHUP | POLLERR)) != 0));
}

/*
 * End of file, an error or a timeout.  A client that only shut its writing
 * side (echo REQ | nc -U) still gets its answers; one that went is gone.
 */
static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct admin_conn *c = arg;

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    !peer_gone(bufferevent_getfd(bev))) {
		c->eof = 1;
		if (!c->closing)
			conn_process(c);
		else if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(c);	/* else conn_write_cb does */
		return;
	}
	conn_free(c);
}

/* Take accepted socket ${fd} of a peer with ${uid}.  Returns 0 or -1. */
static int
conn_new(struct admin_server *srv, evutil_socket_t fd, uid_t uid)
{
	struct admin_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (-1);
	if ((c->bev = bufferevent_socket_new(srv->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(c);
		return (-1);
	}
	c->srv = srv;
	c->uid = uid;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	/* Never buffer more than one line's worth of a client's input. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, ADMIN_LINE_MAX + 1);
	LIST_INSERT_HEAD(&srv->conns, c, next);
	srv->nconns++;
	conn_idle(c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return (0);
}

/*
 * Close ${fd} of a peer with ${uid}, saying why in one line if ${tell}, and
 * tell the daemon.
 */
static void
refuse(struct admin_server *srv, evutil_socket_t fd, uid_t uid,
    const char *reason, int tell)
{
	char line[256];
	int n;

	if (tell && (n = snprintf(line, sizeof(line), "{\"ok\":false,"
	    "\"error\":\"%s\"}\n", reason)) > 0 && (size_t)n < sizeof(line))
		(void)send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	evutil_closesocket(fd);
	if (srv->on_refused != NULL)
		srv->on_refused(srv->arg, uid, reason);
}

/* A new connection: only our uid or root, at most ADMIN_MAX_CONNS. */
static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct admin_server *srv = arg;
	struct ucred cr;
	socklen_t len = sizeof(cr);

	(void)lev;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
	    len != sizeof(cr))
		refuse(srv, fd, (uid_t)-1, "cannot read the peer's "
		    "credentials", 0);
	else if (cr.uid != srv->euid && cr.uid != 0)
		refuse(srv, fd, cr.uid, "uid not allowed on the admin socket",
		    0);
	else if (srv->nconns >= ADMIN_MAX_CONNS)
		refuse(srv, fd, cr.uid, "too many admin connections", 1);
	else if (conn_new(srv, fd, cr.uid) != 0)
		refuse(srv, fd, cr.uid, "out of memory", 1);
}

/* accept failed (EMFILE...): pause a second rather than spin. */
static void
listen_err_cb(struct evconnlistener *lev, void *arg)
{
	struct admin_server *srv = arg;
	struct timeval tv = { 1, 0 };

	evconnlistener_disable(lev);
	evtimer_add(srv->resume, &tv);
	if (srv->on_refused != NULL)
		srv->on_refused(srv->arg, (uid_t)-1, "accept failed: paused "
		    "for a second");
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_server *srv = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(srv->lev);
}

/* Whether a server answers on socket ${sun}: 1 yes (or maybe), 0 stale. */
static int
sock_live(const struct sockaddr_un *sun)
{
	int fd, rc = 1;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		return (1);
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) != 0 &&
	    (errno == ECONNREFUSED || errno == ENOENT))
		rc = 0;
	close(fd);
	return (rc);
}

/* Make way at ${sun}: nothing there, or a stale socket that we remove. */
static int
sock_clear(const struct sockaddr_un *sun)
{
	const char *path = sun->sun_path;
	struct stat sb;

	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return (0);
		pp_errp(PP_EIO, "cannot check %s", path);
		return (-1);
	}
	if (!S_ISSOCK(sb.st_mode)) {
		pp_err(PP_EEXIST, "%s exists and is not a socket: not "
		    "replacing it", path);
		return (-1);
	}
	if (sock_live(sun)) {
		pp_err(PP_EEXIST, "another server listens on %s", path);
		return (-1);
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		pp_errp(PP_EIO, "cannot remove the stale socket %s", path);
		return (-1);
	}
	return (0);
}

/* A listening socket at ${sun}, mode 0600, noted in ${srv}; or -1. */
static int
sock_bind(struct admin_server *srv, const struct sockaddr_un *sun)
{
	const char *path = sun->sun_path;
	struct stat sb;
	mode_t old;
	int fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0) {
		pp_errp(PP_EIO, "socket");
		return (-1);
	}
	old = umask(077);
	rc = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	umask(old);
	if (rc != 0) {
		pp_errp(PP_EIO, "cannot bind %s", path);
		goto err0;
	}
	if (chmod(path, 0600) != 0 || lstat(path, &sb) != 0) {
		pp_errp(PP_EIO, "cannot set mode 0600 on %s", path);
		goto err1;
	}
	srv->dev = sb.st_dev;
	srv->ino = sb.st_ino;
	if (listen(fd, SOMAXCONN) != 0) {
		pp_errp(PP_EIO, "cannot listen on %s", path);
		goto err1;
	}
	return (fd);
err1:
	unlink(path);
err0:
	close(fd);
	return (-1);
}

struct admin_server *
admin_server_new(struct event_base *base, const char *path, admin_handler *h,
    void *arg)
{
	struct admin_server *srv;
	struct sockaddr_un sun;
	int fd;

	if (admin_sockaddr(&sun, path) != 0)
		return (NULL);
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (NULL);
	}
	srv->base = base;
	srv->h = h;
	srv->arg = arg;
	srv->euid = geteuid();
	srv->idle.tv_sec = ADMIN_IDLE_MS / 1000;
	LIST_INIT(&srv->conns);
	memcpy(srv->path, sun.sun_path, sizeof(srv->path));
	if ((srv->resume = evtimer_new(base, resume_cb, srv)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		goto err0;
	}
	if (sock_clear(&sun) != 0 || (fd = sock_bind(srv, &sun)) < 0)
		goto err1;
	if ((srv->lev = evconnlistener_new(base, accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd)) == NULL) {
		pp_err(PP_EINTERNAL, "cannot listen on %s with libevent", path);
		close(fd);
		unlink(path);
		goto err1;
	}
	evconnlistener_set_error_cb(srv->lev, listen_err_cb);
	return (srv);
err1:
	event_free(srv->resume);
err0:
	free(srv);
	return (NULL);
}

void
admin_server_on_refused(struct admin_server *srv, admin_refused_cb *cb)
{

	srv->on_refused = cb;
}

void
admin_server_set_idle(struct admin_server *srv, int idle_ms)
{
	struct admin_conn *c;

	srv->idle.tv_sec = idle_ms / 1000;
	srv->idle.tv_usec = (idle_ms % 1000) * 1000;
	LIST_FOREACH(c, &srv->conns, next)
		conn_idle(c);
}

void
admin_server_free(struct admin_server *srv)
{
	struct stat sb;

	if (srv == NULL)
		return;
	evconnlistener_free(srv->lev);
	event_free(srv->resume);
	while (!LIST_EMPTY(&srv->conns))
		conn_free(LIST_FIRST(&srv->conns));
	/* Only our own socket file: a successor may have made another. */
	if (lstat(srv->path, &sb) == 0 && sb.st_dev == srv->dev &&
	    sb.st_ino == srv->ino)
		unlink(srv->path);
	free(srv);
}

void
admin_reply(struct admin_req *r, json_t *resp)
{
	struct admin_conn *c;

	if (r == NULL) {
		json_decref(resp);
		return;
	}
	if ((c = r->conn) != NULL) {
		c->pending = NULL;
		conn_idle(c);
		conn_send(c, resp);
	} else
		json_decref(resp);
	free(r);
}

void
admin_req_on_cancel(struct admin_req *r, admin_cancel_cb *cb, void *cbarg)
{

	r->on_cancel = cb;
	r->cbarg = cbarg;
}

uid_t
admin_req_uid(const struct admin_req *r)
{

	return (r->uid);
}
