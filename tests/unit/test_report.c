/**
 * \file
 * Unit tests of the report aggregation (analysis/report.c), its writers and
 * escaping (analysis/html.c, html_report.c) and the comparison of two runs
 * (analysis/compare.c).
 *
 * Rows are built here by column name, the way mxc_export_rows hands them
 * out, and fed straight to the aggregator, so every expected number below is
 * counted by hand from the rows of the test, not computed by the code under
 * test. Provider grouping uses libpsl's built-in list, so the multi-label
 * suffixes (co.uk) are the real ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/compare.h"
#include "analysis/export.h"
#include "analysis/html.h"
#include "analysis/report.h"
#include "common/alloc.h"
#include "common/error.h"

#define COLS_MAX 32

/* A row under construction: values by column name. */
struct row {
	const char *val[COLS_MAX];
};

static size_t col(const char *name)
{
	const struct mxc_export_col *cols;
	size_t n;

	cols = mxc_export_columns(MXC_EXPORT_DOMAINS, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(cols[i].name, name) == 0)
			return i;
	fail_msg("no column %s", name);
	return 0;
}

/* row_make(&r, "domain", "a.test", "dnssec", "secure", ..., NULL) */
static void row_make(struct row *r, ...)
{
	va_list ap;
	const char *k;

	memset(r, 0, sizeof(*r));
	va_start(ap, r);
	while ((k = va_arg(ap, const char *)) != NULL)
		r->val[col(k)] = va_arg(ap, const char *);
	va_end(ap);
}

static struct mxc_report *new_report(unsigned top, unsigned max_prov)
{
	struct mxc_report_opts o = { .top_providers = top, .max_providers = max_prov };
	struct mxc_report *r = NULL;
	char err[256];

	assert_int_equal(mxc_report_new(&o, &r, err, sizeof(err)), 0);
	return r;
}

static void add(struct mxc_report *r, struct row *row)
{
	assert_int_equal(mxc_report_add(r, row->val), 0);
}

/* The whole output of one writer, NUL-terminated; caller frees with free(). */
static char *render(struct mxc_report *r, enum mxc_out_format fmt, unsigned by)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(mxc_report_write(r, fmt, by, f, false), 0);
	fclose(f);
	return buf;
}

/* ------------------------------------------------------------------------ */

static void test_counts(void **state)
{
	struct mxc_report *r = new_report(0, 0);
	const struct mxc_report_counts *c;
	const struct mxc_report_group *g;
	struct row row;

	(void)state;
	row_make(&row, "domain", "a.test", "tld", "test", "mx_status", "ok", "mx_hosts",
		 "10:mx.a.test", "dnssec", "secure", "starttls", "all", "dane", "valid",
		 "mta_sts_mode", "enforce", "spf", "present", "dmarc", "reject",
		 "downgrade_exposure", "dane+mta-sts", NULL);
	add(r, &row);
	row_make(&row, "domain", "b.test", "tld", "test", "mx_status", "ok", "mx_hosts",
		 "10:mx.b.test", "dnssec", "insecure", "starttls", "some", "dane", "invalid",
		 "mta_sts_mode", "testing", "spf", "none", "dmarc", "quarantine",
		 "downgrade_exposure", "broken", NULL);
	add(r, &row);
	row_make(&row, "domain", "c.test", "tld", "test", "mx_status", "null-mx", "dnssec",
		 "bogus", "dmarc", "none", "downgrade_exposure", "no-mail", NULL);
	add(r, &row);
	/* A value the design does not list, and nothing measured. */
	row_make(&row, "domain", "d.example", "tld", "example", "mx_status", "implicit",
		 "mx_hosts", "0:d.example", "dnssec", "weird", "dane", "", NULL);
	add(r, &row);
	assert_int_equal(mxc_report_finish(r), 0);

	c = mxc_report_total(r);
	assert_int_equal(c->domains, 4);
	assert_int_equal(c->v[MXC_RM_DNSSEC][mxc_report_slot(MXC_RM_DNSSEC, "secure")], 1);
	assert_int_equal(c->v[MXC_RM_DNSSEC][mxc_report_slot(MXC_RM_DNSSEC, "insecure")], 1);
	assert_int_equal(c->v[MXC_RM_DNSSEC][mxc_report_slot(MXC_RM_DNSSEC, "bogus")], 1);
	assert_int_equal(c->v[MXC_RM_DNSSEC][MXC_RS_OTHER], 1);
	assert_int_equal(c->v[MXC_RM_DANE][MXC_RS_NOT_MEASURED], 2);
	assert_int_equal(c->v[MXC_RM_STARTTLS][MXC_RS_NOT_MEASURED], 2);
	assert_int_equal(c->v[MXC_RM_EXPOSURE][mxc_report_slot(MXC_RM_EXPOSURE, "broken")], 1);
	assert_int_equal(mxc_report_indicator_count(c, MXC_RI_MAIL), 3); /* ok, ok, implicit */
	assert_int_equal(mxc_report_indicator_count(c, MXC_RI_DMARC), 2); /* reject, quarantine */
	assert_int_equal(mxc_report_indicator_count(c, MXC_RI_PROTECTED), 1);
	assert_int_equal(mxc_report_indicator_count(c, MXC_RI_STS_ENFORCE), 1);
	assert_int_equal(mxc_report_indicator_count(c, MXC_RI_STS_TESTING), 1);
	assert_true(mxc_report_pct(1, 4) > 24.999 && mxc_report_pct(1, 4) < 25.001);
	assert_true(mxc_report_pct(3, 4) > 74.999 && mxc_report_pct(3, 4) < 75.001);
	assert_true(mxc_report_pct(5, 0) == 0.0);

	g = mxc_report_find(r, MXC_REPORT_BY_TLD, "test");
	assert_non_null(g);
	assert_int_equal(g->c.domains, 3);
	assert_int_equal(g->error_bound, 0);
	g = mxc_report_find(r, MXC_REPORT_BY_TLD, "example");
	assert_non_null(g);
	assert_int_equal(g->c.domains, 1);
	assert_int_equal(g->c.v[MXC_RM_MX_STATUS][mxc_report_slot(MXC_RM_MX_STATUS, "implicit")],
			 1);

	/* The JSON carries the same numbers, with percentages. */
	char *js = render(r, MXC_OUT_JSON, MXC_REPORT_BY_ALL);
	assert_non_null(strstr(js, "\"dnssec\":{\"secure\":{\"count\":1,\"percent\":25.00}"));
	assert_non_null(strstr(js, "\"mail\":{\"count\":3,\"percent\":75.00}"));
	free(js);
	mxc_report_free(r);
}

static void test_issues(void **state)
{
	struct mxc_report *r = new_report(0, 0);
	const struct mxc_report_counts *c;
	struct row row;
	size_t a = SIZE_MAX, b = SIZE_MAX;
	char *txt;

	(void)state;
	/* Repeated codes count once per domain; blanks are ignored. */
	row_make(&row, "domain", "a.test", "tld", "test", "issues",
		 "tlsa-mismatch; mta-sts-enforce-without-tls-rpt;;tlsa-mismatch", NULL);
	add(r, &row);
	row_make(&row, "domain", "b.test", "tld", "test", "issues", "tlsa-mismatch", NULL);
	add(r, &row);
	row_make(&row, "domain", "c.test", "tld", "test", NULL);
	add(r, &row);
	c = mxc_report_total(r);
	assert_int_equal(mxc_report_issue_codes(r), 2);
	for (size_t i = 0; i < mxc_report_issue_codes(r); i++) {
		if (strcmp(mxc_report_issue_name(r, i), "tlsa-mismatch") == 0)
			a = i;
		if (strcmp(mxc_report_issue_name(r, i), "mta-sts-enforce-without-tls-rpt") == 0)
			b = i;
	}
	assert_true(a != SIZE_MAX && b != SIZE_MAX);
	assert_int_equal(c->issues[a], 2);
	assert_int_equal(c->issues[b], 1);
	assert_int_equal(c->with_issues, 2);
	/* Most frequent first in the JSON list. */
	txt = render(r, MXC_OUT_JSON, MXC_REPORT_BY_TLD);
	assert_non_null(strstr(txt, "\"issues\":[{\"code\":\"tlsa-mismatch\",\"count\":2,"
				    "\"percent\":66.67},{\"code\":\"mta-sts-enforce-without-tls-rpt\""));
	free(txt);
	mxc_report_free(r);
}

static void test_provider_psl(void **state)
{
	struct mxc_report *r = new_report(0, 0);
	const struct mxc_report_group *g;
	struct row row;
	char p[256];

	(void)state;
	assert_int_equal(mxc_report_provider(r, "mx1.example.co.uk", p, sizeof(p)), 0);
	assert_string_equal(p, "example.co.uk");
	assert_int_equal(mxc_report_provider(r, "ALT1.ASPMX.L.Google.COM.", p, sizeof(p)), 0);
	assert_string_equal(p, "google.com");
	assert_int_equal(mxc_report_provider(r, "mx1.provider.test", p, sizeof(p)), 0);
	assert_string_equal(p, "provider.test");
	/* A public suffix has no registrable domain: it is its own provider. */
	assert_int_equal(mxc_report_provider(r, "co.uk", p, sizeof(p)), 0);
	assert_string_equal(p, "co.uk");
	assert_int_equal(mxc_report_provider(r, "", p, sizeof(p)), MXC_ENAME);

	/* Two hosts of one provider count once; two providers count once each. */
	row_make(&row, "domain", "a.uk", "tld", "uk", "mx_status", "ok", "mx_hosts",
		 "10:mx1.example.co.uk;20:mx2.example.co.uk", NULL);
	add(r, &row);
	row_make(&row, "domain", "b.uk", "tld", "uk", "mx_status", "ok", "mx_hosts",
		 "10:mx1.example.co.uk;20:aspmx.l.google.com", NULL);
	add(r, &row);
	row_make(&row, "domain", "c.uk", "tld", "uk", "mx_status", "null-mx", NULL);
	add(r, &row);
	assert_int_equal(mxc_report_finish(r), 0);
	g = mxc_report_find(r, MXC_REPORT_BY_PROVIDER, "example.co.uk");
	assert_non_null(g);
	assert_int_equal(g->c.domains, 2);
	g = mxc_report_find(r, MXC_REPORT_BY_PROVIDER, "google.com");
	assert_non_null(g);
	assert_int_equal(g->c.domains, 1);
	assert_null(mxc_report_find(r, MXC_REPORT_BY_PROVIDER, "co.uk"));
	assert_null(mxc_report_find(r, MXC_REPORT_BY_PROVIDER, "uk"));
	mxc_report_free(r);
}

static void test_top_n(void **state)
{
	struct mxc_report *r = new_report(3, 0);
	struct mxc_report_group *const *g;
	const struct mxc_report_group *other;
	struct row row;
	char dom[64], mx[64];
	size_t n;

	(void)state;
	/* Provider pN gets N domains, N = 1..6. */
	for (int p = 1; p <= 6; p++) {
		for (int k = 0; k < p; k++) {
			snprintf(dom, sizeof(dom), "d%d-%d.test", p, k);
			snprintf(mx, sizeof(mx), "10:mx.p%d.test", p);
			row_make(&row, "domain", dom, "tld", "test", "mx_status", "ok", "mx_hosts",
				 mx, NULL);
			add(r, &row);
		}
	}
	assert_int_equal(mxc_report_finish(r), 0);
	g = mxc_report_groups(r, MXC_REPORT_BY_PROVIDER, &n);
	assert_int_equal(n, 3);
	assert_string_equal(g[0]->name, "p6.test");
	assert_int_equal(g[0]->c.domains, 6);
	assert_string_equal(g[1]->name, "p5.test");
	assert_string_equal(g[2]->name, "p4.test");
	other = mxc_report_other(r, MXC_REPORT_BY_PROVIDER);
	assert_int_equal(other->c.domains, 1 + 2 + 3);
	assert_int_equal(mxc_report_total(r)->domains, 21);
	mxc_report_free(r);
}

static void test_fold(void **state)
{
	struct mxc_report *r = new_report(100, 4);
	struct mxc_report_group *const *g;
	const struct mxc_report_group *big;
	uint64_t sum = 0;
	struct row row;
	char dom[64], mx[64];
	size_t n;

	(void)state;
	/* A big provider first, then 20 one-domain providers: the table of 4
	 * folds its small half repeatedly; the big one stays exact. */
	for (int k = 0; k < 10; k++) {
		snprintf(dom, sizeof(dom), "big%d.test", k);
		row_make(&row, "domain", dom, "tld", "test", "mx_hosts", "10:mx.big.test", NULL);
		add(r, &row);
	}
	for (int p = 0; p < 20; p++) {
		snprintf(dom, sizeof(dom), "s%d.test", p);
		snprintf(mx, sizeof(mx), "10:mx.small%d.test", p);
		row_make(&row, "domain", dom, "tld", "test", "mx_hosts", mx, NULL);
		add(r, &row);
	}
	assert_int_equal(mxc_report_finish(r), 0);
	big = mxc_report_find(r, MXC_REPORT_BY_PROVIDER, "big.test");
	assert_non_null(big);
	assert_int_equal(big->c.domains, 10);
	assert_int_equal(big->error_bound, 0);
	g = mxc_report_groups(r, MXC_REPORT_BY_PROVIDER, &n);
	assert_true(n <= 4);
	/* Groups made after a fold carry a bound; nothing is lost overall. */
	assert_true(g[n - 1]->error_bound > 0);
	for (size_t i = 0; i < n; i++)
		sum += g[i]->c.domains;
	sum += mxc_report_other(r, MXC_REPORT_BY_PROVIDER)->c.domains;
	assert_int_equal(sum, 30);
	mxc_report_free(r);
}

#define HOSTILE_TLD "<script>alert(1)</script>|*x*_[l](u)\x1b[31m\"'&\n\xff"
#define HOSTILE_MX "10:<img src=x onerror=alert(1)>.evil|test"

static void test_escaping(void **state)
{
	struct mxc_report *r = new_report(0, 0);
	struct row row;
	char *out;

	(void)state;
	row_make(&row, "domain", "x." HOSTILE_TLD, "tld", HOSTILE_TLD, "mx_status", "ok",
		 "mx_hosts", HOSTILE_MX, "issues", "code<b>\x1b;`tick`", NULL);
	add(r, &row);

	out = render(r, MXC_OUT_HTML, MXC_REPORT_BY_ALL);
	assert_null(strstr(out, "<script>"));
	assert_null(strstr(out, "<img"));
	assert_null(strstr(out, "\x1b"));
	assert_null(strstr(out, "\xff"));
	assert_non_null(strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;|*x*"));
	assert_non_null(strstr(out, "&lt;img src=x onerror=alert(1)&gt;"));
	assert_non_null(strstr(out, "&quot;&#39;&amp;"));
	assert_non_null(strstr(out, "Content-Security-Policy"));
	assert_non_null(strstr(out, "<svg id=\"chart-exposure\""));
	assert_non_null(strstr(out, "<svg id=\"chart-adoption\""));
	free(out);

	out = render(r, MXC_OUT_MD, MXC_REPORT_BY_ALL);
	assert_null(strstr(out, "<script>"));
	assert_null(strstr(out, "<img"));
	assert_null(strstr(out, "\x1b"));
	assert_non_null(strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;\\|\\*x\\*\\_\\[l\\](u)"));
	/* The newline inside the name does not end the table row. */
	assert_non_null(strstr(out, "&amp; \xef\xbf\xbd"));
	assert_non_null(strstr(out, "\\`tick\\`"));
	free(out);

	out = render(r, MXC_OUT_TEXT, MXC_REPORT_BY_ALL);
	assert_null(strstr(out, "\x1b"));
	assert_null(strstr(out, "\xff"));
	assert_non_null(strstr(out, "\\x1b[31m\"'&\\x0a\\xff"));
	free(out);

	out = render(r, MXC_OUT_JSON, MXC_REPORT_BY_ALL);
	assert_null(strstr(out, "\x1b"));
	assert_null(strstr(out, "\xff"));
	assert_non_null(strstr(out, "\"name\":\"<script>alert(1)</script>|*x*_[l](u)\\u001b[31m"
				    "\\\"'&\\n\\u00ff\""));
	assert_non_null(strstr(out, "\"code\":\"code<b>\\u001b\""));
	free(out);
	mxc_report_free(r);
}

static void test_escape_functions(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	/* Valid UTF-8 passes; an overlong sequence and a surrogate do not. */
	mxc_html_str(f, "b\xc3\xbc" "cher \xc0\xaf \xed\xa0\x80");
	fclose(f);
	assert_string_equal(buf, "b\xc3\xbc" "cher &#xfffd;&#xfffd; &#xfffd;&#xfffd;&#xfffd;");
	free(buf);

	f = open_memstream(&buf, &len);
	mxc_json_str(f, "\xe2\x82\xac\x7f\\");
	fclose(f);
	assert_string_equal(buf, "\"\xe2\x82\xac\\u007f\\\\\"");
	free(buf);
}

/* ------------------------------------------------------------------------ */
/* Compare                                                                  */

static void test_compare(void **state)
{
	struct mxc_compare *c = NULL;
	struct mxc_compare_totals tot;
	struct row o, n;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(mxc_compare_new(NULL, &c, err, sizeof(err)), 0);

	/* enforce lost (mode empty: no policy any more), exposure worse. */
	row_make(&o, "domain", "a.test", "tld", "test", "mx_hosts", "10:mx.p.test",
		 "mta_sts_mode", "enforce", "downgrade_exposure", "mta-sts", NULL);
	row_make(&n, "domain", "a.test", "tld", "test", "mx_hosts", "10:mx.p.test",
		 "downgrade_exposure", "strippable", NULL);
	assert_int_equal(mxc_compare_pair(c, o.val, n.val), 0);
	/* DANE valid -> invalid; DMARC none -> reject (better). */
	row_make(&o, "domain", "b.test", "tld", "test", "dane", "valid", "dmarc", "none", NULL);
	row_make(&n, "domain", "b.test", "tld", "test", "dane", "invalid", "dmarc", "reject",
		 NULL);
	assert_int_equal(mxc_compare_pair(c, o.val, n.val), 0);
	/* Newly measured only: counted, not listed. */
	row_make(&o, "domain", "c.test", "tld", "test", NULL);
	row_make(&n, "domain", "c.test", "tld", "test", "starttls", "all", NULL);
	assert_int_equal(mxc_compare_pair(c, o.val, n.val), 0);
	/* Unchanged. */
	row_make(&o, "domain", "d.test", "tld", "test", "spf", "present", NULL);
	assert_int_equal(mxc_compare_pair(c, o.val, o.val), 0);
	/* Removed and added. */
	row_make(&o, "domain", "e.test", "tld", "test", NULL);
	assert_int_equal(mxc_compare_pair(c, o.val, NULL), 0);
	row_make(&n, "domain", "f.example", "tld", "example", "spf", "present", NULL);
	assert_int_equal(mxc_compare_pair(c, NULL, n.val), 0);
	assert_int_equal(mxc_compare_pair(c, NULL, NULL), MXC_EINVAL);

	mxc_compare_totals(c, &tot);
	assert_int_equal(tot.both, 4);
	assert_int_equal(tot.removed, 1);
	assert_int_equal(tot.added, 1);
	assert_int_equal(tot.changed, 2);
	assert_int_equal(tot.worse, 2);
	assert_int_equal(tot.better, 1);
	assert_int_equal(mxc_compare_transitions(c, MXC_RM_DANE,
						 mxc_report_slot(MXC_RM_DANE, "valid"),
						 mxc_report_slot(MXC_RM_DANE, "invalid")),
			 1);
	assert_int_equal(mxc_compare_transitions(c, MXC_RM_STARTTLS, MXC_RS_NOT_MEASURED,
						 mxc_report_slot(MXC_RM_STARTTLS, "all")),
			 1);

	f = open_memstream(&buf, &len);
	assert_int_equal(mxc_compare_write(c, MXC_OUT_JSON, f, false), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"domains\":{\"both\":4,\"removed\":1,\"added\":1,"
				    "\"changed\":2,\"worse\":2,\"better\":1}"));
	assert_non_null(strstr(buf, "{\"domain\":\"a.test\",\"column\":\"mta_sts_mode\","
				    "\"old\":\"enforce\",\"new\":null,\"direction\":\"worse\"}"));
	assert_non_null(strstr(buf, "{\"domain\":\"a.test\",\"column\":\"downgrade_exposure\","
				    "\"old\":\"mta-sts\",\"new\":\"strippable\",\"direction\":"
				    "\"worse\"}"));
	assert_non_null(strstr(buf, "{\"domain\":\"b.test\",\"column\":\"dane\",\"old\":"
				    "\"valid\",\"new\":\"invalid\",\"direction\":\"worse\"}"));
	assert_non_null(strstr(buf, "\"column\":\"dmarc\",\"old\":\"none\",\"new\":\"reject\","
				    "\"direction\":\"better\"}"));
	assert_null(strstr(buf, "\"domain\":\"c.test\""));
	assert_null(strstr(buf, "\"domain\":\"d.test\""));
	/* TLD delta: spf present 1 of 5 old (d), 1 of 4 new test domains. */
	assert_non_null(strstr(buf, "\"name\":\"test\",\"old\":{\"domains\":5,"));
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_int_equal(mxc_compare_write(c, MXC_OUT_MD, f, false), 0);
	fclose(f);
	assert_non_null(strstr(buf, "| b.test | dane | valid | invalid | worse |"));
	free(buf);
	mxc_compare_free(c);
}

static void test_directions(void **state)
{
	(void)state;
#define DIR(m, a, b) mxc_compare_direction(m, mxc_report_slot(m, a), mxc_report_slot(m, b))
	assert_int_equal(DIR(MXC_RM_EXPOSURE, "plaintext", "strippable"), MXC_CMP_BETTER);
	assert_int_equal(DIR(MXC_RM_EXPOSURE, "dane+mta-sts", "dane"), MXC_CMP_WORSE);
	assert_int_equal(DIR(MXC_RM_EXPOSURE, "mta-sts", "dane"), MXC_CMP_CHANGED);
	assert_int_equal(DIR(MXC_RM_EXPOSURE, "plaintext", "broken"), MXC_CMP_WORSE);
	assert_int_equal(DIR(MXC_RM_EXPOSURE, "no-mail", "plaintext"), MXC_CMP_CHANGED);
	assert_int_equal(DIR(MXC_RM_MTA_STS_MODE, "enforce", "testing"), MXC_CMP_WORSE);
	assert_int_equal(DIR(MXC_RM_MTA_STS_MODE, "", "testing"), MXC_CMP_BETTER);
	assert_int_equal(DIR(MXC_RM_DNSSEC, "secure", "bogus"), MXC_CMP_WORSE);
	assert_int_equal(DIR(MXC_RM_DNSSEC, "", "bogus"), MXC_CMP_MEASURED);
	assert_int_equal(DIR(MXC_RM_DNSSEC, "secure", ""), MXC_CMP_UNMEASURED);
	assert_int_equal(DIR(MXC_RM_DANE, "none", "valid"), MXC_CMP_BETTER);
	assert_int_equal(DIR(MXC_RM_MX_STATUS, "ok", "servfail"), MXC_CMP_CHANGED);
	assert_int_equal(DIR(MXC_RM_PKIX, "all-valid", "weird"), MXC_CMP_CHANGED);
#undef DIR
}

static void test_table_text(void **state)
{
	struct mxc_table *t = mxc_table_new(2);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(t);
	assert_int_equal(mxc_table_head(t, 0, "name", false), 0);
	assert_int_equal(mxc_table_head(t, 1, "n", true), 0);
	assert_int_equal(mxc_table_cell(t, 0, "x"), MXC_EINVAL); /* no row yet */
	assert_int_equal(mxc_table_row(t), 0);
	assert_int_equal(mxc_table_cell(t, 0, "longer"), 0);
	assert_int_equal(mxc_table_cell(t, 1, "7"), 0);
	assert_int_equal(mxc_table_row(t), 0);
	assert_int_equal(mxc_table_cell(t, 0, "\x01"), 0);
	assert_int_equal(mxc_table_cell(t, 1, "123"), 0);
	assert_int_equal(mxc_table_cell(t, 2, "x"), MXC_EINVAL);
	f = open_memstream(&buf, &len);
	assert_int_equal(mxc_table_write(t, f, MXC_OUT_TEXT, false), 0);
	fclose(f);
	/* Widths count the escaped form; numbers are right-aligned. */
	assert_string_equal(buf, "name      n\n"
				 "-----------\n"
				 "longer    7\n"
				 "\\x01    123\n");
	free(buf);
	mxc_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_issues),
		cmocka_unit_test(test_provider_psl),
		cmocka_unit_test(test_top_n),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_escape_functions),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_directions),
		cmocka_unit_test(test_table_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
