/**
 * \file
 * A streaming writer of Apache Parquet files with flat schemas of optional
 * string and 64-bit integer columns: what the exports need, and no more.
 *
 * Rows go in one at a time as C strings (NULL is null); they are buffered
 * column by column as ZSTD-compressed data pages until a row group is full
 * (a row count or a byte budget), then the row group's column chunks are
 * written out and only their metadata is kept for the footer. Memory is
 * thus bounded by one row group, whatever the number of rows. See
 * docs/PARQUET.md for the exact layout and the reasons behind it.
 */
#ifndef MXC_ANALYSIS_PARQUET_H
#define MXC_ANALYSIS_PARQUET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** The column types the writer knows. */
enum mxc_parquet_type {
	/** BYTE_ARRAY annotated STRING (and UTF8): always valid UTF-8. */
	MXC_PARQUET_STRING,
	/** INT64 annotated INTEGER(64, signed); values are decimal text. */
	MXC_PARQUET_INT64,
};

/** A column of the file: its name and type. Every column is OPTIONAL. */
struct mxc_parquet_col {
	const char *name;           /**< copied by mxc_parquet_open */
	enum mxc_parquet_type type; /**< the column's type */
};

/** Tuning of a writer; a zero field takes its default. */
struct mxc_parquet_opts {
	/** A row group ends after this many rows (default 65536). */
	uint64_t row_group_rows;
	/**
	 * ... or when the buffered row group holds this many bytes (compressed
	 * pages plus the open pages; default 64 MiB): the writer's memory bound.
	 */
	size_t row_group_bytes;
	/** A data page is closed at this many uncompressed bytes (default 1 MiB). */
	size_t page_bytes;
	/** ZSTD compression level (default 3). */
	int zstd_level;
	/** The file's created_by (default "mxcensus"); copied. */
	const char *created_by;
};

/** A file being written; opaque. */
struct mxc_parquet;

/**
 * Start a Parquet file on @p out: writes the leading magic and prepares the
 * first row group. Nothing else reaches @p out until a row group is full or
 * the file is closed.
 * @param out where the file goes; not owned, not closed; written strictly in
 *        order, so a pipe works
 * @param cols the @p n columns, in order; names must be non-empty and unique
 * @param opts tuning, or NULL for the defaults
 * @param wp set to the new writer on success; the caller ends it with
 *        mxc_parquet_close
 * @return 0, MXC_EINVAL (no column, a bad name or type, bad options),
 *         MXC_ENOMEM, or MXC_EIO (writing the magic failed)
 */
int mxc_parquet_open(struct mxc_parquet **wp, FILE *out, const struct mxc_parquet_col *cols, size_t n,
		     const struct mxc_parquet_opts *opts);

/**
 * Add one row.
 *
 * A string that is not valid UTF-8 is stored with each stray byte as the
 * Latin-1 character of that value (as the JSON Lines export does), since a
 * STRING column promises UTF-8 to its readers. An INT64 value is optional
 * '-' and decimal digits; "" is null there, as in the text exports.
 *
 * @param val one value per column; NULL is null
 * @return 0; MXC_EINVAL for an INT64 value that is not a number (logged with
 *         the column and row); MXC_ETOOBIG for a value over 256 MiB;
 *         MXC_ENOMEM, MXC_EIO. After an error the writer takes no more rows
 *         and every later call returns the same error.
 */
int mxc_parquet_row(struct mxc_parquet *w, const char *const *val);

/**
 * mxc_parquet_row in the shape of a row callback (mxc_export_row_fn).
 * @param w the writer, as void *
 */
int mxc_parquet_sink(void *w, const char *const *val);

/**
 * Write the last row group and the footer (FileMetaData, its length, the
 * closing magic), flush @p out, and free the writer, whatever happened.
 * @param w the writer, or NULL (nothing happens)
 * @param rows set to the number of rows written (may be NULL)
 * @return 0, or the writer's first error (the file is then incomplete and
 *         must be discarded)
 */
int mxc_parquet_close(struct mxc_parquet *w, uint64_t *rows);

/**
 * Free the writer without writing the footer, for a producer that failed:
 * what reached the file so far has no closing magic, so no reader takes it
 * for a whole file.
 * @param w the writer, or NULL
 */
void mxc_parquet_abort(struct mxc_parquet *w);

#endif
