/*
 * audit.h: the pool's audit log, DIR/audit.log (DIR: the pool's data
 * directory).  One JSON record a line, each carrying the SHA-256 of the
 * line before it (a hash chain) and of itself; appended by any process
 * under an exclusive lock, rate-limited per kind, rotated once to
 * audit.log.1 without breaking the chain.  docs/audit.md has the format.
 * Secrets never go in: callers log names, numbers and reasons only.
 */
#ifndef PP_AUDIT_H
#define PP_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_LINE_MAX		2048	/* one line, without its newline */
#define AUDIT_KIND_MAX		32	/* [A-Za-z0-9._-] */
#define AUDIT_ACTOR_MAX		256	/* bytes before JSON escaping */
#define AUDIT_DETAIL_MAX	1024	/* bytes before JSON escaping */
#define AUDIT_HASH_HEX		64	/* lowercase hex SHA-256 */

/* Defaults of struct audit_limits. */
#define AUDIT_FILE_MAX		(64ULL << 20)
#define AUDIT_BURST		20
#define AUDIT_PER_SEC		1

struct audit_limits {
	uint64_t file_max;	/* rotate before the log passes this size */
	unsigned burst;		/* events of one kind at once; 0: no limit */
	unsigned per_sec;	/* and then this many a second */
};

struct audit;

/*
 * A writer for the audit log in directory ${dir} (nothing is opened or
 * created before the first record), with the default limits.  Returns it
 * (free with audit_close), or NULL with PP_EINVAL (path too long) or
 * PP_EINTERNAL recorded.
 */
struct audit *audit_open(const char *dir);

/* Replace the limits of ${a} with ${l} (tests use small ones). */
void audit_set_limits(struct audit *a, const struct audit_limits *l);

/*
 * This process's writer for ${dir}, opened at the first call and kept
 * (with its rate limits) until exit, when what it suppressed is flushed;
 * at most 4 directories.  Thread-safe.  Returns it (not to be closed), or
 * NULL with an error recorded.
 */
struct audit *audit_shared(const char *dir);

/*
 * Append a record of kind ${kind} (a token of 1..AUDIT_KIND_MAX bytes),
 * by ${actor} (NULL: "-"), with a printf-style detail, to ${a}'s log:
 * under the log's lock, after any torn last line is closed and, if the
 * log is full, after rotating it; the line is synced before returning.
 * Actor and detail are cut to their bounds (and to AUDIT_LINE_MAX once
 * escaped).  A record over ${kind}'s rate is counted, not written; the
 * next one written of that kind is preceded by an "audit-suppressed"
 * record with the count.  Thread-safe.  Returns 0 (also when rate-limited),
 * or -1 with PP_EINVAL (bad kind) or PP_EIO recorded.
 */
int audit_log(struct audit *a, const char *kind, const char *actor,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Write an "audit-suppressed" record for every kind of ${a} with events
 * dropped since its last record.  Returns 0, or -1 with PP_EIO recorded
 * (the counts are kept for the next try).
 */
int audit_flush(struct audit *a);

/* Flush (errors ignored) and free ${a}; NULL does nothing. */
void audit_close(struct audit *a);

/* A record as read back; strings point into the reader's buffers. */
struct audit_rec {
	uint64_t seq;
	const char *time, *kind, *actor, *detail, *prev, *hash;
};

/* Called with each record; nonzero stops the listing (and is returned). */
typedef int audit_cb(void *arg, const struct audit_rec *r);

/*
 * Call ${cb} with each record of the log in ${dir} (audit.log.1, then
 * audit.log), oldest first; with ${limit_tail} > 0, only the last
 * ${limit_tail}.  Lines that are not records are passed over (verify
 * reports them); hashes are not checked here.  No log: no call.  Returns
 * 0, ${cb}'s nonzero value, or -1 with PP_EIO recorded.
 */
int audit_list(const char *dir, size_t limit_tail, audit_cb *cb, void *arg);

enum audit_fault {
	AUDIT_OK = 0,
	AUDIT_BAD_JSON,		/* a line is not a well-formed record */
	AUDIT_BAD_HASH,		/* a record's hash does not match its line */
	AUDIT_SEQ_GAP,		/* seq is not one more than the record before */
	AUDIT_BROKEN_CHAIN,	/* prev is not the hash of the line before */
	AUDIT_TORN_TAIL		/* the last line is incomplete (no newline) */
};

struct audit_report {
	uint64_t records;	/* records that verified */
	uint64_t first_seq;	/* the oldest record kept; 0: none */
	uint64_t last_seq;
	uint64_t torn;		/* torn lines closed ("audit-torn") */
	int head_rotated;	/* older records were rotated away */
	enum audit_fault fault;	/* AUDIT_OK, or the first problem: */
	char file[16];		/* in "audit.log" or "audit.log.1", */
	uint64_t line;		/* at this line (from 1), */
	uint64_t seq;		/* where this seq was due (one more than
				   the last good record's), */
	char why[256];		/* and what is wrong, in one line */
};

/*
 * Check the whole log in ${dir} (audit.log.1, then audit.log) into
 * ${out}: every line a record whose hash matches, seq one more than the
 * record before, prev the hash of the line before; the oldest record
 * seq 1 with a zero prev or a rotation record.  No log: 0 records, no
 * fault.  Returns 0 (the verdict is in ${out}), or -1 with PP_EIO.
 */
int audit_verify(const char *dir, struct audit_report *out);

/* A short name of ${f} ("bad hash"). */
const char *audit_fault_name(enum audit_fault f);

#endif
