/*
 * test_frame.c: the peer protocol's framing: frames round trip whole or
 * split at any byte, a package's DATA moves between buffers with the same
 * bytes as it would be copied, and a frame over the bound, empty or of an
 * unknown type is refused before its payload is read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>

#include "err.h"
#include "frame.h"
#include "unit.h"

static uint8_t buf[FRAME_MAX];

static void
roundtrip_split_anywhere(void **state)
{
	struct evbuffer *a = evbuffer_new(), *b = evbuffer_new();
	uint8_t p[300], one;
	size_t len, total, i;
	int type, n = 0;

	(void)state;
	unit_fill(p, sizeof(p), 1);
	assert_int_equal(frame_put(a, FR_DATA, p, sizeof(p)), 0);
	assert_int_equal(frame_put(a, FR_PING, NULL, 0), 0);
	total = evbuffer_get_length(a);
	assert_int_equal(total, 5 + sizeof(p) + 5);
	/* Byte by byte: nothing until a frame is whole, then exactly it. */
	for (i = 0; i < total; i++) {
		evbuffer_remove(a, &one, 1);
		evbuffer_add(b, &one, 1);
		while (frame_take(b, &type, buf, &len) == 1) {
			if (n++ == 0) {
				assert_int_equal(type, FR_DATA);
				assert_int_equal(len, sizeof(p));
				assert_memory_equal(buf, p, sizeof(p));
				assert_int_equal(i, 5 + sizeof(p) - 1);
			} else {
				assert_int_equal(type, FR_PING);
				assert_int_equal(len, 0);
			}
		}
	}
	assert_int_equal(n, 2);
	evbuffer_free(a);
	evbuffer_free(b);
}

/*
 * DATA moved out of a queue of several chains (as the exporter fills it)
 * is the frame frame_put writes for the same bytes; its payload is taken
 * at the reader by moving it on, leaving the next frame whole behind it.
 */
static void
move_is_put(void **state)
{
	struct evbuffer *q = evbuffer_new(), *a = evbuffer_new();
	struct evbuffer *b = evbuffer_new(), *c = evbuffer_new();
	static uint8_t p[200000], got[1 + 70000];
	size_t len, off;
	int type;

	(void)state;
	unit_fill(p, sizeof(p), 2);
	for (off = 0; off < sizeof(p); off += 65556)	/* chains of 65556 */
		evbuffer_add(q, p + off, sizeof(p) - off < 65556 ?
		    sizeof(p) - off : 65556);
	got[0] = 3;
	memcpy(got + 1, p, 70000);
	assert_int_equal(frame_put_move(a, FR_DATA, 3, q, 70000), 0);
	assert_int_equal(frame_put(b, FR_DATA, got, sizeof(got)), 0);
	assert_int_equal(evbuffer_get_length(q), sizeof(p) - 70000);
	assert_int_equal(evbuffer_get_length(a), evbuffer_get_length(b));
	assert_memory_equal(evbuffer_pullup(a, -1), evbuffer_pullup(b, -1),
	    evbuffer_get_length(b));
	/* More than the queue holds, or over the bound: refused, untouched. */
	assert_int_equal(frame_put_move(a, FR_DATA, 3, q, sizeof(p)), -1);
	assert_int_equal(frame_put_move(a, FR_DATA, 3, q, FRAME_MAX - 1), -1);
	assert_int_equal(evbuffer_get_length(q), sizeof(p) - 70000);
	/* The reader: the header only, then the payload moved on. */
	assert_int_equal(frame_put(a, FR_PING, NULL, 0), 0);
	assert_int_equal(frame_take_head(a, &type, &len), 1);
	assert_int_equal(type, FR_DATA);
	assert_int_equal(len, sizeof(got));
	assert_int_equal(evbuffer_remove_buffer(a, c, len), (int)len);
	assert_memory_equal(evbuffer_pullup(c, -1), got, sizeof(got));
	assert_int_equal(frame_take(a, &type, buf, &len), 1);
	assert_int_equal(type, FR_PING);
	assert_int_equal(evbuffer_get_length(a), 0);
	evbuffer_free(q);
	evbuffer_free(a);
	evbuffer_free(b);
	evbuffer_free(c);
}

/* A frame header claiming ${n} bytes of type ${t} must be refused at once. */
static void
expect_refused(uint32_t n, uint8_t t)
{
	struct evbuffer *e = evbuffer_new();
	uint8_t h[5] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16),
	    (uint8_t)(n >> 8), (uint8_t)n, t };
	size_t len;
	int type;

	evbuffer_add(e, h, sizeof(h));
	assert_int_equal(frame_take(e, &type, buf, &len), -1);
	assert_int_equal(pp_errcode(), PP_EINVAL);
	evbuffer_free(e);
}

static void
bad_frames_refused(void **state)
{

	(void)state;
	expect_refused(FRAME_MAX + 1, FR_DATA);	/* over the bound */
	expect_refused(0xffffffffu, FR_DATA);
	expect_refused(0, FR_DATA);		/* no type */
	expect_refused(10, 0);			/* type 0 */
	expect_refused(10, FR_NTYPES);		/* unknown type */
	/* The largest frame goes through. */
	{
		struct evbuffer *e = evbuffer_new();
		size_t len;
		int type;

		memset(buf, 7, FRAME_MAX - 1);
		assert_int_equal(frame_put(e, FR_DATA, buf, FRAME_MAX - 1), 0);
		assert_int_equal(frame_put(e, FR_DATA, buf, FRAME_MAX), -1);
		assert_int_equal(frame_take(e, &type, buf, &len), 1);
		assert_int_equal(len, FRAME_MAX - 1);
		evbuffer_free(e);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip_split_anywhere),
		cmocka_unit_test(move_is_put),
		cmocka_unit_test(bad_frames_refused),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
