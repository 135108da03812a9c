/*
 * cli.h: what the poolpair subcommands share: the invocation context, the
 * option parser, the dispatch table type, exit codes and output helpers.
 */
#ifndef PP_CLI_H
#define PP_CLI_H

#include <limits.h>
#include <stddef.h>

#include <jansson.h>

#include "store.h"

/* Exit codes (documented in docs/man/poolpair.1 and --help). */
#define EXIT_OK		0	/* done */
#define EXIT_REFUSED	1	/* refused: bad value, unknown, duplicate,
				   over a limit, read-only here */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_STORE	3	/* store missing, foreign, corrupted, key
				   problem, I/O error */
#define EXIT_TIMEOUT	4	/* poolpaird answered "timeout": for
				   --wait-replicated, committed here but not
				   acknowledged by the partner in time */

#define CLI_MAXARGS	8	/* positional arguments of one subcommand */
#define CLI_MAXLIST	PP_GROUPS_PER_USER	/* values of a repeated option */

struct pp_config;

struct cli {
	const char *data;	/* --data DIR or POOLPAIR_DATA */
	const char *config_path;	/* -c FILE or POOLPAIR_CONFIG */
	struct pp_config *cfg;	/* loaded by cli_config */
	const char *path;	/* "user add": the command being run */
	const struct cli_cmd *cmd;
	int json;		/* --json given */
	struct store *st;	/* opened by cli_open */
	size_t nitems;		/* items printed by cli_list_item */
	int wait_replicated;	/* --wait-replicated[=S]: seconds, 0: off */
	int64_t written[STORE_NMOD];	/* what this command committed (LSNs) */
};

struct cli_cmd {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *args;	/* synopsis after the command path */
	const char *help;	/* what it does, options, one per line */
};

/* An option: a flag (no value), a value, or a repeatable value. */
struct cli_opt {
	const char *name;	/* long name, without "--" */
	char shortname;		/* or 0 */
	enum { OPT_FLAG, OPT_VALUE, OPT_LIST } kind;
	void *dst;		/* int *, const char **, or const char *[] */
	size_t *count;		/* OPT_LIST: values stored */
};

/* An option table with no options. */
extern const struct cli_opt cli_noopts[];

/*
 * Parse ${argv} (${argv}[0] is the command's name) against ${opts} (ended by
 * a zero entry; "--json" and "--help" are always known), storing between
 * ${min} and ${max} positional arguments in ${pos} and their count in
 * ${npos} (may be NULL when min == max).  Returns 0; or, having printed help
 * (exit 0) or a usage error (exit 2), -1 with the exit code in ${rc}.
 */
int cli_args(struct cli *c, int argc, char **argv, const struct cli_opt *opts,
    char **pos, int min, int max, int *npos, int *rc);

/*
 * Run the subcommand of table ${cmds} (ended by a zero entry) named by
 * ${argv}[1], or print the table's help.  ${group} names the table.
 */
int cli_dispatch(struct cli *c, const char *group, const struct cli_cmd *cmds,
    int argc, char **argv);

/* Print a usage error about ${c}'s command; returns EXIT_USAGE. */
int cli_usage(struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Load the config file named by -c (${c}->config_path) into ${c}->cfg,
 * once; main frees it.  Returns 0 or -1 (an error naming FILE:LINE).
 */
int cli_config(struct cli *c);

/*
 * Open the store named by --data (or else by [pool] data of the config
 * file) into ${c}->st.  With a config file, the store must be the pool
 * that the config names.  Returns 0 or -1.
 */
int cli_open(struct cli *c);

/*
 * Whole files or nothing: cli_tmp_open makes a temporary file beside
 * ${path} (its name into ${tmp}) and returns its descriptor, or -1;
 * cli_tmp_close syncs and closes ${fd} and renames ${tmp} to ${path} if
 * ${ok}, else (or if any of that fails) removes ${tmp}.  Returns 0 or -1.
 */
int cli_tmp_open(const char *path, char tmp[static PATH_MAX]);
int cli_tmp_close(int fd, const char *tmp, const char *path, int ok);

/*
 * Add what store handle ${st} committed (store_written) to ${c}->written,
 * for --wait-replicated: a command's own handle, or one of its threads'.
 */
void cli_note_written(struct cli *c, const struct store *st);

/* Print the recorded error (err.h) once; return its exit code. */
int cli_fail(struct cli *c);

/* Exit code for the recorded error class. */
int cli_exit_code(void);

/* Print ${j} (stolen) as one JSON document on stdout.  Returns 0 or -1. */
int cli_json_print(json_t *j);

/*
 * Listings: cli_list_item prints ${j} (stolen) as the next element of a JSON
 * array (--json); cli_list_end closes it ("[]" if empty).
 */
int cli_list_item(struct cli *c, json_t *j);
void cli_list_end(struct cli *c);

/* "2026-11-23T10:00:00Z" for a time in milliseconds. */
const char *cli_time_ms(char buf[static 32], int64_t ms);

/* Per-group entry points (cmd_*.c). */
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_info(struct cli *c, int argc, char **argv);
int cmd_compact(struct cli *c, int argc, char **argv);
int cmd_user(struct cli *c, int argc, char **argv);
int cmd_setting(struct cli *c, int argc, char **argv);
int cmd_group(struct cli *c, int argc, char **argv);
int cmd_contact(struct cli *c, int argc, char **argv);
int cmd_conf(struct cli *c, int argc, char **argv);
int cmd_content(struct cli *c, int argc, char **argv);
int cmd_config(struct cli *c, int argc, char **argv);
int cmd_journal(struct cli *c, int argc, char **argv);
int cmd_pki(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_replica(struct cli *c, int argc, char **argv);
int cmd_package(struct cli *c, int argc, char **argv);
int cmd_audit(struct cli *c, int argc, char **argv);
int cmd_owners(struct cli *c, int argc, char **argv);
int cmd_failover(struct cli *c, int argc, char **argv);
int cmd_failback(struct cli *c, int argc, char **argv);
int cmd_orphans(struct cli *c, int argc, char **argv);

/*
 * Send ${req} (stolen) to poolpaird and wait ${timeout_ms} for an
 * "ok":true response into ${resp} (caller decrefs); else print one line
 * (after ${what}) and return the exit code (cmd_ctl.c).
 */
int ctl_call(struct cli *c, const char *what, json_t *req, int timeout_ms,
    json_t **resp);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_sync(struct cli *c, int argc, char **argv);
int cmd_verify(struct cli *c, int argc, char **argv);

/*
 * --wait-replicated${arg} (${arg} "" or "=S"): set ${c}->wait_replicated.
 * Returns 0, or -1 having printed a usage error.
 */
int cli_wait_option(struct cli *c, const char *arg);

/*
 * After data command ${c}->path succeeded: if it writes and
 * --wait-replicated was given, wait until poolpaird says the partner
 * acknowledged the store's journal heads.  Returns the exit code (0, or
 * having printed one line: 4 timeout, 1 refused, 3 no daemon).
 */
int cli_wait_replicated(struct cli *c);

/* JSON of the store's records (cmd_*.c share them). */
json_t *cli_user_json(const struct store_user *u);
json_t *cli_contact_json(const struct store_contact *ct);
json_t *cli_conf_json(const struct store_conf *cf);

#endif
