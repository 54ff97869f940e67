/**
 * \file
 * Fuzz target for the probes' stored results (probes/probe_rec.c): bytes
 * read back from a store are decoded as an SMTP result and as an MTA-STS
 * fetch; whatever decodes must encode and decode again to the same thing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "probes/probe_rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxc_smtp_result a, b;
	struct mxc_sts_rec s, t;
	struct mxc_buf buf;
	int r;

	mxc_buf_init(&buf, 1 << 22);
	r = mxc_smtp_rec_decode(data, size, &a);
	if (r != 0 && r != MXC_ECORRUPT && r != MXC_ESCHEMA)
		abort();
	if (r == 0) {
		if (mxc_smtp_rec_encode(&a, &buf) != 0 ||
		    mxc_smtp_rec_decode(buf.data, buf.len, &b) != 0 || memcmp(&a, &b, sizeof(a)))
			abort();
	}
	mxc_buf_reset(&buf);
	r = mxc_sts_rec_decode(data, size, &s);
	if (r != 0 && r != MXC_ECORRUPT && r != MXC_ESCHEMA)
		abort();
	if (r == 0) {
		if (mxc_sts_rec_encode(&s, &buf) != 0 ||
		    mxc_sts_rec_decode(buf.data, buf.len, &t) != 0 || s.error != t.error ||
		    s.http_code != t.http_code || strcmp(s.detail, t.detail) != 0 ||
		    s.body_len != t.body_len || (s.body_len && memcmp(s.body, t.body, s.body_len)))
			abort();
	}
	mxc_buf_free(&buf);
	return 0;
}
