/**
 * \file
 * Unit tests of the CSV and JSON Lines exports (analysis/export.c).
 *
 * A small store is written with records chosen for the awkward cases (MX
 * names holding a comma, a quote, a newline, control characters, UTF-8 and
 * bytes that are not UTF-8; unsorted MX; a one-label name; a host without
 * addresses; TLSA answers that parse and one that does not), exported into
 * memory, and compared byte for byte with the text the test spells out here:
 * the header rows are written out literally from the design's column lists,
 * and the escapes by hand, so the test does not share code with the exporter.
 */
#include <errno.h>
#include <ldns/ldns.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analysis/export.h"
#include "common/alloc.h"
#include "common/error.h"

static const char dom_header[] =
	"domain,tld,run_id,scanned_at,mx_status,mx_hosts,dnssec,dnssec_reason,starttls,"
	"tls_version_min,pkix,dane,mta_sts_txt,mta_sts_id,mta_sts_policy,mta_sts_error,"
	"mta_sts_mode,mta_sts_max_age,mta_sts_mx_match,tls_rpt,tls_rpt_rua,spf,dmarc,"
	"downgrade_exposure,issues\n";

static const char host_header[] =
	"mx_host,ip,port,status,banner,starttls_offered,stripping_evidence,tls_version,"
	"cipher,cert_sha256,spki_sha256,issuer,not_before,not_after,cert_names,pkix_valid,"
	"pkix_error,tlsa_records,tlsa_dnssec,dane_result,probed_at\n";

static const char *const dom_names[] = {
	"domain", "tld", "run_id", "scanned_at", "mx_status", "mx_hosts", "dnssec",
	"dnssec_reason", "starttls", "tls_version_min", "pkix", "dane", "mta_sts_txt",
	"mta_sts_id", "mta_sts_policy", "mta_sts_error", "mta_sts_mode", "mta_sts_max_age",
	"mta_sts_mx_match", "tls_rpt", "tls_rpt_rua", "spf", "dmarc", "downgrade_exposure",
	"issues",
};

static const char *const host_names[] = {
	"mx_host", "ip", "port", "status", "banner", "starttls_offered",
	"stripping_evidence", "tls_version", "cipher", "cert_sha256", "spki_sha256",
	"issuer", "not_before", "not_after", "cert_names", "pkix_valid", "pkix_error",
	"tlsa_records", "tlsa_dnssec", "dane_result", "probed_at",
};

#define TLSA_HEX1 "0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"
#define TLSA_HEX2 "d2abde240d7cd3ee6b4b28c54df034b97983a1d16e8a410e4561cb106618e971"

/* ------------------------------------------------------------------------ */
/* The store                                                                */

static int make_store(void **state)
{
	char *dir = mxc_strdup("/tmp/mxc-test-export-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	*state = dir;
	return 0;
}

static int drop_store(void **state)
{
	char path[512];
	const char *dir = *state;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
	mxc_free(*state);
	return 0;
}

/* A DNS response carrying @p n TLSA RRs given in presentation form. */
static uint8_t *tlsa_wire(const char *const *rrs, size_t n, size_t *len)
{
	ldns_pkt *pkt;
	uint8_t *wire = NULL, *copy;

	assert_int_equal(ldns_pkt_query_new_frm_str(&pkt, "_25._tcp.mx1.b.example.",
						    LDNS_RR_TYPE_TLSA, LDNS_RR_CLASS_IN,
						    LDNS_RD),
			 LDNS_STATUS_OK);
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr;

		assert_int_equal(ldns_rr_new_frm_str(&rr, rrs[i], 300, NULL, NULL),
				 LDNS_STATUS_OK);
		assert_true(ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr));
	}
	assert_int_equal(ldns_pkt2wire(&wire, pkt, len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	/* ldns allocates with malloc; hand the test our own allocation. */
	copy = mxc_malloc(*len);
	assert_non_null(copy);
	memcpy(copy, wire, *len);
	free(wire);
	return copy;
}

static void fill_store(const char *dir)
{
	static const char *const rrs[] = {
		"_25._tcp.mx1.b.example. 300 IN TLSA 3 1 1 " TLSA_HEX1,
		"_25._tcp.mx1.b.example. 300 IN TLSA 2 0 1 " TLSA_HEX2,
	};
	struct mxc_store *s;
	char err[256];
	struct mxc_mx b_mx[] = {
		{ 20, "mx2.b.example" },
		{ 10, "we,ird\"mx\nhost" },
		{ 10, "mx1.b.example" },
	};
	struct mxc_mx c_mx[] = { { 0, "\x01tab\there\xc3\xa9\xff\x7f\\" }, { 5, "say\"hi" } };
	/* Each character that forces quoting, alone in its field. */
	struct mxc_mx d_mx[] = { { 1, "cr\rhost" } };
	struct mxc_mx e_mx[] = { { 1, "a,b" } };
	struct mxc_domain_rec a = { .domain = "a.example", .run_id = "run-1",
				    .scanned_at = 1700000000, .mx_status = MXC_MX_NXDOMAIN };
	struct mxc_domain_rec b = { .domain = "b.example", .run_id = "run-1",
				    .scanned_at = 0, .mx_status = MXC_MX_OK,
				    .n_mx = 3, .mx = b_mx };
	struct mxc_domain_rec c = { .domain = "c", .run_id = "run-1",
				    .scanned_at = 1700000001, .mx_status = MXC_MX_OK,
				    .n_mx = 2, .mx = c_mx };
	struct mxc_domain_rec dd = { .domain = "d.example", .run_id = "run-1",
				     .scanned_at = 1700000000, .n_mx = 1, .mx = d_mx };
	struct mxc_domain_rec ee = { .domain = "e.example", .run_id = "run-1",
				     .scanned_at = 1700000000, .n_mx = 1, .mx = e_mx };
	struct mxc_addr addrs[] = {
		{ 4, { 192, 0, 2, 1 } },
		{ 6, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } },
	};
	static uint8_t garbage[] = { 1, 2, 3, 4, 5 };
	struct mxc_raw_answer h1_raw[3] = { 0 };
	struct mxc_host_rec h1 = { .host = "mx1.b.example", .run_id = "run-1",
				   .n_addr = 2, .addrs = addrs, .n_raw = 3, .raw = h1_raw };
	struct mxc_raw_answer h2_raw[1] = { 0 };
	struct mxc_host_rec h2 = { .host = "mx2.b.example", .run_id = "run-1",
				   .n_raw = 1, .raw = h2_raw };
	size_t len;

	/* An A answer that is not TLSA (ignored), the TLSA one, and another. */
	h1_raw[0] = (struct mxc_raw_answer){ .qname = "mx1.b.example", .qtype = 1, .wire = garbage, .wire_len = 5 };
	h1_raw[1].qname = "_25._tcp.mx1.b.example";
	h1_raw[1].qtype = 52;
	h1_raw[1].wire = tlsa_wire(rrs, 2, &len);
	h1_raw[1].wire_len = (uint32_t)len;
	h1_raw[2].qname = "_25._tcp.mx1.b.example";
	h1_raw[2].qtype = 52;
	h1_raw[2].wire = tlsa_wire(rrs, 0, &len); /* NODATA */
	h1_raw[2].wire_len = (uint32_t)len;
	/* A TLSA "answer" that is not a DNS message. */
	h2_raw[0] = (struct mxc_raw_answer){ .qname = "_25._tcp.mx2.b.example", .qtype = 52, .wire = garbage, .wire_len = 5 };

	assert_int_equal(mxc_store_open(dir, MXC_STORE_CREATE, 100, &s, err, sizeof(err)), 0);
	/* Out of key order on purpose. */
	assert_int_equal(mxc_store_domain_put(s, &c), 0);
	assert_int_equal(mxc_store_domain_put(s, &a), 0);
	assert_int_equal(mxc_store_domain_put(s, &ee), 0);
	assert_int_equal(mxc_store_domain_put(s, &b), 0);
	assert_int_equal(mxc_store_domain_put(s, &dd), 0);
	assert_int_equal(mxc_store_host_put(s, &h2), 0);
	assert_int_equal(mxc_store_host_put(s, &h1), 0);
	assert_int_equal(mxc_store_close(s), 0);
	mxc_free(h1_raw[1].wire);
	mxc_free(h1_raw[2].wire);
}

/* Exports into memory; returns the text (caller frees with free()). */
static char *export_text(const char *dir, enum mxc_export_what what,
			 enum mxc_export_format fmt, uint64_t *rows, int *err)
{
	struct mxc_store *s;
	char msg[256], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(mxc_store_open(dir, MXC_STORE_RDONLY, 0, &s, msg, sizeof(msg)), 0);
	*err = mxc_export(s, what, fmt, f, rows);
	assert_int_equal(mxc_store_close(s), 0);
	fclose(f);
	return text;
}

/* Appends @p s to the expected text. */
static void add(char **buf, size_t *len, const char *s)
{
	size_t n = strlen(s);
	char *nb = realloc(*buf, *len + n + 1);

	assert_non_null(nb);
	memcpy(nb + *len, s, n + 1);
	*buf = nb;
	*len += n;
}

/* A CSV line: the given (already CSV-encoded) fields, then empty ones. */
static void csv_line(char **buf, size_t *len, size_t ncols, size_t nvals, ...)
{
	va_list ap;

	va_start(ap, nvals);
	for (size_t i = 0; i < ncols; i++) {
		const char *v = i < nvals ? va_arg(ap, const char *) : NULL;

		if (i)
			add(buf, len, ",");
		if (v)
			add(buf, len, v);
	}
	va_end(ap);
	add(buf, len, "\n");
}

/* A JSON line: values are JSON literals (already escaped), NULL means "". */
static void json_line(char **buf, size_t *len, const char *const *names, size_t ncols,
		      const char *const *vals)
{
	add(buf, len, "{");
	for (size_t i = 0; i < ncols; i++) {
		if (i)
			add(buf, len, ",");
		add(buf, len, "\"");
		add(buf, len, names[i]);
		add(buf, len, "\":");
		add(buf, len, vals[i] ? vals[i] : "\"\"");
	}
	add(buf, len, "}\n");
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */

static void test_domains_csv(void **state)
{
	char *want = NULL, *got;
	size_t wl = 0;
	uint64_t rows = 0;
	int err;

	fill_store(*state);
	add(&want, &wl, dom_header);
	/* The verdicts of a domain that does not exist: nothing to protect. */
	csv_line(&want, &wl, 25, 24, "a.example", "example", "run-1", "2023-11-14T22:13:20Z",
		 "nxdomain", "", NULL, NULL, "n-a", NULL, "n-a", "n-a", NULL, NULL, NULL, NULL,
		 NULL, NULL, "n-a", NULL, NULL, NULL, NULL, "no-mail");
	/* Sorted by preference then name; the odd name quoted, quote doubled. */
	csv_line(&want, &wl, 25, 19, "b.example", "example", "run-1", "1970-01-01T00:00:00Z",
		 "ok", "\"10:mx1.b.example;10:we,ird\"\"mx\nhost;20:mx2.b.example\"",
		 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "n-a");
	/* Quoted for the quote alone; other bytes pass through as they are. */
	csv_line(&want, &wl, 25, 19, "c", "c", "run-1", "2023-11-14T22:13:21Z", "ok",
		 "\"0:\x01tab\there\xc3\xa9\xff\x7f\\;5:say\"\"hi\"",
		 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "n-a");
	csv_line(&want, &wl, 25, 19, "d.example", "example", "run-1", "2023-11-14T22:13:20Z",
		 "ok", "\"1:cr\rhost\"",
		 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "n-a");
	csv_line(&want, &wl, 25, 19, "e.example", "example", "run-1", "2023-11-14T22:13:20Z",
		 "ok", "\"1:a,b\"",
		 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "n-a");

	got = export_text(*state, MXC_EXPORT_DOMAINS, MXC_EXPORT_CSV, &rows, &err);
	assert_int_equal(err, 0);
	assert_string_equal(got, want);
	assert_int_equal(rows, 5);
	free(got);
	free(want);
}

static void test_domains_jsonl(void **state)
{
	char *want = NULL, *got;
	size_t wl = 0;
	uint64_t rows = 0;
	int err;
	const char *a[25] = { "\"a.example\"", "\"example\"", "\"run-1\"",
			      "\"2023-11-14T22:13:20Z\"", "\"nxdomain\"", "\"\"",
			      [8] = "\"n-a\"", [10] = "\"n-a\"", [11] = "\"n-a\"",
			      [18] = "\"n-a\"", [23] = "\"no-mail\"" };
	const char *b[25] = { "\"b.example\"", "\"example\"", "\"run-1\"",
			      "\"1970-01-01T00:00:00Z\"", "\"ok\"",
			      "\"10:mx1.b.example;10:we,ird\\\"mx\\nhost;20:mx2.b.example\"" };
	/* Control bytes escaped, valid UTF-8 kept, a stray byte as U+00FF. */
	const char *c[25] = { "\"c\"", "\"c\"", "\"run-1\"", "\"2023-11-14T22:13:21Z\"",
			      "\"ok\"",
			      "\"0:\\u0001tab\\there\xc3\xa9\\u00ff\\u007f\\\\;5:say\\\"hi\"" };
	const char *d[25] = { "\"d.example\"", "\"example\"", "\"run-1\"",
			      "\"2023-11-14T22:13:20Z\"", "\"ok\"", "\"1:cr\\rhost\"" };
	const char *e[25] = { "\"e.example\"", "\"example\"", "\"run-1\"",
			      "\"2023-11-14T22:13:20Z\"", "\"ok\"", "\"1:a,b\"" };

	/* Domains whose hosts were never stored: only "no policy" is known. */
	b[18] = c[18] = d[18] = e[18] = "\"n-a\"";
	fill_store(*state);
	json_line(&want, &wl, dom_names, 25, a);
	json_line(&want, &wl, dom_names, 25, b);
	json_line(&want, &wl, dom_names, 25, c);
	json_line(&want, &wl, dom_names, 25, d);
	json_line(&want, &wl, dom_names, 25, e);
	got = export_text(*state, MXC_EXPORT_DOMAINS, MXC_EXPORT_JSONL, &rows, &err);
	assert_int_equal(err, 0);
	assert_string_equal(got, want);
	assert_int_equal(rows, 5);
	free(got);
	free(want);
}

static void test_hosts_csv(void **state)
{
	char *want = NULL, *got;
	size_t wl = 0;
	uint64_t rows = 0;
	int err;
	const char *tlsa = "3 1 1 " TLSA_HEX1 ";2 0 1 " TLSA_HEX2;

	fill_store(*state);
	add(&want, &wl, host_header);
	/* One row per address, each with the host's TLSA records. */
	csv_line(&want, &wl, 21, 18, "mx1.b.example", "192.0.2.1", "25", NULL, NULL, NULL,
		 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, tlsa);
	csv_line(&want, &wl, 21, 18, "mx1.b.example", "2001:db8::1", "25", NULL, NULL, NULL,
		 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, tlsa);
	/* No address: one row with an empty ip; an unparsable answer: no TLSA. */
	csv_line(&want, &wl, 21, 3, "mx2.b.example", "", "25");

	got = export_text(*state, MXC_EXPORT_HOSTS, MXC_EXPORT_CSV, &rows, &err);
	assert_int_equal(err, 0);
	assert_string_equal(got, want);
	assert_int_equal(rows, 3);
	free(got);
	free(want);
}

static void test_hosts_jsonl(void **state)
{
	char *want = NULL, *got;
	size_t wl = 0;
	uint64_t rows = 0;
	int err;
	const char *tlsa = "\"3 1 1 " TLSA_HEX1 ";2 0 1 " TLSA_HEX2 "\"";
	const char *v4[21] = { "\"mx1.b.example\"", "\"192.0.2.1\"", "25" };
	const char *v6[21] = { "\"mx1.b.example\"", "\"2001:db8::1\"", "25" };
	const char *none[21] = { "\"mx2.b.example\"", "\"\"", "25" };

	v4[17] = tlsa;
	v6[17] = tlsa;
	fill_store(*state);
	json_line(&want, &wl, host_names, 21, v4);
	json_line(&want, &wl, host_names, 21, v6);
	json_line(&want, &wl, host_names, 21, none);
	got = export_text(*state, MXC_EXPORT_HOSTS, MXC_EXPORT_JSONL, &rows, &err);
	assert_int_equal(err, 0);
	assert_string_equal(got, want);
	assert_int_equal(rows, 3);
	free(got);
	free(want);
}

static void test_empty_store_and_formats(void **state)
{
	struct mxc_store *s;
	char msg[256];
	uint64_t rows = 7;
	int err;
	char *got;
	enum mxc_export_what w;
	enum mxc_export_format f;

	assert_int_equal(mxc_store_open(*state, MXC_STORE_CREATE, 10, &s, msg, sizeof(msg)), 0);
	assert_int_equal(mxc_store_close(s), 0);
	/* Only the header for CSV, nothing for JSONL. */
	got = export_text(*state, MXC_EXPORT_DOMAINS, MXC_EXPORT_CSV, &rows, &err);
	assert_int_equal(err, 0);
	assert_string_equal(got, dom_header);
	assert_int_equal(rows, 0);
	free(got);
	got = export_text(*state, MXC_EXPORT_HOSTS, MXC_EXPORT_JSONL, &rows, &err);
	assert_int_equal(err, 0);
	assert_true(got == NULL || got[0] == '\0');
	free(got);
	/* Parquet: a file with no rows, which still opens with its magic
	 * (tests/unit/test_parquet.c reads such files back whole). */
	rows = 7;
	got = export_text(*state, MXC_EXPORT_DOMAINS, MXC_EXPORT_PARQUET, &rows, &err);
	assert_int_equal(err, 0);
	assert_int_equal(rows, 0);
	assert_non_null(got);
	assert_memory_equal(got, "PAR1", 4);
	free(got);

	assert_int_equal(mxc_export_what_parse("domains", &w), 0);
	assert_int_equal(w, MXC_EXPORT_DOMAINS);
	assert_int_equal(mxc_export_what_parse("hosts", &w), 0);
	assert_int_equal(w, MXC_EXPORT_HOSTS);
	assert_int_equal(mxc_export_what_parse("Domains", &w), MXC_EINVAL);
	assert_int_equal(mxc_export_what_parse("", &w), MXC_EINVAL);
	assert_int_equal(mxc_export_format_parse("csv", &f), 0);
	assert_int_equal(f, MXC_EXPORT_CSV);
	assert_int_equal(mxc_export_format_parse("jsonl", &f), 0);
	assert_int_equal(f, MXC_EXPORT_JSONL);
	assert_int_equal(mxc_export_format_parse("parquet", &f), 0);
	assert_int_equal(f, MXC_EXPORT_PARQUET);
	assert_int_equal(mxc_export_format_parse("json", &f), MXC_EINVAL);
}

static void test_write_error(void **state)
{
	struct mxc_store *s;
	char msg[256];
	FILE *f;
	int err;

	fill_store(*state);
	/* A stream opened for reading only: every write fails. */
	f = fopen("/dev/null", "r");
	assert_non_null(f);
	assert_int_equal(mxc_store_open(*state, MXC_STORE_RDONLY, 0, &s, msg, sizeof(msg)), 0);
	err = mxc_export(s, MXC_EXPORT_DOMAINS, MXC_EXPORT_CSV, f, NULL);
	assert_int_equal(err, MXC_EIO);
	assert_int_equal(mxc_store_close(s), 0);
	fclose(f);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_store, drop_store)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_domains_csv),
		T(test_domains_jsonl),
		T(test_hosts_csv),
		T(test_hosts_jsonl),
		T(test_empty_store_and_formats),
		T(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
