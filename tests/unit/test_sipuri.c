/* test_sipuri.c: SIP URI normalization (sipuri.h) and the util.h validators. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "pp_limits.h"
#include "sipuri.h"
#include "util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Normalize ${in}, expecting success with normal form ${want}. */
static void
expect_norm(const char *in, const char *want)
{
	char out[PP_URI_MAX + 1];

	pp_err_clear();
	if (sipuri_normalize(in, out) != 0)
		fail_msg("'%s' refused: %s", in, pp_errmsg());
	if (strcmp(out, want) != 0)
		fail_msg("'%s' normalized to '%s', expected '%s'", in, out,
		    want);
}

/* Normalize ${in}, expecting PP_EINVAL with a message (containing ${why}). */
static void
expect_refused(const char *in, const char *why)
{
	char out[PP_URI_MAX + 1];

	pp_err_clear();
	if (sipuri_normalize(in, out) == 0)
		fail_msg("'%s' accepted as '%s'", in, out);
	if (pp_errcode() != PP_EINVAL)
		fail_msg("'%s': error class %d, expected PP_EINVAL", in,
		    (int)pp_errcode());
	if (pp_errmsg()[0] == '\0')
		fail_msg("'%s': refused without a message", in);
	if (why != NULL && strstr(pp_errmsg(), why) == NULL)
		fail_msg("'%s': message '%s' does not mention '%s'", in,
		    pp_errmsg(), why);
}

static void
test_sipuri_accepts_and_normalizes(void **state)
{
	static const char *const t[][2] = {
		{ "sip:alice@example.com", "sip:alice@example.com" },
		{ "SIP:Alice@Example.COM", "sip:alice@example.com" },
		{ "sips:Bob@Pool-A.Example.Test",
		    "sips:bob@pool-a.example.test" },
		{ "SiPs:x@y.z", "sips:x@y.z" },
		{ "sip:+15551234@example.com", "sip:+15551234@example.com" },
		{ "sip:alice@123.example.com", "sip:alice@123.example.com" },
		{ "sip:a.b-c_d!~*'()@example.com",
		    "sip:a.b-c_d!~*'()@example.com" },
		{ "sip:A&B=C+D$E,F/G@example.com",
		    "sip:a&b=c+d$e,f/g@example.com" },
		/* escapes of unreserved characters are decoded, lowercased */
		{ "sip:%61lice@example.com", "sip:alice@example.com" },
		{ "sip:%41LICE@example.com", "sip:alice@example.com" },
		{ "sip:a%7eb%2Dc%5fd%2e@example.com",
		    "sip:a~b-c_d.@example.com" },
		{ "sip:%30%39@example.com", "sip:09@example.com" },
		/* reserved and other escapes stay escaped, hex uppercased */
		{ "sip:a%2fb@example.com", "sip:a%2Fb@example.com" },
		{ "sip:a%2Fb@example.com", "sip:a%2Fb@example.com" },
		{ "sip:a%40b@example.com", "sip:a%40b@example.com" },
		{ "sip:a%3bb@example.com", "sip:a%3Bb@example.com" },
		{ "sip:a%20b@example.com", "sip:a%20b@example.com" },
		{ "sip:caf%c3%a9@example.com", "sip:caf%C3%A9@example.com" },
		/* a trailing dot on the host is dropped */
		{ "sip:alice@example.com.", "sip:alice@example.com" },
		{ "sip:alice@EXAMPLE.COM.", "sip:alice@example.com" },
	};
	char once[PP_URI_MAX + 1], twice[PP_URI_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		expect_norm(t[i][0], t[i][1]);
		/* The normal form is a fixed point. */
		assert_int_equal(sipuri_normalize(t[i][0], once), 0);
		assert_int_equal(sipuri_normalize(once, twice), 0);
		assert_string_equal(once, twice);
	}
}

static void
test_sipuri_equivalent_forms_collide(void **state)
{
	static const char *const same[] = {
		"sip:alice@example.com", "SIP:ALICE@EXAMPLE.COM",
		"sip:%61lice@example.com", "sip:%41lice@Example.Com.",
		"Sip:aLiCe@example.com",
	};
	char a[PP_URI_MAX + 1], b[PP_URI_MAX + 1];
	size_t i;

	(void)state;
	assert_int_equal(sipuri_normalize(same[0], a), 0);
	for (i = 1; i < NELEM(same); i++) {
		assert_int_equal(sipuri_normalize(same[i], b), 0);
		assert_string_equal(a, b);
	}
	/* sip: and sips: are different addresses; '/' and %2F too. */
	assert_int_equal(sipuri_normalize("sips:alice@example.com", b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(sipuri_normalize("sip:a/b@example.com", a), 0);
	assert_int_equal(sipuri_normalize("sip:a%2fb@example.com", b), 0);
	assert_string_not_equal(a, b);
}

static void
test_sipuri_refuses_shape(void **state)
{

	(void)state;
	expect_refused("tel:+15551234", "not a SIP URI");
	expect_refused("http://example.com/", "not a SIP URI");
	expect_refused("alice@example.com", "not a SIP URI");
	expect_refused("sipx:alice@example.com", NULL);
	expect_refused(" sip:alice@example.com", NULL);
	expect_refused("", NULL);
	expect_refused("sip:", NULL);
	expect_refused("sips:", NULL);
	expect_refused("sip:alice", "no user part");
	expect_refused("sip:example.com", "no user part");
	expect_refused("sip:@example.com", "empty user");
	expect_refused("sip:alice@", "host");
	expect_refused("sip:a@b@example.com", "more than one");
	expect_refused("sip:@@example.com", NULL);
	expect_refused("sip:alice:secret@example.com", "password");
	expect_refused("sip:alice:@example.com", "password");
	expect_refused("sip:alice@example.com:5060", "port");
	expect_refused("sip:alice@example.com;transport=tcp", "parameters");
	expect_refused("sip:alice;x=1@example.com", NULL);
	expect_refused("sip:alice@example.com?subject=hi", "headers");
	expect_refused("sip:alice?x=1@example.com", NULL);
	expect_refused("sip:alice@example.com ", NULL);
	expect_refused("sip:<alice>@example.com", NULL);
	expect_refused("sip:\"alice\"@example.com", NULL);
}

static void
test_sipuri_refuses_ip_hosts(void **state)
{

	(void)state;
	expect_refused("sip:alice@192.0.2.1", "IP");
	expect_refused("sip:alice@192.0.2.1.", "IP");
	expect_refused("sip:alice@10.0.0.1:5060", NULL);
	expect_refused("sip:alice@[2001:db8::1]", "IP literal");
	expect_refused("sip:alice@[::1]:5060", NULL);
	expect_refused("sip:alice@example.123", NULL);
}

static void
test_sipuri_refuses_bad_escapes(void **state)
{

	(void)state;
	expect_refused("sip:%4@example.com", "escape");
	expect_refused("sip:a%4@example.com", "escape");
	expect_refused("sip:a%@example.com", "escape");
	expect_refused("sip:%zz@example.com", "escape");
	expect_refused("sip:a%g1@example.com", "escape");
	expect_refused("sip:a%1g@example.com", "escape");
	expect_refused("sip:%00@example.com", "%00");
	expect_refused("sip:a%00b@example.com", "%00");
	expect_refused("sip:alice@ex%61mple.com", NULL);
}

static void
test_sipuri_refuses_control_and_non_ascii(void **state)
{

	(void)state;
	expect_refused("sip:al\tice@example.com", NULL);
	expect_refused("sip:al\nice@example.com", NULL);
	expect_refused("sip:al\x01ice@example.com", NULL);
	expect_refused("sip:al\x7fice@example.com", NULL);
	expect_refused("sip:al ice@example.com", NULL);
	expect_refused("sip:al\xc3\xad" "ce@example.com", NULL);
	expect_refused("sip:alice@exa\x01mple.com", NULL);
	expect_refused("sip:alice@exa\tmple.com", NULL);
	expect_refused("sip:alice@exa mple.com", NULL);
	expect_refused("sip:alice@b\xc3\xbc" "cher.example", NULL);
}

static void
test_sipuri_refuses_bad_host_labels(void **state)
{

	(void)state;
	expect_refused("sip:alice@-example.com", "domain name");
	expect_refused("sip:alice@example-.com", "domain name");
	expect_refused("sip:alice@example.-com", "domain name");
	expect_refused("sip:alice@example.com-", "domain name");
	expect_refused("sip:alice@ex..com", "domain name");
	expect_refused("sip:alice@.example.com", "domain name");
	expect_refused("sip:alice@example.com..", "domain name");
	expect_refused("sip:alice@.", NULL);
	expect_refused("sip:alice@localhost", "domain name");
	expect_refused("sip:alice@localhost.", "domain name");
	expect_refused("sip:alice@exa_mple.com", "domain name");
}

/* "sip:" + ${ulen} 'u's + "@example.com": 16 + ${ulen} bytes. */
static void
make_long(char *buf, size_t ulen)
{

	memcpy(buf, "sip:", 4);
	memset(buf + 4, 'u', ulen);
	strcpy(buf + 4 + ulen, "@example.com");
}

static void
test_sipuri_length_bounds(void **state)
{
	char in[2048], out[PP_URI_MAX + 1], host[PP_FQDN_MAX + 2];
	size_t i;

	(void)state;
	make_long(in, PP_URI_MAX - 16);
	assert_int_equal(strlen(in), PP_URI_MAX);
	expect_norm(in, in);
	make_long(in, PP_URI_MAX - 15);
	assert_int_equal(strlen(in), PP_URI_MAX + 1);
	expect_refused(in, "longer than");
	make_long(in, 1000);
	expect_refused(in, "longer than");
	/* Uppercase does not shrink: still too long. */
	make_long(in, PP_URI_MAX - 15);
	in[4] = 'U';
	expect_refused(in, "longer than");

	/*
	 * The bound is on the normal form: 100 escaped letters (317 bytes)
	 * are 117 bytes once decoded.  Escapes that stay escaped do not
	 * shrink: 80 of them fit in 256 bytes, one byte more does not.
	 */
	memcpy(in, "sip:", 4);
	for (i = 0; i < 100; i++)
		memcpy(in + 4 + 3 * i, "%61", 3);
	strcpy(in + 304, "@contoso.test");
	assert_int_equal(strlen(in), 317);
	assert_int_equal(sipuri_normalize(in, out), 0);
	assert_int_equal(strlen(out), 117);
	for (i = 0; i < 80; i++)
		memcpy(in + 4 + 3 * i, "%2F", 3);
	strcpy(in + 244, "@example.com");
	assert_int_equal(strlen(in), PP_URI_MAX);
	assert_int_equal(sipuri_normalize(in, out), 0);
	assert_string_equal(out, in);
	memcpy(in + 244, "u@example.com", 14);
	expect_refused(in, "longer than");

	/* A 63-byte label is a label; 64 bytes is not. */
	memset(host, 'h', 63);
	strcpy(host + 63, ".example.com");
	snprintf(in, sizeof(in), "sip:alice@%s", host);
	assert_int_equal(sipuri_normalize(in, out), 0);
	memset(host, 'h', 64);
	strcpy(host + 64, ".example.com");
	snprintf(in, sizeof(in), "sip:alice@%s", host);
	expect_refused(in, NULL);
}

/* util_text_ok(${s}, ${max}) must refuse with PP_EINVAL naming the field. */
static void
expect_text_bad(const char *s, size_t max)
{

	pp_err_clear();
	if (util_text_ok(s, max, "the-field") == 0)
		fail_msg("util_text_ok accepted \"%s\" (max %zu)", s, max);
	assert_int_equal(pp_errcode(), PP_EINVAL);
	assert_non_null(strstr(pp_errmsg(), "the-field"));
}

static void
test_text_ok_utf8(void **state)
{
	static const char *const good[] = {
		"a", "plain ASCII ~!@#$%^&*()", "h\xc3\xa9llo",	/* é */
		"\xc2\xa0",			/* U+00A0, first after C1 */
		"\xe2\x82\xac",			/* U+20AC */
		"\xed\x9f\xbf",		/* U+D7FF, before surrogates */
		"\xee\x80\x80",		/* U+E000, after surrogates */
		"\xef\xbf\xbd",			/* U+FFFD */
		"\xf0\x9f\x98\x80",		/* U+1F600 */
		"\xf4\x8f\xbf\xbf",		/* U+10FFFF */
	};
	static const char *const bad[] = {
		"\x01", "a\tb", "a\nb", "a\rb", "\x1f", "a\x7f",
		"\xc2\x80", "\xc2\x9f",		/* C1 controls */
		"\xc0\xaf", "\xc1\xbf",		/* overlong 2-byte */
		"\xe0\x80\xaf", "\xe0\x9f\xbf",	/* overlong 3-byte */
		"\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",	/* overlong 4 */
		"\xed\xa0\x80", "\xed\xbf\xbf",	/* surrogates */
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80",	/* > U+10FFFF */
		"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80",
		"\xfe", "\xff", "\x80", "a\xbf",	/* stray bytes */
		"\xc3", "\xe2\x82", "a\xf0\x9f\x98",	/* truncated */
		"\xc3\x28", "\xe2\x28\xa1", "\xf0\x9f\x28\x80",
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(good); i++)
		if (util_text_ok(good[i], 64, "text") != 0)
			fail_msg("good[%zu] refused: %s", i, pp_errmsg());
	for (i = 0; i < NELEM(bad); i++)
		expect_text_bad(bad[i], 64);
}

static void
test_text_ok_bounds(void **state)
{

	(void)state;
	expect_text_bad("", 10);
	assert_int_equal(util_text_ok("abcde", 5, "t"), 0);
	expect_text_bad("abcdef", 5);
	/* The bound is in bytes, not characters. */
	assert_int_equal(util_text_ok("\xc3\xa9\xc3\xa9", 4, "t"), 0);
	expect_text_bad("\xc3\xa9\xc3\xa9", 3);
	expect_text_bad("\xc3\xa9", 1);
	assert_int_equal(util_text_ok("x", 1, "t"), 0);
}

static void
test_fqdn_ok(void **state)
{
	static const char *const good[] = {
		"example.com", "a.b", "A.B", "a-b.example.com",
		"pool-a.example.test",
		"xn--bcher-kva.example", "1.2.3.example", "x1.y2",
	};
	static const char *const bad[] = {
		"", "com", "localhost", "example.com.", ".example.com", "a..b",
		"-a.com", "a-.com", "a.-b", "a.b-", "ex_ample.com",
		"exa mple.com", "a.b\n", "caf\xc3\xa9.example", ".", "..",
	};
	char name[PP_FQDN_MAX + 16];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(good); i++)
		if (util_fqdn_ok(good[i]) != 0)
			fail_msg("'%s' refused", good[i]);
	for (i = 0; i < NELEM(bad); i++) {
		pp_err_clear();
		if (util_fqdn_ok(bad[i]) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(pp_errcode(), PP_EINVAL);
	}
	/* Labels: 63 bytes fit, 64 do not. */
	memset(name, 'l', 63);
	strcpy(name + 63, ".com");
	assert_int_equal(util_fqdn_ok(name), 0);
	memset(name, 'l', 64);
	strcpy(name + 64, ".com");
	assert_int_equal(util_fqdn_ok(name), -1);
	/* The whole name: 253 bytes fit (63.63.63.61), 254 do not. */
	memset(name, 'l', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	assert_int_equal(util_fqdn_ok(name), 0);
	name[253] = 'l';
	name[254] = '\0';
	assert_int_equal(util_fqdn_ok(name), -1);
}

static void
test_time_parse_valid(void **state)
{
	static const struct { const char *s; int64_t t; } t[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1970-01-01T00:00Z", 0 },
		{ "2026-11-23T10:00:00Z", 1795428000 },
		{ "2026-11-23T10:00Z", 1795428000 },
		{ "2026-11-23T10:00:59Z", 1795428059 },
		{ "2024-02-29T12:00:00Z", 1709208000 },	/* leap year */
		{ "2000-02-29T00:00Z", 951782400 },	/* 400-year leap */
		{ "9999-12-31T23:59:59Z", 253402300799LL },
	};
	char buf[32];
	int64_t v, back;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		v = -1;
		if (util_time_parse(t[i].s, &v, "start") != 0)
			fail_msg("'%s' refused: %s", t[i].s, pp_errmsg());
		assert_int_equal(v, t[i].t);
		/* util_time_fmt gives a form that parses back. */
		util_time_fmt(buf, sizeof(buf), v);
		assert_int_equal(util_time_parse(buf, &back, "start"), 0);
		assert_int_equal(back, v);
	}
	util_time_fmt(buf, sizeof(buf), 1795428000);
	assert_string_equal(buf, "2026-11-23T10:00:00Z");
}

/* util_time_parse(${s}) must fail with PP_EINVAL naming the field. */
static void
expect_time_bad(const char *s)
{
	int64_t v;

	pp_err_clear();
	if (util_time_parse(s, &v, "the-start") == 0)
		fail_msg("time '%s' accepted as %lld", s, (long long)v);
	assert_int_equal(pp_errcode(), PP_EINVAL);
	assert_non_null(strstr(pp_errmsg(), "the-start"));
}

static void
test_time_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"2026-02-31T10:00:00Z", "2026-02-29T00:00Z",
		"2100-02-29T00:00Z",
		"2026-04-31T00:00Z", "2026-13-01T00:00Z", "2026-00-10T00:00Z",
		"2026-01-00T00:00Z", "2026-01-32T00:00Z", "2026-01-01T24:00Z",
		"2026-01-01T23:60Z", "2026-01-01T23:59:60Z",
		"1969-12-31T23:59:59Z", "2026-01-01T00:00:00",
		"2026-01-01 00:00:00Z", "2026-01-01T00:00:00+01:00",
		"2026-01-01T00:00:00Zjunk", "2026-01-01T00:00:00.5Z",
		"2026-01-01", "2026-01-01T00Z", "", "yesterday",
		"2026-01-01T-1:00Z", "2026-01-01T00:00:-1Z",
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++)
		expect_time_bad(bad[i]);
}

/*
 * The documented form is fixed-width digits: "YYYY-MM-DDTHH:MM[:SS]Z".
 * Fields with a sign, a space or a missing digit are not that form.
 */
static void
test_time_parse_strict_digits(void **state)
{
	static const char *const bad[] = {
		"2026-+1-05T10:00:00Z", "2026- 1-05T10:00:00Z",
		"2026-01-05T10:00:-0Z", "2026-01-05T+9:00Z",
		"2026-1-05T10:00:00Z", "2026-01-5T10:00Z", "2026-01-05T1:00Z",
	};
	int64_t v;
	size_t i, accepted = 0;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		if (util_time_parse(bad[i], &v, "start") == 0) {
			print_error("time '%s' accepted as %lld\n", bad[i],
			    (long long)v);
			accepted++;
		}
	}
	assert_int_equal(accepted, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sipuri_accepts_and_normalizes),
		cmocka_unit_test(test_sipuri_equivalent_forms_collide),
		cmocka_unit_test(test_sipuri_refuses_shape),
		cmocka_unit_test(test_sipuri_refuses_ip_hosts),
		cmocka_unit_test(test_sipuri_refuses_bad_escapes),
		cmocka_unit_test(test_sipuri_refuses_control_and_non_ascii),
		cmocka_unit_test(test_sipuri_refuses_bad_host_labels),
		cmocka_unit_test(test_sipuri_length_bounds),
		cmocka_unit_test(test_text_ok_utf8),
		cmocka_unit_test(test_text_ok_bounds),
		cmocka_unit_test(test_fqdn_ok),
		cmocka_unit_test(test_time_parse_valid),
		cmocka_unit_test(test_time_parse_invalid),
		cmocka_unit_test(test_time_parse_strict_digits),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
