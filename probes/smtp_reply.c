/**
 * \file
 * SMTP reply, EHLO extension and STARTTLS-stripping parsers.
 *
 * The reply grammar of RFC 5321 section 4.2 is line based: every line starts
 * with the same three-digit code, followed by '-' while more lines follow
 * and by ' ' (or nothing) on the last. The parser walks complete lines only
 * and stops at the first that proves the bytes are not a reply, so a hostile
 * server can never make it read past the caller's length or keep more than
 * MXC_SMTP_LINES_MAX spans. It is stateless on purpose (see the header).
 *
 * The EHLO parser reads the keyword of each line after the greeting. A
 * keyword is matched case-insensitively (RFC 5321 section 2.4); its
 * parameters matter only for SIZE, which senders use and census reports
 * show.
 */
#include "probes/smtp_reply.h"

#include <string.h>

#include "common/error.h"
#include "common/util.h"

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(uint8_t c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int span_ieq(const uint8_t *p, size_t n, const char *lit)
{
	size_t i, l = strlen(lit);

	if (n != l)
		return 0;
	for (i = 0; i < n; i++)
		if (lower(p[i]) != lower((uint8_t)lit[i]))
			return 0;
	return 1;
}

static int fail(struct mxc_smtp_reply *out, const char *why)
{
	out->error = why;
	return MXC_EPARSE;
}

int mxc_smtp_reply_parse(const uint8_t *buf, size_t len, struct mxc_smtp_reply *out)
{
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	out->code = -1;
	for (;;) {
		size_t avail = len - pos, scan, end, tlen;
		const uint8_t *line = buf + pos, *lf;
		int code, last;

		scan = avail < MXC_SMTP_LINE_MAX ? avail : MXC_SMTP_LINE_MAX;
		lf = scan ? memchr(line, '\n', scan) : NULL;
		if (!lf)
			return avail >= MXC_SMTP_LINE_MAX ? fail(out, "line-too-long") : 0;
		end = (size_t)(lf - line);
		if (end + 1 > MXC_SMTP_LINE_RFC)
			out->flags |= MXC_SMTP_REPLY_LONG_LINE;
		tlen = end;
		if (tlen > 0 && line[tlen - 1] == '\r')
			tlen--;
		else
			out->flags |= MXC_SMTP_REPLY_BARE_LF;

		if (tlen < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]))
			return fail(out, "syntax");
		/* RFC 5321 4.2: %x32-35 %x30-35 %x30-39. */
		if (line[0] < '2' || line[0] > '5' || line[1] > '5')
			return fail(out, "bad-code");
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (tlen == 3) {
			last = 1;
			out->flags |= MXC_SMTP_REPLY_NO_SEP;
		} else if (line[3] == ' ') {
			last = 1;
		} else if (line[3] == '-') {
			last = 0;
		} else {
			return fail(out, "syntax");
		}
		if (out->code >= 0 && code != out->code)
			return fail(out, "code-mismatch");
		if (out->nlines == MXC_SMTP_LINES_MAX)
			return fail(out, "too-many-lines");
		out->code = code;
		out->text[out->nlines].off = pos + (tlen > 3 ? 4 : 3);
		out->text[out->nlines].len = tlen > 3 ? tlen - 4 : 0;
		out->nlines++;
		pos += end + 1;
		if (last) {
			out->consumed = pos;
			return 1;
		}
	}
}

struct ext_name {
	const char *name;
	unsigned bit;
};

static const struct ext_name EXTS[] = {
	{ "STARTTLS", MXC_EHLO_STARTTLS },
	{ "SIZE", MXC_EHLO_SIZE },
	{ "PIPELINING", MXC_EHLO_PIPELINING },
	{ "8BITMIME", MXC_EHLO_8BITMIME },
	{ "SMTPUTF8", MXC_EHLO_SMTPUTF8 },
	{ "CHUNKING", MXC_EHLO_CHUNKING },
	{ "ENHANCEDSTATUSCODES", MXC_EHLO_ENHANCEDSTATUSCODES },
	{ "DSN", MXC_EHLO_DSN },
	{ "REQUIRETLS", MXC_EHLO_REQUIRETLS },
	{ "AUTH", MXC_EHLO_AUTH },
	{ "BINARYMIME", MXC_EHLO_BINARYMIME },
};

static unsigned known_ext(const uint8_t *kw, size_t n)
{
	size_t i;

	for (i = 0; i < MXC_ARRAY_SIZE(EXTS); i++)
		if (span_ieq(kw, n, EXTS[i].name))
			return EXTS[i].bit;
	return 0;
}

int mxc_ehlo_keyword_stripped(const uint8_t *kw, size_t len)
{
	static const char STARTTLS[] = "STARTTLS";
	size_t i, xs = 0, positional = 1;

	if (len != sizeof(STARTTLS) - 1 || span_ieq(kw, len, STARTTLS) || known_ext(kw, len))
		return 0;
	for (i = 0; i < len; i++) {
		uint8_t c = lower(kw[i]);

		if (c == 'x')
			xs++;
		else if (c != lower((uint8_t)STARTTLS[i]))
			positional = 0;
	}
	/* Six X's catch XXXXXXXA and its kin; X's in place of some letters of
	 * STARTTLS catch partial masking. No registered extension is either. */
	return xs >= 6 || (positional && xs >= 1);
}

/* SIZE's parameter: digits, at most 20 of them; anything else reads as 0. */
static uint64_t size_param(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 19)
		return 0;
	for (i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return 0;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	return v;
}

int mxc_ehlo_parse(const uint8_t *buf, const struct mxc_smtp_reply *r, struct mxc_ehlo *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if (r->code != 250)
		return MXC_EINVAL;
	for (i = 1; i < r->nlines; i++) {
		const uint8_t *t = buf + r->text[i].off;
		size_t n = r->text[i].len, kl = 0, j;
		unsigned bit;
		int ok;

		while (kl < n && t[kl] != ' ')
			kl++;
		/* ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
		ok = kl > 0 && is_alnum(t[0]);
		for (j = 1; ok && j < kl; j++)
			ok = is_alnum(t[j]) || t[j] == '-';
		if (!ok) {
			out->malformed++;
			continue;
		}
		bit = known_ext(t, kl);
		if (bit) {
			out->ext |= bit;
			if (bit == MXC_EHLO_SIZE && kl < n)
				out->size = size_param(t + kl + 1, n - kl - 1);
			continue;
		}
		out->unknown++;
		if (!out->stripped && mxc_ehlo_keyword_stripped(t, kl)) {
			out->stripped = 1;
			memcpy(out->stripped_keyword, t, kl);
			out->stripped_keyword[kl] = '\0';
		}
	}
	return 0;
}
