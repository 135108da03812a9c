/*
 * crypto_pk.h: the public-key pieces a package needs, as thin wrappers over
 * OpenSSL EVP: X25519 key agreement, HKDF-SHA256, and signatures with a
 * pool's identity key (Ed25519).
 */
#ifndef PP_CRYPTO_PK_H
#define PP_CRYPTO_PK_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define CRYPTO_X25519_LEN	32
#define CRYPTO_SIG_MAX		64	/* an Ed25519 signature */

/*
 * A new X25519 key pair: the private half into ${priv}, the public half into
 * ${pub}.  Returns 0 or -1.  The caller wipes ${priv}.
 */
int crypto_x25519_keygen(uint8_t priv[static CRYPTO_X25519_LEN],
    uint8_t pub[static CRYPTO_X25519_LEN]);

/* The raw private half of X25519 key ${k} into ${priv}.  Returns 0 or -1. */
int crypto_x25519_raw(EVP_PKEY *k, uint8_t priv[static CRYPTO_X25519_LEN]);

/*
 * The X25519 shared secret of ${priv} and the peer's ${pub} into ${out}.
 * Refuses (-1, PP_EINVAL) a peer key that gives the all-zero secret (a
 * low-order point).  Returns 0 or -1.
 */
int crypto_x25519(const uint8_t priv[static CRYPTO_X25519_LEN],
    const uint8_t pub[static CRYPTO_X25519_LEN],
    uint8_t out[static CRYPTO_X25519_LEN]);

/* HKDF-SHA256 (RFC 5869) of ${ikm} with ${salt} and ${info} into ${out}. */
int crypto_hkdf(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *info, size_t infolen, uint8_t *out,
    size_t outlen);

/*
 * Sign ${len} bytes of ${msg} with Ed25519 key ${key} into ${sig} (room for
 * CRYPTO_SIG_MAX bytes), its length into ${siglen}.  Returns 0 or -1.
 */
int crypto_sign(EVP_PKEY *key, const void *msg, size_t len,
    uint8_t sig[static CRYPTO_SIG_MAX], size_t *siglen);

/* Verify ${sig} over ${msg} with public key ${key}: 0 if good, else -1. */
int crypto_verify(EVP_PKEY *key, const void *msg, size_t len,
    const uint8_t *sig, size_t siglen);

#endif
