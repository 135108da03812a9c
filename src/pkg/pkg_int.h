/*
 * pkg_int.h: what the package writer and reader share (not the contract:
 * see pkg.h).
 */
#ifndef PP_PKG_INT_H
#define PP_PKG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "pkg.h"
#include "util.h"	/* be32_put and friends */

#define PKG_HDR_PREFIX	12	/* magic, version, header length */
#define PKG_FINAL	0x80000000u	/* frame word: the final frame */
#define PKG_REC_HDR	5	/* record: type u8, length u32 */
#define PKG_CODEC_RAW	0
#define PKG_CODEC_ZSTD	1
#define PKG_KEY_INFO	"poolpair package v1"
#define PKG_SIG_CONTEXT	"poolpair package signature v1"
/* Final frame: digest, record count, signature length, signature. */
#define PKG_TRAILER_MAX	(CRYPTO_HASH_LEN + 8 + 2 + CRYPTO_SIG_MAX)

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
