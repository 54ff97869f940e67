/**
 * \file
 * Tests of the probes' stored results (probes/probe_rec.c): every field of
 * an SMTP result and of an MTA-STS fetch survives the round trip, absent
 * fields decode as zero, unknown fields are skipped, and every kind of
 * damage is refused rather than half-read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "probes/probe_rec.h"

static void fill(struct mxc_smtp_result *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->mx_host, sizeof(r->mx_host), "%s", "mx1.example.org");
	snprintf(r->ip, sizeof(r->ip), "%s", "2001:db8::25");
	r->port = 25;
	r->status = MXC_SMTP_TLS_FAILED;
	snprintf(r->detail, sizeof(r->detail), "%s", "handshake: alert 40");
	snprintf(r->banner, sizeof(r->banner), "%s", "mx1.example.org ESMTP");
	r->banner_code = 220;
	r->starttls_offered = 1;
	r->ehlo_ext = 0x15;
	r->stripping = MXC_STRIP_EHLO | MXC_STRIP_454;
	snprintf(r->stripped_keyword, sizeof(r->stripped_keyword), "%s", "XXXXXXXA");
	snprintf(r->tls_version, sizeof(r->tls_version), "%s", "TLSv1.3");
	snprintf(r->cipher, sizeof(r->cipher), "%s", "TLS_AES_256_GCM_SHA384");
	memset(r->cert_sha256, 'a', 64);
	memset(r->spki_sha256, 'b', 64);
	snprintf(r->issuer, sizeof(r->issuer), "%s", "CN=Test CA,O=mxcensus");
	snprintf(r->not_before, sizeof(r->not_before), "%s", "2026-01-01T00:00:00Z");
	snprintf(r->not_after, sizeof(r->not_after), "%s", "2036-12-31T23:59:59Z");
	snprintf(r->cert_names, sizeof(r->cert_names), "%s", "mx1.example.org;*.example.org");
	r->chain_valid = 1;
	r->name_valid = 0;
	r->pkix_valid = 0;
	snprintf(r->pkix_error, sizeof(r->pkix_error), "%s", "name-mismatch");
	snprintf(r->tlsa_records, sizeof(r->tlsa_records), "%s", "3 1 1 00ff");
	r->tlsa_dnssec = 1;
	r->dane = MXC_DANE_MATCH_EE;
	snprintf(r->dane_detail, sizeof(r->dane_detail), "%s", "3 1 1");
	r->probed_at = -2; /* the sign survives */
	r->elapsed_ms = 1234;
	r->bytes_in = 1ULL << 40;
}

static void test_smtp_round_trip(void **state)
{
	struct mxc_smtp_result in, out;
	struct mxc_buf b;

	(void)state;
	fill(&in);
	mxc_buf_init(&b, 1 << 20);
	assert_int_equal(mxc_smtp_rec_encode(&in, &b), 0);
	assert_int_equal(mxc_smtp_rec_decode(b.data, b.len, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	/* A result with nothing in it is one byte, and decodes as zero. */
	memset(&in, 0, sizeof(in));
	mxc_buf_reset(&b);
	assert_int_equal(mxc_smtp_rec_encode(&in, &b), 0);
	assert_int_equal(b.len, 1);
	memset(&out, 0x55, sizeof(out));
	assert_int_equal(mxc_smtp_rec_decode(b.data, b.len, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	mxc_buf_free(&b);
}

static void test_smtp_damage(void **state)
{
	struct mxc_smtp_result in, out;
	struct mxc_buf b;
	uint8_t tmp[8192];

	(void)state;
	fill(&in);
	mxc_buf_init(&b, 1 << 20);
	assert_int_equal(mxc_smtp_rec_encode(&in, &b), 0);
	assert_true(b.len < sizeof(tmp));
	/* Every truncation is refused. */
	for (size_t n = 0; n < b.len; n++) {
		int r = mxc_smtp_rec_decode(b.data, n, &out);

		/* A cut exactly between fields is a shorter, valid result. */
		if (r == 0)
			continue;
		assert_int_equal(r, MXC_ECORRUPT);
	}
	/* A newer version is not guessed at. */
	memcpy(tmp, b.data, b.len);
	tmp[0] = 2;
	assert_int_equal(mxc_smtp_rec_decode(tmp, b.len, &out), MXC_ESCHEMA);
	tmp[0] = 0;
	assert_int_equal(mxc_smtp_rec_decode(tmp, b.len, &out), MXC_ECORRUPT);
	/* A string too long for its field: ip holds 45 characters. */
	{
		uint8_t bad[1 + 5 + 46];

		bad[0] = 1;
		bad[1] = 2; /* ip */
		bad[2] = 0, bad[3] = 0, bad[4] = 0, bad[5] = 46;
		memset(bad + 6, '1', 46);
		assert_int_equal(mxc_smtp_rec_decode(bad, sizeof(bad), &out), MXC_ECORRUPT);
		bad[5] = 45;
		assert_int_equal(mxc_smtp_rec_decode(bad, sizeof(bad) - 1, &out), 0);
		assert_int_equal(strlen(out.ip), 45);
	}
	/* A number of the wrong width, and a NUL inside a string. */
	{
		uint8_t bad[] = { 1, 3, 0, 0, 0, 1, 25 };             /* port: 1 byte */
		uint8_t nul[] = { 1, 12, 0, 0, 0, 3, 'T', 0, 'S' };   /* tls_version */
		uint8_t unk[] = { 1, 200, 0, 0, 0, 2, 'h', 'i', 3, 0, 0, 0, 2, 0, 25 };

		assert_int_equal(mxc_smtp_rec_decode(bad, sizeof(bad), &out), MXC_ECORRUPT);
		assert_int_equal(mxc_smtp_rec_decode(nul, sizeof(nul), &out), MXC_ECORRUPT);
		/* Unknown tags are skipped, known ones still read. */
		assert_int_equal(mxc_smtp_rec_decode(unk, sizeof(unk), &out), 0);
		assert_int_equal(out.port, 25);
	}
	/* An unterminated string in the struct is not encoded. */
	memset(in.cipher, 'x', sizeof(in.cipher));
	mxc_buf_reset(&b);
	assert_int_equal(mxc_smtp_rec_encode(&in, &b), MXC_EINVAL);
	assert_int_equal(b.len, 0);
	mxc_buf_free(&b);
}

static void test_sts_round_trip(void **state)
{
	static const char body[] = "version: STSv1\r\nmode: enforce\r\nmx: *.example.org\r\n"
				   "max_age: 86400\r\n";
	struct mxc_sts_rec in = { 0 }, out;
	struct mxc_buf b;

	(void)state;
	in.error = MXC_STS_FETCH_OK;
	in.http_code = 200;
	snprintf(in.detail, sizeof(in.detail), "%s", "text/plain; charset=utf-8");
	in.elapsed_ms = 42;
	in.fetched_at = 1796014562;
	in.body = (const uint8_t *)body;
	in.body_len = sizeof(body) - 1;
	mxc_buf_init(&b, 1 << 20);
	assert_int_equal(mxc_sts_rec_encode(&in, &b), 0);
	assert_int_equal(mxc_sts_rec_decode(b.data, b.len, &out), 0);
	assert_int_equal(out.error, MXC_STS_FETCH_OK);
	assert_int_equal(out.http_code, 200);
	assert_string_equal(out.detail, in.detail);
	assert_int_equal(out.elapsed_ms, 42);
	assert_int_equal(out.fetched_at, in.fetched_at);
	assert_int_equal(out.body_len, in.body_len);
	assert_memory_equal(out.body, body, in.body_len);

	/* A failed fetch: no body, no status. */
	memset(&in, 0, sizeof(in));
	in.error = MXC_STS_FETCH_TIMEOUT;
	mxc_buf_reset(&b);
	assert_int_equal(mxc_sts_rec_encode(&in, &b), 0);
	assert_int_equal(mxc_sts_rec_decode(b.data, b.len, &out), 0);
	assert_int_equal(out.error, MXC_STS_FETCH_TIMEOUT);
	assert_null(out.body);
	assert_int_equal(out.http_code, 0);
	/* A body of 64 KiB, the most a policy may have, fits. */
	{
		static uint8_t big[65536];

		memset(big, 'a', sizeof(big));
		in.body = big;
		in.body_len = sizeof(big);
		mxc_buf_reset(&b);
		assert_int_equal(mxc_sts_rec_encode(&in, &b), 0);
		assert_int_equal(mxc_sts_rec_decode(b.data, b.len, &out), 0);
		assert_int_equal(out.body_len, sizeof(big));
		/* Every truncation inside the body's field is refused. */
		assert_int_equal(mxc_sts_rec_decode(b.data, b.len - 1, &out), MXC_ECORRUPT);
	}
	mxc_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_round_trip),
		cmocka_unit_test(test_smtp_damage),
		cmocka_unit_test(test_sts_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
