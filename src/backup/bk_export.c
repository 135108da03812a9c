/*
 * bk_export.c: the exporter.  One read transaction of the store feeds the
 * package writer: each changed key's latest state (or everything, for a
 * snapshot), and before each content item the chunks the target lacks,
 * each sent once per package; an item whose previous version the target
 * holds goes as an edit of it (bk_delta.c).
 */
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "err.h"
#include "util.h"

/* Chunk ids sent in this package: an open-addressed set, bounded. */
#define SENT_MAX	(1 << 18)	/* 8 MiB of ids; beyond, resend */

struct bk_exp {
	struct store *st;
	const struct bk_export_opts *o;
	uint8_t (*held)[CRYPTO_HASH_LEN];	/* the target holds these */
	size_t capheld;
	uint8_t *ask;			/* ids to ask about */
	size_t nask;
	struct pkg_writer *w;
	struct pkg_buf b;
	uint8_t *chunk;
	uint8_t (*sent)[CRYPTO_HASH_LEN];
	size_t nsent, capsent;
	uint8_t *dbase, *dnew;		/* a delta's base and run, bytes */
	uint32_t dlens[BK_DELTA_CHUNKS];
	int32_t *pidx;			/* anchors (exp_anchors) */
	size_t cappidx;
	uint64_t edits, deltas, delta_chunks;
};

/*
 * Find ${id} in the open-addressed table ${t} of ${cap} slots (ids are
 * uniformly random: their first bytes hash well): 1 if there; else, with
 * ${insert}, insert it; return 0.
 */
static int
set_find(uint8_t (*t)[CRYPTO_HASH_LEN], size_t cap, const uint8_t *id,
    int insert)
{
	static const uint8_t zero[CRYPTO_HASH_LEN];
	size_t i;

	i = ((size_t)id[0] << 24 | (size_t)id[1] << 16 | (size_t)id[2] << 8 |
	    id[3]) % cap;
	for (; memcmp(t[i], zero, CRYPTO_HASH_LEN) != 0; i = (i + 1) % cap)
		if (memcmp(t[i], id, CRYPTO_HASH_LEN) == 0)
			return (1);
	if (insert)
		memcpy(t[i], id, CRYPTO_HASH_LEN);
	return (0);
}

static int sent_check(struct bk_exp *, const uint8_t *);

/*
 * 1 if ${r} goes as an edit of its previous version (content-edit): a
 * content put with a previous chunk list, to a target that takes them and
 * holds that version: it has the put that made it and not the one that
 * replaced it (the package starts after the first, before the second).
 * A version with no put here (prev_base 0: imported, or from before store
 * format 3) is not known to be at the target: whole.  The edit names the
 * version's hash and the import checks it (a refused package is sent
 * again without edits).
 */
static int
edits(const struct bk_exp *x, const struct store_rec *r)
{

	return (x->o->deltas && r->ent == STORE_E_CONTENT && !r->del &&
	    r->prev != NULL && r->nprev > 0 && r->content.nchunks > 0 &&
	    r->prev_base > 0 && r->prev_base <= x->o->since &&
	    x->o->since < r->prev_lsn);
}

/* First walk: collect the distinct chunk ids of content puts to ask about. */
static int
collect_rec(void *arg, const struct store_rec *r)
{
	struct bk_exp *x = arg;
	size_t i;

	/* (An edit's new chunks are the changed ones: not asked about.) */
	if (r->ent != STORE_E_CONTENT || r->del || edits(x, r))
		return (0);
	for (i = 0; i < r->content.nchunks && x->nask < x->o->ask_max; i++)
		if (!sent_check(x, r->ids + i * CRYPTO_HASH_LEN)) {
			memcpy(x->ask + x->nask * CRYPTO_HASH_LEN,
			    r->ids + i * CRYPTO_HASH_LEN, CRYPTO_HASH_LEN);
			x->nask++;
		}
	return (0);
}

/*
 * Ask the target which chunks of this package it holds (bk_ask_fn) and
 * keep those in x->held.  A failed ask leaves x->held empty: all go.
 */
static int
exp_ask(struct bk_exp *x)
{
	uint8_t *bits = NULL;
	size_t i;
	int rc = -1;

	if ((x->ask = malloc(x->o->ask_max * CRYPTO_HASH_LEN)) == NULL)
		goto nomem;
	if (store_export_walk(x->st, collect_rec, x) != 0)
		goto out;
	/* The walk used the sent set to skip repeats: start it afresh. */
	free(x->sent);
	x->sent = NULL;
	x->nsent = x->capsent = 0;
	if (x->nask == 0) {
		rc = 0;
		goto out;
	}
	if ((bits = calloc((x->nask + 7) / 8, 1)) == NULL)
		goto nomem;
	if (x->o->ask(x->o->ask_arg, x->ask, x->nask, bits) != 0) {
		rc = 0;		/* unknown: send them all */
		goto out;
	}
	x->capheld = x->nask * 2 + 1;
	if ((x->held = calloc(x->capheld, CRYPTO_HASH_LEN)) == NULL)
		goto nomem;
	for (i = 0; i < x->nask; i++)
		if (bits[i / 8] & (1u << (i % 8)))
			(void)set_find(x->held, x->capheld,
			    x->ask + i * CRYPTO_HASH_LEN, 1);
	rc = 0;
	goto out;
nomem:
	pp_err(PP_EINTERNAL, "out of memory");
out:
	free(bits);
	free(x->ask);
	x->ask = NULL;
	return (rc);
}

/*
 * 1 if ${id} was sent already in this package; else remember it and
 * return 0.  Past SENT_MAX ids (or without memory) it stops remembering:
 * a chunk may then be sent twice, which the importer takes as once.
 */
static int
sent_check(struct bk_exp *x, const uint8_t *id)
{
	static const uint8_t zero[CRYPTO_HASH_LEN];
	uint8_t (*t)[CRYPTO_HASH_LEN];
	size_t i, cap;

	if (x->nsent * 2 >= x->capsent) {
		if (x->capsent >= SENT_MAX * 2)
			return (0);
		cap = x->capsent ? x->capsent * 2 : 1024;
		if ((t = calloc(cap, CRYPTO_HASH_LEN)) == NULL)
			return (0);
		for (i = 0; i < x->capsent; i++)
			if (memcmp(x->sent[i], zero, CRYPTO_HASH_LEN) != 0)
				(void)set_find(t, cap, x->sent[i], 1);
		free(x->sent);
		x->sent = t;
		x->capsent = cap;
	}
	if (set_find(x->sent, x->capsent, id, 1))
		return (1);
	x->nsent++;
	return (0);
}

/*
 * Read the ${n} chunks ${ids} into ${buf} one after another (lengths into
 * ${lens} if not NULL): their total, or 0 if over BK_DELTA_MAX, or -1.
 */
static ssize_t
read_run(struct bk_exp *x, const uint8_t *ids, size_t n, uint8_t *buf,
    uint32_t *lens)
{
	size_t i, off = 0, len;

	for (i = 0; i < n; i++) {
		if (store_chunk_read(x->st, ids + i * CRYPTO_HASH_LEN,
		    buf + off, &len) != 0)
			return (-1);
		if (lens != NULL)
			lens[i] = (uint32_t)len;
		off += len;
	}
	return (off > BK_DELTA_MAX ? 0 : (ssize_t)off);
}

/* The index + 1 of ${id} in ${r}'s previous list by ${tab} (0: none). */
static uint32_t
prev_find(const struct store_rec *r, const uint32_t *tab, size_t cap,
    const uint8_t *id)
{
	size_t h;

	for (h = be32_get(id) % cap; tab[h] != 0; h = (h + 1) % cap)
		if (memcmp(r->prev + (tab[h] - 1) * CRYPTO_HASH_LEN, id,
		    CRYPTO_HASH_LEN) == 0)
			break;
	return (tab[h]);
}

/*
 * Pair the chunk lists of ${r}, previous and new, into x->pidx: a new
 * chunk that is also in the previous list, later than the last such, is
 * an anchor (pidx: its previous index); the others get -1.  Each run of
 * new chunks between two anchors replaced the previous chunks between the
 * same two (an edit inside a deck: one run, a few chunks).
 */
static int
exp_anchors(struct bk_exp *x, const struct store_rec *r)
{
	uint32_t *tab;
	size_t np = r->nprev, nn = r->content.nchunks, cap = np * 2 + 1;
	size_t i, h, last = 0;
	uint32_t at;
	int32_t *p;

	if (nn > x->cappidx) {
		if ((p = realloc(x->pidx, nn * sizeof(*p))) == NULL)
			goto nomem;
		x->pidx = p;
		x->cappidx = nn;
	}
	/* Open addressing: previous index + 1 by id (the first of each). */
	if ((tab = calloc(cap, sizeof(*tab))) == NULL)
		goto nomem;
	for (i = 0; i < np; i++) {
		if (prev_find(r, tab, cap, r->prev + i * CRYPTO_HASH_LEN) != 0)
			continue;
		for (h = be32_get(r->prev + i * CRYPTO_HASH_LEN) % cap;
		    tab[h] != 0; h = (h + 1) % cap)
			;
		tab[h] = (uint32_t)i + 1;
	}
	for (i = 0; i < nn; i++) {
		at = prev_find(r, tab, cap, r->ids + i * CRYPTO_HASH_LEN);
		if (at == 0 || at - 1 < last)
			x->pidx[i] = -1;
		else {
			x->pidx[i] = (int32_t)(at - 1);
			last = at;
		}
	}
	free(tab);
	return (0);
nomem:
	pp_err(PP_EINTERNAL, "out of memory");
	return (-1);
}

/* Send chunk ${id} unless sent already or the target holds it. */
static int
exp_chunk(struct bk_exp *x, const uint8_t *id)
{
	size_t len;
	int h;

	if (sent_check(x, id))
		return (0);
	if (x->held != NULL && set_find(x->held, x->capheld, id, 0))
		return (0);
	if (x->o->have != NULL && (h = x->o->have(x->o->have_arg, id)) != 0)
		return (h < 0 ? -1 : 0);
	if (store_chunk_read(x->st, id, x->chunk, &len) != 0 ||
	    pkg_writer_chunk(x->w, id, x->chunk, len) != 0)
		return (-1);
	return (0);
}

/*
 * The new chunks ${n0}..${n1} of ${r} replaced its previous chunks
 * ${p0}..${p1}: a delta segment of ${e} if it pays (1), else 0.
 */
static int
edit_delta(struct bk_exp *x, struct bk_edit_w *e, const struct store_rec *r,
    size_t n0, size_t n1, size_t p0, size_t p1)
{
	size_t nn = n1 - n0, nb = p1 - p0;
	ssize_t blen, nlen;
	int c;

	if (nb == 0 || nb > BK_DELTA_CHUNKS || nn > BK_DELTA_CHUNKS)
		return (0);
	if (x->dbase == NULL &&
	    ((x->dbase = malloc(BK_DELTA_CHUNKS * PKG_CHUNK_MAX)) == NULL ||
	    (x->dnew = malloc(BK_DELTA_CHUNKS * PKG_CHUNK_MAX)) == NULL)) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	if ((blen = read_run(x, r->prev + p0 * CRYPTO_HASH_LEN, nb, x->dbase,
	    NULL)) <= 0 || (nlen = read_run(x, r->ids + n0 * CRYPTO_HASH_LEN,
	    nn, x->dnew, x->dlens)) <= 0)
		return (blen < 0 || nlen < 0 ? -1 : 0);
	if ((c = bk_edit_delta(e, p0, nb, x->dbase, (size_t)blen,
	    r->ids + n0 * CRYPTO_HASH_LEN, x->dlens, nn, x->dnew,
	    (size_t)nlen)) == 1) {
		x->deltas++;
		x->delta_chunks += nn;
	}
	return (c);
}

/*
 * Content put ${r} as an edit of its previous version: the anchors'
 * ranges copied; each run between them a delta where that pays, else new
 * ids whose chunks go (whole, before the record) unless sent already.
 */
static int
exp_edit(struct bk_exp *x, const struct store_rec *r)
{
	struct bk_edit_w e;
	size_t nn = r->content.nchunks, k, j, i, last = 0, at;
	int c;

	if (exp_anchors(x, r) != 0 || bk_edit_begin(&e, &x->b, r) != 0)
		return (-1);
	/* last: the previous index just past the last anchor. */
	for (k = 0; k < nn; k = j) {
		if (x->pidx[k] >= 0) {
			for (j = k + 1; j < nn && x->pidx[j] == x->pidx[j - 1] + 1;
			    j++)
				;
			bk_edit_copy(&e, (size_t)x->pidx[k], j - k);
			last = (size_t)x->pidx[j - 1] + 1;
			continue;
		}
		for (j = k + 1; j < nn && x->pidx[j] < 0; j++)
			;
		at = j < nn ? (size_t)x->pidx[j] : r->nprev;
		if ((c = edit_delta(x, &e, r, k, j, last, at)) < 0)
			return (-1);
		if (c == 1)
			continue;
		bk_edit_new(&e, r->ids + k * CRYPTO_HASH_LEN, j - k);
		for (i = k; i < j; i++)
			if (exp_chunk(x, r->ids + i * CRYPTO_HASH_LEN) != 0)
				return (-1);
	}
	if (bk_edit_end(&e) != 0)
		return (-1);
	x->edits++;
	return (pkg_writer_rec(x->w, PKG_R_CONTENT_EDIT, x->b.p, x->b.len));
}

static int
exp_rec(void *arg, const struct store_rec *r)
{
	struct bk_exp *x = arg;
	size_t i;
	int type;

	if (edits(x, r))
		return (exp_edit(x, r));
	if (r->ent == STORE_E_CONTENT && !r->del)
		for (i = 0; i < r->content.nchunks; i++)
			if (exp_chunk(x, r->ids + i * CRYPTO_HASH_LEN) != 0)
				return (-1);
	if (bk_rec_encode(r, &x->b, &type) != 0 ||
	    pkg_writer_rec(x->w, type, x->b.p, x->b.len) != 0)
		return (-1);
	return (0);
}

int
bk_export(struct store *st, const struct bk_keys *k,
    const struct bk_export_opts *o, int fd, struct bk_export_result *res)
{
	struct bk_exp x;
	struct pkg_hdr *h = &res->hdr;
	struct util_sink fsink = { .fd = fd };
	int64_t since = o->since, epoch, upto;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	x.st = st;
	x.o = o;
	if (store_export_begin(st, o->module, since, &epoch, &upto) != 0) {
		if (since < 0 || pp_errcode() != PP_ENOENT)
			return (-1);
		/* The journal no longer reaches back: send everything. */
		since = -1;
		res->fell_back = 1;
		if (store_export_begin(st, o->module, since, &epoch, &upto)
		    != 0)
			return (-1);
	}
	h->kind = since < 0 ? PKG_SNAPSHOT : PKG_CHANGES;
	h->module = (int)o->module;
	h->epoch = epoch;
	h->since = since < 0 ? 0 : since;
	h->upto = upto;
	memcpy(h->signer, k->fingerprint, CRYPTO_HASH_LEN);
	snprintf(h->pair, sizeof(h->pair), "%s", k->pair);
	snprintf(h->source, sizeof(h->source), "%s", k->pool);
	snprintf(h->target, sizeof(h->target), "%s", k->partner);
	if ((x.chunk = malloc(PKG_CHUNK_MAX)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		goto out;
	}
	if (o->ask != NULL && o->ask_max > 0 &&
	    o->module == STORE_MOD_CONFCONTENT && exp_ask(&x) != 0)
		goto out;
	if ((x.w = pkg_writer_new_sink(o->sink != NULL ? o->sink : &fsink, h,
	    k->partner_seal, k->identity, o->level)) == NULL ||
	    store_export_walk(st, exp_rec, &x) != 0 ||
	    pkg_writer_finish(x.w) != 0)
		goto out;
	pkg_writer_stats(x.w, &res->stats);
	res->edits = x.edits;
	res->deltas = x.deltas;
	res->delta_chunks = x.delta_chunks;
	rc = 0;
out:
	store_export_end(st);
	pkg_writer_free(x.w);
	pkg_buf_free(&x.b);
	free(x.chunk);
	free(x.dbase);
	free(x.dnew);
	free(x.pidx);
	free(x.sent);
	free(x.held);
	return (rc);
}
