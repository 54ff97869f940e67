/**
 * \file
 * Unit tests for the TXT record classifiers (probes/txtrec.c): tables of
 * MTA-STS, TLS-RPT, SPF and DMARC record sets with the expected status and
 * id, rua list or reason, covering each rejection reason, record selection
 * (version prefix, case, several records) and hostile bytes (NUL, non-ASCII,
 * control characters).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "probes/txtrec.h"

/* A record from a string literal; sizeof keeps embedded NULs. */
#define R(s) { (const uint8_t *)(s), sizeof(s) - 1 }
#define NOREC { NULL, 0 }

struct case_sts {
	struct mxc_txtrec recs[3];
	size_t n;
	enum mxc_txtrec_status status;
	const char *id_or_reason;
};

static const struct case_sts sts_cases[] = {
	{ { NOREC }, 0, MXC_TXTREC_NONE, NULL },
	{ { R("") }, 1, MXC_TXTREC_NONE, NULL },
	{ { R("v=spf1 -all") }, 1, MXC_TXTREC_NONE, NULL },
	{ { R("v=STSv1; id=20190429T010101") }, 1, MXC_TXTREC_VALID, "20190429T010101" },
	{ { R("v=STSv1;id=abc") }, 1, MXC_TXTREC_VALID, "abc" },
	{ { R("v=STSv1 ;\tid=abc ; ") }, 1, MXC_TXTREC_VALID, "abc" },
	{ { R("v=STSv1; id=abc;") }, 1, MXC_TXTREC_VALID, "abc" },
	{ { R("v=STSv1; id=abc  ") }, 1, MXC_TXTREC_VALID, "abc" },
	{ { R("v=STSv1; ext_1.x-y=val!; id=Z9") }, 1, MXC_TXTREC_VALID, "Z9" },
	{ { R("v=STSv1; id=12345678901234567890123456789012") }, 1, MXC_TXTREC_VALID,
	  "12345678901234567890123456789012" },
	{ { R("v=STSv1; id=123456789012345678901234567890123") }, 1, MXC_TXTREC_INVALID, "id-syntax" },
	{ { R("v=STSv1; id=") }, 1, MXC_TXTREC_INVALID, "id-syntax" },
	{ { R("v=STSv1; id=ab-c") }, 1, MXC_TXTREC_INVALID, "id-syntax" },
	{ { R("v=STSv1; id=ab c") }, 1, MXC_TXTREC_INVALID, "id-syntax" },
	{ { R("v=STSv1; id=ab\xc3\xa9") }, 1, MXC_TXTREC_INVALID, "id-syntax" },
	{ { R("v=STSv1; id=ab\0cd") }, 1, MXC_TXTREC_INVALID, "id-syntax" },
	{ { R("v=STSv1") }, 1, MXC_TXTREC_INVALID, "id-missing" },
	{ { R("v=STSv1;") }, 1, MXC_TXTREC_INVALID, "id-missing" },
	{ { R("v=STSv1; ID=abc") }, 1, MXC_TXTREC_INVALID, "id-missing" },
	{ { R("v=STSv1; foo=bar") }, 1, MXC_TXTREC_INVALID, "id-missing" },
	{ { R("v=STSv1; id=a; id=b") }, 1, MXC_TXTREC_INVALID, "id-duplicate" },
	{ { R("v=STSv1; id=a;; x=y") }, 1, MXC_TXTREC_INVALID, "bad-field" },
	{ { R("v=STSv1; id=a; junk") }, 1, MXC_TXTREC_INVALID, "bad-field" },
	{ { R("v=STSv1 id=a") }, 1, MXC_TXTREC_INVALID, "bad-field" },
	{ { R("v=STSv1; id=a; _x=y") }, 1, MXC_TXTREC_INVALID, "bad-field" },
	{ { R("v=STSv1; id=a; x=") }, 1, MXC_TXTREC_INVALID, "bad-field" },
	{ { R("v=STSv1; id=a; x=a=b") }, 1, MXC_TXTREC_INVALID, "bad-field" },
	{ { R("v=STSv1; id=a; x=\x01") }, 1, MXC_TXTREC_INVALID, "bad-field" },
	{ { R("v=STSv1; id=a; abcdefghijabcdefghijabcdefghijabc=1") }, 1, MXC_TXTREC_INVALID, "bad-field" },
	{ { R("v=STSv1; id=a; abcdefghijabcdefghijabcdefghijab=1") }, 1, MXC_TXTREC_VALID, "a" },
	/* Case-sensitive version; a longer version token is another version. */
	{ { R("v=stsv1; id=a") }, 1, MXC_TXTREC_NONE, NULL },
	{ { R("V=STSv1; id=a") }, 1, MXC_TXTREC_NONE, NULL },
	{ { R("v=STSv10; id=a") }, 1, MXC_TXTREC_NONE, NULL },
	{ { R(" v=STSv1; id=a") }, 1, MXC_TXTREC_NONE, NULL },
	{ { R("id=a; v=STSv1") }, 1, MXC_TXTREC_NONE, NULL },
	/* Selection among several records. */
	{ { R("v=spf1 -all"), R("v=STSv1; id=x1"), R("hello") }, 3, MXC_TXTREC_VALID, "x1" },
	{ { R("v=STSv1; id=x1"), R("v=STSv1; id=x2") }, 2, MXC_TXTREC_MULTIPLE, NULL },
	{ { R("v=STSv1; id=x1"), R("v=STSv1; bogus") }, 2, MXC_TXTREC_MULTIPLE, NULL },
	{ { R("v=STSv1; id=x1"), R("v=STSv10; id=x2") }, 2, MXC_TXTREC_VALID, "x1" },
};

static void test_sts_table(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(sts_cases) / sizeof(sts_cases[0]); i++) {
		const struct case_sts *c = &sts_cases[i];
		struct mxc_sts_txt out;

		print_message("sts case %zu\n", i);
		assert_int_equal(mxc_txtrec_sts(c->n ? c->recs : NULL, c->n, &out), 0);
		assert_string_equal(mxc_txtrec_status_name(out.status),
				    mxc_txtrec_status_name(c->status));
		if (c->status == MXC_TXTREC_VALID) {
			assert_string_equal(out.id, c->id_or_reason);
			assert_null(out.reason);
		} else if (c->status == MXC_TXTREC_INVALID) {
			assert_non_null(out.reason);
			assert_string_equal(out.reason, c->id_or_reason);
			assert_string_equal(out.id, "");
		} else {
			assert_null(out.reason);
			assert_string_equal(out.id, "");
		}
	}
}

static void test_sts_args(void **state)
{
	struct mxc_sts_txt out;
	struct mxc_tlsrpt_txt tout;
	struct mxc_txtrec bad = { NULL, 3 };

	assert_int_equal(mxc_txtrec_sts(NULL, 1, &out), MXC_EINVAL);
	assert_int_equal(mxc_txtrec_sts(&bad, 1, &out), MXC_EINVAL);
	assert_int_equal(mxc_txtrec_sts(NULL, 0, NULL), MXC_EINVAL);
	assert_int_equal(mxc_txtrec_tlsrpt(NULL, 2, &tout), MXC_EINVAL);
	assert_int_equal(mxc_txtrec_tlsrpt(&bad, 1, &tout), MXC_EINVAL);
	assert_int_equal(mxc_txtrec_tlsrpt(NULL, 0, NULL), MXC_EINVAL);
}

struct case_tlsrpt {
	struct mxc_txtrec recs[3];
	size_t n;
	enum mxc_txtrec_status status;
	const char *rua_or_reason;
};

static const struct case_tlsrpt tlsrpt_cases[] = {
	{ { NOREC }, 0, MXC_TXTREC_NONE, NULL },
	{ { R("v=STSv1; id=1") }, 1, MXC_TXTREC_NONE, NULL },
	{ { R("v=TLSRPTv1; rua=mailto:tls@example.com") }, 1, MXC_TXTREC_VALID,
	  "mailto:tls@example.com" },
	{ { R("v=TLSRPTv1;rua=mailto:a@example.com,https://r.example.com/tls") }, 1,
	  MXC_TXTREC_VALID, "mailto:a@example.com;https://r.example.com/tls" },
	{ { R("v=TLSRPTv1; rua=mailto:a@example.com , \tHTTPS://r.example.com/x;") }, 1,
	  MXC_TXTREC_VALID, "mailto:a@example.com;HTTPS://r.example.com/x" },
	/* Other schemes are skipped, but one usable URI must remain. */
	{ { R("v=TLSRPTv1; rua=ftp://x.example,mailto:a@example.com") }, 1,
	  MXC_TXTREC_VALID, "mailto:a@example.com" },
	{ { R("v=TLSRPTv1; rua=ftp://x.example") }, 1, MXC_TXTREC_INVALID, "rua-no-usable-uri" },
	{ { R("v=TLSRPTv1; rua=http://x.example/r") }, 1, MXC_TXTREC_INVALID, "rua-no-usable-uri" },
	{ { R("v=TLSRPTv1; ext=1; rua=mailto:a@b.example") }, 1, MXC_TXTREC_VALID, "mailto:a@b.example" },
	{ { R("v=TLSRPTv1") }, 1, MXC_TXTREC_INVALID, "rua-missing" },
	{ { R("v=TLSRPTv1; ext=1") }, 1, MXC_TXTREC_INVALID, "rua-missing" },
	{ { R("v=TLSRPTv1; RUA=mailto:a@b.example") }, 1, MXC_TXTREC_INVALID, "rua-missing" },
	{ { R("v=TLSRPTv1; rua=") }, 1, MXC_TXTREC_INVALID, "rua-syntax" },
	{ { R("v=TLSRPTv1; rua=a@b.example") }, 1, MXC_TXTREC_INVALID, "rua-syntax" },
	{ { R("v=TLSRPTv1; rua=mailto:") }, 1, MXC_TXTREC_INVALID, "rua-syntax" },
	{ { R("v=TLSRPTv1; rua=https:x") }, 1, MXC_TXTREC_INVALID, "rua-syntax" },
	{ { R("v=TLSRPTv1; rua=mailto:a@b.example,") }, 1, MXC_TXTREC_INVALID, "rua-syntax" },
	{ { R("v=TLSRPTv1; rua=mailto:a@b.example,,mailto:c@d.example") }, 1,
	  MXC_TXTREC_INVALID, "rua-syntax" },
	{ { R("v=TLSRPTv1; rua=mailto:a b@example") }, 1, MXC_TXTREC_INVALID, "rua-syntax" },
	{ { R("v=TLSRPTv1; rua=mailto:a\xff@example") }, 1, MXC_TXTREC_INVALID, "rua-syntax" },
	{ { R("v=TLSRPTv1; rua=mailto:a\0@example") }, 1, MXC_TXTREC_INVALID, "rua-syntax" },
	{ { R("v=TLSRPTv1; rua=1x:y,mailto:a@b.example") }, 1, MXC_TXTREC_INVALID, "rua-syntax" },
	{ { R("v=TLSRPTv1; rua=mailto:a@b.example; rua=mailto:c@d.example") }, 1,
	  MXC_TXTREC_INVALID, "rua-duplicate" },
	{ { R("v=TLSRPTv1; rua=mailto:a@b.example; x") }, 1, MXC_TXTREC_INVALID, "bad-field" },
	{ { R("v=TLSRPTv1 rua=mailto:a@b.example") }, 1, MXC_TXTREC_INVALID, "bad-field" },
	{ { R("v=tlsrptv1; rua=mailto:a@b.example") }, 1, MXC_TXTREC_NONE, NULL },
	{ { R("v=TLSRPTv10; rua=mailto:a@b.example") }, 1, MXC_TXTREC_NONE, NULL },
	{ { R("v=TLSRPTv1; rua=mailto:a@b.example"), R("v=TLSRPTv1; rua=mailto:c@d.example") }, 2,
	  MXC_TXTREC_MULTIPLE, NULL },
	{ { R("x"), R("v=TLSRPTv1; rua=mailto:c@d.example"), R("v=spf1") }, 3,
	  MXC_TXTREC_VALID, "mailto:c@d.example" },
};

static void test_tlsrpt_table(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(tlsrpt_cases) / sizeof(tlsrpt_cases[0]); i++) {
		const struct case_tlsrpt *c = &tlsrpt_cases[i];
		struct mxc_tlsrpt_txt out;

		print_message("tlsrpt case %zu\n", i);
		assert_int_equal(mxc_txtrec_tlsrpt(c->n ? c->recs : NULL, c->n, &out), 0);
		assert_string_equal(mxc_txtrec_status_name(out.status),
				    mxc_txtrec_status_name(c->status));
		assert_int_equal(out.rua_truncated, 0);
		if (c->status == MXC_TXTREC_VALID) {
			assert_string_equal(out.rua, c->rua_or_reason);
			assert_null(out.reason);
		} else if (c->status == MXC_TXTREC_INVALID) {
			assert_non_null(out.reason);
			assert_string_equal(out.reason, c->rua_or_reason);
			assert_string_equal(out.rua, "");
		} else {
			assert_null(out.reason);
			assert_string_equal(out.rua, "");
		}
	}
}

/* A rua list longer than the export buffer keeps whole URIs and says so. */
static void test_tlsrpt_truncation(void **state)
{
	static char rec[8192];
	struct mxc_txtrec r;
	struct mxc_tlsrpt_txt out;
	size_t used, i, len;
	int w;

	used = (size_t)snprintf(rec, sizeof(rec), "v=TLSRPTv1; rua=");
	for (i = 0; i < 100; i++) {
		w = snprintf(rec + used, sizeof(rec) - used, "%smailto:reports%03zu@example.com",
			     i ? "," : "", i);
		assert_true(w > 0 && (size_t)w < sizeof(rec) - used);
		used += (size_t)w;
	}
	r.data = (const uint8_t *)rec;
	r.len = used;
	assert_int_equal(mxc_txtrec_tlsrpt(&r, 1, &out), 0);
	assert_int_equal(out.status, MXC_TXTREC_VALID);
	assert_int_equal(out.rua_truncated, 1);
	len = strlen(out.rua);
	assert_true(len <= MXC_TLSRPT_RUA_MAX);
	/* Each kept URI is whole: "mailto:reportsNNN@example.com" is 29 bytes. */
	assert_int_equal((len + 1) % 30, 0);
	assert_memory_equal(out.rua, "mailto:reports000@example.com;", 30);
	assert_memory_equal(out.rua + len - 29, "mailto:reports", 14);
}

struct case_spf {
	struct mxc_txtrec recs[3];
	size_t n;
	enum mxc_spf_status status;
};

static const struct case_spf spf_cases[] = {
	{ { NOREC }, 0, MXC_SPF_NONE },
	{ { R("") }, 1, MXC_SPF_NONE },
	{ { R("v=spf1") }, 1, MXC_SPF_PRESENT },
	{ { R("v=spf1 -all") }, 1, MXC_SPF_PRESENT },
	{ { R("V=SPF1 include:_spf.example.com ~all") }, 1, MXC_SPF_PRESENT },
	{ { R("v=spf1\t-all") }, 1, MXC_SPF_NONE },
	{ { R("v=spf10 -all") }, 1, MXC_SPF_NONE },
	{ { R("v=spf1-all") }, 1, MXC_SPF_NONE },
	{ { R(" v=spf1 -all") }, 1, MXC_SPF_NONE },
	{ { R("v=spf") }, 1, MXC_SPF_NONE },
	{ { R("v=spf1 \0\xff") }, 1, MXC_SPF_PRESENT },
	{ { R("google-site-verification=x"), R("v=spf1 mx -all") }, 2, MXC_SPF_PRESENT },
	{ { R("v=spf1 mx -all"), R("v=spf1 -all") }, 2, MXC_SPF_MULTIPLE },
	{ { R("v=spf1"), R("x"), R("V=spf1 a") }, 3, MXC_SPF_MULTIPLE },
};

static void test_spf_table(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(spf_cases) / sizeof(spf_cases[0]); i++) {
		const struct case_spf *c = &spf_cases[i];

		print_message("spf case %zu\n", i);
		assert_string_equal(mxc_txtrec_spf_name(mxc_txtrec_spf(c->n ? c->recs : NULL, c->n)),
				    mxc_txtrec_spf_name(c->status));
	}
}

struct case_dmarc {
	struct mxc_txtrec recs[3];
	size_t n;
	enum mxc_dmarc_status status;
};

static const struct case_dmarc dmarc_cases[] = {
	{ { NOREC }, 0, MXC_DMARC_ABSENT },
	{ { R("") }, 1, MXC_DMARC_ABSENT },
	{ { R("v=DMARC1; p=none") }, 1, MXC_DMARC_NONE },
	{ { R("v=DMARC1;p=quarantine;pct=50") }, 1, MXC_DMARC_QUARANTINE },
	{ { R("v=DMARC1; p=reject; rua=mailto:d@example.com") }, 1, MXC_DMARC_REJECT },
	{ { R("V = DMARC1 ; P = Reject ;") }, 1, MXC_DMARC_REJECT },
	{ { R("v=DMARC1; rua=mailto:d@example.com; p=NONE") }, 1, MXC_DMARC_NONE },
	{ { R("v=DMARC1;;p=reject") }, 1, MXC_DMARC_REJECT },
	{ { R("v=DMARC1; p=reject; p=none") }, 1, MXC_DMARC_REJECT },
	{ { R("v=DMARC1; sp=reject") }, 1, MXC_DMARC_INVALID },
	{ { R("v=DMARC1") }, 1, MXC_DMARC_INVALID },
	{ { R("v=DMARC1;") }, 1, MXC_DMARC_INVALID },
	{ { R("v=DMARC1; p=") }, 1, MXC_DMARC_INVALID },
	{ { R("v=DMARC1; p=block") }, 1, MXC_DMARC_INVALID },
	{ { R("v=DMARC1; p=reject\0") }, 1, MXC_DMARC_INVALID },
	{ { R("v=DMARC1; p=rej\xc3\xa9") }, 1, MXC_DMARC_INVALID },
	{ { R("v=DMARC1; p") }, 1, MXC_DMARC_INVALID },
	/* "DMARC1" is case-sensitive and must be the whole first tag. */
	{ { R("v=dmarc1; p=reject") }, 1, MXC_DMARC_ABSENT },
	{ { R("v=DMARC10; p=reject") }, 1, MXC_DMARC_ABSENT },
	{ { R("p=reject; v=DMARC1") }, 1, MXC_DMARC_ABSENT },
	{ { R("v=spf1 -all"), R("v=DMARC1; p=quarantine") }, 2, MXC_DMARC_QUARANTINE },
	{ { R("v=DMARC1; p=reject"), R("v=DMARC1; p=none") }, 2, MXC_DMARC_MULTIPLE },
	{ { R("v=DMARC1; p=reject"), R("v=DMARC1; p=bogus"), R("x") }, 3, MXC_DMARC_MULTIPLE },
};

static void test_dmarc_table(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(dmarc_cases) / sizeof(dmarc_cases[0]); i++) {
		const struct case_dmarc *c = &dmarc_cases[i];

		print_message("dmarc case %zu\n", i);
		assert_string_equal(mxc_txtrec_dmarc_name(mxc_txtrec_dmarc(c->n ? c->recs : NULL, c->n)),
				    mxc_txtrec_dmarc_name(c->status));
	}
}

static void test_names(void **state)
{
	assert_string_equal(mxc_txtrec_status_name(MXC_TXTREC_MULTIPLE), "multiple");
	assert_string_equal(mxc_txtrec_status_name((enum mxc_txtrec_status)99), "?");
	assert_string_equal(mxc_txtrec_spf_name(MXC_SPF_PRESENT), "present");
	assert_string_equal(mxc_txtrec_dmarc_name(MXC_DMARC_ABSENT), "absent");
	assert_string_equal(mxc_txtrec_dmarc_name(MXC_DMARC_QUARANTINE), "quarantine");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sts_table),
		cmocka_unit_test(test_sts_args),
		cmocka_unit_test(test_tlsrpt_table),
		cmocka_unit_test(test_tlsrpt_truncation),
		cmocka_unit_test(test_spf_table),
		cmocka_unit_test(test_dmarc_table),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
