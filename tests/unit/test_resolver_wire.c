/**
 * \file
 * Tests of the resolver's wire readers (mxc_dns_walk_*, mxc_dns_name_read,
 * mxc_dns_name_str) and of its name encoder (mxc__name_to_wire, which
 * handles plain names without ldns): the scanner reads MX answers with them
 * instead of ldns,
 * so they must agree with ldns on every well-formed message and refuse, in
 * bounded time, every malformed one. Agreement is checked against ldns
 * itself on messages ldns builds and on pseudo-random names; refusal on
 * hand-made hostile messages (pointer loops, truncation, bad label types).
 *
 * Raw free() appears only for memory ldns allocated (ldns_pkt2wire,
 * ldns_rdf2str), which belongs to the C library's allocator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "resolver/resolver.h"
#include "resolver/resolver_internal.h"

/* A response built by ldns: question, answers, authority, additional. */
static uint8_t *build_msg(size_t *len, const char *qname, const char *const *answers,
			  const char *const *authority, const char *const *additional)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *q = NULL;
	uint8_t *wire = NULL;

	assert_non_null(p);
	assert_int_equal(ldns_rr_new_question_frm_str(&q, qname, NULL, NULL), LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);
	ldns_pkt_set_qr(p, true);
	for (int s = 0; s < 3; s++) {
		const char *const *list = s == 0 ? answers : s == 1 ? authority : additional;
		ldns_pkt_section sec = s == 0   ? LDNS_SECTION_ANSWER
				       : s == 1 ? LDNS_SECTION_AUTHORITY
						: LDNS_SECTION_ADDITIONAL;

		for (size_t i = 0; list && list[i]; i++) {
			ldns_rr *rr = NULL;

			assert_int_equal(ldns_rr_new_frm_str(&rr, list[i], 0, NULL, NULL),
					 LDNS_STATUS_OK);
			ldns_pkt_push_rr(p, sec, rr);
		}
	}
	/* ldns compresses names, so the readers meet pointers. */
	assert_int_equal(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

static void test_walk_matches_ldns(void **state)
{
	static const char *const an[] = {
		"example.org. 300 IN CNAME mail.Example.NET.",
		"mail.example.net. 600 IN MX 10 mx1.example.net.",
		"mail.example.net. 600 IN MX 20 mx2.other.org.",
		NULL,
	};
	static const char *const ns[] = { "example.net. 900 IN NS ns.example.net.", NULL };
	static const char *const ad[] = {
		"mx1.example.net. 60 IN A 192.0.2.1",
		"mx1.example.net. 60 IN AAAA 2001:db8::1",
		NULL,
	};
	size_t len, n_rr = 0, count[4] = { 0 };
	uint8_t *msg = build_msg(&len, "example.org. IN MX", an, ns, ad);
	ldns_pkt *pkt = NULL;
	struct mxc_dns_walk w;
	struct mxc_dns_rr rr;
	int r;

	(void)state;
	assert_int_equal(ldns_wire2pkt(&pkt, msg, len), LDNS_STATUS_OK);
	assert_int_equal(mxc_dns_walk_init(&w, msg, len), 0);
	while ((r = mxc_dns_walk_next(&w, &rr)) == 1) {
		const ldns_rr_list *list = rr.section == 1   ? ldns_pkt_answer(pkt)
					   : rr.section == 2 ? ldns_pkt_authority(pkt)
							     : ldns_pkt_additional(pkt);
		const ldns_rr *ref = ldns_rr_list_rr(list, count[rr.section]++);
		uint8_t owner[MXC_DNS_NAME_WIRE_MAX];
		size_t olen;
		char *want = ldns_rdf2str(ldns_rr_owner(ref));
		char got[300];

		assert_non_null(ref);
		assert_int_equal(rr.type, ldns_rr_get_type(ref));
		assert_int_equal(rr.rclass, ldns_rr_get_class(ref));
		assert_int_equal(rr.ttl, ldns_rr_ttl(ref));
		assert_int_equal(mxc_dns_name_read(msg, len, rr.owner, owner, &olen, NULL), 0);
		assert_int_equal(mxc_dns_name_str(owner, olen, got, sizeof(got)), 0);
		/* ldns keeps the case and the final dot; we drop both. */
		for (char *c = want; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		want[strlen(want) - 1] = '\0';
		assert_string_equal(got, want);
		free(want);
		if (rr.type == LDNS_RR_TYPE_MX) {
			uint8_t ex[MXC_DNS_NAME_WIRE_MAX];
			size_t exlen, end;

			assert_int_equal(mxc_dns_name_read(msg, len, rr.rdata + 2, ex, &exlen, &end),
					 0);
			assert_int_equal(end, rr.rdata + rr.rdlen);
			assert_int_equal(exlen, ldns_rdf_size(ldns_rr_rdf(ref, 1)));
		}
		n_rr++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(n_rr, 6);
	assert_int_equal(count[1], 3);
	assert_int_equal(count[2], 1);
	assert_int_equal(count[3], 2);
	assert_int_equal(mxc_dns_msg_check(msg, len), 0);
	/* Every proper prefix lacks a record the header promises. */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(mxc_dns_msg_check(msg, cut), MXC_EPARSE);
	ldns_pkt_free(pkt);
	free(msg);
}

/* Header of a response with one question and @p an answers. */
static size_t header(uint8_t *m, unsigned an)
{
	memset(m, 0, 12);
	m[2] = 0x81;
	m[3] = 0x80;
	m[5] = 1;
	m[7] = (uint8_t)an;
	return 12;
}

static void test_hostile_names(void **state)
{
	uint8_t m[600], out[MXC_DNS_NAME_WIRE_MAX];
	size_t p, n, end;

	(void)state;
	/* A pointer to itself, and two pointers to each other: refused. */
	p = header(m, 0);
	m[p] = 0xc0;
	m[p + 1] = (uint8_t)p;
	assert_int_equal(mxc_dns_name_read(m, p + 2, p, out, &n, NULL), MXC_EPARSE);
	m[p] = 0xc0;
	m[p + 1] = (uint8_t)(p + 2);
	m[p + 2] = 0xc0;
	m[p + 3] = (uint8_t)p;
	assert_int_equal(mxc_dns_name_read(m, p + 4, p, out, &n, NULL), MXC_EPARSE);
	/* A label that grows the name through a loop: refused by length. */
	m[p] = 1;
	m[p + 1] = 'a';
	m[p + 2] = 0xc0;
	m[p + 3] = (uint8_t)p;
	assert_int_equal(mxc_dns_name_read(m, p + 4, p, out, &n, NULL), MXC_EPARSE);
	/* Pointer past the end, half a pointer, label types 01 and 10. */
	m[p] = 0xc1;
	m[p + 1] = 0xff;
	assert_int_equal(mxc_dns_name_read(m, p + 2, p, out, &n, NULL), MXC_EPARSE);
	assert_int_equal(mxc_dns_name_read(m, p + 1, p, out, &n, NULL), MXC_EPARSE);
	m[p] = 0x41;
	assert_int_equal(mxc_dns_name_read(m, p + 2, p, out, &n, NULL), MXC_EPARSE);
	m[p] = 0x81;
	assert_int_equal(mxc_dns_name_read(m, p + 2, p, out, &n, NULL), MXC_EPARSE);
	/* A label running past the end. */
	m[p] = 5;
	memcpy(m + p + 1, "abc", 3);
	assert_int_equal(mxc_dns_name_read(m, p + 4, p, out, &n, NULL), MXC_EPARSE);
	/* 128 labels of one byte: 257 bytes, one too many. */
	for (int i = 0; i < 128; i++) {
		m[p + 2 * i] = 1;
		m[p + 2 * i + 1] = 'x';
	}
	m[p + 256] = 0;
	assert_int_equal(mxc_dns_name_read(m, p + 257, p, out, &n, NULL), MXC_EPARSE);
	/* 127 of them: 255 bytes, the longest name there is. */
	m[p + 254] = 0;
	assert_int_equal(mxc_dns_name_read(m, p + 255, p, out, &n, &end), 0);
	assert_int_equal(n, 255);
	assert_int_equal(end, p + 255);
	/* A forward pointer to a real name is followed; end is past the pointer. */
	m[p] = 0xc0;
	m[p + 1] = (uint8_t)(p + 2);
	m[p + 2] = 2;
	memcpy(m + p + 3, "Ab", 2);
	m[p + 5] = 0;
	assert_int_equal(mxc_dns_name_read(m, p + 6, p, out, &n, &end), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "\002ab", 4);
	assert_int_equal(end, p + 2);
}

static void test_hostile_records(void **state)
{
	uint8_t m[64];
	size_t p = header(m, 1);
	struct mxc_dns_walk w;
	struct mxc_dns_rr rr;

	(void)state;
	/* Question: root, type MX, class IN. */
	m[p++] = 0;
	m[p++] = 0;
	m[p++] = 15;
	m[p++] = 0;
	m[p++] = 1;
	/* One answer whose RDLENGTH runs past the end. */
	m[p++] = 0xc0;
	m[p++] = 12;
	memcpy(m + p, "\000\017\000\001\000\000\000\074\000\010", 10);
	p += 10;
	m[p++] = 0;
	m[p++] = 10;
	assert_int_equal(mxc_dns_walk_init(&w, m, p), 0);
	assert_int_equal(mxc_dns_walk_next(&w, &rr), MXC_EPARSE);
	assert_int_equal(mxc_dns_msg_check(m, p), MXC_EPARSE);
	/* Fixed: RDLENGTH 2 fits. */
	m[p - 3] = 2;
	assert_int_equal(mxc_dns_msg_check(m, p), 0);
	assert_int_equal(mxc_dns_walk_init(&w, m, p), 0);
	assert_int_equal(mxc_dns_walk_next(&w, &rr), 1);
	assert_int_equal(rr.type, 15);
	assert_int_equal(rr.ttl, 60);
	assert_int_equal(rr.rdlen, 2);
	assert_int_equal(rr.section, 1);
	assert_int_equal(mxc_dns_walk_next(&w, &rr), 0);
	/* Header shorter than 12 bytes, question cut short. */
	assert_int_equal(mxc_dns_walk_init(&w, m, 11), MXC_EPARSE);
	assert_int_equal(mxc_dns_walk_init(&w, m, 15), MXC_EPARSE);
}

/* A tiny deterministic generator, so a failure names its seed. */
static uint32_t next_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void test_name_str_matches_ldns(void **state)
{
	/* Bytes that exercise every escape rule, letters of both cases. */
	static const uint8_t alphabet[] = { 'a', 'Z', '0', '-', '_', '.', ';', '(', ')', '\\',
					    ' ', '"', '@', '$', 0,   0x7f, 0x80, 0xff, '*' };
	uint32_t seed = 20261129;

	(void)state;
	for (int t = 0; t < 2000; t++) {
		uint8_t wire[MXC_DNS_NAME_WIRE_MAX];
		size_t n = 0;
		unsigned labels = 1 + next_rand(&seed) % 6;
		ldns_rdf *rdf;
		char *want, got[1100];
		size_t wl;

		for (unsigned l = 0; l < labels; l++) {
			unsigned ll = 1 + next_rand(&seed) % 12;

			wire[n++] = (uint8_t)ll;
			for (unsigned i = 0; i < ll; i++)
				wire[n++] = alphabet[next_rand(&seed) % sizeof(alphabet)];
		}
		wire[n++] = 0;
		rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, n, wire);
		assert_non_null(rdf);
		want = ldns_rdf2str(rdf);
		assert_non_null(want);
		for (char *c = want; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		wl = strlen(want);
		assert_true(wl > 0 && want[wl - 1] == '.');
		want[wl - 1] = '\0';
		assert_int_equal(mxc_dns_name_str(wire, n, got, sizeof(got)), 0);
		assert_string_equal(got, want);
		/* One byte too small does not fit; exactly enough does. */
		assert_int_equal(mxc_dns_name_str(wire, n, got, wl - 1), MXC_ETOOBIG);
		assert_int_equal(mxc_dns_name_str(wire, n, got, wl), 0);
		free(want);
		ldns_rdf_deep_free(rdf);
	}
}

static void test_name_str_edges(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(mxc_dns_name_str((const uint8_t *)"", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(mxc_dns_name_str((const uint8_t *)"\002Ab\000", 4, out, sizeof(out)), 0);
	assert_string_equal(out, "ab");
	/* A label past the end, bytes after the root, no root at all. */
	assert_int_equal(mxc_dns_name_str((const uint8_t *)"\005ab", 3, out, sizeof(out)),
			 MXC_ENAME);
	assert_int_equal(mxc_dns_name_str((const uint8_t *)"\001a\000x", 4, out, sizeof(out)),
			 MXC_ENAME);
	assert_int_equal(mxc_dns_name_str((const uint8_t *)"\001a", 2, out, sizeof(out)),
			 MXC_ENAME);
	assert_int_equal(mxc_dns_name_str((const uint8_t *)"\100a", 2, out, sizeof(out)),
			 MXC_ENAME);
}

static void test_name_to_wire_matches_ldns(void **state)
{
	/* Plain names: what the fast path takes; dots in every position. */
	static const char alphabet[] = "aZ0-_.*@xy.";
	uint32_t seed = 7;

	(void)state;
	for (int t = 0; t < 20000; t++) {
		char name[300];
		size_t n = (size_t)(t < 10000 ? next_rand(&seed) % 12 : 60 + next_rand(&seed) % 240);
		uint8_t got[MXC_DNS_NAME_WIRE_MAX], want[MXC_DNS_NAME_WIRE_MAX];
		size_t got_len = 0, want_len = 0;
		ldns_rdf *rdf = NULL;
		bool ldns_ok;
		int r;

		for (size_t i = 0; i < n; i++)
			name[i] = alphabet[next_rand(&seed) % (sizeof(alphabet) - 1)];
		name[n] = '\0';
		/* Long labels, so that the 63- and 255-byte limits are met. */
		if (t >= 10000)
			for (size_t i = 0; i < n; i++)
				if (name[i] == '.' && next_rand(&seed) % 4)
					name[i] = 'q';
		ldns_ok = n > 0 && ldns_str2rdf_dname(&rdf, name) == LDNS_STATUS_OK && rdf &&
			  ldns_rdf_size(rdf) <= MXC_DNS_NAME_WIRE_MAX;
		if (ldns_ok) {
			want_len = ldns_rdf_size(rdf);
			memcpy(want, ldns_rdf_data(rdf), want_len);
			for (size_t i = 0; i < want_len; i++)
				if (want[i] >= 'A' && want[i] <= 'Z')
					want[i] = (uint8_t)(want[i] - 'A' + 'a');
		}
		if (rdf)
			ldns_rdf_deep_free(rdf);
		r = mxc__name_to_wire(name, got, &got_len);
		if ((r == 0) != ldns_ok)
			fail_msg("'%s': ldns %s, mxc__name_to_wire %d", name,
				 ldns_ok ? "accepts" : "refuses", r);
		if (ldns_ok) {
			assert_int_equal(got_len, want_len);
			assert_memory_equal(got, want, got_len);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_matches_ldns),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_hostile_records),
		cmocka_unit_test(test_name_str_matches_ldns),
		cmocka_unit_test(test_name_str_edges),
		cmocka_unit_test(test_name_to_wire_matches_ldns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
