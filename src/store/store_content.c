/*
 * store_content.c: conference content (module confcontent).  An item is
 * metadata plus the ordered list of its chunks' ids; each chunk is stored
 * once, sealed with AES-256-GCM under the storage key (its id as additional
 * data, so a chunk cannot be passed off as another), in a pack file
 * (store_pack.c), with a reference count.  Uploads come in through
 * store_upload.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunker.h"
#include "err.h"
#include "store_int.h"
#include "util.h"

/* Check an item's name and MIME type ("type/subtype", token characters). */
int
store_content_meta_ok(const char *name, const char *mime)
{
	size_t i, slash = 0;

	if (util_text_ok(name, PP_CONTENT_NAME_MAX, "content name") != 0)
		return (-1);
	if (strnlen(mime, PP_MIME_MAX + 1) > PP_MIME_MAX)
		goto bad;
	for (i = 0; mime[i] != '\0'; i++) {
		if (mime[i] == '/') {
			if (slash++ || i == 0 || mime[i + 1] == '\0')
				goto bad;
		} else if (!((mime[i] >= 'a' && mime[i] <= 'z') ||
		    (mime[i] >= 'A' && mime[i] <= 'Z') ||
		    (mime[i] >= '0' && mime[i] <= '9') ||
		    strchr("!#$&^_.+-", mime[i]) != NULL))
			goto bad;
	}
	if (slash == 1)
		return (0);
bad:
	pp_err(PP_EINVAL, "'%.40s' is not a MIME type (type/subtype)", mime);
	return (-1);
}

int
chunks_ref(struct store *st, const uint8_t *ids, size_t n)
{
	sqlite3_stmt *s;
	char hex[17];
	size_t i;

	for (i = 0; i < n; i++) {
		if (imp_chunk_ref(st, ids + i * CRYPTO_HASH_LEN, 1))
			continue;
		if ((s = db_stmt(st, "UPDATE chunks SET refs = refs + 1"
		    " WHERE id = ?")) == NULL)
			return (-1);
		sqlite3_bind_blob(s, 1, ids + i * CRYPTO_HASH_LEN,
		    CRYPTO_HASH_LEN, SQLITE_STATIC);
		if (db_done(st, s, "chunk reference") != 0)
			return (-1);
		if (sqlite3_changes(st->db) == 0) {
			util_hex(hex, ids + i * CRYPTO_HASH_LEN, 8);
			pp_err(PP_ENOENT, "chunk %s... is not in this store",
			    hex);
			return (-1);
		}
	}
	return (0);
}

int
chunk_refs_add(struct store *st, const uint8_t *id, int64_t delta)
{
	sqlite3_stmt *s;
	int64_t pack = 0, len = 0;
	int r;

	if (db_id_add(st, "UPDATE chunks SET refs = refs + ? WHERE id = ?",
	    id, delta, "chunk reference") < 0)
		return (-1);
	if (delta > 0)
		return (0);
	if ((s = db_stmt(st, "DELETE FROM chunks WHERE id = ?"
	    " AND refs <= 0 RETURNING pack, len")) == NULL)
		return (-1);
	sqlite3_bind_blob(s, 1, id, CRYPTO_HASH_LEN, SQLITE_STATIC);
	if ((r = sqlite3_step(s)) == SQLITE_ROW) {
		pack = sqlite3_column_int64(s, 0);
		len = sqlite3_column_int64(s, 1);
		r = sqlite3_step(s);
	}
	if (r != SQLITE_DONE)
		return (db_fail(st, "chunk free"));
	return (pack != 0 ? pack_live(st, pack, -len) : 0);
}

/* Drop one reference to each of the ${n} chunks ${ids}; free unused ones. */
int
chunks_release(struct store *st, const uint8_t *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!imp_chunk_ref(st, ids + i * CRYPTO_HASH_LEN, -1) &&
		    chunk_refs_add(st, ids + i * CRYPTO_HASH_LEN, -1) != 0)
			return (-1);
	return (0);
}

static int
id_cmp(const void *a, const void *b)
{

	return (memcmp(a, b, CRYPTO_HASH_LEN));
}

/* How many of the ${n} ids ${ids} are not among the ${nn} ids ${nw}. */
static int
ids_unshared(const uint8_t *ids, size_t n, const uint8_t *nw, size_t nn,
    size_t *out)
{
	uint8_t *sorted;
	size_t i;

	*out = 0;
	if (nn > 0) {
		if ((sorted = malloc(nn * CRYPTO_HASH_LEN)) == NULL) {
			pp_err(PP_EINTERNAL, "out of memory");
			return (-1);
		}
		memcpy(sorted, nw, nn * CRYPTO_HASH_LEN);
		qsort(sorted, nn, CRYPTO_HASH_LEN, id_cmp);
	} else
		sorted = NULL;
	for (i = 0; i < n; i++)
		if (sorted == NULL || bsearch(ids + i * CRYPTO_HASH_LEN,
		    sorted, nn, CRYPTO_HASH_LEN, id_cmp) == NULL)
			(*out)++;
	free(sorted);
	return (0);
}

int
prev_load(struct store *st, const char *conf, const char *name,
    struct idlist *out, int64_t *lsn, int64_t *base)
{
	sqlite3_stmt *s;
	size_t len;
	int r;

	memset(out, 0, sizeof(*out));
	if ((s = db_stmt(st, "SELECT chunks, lsn, base FROM content_prev"
	    " WHERE conf = ? AND name = ?")) == NULL)
		return (-1);
	db_bind_text(s, 1, conf);
	db_bind_text(s, 2, name);
	if ((r = sqlite3_step(s)) == SQLITE_DONE) {
		sqlite3_reset(s);
		return (0);
	}
	if (r != SQLITE_ROW)
		return (db_fail(st, "previous chunk list"));
	len = (size_t)sqlite3_column_bytes(s, 0);
	if (len > 0 && (out->ids = malloc(len)) == NULL) {
		sqlite3_reset(s);
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	if (len > 0)
		memcpy(out->ids, sqlite3_column_blob(s, 0), len);
	out->n = out->cap = len / CRYPTO_HASH_LEN;
	if (lsn != NULL)
		*lsn = sqlite3_column_int64(s, 1);
	if (base != NULL)
		*base = sqlite3_column_int64(s, 2);
	sqlite3_reset(s);
	return (0);
}

int
prev_drop(struct store *st, const char *conf, const char *name)
{
	struct idlist p;
	sqlite3_stmt *s;
	int rc = -1;

	if (prev_load(st, conf, name, &p, NULL, NULL) != 0)
		return (-1);
	if (p.ids == NULL)
		return (0);
	if ((s = db_stmt(st, "DELETE FROM content_prev WHERE conf = ?"
	    " AND name = ?")) != NULL) {
		db_bind_text(s, 1, conf);
		db_bind_text(s, 2, name);
		if (db_done(st, s, "previous chunk list") == 0)
			rc = chunks_release(st, p.ids, p.n);
	}
	free(p.ids);
	return (rc);
}

/*
 * Item ${c} was just replaced (the put journaled at LSN ${lsn}): its old
 * version, made by the put at ${oldlsn}, had the chunk list ${old}; the
 * new one has the ${nn} ids ${nw}.  The previous version to keep, with
 * its chunks' references, is the one the partner most likely holds: the
 * one kept already if the partner has not acknowledged the put that
 * replaced it (a quick succession of versions: those in between are
 * released), else the old one.  It is kept only if what changed is small
 * enough for an edit to pay (PREV_KEEP_MAX chunks, and at most half of
 * the previous ones unless only a few); else it is released too.
 */
static int
prev_replace(struct store *st, const struct store_content *c,
    struct idlist *old, int64_t oldlsn, const uint8_t *nw, size_t nn,
    int64_t lsn)
{
	struct idlist kept;
	struct idlist *p = old;
	sqlite3_stmt *s;
	int64_t plsn = 0, pbase = 0, epoch, next, floor;
	size_t gone;
	int rc = -1;

	if (prev_load(st, c->conf, c->name, &kept, &plsn, &pbase) != 0 ||
	    modstate_get(st, STORE_MOD_CONFCONTENT, &epoch, &next, &floor) !=
	    0)
		goto out;
	if (kept.ids != NULL && plsn > floor) {
		/* The partner has not the version in between: release it. */
		if (chunks_release(st, old->ids, old->n) != 0)
			goto out;
		p = &kept;
	} else {
		if (kept.ids != NULL && prev_drop(st, c->conf, c->name) != 0)
			goto out;
		plsn = lsn;
		pbase = oldlsn;
	}
	if (ids_unshared(p->ids, p->n, nw, nn, &gone) != 0)
		goto out;
	if (gone == 0 || gone > PREV_KEEP_MAX || (gone > 4 && gone * 2 >
	    p->n)) {
		if ((p == &kept && prev_drop(st, c->conf, c->name) != 0) ||
		    (p == old && chunks_release(st, old->ids, old->n) != 0))
			goto out;
		rc = 0;
		goto out;
	}
	if ((s = db_stmt(st, "INSERT OR REPLACE INTO content_prev"
	    " VALUES(?,?,?,?,?)")) == NULL)
		goto out;
	db_bind_text(s, 1, c->conf);
	db_bind_text(s, 2, c->name);
	sqlite3_bind_int64(s, 3, plsn);
	sqlite3_bind_int64(s, 4, pbase);
	sqlite3_bind_blob(s, 5, p->ids, (int)(p->n * CRYPTO_HASH_LEN),
	    SQLITE_STATIC);
	rc = db_done(st, s, "previous chunk list");
out:
	free(kept.ids);
	return (rc);
}

int
prev_prune(struct store *st, int64_t upto)
{
	sqlite3_stmt *s;
	uint8_t *ids;
	size_t len;
	int r, rc = -1;

	/* Release each list, then delete the rows (not while reading). */
	if ((s = db_stmt(st, "SELECT chunks FROM content_prev WHERE lsn <= ?"))
	    == NULL)
		return (-1);
	sqlite3_bind_int64(s, 1, upto);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		len = (size_t)sqlite3_column_bytes(s, 0);
		if ((ids = malloc(len + 1)) == NULL) {
			sqlite3_reset(s);
			pp_err(PP_EINTERNAL, "out of memory");
			return (-1);
		}
		memcpy(ids, sqlite3_column_blob(s, 0), len);
		rc = chunks_release(st, ids, len / CRYPTO_HASH_LEN);
		free(ids);
		if (rc != 0) {
			sqlite3_reset(s);
			return (-1);
		}
	}
	sqlite3_reset(s);
	if (r != SQLITE_DONE)
		return (db_fail(st, "previous chunk lists"));
	if ((s = db_stmt(st, "DELETE FROM content_prev WHERE lsn <= ?")) ==
	    NULL)
		return (-1);
	sqlite3_bind_int64(s, 1, upto);
	return (db_done(st, s, "previous chunk lists"));
}

/*
 * Load item ${conf}/${name} into ${c}; if ${ids} is not NULL, also its
 * chunk list (caller frees ids->ids).  PP_ENOENT if there is none.
 */
int
content_find(struct store *st, const char *conf, const char *name,
    struct store_content *c, struct idlist *ids)
{
	sqlite3_stmt *s;
	size_t blen;
	int r;

	if ((s = db_stmt(st, "SELECT conf, name, kind, mime, size, sha256,"
	    " chunks, created, updated, home, lsn FROM content WHERE conf = ?"
	    " AND name = ?")) == NULL)
		return (-1);
	db_bind_text(s, 1, conf);
	db_bind_text(s, 2, name);
	if ((r = sqlite3_step(s)) == SQLITE_DONE) {
		pp_err(PP_ENOENT, "conference %s has no content '%s'", conf,
		    name);
		return (-1);
	}
	if (r != SQLITE_ROW)
		return (db_fail(st, "content lookup"));
	db_col_text(s, 0, c->conf, sizeof(c->conf));
	db_col_text(s, 1, c->name, sizeof(c->name));
	c->kind = (enum store_kind)sqlite3_column_int(s, 2);
	db_col_text(s, 3, c->mime, sizeof(c->mime));
	c->size = sqlite3_column_int64(s, 4);
	if (sqlite3_column_bytes(s, 5) == CRYPTO_HASH_LEN)
		memcpy(c->sha256, sqlite3_column_blob(s, 5), CRYPTO_HASH_LEN);
	blen = (size_t)sqlite3_column_bytes(s, 6);
	c->nchunks = blen / CRYPTO_HASH_LEN;
	c->nnew = 0;
	c->created_ms = sqlite3_column_int64(s, 7);
	c->updated_ms = sqlite3_column_int64(s, 8);
	db_col_text(s, 9, c->home, sizeof(c->home));
	c->primary = strcmp(c->home, st->pool) == 0;
	c->lsn = sqlite3_column_int64(s, 10);
	if (ids != NULL && blen > 0) {
		if (blen % CRYPTO_HASH_LEN != 0) {
			pp_err(PP_ESTORE, "store %s is corrupted (chunk list "
			    "of %s/%s)", st->dir, conf, name);
			return (-1);
		}
		if ((ids->ids = malloc(blen)) == NULL) {
			pp_err(PP_EINTERNAL, "out of memory");
			return (-1);
		}
		memcpy(ids->ids, sqlite3_column_blob(s, 6), blen);
		ids->n = ids->cap = c->nchunks;
	}
	sqlite3_reset(s);
	return (0);
}

/* Write the item row of ${c} with the chunk list ${ids}, and journal it. */
int
content_row(struct store *st, const struct store_content *c,
    const uint8_t *ids, size_t n)
{
	sqlite3_stmt *s;

	/* Journaled first: the row records its put's LSN. */
	if (jrnl_append(st, STORE_MOD_CONFCONTENT, "content", c->conf,
	    c->name, "put") != 0)
		return (-1);
	if ((s = db_stmt(st, "INSERT OR REPLACE INTO content"
	    " VALUES(?,?,?,?,?,?,?,?,?,?,?)")) == NULL)
		return (-1);
	db_bind_text(s, 1, c->conf);
	db_bind_text(s, 2, c->name);
	sqlite3_bind_int(s, 3, (int)c->kind);
	db_bind_text(s, 4, c->mime);
	sqlite3_bind_int64(s, 5, c->size);
	sqlite3_bind_blob(s, 6, c->sha256, CRYPTO_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(s, 7, ids != NULL ? ids : (const uint8_t *)"",
	    (int)(n * CRYPTO_HASH_LEN), SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, c->created_ms);
	sqlite3_bind_int64(s, 9, c->updated_ms);
	db_bind_text(s, 10, c->home);
	sqlite3_bind_int64(s, 11, st->importing ? 0 :
	    st->mod[STORE_MOD_CONFCONTENT].next_lsn - 1);
	return (db_done(st, s, "content put"));
}

/* Refuse a new item in a conference that holds the most allowed. */
int
content_room(struct store *st, const char *conf)
{
	sqlite3_stmt *s;
	int64_t n;

	if ((s = db_stmt(st, "SELECT count(*) FROM content WHERE conf = ?")) ==
	    NULL)
		return (-1);
	db_bind_text(s, 1, conf);
	if (sqlite3_step(s) != SQLITE_ROW)
		return (db_fail(st, "content count"));
	n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (n >= PP_CONTENT_PER_CONF) {
		pp_err(PP_ELIMIT, "conference %s already has %d content items, "
		    "the most allowed", conf, PP_CONTENT_PER_CONF);
		return (-1);
	}
	return (0);
}

/* The metadata transaction of a put: chunks, item row, old chunks. */
int
content_put_commit(struct store *st, struct store_content *c,
    struct upload *u)
{
	struct store_content old;
	struct idlist oldids = { 0 };
	int rc = -1, had;

	if (db_wbegin(st) != 0)
		return (-1);
	if (conf_writable(st, c->conf) != 0)
		goto out;
	if ((had = content_find(st, c->conf, c->name, &old, &oldids) == 0) ==
	    0 && (pp_errcode() != PP_ENOENT || content_room(st, c->conf) != 0))
		goto out;
	c->updated_ms = util_now_ms();
	c->created_ms = had ? old.created_ms : c->updated_ms;
	snprintf(c->home, sizeof(c->home), "%s", st->pool);
	c->primary = 1;
	/* New references first, so chunks shared with the old list stay. */
	if (upload_commit(st, u) != 0 ||
	    content_row(st, c, u->ids, u->n) != 0 ||
	    (had && prev_replace(st, c, &oldids, old.lsn, u->ids, u->n,
	    st->mod[STORE_MOD_CONFCONTENT].next_lsn - 1) != 0))
		goto out;
	rc = 0;
out:
	free(oldids.ids);
	return (db_wend(st, rc));
}

int
content_put_read(struct store *st, const char *conf, const char *name,
    enum store_kind kind, const char *mime, int fd, struct store_content *c,
    struct upload *u, const struct upload_ahead *ahead)
{
	int rc;

	memset(c, 0, sizeof(*c));
	memset(u, 0, sizeof(*u));
	if (store_content_meta_ok(name, mime) != 0)
		return (-1);
	if ((unsigned)kind > STORE_KIND_ATTACHMENT) {
		pp_err(PP_EINVAL, "unknown content kind");
		return (-1);
	}
	/* Fail fast, before reading what may be gigabytes. */
	if (db_rbegin(st) != 0)
		return (-1);
	rc = conf_writable(st, conf);
	db_rend(st);
	if (rc != 0)
		return (-1);
	snprintf(c->conf, sizeof(c->conf), "%s", conf);
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->mime, sizeof(c->mime), "%s", mime);
	c->kind = kind;
	/* The input is read without the write lock held (store_upload.c). */
	u->ahead = ahead;
	if (upload_read(st, fd, u, ahead == NULL) != 0)
		return (-1);
	c->size = u->size;
	memcpy(c->sha256, u->sha256, CRYPTO_HASH_LEN);
	c->nchunks = u->n;
	return (0);
}

int
store_content_put(struct store *st, const char *conf, const char *name,
    enum store_kind kind, const char *mime, int fd, struct store_content *out)
{
	struct store_content c;
	struct upload u;
	int rc;

	if ((rc = content_put_read(st, conf, name, kind, mime, fd, &c, &u,
	    NULL)) == 0) {
		rc = content_put_commit(st, &c, &u);
		c.nnew = u.nnew;
	}
	upload_free(&u);
	if (rc == 0 && out != NULL)
		*out = c;
	return (rc);
}

/* Delete item ${conf}/${name} (known to exist) and journal it. */
static int
content_del_one(struct store *st, const char *conf, const char *name)
{
	struct store_content c;
	struct idlist ids = { 0 };
	sqlite3_stmt *s;
	int rc = -1;

	if (content_find(st, conf, name, &c, &ids) != 0)
		return (-1);
	if ((s = db_stmt(st, "DELETE FROM content WHERE conf = ?"
	    " AND name = ?")) == NULL)
		goto out;
	db_bind_text(s, 1, conf);
	db_bind_text(s, 2, name);
	if (db_done(st, s, "content delete") != 0 ||
	    chunks_release(st, ids.ids, ids.n) != 0 ||
	    prev_drop(st, conf, name) != 0 ||
	    jrnl_append(st, STORE_MOD_CONFCONTENT, "content", conf, name,
	    "del") != 0)
		goto out;
	rc = 0;
out:
	free(ids.ids);
	return (rc);
}

int
content_del_conf(struct store *st, const char *conf)
{
	char name[PP_CONTENT_NAME_MAX + 1];
	sqlite3_stmt *s;
	int r;

	for (;;) {
		if ((s = db_stmt(st, "SELECT name FROM content WHERE conf = ?"
		    " LIMIT 1")) == NULL)
			return (-1);
		db_bind_text(s, 1, conf);
		if ((r = sqlite3_step(s)) == SQLITE_DONE)
			return (0);
		if (r != SQLITE_ROW)
			return (db_fail(st, "content list"));
		db_col_text(s, 0, name, sizeof(name));
		sqlite3_reset(s);
		if (content_del_one(st, conf, name) != 0)
			return (-1);
	}
}

int
store_content_del(struct store *st, const char *conf, const char *name)
{
	int rc = -1;

	if (db_wbegin(st) != 0)
		return (-1);
	if (conf_writable(st, conf) != 0)
		goto out;
	rc = content_del_one(st, conf, name);
out:
	return (db_wend(st, rc));
}

int
chunk_load(struct store *st, const struct store_content *c,
    const uint8_t *id, uint8_t *sealed, uint8_t *pt, size_t *len, int verify)
{
	uint8_t check[CRYPTO_HASH_LEN];
	char hex[2 * CRYPTO_HASH_LEN + 1];
	sqlite3_stmt *s;
	int64_t pack, off, dlen;
	int r;

	util_hex(hex, id, CRYPTO_HASH_LEN);
	if ((s = db_stmt(st, "SELECT pack, off, len FROM chunks WHERE id = ?"))
	    == NULL)
		return (-1);
	sqlite3_bind_blob(s, 1, id, CRYPTO_HASH_LEN, SQLITE_STATIC);
	if ((r = sqlite3_step(s)) != SQLITE_ROW) {
		if (r != SQLITE_DONE)
			return (db_fail(st, "chunk read"));
		pp_err(PP_ESTORE, "store %s is corrupted: chunk %.16s of "
		    "%s/%s is missing", st->dir, hex, c ? c->conf : "-",
		    c ? c->name : "-");
		return (-1);
	}
	pack = sqlite3_column_int64(s, 0);
	off = sqlite3_column_int64(s, 1);
	dlen = sqlite3_column_int64(s, 2);
	sqlite3_reset(s);
	if (pack == 0 && st->importing) {
		/* Staged by this import: a package that reads back what it
		 * wrote (an item edited twice in it) is refused. */
		pp_err(PP_EINVAL, "chunk %.16s came with this package and is "
		    "not stored yet", hex);
		return (-1);
	}
	if (dlen < CRYPTO_SEAL_OVERHEAD || dlen > STORE_SEALED_MAX || off < 0) {
		pp_err(PP_ESTORE, "store %s is corrupted: bad location of "
		    "chunk %.16s", st->dir, hex);
		return (-1);
	}
	if (pack_read(st, pack, off, sealed, (size_t)dlen) != 0)
		return (-1);
	if (crypto_aead_open(st->aead, id, CRYPTO_HASH_LEN, sealed,
	    (size_t)dlen, pt) != 0 || (verify &&
	    (crypto_sha256(pt, (size_t)dlen - CRYPTO_SEAL_OVERHEAD, check) != 0 ||
	    !crypto_eq(check, id, CRYPTO_HASH_LEN)))) {
		pp_err(PP_ESTORE, "chunk %.16s of %s/%s failed authentication: "
		    "the store is corrupted or was tampered with", hex,
		    c ? c->conf : "-", c ? c->name : "-");
		return (-1);
	}
	*len = (size_t)dlen - CRYPTO_SEAL_OVERHEAD;
	return (0);
}

int
store_content_get(struct store *st, const char *conf, const char *name,
    int fd, struct store_content *out)
{
	struct store_content c;
	struct idlist ids = { 0 };
	uint8_t *pt = NULL, *sealed = NULL, sum[CRYPTO_HASH_LEN];
	int64_t total = 0;
	size_t i, len = 0;
	int rc = -1;

	if (db_rbegin(st) != 0)
		return (-1);
	if (conf_exists(st, conf) != 0 ||
	    content_find(st, conf, name, &c, &ids) != 0)
		goto out;
	if ((pt = malloc(STORE_SEALED_MAX)) == NULL ||
	    (sealed = malloc(STORE_SEALED_MAX)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		goto out;
	}
	if (crypto_hash_reset(st->hash) != 0)
		goto out;
	for (i = 0; i < ids.n; i++) {
		if (chunk_load(st, &c, ids.ids + i * CRYPTO_HASH_LEN, sealed,
		    pt, &len, 1) != 0 ||
		    crypto_hash_update(st->hash, pt, len) != 0)
			goto out;
		if (util_write_all(fd, pt, len) != 0) {
			pp_errp(PP_EIO, "cannot write the content");
			goto out;
		}
		total += (int64_t)len;
	}
	if (crypto_hash_final(st->hash, sum) != 0)
		goto out;
	if (total != c.size || !crypto_eq(sum, c.sha256, CRYPTO_HASH_LEN)) {
		pp_err(PP_ESTORE, "content %s/%s does not match its checksum: "
		    "the store is corrupted", conf, name);
		goto out;
	}
	if (out != NULL)
		*out = c;
	rc = 0;
out:
	free(sealed);
	free(pt);
	free(ids.ids);
	db_rend(st);
	return (rc);
}

int
store_content_ids(struct store *st, const char *conf, const char *name,
    uint8_t **ids, size_t *n)
{
	struct store_content c;
	struct idlist l = { 0 };
	int rc;

	*ids = NULL;
	*n = 0;
	if (db_rbegin(st) != 0)
		return (-1);
	rc = content_find(st, conf, name, &c, &l);
	db_rend(st);
	if (rc == 0) {
		*ids = l.ids;
		*n = l.n;
	} else
		free(l.ids);
	return (rc);
}

int
store_content_info(struct store *st, const char *conf, const char *name,
    struct store_content *out)
{
	int rc = -1;

	if (db_rbegin(st) != 0)
		return (-1);
	if (conf_exists(st, conf) == 0)
		rc = content_find(st, conf, name, out, NULL);
	db_rend(st);
	return (rc);
}

int
store_content_list(struct store *st, const char *conf, store_content_cb *cb,
    void *arg)
{
	struct store_content c;
	sqlite3_stmt *s;
	int rc = -1, r;

	memset(&c, 0, sizeof(c));
	if (db_rbegin(st) != 0)
		return (-1);
	if (conf != NULL) {
		if (conf_exists(st, conf) != 0)
			goto out;
		if ((s = db_stmt(st, "SELECT conf, name, kind, mime, size,"
		    " sha256, length(chunks), created, updated, home"
		    " FROM content WHERE conf = ? ORDER BY name")) != NULL)
			db_bind_text(s, 1, conf);
	} else
		s = db_stmt(st, "SELECT conf, name, kind, mime, size, sha256,"
		    " length(chunks), created, updated, home FROM content"
		    " ORDER BY conf, name");
	if (s == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		db_col_text(s, 0, c.conf, sizeof(c.conf));
		db_col_text(s, 1, c.name, sizeof(c.name));
		c.kind = (enum store_kind)sqlite3_column_int(s, 2);
		db_col_text(s, 3, c.mime, sizeof(c.mime));
		c.size = sqlite3_column_int64(s, 4);
		if (sqlite3_column_bytes(s, 5) == CRYPTO_HASH_LEN)
			memcpy(c.sha256, sqlite3_column_blob(s, 5),
			    CRYPTO_HASH_LEN);
		c.nchunks = (size_t)sqlite3_column_int64(s, 6) /
		    CRYPTO_HASH_LEN;
		c.created_ms = sqlite3_column_int64(s, 7);
		c.updated_ms = sqlite3_column_int64(s, 8);
		db_col_text(s, 9, c.home, sizeof(c.home));
		c.primary = strcmp(c.home, st->pool) == 0;
		if (cb(arg, &c) != 0)
			goto out;
	}
	if (r != SQLITE_DONE) {
		db_fail(st, "content list");
		goto out;
	}
	rc = 0;
out:
	db_rend(st);
	return (rc);
}
