/* test_storeopen.c: store_open refuses loose or wrong keys, foreign files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "crypto.h"
#include "err.h"
#include "store.h"
#include "unit.h"
#include "unit_store.h"


/* store_open must refuse ${f}->dir with error class ${code}. */
static void
expect_open_refused(struct unit_fx *f, enum pp_err code)
{
	struct store *st;

	pp_err_clear();
	st = store_open(f->dir);
	if (st != NULL) {
		store_close(st);
		fail_msg("store_open accepted the store");
	}
	if (pp_errcode() != code)
		fail_msg("error class %d (%s), expected %d",
		    (int)pp_errcode(), pp_errmsg(), (int)code);
	assert_true(pp_errmsg()[0] != '\0');
}

static void
test_loose_key_refused(void **state)
{
	struct unit_fx *f = *state;
	char *key = unit_path(f->dir, "storage.key");
	struct store *st;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(chmod(key, 0644), 0);
	expect_open_refused(f, PP_EKEY);
	assert_int_equal(chmod(key, 0640), 0);
	expect_open_refused(f, PP_EKEY);
	assert_int_equal(chmod(key, 0600), 0);
	st = store_open(f->dir);
	assert_non_null(st);
	store_close(st);
	free(key);
}

static void
test_wrong_key_refused(void **state)
{
	struct unit_fx *f = *state;
	char *key = unit_path(f->dir, "storage.key");
	uint8_t *good, other[CRYPTO_KEY_LEN + 1];
	size_t len;

	store_close(f->st);
	f->st = NULL;
	good = unit_read_file(key, &len);
	assert_int_equal(len, CRYPTO_KEY_LEN);
	memcpy(other, good, CRYPTO_KEY_LEN);
	other[5] ^= 0x20;
	unit_write_file(key, other, CRYPTO_KEY_LEN);
	expect_open_refused(f, PP_EKEY);
	unit_write_file(key, good, CRYPTO_KEY_LEN - 1);
	expect_open_refused(f, PP_EKEY);
	other[CRYPTO_KEY_LEN] = 0;
	memcpy(other, good, CRYPTO_KEY_LEN);
	unit_write_file(key, other, CRYPTO_KEY_LEN + 1);
	expect_open_refused(f, PP_EKEY);
	assert_int_equal(unlink(key), 0);
	expect_open_refused(f, PP_EKEY);
	/* The right key opens it again. */
	unit_write_file(key, good, CRYPTO_KEY_LEN);
	f->st = store_open(f->dir);
	assert_non_null(f->st);
	free(good);
	free(key);
}

static void
test_key_not_a_file_refused(void **state)
{
	struct unit_fx *f = *state;
	char *key = unit_path(f->dir, "storage.key");
	char *real = unit_path(f->dir, "key.real");

	store_close(f->st);
	f->st = NULL;
	/* A symbolic link to the right key is not the key file. */
	assert_int_equal(rename(key, real), 0);
	assert_int_equal(symlink("key.real", key), 0);
	expect_open_refused(f, PP_EKEY);
	assert_int_equal(unlink(key), 0);
	assert_int_equal(mkdir(key, 0700), 0);
	expect_open_refused(f, PP_EKEY);
	assert_int_equal(rmdir(key), 0);
	assert_int_equal(rename(real, key), 0);
	f->st = store_open(f->dir);
	assert_non_null(f->st);
	free(real);
	free(key);
}

/* Run ${sql} on the closed store's database. */
static void
db_exec(struct unit_fx *f, const char *sql)
{
	char *db = unit_path(f->dir, "pool.db");
	sqlite3 *h;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(h));
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
	free(db);
}

/* The integer that ${sql} returns from the store's database. */
static int
db_int(struct unit_fx *f, const char *sql)
{
	char *db = unit_path(f->dir, "pool.db");
	sqlite3_stmt *s;
	sqlite3 *h;
	int v;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
	free(db);
	return (v);
}

static void
test_altered_identity_refused(void **state)
{
	struct unit_fx *f = *state;
	struct store *st;

	/* Another format version, older or newer, is refused. */
	db_exec(f, "PRAGMA user_version = 1");
	expect_open_refused(f, PP_ESTORE);
	assert_non_null(strstr(pp_errmsg(), "version"));
	db_exec(f, "PRAGMA user_version = 4");
	expect_open_refused(f, PP_ESTORE);
	/* Version 2 (no content.lsn, no content_prev) is brought to 3. */
	db_exec(f, "ALTER TABLE content DROP COLUMN lsn;"
	    "DROP TABLE content_prev; PRAGMA user_version = 2");
	st = store_open(f->dir);
	assert_non_null(st);
	store_close(st);
	db_exec(f, "INSERT INTO content_prev VALUES('c', 'n', 1, 0, x'');"
	    "DELETE FROM content_prev; SELECT lsn FROM content");
	assert_int_equal(db_int(f, "PRAGMA user_version"), 3);
	db_exec(f, "UPDATE meta SET v = replace(v, substr(v, 1, 1), 'x')"
	    " WHERE k = 'keycheck'");
	expect_open_refused(f, PP_EKEY);
	db_exec(f, "DELETE FROM meta WHERE k = 'keycheck'");
	expect_open_refused(f, PP_ESTORE);
	db_exec(f, "PRAGMA application_id = 7");
	expect_open_refused(f, PP_ESTORE);
}

/* Replace pool.db (and drop its WAL) with ${len} bytes of ${buf}. */
static void
replace_db(struct unit_fx *f, const void *buf, size_t len)
{
	char *db = unit_path(f->dir, "pool.db");
	char *wal = unit_path(f->dir, "pool.db-wal");
	char *shm = unit_path(f->dir, "pool.db-shm");

	store_close(f->st);
	f->st = NULL;
	(void)unlink(wal);
	(void)unlink(shm);
	assert_int_equal(unlink(db), 0);
	if (buf != NULL)
		unit_write_file(db, buf, len);
	free(db);
	free(wal);
	free(shm);
}

static void
test_foreign_db_refused(void **state)
{
	struct unit_fx *f = *state;
	char *db = unit_path(f->dir, "pool.db");
	sqlite3 *h;

	replace_db(f, NULL, 0);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "CREATE TABLE meta(k TEXT, v TEXT);"
	    "INSERT INTO meta VALUES('format', 'poolpair-store');", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
	expect_open_refused(f, PP_ESTORE);
	assert_non_null(strstr(pp_errmsg(), "not a poolpair store"));
	free(db);
}

static void
test_garbage_db_refused(void **state)
{
	struct unit_fx *f = *state;
	uint8_t junk[65536];

	unit_fill(junk, sizeof(junk), 42);
	replace_db(f, junk, sizeof(junk));
	expect_open_refused(f, PP_ESTORE);
	/* A database header followed by garbage. */
	memcpy(junk, "SQLite format 3", 16);
	replace_db(f, junk, sizeof(junk));
	expect_open_refused(f, PP_ESTORE);
	/* An empty file, and no file at all. */
	replace_db(f, "", 0);
	expect_open_refused(f, PP_ESTORE);
	replace_db(f, NULL, 0);
	expect_open_refused(f, PP_ESTORE);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, unit_setup_users, \
    unit_teardown)
	const struct CMUnitTest tests[] = {
		T(test_loose_key_refused),
		T(test_wrong_key_refused),
		T(test_key_not_a_file_refused),
		T(test_altered_identity_refused),
		T(test_foreign_db_refused),
		T(test_garbage_db_refused),
	};
#undef T

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
