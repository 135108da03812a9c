/*
 * fuzz_frames.c: libFuzzer harness for the peer protocol as the partner
 * speaks it: the frame reader (frame_take) and what the daemon does with
 * each frame (repl_frame_out on its out link, repl_frame_in on its in link),
 * on the daemon of fuzz_daemon.h.  The input:
 *
 *   byte 0    flags: FUZZ_D_* of fuzz_daemon.h (master, fenced, replica),
 *             and 0x80: the stream arrives on the out link (else the in
 *             link); the link it arrives on is up, the other if 0x02/0x04
 *   byte 1    chunk: the stream is fed in pieces of this many bytes (0: at
 *             once), each followed by taking every whole frame, as the
 *             link's read callback does
 *   byte 2-3  n (big-endian): if not 0, the exporter waits for the answer
 *             (HAVER) to a question about n chunks
 *   the rest  the byte stream of the link (frames, docs/protocol.md)
 *
 * Properties: frame_take cuts the stream into the same frames fed in pieces
 * as whole, each frame is the bytes frame_put writes for it; once it refuses
 * (-1) the link closes; after the links go down no package stays open, no
 * descriptor leaks, and everything the daemon sent back was valid frames.
 * Every HANDOVERR payload is read by handover_answer_parse as its rules
 * say: a malformed answer never yields journal heads to fail over on; and
 * every VERIFYR payload by verify_answer_check (in both rounds), so that a
 * malformed answer is never taken for a difference to repair.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "err.h"
#include "frame.h"
#include "fuzz_daemon.h"
#include "fuzz_keys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAMES_MAX	4096	/* frames remembered from one input */
#define ON_OUT		0x80

struct fr {
	size_t off, len;	/* of the payload in the input stream */
	int type;
};

static struct daemon *d;
static uint8_t have_bits[4 + (D_HAVE_MAX + 7) / 8];
static uint8_t pbuf[FRAME_MAX];
static struct fr frames[FRAMES_MAX];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{

	(void)argc;
	(void)argv;
	d = fuzz_daemon_new();
	return (0);
}

/*
 * Cut ${s} (${n} bytes) with frame_take at once into frames[]; check each
 * against frame_put.  Returns the count; ${bad} set if the reader refused.
 */
static size_t
cut_whole(const uint8_t *s, size_t n, int *bad)
{
	struct evbuffer *in = evbuffer_new(), *re = evbuffer_new();
	size_t nf = 0, off = 0, len;
	int type, r;

	if (in == NULL || re == NULL || evbuffer_add(in, s, n) != 0)
		fuzz_fail("out of memory");
	while (nf < FRAMES_MAX &&
	    (r = frame_take(in, &type, pbuf, &len)) == 1) {
		if (frame_put(re, type, pbuf, len) != 0 ||
		    evbuffer_get_length(re) != 5 + len ||
		    memcmp(evbuffer_pullup(re, -1), s + off, 5 + len) != 0)
			fuzz_fail("frame_put does not give back the frame read");
		evbuffer_drain(re, 5 + len);
		frames[nf].type = type;
		frames[nf].off = off + 5;
		frames[nf].len = len;
		nf++;
		off += 5 + len;
	}
	*bad = nf < FRAMES_MAX && r < 0;
	if (r == 0 && off + evbuffer_get_length(in) != n)
		fuzz_fail("frame_take lost bytes");
	evbuffer_free(in);
	evbuffer_free(re);
	return (nf);
}

/* Is ${x} a journal head: an integer, not negative? */
static int
is_lsn(json_t *x)
{

	return (json_is_integer(x) && json_integer_value(x) >= 0);
}

/*
 * handover_answer_parse against its rules: 0 only for an object without
 * "error" whose "home" is the partner's and whose "lsn" is two heads (and
 * those, into lsn); 1 for a string "error"; -1, with a reason, for all else
 * (a malformed answer must never start a failover).
 */
static void
check_handoverr(const uint8_t *p, size_t len)
{
	json_t *j = json_loadb((const char *)p, len, 0, NULL), *e, *a = NULL;
	const char *h;
	int64_t lsn[2] = { -1, -1 };
	char why[256] = "";
	int want = -1, r;

	if (json_is_object(j)) {
		e = json_object_get(j, "error");
		a = json_object_get(j, "lsn");
		h = json_string_value(json_object_get(j, "home"));
		if (e != NULL)
			want = json_is_string(e) ? 1 : -1;
		else if (h != NULL && strcmp(h, d->cfg.partner) == 0 &&
		    json_is_array(a) && json_array_size(a) == 2 &&
		    is_lsn(json_array_get(a, 0)) &&
		    is_lsn(json_array_get(a, 1)))
			want = 0;
	}
	r = handover_answer_parse(p, len, d->cfg.partner, lsn, why,
	    sizeof(why));
	if (r != want)
		fuzz_fail("handover_answer_parse disagrees with its rules");
	if (r == 0 && (lsn[0] != json_integer_value(json_array_get(a, 0)) ||
	    lsn[1] != json_integer_value(json_array_get(a, 1))))
		fuzz_fail("handover_answer_parse gives other heads");
	if (r < 0 && why[0] == '\0')
		fuzz_fail("handover_answer_parse refuses without a reason");
	json_decref(j);
}

/* Is ${x} a digest string: 64 lowercase hex digits? */
static int
is_hex64(const json_t *x)
{
	const char *s = json_string_value(x);
	size_t i;

	if (s == NULL || strlen(s) != 64)
		return (0);
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return (0);
	return (1);
}

/*
 * verify_answer_check against its rules, for module userdata in either
 * round: an object about "userdata"; a string "error" (1); else 256
 * digests (round 1) or an object of at most 4,000 keys with digests
 * (round 2) (0); anything else -1, with a reason (a malformed answer must
 * never be taken for a difference, and so never trigger a repair).
 */
static void
check_verifyr(const uint8_t *p, size_t len)
{
	json_t *j = json_loadb((const char *)p, len, 0, NULL), *e, *a, *x;
	const char *mod, *k;
	char why[256];
	int round2, want, ok;
	size_t i;

	if (j == NULL)
		return;		/* verify_frame_out stops the verify first */
	for (round2 = 0; round2 < 2; round2++) {
		want = -1;
		mod = json_string_value(json_object_get(j, "module"));
		if (json_is_object(j) && mod != NULL &&
		    strcmp(mod, "userdata") == 0) {
			e = json_object_get(j, "error");
			if (e != NULL)
				want = json_is_string(e) ? 1 : -1;
			else if (!round2) {
				a = json_object_get(j, "digests");
				ok = json_is_array(a) &&
				    json_array_size(a) == 256;
				for (i = 0; ok && i < 256; i++)
					ok = is_hex64(json_array_get(a, i));
				want = ok ? 0 : -1;
			} else {
				a = json_object_get(j, "keys");
				ok = json_is_object(a) &&
				    json_object_size(a) <= 4000;
				if (ok)
					json_object_foreach(a, k, x)
						ok = ok && is_hex64(x);
				want = ok ? 0 : -1;
			}
		}
		why[0] = '\0';
		if (verify_answer_check(j, STORE_MOD_USERDATA, round2, why,
		    sizeof(why)) != want)
			fuzz_fail("verify_answer_check disagrees with its "
			    "rules");
		if (want < 0 && why[0] == '\0')
			fuzz_fail("verify_answer_check refuses without a "
			    "reason");
	}
	json_decref(j);
}

/* The link the stream arrives on, or NULL once the daemon closed it. */
static struct link *
rx_link(int on_out)
{

	if (on_out)
		return (d->out.bev != NULL && d->out.authed ? &d->out : NULL);
	return (d->in != NULL && d->in->bev != NULL && d->in->authed ? d->in :
	    NULL);
}

/*
 * A DATA frame as link_read_cb hands it over: in the link's input, which
 * repl_data_in must leave without a byte of it unless the link closed.
 */
static void
data_in(struct link *l, size_t len)
{
	struct evbuffer *in;

	if ((in = evbuffer_new()) == NULL || evbuffer_add(in, pbuf, len) != 0)
		fuzz_fail("out of memory");
	repl_data_in(d, l, in, len);
	if (evbuffer_get_length(in) != 0 && rx_link(0) == l)
		fuzz_fail("repl_data_in left a DATA frame's bytes behind");
	evbuffer_free(in);
}

/* Hand frame ${i} to the daemon as link_read_cb does. */
static void
dispatch(int on_out, struct link *l, int type, size_t len)
{

	l->last_rx_ms = d_now_ms();
	if (type == FR_PING)
		link_send(l, FR_PONG, NULL, 0);
	else if (type == FR_PONG)
		return;
	else if (on_out)
		repl_frame_out(d, type, pbuf, len);
	else if (type == FR_DATA)
		data_in(l, len);
	else
		repl_frame_in(d, l, type, pbuf, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *in;
	struct link *l;
	const uint8_t *s;
	size_t n, nf, i = 0, pos = 0, piece, len, haven;
	int on_out, bad, type, r = 0;
	unsigned flags;

	/* Under a pipe's capacity: see fuzz_daemon_settle. */
	if (size < 4 || size > 65536)
		return (0);
	flags = data[0] & (FUZZ_D_MASTER | FUZZ_D_OUT_UP | FUZZ_D_IN_UP |
	    FUZZ_D_FENCED | FUZZ_D_REPLICA);
	on_out = (data[0] & ON_OUT) != 0;
	flags |= on_out ? FUZZ_D_OUT_UP : FUZZ_D_IN_UP;
	piece = data[1];
	haven = (size_t)data[2] << 8 | data[3];
	s = data + 4;
	n = size - 4;
	nf = cut_whole(s, n, &bad);
	for (i = 0; i < nf; i++)
		if (frames[i].type == FR_HANDOVERR)
			check_handoverr(s + frames[i].off, frames[i].len);
		else if (frames[i].type == FR_VERIFYR)
			check_verifyr(s + frames[i].off, frames[i].len);
	i = 0;

	fuzz_daemon_begin(d, flags);
	if (haven > 0) {
		d->have_state = HAVE_WAITING;
		d->have_n = haven;
		d->have_bits = have_bits;
	}
	if ((in = evbuffer_new()) == NULL)
		fuzz_fail("out of memory");
	while (pos < n && (l = rx_link(on_out)) != NULL) {
		len = piece == 0 || n - pos < piece ? n - pos : piece;
		evbuffer_add(in, s + pos, len);
		pos += len;
		while ((l = rx_link(on_out)) != NULL &&
		    (r = frame_take(in, &type, pbuf, &len)) == 1) {
			/* Cut the same as the whole stream. */
			if (i >= nf || frames[i].type != type ||
			    frames[i].len != len ||
			    memcmp(s + frames[i].off, pbuf, len) != 0)
				fuzz_fail("frame_take cuts differently in "
				    "pieces");
			i++;
			dispatch(on_out, l, type, len);
			fuzz_daemon_settle(d);
		}
		if (r < 0) {
			if (!bad || i != nf)
				fuzz_fail("frame_take refuses in pieces, not "
				    "whole");
			link_close(l, pp_errmsg());
			break;
		}
	}
	evbuffer_free(in);
	fuzz_daemon_end(d);
	return (0);
}
