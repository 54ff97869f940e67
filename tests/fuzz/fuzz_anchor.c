/**
 * \file
 * Fuzz target for the trust anchor file reader (--trust-anchor FILE):
 * whatever the bytes, reading ends with a list of whole DS/DNSKEY records or
 * an error message naming the line, and a validator can be made from what
 * was read (or says why not: too many anchor zones).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "resolver/validator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxc_validator_opts o;
	struct mxc_validator *v = NULL;
	ldns_rr_list *l = NULL;
	char err[512] = "";
	FILE *f;
	int r;

	if (size == 0)
		return 0;
	f = fmemopen((void *)(uintptr_t)data, size, "r");
	if (!f)
		return 0;
	r = mxc_trust_anchor_read(f, "fuzz", &l, err, sizeof(err));
	fclose(f);
	if (r == 0) {
		if (!l || !ldns_rr_list_rr_count(l))
			abort();
		mxc_validator_opts_default(&o);
		o.anchors = l;
		/* Whole DS/DNSKEY records always make anchors, unless they name
		 * more zones than a validator takes (and it says so). */
		r = mxc_validator_new(NULL, &o, &v, err, sizeof(err));
		if (r != 0 && !(r == MXC_EFULL && strstr(err, "trust anchor zones")))
			abort();
		mxc_validator_free(v);
		ldns_rr_list_deep_free(l);
	} else if (r != MXC_EPARSE && r != MXC_ENOMEM) {
		abort();
	} else if (l || strncmp(err, "fuzz", 4) != 0) {
		abort(); /* an error always names the file */
	}
	return 0;
}
