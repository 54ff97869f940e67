/**
 * \file
 * Unit tests for the classifier (analysis/classify.c). One table of cases,
 * each a small function that builds a domain's facts from a common base
 * (two mail hosts that do STARTTLS with PKIX-valid certificates, no DNSSEC,
 * no policy) and the exact columns and issue list expected: every exposure
 * class, every issue code raised and (through the exact list) not raised,
 * the empty and n-a cases, and mixed hosts. Further tests check that the
 * table of codes is sorted and complete, that every code is raised by some
 * case, that the order of the hosts does not matter, and the helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/classify.h"
#include "common/error.h"

#define NHOST 4
#define NTLSA 4

/* The facts of one case and the storage they point into. */
struct fx {
	struct mxc_domain_facts f;
	struct mxc_host_facts h[NHOST];
	struct mxc_fact_tlsa_rr tlsa[NHOST][NTLSA];
	const char *mx[4];
};

static const char *const host_names[NHOST] = {
	"mx1.example.com", "mx2.example.com", "mx3.example.com", "mx4.example.com",
};

/* Base: MX ok, DNSSEC insecure, n hosts doing TLS 1.3 with valid certs. */
static void base(struct fx *x, size_t n)
{
	size_t i;

	memset(x, 0, sizeof(*x));
	x->f.mx_status = MXC_MX_OK;
	x->f.dnssec = MXC_FACT_DNSSEC_INSECURE;
	x->f.dnssec_reason = "no-ds";
	x->f.hosts = x->h;
	x->f.n_hosts = n;
	for (i = 0; i < n; i++) {
		x->h[i].name = host_names[i];
		x->h[i].address = "127.0.0.1";
		x->h[i].status = MXC_FACT_HOST_OK;
		x->h[i].starttls_offered = true;
		x->h[i].tls_version = 0x0304;
		x->h[i].pkix_chain_valid = true;
		x->h[i].cert_name_matches = true;
		x->h[i].tlsa = MXC_FACT_TLSA_NONE;
		x->h[i].tlsa_rr = x->tlsa[i];
		x->h[i].dane = MXC_FACT_DANE_NONE;
		x->h[i].addr_dnssec = MXC_FACT_DNSSEC_INSECURE;
	}
}

static void two(struct fx *x)
{
	base(x, 2);
}

/* Host i gets a secure TLSA RRset of the given "usage selector mtype"
 * triples (as digits: 311 is 3 1 1) behind a secure address. */
static void tlsa(struct fx *x, size_t i, enum mxc_fact_tlsa st, const int *rr, size_t n)
{
	size_t k;

	x->h[i].tlsa = st;
	x->h[i].n_tlsa = n;
	x->h[i].addr_dnssec = MXC_FACT_DNSSEC_SECURE;
	for (k = 0; k < n; k++) {
		x->tlsa[i][k].usage = (uint8_t)(rr[k] / 100);
		x->tlsa[i][k].selector = (uint8_t)(rr[k] / 10 % 10);
		x->tlsa[i][k].mtype = (uint8_t)(rr[k] % 10);
	}
}

static const int EE_EE[] = { 311, 311 };
static const int EE_TA[] = { 311, 211 };

/* Full DANE: secure MX, every host with a rollover pair that matches. */
static void dane(struct fx *x)
{
	size_t i;

	two(x);
	x->f.dnssec = MXC_FACT_DNSSEC_SECURE;
	for (i = 0; i < x->f.n_hosts; i++) {
		tlsa(x, i, MXC_FACT_TLSA_SECURE, EE_EE, 2);
		x->h[i].dane = MXC_FACT_DANE_MATCH_EE;
	}
}

/* An MTA-STS policy in @p mode covering *.example.com, with TLS-RPT. */
static void sts(struct fx *x, enum mxc_sts_mode mode)
{
	x->mx[0] = "*.example.com";
	x->f.sts_txt = MXC_TXTREC_VALID;
	x->f.sts_id = "20261129";
	x->f.sts_policy = MXC_FACT_STS_POLICY_OK;
	x->f.sts_mode = mode;
	x->f.sts_max_age = 604800;
	x->f.sts_mx = x->mx;
	x->f.n_sts_mx = 1;
	x->f.tls_rpt = MXC_TXTREC_VALID;
}

static void enforce(struct fx *x)
{
	two(x);
	sts(x, MXC_STS_MODE_ENFORCE);
}

static void testing(struct fx *x)
{
	two(x);
	sts(x, MXC_STS_MODE_TESTING);
}

/* --- the cases ---------------------------------------------------------- */

static void c_unknown(struct fx *x)
{
	/* An mx_status from a newer writer: nothing is claimed. */
	memset(x, 0, sizeof(*x));
	x->f.mx_status = MXC_MX__COUNT;
	x->f.dnssec = MXC_FACT_DNSSEC_SECURE;
}

static void c_zeroed(struct fx *x)
{
	/* MX "ok" without a host: no usable mail host. */
	memset(x, 0, sizeof(*x));
}

static void c_null_mx(struct fx *x)
{
	memset(x, 0, sizeof(*x));
	x->f.mx_status = MXC_MX_NULL;
	x->f.dnssec = MXC_FACT_DNSSEC_SECURE;
	x->f.dnssec_reason = "ignored when secure";
}

static void c_nxdomain(struct fx *x)
{
	memset(x, 0, sizeof(*x));
	x->f.mx_status = MXC_MX_NXDOMAIN;
	x->f.dnssec = MXC_FACT_DNSSEC_INSECURE;
	x->f.dnssec_reason = "no-ds";
}

static void c_no_mail(struct fx *x)
{
	memset(x, 0, sizeof(*x));
	x->f.mx_status = MXC_MX_NO_MAIL;
	x->f.dnssec = MXC_FACT_DNSSEC_INDETERMINATE;
	x->f.dnssec_reason = "no-answer";
}

static void c_servfail(struct fx *x)
{
	memset(x, 0, sizeof(*x));
	x->f.mx_status = MXC_MX_SERVFAIL;
	x->f.dnssec = MXC_FACT_DNSSEC_INDETERMINATE;
	x->f.dnssec_reason = "servfail";
}

static void c_timeout_bogus(struct fx *x)
{
	memset(x, 0, sizeof(*x));
	x->f.mx_status = MXC_MX_TIMEOUT;
	x->f.dnssec = MXC_FACT_DNSSEC_BOGUS;
	x->f.dnssec_reason = "sig-expired";
}

static void c_null_mx_with_other(struct fx *x)
{
	two(x);
	x->f.null_mx_with_other = true;
}

static void c_plaintext(struct fx *x)
{
	two(x);
	x->h[0].status = MXC_FACT_HOST_NO_STARTTLS;
	x->h[1].status = MXC_FACT_HOST_STARTTLS_REJECTED;
	x->h[0].starttls_offered = false;
	x->h[0].tls_version = x->h[1].tls_version = 0;
}

static void c_plaintext_tls_failed(struct fx *x)
{
	two(x);
	x->h[0].status = x->h[1].status = MXC_FACT_HOST_TLS_FAILED;
	x->h[0].tls_version = x->h[1].tls_version = 0;
}

static void c_stripped(struct fx *x)
{
	c_plaintext(x);
	x->h[0].stripping_evidence = true;
}

static void c_some_starttls(struct fx *x)
{
	two(x);
	x->h[1].status = MXC_FACT_HOST_NO_STARTTLS;
	x->h[1].tls_version = 0;
	/* Certificate facts of a host without TLS are not looked at. */
	x->h[1].cert_expired = true;
}

static void c_unreachable(struct fx *x)
{
	base(x, 3);
	x->h[0].status = MXC_FACT_HOST_CONNECT_FAILED;
	x->h[1].status = MXC_FACT_HOST_TIMEOUT;
	x->h[2].status = MXC_FACT_HOST_BANNER_ERROR;
}

static void c_one_unreachable(struct fx *x)
{
	two(x);
	x->h[1].status = MXC_FACT_HOST_CONNECT_FAILED;
	x->h[1].tls_version = 0x0301; /* stale facts of a failed host are ignored */
}

static void c_not_probed(struct fx *x)
{
	two(x);
	x->h[0].status = x->h[1].status = MXC_FACT_HOST_NOT_PROBED;
}

static void c_no_address(struct fx *x)
{
	two(x);
	x->h[0].status = x->h[1].status = MXC_FACT_HOST_NO_ADDRESS;
}

static void c_no_hosts(struct fx *x)
{
	base(x, 0);
}

static void c_tls_min(struct fx *x)
{
	base(x, 3);
	x->h[0].tls_version = 0x0303;
	x->h[2].tls_version = 0x7f1c; /* unknown: not taken as the minimum */
}

static void c_tls_old(struct fx *x)
{
	two(x);
	x->h[1].tls_version = 0x0301;
}

static void c_cert_name(struct fx *x)
{
	two(x);
	x->h[1].cert_name_matches = false;
}

static void c_cert_bad_all(struct fx *x)
{
	two(x);
	x->h[0].cert_expired = true;
	x->h[1].pkix_chain_valid = false;
}

static void c_dane(struct fx *x)
{
	dane(x);
}

static void c_dane_ee_selfsigned(struct fx *x)
{
	/* DANE-EE ignores names and dates (RFC 7672 3.1.1). */
	dane(x);
	x->h[0].pkix_chain_valid = x->h[1].pkix_chain_valid = false;
	x->h[0].cert_name_matches = false;
	x->h[1].cert_expired = true;
}

static void c_dane_ta_name(struct fx *x)
{
	dane(x);
	tlsa(x, 0, MXC_FACT_TLSA_SECURE, EE_TA, 2);
	x->h[0].dane = MXC_FACT_DANE_MATCH_TA;
	x->h[0].cert_name_matches = false;
}

static void c_dane_single(struct fx *x)
{
	static const int one[] = { 311 };

	dane(x);
	tlsa(x, 1, MXC_FACT_TLSA_SECURE, one, 1);
}

static void c_dane_two_ta(struct fx *x)
{
	static const int ta[] = { 211, 201 };

	dane(x);
	tlsa(x, 1, MXC_FACT_TLSA_SECURE, ta, 2);
	x->h[1].dane = MXC_FACT_DANE_MATCH_TA;
}

static void c_dane_pkix_usage(struct fx *x)
{
	/* One usable DANE-EE beside a PKIX-EE: counts as a single record. */
	static const int rr[] = { 311, 111 };

	dane(x);
	tlsa(x, 0, MXC_FACT_TLSA_SECURE, rr, 2);
}

static void c_dane_unusable(struct fx *x)
{
	static const int rr[] = { 11, 111, 351 };

	dane(x);
	tlsa(x, 1, MXC_FACT_TLSA_SECURE, rr, 3);
	x->h[1].dane = MXC_FACT_DANE_NONE;
}

static void c_dane_mismatch(struct fx *x)
{
	dane(x);
	x->h[1].dane = MXC_FACT_DANE_MISMATCH;
}

static void c_dane_no_starttls(struct fx *x)
{
	dane(x);
	x->h[1].status = MXC_FACT_HOST_NO_STARTTLS;
	x->h[1].dane = MXC_FACT_DANE_UNKNOWN;
}

static void c_dane_tls_failed(struct fx *x)
{
	dane(x);
	x->h[0].status = MXC_FACT_HOST_TLS_FAILED;
	x->h[0].dane = MXC_FACT_DANE_UNKNOWN;
}

static void c_dane_partial(struct fx *x)
{
	dane(x);
	x->h[1].tlsa = MXC_FACT_TLSA_NONE;
	x->h[1].n_tlsa = 0;
	x->h[1].dane = MXC_FACT_DANE_NONE;
}

static void c_dane_unreached(struct fx *x)
{
	/* One DANE host down: the other carries the verdict. */
	dane(x);
	x->h[1].status = MXC_FACT_HOST_TIMEOUT;
	x->h[1].dane = MXC_FACT_DANE_UNKNOWN;
}

static void c_dane_none_reached(struct fx *x)
{
	dane(x);
	x->h[0].status = x->h[1].status = MXC_FACT_HOST_CONNECT_FAILED;
	x->h[0].dane = x->h[1].dane = MXC_FACT_DANE_UNKNOWN;
}

static void c_dane_unchecked(struct fx *x)
{
	/* The handshake was done but not checked against the records. */
	dane(x);
	x->h[1].dane = MXC_FACT_DANE_UNKNOWN;
}

static void c_dane_not_probed(struct fx *x)
{
	dane(x);
	x->h[0].status = x->h[1].status = MXC_FACT_HOST_NOT_PROBED;
	x->h[0].dane = x->h[1].dane = MXC_FACT_DANE_UNKNOWN;
}

static void c_tlsa_insecure(struct fx *x)
{
	two(x);
	tlsa(x, 0, MXC_FACT_TLSA_INSECURE, EE_EE, 2);
	x->h[0].addr_dnssec = MXC_FACT_DNSSEC_INSECURE;
	x->h[0].dane = MXC_FACT_DANE_NOT_DNSSEC;
}

static void c_tlsa_addr_insecure(struct fx *x)
{
	dane(x);
	x->h[1].addr_dnssec = MXC_FACT_DNSSEC_INSECURE;
}

static void c_tlsa_insecure_pkix_usage(struct fx *x)
{
	static const int rr[] = { 1 };

	two(x);
	tlsa(x, 0, MXC_FACT_TLSA_INSECURE, rr, 1);
}

static void c_dane_mx_insecure(struct fx *x)
{
	dane(x);
	x->f.dnssec = MXC_FACT_DNSSEC_INSECURE;
}

static void c_tlsa_bogus(struct fx *x)
{
	dane(x);
	x->h[1].tlsa = MXC_FACT_TLSA_BOGUS;
	x->h[1].n_tlsa = 0;
	x->h[1].dane = MXC_FACT_DANE_UNKNOWN;
}

static void c_addr_bogus(struct fx *x)
{
	two(x);
	x->h[1].status = MXC_FACT_HOST_NO_ADDRESS;
	x->h[1].addr_dnssec = MXC_FACT_DNSSEC_BOGUS;
	x->h[1].tlsa = MXC_FACT_TLSA_UNKNOWN;
}

static void c_mx_bogus(struct fx *x)
{
	two(x);
	x->f.dnssec = MXC_FACT_DNSSEC_BOGUS;
	x->f.dnssec_reason = "signature-expired-long-reason-that-is-cut-at-sixty-three-bytes-"
			     "exactly-here";
}

static void c_tlsa_unknown(struct fx *x)
{
	two(x);
	x->h[0].tlsa = x->h[1].tlsa = MXC_FACT_TLSA_UNKNOWN;
}

static void c_sts(struct fx *x)
{
	enforce(x);
}

static void c_sts_no_tlsrpt(struct fx *x)
{
	enforce(x);
	x->f.tls_rpt = MXC_TXTREC_NONE;
}

static void c_sts_tlsrpt_invalid(struct fx *x)
{
	enforce(x);
	x->f.tls_rpt = MXC_TXTREC_INVALID;
}

static void c_sts_uncovered(struct fx *x)
{
	enforce(x);
	x->h[1].name = "mail.example.net";
}

static void c_sts_no_patterns(struct fx *x)
{
	enforce(x);
	x->f.n_sts_mx = 0;
}

static void c_sts_untrusted(struct fx *x)
{
	enforce(x);
	x->h[1].pkix_chain_valid = false;
}

static void c_sts_expired(struct fx *x)
{
	enforce(x);
	x->h[0].cert_expired = true;
}

static void c_sts_name(struct fx *x)
{
	enforce(x);
	x->h[0].cert_name_matches = false;
}

static void c_sts_no_starttls(struct fx *x)
{
	enforce(x);
	x->h[1].status = MXC_FACT_HOST_STARTTLS_REJECTED;
}

static void c_sts_tls_failed(struct fx *x)
{
	enforce(x);
	x->h[1].status = MXC_FACT_HOST_TLS_FAILED;
}

static void c_sts_unreached(struct fx *x)
{
	enforce(x);
	x->h[1].status = MXC_FACT_HOST_CONNECT_FAILED;
	x->h[1].pkix_chain_valid = false; /* not looked at */
}

static void c_sts_testing(struct fx *x)
{
	testing(x);
	/* TLS-RPT is asked for in enforce mode only. */
	x->f.tls_rpt = MXC_TXTREC_NONE;
}

static void c_sts_testing_name(struct fx *x)
{
	testing(x);
	x->h[1].cert_name_matches = false;
}

static void c_sts_testing_uncovered(struct fx *x)
{
	testing(x);
	x->h[0].name = "mx.other.example";
}

static void c_sts_testing_plaintext(struct fx *x)
{
	testing(x);
	x->h[0].status = x->h[1].status = MXC_FACT_HOST_NO_STARTTLS;
}

static void c_sts_mode_none(struct fx *x)
{
	two(x);
	sts(x, MXC_STS_MODE_NONE);
	x->f.n_sts_mx = 0;
}

static void c_sts_multiple(struct fx *x)
{
	enforce(x);
	x->f.sts_txt = MXC_TXTREC_MULTIPLE;
	x->h[1].name = "mail.example.net"; /* no policy: not a mismatch */
}

static void c_sts_fetch_connect(struct fx *x)
{
	two(x);
	sts(x, MXC_STS_MODE_UNSET);
	x->f.sts_policy = MXC_FACT_STS_POLICY_FETCH_ERROR;
	x->f.sts_fetch_error = MXC_FACT_STS_FETCH_CONNECT;
}

static void c_sts_fetch_tls_name(struct fx *x)
{
	c_sts_fetch_connect(x);
	x->f.sts_fetch_error = MXC_FACT_STS_FETCH_TLS_NAME;
}

static void c_sts_fetch_tls_pkix(struct fx *x)
{
	c_sts_fetch_connect(x);
	x->f.sts_fetch_error = MXC_FACT_STS_FETCH_TLS_PKIX;
}

static void c_sts_fetch_http(struct fx *x)
{
	c_sts_fetch_connect(x);
	x->f.sts_fetch_error = MXC_FACT_STS_FETCH_HTTP_STATUS;
	x->f.sts_http_status = 404;
}

static void c_sts_policy_invalid(struct fx *x)
{
	two(x);
	sts(x, MXC_STS_MODE_UNSET);
	x->f.sts_policy = MXC_FACT_STS_POLICY_INVALID;
	x->f.sts_parse_error = MXC_STS_ERR_MISSING_MX;
}

static void c_sts_txt_invalid(struct fx *x)
{
	/* No valid record: a sender never fetches, whatever happened. */
	c_sts_fetch_connect(x);
	x->f.sts_txt = MXC_TXTREC_INVALID;
}

static void c_dane_and_sts(struct fx *x)
{
	dane(x);
	sts(x, MXC_STS_MODE_ENFORCE);
}

static void c_dane_and_sts_selfsigned(struct fx *x)
{
	/* DANE holds, but an MTA-STS-only sender refuses the certificate. */
	c_dane_and_sts(x);
	x->h[0].pkix_chain_valid = false;
}

static void c_dane_and_sts_testing(struct fx *x)
{
	dane(x);
	sts(x, MXC_STS_MODE_TESTING);
}

static void c_implicit_sts(struct fx *x)
{
	base(x, 1);
	x->f.mx_status = MXC_MX_IMPLICIT;
	x->h[0].name = "example.com";
	sts(x, MXC_STS_MODE_ENFORCE);
	x->mx[0] = "example.com";
}

static void c_two_addresses(struct fx *x)
{
	/* One name, two addresses: the IPv6 one has no STARTTLS. */
	two(x);
	x->h[1].name = x->h[0].name;
	x->h[1].address = "::1";
	x->h[1].status = MXC_FACT_HOST_NO_STARTTLS;
}

struct case_cls {
	const char *name;
	void (*setup)(struct fx *x);
	const char *dnssec, *reason, *starttls, *tls_min, *pkix, *dane, *mx_match, *exposure;
	const char *issues; /* the exact export string */
};

#define INS "insecure", "no-ds"
#define SEC "secure", ""

static const struct case_cls cases[] = {
	/* Nothing gathered, no mail, lookup failures. */
	{ "unknown", c_unknown, SEC, "", "", "", "", "", "", "" },
	{ "zeroed", c_zeroed, "", "", "n-a", "", "n-a", "n-a", "n-a", "no-mail", "" },
	{ "null-mx", c_null_mx, SEC, "n-a", "", "n-a", "n-a", "n-a", "no-mail", "" },
	{ "nxdomain", c_nxdomain, INS, "n-a", "", "n-a", "n-a", "n-a", "no-mail", "" },
	{ "no-mail", c_no_mail, "indeterminate", "no-answer", "n-a", "", "n-a", "n-a", "n-a",
	  "no-mail", "" },
	{ "servfail", c_servfail, "indeterminate", "servfail", "", "", "", "", "", "", "" },
	{ "timeout-bogus", c_timeout_bogus, "bogus", "sig-expired", "", "", "", "bogus", "",
	  "broken", "dnssec-bogus;dnssec-invalid" },
	{ "null-mx-with-other", c_null_mx_with_other, INS, "all", "TLSv1.3", "all-valid", "none",
	  "n-a", "strippable", "null-mx-with-other-mx" },

	/* STARTTLS over the hosts. */
	{ "plaintext", c_plaintext, INS, "none", "", "n-a", "none", "n-a", "plaintext", "" },
	{ "plaintext-tls-failed", c_plaintext_tls_failed, INS, "none", "", "n-a", "none", "n-a",
	  "plaintext", "" },
	{ "stripped", c_stripped, INS, "none", "", "n-a", "none", "n-a", "plaintext",
	  "starttls-stripped" },
	{ "strippable", two, INS, "all", "TLSv1.3", "all-valid", "none", "n-a", "strippable", "" },
	{ "some-starttls", c_some_starttls, INS, "some", "TLSv1.3", "all-valid", "none", "n-a",
	  "strippable", "" },
	{ "unreachable", c_unreachable, INS, "unreachable", "", "n-a", "none", "n-a", "no-mail",
	  "" },
	{ "one-unreachable", c_one_unreachable, INS, "all", "TLSv1.3", "all-valid", "none", "n-a",
	  "strippable", "" },
	{ "not-probed", c_not_probed, INS, "", "", "", "none", "n-a", "", "" },
	{ "no-address", c_no_address, INS, "unreachable", "", "n-a", "n-a", "n-a", "no-mail", "" },
	{ "no-hosts", c_no_hosts, INS, "n-a", "", "n-a", "n-a", "n-a", "no-mail", "" },
	{ "two-addresses", c_two_addresses, INS, "some", "TLSv1.3", "all-valid", "none", "n-a",
	  "strippable", "" },

	/* TLS versions and certificates. */
	{ "tls-min", c_tls_min, INS, "all", "TLSv1.2", "all-valid", "none", "n-a", "strippable",
	  "" },
	{ "tls-old", c_tls_old, INS, "all", "TLSv1", "all-valid", "none", "n-a", "strippable", "" },
	{ "cert-name", c_cert_name, INS, "all", "TLSv1.3", "some-invalid", "none", "n-a",
	  "strippable", "mx-cert-name-mismatch" },
	{ "cert-bad-all", c_cert_bad_all, INS, "all", "TLSv1.3", "none-valid", "none", "n-a",
	  "strippable", "mx-cert-expired" },

	/* DANE. */
	{ "dane", c_dane, SEC, "all", "TLSv1.3", "all-valid", "valid", "n-a", "dane", "" },
	{ "dane-ee-selfsigned", c_dane_ee_selfsigned, SEC, "all", "TLSv1.3", "none-valid", "valid",
	  "n-a", "dane", "" },
	{ "dane-ta-name", c_dane_ta_name, SEC, "all", "TLSv1.3", "some-invalid", "valid", "n-a",
	  "dane", "mx-cert-name-mismatch" },
	{ "dane-single", c_dane_single, SEC, "all", "TLSv1.3", "all-valid", "valid", "n-a", "dane",
	  "single-tlsa-no-rollover" },
	{ "dane-two-ta", c_dane_two_ta, SEC, "all", "TLSv1.3", "all-valid", "valid", "n-a", "dane",
	  "single-tlsa-no-rollover" },
	{ "dane-pkix-usage", c_dane_pkix_usage, SEC, "all", "TLSv1.3", "all-valid", "valid", "n-a",
	  "dane", "single-tlsa-no-rollover;tlsa-usage-pkix-on-port-25" },
	{ "dane-unusable", c_dane_unusable, SEC, "all", "TLSv1.3", "all-valid", "invalid", "n-a",
	  "strippable", "tlsa-invalid;tlsa-usage-pkix-on-port-25" },
	{ "dane-mismatch", c_dane_mismatch, SEC, "all", "TLSv1.3", "all-valid", "invalid", "n-a",
	  "broken", "tlsa-invalid;tlsa-mismatch" },
	{ "dane-no-starttls", c_dane_no_starttls, SEC, "some", "TLSv1.3", "all-valid", "invalid",
	  "n-a", "broken", "starttls-not-supported" },
	{ "dane-tls-failed", c_dane_tls_failed, SEC, "some", "TLSv1.3", "all-valid", "invalid",
	  "n-a", "broken", "validation-failure" },
	{ "dane-partial", c_dane_partial, SEC, "all", "TLSv1.3", "all-valid", "invalid", "n-a",
	  "strippable", "dane-required" },
	{ "dane-unreached", c_dane_unreached, SEC, "all", "TLSv1.3", "all-valid", "valid", "n-a",
	  "dane", "" },
	{ "dane-none-reached", c_dane_none_reached, SEC, "unreachable", "", "n-a", "n-a", "n-a",
	  "no-mail", "" },
	{ "dane-unchecked", c_dane_unchecked, SEC, "all", "TLSv1.3", "all-valid", "", "n-a",
	  "strippable", "" },
	{ "dane-not-probed", c_dane_not_probed, SEC, "", "", "", "", "n-a", "", "" },
	{ "tlsa-insecure", c_tlsa_insecure, INS, "all", "TLSv1.3", "all-valid", "not-dnssec", "n-a",
	  "strippable", "tlsa-without-dnssec" },
	{ "tlsa-addr-insecure", c_tlsa_addr_insecure, SEC, "all", "TLSv1.3", "all-valid", "invalid",
	  "n-a", "strippable", "dane-required;tlsa-without-dnssec" },
	{ "tlsa-insecure-pkix-usage", c_tlsa_insecure_pkix_usage, INS, "all", "TLSv1.3",
	  "all-valid", "not-dnssec", "n-a", "strippable",
	  "tlsa-usage-pkix-on-port-25;tlsa-without-dnssec" },
	{ "dane-mx-insecure", c_dane_mx_insecure, INS, "all", "TLSv1.3", "all-valid", "not-dnssec",
	  "n-a", "strippable", "" },
	{ "tlsa-bogus", c_tlsa_bogus, SEC, "all", "TLSv1.3", "all-valid", "bogus", "n-a", "broken",
	  "dnssec-bogus;dnssec-invalid" },
	{ "addr-bogus", c_addr_bogus, INS, "all", "TLSv1.3", "all-valid", "bogus", "n-a", "broken",
	  "dnssec-bogus;dnssec-invalid" },
	{ "mx-bogus", c_mx_bogus, "bogus",
	  "signature-expired-long-reason-that-is-cut-at-sixty-three-bytes-", "all", "TLSv1.3",
	  "all-valid", "bogus", "n-a", "broken", "dnssec-bogus;dnssec-invalid" },
	{ "tlsa-unknown", c_tlsa_unknown, INS, "all", "TLSv1.3", "all-valid", "", "n-a",
	  "strippable", "" },

	/* MTA-STS. */
	{ "sts", c_sts, INS, "all", "TLSv1.3", "all-valid", "none", "all", "mta-sts", "" },
	{ "sts-no-tlsrpt", c_sts_no_tlsrpt, INS, "all", "TLSv1.3", "all-valid", "none", "all",
	  "mta-sts", "mta-sts-enforce-without-tls-rpt" },
	{ "sts-tlsrpt-invalid", c_sts_tlsrpt_invalid, INS, "all", "TLSv1.3", "all-valid", "none",
	  "all", "mta-sts", "mta-sts-enforce-without-tls-rpt" },
	{ "sts-uncovered", c_sts_uncovered, INS, "all", "TLSv1.3", "all-valid", "none", "some",
	  "broken", "mta-sts-mx-mismatch;validation-failure" },
	{ "sts-no-patterns", c_sts_no_patterns, INS, "all", "TLSv1.3", "all-valid", "none", "none",
	  "broken", "mta-sts-mx-mismatch;validation-failure" },
	{ "sts-untrusted", c_sts_untrusted, INS, "all", "TLSv1.3", "some-invalid", "none", "some",
	  "broken", "certificate-not-trusted;mta-sts-mx-cert-invalid" },
	{ "sts-expired", c_sts_expired, INS, "all", "TLSv1.3", "some-invalid", "none", "some",
	  "broken", "certificate-expired;mta-sts-mx-cert-invalid;mx-cert-expired" },
	{ "sts-name", c_sts_name, INS, "all", "TLSv1.3", "some-invalid", "none", "some", "broken",
	  "certificate-host-mismatch;mta-sts-mx-cert-invalid;mx-cert-name-mismatch" },
	{ "sts-no-starttls", c_sts_no_starttls, INS, "some", "TLSv1.3", "all-valid", "none", "some",
	  "broken", "starttls-not-supported" },
	{ "sts-tls-failed", c_sts_tls_failed, INS, "some", "TLSv1.3", "all-valid", "none", "some",
	  "broken", "validation-failure" },
	{ "sts-unreached", c_sts_unreached, INS, "all", "TLSv1.3", "all-valid", "none", "all",
	  "mta-sts", "" },
	{ "sts-testing", c_sts_testing, INS, "all", "TLSv1.3", "all-valid", "none", "all",
	  "testing", "mta-sts-testing" },
	{ "sts-testing-name", c_sts_testing_name, INS, "all", "TLSv1.3", "some-invalid", "none",
	  "some", "testing",
	  "certificate-host-mismatch;mta-sts-testing;mx-cert-name-mismatch" },
	{ "sts-testing-uncovered", c_sts_testing_uncovered, INS, "all", "TLSv1.3", "all-valid",
	  "none", "some", "testing", "mta-sts-testing;validation-failure" },
	{ "sts-testing-plaintext", c_sts_testing_plaintext, INS, "none", "", "n-a", "none", "none",
	  "plaintext", "mta-sts-testing;starttls-not-supported" },
	{ "sts-mode-none", c_sts_mode_none, INS, "all", "TLSv1.3", "all-valid", "none", "n-a",
	  "strippable", "" },
	{ "sts-multiple", c_sts_multiple, INS, "all", "TLSv1.3", "all-valid", "none", "n-a",
	  "strippable", "multiple-mta-sts-records" },
	{ "sts-fetch-connect", c_sts_fetch_connect, INS, "all", "TLSv1.3", "all-valid", "none",
	  "n-a", "strippable", "mta-sts-policy-unreachable;sts-policy-fetch-error" },
	{ "sts-fetch-http", c_sts_fetch_http, INS, "all", "TLSv1.3", "all-valid", "none", "n-a",
	  "strippable", "mta-sts-policy-unreachable;sts-policy-fetch-error" },
	{ "sts-fetch-tls-name", c_sts_fetch_tls_name, INS, "all", "TLSv1.3", "all-valid", "none",
	  "n-a", "strippable", "mta-sts-policy-unreachable;sts-webpki-invalid" },
	{ "sts-fetch-tls-pkix", c_sts_fetch_tls_pkix, INS, "all", "TLSv1.3", "all-valid", "none",
	  "n-a", "strippable", "mta-sts-policy-unreachable;sts-webpki-invalid" },
	{ "sts-policy-invalid", c_sts_policy_invalid, INS, "all", "TLSv1.3", "all-valid", "none",
	  "n-a", "strippable", "sts-policy-invalid" },
	{ "sts-txt-invalid", c_sts_txt_invalid, INS, "all", "TLSv1.3", "all-valid", "none", "n-a",
	  "strippable", "" },
	{ "implicit-sts", c_implicit_sts, INS, "all", "TLSv1.3", "all-valid", "none", "all",
	  "mta-sts", "" },

	/* Both. */
	{ "dane+sts", c_dane_and_sts, SEC, "all", "TLSv1.3", "all-valid", "valid", "all",
	  "dane+mta-sts", "" },
	{ "dane+sts-selfsigned", c_dane_and_sts_selfsigned, SEC, "all", "TLSv1.3", "some-invalid",
	  "valid", "some", "broken", "certificate-not-trusted;mta-sts-mx-cert-invalid" },
	{ "dane+sts-testing", c_dane_and_sts_testing, SEC, "all", "TLSv1.3", "all-valid", "valid",
	  "all", "dane", "mta-sts-testing" },
};

static int classify_case(const struct case_cls *c, struct mxc_verdicts *v, char *issues,
			 size_t size)
{
	struct fx x;
	int rc;

	c->setup(&x);
	rc = mxc_classify(&x.f, v);
	if (rc)
		return rc;
	return mxc_classify_issues_write(v, issues, size, NULL);
}

static void check_str(const char *cname, const char *col, const char *got, const char *want,
		      int *bad)
{
	if (strcmp(got, want)) {
		print_error("case %s: %s is \"%s\", expected \"%s\"\n", cname, col, got, want);
		(*bad)++;
	}
}

static void test_table(void **state)
{
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct case_cls *c = &cases[i];
		struct mxc_verdicts v;
		char issues[MXC_ISSUES_STR_MAX];

		assert_int_equal(classify_case(c, &v, issues, sizeof(issues)), 0);
		check_str(c->name, "dnssec", v.dnssec, c->dnssec, &bad);
		check_str(c->name, "dnssec_reason", v.dnssec_reason, c->reason, &bad);
		check_str(c->name, "starttls", v.starttls, c->starttls, &bad);
		check_str(c->name, "tls_version_min", v.tls_version_min, c->tls_min, &bad);
		check_str(c->name, "pkix", v.pkix, c->pkix, &bad);
		check_str(c->name, "dane", v.dane, c->dane, &bad);
		check_str(c->name, "mta_sts_mx_match", v.mta_sts_mx_match, c->mx_match, &bad);
		check_str(c->name, "downgrade_exposure", v.downgrade_exposure, c->exposure, &bad);
		check_str(c->name, "issues", issues, c->issues, &bad);
	}
	assert_int_equal(bad, 0);
}

/* Every exposure class and every issue code is reached by some case, so no
 * rule is left untested by accident when the table changes. */
static void test_coverage(void **state)
{
	static const char *const exposures[] = {
		"no-mail", "plaintext", "strippable", "testing", "mta-sts", "dane",
		"dane+mta-sts", "broken",
	};
	uint64_t mask = 0;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mxc_verdicts v;
		char issues[MXC_ISSUES_STR_MAX];

		assert_int_equal(classify_case(&cases[i], &v, issues, sizeof(issues)), 0);
		mask |= v.issue_mask;
	}
	for (k = 0; k < MXC_ISSUE_COUNT; k++)
		if (!(mask & (UINT64_C(1) << k)))
			fail_msg("no case raises %s", mxc_issue_code((enum mxc_issue)k));
	for (k = 0; k < sizeof(exposures) / sizeof(exposures[0]); k++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			if (!strcmp(cases[i].exposure, exposures[k]))
				break;
		if (i == sizeof(cases) / sizeof(cases[0]))
			fail_msg("no case expects exposure %s", exposures[k]);
	}
}

/* The verdicts do not depend on the order the hosts come in. */
static void test_host_order(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx x;
		struct mxc_host_facts rev[NHOST];
		struct mxc_verdicts a, b;

		cases[i].setup(&x);
		if (x.f.n_hosts < 2)
			continue;
		assert_int_equal(mxc_classify(&x.f, &a), 0);
		for (k = 0; k < x.f.n_hosts; k++)
			rev[k] = x.h[x.f.n_hosts - 1 - k];
		x.f.hosts = rev;
		assert_int_equal(mxc_classify(&x.f, &b), 0);
		assert_string_equal(a.starttls, b.starttls);
		assert_string_equal(a.tls_version_min, b.tls_version_min);
		assert_string_equal(a.pkix, b.pkix);
		assert_string_equal(a.dane, b.dane);
		assert_string_equal(a.mta_sts_mx_match, b.mta_sts_mx_match);
		assert_string_equal(a.downgrade_exposure, b.downgrade_exposure);
		assert_true(a.issue_mask == b.issue_mask);
	}
}

static void test_issue_table(void **state)
{
	const struct mxc_issue_info *t;
	size_t n, i, rfc = 0;
	enum mxc_issue id;

	(void)state;
	t = mxc_issue_table(&n);
	assert_int_equal(n, MXC_ISSUE_COUNT);
	assert_ptr_equal(mxc_issue_table(NULL), t);
	for (i = 0; i < n; i++) {
		assert_int_equal(t[i].id, i);
		assert_true(strlen(t[i].code) > 0);
		assert_true(strlen(t[i].meaning) > 0);
		assert_true(strlen(t[i].ref) > 0);
		assert_string_equal(mxc_issue_code(t[i].id), t[i].code);
		/* Sorted and unique: the enum order is the export order. */
		if (i)
			assert_true(strcmp(t[i - 1].code, t[i].code) < 0);
		assert_int_equal(mxc_issue_parse(t[i].code, strlen(t[i].code), &id), 0);
		assert_int_equal(id, t[i].id);
		/* Export codes are lower-case words joined by '-'. */
		assert_int_equal(strspn(t[i].code, "abcdefghijklmnopqrstuvwxyz0123456789-"),
				 strlen(t[i].code));
		if (t[i].rfc8460) {
			rfc++;
			assert_non_null(strstr(t[i].ref, "RFC 8460"));
		}
	}
	/* RFC 8460 4.3 defines eleven result types; all of them are here. */
	assert_int_equal(rfc, 11);
	assert_string_equal(mxc_issue_code(MXC_ISSUE_COUNT), "?");
	assert_int_equal(mxc_issue_parse("tlsa-mismatchX", 13, &id), 0);
	assert_int_equal(id, MXC_ISSUE_TLSA_MISMATCH);
	assert_int_equal(mxc_issue_parse("tlsa-mismatch", 12, &id), MXC_ENOTFOUND);
	assert_int_equal(mxc_issue_parse("", 0, &id), MXC_ENOTFOUND);
	assert_int_equal(mxc_issue_parse(NULL, 0, &id), MXC_EINVAL);
}

static void test_issues_write(void **state)
{
	struct mxc_verdicts v;
	char buf[MXC_ISSUES_STR_MAX], small[8];
	size_t i, len = 99, want = 0;

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_int_equal(mxc_classify_issues_write(&v, small, 1, &len), 0);
	assert_string_equal(small, "");
	assert_int_equal(len, 0);

	/* Every code at once fits in MXC_ISSUES_STR_MAX. */
	for (i = 0; i < MXC_ISSUE_COUNT; i++) {
		v.issues[i] = (enum mxc_issue)i;
		want += strlen(mxc_issue_code((enum mxc_issue)i)) + (i ? 1 : 0);
	}
	v.n_issues = MXC_ISSUE_COUNT;
	assert_int_equal(mxc_classify_issues_write(&v, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, want);
	assert_int_equal(strlen(buf), want);
	assert_true(!strncmp(buf, "certificate-expired;certificate-host-mismatch;", 46));
	assert_int_equal(buf[len - 1], 'e'); /* "...validation-failure" */

	/* Exactly enough room, and one byte short. */
	v.issues[0] = MXC_ISSUE_DNSSEC_BOGUS;
	v.issues[1] = MXC_ISSUE_TLSA_MISMATCH;
	v.n_issues = 2;
	assert_int_equal(mxc_classify_issues_write(&v, buf, 27, &len), 0);
	assert_string_equal(buf, "dnssec-bogus;tlsa-mismatch");
	assert_int_equal(len, 26);
	memcpy(small, "junk", 5);
	assert_int_equal(mxc_classify_issues_write(&v, small, sizeof(small), &len), MXC_ETOOBIG);
	assert_string_equal(small, "");
	assert_int_equal(mxc_classify_issues_write(&v, buf, 26, NULL), MXC_ETOOBIG);
	assert_string_equal(buf, "");

	assert_int_equal(mxc_classify_issues_write(NULL, buf, sizeof(buf), NULL), MXC_EINVAL);
	assert_int_equal(mxc_classify_issues_write(&v, NULL, 1, NULL), MXC_EINVAL);
	assert_int_equal(mxc_classify_issues_write(&v, buf, 0, NULL), MXC_EINVAL);
}

static void test_bad_args(void **state)
{
	struct fx x;
	struct mxc_verdicts v;

	(void)state;
	two(&x);
	assert_int_equal(mxc_classify(NULL, &v), MXC_EINVAL);
	assert_int_equal(mxc_classify(&x.f, NULL), MXC_EINVAL);
	x.f.hosts = NULL;
	assert_int_equal(mxc_classify(&x.f, &v), MXC_EINVAL);
	two(&x);
	x.f.n_sts_mx = 1;
	assert_int_equal(mxc_classify(&x.f, &v), MXC_EINVAL);
	two(&x);
	x.h[1].tlsa_rr = NULL;
	x.h[1].n_tlsa = 1;
	assert_int_equal(mxc_classify(&x.f, &v), MXC_EINVAL);
	/* A NULL pattern inside the list matches nothing. */
	enforce(&x);
	x.mx[0] = NULL;
	assert_int_equal(mxc_classify(&x.f, &v), 0);
	assert_string_equal(v.mta_sts_mx_match, "none");
}

static void test_names(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(mxc_fact_dnssec_name(MXC_FACT_DNSSEC_INDETERMINATE), "indeterminate");
	assert_string_equal(mxc_fact_tlsa_name(MXC_FACT_TLSA_BOGUS), "bogus");
	assert_string_equal(mxc_fact_host_name(MXC_FACT_HOST_STARTTLS_REJECTED),
			    "starttls-rejected");
	assert_string_equal(mxc_fact_host_name(MXC_FACT_HOST_NOT_PROBED), "");
	assert_string_equal(mxc_fact_dane_name(MXC_FACT_DANE_MATCH_TA), "match-ta");
	assert_string_equal(mxc_fact_sts_policy_name(MXC_FACT_STS_POLICY_FETCH_ERROR),
			    "fetch-error");
	assert_string_equal(mxc_fact_sts_fetch_name(MXC_FACT_STS_FETCH_HTTP_STATUS, 404, buf),
			    "http-404");
	assert_string_equal(mxc_fact_sts_fetch_name(MXC_FACT_STS_FETCH_HTTP_STATUS, -1, buf),
			    "http");
	assert_string_equal(mxc_fact_sts_fetch_name(MXC_FACT_STS_FETCH_TLS_NAME, 0, buf),
			    "tls-name");
	assert_string_equal(mxc_fact_sts_fetch_name(MXC_FACT_STS_FETCH_OK, 0, buf), "");
	assert_string_equal(mxc_fact_sts_fetch_name((enum mxc_fact_sts_fetch)77, 0, buf), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_host_order),
		cmocka_unit_test(test_issue_table),
		cmocka_unit_test(test_issues_write),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
