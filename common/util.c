/**
 * \file
 * Hash, clocks, number parsing and the bounded byte buffer.
 */
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"

uint64_t mxc_hash64(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t mxc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t mxc_wall_time(void)
{
	return (int64_t)time(NULL);
}

void mxc_rfc3339(int64_t t, char buf[21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int mxc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return MXC_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return MXC_EINVAL;
	*out = v;
	return 0;
}

void mxc_random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			mxc_require(errno == EINTR);
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
}

void mxc_buf_init(struct mxc_buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
}

int mxc_buf_append(struct mxc_buf *b, const void *data, size_t len)
{
	if (len > b->limit || b->len > b->limit - len)
		return MXC_ETOOBIG;
	if (b->len + len > b->cap) {
		size_t ncap = b->cap ? b->cap : 64;
		uint8_t *nd;

		while (ncap < b->len + len)
			ncap *= 2;
		if (ncap > b->limit)
			ncap = b->limit;
		nd = mxc_realloc(b->data, ncap);
		if (!nd)
			return MXC_ENOMEM;
		b->data = nd;
		b->cap = ncap;
	}
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int mxc_buf_append_slow_u8(struct mxc_buf *b, uint8_t v)
{
	return mxc_buf_append(b, &v, 1);
}

int mxc_buf_append_u16(struct mxc_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return mxc_buf_append(b, x, sizeof(x));
}

int mxc_buf_append_u32(struct mxc_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
			 (uint8_t)v };

	return mxc_buf_append(b, x, sizeof(x));
}

int mxc_buf_append_u64(struct mxc_buf *b, uint64_t v)
{
	int r = mxc_buf_append_u32(b, (uint32_t)(v >> 32));

	return r ? r : mxc_buf_append_u32(b, (uint32_t)v);
}

void mxc_buf_reset(struct mxc_buf *b)
{
	b->len = 0;
}

void mxc_buf_free(struct mxc_buf *b)
{
	mxc_free(b->data);
	mxc_buf_init(b, b->limit);
}

size_t mxc_utf8_seq(const uint8_t *p, size_t avail)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len;

	if (avail == 0)
		return 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (avail < len)
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}
