/*
 * crypto_pk.c: X25519, HKDF-SHA256 and signatures over OpenSSL EVP (see
 * crypto_pk.h).
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "crypto_pk.h"
#include "err.h"

int
crypto_x25519_keygen(uint8_t priv[static CRYPTO_X25519_LEN],
    uint8_t pub[static CRYPTO_X25519_LEN])
{
	EVP_PKEY *k;
	size_t plen = CRYPTO_X25519_LEN, qlen = CRYPTO_X25519_LEN;
	int rc = -1;

	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519")) == NULL)
		goto out;
	if (EVP_PKEY_get_raw_private_key(k, priv, &plen) != 1 ||
	    EVP_PKEY_get_raw_public_key(k, pub, &qlen) != 1 ||
	    plen != CRYPTO_X25519_LEN || qlen != CRYPTO_X25519_LEN)
		goto out;
	rc = 0;
out:
	EVP_PKEY_free(k);
	if (rc != 0) {
		OPENSSL_cleanse(priv, CRYPTO_X25519_LEN);
		pp_err(PP_EINTERNAL, "X25519 key generation failed");
	}
	return (rc);
}

int
crypto_x25519_raw(EVP_PKEY *k, uint8_t priv[static CRYPTO_X25519_LEN])
{
	size_t len = CRYPTO_X25519_LEN;

	if (EVP_PKEY_get_id(k) != EVP_PKEY_X25519 ||
	    EVP_PKEY_get_raw_private_key(k, priv, &len) != 1 ||
	    len != CRYPTO_X25519_LEN) {
		OPENSSL_cleanse(priv, CRYPTO_X25519_LEN);
		pp_err(PP_EKEY, "not an X25519 private key");
		return (-1);
	}
	return (0);
}

int
crypto_x25519(const uint8_t priv[static CRYPTO_X25519_LEN],
    const uint8_t pub[static CRYPTO_X25519_LEN],
    uint8_t out[static CRYPTO_X25519_LEN])
{
	static const uint8_t zero[CRYPTO_X25519_LEN];
	EVP_PKEY *a = NULL, *b = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = CRYPTO_X25519_LEN;
	int rc = -1;

	if ((a = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
	    CRYPTO_X25519_LEN)) == NULL ||
	    (b = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub,
	    CRYPTO_X25519_LEN)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new(a, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, b) != 1 ||
	    EVP_PKEY_derive(ctx, out, &len) != 1 || len != CRYPTO_X25519_LEN) {
		pp_err(PP_EINVAL, "X25519 key agreement failed");
		goto out;
	}
	if (CRYPTO_memcmp(out, zero, CRYPTO_X25519_LEN) == 0) {
		pp_err(PP_EINVAL, "X25519 peer key is a low-order point");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		OPENSSL_cleanse(out, CRYPTO_X25519_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	return (rc);
}

int
crypto_hkdf(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *info, size_t infolen, uint8_t *out,
    size_t outlen)
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM p[5];
	int rc = -1;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, ikmlen);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)salt, saltlen);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, infolen);
	p[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, p) != 1)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		pp_err(PP_EINTERNAL, "HKDF-SHA256 failed");
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return (rc);
}

int
crypto_sign(EVP_PKEY *key, const void *msg, size_t len,
    uint8_t sig[static CRYPTO_SIG_MAX], size_t *siglen)
{
	EVP_MD_CTX *ctx;
	int rc = -1;

	*siglen = CRYPTO_SIG_MAX;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, siglen, msg, len) != 1)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		pp_err(PP_EKEY, "signing failed (an Ed25519 identity key is "
		    "needed)");
	EVP_MD_CTX_free(ctx);
	return (rc);
}

int
crypto_verify(EVP_PKEY *key, const void *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx;
	int rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestVerify(ctx, sig, siglen, msg, len) != 1)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		pp_err(PP_EINVAL, "bad signature");
	EVP_MD_CTX_free(ctx);
	return (rc);
}
