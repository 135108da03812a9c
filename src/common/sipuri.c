/*
 * sipuri.c: SIP address-of-record validation and normalization (sipuri.h).
 */
#include <string.h>
#include <strings.h>

#include "err.h"
#include "sipuri.h"
#include "util.h"

/* RFC 3261 unreserved = alphanum / mark. */
static int
is_unreserved(int c)
{

	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("-_.!~*'()", c) != NULL);
}

/* RFC 3261 user-unreserved, less ';' and '?' which start params/headers. */
static int
is_user_unreserved(int c)
{

	return (strchr("&=+$,/", c) != NULL);
}

static int
lower(int c)
{

	return ((c >= 'A' && c <= 'Z') ? c + 32 : c);
}

/* Normalize the user part [${u}, ${u}+${len}) into ${o}, setting ${olen}. */
static int
user_part(const char *u, size_t len, char *o, size_t *olen, size_t omax)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, n = 0;
	int c, hi, lo;

	if (len == 0) {
		pp_err(PP_EINVAL, "SIP URI has an empty user part");
		return (-1);
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)u[i];
		if (c == '%') {
			if (i + 2 >= len ||
			    (hi = util_hexval(u[i + 1])) < 0 ||
			    (lo = util_hexval(u[i + 2])) < 0)
				goto badesc;
			c = hi << 4 | lo;
			i += 2;
			if (c != 0 && is_unreserved(c)) {
				if (n + 1 > omax)
					goto toolong;
				o[n++] = (char)lower(c);
			} else {
				if (c == 0) {
					pp_err(PP_EINVAL,
					    "SIP URI user part contains %%00");
					return (-1);
				}
				if (n + 3 > omax)
					goto toolong;
				c = lower(c);
				o[n++] = '%';
				o[n++] = hex[c >> 4];
				o[n++] = hex[c & 15];
			}
			continue;
		}
		if (c == ':') {
			pp_err(PP_EINVAL, "SIP URI carries a password");
			return (-1);
		}
		if (c == ';' || c == '?') {
			pp_err(PP_EINVAL, "SIP URI user part may not contain "
			    "'%c'", c);
			return (-1);
		}
		if (!is_unreserved(c) && !is_user_unreserved(c)) {
			pp_err(PP_EINVAL, "SIP URI user part has an invalid "
			    "character (0x%02x)", c);
			return (-1);
		}
		if (n + 1 > omax)
			goto toolong;
		o[n++] = (char)lower(c);
	}
	*olen = n;
	return (0);

badesc:
	pp_err(PP_EINVAL, "SIP URI user part has a bad %% escape");
	return (-1);
toolong:
	pp_err(PP_EINVAL, "SIP URI is longer than %d bytes", PP_URI_MAX);
	return (-1);
}

/* Check the host [${h}, ${h}+${len}): a domain name, no port or params. */
static int
host_part(const char *h, size_t len, char *o, size_t *olen, size_t omax)
{
	char buf[PP_URI_MAX + 1];
	const char *tl;
	size_t i;
	int c;

	for (i = 0; i < len; i++) {
		if (h[i] == ':') {
			pp_err(PP_EINVAL, "SIP URI of a user may not carry a "
			    "port");
			return (-1);
		}
		if (h[i] == ';' || h[i] == '?') {
			pp_err(PP_EINVAL, "SIP URI of a user may not carry "
			    "parameters or headers");
			return (-1);
		}
		if (h[i] == '[') {
			pp_err(PP_EINVAL, "SIP URI host must be a domain "
			    "name, not an IP literal");
			return (-1);
		}
	}
	if (len > 0 && h[len - 1] == '.')
		len--;
	if (len == 0 || len > PP_FQDN_MAX || len + 1 > sizeof(buf)) {
		pp_err(PP_EINVAL, "SIP URI has an empty or over-long host");
		return (-1);
	}
	memcpy(buf, h, len);
	buf[len] = '\0';
	if (util_fqdn_ok(buf) != 0) {
		pp_err(PP_EINVAL, "SIP URI host '%.64s' is not a domain name",
		    buf);
		return (-1);
	}
	/* RFC 3261 toplabel starts with a letter: refuses IPv4 too. */
	tl = strrchr(buf, '.');
	c = (tl != NULL ? tl[1] : buf[0]) | 0x20;
	if (c < 'a' || c > 'z') {
		pp_err(PP_EINVAL, "SIP URI host must be a domain name, not an "
		    "IP address");
		return (-1);
	}
	if (len > omax) {
		pp_err(PP_EINVAL, "SIP URI is longer than %d bytes",
		    PP_URI_MAX);
		return (-1);
	}
	for (i = 0; i < len; i++)
		o[i] = (char)lower((unsigned char)buf[i]);
	*olen = len;
	return (0);
}

int
sipuri_normalize(const char *in, char out[static PP_URI_MAX + 1])
{
	size_t len = strnlen(in, PP_URI_MAX * 3 + 1), skip, n, ulen, hlen;
	const char *at, *rest;

	if (len > PP_URI_MAX * 3) {
		pp_err(PP_EINVAL, "SIP URI is longer than %d bytes",
		    PP_URI_MAX);
		return (-1);
	}
	if (strncasecmp(in, "sip:", 4) == 0) {
		memcpy(out, "sip:", 4);
		skip = 4;
	} else if (strncasecmp(in, "sips:", 5) == 0) {
		memcpy(out, "sips:", 5);
		skip = 5;
	} else {
		pp_err(PP_EINVAL, "'%.64s' is not a SIP URI (sip:user@host "
		    "or sips:user@host)", in);
		return (-1);
	}
	rest = in + skip;
	if ((at = strrchr(rest, '@')) == NULL) {
		pp_err(PP_EINVAL, "SIP URI '%.64s' has no user part "
		    "(sip:user@host)", in);
		return (-1);
	}
	if (memchr(rest, '@', (size_t)(at - rest)) != NULL) {
		pp_err(PP_EINVAL, "SIP URI has more than one '@'");
		return (-1);
	}
	n = skip;
	if (user_part(rest, (size_t)(at - rest), out + n, &ulen,
	    PP_URI_MAX - n) != 0)
		return (-1);
	n += ulen;
	if (n + 1 > PP_URI_MAX) {
		pp_err(PP_EINVAL, "SIP URI is longer than %d bytes",
		    PP_URI_MAX);
		return (-1);
	}
	out[n++] = '@';
	if (host_part(at + 1, strlen(at + 1), out + n, &hlen,
	    PP_URI_MAX - n) != 0)
		return (-1);
	n += hlen;
	out[n] = '\0';
	return (0);
}
