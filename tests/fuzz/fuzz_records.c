/*
 * fuzz_records.c: structure-aware libFuzzer harness for the package writer
 * and reader together, and the record decoder.  The input is: module
 * (byte 0, mod 3), zstd level (byte 1, mod 4), then records, each a type
 * byte, a big-endian u16 length and that many payload bytes (fewer if the
 * input ends).  Two extensions let small inputs reach frame boundaries:
 * a type byte with FUZZ_REC_REPEAT (bit 7) set has a count byte k after
 * the length, and the record (type without that bit) is written k + 1
 * times; type byte FUZZ_REC_PAD (no payload) writes one filler record (the
 * module's first data type, zeros) that leaves the record stream (length
 * mod 64) bytes before the end of the writer's frame (exact unless a
 * compressed chunk came before): near enough for a record header (5 bytes)
 * and a chunk's head (37) to straddle the boundary.  Records of another module, and empty
 * chunks, are skipped; the rest are written (chunks by pkg_writer_chunk,
 * with their SHA-256 as id) into a package sealed to and signed with the
 * fixed keys, which is then read back.  It aborts unless the reader
 * returns exactly the records written, in order (chunks: the same
 * plaintext and id), and then 0; every data record goes through
 * bk_rec_decode, and one that decodes must encode back (bk_rec_encode) to
 * the same type and bytes; content-edits go through their parsers
 * (bk_edit_decode, bk_edit_rebuild against 64 fixed ids: every delta
 * within its payload and its base within the list; bk_delta_assemble on
 * that base's bytes).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "fuzz_keys.h"
#include "pkg.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A record as written: its payload points into the input. */
struct fz_rec {
	int type;
	const uint8_t *p;
	size_t len;
};

/* The records written so far. */
struct fz_list {
	struct fz_rec *v;
	size_t n, cap;
	size_t pos;		/* record stream bytes, as far as known */
};

#define FZ_REC_HDR	5	/* a record's type and length */
/* Record stream bytes in a frame the writer fills (one is the codec's). */
#define FZ_FRAME_DATA	(PKG_FRAME - 1)

/* The payload of filler records. */
static const uint8_t zeros[FZ_FRAME_DATA + 8];
/* The first data type of each module: the type of its filler records. */
static const int filler[3] = { PKG_R_USER, PKG_R_CONTENT, PKG_R_CONFIG };

static const int levels[4] = { 0, 1, 3, 9 };
static struct fuzz_keys keys;
static int fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{

	(void)argc;
	(void)argv;
	if (fuzz_keys_load(&keys) != 0 || (fd = fuzz_memfd()) == -1)
		fuzz_fail("set-up (keys, memfd)");
	return (0);
}

/* Write record ${type} of ${len} bytes at ${p} with ${w}, note it in ${l}. */
static void
write_rec(struct pkg_writer *w, int type, const uint8_t *p, size_t len,
    struct fz_list *l)
{
	uint8_t id[CRYPTO_HASH_LEN];
	struct fz_rec *v;

	if (type == PKG_R_CHUNK) {
		if (crypto_sha256(p, len, id) != 0 ||
		    pkg_writer_chunk(w, id, p, len) != 0)
			fuzz_fail("pkg_writer_chunk");
	} else if (pkg_writer_rec(w, type, p, len) != 0)
		fuzz_fail("pkg_writer_rec");
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		if ((v = realloc(l->v, l->cap * sizeof(*v))) == NULL)
			fuzz_fail("out of memory");
		l->v = v;
	}
	l->v[l->n].type = type;
	l->v[l->n].p = p;
	l->v[l->n].len = len;
	l->n++;
	/* A compressed chunk is shorter: pos is then only an estimate. */
	l->pos += FZ_REC_HDR + (type == PKG_R_CHUNK ? CRYPTO_HASH_LEN +
	    5 : 0) + len;
}

/* Write a filler record that leaves ${left} bytes in the current frame. */
static void
write_pad(struct pkg_writer *w, int module, size_t left, struct fz_list *l)
{
	size_t room = FZ_FRAME_DATA - l->pos % FZ_FRAME_DATA, n;

	n = (room + FZ_FRAME_DATA - left) % FZ_FRAME_DATA;
	if (n < FZ_REC_HDR)
		n += FZ_FRAME_DATA;
	write_rec(w, filler[module], zeros, n - FZ_REC_HDR, l);
}

/*
 * Write the records of the ${size} input bytes at ${data} into the package
 * of header ${h} on fd; note what was written in ${l}.
 */
static void
write_pkg(const uint8_t *data, size_t size, struct pkg_hdr *h,
    struct fz_list *l)
{
	struct pkg_writer *w;
	size_t off, len, k;
	int type;

	if (fuzz_memfd_reset(fd) != 0)
		fuzz_fail("memfd");
	if ((w = pkg_writer_new(fd, h, keys.seal_pub, keys.sign,
	    levels[data[1] % 4])) == NULL)
		fuzz_fail("pkg_writer_new");
	for (off = 2; size - off >= 3; off += len) {
		type = data[off];
		len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		k = 0;
		if (type == FUZZ_REC_PAD) {
			write_pad(w, h->module, len % 64, l);
			len = 0;
			continue;
		}
		if ((type & FUZZ_REC_REPEAT) && off < size) {
			k = data[off++];
			type &= ~FUZZ_REC_REPEAT;
		}
		if (len > size - off)
			len = size - off;
		if (pkg_rec_module(type) != h->module ||
		    (type == PKG_R_CHUNK && len == 0))
			continue;
		do
			write_rec(w, type, data + off, len, l);
		while (k-- > 0);
	}
	if (pkg_writer_finish(w) != 0)
		fuzz_fail("pkg_writer_finish");
	pkg_writer_free(w);
}

/* The ids a content-edit is applied to, and their bytes (1 KiB each). */
#define FZ_CUR		64
static const uint8_t cur[FZ_CUR * CRYPTO_HASH_LEN];
static uint8_t curbytes[FZ_CUR * 1024], rebuilt[BK_DELTA_MAX];

/*
 * bk_delta_fn: a delta's fields stay inside its payload and its base
 * inside the FZ_CUR ids; it assembles from their bytes or is refused;
 * its ids are zeroed.
 */
static int
delta_check(void *arg, const struct bk_delta *d, uint8_t *ids)
{
	const struct pkg_rec *rec = arg;
	const uint8_t *end = rec->p + rec->len;

	if (d->pre + d->suf > d->nlen || d->litlen != d->nlen - d->pre -
	    d->suf || d->nb == 0 || d->nb > BK_DELTA_CHUNKS || d->nn == 0 ||
	    d->nn > BK_DELTA_CHUNKS || d->nlen > BK_DELTA_MAX ||
	    d->lens < rec->p || d->lens + d->nn * 4 > end ||
	    d->sum < rec->p || d->sum + CRYPTO_HASH_LEN > end ||
	    d->lit < rec->p || d->lit + d->litlen > end)
		fuzz_fail("a delta parsed out of its bounds");
	if (d->start + d->nb > FZ_CUR || d->base_ids != cur + d->start *
	    CRYPTO_HASH_LEN)
		fuzz_fail("a delta's base is not inside the list it edits");
	(void)bk_delta_assemble(d, curbytes, d->nb * 1024, rebuilt);
	memset(ids, 0, d->nn * CRYPTO_HASH_LEN);
	return (0);
}

/* A content-edit rebuilds its list (against FZ_CUR ids) or is refused. */
static void
edits(const struct pkg_rec *rec)
{
	struct store_rec sr;
	struct pkg_cur c;
	uint8_t base[CRYPTO_HASH_LEN], *ids;

	if (bk_edit_decode(rec, &sr, base, &c) != 0 ||
	    sr.content.nchunks > 4096)
		return;
	if ((ids = malloc(sr.content.nchunks * CRYPTO_HASH_LEN + 1)) == NULL)
		fuzz_fail("out of memory");
	(void)bk_edit_rebuild(&c, FZ_CUR, sr.content.nchunks, ids, cur,
	    delta_check, (void *)rec);
	free(ids);
}

/* Decode data record ${rec}; if it decodes, it must encode back the same. */
static void
roundtrip(const struct pkg_rec *rec)
{
	struct store_rec sr;
	struct pkg_buf b = { NULL, 0, 0, 0 };
	int type;

	if (rec->type == PKG_R_CONTENT_EDIT) {
		edits(rec);
		return;
	}
	if (bk_rec_decode(rec, &sr) != 0)
		return;
	if (bk_rec_encode(&sr, &b, &type) != 0 || type != rec->type ||
	    b.len != rec->len || memcmp(b.p, rec->p, b.len) != 0)
		fuzz_fail("a decoded record does not encode back the same");
	pkg_buf_free(&b);
}

/* Read the package on fd back; it must hold the records of ${l}. */
static void
read_pkg(const struct pkg_hdr *h, const struct fz_list *l)
{
	const struct fz_rec *recs = l->v;
	size_t n = l->n;
	struct pkg_hdr h2;
	struct pkg_reader *r;
	struct pkg_rec rec;
	struct pkg_stats stats;
	uint8_t id[CRYPTO_HASH_LEN];
	size_t i;
	int rc;

	if (lseek(fd, 0, SEEK_SET) != 0 || pkg_header_read(fd, &h2) != 0 ||
	    h2.rawlen != h->rawlen || memcmp(h2.raw, h->raw, h->rawlen) != 0)
		fuzz_fail("the header read is not the header written");
	if ((r = pkg_reader_new(fd, &h2, keys.seal_priv, keys.verify)) == NULL)
		fuzz_fail("pkg_reader_new");
	for (i = 0; (rc = pkg_reader_next(r, &rec)) == 1; i++) {
		if (i >= n)
			fuzz_fail("more records read than written");
		if (rec.type != recs[i].type || rec.len != recs[i].len ||
		    (rec.len > 0 && memcmp(rec.p, recs[i].p, rec.len) != 0))
			fuzz_fail("a record read is not the record written");
		if (rec.type == PKG_R_CHUNK) {
			if (crypto_sha256(recs[i].p, recs[i].len, id) != 0 ||
			    rec.chunk_id == NULL ||
			    memcmp(rec.chunk_id, id, sizeof(id)) != 0)
				fuzz_fail("a chunk's id is not the id written");
		} else
			roundtrip(&rec);
	}
	if (rc != 0)
		fuzz_fail("the package written does not read to its end");
	pkg_reader_stats(r, &stats);
	if (i != n || stats.records != n)
		fuzz_fail("fewer records read than written");
	pkg_reader_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkg_hdr h;
	struct fz_list l = { NULL, 0, 0, 0 };

	if (size < 2)
		return (0);
	fuzz_hdr_init(&h, data[0] % 3);
	write_pkg(data, size, &h, &l);
	read_pkg(&h, &l);
	free(l.v);
	return (0);
}
