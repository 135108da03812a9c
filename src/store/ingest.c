/*
 * ingest.c: the chunking reader thread (see ingest.h).  The reader fills a
 * ring of NSLOT buffers, each READ bytes of input (plus the uncut tail of
 * the one before) cut into chunks with their SHA-256 ids; the caller
 * consumes them in order while a hasher thread computes the SHA-256 of the
 * whole input from the same slots.  A slot is refilled once both are done
 * with it.  Memory is bounded by the ring: NSLOT * (READ + CHUNKER_MAX).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunker.h"
#include "err.h"
#include "ingest.h"
#include "util.h"

#define NSLOT	8
#define READ	(256 << 10)
#define SLOTBUF	(READ + CHUNKER_MAX)
#define MAXCUTS	(SLOTBUF / CHUNKER_MIN + 2)

struct slot {
	uint8_t *buf;
	size_t ncuts;			/* chunks in this slot */
	size_t end[MAXCUTS];		/* where chunk i ends in buf */
	uint8_t id[MAXCUTS][CRYPTO_HASH_LEN];
	int last;			/* the input ends with this slot */
};

struct ingest {
	int fd;
	int64_t max, size;
	struct crypto_hash *whole;
	uint8_t sum[CRYPTO_HASH_LEN];
	struct slot slot[NSLOT];
	pthread_t thread, hthread;	/* the reader, the whole-input hasher */
	int started, hstarted;
	pthread_mutex_t mtx;
	pthread_cond_t rcv, hcv, ccv;	/* the reader, hasher, consumer wait */
	size_t full;			/* slots filled and not yet consumed */
	size_t hfull, hhead;		/* ... not yet hashed; next to hash */
	int hdone;			/* the hasher has set sum */
	size_t rhead, chead;		/* next slot to fill / to consume */
	size_t cpos;			/* next chunk in the consumer's slot */
	int stop;			/* the consumer gave up */
	int wake[2];			/* a pipe: ingest_free wakes the reader */
	int done;			/* the end was reached, sum is set */
	int failed;			/* the reader failed: err / msg */
	enum pp_err err;
	char msg[512];
};

/* Record the reader's error for the consumer (pp_err is per thread). */
static void
reader_fail(struct ingest *in)
{

	pthread_mutex_lock(&in->mtx);
	in->err = pp_errcode();
	snprintf(in->msg, sizeof(in->msg), "%s", pp_errmsg());
	in->failed = 1;
	pthread_cond_broadcast(&in->ccv);
	pthread_cond_broadcast(&in->hcv);
	pthread_mutex_unlock(&in->mtx);
}

/* Cut ${len} bytes of ${s} into chunks; the tail (no end yet) is left. */
static size_t
slot_cut(struct slot *s, size_t len, int eof)
{
	size_t pos = 0, cut;

	s->ncuts = 0;
	while (pos < len && (eof || len - pos >= CHUNKER_MAX) &&
	    s->ncuts < MAXCUTS) {
		cut = chunker_cut(chunker_default, s->buf + pos, len - pos);
		(void)crypto_sha256(s->buf + pos, cut, s->id[s->ncuts]);
		pos += cut;
		s->end[s->ncuts++] = pos;
	}
	return (pos);
}

/*
 * Read up to ${len} bytes (fewer only at end of input), waiting in poll so
 * that ingest_free can wake a reader stuck on a silent pipe or socket.
 * Returns the count, -1 on error (errno set), -2 when told to stop.
 */
static ssize_t
reader_read(struct ingest *in, uint8_t *buf, size_t len)
{
	struct pollfd pf[2];
	size_t got = 0;
	ssize_t n;

	pf[0].fd = in->fd;
	pf[0].events = POLLIN;
	pf[1].fd = in->wake[0];
	pf[1].events = POLLIN;
	while (got < len) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (pf[1].revents != 0)
			return (-2);
		if ((n = read(in->fd, buf + got, len - got)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return (-1);
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return ((ssize_t)got);
}

static void *
reader(void *arg)
{
	struct ingest *in = arg;
	struct slot *s, *prev = NULL;
	size_t len, used = 0, carry = 0;
	ssize_t n;
	int eof = 0, stop;

	(void)pthread_setname_np(pthread_self(), "pp-chunker");
	while (!eof) {
		pthread_mutex_lock(&in->mtx);
		/* Both the consumer and the hasher must be done with it. */
		while ((in->full == NSLOT || in->hfull == NSLOT) && !in->stop)
			pthread_cond_wait(&in->rcv, &in->mtx);
		stop = in->stop;
		pthread_mutex_unlock(&in->mtx);
		if (stop)
			return (NULL);
		s = &in->slot[in->rhead];
		/* The previous slot's uncut tail starts this one. */
		if (carry > 0)
			memcpy(s->buf, prev->buf + used, carry);
		if ((n = reader_read(in, s->buf + carry, READ)) == -2)
			return (NULL);
		if (n < 0) {
			pp_errp(PP_EIO, "cannot read the content");
			goto fail;
		}
		eof = (size_t)n < READ;
		len = carry + (size_t)n;
		if ((in->size += n) > in->max) {
			pp_err(PP_ELIMIT, "content is larger than %lld bytes",
			    (long long)in->max);
			goto fail;
		}
		used = slot_cut(s, len, eof);
		carry = len - used;
		s->last = eof;
		prev = s;
		pthread_mutex_lock(&in->mtx);
		in->rhead = (in->rhead + 1) % NSLOT;
		in->full++;
		in->hfull++;
		pthread_cond_signal(&in->hcv);
		pthread_cond_signal(&in->ccv);
		pthread_mutex_unlock(&in->mtx);
	}
	return (NULL);
fail:
	reader_fail(in);
	return (NULL);
}

/*
 * The hasher: the SHA-256 of the whole input, slot by slot, on a thread of
 * its own so that it uses what the other two leave of the second core.
 */
static void *
hasher(void *arg)
{
	struct ingest *in = arg;
	struct slot *s;
	int last;

	(void)pthread_setname_np(pthread_self(), "pp-hasher");
	for (;;) {
		pthread_mutex_lock(&in->mtx);
		while (in->hfull == 0 && !in->stop && !in->failed)
			pthread_cond_wait(&in->hcv, &in->mtx);
		if (in->hfull == 0) {
			pthread_mutex_unlock(&in->mtx);
			return (NULL);
		}
		pthread_mutex_unlock(&in->mtx);
		s = &in->slot[in->hhead];
		if (s->ncuts > 0)
			(void)crypto_hash_update(in->whole, s->buf,
			    s->end[s->ncuts - 1]);
		/*
		 * Read last before handing the slot back: once released, the
		 * reader may refill it with other data.
		 */
		last = s->last;
		pthread_mutex_lock(&in->mtx);
		if (last) {
			(void)crypto_hash_final(in->whole, in->sum);
			in->hdone = 1;
		}
		in->hhead = (in->hhead + 1) % NSLOT;
		in->hfull--;
		pthread_cond_signal(&in->rcv);
		if (last)
			pthread_cond_signal(&in->ccv);
		pthread_mutex_unlock(&in->mtx);
		if (last)
			return (NULL);
	}
}

struct ingest *
ingest_start(int fd, int64_t max)
{
	struct ingest *in;
	size_t i;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		goto nomem;
	in->fd = fd;
	pthread_mutex_init(&in->mtx, NULL);
	pthread_cond_init(&in->rcv, NULL);
	pthread_cond_init(&in->hcv, NULL);
	pthread_cond_init(&in->ccv, NULL);
	in->wake[0] = in->wake[1] = -1;
	if (pipe2(in->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		pp_errp(PP_EINTERNAL, "pipe");
		goto err;
	}
	in->max = max;
	for (i = 0; i < NSLOT; i++)
		if ((in->slot[i].buf = malloc(SLOTBUF)) == NULL)
			goto nomem;
	if ((in->whole = crypto_hash_new()) == NULL)
		goto err;
	if (pthread_create(&in->hthread, NULL, hasher, in) != 0) {
		pp_err(PP_EINTERNAL, "cannot start the hasher thread");
		goto err;
	}
	in->hstarted = 1;
	if (pthread_create(&in->thread, NULL, reader, in) != 0) {
		pp_err(PP_EINTERNAL, "cannot start the reader thread");
		goto err;
	}
	in->started = 1;
	return (in);

nomem:
	pp_err(PP_EINTERNAL, "out of memory");
err:
	ingest_free(in);
	return (NULL);
}

int
ingest_next(struct ingest *in, const uint8_t **p, size_t *len,
    uint8_t id[static CRYPTO_HASH_LEN])
{
	struct slot *s;
	size_t start;

	for (;;) {
		pthread_mutex_lock(&in->mtx);
		while (in->full == 0 && !in->failed)
			pthread_cond_wait(&in->ccv, &in->mtx);
		if (in->full == 0) {
			pthread_mutex_unlock(&in->mtx);
			pp_err(in->err, "%s", in->msg);
			return (-1);
		}
		pthread_mutex_unlock(&in->mtx);
		s = &in->slot[in->chead];
		if (in->cpos < s->ncuts)
			break;
		if (s->last) {
			/* The end: wait for the hasher to finish the sum. */
			pthread_mutex_lock(&in->mtx);
			while (!in->hdone && !in->failed)
				pthread_cond_wait(&in->ccv, &in->mtx);
			pthread_mutex_unlock(&in->mtx);
			in->done = 1;
			return (0);
		}
		/* Done with this slot: hand it back to the reader. */
		pthread_mutex_lock(&in->mtx);
		in->chead = (in->chead + 1) % NSLOT;
		in->cpos = 0;
		in->full--;
		pthread_cond_signal(&in->rcv);
		pthread_mutex_unlock(&in->mtx);
	}
	start = in->cpos > 0 ? s->end[in->cpos - 1] : 0;
	*p = s->buf + start;
	*len = s->end[in->cpos] - start;
	memcpy(id, s->id[in->cpos], CRYPTO_HASH_LEN);
	in->cpos++;
	return (1);
}

int
ingest_ready(struct ingest *in)
{
	int r;

	pthread_mutex_lock(&in->mtx);
	r = in->failed || (in->full > 0 && (in->cpos <
	    in->slot[in->chead].ncuts || in->full > 1));
	pthread_mutex_unlock(&in->mtx);
	return (r);
}

void
ingest_result(struct ingest *in, uint8_t sum[static CRYPTO_HASH_LEN],
    int64_t *size)
{

	memcpy(sum, in->sum, CRYPTO_HASH_LEN);
	*size = in->size;
}

void
ingest_free(struct ingest *in)
{
	size_t i;

	if (in == NULL)
		return;
	pthread_mutex_lock(&in->mtx);
	in->stop = 1;
	pthread_cond_broadcast(&in->rcv);
	pthread_cond_broadcast(&in->hcv);
	pthread_cond_broadcast(&in->ccv);
	pthread_mutex_unlock(&in->mtx);
	if (in->started) {
		/* A reader blocked on its input wakes on the pipe. */
		if (write(in->wake[1], "x", 1) < 0) {
			/* The pipe is full: the reader is woken already. */
		}
		pthread_join(in->thread, NULL);
	}
	if (in->hstarted)
		pthread_join(in->hthread, NULL);
	for (i = 0; i < NSLOT; i++)
		free(in->slot[i].buf);
	crypto_hash_free(in->whole);
	if (in->wake[0] >= 0)
		close(in->wake[0]);
	if (in->wake[1] >= 0)
		close(in->wake[1]);
	pthread_mutex_destroy(&in->mtx);
	pthread_cond_destroy(&in->rcv);
	pthread_cond_destroy(&in->hcv);
	pthread_cond_destroy(&in->ccv);
	free(in);
}
