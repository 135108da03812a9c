/*
 * replay_main.c: a main() for a libFuzzer harness without libFuzzer, so
 * that `make check` replays the committed corpus and crashers under the
 * ASan+UBSan build.  replay_NAME DIR|FILE...: calls LLVMFuzzerInitialize,
 * then LLVMFuzzerTestOneInput once on each file given and on each regular
 * file of each directory given (in name order).  A broken property or a
 * sanitizer report aborts; otherwise it prints the count and exits 0.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX	(4 << 20)	/* largest input replayed */

/* Run the harness on file ${path}.  Returns 0, or -1 if unreadable. */
static int
replay_file(const char *path)
{
	struct stat sb;
	uint8_t *buf;
	size_t len;
	FILE *f;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL)
		goto err0;
	if (fstat(fileno(f), &sb) != 0 || sb.st_size > REPLAY_MAX)
		goto err1;
	/* One byte more, so that an empty file is not a NULL buffer. */
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		goto err1;
	len = fread(buf, 1, (size_t)sb.st_size, f);
	if (ferror(f) || len != (size_t)sb.st_size)
		goto err2;
	fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
	(void)LLVMFuzzerTestOneInput(buf, len);
	rc = 0;
err2:
	free(buf);
err1:
	fclose(f);
err0:
	if (rc != 0)
		fprintf(stderr, "replay: cannot read %s\n", path);
	return (rc);
}

static int
byname(const struct dirent **a, const struct dirent **b)
{

	return (strcmp((*a)->d_name, (*b)->d_name));
}

/* Run the harness on each regular file of ${dir}; count them in ${n}. */
static int
replay_dir(const char *dir, size_t *n)
{
	struct dirent **ents;
	struct stat sb;
	char path[4096];
	int i, count, rc = 0;

	if ((count = scandir(dir, &ents, NULL, byname)) < 0) {
		fprintf(stderr, "replay: cannot list %s\n", dir);
		return (-1);
	}
	for (i = 0; i < count; i++) {
		if (rc == 0 && ents[i]->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    ents[i]->d_name) < sizeof(path) &&
		    stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			if (replay_file(path) != 0)
				rc = -1;
			else
				(*n)++;
		}
		free(ents[i]);
	}
	free(ents);
	return (rc);
}

int
main(int argc, char *argv[])
{
	struct stat sb;
	size_t n = 0;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return (2);
	}
	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) != 0) {
			fprintf(stderr, "replay: no %s\n", argv[i]);
			return (1);
		}
		if (S_ISDIR(sb.st_mode) ? replay_dir(argv[i], &n) != 0 :
		    replay_file(argv[i]) != 0)
			return (1);
		if (!S_ISDIR(sb.st_mode))
			n++;
	}
	printf("replayed %zu inputs\n", n);
	return (0);
}
