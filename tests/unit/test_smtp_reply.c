/**
 * \file
 * Unit tests for the SMTP reply, EHLO and stripping parsers
 * (probes/smtp_reply.c): tables of byte strings with the expected outcome
 * (complete, incomplete, or the error reason), code, line count, flags and
 * consumed length; EHLO replies with the expected extensions, SIZE and
 * stripping evidence; and the stripped-keyword rule on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "probes/smtp_reply.h"

/* A string literal with its length; sizeof keeps embedded NULs. */
#define B(s) (const uint8_t *)(s), sizeof(s) - 1

struct reply_case {
	const uint8_t *in;
	size_t len;
	int rc;            /* 1 complete, 0 incomplete, MXC_EPARSE */
	int code;
	size_t nlines;
	unsigned flags;
	size_t consumed;   /* 0: the whole input */
	const char *first; /* text of the first line, or the error */
};

static const struct reply_case reply_cases[] = {
	{ B("220 mx.test ESMTP\r\n"), 1, 220, 1, 0, 0, "mx.test ESMTP" },
	{ B("220 mx.test ESMTP\n"), 1, 220, 1, MXC_SMTP_REPLY_BARE_LF, 0, "mx.test ESMTP" },
	{ B("220\r\n"), 1, 220, 1, MXC_SMTP_REPLY_NO_SEP, 0, "" },
	{ B("220 \r\n"), 1, 220, 1, 0, 0, "" },
	{ B("220-a\r\n220-b\r\n220 c\r\n"), 1, 220, 3, 0, 0, "a" },
	{ B("220-a\r\n220 b\r\n250 next\r\n"), 1, 220, 2, 0, 14, "a" },
	{ B("250-a\n250 b\r\n"), 1, 250, 2, MXC_SMTP_REPLY_BARE_LF, 0, "a" },
	{ B("554 5.7.1 go away\r\n"), 1, 554, 1, 0, 0, "5.7.1 go away" },
	{ B("220 a\0b\r\n"), 1, 220, 1, 0, 0, NULL },
	/* Incomplete: no line end yet, or a continuation without the end. */
	{ B(""), 0, 0, 0, 0, 0, NULL },
	{ B("220 mx.test"), 0, 0, 0, 0, 0, NULL },
	{ B("220-a\r\n"), 0, 0, 0, 0, 0, NULL },
	{ B("220-a\r\n220-b\r\n22"), 0, 0, 0, 0, 0, NULL },
	{ B("220 a\r"), 0, 0, 0, 0, 0, NULL },
	/* Not a reply. */
	{ B("hello\r\n"), MXC_EPARSE, 0, 0, 0, 0, "syntax" },
	{ B("22\r\n"), MXC_EPARSE, 0, 0, 0, 0, "syntax" },
	{ B("\r\n"), MXC_EPARSE, 0, 0, 0, 0, "syntax" },
	{ B("220_x\r\n"), MXC_EPARSE, 0, 0, 0, 0, "syntax" },
	{ B("22a x\r\n"), MXC_EPARSE, 0, 0, 0, 0, "syntax" },
	{ B("120 x\r\n"), MXC_EPARSE, 0, 0, 0, 0, "bad-code" },
	{ B("620 x\r\n"), MXC_EPARSE, 0, 0, 0, 0, "bad-code" },
	{ B("260 x\r\n"), MXC_EPARSE, 0, 0, 0, 0, "bad-code" },
	{ B("220-a\r\n250 b\r\n"), MXC_EPARSE, 0, 0, 0, 0, "code-mismatch" },
	{ B("220-a\r\nxyz\r\n"), MXC_EPARSE, 0, 0, 0, 0, "syntax" },
	/* An error on a complete line wins over waiting for more. */
	{ B("220-a\r\n250-b\r\n220"), MXC_EPARSE, 0, 0, 0, 0, "code-mismatch" },
};

static void test_reply_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
		const struct reply_case *c = &reply_cases[i];
		struct mxc_smtp_reply r;
		int rc = mxc_smtp_reply_parse(c->in, c->len, &r);

		if (rc != c->rc)
			fail_msg("case %zu: rc %d, expected %d (%s)", i, rc, c->rc,
				 r.error ? r.error : "-");
		if (rc < 0) {
			assert_string_equal(r.error, c->first);
			continue;
		}
		if (rc == 0)
			continue;
		assert_int_equal(r.code, c->code);
		assert_int_equal(r.nlines, c->nlines);
		if (r.flags != c->flags)
			fail_msg("case %zu: flags %#x, expected %#x", i, r.flags, c->flags);
		assert_int_equal(r.consumed, c->consumed ? c->consumed : c->len);
		if (c->first) {
			assert_int_equal(r.text[0].len, strlen(c->first));
			assert_memory_equal(c->in + r.text[0].off, c->first, r.text[0].len);
		}
	}
}

static void test_reply_limits(void **state)
{
	static uint8_t buf[MXC_SMTP_LINE_MAX * 2 + 64];
	struct mxc_smtp_reply r;
	size_t i, n;

	(void)state;
	/* A line of exactly the cap (with CRLF) is taken and flagged long. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "250 ", 4);
	buf[MXC_SMTP_LINE_MAX - 2] = '\r';
	buf[MXC_SMTP_LINE_MAX - 1] = '\n';
	assert_int_equal(mxc_smtp_reply_parse(buf, MXC_SMTP_LINE_MAX, &r), 1);
	assert_true(r.flags & MXC_SMTP_REPLY_LONG_LINE);
	assert_int_equal(r.text[0].len, MXC_SMTP_LINE_MAX - 6);
	/* One byte more is an error, whether the line end came or not. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "250 ", 4);
	buf[MXC_SMTP_LINE_MAX - 1] = '\r';
	buf[MXC_SMTP_LINE_MAX] = '\n';
	assert_int_equal(mxc_smtp_reply_parse(buf, MXC_SMTP_LINE_MAX + 1, &r), MXC_EPARSE);
	assert_string_equal(r.error, "line-too-long");
	assert_int_equal(mxc_smtp_reply_parse(buf, MXC_SMTP_LINE_MAX - 1, &r), 0);
	/* A line of 512 octets with CRLF is within RFC 5321; 513 is not. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "250 ", 4);
	memcpy(buf + 510, "\r\n", 2);
	assert_int_equal(mxc_smtp_reply_parse(buf, 512, &r), 1);
	assert_false(r.flags & MXC_SMTP_REPLY_LONG_LINE);
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "250 ", 4);
	memcpy(buf + 511, "\r\n", 2);
	assert_int_equal(mxc_smtp_reply_parse(buf, 513, &r), 1);
	assert_true(r.flags & MXC_SMTP_REPLY_LONG_LINE);
	/* MXC_SMTP_LINES_MAX lines fit; one more continuation does not. */
	for (n = 0, i = 0; i < MXC_SMTP_LINES_MAX; i++) {
		memcpy(buf + n, i + 1 == MXC_SMTP_LINES_MAX ? "220 x\r\n" : "220-x\r\n", 7);
		n += 7;
	}
	assert_int_equal(mxc_smtp_reply_parse(buf, n, &r), 1);
	assert_int_equal(r.nlines, MXC_SMTP_LINES_MAX);
	memcpy(buf + n - 7, "220-x\r\n220 x\r\n", 14);
	assert_int_equal(mxc_smtp_reply_parse(buf, n + 7, &r), MXC_EPARSE);
	assert_string_equal(r.error, "too-many-lines");
}

struct ehlo_case {
	const uint8_t *in;
	size_t len;
	unsigned ext;
	uint64_t size;
	unsigned unknown, malformed;
	const char *stripped; /* keyword, or NULL */
};

static const struct ehlo_case ehlo_cases[] = {
	{ B("250 mx.test\r\n"), 0, 0, 0, 0, NULL },
	{ B("250-mx.test Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n"
	    "250 8BITMIME\r\n"),
	  MXC_EHLO_PIPELINING | MXC_EHLO_SIZE | MXC_EHLO_STARTTLS | MXC_EHLO_8BITMIME, 10240000, 0, 0,
	  NULL },
	/* Keywords are case-insensitive; the greeting line is no keyword. */
	{ B("250-STARTTLS\r\n250-starttls\r\n250 Size\r\n"), MXC_EHLO_STARTTLS | MXC_EHLO_SIZE, 0, 0,
	  0, NULL },
	{ B("250-mx\r\n250-XXXXXXXA\r\n250 8BITMIME\r\n"), MXC_EHLO_8BITMIME, 0, 1, 0, "XXXXXXXA" },
	{ B("250-mx\r\n250-XXXXXXXX\r\n250 SIZE\r\n"), MXC_EHLO_SIZE, 0, 1, 0, "XXXXXXXX" },
	{ B("250-mx\r\n250-STARTXXX\r\n"), 0, 0, 0, 0, NULL }, /* incomplete: not parsed */
	{ B("250-mx\r\n250-STARTXXX\r\n250 DSN\r\n"), MXC_EHLO_DSN, 0, 1, 0, "STARTXXX" },
	{ B("250-mx\r\n250-XFORWARD NAME ADDR\r\n250-XCLIENT x\r\n250 AUTH PLAIN LOGIN\r\n"),
	  MXC_EHLO_AUTH, 0, 2, 0, NULL },
	{ B("250-mx\r\n250--bad\r\n250- \r\n250-SIZE x1\r\n250 CHUNKING\r\n"),
	  MXC_EHLO_SIZE | MXC_EHLO_CHUNKING, 0, 0, 2, NULL },
	{ B("250-mx\r\n250-SIZE 99999999999999999999999\r\n250-SMTPUTF8\r\n250-REQUIRETLS\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250 BINARYMIME\r\n"),
	  MXC_EHLO_SIZE | MXC_EHLO_SMTPUTF8 | MXC_EHLO_REQUIRETLS | MXC_EHLO_ENHANCEDSTATUSCODES |
	  MXC_EHLO_BINARYMIME, 0, 0, 0, NULL },
	{ B("250-mx\n250-STARTTLS\n250 SIZE 0\n"), MXC_EHLO_STARTTLS | MXC_EHLO_SIZE, 0, 0, 0, NULL },
};

static void test_ehlo_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ehlo_cases) / sizeof(ehlo_cases[0]); i++) {
		const struct ehlo_case *c = &ehlo_cases[i];
		struct mxc_smtp_reply r;
		struct mxc_ehlo e;

		if (mxc_smtp_reply_parse(c->in, c->len, &r) != 1) {
			assert_int_equal(c->ext, 0); /* the incomplete case */
			continue;
		}
		assert_int_equal(mxc_ehlo_parse(c->in, &r, &e), 0);
		if (e.ext != c->ext)
			fail_msg("case %zu: ext %#x, expected %#x", i, e.ext, c->ext);
		assert_int_equal(e.size, c->size);
		assert_int_equal(e.unknown, c->unknown);
		assert_int_equal(e.malformed, c->malformed);
		assert_int_equal(e.stripped, c->stripped != NULL);
		assert_string_equal(e.stripped_keyword, c->stripped ? c->stripped : "");
	}
}

static void test_ehlo_not_250(void **state)
{
	const uint8_t in[] = "502 5.5.2 EHLO not supported\r\n";
	struct mxc_smtp_reply r;
	struct mxc_ehlo e;

	(void)state;
	assert_int_equal(mxc_smtp_reply_parse(in, sizeof(in) - 1, &r), 1);
	assert_int_equal(mxc_ehlo_parse(in, &r, &e), MXC_EINVAL);
	assert_int_equal(e.ext, 0);
}

static void test_stripped_keyword(void **state)
{
	static const struct {
		const char *kw;
		int stripped;
	} cases[] = {
		{ "XXXXXXXA", 1 }, { "XXXXXXXX", 1 }, { "xxxxxxxa", 1 }, { "STARTXXX", 1 },
		{ "XTARTTLS", 1 }, { "SXXRTTLX", 1 }, { "XXXXXXAB", 1 },
		{ "STARTTLS", 0 }, { "starttls", 0 }, { "XFORWARD", 0 }, { "CHUNKING", 0 },
		{ "8BITMIME", 0 }, { "SMTPUTF8", 0 }, { "XXXXXXX", 0 }, { "XXXXXXXXX", 0 },
		{ "XXXXXABC", 0 }, { "STARTTLZ", 0 }, { "", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (mxc_ehlo_keyword_stripped((const uint8_t *)cases[i].kw, strlen(cases[i].kw)) !=
		    cases[i].stripped)
			fail_msg("%s: expected %d", cases[i].kw, cases[i].stripped);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_table),
		cmocka_unit_test(test_reply_limits),
		cmocka_unit_test(test_ehlo_table),
		cmocka_unit_test(test_ehlo_not_250),
		cmocka_unit_test(test_stripped_keyword),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
