/*
 * repl.c: replication over the links.  Out (this pool's data to the
 * partner): every tick, for the first module with changes past what the
 * partner acked (userdata, then config, then confcontent: content needs
 * its conference), the exporter thread writes a package into a pipe and
 * the loop forwards it as DATA frames, pausing while the TLS output is
 * full (the pipe then fills and the exporter waits: memory stays bounded).
 * After END the partner imports and answers ACK (the acked LSN: the
 * journal is pruned up to it) or NACK (the reason; retried with back-off,
 * as a snapshot if the partner needs one).  In (the partner's data): DATA
 * frames go through a pipe to the importer thread, which spools them to a
 * file and, after END, imports the package in one transaction and answers.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>

#include "daemon.h"
#include "err.h"
#include "fileio.h"
#include "frame.h"
#include "util.h"
#include "worker.h"

/* The order modules are shipped in when several have changes. */
static const enum store_module ship_order[STORE_NMOD] = {
	STORE_MOD_USERDATA, STORE_MOD_CONFIG, STORE_MOD_CONFCONTENT
};

/* A package on its way out. */
struct out_pkg {
	struct daemon *d;
	enum store_module module;
	int64_t since;
	/*
	 * The exporter appends the package to q (under d->mtx, waiting on
	 * d->out_cv while it holds D_OUT_QUEUE) and wakes the loop (rev),
	 * which sends it on as DATA frames: no pipe, no copies through the
	 * kernel.  dead (under d->mtx once the exporter runs): the link went.
	 */
	struct evbuffer *q;
	int qwait;			/* under d->mtx: the exporter waits */
	struct event *rev;
	int eof, done, rc, dead, paused;
	char err[512];
	struct bk_export_result res;
	int64_t sent;
	int64_t t0_ms;			/* started */
};

/* A package on its way in. */
struct in_pkg {
	struct daemon *d;
	enum store_module module;
	struct imp_job *job;
};

struct imp_job {
	struct daemon *d;
	enum store_module module;
	/*
	 * The loop adds each DATA frame's bytes to q and the spooler moves
	 * all of them out at once (under d->mtx): no pipe.  Past
	 * D_OUT_QUEUE the loop stops reading the link (qwait) until the
	 * spooler has taken them (inq_ev).
	 */
	struct evbuffer *q;
	struct evbuffer *qb;		/* the spooler's: what it took */
	int qclosed, qwait;		/* under d->mtx */
	int end;			/* under d->mtx: END came */
	struct bk_import_result res;
	enum pp_err code;
	int64_t t0_ms, t_end_ms;	/* first byte, END (for the log) */
	char path[PATH_MAX + 64];	/* its spool file */
	/*
	 * Streaming: the importer reads the spool file as it grows
	 * (spool_follow) and applies the package as it comes; if the link
	 * makes the import wait too long with the store's write lock held,
	 * the reader cuts it (cut = 1), the import fails and rolls back, and
	 * the spool file is imported after END instead.  The spooler never
	 * waits for the importer: the link runs at the disk's pace, whatever
	 * the import's.
	 */
	int streamed;
	int64_t spooled;		/* under d->mtx: bytes in the spool */
	int spool_over;			/* under d->mtx: 1 ended, -1 failed */
	/*
	 * Or prestaged: while the importer is busy, the stager reads the
	 * spool file the same way and seals the new chunks of a content
	 * package ahead of its import (bk_prestage), without the write lock,
	 * keeping its records for the import.
	 */
	int staging;
	/*
	 * And its spool freed behind the stager (punch): nothing reads it
	 * again if the records were kept, so its bytes need never reach the
	 * disk.  Where the import would need them after all it fails with
	 * PP_EAGAIN, the partner sends the package again, and that one is
	 * spooled whole (dm->spool_whole).  punched: the stager's, once it
	 * freed some.
	 */
	int punch, punched;
	struct bk_prestaged *pre;
	int cut;			/* under d->mtx */
	int spool_rc, stream_rc;	/* loop: -2 until that job is done */
	enum pp_err spool_code;		/* the spooler's (code: the importer's) */
	char spool_err[256], stream_err[256];
};

/* --- the exporter thread ------------------------------------------------- */

struct first_ts {
	int64_t ts;
};

static int
first_ts_cb(void *arg, const struct store_jrec *r)
{

	((struct first_ts *)arg)->ts = r->ts_ms;
	return (0);
}

/*
 * Read the journal heads, ownership and the config master into ${w}->d;
 * unless ${fresh}, skip that while the WAL's and the database's stat and
 * the acks are unchanged.  (That fingerprint can miss a commit for up to
 * a second: a restarted WAL keeps its size, and mtime is coarse.)
 */
static void
exp_poll(struct worker *w, int fresh)
{
	struct daemon *d = w->d;
	struct store_owner own[2];
	struct first_ts f;
	struct stat sb;
	char master[PP_FQDN_MAX + 1], wal[PATH_MAX + 16];
	int64_t epoch, head, acked;
	uint64_t sig = 0;
	int m, known;

	/*
	 * Every commit of any process grows or rewrites the WAL: if neither
	 * it nor what the partner acked changed, nothing here did either
	 * (a look every 10 ms costs a stat, not six queries).
	 */
	snprintf(wal, sizeof(wal), "%s/pool.db-wal", d->cfg.data);
	/* (Unsigned: a fingerprint, wrapping is fine.) */
	if (stat(wal, &sb) == 0)
		sig = (uint64_t)sb.st_size ^ ((uint64_t)sb.st_mtim.tv_sec << 20) ^
		    (uint64_t)sb.st_mtim.tv_nsec ^ ((uint64_t)sb.st_ino << 40);
	/* (and the database: a checkpoint may reset the WAL to its size) */
	snprintf(wal, sizeof(wal), "%s/pool.db", d->cfg.data);
	if (stat(wal, &sb) == 0)
		sig = sig * 31 + ((uint64_t)sb.st_size ^
		    (uint64_t)sb.st_mtim.tv_nsec ^
		    ((uint64_t)sb.st_mtim.tv_sec << 24));
	pthread_mutex_lock(&d->mtx);
	for (m = 0; m < STORE_NMOD; m++)
		sig ^= ((uint64_t)d->mod[m].acked + 1) * (uint64_t)(m + 1) *
		    1000003u + (uint64_t)d->mod[m].known * 7919u;
	pthread_mutex_unlock(&d->mtx);
	if (!fresh && sig == d->poll_sig && sig != 0 && d->poll_skips++ < 100)
		return;		/* (and at least once a second anyway) */
	d->poll_skips = 0;

	/* Who owns what (a failover moves it), and the config master. */
	if (store_owner_get(w->st, d->cfg.pool, &own[0]) == 0 &&
	    store_owner_get(w->st, d->cfg.partner, &own[1]) == 0 &&
	    store_config_master(w->st, master) == 0) {
		pthread_mutex_lock(&d->mtx);
		/*
		 * We just took the partner's users in a disaster: send them
		 * whole, so the partner's live data becomes ours exactly and
		 * what it committed in the window stays only among its
		 * orphans.  (Handed over, they left nothing behind: our
		 * replica is its data, and the owner record fences it.)
		 */
		if (d->owners[1].home[0] != '\0' &&
		    strcmp(own[1].owner, d->cfg.pool) == 0 &&
		    own[1].epoch != d->owners[1].epoch &&
		    own[1].mode == STORE_MODE_FAILEDOVER &&
		    own[1].epoch != d->handed_epoch) {
			d->mod[STORE_MOD_USERDATA].need_snapshot = 1;
			d->mod[STORE_MOD_USERDATA].fence_first = 1;
			d->mod[STORE_MOD_CONFCONTENT].need_snapshot = 1;
		}
		d->owners[0] = own[0];
		d->owners[1] = own[1];
		d->fenced = strcmp(own[0].owner, d->cfg.pool) != 0 &&
		    strcmp(own[1].owner, d->cfg.pool) != 0;
		d->master = strcmp(master, d->cfg.pool) == 0;
		d->partner_master = strcmp(master, d->cfg.partner) == 0;
		pthread_mutex_unlock(&d->mtx);
		d->poll_sig = sig;	/* only once what it covers was read */
	}

	for (m = 0; m < STORE_NMOD; m++) {
		if (store_journal_head(w->st, (enum store_module)m, &epoch,
		    &head) != 0)
			continue;
		pthread_mutex_lock(&d->mtx);
		d->mod[m].epoch = epoch;
		d->mod[m].head = head;
		acked = d->mod[m].acked;
		known = d->mod[m].known;
		pthread_mutex_unlock(&d->mtx);
		f.ts = 0;
		if (known && head > acked)
			(void)store_journal_list(w->st, 0, (enum store_module)m,
			    acked, 1, first_ts_cb, &f);
		pthread_mutex_lock(&d->mtx);
		d->mod[m].head_ts_ms = f.ts;
		pthread_mutex_unlock(&d->mtx);
	}
}

void
repl_exp_poll(struct worker *w)
{

	exp_poll(w, 1);
}

void
repl_exp_idle(struct worker *w)
{

	exp_poll(w, 0);
}

/*
 * bk_ask_fn on the exporter: send HAVEQ through the loop and wait for the
 * answer (or the link's end, or 30 s).
 */
static int
exp_ask(void *arg, const uint8_t *ids, size_t n, uint8_t *bits)
{
	struct out_pkg *op = arg;
	struct daemon *d = op->d;
	struct timespec ts;
	int rc = -1;

	pthread_mutex_lock(&d->mtx);
	if ((d->have_q = malloc(5 + n * CRYPTO_HASH_LEN)) == NULL)
		goto out;
	d->have_q[0] = (uint8_t)op->module;
	d->have_q[1] = (uint8_t)(n >> 24);
	d->have_q[2] = (uint8_t)(n >> 16);
	d->have_q[3] = (uint8_t)(n >> 8);
	d->have_q[4] = (uint8_t)n;
	memcpy(d->have_q + 5, ids, n * CRYPTO_HASH_LEN);
	d->have_qlen = 5 + n * CRYPTO_HASH_LEN;
	d->have_n = n;
	d->have_bits = bits;
	d->have_state = HAVE_WAITING;
	event_active(d->have_ev, EV_READ, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 30;
	while (d->have_state == HAVE_WAITING)
		if (pthread_cond_timedwait(&d->have_cv, &d->mtx, &ts) ==
		    ETIMEDOUT)
			break;
	rc = d->have_state == HAVE_REPLIED ? 0 : -1;
	d->have_state = HAVE_IDLE;
	d->have_bits = NULL;
	free(d->have_q);
	d->have_q = NULL;
out:
	pthread_mutex_unlock(&d->mtx);
	return (rc);
}

/*
 * Exporter thread (util_sink): queue ${len} bytes of the package for the
 * loop; wait while D_OUT_QUEUE are queued.  Fails once the link is gone.
 */
static int
exp_sink(void *arg, const void *buf, size_t len)
{
	struct out_pkg *op = arg;
	struct daemon *d = op->d;
	int wake, rc = 0;

	pthread_mutex_lock(&d->mtx);
	while (!op->dead && evbuffer_get_length(op->q) >= D_OUT_QUEUE) {
		op->qwait = 1;
		pthread_cond_wait(&d->out_cv, &d->mtx);
	}
	wake = evbuffer_get_length(op->q) == 0;
	if (op->dead)
		rc = -1;
	else if (evbuffer_add(op->q, buf, len) != 0)
		rc = -2;
	/* (The loop frees op only after this job is done.) */
	if (rc == 0 && wake)
		event_active(op->rev, EV_READ, 0);
	pthread_mutex_unlock(&d->mtx);
	if (rc != 0)
		pp_err(rc == -1 ? PP_EIO : PP_EINTERNAL, rc == -1 ?
		    "the link to the partner went down" : "out of memory");
	return (rc == 0 ? 0 : -1);
}

static void
exp_run(struct worker *w, struct job *j)
{
	struct out_pkg *op = j->arg;
	struct bk_export_opts o;
	struct util_sink sink = { .fd = -1, .write = exp_sink, .arg = op };

	memset(&o, 0, sizeof(o));
	o.module = op->module;
	o.since = op->since;
	/* A snapshot is large and CPU-bound: zstd's fastest level. */
	o.level = op->since < 0 ? 1 : 3;
	o.ask = exp_ask;
	o.ask_arg = op;
	o.ask_max = D_HAVE_MAX;
	pthread_mutex_lock(&w->d->mtx);
	o.deltas = w->d->partner_deltas && !w->d->mod[op->module].no_deltas;
	pthread_mutex_unlock(&w->d->mtx);
	o.sink = &sink;
	j->rc = bk_export(w->st, &w->d->keys, &o, -1, &op->res);
	if (j->rc != 0)
		snprintf(j->err, sizeof(j->err), "%s", pp_errmsg());
}

/*
 * Exporter thread: prune a batch of the journal (a[0]: the module, a[1]:
 * up to this LSN; a[2]: set if more is left).  A first sync's ACK may
 * leave millions of records to drop: in batches, each a short write
 * transaction, the pool's writers and the exporter's other jobs (exports,
 * sync --wait) go in between.
 */
static void
prune_run(struct worker *w, struct job *j)
{
	int64_t *a = j->arg;
	int more;

	j->rc = store_journal_prune_some(w->st, (enum store_module)a[0], a[1],
	    D_PRUNE_BATCH, &more);
	a[2] = more;
	if (j->rc != 0)
		snprintf(j->err, sizeof(j->err), "%s", pp_errmsg());
}

static void
prune_done(struct daemon *d, struct job *j)
{
	int64_t *a = j->arg;

	if (j->rc != 0)
		dlog(LOG_WARNING, "journal prune: %s", j->err);
	else if (a[2] && !d->exporter->stop) {
		worker_post(d->exporter, job_new(prune_run, prune_done, a));
		return;
	}
	free(a);
}

/* --- out: sending packages ---------------------------------------------- */

static void
opkg_free(struct out_pkg *op)
{

	if (op->rev != NULL)
		event_free(op->rev);
	if (op->q != NULL)
		evbuffer_free(op->q);
	free(op);
}

/*
 * Is a package worth a log line: a snapshot, or a large or slow one?  (Not
 * each of the steady state's small packages.)
 */
static int
pkg_loggable(int snapshot, int64_t bytes, int64_t ms)
{

	return (snapshot || bytes >= (16 << 20) || ms >= 1000);
}

/* Mark module ${m}'s export failed with ${why}; retry with back-off. */
static void
exp_fail(struct daemon *d, enum store_module m, const char *why)
{
	struct dmod *dm = &d->mod[m];

	pthread_mutex_lock(&d->mtx);
	dm->inflight = 0;
	dm->exp = EXP_ERROR;
	snprintf(dm->exp_reason, sizeof(dm->exp_reason), "%.255s", why);
	dm->backoff_ms = dm->backoff_ms == 0 ? 1000 : dm->backoff_ms * 2 >
	    D_BACKOFF_MAX_MS ? D_BACKOFF_MAX_MS : dm->backoff_ms * 2;
	dm->retry_at_ms = d_now_ms() + dm->backoff_ms;
	pthread_mutex_unlock(&d->mtx);
	dlog(LOG_WARNING, "export of %s: %s (retry in %d ms)",
	    store_module_name(m), why, dm->backoff_ms);
}

/* The package is whole (or failed): END or ABORT, then wait for ACK. */
static void
opkg_finish(struct daemon *d, struct out_pkg *op)
{
	uint8_t m = (uint8_t)op->module;

	if (!op->eof || !op->done)
		return;
	if (d->opkg == op)
		d->opkg = NULL;
	if (op->dead) {
		opkg_free(op);
		return;
	}
	if (op->rc == 0 && op->sent == (int64_t)op->res.stats.bytes) {
		link_send(&d->out, FR_END, &m, 1);
		pthread_mutex_lock(&d->mtx);
		d->mod[op->module].inflight_upto = op->res.hdr.upto;
		d->mod[op->module].last_export_ms = d_now_ms();
		d->mod[op->module].last_bytes = op->sent;
		pthread_mutex_unlock(&d->mtx);
		if (pkg_loggable(op->res.hdr.kind == PKG_SNAPSHOT, op->sent,
		    d_now_ms() - op->t0_ms))
			dlog(LOG_INFO, "sent %s %s: %llu records, %llu chunks, "
			    "%lld bytes in %lld ms",
			    store_module_name(op->module),
			    op->res.hdr.kind == PKG_SNAPSHOT ? "snapshot" :
			    "changes",
			    (unsigned long long)op->res.stats.records,
			    (unsigned long long)op->res.stats.chunks,
			    (long long)op->sent,
			    (long long)(d_now_ms() - op->t0_ms));
	} else {
		link_send(&d->out, FR_ABORT, &m, 1);
		/* Whatever failed, the next package goes without edits. */
		pthread_mutex_lock(&d->mtx);
		d->mod[op->module].no_deltas = 1;
		pthread_mutex_unlock(&d->mtx);
		exp_fail(d, op->module, op->rc != 0 ? op->err :
		    "the package was cut short");
	}
	opkg_free(op);
}

static void
exp_done(struct daemon *d, struct job *j)
{
	struct out_pkg *op = j->arg;

	op->done = 1;
	op->rc = j->rc;
	snprintf(op->err, sizeof(op->err), "%s", j->err);
	if (op->dead)
		opkg_finish(d, op);
	else
		event_active(op->rev, EV_READ, 0);	/* send the rest */
}

/*
 * The size of the next DATA frame of queue ${q}: its next whole buffers,
 * at most D_DATA_MAX, which move to the link's output without a copy (a
 * frame that ends inside a buffer copies that part); the first buffer cut
 * if it is larger alone.  Under d->mtx.
 */
static size_t
data_size(struct evbuffer *q)
{
	struct evbuffer_iovec v[8];
	size_t n = 0, len = evbuffer_get_length(q);
	int i, k = evbuffer_peek(q, -1, NULL, v, 8);

	for (i = 0; i < k && i < 8 && n + v[i].iov_len <= D_DATA_MAX; i++)
		n += v[i].iov_len;
	if (n == 0)
		n = len < D_DATA_MAX ? len : D_DATA_MAX;
	return (n);
}

/*
 * The exporter queued bytes, or is done, or the link can take more:
 * forward what is queued as DATA frames.
 */
static void
opkg_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct out_pkg *op = arg;
	struct daemon *d = op->d;
	size_t n;
	int rc, done = op->done;

	(void)fd;
	(void)what;
	while (d->out.bev != NULL && !op->eof) {
		if (evbuffer_get_length(bufferevent_get_output(d->out.bev)) >
		    D_OUT_HIGH) {
			op->paused = 1;
			return;
		}
		pthread_mutex_lock(&d->mtx);
		n = data_size(op->q);
		rc = n > 0 ? link_send_move(&d->out, FR_DATA,
		    (uint8_t)op->module, op->q, n) : 0;
		if (op->qwait && evbuffer_get_length(op->q) < D_OUT_QUEUE) {
			op->qwait = 0;
			pthread_cond_signal(&d->out_cv);
		}
		pthread_mutex_unlock(&d->mtx);
		if (rc != 0)
			return;
		if (n == 0) {
			/* Empty: the end if the exporter was done before. */
			if (done) {
				op->eof = 1;
				opkg_finish(d, op);
			}
			return;
		}
		op->sent += (int64_t)n;
		pthread_mutex_lock(&d->mtx);
		d->mod[op->module].pending_bytes = op->sent;
		pthread_mutex_unlock(&d->mtx);
	}
}

void
repl_out_writable(struct daemon *d)
{
	struct out_pkg *op = d->opkg;

	if (op != NULL && op->paused) {
		op->paused = 0;
		event_active(op->rev, EV_READ, 0);
	}
}

/* Start the export of module ${m} since ${since} (-1: a snapshot). */
static void
opkg_start(struct daemon *d, enum store_module m, int64_t since)
{
	struct out_pkg *op;

	if ((op = calloc(1, sizeof(*op))) == NULL ||
	    (op->q = evbuffer_new()) == NULL ||
	    (op->rev = event_new(d->base, -1, 0, opkg_read_cb, op)) == NULL) {
		if (op != NULL)
			opkg_free(op);
		exp_fail(d, m, "out of memory");
		return;
	}
	op->d = d;
	op->module = m;
	op->since = since;
	op->t0_ms = d_now_ms();
	d->opkg = op;
	pthread_mutex_lock(&d->mtx);
	d->mod[m].inflight = 1;
	d->mod[m].inflight_snapshot = since < 0;
	d->mod[m].pending_bytes = 0;
	d->mod[m].sync_now = 0;
	pthread_mutex_unlock(&d->mtx);
	worker_post(d->exporter, job_new(exp_run, exp_done, op));
}

/* Does module ${m} have something to ship now?  Under d->mtx. */
static int
ship_due(struct daemon *d, struct dmod *dm, int64_t now)
{

	if (!dm->known || dm->inflight || now < dm->retry_at_ms ||
	    (dm == &d->mod[STORE_MOD_CONFIG] && !d->master) ||
	    (dm != &d->mod[STORE_MOD_CONFIG] && d->fenced))
		return (0);
	if (!dm->need_snapshot && dm->head <= dm->acked)
		return (0);
	if (d->cfg.sync_interval == 0 || dm->sync_now || dm->need_snapshot)
		return (1);
	/* Held back up to sync_interval after the first unshipped change. */
	return (dm->head_ts_ms != 0 &&
	    now - dm->head_ts_ms >= (int64_t)d->cfg.sync_interval * 1000);
}

/* Export states from what is known (under d->mtx). */
static void
exp_states(struct daemon *d, int64_t now)
{
	struct dmod *dm;
	int64_t steady = (d->cfg.sync_interval > 0 ? d->cfg.sync_interval :
	    2) * 1000 + 5000;
	int m;

	for (m = 0; m < STORE_NMOD; m++) {
		dm = &d->mod[m];
		if (dm->exp == EXP_ERROR)
			continue;
		if (!dm->known)
			dm->exp = dm->last_export_ms == 0 ? EXP_NOTINIT :
			    EXP_NONSTEADY;
		else if (dm->head <= dm->acked && !dm->need_snapshot)
			dm->exp = EXP_FINAL;
		else if (dm->head_ts_ms != 0 && now - dm->head_ts_ms > steady)
			dm->exp = EXP_NONSTEADY;
		else
			dm->exp = EXP_STEADY;
	}
}

void
repl_tick(struct daemon *d)
{
	struct dmod *dm;
	int64_t now = d_now_ms(), since = -1;
	int i, go = -1, fence = 0;

	pthread_mutex_lock(&d->mtx);
	exp_states(d, now);
	if (d->out.authed && d->opkg == NULL)
		for (i = 0; i < STORE_NMOD && go < 0; i++) {
			dm = &d->mod[ship_order[i]];
			if (ship_due(d, dm, now)) {
				go = (int)ship_order[i];
				since = dm->need_snapshot ? -1 : dm->acked;
				/*
				 * Fence the partner first (once; a refusal
				 * leaves the snapshot): the changes it lacks,
				 * owner record included, apply on its replica.
				 */
				if (dm->need_snapshot && dm->fence_first &&
				    dm->partner_has && dm->head > dm->acked) {
					since = dm->acked;
					fence = 1;
				}
				dm->fence_first = 0;
			}
		}
	pthread_mutex_unlock(&d->mtx);
	if (fence)
		dlog(LOG_NOTICE, "failover: sending %s the changes it lacks "
		    "first (the owner record among them), then its users "
		    "whole", d->cfg.partner);
	if (go >= 0)
		opkg_start(d, (enum store_module)go, since);
}

/* HELLO: where the partner's replica of each module stands. */
static void
out_hello(struct daemon *d, json_t *j)
{
	json_t *mods = json_object_get(j, "modules"), *e;
	const char *pool = json_string_value(json_object_get(j, "pool"));
	enum store_module m;
	size_t i;

	if (pool == NULL || strcmp(pool, d->cfg.partner) != 0 ||
	    !json_is_array(mods)) {
		link_close(&d->out, "bad HELLO");
		return;
	}
	pthread_mutex_lock(&d->mtx);
	d->partner_deltas = json_is_true(json_object_get(j, "deltas"));
	json_array_foreach(mods, i, e) {
		if (store_module_parse(json_string_value(json_object_get(e,
		    "module")) ?: "", &m) != 0)
			continue;
		d->mod[m].known = 1;
		d->mod[m].inflight = 0;
		d->mod[m].partner_has = 0;
		if (m == STORE_MOD_CONFIG && !d->master) {
			/* Configuration flows from the master only. */
			d->mod[m].acked = d->mod[m].head;
			d->mod[m].need_snapshot = 0;
		} else if (json_is_true(json_object_get(e, "present"))) {
			/* (A snapshot already due stays due.) */
			d->mod[m].acked = json_integer_value(json_object_get(e,
			    "lsn"));
			d->mod[m].partner_has = 1;
		} else {
			d->mod[m].acked = 0;
			d->mod[m].need_snapshot = 1;
		}
	}
	pthread_mutex_unlock(&d->mtx);
	pp_err_clear();
}

/* ACK or NACK of the package in flight. */
static void
out_answer(struct daemon *d, int type, json_t *j)
{
	const char *mod = json_string_value(json_object_get(j, "module"));
	json_t *lsn = json_object_get(j, "lsn");
	enum store_module m;
	int64_t *a;
	struct dmod *dm;
	char why[256];

	if (mod == NULL || store_module_parse(mod, &m) != 0) {
		link_close(&d->out, "bad ACK");
		return;
	}
	dm = &d->mod[m];
	if (type == FR_NACK) {
		pthread_mutex_lock(&d->mtx);
		if (json_is_true(json_object_get(j, "snapshot")))
			dm->need_snapshot = 1;
		/* A content-edit may be what it refused: none next time. */
		dm->no_deltas = 1;
		if (json_is_integer(lsn))
			dm->acked = json_integer_value(lsn);
		pthread_mutex_unlock(&d->mtx);
		/* (Named as the partner's: its disk, not ours, may be full.) */
		snprintf(why, sizeof(why), "the partner: %.200s",
		    json_string_value(json_object_get(j, "reason")) ?:
		    "refused");
		exp_fail(d, m, why);
		return;
	}
	pthread_mutex_lock(&d->mtx);
	dm->acked = json_integer_value(lsn);
	dm->inflight = 0;
	dm->no_deltas = 0;
	dm->partner_has = 1;		/* it applied a package of it */
	if (dm->inflight_snapshot)
		dm->need_snapshot = 0;
	dm->backoff_ms = 0;
	dm->retry_at_ms = 0;
	dm->pending_bytes = 0;
	dm->exp = EXP_STEADY;
	dm->exp_reason[0] = '\0';
	pthread_mutex_unlock(&d->mtx);
	/* What the partner holds need not stay in the journal. */
	if ((a = malloc(3 * sizeof(*a))) != NULL) {
		a[0] = m;
		a[1] = dm->acked;
		a[2] = 0;
		worker_post(d->exporter, job_new(prune_run, prune_done, a));
	}
	repl_tick(d);
	ops_check(d);
}

void
repl_frame_out(struct daemon *d, int type, const uint8_t *p, size_t len)
{
	json_error_t je;
	json_t *j;
	size_t n;

	switch (type) {
	case FR_HELLO:
	case FR_ACK:
	case FR_NACK:
		if ((j = json_loadb((const char *)p, len, 0, &je)) == NULL ||
		    !json_is_object(j)) {
			json_decref(j);
			link_close(&d->out, "bad JSON frame");
			return;
		}
		if (type == FR_HELLO)
			out_hello(d, j);
		else
			out_answer(d, type, j);
		json_decref(j);
		return;
	case FR_HAVER:
		pthread_mutex_lock(&d->mtx);
		n = len >= 4 ? ((size_t)p[0] << 24 | (size_t)p[1] << 16 |
		    (size_t)p[2] << 8 | p[3]) : 0;
		if (d->have_state == HAVE_WAITING && n == d->have_n &&
		    len == 4 + (n + 7) / 8) {
			memcpy(d->have_bits, p + 4, (n + 7) / 8);
			d->have_state = HAVE_REPLIED;
			pthread_cond_signal(&d->have_cv);
		}
		pthread_mutex_unlock(&d->mtx);
		return;
	case FR_VERIFYR:
		verify_frame_out(d, p, len);
		return;
	case FR_HANDOVERR:
		handover_answer(d, p, len);
		return;
	default:
		d_security(d, "bad-frame", d->out.peer, frame_name(type));
		link_close(&d->out, "unexpected frame");
	}
}

/* The exporter wants HAVEQ sent (exp_ask). */
void
repl_have_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&d->mtx);
	if (d->have_state == HAVE_WAITING && d->have_q != NULL &&
	    link_send(&d->out, FR_HAVEQ, d->have_q, d->have_qlen) != 0) {
		d->have_state = HAVE_FAILED;
		pthread_cond_signal(&d->have_cv);
	}
	pthread_mutex_unlock(&d->mtx);
}

void
repl_out_up(struct daemon *d)
{

	(void)d;	/* the partner speaks first: HELLO */
}

void
repl_out_down(struct daemon *d)
{
	int m;

	pthread_mutex_lock(&d->mtx);
	for (m = 0; m < STORE_NMOD; m++) {
		d->mod[m].known = 0;
		d->mod[m].inflight = 0;
	}
	if (d->have_state == HAVE_WAITING) {
		d->have_state = HAVE_FAILED;
		pthread_cond_signal(&d->have_cv);
	}
	if (d->opkg != NULL) {
		/* The exporter's next write fails; exp_done frees it. */
		d->opkg->dead = 1;
		d->opkg->eof = 1;
		pthread_cond_broadcast(&d->out_cv);
	}
	pthread_mutex_unlock(&d->mtx);
	verify_link_down(d);
	if (d->opkg != NULL) {
		if (d->opkg->done)
			opkg_free(d->opkg);
		else
			event_del(d->opkg->rev);	/* nothing more to send */
		d->opkg = NULL;
	}
}

/* --- in: receiving packages --------------------------------------------- */

/*
 * Importer thread: cut the streaming import (it rolls back); with ${why},
 * say so (the spool is imported after END instead).
 */
static void
spool_cut(struct imp_job *ij, const char *why)
{

	pthread_mutex_lock(&ij->d->mtx);
	ij->cut = 1;
	pthread_mutex_unlock(&ij->d->mtx);
	if (why != NULL)
		dlog(LOG_INFO, "streaming %s cut: %s; importing the spool "
		    "after END instead", store_module_name(ij->module), why);
	pp_err(PP_EIO, "streaming cut");
}

/*
 * Spooler thread: may the spool on ${fd} grow?  Not into the last
 * D_SPOOL_RESERVE_MAX (or 1% of a smaller filesystem): the pool's own
 * store needs that room, and the import needs room besides.
 */
static int
spool_room(int fd, char *why, size_t len)
{
	struct statvfs sv;
	uint64_t avail, reserve;

	if (fstatvfs(fd, &sv) != 0)
		return (1);	/* a write failure will say it */
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	reserve = (uint64_t)sv.f_blocks * sv.f_frsize / 100;
	if (reserve > D_SPOOL_RESERVE_MAX)
		reserve = D_SPOOL_RESERVE_MAX;
	if (avail >= reserve)
		return (1);
	snprintf(why, len, "cannot spool the package: it would leave less "
	    "than %llu KiB free", (unsigned long long)(reserve >> 10));
	return (0);
}

/* Spooler thread: tell the readers the spool has ${n} more bytes. */
static void
spool_grew(struct imp_job *ij, ssize_t n, int over)
{

	pthread_mutex_lock(&ij->d->mtx);
	ij->spooled += n;
	if (over != 0)
		ij->spool_over = over;
	pthread_cond_broadcast(&ij->d->spool_cv);
	pthread_mutex_unlock(&ij->d->mtx);
}

/*
 * Spooler thread: the next bytes the loop queued, moved into ${b}; 0 once
 * the loop closed the queue and it is empty.  Wakes the loop if it
 * stopped reading the link for this queue.
 */
static size_t
spool_take(struct imp_job *ij, struct evbuffer *b)
{
	struct daemon *d = ij->d;

	pthread_mutex_lock(&d->mtx);
	while (evbuffer_get_length(ij->q) == 0 && !ij->qclosed)
		pthread_cond_wait(&d->inq_cv, &d->mtx);
	evbuffer_add_buffer(b, ij->q);
	if (ij->qwait) {
		ij->qwait = 0;
		event_active(d->inq_ev, EV_READ, 0);
	}
	pthread_mutex_unlock(&d->mtx);
	return (evbuffer_get_length(b));
}

/*
 * Spooler thread: write the queue to a spool file of this package's own;
 * then (the loop, spool_done) queue the import of the spool if it did not
 * stream.  If the package streams or is prestaged, its reader follows the
 * file (spool_follow).  Spooling apart from importing lets the next
 * package arrive while this one is applied.  The queue is always taken to
 * its end, even after the spool failed (a full disk): the loop keeps
 * adding to it and touches this job until END or ABORT closes it.
 */
static void
spool_run(struct worker *w, struct job *j)
{
	struct imp_job *ij = j->arg;
	struct daemon *d = ij->d;
	struct evbuffer *b = ij->qb;
	char why[512] = "";
	size_t n;
	off_t size = 0, wb = 0;
	int fd, end, spool_err = 0;

	(void)w;
	if ((fd = open(ij->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0) {
		pp_errp(PP_EIO, "cannot create %s", ij->path);
		snprintf(why, sizeof(why), "%s", pp_errmsg());
		spool_err = 1;
		spool_grew(ij, 0, -1);
	}
	while ((n = spool_take(ij, b)) > 0) {
		if (!spool_err && !spool_room(fd, why, sizeof(why)))
			spool_err = 1;
		while (!spool_err && evbuffer_get_length(b) > 0)
			if (evbuffer_write(b, fd) < 0 && errno != EINTR) {
				pp_errp(PP_EIO, "cannot spool the package");
				snprintf(why, sizeof(why), "%s", pp_errmsg());
				spool_err = 1;
			}
		evbuffer_drain(b, evbuffer_get_length(b));
		if (spool_err && fd >= 0) {
			/* Go on taking (see above); give the space back now. */
			close(fd);
			unlink(ij->path);
			fd = -1;
			spool_grew(ij, 0, -1);	/* no stream, no prestage */
		}
		if (!spool_err) {
			/*
			 * Clean early, so its reader can drop what it read;
			 * unless the reader frees it (punch): then its pages
			 * go without being written.
			 */
			size += (off_t)n;
			if (!ij->punch)
				fileio_writeback(fd, &wb, size);
			spool_grew(ij, (ssize_t)n, 0);
		}
	}
	pthread_mutex_lock(&d->mtx);
	end = ij->end;
	pthread_mutex_unlock(&d->mtx);
	ij->t_end_ms = d_now_ms();
	j->rc = end ? 0 : 1;	/* 1: aborted, nothing to say */
	if (end && spool_err) {
		pp_err(PP_EIO, "%s", why);
		goto fail;
	}
	goto out;
fail:
	j->rc = -1;
	ij->spool_code = pp_errcode();
	snprintf(j->err, sizeof(j->err), "%s", pp_errmsg());
out:
	/* Ended short: a stream must not commit what it has. */
	spool_grew(ij, 0, j->rc == 0 ? 1 : -1);
	if (fd >= 0)
		close(fd);
}

/* A reader following a spool file as the spooler writes it. */
struct spool_rd {
	struct imp_job *ij;
	int fd;
	int64_t pos, t0, waited;
	off_t dropped;		/* page cache dropped below (read, clean) */
	int nopunch;		/* the filesystem cannot free a range */
};

/*
 * Importer or stager thread (util_src): read the spool file at ${r}->pos
 * as the spooler writes it, waiting for it to grow.  A streaming import
 * waits for the link with the store's write lock held: a stall, or a link
 * that keeps it waiting a good part of the time (not the first second's
 * start-up, nor a snapshot's pauses while the sender reads its next
 * table), cuts it (-1).  -1 too if the package ended short or the spool
 * failed; 0 at its end.
 */
static ssize_t
spool_follow(void *arg, void *buf, size_t len)
{
	struct spool_rd *r = arg;
	struct imp_job *ij = r->ij;
	struct daemon *d = ij->d;
	struct timespec ts;
	int64_t have, t;
	ssize_t n;
	int over, timed = 0, waited = 0;

	pthread_mutex_lock(&d->mtx);
	t = d_now_ms();
	while (ij->spooled == r->pos && ij->spool_over == 0 && !timed) {
		waited = 1;
		if (!ij->streamed) {
			pthread_cond_wait(&d->spool_cv, &d->mtx);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)D_STREAM_STALL_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		if (pthread_cond_timedwait(&d->spool_cv, &d->mtx, &ts) ==
		    ETIMEDOUT && ij->spooled == r->pos && ij->spool_over == 0)
			timed = 1;
	}
	have = ij->spooled;
	over = ij->spool_over;
	pthread_mutex_unlock(&d->mtx);
	if (ij->streamed && timed) {
		spool_cut(ij, "the link stalled");
		return (-1);
	}
	if (ij->streamed && waited &&
	    ((r->waited += d_now_ms() - t) - D_STREAM_WAIT_MS) * 100 >
	    (d_now_ms() - r->t0) * D_STREAM_WAIT_PCT) {
		spool_cut(ij, "the link is slower than the import");
		return (-1);
	}
	if (over < 0) {
		/* Ended short, or the spool failed. */
		if (ij->streamed)
			spool_cut(ij, NULL);
		else
			pp_err(PP_EIO, "the package ended short");
		return (-1);
	}
	if (have == r->pos)
		return (0);	/* over > 0: the end */
	if (r->fd < 0 && (r->fd = open(ij->path, (ij->punch ? O_RDWR :
	    O_RDONLY) | O_CLOEXEC)) < 0)
		goto gone;
	if ((int64_t)len > have - r->pos)
		len = (size_t)(have - r->pos);
	while ((n = pread(r->fd, buf, len, (off_t)r->pos)) < 0 &&
	    errno == EINTR)
		;
	if (n <= 0)
		goto gone;
	r->pos += n;
	/*
	 * What was read is not read again unless the import must start over
	 * (from the disk, then): its pages go to the spooler's next writes.
	 * The stager's spool is freed instead (its records are kept).
	 */
	if (ij->punch && !r->nopunch) {
		switch (fileio_punch_behind(r->fd, &r->dropped, (off_t)r->pos,
		    D_SPOOL_KEEP)) {
		case 1:
			ij->punched = 1;
			break;
		case -1:
			r->nopunch = 1;	/* written back, then dropped */
			break;
		}
	} else
		fileio_drop_behind(r->fd, &r->dropped, (off_t)r->pos);
	return (n);
gone:
	/* The spool cannot be read: the stream must not commit. */
	if (ij->streamed)
		spool_cut(ij, NULL);
	else
		pp_errp(PP_EIO, "cannot read the spool %s", ij->path);
	return (-1);
}

/* Importer thread: apply the package as the spooler writes it. */
static void
stream_run(struct worker *w, struct job *j)
{
	struct imp_job *ij = j->arg;
	struct spool_rd r = { .ij = ij, .fd = -1, .t0 = d_now_ms() };
	struct util_src src = { .fd = -1, .read = spool_follow, .arg = &r };

	if ((j->rc = bk_import_src(w->st, &ij->d->keys, &src,
	    &ij->res)) != 0) {
		ij->code = pp_errcode();
		snprintf(j->err, sizeof(j->err), "%s", pp_errmsg());
	}
	if (r.fd >= 0)
		close(r.fd);
}

/* Stager thread: seal a content package's new chunks as it comes. */
static void
stage_run(struct worker *w, struct job *j)
{
	struct imp_job *ij = j->arg;
	struct spool_rd r = { .ij = ij, .fd = -1, .t0 = d_now_ms() };
	struct util_src src = { .fd = -1, .read = spool_follow, .arg = &r };

	if ((j->rc = bk_prestage_src(w->st, &ij->d->keys, &src,
	    &ij->pre)) != 0) {
		snprintf(j->err, sizeof(j->err), "%s", pp_errmsg());
		dlog(LOG_INFO, "prestaging %s: %s",
		    store_module_name(ij->module), j->err);
	} else if (ij->punched)
		dlog(LOG_INFO, "prestaged %s: %lld MiB of its spool freed as "
		    "read, never written", store_module_name(ij->module),
		    (long long)((r.dropped - D_SPOOL_KEEP) >> 20));
	if (r.fd >= 0)
		close(r.fd);
}

/* Importer thread: import the spool file (with what was prestaged). */
static void
imp_run(struct worker *w, struct job *j)
{
	struct imp_job *ij = j->arg;
	struct bk_prestaged *pre = ij->pre;
	int fd = -1;

	ij->pre = NULL;
	if (ij->punched && pre == NULL) {
		pp_err(PP_EAGAIN, "the package must be sent again: its spool "
		    "was freed as it was prestaged, and the prestage failed "
		    "(%s)", ij->stream_err);
		goto fail;
	}
	if (ij->punched)
		bk_prestaged_body_gone(pre);
	if ((fd = open(ij->path, O_RDONLY | O_CLOEXEC)) < 0) {
		bk_prestaged_free(pre);
		pp_errp(PP_EIO, "cannot read the spool %s", ij->path);
		goto fail;
	}
	if ((j->rc = bk_import_prestaged(w->st, &ij->d->keys, fd, pre,
	    &ij->res)) == 0)
		goto out;
fail:
	j->rc = -1;
	ij->code = pp_errcode();
	snprintf(j->err, sizeof(j->err), "%s", pp_errmsg());
out:
	if (fd >= 0)
		close(fd);
}

static void imp_done(struct daemon *, struct job *);

/*
 * Importer thread: the checkpoint an import's commit would have run
 * (store_defer_checkpoints), now that the partner has its answer.
 */
static void
ckpt_run(struct worker *w, struct job *j)
{

	(void)j;
	if (store_checkpoint_due(w->st) && store_checkpoint(w->st) != 0)
		dlog(LOG_WARNING, "checkpoint: %s", pp_errmsg());
}

/*
 * Loop thread: run the checkpoint the imports deferred once every package
 * that came has been answered (none is arriving, spooling, staging or
 * waiting to be applied).  Copying the WAL into the database (half a
 * gigabyte after a first sync's userdata) then does not take the cores
 * from the package still streaming in, nor hold the importer while that
 * package's END waits to be applied and answered.  Packages that follow
 * one another without a pause put it off at most D_CKPT_DEFER_MS, so that
 * the WAL stays bounded.  (Not when stopping: the job would never run; a
 * later one will.)
 */
static void
ckpt_maybe(struct daemon *d)
{

	if (d->ckpt_due != 0 && !d->importer->stop && (d->pkgs_open == 0 ||
	    d_now_ms() - d->ckpt_due >= D_CKPT_DEFER_MS)) {
		d->ckpt_due = 0;
		worker_post(d->importer, job_new(ckpt_run, NULL, NULL));
	}
}

void
repl_importer_init(struct worker *w, struct job *j)
{

	(void)j;
	store_defer_checkpoints(w->st);
}

/* Exporter thread: its pack reads are read once (store_read_once). */
void
repl_exporter_init(struct worker *w, struct job *j)
{

	(void)j;
	store_read_once(w->st);
}

static void
imp_run_done(struct daemon *d, struct job *j)
{

	d->imports--;
	imp_done(d, j);
}

/*
 * Both the spool and (if it streamed) the streaming import are done: answer,
 * or import the spool.  Loop thread.
 */
static void
imp_settle(struct daemon *d, struct imp_job *ij)
{
	struct job fake = { 0 };
	int cut;

	if (ij->spool_rc == -2 ||
	    ((ij->streamed || ij->staging) && ij->stream_rc == -2))
		return;
	pthread_mutex_lock(&d->mtx);
	cut = ij->cut;
	pthread_mutex_unlock(&d->mtx);
	fake.arg = ij;
	if (ij->streamed && ij->stream_rc == 0)
		fake.rc = 0;	/* applied as it came: whole, signed, ended */
	else if (ij->spool_rc == 0 && (!ij->streamed || cut) &&
	    d->importer->stop)
		fake.rc = 1;	/* stopping: the partner sends it again */
	else if (ij->spool_rc == 0 && (!ij->streamed || cut)) {
		/* Not streamed, or cut: import the spool now. */
		d->imports++;
		worker_post(d->importer, job_new(imp_run, imp_run_done, ij));
		return;
	} else if (ij->spool_rc != 0) {
		/* Aborted (1: nothing to say) or not spooled (-1). */
		fake.rc = ij->spool_rc;
		ij->code = ij->spool_code;
		snprintf(fake.err, sizeof(fake.err), "%s", ij->spool_err);
	} else {
		/* Streamed whole and refused. */
		fake.rc = -1;
		snprintf(fake.err, sizeof(fake.err), "%s", ij->stream_err);
	}
	imp_done(d, &fake);
}

static void
spool_done(struct daemon *d, struct job *j)
{
	struct imp_job *ij = j->arg;

	ij->spool_rc = j->rc;
	snprintf(ij->spool_err, sizeof(ij->spool_err), "%.255s", j->err);
	imp_settle(d, ij);
}

static void
stream_done(struct daemon *d, struct job *j)
{
	struct imp_job *ij = j->arg;

	if (ij->streamed)
		d->imports--;
	ij->stream_rc = j->rc;
	snprintf(ij->stream_err, sizeof(ij->stream_err), "%.255s",
	    j->err);
	imp_settle(d, ij);
}

/* Loop thread: free ${ij}, its package answered or given up. */
static void
imp_job_free(struct imp_job *ij)
{
	struct daemon *d = ij->d;

	evbuffer_free(ij->q);
	evbuffer_free(ij->qb);
	free(ij);
	d->pkgs_open--;
	ckpt_maybe(d);
}

/*
 * Loop thread: remove ${ij}'s spool, the package answered (or given up).
 * A large one on a thread of its own: its removal can take longer than the
 * loop may wait (fileio_unlink_bg).  Its name is not used again (d->spools).
 */
static void
spool_remove(struct imp_job *ij)
{
	int64_t n;

	pthread_mutex_lock(&ij->d->mtx);
	n = ij->spooled;
	pthread_mutex_unlock(&ij->d->mtx);
	if (n >= D_SPOOL_UNLINK_BG)
		fileio_unlink_bg(ij->path);
	else
		(void)unlink(ij->path);
}

static void
imp_done(struct daemon *d, struct job *j)
{
	struct imp_job *ij = j->arg;
	struct dmod *dm = &d->mod[ij->module];
	const char *mod = store_module_name(ij->module);
	json_t *ans;
	int64_t lsn;

	bk_prestaged_free(ij->pre);
	ij->pre = NULL;
	/* (spool_run reads its pipe to the end: the package is over.) */
	if (d->ipkg != NULL && d->ipkg->job == ij)
		d->ipkg->job = NULL;
	if (j->rc == 1) {
		spool_remove(ij);
		imp_job_free(ij);
		return;
	}
	pthread_mutex_lock(&d->mtx);
	if (j->rc == 0) {
		if (!ij->res.noop || ij->res.hdr.upto > dm->imp_lsn) {
			dm->imp_epoch = ij->res.hdr.epoch;
			dm->imp_lsn = ij->res.hdr.upto;
		}
		dm->have_replica = 1;
		dm->imp = IMP_NORMAL;
		dm->imp_reason[0] = '\0';
		dm->last_import_ms = d_now_ms();
	} else {
		dm->imp = IMP_ERROR;
		snprintf(dm->imp_reason, sizeof(dm->imp_reason), "%.255s", j->err);
	}
	lsn = dm->imp_lsn;
	pthread_mutex_unlock(&d->mtx);
	/* Sent again because its spool was freed: keep the next one whole. */
	dm->spool_whole = j->rc != 0 && ij->punched && ij->code == PP_EAGAIN;
	if (j->rc == 0 && !ij->res.noop &&
	    pkg_loggable(ij->res.hdr.kind == PKG_SNAPSHOT,
	    (int64_t)ij->res.stats.bytes, d_now_ms() - ij->t0_ms))
		dlog(LOG_INFO, "imported %s up to %lld: %llu records, %llu "
		    "chunks, %llu bytes: received in %lld ms, applied in %lld ms",
		    mod, (long long)lsn,
		    (unsigned long long)ij->res.stats.records,
		    (unsigned long long)ij->res.stats.chunks,
		    (unsigned long long)ij->res.stats.bytes,
		    (long long)(ij->t_end_ms - ij->t0_ms),
		    (long long)(d_now_ms() - ij->t_end_ms));
	if (j->rc == 0)
		ans = json_pack("{s:s, s:I, s:I, s:b}", "module", mod, "epoch",
		    (json_int_t)ij->res.hdr.epoch, "lsn", (json_int_t)lsn,
		    "noop", ij->res.noop);
	else {
		if (ij->code == PP_EINVAL || ij->code == PP_EROFS)
			d_audit(d, "package-refused", d->cfg.partner, j->err);
		dlog(LOG_WARNING, "import of %s: %s", mod, j->err);
		ans = json_pack("{s:s, s:s, s:b}", "module", mod, "reason",
		    j->err, "snapshot", ij->res.want_snapshot);
		if (ans != NULL && dm->have_replica)
			json_object_set_new(ans, "lsn", json_integer(lsn));
	}
	link_send_json(d->in, j->rc == 0 ? FR_ACK : FR_NACK, ans);
	spool_remove(ij);
	if (j->rc == 0 && d->ckpt_due == 0)
		d->ckpt_due = d_now_ms();
	imp_job_free(ij);
	ops_check(d);
}

/* Close the queue of ${ip} (the spooler sees its end) and free it. */
static void
ipkg_free(struct daemon *d, struct in_pkg *ip)
{

	if (d->ipkg == ip)
		d->ipkg = NULL;
	if (ip->job != NULL) {
		pthread_mutex_lock(&d->mtx);
		ip->job->qclosed = 1;
		pthread_cond_signal(&d->inq_cv);
		pthread_mutex_unlock(&d->mtx);
	}
	free(ip);
}

/*
 * Move the next ${len} bytes of ${in} (the link's input: a DATA frame's
 * package bytes) to the spooler's queue, whose chains they become without
 * a copy; stop reading the link while the queue holds D_OUT_QUEUE (the
 * spooler wakes the loop: inq_ev).  Returns 0 or -1 (out of memory).
 */
static int
ipkg_add(struct daemon *d, struct in_pkg *ip, struct evbuffer *in, size_t len)
{
	struct imp_job *ij = ip->job;
	int full, rc;

	if (ij == NULL)
		return (evbuffer_drain(in, len));
	pthread_mutex_lock(&d->mtx);
	rc = evbuffer_remove_buffer(in, ij->q, len) == (int)len ? 0 : -1;
	if ((full = evbuffer_get_length(ij->q) >= D_OUT_QUEUE))
		ij->qwait = 1;
	pthread_cond_signal(&d->inq_cv);
	pthread_mutex_unlock(&d->mtx);
	if (full && d->in != NULL && d->in->bev != NULL)
		bufferevent_disable(d->in->bev, EV_READ);
	return (rc);
}

/* The spooler took a queue the link was paused for: read on. */
void
repl_inq_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (d->in != NULL && d->in->bev != NULL)
		bufferevent_enable(d->in->bev, EV_READ);
}

/* A package starts: a queue to the spooler, and maybe a reader. */
static struct in_pkg *
ipkg_start(struct daemon *d, enum store_module m)
{
	struct in_pkg *ip;
	struct imp_job *ij;

	if ((ip = calloc(1, sizeof(*ip))) == NULL ||
	    (ij = calloc(1, sizeof(*ij))) == NULL) {
		free(ip);
		return (NULL);
	}
	/* Its own name: the last one of a module may still be queued. */
	if ((size_t)snprintf(ij->path, sizeof(ij->path), "%s/" D_SPOOL_PREFIX
	    "%s.%u.ppkg", d->cfg.data, store_module_name(m), ++d->spools) >=
	    sizeof(ij->path) || (ij->q = evbuffer_new()) == NULL ||
	    (ij->qb = evbuffer_new()) == NULL) {
		free(ip);
		if (ij->q != NULL)
			evbuffer_free(ij->q);
		free(ij);
		return (NULL);
	}
	ip->d = d;
	ip->module = m;
	ip->job = ij;
	ij->d = d;
	ij->module = m;
	ij->t0_ms = d_now_ms();
	ij->spool_rc = ij->stream_rc = -2;
	/*
	 * Streamed if the importer has nothing else to apply first; else a
	 * content package's chunks are prestaged while it arrives.
	 */
	if (d->imports == 0) {
		ij->streamed = 1;
		d->imports++;
		worker_post(d->importer, job_new(stream_run, stream_done, ij));
	} else if (m == STORE_MOD_CONFCONTENT) {
		ij->staging = 1;
		ij->punch = !d->mod[m].spool_whole;
		worker_post(d->stager, job_new(stage_run, stream_done, ij));
	}
	d->ipkg = ip;
	d->pkgs_open++;
	worker_post(d->spooler, job_new(spool_run, spool_done, ij));
	return (ip);
}

/* END (${end} 1) or ABORT of the package being received. */
static void
ipkg_end(struct daemon *d, int end)
{
	struct in_pkg *ip = d->ipkg;

	if (ip == NULL)
		return;
	pthread_mutex_lock(&d->mtx);
	if (ip->job != NULL) {
		ip->job->end = end;
		if (!end)
			evbuffer_drain(ip->job->q,
			    evbuffer_get_length(ip->job->q));
	}
	pthread_mutex_unlock(&d->mtx);
	ipkg_free(d, ip);
}

static void
have_run(struct worker *w, struct job *j)
{
	uint8_t *q = j->arg;
	size_t n = (size_t)q[1] << 24 | (size_t)q[2] << 16 |
	    (size_t)q[3] << 8 | q[4];
	uint8_t *bits = q + 5 + n * CRYPTO_HASH_LEN;	/* room made below */

	memcpy(bits, q + 1, 4);
	/* A failed lookup says "not held": the chunk is sent, no harm. */
	if (store_chunks_held(w->st, q + 5, n, bits + 4) != 0)
		memset(bits + 4, 0, (n + 7) / 8);
}

static void
have_done(struct daemon *d, struct job *j)
{
	uint8_t *q = j->arg;
	size_t n = (size_t)q[1] << 24 | (size_t)q[2] << 16 |
	    (size_t)q[3] << 8 | q[4];

	link_send(d->in, FR_HAVER, q + 5 + n * CRYPTO_HASH_LEN,
	    4 + (n + 7) / 8);
	free(q);
}

/*
 * HAVEQ: which of these chunks do we hold?  Answered on the chunk reader's
 * own handle (WAL: it reads while the importer writes), so the partner's
 * next package streams into the spool while this one is applied.  A chunk
 * said to be held may still go before that package is applied (a local
 * delete, the end of the import before); the import then fails on it and
 * the partner sends again, asking afresh.
 */
static int
in_haveq(struct daemon *d, const uint8_t *p, size_t len)
{
	uint8_t *q;
	size_t n;

	if (len < 5)
		return (-1);
	n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
	if (n == 0 || n > D_HAVE_MAX || len != 5 + n * CRYPTO_HASH_LEN)
		return (-1);
	if ((q = malloc(len + 4 + (n + 7) / 8)) == NULL)
		return (-1);
	memcpy(q, p, len);
	worker_post(d->haver, job_new(have_run, have_done, q));
	return (0);
}

void
repl_data_in(struct daemon *d, struct link *l, struct evbuffer *in,
    size_t len)
{
	struct in_pkg *ip;
	uint8_t m;

	if (len < 1 || evbuffer_remove(in, &m, 1) != 1 || m >= STORE_NMOD)
		goto bad;
	if ((ip = d->ipkg) == NULL &&
	    (ip = ipkg_start(d, (enum store_module)m)) == NULL) {
		link_close(l, "cannot start an import");
		return;
	}
	if (ip->module != m)
		goto bad;
	if (ipkg_add(d, ip, in, len - 1) != 0)
		link_close(l, "out of memory");
	return;
bad:
	d_security(d, "bad-frame", l->peer, frame_name(FR_DATA));
	link_close(l, "protocol error");
}

void
repl_frame_in(struct daemon *d, struct link *l, int type, const uint8_t *p,
    size_t len)
{

	/* (DATA comes by repl_data_in, straight from the link's input.) */
	if (type == FR_END || type == FR_ABORT) {
		if (len < 1 || p[0] >= STORE_NMOD || d->ipkg == NULL ||
		    d->ipkg->module != p[0])
			goto bad;
		ipkg_end(d, type == FR_END);
		return;
	}
	if (type == FR_HAVEQ && in_haveq(d, p, len) == 0)
		return;
	if (type == FR_VERIFYQ && verify_frame_in(d, p, len) == 0)
		return;
	if (type == FR_HANDOVERQ && handover_request(d, p, len) == 0)
		return;
bad:
	d_security(d, "bad-frame", l->peer, frame_name(type));
	link_close(l, "protocol error");
}

void
repl_in_up(struct daemon *d, struct link *l)
{
	json_t *mods = json_array(), *e;
	int m;

	pthread_mutex_lock(&d->mtx);
	for (m = 0; m < STORE_NMOD; m++) {
		e = json_pack("{s:s, s:b, s:I, s:I}", "module",
		    store_module_name((enum store_module)m), "present",
		    d->mod[m].have_replica, "epoch",
		    (json_int_t)d->mod[m].imp_epoch, "lsn",
		    (json_int_t)d->mod[m].imp_lsn);
		json_array_append_new(mods, e);
	}
	pthread_mutex_unlock(&d->mtx);
	/* deltas: this side takes content-edit records (bk_delta.c). */
	link_send_json(l, FR_HELLO, json_pack("{s:i, s:s, s:s, s:b, s:o}",
	    "v", 1, "pool", d->cfg.pool, "pair", d->cfg.pair, "deltas", 1,
	    "modules", mods));
}

void
repl_in_down(struct daemon *d, struct link *l)
{

	(void)l;
	if (d->ipkg != NULL)
		ipkg_end(d, 0);
}
