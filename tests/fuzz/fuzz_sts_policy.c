/**
 * \file
 * Fuzz target for the MTA-STS policy parser and MX matcher
 * (probes/sts_policy.c).
 *
 * Besides the memory errors the sanitizers catch, the target aborts when a
 * documented property fails: the parser returns only its documented codes;
 * a valid policy has a real mode, max_age within 0..31557600, at most
 * MXC_STS_MAX_MX patterns that each pass the pattern syntax check, and mx
 * patterns unless the mode is none; an invalid policy carries no values and
 * a line number within the input. Each kept pattern must match a host made
 * from it (the wildcard label replaced). The matcher also runs on the input
 * split in two, where its answer must not change when the pattern is
 * upper-cased (matching is case-insensitive).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "probes/sts_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                            \
	do {                                                                \
		if (!(x)) {                                                 \
			fprintf(stderr, "property failed: %s\n", #x);       \
			abort();                                            \
		}                                                           \
	} while (0)

static unsigned count_lines(const uint8_t *data, size_t size)
{
	unsigned n = size ? 1 : 0;
	size_t i;

	for (i = 0; i < size; i++)
		if (data[i] == '\n' && i + 1 < size)
			n++;
	return n;
}

static void check_valid(const struct mxc_sts_policy *p)
{
	char host[MXC_STS_MX_LEN + 8];
	size_t i, len;

	CHECK(p->line == 0);
	CHECK(p->mode == MXC_STS_MODE_ENFORCE || p->mode == MXC_STS_MODE_TESTING ||
	      p->mode == MXC_STS_MODE_NONE);
	CHECK(p->max_age <= MXC_STS_MAX_AGE_MAX);
	CHECK(p->n_mx <= MXC_STS_MAX_MX);
	CHECK(p->n_mx > 0 || p->mode == MXC_STS_MODE_NONE);
	for (i = 0; i < p->n_mx; i++) {
		len = strnlen(p->mx[i], sizeof(p->mx[i]));
		CHECK(len > 0 && len <= MXC_STS_MX_LEN);
		CHECK(mxc_sts_mx_pattern_valid(p->mx[i], len));
		if (p->mx[i][0] == '*') {
			host[0] = 'x';
			memcpy(host + 1, p->mx[i] + 1, len); /* with the NUL */
		} else {
			memcpy(host, p->mx[i], len + 1);
		}
		CHECK(mxc_sts_mx_matches(p->mx[i], host));
		if (p->mx[i][0] == '*')
			CHECK(!mxc_sts_mx_matches(p->mx[i], p->mx[i] + 2));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mxc_sts_policy p;
	char *a, *b;
	size_t half, i;
	bool m;
	int r;

	r = mxc_sts_policy_parse(data, size, &p);
	if (size > MXC_STS_POLICY_MAX) {
		CHECK(r == MXC_ETOOBIG);
		return 0;
	}
	CHECK(r == 0);
	if (p.error == MXC_STS_OK) {
		check_valid(&p);
	} else {
		CHECK(strcmp(mxc_sts_perr_name(p.error), "?") != 0);
		CHECK(p.mode == MXC_STS_MODE_UNSET && p.max_age == 0 && p.n_mx == 0);
		CHECK(p.line <= count_lines(data, size));
	}

	/* The matcher on arbitrary NUL-terminated strings: no crash, and the
	 * same answer for an upper-cased pattern. */
	half = size / 2;
	a = mxc_malloc(half + 1);
	b = mxc_malloc(size - half + 1);
	if (!a || !b) {
		mxc_free(a);
		mxc_free(b);
		return 0;
	}
	memcpy(a, data, half);
	a[half] = '\0';
	memcpy(b, data + half, size - half);
	b[size - half] = '\0';
	m = mxc_sts_mx_matches(a, b);
	for (i = 0; i < half; i++)
		if (a[i] >= 'a' && a[i] <= 'z')
			a[i] = (char)(a[i] - 32);
	CHECK(mxc_sts_mx_matches(a, b) == m);
	(void)mxc_sts_mx_pattern_valid(a, strlen(a));
	mxc_free(a);
	mxc_free(b);
	return 0;
}
