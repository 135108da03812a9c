/*
 * config_int.h: what config.c (the file) and config_check.c (what it names)
 * share: the parse state and the index of each key.
 */
#ifndef PP_CONFIG_INT_H
#define PP_CONFIG_INT_H

#include <limits.h>
#include <stddef.h>

#include "config.h"

/* Sections. */
enum { CFG_POOL, CFG_PARTNER, CFG_TLS, CFG_BACKUP, CFG_NSECT };

/* Keys, in the order of config.c's table. */
enum {
	CFG_POOL_FQDN, CFG_POOL_DATA,
	CFG_PARTNER_FQDN, CFG_PARTNER_CERT,
	CFG_TLS_CA, CFG_TLS_CRL, CFG_TLS_CERT, CFG_TLS_KEY, CFG_TLS_SEAL_KEY,
	CFG_POOL_LISTEN, CFG_PARTNER_ADDRESS, CFG_BACKUP_SYNC_INTERVAL,
	CFG_NKEYS
};

struct cfg_parse {
	struct pp_config *cfg;		/* filled in */
	const char *file;		/* the config file, for messages */
	char dir[PATH_MAX];		/* its directory, absolute */
	const char *buf;		/* its bytes */
	size_t len, pos;		/* and the reader's position */
	int line;			/* the line inih is on */
	int sect_line[CFG_NSECT];	/* line of each section header, or 0 */
	int key_line[CFG_NKEYS];	/* line of each key, or 0 */
	int failed;			/* an error is recorded */
};

/*
 * Prefix the recorded error with "FILE:${line}: " (keeping its class, or
 * PP_EINVAL if none) and mark ${p} failed.  Returns -1.
 */
int cfg_fail(struct cfg_parse *p, int line);

/*
 * Load the certificates and keys ${p}->cfg names and check them against
 * each other; a refusal names the line of the key concerned.  Returns 0 or
 * -1 (what was loaded stays in ${p}->cfg for config_free).
 */
int cfg_check(struct cfg_parse *p);

#endif
