/*
 * cmd_ctl.c: the control commands, which ask poolpaird over its admin socket
 * (docs/protocol-admin.md): status, sync, verify; and the global option
 * --wait-replicated, which after a data command that wrote waits until the
 * partner has acknowledged the store's journal heads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"
#include "config.h"
#include "err.h"

#define CTL_GRACE_MS	5000	/* over a request's timeout_ms: the daemon's
				   own timeout answers first */
#define CTL_STATUS_MS	10000
#define CTL_SYNC_S	60
#define CTL_VERIFY_S	300
#define CTL_WAIT_S	30	/* --wait-replicated without =S */
#define CTL_MAX_S	86400

/* The data commands that write the store (--wait-replicated waits after). */
static const char *const ctl_writes[] = {
	"user add", "user del", "setting set", "setting del", "group add",
	"group del", "contact add", "contact set", "contact del",
	"conf create", "conf del", "content put", "content del", "config set",
	NULL
};

/* The admin socket of the store that --data or -c names, into ${path}. */
static int
ctl_sock(struct cli *c, char path[static ADMIN_PATH_MAX])
{

	if (c->config_path != NULL && cli_config(c) != 0)
		return (-1);
	if (c->data == NULL && c->cfg != NULL)
		c->data = c->cfg->data;
	if (c->data == NULL || c->data[0] == '\0') {
		pp_err(PP_EINVAL, "no pool named: give --data DIR, -c FILE or "
		    "set POOLPAIR_DATA");
		return (-1);
	}
	return (admin_sock_path(path, c->data));
}

/*
 * Send ${req} (stolen) to poolpaird and wait ${timeout_ms} (plus a grace)
 * for an "ok":true response, set in ${resp} (caller decrefs).  Otherwise
 * print one line (after ${what}, if not NULL) and return the exit code: 4
 * for the daemon's "timeout: ..." answer, 1 for its other refusals, 3 when
 * it cannot be asked.
 */
int
ctl_call(struct cli *c, const char *what, json_t *req, int timeout_ms,
    json_t **resp)
{
	char path[ADMIN_PATH_MAX];
	const char *e;
	int rc;

	*resp = NULL;
	if (req == NULL)
		pp_err(PP_EINTERNAL, "out of memory");
	rc = req == NULL || ctl_sock(c, path) != 0 ? -1 :
	    admin_call(path, req, resp, timeout_ms + CTL_GRACE_MS);
	json_decref(req);
	if (rc != 0) {
		rc = cli_exit_code();
		fprintf(stderr, "poolpair: %s%s\n", what != NULL ? what : "",
		    pp_errmsg());
		return (rc == EXIT_OK ? EXIT_STORE : rc);
	}
	if (json_is_true(json_object_get(*resp, "ok")))
		return (EXIT_OK);
	if ((e = json_string_value(json_object_get(*resp, "error"))) == NULL)
		e = "poolpaird refused without saying why";
	fprintf(stderr, "poolpair: %s%.512s\n", what != NULL ? what : "", e);
	rc = strncmp(e, "timeout", 7) == 0 ? EXIT_TIMEOUT : EXIT_REFUSED;
	json_decref(*resp);
	*resp = NULL;
	return (rc);
}

/* Print ${v} (borrowed; NULL prints null) as JSON.  Returns 0 or -1. */
static int
ctl_json_print(const json_t *v)
{

	return (cli_json_print(v != NULL ? json_incref((json_t *)v) :
	    json_null()));
}

/* Parse seconds ${s} of option ${what} (default ${def}) into ${ms}. */
static int
ctl_seconds(struct cli *c, const char *s, const char *what, int def,
    int *ms)
{
	char *end;
	long v = def;

	if (s != NULL) {
		v = strtol(s, &end, 10);
		if (*s == '\0' || *end != '\0' || v < 1 || v > CTL_MAX_S)
			return (cli_usage(c, "%s must be 1 to %d seconds",
			    what, CTL_MAX_S));
	}
	*ms = (int)v * 1000;
	return (0);
}

/* ${o}[${k}] as text: a string, a number, true/false; "-" if null/absent. */
static const char *
jtext(const json_t *o, const char *k, char buf[static 64])
{
	const json_t *v = json_object_get(o, k);

	if (json_is_string(v))
		return (json_string_value(v));
	if (json_is_integer(v))
		snprintf(buf, 64, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, 64, "%.1f", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, 64, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, 64, "-");
	return (buf);
}

/* The connection and certificate lines of status object ${s}. */
static void
status_head(const json_t *s)
{
	const json_t *cn = json_object_get(s, "connection");
	const json_t *ce = json_object_get(s, "certificates");
	char a[64], b[64], d[64], e[64];
	const char *le;
	json_t *o;
	size_t i;

	printf("pool          %s (partner %s, pair %s)\n",
	    jtext(s, "pool", a), jtext(s, "partner", b), jtext(s, "pair", d));
	printf("connection    %s, peer %s, since %s\n", jtext(cn, "state", a),
	    jtext(cn, "peer", b), jtext(cn, "since", d));
	le = json_string_value(json_object_get(cn, "last_error"));
	if (le != NULL && le[0] != '\0')
		printf("last error    %.512s\n", le);
	printf("certificates  days left: own %s, partner %s, CA %s, CRL %s\n",
	    jtext(ce, "own_days_left", a), jtext(ce, "partner_days_left", b),
	    jtext(ce, "ca_days_left", d), jtext(ce, "crl_days_left", e));
	printf("sync interval %s s\n", jtext(s, "sync_interval_s", a));
	json_array_foreach(json_object_get(s, "owners"), i, o)
		printf("users of      %s: owner %s, epoch %s, %s\n",
		    jtext(o, "users_of", a), jtext(o, "owner", b),
		    jtext(o, "epoch", d), jtext(o, "mode", e));
	if (json_is_true(json_object_get(s, "fenced")))
		printf("fenced        this pool owns no user set: it ships "
		    "nothing and takes no writes for its users\n");
	printf("\n%-12s %-6s %-15s %-24s %-22s %-8s %s\n", "MODULE", "DIR",
	    "STATE", "LSN", "PENDING", "LAG", "LAST");
}

/* One row of module ${mod}, direction ${dir} (export or import) ${x}. */
static void
status_row(const char *mod, const char *dir, const json_t *x)
{
	char lsn[64], pend[64], lag[64], a[64], b[64];
	const char *reason;

	if (strcmp(dir, "export") == 0) {
		snprintf(lsn, sizeof(lsn), "head %s, acked %s",
		    jtext(x, "head", a), jtext(x, "acked", b));
		snprintf(pend, sizeof(pend), "%s rec, %s B",
		    jtext(x, "pending_records", a), jtext(x, "pending_bytes",
		    b));
		snprintf(lag, sizeof(lag), "%s s", jtext(x, "lag_s", a));
	} else {
		snprintf(lsn, sizeof(lsn), "lsn %s, epoch %s",
		    jtext(x, "lsn", a), jtext(x, "epoch", b));
		snprintf(pend, sizeof(pend), "-");
		snprintf(lag, sizeof(lag), "-");
	}
	printf("%-12s %-6s %-15s %-24s %-22s %-8s %s\n", mod, dir,
	    jtext(x, "state", a), lsn, pend, lag, jtext(x, strcmp(dir,
	    "export") == 0 ? "last_export" : "last_import", b));
	reason = json_string_value(json_object_get(x, "reason"));
	if (reason != NULL && reason[0] != '\0')
		printf("%-12s %-6s reason: %.512s\n", "", "", reason);
}

int
cmd_status(struct cli *c, int argc, char **argv)
{
	const json_t *s, *m;
	json_t *resp;
	char a[64];
	size_t i;
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if ((rc = ctl_call(c, NULL, json_pack("{s:s}", "cmd", "status"),
	    CTL_STATUS_MS, &resp)) != EXIT_OK)
		return (rc);
	s = json_object_get(resp, "status");
	if (c->json) {
		rc = ctl_json_print(s);
		json_decref(resp);
		return (rc == 0 ? EXIT_OK : cli_fail(c));
	}
	status_head(s);
	json_array_foreach(json_object_get(s, "modules"), i, m) {
		status_row(jtext(m, "module", a), "export",
		    json_object_get(m, "export"));
		status_row(jtext(m, "module", a), "import",
		    json_object_get(m, "import"));
	}
	json_decref(resp);
	return (EXIT_OK);
}

/*
 * The state that sync answered in ${resp} (a new reference): its "state",
 * or else the export state by module of a status object it carries.
 */
static json_t *
sync_state(const json_t *resp)
{
	const json_t *st = json_object_get(resp, "state"), *m;
	const char *name;
	json_t *o;
	size_t i;

	if (st != NULL)
		return (json_incref((json_t *)st));
	if ((o = json_object()) == NULL)
		return (NULL);
	json_array_foreach(json_object_get(json_object_get(resp, "status"),
	    "modules"), i, m)
		if ((name = json_string_value(json_object_get(m, "module"))) !=
		    NULL)
			json_object_set(o, name, json_object_get(
			    json_object_get(m, "export"), "state"));
	return (o);
}

/* Print what sync answered: ${state} as text, or per module. */
static void
sync_print(const json_t *state)
{
	const char *k;
	const json_t *v;
	char *j;

	if (state == NULL || json_is_null(state) || (json_is_object(state) &&
	    json_object_size(state) == 0)) {
		printf("done\n");
		return;
	}
	if (json_is_string(state)) {
		printf("%s\n", json_string_value(state));
		return;
	}
	if (json_is_object(state)) {
		json_object_foreach((json_t *)state, k, v) {
			if (json_is_string(v)) {
				printf("%-12s %s\n", k, json_string_value(v));
				continue;
			}
			j = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			printf("%-12s %s\n", k, j != NULL ? j : "?");
			free(j);
		}
		return;
	}
	j = json_dumps(state, JSON_COMPACT | JSON_ENCODE_ANY);
	printf("%s\n", j != NULL ? j : "?");
	free(j);
}

int
cmd_sync(struct cli *c, int argc, char **argv)
{
	const char *module = NULL, *timeout = NULL;
	enum store_module m;
	int wait = 0, rc, ms;
	struct cli_opt o[] = {
		{ "module", 0, OPT_VALUE, &module, NULL },
		{ "wait", 0, OPT_FLAG, &wait, NULL },
		{ "timeout", 0, OPT_VALUE, &timeout, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	json_t *resp, *st;

	if (cli_args(c, argc, argv, o, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (module != NULL && store_module_parse(module, &m) != 0)
		return (cli_usage(c, "%s", pp_errmsg()));
	if (ctl_seconds(c, timeout, "--timeout", CTL_SYNC_S, &ms) != 0)
		return (EXIT_USAGE);
	if ((rc = ctl_call(c, NULL, json_pack("{s:s,s:s?,s:b,s:i}", "cmd",
	    "sync", "module", module, "wait", wait, "timeout_ms", ms), ms,
	    &resp)) != EXIT_OK)
		return (rc);
	st = sync_state(resp);
	json_decref(resp);
	if (c->json)
		rc = cli_json_print(st);
	else {
		sync_print(st);
		json_decref(st);
	}
	return (rc == 0 ? EXIT_OK : cli_fail(c));
}

/*
 * Print the digests of module ${m}; returns 1 if they differ, unrepaired,
 * or if it could not be compared (the partner refused, or answered badly).
 */
static int
verify_module(const json_t *m)
{
	const json_t *differ = json_object_get(m, "differ");
	const json_t *keys = json_object_get(m, "keys"), *v;
	char a[64], b[64], d[64];
	size_t i, n = json_array_size(differ);
	int repaired = json_is_true(json_object_get(m, "repaired"));
	const char *err = json_string_value(json_object_get(m, "error"));

	if (err != NULL) {
		printf("%-12s not verified: %.200s\n", jtext(m, "module", a),
		    err);
		return (1);
	}
	printf("%-12s %s buckets, ", jtext(m, "module", a),
	    jtext(m, "buckets", b));
	if (n == 0 && json_array_size(keys) == 0) {
		printf("all equal\n");
		return (0);
	}
	printf("%zu differ%s:", n, repaired ? " (repaired)" : "");
	json_array_foreach(differ, i, v) {
		if (i == 32) {
			printf(" ...");
			break;
		}
		printf(" %lld", (long long)json_integer_value(v));
	}
	printf("\n");
	json_array_foreach(keys, i, v)
		printf("  %s\there %s\tthere %s\n", jtext(v, "key", a),
		    jtext(v, "here", b), jtext(v, "there", d));
	return (!repaired);
}

int
cmd_verify(struct cli *c, int argc, char **argv)
{
	const char *timeout = NULL;
	const json_t *mods, *m;
	int repair = 0, rc, ms, differ = 0;
	struct cli_opt o[] = {
		{ "repair", 0, OPT_FLAG, &repair, NULL },
		{ "timeout", 0, OPT_VALUE, &timeout, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	json_t *resp;
	size_t i;

	if (cli_args(c, argc, argv, o, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (ctl_seconds(c, timeout, "--timeout", CTL_VERIFY_S, &ms) != 0)
		return (EXIT_USAGE);
	if ((rc = ctl_call(c, NULL, json_pack("{s:s,s:b,s:i}", "cmd",
	    "verify", "repair", repair, "timeout_ms", ms), ms, &resp)) !=
	    EXIT_OK)
		return (rc);
	mods = json_object_get(resp, "modules");
	/* Differing and unrepaired, or not compared at all: not verified. */
	json_array_foreach(mods, i, m)
		differ |= ((json_array_size(json_object_get(m, "differ")) > 0 ||
		    json_array_size(json_object_get(m, "keys")) > 0) &&
		    !json_is_true(json_object_get(m, "repaired"))) ||
		    json_object_get(m, "error") != NULL;
	if (c->json)
		rc = ctl_json_print(mods);
	else
		json_array_foreach(mods, i, m)
			verify_module(m);
	json_decref(resp);
	if (rc != 0)
		return (cli_fail(c));
	return (differ ? EXIT_REFUSED : EXIT_OK);
}

void
cli_note_written(struct cli *c, const struct store *st)
{
	int64_t w[STORE_NMOD];
	int m;

	store_written(st, w);
	for (m = 0; m < STORE_NMOD; m++)
		if (w[m] > c->written[m])
			c->written[m] = w[m];
}

int
cli_wait_option(struct cli *c, const char *arg)
{
	char *end;
	long v = CTL_WAIT_S;

	if (arg[0] == '=') {
		v = strtol(arg + 1, &end, 10);
		if (arg[1] == '\0' || *end != '\0' || v < 1 || v > CTL_MAX_S) {
			fprintf(stderr, "poolpair: --wait-replicated=S takes 1 "
			    "to %d seconds (see 'poolpair --help')\n",
			    CTL_MAX_S);
			return (-1);
		}
	}
	c->wait_replicated = (int)v;
	return (0);
}

int
cli_wait_replicated(struct cli *c)
{
	json_t *heads, *resp;
	size_t i;
	int rc, m;

	if (c->wait_replicated <= 0 || c->st == NULL)
		return (EXIT_OK);
	for (i = 0; ctl_writes[i] != NULL; i++)
		if (strcmp(ctl_writes[i], c->path) == 0)
			break;
	if (ctl_writes[i] == NULL)
		return (EXIT_OK);
	/*
	 * The modules this command wrote, up to its own last change: not
	 * the others, nor what other writers committed after it.
	 */
	cli_note_written(c, c->st);
	if ((heads = json_object()) == NULL)
		return (cli_fail(c));
	for (m = 0; m < STORE_NMOD; m++)
		if (c->written[m] > 0)
			json_object_set_new(heads, store_module_name(
			    (enum store_module)m), json_integer(c->written[m]));
	if (json_object_size(heads) == 0) {
		json_decref(heads);
		return (EXIT_OK);	/* it changed nothing */
	}
	rc = ctl_call(c, "committed here, but not known to be replicated: ",
	    json_pack("{s:s,s:o,s:i}", "cmd", "wait", "heads", heads,
	    "timeout_ms", c->wait_replicated * 1000),
	    c->wait_replicated * 1000, &resp);
	json_decref(resp);
	return (rc);
}
