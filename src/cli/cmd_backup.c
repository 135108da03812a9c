/*
 * cmd_backup.c: poolpair export, import, replica and package inspect:
 * offline packages, carried by any means between the paired pools.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "bk_keys.h"
#include "cli.h"
#include "config.h"
#include "err.h"
#include "fileio.h"
#include "util.h"

/* The detailed help of the top-level commands here. */
static const struct cli_cmd export_help = { "export", NULL,
	"[--module M] [--since LSN | --full] [--level N] -o PATH [--json]",
	"Write this pool's data as signed packages sealed to its partner\n"
	"(needs -c FILE).  With --module (userdata, confcontent, config), PATH\n"
	"is the package file ('-': standard output); without, PATH is a\n"
	"directory that receives userdata.ppkg, confcontent.ppkg and\n"
	"config.ppkg.  A file is written whole or not at all.\n\n"
	"  --since LSN  the changes after LSN (what the partner's 'poolpair\n"
	"               replica' shows it has); a snapshot instead if the\n"
	"               journal no longer reaches back\n"
	"  --full       a snapshot: all of this pool's data (the default)\n"
	"  --level N    zstd level, 0 (none) to 19 (default 3); chunks that\n"
	"               do not compress are sent as they are\n" };

static const struct cli_cmd import_help = { "import", NULL,
	"PACKAGE... [--json]",
	"Check and apply packages from the partner to this pool's replica\n"
	"(needs -c FILE), in the order given (userdata before confcontent).\n"
	"A package must name this pair, this pool as target and the partner\n"
	"as source and signer, continue what was imported, open frame by\n"
	"frame and carry a good signature; it is applied in one transaction\n"
	"or not at all.  Importing a package twice does nothing.  Refusals\n"
	"exit 1 and are recorded in the audit log (poolpair audit).\n" };

static const struct cli_cmd replica_help = { "replica", NULL, "[--json]",
	"How far the replica of each partner module has come: source,\n"
	"module, epoch, last LSN imported, and when.\n" };

/* Open the config, the store and the keys; all three or an error. */
static int
bk_open(struct cli *c, struct bk_keys *k)
{

	if (cli_config(c) != 0 || cli_open(c) != 0 ||
	    bk_keys_from_config(c->cfg, k) != 0)
		return (-1);
	return (0);
}

/* Print what export ${o} wrote to ${path}. */
static int
export_report(struct cli *c, const struct bk_keys *k,
    const struct bk_export_opts *o, const char *path,
    const struct bk_export_result *res)
{
	char hex[2 * PKG_ID_LEN + 1];
	FILE *f = strcmp(path, "-") == 0 ? stderr : stdout;

	util_hex(hex, res->hdr.id, PKG_ID_LEN);
	if (c->json && f == stdout)
		return (cli_json_print(json_pack("{s:s, s:s, s:s, s:I, s:I, "
		    "s:I, s:I, s:I, s:I, s:s, s:b}", "file", path, "module",
		    store_module_name(o->module), "kind",
		    res->hdr.kind == PKG_SNAPSHOT ? "snapshot" : "changes",
		    "epoch", (json_int_t)res->hdr.epoch,
		    "since", (json_int_t)res->hdr.since,
		    "upto", (json_int_t)res->hdr.upto,
		    "records", (json_int_t)res->stats.records,
		    "chunks", (json_int_t)res->stats.chunks,
		    "bytes", (json_int_t)res->stats.bytes, "id", hex,
		    "fell_back", res->fell_back)));
	fprintf(f, "%s: %s %s of %s, LSN %lld..%lld (epoch %lld): %llu "
	    "records, %llu chunks, %llu bytes%s\n", path,
	    store_module_name(o->module),
	    res->hdr.kind == PKG_SNAPSHOT ? "snapshot" : "changes", k->pool,
	    (long long)res->hdr.since, (long long)res->hdr.upto,
	    (long long)res->hdr.epoch, (unsigned long long)res->stats.records,
	    (unsigned long long)res->stats.chunks,
	    (unsigned long long)res->stats.bytes,
	    res->fell_back ? " (a snapshot: the journal no longer reaches "
	    "back)" : "");
	return (0);
}

/*
 * Export module ${o} to ${path}: "-" is standard output, and an existing
 * path that is not a regular file (a pipe, a device) is written in place;
 * otherwise through a temporary file beside it, synced and renamed, so a
 * package file is whole or absent.
 */
static int
export_file(struct cli *c, const struct bk_keys *k,
    const struct bk_export_opts *o, const char *path)
{
	struct bk_export_result res;
	struct stat sb;
	char tmp[PATH_MAX];
	int fd, direct;

	direct = strcmp(path, "-") == 0 ||
	    (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode));
	if (direct && strcmp(path, "-") != 0 && S_ISDIR(sb.st_mode)) {
		pp_err(PP_EINVAL, "%s is a directory (use it without "
		    "--module)", path);
		return (-1);
	}
	if (direct) {
		if ((fd = strcmp(path, "-") == 0 ? STDOUT_FILENO :
		    open(path, O_WRONLY | O_CLOEXEC)) < 0) {
			pp_errp(PP_EIO, "cannot open %s", path);
			return (-1);
		}
		tmp[0] = '\0';
	} else if ((fd = cli_tmp_open(path, tmp)) < 0)
		return (-1);
	store_read_once(c->st);
	if (bk_export(c->st, k, o, fd, &res) != 0)
		goto err;
	if (direct) {
		if (fd != STDOUT_FILENO)
			close(fd);
		return (export_report(c, k, o, path, &res));
	}
	if (cli_tmp_close(fd, tmp, path, 1) != 0)
		return (-1);
	return (export_report(c, k, o, path, &res));
err:
	if (tmp[0] != '\0')
		(void)cli_tmp_close(fd, tmp, path, 0);
	else if (fd != STDOUT_FILENO)
		close(fd);
	return (-1);
}

int
cmd_export(struct cli *c, int argc, char **argv)
{
	const char *mod = NULL, *since = NULL, *out = NULL, *level = "3";
	int full = 0, rc, m, m0, m1;
	struct cli_opt o[] = {
		{ "module", 0, OPT_VALUE, &mod, NULL },
		{ "since", 0, OPT_VALUE, &since, NULL },
		{ "full", 0, OPT_FLAG, &full, NULL },
		{ "level", 0, OPT_VALUE, &level, NULL },
		{ "output", 'o', OPT_VALUE, &out, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	struct bk_export_opts eo;
	struct bk_keys k;
	enum store_module em;
	char path[PATH_MAX], *end;
	long long v;

	c->cmd = &export_help;
	if (cli_args(c, argc, argv, o, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (out == NULL)
		return (cli_usage(c, "-o FILE (or -o DIR without --module) "
		    "is required"));
	if (mod == NULL && strcmp(out, "-") == 0)
		return (cli_usage(c, "-o - (standard output) needs --module"));
	if (full && since != NULL)
		return (cli_usage(c, "--since and --full exclude each other"));
	memset(&eo, 0, sizeof(eo));
	eo.since = -1;
	if (since != NULL) {
		errno = 0;
		v = strtoll(since, &end, 10);
		if (errno != 0 || end == since || *end != '\0' || v < 0 ||
		    v >= (1LL << 48))
			return (cli_usage(c, "--since needs an LSN (0 or "
			    "more)"));
		eo.since = v;
	}
	v = strtol(level, &end, 10);
	if (*end != '\0' || end == level || v < 0 || v > 19)
		return (cli_usage(c, "--level needs 0 (no compression) to 19"));
	eo.level = (int)v;
	m0 = 0;
	m1 = STORE_NMOD - 1;
	if (mod != NULL) {
		if (store_module_parse(mod, &em) != 0)
			return (cli_fail(c));
		m0 = m1 = (int)em;
	}
	if (bk_open(c, &k) != 0)
		return (cli_fail(c));
	if (mod == NULL && fileio_mkdir(out) != 0)
		goto fail;
	for (m = m0; m <= m1; m++) {
		eo.module = (enum store_module)m;
		if (mod == NULL && snprintf(path, sizeof(path), "%s/%s.ppkg",
		    out, store_module_name(eo.module)) >= (int)sizeof(path)) {
			pp_err(PP_EINVAL, "output path is too long");
			goto fail;
		}
		if (export_file(c, &k, &eo, mod == NULL ? path : out) != 0)
			goto fail;
	}
	bk_keys_wipe(&k);
	return (EXIT_OK);
fail:
	bk_keys_wipe(&k);
	return (cli_fail(c));
}

/* Import the package file ${path}; refusals are recorded for the audit. */
static int
import_one(struct cli *c, const struct bk_keys *k, const char *path)
{
	struct bk_import_result res;
	const char *mod;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		pp_errp(PP_EIO, "cannot open %s", path);
		return (-1);
	}
	rc = bk_import(c->st, k, fd, &res);
	close(fd);
	if (rc != 0) {
		if (pp_errcode() == PP_EINVAL || pp_errcode() == PP_EROFS) {
			bk_refusal_record(c->data, "package",
			    util_basename(path), pp_errmsg());
			pp_err_reclass(PP_EINVAL);
		}
		return (-1);
	}
	mod = store_module_name((enum store_module)res.hdr.module);
	if (c->json)
		return (cli_json_print(json_pack("{s:s, s:s, s:s, s:b, s:s, "
		    "s:I, s:I, s:I, s:I}", "file", path, "module", mod,
		    "source", res.hdr.source, "noop", res.noop, "why",
		    res.why, "epoch", (json_int_t)res.hdr.epoch,
		    "upto", (json_int_t)res.hdr.upto,
		    "records", (json_int_t)res.stats.records,
		    "chunks", (json_int_t)res.stats.chunks)));
	if (res.noop)
		printf("%s: nothing to do: %s\n", path, res.why);
	else
		printf("%s: imported %s %s of %s up to LSN %lld (epoch "
		    "%lld): %llu records, %llu chunks\n", path, mod,
		    res.hdr.kind == PKG_SNAPSHOT ? "snapshot" : "changes",
		    res.hdr.source, (long long)res.hdr.upto,
		    (long long)res.hdr.epoch,
		    (unsigned long long)res.stats.records,
		    (unsigned long long)res.stats.chunks);
	return (0);
}

int
cmd_import(struct cli *c, int argc, char **argv)
{
	char *pos[CLI_MAXARGS];
	struct bk_keys k;
	int rc, n, i;

	c->cmd = &import_help;
	if (cli_args(c, argc, argv, cli_noopts, pos, 1, CLI_MAXARGS, &n,
	    &rc) != 0)
		return (rc);
	if (bk_open(c, &k) != 0)
		return (cli_fail(c));
	for (i = 0; i < n; i++)
		if (import_one(c, &k, pos[i]) != 0) {
			bk_keys_wipe(&k);
			return (cli_fail(c));
		}
	bk_keys_wipe(&k);
	return (EXIT_OK);
}

static size_t replica_rows;	/* printed as text */

static int
replica_item(void *arg, const struct store_replica *r)
{
	struct cli *c = arg;
	char ts[32];

	if (c->json)
		return (cli_list_item(c, json_pack("{s:s, s:s, s:I, s:I, s:s, "
		    "s:I}", "source", r->source, "module",
		    store_module_name(r->module), "epoch", (json_int_t)r->epoch,
		    "lsn", (json_int_t)r->lsn, "imported",
		    cli_time_ms(ts, r->imported_ms), "records",
		    (json_int_t)r->records)));
	printf("%-28s %-12s epoch %-4lld LSN %-10lld imported %s\n", r->source,
	    store_module_name(r->module), (long long)r->epoch,
	    (long long)r->lsn, cli_time_ms(ts, r->imported_ms));
	replica_rows++;
	return (0);
}

int
cmd_replica(struct cli *c, int argc, char **argv)
{
	int rc;

	c->cmd = &replica_help;
	if (cli_args(c, argc, argv, cli_noopts, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_replica_list(c->st, replica_item, c) !=
	    0)
		return (cli_fail(c));
	if (c->json)
		cli_list_end(c);
	else if (replica_rows == 0)
		printf("no replica imported yet\n");
	return (EXIT_OK);
}

static int
package_inspect(struct cli *c, int argc, char **argv)
{
	struct pkg_hdr h;
	struct stat sb;
	char *pos[1], id[2 * PKG_ID_LEN + 1], fp[2 * CRYPTO_HASH_LEN + 1];
	char ts[32];
	int rc, fd;

	if (cli_args(c, argc, argv, cli_noopts, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if ((fd = open(pos[0], O_RDONLY | O_CLOEXEC)) < 0) {
		pp_errp(PP_EIO, "cannot open %s", pos[0]);
		return (cli_fail(c));
	}
	rc = fstat(fd, &sb) != 0 ? -1 : pkg_header_read(fd, &h);
	close(fd);
	if (rc != 0)
		return (cli_fail(c));
	util_hex(id, h.id, PKG_ID_LEN);
	util_hex(fp, h.signer, CRYPTO_HASH_LEN);
	cli_time_ms(ts, h.created_ms);
	if (c->json)
		return (cli_json_print(json_pack("{s:i, s:s, s:s, s:s, s:s, "
		    "s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:I}", "version",
		    h.version, "pair", h.pair, "source", h.source, "target",
		    h.target, "module",
		    store_module_name((enum store_module)h.module), "kind",
		    h.kind == PKG_SNAPSHOT ? "snapshot" : "changes", "epoch",
		    (json_int_t)h.epoch, "since", (json_int_t)h.since, "upto",
		    (json_int_t)h.upto, "created", ts, "id", id, "signer", fp,
		    "size", (json_int_t)sb.st_size)) == 0 ? EXIT_OK :
		    cli_fail(c));
	printf("package version %d, %lld bytes\n  pair     %s\n  source   %s\n"
	    "  target   %s\n  module   %s\n  kind     %s\n  epoch    %lld\n"
	    "  LSNs     %lld..%lld (after %lld, up to %lld)\n"
	    "  created  %s\n  id       %s\n  signer   %s (certificate "
	    "SHA-256)\n  (the body is sealed to the target; not opened)\n",
	    h.version, (long long)sb.st_size, h.pair, h.source, h.target,
	    store_module_name((enum store_module)h.module),
	    h.kind == PKG_SNAPSHOT ? "snapshot" : "changes",
	    (long long)h.epoch, (long long)h.since + 1, (long long)h.upto,
	    (long long)h.since, (long long)h.upto, ts, id, fp);
	return (EXIT_OK);
}

static const struct cli_cmd package_cmds[] = {
	{ "inspect", package_inspect, "FILE [--json]",
	  "Show a package's header (pair, source, target, module, epoch,\n"
	  "LSN range, creation time, id, signer) without opening its sealed\n"
	  "body: no key is needed.\n" },
	{ NULL, NULL, NULL, NULL }
};

int
cmd_package(struct cli *c, int argc, char **argv)
{

	return (cli_dispatch(c, "package", package_cmds, argc, argv));
}

