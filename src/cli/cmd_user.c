/*
 * cmd_user.c: poolpair user (add, del, show, list) and setting (set, get,
 * del, list).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "sipuri.h"

json_t *
cli_user_json(const struct store_user *u)
{
	char c[32], m[32];

	return (json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "uri", u->uri,
	    "name", u->name, "role", u->primary ? "primary" : "replica",
	    "home", u->home, "created", cli_time_ms(c, u->created_ms),
	    "updated", cli_time_ms(m, u->updated_ms)));
}

static int
user_add(struct cli *c, int argc, char **argv)
{
	const char *name = NULL;
	struct cli_opt o[] = {
		{ "name", 0, OPT_VALUE, &name, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	char *pos[1], norm[PP_URI_MAX + 1];
	int rc;

	if (cli_args(c, argc, argv, o, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if (name == NULL)
		return (cli_usage(c, "--name NAME is required"));
	if (sipuri_normalize(pos[0], norm) != 0)
		return (cli_fail(c));
	if (cli_open(c) != 0 || store_user_add(c->st, norm, name) != 0)
		return (cli_fail(c));
	printf("%s\n", norm);
	return (EXIT_OK);
}

static int
user_del(struct cli *c, int argc, char **argv)
{
	char *pos[1];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_user_del(c->st, pos[0]) != 0)
		return (cli_fail(c));
	return (EXIT_OK);
}

/* Record the only way a JSON builder here fails. */
static int
json_oom(int rc)
{

	if (rc != 0)
		pp_err(PP_EINTERNAL, "out of memory");
	return (rc);
}

static int
setting_json(void *arg, const struct store_setting *s)
{

	return (json_oom(json_object_set_new(arg, s->key,
	    json_string(s->value))));
}

static int
setting_text(void *arg, const struct store_setting *s)
{

	(void)arg;
	printf("  %s = %s\n", s->key, s->value);
	return (0);
}

static int
group_json(void *arg, const struct store_group *g)
{

	return (json_oom(json_array_append_new(arg, json_pack("{s:s,s:I}",
	    "name", g->name, "contacts", (json_int_t)g->ncontacts))));
}

static int
group_text(void *arg, const struct store_group *g)
{

	(void)arg;
	printf("  %s (%zu contact%s)\n", g->name, g->ncontacts,
	    g->ncontacts == 1 ? "" : "s");
	return (0);
}

json_t *
cli_contact_json(const struct store_contact *ct)
{
	json_t *g = json_array();
	size_t i;

	for (i = 0; i < ct->ngroups; i++)
		json_array_append_new(g, json_string(ct->groups[i]));
	return (json_pack("{s:s,s:s,s:s,s:o}", "uri", ct->uri, "name",
	    ct->name, "relationship", store_rel_name(ct->rel), "groups", g));
}

static int
contact_json(void *arg, const struct store_contact *ct)
{

	return (json_oom(json_array_append_new(arg, cli_contact_json(ct))));
}

static int
contact_text(void *arg, const struct store_contact *ct)
{
	size_t i;

	(void)arg;
	printf("  %s", ct->uri);
	if (ct->name[0] != '\0')
		printf(" \"%s\"", ct->name);
	printf(" %s", store_rel_name(ct->rel));
	for (i = 0; i < ct->ngroups; i++)
		printf("%s%s", i == 0 ? " [" : ", ", ct->groups[i]);
	printf("%s\n", ct->ngroups > 0 ? "]" : "");
	return (0);
}

static int
user_show(struct cli *c, int argc, char **argv)
{
	struct store_user u;
	json_t *j, *sets, *grps, *cts;
	char *pos[1], t1[32], t2[32];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_user_get(c->st, pos[0], &u) != 0)
		return (cli_fail(c));
	if (c->json) {
		j = cli_user_json(&u);
		json_object_set_new(j, "settings", sets = json_object());
		json_object_set_new(j, "groups", grps = json_array());
		json_object_set_new(j, "contacts", cts = json_array());
		if (store_setting_list(c->st, u.uri, setting_json, sets) != 0 ||
		    store_group_list(c->st, u.uri, group_json, grps) != 0 ||
		    store_contact_list(c->st, u.uri, contact_json, cts) != 0) {
			json_decref(j);
			return (cli_fail(c));
		}
		return (cli_json_print(j) == 0 ? EXIT_OK : cli_fail(c));
	}
	printf("uri:      %s\nname:     %s\nrole:     %s\nhome:     %s\n"
	    "created:  %s\nupdated:  %s\nsettings:\n", u.uri, u.name,
	    u.primary ? "primary" : "replica", u.home,
	    cli_time_ms(t1, u.created_ms), cli_time_ms(t2, u.updated_ms));
	if (store_setting_list(c->st, u.uri, setting_text, NULL) != 0)
		return (cli_fail(c));
	printf("groups:\n");
	if (store_group_list(c->st, u.uri, group_text, NULL) != 0)
		return (cli_fail(c));
	printf("contacts:\n");
	if (store_contact_list(c->st, u.uri, contact_text, NULL) != 0)
		return (cli_fail(c));
	return (EXIT_OK);
}

static int
user_item(void *arg, const struct store_user *u)
{
	struct cli *c = arg;

	if (c->json)
		return (cli_list_item(c, cli_user_json(u)));
	printf("%s\t%s\t%s\t%s\n", u->uri, u->name,
	    u->primary ? "primary" : "replica", u->home);
	return (0);
}

static int
user_list(struct cli *c, int argc, char **argv)
{
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_user_list(c->st, user_item, c) != 0)
		return (cli_fail(c));
	if (c->json)
		cli_list_end(c);
	return (EXIT_OK);
}

static const struct cli_cmd user_cmds[] = {
	{ "add", user_add, "URI --name NAME",
	  "Add a user homed on this pool.  URI is a SIP address of record\n"
	  "(sip:user@domain or sips:user@domain); it is normalized (lowercased,\n"
	  "see docs/store.md) and the normal form is printed.\n" },
	{ "del", user_del, "URI",
	  "Delete a user with their settings, groups and contacts, and the\n"
	  "conferences they organize with those conferences' content.\n" },
	{ "show", user_show, "URI [--json]",
	  "Show a user: role (primary or replica), home pool, settings,\n"
	  "groups and contacts.\n" },
	{ "list", user_list, "[--json]",
	  "List users: URI, name, role and home pool, tab-separated.\n" },
	{ NULL, NULL, NULL, NULL }
};

int
cmd_user(struct cli *c, int argc, char **argv)
{

	return (cli_dispatch(c, "user", user_cmds, argc, argv));
}

static int
setting_set(struct cli *c, int argc, char **argv)
{
	char *pos[3];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 3, 3, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 ||
	    store_setting_set(c->st, pos[0], pos[1], pos[2]) != 0)
		return (cli_fail(c));
	return (EXIT_OK);
}

static int
setting_get(struct cli *c, int argc, char **argv)
{
	struct store_setting s;
	char *pos[2];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 2, 2, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 ||
	    store_setting_get(c->st, pos[0], pos[1], &s) != 0)
		return (cli_fail(c));
	printf("%s\n", s.value);
	return (EXIT_OK);
}

static int
setting_del(struct cli *c, int argc, char **argv)
{
	char *pos[2];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 2, 2, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_setting_del(c->st, pos[0], pos[1]) != 0)
		return (cli_fail(c));
	return (EXIT_OK);
}

static int
setting_item(void *arg, const struct store_setting *s)
{
	struct cli *c = arg;

	if (c->json)
		return (cli_list_item(c, json_pack("{s:s,s:s}", "key", s->key,
		    "value", s->value)));
	printf("%s\t%s\n", s->key, s->value);
	return (0);
}

static int
setting_list(struct cli *c, int argc, char **argv)
{
	char *pos[1];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 ||
	    store_setting_list(c->st, pos[0], setting_item, c) != 0)
		return (cli_fail(c));
	if (c->json)
		cli_list_end(c);
	return (EXIT_OK);
}

static const struct cli_cmd setting_cmds[] = {
	{ "set", setting_set, "URI KEY VALUE",
	  "Set a user's setting.  KEY: 1-128 of [A-Za-z0-9._-]; VALUE: 1-4096\n"
	  "bytes of UTF-8 text without control characters.  At most 256\n"
	  "settings per user.\n" },
	{ "get", setting_get, "URI KEY", "Print a user's setting.\n" },
	{ "del", setting_del, "URI KEY", "Delete a user's setting.\n" },
	{ "list", setting_list, "URI [--json]",
	  "List a user's settings, tab-separated.\n" },
	{ NULL, NULL, NULL, NULL }
};

int
cmd_setting(struct cli *c, int argc, char **argv)
{

	return (cli_dispatch(c, "setting", setting_cmds, argc, argv));
}
