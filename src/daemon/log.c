/*
 * log.c: the daemon's log lines: stderr with a timestamp in the
 * foreground, syslog (facility daemon) with --syslog.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "daemon.h"
#include "util.h"

static int use_syslog;

void
dlog_open(int sys)
{

	use_syslog = sys;
	if (sys)
		openlog("poolpaird", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
dlog(int prio, const char *fmt, ...)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error",
		"warning", "notice", "info", "debug" };
	char ts[32];
	va_list ap;

	va_start(ap, fmt);
	if (use_syslog)
		vsyslog(prio, fmt, ap);
	else {
		util_time_fmt(ts, sizeof(ts), util_now_ms() / 1000);
		fprintf(stderr, "%s poolpaird %s: ", ts,
		    prio >= 0 && prio <= 7 ? names[prio] : "?");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

int64_t
d_now_ms(void)
{

	return (util_now_ms());
}
