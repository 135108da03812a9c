/*
 * pkg_int.h: what the package writer and reader share (not the contract:
 * see pkg.h).
 */
#ifndef PP_PKG_INT_H
#define PP_PKG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "pkg.h"

#define PKG_HDR_PREFIX	12	/* magic, version, header length */
#define PKG_FINAL	0x80000000u	/* frame word: the final frame */
#define PKG_REC_HDR	5	/* record: type u8, length u32 */
#define PKG_CODEC_RAW	0
#define PKG_CODEC_ZSTD	1
#define PKG_KEY_INFO	"poolpair package v1"
#define PKG_SIG_CONTEXT	"poolpair package signature v1"
/* Final frame: digest, record count, signature length, signature. */
#define PKG_TRAILER_MAX	(CRYPTO_HASH_LEN + 8 + 2 + CRYPTO_SIG_MAX)

static inline void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
be32_get(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static inline void
be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, (uint32_t)(v >> 32));
	be32_put(p + 4, (uint32_t)v);
}

static inline uint64_t
be64_get(const uint8_t *p)
{
	return ((uint64_t)be32_get(p) << 32 | be32_get(p + 4));
}

/* Encode ${h} into ${h}->raw.  Returns 0 or -1. */
int pkg_header_encode(struct pkg_hdr *h);

/* Check the first PKG_HDR_PREFIX bytes; the header's length to ${hdrlen}. */
int pkg_header_prefix(const uint8_t *buf, size_t *hdrlen);

/*
 * The body's key and nonce prefix for header ${h}, from the X25519 secret
 * ${shared} and the target's public key ${target_pub}.  Returns 0 or -1.
 */
int pkg_keys(const struct pkg_hdr *h,
    const uint8_t shared[static CRYPTO_X25519_LEN],
    const uint8_t target_pub[static CRYPTO_X25519_LEN],
    uint8_t key[static CRYPTO_KEY_LEN], uint8_t prefix[static 4],
    uint8_t hh[static CRYPTO_HASH_LEN]);

/* The nonce of frame ${n}: the prefix then ${n}, big-endian. */
void pkg_nonce(const uint8_t prefix[static 4], uint64_t n,
    uint8_t nonce[static CRYPTO_NONCE_LEN]);

/*
 * The message the source signs: context, header hash ${hh}, record digest
 * ${digest}, record count ${count}, into ${msg} (returns its length).
 */
size_t pkg_sig_msg(uint8_t msg[static 128],
    const uint8_t hh[static CRYPTO_HASH_LEN],
    const uint8_t digest[static CRYPTO_HASH_LEN], uint64_t count);

#endif
