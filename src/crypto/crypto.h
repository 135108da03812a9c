/*
 * crypto.h: thin wrappers over OpenSSL EVP for what the store needs:
 * randomness, SHA-256, HMAC-SHA256, constant-time compare, and AES-256-GCM
 * sealing of one buffer under a long-lived key.
 */
#ifndef PP_CRYPTO_H
#define PP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN		32
#define CRYPTO_HASH_LEN		32
#define CRYPTO_NONCE_LEN	12
#define CRYPTO_TAG_LEN		16
/* Bytes a sealed buffer adds to its plaintext: nonce + tag. */
#define CRYPTO_SEAL_OVERHEAD	(CRYPTO_NONCE_LEN + CRYPTO_TAG_LEN)

/* Fill ${buf} with ${len} random bytes.  Returns 0, or -1 (PP_EINTERNAL). */
int crypto_random(void *buf, size_t len);

/* SHA-256 of ${len} bytes at ${buf} into ${out}.  Returns 0 or -1. */
int crypto_sha256(const void *buf, size_t len,
    uint8_t out[static CRYPTO_HASH_LEN]);

/* HMAC-SHA256 of ${msg} under ${key}.  Returns 0 or -1. */
int crypto_hmac_sha256(const uint8_t *key, size_t keylen, const void *msg,
    size_t len, uint8_t out[static CRYPTO_HASH_LEN]);

/* Nonzero if the ${len} bytes at ${a} and ${b} are equal; constant time. */
int crypto_eq(const void *a, const void *b, size_t len);

/* Streaming SHA-256; opaque. */
struct crypto_hash;

/* A new SHA-256 context, already started.  NULL on failure. */
struct crypto_hash *crypto_hash_new(void);
/* Restart ${h}.  Returns 0 or -1. */
int crypto_hash_reset(struct crypto_hash *h);
int crypto_hash_update(struct crypto_hash *h, const void *buf, size_t len);
/* Finish into ${out}; ${h} must be reset before reuse.  Returns 0 or -1. */
int crypto_hash_final(struct crypto_hash *h, uint8_t out[static CRYPTO_HASH_LEN]);
/* Free ${h}; NULL does nothing. */
void crypto_hash_free(struct crypto_hash *h);

/* AES-256-GCM under one key, for many buffers; opaque. */
struct crypto_aead;

/*
 * A new sealer for ${key}: the key schedule is expanded once here and
 * wiped by crypto_aead_free; ${key} itself is not kept.
 * NULL on failure.
 */
struct crypto_aead *crypto_aead_new(const uint8_t key[static CRYPTO_KEY_LEN]);

/*
 * Seal ${len} bytes of ${pt} with additional data ${aad}/${aadlen} into
 * ${out}, which receives ${len} + CRYPTO_SEAL_OVERHEAD bytes: a fresh random
 * nonce, the ciphertext, the tag.  Returns 0 or -1.
 */
int crypto_aead_seal(struct crypto_aead *a, const void *aad, size_t aadlen,
    const uint8_t *pt, size_t len, uint8_t *out);

/*
 * Open ${inlen} bytes of ${in} (as written by crypto_aead_seal) with the same
 * ${aad} into ${out} (${inlen} - CRYPTO_SEAL_OVERHEAD bytes).  Returns 0, or
 * -1 if the input is short or fails authentication (nothing usable is left in
 * ${out}: it is wiped).
 */
int crypto_aead_open(struct crypto_aead *a, const void *aad, size_t aadlen,
    const uint8_t *in, size_t inlen, uint8_t *out);

/*
 * As crypto_aead_seal and crypto_aead_open, with the caller's ${nonce}
 * (never used twice under one key: the caller counts) instead of a random
 * one, and no nonce in the output: ${out} receives ${len} bytes of
 * ciphertext then the tag; ${in} is ciphertext then tag.
 */
int crypto_aead_seal_at(struct crypto_aead *a,
    const uint8_t nonce[static CRYPTO_NONCE_LEN], const void *aad,
    size_t aadlen, const uint8_t *pt, size_t len, uint8_t *out);
int crypto_aead_open_at(struct crypto_aead *a,
    const uint8_t nonce[static CRYPTO_NONCE_LEN], const void *aad,
    size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *out);

/* Free ${a}, wiping the key; NULL does nothing. */
void crypto_aead_free(struct crypto_aead *a);

#endif
