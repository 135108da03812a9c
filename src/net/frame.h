/*
 * frame.h: the peer protocol's frames between two poolpaird (docs/protocol.md):
 * a 4-byte big-endian length (of type and payload, at most FRAME_MAX), a
 * type byte, the payload.  Everything travels inside the mutual TLS link.
 */
#ifndef PP_FRAME_H
#define PP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#define FRAME_MAX	(1 << 20)	/* type + payload */

enum frame_type {
	FR_HELLO = 1,	/* server -> client: JSON, the replica state */
	FR_DATA,	/* client -> server: module, package bytes */
	FR_END,		/* client -> server: module: the package is whole */
	FR_ABORT,	/* client -> server: module: drop the package */
	FR_ACK,		/* server -> client: JSON {module, epoch, lsn} */
	FR_NACK,	/* server -> client: JSON {module, reason, snapshot} */
	FR_HAVEQ,	/* client -> server: module, count, ids */
	FR_HAVER,	/* server -> client: count, bitmap */
	FR_PING,	/* either way: keepalive */
	FR_PONG,
	FR_VERIFYQ,	/* client -> server: JSON */
	FR_VERIFYR,	/* server -> client: JSON */
	FR_HANDOVERQ,	/* client -> server: JSON {home, epoch}: hand over */
	FR_HANDOVERR,	/* server -> client: JSON {home, lsn[2]} or {error} */
	FR_NTYPES
};

/* Queue one frame of ${type} with ${len} bytes of ${p} on ${out}. */
int frame_put(struct evbuffer *out, int type, const void *p, size_t len);

/*
 * Queue one frame of ${type} whose payload is the byte ${first}, then the
 * next ${len} bytes of ${src}, moved out of it (its memory is handed over,
 * not copied, where it can be): a package's DATA.
 */
int frame_put_move(struct evbuffer *out, int type, uint8_t first,
    struct evbuffer *src, size_t len);

/*
 * Take the next whole frame from ${in}: returns 1 with its type in ${type}
 * and its payload in ${buf} (${len} bytes; ${buf} has FRAME_MAX bytes), 0
 * if none is whole yet, -1 for a frame over FRAME_MAX, empty or of an
 * unknown type (the connection must close).
 */
int frame_take(struct evbuffer *in, int *type, uint8_t *buf, size_t *len);

/*
 * As frame_take, but only the frame's length and type are taken: 1 once
 * the whole frame is in ${in}, whose next ${len} bytes are then its
 * payload, for the caller to take (all of it, before the next call).
 */
int frame_take_head(struct evbuffer *in, int *type, size_t *len);

/* The name of frame type ${t}. */
const char *frame_name(int t);

#endif
