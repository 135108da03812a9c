/*
 * util.h: small validators and helpers shared by every module: bounded text
 * checks, FQDNs, hex, time, and whole-buffer I/O that retries short transfers.
 */
#ifndef PP_UTIL_H
#define PP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Check that ${s} is valid UTF-8 of 1..${max} bytes with no control
 * characters (C0, DEL, C1).  ${what} names the field in the error.  Returns 0,
 * or -1 with PP_EINVAL recorded.
 */
int util_text_ok(const char *s, size_t max, const char *what);

/*
 * Check that ${s} is 1..${max} bytes of [A-Za-z0-9._-] (a token: setting keys,
 * config document names).  Returns 0, or -1 with PP_EINVAL recorded.
 */
int util_token_ok(const char *s, size_t max, const char *what);

/* Big-endian integers in wire formats (packages, frames, deltas). */
static inline void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
be32_get(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static inline void
be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, (uint32_t)(v >> 32));
	be32_put(p + 4, (uint32_t)v);
}

static inline uint64_t
be64_get(const uint8_t *p)
{
	return ((uint64_t)be32_get(p) << 32 | be32_get(p + 4));
}

/*
 * Check that ${s} is a fully qualified domain name: dot-separated labels of
 * 1..63 letters, digits and hyphens, not starting or ending with a hyphen, at
 * least two labels, at most PP_FQDN_MAX bytes.  Returns 0 or -1 (PP_EINVAL).
 */
int util_fqdn_ok(const char *s);

/* Write ${len} bytes of ${in} as lowercase hex to ${out} (2*len+1 bytes). */
void util_hex(char *out, const uint8_t *in, size_t len);

/* The value of hex digit ${c} (either case), or -1. */
int util_hexval(int c);

/* Parse 2*${len} hex digits of ${s} into ${out}.  Returns 0 or -1. */
int util_unhex(uint8_t *out, const char *s, size_t len);

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t util_now_ms(void);
/* Milliseconds on the monotonic clock (for intervals and deadlines). */
int64_t util_mono_ms(void);

/*
 * Format ${t} (seconds since the epoch) as "YYYY-MM-DDTHH:MM:SSZ" into ${out}
 * (at least 21 bytes).
 */
void util_time_fmt(char *out, size_t outlen, int64_t t);

/*
 * Parse "YYYY-MM-DDTHH:MM[:SS]Z" (UTC) into seconds since the epoch in ${t}.
 * Returns 0, or -1 with PP_EINVAL recorded naming ${what}.
 */
int util_time_parse(const char *s, int64_t *t, const char *what);

/* Write all ${len} bytes of ${buf} to ${fd}.  Returns 0 or -1 (PP_EIO). */
int util_write_all(int fd, const void *buf, size_t len);

/*
 * Read from ${fd} until ${len} bytes or end of file.  Returns the count read
 * (less than ${len} only at end of file), or -1 (PP_EIO).
 */
ssize_t util_read_full(int fd, void *buf, size_t len);

/*
 * Where a package's bytes come from or go: read(2) or write(2) on ${fd};
 * or, with ${read} (${write}) set, that function with ${arg}: it returns
 * the count read, at least 1 (0 at the end), or -1 with the error
 * recorded (0, or -1 with the error recorded).  The daemon uses the
 * functions to hand bytes between its threads without a pipe's copies.
 */
struct util_src {
	int fd;
	ssize_t (*read)(void *arg, void *buf, size_t len);
	void *arg;
};
struct util_sink {
	int fd;
	int (*write)(void *arg, const void *buf, size_t len);
	void *arg;
};

/* util_read_full from ${s}. */
ssize_t util_src_read_full(const struct util_src *s, void *buf, size_t len);

/* util_write_all to ${s}. */
int util_sink_write(const struct util_sink *s, const void *buf, size_t len);

/*
 * Read all of ${fd} into a new buffer if it holds at most ${max} bytes; set
 * ${buf} (caller frees) and ${len}.  Returns 0, or -1 with PP_ELIMIT (too
 * big) or PP_EIO recorded naming ${what}.
 */
int util_read_fd(int fd, size_t max, uint8_t **buf, size_t *len,
    const char *what);

/* The last component of ${path} (points into it). */
const char *util_basename(const char *path);

#endif
