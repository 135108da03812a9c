/*
 * test_backup.c: packages between two real stores: the exporter and the
 * importer round trip every module (snapshots and changes), coalesce,
 * skip chunks the target holds, send an edited item as an edit of the
 * version the target holds, and every refusal the importer knows changes
 * nothing.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "backup.h"
#include "err.h"
#include "pkg.h"
#include "store.h"
#include "util.h"
#include "store_int.h"	/* imp_new_max: the spill of a large import */
#include "unit.h"
#include "unit_store.h"

#define POOL_B	"pool-b.example.test"
#define POOL_C	"pool-c.example.test"
#define CAROL	"sip:carol@" POOL_B

/* One pool's keys, as its config would give them. */
struct pool_keys {
	EVP_PKEY *id;
	uint8_t fp[CRYPTO_HASH_LEN];
	uint8_t seal[CRYPTO_X25519_LEN], seal_pub[CRYPTO_X25519_LEN];
};

struct fx {
	struct unit_fx *a;		/* pool A, with Alice, Bob, a conf */
	char *bdir;
	struct store *b;		/* pool B: A's partner */
	struct pool_keys ka, kb, kc;
	struct bk_keys a2b, b_in;	/* A exporting to B; B importing */
};

static void
keys_new(struct pool_keys *k)
{

	assert_non_null(k->id = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	assert_int_equal(crypto_random(k->fp, sizeof(k->fp)), 0);
	assert_int_equal(crypto_x25519_keygen(k->seal, k->seal_pub), 0);
}

/* ${k} as pool ${pool} of pair ${pair} with partner ${partner}. */
static void
keys_set(struct bk_keys *k, const char *pair, const char *pool,
    const struct pool_keys *me, const char *partner,
    const struct pool_keys *other)
{

	memset(k, 0, sizeof(*k));
	k->pair = pair;
	k->pool = pool;
	k->partner = partner;
	k->identity = me->id;
	memcpy(k->fingerprint, me->fp, CRYPTO_HASH_LEN);
	memcpy(k->seal_priv, me->seal, CRYPTO_X25519_LEN);
	k->partner_pub = other->id;
	memcpy(k->partner_fp, other->fp, CRYPTO_HASH_LEN);
	memcpy(k->partner_seal, other->seal_pub, CRYPTO_X25519_LEN);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->a = unit_fx_new(1);
	f->bdir = unit_path(f->a->tmp, "b");
	assert_int_equal(store_create(f->bdir, POOL_B, UNIT_POOL), 0);
	assert_non_null(f->b = store_open(f->bdir));
	assert_int_equal(store_user_add(f->b, CAROL, "Carol"), 0);
	keys_new(&f->ka);
	keys_new(&f->kb);
	keys_new(&f->kc);
	keys_set(&f->a2b, "pair1", UNIT_POOL, &f->ka, POOL_B, &f->kb);
	keys_set(&f->b_in, "pair1", POOL_B, &f->kb, UNIT_POOL, &f->ka);
	*state = f;
	return (0);
}

/* As setup, B's imports keeping only 8 staged chunks in memory. */
static int
setup_spill(void **state)
{
	struct fx *f;

	setup(state);
	f = *state;
	f->b->imp_new_max = 8;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->b);
	free(f->bdir);
	unit_fx_free(f->a);
	EVP_PKEY_free(f->ka.id);
	EVP_PKEY_free(f->kb.id);
	EVP_PKEY_free(f->kc.id);
	free(f);
	return (0);
}

/* A new memory file. */
static int
memfile(void)
{
	int fd = memfd_create("pkg", MFD_CLOEXEC);

	assert_true(fd >= 0);
	return (fd);
}

/* Export ${mod} since ${since} with ${k} from ${st}: a memory file at 0. */
static int
export_fd(struct store *st, const struct bk_keys *k, enum store_module mod,
    int64_t since, bk_have_fn *have, void *harg,
    struct bk_export_result *res)
{
	struct bk_export_opts o = { .module = mod, .since = since, .level = 3,
	    .have = have, .have_arg = harg };
	int fd = memfile();

	if (bk_export(st, k, &o, fd, res) != 0)
		fail_msg("export: %s", pp_errmsg());
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return (fd);
}

/* Import the package on ${fd} into B; its result. */
static int
import_fd(struct fx *f, int fd, struct bk_import_result *res)
{
	int rc;

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	rc = bk_import(f->b, &f->b_in, fd, res);
	return (rc);
}

/* Export ${mod} of A since ${since} and import it into B, which must take it. */
static void
ship(struct fx *f, enum store_module mod, int64_t since,
    struct bk_export_result *er, struct bk_import_result *ir)
{
	int fd = export_fd(f->a->st, &f->a2b, mod, since, NULL, NULL, er);

	if (import_fd(f, fd, ir) != 0)
		fail_msg("import: %s", pp_errmsg());
	close(fd);
}

/* The whole of a memory file. */
static uint8_t *
slurp(int fd, size_t *len)
{
	uint8_t *buf;
	off_t n = lseek(fd, 0, SEEK_END);

	assert_true(n > 0);
	assert_non_null(buf = malloc((size_t)n));
	assert_int_equal(pread(fd, buf, (size_t)n, 0), n);
	*len = (size_t)n;
	return (buf);
}

/* A memory file holding ${len} bytes of ${buf}. */
static int
memfile_of(const uint8_t *buf, size_t len)
{
	int fd = memfile();

	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	return (fd);
}

/* B's state: counts and heads, plus every replica's LSN. */
struct bsnap {
	struct unit_snap s;
	int64_t lsn[STORE_NMOD];
};

static void
bsnap(struct fx *f, struct bsnap *b)
{
	struct store_replica r;
	int m;

	unit_snap(f->b, &b->s);
	for (m = 0; m < STORE_NMOD; m++)
		b->lsn[m] = store_replica_get(f->b, UNIT_POOL,
		    (enum store_module)m, &r) == 0 ? r.lsn : -1;
	pp_err_clear();
}

/* Import ${fd} into B: refused (PP_EINVAL) with ${msg}, B unchanged. */
static void
refused(struct fx *f, int fd, const char *msg, const char *what)
{
	struct bk_import_result ir;
	struct bsnap before, after;
	int rc;

	bsnap(f, &before);
	rc = import_fd(f, fd, &ir);
	if (rc != -1)
		fail_msg("%s: accepted", what);
	if (pp_errcode() != PP_EINVAL || strstr(pp_errmsg(), msg) == NULL)
		fail_msg("%s: '%s' (class %d), expected '%s'", what,
		    pp_errmsg(), (int)pp_errcode(), msg);
	bsnap(f, &after);
	assert_memory_equal(&before, &after, sizeof(before));
}

struct cfind {
	const char *uri;
	struct store_contact *out;
	int found;
};

static int
cfind_cb(void *arg, const struct store_contact *c)
{
	struct cfind *x = arg;

	if (strcmp(c->uri, x->uri) == 0) {
		*x->out = *c;
		x->found = 1;
	}
	return (0);
}

/* ${owner}'s contact ${uri} into ${out}: 0, or -1 if there is none. */
static int
contact_get(struct store *st, const char *owner, const char *uri,
    struct store_contact *out)
{
	struct cfind x = { uri, out, 0 };

	if (store_contact_list(st, owner, cfind_cb, &x) != 0)
		return (-1);
	return (x.found ? 0 : -1);
}

static void
populate(struct store *st)
{
	const char *groups[] = { "Team", "Family" };

	assert_int_equal(store_setting_set(st, UNIT_ALICE, "lang", "en"), 0);
	assert_int_equal(store_setting_set(st, UNIT_ALICE, "tz", "UTC"), 0);
	assert_int_equal(store_contact_put(st, UNIT_ALICE, UNIT_BOB, "Bobby",
	    STORE_REL_FRIENDS, groups, 2, 0), 0);
	assert_int_equal(store_contact_put(st, UNIT_BOB, UNIT_ALICE, NULL,
	    STORE_REL_COLLEAGUE, NULL, 0, 0), 0);
	assert_int_equal(store_group_add(st, UNIT_BOB, "Empty"), 0);
}

static void
userdata_roundtrip(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct store_user ua, ub;
	struct store_conf ca, cb;
	struct store_setting s;
	struct store_contact c;

	populate(f->a->st);
	ship(f, STORE_MOD_USERDATA, -1, &er, &ir);
	assert_int_equal(er.hdr.kind, PKG_SNAPSHOT);
	assert_int_equal(ir.noop, 0);
	assert_int_equal(store_user_get(f->a->st, UNIT_ALICE, &ua), 0);
	assert_int_equal(store_user_get(f->b, UNIT_ALICE, &ub), 0);
	assert_int_equal(ub.primary, 0);
	assert_string_equal(ub.home, UNIT_POOL);
	assert_string_equal(ub.name, "Alice");
	assert_true(ua.created_ms == ub.created_ms &&
	    ua.updated_ms == ub.updated_ms);
	assert_int_equal(store_setting_get(f->b, UNIT_ALICE, "tz", &s), 0);
	assert_string_equal(s.value, "UTC");
	assert_int_equal(store_conf_get(f->a->st, f->a->conf, &ca), 0);
	assert_int_equal(store_conf_get(f->b, f->a->conf, &cb), 0);
	assert_int_equal(cb.primary, 0);
	assert_string_equal(cb.home, UNIT_POOL);
	assert_true(ca.start == cb.start && ca.end == cb.end &&
	    ca.created_ms == cb.created_ms);
	assert_int_equal(contact_get(f->b, UNIT_ALICE, UNIT_BOB, &c), 0);
	assert_string_equal(c.name, "Bobby");
	assert_int_equal(c.rel, STORE_REL_FRIENDS);
	assert_int_equal(c.ngroups, 2);
	/* The replica is read-only here; B's own user stays B's. */
	assert_int_equal(store_setting_set(f->b, UNIT_ALICE, "lang", "fr"), -1);
	assert_int_equal(pp_errcode(), PP_EROFS);
	assert_int_equal(store_user_get(f->b, CAROL, &ub), 0);
	assert_int_equal(ub.primary, 1);
}

static void
userdata_changes_coalesce(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct store_setting s;
	struct store_contact c;
	struct store_user u;
	char v[16];
	int i;

	populate(f->a->st);
	ship(f, STORE_MOD_USERDATA, -1, &er, &ir);
	/* Ten changes to one key, a deletion, a new user, a group gone. */
	for (i = 0; i < 10; i++) {
		snprintf(v, sizeof(v), "v%d", i);
		assert_int_equal(store_setting_set(f->a->st, UNIT_ALICE, "lang",
		    v), 0);
	}
	assert_int_equal(store_setting_del(f->a->st, UNIT_ALICE, "tz"), 0);
	assert_int_equal(store_group_del(f->a->st, UNIT_ALICE, "Team"), 0);
	assert_int_equal(store_user_add(f->a->st, "sip:dave@" UNIT_POOL,
	    "Dave"), 0);
	assert_int_equal(store_user_del(f->a->st, UNIT_BOB), 0);
	ship(f, STORE_MOD_USERDATA, er.hdr.upto, &er, &ir);
	assert_int_equal(er.hdr.kind, PKG_CHANGES);
	/* lang once, tz, group, dave, bob (and bob's conference: none). */
	assert_int_equal(er.stats.records, 5);
	assert_int_equal(store_setting_get(f->b, UNIT_ALICE, "lang", &s), 0);
	assert_string_equal(s.value, "v9");
	assert_int_equal(store_setting_get(f->b, UNIT_ALICE, "tz", &s), -1);
	assert_int_equal(store_user_get(f->b, "sip:dave@" UNIT_POOL, &u), 0);
	assert_int_equal(store_user_get(f->b, UNIT_BOB, &u), -1);
	assert_int_equal(contact_get(f->b, UNIT_ALICE, UNIT_BOB, &c), 0);
	assert_int_equal(c.ngroups, 1);
	assert_string_equal(c.groups[0], "Family");
	/* A snapshot of a smaller state deletes what the replica has more. */
	assert_int_equal(store_user_del(f->a->st, UNIT_ALICE), 0);
	ship(f, STORE_MOD_USERDATA, -1, &er, &ir);
	assert_int_equal(store_user_get(f->b, UNIT_ALICE, &u), -1);
	assert_int_equal(store_user_get(f->b, "sip:dave@" UNIT_POOL, &u), 0);
	assert_int_equal(store_user_get(f->b, CAROL, &u), 0);
}

/* The have callback: does B hold the chunk? */
static int
b_has(void *arg, const uint8_t id[static CRYPTO_HASH_LEN])
{

	return (store_chunk_has(arg, id));
}

/* Put ${len} bytes of ${buf} as ${name} of ${conf} on ${st}. */
static void
put_bytes(struct store *st, const char *conf, const char *name,
    const uint8_t *buf, size_t len)
{
	int fd = memfile_of(buf, len);

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	if (store_content_put(st, conf, name, STORE_KIND_PRESENTATION,
	    "application/pdf", fd, NULL) != 0)
		fail_msg("put: %s", pp_errmsg());
	close(fd);
}

/* B's copy of ${name} equals ${len} bytes of ${buf}. */
static void
b_content_is(struct fx *f, const char *name, const uint8_t *buf, size_t len)
{
	struct store_content c;
	uint8_t *got;
	size_t n;
	int fd = memfile();

	if (store_content_get(f->b, f->a->conf, name, fd, &c) != 0)
		fail_msg("get: %s", pp_errmsg());
	got = slurp(fd, &n);
	assert_int_equal(n, len);
	assert_memory_equal(got, buf, len);
	assert_int_equal(store_content_info(f->b, f->a->conf, name, &c), 0);
	assert_int_equal(c.primary, 0);
	assert_string_equal(c.home, UNIT_POOL);
	free(got);
	close(fd);
}

static void
content_roundtrip_sends_what_lacks(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct store_stats st, sa;
	size_t len = 3 << 20;
	uint8_t *buf = malloc(len);
	int fd;

	assert_non_null(buf);
	unit_fill(buf, len, 7);
	memset(buf + len / 2, 'x', 256 << 10);	/* some compressible */
	put_bytes(f->a->st, f->a->conf, "deck.pdf", buf, len);
	put_bytes(f->a->st, f->a->conf, "copy.pdf", buf, len);
	/* Content needs its conference: userdata first. */
	fd = export_fd(f->a->st, &f->a2b, STORE_MOD_CONFCONTENT, -1, NULL,
	    NULL, &er);
	refused(f, fd, "conference", "content before its conference");
	close(fd);
	ship(f, STORE_MOD_USERDATA, -1, &er, &ir);
	ship(f, STORE_MOD_CONFCONTENT, -1, &er, &ir);
	/* Two items, one set of chunks: sent once, some compressed. */
	assert_int_equal(er.stats.records, er.stats.chunks + 2);
	assert_true(er.stats.chunks_raw < er.stats.chunks);
	assert_true(er.stats.bytes < len);
	b_content_is(f, "deck.pdf", buf, len);
	b_content_is(f, "copy.pdf", buf, len);
	/* A one-slide edit: only the chunks B lacks travel. */
	memcpy(buf + 1000000, "EDITED SLIDE", 12);
	put_bytes(f->a->st, f->a->conf, "deck.pdf", buf, len);
	fd = export_fd(f->a->st, &f->a2b, STORE_MOD_CONFCONTENT,
	    er.hdr.upto, b_has, f->b, &er);
	assert_true(import_fd(f, fd, &ir) == 0);
	close(fd);
	assert_true(er.stats.chunks >= 1 && er.stats.chunks <= 3);
	assert_true(er.stats.bytes < 200000);
	b_content_is(f, "deck.pdf", buf, len);
	/* Deleted at A, deleted at B, and its unshared chunks freed. */
	assert_int_equal(store_content_del(f->a->st, f->a->conf, "deck.pdf"),
	    0);
	ship(f, STORE_MOD_CONFCONTENT, er.hdr.upto, &er, &ir);
	assert_int_equal(store_content_info(f->b, f->a->conf, "deck.pdf",
	    NULL), -1);
	assert_int_equal(store_stats(f->a->st, &sa), 0);
	assert_int_equal(store_stats(f->b, &st), 0);
	assert_int_equal(st.chunks, sa.chunks);
	assert_int_equal(st.chunk_bytes, sa.chunk_bytes);
	free(buf);
}

/*
 * The daemon's way of moving a package: written to a function (its queue
 * to the event loop), read from a function (the spool file as it grows),
 * which hand over bytes in pieces of any size.
 */
struct dribble {
	int fd;
	off_t pos;
	size_t piece;		/* bytes at most per call */
	off_t fail_at;		/* -1: never; else fail (or end) here */
	int end_instead;	/* at fail_at: 0 (the end), not -1 */
	size_t calls;
};

static int
dribble_write(void *arg, const void *buf, size_t len)
{
	struct dribble *d = arg;
	const uint8_t *p = buf;
	size_t n;

	d->calls++;
	while (len > 0) {
		if (d->fail_at >= 0 && d->pos >= d->fail_at) {
			pp_err(PP_EIO, "the sink failed");
			return (-1);
		}
		n = len < d->piece ? len : d->piece;
		assert_int_equal(pwrite(d->fd, p, n, d->pos), (ssize_t)n);
		d->pos += (off_t)n;
		p += n;
		len -= n;
	}
	return (0);
}

static ssize_t
dribble_read(void *arg, void *buf, size_t len)
{
	struct dribble *d = arg;
	ssize_t n;

	d->calls++;
	if (d->fail_at >= 0 && d->pos >= d->fail_at) {
		if (d->end_instead)
			return (0);
		pp_err(PP_EIO, "the source failed");
		return (-1);
	}
	if (len > d->piece)
		len = d->piece;
	if ((n = pread(d->fd, buf, len, d->pos)) > 0)
		d->pos += n;
	return (n);
}

static void
content_through_functions(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct bk_prestaged *ps;
	struct bsnap before, after;
	struct dribble dw = { .piece = 1000, .fail_at = -1 };
	struct util_sink sink = { .fd = -1, .write = dribble_write,
	    .arg = &dw };
	struct bk_export_opts o = { .module = STORE_MOD_CONFCONTENT,
	    .since = -1, .level = 3, .sink = &sink };
	struct dribble dr = { .piece = 7, .fail_at = -1 };
	struct util_src src = { .fd = -1, .read = dribble_read, .arg = &dr };
	struct store *b2;
	size_t len = 2 << 20, n;
	uint8_t *buf = malloc(len), *pkg;

	assert_non_null(buf);
	unit_fill(buf, len, 23);
	put_bytes(f->a->st, f->a->conf, "deck.pdf", buf, len);
	ship(f, STORE_MOD_USERDATA, -1, &er, &ir);
	/* Written through the function, a thousand bytes at a time. */
	dw.fd = memfile();
	assert_int_equal(bk_export(f->a->st, &f->a2b, &o, -1, &er), 0);
	assert_int_equal(dw.pos, (off_t)er.stats.bytes);
	assert_true(dw.calls > 16);
	pkg = slurp(dw.fd, &n);
	/* A sink that fails: the export fails. */
	dr.fd = dw.fd;
	dw.fd = memfile();
	dw.pos = 0;
	dw.fail_at = (off_t)n / 2;
	assert_int_equal(bk_export(f->a->st, &f->a2b, &o, -1, &er), -1);
	assert_non_null(strstr(pp_errmsg(), "the sink failed"));
	close(dw.fd);
	/*
	 * Read through functions: a source that fails half-way, one that
	 * ends there (a truncated package), refused; B unchanged by either.
	 */
	bsnap(f, &before);
	dr.fail_at = (off_t)n / 2;
	assert_int_equal(bk_import_src(f->b, &f->b_in, &src, &ir), -1);
	assert_non_null(strstr(pp_errmsg(), "the source failed"));
	dr.pos = 0;
	dr.end_instead = 1;
	assert_int_equal(bk_import_src(f->b, &f->b_in, &src, &ir), -1);
	assert_int_equal(pp_errcode(), PP_EINVAL);
	assert_non_null(strstr(pp_errmsg(), "truncated"));
	bsnap(f, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	/* Prestaged from a source seven bytes at a time, then imported. */
	assert_non_null(b2 = store_open(f->bdir));
	dr.pos = 0;
	dr.fail_at = -1;
	dr.calls = 0;
	assert_int_equal(bk_prestage_src(b2, &f->b_in, &src, &ps), 0);
	assert_non_null(ps);
	assert_true(dr.calls > n / 7);
	assert_int_equal(lseek(dr.fd, 0, SEEK_SET), 0);
	if (bk_import_prestaged(f->b, &f->b_in, dr.fd, ps, &ir) != 0)
		fail_msg("import: %s", pp_errmsg());
	assert_int_equal(ir.noop, 0);
	b_content_is(f, "deck.pdf", buf, len);
	/* And streamed the same way: the same package is now a no-op. */
	dr.pos = 0;
	assert_int_equal(bk_import_src(f->b, &f->b_in, &src, &ir), 0);
	assert_int_equal(ir.noop, 1);
	store_close(b2);
	close(dr.fd);
	free(pkg);
	free(buf);
}

/* Bytes of the files under B's pack directory. */
static int64_t
b_pack_bytes(struct fx *f)
{
	char *dir = unit_path(f->bdir, "chunks");
	struct dirent *e;
	struct stat sb;
	int64_t n = 0;
	DIR *d;

	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' &&
		    fstatat(dirfd(d), e->d_name, &sb, 0) == 0)
			n += sb.st_size;
	closedir(d);
	free(dir);
	return (n);
}

/*
 * A content package prestaged on another handle of B (as the daemon's
 * stager does while its importer is busy) imports with the chunks staged
 * once: the packs grow by the new chunks, not twice; chunks B held are
 * not staged; a refused or tampered package leaves nothing behind.
 */
static void
content_prestaged(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct bk_prestaged *ps;
	struct store_stats sa, sb;
	struct store *b2;
	size_t len = 3 << 20, n;
	uint8_t *buf = malloc(len), *pkg;
	int64_t before, after, upto;
	int fd, bad;

	assert_non_null(buf);
	unit_fill(buf, len, 11);
	put_bytes(f->a->st, f->a->conf, "head.pdf", buf, 1 << 20);
	ship(f, STORE_MOD_USERDATA, -1, &er, &ir);
	ship(f, STORE_MOD_CONFCONTENT, -1, &er, &ir);
	upto = er.hdr.upto;
	put_bytes(f->a->st, f->a->conf, "deck.pdf", buf, len);
	fd = export_fd(f->a->st, &f->a2b, STORE_MOD_CONFCONTENT, upto, NULL,
	    NULL, &er);
	assert_non_null(b2 = store_open(f->bdir));
	/* Tampered: no prestage, nothing left on disk. */
	before = b_pack_bytes(f);
	pkg = slurp(fd, &n);
	pkg[n / 2] ^= 1;
	bad = memfile_of(pkg, n);
	assert_int_equal(lseek(bad, 0, SEEK_SET), 0);
	assert_int_equal(bk_prestage(b2, &f->b_in, bad, &ps), -1);
	assert_null(ps);
	close(bad);
	free(pkg);
	assert_true(b_pack_bytes(f) == before);
	/* Prestaged on b2: about 2 MiB of new chunks staged, once. */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(bk_prestage(b2, &f->b_in, fd, &ps), 0);
	assert_non_null(ps);
	after = b_pack_bytes(f);
	assert_true(after - before > (int64_t)(len - (1 << 20)) * 9 / 10);
	assert_true(after - before < (int64_t)(len - (1 << 20)) * 11 / 10);
	/*
	 * Its records were kept: the import reads the header again, not the
	 * body (here damaged after the header, unnoticed).
	 */
	pkg = slurp(fd, &n);
	pkg[n / 2] ^= 1;
	bad = memfile_of(pkg, n);
	free(pkg);
	assert_int_equal(lseek(bad, 0, SEEK_SET), 0);
	assert_int_equal(bk_import_prestaged(f->b, &f->b_in, bad, ps, &ir), 0);
	close(bad);
	assert_int_equal(ir.noop, 0);
	/* The stage became the pack: nothing sealed twice. */
	assert_true(b_pack_bytes(f) - after < (1 << 16));
	b_content_is(f, "deck.pdf", buf, len);
	b_content_is(f, "head.pdf", buf, 1 << 20);
	assert_int_equal(store_stats(f->a->st, &sa), 0);
	assert_int_equal(store_stats(f->b, &sb), 0);
	assert_int_equal(sb.chunks, sa.chunks);
	assert_int_equal(sb.chunk_bytes, sa.chunk_bytes);
	/* Prestaged again, the same package is a no-op: its stage goes. */
	before = b_pack_bytes(f);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(bk_prestage(b2, &f->b_in, fd, &ps), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(bk_import_prestaged(f->b, &f->b_in, fd, ps, &ir), 0);
	assert_int_equal(ir.noop, 1);
	assert_true(b_pack_bytes(f) == before);
	close(fd);
	store_close(b2);
	free(buf);
}

/*
 * A ships head.pdf (the first MiB of ${buf}) to B, then puts all ${len} bytes
 * as deck.pdf; the package of that change is prestaged on another handle
 * of B into *${ps}.  Returns the package's fd (at its end).
 */
static int
prestaged_deck(struct fx *f, const uint8_t *buf, size_t len,
    struct bk_export_result *er, struct bk_prestaged **ps)
{
	struct bk_import_result ir;
	struct store *b2;
	int64_t upto;
	int fd;

	put_bytes(f->a->st, f->a->conf, "head.pdf", buf, 1 << 20);
	ship(f, STORE_MOD_USERDATA, -1, er, &ir);
	ship(f, STORE_MOD_CONFCONTENT, -1, er, &ir);
	upto = er->hdr.upto;
	put_bytes(f->a->st, f->a->conf, "deck.pdf", buf, len);
	fd = export_fd(f->a->st, &f->a2b, STORE_MOD_CONFCONTENT, upto, NULL,
	    NULL, er);
	assert_non_null(b2 = store_open(f->bdir));
	assert_int_equal(bk_prestage(b2, &f->b_in, fd, ps), 0);
	assert_non_null(*ps);
	store_close(b2);
	return (fd);
}

/*
 * prestaged_deck, then every content row and chunk of B removed behind
 * the store's back: the chunks the store held when the package was
 * prestaged (so they were not staged) went before its import.  Returns
 * the package's fd, at its start.
 */
static int
prestaged_deck_gone(struct fx *f, const uint8_t *buf, size_t len,
    struct bk_export_result *er, struct bk_prestaged **ps)
{
	char path[PATH_MAX];
	sqlite3 *db;
	int fd;

	fd = prestaged_deck(f, buf, len, er, ps);
	snprintf(path, sizeof(path), "%s/pool.db", f->bdir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA busy_timeout = 5000;"
	    "DELETE FROM content; DELETE FROM chunks", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return (fd);
}

/*
 * A chunk the store held when the package was prestaged (so it was not
 * staged) and that went before the import: the import from the kept
 * records cannot take it, rolls back and reads the package again, with
 * the same result.
 */
static void
content_prestaged_gone(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct bk_prestaged *ps;
	size_t len = 3 << 20;
	uint8_t *buf = malloc(len);
	int fd;

	assert_non_null(buf);
	unit_fill(buf, len, 12);
	fd = prestaged_deck_gone(f, buf, len, &er, &ps);
	assert_int_equal(bk_import_prestaged(f->b, &f->b_in, fd, ps, &ir), 0);
	assert_int_equal(ir.noop, 0);
	b_content_is(f, "deck.pdf", buf, len);
	close(fd);
	free(buf);
}

/*
 * The same, but the package's bytes past its header are gone
 * (bk_prestaged_body_gone: poolpaird freed the spool behind the stager):
 * the import does not read the package again but fails with PP_EAGAIN,
 * changing nothing; the package sent again imports whole.
 */
static void
content_prestaged_body_gone(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct store_content c;
	struct bk_prestaged *ps;
	struct store_stats s0, s1;
	size_t len = 3 << 20;
	uint8_t *buf = malloc(len);
	int fd;

	assert_non_null(buf);
	unit_fill(buf, len, 13);
	fd = prestaged_deck_gone(f, buf, len, &er, &ps);
	assert_int_equal(store_stats(f->b, &s0), 0);
	bk_prestaged_body_gone(ps);
	/* (The package is still whole here: had it been read, it would
	 * have imported.) */
	assert_int_equal(bk_import_prestaged(f->b, &f->b_in, fd, ps, &ir), -1);
	assert_int_equal(pp_errcode(), PP_EAGAIN);
	assert_non_null(strstr(pp_errmsg(), "must be sent again"));
	assert_int_equal(store_stats(f->b, &s1), 0);
	assert_int_equal(s1.content_items, s0.content_items);
	assert_int_equal(s1.chunks, s0.chunks);
	assert_int_equal(store_content_info(f->b, f->a->conf, "deck.pdf", &c),
	    -1);
	/* Sent again (spooled whole): imported from the package. */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(bk_import_prestaged(f->b, &f->b_in, fd, NULL, &ir), 0);
	assert_int_equal(ir.noop, 0);
	b_content_is(f, "deck.pdf", buf, len);
	close(fd);
	free(buf);
}

/* B's chunks, each counted live in its pack once: packs.live agrees. */
static void
b_live_agrees(struct fx *f)
{
	char path[PATH_MAX];
	sqlite3_stmt *s;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/pool.db", f->bdir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM packs p"
	    " WHERE live <> (SELECT coalesce(sum(len), 0) FROM chunks c"
	    " WHERE c.pack = p.id)", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/*
 * A package that carries a chunk twice (the exporter never sends one,
 * but the package format allows it) imports whole, the chunk stored once,
 * whether the import keeps its new chunks in memory or has spilled them.
 */
static void
content_chunk_twice(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct store_stats sa, sb;
	struct pkg_hdr h;
	struct pkg_reader *r;
	struct pkg_writer *w;
	struct pkg_rec pr;
	size_t len = 1 << 20;
	uint8_t *buf = malloc(len);
	int fd, fd2, n, nchunk = 0;

	assert_non_null(buf);
	unit_fill(buf, len, 31);
	put_bytes(f->a->st, f->a->conf, "deck.pdf", buf, len);
	ship(f, STORE_MOD_USERDATA, -1, &er, &ir);
	fd = export_fd(f->a->st, &f->a2b, STORE_MOD_CONFCONTENT, -1, NULL,
	    NULL, &er);
	/* The same package again, A's first chunk written twice. */
	assert_int_equal(pkg_header_read(fd, &h), 0);
	assert_non_null(r = pkg_reader_new(fd, &h, f->b_in.seal_priv,
	    f->b_in.partner_pub));
	fd2 = memfile();
	h.created_ms = 0;
	assert_non_null(w = pkg_writer_new(fd2, &h, f->kb.seal_pub, f->ka.id,
	    3));
	while ((n = pkg_reader_next(r, &pr)) == 1) {
		if (pr.type != PKG_R_CHUNK) {
			assert_int_equal(pkg_writer_rec(w, pr.type, pr.p,
			    pr.len), 0);
			continue;
		}
		assert_int_equal(pkg_writer_chunk(w, pr.chunk_id, pr.p,
		    pr.len), 0);
		/* The 20th: past the 8 a spilling import keeps in memory. */
		if (++nchunk == 20)
			assert_int_equal(pkg_writer_chunk(w, pr.chunk_id, pr.p,
			    pr.len), 0);
	}
	assert_int_equal(n, 0);
	assert_int_equal(pkg_writer_finish(w), 0);
	pkg_writer_free(w);
	pkg_reader_free(r);
	close(fd);
	assert_true(nchunk > 20);
	if (import_fd(f, fd2, &ir) != 0)
		fail_msg("import: %s", pp_errmsg());
	assert_int_equal(ir.stats.chunks, er.stats.chunks + 1);
	close(fd2);
	b_content_is(f, "deck.pdf", buf, len);
	b_live_agrees(f);
	assert_int_equal(store_stats(f->a->st, &sa), 0);
	assert_int_equal(store_stats(f->b, &sb), 0);
	assert_int_equal(sb.chunks, sa.chunks);
	assert_int_equal(sb.chunk_bytes, sa.chunk_bytes);
	free(buf);
}

/*
 * A chunk the store did not hold when the package was prestaged but holds
 * by the import (B stored the same bytes meanwhile): the import takes the
 * chunk B holds, the staged copy is dead bytes, and each chunk is counted
 * once, its references those of both items.
 */
static void
content_prestaged_held_since(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct bk_prestaged *ps;
	struct store_stats sa, sb;
	struct store_conf c;
	size_t len = 3 << 20;
	uint8_t *buf = malloc(len);
	int fd;

	assert_non_null(buf);
	unit_fill(buf, len, 13);
	fd = prestaged_deck(f, buf, len, &er, &ps);
	/* Carol, at B, puts the same bytes in a conference of hers. */
	memset(&c, 0, sizeof(c));
	snprintf(c.organizer, sizeof(c.organizer), "%s", CAROL);
	snprintf(c.subject, sizeof(c.subject), "Hers");
	c.start = UNIT_START;
	c.end = c.start + 60;
	assert_int_equal(store_conf_create(f->b, &c), 0);
	put_bytes(f->b, c.id, "mine.pdf", buf, len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(bk_import_prestaged(f->b, &f->b_in, fd, ps, &ir), 0);
	assert_int_equal(ir.noop, 0);
	close(fd);
	b_content_is(f, "deck.pdf", buf, len);
	assert_int_equal(store_stats(f->a->st, &sa), 0);
	assert_int_equal(store_stats(f->b, &sb), 0);
	assert_int_equal(sb.chunks, sa.chunks);
	assert_int_equal(sb.chunk_bytes, sa.chunk_bytes);
	b_live_agrees(f);
	/* Carol's copy goes; the replica's keeps every chunk it needs. */
	assert_int_equal(store_content_del(f->b, c.id, "mine.pdf"), 0);
	b_content_is(f, "deck.pdf", buf, len);
	b_content_is(f, "head.pdf", buf, 1 << 20);
	assert_int_equal(store_stats(f->b, &sb), 0);
	assert_int_equal(sb.chunks, sa.chunks);
	b_live_agrees(f);
	/* And when the replica's go too, no chunk is left behind. */
	assert_int_equal(store_content_del(f->a->st, f->a->conf, "deck.pdf"),
	    0);
	assert_int_equal(store_content_del(f->a->st, f->a->conf, "head.pdf"),
	    0);
	ship(f, STORE_MOD_CONFCONTENT, er.hdr.upto, &er, &ir);
	assert_int_equal(store_stats(f->b, &sb), 0);
	assert_int_equal(sb.chunks, 0);
	b_live_agrees(f);
	free(buf);
}

/* bk_ask_fn as the daemon's HAVEQ would answer it: B's chunks. */
static int
b_ask(void *arg, const uint8_t *ids, size_t n, uint8_t *bits)
{

	return (store_chunks_held(arg, ids, n, bits));
}

/* Export A's content changes since ${since} asking B, deltas or not. */
static int
export_asking(struct fx *f, int64_t since, int deltas,
    struct bk_export_result *er)
{
	struct bk_export_opts o = { .module = STORE_MOD_CONFCONTENT,
	    .since = since, .level = 3, .ask = b_ask, .ask_arg = f->b,
	    .ask_max = 1 << 16, .deltas = deltas };
	int fd = memfile();

	if (bk_export(f->a->st, &f->a2b, &o, fd, er) != 0)
		fail_msg("export: %s", pp_errmsg());
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return (fd);
}

/* Chunks held by ${st}. */
static int64_t
nchunks(struct store *st)
{
	struct store_stats ss;

	assert_int_equal(store_stats(st, &ss), 0);
	return (ss.chunks);
}

/* A 3 MiB deck of random bytes at A and at B; its LSN to ${upto}. */
static uint8_t *
deck_on_both(struct fx *f, size_t len, int64_t *upto)
{
	struct bk_export_result er;
	struct bk_import_result ir;
	uint8_t *buf = malloc(len + 4096);

	assert_non_null(buf);
	unit_fill(buf, len, 13);
	put_bytes(f->a->st, f->a->conf, "deck.pdf", buf, len);
	ship(f, STORE_MOD_USERDATA, -1, &er, &ir);
	ship(f, STORE_MOD_CONFCONTENT, -1, &er, &ir);
	*upto = er.hdr.upto;
	return (buf);
}

/*
 * Export A's content since ${upto} with edits and import it at B, which
 * must then hold the ${len} bytes of ${buf} as deck.pdf: one content-edit
 * with ${deltas} deltas, no chunk whole, fewer than ${max} bytes.  Then
 * A's journal is pruned up to it (B's ACK), which frees at A what the
 * edit replaced: A holds the chunks B holds.  Returns the new upto.
 */
static int64_t
edit_shipped(struct fx *f, int64_t upto, const uint8_t *buf, size_t len,
    uint64_t deltas, uint64_t max)
{
	struct bk_export_result er;
	struct bk_import_result ir;
	struct store_content c;
	int fd = export_asking(f, upto, 1, &er);

	if (import_fd(f, fd, &ir) != 0)
		fail_msg("import: %s", pp_errmsg());
	close(fd);
	assert_int_equal(er.edits, 1);
	assert_int_equal(er.deltas, deltas);
	assert_true(er.delta_chunks >= deltas &&
	    er.delta_chunks <= deltas * BK_DELTA_CHUNKS);
	assert_int_equal(er.stats.chunks, 0);
	if (er.stats.bytes >= max)
		fail_msg("%llu bytes for the edit (at most %llu expected)",
		    (unsigned long long)er.stats.bytes,
		    (unsigned long long)max);
	b_content_is(f, "deck.pdf", buf, len);
	assert_int_equal(store_journal_prune(f->a->st, STORE_MOD_CONFCONTENT,
	    er.hdr.upto), 0);
	assert_int_equal(store_content_info(f->a->st, f->a->conf, "deck.pdf",
	    &c), 0);
	assert_int_equal(nchunks(f->a->st), (int64_t)c.nchunks);
	assert_int_equal(nchunks(f->b), nchunks(f->a->st));
	return (er.hdr.upto);
}

/*
 * A one-slide edit travels as an edit of the previous version: a delta of
 * its few KiB, not the chunks it touched, and a few segments, not the
 * whole chunk list; so does an insertion, and two versions in quick
 * succession (against the one B holds).  The source keeps the chunks an
 * edit replaced until the partner acknowledges it (the journal is pruned
 * up to it), then frees them.
 */
static void
content_delta_edit(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct store_content c;
	size_t len = 3 << 20;
	int64_t upto;
	uint8_t *buf = deck_on_both(f, len, &upto);
	int fd;

	/* 4 KiB rewritten mid-deck; A keeps what it replaced. */
	unit_fill(buf + 1500000, 4096, 99);
	put_bytes(f->a->st, f->a->conf, "deck.pdf", buf, len);
	assert_int_equal(store_content_info(f->a->st, f->a->conf, "deck.pdf",
	    &c), 0);
	assert_true(nchunks(f->a->st) > (int64_t)c.nchunks);
	/* Without edits, the new chunks and the list go whole (control). */
	fd = export_asking(f, upto, 0, &er);
	close(fd);
	assert_int_equal(er.edits, 0);
	assert_true(er.stats.chunks >= 1);
	assert_true(er.stats.bytes > 16384);
	upto = edit_shipped(f, upto, buf, len, 1, 4096 + 1024);
	/* 100 bytes inserted: a delta of about 100 bytes. */
	memmove(buf + 2000100, buf + 2000000, len - 2000000);
	unit_fill(buf + 2000000, 100, 98);
	len += 100;
	put_bytes(f->a->st, f->a->conf, "deck.pdf", buf, len);
	upto = edit_shipped(f, upto, buf, len, 1, 100 + 1024);
	/* Two versions before B has either: an edit of the one B holds. */
	unit_fill(buf + 500000, 2000, 96);
	put_bytes(f->a->st, f->a->conf, "deck.pdf", buf, len);
	unit_fill(buf + 2500000, 2000, 95);
	put_bytes(f->a->st, f->a->conf, "deck.pdf", buf, len);
	(void)edit_shipped(f, upto, buf, len, 2, 4000 + 1536);
	free(buf);
}

/*
 * Apply content-edit payload ${p} to B in an import rolled back after:
 * its return code.  If it applied, B's deck.pdf had then the chunk list
 * A's has.
 */
static int
b_edit_try(struct fx *f, const uint8_t *p, size_t len)
{
	struct store_rec *rec = malloc(sizeof(*rec));
	struct pkg_rec pr = { .type = PKG_R_CONTENT_EDIT, .p = p, .len = len };
	uint8_t *ia, *ib;
	size_t na, nb;
	int rc;

	assert_non_null(rec);
	assert_int_equal(store_import_begin(f->b, UNIT_POOL,
	    STORE_MOD_CONFCONTENT, 0), 0);
	if ((rc = bk_edit_apply(f->b, &pr, rec)) == 0) {
		assert_int_equal(store_content_ids(f->a->st, f->a->conf,
		    "deck.pdf", &ia, &na), 0);
		assert_int_equal(store_content_ids(f->b, f->a->conf,
		    "deck.pdf", &ib, &nb), 0);
		assert_int_equal(na, nb);
		assert_memory_equal(ia, ib, na * CRYPTO_HASH_LEN);
		free(ia);
		free(ib);
	}
	store_import_rollback(f->b);
	free(rec);
	return (rc);
}

/* Payload ${p} refused with a message containing ${msg}. */
static void
edit_refused(struct fx *f, const uint8_t *p, size_t len, const char *msg)
{

	if (b_edit_try(f, p, len) != -1)
		fail_msg("a bad content-edit was taken (%s)", msg);
	if (strstr(pp_errmsg(), msg) == NULL)
		fail_msg("'%s' does not say '%s'", pp_errmsg(), msg);
}

/* Offset of the ${len} bytes ${what} in the ${n} bytes ${p}. */
static size_t
find_bytes(const uint8_t *p, size_t n, const uint8_t *what, size_t len)
{
	size_t i;

	for (i = 0; i + len <= n; i++)
		if (memcmp(p + i, what, len) == 0)
			return (i);
	fail_msg("bytes not found");
	return (0);
}

/*
 * A content-edit that does not apply to the version B holds, whose delta
 * does not rebuild what it names, or that is malformed, is refused and
 * stores nothing.
 */
static void
content_delta_refused(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct pkg_reader *r;
	struct pkg_hdr h;
	struct pkg_rec pr;
	size_t len = 3 << 20, elen = 0, nids, at;
	int64_t upto;
	uint8_t *buf = deck_on_both(f, len, &upto), *e = NULL, *x, *ids;
	uint8_t sum[CRYPTO_HASH_LEN];
	int fd, n;

	unit_fill(buf + 1000000, 2000, 97);
	put_bytes(f->a->st, f->a->conf, "deck.pdf", buf, len);
	fd = export_asking(f, upto, 1, &er);
	assert_int_equal(er.edits, 1);
	assert_int_equal(er.deltas, 1);
	/* The record, as B reads it. */
	assert_int_equal(pkg_header_read(fd, &h), 0);
	assert_non_null(r = pkg_reader_new(fd, &h, f->b_in.seal_priv,
	    f->b_in.partner_pub));
	while ((n = pkg_reader_next(r, &pr)) == 1)
		if (pr.type == PKG_R_CONTENT_EDIT) {
			assert_non_null(e = malloc(pr.len));
			memcpy(e, pr.p, pr.len);
			elen = pr.len;
		}
	assert_int_equal(n, 0);
	pkg_reader_free(r);
	close(fd);
	assert_non_null(e);
	assert_non_null(x = malloc(elen));
	assert_int_equal(b_edit_try(f, e, elen), 0);	/* as sent: good */
	/* It names another version than B's (B's list's hash, changed). */
	assert_int_equal(store_content_ids(f->b, f->a->conf, "deck.pdf", &ids,
	    &nids), 0);
	assert_int_equal(crypto_sha256(ids, nids * CRYPTO_HASH_LEN, sum), 0);
	free(ids);
	at = find_bytes(e, elen, sum, CRYPTO_HASH_LEN);
	memcpy(x, e, elen);
	x[at] ^= 1;
	edit_refused(f, x, elen, "another version");
	/* A literal byte changed: the chunks rebuilt are not those named. */
	memcpy(x, e, elen);
	x[elen - 1000] ^= 1;
	edit_refused(f, x, elen, "does not rebuild");
	/* Cut short; a segment count too high; an unknown segment kind. */
	edit_refused(f, e, elen - 1, "malformed content-edit");
	memcpy(x, e, elen);
	x[at + CRYPTO_HASH_LEN + 3]++;
	edit_refused(f, x, elen, "malformed content-edit");
	memcpy(x, e, elen);
	x[at + CRYPTO_HASH_LEN + 4] = 7;
	edit_refused(f, x, elen, "malformed content-edit");
	/* A copy past the end of B's list. */
	memcpy(x, e, elen);
	assert_int_equal(x[at + CRYPTO_HASH_LEN + 4], BK_SEG_COPY);
	x[at + CRYPTO_HASH_LEN + 6] = 0x7f;
	edit_refused(f, x, elen, "malformed content-edit");
	/* The last copy going back over what came before it. */
	memcpy(x, e, elen);
	assert_int_equal(x[elen - 9], BK_SEG_COPY);
	memset(x + elen - 8, 0, 4);
	edit_refused(f, x, elen, "malformed content-edit");
	/* After all that, the package itself applies. */
	fd = export_asking(f, upto, 1, &er);
	if (import_fd(f, fd, &ir) != 0)
		fail_msg("import: %s", pp_errmsg());
	close(fd);
	b_content_is(f, "deck.pdf", buf, len);
	free(x);
	free(e);
	free(buf);
}

static void
config_roundtrip(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct store_config c;
	uint8_t *body;

	assert_int_equal(store_config_set(f->a->st, "imfilter", "block=spam",
	    10, NULL), 0);
	assert_int_equal(store_config_set(f->a->st, "imfilter", "block=all",
	    9, NULL), 0);
	ship(f, STORE_MOD_CONFIG, 0, &er, &ir);
	assert_int_equal(store_config_get(f->b, "imfilter", &c, &body), 0);
	assert_int_equal(c.version, 2);
	assert_memory_equal(body, "block=all", 9);
	assert_int_equal(c.primary, 0);
	assert_string_equal(c.home, UNIT_POOL);
	free(body);
	/* Still read-only at B: A is the config master. */
	assert_int_equal(store_config_set(f->b, "imfilter", "x", 1, NULL), -1);
	assert_int_equal(pp_errcode(), PP_EROFS);
}

static void
import_twice_is_noop(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct bsnap before, after;
	int fd;

	populate(f->a->st);
	fd = export_fd(f->a->st, &f->a2b, STORE_MOD_USERDATA, -1, NULL, NULL,
	    &er);
	assert_int_equal(import_fd(f, fd, &ir), 0);
	assert_int_equal(ir.noop, 0);
	bsnap(f, &before);
	assert_int_equal(import_fd(f, fd, &ir), 0);
	assert_int_equal(ir.noop, 1);
	assert_non_null(strstr(ir.why, "already imported"));
	bsnap(f, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	close(fd);
}

static void
refuse_other_pair(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_keys k = f->a2b;
	int fd;

	k.pair = "pair2";
	fd = export_fd(f->a->st, &k, STORE_MOD_USERDATA, -1, NULL, NULL, &er);
	refused(f, fd, "belongs to pair 'pair2'", "other pair");
	close(fd);
}

static void
refuse_other_target(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_keys k;
	int fd;

	/* Sealed to C, then also one naming B but sealed to C's key. */
	keys_set(&k, "pair1", UNIT_POOL, &f->ka, POOL_C, &f->kc);
	fd = export_fd(f->a->st, &k, STORE_MOD_USERDATA, -1, NULL, NULL, &er);
	refused(f, fd, "addressed to " POOL_C, "other target");
	close(fd);
	k.partner = POOL_B;
	fd = export_fd(f->a->st, &k, STORE_MOD_USERDATA, -1, NULL, NULL, &er);
	refused(f, fd, "fails authentication", "sealed to another key");
	close(fd);
}

static void
refuse_other_source(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_keys k;
	int fd;

	/* C, not B's partner, exporting its own data to B. */
	keys_set(&k, "pair1", UNIT_POOL, &f->kc, POOL_B, &f->kb);
	fd = export_fd(f->a->st, &k, STORE_MOD_USERDATA, -1, NULL, NULL, &er);
	refused(f, fd, "names a signer other", "other signer");
	close(fd);
	/* A forger who knows A's fingerprint but not A's key. */
	memcpy(k.fingerprint, f->ka.fp, CRYPTO_HASH_LEN);
	fd = export_fd(f->a->st, &k, STORE_MOD_USERDATA, -1, NULL, NULL, &er);
	refused(f, fd, "bad signature", "forged signature");
	close(fd);
	k = f->a2b;
	k.pool = POOL_C;
	fd = export_fd(f->a->st, &k, STORE_MOD_USERDATA, -1, NULL, NULL, &er);
	refused(f, fd, "comes from " POOL_C, "other source");
	close(fd);
}

static void
refuse_older_and_gaps(void **state)
{
	struct fx *f = *state;
	struct bk_export_result e1, e2, e3;
	struct bk_import_result ir;
	int p1, p2, p3;

	p1 = export_fd(f->a->st, &f->a2b, STORE_MOD_USERDATA, -1, NULL, NULL,
	    &e1);
	populate(f->a->st);
	p2 = export_fd(f->a->st, &f->a2b, STORE_MOD_USERDATA, e1.hdr.upto,
	    NULL, NULL, &e2);
	assert_int_equal(store_user_add(f->a->st, "sip:erin@" UNIT_POOL,
	    "Erin"), 0);
	p3 = export_fd(f->a->st, &f->a2b, STORE_MOD_USERDATA, e2.hdr.upto,
	    NULL, NULL, &e3);
	refused(f, p2, "nothing of it was imported", "changes first");
	assert_int_equal(import_fd(f, p1, &ir), 0);
	refused(f, p3, "are missing", "a gap");
	assert_int_equal(import_fd(f, p2, &ir), 0);
	assert_int_equal(import_fd(f, p3, &ir), 0);
	assert_int_equal(ir.noop, 0);
	refused(f, p2, "older than what was imported", "older");
	refused(f, p1, "older than what was imported", "older snapshot");
	close(p1);
	close(p2);
	close(p3);
}

/* Where the frames of a package start (after the header). */
static size_t
frame_offsets(const uint8_t *buf, size_t len, size_t *off, size_t max)
{
	struct pkg_hdr h;
	size_t p, n = 0, flen;

	assert_int_equal(pkg_header_parse(buf, len, &h), 0);
	for (p = h.rawlen; p + 4 <= len && n < max; p += 4 + flen + 16) {
		off[n++] = p;
		flen = ((size_t)buf[p] << 24 | (size_t)buf[p + 1] << 16 |
		    (size_t)buf[p + 2] << 8 | buf[p + 3]) & 0x7fffffff;
	}
	return (n);
}

static void
refuse_truncated_reordered(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	size_t len, off[64], n, i, cut[] = { 5, 40 };
	uint8_t *buf, *x;
	int fd, t;

	assert_non_null(x = malloc(256 << 10));
	unit_fill(x, 256 << 10, 3);
	put_bytes(f->a->st, f->a->conf, "a.pdf", x, 256 << 10);
	free(x);
	{
		struct bk_import_result ir;

		fd = export_fd(f->a->st, &f->a2b, STORE_MOD_USERDATA, -1, NULL,
		    NULL, &er);
		assert_int_equal(import_fd(f, fd, &ir), 0);
		close(fd);
	}
	fd = export_fd(f->a->st, &f->a2b, STORE_MOD_CONFCONTENT, -1, NULL,
	    NULL, &er);
	buf = slurp(fd, &len);
	close(fd);
	n = frame_offsets(buf, len, off, 64);
	assert_true(n >= 4);
	/* Cut inside the header, at every frame boundary, inside frames. */
	for (i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		fd = memfile_of(buf, cut[i]);
		refused(f, fd, "", "cut in the header");
		close(fd);
	}
	for (i = 0; i < n; i++) {
		for (t = 0; t < 2; t++) {
			fd = memfile_of(buf, off[i] + (size_t)t * 7);
			refused(f, fd, "truncated", "truncated package");
			close(fd);
		}
	}
	/* Two frames swapped (same size: the first two, full ones). */
	assert_int_equal(off[2] - off[1], off[1] - off[0]);
	assert_non_null(x = malloc(len));
	memcpy(x, buf, len);
	memcpy(x + off[0], buf + off[1], off[1] - off[0]);
	memcpy(x + off[1], buf + off[0], off[1] - off[0]);
	fd = memfile_of(x, len);
	refused(f, fd, "fails authentication", "frames swapped");
	close(fd);
	/* A frame dropped. */
	memcpy(x, buf, off[1]);
	memcpy(x + off[1], buf + off[2], len - off[2]);
	fd = memfile_of(x, len - (off[2] - off[1]));
	refused(f, fd, "fails authentication", "frame dropped");
	close(fd);
	/* Bytes after the final frame. */
	memcpy(x, buf, len);
	fd = memfile_of(x, len);
	assert_int_equal(write(fd, "x", 1), 1);
	refused(f, fd, "follow the final frame", "trailing bytes");
	close(fd);
	free(x);
	free(buf);
}

static void
refuse_any_flipped_bit(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	uint8_t *buf;
	size_t len, i;
	int fd;

	populate(f->a->st);
	fd = export_fd(f->a->st, &f->a2b, STORE_MOD_USERDATA, -1, NULL, NULL,
	    &er);
	buf = slurp(fd, &len);
	close(fd);
	/* Every byte of the package, one bit each (varying bits). */
	for (i = 0; i < len; i++) {
		buf[i] ^= (uint8_t)(1u << (i % 8));
		fd = memfile_of(buf, len);
		refused(f, fd, "", "a flipped bit");
		close(fd);
		buf[i] ^= (uint8_t)(1u << (i % 8));
	}
	fd = memfile_of(buf, len);
	assert_int_equal(import_fd(f, fd, &ir), 0);
	close(fd);
	free(buf);
}

/* A package A signs that would overwrite B's own user is refused whole. */
static void
refuse_touching_own_data(void **state)
{
	struct fx *f = *state;
	struct pkg_hdr h;
	struct pkg_writer *w;
	struct store_rec r;
	struct pkg_buf b = { NULL, 0, 0, 0 };
	int fd = memfile(), type;

	memset(&h, 0, sizeof(h));
	h.kind = PKG_SNAPSHOT;
	h.module = STORE_MOD_USERDATA;
	h.epoch = 1;
	h.upto = 5;
	memcpy(h.signer, f->ka.fp, CRYPTO_HASH_LEN);
	snprintf(h.pair, sizeof(h.pair), "pair1");
	snprintf(h.source, sizeof(h.source), UNIT_POOL);
	snprintf(h.target, sizeof(h.target), POOL_B);
	assert_non_null(w = pkg_writer_new(fd, &h, f->kb.seal_pub, f->ka.id,
	    3));
	memset(&r, 0, sizeof(r));
	r.ent = STORE_E_USER;
	snprintf(r.user.uri, sizeof(r.user.uri), "%s", UNIT_ALICE);
	snprintf(r.user.name, sizeof(r.user.name), "Alice");
	r.user.created_ms = r.user.updated_ms = 1795428000000LL;
	assert_int_equal(bk_rec_encode(&r, &b, &type), 0);
	assert_int_equal(pkg_writer_rec(w, type, b.p, b.len), 0);
	snprintf(r.user.uri, sizeof(r.user.uri), "%s", CAROL);
	assert_int_equal(bk_rec_encode(&r, &b, &type), 0);
	assert_int_equal(pkg_writer_rec(w, type, b.p, b.len), 0);
	assert_int_equal(pkg_writer_finish(w), 0);
	pkg_writer_free(w);
	pkg_buf_free(&b);
	refused(f, fd, "which " POOL_B " owns", "B's own user");
	close(fd);
}

/*
 * A snapshot into B's empty replica of DAVE with ${n} contacts (in groups
 * Team and Family), the one at ${dup} (if >= 0) named twice, and ${ns}
 * settings before them, the one at ${sdup} (if >= 0) named twice: into
 * ${fd}.
 */
#define DAVE	"sip:dave@contoso.test"
static void
dave_snapshot2(struct fx *f, int fd, int n, int dup, int ns, int sdup)
{
	struct pkg_hdr h;
	struct pkg_writer *w;
	struct store_rec *r = calloc(1, sizeof(*r));
	struct pkg_buf b = { NULL, 0, 0, 0 };
	int i, type;

	assert_non_null(r);
	memset(&h, 0, sizeof(h));
	h.kind = PKG_SNAPSHOT;
	h.module = STORE_MOD_USERDATA;
	h.epoch = 1;
	h.upto = 1000;
	memcpy(h.signer, f->ka.fp, CRYPTO_HASH_LEN);
	snprintf(h.pair, sizeof(h.pair), "pair1");
	snprintf(h.source, sizeof(h.source), UNIT_POOL);
	snprintf(h.target, sizeof(h.target), POOL_B);
	assert_non_null(w = pkg_writer_new(fd, &h, f->kb.seal_pub, f->ka.id,
	    3));
	r->ent = STORE_E_USER;
	snprintf(r->user.uri, sizeof(r->user.uri), "%s", DAVE);
	snprintf(r->user.name, sizeof(r->user.name), "Dave");
	r->user.created_ms = r->user.updated_ms = 1795428000000LL;
	assert_int_equal(bk_rec_encode(r, &b, &type), 0);
	assert_int_equal(pkg_writer_rec(w, type, b.p, b.len), 0);
	for (i = 0; i < ns; i++) {
		memset(r, 0, sizeof(*r));
		r->ent = STORE_E_SETTING;
		snprintf(r->user.uri, sizeof(r->user.uri), DAVE);
		snprintf(r->setting.key, sizeof(r->setting.key), "k%03d", i);
		snprintf(r->setting.value, sizeof(r->setting.value), "v %d",
		    i * 7);
		assert_int_equal(bk_rec_encode(r, &b, &type), 0);
		assert_int_equal(pkg_writer_rec(w, type, b.p, b.len), 0);
		if (i == sdup) {
			assert_int_equal(pkg_writer_rec(w, type, b.p, b.len),
			    0);
		}
	}
	for (i = 0; i <= n; i++) {
		if (i == n && dup < 0)
			break;
		memset(r, 0, sizeof(*r));
		r->ent = STORE_E_CONTACT;
		snprintf(r->contact.owner, sizeof(r->contact.owner), DAVE);
		snprintf(r->contact.uri, sizeof(r->contact.uri),
		    "sip:c%03d@fabrikam.test", i == n ? dup : i);
		snprintf(r->contact.name, sizeof(r->contact.name), "C %d", i);
		r->contact.rel = STORE_REL_WORKGROUP;
		r->contact.ngroups = (size_t)(i % 3);
		snprintf(r->contact.groups[0], sizeof(r->contact.groups[0]),
		    "Team");
		snprintf(r->contact.groups[1], sizeof(r->contact.groups[1]),
		    "Family");
		assert_int_equal(bk_rec_encode(r, &b, &type), 0);
		assert_int_equal(pkg_writer_rec(w, type, b.p, b.len), 0);
		/* The duplicate comes right after the one it repeats. */
		if (i == dup && dup >= 0) {
			assert_int_equal(pkg_writer_rec(w, type, b.p, b.len),
			    0);
		}
	}
	assert_int_equal(pkg_writer_finish(w), 0);
	pkg_writer_free(w);
	pkg_buf_free(&b);
	free(r);
}

static void
dave_snapshot(struct fx *f, int fd, int n, int dup)
{

	dave_snapshot2(f, fd, n, dup, 0, -1);
}

static int
count_cb(void *arg, const struct store_contact *c)
{

	(void)c;
	(*(int *)arg)++;
	return (0);
}

/*
 * Into an empty replica, contacts go in many rows per statement: all of
 * them arrive (two full batches and a rest), with their fields and groups;
 * a contact named twice, inside a batch or across one, refuses the whole
 * package and changes nothing.
 */
static void
fresh_contacts_batched(void **state)
{
	struct fx *f = *state;
	struct bk_import_result ir;
	struct store_contact c;
	int fd, n = 0, dups[] = { 3, 31, 45 };
	size_t i;

	for (i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
		fd = memfile();
		dave_snapshot(f, fd, 70, dups[i]);
		refused(f, fd, "twice", "a contact named twice");
		close(fd);
	}
	fd = memfile();
	dave_snapshot(f, fd, 70, -1);
	assert_int_equal(import_fd(f, fd, &ir), 0);
	close(fd);
	assert_int_equal(store_contact_list(f->b, DAVE, count_cb, &n), 0);
	assert_int_equal(n, 70);
	assert_int_equal(contact_get(f->b, DAVE, "sip:c065@fabrikam.test",
	    &c), 0);
	assert_string_equal(c.name, "C 65");
	assert_int_equal(c.rel, STORE_REL_WORKGROUP);
	assert_int_equal(c.ngroups, 2);
	assert_string_equal(c.groups[1], "Family");
}

static int
scount_cb(void *arg, const struct store_setting *c)
{

	(void)c;
	(*(int *)arg)++;
	return (0);
}

/*
 * Alike for settings: all of them arrive (45: statements of 32, 8, 4 and
 * 1 rows), each with its value, beside the contacts; a key named twice,
 * inside a batch or across one, refuses the whole package.
 */
static void
fresh_settings_batched(void **state)
{
	struct fx *f = *state;
	struct bk_import_result ir;
	struct store_setting st;
	int fd, n = 0, dups[] = { 0, 31, 44 };
	size_t i;

	for (i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
		fd = memfile();
		dave_snapshot2(f, fd, 5, -1, 45, dups[i]);
		refused(f, fd, "twice", "a setting named twice");
		close(fd);
	}
	fd = memfile();
	dave_snapshot2(f, fd, 5, -1, 45, -1);
	assert_int_equal(import_fd(f, fd, &ir), 0);
	close(fd);
	assert_int_equal(store_setting_list(f->b, DAVE, scount_cb, &n), 0);
	assert_int_equal(n, 45);
	for (i = 0; i < 45; i += 11) {
		char k[16], v[32];

		snprintf(k, sizeof(k), "k%03zu", i);
		snprintf(v, sizeof(v), "v %zu", i * 7);
		assert_int_equal(store_setting_get(f->b, DAVE, k, &st), 0);
		assert_string_equal(st.value, v);
	}
	n = 0;
	assert_int_equal(store_contact_list(f->b, DAVE, count_cb, &n), 0);
	assert_int_equal(n, 5);
}

static void
journal_floor_forces_snapshot(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	int64_t floor;

	populate(f->a->st);
	assert_int_equal(store_journal_prune(f->a->st, STORE_MOD_USERDATA, 3),
	    0);
	assert_int_equal(store_journal_floor(f->a->st, STORE_MOD_USERDATA,
	    &floor), 0);
	assert_int_equal(floor, 3);
	ship(f, STORE_MOD_USERDATA, 1, &er, &ir);
	assert_int_equal(er.fell_back, 1);
	assert_int_equal(er.hdr.kind, PKG_SNAPSHOT);
	ship(f, STORE_MOD_USERDATA, 3, &er, &ir);
	assert_int_equal(er.fell_back, 0);
	assert_int_equal(ir.noop, 1);
}

struct ofind {
	int n;
	char last[1024];
};

static int
ofind_cb(void *arg, const struct store_orphan *o)
{
	struct ofind *x = arg;

	x->n++;
	snprintf(x->last, sizeof(x->last), "%s %s %s", o->rec.entity,
	    o->rec.k2, o->state);
	return (0);
}

/*
 * A disaster failover: B takes A's users under epoch 2 with what it has;
 * A's unshipped change becomes an orphan when A learns of it; A is fenced
 * and receives B's writes; the config master moved with the users.
 */
static void
failover_fences_and_keeps_orphans(void **state)
{
	struct fx *f = *state;
	struct bk_export_result er;
	struct bk_import_result ir;
	struct store_replica rud;
	struct store_owner o;
	struct store_setting set;
	struct bk_keys b2a, a_in;
	struct ofind of = { 0, "" };
	char master[PP_FQDN_MAX + 1];
	int fd;

	populate(f->a->st);
	ship(f, STORE_MOD_USERDATA, -1, &er, &ir);
	/* The window: committed at A, never shipped. */
	assert_int_equal(store_setting_set(f->a->st, UNIT_ALICE, "lang", "pt"),
	    0);
	/* B takes over A's users with what it has. */
	assert_int_equal(store_replica_get(f->b, UNIT_POOL, STORE_MOD_USERDATA,
	    &rud), 0);
	memset(&o, 0, sizeof(o));
	snprintf(o.home, sizeof(o.home), UNIT_POOL);
	snprintf(o.owner, sizeof(o.owner), POOL_B);
	o.epoch = 2;
	o.mode = STORE_MODE_FAILEDOVER;
	o.lsn[0] = rud.lsn;
	o.master = 1;
	assert_int_equal(store_owner_set(f->b, &o), 0);
	o.epoch = 1;		/* an epoch that does not grow is refused */
	assert_int_equal(store_owner_set(f->b, &o), -1);
	assert_int_equal(pp_errcode(), PP_EINVAL);
	/* B now writes A's users; its own replica of them is primary. */
	assert_int_equal(store_setting_set(f->b, UNIT_ALICE, "lang", "de"), 0);
	assert_int_equal(store_config_master(f->b, master), 0);
	assert_string_equal(master, POOL_B);
	/* A comes back and imports B's package: the owner record first. */
	keys_set(&b2a, "pair1", POOL_B, &f->kb, UNIT_POOL, &f->ka);
	keys_set(&a_in, "pair1", UNIT_POOL, &f->ka, POOL_B, &f->kb);
	fd = export_fd(f->b, &b2a, STORE_MOD_USERDATA, -1, NULL, NULL, &er);
	if (bk_import(f->a->st, &a_in, fd, &ir) != 0)
		fail_msg("import at A: %s", pp_errmsg());
	close(fd);
	assert_int_equal(store_owner_get(f->a->st, UNIT_POOL, &o), 0);
	assert_string_equal(o.owner, POOL_B);
	assert_int_equal(o.epoch, 2);
	assert_int_equal(store_setting_get(f->a->st, UNIT_ALICE, "lang", &set),
	    0);
	assert_string_equal(set.value, "de");
	/* Fenced: A refuses writes to its own users, and new ones. */
	assert_int_equal(store_setting_set(f->a->st, UNIT_ALICE, "lang", "fr"),
	    -1);
	assert_int_equal(pp_errcode(), PP_EROFS);
	assert_non_null(strstr(pp_errmsg(), "fenced"));
	assert_int_equal(store_user_add(f->a->st, "sip:zed@" UNIT_POOL, "Z"),
	    -1);
	assert_int_equal(pp_errcode(), PP_EROFS);
	assert_int_equal(store_config_master(f->a->st, master), 0);
	assert_string_equal(master, POOL_B);
	/* The window's change is kept, with its state then. */
	assert_int_equal(store_orphan_list(f->a->st, ofind_cb, &of), 0);
	assert_int_equal(of.n, 1);
	assert_non_null(strstr(of.last, "setting lang"));
	assert_non_null(strstr(of.last, "\"pt\""));
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
/* The same, with B's imports spilling their staged chunks. */
#define TS(fn) { #fn " (spilling)", fn, setup_spill, teardown, NULL }
	const struct CMUnitTest tests[] = {
		T(userdata_roundtrip),
		T(userdata_changes_coalesce),
		T(content_roundtrip_sends_what_lacks),
		T(content_prestaged),
		T(content_prestaged_gone),
		T(content_prestaged_body_gone),
		T(content_prestaged_held_since),
		T(content_through_functions),
		TS(content_roundtrip_sends_what_lacks),
		TS(content_prestaged),
		TS(content_prestaged_held_since),
		T(content_chunk_twice),
		TS(content_chunk_twice),
		TS(content_delta_edit),
		T(content_delta_edit),
		T(content_delta_refused),
		T(fresh_contacts_batched),
		T(fresh_settings_batched),
		T(config_roundtrip),
		T(import_twice_is_noop),
		T(refuse_other_pair),
		T(refuse_other_target),
		T(refuse_other_source),
		T(refuse_older_and_gaps),
		T(refuse_truncated_reordered),
		T(refuse_any_flipped_bit),
		T(refuse_touching_own_data),
		T(journal_floor_forces_snapshot),
		T(failover_fences_and_keeps_orphans),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
