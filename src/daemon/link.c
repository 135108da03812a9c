/*
 * link.c: the TLS links between the pools: the listener for the partner's
 * connection (capped while unauthenticated, handshake timeout), our own
 * connection to the partner (reconnect with back-off), the peer check
 * after every handshake, frame reading, keepalive and idle timeouts.
 * Frames of an authenticated link go to repl.c.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netdb.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <jansson.h>
#include <openssl/err.h>

#include "daemon.h"
#include "err.h"
#include "frame.h"
#include "tls.h"

/*
 * May a log line of security event ${kind} be written now?  A token bucket
 * per kind (D_SEC_BURST, then D_SEC_PER_S), like the audit log's: a flood
 * of refusals must not flood the log either.  The first line after drops
 * says how many were dropped.
 */
static int
sec_log_ok(struct daemon *d, const char *kind)
{
	struct dsec_bucket *b = &d->secb[D_SEC_KINDS - 1];
	int64_t now = d_now_ms();
	int i;

	for (i = 0; i < D_SEC_KINDS - 1; i++) {
		if (strcmp(d->secb[i].kind, kind) == 0 ||
		    d->secb[i].kind[0] == '\0') {
			b = &d->secb[i];
			break;
		}
	}
	if (b->kind[0] == '\0') {
		snprintf(b->kind, sizeof(b->kind), "%s", i < D_SEC_KINDS - 1 ?
		    kind : "other");
		b->tokens = D_SEC_BURST;
		b->last_ms = now;
	}
	b->tokens += (double)(now - b->last_ms) * D_SEC_PER_S / 1000.0;
	if (b->tokens > D_SEC_BURST)
		b->tokens = D_SEC_BURST;
	b->last_ms = now;
	if (b->tokens < 1.0) {
		b->dropped++;
		return (0);
	}
	b->tokens -= 1.0;
	if (b->dropped > 0) {
		dlog(LOG_WARNING, "%lld %s messages not logged (rate limit)",
		    (long long)b->dropped, b->kind);
		b->dropped = 0;
	}
	return (1);
}

void
d_security(struct daemon *d, const char *kind, const char *peer,
    const char *reason)
{

	if (sec_log_ok(d, kind))
		dlog(LOG_WARNING, "%s from %s: %s", kind, peer, reason);
	d_audit(d, kind, peer, reason);
}

/* "host:port" of ${sa} into ${out}. */
static void
addr_str(const struct sockaddr *sa, char *out, size_t len)
{
	char host[64];
	int port = 0;

	host[0] = '\0';
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;

		evutil_inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		port = ntohs(s->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;

		evutil_inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		port = ntohs(s->sin6_port);
	}
	snprintf(out, len, sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d",
	    host, port);
}

/* Do ${a} and ${b} name the same IP address (ports aside)? */
static int
same_host(const struct sockaddr *a, const struct sockaddr *b)
{

	if (a->sa_family != b->sa_family)
		return (0);
	if (a->sa_family == AF_INET)
		return (memcmp(&((const struct sockaddr_in *)(const void *)a)->
		    sin_addr, &((const struct sockaddr_in *)(const void *)b)->
		    sin_addr, sizeof(struct in_addr)) == 0);
	if (a->sa_family == AF_INET6)
		return (memcmp(&((const struct sockaddr_in6 *)(const void *)a)->
		    sin6_addr, &((const struct sockaddr_in6 *)(const void *)b)->
		    sin6_addr, sizeof(struct in6_addr)) == 0);
	return (0);
}

int
link_send(struct link *l, int type, const void *p, size_t len)
{

	if (l == NULL || l->bev == NULL || !l->authed)
		return (-1);
	return (frame_put(bufferevent_get_output(l->bev), type, p, len));
}

int
link_send_move(struct link *l, int type, uint8_t first, struct evbuffer *src,
    size_t len)
{

	if (l == NULL || l->bev == NULL || !l->authed)
		return (-1);
	return (frame_put_move(bufferevent_get_output(l->bev), type, first,
	    src, len));
}

int
link_send_json(struct link *l, int type, json_t *j)
{
	char *s;
	int rc = -1;

	if (j != NULL && (s = json_dumps(j, JSON_COMPACT)) != NULL) {
		rc = link_send(l, type, s, strlen(s));
		free(s);
	}
	json_decref(j);
	return (rc);
}

static void link_timer_cb(evutil_socket_t, short, void *);

/* Arm ${l}'s timer for ${secs} seconds. */
static void
link_arm(struct link *l, int secs)
{
	struct timeval tv = { secs, 0 };

	if (l->timer == NULL)
		l->timer = evtimer_new(l->d->base, link_timer_cb, l);
	evtimer_add(l->timer, &tv);
}

void
link_close(struct link *l, const char *why)
{
	struct daemon *d = l->d;
	int was_authed = l->authed;

	if (why != NULL)
		snprintf(l->last_error, sizeof(l->last_error), "%s", why);
	if (l->bev != NULL) {
		bufferevent_free(l->bev);
		l->bev = NULL;
	}
	if (!l->authed && l->inbound && l->state == LINK_CONNECTING) {
		if (l->reserved)
			d->n_unauth_partner--;
		else
			d->n_unauth--;
	}
	l->authed = 0;
	l->state = LINK_DOWN;
	if (l->inbound) {
		if (was_authed)
			repl_in_down(d, l);
		if (d->in == l)
			d->in = NULL;
		if (l->timer != NULL)
			event_free(l->timer);
		free(l);
		return;
	}
	if (was_authed)
		repl_out_down(d);
	if (d->stopping)
		return;
	/* Reconnect with back-off: 0.5 s doubling to 30 s. */
	d->out_backoff_ms = d->out_backoff_ms == 0 ? 500 :
	    d->out_backoff_ms * 2 > D_BACKOFF_MAX_MS ? D_BACKOFF_MAX_MS :
	    d->out_backoff_ms * 2;
	{
		struct timeval tv = { d->out_backoff_ms / 1000,
		    (d->out_backoff_ms % 1000) * 1000 };

		if (l->timer == NULL)
			l->timer = evtimer_new(d->base, link_timer_cb, l);
		evtimer_add(l->timer, &tv);
	}
}

static void
link_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;
	struct daemon *d = l->d;
	int64_t idle;

	(void)fd;
	(void)what;
	if (l->state == LINK_DOWN) {	/* our link: time to reconnect */
		link_connect(d);
		return;
	}
	if (!l->authed) {
		d_security(d, "handshake-timeout", l->peer,
		    "no TLS handshake within 10 s");
		link_close(l, "handshake timeout");
		return;
	}
	idle = (d_now_ms() - l->last_rx_ms) / 1000;
	if (idle >= D_IDLE_S) {
		dlog(LOG_WARNING, "link %s idle for %lld s: closing", l->peer,
		    (long long)idle);
		link_close(l, "idle timeout");
		return;
	}
	if (!l->inbound)
		link_send(l, FR_PING, NULL, 0);
	link_arm(l, D_PING_S);
}

static void
link_read_cb(struct bufferevent *bev, void *arg)
{
	struct link *l = arg;
	struct daemon *d = l->d;
	struct evbuffer *in;
	size_t len;
	int type, r;

	(void)bev;
	while (l->bev != NULL && l->authed) {
		in = bufferevent_get_input(l->bev);
		if ((r = frame_take_head(in, &type, &len)) == 0)
			return;
		if (r < 0) {
			d_security(d, "bad-frame", l->peer, pp_errmsg());
			link_close(l, pp_errmsg());
			return;
		}
		l->last_rx_ms = d_now_ms();
		/* A package's bytes go on to the spooler without a copy. */
		if (l->inbound && type == FR_DATA) {
			repl_data_in(d, l, in, len);
			continue;
		}
		if (len > 0)
			evbuffer_remove(in, d->rxbuf, len);
		if (type == FR_PING) {
			link_send(l, FR_PONG, NULL, 0);
			continue;
		}
		if (type == FR_PONG)
			continue;
		if (l->inbound)
			repl_frame_in(d, l, type, d->rxbuf, len);
		else
			repl_frame_out(d, type, d->rxbuf, len);
	}
}

static void
link_write_cb(struct bufferevent *bev, void *arg)
{
	struct link *l = arg;

	(void)bev;
	if (!l->inbound && l->authed)
		repl_out_writable(l->d);
}

/* The handshake finished: is the peer our partner? */
static void
link_authed(struct link *l)
{
	struct daemon *d = l->d;
	SSL *ssl = bufferevent_openssl_get_ssl(l->bev);
	int fd = bufferevent_getfd(l->bev), one = 1;

	if (tls_peer_check(ssl, &d->cfg) != 0) {
		d_security(d, "handshake-refused", l->peer, pp_errmsg());
		link_close(l, pp_errmsg());
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->inbound) {
		if (l->reserved)
			d->n_unauth_partner--;
		else
			d->n_unauth--;
		/* The partner is back: our own link need not wait its back-off. */
		if (d->out.state == LINK_DOWN && d->out.timer != NULL &&
		    !d->stopping) {
			evtimer_del(d->out.timer);
			d->out_backoff_ms = 0;
			link_connect(d);
		}
		if (d->in != NULL) {
			dlog(LOG_NOTICE, "partner connected again from %s: "
			    "dropping the older link", l->peer);
			link_close(d->in, "replaced by a newer connection");
		}
		d->in = l;
	} else
		d->out_backoff_ms = 0;
	l->authed = 1;
	l->state = LINK_UP;
	l->since_ms = l->last_rx_ms = d_now_ms();
	l->last_error[0] = '\0';
	link_arm(l, D_PING_S);
	/* Output drained below 256 KiB: the sender may go on. */
	bufferevent_setwatermark(l->bev, EV_WRITE, 256 << 10, 0);
	dlog(LOG_INFO, "%s link with %s (%s) up", l->inbound ? "inbound" :
	    "outbound", d->cfg.partner, l->peer);
	if (l->inbound)
		repl_in_up(d, l);
	else
		repl_out_up(d);
}

static void
link_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct link *l = arg;
	char why[300];
	unsigned long e;

	if (what & BEV_EVENT_CONNECTED) {
		link_authed(l);
		return;
	}
	if ((e = bufferevent_get_openssl_error(bev)) != 0) {
		ERR_error_string_n(e, why, sizeof(why));
		/*
		 * Not the TLS protocol: the socket (refused, reset).  libevent
		 * then queues SSL_ERROR_SYSCALL itself, which would print as
		 * "error:00000005:lib(0)::reason(5)": say what the socket says.
		 */
		if (ERR_GET_LIB(e) != ERR_LIB_SSL) {
			e = 0;
			if (EVUTIL_SOCKET_ERROR() != 0)
				snprintf(why, sizeof(why), "%s",
				    evutil_socket_error_to_string(
				    EVUTIL_SOCKET_ERROR()));
			else
				snprintf(why, sizeof(why), "connection closed "
				    "by the peer");
		}
		while (bufferevent_get_openssl_error(bev) != 0)
			;
	} else if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "connection closed by the peer");
	else if (what & BEV_EVENT_ERROR)
		snprintf(why, sizeof(why), "%s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else
		snprintf(why, sizeof(why), "connection error");
	if (!l->authed && (e != 0 || l->inbound))
		d_security(l->d, "handshake-refused", l->peer, why);
	else
		dlog(LOG_WARNING, "link %s: %s", l->peer, why);
	link_close(l, why);
}

/* Set up the TLS bufferevent of ${l} on ${fd}. */
static int
link_tls(struct link *l, evutil_socket_t fd, SSL_CTX *ctx, int accepting)
{
	struct daemon *d = l->d;
	SSL *ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return (-1);
	if (!accepting) {
		/* The name the partner's certificate must carry. */
		SSL_set_tlsext_host_name(ssl, d->cfg.partner);
		SSL_set1_host(ssl, d->cfg.partner);
	}
	if ((l->bev = bufferevent_openssl_socket_new(d->base, fd, ssl,
	    accepting ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		SSL_free(ssl);
		return (-1);
	}
	bufferevent_openssl_set_allow_dirty_shutdown(l->bev, 1);
	bufferevent_setcb(l->bev, link_read_cb, link_write_cb, link_event_cb,
	    l);
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	/* A frame at most, buffered on input before it is taken. */
	bufferevent_setwatermark(l->bev, EV_READ, 0, 2 * FRAME_MAX);
	link_arm(l, D_HANDSHAKE_S);
	return (0);
}

static void
accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct daemon *d = arg;
	struct link *l;
	char peer[64];
	int reserved;

	(void)lis;
	(void)salen;
	addr_str(sa, peer, sizeof(peer));
	/*
	 * Unauthenticated connections cost little, and only so many.  The
	 * partner's address has slots of its own: a flood from elsewhere
	 * cannot keep the partner out.
	 */
	reserved = same_host(sa, (struct sockaddr *)&d->partner_sa);
	if ((reserved ? d->n_unauth_partner >= D_MAX_UNAUTH_PARTNER :
	    d->n_unauth >= D_MAX_UNAUTH) || d->stopping) {
		d_security(d, "connection-refused", peer, "too many "
		    "connections not yet authenticated");
		evutil_closesocket(fd);
		return;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	l->d = d;
	l->inbound = 1;
	l->state = LINK_CONNECTING;
	snprintf(l->peer, sizeof(l->peer), "%s", peer);
	l->reserved = reserved;
	if (reserved)
		d->n_unauth_partner++;
	else
		d->n_unauth++;
	if (link_tls(l, fd, d->srv_ctx, 1) != 0) {
		dlog(LOG_ERR, "cannot set up TLS for %s", peer);
		if (l->bev == NULL)
			evutil_closesocket(fd);
		link_close(l, "TLS setup failed");
	}
}

/*
 * Resolve "host:port" ${addr} into ${ss}; with ${numeric}, only an address
 * literal (no lookup, so no wait).  Returns 0 or -1.
 */
static int
resolve(const char *addr, int numeric, struct sockaddr_storage *ss,
    int *sslen)
{
	struct addrinfo hints, *ai = NULL;
	char host[PP_FQDN_MAX + 1], port[8];
	int p;

	if (config_addr_split(addr, host, &p) != 0)
		return (-1);
	snprintf(port, sizeof(port), "%d", p);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
	/* The C library's: thread-safe, as libevent's wrapper is not said to be. */
	if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL) {
		pp_err(PP_EIO, "cannot resolve %s", addr);
		return (-1);
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = (int)ai->ai_addrlen;
	freeaddrinfo(ai);
	return (0);
}

/*
 * A lookup of the partner's name, on a thread of its own: getaddrinfo can
 * block for as long as the resolver's timeouts (seconds, tens of seconds
 * with DNS down, as in a disaster), and the loop must go on answering
 * status, failover and the partner meanwhile.  The loop and the thread
 * share the job; the last to let go frees it.  Should the daemon stop
 * first, the thread finds the job cancelled and touches nothing else.
 */
struct lookup {
	pthread_mutex_t mtx;
	int refs;			/* the loop's and the thread's */
	int cancelled;			/* the loop let go: do not wake it */
	struct event *ev;		/* the loop's: activated when done */
	char addr[CONFIG_ADDR_MAX + 1];
	int rc;
	struct sockaddr_storage ss;
	int sslen;
	char err[256];
};

static void
lookup_unref(struct lookup *lk)
{
	int last;

	pthread_mutex_lock(&lk->mtx);
	last = --lk->refs == 0;
	pthread_mutex_unlock(&lk->mtx);
	if (!last)
		return;
	pthread_mutex_destroy(&lk->mtx);
	free(lk);
}

static void *
lookup_thread(void *arg)
{
	struct lookup *lk = arg;

	(void)pthread_setname_np(pthread_self(), "pp-resolver");
	if ((lk->rc = resolve(lk->addr, 0, &lk->ss, &lk->sslen)) != 0)
		snprintf(lk->err, sizeof(lk->err), "%s", pp_errmsg());
	pthread_mutex_lock(&lk->mtx);
	if (!lk->cancelled)
		event_active(lk->ev, EV_READ, 0);
	pthread_mutex_unlock(&lk->mtx);
	lookup_unref(lk);
	return (NULL);
}

/* Stop caring about the lookup in flight, if any (loop thread). */
void
link_lookup_cancel(struct daemon *d)
{
	struct lookup *lk = d->lookup;

	if (lk == NULL)
		return;
	d->lookup = NULL;
	pthread_mutex_lock(&lk->mtx);
	lk->cancelled = 1;
	pthread_mutex_unlock(&lk->mtx);
	event_free(lk->ev);
	lookup_unref(lk);
}

static void link_connect_to(struct daemon *, const struct sockaddr_storage *,
    int);

/* The lookup is done (loop thread). */
static void
lookup_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct lookup *lk = d->lookup;
	struct sockaddr_storage ss;
	char err[256];
	int rc, sslen;

	(void)fd;
	(void)what;
	if (lk == NULL)
		return;
	rc = lk->rc;
	ss = lk->ss;
	sslen = lk->sslen;
	snprintf(err, sizeof(err), "%s", lk->err);
	link_lookup_cancel(d);
	if (d->stopping)
		return;
	if (rc != 0) {
		link_close(&d->out, err);
		return;
	}
	/* Its reserved slots follow the address it now has. */
	memcpy(&d->partner_sa, &ss, sizeof(ss));
	link_connect_to(d, &ss, sslen);
}

/* Start looking up the partner's name; 0, or -1 (cannot start). */
static int
lookup_start(struct daemon *d)
{
	struct lookup *lk;
	pthread_attr_t at;
	pthread_t t;
	int rc;

	if ((lk = calloc(1, sizeof(*lk))) == NULL)
		return (-1);
	pthread_mutex_init(&lk->mtx, NULL);
	lk->refs = 2;
	snprintf(lk->addr, sizeof(lk->addr), "%s", d->cfg.partner_addr);
	if ((lk->ev = event_new(d->base, -1, 0, lookup_done_cb, d)) == NULL) {
		pthread_mutex_destroy(&lk->mtx);
		free(lk);
		return (-1);
	}
	d->lookup = lk;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &at, lookup_thread, lk);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		lk->refs = 1;		/* no thread: the loop's alone */
		link_lookup_cancel(d);
		return (-1);
	}
	return (0);
}

int
link_listen(struct daemon *d)
{
	struct sockaddr_storage ss;
	int sslen, plen;

	if (d->cfg.listen[0] == '\0') {
		pp_err(PP_EINVAL, "%s: [pool] listen is not set", d->cfg.path);
		return (-1);
	}
	if (resolve(d->cfg.listen, 0, &ss, &sslen) != 0)
		return (-1);
	/*
	 * The partner's address, for its reserved slots (unknown: none); a
	 * name is looked up by link_connect, off the loop, and set then.
	 */
	if (d->cfg.partner_addr[0] == '\0' ||
	    resolve(d->cfg.partner_addr, 1, &d->partner_sa, &plen) != 0) {
		memset(&d->partner_sa, 0, sizeof(d->partner_sa));
		pp_err_clear();
	}
	if ((d->lis = evconnlistener_new_bind(d->base, accept_cb, d,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, (struct sockaddr *)&ss, sslen)) == NULL) {
		pp_errp(PP_EIO, "cannot listen on %s", d->cfg.listen);
		return (-1);
	}
	return (0);
}

void
link_connect(struct daemon *d)
{
	struct link *l = &d->out;
	struct sockaddr_storage ss;
	int sslen;

	if (d->stopping || d->cfg.partner_addr[0] == '\0')
		return;
	l->d = d;
	l->state = LINK_CONNECTING;
	snprintf(l->peer, sizeof(l->peer), "%.63s", d->cfg.partner_addr);
	/* An address literal goes at once; a name is looked up first. */
	if (resolve(d->cfg.partner_addr, 1, &ss, &sslen) == 0) {
		link_connect_to(d, &ss, sslen);
		return;
	}
	pp_err_clear();
	if (d->lookup != NULL)
		return;		/* one lookup at a time; it connects */
	if (lookup_start(d) != 0)
		link_close(l, "cannot start looking up the partner's address");
}

/* Connect our link to the partner at ${ss}. */
static void
link_connect_to(struct daemon *d, const struct sockaddr_storage *ss,
    int sslen)
{
	struct link *l = &d->out;
	evutil_socket_t fd;

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0) {
		link_close(l, strerror(errno));
		return;
	}
	if (link_tls(l, fd, d->cli_ctx, 0) != 0) {
		evutil_closesocket(fd);
		link_close(l, "TLS setup failed");
		return;
	}
	if (bufferevent_socket_connect(l->bev, (const struct sockaddr *)ss,
	    sslen) != 0)
		link_close(l, "connect failed");
}
