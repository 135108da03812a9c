/*
 * fuzz_keys.h: what the fuzz harnesses (fuzz_pkg, fuzz_records) and
 * gen_corpus share: the fixed sealing and identity keys, derived from
 * constant seeds so that a seed package gen_corpus writes opens, and its
 * signature verifies, in every later run of a harness; the fixed header a
 * harness writes; and the memfd a harness reads packages from.  Test code
 * only: these keys are public.
 */
#ifndef PP_FUZZ_KEYS_H
#define PP_FUZZ_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "pkg.h"

/* fuzz_records' input: a type byte with this bit has a repeat count; */
#define FUZZ_REC_REPEAT	0x80
/* this type byte pads the record stream to just before a frame's end. */
#define FUZZ_REC_PAD	0x7f

struct fuzz_keys {
	uint8_t seal_priv[CRYPTO_X25519_LEN];	/* the target's sealing key */
	uint8_t seal_pub[CRYPTO_X25519_LEN];	/* its public half */
	EVP_PKEY *sign;		/* the source's Ed25519 identity key */
	EVP_PKEY *verify;	/* its public half only */
};

/*
 * Derive the fixed keys into ${k}.  Returns 0, or -1 (the keys are then
 * freed).  The caller frees them with fuzz_keys_free.
 */
int fuzz_keys_load(struct fuzz_keys *k);

/* Free the keys of ${k} and wipe it; a zeroed ${k} does nothing. */
void fuzz_keys_free(struct fuzz_keys *k);

/* Fill ${h} with the fixed header of a ${module} snapshot (for a writer). */
void fuzz_hdr_init(struct pkg_hdr *h, int module);

/* A new memfd (close it).  Returns the descriptor or -1. */
int fuzz_memfd(void);

/*
 * Make ${fd} hold exactly the ${size} bytes at ${data}, positioned at 0.
 * ${size} 0 leaves it empty.  Returns 0 or -1.
 */
int fuzz_memfd_load(int fd, const uint8_t *data, size_t size);

/* Empty ${fd} and rewind it, for a writer.  Returns 0 or -1. */
int fuzz_memfd_reset(int fd);

/* Print ${what} and pp_errmsg() to stderr, then abort: a broken property. */
void fuzz_fail(const char *what) __attribute__((noreturn));

#endif
