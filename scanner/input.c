/**
 * \file
 * Input readers: plain lists, "rank,domain" CSV and DNS master files, read
 * one line at a time in constant memory and turned into normalised names.
 *
 * All three formats share one bounded line reader over read(2): a fixed
 * buffer of MXC_INPUT_LINE_MAX plus one read chunk, so a 40 GB zone or a
 * file with a 1 GB line costs the same memory as a ten-line list, embedded
 * NUL bytes cannot hide the rest of a line, and a pipe yields names as soon
 * as its first bytes arrive. An over-long line is reported and skipped.
 *
 * Zone files. Only the names of delegations are wanted: owners of NS records
 * strictly below the apex. Parsing every record with ldns
 * (ldns_rr_new_frm_fp_l) was measured at about 220,000 lines/s on a
 * 2-million-line signed zone, i.e. half an hour for .com, almost all of it
 * spent building RRSIG/NSEC3/DS rdata we throw away. So the common case, a
 * one-line record without parentheses, quotes or escapes, is handled here:
 * we split off the owner, skip TTL and class, look at the type, and for NS
 * check that exactly one rdata field follows. Everything else (SOA, records
 * in parentheses, quoted or escaped text, an unknown type or a malformed NS)
 * is joined into one line and handed to ldns_rr_new_frm_str, which also
 * produces the error message when the record is broken. RDATA of types we
 * skip is not validated on the fast path: a damaged RRSIG line does not
 * change which domains are delegated.
 *
 * The apex is the owner of the first SOA; until a SOA is seen, the first
 * $ORIGIN stands in for it. NS at the apex and NS outside the zone are
 * skipped, and the NS records of one delegation (consecutive in every zone
 * file we know of) yield its name once.
 *
 * Every rejected line is logged as "file:line: reason: text" and counted,
 * up to MXC_INPUT_WARN_MAX lines per file; after that only a summary line.
 */
#include "scanner/input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

/* One read(2) fills at most this much; the buffer holds a full line plus one. */
#define READ_CHUNK 65536
/* How much of an offending line a warning shows. */
#define EXCERPT_MAX 80
/* Owner names are built here before checks; room for a long relative name. */
#define OWNER_BUF (2 * (MXC_NAME_MAX + 2))

/* The bounded line reader. */
struct linereader {
	int fd;
	char *buf;	  /* MXC_INPUT_LINE_MAX + READ_CHUNK + 1 bytes */
	size_t start;	  /* first unconsumed byte */
	size_t end;	  /* end of valid data */
	bool eof;
	bool skipping;	  /* inside an over-long line, discarding to its end */
	char excerpt[EXCERPT_MAX];
	size_t excerpt_len;
	uint64_t *bytes;  /* counter to add read bytes to */
};

/* Where the apex of a zone file came from. */
enum apex_source {
	APEX_NONE = 0,
	APEX_ORIGIN,
	APEX_SOA,
};

/* Master-file state: origin, apex, previous owner, the record being joined. */
struct zone_state {
	char origin[OWNER_BUF]; /* lower case, no trailing dot; "" is the root */
	size_t origin_len;
	bool origin_set;
	ldns_rdf *origin_rdf;	/* the same, for ldns; NULL until $ORIGIN */
	char apex[OWNER_BUF];
	size_t apex_len;
	enum apex_source apex_src;
	bool apex_warned;
	char prev[OWNER_BUF];	/* owner of the previous record */
	size_t prev_len;
	bool have_prev;
	char last_ns[OWNER_BUF]; /* owner of the previous delegation NS */
	size_t last_ns_len;
	bool have_last_ns;
	/* A record spanning lines (parentheses) or needing ldns. */
	char *rec;		/* MXC_INPUT_LINE_MAX + 1 bytes */
	size_t rec_len;
	bool in_rec;
	int depth;
	bool rec_overflow;
	const char *rec_error;
	uint64_t rec_line;
};

struct mxc_input {
	char **files;
	size_t n_files;
	size_t idx;		 /* current file */
	enum mxc_input_format fmt; /* as requested (may be AUTO) */
	enum mxc_input_format cur_fmt;
	bool open;
	struct mxc_shard shard;
	struct linereader lr;
	uint64_t line;		 /* line number in the current file */
	uint64_t warnings;	 /* invalid lines in the current file */
	bool csv_first;		 /* no data line seen yet in this CSV file */
	struct zone_state z;
	char last[MXC_NAME_MAX + 1]; /* last name seen, for consecutive dedup */
	bool have_last;
	struct mxc_input_stats stats;
};

int mxc_input_format_parse(const char *s, enum mxc_input_format *out)
{
	static const struct {
		const char *name;
		enum mxc_input_format fmt;
	} tab[] = {
		{ "auto", MXC_INPUT_AUTO },
		{ "list", MXC_INPUT_LIST },
		{ "zone", MXC_INPUT_ZONE },
		{ "csv", MXC_INPUT_CSV },
	};

	if (!s || !out)
		return MXC_EINVAL;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strcmp(s, tab[i].name) == 0) {
			*out = tab[i].fmt;
			return 0;
		}
	}
	return MXC_EINVAL;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcasecmp(s + n - m, suffix) == 0;
}

static enum mxc_input_format format_for(const char *path, enum mxc_input_format fmt)
{
	if (fmt != MXC_INPUT_AUTO)
		return fmt;
	if (has_suffix(path, ".zone") || has_suffix(path, ".db"))
		return MXC_INPUT_ZONE;
	if (has_suffix(path, ".csv"))
		return MXC_INPUT_CSV;
	return MXC_INPUT_LIST;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* ------------------------------------------------------------------ */
/* Reporting */

/* Printable excerpt of untrusted text: at most EXCERPT_MAX source bytes. */
static void excerpt(const char *s, size_t len, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, n = len < EXCERPT_MAX ? len : EXCERPT_MAX;

	for (size_t i = 0; i < n && o + 5 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (len > n && o + 4 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void report(struct mxc_input *in, uint64_t line, const char *reason,
		   const char *text, size_t len)
{
	char ex[EXCERPT_MAX * 4 + 8];

	in->stats.invalid++;
	in->warnings++;
	if (in->warnings > MXC_INPUT_WARN_MAX)
		return;
	excerpt(text, len, ex, sizeof(ex));
	mxc_log_warn("%s:%llu: %s: %s", in->files[in->idx], (unsigned long long)line,
		     reason, ex);
	if (in->warnings == MXC_INPUT_WARN_MAX)
		mxc_log_warn("%s: %d invalid lines reported; further ones are only counted",
			     in->files[in->idx], MXC_INPUT_WARN_MAX);
}

/* ------------------------------------------------------------------ */
/* Bounded line reader */

static void lr_reset(struct linereader *lr, int fd, uint64_t *bytes)
{
	lr->fd = fd;
	lr->start = 0;
	lr->end = 0;
	lr->eof = false;
	lr->skipping = false;
	lr->excerpt_len = 0;
	lr->bytes = bytes;
}

static int lr_fill(struct linereader *lr)
{
	const size_t cap = MXC_INPUT_LINE_MAX + READ_CHUNK;
	ssize_t n;

	if (lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	do {
		n = read(lr->fd, lr->buf + lr->end, cap - lr->end);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		lr->eof = true;
	lr->end += (size_t)n;
	*lr->bytes += (uint64_t)n;
	return 0;
}

/*
 * Next line, without its '\n', NUL-terminated in place (the buffer is ours).
 * @return 1 with a line, 2 for an over-long line (*line is an excerpt of its
 *         start), 0 at end of file, -errno on a read error
 */
static int lr_next(struct linereader *lr, char **line, size_t *len)
{
	for (;;) {
		char *p = lr->buf + lr->start;
		size_t avail = lr->end - lr->start;
		char *nl = memchr(p, '\n', avail);
		int rc;

		if (nl) {
			lr->start += (size_t)(nl - p) + 1;
			if (!lr->skipping && (size_t)(nl - p) > MXC_INPUT_LINE_MAX) {
				/* A long line that happened to arrive in one read. */
				*line = p;
				*len = EXCERPT_MAX;
				return 2;
			}
			if (lr->skipping) {
				lr->skipping = false;
				*line = lr->excerpt;
				*len = lr->excerpt_len;
				return 2;
			}
			*nl = '\0';
			*line = p;
			*len = (size_t)(nl - p);
			return 1;
		}
		if (avail > MXC_INPUT_LINE_MAX || (lr->skipping && avail > 0)) {
			if (!lr->skipping) {
				lr->skipping = true;
				lr->excerpt_len = EXCERPT_MAX;
				memcpy(lr->excerpt, p, EXCERPT_MAX);
			}
			lr->start = lr->end = 0;
		}
		if (lr->eof) {
			if (lr->skipping) {
				lr->skipping = false;
				*line = lr->excerpt;
				*len = lr->excerpt_len;
				return 2;
			}
			if (avail == 0)
				return 0;
			lr->start = lr->end;
			p[avail] = '\0';
			*line = p;
			*len = avail;
			return 1;
		}
		rc = lr_fill(lr);
		if (rc < 0)
			return rc;
	}
}

/* ------------------------------------------------------------------ */
/* Names out: dedup and shard */

/* A valid normalised name; @return 1 when it is to be handed out. */
static int emit(struct mxc_input *in, const char *name, uint64_t rank, uint64_t line,
		struct mxc_input_item *item)
{
	if (in->have_last && strcmp(in->last, name) == 0) {
		in->stats.duplicates++;
		return 0;
	}
	memcpy(in->last, name, strlen(name) + 1);
	in->have_last = true;
	if (!mxc_shard_match(&in->shard, name)) {
		in->stats.other_shard++;
		return 0;
	}
	memcpy(item->name, name, strlen(name) + 1);
	item->rank = rank;
	item->file = in->files[in->idx];
	item->line = line;
	in->stats.names++;
	return 1;
}

/* Normalise, report on failure, emit on success. */
static int name_out(struct mxc_input *in, const char *s, size_t len, uint64_t rank,
		    uint64_t line, const char *text, size_t text_len,
		    struct mxc_input_item *item)
{
	char name[MXC_NAME_MAX + 1];
	const char *why;

	if (mxc_name_normalize(s, len, name, &why) != 0) {
		report(in, line, why, text, text_len);
		return 0;
	}
	return emit(in, name, rank, line, item);
}

/* ------------------------------------------------------------------ */
/* Plain list */

static int list_line(struct mxc_input *in, char *line, size_t len,
		     struct mxc_input_item *item)
{
	size_t s = 0, e = len;
	char *hash = memchr(line, '#', len);

	if (hash)
		e = (size_t)(hash - line);
	while (s < e && is_blank(line[s]))
		s++;
	while (e > s && is_blank(line[e - 1]))
		e--;
	if (s == e)
		return 0;
	for (size_t i = s; i < e; i++) {
		if (is_blank(line[i])) {
			report(in, in->line, "more than one name on the line", line, len);
			return 0;
		}
	}
	return name_out(in, line + s, e - s, 0, in->line, line, len, item);
}

/* ------------------------------------------------------------------ */
/* CSV: rank,domain */

/*
 * Split one RFC 4180 field starting at *pos, unquoting into @p out.
 * @return 0, or a static reason
 */
static const char *csv_field(const char *line, size_t len, size_t *pos, char *out,
			     size_t outsz, size_t *outlen)
{
	size_t p = *pos, o = 0;

	while (p < len && (line[p] == ' ' || line[p] == '\t'))
		p++;
	if (p < len && line[p] == '"') {
		p++;
		for (;;) {
			if (p >= len)
				return "unterminated quoted field";
			if (line[p] == '"') {
				if (p + 1 < len && line[p + 1] == '"') {
					p++;
				} else {
					p++;
					break;
				}
			}
			if (o + 1 >= outsz)
				return "field too long";
			out[o++] = line[p++];
		}
		while (p < len && is_blank(line[p]))
			p++;
		if (p < len && line[p] != ',')
			return "text after closing quote";
	} else {
		while (p < len && line[p] != ',') {
			if (line[p] == '"')
				return "quote inside unquoted field";
			if (o + 1 >= outsz)
				return "field too long";
			out[o++] = line[p++];
		}
		while (o > 0 && is_blank(out[o - 1]))
			o--;
	}
	out[o] = '\0';
	*outlen = o;
	*pos = p;
	return NULL;
}

static int csv_line(struct mxc_input *in, char *line, size_t len,
		    struct mxc_input_item *item)
{
	char rank_s[32], dom[8 * (MXC_NAME_MAX + 1)];
	size_t pos = 0, rank_len, dom_len, e = len;
	const char *err;
	uint64_t rank;
	bool first = in->csv_first;

	while (e > 0 && is_blank(line[e - 1]))
		e--;
	if (e == 0)
		return 0;
	in->csv_first = false;
	err = csv_field(line, e, &pos, rank_s, sizeof(rank_s), &rank_len);
	if (!err && (pos >= e || line[pos] != ','))
		err = "expected rank,domain";
	if (!err) {
		pos++;
		err = csv_field(line, e, &pos, dom, sizeof(dom), &dom_len);
	}
	if (!err && pos < e)
		err = "more than two fields";
	if (!err && mxc_parse_u64(rank_s, 1, UINT64_MAX, &rank) != 0) {
		/* A first line without a numeric rank is a header ("rank,domain"). */
		if (first && (rank_len == 0 || rank_s[0] < '0' || rank_s[0] > '9'))
			return 0;
		err = "rank is not a positive integer";
	}
	if (err) {
		report(in, in->line, err, line, len);
		return 0;
	}
	return name_out(in, dom, dom_len, rank, in->line, line, len, item);
}

/* ------------------------------------------------------------------ */
/* Zone master files */

static void lower_copy(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = src[i];

		dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
}

/*
 * Absolute, lower-case owner (no trailing dot) from a presentation token:
 * "@" is the origin, a name with a trailing dot is absolute, anything else is
 * relative to the origin. @return 0, or -1 if it does not fit
 */
static int make_abs(const struct zone_state *z, const char *tok, size_t tlen, char *out,
		    size_t *olen)
{
	if (tlen == 1 && tok[0] == '@') {
		memcpy(out, z->origin, z->origin_len);
		*olen = z->origin_len;
		return 0;
	}
	if (tlen > 0 && tok[tlen - 1] == '.') {
		if (tlen - 1 >= OWNER_BUF)
			return -1;
		lower_copy(out, tok, tlen - 1);
		*olen = tlen - 1;
		return 0;
	}
	if (tlen + 1 + z->origin_len >= OWNER_BUF)
		return -1;
	lower_copy(out, tok, tlen);
	*olen = tlen;
	if (z->origin_len > 0) {
		out[tlen] = '.';
		memcpy(out + tlen + 1, z->origin, z->origin_len);
		*olen += 1 + z->origin_len;
	}
	return 0;
}

static void set_text(char *dst, size_t *dlen, const char *src, size_t n)
{
	memcpy(dst, src, n);
	*dlen = n;
}

static bool next_tok(const char *s, size_t len, size_t *pos, const char **tok, size_t *tlen)
{
	size_t p = *pos;

	while (p < len && is_blank(s[p]))
		p++;
	if (p >= len)
		return false;
	*tok = s + p;
	while (p < len && !is_blank(s[p]))
		p++;
	*tlen = (size_t)(s + p - *tok);
	*pos = p;
	return true;
}

static bool tok_is(const char *tok, size_t tlen, const char *word)
{
	return strlen(word) == tlen && strncasecmp(tok, word, tlen) == 0;
}

static bool is_ttl(const char *tok, size_t tlen)
{
	if (tok[0] < '0' || tok[0] > '9')
		return false;
	for (size_t i = 0; i < tlen; i++) {
		if (!strchr("0123456789sSmMhHdDwW", tok[i]))
			return false;
	}
	return true;
}

static bool is_class(const char *tok, size_t tlen)
{
	if (tok_is(tok, tlen, "IN") || tok_is(tok, tlen, "CH") || tok_is(tok, tlen, "HS") ||
	    tok_is(tok, tlen, "CS"))
		return true;
	return tlen > 5 && strncasecmp(tok, "CLASS", 5) == 0;
}

/* Type mnemonics of the fast path: what TLD zones are made of. */
enum fast_type {
	FT_UNKNOWN = 0, /* ask ldns */
	FT_NS,
	FT_SOA,
	FT_OTHER,	/* a known type we skip */
};

static enum fast_type classify_type(const char *tok, size_t tlen)
{
	static const char *const skip[] = {
		"DS", "RRSIG", "NSEC", "NSEC3", "A", "AAAA", "DNSKEY", "NSEC3PARAM",
		"TXT", "CNAME", "MX", "CDS", "CDNSKEY", "ZONEMD", "SRV", "CAA",
	};
	ldns_rr_type t;
	char buf[32];

	if (tok_is(tok, tlen, "NS"))
		return FT_NS;
	if (tok_is(tok, tlen, "SOA"))
		return FT_SOA;
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
		if (tok_is(tok, tlen, skip[i]))
			return FT_OTHER;
	}
	if (tlen >= sizeof(buf))
		return FT_UNKNOWN;
	memcpy(buf, tok, tlen);
	buf[tlen] = '\0';
	t = ldns_get_rr_type_by_name(buf);
	/* "TYPE2" is NS in RFC 3597 syntax: let ldns parse it properly. */
	if (t == 0 || t == LDNS_RR_TYPE_NS || t == LDNS_RR_TYPE_SOA)
		return FT_UNKNOWN;
	return FT_OTHER;
}

static void set_apex(struct zone_state *z, const char *name, size_t len,
		     enum apex_source src)
{
	set_text(z->apex, &z->apex_len, name, len);
	z->apex_src = src;
}

/* Is @p owner strictly below the apex? */
static bool below_apex(struct mxc_input *in, const char *owner, size_t olen)
{
	struct zone_state *z = &in->z;

	if (z->apex_src == APEX_NONE) {
		if (!z->apex_warned) {
			mxc_log_warn("%s:%llu: NS record before any SOA or $ORIGIN: "
				     "taking every NS owner as a delegation",
				     in->files[in->idx], (unsigned long long)in->line);
			z->apex_warned = true;
		}
		return true;
	}
	if (z->apex_len == 0)
		return olen > 0;
	return olen > z->apex_len && owner[olen - z->apex_len - 1] == '.' &&
	       memcmp(owner + olen - z->apex_len, z->apex, z->apex_len) == 0;
}

/* An NS owner (absolute, lower case): the name of a delegation or nothing. */
static int ns_owner(struct mxc_input *in, const char *owner, size_t olen, uint64_t line,
		    const char *text, size_t tlen, struct mxc_input_item *item)
{
	struct zone_state *z = &in->z;

	if (!below_apex(in, owner, olen))
		return 0;
	/* The second and further NS records of one delegation. */
	if (z->have_last_ns && olen == z->last_ns_len && memcmp(owner, z->last_ns, olen) == 0)
		return 0;
	set_text(z->last_ns, &z->last_ns_len, owner, olen);
	z->have_last_ns = true;
	return name_out(in, owner, olen, 0, line, text, tlen, item);
}

/* $ORIGIN, $TTL and the directives we refuse. */
static void directive(struct mxc_input *in, const char *s, size_t len, uint64_t line)
{
	struct zone_state *z = &in->z;
	const char *kw, *arg;
	size_t kwlen, arglen, pos = 0, olen;
	char abs[OWNER_BUF + 2];
	ldns_rdf *rdf;

	if (!next_tok(s, len, &pos, &kw, &kwlen))
		return;
	if (tok_is(kw, kwlen, "$TTL")) {
		/* TTLs do not matter to us; ldns gets a default for records without. */
		if (!next_tok(s, len, &pos, &arg, &arglen) || !is_ttl(arg, arglen))
			report(in, line, "bad $TTL", s, len);
		return;
	}
	if (!tok_is(kw, kwlen, "$ORIGIN")) {
		report(in, line,
		       tok_is(kw, kwlen, "$INCLUDE") ? "$INCLUDE not supported" :
		       tok_is(kw, kwlen, "$GENERATE") ? "$GENERATE not supported" :
						      "unknown directive",
		       s, len);
		return;
	}
	if (!next_tok(s, len, &pos, &arg, &arglen) || make_abs(z, arg, arglen, abs, &olen) ||
	    olen > MXC_NAME_MAX + 1) {
		report(in, line, "bad $ORIGIN", s, len);
		return;
	}
	abs[olen] = '.';
	abs[olen + 1] = '\0';
	rdf = ldns_dname_new_frm_str(olen == 0 ? "." : abs);
	if (!rdf) {
		report(in, line, "bad $ORIGIN", s, len);
		return;
	}
	if (z->origin_rdf)
		ldns_rdf_deep_free(z->origin_rdf);
	z->origin_rdf = rdf;
	set_text(z->origin, &z->origin_len, abs, olen);
	z->origin_set = true;
	if (z->apex_src == APEX_NONE)
		set_apex(z, abs, olen, APEX_ORIGIN);
}

/*
 * Presentation text of a wire-format owner name, lower case, no trailing dot,
 * into @p out (OWNER_BUF bytes). Bytes outside LDH and '_' are written as
 * \DDD, so ldns reads the text back as the same name and normalisation
 * rejects it. Done here rather than with ldns_rdf2str to avoid an allocation
 * per record. @return 0, or -1 if it does not fit
 */
static int dname_text(const ldns_rdf *rdf, char *out, size_t *olen)
{
	const uint8_t *w = ldns_rdf_data(rdf);
	size_t wlen = ldns_rdf_size(rdf), o = 0, p = 0;

	while (p < wlen && w[p] != 0) {
		size_t ll = w[p++];

		if (ll > wlen - p)
			return -1;
		if (o > 0) {
			if (o + 1 >= OWNER_BUF)
				return -1;
			out[o++] = '.';
		}
		for (size_t i = 0; i < ll; i++, p++) {
			uint8_t c = w[p];

			if (o + 4 >= OWNER_BUF)
				return -1;
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			    c == '_') {
				out[o++] = (char)c;
			} else {
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			}
		}
	}
	*olen = o;
	return 0;
}

/*
 * Hand one record (one line, parentheses already joined, owner present) to
 * ldns: the SOA, anything with quotes or escapes, and anything the fast path
 * did not recognise. ldns's message is the reason when it fails.
 */
static int slow_record(struct mxc_input *in, char *text, size_t len, uint64_t line,
		       struct mxc_input_item *item)
{
	struct zone_state *z = &in->z;
	ldns_rr *rr = NULL;
	ldns_status st;
	ldns_rr_type type;
	size_t olen;
	int ret = 0;

	st = ldns_rr_new_frm_str(&rr, text, 3600, z->origin_rdf, NULL);
	if (st != LDNS_STATUS_OK) {
		report(in, line, ldns_get_errorstr_by_id(st), text, len);
		return 0;
	}
	type = ldns_rr_get_type(rr);
	/* ldns accepts an empty RDATA (it has uses in dynamic updates); we do not. */
	if (type == LDNS_RR_TYPE_NS && ldns_rr_rd_count(rr) != 1) {
		ldns_rr_free(rr);
		report(in, line, "NS record without exactly one name server", text, len);
		return 0;
	}
	if (dname_text(ldns_rr_owner(rr), z->prev, &olen) != 0) {
		report(in, line, "owner name too long", text, len);
		z->have_prev = false;
	} else {
		z->prev_len = olen;
		z->have_prev = true;
		if (type == LDNS_RR_TYPE_SOA && z->apex_src != APEX_SOA)
			set_apex(z, z->prev, olen, APEX_SOA);
		else if (type == LDNS_RR_TYPE_NS)
			ret = ns_owner(in, z->prev, z->prev_len, line, text, len, item);
	}
	ldns_rr_free(rr);
	return ret;
}

/* Append one physical line to the record being joined, per RFC 1035 5.1. */
static void rec_append(struct zone_state *z, const char *line, size_t len)
{
	bool quoted = false, escaped = false;

	for (size_t i = 0; i < len; i++) {
		char c = line[i];

		if (escaped) {
			escaped = false;
		} else if (c == '\\') {
			escaped = true;
		} else if (c == '"') {
			quoted = !quoted;
		} else if (!quoted) {
			if (c == ';')
				break;
			if (c == '(' || c == ')') {
				z->depth += c == '(' ? 1 : -1;
				if (z->depth < 0 && !z->rec_error)
					z->rec_error = "unbalanced parentheses";
				c = ' ';
			}
		}
		if (c == '\0' && !z->rec_error)
			z->rec_error = "NUL byte in record";
		if (z->rec_len + 2 > MXC_INPUT_LINE_MAX) {
			z->rec_overflow = true;
			continue;
		}
		z->rec[z->rec_len++] = c;
	}
	if (z->rec_len + 2 <= MXC_INPUT_LINE_MAX)
		z->rec[z->rec_len++] = ' ';
	z->rec[z->rec_len] = '\0';
}

static int rec_finish(struct mxc_input *in, struct mxc_input_item *item)
{
	struct zone_state *z = &in->z;
	size_t s = 0;

	z->in_rec = false;
	if (z->rec_error || z->rec_overflow) {
		report(in, z->rec_line,
		       z->rec_error ? z->rec_error : "record longer than 65536 bytes", z->rec,
		       z->rec_len);
		return 0;
	}
	while (s < z->rec_len && is_blank(z->rec[s]))
		s++;
	if (s == z->rec_len)
		return 0;
	if (z->rec[s] == '$') {
		directive(in, z->rec + s, z->rec_len - s, z->rec_line);
		return 0;
	}
	return slow_record(in, z->rec + s, z->rec_len - s, z->rec_line, item);
}

/* Start joining a record; an omitted owner is filled in from the previous one. */
static void rec_start(struct mxc_input *in, const char *line)
{
	struct zone_state *z = &in->z;

	z->in_rec = true;
	z->rec_len = 0;
	z->depth = 0;
	z->rec_overflow = false;
	z->rec_error = NULL;
	z->rec_line = in->line;
	if (line[0] == ' ' || line[0] == '\t') {
		if (!z->have_prev) {
			z->rec_error = "no previous owner";
			return;
		}
		memcpy(z->rec, z->prev, z->prev_len);
		z->rec_len = z->prev_len;
		z->rec[z->rec_len++] = '.';
	}
}

/* The common case: one line, no parentheses, quotes or escapes. */
static int fast_record(struct mxc_input *in, char *line, size_t len,
		       struct mxc_input_item *item)
{
	struct zone_state *z = &in->z;
	const char *tok, *rd;
	size_t pos = 0, tlen, rdlen, olen;
	char owner[OWNER_BUF];
	enum fast_type ft;

	if (line[0] == '$') {
		directive(in, line, len, in->line);
		return 0;
	}
	if (!is_blank(line[0])) {
		next_tok(line, len, &pos, &tok, &tlen);
		if (make_abs(z, tok, tlen, owner, &olen) != 0) {
			report(in, in->line, "owner name too long", line, len);
			z->have_prev = false;
			return 0;
		}
		set_text(z->prev, &z->prev_len, owner, olen);
		z->have_prev = true;
	} else if (!z->have_prev) {
		report(in, in->line, "no previous owner", line, len);
		return 0;
	}
	for (int i = 0;; i++) {
		if (!next_tok(line, len, &pos, &tok, &tlen)) {
			report(in, in->line, "record without type", line, len);
			return 0;
		}
		if (i >= 2 || !(is_ttl(tok, tlen) || is_class(tok, tlen)))
			break;
	}
	ft = classify_type(tok, tlen);
	if (ft == FT_OTHER)
		return 0;
	if (ft == FT_NS && next_tok(line, len, &pos, &rd, &rdlen) &&
	    !next_tok(line, len, &pos, &rd, &rdlen))
		return ns_owner(in, z->prev, z->prev_len, in->line, line, len, item);
	/* SOA, an unknown type, a malformed NS: ldns decides and explains. */
	rec_start(in, line);
	rec_append(z, line, len);
	return rec_finish(in, item);
}

static int zone_line(struct mxc_input *in, char *line, size_t len,
		     struct mxc_input_item *item)
{
	struct zone_state *z = &in->z;
	size_t span;

	if (z->in_rec) {
		rec_append(z, line, len);
		return z->depth > 0 ? 0 : rec_finish(in, item);
	}
	span = strcspn(line, "();\"\\");
	if (span < len && line[span] == ';') {
		len = span;
		line[len] = '\0';
	} else if (span < len) {
		if (line[span] == '\0') {
			report(in, in->line, "NUL byte in record", line, len);
			return 0;
		}
		rec_start(in, line);
		rec_append(z, line, len);
		return z->depth > 0 ? 0 : rec_finish(in, item);
	}
	while (len > 0 && is_blank(line[len - 1]))
		len--;
	line[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (!is_blank(line[i]))
			return fast_record(in, line, len, item);
	}
	return 0;
}

static void zone_reset(struct zone_state *z)
{
	char *rec = z->rec;

	if (z->origin_rdf)
		ldns_rdf_deep_free(z->origin_rdf);
	memset(z, 0, sizeof(*z));
	z->rec = rec;
}

/* ------------------------------------------------------------------ */
/* Files */

static int open_path(const char *path, int *fd, struct stat *st)
{
	if (strcmp(path, "-") == 0) {
		*fd = STDIN_FILENO;
	} else {
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			return -errno;
	}
	if (fstat(*fd, st) != 0) {
		int err = -errno;

		if (*fd != STDIN_FILENO)
			close(*fd);
		return err;
	}
	if (S_ISDIR(st->st_mode)) {
		if (*fd != STDIN_FILENO)
			close(*fd);
		return -EISDIR;
	}
	return 0;
}

static int file_open(struct mxc_input *in)
{
	const char *path = in->files[in->idx];
	struct stat st;
	int fd, rc;

	rc = open_path(path, &fd, &st);
	if (rc < 0) {
		mxc_log_error("cannot open %s: %s", path, strerror(-rc));
		return rc;
	}
	lr_reset(&in->lr, fd, &in->stats.bytes_read);
	in->cur_fmt = format_for(path, in->fmt);
	in->open = true;
	in->line = 0;
	in->warnings = 0;
	in->csv_first = true;
	zone_reset(&in->z);
	return 0;
}

static void file_close(struct mxc_input *in)
{
	if (in->lr.fd != STDIN_FILENO)
		close(in->lr.fd);
	in->open = false;
	in->idx++;
}

/* End of one file: pending zone record, warning summary. */
static int file_end(struct mxc_input *in, struct mxc_input_item *item)
{
	int r = 0;

	if (in->cur_fmt == MXC_INPUT_ZONE && in->z.in_rec) {
		if (in->z.depth > 0 && !in->z.rec_error)
			in->z.rec_error = "unbalanced parentheses at end of file";
		r = rec_finish(in, item);
	}
	if (in->warnings > MXC_INPUT_WARN_MAX)
		mxc_log_warn("%s: %llu invalid lines in all, %llu of them not shown",
			     in->files[in->idx], (unsigned long long)in->warnings,
			     (unsigned long long)(in->warnings - MXC_INPUT_WARN_MAX));
	file_close(in);
	return r;
}

int mxc_input_open(const char *const *files, size_t n_files, enum mxc_input_format fmt,
		   const struct mxc_shard *shard, struct mxc_input **out, char *errmsg,
		   size_t errlen)
{
	struct mxc_input *in;
	int rc = MXC_ENOMEM;

	*out = NULL;
	if (errlen)
		errmsg[0] = '\0';
	if (n_files == 0 || (shard && shard->n > 0 && shard->k >= shard->n)) {
		if (errlen)
			snprintf(errmsg, errlen, "%s", n_files ? "bad shard" : "no input files");
		return MXC_EINVAL;
	}
	in = mxc_calloc(1, sizeof(*in));
	if (!in)
		goto nomem;
	in->files = mxc_calloc(n_files, sizeof(*in->files));
	in->lr.buf = mxc_malloc(MXC_INPUT_LINE_MAX + READ_CHUNK + 1);
	in->z.rec = mxc_malloc(MXC_INPUT_LINE_MAX + 1);
	if (!in->files || !in->lr.buf || !in->z.rec)
		goto fail;
	in->n_files = n_files;
	in->fmt = fmt;
	if (shard)
		in->shard = *shard;
	for (size_t i = 0; i < n_files; i++) {
		in->files[i] = mxc_strdup(files[i]);
		if (!in->files[i])
			goto fail;
	}
	/*
	 * Check every file now, so a typo fails the command before any work
	 * is done, and sum the sizes for the progress ETA.
	 */
	for (size_t i = 0; i < n_files; i++) {
		struct stat st;
		int fd;

		rc = open_path(files[i], &fd, &st);
		if (rc < 0) {
			if (errlen)
				snprintf(errmsg, errlen, "cannot read %s: %s", files[i],
					 strerror(-rc));
			goto fail;
		}
		if (fd != STDIN_FILENO)
			close(fd);
		if (S_ISREG(st.st_mode))
			in->stats.bytes_total += (uint64_t)st.st_size;
	}
	*out = in;
	return 0;
fail:
	mxc_input_close(in);
nomem:
	if (rc == MXC_ENOMEM && errlen)
		snprintf(errmsg, errlen, "out of memory");
	return rc;
}

int mxc_input_next(struct mxc_input *in, struct mxc_input_item *item)
{
	for (;;) {
		char *line;
		size_t len;
		int rc;

		if (!in->open) {
			if (in->idx >= in->n_files)
				return 0;
			rc = file_open(in);
			if (rc < 0) {
				in->idx++;
				return rc;
			}
		}
		rc = lr_next(&in->lr, &line, &len);
		if (rc < 0) {
			mxc_log_error("%s:%llu: read error: %s", in->files[in->idx],
				      (unsigned long long)in->line, strerror(-rc));
			file_close(in);
			return rc;
		}
		if (rc == 0) {
			if (file_end(in, item))
				return 1;
			continue;
		}
		in->line++;
		in->stats.lines++;
		/* A UTF-8 byte order mark would otherwise hide the first name. */
		if (in->line == 1 && rc == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
			line += 3;
			len -= 3;
		}
		if (rc == 2) {
			report(in, in->line, "line longer than 65536 bytes", line, len);
			/* A record cut in the middle cannot be trusted. */
			in->z.in_rec = false;
			continue;
		}
		switch (in->cur_fmt) {
		case MXC_INPUT_ZONE:
			rc = zone_line(in, line, len, item);
			break;
		case MXC_INPUT_CSV:
			rc = csv_line(in, line, len, item);
			break;
		default:
			rc = list_line(in, line, len, item);
			break;
		}
		if (rc)
			return 1;
	}
}

void mxc_input_get_stats(const struct mxc_input *in, struct mxc_input_stats *st)
{
	*st = in->stats;
	/* Read ahead but not yet handed out does not count as consumed. */
	if (in->open && st->bytes_read >= in->lr.end - in->lr.start)
		st->bytes_read -= in->lr.end - in->lr.start;
}

void mxc_input_close(struct mxc_input *in)
{
	if (!in)
		return;
	if (in->open && in->lr.fd != STDIN_FILENO)
		close(in->lr.fd);
	if (in->z.origin_rdf)
		ldns_rdf_deep_free(in->z.origin_rdf);
	if (in->files) {
		for (size_t i = 0; i < in->n_files; i++)
			mxc_free(in->files[i]);
	}
	mxc_free(in->files);
	mxc_free(in->lr.buf);
	mxc_free(in->z.rec);
	mxc_free(in);
}
