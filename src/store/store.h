/*
 * store.h: the contract of a pool's store.
 *
 * One pool's durable data: users and their settings, contact groups and
 * contacts, the conference directory (module "userdata"), conference content
 * (module "confcontent"), and central configuration documents (module
 * "config").  Every committed change appends a journal record (module, LSN,
 * epoch, key, operation) in the same transaction, so the journal is exactly
 * the list of committed changes in commit order.
 *
 * The embedded implementation is SQLite in WAL mode (store_sqlite.c and its
 * siblings).  A PostgreSQL back end implements these same functions; nothing
 * outside src/store/ sees SQL.
 *
 * Conventions: functions return 0 (or a pointer) on success and -1 (or NULL)
 * on failure, with the reason recorded by pp_err (err.h).  A refused write
 * changes nothing.  Strings passed in are not kept; structs passed out are
 * filled in place and own nothing.  List functions call ${cb} once per record
 * in key order; a callback returning nonzero stops the walk and the list
 * function returns -1.  A store is used by one thread at a time; several
 * processes may open the same store at once (writers take turns).
 */
#ifndef PP_STORE_H
#define PP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "pp_limits.h"

struct store;

enum store_module {
	STORE_MOD_USERDATA = 0,
	STORE_MOD_CONFCONTENT,
	STORE_MOD_CONFIG,
	STORE_NMOD
};

/* Presence privacy relationships an owner grants a contact. */
enum store_rel {
	STORE_REL_BLOCKED = 0,
	STORE_REL_EXTERNAL,
	STORE_REL_COLLEAGUE,
	STORE_REL_WORKGROUP,
	STORE_REL_FRIENDS
};

enum store_access { STORE_ACCESS_OPEN = 0, STORE_ACCESS_CLOSED,
	STORE_ACCESS_INVITED };

enum store_kind { STORE_KIND_PRESENTATION = 0, STORE_KIND_WHITEBOARD,
	STORE_KIND_HANDOUT, STORE_KIND_ATTACHMENT };

/*
 * Names of the enumerations above, and their parsers: *_parse sets ${out}
 * and returns 0, or returns -1 with PP_EINVAL recorded (listing the choices).
 */
const char *store_module_name(enum store_module m);
int store_module_parse(const char *s, enum store_module *out);
const char *store_rel_name(enum store_rel r);
int store_rel_parse(const char *s, enum store_rel *out);
const char *store_access_name(enum store_access a);
int store_access_parse(const char *s, enum store_access *out);
const char *store_kind_name(enum store_kind k);
int store_kind_parse(const char *s, enum store_kind *out);

struct store_user {
	char uri[PP_URI_MAX + 1];
	char name[PP_NAME_MAX + 1];
	char home[PP_FQDN_MAX + 1];	/* the pool the user belongs to */
	int primary;			/* 1: home is this pool; 0: replica */
	int64_t created_ms, updated_ms;
};

struct store_setting {
	char key[PP_SETTING_KEY_MAX + 1];
	char value[PP_SETTING_VALUE_MAX + 1];
};

struct store_group {
	char name[PP_GROUP_NAME_MAX + 1];
	size_t ncontacts;
};

struct store_contact {
	char owner[PP_URI_MAX + 1];
	char uri[PP_URI_MAX + 1];
	char name[PP_NAME_MAX + 1];	/* "" if none was given */
	enum store_rel rel;
	size_t ngroups;
	char groups[PP_GROUPS_PER_USER][PP_GROUP_NAME_MAX + 1];
};

struct store_conf {
	char id[PP_CONF_ID_LEN + 1];
	char organizer[PP_URI_MAX + 1];
	char subject[PP_SUBJECT_MAX + 1];
	int64_t start, end;		/* seconds since the epoch, UTC */
	enum store_access access;
	char home[PP_FQDN_MAX + 1];
	int primary;
	int64_t created_ms, updated_ms;
};

struct store_content {
	char conf[PP_CONF_ID_LEN + 1];
	char name[PP_CONTENT_NAME_MAX + 1];
	enum store_kind kind;
	char mime[PP_MIME_MAX + 1];
	int64_t size;
	uint8_t sha256[CRYPTO_HASH_LEN];	/* of the whole plaintext */
	size_t nchunks;
	size_t nnew;		/* store_content_put: chunks not held before */
	int64_t created_ms, updated_ms;
	char home[PP_FQDN_MAX + 1];	/* the pool the item belongs to */
	int primary;
	int64_t lsn;		/* its put's journal LSN here (0: imported) */
};

struct store_config {
	char name[PP_CONFIG_NAME_MAX + 1];
	int64_t version;	/* 1 for the first set, +1 for each later one */
	size_t size;
	int64_t updated_ms;
	char home[PP_FQDN_MAX + 1];	/* the config master */
	int primary;		/* 1: this pool is the config master */
};

struct store_jrec {
	enum store_module module;
	int64_t lsn;
	int64_t epoch;
	char entity[16];	/* user setting group contact conf content config */
	char k1[PP_URI_MAX + 1];
	char k2[PP_URI_MAX + 1];	/* "" where the entity has one key */
	char op[4];		/* "put" or "del" */
	int64_t ts_ms;
};

struct store_compact {
	int64_t packs;			/* packs before */
	int64_t packs_rewritten;	/* at least half dead: live chunks moved */
	int64_t chunks_moved;
	int64_t files_removed;		/* old packs and leftover stages */
	int64_t bytes_removed;		/* their size */
	int64_t bytes_moved;		/* written again to the new pack */
	int64_t bytes_freed;		/* removed less moved */
	int deferred;			/* readers held old packs: files stay */
};

struct store_stats {
	int64_t users, contacts, conferences, content_items, chunks;
	int64_t chunk_bytes;		/* plaintext bytes held once */
	int64_t db_bytes;		/* the database and WAL files */
	int64_t pack_bytes;		/* the pack files of sealed chunks */
	int64_t journal_records;
};

/* --- opening ------------------------------------------------------------ */

/*
 * Create a new store in ${dir} (created 0700 if absent) for the pool
 * ${pool}, with ${config_master} (NULL: this pool) as the config master, and
 * a fresh random storage key in ${dir}/storage.key (0600).  Refuses a ${dir}
 * that already holds a store.  Returns 0 or -1.
 */
int store_create(const char *dir, const char *pool, const char *config_master);

/*
 * Open the store in ${dir}: checks that it is a poolpair store of a known
 * version, that the storage key file is private to this user, and that it is
 * the key of this store.  Returns the store (free with store_close) or NULL.
 */
struct store *store_open(const char *dir);

/* Close ${st}, rolling back an open batch and wiping keys; NULL is fine. */
void store_close(struct store *st);

/* The FQDN of the pool this store belongs to. */
const char *store_pool(const struct store *st);

/* Counts and sizes.  Returns 0 or -1. */
int store_stats(struct store *st, struct store_stats *out);

/*
 * Reclaim the space of deleted content: move the live chunks of each pack
 * that is at least half dead to a new pack, then, once no reader in any
 * process can still use them, remove the old packs and the leftovers of
 * interrupted uploads.  Not inside a batch.  Fills ${out}.  Returns 0 or -1.
 */
int store_compact(struct store *st, struct store_compact *out);

/*
 * Batches: between store_begin and store_commit every write joins one
 * transaction (and one fsync).  A write refused inside a batch changes
 * nothing and leaves the batch usable, unless it failed part-way (an I/O
 * error, disk full, or a concurrent change caught after rows were written),
 * in which case store_commit rolls everything back and fails.
 * Outside a batch each write is its own transaction.
 */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* --- users and settings (module userdata) ------------------------------- */

/* Add user ${uri} (normalized first) named ${name}; refuses duplicates. */
int store_user_add(struct store *st, const char *uri, const char *name);

/*
 * Delete user ${uri} with their settings, groups and contacts, and the
 * conferences they organize with those conferences' content.
 */
int store_user_del(struct store *st, const char *uri);

/* Fill ${out} with user ${uri}.  Returns 0, or -1 (PP_ENOENT if unknown). */
int store_user_get(struct store *st, const char *uri, struct store_user *out);

typedef int store_user_cb(void *arg, const struct store_user *u);
int store_user_list(struct store *st, store_user_cb *cb, void *arg);

/* Set (add or replace) setting ${key} of user ${uri} to ${value}. */
int store_setting_set(struct store *st, const char *uri, const char *key,
    const char *value);
/* Fill ${out} with setting ${key} of ${uri}; PP_ENOENT if unset. */
int store_setting_get(struct store *st, const char *uri, const char *key,
    struct store_setting *out);
int store_setting_del(struct store *st, const char *uri, const char *key);
typedef int store_setting_cb(void *arg, const struct store_setting *s);
int store_setting_list(struct store *st, const char *uri,
    store_setting_cb *cb, void *arg);

/* --- contact groups and contacts (module userdata) ---------------------- */

int store_group_add(struct store *st, const char *owner, const char *name);
/* Delete group ${name}; its contacts stay, outside that group. */
int store_group_del(struct store *st, const char *owner, const char *name);
typedef int store_group_cb(void *arg, const struct store_group *g);
int store_group_list(struct store *st, const char *owner, store_group_cb *cb,
    void *arg);

/*
 * Add ${uri} to ${owner}'s contacts, named ${name} (NULL or "" for none),
 * with relationship ${rel}, in the ${ngroups} groups ${groups} (created if
 * missing).  With ${replace} 0 a contact already present is refused
 * (PP_EEXIST); with 1 it is replaced whole.
 */
int store_contact_put(struct store *st, const char *owner, const char *uri,
    const char *name, enum store_rel rel, const char *const *groups,
    size_t ngroups, int replace);
int store_contact_del(struct store *st, const char *owner, const char *uri);
typedef int store_contact_cb(void *arg, const struct store_contact *c);
int store_contact_list(struct store *st, const char *owner,
    store_contact_cb *cb, void *arg);

/* --- conference directory (module userdata) ----------------------------- */

/*
 * Create a conference from ${c}'s organizer, subject, start, end and access;
 * fills ${c}->id with a new unguessable id (128 random bits) and the rest.
 */
int store_conf_create(struct store *st, struct store_conf *c);
int store_conf_get(struct store *st, const char *id, struct store_conf *out);
/* Delete conference ${id} and its content. */
int store_conf_del(struct store *st, const char *id);
typedef int store_conf_cb(void *arg, const struct store_conf *c);
/* List conferences, all or (${organizer} not NULL) one organizer's. */
int store_conf_list(struct store *st, const char *organizer,
    store_conf_cb *cb, void *arg);

/* --- conference content (module confcontent) ---------------------------- */

/*
 * Whether ${name} may name an item and ${mime} is a MIME type (type/subtype,
 * token characters), as store_content_put checks first.  Returns 0 or -1
 * (PP_EINVAL or PP_ELIMIT, naming what is wrong).
 */
int store_content_meta_ok(const char *name, const char *mime);

/*
 * Store the bytes read from ${fd} until end of file (at most PP_CONTENT_MAX)
 * as item ${name} of conference ${conf}, of kind ${kind} and MIME type
 * ${mime}, replacing an item of that name.  The bytes are cut into chunks,
 * each stored once, sealed under the storage key; metadata and chunks commit
 * together.  The input is read before the store's write lock is taken, so
 * a slow input does not hold up other writers; if a chunk it shares with
 * other content is deleted meanwhile, the put fails with PP_EAGAIN and may
 * be repeated.  Fills ${out} if not NULL.
 */
int store_content_put(struct store *st, const char *conf, const char *name,
    enum store_kind kind, const char *mime, int fd,
    struct store_content *out);

/*
 * A put queue (store_putq.c): content puts by one caller, one after another,
 * each as store_content_put (its own transaction, durable before it is
 * reported), but with one item's sync and commit (on a handle and a thread
 * of the queue's own) overlapping the reading, chunking and sealing of the
 * next on ${st}.  store_putq_put reads ${fd} to its end and hands the item
 * over; each item's result comes to ${cb} on the caller's thread, in the
 * order of the puts, from a later store_putq_put or from store_putq_finish:
 * rc 0 and ${c} (as store_content_put's ${out}), or rc -1, ${c} NULL and
 * pp_err set.  store_putq_put returns -1 if the item was refused before it
 * was handed over (it was reported already), else 0.  store_putq_finish
 * waits for the last commit and reports it; it returns 0 if every item
 * since the last finish was stored, else -1 with the first refusal's error.
 * No transaction may be open on ${st} (store_begin).  store_putq_free
 * waits for a commit under way; an item it finished but nobody reported
 * is dropped from the reports, not from the store.
 */
struct store_putq;
typedef void store_putq_cb(void *user, int rc, const struct store_content *c);
struct store_putq *store_putq_new(struct store *st, store_putq_cb *cb);
int store_putq_put(struct store_putq *q, const char *conf, const char *name,
    enum store_kind kind, const char *mime, int fd, void *user);
int store_putq_finish(struct store_putq *q);
void store_putq_free(struct store_putq *q);

/*
 * Write the bytes of item ${name} of ${conf} to ${fd}, checking every chunk
 * (authentication and SHA-256) and the whole.  On failure part of the item
 * may have been written: write to a temporary file and rename it.
 */
int store_content_get(struct store *st, const char *conf, const char *name,
    int fd, struct store_content *out);
int store_content_info(struct store *st, const char *conf, const char *name,
    struct store_content *out);
int store_content_del(struct store *st, const char *conf, const char *name);
/* Item ${conf}/${name}'s chunk ids, ${n} of them, into ${ids} (the caller
 * frees; NULL if none).  PP_ENOENT if there is no such item. */
int store_content_ids(struct store *st, const char *conf, const char *name,
    uint8_t **ids, size_t *n);
typedef int store_content_cb(void *arg, const struct store_content *c);
/* List content items, all or (${conf} not NULL) one conference's. */
int store_content_list(struct store *st, const char *conf,
    store_content_cb *cb, void *arg);

/* --- configuration documents (module config) ---------------------------- */

/* The FQDN of the config master into ${out}.  Returns 0 or -1. */
int store_config_master(struct store *st, char out[static PP_FQDN_MAX + 1]);

/*
 * Set document ${name} to ${len} bytes of ${body} (at most
 * PP_CONFIG_DOC_MAX), as its next version.  Refused (PP_EROFS) unless this
 * pool is the config master.  Fills ${out} if not NULL.
 */
int store_config_set(struct store *st, const char *name, const void *body,
    size_t len, struct store_config *out);

/*
 * Fill ${out} with document ${name}; if ${body} is not NULL, set it to a new
 * buffer with the document (caller frees).
 */
int store_config_get(struct store *st, const char *name,
    struct store_config *out, uint8_t **body);
typedef int store_config_cb(void *arg, const struct store_config *c);
int store_config_list(struct store *st, store_config_cb *cb, void *arg);

/* --- journal ------------------------------------------------------------ */

typedef int store_jrec_cb(void *arg, const struct store_jrec *r);

/*
 * Walk the journal records of ${module} (or of all modules if ${all}) with
 * an LSN above ${since}, in (module, LSN) order, at most ${limit} of them
 * (0: no limit).
 */
int store_journal_list(struct store *st, int all, enum store_module module,
    int64_t since, size_t limit, store_jrec_cb *cb, void *arg);

/*
 * The last LSN of each module that a transaction of ${st} committed since
 * it was opened (0: none), into ${lsn}: what a writer waits to see
 * replicated.
 */
void store_written(const struct store *st, int64_t lsn[STORE_NMOD]);

/* The current epoch and the last LSN used (0 if none) of ${module}. */
int store_journal_head(struct store *st, enum store_module module,
    int64_t *epoch, int64_t *last_lsn);

/* A change this pool committed that the pool now owning its users never
 * received (a disaster failover's window): kept, never merged. */
struct store_orphan {
	struct store_jrec rec;		/* the journal record */
	const char *state;		/* JSON: the key's state when fenced */
	int64_t saved_ms;
};

typedef int store_orphan_cb(void *arg, const struct store_orphan *o);
/* Every orphan, by module and LSN. */
int store_orphan_list(struct store *st, store_orphan_cb *cb, void *arg);

/*
 * Write the bytes of the content item orphaned at confcontent LSN ${lsn}
 * (kept: its chunks stay referenced) to ${fd}, each chunk checked.
 * Returns 0 or -1 (PP_ENOENT: no such orphan).
 */
int store_orphan_content(struct store *st, int64_t lsn, int fd);

/* --- replication: export and import (src/backup uses these) ------------ */

/* What a record is about; the order parents come before children. */
enum store_ent { STORE_E_USER = 0, STORE_E_SETTING, STORE_E_GROUP,
	STORE_E_CONTACT, STORE_E_CONF, STORE_E_CONTENT, STORE_E_CONFIG,
	STORE_E_OWNER, STORE_NENT };

/* Who may write a user set (the users homed at one pool, their data). */
enum store_mode { STORE_MODE_NORMAL = 0, STORE_MODE_FAILEDOVER,
	STORE_MODE_FAILINGBACK };

struct store_owner {
	char home[PP_FQDN_MAX + 1];	/* the user set: its home pool */
	char owner[PP_FQDN_MAX + 1];	/* the pool that may write it */
	int64_t epoch;			/* only grows; 1 at the start */
	enum store_mode mode;
	int64_t changed_ms;
	int64_t lsn[2];			/* at a failover: the home's userdata
					   and confcontent LSNs the new owner
					   had imported (the window's start) */
	int master;			/* the config master role went along */
};

/*
 * One key's state: the whole row (del 0) or its absence (del 1; then only
 * the key fields are set).  Keys: user uri; setting uri+key; group
 * owner+name; contact owner+uri; conf id; content conf+name; config name.
 */
struct store_rec {
	enum store_ent ent;
	int del;
	struct store_user user;
	struct store_setting setting;		/* user.uri is its user */
	struct store_group group;		/* contact.owner is its owner */
	struct store_contact contact;
	struct store_conf conf;
	struct store_content content;		/* ids: its chunk ids */
	const uint8_t *ids;
	/*
	 * In a package of changes: the item's previous chunk list (nprev
	 * ids), made by the put at LSN prev_base and replaced by the one at
	 * prev_lsn (store_content_put keeps it until the partner has that);
	 * else NULL.
	 */
	const uint8_t *prev;
	size_t nprev;
	int64_t prev_base, prev_lsn;
	struct store_config config;		/* body: the document */
	const uint8_t *body;
	struct store_owner owner;
};

/*
 * Clear what a record of entity ${e} holds (its strings, counts and
 * pointers), not all of *${r}, which is 16 KiB: for each of a snapshot's
 * records, on the way out and in.
 */
void store_rec_clear(struct store_rec *r, enum store_ent e);

typedef int store_rec_cb(void *arg, const struct store_rec *r);

/* --- ownership of user sets: failover and failback (store_owner.c) ----- */

const char *store_mode_name(enum store_mode m);

/*
 * Fill ${out} with who owns the user set of pool ${home}: without a
 * record, ${home} itself, epoch 1, Normal.  Returns 0 or -1.
 */
int store_owner_get(struct store *st, const char *home,
    struct store_owner *out);

typedef int store_owner_cb(void *arg, const struct store_owner *o);
/* This pool's user set and every other one recorded, by home. */
int store_owner_list(struct store *st, store_owner_cb *cb, void *arg);

/*
 * Record ${o} as the owner of ${o}->home's user set (journaled in module
 * userdata, so it replicates first in the partner's next package).  Its
 * epoch must be above the current one, or equal with a change of mode by
 * the same owner.  With ${o}->master, the config master becomes ${o}->owner.
 * Returns 0 or -1 (PP_EINVAL for an epoch that does not grow).
 */
int store_owner_set(struct store *st, const struct store_owner *o);

/*
 * Export the data of ${module} this pool writes, in one read transaction
 * (consistent, not holding up writers): store_export_begin opens it and
 * sets ${epoch} and ${upto} to the epoch and LSN the export reflects; a
 * ${since} below the journal's floor is refused (PP_ENOENT: the journal no
 * longer reaches back: export a snapshot).  store_export_walk calls ${cb}
 * with each record: with ${since} >= 0 the latest state of each key the
 * journal shows changed after LSN ${since} (repeated changes coalesce), in
 * entity order (parents first); with ${since} < 0 all of it (a snapshot).
 * Inside ${cb}, store_chunk_read and other reads may be called.
 * store_export_end closes the transaction (always call it after a
 * successful begin).  Return 0 or -1.
 */
int store_export_begin(struct store *st, enum store_module module,
    int64_t since, int64_t *epoch, int64_t *upto);
int store_export_walk(struct store *st, store_rec_cb *cb, void *arg);
void store_export_end(struct store *st);

/*
 * Walk all the data of ${module} homed at pool ${home} (this pool's own, or
 * a partner's replica; for config, all of it if ${home} is the config
 * master) as records, in one read transaction, as a snapshot export would.
 * For comparing primary and replica.  Returns 0 or -1.
 */
int store_walk_home(struct store *st, enum store_module module,
    const char *home, store_rec_cb *cb, void *arg);

/*
 * The plaintext of chunk ${id} into ${buf} (room for 64 KiB), its length
 * into ${len}; authenticated under the storage key.  Returns 0 or -1.
 */
int store_chunk_read(struct store *st, const uint8_t id[static CRYPTO_HASH_LEN],
    uint8_t *buf, size_t *len);

/* 1 if the store holds chunk ${id}, 0 if not, -1 on error. */
int store_chunk_has(struct store *st, const uint8_t id[static CRYPTO_HASH_LEN]);
/*
 * Checkpoints.  Every connection checkpoints the WAL after the commit that
 * takes it past STORE_CHECKPOINT_FRAMES pages (SQLite's autocheckpoint),
 * in that commit's caller.  store_defer_checkpoints makes ${st} only note
 * the WAL's size instead, so that a long import can answer its partner
 * first; store_checkpoint_due says when store_checkpoint (PASSIVE) should
 * then run.
 */
#define STORE_CHECKPOINT_FRAMES 16384
void store_defer_checkpoints(struct store *st);
int store_checkpoint_due(const struct store *st);
int store_checkpoint(struct store *st);

/*
 * Pack reads through ${st} are read once (an exporter's: each chunk goes
 * to the partner or into a package file and is not read again soon): each
 * drops the pages it read from the page cache (fileio_drop_read), so that
 * a snapshot of gigabytes neither pushes the pool's database out of the
 * page cache nor takes a never-used page for every page it reads
 * (docs/store.md).
 */
void store_read_once(struct store *st);

/* For each of the ${n} chunk ids ${ids}, bit i of ${bits} ((n+7)/8 bytes):
 * held?  In one read transaction.  Returns 0 or -1. */
int store_chunks_held(struct store *st, const uint8_t *ids, size_t n,
    uint8_t *bits);

/* The LSN up to which ${module}'s journal was pruned (0: never). */
int store_journal_floor(struct store *st, enum store_module module,
    int64_t *floor);

/*
 * Drop ${module}'s journal records up to LSN ${upto} (what the partner has).
 * store_journal_prune_some drops at most ${max} LSNs of them, the oldest,
 * in one short write transaction, and says in ${more} whether some are
 * left.  Return 0 or -1.
 */
int store_journal_prune(struct store *st, enum store_module module,
    int64_t upto);
int store_journal_prune_some(struct store *st, enum store_module module,
    int64_t upto, int64_t max, int *more);

/* How far the replica of ${source}'s ${module} has come. */
struct store_replica {
	char source[PP_FQDN_MAX + 1];
	enum store_module module;
	int64_t epoch;
	int64_t lsn;			/* the last LSN imported */
	uint8_t pkg[16];		/* the last package imported */
	int64_t imported_ms;
	int64_t records;		/* in that package */
};

/* Fill ${out}; PP_ENOENT if nothing of ${source}'s ${module} came yet. */
int store_replica_get(struct store *st, const char *source,
    enum store_module module, struct store_replica *out);

typedef int store_replica_cb(void *arg, const struct store_replica *r);
/* Call ${cb} for each replica state, by source and module. */
int store_replica_list(struct store *st, store_replica_cb *cb, void *arg);

/*
 * Import: store_import_begin opens one write transaction for a package from
 * ${source} for ${module} (${snapshot}: the package holds all of the
 * source's data of the module: what it lacks is deleted at commit).
 * store_import_rec applies one record to the replica (validated like any
 * input: refused if malformed or if it would touch this pool's own data);
 * store_import_chunk stores chunk ${id} (checked against its SHA-256) unless
 * held; with ${data} NULL, a chunk neither held nor prestaged returns -2
 * (the caller imports again with the bytes).  Nothing is journaled.  store_import_commit records ${rep} and
 * commits; store_import_rollback undoes everything.  Return 0 or -1 (after
 * a failure only store_import_rollback may follow).
 */
int store_import_begin(struct store *st, const char *source,
    enum store_module module, int snapshot);
int store_import_rec(struct store *st, const struct store_rec *r);
int store_import_chunk(struct store *st,
    const uint8_t id[static CRYPTO_HASH_LEN], const uint8_t *data,
    size_t len);
int store_import_commit(struct store *st, const struct store_replica *rep);
void store_import_rollback(struct store *st);

/*
 * Prestaging (store_prestage.c): the new chunks of a content package sealed
 * and staged ahead of its import, without the write lock, on any handle of
 * the store.  store_prestage_chunk stages chunk ${id} (already checked
 * against its SHA-256) unless the store holds it; store_prestage_sync
 * makes what was staged durable (so the import's sync finds little left to
 * do).  store_import_prestaged
 * hands ${ps} to the open content import of ${st}, which takes it whatever
 * happens (and frees it at its end); its chunks are then not sealed again.
 * store_prestage_free discards one never handed over.  Return 0 or -1.
 */
struct store_prestage;
struct store_prestage *store_prestage_new(struct store *st);
int store_prestage_chunk(struct store_prestage *ps,
    const uint8_t id[static CRYPTO_HASH_LEN], const uint8_t *data, size_t len);
int store_prestage_sync(struct store_prestage *ps);
int store_import_prestaged(struct store *st, struct store_prestage *ps);
void store_prestage_free(struct store_prestage *ps);

#endif
