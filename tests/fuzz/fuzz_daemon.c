/*
 * fuzz_daemon.c: a poolpaird without sockets, threads or timers for the
 * harnesses (see fuzz_daemon.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "bk_keys.h"
#include "err.h"
#include "fileio.h"
#include "frame.h"
#include "fuzz_daemon.h"
#include "fuzz_env.h"
#include "fuzz_keys.h"
#include "util.h"
#include "worker.h"

#define SETTLE_ROUNDS	256	/* loop passes and jobs per settle */

static char data_dir[PATH_MAX];		/* the store */
static char clean_dir[PATH_MAX];	/* its files as created */
static struct stat clean_db;		/* pool.db as created */
static int peer_fd[2] = { -1, -1 };	/* far ends of the out and in links */
static struct evbuffer *sent[2];	/* what the daemon sent on each */
static int fds_at_begin;

/* The number of open descriptors of this process. */
static int
fd_count(void)
{
	DIR *dir;
	int n = 0;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while (readdir(dir) != NULL)
		n++;
	closedir(dir);
	return (n);
}

/* Copy the regular files of directory ${from} into directory ${to}. */
static void
copy_files(const char *from, const char *to)
{
	char src[PATH_MAX], dst[PATH_MAX];
	struct dirent *e;
	struct stat sb;
	uint8_t *buf;
	size_t len;
	DIR *dir;

	if ((dir = opendir(from)) == NULL)
		fuzz_fail("cannot list the store");
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.' || e->d_type != DT_REG)
			continue;
		snprintf(src, sizeof(src), "%s/%s", from, e->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", to, e->d_name);
		if (stat(src, &sb) == 0 && sb.st_size == 0) {
			if (fuzz_write_file(dst, "", 0) != 0)
				fuzz_fail("cannot copy the store");
			continue;
		}
		if (fileio_read(src, 1 << 26, 0, &buf, &len, "store file") != 0 ||
		    fuzz_write_file(dst, buf, len) != 0)
			fuzz_fail("cannot copy the store");
		free(buf);
	}
	closedir(dir);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{

	(void)sb;
	(void)flag;
	return (ftw->level == 0 ? 0 : remove(path));
}

/*
 * A worker without a thread: fuzz_daemon_settle runs its queue.  With
 * ${st} (not NULL) it shares that store handle, else it opens its own.
 */
static struct worker *
worker_fake(struct daemon *d, const char *name, struct store *st)
{
	struct worker *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		fuzz_fail("out of memory");
	w->d = d;
	w->name = name;
	w->qtail = &w->q;
	w->donetail = &w->doneq;
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((w->st = st) == NULL && (w->st = store_open(data_dir)) == NULL)
		fuzz_fail("cannot open the fuzz store");
	return (w);
}

/* Put the store back as created if an input wrote to it. */
static void
store_restore(struct daemon *d)
{
	char path[PATH_MAX + 16];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/pool.db-wal", data_dir);
	if (stat(path, &sb) != 0 || sb.st_size == 0) {
		snprintf(path, sizeof(path), "%s/pool.db", data_dir);
		if (stat(path, &sb) == 0 && sb.st_size == clean_db.st_size &&
		    sb.st_mtim.tv_sec == clean_db.st_mtim.tv_sec &&
		    sb.st_mtim.tv_nsec == clean_db.st_mtim.tv_nsec)
			return;
	}
	store_close(d->exporter->st);
	store_close(d->importer->st);
	(void)nftw(data_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	copy_files(clean_dir, data_dir);
	if ((d->exporter->st = store_open(data_dir)) == NULL ||
	    (d->importer->st = store_open(data_dir)) == NULL)
		fuzz_fail("cannot open the fuzz store again");
	d->haver->st = d->stager->st = d->spooler->st = d->importer->st;
	snprintf(path, sizeof(path), "%s/pool.db", data_dir);
	if (stat(path, &clean_db) != 0)
		fuzz_fail("no pool.db");
}

struct daemon *
fuzz_daemon_new(void)
{
	const char *dir = fuzz_tmpdir("pp-fuzz-daemon");
	char path[PATH_MAX + 16];
	struct daemon *d;

	fuzz_env_pki(dir);
	snprintf(data_dir, sizeof(data_dir), "%s/data", dir);
	snprintf(clean_dir, sizeof(clean_dir), "%s/data.clean", dir);
	if (store_create(data_dir, FUZZ_POOL, NULL) != 0 ||
	    mkdir(clean_dir, 0700) != 0)
		fuzz_fail("cannot create the fuzz store");
	copy_files(data_dir, clean_dir);
	snprintf(path, sizeof(path), "%s/pool.db", data_dir);
	if (stat(path, &clean_db) != 0)
		fuzz_fail("no pool.db");
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fuzz_fail("out of memory");
	fuzz_env_config(dir, &d->cfg);
	if (bk_keys_from_config(&d->cfg, &d->keys) != 0 ||
	    (d->base = event_base_new()) == NULL ||
	    (d->have_ev = event_new(d->base, -1, 0, repl_have_cb, d)) == NULL ||
	    (d->inq_ev = event_new(d->base, -1, 0, repl_inq_cb, d)) == NULL)
		fuzz_fail("cannot set up the daemon");
	pthread_mutex_init(&d->mtx, NULL);
	pthread_cond_init(&d->have_cv, NULL);
	pthread_cond_init(&d->spool_cv, NULL);
	pthread_cond_init(&d->out_cv, NULL);
	pthread_cond_init(&d->inq_cv, NULL);
	d->exporter = worker_fake(d, "exporter", NULL);
	d->importer = worker_fake(d, "importer", NULL);
	/*
	 * The jobs run one at a time on this thread: the chunk reader and
	 * the stager may use the importer's handle (more handles on one
	 * file would make SQLite hold some descriptors past their close).
	 * The spooler's handle is not used (the daemon's has none).
	 */
	d->haver = worker_fake(d, "haver", d->importer->st);
	d->stager = worker_fake(d, "stager", d->importer->st);
	d->spooler = worker_fake(d, "spooler", d->importer->st);
	d->out.d = d;
	d->stopping = 1;
	d->started_ms = d_now_ms();
	sent[0] = evbuffer_new();
	sent[1] = evbuffer_new();
	if (sent[0] == NULL || sent[1] == NULL)
		fuzz_fail("out of memory");
	return (d);
}

/* A bufferevent for link ${l}, on a socketpair whose far end is ${i}. */
static void
link_fake(struct daemon *d, struct link *l, int i)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) != 0 || (l->bev = bufferevent_socket_new(d->base, sv[0],
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fuzz_fail("cannot make a link");
	peer_fd[i] = sv[1];
	bufferevent_enable(l->bev, EV_WRITE);
	l->d = d;
	l->authed = 1;
	l->state = LINK_UP;
	l->since_ms = l->last_rx_ms = d_now_ms();
	snprintf(l->peer, sizeof(l->peer), "fuzz:%d", i);
}

void
fuzz_daemon_begin(struct daemon *d, unsigned flags)
{
	struct link *in;
	int m;

	fds_at_begin = fd_count();
	memset(d->mod, 0, sizeof(d->mod));
	memset(d->owners, 0, sizeof(d->owners));
	d->master = (flags & FUZZ_D_MASTER) != 0;
	d->partner_master = !d->master;
	d->fenced = (flags & FUZZ_D_FENCED) != 0;
	d->have_state = HAVE_IDLE;
	for (m = 0; m < STORE_NMOD && (flags & FUZZ_D_REPLICA); m++) {
		d->mod[m].have_replica = 1;
		d->mod[m].imp_epoch = 1;
		d->mod[m].imp_lsn = 10;
	}
	memset(&d->out, 0, sizeof(d->out));
	d->out.d = d;
	if (flags & FUZZ_D_OUT_UP)
		link_fake(d, &d->out, 0);
	d->in = NULL;
	if (flags & FUZZ_D_IN_UP) {
		if ((in = calloc(1, sizeof(*in))) == NULL)
			fuzz_fail("out of memory");
		in->inbound = 1;
		link_fake(d, in, 1);
		d->in = in;
		repl_in_up(d, in);	/* as link_authed: HELLO */
	}
}

/* Run the first job of ${w}, if any.  Returns 1 if one ran. */
static int
job_run_one(struct worker *w)
{
	struct job *j;

	if ((j = w->q) == NULL)
		return (0);
	if ((w->q = j->next) == NULL)
		w->qtail = &w->q;
	j->next = NULL;
	pp_err_clear();
	j->run(w, j);
	if (j->done != NULL)
		j->done(w->d, j);
	free(j);
	return (1);
}

/* Take what the daemon sent on link ${i} into sent[${i}]. */
static void
peer_read(int i)
{
	uint8_t buf[65536];
	ssize_t n;

	while (peer_fd[i] >= 0 && (n = read(peer_fd[i], buf, sizeof(buf))) > 0)
		evbuffer_add(sent[i], buf, (size_t)n);
}

void
fuzz_daemon_settle(struct daemon *d)
{
	int i;

	for (i = 0; i < SETTLE_ROUNDS; i++) {
		(void)event_base_loop(d->base, EVLOOP_NONBLOCK);
		peer_read(0);
		peer_read(1);
		/*
		 * The spooler takes its queue to the end: not while the
		 * package is still coming (the loop would have to add to it);
		 * a streaming import or a prestage follows the spool to its
		 * end: not before the spooler is done.  (The exporter
		 * would wait for the loop once D_OUT_QUEUE is queued: the
		 * harness's packages are far smaller.)
		 */
		if (!job_run_one(d->exporter) && !job_run_one(d->haver) &&
		    (d->ipkg != NULL || (!job_run_one(d->spooler) &&
		    !job_run_one(d->importer) && !job_run_one(d->stager)))) {
			(void)event_base_loop(d->base, EVLOOP_NONBLOCK);
			if (d->exporter->q == NULL && d->haver->q == NULL &&
			    (d->ipkg != NULL || (d->spooler->q == NULL &&
			    d->importer->q == NULL && d->stager->q == NULL)))
				return;
		}
	}
}

/* What the daemon sent on link ${i} must be whole, valid frames. */
static void
sent_check(int i)
{
	static uint8_t buf[FRAME_MAX];
	size_t len;
	int type, r;

	while ((r = frame_take(sent[i], &type, buf, &len)) == 1)
		continue;
	if (r < 0)
		fuzz_fail("the daemon sent a bad frame");
	evbuffer_drain(sent[i], evbuffer_get_length(sent[i]));
}

void
fuzz_daemon_end(struct daemon *d)
{
	int i, n;

	fuzz_daemon_settle(d);
	if (d->in != NULL)
		link_close(d->in, "fuzz: end of input");
	if (d->out.bev != NULL || d->out.authed)
		link_close(&d->out, "fuzz: end of input");
	fuzz_daemon_settle(d);
	for (i = 0; i < 2; i++) {
		peer_read(i);
		sent_check(i);
		if (peer_fd[i] >= 0)
			close(peer_fd[i]);
		peer_fd[i] = -1;
	}
	if (d->ipkg != NULL || d->opkg != NULL)
		fuzz_fail("a package is still open after the links went down");
	if (d->exporter->q != NULL || d->importer->q != NULL ||
	    d->haver->q != NULL || d->spooler->q != NULL ||
	    d->stager->q != NULL)
		fuzz_fail("jobs still queued after settling");
	d->have_state = HAVE_IDLE;
	d->have_bits = NULL;
	store_restore(d);
	if ((n = fd_count()) != fds_at_begin) {
		fprintf(stderr, "fuzz: %d descriptors open, %d before\n", n,
		    fds_at_begin);
		fuzz_fail("descriptors leaked");
	}
}
