/*
 * pkg.h: the backup package, the unit the paired pools exchange (format in
 * docs/package-format.md).  A plaintext header names pair, source, target,
 * module, epoch and LSN range; the body is a framed AEAD stream sealed to
 * the target's X25519 key (ephemeral X25519, HKDF-SHA256, AES-256-GCM, a
 * frame counter in the nonce, a final-frame flag); inside it, a stream of
 * records, zstd-compressed where that pays; the final frame carries the
 * source's Ed25519 signature over the header and the digest of the records.
 *
 * Writer and reader stream: memory stays bounded (a frame and one record)
 * whatever the size of the package.  The reader hands out records as it
 * decrypts them, but a package is authentic only once pkg_reader_next has
 * returned 0 (signature verified): the caller must not make anything it
 * read permanent before that.
 */
#ifndef PP_PKG_H
#define PP_PKG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "crypto.h"
#include "crypto_pk.h"
#include "pp_limits.h"

struct util_src;
struct util_sink;

#define PKG_MAGIC	"\x89PPKG\r\n\x1a"	/* 8 bytes */
#define PKG_MAGIC_LEN	8
#define PKG_VERSION	1
#define PKG_HDR_MAX	1024	/* the whole header, bytes */
#define PKG_PAIR_MAX	64
#define PKG_ID_LEN	16
#define PKG_FRAME	(64 * 1024)	/* frame payload the writer uses */
#define PKG_FRAME_LIMIT	(1 << 20)	/* largest frame a reader takes */
/* Largest record: a 2 GiB content item's list of 4 KiB chunks, and more. */
#define PKG_REC_MAX	(17 << 20)
#define PKG_CHUNK_MAX	(64 * 1024)	/* the chunker's maximum */

enum pkg_kind { PKG_CHANGES = 1, PKG_SNAPSHOT = 2 };

/* Record types; each belongs to one module (pkg_rec_module). */
enum pkg_rtype {
	PKG_R_USER = 1, PKG_R_USER_DEL, PKG_R_SETTING, PKG_R_SETTING_DEL,
	PKG_R_GROUP, PKG_R_GROUP_DEL, PKG_R_CONTACT, PKG_R_CONTACT_DEL,
	PKG_R_CONF, PKG_R_CONF_DEL, PKG_R_CHUNK, PKG_R_CONTENT,
	PKG_R_CONTENT_DEL, PKG_R_CONFIG, PKG_R_OWNER, PKG_R_CONTENT_EDIT,
	PKG_R_NTYPES
};

struct pkg_hdr {
	int version;
	enum pkg_kind kind;
	int module;			/* enum store_module */
	int64_t epoch;
	int64_t since;			/* exclusive; 0 for a snapshot */
	int64_t upto;			/* inclusive */
	int64_t created_ms;
	uint8_t id[PKG_ID_LEN];		/* random: names this package */
	uint8_t eph_pub[CRYPTO_X25519_LEN];
	uint8_t signer[CRYPTO_HASH_LEN];	/* SHA-256 of the source's
						   certificate (DER) */
	uint32_t frame_max;
	char pair[PKG_PAIR_MAX + 1];
	char source[PP_FQDN_MAX + 1];
	char target[PP_FQDN_MAX + 1];
	/* The header as read or written, for the key schedule. */
	uint8_t raw[PKG_HDR_MAX];
	size_t rawlen;
};

/* The module record type ${t} belongs to, or -1 if ${t} is unknown. */
int pkg_rec_module(int t);

/* --- writing ------------------------------------------------------------ */

struct pkg_writer;

/*
 * Start a package on ${fd}: fills ${h}'s version, id, eph_pub, frame_max,
 * created_ms (if 0) and raw from a fresh ephemeral key and the rest of ${h},
 * which the caller filled (kind, module, epoch, since, upto, signer, pair,
 * source, target); writes the header.  ${target_pub} is the target's sealing
 * key; ${sign_key} (kept, not owned) the source's identity key.  ${level} is
 * the zstd level (0: no compression).  Returns the writer or NULL.
 */
struct pkg_writer *pkg_writer_new(int fd, struct pkg_hdr *h,
    const uint8_t target_pub[static CRYPTO_X25519_LEN], EVP_PKEY *sign_key,
    int level);

/* pkg_writer_new, writing to ${s} (copied). */
struct pkg_writer *pkg_writer_new_sink(const struct util_sink *s,
    struct pkg_hdr *h, const uint8_t target_pub[static CRYPTO_X25519_LEN],
    EVP_PKEY *sign_key, int level);

/* Append record ${type} with ${len} bytes of ${payload}.  Returns 0 or -1. */
int pkg_writer_rec(struct pkg_writer *w, int type, const void *payload,
    size_t len);

/*
 * Append chunk ${id} (SHA-256 of the ${len} bytes of ${data}, at most
 * PKG_CHUNK_MAX), compressed unless that saves too little.  Returns 0 or -1.
 */
int pkg_writer_chunk(struct pkg_writer *w,
    const uint8_t id[static CRYPTO_HASH_LEN], const uint8_t *data,
    size_t len);

/*
 * Flush the last records and write the final, signed frame.  The package
 * is complete when this returns 0 (the caller syncs ${fd} if it must).
 */
int pkg_writer_finish(struct pkg_writer *w);

/* Counters: records, chunks sent raw / compressed, bytes written. */
struct pkg_stats {
	uint64_t records, chunks, chunks_raw, plain_bytes, bytes;
};
void pkg_writer_stats(const struct pkg_writer *w, struct pkg_stats *out);

/* Free ${w} (wiping keys); NULL does nothing. */
void pkg_writer_free(struct pkg_writer *w);

/* --- reading ------------------------------------------------------------ */

/*
 * Read and check the header at the start of ${fd} into ${h} (no key
 * needed).  Returns 0, or -1 with PP_EINVAL (not a package, unknown
 * version, malformed or over a bound) or PP_EIO.
 */
int pkg_header_read(int fd, struct pkg_hdr *h);

/* pkg_header_read from ${s}. */
int pkg_header_read_src(const struct util_src *s, struct pkg_hdr *h);

/* Parse a header from ${len} bytes at ${buf} (as pkg_header_read). */
int pkg_header_parse(const uint8_t *buf, size_t len, struct pkg_hdr *h);

struct pkg_reader;

/*
 * A reader of the body that follows header ${h} (copied) on ${fd}, opened
 * with our sealing key ${seal_priv}, checking the signature with the
 * source's public key ${verify_key} (kept, not owned).  NULL on failure.
 */
struct pkg_reader *pkg_reader_new(int fd, const struct pkg_hdr *h,
    const uint8_t seal_priv[static CRYPTO_X25519_LEN], EVP_PKEY *verify_key);

/* pkg_reader_new, reading from ${s} (copied). */
struct pkg_reader *pkg_reader_new_src(const struct util_src *s,
    const struct pkg_hdr *h,
    const uint8_t seal_priv[static CRYPTO_X25519_LEN], EVP_PKEY *verify_key);

/* One record as the reader hands it out (valid until the next call). */
struct pkg_rec {
	int type;
	const uint8_t *p;	/* the payload; for a chunk: its plaintext */
	size_t len;
	const uint8_t *chunk_id;	/* PKG_R_CHUNK: the checked id */
};

/*
 * The next record into ${out}: returns 1; 0 at the end, once the final
 * frame and the signature have been verified and nothing follows; -1 on any
 * failure (PP_EINVAL for a forged, damaged, truncated or reordered package,
 * with the reason; PP_EIO).  After -1 or 0 the reader is done.
 */
int pkg_reader_next(struct pkg_reader *r, struct pkg_rec *out);

/* Records and bytes read so far. */
void pkg_reader_stats(const struct pkg_reader *r, struct pkg_stats *out);

void pkg_reader_free(struct pkg_reader *r);

/* --- record payloads ---------------------------------------------------- */

/* A growing payload buffer (bounded by PKG_REC_MAX). */
struct pkg_buf {
	uint8_t *p;
	size_t len, cap;
	int failed;		/* a put failed: the payload is unusable */
};

void pkg_buf_reset(struct pkg_buf *b);
void pkg_buf_free(struct pkg_buf *b);
void pkg_put_u8(struct pkg_buf *b, unsigned v);
void pkg_put_u32(struct pkg_buf *b, uint32_t v);
void pkg_put_i64(struct pkg_buf *b, int64_t v);
void pkg_put_bytes(struct pkg_buf *b, const void *p, size_t len);
/* A string: u16 length, then the bytes (no NUL). */
void pkg_put_str(struct pkg_buf *b, const char *s);

/* A cursor over a payload; ${bad} is set by the first get that fails. */
struct pkg_cur {
	const uint8_t *p;
	size_t len;
	int bad;
};

unsigned pkg_get_u8(struct pkg_cur *c);
uint32_t pkg_get_u32(struct pkg_cur *c);
int64_t pkg_get_i64(struct pkg_cur *c);
/* ${len} raw bytes (pointer into the payload), or NULL. */
const uint8_t *pkg_get_bytes(struct pkg_cur *c, size_t len);
/*
 * A string of at most ${max} bytes into ${out} (${max} + 1 bytes), NUL
 * terminated; refuses embedded NULs.  Sets ${c}->bad on failure.
 */
void pkg_get_str(struct pkg_cur *c, char *out, size_t max);

/* Name of record type ${t} ("user", "chunk", ...), "?" if unknown. */
const char *pkg_rec_name(int t);

#endif
