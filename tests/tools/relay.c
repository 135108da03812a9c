/*
 * relay.c: a fault-injecting TCP relay for the scenario tests (22-faults).
 * It listens on 127.0.0.1:PORT, connects each client to TARGET and
 * forwards both ways through bounded buffers with poll(), injecting the
 * faults its settings ask for:
 *
 *   drop_after=N   close a connection once N bytes (both ways) went through
 *   drop_rate=P    close a connection at a read with probability P
 *   rst=1          drops close with a TCP reset (SO_LINGER 0), not a FIN
 *   stall=T        forward nothing for T ms from now (once per setting)
 *   delay=D        hold every piece read for D ms before forwarding it
 *   flip_rate=R    flip one random bit of a byte with probability R a byte
 *                  (at most one flip a connection)
 *   faults=K       inject at most K faults (drops, flips, stalls), then pass
 *   pass           (alone) nothing: forward faithfully
 *
 * The settings come from the command line and are replaced by the words of
 * the control file (-c) on SIGHUP.  The counters go to the stats file (-s)
 * as one line of key=value words whenever they change (at most every 50 ms)
 * and at exit.  SIGTERM, SIGINT or the lifetime (-T, 600 s) end it.
 *
 * usage: relay -l PORT -t HOST:PORT [-c CTL] [-s STATS] [-T SECS] [-S SEED]
 *              [SETTING...]
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define R_MAXCONN	32		/* connection pairs at once */
#define R_BUF		65536		/* bytes buffered a direction */
#define R_SEGS		64		/* pieces held a direction (delay) */

struct settings {
	long long drop_after;
	double drop_rate, flip_rate;
	int rst, stall_ms, delay_ms;
	long long faults;		/* 0: no cap */
};

/* One direction of a pair: bytes read from one socket, for the other. */
struct dir {
	unsigned char buf[R_BUF];
	size_t head, tail;		/* buf[head..tail) waits */
	size_t segend[R_SEGS];		/* end offset of each piece */
	int64_t segrel[R_SEGS];		/* when it may go */
	int nseg;
	long long to_flip;		/* bytes until the next flip */
	int flipped;
	int eof;			/* the reading side closed */
	int shut;			/* ... and that went on: SHUT_WR */
};

struct pair {
	int fd[2];			/* 0 client, 1 server */
	int connected;			/* the server side is up */
	int closer;			/* the side that closed first, or -1 */
	long long bytes;
	struct dir d[2];		/* d[0]: client to server */
};

static struct {
	long long conns, refused, bytes[2], drops, stalls, delayed, flips;
	long long flipped_conns, closed_client, closed_server, closed_relay;
	long long detected;		/* flipped pairs an endpoint closed */
} st;

static struct settings cur;
static struct pair *pairs[R_MAXCONN];
static struct sockaddr_in target;
static const char *ctl_path, *stats_path;
static volatile sig_atomic_t got_hup, got_term;
static uint64_t rng;
static int64_t stall_until;
static long long faults_done;
static int stats_dirty;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* xorshift64*: a uniform double in [0, 1). */
static double
rnd01(void)
{

	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return ((double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0);
}

/* May one more fault be injected?  Counts it if so. */
static int
fault_ok(void)
{

	if (cur.faults > 0 && faults_done >= cur.faults)
		return (0);
	faults_done++;
	stats_dirty = 1;
	return (1);
}

/* Bytes until the next flip at rate ${r} (geometric), or -1: never. */
static long long
next_flip(double r)
{
	double u;

	if (r <= 0)
		return (-1);
	if (r >= 1)
		return (0);
	u = rnd01();
	return ((long long)floor(log(1.0 - u) / log(1.0 - r)));
}

/* Parse one setting word ${w} into ${s}.  Returns 0, or -1 if unknown. */
static int
setting(struct settings *s, const char *w)
{

	if (strcmp(w, "pass") == 0)
		return (0);
	if (sscanf(w, "drop_after=%lld", &s->drop_after) == 1 ||
	    sscanf(w, "drop_rate=%lf", &s->drop_rate) == 1 ||
	    sscanf(w, "flip_rate=%lf", &s->flip_rate) == 1 ||
	    sscanf(w, "rst=%d", &s->rst) == 1 ||
	    sscanf(w, "stall=%d", &s->stall_ms) == 1 ||
	    sscanf(w, "delay=%d", &s->delay_ms) == 1 ||
	    sscanf(w, "faults=%lld", &s->faults) == 1)
		return (0);
	fprintf(stderr, "relay: unknown setting '%s'\n", w);
	return (-1);
}

/* New settings ${s} take effect: restart the fault budget and the flips. */
static void
apply(const struct settings *s)
{
	int i, k;

	cur = *s;
	faults_done = 0;
	stall_until = 0;		/* a stall ends with its setting */
	if (cur.stall_ms > 0 && fault_ok()) {
		stall_until = now_ms() + cur.stall_ms;
		st.stalls++;
	}
	for (i = 0; i < R_MAXCONN; i++)
		for (k = 0; pairs[i] != NULL && k < 2; k++)
			pairs[i]->d[k].to_flip = next_flip(cur.flip_rate);
}

/* Re-read the control file (words separated by white space). */
static void
reload(void)
{
	struct settings s;
	char w[128];
	FILE *f;
	int n = 0;

	memset(&s, 0, sizeof(s));
	if ((f = fopen(ctl_path, "r")) == NULL) {
		perror(ctl_path);
		return;
	}
	while (n++ < 64 && fscanf(f, "%127s", w) == 1)
		if (setting(&s, w) != 0) {
			fclose(f);
			return;		/* a bad file changes nothing */
		}
	fclose(f);
	apply(&s);
	fprintf(stderr, "relay: settings reloaded\n");
}

static void
write_stats(void)
{
	char tmp[4096];
	FILE *f;

	stats_dirty = 0;
	if (stats_path == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", stats_path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "conns=%lld refused=%lld bytes_c2s=%lld bytes_s2c=%lld "
	    "drops=%lld stalls=%lld delayed=%lld flips=%lld flipped_conns=%lld "
	    "detected=%lld closed_client=%lld closed_server=%lld "
	    "closed_relay=%lld\n", st.conns, st.refused, st.bytes[0],
	    st.bytes[1], st.drops, st.stalls, st.delayed, st.flips,
	    st.flipped_conns, st.detected, st.closed_client, st.closed_server,
	    st.closed_relay);
	if (fclose(f) == 0)
		rename(tmp, stats_path);
}

/* Close pair ${i}; ${who}: 0 client, 1 server, 2 the relay (a drop). */
static void
pair_close(int i, int who)
{
	struct pair *p = pairs[i];
	struct linger lg = { 1, 0 };
	int k;

	if (who == 2 && cur.rst)
		for (k = 0; k < 2; k++)
			(void)setsockopt(p->fd[k], SOL_SOCKET, SO_LINGER, &lg,
			    sizeof(lg));
	for (k = 0; k < 2; k++)
		close(p->fd[k]);
	if (who == 0)
		st.closed_client++;
	else if (who == 1)
		st.closed_server++;
	else
		st.closed_relay++;
	if (who != 2 && who >= 0 && (p->d[0].flipped || p->d[1].flipped))
		st.detected++;
	free(p);
	pairs[i] = NULL;
	stats_dirty = 1;
}

static void
pair_new(int lfd)
{
	struct pair *p;
	int fd, sfd, i, k;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		return;
	for (i = 0; i < R_MAXCONN && pairs[i] != NULL; i++)
		;
	if (i == R_MAXCONN || (p = calloc(1, sizeof(*p))) == NULL) {
		st.refused++;
		close(fd);
		return;
	}
	if ((sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0 || (connect(sfd, (struct sockaddr *)&target,
	    sizeof(target)) != 0 && errno != EINPROGRESS)) {
		if (sfd >= 0)
			close(sfd);
		close(fd);
		free(p);
		st.refused++;
		return;
	}
	p->fd[0] = fd;
	p->fd[1] = sfd;
	p->closer = -1;
	for (k = 0; k < 2; k++)
		p->d[k].to_flip = next_flip(cur.flip_rate);
	pairs[i] = p;
	st.conns++;
	stats_dirty = 1;
}

/*
 * Read what fits from side ${k} of pair ${i}.  Returns 0, 1 at the end of
 * its stream, -1 on an error, -2 if the relay drops the pair now.
 */
static int
pair_read(int i, int k)
{
	struct pair *p = pairs[i];
	struct dir *d = &p->d[k];
	ssize_t n, off, pos;
	size_t j;

	if (d->head > 0 && d->head == d->tail)
		d->head = d->tail = 0;
	if (d->tail == R_BUF && d->head > 0) {
		memmove(d->buf, d->buf + d->head, d->tail - d->head);
		for (j = 0; j < (size_t)d->nseg; j++)
			d->segend[j] -= d->head;
		d->tail -= d->head;
		d->head = 0;
	}
	if (d->tail == R_BUF || d->nseg == R_SEGS)
		return (0);
	n = read(p->fd[k], d->buf + d->tail, R_BUF - d->tail);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR ? 0 : -1);
	if (n == 0)
		return (1);
	/* Flip bits where the geometric count says. */
	for (off = 0; d->to_flip >= 0 && d->to_flip < n - off;
	    off = pos + 1, d->to_flip = next_flip(cur.flip_rate)) {
		pos = off + d->to_flip;
		/* One flip a connection: TLS must end it; more prove nothing. */
		if (p->d[0].flipped || p->d[1].flipped || !fault_ok())
			continue;
		d->buf[d->tail + pos] ^= (unsigned char)(1u << (int)(rnd01() * 8));
		st.flips++;
		if (!p->d[0].flipped && !p->d[1].flipped)
			st.flipped_conns++;
		d->flipped = 1;
	}
	if (d->to_flip >= 0)
		d->to_flip -= n - off;
	d->tail += (size_t)n;
	st.bytes[k] += n;
	p->bytes += n;
	d->segend[d->nseg] = d->tail;
	d->segrel[d->nseg] = now_ms() + cur.delay_ms;
	d->nseg++;
	if (cur.delay_ms > 0)
		st.delayed++;
	stats_dirty = 1;
	if ((cur.drop_after > 0 && p->bytes >= cur.drop_after) ||
	    (cur.drop_rate > 0 && rnd01() < cur.drop_rate)) {
		if (fault_ok()) {
			st.drops++;
			return (-2);
		}
	}
	return (0);
}

/* Write the pieces of direction ${k} that are due.  -1 if the peer is gone. */
static int
pair_write(int i, int k, int64_t now)
{
	struct pair *p = pairs[i];
	struct dir *d = &p->d[k];
	size_t upto;
	ssize_t n;
	int j;

	while (d->nseg > 0 && d->segrel[0] <= now) {
		upto = d->segend[0];
		if (d->head < upto) {
			n = write(p->fd[1 - k], d->buf + d->head, upto - d->head);
			if (n < 0)
				return (errno == EAGAIN || errno == EINTR ? 0 : -1);
			d->head += (size_t)n;
			if (d->head < upto)
				return (0);
		}
		for (j = 1; j < d->nseg; j++) {
			d->segend[j - 1] = d->segend[j];
			d->segrel[j - 1] = d->segrel[j];
		}
		d->nseg--;
	}
	return (0);
}

/* The earliest moment something held becomes due (or ${def}). */
static int64_t
next_due(int64_t def)
{
	int i, k;

	for (i = 0; i < R_MAXCONN; i++)
		for (k = 0; pairs[i] != NULL && k < 2; k++)
			if (pairs[i]->d[k].nseg > 0 &&
			    pairs[i]->d[k].segrel[0] < def)
				def = pairs[i]->d[k].segrel[0];
	return (def);
}

/* One pass over pair ${i} after poll: ${ev} are its revents. */
static void
pair_step(int i, const short ev[2], int64_t now)
{
	struct pair *p = pairs[i];
	int k, r, stalled = now < stall_until;

	if (!p->connected && (ev[1] & (POLLOUT | POLLERR | POLLHUP))) {
		int e = 0;
		socklen_t el = sizeof(e);

		if (getsockopt(p->fd[1], SOL_SOCKET, SO_ERROR, &e, &el) != 0 ||
		    e != 0) {
			pair_close(i, 1);
			return;
		}
		p->connected = 1;
	}
	if (!p->connected)
		return;
	for (k = 0; k < 2 && !stalled; k++) {
		if (pair_write(i, k, now) != 0) {
			pair_close(i, 1 - k);
			return;
		}
		/* A half close goes on once what came before it did. */
		if (p->d[k].eof && !p->d[k].shut && p->d[k].nseg == 0) {
			(void)shutdown(p->fd[1 - k], SHUT_WR);
			p->d[k].shut = 1;
		}
	}
	if (p->d[0].shut && p->d[1].shut) {
		pair_close(i, p->closer);
		return;
	}
	for (k = 0; k < 2 && !stalled; k++) {
		if (p->d[k].eof || !(ev[k] & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if ((r = pair_read(i, k)) == -2) {
			pair_close(i, 2);
			return;
		}
		if (r == -1) {
			/* An error: no point in going on. */
			pair_close(i, k);
			return;
		}
		if (r == 1) {
			p->d[k].eof = 1;
			if (p->closer < 0)
				p->closer = k;
		}
	}
}

static void
on_signal(int sig)
{

	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static int
usage(void)
{

	fprintf(stderr, "usage: relay -l PORT -t HOST:PORT [-c CTL] [-s STATS] "
	    "[-T SECS] [-S SEED] [SETTING...]\n");
	return (2);
}

int
main(int argc, char **argv)
{
	struct pollfd pfd[1 + 2 * R_MAXCONN];
	struct sockaddr_in la;
	struct settings s;
	struct sigaction sa;
	char host[64];
	int64_t end, now, due, last_stats = 0;
	int c, lfd, one = 1, port = 0, tport = 0, life = 600, i, n, k;
	short ev[2];

	memset(&s, 0, sizeof(s));
	rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((c = getopt(argc, argv, "l:t:c:s:T:S:")) != -1) {
		switch (c) {
		case 'l': port = atoi(optarg); break;
		case 't':
			if (sscanf(optarg, "%63[^:]:%d", host, &tport) != 2)
				return (usage());
			break;
		case 'c': ctl_path = optarg; break;
		case 's': stats_path = optarg; break;
		case 'T': life = atoi(optarg); break;
		case 'S': rng = strtoull(optarg, NULL, 10) | 1; break;
		default: return (usage());
		}
	}
	for (i = optind; i < argc; i++)
		if (setting(&s, argv[i]) != 0)
			return (usage());
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)tport);
	if (port <= 0 || tport <= 0 || life <= 0 ||
	    inet_pton(AF_INET, host, &target.sin_addr) != 1)
		return (usage());
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	memset(&la, 0, sizeof(la));
	la.sin_family = AF_INET;
	la.sin_port = htons((uint16_t)port);
	la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 || bind(lfd, (struct sockaddr *)&la,
	    sizeof(la)) != 0 || listen(lfd, 16) != 0) {
		perror("relay: listen");
		return (1);
	}
	apply(&s);
	write_stats();
	end = now_ms() + (int64_t)life * 1000;
	while (!got_term && (now = now_ms()) < end) {
		if (got_hup) {
			got_hup = 0;
			if (ctl_path != NULL)
				reload();
		}
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < R_MAXCONN; i++) {
			struct pair *p = pairs[i];

			for (k = 0; k < 2; k++) {
				pfd[1 + 2 * i + k].fd = p != NULL ? p->fd[k] : -1;
				pfd[1 + 2 * i + k].events = 0;
				pfd[1 + 2 * i + k].revents = 0;
			}
			if (p == NULL)
				continue;
			if (!p->connected) {
				pfd[2 + 2 * i].events = POLLOUT;
				continue;
			}
			for (k = 0; k < 2; k++) {
				if (!p->d[k].eof && now >= stall_until &&
				    p->d[k].tail - p->d[k].head < R_BUF &&
				    p->d[k].nseg < R_SEGS)
					pfd[1 + 2 * i + k].events |= POLLIN;
				if (p->d[k].nseg > 0 &&
				    p->d[k].segrel[0] <= now &&
				    now >= stall_until)
					pfd[2 + 2 * i - k].events |= POLLOUT;
			}
		}
		due = next_due(now + 50);
		if (stall_until > now && stall_until < due)
			due = stall_until;
		n = poll(pfd, 1 + 2 * R_MAXCONN, (int)(due > now ? due - now : 0));
		if (n < 0 && errno != EINTR)
			break;
		now = now_ms();
		if (n > 0 && (pfd[0].revents & POLLIN))
			pair_new(lfd);
		for (i = 0; i < R_MAXCONN; i++) {
			if (pairs[i] == NULL)
				continue;
			ev[0] = n > 0 ? pfd[1 + 2 * i].revents : 0;
			ev[1] = n > 0 ? pfd[2 + 2 * i].revents : 0;
			pair_step(i, ev, now);
		}
		if (stats_dirty && now - last_stats >= 50) {
			write_stats();
			last_stats = now;
		}
	}
	for (i = 0; i < R_MAXCONN; i++)
		if (pairs[i] != NULL)
			pair_close(i, 2);
	write_stats();
	close(lfd);
	return (0);
}
