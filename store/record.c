/**
 * \file
 * Binary encoding of domain and host records.
 *
 * A record is a u16 schema version followed by tagged fields: u8 tag, u32
 * length, then that many bytes; integers are big-endian. An empty field with
 * tag 0 closes the record, so that a record cut short at a field boundary
 * (a torn copy, a short read) is detected rather than read as a record with
 * fewer fields. A list is written as
 * one field per element, so a reader needs no count and an older reader can
 * skip element kinds it does not know. The tags are listed in the two enums
 * below and in store/README.md; a tag number, once used, is never reused for
 * another meaning.
 *
 * Decoding treats the bytes as hostile (a damaged disk, a store from another
 * build, a fuzzer). It runs in two passes: the first checks every field and
 * sums what the record will need (list lengths, string and wire bytes), the
 * second copies the fields into one block allocated at the size the first
 * pass computed, so the caller frees the whole record with one mxc_free()
 * and no input can make the decoder write outside that block. The bounds are
 * the MXC_RECORD_* constants; the encoder refuses to exceed them so that
 * everything it writes decodes.
 */
#include "store/record.h"

#include <stdalign.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "store/internal.h"

/** Tags of a domain record. */
enum dom_tag {
	DT_DOMAIN = 1,     /* string */
	DT_RUN_ID = 2,     /* string */
	DT_SCANNED_AT = 3, /* i64 */
	DT_RANK = 4,       /* u64 */
	DT_MX_STATUS = 5,  /* u8 */
	DT_FLAGS = 6,      /* u32 */
	DT_MX = 16,        /* per MX: u16 pref, host bytes */
	DT_RAW = 17,       /* per answer: see raw answer layout */
	DT_RAW_DNSSEC = 18, /* u8 status, u8 reason of the DT_RAW before it */
	DT_STS = 19,       /* bytes: the MTA-STS fetch (probes/sts_rec.h) */
};

/** Tags of a host record. */
enum host_tag {
	HT_HOST = 1,        /* string */
	HT_RUN_ID = 2,      /* string */
	HT_RESOLVED_AT = 3, /* i64 */
	HT_ADDR = 16,       /* per address: u8 family, 4 or 16 bytes */
	HT_RAW = 17,        /* per answer: see raw answer layout */
	HT_RAW_DNSSEC = 18, /* u8 status, u8 reason of the HT_RAW before it */
	HT_PROBE = 19,      /* per probe: bytes (probes/smtp_rec.h) */
};

/*
 * Raw answer layout inside its field: u16 qtype, u8 status, u8 rcode,
 * u8 qname length, qname bytes, then the wire message (the rest of the field).
 * The answer's DNSSEC verdict, when it was judged, follows as a field of its
 * own (DT_RAW_DNSSEC), so that readers older than the validator skip it.
 */
#define RAW_HDR 5u
#define FIELD_HDR 5u
#define VERSION_LEN 2u

static const char *const mx_status_names[MXC_MX__COUNT] = {
	[MXC_MX_OK] = "ok",
	[MXC_MX_NULL] = "null-mx",
	[MXC_MX_IMPLICIT] = "implicit",
	[MXC_MX_NO_MAIL] = "no-mail",
	[MXC_MX_NXDOMAIN] = "nxdomain",
	[MXC_MX_SERVFAIL] = "servfail",
	[MXC_MX_TIMEOUT] = "timeout",
};

const char *mxc_mx_status_name(enum mxc_mx_status s)
{
	if ((unsigned)s >= MXC_MX__COUNT)
		return "unknown";
	return mx_status_names[s];
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */

static int put_field(struct mxc_buf *out, uint8_t tag, const void *data, size_t len)
{
	int r;

	if (len > UINT32_MAX)
		return MXC_ETOOBIG;
	r = mxc_buf_append_u8(out, tag);
	if (!r)
		r = mxc_buf_append_u32(out, (uint32_t)len);
	if (!r)
		r = mxc_buf_append(out, data, len);
	return r;
}

int mxc__tlv_put_end(struct mxc_buf *out)
{
	return put_field(out, MXC__TLV_END, NULL, 0);
}

static int put_u64(struct mxc_buf *out, uint8_t tag, uint64_t v)
{
	uint8_t x[8];

	mxc__be64_put(x, v);
	return put_field(out, tag, x, sizeof(x));
}

static int put_u32(struct mxc_buf *out, uint8_t tag, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
			 (uint8_t)v };

	return put_field(out, tag, x, sizeof(x));
}

/* A string field; NULL is written as "". */
static int put_str(struct mxc_buf *out, uint8_t tag, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n > max)
		return MXC_ETOOBIG;
	return put_field(out, tag, s, n);
}

static int put_mx(struct mxc_buf *out, const struct mxc_mx *mx)
{
	size_t n = mx->host ? strlen(mx->host) : 0;
	int r;

	if (n > MXC_RECORD_NAME_MAX)
		return MXC_ETOOBIG;
	r = mxc_buf_append_u8(out, DT_MX);
	if (!r)
		r = mxc_buf_append_u32(out, (uint32_t)(2 + n));
	if (!r)
		r = mxc_buf_append_u16(out, mx->pref);
	if (!r)
		r = mxc_buf_append(out, mx->host, n);
	return r;
}

static int put_raw(struct mxc_buf *out, uint8_t tag, const struct mxc_raw_answer *a)
{
	size_t qn = a->qname ? strlen(a->qname) : 0;
	size_t wl = a->wire ? a->wire_len : 0;
	int r;

	if (qn > MXC_RECORD_NAME_MAX || wl > MXC_RECORD_WIRE_MAX)
		return MXC_ETOOBIG;
	r = mxc_buf_append_u8(out, tag);
	if (!r)
		r = mxc_buf_append_u32(out, (uint32_t)(RAW_HDR + qn + wl));
	if (!r)
		r = mxc_buf_append_u16(out, a->qtype);
	if (!r)
		r = mxc_buf_append_u8(out, a->status);
	if (!r)
		r = mxc_buf_append_u8(out, a->rcode);
	if (!r)
		r = mxc_buf_append_u8(out, (uint8_t)qn);
	if (!r)
		r = mxc_buf_append(out, a->qname, qn);
	if (!r)
		r = mxc_buf_append(out, a->wire, wl);
	if (!r && (a->dnssec || a->dnssec_reason)) {
		/* DT_RAW_DNSSEC and HT_RAW_DNSSEC share the number. */
		r = mxc_buf_append_u8(out, DT_RAW_DNSSEC);
		if (!r)
			r = mxc_buf_append_u32(out, 2);
		if (!r)
			r = mxc_buf_append_u8(out, a->dnssec);
		if (!r)
			r = mxc_buf_append_u8(out, a->dnssec_reason);
	}
	return r;
}

static int put_addr(struct mxc_buf *out, const struct mxc_addr *a)
{
	uint8_t x[17];
	size_t n;

	if (a->family == 4)
		n = 4;
	else if (a->family == 6)
		n = 16;
	else
		return MXC_EINVAL;
	x[0] = a->family;
	memcpy(x + 1, a->addr, n);
	return put_field(out, HT_ADDR, x, 1 + n);
}

static int put_blob(struct mxc_buf *out, uint8_t tag, const struct mxc_blob *b)
{
	if (b->len > MXC_RECORD_BLOB_MAX)
		return MXC_ETOOBIG;
	if (b->len && !b->data)
		return MXC_EINVAL;
	return put_field(out, tag, b->data, b->len);
}

static bool name_ok(const char *s)
{
	return s && s[0] && strlen(s) <= MXC_RECORD_NAME_MAX;
}

static int domain_encode(const struct mxc_domain_rec *r, struct mxc_buf *out)
{
	int e;

	if (!r->domain || !r->domain[0])
		return MXC_EINVAL;
	if (!name_ok(r->domain) || r->n_mx > MXC_RECORD_MX_MAX ||
	    r->n_raw > MXC_RECORD_RAW_MAX)
		return MXC_ETOOBIG;
	if ((r->n_mx && !r->mx) || (r->n_raw && !r->raw))
		return MXC_EINVAL;
	e = mxc_buf_append_u16(out, MXC_RECORD_SCHEMA);
	if (!e)
		e = put_str(out, DT_DOMAIN, r->domain, MXC_RECORD_NAME_MAX);
	if (!e)
		e = put_str(out, DT_RUN_ID, r->run_id, MXC_RECORD_RUN_ID_MAX);
	if (!e)
		e = put_u64(out, DT_SCANNED_AT, (uint64_t)r->scanned_at);
	if (!e)
		e = put_u64(out, DT_RANK, r->rank);
	if (!e)
		e = put_field(out, DT_MX_STATUS, &r->mx_status, 1);
	if (!e)
		e = put_u32(out, DT_FLAGS, r->flags);
	for (uint32_t i = 0; !e && i < r->n_mx; i++)
		e = put_mx(out, &r->mx[i]);
	for (uint32_t i = 0; !e && i < r->n_raw; i++)
		e = put_raw(out, DT_RAW, &r->raw[i]);
	if (!e && r->sts.len)
		e = put_blob(out, DT_STS, &r->sts);
	if (!e)
		e = mxc__tlv_put_end(out);
	return e;
}

int mxc_domain_rec_encode(const struct mxc_domain_rec *r, struct mxc_buf *out)
{
	size_t mark = out->len;
	int e = domain_encode(r, out);

	/* All or nothing: a half-written record must never reach the store. */
	if (e)
		out->len = mark;
	return e;
}

static int host_encode(const struct mxc_host_rec *r, struct mxc_buf *out)
{
	int e;

	if (!r->host || !r->host[0])
		return MXC_EINVAL;
	if (!name_ok(r->host) || r->n_addr > MXC_RECORD_ADDR_MAX ||
	    r->n_raw > MXC_RECORD_RAW_MAX || r->n_probe > MXC_RECORD_PROBE_MAX)
		return MXC_ETOOBIG;
	if ((r->n_addr && !r->addrs) || (r->n_raw && !r->raw) || (r->n_probe && !r->probe))
		return MXC_EINVAL;
	e = mxc_buf_append_u16(out, MXC_RECORD_SCHEMA);
	if (!e)
		e = put_str(out, HT_HOST, r->host, MXC_RECORD_NAME_MAX);
	if (!e)
		e = put_str(out, HT_RUN_ID, r->run_id, MXC_RECORD_RUN_ID_MAX);
	if (!e)
		e = put_u64(out, HT_RESOLVED_AT, (uint64_t)r->resolved_at);
	for (uint32_t i = 0; !e && i < r->n_addr; i++)
		e = put_addr(out, &r->addrs[i]);
	for (uint32_t i = 0; !e && i < r->n_raw; i++)
		e = put_raw(out, HT_RAW, &r->raw[i]);
	for (uint32_t i = 0; !e && i < r->n_probe; i++)
		e = r->probe[i].len ? put_blob(out, HT_PROBE, &r->probe[i]) : MXC_EINVAL;
	if (!e)
		e = mxc__tlv_put_end(out);
	return e;
}

int mxc_host_rec_encode(const struct mxc_host_rec *r, struct mxc_buf *out)
{
	size_t mark = out->len;
	int e = host_encode(r, out);

	if (e)
		out->len = mark;
	return e;
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                 */

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int mxc__tlv_init(struct mxc__tlv *t, const uint8_t *data, size_t len, uint16_t version)
{
	uint16_t v;

	if (!data || len < VERSION_LEN)
		return MXC_ECORRUPT;
	v = get_u16(data);
	/* Version 0 was never written: it means damage, not a newer writer. */
	if (v == 0)
		return MXC_ECORRUPT;
	if (v != version)
		return MXC_ESCHEMA;
	t->p = data + VERSION_LEN;
	t->left = len - VERSION_LEN;
	return 0;
}

int mxc__tlv_next(struct mxc__tlv *t, uint8_t *tag, const uint8_t **val, size_t *vlen)
{
	uint32_t n;

	/* Running out of bytes before the end field means truncation. */
	if (t->left < FIELD_HDR)
		return MXC_ECORRUPT;
	n = get_u32(t->p + 1);
	if (t->p[0] == MXC__TLV_END) {
		/* The end field is empty and last: anything else is damage. */
		if (n != 0 || t->left != FIELD_HDR)
			return MXC_ECORRUPT;
		t->left = 0;
		return 0;
	}
	if (n > t->left - FIELD_HDR)
		return MXC_ECORRUPT;
	*tag = t->p[0];
	*val = t->p + FIELD_HDR;
	*vlen = n;
	t->p += FIELD_HDR + (size_t)n;
	t->left -= FIELD_HDR + (size_t)n;
	return 1;
}

static bool has_nul(const uint8_t *p, size_t n)
{
	return n && memchr(p, 0, n) != NULL;
}

/* A string field: at most @p max bytes, no NUL, at least @p min bytes. */
static int check_str(const uint8_t *v, size_t n, size_t min, size_t max)
{
	if (n < min || n > max || has_nul(v, n))
		return MXC_ECORRUPT;
	return 0;
}

/* Checks one raw answer field; adds its string and wire bytes to *bytes. */
static int check_raw(const uint8_t *v, size_t n, size_t *bytes)
{
	size_t qn;

	if (n < RAW_HDR)
		return MXC_ECORRUPT;
	qn = v[4];
	if (qn > MXC_RECORD_NAME_MAX || qn > n - RAW_HDR || has_nul(v + RAW_HDR, qn))
		return MXC_ECORRUPT;
	if (n - RAW_HDR - qn > MXC_RECORD_WIRE_MAX)
		return MXC_ECORRUPT;
	*bytes += n - RAW_HDR + 1; /* qname + NUL + wire */
	return 0;
}

/* Copies a string into the block at *pos and NUL-terminates it. */
static char *take_str(char **pos, const uint8_t *v, size_t n)
{
	char *s = *pos;

	if (n)
		memcpy(s, v, n);
	s[n] = '\0';
	*pos += n + 1;
	return s;
}

static void take_raw(struct mxc_raw_answer *a, char **pos, const uint8_t *v, size_t n)
{
	size_t qn = v[4];
	size_t wl = n - RAW_HDR - qn;

	a->qtype = get_u16(v);
	a->status = v[2];
	a->rcode = v[3];
	a->qname = take_str(pos, v + RAW_HDR, qn);
	a->wire_len = (uint32_t)wl;
	a->wire = NULL;
	a->dnssec = 0;
	a->dnssec_reason = 0;
	if (wl) {
		a->wire = (uint8_t *)*pos;
		memcpy(a->wire, v + RAW_HDR + qn, wl);
		*pos += wl;
	}
}

/* Rounds @p off up to a multiple of @p a (a power of two). */
static size_t align_up(size_t off, size_t a)
{
	return (off + a - 1) & ~(a - 1);
}

/* Sizes a record block: header struct, two arrays, then bytes. */
/* One array of a decoded record: count, element size and alignment in;
 * offset from the record's start out. */
struct arr {
	size_t n, size, align, off;
};

static size_t block_size(size_t head, struct arr *a, size_t na, size_t bytes, size_t *offb)
{
	/*
	 * The list counts are at most 1024, so the arrays take well under a
	 * megabyte; bytes is at most the input length. Only that last sum
	 * could wrap, and then the allocation is refused.
	 */
	size_t off = head;

	for (size_t i = 0; i < na; i++) {
		off = align_up(off, a[i].align);
		a[i].off = off;
		off += a[i].n * a[i].size;
	}
	*offb = off;
	if (bytes > SIZE_MAX - off)
		return SIZE_MAX;
	return off + bytes;
}

/** What the first pass learned about a domain record. */
struct dom_scan {
	const uint8_t *domain, *run_id;
	size_t domain_len, run_id_len;
	uint64_t scanned_at, rank;
	uint8_t mx_status;
	uint32_t flags;
	size_t n_mx, n_raw, bytes;
	size_t sts_len;
	unsigned seen; /* bit per singular tag */
};

static int seen_once(unsigned *seen, unsigned tag)
{
	if (*seen & (1u << tag))
		return MXC_ECORRUPT;
	*seen |= 1u << tag;
	return 0;
}

static int dom_field(struct dom_scan *sc, uint8_t tag, const uint8_t *v, size_t n)
{
	int r = 0;

	switch (tag) {
	case DT_DOMAIN:
		r = seen_once(&sc->seen, tag);
		if (!r)
			r = check_str(v, n, 1, MXC_RECORD_NAME_MAX);
		sc->domain = v;
		sc->domain_len = n;
		break;
	case DT_RUN_ID:
		r = seen_once(&sc->seen, tag);
		if (!r)
			r = check_str(v, n, 0, MXC_RECORD_RUN_ID_MAX);
		sc->run_id = v;
		sc->run_id_len = n;
		break;
	case DT_SCANNED_AT:
	case DT_RANK:
		r = seen_once(&sc->seen, tag);
		if (!r && n != 8)
			r = MXC_ECORRUPT;
		if (!r && tag == DT_SCANNED_AT)
			sc->scanned_at = mxc__be64_get(v);
		else if (!r)
			sc->rank = mxc__be64_get(v);
		break;
	case DT_MX_STATUS:
		r = seen_once(&sc->seen, tag);
		if (!r && n != 1)
			r = MXC_ECORRUPT;
		if (!r)
			sc->mx_status = v[0];
		break;
	case DT_FLAGS:
		r = seen_once(&sc->seen, tag);
		if (!r && n != 4)
			r = MXC_ECORRUPT;
		if (!r)
			sc->flags = get_u32(v);
		break;
	case DT_MX:
		if (n < 2 || sc->n_mx >= MXC_RECORD_MX_MAX)
			return MXC_ECORRUPT;
		r = check_str(v + 2, n - 2, 0, MXC_RECORD_NAME_MAX);
		sc->n_mx++;
		sc->bytes += n - 2 + 1;
		break;
	case DT_RAW:
		if (sc->n_raw >= MXC_RECORD_RAW_MAX)
			return MXC_ECORRUPT;
		r = check_raw(v, n, &sc->bytes);
		sc->n_raw++;
		break;
	case DT_RAW_DNSSEC:
		if (n != 2 || !sc->n_raw)
			return MXC_ECORRUPT;
		break;
	case DT_STS:
		r = seen_once(&sc->seen, tag);
		if (!r && (n == 0 || n > MXC_RECORD_BLOB_MAX))
			r = MXC_ECORRUPT;
		sc->sts_len = n;
		sc->bytes += n;
		break;
	default:
		break; /* a field from a newer writer: skipped */
	}
	return r;
}

int mxc_domain_rec_decode(const uint8_t *data, size_t len, struct mxc_domain_rec **out)
{
	struct dom_scan sc = { 0 };
	struct mxc__tlv rd;
	struct mxc_domain_rec *rec;
	size_t off_mx, off_raw, off_b, size, nmx = 0, nraw = 0;
	const uint8_t *v;
	uint8_t tag;
	size_t n;
	char *pos;
	int r;

	*out = NULL;
	r = mxc__tlv_init(&rd, data, len, MXC_RECORD_SCHEMA);
	if (r)
		return r;
	while ((r = mxc__tlv_next(&rd, &tag, &v, &n)) == 1) {
		r = dom_field(&sc, tag, v, n);
		if (r)
			return r;
	}
	if (r < 0)
		return r;
	if (!sc.domain)
		return MXC_ECORRUPT;
	sc.bytes += sc.domain_len + 1 + sc.run_id_len + 1;

	{
		struct arr a[] = {
			{ sc.n_mx, sizeof(struct mxc_mx), alignof(struct mxc_mx), 0 },
			{ sc.n_raw, sizeof(struct mxc_raw_answer), alignof(struct mxc_raw_answer), 0 },
		};

		size = block_size(sizeof(*rec), a, 2, sc.bytes, &off_b);
		off_mx = a[0].off;
		off_raw = a[1].off;
	}
	rec = mxc_malloc(size);
	if (!rec)
		return MXC_ENOMEM;
	memset(rec, 0, off_b);
	pos = (char *)rec + off_b;
	rec->domain = take_str(&pos, sc.domain, sc.domain_len);
	rec->run_id = take_str(&pos, sc.run_id, sc.run_id_len);
	rec->scanned_at = (int64_t)sc.scanned_at;
	rec->rank = sc.rank;
	rec->mx_status = sc.mx_status;
	rec->flags = sc.flags;
	rec->n_mx = (uint32_t)sc.n_mx;
	rec->mx = sc.n_mx ? (struct mxc_mx *)(void *)((char *)rec + off_mx) : NULL;
	rec->n_raw = (uint32_t)sc.n_raw;
	rec->raw = sc.n_raw ? (struct mxc_raw_answer *)(void *)((char *)rec + off_raw) : NULL;

	/* Second pass: the first one validated every field. */
	mxc__tlv_init(&rd, data, len, MXC_RECORD_SCHEMA);
	while (mxc__tlv_next(&rd, &tag, &v, &n) == 1) {
		if (tag == DT_MX) {
			rec->mx[nmx].pref = get_u16(v);
			rec->mx[nmx].host = take_str(&pos, v + 2, n - 2);
			nmx++;
		} else if (tag == DT_RAW) {
			take_raw(&rec->raw[nraw++], &pos, v, n);
		} else if (tag == DT_RAW_DNSSEC) {
			rec->raw[nraw - 1].dnssec = v[0];
			rec->raw[nraw - 1].dnssec_reason = v[1];
		} else if (tag == DT_STS) {
			rec->sts.data = (uint8_t *)pos;
			rec->sts.len = (uint32_t)n;
			memcpy(pos, v, n);
			pos += n;
		}
	}
	mxc_require(pos == (char *)rec + size);
	*out = rec;
	return 0;
}

/** What the first pass learned about a host record. */
struct host_scan {
	const uint8_t *host, *run_id;
	size_t host_len, run_id_len;
	uint64_t resolved_at;
	size_t n_addr, n_raw, n_probe, bytes;
	unsigned seen;
};

static int host_field(struct host_scan *sc, uint8_t tag, const uint8_t *v, size_t n)
{
	int r = 0;

	switch (tag) {
	case HT_HOST:
		r = seen_once(&sc->seen, tag);
		if (!r)
			r = check_str(v, n, 1, MXC_RECORD_NAME_MAX);
		sc->host = v;
		sc->host_len = n;
		break;
	case HT_RUN_ID:
		r = seen_once(&sc->seen, tag);
		if (!r)
			r = check_str(v, n, 0, MXC_RECORD_RUN_ID_MAX);
		sc->run_id = v;
		sc->run_id_len = n;
		break;
	case HT_RESOLVED_AT:
		r = seen_once(&sc->seen, tag);
		if (!r && n != 8)
			r = MXC_ECORRUPT;
		if (!r)
			sc->resolved_at = mxc__be64_get(v);
		break;
	case HT_ADDR:
		if (sc->n_addr >= MXC_RECORD_ADDR_MAX || n < 1)
			return MXC_ECORRUPT;
		if (!((v[0] == 4 && n == 5) || (v[0] == 6 && n == 17)))
			return MXC_ECORRUPT;
		sc->n_addr++;
		break;
	case HT_RAW:
		if (sc->n_raw >= MXC_RECORD_RAW_MAX)
			return MXC_ECORRUPT;
		r = check_raw(v, n, &sc->bytes);
		sc->n_raw++;
		break;
	case HT_RAW_DNSSEC:
		if (n != 2 || !sc->n_raw)
			return MXC_ECORRUPT;
		break;
	case HT_PROBE:
		if (sc->n_probe >= MXC_RECORD_PROBE_MAX || n == 0 || n > MXC_RECORD_BLOB_MAX)
			return MXC_ECORRUPT;
		sc->n_probe++;
		sc->bytes += n;
		break;
	default:
		break;
	}
	return r;
}

int mxc_host_rec_decode(const uint8_t *data, size_t len, struct mxc_host_rec **out)
{
	struct host_scan sc = { 0 };
	struct mxc__tlv rd;
	struct mxc_host_rec *rec;
	size_t off_addr, off_raw, off_probe, off_b, size, naddr = 0, nraw = 0, nprobe = 0;
	const uint8_t *v;
	uint8_t tag;
	size_t n;
	char *pos;
	int r;

	*out = NULL;
	r = mxc__tlv_init(&rd, data, len, MXC_RECORD_SCHEMA);
	if (r)
		return r;
	while ((r = mxc__tlv_next(&rd, &tag, &v, &n)) == 1) {
		r = host_field(&sc, tag, v, n);
		if (r)
			return r;
	}
	if (r < 0)
		return r;
	if (!sc.host)
		return MXC_ECORRUPT;
	sc.bytes += sc.host_len + 1 + sc.run_id_len + 1;

	{
		struct arr a[] = {
			{ sc.n_addr, sizeof(struct mxc_addr), alignof(struct mxc_addr), 0 },
			{ sc.n_raw, sizeof(struct mxc_raw_answer), alignof(struct mxc_raw_answer), 0 },
			{ sc.n_probe, sizeof(struct mxc_blob), alignof(struct mxc_blob), 0 },
		};

		size = block_size(sizeof(*rec), a, 3, sc.bytes, &off_b);
		off_addr = a[0].off;
		off_raw = a[1].off;
		off_probe = a[2].off;
	}
	rec = mxc_malloc(size);
	if (!rec)
		return MXC_ENOMEM;
	/* Zeroed so the unused 12 bytes of an IPv4 address are defined. */
	memset(rec, 0, off_b);
	pos = (char *)rec + off_b;
	rec->host = take_str(&pos, sc.host, sc.host_len);
	rec->run_id = take_str(&pos, sc.run_id, sc.run_id_len);
	rec->resolved_at = (int64_t)sc.resolved_at;
	rec->n_addr = (uint32_t)sc.n_addr;
	rec->addrs = sc.n_addr ? (struct mxc_addr *)(void *)((char *)rec + off_addr) : NULL;
	rec->n_raw = (uint32_t)sc.n_raw;
	rec->raw = sc.n_raw ? (struct mxc_raw_answer *)(void *)((char *)rec + off_raw) : NULL;
	rec->n_probe = (uint32_t)sc.n_probe;
	rec->probe = sc.n_probe ? (struct mxc_blob *)(void *)((char *)rec + off_probe) : NULL;

	mxc__tlv_init(&rd, data, len, MXC_RECORD_SCHEMA);
	while (mxc__tlv_next(&rd, &tag, &v, &n) == 1) {
		if (tag == HT_ADDR) {
			rec->addrs[naddr].family = v[0];
			memcpy(rec->addrs[naddr].addr, v + 1, n - 1);
			naddr++;
		} else if (tag == HT_RAW) {
			take_raw(&rec->raw[nraw++], &pos, v, n);
		} else if (tag == HT_RAW_DNSSEC) {
			rec->raw[nraw - 1].dnssec = v[0];
			rec->raw[nraw - 1].dnssec_reason = v[1];
		} else if (tag == HT_PROBE) {
			rec->probe[nprobe].data = (uint8_t *)pos;
			rec->probe[nprobe].len = (uint32_t)n;
			memcpy(pos, v, n);
			pos += n;
			nprobe++;
		}
	}
	mxc_require(pos == (char *)rec + size);
	*out = rec;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Equality                                                                 */

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool blob_eq(const struct mxc_blob *a, const struct mxc_blob *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool raw_eq(const struct mxc_raw_answer *a, const struct mxc_raw_answer *b)
{
	uint32_t la = a->wire ? a->wire_len : 0, lb = b->wire ? b->wire_len : 0;

	return a->qtype == b->qtype && a->status == b->status && a->rcode == b->rcode &&
	       a->dnssec == b->dnssec && a->dnssec_reason == b->dnssec_reason &&
	       str_eq(a->qname, b->qname) && la == lb &&
	       (la == 0 || memcmp(a->wire, b->wire, la) == 0);
}

bool mxc_domain_rec_equal(const struct mxc_domain_rec *a, const struct mxc_domain_rec *b)
{
	if (!str_eq(a->domain, b->domain) || !str_eq(a->run_id, b->run_id) ||
	    a->scanned_at != b->scanned_at || a->rank != b->rank ||
	    a->mx_status != b->mx_status || a->flags != b->flags || a->n_mx != b->n_mx ||
	    a->n_raw != b->n_raw || !blob_eq(&a->sts, &b->sts))
		return false;
	for (uint32_t i = 0; i < a->n_mx; i++)
		if (a->mx[i].pref != b->mx[i].pref || !str_eq(a->mx[i].host, b->mx[i].host))
			return false;
	for (uint32_t i = 0; i < a->n_raw; i++)
		if (!raw_eq(&a->raw[i], &b->raw[i]))
			return false;
	return true;
}

bool mxc_host_rec_equal(const struct mxc_host_rec *a, const struct mxc_host_rec *b)
{
	if (!str_eq(a->host, b->host) || !str_eq(a->run_id, b->run_id) ||
	    a->resolved_at != b->resolved_at || a->n_addr != b->n_addr ||
	    a->n_raw != b->n_raw || a->n_probe != b->n_probe)
		return false;
	for (uint32_t i = 0; i < a->n_probe; i++)
		if (!blob_eq(&a->probe[i], &b->probe[i]))
			return false;
	for (uint32_t i = 0; i < a->n_addr; i++) {
		size_t n = a->addrs[i].family == 4 ? 4 : 16;

		if (a->addrs[i].family != b->addrs[i].family ||
		    memcmp(a->addrs[i].addr, b->addrs[i].addr, n) != 0)
			return false;
	}
	for (uint32_t i = 0; i < a->n_raw; i++)
		if (!raw_eq(&a->raw[i], &b->raw[i]))
			return false;
	return true;
}
