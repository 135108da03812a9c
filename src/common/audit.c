/*
 * audit.c: the audit log's writers (struct audit): a token bucket per kind
 * in front of the append (audit_write.c), the "audit-suppressed" records
 * of what they dropped, and one shared writer per directory for a process.
 * The reader and the verifier are audit_read.c; docs/audit.md has the
 * format.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_int.h"
#include "err.h"
#include "fileio.h"
#include "util.h"

#define AUDIT_KINDS	32	/* rate buckets; the last serves all others */
#define AUDIT_SHARED	4	/* directories of audit_shared */

struct bucket {
	char kind[AUDIT_KIND_MAX + 1];
	int64_t milli;		/* tokens, in thousandths */
	int64_t last_ms;	/* monotonic time of the last refill */
	uint64_t dropped;	/* events over the rate since the last record */
};

struct audit {
	pthread_mutex_t mu;	/* over everything below */
	struct audit_file f;
	struct audit_limits lim;
	struct bucket b[AUDIT_KINDS];
	size_t nb;		/* buckets of b[0..AUDIT_KINDS-1) in use */
};

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct audit *shared[AUDIT_SHARED];

/* The rate bucket of ${kind} in ${a}: its own, or the shared last one. */
static struct bucket *
bucket_of(struct audit *a, const char *kind)
{
	struct bucket *b;
	size_t i;

	for (i = 0; i < a->nb; i++)
		if (strcmp(a->b[i].kind, kind) == 0)
			return (&a->b[i]);
	if (a->nb == AUDIT_KINDS - 1)
		return (&a->b[AUDIT_KINDS - 1]);
	b = &a->b[a->nb++];
	snprintf(b->kind, sizeof(b->kind), "%s", kind);
	b->milli = (int64_t)a->lim.burst * 1000;
	b->last_ms = util_mono_ms();
	return (b);
}

/* Take a token from ${b} under limits ${l}: 1 to write, 0 over the rate. */
static int
bucket_take(const struct audit_limits *l, struct bucket *b)
{
	int64_t now = util_mono_ms(), cap = (int64_t)l->burst * 1000;

	if (l->burst == 0)
		return (1);
	b->milli += (now - b->last_ms) * (int64_t)l->per_sec;
	if (b->milli > cap)
		b->milli = cap;
	b->last_ms = now;
	if (b->milli < 1000)
		return (0);
	b->milli -= 1000;
	return (1);
}

/* The "audit-suppressed" record of what ${b} dropped. */
static void
suppressed_rec(struct audit_arec *r, const struct bucket *b)
{

	r->kind = AUDIT_K_SUPPRESSED;
	r->actor = "audit";
	snprintf(r->detail, sizeof(r->detail), "dropped %llu %s events over "
	    "the rate limit", (unsigned long long)b->dropped, b->kind);
}

struct audit *
audit_open(const char *dir)
{
	const struct audit_limits l = { AUDIT_FILE_MAX, AUDIT_BURST,
	    AUDIT_PER_SEC };
	struct audit *a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (NULL);
	}
	if (fileio_join(a->f.path, sizeof(a->f.path), dir, AUDIT_FILE) != 0 ||
	    fileio_join(a->f.old, sizeof(a->f.old), dir, AUDIT_OLD) != 0)
		goto err0;
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		pp_err(PP_EINTERNAL, "cannot create a mutex");
		goto err0;
	}
	audit_set_limits(a, &l);
	return (a);

err0:
	free(a);
	return (NULL);
}

void
audit_set_limits(struct audit *a, const struct audit_limits *l)
{
	struct bucket *other = &a->b[AUDIT_KINDS - 1];

	pthread_mutex_lock(&a->mu);
	a->lim = *l;
	a->f.file_max = l->file_max;
	memset(a->b, 0, sizeof(a->b));
	a->nb = 0;
	snprintf(other->kind, sizeof(other->kind), "other");
	other->milli = (int64_t)l->burst * 1000;
	other->last_ms = util_mono_ms();
	pthread_mutex_unlock(&a->mu);
}

int
audit_log(struct audit *a, const char *kind, const char *actor,
    const char *fmt, ...)
{
	struct audit_arec r[2];
	struct bucket *b;
	va_list ap;
	size_t n = 0;
	int rc = 0;

	if (util_token_ok(kind, AUDIT_KIND_MAX, "audit kind") != 0)
		return (-1);
	pthread_mutex_lock(&a->mu);
	b = bucket_of(a, kind);
	if (!bucket_take(&a->lim, b)) {
		b->dropped++;
		goto out;
	}
	if (b->dropped > 0)
		suppressed_rec(&r[n++], b);
	r[n].kind = kind;
	r[n].actor = actor != NULL ? actor : "-";
	va_start(ap, fmt);
	vsnprintf(r[n].detail, sizeof(r[n].detail), fmt, ap);
	va_end(ap);
	if ((rc = audit_append(&a->f, r, n + 1)) == 0)
		b->dropped = 0;
out:
	pthread_mutex_unlock(&a->mu);
	return (rc);
}

int
audit_flush(struct audit *a)
{
	struct audit_arec r;
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&a->mu);
	for (i = 0; i < AUDIT_KINDS && rc == 0; i++) {
		if (a->b[i].dropped == 0)
			continue;
		suppressed_rec(&r, &a->b[i]);
		if ((rc = audit_append(&a->f, &r, 1)) == 0)
			a->b[i].dropped = 0;
	}
	pthread_mutex_unlock(&a->mu);
	return (rc);
}

void
audit_close(struct audit *a)
{

	if (a == NULL)
		return;
	(void)audit_flush(a);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/* At exit: write what the shared writers suppressed. */
static void
shared_flush(void)
{
	size_t i;

	pthread_mutex_lock(&shared_mu);
	for (i = 0; i < AUDIT_SHARED && shared[i] != NULL; i++)
		(void)audit_flush(shared[i]);
	pthread_mutex_unlock(&shared_mu);
}

struct audit *
audit_shared(const char *dir)
{
	char path[PATH_MAX];
	struct audit *a = NULL;
	size_t i;

	if (fileio_join(path, sizeof(path), dir, AUDIT_FILE) != 0)
		return (NULL);
	pthread_mutex_lock(&shared_mu);
	for (i = 0; i < AUDIT_SHARED && shared[i] != NULL; i++)
		if (strcmp(shared[i]->f.path, path) == 0) {
			a = shared[i];
			goto out;
		}
	if (i == AUDIT_SHARED) {
		pp_err(PP_ELIMIT, "more than %d audit logs in one process",
		    AUDIT_SHARED);
		goto out;
	}
	if ((a = audit_open(dir)) == NULL)
		goto out;
	if (i == 0)
		(void)atexit(shared_flush);
	shared[i] = a;
out:
	pthread_mutex_unlock(&shared_mu);
	return (a);
}

