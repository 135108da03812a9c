/*
 * pki_crl.c: the pair CA's revocation list: signing it, revoking a pool's
 * certificate and refreshing the list's dates (see pki.h).
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "pki_int.h"
#include "util.h"

int
pki_crl_sign(X509_CRL *crl, const struct pki_ca *ca, long number)
{
	ASN1_TIME *now = NULL, *next = NULL;
	ASN1_INTEGER *num = NULL;
	int rc = -1;

	if ((now = X509_gmtime_adj(NULL, 0)) == NULL ||
	    (next = X509_time_adj_ex(NULL, PKI_CRL_DAYS, 0, NULL)) == NULL ||
	    (num = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set(num, number) != 1 ||
	    X509_CRL_set1_lastUpdate(crl, now) != 1 ||
	    X509_CRL_set1_nextUpdate(crl, next) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0,
	    X509V3_ADD_REPLACE) != 1 ||
	    X509_CRL_sort(crl) != 1 ||
	    X509_CRL_sign(crl, ca->key, NULL) <= 0)
		pki_ossl_err(PP_EINTERNAL, "cannot sign the CRL");
	else
		rc = 0;
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(next);
	ASN1_TIME_free(now);
	return (rc);
}

/* The number of ${crl} (1 for a list without one).  -1 if unusable. */
static long
crl_number(X509_CRL *crl)
{
	ASN1_INTEGER *num;
	long n = 1;
	int crit;

	if ((num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit,
	    NULL)) != NULL) {
		n = ASN1_INTEGER_get(num);
		ASN1_INTEGER_free(num);
	} else if (crit != -1) {
		n = -1;
	}
	if (n < 1 || n >= 0x7fffffffL) {
		ERR_clear_error();
		pp_err(PP_EKEY, "the CRL's number is malformed or exhausted");
		return (-1);
	}
	return (n);
}

/* Sign ${ca}'s CRL again with the next number and replace its file. */
static int
crl_resign(struct pki_ca *ca)
{
	long n;

	if ((n = crl_number(ca->crl)) < 0 ||
	    pki_crl_sign(ca->crl, ca, n + 1) != 0)
		return (-1);
	return (pki_write_crl(ca->crlpath, ca->crl, 1));
}

/* Check that ${ca} issued ${x} (read from ${path}), which is not ${ca}'s. */
static int
issued_by(const struct pki_ca *ca, X509 *x, const char *path)
{

	if (X509_cmp(x, ca->crt) == 0) {
		pp_err(PP_EINVAL, "%s is the CA's own certificate", path);
		return (-1);
	}
	if (X509_check_issued(ca->crt, x) != X509_V_OK ||
	    X509_verify(x, ca->key) != 1) {
		ERR_clear_error();
		pp_err(PP_EKEY, "%s was not issued by this CA", path);
		return (-1);
	}
	return (0);
}

/* Append ${x}'s serial to ${crl}, revoked now. */
static int
crl_add(X509_CRL *crl, X509 *x)
{
	X509_REVOKED *r;
	ASN1_TIME *now = NULL;

	if ((r = X509_REVOKED_new()) == NULL ||
	    (now = X509_gmtime_adj(NULL, 0)) == NULL ||
	    X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(x)) != 1 ||
	    X509_REVOKED_set_revocationDate(r, now) != 1 ||
	    X509_CRL_add0_revoked(crl, r) != 1) {
		pki_ossl_err(PP_EINTERNAL, "cannot add to the CRL");
		X509_REVOKED_free(r);
		ASN1_TIME_free(now);
		return (-1);
	}
	ASN1_TIME_free(now);
	return (0);
}

int
pki_revoke(const char *cadir, const char *certpath)
{
	struct pki_ca ca;
	X509_REVOKED *old;
	X509 *x = NULL;
	char when[32];
	int64_t t;
	int rc = -1;

	if ((x = pki_load_cert(certpath)) == NULL)
		return (-1);
	if (pki_ca_open(cadir, &ca) != 0)
		goto out0;
	if (issued_by(&ca, x, certpath) != 0)
		goto out;
	if (X509_CRL_get0_by_serial(ca.crl, &old,
	    X509_get0_serialNumber(x)) == 1) {
		if (pki_time(X509_REVOKED_get0_revocationDate(old), &t) != 0)
			t = 0;
		util_time_fmt(when, sizeof(when), t);
		pp_err(PP_EEXIST, "%s was already revoked on %s; the CRL is "
		    "unchanged", certpath, when);
		goto out;
	}
	if (crl_add(ca.crl, x) != 0 || crl_resign(&ca) != 0)
		goto out;
	rc = 0;
out:
	pki_ca_close(&ca);
out0:
	X509_free(x);
	return (rc);
}

int
pki_crl_refresh(const char *cadir)
{
	struct pki_ca ca;
	int rc;

	if (pki_ca_open(cadir, &ca) != 0)
		return (-1);
	rc = crl_resign(&ca);
	pki_ca_close(&ca);
	return (rc);
}
