/**
 * \file
 * Exports of the store as CSV (RFC 4180) and JSON Lines, one row per domain
 * or one row per (mail host, address, port 25).
 *
 * Rows are produced inside the store's ordered walk, one record at a time,
 * and each row is built in a reusable buffer and written with one fwrite, so
 * an export of a whole TLD needs memory for one record, not for the zone.
 *
 * Both formats carry the same columns in the same order (the tables below
 * are the single source of truth for names and order):
 *
 * - CSV: a header row, then one line per row. Lines end in LF, not the CRLF
 *   RFC 4180 shows: every reader people use (pandas, DuckDB, Spark, R,
 *   spreadsheets) takes both, and LF keeps the files friendly to Unix tools.
 *   A field is quoted, with quotes doubled, only when it holds a comma, a
 *   quote, CR or LF; empty means "none" or "not measured yet". Bytes are
 *   written as they are.
 * - JSON Lines: one object per line with every column as a key. Each column
 *   has a fixed JSON type so that loaders infer one type per column: port is
 *   a number, everything else a string ("" when empty), never null. Strings
 *   are escaped per RFC 8259; valid UTF-8 passes through, control
 *   characters become \u escapes, and a byte that is not part of valid UTF-8
 *   (banners and TXT data are arbitrary bytes) is written as \u00XX, i.e.
 *   read as Latin-1, so the output is always valid UTF-8 JSON.
 * - Parquet: the same rows through analysis/parquet.c (docs/PARQUET.md).
 *
 * The TLSA column is computed from the raw TLSA answer kept in the host
 * record, parsed with ldns; a message that does not parse is a finding about
 * the server (left empty here), not an export error. In the same way the
 * record columns (mta_sts_txt and mta_sts_id, tls_rpt and tls_rpt_rua, spf,
 * dmarc) are computed from the raw TXT answers of the domain record with the
 * classifiers of probes/txtrec.h, so a better classifier improves an old
 * store's export without a new scan. A question that got no usable answer
 * (timeout, SERVFAIL, an unparseable message) leaves its columns empty: not
 * measured, which is not the same as none.
 */
#include "analysis/export.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/parquet.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "probes/txtrec.h"
#include "analysis/classify.h"
#include "analysis/facts.h"
#include "probes/probe_rec.h"
#include "resolver/resolver.h"
#include "resolver/validator.h"

/* Rows can hold up to 1024 TLSA records of 64 KiB of hex: bound them well
 * above that, but bound them. */
#define ROW_MAX ((size_t)256 << 20)
#define MAX_COLS 32
#define SMTP_PORT "25"


enum dom_col {
	DC_DOMAIN, DC_TLD, DC_RUN_ID, DC_SCANNED_AT, DC_MX_STATUS, DC_MX_HOSTS,
	DC_DNSSEC, DC_DNSSEC_REASON, DC_STARTTLS, DC_TLS_VERSION_MIN, DC_PKIX, DC_DANE,
	DC_MTA_STS_TXT, DC_MTA_STS_ID, DC_MTA_STS_POLICY, DC_MTA_STS_ERROR,
	DC_MTA_STS_MODE, DC_MTA_STS_MAX_AGE, DC_MTA_STS_MX_MATCH, DC_TLS_RPT,
	DC_TLS_RPT_RUA, DC_SPF, DC_DMARC, DC_DOWNGRADE_EXPOSURE, DC_ISSUES, DC__COUNT
};

static const struct mxc_export_col dom_cols[DC__COUNT] = {
	[DC_DOMAIN] = { "domain", false },
	[DC_TLD] = { "tld", false },
	[DC_RUN_ID] = { "run_id", false },
	[DC_SCANNED_AT] = { "scanned_at", false },
	[DC_MX_STATUS] = { "mx_status", false },
	[DC_MX_HOSTS] = { "mx_hosts", false },
	[DC_DNSSEC] = { "dnssec", false },
	[DC_DNSSEC_REASON] = { "dnssec_reason", false },
	[DC_STARTTLS] = { "starttls", false },
	[DC_TLS_VERSION_MIN] = { "tls_version_min", false },
	[DC_PKIX] = { "pkix", false },
	[DC_DANE] = { "dane", false },
	[DC_MTA_STS_TXT] = { "mta_sts_txt", false },
	[DC_MTA_STS_ID] = { "mta_sts_id", false },
	[DC_MTA_STS_POLICY] = { "mta_sts_policy", false },
	[DC_MTA_STS_ERROR] = { "mta_sts_error", false },
	[DC_MTA_STS_MODE] = { "mta_sts_mode", false },
	[DC_MTA_STS_MAX_AGE] = { "mta_sts_max_age", false },
	[DC_MTA_STS_MX_MATCH] = { "mta_sts_mx_match", false },
	[DC_TLS_RPT] = { "tls_rpt", false },
	[DC_TLS_RPT_RUA] = { "tls_rpt_rua", false },
	[DC_SPF] = { "spf", false },
	[DC_DMARC] = { "dmarc", false },
	[DC_DOWNGRADE_EXPOSURE] = { "downgrade_exposure", false },
	[DC_ISSUES] = { "issues", false },
};

enum host_col {
	HC_MX_HOST, HC_IP, HC_PORT, HC_STATUS, HC_BANNER, HC_STARTTLS_OFFERED,
	HC_STRIPPING_EVIDENCE, HC_TLS_VERSION, HC_CIPHER, HC_CERT_SHA256, HC_SPKI_SHA256,
	HC_ISSUER, HC_NOT_BEFORE, HC_NOT_AFTER, HC_CERT_NAMES, HC_PKIX_VALID,
	HC_PKIX_ERROR, HC_TLSA_RECORDS, HC_TLSA_DNSSEC, HC_DANE_RESULT, HC_PROBED_AT,
	HC__COUNT
};

static const struct mxc_export_col host_cols[HC__COUNT] = {
	[HC_MX_HOST] = { "mx_host", false },
	[HC_IP] = { "ip", false },
	[HC_PORT] = { "port", true },
	[HC_STATUS] = { "status", false },
	[HC_BANNER] = { "banner", false },
	[HC_STARTTLS_OFFERED] = { "starttls_offered", false },
	[HC_STRIPPING_EVIDENCE] = { "stripping_evidence", false },
	[HC_TLS_VERSION] = { "tls_version", false },
	[HC_CIPHER] = { "cipher", false },
	[HC_CERT_SHA256] = { "cert_sha256", false },
	[HC_SPKI_SHA256] = { "spki_sha256", false },
	[HC_ISSUER] = { "issuer", false },
	[HC_NOT_BEFORE] = { "not_before", false },
	[HC_NOT_AFTER] = { "not_after", false },
	[HC_CERT_NAMES] = { "cert_names", false },
	[HC_PKIX_VALID] = { "pkix_valid", false },
	[HC_PKIX_ERROR] = { "pkix_error", false },
	[HC_TLSA_RECORDS] = { "tlsa_records", false },
	[HC_TLSA_DNSSEC] = { "tlsa_dnssec", false },
	[HC_DANE_RESULT] = { "dane_result", false },
	[HC_PROBED_AT] = { "probed_at", false },
};

_Static_assert(DC__COUNT <= MAX_COLS && HC__COUNT <= MAX_COLS, "raise MAX_COLS");

/** One export in progress. */
struct exporter {
	FILE *out;
	enum mxc_export_format fmt;
	const struct mxc_export_col *cols;
	size_t ncols;
	uint64_t rows;
	mxc_export_row_fn sink; /* where rows go: a text writer or a caller */
	void *sink_arg;
	struct mxc_buf line; /* the row being built */
	struct mxc_buf list; /* a ';'-joined list column (mx_hosts, tlsa_records) */
	struct mxc_store *store; /* for the hosts of each domain */
	struct mxc_facts fx;     /* scratch of the classification (domains only) */
};

int mxc_export_what_parse(const char *s, enum mxc_export_what *out)
{
	if (!s)
		return MXC_EINVAL;
	if (strcmp(s, "domains") == 0)
		*out = MXC_EXPORT_DOMAINS;
	else if (strcmp(s, "hosts") == 0)
		*out = MXC_EXPORT_HOSTS;
	else
		return MXC_EINVAL;
	return 0;
}

int mxc_export_format_parse(const char *s, enum mxc_export_format *out)
{
	if (!s)
		return MXC_EINVAL;
	if (strcmp(s, "csv") == 0)
		*out = MXC_EXPORT_CSV;
	else if (strcmp(s, "jsonl") == 0)
		*out = MXC_EXPORT_JSONL;
	else if (strcmp(s, "parquet") == 0)
		*out = MXC_EXPORT_PARQUET;
	else
		return MXC_EINVAL;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Field encoders                                                           */

static int put_str(struct mxc_buf *b, const char *s)
{
	return mxc_buf_append(b, s, strlen(s));
}

static int csv_field(struct mxc_buf *b, const char *s)
{
	int r = 0;

	if (!strpbrk(s, ",\"\r\n"))
		return put_str(b, s);
	r = mxc_buf_append_u8(b, '"');
	for (const char *p = s; !r && *p; p++) {
		if (*p == '"')
			r = mxc_buf_append_u8(b, '"');
		if (!r)
			r = mxc_buf_append_u8(b, (uint8_t)*p);
	}
	if (!r)
		r = mxc_buf_append_u8(b, '"');
	return r;
}

static int json_escape_byte(struct mxc_buf *b, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

	switch (c) {
	case '"':
		return put_str(b, "\\\"");
	case '\\':
		return put_str(b, "\\\\");
	case '\n':
		return put_str(b, "\\n");
	case '\r':
		return put_str(b, "\\r");
	case '\t':
		return put_str(b, "\\t");
	case '\b':
		return put_str(b, "\\b");
	case '\f':
		return put_str(b, "\\f");
	default:
		return mxc_buf_append(b, esc, sizeof(esc));
	}
}

static int json_string(struct mxc_buf *b, const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	int r = mxc_buf_append_u8(b, '"');

	while (!r && *p) {
		size_t n;

		if (*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f) {
			r = json_escape_byte(b, *p++);
		} else if (*p < 0x80) {
			r = mxc_buf_append_u8(b, *p++);
		} else if ((n = mxc_utf8_seq(p, SIZE_MAX)) > 0) {
			r = mxc_buf_append(b, p, n);
			p += n;
		} else {
			/* Not UTF-8: the byte as the Latin-1 code point. */
			r = json_escape_byte(b, *p++);
		}
	}
	if (!r)
		r = mxc_buf_append_u8(b, '"');
	return r;
}

/* ------------------------------------------------------------------------ */
/* Rows                                                                     */

static int write_line(struct exporter *ex)
{
	if (fwrite(ex->line.data, 1, ex->line.len, ex->out) != ex->line.len)
		return MXC_EIO;
	return 0;
}

static int write_header(struct exporter *ex)
{
	int r = 0;

	if (ex->fmt != MXC_EXPORT_CSV)
		return 0;
	mxc_buf_reset(&ex->line);
	for (size_t i = 0; !r && i < ex->ncols; i++) {
		if (i)
			r = mxc_buf_append_u8(&ex->line, ',');
		if (!r)
			r = csv_field(&ex->line, ex->cols[i].name);
	}
	if (!r)
		r = mxc_buf_append_u8(&ex->line, '\n');
	return r ? r : write_line(ex);
}

/* Hands one row to the sink; NULL values are empty. */
static int write_row(struct exporter *ex, const char *const *val)
{
	int r = ex->sink(ex->sink_arg, val);

	if (!r)
		ex->rows++;
	return r;
}

/* The sink of the CSV and JSON Lines formats: one text line per row. */
static int text_row(void *arg, const char *const *val)
{
	struct exporter *ex = arg;
	struct mxc_buf *b = &ex->line;
	int r = 0;

	mxc_buf_reset(b);
	if (ex->fmt == MXC_EXPORT_JSONL)
		r = mxc_buf_append_u8(b, '{');
	for (size_t i = 0; !r && i < ex->ncols; i++) {
		const char *v = val[i] ? val[i] : "";

		if (ex->fmt == MXC_EXPORT_CSV) {
			if (i)
				r = mxc_buf_append_u8(b, ',');
			if (!r)
				r = csv_field(b, v);
			continue;
		}
		if (i)
			r = mxc_buf_append_u8(b, ',');
		if (!r)
			r = json_string(b, ex->cols[i].name);
		if (!r)
			r = mxc_buf_append_u8(b, ':');
		/* Number columns hold values we made, always digits. */
		if (!r)
			r = ex->cols[i].number && v[0] ? put_str(b, v) : json_string(b, v);
	}
	if (!r && ex->fmt == MXC_EXPORT_JSONL)
		r = mxc_buf_append_u8(b, '}');
	if (!r)
		r = mxc_buf_append_u8(b, '\n');
	if (!r)
		r = write_line(ex);
	return r;
}

/* The last label of a name, or the whole name when it has one label. */
static const char *tld_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot ? dot + 1 : name;
}

static int mx_cmp(const void *a, const void *b)
{
	const struct mxc_mx *x = *(const struct mxc_mx *const *)a;
	const struct mxc_mx *y = *(const struct mxc_mx *const *)b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcmp(x->host, y->host);
}

/* "pref:host;..." by preference, then name, into ex->list (NUL-ended). */
static int mx_hosts(struct exporter *ex, const struct mxc_domain_rec *d)
{
	const struct mxc_mx **order;
	char pref[8];
	int r = 0;

	mxc_buf_reset(&ex->list);
	if (d->n_mx == 0)
		return mxc_buf_append_u8(&ex->list, 0);
	/* Records are stored sorted; sort anyway, so that the column does not
	 * depend on what every writer got right. */
	order = mxc_malloc(d->n_mx * sizeof(*order));
	if (!order)
		return MXC_ENOMEM;
	for (uint32_t i = 0; i < d->n_mx; i++)
		order[i] = &d->mx[i];
	qsort(order, d->n_mx, sizeof(*order), mx_cmp);
	for (uint32_t i = 0; !r && i < d->n_mx; i++) {
		snprintf(pref, sizeof(pref), "%u", (unsigned)order[i]->pref);
		if (i)
			r = mxc_buf_append_u8(&ex->list, ';');
		if (!r)
			r = put_str(&ex->list, pref);
		if (!r)
			r = mxc_buf_append_u8(&ex->list, ':');
		if (!r)
			r = put_str(&ex->list, order[i]->host);
	}
	if (!r)
		r = mxc_buf_append_u8(&ex->list, 0);
	mxc_free(order);
	return r;
}

/*
 * Collect the TXT records of the raw answer to (@p prefix + domain, TXT).
 * @return 1 with @p t filled (maybe with no record: NXDOMAIN or NODATA), 0
 *         when there is no usable answer, or a negative code (ENOMEM)
 */
/* The stored answer of @p qtype (the first one), or NULL. */
static const struct mxc_raw_answer *raw_of(const struct mxc_raw_answer *raw, uint32_t n,
					   uint16_t qtype)
{
	for (uint32_t i = 0; i < n; i++)
		if (raw[i].qtype == qtype)
			return &raw[i];
	return NULL;
}

/* The dnssec and reason columns of a judged answer; left empty if not judged. */
static void dnssec_columns(const struct mxc_raw_answer *a, const char **status,
			   const char **reason)
{
	if (!a || !a->dnssec)
		return;
	*status = mxc_dnssec_name((enum mxc_dnssec)a->dnssec);
	if (a->dnssec != MXC_DNSSEC_SECURE && reason)
		*reason = mxc_dnssec_reason_name((enum mxc_dnssec_reason)a->dnssec_reason);
}

static int domain_row(void *arg, const struct mxc_domain_rec *d)
{
	struct exporter *ex = arg;
	struct mxc_facts *fx = &ex->fx;
	const char *val[MAX_COLS] = { 0 };
	struct mxc_verdicts v;
	char when[21], max_age[16], ferr[24], issues[MXC_ISSUES_STR_MAX + 1];
	size_t ilen = 0;
	int r;

	r = mx_hosts(ex, d);
	if (!r)
		r = mxc_facts_build(fx, ex->store, d);
	if (!r)
		r = mxc_classify(&fx->f, &v);
	if (r)
		return r;
	mxc_rfc3339(d->scanned_at, when);
	val[DC_DOMAIN] = d->domain;
	val[DC_TLD] = tld_of(d->domain);
	val[DC_RUN_ID] = d->run_id;
	val[DC_SCANNED_AT] = when;
	val[DC_MX_STATUS] = mxc_mx_status_name((enum mxc_mx_status)d->mx_status);
	val[DC_MX_HOSTS] = (const char *)ex->list.data;
	/* The verdicts; each is "" when what it needs was not measured. */
	val[DC_DNSSEC] = v.dnssec;
	val[DC_DNSSEC_REASON] = v.dnssec_reason;
	val[DC_STARTTLS] = v.starttls;
	val[DC_TLS_VERSION_MIN] = v.tls_version_min;
	val[DC_PKIX] = v.pkix;
	val[DC_DANE] = v.dane;
	val[DC_MTA_STS_MX_MATCH] = v.mta_sts_mx_match;
	val[DC_DOWNGRADE_EXPOSURE] = v.downgrade_exposure;
	if (mxc_classify_issues_write(&v, issues, sizeof(issues), &ilen) == 0)
		val[DC_ISSUES] = issues;
	/* The record columns: empty when the answer was not measured. */
	if (fx->txt_measured[0]) {
		val[DC_MTA_STS_TXT] = mxc_txtrec_status_name(fx->sts_txt.status);
		val[DC_MTA_STS_ID] = fx->sts_txt.id;
	}
	if (fx->txt_measured[1]) {
		val[DC_TLS_RPT] = mxc_txtrec_status_name(fx->tlsrpt.status);
		val[DC_TLS_RPT_RUA] = fx->tlsrpt.rua;
	}
	if (fx->txt_measured[2])
		val[DC_SPF] = mxc_txtrec_spf_name(fx->spf);
	if (fx->txt_measured[3])
		val[DC_DMARC] = mxc_txtrec_dmarc_name(fx->dmarc);
	/* The policy: "n-a" when measured and there was nothing to fetch. */
	if (fx->have_sts || fx->txt_measured[0])
		val[DC_MTA_STS_POLICY] = mxc_fact_sts_policy_name(fx->f.sts_policy);
	if (fx->have_sts && fx->f.sts_policy == MXC_FACT_STS_POLICY_FETCH_ERROR) {
		const char *name = mxc_sts_ferr_name((enum mxc_sts_ferr)fx->sts.error);

		if (fx->sts.error == MXC_STS_FETCH_HTTP && fx->sts.http_code) {
			snprintf(ferr, sizeof(ferr), "http-%u", (unsigned)fx->sts.http_code);
			name = ferr;
		}
		val[DC_MTA_STS_ERROR] = name;
	} else if (fx->f.sts_policy == MXC_FACT_STS_POLICY_INVALID) {
		val[DC_MTA_STS_ERROR] = "syntax";
	}
	if (fx->f.sts_policy == MXC_FACT_STS_POLICY_OK) {
		val[DC_MTA_STS_MODE] = mxc_sts_mode_name(fx->f.sts_mode);
		snprintf(max_age, sizeof(max_age), "%u", (unsigned)fx->f.sts_max_age);
		val[DC_MTA_STS_MAX_AGE] = max_age;
	}
	return write_row(ex, val);
}

/*
 * The one place where ldns status codes meet ours. Only allocation failure
 * is our error; anything else means the stored message did not parse.
 */
static int ldns_error(ldns_status st)
{
	if (st == LDNS_STATUS_OK)
		return 0;
	if (st == LDNS_STATUS_MEM_ERR)
		return MXC_ENOMEM;
	mxc_log_debug("export: stored answer does not parse: %s", ldns_get_errorstr_by_id(st));
	return MXC_EPARSE;
}

/* Appends "usage selector mtype hex" for one TLSA RR; skips malformed ones. */
static int tlsa_text(struct mxc_buf *b, const ldns_rr *rr)
{
	static const char hex[] = "0123456789abcdef";
	char head[16];
	const ldns_rdf *f[4];
	const uint8_t *d;
	size_t n;
	int r;

	if (ldns_rr_rd_count(rr) != 4)
		return 0;
	for (int i = 0; i < 4; i++) {
		f[i] = ldns_rr_rdf(rr, (size_t)i);
		if (!f[i] || (i < 3 && ldns_rdf_size(f[i]) != 1))
			return 0;
	}
	snprintf(head, sizeof(head), "%u %u %u ", ldns_rdf_data(f[0])[0],
		 ldns_rdf_data(f[1])[0], ldns_rdf_data(f[2])[0]);
	r = b->len ? mxc_buf_append_u8(b, ';') : 0;
	if (!r)
		r = put_str(b, head);
	d = ldns_rdf_data(f[3]);
	n = ldns_rdf_size(f[3]);
	for (size_t i = 0; !r && i < n; i++) {
		char x[2] = { hex[d[i] >> 4], hex[d[i] & 15] };

		r = mxc_buf_append(b, x, 2);
	}
	return r;
}

/* The TLSA RRs of the host's raw TLSA answers, ';'-joined into ex->list. */
static int tlsa_records(struct exporter *ex, const struct mxc_host_rec *h)
{
	int r = 0;

	mxc_buf_reset(&ex->list);
	for (uint32_t i = 0; !r && i < h->n_raw; i++) {
		const struct mxc_raw_answer *a = &h->raw[i];
		ldns_pkt *pkt = NULL;
		ldns_rr_list *ans;

		if (a->qtype != LDNS_RR_TYPE_TLSA || !a->wire || a->wire_len == 0)
			continue;
		r = ldns_error(ldns_wire2pkt(&pkt, a->wire, a->wire_len));
		if (r == MXC_EPARSE) {
			r = 0; /* a finding about the server, not our failure */
			continue;
		}
		if (r)
			break;
		ans = ldns_pkt_answer(pkt);
		for (size_t j = 0; !r && ans && j < ldns_rr_list_rr_count(ans); j++) {
			const ldns_rr *rr = ldns_rr_list_rr(ans, j);

			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TLSA)
				r = tlsa_text(&ex->list, rr);
		}
		ldns_pkt_free(pkt);
	}
	if (!r)
		r = mxc_buf_append_u8(&ex->list, 0);
	return r;
}

static const char *yes_no(int v)
{
	return v ? "true" : "false";
}

/* The probe columns of one address, from its stored result. */
static void probe_columns(const struct mxc_smtp_result *p, const char **val, char *port,
			  char *when, char *strip, size_t strip_len)
{
	bool reached = p->status == MXC_SMTP_OK || p->status == MXC_SMTP_NO_STARTTLS ||
		       p->status == MXC_SMTP_STARTTLS_REJECTED || p->status == MXC_SMTP_TLS_FAILED;

	snprintf(port, 8, "%u", (unsigned)p->port);
	val[HC_PORT] = port;
	val[HC_STATUS] = mxc_smtp_status_name((enum mxc_smtp_status)p->status);
	val[HC_BANNER] = p->banner;
	/* What EHLO said is known only when the conversation got that far. */
	if (reached)
		val[HC_STARTTLS_OFFERED] = yes_no(p->starttls_offered);
	mxc_smtp_strip_names(p->stripping, strip, strip_len);
	val[HC_STRIPPING_EVIDENCE] = strip;
	val[HC_TLS_VERSION] = p->tls_version;
	val[HC_CIPHER] = p->cipher;
	val[HC_CERT_SHA256] = p->cert_sha256;
	val[HC_SPKI_SHA256] = p->spki_sha256;
	val[HC_ISSUER] = p->issuer;
	val[HC_NOT_BEFORE] = p->not_before;
	val[HC_NOT_AFTER] = p->not_after;
	val[HC_CERT_NAMES] = p->cert_names;
	if (p->status == MXC_SMTP_OK) {
		val[HC_PKIX_VALID] = yes_no(p->pkix_valid);
		val[HC_PKIX_ERROR] = p->pkix_error;
	}
	if (p->status != MXC_SMTP_BLOCKED)
		val[HC_DANE_RESULT] = mxc_dane_result_name((enum mxc_dane_result)p->dane);
	mxc_rfc3339(p->probed_at, when);
	val[HC_PROBED_AT] = when;
}

static int host_row(void *arg, const struct mxc_host_rec *h)
{
	struct exporter *ex = arg;
	char ip[INET6_ADDRSTRLEN], port[8], when[21], strip[64];
	struct mxc_smtp_result *res = NULL;
	uint32_t nres = 0;
	int r;

	r = tlsa_records(ex, h);
	if (r)
		return r;
	if (h->n_probe) {
		res = mxc_calloc(h->n_probe, sizeof(*res));
		if (!res)
			return MXC_ENOMEM;
		for (uint32_t i = 0; i < h->n_probe; i++)
			if (mxc_smtp_rec_decode(h->probe[i].data, h->probe[i].len, &res[nres]) == 0)
				nres++;
			else
				mxc_log_warn("export: host %s: a stored probe result does not decode",
					     h->host);
	}
	/* A host without addresses still gets its row, with no ip. */
	for (uint32_t i = 0; !r && i < (h->n_addr ? h->n_addr : 1); i++) {
		const char *val[MAX_COLS] = { 0 };

		val[HC_MX_HOST] = h->host;
		val[HC_PORT] = SMTP_PORT;
		val[HC_TLSA_RECORDS] = (const char *)ex->list.data;
		dnssec_columns(raw_of(h->raw, h->n_raw, LDNS_RR_TYPE_TLSA), &val[HC_TLSA_DNSSEC],
			       NULL);
		if (h->n_addr) {
			const struct mxc_addr *a = &h->addrs[i];
			int af = a->family == 4 ? AF_INET : AF_INET6;

			if (!inet_ntop(af, a->addr, ip, sizeof(ip))) {
				r = -errno;
				break;
			}
			val[HC_IP] = ip;
			for (uint32_t j = 0; j < nres; j++)
				if (strcmp(res[j].ip, ip) == 0) {
					probe_columns(&res[j], val, port, when, strip, sizeof(strip));
					break;
				}
		}
		r = write_row(ex, val);
	}
	mxc_free(res);
	return r;
}

static void on_corrupt(void *arg, const char *db, const char *key, int err)
{
	mxc_log_warn("export: skipping %s record \"%s\": %s", db, key, mxc_strerror(err));
}

const struct mxc_export_col *mxc_export_columns(enum mxc_export_what what, size_t *n)
{
	*n = what == MXC_EXPORT_DOMAINS ? DC__COUNT : HC__COUNT;
	return what == MXC_EXPORT_DOMAINS ? dom_cols : host_cols;
}

int mxc_export_column_index(enum mxc_export_what what, const char *name, size_t *out)
{
	size_t n;
	const struct mxc_export_col *cols = mxc_export_columns(what, &n);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(cols[i].name, name) == 0) {
			*out = i;
			return 0;
		}
	}
	return MXC_ENOTFOUND;
}

/* Walks the store, building each row and handing it to ex->sink. */
static int walk(struct mxc_store *s, enum mxc_export_what what, struct exporter *ex)
{
	int r = 0;

	ex->cols = mxc_export_columns(what, &ex->ncols);
	mxc_buf_init(&ex->list, ROW_MAX);
	mxc_facts_init(&ex->fx);
	ex->store = s;
	if (what == MXC_EXPORT_DOMAINS)
		r = mxc_store_each_domain(s, domain_row, on_corrupt, ex);
	else
		r = mxc_store_each_host(s, host_row, on_corrupt, ex);
	mxc_buf_free(&ex->list);
	mxc_facts_free(&ex->fx);
	return r;
}

int mxc_export_rows(struct mxc_store *s, enum mxc_export_what what, mxc_export_row_fn fn,
		    void *arg, uint64_t *rows)
{
	struct exporter ex = { .sink = fn, .sink_arg = arg };
	int r;

	if (rows)
		*rows = 0;
	if (!s || !fn || (what != MXC_EXPORT_DOMAINS && what != MXC_EXPORT_HOSTS))
		return MXC_EINVAL;
	r = walk(s, what, &ex);
	if (rows)
		*rows = ex.rows;
	return r;
}

int mxc_export(struct mxc_store *s, enum mxc_export_what what, enum mxc_export_format fmt,
	       FILE *out, uint64_t *rows)
{
	struct exporter ex = { .out = out, .fmt = fmt };
	int r;

	if (rows)
		*rows = 0;
	if (!s || !out ||
	    (fmt != MXC_EXPORT_CSV && fmt != MXC_EXPORT_JSONL && fmt != MXC_EXPORT_PARQUET) ||
	    (what != MXC_EXPORT_DOMAINS && what != MXC_EXPORT_HOSTS))
		return MXC_EINVAL;
	if (fmt == MXC_EXPORT_PARQUET) {
		/* The same rows, handed to the Parquet writer: number columns
		 * become INT64, the rest strings. */
		struct mxc_parquet_col pcols[MAX_COLS];
		struct mxc_parquet *pw;

		ex.cols = mxc_export_columns(what, &ex.ncols);
		for (size_t i = 0; i < ex.ncols; i++) {
			pcols[i].name = ex.cols[i].name;
			pcols[i].type = ex.cols[i].number ? MXC_PARQUET_INT64 : MXC_PARQUET_STRING;
		}
		r = mxc_parquet_open(&pw, out, pcols, ex.ncols, NULL);
		if (r)
			return r;
		r = mxc_export_rows(s, what, mxc_parquet_sink, pw, NULL);
		if (r) {
			/* No footer: a reader must not take the rows so far
			 * for the whole export. */
			mxc_parquet_abort(pw);
			return r;
		}
		return mxc_parquet_close(pw, rows);
	}
	ex.sink = text_row;
	ex.sink_arg = &ex;
	ex.cols = mxc_export_columns(what, &ex.ncols);
	mxc_buf_init(&ex.line, ROW_MAX);
	r = write_header(&ex);
	if (!r)
		r = walk(s, what, &ex);
	if (fflush(out) != 0 || ferror(out))
		r = r ? r : MXC_EIO;
	mxc_buf_free(&ex.line);
	if (rows)
		*rows = ex.rows;
	return r;
}
