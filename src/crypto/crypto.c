/*
 * crypto.c: OpenSSL EVP wrappers (see crypto.h).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "err.h"

struct crypto_hash {
	EVP_MD_CTX *ctx;
};

struct crypto_aead {
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
};

int
crypto_random(void *buf, size_t len)
{

	if (len > INT_MAX || RAND_bytes(buf, (int)len) != 1) {
		pp_err(PP_EINTERNAL, "RAND_bytes failed");
		return (-1);
	}
	return (0);
}

int
crypto_sha256(const void *buf, size_t len, uint8_t out[static CRYPTO_HASH_LEN])
{

	if (EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL) != 1) {
		pp_err(PP_EINTERNAL, "SHA-256 failed");
		return (-1);
	}
	return (0);
}

int
crypto_hmac_sha256(const uint8_t *key, size_t keylen, const void *msg,
    size_t len, uint8_t out[static CRYPTO_HASH_LEN])
{
	unsigned int olen = CRYPTO_HASH_LEN;

	if (keylen > INT_MAX || HMAC(EVP_sha256(), key, (int)keylen, msg, len,
	    out, &olen) == NULL) {
		pp_err(PP_EINTERNAL, "HMAC-SHA256 failed");
		return (-1);
	}
	return (0);
}

int
crypto_eq(const void *a, const void *b, size_t len)
{

	return (CRYPTO_memcmp(a, b, len) == 0);
}

struct crypto_hash *
crypto_hash_new(void)
{
	struct crypto_hash *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto err0;
	if ((h->ctx = EVP_MD_CTX_new()) == NULL)
		goto err1;
	if (crypto_hash_reset(h) != 0)
		goto err1;
	return (h);

err1:
	crypto_hash_free(h);
err0:
	pp_err(PP_EINTERNAL, "cannot create a SHA-256 context");
	return (NULL);
}

int
crypto_hash_reset(struct crypto_hash *h)
{

	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		pp_err(PP_EINTERNAL, "SHA-256 init failed");
		return (-1);
	}
	return (0);
}

int
crypto_hash_update(struct crypto_hash *h, const void *buf, size_t len)
{

	if (EVP_DigestUpdate(h->ctx, buf, len) != 1) {
		pp_err(PP_EINTERNAL, "SHA-256 update failed");
		return (-1);
	}
	return (0);
}

int
crypto_hash_final(struct crypto_hash *h, uint8_t out[static CRYPTO_HASH_LEN])
{

	if (EVP_DigestFinal_ex(h->ctx, out, NULL) != 1) {
		pp_err(PP_EINTERNAL, "SHA-256 final failed");
		return (-1);
	}
	return (0);
}

void
crypto_hash_free(struct crypto_hash *h)
{

	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

struct crypto_aead *
crypto_aead_new(const uint8_t key[static CRYPTO_KEY_LEN])
{
	struct crypto_aead *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto err0;
	if ((a->enc = EVP_CIPHER_CTX_new()) == NULL ||
	    (a->dec = EVP_CIPHER_CTX_new()) == NULL)
		goto err1;
	/* Expand the key once; each message only sets its nonce. */
	if (EVP_EncryptInit_ex(a->enc, EVP_aes_256_gcm(), NULL, key,
	    NULL) != 1 ||
	    EVP_DecryptInit_ex(a->dec, EVP_aes_256_gcm(), NULL, key,
	    NULL) != 1)
		goto err1;
	return (a);

err1:
	crypto_aead_free(a);
err0:
	pp_err(PP_EINTERNAL, "cannot create an AES-256-GCM context");
	return (NULL);
}

int
crypto_aead_seal_at(struct crypto_aead *a,
    const uint8_t nonce[static CRYPTO_NONCE_LEN], const void *aad,
    size_t aadlen, const uint8_t *pt, size_t len, uint8_t *out)
{
	int n;

	if (len > INT_MAX - 64 || aadlen > INT_MAX)
		goto err;
	if (EVP_EncryptInit_ex(a->enc, NULL, NULL, NULL, nonce) != 1 ||
	    (aadlen > 0 && EVP_EncryptUpdate(a->enc, NULL, &n, aad,
	    (int)aadlen) != 1) ||
	    EVP_EncryptUpdate(a->enc, out, &n, pt, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(a->enc, out + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_LEN,
	    out + len) != 1)
		goto err;
	return (0);

err:
	pp_err(PP_EINTERNAL, "AES-256-GCM seal failed");
	return (-1);
}

int
crypto_aead_open_at(struct crypto_aead *a,
    const uint8_t nonce[static CRYPTO_NONCE_LEN], const void *aad,
    size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *out)
{
	uint8_t tag[CRYPTO_TAG_LEN];
	size_t len;
	int n;

	if (inlen < CRYPTO_TAG_LEN || inlen > INT_MAX || aadlen > INT_MAX)
		goto bad;
	len = inlen - CRYPTO_TAG_LEN;
	memcpy(tag, in + len, CRYPTO_TAG_LEN);
	if (EVP_DecryptInit_ex(a->dec, NULL, NULL, NULL, nonce) != 1 ||
	    (aadlen > 0 && EVP_DecryptUpdate(a->dec, NULL, &n, aad,
	    (int)aadlen) != 1) ||
	    EVP_DecryptUpdate(a->dec, out, &n, in, (int)len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG_LEN,
	    tag) != 1 ||
	    EVP_DecryptFinal_ex(a->dec, out + n, &n) != 1) {
		OPENSSL_cleanse(out, len);
		goto bad;
	}
	return (0);

bad:
	pp_err(PP_ESTORE, "authentication failed (tampered or corrupted)");
	return (-1);
}

int
crypto_aead_seal(struct crypto_aead *a, const void *aad, size_t aadlen,
    const uint8_t *pt, size_t len, uint8_t *out)
{

	if (crypto_random(out, CRYPTO_NONCE_LEN) != 0)
		return (-1);
	return (crypto_aead_seal_at(a, out, aad, aadlen, pt, len,
	    out + CRYPTO_NONCE_LEN));
}

int
crypto_aead_open(struct crypto_aead *a, const void *aad, size_t aadlen,
    const uint8_t *in, size_t inlen, uint8_t *out)
{

	if (inlen < CRYPTO_SEAL_OVERHEAD) {
		pp_err(PP_ESTORE, "authentication failed (tampered or "
		    "corrupted)");
		return (-1);
	}
	return (crypto_aead_open_at(a, in, aad, aadlen,
	    in + CRYPTO_NONCE_LEN, inlen - CRYPTO_NONCE_LEN, out));
}

void
crypto_aead_free(struct crypto_aead *a)
{

	if (a == NULL)
		return;
	/* EVP_CIPHER_CTX_free cleanses the expanded key. */
	EVP_CIPHER_CTX_free(a->enc);
	EVP_CIPHER_CTX_free(a->dec);
	free(a);
}
