/*
 * chunk_bench.c: bench/chunk, the measurements behind the chunk size: for
 * each average size, the chunker's speed, the spread of chunk sizes, and
 * what a one-slide edit costs (new chunk bytes after changing 4 KiB inside
 * a 20 MiB file, and after inserting 100 bytes, averaged over 8 places); plus SHA-256 and
 * AES-256-GCM speeds on 16 KiB buffers, the other two costs per chunk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chunker.h"
#include "crypto.h"

#define SIZE	(20 << 20)
#define NPOS	8

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Cut ${buf} and record each chunk's SHA-256 into ${ids}; returns count. */
static size_t
cut_all(const struct chunker_params *p, const uint8_t *buf, size_t len,
    uint8_t (*ids)[32], size_t *sizes)
{
	size_t pos = 0, n = 0, c;

	while (pos < len) {
		c = chunker_cut(p, buf + pos, len - pos);
		if (ids != NULL)
			crypto_sha256(buf + pos, c, ids[n]);
		if (sizes != NULL)
			sizes[n] = c;
		n++;
		pos += c;
	}
	return (n);
}

static int
idcmp(const void *a, const void *b)
{

	return (memcmp(a, b, 32));
}

/* Bytes of chunks of ${b} whose ids are not among ${a}'s (sorted). */
static size_t
new_bytes(uint8_t (*a)[32], size_t na, uint8_t (*b)[32], size_t *bs,
    size_t nb)
{
	size_t i, bytes = 0;

	for (i = 0; i < nb; i++)
		if (bsearch(b[i], a, na, 32, idcmp) == NULL)
			bytes += bs[i];
	return (bytes);
}

int
main(void)
{
	static const size_t avgs[] = { 4096, 8192, 16384, 32768, 65536 };
	struct chunker_params p;
	uint8_t *buf, *ed, (*ia)[32], (*ib)[32], key[32] = { 1 }, out[16448];
	size_t *sa, *sb, i, na, nb, k, nchunks = SIZE / 1024 + 2;
	unsigned long long x = 88172645463325252ULL;
	struct crypto_aead *a;
	double t;

	buf = malloc(SIZE);
	ed = malloc(SIZE + 100);
	ia = malloc(nchunks * 32);
	ib = malloc(nchunks * 32);
	sa = malloc(nchunks * sizeof(size_t));
	sb = malloc(nchunks * sizeof(size_t));
	if (!buf || !ed || !ia || !ib || !sa || !sb)
		return (1);
	for (i = 0; i < SIZE; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	printf("avg_kib,chunker_mb_s,chunks,mean_kib,edit4k_new_kib,"
	    "insert100_new_kib\n");
	for (k = 0; k < sizeof(avgs) / sizeof(avgs[0]); k++) {
		chunker_params_init(&p, avgs[k]);
		t = now_s();
		for (i = 0; i < 5; i++)
			na = cut_all(&p, buf, SIZE, NULL, NULL);
		t = (now_s() - t) / 5;
		na = cut_all(&p, buf, SIZE, ia, sa);
		qsort(ia, na, 32, idcmp);
		/* Averages over NPOS places in the file. */
		size_t e1 = 0, e2 = 0, pos, j;
		for (j = 0; j < NPOS; j++) {
			pos = SIZE / (NPOS + 1) * (j + 1) + j * 1237;
			/* One slide: 4 KiB rewritten. */
			memcpy(ed, buf, SIZE);
			for (i = 0; i < 4096; i++)
				ed[pos + i] ^= 0x5a;
			nb = cut_all(&p, ed, SIZE, ib, sb);
			e1 += new_bytes(ia, na, ib, sb, nb);
			/* 100 bytes inserted. */
			memcpy(ed, buf, pos);
			memset(ed + pos, 'x', 100);
			memcpy(ed + pos + 100, buf + pos, SIZE - pos);
			nb = cut_all(&p, ed, SIZE + 100, ib, sb);
			e2 += new_bytes(ia, na, ib, sb, nb);
		}
		e1 /= NPOS;
		e2 /= NPOS;
		printf("%zu,%.0f,%zu,%.1f,%.1f,%.1f\n", avgs[k] / 1024,
		    SIZE / 1e6 / t, na, SIZE / 1024.0 / na, e1 / 1024.0,
		    e2 / 1024.0);
	}
	t = now_s();
	for (i = 0; i + 16384 <= SIZE; i += 16384)
		crypto_sha256(buf + i, 16384, ia[0]);
	printf("sha256_16k_mb_s,%.0f\n", SIZE / 1e6 / (now_s() - t));
	a = crypto_aead_new(key);
	t = now_s();
	for (i = 0; i + 16384 <= SIZE; i += 16384)
		crypto_aead_seal(a, ia[0], 32, buf + i, 16384, out);
	printf("aes256gcm_16k_mb_s,%.0f\n", SIZE / 1e6 / (now_s() - t));
	crypto_aead_free(a);
	return (0);
}
