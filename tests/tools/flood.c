/*
 * flood.c: tests/tools/flood, a hostile client for poolpaird's listen port
 * on loopback (tests/scenario/24-hostile.sh, docs/reliability.md).
 * For --seconds it keeps open, from source address --bind:
 *   --junk N      connections that send 1-4 KiB of random bytes;
 *   --silent N    connections that connect and say nothing;
 *   --trickle N   connections that send one random byte a second;
 * each reopened 100 ms after the daemon closes it, --reopen times in all
 * at most;
 * and on threads of their own, one after the other:
 *   --handshakes N  full TLS 1.3 handshakes (OpenSSL ClientHellos), half
 *                   without a client certificate, half with --foreign
 *                   CERT,KEY (another CA's) if given;
 *   --oversize N    with --valid CERT,KEY (a pair certificate): after the
 *                   handshake and the daemon's HELLO, a frame header whose
 *                   length is above the 1 MiB cap, then bytes (from
 *                   --valid-bind, default --bind).
 * Prints one line per kind: "KIND opened N closed_by_daemon N ..." and for
 * TLS the refusals seen.  Every count is bounded; nothing is retried
 * without bound; only the given host is contacted.  Exit 0, or 2 on a bad
 * command line.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#define FLOOD_MAX_CONNS	5000	/* of each kind at once */
#define FLOOD_FRAME_MAX	(1u << 20)
#define FLOOD_REOPEN_MS	100	/* a closed connection is reopened after */

enum kind { K_JUNK = 0, K_SILENT, K_TRICKLE, K_NKINDS };
static const char *const kind_names[K_NKINDS] = { "junk", "silent",
	"trickle" };

struct conn {
	int fd;
	enum kind kind;
	int connected;
	int64_t opened_ms, next_ms;	/* next_ms: trickle's next byte */
};

struct kstats {
	long opened, closed, refused_connect, left_open;
	int64_t life_max_ms, life_sum_ms;
};

static struct sockaddr_in dst, src, src_valid;
static int64_t end_ms;
static struct kstats ks[K_NKINDS];

/* TLS thread results. */
static long hs_done, hs_refused, hs_accepted, hs_errors;
static long ov_done, ov_closed, ov_hello, ov_errors;
static pthread_mutex_t st_mtx = PTHREAD_MUTEX_INITIALIZER;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* A socket bound to ${from}, connecting to the daemon (non-blocking if
 * ${nb}).  -1 on failure. */
static int
open_sock_from(const struct sockaddr_in *from, int nb)
{
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    (nb ? SOCK_NONBLOCK : 0), 0)) < 0)
		return (-1);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)from, sizeof(*from)) != 0 ||
	    (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 &&
	    errno != EINPROGRESS)) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
open_sock(int nb)
{

	return (open_sock_from(&src, nb));
}

/* (Re)open ${c} as a connection of its kind.  0, or -1 (counted). */
static int
conn_open(struct conn *c)
{

	if ((c->fd = open_sock(1)) < 0) {
		ks[c->kind].refused_connect++;
		return (-1);
	}
	c->connected = 0;
	c->opened_ms = now_ms();
	c->next_ms = c->opened_ms + 1000;
	ks[c->kind].opened++;
	return (0);
}

/* The daemon closed ${c} (or it failed): count it. */
static void
conn_closed(struct conn *c)
{
	int64_t life = now_ms() - c->opened_ms;

	close(c->fd);
	c->fd = -1;
	c->next_ms = now_ms() + FLOOD_REOPEN_MS;	/* reopened then */
	ks[c->kind].closed++;
	ks[c->kind].life_sum_ms += life;
	if (life > ks[c->kind].life_max_ms)
		ks[c->kind].life_max_ms = life;
}

/* ${c} became writable/readable: act by kind. */
static void
conn_event(struct conn *c, short rev)
{
	uint8_t buf[4096];
	size_t n;
	ssize_t r;

	if (rev & (POLLIN | POLLHUP | POLLERR)) {
		r = read(c->fd, buf, sizeof(buf));
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_closed(c);
			return;
		}
	}
	if (!c->connected && (rev & POLLOUT)) {
		c->connected = 1;
		if (c->kind == K_JUNK) {
			(void)RAND_bytes(buf, 2);
			n = 1024 + (((size_t)buf[0] << 8 | buf[1]) % 3072);
			(void)RAND_bytes(buf, (int)n);
			if (write(c->fd, buf, n) < 0)
				n = 0;	/* (the read side sees why) */
		}
	}
}

/* The plain connections: keep --junk/--silent/--trickle open. */
static void
plain_run(struct conn *cs, size_t n, long reopen_max)
{
	struct pollfd *pf;
	long reopened = 0;
	int64_t t;
	size_t i;

	if ((pf = calloc(n, sizeof(*pf))) == NULL)
		return;
	for (i = 0; i < n; i++)
		(void)conn_open(&cs[i]);
	while ((t = now_ms()) < end_ms) {
		for (i = 0; i < n; i++) {
			if (cs[i].fd < 0 && reopened < reopen_max &&
			    t >= cs[i].next_ms) {
				reopened++;
				(void)conn_open(&cs[i]);
			}
			if (cs[i].fd >= 0 && cs[i].kind == K_TRICKLE &&
			    cs[i].connected && t >= cs[i].next_ms) {
				uint8_t b;

				(void)RAND_bytes(&b, 1);
				if (write(cs[i].fd, &b, 1) < 0)
					b = 0;	/* (the read side sees why) */
				cs[i].next_ms += 1000;
			}
			pf[i].fd = cs[i].fd;
			pf[i].events = POLLIN | (cs[i].connected ? 0 : POLLOUT);
			pf[i].revents = 0;
		}
		if (poll(pf, n, 100) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++)
			if (cs[i].fd >= 0 && pf[i].revents != 0)
				conn_event(&cs[i], pf[i].revents);
	}
	for (i = 0; i < n; i++)
		if (cs[i].fd >= 0) {
			ks[cs[i].kind].left_open++;
			close(cs[i].fd);
		}
	free(pf);
}

/* A TLS client context: TLS 1.3, no server check, ${cert}/${key} or none. */
static SSL_CTX *
tls_ctx(const char *cert, const char *key)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return (NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (cert != NULL && (SSL_CTX_use_certificate_file(ctx, cert,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key,
	    SSL_FILETYPE_PEM) != 1)) {
		fprintf(stderr, "flood: cannot load %s / %s\n", cert, key);
		SSL_CTX_free(ctx);
		return (NULL);
	}
	return (ctx);
}

/* A blocking TLS connection from ${from} with 5 s timeouts, or NULL. */
static SSL *
tls_open(SSL_CTX *ctx, const struct sockaddr_in *from, int *fdp)
{
	struct timeval tv = { 5, 0 };
	SSL *ssl;
	int fd;

	if ((fd = open_sock_from(from, 0)) < 0)
		return (NULL);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((ssl = SSL_new(ctx)) == NULL) {
		close(fd);
		return (NULL);
	}
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, "flood.invalid");
	*fdp = fd;
	return (ssl);
}

static void
tls_close(SSL *ssl, int fd)
{

	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
}

struct tls_args {
	SSL_CTX *none, *foreign, *valid;
	long handshakes, oversize;
};

/*
 * Handshakes: in TLS 1.3 the client finishes first, so the daemon's
 * refusal shows as an alert or EOF on the first read.
 */
static void
one_handshake(SSL_CTX *ctx)
{
	uint8_t b[64];
	SSL *ssl;
	int fd, r;

	if ((ssl = tls_open(ctx, &src, &fd)) == NULL) {
		pthread_mutex_lock(&st_mtx);
		hs_errors++;
		pthread_mutex_unlock(&st_mtx);
		return;
	}
	r = SSL_connect(ssl) == 1 ? SSL_read(ssl, b, sizeof(b)) : 0;
	pthread_mutex_lock(&st_mtx);
	hs_done++;
	if (r > 0)
		hs_accepted++;		/* the daemon talked to a stranger */
	else if (r == 0 || SSL_get_error(ssl, r) != SSL_ERROR_SYSCALL ||
	    (errno != EAGAIN && errno != EWOULDBLOCK))
		hs_refused++;
	else
		hs_errors++;		/* a timeout: neither */
	pthread_mutex_unlock(&st_mtx);
	tls_close(ssl, fd);
}

/* Read exactly ${n} bytes.  0 or -1. */
static int
ssl_read_all(SSL *ssl, uint8_t *p, size_t n)
{
	int r;

	while (n > 0) {
		if ((r = SSL_read(ssl, p, n > 65536 ? 65536 : (int)n)) <= 0)
			return (-1);
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

/* Authenticate, take the daemon's HELLO, send a frame over the cap. */
static void
one_oversize(SSL_CTX *ctx)
{
	uint8_t h[5], junk[4096];
	uint32_t len;
	int fd, hello = 0, closed = 0, i;
	SSL *ssl;

	if ((ssl = tls_open(ctx, &src_valid, &fd)) == NULL ||
	    SSL_connect(ssl) != 1)
		goto out;
	if (ssl_read_all(ssl, h, 5) == 0) {
		len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
		    (uint32_t)h[2] << 8 | h[3];
		if (h[4] == 1 && len >= 1 && len <= 65536 &&
		    ssl_read_all(ssl, junk, len - 1 > sizeof(junk) ?
		    sizeof(junk) : len - 1) == 0)
			hello = 1;
	}
	if (!hello)
		goto out;
	len = FLOOD_FRAME_MAX + 1 + (uint32_t)(now_ms() % 1000000);
	h[0] = (uint8_t)(len >> 24);
	h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
	h[4] = 2;		/* DATA */
	(void)RAND_bytes(junk, sizeof(junk));
	if (SSL_write(ssl, h, 5) != 5)
		goto out;
	/* A megabyte more, if the daemon still reads: it must not. */
	for (i = 0; i < 256; i++)
		if (SSL_write(ssl, junk, sizeof(junk)) <= 0)
			break;
	while (SSL_read(ssl, junk, sizeof(junk)) > 0)
		;	/* (PINGs or whatever; bounded by the 5 s timeout) */
	closed = SSL_get_error(ssl, -1) != SSL_ERROR_SYSCALL ||
	    (errno != EAGAIN && errno != EWOULDBLOCK);
out:
	pthread_mutex_lock(&st_mtx);
	ov_done++;
	ov_hello += hello;
	ov_closed += hello && closed;
	ov_errors += !hello;
	pthread_mutex_unlock(&st_mtx);
	if (ssl != NULL)
		tls_close(ssl, fd);
}

static void *
tls_main(void *arg)
{
	struct tls_args *a = arg;
	long i;

	for (i = 0; i < a->handshakes && now_ms() < end_ms; i++)
		one_handshake(i % 2 == 0 || a->foreign == NULL ? a->none :
		    a->foreign);
	free(a);		/* (main's copy for this thread) */
	return (NULL);
}

static void *
oversize_main(void *arg)
{
	struct tls_args *a = arg;
	int64_t gap = (end_ms - now_ms()) / (a->oversize + 1);
	long i;

	for (i = 0; i < a->oversize && now_ms() < end_ms; i++) {
		usleep((useconds_t)gap * 1000);	/* spread over the run */
		one_oversize(a->valid);
	}
	return (NULL);
}

static void
usage(void)
{

	fprintf(stderr, "usage: flood --port P [--host 127.0.0.1] [--bind "
	    "127.0.0.2] [--seconds S]\n    [--junk N] [--silent N] "
	    "[--trickle N] [--reopen N] [--handshakes N]\n    [--threads T] "
	    "[--foreign CERT,KEY]\n    [--valid CERT,KEY --oversize N "
	    "[--valid-bind ADDR]]\n");
	exit(2);
}

/* "CERT,KEY" into two strings (${s} is modified). */
static void
pair_arg(char *s, char **cert, char **key)
{
	char *comma = strchr(s, ',');

	if (comma == NULL)
		usage();
	*comma = '\0';
	*cert = s;
	*key = comma + 1;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", 1, NULL, 'p' }, { "host", 1, NULL, 'H' },
		{ "bind", 1, NULL, 'b' }, { "seconds", 1, NULL, 's' },
		{ "junk", 1, NULL, 'j' }, { "silent", 1, NULL, 'q' },
		{ "trickle", 1, NULL, 't' }, { "reopen", 1, NULL, 'r' },
		{ "handshakes", 1, NULL, 'k' }, { "threads", 1, NULL, 'T' },
		{ "foreign", 1, NULL, 'f' }, { "valid", 1, NULL, 'v' },
		{ "oversize", 1, NULL, 'o' }, { "valid-bind", 1, NULL, 'B' },
		{ NULL, 0, NULL, 0 }
	};
	char *fc = NULL, *fk = NULL, *vc = NULL, *vk = NULL;
	const char *host = "127.0.0.1", *bindto = "127.0.0.2", *vbind = NULL;
	long n[K_NKINDS] = { 0 }, reopen = 0, seconds = 10, threads = 2, i;
	struct tls_args ta;
	struct rlimit rl;
	pthread_t th[16], ot;
	struct conn *cs;
	size_t total, k;
	int c, port = 0, ot_started = 0;

	signal(SIGPIPE, SIG_IGN);	/* the daemon closes on us: counted */
	memset(&ta, 0, sizeof(ta));
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'H': host = optarg; break;
		case 'b': bindto = optarg; break;
		case 's': seconds = atol(optarg); break;
		case 'j': n[K_JUNK] = atol(optarg); break;
		case 'q': n[K_SILENT] = atol(optarg); break;
		case 't': n[K_TRICKLE] = atol(optarg); break;
		case 'r': reopen = atol(optarg); break;
		case 'k': ta.handshakes = atol(optarg); break;
		case 'T': threads = atol(optarg); break;
		case 'f': pair_arg(optarg, &fc, &fk); break;
		case 'v': pair_arg(optarg, &vc, &vk); break;
		case 'o': ta.oversize = atol(optarg); break;
		case 'B': vbind = optarg; break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || seconds < 1 || seconds > 3600 ||
	    threads < 1 || threads > 16 || reopen < 0 || reopen > 1000000 ||
	    ta.handshakes < 0 || ta.handshakes > 1000000 || ta.oversize < 0 ||
	    ta.oversize > 1000 || (ta.oversize > 0 && vc == NULL))
		usage();
	for (k = 0; k < K_NKINDS; k++)
		if (n[k] < 0 || n[k] > FLOOD_MAX_CONNS)
			usage();
	memset(&dst, 0, sizeof(dst));
	memset(&src, 0, sizeof(src));
	dst.sin_family = src.sin_family = src_valid.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &dst.sin_addr) != 1 ||
	    inet_pton(AF_INET, bindto, &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, vbind != NULL ? vbind : bindto,
	    &src_valid.sin_addr) != 1 ||
	    (ntohl(dst.sin_addr.s_addr) >> 24) != 127 ||
	    (ntohl(src.sin_addr.s_addr) >> 24) != 127 ||
	    (ntohl(src_valid.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "flood: loopback addresses only (127/8)\n");
		return (2);
	}
	/* Room for every descriptor asked for. */
	total = (size_t)(n[K_JUNK] + n[K_SILENT] + n[K_TRICKLE]);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < total + 64) {
		rl.rlim_cur = rl.rlim_max < total + 64 ? rl.rlim_max :
		    total + 64;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	end_ms = now_ms() + seconds * 1000;
	if ((ta.none = tls_ctx(NULL, NULL)) == NULL ||
	    (fc != NULL && (ta.foreign = tls_ctx(fc, fk)) == NULL) ||
	    (vc != NULL && (ta.valid = tls_ctx(vc, vk)) == NULL))
		return (2);
	if (ta.handshakes == 0)
		threads = 0;
	for (i = 0; i < threads; i++) {
		struct tls_args *a = malloc(sizeof(*a));

		if (a == NULL)
			return (2);
		*a = ta;
		a->handshakes = ta.handshakes / threads +
		    (i < ta.handshakes % threads);
		if (pthread_create(&th[i], NULL, tls_main, a) != 0) {
			free(a);
			threads = i;
			break;
		}
	}
	if (ta.oversize > 0 &&
	    pthread_create(&ot, NULL, oversize_main, &ta) == 0)
		ot_started = 1;
	if ((cs = calloc(total > 0 ? total : 1, sizeof(*cs))) == NULL)
		return (2);
	for (k = 0, i = 0; k < K_NKINDS; k++) {
		long j;

		for (j = 0; j < n[k]; j++, i++) {
			cs[i].kind = (enum kind)k;
			cs[i].fd = -1;
		}
	}
	if (total > 0)
		plain_run(cs, total, reopen);
	else
		while (now_ms() < end_ms)
			usleep(100000);
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	if (ot_started)
		pthread_join(ot, NULL);
	for (k = 0; k < K_NKINDS; k++)
		if (n[k] > 0)
			printf("%s opened %ld closed_by_daemon %ld "
			    "connect_failed %ld open_at_end %ld "
			    "life_max_ms %lld life_avg_ms %lld\n", kind_names[k],
			    ks[k].opened, ks[k].closed, ks[k].refused_connect,
			    ks[k].left_open, (long long)ks[k].life_max_ms,
			    (long long)(ks[k].closed > 0 ? ks[k].life_sum_ms /
			    ks[k].closed : 0));
	if (ta.handshakes > 0)
		printf("handshake done %ld refused %ld accepted %ld "
		    "errors %ld\n", hs_done, hs_refused, hs_accepted,
		    hs_errors);
	if (ta.oversize > 0)
		printf("oversize done %ld hello %ld closed_by_daemon %ld "
		    "errors %ld\n", ov_done, ov_hello, ov_closed, ov_errors);
	free(cs);
	SSL_CTX_free(ta.none);
	SSL_CTX_free(ta.foreign);
	SSL_CTX_free(ta.valid);
	return (0);
}
