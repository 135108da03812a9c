/*
 * store_putq.c: a put queue, for one caller putting content items one after
 * another (a batch upload, a restore, bench/gen).
 *
 * A put is a read (chunking, hashing, sealing and staging, store_upload.c)
 * followed by a sync of the stage and a write transaction.  On its own, a
 * caller waits out the sync and the commit of each item before it reads
 * the next: for items of a few MiB that is a quarter of the time.  Here a
 * committer thread, with a store handle of its own, syncs and commits item
 * N while the caller reads item N+1 on its handle.  Every item is still its
 * own transaction and durable before it is reported; reports come to the
 * caller's thread in the order of the puts.  At most one item waits for its
 * commit, so the queue holds two items' chunk lists and stages at most.
 *
 * A new chunk that item N staged and item N+1 also has (the same deck put
 * into two conferences, say) is not staged twice: item N+1's read waits for
 * N's commit and looks again (struct upload_ahead).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store_int.h"

struct pq_item {
	struct store_content c;
	struct upload u;
	void *user;
	int rc;
	enum pp_err code;		/* rc -1: the error */
	char err[512];
	uint8_t *staged;		/* sorted ids of the chunks it staged */
	size_t nstaged;
};

struct store_putq {
	struct store *st;		/* the caller's: reads */
	struct store *wst;		/* the committer's: syncs and commits */
	store_putq_cb *cb;
	pthread_t thread;
	int started;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct pq_item *pending;	/* handed over, commit not done */
	struct pq_item *done;		/* committed or failed, not reported */
	struct pq_item *ahead;		/* the caller's view of pending */
	int stop;
	int failed;			/* an item was refused: the first's */
	enum pp_err fcode;		/* error, for store_putq_finish */
	char ferr[512];
	struct upload_ahead up;
};

static void
item_free(struct pq_item *it)
{

	if (it == NULL)
		return;
	upload_free(&it->u);
	free(it->staged);
	free(it);
}

/* Keep the error of the failure just seen, for the caller's thread. */
static void
item_fail(struct pq_item *it)
{

	it->rc = -1;
	it->code = pp_errcode();
	snprintf(it->err, sizeof(it->err), "%s", pp_errmsg());
}

static void *
committer(void *arg)
{
	struct store_putq *q = arg;
	struct pq_item *it;

	(void)pthread_setname_np(pthread_self(), "pp-putq");
	pthread_mutex_lock(&q->mtx);
	for (;;) {
		while (q->pending == NULL && !q->stop)
			pthread_cond_wait(&q->cv, &q->mtx);
		if (q->pending == NULL)
			break;
		it = q->pending;
		pthread_mutex_unlock(&q->mtx);
		stage_rehome(it->u.sg, q->wst);
		if (stage_sync(it->u.sg) != 0 ||
		    content_put_commit(q->wst, &it->c, &it->u) != 0)
			item_fail(it);
		it->c.nnew = it->u.nnew;
		/* Its stage and chunk list go now; the ids stay for has(). */
		upload_free(&it->u);
		pthread_mutex_lock(&q->mtx);
		q->pending = NULL;
		q->done = it;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mtx);
	return (NULL);
}

static int
id_cmp(const void *a, const void *b)
{

	return (memcmp(a, b, CRYPTO_HASH_LEN));
}

/* upload_ahead.has: did the item ahead stage chunk ${id}? */
static int
ahead_has(void *arg, const uint8_t *id)
{
	struct store_putq *q = arg;

	return (q->ahead != NULL && q->ahead->nstaged > 0 &&
	    bsearch(id, q->ahead->staged, q->ahead->nstaged, CRYPTO_HASH_LEN,
	    id_cmp) != NULL);
}

/* Wait until the committer holds no item. */
static void
wait_idle(struct store_putq *q)
{

	pthread_mutex_lock(&q->mtx);
	while (q->pending != NULL)
		pthread_cond_wait(&q->cv, &q->mtx);
	pthread_mutex_unlock(&q->mtx);
}

/* upload_ahead.wait */
static void
ahead_wait(void *arg)
{
	struct store_putq *q = arg;

	wait_idle(q);
	q->ahead = NULL;
}

/* An item was refused: keep the first refusal for store_putq_finish. */
static void
refused(struct store_putq *q, enum pp_err code, const char *err)
{

	if (!q->failed) {
		q->failed = 1;
		q->fcode = code;
		snprintf(q->ferr, sizeof(q->ferr), "%s", err);
	}
	pp_err(code, "%s", err);
}

/* Report item ${it} (finished) to the caller, and free it. */
static void
report(struct store_putq *q, struct pq_item *it)
{

	if (it->rc != 0)
		refused(q, it->code, it->err);
	q->cb(it->user, it->rc, it->rc == 0 ? &it->c : NULL);
	item_free(it);
}

/* Wait for the item committing, if any, and report it. */
static void
settle(struct store_putq *q)
{
	struct pq_item *it;

	wait_idle(q);
	q->ahead = NULL;
	pthread_mutex_lock(&q->mtx);
	it = q->done;
	q->done = NULL;
	pthread_mutex_unlock(&q->mtx);
	if (it != NULL)
		report(q, it);
}

/* Keep the sorted ids of the chunks ${it} staged.  Returns 0 or -1. */
static int
staged_ids(struct pq_item *it)
{
	size_t i, n = 0;

	for (i = 0; i < it->u.n; i++)
		n += it->u.off[i] >= 0;
	if (n == 0)
		return (0);
	if ((it->staged = malloc(n * CRYPTO_HASH_LEN)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	for (i = 0; i < it->u.n; i++)
		if (it->u.off[i] >= 0)
			memcpy(it->staged + it->nstaged++ * CRYPTO_HASH_LEN,
			    it->u.ids + i * CRYPTO_HASH_LEN, CRYPTO_HASH_LEN);
	qsort(it->staged, it->nstaged, CRYPTO_HASH_LEN, id_cmp);
	return (0);
}

struct store_putq *
store_putq_new(struct store *st, store_putq_cb *cb)
{
	struct store_putq *q;

	if (st->batch || st->in_tx || st->importing) {
		pp_err(PP_EINTERNAL, "store_putq_new: a transaction is open");
		return (NULL);
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (NULL);
	}
	q->st = st;
	q->cb = cb;
	q->up.has = ahead_has;
	q->up.wait = ahead_wait;
	q->up.arg = q;
	pthread_mutex_init(&q->mtx, NULL);
	pthread_cond_init(&q->cv, NULL);
	if ((q->wst = store_open(st->dir)) == NULL)
		goto err;
	if (pthread_create(&q->thread, NULL, committer, q) != 0) {
		pp_err(PP_EINTERNAL, "cannot start the put queue's committer");
		goto err;
	}
	q->started = 1;
	return (q);
err:
	store_putq_free(q);
	return (NULL);
}

int
store_putq_put(struct store_putq *q, const char *conf, const char *name,
    enum store_kind kind, const char *mime, int fd, void *user)
{
	struct pq_item *it;

	if ((it = calloc(1, sizeof(*it))) == NULL) {
		/* Refused like any item: reported, in order, and counted. */
		settle(q);
		refused(q, PP_EINTERNAL, "out of memory");
		q->cb(user, -1, NULL);
		return (-1);
	}
	it->user = user;
	if (content_put_read(q->st, conf, name, kind, mime, fd, &it->c,
	    &it->u, &q->up) != 0 || staged_ids(it) != 0)
		item_fail(it);
	/* The item ahead is reported first. */
	settle(q);
	if (it->rc != 0) {
		report(q, it);
		return (-1);
	}
	pthread_mutex_lock(&q->mtx);
	q->pending = q->ahead = it;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mtx);
	return (0);
}

int
store_putq_finish(struct store_putq *q)
{
	int i, failed;

	settle(q);
	/* What the committer wrote counts as the caller's handle's. */
	for (i = 0; i < STORE_NMOD; i++)
		if (q->wst->written[i] > q->st->written[i])
			q->st->written[i] = q->wst->written[i];
	if ((failed = q->failed) != 0)
		pp_err(q->fcode, "%s", q->ferr);
	q->failed = 0;
	return (failed ? -1 : 0);
}

void
store_putq_free(struct store_putq *q)
{

	if (q == NULL)
		return;
	if (q->started) {
		pthread_mutex_lock(&q->mtx);
		while (q->pending != NULL)
			pthread_cond_wait(&q->cv, &q->mtx);
		q->stop = 1;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mtx);
		pthread_join(q->thread, NULL);
	}
	/* A finished item never reported is dropped unreported. */
	item_free(q->done);
	if (q->wst != NULL)
		store_close(q->wst);
	pthread_mutex_destroy(&q->mtx);
	pthread_cond_destroy(&q->cv);
	free(q);
}
