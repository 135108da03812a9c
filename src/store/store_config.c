/*
 * store_config.c: central configuration documents (module config): named,
 * versioned documents, writable only on the pool that is the config master.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store_int.h"
#include "util.h"

int
store_config_master(struct store *st, char out[static PP_FQDN_MAX + 1])
{
	sqlite3_stmt *s;

	if ((s = db_stmt(st, "SELECT v FROM meta WHERE k = 'config_master'"))
	    == NULL)
		return (-1);
	if (sqlite3_step(s) != SQLITE_ROW)
		return (db_fail(st, "config master"));
	db_col_text(s, 0, out, PP_FQDN_MAX + 1);
	sqlite3_reset(s);
	return (0);
}

int
store_config_set(struct store *st, const char *name, const void *body,
    size_t len, struct store_config *out)
{
	char master[PP_FQDN_MAX + 1];
	struct store_config c;
	sqlite3_stmt *s;
	int rc = -1, r;

	if (util_token_ok(name, PP_CONFIG_NAME_MAX, "config document name")
	    != 0)
		return (-1);
	if (len > PP_CONFIG_DOC_MAX) {
		pp_err(PP_ELIMIT, "config document is larger than %d bytes",
		    PP_CONFIG_DOC_MAX);
		return (-1);
	}
	if (db_wbegin(st) != 0)
		return (-1);
	if (store_config_master(st, master) != 0)
		goto out;
	if (strcmp(master, st->pool) != 0) {
		pp_err(PP_EROFS, "configuration is read-only here: the config "
		    "master is %s", master);
		goto out;
	}
	if ((s = db_stmt(st, "SELECT version FROM config_docs WHERE name = ?"))
	    == NULL)
		goto out;
	db_bind_text(s, 1, name);
	if ((r = sqlite3_step(s)) != SQLITE_ROW && r != SQLITE_DONE) {
		db_fail(st, "config lookup");
		goto out;
	}
	c.version = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) + 1 : 1;
	sqlite3_reset(s);
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.size = len;
	c.updated_ms = util_now_ms();
	snprintf(c.home, sizeof(c.home), "%s", st->pool);
	c.primary = 1;
	if ((s = db_stmt(st, "INSERT OR REPLACE INTO config_docs"
	    " VALUES(?,?,?,?)")) == NULL)
		goto out;
	db_bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, c.version);
	sqlite3_bind_blob(s, 3, len > 0 ? body : "", (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, c.updated_ms);
	if (db_done(st, s, "config set") != 0 ||
	    jrnl_append(st, STORE_MOD_CONFIG, "config", name, NULL, "put") != 0)
		goto out;
	if (out != NULL)
		*out = c;
	rc = 0;
out:
	return (db_wend(st, rc));
}

/* Fill ${c} from row ${s}; the config master ${master} is its home. */
static void
config_row(struct store *st, sqlite3_stmt *s, const char *master,
    struct store_config *c)
{

	db_col_text(s, 0, c->name, sizeof(c->name));
	c->version = sqlite3_column_int64(s, 1);
	c->size = (size_t)sqlite3_column_int64(s, 2);
	c->updated_ms = sqlite3_column_int64(s, 3);
	snprintf(c->home, sizeof(c->home), "%s", master);
	c->primary = strcmp(master, st->pool) == 0;
}

int
store_config_get(struct store *st, const char *name, struct store_config *out,
    uint8_t **body)
{
	sqlite3_stmt *s;
	int rc = -1;
	char master[PP_FQDN_MAX + 1];

	if (util_token_ok(name, PP_CONFIG_NAME_MAX, "config document name")
	    != 0 || db_rbegin(st) != 0)
		return (-1);
	if (store_config_master(st, master) != 0)
		goto out;
	if ((s = db_stmt(st, "SELECT name, version, length(body), updated,"
	    " body FROM config_docs WHERE name = ?")) == NULL)
		goto out;
	db_bind_text(s, 1, name);
	if (sqlite3_step(s) != SQLITE_ROW) {
		pp_err(PP_ENOENT, "no config document '%s'", name);
		goto out;
	}
	config_row(st, s, master, out);
	if (body != NULL) {
		if (out->size > PP_CONFIG_DOC_MAX) {
			pp_err(PP_ESTORE, "store %s is corrupted (config "
			    "document '%s' of %zu bytes)", st->dir, name,
			    out->size);
			goto out;
		}
		if ((*body = malloc(out->size + 1)) == NULL) {
			pp_err(PP_EINTERNAL, "out of memory");
			goto out;
		}
		if (out->size > 0)
			memcpy(*body, sqlite3_column_blob(s, 4), out->size);
	}
	rc = 0;
out:
	db_rend(st);
	return (rc);
}

int
store_config_list(struct store *st, store_config_cb *cb, void *arg)
{
	struct store_config c;
	sqlite3_stmt *s;
	int rc = -1, r;
	char master[PP_FQDN_MAX + 1];

	if (db_rbegin(st) != 0)
		return (-1);
	if (store_config_master(st, master) != 0)
		goto out;
	if ((s = db_stmt(st, "SELECT name, version, length(body), updated"
	    " FROM config_docs ORDER BY name")) == NULL)
		goto out;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		config_row(st, s, master, &c);
		if (cb(arg, &c) != 0)
			goto out;
	}
	if (r != SQLITE_DONE) {
		db_fail(st, "config list");
		goto out;
	}
	rc = 0;
out:
	db_rend(st);
	return (rc);
}
