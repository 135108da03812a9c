/*
 * status.c: the status object the admin socket returns (its schema is in
 * docs/protocol-admin.md): the links, the certificates, and per module the
 * export and import states the replaced system's operators know.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <linux/tcp.h>	/* tcp_info with byte counts */

#include <stdio.h>
#include <string.h>

#include <event2/bufferevent.h>

#include <jansson.h>

#include "daemon.h"
#include "pki.h"
#include "util.h"

static const char *const exp_names[] = { "NotInitialized", "SteadyState",
	"NonSteadyState", "FinalState", "ErrorState" };

const char *
exp_state_name(enum exp_state s)
{

	return ((unsigned)s <= EXP_ERROR ? exp_names[s] : "?");
}

/* An ISO time for ${ms}, or JSON null for 0. */
static json_t *
iso(int64_t ms)
{
	char buf[32];

	if (ms == 0)
		return (json_null());
	util_time_fmt(buf, sizeof(buf), ms / 1000);
	return (json_string(buf));
}

static int
days(X509 *c)
{
	int n = -1;

	if (c != NULL)
		(void)pki_days_left(c, &n);
	return (n);
}

static int
crl_days(X509_CRL *crl)
{
	const ASN1_TIME *next;
	int dd = -1, ds;

	if (crl != NULL && (next = X509_CRL_get0_nextUpdate(crl)) != NULL &&
	    ASN1_TIME_diff(&dd, &ds, NULL, next) != 1)
		dd = -1;
	return (dd);
}

/* TCP payload bytes sent (acked) and received on ${l}'s socket. */
static void
link_bytes(const struct link *l, json_int_t *tx, json_int_t *rx)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int fd;

	*tx = *rx = 0;
	if (l->bev == NULL || (fd = bufferevent_getfd(l->bev)) < 0 ||
	    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return;
	*tx = (json_int_t)ti.tcpi_bytes_acked;
	*rx = (json_int_t)ti.tcpi_bytes_received;
}

static json_t *
link_json(const struct link *l)
{
	json_int_t tx, rx;
	json_t *j;
	static const char *const st[] = { "disconnected", "connecting",
		"connected" };

	if (l == NULL)
		return (json_pack("{s:s, s:s, s:o, s:s}", "state",
		    "disconnected", "peer", "", "since", json_null(),
		    "last_error", ""));
	j = json_pack("{s:s, s:s, s:o, s:s}", "state", st[l->state],
	    "peer", l->peer, "since", iso(l->authed ? l->since_ms : 0),
	    "last_error", l->last_error);
	link_bytes(l, &tx, &rx);
	json_object_set_new(j, "bytes_sent", json_integer(tx));
	json_object_set_new(j, "bytes_received", json_integer(rx));
	return (j);
}

/* One module's object (under d->mtx). */
static json_t *
mod_json(struct daemon *d, int m, int64_t now)
{
	const struct dmod *dm = &d->mod[m];
	int64_t pending = dm->known && dm->head > dm->acked ?
	    dm->head - dm->acked : 0;
	double lag = pending > 0 && dm->head_ts_ms != 0 ?
	    (double)(now - dm->head_ts_ms) / 1000.0 : 0.0;

	return (json_pack("{s:s, s:{s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:o, "
	    "s:b, s:I}, s:{s:s, s:s, s:I, s:I, s:o}}",
	    "module", store_module_name((enum store_module)m),
	    "export", "state", exp_state_name(dm->exp), "reason",
	    dm->exp == EXP_ERROR ? dm->exp_reason : "",
	    "head", (json_int_t)dm->head, "acked", (json_int_t)dm->acked,
	    "pending_records", (json_int_t)pending,
	    "pending_bytes", (json_int_t)dm->pending_bytes, "lag_s", lag,
	    "last_export", iso(dm->last_export_ms), "snapshot_needed",
	    dm->need_snapshot, "last_package_bytes", (json_int_t)dm->last_bytes,
	    "import", "state", dm->imp == IMP_ERROR ? "ErrorState" :
	    "NormalState", "reason", dm->imp_reason,
	    "epoch", (json_int_t)dm->imp_epoch, "lsn", (json_int_t)dm->imp_lsn,
	    "last_import", iso(dm->last_import_ms)));
}

json_t *
status_json(struct daemon *d)
{
	json_t *mods = json_array(), *links, *owners = json_array();
	int64_t now = d_now_ms();
	int m;

	links = json_pack("{s:o, s:o}", "out", link_json(&d->out), "in",
	    link_json(d->in));
	pthread_mutex_lock(&d->mtx);
	for (m = 0; m < STORE_NMOD; m++)
		json_array_append_new(mods, mod_json(d, m, now));
	for (m = 0; m < 2; m++)
		if (d->owners[m].home[0] != '\0')
			json_array_append_new(owners, json_pack("{s:s, s:s, "
			    "s:I, s:s}", "users_of", d->owners[m].home, "owner",
			    d->owners[m].owner, "epoch",
			    (json_int_t)d->owners[m].epoch, "mode",
			    store_mode_name(d->owners[m].mode)));
	pthread_mutex_unlock(&d->mtx);
	return (json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:i, s:i, s:i, s:i}, "
	    "s:i, s:o, s:o, s:o, s:b}",
	    "pool", d->cfg.pool, "partner", d->cfg.partner, "pair",
	    d->cfg.pair,
	    "connection", link_json(d->out.authed ? &d->out : d->in != NULL ?
	    d->in : &d->out),
	    "links", links,
	    "certificates", "own_days_left", days(d->cfg.cert),
	    "partner_days_left", days(d->cfg.partner_cert), "ca_days_left",
	    days(d->cfg.ca), "crl_days_left", crl_days(d->cfg.crl),
	    "sync_interval_s", d->cfg.sync_interval,
	    "started", iso(d->started_ms), "modules", mods, "owners", owners,
	    "fenced", d->fenced));
}
