/*
 * cmd_pki.c: "poolpair pki": the pair CA and the pool identities it issues
 * (init, issue, revoke, crl, show).  The work is in src/crypto/pki*.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "fileio.h"
#include "pki.h"
#include "util.h"

/* Parse --days ${s} into ${days} (left alone when ${s} is NULL). */
static int
parse_days(struct cli *c, const char *s, int *days)
{
	char *end;
	long v;

	if (s == NULL)
		return (0);
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > 100000)
		return (cli_usage(c, "--days must be a positive number of "
		    "days"));
	*days = (int)v;
	return (0);
}

static int
pki_init(struct cli *c, int argc, char **argv)
{
	const char *pair = NULL, *out = NULL, *d = NULL;
	struct cli_opt o[] = {
		{ "pair", 0, OPT_VALUE, &pair, NULL },
		{ "out", 0, OPT_VALUE, &out, NULL },
		{ "days", 0, OPT_VALUE, &d, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	int rc, days = PKI_CA_DAYS;

	if (cli_args(c, argc, argv, o, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (pair == NULL || out == NULL)
		return (cli_usage(c, "--pair NAME and --out DIR are required"));
	if ((rc = parse_days(c, d, &days)) != 0)
		return (rc);
	if (pki_ca_init(out, pair, days) != 0)
		return (cli_fail(c));
	printf("created the CA of pair %s in %s: %s (0600: keep it off the "
	    "pools), %s, %s\n", pair, out, PKI_CA_KEY, PKI_CA_CRT,
	    PKI_CA_CRL);
	return (EXIT_OK);
}

/* The absolute form of directory ${dir} joined with ${name}. */
static int
abs_path(char out[static PATH_MAX], const char *dir, const char *name)
{
	char real[PATH_MAX];

	if (realpath(dir, real) == NULL) {
		pp_errp(PP_EIO, "cannot resolve %s", dir);
		return (-1);
	}
	return (fileio_join(out, PATH_MAX, real, name));
}

/* Print the config of pool ${fqdn}, issued from ${cadir} into ${outdir}. */
static int
print_config(const char *cadir, const char *fqdn, const char *outdir)
{
	char ca[PATH_MAX], crl[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];
	char seal[PATH_MAX];

	if (abs_path(ca, cadir, PKI_CA_CRT) != 0 ||
	    abs_path(crl, cadir, PKI_CA_CRL) != 0 ||
	    abs_path(crt, outdir, PKI_ID_CRT) != 0 ||
	    abs_path(key, outdir, PKI_ID_KEY) != 0 ||
	    abs_path(seal, outdir, PKI_SEAL_KEY) != 0)
		return (-1);
	printf("# poolpair config of pool %s (see docs/pki.md).\n"
	    "# Fill in [partner] with the partner pool's name and its "
	    "identity.crt,\n# then check it all with 'poolpair -c FILE info'.\n"
	    "[pool]\nfqdn = %s\ndata = /var/lib/poolpair/%s\n\n"
	    "[partner]\n# fqdn = the partner pool's FQDN\n"
	    "# cert = the partner's identity.crt\n\n"
	    "[tls]\nca = %s\ncrl = %s\ncert = %s\nkey = %s\nseal_key = %s\n",
	    fqdn, fqdn, fqdn, ca, crl, crt, key, seal);
	return (0);
}

static int
pki_issue_cmd(struct cli *c, int argc, char **argv)
{
	const char *ca = NULL, *pool = NULL, *out = NULL, *d = NULL;
	struct cli_opt o[] = {
		{ "ca", 0, OPT_VALUE, &ca, NULL },
		{ "pool", 0, OPT_VALUE, &pool, NULL },
		{ "out", 0, OPT_VALUE, &out, NULL },
		{ "days", 0, OPT_VALUE, &d, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	int rc, days = PKI_CERT_DAYS;

	if (cli_args(c, argc, argv, o, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (ca == NULL || pool == NULL || out == NULL)
		return (cli_usage(c, "--ca DIR, --pool FQDN and --out DIR are "
		    "required"));
	if ((rc = parse_days(c, d, &days)) != 0)
		return (rc);
	if (pki_issue(ca, pool, out, days) != 0 ||
	    print_config(ca, pool, out) != 0)
		return (cli_fail(c));
	return (EXIT_OK);
}

static int
pki_revoke_cmd(struct cli *c, int argc, char **argv)
{
	const char *ca = NULL;
	struct cli_opt o[] = {
		{ "ca", 0, OPT_VALUE, &ca, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	char *pos[1];
	int rc;

	if (cli_args(c, argc, argv, o, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if (ca == NULL)
		return (cli_usage(c, "--ca DIR is required"));
	if (pki_revoke(ca, pos[0]) != 0)
		return (cli_fail(c));
	printf("revoked %s; copy %s/%s to both pools\n", pos[0], ca,
	    PKI_CA_CRL);
	return (EXIT_OK);
}

static int
pki_crl_cmd(struct cli *c, int argc, char **argv)
{
	const char *ca = NULL;
	struct cli_opt o[] = {
		{ "ca", 0, OPT_VALUE, &ca, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	int rc;

	if (cli_args(c, argc, argv, o, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (ca == NULL)
		return (cli_usage(c, "--ca DIR is required"));
	if (pki_crl_refresh(ca) != 0)
		return (cli_fail(c));
	printf("signed %s/%s again, valid for %d days; copy it to both "
	    "pools\n", ca, PKI_CA_CRL, PKI_CRL_DAYS);
	return (EXIT_OK);
}

/* Print ${i} as text or (--json) as one JSON object. */
static int
show_info(struct cli *c, const struct pki_cert_info *i)
{
	char nb[32], na[32], seal[2 * PKI_SEAL_PUB_LEN + 1];
	char fpr[2 * PKI_FPR_LEN + 1];

	util_time_fmt(nb, sizeof(nb), i->not_before);
	util_time_fmt(na, sizeof(na), i->not_after);
	util_hex(fpr, i->fingerprint, sizeof(i->fingerprint));
	util_hex(seal, i->seal_pub, sizeof(i->seal_pub));
	if (c->json)
		return (cli_json_print(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,"
		    "s:i,s:b,s:s?,s:s}", "subject", i->subject, "issuer",
		    i->issuer, "san", i->san, "serial", i->serial,
		    "not_before", nb, "not_after", na, "days_left",
		    i->days_left, "ca", i->is_ca, "seal_pub",
		    i->has_seal ? seal : NULL, "sha256", fpr)) == 0 ?
		    EXIT_OK : cli_fail(c));
	printf("subject:    %s\nissuer:     %s\nsan:        %s\n"
	    "serial:     %s\nnot before: %s\nnot after:  %s\n"
	    "days left:  %d\nca:         %s\nseal key:   %s\nsha256:     %s\n",
	    i->subject, i->issuer, i->san, i->serial, nb, na, i->days_left,
	    i->is_ca ? "yes" : "no", i->has_seal ? seal : "none", fpr);
	return (EXIT_OK);
}

static int
pki_show(struct cli *c, int argc, char **argv)
{
	struct pki_cert_info info;
	X509 *x;
	char *pos[1];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if ((x = pki_load_cert(pos[0])) == NULL)
		return (cli_fail(c));
	rc = pki_cert_info(x, &info);
	X509_free(x);
	if (rc != 0)
		return (cli_fail(c));
	return (show_info(c, &info));
}

static const struct cli_cmd cmds[] = {
	{ "init", pki_init, "--pair NAME --out DIR [--days N]",
	  "Create the pair CA in DIR (0700): ca.key (Ed25519, 0600; keep it\n"
	  "off the pools), ca.crt (CN=NAME, valid N days, default 3650) and\n"
	  "an empty ca.crl.  NAME is 1-64 of [A-Za-z0-9._-].  An existing CA\n"
	  "is never replaced.\n" },
	{ "issue", pki_issue_cmd, "--ca DIR --pool FQDN --out DIR [--days N]",
	  "Issue pool FQDN's identity into DIR (0700): identity.key\n"
	  "(Ed25519, 0600), seal.key (X25519, 0600) and identity.crt, signed\n"
	  "by the CA in --ca, valid N days (default 397, at most 825).\n"
	  "Prints the pool's config file: fill in [partner].\n" },
	{ "revoke", pki_revoke_cmd, "--ca DIR CERT",
	  "Add CERT, issued by the CA in DIR, to its ca.crl (signed again,\n"
	  "valid 365 days).  A certificate already revoked is refused.\n" },
	{ "crl", pki_crl_cmd, "--ca DIR",
	  "Sign the CA's ca.crl again with the same entries, valid 365 days\n"
	  "from now (pools refuse an expired CRL).\n" },
	{ "show", pki_show, "CERT [--json]",
	  "A certificate's subject, issuer, DNS names, serial, validity, days\n"
	  "left, seal public key and SHA-256 fingerprint.\n" },
	{ NULL, NULL, NULL, NULL }
};

int
cmd_pki(struct cli *c, int argc, char **argv)
{

	return (cli_dispatch(c, "pki", cmds, argc, argv));
}
