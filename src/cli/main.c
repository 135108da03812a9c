/*
 * main.c: poolpair, the pool's admin command.  Global options, then a
 * dispatch table of command groups (cmd_*.c).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

#define POOLPAIR_VERSION "0.1.0"

static const struct cli_cmd groups[] = {
	{ "init", cmd_init, "--pool FQDN [--config-master FQDN]",
	  "create a pool's store" },
	{ "info", cmd_info, "[--json]", "the store's pool, counts and sizes" },
	{ "compact", cmd_compact, "[--json]",
	  "reclaim the space of deleted content" },
	{ "user", cmd_user, "add|del|show|list", "users" },
	{ "setting", cmd_setting, "set|get|del|list", "a user's settings" },
	{ "group", cmd_group, "add|del|list", "a user's contact groups" },
	{ "contact", cmd_contact, "add|set|del|list", "a user's contacts" },
	{ "conf", cmd_conf, "create|show|list|del", "the conference directory" },
	{ "content", cmd_content, "put|get|list|del", "conference content" },
	{ "config", cmd_config, "set|get|list", "configuration documents" },
	{ "journal", cmd_journal,
	  "[--module M] [--since LSN] [--limit N] [--json]",
	  "the change journal" },
	{ "export", cmd_export,
	  "[--module M] [--since LSN | --full] -o PATH",
	  "signed packages sealed to the partner" },
	{ "import", cmd_import, "PACKAGE...",
	  "check and apply the partner's packages" },
	{ "replica", cmd_replica, "[--json]",
	  "how far the partner's replica has come" },
	{ "package", cmd_package, "inspect FILE",
	  "a package's header, without opening it" },
	{ "pki", cmd_pki, "init|issue|revoke|crl|show",
	  "the pair CA and the pools' certificates" },
	{ "audit", cmd_audit, "[--verify] [--limit N] [--json]",
	  "the pool's audit log: list it or verify its chain" },
	{ "owners", cmd_owners, "[--json]",
	  "who writes each user set: owner, epoch, mode" },
	{ "failover", cmd_failover, "POOL [--disaster] [--json]",
	  "take over POOL's users (run at its partner)" },
	{ "failback", cmd_failback, "POOL [--timeout S]",
	  "hand POOL's users back to it (run at its partner)" },
	{ "orphans", cmd_orphans, "list|export",
	  "changes a failed pool made that its partner never had" },
	{ "status", cmd_status, "[--json]",
	  "poolpaird: replication state, link, certificates" },
	{ "sync", cmd_sync, "[--module M] [--wait] [--timeout S]",
	  "poolpaird: ship pending changes now" },
	{ "verify", cmd_verify, "[--repair] [--timeout S] [--json]",
	  "poolpaird: compare primary and partner replica" },
	{ NULL, NULL, NULL, NULL }
};

static void
usage(FILE *f)
{
	const struct cli_cmd *g;

	fprintf(f, "usage: poolpair [--data DIR] [-c FILE] COMMAND [ARGS] "
	    "[--json] [--help]\n\ncommands:\n");
	for (g = groups; g->name != NULL; g++)
		fprintf(f, "  %-8s %-48s %s\n", g->name, g->args, g->help);
	fprintf(f, "\n--data DIR names the pool's data directory (default: "
	    "[pool] data of the\nconfig file, else $POOLPAIR_DATA).  -c FILE "
	    "(--config FILE, default:\n$POOLPAIR_CONFIG) names the pool's "
	    "config file: loaded and checked whole,\nand the store must be "
	    "its pool's.\n--wait-replicated[=S]: after a command that writes, "
	    "wait up to S seconds\n(30) until poolpaird says the partner has "
	    "it.\n'poolpair COMMAND --help' tells more.\n\n"
	    "exit status: 0 done; 1 refused (bad value, unknown, duplicate, "
	    "over a limit,\nread-only here); 2 bad command line; 3 store "
	    "missing, foreign, corrupted,\nkey or certificate problem, missing "
	    "file or I/O error, poolpaird not\nrunning; 4 timeout (poolpaird "
	    "or the partner did not finish in time).\n");
}

int
main(int argc, char **argv)
{
	struct cli c;
	const struct cli_cmd *g;
	int i, rc;

	/* Everything poolpair creates is private to its user. */
	umask(077);
	memset(&c, 0, sizeof(c));
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			c.data = argv[++i];
		else if (strncmp(argv[i], "--data=", 7) == 0)
			c.data = argv[i] + 7;
		else if ((strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			c.config_path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			c.config_path = argv[i] + 9;
		else if (strncmp(argv[i], "--wait-replicated", 17) == 0 &&
		    (argv[i][17] == '\0' || argv[i][17] == '=')) {
			if (cli_wait_option(&c, argv[i] + 17) != 0)
				return (EXIT_USAGE);
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return (EXIT_OK);
		} else if (strcmp(argv[i], "--data") == 0 ||
		    strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) {
			fprintf(stderr, "poolpair: option '%s' needs a value "
			    "(see 'poolpair --help')\n", argv[i]);
			return (EXIT_USAGE);
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("poolpair %s\n", POOLPAIR_VERSION);
			return (EXIT_OK);
		} else {
			fprintf(stderr, "poolpair: unknown option '%.64s' "
			    "(see 'poolpair --help')\n", argv[i]);
			return (EXIT_USAGE);
		}
	}
	if (i == argc) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	/* --data, then the config's [pool] data, then POOLPAIR_DATA. */
	if (c.config_path == NULL && (c.config_path =
	    getenv("POOLPAIR_CONFIG")) != NULL && c.config_path[0] == '\0')
		c.config_path = NULL;
	if (c.data == NULL && c.config_path == NULL)
		c.data = getenv("POOLPAIR_DATA");
	for (g = groups; g->name != NULL; g++)
		if (strcmp(g->name, argv[i]) == 0)
			break;
	if (g->name == NULL) {
		fprintf(stderr, "poolpair: unknown command '%.32s' (see "
		    "'poolpair --help')\n", argv[i]);
		return (EXIT_USAGE);
	}
	c.path = g->name;
	c.cmd = g;
	rc = g->fn(&c, argc - i, argv + i);
	if (rc == EXIT_OK)
		rc = cli_wait_replicated(&c);
	store_close(c.st);
	config_free(c.cfg);
	free(c.cfg);
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		perror("poolpair: stdout");
		rc = EXIT_STORE;
	}
	return (rc);
}
