/**
 * \file
 * Fuzz target for the EHLO extension parser and the STARTTLS-stripping
 * detector (probes/smtp_reply.c).
 *
 * The input is prefixed with "250-" so that most inputs reach the EHLO
 * parser as a reply. Properties checked besides memory safety: a non-250
 * reply is refused with MXC_EINVAL; the extension bits are known bits;
 * stripping evidence comes with an eight-character printable keyword that
 * the detector itself accepts, and never with STARTTLS advertised by the
 * same line; the counts never exceed the number of lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "probes/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                            \
	do {                                                                \
		if (!(x)) {                                                 \
			fprintf(stderr, "property failed: %s\n", #x);       \
			abort();                                            \
		}                                                           \
	} while (0)

#define ALL_EXT ((MXC_EHLO_BINARYMIME << 1) - 1)
#define MAX_IN 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[MAX_IN + 4];
	struct mxc_smtp_reply r;
	struct mxc_ehlo e;
	size_t n, i;
	int rc;

	if (size > MAX_IN)
		size = MAX_IN;
	memcpy(buf, "250-", 4);
	memcpy(buf + 4, data, size);
	n = size + 4;
	if (mxc_smtp_reply_parse(buf, n, &r) != 1)
		return 0;
	rc = mxc_ehlo_parse(buf, &r, &e);
	if (r.code != 250) {
		CHECK(rc == MXC_EINVAL);
		return 0;
	}
	CHECK(rc == 0);
	CHECK((e.ext & ~(unsigned)ALL_EXT) == 0);
	CHECK(e.unknown + e.malformed + 1 <= r.nlines);
	if (e.stripped) {
		size_t kl = strlen(e.stripped_keyword);

		CHECK(kl == 8);
		for (i = 0; i < kl; i++)
			CHECK(e.stripped_keyword[i] > 0x20 && e.stripped_keyword[i] < 0x7f);
		CHECK(mxc_ehlo_keyword_stripped((const uint8_t *)e.stripped_keyword, kl));
		CHECK(e.unknown >= 1);
	} else {
		CHECK(e.stripped_keyword[0] == '\0');
	}
	/* The detector alone on the raw input: only eight bytes can match. */
	if (mxc_ehlo_keyword_stripped(data, size))
		CHECK(size == 8);
	return 0;
}
