/**
 * \file
 * Pieces the parsers of probes/ share. Not part of any public API.
 */
#ifndef MXC_PROBES_INTERNAL_H
#define MXC_PROBES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/**
 * An extension field name of RFC 8461, in the TXT record (sts-ext-name) and
 * in the policy file (sts-policy-ext-name) alike:
 * (ALPHA / DIGIT) 0*31(ALPHA / DIGIT / "_" / "-" / ".").
 * @return 1 if @p p (@p n bytes) is one, else 0
 */
int mxc__sts_ext_name_ok(const uint8_t *p, size_t n);

#endif
