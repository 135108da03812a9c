/*
 * fuzz_keys.c: the fixed keys, header and memfd of the fuzz harnesses (see
 * fuzz_keys.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "err.h"
#include "fuzz_keys.h"
#include "util.h"

/* From the sanitizers' runtime, when there is one. */
void __sanitizer_report_error_summary(const char *) __attribute__((weak));

/* Constant seeds: changing them orphans every committed seed package. */
static const uint8_t seal_seed[CRYPTO_X25519_LEN] =
    "poolpair fuzz sealing key seed.";
static const uint8_t sign_seed[32] =
    "poolpair fuzz identity key seed";

int
fuzz_keys_load(struct fuzz_keys *k)
{
	EVP_PKEY *x = NULL;
	uint8_t pub[32];
	size_t len = sizeof(pub);

	memset(k, 0, sizeof(*k));
	memcpy(k->seal_priv, seal_seed, CRYPTO_X25519_LEN);
	if ((x = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL,
	    k->seal_priv, CRYPTO_X25519_LEN)) == NULL ||
	    EVP_PKEY_get_raw_public_key(x, k->seal_pub, &len) != 1 ||
	    len != CRYPTO_X25519_LEN)
		goto err;
	len = sizeof(pub);
	if ((k->sign = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    sign_seed, sizeof(sign_seed))) == NULL ||
	    EVP_PKEY_get_raw_public_key(k->sign, pub, &len) != 1 ||
	    (k->verify = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
	    pub, len)) == NULL)
		goto err;
	EVP_PKEY_free(x);
	return (0);

err:
	EVP_PKEY_free(x);
	fuzz_keys_free(k);
	return (-1);
}

void
fuzz_keys_free(struct fuzz_keys *k)
{

	EVP_PKEY_free(k->sign);
	EVP_PKEY_free(k->verify);
	OPENSSL_cleanse(k, sizeof(*k));
}

void
fuzz_hdr_init(struct pkg_hdr *h, int module)
{

	memset(h, 0, sizeof(*h));
	h->kind = PKG_SNAPSHOT;
	h->module = module;
	h->epoch = 1;
	h->since = 0;
	h->upto = 42;
	h->created_ms = 1700000000000;	/* fixed: not the clock */
	memset(h->signer, 0x5a, sizeof(h->signer));
	strcpy(h->pair, "fuzzpair");
	strcpy(h->source, "pool-a.fuzz.test");
	strcpy(h->target, "pool-b.fuzz.test");
}

int
fuzz_memfd(void)
{

	return (memfd_create("poolpair-fuzz", MFD_CLOEXEC));
}

int
fuzz_memfd_reset(int fd)
{

	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		return (-1);
	return (0);
}

int
fuzz_memfd_load(int fd, const uint8_t *data, size_t size)
{

	if (fuzz_memfd_reset(fd) != 0 ||
	    (size > 0 && util_write_all(fd, data, size) != 0) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		return (-1);
	return (0);
}

void
fuzz_fail(const char *what)
{

	char msg[768];

	snprintf(msg, sizeof(msg), "fuzz: broken property: %s (last error: "
	    "%s)", what, pp_errmsg());
	fprintf(stderr, "%s\n", msg);
	/* Also where a sanitizer reports, when libFuzzer closed stderr. */
	if (__sanitizer_report_error_summary != NULL)
		__sanitizer_report_error_summary(msg);
	abort();
}
