/*
 * unit_pki.h: the fixture test_pki and test_config share: in a new temp
 * directory, the CA "pair1" in ca/ with pools pool-a and pool-b issued into
 * a/ and b/, and a second CA "pair2" in ca2/ that issued pool-b again into
 * b2/.  Include after <cmocka.h> and unit.h.
 */
#ifndef PP_UNIT_PKI_H
#define PP_UNIT_PKI_H

#include <openssl/err.h>

#include "err.h"
#include "pki.h"

#define FX_POOL_A	"pool-a.example.test"
#define FX_POOL_B	"pool-b.example.test"

struct pki_fx {
	char *dir;
};

/* "${f}->dir/${rel}" in a static buffer (valid until the next call). */
static inline const char *
fx_path(struct pki_fx *f, const char *rel)
{
	static char buf[2][PATH_MAX];
	static int n;

	n ^= 1;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", f->dir, rel);
	return (buf[n]);
}

/* Assert that a pki or config call returned ${rc} == 0, else say why. */
#define FX_OK(rc) do {							\
	if ((rc) != 0)							\
		fail_msg("%s failed: %s", #rc, pp_errmsg());		\
} while (0)

static inline int
fx_setup(void **state)
{
	struct pki_fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = unit_mkdtemp();
	FX_OK(pki_ca_init(fx_path(f, "ca"), "pair1", PKI_CA_DAYS));
	FX_OK(pki_issue(fx_path(f, "ca"), FX_POOL_A, fx_path(f, "a"),
	    PKI_CERT_DAYS));
	FX_OK(pki_issue(fx_path(f, "ca"), FX_POOL_B, fx_path(f, "b"),
	    PKI_CERT_DAYS));
	FX_OK(pki_ca_init(fx_path(f, "ca2"), "pair2", PKI_CA_DAYS));
	FX_OK(pki_issue(fx_path(f, "ca2"), FX_POOL_B, fx_path(f, "b2"),
	    PKI_CERT_DAYS));
	*state = f;
	return (0);
}

static inline int
fx_teardown(void **state)
{
	struct pki_fx *f = *state;

	unit_rmtree(f->dir);
	free(f);
	/* Nothing may be left on OpenSSL's error queue between tests. */
	assert_int_equal(ERR_peek_error(), 0);
	return (0);
}

/*
 * Expect the call that just returned failure to have recorded class
 * ${code} and a message containing ${want}.
 */
static inline void
fx_expect_err(const char *call, enum pp_err code, const char *want)
{

	if (pp_errcode() != code)
		fail_msg("%s: error class %d (%s), expected %d", call,
		    (int)pp_errcode(), pp_errmsg(), (int)code);
	if (strstr(pp_errmsg(), want) == NULL)
		fail_msg("%s: message '%s' does not say '%s'", call,
		    pp_errmsg(), want);
}

#endif
