/*
 * worker.h: a worker thread with its own store handle and a queue of jobs.
 * A job's run() executes on the worker (it may touch the disk and take its
 * time); its done() then executes on the main thread, woken through the
 * event loop.  An idle() hook runs on the worker every idle_ms when no job
 * waits (the exporter polls the journal there).
 */
#ifndef PP_WORKER_H
#define PP_WORKER_H

#include <event2/event.h>

#include "store.h"

struct daemon;
struct worker;

struct job {
	void (*run)(struct worker *w, struct job *j);	/* on the worker */
	void (*done)(struct daemon *d, struct job *j);	/* then on main */
	struct job *next;
	void *arg;			/* the job's own data */
	int rc;
	char err[512];
};

struct worker {
	struct daemon *d;
	struct store *st;
	const char *name;
	void (*idle)(struct worker *w);
	int idle_ms;
	pthread_t thread;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	struct job *q, **qtail;
	struct job *doneq, **donetail;
	struct event *done_ev;
	int stop, started;
};

/*
 * Start worker ${name} on the store ${dir} (opened here, used only by the
 * worker; NULL: none) for ${d}, with ${idle} (may be NULL) every ${idle_ms}.  NULL on
 * failure.
 */
struct worker *worker_start(struct daemon *d, const char *name,
    const char *dir, void (*idle)(struct worker *), int idle_ms);

/* Queue ${j} (owned by the worker until its done() returns; then freed). */
void worker_post(struct worker *w, struct job *j);

/* Stop ${w} once its queue is empty, run the done() of its jobs, free. */
void worker_stop(struct worker *w);

/* A new job (calloc'ed) with ${run}, ${done}, ${arg}. */
struct job *job_new(void (*run)(struct worker *, struct job *),
    void (*done)(struct daemon *, struct job *), void *arg);

#endif
