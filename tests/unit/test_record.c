/**
 * \file
 * Unit tests of the record encoding (store/record.c): round trips of every
 * field, empty lists and the largest records allowed, then every way the
 * decoder must refuse its input. Hostile inputs are built field by field
 * with a small writer here, independent of the encoder under test, so a bug
 * shared by encoder and decoder cannot hide.
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
#include "common/util.h"
#include "store/record.h"

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                 */

static uint8_t wire_a[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0 };
static uint8_t wire_b[] = { 0xab, 0xcd, 0x81, 0x83, 0, 1, 0, 0, 0, 1, 0, 0, 0xff };

static struct mxc_mx sample_mx[] = {
	{ 10, "mx1.example.org" },
	{ 10, "mx2.example.org" },
	{ 20, "backup.mail.example.net" },
};

static uint8_t sts_blob[] = "opaque: the MTA-STS fetch as probes/sts_rec.c encodes it";
static uint8_t probe_a[] = { 1, 2, 3 };
static uint8_t probe_b[300];
static struct mxc_blob sample_probes[] = {
	{ probe_a, sizeof(probe_a) },
	{ probe_b, sizeof(probe_b) },
};

static struct mxc_raw_answer sample_raw[] = {
	{ "example.org", 15, 1, 0, wire_a, sizeof(wire_a), 3, 7 }, /* judged: bogus, a reason */
	{ "_mta-sts.example.org", 16, 2, 3, wire_b, sizeof(wire_b), 0, 0 },
	{ "", 48, 0, 0, NULL, 0, 0, 0 }, /* root DNSKEY, no wire kept */
};

static struct mxc_domain_rec sample_domain(void)
{
	struct mxc_domain_rec r = {
		.domain = "example.org",
		.run_id = "20261129T045602Z-3fa2c1",
		.scanned_at = 1796014562,
		.rank = 123456789012345ULL,
		.mx_status = MXC_MX_OK,
		.flags = MXC_DOM_CNAME | MXC_DOM_MX_TRUNCATED,
		.n_mx = 3,
		.mx = sample_mx,
		.n_raw = 3,
		.raw = sample_raw,
		.sts = { sts_blob, sizeof(sts_blob) },
	};
	return r;
}

static struct mxc_addr sample_addrs[] = {
	{ 4, { 192, 0, 2, 25 } },
	{ 6, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25 } },
};

static struct mxc_host_rec sample_host(void)
{
	struct mxc_host_rec h = {
		.host = "mx1.example.org",
		.run_id = "run-1",
		.resolved_at = -5, /* before the epoch: the sign must survive */
		.n_addr = 2,
		.addrs = sample_addrs,
		.n_raw = 2,
		.raw = sample_raw,
		.n_probe = 2,
		.probe = sample_probes,
	};
	return h;
}

static void encode_domain(const struct mxc_domain_rec *r, struct mxc_buf *b)
{
	mxc_buf_init(b, SIZE_MAX);
	assert_int_equal(mxc_domain_rec_encode(r, b), 0);
}

/* ------------------------------------------------------------------------ */
/* A writer for hand-made records                                           */

static void w_u16(struct mxc_buf *b, uint16_t v)
{
	assert_int_equal(mxc_buf_append_u16(b, v), 0);
}

static void w_field(struct mxc_buf *b, uint8_t tag, const void *data, uint32_t len)
{
	assert_int_equal(mxc_buf_append_u8(b, tag), 0);
	assert_int_equal(mxc_buf_append_u32(b, len), 0);
	assert_int_equal(mxc_buf_append(b, data, len), 0);
}

static void w_str(struct mxc_buf *b, uint8_t tag, const char *s)
{
	w_field(b, tag, s, (uint32_t)strlen(s));
}

static void w_end(struct mxc_buf *b)
{
	w_field(b, 0, NULL, 0);
}

/* Starts a hand-made domain record with version 1 and a domain field. */
static void w_domain_start(struct mxc_buf *b, const char *domain)
{
	mxc_buf_init(b, SIZE_MAX);
	w_u16(b, 1);
	w_str(b, 1, domain);
}

static int decode_domain_buf(struct mxc_buf *b)
{
	struct mxc_domain_rec *r = NULL;
	int e = mxc_domain_rec_decode(b->data, b->len, &r);

	if (e)
		assert_null(r);
	mxc_free(r);
	mxc_buf_free(b);
	return e;
}

static int decode_host_buf(struct mxc_buf *b)
{
	struct mxc_host_rec *r = NULL;
	int e = mxc_host_rec_decode(b->data, b->len, &r);

	if (e)
		assert_null(r);
	mxc_free(r);
	mxc_buf_free(b);
	return e;
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                              */

static void test_domain_round_trip(void **state)
{
	struct mxc_domain_rec in = sample_domain(), *out;
	struct mxc_buf b;

	encode_domain(&in, &b);
	assert_int_equal(mxc_domain_rec_decode(b.data, b.len, &out), 0);
	/* Field by field, so that a bug in _equal cannot pass this test. */
	assert_string_equal(out->domain, "example.org");
	assert_string_equal(out->run_id, in.run_id);
	assert_int_equal(out->scanned_at, in.scanned_at);
	assert_int_equal(out->sts.len, sizeof(sts_blob));
	assert_memory_equal(out->sts.data, sts_blob, sizeof(sts_blob));
	assert_true(out->rank == in.rank);
	assert_int_equal(out->mx_status, MXC_MX_OK);
	assert_int_equal(out->flags, in.flags);
	assert_int_equal(out->n_mx, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(out->mx[i].pref, sample_mx[i].pref);
		assert_string_equal(out->mx[i].host, sample_mx[i].host);
	}
	assert_int_equal(out->n_raw, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_string_equal(out->raw[i].qname, sample_raw[i].qname);
		assert_int_equal(out->raw[i].qtype, sample_raw[i].qtype);
		assert_int_equal(out->raw[i].status, sample_raw[i].status);
		assert_int_equal(out->raw[i].rcode, sample_raw[i].rcode);
		assert_int_equal(out->raw[i].wire_len, sample_raw[i].wire_len);
		assert_int_equal(out->raw[i].dnssec, sample_raw[i].dnssec);
		assert_int_equal(out->raw[i].dnssec_reason, sample_raw[i].dnssec_reason);
		if (sample_raw[i].wire_len)
			assert_memory_equal(out->raw[i].wire, sample_raw[i].wire,
					    sample_raw[i].wire_len);
		else
			assert_null(out->raw[i].wire);
	}
	assert_true(mxc_domain_rec_equal(&in, out));
	/* _equal must notice a difference too. */
	out->mx[1].pref = 11;
	assert_false(mxc_domain_rec_equal(&in, out));
	mxc_free(out);
	mxc_buf_free(&b);
}

static void test_domain_empty_lists(void **state)
{
	struct mxc_domain_rec in = { .domain = "a", .mx_status = MXC_MX_NXDOMAIN }, *out;
	struct mxc_buf b;

	encode_domain(&in, &b);
	assert_int_equal(mxc_domain_rec_decode(b.data, b.len, &out), 0);
	assert_string_equal(out->domain, "a");
	assert_string_equal(out->run_id, ""); /* NULL is written as "" */
	assert_int_equal(out->n_mx, 0);
	assert_null(out->mx);
	assert_int_equal(out->n_raw, 0);
	assert_null(out->raw);
	assert_int_equal(out->mx_status, MXC_MX_NXDOMAIN);
	assert_true(mxc_domain_rec_equal(&in, out));
	mxc_free(out);
	mxc_buf_free(&b);
}

static void test_encode_appends_and_fails_cleanly(void **state)
{
	struct mxc_domain_rec in = sample_domain(), *out;
	struct mxc_buf b;
	size_t first;

	/* Appends after what is there. */
	mxc_buf_init(&b, SIZE_MAX);
	assert_int_equal(mxc_buf_append(&b, "xyz", 3), 0);
	assert_int_equal(mxc_domain_rec_encode(&in, &b), 0);
	assert_int_equal(mxc_domain_rec_decode(b.data + 3, b.len - 3, &out), 0);
	assert_true(mxc_domain_rec_equal(&in, out));
	mxc_free(out);
	first = b.len;

	/* A failing encode leaves the buffer as it was. */
	in.domain = NULL;
	assert_int_equal(mxc_domain_rec_encode(&in, &b), MXC_EINVAL);
	in.domain = "";
	assert_int_equal(mxc_domain_rec_encode(&in, &b), MXC_EINVAL);
	in = sample_domain();
	in.n_mx = 1025;
	assert_int_equal(mxc_domain_rec_encode(&in, &b), MXC_ETOOBIG);
	assert_int_equal(b.len, first);
	/* The buffer's own limit is honoured. */
	in = sample_domain();
	b.limit = b.len + 20;
	assert_int_equal(mxc_domain_rec_encode(&in, &b), MXC_ETOOBIG);
	assert_int_equal(b.len, first);
	mxc_buf_free(&b);
}

static char *name_of(size_t len, char fill)
{
	char *s = mxc_malloc(len + 1);

	assert_non_null(s);
	memset(s, fill, len);
	/* Dots keep it name-like; the decoder does not require them. */
	for (size_t i = 63; i < len; i += 64)
		s[i] = '.';
	s[len] = '\0';
	return s;
}

static void test_domain_max_sizes(void **state)
{
	struct mxc_mx *mx = mxc_calloc(MXC_RECORD_MX_MAX, sizeof(*mx));
	struct mxc_raw_answer *raw = mxc_calloc(MXC_RECORD_RAW_MAX, sizeof(*raw));
	uint8_t *wire = mxc_malloc(MXC_RECORD_WIRE_MAX);
	char *name = name_of(MXC_RECORD_NAME_MAX, 'a');
	char run_id[MXC_RECORD_RUN_ID_MAX + 1];
	struct mxc_domain_rec in = { 0 }, *out;
	struct mxc_buf b;

	assert_non_null(mx);
	assert_non_null(raw);
	assert_non_null(wire);
	for (size_t i = 0; i < MXC_RECORD_WIRE_MAX; i++)
		wire[i] = (uint8_t)(i * 7);
	memset(run_id, 'r', sizeof(run_id) - 1);
	run_id[sizeof(run_id) - 1] = '\0';
	for (unsigned i = 0; i < MXC_RECORD_MX_MAX; i++) {
		mx[i].pref = (uint16_t)(65535 - i);
		mx[i].host = name;
	}
	for (unsigned i = 0; i < MXC_RECORD_RAW_MAX; i++) {
		raw[i].qname = name;
		raw[i].qtype = (uint16_t)i;
		raw[i].wire = wire;
		/* A few full-size messages; the rest small, to keep the test fast. */
		raw[i].wire_len = i % 256 == 0 ? MXC_RECORD_WIRE_MAX : i % 300;
	}
	in.domain = name;
	in.run_id = run_id;
	in.scanned_at = INT64_MIN;
	in.rank = UINT64_MAX;
	in.mx_status = 255; /* unknown to this build, still kept */
	in.flags = UINT32_MAX;
	in.n_mx = MXC_RECORD_MX_MAX;
	in.mx = mx;
	in.n_raw = MXC_RECORD_RAW_MAX;
	in.raw = raw;

	encode_domain(&in, &b);
	assert_int_equal(mxc_domain_rec_decode(b.data, b.len, &out), 0);
	assert_true(mxc_domain_rec_equal(&in, out));
	assert_int_equal(out->n_mx, MXC_RECORD_MX_MAX);
	assert_int_equal(out->raw[256].wire_len, MXC_RECORD_WIRE_MAX);
	assert_memory_equal(out->raw[256].wire, wire, MXC_RECORD_WIRE_MAX);
	assert_true(out->scanned_at == INT64_MIN);
	mxc_free(out);
	mxc_buf_free(&b);

	/* One beyond each bound is refused by the encoder. */
	mxc_buf_init(&b, SIZE_MAX);
	in.n_mx = MXC_RECORD_MX_MAX + 1;
	assert_int_equal(mxc_domain_rec_encode(&in, &b), MXC_ETOOBIG);
	in.n_mx = 1;
	in.n_raw = MXC_RECORD_RAW_MAX + 1;
	assert_int_equal(mxc_domain_rec_encode(&in, &b), MXC_ETOOBIG);
	in.n_raw = 1;
	raw[0].wire_len = MXC_RECORD_WIRE_MAX + 1;
	assert_int_equal(mxc_domain_rec_encode(&in, &b), MXC_ETOOBIG);
	raw[0].wire_len = 0;
	run_id[0] = '\0';
	in.run_id = "0123456789012345678901234567890123456789"; /* 40 */
	assert_int_equal(mxc_domain_rec_encode(&in, &b), MXC_ETOOBIG);
	in.run_id = NULL;
	mxc_free(name);
	name = name_of(MXC_RECORD_NAME_MAX + 1, 'b');
	in.domain = name;
	assert_int_equal(mxc_domain_rec_encode(&in, &b), MXC_ETOOBIG);
	in.domain = "ok.example";
	mx[0].host = name;
	assert_int_equal(mxc_domain_rec_encode(&in, &b), MXC_ETOOBIG);
	mx[0].host = "mx.example";
	raw[0].qname = name;
	assert_int_equal(mxc_domain_rec_encode(&in, &b), MXC_ETOOBIG);
	assert_int_equal(b.len, 0);
	mxc_buf_free(&b);

	mxc_free(name);
	mxc_free(wire);
	mxc_free(raw);
	mxc_free(mx);
}

static void test_host_round_trip(void **state)
{
	struct mxc_host_rec in = sample_host(), *out;
	struct mxc_buf b;

	mxc_buf_init(&b, SIZE_MAX);
	assert_int_equal(mxc_host_rec_encode(&in, &b), 0);
	assert_int_equal(mxc_host_rec_decode(b.data, b.len, &out), 0);
	assert_string_equal(out->host, "mx1.example.org");
	assert_string_equal(out->run_id, "run-1");
	assert_int_equal(out->resolved_at, -5);
	assert_int_equal(out->n_addr, 2);
	assert_int_equal(out->addrs[0].family, 4);
	assert_memory_equal(out->addrs[0].addr, sample_addrs[0].addr, 4);
	assert_int_equal(out->addrs[1].family, 6);
	assert_memory_equal(out->addrs[1].addr, sample_addrs[1].addr, 16);
	assert_int_equal(out->n_raw, 2);
	assert_memory_equal(out->raw[1].wire, wire_b, sizeof(wire_b));
	assert_int_equal(out->n_probe, 2);
	assert_int_equal(out->probe[1].len, sizeof(probe_b));
	assert_memory_equal(out->probe[0].data, probe_a, sizeof(probe_a));
	assert_true(mxc_host_rec_equal(&in, out));
	out->probe[1].data[7] ^= 1;
	assert_false(mxc_host_rec_equal(&in, out));
	out->probe[1].data[7] ^= 1;
	out->addrs[1].addr[15] ^= 1;
	assert_false(mxc_host_rec_equal(&in, out));
	mxc_free(out);
	mxc_buf_free(&b);

	/* An empty probe result is refused: a probe always says something. */
	in.probe = (struct mxc_blob[]){ { probe_a, 0 } };
	in.n_probe = 1;
	mxc_buf_init(&b, SIZE_MAX);
	assert_int_equal(mxc_host_rec_encode(&in, &b), MXC_EINVAL);
	assert_int_equal(b.len, 0);
	mxc_buf_free(&b);
	in.n_probe = 0;

	/* No addresses, no answers. */
	in.n_addr = 0;
	in.addrs = NULL;
	in.n_raw = 0;
	in.raw = NULL;
	mxc_buf_init(&b, SIZE_MAX);
	assert_int_equal(mxc_host_rec_encode(&in, &b), 0);
	assert_int_equal(mxc_host_rec_decode(b.data, b.len, &out), 0);
	assert_int_equal(out->n_addr, 0);
	assert_null(out->addrs);
	assert_true(mxc_host_rec_equal(&in, out));
	mxc_free(out);

	/* An address family other than 4 or 6 is refused. */
	in = sample_host();
	sample_addrs[0].family = 5;
	assert_int_equal(mxc_host_rec_encode(&in, &b), MXC_EINVAL);
	sample_addrs[0].family = 4;
	in.n_addr = MXC_RECORD_ADDR_MAX + 1;
	assert_int_equal(mxc_host_rec_encode(&in, &b), MXC_ETOOBIG);
	mxc_buf_free(&b);
}

static void test_mx_status_name(void **state)
{
	static const char *const want[] = { "ok",       "null-mx",  "implicit", "no-mail",
					    "nxdomain", "servfail", "timeout" };

	assert_int_equal(MXC_ARRAY_SIZE(want), MXC_MX__COUNT);
	for (unsigned i = 0; i < MXC_MX__COUNT; i++)
		assert_string_equal(mxc_mx_status_name((enum mxc_mx_status)i), want[i]);
	assert_string_equal(mxc_mx_status_name(MXC_MX__COUNT), "unknown");
	assert_string_equal(mxc_mx_status_name((enum mxc_mx_status)200), "unknown");
}

/* ------------------------------------------------------------------------ */
/* Rejections                                                               */

static void test_truncated_everywhere(void **state)
{
	struct mxc_domain_rec d = sample_domain(), *dout;
	struct mxc_host_rec h = sample_host(), *hout;
	struct mxc_buf b;

	encode_domain(&d, &b);
	for (size_t k = 0; k < b.len; k++) {
		/* A copy of exactly k bytes, so ASan sees any over-read. */
		uint8_t *cut = mxc_malloc(k ? k : 1);

		memcpy(cut, b.data, k);
		assert_int_equal(mxc_domain_rec_decode(cut, k, &dout), MXC_ECORRUPT);
		assert_null(dout);
		mxc_free(cut);
	}
	/* Trailing bytes after the end field are damage too. */
	assert_int_equal(mxc_buf_append_u8(&b, 0), 0);
	assert_int_equal(mxc_domain_rec_decode(b.data, b.len, &dout), MXC_ECORRUPT);
	mxc_buf_free(&b);

	mxc_buf_init(&b, SIZE_MAX);
	assert_int_equal(mxc_host_rec_encode(&h, &b), 0);
	for (size_t k = 0; k < b.len; k++) {
		uint8_t *cut = mxc_malloc(k ? k : 1);

		memcpy(cut, b.data, k);
		assert_int_equal(mxc_host_rec_decode(cut, k, &hout), MXC_ECORRUPT);
		mxc_free(cut);
	}
	mxc_buf_free(&b);
	assert_int_equal(mxc_domain_rec_decode(NULL, 0, &dout), MXC_ECORRUPT);
}

static void test_bad_version(void **state)
{
	struct mxc_domain_rec d = sample_domain(), *out;
	struct mxc_host_rec h = sample_host(), *hout;
	struct mxc_buf b;

	encode_domain(&d, &b);
	assert_int_equal(b.data[0], 0);
	assert_int_equal(b.data[1], MXC_RECORD_SCHEMA);
	b.data[1] = MXC_RECORD_SCHEMA + 1;
	assert_int_equal(mxc_domain_rec_decode(b.data, b.len, &out), MXC_ESCHEMA);
	b.data[0] = 0x80;
	b.data[1] = MXC_RECORD_SCHEMA;
	assert_int_equal(mxc_domain_rec_decode(b.data, b.len, &out), MXC_ESCHEMA);
	b.data[0] = 0;
	b.data[1] = 0;
	assert_int_equal(mxc_domain_rec_decode(b.data, b.len, &out), MXC_ECORRUPT);
	mxc_buf_free(&b);

	mxc_buf_init(&b, SIZE_MAX);
	assert_int_equal(mxc_host_rec_encode(&h, &b), 0);
	b.data[1] = 7;
	assert_int_equal(mxc_host_rec_decode(b.data, b.len, &hout), MXC_ESCHEMA);
	mxc_buf_free(&b);
}

static void test_unknown_tags_skipped(void **state)
{
	struct mxc_domain_rec *out;
	struct mxc_buf b;
	uint8_t mx[2 + 6] = { 0, 5, 'm', 'x', '.', 'o', 'r', 'g' };

	w_domain_start(&b, "skip.example");
	w_str(&b, 200, "from a newer writer");
	w_field(&b, 16, mx, sizeof(mx));
	w_field(&b, 99, NULL, 0);
	w_end(&b);
	assert_int_equal(mxc_domain_rec_decode(b.data, b.len, &out), 0);
	assert_string_equal(out->domain, "skip.example");
	assert_int_equal(out->n_mx, 1);
	assert_int_equal(out->mx[0].pref, 5);
	assert_string_equal(out->mx[0].host, "mx.org");
	mxc_free(out);
	mxc_buf_free(&b);
}

static void test_domain_field_rejections(void **state)
{
	char *long_name = name_of(MXC_RECORD_NAME_MAX + 1, 'x');
	struct mxc_buf b;

	/* Missing end field. */
	w_domain_start(&b, "a.example");
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);

	/* End field with a length, or followed by more fields. */
	w_domain_start(&b, "a.example");
	w_field(&b, 0, "x", 1);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
	w_domain_start(&b, "a.example");
	w_end(&b);
	w_str(&b, 2, "run");
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);

	/* No domain, empty domain, too long, NUL inside. */
	mxc_buf_init(&b, SIZE_MAX);
	w_u16(&b, 1);
	w_str(&b, 2, "run");
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
	w_domain_start(&b, "");
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
	w_domain_start(&b, long_name);
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
	mxc_buf_init(&b, SIZE_MAX);
	w_u16(&b, 1);
	w_field(&b, 1, "a\0b", 3);
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);

	/* Duplicate singular fields. */
	w_domain_start(&b, "a.example");
	w_str(&b, 1, "b.example");
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);

	/* Run id over its bound. */
	w_domain_start(&b, "a.example");
	w_str(&b, 2, "0123456789012345678901234567890123456789");
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);

	/* Fixed-size scalars of the wrong size. */
	{
		static const struct {
			uint8_t tag;
			uint32_t len;
		} bad[] = { { 3, 7 }, { 3, 9 }, { 4, 4 }, { 5, 0 }, { 5, 2 }, { 6, 8 } };
		uint8_t zero[16] = { 0 };

		for (size_t i = 0; i < MXC_ARRAY_SIZE(bad); i++) {
			w_domain_start(&b, "a.example");
			w_field(&b, bad[i].tag, zero, bad[i].len);
			w_end(&b);
			assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
		}
	}

	/* An MX field too short for its preference, with a long or NUL host. */
	w_domain_start(&b, "a.example");
	w_field(&b, 16, "\x00", 1);
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
	{
		struct mxc_buf mx;

		mxc_buf_init(&mx, SIZE_MAX);
		w_u16(&mx, 10);
		assert_int_equal(mxc_buf_append(&mx, long_name, strlen(long_name)), 0);
		w_domain_start(&b, "a.example");
		w_field(&b, 16, mx.data, (uint32_t)mx.len);
		w_end(&b);
		assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
		mxc_buf_free(&mx);
	}
	w_domain_start(&b, "a.example");
	w_field(&b, 16, "\x00\x0amx\x00x", 6);
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);

	/* A field length beyond the data, and one that wraps 32 bits. */
	w_domain_start(&b, "a.example");
	assert_int_equal(mxc_buf_append_u8(&b, 2), 0);
	assert_int_equal(mxc_buf_append_u32(&b, 100), 0);
	assert_int_equal(mxc_buf_append(&b, "short", 5), 0);
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
	w_domain_start(&b, "a.example");
	assert_int_equal(mxc_buf_append_u8(&b, 200), 0);
	assert_int_equal(mxc_buf_append_u32(&b, UINT32_MAX), 0);
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);

	mxc_free(long_name);
}

/* Writes a raw answer field: qtype, status, rcode, qname length, qname, wire. */
static void w_raw(struct mxc_buf *b, uint8_t tag, uint8_t qlen_claim, const char *qname,
		  size_t qlen, size_t wire_len)
{
	struct mxc_buf f;

	mxc_buf_init(&f, SIZE_MAX);
	w_u16(&f, 16);
	assert_int_equal(mxc_buf_append_u8(&f, 1), 0);
	assert_int_equal(mxc_buf_append_u8(&f, 0), 0);
	assert_int_equal(mxc_buf_append_u8(&f, qlen_claim), 0);
	assert_int_equal(mxc_buf_append(&f, qname, qlen), 0);
	for (size_t i = 0; i < wire_len; i++)
		assert_int_equal(mxc_buf_append_u8(&f, (uint8_t)i), 0);
	w_field(b, tag, f.data, (uint32_t)f.len);
	mxc_buf_free(&f);
}

static void test_raw_rejections(void **state)
{
	char *long_name = name_of(MXC_RECORD_NAME_MAX + 1, 'q');
	struct mxc_buf b;

	/* Shorter than its header. */
	w_domain_start(&b, "a.example");
	w_field(&b, 17, "\x00\x10\x01\x00", 4);
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
	/* qname length claims more than the field holds. */
	w_domain_start(&b, "a.example");
	w_raw(&b, 17, 10, "abc", 3, 0);
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
	/* qname too long, or with a NUL. */
	w_domain_start(&b, "a.example");
	w_raw(&b, 17, (uint8_t)254, long_name, 254, 0);
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
	w_domain_start(&b, "a.example");
	w_raw(&b, 17, 3, "a\0b", 3, 0);
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
	/* Wire one byte over the bound; exactly at it decodes. */
	w_domain_start(&b, "a.example");
	w_raw(&b, 17, 3, "abc", 3, MXC_RECORD_WIRE_MAX + 1);
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), MXC_ECORRUPT);
	w_domain_start(&b, "a.example");
	w_raw(&b, 17, 3, "abc", 3, MXC_RECORD_WIRE_MAX);
	w_end(&b);
	assert_int_equal(decode_domain_buf(&b), 0);
	/* The same rules in a host record. */
	mxc_buf_init(&b, SIZE_MAX);
	w_u16(&b, 1);
	w_str(&b, 1, "mx.example");
	w_raw(&b, 17, 10, "abc", 3, 0);
	w_end(&b);
	assert_int_equal(decode_host_buf(&b), MXC_ECORRUPT);
	mxc_free(long_name);
}

static void test_count_bounds(void **state)
{
	struct mxc_buf b;

	/* MXC_RECORD_MX_MAX MX fields decode, one more does not. */
	for (unsigned extra = 0; extra < 2; extra++) {
		w_domain_start(&b, "a.example");
		for (unsigned i = 0; i < MXC_RECORD_MX_MAX + extra; i++)
			w_field(&b, 16, "\x00\x01m", 3);
		w_end(&b);
		assert_int_equal(decode_domain_buf(&b), extra ? MXC_ECORRUPT : 0);
	}
	for (unsigned extra = 0; extra < 2; extra++) {
		w_domain_start(&b, "a.example");
		for (unsigned i = 0; i < MXC_RECORD_RAW_MAX + extra; i++)
			w_raw(&b, 17, 1, "q", 1, 2);
		w_end(&b);
		assert_int_equal(decode_domain_buf(&b), extra ? MXC_ECORRUPT : 0);
	}
	for (unsigned extra = 0; extra < 2; extra++) {
		mxc_buf_init(&b, SIZE_MAX);
		w_u16(&b, 1);
		w_str(&b, 1, "mx.example");
		for (unsigned i = 0; i < MXC_RECORD_ADDR_MAX + extra; i++)
			w_field(&b, 16, "\x04\x7f\x00\x00\x01", 5);
		w_end(&b);
		assert_int_equal(decode_host_buf(&b), extra ? MXC_ECORRUPT : 0);
	}
}

static void test_host_rejections(void **state)
{
	static const struct {
		const char *bytes;
		uint32_t len;
	} bad_addr[] = {
		{ "", 0 },
		{ "\x04\x01\x02\x03", 4 },
		{ "\x04\x01\x02\x03\x04\x05", 6 },
		{ "\x06\x01\x02\x03\x04", 5 },
		{ "\x05\x01\x02\x03\x04", 5 },
		{ "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 17 },
	};
	struct mxc_buf b;

	for (size_t i = 0; i < MXC_ARRAY_SIZE(bad_addr); i++) {
		mxc_buf_init(&b, SIZE_MAX);
		w_u16(&b, 1);
		w_str(&b, 1, "mx.example");
		w_field(&b, 16, bad_addr[i].bytes, bad_addr[i].len);
		w_end(&b);
		assert_int_equal(decode_host_buf(&b), MXC_ECORRUPT);
	}
	/* Host missing, empty, duplicated; resolved_at of the wrong size. */
	mxc_buf_init(&b, SIZE_MAX);
	w_u16(&b, 1);
	w_end(&b);
	assert_int_equal(decode_host_buf(&b), MXC_ECORRUPT);
	mxc_buf_init(&b, SIZE_MAX);
	w_u16(&b, 1);
	w_str(&b, 1, "");
	w_end(&b);
	assert_int_equal(decode_host_buf(&b), MXC_ECORRUPT);
	mxc_buf_init(&b, SIZE_MAX);
	w_u16(&b, 1);
	w_str(&b, 1, "a");
	w_str(&b, 1, "a");
	w_end(&b);
	assert_int_equal(decode_host_buf(&b), MXC_ECORRUPT);
	mxc_buf_init(&b, SIZE_MAX);
	w_u16(&b, 1);
	w_str(&b, 1, "a");
	w_field(&b, 3, "1234", 4);
	w_end(&b);
	assert_int_equal(decode_host_buf(&b), MXC_ECORRUPT);
}

static void test_decode_enomem(void **state)
{
	struct mxc_domain_rec d = sample_domain(), *out = NULL;
	struct mxc_buf b;

	encode_domain(&d, &b);
	mxc_alloc_fail_after(0);
	assert_int_equal(mxc_domain_rec_decode(b.data, b.len, &out), MXC_ENOMEM);
	mxc_alloc_fail_after(-1);
	assert_null(out);
	mxc_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_round_trip),
		cmocka_unit_test(test_domain_empty_lists),
		cmocka_unit_test(test_encode_appends_and_fails_cleanly),
		cmocka_unit_test(test_domain_max_sizes),
		cmocka_unit_test(test_host_round_trip),
		cmocka_unit_test(test_mx_status_name),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_unknown_tags_skipped),
		cmocka_unit_test(test_domain_field_rejections),
		cmocka_unit_test(test_raw_rejections),
		cmocka_unit_test(test_count_bounds),
		cmocka_unit_test(test_host_rejections),
		cmocka_unit_test(test_decode_enomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
