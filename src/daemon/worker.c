/*
 * worker.c: worker threads (see worker.h).
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "daemon.h"
#include "err.h"
#include "worker.h"

struct job *
job_new(void (*run)(struct worker *, struct job *),
    void (*done)(struct daemon *, struct job *), void *arg)
{
	struct job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		dlog(3, "out of memory");
		abort();
	}
	j->run = run;
	j->done = done;
	j->arg = arg;
	return (j);
}

/* Main thread: run done() of every finished job. */
static void
worker_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct job *j, *next;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&w->mtx);
	j = w->doneq;
	w->doneq = NULL;
	w->donetail = &w->doneq;
	pthread_mutex_unlock(&w->mtx);
	for (; j != NULL; j = next) {
		next = j->next;
		if (j->done != NULL)
			j->done(w->d, j);
		free(j);
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct timespec ts;
	struct job *j;

	pthread_mutex_lock(&w->mtx);
	/* At stop, the queue is drained: jobs end fast once links are gone. */
	while (!w->stop || w->q != NULL) {
		if ((j = w->q) == NULL) {
			if (w->stop)
				break;
			if (w->idle == NULL) {
				pthread_cond_wait(&w->cv, &w->mtx);
				continue;
			}
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)w->idle_ms * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			if (pthread_cond_timedwait(&w->cv, &w->mtx, &ts) ==
			    ETIMEDOUT && w->q == NULL && !w->stop) {
				pthread_mutex_unlock(&w->mtx);
				w->idle(w);
				pthread_mutex_lock(&w->mtx);
			}
			continue;
		}
		if ((w->q = j->next) == NULL)
			w->qtail = &w->q;
		pthread_mutex_unlock(&w->mtx);
		pp_err_clear();
		j->run(w, j);
		pthread_mutex_lock(&w->mtx);
		j->next = NULL;
		*w->donetail = j;
		w->donetail = &j->next;
		event_active(w->done_ev, EV_READ, 0);
	}
	pthread_mutex_unlock(&w->mtx);
	return (NULL);
}

struct worker *
worker_start(struct daemon *d, const char *name, const char *dir,
    void (*idle)(struct worker *), int idle_ms)
{
	char tname[16];
	struct worker *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (NULL);
	}
	w->d = d;
	w->name = name;
	w->idle = idle;
	w->idle_ms = idle_ms;
	w->qtail = &w->q;
	w->donetail = &w->doneq;
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (dir != NULL && (w->st = store_open(dir)) == NULL)
		goto err;
	if ((w->done_ev = event_new(d->base, -1, 0, worker_done_cb, w)) ==
	    NULL) {
		pp_err(PP_EINTERNAL, "cannot create an event");
		goto err;
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		pp_err(PP_EINTERNAL, "cannot start the %s thread", name);
		goto err;
	}
	w->started = 1;
	/* As top -H and perf show it: "pp-importer" and so on. */
	snprintf(tname, sizeof(tname), "pp-%.12s", name);
	(void)pthread_setname_np(w->thread, tname);
	return (w);
err:
	worker_stop(w);
	return (NULL);
}

void
worker_post(struct worker *w, struct job *j)
{

	pthread_mutex_lock(&w->mtx);
	j->next = NULL;
	*w->qtail = j;
	w->qtail = &j->next;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mtx);
}

void
worker_stop(struct worker *w)
{
	struct job *j, *next;

	if (w == NULL)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mtx);
		w->stop = 1;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mtx);
		pthread_join(w->thread, NULL);
	}
	if (w->done_ev != NULL)
		worker_done_cb(-1, 0, w);
	for (j = w->q; j != NULL; j = next) {
		next = j->next;
		if (j->done != NULL) {
			j->rc = -1;
			snprintf(j->err, sizeof(j->err), "stopping");
			j->done(w->d, j);
		}
		free(j);
	}
	if (w->done_ev != NULL)
		event_free(w->done_ev);
	store_close(w->st);
	pthread_mutex_destroy(&w->mtx);
	pthread_cond_destroy(&w->cv);
	free(w);
}
