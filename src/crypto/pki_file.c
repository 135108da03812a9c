/*
 * pki_file.c: the PKI's files: bounded PEM loaders for keys, certificates and
 * CRLs, atomic PEM writers, and opening a CA directory (see pki.h and
 * pki_int.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "err.h"
#include "fileio.h"
#include "pki_int.h"

void
pki_ossl_err(enum pp_err code, const char *what)
{
	unsigned long e = ERR_peek_error();
	const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;

	pp_err(code, "%s%s%s", what, why != NULL ? ": " : "",
	    why != NULL ? why : "");
	ERR_clear_error();
}

/* Never prompt for a pass phrase: poolpair's keys are not encrypted. */
static int
no_pass(char *buf, int size, int rwflag, void *u)
{

	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return (-1);
}

/* A memory BIO over ${buf}/${len}, or NULL. */
static BIO *
mem_bio(const uint8_t *buf, size_t len)
{
	BIO *b = NULL;

	if (len <= INT_MAX)
		b = BIO_new_mem_buf(buf, (int)len);
	if (b == NULL)
		pp_err(PP_EINTERNAL, "out of memory");
	return (b);
}

/* The PEM decoders pem_load uses. */
static void *
dec_key(BIO *b)
{

	return (PEM_read_bio_PrivateKey_ex(b, NULL, no_pass, NULL, NULL,
	    NULL));
}

static void *
dec_cert(BIO *b)
{

	return (PEM_read_bio_X509(b, NULL, no_pass, NULL));
}

static void *
dec_crl(BIO *b)
{

	return (PEM_read_bio_X509_CRL(b, NULL, no_pass, NULL));
}

/*
 * Read file ${path} (a ${what}: at most ${max} bytes, fileio ${flags}) and
 * decode it with ${dec}, which should find ${pem} in it.  Returns the new
 * object or NULL.  The file's bytes are wiped once decoded.
 */
static void *
pem_load(const char *path, size_t max, int flags, const char *what,
    void *(*dec)(BIO *), const char *pem)
{
	void *obj = NULL;
	uint8_t *buf;
	size_t len;
	BIO *b;

	if (fileio_read(path, max, flags, &buf, &len, what) != 0)
		return (NULL);
	if ((b = mem_bio(buf, len)) != NULL) {
		if ((obj = dec(b)) == NULL) {
			ERR_clear_error();
			pp_err(PP_EKEY, "%s %s holds no %s", what, path, pem);
		}
		BIO_free(b);
	}
	fileio_free(buf, len);
	return (obj);
}

EVP_PKEY *
pki_load_key(const char *path, int type)
{
	EVP_PKEY *k;

	if ((k = pem_load(path, PKI_KEY_MAX, FILEIO_SECRET, "key file",
	    dec_key, "unencrypted PEM private key")) == NULL)
		return (NULL);
	if (EVP_PKEY_get_base_id(k) != type) {
		pp_err(PP_EKEY, "key file %s: weak or unsupported key type %s "
		    "(poolpair wants %s here)", path, EVP_PKEY_get0_type_name(k),
		    type == EVP_PKEY_X25519 ? "X25519" : "ED25519");
		EVP_PKEY_free(k);
		return (NULL);
	}
	return (k);
}

X509 *
pki_load_cert(const char *path)
{

	return (pem_load(path, PKI_CERT_MAX, 0, "certificate", dec_cert,
	    "PEM certificate"));
}

X509_CRL *
pki_load_crl(const char *path)
{

	return (pem_load(path, PKI_CRL_MAX, 0, "CRL", dec_crl, "PEM CRL"));
}

/* Write what ${b} holds to ${path} (see fileio_write), then free ${b}. */
static int
bio_to_file(BIO *b, const char *path, mode_t mode, int replace)
{
	BUF_MEM *bm;
	int rc = -1;

	if (BIO_get_mem_ptr(b, &bm) != 1 || bm == NULL)
		pp_err(PP_EINTERNAL, "PEM encoding failed");
	else
		rc = fileio_write(path, bm->data, bm->length, mode, replace);
	/* A secure-memory BIO's buffer is wiped as it is freed. */
	BIO_free(b);
	return (rc);
}

int
pki_write_key(const char *dir, const char *name, EVP_PKEY *key)
{
	char path[PATH_MAX];
	BIO *b;

	if (fileio_join(path, sizeof(path), dir, name) != 0)
		return (-1);
	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(b);
		pki_ossl_err(PP_EINTERNAL, "cannot encode a private key");
		return (-1);
	}
	return (bio_to_file(b, path, 0600, 0));
}

int
pki_write_cert(const char *dir, const char *name, X509 *x)
{
	char path[PATH_MAX];
	BIO *b;

	if (fileio_join(path, sizeof(path), dir, name) != 0)
		return (-1);
	if ((b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(b, x) !=
	    1) {
		BIO_free(b);
		pki_ossl_err(PP_EINTERNAL, "cannot encode a certificate");
		return (-1);
	}
	return (bio_to_file(b, path, 0644, 0));
}

int
pki_write_crl(const char *path, X509_CRL *crl, int replace)
{
	BIO *b;

	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_CRL(b, crl) != 1) {
		BIO_free(b);
		pki_ossl_err(PP_EINTERNAL, "cannot encode a CRL");
		return (-1);
	}
	return (bio_to_file(b, path, 0644, replace));
}

int
pki_ca_open(const char *dir, struct pki_ca *ca)
{
	char path[PATH_MAX];

	memset(ca, 0, sizeof(*ca));
	if (fileio_join(path, sizeof(path), dir, PKI_CA_KEY) != 0 ||
	    (ca->key = pki_load_key(path, EVP_PKEY_ED25519)) == NULL)
		goto err;
	if (fileio_join(path, sizeof(path), dir, PKI_CA_CRT) != 0 ||
	    (ca->crt = pki_load_cert(path)) == NULL)
		goto err;
	if (X509_check_private_key(ca->crt, ca->key) != 1) {
		ERR_clear_error();
		pp_err(PP_EKEY, "%s is not the certificate of %s/%s", path,
		    dir, PKI_CA_KEY);
		goto err;
	}
	if (fileio_join(ca->crlpath, sizeof(ca->crlpath), dir,
	    PKI_CA_CRL) != 0 || (ca->crl = pki_load_crl(ca->crlpath)) == NULL)
		goto err;
	/* An expired CRL is fine here: signing it again renews it. */
	if (pki_crl_check(ca->crt, ca->crl, 0) != 0)
		goto err;
	return (0);

err:
	pki_ca_close(ca);
	return (-1);
}

void
pki_ca_close(struct pki_ca *ca)
{

	EVP_PKEY_free(ca->key);
	X509_free(ca->crt);
	X509_CRL_free(ca->crl);
	memset(ca, 0, sizeof(*ca));
}
