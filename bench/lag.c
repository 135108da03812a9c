/*
 * lag.c: bench/lag, the change-to-replica lag under a steady write rate.
 * One thread writes settings of pool A's users through the store API at
 * --rate changes a second (batches committed every 2 ms, as a busy front
 * end would), noting the LSN and time of each commit; another polls pool
 * B's replica of A every millisecond and, as its LSN passes each commit,
 * records how long that commit took to arrive.  Both stores are opened
 * directly: the two poolpaird replicate between them meanwhile.  Prints
 * p50, p99 and max per change, and with --csv the series (time, lag).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "store.h"

#define TICK_US		2000	/* a batch every 2 ms */
#define MAXB		(1 << 20)	/* batches recorded at most */

struct batch {
	int64_t lsn;		/* the journal head after its commit */
	int64_t t_us;		/* when it committed */
	int n;			/* changes in it */
	int64_t lag_us;		/* -1 until seen at B */
};

static struct batch *b;
static volatile size_t nb;	/* written by the writer */
static volatile int done;
static const char *dir_a, *dir_b, *pool_a;
static int rate = 1000, seconds = 10, users = 1000;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static void *
writer(void *arg)
{
	struct store *st = store_open(dir_a);
	int64_t start = now_us(), next = start, epoch, head;
	double owed = 0;
	char uri[64], val[32];
	long k = 0;
	int i, n;

	(void)arg;
	if (st == NULL) {
		fprintf(stderr, "bench/lag: %s\n", pp_errmsg());
		exit(3);
	}
	while (now_us() - start < (int64_t)seconds * 1000000 && nb < MAXB) {
		owed += (double)rate * TICK_US / 1e6;
		n = (int)owed;
		owed -= n;
		if (n > 0) {
			if (store_begin(st) != 0)
				goto fail;
			for (i = 0; i < n; i++, k++) {
				snprintf(uri, sizeof(uri),
				    "sip:user%06ld@contoso.test", k % users);
				snprintf(val, sizeof(val), "%ld", k);
				if (store_setting_set(st, uri, "lag", val) != 0)
					goto fail;
			}
			if (store_commit(st) != 0 ||
			    store_journal_head(st, STORE_MOD_USERDATA, &epoch,
			    &head) != 0)
				goto fail;
			b[nb].lsn = head;
			b[nb].t_us = now_us();
			b[nb].n = n;
			b[nb].lag_us = -1;
			__sync_synchronize();
			nb++;
		}
		next += TICK_US;
		if (next > now_us())
			usleep((useconds_t)(next - now_us()));
	}
	store_close(st);
	done = 1;
	return (NULL);
fail:
	fprintf(stderr, "bench/lag: writer: %s\n", pp_errmsg());
	exit(3);
}

static int
cmp64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, c = *(const int64_t *)y;

	return (a < c ? -1 : a > c);
}

int
main(int argc, char **argv)
{
	struct store_replica r;
	struct store *st;
	pthread_t t;
	int64_t *lags, deadline, now;
	size_t seen = 0, i, nl = 0, total = 0;
	FILE *csv = NULL;
	int c, j;

	while ((c = getopt(argc, argv, "a:b:p:r:s:u:o:")) != -1) {
		switch (c) {
		case 'a': dir_a = optarg; break;
		case 'b': dir_b = optarg; break;
		case 'p': pool_a = optarg; break;
		case 'r': rate = atoi(optarg); break;
		case 's': seconds = atoi(optarg); break;
		case 'u': users = atoi(optarg); break;
		case 'o':
			if ((csv = fopen(optarg, "w")) == NULL) {
				perror(optarg);
				return (2);
			}
			break;
		default:
			goto usage;
		}
	}
	if (dir_a == NULL || dir_b == NULL || pool_a == NULL || rate < 1 ||
	    rate > 100000 || seconds < 1 || seconds > 3600 || users < 1)
		goto usage;
	if ((b = calloc(MAXB, sizeof(*b))) == NULL ||
	    (st = store_open(dir_b)) == NULL) {
		fprintf(stderr, "bench/lag: %s\n", pp_errmsg());
		return (3);
	}
	pthread_create(&t, NULL, writer, NULL);
	deadline = 0;
	for (;;) {
		usleep(1000);
		now = now_us();
		if (store_replica_get(st, pool_a, STORE_MOD_USERDATA, &r) != 0)
			continue;
		for (; seen < nb && b[seen].lsn <= r.lsn; seen++)
			b[seen].lag_us = now - b[seen].t_us;
		if (done && deadline == 0)
			deadline = now + 10000000;	/* 10 s to catch up */
		if (done && (seen == nb || now > deadline))
			break;
	}
	pthread_join(t, NULL);
	for (i = 0; i < nb; i++)
		total += (size_t)b[i].n;
	if ((lags = calloc(total, sizeof(*lags))) == NULL)
		return (3);
	for (i = 0; i < nb; i++) {
		if (csv != NULL)
			fprintf(csv, "%.3f,%.1f\n", (double)(b[i].t_us -
			    b[0].t_us) / 1e6, b[i].lag_us < 0 ? -1.0 :
			    (double)b[i].lag_us / 1000.0);
		for (j = 0; j < b[i].n; j++)
			lags[nl++] = b[i].lag_us < 0 ? INT64_MAX :
			    b[i].lag_us;
	}
	qsort(lags, nl, sizeof(*lags), cmp64);
	printf("rate %d/s for %d s: %zu changes in %zu commits; lag p50 %.1f ms, "
	    "p99 %.1f ms, max %.1f ms%s\n", rate, seconds, nl, (size_t)nb,
	    (double)lags[nl / 2] / 1000.0, (double)lags[nl * 99 / 100] / 1000.0,
	    lags[nl - 1] == INT64_MAX ? -1.0 : (double)lags[nl - 1] / 1000.0,
	    lags[nl - 1] == INT64_MAX ? " (some never arrived)" : "");
	if (csv != NULL)
		fclose(csv);
	store_close(st);
	return (lags[nl - 1] == INT64_MAX ? 1 : 0);
usage:
	fprintf(stderr, "usage: bench/lag -a DIR_A -b DIR_B -p POOL_A [-r RATE] "
	    "[-s SECONDS] [-u USERS] [-o CSV]\n");
	return (2);
}
