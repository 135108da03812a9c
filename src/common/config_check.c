/*
 * config_check.c: loading what the config file names and checking it all
 * together: the CA and its CRL, our certificate and keys, the partner's
 * certificate (see config.h).
 */
#include <string.h>
#include <strings.h>

#include <openssl/err.h>

#include "config_int.h"
#include "crypto.h"
#include "err.h"

/* The CA, its pair name and its CRL. */
static int
check_ca(struct cfg_parse *p)
{
	struct pp_config *c = p->cfg;

	if ((c->ca = pki_load_cert(c->ca_path)) == NULL ||
	    pki_cert_pair(c->ca, c->pair) != 0)
		return (cfg_fail(p, p->key_line[CFG_TLS_CA]));
	if ((c->crl = pki_load_crl(c->crl_path)) == NULL ||
	    pki_crl_check(c->ca, c->crl, 1) != 0)
		return (cfg_fail(p, p->key_line[CFG_TLS_CRL]));
	return (0);
}

/* Our certificate, identity key and seal key. */
static int
check_ours(struct cfg_parse *p)
{
	struct pp_config *c = p->cfg;
	uint8_t pub[PKI_SEAL_PUB_LEN];
	size_t len = sizeof(pub);

	if ((c->cert = pki_load_cert(c->cert_path)) == NULL ||
	    pki_verify(c->ca, c->crl, c->cert, c->pool) != 0 ||
	    pki_cert_seal_pub(c->cert, c->seal_pub) != 0)
		return (cfg_fail(p, p->key_line[CFG_TLS_CERT]));
	if ((c->identity_key = pki_load_key(c->key_path,
	    EVP_PKEY_ED25519)) == NULL)
		return (cfg_fail(p, p->key_line[CFG_TLS_KEY]));
	if (X509_check_private_key(c->cert, c->identity_key) != 1) {
		ERR_clear_error();
		pp_err(PP_EKEY, "identity key %s is not the key of "
		    "certificate %s", c->key_path, c->cert_path);
		return (cfg_fail(p, p->key_line[CFG_TLS_KEY]));
	}
	if ((c->seal_key = pki_load_key(c->seal_key_path,
	    EVP_PKEY_X25519)) == NULL)
		return (cfg_fail(p, p->key_line[CFG_TLS_SEAL_KEY]));
	if (EVP_PKEY_get_raw_public_key(c->seal_key, pub, &len) != 1 ||
	    len != sizeof(pub) || !crypto_eq(pub, c->seal_pub, len)) {
		ERR_clear_error();
		pp_err(PP_EKEY, "seal key %s does not match the seal public "
		    "key in certificate %s", c->seal_key_path, c->cert_path);
		return (cfg_fail(p, p->key_line[CFG_TLS_SEAL_KEY]));
	}
	return (0);
}

/* The partner: another pool, with a certificate of the pair. */
static int
check_partner(struct cfg_parse *p)
{
	struct pp_config *c = p->cfg;

	if (strcasecmp(c->partner, c->pool) == 0) {
		pp_err(PP_EINVAL, "[partner] fqdn %s is this pool's own name",
		    c->partner);
		return (cfg_fail(p, p->key_line[CFG_PARTNER_FQDN]));
	}
	if ((c->partner_cert = pki_load_cert(c->partner_cert_path)) == NULL ||
	    pki_verify(c->ca, c->crl, c->partner_cert, c->partner) != 0 ||
	    pki_cert_seal_pub(c->partner_cert, c->partner_seal_pub) != 0)
		return (cfg_fail(p, p->key_line[CFG_PARTNER_CERT]));
	return (0);
}

int
cfg_check(struct cfg_parse *p)
{

	if (check_ca(p) != 0 || check_ours(p) != 0 || check_partner(p) != 0)
		return (-1);
	return (0);
}
