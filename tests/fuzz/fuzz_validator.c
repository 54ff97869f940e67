/**
 * \file
 * Fuzz target for the path an answer takes from the socket through parsing
 * and DNSSEC validation (the input format and the driver are in
 * validator_input.h, shared with tests/unit/test_validator.c). Seeds come
 * from the signed test world (mxc_validate --seed-dir), so the fuzzer starts
 * from chains that validate and mutates them into every way they can fail.
 * The validator is made with the resolver's loop and default options, so an
 * MX RRset goes to its verification thread; the verdict comes back when the
 * validator is freed at the end of the input (validator.h).
 *
 * The answer is also held to the validator's wire path for plain answers:
 * for every RRSIG over the question's RRset the wire path builds signed
 * data for, ldns's parse (the general path) must build the same bytes, or
 * the input aborts (mxc__validator_signed_data).
 */
#include <stdio.h>
#include <stdlib.h>

#include "validator_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The second message of the input (the answer), or NULL. */
static const uint8_t *answer_of(const uint8_t *data, size_t size, size_t *len)
{
	size_t off = 8;

	for (int k = 0; k < 2; k++) {
		if (off + 2 > size)
			return NULL;
		*len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (*len > size - off)
			*len = size - off;
		if (k == 1)
			return data + off;
		off += *len;
	}
	return NULL;
}

/* Both paths sign the same bytes wherever the wire path builds any. */
static void check_wire_path(const uint8_t *msg, size_t len)
{
	static uint8_t a[1 << 16], b[1 << 16];

	for (unsigned i = 0; i < 8; i++) {
		int wn = mxc__validator_signed_data(msg, len, i, true, a, sizeof(a));
		int gn;

		if (wn <= 0)
			return;
		gn = mxc__validator_signed_data(msg, len, i, false, b, sizeof(b));
		if (gn != wn || memcmp(a, b, (size_t)wn) != 0) {
			fprintf(stderr, "RRSIG %u: the wire path signs %d bytes, ldns's %d\n", i,
				wn, gn);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxc_val_result r;
	const uint8_t *ans;
	size_t len = 0;

	validate_input(data, size, &r);
	ans = answer_of(data, size, &len);
	if (ans)
		check_wire_path(ans, len);
	/* To check that seeds reach the verdicts they were recorded with. */
	if (getenv("MXC_FUZZ_VERBOSE"))
		fprintf(stderr, "verdict: %s %s\n", mxc_dnssec_name(r.status),
			mxc_dnssec_reason_name(r.reason));
	return 0;
}
