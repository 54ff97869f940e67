/**
 * \file
 * The TXT records of a DNS answer, as the classifiers of txtrec.h want
 * them: each record's character-strings joined (RFC 7208 3.3, RFC 8461
 * 3.1), so the scan (deciding whether to fetch an MTA-STS policy) and the
 * export (the record columns) read an answer the same way.
 */
#ifndef MXC_PROBES_TXTSET_H
#define MXC_PROBES_TXTSET_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "probes/txtrec.h"

/* TXT records read per answer; more are ignored. */
#define MXC_TXTSET_MAX 64

struct mxc_txtset {
	struct mxc_txtrec recs[MXC_TXTSET_MAX];
	size_t n;
	struct mxc_buf bytes; /**< the records' bytes, concatenated */
};

/** An empty set (its buffer bounded by the 64 KiB a DNS message can hold). */
void mxc_txtset_init(struct mxc_txtset *t);
void mxc_txtset_free(struct mxc_txtset *t);

/**
 * Read the TXT records of a response to (qname, TXT).
 * @param rcode the response's RCODE: NXDOMAIN means "no records", measured
 * @return 1 with t->n records (0 for NXDOMAIN or NODATA), 0 when the answer
 *         tells nothing (an error RCODE, unparseable bytes), or MXC_ENOMEM
 */
int mxc_txtset_from_wire(struct mxc_txtset *t, const uint8_t *wire, size_t len, uint8_t rcode);

#endif
