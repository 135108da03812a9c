/* test_chunker.c: content-defined chunking (chunker.h): bounds, locality. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "chunker.h"
#include "crypto.h"
#include "unit.h"

#define BIG	(20 * 1024 * 1024)	/* the file the edit tests chunk */
#define SEED	0x5eed0001ULL

/* The chunks of one buffer: offsets, lengths and SHA-256 ids. */
struct chunks {
	size_t n, cap;
	size_t *off, *len;
	uint8_t (*id)[CRYPTO_HASH_LEN];
};

static uint8_t *big;		/* BIG pseudo-random bytes, shared */

static void
chunks_free(struct chunks *c)
{

	free(c->off);
	free(c->len);
	free(c->id);
	memset(c, 0, sizeof(*c));
}

/* Cut ${len} bytes of ${buf} with ${p} into ${c}; ids if ${ids}. */
static void
chunks_cut(const struct chunker_params *p, const uint8_t *buf, size_t len,
    int ids, struct chunks *c)
{
	size_t pos = 0, cut;

	memset(c, 0, sizeof(*c));
	while (pos < len) {
		cut = chunker_cut(p, buf + pos, len - pos);
		assert_true(cut >= 1 && cut <= len - pos);
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 1024;
			c->off = realloc(c->off, c->cap * sizeof(*c->off));
			c->len = realloc(c->len, c->cap * sizeof(*c->len));
			c->id = realloc(c->id, c->cap * sizeof(*c->id));
			assert_non_null(c->off);
			assert_non_null(c->len);
			assert_non_null(c->id);
		}
		c->off[c->n] = pos;
		c->len[c->n] = cut;
		if (ids)
			assert_int_equal(crypto_sha256(buf + pos, cut,
			    c->id[c->n]), 0);
		c->n++;
		pos += cut;
	}
}

static int
id_cmp(const void *a, const void *b)
{

	return (memcmp(a, b, CRYPTO_HASH_LEN));
}

/* How many chunk ids of ${new} are not among those of ${old}. */
static size_t
chunks_unseen(const struct chunks *old, const struct chunks *new)
{
	uint8_t (*sorted)[CRYPTO_HASH_LEN];
	size_t i, unseen = 0;

	sorted = malloc(old->n * sizeof(*sorted));
	assert_non_null(sorted);
	memcpy(sorted, old->id, old->n * sizeof(*sorted));
	qsort(sorted, old->n, sizeof(*sorted), id_cmp);
	for (i = 0; i < new->n; i++)
		if (bsearch(new->id[i], sorted, old->n, sizeof(*sorted),
		    id_cmp) == NULL)
			unseen++;
	free(sorted);
	return (unseen);
}

static int
big_setup(void **state)
{

	(void)state;
	if ((big = malloc(BIG)) == NULL)
		return (-1);
	unit_fill(big, BIG, SEED);
	return (0);
}

static int
big_teardown(void **state)
{

	(void)state;
	free(big);
	big = NULL;
	return (0);
}

static int
popcount64(uint64_t v)
{
	int n = 0;

	for (; v != 0; v &= v - 1)
		n++;
	return (n);
}

static void
test_params_init(void **state)
{
	static const size_t good[] = { 1024, 2048, 16384, 65536, 1 << 20 };
	static const size_t bad[] = { 0, 1, 512, 1023, 1025, 3000, 16383,
		16385, 24576, (size_t)1 << 21, (size_t)3 << 20, SIZE_MAX };
	struct chunker_params p, before;
	size_t i;
	int bits;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&p, 0, sizeof(p));
		assert_int_equal(chunker_params_init(&p, good[i]), 0);
		assert_int_equal(p.avg, good[i]);
		assert_int_equal(p.min, good[i] / 4);
		assert_int_equal(p.max, good[i] * 4);
		for (bits = 0; ((size_t)1 << bits) < good[i]; bits++)
			;
		/* Normalized chunking: two bits stricter / looser. */
		assert_int_equal(popcount64(p.mask_s), bits + 2);
		assert_int_equal(popcount64(p.mask_l), bits - 2);
		assert_int_equal(p.mask_s & 0xffff, 0);
		assert_int_equal(p.mask_l & 0xffff, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&p, 0xa5, sizeof(p));
		before = p;
		if (chunker_params_init(&p, bad[i]) != -1)
			fail_msg("average %zu accepted", bad[i]);
		/* A refused average leaves the parameters alone. */
		assert_memory_equal(&p, &before, sizeof(p));
	}
	/* The default is exactly chunker_params_init(16 KiB). */
	assert_int_equal(chunker_params_init(&p, CHUNKER_AVG), 0);
	assert_memory_equal(&p, chunker_default, sizeof(p));
	assert_int_equal(chunker_default->min, CHUNKER_MIN);
	assert_int_equal(chunker_default->avg, CHUNKER_AVG);
	assert_int_equal(chunker_default->max, CHUNKER_MAX);
}

static void
test_cut_short_inputs(void **state)
{
	const struct chunker_params *p = chunker_default;
	size_t len, cut;

	(void)state;
	assert_int_equal(chunker_cut(p, big, 0), 0);
	assert_int_equal(chunker_cut(p, big, 1), 1);
	assert_int_equal(chunker_cut(p, big, p->min), p->min);
	/* Beyond min a cut is never before min+1 nor past the input. */
	for (len = p->min + 1; len < p->max + 4096; len += 997) {
		cut = chunker_cut(p, big, len);
		assert_true(cut > p->min);
		assert_true(cut <= len && cut <= p->max);
	}
}

static void
test_bounds_and_determinism(void **state)
{
	const struct chunker_params *p = chunker_default;
	struct chunks a, b, c;
	uint8_t *copy;
	size_t i, start;

	(void)state;
	chunks_cut(p, big, BIG, 0, &a);
	assert_true(a.n > 1);
	for (i = 0; i + 1 < a.n; i++) {
		if (a.len[i] < p->min || a.len[i] > p->max)
			fail_msg("chunk %zu is %zu bytes", i, a.len[i]);
	}
	assert_true(a.len[a.n - 1] >= 1 && a.len[a.n - 1] <= p->max);
	assert_int_equal(a.off[a.n - 1] + a.len[a.n - 1], BIG);

	/* The same bytes at another address cut the same way. */
	copy = malloc(BIG);
	assert_non_null(copy);
	memcpy(copy, big, BIG);
	chunks_cut(p, copy, BIG, 0, &b);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.len, b.len, a.n * sizeof(*a.len));

	/* Cutting from a boundary reproduces the later boundaries. */
	start = a.off[a.n / 2];
	chunks_cut(p, copy + start, BIG - start, 0, &c);
	assert_int_equal(c.n, a.n - a.n / 2);
	assert_memory_equal(c.len, a.len + a.n / 2, c.n * sizeof(*c.len));
	free(copy);
	chunks_free(&a);
	chunks_free(&b);
	chunks_free(&c);
}

static void
test_average_on_random_data(void **state)
{
	struct chunks a;
	double avg;

	(void)state;
	chunks_cut(chunker_default, big, BIG, 0, &a);
	avg = (double)BIG / (double)a.n;
	print_message("%zu chunks, average %.0f bytes\n", a.n, avg);
	assert_true(avg >= 12 * 1024 && avg <= 24 * 1024);
	chunks_free(&a);
}

static void
test_zeros_cut_at_max(void **state)
{
	const struct chunker_params *p = chunker_default;
	size_t len = 10 * CHUNKER_MAX + 123, i;
	uint8_t *z = calloc(1, len);
	struct chunks a;

	(void)state;
	assert_non_null(z);
	chunks_cut(p, z, len, 0, &a);
	assert_int_equal(a.n, 11);
	for (i = 0; i < 10; i++)
		assert_int_equal(a.len[i], p->max);
	assert_int_equal(a.len[10], 123);
	chunks_free(&a);
	free(z);
}

/*
 * Chunk ${old} and ${new}; assert that at most ${most} (and at least one)
 * of the new chunks are not chunks of the old.
 */
static void
expect_local_change(const uint8_t *old, size_t oldlen, const uint8_t *new,
    size_t newlen, size_t most, const char *what)
{
	struct chunks a, b;
	size_t unseen;

	chunks_cut(chunker_default, old, oldlen, 1, &a);
	chunks_cut(chunker_default, new, newlen, 1, &b);
	unseen = chunks_unseen(&a, &b);
	print_message("%s: %zu of %zu chunks are new\n", what, unseen, b.n);
	if (unseen < 1 || unseen > most)
		fail_msg("%s changed %zu chunks (expected 1..%zu)", what,
		    unseen, most);
	assert_true(b.n + 3 >= a.n && b.n <= a.n + 3);
	chunks_free(&a);
	chunks_free(&b);
}

static void
test_insert_one_byte(void **state)
{
	size_t mid = BIG / 2;
	uint8_t *ed = malloc(BIG + 1);

	(void)state;
	assert_non_null(ed);
	memcpy(ed, big, mid);
	ed[mid] = (uint8_t)(big[mid] ^ 0x5a);
	memcpy(ed + mid + 1, big + mid, BIG - mid);
	expect_local_change(big, BIG, ed, BIG + 1, 3, "insert");
	free(ed);
}

static void
test_delete_one_byte(void **state)
{
	size_t mid = BIG / 2 + 12345;
	uint8_t *ed = malloc(BIG - 1);

	(void)state;
	assert_non_null(ed);
	memcpy(ed, big, mid);
	memcpy(ed + mid, big + mid + 1, BIG - mid - 1);
	expect_local_change(big, BIG, ed, BIG - 1, 3, "delete");
	free(ed);
}

static void
test_overwrite_one_byte(void **state)
{
	size_t at = BIG / 3;
	uint8_t *ed = malloc(BIG);

	(void)state;
	assert_non_null(ed);
	memcpy(ed, big, BIG);
	ed[at] ^= 0xff;
	expect_local_change(big, BIG, ed, BIG, 3, "overwrite");
	/* Edits at the very start and end stay local too. */
	ed[at] ^= 0xff;
	ed[0] ^= 1;
	expect_local_change(big, BIG, ed, BIG, 3, "overwrite first byte");
	ed[0] ^= 1;
	ed[BIG - 1] ^= 1;
	expect_local_change(big, BIG, ed, BIG, 3, "overwrite last byte");
	free(ed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_init),
		cmocka_unit_test(test_cut_short_inputs),
		cmocka_unit_test(test_bounds_and_determinism),
		cmocka_unit_test(test_average_on_random_data),
		cmocka_unit_test(test_zeros_cut_at_max),
		cmocka_unit_test(test_insert_one_byte),
		cmocka_unit_test(test_delete_one_byte),
		cmocka_unit_test(test_overwrite_one_byte),
	};

	return (cmocka_run_group_tests(tests, big_setup, big_teardown));
}
