/*
 * pki_check.c: reading and checking certificates: the chain to the pair CA
 * with the CRL, names, key and signature strength, the seal public key, and
 * what "pki show" prints (see pki.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "pki_int.h"
#include "util.h"

int
pki_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		pp_err(PP_EKEY, "malformed time in a certificate or CRL");
		return (-1);
	}
	*out = (int64_t)timegm(&tm);
	return (0);
}

/*
 * Copy ${s} to ${out} (${outlen} bytes, at least 4) for printing: bytes
 * outside printable ASCII become '?', and a string too long ends in "...".
 */
static void
str_print(char *out, size_t outlen, const ASN1_STRING *s)
{
	const unsigned char *p = ASN1_STRING_get0_data(s);
	size_t len = (size_t)ASN1_STRING_length(s), i;

	for (i = 0; i < len && i + 1 < outlen; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[i] = '\0';
	if (i < len)
		memcpy(out + outlen - 4, "...", 4);
}

/* The CN of ${name}, printable, into ${out} ("" if it has none). */
static void
name_cn(const X509_NAME *name, char *out, size_t outlen)
{
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);

	out[0] = '\0';
	if (i >= 0)
		str_print(out, outlen, X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(name, i)));
}

int
pki_cert_seal_pub(X509 *cert, uint8_t out[static PKI_SEAL_PUB_LEN])
{
	ASN1_OBJECT *obj;
	ASN1_OCTET_STRING *in = NULL;
	const ASN1_OCTET_STRING *val;
	const unsigned char *p;
	int i, again, rc = -1;

	if ((obj = pki_seal_obj()) == NULL)
		return (-1);
	i = X509_get_ext_by_OBJ(cert, obj, -1);
	again = i >= 0 ? X509_get_ext_by_OBJ(cert, obj, i) : -1;
	ASN1_OBJECT_free(obj);
	if (i < 0 || again >= 0) {
		pp_err(PP_EKEY, "the certificate carries %s seal public key "
		    "(extension %s)", i < 0 ? "no" : "more than one",
		    PKI_SEAL_OID);
		return (-1);
	}
	val = X509_EXTENSION_get_data(X509_get_ext(cert, i));
	p = ASN1_STRING_get0_data(val);
	/* The value is exactly one DER OCTET STRING of 32 bytes. */
	if ((in = d2i_ASN1_OCTET_STRING(NULL, &p,
	    ASN1_STRING_length(val))) == NULL ||
	    p != ASN1_STRING_get0_data(val) + ASN1_STRING_length(val) ||
	    ASN1_STRING_length(in) != PKI_SEAL_PUB_LEN) {
		ERR_clear_error();
		pp_err(PP_EKEY, "the certificate's seal public key (extension "
		    "%s) is malformed", PKI_SEAL_OID);
	} else {
		memcpy(out, ASN1_STRING_get0_data(in), PKI_SEAL_PUB_LEN);
		rc = 0;
	}
	ASN1_OCTET_STRING_free(in);
	return (rc);
}

/*
 * Check that ${x} (named ${who}) has an Ed25519 or ECDSA P-256, P-384 or
 * P-521 key and a signature of at least 128-bit strength.
 */
static int
strength_ok(X509 *x, const char *who)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	char group[64];
	int nid = NID_undef, secbits = 0;
	uint32_t flags;

	if (k != NULL && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	    EVP_PKEY_get_group_name(k, group, sizeof(group), NULL) == 1)
		nid = OBJ_sn2nid(group);
	if (k == NULL || (EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519 &&
	    nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 &&
	    nid != NID_secp521r1)) {
		ERR_clear_error();
		pp_err(PP_EKEY, "%s has a weak or unsupported key type (%s); "
		    "poolpair wants Ed25519 or ECDSA P-256 or larger", who,
		    k != NULL ? EVP_PKEY_get0_type_name(k) : "none");
		return (-1);
	}
	if (X509_get_signature_info(x, NULL, NULL, &secbits, &flags) != 1 ||
	    secbits < 128) {
		ERR_clear_error();
		pp_err(PP_EKEY, "%s is signed with an algorithm weaker than "
		    "SHA-256", who);
		return (-1);
	}
	return (0);
}

/* Verify the chain of ${cert} (named ${who}) to ${ca}, with ${crl}. */
static int
chain_ok(X509 *ca, X509_CRL *crl, X509 *cert, const char *who, time_t when)
{
	X509_STORE *st;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *vp;
	int rc = -1;

	if ((st = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_add_cert(st, ca) != 1 ||
	    (crl != NULL && X509_STORE_add_crl(st, crl) != 1) ||
	    X509_STORE_CTX_init(ctx, st, cert, NULL) != 1) {
		pki_ossl_err(PP_EINTERNAL, "cannot set up certificate checks");
		goto out;
	}
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT |
	    (crl != NULL ? X509_V_FLAG_CRL_CHECK : 0));
	X509_VERIFY_PARAM_set_auth_level(vp, 3);
	X509_VERIFY_PARAM_set_time(vp, when);
	if (X509_verify_cert(ctx) != 1) {
		ERR_clear_error();
		pp_err(PP_EKEY, "%s is refused: %s", who,
		    X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return (rc);
}

int
pki_verify_at(X509 *ca, X509_CRL *crl, X509 *cert, const char *fqdn,
    time_t when)
{
	char cn[128], who[160];

	name_cn(X509_get_subject_name(cert), cn, sizeof(cn));
	snprintf(who, sizeof(who), "certificate '%s'", cn);
	if (strength_ok(ca, "the pair CA certificate") != 0 ||
	    strength_ok(cert, who) != 0)
		return (-1);
	if (X509_check_ca(cert) != 0) {
		pp_err(PP_EKEY, "%s is a CA certificate, not a pool's", who);
		return (-1);
	}
	if (chain_ok(ca, crl, cert, who, when) != 0)
		return (-1);
	if (X509_check_host(cert, fqdn, strlen(fqdn),
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_WILDCARDS,
	    NULL) != 1) {
		ERR_clear_error();
		pp_err(PP_EKEY, "%s does not name %.253s in its "
		    "subjectAltName", who, fqdn);
		return (-1);
	}
	return (0);
}

int
pki_verify(X509 *ca, X509_CRL *crl, X509 *cert, const char *fqdn)
{

	return (pki_verify_at(ca, crl, cert, fqdn, time(NULL)));
}

int
pki_crl_check(X509 *ca, X509_CRL *crl, int current)
{
	int64_t next;

	if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(ca)) != 0 ||
	    X509_CRL_verify(crl, X509_get0_pubkey(ca)) != 1) {
		ERR_clear_error();
		pp_err(PP_EKEY, "the CRL is not signed by the pair CA");
		return (-1);
	}
	if (!current)
		return (0);
	if (X509_CRL_get0_nextUpdate(crl) == NULL ||
	    pki_time(X509_CRL_get0_nextUpdate(crl), &next) != 0 ||
	    next < (int64_t)time(NULL)) {
		pp_err(PP_EKEY, "the CRL has expired (or has no nextUpdate): "
		    "sign it again with 'poolpair pki crl'");
		return (-1);
	}
	return (0);
}

int
pki_cert_pair(X509 *ca, char out[static PKI_PAIR_MAX + 1])
{
	const X509_NAME *name = X509_get_subject_name(ca);
	const ASN1_STRING *s;
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);

	if (i < 0 || (s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name,
	    i))) == NULL || ASN1_STRING_length(s) < 1 ||
	    ASN1_STRING_length(s) > PKI_PAIR_MAX) {
		pp_err(PP_EKEY, "the pair CA certificate has no valid pair "
		    "name (CN)");
		return (-1);
	}
	memcpy(out, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	out[ASN1_STRING_length(s)] = '\0';
	if (util_token_ok(out, PKI_PAIR_MAX, "the pair name (CA CN)") != 0) {
		pp_err_reclass(PP_EKEY);
		return (-1);
	}
	return (0);
}

int
pki_cert_fingerprint(X509 *cert, uint8_t out[static PKI_FPR_LEN])
{
	unsigned int len = PKI_FPR_LEN;

	if (X509_digest(cert, EVP_sha256(), out, &len) != 1 ||
	    len != PKI_FPR_LEN) {
		pki_ossl_err(PP_EINTERNAL, "cannot hash a certificate");
		return (-1);
	}
	return (0);
}

int
pki_days_left(X509 *cert, int *days)
{
	int64_t end, secs;

	if (pki_time(X509_get0_notAfter(cert), &end) != 0)
		return (-1);
	/* Rounded down: a certificate that expired an hour ago has -1. */
	secs = end - (int64_t)time(NULL);
	*days = (int)(secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400));
	return (0);
}

/* ${cert}'s serial as lowercase hex into ${out} (41 bytes). */
static int
serial_hex(X509 *cert, char out[static 2 * 20 + 1])
{
	const ASN1_INTEGER *a = X509_get0_serialNumber(cert);
	uint8_t buf[20];
	BIGNUM *bn;
	int n = -1;

	if ((bn = ASN1_INTEGER_to_BN(a, NULL)) != NULL &&
	    !BN_is_negative(bn) && BN_num_bytes(bn) <= (int)sizeof(buf))
		n = BN_bn2bin(bn, buf);
	BN_free(bn);
	if (n < 0) {
		ERR_clear_error();
		pp_err(PP_EKEY, "the certificate's serial number is malformed");
		return (-1);
	}
	util_hex(out, buf, (size_t)n);
	return (0);
}

/* The DNS subjectAltNames of ${cert}, ", "-separated, into ${out}. */
static void
san_list(X509 *cert, char *out, size_t outlen)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	char one[256];
	size_t len = 0;
	int i;

	out[0] = '\0';
	if ((gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL,
	    NULL)) == NULL)
		return;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		str_print(one, sizeof(one), g->d.dNSName);
		len += (size_t)snprintf(out + len, outlen - len, "%s%s",
		    len > 0 ? ", " : "", one);
		if (len >= outlen) {
			memcpy(out + outlen - 4, "...", 4);
			break;
		}
	}
	GENERAL_NAMES_free(gens);
}

int
pki_cert_info(X509 *cert, struct pki_cert_info *info)
{
	ASN1_OBJECT *obj;

	memset(info, 0, sizeof(*info));
	name_cn(X509_get_subject_name(cert), info->subject,
	    sizeof(info->subject));
	name_cn(X509_get_issuer_name(cert), info->issuer, sizeof(info->issuer));
	san_list(cert, info->san, sizeof(info->san));
	info->is_ca = X509_check_ca(cert) != 0;
	if ((obj = pki_seal_obj()) == NULL)
		return (-1);
	info->has_seal = X509_get_ext_by_OBJ(cert, obj, -1) >= 0;
	ASN1_OBJECT_free(obj);
	if (serial_hex(cert, info->serial) != 0 ||
	    pki_time(X509_get0_notBefore(cert), &info->not_before) != 0 ||
	    pki_time(X509_get0_notAfter(cert), &info->not_after) != 0 ||
	    pki_days_left(cert, &info->days_left) != 0 ||
	    pki_cert_fingerprint(cert, info->fingerprint) != 0 ||
	    (info->has_seal && pki_cert_seal_pub(cert, info->seal_pub) != 0))
		return (-1);
	return (0);
}
