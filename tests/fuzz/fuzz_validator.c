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
 */
#include <stdio.h>
#include <stdlib.h>

#include "validator_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxc_val_result r;

	validate_input(data, size, &r);
	/* To check that seeds reach the verdicts they were recorded with. */
	if (getenv("MXC_FUZZ_VERBOSE"))
		fprintf(stderr, "verdict: %s %s\n", mxc_dnssec_name(r.status),
			mxc_dnssec_reason_name(r.reason));
	return 0;
}
