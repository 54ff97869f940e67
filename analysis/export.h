/**
 * \file
 * Exports of the store for research: one row per domain or per mail host,
 * with the design's columns, streamed record by record so that exporting
 * millions of domains does not hold them in memory.
 *
 * Columns that later stages fill (DNSSEC, STARTTLS, DANE, MTA-STS, ...) are
 * present and empty until those stages exist, so that the column set is
 * stable for the people who load these files.
 */
#ifndef MXC_ANALYSIS_EXPORT_H
#define MXC_ANALYSIS_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "store/store.h"

enum mxc_export_what { MXC_EXPORT_DOMAINS, MXC_EXPORT_HOSTS };
enum mxc_export_format { MXC_EXPORT_CSV, MXC_EXPORT_JSONL, MXC_EXPORT_PARQUET };

/** Parse "domains"/"hosts" and "csv"/"jsonl"/"parquet". @return 0 or MXC_EINVAL */
int mxc_export_what_parse(const char *s, enum mxc_export_what *out);
int mxc_export_format_parse(const char *s, enum mxc_export_format *out);

/** A column of an export: its name and whether JSON writes it as a number. */
struct mxc_export_col {
	const char *name;
	bool number;
};

/**
 * The columns of @p what, in order; every row handed out has this many values.
 * @param n set to the number of columns
 * @return a static table
 */
const struct mxc_export_col *mxc_export_columns(enum mxc_export_what what, size_t *n);

/**
 * The position of the column called @p name among those of @p what.
 * @param out set to the index into mxc_export_columns(what)
 * @return 0, or MXC_ENOTFOUND
 */
int mxc_export_column_index(enum mxc_export_what what, const char *name, size_t *out);

/**
 * Receives one row: val[i] is the value of column i (NULL when empty). The
 * strings live until the callback returns.
 * @return 0 to go on, or an error that stops the walk and is returned
 */
typedef int (*mxc_export_row_fn)(void *arg, const char *const *val);

/**
 * Build every row of @p what, as the text exports write them, and hand each
 * to @p fn: the one source of column values for every format and for reports.
 * @param rows set to the number of rows handed out (may be NULL)
 * @return 0, the callback's error, or a store error
 */
int mxc_export_rows(struct mxc_store *s, enum mxc_export_what what, mxc_export_row_fn fn,
		    void *arg, uint64_t *rows);

/**
 * Write every committed record of @p what to @p out.
 * @param rows set to the number of rows written (may be NULL)
 * @return 0, MXC_EIO, a Parquet writer error, or a store error; corrupt
 *         records are reported on stderr and skipped
 */
int mxc_export(struct mxc_store *s, enum mxc_export_what what,
	       enum mxc_export_format fmt, FILE *out, uint64_t *rows);

#endif
