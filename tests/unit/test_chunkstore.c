/* test_chunkstore.c: sealed, deduplicated content chunks in the store. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <unistd.h>

#include <sqlite3.h>

#include "chunker.h"
#include "crypto.h"
#include "err.h"
#include "store.h"
#include "unit.h"
#include "unit_store.h"
#include "util.h"

#define DATALEN	(300 * 1024)
#define SEED	0xc0ffee01ULL

/* A store with Alice's conference (u), and DATALEN pseudo-random bytes. */
struct fx {
	struct unit_fx *u;
	char *in;		/* u->tmp/in: the bytes of data */
	char *out;		/* u->tmp/out: where content is read back */
	uint8_t *data;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->u = unit_fx_new(1);
	f->in = unit_path(f->u->tmp, "in");
	f->out = unit_path(f->u->tmp, "out");
	f->data = malloc(DATALEN);
	assert_non_null(f->data);
	unit_fill(f->data, DATALEN, SEED);
	unit_write_file(f->in, f->data, DATALEN);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	unit_fx_free(f->u);
	free(f->data);
	free(f->in);
	free(f->out);
	free(f);
	return (0);
}

/* Put file ${path} as item ${name}; returns store_content_put's result. */
static int
put_file(struct fx *f, const char *path, const char *name,
    struct store_content *out)
{

	return (unit_put(f->u->st, f->u->conf, name, "application/octet-stream",
	    path, out));
}

/* Get item ${name} into f->out; returns store_content_get's result. */
static int
get_file(struct fx *f, const char *name, struct store_content *out)
{
	int fd = open(f->out, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc;

	assert_true(fd >= 0);
	rc = store_content_get(f->u->st, f->u->conf, name, fd, out);
	close(fd);
	return (rc);
}

/* Assert that item ${name} reads back as exactly f->data. */
static void
expect_readback(struct fx *f, const char *name)
{
	uint8_t *got;
	size_t len;

	if (get_file(f, name, NULL) != 0)
		fail_msg("get %s: %s", name, pp_errmsg());
	got = unit_read_file(f->out, &len);
	assert_non_null(got);
	assert_int_equal(len, DATALEN);
	assert_memory_equal(got, f->data, DATALEN);
	free(got);
}

static void
test_put_get_roundtrip(void **state)
{
	struct fx *f = *state;
	struct store_content c, g, info;
	uint8_t sum[CRYPTO_HASH_LEN];
	struct stat sb;

	memset(&c, 0, sizeof(c));
	assert_int_equal(put_file(f, f->in, "slides.bin", &c), 0);
	assert_string_equal(c.conf, f->u->conf);
	assert_string_equal(c.name, "slides.bin");
	assert_int_equal(c.kind, STORE_KIND_HANDOUT);
	assert_int_equal(c.size, DATALEN);
	assert_true(c.nchunks >= DATALEN / CHUNKER_MAX);
	assert_true(c.nchunks <= DATALEN / CHUNKER_MIN + 1);
	assert_int_equal(c.nnew, c.nchunks);
	assert_int_equal(crypto_sha256(f->data, DATALEN, sum), 0);
	assert_memory_equal(c.sha256, sum, sizeof(sum));

	memset(&g, 0, sizeof(g));
	expect_readback(f, "slides.bin");
	assert_int_equal(get_file(f, "slides.bin", &g), 0);
	assert_int_equal(g.size, DATALEN);
	assert_int_equal(g.nchunks, c.nchunks);
	assert_memory_equal(g.sha256, sum, sizeof(sum));
	assert_int_equal(store_content_info(f->u->st, f->u->conf, "slides.bin",
	    &info), 0);
	assert_string_equal(info.mime, "application/octet-stream");
	assert_int_equal(info.size, DATALEN);

	/* An empty file is an empty item, of no chunks. */
	unit_write_file(f->in, "", 0);
	assert_int_equal(put_file(f, f->in, "empty.txt", &c), 0);
	assert_int_equal(c.size, 0);
	assert_int_equal(c.nchunks, 0);
	assert_int_equal(get_file(f, "empty.txt", NULL), 0);
	assert_int_equal(stat(f->out, &sb), 0);
	assert_int_equal(sb.st_size, 0);
}

/*
 * Assert that no 64-byte run of f->data at the offsets tried is in ${path};
 * returns the file's size (0 if it does not exist).
 */
static size_t
expect_no_plaintext(struct fx *f, const char *path)
{
	static const size_t at[] = { 0, 4096, DATALEN / 2, DATALEN - 64 };
	uint8_t *file;
	size_t len, i;

	if ((file = unit_read_file(path, &len)) == NULL)
		return (0);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		if (memmem(file, len, f->data + at[i], 64) != NULL)
			fail_msg("plaintext at offset %zu is in %s", at[i],
			    path);
	free(file);
	return (len);
}

/* Check every file of the store; returns the bytes of the pack files. */
static size_t
expect_store_sealed(struct fx *f)
{
	static const char *const top[] = { "pool.db", "pool.db-wal",
		"pool.db-shm" };
	char *path, *packs = unit_path(f->u->dir, "chunks");
	struct dirent *de;
	size_t i, total = 0;
	DIR *d;

	for (i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		path = unit_path(f->u->dir, top[i]);
		expect_no_plaintext(f, path);
		free(path);
	}
	assert_non_null(d = opendir(packs));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = unit_path(packs, de->d_name);
		total += expect_no_plaintext(f, path);
		free(path);
	}
	closedir(d);
	free(packs);
	return (total);
}

static void
test_no_plaintext_on_disk(void **state)
{
	struct fx *f = *state;
	struct store_content c;
	uint8_t *file;
	size_t len;
	char *db;

	assert_int_equal(put_file(f, f->in, "secret.bin", &c), 0);
	/* While open, and after close has checkpointed the WAL. */
	assert_true(expect_store_sealed(f) >= DATALEN + c.nchunks *
	    CRYPTO_SEAL_OVERHEAD);
	store_close(f->u->st);
	f->u->st = NULL;
	assert_true(expect_store_sealed(f) >= DATALEN);
	/* The files read are the store's: the item's name is in pool.db. */
	db = unit_path(f->u->dir, "pool.db");
	file = unit_read_file(db, &len);
	assert_non_null(file);
	assert_non_null(memmem(file, len, "secret.bin", 10));
	free(file);
	free(db);
}

/* Where chunk ${nth} (in pack order) lives, and its id. */
struct loc {
	uint8_t id[CRYPTO_HASH_LEN];
	int64_t pack, off, len;
};

static void
chunk_loc(struct fx *f, int nth, struct loc *l)
{
	char *db = unit_path(f->u->dir, "pool.db");
	sqlite3_stmt *s;
	sqlite3 *h;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT id, pack, off, len"
	    " FROM chunks ORDER BY pack, off LIMIT 1 OFFSET ?", -1, &s, NULL),
	    SQLITE_OK);
	sqlite3_bind_int(s, 1, nth);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(s, 0), CRYPTO_HASH_LEN);
	memcpy(l->id, sqlite3_column_blob(s, 0), CRYPTO_HASH_LEN);
	l->pack = sqlite3_column_int64(s, 1);
	l->off = sqlite3_column_int64(s, 2);
	l->len = sqlite3_column_int64(s, 3);
	assert_true(l->len > 256);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
	free(db);
}

/* Find the plaintext chunk of f->data whose SHA-256 is ${id}. */
static void
find_plain_chunk(struct fx *f, const uint8_t id[CRYPTO_HASH_LEN],
    size_t *off, size_t *len)
{
	uint8_t sum[CRYPTO_HASH_LEN];
	size_t pos = 0, cut;

	while (pos < DATALEN) {
		cut = chunker_cut(chunker_default, f->data + pos,
		    DATALEN - pos);
		assert_int_equal(crypto_sha256(f->data + pos, cut, sum), 0);
		if (memcmp(sum, id, CRYPTO_HASH_LEN) == 0) {
			*off = pos;
			*len = cut;
			return;
		}
		pos += cut;
	}
	fail_msg("no chunk of the input has the stored id");
}

static void
test_tampered_chunk_refused(void **state)
{
	struct fx *f = *state;
	char name[64], *pack;
	size_t ptoff = 0, ptlen = 0, glen;
	uint8_t b, *got;
	struct loc l;
	int fd;

	assert_int_equal(put_file(f, f->in, "deck.bin", NULL), 0);
	expect_readback(f, "deck.bin");
	store_close(f->u->st);
	f->u->st = NULL;

	/* Flip one bit of the third chunk's ciphertext in its pack file. */
	chunk_loc(f, 2, &l);
	snprintf(name, sizeof(name), "chunks/pack-%06lld", (long long)l.pack);
	pack = unit_path(f->u->dir, name);
	assert_true((fd = open(pack, O_RDWR)) >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)(l.off + 100)), 1);
	b ^= 0x01;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)(l.off + 100)), 1);
	assert_int_equal(close(fd), 0);

	f->u->st = store_open(f->u->dir);
	if (f->u->st == NULL)
		fail_msg("store_open: %s", pp_errmsg());
	pp_err_clear();
	assert_int_equal(get_file(f, "deck.bin", NULL), -1);
	assert_int_equal(pp_errcode(), PP_ESTORE);
	if (strstr(pp_errmsg(), "authentication") == NULL)
		fail_msg("message '%s' does not mention authentication",
		    pp_errmsg());
	/* Whatever was written, the tampered chunk's plaintext is not. */
	find_plain_chunk(f, l.id, &ptoff, &ptlen);
	got = unit_read_file(f->out, &glen);
	assert_true(glen < DATALEN);
	if (got != NULL)
		assert_null(memmem(got, glen, f->data + ptoff, ptlen));
	free(got);
	free(pack);
}

/* A chunk's location pointed at another chunk's sealed bytes fails. */
static void
test_swapped_chunk_refused(void **state)
{
	struct fx *f = *state;
	char *db = unit_path(f->u->dir, "pool.db"), *sql;
	struct loc l;
	sqlite3 *h;

	assert_int_equal(put_file(f, f->in, "deck.bin", NULL), 0);
	expect_readback(f, "deck.bin");
	store_close(f->u->st);
	f->u->st = NULL;
	chunk_loc(f, 0, &l);
	assert_true(asprintf(&sql, "UPDATE chunks SET pack = %lld, off = %lld,"
	    " len = %lld WHERE id = (SELECT id FROM chunks ORDER BY pack, off"
	    " LIMIT 1 OFFSET 1)", (long long)l.pack, (long long)l.off,
	    (long long)l.len) > 0);
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_changes(h), 1);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
	f->u->st = store_open(f->u->dir);
	assert_non_null(f->u->st);
	pp_err_clear();
	assert_int_equal(get_file(f, "deck.bin", NULL), -1);
	assert_int_equal(pp_errcode(), PP_ESTORE);
	assert_non_null(strstr(pp_errmsg(), "authentication"));
	free(sql);
	free(db);
}

static void
test_dedupe_and_release(void **state)
{
	struct fx *f = *state;
	struct store_content a, b;
	struct store_stats s1, s2;

	assert_int_equal(put_file(f, f->in, "one.bin", &a), 0);
	assert_int_equal(a.nnew, a.nchunks);
	assert_int_equal(store_stats(f->u->st, &s1), 0);
	assert_int_equal(s1.chunks, (int64_t)a.nchunks);
	assert_int_equal(s1.chunk_bytes, DATALEN);

	assert_int_equal(put_file(f, f->in, "two.bin", &b), 0);
	assert_int_equal(b.nchunks, a.nchunks);
	assert_int_equal(b.nnew, 0);
	assert_int_equal(store_stats(f->u->st, &s2), 0);
	assert_int_equal(s2.chunks, s1.chunks);
	assert_int_equal(s2.chunk_bytes, s1.chunk_bytes);
	assert_int_equal(s2.content_items, 2);

	assert_int_equal(store_content_del(f->u->st, f->u->conf, "one.bin"), 0);
	expect_readback(f, "two.bin");
	assert_int_equal(store_stats(f->u->st, &s2), 0);
	assert_int_equal(s2.chunks, s1.chunks);
	pp_err_clear();
	assert_int_equal(get_file(f, "one.bin", NULL), -1);
	assert_int_equal(pp_errcode(), PP_ENOENT);

	assert_int_equal(store_content_del(f->u->st, f->u->conf, "two.bin"), 0);
	assert_int_equal(store_stats(f->u->st, &s2), 0);
	assert_int_equal(s2.chunks, 0);
	assert_int_equal(s2.chunk_bytes, 0);
	assert_int_equal(s2.content_items, 0);
}

/* Replacing an item with a slightly edited version stores few chunks. */
static void
test_replace_edited(void **state)
{
	struct fx *f = *state;
	char *ed = unit_path(f->u->tmp, "edited");
	struct store_content a, b;
	struct store_stats s;
	uint8_t *buf = malloc(DATALEN + 1);
	size_t mid = DATALEN / 2;

	assert_non_null(buf);
	memcpy(buf, f->data, mid);
	buf[mid] = 'X';
	memcpy(buf + mid + 1, f->data + mid, DATALEN - mid);
	unit_write_file(ed, buf, DATALEN + 1);
	assert_int_equal(put_file(f, f->in, "doc.bin", &a), 0);
	assert_int_equal(put_file(f, ed, "doc.bin", &b), 0);
	assert_int_equal(b.size, DATALEN + 1);
	assert_true(b.nnew >= 1 && b.nnew <= 3);
	/*
	 * Chunks only the old version used are kept (for deltas to the
	 * partner) until the journal is pruned past the put, then gone.
	 */
	assert_int_equal(store_stats(f->u->st, &s), 0);
	assert_int_equal(s.content_items, 1);
	assert_true(s.chunks > (int64_t)b.nchunks);
	assert_int_equal(store_journal_prune(f->u->st, STORE_MOD_CONFCONTENT,
	    INT64_MAX), 0);
	assert_int_equal(store_stats(f->u->st, &s), 0);
	assert_int_equal(s.chunks, (int64_t)b.nchunks);
	assert_int_equal(s.chunk_bytes, DATALEN + 1);
	assert_int_equal(get_file(f, "doc.bin", NULL), 0);
	free(buf);
	buf = unit_read_file(f->out, &mid);
	assert_int_equal(mid, DATALEN + 1);
	assert_int_equal(buf[DATALEN / 2], 'X');
	free(buf);
	free(ed);
}

/* A chunk repeated inside one item is stored once and counted per use. */
static void
test_repeated_chunks(void **state)
{
	struct fx *f = *state;
	char *zpath = unit_path(f->u->tmp, "zeros");
	const size_t len = 4 * CHUNKER_MAX + 1000;
	uint8_t *z = calloc(1, len), *got;
	struct store_content c;
	struct store_stats st;
	size_t glen;

	assert_non_null(z);
	unit_write_file(zpath, z, len);
	assert_int_equal(put_file(f, zpath, "zeros", &c), 0);
	assert_int_equal(c.nchunks, 5);
	assert_int_equal(c.nnew, 2);
	assert_int_equal(store_stats(f->u->st, &st), 0);
	assert_int_equal(st.chunks, 2);
	assert_int_equal(st.chunk_bytes, CHUNKER_MAX + 1000);
	assert_int_equal(get_file(f, "zeros", NULL), 0);
	got = unit_read_file(f->out, &glen);
	assert_int_equal(glen, len);
	assert_memory_equal(got, z, len);
	/* Putting it again under the same name keeps every chunk. */
	assert_int_equal(put_file(f, zpath, "zeros", &c), 0);
	assert_int_equal(c.nnew, 0);
	assert_int_equal(store_stats(f->u->st, &st), 0);
	assert_int_equal(st.chunks, 2);
	assert_int_equal(get_file(f, "zeros", NULL), 0);
	assert_int_equal(store_content_del(f->u->st, f->u->conf, "zeros"), 0);
	assert_int_equal(store_stats(f->u->st, &st), 0);
	assert_int_equal(st.chunks, 0);
	free(got);
	free(z);
	free(zpath);
}

/* The slow upload of test_slow_upload_pins_nothing, on a thread. */
struct slow {
	struct fx *f;
	int fd;			/* the pipe's read end */
	int rc;
	struct store_content c;
};

static void *
slow_put(void *arg)
{
	struct slow *sl = arg;

	sl->rc = store_content_put(sl->f->u->st, sl->f->u->conf, "slow.bin",
	    STORE_KIND_HANDOUT, "application/octet-stream", sl->fd, &sl->c);
	return (NULL);
}

/* Frames in the WAL and frames a PASSIVE checkpoint could copy. */
static void
wal_counts(const char *db, int *log, int *done)
{
	sqlite3 *h;
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA wal_checkpoint(PASSIVE)",
	    -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	*log = sqlite3_column_int(s, 1);
	*done = sqlite3_column_int(s, 2);
	sqlite3_finalize(s);
	sqlite3_close(h);
}

/*
 * An upload that waits for its input holds no read snapshot: its chunk
 * lookups share read transactions (store_upload.c), but never across a
 * wait, or a checkpoint could not copy what other writers commit meanwhile
 * and the WAL would grow for as long as the upload lasts.
 */
static void
test_slow_upload_pins_nothing(void **state)
{
	struct fx *f = *state;
	struct slow sl;
	size_t len = 768 << 10, first = 640 << 10;
	uint8_t *buf = malloc(len), *got;
	char *db = unit_path(f->u->dir, "pool.db");
	struct store *st2;
	pthread_t th;
	int p[2], log, done;
	size_t n;

	memset(&sl, 0, sizeof(sl));
	sl.f = f;
	sl.rc = -1;
	assert_non_null(buf);
	unit_fill(buf, len, SEED + 7);
	assert_int_equal(pipe(p), 0);
	sl.fd = p[0];
	assert_int_equal(pthread_create(&th, NULL, slow_put, &sl), 0);
	/* Two and a half of the reader's 256 KiB slots: lookups happen. */
	assert_int_equal(util_write_all(p[1], buf, first), 0);
	usleep(300 * 1000);
	/* Another writer commits while the upload waits for the rest. */
	st2 = store_open(f->u->dir);
	assert_non_null(st2);
	assert_int_equal(store_user_add(st2, "sip:carol@" UNIT_POOL, "Carol"),
	    0);
	store_close(st2);
	wal_counts(db, &log, &done);
	assert_true(log > 0);
	assert_int_equal(done, log);
	assert_int_equal(util_write_all(p[1], buf + first, len - first), 0);
	close(p[1]);
	pthread_join(th, NULL);
	close(p[0]);
	if (sl.rc != 0)
		fail_msg("slow put: %s", pp_errmsg());
	assert_int_equal(sl.c.size, (int64_t)len);
	assert_int_equal(get_file(f, "slow.bin", NULL), 0);
	got = unit_read_file(f->out, &n);
	assert_non_null(got);
	assert_int_equal(n, len);
	assert_memory_equal(got, buf, len);
	free(got);
	free(buf);
	free(db);
}

/* What a put queue reported, in order. */
struct pq_log {
	int n;
	const char *user[8];
	int rc[8];
	enum pp_err code[8];
	struct store_content c[8];
};

static struct pq_log *pq_log;

static void
pq_report(void *user, int rc, const struct store_content *c)
{
	struct pq_log *l = pq_log;

	assert_true(l->n < 8);
	l->user[l->n] = user;
	l->rc[l->n] = rc;
	l->code[l->n] = rc == 0 ? PP_OK : pp_errcode();
	if (rc == 0) {
		assert_non_null(c);
		l->c[l->n] = *c;
	} else
		assert_null(c);
	l->n++;
}

/* Hand ${path} to queue ${q} as item ${name}; store_putq_put's result. */
static int
pq_put(struct fx *f, struct store_putq *q, const char *conf,
    const char *path, const char *name)
{
	int fd = open(path, O_RDONLY), rc;

	assert_true(fd >= 0);
	rc = store_putq_put(q, conf, name, STORE_KIND_HANDOUT,
	    "application/octet-stream", fd, (void *)name);
	close(fd);
	(void)f;
	return (rc);
}

/*
 * A put queue stores each item as store_content_put would, reports them in
 * the order they were put, refuses a bad one alone, and does not stage
 * twice the chunks of an item put twice in a row (the second waits for the
 * first's commit and finds them held).
 */
static void
test_putq(void **state)
{
	struct fx *f = *state;
	struct pq_log log;
	struct store_putq *q;
	struct store_stats s1, s2;
	struct store_content c;
	int64_t lsn0[STORE_NMOD], lsn1[STORE_NMOD];
	char *other = unit_path(f->u->tmp, "other");
	uint8_t *odata = malloc(DATALEN);
	char unknown[PP_CONF_ID_LEN + 1];

	/* A conference id of the right form that names no conference. */
	memcpy(unknown, f->u->conf, sizeof(unknown));
	unknown[0] = unknown[0] == 'a' ? 'b' : 'a';
	assert_non_null(odata);
	unit_fill(odata, DATALEN, SEED + 99);
	unit_write_file(other, odata, DATALEN);
	memset(&log, 0, sizeof(log));
	pq_log = &log;
	store_written(f->u->st, lsn0);
	q = store_putq_new(f->u->st, pq_report);
	assert_non_null(q);
	assert_int_equal(pq_put(f, q, f->u->conf, f->in, "one.bin"), 0);
	assert_int_equal(pq_put(f, q, f->u->conf, f->in, "again.bin"), 0);
	/* Refused before it is handed over: reported at once, in order. */
	assert_int_equal(pq_put(f, q, unknown, f->in, "lost.bin"), -1);
	assert_int_equal(pp_errcode(), PP_ENOENT);
	assert_int_equal(log.n, 3);
	assert_int_equal(pq_put(f, q, f->u->conf, other, "other.bin"), 0);
	/* The first refusal's error, once every item is settled. */
	assert_int_equal(store_putq_finish(q), -1);
	assert_int_equal(pp_errcode(), PP_ENOENT);
	assert_int_equal(log.n, 4);
	assert_string_equal(log.user[0], "one.bin");
	assert_string_equal(log.user[1], "again.bin");
	assert_string_equal(log.user[2], "lost.bin");
	assert_string_equal(log.user[3], "other.bin");
	assert_int_equal(log.rc[0], 0);
	assert_int_equal(log.rc[1], 0);
	assert_int_equal(log.rc[2], -1);
	assert_int_equal(log.code[2], PP_ENOENT);
	assert_int_equal(log.rc[3], 0);
	assert_int_equal(log.c[0].nnew, log.c[0].nchunks);
	assert_int_equal(log.c[1].nnew, 0);
	assert_int_equal(log.c[1].nchunks, log.c[0].nchunks);
	assert_int_equal(log.c[3].nnew, log.c[3].nchunks);
	assert_int_equal(log.c[3].size, DATALEN);
	/* What the queue's own handle committed counts as this handle's. */
	store_written(f->u->st, lsn1);
	assert_int_equal(lsn1[STORE_MOD_CONFCONTENT],
	    lsn0[STORE_MOD_CONFCONTENT] + 3);

	/* Stored, whole: the second copy took no pack space of its own. */
	expect_readback(f, "one.bin");
	expect_readback(f, "again.bin");
	assert_int_equal(store_stats(f->u->st, &s1), 0);
	assert_int_equal(s1.content_items, 3);
	assert_int_equal(s1.chunk_bytes, 2 * DATALEN);
	assert_true(s1.pack_bytes < 2 * DATALEN + DATALEN / 2);
	pp_err_clear();
	assert_int_equal(store_content_info(f->u->st, f->u->conf, "lost.bin",
	    &c), -1);

	/* After a finish the queue goes on, its failure forgotten. */
	log.n = 0;
	assert_int_equal(pq_put(f, q, f->u->conf, other, "other.bin"), 0);
	assert_int_equal(store_putq_finish(q), 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.rc[0], 0);
	assert_int_equal(log.c[0].nnew, 0);
	store_putq_free(q);
	assert_int_equal(store_stats(f->u->st, &s2), 0);
	assert_int_equal(s2.content_items, 3);
	assert_int_equal(s2.chunks, s1.chunks);

	/* No queue on a handle with a batch open. */
	assert_int_equal(store_begin(f->u->st), 0);
	assert_null(store_putq_new(f->u->st, pq_report));
	store_rollback(f->u->st);
	pq_log = NULL;
	free(odata);
	free(other);
}

/*
 * An item put while the queue's committer still holds the one before is
 * refused alone when its input fails half-way; a queue freed with an item
 * committing waits for it, so that item is stored though never reported.
 */
static void
test_putq_bad_input(void **state)
{
	struct fx *f = *state;
	struct pq_log log;
	struct store_putq *q;
	struct store_content c;

	memset(&log, 0, sizeof(log));
	pq_log = &log;
	q = store_putq_new(f->u->st, pq_report);
	assert_non_null(q);
	assert_int_equal(pq_put(f, q, f->u->conf, f->in, "one.bin"), 0);
	/* A directory cannot be read: refused, nothing of it stored. */
	assert_int_equal(pq_put(f, q, f->u->conf, f->u->tmp, "dir.bin"), -1);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.rc[0], 0);
	assert_int_equal(log.rc[1], -1);
	assert_int_equal(pq_put(f, q, f->u->conf, f->in, "two.bin"), 0);
	store_putq_free(q);
	assert_int_equal(log.n, 2);
	expect_readback(f, "two.bin");
	pp_err_clear();
	assert_int_equal(store_content_info(f->u->st, f->u->conf, "dir.bin",
	    &c), -1);
	assert_int_equal(pp_errcode(), PP_ENOENT);
	pq_log = NULL;
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_put_get_roundtrip),
		T(test_putq),
		T(test_putq_bad_input),
		T(test_no_plaintext_on_disk),
		T(test_tampered_chunk_refused),
		T(test_swapped_chunk_refused),
		T(test_dedupe_and_release),
		T(test_replace_edited),
		T(test_repeated_chunks),
		T(test_slow_upload_pins_nothing),
	};
#undef T

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
