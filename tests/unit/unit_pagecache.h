/*
 * unit_pagecache.h: what of a file is in the page cache (mincore), for the
 * tests of the page-cache hints.  Include after <cmocka.h> and "unit.h".
 */
#ifndef PP_UNIT_PAGECACHE_H
#define PP_UNIT_PAGECACHE_H

#include <sys/mman.h>
#include <sys/vfs.h>

#define UNIT_TMPFS_MAGIC	0x01021994

/* How many of the pages of [${off}, ${off} + ${len}) are in memory. */
static inline size_t
unit_resident(int fd, off_t off, off_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n, i, r;
	unsigned char *vec;
	void *m;

	n = ((size_t)len + pg - 1) / pg;
	assert_non_null(vec = malloc(n));
	m = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, off);
	assert_true(m != MAP_FAILED);
	assert_int_equal(mincore(m, (size_t)len, vec), 0);
	for (i = r = 0; i < n; i++)
		r += vec[i] & 1;
	munmap(m, (size_t)len);
	free(vec);
	return (r);
}

/* Can this file system drop clean pages on request?  (tmpfs cannot.) */
static inline int
unit_drops_pages(int fd)
{
	struct statfs sf;

	assert_int_equal(fstatfs(fd, &sf), 0);
	return (sf.f_type != UNIT_TMPFS_MAGIC);
}

#endif
