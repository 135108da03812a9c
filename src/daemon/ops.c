/*
 * ops.c: what the admin socket asks of the daemon (docs/protocol-admin.md):
 * status; sync (ship now, and with "wait" answer once the partner has
 * everything); wait (answer once the partner acked given LSNs: the CLI's
 * --wait-replicated); verify (verify.c).  Waiting requests are checked on
 * every tick and every ACK, and answered at their deadline at the latest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <jansson.h>

#include "admin.h"
#include "daemon.h"
#include "err.h"
#include "worker.h"

#define OPS_TIMEOUT_MS	30000	/* default and bound of a wait: 10 min */
#define OPS_TIMEOUT_MAX	600000

/* A request that waits for the partner's acks. */
struct waiter {
	struct daemon *d;
	struct admin_req *r;
	int64_t target[STORE_NMOD];	/* -1: not waited on */
	int64_t deadline_ms, timeout_ms;
	int sync;			/* "sync": FinalState, not LSNs */
	struct waiter *next;
};

static struct waiter *waiters;

static void
waiter_unlink(struct waiter *w)
{
	struct waiter **p;

	for (p = &waiters; *p != NULL; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			return;
		}
}

static void
waiter_cancel(void *arg, struct admin_req *r)
{
	struct waiter *w = arg;

	waiter_unlink(w);
	admin_reply(r, admin_err("cancelled"));
	free(w);
}

/* Has the partner acked every target of ${w}?  Under d->mtx. */
static int
waiter_met(struct daemon *d, const struct waiter *w)
{
	int m;

	for (m = 0; m < STORE_NMOD; m++) {
		if (w->target[m] < 0)
			continue;
		if (!d->mod[m].known || d->mod[m].acked < w->target[m] ||
		    (w->sync && (d->mod[m].inflight ||
		    d->mod[m].need_snapshot)))
			return (0);
	}
	return (1);
}

void
ops_check(struct daemon *d)
{
	struct waiter *w, *next;
	int64_t now = d_now_ms();
	int met;

	handover_check(d);
	for (w = waiters; w != NULL; w = next) {
		next = w->next;
		pthread_mutex_lock(&d->mtx);
		met = waiter_met(d, w);
		pthread_mutex_unlock(&d->mtx);
		if (!met && now < w->deadline_ms && !d->stopping)
			continue;
		waiter_unlink(w);
		admin_reply(w->r, met ? json_pack("{s:b, s:o}", "ok", 1,
		    "status", status_json(d)) : admin_err("timeout: the "
		    "partner has not acknowledged everything within %lld ms "
		    "(see 'poolpair status')", (long long)w->timeout_ms));
		free(w);
	}
}

/* The timeout of request ${req}, bounded. */
static int64_t
req_timeout(json_t *req)
{
	json_int_t t = json_integer_value(json_object_get(req, "timeout_ms"));

	if (t <= 0)
		return (OPS_TIMEOUT_MS);
	return (t > OPS_TIMEOUT_MAX ? OPS_TIMEOUT_MAX : t);
}

/* Queue ${w} for request ${r}, or answer now if it is met already. */
static void
waiter_add(struct daemon *d, struct admin_req *r, struct waiter *w,
    json_t *req)
{

	w->d = d;
	w->r = r;
	w->timeout_ms = req_timeout(req);
	w->deadline_ms = d_now_ms() + w->timeout_ms;
	w->next = waiters;
	waiters = w;
	admin_req_on_cancel(r, waiter_cancel, w);
	ops_check(d);
}

/* A sync request, between its journal poll and its answer. */
struct syncreq {
	struct admin_req *r;
	json_t *req;
	enum store_module one;		/* STORE_NMOD: all */
};

/* On the exporter: read the journal heads afresh, so nothing is missed. */
static void
sync_poll(struct worker *w, struct job *j)
{

	(void)j;
	repl_exp_poll(w);
}

static void
sync_go(struct daemon *d, struct job *j)
{
	struct syncreq *sr = j->arg;
	struct waiter *w;
	int m;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		admin_reply(sr->r, NULL);
		goto out;
	}
	w->sync = 1;
	pthread_mutex_lock(&d->mtx);
	for (m = 0; m < STORE_NMOD; m++) {
		w->target[m] = -1;
		if ((sr->one != STORE_NMOD && m != (int)sr->one) ||
		    (m == STORE_MOD_CONFIG && !d->master))
			continue;
		d->mod[m].sync_now = 1;
		d->mod[m].retry_at_ms = 0;
		w->target[m] = d->mod[m].head;
	}
	pthread_mutex_unlock(&d->mtx);
	repl_tick(d);
	if (!json_is_true(json_object_get(sr->req, "wait"))) {
		free(w);
		admin_reply(sr->r, json_pack("{s:b}", "ok", 1));
	} else
		waiter_add(d, sr->r, w, sr->req);
out:
	json_decref(sr->req);
	free(sr);
}

static void
op_sync(struct daemon *d, struct admin_req *r, json_t *req)
{
	const char *mod = json_string_value(json_object_get(req, "module"));
	struct syncreq *sr;
	char who[32];

	if ((sr = calloc(1, sizeof(*sr))) == NULL) {
		admin_reply(r, NULL);
		return;
	}
	sr->one = STORE_NMOD;
	if (mod != NULL && store_module_parse(mod, &sr->one) != 0) {
		free(sr);
		admin_reply(r, admin_err("%s", pp_errmsg()));
		return;
	}
	sr->r = r;
	sr->req = json_incref(req);
	snprintf(who, sizeof(who), "uid %d", (int)admin_req_uid(r));
	dlog(LOG_NOTICE, "admin (%s): sync %s", who, mod != NULL ? mod :
	    "all modules");
	d_audit(d, "admin-sync", who, mod != NULL ? mod : "all modules");
	worker_post(d->exporter, job_new(sync_poll, sync_go, sr));
}

static void
op_wait(struct daemon *d, struct admin_req *r, json_t *req)
{
	json_t *heads = json_object_get(req, "heads"), *v;
	struct waiter *w;
	enum store_module m;
	const char *k;
	int i;

	if (!json_is_object(heads) || (w = calloc(1, sizeof(*w))) == NULL) {
		admin_reply(r, admin_err("wait needs \"heads\": "
		    "{module: LSN}"));
		return;
	}
	for (i = 0; i < STORE_NMOD; i++)
		w->target[i] = -1;
	json_object_foreach(heads, k, v) {
		if (store_module_parse(k, &m) != 0 || !json_is_integer(v) ||
		    json_integer_value(v) < 0) {
			free(w);
			admin_reply(r, admin_err("bad heads: %s", k));
			return;
		}
		if (m == STORE_MOD_CONFIG && !d->master)
			continue;	/* nothing of it goes out from here */
		w->target[m] = json_integer_value(v);
	}
	waiter_add(d, r, w, req);
}

void
ops_handle(void *arg, struct admin_req *r, json_t *req)
{
	struct daemon *d = arg;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));

	if (cmd == NULL)
		admin_reply(r, admin_err("a request needs \"cmd\""));
	else if (strcmp(cmd, "status") == 0)
		admin_reply(r, json_pack("{s:b, s:o}", "ok", 1, "status",
		    status_json(d)));
	else if (strcmp(cmd, "sync") == 0)
		op_sync(d, r, req);
	else if (strcmp(cmd, "wait") == 0)
		op_wait(d, r, req);
	else if (strcmp(cmd, "verify") == 0)
		verify_start(d, r, req);
	else if (strcmp(cmd, "failover") == 0)
		handover_start(d, r, req);
	else
		admin_reply(r, admin_err("unknown command '%.32s'", cmd));
}

void
ops_refused(void *arg, uid_t uid, const char *reason)
{
	char who[32];

	snprintf(who, sizeof(who), "uid %d", (int)uid);
	d_security(arg, "admin-refused", who, reason);
}

/* Answer every waiting request: the daemon stops. */
void
ops_stop(struct daemon *d)
{

	d->stopping = 1;
	ops_check(d);
}
