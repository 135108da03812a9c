/*
 * pki_int.h: what the pki*.c files share and nothing else may use: PEM file
 * writers, the opened CA, CRL signing and OpenSSL error reporting.
 */
#ifndef PP_PKI_INT_H
#define PP_PKI_INT_H

#include <limits.h>

#include "err.h"
#include "pki.h"

/* An opened pair CA: its key, certificate and CRL (see pki_ca_open). */
struct pki_ca {
	EVP_PKEY *key;
	X509 *crt;
	X509_CRL *crl;
	char crlpath[PATH_MAX];
};

/*
 * Open the CA in ${dir} into ${ca}: ca.key (a private Ed25519 key file),
 * ca.crt (whose public key it must be) and ca.crl (signed by that key).
 * Returns 0, or -1 with ${ca} left empty.
 */
int pki_ca_open(const char *dir, struct pki_ca *ca);

/* Free what ${ca} holds; an empty ${ca} is fine. */
void pki_ca_close(struct pki_ca *ca);

/*
 * Date ${crl} (lastUpdate now, nextUpdate PKI_CRL_DAYS on), set its CRL
 * number to ${number} and sign it with ${ca}'s key.  Returns 0 or -1.
 */
int pki_crl_sign(X509_CRL *crl, const struct pki_ca *ca, long number);

/*
 * Write ${key} as unencrypted PKCS#8 PEM to "${dir}/${name}", mode 0600,
 * never replacing a file.  Returns 0 or -1.
 */
int pki_write_key(const char *dir, const char *name, EVP_PKEY *key);

/* Write ${x} as PEM to "${dir}/${name}", mode 0644, never replacing. */
int pki_write_cert(const char *dir, const char *name, X509 *x);

/* Write ${crl} as PEM to ${path}, mode 0644, replacing it if ${replace}. */
int pki_write_crl(const char *path, X509_CRL *crl, int replace);

/* A new Ed25519 or X25519 key (${alg} "ED25519" or "X25519"), or NULL. */
EVP_PKEY *pki_keygen(const char *alg);

/* The seal extension's OID as a new object (caller frees), or NULL. */
ASN1_OBJECT *pki_seal_obj(void);

/* ${t} in seconds since the epoch into ${out}.  Returns 0 or -1 (PP_EKEY). */
int pki_time(const ASN1_TIME *t, int64_t *out);

/*
 * Record ${code} with "${what}" and the reason of OpenSSL's first queued
 * error, then empty the queue.
 */
void pki_ossl_err(enum pp_err code, const char *what);

#endif
