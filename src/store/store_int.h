/*
 * store_int.h: what the SQLite implementation's files share; not part of the
 * store contract (store.h).
 */
#ifndef PP_STORE_INT_H
#define PP_STORE_INT_H

#include <limits.h>
#include <stdint.h>

#include <sqlite3.h>

#include "crypto.h"
#include "store.h"

#define STORE_APP_ID	0x50504c31	/* "PPL1": PRAGMA application_id */
#define STORE_VERSION	3		/* PRAGMA user_version */
#define STORE_DB	"pool.db"
#define STORE_KEYFILE	"storage.key"
#define STORE_NSTMT	256		/* prepared statement cache slots */
#define JRNL_BUF	64		/* journal records per INSERT */
#define CONTACT_BUF	32		/* buffered contacts per INSERT */
#define SETTING_BUF	32		/* buffered settings per INSERT */
#define OWNER_ADDED	2048		/* > 2 * PP_CONTACTS_PER_USER */
#define IMP_NEW_MAX	(1 << 20)	/* an import's staged chunks in memory */
/* Their text: owner, URI, name and group list of each, NUL-terminated. */
#define CONTACT_ARENA	(CONTACT_BUF * (3 * (PP_URI_MAX + 1) + \
	PP_GROUPS_PER_USER * (PP_GROUP_NAME_MAX + 1) + 2))
/* Theirs: user, key and value of each, NUL-terminated. */
#define SETTING_ARENA	(SETTING_BUF * (PP_URI_MAX + PP_SETTING_KEY_MAX + \
	PP_SETTING_VALUE_MAX + 3))

/* Journal entity names by code (store_journal.c). */
extern const char *const jrnl_entities[];

/* The journal's key: module in the high bits, LSN (< 2^48) below. */
#define JRNL_SHIFT	48
#define JRNL_SEQ(m, lsn) (((int64_t)(m) << JRNL_SHIFT) | (int64_t)(lsn))
#define STORE_PACKDIR	"chunks"	/* pack files of sealed chunks */
#define STORE_NPACKFD	8		/* cached pack read descriptors */
/* The largest sealed chunk: the chunker's maximum plus nonce and tag. */
#define STORE_SEALED_MAX (64 * 1024 + CRYPTO_SEAL_OVERHEAD)

struct store {
	sqlite3 *db;
	char dir[PATH_MAX];
	char pool[PP_FQDN_MAX + 1];
	uint8_t key[CRYPTO_KEY_LEN];
	struct crypto_aead *aead;	/* chunks, under the storage key */
	struct crypto_hash *hash;
	struct {
		const char *sql;	/* the key: a string literal's address */
		sqlite3_stmt *stmt;
	} stmts[STORE_NSTMT];
	int in_tx;			/* a write transaction is open */
	int in_read;			/* an export's read transaction */
	int wal_frames;			/* deferred checkpoints: the WAL's */
	enum store_module exp_module;	/* ... of this module */
	int64_t exp_since, exp_upto;	/* ... since this LSN, up to this */
	/*
	 * An import is open (store_import.c): nothing is journaled, and
	 * rows written belong to this source pool.
	 */
	int importing;
	int read_once;			/* pack reads drop their pages */
	int import_snapshot;
	int import_fresh;		/* a snapshot into an empty replica */
	int64_t import_recs;		/* records applied (imp_wal_behind) */
	off_t import_wal_wb;		/* the WAL written back up to here */
	struct stage *import_sg;	/* the import's new chunks, staged */
	struct store_prestage *import_pre; /* chunks staged before it began */
	int64_t import_staged;		/* bytes staged */
	/*
	 * The staged chunks of the import, not in the chunks table yet:
	 * references count here, and each goes in at commit, once, in id
	 * order, where the stage became (store_import.c).  imp_idx: open
	 * addressing over imp_new, index + 1 (0 empty), imp_idx_cap slots.
	 */
	struct imp_chunk *imp_new;
	size_t imp_nnew, imp_cnew;
	uint32_t *imp_idx;
	size_t imp_idx_cap;
	/*
	 * Memory is bounded: past imp_new_max chunks (IMP_NEW_MAX; tests
	 * lower it) they wait in temp.imp_spill, which lives in a file.
	 */
	size_t imp_new_max;
	int imp_spilled;
	enum store_module import_module;
	char import_src[PP_FQDN_MAX + 1];
	int batch;			/* ... opened by store_begin */
	int tx_failed;			/* a write failed part-way */
	int64_t op_changes;		/* total_changes when the op began */
	int64_t tx_id;			/* counts write transactions */
	int64_t wops;			/* counts write operations */
	/*
	 * What store_contact_put knows of the owner it wrote last, valid
	 * while no other write came in between, in the same transaction:
	 * batches of one owner's contacts skip the lookups.
	 */
	struct {
		int64_t tx, wop;
		char uri[PP_URI_MAX + 1];
		int64_t ncontacts;
		size_t ngroups;
		char groups[PP_GROUPS_PER_USER][PP_GROUP_NAME_MAX + 1];
		/*
		 * fresh: the owner had no contacts when loaded, so every
		 * contact it has is one added since, each hashed into
		 * added[] (OWNER_ADDED slots, 0 empty): a new URI is
		 * known not to be there without a lookup, and its row
		 * can wait in the buffer (cb) like a fresh import's.
		 */
		int fresh;
		uint64_t *added;
	} owner;
	/*
	 * Alike for store_setting_set: the user it wrote last and an upper
	 * bound of that user's settings (counted exactly near the limit).
	 */
	struct {
		int64_t tx, wop;
		char uri[PP_URI_MAX + 1];
		int64_t nmax;
	} suser;
	struct {
		int loaded, dirty;
		int64_t epoch, next_lsn;
	} mod[STORE_NMOD];
	int64_t written[STORE_NMOD];	/* last LSN this handle committed */
	/*
	 * Journal records of the open transaction not yet inserted: they go
	 * in many rows per statement (store_journal.c), always before the
	 * transaction commits or the journal is read.
	 */
	struct jrec_buf {
		int64_t seq, epoch, ts;
		int kind;
		char k1[PP_URI_MAX + 1], k2[PP_URI_MAX + 1];
	} jbuf[JRNL_BUF];
	size_t njbuf;
	/*
	 * Contacts not yet inserted (of a snapshot into an empty replica,
	 * or added to an owner that had none, owner.fresh): they go in
	 * CONTACT_BUF rows per statement (store_contact.c), before any
	 * other write, any read of contacts and the commit.
	 * Their text lives in cb_arena (CONTACT_ARENA bytes).
	 */
	struct {
		uint32_t owner, uri, name, groups;	/* offsets in cb_arena */
		int rel;
	} cb[CONTACT_BUF];
	size_t ncb;
	char *cb_arena;
	size_t cb_used;
	int cb_keep;			/* the op adds to the buffer */
	size_t cb_prior;		/* rows buffered before this op */
	/*
	 * Alike, the settings of a snapshot into an empty replica
	 * (store_user.c): SETTING_BUF rows per statement, before any other
	 * write, any read and the commit; their text in sb_arena.
	 */
	struct {
		uint32_t uri, k, v;		/* offsets in sb_arena */
	} sb[SETTING_BUF];
	size_t nsb;
	char *sb_arena;
	size_t sb_used;
	int sb_keep;			/* the op adds to the buffer */
	/* Pack appends of the open write transaction (store_pack.c). */
	int wfd;			/* -1: none yet */
	int wfresh;			/* append to a new pack (compaction) */
	int wcreated;			/* wpack's file is new in this tx */
	int64_t wlive_op;		/* wlive when the operation began */
	int64_t *adopted;		/* packs renamed from stages in this tx */
	size_t nadopted, cadopted;
	int64_t wpack;			/* the pack appended to */
	int64_t wstart;			/* its size when the tx began */
	int64_t wbase;			/* file offset of wbuf[0] */
	int64_t wlive;			/* bytes appended, for packs.live */
	uint8_t *wbuf;
	size_t wlen;
	struct {
		int64_t id;
		int64_t size;		/* at open, or the furthest read */
		int fd;			/* -1: empty slot */
	} rfd[STORE_NPACKFD];
};

/*
 * The cached statement for ${sql} (a string literal: cached by its address),
 * reset.  Bindings are NOT cleared: the caller binds every parameter.  NULL
 * on failure (PP_ESTORE).
 */
sqlite3_stmt *db_stmt(struct store *st, const char *sql);

/* Run ${sql} (no results).  Returns 0, or -1 (db_fail). */
int db_exec(struct store *st, const char *sql);

/*
 * Reset every cached statement, so that none keeps a read snapshot open
 * (done at every transaction boundary).
 */
void db_reset_all(struct store *st);

/* Roll back the open write transaction, if any, and its pack appends. */
void tx_rollback(struct store *st);

/* Record PP_ESTORE for ${what} with SQLite's message; returns -1. */
int db_fail(struct store *st, const char *what);

/* Step ${s} expecting SQLITE_DONE.  Returns 0, or -1 (db_fail). */
int db_done(struct store *st, sqlite3_stmt *s, const char *what);

/*
 * Insert the ${n} rows of a buffer many per statement: ${sql}[b] inserts
 * ${max} >> b rows (${max} a power of two; the last statement one row),
 * and the rows go in as few statements as ${n} has bits set (a buffer cut
 * short by the next operation: 100 = 64 + 32 + 4).  ${bind}(st, s, i, r)
 * binds buffered row r as the statement's row i.  The rows it changed are
 * added to *${changes}.  Returns 0, or -1 (db_fail with ${what}).
 */
typedef void db_row_bind(struct store *st, sqlite3_stmt *s, int i, size_t r);
int db_insert_rows(struct store *st, const char *const *sql, size_t max,
    size_t n, db_row_bind *bind, int64_t *changes, const char *what);

/*
 * Does ${sql} (a SELECT with one parameter, a 32-byte id) give a row for
 * ${id}?  1 or 0, or -1 (db_fail with ${what}).
 */
int db_has_id(struct store *st, const char *sql, const uint8_t *id,
    const char *what);

/*
 * Run ${sql} (an UPDATE whose parameters are ${delta}, then a 32-byte id)
 * for ${id}: the rows it changed, or -1 (db_fail with ${what}).
 */
int db_id_add(struct store *st, const char *sql, const uint8_t *id,
    int64_t delta, const char *what);

/* Bind helpers: text (NULL binds ""), int64, blob.  Return 0 or -1. */
int db_bind_text(sqlite3_stmt *s, int i, const char *v);

/* Copy column ${i} of ${s} as text into ${out} of ${len} bytes. */
void db_col_text(sqlite3_stmt *s, int i, char *out, size_t len);

/*
 * Open a write transaction for one operation, unless a batch is open.
 * Returns 0 or -1.  Every operation that writes calls db_wbegin first and
 * db_wend(st, rc) last, with rc its result: 0 commits (outside a batch), -1
 * rolls back (outside a batch) or, inside one, marks it failed if the
 * operation had already changed rows.  Returns the final result.
 */
int db_wbegin(struct store *st);
int db_wend(struct store *st, int rc);

/* Open / close a read transaction so multi-query reads are consistent. */
int db_rbegin(struct store *st);
void db_rend(struct store *st);

/* Insert the buffered journal records.  Returns 0 or -1. */
int jrnl_flush(struct store *st);
/* Insert the contacts buffered by a fresh import.  Returns 0 or -1. */
int contact_flush(struct store *st);
/* Insert the settings buffered by a fresh import.  Returns 0 or -1. */
int setting_flush(struct store *st);

/*
 * Append a journal record to ${module} for ${entity} ${k1} ${k2} (NULL: "")
 * with operation ${op} ("put" or "del").  Inside a write transaction only.
 */
int jrnl_append(struct store *st, enum store_module module,
    const char *entity, const char *k1, const char *k2, const char *op);

/*
 * Check that data homed at ${home} may be written here: this pool owns
 * that user set (store_owner.c) and is not failing it back; inside an
 * import, that the source owns it.  Returns 0, or -1 with PP_EROFS
 * recorded naming ${what} and the owner.
 */
int db_home_writable(struct store *st, const char *home, const char *what);

/*
 * Ownership internals (store_owner.c): the owner of ${home} into ${o};
 * write ${o}'s row (and the config master with it); whether ${o} may
 * replace ${cur} (a higher epoch, or a mode change by the same owner).
 */
int owner_find(struct store *st, const char *home, struct store_owner *o);
int owner_write(struct store *st, const struct store_owner *o);
int owner_follows(const struct store_owner *cur, const struct store_owner *o);

/*
 * Keep, as orphans, the journal records of ${m} after LSN ${after} with the
 * current state of their keys (store_export.c): this pool is being fenced
 * and its new owner never had them.  Inside a write transaction.
 */
int orphans_capture(struct store *st, enum store_module m, int64_t after);

/* Normalize user ${uri} into ${out}, check it is known here, fill ${u}. */
int db_user_find(struct store *st, const char *uri,
    char out[static PP_URI_MAX + 1], struct store_user *u);

/* Conference ${id} exists (and, for conf_writable, is writable here). */
int conf_exists(struct store *st, const char *id);
int conf_writable(struct store *st, const char *id);

/* Check a conference id's form; a conference's subject, times, access. */
int conf_id_ok(const char *id);
int conf_fields_ok(const struct store_conf *c);
/* Write conference row ${c} (its home and times as they are); ${replace}:
 * INSERT OR REPLACE (imports), else INSERT. */
int conf_write(struct store *st, const struct store_conf *c, int replace);

/*
 * Content internals (store_content.c): drop a reference to each of ${n}
 * chunks (freeing unused ones); write an item row (with ${c}->home) and
 * journal it; refuse a new item in a full conference.
 */
int chunks_release(struct store *st, const uint8_t *ids, size_t n);
/* Add ${delta} to the references of chunk ${id} if the table holds it;
 * with ${delta} <= 0, free it (and its bytes in its pack) if unused. */
int chunk_refs_add(struct store *st, const uint8_t *id, int64_t delta);
/* Take one more reference to each of ${n} chunks ${ids}; PP_ENOENT if one
 * is not held (the caller's write then fails part-way). */
int chunks_ref(struct store *st, const uint8_t *ids, size_t n);
/* In an import, add ${delta} to the references of chunk ${id} if the import
 * staged it (1), else 0: it is in the chunks table, or nowhere. */
int imp_chunk_ref(struct store *st, const uint8_t *id, int64_t delta);
int content_row(struct store *st, const struct store_content *c,
    const uint8_t *ids, size_t n);
int content_room(struct store *st, const char *conf);

/* Fill ${c} with conference ${id}; PP_ENOENT if unknown. */
int conf_find(struct store *st, const char *id, struct store_conf *c);

/* 1 if ${owner} has group ${name}, 0 if not, -1 on error. */
int group_exists(struct store *st, const char *owner, const char *name);

/* Split the \x1f-separated group names of column ${i} into ${c}->groups. */
void contact_groups_split(sqlite3_stmt *s, int i, struct store_contact *c);

/* Fill ${c} with ${owner}'s contact ${uri} (both normalized); PP_ENOENT. */
int contact_find(struct store *st, const char *owner, const char *uri,
    struct store_contact *c);

/* A list of chunk ids (content rows). */
struct idlist {
	uint8_t *ids;
	size_t n, cap;
};

/*
 * Load item ${conf}/${name} into ${c}; if ${ids} is not NULL, also its
 * chunk list (caller frees ids->ids).  PP_ENOENT if there is none.
 */
int content_find(struct store *st, const char *conf, const char *name,
    struct store_content *c, struct idlist *ids);

/*
 * Fetch and open chunk ${id} (of item ${c}, for messages; may be NULL) into
 * ${pt}, using ${sealed} (STORE_SEALED_MAX bytes); set ${len}.  The AEAD
 * authenticates it under the storage key with the id as AAD; ${verify}
 * also checks that the id is its SHA-256.
 */
int chunk_load(struct store *st, const struct store_content *c,
    const uint8_t *id, uint8_t *sealed, uint8_t *pt, size_t *len,
    int verify);

/*
 * Previous chunk lists (content_prev, store_content.c): prev_load fills
 * ${out} with item ${conf}/${name}'s (ids NULL: none; caller frees), and
 * if not NULL ${lsn} and ${base} with the LSNs of the put that replaced
 * that version and of the one that made it;
 * prev_drop releases and deletes it; prev_prune those of puts up to LSN
 * ${upto}, which the partner acknowledged.  Return 0 or -1.
 */
#define PREV_KEEP_MAX	256	/* chunks changed, at most, to keep one */
int prev_load(struct store *st, const char *conf, const char *name,
    struct idlist *out, int64_t *lsn, int64_t *base);
int prev_drop(struct store *st, const char *conf, const char *name);
int prev_prune(struct store *st, int64_t upto);

/* The epoch, next LSN and floor (pruned up to) of module ${m}. */
int modstate_get(struct store *st, enum store_module m, int64_t *epoch,
    int64_t *next, int64_t *floor);

/* Delete conference content (used by conf and user deletion). */
int content_del_conf(struct store *st, const char *conf);

/*
 * Pack files (store_pack.c).  pack_append buffers ${len} bytes for the pack
 * of this write transaction and says where they will be; pack_read reads
 * them back; pack_live adjusts a pack's count of live bytes; pack_dir_sync
 * makes new names in the chunks directory durable; pack_adopted records a
 * pack renamed from a stage in this transaction (removed if it rolls
 * back); pack_precommit
 * makes the appends durable (called just before COMMIT); pack_end finishes
 * the transaction's appends (${committed} 0: cut them off again);
 * pack_close_all closes every descriptor.  Return 0 or -1.
 */
int pack_append(struct store *st, const uint8_t *buf, size_t len,
    int64_t *pack, int64_t *off);
int pack_read(struct store *st, int64_t pack, int64_t off, uint8_t *buf,
    size_t len);
int pack_live(struct store *st, int64_t pack, int64_t delta);
int pack_dir_sync(struct store *st);
int pack_adopted(struct store *st, int64_t pack);
int pack_precommit(struct store *st);
void pack_end(struct store *st, int committed);
void pack_close_all(struct store *st);

/*
 * Staging of one upload's sealed chunks outside the write lock
 * (store_stage.c).  stage_open makes a private, locked stage file;
 * stage_append buffers ${len} bytes and says at which stage offset they
 * are; stage_sync makes them durable; stage_adopt (inside the write
 * transaction) makes the stage part of the store: renamed into a new pack,
 * or copied into the current one (then ${counted} is 1: pack_append counted
 * the bytes live), setting where its offset 0 now is (${pack}, ${base});
 * stage_free removes a stage that was not renamed.  Return 0 or -1.
 */
struct stage;
struct stage *stage_open(struct store *st);
uint8_t *stage_reserve(struct stage *sg, size_t len, int64_t *off);
int stage_sync(struct stage *sg);
int stage_adopt(struct stage *sg, int64_t *pack, int64_t *base,
    int *counted);
void stage_free(struct stage *sg);
/* stage_rehome: the stage belongs to handle ${st} of the same store now
 * (its writes and adoption go there); stage_size: bytes staged. */
void stage_rehome(struct stage *sg, struct store *st);
int64_t stage_size(const struct stage *sg);

/* Is chunk ${id} prestaged (store_prestage.c)?  1 with where, or 0. */
int prestage_find(const struct store_prestage *ps,
    const uint8_t id[static CRYPTO_HASH_LEN], int64_t *off, int64_t *len);

/*
 * The item a put queue is committing ahead of an upload: has(arg, id) says
 * whether that item staged chunk ${id}; wait(arg) returns once its commit
 * is done (either way).  has is called from the upload's thread while the
 * commit runs, so it reads only what the commit does not change.
 */
struct upload_ahead {
	int (*has)(void *arg, const uint8_t *id);
	void (*wait)(void *arg);
	void *arg;
};

/* One content item's chunks on their way in (store_upload.c). */
struct upload {
	uint8_t *ids;		/* n chunk ids, in order */
	int64_t *off;		/* where each is staged; -1: held already */
	uint32_t *len;		/* sealed lengths */
	size_t n, cap;
	struct stage *sg;
	int64_t size;		/* of the whole plaintext */
	uint8_t sha256[CRYPTO_HASH_LEN];
	size_t nnew;		/* chunks inserted by upload_commit */
	const struct upload_ahead *ahead;	/* NULL: none */
};

/*
 * upload_read: read ${fd} to its end into ${u}, before the write lock; with
 * ${sync} 0 the stage is left for the caller to sync (stage_sync) before
 * upload_commit.  upload_commit: inside the write transaction, reference
 * every chunk of ${u} (PP_EAGAIN if a chunk held before was deleted
 * meanwhile).
 * upload_free: release ${u} and its stage.  Return 0 or -1.
 */
int upload_read(struct store *st, int fd, struct upload *u, int sync);
int upload_commit(struct store *st, struct upload *u);
void upload_free(struct upload *u);

/*
 * The two halves of store_content_put (store_content.c).  content_put_read
 * checks the item's name, type and conference and reads ${fd} into ${c}
 * and ${u}, syncing the stage unless ${ahead} is not NULL (a put queue's
 * item: its committer syncs the stage, and ${ahead} is the item it may be
 * committing meanwhile, or no item: has always 0).  content_put_commit is
 * the write transaction, on any handle of the store once the stage is
 * synced; it leaves the count of new chunks in ${u}.  Return 0 or -1; the
 * caller frees ${u} (upload_free) either way.
 */
int content_put_read(struct store *st, const char *conf, const char *name,
    enum store_kind kind, const char *mime, int fd, struct store_content *c,
    struct upload *u, const struct upload_ahead *ahead);
int content_put_commit(struct store *st, struct store_content *c,
    struct upload *u);

/* Load and check the storage key of ${dir} into ${key}.  Returns 0 or -1. */
int storekey_load(const char *dir, uint8_t key[static CRYPTO_KEY_LEN]);

/* Create a new storage key file in ${dir}, 0600, filling ${key}. */
int storekey_create(const char *dir, uint8_t key[static CRYPTO_KEY_LEN]);

/* The check value kept in the store for ${key} (hex, 65 bytes). */
int storekey_check(const uint8_t key[static CRYPTO_KEY_LEN], char out[65]);

#endif
