/**
 * \file
 * The TXT record classifiers for MTA-STS, TLS-RPT, SPF and DMARC.
 *
 * All four follow the same two steps the RFCs prescribe: keep only the
 * records whose first token names the version, then look at the one record
 * left (zero means "none", more than one means the domain has no usable
 * policy). The MTA-STS and TLS-RPT records share one grammar of `;`
 * separated `name=value` fields, so they share one field splitter; DMARC's
 * tag list is looser (WSP allowed around `=`) and SPF needs only the version.
 *
 * The parsers never read past a record's length and treat every byte,
 * NUL and non-ASCII included, as data: such bytes simply fail the syntax
 * checks of the field they are in.
 */
#include "probes/txtrec.h"

#include <string.h>

#include "common/error.h"
#include "probes/internal.h"

static const char STS_VERSION[] = "v=STSv1";
static const char TLSRPT_VERSION[] = "v=TLSRPTv1";

static int is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static int is_alnum(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Case-insensitive comparison of a byte span with a lower-case literal. */
static int span_ieq(const uint8_t *p, size_t n, const char *lit)
{
	size_t i, l = strlen(lit);

	if (n != l)
		return 0;
	for (i = 0; i < n; i++)
		if (lower(p[i]) != (uint8_t)lit[i])
			return 0;
	return 1;
}

static int span_eq(const uint8_t *p, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

/*
 * Does the record begin with the version token `ver`, case-sensitively, and
 * is that token complete (followed by the end, WSP or ';')? RFC 8461 and
 * RFC 8460 say records that do not begin with "v=STSv1;" resp.
 * "v=TLSRPTv1;" are discarded, while their grammars put optional WSP before
 * the ';'. We accept both, so "v=STSv1 ; id=1" counts as an STSv1 record,
 * but "v=STSv10" and "v=stsv1" do not. A record that is only the version
 * token counts as one of this version (and is then invalid: no id or rua).
 */
static int has_version(const struct mxc_txtrec *r, const char *ver)
{
	size_t l = strlen(ver);

	if (r->len < l || memcmp(r->data, ver, l) != 0)
		return 0;
	return r->len == l || is_wsp(r->data[l]) || r->data[l] == ';';
}

/* One `name=value` field of the STS/TLSRPT grammar, WSP already trimmed. */
struct field {
	const uint8_t *name;
	size_t nlen;
	const uint8_t *val;
	size_t vlen;
};

int mxc__sts_ext_name_ok(const uint8_t *p, size_t n)
{
	size_t i;

	if (n < 1 || n > 32 || !is_alnum(p[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!is_alnum(p[i]) && p[i] != '_' && p[i] != '-' && p[i] != '.')
			return 0;
	return 1;
}

/* Extension value: 1*(%x21-3A / %x3C / %x3E-7E), i.e. VCHAR minus ';' '='. */
static int ext_value_ok(const uint8_t *p, size_t n)
{
	size_t i;

	if (n < 1)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ';' || p[i] == '=')
			return 0;
	return 1;
}

/* Called for each field; returns NULL to go on or a static reason to stop. */
typedef const char *(*field_fn)(const struct field *f, void *ctx);

/*
 * Walk the fields after the version token. Fields are separated by
 * *WSP ";" *WSP. A single trailing separator is allowed by the grammar and
 * accepted; trailing WSP without a ';' is tolerated as well, because TXT
 * publishing tools often leave it and it changes no field. An empty field
 * (";;") or text that is not `name=value` is "bad-field".
 */
static const char *walk_fields(const struct mxc_txtrec *r, size_t ver_len,
			       field_fn fn, void *ctx)
{
	const uint8_t *end = r->data + r->len;
	const uint8_t *q = r->data + ver_len;

	for (;;) {
		const uint8_t *start, *stop, *eq;
		struct field f;
		const char *why;

		while (q < end && is_wsp(*q))
			q++;
		if (q == end)
			break;
		if (*q != ';')
			return "bad-field";
		q++;
		while (q < end && is_wsp(*q))
			q++;
		if (q == end)
			break; /* the optional trailing separator */
		start = q;
		while (q < end && *q != ';')
			q++;
		stop = q;
		while (stop > start && is_wsp(stop[-1]))
			stop--;
		if (stop == start)
			return "bad-field";
		eq = memchr(start, '=', (size_t)(stop - start));
		if (!eq)
			return "bad-field";
		f.name = start;
		f.nlen = (size_t)(eq - start);
		f.val = eq + 1;
		f.vlen = (size_t)(stop - eq - 1);
		why = fn(&f, ctx);
		if (why)
			return why;
	}
	return NULL;
}

struct sts_ctx {
	struct mxc_sts_txt *out;
	int have_id;
};

/*
 * "id" is matched case-sensitively (the grammar writes it %s"id="), so "ID=1"
 * is an extension field and the record then lacks an id. A second id field
 * is reported as "id-duplicate": the grammar allows any field to repeat, but
 * two ids leave the policy version ambiguous, which a census should show.
 */
static const char *sts_field(const struct field *f, void *vctx)
{
	struct sts_ctx *c = vctx;
	size_t i;

	if (span_eq(f->name, f->nlen, "id")) {
		if (c->have_id)
			return "id-duplicate";
		if (f->vlen < 1 || f->vlen > MXC_STS_ID_MAX)
			return "id-syntax";
		for (i = 0; i < f->vlen; i++)
			if (!is_alnum(f->val[i]))
				return "id-syntax";
		memcpy(c->out->id, f->val, f->vlen);
		c->out->id[f->vlen] = '\0';
		c->have_id = 1;
		return NULL;
	}
	if (!mxc__sts_ext_name_ok(f->name, f->nlen) || !ext_value_ok(f->val, f->vlen))
		return "bad-field";
	return NULL;
}

/*
 * The one record of version @p version among @p recs: *status is NONE or
 * MULTIPLE when there is not exactly one, else VALID (pending the parse of
 * *rec, which the caller does). @return 0, or MXC_EINVAL for bad arguments
 */
static int select_record(const struct mxc_txtrec *recs, size_t n, const char *version,
			 const struct mxc_txtrec **rec, enum mxc_txtrec_status *status)
{
	size_t count = 0;

	*rec = NULL;
	if (!recs && n > 0)
		return MXC_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (recs[i].len > 0 && !recs[i].data)
			return MXC_EINVAL;
		if (has_version(&recs[i], version)) {
			count++;
			*rec = &recs[i];
		}
	}
	*status = count == 0 ? MXC_TXTREC_NONE : count > 1 ? MXC_TXTREC_MULTIPLE : MXC_TXTREC_VALID;
	return 0;
}

int mxc_txtrec_sts(const struct mxc_txtrec *recs, size_t n, struct mxc_sts_txt *out)
{
	const struct mxc_txtrec *rec;
	struct sts_ctx c;
	const char *why;
	int r;

	if (!out)
		return MXC_EINVAL;
	memset(out, 0, sizeof(*out));
	r = select_record(recs, n, STS_VERSION, &rec, &out->status);
	if (r || out->status != MXC_TXTREC_VALID)
		return r;
	c.out = out;
	c.have_id = 0;
	why = walk_fields(rec, strlen(STS_VERSION), sts_field, &c);
	if (!why && !c.have_id)
		why = "id-missing";
	if (why) {
		out->status = MXC_TXTREC_INVALID;
		out->reason = why;
		out->id[0] = '\0';
		return 0;
	}
	out->status = MXC_TXTREC_VALID;
	return 0;
}

struct tlsrpt_ctx {
	struct mxc_tlsrpt_txt *out;
	size_t used;
	int have_rua;
	int usable;
};

/*
 * One URI of the rua list: scheme ":" rest, with a syntactically valid
 * scheme (ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")) and a non-empty rest of
 * VCHARs. Commas and semicolons inside a URI must be percent-encoded
 * (RFC 8460 section 3), so they never reach here. Returns 0 if malformed,
 * 1 if well-formed but of a scheme we cannot use, 2 if mailto: or https:.
 */
static int rua_uri(const uint8_t *p, size_t n)
{
	size_t i, colon = 0;

	if (n < 1 || !is_alpha(p[0]))
		return 0;
	for (i = 1; i < n; i++) {
		if (p[i] == ':') {
			colon = i;
			break;
		}
		if (!is_alnum(p[i]) && p[i] != '+' && p[i] != '-' && p[i] != '.')
			return 0;
	}
	if (colon == 0 || colon + 1 >= n)
		return 0;
	for (i = colon + 1; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return 0;
	/* An https URI needs an authority; "https:x" is not a report endpoint. */
	if (span_ieq(p, colon, "https"))
		return (n - colon - 1 > 2 && p[colon + 1] == '/' && p[colon + 2] == '/') ? 2 : 0;
	if (span_ieq(p, colon, "mailto"))
		return 2;
	return 1;
}

static void rua_append(struct tlsrpt_ctx *c, const uint8_t *p, size_t n)
{
	size_t need = n + (c->used ? 1 : 0);

	if (c->used + need > MXC_TLSRPT_RUA_MAX) {
		c->out->rua_truncated = 1;
		return;
	}
	if (c->used)
		c->out->rua[c->used++] = ';';
	memcpy(c->out->rua + c->used, p, n);
	c->used += n;
	c->out->rua[c->used] = '\0';
}

/* rua = URI *(*WSP "," *WSP URI); "rua" is case-sensitive (%s"rua="). */
static const char *tlsrpt_field(const struct field *f, void *vctx)
{
	struct tlsrpt_ctx *c = vctx;
	const uint8_t *p, *end;

	if (!span_eq(f->name, f->nlen, "rua")) {
		if (!mxc__sts_ext_name_ok(f->name, f->nlen) || !ext_value_ok(f->val, f->vlen))
			return "bad-field";
		return NULL;
	}
	if (c->have_rua)
		return "rua-duplicate";
	c->have_rua = 1;
	p = f->val;
	end = f->val + f->vlen;
	for (;;) {
		const uint8_t *s = p, *e;
		int kind;

		while (p < end && *p != ',')
			p++;
		e = p;
		while (s < e && is_wsp(*s))
			s++;
		while (e > s && is_wsp(e[-1]))
			e--;
		kind = rua_uri(s, (size_t)(e - s));
		if (kind == 0)
			return "rua-syntax";
		if (kind == 2) {
			c->usable++;
			rua_append(c, s, (size_t)(e - s));
		}
		if (p == end)
			break;
		p++; /* the comma */
	}
	return NULL;
}

int mxc_txtrec_tlsrpt(const struct mxc_txtrec *recs, size_t n, struct mxc_tlsrpt_txt *out)
{
	const struct mxc_txtrec *rec;
	struct tlsrpt_ctx c;
	const char *why;
	int r;

	if (!out)
		return MXC_EINVAL;
	memset(out, 0, sizeof(*out));
	r = select_record(recs, n, TLSRPT_VERSION, &rec, &out->status);
	if (r || out->status != MXC_TXTREC_VALID)
		return r;
	memset(&c, 0, sizeof(c));
	c.out = out;
	why = walk_fields(rec, strlen(TLSRPT_VERSION), tlsrpt_field, &c);
	if (!why && !c.have_rua)
		why = "rua-missing";
	if (!why && c.usable == 0)
		why = "rua-no-usable-uri";
	if (why) {
		out->status = MXC_TXTREC_INVALID;
		out->reason = why;
		out->rua[0] = '\0';
		out->rua_truncated = 0;
		return 0;
	}
	out->status = MXC_TXTREC_VALID;
	return 0;
}

/*
 * RFC 7208 section 4.5: a record is SPF if its version section is exactly
 * "v=spf1", ended by SP or the end of the record. ABNF literals are
 * case-insensitive, so "V=SPF1" counts; a TAB after the version does not.
 */
enum mxc_spf_status mxc_txtrec_spf(const struct mxc_txtrec *recs, size_t n)
{
	size_t i, count = 0;

	if (!recs)
		return MXC_SPF_NONE;
	for (i = 0; i < n; i++) {
		const struct mxc_txtrec *r = &recs[i];

		if (r->len < 6 || !r->data || !span_ieq(r->data, 6, "v=spf1"))
			continue;
		if (r->len == 6 || r->data[6] == ' ')
			count++;
	}
	if (count == 0)
		return MXC_SPF_NONE;
	return count == 1 ? MXC_SPF_PRESENT : MXC_SPF_MULTIPLE;
}

/*
 * RFC 7489: dmarc-version = "v" *WSP "=" *WSP %x44.4d.41.52.43.31. The tag
 * name is an ABNF string (case-insensitive) but "DMARC1" is spelt in hex, so
 * it is case-sensitive; section 6.3 adds that the value must match
 * precisely. The version must be the first tag and end at WSP, ';' or the
 * end of the record. Returns the offset after the token, or 0 when the
 * record is not DMARC1.
 */
static size_t dmarc_version(const struct mxc_txtrec *r)
{
	const uint8_t *p = r->data, *end = r->data + r->len;

	if (r->len == 0 || !p || lower(*p) != 'v')
		return 0;
	p++;
	while (p < end && is_wsp(*p))
		p++;
	if (p == end || *p != '=')
		return 0;
	p++;
	while (p < end && is_wsp(*p))
		p++;
	if ((size_t)(end - p) < 6 || memcmp(p, "DMARC1", 6) != 0)
		return 0;
	p += 6;
	if (p < end && !is_wsp(*p) && *p != ';')
		return 0;
	return (size_t)(p - r->data);
}

/*
 * The p tag of the one DMARC1 record. Tags are `name *WSP "=" *WSP value`
 * separated by *WSP ";" *WSP. We look for p anywhere after v (the ABNF
 * orders it second, but receivers accept it later and so do we); the first
 * p wins, as later duplicates are not expected to override it. Empty tags
 * (";;", a trailing ';') are skipped. Values compare case-insensitively.
 */
static enum mxc_dmarc_status dmarc_policy(const struct mxc_txtrec *r, size_t off)
{
	const uint8_t *p = r->data + off, *end = r->data + r->len;

	while (p < end) {
		const uint8_t *s, *e, *eq, *ne, *vs;

		while (p < end && *p != ';')
			p++;
		if (p == end)
			break;
		p++;
		s = p;
		while (p < end && *p != ';')
			p++;
		e = p;
		while (s < e && is_wsp(*s))
			s++;
		while (e > s && is_wsp(e[-1]))
			e--;
		eq = memchr(s, '=', (size_t)(e - s));
		if (s == e || !eq)
			continue;
		ne = eq;
		while (ne > s && is_wsp(ne[-1]))
			ne--;
		if (!span_ieq(s, (size_t)(ne - s), "p"))
			continue;
		vs = eq + 1;
		while (vs < e && is_wsp(*vs))
			vs++;
		if (span_ieq(vs, (size_t)(e - vs), "none"))
			return MXC_DMARC_NONE;
		if (span_ieq(vs, (size_t)(e - vs), "quarantine"))
			return MXC_DMARC_QUARANTINE;
		if (span_ieq(vs, (size_t)(e - vs), "reject"))
			return MXC_DMARC_REJECT;
		return MXC_DMARC_INVALID;
	}
	return MXC_DMARC_INVALID;
}

enum mxc_dmarc_status mxc_txtrec_dmarc(const struct mxc_txtrec *recs, size_t n)
{
	const struct mxc_txtrec *rec = NULL;
	size_t i, off = 0, count = 0;

	if (!recs)
		return MXC_DMARC_ABSENT;
	for (i = 0; i < n; i++) {
		size_t o = dmarc_version(&recs[i]);

		if (o) {
			count++;
			rec = &recs[i];
			off = o;
		}
	}
	if (count == 0)
		return MXC_DMARC_ABSENT;
	if (count > 1)
		return MXC_DMARC_MULTIPLE;
	return dmarc_policy(rec, off);
}

const char *mxc_txtrec_status_name(enum mxc_txtrec_status s)
{
	switch (s) {
	case MXC_TXTREC_NONE: return "none";
	case MXC_TXTREC_VALID: return "valid";
	case MXC_TXTREC_INVALID: return "invalid";
	case MXC_TXTREC_MULTIPLE: return "multiple";
	}
	return "?";
}

const char *mxc_txtrec_spf_name(enum mxc_spf_status s)
{
	switch (s) {
	case MXC_SPF_NONE: return "none";
	case MXC_SPF_PRESENT: return "present";
	case MXC_SPF_MULTIPLE: return "multiple";
	}
	return "?";
}

const char *mxc_txtrec_dmarc_name(enum mxc_dmarc_status s)
{
	switch (s) {
	case MXC_DMARC_ABSENT: return "absent";
	case MXC_DMARC_NONE: return "none";
	case MXC_DMARC_QUARANTINE: return "quarantine";
	case MXC_DMARC_REJECT: return "reject";
	case MXC_DMARC_INVALID: return "invalid";
	case MXC_DMARC_MULTIPLE: return "multiple";
	}
	return "?";
}
