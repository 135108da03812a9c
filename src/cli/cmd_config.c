/*
 * cmd_config.c: poolpair config (set, get, list): central configuration
 * documents, writable on the config master only.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "util.h"

static int
config_set(struct cli *c, int argc, char **argv)
{
	struct store_config cf;
	char *pos[2] = { NULL, NULL };
	uint8_t *body = NULL;
	size_t len;
	int rc, fd = STDIN_FILENO, n;

	if (cli_args(c, argc, argv, cli_noopts, pos, 1, 2, &n, &rc) != 0)
		return (rc);
	if (pos[1] != NULL && strcmp(pos[1], "-") != 0 &&
	    (fd = open(pos[1], O_RDONLY | O_CLOEXEC)) < 0) {
		pp_errp(PP_EINVAL, "cannot open %s", pos[1]);
		return (cli_fail(c));
	}
	rc = util_read_fd(fd, PP_CONFIG_DOC_MAX, &body, &len,
	    pos[1] != NULL ? pos[1] : "standard input");
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc != 0) {
		/* An unreadable input is refused, not a store failure. */
		if (pp_errcode() == PP_EIO)
			pp_err_reclass(PP_EINVAL);
		return (cli_fail(c));
	}
	if (cli_open(c) != 0 ||
	    store_config_set(c->st, pos[0], body, len, &cf) != 0) {
		free(body);
		return (cli_fail(c));
	}
	free(body);
	printf("%s: version %lld, %zu bytes\n", cf.name, (long long)cf.version,
	    cf.size);
	return (EXIT_OK);
}

static int
config_get(struct cli *c, int argc, char **argv)
{
	struct store_config cf;
	uint8_t *body;
	char *pos[1];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 ||
	    store_config_get(c->st, pos[0], &cf, &body) != 0)
		return (cli_fail(c));
	fwrite(body, 1, cf.size, stdout);
	free(body);
	return (EXIT_OK);
}

static int
config_item(void *arg, const struct store_config *cf)
{
	struct cli *c = arg;
	char t[32];

	if (c->json)
		return (cli_list_item(c, json_pack("{s:s,s:I,s:I,s:s,s:s,s:s}",
		    "name", cf->name, "version", (json_int_t)cf->version,
		    "size", (json_int_t)cf->size, "updated",
		    cli_time_ms(t, cf->updated_ms), "role",
		    cf->primary ? "primary" : "replica", "home", cf->home)));
	printf("%s\t%lld\t%zu\t%s\t%s\t%s\n", cf->name,
	    (long long)cf->version, cf->size, cli_time_ms(t, cf->updated_ms),
	    cf->primary ? "primary" : "replica", cf->home);
	return (0);
}

static int
config_list(struct cli *c, int argc, char **argv)
{
	char master[PP_FQDN_MAX + 1];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_config_master(c->st, master) != 0)
		return (cli_fail(c));
	if (!c->json)
		printf("# config master: %s\n", master);
	if (store_config_list(c->st, config_item, c) != 0)
		return (cli_fail(c));
	if (c->json)
		cli_list_end(c);
	return (EXIT_OK);
}

static const struct cli_cmd config_cmds[] = {
	{ "set", config_set, "NAME [FILE]",
	  "Store FILE (default or '-': standard input, at most 1 MiB) as the\n"
	  "next version of configuration document NAME (1-64 of\n"
	  "[A-Za-z0-9._-], for example imfilter or backup).  Refused unless\n"
	  "this pool is the config master.\n" },
	{ "get", config_get, "NAME", "Print a configuration document.\n" },
	{ "list", config_list, "[--json]",
	  "List configuration documents: name, version, size, last update;\n"
	  "the text form first names the config master.\n" },
	{ NULL, NULL, NULL, NULL }
};

int
cmd_config(struct cli *c, int argc, char **argv)
{

	return (cli_dispatch(c, "config", config_cmds, argc, argv));
}
