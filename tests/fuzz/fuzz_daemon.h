/*
 * fuzz_daemon.h: a poolpaird without sockets, threads or timers, for the
 * harnesses of the peer protocol (fuzz_frames) and the admin socket
 * (fuzz_admin_server).  It is a real struct daemon (config, keys, store,
 * event loop) running the daemon's own code (src/daemon, less main); what
 * differs: its links are bufferevents on socketpairs whose far ends the
 * harness reads, without TLS; its exporter and importer are queues that
 * fuzz_daemon_settle runs on the calling thread, in order; it has no audit
 * writer and is always "stopping" (no reconnect timers).  Test code only.
 */
#ifndef PP_FUZZ_DAEMON_H
#define PP_FUZZ_DAEMON_H

#include "daemon.h"

#define FUZZ_D_MASTER	0x01	/* this pool is the config master */
#define FUZZ_D_OUT_UP	0x02	/* the out link (to the partner) is up */
#define FUZZ_D_IN_UP	0x04	/* the in link (from the partner) is up */
#define FUZZ_D_FENCED	0x08	/* this pool owns no user set */
#define FUZZ_D_REPLICA	0x10	/* it holds a replica of every module */

/*
 * The daemon of pool FUZZ_POOL in a new temp directory (fuzz_env.h), or
 * abort.  One per process; it lives until exit.
 */
struct daemon *fuzz_daemon_new(void);

/*
 * Start one input: the daemon's state as after a start (the store as
 * created, no package, no pending question), with the links and roles of
 * ${flags} (FUZZ_D_*).  Records the open descriptors, to check at the end.
 */
void fuzz_daemon_begin(struct daemon *d, unsigned flags);

/*
 * Run the event loop and the queued jobs (each job's run, then its done)
 * until nothing is left to do, at most a bounded number of rounds.  Import
 * jobs wait while a package is being received (they read its pipe to the
 * end): an input must be under 64 KiB, the capacity of a pipe.
 */
void fuzz_daemon_settle(struct daemon *d);

/*
 * End the input: both links go down (as when the partner goes), the jobs
 * and the loop settle.  Aborts (a broken property) if a package is still
 * open, a descriptor was leaked, or what the daemon sent on a link is not a
 * sequence of valid frames.  The store is put back as created if the input
 * changed it.
 */
void fuzz_daemon_end(struct daemon *d);

#endif
