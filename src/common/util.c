/*
 * util.c: small validators and helpers (see util.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "pp_limits.h"
#include "util.h"

/* Length of the UTF-8 sequence starting at ${s}, or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return (1);
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return (0);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Refuse overlong forms, surrogates, C1 controls and > U+10FFFF. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
		return (0);
	return (n);
}

int
util_text_ok(const char *s, size_t max, const char *what)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strnlen(s, max + 1), n;

	if (len == 0) {
		pp_err(PP_EINVAL, "%s is empty", what);
		return (-1);
	}
	if (len > max) {
		pp_err(PP_EINVAL, "%s is longer than %zu bytes", what, max);
		return (-1);
	}
	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f) {
			pp_err(PP_EINVAL, "%s contains a control character",
			    what);
			return (-1);
		}
		if ((n = utf8_seq(p)) == 0) {
			pp_err(PP_EINVAL, "%s is not valid UTF-8", what);
			return (-1);
		}
		p += n;
	}
	return (0);
}

int
util_token_ok(const char *s, size_t max, const char *what)
{
	size_t len = strnlen(s, max + 1), i;

	if (len == 0 || len > max) {
		pp_err(PP_EINVAL, "%s must be 1 to %zu bytes", what, max);
		return (-1);
	}
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-')) {
			pp_err(PP_EINVAL, "%s may hold only letters, digits, "
			    "'.', '_' and '-'", what);
			return (-1);
		}
	}
	return (0);
}

int
util_fqdn_ok(const char *s)
{
	size_t len = strnlen(s, PP_FQDN_MAX + 1), lab = 0, labels = 1;
	size_t i;

	if (len == 0 || len > PP_FQDN_MAX)
		goto bad;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				goto bad;
			lab = 0;
			labels++;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			goto bad;
		if (c == '-' && lab == 0)
			goto bad;
		if (++lab > 63)
			goto bad;
	}
	if (lab == 0 || s[len - 1] == '-' || labels < 2)
		goto bad;
	return (0);

bad:
	pp_err(PP_EINVAL, "'%.64s' is not a fully qualified domain name", s);
	return (-1);
}

void
util_hex(char *out, const uint8_t *in, size_t len)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int
util_hexval(int c)
{

	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

int
util_unhex(uint8_t *out, const char *s, size_t len)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if ((hi = util_hexval(s[2 * i])) < 0 ||
		    (lo = util_hexval(s[2 * i + 1])) < 0)
			return (-1);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (s[2 * len] == '\0' ? 0 : -1);
}

int64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
util_mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
util_time_fmt(char *out, size_t outlen, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

/* The ${n}-digit decimal at ${s}, or -1 unless all ${n} are digits. */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v);
}

int
util_time_parse(const char *s, int64_t *t, const char *what)
{
	struct tm tm;
	size_t len = strnlen(s, 32);
	int y, mo, d, h, mi, sec = 0;

	/* Exactly YYYY-MM-DDTHH:MMZ or YYYY-MM-DDTHH:MM:SSZ. */
	if ((len != 17 && len != 20) || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[len - 1] != 'Z' ||
	    (len == 20 && s[16] != ':'))
		goto bad;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	if (len == 20)
		sec = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*t = (int64_t)timegm(&tm);
	/* timegm normalizes 31 February; refuse dates that moved. */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		goto bad;
	return (0);

bad:
	pp_err(PP_EINVAL, "%s '%.32s' is not a UTC time like "
	    "2026-11-23T10:00:00Z", what, s);
	return (-1);
}

int
util_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			pp_errp(PP_EIO, "write");
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* util_src's read for a descriptor: read(2), again on EINTR. */
static ssize_t
fd_read(void *arg, void *buf, size_t len)
{
	const int *fd = arg;
	ssize_t n;

	while ((n = read(*fd, buf, len)) < 0 && errno == EINTR)
		;
	if (n < 0)
		pp_errp(PP_EIO, "read");
	return (n);
}

ssize_t
util_read_full(int fd, void *buf, size_t len)
{
	struct util_src s = { .fd = fd };

	return (util_src_read_full(&s, buf, len));
}

ssize_t
util_src_read_full(const struct util_src *s, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t n;
	int fd = s->fd;

	while (got < len) {
		n = s->read != NULL ? s->read(s->arg, p + got, len - got) :
		    fd_read(&fd, p + got, len - got);
		if (n < 0)
			return (-1);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return ((ssize_t)got);
}

int
util_sink_write(const struct util_sink *s, const void *buf, size_t len)
{

	if (s->write == NULL)
		return (util_write_all(s->fd, buf, len));
	return (s->write(s->arg, buf, len));
}

int
util_read_fd(int fd, size_t max, uint8_t **buf, size_t *len, const char *what)
{
	uint8_t *b;
	ssize_t n;

	/* Read one byte past the bound to tell "exactly max" from "more". */
	if ((b = malloc(max + 1)) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	if ((n = util_read_full(fd, b, max + 1)) < 0) {
		pp_errp(PP_EIO, "cannot read %s", what);
		goto err0;
	}
	if ((size_t)n > max) {
		pp_err(PP_ELIMIT, "%s is larger than %zu bytes", what, max);
		goto err0;
	}
	*buf = b;
	*len = (size_t)n;
	return (0);

err0:
	free(b);
	return (-1);
}

const char *
util_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return (s != NULL ? s + 1 : path);
}
