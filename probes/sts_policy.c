/**
 * \file
 * The MTA-STS policy file parser and MX pattern matcher (RFC 8461 sections
 * 3.2 and 4.1).
 *
 * The body is split into lines ending in LF or CRLF (the last line may lack
 * one). Each line is `key ":" *WSP value *WSP`. The RFC's grammar does not
 * order the fields, so "version" need not come first; it lets "mx" repeat
 * (one line per allowed pattern) and says nothing about the others. We
 * treat a second "version", "mode" or "max_age" line as an error
 * ("duplicate"): the grammar does not forbid it, but two values make the
 * policy ambiguous and senders would disagree on which applies, which a
 * census should report rather than hide. Unknown keys are ignored when the
 * line is well-formed. Blank lines (empty or only WSP) are skipped: the
 * grammar does not allow them, but a stray blank line (often at the end of
 * the file) changes no field and real senders ignore it. "mx" is required
 * unless mode is "none" (section 8.3 shows a "none" policy without mx).
 *
 * The first violation stops the parse and is reported with its line; the
 * missing-field checks run only after the whole body parsed cleanly.
 */
#include "probes/sts_policy.h"

#include <string.h>

#include "common/error.h"
#include "probes/internal.h"

static int is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static int is_alnum(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static int span_eq(const uint8_t *p, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

/*
 * Values of unknown fields: printable ASCII and inner WSP. The RFC's
 * extension value is narrower, but an unknown field is ignored anyway; we
 * only refuse control bytes, NUL and non-ASCII, which no valid line holds.
 */
static int value_ok(const uint8_t *p, size_t n)
{
	size_t i;

	if (n < 1)
		return 0;
	for (i = 0; i < n; i++)
		if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\t')
			return 0;
	return 1;
}

bool mxc_sts_mx_pattern_valid(const char *s, size_t len)
{
	size_t i, label = 0;

	if (!s || len == 0 || len > MXC_STS_MX_LEN)
		return false;
	if (len >= 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		len -= 2;
		if (len == 0)
			return false;
	}
	for (i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];

		if (c == '.') {
			/* Empty label, or label ending in a hyphen. */
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!is_alnum(c) && c != '-')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	/* The last label: non-empty (no trailing dot), no trailing hyphen. */
	return label > 0 && s[len - 1] != '-';
}

/* max_age = 1*10 DIGIT, at most MXC_STS_MAX_AGE_MAX; no overflow possible
 * because ten digits fit in 64 bits. */
static int parse_max_age(const uint8_t *p, size_t n, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n < 1 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > MXC_STS_MAX_AGE_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

struct seen {
	int version, mode, max_age;
};

/* Handle one non-blank line; returns MXC_STS_OK or the violation. */
static enum mxc_sts_perr parse_line(const uint8_t *s, size_t n, struct seen *seen,
				    struct mxc_sts_policy *out)
{
	const uint8_t *colon = memchr(s, ':', n);
	const uint8_t *k = s, *v, *e = s + n;
	size_t kl, vl;

	if (!colon)
		return MXC_STS_ERR_SYNTAX;
	kl = (size_t)(colon - k);
	v = colon + 1;
	while (v < e && is_wsp(*v))
		v++;
	while (e > v && is_wsp(e[-1]))
		e--;
	vl = (size_t)(e - v);
	/* Keys are case-sensitive (%s in the grammar) and have no WSP before ':'. */
	if (!mxc__sts_ext_name_ok(k, kl) || vl == 0)
		return MXC_STS_ERR_SYNTAX;

	if (span_eq(k, kl, "version")) {
		if (seen->version++)
			return MXC_STS_ERR_DUPLICATE;
		return span_eq(v, vl, "STSv1") ? MXC_STS_OK : MXC_STS_ERR_VERSION;
	}
	if (span_eq(k, kl, "mode")) {
		if (seen->mode++)
			return MXC_STS_ERR_DUPLICATE;
		if (span_eq(v, vl, "enforce"))
			out->mode = MXC_STS_MODE_ENFORCE;
		else if (span_eq(v, vl, "testing"))
			out->mode = MXC_STS_MODE_TESTING;
		else if (span_eq(v, vl, "none"))
			out->mode = MXC_STS_MODE_NONE;
		else
			return MXC_STS_ERR_MODE;
		return MXC_STS_OK;
	}
	if (span_eq(k, kl, "max_age")) {
		if (seen->max_age++)
			return MXC_STS_ERR_DUPLICATE;
		return parse_max_age(v, vl, &out->max_age) ? MXC_STS_ERR_MAX_AGE : MXC_STS_OK;
	}
	if (span_eq(k, kl, "mx")) {
		if (!mxc_sts_mx_pattern_valid((const char *)v, vl))
			return MXC_STS_ERR_MX;
		if (out->n_mx >= MXC_STS_MAX_MX)
			return MXC_STS_ERR_TOO_MANY_MX;
		memcpy(out->mx[out->n_mx], v, vl);
		out->mx[out->n_mx][vl] = '\0';
		out->n_mx++;
		return MXC_STS_OK;
	}
	return value_ok(v, vl) ? MXC_STS_OK : MXC_STS_ERR_SYNTAX;
}

static int blank(const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_wsp(s[i]))
			return 0;
	return 1;
}

int mxc_sts_policy_parse(const uint8_t *data, size_t len, struct mxc_sts_policy *out)
{
	const uint8_t *p, *end;
	struct seen seen = { 0, 0, 0 };
	unsigned line = 0;

	if (!out)
		return MXC_EINVAL;
	memset(out, 0, sizeof(*out));
	if (!data && len > 0)
		return MXC_EINVAL;
	if (len > MXC_STS_POLICY_MAX)
		return MXC_ETOOBIG;
	p = data;
	end = data ? data + len : data;
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *le = nl ? nl : end;
		enum mxc_sts_perr e;

		line++;
		if (le > p && le[-1] == '\r' && nl)
			le--; /* CRLF */
		/* Any other CR (bare, or before the end without LF) is not a
		 * line end the grammar knows; value_ok and friends reject it. */
		if (!blank(p, (size_t)(le - p))) {
			e = parse_line(p, (size_t)(le - p), &seen, out);
			if (e != MXC_STS_OK) {
				out->error = e;
				out->line = line;
				goto invalid;
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (!seen.version)
		out->error = MXC_STS_ERR_MISSING_VERSION;
	else if (!seen.mode)
		out->error = MXC_STS_ERR_MISSING_MODE;
	else if (!seen.max_age)
		out->error = MXC_STS_ERR_MISSING_MAX_AGE;
	else if (out->n_mx == 0 && out->mode != MXC_STS_MODE_NONE)
		out->error = MXC_STS_ERR_MISSING_MX;
	if (out->error == MXC_STS_OK)
		return 0;
invalid:
	/* An invalid policy carries no values a caller could use by mistake. */
	out->mode = MXC_STS_MODE_UNSET;
	out->max_age = 0;
	out->n_mx = 0;
	return 0;
}

/* Length without one trailing dot. */
static size_t trim_dot(const char *s)
{
	size_t n = strlen(s);

	return (n > 0 && s[n - 1] == '.') ? n - 1 : n;
}

static int ieq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower((uint8_t)a[i]) != lower((uint8_t)b[i]))
			return 0;
	return 1;
}

bool mxc_sts_mx_matches(const char *pattern, const char *mx_host)
{
	size_t pl, hl;
	const char *dot;

	if (!pattern || !mx_host)
		return false;
	pl = trim_dot(pattern);
	hl = trim_dot(mx_host);
	if (pl == 0 || hl == 0)
		return false;
	if (pl >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* The wildcard stands for exactly one non-empty left-most label. */
		dot = memchr(mx_host, '.', hl);
		if (!dot || dot == mx_host)
			return false;
		dot++;
		return (size_t)(mx_host + hl - dot) == pl - 2 && pl > 2 &&
		       ieq(dot, pattern + 2, pl - 2);
	}
	return pl == hl && ieq(pattern, mx_host, pl);
}

const char *mxc_sts_perr_name(enum mxc_sts_perr e)
{
	switch (e) {
	case MXC_STS_OK: return "ok";
	case MXC_STS_ERR_SYNTAX: return "syntax";
	case MXC_STS_ERR_VERSION: return "version";
	case MXC_STS_ERR_MODE: return "mode";
	case MXC_STS_ERR_MAX_AGE: return "max-age";
	case MXC_STS_ERR_MX: return "mx";
	case MXC_STS_ERR_TOO_MANY_MX: return "too-many-mx";
	case MXC_STS_ERR_DUPLICATE: return "duplicate";
	case MXC_STS_ERR_MISSING_VERSION: return "missing-version";
	case MXC_STS_ERR_MISSING_MODE: return "missing-mode";
	case MXC_STS_ERR_MISSING_MAX_AGE: return "missing-max-age";
	case MXC_STS_ERR_MISSING_MX: return "missing-mx";
	}
	return "?";
}

const char *mxc_sts_mode_name(enum mxc_sts_mode m)
{
	switch (m) {
	case MXC_STS_MODE_UNSET: return "";
	case MXC_STS_MODE_ENFORCE: return "enforce";
	case MXC_STS_MODE_TESTING: return "testing";
	case MXC_STS_MODE_NONE: return "none";
	}
	return "?";
}
