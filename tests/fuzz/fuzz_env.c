/*
 * fuzz_env.c: temp directory, pair CA and config of the harnesses (see
 * fuzz_env.h).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fuzz_env.h"
#include "fuzz_keys.h"
#include "pki.h"
#include "util.h"

const char fuzz_conf_text[] =
    "[pool]\n"
    "fqdn = " FUZZ_POOL "\n"
    "data = data\n"
    "[partner]\n"
    "fqdn = " FUZZ_PARTNER "\n"
    "cert = b/identity.crt\n"
    "[tls]\n"
    "ca = ca/ca.crt\n"
    "crl = ca/ca.crl\n"
    "cert = a/identity.crt\n"
    "key = a/identity.key\n"
    "seal_key = a/seal.key\n";

static char tmpdir[PATH_MAX];
static pid_t tmpdir_pid;

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{

	(void)sb;
	(void)flag;
	(void)ftw;
	return (remove(path));
}

/* At exit, in the process that made it (not in a fork). */
static void
tmpdir_rm(void)
{

	if (tmpdir[0] != '\0' && getpid() == tmpdir_pid)
		(void)nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_tmpdir(const char *prefix)
{
	const char *base = getenv("TMPDIR");
	struct stat sb;

	if (tmpdir[0] != '\0')
		fuzz_fail("fuzz_tmpdir called twice");
	if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	else if (base == NULL || base[0] == '\0')
		base = "/tmp";
	if ((size_t)snprintf(tmpdir, sizeof(tmpdir), "%s/%s.XXXXXX", base,
	    prefix) >= sizeof(tmpdir) - 32 || mkdtemp(tmpdir) == NULL)
		fuzz_fail("cannot make a temp directory");
	tmpdir_pid = getpid();
	atexit(tmpdir_rm);
	return (tmpdir);
}

void
fuzz_env_pki(const char *dir)
{
	char ca[PATH_MAX], a[PATH_MAX], b[PATH_MAX];

	snprintf(ca, sizeof(ca), "%s/ca", dir);
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	if (pki_ca_init(ca, "fuzzpair", PKI_CA_DAYS) != 0 ||
	    pki_issue(ca, FUZZ_POOL, a, PKI_CERT_DAYS) != 0 ||
	    pki_issue(ca, FUZZ_PARTNER, b, PKI_CERT_DAYS) != 0)
		fuzz_fail("cannot make the pair CA");
}

int
fuzz_write_file(const char *path, const void *buf, size_t len)
{
	int fd, rc;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return (-1);
	rc = util_write_all(fd, buf, len);
	if (close(fd) != 0)
		rc = -1;
	return (rc);
}

void
fuzz_env_config(const char *dir, struct pp_config *cfg)
{
	static const char daemon_keys[] =
	    "[backup]\nsync_interval = 0\n";
	char path[PATH_MAX], text[2048];
	int n;

	n = snprintf(text, sizeof(text), "%s%s", fuzz_conf_text, daemon_keys);
	snprintf(path, sizeof(path), "%s/pool.conf", dir);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    fuzz_write_file(path, text, (size_t)n) != 0 ||
	    config_load(path, cfg) != 0)
		fuzz_fail("cannot load the fuzz config");
}
