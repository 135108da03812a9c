/*
 * bk_keys.c: the exporter's and importer's keys, taken from a loaded config
 * file (config.h has checked every one of them).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "backup.h"
#include "bk_keys.h"
#include "err.h"

int
bk_keys_from_config(const struct pp_config *cfg, struct bk_keys *k)
{

	memset(k, 0, sizeof(*k));
	k->pair = cfg->pair;
	k->pool = cfg->pool;
	k->partner = cfg->partner;
	k->identity = cfg->identity_key;
	if ((k->partner_pub = X509_get0_pubkey(cfg->partner_cert)) == NULL ||
	    pki_cert_fingerprint(cfg->cert, k->fingerprint) != 0 ||
	    pki_cert_fingerprint(cfg->partner_cert, k->partner_fp) != 0 ||
	    crypto_x25519_raw(cfg->seal_key, k->seal_priv) != 0) {
		bk_keys_wipe(k);
		if (pp_errcode() == PP_OK)
			pp_err(PP_EKEY, "cannot use the keys of %s", cfg->path);
		return (-1);
	}
	memcpy(k->partner_seal, cfg->partner_seal_pub, CRYPTO_X25519_LEN);
	return (0);
}

void
bk_keys_wipe(struct bk_keys *k)
{

	OPENSSL_cleanse(k->seal_priv, sizeof(k->seal_priv));
}
