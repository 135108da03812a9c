/*
 * store_open.c: a store's life cycle: the schema, creating a store, opening
 * one (checking that it is ours, its version and its key), closing it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "err.h"
#include "store_int.h"
#include "util.h"

/*
 * An item's previous chunk list, kept (with its references) from the put
 * that replaced it (journaled at LSN lsn) until the partner acknowledges
 * that put; base: the LSN of the put that made that version.  The
 * exporter sends the new version as an edit of it (docs/store.md).
 * Added in store version 3, with content.lsn.
 */
#define PREV_SCHEMA \
    "CREATE TABLE content_prev(conf TEXT NOT NULL, name TEXT NOT NULL," \
    " lsn INTEGER NOT NULL, base INTEGER NOT NULL, chunks BLOB NOT NULL," \
    " PRIMARY KEY(conf, name)) WITHOUT ROWID;"

static const char schema[] =
    "CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;"
    /* floor: journal records up to this LSN were pruned. */
    "CREATE TABLE modstate(module INTEGER PRIMARY KEY,"
    " epoch INTEGER NOT NULL, next_lsn INTEGER NOT NULL,"
    " floor INTEGER NOT NULL DEFAULT 0);"
    /* How far each replica came: the last package imported. */
    "CREATE TABLE replicas(source TEXT NOT NULL, module INTEGER NOT NULL,"
    " epoch INTEGER NOT NULL, lsn INTEGER NOT NULL, pkg BLOB NOT NULL,"
    " imported INTEGER NOT NULL, records INTEGER NOT NULL,"
    " PRIMARY KEY(source, module)) WITHOUT ROWID;"
    /* seq = module << 48 | LSN: appends go to the end of one B-tree. */
    /* kind = entity * 2 + (op == del): see jrnl_entities. */
    "CREATE TABLE journal(seq INTEGER PRIMARY KEY, epoch INTEGER NOT NULL,"
    " kind INTEGER NOT NULL, k1 TEXT NOT NULL, k2 TEXT NOT NULL,"
    " ts INTEGER NOT NULL);"
    "CREATE TABLE users(uri TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " home TEXT NOT NULL, created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE settings(uri TEXT NOT NULL, k TEXT NOT NULL,"
    " v TEXT NOT NULL, PRIMARY KEY(uri, k)) WITHOUT ROWID;"
    "CREATE TABLE groups(owner TEXT NOT NULL, name TEXT NOT NULL,"
    " PRIMARY KEY(owner, name)) WITHOUT ROWID;"
    /* groups: "" or the names, each followed and preceded by \x1f. */
    "CREATE TABLE contacts(owner TEXT NOT NULL, uri TEXT NOT NULL,"
    " name TEXT NOT NULL, rel INTEGER NOT NULL, groups TEXT NOT NULL,"
    " PRIMARY KEY(owner, uri)) WITHOUT ROWID;"
    "CREATE TABLE conferences(id TEXT PRIMARY KEY, organizer TEXT NOT NULL,"
    " subject TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,"
    " access INTEGER NOT NULL, home TEXT NOT NULL, created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX conferences_organizer ON conferences(organizer);"
    "CREATE TABLE content(conf TEXT NOT NULL, name TEXT NOT NULL,"
    " kind INTEGER NOT NULL, mime TEXT NOT NULL, size INTEGER NOT NULL,"
    " sha256 BLOB NOT NULL, chunks BLOB NOT NULL, created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL, home TEXT NOT NULL,"
    /* lsn: the journal LSN of its put here (0: imported, or older). */
    " lsn INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(conf, name)) WITHOUT ROWID;"
    PREV_SCHEMA
    /* Keyed by id alone: one B-tree, one page dirtied per new chunk. */
    "CREATE TABLE chunks(id BLOB PRIMARY KEY, refs INTEGER NOT NULL,"
    " size INTEGER NOT NULL, pack INTEGER NOT NULL, off INTEGER NOT NULL,"
    " len INTEGER NOT NULL) WITHOUT ROWID;"
    /* AUTOINCREMENT: a pack number is never used twice. */
    "CREATE TABLE packs(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " live INTEGER NOT NULL);"
    /* Who writes each user set; no row: its home pool, epoch 1. */
    "CREATE TABLE owners(home TEXT PRIMARY KEY, owner TEXT NOT NULL,"
    " epoch INTEGER NOT NULL, mode INTEGER NOT NULL,"
    " changed INTEGER NOT NULL, lsn_ud INTEGER NOT NULL,"
    " lsn_cc INTEGER NOT NULL, master INTEGER NOT NULL) WITHOUT ROWID;"
    /* Changes this pool made that its new owner never had (orphans). */
    "CREATE TABLE orphans(module INTEGER NOT NULL, lsn INTEGER NOT NULL,"
    " epoch INTEGER NOT NULL, kind INTEGER NOT NULL, k1 TEXT NOT NULL,"
    " k2 TEXT NOT NULL, ts INTEGER NOT NULL, state TEXT NOT NULL,"
    " saved INTEGER NOT NULL, chunks BLOB NOT NULL,"
    " PRIMARY KEY(module, lsn)) WITHOUT ROWID;"
    "CREATE TABLE config_docs(name TEXT PRIMARY KEY,"
    " version INTEGER NOT NULL, body BLOB NOT NULL,"
    " updated INTEGER NOT NULL) WITHOUT ROWID;";

/* Read meta value ${k} into ${out}.  Returns 0, or -1 if absent. */
static int
meta_get(struct store *st, const char *k, char *out, size_t len)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, "SELECT v FROM meta WHERE k = ?")) == NULL)
		return (-1);
	db_bind_text(s, 1, k);
	if (sqlite3_step(s) != SQLITE_ROW) {
		db_fail(st, "meta");
		return (-1);
	}
	db_col_text(s, 0, out, len);
	return (0);
}

/* Open the database file of ${st}->dir; PP_ESTORE naming what is wrong. */
static int
db_open_file(struct store *st, int create)
{
	char path[PATH_MAX + 16];
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	snprintf(path, sizeof(path), "%s/%s", st->dir, STORE_DB);
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		pp_err(PP_ESTORE, "cannot open store %s: %s", path,
		    st->db != NULL ? sqlite3_errmsg(st->db) : "no memory");
		return (-1);
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 10000);
	return (0);
}

/* Pragmas every connection sets (none of them writes the file). */
static int
db_tune(struct store *st)
{

	return (db_exec(st, "PRAGMA synchronous = FULL;"
	    "PRAGMA foreign_keys = OFF;"
	    "PRAGMA cache_size = -32768;"
	    "PRAGMA journal_size_limit = 67108864;"
	    "PRAGMA wal_autocheckpoint = 16384;"));
}

_Static_assert(STORE_CHECKPOINT_FRAMES == 16384,
    "the wal_autocheckpoint pragma above says 16384");

/* The WAL hook of store_defer_checkpoints: note the WAL's size, no more. */
static int
wal_note(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;

	(void)db;
	(void)name;
	st->wal_frames = frames;
	return (SQLITE_OK);
}

void
store_defer_checkpoints(struct store *st)
{

	(void)sqlite3_wal_hook(st->db, wal_note, st);
}

void
store_read_once(struct store *st)
{

	st->read_once = 1;
}

int
store_checkpoint_due(const struct store *st)
{

	return (st->wal_frames >= STORE_CHECKPOINT_FRAMES);
}

int
store_checkpoint(struct store *st)
{
	int r;

	st->wal_frames = 0;
	/* PASSIVE: never waits for readers or writers; the rest next time. */
	if ((r = sqlite3_wal_checkpoint_v2(st->db, NULL,
	    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL)) != SQLITE_OK &&
	    r != SQLITE_BUSY)
		return (db_fail(st, "checkpoint"));
	return (0);
}

/* The new store ${st}: schema and identity, in one transaction. */
static int
db_init_schema(struct store *st, const char *pool, const char *master)
{
	char check[65], sql[512];
	sqlite3_stmt *s;
	int i;

	/*
	 * 4 KiB pages (older stores keep the 2 KiB they were made with): a
	 * first sync's import of five million records took 20% less time
	 * than with 2 KiB, and content put, whose commits the put queue
	 * overlaps, kept its speed (8 KiB: the import 30% less, content put
	 * 10-15% slower, every new chunk dirtying a larger random page of the
	 * chunk index; docs/benchmarks.md).
	 */
	if (db_exec(st, "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;")
	    != 0 || db_tune(st) != 0)
		return (-1);
	if (storekey_check(st->key, check) != 0)
		return (-1);
	if (db_exec(st, "BEGIN IMMEDIATE") != 0)
		return (-1);
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d;"
	    "PRAGMA user_version = %d;", STORE_APP_ID, STORE_VERSION);
	if (db_exec(st, sql) != 0 || db_exec(st, schema) != 0)
		goto fail;
	for (i = 0; i < STORE_NMOD; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO modstate "
		    "VALUES(%d, 1, 1, 0)", i);
		if (db_exec(st, sql) != 0)
			goto fail;
	}
	const char *kv[][2] = { { "format", "poolpair-store" },
	    { "pool", pool }, { "config_master", master },
	    { "keycheck", check } };
	for (i = 0; i < 4; i++) {
		if ((s = db_stmt(st, "INSERT INTO meta VALUES(?, ?)")) == NULL)
			goto fail;
		db_bind_text(s, 1, kv[i][0]);
		db_bind_text(s, 2, kv[i][1]);
		if (db_done(st, s, "meta") != 0)
			goto fail;
	}
	return (db_exec(st, "COMMIT"));

fail:
	(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

/* Finalize the cached statements and close the connection. */
static void
db_close(struct store *st)
{
	size_t i;

	for (i = 0; i < STORE_NSTMT; i++) {
		sqlite3_finalize(st->stmts[i].stmt);
		st->stmts[i].sql = NULL;
		st->stmts[i].stmt = NULL;
	}
	sqlite3_close(st->db);
	st->db = NULL;
}

static struct store *
store_alloc(const char *dir)
{
	struct store *st;
	size_t i;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (NULL);
	}
	st->imp_new_max = IMP_NEW_MAX;
	if ((size_t)snprintf(st->dir, sizeof(st->dir), "%s", dir) >=
	    sizeof(st->dir) - 32) {
		pp_err(PP_EINVAL, "data directory path is too long");
		free(st);
		return (NULL);
	}
	st->wfd = -1;
	for (i = 0; i < STORE_NPACKFD; i++)
		st->rfd[i].fd = -1;
	return (st);
}

/* Set up the crypto contexts of ${st} from its key. */
static int
store_crypto(struct store *st)
{

	if ((st->aead = crypto_aead_new(st->key)) == NULL ||
	    (st->hash = crypto_hash_new()) == NULL)
		return (-1);
	return (0);
}

int
store_create(const char *dir, const char *pool, const char *master)
{
	char path[PATH_MAX + 16];
	struct store *st;
	struct stat sb;
	int fd;

	if (util_fqdn_ok(pool) != 0 ||
	    (master != NULL && util_fqdn_ok(master) != 0))
		return (-1);
	if ((st = store_alloc(dir)) == NULL)
		return (-1);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		pp_errp(PP_EIO, "cannot create %s", dir);
		goto err0;
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		pp_err(PP_EIO, "%s is not a directory", dir);
		goto err0;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		if (errno == EEXIST)
			pp_err(PP_EEXIST, "%s already holds a store", dir);
		else
			pp_errp(PP_EIO, "cannot create %s", path);
		goto err0;
	}
	close(fd);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_PACKDIR);
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		pp_errp(PP_EIO, "cannot create %s", path);
		goto err1;
	}
	if (storekey_create(dir, st->key) != 0)
		goto err1;
	if (db_open_file(st, 0) != 0 ||
	    db_init_schema(st, pool, master != NULL ? master : pool) != 0)
		goto err2;
	/* The new names (key, database, chunks/) must survive a crash. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(fd) != 0) {
		pp_errp(PP_EIO, "cannot sync %s", dir);
		if (fd >= 0)
			close(fd);
		goto err2;
	}
	close(fd);
	store_close(st);
	return (0);

err2:
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_KEYFILE);
	unlink(path);
err1:
	db_close(st);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s-wal", dir, STORE_DB);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s-shm", dir, STORE_DB);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_PACKDIR);
	rmdir(path);
err0:
	store_close(st);
	return (-1);
}

/* Version 2 lacks content.lsn and content_prev: add them, at once. */
static int
db_upgrade2(struct store *st)
{
	sqlite3_stmt *s;
	int ver;

	db_reset_all(st);
	if (db_exec(st, "BEGIN IMMEDIATE") != 0)
		return (-1);
	/* Another process may have upgraded it meanwhile. */
	if ((s = db_stmt(st, "PRAGMA user_version")) == NULL ||
	    sqlite3_step(s) != SQLITE_ROW) {
		(void)db_exec(st, "ROLLBACK");
		return (-1);
	}
	ver = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (ver == STORE_VERSION)
		return (db_exec(st, "COMMIT"));
	if (db_exec(st, "ALTER TABLE content ADD COLUMN lsn INTEGER NOT NULL"
	    " DEFAULT 0;" PREV_SCHEMA "PRAGMA user_version = 3;") != 0 ||
	    db_exec(st, "COMMIT") != 0) {
		(void)db_exec(st, "ROLLBACK");
		return (-1);
	}
	return (0);
}

/* Check that ${st}->db is a poolpair store this code can read. */
static int
db_check_identity(struct store *st)
{
	char fmt[32], check[65], want[65];
	sqlite3_stmt *s;
	int appid, ver;

	if ((s = db_stmt(st, "PRAGMA application_id")) == NULL)
		goto notours;
	if (sqlite3_step(s) != SQLITE_ROW)
		goto notours;
	appid = sqlite3_column_int(s, 0);
	if ((s = db_stmt(st, "PRAGMA user_version")) == NULL ||
	    sqlite3_step(s) != SQLITE_ROW)
		goto notours;
	ver = sqlite3_column_int(s, 0);
	if (appid != STORE_APP_ID) {
		pp_err(PP_ESTORE, "%s/%s is not a poolpair store (foreign "
		    "SQLite database)", st->dir, STORE_DB);
		return (-1);
	}
	if (ver != STORE_VERSION && ver != 2) {
		pp_err(PP_ESTORE, "store %s has format version %d; this "
		    "poolpair reads version %d", st->dir, ver, STORE_VERSION);
		return (-1);
	}
	if (meta_get(st, "format", fmt, sizeof(fmt)) != 0 ||
	    strcmp(fmt, "poolpair-store") != 0 ||
	    meta_get(st, "pool", st->pool, sizeof(st->pool)) != 0 ||
	    meta_get(st, "keycheck", want, sizeof(want)) != 0)
		goto notours;
	if (storekey_check(st->key, check) != 0)
		return (-1);
	if (strlen(want) != 64 || !crypto_eq(check, want, 64)) {
		pp_err(PP_EKEY, "storage key %s/%s is not the key of this "
		    "store", st->dir, STORE_KEYFILE);
		return (-1);
	}
	return (ver == 2 ? db_upgrade2(st) : 0);

notours:
	if (pp_errcode() == PP_ESTORE && strstr(pp_errmsg(), "corrupt"))
		return (-1);
	pp_err(PP_ESTORE, "%s/%s is not a poolpair store, or is corrupted "
	    "(%s)", st->dir, STORE_DB, sqlite3_errmsg(st->db));
	return (-1);
}

struct store *
store_open(const char *dir)
{
	char path[PATH_MAX + 16];
	struct store *st;
	struct stat sb;

	if ((st = store_alloc(dir)) == NULL)
		return (NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB);
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			pp_err(PP_ESTORE, "no store in %s (create one with "
			    "'poolpair init')", dir);
		else
			pp_errp(PP_ESTORE, "cannot reach store %s", path);
		goto err0;
	}
	if (storekey_load(dir, st->key) != 0)
		goto err0;
	if (db_open_file(st, 0) != 0 || db_check_identity(st) != 0 ||
	    db_tune(st) != 0 || store_crypto(st) != 0)
		goto err0;
	db_reset_all(st);
	return (st);

err0:
	store_close(st);
	return (NULL);
}

void
store_close(struct store *st)
{

	if (st == NULL)
		return;
	tx_rollback(st);
	pack_close_all(st);
	db_close(st);
	crypto_aead_free(st->aead);
	crypto_hash_free(st->hash);
	OPENSSL_cleanse(st->key, sizeof(st->key));
	free(st->cb_arena);
	free(st->sb_arena);
	free(st->owner.added);
	free(st->imp_new);
	free(st->imp_idx);
	free(st);
}

const char *
store_pool(const struct store *st)
{

	return (st->pool);
}
