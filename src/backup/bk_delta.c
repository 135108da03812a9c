/*
 * bk_delta.c: content-edit records.  A re-uploaded deck with one changed
 * slide differs from its previous version in a few KiB inside two or
 * three 16 KiB chunks, and in a few entries of its chunk list.  When the
 * target holds the previous version, the item goes as an edit of it:
 * ranges of the previous chunk list kept as they are, and each run of
 * changed chunks as a delta against the previous chunks it replaced (the
 * bytes that differ), or, where that does not pay, as new ids whose
 * chunks travel whole.  The target checks that the version it holds is
 * the one edited (the SHA-256 of its chunk list), rebuilds the changed
 * chunks from its own and takes their ids from their SHA-256.
 *
 * The payload (docs/package-format.md): a content record's fields up to
 * its chunk count n; base, the SHA-256 of the previous chunk list; u32
 * the number of segments; each segment a kind u8, then
 *   copy (0):  start u32, count u32: previous ids [start, start + count);
 *   new (1):   count u32, count ids;
 *   delta (2): start u32, nb u32 (the base: previous chunks [start,
 *              start + nb), their bytes in order), nn u32, nn lengths u32,
 *              prefix u32, suffix u32, literal length u32, sum (32 bytes,
 *              the SHA-256 of the nn ids), the literal: nn chunks, the
 *              base's first prefix bytes, the literal and its last suffix
 *              bytes, cut at the lengths; their ids are their SHA-256.
 * The segments fill exactly n ids.
 */
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "err.h"
#include "util.h"

int
bk_edit_begin(struct bk_edit_w *e, struct pkg_buf *b,
    const struct store_rec *r)
{
	uint8_t base[CRYPTO_HASH_LEN];

	e->b = b;
	e->nseg = 0;
	if (crypto_sha256(r->prev, r->nprev * CRYPTO_HASH_LEN, base) != 0)
		return (-1);
	pkg_buf_reset(b);
	bk_content_head(b, r);
	pkg_put_bytes(b, base, CRYPTO_HASH_LEN);
	e->countat = b->len;
	pkg_put_u32(b, 0);		/* the count: bk_edit_end */
	return (0);
}

void
bk_edit_copy(struct bk_edit_w *e, size_t start, size_t count)
{

	pkg_put_u8(e->b, BK_SEG_COPY);
	pkg_put_u32(e->b, (uint32_t)start);
	pkg_put_u32(e->b, (uint32_t)count);
	e->nseg++;
}

void
bk_edit_new(struct bk_edit_w *e, const uint8_t *ids, size_t count)
{

	pkg_put_u8(e->b, BK_SEG_NEW);
	pkg_put_u32(e->b, (uint32_t)count);
	pkg_put_bytes(e->b, ids, count * CRYPTO_HASH_LEN);
	e->nseg++;
}

int
bk_edit_delta(struct bk_edit_w *e, size_t start, size_t nb,
    const uint8_t *base, size_t blen, const uint8_t *ids,
    const uint32_t *lens, size_t nn, const uint8_t *nw, size_t nlen)
{
	uint8_t sum[CRYPTO_HASH_LEN];
	size_t pre = 0, suf = 0, lit, i;

	if (nb == 0 || nb > BK_DELTA_CHUNKS || nn == 0 ||
	    nn > BK_DELTA_CHUNKS || blen > BK_DELTA_MAX || nlen > BK_DELTA_MAX)
		return (0);
	while (pre < blen && pre < nlen && base[pre] == nw[pre])
		pre++;
	while (suf < blen - pre && suf < nlen - pre &&
	    base[blen - 1 - suf] == nw[nlen - 1 - suf])
		suf++;
	lit = nlen - pre - suf;
	/*
	 * Sent whole, the run costs its ids and bytes; a delta, its lengths
	 * and the literal.  It must save a quarter at least.
	 */
	if (lit + 4 * nn + 29 + CRYPTO_HASH_LEN > (nlen + nn * CRYPTO_HASH_LEN) *
	    3 / 4)
		return (0);
	/* The record stays well within PKG_REC_MAX: literals at most half. */
	if (e->b->len + lit + 4 * nn + 29 + CRYPTO_HASH_LEN > PKG_REC_MAX / 2)
		return (0);
	if (crypto_sha256(ids, nn * CRYPTO_HASH_LEN, sum) != 0)
		return (-1);
	pkg_put_u8(e->b, BK_SEG_DELTA);
	pkg_put_u32(e->b, (uint32_t)start);
	pkg_put_u32(e->b, (uint32_t)nb);
	pkg_put_u32(e->b, (uint32_t)nn);
	for (i = 0; i < nn; i++)
		pkg_put_u32(e->b, lens[i]);
	pkg_put_u32(e->b, (uint32_t)pre);
	pkg_put_u32(e->b, (uint32_t)suf);
	pkg_put_u32(e->b, (uint32_t)lit);
	pkg_put_bytes(e->b, sum, CRYPTO_HASH_LEN);
	pkg_put_bytes(e->b, nw + pre, lit);
	e->nseg++;
	return (1);
}

int
bk_edit_end(struct bk_edit_w *e)
{

	if (e->b->failed) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	be32_put(e->b->p + e->countat, e->nseg);
	return (0);
}

/* Parse the rest of a delta segment at ${c} into ${d} (start read). */
static int
delta_parse(struct pkg_cur *c, struct bk_delta *d)
{
	size_t i;
	uint32_t l;

	d->nb = pkg_get_u32(c);
	d->nn = pkg_get_u32(c);
	if (c->bad || d->nb == 0 || d->nb > BK_DELTA_CHUNKS || d->nn == 0 ||
	    d->nn > BK_DELTA_CHUNKS)
		return (-1);
	if ((d->lens = pkg_get_bytes(c, d->nn * 4)) == NULL)
		return (-1);
	for (i = 0, d->nlen = 0; i < d->nn; i++) {
		if ((l = be32_get(d->lens + i * 4)) == 0 || l > PKG_CHUNK_MAX)
			return (-1);
		d->nlen += l;
	}
	d->pre = pkg_get_u32(c);
	d->suf = pkg_get_u32(c);
	d->litlen = pkg_get_u32(c);
	if (c->bad || d->nlen > BK_DELTA_MAX || d->pre > d->nlen ||
	    d->suf > d->nlen - d->pre ||
	    d->litlen != d->nlen - d->pre - d->suf ||
	    (d->sum = pkg_get_bytes(c, CRYPTO_HASH_LEN)) == NULL ||
	    (d->lit = pkg_get_bytes(c, d->litlen)) == NULL)
		return (-1);
	return (0);
}

int
bk_edit_rebuild(struct pkg_cur *c, size_t ncur, size_t n, uint8_t *ids,
    const uint8_t *cur, bk_delta_fn *fn, void *arg)
{
	struct bk_delta d;
	size_t at = 0, cnt = 0, start, next = 0;
	uint32_t nseg, i;
	unsigned kind;

	/*
	 * Copies and delta bases take the previous list in order, each from
	 * where the one before ended (next): what a delta reads of the store
	 * adds up to one reading of the version edited, at most.
	 */
	nseg = pkg_get_u32(c);
	for (i = 0; i < nseg && !c->bad; i++) {
		kind = pkg_get_u8(c);
		start = kind == BK_SEG_NEW ? next : pkg_get_u32(c);
		if (start < next)
			break;
		if (kind == BK_SEG_COPY) {
			cnt = pkg_get_u32(c);
			if (c->bad || start > ncur || cnt > ncur - start ||
			    cnt > n - at)
				break;
			next = start + cnt;
			memcpy(ids + at * CRYPTO_HASH_LEN,
			    cur + start * CRYPTO_HASH_LEN, cnt * CRYPTO_HASH_LEN);
		} else if (kind == BK_SEG_NEW) {
			const uint8_t *p;

			cnt = pkg_get_u32(c);
			if (c->bad || cnt > n - at ||
			    (p = pkg_get_bytes(c, cnt * CRYPTO_HASH_LEN)) ==
			    NULL)
				break;
			memcpy(ids + at * CRYPTO_HASH_LEN, p,
			    cnt * CRYPTO_HASH_LEN);
		} else if (kind == BK_SEG_DELTA) {
			memset(&d, 0, sizeof(d));
			d.start = start;
			if (c->bad || delta_parse(c, &d) != 0 ||
			    start > ncur || d.nb > ncur - start ||
			    d.nn > n - at)
				break;
			d.base_ids = cur + start * CRYPTO_HASH_LEN;
			cnt = d.nn;
			next = start + d.nb;
			if (fn(arg, &d, ids + at * CRYPTO_HASH_LEN) != 0)
				return (-1);
		} else
			break;
		at += cnt;
	}
	if (i != nseg || c->bad || c->len != 0 || at != n) {
		pp_err(PP_EINVAL, "malformed content-edit record");
		return (-1);
	}
	return (0);
}

int
bk_delta_assemble(const struct bk_delta *d, const uint8_t *base,
    size_t blen, uint8_t *out)
{

	if (d->pre > blen || d->suf > blen - d->pre) {
		pp_err(PP_EINVAL, "malformed content-edit record (a delta "
		    "keeps more than its base)");
		return (-1);
	}
	memcpy(out, base, d->pre);
	memcpy(out + d->pre, d->lit, d->litlen);
	memcpy(out + d->nlen - d->suf, base + blen - d->suf, d->suf);
	return (0);
}

/*
 * bk_delta_fn of the import: rebuild the chunks of ${d} from the base
 * chunks this store holds, their ids from their SHA-256, and import them.
 */
static int
delta_import(void *arg, const struct bk_delta *d, uint8_t *ids)
{
	struct store *st = arg;
	uint8_t *base = NULL, *nw = NULL, sum[CRYPTO_HASH_LEN];
	size_t blen = 0, got, i, off;
	uint32_t l;
	int rc = -1;

	if ((base = malloc(d->nb * PKG_CHUNK_MAX)) == NULL ||
	    (nw = malloc(d->nlen)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < d->nb; i++) {
		if (store_chunk_read(st, d->base_ids + i * CRYPTO_HASH_LEN,
		    base + blen, &got) != 0)
			goto out;
		blen += got;
	}
	if (bk_delta_assemble(d, base, blen, nw) != 0)
		goto out;
	for (i = 0, off = 0; i < d->nn; i++, off += l) {
		l = be32_get(d->lens + i * 4);
		if (crypto_sha256(nw + off, l, ids + i * CRYPTO_HASH_LEN) != 0)
			goto out;
	}
	/* What it rebuilt is what the source named: then store it. */
	if (crypto_sha256(ids, d->nn * CRYPTO_HASH_LEN, sum) != 0)
		goto out;
	if (!crypto_eq(sum, d->sum, CRYPTO_HASH_LEN)) {
		pp_err(PP_EINVAL, "a delta of the content-edit does not "
		    "rebuild the chunks it names");
		goto out;
	}
	for (i = 0, off = 0; i < d->nn; i++, off += l) {
		l = be32_get(d->lens + i * 4);
		if (store_import_chunk(st, ids + i * CRYPTO_HASH_LEN, nw + off,
		    l) != 0)
			goto out;
	}
	rc = 0;
out:
	free(base);
	free(nw);
	return (rc);
}

int
bk_edit_apply(struct store *st, const struct pkg_rec *pr, struct store_rec *r)
{
	struct pkg_cur c;
	uint8_t base[CRYPTO_HASH_LEN], sum[CRYPTO_HASH_LEN], *cur = NULL;
	uint8_t *ids = NULL;
	size_t ncur, n;
	int rc = -1;

	if (bk_edit_decode(pr, r, base, &c) != 0)
		return (-1);
	n = r->content.nchunks;
	if (store_content_ids(st, r->content.conf, r->content.name, &cur,
	    &ncur) != 0)
		return (-1);
	if (crypto_sha256(cur != NULL ? cur : (const uint8_t *)"",
	    ncur * CRYPTO_HASH_LEN, sum) != 0)
		goto out;
	if (!crypto_eq(sum, base, CRYPTO_HASH_LEN)) {
		pp_err(PP_EINVAL, "the edit of content %s/%.64s applies to "
		    "another version than the one held here",
		    r->content.conf, r->content.name);
		goto out;
	}
	if ((ids = malloc(n * CRYPTO_HASH_LEN + 1)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		goto out;
	}
	if (bk_edit_rebuild(&c, ncur, n, ids, cur, delta_import, st) != 0)
		goto out;
	r->ids = ids;
	rc = store_import_rec(st, r);
	r->ids = NULL;
out:
	free(cur);
	free(ids);
	return (rc);
}
