/*
 * store_import.c: applying a package's records to the replica of the
 * partner's data, in one write transaction.  While an import is open
 * (st->importing) nothing is journaled and only rows of user sets the
 * source pool owns may be written (db_home_writable: its own, or this
 * pool's after a failover to it), so the public write functions serve the
 * replica too; rows with timestamps of their own are written here.  A
 * snapshot import remembers the keys it saw (unless the replica was empty)
 * and, at commit, deletes the replica's keys it did not see.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "sipuri.h"
#include "store_int.h"
#include "util.h"

/* Which module each entity belongs to. */
static const enum store_module ent_module[STORE_NENT] = {
	STORE_MOD_USERDATA, STORE_MOD_USERDATA, STORE_MOD_USERDATA,
	STORE_MOD_USERDATA, STORE_MOD_USERDATA, STORE_MOD_CONFCONTENT,
	STORE_MOD_CONFIG, STORE_MOD_USERDATA
};

/* ${uri} is a SIP URI in normal form (what a source pool exports). */
static int
uri_normal(const char *uri)
{
	char norm[PP_URI_MAX + 1];

	if (sipuri_normalize(uri, norm) != 0)
		return (-1);
	if (strcmp(norm, uri) != 0) {
		pp_err(PP_EINVAL, "'%.64s' is not in normal form", uri);
		return (-1);
	}
	return (0);
}

/* Timestamps must be plausible: after 2000, before 10000. */
static int
times_ok(int64_t created, int64_t updated)
{

	if (created < 946684800000LL || updated < created ||
	    updated > 253402300799999LL) {
		pp_err(PP_EINVAL, "implausible timestamps");
		return (-1);
	}
	return (0);
}

static int
imp_user(struct store *st, const struct store_user *u)
{
	struct store_user old;
	char norm[PP_URI_MAX + 1];
	sqlite3_stmt *s;

	if (uri_normal(u->uri) != 0 ||
	    util_text_ok(u->name, PP_NAME_MAX, "display name") != 0 ||
	    times_ok(u->created_ms, u->updated_ms) != 0)
		return (-1);
	/* A user keeps the home it has (the source may own it by failover). */
	snprintf(old.home, sizeof(old.home), "%s", st->import_src);
	if (db_user_find(st, u->uri, norm, &old) == 0) {
		if (db_home_writable(st, old.home, norm) != 0)
			return (-1);
	} else if (pp_errcode() != PP_ENOENT)
		return (-1);
	else if (db_home_writable(st, st->import_src, norm) != 0)
		return (-1);
	if ((s = db_stmt(st, "INSERT OR REPLACE INTO users"
	    " VALUES(?,?,?,?,?)")) == NULL)
		return (-1);
	db_bind_text(s, 1, u->uri);
	db_bind_text(s, 2, u->name);
	db_bind_text(s, 3, old.home);
	sqlite3_bind_int64(s, 4, u->created_ms);
	sqlite3_bind_int64(s, 5, u->updated_ms);
	return (db_done(st, s, "replica user"));
}

static int
imp_conf(struct store *st, const struct store_conf *c)
{
	struct store_conf old, row;
	struct store_user u;
	char norm[PP_URI_MAX + 1];

	if (conf_id_ok(c->id) != 0 || conf_fields_ok(c) != 0 ||
	    times_ok(c->created_ms, c->updated_ms) != 0 ||
	    uri_normal(c->organizer) != 0)
		return (-1);
	if (db_user_find(st, c->organizer, norm, &u) != 0 ||
	    db_home_writable(st, u.home, norm) != 0)
		return (-1);
	snprintf(old.home, sizeof(old.home), "%s", st->import_src);
	if (conf_find(st, c->id, &old) == 0) {
		if (db_home_writable(st, old.home, c->id) != 0)
			return (-1);
	} else if (pp_errcode() != PP_ENOENT)
		return (-1);
	row = *c;
	memcpy(row.home, old.home, sizeof(row.home));
	return (conf_write(st, &row, 1));
}

static int
imp_content(struct store *st, const struct store_content *c,
    const uint8_t *ids)
{
	struct store_content old, row = *c;
	struct store_conf cf;
	struct idlist oldids = { 0 };
	int rc = -1, had;

	if (store_content_meta_ok(c->name, c->mime) != 0 ||
	    times_ok(c->created_ms, c->updated_ms) != 0)
		return (-1);
	if ((unsigned)c->kind > STORE_KIND_ATTACHMENT || c->size < 0 ||
	    c->size > PP_CONTENT_MAX || (c->size == 0) != (c->nchunks == 0) ||
	    (int64_t)c->nchunks > c->size ||
	    c->size > (int64_t)c->nchunks * 64 * 1024) {
		pp_err(PP_EINVAL, "content %s/%.64s: kind, size or chunk count "
		    "out of bounds", c->conf, c->name);
		return (-1);
	}
	if (conf_find(st, c->conf, &cf) != 0 ||
	    db_home_writable(st, cf.home, c->conf) != 0)
		return (-1);
	if ((had = content_find(st, c->conf, c->name, &old, &oldids) == 0) ==
	    0 && (pp_errcode() != PP_ENOENT || content_room(st, c->conf) != 0))
		goto out;
	snprintf(row.home, sizeof(row.home), "%s", cf.home);
	/* New references first, so chunks shared with the old list stay. */
	if (chunks_ref(st, ids, c->nchunks) != 0 ||
	    content_row(st, &row, ids, c->nchunks) != 0 ||
	    (had && (chunks_release(st, oldids.ids, oldids.n) != 0 ||
	    prev_drop(st, c->conf, c->name) != 0)))
		goto out;
	rc = 0;
out:
	free(oldids.ids);
	return (rc);
}

static int
imp_config(struct store *st, const struct store_config *c,
    const uint8_t *body)
{
	sqlite3_stmt *s;

	if (util_token_ok(c->name, PP_CONFIG_NAME_MAX, "config document name")
	    != 0)
		return (-1);
	if (c->version < 1 || c->size > PP_CONFIG_DOC_MAX ||
	    times_ok(c->updated_ms, c->updated_ms) != 0) {
		pp_err(PP_EINVAL, "config document %s: bad version or size",
		    c->name);
		return (-1);
	}
	if ((s = db_stmt(st, "INSERT OR REPLACE INTO config_docs"
	    " VALUES(?,?,?,?)")) == NULL)
		return (-1);
	db_bind_text(s, 1, c->name);
	sqlite3_bind_int64(s, 2, c->version);
	sqlite3_bind_blob(s, 3, c->size > 0 ? body : (const uint8_t *)"",
	    (int)c->size, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, c->updated_ms);
	return (db_done(st, s, "replica config"));
}

static int
imp_config_del(struct store *st, const char *name)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, "DELETE FROM config_docs WHERE name = ?")) ==
	    NULL)
		return (-1);
	db_bind_text(s, 1, name);
	return (db_done(st, s, "replica config"));
}

static int imp_fresh(struct store *);
static void imp_new_reset(struct store *);

/*
 * An owner record: taken if its epoch follows what this pool knows (an
 * older one is stale: ignored).  If it hands this pool's own users to
 * another pool, this pool is fenced, and what it committed that the new
 * owner never had is kept as orphans first.
 */
static int
imp_owner(struct store *st, const struct store_owner *o)
{
	struct store_owner cur;
	int fresh;

	if (util_fqdn_ok(o->home) != 0 || util_fqdn_ok(o->owner) != 0 ||
	    (unsigned)o->mode > STORE_MODE_FAILINGBACK || o->epoch < 1 ||
	    o->lsn[0] < 0 || o->lsn[1] < 0) {
		pp_err(PP_EINVAL, "malformed owner record");
		return (-1);
	}
	if (owner_find(st, o->home, &cur) != 0)
		return (-1);
	if (!owner_follows(&cur, o))
		return (0);
	if (strcmp(o->home, st->pool) == 0 &&
	    strcmp(o->owner, st->pool) != 0 &&
	    strcmp(cur.owner, st->pool) == 0 &&
	    (orphans_capture(st, STORE_MOD_USERDATA, o->lsn[0]) != 0 ||
	    orphans_capture(st, STORE_MOD_CONFCONTENT, o->lsn[1]) != 0))
		return (-1);
	if (owner_write(st, o) != 0)
		return (-1);
	/*
	 * The source may now own rows this pool holds: a snapshot that
	 * looked like a first sync must track and sweep after all (owner
	 * records come first in a package: no data record went by yet).
	 */
	if (st->import_fresh && (fresh = imp_fresh(st)) <= 0) {
		if (fresh < 0)
			return (-1);
		st->import_fresh = 0;
		st->import_snapshot = 1;
	}
	return (0);
}

/* Run delete ${rc} of an absent key: an unknown key is no error. */
static int
gone(int rc)
{

	if (rc != 0 && pp_errcode() == PP_ENOENT) {
		pp_err_clear();
		return (0);
	}
	return (rc);
}

/* Apply record ${r} (inside the import's transaction). */
static int
imp_apply(struct store *st, const struct store_rec *r)
{
	const struct store_contact *c = &r->contact;
	const char *groups[PP_GROUPS_PER_USER];
	size_t i;

	switch (r->ent) {
	case STORE_E_USER:
		return (r->del ? gone(store_user_del(st, r->user.uri)) :
		    imp_user(st, &r->user));
	case STORE_E_SETTING:
		if (r->del)
			return (gone(store_setting_del(st, r->user.uri,
			    r->setting.key)));
		return (store_setting_set(st, r->user.uri, r->setting.key,
		    r->setting.value));
	case STORE_E_GROUP:
		if (r->del)
			return (gone(store_group_del(st, c->owner,
			    r->group.name)));
		if (store_group_add(st, c->owner, r->group.name) != 0 &&
		    pp_errcode() != PP_EEXIST)
			return (-1);
		return (0);
	case STORE_E_CONTACT:
		if (r->del)
			return (gone(store_contact_del(st, c->owner, c->uri)));
		/* (store_contact_put refuses a URI not in normal form.) */
		if (c->ngroups > PP_GROUPS_PER_USER) {
			pp_err(PP_ELIMIT, "a contact may be in at most %d groups",
			    PP_GROUPS_PER_USER);
			return (-1);
		}
		for (i = 0; i < c->ngroups; i++)
			groups[i] = c->groups[i];
		/* Into an empty replica there is nothing to replace. */
		return (store_contact_put(st, c->owner, c->uri, c->name,
		    c->rel, groups, c->ngroups, !st->import_fresh));
	case STORE_E_CONF:
		return (r->del ? gone(store_conf_del(st, r->conf.id)) :
		    imp_conf(st, &r->conf));
	case STORE_E_CONTENT:
		if (r->del)
			return (gone(store_content_del(st, r->content.conf,
			    r->content.name)));
		return (imp_content(st, &r->content, r->ids));
	case STORE_E_CONFIG:
		if (r->del)	/* only a snapshot's sweep deletes one */
			return (imp_config_del(st, r->config.name));
		return (imp_config(st, &r->config, r->body));
	case STORE_E_OWNER:
		return (imp_owner(st, &r->owner));
	default:
		pp_err(PP_EINVAL, "unknown record entity %d", (int)r->ent);
		return (-1);
	}
}

/* The key columns of ${r}. */
static void
rec_key(const struct store_rec *r, const char **k1, const char **k2)
{

	*k2 = "";
	switch (r->ent) {
	case STORE_E_USER: *k1 = r->user.uri; break;
	case STORE_E_SETTING: *k1 = r->user.uri; *k2 = r->setting.key; break;
	case STORE_E_GROUP: *k1 = r->contact.owner; *k2 = r->group.name; break;
	case STORE_E_CONTACT: *k1 = r->contact.owner; *k2 = r->contact.uri;
		break;
	case STORE_E_CONF: *k1 = r->conf.id; break;
	case STORE_E_CONTENT: *k1 = r->content.conf; *k2 = r->content.name;
		break;
	case STORE_E_OWNER: *k1 = r->owner.home; break;
	default: *k1 = r->config.name; break;
	}
}

/* Remember that a snapshot holds key ${r}. */
static int
imp_seen(struct store *st, const struct store_rec *r)
{
	const char *k1, *k2;
	sqlite3_stmt *s;

	rec_key(r, &k1, &k2);
	if ((s = db_stmt(st, "INSERT OR IGNORE INTO temp.imp_seen"
	    " VALUES(?,?,?)")) == NULL)
		return (-1);
	sqlite3_bind_int(s, 1, (int)r->ent);
	db_bind_text(s, 2, k1);
	db_bind_text(s, 3, k2);
	return (db_done(st, s, "import"));
}

/*
 * 1 if the replica holds nothing of this import's module in any user set
 * the source owns (a first sync: nothing to sweep), 0 if it does, -1.
 */
static int
imp_fresh(struct store *st)
{
	static const char *const sql[STORE_NMOD] = {
		"SELECT NOT EXISTS(SELECT 1 FROM users WHERE home IN ("
		" SELECT ?1 WHERE coalesce((SELECT owner FROM owners"
		" WHERE home = ?1), ?1) = ?1 UNION SELECT home FROM owners"
		" WHERE owner = ?1)) AND NOT EXISTS(SELECT 1 FROM conferences"
		" WHERE home IN (SELECT ?1 WHERE coalesce((SELECT owner FROM"
		" owners WHERE home = ?1), ?1) = ?1 UNION SELECT home FROM"
		" owners WHERE owner = ?1))",
		"SELECT NOT EXISTS(SELECT 1 FROM content WHERE home IN ("
		" SELECT ?1 WHERE coalesce((SELECT owner FROM owners"
		" WHERE home = ?1), ?1) = ?1 UNION SELECT home FROM owners"
		" WHERE owner = ?1))",
		"SELECT NOT EXISTS(SELECT 1 FROM config_docs) AND ?1 <> ''",
	};
	sqlite3_stmt *s;
	int r, v;

	if ((s = db_stmt(st, sql[st->import_module])) == NULL)
		return (-1);
	db_bind_text(s, 1, st->import_src);
	if ((r = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		return (db_fail(st, "import"));
	}
	v = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return (v);
}

int
store_import_begin(struct store *st, const char *source,
    enum store_module module, int snapshot)
{
	char master[PP_FQDN_MAX + 1];
	int fresh;

	if (st->in_tx || st->importing) {
		pp_err(PP_EINTERNAL, "store_import_begin: a transaction is open");
		return (-1);
	}
	if ((unsigned)module >= STORE_NMOD || util_fqdn_ok(source) != 0)
		return (-1);
	if (strcmp(source, st->pool) == 0) {
		pp_err(PP_EINVAL, "a pool does not import its own packages");
		return (-1);
	}
	if (store_begin(st) != 0)
		return (-1);
	if (module == STORE_MOD_CONFIG) {
		if (store_config_master(st, master) != 0)
			goto fail;
		if (strcmp(master, source) != 0) {
			pp_err(PP_EROFS, "configuration comes from the config "
			    "master (%s), not from %s", master, source);
			goto fail;
		}
	}
	if (db_exec(st, "CREATE TEMP TABLE IF NOT EXISTS imp_seen(ent INTEGER,"
	    " k1 TEXT, k2 TEXT, PRIMARY KEY(ent, k1, k2)) WITHOUT ROWID;"
	    "CREATE TEMP TABLE IF NOT EXISTS imp_spill(id BLOB PRIMARY KEY,"
	    " size INTEGER, off INTEGER, len INTEGER, refs INTEGER)"
	    " WITHOUT ROWID; DELETE FROM temp.imp_seen;"
	    " DELETE FROM temp.imp_spill;") != 0)
		goto fail;
	imp_new_reset(st);
	st->importing = 1;
	st->import_fresh = 0;
	st->import_recs = 0;
	st->import_wal_wb = 0;
	st->import_snapshot = snapshot;
	st->import_module = module;
	snprintf(st->import_src, sizeof(st->import_src), "%s", source);
	/* Into an empty replica a snapshot need not track what it saw. */
	if (snapshot && (fresh = imp_fresh(st)) != 0) {
		if (fresh < 0) {
			st->importing = 0;
			goto fail;
		}
		st->import_snapshot = 0;
		st->import_fresh = 1;
	}
	return (0);
fail:
	store_rollback(st);
	return (-1);
}

/*
 * Every IMP_WAL_EVERY records of an import, start writing back the WAL's
 * pages that SQLite spilled there since the last time (the transaction
 * outgrew the page cache).  A first sync's userdata import leaves about
 * half a gigabyte in the WAL; written back only by the commit's fsync, it
 * took the disk for a second, and the content streaming in beside it
 * stalled (docs/store.md).  A hint: nothing waits, no error.
 */
#define IMP_WAL_EVERY	65536

static void
imp_wal_behind(struct store *st)
{
	const char *wal;
	struct stat sb;
	int fd;

	if (++st->import_recs % IMP_WAL_EVERY != 0 ||
	    (wal = sqlite3_filename_wal(sqlite3_db_filename(st->db,
	    "main"))) == NULL || (fd = open(wal, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &sb) == 0) {
		if (sb.st_size < st->import_wal_wb)
			st->import_wal_wb = 0;	/* the WAL started over */
		fileio_writeback(fd, &st->import_wal_wb, sb.st_size);
	}
	close(fd);
}

int
store_import_rec(struct store *st, const struct store_rec *r)
{

	if (!st->importing) {
		pp_err(PP_EINTERNAL, "no import is open");
		return (-1);
	}
	if ((unsigned)r->ent >= STORE_NENT ||
	    ent_module[r->ent] != st->import_module) {
		pp_err(PP_EINVAL, "a %s record in a %s package",
		    (unsigned)r->ent < STORE_NENT ? jrnl_entities[r->ent] : "?",
		    store_module_name(st->import_module));
		return (-1);
	}
	if (st->import_snapshot && !r->del && imp_seen(st, r) != 0)
		return (-1);
	imp_wal_behind(st);
	return (imp_apply(st, r));
}

/*
 * A staged chunk of the import: its plaintext size, where the stage holds
 * it sealed, and the references the import's items took (or dropped).
 */
struct imp_chunk {
	uint8_t id[CRYPTO_HASH_LEN];
	int64_t size, off, len, refs;
};

/* The import's staged chunk ${id}, or NULL. */
static struct imp_chunk *
imp_new_find(const struct store *st, const uint8_t *id)
{
	size_t i, mask = st->imp_idx_cap - 1;
	uint64_t h;

	if (st->imp_nnew == 0)
		return (NULL);
	/* (A SHA-256 is as good as any hash of it.) */
	memcpy(&h, id, sizeof(h));
	for (i = (size_t)h & mask; st->imp_idx[i] != 0; i = (i + 1) & mask)
		if (memcmp(st->imp_new[st->imp_idx[i] - 1].id, id,
		    CRYPTO_HASH_LEN) == 0)
			return (&st->imp_new[st->imp_idx[i] - 1]);
	return (NULL);
}

/* Index imp_new[${j}] in imp_idx (which has room: half its slots). */
static void
imp_idx_put(struct store *st, size_t j)
{
	size_t i, mask = st->imp_idx_cap - 1;
	uint64_t h;

	memcpy(&h, st->imp_new[j].id, sizeof(h));
	for (i = (size_t)h & mask; st->imp_idx[i] != 0; i = (i + 1) & mask)
		;
	st->imp_idx[i] = (uint32_t)(j + 1);
}

/*
 * Add staged chunk ${id} (not there yet) to the import's in memory; NULL if
 * out of memory.  The caller spills past imp_new_max.
 */
static struct imp_chunk *
imp_new_add(struct store *st, const uint8_t *id)
{
	struct imp_chunk *c;
	uint32_t *idx;
	size_t cap, j;

	if (st->imp_nnew == st->imp_cnew) {
		/* (imp_new_max <= 2^30: 2^31 slots fit a uint32_t.) */
		cap = st->imp_cnew == 0 ? 4096 : st->imp_cnew * 2;
		if ((c = realloc(st->imp_new, cap * sizeof(*c))) == NULL)
			goto oom;
		st->imp_new = c;
		st->imp_cnew = cap;
		if ((idx = malloc(2 * cap * sizeof(*idx))) == NULL)
			goto oom;
		free(st->imp_idx);
		st->imp_idx = idx;
		st->imp_idx_cap = 2 * cap;
		memset(idx, 0, st->imp_idx_cap * sizeof(*idx));
		for (j = 0; j < st->imp_nnew; j++)
			imp_idx_put(st, j);
	}
	c = &st->imp_new[st->imp_nnew];
	memset(c, 0, sizeof(*c));
	memcpy(c->id, id, CRYPTO_HASH_LEN);
	imp_idx_put(st, st->imp_nnew++);
	return (c);
oom:
	pp_err(PP_EINTERNAL, "out of memory");
	return (NULL);
}

/* Forget the import's staged chunks (its index included). */
static void
imp_new_reset(struct store *st)
{

	if (st->imp_nnew > 0)
		memset(st->imp_idx, 0, st->imp_idx_cap * sizeof(*st->imp_idx));
	st->imp_nnew = 0;
	st->imp_spilled = 0;
}

/* Spill staged chunk ${id}, ${size} bytes sealed at ${off}, ${len} long. */
static int
imp_spill_add(struct store *st, const uint8_t *id, int64_t size, int64_t off,
    int64_t len)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, "INSERT INTO temp.imp_spill VALUES(?,?,?,?,0)"))
	    == NULL)
		return (-1);
	sqlite3_bind_blob(s, 1, id, CRYPTO_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, size);
	sqlite3_bind_int64(s, 3, off);
	sqlite3_bind_int64(s, 4, len);
	if (db_done(st, s, "import") != 0)
		return (-1);
	st->imp_spilled = 1;
	return (0);
}

/*
 * Add ${delta} to the references of spilled chunk ${id}: 1 if it is one
 * (with ${delta} 0, only say so), 0 if not, -1 on error.
 */
static int
imp_spill_ref(struct store *st, const uint8_t *id, int64_t delta)
{
	int n;

	if (!st->imp_spilled)
		return (0);
	if (delta == 0)		/* a lookup, not a write of the row */
		return (db_has_id(st, "SELECT 1 FROM temp.imp_spill"
		    " WHERE id = ?", id, "import"));
	if ((n = db_id_add(st, "UPDATE temp.imp_spill SET refs = refs + ?"
	    " WHERE id = ?", id, delta, "import")) < 0)
		return (-1);
	return (n > 0);
}

int
imp_chunk_ref(struct store *st, const uint8_t *id, int64_t delta)
{
	struct imp_chunk *c;

	if (!st->importing)
		return (0);
	if ((c = imp_new_find(st, id)) != NULL) {
		c->refs += delta;
		return (1);
	}
	return (imp_spill_ref(st, id, delta));
}

int
store_import_chunk(struct store *st, const uint8_t id[static CRYPTO_HASH_LEN],
    const uint8_t *data, size_t len)
{
	struct imp_chunk *c;
	uint8_t *sealed;
	int64_t off, slen;
	int held;

	if (!st->importing || st->import_module != STORE_MOD_CONFCONTENT ||
	    len == 0 || len > 64 * 1024) {
		pp_err(PP_EINVAL, "chunk of %zu bytes out of place", len);
		return (-1);
	}
	if (imp_new_find(st, id) != NULL ||
	    (held = imp_spill_ref(st, id, 0)) > 0)
		return (0);	/* twice in the package */
	if (held < 0)
		goto fail;
	/*
	 * Sealed and staged before the import began: the prestage found it
	 * not held then; if it is held by commit, the staged copy is dead.
	 */
	if (prestage_find(st->import_pre, id, &off, &slen) &&
	    slen == (int64_t)(len + CRYPTO_SEAL_OVERHEAD))
		goto add;
	if ((held = store_chunk_has(st, id)) != 0)
		return (held < 0 ? -1 : 0);
	if (data == NULL) {
		/* (Held at prestage time and deleted since.) */
		pp_err(PP_ENOENT, "a chunk of the package is neither held "
		    "nor prestaged");
		st->tx_failed = 1;
		return (-2);
	}
	/*
	 * Sealed into a stage that a thread of its own writes, so the copy
	 * into the page cache overlaps with opening the next frames; the
	 * stage becomes part of the store at commit (imp_adopt).
	 */
	if (st->import_sg == NULL && (st->import_sg = stage_open(st)) == NULL)
		goto fail;
	if ((sealed = stage_reserve(st->import_sg, len + CRYPTO_SEAL_OVERHEAD,
	    &off)) == NULL || crypto_aead_seal(st->aead, id, CRYPTO_HASH_LEN,
	    data, len, sealed) != 0)
		goto fail;
	st->import_staged += (int64_t)(len + CRYPTO_SEAL_OVERHEAD);
	slen = (int64_t)(len + CRYPTO_SEAL_OVERHEAD);
add:
	/* No row until commit (imp_adopt); refs 0 until an item takes it. */
	if (st->imp_nnew >= st->imp_new_max) {
		if (imp_spill_add(st, id, (int64_t)len, off, slen) != 0)
			goto fail;
		return (0);
	}
	if ((c = imp_new_add(st, id)) == NULL)
		goto fail;
	c->size = (int64_t)len;
	c->off = off;
	c->len = slen;
	return (0);
fail:
	st->tx_failed = 1;
	return (-1);
}

static int
imp_chunk_cmp(const void *a, const void *b)
{

	return (memcmp(a, b, CRYPTO_HASH_LEN));
}

/*
 * Staged chunk ${c} at ${base} in pack ${pack}: a row if items took it (its
 * sealed length added to ${live}), or its references added to the row
 * there; nothing if none.
 */
static int
imp_chunk_put(struct store *st, const struct imp_chunk *c, int64_t pack,
    int64_t base, int64_t *live)
{
	sqlite3_stmt *s;

	if (c->refs == 0)
		return (0);
	if (c->refs > 0) {
		if ((s = db_stmt(st, "INSERT OR IGNORE INTO chunks(id, refs,"
		    " size, pack, off, len) VALUES(?,?,?,?,?,?)")) == NULL)
			return (-1);
		sqlite3_bind_blob(s, 1, c->id, CRYPTO_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, c->refs);
		sqlite3_bind_int64(s, 3, c->size);
		sqlite3_bind_int64(s, 4, pack);
		sqlite3_bind_int64(s, 5, c->off + base);
		sqlite3_bind_int64(s, 6, c->len);
		if (db_done(st, s, "replica chunk") != 0)
			return (-1);
		if (sqlite3_changes(st->db) == 1) {
			*live += c->len;
			return (0);
		}
	}
	/*
	 * Held after all (stored since it was prestaged), or released by
	 * the import's items more often than taken: its references go to
	 * the row there, if any.
	 */
	return (chunk_refs_add(st, c->id, c->refs));
}

/* The spilled chunks, in id order, as imp_chunk_put. */
static int
imp_spill_put(struct store *st, int64_t pack, int64_t base, int64_t *live)
{
	struct imp_chunk c[64];
	sqlite3_stmt *s;
	uint8_t last[CRYPTO_HASH_LEN];
	int n, i, r, more = 1, first = 1;

	memset(last, 0, sizeof(last));
	while (more) {
		/* In rounds: the statement is done before the writes. */
		if ((s = db_stmt(st, "SELECT id, size, off, len, refs FROM"
		    " temp.imp_spill WHERE ?1 OR id > ?2 ORDER BY id LIMIT 64"))
		    == NULL)
			return (-1);
		sqlite3_bind_int(s, 1, first);
		sqlite3_bind_blob(s, 2, last, first ? 0 : CRYPTO_HASH_LEN,
		    SQLITE_STATIC);
		for (n = 0; n < 64 && (r = sqlite3_step(s)) == SQLITE_ROW; n++) {
			if (sqlite3_column_bytes(s, 0) != CRYPTO_HASH_LEN) {
				sqlite3_reset(s);
				pp_err(PP_ESTORE, "import: a spilled chunk id "
				    "is malformed");
				return (-1);
			}
			memcpy(c[n].id, sqlite3_column_blob(s, 0),
			    CRYPTO_HASH_LEN);
			c[n].size = sqlite3_column_int64(s, 1);
			c[n].off = sqlite3_column_int64(s, 2);
			c[n].len = sqlite3_column_int64(s, 3);
			c[n].refs = sqlite3_column_int64(s, 4);
		}
		if (n < 64 && r != SQLITE_DONE) {
			sqlite3_reset(s);
			return (db_fail(st, "import"));
		}
		sqlite3_reset(s);
		more = n == 64;
		first = 0;
		for (i = 0; i < n; i++)
			if (imp_chunk_put(st, &c[i], pack, base, live) != 0)
				return (-1);
		if (n > 0)
			memcpy(last, c[n - 1].id, CRYPTO_HASH_LEN);
	}
	return (db_exec(st, "DELETE FROM temp.imp_spill"));
}

/*
 * Make the import's stage part of the store: a pack of its own, or copied
 * into the current one.  Then its chunks that items took go into the
 * chunks table, in id order (neighbours in the B-tree, not a random page
 * each), pointing there; the bytes of the others are dead.
 */
static int
imp_adopt(struct store *st)
{
	int64_t pack, base, live = 0;
	int counted, spilled = st->imp_spilled;
	size_t i;

	if (st->import_sg == NULL)
		return (0);
	if (stage_sync(st->import_sg) != 0 ||
	    stage_adopt(st->import_sg, &pack, &base, &counted) != 0)
		return (-1);
	qsort(st->imp_new, st->imp_nnew, sizeof(*st->imp_new), imp_chunk_cmp);
	for (i = 0; i < st->imp_nnew; i++)
		if (imp_chunk_put(st, &st->imp_new[i], pack, base, &live) != 0)
			return (-1);
	/* (The index no longer matches the sorted array.) */
	imp_new_reset(st);
	if (spilled && imp_spill_put(st, pack, base, &live) != 0)
		return (-1);
	/* A copy was counted live whole: take off what no item kept. */
	if (counted)
		live -= st->import_staged;
	return (live != 0 ? pack_live(st, pack, live) : 0);
}

/* The replica's keys a snapshot did not hold, by entity (?1: the source). */
static const struct {
	enum store_ent ent;
	const char *sql;
} sweeps[] = {
	{ STORE_E_USER, "SELECT uri, '' FROM users WHERE home = ?1"
	  " AND NOT EXISTS (SELECT 1 FROM temp.imp_seen WHERE ent = 0"
	  " AND k1 = uri) LIMIT 64" },
	{ STORE_E_SETTING, "SELECT s.uri, s.k FROM settings s JOIN users u"
	  " ON u.uri = s.uri WHERE u.home = ?1 AND NOT EXISTS (SELECT 1"
	  " FROM temp.imp_seen WHERE ent = 1 AND k1 = s.uri AND k2 = s.k)"
	  " LIMIT 64" },
	{ STORE_E_GROUP, "SELECT g.owner, g.name FROM groups g JOIN users u"
	  " ON u.uri = g.owner WHERE u.home = ?1 AND NOT EXISTS (SELECT 1"
	  " FROM temp.imp_seen WHERE ent = 2 AND k1 = g.owner"
	  " AND k2 = g.name) LIMIT 64" },
	{ STORE_E_CONTACT, "SELECT c.owner, c.uri FROM contacts c JOIN users u"
	  " ON u.uri = c.owner WHERE u.home = ?1 AND NOT EXISTS (SELECT 1"
	  " FROM temp.imp_seen WHERE ent = 3 AND k1 = c.owner"
	  " AND k2 = c.uri) LIMIT 64" },
	{ STORE_E_CONF, "SELECT id, '' FROM conferences WHERE home = ?1"
	  " AND NOT EXISTS (SELECT 1 FROM temp.imp_seen WHERE ent = 4"
	  " AND k1 = id) LIMIT 64" },
	{ STORE_E_CONTENT, "SELECT conf, name FROM content WHERE home = ?1"
	  " AND NOT EXISTS (SELECT 1 FROM temp.imp_seen WHERE ent = 5"
	  " AND k1 = conf AND k2 = name) LIMIT 64" },
	{ STORE_E_CONFIG, "SELECT name, '' FROM config_docs WHERE ?1 <> ''"
	  " AND NOT EXISTS (SELECT 1 FROM temp.imp_seen WHERE ent = 6"
	  " AND k1 = name) LIMIT 64" },
};

#define KEYCPY(dst, src) snprintf((dst), sizeof(dst), "%.*s", \
	(int)sizeof(dst) - 1, (src))

/* Set the key fields of ${r} for entity ${ent}. */
static void
rec_set_key(struct store_rec *r, enum store_ent ent, const char *k1,
    const char *k2)
{

	memset(r, 0, sizeof(*r));
	r->ent = ent;
	r->del = 1;
	switch (ent) {
	case STORE_E_USER:
	case STORE_E_SETTING:
		KEYCPY(r->user.uri, k1);
		KEYCPY(r->setting.key, k2);
		break;
	case STORE_E_GROUP:
	case STORE_E_CONTACT:
		KEYCPY(r->contact.owner, k1);
		KEYCPY(r->group.name, k2);
		KEYCPY(r->contact.uri, k2);
		break;
	case STORE_E_CONF:
		KEYCPY(r->conf.id, k1);
		break;
	case STORE_E_CONTENT:
		KEYCPY(r->content.conf, k1);
		KEYCPY(r->content.name, k2);
		break;
	default:
		KEYCPY(r->config.name, k1);
		break;
	}
}

/*
 * Delete, in rounds of 64, the keys of sweep ${i} homed at ${home} that the
 * snapshot lacked.
 */
static int
imp_sweep_one(struct store *st, size_t i, const char *home)
{
	struct sweep {
		struct store_rec r;
		char k[64][2][PP_URI_MAX + 1];
	} *w;
	sqlite3_stmt *s;
	int n, j, rc = -1;

	if ((w = malloc(sizeof(*w))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	do {
		if ((s = db_stmt(st, sweeps[i].sql)) == NULL)
			goto out;
		db_bind_text(s, 1, home);
		for (n = 0; n < 64 && sqlite3_step(s) == SQLITE_ROW; n++) {
			db_col_text(s, 0, w->k[n][0], sizeof(w->k[n][0]));
			db_col_text(s, 1, w->k[n][1], sizeof(w->k[n][1]));
		}
		sqlite3_reset(s);
		for (j = 0; j < n; j++) {
			rec_set_key(&w->r, sweeps[i].ent, w->k[j][0],
			    w->k[j][1]);
			if (imp_apply(st, &w->r) != 0)
				goto out;
		}
	} while (n == 64);
	rc = 0;
out:
	free(w);
	return (rc);
}

/*
 * After a snapshot: delete what it lacked in every user set the source
 * owns (its own, or this pool's while failed over to it).
 */
static int
imp_sweep(struct store *st)
{
	char homes[8][PP_FQDN_MAX + 1];
	sqlite3_stmt *s;
	size_t i;
	int n = 0, h;

	if ((s = db_stmt(st, "SELECT ?1 WHERE coalesce((SELECT owner FROM"
	    " owners WHERE home = ?1), ?1) = ?1 UNION SELECT home FROM owners"
	    " WHERE owner = ?1 AND home <> ?1")) == NULL)
		return (-1);
	db_bind_text(s, 1, st->import_src);
	while (n < 8 && sqlite3_step(s) == SQLITE_ROW)
		db_col_text(s, 0, homes[n++], sizeof(homes[0]));
	sqlite3_reset(s);
	for (i = 0; i < sizeof(sweeps) / sizeof(sweeps[0]); i++) {
		if (ent_module[sweeps[i].ent] != st->import_module)
			continue;
		/* Config documents have no home: the master's are all. */
		if (sweeps[i].ent == STORE_E_CONFIG) {
			if (imp_sweep_one(st, i, st->import_src) != 0)
				return (-1);
			continue;
		}
		for (h = 0; h < n; h++)
			if (imp_sweep_one(st, i, homes[h]) != 0)
				return (-1);
	}
	return (0);
}

int
store_import_commit(struct store *st, const struct store_replica *rep)
{
	sqlite3_stmt *s;
	int rc;

	if (!st->importing) {
		pp_err(PP_EINTERNAL, "no import is open");
		return (-1);
	}
	if (st->import_snapshot && imp_sweep(st) != 0)
		goto fail;
	if (imp_adopt(st) != 0)
		goto fail;
	if ((s = db_stmt(st, "INSERT OR REPLACE INTO replicas"
	    " VALUES(?,?,?,?,?,?,?)")) == NULL)
		goto fail;
	db_bind_text(s, 1, st->import_src);
	sqlite3_bind_int(s, 2, (int)st->import_module);
	sqlite3_bind_int64(s, 3, rep->epoch);
	sqlite3_bind_int64(s, 4, rep->lsn);
	sqlite3_bind_blob(s, 5, rep->pkg, sizeof(rep->pkg), SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, util_now_ms());
	sqlite3_bind_int64(s, 7, rep->records);
	if (db_done(st, s, "import") != 0)
		goto fail;
	st->importing = 0;
	imp_new_reset(st);
	rc = store_commit(st);
	stage_free(st->import_sg);
	st->import_sg = NULL;
	st->import_staged = 0;
	store_prestage_free(st->import_pre);
	st->import_pre = NULL;
	return (rc);
fail:
	store_import_rollback(st);
	return (-1);
}

void
store_import_rollback(struct store *st)
{

	st->importing = 0;
	imp_new_reset(st);
	store_rollback(st);
	stage_free(st->import_sg);
	st->import_sg = NULL;
	st->import_staged = 0;
	store_prestage_free(st->import_pre);
	st->import_pre = NULL;
}

/* Fill ${out} from a row of (source, module, epoch, lsn, pkg, imported, records). */
static void
replica_row(sqlite3_stmt *s, struct store_replica *out)
{

	memset(out, 0, sizeof(*out));
	db_col_text(s, 0, out->source, sizeof(out->source));
	out->module = (enum store_module)sqlite3_column_int(s, 1);
	out->epoch = sqlite3_column_int64(s, 2);
	out->lsn = sqlite3_column_int64(s, 3);
	if (sqlite3_column_bytes(s, 4) == (int)sizeof(out->pkg))
		memcpy(out->pkg, sqlite3_column_blob(s, 4), sizeof(out->pkg));
	out->imported_ms = sqlite3_column_int64(s, 5);
	out->records = sqlite3_column_int64(s, 6);
}

int
store_replica_get(struct store *st, const char *source,
    enum store_module module, struct store_replica *out)
{
	sqlite3_stmt *s;
	int r, rc = -1;

	if (db_rbegin(st) != 0)
		return (-1);
	if ((s = db_stmt(st, "SELECT * FROM replicas WHERE source = ?"
	    " AND module = ?")) == NULL)
		goto out;
	db_bind_text(s, 1, source);
	sqlite3_bind_int(s, 2, (int)module);
	if ((r = sqlite3_step(s)) != SQLITE_ROW) {
		if (r == SQLITE_DONE)
			pp_err(PP_ENOENT, "nothing of %s's %s was imported yet",
			    source, store_module_name(module));
		else
			db_fail(st, "replica state");
		goto out;
	}
	replica_row(s, out);
	sqlite3_reset(s);
	rc = 0;
out:
	db_rend(st);
	return (rc);
}

int
store_replica_list(struct store *st, store_replica_cb *cb, void *arg)
{
	struct store_replica rep;
	sqlite3_stmt *s;
	int r, rc = -1;

	if (db_rbegin(st) != 0)
		return (-1);
	if ((s = db_stmt(st, "SELECT * FROM replicas ORDER BY source, module"))
	    == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		replica_row(s, &rep);
		if (cb(arg, &rep) != 0)
			goto out;
	}
	if (r != SQLITE_DONE) {
		db_fail(st, "replica list");
		goto out;
	}
	rc = 0;
out:
	db_rend(st);
	return (rc);
}
