/* test_pki.c: the pair CA, issuing, revocation and certificate checks (pki.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "unit.h"
#include "unit_pki.h"

/* Load certificate ${rel} of the fixture; the caller frees it. */
static X509 *
cert(struct pki_fx *f, const char *rel)
{
	X509 *x = pki_load_cert(fx_path(f, rel));

	if (x == NULL)
		fail_msg("cannot load %s: %s", rel, pp_errmsg());
	return (x);
}

static X509_CRL *
crl(struct pki_fx *f, const char *rel)
{
	X509_CRL *c = pki_load_crl(fx_path(f, rel));

	if (c == NULL)
		fail_msg("cannot load %s: %s", rel, pp_errmsg());
	return (c);
}

/* The mode bits of ${rel}. */
static unsigned
mode_of(struct pki_fx *f, const char *rel)
{
	struct stat sb;

	assert_int_equal(stat(fx_path(f, rel), &sb), 0);
	return ((unsigned)(sb.st_mode & 07777));
}

/* pki_verify(${ca}, ${c}, ${x}, ${fqdn}) must fail saying ${want}. */
static void
expect_verify_refused(X509 *ca, X509_CRL *c, X509 *x, const char *fqdn,
    const char *want)
{

	pp_err_clear();
	if (pki_verify(ca, c, x, fqdn) == 0)
		fail_msg("verify for %s accepted", fqdn);
	fx_expect_err("pki_verify", PP_EKEY, want);
}

static void
test_init_issue_verify(void **state)
{
	struct pki_fx *f = *state;
	X509 *ca = cert(f, "ca/ca.crt"), *a = cert(f, "a/identity.crt");
	X509_CRL *c = crl(f, "ca/ca.crl");
	char pair[PKI_PAIR_MAX + 1];
	uint8_t fpr[PKI_FPR_LEN], want[CRYPTO_HASH_LEN], *der = NULL;
	struct pki_cert_info info;
	int days, len;

	FX_OK(pki_verify(ca, c, a, FX_POOL_A));
	FX_OK(pki_verify(ca, NULL, a, FX_POOL_A));
	FX_OK(pki_cert_pair(ca, pair));
	assert_string_equal(pair, "pair1");
	FX_OK(pki_days_left(a, &days));
	assert_true(days >= PKI_CERT_DAYS - 1 && days <= PKI_CERT_DAYS);
	/* The fingerprint is SHA-256 of the DER. */
	FX_OK(pki_cert_fingerprint(a, fpr));
	assert_true((len = i2d_X509(a, &der)) > 0);
	FX_OK(crypto_sha256(der, (size_t)len, want));
	assert_memory_equal(fpr, want, sizeof(want));
	OPENSSL_free(der);
	FX_OK(pki_cert_info(a, &info));
	assert_string_equal(info.subject, FX_POOL_A);
	assert_string_equal(info.issuer, "pair1");
	assert_string_equal(info.san, FX_POOL_A);
	assert_int_equal(strlen(info.serial), 32);
	assert_false(info.is_ca);
	assert_true(info.has_seal);
	/* notBefore is 5 minutes back, for clocks a little behind. */
	assert_true(info.not_before <= (int64_t)time(NULL) - 299);
	/* Keys are private, certificates public, directories 0700. */
	assert_int_equal(mode_of(f, "ca"), 0700);
	assert_int_equal(mode_of(f, "ca/ca.key"), 0600);
	assert_int_equal(mode_of(f, "ca/ca.crt"), 0644);
	assert_int_equal(mode_of(f, "a"), 0700);
	assert_int_equal(mode_of(f, "a/identity.key"), 0600);
	assert_int_equal(mode_of(f, "a/seal.key"), 0600);
	/* A CA certificate is no pool's identity. */
	expect_verify_refused(ca, c, ca, "pair1", "is a CA certificate");
	X509_CRL_free(c);
	X509_free(a);
	X509_free(ca);
}

static void
test_init_refuses(void **state)
{
	struct pki_fx *f = *state;
	size_t len;
	uint8_t *before = unit_read_file(fx_path(f, "ca/ca.key"), &len);
	uint8_t *after;
	size_t len2;

	pp_err_clear();
	assert_int_equal(pki_ca_init(fx_path(f, "ca"), "other", 10), -1);
	fx_expect_err("second init", PP_EEXIST, "already exists");
	after = unit_read_file(fx_path(f, "ca/ca.key"), &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(before, after, len);
	free(before);
	free(after);
	assert_int_equal(pki_ca_init(fx_path(f, "x1"), "bad name", 10), -1);
	fx_expect_err("bad pair", PP_EINVAL, "pair name");
	assert_int_equal(pki_ca_init(fx_path(f, "x2"), "", 10), -1);
	assert_int_equal(pki_ca_init(fx_path(f, "x3"),
	    "p0123456789012345678901234567890123456789012345678901234567890123",
	    10), -1);
	fx_expect_err("long pair", PP_EINVAL, "pair name");
	assert_int_equal(pki_ca_init(fx_path(f, "x4"), "p", 0), -1);
	fx_expect_err("0 days", PP_EINVAL, "days");
	assert_int_equal(pki_ca_init(fx_path(f, "x5"), "p",
	    PKI_CA_DAYS_MAX + 1), -1);
	/* Issuing: bad names and validity, and never over an identity. */
	assert_int_equal(pki_issue(fx_path(f, "ca"), "nodots", fx_path(f,
	    "x6"), 10), -1);
	fx_expect_err("bad fqdn", PP_EINVAL, "domain name");
	assert_int_equal(pki_issue(fx_path(f, "ca"), FX_POOL_A, fx_path(f,
	    "x7"), PKI_CERT_DAYS_MAX + 1), -1);
	fx_expect_err("826 days", PP_EINVAL, "825");
	assert_int_equal(pki_issue(fx_path(f, "ca"), FX_POOL_A, fx_path(f,
	    "a"), 10), -1);
	fx_expect_err("issue over a", PP_EEXIST, "already exists");
	assert_int_equal(pki_issue(fx_path(f, "nothere"), FX_POOL_A,
	    fx_path(f, "x8"), 10), -1);
	fx_expect_err("no CA", PP_EIO, "cannot open");
}

static void
test_wrong_ca_refused(void **state)
{
	struct pki_fx *f = *state;
	X509 *ca = cert(f, "ca/ca.crt"), *b2 = cert(f, "b2/identity.crt");
	X509 *ca2 = cert(f, "ca2/ca.crt"), *b = cert(f, "b/identity.crt");
	X509_CRL *c = crl(f, "ca/ca.crl");

	expect_verify_refused(ca, c, b2, FX_POOL_B, "local issuer");
	expect_verify_refused(ca, NULL, b2, FX_POOL_B, "local issuer");
	expect_verify_refused(ca2, NULL, b, FX_POOL_B, "local issuer");
	/* The right CA with the other CA's CRL: no CRL for this issuer. */
	expect_verify_refused(ca2, c, b2, FX_POOL_B, "CRL");
	FX_OK(pki_verify(ca2, NULL, b2, FX_POOL_B));
	X509_CRL_free(c);
	X509_free(b);
	X509_free(ca2);
	X509_free(b2);
	X509_free(ca);
}

static void
test_wrong_fqdn_refused(void **state)
{
	struct pki_fx *f = *state;
	X509 *ca = cert(f, "ca/ca.crt"), *a = cert(f, "a/identity.crt");

	expect_verify_refused(ca, NULL, a, FX_POOL_B, "does not name");
	expect_verify_refused(ca, NULL, a, "example.test", "does not name");
	expect_verify_refused(ca, NULL, a, "x.pool-a.example.test",
	    "does not name");
	X509_free(a);
	X509_free(ca);
}

static void
test_expired_refused(void **state)
{
	struct pki_fx *f = *state;
	X509 *ca = cert(f, "ca/ca.crt"), *a = cert(f, "a/identity.crt");
	time_t now = time(NULL);

	FX_OK(pki_verify_at(ca, NULL, a, FX_POOL_A, now + 396 * 86400L));
	pp_err_clear();
	assert_int_equal(pki_verify_at(ca, NULL, a, FX_POOL_A,
	    now + 398 * 86400L), -1);
	fx_expect_err("after notAfter", PP_EKEY, "expired");
	assert_int_equal(pki_verify_at(ca, NULL, a, FX_POOL_A,
	    now - 3600), -1);
	fx_expect_err("before notBefore", PP_EKEY, "not yet valid");
	X509_free(a);
	X509_free(ca);
}

/* The CRL number of ${c}. */
static long
crl_num(X509_CRL *c)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(c, NID_crl_number, NULL, NULL);
	long v;

	assert_non_null(n);
	v = ASN1_INTEGER_get(n);
	ASN1_INTEGER_free(n);
	return (v);
}

static void
test_revoked_refused(void **state)
{
	struct pki_fx *f = *state;
	X509 *ca = cert(f, "ca/ca.crt"), *a = cert(f, "a/identity.crt");
	X509 *b = cert(f, "b/identity.crt");
	X509_CRL *c = crl(f, "ca/ca.crl");

	assert_int_equal(crl_num(c), 1);
	X509_CRL_free(c);
	FX_OK(pki_revoke(fx_path(f, "ca"), fx_path(f, "b/identity.crt")));
	c = crl(f, "ca/ca.crl");
	assert_int_equal(crl_num(c), 2);
	expect_verify_refused(ca, c, b, FX_POOL_B, "revoked");
	FX_OK(pki_verify(ca, c, a, FX_POOL_A));
	/* Without the CRL the chain itself is fine. */
	FX_OK(pki_verify(ca, NULL, b, FX_POOL_B));
	X509_CRL_free(c);
	/* Twice: refused, the CRL unchanged. */
	pp_err_clear();
	assert_int_equal(pki_revoke(fx_path(f, "ca"),
	    fx_path(f, "b/identity.crt")), -1);
	fx_expect_err("second revoke", PP_EEXIST, "already revoked");
	/* Another CA's certificate, and the CA's own: refused. */
	assert_int_equal(pki_revoke(fx_path(f, "ca"),
	    fx_path(f, "b2/identity.crt")), -1);
	fx_expect_err("foreign revoke", PP_EKEY, "not issued by this CA");
	assert_int_equal(pki_revoke(fx_path(f, "ca"),
	    fx_path(f, "ca/ca.crt")), -1);
	fx_expect_err("CA revoke", PP_EINVAL, "own certificate");
	/* The earlier entries stay when another is added or the CRL is
	 * refreshed. */
	FX_OK(pki_revoke(fx_path(f, "ca"), fx_path(f, "a/identity.crt")));
	FX_OK(pki_crl_refresh(fx_path(f, "ca")));
	c = crl(f, "ca/ca.crl");
	assert_int_equal(crl_num(c), 4);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(c)), 2);
	expect_verify_refused(ca, c, b, FX_POOL_B, "revoked");
	expect_verify_refused(ca, c, a, FX_POOL_A, "revoked");
	FX_OK(pki_crl_check(ca, c, 1));
	X509_CRL_free(c);
	X509_free(b);
	X509_free(a);
	X509_free(ca);
}

/*
 * Sign ${y} with ${k} and ${md}, then free it and return a fresh parse of it
 * (OpenSSL caches what it read of a certificate: the signature's strength).
 */
static X509 *
resign(X509 *y, EVP_PKEY *k, const EVP_MD *md)
{
	X509 *z;

	assert_true(X509_sign(y, k, md) > 0);
	z = X509_dup(y);
	assert_non_null(z);
	X509_free(y);
	return (z);
}

/* ${x} with its seal extension replaced by ${value}s, re-signed by the CA. */
static X509 *
reseal(struct pki_fx *f, X509 *x, const char *const *value, int n)
{
	X509 *y = X509_dup(x);
	EVP_PKEY *k = pki_load_key(fx_path(f, "ca/ca.key"), EVP_PKEY_ED25519);
	ASN1_OBJECT *o = OBJ_txt2obj(PKI_SEAL_OID, 1);
	X509_EXTENSION *e;
	int i;

	assert_non_null(y);
	assert_non_null(k);
	assert_non_null(o);
	while ((i = X509_get_ext_by_OBJ(y, o, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(y, i));
	for (i = 0; i < n; i++) {
		e = X509V3_EXT_nconf(NULL, NULL, PKI_SEAL_OID, value[i]);
		assert_non_null(e);
		assert_int_equal(X509_add_ext(y, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	y = resign(y, k, NULL);
	ASN1_OBJECT_free(o);
	EVP_PKEY_free(k);
	return (y);
}

static void
test_seal_pub(void **state)
{
	struct pki_fx *f = *state;
	X509 *a = cert(f, "a/identity.crt"), *ca = cert(f, "ca/ca.crt"), *y;
	EVP_PKEY *seal = pki_load_key(fx_path(f, "a/seal.key"),
	    EVP_PKEY_X25519);
	uint8_t got[PKI_SEAL_PUB_LEN], want[PKI_SEAL_PUB_LEN];
	size_t len = sizeof(want);
	static const char *const good[] = { "ASN1:FORMAT:HEX,OCTETSTRING:"
	    "0101010101010101010101010101010101010101010101010101010101010101"
	};
	static const char *const shrt[] = { "ASN1:FORMAT:HEX,OCTETSTRING:0102" };
	static const char *const notos[] = { "ASN1:INTEGER:7" };

	assert_non_null(seal);
	FX_OK(pki_cert_seal_pub(a, got));
	assert_int_equal(EVP_PKEY_get_raw_public_key(seal, want, &len), 1);
	assert_memory_equal(got, want, sizeof(want));
	/* Absent (the CA's), short, not an OCTET STRING, repeated. */
	assert_int_equal(pki_cert_seal_pub(ca, got), -1);
	fx_expect_err("no extension", PP_EKEY, "no seal public key");
	y = reseal(f, a, good, 1);
	FX_OK(pki_cert_seal_pub(y, got));
	assert_int_equal(got[31], 1);
	X509_free(y);
	y = reseal(f, a, shrt, 1);
	assert_int_equal(pki_cert_seal_pub(y, got), -1);
	fx_expect_err("short", PP_EKEY, "malformed");
	X509_free(y);
	y = reseal(f, a, notos, 1);
	assert_int_equal(pki_cert_seal_pub(y, got), -1);
	fx_expect_err("integer", PP_EKEY, "malformed");
	X509_free(y);
	y = reseal(f, a, (const char *const[]){ good[0], good[0] }, 2);
	assert_int_equal(pki_cert_seal_pub(y, got), -1);
	fx_expect_err("twice", PP_EKEY, "more than one");
	X509_free(y);
	EVP_PKEY_free(seal);
	X509_free(ca);
	X509_free(a);
}

static void
test_key_file_mode_refused(void **state)
{
	struct pki_fx *f = *state;
	const char *p = fx_path(f, "a/identity.key");
	EVP_PKEY *k;

	assert_int_equal(chmod(p, 0644), 0);
	pp_err_clear();
	assert_null(pki_load_key(p, EVP_PKEY_ED25519));
	fx_expect_err("0644", PP_EKEY, "chmod 600");
	fx_expect_err("0644", PP_EKEY, "0644");
	assert_int_equal(chmod(p, 0640), 0);
	assert_null(pki_load_key(p, EVP_PKEY_ED25519));
	fx_expect_err("0640", PP_EKEY, "group or others");
	assert_int_equal(chmod(p, 0600), 0);
	k = pki_load_key(p, EVP_PKEY_ED25519);
	assert_non_null(k);
	EVP_PKEY_free(k);
	/* Missing, a directory, too big, not PEM. */
	assert_null(pki_load_key(fx_path(f, "a/none.key"), EVP_PKEY_ED25519));
	fx_expect_err("missing", PP_EIO, "cannot open");
	assert_null(pki_load_key(fx_path(f, "a"), EVP_PKEY_ED25519));
	fx_expect_err("directory", PP_EIO, "not a regular file");
	{
		static char big[PKI_KEY_MAX + 1];

		memset(big, 'A', sizeof(big));
		unit_write_file(fx_path(f, "a/big.key"), big, sizeof(big));
	}
	assert_null(pki_load_key(fx_path(f, "a/big.key"), EVP_PKEY_ED25519));
	fx_expect_err("big", PP_ELIMIT, "larger than");
	unit_write_file(fx_path(f, "a/junk.key"), "junk\n", 5);
	assert_null(pki_load_key(fx_path(f, "a/junk.key"), EVP_PKEY_ED25519));
	fx_expect_err("junk", PP_EKEY, "no unencrypted PEM private key");
}

/* Write ${k} as a PEM private key to ${path}, mode 0600. */
static void
write_key(const char *path, EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *bm;

	assert_non_null(b);
	assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	BIO_get_mem_ptr(b, &bm);
	unit_write_file(path, bm->data, bm->length);
	BIO_free(b);
}

static void
test_weak_key_refused(void **state)
{
	struct pki_fx *f = *state;
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	const char *p;

	assert_non_null(rsa);
	assert_non_null(p256);
	write_key(p = fx_path(f, "rsa.key"), rsa);
	pp_err_clear();
	assert_null(pki_load_key(p, EVP_PKEY_ED25519));
	fx_expect_err("RSA", PP_EKEY, "weak or unsupported key type RSA");
	assert_null(pki_load_key(p, EVP_PKEY_X25519));
	fx_expect_err("RSA as X25519", PP_EKEY, "weak or unsupported");
	write_key(p = fx_path(f, "p256.key"), p256);
	assert_null(pki_load_key(p, EVP_PKEY_ED25519));
	fx_expect_err("P-256", PP_EKEY, "weak or unsupported key type EC");
	/* The right algorithm in the wrong place. */
	assert_null(pki_load_key(fx_path(f, "a/seal.key"), EVP_PKEY_ED25519));
	fx_expect_err("X25519 as Ed25519", PP_EKEY, "X25519");
	assert_null(pki_load_key(fx_path(f, "a/identity.key"),
	    EVP_PKEY_X25519));
	fx_expect_err("Ed25519 as X25519", PP_EKEY, "ED25519");
	EVP_PKEY_free(p256);
	EVP_PKEY_free(rsa);
}

/* Certificates for pool-a with other keys and signatures. */
static void
test_weak_cert_refused(void **state)
{
	struct pki_fx *f = *state;
	X509 *ca = cert(f, "ca/ca.crt"), *a = cert(f, "a/identity.crt"), *y;
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *k = pki_load_key(fx_path(f, "ca/ca.key"), EVP_PKEY_ED25519);

	assert_non_null(rsa);
	assert_non_null(p256);
	assert_non_null(k);
	y = X509_dup(a);
	assert_non_null(y);
	assert_int_equal(X509_set_pubkey(y, rsa), 1);
	y = resign(y, k, NULL);
	expect_verify_refused(ca, NULL, y, FX_POOL_A, "weak or unsupported");
	X509_free(y);
	/* A P-256 key is strong enough; a SHA-1 signature is not. */
	y = X509_dup(a);
	assert_non_null(y);
	assert_int_equal(X509_set_pubkey(y, p256), 1);
	y = resign(y, k, NULL);
	FX_OK(pki_verify(ca, NULL, y, FX_POOL_A));
	y = resign(y, p256, EVP_sha1());
	expect_verify_refused(ca, NULL, y, FX_POOL_A, "weaker than SHA-256");
	X509_free(y);
	EVP_PKEY_free(k);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(rsa);
	X509_free(a);
	X509_free(ca);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_init_issue_verify),
		T(test_init_refuses),
		T(test_wrong_ca_refused),
		T(test_wrong_fqdn_refused),
		T(test_expired_refused),
		T(test_revoked_refused),
		T(test_seal_pub),
		T(test_key_file_mode_refused),
		T(test_weak_key_refused),
		T(test_weak_cert_refused),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
