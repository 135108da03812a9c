/*
 * bk_import.c: the importer.  The header must fit this pool and what it
 * imported before; then every record goes into one write transaction of
 * the replica, which commits only after the reader has verified the final
 * frame and the signature.  Anything else rolls it all back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "backup.h"
#include "err.h"
#include "util.h"

/* Refuse header ${h} unless it is addressed to us by our partner. */
static int
hdr_check(const struct pkg_hdr *h, const struct bk_keys *k)
{

	if (strcmp(h->pair, k->pair) != 0) {
		pp_err(PP_EINVAL, "package refused: it belongs to pair '%s'; "
		    "this pool is in pair '%s'", h->pair, k->pair);
		return (-1);
	}
	if (strcmp(h->target, k->pool) != 0) {
		pp_err(PP_EINVAL, "package refused: it is addressed to %s, "
		    "not to this pool (%s)", h->target, k->pool);
		return (-1);
	}
	if (strcmp(h->source, k->partner) != 0) {
		pp_err(PP_EINVAL, "package refused: it comes from %s, which "
		    "is not this pool's partner (%s)", h->source, k->partner);
		return (-1);
	}
	if (!crypto_eq(h->signer, k->partner_fp, CRYPTO_HASH_LEN)) {
		pp_err(PP_EINVAL, "package refused: it names a signer other "
		    "than the partner's certificate");
		return (-1);
	}
	return (0);
}

/*
 * Check that ${h} continues replica state ${rep} (${have}: there is one).
 * Returns 0 to import, 1 for a no-op (reason in ${res}), -1 to refuse.
 */
static int
seq_check(const struct pkg_hdr *h, const struct store_replica *rep,
    int have, struct bk_import_result *res)
{
	const char *mod = store_module_name((enum store_module)h->module);

	if (!have) {
		if (h->kind == PKG_CHANGES && h->since > 0) {
			res->want_snapshot = 1;
			pp_err(PP_EINVAL, "package refused: it continues %s "
			    "from LSN %lld, but nothing of it was imported "
			    "here yet (export a snapshot: --full)", mod,
			    (long long)h->since);
			return (-1);
		}
		return (0);
	}
	/*
	 * A snapshot at the replica's own LSN is applied all the same: it
	 * repairs a replica that diverged (poolpair verify --repair).
	 */
	if (memcmp(h->id, rep->pkg, sizeof(rep->pkg)) == 0 ||
	    (h->kind == PKG_CHANGES && h->upto == rep->lsn &&
	    h->epoch == rep->epoch)) {
		snprintf(res->why, sizeof(res->why), "already imported: the "
		    "%s replica is at LSN %lld", mod, (long long)rep->lsn);
		return (1);
	}
	if (h->epoch < rep->epoch) {
		pp_err(PP_EINVAL, "package refused: its epoch %lld is older "
		    "than the replica's (%lld)", (long long)h->epoch,
		    (long long)rep->epoch);
		return (-1);
	}
	if (h->upto < rep->lsn) {
		pp_err(PP_EINVAL, "package refused: older than what was "
		    "imported (it ends at LSN %lld; the %s replica is at "
		    "%lld)", (long long)h->upto, mod, (long long)rep->lsn);
		return (-1);
	}
	if (h->kind == PKG_CHANGES && h->since > rep->lsn) {
		res->want_snapshot = 1;
		pp_err(PP_EINVAL, "package refused: it starts after LSN %lld "
		    "but the %s replica is at %lld (LSNs %lld to %lld are "
		    "missing)", (long long)h->since, mod, (long long)rep->lsn,
		    (long long)rep->lsn + 1, (long long)h->since);
		return (-1);
	}
	return (0);
}

/*
 * A content package prestaged: its new chunks sealed and staged (ps), and
 * its records as the verified package held them, one after another as
 * type (1 byte), length (4 bytes, big-endian), payload; a chunk as its id
 * and length only.  kept: all of them fitted in BK_PRE_RECS_MAX.
 */
struct bk_prestaged {
	struct store_prestage *ps;
	uint8_t id[PKG_ID_LEN];
	struct pkg_stats stats;
	uint8_t *recs;
	size_t len, cap;
	int kept;
	int body_gone;		/* the package cannot be read again */
};

void
bk_prestaged_body_gone(struct bk_prestaged *pre)
{

	if (pre != NULL)
		pre->body_gone = 1;
}

void
bk_prestaged_free(struct bk_prestaged *pre)
{

	if (pre == NULL)
		return;
	store_prestage_free(pre->ps);
	free(pre->recs);
	free(pre);
}

/*
 * Apply record ${pr} inside the open import (${rec}: room to decode it).
 * A chunk without its bytes (${pr}->p NULL) that is neither held nor
 * prestaged returns -2.
 */
static int
apply_one(struct store *st, const struct pkg_rec *pr, struct store_rec *rec)
{
	char msg[512];
	int rc;

	if (pr->type == PKG_R_CHUNK)
		return (store_import_chunk(st, pr->chunk_id, pr->p, pr->len));
	if (pr->type == PKG_R_CONTENT_EDIT)
		rc = bk_edit_apply(st, pr, rec);
	else if (bk_rec_decode(pr, rec) != 0)
		return (-1);
	else
		rc = store_import_rec(st, rec);
	if (rc != 0 &&
	    pp_errcode() != PP_ESTORE && pp_errcode() != PP_EIO &&
	    pp_errcode() != PP_EINTERNAL) {
		/* The signature is unchecked yet: say what failed. */
		snprintf(msg, sizeof(msg), "%s", pp_errmsg());
		pp_err(PP_EINVAL, "package refused: a %s record does not "
		    "apply: %s", pkg_rec_name(pr->type), msg);
	}
	return (rc);
}

/* Apply every record of ${r} inside the open import. */
static int
apply_all(struct store *st, struct pkg_reader *r)
{
	struct store_rec *rec;
	struct pkg_rec pr;
	int n, rc = -1;

	if ((rec = malloc(sizeof(*rec))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	while ((n = pkg_reader_next(r, &pr)) == 1)
		if (apply_one(st, &pr, rec) != 0)
			goto out;
	rc = n == 0 ? 0 : -1;
out:
	free(rec);
	return (rc);
}

/*
 * Apply the records ${pre} kept (from a package whose signature was
 * verified) inside the open import.  -2: a chunk is not at hand.
 */
static int
apply_kept(struct store *st, const struct bk_prestaged *pre)
{
	const uint8_t *p = pre->recs, *end;
	struct store_rec *rec;
	struct pkg_rec pr;
	size_t len;
	int rc = 0;

	if (pre->len == 0)
		return (0);
	end = p + pre->len;
	if ((rec = malloc(sizeof(*rec))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	while (rc == 0 && p < end) {
		/* (Written by keep_rec below: well formed.) */
		memset(&pr, 0, sizeof(pr));
		pr.type = p[0];
		len = (size_t)p[1] << 24 | (size_t)p[2] << 16 |
		    (size_t)p[3] << 8 | p[4];
		p += 5;
		if (pr.type == PKG_R_CHUNK) {
			pr.chunk_id = p;
			pr.len = len;
			p += CRYPTO_HASH_LEN;
		} else {
			pr.p = p;
			pr.len = len;
			p += len;
		}
		rc = apply_one(st, &pr, rec);
	}
	free(rec);
	return (rc);
}

/* Keep record ${pr} in ${pre} while they fit. */
static void
keep_rec(struct bk_prestaged *pre, const struct pkg_rec *pr)
{
	size_t len = pr->type == PKG_R_CHUNK ? CRYPTO_HASH_LEN : pr->len;
	size_t cap;
	uint8_t *p;

	if (!pre->kept)
		return;
	if (pre->len + 5 + len > pre->cap) {
		cap = pre->cap == 0 ? 1 << 16 : pre->cap * 2;
		while (cap < pre->len + 5 + len)
			cap *= 2;
		if (cap > BK_PRE_RECS_MAX ||
		    (p = realloc(pre->recs, cap)) == NULL) {
			/* Too many: the import reads the package again. */
			pre->kept = 0;
			free(pre->recs);
			pre->recs = NULL;
			pre->len = pre->cap = 0;
			return;
		}
		pre->recs = p;
		pre->cap = cap;
	}
	p = pre->recs + pre->len;
	p[0] = (uint8_t)pr->type;
	p[1] = (uint8_t)(pr->len >> 24);
	p[2] = (uint8_t)(pr->len >> 16);
	p[3] = (uint8_t)(pr->len >> 8);
	p[4] = (uint8_t)pr->len;
	memcpy(p + 5, pr->type == PKG_R_CHUNK ? pr->chunk_id : pr->p, len);
	pre->len += 5 + len;
}

static int import_src(struct store *, const struct bk_keys *,
    const struct util_src *, struct bk_prestaged *,
    struct bk_import_result *);

int
bk_import(struct store *st, const struct bk_keys *k, int fd,
    struct bk_import_result *res)
{

	return (bk_import_prestaged(st, k, fd, NULL, res));
}

int
bk_import_src(struct store *st, const struct bk_keys *k,
    const struct util_src *s, struct bk_import_result *res)
{

	return (import_src(st, k, s, NULL, res));
}

int
bk_prestage(struct store *st, const struct bk_keys *k, int fd,
    struct bk_prestaged **out)
{
	struct util_src s = { .fd = fd };

	return (bk_prestage_src(st, k, &s, out));
}

int
bk_prestage_src(struct store *st, const struct bk_keys *k,
    const struct util_src *s, struct bk_prestaged **out)
{
	struct bk_prestaged *pre = NULL;
	struct pkg_reader *r = NULL;
	struct pkg_hdr h;
	struct pkg_rec pr;
	int n;

	*out = NULL;
	if (pkg_header_read_src(s, &h) != 0 || hdr_check(&h, k) != 0)
		return (-1);
	if (h.module != STORE_MOD_CONFCONTENT)
		return (0);
	if ((pre = calloc(1, sizeof(*pre))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	memcpy(pre->id, h.id, sizeof(pre->id));
	pre->kept = 1;
	if ((r = pkg_reader_new_src(s, &h, k->seal_priv, k->partner_pub)) ==
	    NULL || (pre->ps = store_prestage_new(st)) == NULL)
		goto fail;
	while ((n = pkg_reader_next(r, &pr)) == 1) {
		if (pr.type == PKG_R_CHUNK &&
		    store_prestage_chunk(pre->ps, pr.chunk_id, pr.p, pr.len) !=
		    0)
			goto fail;
		keep_rec(pre, &pr);
	}
	if (n != 0 || store_prestage_sync(pre->ps) != 0)
		goto fail;
	pkg_reader_stats(r, &pre->stats);
	pkg_reader_free(r);
	*out = pre;
	return (0);
fail:
	pkg_reader_free(r);
	bk_prestaged_free(pre);
	return (-1);
}

/* Say that the package must be sent again (bk_prestaged_body_gone). */
static void
body_gone(void)
{

	pp_err(PP_EAGAIN, "the package must be sent again: its spool was "
	    "freed as it was prestaged, and the import needs it");
}

/*
 * Import the package at ${fd}, whose header ${h} was read and checked,
 * with what ${pre} prestaged (taken; NULL: none): from the records it kept
 * if it can, else by reading the package.  -2: a kept chunk was not at
 * hand (the import was rolled back: read the package).
 */
static int
import_body(struct store *st, const struct bk_keys *k,
    const struct util_src *s, struct bk_prestaged *pre,
    struct bk_import_result *res)
{
	struct pkg_hdr *h = &res->hdr;
	struct store_prestage *ps = NULL;
	struct store_replica rep;
	struct pkg_reader *r = NULL;
	int kept, c, rc = -1;

	kept = pre != NULL && pre->kept &&
	    memcmp(pre->id, h->id, sizeof(pre->id)) == 0;
	if (!kept && pre != NULL && pre->body_gone) {
		body_gone();		/* (import_src frees ${pre}) */
		return (-1);
	}
	if (pre != NULL) {
		ps = pre->ps;
		pre->ps = NULL;
	}
	if ((!kept && (r = pkg_reader_new_src(s, h, k->seal_priv,
	    k->partner_pub)) == NULL) ||
	    store_import_begin(st, h->source, (enum store_module)h->module,
	    h->kind == PKG_SNAPSHOT) != 0) {
		store_prestage_free(ps);
		goto out;
	}
	/* The import takes the prestage, whatever happens. */
	c = ps != NULL ? store_import_prestaged(st, ps) : 0;
	if (c == 0)
		c = kept ? apply_kept(st, pre) : apply_all(st, r);
	if (c != 0) {
		store_import_rollback(st);
		rc = c == -2 && kept ? -2 : -1;
		goto out;
	}
	if (kept)
		res->stats = pre->stats;
	else
		pkg_reader_stats(r, &res->stats);
	memset(&rep, 0, sizeof(rep));
	rep.epoch = h->epoch;
	rep.lsn = h->upto;
	memcpy(rep.pkg, h->id, sizeof(rep.pkg));
	rep.records = (int64_t)res->stats.records;
	rc = store_import_commit(st, &rep);
out:
	pkg_reader_free(r);
	return (rc);
}

int
bk_import_prestaged(struct store *st, const struct bk_keys *k, int fd,
    struct bk_prestaged *pre, struct bk_import_result *res)
{
	struct util_src s = { .fd = fd };

	return (import_src(st, k, &s, pre, res));
}

static int
import_src(struct store *st, const struct bk_keys *k,
    const struct util_src *s, struct bk_prestaged *pre,
    struct bk_import_result *res)
{
	struct store_replica rep;
	struct pkg_hdr *h = &res->hdr;
	int have, c, rc = -1, gone = pre != NULL && pre->body_gone;

	memset(res, 0, sizeof(*res));
	if (pkg_header_read_src(s, h) != 0 || hdr_check(h, k) != 0)
		goto out;
	if ((have = store_replica_get(st, h->source,
	    (enum store_module)h->module, &rep) == 0) == 0 &&
	    pp_errcode() != PP_ENOENT)
		goto out;
	if ((c = seq_check(h, &rep, have, res)) != 0) {
		res->noop = c == 1;
		rc = c == 1 ? 0 : -1;
		goto out;
	}
	if ((rc = import_body(st, k, s, pre, res)) == -2) {
		/* A chunk went since it was prestaged: read it all again. */
		if (gone) {
			body_gone();
			rc = -1;
			goto out;
		}
		if (s->read != NULL || lseek(s->fd, 0, SEEK_SET) != 0 ||
		    pkg_header_read(s->fd, h) != 0) {
			pp_errp(PP_EIO, "cannot read the package again");
			rc = -1;
			goto out;
		}
		rc = import_body(st, k, s, NULL, res);
	}
out:
	bk_prestaged_free(pre);
	return (rc);
}

void
bk_refusal_record(const char *dir, const char *what, const char *from,
    const char *reason)
{
	char kind[AUDIT_KIND_MAX + 1];
	struct audit *a;

	/* The process's shared writer, so its rate limit holds across calls. */
	if ((size_t)snprintf(kind, sizeof(kind), "%s-refused", what) >=
	    sizeof(kind) || (a = audit_shared(dir)) == NULL)
		return;
	(void)audit_log(a, kind, from, "%s", reason);
}
