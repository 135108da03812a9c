/*
 * err.c: the per-thread last-error record (see err.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static _Thread_local char errbuf[512];
static _Thread_local enum pp_err errcode;

static void verr(enum pp_err, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
verr(enum pp_err code, int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	size_t len;

	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	if (with_errno) {
		len = strlen(errbuf);
		snprintf(errbuf + len, sizeof(errbuf) - len, ": %s",
		    strerror(saved));
	}
	errcode = code;
	errno = saved;
}

void
pp_err(enum pp_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(code, 0, fmt, ap);
	va_end(ap);
}

void
pp_errp(enum pp_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(code, 1, fmt, ap);
	va_end(ap);
}

const char *
pp_errmsg(void)
{

	return (errbuf);
}

enum pp_err
pp_errcode(void)
{

	return (errcode);
}

void
pp_err_reclass(enum pp_err code)
{

	errcode = code;
}

void
pp_err_clear(void)
{

	errbuf[0] = '\0';
	errcode = PP_OK;
}
