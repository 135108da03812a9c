/*
 * bk_codec.c: a store record as a package record and back (payload layouts
 * in docs/package-format.md).  Decoding bounds every field; the store then
 * validates the values as it would any input.
 */
#include <string.h>

#include "backup.h"
#include "err.h"
#include "util.h"

/* Put (del 0) and delete (del 1) record types of each entity. */
static const int rtype[STORE_NENT][2] = {
	[STORE_E_USER] = { PKG_R_USER, PKG_R_USER_DEL },
	[STORE_E_SETTING] = { PKG_R_SETTING, PKG_R_SETTING_DEL },
	[STORE_E_GROUP] = { PKG_R_GROUP, PKG_R_GROUP_DEL },
	[STORE_E_CONTACT] = { PKG_R_CONTACT, PKG_R_CONTACT_DEL },
	[STORE_E_CONF] = { PKG_R_CONF, PKG_R_CONF_DEL },
	[STORE_E_CONTENT] = { PKG_R_CONTENT, PKG_R_CONTENT_DEL },
	[STORE_E_CONFIG] = { PKG_R_CONFIG, 0 },
	[STORE_E_OWNER] = { PKG_R_OWNER, 0 },
};

void
bk_content_head(struct pkg_buf *b, const struct store_rec *r)
{

	pkg_put_str(b, r->content.conf);
	pkg_put_str(b, r->content.name);
	pkg_put_u8(b, (unsigned)r->content.kind);
	pkg_put_str(b, r->content.mime);
	pkg_put_i64(b, r->content.size);
	pkg_put_bytes(b, r->content.sha256, CRYPTO_HASH_LEN);
	pkg_put_i64(b, r->content.created_ms);
	pkg_put_i64(b, r->content.updated_ms);
	pkg_put_u32(b, (uint32_t)r->content.nchunks);
}

int
bk_rec_encode(const struct store_rec *r, struct pkg_buf *b, int *type)
{
	size_t i;

	pkg_buf_reset(b);
	if ((unsigned)r->ent >= STORE_NENT ||
	    (*type = rtype[r->ent][r->del != 0]) == 0) {
		pp_err(PP_EINTERNAL, "no package record for entity %d",
		    (int)r->ent);
		return (-1);
	}
	switch (r->ent) {
	case STORE_E_USER:
		pkg_put_str(b, r->user.uri);
		if (r->del)
			break;
		pkg_put_str(b, r->user.name);
		pkg_put_i64(b, r->user.created_ms);
		pkg_put_i64(b, r->user.updated_ms);
		break;
	case STORE_E_SETTING:
		pkg_put_str(b, r->user.uri);
		pkg_put_str(b, r->setting.key);
		if (!r->del)
			pkg_put_str(b, r->setting.value);
		break;
	case STORE_E_GROUP:
		pkg_put_str(b, r->contact.owner);
		pkg_put_str(b, r->group.name);
		break;
	case STORE_E_CONTACT:
		pkg_put_str(b, r->contact.owner);
		pkg_put_str(b, r->contact.uri);
		if (r->del)
			break;
		pkg_put_str(b, r->contact.name);
		pkg_put_u8(b, (unsigned)r->contact.rel);
		pkg_put_u8(b, (unsigned)r->contact.ngroups);
		for (i = 0; i < r->contact.ngroups; i++)
			pkg_put_str(b, r->contact.groups[i]);
		break;
	case STORE_E_CONF:
		pkg_put_str(b, r->conf.id);
		if (r->del)
			break;
		pkg_put_str(b, r->conf.organizer);
		pkg_put_str(b, r->conf.subject);
		pkg_put_i64(b, r->conf.start);
		pkg_put_i64(b, r->conf.end);
		pkg_put_u8(b, (unsigned)r->conf.access);
		pkg_put_i64(b, r->conf.created_ms);
		pkg_put_i64(b, r->conf.updated_ms);
		break;
	case STORE_E_CONTENT:
		if (r->del) {
			pkg_put_str(b, r->content.conf);
			pkg_put_str(b, r->content.name);
			break;
		}
		bk_content_head(b, r);
		pkg_put_bytes(b, r->ids, r->content.nchunks * CRYPTO_HASH_LEN);
		break;
	case STORE_E_OWNER:
		pkg_put_str(b, r->owner.home);
		pkg_put_str(b, r->owner.owner);
		pkg_put_i64(b, r->owner.epoch);
		pkg_put_u8(b, (unsigned)r->owner.mode);
		pkg_put_i64(b, r->owner.changed_ms);
		pkg_put_i64(b, r->owner.lsn[0]);
		pkg_put_i64(b, r->owner.lsn[1]);
		pkg_put_u8(b, (unsigned)r->owner.master);
		break;
	default:
		pkg_put_str(b, r->config.name);
		pkg_put_i64(b, r->config.version);
		pkg_put_i64(b, r->config.updated_ms);
		pkg_put_u32(b, (uint32_t)r->config.size);
		pkg_put_bytes(b, r->body, r->config.size);
		break;
	}
	return (b->failed ? -1 : 0);
}

/* A content put's fields up to its chunk count. */
static void
dec_content_head(struct pkg_cur *c, struct store_rec *r)
{
	const uint8_t *p;

	pkg_get_str(c, r->content.conf, PP_CONF_ID_LEN);
	pkg_get_str(c, r->content.name, PP_CONTENT_NAME_MAX);
	r->content.kind = (enum store_kind)pkg_get_u8(c);
	pkg_get_str(c, r->content.mime, PP_MIME_MAX);
	r->content.size = pkg_get_i64(c);
	if ((p = pkg_get_bytes(c, CRYPTO_HASH_LEN)) != NULL)
		memcpy(r->content.sha256, p, CRYPTO_HASH_LEN);
	r->content.created_ms = pkg_get_i64(c);
	r->content.updated_ms = pkg_get_i64(c);
	r->content.nchunks = pkg_get_u32(c);
}

int
bk_edit_decode(const struct pkg_rec *pr, struct store_rec *r,
    uint8_t base[static CRYPTO_HASH_LEN], struct pkg_cur *script)
{
	const uint8_t *p;

	script->p = pr->p;
	script->len = pr->len;
	script->bad = 0;
	store_rec_clear(r, STORE_E_CONTENT);
	r->ent = STORE_E_CONTENT;
	r->del = 0;
	dec_content_head(script, r);
	if ((p = pkg_get_bytes(script, CRYPTO_HASH_LEN)) != NULL)
		memcpy(base, p, CRYPTO_HASH_LEN);
	if (script->bad ||
	    r->content.nchunks > PKG_REC_MAX / CRYPTO_HASH_LEN) {
		pp_err(PP_EINVAL, "package refused: malformed content-edit "
		    "record");
		return (-1);
	}
	return (0);
}

/* Decode the fields of the put or delete of entity ${ent} from ${c}. */
static void
dec_fields(struct pkg_cur *c, struct store_rec *r)
{
	size_t i;

	switch (r->ent) {
	case STORE_E_USER:
		pkg_get_str(c, r->user.uri, PP_URI_MAX);
		if (r->del)
			break;
		pkg_get_str(c, r->user.name, PP_NAME_MAX);
		r->user.created_ms = pkg_get_i64(c);
		r->user.updated_ms = pkg_get_i64(c);
		break;
	case STORE_E_SETTING:
		pkg_get_str(c, r->user.uri, PP_URI_MAX);
		pkg_get_str(c, r->setting.key, PP_SETTING_KEY_MAX);
		if (!r->del)
			pkg_get_str(c, r->setting.value, PP_SETTING_VALUE_MAX);
		break;
	case STORE_E_GROUP:
		pkg_get_str(c, r->contact.owner, PP_URI_MAX);
		pkg_get_str(c, r->group.name, PP_GROUP_NAME_MAX);
		break;
	case STORE_E_CONTACT:
		pkg_get_str(c, r->contact.owner, PP_URI_MAX);
		pkg_get_str(c, r->contact.uri, PP_URI_MAX);
		if (r->del)
			break;
		pkg_get_str(c, r->contact.name, PP_NAME_MAX);
		r->contact.rel = (enum store_rel)pkg_get_u8(c);
		r->contact.ngroups = pkg_get_u8(c);
		if (r->contact.ngroups > PP_GROUPS_PER_USER) {
			c->bad = 1;
			break;
		}
		for (i = 0; i < r->contact.ngroups; i++)
			pkg_get_str(c, r->contact.groups[i], PP_GROUP_NAME_MAX);
		break;
	case STORE_E_CONF:
		pkg_get_str(c, r->conf.id, PP_CONF_ID_LEN);
		if (r->del)
			break;
		pkg_get_str(c, r->conf.organizer, PP_URI_MAX);
		pkg_get_str(c, r->conf.subject, PP_SUBJECT_MAX);
		r->conf.start = pkg_get_i64(c);
		r->conf.end = pkg_get_i64(c);
		r->conf.access = (enum store_access)pkg_get_u8(c);
		r->conf.created_ms = pkg_get_i64(c);
		r->conf.updated_ms = pkg_get_i64(c);
		break;
	case STORE_E_CONTENT:
		if (r->del) {
			pkg_get_str(c, r->content.conf, PP_CONF_ID_LEN);
			pkg_get_str(c, r->content.name, PP_CONTENT_NAME_MAX);
			break;
		}
		dec_content_head(c, r);
		/* The count is checked against what the payload holds. */
		if (c->bad || c->len != r->content.nchunks * CRYPTO_HASH_LEN) {
			c->bad = 1;
			break;
		}
		r->ids = pkg_get_bytes(c, c->len);
		break;
	case STORE_E_OWNER:
		pkg_get_str(c, r->owner.home, PP_FQDN_MAX);
		pkg_get_str(c, r->owner.owner, PP_FQDN_MAX);
		r->owner.epoch = pkg_get_i64(c);
		r->owner.mode = (enum store_mode)pkg_get_u8(c);
		r->owner.changed_ms = pkg_get_i64(c);
		r->owner.lsn[0] = pkg_get_i64(c);
		r->owner.lsn[1] = pkg_get_i64(c);
		r->owner.master = pkg_get_u8(c);
		break;
	default:
		pkg_get_str(c, r->config.name, PP_CONFIG_NAME_MAX);
		r->config.version = pkg_get_i64(c);
		r->config.updated_ms = pkg_get_i64(c);
		r->config.size = pkg_get_u32(c);
		if (c->bad || r->config.size > PP_CONFIG_DOC_MAX ||
		    c->len != r->config.size) {
			c->bad = 1;
			break;
		}
		r->body = pkg_get_bytes(c, c->len);
		break;
	}
}

int
bk_rec_decode(const struct pkg_rec *pr, struct store_rec *r)
{
	struct pkg_cur c = { pr->p, pr->len, 0 };
	int e, d;

	for (e = 0; e < STORE_NENT; e++)
		for (d = 0; d < 2; d++)
			if (rtype[e][d] == pr->type && pr->type != 0)
				goto found;
	pp_err(PP_EINVAL, "package refused: record type %d is not a data "
	    "record", pr->type);
	return (-1);
found:
	store_rec_clear(r, (enum store_ent)e);
	r->ent = (enum store_ent)e;
	r->del = d;
	dec_fields(&c, r);
	if (c.bad || c.len != 0) {
		pp_err(PP_EINVAL, "package refused: malformed %s record",
		    pkg_rec_name(pr->type));
		return (-1);
	}
	return (0);
}
