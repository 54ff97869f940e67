/**
 * \file
 * Unit tests for --shard K/N: parsing and its limits, and the contract that
 * the shards of one input are disjoint and together cover it, checked on
 * 10,000 generated names for several N. The hash is pinned to FNV-1a 64 with
 * its published test vectors, because changing it would silently break
 * shards computed by an older version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "scanner/input.h"

static void test_parse_ok(void **state)
{
	struct mxc_shard sh;

	(void)state;
	assert_int_equal(mxc_shard_parse("0/1", &sh), 0);
	assert_int_equal(sh.k, 0);
	assert_int_equal(sh.n, 1);
	assert_int_equal(mxc_shard_parse("2/3", &sh), 0);
	assert_int_equal(sh.k, 2);
	assert_int_equal(sh.n, 3);
	assert_int_equal(mxc_shard_parse("65535/65536", &sh), 0);
	assert_int_equal(sh.k, 65535);
	assert_int_equal(sh.n, 65536);
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"3/3", "4/3", "0/0", "1/0", "0/65537", "-1/3", "1/-3", "a/3", "1/b",
		"1/", "/3", "1", "", "1/3x", " 1/3", "1/3 ", "1/+3", "+1/3", "1//3",
		"1/3/5", "99999999999999999999/3", "1/99999999999999999999",
	};
	struct mxc_shard sh = { 7, 9 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mxc_shard_parse(bad[i], &sh) != MXC_EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	}
	assert_int_equal(mxc_shard_parse(NULL, &sh), MXC_EINVAL);
	/* a failed parse leaves the output alone */
	assert_int_equal(sh.k, 7);
	assert_int_equal(sh.n, 9);
}

static void test_no_sharding(void **state)
{
	struct mxc_shard none = { 0, 0 };

	(void)state;
	assert_true(mxc_shard_match(&none, "example.com"));
	assert_true(mxc_shard_match(NULL, "example.com"));
}

/*
 * The contract: shard = FNV-1a-64(name) mod N. Published FNV-1a 64 vectors:
 * "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c, "foobar" -> 85944171f73967e8.
 */
static void test_hash_pinned(void **state)
{
	static const struct {
		const char *s;
		uint64_t h;
	} vec[] = {
		{ "", 0xcbf29ce484222325ULL },
		{ "a", 0xaf63dc4c8601ec8cULL },
		{ "foobar", 0x85944171f73967e8ULL },
	};
	static const uint32_t ns[] = { 2, 3, 7, 1000, 65536 };

	(void)state;
	for (size_t v = 0; v < sizeof(vec) / sizeof(vec[0]); v++) {
		for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++) {
			uint32_t want = (uint32_t)(vec[v].h % ns[j]);
			struct mxc_shard yes = { want, ns[j] };
			struct mxc_shard no = { (want + 1) % ns[j], ns[j] };

			assert_true(mxc_shard_match(&yes, vec[v].s));
			assert_false(mxc_shard_match(&no, vec[v].s));
		}
	}
}

#define NAMES 10000

static void test_partition(void **state)
{
	static const uint32_t ns[] = { 1, 3, 7 };
	static char names[NAMES][32];

	(void)state;
	for (int i = 0; i < NAMES; i++)
		snprintf(names[i], sizeof(names[i]), "dom%d.example%d.com", i * 7919, i % 13);
	for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++) {
		uint32_t n = ns[j];
		unsigned count[7] = { 0 };
		unsigned covered = 0;

		for (int i = 0; i < NAMES; i++) {
			unsigned hits = 0;

			for (uint32_t k = 0; k < n; k++) {
				struct mxc_shard sh = { k, n };

				if (mxc_shard_match(&sh, names[i])) {
					hits++;
					count[k]++;
				}
			}
			/* in exactly one shard: disjoint and covering */
			if (hits != 1)
				fail_msg("%s is in %u of %u shards", names[i], hits, n);
			covered++;
		}
		assert_int_equal(covered, NAMES);
		/* the union has every name: the counts add up to the input */
		unsigned sum = 0;

		for (uint32_t k = 0; k < n; k++) {
			sum += count[k];
			/* and the split is roughly even (within 15%) */
			if (count[k] < NAMES / n * 85 / 100 || count[k] > NAMES / n * 115 / 100)
				fail_msg("shard %u/%u has %u of %d names", k, n, count[k], NAMES);
		}
		assert_int_equal(sum, NAMES);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_no_sharding),
		cmocka_unit_test(test_hash_pinned),
		cmocka_unit_test(test_partition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
