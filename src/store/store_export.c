/*
 * store_export.c: the data this pool writes, walked as records for a
 * package: the latest state of every key the journal shows changed since
 * an LSN (coalesced), or everything (a snapshot); and the journal's floor
 * and pruning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "store_int.h"
#include "util.h"

struct exp {
	struct store *st;
	store_rec_cb *cb;
	void *arg;
	struct store_rec r;
	uint8_t *body;		/* a config document, freed after use */
	struct idlist ids;	/* a content item's chunks */
	struct idlist prev;	/* ... and its previous ones, if kept */
	int want_prev;		/* load them (changes, not snapshots) */
};

/* Hand ${e}->r to the callback and free what it pointed to. */
static int
exp_emit(struct exp *e)
{
	int rc;

	e->r.ids = e->ids.ids;
	e->r.prev = e->prev.ids;
	e->r.nprev = e->prev.n;
	e->r.body = e->body;
	rc = e->cb(e->arg, &e->r);
	free(e->ids.ids);
	free(e->prev.ids);
	free(e->body);
	memset(&e->ids, 0, sizeof(e->ids));
	memset(&e->prev, 0, sizeof(e->prev));
	e->body = NULL;
	if (rc != 0) {
		if (pp_errcode() == PP_OK)
			pp_err(PP_EINTERNAL, "export stopped");
		return (-1);
	}
	return (0);
}

/*
 * Fill e->r with the state of key ${ent} ${k1} ${k2}: the row, or del if
 * the key is gone.  Returns 0 or -1.
 */
static int
exp_key(struct exp *e, enum store_ent ent, const char *k1, const char *k2)
{
	struct store *st = e->st;
	struct store_rec *r = &e->r;
	char norm[PP_URI_MAX + 1];
	int rc = -1, x;

	store_rec_clear(r, ent);
	r->ent = ent;
	pp_err_clear();
	switch (ent) {
	case STORE_E_USER:
		rc = db_user_find(st, k1, norm, &r->user);
		snprintf(r->user.uri, sizeof(r->user.uri), "%s", k1);
		break;
	case STORE_E_SETTING:
		snprintf(r->user.uri, sizeof(r->user.uri), "%s", k1);
		rc = store_setting_get(st, k1, k2, &r->setting);
		snprintf(r->setting.key, sizeof(r->setting.key), "%s", k2);
		break;
	case STORE_E_GROUP:
		snprintf(r->contact.owner, sizeof(r->contact.owner), "%s", k1);
		snprintf(r->group.name, sizeof(r->group.name), "%s", k2);
		if ((x = group_exists(st, k1, k2)) < 0)
			return (-1);
		r->del = x == 0;
		return (0);
	case STORE_E_CONTACT:
		rc = contact_find(st, k1, k2, &r->contact);
		snprintf(r->contact.owner, sizeof(r->contact.owner), "%s", k1);
		snprintf(r->contact.uri, sizeof(r->contact.uri), "%s", k2);
		break;
	case STORE_E_CONF:
		rc = conf_find(st, k1, &r->conf);
		snprintf(r->conf.id, sizeof(r->conf.id), "%s", k1);
		break;
	case STORE_E_CONTENT:
		rc = content_find(st, k1, k2, &r->content, &e->ids);
		if (rc == 0 && e->want_prev &&
		    prev_load(st, k1, k2, &e->prev, &r->prev_lsn,
		    &r->prev_base) != 0)
			return (-1);
		snprintf(r->content.conf, sizeof(r->content.conf), "%s", k1);
		snprintf(r->content.name, sizeof(r->content.name), "%s", k2);
		break;
	case STORE_E_CONFIG:
		rc = store_config_get(st, k1, &r->config, &e->body);
		snprintf(r->config.name, sizeof(r->config.name), "%s", k1);
		break;
	case STORE_E_OWNER:
		return (owner_find(st, k1, &r->owner));
	default:
		pp_err(PP_ESTORE, "store %s is corrupted (journal entity %d)",
		    st->dir, (int)ent);
		return (-1);
	}
	if (rc != 0 && pp_errcode() != PP_ENOENT)
		return (-1);
	r->del = rc != 0;
	return (0);
}

/*
 * Emit a record for each row of ${s} (prepared and bound): columns k1[, k2]
 * of entity ${ent}, or, with ${ent} < 0, entity, k1, k2.  Resets ${s}.
 */
static int
exp_walk(struct exp *e, sqlite3_stmt *s, int ent)
{
	char k1[PP_URI_MAX + 1], k2[PP_URI_MAX + 1];
	int r, c = ent < 0, et;

	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		et = c ? sqlite3_column_int(s, 0) : ent;
		db_col_text(s, c, k1, sizeof(k1));
		k2[0] = '\0';
		if (sqlite3_column_count(s) > c + 1)
			db_col_text(s, c + 1, k2, sizeof(k2));
		if (exp_key(e, (enum store_ent)et, k1, k2) != 0 ||
		    exp_emit(e) != 0)
			goto fail;
	}
	if (r != SQLITE_DONE) {
		db_fail(e->st, "export");
		goto fail;
	}
	sqlite3_reset(s);
	return (0);
fail:
	sqlite3_reset(s);
	return (-1);
}

/* The keys changed in (${since}, ${upto}], one record each. */
static int
exp_changes(struct exp *e, enum store_module m, int64_t since, int64_t upto)
{
	sqlite3_stmt *s;

	/* Its own statement: the lookups use the cached ones.  Owner
	 * records first: they decide what the rest may write. */
	if ((s = db_stmt(e->st, "SELECT kind >> 1 AS ent, k1, k2 FROM journal"
	    " WHERE seq > ?1 AND seq <= ?2 GROUP BY ent, k1, k2"
	    " ORDER BY ent <> 7, ent, k1, k2")) == NULL)
		return (-1);
	sqlite3_bind_int64(s, 1, JRNL_SEQ(m, since));
	sqlite3_bind_int64(s, 2, JRNL_SEQ(m, upto));
	e->want_prev = 1;
	return (exp_walk(e, s, -1));
}

/* See store.h. */
void
store_rec_clear(struct store_rec *r, enum store_ent e)
{

	r->ids = NULL;
	r->prev = NULL;
	r->nprev = 0;
	r->body = NULL;
	switch (e) {
	case STORE_E_USER:
		memset(&r->user, 0, sizeof(r->user));
		break;
	case STORE_E_SETTING:
		r->user.uri[0] = '\0';
		r->setting.key[0] = r->setting.value[0] = '\0';
		break;
	case STORE_E_GROUP:
	case STORE_E_CONTACT:
		r->contact.owner[0] = r->contact.uri[0] = '\0';
		r->contact.name[0] = '\0';
		r->contact.rel = (enum store_rel)0;
		r->contact.ngroups = 0;
		memset(&r->group, 0, sizeof(r->group));
		break;
	case STORE_E_CONF:
		memset(&r->conf, 0, sizeof(r->conf));
		break;
	case STORE_E_CONTENT:
		memset(&r->content, 0, sizeof(r->content));
		break;
	case STORE_E_OWNER:
		memset(&r->owner, 0, sizeof(r->owner));
		break;
	default:
		memset(&r->config, 0, sizeof(r->config));
		break;
	}
}

/*
 * Run ${sql} (one text parameter: ${p1}) and emit the key of each row
 * (columns k1[, k2]) as entity ${ent}.
 */
static int
exp_rows(struct exp *e, const char *sql, const char *p1, enum store_ent ent)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(e->st, sql)) == NULL)
		return (-1);
	db_bind_text(s, 1, p1);
	return (exp_walk(e, s, (int)ent));
}

/*
 * The bulk of a snapshot, settings and contacts, read whole by the walk's
 * own query (${sql}: the key columns, then the values) instead of one
 * lookup per key.
 */
static int
exp_bulk(struct exp *e, const char *sql, const char *p1, enum store_ent ent)
{
	struct store_rec *r = &e->r;
	sqlite3_stmt *s;
	int rc;

	if ((s = db_stmt(e->st, sql)) == NULL)
		return (-1);
	db_bind_text(s, 1, p1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		store_rec_clear(r, ent);
		r->ent = ent;
		if (ent == STORE_E_SETTING) {
			db_col_text(s, 0, r->user.uri, sizeof(r->user.uri));
			db_col_text(s, 1, r->setting.key,
			    sizeof(r->setting.key));
			db_col_text(s, 2, r->setting.value,
			    sizeof(r->setting.value));
		} else {
			db_col_text(s, 0, r->contact.owner,
			    sizeof(r->contact.owner));
			db_col_text(s, 1, r->contact.uri,
			    sizeof(r->contact.uri));
			db_col_text(s, 2, r->contact.name,
			    sizeof(r->contact.name));
			r->contact.rel = (enum store_rel)sqlite3_column_int(s,
			    3);
			contact_groups_split(s, 4, &r->contact);
		}
		if (exp_emit(e) != 0) {
			sqlite3_reset(s);
			return (-1);
		}
	}
	sqlite3_reset(s);
	return (rc == SQLITE_DONE ? 0 : db_fail(e->st, "export"));
}

/* Everything of module ${m} homed at ${pool}. */
static int
exp_home(struct exp *e, enum store_module m, const char *pool)
{
	char master[PP_FQDN_MAX + 1];

	switch (m) {
	case STORE_MOD_USERDATA:
		if (exp_rows(e, "SELECT uri FROM users WHERE home = ?1"
		    " ORDER BY uri", pool, STORE_E_USER) != 0 ||
		    exp_bulk(e, "SELECT s.uri, s.k, s.v FROM users u CROSS JOIN"
		    " settings s ON s.uri = u.uri WHERE u.home = ?1"
		    " ORDER BY u.uri, s.k", pool, STORE_E_SETTING) != 0 ||
		    exp_rows(e, "SELECT g.owner, g.name FROM groups g JOIN users"
		    " u ON u.uri = g.owner WHERE u.home = ?1 ORDER BY 1, 2",
		    pool, STORE_E_GROUP) != 0 ||
		    exp_bulk(e, "SELECT c.owner, c.uri, c.name, c.rel, c.groups"
		    " FROM users u CROSS JOIN contacts c ON c.owner = u.uri"
		    " WHERE u.home = ?1 ORDER BY u.uri, c.uri", pool,
		    STORE_E_CONTACT) != 0)
			return (-1);
		return (exp_rows(e, "SELECT id FROM conferences WHERE home = ?1"
		    " ORDER BY id", pool, STORE_E_CONF));
	case STORE_MOD_CONFCONTENT:
		return (exp_rows(e, "SELECT conf, name FROM content"
		    " WHERE home = ?1 ORDER BY conf, name", pool,
		    STORE_E_CONTENT));
	default:
		if (store_config_master(e->st, master) != 0)
			return (-1);
		if (strcmp(master, pool) != 0)
			return (0);	/* none of it is ${pool}'s */
		return (exp_rows(e, "SELECT name FROM config_docs"
		    " WHERE ?1 IS NOT NULL ORDER BY name", pool,
		    STORE_E_CONFIG));
	}
}

/*
 * A snapshot: in userdata, every owner record first; then the data of
 * every user set this pool owns (its own, unless fenced; its partner's
 * while failed over).
 */
static int
exp_snapshot(struct exp *e, enum store_module m)
{
	char homes[8][PP_FQDN_MAX + 1];
	sqlite3_stmt *s;
	int n = 0, i, r;

	if (m == STORE_MOD_USERDATA && exp_rows(e, "SELECT home FROM owners"
	    " WHERE ?1 IS NOT NULL ORDER BY home", e->st->pool,
	    STORE_E_OWNER) != 0)
		return (-1);
	if (m == STORE_MOD_CONFIG)
		return (exp_home(e, m, e->st->pool));
	if ((s = db_stmt(e->st, "SELECT ?1 WHERE coalesce((SELECT owner FROM"
	    " owners WHERE home = ?1), ?1) = ?1 UNION SELECT home FROM owners"
	    " WHERE owner = ?1 AND home <> ?1")) == NULL)
		return (-1);
	db_bind_text(s, 1, e->st->pool);
	while (n < 8 && (r = sqlite3_step(s)) == SQLITE_ROW)
		db_col_text(s, 0, homes[n++], sizeof(homes[0]));
	sqlite3_reset(s);
	for (i = 0; i < n; i++)
		if (exp_home(e, m, homes[i]) != 0)
			return (-1);
	return (0);
}

int
modstate_get(struct store *st, enum store_module m, int64_t *epoch,
    int64_t *next, int64_t *floor)
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, "SELECT epoch, next_lsn, floor FROM modstate"
	    " WHERE module = ?")) == NULL)
		return (-1);
	sqlite3_bind_int(s, 1, (int)m);
	if (sqlite3_step(s) != SQLITE_ROW)
		return (db_fail(st, "journal state"));
	*epoch = sqlite3_column_int64(s, 0);
	*next = sqlite3_column_int64(s, 1);
	*floor = sqlite3_column_int64(s, 2);
	sqlite3_reset(s);
	return (0);
}

int
store_export_begin(struct store *st, enum store_module module, int64_t since,
    int64_t *epoch, int64_t *upto)
{
	int64_t next, floor;

	if ((unsigned)module >= STORE_NMOD || st->in_tx || st->in_read) {
		pp_err(PP_EINTERNAL, "store_export_begin: bad module or state");
		return (-1);
	}
	if (db_rbegin(st) != 0)
		return (-1);
	st->in_read = 1;
	if (modstate_get(st, module, epoch, &next, &floor) != 0)
		goto fail;
	*upto = next - 1;
	if (since >= 0 && since < floor) {
		pp_err(PP_ENOENT, "the %s journal no longer reaches back to "
		    "LSN %lld (pruned up to %lld): a snapshot is needed",
		    store_module_name(module), (long long)since,
		    (long long)floor);
		goto fail;
	}
	if (since > *upto) {
		pp_err(PP_EINVAL, "LSN %lld is beyond the %s journal's head "
		    "(%lld)", (long long)since, store_module_name(module),
		    (long long)*upto);
		goto fail;
	}
	st->exp_module = module;
	st->exp_since = since;
	st->exp_upto = *upto;
	return (0);
fail:
	store_export_end(st);
	return (-1);
}

/* A new walk of ${st} calling ${cb}(${arg}) (caller frees), or NULL. */
static struct exp *
exp_new(struct store *st, store_rec_cb *cb, void *arg)
{
	struct exp *e;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (NULL);
	}
	e->st = st;
	e->cb = cb;
	e->arg = arg;
	return (e);
}

/* Free ${e} and what a failed lookup may have left in it. */
static void
exp_free(struct exp *e)
{

	free(e->ids.ids);
	free(e->prev.ids);
	free(e->body);
	free(e);
}

int
store_export_walk(struct store *st, store_rec_cb *cb, void *arg)
{
	struct exp *e;
	int rc;

	if (!st->in_read) {
		pp_err(PP_EINTERNAL, "store_export_walk outside an export");
		return (-1);
	}
	if ((e = exp_new(st, cb, arg)) == NULL)
		return (-1);
	rc = st->exp_since >= 0 ? exp_changes(e, st->exp_module,
	    st->exp_since, st->exp_upto) : exp_snapshot(e, st->exp_module);
	exp_free(e);
	return (rc);
}

int
store_walk_home(struct store *st, enum store_module module, const char *home,
    store_rec_cb *cb, void *arg)
{
	struct exp *e;
	int rc;

	if ((unsigned)module >= STORE_NMOD || st->in_tx || st->in_read) {
		pp_err(PP_EINTERNAL, "store_walk_home: bad module or state");
		return (-1);
	}
	if ((e = exp_new(st, cb, arg)) == NULL)
		return (-1);
	if ((rc = db_rbegin(st)) == 0) {
		st->in_read = 1;
		rc = exp_home(e, module, home);
		st->in_read = 0;
		db_rend(st);
	}
	exp_free(e);
	return (rc);
}

void
store_export_end(struct store *st)
{

	if (!st->in_read)
		return;
	st->in_read = 0;
	db_rend(st);
}

int
store_chunk_read(struct store *st, const uint8_t id[static CRYPTO_HASH_LEN],
    uint8_t *buf, size_t *len)
{
	uint8_t *sealed;
	int rc;

	if ((sealed = malloc(STORE_SEALED_MAX)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	/* The AEAD (the id is its AAD) vouches for it; the target checks the
	 * SHA-256 anyway. */
	rc = chunk_load(st, NULL, id, sealed, buf, len, 0);
	free(sealed);
	return (rc);
}

int
store_chunk_has(struct store *st, const uint8_t id[static CRYPTO_HASH_LEN])
{

	return (db_has_id(st, "SELECT 1 FROM chunks WHERE id = ?", id,
	    "chunk lookup"));
}

int
store_chunks_held(struct store *st, const uint8_t *ids, size_t n,
    uint8_t *bits)
{
	size_t i;
	int r, rc = 0;

	memset(bits, 0, (n + 7) / 8);
	/* One read transaction for all: not a lock and unlock for each. */
	if (db_rbegin(st) != 0)
		return (-1);
	for (i = 0; i < n && rc == 0; i++) {
		if ((r = store_chunk_has(st, ids + i * CRYPTO_HASH_LEN)) < 0)
			rc = -1;
		else if (r == 1)
			bits[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	db_rend(st);
	return (rc);
}

int
store_journal_floor(struct store *st, enum store_module module,
    int64_t *floor)
{
	int64_t epoch, next;
	int rc;

	if ((unsigned)module >= STORE_NMOD) {
		pp_err(PP_EINVAL, "unknown module");
		return (-1);
	}
	if (db_rbegin(st) != 0)
		return (-1);
	rc = modstate_get(st, module, &epoch, &next, floor);
	db_rend(st);
	return (rc);
}

int
store_journal_prune(struct store *st, enum store_module module,
    int64_t upto)
{
	int more;

	return (store_journal_prune_some(st, module, upto, INT64_MAX, &more));
}

int
store_journal_prune_some(struct store *st, enum store_module module,
    int64_t upto, int64_t max, int *more)
{
	sqlite3_stmt *s;
	int64_t epoch, next, floor;
	int rc = -1;

	*more = 0;
	if ((unsigned)module >= STORE_NMOD || upto < 0 || max < 1) {
		pp_err(PP_EINVAL, "bad module, LSN or count");
		return (-1);
	}
	if (db_wbegin(st) != 0)
		return (-1);
	if (modstate_get(st, module, &epoch, &next, &floor) != 0)
		goto out;
	if (upto >= next)
		upto = next - 1;
	if (upto <= floor) {
		rc = 0;
		goto out;
	}
	if (upto - floor > max) {
		upto = floor + max;
		*more = 1;
	}
	if ((s = db_stmt(st, "DELETE FROM journal WHERE seq > ? AND seq <= ?"))
	    == NULL)
		goto out;
	sqlite3_bind_int64(s, 1, JRNL_SEQ(module, 0));
	sqlite3_bind_int64(s, 2, JRNL_SEQ(module, upto));
	if (db_done(st, s, "journal prune") != 0)
		goto out;
	if ((s = db_stmt(st, "UPDATE modstate SET floor = ? WHERE module = ?"))
	    == NULL)
		goto out;
	sqlite3_bind_int64(s, 1, upto);
	sqlite3_bind_int(s, 2, (int)module);
	if ((rc = db_done(st, s, "journal prune")) == 0 &&
	    module == STORE_MOD_CONFCONTENT)
		rc = prev_prune(st, upto);
out:
	return (db_wend(st, rc));
}

/* The state of ${r} as JSON (for orphans: what an operator needs). */
static json_t *
rec_json(const struct store_rec *r)
{
	char hex[2 * CRYPTO_HASH_LEN + 1];
	json_t *g;
	size_t i;

	if (r->del)
		return (json_pack("{s:b}", "deleted", 1));
	switch (r->ent) {
	case STORE_E_USER:
		return (json_pack("{s:s, s:s}", "uri", r->user.uri, "name",
		    r->user.name));
	case STORE_E_SETTING:
		return (json_pack("{s:s, s:s, s:s}", "uri", r->user.uri, "key",
		    r->setting.key, "value", r->setting.value));
	case STORE_E_GROUP:
		return (json_pack("{s:s, s:s}", "owner", r->contact.owner,
		    "group", r->group.name));
	case STORE_E_CONTACT:
		g = json_array();
		for (i = 0; i < r->contact.ngroups; i++)
			json_array_append_new(g,
			    json_string(r->contact.groups[i]));
		return (json_pack("{s:s, s:s, s:s, s:s, s:o}", "owner",
		    r->contact.owner, "uri", r->contact.uri, "name",
		    r->contact.name, "relationship",
		    store_rel_name(r->contact.rel), "groups", g));
	case STORE_E_CONF:
		return (json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "id",
		    r->conf.id, "organizer", r->conf.organizer, "subject",
		    r->conf.subject, "start", (json_int_t)r->conf.start, "end",
		    (json_int_t)r->conf.end, "access",
		    store_access_name(r->conf.access)));
	case STORE_E_CONTENT:
		util_hex(hex, r->content.sha256, CRYPTO_HASH_LEN);
		return (json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "conf",
		    r->content.conf, "name", r->content.name, "kind",
		    store_kind_name(r->content.kind), "mime", r->content.mime,
		    "size", (json_int_t)r->content.size, "sha256", hex));
	case STORE_E_CONFIG:
		return (json_pack("{s:s, s:I, s:s%}", "name", r->config.name,
		    "version", (json_int_t)r->config.version, "body",
		    r->body != NULL ? (const char *)r->body : "",
		    r->body != NULL ? r->config.size : (size_t)0));
	default:
		return (json_object());
	}
}

int
orphans_capture(struct store *st, enum store_module m, int64_t after)
{
	struct exp *e;
	char k1[PP_URI_MAX + 1], k2[PP_URI_MAX + 1], *js;
	int64_t lsn, epoch, ts, last;
	sqlite3_stmt *s, *ins;
	json_t *j;
	int r, kind, rc = -1;

	if ((e = exp_new(st, NULL, NULL)) == NULL)
		return (-1);
	/* In rounds: the lookups below reset the cached statements. */
	for (last = after;; ) {
		if ((s = db_stmt(st, "SELECT seq, epoch, kind, k1, k2, ts FROM"
		    " journal WHERE seq > ?1 AND seq < ?2 ORDER BY seq"
		    " LIMIT 1")) == NULL)
			goto out;
		sqlite3_bind_int64(s, 1, JRNL_SEQ(m, last));
		sqlite3_bind_int64(s, 2, JRNL_SEQ(m + 1, 0));
		if ((r = sqlite3_step(s)) != SQLITE_ROW) {
			sqlite3_reset(s);
			if (r != SQLITE_DONE) {
				db_fail(st, "orphans");
				goto out;
			}
			break;
		}
		lsn = sqlite3_column_int64(s, 0) & ((1LL << JRNL_SHIFT) - 1);
		epoch = sqlite3_column_int64(s, 1);
		kind = sqlite3_column_int(s, 2);
		db_col_text(s, 3, k1, sizeof(k1));
		db_col_text(s, 4, k2, sizeof(k2));
		ts = sqlite3_column_int64(s, 5);
		sqlite3_reset(s);
		last = lsn;
		if (exp_key(e, (enum store_ent)(kind >> 1), k1, k2) != 0)
			goto out;
		j = rec_json(&e->r);
		free(e->body);
		e->body = NULL;
		js = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (js == NULL) {
			pp_err(PP_EINTERNAL, "out of memory");
			goto out;
		}
		/* A content item's bytes are kept too: its chunks stay. */
		if (e->r.ent == STORE_E_CONTENT && !e->r.del &&
		    chunks_ref(st, e->ids.ids, e->ids.n) != 0) {
			free(js);
			goto out;
		}
		if ((ins = db_stmt(st, "INSERT OR IGNORE INTO orphans"
		    " VALUES(?,?,?,?,?,?,?,?,?,?)")) == NULL) {
			free(js);
			goto out;
		}
		sqlite3_bind_int(ins, 1, (int)m);
		sqlite3_bind_int64(ins, 2, lsn);
		sqlite3_bind_int64(ins, 3, epoch);
		sqlite3_bind_int(ins, 4, kind);
		db_bind_text(ins, 5, k1);
		db_bind_text(ins, 6, k2);
		sqlite3_bind_int64(ins, 7, ts);
		db_bind_text(ins, 8, js);
		sqlite3_bind_int64(ins, 9, util_now_ms());
		sqlite3_bind_blob(ins, 10, e->ids.ids != NULL ? e->ids.ids :
		    (const uint8_t *)"", (int)(e->ids.n * CRYPTO_HASH_LEN),
		    SQLITE_TRANSIENT);
		r = db_done(st, ins, "orphans");
		free(js);
		free(e->ids.ids);
		memset(&e->ids, 0, sizeof(e->ids));
		if (r != 0)
			goto out;
	}
	rc = 0;
out:
	exp_free(e);
	return (rc);
}

int
store_orphan_list(struct store *st, store_orphan_cb *cb, void *arg)
{
	struct store_orphan o;
	sqlite3_stmt *s;
	int r, rc = -1, kind;

	if (db_rbegin(st) != 0)
		return (-1);
	if ((s = db_stmt(st, "SELECT module, lsn, epoch, kind, k1, k2, ts,"
	    " state, saved FROM orphans ORDER BY module, lsn")) == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&o, 0, sizeof(o));
		o.rec.module = (enum store_module)sqlite3_column_int(s, 0);
		o.rec.lsn = sqlite3_column_int64(s, 1);
		o.rec.epoch = sqlite3_column_int64(s, 2);
		kind = sqlite3_column_int(s, 3);
		snprintf(o.rec.entity, sizeof(o.rec.entity), "%s",
		    (unsigned)(kind >> 1) < STORE_NENT ?
		    jrnl_entities[kind >> 1] : "?");
		snprintf(o.rec.op, sizeof(o.rec.op), "%s", kind & 1 ? "del" :
		    "put");
		db_col_text(s, 4, o.rec.k1, sizeof(o.rec.k1));
		db_col_text(s, 5, o.rec.k2, sizeof(o.rec.k2));
		o.rec.ts_ms = sqlite3_column_int64(s, 6);
		o.state = (const char *)sqlite3_column_text(s, 7);
		o.saved_ms = sqlite3_column_int64(s, 8);
		if (cb(arg, &o) != 0)
			goto out;
	}
	rc = r == SQLITE_DONE ? 0 : db_fail(st, "orphan list");
out:
	db_rend(st);
	return (rc);
}

int
store_orphan_content(struct store *st, int64_t lsn, int fd)
{
	uint8_t *ids = NULL, *sealed = NULL, *pt = NULL;
	sqlite3_stmt *s;
	size_t n = 0, i, len;
	int rc = -1;

	if (db_rbegin(st) != 0)
		return (-1);
	if ((s = db_stmt(st, "SELECT chunks FROM orphans WHERE module = ?"
	    " AND lsn = ?")) == NULL)
		goto out;
	sqlite3_bind_int(s, 1, (int)STORE_MOD_CONFCONTENT);
	sqlite3_bind_int64(s, 2, lsn);
	if (sqlite3_step(s) != SQLITE_ROW ||
	    (n = (size_t)sqlite3_column_bytes(s, 0) / CRYPTO_HASH_LEN) == 0) {
		sqlite3_reset(s);
		pp_err(PP_ENOENT, "no orphaned content at confcontent LSN %lld",
		    (long long)lsn);
		goto out;
	}
	if ((ids = malloc(n * CRYPTO_HASH_LEN)) == NULL ||
	    (sealed = malloc(STORE_SEALED_MAX)) == NULL ||
	    (pt = malloc(STORE_SEALED_MAX)) == NULL) {
		sqlite3_reset(s);
		pp_err(PP_EINTERNAL, "out of memory");
		goto out;
	}
	memcpy(ids, sqlite3_column_blob(s, 0), n * CRYPTO_HASH_LEN);
	sqlite3_reset(s);
	for (i = 0; i < n; i++)
		if (chunk_load(st, NULL, ids + i * CRYPTO_HASH_LEN, sealed, pt,
		    &len, 1) != 0 || util_write_all(fd, pt, len) != 0)
			goto out;
	rc = 0;
out:
	free(ids);
	free(sealed);
	free(pt);
	db_rend(st);
	return (rc);
}
