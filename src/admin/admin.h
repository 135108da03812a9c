/*
 * admin.h: the admin socket of poolpaird: a UNIX stream socket (mode 0600,
 * default DATA/admin.sock) carrying one JSON object a line each way, one
 * response per request (docs/protocol-admin.md).  The server side runs on
 * the daemon's libevent loop and hands each request to the daemon's handler,
 * which answers now or later with admin_reply; the client side is a blocking
 * call for the poolpair CLI.
 */
#ifndef PP_ADMIN_H
#define PP_ADMIN_H

#include <sys/types.h>

#include <jansson.h>

struct event_base;
struct sockaddr_un;

#define ADMIN_SOCK_NAME	"admin.sock"	/* in the pool's data directory */
#define ADMIN_PATH_MAX	108		/* sizeof(sun_path), with its NUL */
#define ADMIN_LINE_MAX	65536		/* a request, without its "\n" */
#define ADMIN_RESP_MAX	(1 << 20)	/* a response, without its "\n" */
#define ADMIN_MAX_CONNS	16		/* admin connections at once */
#define ADMIN_IDLE_MS	60000		/* no request (none pending): closed */

struct admin_server;
struct admin_req;

/*
 * The daemon's handler of request ${req} (a JSON object whose "cmd" is a
 * string; borrowed: json_incref it to keep it).  It must answer ${r} exactly
 * once with admin_reply, before returning or later on the loop thread.
 */
typedef void admin_handler(void *arg, struct admin_req *r, json_t *req);

/*
 * Told that a connection from ${uid} ((uid_t)-1 if unknown) was refused for
 * ${reason} (for the audit log).
 */
typedef void admin_refused_cb(void *arg, uid_t uid, const char *reason);

/*
 * Told that the client of the pending request ${r} went away (or the server
 * is being freed) before admin_reply: the daemon may drop whatever it waits
 * on and must still call admin_reply(${r}, ...), now or later.
 */
typedef void admin_cancel_cb(void *cbarg, struct admin_req *r);

/*
 * Listen on ${path} on ${base}: refuses (PP_EEXIST) to replace anything that
 * is not a socket or a socket that a live server answers on, removes a stale
 * one, binds under umask 077 and sets mode 0600.  Each request goes to
 * ${h}(${arg}, ...).  Connections are accepted only from the daemon's
 * effective uid or root (SO_PEERCRED), at most ADMIN_MAX_CONNS at once, and
 * closed after ADMIN_IDLE_MS without a request while none is pending.
 * The process must ignore SIGPIPE (libevent writes with writev).  Returns
 * the server, or NULL with the error recorded.  Loop thread only.
 */
struct admin_server *admin_server_new(struct event_base *base,
    const char *path, admin_handler *h, void *arg);

/* Have ${cb}(arg of admin_server_new, ...) told of each refused peer. */
void admin_server_on_refused(struct admin_server *srv, admin_refused_cb *cb);

/* Close connections idle for ${idle_ms} (> 0) instead of ADMIN_IDLE_MS. */
void admin_server_set_idle(struct admin_server *srv, int idle_ms);

/*
 * Close every connection (cancelling pending requests: their cancel
 * callbacks run; admin_reply on them stays safe and frees them), stop
 * listening and remove the socket file if it is still ours.  NULL does
 * nothing.  Not from inside a callback of ${srv}.
 */
void admin_server_free(struct admin_server *srv);

/*
 * Answer request ${r} with ${resp} (stolen; NULL sends an internal error)
 * and free ${r}.  Safe after the client went or the server was freed: the
 * response is then dropped.  A response over ADMIN_RESP_MAX bytes is
 * replaced by an error.  Loop thread only.
 */
void admin_reply(struct admin_req *r, json_t *resp);

/*
 * Have ${cb}(${cbarg}, ${r}) called once if ${r}'s client goes away before
 * admin_reply.  For handlers that answer later.
 */
void admin_req_on_cancel(struct admin_req *r, admin_cancel_cb *cb,
    void *cbarg);

/* The uid of ${r}'s client (for the audit log). */
uid_t admin_req_uid(const struct admin_req *r);

/*
 * A new error response {"ok":false,"error":TEXT}, TEXT formatted and cut at
 * 512 bytes; NULL if out of memory (admin_reply sends an error for NULL).
 */
json_t *admin_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Write "${data}/admin.sock" to ${out}.  Returns 0, or -1 (PP_ELIMIT) if it
 * does not fit a socket address.
 */
int admin_sock_path(char out[static ADMIN_PATH_MAX], const char *data);

/* Fill ${sun} for ${path}.  Returns 0, or -1 (PP_ELIMIT) if too long. */
int admin_sockaddr(struct sockaddr_un *sun, const char *path);

/*
 * Send request ${req} (borrowed) to the server on ${sock_path} and wait at
 * most ${timeout_ms} (<= 0: no limit) for its response, read up to
 * ADMIN_RESP_MAX bytes.  Sets ${resp} to the response object (the caller
 * decrefs; it may say "ok":false).  Returns 0, or -1 with the error recorded
 * (PP_EIO: no server, as "poolpaird is not running for DATA (...)", a
 * timeout, a broken or bad response; PP_ELIMIT: a request or response too
 * long).
 */
int admin_call(const char *sock_path, json_t *req, json_t **resp,
    int timeout_ms);

#endif
