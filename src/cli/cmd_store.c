/*
 * cmd_store.c: store-wide commands: init, info, compact, journal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"

int
cmd_init(struct cli *c, int argc, char **argv)
{
	const char *pool = NULL, *master = NULL, *data = NULL;
	struct cli_opt o[] = {
		{ "pool", 0, OPT_VALUE, &pool, NULL },
		{ "config-master", 0, OPT_VALUE, &master, NULL },
		{ "data", 0, OPT_VALUE, &data, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	int rc;

	if (cli_args(c, argc, argv, o, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (data != NULL)
		c->data = data;
	if (pool == NULL)
		return (cli_usage(c, "--pool FQDN is required"));
	if (c->data == NULL)
		return (cli_usage(c, "--data DIR is required"));
	if (store_create(c->data, pool, master) != 0)
		return (cli_fail(c));
	printf("created the store of pool %s in %s (storage key %s/storage.key,"
	    " mode 0600)\n", pool, c->data, c->data);
	return (EXIT_OK);
}

int
cmd_info(struct cli *c, int argc, char **argv)
{
	char master[PP_FQDN_MAX + 1];
	struct store_stats s;
	int64_t epoch[STORE_NMOD], lsn[STORE_NMOD];
	json_t *j, *m;
	int rc, i;

	if (cli_args(c, argc, argv, cli_noopts, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_stats(c->st, &s) != 0 ||
	    store_config_master(c->st, master) != 0)
		return (cli_fail(c));
	for (i = 0; i < STORE_NMOD; i++)
		if (store_journal_head(c->st, (enum store_module)i, &epoch[i],
		    &lsn[i]) != 0)
			return (cli_fail(c));
	if (c->json) {
		m = json_object();
		for (i = 0; i < STORE_NMOD; i++)
			json_object_set_new(m,
			    store_module_name((enum store_module)i),
			    json_pack("{s:I,s:I}", "epoch", (json_int_t)epoch[i],
			    "lsn", (json_int_t)lsn[i]));
		j = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}",
		    "pool", store_pool(c->st), "data", c->data,
		    "config_master", master, "users", (json_int_t)s.users,
		    "contacts", (json_int_t)s.contacts,
		    "conferences", (json_int_t)s.conferences,
		    "content_items", (json_int_t)s.content_items,
		    "chunks", (json_int_t)s.chunks,
		    "chunk_bytes", (json_int_t)s.chunk_bytes,
		    "db_bytes", (json_int_t)s.db_bytes,
		    "pack_bytes", (json_int_t)s.pack_bytes, "journal", m);
		return (cli_json_print(j) == 0 ? EXIT_OK : cli_fail(c));
	}
	printf("pool:          %s\ndata:          %s\nconfig master: %s\n"
	    "users:         %lld\ncontacts:      %lld\nconferences:   %lld\n"
	    "content items: %lld (%lld chunks, %lld bytes held once)\n"
	    "database:      %lld bytes\npacks:         %lld bytes\n",
	    store_pool(c->st), c->data, master,
	    (long long)s.users, (long long)s.contacts,
	    (long long)s.conferences, (long long)s.content_items,
	    (long long)s.chunks, (long long)s.chunk_bytes,
	    (long long)s.db_bytes, (long long)s.pack_bytes);
	for (i = 0; i < STORE_NMOD; i++)
		printf("journal %-11s epoch %lld, last LSN %lld\n",
		    store_module_name((enum store_module)i),
		    (long long)epoch[i], (long long)lsn[i]);
	return (EXIT_OK);
}

int
cmd_compact(struct cli *c, int argc, char **argv)
{
	struct store_compact r;
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_compact(c->st, &r) != 0)
		return (cli_fail(c));
	if (c->json)
		return (cli_json_print(json_pack("{s:I,s:I,s:I,s:I,s:I,s:b}",
		    "packs", (json_int_t)r.packs, "packs_rewritten",
		    (json_int_t)r.packs_rewritten, "chunks_moved",
		    (json_int_t)r.chunks_moved, "files_removed",
		    (json_int_t)r.files_removed, "bytes_freed",
		    (json_int_t)r.bytes_freed, "deferred", r.deferred)) == 0 ?
		    EXIT_OK : cli_fail(c));
	printf("%lld of %lld packs rewritten (%lld chunks moved); %lld files "
	    "removed, %lld bytes freed\n", (long long)r.packs_rewritten,
	    (long long)r.packs, (long long)r.chunks_moved,
	    (long long)r.files_removed, (long long)r.bytes_freed);
	if (r.deferred)
		printf("readers were still using the old packs: their files "
		    "go at the next compact\n");
	return (EXIT_OK);
}

static int
jrec_print(void *arg, const struct store_jrec *r)
{
	struct cli *c = arg;
	char t[32];

	if (c->json)
		return (cli_list_item(c, json_pack("{s:s,s:I,s:I,s:s,s:s,"
		    "s:s,s:s,s:s}", "module", store_module_name(r->module),
		    "lsn", (json_int_t)r->lsn, "epoch", (json_int_t)r->epoch,
		    "entity", r->entity, "key", r->k1, "key2", r->k2,
		    "op", r->op, "time", cli_time_ms(t, r->ts_ms))));
	printf("%s\t%lld\t%lld\t%s\t%s\t%s\t%s%s%s\n",
	    store_module_name(r->module), (long long)r->lsn,
	    (long long)r->epoch, cli_time_ms(t, r->ts_ms), r->op, r->entity,
	    r->k1, r->k2[0] != '\0' ? "\t" : "", r->k2);
	return (0);
}

/* Parse a non-negative decimal ${s} of option ${what} into ${out}. */
static int
parse_count(struct cli *c, const char *s, const char *what, long long *out)
{
	char *end;

	*out = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || *out < 0 || *out >= (1LL << 53))
		return (cli_usage(c, "%s must be a non-negative number", what));
	return (0);
}

int
cmd_journal(struct cli *c, int argc, char **argv)
{
	const char *mod = NULL, *since = NULL, *limit = NULL;
	struct cli_opt o[] = {
		{ "module", 0, OPT_VALUE, &mod, NULL },
		{ "since", 0, OPT_VALUE, &since, NULL },
		{ "limit", 0, OPT_VALUE, &limit, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	enum store_module m = STORE_MOD_USERDATA;
	long long s = 0, l = 0;
	int rc;

	if (cli_args(c, argc, argv, o, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (mod != NULL && store_module_parse(mod, &m) != 0)
		return (cli_usage(c, "%s", pp_errmsg()));
	if ((since != NULL && (rc = parse_count(c, since, "--since", &s))) ||
	    (limit != NULL && (rc = parse_count(c, limit, "--limit", &l))))
		return (rc);
	if (cli_open(c) != 0)
		return (cli_fail(c));
	if (store_journal_list(c->st, mod == NULL, m, s, (size_t)l, jrec_print,
	    c) != 0)
		return (cli_fail(c));
	if (c->json)
		cli_list_end(c);
	return (EXIT_OK);
}
