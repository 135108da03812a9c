/*
 * pkg_write.c: the package writer: header, then records packed into frames
 * of at most PKG_FRAME bytes, each compressed when that pays and sealed
 * with AES-256-GCM under the key agreed with the target, then the signed
 * final frame.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <zstd.h>

#include "err.h"
#include "pkg.h"
#include "pkg_int.h"
#include "util.h"

#define PKG_PROBE	4096	/* bytes tried to tell incompressible chunks */

struct pkg_writer {
	struct util_sink sink;
	EVP_PKEY *sign_key;
	int level;
	int failed;
	struct crypto_aead *aead;
	uint8_t prefix[4];
	uint8_t hh[CRYPTO_HASH_LEN];
	uint64_t frame_no;
	size_t frame_max;
	uint8_t *frame;		/* codec byte, then records */
	size_t flen;		/* bytes of records in frame */
	int incompressible;	/* frame holds chunk data */
	uint8_t *zbuf;		/* a compressed frame */
	uint8_t *cbuf;		/* a compressed chunk: apart, since writing
				   its record may flush (compress) a frame */
	size_t ccap;
	size_t zcap;
	uint8_t *out;		/* frame word, ciphertext, tag */
	ZSTD_CCtx *zc;
	struct crypto_hash *digest;
	struct pkg_stats st;
};

/* Seal ${len} bytes of ${pt} as the next frame (${final}) and write it. */
static int
frame_write(struct pkg_writer *w, const uint8_t *pt, size_t len, int final)
{
	uint8_t nonce[CRYPTO_NONCE_LEN], aad[CRYPTO_HASH_LEN + 4];

	be32_put(w->out, (uint32_t)len | (final ? PKG_FINAL : 0));
	memcpy(aad, w->hh, CRYPTO_HASH_LEN);
	memcpy(aad + CRYPTO_HASH_LEN, w->out, 4);
	pkg_nonce(w->prefix, w->frame_no++, nonce);
	if (crypto_aead_seal_at(w->aead, nonce, aad, sizeof(aad), pt, len,
	    w->out + 4) != 0 ||
	    util_sink_write(&w->sink, w->out, 4 + len + CRYPTO_TAG_LEN) != 0)
		return (-1);
	w->st.bytes += 4 + len + CRYPTO_TAG_LEN;
	return (0);
}

/* Seal and write the records gathered in the frame, compressed if it pays. */
static int
frame_flush(struct pkg_writer *w)
{
	size_t z;

	if (w->flen == 0)
		return (0);
	if (w->level > 0 && !w->incompressible) {
		z = ZSTD_compressCCtx(w->zc, w->zbuf + 1, w->zcap - 1,
		    w->frame + 1, w->flen, w->level);
		if (!ZSTD_isError(z) && z < w->flen - w->flen / 16) {
			w->zbuf[0] = PKG_CODEC_ZSTD;
			if (frame_write(w, w->zbuf, z + 1, 0) != 0)
				return (-1);
			goto done;
		}
	}
	w->frame[0] = PKG_CODEC_RAW;
	if (frame_write(w, w->frame, w->flen + 1, 0) != 0)
		return (-1);
done:
	w->flen = 0;
	w->incompressible = 0;
	return (0);
}

/*
 * Append ${len} bytes of record stream, flushing full frames; ${raw}: the
 * bytes are chunk data, not worth compressing again.
 */
static int
stream_put(struct pkg_writer *w, const uint8_t *p, size_t len, int raw)
{
	size_t room, n;

	while (len > 0) {
		room = w->frame_max - 1 - w->flen;
		n = len < room ? len : room;
		memcpy(w->frame + 1 + w->flen, p, n);
		w->flen += n;
		w->incompressible |= raw;
		p += n;
		len -= n;
		if (w->flen == w->frame_max - 1 && frame_flush(w) != 0)
			return (-1);
	}
	return (0);
}

struct pkg_writer *
pkg_writer_new(int fd, struct pkg_hdr *h,
    const uint8_t target_pub[static CRYPTO_X25519_LEN], EVP_PKEY *sign_key,
    int level)
{
	struct util_sink s = { .fd = fd };

	return (pkg_writer_new_sink(&s, h, target_pub, sign_key, level));
}

struct pkg_writer *
pkg_writer_new_sink(const struct util_sink *s, struct pkg_hdr *h,
    const uint8_t target_pub[static CRYPTO_X25519_LEN], EVP_PKEY *sign_key,
    int level)
{
	struct pkg_writer *w;
	uint8_t eph[CRYPTO_X25519_LEN], shared[CRYPTO_X25519_LEN];
	uint8_t key[CRYPTO_KEY_LEN];

	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto nomem;
	w->sink = *s;
	w->sign_key = sign_key;
	w->level = level;
	w->frame_max = PKG_FRAME;
	w->zcap = ZSTD_compressBound(PKG_FRAME) + 1;
	if ((w->frame = malloc(w->frame_max)) == NULL ||
	    (w->zbuf = malloc(w->zcap)) == NULL ||
	    (w->cbuf = malloc(w->ccap = ZSTD_compressBound(PKG_CHUNK_MAX)))
	    == NULL ||
	    (w->out = malloc(4 + w->zcap + CRYPTO_TAG_LEN)) == NULL ||
	    (w->zc = ZSTD_createCCtx()) == NULL)
		goto nomem;
	if ((w->digest = crypto_hash_new()) == NULL)
		goto err;
	h->version = PKG_VERSION;
	h->frame_max = (uint32_t)w->frame_max;
	if (h->created_ms == 0)
		h->created_ms = util_now_ms();
	if (crypto_random(h->id, PKG_ID_LEN) != 0 ||
	    crypto_x25519_keygen(eph, h->eph_pub) != 0 ||
	    crypto_x25519(eph, target_pub, shared) != 0 ||
	    pkg_header_encode(h) != 0 ||
	    pkg_keys(h, shared, target_pub, key, w->prefix, w->hh) != 0 ||
	    (w->aead = crypto_aead_new(key)) == NULL ||
	    util_sink_write(s, h->raw, h->rawlen) != 0)
		goto err;
	w->st.bytes = h->rawlen;
	OPENSSL_cleanse(eph, sizeof(eph));
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	return (w);

nomem:
	pp_err(PP_EINTERNAL, "out of memory");
err:
	OPENSSL_cleanse(eph, sizeof(eph));
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	pkg_writer_free(w);
	return (NULL);
}

/* Append a record header and ${hashed} leading payload bytes to the digest. */
static int
rec_begin(struct pkg_writer *w, int type, size_t len)
{
	uint8_t rh[PKG_REC_HDR];

	if (w->failed)
		return (-1);
	if (pkg_rec_module(type) < 0 || len > PKG_REC_MAX) {
		pp_err(PP_EINTERNAL, "package record type %d, %zu bytes",
		    type, len);
		return (-1);
	}
	rh[0] = (uint8_t)type;
	be32_put(rh + 1, (uint32_t)len);
	w->st.records++;
	if (crypto_hash_update(w->digest, rh, sizeof(rh)) != 0 ||
	    stream_put(w, rh, sizeof(rh), 0) != 0)
		return (-1);
	return (0);
}

int
pkg_writer_rec(struct pkg_writer *w, int type, const void *payload,
    size_t len)
{

	if (type == PKG_R_CHUNK || rec_begin(w, type, len) != 0 ||
	    crypto_hash_update(w->digest, payload, len) != 0 ||
	    stream_put(w, payload, len, 0) != 0) {
		if (type == PKG_R_CHUNK)
			pp_err(PP_EINTERNAL, "chunks go by pkg_writer_chunk");
		w->failed = 1;
		return (-1);
	}
	w->st.plain_bytes += len;
	return (0);
}

/*
 * 1 if the first PKG_PROBE bytes of ${data} do not compress at level 1:
 * zip-based documents (.pptx) and images are not worth trying whole.
 */
static int
incompressible(struct pkg_writer *w, const uint8_t *data, size_t len)
{
	size_t z;

	if (len <= PKG_PROBE)
		return (0);
	z = ZSTD_compressCCtx(w->zc, w->cbuf, w->ccap, data, PKG_PROBE, 1);
	return (ZSTD_isError(z) || z >= PKG_PROBE - PKG_PROBE / 32);
}

int
pkg_writer_chunk(struct pkg_writer *w,
    const uint8_t id[static CRYPTO_HASH_LEN], const uint8_t *data,
    size_t len)
{
	uint8_t head[CRYPTO_HASH_LEN + 5];
	const uint8_t *body = data;
	size_t blen = len, z;

	if (len == 0 || len > PKG_CHUNK_MAX) {
		pp_err(PP_EINTERNAL, "chunk of %zu bytes", len);
		goto fail;
	}
	memcpy(head, id, CRYPTO_HASH_LEN);
	head[CRYPTO_HASH_LEN] = PKG_CODEC_RAW;
	be32_put(head + CRYPTO_HASH_LEN + 1, (uint32_t)len);
	/* Keep the compressed form only if it saves 1/32 or more. */
	if (w->level > 0 && !incompressible(w, data, len)) {
		z = ZSTD_compressCCtx(w->zc, w->cbuf, w->ccap, data, len,
		    w->level);
		if (!ZSTD_isError(z) && z < len - len / 32) {
			head[CRYPTO_HASH_LEN] = PKG_CODEC_ZSTD;
			body = w->cbuf;
			blen = z;
		}
	}
	if (head[CRYPTO_HASH_LEN] == PKG_CODEC_RAW)
		w->st.chunks_raw++;
	w->st.chunks++;
	/* The digest takes the id, not the data: readers check the id. */
	if (rec_begin(w, PKG_R_CHUNK, sizeof(head) + blen) != 0 ||
	    crypto_hash_update(w->digest, head, sizeof(head)) != 0 ||
	    stream_put(w, head, sizeof(head), 0) != 0 ||
	    stream_put(w, body, blen, 1) != 0)
		goto fail;
	w->st.plain_bytes += len;
	return (0);
fail:
	w->failed = 1;
	return (-1);
}

int
pkg_writer_finish(struct pkg_writer *w)
{
	uint8_t digest[CRYPTO_HASH_LEN], msg[128], sig[CRYPTO_SIG_MAX];
	uint8_t trailer[PKG_TRAILER_MAX];
	size_t siglen, mlen, n;

	if (w->failed || frame_flush(w) != 0 ||
	    crypto_hash_final(w->digest, digest) != 0)
		goto fail;
	mlen = pkg_sig_msg(msg, w->hh, digest, w->st.records);
	if (crypto_sign(w->sign_key, msg, mlen, sig, &siglen) != 0)
		goto fail;
	memcpy(trailer, digest, CRYPTO_HASH_LEN);
	be64_put(trailer + CRYPTO_HASH_LEN, w->st.records);
	n = CRYPTO_HASH_LEN + 8;
	trailer[n++] = (uint8_t)(siglen >> 8);
	trailer[n++] = (uint8_t)siglen;
	memcpy(trailer + n, sig, siglen);
	n += siglen;
	if (frame_write(w, trailer, n, 1) != 0)
		goto fail;
	w->failed = 1;		/* nothing may follow */
	return (0);
fail:
	w->failed = 1;
	return (-1);
}

void
pkg_writer_stats(const struct pkg_writer *w, struct pkg_stats *out)
{

	*out = w->st;
}

void
pkg_writer_free(struct pkg_writer *w)
{

	if (w == NULL)
		return;
	crypto_aead_free(w->aead);
	crypto_hash_free(w->digest);
	ZSTD_freeCCtx(w->zc);
	if (w->frame != NULL)
		OPENSSL_cleanse(w->frame, w->frame_max);
	free(w->frame);
	free(w->zbuf);
	free(w->cbuf);
	free(w->out);
	OPENSSL_cleanse(w->prefix, sizeof(w->prefix));
	free(w);
}
