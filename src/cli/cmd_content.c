/*
 * cmd_content.c: poolpair content (put, get, list, del): conference content.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "util.h"

/* MIME types by file extension; anything else is application/octet-stream. */
static const char *const mimes[][2] = {
	{ "pptx", "application/vnd.openxmlformats-officedocument."
	  "presentationml.presentation" },
	{ "docx", "application/vnd.openxmlformats-officedocument."
	  "wordprocessingml.document" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument."
	  "spreadsheetml.sheet" },
	{ "ppt", "application/vnd.ms-powerpoint" },
	{ "pdf", "application/pdf" }, { "png", "image/png" },
	{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
	{ "gif", "image/gif" }, { "svg", "image/svg+xml" },
	{ "txt", "text/plain" }, { "zip", "application/zip" },
	{ "json", "application/json" },
};

static const char *
mime_guess(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot != NULL)
		for (i = 0; i < sizeof(mimes) / sizeof(mimes[0]); i++)
			if (strcasecmp(dot + 1, mimes[i][0]) == 0)
				return (mimes[i][1]);
	return ("application/octet-stream");
}

/* Open the content file ${path} ("-": standard input) for reading. */
static int
content_open(const char *path)
{
	struct stat sb;
	int fd;

	if (strcmp(path, "-") == 0)
		return (STDIN_FILENO);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		pp_errp(PP_EINVAL, "cannot open %s", path);
		return (-1);
	}
	if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
		pp_err(PP_EINVAL, "cannot read %s: not a file", path);
		goto err;
	}
	if (S_ISREG(sb.st_mode) && sb.st_size > PP_CONTENT_MAX) {
		pp_err(PP_ELIMIT, "%s is larger than %lld bytes, the most "
		    "allowed", path, (long long)PP_CONTENT_MAX);
		goto err;
	}
	return (fd);
err:
	close(fd);
	return (-1);
}

static int
content_put(struct cli *c, int argc, char **argv)
{
	const char *kindname = "attachment", *name = NULL, *mime = NULL;
	struct cli_opt o[] = {
		{ "kind", 0, OPT_VALUE, &kindname, NULL },
		{ "name", 0, OPT_VALUE, &name, NULL },
		{ "mime", 0, OPT_VALUE, &mime, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	struct store_content ct;
	enum store_kind kind;
	char *pos[2];
	int rc, fd;

	if (cli_args(c, argc, argv, o, pos, 2, 2, NULL, &rc) != 0)
		return (rc);
	if (store_kind_parse(kindname, &kind) != 0)
		return (cli_fail(c));
	if (name == NULL) {
		if (strcmp(pos[1], "-") == 0)
			return (cli_usage(c, "--name is required with '-'"));
		name = util_basename(pos[1]);
	}
	if (mime == NULL)
		mime = mime_guess(name);
	if (cli_open(c) != 0 || (fd = content_open(pos[1])) < 0)
		return (cli_fail(c));
	rc = store_content_put(c->st, pos[0], name, kind, mime, fd, &ct);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc != 0)
		return (cli_fail(c));
	printf("%s: %lld bytes, %zu chunks (%zu new)\n", ct.name,
	    (long long)ct.size, ct.nchunks, ct.nnew);
	return (EXIT_OK);
}

/* Write the item to ${path} through a temporary file and a rename. */
static int
content_get_file(struct cli *c, const char *conf, const char *name,
    const char *path)
{
	char tmp[PATH_MAX];
	int fd;

	if ((fd = cli_tmp_open(path, tmp)) < 0)
		return (-1);
	return (cli_tmp_close(fd, tmp, path,
	    store_content_get(c->st, conf, name, fd, NULL) == 0));
}

static int
content_get(struct cli *c, int argc, char **argv)
{
	const char *out = NULL;
	struct cli_opt o[] = {
		{ "output", 'o', OPT_VALUE, &out, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	struct store_content ct;
	char *pos[2];
	int rc;

	if (cli_args(c, argc, argv, o, pos, 2, 2, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0)
		return (cli_fail(c));
	if (out != NULL && strcmp(out, "-") != 0) {
		if ((rc = content_get_file(c, pos[0], pos[1], out)) == 0 &&
		    (rc = store_content_info(c->st, pos[0], pos[1], &ct)) == 0)
			printf("%s: %lld bytes (%s, home pool %s)\n", out,
			    (long long)ct.size, ct.primary ? "primary" :
			    "replica", ct.home);
	}
	else {
		fflush(stdout);
		rc = store_content_get(c->st, pos[0], pos[1], STDOUT_FILENO,
		    NULL);
	}
	return (rc == 0 ? EXIT_OK : cli_fail(c));
}

static json_t *
content_json(const struct store_content *ct)
{
	char sum[2 * CRYPTO_HASH_LEN + 1], t[32];

	util_hex(sum, ct->sha256, CRYPTO_HASH_LEN);
	return (json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:s,s:s,s:s}", "conf",
	    ct->conf, "name", ct->name, "kind", store_kind_name(ct->kind),
	    "mime", ct->mime, "size", (json_int_t)ct->size, "sha256", sum,
	    "chunks", (json_int_t)ct->nchunks, "updated",
	    cli_time_ms(t, ct->updated_ms), "role",
	    ct->primary ? "primary" : "replica", "home", ct->home));
}

static int
content_item(void *arg, const struct store_content *ct)
{
	struct cli *c = arg;
	char t[32];

	if (c->json)
		return (cli_list_item(c, content_json(ct)));
	printf("%s\t%s\t%s\t%lld\t%s\t%s\t%s\t%s\n", ct->conf, ct->name,
	    store_kind_name(ct->kind), (long long)ct->size, ct->mime,
	    cli_time_ms(t, ct->updated_ms),
	    ct->primary ? "primary" : "replica", ct->home);
	return (0);
}

static int
content_list(struct cli *c, int argc, char **argv)
{
	char *pos[1] = { NULL };
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 0, 1, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 ||
	    store_content_list(c->st, pos[0], content_item, c) != 0)
		return (cli_fail(c));
	if (c->json)
		cli_list_end(c);
	return (EXIT_OK);
}

static int
content_del(struct cli *c, int argc, char **argv)
{
	char *pos[2];
	int rc;

	if (cli_args(c, argc, argv, cli_noopts, pos, 2, 2, NULL, &rc) != 0)
		return (rc);
	if (cli_open(c) != 0 || store_content_del(c->st, pos[0], pos[1]) != 0)
		return (cli_fail(c));
	return (EXIT_OK);
}

static const struct cli_cmd content_cmds[] = {
	{ "put", content_put, "CONF FILE [--kind KIND] [--name NAME] "
	  "[--mime TYPE]",
	  "Store FILE ('-': standard input) as content of conference CONF,\n"
	  "replacing an item of the same name.  Content is cut into chunks of\n"
	  "about 16 KiB, each stored once and encrypted (AES-256-GCM) under\n"
	  "the pool's storage key; a re-upload stores only changed chunks.\n\n"
	  "  --kind KIND   presentation, whiteboard, handout or attachment\n"
	  "                (default: attachment)\n"
	  "  --name NAME   the item's name (default: FILE's base name)\n"
	  "  --mime TYPE   the MIME type (default: from the name's extension)\n"
	},
	{ "get", content_get, "CONF NAME [-o FILE]",
	  "Write an item's bytes to FILE (atomically: nothing is left if a\n"
	  "check fails) or to standard output.  Every chunk is authenticated\n"
	  "and checked against its SHA-256 before it is written.\n\n"
	  "  -o, --output FILE   where to write (default: standard output)\n" },
	{ "list", content_list, "[CONF] [--json]",
	  "List content items, of one conference or all: conference, name,\n"
	  "kind, size, MIME type, last update.\n" },
	{ "del", content_del, "CONF NAME", "Delete a content item.\n" },
	{ NULL, NULL, NULL, NULL }
};

int
cmd_content(struct cli *c, int argc, char **argv)
{

	return (cli_dispatch(c, "content", content_cmds, argc, argv));
}
