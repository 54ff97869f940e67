/**
 * \file
 * Unit tests for the string map: insert, replace, delete, tombstone reuse,
 * growth, and a randomized comparison against a reference array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/strmap.h"

static void test_basic(void **state)
{
	struct mxc_strmap m;
	int a = 1, b = 2, c = 3;

	mxc_strmap_init(&m);
	assert_null(mxc_strmap_get(&m, "x"));
	assert_null(mxc_strmap_del(&m, "x"));
	assert_int_equal(mxc_strmap_put(&m, "x", &a), 0);
	assert_int_equal(mxc_strmap_put(&m, "y", &b), 0);
	assert_ptr_equal(mxc_strmap_get(&m, "x"), &a);
	assert_ptr_equal(mxc_strmap_get(&m, "y"), &b);
	assert_int_equal(m.count, 2);
	assert_int_equal(mxc_strmap_put(&m, "x", &c), 0);
	assert_ptr_equal(mxc_strmap_get(&m, "x"), &c);
	assert_int_equal(m.count, 2);
	assert_ptr_equal(mxc_strmap_del(&m, "x"), &c);
	assert_null(mxc_strmap_get(&m, "x"));
	assert_ptr_equal(mxc_strmap_get(&m, "y"), &b);
	assert_int_equal(m.count, 1);
	mxc_strmap_free(&m);
}

#define N 5000

static void test_many_and_churn(void **state)
{
	static char keys[N][16];
	static int present[N];
	struct mxc_strmap m;
	uint64_t x = 88172645463325252ULL;

	mxc_strmap_init(&m);
	for (int i = 0; i < N; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%d.example", i);
	/* Random puts and deletes; the map must agree with the reference. */
	for (int step = 0; step < 200000; step++) {
		int i;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = (int)(x % N);
		if (present[i]) {
			assert_ptr_equal(mxc_strmap_del(&m, keys[i]), keys[i]);
			present[i] = 0;
		} else {
			assert_int_equal(mxc_strmap_put(&m, keys[i], keys[i]), 0);
			present[i] = 1;
		}
	}
	size_t live = 0;

	for (int i = 0; i < N; i++) {
		live += present[i];
		if (present[i])
			assert_ptr_equal(mxc_strmap_get(&m, keys[i]), keys[i]);
		else
			assert_null(mxc_strmap_get(&m, keys[i]));
	}
	assert_int_equal(m.count, live);
	/* Tombstones must not make the table grow without bound. */
	assert_true(m.cap <= 4 * 16384);
	mxc_strmap_free(&m);
}

static void test_enomem(void **state)
{
	struct mxc_strmap m;

	mxc_strmap_init(&m);
	mxc_alloc_fail_after(0);
	assert_int_equal(mxc_strmap_put(&m, "x", &m), MXC_ENOMEM);
	mxc_alloc_fail_after(-1);
	assert_null(mxc_strmap_get(&m, "x"));
	assert_int_equal(mxc_strmap_put(&m, "x", &m), 0);
	assert_ptr_equal(mxc_strmap_get(&m, "x"), &m);
	mxc_strmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_many_and_churn),
		cmocka_unit_test(test_enomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
