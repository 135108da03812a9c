/*
 * gen_corpus.c: writes the seed corpora of the fuzz harnesses.
 * gen-corpus DIR writes DIR/fuzz_pkg/ (valid packages of each module,
 * sealed to and signed with the fixed keys of fuzz_keys.h, and damaged
 * copies: truncated, a bit flipped, two frames swapped, a byte appended)
 * and DIR/fuzz_records/ (inputs in fuzz_records' format with the same
 * records).  The "frames" seeds repeat a record until it crosses the
 * writer's 64 KiB frame, so that records span frames (they stay small: the
 * frames compress); the "pad" seeds put records at a frame's end.  Records are built by bk_rec_encode from struct
 * store_rec, so the seeds start the fuzzers from what the exporter writes.
 * Packages carry a random id and ephemeral key: a rerun writes other bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "err.h"
#include "fuzz_keys.h"
#include "pkg.h"
#include "util.h"

#define GEN_MAX		(64 * 1024)	/* largest seed */
#define GEN_RECS	16		/* records in one seed */
#define GEN_CHUNK	1536		/* bytes in a seed chunk */

/* One seed's records: type, payload (chunks: plaintext), repeats. */
struct gen_set {
	int module;
	size_t n;
	int type[GEN_RECS];
	int rep[GEN_RECS];	/* written 1 + rep times (at most 255) */
	struct pkg_buf b[GEN_RECS];
};

static struct fuzz_keys keys;
static const char *outdir;

/* Write ${len} bytes of ${p} to ${outdir}/${sub}/${name}. */
static int
put_file(const char *sub, const char *name, const uint8_t *p, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    (len > 0 && fwrite(p, 1, len, f) != len) || fclose(f) != 0) {
		perror(path);
		return (-1);
	}
	return (0);
}

/* Add store record ${r} to ${s}. */
static void
add_rec(struct gen_set *s, const struct store_rec *r)
{

	if (bk_rec_encode(r, &s->b[s->n], &s->type[s->n]) != 0) {
		fprintf(stderr, "gen-corpus: %s\n", pp_errmsg());
		exit(1);
	}
	s->n++;
}

/* Add a chunk of ${len} bytes: text if ${text}, else pseudo-random. */
static void
add_chunk(struct gen_set *s, size_t len, int text, uint32_t seed)
{
	static const char words[] = "slide 12: quarterly figures, Lisbon ";
	struct pkg_buf *b = &s->b[s->n];
	size_t i;
	uint8_t c;

	pkg_buf_reset(b);
	for (i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		c = text ? (uint8_t)words[i % (sizeof(words) - 1)] :
		    (uint8_t)seed;
		pkg_put_u8(b, c);
	}
	s->type[s->n++] = PKG_R_CHUNK;
}

static void
set_userdata(struct gen_set *s)
{
	struct store_rec r;

	memset(s, 0, sizeof(*s));
	s->module = STORE_MOD_USERDATA;
	memset(&r, 0, sizeof(r));
	r.ent = STORE_E_USER;
	strcpy(r.user.uri, "sip:alice@contoso.test");
	strcpy(r.user.name, "Alice Smith");
	r.user.created_ms = 1700000000000;
	r.user.updated_ms = 1700000001000;
	add_rec(s, &r);
	strcpy(r.user.uri, "sip:bob@contoso.test");
	strcpy(r.user.name, "Bob");
	add_rec(s, &r);
	r.ent = STORE_E_SETTING;
	strcpy(r.setting.key, "presence.note");
	strcpy(r.setting.value, "In Lisbon");
	add_rec(s, &r);
	r.del = 1;
	add_rec(s, &r);
	r.del = 0;
	r.ent = STORE_E_GROUP;
	strcpy(r.contact.owner, "sip:alice@contoso.test");
	strcpy(r.group.name, "Team");
	add_rec(s, &r);
	r.ent = STORE_E_CONTACT;
	strcpy(r.contact.uri, "sip:bob@contoso.test");
	strcpy(r.contact.name, "Bob B.");
	r.contact.rel = (enum store_rel)2;
	r.contact.ngroups = 2;
	strcpy(r.contact.groups[0], "Team");
	strcpy(r.contact.groups[1], "Friends");
	add_rec(s, &r);
	r.del = 1;
	add_rec(s, &r);
	r.del = 0;
	r.ent = STORE_E_CONF;
	strcpy(r.conf.id, "0123456789abcdef0123456789abcdef");
	strcpy(r.conf.organizer, "sip:alice@contoso.test");
	strcpy(r.conf.subject, "Q3 review");
	r.conf.start = 1700003600;
	r.conf.end = 1700007200;
	r.conf.access = (enum store_access)1;
	r.conf.created_ms = 1700000000000;
	r.conf.updated_ms = 1700000002000;
	add_rec(s, &r);
	r.del = 1;
	add_rec(s, &r);
	r.ent = STORE_E_USER;
	strcpy(r.user.uri, "sip:carol@contoso.test");
	add_rec(s, &r);
}

static void
set_confcontent(struct gen_set *s)
{
	struct store_rec r;
	uint8_t ids[2 * CRYPTO_HASH_LEN];

	memset(s, 0, sizeof(*s));
	s->module = STORE_MOD_CONFCONTENT;
	add_chunk(s, GEN_CHUNK, 1, 1);
	add_chunk(s, GEN_CHUNK / 2, 0, 7);
	if (crypto_sha256(s->b[0].p, s->b[0].len, ids) != 0 ||
	    crypto_sha256(s->b[1].p, s->b[1].len, ids + CRYPTO_HASH_LEN) != 0)
		exit(1);
	memset(&r, 0, sizeof(r));
	r.ent = STORE_E_CONTENT;
	strcpy(r.content.conf, "0123456789abcdef0123456789abcdef");
	strcpy(r.content.name, "deck.pptx");
	r.content.kind = (enum store_kind)0;
	strcpy(r.content.mime, "application/vnd.ms-powerpoint");
	r.content.size = (int64_t)(s->b[0].len + s->b[1].len);
	memset(r.content.sha256, 0xab, CRYPTO_HASH_LEN);
	r.content.created_ms = 1700000000000;
	r.content.updated_ms = 1700000000000;
	r.content.nchunks = 2;
	r.ids = ids;
	add_rec(s, &r);
	r.del = 1;
	strcpy(r.content.name, "old.pdf");
	add_rec(s, &r);
}

/*
 * A content-edit of a 40-chunk item: chunks 0-19 kept, chunk 20 rebuilt
 * by a delta (16 bytes rewritten in 1536), chunk 21 new, 22-39 kept.
 */
static void
set_edits(struct gen_set *s)
{
	struct bk_edit_w e;
	struct store_rec r;
	uint8_t base[GEN_CHUNK], nw[GEN_CHUNK];
	uint8_t prev[40 * CRYPTO_HASH_LEN], ids[40 * CRYPTO_HASH_LEN];
	uint32_t len = GEN_CHUNK;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->module = STORE_MOD_CONFCONTENT;
	for (i = 0; i < sizeof(base); i++)
		base[i] = (uint8_t)(i * 7 + i / 13);
	memcpy(nw, base, sizeof(nw));
	memset(nw + 700, 'E', 16);
	for (i = 0; i < sizeof(prev); i++)
		prev[i] = ids[i] = (uint8_t)(i * 31 + i / 32);
	ids[21 * CRYPTO_HASH_LEN] ^= 1;
	if (crypto_sha256(base, sizeof(base), prev + 20 * CRYPTO_HASH_LEN) !=
	    0 || crypto_sha256(nw, sizeof(nw), ids + 20 * CRYPTO_HASH_LEN) !=
	    0)
		exit(1);
	memset(&r, 0, sizeof(r));
	r.ent = STORE_E_CONTENT;
	strcpy(r.content.conf, "0123456789abcdef0123456789abcdef");
	strcpy(r.content.name, "deck.pptx");
	strcpy(r.content.mime, "application/vnd.ms-powerpoint");
	r.content.size = 40 * GEN_CHUNK;
	r.content.nchunks = 40;
	r.ids = ids;
	r.prev = prev;
	r.nprev = 40;
	if (bk_edit_begin(&e, &s->b[0], &r) != 0)
		exit(1);
	bk_edit_copy(&e, 0, 20);
	if (bk_edit_delta(&e, 20, 1, base, sizeof(base),
	    ids + 20 * CRYPTO_HASH_LEN, &len, 1, nw, sizeof(nw)) != 1)
		exit(1);
	bk_edit_new(&e, ids + 21 * CRYPTO_HASH_LEN, 1);
	bk_edit_copy(&e, 22, 18);
	if (bk_edit_end(&e) != 0)
		exit(1);
	s->type[0] = PKG_R_CONTENT_EDIT;
	s->n = 1;
}

/* Content deletions across the first frame, then a chunk and its item. */
static void
set_frames(struct gen_set *s)
{
	struct store_rec r;
	uint8_t id[CRYPTO_HASH_LEN];

	memset(s, 0, sizeof(*s));
	s->module = STORE_MOD_CONFCONTENT;
	memset(&r, 0, sizeof(r));
	r.ent = STORE_E_CONTENT;
	r.del = 1;
	strcpy(r.content.conf, "0123456789abcdef0123456789abcdef");
	memset(r.content.name, 'n', 250);
	add_rec(s, &r);
	s->rep[0] = 229;	/* 230 records of 291 bytes: 66930 */
	add_chunk(s, GEN_CHUNK, 1, 3);
	if (crypto_sha256(s->b[1].p, s->b[1].len, id) != 0)
		exit(1);
	r.del = 0;
	strcpy(r.content.name, "notes.txt");
	strcpy(r.content.mime, "text/plain");
	r.content.size = GEN_CHUNK;
	memcpy(r.content.sha256, id, CRYPTO_HASH_LEN);
	r.content.nchunks = 1;
	r.ids = id;
	add_rec(s, &r);
}

static void
set_config(struct gen_set *s)
{
	static const char doc[] = "{\"imfilter\": {\"block\": [\"*.exe\"], "
	    "\"warn\": true}}\n";
	struct store_rec r;

	memset(s, 0, sizeof(*s));
	s->module = STORE_MOD_CONFIG;
	memset(&r, 0, sizeof(r));
	r.ent = STORE_E_CONFIG;
	strcpy(r.config.name, "imfilter");
	r.config.version = 3;
	r.config.updated_ms = 1700000000000;
	r.config.size = sizeof(doc) - 1;
	r.body = (const uint8_t *)doc;
	add_rec(s, &r);
}

static void
set_free(struct gen_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		pkg_buf_free(&s->b[i]);
}

/*
 * The package of the first ${n} records of ${s} at zstd ${level} into
 * ${out} (GEN_MAX bytes); returns its length, or exits.
 */
static size_t
make_pkg(const struct gen_set *s, size_t n, int level, uint8_t *out)
{
	struct pkg_hdr h;
	struct pkg_writer *w;
	uint8_t id[CRYPTO_HASH_LEN];
	ssize_t len;
	size_t i;
	int fd, k;

	fuzz_hdr_init(&h, s->module);
	if ((fd = fuzz_memfd()) == -1 ||
	    (w = pkg_writer_new(fd, &h, keys.seal_pub, keys.sign, level)) ==
	    NULL)
		goto fail;
	for (i = 0; i < n; i++)
		for (k = 0; k <= s->rep[i]; k++)
			if (s->type[i] == PKG_R_CHUNK ?
			    crypto_sha256(s->b[i].p, s->b[i].len, id) != 0 ||
			    pkg_writer_chunk(w, id, s->b[i].p, s->b[i].len) !=
			    0 : pkg_writer_rec(w, s->type[i], s->b[i].p,
			    s->b[i].len) != 0)
				goto fail;
	if (pkg_writer_finish(w) != 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    (len = util_read_full(fd, out, GEN_MAX)) <= 0 || len == GEN_MAX)
		goto fail;
	pkg_writer_free(w);
	close(fd);
	return ((size_t)len);
fail:
	fprintf(stderr, "gen-corpus: package: %s\n", pp_errmsg());
	exit(1);
}

/* ${s} in fuzz_records' input format at level index ${li} into ${name}. */
static void
put_records(const struct gen_set *s, int li, const char *name)
{
	static uint8_t in[GEN_MAX];
	size_t i, n = 0;

	in[n++] = (uint8_t)s->module;
	in[n++] = (uint8_t)li;
	for (i = 0; i < s->n; i++) {
		if (n + 4 + s->b[i].len > sizeof(in) || s->b[i].len > 0xffff)
			exit(1);
		in[n++] = (uint8_t)(s->type[i] |
		    (s->rep[i] > 0 ? FUZZ_REC_REPEAT : 0));
		in[n++] = (uint8_t)(s->b[i].len >> 8);
		in[n++] = (uint8_t)s->b[i].len;
		if (s->rep[i] > 0)
			in[n++] = (uint8_t)s->rep[i];
		memcpy(in + n, s->b[i].p, s->b[i].len);
		n += s->b[i].len;
	}
	if (put_file("fuzz_records", name, in, n) != 0)
		exit(1);
}

/*
 * fuzz_records' seed ${name}: a pad that leaves ${left} bytes before the
 * frame's end, then the records of ${s} (the first is then cut there).
 */
static void
put_pad(const struct gen_set *s, size_t left, const char *name)
{
	static uint8_t in[GEN_MAX];
	size_t i, n = 0;

	in[n++] = (uint8_t)s->module;
	in[n++] = 2;
	in[n++] = FUZZ_REC_PAD;
	in[n++] = 0;
	in[n++] = (uint8_t)left;
	for (i = 0; i < s->n; i++) {
		if (n + 3 + s->b[i].len > sizeof(in) || s->rep[i] > 0)
			exit(1);
		in[n++] = (uint8_t)s->type[i];
		in[n++] = (uint8_t)(s->b[i].len >> 8);
		in[n++] = (uint8_t)s->b[i].len;
		memcpy(in + n, s->b[i].p, s->b[i].len);
		n += s->b[i].len;
	}
	if (put_file("fuzz_records", name, in, n) != 0)
		exit(1);
}

/* Offset of frame ${k} (0: the first after the header) of ${p}, or 0. */
static size_t
frame_at(const uint8_t *p, size_t len, size_t k)
{
	size_t off = (size_t)p[10] << 8 | p[11];

	while (off + 4 <= len) {
		if (k-- == 0)
			return (off);
		off += 4 + ((size_t)(p[off] & 0x7f) << 24 |
		    (size_t)p[off + 1] << 16 | (size_t)p[off + 2] << 8 |
		    p[off + 3]) + CRYPTO_TAG_LEN;
	}
	return (0);
}

/*
 * Damaged copies of package ${p}, named ${base}-*.pkg; those of the header
 * only if ${hdr} (headers differ little between modules).
 */
static void
put_damaged(const char *base, const uint8_t *p, size_t len, int hdr)
{
	static uint8_t d[GEN_MAX + 1];
	char name[128];
	size_t f0, f1, f2, e1;

#define PUT(suffix, l) do {						\
	snprintf(name, sizeof(name), "%s-%s.pkg", base, suffix);	\
	if (put_file("fuzz_pkg", name, d, (l)) != 0)			\
		exit(1);						\
} while (0)
	f0 = frame_at(p, len, 0);
	f1 = frame_at(p, len, 1);
	f2 = frame_at(p, len, 2);
	memcpy(d, p, len);
	if (hdr)
		PUT("truncated-header", f0 - 7);
	PUT("truncated-frame", f1 - 9);
	PUT("truncated-final", len - 1);
	d[len] = 0;
	PUT("trailing-byte", len + 1);
	d[23] ^= 0x04;		/* the header's epoch */
	if (hdr)
		PUT("flip-header", len);
	d[23] ^= 0x04;
	d[f0 + 4 + 3] ^= 0x20;	/* the first frame's ciphertext */
	PUT("flip-frame", len);
	d[f0 + 4 + 3] ^= 0x20;
	d[len - 3] ^= 0x01;	/* the final frame's tag */
	PUT("flip-final", len);
	if (f1 > f0) {
		/* Swap the first two frames (the second may be the final). */
		e1 = f2 > f1 ? f2 : len;
		memcpy(d, p, len);
		memcpy(d + f0, p + f1, e1 - f1);
		memcpy(d + f0 + (e1 - f1), p + f0, f1 - f0);
		PUT("swapped", len);
	}
#undef PUT
}

int
main(int argc, char *argv[])
{
	static uint8_t p[GEN_MAX];
	struct gen_set u, c, f, g, k, e;
	size_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: gen-corpus DIR\n");
		return (2);
	}
	outdir = argv[1];
	if (fuzz_keys_load(&keys) != 0) {
		fprintf(stderr, "gen-corpus: keys\n");
		return (1);
	}
	set_userdata(&u);
	set_confcontent(&c);
	set_frames(&f);
	set_edits(&e);
	memset(&k, 0, sizeof(k));
	k.module = STORE_MOD_CONFCONTENT;
	add_chunk(&k, 200, 1, 5);
	set_config(&g);
	len = make_pkg(&u, u.n, 3, p);
	if (put_file("fuzz_pkg", "userdata.pkg", p, len) != 0)
		return (1);
	put_damaged("userdata", p, len, 1);
	len = make_pkg(&u, u.n, 0, p);
	if (put_file("fuzz_pkg", "userdata-raw.pkg", p, len) != 0)
		return (1);
	len = make_pkg(&u, 0, 3, p);
	if (put_file("fuzz_pkg", "userdata-empty.pkg", p, len) != 0)
		return (1);
	len = make_pkg(&c, c.n, 3, p);
	if (put_file("fuzz_pkg", "confcontent.pkg", p, len) != 0)
		return (1);
	put_damaged("confcontent", p, len, 0);
	len = make_pkg(&c, c.n, 0, p);
	if (put_file("fuzz_pkg", "confcontent-raw.pkg", p, len) != 0)
		return (1);
	len = make_pkg(&f, f.n, 3, p);
	if (put_file("fuzz_pkg", "frames.pkg", p, len) != 0)
		return (1);
	put_damaged("frames", p, len, 0);
	len = make_pkg(&g, g.n, 3, p);
	if (put_file("fuzz_pkg", "config.pkg", p, len) != 0)
		return (1);
	len = make_pkg(&g, g.n, 0, p);
	if (put_file("fuzz_pkg", "config-raw.pkg", p, len) != 0)
		return (1);
	put_records(&u, 2, "userdata");
	put_records(&u, 0, "userdata-raw");
	put_records(&c, 2, "confcontent");
	put_records(&c, 0, "confcontent-raw");
	put_records(&f, 2, "frames");
	put_records(&f, 0, "frames-raw");
	put_records(&e, 2, "edits");
	put_pad(&k, 50, "pad-chunk");
	put_pad(&u, 3, "pad-userdata");
	put_records(&g, 2, "config");
	put_records(&g, 0, "config-raw");
	set_free(&u);
	set_free(&c);
	set_free(&f);
	set_free(&e);
	set_free(&k);
	set_free(&g);
	fuzz_keys_free(&keys);
	return (0);
}
