/*
 * ingest.h: read a file and cut it into identified chunks on a second
 * thread, so that reading, chunking and hashing the chunks overlap with
 * the caller's work (sealing, storing, hashing the whole input).
 */
#ifndef PP_INGEST_H
#define PP_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

struct ingest;

/*
 * Start reading ${fd} until end of file, refusing more than ${max} bytes.
 * Returns the reader (free with ingest_free) or NULL.
 */
struct ingest *ingest_start(int fd, int64_t max);

/*
 * The next chunk: ${p} and ${len} point into the reader's buffer (valid
 * until the next call) and ${id} receives its SHA-256.  Returns 1 for a
 * chunk, 0 at the end, -1 on error (read error, too big: recorded by
 * pp_err).
 */
int ingest_next(struct ingest *in, const uint8_t **p, size_t *len,
    uint8_t id[static CRYPTO_HASH_LEN]);

/*
 * Whether ingest_next would return at once, without waiting for input.
 */
int ingest_ready(struct ingest *in);

/*
 * After ingest_next returned 0: the SHA-256 of the whole input into ${sum}
 * and its size into ${size}.
 */
void ingest_result(struct ingest *in, uint8_t sum[static CRYPTO_HASH_LEN],
    int64_t *size);

/*
 * Stop the reader (if still running; one blocked reading its input is woken)
 * and free it; NULL does nothing.
 */
void ingest_free(struct ingest *in);

#endif
