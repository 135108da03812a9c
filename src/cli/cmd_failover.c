/*
 * cmd_failover.c: poolpair owners, failover, failback and orphans: who
 * writes each user set, handing a failed pool's users to its partner and
 * back, and the changes a failed pool made that its partner never had
 * (docs/failover.md).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "fileio.h"
#include "util.h"

static json_t *
owner_json(const struct store_owner *o)
{
	char t[32];

	return (json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:b}", "home",
	    o->home, "owner", o->owner, "epoch", (json_int_t)o->epoch, "mode",
	    store_mode_name(o->mode), "changed", o->changed_ms != 0 ?
	    cli_time_ms(t, o->changed_ms) : "", "window_userdata_lsn",
	    (json_int_t)o->lsn[0], "window_confcontent_lsn",
	    (json_int_t)o->lsn[1], "config_master_moved", o->master));
}

static int
owner_item(void *arg, const struct store_owner *o)
{
	struct cli *c = arg;

	if (c->json)
		return (cli_list_item(c, owner_json(o)));
	printf("users of %-28s owner %-28s epoch %-4lld %s\n", o->home,
	    o->owner, (long long)o->epoch, store_mode_name(o->mode));
	return (0);
}

int
cmd_owners(struct cli *c, int argc, char **argv)
{
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_owner_list(c->st, owner_item, c) != 0)
		return (cli_fail(c));
	if (c->json)
		cli_list_end(c);
	return (EXIT_OK);
}

/* The replica of ${pool}'s module ${m}: its LSN and time (0 if none). */
static void
window(struct cli *c, const char *pool, enum store_module m, int64_t *lsn,
    int64_t *ms)
{
	struct store_replica r;

	*lsn = *ms = 0;
	if (store_replica_get(c->st, pool, m, &r) == 0) {
		*lsn = r.lsn;
		*ms = r.imported_ms;
	}
	pp_err_clear();
}

/*
 * A failover of a pool that answers: through poolpaird, which asks POOL
 * to go read-only and ship everything, then takes its users (RPO 0).
 */
static int
handover(struct cli *c, const char *pool)
{
	json_t *resp;
	int64_t t0 = util_now_ms();
	int rc;

	if ((rc = ctl_call(c, "failover: ", json_pack("{s:s, s:s, s:i}",
	    "cmd", "failover", "home", pool, "timeout_ms", 70000), 70000,
	    &resp)) != EXIT_OK)
		return (rc);
	if (c->json)
		rc = cli_json_print(resp) == 0 ? EXIT_OK : cli_fail(c);
	else {
		printf("%s now writes the users of %s (epoch %lld)%s; nothing "
		    "lost: %s shipped everything first (userdata LSN %lld, "
		    "confcontent LSN %lld); failover took %.1f s\n",
		    json_string_value(json_object_get(resp, "owner")), pool,
		    (long long)json_integer_value(json_object_get(resp,
		    "epoch")), json_is_true(json_object_get(resp, "master")) ?
		    ", and is the config master" : "", pool,
		    (long long)json_integer_value(json_object_get(resp,
		    "userdata_lsn")),
		    (long long)json_integer_value(json_object_get(resp,
		    "confcontent_lsn")), (double)(util_now_ms() - t0) / 1000.0);
		json_decref(resp);
	}
	return (rc);
}

int
cmd_failover(struct cli *c, int argc, char **argv)
{
	int disaster = 0, rc;
	struct cli_opt o[] = {
		{ "disaster", 0, OPT_FLAG, &disaster, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	struct store_owner cur, next;
	char master[PP_FQDN_MAX + 1], t1[32], t2[32], *pos[1];
	int64_t ms[2];

	if (cli_args(c, argc, argv, o, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if (!disaster)
		return (handover(c, pos[0]));
	if (cli_open(c) != 0 || util_fqdn_ok(pos[0]) != 0 ||
	    store_owner_get(c->st, pos[0], &cur) != 0 ||
	    store_config_master(c->st, master) != 0)
		return (cli_fail(c));
	if (strcmp(pos[0], store_pool(c->st)) == 0) {
		pp_err(PP_EINVAL, "run failover at the partner of %s, not at "
		    "it", pos[0]);
		return (cli_fail(c));
	}
	if (strcmp(cur.owner, pos[0]) != 0) {
		pp_err(PP_EINVAL, "the users of %s are owned by %s already "
		    "(epoch %lld, %s)", pos[0], cur.owner,
		    (long long)cur.epoch, store_mode_name(cur.mode));
		return (cli_fail(c));
	}
	memset(&next, 0, sizeof(next));
	snprintf(next.home, sizeof(next.home), "%s", pos[0]);
	snprintf(next.owner, sizeof(next.owner), "%s", store_pool(c->st));
	next.epoch = cur.epoch + 1;
	next.mode = STORE_MODE_FAILEDOVER;
	window(c, pos[0], STORE_MOD_USERDATA, &next.lsn[0], &ms[0]);
	window(c, pos[0], STORE_MOD_CONFCONTENT, &next.lsn[1], &ms[1]);
	next.master = strcmp(master, pos[0]) == 0;
	if (store_owner_set(c->st, &next) != 0)
		return (cli_fail(c));
	if (c->json)
		return (cli_json_print(owner_json(&next)) == 0 ? EXIT_OK :
		    cli_fail(c));
	printf("%s now writes the users of %s (epoch %lld)%s.\n"
	    "What %s committed after these may be lost (it is kept there as "
	    "orphans):\n  userdata    LSN %lld, imported %s\n  confcontent "
	    "LSN %lld, imported %s\n", next.owner, next.home,
	    (long long)next.epoch, next.master ? ", and is the config master" :
	    "", next.home, (long long)next.lsn[0], ms[0] ? cli_time_ms(t1,
	    ms[0]) : "never", (long long)next.lsn[1], ms[1] ?
	    cli_time_ms(t2, ms[1]) : "never");
	return (EXIT_OK);
}

/* Ship everything to the partner and wait until it has it. */
static int
flush(struct cli *c, int timeout_ms)
{
	json_t *resp;
	int rc;

	rc = ctl_call(c, "failback: ", json_pack("{s:s, s:b, s:i}", "cmd",
	    "sync", "wait", 1, "timeout_ms", timeout_ms), timeout_ms, &resp);
	json_decref(resp);
	return (rc);
}

int
cmd_failback(struct cli *c, int argc, char **argv)
{
	const char *timeout = NULL;
	struct cli_opt o[] = {
		{ "timeout", 0, OPT_VALUE, &timeout, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	struct store_owner cur, next;
	char *pos[1], *end;
	int64_t t0 = util_now_ms();
	int rc, ms = 300000;

	if (cli_args(c, argc, argv, o, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if (timeout != NULL && ((ms = (int)strtol(timeout, &end, 10) * 1000),
	    *end != '\0' || ms <= 0 || ms > 3600000))
		return (cli_usage(c, "--timeout needs 1 to 3600 seconds"));
	if (cli_open(c) != 0 || util_fqdn_ok(pos[0]) != 0 ||
	    store_owner_get(c->st, pos[0], &cur) != 0)
		return (cli_fail(c));
	if (strcmp(cur.owner, store_pool(c->st)) != 0 ||
	    strcmp(pos[0], store_pool(c->st)) == 0) {
		pp_err(PP_EINVAL, "this pool does not own the users of %s "
		    "(%s does, epoch %lld)", pos[0], cur.owner,
		    (long long)cur.epoch);
		return (cli_fail(c));
	}
	/* 1. Read-only here for those users, so nothing new comes. */
	next = cur;
	next.mode = STORE_MODE_FAILINGBACK;
	if (cur.mode != STORE_MODE_FAILINGBACK &&
	    store_owner_set(c->st, &next) != 0)
		return (cli_fail(c));
	/* 2. Everything to the home pool. */
	if ((rc = flush(c, ms)) != EXIT_OK)
		return (rc);
	/* 3. Ownership back, under a new epoch; then that too. */
	next = cur;
	snprintf(next.owner, sizeof(next.owner), "%s", pos[0]);
	next.epoch = cur.epoch + 1;
	next.mode = STORE_MODE_NORMAL;
	next.lsn[0] = next.lsn[1] = 0;
	if (store_owner_set(c->st, &next) != 0)
		return (cli_fail(c));
	if ((rc = flush(c, ms)) != EXIT_OK)
		return (rc);
	printf("%s writes its users again (epoch %lld)%s; failback took "
	    "%.1f s\n", next.owner, (long long)next.epoch, next.master ?
	    ", and is the config master again" : "",
	    (double)(util_now_ms() - t0) / 1000.0);
	return (EXIT_OK);
}

static json_t *
orphan_json(const struct store_orphan *o)
{
	char t[32], s[32];
	json_error_t je;

	return (json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:o, "
	    "s:s}", "module", store_module_name(o->rec.module), "lsn",
	    (json_int_t)o->rec.lsn, "epoch", (json_int_t)o->rec.epoch,
	    "entity", o->rec.entity, "key", o->rec.k1, "key2", o->rec.k2,
	    "op", o->rec.op, "committed", cli_time_ms(t, o->rec.ts_ms),
	    "state", json_loads(o->state != NULL ? o->state : "null",
	    JSON_DECODE_ANY, &je) ?: json_null(), "kept",
	    cli_time_ms(s, o->saved_ms)));
}

static int
orphan_item(void *arg, const struct store_orphan *o)
{
	struct cli *c = arg;
	char t[32];

	if (c->json)
		return (cli_list_item(c, orphan_json(o)));
	printf("%-12s LSN %-8lld %s %s %s%s%s  committed %s\n",
	    store_module_name(o->rec.module), (long long)o->rec.lsn,
	    o->rec.op, o->rec.entity, o->rec.k1, o->rec.k2[0] ? " " : "",
	    o->rec.k2, cli_time_ms(t, o->rec.ts_ms));
	c->nitems++;
	return (0);
}

static int
orphans_list(struct cli *c, int argc, char **argv)
{
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_orphan_list(c->st, orphan_item, c) != 0)
		return (cli_fail(c));
	if (c->json)
		cli_list_end(c);
	else if (c->nitems == 0)
		printf("no orphans\n");
	return (EXIT_OK);
}

struct ox {
	int fd;
	size_t n;
};

static int
orphan_line(void *arg, const struct store_orphan *o)
{
	struct ox *x = arg;
	json_t *j = orphan_json(o);
	int rc = -1;

	if (j != NULL && json_dumpfd(j, x->fd, JSON_COMPACT) == 0 &&
	    util_write_all(x->fd, "\n", 1) == 0)
		rc = 0;
	json_decref(j);
	x->n++;
	return (rc);
}

static int
orphans_export(struct cli *c, int argc, char **argv)
{
	const char *out = NULL;
	struct cli_opt o[] = {
		{ "output", 'o', OPT_VALUE, &out, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	struct ox x = { -1, 0 };
	char tmp[PATH_MAX];
	int rc;

	if (cli_args(c, argc, argv, o, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (out == NULL)
		return (cli_usage(c, "-o FILE is required"));
	if (cli_open(c) != 0 || (x.fd = cli_tmp_open(out, tmp)) < 0)
		return (cli_fail(c));
	if (cli_tmp_close(x.fd, tmp, out,
	    store_orphan_list(c->st, orphan_line, &x) == 0) != 0) {
		if (pp_errcode() == PP_OK)
			pp_err(PP_EIO, "cannot write %s", out);
		return (cli_fail(c));
	}
	printf("%s: %zu orphans (JSON lines)\n", out, x.n);
	return (EXIT_OK);
}

static int
orphans_get(struct cli *c, int argc, char **argv)
{
	const char *out = NULL;
	struct cli_opt o[] = {
		{ "output", 'o', OPT_VALUE, &out, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	char tmp[PATH_MAX], *pos[1], *end;
	long long lsn;
	int rc, fd;

	if (cli_args(c, argc, argv, o, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	lsn = strtoll(pos[0], &end, 10);
	if (*end != '\0' || end == pos[0] || lsn <= 0)
		return (cli_usage(c, "LSN must be a confcontent LSN"));
	if (out == NULL)
		return (cli_usage(c, "-o FILE is required"));
	if (cli_open(c) != 0 || (fd = cli_tmp_open(out, tmp)) < 0)
		return (cli_fail(c));
	if (cli_tmp_close(fd, tmp, out,
	    store_orphan_content(c->st, lsn, fd) == 0) != 0)
		return (cli_fail(c));
	printf("%s: the orphaned content of confcontent LSN %lld\n", out, lsn);
	return (EXIT_OK);
}

static const struct cli_cmd orphans_cmds[] = {
	{ "list", orphans_list, "[--json]",
	  "The changes this pool committed that the pool that took over its\n"
	  "users never received (the window of a disaster failover), kept\n"
	  "when this pool learnt of the failover: never merged, never\n"
	  "dropped.  Each with its journal record and the key's state then.\n"
	},
	{ "export", orphans_export, "-o FILE",
	  "Write the orphans to FILE as JSON lines (whole or not at all).\n" },
	{ "get", orphans_get, "LSN -o FILE",
	  "Write the bytes of the content item orphaned at confcontent LSN\n"
	  "LSN to FILE (its chunks are kept for this, checked as read).\n" },
	{ NULL, NULL, NULL, NULL }
};

int
cmd_orphans(struct cli *c, int argc, char **argv)
{

	return (cli_dispatch(c, "orphans", orphans_cmds, argc, argv));
}
