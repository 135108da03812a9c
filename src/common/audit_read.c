/*
 * audit_read.c: the audit log's reader: one line's parser and hash check,
 * a bounded line reader, the verifier that walks the chain through
 * audit.log.1 and audit.log, and the listing.  The writer is audit.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit_int.h"
#include "crypto.h"
#include "err.h"
#include "fileio.h"
#include "util.h"

const char audit_zero_hash[AUDIT_HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* The members of a record, in their order. */
static const char *const rec_keys[] = {
	"seq", "time", "kind", "actor", "detail", "prev", "hash"
};

/* A bounded line reader over a file. */
struct lines {
	int fd;
	const char *path;
	uint64_t lineno;	/* of the line last returned */
	size_t off, len;
	char buf[16384];
};

/* Where the verifier is. */
struct vstate {
	struct audit_report *rep;
	const char *file;	/* AUDIT_FILE or AUDIT_OLD */
	uint64_t line;
	uint64_t seq;		/* the last record's; 0: none yet */
	char prev[AUDIT_HASH_HEX + 1];	/* the hash of its line */
	/* A line that is not a record, unless a torn record closes it. */
	int pending;
	uint64_t pend_line;
	size_t pend_len;
	char pend_hash[AUDIT_HASH_HEX + 1];
	char pend_why[160];
};

/* Where the lister is. */
struct lstate {
	audit_cb *cb;
	void *arg;
	int counting;		/* first pass of a tail: count only */
	uint64_t count;		/* records seen */
	uint64_t skip;		/* records to pass over before calling cb */
};

int
audit_hash(const char *line, size_t len, char hex[static AUDIT_HASH_HEX + 1])
{
	uint8_t h[CRYPTO_HASH_LEN];

	if (crypto_sha256(line, len, h) != 0)
		return (-1);
	util_hex(hex, h, sizeof(h));
	return (0);
}

/* Record ${why} (printf-style) and return ${f}. */
static enum audit_fault __attribute__((format(printf, 4, 5)))
bad(char *why, size_t whylen, enum audit_fault f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return (f);
}

/* Nonzero if ${s} is AUDIT_HASH_HEX lowercase hex digits. */
static int
hex_ok(const char *s)
{
	size_t i;

	for (i = 0; i < AUDIT_HASH_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return (0);
	return (s[i] == '\0');
}

/* Nonzero if object ${j} has exactly the members of a record, in order. */
static int
keys_ok(json_t *j)
{
	void *it;
	size_t i = 0;

	if (json_object_size(j) != sizeof(rec_keys) / sizeof(rec_keys[0]))
		return (0);
	for (it = json_object_iter(j); it != NULL;
	    it = json_object_iter_next(j, it))
		if (strcmp(json_object_iter_key(it), rec_keys[i++]) != 0)
			return (0);
	return (1);
}

enum audit_fault
audit_parse(const char *line, size_t len, int check_hash,
    struct audit_rec *r, json_t **jp, char *why, size_t whylen)
{
	char canon[AUDIT_LINE_MAX], hex[AUDIT_HASH_HEX + 1];
	json_error_t e;
	json_int_t seq;
	size_t pre = len - AUDIT_SUFFIX_LEN;

	*jp = NULL;
	if (len > AUDIT_LINE_MAX || len < AUDIT_SUFFIX_LEN + 2 ||
	    memcmp(line + pre, AUDIT_HASH_KEY, sizeof(AUDIT_HASH_KEY) - 1) ||
	    memcmp(line + len - 2, "\"}", 2) != 0)
		return (bad(why, whylen, AUDIT_BAD_JSON, "not a record (%zu "
		    "bytes, not ending with its hash member)", len));
	if ((*jp = json_loadb(line, len, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return (bad(why, whylen, AUDIT_BAD_JSON, "not JSON: %s (at "
		    "byte %d)", e.text, e.position));
	if (!json_is_object(*jp) || !keys_ok(*jp) || json_unpack(*jp,
	    "{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", &seq, "time",
	    &r->time, "kind", &r->kind, "actor", &r->actor, "detail",
	    &r->detail, "prev", &r->prev, "hash", &r->hash) != 0)
		return (bad(why, whylen, AUDIT_BAD_JSON, "not a record: its "
		    "members are not seq, time, kind, actor, detail, prev, "
		    "hash in this order and of their types"));
	if (seq < 1 || !hex_ok(r->prev) || !hex_ok(r->hash))
		return (bad(why, whylen, AUDIT_BAD_JSON, "not a record: a seq "
		    "below 1 or a prev or hash that is not 64 hex digits"));
	r->seq = (uint64_t)seq;
	if (!check_hash)
		return (AUDIT_OK);
	/* The line without its hash member is the canonical record. */
	memcpy(canon, line, pre);
	canon[pre] = '}';
	if (audit_hash(canon, pre + 1, hex) != 0 || strcmp(hex, r->hash) != 0)
		return (bad(why, whylen, AUDIT_BAD_HASH, "its hash is not the "
		    "SHA-256 of its contents"));
	return (AUDIT_OK);
}

/*
 * The next line of ${lr} into ${line} (AUDIT_LINE_MAX + 1 bytes): its
 * whole length into ${n} (the bytes beyond the buffer are passed over)
 * and whether a newline ended it into ${nl}.  Returns 1, 0 at the end of
 * the file, or -1 (PP_EIO).
 */
static int
lines_next(struct lines *lr, char *line, size_t *n, int *nl)
{
	const char *p;
	size_t k;
	ssize_t got;

	*n = 0;
	*nl = 0;
	for (;;) {
		if (lr->off == lr->len) {
			if ((got = util_read_full(lr->fd, lr->buf,
			    sizeof(lr->buf))) < 0) {
				pp_errp(PP_EIO, "cannot read %s", lr->path);
				return (-1);
			}
			if (got == 0)
				break;
			lr->off = 0;
			lr->len = (size_t)got;
		}
		p = memchr(lr->buf + lr->off, '\n', lr->len - lr->off);
		k = (p != NULL ? (size_t)(p - lr->buf) : lr->len) - lr->off;
		if (*n <= AUDIT_LINE_MAX)
			memcpy(line + *n, lr->buf + lr->off, k <
			    AUDIT_LINE_MAX + 1 - *n ? k : AUDIT_LINE_MAX + 1 -
			    *n);
		*n += k;
		lr->off += k;
		if (p != NULL) {
			lr->off++;
			*nl = 1;
			break;
		}
	}
	if (*n == 0 && !*nl)
		return (0);
	lr->lineno++;
	return (1);
}

/*
 * The files of the log in ${dir}: audit.log.1 (unless it is another name
 * of audit.log, as a crash during rotation may leave it), then audit.log,
 * into ${paths} (PATH_MAX bytes each) and ${names}.  Returns their count
 * or -1 (PP_EINVAL: path too long).
 */
static int
log_files(const char *dir, char paths[2][PATH_MAX], const char *names[2])
{
	struct stat cur, old;
	int n = 0;

	if (fileio_join(paths[0], PATH_MAX, dir, AUDIT_OLD) != 0 ||
	    fileio_join(paths[1], PATH_MAX, dir, AUDIT_FILE) != 0)
		return (-1);
	if (stat(paths[0], &old) == 0 && !(stat(paths[1], &cur) == 0 &&
	    cur.st_dev == old.st_dev && cur.st_ino == old.st_ino)) {
		names[n++] = AUDIT_OLD;
	} else
		memcpy(paths[0], paths[1], PATH_MAX);
	names[n++] = AUDIT_FILE;
	return (n);
}

/* Open ${path} for reading into ${lr}: 1, 0 if it does not exist, -1. */
static int
lines_open(struct lines *lr, const char *path)
{

	memset(lr, 0, offsetof(struct lines, buf));
	lr->path = path;
	if ((lr->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0)
		return (1);
	if (errno == ENOENT)
		return (0);
	pp_errp(PP_EIO, "cannot open %s", path);
	return (-1);
}

/* Record the first fault ${f} at line ${line} (seq ${seq}); returns 1. */
static int __attribute__((format(printf, 5, 6)))
fault(struct vstate *v, enum audit_fault f, uint64_t line, uint64_t seq,
    const char *fmt, ...)
{
	struct audit_report *rep = v->rep;
	va_list ap;

	rep->fault = f;
	snprintf(rep->file, sizeof(rep->file), "%s", v->file);
	rep->line = line;
	rep->seq = seq;
	va_start(ap, fmt);
	vsnprintf(rep->why, sizeof(rep->why), fmt, ap);
	va_end(ap);
	return (1);
}

/* The pending line was no record and no torn record closed it. */
static int
pend_fault(struct vstate *v)
{

	return (fault(v, AUDIT_BAD_JSON, v->pend_line, v->seq + 1, "%s",
	    v->pend_why));
}

/* Check record ${r} (line ${line}, ${n} bytes) against the chain. */
static int
v_record(struct vstate *v, const struct audit_rec *r, const char *line,
    size_t n)
{
	char want[AUDIT_DETAIL_MAX];

	if (v->pending) {
		snprintf(want, sizeof(want), AUDIT_TORN_FMT, v->pend_len,
		    v->pend_hash);
		if (strcmp(r->kind, AUDIT_K_TORN) != 0 ||
		    strcmp(r->detail, want) != 0)
			return (pend_fault(v));
		v->pending = 0;
		v->rep->torn++;
	}
	if (v->rep->records == 0) {
		if (r->seq != 1 || strcmp(r->prev, audit_zero_hash) != 0) {
			if (strcmp(r->kind, AUDIT_K_ROTATED) != 0)
				return (fault(v, AUDIT_BROKEN_CHAIN, v->line,
				    r->seq, "the log begins at seq %llu with "
				    "no rotation record: its head is missing",
				    (unsigned long long)r->seq));
			v->rep->head_rotated = 1;
		}
		v->rep->first_seq = r->seq;
	} else if (r->seq != v->seq + 1)
		return (fault(v, AUDIT_SEQ_GAP, v->line, v->seq + 1, "it "
		    "holds seq %llu after seq %llu", (unsigned long long)r->seq,
		    (unsigned long long)v->seq));
	else if (strcmp(r->prev, v->prev) != 0)
		return (fault(v, AUDIT_BROKEN_CHAIN, v->line, r->seq, "its "
		    "prev is not the hash of the line of seq %llu",
		    (unsigned long long)v->seq));
	if (audit_hash(line, n, v->prev) != 0)
		return (-1);
	v->seq = r->seq;
	v->rep->records++;
	v->rep->last_seq = r->seq;
	return (0);
}

/*
 * Check one line (${n} bytes, ${nl}: it ended with a newline).  Returns
 * 0 to go on, 1 at a fault (in the report), -1 on error.
 */
static int
v_line(struct vstate *v, const char *line, size_t n, int nl)
{
	struct audit_rec r;
	enum audit_fault f;
	char why[160];
	json_t *j = NULL;
	int rc;

	if (n > AUDIT_LINE_MAX)
		f = bad(why, sizeof(why), AUDIT_BAD_JSON, "a line of %zu "
		    "bytes (at most %d)", n, AUDIT_LINE_MAX);
	else
		f = audit_parse(line, n, 1, &r, &j, why, sizeof(why));
	if (f != AUDIT_OK || !nl) {
		json_decref(j);
		if (v->pending)
			return (pend_fault(v));
		if (!nl)
			return (fault(v, AUDIT_TORN_TAIL, v->line, v->seq + 1,
			    "the last line is torn (%zu bytes, no newline): a "
			    "write did not complete; the next record closes it",
			    n));
		if (f != AUDIT_BAD_JSON || n > AUDIT_LINE_MAX)
			return (fault(v, f, v->line, v->seq + 1, "%s", why));
		/* Not a record: a fault unless a torn record closes it. */
		v->pending = 1;
		v->pend_line = v->line;
		v->pend_len = n;
		snprintf(v->pend_why, sizeof(v->pend_why), "%s", why);
		return (audit_hash(line, n, v->pend_hash) == 0 ? 0 : -1);
	}
	rc = v_record(v, &r, line, n);
	json_decref(j);
	return (rc);
}

/* Verify the file ${path} (named ${name}) from where ${v} is. */
static int
v_file(struct vstate *v, const char *path, const char *name)
{
	struct lines lr;
	char line[AUDIT_LINE_MAX + 1];
	size_t n;
	int nl, rc;

	if ((rc = lines_open(&lr, path)) <= 0)
		return (rc);
	v->file = name;
	while ((rc = lines_next(&lr, line, &n, &nl)) == 1) {
		v->line = lr.lineno;
		if ((rc = v_line(v, line, n, nl)) != 0)
			break;
	}
	if (rc == 0 && v->pending)
		rc = pend_fault(v);
	close(lr.fd);
	return (rc < 0 ? -1 : 0);
}

int
audit_verify(const char *dir, struct audit_report *out)
{
	char paths[2][PATH_MAX];
	const char *names[2];
	struct vstate v;
	int n, i;

	memset(out, 0, sizeof(*out));
	memset(&v, 0, sizeof(v));
	v.rep = out;
	memcpy(v.prev, audit_zero_hash, sizeof(v.prev));
	if ((n = log_files(dir, paths, names)) < 0)
		return (-1);
	for (i = 0; i < n && out->fault == AUDIT_OK; i++)
		if (v_file(&v, paths[i], names[i]) != 0)
			return (-1);
	return (0);
}

/* List the records of ${path} through ${ls}. */
static int
l_file(struct lstate *ls, const char *path)
{
	struct lines lr;
	struct audit_rec r;
	char line[AUDIT_LINE_MAX + 1], why[8];
	json_t *j;
	size_t n;
	int nl, rc;

	if ((rc = lines_open(&lr, path)) <= 0)
		return (rc);
	while ((rc = lines_next(&lr, line, &n, &nl)) == 1) {
		j = NULL;
		if (!nl || n > AUDIT_LINE_MAX || audit_parse(line, n, 0, &r,
		    &j, why, sizeof(why)) != AUDIT_OK) {
			json_decref(j);
			continue;
		}
		rc = 0;
		if (!ls->counting && ls->count >= ls->skip)
			rc = ls->cb(ls->arg, &r);
		ls->count++;
		json_decref(j);
		if (rc != 0)
			break;
	}
	close(lr.fd);
	return (rc);
}

int
audit_list(const char *dir, size_t limit_tail, audit_cb *cb, void *arg)
{
	char paths[2][PATH_MAX];
	const char *names[2];
	struct lstate ls;
	int n, i, rc = 0;

	memset(&ls, 0, sizeof(ls));
	ls.cb = cb;
	ls.arg = arg;
	if ((n = log_files(dir, paths, names)) < 0)
		return (-1);
	if (limit_tail > 0) {
		ls.counting = 1;
		for (i = 0; i < n && rc == 0; i++)
			rc = l_file(&ls, paths[i]);
		if (rc != 0)
			return (rc);
		ls.skip = ls.count > limit_tail ? ls.count - limit_tail : 0;
		ls.counting = 0;
		ls.count = 0;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = l_file(&ls, paths[i]);
	return (rc);
}

const char *
audit_fault_name(enum audit_fault f)
{

	switch (f) {
	case AUDIT_OK:
		return ("intact");
	case AUDIT_BAD_JSON:
		return ("not a record");
	case AUDIT_BAD_HASH:
		return ("bad hash");
	case AUDIT_SEQ_GAP:
		return ("seq gap");
	case AUDIT_BROKEN_CHAIN:
		return ("broken chain");
	case AUDIT_TORN_TAIL:
		return ("torn tail");
	}
	return ("unknown");
}
