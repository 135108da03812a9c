/* test_ingest.c: content put's reader thread: sizes, pipes, read errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/wait.h>

#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "chunker.h"
#include "crypto.h"
#include "err.h"
#include "ingest.h"
#include "store.h"
#include "unit.h"
#include "unit_store.h"

#define MIB	(1024 * 1024)	/* the reader's read size */


static int
id_cmp(const void *a, const void *b)
{

	return (memcmp(a, b, CRYPTO_HASH_LEN));
}

/*
 * Assert that the store holds exactly the chunks chunker_cut makes of
 * ${len} bytes of ${buf}, and that item ${name} reads back as those bytes.
 */
static void
expect_stored_as_cut(struct unit_fx *f, const uint8_t *buf, size_t len,
    const char *name)
{
	char *db = unit_path(f->dir, "pool.db");
	char *out = unit_path(f->tmp, "out");
	uint8_t (*want)[CRYPTO_HASH_LEN], *got;
	size_t n = 0, pos, cut, glen;
	sqlite3_stmt *s;
	sqlite3 *h;
	int fd;

	want = malloc((len / CHUNKER_MIN + 1) * sizeof(*want));
	assert_non_null(want);
	for (pos = 0; pos < len; pos += cut, n++) {
		cut = chunker_cut(chunker_default, buf + pos, len - pos);
		assert_int_equal(crypto_sha256(buf + pos, cut, want[n]), 0);
	}
	qsort(want, n, sizeof(*want), id_cmp);
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT id FROM chunks"
	    " ORDER BY id", -1, &s, NULL), SQLITE_OK);
	for (pos = 0; sqlite3_step(s) == SQLITE_ROW; pos++) {
		assert_true(pos < n);
		assert_memory_equal(sqlite3_column_blob(s, 0), want[pos],
		    CRYPTO_HASH_LEN);
	}
	assert_int_equal(pos, n);
	sqlite3_finalize(s);
	sqlite3_close(h);
	assert_true((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	if (store_content_get(f->st, f->conf, name, fd, NULL) != 0)
		fail_msg("get %s: %s", name, pp_errmsg());
	close(fd);
	got = unit_read_file(out, &glen);
	assert_int_equal(glen, len);
	if (len > 0)
		assert_memory_equal(got, buf, len);
	free(got);
	free(want);
	free(out);
	free(db);
}

/* Sizes around the reader's 1 MiB reads cut as one pass over the whole. */
static void
test_sizes_around_reads(void **state)
{
	static const size_t sizes[] = { 0, 1, CHUNKER_MIN, CHUNKER_MAX,
		MIB - 1, MIB, MIB + 1, 2 * MIB, 2 * MIB + CHUNKER_MAX - 1,
		3 * MIB + 12345 };
	struct unit_fx *f = *state;
	char *in = unit_path(f->tmp, "in"), name[32];
	struct store_content c;
	uint8_t *buf, sum[CRYPTO_HASH_LEN];
	size_t i;

	buf = malloc(3 * MIB + 12345);
	assert_non_null(buf);
	unit_fill(buf, 3 * MIB + 12345, 7);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "size-%zu", sizes[i]);
		unit_write_file(in, buf, sizes[i]);
		if (unit_put(f->st, f->conf, name, "text/plain", in, &c) != 0)
			fail_msg("put %s: %s", name, pp_errmsg());
		assert_int_equal(c.size, (int64_t)sizes[i]);
		assert_int_equal(crypto_sha256(buf, sizes[i], sum), 0);
		assert_memory_equal(c.sha256, sum, sizeof(sum));
		expect_stored_as_cut(f, buf, sizes[i], name);
		/* One item at a time, so the chunk table is this one's. */
		assert_int_equal(store_content_del(f->st, f->conf, name), 0);
	}
	free(buf);
	free(in);
}

/* Put ${len} bytes of ${buf} from a pipe fed in odd-sized writes. */
static int
put_from_pipe(struct unit_fx *f, const uint8_t *buf, size_t len,
    const char *name, struct store_content *out)
{
	size_t pos = 0, n;
	int p[2], status, rc;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		for (n = 1; pos < len; pos += n, n = n * 7 % 100003 + 1) {
			n = n < len - pos ? n : len - pos;
			if (write(p[1], buf + pos, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	assert_true(pid > 0);
	close(p[1]);
	rc = store_content_put(f->st, f->conf, name, STORE_KIND_PRESENTATION,
	    "application/pdf", p[0], out);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return (rc);
}

static void
test_pipe_short_reads(void **state)
{
	struct unit_fx *f = *state;
	const size_t len = 3 * MIB + 777;
	struct store_content c;
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	unit_fill(buf, len, 8);
	if (put_from_pipe(f, buf, len, "deck.pdf", &c) != 0)
		fail_msg("put: %s", pp_errmsg());
	assert_int_equal(c.size, (int64_t)len);
	assert_int_equal(c.nnew, c.nchunks);
	expect_stored_as_cut(f, buf, len, "deck.pdf");
	free(buf);
}

/* A read error on the input is an I/O error, and changes nothing. */
static void
test_read_error(void **state)
{
	struct unit_fx *f = *state;
	struct unit_snap s;
	int fd;

	unit_snap(f->st, &s);
	/* read(2) on a directory fails with EISDIR. */
	assert_true((fd = open(f->tmp, O_RDONLY | O_DIRECTORY)) >= 0);
	unit_refused(f->st, store_content_put(f->st, f->conf, "x",
	    STORE_KIND_HANDOUT, "text/plain", fd, NULL), PP_EIO, &s,
	    "put from a directory");
	close(fd);
	/* As does read(2) on a descriptor open for writing only. */
	assert_true((fd = open("/dev/null", O_WRONLY)) >= 0);
	unit_refused(f->st, store_content_put(f->st, f->conf, "x",
	    STORE_KIND_HANDOUT, "text/plain", fd, NULL), PP_EIO, &s,
	    "put from a write-only descriptor");
	close(fd);
}

/*
 * Stopping the reader while it waits on an input that says nothing (a
 * stalled pipe) returns at once instead of hanging until the input closes.
 */
static void
test_free_wakes_blocked_reader(void **state)
{
	struct ingest *in;
	struct timespec t0, t1;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	/* Less than one read's worth: the reader blocks for more. */
	assert_int_equal(write(fds[1], "hello", 5), 5);
	assert_non_null(in = ingest_start(fds[0], PP_CONTENT_MAX));
	usleep(100000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ingest_free(in);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	close(fds[0]);
	close(fds[1]);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, unit_setup_users, \
    unit_teardown)
	const struct CMUnitTest tests[] = {
		T(test_sizes_around_reads),
		T(test_pipe_short_reads),
		T(test_free_wakes_blocked_reader),
		T(test_read_error),
	};
#undef T

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
