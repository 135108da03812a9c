/*
 * pkg_read.c: the package reader: checks the header, then opens each frame
 * in order (a frame out of place fails authentication: its counter is in
 * the nonce), decompresses it within bounds, cuts the record stream into
 * records, checks every chunk against its id, and at the final frame checks
 * the record digest and the source's signature, and that nothing follows.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <zstd.h>

#include "err.h"
#include "pkg.h"
#include "pkg_int.h"
#include "util.h"

struct pkg_reader {
	struct util_src src;
	struct pkg_hdr h;
	EVP_PKEY *vk;
	struct crypto_aead *aead;
	uint8_t prefix[4];
	uint8_t hh[CRYPTO_HASH_LEN];
	uint64_t frame_no;
	int done;		/* the end was reached, or an error */
	int ended;		/* the final frame was verified */
	uint8_t *in;		/* a sealed frame */
	uint8_t *pt;		/* its plaintext */
	uint8_t *dec;		/* its records, decompressed */
	const uint8_t *cur;	/* records not yet taken */
	size_t avail;
	struct pkg_buf rec;	/* a record that spans frames */
	uint8_t chunk[PKG_CHUNK_MAX];
	uint8_t chunk_id[CRYPTO_HASH_LEN];
	ZSTD_DCtx *zd;
	struct crypto_hash *digest;
	struct pkg_stats st;
};

int
pkg_header_read(int fd, struct pkg_hdr *h)
{
	struct util_src s = { .fd = fd };

	return (pkg_header_read_src(&s, h));
}

int
pkg_header_read_src(const struct util_src *s, struct pkg_hdr *h)
{
	uint8_t buf[PKG_HDR_MAX];
	size_t hdrlen;
	ssize_t n;

	if ((n = util_src_read_full(s, buf, PKG_HDR_PREFIX)) < 0)
		return (-1);
	if ((size_t)n < PKG_HDR_PREFIX) {
		pp_err(PP_EINVAL, "not a poolpair package (%zd bytes)", n);
		return (-1);
	}
	if (pkg_header_prefix(buf, &hdrlen) != 0)
		return (-1);
	if ((n = util_src_read_full(s, buf + PKG_HDR_PREFIX,
	    hdrlen - PKG_HDR_PREFIX)) < 0)
		return (-1);
	if ((size_t)n < hdrlen - PKG_HDR_PREFIX) {
		pp_err(PP_EINVAL, "package truncated in its header");
		return (-1);
	}
	return (pkg_header_parse(buf, hdrlen, h));
}

struct pkg_reader *
pkg_reader_new(int fd, const struct pkg_hdr *h,
    const uint8_t seal_priv[static CRYPTO_X25519_LEN], EVP_PKEY *verify_key)
{
	struct util_src s = { .fd = fd };

	return (pkg_reader_new_src(&s, h, seal_priv, verify_key));
}

struct pkg_reader *
pkg_reader_new_src(const struct util_src *s, const struct pkg_hdr *h,
    const uint8_t seal_priv[static CRYPTO_X25519_LEN], EVP_PKEY *verify_key)
{
	struct pkg_reader *r;
	uint8_t pub[CRYPTO_X25519_LEN], shared[CRYPTO_X25519_LEN];
	uint8_t key[CRYPTO_KEY_LEN];
	EVP_PKEY *k = NULL;
	size_t plen = sizeof(pub);

	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->src = *s;
	r->h = *h;
	r->vk = verify_key;
	if ((r->in = malloc(h->frame_max + CRYPTO_TAG_LEN)) == NULL ||
	    (r->pt = malloc(h->frame_max)) == NULL ||
	    (r->dec = malloc(h->frame_max)) == NULL ||
	    (r->zd = ZSTD_createDCtx()) == NULL)
		goto nomem;
	/* Bounded memory whatever a frame claims of its window. */
	ZSTD_DCtx_setParameter(r->zd, ZSTD_d_windowLogMax, 21);
	if ((r->digest = crypto_hash_new()) == NULL)
		goto err;
	if ((k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL,
	    seal_priv, CRYPTO_X25519_LEN)) == NULL ||
	    EVP_PKEY_get_raw_public_key(k, pub, &plen) != 1) {
		pp_err(PP_EKEY, "bad sealing key");
		goto err;
	}
	if (crypto_x25519(seal_priv, h->eph_pub, shared) != 0) {
		pp_err(PP_EINVAL, "package refused: its ephemeral key is "
		    "unusable");
		goto err;
	}
	if (pkg_keys(&r->h, shared, pub, key, r->prefix, r->hh) != 0 ||
	    (r->aead = crypto_aead_new(key)) == NULL)
		goto err;
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	EVP_PKEY_free(k);
	return (r);

nomem:
	pp_err(PP_EINTERNAL, "out of memory");
err:
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	EVP_PKEY_free(k);
	pkg_reader_free(r);
	return (NULL);
}

/* Check the final frame's ${len} bytes at ${p}, then that nothing follows. */
static int
trailer_check(struct pkg_reader *r, const uint8_t *p, size_t len)
{
	uint8_t digest[CRYPTO_HASH_LEN], msg[128], extra;
	size_t siglen, mlen;
	uint64_t count;
	ssize_t got;

	if (r->rec.len > 0 || len < CRYPTO_HASH_LEN + 10) {
		pp_err(PP_EINVAL, "package refused: truncated (the final "
		    "frame cuts a record)");
		return (-1);
	}
	siglen = (size_t)p[CRYPTO_HASH_LEN + 8] << 8 | p[CRYPTO_HASH_LEN + 9];
	count = be64_get(p + CRYPTO_HASH_LEN);
	if (siglen == 0 || siglen > CRYPTO_SIG_MAX ||
	    len != CRYPTO_HASH_LEN + 10 + siglen) {
		pp_err(PP_EINVAL, "package refused: malformed final frame");
		return (-1);
	}
	if (crypto_hash_final(r->digest, digest) != 0)
		return (-1);
	if (!crypto_eq(digest, p, CRYPTO_HASH_LEN) ||
	    count != r->st.records) {
		pp_err(PP_EINVAL, "package refused: the records do not match "
		    "the signed digest (%llu records read, %llu signed)",
		    (unsigned long long)r->st.records,
		    (unsigned long long)count);
		return (-1);
	}
	mlen = pkg_sig_msg(msg, r->hh, digest, count);
	if (crypto_verify(r->vk, msg, mlen, p + CRYPTO_HASH_LEN + 10,
	    siglen) != 0) {
		pp_err(PP_EINVAL, "package refused: bad signature (not signed "
		    "by the source's identity key)");
		return (-1);
	}
	if ((got = util_src_read_full(&r->src, &extra, 1)) < 0)
		return (-1);
	if (got > 0) {
		pp_err(PP_EINVAL, "package refused: bytes follow the final "
		    "frame");
		return (-1);
	}
	r->ended = 1;
	return (0);
}

/*
 * Read and open the next frame.  Returns 1 with records available, 0 after
 * a verified final frame, -1 on failure.
 */
static int
frame_read(struct pkg_reader *r)
{
	uint8_t word[4], nonce[CRYPTO_NONCE_LEN], aad[CRYPTO_HASH_LEN + 4];
	uint64_t k = r->frame_no;
	uint32_t w;
	size_t n, z;
	ssize_t got;

	if ((got = util_src_read_full(&r->src, word, 4)) < 0)
		return (-1);
	if (got < 4)
		goto truncated;
	w = be32_get(word);
	n = w & ~PKG_FINAL;
	if (n == 0 || n > r->h.frame_max) {
		pp_err(PP_EINVAL, "package refused: frame %llu is %zu bytes "
		    "(bound %u)", (unsigned long long)k, n,
		    (unsigned)r->h.frame_max);
		return (-1);
	}
	if ((got = util_src_read_full(&r->src, r->in, n + CRYPTO_TAG_LEN)) < 0)
		return (-1);
	if ((size_t)got < n + CRYPTO_TAG_LEN)
		goto truncated;
	memcpy(aad, r->hh, CRYPTO_HASH_LEN);
	memcpy(aad + CRYPTO_HASH_LEN, word, 4);
	pkg_nonce(r->prefix, r->frame_no++, nonce);
	if (crypto_aead_open_at(r->aead, nonce, aad, sizeof(aad), r->in,
	    n + CRYPTO_TAG_LEN, r->pt) != 0) {
		pp_err(PP_EINVAL, "package refused: frame %llu fails "
		    "authentication (altered, reordered, or not sealed to "
		    "this pool)", (unsigned long long)k);
		return (-1);
	}
	r->st.bytes += 4 + n + CRYPTO_TAG_LEN;
	if (w & PKG_FINAL)
		return (trailer_check(r, r->pt, n) == 0 ? 0 : -1);
	if (r->pt[0] == PKG_CODEC_RAW && n > 1) {
		r->cur = r->pt + 1;
		r->avail = n - 1;
		return (1);
	}
	if (r->pt[0] == PKG_CODEC_ZSTD && n > 1) {
		z = ZSTD_decompressDCtx(r->zd, r->dec, r->h.frame_max,
		    r->pt + 1, n - 1);
		if (!ZSTD_isError(z) && z > 0) {
			r->cur = r->dec;
			r->avail = z;
			return (1);
		}
	}
	pp_err(PP_EINVAL, "package refused: frame %llu holds bad or empty "
	    "compressed data", (unsigned long long)k);
	return (-1);

truncated:
	pp_err(PP_EINVAL, "package refused: truncated after frame %llu (no "
	    "final frame)", (unsigned long long)k);
	return (-1);
}

/*
 * Gather record stream bytes into r->rec until it holds ${need}.  Returns 1,
 * 0 if the package ended cleanly with r->rec empty, or -1.
 */
static int
gather(struct pkg_reader *r, size_t need)
{
	size_t n;
	int rc;

	while (r->rec.len < need) {
		if (r->avail == 0) {
			if ((rc = frame_read(r)) <= 0)
				return (rc);
			continue;
		}
		n = need - r->rec.len;
		if (n > r->avail)
			n = r->avail;
		pkg_put_bytes(&r->rec, r->cur, n);
		if (r->rec.failed)
			return (-1);
		r->cur += n;
		r->avail -= n;
	}
	return (1);
}

/* Decode chunk record ${p}/${len} into r->chunk, checking its id. */
static int
chunk_open(struct pkg_reader *r, const uint8_t *p, size_t len,
    struct pkg_rec *out)
{
	uint8_t sum[CRYPTO_HASH_LEN];
	char hex[17];
	uint32_t size;
	size_t z;

	if (len <= CRYPTO_HASH_LEN + 5)
		goto bad;
	size = be32_get(p + CRYPTO_HASH_LEN + 1);
	if (size == 0 || size > PKG_CHUNK_MAX)
		goto bad;
	len -= CRYPTO_HASH_LEN + 5;
	if (p[CRYPTO_HASH_LEN] == PKG_CODEC_RAW) {
		if (len != size)
			goto bad;
		memcpy(r->chunk, p + CRYPTO_HASH_LEN + 5, size);
	} else if (p[CRYPTO_HASH_LEN] == PKG_CODEC_ZSTD) {
		z = ZSTD_decompressDCtx(r->zd, r->chunk, size,
		    p + CRYPTO_HASH_LEN + 5, len);
		if (ZSTD_isError(z) || z != size)
			goto bad;
	} else
		goto bad;
	if (crypto_sha256(r->chunk, size, sum) != 0)
		return (-1);
	if (!crypto_eq(sum, p, CRYPTO_HASH_LEN)) {
		util_hex(hex, p, 8);
		pp_err(PP_EINVAL, "package refused: chunk %s... does not "
		    "match its id", hex);
		return (-1);
	}
	memcpy(r->chunk_id, p, CRYPTO_HASH_LEN);
	out->p = r->chunk;
	out->len = size;
	out->chunk_id = r->chunk_id;
	r->st.chunks++;
	return (0);
bad:
	pp_err(PP_EINVAL, "package refused: malformed chunk record");
	return (-1);
}

int
pkg_reader_next(struct pkg_reader *r, struct pkg_rec *out)
{
	const uint8_t *p;
	size_t len, hashed;
	int type, rc;

	if (r->done) {
		pp_err(PP_EINTERNAL, "package reader used after its end");
		return (-1);
	}
	r->done = 1;
	memset(out, 0, sizeof(*out));
	pkg_buf_reset(&r->rec);
	if ((rc = gather(r, PKG_REC_HDR)) <= 0)
		return (rc == 0 && r->ended ? 0 : -1);
	type = r->rec.p[0];
	len = be32_get(r->rec.p + 1);
	if (pkg_rec_module(type) != r->h.module || len > PKG_REC_MAX) {
		pp_err(PP_EINVAL, "package refused: record %llu (type %d, %zu "
		    "bytes) does not belong in a %s package",
		    (unsigned long long)r->st.records, type, len,
		    r->h.module == 0 ? "userdata" : r->h.module == 1 ?
		    "confcontent" : "config");
		return (-1);
	}
	if (r->rec.len == PKG_REC_HDR && r->avail >= len) {
		/* The whole payload is in this frame: no copy. */
		p = r->cur;
		r->cur += len;
		r->avail -= len;
	} else {
		if (gather(r, PKG_REC_HDR + len) != 1) {
			if (r->ended || pp_errcode() == PP_OK)
				pp_err(PP_EINVAL, "package refused: truncated "
				    "record");
			return (-1);
		}
		p = r->rec.p + PKG_REC_HDR;
	}
	hashed = type == PKG_R_CHUNK ?
	    (len < CRYPTO_HASH_LEN + 5 ? len : CRYPTO_HASH_LEN + 5) : len;
	if (crypto_hash_update(r->digest, r->rec.p, PKG_REC_HDR) != 0 ||
	    crypto_hash_update(r->digest, p, hashed) != 0)
		return (-1);
	r->st.records++;
	out->type = type;
	if (type == PKG_R_CHUNK) {
		if (chunk_open(r, p, len, out) != 0)
			return (-1);
	} else {
		out->p = p;
		out->len = len;
	}
	r->st.plain_bytes += out->len;
	r->done = 0;
	return (1);
}

void
pkg_reader_stats(const struct pkg_reader *r, struct pkg_stats *out)
{

	*out = r->st;
}

void
pkg_reader_free(struct pkg_reader *r)
{

	if (r == NULL)
		return;
	crypto_aead_free(r->aead);
	crypto_hash_free(r->digest);
	ZSTD_freeDCtx(r->zd);
	if (r->pt != NULL)
		OPENSSL_cleanse(r->pt, r->h.frame_max);
	if (r->dec != NULL)
		OPENSSL_cleanse(r->dec, r->h.frame_max);
	OPENSSL_cleanse(r->chunk, sizeof(r->chunk));
	if (r->rec.p != NULL)
		OPENSSL_cleanse(r->rec.p, r->rec.cap);
	pkg_buf_free(&r->rec);
	free(r->in);
	free(r->pt);
	free(r->dec);
	free(r);
}
