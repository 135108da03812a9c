/*
 * cli_util.c: the option parser, dispatch, errors and output of poolpair.
 */
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "util.h"

const struct cli_opt cli_noopts[] = { { NULL, 0, 0, NULL, NULL } };

/* Print the help of ${c}'s current command to ${f}. */
static void
cmd_help(struct cli *c, FILE *f)
{

	fprintf(f, "usage: poolpair [--data DIR] %s %s\n", c->path,
	    c->cmd->args);
	if (c->cmd->help[0] != '\0')
		fprintf(f, "\n%s%s", c->cmd->help,
		    c->cmd->help[strlen(c->cmd->help) - 1] == '\n' ? "" : "\n");
}

int
cli_usage(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "poolpair %s: ", c->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'poolpair %s --help')\n", c->path);
	return (EXIT_USAGE);
}

/* Find option ${name} (long) or ${sc} (short) in ${opts}. */
static const struct cli_opt *
opt_find(const struct cli_opt *opts, const char *name, size_t nlen, char sc)
{
	for (; opts->name != NULL; opts++) {
		if (sc != 0 ? opts->shortname == sc :
		    (strlen(opts->name) == nlen &&
		    strncmp(opts->name, name, nlen) == 0))
			return (opts);
	}
	return (NULL);
}

/* Store ${val} for ${o}.  Returns 0 or -1 (too many values). */
static int
opt_store(const struct cli_opt *o, const char *val)
{

	switch (o->kind) {
	case OPT_FLAG:
		*(int *)o->dst = 1;
		break;
	case OPT_VALUE:
		*(const char **)o->dst = val;
		break;
	case OPT_LIST:
		if (*o->count >= CLI_MAXLIST)
			return (-1);
		((const char **)o->dst)[(*o->count)++] = val;
		break;
	}
	return (0);
}

int
cli_args(struct cli *c, int argc, char **argv, const struct cli_opt *opts,
    char **pos, int min, int max, int *npos, int *rc)
{
	const struct cli_opt *o;
	const char *a, *val, *eq;
	int i, n = 0, dashdash = 0;
	size_t nlen;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (n >= max) {
				*rc = cli_usage(c, "unexpected argument "
				    "'%.64s'", a);
				return (-1);
			}
			pos[n++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cmd_help(c, stdout);
			*rc = EXIT_OK;
			return (-1);
		}
		if (strcmp(a, "--json") == 0) {
			c->json = 1;
			continue;
		}
		eq = a[1] == '-' ? strchr(a, '=') : NULL;
		nlen = eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (a[1] == '-')
			o = opt_find(opts, a + 2, nlen, 0);
		else
			o = a[2] == '\0' ? opt_find(opts, NULL, 0, a[1]) : NULL;
		if (o == NULL) {
			*rc = cli_usage(c, "unknown option '%.64s'", a);
			return (-1);
		}
		val = NULL;
		if (o->kind != OPT_FLAG) {
			if (eq != NULL)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				*rc = cli_usage(c, "option '%s' needs a value",
				    a);
				return (-1);
			}
		} else if (eq != NULL) {
			*rc = cli_usage(c, "option '--%s' takes no value",
			    o->name);
			return (-1);
		}
		if (opt_store(o, val) != 0) {
			*rc = cli_usage(c, "option '--%s' given more than %d "
			    "times", o->name, CLI_MAXLIST);
			return (-1);
		}
	}
	if (n < min) {
		*rc = cli_usage(c, "missing argument (usage: %s %s)", c->path,
		    c->cmd->args);
		return (-1);
	}
	if (npos != NULL)
		*npos = n;
	return (0);
}

int
cli_dispatch(struct cli *c, const char *group, const struct cli_cmd *cmds,
    int argc, char **argv)
{
	static char path[64];
	const struct cli_cmd *cmd;
	FILE *f;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		/* Asked for: stdout, exit 0; a missing command: stderr, 2. */
		f = argc < 2 ? stderr : stdout;
		fprintf(f, "usage: poolpair [--data DIR] %s COMMAND ...\n\n"
		    "commands:\n", group);
		for (cmd = cmds; cmd->name != NULL; cmd++)
			fprintf(f, "  %s %s %s\n", group, cmd->name, cmd->args);
		fprintf(f, "\n'poolpair %s COMMAND --help' tells more.\n",
		    group);
		return (argc < 2 ? EXIT_USAGE : EXIT_OK);
	}
	for (cmd = cmds; cmd->name != NULL; cmd++) {
		if (strcmp(cmd->name, argv[1]) == 0) {
			snprintf(path, sizeof(path), "%s %s", group,
			    cmd->name);
			c->path = path;
			c->cmd = cmd;
			return (cmd->fn(c, argc - 1, argv + 1));
		}
	}
	fprintf(stderr, "poolpair %s: unknown command '%.32s' (see "
	    "'poolpair %s --help')\n", group, argv[1], group);
	return (EXIT_USAGE);
}

int
cli_exit_code(void)
{

	switch (pp_errcode()) {
	case PP_OK:
		return (EXIT_OK);
	case PP_ESTORE:
	case PP_EKEY:
	case PP_EIO:
	case PP_EINTERNAL:
		return (EXIT_STORE);
	default:
		return (EXIT_REFUSED);
	}
}

int
cli_fail(struct cli *c)
{

	(void)c;
	fprintf(stderr, "poolpair: %s\n", pp_errmsg());
	return (cli_exit_code() == EXIT_OK ? EXIT_STORE : cli_exit_code());
}

int
cli_config(struct cli *c)
{
	struct pp_config *cfg;

	if (c->cfg != NULL)
		return (0);
	if (c->config_path == NULL || c->config_path[0] == '\0') {
		pp_err(PP_EINVAL, "no config file named: give -c FILE or set "
		    "POOLPAIR_CONFIG");
		return (-1);
	}
	if ((cfg = malloc(sizeof(*cfg))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	if (config_load(c->config_path, cfg) != 0) {
		free(cfg);
		return (-1);
	}
	c->cfg = cfg;
	return (0);
}

int
cli_open(struct cli *c)
{

	if (c->config_path != NULL && cli_config(c) != 0)
		return (-1);
	if (c->data == NULL && c->cfg != NULL)
		c->data = c->cfg->data;
	if (c->data == NULL || c->data[0] == '\0') {
		pp_err(PP_EINVAL, "no store named: give --data DIR, -c FILE "
		    "or set POOLPAIR_DATA");
		return (-1);
	}
	if ((c->st = store_open(c->data)) == NULL)
		return (-1);
	if (c->cfg != NULL && strcasecmp(store_pool(c->st), c->cfg->pool) !=
	    0) {
		pp_err(PP_ESTORE, "the store in %s is pool %s's, but %s is "
		    "the config of pool %s", c->data, store_pool(c->st),
		    c->cfg->path, c->cfg->pool);
		store_close(c->st);
		c->st = NULL;
		return (-1);
	}
	return (0);
}

int
cli_json_print(json_t *j)
{
	int rc;

	if (j == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	/* Any value: a daemon's answer may hold null or a string here. */
	rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY);
	putchar('\n');
	json_decref(j);
	if (rc != 0)
		pp_errp(PP_EIO, "cannot write JSON");
	return (rc == 0 ? 0 : -1);
}

int
cli_list_item(struct cli *c, json_t *j)
{
	int rc;

	if (j == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	fputs(c->nitems++ == 0 ? "[\n" : ",\n", stdout);
	rc = json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (rc != 0)
		pp_errp(PP_EIO, "cannot write JSON");
	return (rc == 0 ? 0 : -1);
}

void
cli_list_end(struct cli *c)
{

	fputs(c->nitems == 0 ? "[]\n" : "\n]\n", stdout);
}

const char *
cli_time_ms(char buf[static 32], int64_t ms)
{

	util_time_fmt(buf, 32, ms / 1000);
	return (buf);
}

int
cli_tmp_open(const char *path, char tmp[static PATH_MAX])
{
	int fd;

	if ((size_t)snprintf(tmp, PATH_MAX, "%s.XXXXXX", path) >= PATH_MAX) {
		pp_err(PP_EINVAL, "output path is too long");
		return (-1);
	}
	if ((fd = mkstemp(tmp)) < 0) {
		pp_errp(PP_EIO, "cannot create %s", tmp);
		return (-1);
	}
	return (fd);
}

int
cli_tmp_close(int fd, const char *tmp, const char *path, int ok)
{

	if (ok && fsync(fd) != 0) {
		pp_errp(PP_EIO, "cannot write %s", tmp);
		ok = 0;
	}
	if (close(fd) != 0 && ok) {
		pp_errp(PP_EIO, "cannot write %s", tmp);
		ok = 0;
	}
	if (ok && rename(tmp, path) != 0) {
		pp_errp(PP_EIO, "cannot rename %s to %s", tmp, path);
		ok = 0;
	}
	if (!ok)
		(void)unlink(tmp);
	return (ok ? 0 : -1);
}
