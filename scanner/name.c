/**
 * \file
 * Domain name normalisation: the one function that decides what a name to
 * scan looks like. Every reader passes its names through it, so the store,
 * the shard hash and the exports all see one spelling per domain: A-labels,
 * lower case, no trailing dot.
 *
 * Inputs are overwhelmingly plain ASCII (zone files are ASCII by
 * definition), so that case is a single pass over the bytes into the
 * caller's buffer with no allocation. Only a name with a byte >= 0x80 goes
 * through libidn2 (IDNA 2008 + UTS #46 non-transitional with NFC), and its
 * result is then checked by the same ASCII pass, so both paths apply exactly
 * the same rules and the output is always a fixed point of this function.
 *
 * There is deliberately no fallback to UTS #46 transitional processing:
 * transitional maps "ß" to "ss" and drops ZWJ/ZWNJ, which yields a
 * *different* domain (faß.de and fass.de are separately registered under
 * DENIC's rules since 2010). Scanning a name other than the one in the input
 * would record results for the wrong domain; rejecting it is the honest
 * outcome.
 */
#include "scanner/input.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "common/error.h"

/*
 * A U-label name longer than this (in UTF-8 bytes) cannot become a 253-octet
 * A-label name in any realistic way, and copying it for libidn2 needs a
 * bound. NFC may shrink decomposed input, hence the generous factor.
 */
#define UNAME_MAX (8 * (MXC_NAME_MAX + 1))

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Class of each byte for the ASCII pass. */
enum {
	C_BAD = 0,
	C_ALPHA,
	C_UPPER,
	C_DIGIT,
	C_HYPHEN,
	C_UNDERSCORE,
	C_DOT,
};

static unsigned char byte_class(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return C_ALPHA;
	if (c >= 'A' && c <= 'Z')
		return C_UPPER;
	if (c >= '0' && c <= '9')
		return C_DIGIT;
	if (c == '-')
		return C_HYPHEN;
	if (c == '_')
		return C_UNDERSCORE;
	if (c == '.')
		return C_DOT;
	return C_BAD;
}

/*
 * Check one label that has just been copied to out[start..end) and report
 * the first rule it breaks.
 */
static const char *check_label(const char *out, size_t start, size_t end)
{
	size_t len = end - start;

	if (len == 0)
		return "empty label";
	if (len > 63)
		return "label longer than 63";
	/*
	 * Hyphens in positions 3-4 ("xn--", but also the rare legacy "ab--cd"
	 * that registries delegated before IDNA 2008 reserved them) are
	 * accepted: they are real delegations and worth measuring.
	 */
	if (out[start] == '-')
		return "label starts with hyphen";
	if (out[end - 1] == '-')
		return "label ends with hyphen";
	return NULL;
}

/*
 * The ASCII pass: lower-case @p s into @p out and check every rule.
 * @p s has no surrounding whitespace and no trailing dot.
 */
static int ascii_pass(const char *s, size_t len, char *out, const char **why)
{
	size_t label_start = 0, labels = 1;
	bool last_numeric = true;
	const char *err;

	if (len == 0) {
		*why = "empty name";
		return MXC_ENAME;
	}
	if (len > MXC_NAME_MAX) {
		*why = "name longer than 253";
		return MXC_ENAME;
	}
	if (s[0] == '.') {
		*why = "leading dot";
		return MXC_ENAME;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (byte_class(c)) {
		case C_UPPER:
			c = (unsigned char)(c - 'A' + 'a');
			last_numeric = false;
			break;
		case C_ALPHA:
		case C_HYPHEN:
		case C_UNDERSCORE:
			last_numeric = false;
			break;
		case C_DIGIT:
			break;
		case C_DOT:
			err = check_label(out, label_start, i);
			if (err) {
				*why = err;
				return MXC_ENAME;
			}
			label_start = i + 1;
			labels++;
			last_numeric = true;
			break;
		default:
			*why = "invalid character";
			return MXC_ENAME;
		}
		out[i] = (char)c;
	}
	err = check_label(out, label_start, len);
	if (err) {
		*why = err;
		return MXC_ENAME;
	}
	if (labels < 2) {
		*why = "single label";
		return MXC_ENAME;
	}
	/* "192.0.2.1" is an address, not a domain; no TLD is all digits. */
	if (last_numeric) {
		*why = "numeric top-level label";
		return MXC_ENAME;
	}
	out[len] = '\0';
	return 0;
}

/* libidn2's messages are not ours to return; map its codes to fixed text. */
static const char *idn2_reason(int rc)
{
	switch (rc) {
	case IDN2_MALLOC:
		return "IDN conversion failed: out of memory";
	case IDN2_ENCODING_ERROR:
		return "IDN conversion failed: invalid UTF-8";
	case IDN2_NFC:
	case IDN2_NOT_NFC:
		return "IDN conversion failed: normalisation";
	case IDN2_TOO_BIG_DOMAIN:
		return "name longer than 253";
	case IDN2_TOO_BIG_LABEL:
	case IDN2_PUNYCODE_BIG_OUTPUT: /* libidn2 encodes into a 63-octet buffer */
		return "label longer than 63";
	case IDN2_DISALLOWED:
	case IDN2_UNASSIGNED:
	case IDN2_INVALID_NONTRANSITIONAL:
		return "IDN conversion failed: disallowed code point";
	case IDN2_CONTEXTJ:
	case IDN2_CONTEXTJ_NO_RULE:
	case IDN2_CONTEXTO:
	case IDN2_CONTEXTO_NO_RULE:
		return "IDN conversion failed: contextual rule";
	case IDN2_BIDI:
		return "IDN conversion failed: bidi rule";
	case IDN2_LEADING_COMBINING:
		return "IDN conversion failed: leading combining mark";
	case IDN2_2HYPHEN:
	case IDN2_HYPHEN_STARTEND:
		return "IDN conversion failed: hyphen rule";
	case IDN2_INVALID_ALABEL:
	case IDN2_UALABEL_MISMATCH:
	case IDN2_ALABEL_ROUNDTRIP_FAILED:
		return "IDN conversion failed: invalid A-label";
	default:
		return "IDN conversion failed";
	}
}

/*
 * Convert a name with non-ASCII bytes to A-labels, then run the ASCII pass
 * over libidn2's output. The structural checks on the input (empty labels,
 * leading dot) have already been made by the caller, so a label the mapping
 * step turns into something odd (an ideographic full stop becomes '.') is
 * still caught by the ASCII pass afterwards.
 */
static int idn_pass(const char *s, size_t len, char *out, const char **why)
{
	char tmp[UNAME_MAX + 1];
	uint8_t *ace = NULL;
	size_t alen;
	int rc;

	if (len > UNAME_MAX) {
		*why = "name longer than 253";
		return MXC_ENAME;
	}
	if (memchr(s, '\0', len)) {
		*why = "invalid character";
		return MXC_ENAME;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	rc = idn2_lookup_u8((const uint8_t *)tmp, &ace,
			    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		*why = idn2_reason(rc);
		return MXC_ENAME;
	}
	/* libidn2 allocates with its own malloc; it is released by idn2_free. */
	alen = strlen((const char *)ace);
	if (alen > MXC_NAME_MAX) {
		idn2_free(ace);
		*why = "name longer than 253";
		return MXC_ENAME;
	}
	memcpy(tmp, ace, alen);
	idn2_free(ace);
	return ascii_pass(tmp, alen, out, why);
}

int mxc_name_normalize(const char *in, size_t len, char *out, const char **why)
{
	const char *dummy;
	bool ascii = true;

	if (!why)
		why = &dummy;
	while (len > 0 && is_space((unsigned char)in[0])) {
		in++;
		len--;
	}
	while (len > 0 && is_space((unsigned char)in[len - 1]))
		len--;
	if (len == 0) {
		*why = "empty name";
		return MXC_ENAME;
	}
	if (len == 1 && in[0] == '.') {
		*why = "root name";
		return MXC_ENAME;
	}
	if (in[len - 1] == '.')
		len--;
	if (len > 0 && in[0] == '.') {
		*why = "leading dot";
		return MXC_ENAME;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)in[i] >= 0x80) {
			ascii = false;
			break;
		}
	}
	if (ascii)
		return ascii_pass(in, len, out, why);

	/*
	 * Structural and ASCII checks first: libidn2 is more lenient about
	 * empty labels, and its reason for a stray space or '$' is confusing.
	 */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (i + 1 < len && c == '.' && in[i + 1] == '.') {
			*why = "empty label";
			return MXC_ENAME;
		}
		if (c < 0x80 && byte_class(c) == C_BAD) {
			*why = "invalid character";
			return MXC_ENAME;
		}
	}
	if (len > 0 && in[len - 1] == '.') {
		*why = "empty label";
		return MXC_ENAME;
	}
	return idn_pass(in, len, out, why);
}
