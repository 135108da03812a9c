/*
 * bk_export.c: the exporter.  One read transaction of the store feeds the
 * package writer: each changed key's latest state (or everything, for a
 * snapshot), and before each content item the chunks the target lacks,
 * each sent once per package.
 */
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "err.h"

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

/* First walk: collect the distinct chunk ids of content puts to ask about. */
static int
collect_rec(void *arg, const struct store_rec *r)
{
	struct bk_exp *x = arg;
	size_t i;

	if (r->ent != STORE_E_CONTENT || r->del)
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

/* Send the chunks of item ${r} that the target lacks. */
static int
exp_chunks(struct bk_exp *x, const struct store_rec *r)
{
	const uint8_t *id;
	size_t i, len;
	int h;

	for (i = 0; i < r->content.nchunks; i++) {
		id = r->ids + i * CRYPTO_HASH_LEN;
		if (sent_check(x, id))
			continue;
		if (x->held != NULL && set_find(x->held, x->capheld, id, 0))
			continue;
		if (x->o->have != NULL &&
		    (h = x->o->have(x->o->have_arg, id)) != 0) {
			if (h < 0)
				return (-1);
			continue;
		}
		if (store_chunk_read(x->st, id, x->chunk, &len) != 0 ||
		    pkg_writer_chunk(x->w, id, x->chunk, len) != 0)
			return (-1);
	}
	return (0);
}

static int
exp_rec(void *arg, const struct store_rec *r)
{
	struct bk_exp *x = arg;
	int type;

	if (r->ent == STORE_E_CONTENT && !r->del && exp_chunks(x, r) != 0)
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
	if ((x.w = pkg_writer_new(fd, h, k->partner_seal, k->identity,
	    o->level)) == NULL ||
	    store_export_walk(st, exp_rec, &x) != 0 ||
	    pkg_writer_finish(x.w) != 0)
		goto out;
	pkg_writer_stats(x.w, &res->stats);
	rc = 0;
out:
	store_export_end(st);
	pkg_writer_free(x.w);
	pkg_buf_free(&x.b);
	free(x.chunk);
	free(x.sent);
	free(x.held);
	return (rc);
}
