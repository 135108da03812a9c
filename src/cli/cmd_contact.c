/*
 * cmd_contact.c: poolpair contact (add, set, del, list) and group (add, del,
 * list).
 */
#include <stdio.h>

#include "cli.h"
#include "err.h"

/* contact add and contact set: the same options, ${replace} differs. */
static int
contact_put(struct cli *c, int argc, char **argv, int replace)
{
	const char *name = NULL, *relname = NULL, *groups[CLI_MAXLIST];
	size_t ngroups = 0;
	struct cli_opt o[] = {
		{ "name", 0, OPT_VALUE, &name, NULL },
		{ "relationship", 0, OPT_VALUE, &relname, NULL },
		{ "group", 0, OPT_LIST, groups, &ngroups },
		{ NULL, 0, 0, NULL, NULL }
	};
	enum store_rel rel = STORE_REL_COLLEAGUE;
	char *pos[2];
	int rc;

	if (cli_args(c, argc, argv, o, pos, 2, 2, NULL, &rc) != 0)
		return (rc);
	if (relname != NULL && store_rel_parse(relname, &rel) != 0)
		return (cli_fail(c));
	if (cli_open(c) != 0 || store_contact_put(c->st, pos[0], pos[1], name,
	    rel, groups, ngroups, replace) != 0)
		return (cli_fail(c));
	return (EXIT_OK);
}

static int
contact_add(struct cli *c, int argc, char **argv)
{

	return (contact_put(c, argc, argv, 0));
}

static int
contact_set(struct cli *c, int argc, char **argv)
{

	return (contact_put(c, argc, argv, 1));
}

static int
contact_del(struct cli *c, int argc, char **argv)
{
	char *pos[2];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 2, 2, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_contact_del(c->st, pos[0], pos[1]) != 0)
		return (cli_fail(c));
	return (EXIT_OK);
}

static int
contact_item(void *arg, const struct store_contact *ct)
{
	struct cli *c = arg;
	size_t i;

	if (c->json)
		return (cli_list_item(c, cli_contact_json(ct)));
	printf("%s\t%s\t%s\t", ct->uri, ct->name, store_rel_name(ct->rel));
	for (i = 0; i < ct->ngroups; i++)
		printf("%s%s", i > 0 ? "," : "", ct->groups[i]);
	printf("\n");
	return (0);
}

static int
contact_list(struct cli *c, int argc, char **argv)
{
	char *pos[1];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 ||
	    store_contact_list(c->st, pos[0], contact_item, c) != 0)
		return (cli_fail(c));
	if (c->json)
		cli_list_end(c);
	return (EXIT_OK);
}

#define CONTACT_OPTS \
	"  --name NAME            the contact's display name\n" \
	"  --relationship REL     the presence privacy relationship granted:\n" \
	"                         blocked, external, colleague (default),\n" \
	"                         workgroup or friends\n" \
	"  --group GROUP          file the contact in GROUP (created if\n" \
	"                         missing); may be repeated\n"

static const struct cli_cmd contact_cmds[] = {
	{ "add", contact_add, "OWNER URI [--name NAME] [--relationship REL] "
	  "[--group GROUP]...",
	  "Add URI to OWNER's contacts; refused if already there.\n\n"
	  CONTACT_OPTS },
	{ "set", contact_set, "OWNER URI [--name NAME] [--relationship REL] "
	  "[--group GROUP]...",
	  "Add or replace OWNER's contact URI whole (name, relationship,\n"
	  "groups).\n\n" CONTACT_OPTS },
	{ "del", contact_del, "OWNER URI", "Remove URI from OWNER's contacts.\n" },
	{ "list", contact_list, "OWNER [--json]",
	  "List OWNER's contacts: URI, name, relationship, groups.\n" },
	{ NULL, NULL, NULL, NULL }
};

int
cmd_contact(struct cli *c, int argc, char **argv)
{

	return (cli_dispatch(c, "contact", contact_cmds, argc, argv));
}

/* group add and group del: OWNER NAME. */
static int
group_change(struct cli *c, int argc, char **argv,
    int (*fn)(struct store *, const char *, const char *))
{
	char *pos[2];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 2, 2, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || fn(c->st, pos[0], pos[1]) != 0)
		return (cli_fail(c));
	return (EXIT_OK);
}

static int
group_add(struct cli *c, int argc, char **argv)
{

	return (group_change(c, argc, argv, store_group_add));
}

static int
group_del(struct cli *c, int argc, char **argv)
{

	return (group_change(c, argc, argv, store_group_del));
}

static int
group_item(void *arg, const struct store_group *g)
{
	struct cli *c = arg;

	if (c->json)
		return (cli_list_item(c, json_pack("{s:s,s:I}", "name",
		    g->name, "contacts", (json_int_t)g->ncontacts)));
	printf("%s\t%zu\n", g->name, g->ncontacts);
	return (0);
}

static int
group_list(struct cli *c, int argc, char **argv)
{
	char *pos[1];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 ||
	    store_group_list(c->st, pos[0], group_item, c) != 0)
		return (cli_fail(c));
	if (c->json)
		cli_list_end(c);
	return (EXIT_OK);
}

static const struct cli_cmd group_cmds[] = {
	{ "add", group_add, "OWNER NAME",
	  "Add a contact group (at most 64 per user, names up to 128 bytes).\n" },
	{ "del", group_del, "OWNER NAME",
	  "Delete a contact group; its contacts stay, outside the group.\n" },
	{ "list", group_list, "OWNER [--json]",
	  "List OWNER's groups and how many contacts each holds.\n" },
	{ NULL, NULL, NULL, NULL }
};

int
cmd_group(struct cli *c, int argc, char **argv)
{

	return (cli_dispatch(c, "group", group_cmds, argc, argv));
}
