/*
 * cmd_conf.c: poolpair conf (create, show, list, del): the conference
 * directory.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "err.h"
#include "sipuri.h"
#include "util.h"

json_t *
cli_conf_json(const struct store_conf *cf)
{
	char s[32], e[32], cr[32];

	util_time_fmt(s, sizeof(s), cf->start);
	util_time_fmt(e, sizeof(e), cf->end);
	return (json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", cf->id,
	    "organizer", cf->organizer, "subject", cf->subject, "start", s,
	    "end", e, "access", store_access_name(cf->access),
	    "role", cf->primary ? "primary" : "replica", "home", cf->home,
	    "created", cli_time_ms(cr, cf->created_ms)));
}

static int
conf_create(struct cli *c, int argc, char **argv)
{
	const char *subject = "", *start = NULL, *end = NULL, *access = NULL;
	struct cli_opt o[] = {
		{ "subject", 0, OPT_VALUE, &subject, NULL },
		{ "start", 0, OPT_VALUE, &start, NULL },
		{ "end", 0, OPT_VALUE, &end, NULL },
		{ "access", 0, OPT_VALUE, &access, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	struct store_conf cf;
	char *pos[1];
	int rc;

	memset(&cf, 0, sizeof(cf));
	if (cli_args(c, argc, argv, o, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	/* The struct holds bounded copies: refuse what would not fit. */
	if (strlen(subject) > PP_SUBJECT_MAX) {
		pp_err(PP_EINVAL, "subject is longer than %d bytes",
		    PP_SUBJECT_MAX);
		return (cli_fail(c));
	}
	if (sipuri_normalize(pos[0], cf.organizer) != 0)
		return (cli_fail(c));
	snprintf(cf.subject, sizeof(cf.subject), "%s", subject);
	cf.start = (int64_t)time(NULL);
	cf.access = STORE_ACCESS_INVITED;
	if ((start != NULL && util_time_parse(start, &cf.start, "--start")) ||
	    (end != NULL && util_time_parse(end, &cf.end, "--end")) ||
	    (access != NULL && store_access_parse(access, &cf.access) != 0))
		return (cli_fail(c));
	if (end == NULL)
		cf.end = cf.start + 3600;
	if (cli_open(c) != 0 || store_conf_create(c->st, &cf) != 0)
		return (cli_fail(c));
	printf("%s\n", cf.id);
	return (EXIT_OK);
}

static void
conf_text(const struct store_conf *cf)
{
	char s[32], e[32];

	util_time_fmt(s, sizeof(s), cf->start);
	util_time_fmt(e, sizeof(e), cf->end);
	printf("id:        %s\norganizer: %s\nsubject:   %s\nstart:     %s\n"
	    "end:       %s\naccess:    %s\nrole:      %s\nhome:      %s\n",
	    cf->id, cf->organizer, cf->subject, s, e,
	    store_access_name(cf->access), cf->primary ? "primary" : "replica",
	    cf->home);
}

static int
conf_show(struct cli *c, int argc, char **argv)
{
	struct store_conf cf;
	char *pos[1];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_conf_get(c->st, pos[0], &cf) != 0)
		return (cli_fail(c));
	if (c->json)
		return (cli_json_print(cli_conf_json(&cf)) == 0 ? EXIT_OK :
		    cli_fail(c));
	conf_text(&cf);
	return (EXIT_OK);
}

static int
conf_item(void *arg, const struct store_conf *cf)
{
	struct cli *c = arg;
	char s[32];

	if (c->json)
		return (cli_list_item(c, cli_conf_json(cf)));
	util_time_fmt(s, sizeof(s), cf->start);
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cf->id, s, cf->organizer,
	    store_access_name(cf->access), cf->primary ? "primary" : "replica",
	    cf->home, cf->subject);
	return (0);
}

static int
conf_list(struct cli *c, int argc, char **argv)
{
	const char *organizer = NULL;
	struct cli_opt o[] = {
		{ "organizer", 0, OPT_VALUE, &organizer, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	int rc;

	if (cli_args(c, argc, argv, o, NULL, 0, 0, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 ||
	    store_conf_list(c->st, organizer, conf_item, c) != 0)
		return (cli_fail(c));
	if (c->json)
		cli_list_end(c);
	return (EXIT_OK);
}

static int
conf_del(struct cli *c, int argc, char **argv)
{
	char *pos[1];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 1, 1, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_conf_del(c->st, pos[0]) != 0)
		return (cli_fail(c));
	return (EXIT_OK);
}

static const struct cli_cmd conf_cmds[] = {
	{ "create", conf_create, "ORGANIZER [--subject TEXT] [--start TIME] "
	  "[--end TIME] [--access ACCESS]",
	  "Create a conference organized by ORGANIZER (a user of this pool)\n"
	  "and print its id: 32 hex digits, 128 random bits.\n\n"
	  "  --subject TEXT   up to 256 bytes (default: none)\n"
	  "  --start TIME     UTC, like 2026-11-23T10:00:00Z (default: now)\n"
	  "  --end TIME       UTC (default: one hour after the start); a\n"
	  "                   conference lasts at most a year\n"
	  "  --access ACCESS  open, closed or invited (default: invited)\n" },
	{ "show", conf_show, "ID [--json]", "Show a conference.\n" },
	{ "list", conf_list, "[--organizer URI] [--json]",
	  "List conferences: id, start, organizer, access, subject.\n" },
	{ "del", conf_del, "ID", "Delete a conference and its content.\n" },
	{ NULL, NULL, NULL, NULL }
};

int
cmd_conf(struct cli *c, int argc, char **argv)
{

	return (cli_dispatch(c, "conf", conf_cmds, argc, argv));
}
