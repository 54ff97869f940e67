/**
 * \file
 * Unit tests for the MTA-STS policy parser and MX matcher
 * (probes/sts_policy.c): a table of policy bodies with the expected mode,
 * max_age and mx list or error and line, covering every error code, line
 * ends (LF, CRLF, none at the end, bare CR), blank lines, max_age bounds,
 * duplicate and unknown keys, NUL and non-ASCII bytes, the mx bound, and a
 * table of pattern syntax and matching cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "probes/sts_policy.h"

#define B(s) (const uint8_t *)(s), sizeof(s) - 1

struct case_policy {
	const uint8_t *body;
	size_t len;
	enum mxc_sts_perr error;
	unsigned line;
	enum mxc_sts_mode mode;
	uint32_t max_age;
	const char *mx; /* expected patterns joined with ',' */
};

#define OK(body, mode, age, mx) { B(body), MXC_STS_OK, 0, mode, age, mx }
#define BAD(body, err, line) { B(body), err, line, MXC_STS_MODE_UNSET, 0, "" }

static const struct case_policy policy_cases[] = {
	OK("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n",
	   MXC_STS_MODE_ENFORCE, 604800, "mail.example.com,*.example.net"),
	OK("version: STSv1\r\nmode: testing\r\nmx: mx1.example.com\r\nmax_age: 86400\r\n",
	   MXC_STS_MODE_TESTING, 86400, "mx1.example.com"),
	/* No final line end; fields in any order; WSP around values. */
	OK("max_age:86400\nmx:\t a.example \nmode: enforce\nversion: STSv1",
	   MXC_STS_MODE_ENFORCE, 86400, "a.example"),
	/* Mixed line ends, unknown keys ignored, blank lines skipped. */
	OK("version: STSv1\r\n\nfoo_bar: some value\n  \r\nmode: enforce\nmx: A.Example.COM\nmax_age: 0\n\n",
	   MXC_STS_MODE_ENFORCE, 0, "A.Example.COM"),
	OK("version: STSv1\nmode: none\nmax_age: 31557600\n", MXC_STS_MODE_NONE, 31557600, ""),
	OK("version: STSv1\nmode: none\nmx: m.example\nmax_age: 0000000001\n",
	   MXC_STS_MODE_NONE, 1, "m.example"),
	OK("version: STSv1\nmode: enforce\nmx: xn--bcher-kva.example\nmx: a-b.c1\nmax_age: 5",
	   MXC_STS_MODE_ENFORCE, 5, "xn--bcher-kva.example,a-b.c1"),

	BAD("", MXC_STS_ERR_MISSING_VERSION, 0),
	BAD("\n\r\n  \n", MXC_STS_ERR_MISSING_VERSION, 0),
	BAD("mode: enforce\nmx: a.example\nmax_age: 1\n", MXC_STS_ERR_MISSING_VERSION, 0),
	BAD("version: STSv1\nmx: a.example\nmax_age: 1\n", MXC_STS_ERR_MISSING_MODE, 0),
	BAD("version: STSv1\nmode: enforce\nmx: a.example\n", MXC_STS_ERR_MISSING_MAX_AGE, 0),
	BAD("version: STSv1\nmode: enforce\nmax_age: 1\n", MXC_STS_ERR_MISSING_MX, 0),
	BAD("version: STSv1\nmode: testing\nmax_age: 1\n", MXC_STS_ERR_MISSING_MX, 0),
	BAD("version: STSv2\nmode: enforce\n", MXC_STS_ERR_VERSION, 1),
	BAD("version: stsv1\n", MXC_STS_ERR_VERSION, 1),
	BAD("version: STSv1 x\n", MXC_STS_ERR_VERSION, 1),
	BAD("version: STSv1\nmode: Enforce\n", MXC_STS_ERR_MODE, 2),
	BAD("version: STSv1\nmode: reject\n", MXC_STS_ERR_MODE, 2),
	BAD("version: STSv1\nmode: enforce\nmax_age: 31557601\n", MXC_STS_ERR_MAX_AGE, 3),
	BAD("version: STSv1\nmode: enforce\nmax_age: 99999999999999999999999\n", MXC_STS_ERR_MAX_AGE, 3),
	BAD("version: STSv1\nmode: enforce\nmax_age: 4294967296\n", MXC_STS_ERR_MAX_AGE, 3),
	BAD("version: STSv1\nmode: enforce\nmax_age: -1\n", MXC_STS_ERR_MAX_AGE, 3),
	BAD("version: STSv1\nmode: enforce\nmax_age: 1e3\n", MXC_STS_ERR_MAX_AGE, 3),
	BAD("version: STSv1\nmode: enforce\nmax_age: 1 2\n", MXC_STS_ERR_MAX_AGE, 3),
	BAD("version: STSv1\nmode: enforce\nmax_age: +5\n", MXC_STS_ERR_MAX_AGE, 3),
	BAD("version: STSv1\nmx: *.\n", MXC_STS_ERR_MX, 2),
	BAD("version: STSv1\nmx: *\n", MXC_STS_ERR_MX, 2),
	BAD("version: STSv1\nmx: a.*.example\n", MXC_STS_ERR_MX, 2),
	BAD("version: STSv1\nmx: *a.example\n", MXC_STS_ERR_MX, 2),
	BAD("version: STSv1\nmx: mail.example.com.\n", MXC_STS_ERR_MX, 2),
	BAD("version: STSv1\nmx: -a.example\n", MXC_STS_ERR_MX, 2),
	BAD("version: STSv1\nmx: a-.example\n", MXC_STS_ERR_MX, 2),
	BAD("version: STSv1\nmx: a..example\n", MXC_STS_ERR_MX, 2),
	BAD("version: STSv1\nmx: a_b.example\n", MXC_STS_ERR_MX, 2),
	BAD("version: STSv1\nmx: a.example b.example\n", MXC_STS_ERR_MX, 2),
	BAD("version: STSv1\nmx: b\xc3\xbc" "cher.example\n", MXC_STS_ERR_MX, 2),
	BAD("version: STSv1\nmx: a\0.example\n", MXC_STS_ERR_MX, 2),
	BAD("version: STSv1\nversion: STSv1\n", MXC_STS_ERR_DUPLICATE, 2),
	BAD("version: STSv1\nmode: none\nmode: none\n", MXC_STS_ERR_DUPLICATE, 3),
	BAD("max_age: 1\nmax_age: 1\n", MXC_STS_ERR_DUPLICATE, 2),
	BAD("version STSv1\n", MXC_STS_ERR_SYNTAX, 1),
	BAD("version:\nmode: enforce\n", MXC_STS_ERR_SYNTAX, 1),
	BAD("version:   \n", MXC_STS_ERR_SYNTAX, 1),
	BAD("version : STSv1\n", MXC_STS_ERR_SYNTAX, 1),
	BAD(" version: STSv1\n", MXC_STS_ERR_SYNTAX, 1),
	BAD(": x\n", MXC_STS_ERR_SYNTAX, 1),
	BAD("version: STSv1\nunknown: bad\x01value\n", MXC_STS_ERR_SYNTAX, 2),
	BAD("version: STSv1\nunknown: caf\xc3\xa9\n", MXC_STS_ERR_SYNTAX, 2),
	BAD("version: STSv1\n_x: y\n", MXC_STS_ERR_SYNTAX, 2),
	BAD("version: STSv1\nx\0y: z\n", MXC_STS_ERR_SYNTAX, 2),
	/* A bare CR is no line end: it stays inside the value and spoils it. */
	BAD("version: STSv1\rmode: enforce\n", MXC_STS_ERR_VERSION, 1),
	BAD("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\r", MXC_STS_ERR_MAX_AGE, 4),
	BAD("version: STSv1\nVersion: STSv1\n", MXC_STS_ERR_MISSING_MODE, 0),
};

static void join_mx(const struct mxc_sts_policy *p, char *buf, size_t size)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < p->n_mx; i++) {
		int w = snprintf(buf + used, size - used, "%s%s", i ? "," : "", p->mx[i]);

		assert_true(w >= 0 && (size_t)w < size - used);
		used += (size_t)w;
	}
}

static void test_policy_table(void **state)
{
	static struct mxc_sts_policy p;
	char mx[4096];
	size_t i;

	for (i = 0; i < sizeof(policy_cases) / sizeof(policy_cases[0]); i++) {
		const struct case_policy *c = &policy_cases[i];

		print_message("policy case %zu\n", i);
		assert_int_equal(mxc_sts_policy_parse(c->body, c->len, &p), 0);
		assert_string_equal(mxc_sts_perr_name(p.error), mxc_sts_perr_name(c->error));
		assert_int_equal(p.line, c->line);
		assert_string_equal(mxc_sts_mode_name(p.mode), mxc_sts_mode_name(c->mode));
		assert_int_equal(p.max_age, c->max_age);
		join_mx(&p, mx, sizeof(mx));
		assert_string_equal(mx, c->mx);
	}
}

/* Build "version/mode/max_age" plus n mx lines into buf; returns length. */
static size_t many_mx(char *buf, size_t size, size_t n, size_t label_len)
{
	size_t used, i;
	int w;

	w = snprintf(buf, size, "version: STSv1\nmode: enforce\nmax_age: 86400\n");
	assert_true(w > 0);
	used = (size_t)w;
	for (i = 0; i < n; i++) {
		w = snprintf(buf + used, size - used, "mx: %0*zu.example\n", (int)label_len, i);
		assert_true(w > 0 && (size_t)w < size - used);
		used += (size_t)w;
	}
	return used;
}

static void test_policy_bounds(void **state)
{
	static struct mxc_sts_policy p;
	static char buf[MXC_STS_POLICY_MAX + 2];
	static char longmx[512];
	size_t len, i;
	int w;

	len = many_mx(buf, sizeof(buf), MXC_STS_MAX_MX, 5);
	assert_int_equal(mxc_sts_policy_parse((const uint8_t *)buf, len, &p), 0);
	assert_int_equal(p.error, MXC_STS_OK);
	assert_int_equal(p.n_mx, MXC_STS_MAX_MX);
	assert_string_equal(p.mx[MXC_STS_MAX_MX - 1], "00063.example");

	len = many_mx(buf, sizeof(buf), MXC_STS_MAX_MX + 1, 5);
	assert_int_equal(mxc_sts_policy_parse((const uint8_t *)buf, len, &p), 0);
	assert_int_equal(p.error, MXC_STS_ERR_TOO_MANY_MX);
	assert_int_equal(p.line, 3 + MXC_STS_MAX_MX + 1);
	assert_int_equal(p.n_mx, 0);

	/* A 253-byte pattern is kept whole; 254 bytes is an mx error. Labels
	 * of 63 bytes are allowed, 64 are not. */
	memset(longmx, 0, sizeof(longmx));
	for (i = 0; i < 253; i++)
		longmx[i] = (i % 64 == 63) ? '.' : 'a';
	assert_true(mxc_sts_mx_pattern_valid(longmx, 253));
	w = snprintf(buf, sizeof(buf), "version: STSv1\nmode: enforce\nmax_age: 1\nmx: %s\n", longmx);
	assert_int_equal(mxc_sts_policy_parse((const uint8_t *)buf, (size_t)w, &p), 0);
	assert_int_equal(p.error, MXC_STS_OK);
	assert_string_equal(p.mx[0], longmx);
	longmx[253] = 'a';
	assert_false(mxc_sts_mx_pattern_valid(longmx, 254));
	w = snprintf(buf, sizeof(buf), "version: STSv1\nmode: enforce\nmax_age: 1\nmx: %s\n", longmx);
	assert_int_equal(mxc_sts_policy_parse((const uint8_t *)buf, (size_t)w, &p), 0);
	assert_int_equal(p.error, MXC_STS_ERR_MX);
	assert_int_equal(p.line, 4);
	memset(longmx, 'a', 64);
	longmx[64] = '\0';
	assert_false(mxc_sts_mx_pattern_valid(longmx, 64));
	assert_true(mxc_sts_mx_pattern_valid(longmx, 63));

	/* The caller's 64 KiB bound: exactly the limit parses, one more byte
	 * is refused. */
	memset(buf, '\n', sizeof(buf));
	{
		static const char head[] = "version: STSv1\nmode: none\nmax_age: 1\n";

		memcpy(buf, head, sizeof(head) - 1);
	}
	assert_int_equal(mxc_sts_policy_parse((const uint8_t *)buf, MXC_STS_POLICY_MAX, &p), 0);
	assert_int_equal(p.error, MXC_STS_OK);
	assert_int_equal(p.mode, MXC_STS_MODE_NONE);
	assert_int_equal(mxc_sts_policy_parse((const uint8_t *)buf, MXC_STS_POLICY_MAX + 1, &p),
			 MXC_ETOOBIG);
	assert_int_equal(mxc_sts_policy_parse(NULL, 1, &p), MXC_EINVAL);
	assert_int_equal(mxc_sts_policy_parse((const uint8_t *)buf, 1, NULL), MXC_EINVAL);
	assert_int_equal(mxc_sts_policy_parse(NULL, 0, &p), 0);
	assert_int_equal(p.error, MXC_STS_ERR_MISSING_VERSION);
}

struct case_match {
	const char *pattern;
	const char *host;
	bool match;
};

static const struct case_match match_cases[] = {
	{ "mail.example.com", "mail.example.com", true },
	{ "mail.example.com", "MAIL.Example.COM", true },
	{ "Mail.Example.Com", "mail.example.com.", true },
	{ "mail.example.com.", "mail.example.com", true },
	{ "mail.example.com", "mail.example.co", false },
	{ "mail.example.com", "xmail.example.com", false },
	{ "mail.example.com", "mx.mail.example.com", false },
	{ "*.example.com", "mx1.example.com", true },
	{ "*.example.com", "MX1.EXAMPLE.COM.", true },
	{ "*.Example.com", "a.example.com", true },
	{ "*.example.com", "example.com", false },
	{ "*.example.com", "a.b.example.com", false },
	{ "*.example.com", ".example.com", false },
	{ "*.example.com", "a.example.com.evil", false },
	{ "*.example.com", "aexample.com", false },
	{ "*.", "a.", false },
	{ "*.com", "example.com", true },
	{ "", "", false },
	{ ".", ".", false },
	{ "example.com", "", false },
	{ "", "example.com", false },
	{ "a.example", "a.example..", false },
};

static void test_mx_matches(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		print_message("match case %zu: %s %s\n", i, match_cases[i].pattern, match_cases[i].host);
		assert_int_equal(mxc_sts_mx_matches(match_cases[i].pattern, match_cases[i].host),
				 match_cases[i].match);
	}
	assert_false(mxc_sts_mx_matches(NULL, "a.example"));
	assert_false(mxc_sts_mx_matches("a.example", NULL));
}

static void test_names(void **state)
{
	assert_string_equal(mxc_sts_perr_name(MXC_STS_ERR_MISSING_MAX_AGE), "missing-max-age");
	assert_string_equal(mxc_sts_perr_name(MXC_STS_ERR_TOO_MANY_MX), "too-many-mx");
	assert_string_equal(mxc_sts_perr_name((enum mxc_sts_perr)99), "?");
	assert_string_equal(mxc_sts_mode_name(MXC_STS_MODE_TESTING), "testing");
	assert_string_equal(mxc_sts_mode_name(MXC_STS_MODE_UNSET), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_table),
		cmocka_unit_test(test_policy_bounds),
		cmocka_unit_test(test_mx_matches),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
