/*
 * daemon.h: poolpaird, the backup service of one pool: what its parts
 * share.  The main thread runs the event loop (TLS links, the admin
 * socket, timers) and never touches the disk or does heavy work; worker
 * threads do that: the exporter (journal polling, packages out), the
 * spooler (packages in, to a spool file each), the importer (applies them
 * in order, or as they come), the stager (seals a content package's
 * chunks while the importer is still busy) and the chunk reader (the
 * partner's HAVEQ, on a store handle of its own, so a long import does not
 * hold up the next package's transfer).  They meet in struct daemon under
 * d->mtx and through mailboxes (worker.c).
 *
 * Links: each pool connects to its partner and sends its own packages on
 * that connection (the "out" link); it accepts the partner's connection
 * and receives the partner's packages on it (the "in" link).  So each
 * direction has one sender and one receiver, and either pool may restart
 * at any moment.
 */
#ifndef PP_DAEMON_H
#define PP_DAEMON_H

#include <sys/socket.h>
#include <sys/types.h>

#include <pthread.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "backup.h"
#include "config.h"
#include "store.h"

#define D_TICK_MS	10	/* journal polling and export decisions */
#define D_HANDSHAKE_S	10	/* a TLS handshake must finish within */
#define D_IDLE_S	45	/* a link without a frame for this long dies */
#define D_PING_S	10	/* keepalive */
#define D_MAX_UNAUTH	64	/* connections not yet authenticated */
#define D_MAX_UNAUTH_PARTNER 8	/* ... of them from the partner's address */
#define D_SEC_BURST	20	/* security log lines per kind at once, */
#define D_SEC_PER_S	1	/* then a second (as the audit log's) */
#define D_SEC_KINDS	8	/* kinds with a bucket of their own */
#define D_OUT_HIGH	(1 << 20)	/* TLS output held before pausing */
#define D_BACKOFF_MAX_MS 30000	/* reconnect and retry back-off bound */
#define D_HAVE_MAX	(1 << 16)	/* chunk ids asked about at once */
#define D_SPOOL_PREFIX	"spool-in."	/* DATA/spool-in.MODULE.N.ppkg */
#define D_OUT_QUEUE	(1 << 20)	/* package bytes queued between threads */
#define D_DATA_MAX	(256 << 10)	/* package bytes in one DATA frame */
/* A spool the stager frees as it reads keeps this much: the header. */
#define D_SPOOL_KEEP	((off_t)1 << 20)
/* A spool of this many bytes or more is removed off the loop thread. */
#define D_SPOOL_UNLINK_BG ((int64_t)16 << 20)
/* A spool stops short of the last 1% of its filesystem, at most this. */
#define D_SPOOL_RESERVE_MAX ((uint64_t)64 << 20)
/* A streaming import is cut (applied from the spool after END instead)
 * when the link keeps it waiting, write lock held, D_STREAM_STALL_MS at
 * once, or in all more than D_STREAM_WAIT_MS plus D_STREAM_WAIT_PCT
 * percent of the time it has streamed: the write lock is then held at
 * most about twice as long as the import itself takes, plus a second,
 * and a link much slower than the import is cut within about 2 s. */
#define D_STREAM_STALL_MS 250
#define D_STREAM_WAIT_MS 1000
#define D_STREAM_WAIT_PCT 50
/* The importer's deferred checkpoint waits for every package that came to
 * be answered, at most this long (repl.c, ckpt_maybe). */
#define D_CKPT_DEFER_MS	10000
/* Journal records (LSNs) pruned per write transaction after an ACK. */
#define D_PRUNE_BATCH	65536

enum exp_state { EXP_NOTINIT = 0, EXP_STEADY, EXP_NONSTEADY, EXP_FINAL,
	EXP_ERROR };
enum imp_state { IMP_NORMAL = 0, IMP_ERROR };
enum link_state { LINK_DOWN = 0, LINK_CONNECTING, LINK_UP };

/* Per module: both directions. */
struct dmod {
	/* export (this pool -> partner) */
	int64_t epoch, head;		/* the journal, as last polled */
	int64_t head_ts_ms;		/* commit time of the first unacked */
	int64_t acked;			/* the partner has up to here */
	int known;			/* acked is known (a HELLO came) */
	int need_snapshot;
	int partner_has;		/* its HELLO: it holds a replica */
	/*
	 * We just took the partner's users: before the snapshot, the changes
	 * since what it acked (the owner record among them), which fence it
	 * in a small package instead of at the end of a whole snapshot.
	 */
	int fence_first;
	int no_deltas;			/* failed last: no edits in the next */
	int inflight;			/* a package is on its way */
	int inflight_snapshot;		/* ... and it is a snapshot */
	int64_t inflight_upto;
	int64_t pending_bytes;		/* of the package in flight */
	int64_t last_bytes;		/* of the last package sent */
	int64_t last_export_ms;
	int64_t retry_at_ms;		/* after an error, not before */
	int backoff_ms;
	enum exp_state exp;
	char exp_reason[256];
	int sync_now;			/* an operator asked: ship now */
	/* import (partner -> this pool) */
	int have_replica;
	int spool_whole;		/* loop: keep the next spool whole */
	int64_t imp_epoch, imp_lsn;
	int64_t last_import_ms;
	enum imp_state imp;
	char imp_reason[256];
};

struct link {
	struct daemon *d;
	struct bufferevent *bev;
	enum link_state state;
	int authed;
	int64_t since_ms;
	char peer[64];
	char last_error[256];
	struct event *timer;		/* handshake, idle, reconnect */
	int64_t last_rx_ms;
	int inbound;
	int reserved;			/* counted in n_unauth_partner */
};

/* The rate limit of one kind of security event's log lines (link.c). */
struct dsec_bucket {
	char kind[32];
	double tokens;
	int64_t last_ms;
	int64_t dropped;		/* lines not written since */
};

struct worker;
struct job;
struct audit;
struct out_pkg;
struct lookup;
struct in_pkg;
struct evbuffer;

struct daemon {
	struct pp_config cfg;
	struct bk_keys keys;
	struct event_base *base;
	SSL_CTX *srv_ctx, *cli_ctx;
	struct evconnlistener *lis;
	int n_unauth;			/* from other addresses than ... */
	int n_unauth_partner;		/* ... the partner's (partner_sa) */
	struct sockaddr_storage partner_sa;	/* family 0: unknown */
	struct dsec_bucket secb[D_SEC_KINDS];
	struct link out;		/* our connection to the partner */
	struct lookup *lookup;		/* of the partner's name, in flight */
	struct link *in;		/* the partner's authenticated one */
	int out_backoff_ms;
	struct event *tick, *sigint, *sigterm, *sighup;
	struct worker *exporter, *importer, *haver;
	struct worker *spooler;		/* no store: files only */
	struct worker *stager;		/* prestages content packages */
	unsigned spools;		/* names the next spool file */
	int imports;			/* import jobs at the importer */
	int pkgs_open;			/* packages come, not yet answered */
	int64_t ckpt_due;		/* since when a checkpoint waits, or 0 */
	struct out_pkg *opkg;		/* the package being sent */
	struct in_pkg *ipkg;		/* the package being received */
	pthread_mutex_t mtx;		/* guards mod[] with the workers */
	struct dmod mod[STORE_NMOD];
	/* The exporter's question to the partner (HAVEQ), under mtx. */
	enum { HAVE_IDLE = 0, HAVE_WAITING, HAVE_REPLIED, HAVE_FAILED }
	    have_state;
	pthread_cond_t have_cv;
	pthread_cond_t spool_cv;	/* a spool grew or ended (d->mtx) */
	pthread_cond_t out_cv;		/* the exporter may queue more */
	pthread_cond_t inq_cv;		/* the spooler has bytes to take */
	struct event *inq_ev;		/* the spooler took them: read on */
	uint8_t *have_q;
	size_t have_qlen, have_n;
	uint8_t *have_bits;
	struct event *have_ev;
	int partner_deltas;		/* its HELLO: it takes edits (mtx) */
	struct admin_server *admin;
	struct audit *audit;		/* the audit log (audit.h) */
	struct worker *auditor;		/* writes it, off the loop */
	int audit_queued;		/* records waiting for it */
	int64_t audit_dropped;		/* over the queue's bound */
	uint64_t poll_sig;		/* the exporter's: WAL and acks seen */
	int poll_skips;
	int master;			/* this pool is the config master */
	int partner_master;		/* the partner is */
	int fenced;			/* it owns no user set: ships nothing */
	int64_t handed_epoch;		/* (mtx) the partner's users, handed
					   over to us at this epoch */
	struct store_owner owners[2];	/* of this pool's users, the
					   partner's (polled, under mtx) */
	int stopping;
	int64_t started_ms;
	uint8_t rxbuf[1 << 20];		/* one frame (FRAME_MAX) */
};

/* log.c: messages to stderr (foreground) or syslog. */
void dlog_open(int use_syslog);
void dlog(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Milliseconds since the epoch. */
int64_t d_now_ms(void);

/* link.c: the TLS links. */
int link_listen(struct daemon *d);
void link_connect(struct daemon *d);
/* Forget the lookup of the partner's name in flight, if any. */
void link_lookup_cancel(struct daemon *d);
void link_close(struct link *l, const char *why);
int link_send(struct link *l, int type, const void *p, size_t len);
int link_send_json(struct link *l, int type, json_t *j);
/* Send a frame of ${first}, then ${len} bytes moved out of ${src}. */
int link_send_move(struct link *l, int type, uint8_t first,
    struct evbuffer *src, size_t len);
/* A security event: logged, and audited (rate-limited). */
void d_security(struct daemon *d, const char *kind, const char *peer,
    const char *reason);
/* An audit record (kind, actor, detail), written off the event loop. */
void d_audit(struct daemon *d, const char *kind, const char *actor,
    const char *detail);

/* repl.c: replication over the links. */
void repl_tick(struct daemon *d);
void repl_out_up(struct daemon *d);
void repl_out_down(struct daemon *d);
void repl_in_up(struct daemon *d, struct link *l);
void repl_in_down(struct daemon *d, struct link *l);
void repl_frame_out(struct daemon *d, int type, const uint8_t *p, size_t len);
void repl_frame_in(struct daemon *d, struct link *l, int type,
    const uint8_t *p, size_t len);
/* A DATA frame: its ${len} bytes are the next in ${in}, all to be taken. */
void repl_data_in(struct daemon *d, struct link *l, struct evbuffer *in,
    size_t len);
void repl_out_writable(struct daemon *d);
void repl_have_cb(evutil_socket_t fd, short what, void *arg);
void repl_inq_cb(evutil_socket_t fd, short what, void *arg);
/* On the exporter: read the journal heads and ownership afresh. */
void repl_exp_poll(struct worker *w);
/* The importer's first job: its commits defer their checkpoints, which
 * run once every package that came is answered (ckpt_maybe). */
void repl_importer_init(struct worker *w, struct job *j);
/* The exporter's first job: its store handle reads packs once. */
void repl_exporter_init(struct worker *w, struct job *j);
/* The exporter's idle hook (worker.h): the same, unless nothing changed. */
void repl_exp_idle(struct worker *w);

/* ops.c: admin requests (admin.h's handler and refusal callback). */
struct admin_req;
void ops_handle(void *arg, struct admin_req *r, json_t *req);
void ops_refused(void *arg, uid_t uid, const char *reason);
void ops_check(struct daemon *d);
void ops_stop(struct daemon *d);
/* verify.c: compare primary and replica digests with the partner. */
void verify_start(struct daemon *d, struct admin_req *r, json_t *req);
void verify_frame_out(struct daemon *d, const uint8_t *p, size_t len);
/*
 * Check a VERIFYR answer ${there} for module ${m} (round 2: its keys, else
 * its digests): 0 if well formed; 1 if the partner refused (its reason in
 * ${why}); -1 if malformed (what is wrong in ${why}).
 */
int verify_answer_check(const json_t *there, enum store_module m,
    int round2, char *why, size_t whylen);
int verify_frame_in(struct daemon *d, const uint8_t *p, size_t len);
void verify_link_down(struct daemon *d);

/* handover.c: a failover of a partner that answers. */
void handover_start(struct daemon *d, struct admin_req *r, json_t *req);
void handover_answer(struct daemon *d, const uint8_t *p, size_t len);
/*
 * Read a HANDOVERR payload about the users of ${home}: 0 with the partner's
 * journal heads in ${lsn}; 1 if it refused (its reason in ${why}); -1 if it
 * is not a well-formed answer (what is wrong in ${why}).
 */
int handover_answer_parse(const uint8_t *p, size_t len, const char *home,
    int64_t lsn[2], char *why, size_t whylen);
int handover_request(struct daemon *d, const uint8_t *p, size_t len);
void handover_check(struct daemon *d);

/* status.c: the status object (docs/protocol-admin.md). */
json_t *status_json(struct daemon *d);
const char *exp_state_name(enum exp_state s);

#endif
