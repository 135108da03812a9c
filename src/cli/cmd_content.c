/*
 * cmd_content.c: poolpair content (put, get, list, del): conference content.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
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

/*
 * Several files in one put: each is its own item and its own transaction,
 * stored by up to PUT_JOBS_MAX threads at once, each with a store handle and
 * a put queue of its own (store_putq.c: one file's sync and commit overlap
 * the reading, chunking and sealing of the job's next).
 */
#define PUT_FILES_MAX	64
#define PUT_JOBS_MAX	8
#define PUT_JOBS_DEF	2

struct put_file {
	const char *path;
	const char *name, *mime;
	int fd;
	int done;			/* 1 stored, -1 failed, 0 not tried */
	struct store_content ct;
	enum pp_err code;		/* done -1: the error */
	char err[512];
	struct put_run *run;
};

struct put_run {
	struct cli *c;			/* written: under mtx */
	const char *data, *conf;
	enum store_kind kind;
	struct put_file *f;
	size_t n, next;			/* under mtx */
	int stop;			/* under mtx: one failed, start no more */
	enum pp_err qcode;		/* under mtx: a job could not start */
	char qerr[512];
	pthread_mutex_t mtx;
};

/* A put queue's report of file ${user}. */
static void
put_report(void *user, int rc, const struct store_content *ct)
{
	struct put_file *f = user;

	if (rc == 0)
		f->ct = *ct;
	else {
		/* pp_err is per thread: keep it for the main one. */
		f->code = pp_errcode();
		snprintf(f->err, sizeof(f->err), "%s", pp_errmsg());
		pthread_mutex_lock(&f->run->mtx);
		f->run->stop = 1;
		pthread_mutex_unlock(&f->run->mtx);
	}
	f->done = rc == 0 ? 1 : -1;
}

/*
 * Put the run's files in turn through a put queue on ${st} (one file's
 * commit overlaps the next one's reading), until none is left or one fails.
 */
static void
put_files(struct put_run *r, struct store *st)
{
	struct store_putq *q;
	struct put_file *f;
	size_t i;

	if ((q = store_putq_new(st, put_report)) == NULL) {
		pthread_mutex_lock(&r->mtx);
		if (r->qerr[0] == '\0') {
			r->qcode = pp_errcode();
			snprintf(r->qerr, sizeof(r->qerr), "%s", pp_errmsg());
		}
		pthread_mutex_unlock(&r->mtx);
		return;
	}
	for (;;) {
		pthread_mutex_lock(&r->mtx);
		i = r->next;
		if (r->stop || i >= r->n) {
			pthread_mutex_unlock(&r->mtx);
			break;
		}
		r->next++;
		pthread_mutex_unlock(&r->mtx);
		f = &r->f[i];
		(void)store_putq_put(q, r->conf, f->name, r->kind, f->mime,
		    f->fd, f);
	}
	(void)store_putq_finish(q);
	store_putq_free(q);
}

static void *
put_thread(void *arg)
{
	struct put_run *r = arg;
	struct store *st;

	if ((st = store_open(r->data)) == NULL) {
		/* Its share falls to the others. */
		return (NULL);
	}
	put_files(r, st);
	pthread_mutex_lock(&r->mtx);
	cli_note_written(r->c, st);
	pthread_mutex_unlock(&r->mtx);
	store_close(st);
	return (NULL);
}

static int
content_put(struct cli *c, int argc, char **argv)
{
	const char *kindname = "attachment", *name = NULL, *mime = NULL;
	const char *jobsarg = NULL;
	struct cli_opt o[] = {
		{ "kind", 0, OPT_VALUE, &kindname, NULL },
		{ "name", 0, OPT_VALUE, &name, NULL },
		{ "mime", 0, OPT_VALUE, &mime, NULL },
		{ "jobs", 'j', OPT_VALUE, &jobsarg, NULL },
		{ NULL, 0, 0, NULL, NULL }
	};
	struct put_file files[PUT_FILES_MAX];
	struct put_run r;
	pthread_t th[PUT_JOBS_MAX];
	char *pos[1 + PUT_FILES_MAX];
	size_t i, k, stored = 0, started = 0, jobs;
	int rc, npos;
	long v;
	char *e;

	if (cli_args(c, argc, argv, o, pos, 2, 1 + PUT_FILES_MAX, &npos,
	    &rc) != 0)
		return (rc);
	memset(&r, 0, sizeof(r));
	r.c = c;
	r.conf = pos[0];
	r.n = (size_t)npos - 1;
	r.f = files;
	jobs = r.n < PUT_JOBS_DEF ? r.n : PUT_JOBS_DEF;
	if (jobsarg != NULL) {
		errno = 0;
		v = strtol(jobsarg, &e, 10);
		if (*jobsarg == '\0' || *e != '\0' || errno != 0 || v < 1 ||
		    v > PUT_JOBS_MAX)
			return (cli_usage(c, "--jobs takes 1 to %d",
			    PUT_JOBS_MAX));
		jobs = (size_t)v < r.n ? (size_t)v : r.n;
	}
	if (r.n > 1 && name != NULL)
		return (cli_usage(c, "--name names one FILE, not %zu", r.n));
	if (store_kind_parse(kindname, &r.kind) != 0)
		return (cli_fail(c));
	/* Every name, type and file is checked before anything is stored. */
	memset(files, 0, sizeof(files));
	for (i = 0; i < r.n; i++) {
		files[i].fd = -1;
		files[i].path = pos[1 + i];
		files[i].run = &r;
		if (strcmp(pos[1 + i], "-") == 0 && r.n > 1)
			return (cli_usage(c, "'-' (standard input) must be the "
			    "only FILE"));
		if (name != NULL)
			files[i].name = name;
		else if (strcmp(pos[1 + i], "-") == 0)
			return (cli_usage(c, "--name is required with '-'"));
		else
			files[i].name = util_basename(pos[1 + i]);
		files[i].mime = mime != NULL ? mime : mime_guess(files[i].name);
		if (store_content_meta_ok(files[i].name, files[i].mime) != 0)
			return (cli_fail(c));
		for (k = 0; k < i; k++)
			if (strcmp(files[k].name, files[i].name) == 0) {
				pp_err(PP_EINVAL, "%s and %s would both be item "
				    "'%s'", files[k].path, files[i].path,
				    files[i].name);
				return (cli_fail(c));
			}
	}
	rc = EXIT_OK;
	if (cli_open(c) != 0) {
		rc = cli_fail(c);
		goto out;
	}
	for (i = 0; i < r.n; i++)
		if ((files[i].fd = content_open(files[i].path)) < 0) {
			rc = cli_fail(c);
			goto out;
		}
	r.data = c->data;
	pthread_mutex_init(&r.mtx, NULL);
	/* This thread is one of the jobs, on the handle it has open. */
	for (k = 1; k < jobs; k++) {
		if (pthread_create(&th[started], NULL, put_thread, &r) != 0)
			break;
		started++;
	}
	put_files(&r, c->st);
	for (k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	pthread_mutex_destroy(&r.mtx);
	for (i = 0; i < r.n; i++)
		if (files[i].done == 1) {
			stored++;
			printf("%s: %lld bytes, %zu chunks (%zu new)\n",
			    files[i].ct.name, (long long)files[i].ct.size,
			    files[i].ct.nchunks, files[i].ct.nnew);
		}
	for (i = 0; i < r.n; i++) {
		if (files[i].done != -1)
			continue;
		if (r.n == 1)
			pp_err(files[i].code, "%s", files[i].err);
		else
			pp_err(files[i].code, "%s: %s (%zu of %zu files stored, "
			    "each whole)", files[i].path, files[i].err, stored,
			    r.n);
		rc = cli_fail(c);
		break;
	}
	/* No job could start a put queue: nothing was tried. */
	if (rc == EXIT_OK && stored < r.n) {
		if (r.qerr[0] != '\0')
			pp_err(r.qcode, "%s", r.qerr);
		else
			pp_err(PP_EINTERNAL, "the puts did not run");
		rc = cli_fail(c);
	}
out:
	for (i = 0; i < r.n; i++)
		if (files[i].fd >= 0 && files[i].fd != STDIN_FILENO)
			close(files[i].fd);
	return (rc);
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
	{ "put", content_put, "CONF FILE... [--kind KIND] [--name NAME] "
	  "[--mime TYPE] [-j N]",
	  "Store FILE ('-': standard input) as content of conference CONF,\n"
	  "replacing an item of the same name.  Content is cut into chunks of\n"
	  "about 16 KiB, each stored once and encrypted (AES-256-GCM) under\n"
	  "the pool's storage key; a re-upload stores only changed chunks.\n"
	  "Up to 64 FILEs at once: each is an item of its own, committed on\n"
	  "its own, two stored at a time by default.  Every name and file is\n"
	  "checked before anything is stored; if one fails later, the others\n"
	  "stop, and those already stored stay whole.\n\n"
	  "  --kind KIND   presentation, whiteboard, handout or attachment\n"
	  "                (default: attachment)\n"
	  "  --name NAME   the item's name (default: FILE's base name; one\n"
	  "                FILE only)\n"
	  "  --mime TYPE   the MIME type (default: from the name's extension)\n"
	  "  -j, --jobs N  files stored at once, 1 to 8 (default: 2)\n"
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
