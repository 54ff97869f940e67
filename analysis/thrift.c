/**
 * \file
 * The Thrift compact protocol encoder (see thrift.h), written from the
 * protocol's specification (Apache Thrift, "Thrift Compact protocol
 * encoding"):
 *
 * - Integers (i16, i32, i64) are zigzag-mapped, so small negative numbers
 *   stay short, then written as ULEB128 varints. An i8 is one raw byte.
 * - A field header is one byte, (id delta << 4) | type, when the id is 1 to
 *   15 above the previous field's id in the same struct; otherwise the type
 *   byte alone followed by the id as a zigzag varint. A bool field carries its
 *   value in the header's type (1 true, 2 false) and has no body.
 * - Binary and strings are a varint length and the bytes.
 * - A list header is (size << 4) | element type for fewer than 15 elements,
 *   else 0xf0 | element type followed by the size as a varint.
 * - A struct is its fields, then a stop byte 0. Every struct starts counting
 *   field ids from 0 again, which is why the encoder keeps a stack.
 *
 * The first error sticks in the encoder and makes every later call a no-op:
 * a half-written struct is never mistaken for a whole one, because the
 * caller always checks mxc_thrift_error before using the bytes.
 */
#include "analysis/thrift.h"

#include <string.h>

#include "common/error.h"

void mxc_thrift_init(struct mxc_thrift *t, struct mxc_buf *out)
{
	memset(t, 0, sizeof(*t));
	t->out = out;
}

int mxc_thrift_error(const struct mxc_thrift *t)
{
	return t->err;
}

int mxc_thrift_varint(struct mxc_buf *b, uint64_t v)
{
	uint8_t x[10];
	size_t n = 0;

	while (v >= 0x80) {
		x[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	x[n++] = (uint8_t)v;
	return mxc_buf_append(b, x, n);
}

static uint64_t zigzag(int64_t v)
{
	/* The shift of the sign is done on the unsigned value: no UB. */
	return ((uint64_t)v << 1) ^ (uint64_t)(v < 0 ? -1 : 0);
}

static void put_varint(struct mxc_thrift *t, uint64_t v)
{
	if (!t->err)
		t->err = mxc_thrift_varint(t->out, v);
}

static void put_byte(struct mxc_thrift *t, uint8_t v)
{
	if (!t->err)
		t->err = mxc_buf_append_u8(t->out, v);
}

static void put_bytes(struct mxc_thrift *t, const void *data, size_t len)
{
	if (!t->err)
		t->err = mxc_buf_append(t->out, data, len);
}

/* A field header of the current struct; the struct remembers the id. */
static void field(struct mxc_thrift *t, int16_t id, enum mxc_thrift_type type)
{
	int delta;

	if (t->err)
		return;
	if (t->depth == 0 || id <= 0) {
		t->err = MXC_EINVAL;
		return;
	}
	delta = id - t->last[t->depth];
	if (delta > 0 && delta <= 15) {
		put_byte(t, (uint8_t)(delta << 4 | type));
	} else {
		put_byte(t, (uint8_t)type);
		put_varint(t, zigzag(id));
	}
	t->last[t->depth] = id;
}

static void push(struct mxc_thrift *t)
{
	if (t->err)
		return;
	if (t->depth >= MXC_THRIFT_DEPTH) {
		t->err = MXC_EINVAL;
		return;
	}
	t->last[++t->depth] = 0;
}

void mxc_thrift_struct_begin(struct mxc_thrift *t)
{
	push(t);
}

void mxc_thrift_field_struct(struct mxc_thrift *t, int16_t id)
{
	field(t, id, MXC_THRIFT_STRUCT);
	push(t);
}

void mxc_thrift_struct_end(struct mxc_thrift *t)
{
	if (t->err)
		return;
	if (t->depth == 0) {
		t->err = MXC_EINVAL;
		return;
	}
	put_byte(t, 0);
	t->depth--;
}

void mxc_thrift_field_list(struct mxc_thrift *t, int16_t id, enum mxc_thrift_type elem,
			   uint32_t n)
{
	field(t, id, MXC_THRIFT_LIST);
	if (n < 15) {
		put_byte(t, (uint8_t)(n << 4 | elem));
	} else {
		put_byte(t, (uint8_t)(0xf0 | elem));
		put_varint(t, n);
	}
}

void mxc_thrift_field_bool(struct mxc_thrift *t, int16_t id, bool v)
{
	field(t, id, v ? MXC_THRIFT_BOOL_TRUE : MXC_THRIFT_BOOL_FALSE);
}

void mxc_thrift_field_i8(struct mxc_thrift *t, int16_t id, int8_t v)
{
	field(t, id, MXC_THRIFT_I8);
	put_byte(t, (uint8_t)v);
}

void mxc_thrift_field_i32(struct mxc_thrift *t, int16_t id, int32_t v)
{
	field(t, id, MXC_THRIFT_I32);
	put_varint(t, zigzag(v));
}

void mxc_thrift_field_i64(struct mxc_thrift *t, int16_t id, int64_t v)
{
	field(t, id, MXC_THRIFT_I64);
	put_varint(t, zigzag(v));
}

void mxc_thrift_field_binary(struct mxc_thrift *t, int16_t id, const void *data, size_t len)
{
	field(t, id, MXC_THRIFT_BINARY);
	mxc_thrift_binary(t, data, len);
}

void mxc_thrift_field_string(struct mxc_thrift *t, int16_t id, const char *s)
{
	mxc_thrift_field_binary(t, id, s, strlen(s));
}

void mxc_thrift_i32(struct mxc_thrift *t, int32_t v)
{
	put_varint(t, zigzag(v));
}

void mxc_thrift_binary(struct mxc_thrift *t, const void *data, size_t len)
{
	put_varint(t, len);
	put_bytes(t, data, len);
}
