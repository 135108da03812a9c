/*
 * test_audit.c: the audit log (audit.h): its line format and hash chain;
 * every edited byte, deleted, swapped or torn line found at the right line
 * and seq; torn and damaged ends closed by the next append without hiding
 * damage; appends from two processes and from threads; the rate limit
 * against a flood; rotation that keeps the chain; bounds on every field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "crypto.h"
#include "err.h"
#include "unit.h"
#include "util.h"

#define NLINES	12	/* records of the small logs */

/* A writer for ${dir} with no rate limit and a file cap of ${file_max}. */
static struct audit *
open_unlimited(const char *dir, uint64_t file_max)
{
	struct audit_limits l = { file_max, 0, 0 };
	struct audit *a = audit_open(dir);

	assert_non_null(a);
	audit_set_limits(a, &l);
	return (a);
}

/* A log of ${n} records in ${dir} (kinds and actors vary). */
static void
make_log(const char *dir, int n)
{
	struct audit *a = open_unlimited(dir, AUDIT_FILE_MAX);
	int i;

	for (i = 1; i <= n; i++)
		assert_int_equal(audit_log(a, i % 2 ? "package-refused" :
		    "admin", i % 3 ? "flip.ppkg" : NULL, "record %d: \"quoted\""
		    " caf\xc3\xa9", i), 0);
	audit_close(a);
}

/* Verify ${dir} into ${r}, which must succeed as a run. */
static void
verify(const char *dir, struct audit_report *r)
{

	assert_int_equal(audit_verify(dir, r), 0);
}

/*
 * Verify ${dir}, expecting fault ${f} in ${file} at ${line} (seq ${seq} due
 * there); AUDIT_OK for ${f} means any fault (where an edit of one byte
 * cannot say which check it trips first, only where).
 */
static void
expect_fault(const char *dir, enum audit_fault f, const char *file,
    uint64_t line, uint64_t seq, const char *what)
{
	struct audit_report r;

	verify(dir, &r);
	if ((f == AUDIT_OK ? r.fault == AUDIT_OK : r.fault != f) ||
	    strcmp(r.file, file) != 0 || r.line != line ||
	    r.seq != seq)
		fail_msg("%s: got %s in %s line %llu seq %llu (%s); expected "
		    "%s in %s line %llu seq %llu", what,
		    audit_fault_name(r.fault), r.file,
		    (unsigned long long)r.line, (unsigned long long)r.seq,
		    r.why, f == AUDIT_OK ? "a fault" : audit_fault_name(f), file,
		    (unsigned long long)line, (unsigned long long)seq);
}

/* The offset of line ${k} (from 1) in ${buf}; its length into ${len}. */
static size_t
line_at(const uint8_t *buf, size_t blen, size_t k, size_t *len)
{
	size_t off = 0, e;

	while (--k > 0) {
		while (off < blen && buf[off] != '\n')
			off++;
		off++;
	}
	for (e = off; e < blen && buf[e] != '\n'; e++)
		;
	*len = e - off;
	return (off);
}

/* Lines of the file ${path}. */
static size_t
count_lines(const char *path)
{
	size_t len, i, n = 0;
	uint8_t *buf = unit_read_file(path, &len);

	for (i = 0; i < len; i++)
		n += buf[i] == '\n';
	free(buf);
	return (n);
}

/* Collects what audit_list gives. */
struct got {
	uint64_t seq[2048];
	char kind[2048][AUDIT_KIND_MAX + 1];
	char detail[2048][128];
	size_t n;
	size_t stop_at;		/* nonzero: return 7 at this record */
};

static int
collect(void *arg, const struct audit_rec *r)
{
	struct got *g = arg;

	assert_true(g->n < 2048);
	g->seq[g->n] = r->seq;
	snprintf(g->kind[g->n], sizeof(g->kind[0]), "%s", r->kind);
	snprintf(g->detail[g->n], sizeof(g->detail[0]), "%s", r->detail);
	g->n++;
	return (g->stop_at != 0 && g->n == g->stop_at ? 7 : 0);
}

/* The line format: members in order, zero prev, hash over the line. */
static void
test_audit_format(void **state)
{
	char *dir = unit_mkdtemp(), *path = unit_path(dir, "audit.log");
	char hex[AUDIT_HASH_HEX + 1], canon[AUDIT_LINE_MAX];
	static const char *const keys[] = { "seq", "time", "kind", "actor",
	    "detail", "prev", "hash" };
	uint8_t *buf, h[CRYPTO_HASH_LEN];
	size_t len, l1, l2, o2, i;
	struct stat sb;
	json_t *j;
	void *it;

	(void)state;
	make_log(dir, 2);
	buf = unit_read_file(path, &len);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	line_at(buf, len, 1, &l1);
	o2 = line_at(buf, len, 2, &l2);
	for (i = 0; i < len; i++)
		assert_true(buf[i] < 0x80);	/* ASCII only */
	j = json_loadb((char *)buf, l1, 0, NULL);
	assert_non_null(j);
	for (i = 0, it = json_object_iter(j); it != NULL;
	    it = json_object_iter_next(j, it), i++)
		assert_string_equal(json_object_iter_key(it), keys[i]);
	assert_int_equal(i, 7);
	assert_int_equal(json_integer_value(json_object_get(j, "seq")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "prev")),
	    "0000000000000000000000000000000000000000000000000000000000000000");
	assert_string_equal(json_string_value(json_object_get(j, "detail")),
	    "record 1: \"quoted\" caf\xc3\xa9");
	assert_int_equal(strlen(json_string_value(json_object_get(j,
	    "time"))), 24);
	assert_int_equal(json_string_value(json_object_get(j, "time"))[23],
	    'Z');
	/* hash: SHA-256 of the line without its hash member. */
	memcpy(canon, buf, l1 - 75);
	canon[l1 - 75] = '}';
	assert_int_equal(crypto_sha256(canon, l1 - 74, h), 0);
	util_hex(hex, h, sizeof(h));
	assert_string_equal(json_string_value(json_object_get(j, "hash")),
	    hex);
	assert_memory_equal(buf + l1 - 75, ",\"hash\":\"", 9);
	json_decref(j);
	/* prev: SHA-256 of the line before, without its newline. */
	assert_int_equal(crypto_sha256(buf, l1, h), 0);
	util_hex(hex, h, sizeof(h));
	j = json_loadb((char *)buf + o2, l2, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "seq")), 2);
	assert_string_equal(json_string_value(json_object_get(j, "prev")),
	    hex);
	json_decref(j);
	free(buf);
	free(path);
	unit_rmtree(dir);
}

static void
test_audit_chain_verifies_and_lists(void **state)
{
	char *dir = unit_mkdtemp();
	struct audit_report r;
	struct got *g = calloc(1, sizeof(*g));
	size_t i;

	(void)state;
	assert_non_null(g);
	/* No log yet: nothing, and no fault. */
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	assert_int_equal(r.records, 0);
	assert_int_equal(audit_list(dir, 0, collect, g), 0);
	assert_int_equal(g->n, 0);
	make_log(dir, 300);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	assert_int_equal(r.records, 300);
	assert_int_equal(r.first_seq, 1);
	assert_int_equal(r.last_seq, 300);
	assert_int_equal(r.head_rotated, 0);
	assert_int_equal(audit_list(dir, 0, collect, g), 0);
	assert_int_equal(g->n, 300);
	for (i = 0; i < 300; i++)
		assert_int_equal(g->seq[i], i + 1);
	assert_string_equal(g->kind[0], "package-refused");
	assert_string_equal(g->kind[1], "admin");
	/* The last N, oldest first; a callback's nonzero stops the list. */
	memset(g, 0, sizeof(*g));
	assert_int_equal(audit_list(dir, 5, collect, g), 0);
	assert_int_equal(g->n, 5);
	assert_int_equal(g->seq[0], 296);
	assert_int_equal(g->seq[4], 300);
	memset(g, 0, sizeof(*g));
	assert_int_equal(audit_list(dir, 1000, collect, g), 0);
	assert_int_equal(g->n, 300);
	memset(g, 0, sizeof(*g));
	g->stop_at = 3;
	assert_int_equal(audit_list(dir, 0, collect, g), 7);
	assert_int_equal(g->n, 3);
	free(g);
	unit_rmtree(dir);
}

/* Every byte of every line, changed two ways, is found at its line. */
static void
test_audit_every_byte_edit_detected(void **state)
{
	char *dir = unit_mkdtemp(), *path = unit_path(dir, "audit.log");
	static const uint8_t flips[] = { 0x01, 0x20 };
	uint8_t *orig, *buf;
	size_t len, i, f, line;
	char what[64];

	(void)state;
	make_log(dir, NLINES);
	orig = unit_read_file(path, &len);
	buf = malloc(len);
	assert_non_null(buf);
	for (f = 0; f < sizeof(flips); f++) {
		line = 1;
		for (i = 0; i < len; i++) {
			memcpy(buf, orig, len);
			buf[i] ^= flips[f];
			unit_write_file(path, buf, len);
			snprintf(what, sizeof(what), "byte %zu ^ 0x%02x", i,
			    flips[f]);
			/* The final newline gone: the last line is torn. */
			expect_fault(dir, i == len - 1 ? AUDIT_TORN_TAIL :
			    AUDIT_OK, "audit.log", line, line, what);
			if (orig[i] == '\n')
				line++;
		}
	}
	free(buf);
	free(orig);
	free(path);
	unit_rmtree(dir);
}

/* Lines deleted or swapped break the chain where they were. */
static void
test_audit_delete_swap(void **state)
{
	char *dir = unit_mkdtemp(), *path = unit_path(dir, "audit.log");
	struct audit_report r;
	uint8_t *orig, *buf, *obuf;
	size_t len, o3, l3, o4, l4, o1, l1, olen, l3o;
	char *other, *opath;

	(void)state;
	make_log(dir, NLINES);
	orig = unit_read_file(path, &len);
	buf = malloc(2 * len);
	assert_non_null(buf);
	o1 = line_at(orig, len, 1, &l1);
	o3 = line_at(orig, len, 3, &l3);
	o4 = line_at(orig, len, 4, &l4);
	/* Line 3 deleted: line 3 holds seq 4 where 3 was due. */
	memcpy(buf, orig, o3);
	memcpy(buf + o3, orig + o4, len - o4);
	unit_write_file(path, buf, len - (l3 + 1));
	expect_fault(dir, AUDIT_SEQ_GAP, "audit.log", 3, 3, "line 3 deleted");
	/* Lines 3 and 4 swapped. */
	memcpy(buf, orig, len);
	memcpy(buf + o3, orig + o4, l4 + 1);
	memcpy(buf + o3 + l4 + 1, orig + o3, l3 + 1);
	unit_write_file(path, buf, len);
	expect_fault(dir, AUDIT_SEQ_GAP, "audit.log", 3, 3, "lines swapped");
	/* The first line deleted: the head is missing. */
	unit_write_file(path, orig + l1 + 1, len - l1 - 1);
	expect_fault(dir, AUDIT_BROKEN_CHAIN, "audit.log", 1, 2,
	    "line 1 deleted");
	(void)o1;
	/* Line 3 of another log: its seq and hash are good, its prev not. */
	other = unit_mkdtemp();
	opath = unit_path(other, "audit.log");
	make_log(other, NLINES);
	obuf = unit_read_file(opath, &olen);
	assert_int_equal(line_at(obuf, olen, 3, &l3o), o3);
	assert_int_equal(l3o, l3);
	memcpy(buf, orig, len);
	memcpy(buf + o3, obuf + o3, l3);
	unit_write_file(path, buf, len);
	expect_fault(dir, AUDIT_BROKEN_CHAIN, "audit.log", 3, 3,
	    "line 3 of another log");
	free(obuf);
	free(opath);
	unit_rmtree(other);
	/* A line duplicated. */
	memcpy(buf, orig, o4);
	memcpy(buf + o4, orig + o3, len - o3);
	unit_write_file(path, buf, len + l3 + 1);
	expect_fault(dir, AUDIT_SEQ_GAP, "audit.log", 4, 4, "line 3 twice");
	/*
	 * Whole records cut from the end leave a shorter chain that holds:
	 * only a copy of the last hash kept elsewhere can tell (audit.md).
	 */
	unit_write_file(path, orig, o4);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	assert_int_equal(r.records, 3);
	free(buf);
	free(orig);
	free(path);
	unit_rmtree(dir);
}

/* A torn last line is reported, then closed by the next append. */
static void
test_audit_torn_tail(void **state)
{
	char *dir = unit_mkdtemp(), *path = unit_path(dir, "audit.log");
	struct audit_report r;
	struct got *g = calloc(1, sizeof(*g));
	struct audit *a;
	uint8_t *orig, *buf;
	size_t len, len2, o, l;

	(void)state;
	assert_non_null(g);
	make_log(dir, NLINES);
	orig = unit_read_file(path, &len);
	o = line_at(orig, len, NLINES, &l);
	/* Cut in the middle of the last line. */
	unit_write_file(path, orig, o + l / 2);
	expect_fault(dir, AUDIT_TORN_TAIL, "audit.log", NLINES, NLINES,
	    "torn");
	verify(dir, &r);
	assert_int_equal(r.records, NLINES - 1);
	a = open_unlimited(dir, AUDIT_FILE_MAX);
	assert_int_equal(audit_log(a, "admin", "root", "after the crash"), 0);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	assert_int_equal(r.torn, 1);
	assert_int_equal(r.records, NLINES + 1);	/* torn record too */
	assert_int_equal(audit_list(dir, 2, collect, g), 0);
	assert_string_equal(g->kind[0], "audit-torn");
	assert_int_equal(g->seq[0], NLINES);
	assert_non_null(strstr(g->detail[0], "torn line of"));
	assert_string_equal(g->kind[1], "admin");
	/* The closed fragment is still covered: editing it is found. */
	buf = unit_read_file(path, &len2);
	buf[o + 3] ^= 0x01;
	unit_write_file(path, buf, len2);
	expect_fault(dir, AUDIT_BAD_JSON, "audit.log", NLINES, NLINES,
	    "edited fragment");
	free(buf);
	/* Cut just before the newline: the record is kept, not torn. */
	unit_write_file(path, orig, len - 1);
	expect_fault(dir, AUDIT_TORN_TAIL, "audit.log", NLINES, NLINES,
	    "no newline");
	assert_int_equal(audit_log(a, "admin", "root", "again"), 0);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	assert_int_equal(r.torn, 0);
	assert_int_equal(r.records, NLINES + 1);
	/* A log that is nothing but a fragment. */
	unit_write_file(path, orig, 40);
	assert_int_equal(audit_log(a, "admin", "root", "fresh"), 0);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	assert_int_equal(r.torn, 1);
	assert_int_equal(r.records, 2);
	audit_close(a);
	free(orig);
	free(g);
	free(path);
	unit_rmtree(dir);
}

/* Lines that are no records do not stop appends, nor get hidden. */
static void
test_audit_damaged_tail(void **state)
{
	char *dir = unit_mkdtemp(), *path = unit_path(dir, "audit.log");
	struct audit *a;
	uint8_t *orig, *buf;
	size_t len;

	(void)state;
	make_log(dir, NLINES);
	orig = unit_read_file(path, &len);
	buf = malloc(len + 8192);
	assert_non_null(buf);
	memcpy(buf, orig, len);
	memcpy(buf + len, "garbage\n", 8);
	unit_write_file(path, buf, len + 8);
	a = open_unlimited(dir, AUDIT_FILE_MAX);
	assert_int_equal(audit_log(a, "admin", "root", "after"), 0);
	expect_fault(dir, AUDIT_BAD_JSON, "audit.log", NLINES + 1, NLINES + 1,
	    "damaged line");
	/* More junk than a tail read: appends refuse rather than guess. */
	memset(buf + len, 'x', 8192);
	buf[len + 4000] = buf[len + 8191] = '\n';
	unit_write_file(path, buf, len + 8192);
	pp_err_clear();
	assert_int_equal(audit_log(a, "admin", "root", "lost"), -1);
	assert_int_equal(pp_errcode(), PP_EIO);
	assert_non_null(strstr(pp_errmsg(), "does not end with"));
	audit_close(a);
	free(buf);
	free(orig);
	free(path);
	unit_rmtree(dir);
}

/*
 * Child ${id}: 500 records (logs rotated at ${file_max}), then exit 0 (or 1
 * on a failure).
 */
static void
child_appends(const char *dir, int id, uint64_t file_max)
{
	struct audit *a = audit_open(dir);
	struct audit_limits l = { file_max, 0, 0 };
	char actor[16];
	int i, rc = 0;

	if (a == NULL)
		_exit(1);
	audit_set_limits(a, &l);
	snprintf(actor, sizeof(actor), "child-%d", id);
	for (i = 0; i < 500 && rc == 0; i++)
		if ((rc = audit_log(a, "test", actor, "record %d", i)) != 0)
			fprintf(stderr, "%s: %s\n", actor, pp_errmsg());
	audit_close(a);
	_exit(rc == 0 ? 0 : 1);
}

/* Two processes append 500 records each to ${dir}; wait for both. */
static void
two_children(const char *dir, uint64_t file_max)
{
	pid_t pid[2];
	int i, st;

	for (i = 0; i < 2; i++) {
		assert_true((pid[i] = fork()) >= 0);
		if (pid[i] == 0)
			child_appends(dir, i, file_max);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

static void
test_audit_two_processes(void **state)
{
	char *dir = unit_mkdtemp();
	struct audit_report r;

	(void)state;
	two_children(dir, AUDIT_FILE_MAX);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	assert_int_equal(r.records, 1000);
	assert_int_equal(r.last_seq, 1000);
	unit_rmtree(dir);
	/* And while they rotate the log under each other. */
	dir = unit_mkdtemp();
	two_children(dir, 8192);
	verify(dir, &r);
	if (r.fault != AUDIT_OK)
		fail_msg("%s at %s line %llu: %s", audit_fault_name(r.fault),
		    r.file, (unsigned long long)r.line, r.why);
	assert_int_equal(r.head_rotated, 1);
	assert_int_equal(r.last_seq - r.first_seq + 1, r.records);
	assert_true(r.last_seq > 1000);
	unit_rmtree(dir);
}

static void *
thread_appends(void *arg)
{
	struct audit *a = arg;
	int i, rc = 0;

	for (i = 0; i < 100; i++)
		rc |= audit_log(a, "thread", "t", "record %d", i);
	return (rc == 0 ? NULL : a);
}

static void
test_audit_threads(void **state)
{
	char *dir = unit_mkdtemp();
	struct audit *a = open_unlimited(dir, AUDIT_FILE_MAX);
	struct audit_report r;
	pthread_t t[4];
	void *ret;
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_appends,
		    a), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	audit_close(a);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	assert_int_equal(r.records, 400);
	unit_rmtree(dir);
}

/* Sum the counts of "audit-suppressed" records in ${g} for ${kind}. */
static uint64_t
suppressed(const struct got *g, const char *kind, size_t *nrec)
{
	unsigned long long n;
	char k[AUDIT_KIND_MAX + 1];
	uint64_t sum = 0;
	size_t i;

	*nrec = 0;
	for (i = 0; i < g->n; i++) {
		if (strcmp(g->kind[i], "audit-suppressed") != 0)
			continue;
		assert_int_equal(sscanf(g->detail[i], "dropped %llu %32s", &n,
		    k), 2);
		if (strcmp(k, kind) == 0) {
			sum += n;
			(*nrec)++;
		}
	}
	return (sum);
}

/* Records of kind ${kind} in ${g}. */
static size_t
of_kind(const struct got *g, const char *kind)
{
	size_t i, n = 0;

	for (i = 0; i < g->n; i++)
		n += strcmp(g->kind[i], kind) == 0;
	return (n);
}

/* 10,000 events at once: burst written, the rest counted once. */
static void
test_audit_rate_flood(void **state)
{
	char *dir = unit_mkdtemp(), *path = unit_path(dir, "audit.log");
	struct got *g = calloc(1, sizeof(*g));
	struct audit_report r;
	struct audit *a;
	struct stat sb;
	int64_t t0, secs;
	size_t nsup, written;
	int i;

	(void)state;
	assert_non_null(g);
	a = audit_open(dir);
	assert_non_null(a);
	t0 = util_now_ms();
	for (i = 0; i < 10000; i++)
		assert_int_equal(audit_log(a, "connection-refused", "peer",
		    "handshake %d refused", i), 0);
	secs = (util_now_ms() - t0) / 1000 + 1;
	/* Another kind has its own bucket. */
	assert_int_equal(audit_log(a, "admin", "root", "unaffected"), 0);
	assert_int_equal(audit_flush(a), 0);
	assert_int_equal(audit_list(dir, 0, collect, g), 0);
	written = of_kind(g, "connection-refused");
	assert_true(written >= AUDIT_BURST);
	assert_true(written <= AUDIT_BURST + (size_t)secs * AUDIT_PER_SEC);
	assert_int_equal(written + suppressed(g, "connection-refused", &nsup),
	    10000);
	assert_true(nsup >= 1 && nsup <= written);
	assert_int_equal(of_kind(g, "admin"), 1);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size < 64 * 1024);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	audit_close(a);
	free(g);
	free(path);
	unit_rmtree(dir);
}

/* Exact counts with a bucket that never refills, then one that does. */
static void
test_audit_rate_counts(void **state)
{
	char *dir = unit_mkdtemp();
	struct audit_limits none = { AUDIT_FILE_MAX, 3, 0 };
	struct audit_limits slow = { AUDIT_FILE_MAX, 1, 1 };
	struct got *g = calloc(1, sizeof(*g));
	struct audit *a = audit_open(dir);
	struct timespec ts = { 1, 100000000 };
	size_t nsup;
	int i;

	(void)state;
	assert_non_null(g);
	assert_non_null(a);
	audit_set_limits(a, &none);
	for (i = 0; i < 10; i++)
		assert_int_equal(audit_log(a, "x", NULL, "%d", i), 0);
	assert_int_equal(audit_log(a, "y", NULL, "own bucket"), 0);
	assert_int_equal(audit_flush(a), 0);
	assert_int_equal(audit_flush(a), 0);	/* nothing more */
	assert_int_equal(audit_list(dir, 0, collect, g), 0);
	assert_int_equal(g->n, 5);
	assert_int_equal(of_kind(g, "x"), 3);
	assert_int_equal(suppressed(g, "x", &nsup), 7);
	assert_int_equal(nsup, 1);
	/* The next record written of a kind says what was dropped first. */
	audit_set_limits(a, &slow);
	assert_int_equal(audit_log(a, "z", NULL, "first"), 0);
	assert_int_equal(audit_log(a, "z", NULL, "dropped"), 0);
	assert_int_equal(audit_log(a, "z", NULL, "dropped"), 0);
	nanosleep(&ts, NULL);
	assert_int_equal(audit_log(a, "z", NULL, "after a second"), 0);
	memset(g, 0, sizeof(*g));
	assert_int_equal(audit_list(dir, 3, collect, g), 0);
	assert_string_equal(g->detail[0], "first");
	assert_string_equal(g->detail[1],
	    "dropped 2 z events over the rate limit");
	assert_string_equal(g->detail[2], "after a second");
	audit_close(a);
	free(g);
	unit_rmtree(dir);
}

/* Rotation: audit.log.1 and audit.log verify as one chain. */
static void
test_audit_rotation(void **state)
{
	char *dir = unit_mkdtemp(), *path = unit_path(dir, "audit.log");
	char *old = unit_path(dir, "audit.log.1");
	struct audit *a = open_unlimited(dir, 16384);
	struct got *g = calloc(1, sizeof(*g));
	struct audit_report r;
	struct stat sb;
	uint8_t *buf;
	size_t len, n;
	int i;

	(void)state;
	assert_non_null(g);
	/* Until the first rotation: both files hold the whole chain. */
	for (n = 0; access(old, F_OK) != 0; n++) {
		assert_true(n < 1000);
		assert_int_equal(audit_log(a, "admin", "root", "record %zu "
		    "with some words to fill the line", n), 0);
	}
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	assert_int_equal(r.first_seq, 1);
	assert_int_equal(r.head_rotated, 0);
	assert_int_equal(r.records, n + 1);	/* and the rotation record */
	assert_int_equal(audit_list(dir, 2, collect, g), 0);
	assert_string_equal(g->kind[0], "audit-rotated");
	assert_int_equal(count_lines(path), 2);
	/* A byte of the old file is checked too. */
	buf = unit_read_file(old, &len);
	buf[len / 2] ^= 0x01;
	unit_write_file(old, buf, len);
	verify(dir, &r);
	assert_int_not_equal(r.fault, AUDIT_OK);
	assert_string_equal(r.file, "audit.log.1");
	buf[len / 2] ^= 0x01;
	unit_write_file(old, buf, len);
	free(buf);
	/* Many rotations: one old file is kept, and the chain holds. */
	for (i = 0; i < 300; i++)
		assert_int_equal(audit_log(a, "admin", "root", "record %d with "
		    "some words to fill the line", i), 0);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	assert_int_equal(r.head_rotated, 1);
	assert_int_equal(r.last_seq - r.first_seq + 1, r.records);
	assert_true(r.last_seq > n + 300);
	assert_int_equal(stat(old, &sb), 0);
	assert_true(sb.st_size <= 16384);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size <= 16384);
	/* The old file gone: what is left still verifies. */
	assert_int_equal(unlink(old), 0);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	assert_int_equal(r.head_rotated, 1);
	/* A crash between link and rename: both names on one file. */
	assert_int_equal(link(path, old), 0);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	for (i = 0; i < 100; i++)
		assert_int_equal(audit_log(a, "admin", "root", "record %d with "
		    "some words to fill the line", i), 0);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	audit_close(a);
	free(g);
	free(old);
	free(path);
	unit_rmtree(dir);
}

/* Bounds: long and odd fields are cut and escaped; bad kinds refused. */
static void
test_audit_bounds(void **state)
{
	char *dir = unit_mkdtemp(), *path = unit_path(dir, "audit.log");
	struct audit *a = open_unlimited(dir, AUDIT_FILE_MAX);
	struct got *g = calloc(1, sizeof(*g));
	char big[8192], ctl[AUDIT_DETAIL_MAX + 1], utf[AUDIT_DETAIL_MAX + 2];
	static const char *const bad_kinds[] = { "", "has space", "new\nline",
	    "0123456789012345678901234567890123" };
	struct audit_report r;
	uint8_t *buf;
	size_t len, i, l;

	(void)state;
	assert_non_null(g);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(ctl, 0x01, sizeof(ctl) - 1);
	ctl[sizeof(ctl) - 1] = '\0';
	memset(utf, 'u', AUDIT_DETAIL_MAX - 1);
	memcpy(utf + AUDIT_DETAIL_MAX - 1, "\xc3\xa9", 3);
	assert_int_equal(audit_log(a, "admin", big, "%s", big), 0);
	assert_int_equal(audit_log(a, "admin", ctl, "%s", ctl), 0);
	assert_int_equal(audit_log(a, "admin", "\xff\xfe x", "\xc3 bad"), 0);
	assert_int_equal(audit_log(a, "admin", "-", "%s", utf), 0);
	for (i = 0; i < sizeof(bad_kinds) / sizeof(bad_kinds[0]); i++) {
		pp_err_clear();
		assert_int_equal(audit_log(a, bad_kinds[i], "-", "x"), -1);
		assert_int_equal(pp_errcode(), PP_EINVAL);
	}
	audit_close(a);
	buf = unit_read_file(path, &len);
	for (i = 1; i <= 4; i++) {
		line_at(buf, len, i, &l);
		assert_true(l <= AUDIT_LINE_MAX);
	}
	assert_int_equal(count_lines(path), 4);
	verify(dir, &r);
	assert_int_equal(r.fault, AUDIT_OK);
	assert_int_equal(r.records, 4);
	assert_int_equal(audit_list(dir, 0, collect, g), 0);
	assert_int_equal(strlen(g->detail[0]), 127);	/* collect's cut */
	assert_string_equal(g->detail[2], "? bad");
	/* A character the cut would split is left out whole. */
	i = line_at(buf, len, 4, &l);
	assert_null(memchr(buf + i, '?', l));
	assert_non_null(strstr(g->detail[3], "uuu"));
	free(buf);
	free(g);
	free(path);
	unit_rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_format),
		cmocka_unit_test(test_audit_chain_verifies_and_lists),
		cmocka_unit_test(test_audit_every_byte_edit_detected),
		cmocka_unit_test(test_audit_delete_swap),
		cmocka_unit_test(test_audit_torn_tail),
		cmocka_unit_test(test_audit_damaged_tail),
		cmocka_unit_test(test_audit_two_processes),
		cmocka_unit_test(test_audit_threads),
		cmocka_unit_test(test_audit_rate_flood),
		cmocka_unit_test(test_audit_rate_counts),
		cmocka_unit_test(test_audit_rotation),
		cmocka_unit_test(test_audit_bounds),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
