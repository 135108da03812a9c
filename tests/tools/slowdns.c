/*
 * slowdns.c: an LD_PRELOAD shim for tests/scenario/25-slow-dns.sh.  A
 * lookup (getaddrinfo) of a name under ".slow.test" waits SLOWDNS_MS
 * milliseconds (default 3000), as a resolver whose servers cannot be
 * reached does, then answers 127.0.0.1, or fails (EAI_AGAIN) for names
 * that start with "fail.".  With SLOWDNS_LOG set, each such lookup appends
 * a line with the name to that file.  Every other lookup, and any asking
 * for an address literal only (AI_NUMERICHOST), goes to the C library.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUFFIX	".slow.test"

typedef int gai_fn(const char *, const char *, const struct addrinfo *,
    struct addrinfo **);

static gai_fn *real_gai;

__attribute__((constructor)) static void
slowdns_init(void)
{

	real_gai = (gai_fn *)dlsym(RTLD_NEXT, "getaddrinfo");
}

int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	const char *v, *log;
	struct timespec ts;
	size_t n, s = sizeof(SUFFIX) - 1;
	long ms;
	FILE *f;

	if (node == NULL || (n = strlen(node)) <= s ||
	    strcmp(node + n - s, SUFFIX) != 0 ||
	    (hints != NULL && (hints->ai_flags & AI_NUMERICHOST)))
		return (real_gai(node, service, hints, res));
	if ((log = getenv("SLOWDNS_LOG")) != NULL &&
	    (f = fopen(log, "a")) != NULL) {
		fprintf(f, "%s\n", node);
		fclose(f);
	}
	v = getenv("SLOWDNS_MS");
	ms = v != NULL ? atol(v) : 3000;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
	if (strncmp(node, "fail.", 5) == 0)
		return (EAI_AGAIN);
	return (real_gai("127.0.0.1", service, hints, res));
}
