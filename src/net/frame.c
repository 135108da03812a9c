/*
 * frame.c: peer protocol framing (see frame.h).
 */
#include <string.h>

#include "err.h"
#include "frame.h"

static const char *const names[FR_NTYPES] = { "?", "hello", "data", "end",
	"abort", "ack", "nack", "haveq", "haver", "ping", "pong", "verifyq",
	"verifyr", "handoverq", "handoverr" };

const char *
frame_name(int t)
{

	return (t > 0 && t < FR_NTYPES ? names[t] : "?");
}

static void
head_put(uint8_t h[5], int type, size_t len)
{
	uint32_t n = (uint32_t)len + 1;

	h[0] = (uint8_t)(n >> 24);
	h[1] = (uint8_t)(n >> 16);
	h[2] = (uint8_t)(n >> 8);
	h[3] = (uint8_t)n;
	h[4] = (uint8_t)type;
}

int
frame_put(struct evbuffer *out, int type, const void *p, size_t len)
{
	uint8_t h[5];

	if (len + 1 > FRAME_MAX) {
		pp_err(PP_EINTERNAL, "frame of %zu bytes", len);
		return (-1);
	}
	head_put(h, type, len);
	if (evbuffer_add(out, h, sizeof(h)) != 0 ||
	    (len > 0 && evbuffer_add(out, p, len) != 0)) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	return (0);
}

int
frame_put_move(struct evbuffer *out, int type, uint8_t first,
    struct evbuffer *src, size_t len)
{
	uint8_t h[6];

	if (len + 2 > FRAME_MAX || evbuffer_get_length(src) < len) {
		pp_err(PP_EINTERNAL, "frame of %zu bytes", len + 1);
		return (-1);
	}
	head_put(h, type, len + 1);
	h[5] = first;
	if (evbuffer_add(out, h, sizeof(h)) != 0 ||
	    evbuffer_remove_buffer(src, out, len) != (int)len) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	return (0);
}

int
frame_take_head(struct evbuffer *in, int *type, size_t *len)
{
	uint8_t h[5];
	uint32_t n;

	if (evbuffer_get_length(in) < sizeof(h))
		return (0);
	evbuffer_copyout(in, h, sizeof(h));
	n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 |
	    h[3];
	/* Bounded before anything else is read or allocated. */
	if (n == 0 || n > FRAME_MAX || h[4] == 0 || h[4] >= FR_NTYPES) {
		pp_err(PP_EINVAL, "bad frame (length %u, type %u)", n, h[4]);
		return (-1);
	}
	if (evbuffer_get_length(in) < 4 + (size_t)n)
		return (0);
	evbuffer_drain(in, sizeof(h));
	*type = h[4];
	*len = n - 1;
	return (1);
}

int
frame_take(struct evbuffer *in, int *type, uint8_t *buf, size_t *len)
{
	int r;

	if ((r = frame_take_head(in, type, len)) == 1 && *len > 0)
		evbuffer_remove(in, buf, *len);
	return (r);
}
