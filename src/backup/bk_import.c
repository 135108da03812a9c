/*
 * bk_import.c: the importer.  The header must fit this pool and what it
 * imported before; then every record goes into one write transaction of
 * the replica, which commits only after the reader has verified the final
 * frame and the signature.  Anything else rolls it all back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "backup.h"
#include "err.h"
#include "util.h"

/* Refuse header ${h} unless it is addressed to us by our partner. */
static int
hdr_check(const struct pkg_hdr *h, const struct bk_keys *k)
{

	if (strcmp(h->pair, k->pair) != 0) {
		pp_err(PP_EINVAL, "package refused: it belongs to pair '%s'; "
		    "this pool is in pair '%s'", h->pair, k->pair);
		return (-1);
	}
	if (strcmp(h->target, k->pool) != 0) {
		pp_err(PP_EINVAL, "package refused: it is addressed to %s, "
		    "not to this pool (%s)", h->target, k->pool);
		return (-1);
	}
	if (strcmp(h->source, k->partner) != 0) {
		pp_err(PP_EINVAL, "package refused: it comes from %s, which "
		    "is not this pool's partner (%s)", h->source, k->partner);
		return (-1);
	}
	if (!crypto_eq(h->signer, k->partner_fp, CRYPTO_HASH_LEN)) {
		pp_err(PP_EINVAL, "package refused: it names a signer other "
		    "than the partner's certificate");
		return (-1);
	}
	return (0);
}

/*
 * Check that ${h} continues replica state ${rep} (${have}: there is one).
 * Returns 0 to import, 1 for a no-op (reason in ${res}), -1 to refuse.
 */
static int
seq_check(const struct pkg_hdr *h, const struct store_replica *rep,
    int have, struct bk_import_result *res)
{
	const char *mod = store_module_name((enum store_module)h->module);

	if (!have) {
		if (h->kind == PKG_CHANGES && h->since > 0) {
			pp_err(PP_EINVAL, "package refused: it continues %s "
			    "from LSN %lld, but nothing of it was imported "
			    "here yet (export a snapshot: --full)", mod,
			    (long long)h->since);
			return (-1);
		}
		return (0);
	}
	/*
	 * A snapshot at the replica's own LSN is applied all the same: it
	 * repairs a replica that diverged (poolpair verify --repair).
	 */
	if (memcmp(h->id, rep->pkg, sizeof(rep->pkg)) == 0 ||
	    (h->kind == PKG_CHANGES && h->upto == rep->lsn &&
	    h->epoch == rep->epoch)) {
		snprintf(res->why, sizeof(res->why), "already imported: the "
		    "%s replica is at LSN %lld", mod, (long long)rep->lsn);
		return (1);
	}
	if (h->epoch < rep->epoch) {
		pp_err(PP_EINVAL, "package refused: its epoch %lld is older "
		    "than the replica's (%lld)", (long long)h->epoch,
		    (long long)rep->epoch);
		return (-1);
	}
	if (h->upto < rep->lsn) {
		pp_err(PP_EINVAL, "package refused: older than what was "
		    "imported (it ends at LSN %lld; the %s replica is at "
		    "%lld)", (long long)h->upto, mod, (long long)rep->lsn);
		return (-1);
	}
	if (h->kind == PKG_CHANGES && h->since > rep->lsn) {
		pp_err(PP_EINVAL, "package refused: it starts after LSN %lld "
		    "but the %s replica is at %lld (LSNs %lld to %lld are "
		    "missing)", (long long)h->since, mod, (long long)rep->lsn,
		    (long long)rep->lsn + 1, (long long)h->since);
		return (-1);
	}
	return (0);
}

/* Apply every record of ${r} inside the open import. */
static int
apply_all(struct store *st, struct pkg_reader *r)
{
	struct store_rec *rec;
	struct pkg_rec pr;
	int n, rc = -1;

	if ((rec = malloc(sizeof(*rec))) == NULL) {
		pp_err(PP_EINTERNAL, "out of memory");
		return (-1);
	}
	while ((n = pkg_reader_next(r, &pr)) == 1) {
		if (pr.type == PKG_R_CHUNK) {
			if (store_import_chunk(st, pr.chunk_id, pr.p, pr.len)
			    != 0)
				goto out;
			continue;
		}
		if (bk_rec_decode(&pr, rec) != 0)
			goto out;
		if (store_import_rec(st, rec) != 0) {
			/* The signature is unchecked yet: say what failed. */
			if (pp_errcode() != PP_ESTORE &&
			    pp_errcode() != PP_EIO &&
			    pp_errcode() != PP_EINTERNAL) {
				char msg[512];

				snprintf(msg, sizeof(msg), "%s", pp_errmsg());
				pp_err(PP_EINVAL, "package refused: a %s record "
				    "does not apply: %s",
				    pkg_rec_name(pr.type), msg);
			}
			goto out;
		}
	}
	rc = n == 0 ? 0 : -1;
out:
	free(rec);
	return (rc);
}

int
bk_import(struct store *st, const struct bk_keys *k, int fd,
    struct bk_import_result *res)
{

	return (bk_import_prestaged(st, k, fd, NULL, res));
}

int
bk_prestage(struct store *st, const struct bk_keys *k, int fd,
    struct store_prestage **out)
{
	struct store_prestage *ps = NULL;
	struct pkg_reader *r = NULL;
	struct pkg_hdr h;
	struct pkg_rec pr;
	int n;

	*out = NULL;
	if (pkg_header_read(fd, &h) != 0 || hdr_check(&h, k) != 0)
		return (-1);
	if (h.module != STORE_MOD_CONFCONTENT)
		return (0);
	if ((r = pkg_reader_new(fd, &h, k->seal_priv, k->partner_pub)) ==
	    NULL || (ps = store_prestage_new(st)) == NULL)
		goto fail;
	while ((n = pkg_reader_next(r, &pr)) == 1)
		if (pr.type == PKG_R_CHUNK &&
		    store_prestage_chunk(ps, pr.chunk_id, pr.p, pr.len) != 0)
			goto fail;
	if (n != 0 || store_prestage_sync(ps) != 0)
		goto fail;
	pkg_reader_free(r);
	*out = ps;
	return (0);
fail:
	pkg_reader_free(r);
	store_prestage_free(ps);
	return (-1);
}

int
bk_import_prestaged(struct store *st, const struct bk_keys *k, int fd,
    struct store_prestage *pre, struct bk_import_result *res)
{
	struct store_replica rep;
	struct pkg_hdr *h = &res->hdr;
	struct pkg_reader *r = NULL;
	int have, c, rc = -1;

	memset(res, 0, sizeof(*res));
	if (pkg_header_read(fd, h) != 0 || hdr_check(h, k) != 0)
		goto out;
	if ((have = store_replica_get(st, h->source,
	    (enum store_module)h->module, &rep) == 0) == 0 &&
	    pp_errcode() != PP_ENOENT)
		goto out;
	if ((c = seq_check(h, &rep, have, res)) != 0) {
		res->noop = c == 1;
		rc = c == 1 ? 0 : -1;
		goto out;
	}
	if ((r = pkg_reader_new(fd, h, k->seal_priv, k->partner_pub)) == NULL ||
	    store_import_begin(st, h->source, (enum store_module)h->module,
	    h->kind == PKG_SNAPSHOT) != 0)
		goto out;
	/* The import takes the prestage, whatever happens. */
	c = pre != NULL ? store_import_prestaged(st, pre) : 0;
	pre = NULL;
	if (c != 0 || apply_all(st, r) != 0) {
		store_import_rollback(st);
		goto out;
	}
	pkg_reader_stats(r, &res->stats);
	memset(&rep, 0, sizeof(rep));
	rep.epoch = h->epoch;
	rep.lsn = h->upto;
	memcpy(rep.pkg, h->id, sizeof(rep.pkg));
	rep.records = (int64_t)res->stats.records;
	rc = store_import_commit(st, &rep);
out:
	store_prestage_free(pre);
	pkg_reader_free(r);
	return (rc);
}

void
bk_refusal_record(const char *dir, const char *what, const char *from,
    const char *reason)
{
	char kind[AUDIT_KIND_MAX + 1];
	struct audit *a;

	/* The process's shared writer, so its rate limit holds across calls. */
	if ((size_t)snprintf(kind, sizeof(kind), "%s-refused", what) >=
	    sizeof(kind) || (a = audit_shared(dir)) == NULL)
		return;
	(void)audit_log(a, kind, from, "%s", reason);
}
