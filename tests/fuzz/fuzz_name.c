/**
 * \file
 * Fuzz target for mxc_name_normalize: arbitrary bytes in, and when a name
 * comes out it must fit the contract (at most 253 octets, lower-case LDH
 * and '_' only) and be a fixed point: normalising it again gives it back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "scanner/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[MXC_NAME_MAX + 1], again[MXC_NAME_MAX + 1];
	const char *why = NULL;
	size_t len;

	if (mxc_name_normalize((const char *)data, size, out, &why) != 0) {
		if (!why)
			abort();
		return 0;
	}
	len = strlen(out);
	if (len == 0 || len > MXC_NAME_MAX)
		abort();
	for (size_t i = 0; i < len; i++) {
		char c = out[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.'))
			abort();
	}
	if (mxc_name_normalize(out, len, again, &why) != 0 || strcmp(out, again) != 0)
		abort();
	return 0;
}
