/**
 * \file
 * Unit tests for mxc_name_normalize: a table of inputs with the expected
 * output or the expected rejection reason, covering case, trailing dots,
 * IDN conversion (IDNA 2008 non-transitional), the length limits at their
 * exact edges, and the character and hyphen rules. Every accepted name is
 * also normalised a second time to check that the output is a fixed point.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "scanner/input.h"

struct name_case {
	const char *in;
	const char *out; /* expected name, or NULL when rejected */
	const char *why; /* expected reason prefix when rejected */
};

static const struct name_case cases[] = {
	/* case, whitespace and the trailing dot */
	{ "example.com", "example.com", NULL },
	{ "Example.COM", "example.com", NULL },
	{ "example.com.", "example.com", NULL },
	{ "  example.com\t\r\n", "example.com", NULL },
	{ " EXAMPLE.com. ", "example.com", NULL },
	{ "example.com..", NULL, "empty label" },
	{ "", NULL, "empty name" },
	{ " \t ", NULL, "empty name" },
	{ ".", NULL, "root name" },
	{ "..", NULL, "leading dot" },
	{ ".example.com", NULL, "leading dot" },
	{ "a..b.com", NULL, "empty label" },
	/* IDN */
	{ "bücher.example", "xn--bcher-kva.example", NULL },
	{ "BÜCHER.example.", "xn--bcher-kva.example", NULL },
	{ "ÄÖÜ.de", "xn--4ca0bs.de", NULL },
	{ "äöü.de", "xn--4ca0bs.de", NULL },
	/* non-transitional: ß stays ß, it is not mapped to "ss" */
	{ "faß.de", "xn--fa-hia.de", NULL },
	/* NFC: "u" + COMBINING DIAERESIS is the same name as "ü" */
	{ "bu\xcc\x88" "cher.example", "xn--bcher-kva.example", NULL },
	{ "münchen.xn--p1ai", "xn--mnchen-3ya.xn--p1ai", NULL },
	{ "\xf0\x9f\x92\xa9.la", NULL, "IDN conversion failed" },	/* U+1F4A9 */
	{ "\xe2\x98\x83.com", NULL, "IDN conversion failed" },	/* U+2603 snowman */
	{ "\xff\xfe.com", NULL, "IDN conversion failed" },		/* not UTF-8 */
	{ "bücher..example", NULL, "empty label" },
	{ "bücher.example..", NULL, "empty label" },
	{ "bücher", NULL, "single label" },
	{ "bücher exa.com", NULL, "invalid character" },
	/* characters */
	{ "exa mple.com", NULL, "invalid character" },
	{ "exa$mple.com", NULL, "invalid character" },
	{ "exa/mple.com", NULL, "invalid character" },
	{ "exa\\046mple.com", NULL, "invalid character" },
	{ "_dmarc.example.com", "_dmarc.example.com", NULL },
	{ "_25._tcp.MX.example.com", "_25._tcp.mx.example.com", NULL },
	/* hyphens */
	{ "a-b.com", "a-b.com", NULL },
	{ "-ab.com", NULL, "label starts with hyphen" },
	{ "ab-.com", NULL, "label ends with hyphen" },
	{ "example.-com", NULL, "label starts with hyphen" },
	{ "example.com-", NULL, "label ends with hyphen" },
	{ "xn--bcher-kva.example", "xn--bcher-kva.example", NULL },
	{ "XN--BCHER-KVA.Example", "xn--bcher-kva.example", NULL },
	{ "ab--cd.com", "ab--cd.com", NULL },
	/* labels, numbers */
	{ "com", NULL, "single label" },
	{ "com.", NULL, "single label" },
	{ "1.2.3.4", NULL, "numeric top-level label" },
	{ "192.0.2.1.", NULL, "numeric top-level label" },
	{ "example.123", NULL, "numeric top-level label" },
	{ "123.example", "123.example", NULL },
	{ "example.x1", "example.x1", NULL },
	{ "0.example", "0.example", NULL },
};

static void check_case(const struct name_case *c)
{
	char out[MXC_NAME_MAX + 1], again[MXC_NAME_MAX + 1];
	const char *why = NULL;
	int rc = mxc_name_normalize(c->in, strlen(c->in), out, &why);

	if (c->out) {
		if (rc != 0)
			fail_msg("\"%s\": rejected (%s), expected \"%s\"", c->in,
				 why ? why : "?", c->out);
		assert_string_equal(out, c->out);
		/* idempotent */
		assert_int_equal(mxc_name_normalize(out, strlen(out), again, &why), 0);
		assert_string_equal(again, out);
	} else {
		if (rc == 0)
			fail_msg("\"%s\": accepted as \"%s\", expected rejection (%s)", c->in,
				 out, c->why);
		assert_int_equal(rc, MXC_ENAME);
		assert_non_null(why);
		if (strncmp(why, c->why, strlen(c->why)) != 0)
			fail_msg("\"%s\": reason \"%s\", expected \"%s\"", c->in, why, c->why);
	}
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

/* A label of @p n 'a's followed by ".com". */
static void label_name(char *buf, size_t n)
{
	memset(buf, 'a', n);
	memcpy(buf + n, ".com", 5);
}

static void test_label_limits(void **state)
{
	char in[128], out[MXC_NAME_MAX + 1];
	const char *why;

	(void)state;
	label_name(in, 63);
	assert_int_equal(mxc_name_normalize(in, strlen(in), out, &why), 0);
	assert_string_equal(out, in);
	label_name(in, 64);
	assert_int_equal(mxc_name_normalize(in, strlen(in), out, &why), MXC_ENAME);
	assert_string_equal(why, "label longer than 63");
	/* the last label too */
	memcpy(in, "example.", 8);
	memset(in + 8, 'b', 64);
	in[72] = '\0';
	assert_int_equal(mxc_name_normalize(in, strlen(in), out, &why), MXC_ENAME);
	assert_string_equal(why, "label longer than 63");
	/* an IDN label whose A-label is too long */
	memcpy(in, "\xc3\xbc", 2); /* ü, then 60 ASCII letters: 61 code points */
	memset(in + 2, 'a', 60);
	memcpy(in + 62, ".de", 4);
	assert_int_equal(mxc_name_normalize(in, strlen(in), out, &why), MXC_ENAME);
	assert_string_equal(why, "label longer than 63");
}

/* A name of exactly @p total octets: 63-octet labels, then a shorter one. */
static void long_name(char *buf, size_t total)
{
	size_t o = 0;

	while (o < total) {
		size_t n = total - o;

		if (o > 0) {
			buf[o++] = '.';
			n--;
		}
		if (n > 63)
			n = 63;
		/* keep the last label at least 2 octets and not all digits */
		if (total - o - n == 1)
			n--;
		memset(buf + o, 'x', n);
		o += n;
	}
	buf[o] = '\0';
}

static void test_name_limits(void **state)
{
	char in[300], *out;
	const char *why;

	(void)state;
	/* exactly the buffer size the contract promises, so ASan sees overruns */
	out = malloc(MXC_NAME_MAX + 1);
	assert_non_null(out);
	long_name(in, 253);
	assert_int_equal(strlen(in), 253);
	assert_int_equal(mxc_name_normalize(in, 253, out, &why), 0);
	assert_string_equal(out, in);
	/* with the trailing dot it is 254 characters and still fine */
	in[253] = '.';
	in[254] = '\0';
	assert_int_equal(mxc_name_normalize(in, 254, out, &why), 0);
	assert_int_equal(strlen(out), 253);
	long_name(in, 254);
	assert_int_equal(strlen(in), 254);
	assert_int_equal(mxc_name_normalize(in, 254, out, &why), MXC_ENAME);
	assert_string_equal(why, "name longer than 253");
	free(out);
}

static void test_length_argument(void **state)
{
	char out[MXC_NAME_MAX + 1];
	const char *why;

	(void)state;
	/* the length is honoured: bytes after it are not part of the name */
	assert_int_equal(mxc_name_normalize("example.comXYZ", 11, out, &why), 0);
	assert_string_equal(out, "example.com");
	/* an embedded NUL is a character like any other, and invalid */
	assert_int_equal(mxc_name_normalize("exa\0mple.com", 12, out, &why), MXC_ENAME);
	assert_string_equal(why, "invalid character");
	assert_int_equal(mxc_name_normalize("bü\0cher.com", 12, out, &why), MXC_ENAME);
	assert_string_equal(why, "invalid character");
	/* why may be NULL */
	assert_int_equal(mxc_name_normalize("com", 3, out, NULL), MXC_ENAME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_label_limits),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_length_argument),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
