/*
 * config.c: the pool's config file (see config.h): a table of known keys,
 * inih fed line by line by our own reader (so that every key has its line
 * number and no line is split), then the files the keys name, loaded and
 * checked against each other (config_check.c).
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <openssl/crypto.h>

#include "config_int.h"
#include "err.h"
#include "fileio.h"
#include "util.h"

/* Sections, in the order a printed config has them. */
static const char *const sections[CFG_NSECT] = { "pool", "partner", "tls",
	"backup" };

#define KEY(s, n, k, f) { s, n, k, offsetof(struct pp_config, f), \
	sizeof(((struct pp_config *)0)->f), 0 }
#define OPTKEY(s, n, k, f) { s, n, k, offsetof(struct pp_config, f), \
	sizeof(((struct pp_config *)0)->f), 1 }

/*
 * Every key the file may hold: the first nine are required, the daemon's
 * optional.  A new key is one row here (and a kind, if none fits) and one
 * index in config_int.h.
 */
static const struct cfg_key {
	int sect;
	const char *name;
	enum { CFG_FQDN, CFG_PATH, CFG_ADDR, CFG_SECS } kind;
	size_t off;		/* of its char[] (CFG_SECS: int) */
	size_t size;
	int optional;
} keys[CFG_NKEYS] = {
	[CFG_POOL_FQDN] = KEY(CFG_POOL, "fqdn", CFG_FQDN, pool),
	[CFG_POOL_DATA] = KEY(CFG_POOL, "data", CFG_PATH, data),
	[CFG_PARTNER_FQDN] = KEY(CFG_PARTNER, "fqdn", CFG_FQDN, partner),
	[CFG_PARTNER_CERT] = KEY(CFG_PARTNER, "cert", CFG_PATH,
	    partner_cert_path),
	[CFG_TLS_CA] = KEY(CFG_TLS, "ca", CFG_PATH, ca_path),
	[CFG_TLS_CRL] = KEY(CFG_TLS, "crl", CFG_PATH, crl_path),
	[CFG_TLS_CERT] = KEY(CFG_TLS, "cert", CFG_PATH, cert_path),
	[CFG_TLS_KEY] = KEY(CFG_TLS, "key", CFG_PATH, key_path),
	[CFG_TLS_SEAL_KEY] = KEY(CFG_TLS, "seal_key", CFG_PATH, seal_key_path),
	[CFG_POOL_LISTEN] = OPTKEY(CFG_POOL, "listen", CFG_ADDR, listen),
	[CFG_PARTNER_ADDRESS] = OPTKEY(CFG_PARTNER, "address", CFG_ADDR,
	    partner_addr),
	[CFG_BACKUP_SYNC_INTERVAL] = OPTKEY(CFG_BACKUP, "sync_interval",
	    CFG_SECS, sync_interval),
};

int
config_addr_split(const char *addr, char *host, int *port)
{
	const char *colon = strrchr(addr, ':'), *h = addr, *e;
	char *end;
	long v;
	size_t n;

	if (colon == NULL)
		goto bad;
	e = colon;
	if (addr[0] == '[') {		/* [v6]:port */
		h = addr + 1;
		if (colon == addr || colon[-1] != ']')
			goto bad;
		e = colon - 1;
	}
	n = (size_t)(e - h);
	if (n == 0 || n > PP_FQDN_MAX)
		goto bad;
	memcpy(host, h, n);
	host[n] = '\0';
	if (addr[0] != '[' && strchr(host, ':') != NULL)
		goto bad;
	errno = 0;
	v = strtol(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || v < 1 ||
	    v > 65535)
		goto bad;
	*port = (int)v;
	return (0);
bad:
	pp_err(PP_EINVAL, "'%.64s' is not an address (host:port, [v6]:port, "
	    "port 1-65535)", addr);
	return (-1);
}

/* Check host ${h}: an IPv4 or IPv6 literal, or a host name. */
static int
addr_host_ok(const char *h)
{
	unsigned char buf[16];
	size_t i;

	if (inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1)
		return (0);
	for (i = 0; h[i] != '\0'; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' &&
		    h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9') ||
		    h[i] == '-' || h[i] == '.'))
			break;
	if (h[i] == '\0' && i > 0)
		return (0);
	pp_err(PP_EINVAL, "'%.64s' is not an IP address or a host name", h);
	return (-1);
}

int
cfg_fail(struct cfg_parse *p, int line)
{
	char msg[512];

	/* Copied: pp_err must not format from its own buffer. */
	snprintf(msg, sizeof(msg), "%s", pp_errmsg());
	pp_err(pp_errcode() == PP_OK ? PP_EINVAL : pp_errcode(), "%s:%d: %s",
	    p->file, line, msg);
	p->failed = 1;
	return (-1);
}

/* Record ${fmt} (PP_EINVAL) at line ${line} of the file. */
static int cfg_refuse(struct cfg_parse *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
cfg_refuse(struct cfg_parse *p, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pp_err(PP_EINVAL, "%s", msg);
	return (cfg_fail(p, line));
}

/* The index of section ${name} (${len} bytes), or -1. */
static int
sect_find(const char *name, size_t len)
{
	int i;

	for (i = 0; i < CFG_NSECT; i++)
		if (strlen(sections[i]) == len &&
		    memcmp(sections[i], name, len) == 0)
			return (i);
	return (-1);
}

/*
 * Note the section header ${s} (${n} bytes, leading blanks gone) on the
 * current line: unknown and repeated sections are refused here, so that
 * an empty one is too.  A header without ']' is left to inih.
 */
static void
sect_line(struct cfg_parse *p, const char *s, size_t n)
{
	const char *end = memchr(s, ']', n);
	int i;

	if (end == NULL)
		return;
	if ((i = sect_find(s + 1, (size_t)(end - s - 1))) < 0)
		cfg_refuse(p, p->line, "unknown section [%.*s]",
		    (int)(end - s - 1 > 64 ? 64 : end - s - 1), s + 1);
	else if (p->sect_line[i] != 0)
		cfg_refuse(p, p->line, "section [%s] again (first on line %d)",
		    sections[i], p->sect_line[i]);
	else
		p->sect_line[i] = p->line;
}

/*
 * inih's reader: the next line of the file into ${str} (${num} bytes), or
 * NULL at the end or once something was refused.  A line that does not fit
 * is refused, not split; leading blanks are dropped, since inih would take
 * an indented line for the continuation of the value above.
 */
static char *
cfg_reader(char *str, int num, void *stream)
{
	struct cfg_parse *p = stream;
	const char *s = p->buf + p->pos, *nl;
	size_t n, rest = p->len - p->pos;

	if (p->failed || rest == 0)
		return (NULL);
	nl = memchr(s, '\n', rest);
	n = nl != NULL ? (size_t)(nl - s) + 1 : rest;
	p->pos += n;
	p->line++;
	if (num < 3 || n - (nl != NULL) > (size_t)num - 3) {
		cfg_refuse(p, p->line, "line too long (more than %d "
		    "characters)", num - 3);
		return (NULL);
	}
	if (memchr(s, '\0', n) != NULL) {
		cfg_refuse(p, p->line, "the line holds a NUL byte");
		return (NULL);
	}
	if (p->line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;		/* a UTF-8 byte order mark */
		n -= 3;
	}
	for (; n > 0 && (*s == ' ' || *s == '\t'); s++)
		n--;
	if (n > 0 && *s == '[')
		sect_line(p, s, n);
	memcpy(str, s, n);
	str[n] = '\0';
	return (p->failed ? NULL : str);
}

/* The index of key ${name} in section ${section}, or -1. */
static int
key_find(const char *section, const char *name)
{
	int i, s = sect_find(section, strlen(section));

	for (i = 0; s >= 0 && i < CFG_NKEYS; i++)
		if (keys[i].sect == s && strcmp(keys[i].name, name) == 0)
			return (i);
	return (-1);
}

/* Store ${value} of key ${k} in the config, resolving a relative path. */
static int
key_set(struct cfg_parse *p, int k, const char *value)
{
	char *dst = (char *)p->cfg + keys[k].off;
	const char *what = keys[k].name;

	char host[PP_FQDN_MAX + 1], *end;
	long v;
	int port;

	switch (keys[k].kind) {
	case CFG_FQDN:
		if (util_fqdn_ok(value) != 0)
			return (-1);
		break;
	case CFG_ADDR:
		if (config_addr_split(value, host, &port) != 0 ||
		    addr_host_ok(host) != 0)
			return (-1);
		break;
	case CFG_SECS:
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || (v != 0 &&
		    (v < CONFIG_SYNC_MIN || v > CONFIG_SYNC_MAX))) {
			pp_err(PP_EINVAL, "%s must be 0 (stream at once) or "
			    "%d to %d seconds", what, CONFIG_SYNC_MIN,
			    CONFIG_SYNC_MAX);
			return (-1);
		}
		*(int *)(void *)dst = (int)v;
		return (0);
	case CFG_PATH:
		if (util_text_ok(value, PATH_MAX - 1, what) != 0)
			return (-1);
		if (value[0] != '/')
			return (fileio_join(dst, keys[k].size, p->dir, value));
		break;
	}
	if (strlen(value) >= keys[k].size) {
		pp_err(PP_EINVAL, "%s is too long", what);
		return (-1);
	}
	strcpy(dst, value);
	return (0);
}

/* Take "${name} = ${value}" of [${section}]. */
static int
cfg_key(struct cfg_parse *p, const char *section, const char *name,
    const char *value)
{
	int k;

	if (section[0] == '\0')
		return (cfg_refuse(p, p->line, "key '%.64s' is outside any "
		    "section", name));
	if ((k = key_find(section, name)) < 0)
		return (cfg_refuse(p, p->line, "unknown key '%.64s' in [%s]",
		    name, section));
	if (p->key_line[k] != 0)
		return (cfg_refuse(p, p->line, "duplicate key '%s' in [%s] "
		    "(first on line %d)", name, section, p->key_line[k]));
	p->key_line[k] = p->line;
	if (value[0] == '\0')
		return (cfg_refuse(p, p->line, "empty value for '%s' in [%s]",
		    name, section));
	if (key_set(p, k, value) != 0)
		return (cfg_fail(p, p->line));
	return (0);
}

/* inih's handler: nonzero is success. */
static int
cfg_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct cfg_parse *p = user;

	return (!p->failed && cfg_key(p, section, name, value) == 0);
}

/* Refuse the first required key that the file lacks. */
static int
keys_present(struct cfg_parse *p)
{
	int k, s;

	for (k = 0; k < CFG_NKEYS; k++) {
		if (p->key_line[k] != 0 || keys[k].optional)
			continue;
		s = keys[k].sect;
		if (p->sect_line[s] == 0)
			return (cfg_refuse(p, 0, "missing section [%s] (with "
			    "key '%s')", sections[s], keys[k].name));
		return (cfg_refuse(p, p->sect_line[s], "missing key '%s' in "
		    "[%s]", keys[k].name, sections[s]));
	}
	return (0);
}

/* Parse ${p}->buf into ${p}->cfg's strings. */
static int
cfg_parse(struct cfg_parse *p)
{
	int rc;

	rc = ini_parse_stream(cfg_reader, p, cfg_handler, p);
	if (p->failed)
		return (-1);
	if (rc > 0)
		return (cfg_refuse(p, rc, "syntax error: expected '[section]', "
		    "'key = value' or a comment"));
	if (rc != 0) {
		pp_err(PP_EINTERNAL, "%s: cannot parse: out of memory",
		    p->file);
		return (-1);
	}
	return (keys_present(p));
}

/* The absolute directory of ${path} into ${p}->dir. */
static int
cfg_dir(struct cfg_parse *p, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 0 : slash == path ? 1 : (size_t)(slash - path);

	if (n >= sizeof(dir)) {
		pp_err(PP_EINVAL, "config file path is too long");
		return (-1);
	}
	memcpy(dir, n == 0 ? "." : path, n == 0 ? 1 : n);
	dir[n == 0 ? 1 : n] = '\0';
	if (realpath(dir, p->dir) == NULL) {
		pp_errp(PP_EIO, "cannot resolve directory %s", dir);
		return (-1);
	}
	return (0);
}

int
config_load(const char *path, struct pp_config *out)
{
	struct cfg_parse p;
	uint8_t *buf;
	size_t len;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.cfg = out;
	p.file = path;
	if (strlen(path) >= sizeof(out->path)) {
		pp_err(PP_EINVAL, "config file path is too long");
		return (-1);
	}
	strcpy(out->path, path);
	if (fileio_read(path, CONFIG_FILE_MAX, FILEIO_TRUSTED, &buf, &len,
	    "config file") != 0) {
		config_free(out);	/* emptied, as promised: path too */
		return (-1);
	}
	p.buf = (const char *)buf;
	p.len = len;
	if (cfg_dir(&p, path) == 0 && cfg_parse(&p) == 0 &&
	    cfg_check(&p) == 0)
		rc = 0;
	free(buf);
	if (rc != 0)
		config_free(out);
	return (rc);
}

void
config_free(struct pp_config *cfg)
{

	if (cfg == NULL)
		return;
	X509_free(cfg->ca);
	X509_CRL_free(cfg->crl);
	X509_free(cfg->cert);
	X509_free(cfg->partner_cert);
	EVP_PKEY_free(cfg->identity_key);
	EVP_PKEY_free(cfg->seal_key);
	OPENSSL_cleanse(cfg, sizeof(*cfg));
}
