/*
 * backup.h: the exporter and the importer: a module's changes (or all of
 * it) from a pool's store into a signed, sealed package, and a package
 * into the partner's replica, with every check that makes a package
 * acceptable to exactly one pool.
 */
#ifndef PP_BACKUP_H
#define PP_BACKUP_H

#include <stdint.h>

#include <openssl/evp.h>

#include "pkg.h"
#include "store.h"

/* Who is who in a pair: the keys a pool holds (from its config file). */
struct bk_keys {
	const char *pair;		/* the pair's name (the CA's CN) */
	const char *pool;		/* this pool's FQDN */
	const char *partner;		/* the partner's FQDN */
	EVP_PKEY *identity;		/* this pool's identity key (signs) */
	uint8_t fingerprint[CRYPTO_HASH_LEN];	/* of this pool's cert */
	uint8_t seal_priv[CRYPTO_X25519_LEN];	/* this pool's sealing key */
	EVP_PKEY *partner_pub;		/* the partner's identity (verifies) */
	uint8_t partner_fp[CRYPTO_HASH_LEN];	/* of the partner's cert */
	uint8_t partner_seal[CRYPTO_X25519_LEN];	/* seals to the partner */
};

/*
 * Does the target hold chunk ${id}?  1 yes (then it is not sent), 0 no,
 * -1 error.
 */
typedef int bk_have_fn(void *arg, const uint8_t id[static CRYPTO_HASH_LEN]);

/*
 * Ask the target at once which of ${n} chunk ids ${ids} it holds: set bit i
 * of ${bits} (${n} bits, zeroed by the caller) for each it holds.  Returns
 * 0, or -1 (then every chunk is sent).
 */
typedef int bk_ask_fn(void *arg, const uint8_t *ids, size_t n, uint8_t *bits);

struct bk_export_opts {
	enum store_module module;
	int64_t since;		/* the LSN the target has; -1: a snapshot */
	int level;		/* zstd level; 0: none */
	bk_have_fn *have;	/* NULL: send every chunk referenced */
	void *have_arg;
	bk_ask_fn *ask;		/* not NULL: ask before sending (below) */
	void *ask_arg;
	size_t ask_max;		/* ids asked about at most (the rest go) */
	int deltas;		/* the target takes content-edit records */
	const struct util_sink *sink;	/* not NULL: written here, not fd */
};

struct bk_export_result {
	struct pkg_hdr hdr;	/* as written */
	struct pkg_stats stats;
	int fell_back;		/* a snapshot: the journal did not reach back */
	uint64_t edits;		/* content-edit records sent */
	uint64_t deltas;	/* their delta segments */
	uint64_t delta_chunks;	/* chunks those rebuild */
};

/*
 * Write the package of ${o} from ${st} to ${fd} (or to ${o}->sink), sealed
 * to the partner of ${k} and signed by this pool.  With ${o}->ask, the content records are
 * walked once first (same read transaction) to collect their chunk ids and
 * ask the target which it holds; those are not sent.  An incremental export
 * whose ${since} the journal no longer reaches becomes a snapshot.  Fills ${res}.  Returns 0
 * or -1 (the bytes written to ${fd} are then no package).
 */
int bk_export(struct store *st, const struct bk_keys *k,
    const struct bk_export_opts *o, int fd, struct bk_export_result *res);

struct bk_import_result {
	struct pkg_hdr hdr;
	struct pkg_stats stats;
	int noop;		/* already imported: nothing changed */
	int want_snapshot;	/* refused: only a snapshot can follow */
	char why[160];		/* for a no-op, why */
};

/*
 * Check and apply the package read from ${fd} to the replica in ${st}:
 * the header must name this pair, this pool as target, the partner as
 * source and signer, and continue what was imported (epoch, LSNs); every
 * frame must open and the signature verify before the one transaction
 * commits.  A package imported already is a no-op (res->noop).  Returns 0,
 * or -1 with PP_EINVAL and the exact reason for a refused package (nothing
 * changed), or another class for a local failure.
 */
int bk_import(struct store *st, const struct bk_keys *k, int fd,
    struct bk_import_result *res);

/*
 * bk_import, and bk_prestage below, reading from ${s}, which need not be
 * seekable (the daemon reads a spool file as it grows).
 */
int bk_import_src(struct store *st, const struct bk_keys *k,
    const struct util_src *s, struct bk_import_result *res);

/*
 * bk_prestage reads the package at ${fd} (a content package: checked frame
 * by frame like an import, and its signature verified, but nothing is
 * applied), seals and stages the chunks ${st} does not hold, without the
 * write lock, and keeps its records (up to BK_PRE_RECS_MAX bytes of them)
 * into *${out} (NULL for another module).  bk_import_prestaged is
 * bk_import with that prestage (NULL: none), which it takes and frees
 * whatever happens: if it kept the records of the package at ${fd} (same
 * id), they are applied from memory and the package is not read again;
 * else, or if a chunk is no longer at hand, the package is imported from
 * ${fd} (which must be seekable).  Return 0 or -1.  After
 * bk_prestaged_body_gone (the package's bytes past its header are no
 * longer at ${fd}: its reader freed them as it read), where the package
 * would have to be read again the import fails instead, with PP_EAGAIN
 * ("the package must be sent again"), and changes nothing.
 */
#define BK_PRE_RECS_MAX	(64 << 20)
struct bk_prestaged;
int bk_prestage(struct store *st, const struct bk_keys *k, int fd,
    struct bk_prestaged **out);
int bk_prestage_src(struct store *st, const struct bk_keys *k,
    const struct util_src *s, struct bk_prestaged **out);
int bk_import_prestaged(struct store *st, const struct bk_keys *k, int fd,
    struct bk_prestaged *pre, struct bk_import_result *res);
void bk_prestaged_free(struct bk_prestaged *pre);
void bk_prestaged_body_gone(struct bk_prestaged *pre);

/*
 * Record a refused package or connection in the audit log of the pool whose
 * data directory is ${dir} (audit.h): kind "${what}-refused" ("package",
 * "connection"), actor ${from} (the file name or the peer; NULL: "-"),
 * detail ${reason}.  Rate-limited per kind through the process's shared
 * writer.  Best effort: failures are ignored.
 */
void bk_refusal_record(const char *dir, const char *what, const char *from,
    const char *reason);

/* --- record codec (bk_codec.c) ------------------------------------------ */

/* Encode ${r} as a package record into ${b}; its type into ${type}. */
int bk_rec_encode(const struct store_rec *r, struct pkg_buf *b, int *type);

/*
 * Decode package record ${pr} into ${r} (pointers into ${pr}'s payload);
 * refuses (PP_EINVAL) malformed payloads.
 */
int bk_rec_decode(const struct pkg_rec *pr, struct store_rec *r);

/*
 * Content-edit records (bk_delta.c; format in docs/package-format.md): a
 * content put whose chunk list is an edit of its previous one (r->prev),
 * which the target's item must be exactly (the SHA-256 of that list is in
 * the record): segments that copy a range of the previous list, bring new
 * ids (their chunks travel whole, before the record), or rebuild a run of
 * chunks as a delta against the previous chunks it replaced.  A delta
 * rebuilds at most BK_DELTA_CHUNKS chunks and BK_DELTA_MAX bytes, from at
 * most BK_DELTA_CHUNKS base chunks.
 *
 * Writing: bk_edit_begin (the content fields, the base hash), segments in
 * order, bk_edit_end; bk_edit_delta writes the segment rebuilding the
 * ${nn} chunks ${ids} (lengths ${lens}, bytes ${nw}) from the ${nb}
 * previous chunks from ${start} (bytes ${base}) only if it saves a
 * quarter of what the run costs whole and the record stays within half
 * of PKG_REC_MAX (1), else nothing (0).  Return 0 or -1 (out of memory).
 */
#define BK_DELTA_CHUNKS	32
#define BK_DELTA_MAX	(1 << 20)
#define BK_SEG_COPY	0
#define BK_SEG_NEW	1
#define BK_SEG_DELTA	2
struct bk_edit_w {
	struct pkg_buf *b;
	size_t countat;			/* where the segment count goes */
	uint32_t nseg;
};
int bk_edit_begin(struct bk_edit_w *e, struct pkg_buf *b,
    const struct store_rec *r);
void bk_edit_copy(struct bk_edit_w *e, size_t start, size_t count);
void bk_edit_new(struct bk_edit_w *e, const uint8_t *ids, size_t count);
int bk_edit_delta(struct bk_edit_w *e, size_t start, size_t nb,
    const uint8_t *base, size_t blen, const uint8_t *ids,
    const uint32_t *lens, size_t nn, const uint8_t *nw, size_t nlen);
int bk_edit_end(struct bk_edit_w *e);

/* A content put's fields up to its chunk count (bk_codec.c). */
void bk_content_head(struct pkg_buf *b, const struct store_rec *r);

/*
 * Reading: bk_edit_decode decodes the content fields into ${r} (ids NULL)
 * and the base hash into ${base}, leaving ${script} at the segments (n is
 * bounded; PP_EINVAL if malformed).  bk_edit_rebuild fills ${ids} (room
 * for ${n}) from the segments and the ${ncur} ids ${cur} they edit,
 * checking every count, range and length (copies and delta bases take
 * the previous list in order, without overlap); each delta (its fields
 * in a struct bk_delta, pointing into the payload) goes to ${fn}, which
 * fills its nn ids.  bk_edit_apply does it all inside an open import of ${st}
 * against the item it holds, rebuilding each delta's chunks from its own
 * (their ids are their SHA-256), and imports the put.  Return 0 or -1.
 */
struct bk_delta {
	size_t start, nb;		/* base: previous chunks */
	const uint8_t *base_ids;	/* ... their ids */
	size_t nn, nlen;		/* chunks rebuilt, their bytes */
	const uint8_t *lens;		/* nn big-endian u32 */
	size_t pre, suf, litlen;
	const uint8_t *sum;		/* SHA-256 of the nn ids */
	const uint8_t *lit;
};
typedef int bk_delta_fn(void *arg, const struct bk_delta *d, uint8_t *ids);
int bk_edit_decode(const struct pkg_rec *pr, struct store_rec *r,
    uint8_t base[static CRYPTO_HASH_LEN], struct pkg_cur *script);
int bk_edit_rebuild(struct pkg_cur *c, size_t ncur, size_t n, uint8_t *ids,
    const uint8_t *cur, bk_delta_fn *fn, void *arg);
int bk_edit_apply(struct store *st, const struct pkg_rec *pr,
    struct store_rec *r);
/*
 * The nlen bytes delta ${d} rebuilds, from the ${blen} bytes ${base} of
 * its base, into ${out}: 0, or -1 (PP_EINVAL) if it keeps more than that.
 */
int bk_delta_assemble(const struct bk_delta *d, const uint8_t *base,
    size_t blen, uint8_t *out);

#endif
