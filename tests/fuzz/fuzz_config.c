/*
 * fuzz_config.c: libFuzzer harness for the pool's config file: the input is
 * the file, written to pool.conf in a directory that holds a pair CA and
 * both pools' identities (fuzz_env.h: ca/, a/, b/), and loaded with
 * config_load (our line reader, inih, the key table, then every file the
 * keys name, loaded and checked against each other).  The input, as a
 * string, also goes to config_addr_split.
 *
 * Properties: a config that loads names two different valid FQDNs, absolute
 * paths, its certificates and keys, a sync_interval in bounds and addresses
 * that split; one that does not is emptied and refused with one line that
 * starts "PATH:" (every refusal names the file and a line of it).  An
 * address that splits has a host of 1..PP_FQDN_MAX bytes and a port in
 * 1..65535.  With FUZZ_VERBOSE set in the environment it prints how each
 * input ended.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "fuzz_env.h"
#include "fuzz_keys.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[PATH_MAX];
static struct pp_config cfg, zero;
static int verbose;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_tmpdir("pp-fuzz-config");

	(void)argc;
	(void)argv;
	fuzz_env_pki(dir);
	snprintf(path, sizeof(path), "%s/pool.conf", dir);
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	return (0);
}

/* What a loaded config must hold. */
static void
check_loaded(const struct pp_config *c)
{
	const char *paths[] = { c->data, c->partner_cert_path, c->ca_path,
		c->crl_path, c->cert_path, c->key_path, c->seal_key_path };
	char host[PP_FQDN_MAX + 1];
	size_t i;
	int port;

	if (util_fqdn_ok(c->pool) != 0 || util_fqdn_ok(c->partner) != 0 ||
	    strcasecmp(c->pool, c->partner) == 0)
		fuzz_fail("loaded: bad pool or partner name");
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (paths[i][0] != '/')
			fuzz_fail("loaded: a path is not absolute");
	if (c->ca == NULL || c->crl == NULL || c->cert == NULL ||
	    c->partner_cert == NULL || c->identity_key == NULL ||
	    c->seal_key == NULL)
		fuzz_fail("loaded: a certificate or key is missing");
	if (c->sync_interval != 0 && (c->sync_interval < CONFIG_SYNC_MIN ||
	    c->sync_interval > CONFIG_SYNC_MAX))
		fuzz_fail("loaded: sync_interval out of bounds");
	if ((c->listen[0] != '\0' &&
	    config_addr_split(c->listen, host, &port) != 0) ||
	    (c->partner_addr[0] != '\0' &&
	    config_addr_split(c->partner_addr, host, &port) != 0))
		fuzz_fail("loaded: an address does not split");
}

/* config_addr_split on the input as a string. */
static void
check_addr(const uint8_t *data, size_t size)
{
	char s[CONFIG_ADDR_MAX * 2], host[PP_FQDN_MAX + 1];
	int port = 0;

	if (size >= sizeof(s))
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (config_addr_split(s, host, &port) != 0)
		return;
	if (host[0] == '\0' || strlen(host) > PP_FQDN_MAX || port < 1 ||
	    port > 65535)
		fuzz_fail("config_addr_split: bad host or port");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg;
	size_t plen = strlen(path);

	check_addr(data, size);
	if (fuzz_write_file(path, data, size) != 0)
		fuzz_fail("cannot write the config file");
	pp_err_clear();
	if (config_load(path, &cfg) == 0) {
		if (verbose)
			fprintf(stderr, "  loaded\n");
		check_loaded(&cfg);
		config_free(&cfg);
		return (0);
	}
	msg = pp_errmsg();
	if (verbose)
		fprintf(stderr, "  refused: %s\n", msg);
	if (pp_errcode() == PP_OK || strchr(msg, '\n') != NULL)
		fuzz_fail("refused without one line of error");
	if (memcmp(&cfg, &zero, sizeof(cfg)) != 0)
		fuzz_fail("refused, but the config is not emptied");
	/* An empty file is refused as a file (fileio), not a line of it. */
	if (size > 0 && (strncmp(msg, path, plen) != 0 || msg[plen] != ':'))
		fuzz_fail("a refusal does not start with PATH:");
	return (0);
}
