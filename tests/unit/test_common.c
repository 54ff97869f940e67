/**
 * \file
 * Unit tests for common/: error messages, number parsing, the bounded
 * buffer, RFC 3339 formatting and the stable hash (whose values are part of
 * the --shard contract and must never change).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

static void test_errors(void **state)
{
	assert_string_equal(mxc_strerror(MXC_ENOMEM), "out of memory");
	assert_string_equal(mxc_errname(MXC_EPARSE), "EPARSE");
	assert_string_equal(mxc_strerror(-ENOENT), strerror(ENOENT));
	assert_string_equal(mxc_strerror(0), "success");
	assert_true(MXC_EINVAL < -MXC__EBASE);
}

static void test_parse_u64(void **state)
{
	uint64_t v = 0;

	assert_int_equal(mxc_parse_u64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(mxc_parse_u64("101", 0, 100, &v), MXC_EINVAL);
	assert_int_equal(mxc_parse_u64("-1", 0, 100, &v), MXC_EINVAL);
	assert_int_equal(mxc_parse_u64("4x", 0, 100, &v), MXC_EINVAL);
	assert_int_equal(mxc_parse_u64("", 0, 100, &v), MXC_EINVAL);
	assert_int_equal(mxc_parse_u64(" 4", 0, 100, &v), MXC_EINVAL);
	assert_int_equal(mxc_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), MXC_EINVAL);
	assert_int_equal(mxc_parse_u64("0", 1, 100, &v), MXC_EINVAL);
}

static void test_buf(void **state)
{
	struct mxc_buf b;

	mxc_buf_init(&b, 10);
	assert_int_equal(mxc_buf_append_u32(&b, 0x01020304), 0);
	assert_int_equal(mxc_buf_append_u16(&b, 0x0506), 0);
	assert_int_equal(mxc_buf_append(&b, "abcd", 4), 0);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "\x01\x02\x03\x04\x05\x06" "abcd", 10);
	assert_int_equal(mxc_buf_append_u8(&b, 1), MXC_ETOOBIG);
	assert_int_equal(b.len, 10);
	mxc_buf_reset(&b);
	assert_int_equal(b.len, 0);
	mxc_alloc_fail_after(0);
	mxc_buf_free(&b);
	assert_int_equal(mxc_buf_append(&b, "x", 1), MXC_ENOMEM);
	mxc_alloc_fail_after(-1);
	assert_int_equal(mxc_buf_append_u64(&b, 0x0102030405060708ULL), 0);
	assert_memory_equal(b.data, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	mxc_buf_free(&b);
}

static void test_rfc3339_and_hash(void **state)
{
	char ts[21];

	mxc_rfc3339(0, ts);
	assert_string_equal(ts, "1970-01-01T00:00:00Z");
	mxc_rfc3339(1795924562, ts);
	assert_string_equal(ts, "2026-11-29T03:56:02Z");
	/* FNV-1a test vectors: changing the hash would reshuffle every shard. */
	assert_true(mxc_hash64("", 0) == 0xcbf29ce484222325ULL);
	assert_true(mxc_hash64("a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(mxc_hash64("foobar", 6) == 0x85944171f73967e8ULL);
}

static void test_utf8_seq(void **state)
{
	static const struct {
		const char *bytes;
		size_t avail;
		size_t want;
	} t[] = {
		{ "a", 1, 0 },                     /* ASCII is not a sequence */
		{ "\xc3\xa9", 2, 2 },             /* U+00E9 */
		{ "\xc3\xa9", 1, 0 },             /* cut short */
		{ "\xc0\xaf", 2, 0 },             /* overlong '/' */
		{ "\xe0\x80\xaf", 3, 0 },         /* overlong, 3 bytes */
		{ "\xe2\x82\xac", 3, 3 },         /* U+20AC */
		{ "\xed\xa0\x80", 3, 0 },         /* a surrogate */
		{ "\xf0\x9f\x98\x80", 4, 4 },     /* U+1F600 */
		{ "\xf0\x8f\xbf\xbf", 4, 0 },     /* overlong, 4 bytes */
		{ "\xf4\x90\x80\x80", 4, 0 },     /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, 0 },     /* no such lead byte */
		{ "\xe2\x82", SIZE_MAX, 0 },       /* the NUL ends it */
		{ "\xe2\x82\xac", SIZE_MAX, 3 },  /* NUL-terminated use */
		{ "\xc3\xa9", 0, 0 },             /* nothing left */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(mxc_utf8_seq((const uint8_t *)t[i].bytes, t[i].avail), t[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_rfc3339_and_hash),
		cmocka_unit_test(test_utf8_seq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
