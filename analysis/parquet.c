/**
 * \file
 * The Parquet writer (see parquet.h and docs/PARQUET.md), written from the
 * Apache Parquet format specification and its parquet.thrift.
 *
 * A file is "PAR1", the row groups, the FileMetaData struct in the Thrift
 * compact protocol, its length as a little-endian u32, and "PAR1" again. A
 * row group holds one column chunk per column, one after the other, so rows
 * that arrive one at a time must be buffered per column until the row group
 * ends: that buffer, kept compressed, is what bounds this writer's memory.
 *
 * The layout is the plainest that every reader accepts:
 *
 * - Every column is OPTIONAL and flat: a max definition level of 1 and no
 *   repetition levels. Each data page (v1) is the definition levels (a u32
 *   length, then the RLE/bit-packed hybrid at bit width 1) followed by the
 *   non-null values in PLAIN encoding (u32 length and bytes for BYTE_ARRAY,
 *   8 bytes little-endian for INT64). The whole page body is compressed with
 *   ZSTD, as a v1 page requires.
 * - No dictionary pages: they would save space on low-cardinality columns
 *   (verdicts), but ZSTD already finds those repetitions, and a dictionary
 *   needs a hash table and a fallback path that a small writer can do
 *   without.
 * - Column chunk statistics give null_count, and min/max under the
 *   type-defined order (declared in column_orders): signed for INT64,
 *   unsigned bytewise for strings. Readers such as DuckDB skip row groups on
 *   them, so a wrong bound would silently drop rows; a string bound longer
 *   than STAT_MAX is left out rather than truncated.
 *
 * Row group metadata is serialised as soon as the group is written, and the
 * footer is assembled at close from those bytes: the writer never keeps a
 * row after its row group is out.
 */
#include "analysis/parquet.h"

#include <stdbool.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "analysis/thrift.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#define MAGIC "PAR1"
#define MAGIC_LEN 4

/* One value may be this large; the exports bound their rows lower. */
#define VALUE_MAX ((size_t)256 << 20)
/* A page's uncompressed size is an i32 in its header: with pages closed at
 * page_bytes (at most PAGE_BYTES_MAX) and one value of at most VALUE_MAX
 * past that, a page stays well below 2 GiB. */
#define PAGE_BYTES_MAX ((size_t)256 << 20)
#define PAGE_LIMIT (PAGE_BYTES_MAX + VALUE_MAX + 8)
/* Buffers whose size the row group budget bounds, not their own limit. */
#define UNBOUNDED ((size_t)1 << 46)
/* Longest string kept as a min/max statistic. */
#define STAT_MAX 256

#define DEFAULT_RG_ROWS 65536
#define DEFAULT_RG_BYTES ((size_t)64 << 20)
#define DEFAULT_PAGE_BYTES ((size_t)1 << 20)
#define DEFAULT_ZSTD_LEVEL 3

/* Values of parquet.thrift's enums. */
enum {
	PQ_TYPE_INT64 = 2,
	PQ_TYPE_BYTE_ARRAY = 6,
	PQ_REP_OPTIONAL = 1,
	PQ_CONV_UTF8 = 0,
	PQ_CONV_INT_64 = 18,
	PQ_ENC_PLAIN = 0,
	PQ_ENC_RLE = 3,
	PQ_CODEC_ZSTD = 6,
	PQ_PAGE_DATA = 0,
};

/** One column: its open page, and its chunk of the open row group. */
struct column {
	char *name;
	enum mxc_parquet_type type;

	struct mxc_buf levels; /* open page: a definition level (0/1) per value */
	struct mxc_buf values; /* open page: the non-null values, PLAIN */
	uint32_t page_nulls;

	struct mxc_buf chunk; /* the row group's pages, headers and compressed */
	uint64_t chunk_values;
	uint64_t chunk_nulls;
	uint64_t chunk_raw;    /* uncompressed size, page headers included */
	uint64_t chunk_offset; /* where the chunk went in the file */

	/* Statistics of the chunk, over its non-null values. */
	bool have_bounds;
	int64_t imin, imax;
	struct mxc_buf smin, smax;
};

struct mxc_parquet {
	FILE *out;
	uint64_t offset; /* bytes written to out */
	struct column *cols;
	size_t ncols;
	uint64_t rg_rows_max;
	size_t rg_bytes_max;
	size_t page_bytes;
	int zstd_level;
	char *created_by;

	uint64_t rg_rows;     /* rows in the open row group */
	uint64_t rows;        /* rows in the file, the open group included */
	uint32_t row_groups;  /* row groups written */
	struct mxc_buf rg_meta; /* the RowGroup structs written so far */

	struct mxc_buf page;  /* scratch: a page body before compression */
	uint8_t *zbuf;        /* scratch: the compressed page */
	size_t zcap;
	struct mxc_buf hdr;   /* scratch: a page header */
	struct mxc_buf text;  /* scratch: a string made valid UTF-8 */
	ZSTD_CCtx *zc;
	int err;
};

/* ------------------------------------------------------------------------ */
/* Little helpers                                                           */

static int put_le32(struct mxc_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	return mxc_buf_append(b, x, sizeof(x));
}

static void le64(uint8_t x[8], int64_t v)
{
	uint64_t u = (uint64_t)v;

	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(u >> (8 * i));
}

static int write_out(struct mxc_parquet *w, const void *data, size_t len)
{
	if (len && fwrite(data, 1, len, w->out) != len)
		return MXC_EIO;
	w->offset += len;
	return 0;
}

/*
 * @p s as valid UTF-8: itself when it is, else a copy in w->text with each
 * stray byte as the Latin-1 character of its value (two bytes).
 */
static int valid_utf8(struct mxc_parquet *w, const char *s, size_t len, const uint8_t **out)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;
	int r = 0;

	while (i < len) {
		size_t n;

		if (p[i] < 0x80)
			i++;
		else if ((n = mxc_utf8_seq(p + i, len - i)) > 0)
			i += n;
		else
			break;
	}
	*out = p;
	if (i == len)
		return 0;
	mxc_buf_reset(&w->text);
	r = mxc_buf_append(&w->text, p, i);
	while (!r && i < len) {
		size_t n;

		if (p[i] < 0x80) {
			r = mxc_buf_append_u8(&w->text, p[i++]);
		} else if ((n = mxc_utf8_seq(p + i, len - i)) > 0) {
			r = mxc_buf_append(&w->text, p + i, n);
			i += n;
		} else {
			uint8_t x[2] = { (uint8_t)(0xc0 | p[i] >> 6), (uint8_t)(0x80 | (p[i] & 0x3f)) };

			r = mxc_buf_append(&w->text, x, sizeof(x));
			i++;
		}
	}
	*out = w->text.data;
	return r;
}

/* A whole decimal string with an optional '-' into an int64. */
static int parse_i64(const char *s, int64_t *out)
{
	bool neg = *s == '-';
	uint64_t v = 0, max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

	if (neg)
		s++;
	if (!*s)
		return MXC_EINVAL;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9 || v > (max - d) / 10)
			return MXC_EINVAL;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Definition levels                                                        */

/*
 * The RLE/bit-packed hybrid at bit width 1 of @p n levels (each 0 or 1).
 * Runs of 8 or more equal levels become RLE runs (a varint header count<<1,
 * then the value in one byte); anything else is bit-packed in groups of 8
 * (header groups<<1 | 1, then one byte per group, first value in the lowest
 * bit). A bit-packed run ends where an RLE run of 8 can start on a group
 * boundary; only the last group may be padded, since the page's value count
 * tells the reader where the levels end.
 */
static int encode_levels(struct mxc_buf *b, const uint8_t *lv, size_t n)
{
	size_t i = 0;
	int r = 0;

	while (!r && i < n) {
		size_t run = 1, start = i, groups = 0;

		while (i + run < n && lv[i + run] == lv[i])
			run++;
		if (run >= 8) {
			r = mxc_thrift_varint(b, (uint64_t)run << 1);
			if (!r)
				r = mxc_buf_append_u8(b, lv[i]);
			i += run;
			continue;
		}
		/* Count groups of 8 until the next one would start a long run. */
		do {
			groups++;
			i += 8;
			run = 0;
			while (i + run < n && lv[i + run] == lv[i] && run < 8)
				run++;
		} while (i < n && run < 8);
		r = mxc_thrift_varint(b, (uint64_t)groups << 1 | 1);
		for (size_t g = 0; !r && g < groups; g++) {
			uint8_t byte = 0;

			for (size_t k = 0; k < 8; k++) {
				size_t at = start + g * 8 + k;

				if (at < n && lv[at])
					byte |= (uint8_t)(1u << k);
			}
			r = mxc_buf_append_u8(b, byte);
		}
		if (i > n)
			i = n;
	}
	return r;
}

/* ------------------------------------------------------------------------ */
/* Pages and row groups                                                     */

static int zstd_error(size_t rc)
{
	if (!ZSTD_isError(rc))
		return 0;
	mxc_log_error("parquet: zstd: %s", ZSTD_getErrorName(rc));
	return ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation ? MXC_ENOMEM : MXC_EIO;
}

/* Statistics: null_count, then max_value and min_value when known. */
static void write_stats(struct mxc_thrift *t, int16_t id, const struct column *c, uint64_t nulls,
			bool bounds)
{
	mxc_thrift_field_struct(t, id);
	mxc_thrift_field_i64(t, 3, (int64_t)nulls);
	if (bounds && c->have_bounds) {
		if (c->type == MXC_PARQUET_INT64) {
			uint8_t x[8];

			le64(x, c->imax);
			mxc_thrift_field_binary(t, 5, x, sizeof(x));
			le64(x, c->imin);
			mxc_thrift_field_binary(t, 6, x, sizeof(x));
		} else {
			/* A long bound is left out rather than truncated:
			 * a truncated max would need its last byte raised. */
			if (c->smax.len <= STAT_MAX)
				mxc_thrift_field_binary(t, 5, c->smax.data, c->smax.len);
			if (c->smin.len <= STAT_MAX)
				mxc_thrift_field_binary(t, 6, c->smin.data, c->smin.len);
		}
	}
	mxc_thrift_struct_end(t);
}

/* Close the open page of @p c: compress it and add it to the chunk. */
static int flush_page(struct mxc_parquet *w, struct column *c)
{
	uint32_t n = (uint32_t)c->levels.len;
	struct mxc_thrift t;
	size_t bound, zlen;
	int r;

	if (n == 0)
		return 0;
	mxc_buf_reset(&w->page);
	r = put_le32(&w->page, 0);
	if (!r)
		r = encode_levels(&w->page, c->levels.data, n);
	if (r)
		return r;
	{
		uint32_t lvlen = (uint32_t)(w->page.len - 4);
		uint8_t x[4] = { (uint8_t)lvlen, (uint8_t)(lvlen >> 8), (uint8_t)(lvlen >> 16),
				 (uint8_t)(lvlen >> 24) };

		memcpy(w->page.data, x, sizeof(x));
	}
	r = mxc_buf_append(&w->page, c->values.data, c->values.len);
	if (r)
		return r;

	bound = ZSTD_compressBound(w->page.len);
	if (w->zcap < bound) {
		uint8_t *nd = mxc_realloc(w->zbuf, bound);

		if (!nd)
			return MXC_ENOMEM;
		w->zbuf = nd;
		w->zcap = bound;
	}
	zlen = ZSTD_compressCCtx(w->zc, w->zbuf, w->zcap, w->page.data, w->page.len,
				 w->zstd_level);
	r = zstd_error(zlen);
	if (r)
		return r;

	mxc_buf_reset(&w->hdr);
	mxc_thrift_init(&t, &w->hdr);
	mxc_thrift_struct_begin(&t); /* PageHeader */
	mxc_thrift_field_i32(&t, 1, PQ_PAGE_DATA);
	mxc_thrift_field_i32(&t, 2, (int32_t)w->page.len);
	mxc_thrift_field_i32(&t, 3, (int32_t)zlen);
	mxc_thrift_field_struct(&t, 5); /* DataPageHeader */
	mxc_thrift_field_i32(&t, 1, (int32_t)n);
	mxc_thrift_field_i32(&t, 2, PQ_ENC_PLAIN);
	mxc_thrift_field_i32(&t, 3, PQ_ENC_RLE);
	mxc_thrift_field_i32(&t, 4, PQ_ENC_RLE);
	write_stats(&t, 5, c, c->page_nulls, false);
	mxc_thrift_struct_end(&t);
	mxc_thrift_struct_end(&t);
	r = mxc_thrift_error(&t);
	if (!r)
		r = mxc_buf_append(&c->chunk, w->hdr.data, w->hdr.len);
	if (!r)
		r = mxc_buf_append(&c->chunk, w->zbuf, zlen);
	if (r)
		return r;
	c->chunk_values += n;
	c->chunk_nulls += c->page_nulls;
	c->chunk_raw += w->hdr.len + w->page.len;
	mxc_buf_reset(&c->levels);
	mxc_buf_reset(&c->values);
	c->page_nulls = 0;
	return 0;
}

/* The ColumnChunk struct of @p c, as a list element. */
static void column_chunk_meta(struct mxc_thrift *t, const struct column *c)
{
	mxc_thrift_struct_begin(t); /* ColumnChunk */
	/* Deprecated; 0 says no ColumnMetaData was written outside the footer. */
	mxc_thrift_field_i64(t, 2, 0);
	mxc_thrift_field_struct(t, 3); /* ColumnMetaData */
	mxc_thrift_field_i32(t, 1, c->type == MXC_PARQUET_INT64 ? PQ_TYPE_INT64 : PQ_TYPE_BYTE_ARRAY);
	mxc_thrift_field_list(t, 2, MXC_THRIFT_I32, 2);
	mxc_thrift_i32(t, PQ_ENC_PLAIN);
	mxc_thrift_i32(t, PQ_ENC_RLE);
	mxc_thrift_field_list(t, 3, MXC_THRIFT_BINARY, 1);
	mxc_thrift_binary(t, c->name, strlen(c->name));
	mxc_thrift_field_i32(t, 4, PQ_CODEC_ZSTD);
	mxc_thrift_field_i64(t, 5, (int64_t)c->chunk_values);
	mxc_thrift_field_i64(t, 6, (int64_t)c->chunk_raw);
	mxc_thrift_field_i64(t, 7, (int64_t)c->chunk.len);
	mxc_thrift_field_i64(t, 9, (int64_t)c->chunk_offset);
	write_stats(t, 12, c, c->chunk_nulls, true);
	mxc_thrift_struct_end(t);
	mxc_thrift_struct_end(t);
}

static void reset_chunk(struct column *c)
{
	mxc_buf_reset(&c->chunk);
	c->chunk_values = 0;
	c->chunk_nulls = 0;
	c->chunk_raw = 0;
	c->have_bounds = false;
	mxc_buf_reset(&c->smin);
	mxc_buf_reset(&c->smax);
}

/* Write the open row group's chunks and keep its RowGroup struct. */
static int flush_row_group(struct mxc_parquet *w)
{
	uint64_t raw = 0, zip = 0, first = w->offset;
	struct mxc_thrift t;
	int r = 0;

	if (w->rg_rows == 0)
		return 0;
	for (size_t i = 0; !r && i < w->ncols; i++)
		r = flush_page(w, &w->cols[i]);
	for (size_t i = 0; !r && i < w->ncols; i++) {
		struct column *c = &w->cols[i];

		c->chunk_offset = w->offset;
		raw += c->chunk_raw;
		zip += c->chunk.len;
		r = write_out(w, c->chunk.data, c->chunk.len);
	}
	if (r)
		return r;

	mxc_thrift_init(&t, &w->rg_meta);
	mxc_thrift_struct_begin(&t); /* RowGroup */
	mxc_thrift_field_list(&t, 1, MXC_THRIFT_STRUCT, (uint32_t)w->ncols);
	for (size_t i = 0; i < w->ncols; i++)
		column_chunk_meta(&t, &w->cols[i]);
	mxc_thrift_field_i64(&t, 2, (int64_t)raw);
	mxc_thrift_field_i64(&t, 3, (int64_t)w->rg_rows);
	mxc_thrift_field_i64(&t, 5, (int64_t)first);
	mxc_thrift_field_i64(&t, 6, (int64_t)zip);
	mxc_thrift_struct_end(&t);
	r = mxc_thrift_error(&t);
	if (r)
		return r;
	for (size_t i = 0; i < w->ncols; i++)
		reset_chunk(&w->cols[i]);
	w->rg_rows = 0;
	w->row_groups++;
	return 0;
}

/* The FileMetaData struct, the footer length and the closing magic. */
static int write_footer(struct mxc_parquet *w)
{
	struct mxc_buf f;
	struct mxc_thrift t;
	int r;

	mxc_buf_init(&f, UNBOUNDED);
	mxc_thrift_init(&t, &f);
	mxc_thrift_struct_begin(&t); /* FileMetaData */
	mxc_thrift_field_i32(&t, 1, 1); /* version */
	mxc_thrift_field_list(&t, 2, MXC_THRIFT_STRUCT, (uint32_t)w->ncols + 1);
	mxc_thrift_struct_begin(&t); /* the root of the schema */
	mxc_thrift_field_string(&t, 4, "schema");
	mxc_thrift_field_i32(&t, 5, (int32_t)w->ncols);
	mxc_thrift_struct_end(&t);
	for (size_t i = 0; i < w->ncols; i++) {
		const struct column *c = &w->cols[i];
		bool str = c->type == MXC_PARQUET_STRING;

		mxc_thrift_struct_begin(&t); /* SchemaElement */
		mxc_thrift_field_i32(&t, 1, str ? PQ_TYPE_BYTE_ARRAY : PQ_TYPE_INT64);
		mxc_thrift_field_i32(&t, 3, PQ_REP_OPTIONAL);
		mxc_thrift_field_string(&t, 4, c->name);
		mxc_thrift_field_i32(&t, 6, str ? PQ_CONV_UTF8 : PQ_CONV_INT_64);
		mxc_thrift_field_struct(&t, 10); /* LogicalType, a union */
		if (str) {
			mxc_thrift_field_struct(&t, 1); /* STRING */
		} else {
			mxc_thrift_field_struct(&t, 10); /* INTEGER */
			mxc_thrift_field_i8(&t, 1, 64);
			mxc_thrift_field_bool(&t, 2, true);
		}
		mxc_thrift_struct_end(&t);
		mxc_thrift_struct_end(&t);
		mxc_thrift_struct_end(&t);
	}
	mxc_thrift_field_i64(&t, 3, (int64_t)w->rows);
	mxc_thrift_field_list(&t, 4, MXC_THRIFT_STRUCT, w->row_groups);
	r = mxc_thrift_error(&t);
	/* The row groups were serialised as they were written. */
	if (!r)
		r = mxc_buf_append(&f, w->rg_meta.data, w->rg_meta.len);
	mxc_thrift_field_string(&t, 6, w->created_by);
	/* column_orders: the type-defined order, which min/max follow. */
	mxc_thrift_field_list(&t, 7, MXC_THRIFT_STRUCT, (uint32_t)w->ncols);
	for (size_t i = 0; i < w->ncols; i++) {
		mxc_thrift_struct_begin(&t); /* ColumnOrder, a union */
		mxc_thrift_field_struct(&t, 1); /* TYPE_ORDER */
		mxc_thrift_struct_end(&t);
		mxc_thrift_struct_end(&t);
	}
	mxc_thrift_struct_end(&t);
	if (!r)
		r = mxc_thrift_error(&t);
	if (!r && f.len > UINT32_MAX)
		r = MXC_ETOOBIG;
	if (!r)
		r = write_out(w, f.data, f.len);
	if (!r) {
		uint8_t x[4] = { (uint8_t)f.len, (uint8_t)(f.len >> 8), (uint8_t)(f.len >> 16),
				 (uint8_t)(f.len >> 24) };

		r = write_out(w, x, sizeof(x));
	}
	if (!r)
		r = write_out(w, MAGIC, MAGIC_LEN);
	mxc_buf_free(&f);
	return r;
}

/* ------------------------------------------------------------------------ */
/* Rows                                                                     */

/* Unsigned bytewise order, in which a prefix sorts first. */
static int bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t m = alen < blen ? alen : blen;
	int c = m ? memcmp(a, b, m) : 0;

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/*
 * Widen the chunk's string bounds to take @p v. The bounds are kept whole,
 * however long, so that they stay exact; only writing them is limited.
 */
static int update_string_bounds(struct column *c, const uint8_t *v, size_t len)
{
	int r = 0;

	if (!c->have_bounds || bytes_cmp(v, len, c->smin.data, c->smin.len) < 0) {
		mxc_buf_reset(&c->smin);
		r = mxc_buf_append(&c->smin, v, len);
	}
	if (!r && (!c->have_bounds || bytes_cmp(v, len, c->smax.data, c->smax.len) > 0)) {
		mxc_buf_reset(&c->smax);
		r = mxc_buf_append(&c->smax, v, len);
	}
	return r;
}

/* Append one value (or null) to the open page of @p c. */
static int add_value(struct mxc_parquet *w, struct column *c, const char *v)
{
	int r;

	if (v && c->type == MXC_PARQUET_INT64 && !*v)
		v = NULL; /* "" is how the text exports write null */
	if (!v) {
		c->page_nulls++;
		return mxc_buf_append_u8(&c->levels, 0);
	}
	if (c->type == MXC_PARQUET_INT64) {
		int64_t x;
		uint8_t b[8];

		if (parse_i64(v, &x) != 0) {
			mxc_log_error("parquet: column %s, row %llu: '%.40s' is not a 64-bit integer",
				      c->name, (unsigned long long)w->rows + 1, v);
			return MXC_EINVAL;
		}
		le64(b, x);
		r = mxc_buf_append(&c->values, b, sizeof(b));
		if (!r && (!c->have_bounds || x < c->imin))
			c->imin = x;
		if (!r && (!c->have_bounds || x > c->imax))
			c->imax = x;
	} else {
		size_t len = strlen(v);
		const uint8_t *u;

		if (len > VALUE_MAX)
			return MXC_ETOOBIG;
		r = valid_utf8(w, v, len, &u);
		if (!r && u != (const uint8_t *)v)
			len = w->text.len;
		if (!r && len > VALUE_MAX)
			return MXC_ETOOBIG;
		/* Keep the page within its i32 size: close it before it would
		 * grow past the limit. */
		if (!r && c->values.len + 4 + len > PAGE_LIMIT - c->levels.len)
			r = flush_page(w, c);
		if (!r)
			r = put_le32(&c->values, (uint32_t)len);
		if (!r)
			r = mxc_buf_append(&c->values, u, len);
		if (!r)
			r = update_string_bounds(c, u, len);
	}
	if (!r) {
		c->have_bounds = true;
		r = mxc_buf_append_u8(&c->levels, 1);
	}
	return r;
}

int mxc_parquet_row(struct mxc_parquet *w, const char *const *val)
{
	size_t buffered = 0;
	int r = 0;

	if (!w || !val)
		return MXC_EINVAL;
	if (w->err)
		return w->err;
	for (size_t i = 0; !r && i < w->ncols; i++) {
		struct column *c = &w->cols[i];

		r = add_value(w, c, val[i]);
		if (!r && c->levels.len + c->values.len >= w->page_bytes)
			r = flush_page(w, c);
		buffered += c->chunk.len + c->levels.len + c->values.len;
	}
	if (!r) {
		w->rg_rows++;
		w->rows++;
		if (w->rg_rows >= w->rg_rows_max || buffered >= w->rg_bytes_max)
			r = flush_row_group(w);
	}
	/* A row half added leaves the columns of unequal length: the file
	 * cannot be finished, so the error sticks. */
	w->err = r;
	return r;
}

int mxc_parquet_sink(void *w, const char *const *val)
{
	return mxc_parquet_row(w, val);
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */

static void free_writer(struct mxc_parquet *w)
{
	for (size_t i = 0; w->cols && i < w->ncols; i++) {
		struct column *c = &w->cols[i];

		mxc_free(c->name);
		mxc_buf_free(&c->levels);
		mxc_buf_free(&c->values);
		mxc_buf_free(&c->chunk);
		mxc_buf_free(&c->smin);
		mxc_buf_free(&c->smax);
	}
	mxc_free(w->cols);
	mxc_free(w->created_by);
	mxc_buf_free(&w->rg_meta);
	mxc_buf_free(&w->page);
	mxc_free(w->zbuf);
	mxc_buf_free(&w->hdr);
	mxc_buf_free(&w->text);
	ZSTD_freeCCtx(w->zc);
	mxc_free(w);
}

static int check_columns(const struct mxc_parquet_col *cols, size_t n)
{
	if (!cols || n == 0 || n > INT32_MAX)
		return MXC_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!cols[i].name || !cols[i].name[0] ||
		    (cols[i].type != MXC_PARQUET_STRING && cols[i].type != MXC_PARQUET_INT64)) {
			mxc_log_error("parquet: column %zu: no name or an unknown type", i + 1);
			return MXC_EINVAL;
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(cols[k].name, cols[i].name) == 0) {
				mxc_log_error("parquet: column name '%s' used twice", cols[i].name);
				return MXC_EINVAL;
			}
		}
	}
	return 0;
}

static int apply_opts(struct mxc_parquet *w, const struct mxc_parquet_opts *o)
{
	static const struct mxc_parquet_opts none;

	if (!o)
		o = &none;
	w->rg_rows_max = o->row_group_rows ? o->row_group_rows : DEFAULT_RG_ROWS;
	w->rg_bytes_max = o->row_group_bytes ? o->row_group_bytes : DEFAULT_RG_BYTES;
	w->page_bytes = o->page_bytes ? o->page_bytes : DEFAULT_PAGE_BYTES;
	w->zstd_level = o->zstd_level ? o->zstd_level : DEFAULT_ZSTD_LEVEL;
	if (w->page_bytes > PAGE_BYTES_MAX || w->rg_rows_max > INT32_MAX ||
	    w->zstd_level < ZSTD_minCLevel() || w->zstd_level > ZSTD_maxCLevel())
		return MXC_EINVAL;
	w->created_by = mxc_strdup(o->created_by ? o->created_by : "mxcensus");
	return w->created_by ? 0 : MXC_ENOMEM;
}

int mxc_parquet_open(struct mxc_parquet **wp, FILE *out, const struct mxc_parquet_col *cols,
		     size_t n, const struct mxc_parquet_opts *opts)
{
	struct mxc_parquet *w;
	int r;

	if (!wp || !out)
		return MXC_EINVAL;
	*wp = NULL;
	r = check_columns(cols, n);
	if (r)
		return r;
	w = mxc_calloc(1, sizeof(*w));
	if (!w)
		return MXC_ENOMEM;
	w->out = out;
	mxc_buf_init(&w->rg_meta, UNBOUNDED);
	mxc_buf_init(&w->page, PAGE_LIMIT + (PAGE_LIMIT >> 3));
	mxc_buf_init(&w->hdr, 4096);
	mxc_buf_init(&w->text, 2 * VALUE_MAX);
	r = apply_opts(w, opts);
	w->cols = r ? NULL : mxc_calloc(n, sizeof(*w->cols));
	if (!r && !w->cols)
		r = MXC_ENOMEM;
	for (size_t i = 0; !r && i < n; i++) {
		struct column *c = &w->cols[i];

		w->ncols = i + 1;
		c->type = cols[i].type;
		c->name = mxc_strdup(cols[i].name);
		mxc_buf_init(&c->levels, PAGE_LIMIT);
		mxc_buf_init(&c->values, PAGE_LIMIT);
		mxc_buf_init(&c->chunk, UNBOUNDED);
		mxc_buf_init(&c->smin, VALUE_MAX);
		mxc_buf_init(&c->smax, VALUE_MAX);
		reset_chunk(c);
		if (!c->name)
			r = MXC_ENOMEM;
	}
	if (!r) {
		w->zc = ZSTD_createCCtx();
		if (!w->zc)
			r = MXC_ENOMEM;
	}
	if (!r)
		r = write_out(w, MAGIC, MAGIC_LEN);
	if (r) {
		free_writer(w);
		return r;
	}
	*wp = w;
	return 0;
}

int mxc_parquet_close(struct mxc_parquet *w, uint64_t *rows)
{
	int r;

	if (rows)
		*rows = 0;
	if (!w)
		return 0;
	r = w->err;
	if (!r)
		r = flush_row_group(w);
	if (!r)
		r = write_footer(w);
	if (!r && (fflush(w->out) != 0 || ferror(w->out)))
		r = MXC_EIO;
	if (rows)
		*rows = w->rows;
	free_writer(w);
	return r;
}

void mxc_parquet_abort(struct mxc_parquet *w)
{
	if (w)
		free_writer(w);
}
