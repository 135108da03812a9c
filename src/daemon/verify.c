/*
 * verify.c: poolpair verify: compare this pool's primary data with the
 * partner's replica of it, module by module, by buckets of keys (the
 * replaced system's Debug-CsInterPoolReplication), without moving the data.
 *
 * Each record (its package encoding: the same bytes on both sides when
 * they agree) is hashed; its key picks one of 256 buckets; a bucket's
 * digest is the XOR of its records' hashes, so walk order does not matter.
 * Round 1 exchanges the 256 digests; round 2, for the buckets that differ,
 * the keys and hashes in them.  With "repair", a module that differs is
 * sent again whole (a snapshot: the partner deletes what it has more).
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

#define VB	256		/* buckets */
#define VKEYS_MAX 1000		/* differing keys reported per module */

/* One side's digests of one module (and, in round 2, its keys). */
struct vdig {
	enum store_module module;
	const char *home;
	uint8_t want[VB];		/* round 2: buckets to list */
	int round2;
	uint8_t dig[VB][CRYPTO_HASH_LEN];
	json_t *keys;			/* round 2: {"key": "hash"} */
	struct pkg_buf b;
};

/* The verify in progress (one at a time). */
struct vrun {
	struct daemon *d;
	struct admin_req *r;
	int repair;
	int idx;			/* into mods */
	enum store_module mods[STORE_NMOD];
	int nmods;
	struct vdig here;
	json_t *result;			/* the modules' reports */
	int waiting;			/* for the partner's VERIFYR */
	int64_t deadline_ms;
};

static struct vrun *vrun;

/* The key of ${r} as text: entity, k1, k2. */
static void
rec_keytext(const struct store_rec *r, char *out, size_t len)
{
	static const char *const ents[] = { "user", "setting", "group",
		"contact", "conf", "content", "config" };
	const char *k1 = "", *k2 = "";

	switch (r->ent) {
	case STORE_E_USER: k1 = r->user.uri; break;
	case STORE_E_SETTING: k1 = r->user.uri; k2 = r->setting.key; break;
	case STORE_E_GROUP: k1 = r->contact.owner; k2 = r->group.name; break;
	case STORE_E_CONTACT: k1 = r->contact.owner; k2 = r->contact.uri; break;
	case STORE_E_CONF: k1 = r->conf.id; break;
	case STORE_E_CONTENT: k1 = r->content.conf; k2 = r->content.name;
		break;
	default: k1 = r->config.name; break;
	}
	snprintf(out, len, "%s %s%s%s", (unsigned)r->ent < 7 ? ents[r->ent] :
	    "?", k1, k2[0] != '\0' ? " " : "", k2);
}

static int
vdig_rec(void *arg, const struct store_rec *r)
{
	struct vdig *v = arg;
	uint8_t kh[CRYPTO_HASH_LEN], h[CRYPTO_HASH_LEN], t;
	char key[3 * PP_URI_MAX], hex[2 * CRYPTO_HASH_LEN + 1];
	int type, i;

	rec_keytext(r, key, sizeof(key));
	if (bk_rec_encode(r, &v->b, &type) != 0 ||
	    crypto_sha256(key, strlen(key), kh) != 0)
		return (-1);
	t = (uint8_t)type;
	pkg_put_bytes(&v->b, &t, 1);
	if (v->b.failed || crypto_sha256(v->b.p, v->b.len, h) != 0)
		return (-1);
	if (v->round2) {
		if (v->want[kh[0]] && json_object_size(v->keys) < 4 *
		    VKEYS_MAX) {
			util_hex(hex, h, CRYPTO_HASH_LEN);
			json_object_set_new(v->keys, key, json_string(hex));
		}
		return (0);
	}
	for (i = 0; i < CRYPTO_HASH_LEN; i++)
		v->dig[kh[0]][i] ^= h[i];
	return (0);
}

/* On a worker: digests (or round 2's keys) of ${v}. */
static int
vdig_run(struct store *st, struct vdig *v)
{
	int rc;

	memset(v->dig, 0, sizeof(v->dig));
	if (v->round2 && (v->keys = json_object()) == NULL)
		return (-1);
	rc = store_walk_home(st, v->module, v->home, vdig_rec, v);
	pkg_buf_free(&v->b);
	return (rc);
}

/* ${v} as JSON: {"module", "digests": [hex...]} or {"module", "keys"}. */
static json_t *
vdig_json(struct vdig *v)
{
	char hex[2 * CRYPTO_HASH_LEN + 1];
	json_t *a;
	int i;

	if (v->round2)
		return (json_pack("{s:s, s:O}", "module",
		    store_module_name(v->module), "keys", v->keys));
	a = json_array();
	for (i = 0; i < VB; i++) {
		util_hex(hex, v->dig[i], CRYPTO_HASH_LEN);
		json_array_append_new(a, json_string(hex));
	}
	return (json_pack("{s:s, s:o}", "module", store_module_name(v->module),
	    "digests", a));
}

/* --- the side that asks --------------------------------------------------- */

static void verify_next(struct daemon *d);

static void
verify_finish(struct daemon *d, json_t *resp)
{
	struct vrun *v = vrun;

	vrun = NULL;
	json_decref(v->here.keys);
	json_decref(v->result);
	if (v->r != NULL)
		admin_reply(v->r, resp);
	else
		json_decref(resp);
	(void)d;
	free(v);
}

static void
verify_cancel(void *arg, struct admin_req *r)
{
	struct vrun *v = arg;

	admin_reply(r, admin_err("cancelled"));
	v->r = NULL;
}

static void
here_run(struct worker *w, struct job *j)
{
	struct vdig *v = j->arg;

	j->rc = vdig_run(w->st, v);
	if (j->rc != 0)
		snprintf(j->err, sizeof(j->err), "%s", pp_errmsg());
}

static void
here_done(struct daemon *d, struct job *j)
{
	struct vrun *v = vrun;
	json_t *q;
	int i;

	if (v == NULL)
		return;
	if (j->rc != 0) {
		verify_finish(d, admin_err("verify: %s", j->err));
		return;
	}
	q = json_pack("{s:s, s:b}", "module",
	    store_module_name(v->here.module), "round2", v->here.round2);
	if (v->here.round2) {
		json_t *a = json_array();

		for (i = 0; i < VB; i++)
			if (v->here.want[i])
				json_array_append_new(a, json_integer(i));
		json_object_set_new(q, "buckets", a);
	}
	if (link_send_json(&d->out, FR_VERIFYQ, q) != 0) {
		verify_finish(d, admin_err("verify: the link to %s went down",
		    d->cfg.partner));
		return;
	}
	v->waiting = 1;
}

/* Start round ${round2} of the current module. */
static void
verify_round(struct daemon *d, int round2)
{
	struct vrun *v = vrun;

	v->here.round2 = round2;
	worker_post(d->exporter, job_new(here_run, here_done, &v->here));
}

/* Compare round 1: which buckets differ? */
static int
diff_buckets(struct vrun *v, json_t *there, json_t *rep)
{
	char hex[2 * CRYPTO_HASH_LEN + 1];
	json_t *a = json_object_get(there, "digests"), *list = json_array();
	int i, n = 0;

	memset(v->here.want, 0, sizeof(v->here.want));
	for (i = 0; i < VB; i++) {
		util_hex(hex, v->here.dig[i], CRYPTO_HASH_LEN);
		if (json_is_array(a) && json_array_size(a) == VB &&
		    json_string_value(json_array_get(a, i)) != NULL &&
		    strcmp(hex, json_string_value(json_array_get(a, i))) == 0)
			continue;
		v->here.want[i] = 1;
		json_array_append_new(list, json_integer(i));
		n++;
	}
	json_object_set_new(rep, "differ", list);
	return (n);
}

/* Compare round 2: the keys that differ. */
static void
diff_keys(struct vrun *v, json_t *there, json_t *rep)
{
	json_t *tk = json_object_get(there, "keys"), *keys = json_array(), *x;
	const char *k;
	json_t *val;

	json_object_foreach(v->here.keys, k, val) {
		x = json_object_get(tk, k);
		if (x != NULL && json_equal(x, val))
			continue;
		if (json_array_size(keys) < VKEYS_MAX)
			json_array_append_new(keys, json_pack("{s:s, s:O, "
			    "s:o}", "key", k, "here", val, "there", x != NULL ?
			    json_incref(x) : json_null()));
	}
	if (json_is_object(tk))
		json_object_foreach(tk, k, val)
			if (json_object_get(v->here.keys, k) == NULL &&
			    json_array_size(keys) < VKEYS_MAX)
				json_array_append_new(keys, json_pack("{s:s, "
				    "s:o, s:O}", "key", k, "here", json_null(),
				    "there", val));
	json_object_set_new(rep, "keys", keys);
}

/* Is ${s} a digest as vdig_json writes it (64 lowercase hex digits)? */
static int
is_digest(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 2 * CRYPTO_HASH_LEN)
		return (0);
	for (i = 0; i < 2 * CRYPTO_HASH_LEN; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL)
			return (0);
	return (1);
}

int
verify_answer_check(const json_t *there, enum store_module m, int round2,
    char *why, size_t whylen)
{
	const json_t *e, *a, *x;
	const char *mod, *k;
	size_t i;

	if (!json_is_object(there)) {
		snprintf(why, whylen, "not a JSON object");
		return (-1);
	}
	if ((mod = json_string_value(json_object_get(there, "module"))) ==
	    NULL || strcmp(mod, store_module_name(m)) != 0) {
		snprintf(why, whylen, "not about module %s",
		    store_module_name(m));
		return (-1);
	}
	if ((e = json_object_get(there, "error")) != NULL) {
		if (!json_is_string(e)) {
			snprintf(why, whylen, "an error that is not a string");
			return (-1);
		}
		snprintf(why, whylen, "%s", json_string_value(e));
		return (1);
	}
	if (!round2) {
		a = json_object_get(there, "digests");
		if (!json_is_array(a) || json_array_size(a) != VB) {
			snprintf(why, whylen, "not %d digests", VB);
			return (-1);
		}
		for (i = 0; i < VB; i++)
			if (!is_digest(json_string_value(json_array_get(a,
			    i)))) {
				snprintf(why, whylen, "digest %zu is not 64 "
				    "hex digits", i);
				return (-1);
			}
		return (0);
	}
	a = json_object_get(there, "keys");
	if (!json_is_object(a) || json_object_size(a) > 4 * VKEYS_MAX) {
		snprintf(why, whylen, "no keys, or more than %d",
		    4 * VKEYS_MAX);
		return (-1);
	}
	json_object_foreach((json_t *)a, k, x)
		if (!is_digest(json_string_value(x))) {
			snprintf(why, whylen, "the hash of a key is not 64 hex "
			    "digits");
			return (-1);
		}
	return (0);
}

/*
 * The partner's answer for the current module.  A refusal or a malformed
 * answer leaves the module unverified (its "error"): nothing is reported
 * as differing, and nothing is sent again.
 */
static void
verify_answer(struct daemon *d, json_t *there)
{
	struct vrun *v = vrun;
	json_t *rep = json_array_get(v->result, json_array_size(v->result) -
	    1);
	char why[256];
	int r;

	v->waiting = 0;
	if ((r = verify_answer_check(there, v->here.module, v->here.round2,
	    why, sizeof(why))) != 0) {
		if (r < 0) {
			d_security(d, "bad-frame", d->out.peer, "VERIFYR");
			json_object_set_new(rep, "error", json_sprintf("a bad "
			    "answer from %s: %s", d->cfg.partner, why));
		} else
			json_object_set_new(rep, "error", json_string(why));
		v->idx++;
		verify_next(d);
		return;
	}
	if (!v->here.round2) {
		if (diff_buckets(v, there, rep) > 0) {
			verify_round(d, 1);
			return;
		}
	} else {
		diff_keys(v, there, rep);
		json_decref(v->here.keys);
		v->here.keys = NULL;
		if (v->repair) {
			pthread_mutex_lock(&d->mtx);
			d->mod[v->here.module].need_snapshot = 1;
			d->mod[v->here.module].retry_at_ms = 0;
			pthread_mutex_unlock(&d->mtx);
			json_object_set_new(rep, "repaired", json_true());
			dlog(LOG_NOTICE, "verify: %s differs at %s: sending it "
			    "again whole", store_module_name(v->here.module),
			    d->cfg.partner);
		}
	}
	v->idx++;
	verify_next(d);
}

static void
verify_next(struct daemon *d)
{
	struct vrun *v = vrun;

	if (v->idx >= v->nmods) {
		verify_finish(d, json_pack("{s:b, s:O}", "ok", 1, "modules",
		    v->result));
		return;
	}
	memset(&v->here, 0, sizeof(v->here));
	v->here.module = v->mods[v->idx];
	v->here.home = d->cfg.pool;
	json_array_append_new(v->result, json_pack("{s:s, s:i, s:[], s:[], "
	    "s:b}", "module", store_module_name(v->here.module), "buckets", VB,
	    "differ", "keys", "repaired", 0));
	verify_round(d, 0);
}

void
verify_start(struct daemon *d, struct admin_req *r, json_t *req)
{
	struct vrun *v;
	char who[32];
	int m;

	if (vrun != NULL) {
		admin_reply(r, admin_err("a verify is already running"));
		return;
	}
	if (!d->out.authed) {
		admin_reply(r, admin_err("verify needs the link to %s, which "
		    "is down (see 'poolpair status')", d->cfg.partner));
		return;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		admin_reply(r, NULL);
		return;
	}
	v->d = d;
	v->r = r;
	v->repair = json_is_true(json_object_get(req, "repair"));
	for (m = 0; m < STORE_NMOD; m++)
		if (m != STORE_MOD_CONFIG || d->master)
			v->mods[v->nmods++] = (enum store_module)m;
	v->result = json_array();
	vrun = v;
	admin_req_on_cancel(r, verify_cancel, v);
	snprintf(who, sizeof(who), "uid %d", (int)admin_req_uid(r));
	dlog(LOG_NOTICE, "admin (%s): verify%s", who, v->repair ?
	    " --repair" : "");
	d_audit(d, "admin-verify", who, v->repair ? "repair" : "check");
	verify_next(d);
}

void
verify_frame_out(struct daemon *d, const uint8_t *p, size_t len)
{
	json_error_t je;
	json_t *j;

	if (vrun == NULL || !vrun->waiting)
		return;
	if ((j = json_loadb((const char *)p, len, 0, &je)) == NULL) {
		verify_finish(d, admin_err("verify: a bad answer from %s",
		    d->cfg.partner));
		return;
	}
	verify_answer(d, j);
	json_decref(j);
}

void
verify_link_down(struct daemon *d)
{

	if (vrun != NULL)
		verify_finish(d, admin_err("verify: the link to %s went down",
		    d->cfg.partner));
}

/* --- the side that answers (our replica of the partner) ------------------- */

static void
there_run(struct worker *w, struct job *j)
{
	struct vdig *v = j->arg;

	j->rc = vdig_run(w->st, v);
	if (j->rc != 0)
		snprintf(j->err, sizeof(j->err), "%s", pp_errmsg());
}

static void
there_done(struct daemon *d, struct job *j)
{
	struct vdig *v = j->arg;

	link_send_json(d->in, FR_VERIFYR, j->rc == 0 ? vdig_json(v) :
	    json_pack("{s:s, s:s}", "module", store_module_name(v->module),
	    "error", j->err));
	json_decref(v->keys);
	free(v);
}

int
verify_frame_in(struct daemon *d, const uint8_t *p, size_t len)
{
	json_error_t je;
	json_t *q, *b;
	struct vdig *v;
	enum store_module m;
	size_t i;
	int rc = -1;

	if ((q = json_loadb((const char *)p, len, 0, &je)) == NULL) {
		dlog(LOG_WARNING, "verify query: %s", je.text);
		return (-1);
	}
	if (store_module_parse(json_string_value(json_object_get(q,
	    "module")) ?: "", &m) != 0 || (v = calloc(1, sizeof(*v))) == NULL) {
		dlog(LOG_WARNING, "verify query: %s", pp_errmsg());
		goto out;
	}
	v->module = m;
	v->home = d->cfg.partner;
	v->round2 = json_is_true(json_object_get(q, "round2"));
	json_array_foreach(json_object_get(q, "buckets"), i, b)
		if (json_integer_value(b) >= 0 && json_integer_value(b) < VB)
			v->want[json_integer_value(b)] = 1;
	worker_post(d->importer, job_new(there_run, there_done, v));
	rc = 0;
out:
	pp_err_clear();
	json_decref(q);
	return (rc);
}
