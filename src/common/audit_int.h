/*
 * audit_int.h: what the audit log's writer (audit.c) and reader
 * (audit_read.c) share: file names, the line's hash member, one record's
 * parser, the records the log writes about itself.
 */
#ifndef PP_AUDIT_INT_H
#define PP_AUDIT_INT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit.h"

#define AUDIT_FILE	"audit.log"
#define AUDIT_OLD	"audit.log.1"

/* Every line ends with this member, then the hash, then "\"}". */
#define AUDIT_HASH_KEY	",\"hash\":\""
#define AUDIT_SUFFIX_LEN \
	(sizeof(AUDIT_HASH_KEY) - 1 + AUDIT_HASH_HEX + 2)

/* Records the log writes about itself. */
#define AUDIT_K_SUPPRESSED	"audit-suppressed"
#define AUDIT_K_TORN		"audit-torn"
#define AUDIT_K_ROTATED		"audit-rotated"
#define AUDIT_K_DAMAGED		"audit-damaged"
#define AUDIT_TORN_FMT		"closed a torn line of %zu bytes (sha256 %s)"

/* One log's files and the buffer of one write (audit_write.c). */
struct audit_file {
	char path[PATH_MAX];	/* DIR/audit.log */
	char old[PATH_MAX];	/* DIR/audit.log.1 */
	uint64_t file_max;	/* rotate before passing this size */
	char buf[2 * (AUDIT_LINE_MAX + 1) + 1];
};

/* A record to append, before its place in the chain is known. */
struct audit_arec {
	const char *kind, *actor;
	char detail[AUDIT_DETAIL_MAX + 5];	/* cut at a character later */
};

/*
 * Append records ${recs}[0..${n}) (at most 2) to log ${f} under its lock:
 * the end read back is closed first if torn or damaged, and the log
 * rotated first if full; then one write, synced.  Returns 0 or -1 (PP_EIO,
 * or PP_EINTERNAL).
 */
int audit_append(struct audit_file *f, const struct audit_arec *recs,
    size_t n);

/* The prev of the first record. */
extern const char audit_zero_hash[AUDIT_HASH_HEX + 1];

/* SHA-256 of ${len} bytes of ${line}, as hex into ${hex}.  Returns 0 or -1. */
int audit_hash(const char *line, size_t len,
    char hex[static AUDIT_HASH_HEX + 1]);

/*
 * Parse line ${line} (${len} bytes, no newline) into ${r} (pointers into
 * *${jp}, which the caller frees with json_decref, also on failure) and,
 * if ${check_hash}, check its hash.  Returns AUDIT_OK, AUDIT_BAD_JSON or
 * AUDIT_BAD_HASH with the reason in ${why} (${whylen} bytes).
 */
enum audit_fault audit_parse(const char *line, size_t len, int check_hash,
    struct audit_rec *r, json_t **jp, char *why, size_t whylen);

#endif
