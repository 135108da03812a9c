/*
 * poolpaird.c: the backup service of one pool.  Reads the pool's config
 * file, then replicates every module both ways with the partner over
 * mutual TLS 1.3 until SIGTERM or SIGINT.  See daemon.h for the parts.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "admin.h"
#include "audit.h"
#include "bk_keys.h"
#include "daemon.h"
#include "err.h"
#include "tls.h"
#include "worker.h"

#define POOLPAIRD_VERSION "0.1.0"

static void
usage(FILE *f)
{

	fprintf(f, "usage: poolpaird -c FILE [--syslog]\n\n"
	    "The backup service of one pool: replicates its data to the "
	    "partner pool and\nthe partner's data here, continuously, over "
	    "mutual TLS 1.3, in signed and\nsealed packages.  FILE is the "
	    "pool's config file (docs/pki.md), with\n[pool] listen, [partner] "
	    "address and, optionally, [backup] sync_interval.\nRuns in the "
	    "foreground, logging to stderr (--syslog: to syslog); SIGTERM\n"
	    "or SIGINT stops it.  'poolpair -c FILE status' asks it how "
	    "replication goes.\n\n"
	    "exit status: 0 stopped; 1 bad config; 2 bad command line; 3 "
	    "cannot start\n(store, keys, address in use).\n");
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{

	(void)fd;
	(void)what;
	repl_tick(arg);
	ops_check(arg);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	dlog(LOG_NOTICE, "signal %d: stopping", (int)sig);
	d->stopping = 1;
	event_base_loopexit(d->base, NULL);
}

/* What the replica of each module holds, from the store. */
static int
load_replica(struct daemon *d)
{
	struct store_replica r;
	struct store *st;
	char master[PP_FQDN_MAX + 1];
	int m;

	if ((st = store_open(d->cfg.data)) == NULL)
		return (-1);
	if (strcmp(store_pool(st), d->cfg.pool) != 0) {
		pp_err(PP_ESTORE, "the store in %s is pool %s's, not %s's",
		    d->cfg.data, store_pool(st), d->cfg.pool);
		store_close(st);
		return (-1);
	}
	if (store_config_master(st, master) != 0) {
		store_close(st);
		return (-1);
	}
	d->master = strcmp(master, d->cfg.pool) == 0;
	for (m = 0; m < STORE_NMOD; m++) {
		if (store_replica_get(st, d->cfg.partner, (enum store_module)m,
		    &r) == 0) {
			d->mod[m].have_replica = 1;
			d->mod[m].imp_epoch = r.epoch;
			d->mod[m].imp_lsn = r.lsn;
			d->mod[m].last_import_ms = r.imported_ms;
		} else if (pp_errcode() != PP_ENOENT) {
			store_close(st);
			return (-1);
		}
	}
	store_close(st);
	pp_err_clear();
	return (0);
}

/* Remove the spool files a stopped or killed daemon left (never imported). */
static void
spool_clean(struct daemon *d)
{
	char path[PATH_MAX];
	struct dirent *e;
	size_t n = strlen(D_SPOOL_PREFIX), len;
	DIR *dir;

	if ((dir = opendir(d->cfg.data)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		len = strlen(e->d_name);
		if (strncmp(e->d_name, D_SPOOL_PREFIX, n) != 0 || len < 5 ||
		    strcmp(e->d_name + len - 5, ".ppkg") != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", d->cfg.data,
		    e->d_name) < sizeof(path))
			(void)unlink(path);
	}
	closedir(dir);
}

/* Everything up to the event loop.  Returns 0 or an exit code. */
static int
d_start(struct daemon *d)
{
	struct timeval tick = { 0, D_TICK_MS * 1000 };
	char sock[ADMIN_PATH_MAX];

	if (d->cfg.listen[0] == '\0' || d->cfg.partner_addr[0] == '\0') {
		pp_err(PP_EINVAL, "%s: the daemon needs [pool] listen and "
		    "[partner] address", d->cfg.path);
		return (1);
	}
	if (bk_keys_from_config(&d->cfg, &d->keys) != 0 || load_replica(d) != 0)
		return (3);
	spool_clean(d);
	if ((d->srv_ctx = tls_ctx_new(&d->cfg, 1)) == NULL ||
	    (d->cli_ctx = tls_ctx_new(&d->cfg, 0)) == NULL)
		return (3);
	if (evthread_use_pthreads() != 0 ||
	    (d->base = event_base_new()) == NULL) {
		pp_err(PP_EINTERNAL, "cannot start the event loop");
		return (3);
	}
	/* The process's one writer for this log (bk_refusal_record's too). */
	if ((d->audit = audit_shared(d->cfg.data)) == NULL ||
	    (d->auditor = worker_start(d, "audit", NULL, NULL, 0)) == NULL)
		return (3);
	if ((d->exporter = worker_start(d, "exporter", d->cfg.data,
	    repl_exp_idle, D_TICK_MS)) == NULL ||
	    (d->importer = worker_start(d, "importer", d->cfg.data, NULL, 0)) ==
	    NULL ||
	    (d->haver = worker_start(d, "haver", d->cfg.data, NULL, 0)) ==
	    NULL ||
	    (d->spooler = worker_start(d, "spooler", NULL, NULL, 0)) == NULL ||
	    (d->stager = worker_start(d, "stager", d->cfg.data, NULL, 0)) ==
	    NULL)
		return (3);
	worker_post(d->importer, job_new(repl_importer_init, NULL, NULL));
	worker_post(d->exporter, job_new(repl_exporter_init, NULL, NULL));
	if (link_listen(d) != 0)
		return (3);
	if (admin_sock_path(sock, d->cfg.data) != 0 ||
	    (d->admin = admin_server_new(d->base, sock, ops_handle, d)) ==
	    NULL)
		return (3);
	admin_server_on_refused(d->admin, ops_refused);
	d->tick = event_new(d->base, -1, EV_PERSIST, tick_cb, d);
	d->have_ev = event_new(d->base, -1, 0, repl_have_cb, d);
	d->inq_ev = event_new(d->base, -1, 0, repl_inq_cb, d);
	d->sigint = evsignal_new(d->base, SIGINT, signal_cb, d);
	d->sigterm = evsignal_new(d->base, SIGTERM, signal_cb, d);
	if (d->tick == NULL || d->have_ev == NULL || d->inq_ev == NULL ||
	    d->sigint == NULL || d->sigterm == NULL) {
		pp_err(PP_EINTERNAL, "cannot set up the event loop's events");
		return (3);
	}
	evtimer_add(d->tick, &tick);
	evsignal_add(d->sigint, NULL);
	evsignal_add(d->sigterm, NULL);
	d->started_ms = d_now_ms();
	d_audit(d, "daemon-start", "poolpaird", d->cfg.listen);
	link_connect(d);
	return (0);
}

static void
d_stop(struct daemon *d)
{

	ops_stop(d);
	if (d->in != NULL)
		link_close(d->in, "stopping");
	if (d->out.bev != NULL || d->out.state != LINK_DOWN)
		link_close(&d->out, "stopping");
	link_lookup_cancel(d);
	/* Wake an exporter waiting for an answer that will not come. */
	pthread_mutex_lock(&d->mtx);
	if (d->have_state == HAVE_WAITING) {
		d->have_state = HAVE_FAILED;
		pthread_cond_signal(&d->have_cv);
	}
	pthread_mutex_unlock(&d->mtx);
	worker_stop(d->exporter);
	worker_stop(d->spooler);	/* queues its last imports first */
	worker_stop(d->stager);
	worker_stop(d->importer);
	worker_stop(d->haver);
	admin_server_free(d->admin);
	d_audit(d, "daemon-stop", "poolpaird", "stopped");
	worker_stop(d->auditor);
	d->auditor = NULL;
	(void)audit_flush(d->audit);	/* shared: not closed */
	if (d->out.timer != NULL)
		event_free(d->out.timer);
	if (d->lis != NULL)
		evconnlistener_free(d->lis);
	if (d->tick != NULL)
		event_free(d->tick);
	if (d->have_ev != NULL)
		event_free(d->have_ev);
	if (d->inq_ev != NULL)
		event_free(d->inq_ev);
	if (d->sigint != NULL)
		event_free(d->sigint);
	if (d->sigterm != NULL)
		event_free(d->sigterm);
	if (d->base != NULL)
		event_base_free(d->base);
	SSL_CTX_free(d->srv_ctx);
	SSL_CTX_free(d->cli_ctx);
	bk_keys_wipe(&d->keys);
	config_free(&d->cfg);
}

int
main(int argc, char **argv)
{
	struct daemon *d;
	const char *conf = NULL;
	int i, sys = 0, rc;

	umask(077);
	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--syslog") == 0)
			sys = 1;
		else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return (0);
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("poolpaird %s\n", POOLPAIRD_VERSION);
			return (0);
		} else {
			fprintf(stderr, "poolpaird: unknown argument '%.64s' "
			    "(see 'poolpaird --help')\n", argv[i]);
			return (2);
		}
	}
	if (conf == NULL) {
		usage(stderr);
		return (2);
	}
	dlog_open(sys);
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return (3);
	pthread_mutex_init(&d->mtx, NULL);
	pthread_cond_init(&d->have_cv, NULL);
	pthread_cond_init(&d->spool_cv, NULL);
	pthread_cond_init(&d->out_cv, NULL);
	pthread_cond_init(&d->inq_cv, NULL);
	if (config_load(conf, &d->cfg) != 0) {
		fprintf(stderr, "poolpaird: %s\n", pp_errmsg());
		free(d);
		return (pp_errcode() == PP_EINVAL ? 1 : 3);
	}
	if ((rc = d_start(d)) != 0) {
		dlog(LOG_ERR, "%s", pp_errmsg());
		d_stop(d);
		free(d);
		return (rc);
	}
	dlog(LOG_NOTICE, "pool %s (pair %s) listening on %s, partner %s at %s",
	    d->cfg.pool, d->cfg.pair, d->cfg.listen, d->cfg.partner,
	    d->cfg.partner_addr);
	event_base_dispatch(d->base);
	d_stop(d);
	pthread_mutex_destroy(&d->mtx);
	pthread_cond_destroy(&d->have_cv);
	pthread_cond_destroy(&d->spool_cv);
	pthread_cond_destroy(&d->out_cv);
	pthread_cond_destroy(&d->inq_cv);
	free(d);
	return (0);
}
