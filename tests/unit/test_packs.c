/* test_packs.c: pack files of sealed chunks: rollback, compaction, readers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "err.h"
#include "store.h"
#include "store_int.h"	/* stage_open: a stage on its own */
#include "unit.h"
#include "unit_store.h"
#include "unit_pagecache.h"

#define LEN	(300 * 1024)

/* A store with Alice's conference, and files tmp/a, tmp/b, tmp/big. */
struct fx {
	struct unit_fx *u;
	struct store *rd;	/* a second handle, or NULL */
	uint8_t *a, *b, *big;
	char *pa, *pb, *pbig, *out;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->u = unit_fx_new(1);
	f->a = malloc(LEN);
	f->b = malloc(LEN);
	f->big = malloc(3 * LEN * 4);
	assert_true(f->a != NULL && f->b != NULL && f->big != NULL);
	unit_fill(f->a, LEN, 1);
	unit_fill(f->b, LEN, 2);
	unit_fill(f->big, 3 * LEN * 4, 3);
	f->pa = unit_path(f->u->tmp, "a");
	f->pb = unit_path(f->u->tmp, "b");
	f->pbig = unit_path(f->u->tmp, "big");
	f->out = unit_path(f->u->tmp, "out");
	unit_write_file(f->pa, f->a, LEN);
	unit_write_file(f->pb, f->b, LEN);
	unit_write_file(f->pbig, f->big, 3 * LEN * 4);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->rd);
	unit_fx_free(f->u);
	free(f->a);
	free(f->b);
	free(f->big);
	free(f->pa);
	free(f->pb);
	free(f->pbig);
	free(f->out);
	free(f);
	return (0);
}

static void
put(struct fx *f, struct store *st, const char *path, const char *name)
{

	if (unit_put(st, f->u->conf, name, "text/plain", path, NULL) != 0)
		fail_msg("put %s: %s", name, pp_errmsg());
}

/* Assert that ${st} reads item ${name} as the ${len} bytes ${want}. */
static void
expect_item(struct fx *f, struct store *st, const char *name,
    const uint8_t *want, size_t len)
{
	uint8_t *got;
	size_t glen;
	int fd = open(f->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	if (store_content_get(st, f->u->conf, name, fd, NULL) != 0)
		fail_msg("get %s: %s", name, pp_errmsg());
	close(fd);
	got = unit_read_file(f->out, &glen);
	assert_int_equal(glen, len);
	assert_memory_equal(got, want, len);
	free(got);
}

/*
 * The number of files in the store's chunks/ directory, and their bytes;
 * with ${resident} (and ${pages}), how many of their pages are in the page
 * cache (of how many), after reading each file whole first if ${cache}.
 */
static int
pack_scan(struct fx *f, int64_t *bytes, size_t *resident, size_t *pages,
    int cache)
{
	char *dir = unit_path(f->u->dir, "chunks"), *p;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int n = 0, fd;

	*bytes = 0;
	if (resident != NULL)
		*resident = *pages = 0;
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		p = unit_path(dir, de->d_name);
		if (cache)
			free(unit_read_file(p, &len));
		assert_true((fd = open(p, O_RDONLY)) >= 0);
		assert_int_equal(fstat(fd, &sb), 0);
		*bytes += sb.st_size;
		if (resident != NULL) {
			*resident += unit_resident(fd, 0, sb.st_size);
			*pages += ((size_t)sb.st_size + pg - 1) / pg;
		}
		close(fd);
		free(p);
		n++;
	}
	closedir(d);
	free(dir);
	return (n);
}

static int
pack_files(struct fx *f, int64_t *bytes)
{

	return (pack_scan(f, bytes, NULL, NULL, 0));
}

static void
test_rollback_cuts_appends(void **state)
{
	struct fx *f = *state;
	struct store_stats s0, s1;
	struct store_content c;
	int64_t bytes0, bytes1;

	put(f, f->u->st, f->pa, "a");
	assert_int_equal(store_stats(f->u->st, &s0), 0);
	assert_int_equal(pack_files(f, &bytes0), 1);
	assert_int_equal(s0.pack_bytes, bytes0);
	/*
	 * In one batch: a large item (its stage becomes a pack of its own)
	 * and a small one (copied into the current pack).  A rollback
	 * removes the first pack and cuts the second back.
	 */
	assert_int_equal(store_begin(f->u->st), 0);
	put(f, f->u->st, f->pbig, "big");
	put(f, f->u->st, f->pb, "b0");
	expect_item(f, f->u->st, "big", f->big, 3 * LEN * 4);
	expect_item(f, f->u->st, "b0", f->b, LEN);
	assert_int_equal(pack_files(f, &bytes1), 2);
	assert_true(bytes1 > bytes0 + 3 * LEN * 4 + LEN);
	store_rollback(f->u->st);
	assert_int_equal(pack_files(f, &bytes1), 1);
	assert_int_equal(bytes1, bytes0);
	assert_int_equal(store_stats(f->u->st, &s1), 0);
	assert_int_equal(s1.chunks, s0.chunks);
	assert_int_equal(s1.pack_bytes, s0.pack_bytes);
	expect_item(f, f->u->st, "a", f->a, LEN);
	/* The next put appends where the rolled-back one began. */
	assert_int_equal(unit_put(f->u->st, f->u->conf, "b", "text/plain",
	    f->pb, &c), 0);
	assert_int_equal(pack_files(f, &bytes1), 1);
	assert_int_equal(bytes1, bytes0 + LEN +
	    (int64_t)c.nchunks * CRYPTO_SEAL_OVERHEAD);
	expect_item(f, f->u->st, "b", f->b, LEN);
}

static void
test_compact_reclaims(void **state)
{
	struct fx *f = *state;
	struct store_compact r;
	struct store_stats s0, s1;
	int64_t bytes;

	/* At least half of the pack dead: it is worth rewriting. */
	put(f, f->u->st, f->pbig, "big");
	put(f, f->u->st, f->pb, "b");
	assert_int_equal(store_stats(f->u->st, &s0), 0);
	assert_int_equal(store_content_del(f->u->st, f->u->conf, "big"), 0);
	/* Deleting frees chunks in the table; the pack keeps its bytes. */
	assert_int_equal(store_stats(f->u->st, &s1), 0);
	assert_int_equal(s1.pack_bytes, s0.pack_bytes);
	assert_true(s1.chunks < s0.chunks);
	if (store_compact(f->u->st, &r) != 0)
		fail_msg("compact: %s", pp_errmsg());
	assert_int_equal(r.packs, 1);
	assert_int_equal(r.packs_rewritten, 1);
	assert_int_equal(r.files_removed, 1);
	assert_false(r.deferred);
	assert_int_equal(r.chunks_moved, s1.chunks);
	assert_true(r.bytes_freed >= 3 * LEN * 4);
	assert_int_equal(store_stats(f->u->st, &s0), 0);
	assert_int_equal(s0.chunks, s1.chunks);
	assert_true(s0.pack_bytes < s1.pack_bytes - 3 * LEN * 4);
	assert_int_equal(pack_files(f, &bytes), 1);
	assert_int_equal(bytes, s0.pack_bytes);
	expect_item(f, f->u->st, "b", f->b, LEN);
}

static void
test_compact_leftovers_and_batch(void **state)
{
	struct fx *f = *state;
	char *stray = unit_path(f->u->dir, "chunks/pack-000099");
	struct store_compact r;
	int64_t bytes;

	put(f, f->u->st, f->pa, "a");
	unit_write_file(stray, "dead bytes", 10);
	assert_int_equal(pack_files(f, &bytes), 2);
	assert_int_equal(store_compact(f->u->st, &r), 0);
	assert_int_equal(r.packs_rewritten, 0);
	assert_int_equal(r.files_removed, 1);
	assert_int_equal(r.bytes_freed, 10);
	assert_int_equal(pack_files(f, &bytes), 1);
	expect_item(f, f->u->st, "a", f->a, LEN);
	/* Not inside a batch. */
	assert_int_equal(store_begin(f->u->st), 0);
	pp_err_clear();
	assert_int_equal(store_compact(f->u->st, &r), -1);
	assert_true(pp_errmsg()[0] != '\0');
	assert_int_equal(store_commit(f->u->st), 0);
	free(stray);
}

static void
test_compact_everything_dead(void **state)
{
	struct fx *f = *state;
	struct store_compact r;
	struct store_stats s;
	int64_t bytes;

	put(f, f->u->st, f->pa, "a");
	assert_int_equal(store_content_del(f->u->st, f->u->conf, "a"), 0);
	assert_int_equal(store_compact(f->u->st, &r), 0);
	assert_int_equal(r.packs_rewritten, 1);
	assert_int_equal(r.files_removed, 1);
	assert_int_equal(r.chunks_moved, 0);
	assert_int_equal(pack_files(f, &bytes), 0);
	assert_int_equal(store_stats(f->u->st, &s), 0);
	assert_int_equal(s.pack_bytes, 0);
	put(f, f->u->st, f->pb, "b");
	expect_item(f, f->u->st, "b", f->b, LEN);
}

/*
 * A rolled-back batch gives its pack numbers back; the next pack with the
 * same number must be read from the new file, not a cached descriptor.
 */
static void
test_rollback_then_reused_pack_number(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_begin(f->u->st), 0);
	put(f, f->u->st, f->pbig, "big");
	expect_item(f, f->u->st, "big", f->big, 3 * LEN * 4);
	store_rollback(f->u->st);
	/* Other bytes, the same size, so the same pack number. */
	unit_fill(f->big, 3 * LEN * 4, 4);
	unit_write_file(f->pbig, f->big, 3 * LEN * 4);
	put(f, f->u->st, f->pbig, "big2");
	expect_item(f, f->u->st, "big2", f->big, 3 * LEN * 4);
}

/* A data directory whose path holds "/stage-" keeps its adopted packs. */
static void
test_stage_in_data_path(void **state)
{
	struct fx *f = *state;
	char *dir = unit_path(f->u->tmp, "stage-x");
	char *store = unit_path(dir, "store"), conf[PP_CONF_ID_LEN + 1];
	struct store *st;

	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(store_create(store, UNIT_POOL, NULL), 0);
	assert_non_null(st = store_open(store));
	assert_int_equal(store_user_add(st, UNIT_ALICE, "Alice"), 0);
	unit_conf_new(st, UNIT_ALICE, 3600, conf);
	if (unit_put(st, conf, "big", "text/plain", f->pbig, NULL) != 0)
		fail_msg("put: %s", pp_errmsg());
	store_close(st);
	assert_non_null(st = store_open(store));
	memcpy(f->u->conf, conf, sizeof(conf));
	expect_item(f, st, "big", f->big, 3 * LEN * 4);
	store_close(st);
	free(store);
	free(dir);
}

/* Leftover stages go once a minute old and unlocked; fresh ones stay. */
static void
test_compact_old_stages(void **state)
{
	struct fx *f = *state;
	char *old = unit_path(f->u->dir, "chunks/stage-old000");
	char *fresh = unit_path(f->u->dir, "chunks/stage-new000");
	struct timeval tv[2] = { { time(NULL) - 120, 0 },
	    { time(NULL) - 120, 0 } };
	struct store_compact r;

	unit_write_file(old, "sealed", 6);
	unit_write_file(fresh, "sealed", 6);
	assert_int_equal(utimes(old, tv), 0);
	assert_int_equal(store_compact(f->u->st, &r), 0);
	assert_int_equal(access(old, F_OK), -1);
	assert_int_equal(access(fresh, F_OK), 0);
	assert_int_equal(r.files_removed, 1);
	free(old);
	free(fresh);
}

/*
 * Another handle (another process: a daemon while `poolpair compact` runs)
 * keeps reading correctly while compaction moves and removes packs.
 */
static void
test_other_reader_across_compaction(void **state)
{
	struct fx *f = *state;
	struct store_compact r;
	struct store *rd;

	rd = f->rd = store_open(f->u->dir);
	assert_non_null(rd);
	put(f, f->u->st, f->pbig, "big");
	put(f, f->u->st, f->pb, "b");
	expect_item(f, rd, "big", f->big, 3 * LEN * 4);
	expect_item(f, rd, "b", f->b, LEN);
	/* b moves to a new pack; pack 1 goes. */
	assert_int_equal(store_content_del(f->u->st, f->u->conf, "big"), 0);
	assert_int_equal(store_compact(f->u->st, &r), 0);
	assert_true(r.chunks_moved > 0);
	expect_item(f, rd, "b", f->b, LEN);
	/* Everything goes; new content then starts a pack again. */
	assert_int_equal(store_content_del(f->u->st, f->u->conf, "b"), 0);
	assert_int_equal(store_compact(f->u->st, &r), 0);
	put(f, f->u->st, f->pa, "a2");
	expect_item(f, f->u->st, "a2", f->a, LEN);
	expect_item(f, rd, "a2", f->a, LEN);
}

/*
 * A read-once handle (store_read_once, an exporter's) reading every item
 * front to back leaves none of the packs in the page cache; another
 * handle's reads leave the pages where they were; the bytes are the same
 * either way.
 */
static void
test_read_once_drops_pages(void **state)
{
	struct fx *f = *state;
	size_t res, pages, res2, pages2;
	struct store *rd;
	int64_t bytes;
	int fd;

	rd = f->rd = store_open(f->u->dir);
	assert_non_null(rd);
	put(f, f->u->st, f->pbig, "big");
	put(f, f->u->st, f->pa, "a");
	assert_true(pack_scan(f, &bytes, &res, &pages, 1) >= 1);
	assert_int_equal(res, pages);
	/* An ordinary reader: everything stays. */
	expect_item(f, f->u->st, "big", f->big, 3 * LEN * 4);
	expect_item(f, f->u->st, "a", f->a, LEN);
	(void)pack_scan(f, &bytes, &res2, &pages2, 0);
	assert_int_equal(res2, pages);
	/* A read-once reader. */
	store_read_once(rd);
	expect_item(f, rd, "big", f->big, 3 * LEN * 4);
	expect_item(f, rd, "a", f->a, LEN);
	assert_true((fd = open(f->u->dir, O_RDONLY | O_DIRECTORY)) >= 0);
	if (unit_drops_pages(fd)) {
		(void)pack_scan(f, &bytes, &res2, &pages2, 0);
		assert_int_equal(res2, 0);
	}
	close(fd);
	/* And again, from the disk. */
	expect_item(f, rd, "big", f->big, 3 * LEN * 4);
}

/*
 * A stage larger than one buffer goes around the page cache in whole
 * blocks, where the filesystem takes O_DIRECT (not tmpfs): none of its
 * pages but the last block's are cached; and the file holds exactly the
 * bytes staged, whatever the sizes of the appends.
 */
static void
test_large_stage_direct(void **state)
{
	struct fx *f = *state;
	char *dir = unit_path(f->u->dir, "chunks"), *path = NULL;
	size_t total = 0, n, i, glen, cap = 4 << 20;
	uint8_t *want, *got, *p;
	struct dirent *de;
	struct stage *sg;
	int64_t off;
	DIR *d;
	int fd;

	assert_non_null(want = malloc(cap));
	unit_fill(want, cap, 7);
	assert_non_null(sg = stage_open(f->u->st));
	for (i = 0; total < (3 << 20) + 12345; i++) {
		n = 1 + (i * 7919) % 70001;
		assert_non_null(p = stage_reserve(sg, n, &off));
		assert_int_equal(off, (int64_t)total);
		memcpy(p, want + total, n);
		total += n;
	}
	assert_int_equal(stage_sync(sg), 0);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "stage-", 6) == 0)
			path = unit_path(dir, de->d_name);
	closedir(d);
	assert_non_null(path);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	if (unit_drops_pages(fd))
		assert_int_equal(unit_resident(fd, 0,
		    (off_t)(total - total % 4096)), 0);
	close(fd);
	got = unit_read_file(path, &glen);
	assert_int_equal(glen, total);
	assert_memory_equal(got, want, total);
	stage_free(sg);
	free(got);
	free(want);
	free(path);
	free(dir);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_rollback_cuts_appends),
		T(test_rollback_then_reused_pack_number),
		T(test_stage_in_data_path),
		T(test_compact_old_stages),
		T(test_compact_reclaims),
		T(test_compact_leftovers_and_batch),
		T(test_compact_everything_dead),
		T(test_other_reader_across_compaction),
		T(test_read_once_drops_pages),
		T(test_large_stage_direct),
	};
#undef T

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
