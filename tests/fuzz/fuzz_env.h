/*
 * fuzz_env.h: what the harnesses of the config file, the admin socket and
 * the peer protocol share: a temp directory of their own (on /dev/shm when
 * there is one, so that SQLite's syncs cost nothing), removed at exit; in
 * it, a pair CA with pools FUZZ_POOL and FUZZ_PARTNER issued, and a config
 * file that names them.  Test code only.
 */
#ifndef PP_FUZZ_ENV_H
#define PP_FUZZ_ENV_H

#include <stddef.h>

#include "config.h"

#define FUZZ_POOL	"pool-a.example.test"
#define FUZZ_PARTNER	"pool-b.example.test"

/*
 * A valid config of pool FUZZ_POOL, with paths relative to the directory
 * of fuzz_env_pki: ca/ca.crt, ca/ca.crl, a/ and b/ (identity.crt,
 * identity.key, seal.key), data/.
 */
extern const char fuzz_conf_text[];

/*
 * A new directory "${prefix}.XXXXXX" under /dev/shm (or $TMPDIR, /tmp),
 * removed with what it holds at exit.  Returns its path (static, valid
 * until exit) or aborts.
 */
const char *fuzz_tmpdir(const char *prefix);

/* Make the pair CA and both pools' identities in ${dir}, or abort. */
void fuzz_env_pki(const char *dir);

/*
 * Write ${len} bytes of ${buf} to file ${path} (mode 0600, replaced).
 * Returns 0 or -1.
 */
int fuzz_write_file(const char *path, const void *buf, size_t len);

/*
 * Load the config fuzz_conf_text (with [backup] sync_interval 0 added) from
 * ${dir}, prepared by fuzz_env_pki, into ${cfg}, or abort.
 */
void fuzz_env_config(const char *dir, struct pp_config *cfg);

#endif
