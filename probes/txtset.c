/**
 * \file
 * TXT records out of a DNS answer (see txtset.h).
 */
#include "probes/txtset.h"

#include <ldns/ldns.h>

#include "common/error.h"

void mxc_txtset_init(struct mxc_txtset *t)
{
	t->n = 0;
	mxc_buf_init(&t->bytes, (size_t)1 << 16);
}

void mxc_txtset_free(struct mxc_txtset *t)
{
	mxc_buf_free(&t->bytes);
	t->n = 0;
}

int mxc_txtset_from_wire(struct mxc_txtset *t, const uint8_t *wire, size_t len, uint8_t rcode)
{
	size_t offs[MXC_TXTSET_MAX], lens[MXC_TXTSET_MAX];
	const ldns_rr_list *answer;
	ldns_pkt *pkt = NULL;
	int r = 0;

	t->n = 0;
	mxc_buf_reset(&t->bytes);
	if (rcode == LDNS_RCODE_NXDOMAIN)
		return 1;
	if (rcode != LDNS_RCODE_NOERROR || !wire)
		return 0;
	if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK) {
		if (pkt)
			ldns_pkt_free(pkt);
		return 0;
	}
	answer = ldns_pkt_answer(pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(answer) && t->n < MXC_TXTSET_MAX && !r; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answer, i);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
			continue;
		offs[t->n] = t->bytes.len;
		for (size_t k = 0; k < ldns_rr_rd_count(rr) && !r; k++) {
			const ldns_rdf *rd = ldns_rr_rdf(rr, k);

			/* A character-string: its length byte, then the bytes. */
			if (ldns_rdf_size(rd) >= 1)
				r = mxc_buf_append(&t->bytes, ldns_rdf_data(rd) + 1,
						   ldns_rdf_size(rd) - 1);
		}
		lens[t->n] = t->bytes.len - offs[t->n];
		t->n++;
	}
	ldns_pkt_free(pkt);
	if (r)
		return r == MXC_ENOMEM ? r : 0;
	/* Pointers only now: the buffer may have moved while it grew. */
	for (size_t i = 0; i < t->n; i++) {
		t->recs[i].data = t->bytes.data ? t->bytes.data + offs[i] : (const uint8_t *)"";
		t->recs[i].len = lens[i];
	}
	return 1;
}
