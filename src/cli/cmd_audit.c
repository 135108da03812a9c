/*
 * cmd_audit.c: poolpair audit: list or verify the pool's audit log
 * (DATA/audit.log and audit.log.1, audit.h).  It reads those files only,
 * with neither the store nor its key, so it also works on a pool whose
 * store is damaged.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "config.h"
#include "err.h"

#define AUDIT_LIMIT_MAX	1000000000ULL

static const struct cli_cmd audit_help = { "audit", NULL,
	"[--verify] [--limit N] [--json]",
	"List the pool's audit log, oldest first: admin actions and security\n"
	"events (refused packages, later refused connections and admin\n"
	"requests), one record each with its seq, time, kind, actor and\n"
	"detail.  The log is DATA/audit.log, and audit.log.1 before it once\n"
	"it has been rotated; --data DIR or -c FILE names DATA.  Neither the\n"
	"store nor its key is needed.\n\n"
	"  --limit N  only the last N records\n"
	"  --verify   check every line and the hash chain through both\n"
	"             files instead: prints 'audit log: N records, chain\n"
	"             intact', or names the first problem (file, line, seq,\n"
	"             why) and exits 1\n" };

static size_t audit_rows;	/* printed as text */

/* The pool's data directory into ${dir}: --data, else -c FILE's. */
static int
audit_dir(struct cli *c, const char **dir)
{
	struct stat sb;

	if (c->data == NULL && c->config_path != NULL) {
		if (cli_config(c) != 0)
			return (-1);
		c->data = c->cfg->data;
	}
	if (c->data == NULL || c->data[0] == '\0') {
		pp_err(PP_EINVAL, "no pool named: give --data DIR, -c FILE or "
		    "set POOLPAIR_DATA");
		return (-1);
	}
	if (stat(c->data, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		pp_err(PP_ESTORE, "no pool data directory at %s", c->data);
		return (-1);
	}
	*dir = c->data;
	return (0);
}

/* Print ${s} with control characters as '?': no terminal tricks. */
static void
print_text(const char *s)
{

	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static int
audit_item(void *arg, const struct audit_rec *r)
{
	struct cli *c = arg;

	if (c->json)
		return (cli_list_item(c, json_pack("{s:I, s:s, s:s, s:s, s:s, "
		    "s:s, s:s}", "seq", (json_int_t)r->seq, "time", r->time,
		    "kind", r->kind, "actor", r->actor, "detail", r->detail,
		    "prev", r->prev, "hash", r->hash)));
	printf("%llu\t%s\t%s\t", (unsigned long long)r->seq, r->time,
	    r->kind);
	print_text(r->actor);
	putchar('\t');
	print_text(r->detail);
	putchar('\n');
	audit_rows++;
	return (0);
}

/* Print the verdict ${r}: exit 0 when intact, 1 at a fault. */
static int
verify_print(struct cli *c, const struct audit_report *r)
{

	if (c->json && cli_json_print(json_pack("{s:b, s:I, s:I, s:I, s:I, "
	    "s:b, s:s?, s:s?, s:I, s:I, s:s?}", "intact", r->fault == AUDIT_OK,
	    "records", (json_int_t)r->records,
	    "first_seq", (json_int_t)r->first_seq,
	    "last_seq", (json_int_t)r->last_seq, "torn", (json_int_t)r->torn,
	    "head_rotated", r->head_rotated, "fault", r->fault == AUDIT_OK ?
	    NULL : audit_fault_name(r->fault), "file", r->fault == AUDIT_OK ?
	    NULL : r->file, "line", (json_int_t)r->line,
	    "seq", (json_int_t)r->seq,
	    "why", r->fault == AUDIT_OK ? NULL : r->why)) != 0)
		return (cli_fail(c));
	if (r->fault != AUDIT_OK) {
		pp_err(PP_EINVAL, "audit log: %s at %s line %llu (seq %llu): "
		    "%s", audit_fault_name(r->fault), r->file,
		    (unsigned long long)r->line, (unsigned long long)r->seq,
		    r->why);
		return (cli_fail(c));
	}
	if (c->json)
		return (EXIT_OK);
	printf("audit log: %llu records, chain intact\n",
	    (unsigned long long)r->records);
	if (r->records > 0)
		printf("  seq %llu..%llu\n", (unsigned long long)r->first_seq,
		    (unsigned long long)r->last_seq);
	if (r->head_rotated)
		printf("  records before seq %llu were rotated away\n",
		    (unsigned long long)r->first_seq);
	if (r->torn > 0)
		printf("  %llu torn line(s), each closed by an audit-torn "
		    "record\n", (unsigned long long)r->torn);
	return (EXIT_OK);
}

int
cmd_audit(struct cli *c, int argc, char **argv)
{
	const char *limit = NULL, *dir;
	int verify = 0, rc;
	struct cli_opt o[] = {
		{ "verify", 0, OPT_FLAG, &verify, NULL },
		{ "limit", 0, OPT_VALUE, &limit, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	struct audit_report r;
	unsigned long long l = 0;
	char *end;

	c->cmd = &audit_help;
	if (cli_args(c, argc, argv, o, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (limit != NULL && ((l = strtoull(limit, &end, 10)) == 0 ||
	    *end != '\0' || limit[0] == '-' || l > AUDIT_LIMIT_MAX))
		return (cli_usage(c, "--limit needs a number of records (1 "
		    "to %llu)", AUDIT_LIMIT_MAX));
	if (verify && limit != NULL)
		return (cli_usage(c, "--verify checks the whole log: no "
		    "--limit"));
	if (audit_dir(c, &dir) != 0)
		return (cli_fail(c));
	if (verify)
		return (audit_verify(dir, &r) != 0 ? cli_fail(c) :
		    verify_print(c, &r));
	if (audit_list(dir, (size_t)l, audit_item, c) != 0)
		return (cli_fail(c));
	if (c->json)
		cli_list_end(c);
	else if (audit_rows == 0)
		printf("no audit records yet\n");
	return (EXIT_OK);
}
