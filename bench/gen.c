/*
 * gen.c: bench/gen, the generator of a realistic pool population, and the
 * store benchmark: it writes users, settings, contact groups, contacts,
 * conferences and content through the store API (store.h) and reports how
 * fast each went and how big the store became.
 *
 * Content is mostly incompressible (random bytes, like the zipped XML and
 * media inside a .pptx) with a compressible share (repetitive XML text).
 * Everything is derived from --seed, so two runs generate the same data.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "store.h"

static const char *const first[] = { "Alice", "Bob", "Carol", "Dave", "Erin",
	"Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Niaj", "Olivia",
	"Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Zoe" };
static const char *const last[] = { "Smith", "Jones", "Garcia", "Martin",
	"Kowalski", "Nguyen", "Okafor", "Tanaka", "Rossi", "Dubois", "Silva",
	"Novak", "Larsen", "Haddad", "Meyer", "Ivanova" };
static const char *const groups[] = { "Team", "Friends", "Family",
	"Project Falcon", "Other Contacts" };

struct opts {
	const char *data, *pool, *csv;
	long users, contacts, settings, confs, content_mb, batch, cbatch;
	long item_mb;		/* 0: items of 1 to 8 MiB */
	long threads;		/* content put by this many threads */
	int noqueue;		/* one thread: store_content_put, no queue */
	int compressible_pct;
	unsigned long long seed;
};

/* xorshift64*: fast, seeded, good enough for test data. */
static unsigned long long rng_state;

static unsigned long long
rnd(void)
{

	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545f4914f6cdd1dULL);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

#define PUT_THREADS_MAX	16

static void die(const char *) __attribute__((noreturn));

static void
die(const char *what)
{

	fprintf(stderr, "bench/gen: %s: %s\n", what, pp_errmsg());
	exit(1);
}

/* "sip:userNNNNNN@contoso.test" without printf: the loop measures the store. */
static void
user_uri(char *out, size_t len, long i)
{
	static const char pre[] = "sip:user", post[] = "@contoso.test";
	int k;

	if (len < sizeof(pre) + sizeof(post) + 6 || i > 999999) {
		snprintf(out, len, "sip:user%06ld@contoso.test", i);
		return;
	}
	memcpy(out, pre, sizeof(pre) - 1);
	for (k = 5; k >= 0; k--, i /= 10)
		out[sizeof(pre) - 1 + (size_t)k] = (char)('0' + i % 10);
	memcpy(out + sizeof(pre) - 1 + 6, post, sizeof(post));
}

/* Transactions of o->batch writes each. */
struct batcher {
	struct store *st;
	long pending, batch;
};

/* Called before each write: opens a transaction when none is open. */
static void
batch_open(struct batcher *b)
{

	if (b->pending == 0 && store_begin(b->st) != 0)
		die("begin");
}

/* Called after each write: commits every b->batch writes. */
static void
batch_done(struct batcher *b)
{

	if (++b->pending >= b->batch) {
		if (store_commit(b->st) != 0)
			die("commit");
		b->pending = 0;
	}
}

static void
batch_end(struct batcher *b)
{

	if (b->pending > 0 && store_commit(b->st) != 0)
		die("commit");
	b->pending = 0;
}

/* Users with their settings. */
static void
gen_users(struct store *st, const struct opts *o)
{
	struct batcher b = { st, 0, o->batch };
	char uri[64], name[64], key[64], val[64];
	long i, k;

	for (i = 0; i < o->users; i++) {
		user_uri(uri, sizeof(uri), i);
		snprintf(name, sizeof(name), "%s %s %ld",
		    first[rnd() % 20], last[rnd() % 16], i);
		batch_open(&b);
		if (store_user_add(st, uri, name) != 0)
			die("user add");
		batch_done(&b);
		for (k = 0; k < o->settings; k++) {
			snprintf(key, sizeof(key), "client.option%02ld", k);
			snprintf(val, sizeof(val), "value-%llu",
			    rnd() % 100000);
			batch_open(&b);
			if (store_setting_set(st, uri, key, val) != 0)
				die("setting set");
			batch_done(&b);
		}
	}
	batch_end(&b);
}

/* A display name from the tables, without printf. */
static void
name_pick(char *out, size_t len)
{
	const char *f = first[rnd() % 20], *l = last[rnd() % 16];
	size_t fl = strlen(f), ll = strlen(l);

	if (fl + ll + 2 > len) {
		out[0] = '\0';
		return;
	}
	memcpy(out, f, fl);
	out[fl] = ' ';
	memcpy(out + fl + 1, l, ll + 1);
}

/* Contacts: each user gets o->contacts others, in one or two groups. */
static long
gen_contacts(struct store *st, const struct opts *o)
{
	struct batcher b = { st, 0, o->batch };
	char owner[64], uri[64], name[64];
	const char *g[2];
	long i, k, rows = 0;

	for (i = 0; i < o->users; i++) {
		user_uri(owner, sizeof(owner), i);
		for (k = 0; k < o->contacts; k++) {
			if (k < o->users - 1)
				user_uri(uri, sizeof(uri),
				    (i + 1 + k) % o->users);
			else
				snprintf(uri, sizeof(uri),
				    "sip:ext%ld.%ld@fabrikam.test", i, k);
			name_pick(name, sizeof(name));
			g[0] = groups[rnd() % 5];
			g[1] = groups[rnd() % 5];
			batch_open(&b);
			if (store_contact_put(st, owner, uri, name,
			    (enum store_rel)(rnd() % 5), g,
			    g[0] == g[1] ? 1 : 2, 0) != 0)
				die("contact add");
			batch_done(&b);
			rows++;
		}
	}
	batch_end(&b);
	return (rows);
}

/* Conferences organized by random users; their ids into ${ids}. */
static void
gen_confs(struct store *st, const struct opts *o, char (*ids)[PP_CONF_ID_LEN + 1])
{
	struct batcher b = { st, 0, o->batch };
	struct store_conf c;
	long i;

	for (i = 0; i < o->confs; i++) {
		memset(&c, 0, sizeof(c));
		user_uri(c.organizer, sizeof(c.organizer),
		    (long)(rnd() % (unsigned long long)o->users));
		snprintf(c.subject, sizeof(c.subject), "Review %ld", i);
		c.start = 1795000000 + (int64_t)(rnd() % 8640000);
		c.end = c.start + 3600;
		c.access = (enum store_access)(rnd() % 3);
		batch_open(&b);
		if (store_conf_create(st, &c) != 0)
			die("conf create");
		batch_done(&b);
		memcpy(ids[i], c.id, sizeof(c.id));
	}
	batch_end(&b);
}

/* Fill ${buf} with ${len} bytes: random, or repetitive XML text. */
static void
fill(unsigned char *buf, size_t len, int compressible)
{
	static const char xml[] = "<p:sp><p:txBody><a:p><a:r><a:t>Quarterly "
	    "figures, slide %zu</a:t></a:r></a:p></p:txBody></p:sp>\n";
	size_t i, n;
	unsigned long long r;

	if (!compressible) {
		for (i = 0; i + 8 <= len; i += 8) {
			r = rnd();
			memcpy(buf + i, &r, 8);
		}
		for (; i < len; i++)
			buf[i] = (unsigned char)rnd();
		return;
	}
	for (i = 0; i < len; i += n) {
		n = (size_t)snprintf((char *)buf + i, len - i, xml, i / 97);
		if (n >= len - i)
			break;
	}
}

/* One content item, generated before the timed puts. */
struct item {
	int fd;
	size_t len;
	const char *conf;
	char name[64];
};

/* The puts, shared by the putting threads. */
struct puts {
	const struct opts *o;
	struct item *it;
	long n;
	long next;		/* the next item to put, under mtx */
	pthread_mutex_t mtx;
};

#define PPTX_MIME "application/vnd.openxmlformats-officedocument." \
	"presentationml.presentation"

static void
put_one(struct store *st, const struct item *it)
{

	if (lseek(it->fd, 0, SEEK_SET) != 0 ||
	    store_content_put(st, it->conf, it->name, STORE_KIND_PRESENTATION,
	    PPTX_MIME, it->fd, NULL) != 0)
		die("content put");
}

/* A put queue's report: a refusal ends the run. */
static void
put_done(void *user, int rc, const struct store_content *c)
{

	(void)user;
	(void)c;
	if (rc != 0)
		die("content put");
}

/* A putting thread: its own store handle, items in turn. */
static void *
putter(void *arg)
{
	struct puts *ps = arg;
	struct store *st;
	long i;

	if ((st = store_open(ps->o->data)) == NULL)
		die("store");
	for (;;) {
		pthread_mutex_lock(&ps->mtx);
		i = ps->next++;
		pthread_mutex_unlock(&ps->mtx);
		if (i >= ps->n)
			break;
		put_one(st, &ps->it[i]);
	}
	store_close(st);
	return (NULL);
}

/*
 * Content: items of 1 to 8 MiB spread over the conferences until
 * o->content_mb MiB are stored.  Every item is written to a memory file of
 * its own first, so the uploads do not compete with the generator or for
 * the disk; only the puts are timed.  One thread puts through a put queue
 * (store_putq: one item commits while the next is read), unless
 * --no-queue or --content-batch asks for store_content_put itself.  With
 * o->threads > 1, that many threads put at once, each with its own store
 * handle, like concurrent uploads.  Returns the seconds spent in puts.
 */
static double
gen_content(struct store *st, const struct opts *o,
    char (*ids)[PP_CONF_ID_LEN + 1], long long *bytes, long *items)
{
	struct puts ps = { o, NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER };
	struct store_putq *q;
	pthread_t th[PUT_THREADS_MAX];
	unsigned char *buf;
	size_t bufsize, cap = 0;
	long long left = (long long)o->content_mb << 20;
	size_t len;
	double t;
	long i, k;
	int comp;

	*bytes = 0;
	bufsize = o->item_mb > 0 ? (size_t)o->item_mb << 20 : 8 << 20;
	if ((buf = malloc(bufsize)) == NULL)
		die("memory");
	while (left > 0 && o->confs > 0) {
		len = o->item_mb > 0 ? bufsize :
		    (1 << 20) + (size_t)(rnd() % (7 << 20));
		if ((long long)len > left)
			len = (size_t)left;
		comp = (int)(rnd() % 100) < o->compressible_pct;
		fill(buf, len, comp);
		if (ps.n == (long)cap) {
			cap = cap ? cap * 2 : 64;
			if ((ps.it = realloc(ps.it, cap * sizeof(*ps.it))) == NULL)
				die("memory");
		}
		ps.it[ps.n].fd = memfd_create("pp-gen", 0);
		if (ps.it[ps.n].fd < 0 || pwrite(ps.it[ps.n].fd, buf, len, 0) !=
		    (ssize_t)len) {
			fprintf(stderr, "bench/gen: memory file: %s\n",
			    strerror(errno));
			exit(1);
		}
		ps.it[ps.n].len = len;
		ps.it[ps.n].conf = ids[ps.n % o->confs];
		snprintf(ps.it[ps.n].name, sizeof(ps.it[ps.n].name),
		    "deck%ld.pptx", ps.n);
		*bytes += (long long)len;
		left -= (long long)len;
		ps.n++;
	}
	free(buf);
	*items = ps.n;
	t = now_s();
	if (o->threads <= 1 && o->cbatch <= 1 && !o->noqueue) {
		/* One upload at a time, through a put queue. */
		if ((q = store_putq_new(st, put_done)) == NULL)
			die("put queue");
		for (i = 0; i < ps.n; i++)
			if (lseek(ps.it[i].fd, 0, SEEK_SET) != 0 ||
			    store_putq_put(q, ps.it[i].conf, ps.it[i].name,
			    STORE_KIND_PRESENTATION, PPTX_MIME, ps.it[i].fd,
			    NULL) != 0)
				die("content put");
		if (store_putq_finish(q) != 0)
			die("content put");
		store_putq_free(q);
	} else if (o->threads <= 1) {
		for (i = 0; i < ps.n; i++) {
			if (o->cbatch > 1 && i % o->cbatch == 0 &&
			    store_begin(st) != 0)
				die("begin");
			put_one(st, &ps.it[i]);
			if (o->cbatch > 1 && ((i + 1) % o->cbatch == 0 ||
			    i + 1 == ps.n) && store_commit(st) != 0)
				die("commit");
		}
	} else {
		for (k = 0; k < o->threads; k++)
			if (pthread_create(&th[k], NULL, putter, &ps) != 0)
				die("thread");
		for (k = 0; k < o->threads; k++)
			pthread_join(th[k], NULL);
	}
	t = now_s() - t;
	for (i = 0; i < ps.n; i++)
		close(ps.it[i].fd);
	free(ps.it);
	return (t);
}

static void
usage(void)
{

	fprintf(stderr, "usage: bench/gen --data DIR [--pool FQDN] "
	    "[--users N] [--contacts-per-user M]\n"
	    "       [--settings-per-user K] [--conferences C] "
	    "[--content-mb S] [--compressible-pct P]\n"
	    "       [--batch B] [--content-batch N] [--item-mb M] [--seed X] "
	    "[--csv FILE]\n"
	    "       [--put-threads T] [--no-queue]\n");
	exit(2);
}

static long
num(const char *s)
{
	char *e;
	long v = strtol(s, &e, 10);

	if (*s == '\0' || *e != '\0' || v < 0 || v > 100000000)
		usage();
	return (v);
}

static void
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "data", 1, NULL, 'd' }, { "pool", 1, NULL, 'p' },
		{ "users", 1, NULL, 'u' }, { "contacts-per-user", 1, NULL, 'c' },
		{ "settings-per-user", 1, NULL, 's' },
		{ "conferences", 1, NULL, 'f' }, { "content-mb", 1, NULL, 'm' },
		{ "compressible-pct", 1, NULL, 'z' }, { "batch", 1, NULL, 'b' },
		{ "seed", 1, NULL, 'x' }, { "csv", 1, NULL, 'o' },
		{ "content-batch", 1, NULL, 'n' }, { "item-mb", 1, NULL, 'i' },
		{ "put-threads", 1, NULL, 't' }, { "no-queue", 0, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	*o = (struct opts){ .pool = "pool-a.example.test", .users = 1000,
	    .contacts = 100, .settings = 20, .confs = 100, .content_mb = 100,
	    .batch = 10000, .cbatch = 1, .threads = 1, .compressible_pct = 20,
	    .seed = 42 };
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': o->data = optarg; break;
		case 'p': o->pool = optarg; break;
		case 'u': o->users = num(optarg); break;
		case 'c': o->contacts = num(optarg); break;
		case 's': o->settings = num(optarg); break;
		case 'f': o->confs = num(optarg); break;
		case 'm': o->content_mb = num(optarg); break;
		case 'z': o->compressible_pct = (int)num(optarg); break;
		case 'b': o->batch = num(optarg); break;
		case 'x': o->seed = (unsigned long long)num(optarg); break;
		case 'o': o->csv = optarg; break;
		case 'n': o->cbatch = num(optarg); break;
		case 'i': o->item_mb = num(optarg); break;
		case 't': o->threads = num(optarg); break;
		case 'q': o->noqueue = 1; break;
		default: usage();
		}
	}
	if (o->data == NULL || optind != argc || o->users < 1 ||
	    o->batch < 1 || o->cbatch < 1 || o->threads < 1 ||
	    o->threads > PUT_THREADS_MAX || (o->threads > 1 && o->cbatch > 1) || o->item_mb > 2047 ||
	    o->contacts > PP_CONTACTS_PER_USER ||
	    o->settings > PP_SETTINGS_PER_USER || o->compressible_pct > 100)
		usage();
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct store *st;
	struct store_stats ss;
	struct rusage ru;
	char (*ids)[PP_CONF_ID_LEN + 1];
	long long cbytes;
	long rows, items;
	double t0, tu, tc, tf, tput, tsync;
	FILE *f;

	parse(argc, argv, &o);
	rng_state = o.seed * 2654435761ULL + 1;
	if (store_create(o.data, o.pool, NULL) != 0 ||
	    (st = store_open(o.data)) == NULL)
		die("store");
	if ((ids = calloc((size_t)o.confs + 1, sizeof(*ids))) == NULL)
		die("memory");
	t0 = now_s();
	gen_users(st, &o);
	tu = now_s() - t0;
	t0 = now_s();
	rows = gen_contacts(st, &o);
	tc = now_s() - t0;
	t0 = now_s();
	gen_confs(st, &o, ids);
	tf = now_s() - t0;
	/* Flush what the earlier phases left in the page cache first. */
	t0 = now_s();
	sync();
	tsync = now_s() - t0;
	tput = gen_content(st, &o, ids, &cbytes, &items);
	if (store_stats(st, &ss) != 0)
		die("stats");
	printf("users              %ld (+%ld settings each) in %.2f s\n",
	    o.users, o.settings, tu);
	printf("contact rows       %ld in %.2f s: %.0f rows/s (batches of "
	    "%ld)\n", rows, tc, rows / tc, o.batch);
	printf("conferences        %ld in %.2f s\n", o.confs, tf);
	printf("sync before content %.2f s\n", tsync);
	printf("content            %ld items, %.1f MiB in %.2f s: %.0f MB/s\n",
	    items, cbytes / 1048576.0, tput,
	    tput > 0 ? cbytes / 1e6 / tput : 0.0);
	getrusage(RUSAGE_SELF, &ru);
	printf("store size         %.1f MiB database + %.1f MiB packs (%lld "
	    "chunks, %.1f MiB of content held once)\n",
	    ss.db_bytes / 1048576.0, ss.pack_bytes / 1048576.0,
	    (long long)ss.chunks, ss.chunk_bytes / 1048576.0);
	printf("peak RSS           %.1f MiB\n", ru.ru_maxrss / 1024.0);
	if (o.csv != NULL && (f = fopen(o.csv, "a")) != NULL) {
		fprintf(f, "%ld,%ld,%ld,%ld,%.3f,%.0f,%.1f,%.3f,%.1f,%lld,"
		    "%lld,%ld\n", o.users, o.contacts, o.settings, rows, tc,
		    rows / tc, cbytes / 1e6, tput,
		    tput > 0 ? cbytes / 1e6 / tput : 0.0,
		    (long long)ss.db_bytes, (long long)ss.pack_bytes,
		    ru.ru_maxrss);
		fclose(f);
	}
	free(ids);
	store_close(st);
	return (0);
}
