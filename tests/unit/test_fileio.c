/*
 * test_fileio.c: the page-cache hints for files written once front to back
 * (fileio_writeback, fileio_drop_behind): what they drop, what they leave,
 * and that the bytes stay in the file.
 */
#include <sys/mman.h>
#include <sys/vfs.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fileio.h"
#include "unit.h"

#define MIB		((off_t)1 << 20)
#define FILE_LEN	(64 * MIB)
#define TMPFS_MAGIC	0x01021994

struct fx {
	char *dir, *path;
	int fd;
	uint8_t *buf;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = unit_mkdtemp();
	f->path = unit_path(f->dir, "spool");
	assert_true((f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC,
	    0600)) >= 0);
	assert_non_null(f->buf = malloc((size_t)FILE_LEN));
	unit_fill(f->buf, (size_t)FILE_LEN, 7);
	assert_int_equal(write(f->fd, f->buf, (size_t)FILE_LEN),
	    (ssize_t)FILE_LEN);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	close(f->fd);
	free(f->buf);
	free(f->path);
	unit_rmtree(f->dir);
	free(f);
	return (0);
}

/* How many of the pages of [${off}, ${off} + ${len}) are in memory. */
static size_t
resident(int fd, off_t off, off_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = (size_t)len / pg, i, r;
	unsigned char *vec;
	void *m;

	assert_non_null(vec = malloc(n));
	m = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, off);
	assert_true(m != MAP_FAILED);
	assert_int_equal(mincore(m, (size_t)len, vec), 0);
	for (i = r = 0; i < n; i++)
		r += vec[i] & 1;
	munmap(m, (size_t)len);
	free(vec);
	return (r);
}

/* Can this file system drop clean pages on request?  (tmpfs cannot.) */
static int
drops(int fd)
{
	struct statfs sf;

	assert_int_equal(fstatfs(fd, &sf), 0);
	return (sf.f_type != TMPFS_MAGIC);
}

/* The bytes are all there, whichever pages were dropped. */
static void
check_bytes(struct fx *f)
{
	uint8_t *back = malloc((size_t)FILE_LEN);

	assert_non_null(back);
	assert_int_equal(pread(f->fd, back, (size_t)FILE_LEN, 0),
	    (ssize_t)FILE_LEN);
	assert_memory_equal(back, f->buf, (size_t)FILE_LEN);
	free(back);
}

static void
test_drop_behind(void **state)
{
	struct fx *f = *state;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	off_t done = 0;

	assert_int_equal(fdatasync(f->fd), 0);
	assert_int_equal(resident(f->fd, 0, FILE_LEN), (size_t)FILE_LEN / pg);
	/* Less than a step behind the lag: nothing yet. */
	fileio_drop_behind(f->fd, &done, FILEIO_BEHIND_LAG +
	    FILEIO_BEHIND_STEP - 1);
	assert_int_equal(done, 0);
	assert_int_equal(resident(f->fd, 0, FILE_LEN), (size_t)FILE_LEN / pg);
	/* Read to the end: all but the last FILEIO_BEHIND_LAG goes. */
	fileio_drop_behind(f->fd, &done, FILE_LEN);
	assert_int_equal(done, FILE_LEN - FILEIO_BEHIND_LAG);
	if (drops(f->fd))
		assert_int_equal(resident(f->fd, 0, done), 0);
	assert_int_equal(resident(f->fd, done, FILEIO_BEHIND_LAG),
	    (size_t)FILEIO_BEHIND_LAG / pg);
	/* Called again at the same place: nothing more. */
	fileio_drop_behind(f->fd, &done, FILE_LEN);
	assert_int_equal(done, FILE_LEN - FILEIO_BEHIND_LAG);
	check_bytes(f);
}

static void
test_writeback_then_drop(void **state)
{
	struct fx *f = *state;
	off_t wb = 0, done = 0;

	/* Under a step: no writeback started, the mark stays. */
	fileio_writeback(f->fd, &wb, FILEIO_BEHIND_STEP - 1);
	assert_int_equal(wb, 0);
	fileio_writeback(f->fd, &wb, FILE_LEN);
	assert_int_equal(wb, FILE_LEN);
	/* Wait for the writeback it started (the hint itself never waits). */
	assert_int_equal(sync_file_range(f->fd, 0, FILE_LEN,
	    SYNC_FILE_RANGE_WAIT_AFTER), 0);
	fileio_drop_behind(f->fd, &done, FILE_LEN);
	assert_int_equal(done, FILE_LEN - FILEIO_BEHIND_LAG);
	if (drops(f->fd))
		assert_int_equal(resident(f->fd, 0, done), 0);
	check_bytes(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drop_behind, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_writeback_then_drop, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
