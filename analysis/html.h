/**
 * \file
 * The output layer of reports and comparisons: the escaping each format
 * needs for text taken from data, and a small table that renders as an
 * aligned terminal table, a Markdown table or an HTML table.
 *
 * Every string a report prints that came from a scan (domain names, MX host
 * names, provider names, issue codes) is attacker-controlled DNS data, so no
 * writer here prints such a string raw: the terminal gets no control bytes
 * (no escape sequences), Markdown gets no markup and no inline HTML, HTML
 * gets entities, JSON gets RFC 8259 escapes and is always valid UTF-8.
 *
 * A table holds its cells until it is written, because aligning a terminal
 * table needs every width first; the callers bound the rows (top N groups),
 * so this is bounded memory.
 */
#ifndef MXC_ANALYSIS_HTML_H
#define MXC_ANALYSIS_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/** The formats reports and comparisons are written in. */
enum mxc_out_format { MXC_OUT_TEXT, MXC_OUT_MD, MXC_OUT_JSON, MXC_OUT_HTML };

/**
 * Parse "text", "md", "json" or "html".
 * @param s the name
 * @param out set to the format
 * @return 0 or MXC_EINVAL
 */
int mxc_out_format_parse(const char *s, enum mxc_out_format *out);

/**
 * Write @p s as a JSON string (quotes included). Valid UTF-8 passes
 * through; control characters become \u escapes; a byte that is not valid
 * UTF-8 is written as \u00XX (read as Latin-1), so the output is valid JSON.
 * @param f the stream
 * @param s the string (NULL writes "")
 */
void mxc_json_str(FILE *f, const char *s);

/**
 * Write @p s as HTML character data or attribute value: &, <, >, " and '
 * become entities, control characters and bytes that are not valid UTF-8
 * become U+FFFD.
 * @param f the stream
 * @param s the string (NULL writes nothing)
 */
void mxc_html_str(FILE *f, const char *s);

/**
 * Write @p s for a terminal: printable ASCII as it is, every other byte as
 * \xHH, so that data cannot move the cursor or change colours.
 * @param f the stream
 * @param s the string (NULL writes nothing)
 */
void mxc_text_str(FILE *f, const char *s);

/**
 * Write @p s inside a Markdown table cell: Markdown punctuation is
 * backslash-escaped, <, > and & become entities (no inline HTML), line
 * breaks become spaces, control bytes and bytes that are not valid UTF-8
 * become U+FFFD.
 * @param f the stream
 * @param s the string (NULL writes nothing)
 */
void mxc_md_str(FILE *f, const char *s);

/**
 * Write @p s escaped for @p fmt (JSON without the quotes is not offered:
 * JSON callers use mxc_json_str).
 * @param f the stream
 * @param fmt MXC_OUT_TEXT, MXC_OUT_MD or MXC_OUT_HTML
 * @param s the string
 */
void mxc_out_str(FILE *f, enum mxc_out_format fmt, const char *s);

/** A table being built: a header row and data rows of string cells. */
struct mxc_table;

/**
 * A new table with @p ncols columns.
 * @param ncols columns, at least 1
 * @return the table, or NULL when out of memory; caller frees with
 *         mxc_table_free
 */
struct mxc_table *mxc_table_new(size_t ncols);

/** Free a table and its cells. @param t the table (NULL is fine) */
void mxc_table_free(struct mxc_table *t);

/**
 * Set the header cell of column @p col (copied).
 * @param t the table
 * @param col the column
 * @param name its heading
 * @param numeric right-align the column in text
 * @return 0, MXC_EINVAL or MXC_ENOMEM
 */
int mxc_table_head(struct mxc_table *t, size_t col, const char *name, bool numeric);

/**
 * Start a new data row; its cells are empty until set.
 * @param t the table
 * @return 0 or MXC_ENOMEM
 */
int mxc_table_row(struct mxc_table *t);

/**
 * Set cell @p col of the last row (copied; raw, escaped when written).
 * @param t the table
 * @param col the column
 * @param s the text
 * @return 0, MXC_EINVAL (no row, no such column) or MXC_ENOMEM
 */
int mxc_table_cell(struct mxc_table *t, size_t col, const char *s);

/**
 * Set cell @p col of the last row from a format.
 * @return as mxc_table_cell
 */
int mxc_table_cellf(struct mxc_table *t, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * Write the table: aligned columns separated by two spaces with a rule under
 * the header (text; bold header when @p color), a pipe table (md) or a
 * <table> (html). Nothing is written for JSON.
 * @param t the table
 * @param f the stream
 * @param fmt the format
 * @param color text only: use terminal bold for the header
 * @return 0 or MXC_EIO
 */
int mxc_table_write(const struct mxc_table *t, FILE *f, enum mxc_out_format fmt, bool color);

/**
 * The end of building a table: write it (as mxc_table_write) unless
 * building it failed, then free it.
 * @param t the table (may be NULL when @p e is set)
 * @param e 0, or the error that stopped the building
 * @return @p e, or what writing returned
 */
int mxc_table_finish(struct mxc_table *t, int e, FILE *f, enum mxc_out_format fmt, bool color);

/**
 * Number of data rows. @param t the table @return the count
 */
size_t mxc_table_rows(const struct mxc_table *t);

#endif
