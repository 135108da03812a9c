/*
 * pki.h: the pair's PKI on OpenSSL 3: a pair CA (Ed25519, self-signed, with a
 * CRL), pool identities it issues (an Ed25519 identity key and certificate
 * that also carries the pool's X25519 seal public key in a private
 * extension), revocation, and the loaders and checks the rest of poolpair
 * uses.  docs/pki.md describes the files, the algorithms and the checks.
 *
 * Every function records one line with pp_err (err.h) on failure: PP_EINVAL
 * for a bad argument, PP_EEXIST for a CA or identity that already exists or a
 * certificate already revoked, PP_EIO for a missing or unreadable file,
 * PP_ELIMIT for a file over its bound, PP_EKEY for a key or certificate that
 * is loose, weak, malformed, foreign, revoked or expired.
 */
#ifndef PP_PKI_H
#define PP_PKI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define PKI_PAIR_MAX		64	/* pair name: 1..64 of [A-Za-z0-9._-] */
#define PKI_SEAL_PUB_LEN	32	/* an X25519 public key */
#define PKI_FPR_LEN		32	/* SHA-256 of a certificate's DER */

#define PKI_CA_DAYS		3650	/* the CA's default validity */
#define PKI_CA_DAYS_MAX		7300
#define PKI_CERT_DAYS		397	/* an identity's default validity */
#define PKI_CERT_DAYS_MAX	825
#define PKI_CRL_DAYS		365	/* each CRL's nextUpdate, from signing */

#define PKI_KEY_MAX		(16 << 10)	/* a PEM private key file */
#define PKI_CERT_MAX		(64 << 10)	/* a PEM certificate file */
#define PKI_CRL_MAX		(1 << 20)	/* a PEM CRL file */

/* The seal public key extension: a UUID OID under 2.25 (ITU-T X.667). */
#define PKI_SEAL_OID	"2.25.197990707349690566604699266414521132983"

/* File names in a CA directory and in an identity directory. */
#define PKI_CA_KEY	"ca.key"
#define PKI_CA_CRT	"ca.crt"
#define PKI_CA_CRL	"ca.crl"
#define PKI_ID_KEY	"identity.key"
#define PKI_ID_CRT	"identity.crt"
#define PKI_SEAL_KEY	"seal.key"

/*
 * Create the pair CA for pair ${pair} in ${dir} (made 0700 if missing):
 * ca.key (Ed25519, PKCS#8 PEM, 0600), ca.crt (self-signed, CN=${pair},
 * valid ${days} days, 1..PKI_CA_DAYS_MAX) and ca.crl (empty, CRL number 1).
 * An existing ca.key, ca.crt or ca.crl is never replaced (PP_EEXIST).
 * Returns 0 or -1.
 */
int pki_ca_init(const char *dir, const char *pair, int days);

/*
 * Issue the identity of pool ${fqdn} with the CA in ${cadir} into ${outdir}
 * (made 0700 if missing): identity.key (Ed25519, 0600), seal.key (X25519,
 * 0600) and identity.crt (CN and DNS SAN ${fqdn}, serverAuth and
 * clientAuth, the seal public key in the PKI_SEAL_OID extension, valid from
 * 5 minutes ago for ${days} days, 1..PKI_CERT_DAYS_MAX).  Existing files in
 * ${outdir} are never replaced (PP_EEXIST).  Returns 0 or -1.
 */
int pki_issue(const char *cadir, const char *fqdn, const char *outdir,
    int days);

/*
 * Revoke the certificate in file ${certpath}, which the CA in ${cadir} must
 * have issued: its serial goes into ca.crl with the current time, beside
 * those revoked before, the CRL number grows by one and the CRL is signed
 * again (valid PKI_CRL_DAYS) and replaced atomically.  A certificate already
 * on the CRL is refused with PP_EEXIST and the CRL left as it was.
 * Returns 0 or -1.
 */
int pki_revoke(const char *cadir, const char *certpath);

/*
 * Sign ca.crl of the CA in ${cadir} again with the same entries, the next
 * CRL number and a fresh nextUpdate (PKI_CRL_DAYS from now).  Returns 0 or
 * -1.
 */
int pki_crl_refresh(const char *cadir);

/*
 * Load the PEM private key in ${path}, which must be a regular file of at
 * most PKI_KEY_MAX bytes, owned by this user, with no group or other
 * permission bits, and hold an unencrypted key of ${type} (EVP_PKEY_ED25519
 * or EVP_PKEY_X25519).  Returns the key (caller frees with EVP_PKEY_free) or
 * NULL.
 */
EVP_PKEY *pki_load_key(const char *path, int type);

/* Load the PEM certificate in ${path} (at most PKI_CERT_MAX bytes).  Returns
 * it (caller frees with X509_free) or NULL. */
X509 *pki_load_cert(const char *path);

/* Load the PEM CRL in ${path} (at most PKI_CRL_MAX bytes).  Returns it
 * (caller frees with X509_CRL_free) or NULL. */
X509_CRL *pki_load_crl(const char *path);

/*
 * Copy the X25519 seal public key carried by ${cert} into ${out}.  Returns
 * 0, or -1 (PP_EKEY) if the extension is absent, repeated or malformed.
 */
int pki_cert_seal_pub(X509 *cert, uint8_t out[static PKI_SEAL_PUB_LEN]);

/*
 * Check ${cert}: it is an end-entity certificate that chains to the pair
 * CA ${ca}, is within its validity, is not on ${crl} (which must be the
 * CA's and current; NULL skips revocation), names ${fqdn} in its DNS
 * subjectAltName, and both it and ${ca} use Ed25519 or ECDSA P-256 or
 * larger keys with signatures of at least 128-bit strength (SHA-256).  The
 * error names the reason.  Returns 0 or -1 (PP_EKEY).
 */
int pki_verify(X509 *ca, X509_CRL *crl, X509 *cert, const char *fqdn);

/* As pki_verify, at time ${when} instead of now (tests, expiry warnings). */
int pki_verify_at(X509 *ca, X509_CRL *crl, X509 *cert, const char *fqdn,
    time_t when);

/*
 * Check that ${crl} was issued and signed by the pair CA ${ca} and, if
 * ${current} is nonzero, that its nextUpdate has not passed.  Returns 0 or
 * -1 (PP_EKEY).
 */
int pki_crl_check(X509 *ca, X509_CRL *crl, int current);

/*
 * Write the pair name (the CN of the CA certificate ${ca}) to ${out}.
 * Returns 0, or -1 (PP_EKEY) if the CN is missing or not a valid name.
 */
int pki_cert_pair(X509 *ca, char out[static PKI_PAIR_MAX + 1]);

/* SHA-256 of ${cert}'s DER encoding into ${out}.  Returns 0 or -1. */
int pki_cert_fingerprint(X509 *cert, uint8_t out[static PKI_FPR_LEN]);

/*
 * Whole days from now until ${cert}'s notAfter into ${days} (negative once
 * it has expired).  Returns 0 or -1.
 */
int pki_days_left(X509 *cert, int *days);

/* What "pki show" prints of a certificate. */
struct pki_cert_info {
	char subject[256];	/* the subject's CN ("" if none) */
	char issuer[256];	/* the issuer's CN */
	char san[512];		/* DNS subjectAltNames, ", "-separated */
	char serial[2 * 20 + 1];	/* lowercase hex */
	int64_t not_before, not_after;	/* seconds since the epoch */
	int days_left;
	int is_ca;
	int has_seal;		/* seal_pub holds the extension's key */
	uint8_t seal_pub[PKI_SEAL_PUB_LEN];
	uint8_t fingerprint[PKI_FPR_LEN];
};

/* Fill ${info} from ${cert}.  Returns 0 or -1 (PP_EKEY). */
int pki_cert_info(X509 *cert, struct pki_cert_info *info);

#endif
