/*
 * pkg_codec.c: the package's byte-level pieces: record payload fields
 * (big-endian integers, length-prefixed strings), the header's encoding and
 * parsing, and the record types' names and modules.
 */
#include <stdlib.h>
#include <openssl/crypto.h>
#include <string.h>

#include "err.h"
#include "pkg.h"
#include "pkg_int.h"
#include "util.h"

static const struct {
	const char *name;
	int module;		/* enum store_module */
} rtypes[PKG_R_NTYPES] = {
	[PKG_R_USER] = { "user", 0 },
	[PKG_R_USER_DEL] = { "user-del", 0 },
	[PKG_R_SETTING] = { "setting", 0 },
	[PKG_R_SETTING_DEL] = { "setting-del", 0 },
	[PKG_R_GROUP] = { "group", 0 },
	[PKG_R_GROUP_DEL] = { "group-del", 0 },
	[PKG_R_CONTACT] = { "contact", 0 },
	[PKG_R_CONTACT_DEL] = { "contact-del", 0 },
	[PKG_R_CONF] = { "conf", 0 },
	[PKG_R_CONF_DEL] = { "conf-del", 0 },
	[PKG_R_CHUNK] = { "chunk", 1 },
	[PKG_R_CONTENT] = { "content", 1 },
	[PKG_R_CONTENT_DEL] = { "content-del", 1 },
	[PKG_R_CONFIG] = { "config", 2 },
	[PKG_R_OWNER] = { "owner", 0 },
	[PKG_R_CONTENT_EDIT] = { "content-edit", 1 },
};

int
pkg_rec_module(int t)
{

	if (t <= 0 || t >= PKG_R_NTYPES)
		return (-1);
	return (rtypes[t].module);
}

const char *
pkg_rec_name(int t)
{

	if (t <= 0 || t >= PKG_R_NTYPES)
		return ("?");
	return (rtypes[t].name);
}

/* Make room for ${len} more bytes in ${b}.  Returns 0 or -1. */
static int
buf_room(struct pkg_buf *b, size_t len)
{
	size_t cap;
	uint8_t *p;

	if (b->failed)
		return (-1);
	if (len > PKG_REC_MAX || b->len + len > PKG_REC_MAX) {
		pp_err(PP_ELIMIT, "package record over %d bytes", PKG_REC_MAX);
		goto fail;
	}
	if (b->len + len <= b->cap)
		return (0);
	for (cap = b->cap ? b->cap : 256; cap < b->len + len; cap *= 2)
		;
	if ((p = realloc(b->p, cap)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		goto fail;
	}
	b->p = p;
	b->cap = cap;
	return (0);
fail:
	b->failed = 1;
	return (-1);
}

void
pkg_buf_reset(struct pkg_buf *b)
{

	b->len = 0;
	b->failed = 0;
}

void
pkg_buf_free(struct pkg_buf *b)
{

	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
pkg_put_bytes(struct pkg_buf *b, const void *p, size_t len)
{

	if (len == 0 || buf_room(b, len) != 0)
		return;
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

void
pkg_put_u8(struct pkg_buf *b, unsigned v)
{
	uint8_t x = (uint8_t)v;

	pkg_put_bytes(b, &x, 1);
}

void
pkg_put_u32(struct pkg_buf *b, uint32_t v)
{
	uint8_t x[4];

	be32_put(x, v);
	pkg_put_bytes(b, x, 4);
}

void
pkg_put_i64(struct pkg_buf *b, int64_t v)
{
	uint8_t x[8];

	be64_put(x, (uint64_t)v);
	pkg_put_bytes(b, x, 8);
}

void
pkg_put_str(struct pkg_buf *b, const char *s)
{
	size_t len = strlen(s);
	uint8_t x[2];

	if (len > 0xffff) {
		pp_err(PP_ELIMIT, "package string over 65535 bytes");
		b->failed = 1;
		return;
	}
	x[0] = (uint8_t)(len >> 8);
	x[1] = (uint8_t)len;
	pkg_put_bytes(b, x, 2);
	pkg_put_bytes(b, s, len);
}

const uint8_t *
pkg_get_bytes(struct pkg_cur *c, size_t len)
{
	const uint8_t *p;

	if (c->bad || len > c->len) {
		c->bad = 1;
		return (NULL);
	}
	p = c->p;
	c->p += len;
	c->len -= len;
	return (p);
}

unsigned
pkg_get_u8(struct pkg_cur *c)
{
	const uint8_t *p = pkg_get_bytes(c, 1);

	return (p != NULL ? p[0] : 0);
}

uint32_t
pkg_get_u32(struct pkg_cur *c)
{
	const uint8_t *p = pkg_get_bytes(c, 4);

	return (p != NULL ? be32_get(p) : 0);
}

int64_t
pkg_get_i64(struct pkg_cur *c)
{
	const uint8_t *p = pkg_get_bytes(c, 8);

	return (p != NULL ? (int64_t)be64_get(p) : 0);
}

void
pkg_get_str(struct pkg_cur *c, char *out, size_t max)
{
	const uint8_t *p;
	size_t len;

	out[0] = '\0';
	if ((p = pkg_get_bytes(c, 2)) == NULL)
		return;
	len = (size_t)p[0] << 8 | p[1];
	if (len > max || (p = pkg_get_bytes(c, len)) == NULL ||
	    memchr(p, '\0', len) != NULL) {
		c->bad = 1;
		return;
	}
	memcpy(out, p, len);
	out[len] = '\0';
}

/* A header string: u8 length then bytes. */
static void
hdr_put_str(struct pkg_buf *b, const char *s)
{

	pkg_put_u8(b, (unsigned)strlen(s));
	pkg_put_bytes(b, s, strlen(s));
}

static void
hdr_get_str(struct pkg_cur *c, char *out, size_t max)
{
	const uint8_t *p;
	size_t len;

	out[0] = '\0';
	len = pkg_get_u8(c);
	if (c->bad || len == 0 || len > max ||
	    (p = pkg_get_bytes(c, len)) == NULL) {
		c->bad = 1;
		return;
	}
	memcpy(out, p, len);
	out[len] = '\0';
}

int
pkg_header_encode(struct pkg_hdr *h)
{
	struct pkg_buf b = { NULL, 0, 0, 0 };
	int rc = -1;

	if (strlen(h->pair) == 0 || strlen(h->pair) > PKG_PAIR_MAX ||
	    util_fqdn_ok(h->source) != 0 || util_fqdn_ok(h->target) != 0) {
		pp_err(PP_EINVAL, "package header: bad pair or pool name");
		goto out;
	}
	pkg_put_bytes(&b, PKG_MAGIC, PKG_MAGIC_LEN);
	pkg_put_u8(&b, PKG_VERSION >> 8);
	pkg_put_u8(&b, PKG_VERSION & 0xff);
	pkg_put_u8(&b, 0);		/* the length, set below */
	pkg_put_u8(&b, 0);
	pkg_put_u8(&b, (unsigned)h->kind);
	pkg_put_u8(&b, (unsigned)h->module);
	pkg_put_u8(&b, 0);
	pkg_put_u8(&b, 0);
	pkg_put_i64(&b, h->epoch);
	pkg_put_i64(&b, h->since);
	pkg_put_i64(&b, h->upto);
	pkg_put_i64(&b, h->created_ms);
	pkg_put_bytes(&b, h->id, PKG_ID_LEN);
	pkg_put_bytes(&b, h->eph_pub, CRYPTO_X25519_LEN);
	pkg_put_bytes(&b, h->signer, CRYPTO_HASH_LEN);
	pkg_put_u32(&b, h->frame_max);
	hdr_put_str(&b, h->pair);
	hdr_put_str(&b, h->source);
	hdr_put_str(&b, h->target);
	if (b.failed || b.len > PKG_HDR_MAX) {
		pp_err(PP_EINTERNAL, "package header too long");
		goto out;
	}
	b.p[10] = (uint8_t)(b.len >> 8);
	b.p[11] = (uint8_t)b.len;
	memcpy(h->raw, b.p, b.len);
	h->rawlen = b.len;
	rc = 0;
out:
	pkg_buf_free(&b);
	return (rc);
}

/* The fixed part of a header: magic, version, length (the first 12 bytes). */
int
pkg_header_prefix(const uint8_t *buf, size_t *hdrlen)
{
	unsigned version;

	if (memcmp(buf, PKG_MAGIC, PKG_MAGIC_LEN) != 0) {
		pp_err(PP_EINVAL, "not a poolpair package (bad magic)");
		return (-1);
	}
	version = (unsigned)buf[8] << 8 | buf[9];
	if (version != PKG_VERSION) {
		pp_err(PP_EINVAL, "package version %u is not supported "
		    "(this poolpair reads version %d)", version, PKG_VERSION);
		return (-1);
	}
	*hdrlen = (size_t)buf[10] << 8 | buf[11];
	if (*hdrlen < PKG_HDR_PREFIX || *hdrlen > PKG_HDR_MAX) {
		pp_err(PP_EINVAL, "package header length %zu out of bounds",
		    *hdrlen);
		return (-1);
	}
	return (0);
}

/* Copy ${len} bytes from ${c} into ${out} (zeros if short). */
static void
get_fixed(struct pkg_cur *c, uint8_t *out, size_t len)
{
	const uint8_t *p = pkg_get_bytes(c, len);

	if (p != NULL)
		memcpy(out, p, len);
	else
		memset(out, 0, len);
}

int
pkg_header_parse(const uint8_t *buf, size_t len, struct pkg_hdr *h)
{
	struct pkg_cur c = { buf, len, 0 };
	size_t hdrlen;

	memset(h, 0, sizeof(*h));
	if (len < PKG_HDR_PREFIX) {
		pp_err(PP_EINVAL, "not a poolpair package (too short)");
		return (-1);
	}
	if (pkg_header_prefix(buf, &hdrlen) != 0)
		return (-1);
	if (hdrlen > len) {
		pp_err(PP_EINVAL, "package header truncated");
		return (-1);
	}
	c.len = hdrlen;
	(void)pkg_get_bytes(&c, PKG_HDR_PREFIX);
	h->version = PKG_VERSION;
	h->kind = (enum pkg_kind)pkg_get_u8(&c);
	h->module = (int)pkg_get_u8(&c);
	if (pkg_get_u8(&c) != 0 || pkg_get_u8(&c) != 0)
		c.bad = 1;
	h->epoch = pkg_get_i64(&c);
	h->since = pkg_get_i64(&c);
	h->upto = pkg_get_i64(&c);
	h->created_ms = pkg_get_i64(&c);
	get_fixed(&c, h->id, PKG_ID_LEN);
	get_fixed(&c, h->eph_pub, CRYPTO_X25519_LEN);
	get_fixed(&c, h->signer, CRYPTO_HASH_LEN);
	h->frame_max = pkg_get_u32(&c);
	hdr_get_str(&c, h->pair, PKG_PAIR_MAX);
	hdr_get_str(&c, h->source, PP_FQDN_MAX);
	hdr_get_str(&c, h->target, PP_FQDN_MAX);
	if (c.bad || c.len != 0) {
		pp_err(PP_EINVAL, "package header malformed");
		return (-1);
	}
	if ((h->kind != PKG_CHANGES && h->kind != PKG_SNAPSHOT) ||
	    h->module < 0 || h->module > 2) {
		pp_err(PP_EINVAL, "package header: unknown kind %d or module "
		    "%d", (int)h->kind, h->module);
		return (-1);
	}
	if (h->epoch < 0 || h->since < 0 || h->upto < h->since ||
	    (h->kind == PKG_SNAPSHOT && h->since != 0)) {
		pp_err(PP_EINVAL, "package header: bad epoch or LSN range");
		return (-1);
	}
	if (h->frame_max == 0 || h->frame_max > PKG_FRAME_LIMIT) {
		pp_err(PP_EINVAL, "package header: frame size %u out of "
		    "bounds", (unsigned)h->frame_max);
		return (-1);
	}
	if (util_token_ok(h->pair, PKG_PAIR_MAX, "pair name") != 0 ||
	    util_fqdn_ok(h->source) != 0 || util_fqdn_ok(h->target) != 0) {
		pp_err_reclass(PP_EINVAL);
		return (-1);
	}
	memcpy(h->raw, buf, hdrlen);
	h->rawlen = hdrlen;
	return (0);
}

int
pkg_keys(const struct pkg_hdr *h,
    const uint8_t shared[static CRYPTO_X25519_LEN],
    const uint8_t target_pub[static CRYPTO_X25519_LEN],
    uint8_t key[static CRYPTO_KEY_LEN], uint8_t prefix[static 4],
    uint8_t hh[static CRYPTO_HASH_LEN])
{
	uint8_t salt[2 * CRYPTO_X25519_LEN];
	uint8_t info[sizeof(PKG_KEY_INFO) - 1 + CRYPTO_HASH_LEN];
	uint8_t okm[CRYPTO_KEY_LEN + 4];
	int rc;

	if (crypto_sha256(h->raw, h->rawlen, hh) != 0)
		return (-1);
	memcpy(salt, h->eph_pub, CRYPTO_X25519_LEN);
	memcpy(salt + CRYPTO_X25519_LEN, target_pub, CRYPTO_X25519_LEN);
	memcpy(info, PKG_KEY_INFO, sizeof(PKG_KEY_INFO) - 1);
	memcpy(info + sizeof(PKG_KEY_INFO) - 1, hh, CRYPTO_HASH_LEN);
	rc = crypto_hkdf(salt, sizeof(salt), shared, CRYPTO_X25519_LEN, info,
	    sizeof(info), okm, sizeof(okm));
	if (rc == 0) {
		memcpy(key, okm, CRYPTO_KEY_LEN);
		memcpy(prefix, okm + CRYPTO_KEY_LEN, 4);
	}
	OPENSSL_cleanse(okm, sizeof(okm));
	return (rc);
}

void
pkg_nonce(const uint8_t prefix[static 4], uint64_t n,
    uint8_t nonce[static CRYPTO_NONCE_LEN])
{

	memcpy(nonce, prefix, 4);
	be64_put(nonce + 4, n);
}

size_t
pkg_sig_msg(uint8_t msg[static 128], const uint8_t hh[static CRYPTO_HASH_LEN],
    const uint8_t digest[static CRYPTO_HASH_LEN], uint64_t count)
{
	size_t n = sizeof(PKG_SIG_CONTEXT);	/* with its NUL */

	memcpy(msg, PKG_SIG_CONTEXT, n);
	memcpy(msg + n, hh, CRYPTO_HASH_LEN);
	n += CRYPTO_HASH_LEN;
	memcpy(msg + n, digest, CRYPTO_HASH_LEN);
	n += CRYPTO_HASH_LEN;
	be64_put(msg + n, count);
	return (n + 8);
}
