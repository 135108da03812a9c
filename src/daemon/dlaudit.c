/*
 * dlaudit.c: the daemon's audit records go through a thread of their own
 * (audit_log syncs the file: never on the event loop), with a bounded
 * queue: past it, records are counted and the count is audited later.  The
 * audit log's own rate limits (audit.h) then keep a flood off the disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "audit.h"
#include "daemon.h"
#include "err.h"
#include "worker.h"

#define AUDIT_QUEUE_MAX	256

struct arec {
	char kind[32], actor[64], detail[512];
	int64_t dropped;
};

static void
arec_run(struct worker *w, struct job *j)
{
	struct arec *a = j->arg;
	struct daemon *d = w->d;

	if (a->dropped > 0)
		(void)audit_log(d->audit, "daemon-audit-dropped", "poolpaird",
		    "%lld records dropped: the audit queue was full",
		    (long long)a->dropped);
	if (audit_log(d->audit, a->kind, a->actor, "%s", a->detail) != 0)
		snprintf(j->err, sizeof(j->err), "%s", pp_errmsg());
}

static void
arec_done(struct daemon *d, struct job *j)
{

	d->audit_queued--;
	if (j->err[0] != '\0')
		dlog(LOG_ERR, "audit log: %s", j->err);
	free(j->arg);
}

void
d_audit(struct daemon *d, const char *kind, const char *actor,
    const char *detail)
{
	struct arec *a;

	if (d->auditor == NULL || d->audit == NULL)
		return;
	if (d->audit_queued >= AUDIT_QUEUE_MAX ||
	    (a = calloc(1, sizeof(*a))) == NULL) {
		d->audit_dropped++;
		return;
	}
	snprintf(a->kind, sizeof(a->kind), "%s", kind);
	snprintf(a->actor, sizeof(a->actor), "%s", actor != NULL ? actor :
	    "-");
	snprintf(a->detail, sizeof(a->detail), "%s", detail);
	a->dropped = d->audit_dropped;
	d->audit_dropped = 0;
	d->audit_queued++;
	worker_post(d->auditor, job_new(arec_run, arec_done, a));
}
