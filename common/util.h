/**
 * \file
 * Small helpers every stage uses: a stable hash, clocks and time formatting,
 * a bounded growable byte buffer, safe number parsing.
 */
#ifndef MXC_COMMON_UTIL_H
#define MXC_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MXC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define mxc_container_of(ptr, type, member)                                 \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/**
 * FNV-1a, 64 bit. Stable across runs, machines and versions: --shard depends
 * on it, so it must never change.
 */
uint64_t mxc_hash64(const void *data, size_t len);

/**
 * The murmur3 64-bit finaliser: spreads every input bit over the whole
 * word, which FNV alone does poorly for short keys (hash tables and
 * filters index by its low or high bits).
 */
static inline uint64_t mxc_hash_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/** Monotonic clock in milliseconds. */
uint64_t mxc_now_ms(void);

/** Wall clock, seconds since the epoch. */
int64_t mxc_wall_time(void);

/**
 * Format a UNIX time as RFC 3339 UTC ("2026-11-29T04:56:02Z").
 * @param buf at least 21 bytes
 */
void mxc_rfc3339(int64_t t, char buf[21]);

/**
 * Parse a whole string as an unsigned decimal number in [min, max].
 * @return 0, or MXC_EINVAL for anything else (sign, junk, overflow, range)
 */
int mxc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/** Fill @p buf with @p len unpredictable bytes (getrandom). */
void mxc_random_bytes(void *buf, size_t len);

/**
 * A growable byte buffer with a hard cap fixed at init, for anything a peer
 * or an input file fills.
 */
struct mxc_buf {
	uint8_t *data; /**< owned; NULL until the first append */
	size_t len;    /**< bytes used */
	size_t cap;    /**< bytes allocated */
	size_t limit;  /**< appends beyond this many bytes fail with MXC_ETOOBIG */
};

void mxc_buf_init(struct mxc_buf *b, size_t limit);
/** @return 0, MXC_ENOMEM, or MXC_ETOOBIG (buffer unchanged then) */
int mxc_buf_append(struct mxc_buf *b, const void *data, size_t len);
int mxc_buf_append_slow_u8(struct mxc_buf *b, uint8_t v);
/* Records are encoded byte by byte: the common case (room left, and cap
 * never exceeds limit) costs a compare and a store. */
static inline int mxc_buf_append_u8(struct mxc_buf *b, uint8_t v)
{
	if (b->len < b->cap) {
		b->data[b->len++] = v;
		return 0;
	}
	return mxc_buf_append_slow_u8(b, v);
}
int mxc_buf_append_u16(struct mxc_buf *b, uint16_t v); /**< big-endian */
int mxc_buf_append_u32(struct mxc_buf *b, uint32_t v); /**< big-endian */
int mxc_buf_append_u64(struct mxc_buf *b, uint64_t v); /**< big-endian */
void mxc_buf_reset(struct mxc_buf *b);
void mxc_buf_free(struct mxc_buf *b);

/**
 * Length of the valid UTF-8 sequence at @p p, which has @p avail bytes left
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or 0
 * when there is none there. For a NUL-terminated string @p avail may be
 * SIZE_MAX: the terminator fails every continuation test, so nothing past
 * it is read.
 */
size_t mxc_utf8_seq(const uint8_t *p, size_t avail);

#endif
