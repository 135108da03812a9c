/*
 * store_prestage.c: sealing and staging the new chunks of a content package
 * before its import, on a store handle of its own and without the store's
 * write lock, while the importer is still busy with the package before it
 * (a first sync: the userdata snapshot, then the content).  The import then
 * finds its chunks staged already (store_import_chunk) and only writes the
 * metadata; what was staged and is not used stays dead bytes of the pack,
 * as with any stage.  Like an upload's stage (store_upload.c), the file is
 * locked while in use and is never plaintext.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store_int.h"

/* At most this many chunks are prestaged; the import stages the rest. */
#define PRESTAGE_MAX	(1 << 20)

struct pre_ent {
	uint8_t id[CRYPTO_HASH_LEN];
	int64_t off;
	int64_t len;
};

struct store_prestage {
	struct store *st;	/* reads, and whose key seals */
	struct stage *sg;
	struct pre_ent *ent;
	size_t n, cap;
};

struct store_prestage *
store_prestage_new(struct store *st)
{
	struct store_prestage *ps;

	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (NULL);
	}
	ps->st = st;
	return (ps);
}

int
store_prestage_chunk(struct store_prestage *ps,
    const uint8_t id[static CRYPTO_HASH_LEN], const uint8_t *data, size_t len)
{
	struct pre_ent *e;
	uint8_t *sealed;
	size_t cap;
	int held;

	if (len == 0 || len > 64 * 1024) {
		pp_err(PP_EINVAL, "chunk of %zu bytes out of place", len);
		return (-1);
	}
	if (ps->n >= PRESTAGE_MAX)
		return (0);
	if ((held = store_chunk_has(ps->st, id)) != 0)
		return (held < 0 ? -1 : 0);
	if (ps->n == ps->cap) {
		cap = ps->cap == 0 ? 1024 : ps->cap * 2;
		if ((e = realloc(ps->ent, cap * sizeof(*e))) == NULL) {
			pp_err(PP_EINTERNAL, "out of memory");
			return (-1);
		}
		ps->ent = e;
		ps->cap = cap;
	}
	if (ps->sg == NULL && (ps->sg = stage_open(ps->st)) == NULL)
		return (-1);
	e = &ps->ent[ps->n];
	if ((sealed = stage_reserve(ps->sg, len + CRYPTO_SEAL_OVERHEAD,
	    &e->off)) == NULL ||
	    crypto_aead_seal(ps->st->aead, id, CRYPTO_HASH_LEN, data, len,
	    sealed) != 0)
		return (-1);
	memcpy(e->id, id, CRYPTO_HASH_LEN);
	e->len = (int64_t)(len + CRYPTO_SEAL_OVERHEAD);
	ps->n++;
	return (0);
}

int
store_prestage_sync(struct store_prestage *ps)
{

	return (ps->sg != NULL ? stage_sync(ps->sg) : 0);
}

static int
ent_cmp(const void *a, const void *b)
{

	return (memcmp(a, b, CRYPTO_HASH_LEN));
}

int
store_import_prestaged(struct store *st, struct store_prestage *ps)
{

	if (!st->importing || st->import_module != STORE_MOD_CONFCONTENT ||
	    st->import_sg != NULL || st->import_pre != NULL) {
		store_prestage_free(ps);
		pp_err(PP_EINTERNAL, "store_import_prestaged: no content import "
		    "is open, or it staged already");
		return (-1);
	}
	if (ps->sg == NULL) {
		store_prestage_free(ps);
		return (0);
	}
	qsort(ps->ent, ps->n, sizeof(*ps->ent), ent_cmp);
	/* The stage is the import's now, every byte of it. */
	stage_rehome(ps->sg, st);
	st->import_sg = ps->sg;
	st->import_staged = stage_size(ps->sg);
	ps->sg = NULL;
	ps->st = st;
	st->import_pre = ps;
	return (0);
}

int
prestage_find(const struct store_prestage *ps,
    const uint8_t id[static CRYPTO_HASH_LEN], int64_t *off, int64_t *len)
{
	const struct pre_ent *e;

	if (ps == NULL || (e = bsearch(id, ps->ent, ps->n, sizeof(*ps->ent),
	    ent_cmp)) == NULL)
		return (0);
	*off = e->off;
	*len = e->len;
	return (1);
}

void
store_prestage_free(struct store_prestage *ps)
{

	if (ps == NULL)
		return;
	stage_free(ps->sg);
	free(ps->ent);
	free(ps);
}
