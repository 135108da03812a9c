/*
 * test_fileio.c: the page-cache hints for files written once front to back
 * (fileio_writeback, fileio_drop_behind) and read once (fileio_drop_read):
 * what they drop, what they leave, and that the bytes stay in the file;
 * fileio_punch_behind, which frees what a reader read; and
 * fileio_unlink_bg, which removes a file on a thread of its own.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fileio.h"
#include "unit.h"
#include "unit_pagecache.h"

#define MIB		((off_t)1 << 20)
#define FILE_LEN	(64 * MIB)

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
	assert_int_equal(unit_resident(f->fd, 0, FILE_LEN),
	    (size_t)FILE_LEN / pg);
	/* Less than a step behind the lag: nothing yet. */
	fileio_drop_behind(f->fd, &done, FILEIO_BEHIND_LAG +
	    FILEIO_BEHIND_STEP - 1);
	assert_int_equal(done, 0);
	assert_int_equal(unit_resident(f->fd, 0, FILE_LEN),
	    (size_t)FILE_LEN / pg);
	/* Read to the end: all but the last FILEIO_BEHIND_LAG goes. */
	fileio_drop_behind(f->fd, &done, FILE_LEN);
	assert_int_equal(done, FILE_LEN - FILEIO_BEHIND_LAG);
	if (unit_drops_pages(f->fd))
		assert_int_equal(unit_resident(f->fd, 0, done), 0);
	assert_int_equal(unit_resident(f->fd, done, FILEIO_BEHIND_LAG),
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
	if (unit_drops_pages(f->fd))
		assert_int_equal(unit_resident(f->fd, 0, done), 0);
	check_bytes(f);
}

/*
 * A read drops the 2 MiB blocks it finished with, or everything from the
 * block it began in if it reached the end of the file.
 */
static void
test_drop_read(void **state)
{
	struct fx *f = *state;
	off_t pg = (off_t)sysconf(_SC_PAGESIZE), blk = FILEIO_FOLIO_MAX;
	size_t all = (size_t)(FILE_LEN / pg), per = (size_t)(blk / pg);

	assert_int_equal(fdatasync(f->fd), 0);
	assert_int_equal(unit_resident(f->fd, 0, FILE_LEN), all);
	/* Within one block: nothing yet. */
	fileio_drop_read(f->fd, blk + 10, 16384, FILE_LEN);
	assert_int_equal(unit_resident(f->fd, 0, FILE_LEN), all);
	if (!unit_drops_pages(f->fd)) {
		check_bytes(f);
		return;
	}
	/* From inside block 1 into block 4: blocks 1 to 3 go. */
	fileio_drop_read(f->fd, blk + 100, (size_t)(3 * blk), FILE_LEN);
	assert_int_equal(unit_resident(f->fd, 0, blk), per);
	assert_int_equal(unit_resident(f->fd, blk, 3 * blk), 0);
	assert_int_equal(unit_resident(f->fd, 4 * blk, blk), per);
	/* The next read follows on and crosses into block 5: 4 goes. */
	fileio_drop_read(f->fd, 4 * blk + 100, (size_t)blk, FILE_LEN);
	assert_int_equal(unit_resident(f->fd, 4 * blk, blk), 0);
	assert_int_equal(unit_resident(f->fd, 0, FILE_LEN), all - 4 * per);
	/* A read to the end of the file: its block and the rest go (here
	 * a file ending 5,000 bytes into the last block). */
	fileio_drop_read(f->fd, FILE_LEN - blk - 5000, (size_t)blk,
	    FILE_LEN - 5000);
	assert_int_equal(unit_resident(f->fd, FILE_LEN - 2 * blk, 2 * blk), 0);
	assert_int_equal(unit_resident(f->fd, 0, FILE_LEN), all - 6 * per);
	check_bytes(f);
}

/*
 * fileio_punch_behind frees whole steps behind the reader, never below
 * ${keep}: those bytes read as zeros and take no blocks, the others are
 * intact; it waits for a whole step; a descriptor not open for writing
 * cannot free.
 */
static void
test_punch_behind(void **state)
{
	struct fx *f = *state;
	off_t done = 0, step = FILEIO_BEHIND_STEP;
	uint8_t *back = malloc((size_t)FILE_LEN);
	struct stat s0, s1;
	int ro;

	assert_non_null(back);
	assert_int_equal(fsync(f->fd), 0);
	assert_int_equal(fstat(f->fd, &s0), 0);
	/* Less than a step past keep: nothing yet. */
	assert_int_equal(fileio_punch_behind(f->fd, &done, step + 5, MIB), 0);
	assert_int_equal(done, 0);
	assert_int_equal(fileio_punch_behind(f->fd, &done, 2 * step + 5, MIB),
	    1);
	assert_int_equal(done, 2 * step);
	/* Already freed up to there: less than a step more, nothing. */
	assert_int_equal(fileio_punch_behind(f->fd, &done, 3 * step - 1, MIB),
	    0);
	assert_int_equal(fstat(f->fd, &s1), 0);
	assert_int_equal(s1.st_size, FILE_LEN);
	assert_true((s0.st_blocks - s1.st_blocks) * 512 >= 2 * step - MIB);
	assert_int_equal(pread(f->fd, back, (size_t)FILE_LEN, 0),
	    (ssize_t)FILE_LEN);
	assert_memory_equal(back, f->buf, (size_t)MIB);
	assert_memory_equal(back + 2 * step, f->buf + 2 * step,
	    (size_t)(FILE_LEN - 2 * step));
	memset(f->buf + MIB, 0, (size_t)(2 * step - MIB));
	assert_memory_equal(back, f->buf, (size_t)FILE_LEN);
	assert_true((ro = open(f->path, O_RDONLY)) >= 0);
	done = 0;
	assert_int_equal(fileio_punch_behind(ro, &done, FILE_LEN, 0), -1);
	assert_int_equal(done, 0);
	close(ro);
	free(back);
}

/*
 * fileio_unlink_bg removes the file by the name it was given (a copy: the
 * caller's buffer is reused at once), and only that file; a descriptor
 * open on it still reads its bytes.
 */
static void
test_unlink_bg(void **state)
{
	struct fx *f = *state;
	char name[PATH_MAX], *keep = unit_path(f->dir, "keep");
	struct stat sb;
	int fd, i;

	assert_true((fd = open(keep, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	snprintf(name, sizeof(name), "%s", f->path);
	fileio_unlink_bg(name);
	snprintf(name, sizeof(name), "%s", keep);
	for (i = 0; i < 500 && stat(f->path, &sb) == 0; i++)
		usleep(10000);
	assert_int_equal(stat(f->path, &sb), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(stat(keep, &sb), 0);
	check_bytes(f);
	/* A name that is not there: nothing happens, nothing else goes. */
	fileio_unlink_bg(f->path);
	usleep(50000);
	assert_int_equal(stat(keep, &sb), 0);
	free(keep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drop_behind, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_writeback_then_drop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_drop_read, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_punch_behind, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unlink_bg, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
