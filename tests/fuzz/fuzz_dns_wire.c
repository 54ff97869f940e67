/**
 * \file
 * Fuzz target for the resolver's wire readers (mxc_dns_walk_*,
 * mxc_dns_name_read, mxc_dns_name_str), which the scanner uses instead of
 * ldns to read MX answers. For any bytes: walking the records ends (at the
 * end, or with MXC_EPARSE) without reading outside the input; every name the
 * reader returns is well formed, at most 255 bytes, and prints; and where
 * ldns also reads a name at the same offset, both read the same name (ours
 * lower-cased). The inputs are whole DNS messages.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "resolver/resolver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read the name at @p pos with both readers and compare. */
static void check_name(const uint8_t *data, size_t size, size_t pos)
{
	uint8_t name[MXC_DNS_NAME_WIRE_MAX];
	char text[4 * MXC_DNS_NAME_WIRE_MAX + 1];
	size_t len, end, lpos = pos;
	ldns_rdf *rdf = NULL;
	int r = mxc_dns_name_read(data, size, pos, name, &len, &end);

	if (r == 0) {
		if (len == 0 || len > MXC_DNS_NAME_WIRE_MAX || end > size || end <= pos)
			abort();
		if (mxc_dns_name_str(name, len, text, sizeof(text)) != 0)
			abort();
	}
	if (ldns_wire2dname(&rdf, data, size, &lpos) == LDNS_STATUS_OK && rdf) {
		const uint8_t *d = ldns_rdf_data(rdf);

		/* ldns refuses some names we take (forward pointers), never
		 * the other way round for a name both read: compare then. */
		if (r == 0) {
			if (ldns_rdf_size(rdf) != len || lpos != end)
				abort();
			for (size_t i = 0; i < len; i++) {
				uint8_t c = d[i] >= 'A' && d[i] <= 'Z' ? (uint8_t)(d[i] + 32) : d[i];

				if (c != name[i])
					abort();
			}
		}
		ldns_rdf_deep_free(rdf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxc_dns_walk w;
	struct mxc_dns_rr rr;
	unsigned n = 0;
	int r;

	if (size > 65535)
		return 0;
	if (size > 12)
		check_name(data, size, 12);
	r = mxc_dns_walk_init(&w, data, size);
	while (r == 0 && (r = mxc_dns_walk_next(&w, &rr)) == 1) {
		r = 0;
		if (rr.rdata + rr.rdlen > size || rr.section < 1 || rr.section > 3 || ++n > 3 * 65535)
			abort();
		check_name(data, size, rr.owner);
		if (rr.type == LDNS_RR_TYPE_MX && rr.rdlen >= 3)
			check_name(data, size, rr.rdata + 2);
		else if (rr.type == LDNS_RR_TYPE_CNAME || rr.type == LDNS_RR_TYPE_NS)
			check_name(data, size, rr.rdata);
	}
	if (r != 0 && r != MXC_EPARSE)
		abort();
	if ((mxc_dns_msg_check(data, size) == 0) != (r == 0))
		abort();
	return 0;
}
