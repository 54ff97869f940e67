/**
 * \file
 * Escaping for each output format and the table every report section is
 * built from (see html.h for why both live here).
 *
 * The escapers decode UTF-8 strictly (RFC 3629) before deciding what a byte
 * is, because a name in a report may hold any bytes: a lone continuation
 * byte, an overlong sequence or a surrogate is not passed on to a browser or
 * a JSON parser to interpret as it likes.
 */
#include "analysis/html.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

/* A table cell longer than this is cut: names are at most 253 bytes, and a
 * cell is a name or a number. */
#define CELL_MAX 1024

int mxc_out_format_parse(const char *s, enum mxc_out_format *out)
{
	static const char *const names[] = { "text", "md", "json", "html" };

	if (!s)
		return MXC_EINVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum mxc_out_format)i;
			return 0;
		}
	}
	return MXC_EINVAL;
}

/*
 * The walk both escapers share: a valid UTF-8 sequence passes through
 * whole; every other byte goes through @p esc, which returns what to write
 * instead of it, or NULL to write the byte itself.
 */
static void put_escaped(FILE *f, const char *s, const char *(*esc)(uint8_t c, char *buf, size_t len))
{
	const uint8_t *p = (const uint8_t *)(s ? s : "");
	char buf[8];

	while (*p) {
		const char *rep;
		size_t n;

		if (*p >= 0x80 && (n = mxc_utf8_seq(p, SIZE_MAX)) > 0) {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		rep = esc(*p, buf, sizeof(buf));
		if (rep)
			fputs(rep, f);
		else
			fputc(*p, f);
		p++;
	}
}

/* JSON (RFC 8259 §7): the short escapes, \\u00XX for other controls, DEL
 * and bytes that are not UTF-8. */
static const char *json_esc(uint8_t c, char *buf, size_t len)
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		break;
	}
	if (c < 0x20 || c >= 0x7f) {
		snprintf(buf, len, "\\u%04x", c);
		return buf;
	}
	return NULL;
}

/* HTML text and attribute values: the five markup characters, and U+FFFD
 * for controls (but tab), DEL and bytes that are not UTF-8. */
static const char *html_esc(uint8_t c, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		break;
	}
	if ((c < 0x20 && c != '\t') || c >= 0x7f)
		return "&#xfffd;";
	return NULL;
}

void mxc_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	put_escaped(f, s, json_esc);
	fputc('"', f);
}

void mxc_html_str(FILE *f, const char *s)
{
	put_escaped(f, s, html_esc);
}

void mxc_text_str(FILE *f, const char *s)
{
	const uint8_t *p = (const uint8_t *)(s ? s : "");

	for (; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f)
			fputc(*p, f);
		else
			fprintf(f, "\\x%02x", *p);
	}
}

/* Bytes mxc_text_str writes for @p s: alignment counts what is shown. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (const uint8_t *p = (const uint8_t *)s; *p; p++)
		w += (*p >= 0x20 && *p < 0x7f) ? 1 : 4;
	return w;
}

void mxc_md_str(FILE *f, const char *s)
{
	/* What CommonMark may read as markup inside a table cell, and the
	 * pipe. Parentheses need no escape: without a '[' there is no link. */
	static const char punct[] = "\\`*_{}[]#|~";
	const uint8_t *p = (const uint8_t *)(s ? s : "");

	while (*p) {
		size_t n;

		if (*p == '<') {
			fputs("&lt;", f);
		} else if (*p == '>') {
			fputs("&gt;", f);
		} else if (*p == '&') {
			fputs("&amp;", f);
		} else if (*p == '\n' || *p == '\r' || *p == '\t') {
			fputc(' ', f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fputs("\xef\xbf\xbd", f);
		} else if (*p < 0x80) {
			if (strchr(punct, *p))
				fputc('\\', f);
			fputc(*p, f);
		} else if ((n = mxc_utf8_seq(p, SIZE_MAX)) > 0) {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		} else {
			fputs("\xef\xbf\xbd", f);
		}
		p++;
	}
}

void mxc_out_str(FILE *f, enum mxc_out_format fmt, const char *s)
{
	switch (fmt) {
	case MXC_OUT_MD:
		mxc_md_str(f, s);
		break;
	case MXC_OUT_HTML:
		mxc_html_str(f, s);
		break;
	case MXC_OUT_JSON:
		mxc_json_str(f, s);
		break;
	default:
		mxc_text_str(f, s);
		break;
	}
}

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */

struct mxc_table {
	size_t ncols;
	char **head;   /* ncols headings */
	bool *numeric; /* ncols flags */
	char **cells;  /* rows * ncols, row-major; NULL = empty */
	size_t rows;
	size_t cap;    /* rows allocated */
};

struct mxc_table *mxc_table_new(size_t ncols)
{
	struct mxc_table *t;

	if (ncols == 0)
		return NULL;
	t = mxc_calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	t->head = mxc_calloc(ncols, sizeof(*t->head));
	t->numeric = mxc_calloc(ncols, sizeof(*t->numeric));
	if (!t->head || !t->numeric) {
		mxc_table_free(t);
		return NULL;
	}
	return t;
}

void mxc_table_free(struct mxc_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->head && i < t->ncols; i++)
		mxc_free(t->head[i]);
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		mxc_free(t->cells[i]);
	mxc_free(t->head);
	mxc_free(t->numeric);
	mxc_free(t->cells);
	mxc_free(t);
}

int mxc_table_head(struct mxc_table *t, size_t col, const char *name, bool numeric)
{
	char *s;

	if (!t || col >= t->ncols || !name)
		return MXC_EINVAL;
	s = mxc_strndup(name, CELL_MAX);
	if (!s)
		return MXC_ENOMEM;
	mxc_free(t->head[col]);
	t->head[col] = s;
	t->numeric[col] = numeric;
	return 0;
}

int mxc_table_row(struct mxc_table *t)
{
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = mxc_realloc(t->cells, cap * t->ncols * sizeof(*c));

		if (!c)
			return MXC_ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	memset(&t->cells[t->rows * t->ncols], 0, t->ncols * sizeof(*t->cells));
	t->rows++;
	return 0;
}

int mxc_table_cell(struct mxc_table *t, size_t col, const char *s)
{
	char **slot, *v;

	if (!t || t->rows == 0 || col >= t->ncols || !s)
		return MXC_EINVAL;
	v = mxc_strndup(s, CELL_MAX);
	if (!v)
		return MXC_ENOMEM;
	slot = &t->cells[(t->rows - 1) * t->ncols + col];
	mxc_free(*slot);
	*slot = v;
	return 0;
}

int mxc_table_cellf(struct mxc_table *t, size_t col, const char *fmt, ...)
{
	char buf[CELL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return mxc_table_cell(t, col, buf);
}

size_t mxc_table_rows(const struct mxc_table *t)
{
	return t ? t->rows : 0;
}

static const char *cell_at(const struct mxc_table *t, size_t row, size_t col)
{
	const char *s = t->cells[row * t->ncols + col];

	return s ? s : "";
}

static void text_cell(FILE *f, const char *s, size_t width, bool right, bool last)
{
	size_t w = text_width(s);

	if (right)
		for (size_t i = w; i < width; i++)
			fputc(' ', f);
	mxc_text_str(f, s);
	if (!right && !last)
		for (size_t i = w; i < width; i++)
			fputc(' ', f);
	if (!last)
		fputs("  ", f);
}

static void write_text(const struct mxc_table *t, FILE *f, bool color)
{
	size_t width[64] = { 0 }, n = t->ncols < 64 ? t->ncols : 64, rule = 0;

	for (size_t c = 0; c < n; c++) {
		width[c] = text_width(t->head[c] ? t->head[c] : "");
		for (size_t r = 0; r < t->rows; r++) {
			size_t w = text_width(cell_at(t, r, c));

			if (w > width[c])
				width[c] = w;
		}
		rule += width[c] + (c + 1 < n ? 2 : 0);
	}
	if (color)
		fputs("\033[1m", f);
	for (size_t c = 0; c < n; c++)
		text_cell(f, t->head[c] ? t->head[c] : "", width[c], t->numeric[c], c + 1 == n);
	if (color)
		fputs("\033[0m", f);
	fputc('\n', f);
	for (size_t i = 0; i < rule; i++)
		fputc('-', f);
	fputc('\n', f);
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < n; c++)
			text_cell(f, cell_at(t, r, c), width[c], t->numeric[c], c + 1 == n);
		fputc('\n', f);
	}
}

static void write_md(const struct mxc_table *t, FILE *f)
{
	fputc('|', f);
	for (size_t c = 0; c < t->ncols; c++) {
		fputc(' ', f);
		mxc_md_str(f, t->head[c] ? t->head[c] : "");
		fputs(" |", f);
	}
	fputs("\n|", f);
	for (size_t c = 0; c < t->ncols; c++)
		fputs(t->numeric[c] ? " ---: |" : " --- |", f);
	fputc('\n', f);
	for (size_t r = 0; r < t->rows; r++) {
		fputc('|', f);
		for (size_t c = 0; c < t->ncols; c++) {
			fputc(' ', f);
			mxc_md_str(f, cell_at(t, r, c));
			fputs(" |", f);
		}
		fputc('\n', f);
	}
}

static void write_html(const struct mxc_table *t, FILE *f)
{
	fputs("<table>\n<thead><tr>", f);
	for (size_t c = 0; c < t->ncols; c++) {
		fputs(t->numeric[c] ? "<th class=\"n\">" : "<th>", f);
		mxc_html_str(f, t->head[c]);
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t r = 0; r < t->rows; r++) {
		fputs("<tr>", f);
		for (size_t c = 0; c < t->ncols; c++) {
			fputs(t->numeric[c] ? "<td class=\"n\">" : "<td>", f);
			mxc_html_str(f, cell_at(t, r, c));
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

int mxc_table_finish(struct mxc_table *t, int e, FILE *f, enum mxc_out_format fmt, bool color)
{
	if (!e)
		e = mxc_table_write(t, f, fmt, color);
	mxc_table_free(t);
	return e;
}

int mxc_table_write(const struct mxc_table *t, FILE *f, enum mxc_out_format fmt, bool color)
{
	if (!t || !f)
		return MXC_EINVAL;
	switch (fmt) {
	case MXC_OUT_TEXT:
		write_text(t, f, color);
		break;
	case MXC_OUT_MD:
		write_md(t, f);
		break;
	case MXC_OUT_HTML:
		write_html(t, f);
		break;
	case MXC_OUT_JSON:
		break;
	}
	return ferror(f) ? MXC_EIO : 0;
}
