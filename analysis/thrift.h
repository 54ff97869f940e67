/**
 * \file
 * A writer of the Thrift compact protocol, just large enough for the Parquet
 * footer and page headers: structs, lists, and fields of type bool, i8, i32,
 * i64 and binary.
 *
 * Parquet keeps its metadata (FileMetaData, PageHeader, ...) as Thrift
 * structs in the compact protocol. Nothing in Debian 12 writes that without
 * C++ and generated code, and the subset Parquet needs is small: varints,
 * zigzag integers, field headers that store the distance to the previous
 * field id, and list headers. The encoder appends to a bounded mxc_buf and
 * keeps the first error, so a caller can write a whole struct and check once
 * at the end (mxc_thrift_error) instead of after every field.
 */
#ifndef MXC_ANALYSIS_THRIFT_H
#define MXC_ANALYSIS_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/** Compact protocol type codes, as in field and list headers. */
enum mxc_thrift_type {
	MXC_THRIFT_BOOL_TRUE = 1, /**< in a field header: a bool that is true */
	MXC_THRIFT_BOOL_FALSE = 2,
	MXC_THRIFT_I8 = 3,
	MXC_THRIFT_I16 = 4,
	MXC_THRIFT_I32 = 5,
	MXC_THRIFT_I64 = 6,
	MXC_THRIFT_DOUBLE = 7,
	MXC_THRIFT_BINARY = 8,
	MXC_THRIFT_LIST = 9,
	MXC_THRIFT_SET = 10,
	MXC_THRIFT_MAP = 11,
	MXC_THRIFT_STRUCT = 12,
};

/** Structs nest at most this deep; Parquet's metadata needs 5. */
#define MXC_THRIFT_DEPTH 16

/**
 * One encoding in progress. Each open struct remembers the id of its last
 * field, because a field header stores the difference to it.
 */
struct mxc_thrift {
	struct mxc_buf *out;                /**< where the bytes go; not owned */
	int16_t last[MXC_THRIFT_DEPTH + 1]; /**< last field id per open struct */
	unsigned depth;                     /**< open structs; 0 = none */
	int err;                            /**< first error, 0 while none */
};

/**
 * Start encoding into @p out (appending to what it holds). The top level is
 * not inside a struct: open one with mxc_thrift_struct_begin.
 */
void mxc_thrift_init(struct mxc_thrift *t, struct mxc_buf *out);

/**
 * The first error of the encoding so far.
 * @return 0, MXC_ENOMEM or MXC_ETOOBIG (the buffer's limit), or MXC_EINVAL
 *         (structs unbalanced, nested too deep, a field id not above 0)
 */
int mxc_thrift_error(const struct mxc_thrift *t);

/**
 * Open a struct that is not a field: the top-level struct or an element of a
 * list of structs. Close it with mxc_thrift_struct_end.
 */
void mxc_thrift_struct_begin(struct mxc_thrift *t);

/** Open a struct that is field @p id of the current struct. */
void mxc_thrift_field_struct(struct mxc_thrift *t, int16_t id);

/** Close the innermost open struct (writes its stop byte). */
void mxc_thrift_struct_end(struct mxc_thrift *t);

/**
 * Field @p id holds a list of @p n elements of type @p elem; the caller then
 * writes exactly @p n elements (mxc_thrift_i32, mxc_thrift_binary, or a
 * struct between mxc_thrift_struct_begin and _end).
 */
void mxc_thrift_field_list(struct mxc_thrift *t, int16_t id, enum mxc_thrift_type elem,
			   uint32_t n);

/** Field @p id of the current struct, with its value. */
void mxc_thrift_field_bool(struct mxc_thrift *t, int16_t id, bool v);
void mxc_thrift_field_i8(struct mxc_thrift *t, int16_t id, int8_t v);
void mxc_thrift_field_i32(struct mxc_thrift *t, int16_t id, int32_t v);
void mxc_thrift_field_i64(struct mxc_thrift *t, int16_t id, int64_t v);
void mxc_thrift_field_binary(struct mxc_thrift *t, int16_t id, const void *data, size_t len);
/** A binary field holding @p s without its terminating NUL. */
void mxc_thrift_field_string(struct mxc_thrift *t, int16_t id, const char *s);

/** A bare value, for list elements: zigzag varint, or length and bytes. */
void mxc_thrift_i32(struct mxc_thrift *t, int32_t v);
void mxc_thrift_binary(struct mxc_thrift *t, const void *data, size_t len);

/**
 * Append @p v as an unsigned LEB128 varint (7 bits a byte, low bits first),
 * the integer form of the compact protocol and of Parquet's RLE headers.
 * @return 0, MXC_ENOMEM or MXC_ETOOBIG
 */
int mxc_thrift_varint(struct mxc_buf *b, uint64_t v);

#endif
