/*
 * test_config.c: the pool's config file (config.h): a good one loads whole;
 * each refusal names the file and the line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>

#include "config.h"
#include "crypto.h"
#include "unit.h"
#include "unit_pki.h"

/* The good config of pool-a, one line an entry (line 1 first). */
static const char *const good[] = {
	"[pool]",				/* 1 */
	"fqdn = " FX_POOL_A,			/* 2 */
	"data = data-a",			/* 3 */
	"",					/* 4 */
	"[partner]",				/* 5 */
	"fqdn = " FX_POOL_B,			/* 6 */
	"cert = b/identity.crt",		/* 7 */
	"",					/* 8 */
	"[tls]",				/* 9 */
	"ca = ca/ca.crt",			/* 10 */
	"crl = ca/ca.crl",			/* 11 */
	"cert = a/identity.crt",		/* 12 */
	"key = a/identity.key",			/* 13 */
	"seal_key = a/seal.key",		/* 14 */
};
#define NGOOD	(sizeof(good) / sizeof(good[0]))

/*
 * Write the good config to "${f}->dir/pool.conf" with line ${n} (1-based; 0
 * for none) replaced by ${line}, and return its path.
 */
static const char *
conf_with(struct pki_fx *f, size_t n, const char *line)
{
	const char *path = fx_path(f, "pool.conf");
	FILE *fp = fopen(path, "w");
	size_t i;

	assert_non_null(fp);
	for (i = 0; i < NGOOD; i++)
		fprintf(fp, "%s\n", i + 1 == n ? line : good[i]);
	assert_int_equal(fclose(fp), 0);
	/* Whatever the umask: a group-writable config is refused. */
	assert_int_equal(chmod(path, 0644), 0);
	return (path);
}

/*
 * config_load(${path}) must fail with class ${code}, a message starting
 * "${path}:${line}: " and containing ${want}, and leave the config empty.
 */
static void
expect_refused(const char *path, int line, enum pp_err code,
    const char *want)
{
	struct pp_config cfg;
	char prefix[PATH_MAX + 32];

	pp_err_clear();
	if (config_load(path, &cfg) == 0) {
		config_free(&cfg);
		fail_msg("config accepted, expected line %d: %s", line, want);
	}
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (strncmp(pp_errmsg(), prefix, strlen(prefix)) != 0)
		fail_msg("message '%s' does not start with '%s'", pp_errmsg(),
		    prefix);
	fx_expect_err("config_load", code, want);
	assert_null(cfg.ca);
	assert_null(cfg.identity_key);
	assert_int_equal(cfg.pool[0], '\0');
}

static void
test_good_config_loads(void **state)
{
	struct pki_fx *f = *state;
	struct pp_config cfg;
	uint8_t pub[PKI_SEAL_PUB_LEN];
	size_t len = sizeof(pub);

	FX_OK(config_load(conf_with(f, 0, NULL), &cfg));
	assert_string_equal(cfg.pool, FX_POOL_A);
	assert_string_equal(cfg.partner, FX_POOL_B);
	assert_string_equal(cfg.pair, "pair1");
	/* Relative paths are resolved against the file's directory. */
	assert_string_equal(cfg.data, fx_path(f, "data-a"));
	assert_string_equal(cfg.partner_cert_path, fx_path(f,
	    "b/identity.crt"));
	assert_string_equal(cfg.seal_key_path, fx_path(f, "a/seal.key"));
	assert_non_null(cfg.ca);
	assert_non_null(cfg.crl);
	assert_non_null(cfg.cert);
	assert_non_null(cfg.partner_cert);
	assert_non_null(cfg.identity_key);
	assert_non_null(cfg.seal_key);
	assert_int_equal(EVP_PKEY_get_raw_public_key(cfg.seal_key, pub, &len),
	    1);
	assert_memory_equal(pub, cfg.seal_pub, sizeof(pub));
	assert_memory_not_equal(cfg.seal_pub, cfg.partner_seal_pub,
	    sizeof(pub));
	config_free(&cfg);
	assert_null(cfg.ca);
	config_free(NULL);
	/* Indented keys, comments, absolute paths and CRLF line ends. */
	FX_OK(config_load(conf_with(f, 13, "   key = a/identity.key ; ours"),
	    &cfg));
	config_free(&cfg);
	FX_OK(config_load(conf_with(f, 10, "ca = ./ca/../ca/ca.crt\r"), &cfg));
	config_free(&cfg);
	{
		char line[PATH_MAX + 16];

		snprintf(line, sizeof(line), "cert = %s",
		    fx_path(f, "b/identity.crt"));
		FX_OK(config_load(conf_with(f, 7, line), &cfg));
		config_free(&cfg);
	}
}

static void
test_unknown_key(void **state)
{
	struct pki_fx *f = *state;

	expect_refused(conf_with(f, 13, "kee = a/identity.key"), 13,
	    PP_EINVAL, "unknown key 'kee' in [tls]");
	/* Keys known elsewhere are unknown here; not yet accepted ones too. */
	expect_refused(conf_with(f, 4, "ca = ca/ca.crt"), 4, PP_EINVAL,
	    "unknown key 'ca' in [pool]");
	expect_refused(conf_with(f, 4, "lisen = 0.0.0.0:5061"), 4,
	    PP_EINVAL, "unknown key 'lisen'");
	expect_refused(conf_with(f, 1, "fqdn = " FX_POOL_A), 1, PP_EINVAL,
	    "outside any section");
}

static void
test_unknown_section(void **state)
{
	struct pki_fx *f = *state;

	expect_refused(conf_with(f, 5, "[partners]"), 5, PP_EINVAL,
	    "unknown section [partners]");
	/* Even an empty one at the end. */
	expect_refused(conf_with(f, 8, "[backups]"), 8, PP_EINVAL,
	    "unknown section [backups]");
	expect_refused(conf_with(f, 8, "[pool]"), 8, PP_EINVAL,
	    "section [pool] again (first on line 1)");
}

static void
test_duplicate_key(void **state)
{
	struct pki_fx *f = *state;

	expect_refused(conf_with(f, 4, "data = data-b"), 4, PP_EINVAL,
	    "duplicate key 'data' in [pool] (first on line 3)");
	/* An indented line is a key of its own, not a continuation. */
	expect_refused(conf_with(f, 4, "  fqdn = " FX_POOL_A), 4, PP_EINVAL,
	    "duplicate key 'fqdn'");
}

static void
test_bad_values(void **state)
{
	struct pki_fx *f = *state;

	expect_refused(conf_with(f, 2, "fqdn ="), 2, PP_EINVAL,
	    "empty value for 'fqdn' in [pool]");
	expect_refused(conf_with(f, 6, "fqdn = not a name"), 6, PP_EINVAL,
	    "fully qualified");
	expect_refused(conf_with(f, 4, "garbage"), 4, PP_EINVAL,
	    "syntax error");
	expect_refused(conf_with(f, 6, "fqdn = " FX_POOL_A), 6, PP_EINVAL,
	    "this pool's own name");
}

/* The daemon's keys are optional, and checked when present. */
static void
test_daemon_keys(void **state)
{
	struct pki_fx *f = *state;
	struct pp_config cfg;
	char host[PP_FQDN_MAX + 1];
	int port;

	FX_OK(config_load(conf_with(f, 0, NULL), &cfg));
	assert_string_equal(cfg.listen, "");
	assert_int_equal(cfg.sync_interval, 0);
	config_free(&cfg);
	FX_OK(config_load(conf_with(f, 4, "listen = 127.0.0.1:7443"), &cfg));
	assert_string_equal(cfg.listen, "127.0.0.1:7443");
	assert_int_equal(config_addr_split(cfg.listen, host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 7443);
	config_free(&cfg);
	FX_OK(config_load(conf_with(f, 8, "address = [::1]:7444"), &cfg));
	assert_int_equal(config_addr_split(cfg.partner_addr, host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 7444);
	config_free(&cfg);
	FX_OK(config_load(conf_with(f, 14, "seal_key = a/seal.key\n[backup]\n"
	    "sync_interval = 120"), &cfg));
	assert_int_equal(cfg.sync_interval, 120);
	config_free(&cfg);
	expect_refused(conf_with(f, 4, "listen = 0.0.0.0"), 4, PP_EINVAL,
	    "not an address");
	expect_refused(conf_with(f, 4, "listen = 127.0.0.1:70000"), 4,
	    PP_EINVAL, "port 1-65535");
	expect_refused(conf_with(f, 8, "address = bad_host:1"), 8, PP_EINVAL,
	    "not an IP address or a host name");
	expect_refused(conf_with(f, 14, "seal_key = a/seal.key\n[backup]\n"
	    "sync_interval = 3"), 16, PP_EINVAL, "0 (stream at once) or 5");
	expect_refused(conf_with(f, 14, "seal_key = a/seal.key\n[backup]\n"
	    "sync_interval = 2h"), 16, PP_EINVAL, "seconds");
}

static void
test_missing_file(void **state)
{
	struct pki_fx *f = *state;
	struct pp_config cfg;
	const char *p = fx_path(f, "none.conf");

	pp_err_clear();
	assert_int_equal(config_load(p, &cfg), -1);
	fx_expect_err("missing config", PP_EIO, "cannot open config file");
	fx_expect_err("missing config", PP_EIO, p);
	expect_refused(conf_with(f, 7, "cert = b/none.crt"), 7, PP_EIO,
	    "cannot open certificate");
	expect_refused(conf_with(f, 14, "seal_key = a/none.key"), 14, PP_EIO,
	    "cannot open key file");
	expect_refused(conf_with(f, 11, "crl = ca/ca.crt"), 11, PP_EKEY,
	    "no PEM CRL");
}

static void
test_key_file_mode(void **state)
{
	struct pki_fx *f = *state;

	assert_int_equal(chmod(fx_path(f, "a/identity.key"), 0644), 0);
	expect_refused(conf_with(f, 0, NULL), 13, PP_EKEY, "chmod 600");
	assert_int_equal(chmod(fx_path(f, "a/identity.key"), 0600), 0);
	assert_int_equal(chmod(fx_path(f, "a/seal.key"), 0604), 0);
	expect_refused(conf_with(f, 0, NULL), 14, PP_EKEY, "(mode 0604)");
}

static void
test_config_file_writable(void **state)
{
	struct pki_fx *f = *state;
	struct pp_config cfg;
	const char *p = conf_with(f, 0, NULL);

	assert_int_equal(chmod(p, 0664), 0);
	pp_err_clear();
	assert_int_equal(config_load(p, &cfg), -1);
	fx_expect_err("g+w config", PP_EKEY, "writable by group or others");
	assert_int_equal(chmod(p, 0644), 0);
	FX_OK(config_load(p, &cfg));
	config_free(&cfg);
}

static void
test_partner_other_ca(void **state)
{
	struct pki_fx *f = *state;

	expect_refused(conf_with(f, 7, "cert = b2/identity.crt"), 7, PP_EKEY,
	    "unable to get local issuer certificate");
	/* Our own certificate from the other CA: refused at its line. */
	expect_refused(conf_with(f, 10, "ca = ca2/ca.crt"), 11, PP_EKEY,
	    "not signed by the pair CA");
}

static void
test_partner_wrong_fqdn(void **state)
{
	struct pki_fx *f = *state;

	expect_refused(conf_with(f, 6, "fqdn = pool-c.example.test"), 7,
	    PP_EKEY, "does not name pool-c.example.test");
	/* Our certificate must name our pool. */
	expect_refused(conf_with(f, 2, "fqdn = pool-c.example.test"), 12,
	    PP_EKEY, "does not name pool-c.example.test");
	/* The partner's certificate in our place. */
	expect_refused(conf_with(f, 12, "cert = b/identity.crt"), 12,
	    PP_EKEY, "does not name " FX_POOL_A);
}

static void
test_partner_revoked(void **state)
{
	struct pki_fx *f = *state;

	FX_OK(pki_revoke(fx_path(f, "ca"), fx_path(f, "b/identity.crt")));
	expect_refused(conf_with(f, 0, NULL), 7, PP_EKEY,
	    "certificate revoked");
}

static void
test_keys_not_matching(void **state)
{
	struct pki_fx *f = *state;

	expect_refused(conf_with(f, 14, "seal_key = b/seal.key"), 14, PP_EKEY,
	    "does not match the seal public key");
	expect_refused(conf_with(f, 13, "key = b/identity.key"), 13, PP_EKEY,
	    "is not the key of certificate");
	expect_refused(conf_with(f, 13, "key = a/seal.key"), 13, PP_EKEY,
	    "weak or unsupported key type X25519");
}

static void
test_long_line(void **state)
{
	struct pki_fx *f = *state;
	char line[512];

	/* 197 characters fit inih's 200-byte line; 198 do not. */
	snprintf(line, sizeof(line), "ca = %0*d", 197 - 5, 0);
	expect_refused(conf_with(f, 10, line), 10, PP_EIO, "cannot open");
	snprintf(line, sizeof(line), "ca = %0*d", 198 - 5, 0);
	expect_refused(conf_with(f, 10, line), 10, PP_EINVAL,
	    "line too long");
	/* A long comment is refused too: nothing is silently split. */
	memset(line, '#', 300);
	line[300] = '\0';
	expect_refused(conf_with(f, 4, line), 4, PP_EINVAL, "line too long");
}

static void
test_missing_key(void **state)
{
	struct pki_fx *f = *state;

	expect_refused(conf_with(f, 11, ""), 9, PP_EINVAL,
	    "missing key 'crl' in [tls]");
	expect_refused(conf_with(f, 3, "; data = data-a"), 1, PP_EINVAL,
	    "missing key 'data' in [pool]");
}

static void
test_missing_section(void **state)
{
	struct pki_fx *f = *state;
	const char *path = fx_path(f, "pool.conf");
	size_t i;
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	for (i = 0; i < 8; i++)
		fprintf(fp, "%s\n", i < 4 ? good[i] : "");
	for (i = 8; i < NGOOD; i++)
		fprintf(fp, "%s\n", good[i]);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0644), 0);
	expect_refused(path, 0, PP_EINVAL, "missing section [partner]");
}

static void
test_nul_byte(void **state)
{
	struct pki_fx *f = *state;
	const char *path = fx_path(f, "pool.conf");
	static const char text[] = "[pool]\nfqdn = a\0b.example.test\n";

	unit_write_file(path, text, sizeof(text) - 1);
	expect_refused(path, 2, PP_EINVAL, "NUL byte");
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_good_config_loads),
		T(test_unknown_key),
		T(test_unknown_section),
		T(test_duplicate_key),
		T(test_bad_values),
		T(test_daemon_keys),
		T(test_missing_file),
		T(test_key_file_mode),
		T(test_config_file_writable),
		T(test_partner_other_ca),
		T(test_partner_wrong_fqdn),
		T(test_partner_revoked),
		T(test_keys_not_matching),
		T(test_long_line),
		T(test_missing_key),
		T(test_missing_section),
		T(test_nul_byte),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
