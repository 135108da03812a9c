/*
 * unit.h: helpers the cmocka unit tests share: a private temp directory per
 * test, a fixed-seed PRNG, and whole-file reads and writes.  Include after
 * <cmocka.h>; everything here is static inline so each test binary takes only
 * what it uses.
 */
#ifndef PP_UNIT_H
#define PP_UNIT_H

#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* splitmix64: a fixed-seed generator, so every run sees the same bytes. */
static inline uint64_t
unit_rand64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* Fill ${len} bytes of ${buf} from the generator seeded with ${seed}. */
static inline void
unit_fill(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t s = seed, v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			v = unit_rand64(&s);
		buf[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
}

/* A new private directory /tmp/pp-unit.XXXXXX; the caller frees it. */
static inline char *
unit_mkdtemp(void)
{
	char *d = strdup("/tmp/pp-unit.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return (d);
}

static inline int
unit_rm_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{

	(void)sb;
	(void)flag;
	(void)ftw;
	return (remove(path));
}

/* Remove ${dir} and everything under it, then free ${dir}. */
static inline void
unit_rmtree(char *dir)
{

	if (dir == NULL)
		return;
	(void)nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* "${dir}/${name}" in a new buffer; the caller frees it. */
static inline char *
unit_path(const char *dir, const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return (p);
}

/* Write ${len} bytes of ${buf} to a new file ${path} (mode 0600). */
static inline void
unit_write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/*
 * Read all of ${path} into a new buffer (caller frees), setting ${len}.
 * Returns NULL (and ${len} 0) if the file does not exist.
 */
static inline uint8_t *
unit_read_file(const char *path, size_t *len)
{
	struct stat sb;
	uint8_t *buf;
	ssize_t n;
	size_t got = 0;
	int fd;

	*len = 0;
	if ((fd = open(path, O_RDONLY)) < 0)
		return (NULL);
	assert_int_equal(fstat(fd, &sb), 0);
	buf = malloc((size_t)sb.st_size + 1);
	assert_non_null(buf);
	while (got < (size_t)sb.st_size &&
	    (n = read(fd, buf + got, (size_t)sb.st_size - got)) > 0)
		got += (size_t)n;
	assert_int_equal(got, (size_t)sb.st_size);
	close(fd);
	*len = got;
	return (buf);
}

#endif
