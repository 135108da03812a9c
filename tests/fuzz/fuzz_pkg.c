/*
 * fuzz_pkg.c: libFuzzer harness for the package reader.  The input is a
 * whole package file: pkg_header_read, then pkg_reader_new with the fixed
 * keys of fuzz_keys.h, then pkg_reader_next to the end, each data record
 * through bk_rec_decode.  Random bytes rarely get past AES-GCM: this
 * covers the header, the frame words and the failure paths, and (from the
 * seed corpus) the valid packages; fuzz_records covers what is inside.
 * With FUZZ_VERBOSE set in the environment it prints how each input ended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "err.h"
#include "fuzz_keys.h"
#include "pkg.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_keys keys;
static int fd = -1;
static int verbose;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{

	(void)argc;
	(void)argv;
	if (fuzz_keys_load(&keys) != 0 || (fd = fuzz_memfd()) == -1)
		fuzz_fail("set-up (keys, memfd)");
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkg_hdr h, h2;
	struct pkg_reader *r;
	struct pkg_rec rec;
	struct store_rec sr;
	size_t n = 0, bad = 0;
	int rc;

	if (fuzz_memfd_load(fd, data, size) != 0)
		fuzz_fail("memfd");
	rc = pkg_header_read(fd, &h);
	/* The parser of a header in memory must agree with the reader. */
	if ((pkg_header_parse(data, size, &h2) == 0) != (rc == 0) ||
	    (rc == 0 && (h2.rawlen != h.rawlen ||
	    memcmp(h2.raw, h.raw, h.rawlen) != 0)))
		fuzz_fail("pkg_header_parse and pkg_header_read disagree");
	if (rc != 0 || (r = pkg_reader_new(fd, &h, keys.seal_priv,
	    keys.verify)) == NULL) {
		if (verbose)
			fprintf(stderr, "  refused: %s\n", pp_errmsg());
		return (0);
	}
	while ((rc = pkg_reader_next(r, &rec)) == 1) {
		n++;
		if (rec.type != PKG_R_CHUNK && bk_rec_decode(&rec, &sr) != 0)
			bad++;
	}
	if (verbose)
		fprintf(stderr, "  %s after %zu records (%zu not decoded)%s%s\n",
		    rc == 0 ? "verified" : "refused", n, bad,
		    rc == 0 ? "" : ": ", rc == 0 ? "" : pp_errmsg());
	if (rc != 0 && rc != -1)
		fuzz_fail("pkg_reader_next returned neither 1, 0 nor -1");
	/* After its end the reader refuses to go on. */
	if (pkg_reader_next(r, &rec) != -1)
		fuzz_fail("pkg_reader_next went on after its end");
	pkg_reader_free(r);
	return (0);
}
