/**
 * \file
 * The validator's wire path for plain answers against its general path.
 * A plain answer (the question's RRset and the RRSIGs over it, nothing
 * else in the answer section) is read straight from the wire, and the data
 * each RRSIG signs is built from those bytes; the general path parses the
 * same answer with ldns and builds the data from ldns's records. Both must
 * produce the same bytes for every RRSIG (mxc__validator_signed_data), or a
 * signature would verify on one path and not on the other.
 *
 * Checked on answers ldns builds (so with its name compression) of every
 * type the reader takes, with names in mixed case, several records in an
 * order that is not canonical, and several RRSIGs; on hand-made answers
 * the wire path must leave to ldns (another record, another owner, a
 * wildcard expansion, a compressed signer, RDATA longer than its fields,
 * a forward pointer, another class, a denial); and on many mutations of a
 * plain answer: whatever the wire path takes, ldns must take too and sign
 * the same bytes.
 *
 * Raw free() appears only for memory ldns allocated (ldns_pkt2wire).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "resolver/validator.h"

#define DATA_MAX 65536

/* Fixed signature bytes: only the signed data is compared, not checked. */
#define SIG64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="

/* An answer built by ldns (compressed): the question, then @p an. */
static uint8_t *build(size_t *len, const char *question, const char *const *an)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *q = NULL;
	uint8_t *wire = NULL;

	assert_non_null(p);
	assert_int_equal(ldns_rr_new_question_frm_str(&q, question, NULL, NULL), LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);
	ldns_pkt_set_qr(p, true);
	for (size_t i = 0; an[i]; i++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, an[i], 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	assert_int_equal(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

/*
 * Compare both paths over every RRSIG of @p msg. Returns how many RRSIGs
 * the wire path built (0: it left the answer to ldns).
 */
static unsigned compare(const uint8_t *msg, size_t len)
{
	static uint8_t a[DATA_MAX], b[DATA_MAX];
	unsigned built = 0;

	for (unsigned i = 0; i < 8; i++) {
		int wn = mxc__validator_signed_data(msg, len, i, true, a, sizeof(a));
		int gn;

		assert_true(wn >= 0);
		if (wn == 0)
			break;
		gn = mxc__validator_signed_data(msg, len, i, false, b, sizeof(b));
		if (gn != wn || memcmp(a, b, (size_t)wn) != 0) {
			fprintf(stderr, "RRSIG %u: the wire path signs %d bytes, ldns's %d\n", i,
				wn, gn);
			fail();
		}
		built++;
	}
	return built;
}

static void test_plain_answers_match_ldns(void **state)
{
	static const char *const mx[] = {
		"Mail.Example.ORG. 600 IN MX 20 MX2.Example.org.",
		"mail.example.org. 600 IN MX 10 mx1.EXAMPLE.org.",
		"mail.example.org. 600 IN MX 10 backup.mail.example.org.",
		"mail.example.org. 600 IN MX 0 .",
		"mail.example.org. 600 IN RRSIG MX 13 3 600 20301231000000 20201231000000 "
		"12345 Example.ORG. " SIG64,
		"MAIL.example.org. 600 IN RRSIG MX 8 3 600 20301231000000 20201231000000 "
		"54321 example.org. " SIG64,
		NULL,
	};
	static const char *const a4[] = {
		"mx.example.org. 60 IN A 192.0.2.9",
		"mx.example.org. 60 IN A 192.0.2.1",
		"mx.example.org. 60 IN RRSIG A 13 3 60 20301231000000 20201231000000 "
		"7 example.org. " SIG64,
		NULL,
	};
	static const char *const a6[] = {
		"mx.example.org. 60 IN AAAA 2001:db8::1",
		"mx.example.org. 60 IN RRSIG AAAA 15 3 60 20301231000000 20201231000000 "
		"7 example.org. " SIG64,
		NULL,
	};
	static const char *const tlsa[] = {
		"_25._tcp.mx.example.org. 60 IN TLSA 3 1 1 "
		"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
		"_25._tcp.mx.example.org. 60 IN TLSA 2 0 1 "
		"a102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
		"_25._tcp.mx.example.org. 60 IN RRSIG TLSA 13 5 60 20301231000000 "
		"20201231000000 7 example.org. " SIG64,
		NULL,
	};
	static const struct {
		const char *q;
		const char *const *an;
		unsigned sigs;
	} cases[] = {
		{ "mail.example.org. IN MX", mx, 2 },
		{ "MAIL.Example.Org. IN MX", mx, 2 },
		{ "mx.example.org. IN A", a4, 1 },
		{ "mx.example.org. IN AAAA", a6, 1 },
		{ "_25._tcp.mx.example.org. IN TLSA", tlsa, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		uint8_t *msg = build(&len, cases[i].q, cases[i].an);

		assert_int_equal(compare(msg, len), cases[i].sigs);
		free(msg);
	}
}

/* Answers the wire path must leave to ldns (it builds nothing for them). */
static void test_not_plain(void **state)
{
	static const char *const cname[] = {
		"mail.example.org. 600 IN CNAME mx.example.org.",
		"mail.example.org. 600 IN RRSIG CNAME 13 3 600 20301231000000 20201231000000 "
		"7 example.org. " SIG64,
		"mx.example.org. 600 IN MX 10 mx.example.org.",
		"mx.example.org. 600 IN RRSIG MX 13 3 600 20301231000000 20201231000000 "
		"7 example.org. " SIG64,
		NULL,
	};
	static const char *const wild[] = {
		"mail.example.org. 600 IN MX 10 mx.example.org.",
		"mail.example.org. 600 IN RRSIG MX 13 2 600 20301231000000 20201231000000 "
		"7 example.org. " SIG64,
		NULL,
	};
	static const char *const other_sig[] = {
		"mail.example.org. 600 IN MX 10 mx.example.org.",
		"mail.example.org. 600 IN RRSIG MX 13 3 600 20301231000000 20201231000000 "
		"7 example.org. " SIG64,
		"mail.example.org. 600 IN RRSIG TXT 13 3 600 20301231000000 20201231000000 "
		"7 example.org. " SIG64,
		NULL,
	};
	static const char *const unsigned_mx[] = {
		"mail.example.org. 600 IN MX 10 mx.example.org.",
		NULL,
	};
	static const char *const txt[] = {
		"mail.example.org. 600 IN TXT \"v=spf1 -all\"",
		"mail.example.org. 600 IN RRSIG TXT 13 3 600 20301231000000 20201231000000 "
		"7 example.org. " SIG64,
		NULL,
	};
	static const struct {
		const char *q;
		const char *const *an;
	} cases[] = {
		{ "mail.example.org. IN MX", cname },
		{ "mail.example.org. IN MX", wild },
		{ "mail.example.org. IN MX", other_sig },
		{ "mail.example.org. IN MX", unsigned_mx },
		{ "mail.example.org. IN TXT", txt },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		uint8_t *msg = build(&len, cases[i].q, cases[i].an);

		assert_int_equal(compare(msg, len), 0);
		free(msg);
	}
}

/*
 * Hand-made: a plain MX answer, then the same answer broken in ways the
 * wire path must not take (ldns may or may not; it decides then).
 */
static size_t hand_answer(uint8_t *m, int variant)
{
	static const uint8_t head[] = {
		0x12, 0x34, 0x81, 0x00, 0, 1, 0, 2, 0, 0, 0, 0,
		/* 12: question "mx.test." MX IN */
		2, 'm', 'x', 4, 't', 'e', 's', 't', 0, 0, 15, 0, 1,
	};
	size_t n = sizeof(head), rd;

	memcpy(m, head, n);
	/* MX record: owner a pointer to the question's name */
	m[n++] = 0xc0;
	m[n++] = 12;
	m[n++] = 0;
	m[n++] = 15;
	m[n++] = 0;
	m[n++] = variant == 5 ? 3 : 1; /* 5: class CH */
	m[n++] = 0;
	m[n++] = 0;
	m[n++] = 0x0e;
	m[n++] = 0x10;
	rd = n;
	n += 2; /* RDLENGTH, below */
	m[n++] = 0;
	m[n++] = 10;
	if (variant == 3) {
		/* a pointer forward, to the signer name of the RRSIG */
		m[n++] = 0xc0;
		m[n++] = 0x60;
	} else {
		m[n++] = 1;
		m[n++] = 'A';
		m[n++] = 0xc0;
		m[n++] = 12; /* a.mx.test., compressed */
	}
	if (variant == 2)
		m[n++] = 0; /* a byte past the name */
	m[rd] = 0;
	m[rd + 1] = (uint8_t)(n - rd - 2);
	/* RRSIG over it */
	m[n++] = 0xc0;
	m[n++] = 12;
	m[n++] = 0;
	m[n++] = 46;
	m[n++] = 0;
	m[n++] = 1;
	m[n++] = 0;
	m[n++] = 0;
	m[n++] = 0x0e;
	m[n++] = 0x10;
	rd = n;
	n += 2;
	{
		static const uint8_t fixed[18] = { 0,    15,   13,   2,    0,    0,
						   0x0e, 0x10, 0x70, 0,    0,    0,
						   0x60, 0,    0,    0,    0x30, 0x39 };

		memcpy(m + n, fixed, sizeof(fixed));
		n += sizeof(fixed);
	}
	if (variant == 4) {
		m[n++] = 0xc0; /* a compressed signer */
		m[n++] = 15;
	} else {
		static const uint8_t signer[] = { 4, 'T', 'e', 's', 't', 0 };

		memcpy(m + n, signer, sizeof(signer));
		n += sizeof(signer);
	}
	for (int i = 0; i < 64; i++)
		m[n++] = (uint8_t)(i * 7);
	m[rd] = (uint8_t)((n - rd - 2) >> 8);
	m[rd + 1] = (uint8_t)(n - rd - 2);
	if (variant == 6)
		m[3] = 0x03; /* NXDOMAIN */
	if (variant == 7)
		m[5] = 2; /* two questions */
	return n;
}

static void test_hand_made(void **state)
{
	static uint8_t m[1024];
	size_t n;

	(void)state;
	n = hand_answer(m, 0);
	assert_int_equal(compare(m, n), 1);
	for (int variant = 2; variant <= 7; variant++) {
		n = hand_answer(m, variant);
		assert_int_equal(compare(m, n), 0);
	}
	/* Cut anywhere, it is no longer plain, and nothing is read past it. */
	n = hand_answer(m, 0);
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *c = malloc(cut ? cut : 1);

		assert_non_null(c);
		memcpy(c, m, cut);
		assert_int_equal(compare(c, cut), 0);
		free(c);
	}
}

/* Deterministic mutations of plain answers: both paths agree on all the
 * wire path takes, and it takes some. */
static void test_mutations(void **state)
{
	static const char *const an[] = {
		"mail.example.org. 600 IN MX 20 mx2.Example.org.",
		"mail.example.org. 600 IN MX 10 mx1.example.org.",
		"mail.example.org. 600 IN RRSIG MX 13 3 600 20301231000000 20201231000000 "
		"12345 example.org. " SIG64,
		NULL,
	};
	size_t len, taken = 0;
	uint8_t *msg = build(&len, "mail.example.org. IN MX", an);
	uint8_t *c = malloc(len);
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	assert_non_null(c);
	for (int round = 0; round < 20000; round++) {
		memcpy(c, msg, len);
		for (int k = 0; k <= round % 3; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			c[(x >> 8) % len] = (uint8_t)(x >> 40);
		}
		taken += compare(c, len) > 0;
	}
	/* Many mutations only touch the signature or the header's ID. */
	assert_true(taken > 1000);
	free(c);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_answers_match_ldns),
		cmocka_unit_test(test_not_plain),
		cmocka_unit_test(test_hand_made),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
