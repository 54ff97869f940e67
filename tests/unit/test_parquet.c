/**
 * \file
 * Unit tests of the Parquet writer (analysis/parquet.c) and of its Thrift
 * compact encoder (analysis/thrift.c).
 *
 * The encoder is checked against bytes worked out by hand from the compact
 * protocol's specification. The writer is checked by reading its files back
 * with a small Parquet reader written here, independently of the writer: a
 * Thrift compact decoder that looks fields up by id, the footer (magic,
 * length, FileMetaData, schema, row groups, column metadata, statistics),
 * every page (header, ZSTD, the RLE/bit-packed definition levels, PLAIN
 * values), compared value by value with the rows that went in. The files
 * hold nulls, empty strings, long strings, multi-byte UTF-8, bytes that are
 * not UTF-8, extreme integers, many pages and many row groups.
 *
 * Two more readers, DuckDB and hyparquet, read the same files in
 * tests/e2e/test_parquet.sh: with MXC_PARQUET_OUT_DIR set, the tests leave
 * each file there beside the rows it must hold, as JSON arrays written by
 * the test from its own tables (not by the writer).
 *
 * Extra modes, not tests: "test_parquet --export DB domains|hosts FILE"
 * exports a store to Parquet through mxc_export() (for the end-to-end test
 * while the command line refuses parquet), and MXC_PARQUET_BENCH_ROWS=N
 * makes test_bench write N synthetic domain rows and print time and peak RSS.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include <cmocka.h>

#include "analysis/export.h"
#include "analysis/parquet.h"
#include "analysis/thrift.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

/* ------------------------------------------------------------------------ */
/* The Thrift compact encoder against hand-computed bytes                   */

static void assert_bytes(const struct mxc_buf *b, const uint8_t *want, size_t n)
{
	if (b->len != n || memcmp(b->data, want, n) != 0) {
		print_error("got %zu bytes:", b->len);
		for (size_t i = 0; i < b->len; i++)
			print_error(" %02x", b->data[i]);
		print_error("\nwant %zu bytes:", n);
		for (size_t i = 0; i < n; i++)
			print_error(" %02x", want[i]);
		print_error("\n");
		fail();
	}
}

static void test_varint(void **state)
{
	static const struct {
		uint64_t v;
		uint8_t bytes[10];
		size_t n;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 127, { 0x7f }, 1 },
		{ 128, { 0x80, 0x01 }, 2 },
		{ 300, { 0xac, 0x02 }, 2 },
		{ 16384, { 0x80, 0x80, 0x01 }, 3 },
		{ UINT64_MAX, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10 },
	};
	struct mxc_buf b;

	(void)state;
	mxc_buf_init(&b, 64);
	for (size_t i = 0; i < MXC_ARRAY_SIZE(cases); i++) {
		mxc_buf_reset(&b);
		assert_int_equal(mxc_thrift_varint(&b, cases[i].v), 0);
		assert_bytes(&b, cases[i].bytes, cases[i].n);
	}
	mxc_buf_free(&b);
}

static void test_thrift_fields(void **state)
{
	static const uint8_t list15[15] = { 0 };
	static const uint8_t want[] = {
		0x15, 0x00,             /* 1: i32 0 (delta 1, type 5) */
		0x25, 0x01,             /* 3: i32 -1, zigzag 1 (delta 2) */
		0x16, 0xac, 0x02,       /* 4: i64 150, zigzag 300 */
		0x05, 0x28, 0x0a,       /* 20: i32 5: delta 16, long form, id zigzag 40 */
		0x11,                   /* 21: true */
		0x12,                   /* 22: false */
		0x18, 0x02, 'a', 'b',   /* 23: binary "ab" */
		0x13, 0xfe,             /* 24: i8 -2, one raw byte */
		0x19, 0x35, 0x02, 0x03, 0x7f, /* 25: list<i32> 1, -2, -64 */
		0x19, 0xf8, 0x0f,       /* 26: list<binary> of 15: long header */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 15 empty strings */
		0x1c,                   /* 27: struct */
		0x15, 0x02,             /*   1: i32 1 (ids restart inside) */
		0x1c, 0x00,             /*   2: empty struct */
		0x00,                   /* end of 27 */
		0x16, 0x01,             /* 28: i64 -1, delta from 27 */
		0x19, 0x2c,             /* 29: list<struct> of 2 */
		0x15, 0x04, 0x00,       /*   { 1: i32 2 } */
		0x00,                   /*   { } */
		0x05, 0x04, 0x0e,       /* 2: i32 7: id below the last, long form */
		0x00,                   /* stop */
	};
	struct mxc_buf b;
	struct mxc_thrift t;

	(void)state;
	mxc_buf_init(&b, 1024);
	mxc_thrift_init(&t, &b);
	mxc_thrift_struct_begin(&t);
	mxc_thrift_field_i32(&t, 1, 0);
	mxc_thrift_field_i32(&t, 3, -1);
	mxc_thrift_field_i64(&t, 4, 150);
	mxc_thrift_field_i32(&t, 20, 5);
	mxc_thrift_field_bool(&t, 21, true);
	mxc_thrift_field_bool(&t, 22, false);
	mxc_thrift_field_string(&t, 23, "ab");
	mxc_thrift_field_i8(&t, 24, -2);
	mxc_thrift_field_list(&t, 25, MXC_THRIFT_I32, 3);
	mxc_thrift_i32(&t, 1);
	mxc_thrift_i32(&t, -2);
	mxc_thrift_i32(&t, -64);
	mxc_thrift_field_list(&t, 26, MXC_THRIFT_BINARY, 15);
	for (int i = 0; i < 15; i++)
		mxc_thrift_binary(&t, list15, 0);
	mxc_thrift_field_struct(&t, 27);
	mxc_thrift_field_i32(&t, 1, 1);
	mxc_thrift_field_struct(&t, 2);
	mxc_thrift_struct_end(&t);
	mxc_thrift_struct_end(&t);
	mxc_thrift_field_i64(&t, 28, -1);
	mxc_thrift_field_list(&t, 29, MXC_THRIFT_STRUCT, 2);
	mxc_thrift_struct_begin(&t);
	mxc_thrift_field_i32(&t, 1, 2);
	mxc_thrift_struct_end(&t);
	mxc_thrift_struct_begin(&t);
	mxc_thrift_struct_end(&t);
	mxc_thrift_field_i32(&t, 2, 7);
	mxc_thrift_struct_end(&t);
	assert_int_equal(mxc_thrift_error(&t), 0);
	assert_bytes(&b, want, sizeof(want));
	mxc_buf_free(&b);
}

static void test_thrift_errors(void **state)
{
	struct mxc_buf b;
	struct mxc_thrift t;

	(void)state;
	mxc_buf_init(&b, 4);
	/* A field outside any struct. */
	mxc_thrift_init(&t, &b);
	mxc_thrift_field_i32(&t, 1, 1);
	assert_int_equal(mxc_thrift_error(&t), MXC_EINVAL);
	/* An end without a begin. */
	mxc_thrift_init(&t, &b);
	mxc_thrift_struct_end(&t);
	assert_int_equal(mxc_thrift_error(&t), MXC_EINVAL);
	/* Field id 0. */
	mxc_thrift_init(&t, &b);
	mxc_thrift_struct_begin(&t);
	mxc_thrift_field_i32(&t, 0, 1);
	assert_int_equal(mxc_thrift_error(&t), MXC_EINVAL);
	/* Too deep. */
	mxc_thrift_init(&t, &b);
	for (int i = 0; i <= MXC_THRIFT_DEPTH; i++)
		mxc_thrift_struct_begin(&t);
	assert_int_equal(mxc_thrift_error(&t), MXC_EINVAL);
	/* The buffer's limit, and the error sticks: nothing more is written. */
	mxc_buf_reset(&b);
	mxc_thrift_init(&t, &b);
	mxc_thrift_struct_begin(&t);
	mxc_thrift_field_string(&t, 1, "abcdef");
	assert_int_equal(mxc_thrift_error(&t), MXC_ETOOBIG);
	mxc_thrift_struct_end(&t);
	assert_int_equal(mxc_thrift_error(&t), MXC_ETOOBIG);
	assert_int_equal(b.len, 2); /* the field header and the length */
	mxc_buf_free(&b);
}

/* ------------------------------------------------------------------------ */
/* A Thrift compact decoder of our own, for reading the files back          */

struct cur {
	const uint8_t *p, *end;
};

static uint64_t rd_varint(struct cur *c)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		assert_true(c->p < c->end);
		v |= (uint64_t)(*c->p & 0x7f) << shift;
		if (!(*c->p++ & 0x80))
			return v;
	}
	fail_msg("varint longer than 10 bytes");
	return 0;
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void skip_value(struct cur *c, int type, bool in_list)
{
	uint64_t n;
	int et;

	switch (type) {
	case 1:
	case 2: /* bool: in the field header, or one byte in a list */
		if (in_list)
			c->p++;
		break;
	case 3:
		c->p++;
		break;
	case 4:
	case 5:
	case 6:
		(void)rd_varint(c);
		break;
	case 7:
		c->p += 8;
		break;
	case 8:
		n = rd_varint(c);
		assert_true(n <= (uint64_t)(c->end - c->p));
		c->p += n;
		break;
	case 9:
	case 10:
		assert_true(c->p < c->end);
		n = *c->p >> 4;
		et = *c->p++ & 0x0f;
		if (n == 15)
			n = rd_varint(c);
		for (uint64_t i = 0; i < n; i++)
			skip_value(c, et, true);
		break;
	case 12:
		for (;;) {
			uint8_t b;

			assert_true(c->p < c->end);
			b = *c->p++;
			if (b == 0)
				break;
			if ((b >> 4) == 0)
				(void)rd_varint(c);
			skip_value(c, b & 0x0f, false);
		}
		break;
	default:
		fail_msg("unexpected thrift type %d", type);
	}
	assert_true(c->p <= c->end);
}

/* Field @p id of the struct at @p s: its type and a cursor at its value. */
static bool find_field(struct cur s, int16_t id, int *type, struct cur *val)
{
	int16_t last = 0;

	for (;;) {
		uint8_t b;
		int16_t fid;

		assert_true(s.p < s.end);
		b = *s.p++;
		if (b == 0)
			return false;
		fid = (b >> 4) ? (int16_t)(last + (b >> 4)) : (int16_t)unzigzag(rd_varint(&s));
		last = fid;
		if (fid == id) {
			*type = b & 0x0f;
			*val = s;
			return true;
		}
		skip_value(&s, b & 0x0f, false);
	}
}

static bool has_field(struct cur s, int16_t id)
{
	int type;
	struct cur v;

	return find_field(s, id, &type, &v);
}

static int64_t get_int(struct cur s, int16_t id)
{
	int type;
	struct cur v;

	if (!find_field(s, id, &type, &v))
		fail_msg("no field %d", id);
	if (type == 1 || type == 2)
		return type == 1;
	if (type == 3)
		return (int8_t)*v.p;
	assert_true(type >= 4 && type <= 6);
	return unzigzag(rd_varint(&v));
}

static struct cur get_struct(struct cur s, int16_t id)
{
	int type;
	struct cur v;

	if (!find_field(s, id, &type, &v))
		fail_msg("no struct field %d", id);
	assert_int_equal(type, 12);
	return v;
}

static size_t get_bin(struct cur s, int16_t id, const uint8_t **data)
{
	int type;
	struct cur v;
	uint64_t n;

	if (!find_field(s, id, &type, &v))
		fail_msg("no binary field %d", id);
	assert_int_equal(type, 8);
	n = rd_varint(&v);
	*data = v.p;
	return (size_t)n;
}

/* A list field: its size, element type, and a cursor at the first element. */
static size_t get_list(struct cur s, int16_t id, int *etype, struct cur *elems)
{
	int type;
	uint64_t n;

	if (!find_field(s, id, &type, elems))
		fail_msg("no list field %d", id);
	assert_int_equal(type, 9);
	n = *elems->p >> 4;
	*etype = *elems->p++ & 0x0f;
	if (n == 15)
		n = rd_varint(elems);
	return (size_t)n;
}

static struct cur next_struct(struct cur *elems)
{
	struct cur at = *elems;

	skip_value(elems, 12, true);
	return at;
}

static bool str_eq(const uint8_t *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* ------------------------------------------------------------------------ */
/* Reading a whole file back and checking it against the rows               */

/* The rows a file must hold: vals[row * ncols + col], NULL for null, in
 * the form stored (valid UTF-8; INT64 "" already NULL). */
struct table {
	const struct mxc_parquet_col *cols;
	size_t ncols;
	size_t nrows;
	char **vals;
};

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t le64_at(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return (int64_t)v;
}

/* The RLE/bit-packed hybrid (bit width 1) of @p n levels, decoded. */
static void decode_levels(const uint8_t *p, size_t len, uint8_t *lv, size_t n)
{
	struct cur c = { p, p + len };
	size_t got = 0;

	while (got < n) {
		uint64_t h = rd_varint(&c);

		if (h & 1) {
			uint64_t vals = (h >> 1) * 8;

			assert_true(h >> 1 > 0);
			assert_true((uint64_t)(c.end - c.p) >= h >> 1);
			for (uint64_t k = 0; k < vals; k++) {
				uint8_t bit = (uint8_t)(c.p[k / 8] >> (k % 8) & 1);

				if (got < n)
					lv[got++] = bit;
				else
					assert_int_equal(bit, 0); /* padding is zero */
			}
			c.p += h >> 1;
		} else {
			uint64_t run = h >> 1;

			assert_true(run > 0 && run <= n - got);
			assert_true(c.p < c.end);
			assert_true(*c.p <= 1);
			memset(lv + got, *c.p++, run);
			got += run;
		}
	}
	assert_ptr_equal(c.p, c.end); /* the levels fill their length exactly */
}

static int bytes_cmp(const char *a, const char *b)
{
	return strcmp(a, b); /* strcmp compares as unsigned char */
}

/* Check the chunk statistics of column @p ci over rows [r0, r1). */
static void check_stats(const struct table *tb, size_t ci, size_t r0, size_t r1,
			struct cur stats)
{
	const char *smin = NULL, *smax = NULL;
	int64_t imin = INT64_MAX, imax = INT64_MIN;
	uint64_t nulls = 0;
	const uint8_t *p;
	size_t n;

	for (size_t r = r0; r < r1; r++) {
		const char *v = tb->vals[r * tb->ncols + ci];

		if (!v) {
			nulls++;
			continue;
		}
		if (tb->cols[ci].type == MXC_PARQUET_INT64) {
			int64_t x = strtoll(v, NULL, 10);

			imin = x < imin ? x : imin;
			imax = x > imax ? x : imax;
		} else {
			if (!smin || bytes_cmp(v, smin) < 0)
				smin = v;
			if (!smax || bytes_cmp(v, smax) > 0)
				smax = v;
		}
	}
	assert_int_equal(get_int(stats, 3), nulls);
	if (nulls == r1 - r0) {
		assert_false(has_field(stats, 5));
		assert_false(has_field(stats, 6));
		return;
	}
	if (tb->cols[ci].type == MXC_PARQUET_INT64) {
		assert_int_equal(get_bin(stats, 5, &p), 8);
		assert_int_equal(le64_at(p), imax);
		assert_int_equal(get_bin(stats, 6, &p), 8);
		assert_int_equal(le64_at(p), imin);
		return;
	}
	/* A bound longer than 256 bytes is left out, never truncated. */
	if (strlen(smax) <= 256) {
		n = get_bin(stats, 5, &p);
		assert_true(str_eq(p, n, smax));
	} else {
		assert_false(has_field(stats, 5));
	}
	if (strlen(smin) <= 256) {
		n = get_bin(stats, 6, &p);
		assert_true(str_eq(p, n, smin));
	} else {
		assert_false(has_field(stats, 6));
	}
	/* The deprecated signed-order min/max are never written. */
	assert_false(has_field(stats, 1));
	assert_false(has_field(stats, 2));
}

/* Read the pages of one column chunk and compare rows [r0, r0 + nvals). */
static void check_chunk(const uint8_t *file, size_t flen, const struct table *tb, size_t ci,
			size_t r0, struct cur md, size_t *pages)
{
	int64_t off = get_int(md, 9), zsize = get_int(md, 7), rawsize = get_int(md, 6);
	int64_t nvals = get_int(md, 5), seen = 0, raw = 0;
	const uint8_t *p = file + off, *end = file + off + zsize;

	assert_true(off >= 4 && zsize > 0 && (uint64_t)(off + zsize) <= flen - 8);
	assert_false(has_field(md, 11)); /* no dictionary page */
	while (p < end) {
		struct cur hc = { p, end }, after = hc, dph;
		int64_t usize, csize, n;
		uint8_t *body, *lv;
		const uint8_t *v;
		uint32_t lvlen;

		skip_value(&after, 12, true);
		assert_int_equal(get_int(hc, 1), 0); /* DATA_PAGE */
		usize = get_int(hc, 2);
		csize = get_int(hc, 3);
		assert_false(has_field(hc, 4)); /* no crc */
		dph = get_struct(hc, 5);
		n = get_int(dph, 1);
		assert_true(n > 0);
		assert_int_equal(get_int(dph, 2), 0); /* PLAIN */
		assert_int_equal(get_int(dph, 3), 3); /* RLE */
		assert_int_equal(get_int(dph, 4), 3);
		assert_true(after.p + csize <= end);
		raw += (after.p - p) + usize;

		body = mxc_malloc((size_t)usize + 1);
		lv = mxc_malloc((size_t)n);
		assert_non_null(body);
		assert_non_null(lv);
		assert_int_equal(ZSTD_decompress(body, (size_t)usize, after.p, (size_t)csize),
				 usize);
		lvlen = le32_at(body);
		assert_true(4 + (int64_t)lvlen <= usize);
		decode_levels(body + 4, lvlen, lv, (size_t)n);
		v = body + 4 + lvlen;
		{
			int64_t page_nulls = 0;

			for (int64_t k = 0; k < n; k++) {
				const char *want = tb->vals[(r0 + (size_t)(seen + k)) * tb->ncols + ci];

				assert_true(lv[k] == 0 || lv[k] == 1);
				if (!want) {
					assert_int_equal(lv[k], 0);
					page_nulls++;
					continue;
				}
				assert_int_equal(lv[k], 1);
				if (tb->cols[ci].type == MXC_PARQUET_INT64) {
					assert_true(v + 8 <= body + usize);
					assert_int_equal(le64_at(v), strtoll(want, NULL, 10));
					v += 8;
				} else {
					uint32_t len;

					assert_true(v + 4 <= body + usize);
					len = le32_at(v);
					assert_true(v + 4 + len <= body + usize);
					if (!str_eq(v + 4, len, want))
						fail_msg("row %zu column %s: got '%.*s', want '%s'",
							 r0 + (size_t)(seen + k), tb->cols[ci].name,
							 (int)(len > 80 ? 80 : len), v + 4, want);
					v += 4 + len;
				}
			}
			assert_ptr_equal(v, body + usize); /* no bytes left over */
			assert_int_equal(get_int(get_struct(dph, 5), 3), page_nulls);
		}
		mxc_free(body);
		mxc_free(lv);
		seen += n;
		p = after.p + csize;
		(*pages)++;
	}
	assert_ptr_equal(p, end);
	assert_int_equal(seen, nvals);
	assert_int_equal(raw, rawsize);
}

/*
 * Check the whole file against @p tb.
 * @return the number of row groups; *pages the number of data pages
 */
static size_t check_file(const uint8_t *file, size_t flen, const struct table *tb,
			 size_t *pages)
{
	struct cur meta, schema, groups, e;
	size_t n, rows = 0, ngroups;
	uint32_t mlen;
	const uint8_t *p;
	int et;

	*pages = 0;
	assert_true(flen >= 12);
	assert_memory_equal(file, "PAR1", 4);
	assert_memory_equal(file + flen - 4, "PAR1", 4);
	mlen = le32_at(file + flen - 8);
	assert_true(mlen <= flen - 12);
	meta = (struct cur){ file + flen - 8 - mlen, file + flen - 8 };
	{
		struct cur whole = meta;

		skip_value(&whole, 12, true);
		assert_ptr_equal(whole.p, meta.end); /* the length is exact */
	}
	assert_int_equal(get_int(meta, 1), 1);
	n = get_list(meta, 2, &et, &schema);
	assert_int_equal(et, 12);
	assert_int_equal(n, tb->ncols + 1);
	e = next_struct(&schema);
	n = get_bin(e, 4, &p);
	assert_true(str_eq(p, n, "schema"));
	assert_int_equal(get_int(e, 5), tb->ncols);
	assert_false(has_field(e, 1));
	for (size_t i = 0; i < tb->ncols; i++) {
		bool str = tb->cols[i].type == MXC_PARQUET_STRING;
		struct cur lt;

		e = next_struct(&schema);
		assert_int_equal(get_int(e, 1), str ? 6 : 2);
		assert_int_equal(get_int(e, 3), 1); /* OPTIONAL */
		n = get_bin(e, 4, &p);
		assert_true(str_eq(p, n, tb->cols[i].name));
		assert_int_equal(get_int(e, 6), str ? 0 : 18); /* UTF8, INT_64 */
		lt = get_struct(e, 10);
		if (str) {
			assert_true(has_field(lt, 1));
		} else {
			struct cur it = get_struct(lt, 10);

			assert_int_equal(get_int(it, 1), 64);
			assert_int_equal(get_int(it, 2), 1);
		}
	}
	assert_int_equal(get_int(meta, 3), tb->nrows);
	ngroups = get_list(meta, 4, &et, &groups);
	if (ngroups)
		assert_int_equal(et, 12);
	for (size_t g = 0; g < ngroups; g++) {
		struct cur rg = next_struct(&groups), chunks;
		int64_t grows = get_int(rg, 3), total_raw = 0, total_zip = 0;

		assert_true(grows > 0);
		assert_int_equal(get_list(rg, 1, &et, &chunks), tb->ncols);
		for (size_t i = 0; i < tb->ncols; i++) {
			struct cur cc = next_struct(&chunks), md = get_struct(cc, 3), path, enc;

			assert_false(has_field(cc, 1)); /* no file_path: this file */
			assert_int_equal(get_int(md, 1), tb->cols[i].type == MXC_PARQUET_STRING ? 6 : 2);
			assert_int_equal(get_int(md, 4), 6); /* ZSTD */
			assert_int_equal(get_int(md, 5), grows);
			assert_int_equal(get_list(md, 2, &et, &enc), 2);
			assert_int_equal(get_list(md, 3, &et, &path), 1);
			assert_int_equal(et, 8);
			n = (size_t)rd_varint(&path);
			assert_true(str_eq(path.p, n, tb->cols[i].name));
			if (i == 0)
				assert_int_equal(get_int(rg, 5), get_int(md, 9));
			total_raw += get_int(md, 6);
			total_zip += get_int(md, 7);
			check_chunk(file, flen, tb, i, rows, md, pages);
			check_stats(tb, i, rows, rows + (size_t)grows, get_struct(md, 12));
		}
		assert_int_equal(get_int(rg, 2), total_raw);
		assert_int_equal(get_int(rg, 6), total_zip);
		rows += (size_t)grows;
	}
	assert_int_equal(rows, tb->nrows);
	n = get_bin(meta, 6, &p);
	assert_true(n > 0);
	assert_int_equal(get_list(meta, 7, &et, &e), tb->ncols);
	/* Each ColumnOrder is TYPE_ORDER (field 1), an empty struct. */
	for (size_t i = 0; i < tb->ncols; i++)
		assert_false(has_field(get_struct(next_struct(&e), 1), 1));
	return ngroups;
}

/* ------------------------------------------------------------------------ */
/* Writing tables                                                           */

static struct table *table_new(const struct mxc_parquet_col *cols, size_t ncols, size_t nrows)
{
	struct table *tb = mxc_calloc(1, sizeof(*tb));

	assert_non_null(tb);
	tb->cols = cols;
	tb->ncols = ncols;
	tb->nrows = nrows;
	tb->vals = mxc_calloc(ncols * nrows + 1, sizeof(char *));
	assert_non_null(tb->vals);
	return tb;
}

static void table_set(struct table *tb, size_t r, size_t c, const char *v)
{
	mxc_free(tb->vals[r * tb->ncols + c]);
	tb->vals[r * tb->ncols + c] = v ? mxc_strdup(v) : NULL;
	assert_true(!v || tb->vals[r * tb->ncols + c]);
}

static void table_free(struct table *tb)
{
	for (size_t i = 0; i < tb->ncols * tb->nrows; i++)
		mxc_free(tb->vals[i]);
	mxc_free(tb->vals);
	mxc_free(tb);
}

/* Write @p in through the writer into memory (*file, freed with free()). */
static int write_table(const struct table *in, const struct mxc_parquet_opts *opts,
		       char **file, size_t *flen)
{
	struct mxc_parquet *w;
	FILE *f;
	int r;

	*file = NULL;
	f = open_memstream(file, flen);
	assert_non_null(f);
	r = mxc_parquet_open(&w, f, in->cols, in->ncols, opts);
	for (size_t i = 0; !r && i < in->nrows; i++)
		r = mxc_parquet_row(w, (const char *const *)&in->vals[i * in->ncols]);
	if (w) {
		uint64_t rows;
		int rc = mxc_parquet_close(w, &rows);

		r = r ? r : rc;
		if (!r)
			assert_int_equal(rows, in->nrows);
	}
	fclose(f);
	return r;
}

/* A JSON string as JavaScript's JSON.stringify writes it. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/*
 * With MXC_PARQUET_OUT_DIR set, leave NAME.parquet and NAME.jsonl (the rows
 * it must hold, from the test's own table) there for the other readers.
 */
static void keep_for_readers(const char *name, const char *file, size_t flen,
			     const struct table *want)
{
	const char *dir = getenv("MXC_PARQUET_OUT_DIR");
	char path[4096];
	FILE *f;

	if (!dir || !*dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.parquet", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(file, 1, flen, f), flen);
	assert_int_equal(fclose(f), 0);
	snprintf(path, sizeof(path), "%s/%s.jsonl", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t r = 0; r < want->nrows; r++) {
		fputc('[', f);
		for (size_t c = 0; c < want->ncols; c++) {
			const char *v = want->vals[r * want->ncols + c];

			if (c)
				fputc(',', f);
			if (v)
				json_str(f, v);
			else
				fputs("null", f);
		}
		fputs("]\n", f);
	}
	assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */

static const struct mxc_parquet_col awk_cols[] = {
	{ "name", MXC_PARQUET_STRING },
	{ "port", MXC_PARQUET_INT64 },
	{ "text", MXC_PARQUET_STRING },
};

static void test_awkward_values(void **state)
{
	/* in, then what must come back where it differs */
	static const char *const rows[][3] = {
		{ "a.example", "25", "plain" },
		{ NULL, NULL, NULL },
		{ "", "", "" },
		{ "\xce\xb5\xce\xbb\xce\xbb\xce\xb7\xce\xbd\xce\xb9\xce\xba\xce\xac.gr", "-1",
		  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80 \xc3\xbc" },
		{ "x", "9223372036854775807", NULL /* long, below */ },
		{ "y", "-9223372036854775808", "bad \xff\xfe bytes \xc3" },
		{ "comma,quote\"nl\nend", "0", "\xed\xa0\x80 surrogate" },
		{ "tab\there\x01\x7f", "42", NULL /* long UTF-8, below */ },
		{ NULL, NULL, NULL /* the long maximum, below */ },
	};
	struct table *in = table_new(awk_cols, 3, MXC_ARRAY_SIZE(rows));
	struct table *want = table_new(awk_cols, 3, MXC_ARRAY_SIZE(rows));
	char *longv = mxc_malloc(100001), *utf = mxc_malloc(601), *top = mxc_malloc(305);
	char *file;
	size_t flen, pages;

	(void)state;
	assert_true(longv && utf && top);
	for (size_t i = 0; i < 100000; i++)
		longv[i] = (char)('a' + i % 26);
	longv[100000] = 0;
	for (size_t i = 0; i < 600; i += 2)
		memcpy(utf + i, "\xc3\xa9", 2);
	utf[600] = 0;
	memcpy(top, "\xf4\x8f\xbf\xbf", 4); /* U+10FFFF sorts last */
	memset(top + 4, 'z', 300);
	top[304] = 0;
	for (size_t r = 0; r < MXC_ARRAY_SIZE(rows); r++) {
		for (size_t c = 0; c < 3; c++) {
			table_set(in, r, c, rows[r][c]);
			table_set(want, r, c, rows[r][c]);
		}
	}
	table_set(in, 4, 2, longv);
	table_set(want, 4, 2, longv);
	table_set(in, 7, 2, utf);
	table_set(want, 7, 2, utf);
	table_set(in, 8, 2, top);
	table_set(want, 8, 2, top);
	/* "" in an INT64 column is null, as in the text exports. */
	table_set(want, 2, 1, NULL);
	/* Stray bytes come back as the Latin-1 characters of their values. */
	table_set(want, 5, 2, "bad \xc3\xbf\xc3\xbe bytes \xc3\x83");
	table_set(want, 6, 2, "\xc3\xad\xc2\xa0\xc2\x80 surrogate");

	assert_int_equal(write_table(in, NULL, &file, &flen), 0);
	assert_int_equal(check_file((uint8_t *)file, flen, want, &pages), 1);
	assert_int_equal(pages, 3);
	keep_for_readers("awkward", file, flen, want);
	free(file);
	table_free(in);
	table_free(want);
	mxc_free(longv);
	mxc_free(utf);
	mxc_free(top);
}

static const struct mxc_parquet_col group_cols[] = {
	{ "id", MXC_PARQUET_INT64 },
	{ "s", MXC_PARQUET_STRING },
};

static void test_row_groups_and_pages(void **state)
{
	struct mxc_parquet_opts opts = { .row_group_rows = 7, .page_bytes = 64 };
	struct table *tb = table_new(group_cols, 2, 100);
	char v[64], *file;
	size_t flen, pages;

	(void)state;
	for (size_t i = 0; i < 100; i++) {
		snprintf(v, sizeof(v), "%ld", (long)(i * 7919 % 1000) - 500);
		table_set(tb, i, 0, i % 5 == 0 ? NULL : v);
		snprintf(v, sizeof(v), "row-%zu-%s", i, i % 2 ? "odd" : "even, quoted \"x\"");
		table_set(tb, i, 1, (i / 3) % 4 == 0 ? NULL : i % 17 == 0 ? "" : v);
	}
	assert_int_equal(write_table(tb, &opts, &file, &flen), 0);
	assert_int_equal(check_file((uint8_t *)file, flen, tb, &pages), 15);
	/* 64-byte pages: the string chunks have several pages each. */
	assert_true(pages > 2 * 15);
	keep_for_readers("groups", file, flen, tb);
	free(file);
	table_free(tb);
}

/* Null patterns for the definition levels' RLE/bit-packed hybrid. */
static bool present(int pattern, size_t i)
{
	static uint32_t seed;

	if (i == 0)
		seed = 12345;
	seed = seed * 1103515245 + 12345;
	switch (pattern) {
	case 0: return false;
	case 1: return true;
	case 2: return i % 2;
	case 3: return (i / 7) % 2;
	case 4: return (i / 8) % 2;
	case 5: return (i / 9) % 2;
	case 6: return (i / 16) % 3 == 0;
	case 7: return i % 21 == 20;
	case 8: return seed >> 16 & 1;
	default: return (seed >> 16) % 50 < 45; /* long runs, some breaks */
	}
}

static void test_definition_levels(void **state)
{
	static const struct mxc_parquet_col col[] = { { "v", MXC_PARQUET_STRING } };
	static const size_t sizes[] = { 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000 };

	(void)state;
	for (int pat = 0; pat < 10; pat++) {
		for (size_t k = 0; k < MXC_ARRAY_SIZE(sizes); k++) {
			struct table *tb = table_new(col, 1, sizes[k]);
			char *file;
			size_t flen, pages;

			for (size_t i = 0; i < sizes[k]; i++)
				table_set(tb, i, 0, present(pat, i) ? (i % 3 ? "v" : "") : NULL);
			assert_int_equal(write_table(tb, NULL, &file, &flen), 0);
			assert_int_equal(check_file((uint8_t *)file, flen, tb, &pages), 1);
			free(file);
			table_free(tb);
		}
	}
}

static void test_byte_budget(void **state)
{
	static const struct mxc_parquet_col col[] = { { "blob", MXC_PARQUET_STRING } };
	struct mxc_parquet_opts opts = { .row_group_bytes = 8192 };
	struct table *tb = table_new(col, 1, 50);
	uint32_t seed = 1;
	char v[1001], *file;
	size_t flen, pages, groups;

	(void)state;
	for (size_t i = 0; i < 50; i++) {
		for (size_t k = 0; k < 1000; k++) {
			seed = seed * 1103515245 + 12345;
			v[k] = "0123456789abcdef"[seed >> 16 & 15];
		}
		v[1000] = 0;
		table_set(tb, i, 0, v);
	}
	assert_int_equal(write_table(tb, &opts, &file, &flen), 0);
	/* About 1 KB a row in the open page: a group every 8 or 9 rows. */
	groups = check_file((uint8_t *)file, flen, tb, &pages);
	assert_in_range(groups, 5, 7);
	free(file);
	table_free(tb);
}

static void test_no_rows(void **state)
{
	struct table *tb = table_new(awk_cols, 3, 0);
	char *file;
	size_t flen, pages;

	(void)state;
	assert_int_equal(write_table(tb, NULL, &file, &flen), 0);
	assert_int_equal(check_file((uint8_t *)file, flen, tb, &pages), 0);
	keep_for_readers("empty", file, flen, tb);
	free(file);
	table_free(tb);
}

static void test_bad_input(void **state)
{
	static const char *const bad[] = { "12a", "-", " 1", "1 ", "+1", "0x10",
					   "9223372036854775808", "-9223372036854775809",
					   "99999999999999999999" };
	static const struct mxc_parquet_col dup[] = { { "a", MXC_PARQUET_STRING },
						      { "a", MXC_PARQUET_INT64 } };
	static const struct mxc_parquet_col noname[] = { { "", MXC_PARQUET_STRING } };
	static const struct mxc_parquet_col badtype[] = { { "a", (enum mxc_parquet_type)7 } };
	struct mxc_parquet_opts big_page = { .page_bytes = (size_t)1 << 30 };
	struct mxc_parquet_opts bad_level = { .zstd_level = 1000 };
	struct mxc_parquet *w;
	char *text = NULL;
	size_t len;
	uint64_t rows;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(mxc_parquet_open(&w, f, dup, 2, NULL), MXC_EINVAL);
	assert_null(w);
	assert_int_equal(mxc_parquet_open(&w, f, noname, 1, NULL), MXC_EINVAL);
	assert_int_equal(mxc_parquet_open(&w, f, badtype, 1, NULL), MXC_EINVAL);
	assert_int_equal(mxc_parquet_open(&w, f, awk_cols, 0, NULL), MXC_EINVAL);
	assert_int_equal(mxc_parquet_open(&w, f, awk_cols, 3, &big_page), MXC_EINVAL);
	assert_int_equal(mxc_parquet_open(&w, f, awk_cols, 3, &bad_level), MXC_EINVAL);
	assert_int_equal(mxc_parquet_open(&w, NULL, awk_cols, 3, NULL), MXC_EINVAL);
	fflush(f);
	assert_int_equal(len, 0); /* nothing written by a refused open */

	for (size_t i = 0; i < MXC_ARRAY_SIZE(bad); i++) {
		const char *row[3] = { "a", bad[i], "b" };
		const char *good[3] = { "a", "1", "b" };

		assert_int_equal(mxc_parquet_open(&w, f, awk_cols, 3, NULL), 0);
		assert_int_equal(mxc_parquet_row(w, good), 0);
		assert_int_equal(mxc_parquet_row(w, row), MXC_EINVAL);
		/* The writer refuses everything after an error... */
		assert_int_equal(mxc_parquet_row(w, good), MXC_EINVAL);
		/* ... and close writes no footer and says so. */
		assert_int_equal(mxc_parquet_close(w, &rows), MXC_EINVAL);
		assert_int_equal(rows, 1);
	}
	fclose(f);
	free(text);
}

static void test_write_error(void **state)
{
	const char *row[3] = { "a", "1", "b" };
	struct mxc_parquet *w;
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (!f)
		skip();
	assert_int_equal(mxc_parquet_open(&w, f, awk_cols, 3, NULL), 0);
	assert_int_equal(mxc_parquet_row(w, row), 0);
	assert_int_equal(mxc_parquet_close(w, NULL), MXC_EIO);
	fclose(f);
}

static void test_abort(void **state)
{
	const char *row[3] = { "a", "1", "b" };
	struct mxc_parquet_opts opts = { .row_group_rows = 1 };
	struct mxc_parquet *w;
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(mxc_parquet_open(&w, f, awk_cols, 3, &opts), 0);
	assert_int_equal(mxc_parquet_row(w, row), 0);
	mxc_parquet_abort(w);
	fclose(f);
	/* The row group went out, but no footer: no closing magic. */
	assert_true(len > 8);
	assert_memory_equal(text, "PAR1", 4);
	assert_memory_not_equal(text + len - 4, "PAR1", 4);
	free(text);
}

/* Every allocation failing in turn: an error, never a crash or a leak. */
static void test_alloc_failures(void **state)
{
	struct mxc_parquet_opts opts = { .row_group_rows = 2 };
	const char *rows[3][3] = { { "a", "1", "x" }, { NULL, "2", "y" }, { "c", NULL, NULL } };
	bool done = false;

	(void)state;
	for (long n = 0; !done && n < 10000; n++) {
		struct mxc_parquet *w = NULL;
		char *text = NULL;
		size_t len;
		FILE *f = open_memstream(&text, &len);
		int r;

		assert_non_null(f);
		mxc_alloc_fail_after(n);
		r = mxc_parquet_open(&w, f, awk_cols, 3, &opts);
		for (size_t i = 0; !r && i < 3; i++)
			r = mxc_parquet_row(w, rows[i]);
		if (w) {
			int rc = mxc_parquet_close(w, NULL);

			r = r ? r : rc;
		}
		mxc_alloc_fail_after(-1);
		assert_true(r == 0 || r == MXC_ENOMEM);
		done = r == 0;
		fclose(f);
		free(text);
	}
	assert_true(done);
}

/* ------------------------------------------------------------------------ */
/* The export through mxc_export()                                          */

/* Collects rows handed out by mxc_export_rows into a table. */
struct collect {
	struct table *tb;
	size_t cap;
};

static int collect_row(void *arg, const char *const *val)
{
	struct collect *c = arg;
	struct table *tb = c->tb;

	if (tb->nrows == c->cap) {
		char **nv = mxc_realloc(tb->vals, (c->cap * 2 + 1) * tb->ncols * sizeof(char *));

		assert_non_null(nv);
		tb->vals = nv;
		c->cap = c->cap * 2 + 1;
	}
	for (size_t i = 0; i < tb->ncols; i++)
		tb->vals[tb->nrows * tb->ncols + i] = val[i] ? mxc_strdup(val[i]) : NULL;
	tb->nrows++;
	return 0;
}

static void fill_store(const char *dir)
{
	struct mxc_mx mx[] = { { 10, "mx1.b.example" }, { 20, "mx,2.b.example" } };
	struct mxc_domain_rec doms[] = {
		{ .domain = "a.example", .run_id = "run-1", .scanned_at = 1700000000,
		  .mx_status = MXC_MX_NXDOMAIN },
		{ .domain = "b.example", .run_id = "run-1", .scanned_at = 1700000001,
		  .mx_status = MXC_MX_OK, .n_mx = 2, .mx = mx },
		{ .domain = "xn--caf-dma.example", .run_id = "run-1", .scanned_at = 1700000002 },
	};
	struct mxc_addr addrs[] = {
		{ 4, { 192, 0, 2, 1 } },
		{ 6, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } },
	};
	struct mxc_host_rec hosts[] = {
		{ .host = "mx1.b.example", .run_id = "run-1", .n_addr = 2, .addrs = addrs },
		{ .host = "mx,2.b.example", .run_id = "run-1" },
	};
	struct mxc_store *s;
	char err[256];

	assert_int_equal(mxc_store_open(dir, MXC_STORE_CREATE, 100, &s, err, sizeof(err)), 0);
	for (size_t i = 0; i < MXC_ARRAY_SIZE(doms); i++)
		assert_int_equal(mxc_store_domain_put(s, &doms[i]), 0);
	for (size_t i = 0; i < MXC_ARRAY_SIZE(hosts); i++)
		assert_int_equal(mxc_store_host_put(s, &hosts[i]), 0);
	assert_int_equal(mxc_store_close(s), 0);
}

static void drop_store(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

static void test_export(void **state)
{
	char dir[] = "/tmp/mxc-test-parquet-XXXXXX";
	struct mxc_store *s;
	char err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	fill_store(dir);
	assert_int_equal(mxc_store_open(dir, MXC_STORE_RDONLY, 0, &s, err, sizeof(err)), 0);
	for (int what = MXC_EXPORT_DOMAINS; what <= MXC_EXPORT_HOSTS; what++) {
		const struct mxc_export_col *ec;
		struct mxc_parquet_col pc[64];
		struct collect c = { 0 };
		size_t n, pages, nport = 0;
		uint64_t rows = 0;
		char *file = NULL;
		size_t flen;
		FILE *f = open_memstream(&file, &flen);

		assert_non_null(f);
		ec = mxc_export_columns((enum mxc_export_what)what, &n);
		assert_true(n <= 64);
		for (size_t i = 0; i < n; i++) {
			pc[i].name = ec[i].name;
			pc[i].type = ec[i].number ? MXC_PARQUET_INT64 : MXC_PARQUET_STRING;
			nport += ec[i].number;
		}
		/* The rows every format is made of are the truth. */
		c.tb = table_new(pc, n, 0);
		assert_int_equal(mxc_export_rows(s, (enum mxc_export_what)what, collect_row, &c,
						 NULL), 0);
		assert_int_equal(mxc_export(s, (enum mxc_export_what)what, MXC_EXPORT_PARQUET, f,
					    &rows), 0);
		fclose(f);
		/* Three domains; the hosts: two addresses of mx1, and mx,2
		 * without any. */
		assert_int_equal(rows, 3);
		assert_int_equal(c.tb->nrows, rows);
		assert_int_equal(check_file((uint8_t *)file, flen, c.tb, &pages), 1);
		/* port is the hosts' one number column. */
		assert_int_equal(nport, what == MXC_EXPORT_HOSTS ? 1 : 0);
		keep_for_readers(what == MXC_EXPORT_DOMAINS ? "export-domains" : "export-hosts",
				 file, flen, c.tb);
		free(file);
		table_free(c.tb);
	}
	assert_int_equal(mxc_store_close(s), 0);
	drop_store(dir);
}

/* ------------------------------------------------------------------------ */
/* The bench: MXC_PARQUET_BENCH_ROWS synthetic domain rows                  */

static void test_bench(void **state)
{
	const char *env = getenv("MXC_PARQUET_BENCH_ROWS"), *out = getenv("MXC_PARQUET_BENCH_OUT");
	static const char *const verdicts[] = { "ok", "none", "all", "some", "n-a", "valid" };
	const struct mxc_export_col *ec;
	struct mxc_parquet_col pc[64];
	struct mxc_parquet *w;
	struct timespec t0, t1;
	struct rusage ru;
	uint64_t n = 0, rows;
	size_t ncols;
	FILE *f;
	char dom[64], mx[128], when[21];
	const char *val[64];

	(void)state;
	if (!env || mxc_parse_u64(env, 1, UINT64_MAX, &n) != 0)
		skip();
	ec = mxc_export_columns(MXC_EXPORT_DOMAINS, &ncols);
	for (size_t i = 0; i < ncols; i++) {
		pc[i].name = ec[i].name;
		pc[i].type = ec[i].number ? MXC_PARQUET_INT64 : MXC_PARQUET_STRING;
	}
	f = fopen(out ? out : "/dev/null", "wb");
	assert_non_null(f);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mxc_parquet_open(&w, f, pc, ncols, NULL), 0);
	for (uint64_t i = 0; i < n; i++) {
		/* Names in key order, verdicts and MX hosts with the repetition
		 * of a real zone, timestamps advancing. */
		snprintf(dom, sizeof(dom), "d%09llu.example", (unsigned long long)i);
		snprintf(mx, sizeof(mx), "10:mx%llu.provider%llu.example;20:mx.backup.example",
			 (unsigned long long)(i % 7), (unsigned long long)(i % 500));
		mxc_rfc3339(1700000000 + (int64_t)(i / 1000), when);
		for (size_t c = 0; c < ncols; c++)
			val[c] = c % 3 == 2 ? NULL : verdicts[(i + c) % MXC_ARRAY_SIZE(verdicts)];
		val[0] = dom;
		val[1] = "example";
		val[2] = "run-1";
		val[3] = when;
		val[5] = mx;
		assert_int_equal(mxc_parquet_row(w, val), 0);
	}
	assert_int_equal(mxc_parquet_close(w, &rows), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fseek(f, 0, SEEK_END);
	getrusage(RUSAGE_SELF, &ru);
	print_message("bench: %llu rows, %d columns, %.2f s, %ld bytes, peak RSS %ld KiB\n",
		      (unsigned long long)rows, (int)ncols,
		      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		      ftell(f), ru.ru_maxrss);
	fclose(f);
}

/* ------------------------------------------------------------------------ */

/* test_parquet --export DB domains|hosts FILE: mxc_export() to Parquet. */
static int export_mode(int argc, char **argv)
{
	enum mxc_export_what what;
	struct mxc_store *s;
	char err[256];
	uint64_t rows = 0;
	FILE *f;
	int r;

	if (argc != 5 || mxc_export_what_parse(argv[3], &what) != 0) {
		fprintf(stderr, "usage: %s --export DB domains|hosts FILE\n", argv[0]);
		return 2;
	}
	r = mxc_store_open(argv[2], MXC_STORE_RDONLY, 0, &s, err, sizeof(err));
	if (r) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 1;
	}
	f = fopen(argv[4], "wb");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[4], strerror(errno));
		mxc_store_close(s);
		return 1;
	}
	r = mxc_export(s, what, MXC_EXPORT_PARQUET, f, &rows);
	if (fclose(f) != 0 && !r)
		r = MXC_EIO;
	mxc_store_close(s);
	if (r) {
		fprintf(stderr, "%s: export failed: %s\n", argv[0], mxc_strerror(r));
		return 1;
	}
	fprintf(stderr, "exported %llu rows\n", (unsigned long long)rows);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint),
		cmocka_unit_test(test_thrift_fields),
		cmocka_unit_test(test_thrift_errors),
		cmocka_unit_test(test_awkward_values),
		cmocka_unit_test(test_row_groups_and_pages),
		cmocka_unit_test(test_definition_levels),
		cmocka_unit_test(test_byte_budget),
		cmocka_unit_test(test_no_rows),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_bench),
	};

	if (argc > 1 && strcmp(argv[1], "--export") == 0)
		return export_mode(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
