/*
 * fuzz_sipuri.c: libFuzzer harness for sipuri_normalize, the check of every
 * SIP URI that comes from outside (the CLI, packages, later the front end).
 * The input is the URI (cut at its first NUL).
 *
 * Properties: the normal form of a valid URI is valid and its own normal
 * form (idempotent); it is "sip:" or "sips:", one "@", at most PP_URI_MAX
 * bytes, no uppercase letter outside a %HH escape, no escape of an
 * unreserved character; the input in upper or in lower case is valid or
 * not alike, with the same normal form.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz_keys.h"
#include "sipuri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IN_MAX	(PP_URI_MAX * 4)	/* past the refusal of long input */

/* Check the shape of normal form ${n}. */
static void
check_form(const char *n)
{
	const char *at = strchr(n, '@');
	size_t len = strlen(n), i;
	int c;

	if (len > PP_URI_MAX)
		fuzz_fail("a normal form over PP_URI_MAX");
	if (strncmp(n, "sip:", 4) != 0 && strncmp(n, "sips:", 5) != 0)
		fuzz_fail("a normal form without sip: or sips:");
	if (at == NULL || strchr(at + 1, '@') != NULL)
		fuzz_fail("a normal form without exactly one @");
	for (i = 0; i < len; i++) {
		c = (unsigned char)n[i];
		if (c == '%') {
			if (i + 2 >= len || strchr("0123456789ABCDEF",
			    n[i + 1]) == NULL || strchr("0123456789ABCDEF",
			    n[i + 2]) == NULL || n[i + 1] == '\0' ||
			    n[i + 2] == '\0')
				fuzz_fail("a normal form with a bad escape");
			c = (int)strtol((char[]){ n[i + 1], n[i + 2], 0 },
			    NULL, 16);
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') ||
			    strchr("-_.!~*'()", c) != NULL)
				fuzz_fail("a normal form escapes an "
				    "unreserved character");
			i += 2;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			fuzz_fail("a normal form with an uppercase letter");
	}
}

/* ${s} with its letters in upper (${up}) or lower case, into ${out}. */
static void
recase(const char *s, char *out, int up)
{

	for (; *s != '\0'; s++, out++)
		*out = up ? (*s >= 'a' && *s <= 'z' ? *s - 32 : *s) :
		    (*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
	*out = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char in[IN_MAX + 1], other[IN_MAX + 1];
	char n[PP_URI_MAX + 1], n2[PP_URI_MAX + 1], n3[PP_URI_MAX + 1];
	int rc, up;

	if (size > IN_MAX)
		size = IN_MAX;
	memcpy(in, data, size);
	in[size] = '\0';
	rc = sipuri_normalize(in, n);
	if (rc != 0 && (rc != -1 || pp_errcode() != PP_EINVAL))
		fuzz_fail("refused without -1 and PP_EINVAL");
	if (rc == 0) {
		check_form(n);
		if (sipuri_normalize(n, n2) != 0)
			fuzz_fail("a normal form is not valid");
		if (strcmp(n, n2) != 0)
			fuzz_fail("normalizing is not idempotent");
	}
	for (up = 0; up < 2; up++) {
		recase(in, other, up);
		if ((sipuri_normalize(other, n3) == 0) != (rc == 0))
			fuzz_fail("valid in one case, not in the other");
		if (rc == 0 && strcmp(n, n3) != 0)
			fuzz_fail("another normal form in another case");
	}
	return (0);
}
