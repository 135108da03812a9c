/*
 * handover.c: a failover of a pool that still answers (RPO 0).  The backup
 * (the pool running 'poolpair failover POOL') sends HANDOVERQ with the next
 * epoch; POOL goes read-only for its users (mode FailingBack: handing
 * over), ships everything, and once its partner acked all of it answers
 * HANDOVERR with its journal heads; the backup, having imported up to
 * there, takes the users under the new epoch.  Its owner record then
 * fences POOL, with no orphans: nothing was left behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <jansson.h>

#include "admin.h"
#include "daemon.h"
#include "err.h"
#include "frame.h"
#include "util.h"
#include "worker.h"

#define HO_TIMEOUT_MS	60000	/* to flush, at the pool handing over */

/* At the backup: the admin request waiting for the handover. */
static struct admin_req *ho_req;
static int64_t ho_deadline, ho_epoch;

/* At the pool handing over: flushing until ho_give_deadline. */
static int64_t ho_give_deadline, ho_give_epoch;

struct ho_job {
	struct store_owner o;
	char err[256];
};

static void
owner_run(struct worker *w, struct job *j)
{
	struct ho_job *h = j->arg;

	j->rc = store_owner_set(w->st, &h->o);
	if (j->rc != 0)
		snprintf(h->err, sizeof(h->err), "%s", pp_errmsg());
}

/* --- at the backup -------------------------------------------------------- */

static void
ho_cancel(void *arg, struct admin_req *r)
{

	(void)arg;
	if (r == ho_req)
		ho_req = NULL;
	admin_reply(r, admin_err("cancelled"));
}

static void
take_done(struct daemon *d, struct job *j)
{
	struct ho_job *h = j->arg;
	struct admin_req *r = ho_req;

	ho_req = NULL;
	if (j->rc == 0) {
		dlog(LOG_NOTICE, "failover: %s now writes the users of %s "
		    "(epoch %lld), nothing lost", h->o.owner, h->o.home,
		    (long long)h->o.epoch);
		d_audit(d, "failover", h->o.owner, h->o.home);
		repl_tick(d);
	}
	if (r != NULL)
		admin_reply(r, j->rc == 0 ? json_pack("{s:b, s:s, s:s, s:I, "
		    "s:I, s:I, s:b}", "ok", 1, "home", h->o.home, "owner",
		    h->o.owner, "epoch", (json_int_t)h->o.epoch,
		    "userdata_lsn", (json_int_t)h->o.lsn[0],
		    "confcontent_lsn", (json_int_t)h->o.lsn[1], "master",
		    h->o.master) : admin_err("failover: %s", h->err));
	free(h);
}

/* A failover request, between a fresh look at the store and its start. */
struct ho_start {
	struct admin_req *r;
	char home[PP_FQDN_MAX + 1];
	json_int_t timeout;
};

/* On the exporter: read ownership afresh (a failback may just have ended). */
static void
start_poll(struct worker *w, struct job *j)
{

	(void)j;
	repl_exp_poll(w);
}

static void
start_go(struct daemon *d, struct job *j)
{
	struct ho_start *hs = j->arg;
	struct admin_req *r = hs->r;
	struct store_owner cur;

	pthread_mutex_lock(&d->mtx);
	cur = d->owners[1];
	pthread_mutex_unlock(&d->mtx);
	if (ho_req != NULL)
		admin_reply(r, admin_err("a failover is already running"));
	else if (strcmp(cur.owner, d->cfg.partner) != 0)
		admin_reply(r, admin_err("the users of %s are owned by %s "
		    "already (epoch %lld)", hs->home, cur.owner,
		    (long long)cur.epoch));
	else if (!d->out.authed)
		admin_reply(r, admin_err("%s does not answer (the link is "
		    "down): use failover --disaster", hs->home));
	else {
		ho_epoch = cur.epoch + 1;
		ho_deadline = d_now_ms() + (hs->timeout > 0 &&
		    hs->timeout < 600000 ? hs->timeout : HO_TIMEOUT_MS + 10000);
		if (link_send_json(&d->out, FR_HANDOVERQ, json_pack("{s:s, "
		    "s:I}", "home", hs->home, "epoch", (json_int_t)ho_epoch))
		    != 0)
			admin_reply(r, admin_err("the link to %s went down",
			    hs->home));
		else {
			ho_req = r;
			admin_req_on_cancel(r, ho_cancel, d);
			dlog(LOG_NOTICE, "failover: asking %s to hand its "
			    "users over (epoch %lld)", hs->home,
			    (long long)ho_epoch);
		}
	}
	free(hs);
}

void
handover_start(struct daemon *d, struct admin_req *r, json_t *req)
{
	const char *home = json_string_value(json_object_get(req, "home"));
	struct ho_start *hs;

	if (home == NULL || strcmp(home, d->cfg.partner) != 0) {
		admin_reply(r, admin_err("failover: only the partner's users "
		    "(%s) can be taken here", d->cfg.partner));
		return;
	}
	if ((hs = calloc(1, sizeof(*hs))) == NULL) {
		admin_reply(r, NULL);
		return;
	}
	hs->r = r;
	snprintf(hs->home, sizeof(hs->home), "%s", home);
	hs->timeout = json_integer_value(json_object_get(req, "timeout_ms"));
	worker_post(d->exporter, job_new(start_poll, start_go, hs));
}

int
handover_answer_parse(const uint8_t *p, size_t len, const char *home,
    int64_t lsn[2], char *why, size_t whylen)
{
	json_error_t je;
	json_t *j, *e, *a, *x;
	const char *h;
	int i, rc = -1;

	if ((j = json_loadb((const char *)p, len, 0, &je)) == NULL ||
	    !json_is_object(j)) {
		snprintf(why, whylen, "not a JSON object");
		goto out;
	}
	if ((e = json_object_get(j, "error")) != NULL) {
		if (!json_is_string(e)) {
			snprintf(why, whylen, "an error that is not a string");
			goto out;
		}
		snprintf(why, whylen, "%s", json_string_value(e));
		rc = 1;
		goto out;
	}
	if ((h = json_string_value(json_object_get(j, "home"))) == NULL ||
	    strcmp(h, home) != 0) {
		snprintf(why, whylen, "not about the users of %s", home);
		goto out;
	}
	/* Its heads: without both, nothing says what must be imported. */
	a = json_object_get(j, "lsn");
	if (!json_is_array(a) || json_array_size(a) != 2) {
		snprintf(why, whylen, "no journal heads (lsn: [userdata, "
		    "confcontent])");
		goto out;
	}
	for (i = 0; i < 2; i++) {
		x = json_array_get(a, (size_t)i);
		if (!json_is_integer(x) || json_integer_value(x) < 0) {
			snprintf(why, whylen, "a journal head that is not an "
			    "LSN");
			goto out;
		}
		lsn[i] = json_integer_value(x);
	}
	rc = 0;
out:
	json_decref(j);
	return (rc);
}

/* HANDOVERR: the partner flushed up to these LSNs (or could not). */
void
handover_answer(struct daemon *d, const uint8_t *p, size_t len)
{
	struct ho_job *h;
	char why[256];
	int64_t lsn[2];
	int ok, r;

	if (ho_req == NULL)
		return;
	if ((r = handover_answer_parse(p, len, d->cfg.partner, lsn, why,
	    sizeof(why))) != 0) {
		/* Refused, or malformed: either way nothing is taken. */
		if (r > 0)
			admin_reply(ho_req, admin_err("failover: %s refused: "
			    "%s", d->cfg.partner, why));
		else {
			d_security(d, "bad-frame", d->out.peer, "HANDOVERR");
			admin_reply(ho_req, admin_err("failover: a bad answer "
			    "from %s: %s", d->cfg.partner, why));
		}
		ho_req = NULL;
		return;
	}
	pthread_mutex_lock(&d->mtx);
	ok = d->mod[STORE_MOD_USERDATA].imp_lsn >= lsn[0] &&
	    d->mod[STORE_MOD_CONFCONTENT].imp_lsn >= lsn[1];
	pthread_mutex_unlock(&d->mtx);
	if (!ok || (h = calloc(1, sizeof(*h))) == NULL) {
		admin_reply(ho_req, admin_err("failover: this pool has not "
		    "imported all %s shipped (userdata %lld, confcontent %lld)",
		    d->cfg.partner, (long long)lsn[0], (long long)lsn[1]));
		ho_req = NULL;
		return;
	}
	snprintf(h->o.home, sizeof(h->o.home), "%s", d->cfg.partner);
	snprintf(h->o.owner, sizeof(h->o.owner), "%s", d->cfg.pool);
	h->o.epoch = ho_epoch;
	h->o.mode = STORE_MODE_FAILEDOVER;
	h->o.lsn[0] = lsn[0];
	h->o.lsn[1] = lsn[1];
	pthread_mutex_lock(&d->mtx);
	h->o.master = !d->master && d->owners[1].home[0] != '\0' &&
	    d->partner_master;
	/*
	 * Taken with nothing left behind: the partner's data is exactly our
	 * replica of it, so it need not be sent whole (repl.c), only fenced.
	 * Set before the owner record commits, which the exporter may see at
	 * once.
	 */
	d->handed_epoch = ho_epoch;
	pthread_mutex_unlock(&d->mtx);
	worker_post(d->importer, job_new(owner_run, take_done, h));
}

/* --- at the pool handing over --------------------------------------------- */

static void
ho_reply(struct daemon *d, json_t *j)
{

	ho_give_deadline = 0;
	link_send_json(d->in, FR_HANDOVERR, j);
}

static void
give_done(struct daemon *d, struct job *j)
{
	struct ho_job *h = j->arg;

	if (j->rc != 0) {
		ho_reply(d, json_pack("{s:s}", "error", h->err));
		free(h);
		return;
	}
	dlog(LOG_NOTICE, "handover: the users of %s are read-only here; "
	    "shipping everything to %s", d->cfg.pool, d->cfg.partner);
	d_audit(d, "handover", d->cfg.partner, "read-only, flushing");
	pthread_mutex_lock(&d->mtx);
	d->mod[STORE_MOD_USERDATA].sync_now = 1;
	d->mod[STORE_MOD_CONFCONTENT].sync_now = 1;
	pthread_mutex_unlock(&d->mtx);
	ho_give_deadline = d_now_ms() + HO_TIMEOUT_MS;
	free(h);
	repl_tick(d);
}

/*
 * On the exporter, for HANDOVERQ: read ownership afresh, check that this
 * pool owns its users at the epoch before the one asked, and make them
 * read-only (mode FailingBack: handing over).
 */
static void
give_run(struct worker *w, struct job *j)
{
	struct ho_job *h = j->arg;
	struct daemon *d = w->d;
	int64_t epoch = h->o.epoch;

	repl_exp_poll(w);
	pthread_mutex_lock(&d->mtx);
	h->o = d->owners[0];
	pthread_mutex_unlock(&d->mtx);
	if (strcmp(h->o.owner, d->cfg.pool) != 0 || epoch != h->o.epoch + 1) {
		snprintf(h->err, sizeof(h->err), "not the owner of those users "
		    "at the epoch before %lld", (long long)epoch);
		j->rc = -1;
		return;
	}
	h->o.mode = STORE_MODE_FAILINGBACK;	/* read-only: handing over */
	owner_run(w, j);
}

/* HANDOVERQ at the home pool: go read-only for our users, then flush. */
int
handover_request(struct daemon *d, const uint8_t *p, size_t len)
{
	json_error_t je;
	json_t *j;
	struct ho_job *h;
	const char *home;

	if ((j = json_loadb((const char *)p, len, 0, &je)) == NULL)
		return (-1);
	home = json_string_value(json_object_get(j, "home"));
	if (home == NULL || strcmp(home, d->cfg.pool) != 0 ||
	    ho_give_deadline != 0 || (h = calloc(1, sizeof(*h))) == NULL) {
		ho_reply(d, json_pack("{s:s}", "error", "not these users, or "
		    "a handover is already running"));
		json_decref(j);
		return (0);
	}
	h->o.epoch = json_integer_value(json_object_get(j, "epoch"));
	json_decref(j);
	ho_give_epoch = h->o.epoch;
	worker_post(d->exporter, job_new(give_run, give_done, h));
	return (0);
}

/* Every tick: flushed?  Then answer with the heads. */
void
handover_check(struct daemon *d)
{
	struct dmod *u = &d->mod[STORE_MOD_USERDATA];
	struct dmod *c = &d->mod[STORE_MOD_CONFCONTENT];
	int64_t lsn[2];
	int done;

	if (ho_req != NULL && d_now_ms() > ho_deadline) {
		admin_reply(ho_req, admin_err("timeout: %s did not hand its "
		    "users over in time", d->cfg.partner));
		ho_req = NULL;
	}
	if (ho_give_deadline == 0)
		return;
	pthread_mutex_lock(&d->mtx);
	done = u->known && c->known && !u->inflight && !c->inflight &&
	    u->acked >= u->head && c->acked >= c->head &&
	    d->owners[0].mode == STORE_MODE_FAILINGBACK;
	lsn[0] = u->head;
	lsn[1] = c->head;
	pthread_mutex_unlock(&d->mtx);
	if (done) {
		dlog(LOG_NOTICE, "handover: %s has everything (userdata %lld, "
		    "confcontent %lld)", d->cfg.partner, (long long)lsn[0],
		    (long long)lsn[1]);
		ho_reply(d, json_pack("{s:s, s:[I, I]}", "home", d->cfg.pool,
		    "lsn", (json_int_t)lsn[0], (json_int_t)lsn[1]));
	} else if (d_now_ms() > ho_give_deadline)
		ho_reply(d, json_pack("{s:s}", "error", "could not ship "
		    "everything in time; the users stay read-only here"));
}
