/**
 * \file
 * Encoding of the probes' results for the store (see probe_rec.h).
 *
 * The SMTP result is a fixed-size struct of numbers and bounded strings, so
 * it is described once by a table of its fields (tag, kind, offset, size)
 * that drives both directions: adding a fact to the probe is one line here.
 * Decoding never allocates: strings are copied into the struct's arrays and
 * must fit with their terminating NUL; numbers must have their exact width.
 */
#include "probes/probe_rec.h"

#include <stddef.h>
#include <string.h>

#include "common/error.h"

#define REC_VERSION 1
#define FIELD_HDR 5 /* u8 tag, u32 length */

enum kind { K_STR, K_U8, K_U16, K_U32, K_U64, K_I32, K_ENUM };

struct field {
	uint8_t tag;
	uint8_t kind;
	size_t off;
	size_t size; /* of the member: the array size for K_STR */
};

#define F_STR(t, m) { t, K_STR, offsetof(struct mxc_smtp_result, m), \
		      sizeof(((struct mxc_smtp_result *)0)->m) }
#define F_NUM(t, k, m) { t, k, offsetof(struct mxc_smtp_result, m), \
			 sizeof(((struct mxc_smtp_result *)0)->m) }

/* Tags are forever: never renumber, only add. */
static const struct field smtp_fields[] = {
	F_STR(1, mx_host),
	F_STR(2, ip),
	F_NUM(3, K_U16, port),
	F_NUM(4, K_ENUM, status),
	F_STR(5, detail),
	F_STR(6, banner),
	F_NUM(7, K_I32, banner_code),
	F_NUM(8, K_I32, starttls_offered),
	F_NUM(9, K_U32, ehlo_ext),
	F_NUM(10, K_U32, stripping),
	F_STR(11, stripped_keyword),
	F_STR(12, tls_version),
	F_STR(13, cipher),
	F_STR(14, cert_sha256),
	F_STR(15, spki_sha256),
	F_STR(16, issuer),
	F_STR(17, not_before),
	F_STR(18, not_after),
	F_STR(19, cert_names),
	F_NUM(20, K_I32, chain_valid),
	F_NUM(21, K_I32, name_valid),
	F_NUM(22, K_I32, pkix_valid),
	F_STR(23, pkix_error),
	F_STR(24, tlsa_records),
	F_NUM(25, K_I32, tlsa_dnssec),
	F_NUM(26, K_ENUM, dane),
	F_STR(27, dane_detail),
	F_NUM(28, K_U64, probed_at),
	F_NUM(29, K_U64, elapsed_ms),
	F_NUM(30, K_U64, bytes_in),
};

static int put_field(struct mxc_buf *out, uint8_t tag, const void *v, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return MXC_ETOOBIG;
	r = mxc_buf_append_u8(out, tag);
	if (!r)
		r = mxc_buf_append_u32(out, (uint32_t)n);
	if (!r && n)
		r = mxc_buf_append(out, v, n);
	return r;
}

static int put_num(struct mxc_buf *out, uint8_t tag, uint64_t v, size_t width)
{
	uint8_t b[8];

	for (size_t i = 0; i < width; i++)
		b[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
	return put_field(out, tag, b, width);
}

static uint64_t get_num(const uint8_t *p, size_t width)
{
	uint64_t v = 0;

	for (size_t i = 0; i < width; i++)
		v = v << 8 | p[i];
	return v;
}

/* Bytes a number of this kind takes on the wire. */
static size_t width_of(uint8_t kind)
{
	switch (kind) {
	case K_U8:
		return 1;
	case K_U16:
		return 2;
	case K_U32:
	case K_I32:
	case K_ENUM:
		return 4;
	default:
		return 8;
	}
}

static uint64_t load(const void *base, const struct field *f)
{
	const char *p = (const char *)base + f->off;

	switch (f->kind) {
	case K_U8: {
		uint8_t v;

		memcpy(&v, p, 1);
		return v;
	}
	case K_U16: {
		uint16_t v;

		memcpy(&v, p, 2);
		return v;
	}
	case K_U32: {
		uint32_t v;

		memcpy(&v, p, 4);
		return v;
	}
	case K_I32:
	case K_ENUM: {
		int v; /* enums are int-sized in C */

		memcpy(&v, p, sizeof(v));
		return (uint32_t)v;
	}
	default: {
		uint64_t v;

		memcpy(&v, p, 8);
		return v;
	}
	}
}

static void store(void *base, const struct field *f, uint64_t v)
{
	char *p = (char *)base + f->off;

	switch (f->kind) {
	case K_U8: {
		uint8_t x = (uint8_t)v;

		memcpy(p, &x, 1);
		break;
	}
	case K_U16: {
		uint16_t x = (uint16_t)v;

		memcpy(p, &x, 2);
		break;
	}
	case K_U32: {
		uint32_t x = (uint32_t)v;

		memcpy(p, &x, 4);
		break;
	}
	case K_I32:
	case K_ENUM: {
		int x = (int)(int32_t)(uint32_t)v;

		memcpy(p, &x, sizeof(x));
		break;
	}
	default:
		memcpy(p, &v, 8);
		break;
	}
}

_Static_assert(sizeof(enum mxc_smtp_status) == sizeof(int) &&
		       sizeof(enum mxc_dane_result) == sizeof(int),
	       "enums are stored as int");

int mxc_smtp_rec_encode(const struct mxc_smtp_result *r, struct mxc_buf *out)
{
	size_t mark = out->len;
	int e = mxc_buf_append_u8(out, REC_VERSION);

	for (size_t i = 0; !e && i < sizeof(smtp_fields) / sizeof(smtp_fields[0]); i++) {
		const struct field *f = &smtp_fields[i];

		if (f->kind == K_STR) {
			const char *s = (const char *)r + f->off;
			size_t n = strnlen(s, f->size);

			if (n == f->size)
				e = MXC_EINVAL; /* not terminated: not ours to guess */
			else if (n)
				e = put_field(out, f->tag, s, n);
		} else {
			uint64_t v = load(r, f);

			if (v)
				e = put_num(out, f->tag, v, width_of(f->kind));
		}
	}
	if (e)
		out->len = mark;
	return e;
}

/* Walk the fields of @p data; cb returns 0 or an error. */
static int walk(const uint8_t *data, size_t len,
		int (*cb)(void *arg, uint8_t tag, const uint8_t *v, size_t n), void *arg)
{
	size_t p = 1;

	if (len < 1)
		return MXC_ECORRUPT;
	if (data[0] != REC_VERSION)
		return data[0] > REC_VERSION ? MXC_ESCHEMA : MXC_ECORRUPT;
	while (p < len) {
		size_t n;
		int r;

		if (len - p < FIELD_HDR)
			return MXC_ECORRUPT;
		n = (size_t)get_num(data + p + 1, 4);
		if (n > len - p - FIELD_HDR)
			return MXC_ECORRUPT;
		r = cb(arg, data[p], data + p + FIELD_HDR, n);
		if (r)
			return r;
		p += FIELD_HDR + n;
	}
	return 0;
}

static int smtp_field(void *arg, uint8_t tag, const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < sizeof(smtp_fields) / sizeof(smtp_fields[0]); i++) {
		const struct field *f = &smtp_fields[i];

		if (f->tag != tag)
			continue;
		if (f->kind == K_STR) {
			char *s = (char *)arg + f->off;

			if (n >= f->size || memchr(v, 0, n))
				return MXC_ECORRUPT;
			/* The whole field: a repeated tag leaves no trace of the first. */
			memset(s, 0, f->size);
			memcpy(s, v, n);
		} else {
			if (n != width_of(f->kind))
				return MXC_ECORRUPT;
			store(arg, f, get_num(v, n));
		}
		return 0;
	}
	return 0; /* a field from a newer writer */
}

int mxc_smtp_rec_decode(const uint8_t *data, size_t len, struct mxc_smtp_result *out)
{
	memset(out, 0, sizeof(*out));
	return walk(data, len, smtp_field, out);
}

enum sts_tag {
	ST_ERROR = 1, ST_HTTP = 2, ST_DETAIL = 3, ST_ELAPSED = 4, ST_AT = 5, ST_BODY = 6,
};

int mxc_sts_rec_encode(const struct mxc_sts_rec *r, struct mxc_buf *out)
{
	size_t mark = out->len;
	size_t dl = strnlen(r->detail, sizeof(r->detail));
	int e = mxc_buf_append_u8(out, REC_VERSION);

	if (!e)
		e = put_num(out, ST_ERROR, r->error, 1);
	if (!e && r->http_code)
		e = put_num(out, ST_HTTP, r->http_code, 2);
	if (!e && dl == sizeof(r->detail))
		e = MXC_EINVAL;
	if (!e && dl)
		e = put_field(out, ST_DETAIL, r->detail, dl);
	if (!e)
		e = put_num(out, ST_ELAPSED, r->elapsed_ms, 8);
	if (!e)
		e = put_num(out, ST_AT, (uint64_t)r->fetched_at, 8);
	if (!e && r->body)
		e = put_field(out, ST_BODY, r->body, r->body_len);
	if (e)
		out->len = mark;
	return e;
}

static int sts_field(void *arg, uint8_t tag, const uint8_t *v, size_t n)
{
	struct mxc_sts_rec *r = arg;

	switch (tag) {
	case ST_ERROR:
		if (n != 1)
			return MXC_ECORRUPT;
		r->error = v[0];
		break;
	case ST_HTTP:
		if (n != 2)
			return MXC_ECORRUPT;
		r->http_code = (uint16_t)get_num(v, 2);
		break;
	case ST_DETAIL:
		if (n >= sizeof(r->detail) || memchr(v, 0, n))
			return MXC_ECORRUPT;
		memset(r->detail, 0, sizeof(r->detail));
		memcpy(r->detail, v, n);
		break;
	case ST_ELAPSED:
	case ST_AT:
		if (n != 8)
			return MXC_ECORRUPT;
		if (tag == ST_ELAPSED)
			r->elapsed_ms = get_num(v, 8);
		else
			r->fetched_at = (int64_t)get_num(v, 8);
		break;
	case ST_BODY:
		r->body = v;
		r->body_len = n;
		break;
	default:
		break;
	}
	return 0;
}

int mxc_sts_rec_decode(const uint8_t *data, size_t len, struct mxc_sts_rec *out)
{
	memset(out, 0, sizeof(*out));
	return walk(data, len, sts_field, out);
}
