/*
 * pki.c: making the pair's certificates: the CA (pki_ca_init) and the pool
 * identities it issues (pki_issue), with their keys (see pki.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "fileio.h"
#include "pki_int.h"
#include "pp_limits.h"
#include "util.h"

EVP_PKEY *
pki_keygen(const char *alg)
{
	EVP_PKEY *k;

	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, alg)) == NULL)
		pki_ossl_err(PP_EINTERNAL, "key generation failed");
	return (k);
}

ASN1_OBJECT *
pki_seal_obj(void)
{
	ASN1_OBJECT *o;

	if ((o = OBJ_txt2obj(PKI_SEAL_OID, 1)) == NULL)
		pki_ossl_err(PP_EINTERNAL, "cannot make the seal OID");
	return (o);
}

/*
 * A new version 3 certificate for ${key}'s public half with subject
 * CN=${cn}, a random positive 128-bit serial, valid from 5 minutes ago (for
 * clocks a little behind) for ${days} days.  NULL on failure.
 */
static X509 *
cert_new(const char *cn, EVP_PKEY *key, int days)
{
	X509 *x;
	BIGNUM *bn = NULL;

	if ((x = X509_new()) == NULL || (bn = BN_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    BN_rand(bn, 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL ||
	    X509_set_pubkey(x, key) != 1) {
		pki_ossl_err(PP_EINTERNAL, "cannot make a certificate");
		X509_free(x);
		x = NULL;
	}
	BN_free(bn);
	return (x);
}

/* Add extension ${nid} = ${value} (openssl.cnf syntax) to ${x}. */
static int
cert_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int rc;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value)) == NULL) {
		pki_ossl_err(PP_EINTERNAL, "cannot make a certificate "
		    "extension");
		return (-1);
	}
	rc = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (rc != 1) {
		pki_ossl_err(PP_EINTERNAL, "cannot add a certificate extension");
		return (-1);
	}
	return (0);
}

/*
 * Add to ${x} the non-critical PKI_SEAL_OID extension whose value is the
 * DER OCTET STRING of ${seal}'s 32-byte X25519 public key.
 */
static int
cert_ext_seal(X509 *x, EVP_PKEY *seal)
{
	uint8_t pub[PKI_SEAL_PUB_LEN];
	size_t len = sizeof(pub);
	ASN1_OCTET_STRING *in = NULL, *val = NULL;
	ASN1_OBJECT *obj = NULL;
	X509_EXTENSION *e = NULL;
	unsigned char *der = NULL;
	int dlen, rc = -1;

	if (EVP_PKEY_get_raw_public_key(seal, pub, &len) != 1 ||
	    len != sizeof(pub) || (in = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(in, pub, (int)len) != 1 ||
	    (dlen = i2d_ASN1_OCTET_STRING(in, &der)) <= 0 ||
	    (val = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(val, der, dlen) != 1 ||
	    (obj = pki_seal_obj()) == NULL ||
	    (e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, val)) == NULL ||
	    X509_add_ext(x, e, -1) != 1)
		pki_ossl_err(PP_EINTERNAL, "cannot add the seal extension");
	else
		rc = 0;
	X509_EXTENSION_free(e);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(val);
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(in);
	return (rc);
}

/* Sign ${x} with ${key} (Ed25519: no separate digest). */
static int
cert_sign(X509 *x, EVP_PKEY *key)
{

	if (X509_sign(x, key, NULL) <= 0) {
		pki_ossl_err(PP_EINTERNAL, "cannot sign a certificate");
		return (-1);
	}
	return (0);
}

/* Check that ${days} is within 1..${max}. */
static int
days_ok(int days, int max)
{

	if (days < 1 || days > max) {
		pp_err(PP_EINVAL, "validity must be 1 to %d days, not %d", max,
		    days);
		return (-1);
	}
	return (0);
}

/* The CA's first (empty) CRL, signed, written to ${ca}->crlpath. */
static int
crl_first(struct pki_ca *ca)
{
	X509V3_CTX ctx;
	X509_EXTENSION *akid = NULL;
	int rc = -1;

	if ((ca->crl = X509_CRL_new()) == NULL ||
	    X509_CRL_set_version(ca->crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(ca->crl,
	    X509_get_subject_name(ca->crt)) != 1)
		goto ossl;
	X509V3_set_ctx(&ctx, ca->crt, NULL, NULL, ca->crl, 0);
	if ((akid = X509V3_EXT_nconf_nid(NULL, &ctx,
	    NID_authority_key_identifier, "keyid:always")) == NULL ||
	    X509_CRL_add_ext(ca->crl, akid, -1) != 1)
		goto ossl;
	if (pki_crl_sign(ca->crl, ca, 1) == 0)
		rc = pki_write_crl(ca->crlpath, ca->crl, 0);
	goto out;
ossl:
	pki_ossl_err(PP_EINTERNAL, "cannot make the CRL");
out:
	X509_EXTENSION_free(akid);
	return (rc);
}

/*
 * Refuse if any of the ${n} files ${names} already exists in ${dir}: a
 * ${what} is never replaced, nor completed from someone else's parts.
 */
static int
files_absent(const char *dir, const char *const *names, size_t n,
    const char *what)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		if (fileio_join(path, sizeof(path), dir, names[i]) != 0)
			return (-1);
		if (access(path, F_OK) == 0) {
			pp_err(PP_EEXIST, "%s already exists in %s (%s); it is "
			    "never replaced", what, dir, names[i]);
			return (-1);
		}
	}
	return (0);
}

int
pki_ca_init(const char *dir, const char *pair, int days)
{
	static const char *const names[] = { PKI_CA_KEY, PKI_CA_CRT,
	    PKI_CA_CRL };
	struct pki_ca ca;
	int rc = -1;

	memset(&ca, 0, sizeof(ca));
	if (util_token_ok(pair, PKI_PAIR_MAX, "pair name") != 0 ||
	    days_ok(days, PKI_CA_DAYS_MAX) != 0 || fileio_mkdir(dir) != 0 ||
	    files_absent(dir, names, 3, "a CA") != 0 ||
	    fileio_join(ca.crlpath, sizeof(ca.crlpath), dir, PKI_CA_CRL) != 0)
		return (-1);
	if ((ca.key = pki_keygen("ED25519")) == NULL ||
	    (ca.crt = cert_new(pair, ca.key, days)) == NULL)
		goto out;
	if (X509_set_issuer_name(ca.crt, X509_get_subject_name(ca.crt)) != 1) {
		pki_ossl_err(PP_EINTERNAL, "cannot make the CA certificate");
		goto out;
	}
	if (cert_ext(ca.crt, ca.crt, NID_basic_constraints,
	    "critical,CA:TRUE") != 0 ||
	    cert_ext(ca.crt, ca.crt, NID_key_usage,
	    "critical,keyCertSign,cRLSign") != 0 ||
	    cert_ext(ca.crt, ca.crt, NID_subject_key_identifier, "hash") != 0 ||
	    cert_sign(ca.crt, ca.key) != 0)
		goto out;
	/* The key first: a crash after it leaves a CA that refuses init. */
	if (pki_write_key(dir, PKI_CA_KEY, ca.key) != 0 ||
	    pki_write_cert(dir, PKI_CA_CRT, ca.crt) != 0 || crl_first(&ca) != 0)
		goto out;
	rc = 0;
out:
	pki_ca_close(&ca);
	return (rc);
}

/* The identity certificate of ${fqdn} for ${id}, carrying ${seal}. */
static X509 *
identity_cert(const struct pki_ca *ca, const char *fqdn, EVP_PKEY *id,
    EVP_PKEY *seal, int days)
{
	char san[PP_FQDN_MAX + 5];
	X509 *x;

	snprintf(san, sizeof(san), "DNS:%s", fqdn);
	if ((x = cert_new(fqdn, id, days)) == NULL)
		return (NULL);
	if (X509_set_issuer_name(x, X509_get_subject_name(ca->crt)) != 1) {
		pki_ossl_err(PP_EINTERNAL, "cannot make a certificate");
		goto err;
	}
	if (cert_ext(x, ca->crt, NID_basic_constraints, "critical,CA:FALSE") ||
	    cert_ext(x, ca->crt, NID_key_usage,
	    "critical,digitalSignature") ||
	    cert_ext(x, ca->crt, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    cert_ext(x, ca->crt, NID_subject_alt_name, san) ||
	    cert_ext(x, ca->crt, NID_subject_key_identifier, "hash") ||
	    cert_ext(x, ca->crt, NID_authority_key_identifier,
	    "keyid:always") ||
	    cert_ext_seal(x, seal) || cert_sign(x, ca->key))
		goto err;
	return (x);

err:
	X509_free(x);
	return (NULL);
}

int
pki_issue(const char *cadir, const char *fqdn, const char *outdir, int days)
{
	static const char *const names[] = { PKI_ID_KEY, PKI_SEAL_KEY,
	    PKI_ID_CRT };
	struct pki_ca ca;
	EVP_PKEY *id = NULL, *seal = NULL;
	X509 *x = NULL;
	int rc = -1;

	if (util_fqdn_ok(fqdn) != 0 || days_ok(days, PKI_CERT_DAYS_MAX) != 0)
		return (-1);
	if (pki_ca_open(cadir, &ca) != 0)
		return (-1);
	if (fileio_mkdir(outdir) != 0 ||
	    files_absent(outdir, names, 3, "an identity") != 0 ||
	    (id = pki_keygen("ED25519")) == NULL ||
	    (seal = pki_keygen("X25519")) == NULL ||
	    (x = identity_cert(&ca, fqdn, id, seal, days)) == NULL)
		goto out;
	if (pki_write_key(outdir, PKI_ID_KEY, id) != 0 ||
	    pki_write_key(outdir, PKI_SEAL_KEY, seal) != 0 ||
	    pki_write_cert(outdir, PKI_ID_CRT, x) != 0)
		goto out;
	rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(seal);
	EVP_PKEY_free(id);
	pki_ca_close(&ca);
	return (rc);
}
