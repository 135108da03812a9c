/*
 * chunker.c: FastCDC content-defined chunking (see chunker.h).
 *
 * Xia et al., "FastCDC: a Fast and Efficient Content-Defined Chunking
 * Approach for Data Deduplication" (USENIX ATC 2016): a gear rolling hash,
 * hashing skipped below the minimum size, and normalized chunking (a stricter
 * mask before the average size, a looser one after it) so sizes cluster near
 * the average.
 */
#include <stddef.h>
#include <stdint.h>

#include "chunker.h"

static uint64_t gear[256];
static struct chunker_params defparams;
const struct chunker_params *const chunker_default = &defparams;

/* splitmix64: a fixed, portable generator for the gear table. */
static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* A mask of ${bits} one bits spread evenly over bits 63 down to 16. */
static uint64_t
spread_mask(unsigned bits)
{
	uint64_t m = 0;
	unsigned i, step = 48 / bits;

	for (i = 0; i < bits; i++)
		m |= 1ULL << (63 - i * step);
	return (m);
}

int
chunker_params_init(struct chunker_params *p, size_t avg)
{
	unsigned bits = 0;

	if (avg < 1024 || avg > (1 << 20) || (avg & (avg - 1)) != 0)
		return (-1);
	while ((1UL << bits) < avg)
		bits++;
	p->min = avg / 4;
	p->avg = avg;
	p->max = avg * 4;
	/* Normalization level 2: two bits harder / easier than avg. */
	p->mask_s = spread_mask(bits + 2);
	p->mask_l = spread_mask(bits - 2);
	return (0);
}

__attribute__((constructor)) static void
chunker_setup(void)
{
	uint64_t s = 0x706f6f6c70616972ULL;	/* "poolpair" */
	size_t i;

	for (i = 0; i < 256; i++)
		gear[i] = splitmix64(&s);
	(void)chunker_params_init(&defparams, CHUNKER_AVG);
}

size_t
chunker_cut(const struct chunker_params *p, const uint8_t *buf, size_t len)
{
	size_t i, limit, normal;
	uint64_t h = 0;

	if (len <= p->min)
		return (len);
	limit = len < p->max ? len : p->max;
	normal = limit < p->avg ? limit : p->avg;
	for (i = p->min; i < normal; i++) {
		h = (h << 1) + gear[buf[i]];
		if ((h & p->mask_s) == 0)
			return (i + 1);
	}
	for (; i < limit; i++) {
		h = (h << 1) + gear[buf[i]];
		if ((h & p->mask_l) == 0)
			return (i + 1);
	}
	return (limit);
}
