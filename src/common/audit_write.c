/*
 * audit_write.c: one append to the audit log: the record's line (canonical
 * JSON, then its hash), the lock, the end read back (and closed when a
 * crash tore it or damage left lines that are not records), rotation, and
 * the one synced write.  Rate limits and the API are audit.c.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit_int.h"
#include "err.h"
#include "fileio.h"
#include "util.h"

#define AUDIT_TAIL	(3 * (AUDIT_LINE_MAX + 1))	/* read back first */
/*
 * Reopens of a log that other processes rotated while we waited for its
 * lock: each one means a whole log was written meanwhile, so the bound is
 * only reached if a process is starved of the lock a thousand times.
 */
#define AUDIT_TRIES	1000

/* The end of the log, as found under its lock. */
struct tail {
	uint64_t size;
	uint64_t seq;		/* the last record's; 0: none */
	char prev[AUDIT_HASH_HEX + 1];	/* the hash of its line */
	int unended;		/* its line lacks only its newline */
	size_t junk;		/* bytes after its line, if not a record */
	int torn;		/* they hold no newline: a line cut short */
	int junk_nl;		/* they end with a newline */
	char junk_hash[AUDIT_HASH_HEX + 1];	/* without that newline */
};

/* Now as "2026-11-23T10:00:00.123Z" into ${out}. */
static void
time_now(char out[static 48])
{
	int64_t ms = util_now_ms();
	char s[32];

	util_time_fmt(s, sizeof(s), ms / 1000);
	snprintf(out, 48, "%.19s.%03dZ", s, (int)(ms % 1000));
}

/*
 * A JSON string of at most ${max} bytes of ${s}, not cutting a UTF-8
 * sequence; bytes of invalid UTF-8 become '?'.  NULL: out of memory.
 */
static json_t *
clip(const char *s, size_t max)
{
	char ascii[AUDIT_DETAIL_MAX];
	size_t n = strnlen(s, max + 1), i;
	json_t *j;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if ((j = json_stringn(s, n)) != NULL || n > sizeof(ascii))
		return (j);
	for (i = 0; i < n; i++)
		ascii[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	return (json_stringn(ascii, n));
}

/*
 * The canonical form of record ${r} (seq ${seq}, time ${ts}, prev ${prev},
 * detail cut to ${dmax} bytes): compact JSON, ASCII only, members in the
 * order of the format.  Returns it (caller frees) or NULL.
 */
static char *
canonical(const struct audit_arec *r, uint64_t seq, const char *ts,
    const char *prev, size_t dmax)
{
	json_t *j, *actor = clip(r->actor, AUDIT_ACTOR_MAX);
	json_t *detail = clip(r->detail, dmax);
	char *s = NULL;

	j = json_pack("{s:I, s:s, s:s, s:O?, s:O?, s:s}", "seq",
	    (json_int_t)seq, "time", ts, "kind", r->kind, "actor", actor,
	    "detail", detail, "prev", prev);
	if (j != NULL && actor != NULL && detail != NULL)
		s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER |
		    JSON_ENSURE_ASCII);
	json_decref(j);
	json_decref(actor);
	json_decref(detail);
	return (s);
}

/*
 * How many of the ${n} bytes of ${s} fit in ${budget} bytes once escaped as
 * ASCII-only JSON, counting the most an escape takes (6 bytes for a control
 * or non-ASCII character, 12 beyond U+FFFF), and cutting no character.
 */
static size_t
fit_escaped(const char *s, size_t n, size_t budget)
{
	size_t i = 0, cost, k;
	unsigned char c;

	while (i < n) {
		c = (unsigned char)s[i];
		k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		cost = k == 4 ? 12 : c < 0x20 || c >= 0x7f ? 6 :
		    c == '"' || c == '\\' ? 2 : 1;
		if (cost > budget || i + k > n)
			break;
		budget -= cost;
		i += k;
	}
	return (i);
}

/*
 * Write record ${r} as line ${seq} chained to ${prev} into ${out} (at
 * least AUDIT_LINE_MAX + 2 bytes), newline included; its length into
 * ${len} and its hash (the next record's prev) into ${next}.  A detail
 * that escaping makes too long is cut.  Returns 0 or -1 (PP_EINTERNAL).
 */
static int
line_make(const struct audit_arec *r, uint64_t seq, const char *prev, char *out,
    size_t *len, char next[static AUDIT_HASH_HEX + 1])
{
	char ts[48], hash[AUDIT_HASH_HEX + 1];
	size_t dmax = strnlen(r->detail, AUDIT_DETAIL_MAX), n;
	char *s;

	time_now(ts);
	if ((s = canonical(r, seq, ts, prev, dmax)) == NULL)
		goto oom;
	if (strlen(s) - 1 + AUDIT_SUFFIX_LEN > AUDIT_LINE_MAX) {
		/* Escaping made it too long: keep what fits of the detail. */
		free(s);
		if ((s = canonical(r, seq, ts, prev, 0)) == NULL)
			goto oom;
		n = strlen(s) - 1 + AUDIT_SUFFIX_LEN;
		free(s);
		dmax = fit_escaped(r->detail, dmax, n < AUDIT_LINE_MAX ?
		    AUDIT_LINE_MAX - n : 0);
		if ((s = canonical(r, seq, ts, prev, dmax)) == NULL)
			goto oom;
	}
	if ((n = strlen(s) - 1 + AUDIT_SUFFIX_LEN) > AUDIT_LINE_MAX ||
	    audit_hash(s, strlen(s), hash) != 0) {
		free(s);
		goto oom;
	}
	snprintf(out, AUDIT_LINE_MAX + 2, "%.*s" AUDIT_HASH_KEY "%s\"}\n",
	    (int)(strlen(s) - 1), s, hash);
	free(s);
	*len = n + 1;
	return (audit_hash(out, n, next));

oom:
	pp_err(PP_EINTERNAL, "cannot format an audit record");
	return (-1);
}

/*
 * Open ${f}'s log (created 0600) and lock it exclusively.  A log that
 * another process rotated away while we waited is let go and the new one
 * opened.  Returns the descriptor or -1 (PP_EIO).
 */
static int
log_lock(const struct audit_file *f)
{
	struct stat fs, ps;
	int fd, tries, rc;

	for (tries = 0; tries < AUDIT_TRIES; tries++) {
		if ((fd = open(f->path, O_RDWR | O_APPEND | O_CREAT |
		    O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
			pp_errp(PP_EIO, "cannot open %s", f->path);
			return (-1);
		}
		while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
			;
		if (rc != 0 || fstat(fd, &fs) != 0) {
			pp_errp(PP_EIO, "cannot lock %s", f->path);
			close(fd);
			return (-1);
		}
		if (!S_ISREG(fs.st_mode)) {
			pp_err(PP_EIO, "%s is not a regular file", f->path);
			close(fd);
			return (-1);
		}
		if (stat(f->path, &ps) == 0 && ps.st_dev == fs.st_dev &&
		    ps.st_ino == fs.st_ino)
			return (fd);
		close(fd);
	}
	pp_err(PP_EIO, "%s keeps being replaced", f->path);
	return (-1);
}

/*
 * In ${buf} (${n} bytes, the end of the log), find the last line that is a
 * record: set ${t}'s seq and prev and return the offset after its newline;
 * or -1 if no line in ${buf} is one.
 */
static ssize_t
tail_record(const char *buf, size_t n, int whole, struct tail *t)
{
	struct audit_rec r;
	json_t *j;
	size_t end, start;
	char why[8];
	enum audit_fault f;

	for (end = n; end > 0; end = start) {
		while (end > 0 && buf[end - 1] != '\n')
			end--;
		if (end == 0)
			break;
		for (start = end - 1; start > 0 && buf[start - 1] != '\n';)
			start--;
		if (start == 0 && !whole)
			break;		/* the line may begin before buf */
		f = audit_parse(buf + start, end - 1 - start, 0, &r, &j, why,
		    sizeof(why));
		if (f == AUDIT_OK)
			t->seq = r.seq;
		json_decref(j);
		if (f == AUDIT_OK)
			return (audit_hash(buf + start, end - 1 - start,
			    t->prev) == 0 ? (ssize_t)end : -1);
	}
	return (-1);
}

/* Write ${len} bytes of ${f}'s buffer to its log at ${fd}, synced. */
static int
log_write(struct audit_file *f, int fd, size_t len)
{

	if (util_write_all(fd, f->buf, len) != 0 || fdatasync(fd) != 0) {
		pp_errp(PP_EIO, "cannot write %s", f->path);
		return (-1);
	}
	return (0);
}

/*
 * If the ${len} bytes at ${s}, after the last line of the log, are a whole
 * record but for its newline (a crash just before it), make it ${t}'s
 * last record.  Returns 1 if so, else 0.
 */
static int
tail_unended(const char *s, size_t len, struct tail *t)
{
	struct audit_rec r;
	json_t *j;
	char why[8];
	int ok;

	if (len == 0 || memchr(s, '\n', len) != NULL)
		return (0);
	ok = audit_parse(s, len, 0, &r, &j, why, sizeof(why)) == AUDIT_OK &&
	    audit_hash(s, len, t->prev) == 0;
	if (ok)
		t->seq = r.seq;
	json_decref(j);
	return (ok);
}

/*
 * Read the end of the log open at ${fd} (${path}) into ${t}: its last
 * record and the bytes after it.  Returns 0, or -1 (PP_EIO) when no record
 * ends the log's last AUDIT_TAIL bytes.
 */
static int
tail_read(int fd, const char *path, struct tail *t)
{
	char buf[AUDIT_TAIL];
	struct stat sb;
	off_t off;
	ssize_t end;
	size_t n, k;

	memset(t, 0, sizeof(*t));
	memcpy(t->prev, audit_zero_hash, sizeof(t->prev));
	if (fstat(fd, &sb) != 0) {
		pp_errp(PP_EIO, "cannot stat %s", path);
		return (-1);
	}
	t->size = (uint64_t)sb.st_size;
	off = sb.st_size > AUDIT_TAIL ? sb.st_size - AUDIT_TAIL : 0;
	n = (size_t)(sb.st_size - off);
	if (lseek(fd, off, SEEK_SET) != off ||
	    util_read_full(fd, buf, n) != (ssize_t)n) {
		pp_errp(PP_EIO, "cannot read %s", path);
		return (-1);
	}
	if ((end = tail_record(buf, n, off == 0, t)) < 0) {
		if (off > 0) {
			pp_err(PP_EIO, "%s does not end with an audit record "
			    "(see poolpair audit --verify)", path);
			return (-1);
		}
		end = 0;	/* nothing but junk: it opens the chain */
	}
	k = t->junk = n - (size_t)end;
	if (tail_unended(buf + end, k, t)) {
		t->unended = 1;
		t->junk = 0;
		return (0);
	}
	t->junk_nl = k > 0 && buf[n - 1] == '\n';
	t->torn = k > 0 && memchr(buf + end, '\n', k) == NULL;
	if (t->junk_nl)
		k--;
	if (t->junk > 0 && audit_hash(buf + end, k, t->junk_hash) != 0)
		return (-1);
	return (0);
}

/*
 * Close the end of ${t}'s log (at ${fd}): the newline a whole last record
 * lacks, or, after junk, a record saying what it was: "audit-torn" for a
 * line a crash cut (the newline it lacks is written first),
 * "audit-damaged" for bytes with newlines that are not records.
 */
static int
end_close(struct audit_file *f, int fd, struct tail *t)
{
	struct audit_arec r;
	size_t len = 0, pre = t->junk_nl ? 0 : 1;
	char next[AUDIT_HASH_HEX + 1];

	r.actor = "audit";
	if (t->torn) {
		r.kind = AUDIT_K_TORN;
		snprintf(r.detail, sizeof(r.detail), AUDIT_TORN_FMT, t->junk,
		    t->junk_hash);
	} else {
		r.kind = AUDIT_K_DAMAGED;
		snprintf(r.detail, sizeof(r.detail), "closed %zu bytes after "
		    "seq %llu that are not records (sha256 %s)", t->junk,
		    (unsigned long long)t->seq, t->junk_hash);
	}
	f->buf[0] = '\n';
	if (!t->unended && line_make(&r, t->seq + 1, t->prev, f->buf + pre,
	    &len, next) != 0)
		return (-1);
	if (log_write(f, fd, pre + len) != 0)
		return (-1);
	t->size += pre + len;
	if (!t->unended) {
		t->seq++;
		memcpy(t->prev, next, sizeof(next));
	}
	return (0);
}

/*
 * Rotate the full log whose end is ${t}: audit.log.1 becomes a second name
 * of it, then a new audit.log, holding one "audit-rotated" record that
 * continues the chain, replaces it atomically.  A crash in between leaves
 * both names on the old log, which the next rotation redoes.
 */
static int
log_rotate(struct audit_file *f, const struct tail *t)
{
	struct audit_arec r;
	char next[AUDIT_HASH_HEX + 1];
	size_t len;

	if (unlink(f->old) != 0 && errno != ENOENT) {
		pp_errp(PP_EIO, "cannot remove %s", f->old);
		return (-1);
	}
	if (link(f->path, f->old) != 0) {
		pp_errp(PP_EIO, "cannot link %s to %s", f->path, f->old);
		return (-1);
	}
	r.kind = AUDIT_K_ROTATED;
	r.actor = "audit";
	snprintf(r.detail, sizeof(r.detail), "%s (%llu bytes) ends at seq "
	    "%llu", AUDIT_OLD, (unsigned long long)t->size,
	    (unsigned long long)t->seq);
	if (line_make(&r, t->seq + 1, t->prev, f->buf, &len, next) != 0)
		return (-1);
	return (fileio_write(f->path, f->buf, len, 0600, 1));
}

int
audit_append(struct audit_file *f, const struct audit_arec *recs,
    size_t n)
{
	char next[AUDIT_HASH_HEX + 1];
	struct tail t;
	size_t len = 0, l, i;
	int fd, rotated = 0;

again:
	if ((fd = log_lock(f)) < 0)
		return (-1);
	if (tail_read(fd, f->path, &t) != 0 ||
	    ((t.junk > 0 || t.unended) && end_close(f, fd, &t) != 0))
		goto err;
	if (!rotated && t.size > 0 &&
	    t.size + 2 * (AUDIT_LINE_MAX + 1) > f->file_max) {
		if (log_rotate(f, &t) != 0)
			goto err;
		close(fd);
		rotated = 1;
		goto again;
	}
	for (i = 0; i < n; i++) {
		if (line_make(&recs[i], t.seq + 1, t.prev, f->buf + len, &l,
		    next) != 0)
			goto err;
		len += l;
		t.seq++;
		memcpy(t.prev, next, sizeof(next));
	}
	if (log_write(f, fd, len) != 0)
		goto err;
	close(fd);
	return (0);

err:
	close(fd);
	return (-1);
}
