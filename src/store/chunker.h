/*
 * chunker.h: content-defined chunking (FastCDC with normalized chunking).
 *
 * A chunk boundary depends only on the bytes near it, so an edit inside a
 * large file changes only the chunks around the edit; the rest keep their
 * SHA-256 ids and are neither stored nor sent again.  The gear table and the
 * masks are fixed constants: both pools of a pair must cut identically.
 */
#ifndef PP_CHUNKER_H
#define PP_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

/* Chunk sizes of the default parameters (docs/benchmarks.md, chunk size). */
#define CHUNKER_MIN	(4 * 1024)
#define CHUNKER_AVG	(16 * 1024)
#define CHUNKER_MAX	(64 * 1024)

struct chunker_params {
	size_t min;		/* no boundary before this many bytes */
	size_t avg;		/* the normalization point */
	size_t max;		/* a boundary is forced here */
	uint64_t mask_s;	/* before avg: more bits, cuts are rarer */
	uint64_t mask_l;	/* after avg: fewer bits, cuts are likelier */
};

/* The parameters the store uses: 4 / 16 / 64 KiB. */
extern const struct chunker_params *const chunker_default;

/*
 * Fill ${p} for an average of ${avg} bytes (a power of two from 1 KiB to
 * 1 MiB), with min = avg / 4 and max = avg * 4.  Returns 0, or -1 if ${avg}
 * is not allowed.
 */
int chunker_params_init(struct chunker_params *p, size_t avg);

/*
 * Return the length of the chunk that starts at ${buf}, given ${len} bytes
 * there.  The caller passes at least ${p}->max bytes unless the input ends
 * within them; the result is then in [1, min(len, max)] (or 0 if ${len} is 0).
 */
size_t chunker_cut(const struct chunker_params *p, const uint8_t *buf,
    size_t len);

#endif
