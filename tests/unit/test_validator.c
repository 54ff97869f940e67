/**
 * \file
 * The validator's verdicts on recorded chains, without a network: each seed
 * of tests/fuzz/corpus/validator/ (named NAME_TYPE, recorded from the signed
 * test world by mxc_validate --seed-dir: anchors, the answer, and every DS
 * and DNSKEY answer the validator needed, at the recording's clock) must get
 * the verdict and reason tests/world/truth_dnssec.csv gives that question.
 * The same seeds with a damaged signature or a clock moved outside the
 * signatures' validity must not come out secure.
 */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fuzz/validator_input.h"

#define MAX_SEED (1 << 20)

static const char *src_dir(void)
{
	const char *d = getenv("MXC_SOURCE_DIR");

	return d ? d : ".";
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* The truth's verdict and reason for "NAME_TYPE"; false if not listed. */
static bool truth_of(const char *seed, char *verdict, char *reason)
{
	char path[512], line[512];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "%s/tests/world/truth_dnssec.csv", src_dir());
	f = fopen(path, "r");
	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f)) {
		char name[256], type[16], key[300];
		int n = 0;

		verdict[0] = reason[0] = '\0';
		if (sscanf(line, "%255[^,],%15[^,],%15[^,\n],%n", name, type, verdict, &n) < 3)
			continue;
		if (n > 0)
			sscanf(line + n, "%63[^,\n]", reason);
		snprintf(key, sizeof(key), "%s_%s", name, type);
		found = strcmp(key, seed) == 0;
	}
	fclose(f);
	/* A plain insecure delegation: the truth leaves the reason empty. */
	if (found && !reason[0] && strcmp(verdict, "insecure") == 0)
		snprintf(reason, 64, "no-ds");
	return found;
}

static void test_seeds_against_truth(void **state)
{
	static uint8_t buf[MAX_SEED];
	char dir[512], path[1024], verdict[16], reason[64];
	struct dirent *e;
	size_t checked = 0;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/validator", src_dir());
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		struct mxc_val_result r;
		size_t n;

		if (e->d_name[0] == '.' || !truth_of(e->d_name, verdict, reason))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = read_file(path, buf, sizeof(buf));
		validate_input(buf, n, &r);
		if (strcmp(mxc_dnssec_name(r.status), verdict) != 0 ||
		    strcmp(r.status == MXC_DNSSEC_SECURE ? "" : mxc_dnssec_reason_name(r.reason),
			   reason) != 0) {
			fprintf(stderr, "%s: want %s %s, got %s %s\n", e->d_name, verdict, reason,
				mxc_dnssec_name(r.status), mxc_dnssec_reason_name(r.reason));
			closedir(d);
			fail();
		}
		checked++;
	}
	closedir(d);
	/* The corpus covers the truth: every row but the odd one out. */
	assert_true(checked >= 80);
}

/* Where the signature of the answer's RRSIG lies in the seed; 0 if none. */
static size_t signature_at(const uint8_t *buf, size_t n, size_t *siglen)
{
	size_t off = 8, len;
	ldns_pkt *p = NULL;
	size_t at = 0;

	/* Skip the anchors' message: the answer is the second. */
	len = (size_t)buf[off] << 8 | buf[off + 1];
	off += 2 + len;
	len = (size_t)buf[off] << 8 | buf[off + 1];
	off += 2;
	assert_true(off + len <= n);
	assert_int_equal(ldns_wire2pkt(&p, buf + off, len), LDNS_STATUS_OK);
	for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(p)) && !at; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		ldns_rdf *sig;
		const uint8_t *hit;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG || !(sig = ldns_rr_rdf(rr, 8)))
			continue;
		hit = memmem(buf + off, len, ldns_rdf_data(sig), ldns_rdf_size(sig));
		if (hit) {
			at = (size_t)(hit - buf);
			*siglen = ldns_rdf_size(sig);
		}
	}
	ldns_pkt_free(p);
	return at;
}

/* A damaged signature, or a clock outside the validity: never secure. */
static void test_damage_is_never_secure(void **state)
{
	static uint8_t buf[MAX_SEED], copy[MAX_SEED];
	char path[1024];
	struct mxc_val_result r;
	size_t n, at, siglen = 0;
	int64_t when = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/validator/one.test_MX", src_dir());
	n = read_file(path, buf, sizeof(buf));
	validate_input(buf, n, &r);
	assert_int_equal(r.status, MXC_DNSSEC_SECURE);
	at = signature_at(buf, n, &siglen);
	assert_true(at > 0 && siglen > 0);
	for (size_t i = 0; i < siglen; i += 7) {
		memcpy(copy, buf, n);
		copy[at + i] ^= 0x40;
		validate_input(copy, n, &r);
		assert_int_equal(r.status, MXC_DNSSEC_BOGUS);
		assert_string_equal(mxc_dnssec_reason_name(r.reason), "bad-signature");
	}
	/* The clock a year later: every signature has expired. */
	for (int i = 0; i < 8; i++)
		when = when << 8 | buf[i];
	when += 365 * 86400;
	memcpy(copy, buf, n);
	for (int i = 7; i >= 0; i--) {
		copy[i] = (uint8_t)when;
		when >>= 8;
	}
	validate_input(copy, n, &r);
	assert_int_equal(r.status, MXC_DNSSEC_BOGUS);
	assert_string_equal(mxc_dnssec_reason_name(r.reason), "signature-expired");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeds_against_truth),
		cmocka_unit_test(test_damage_is_never_secure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
