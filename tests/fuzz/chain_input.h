/**
 * \file
 * A recorded validation chain as one byte string, and the few things done
 * with it: what the validator's fuzz target (validator_input.h, also used
 * by test_validator.c) and test_validator_pool.c share.
 *
 * Format: 8 bytes of validation time (Unix seconds, big-endian), then DNS
 * messages, each preceded by its length (u16, big-endian): the trust
 * anchors (the DS/DNSKEY records of the first message's answer section),
 * the answer to judge, then answers to the validator's questions.
 */
#ifndef MXC_TESTS_CHAIN_INPUT_H
#define MXC_TESTS_CHAIN_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ldns/ldns.h>

#define MAX_MSGS 48

struct msg {
	const uint8_t *data;
	size_t len;
	bool used;              /* free for the user's bookkeeping */
};

struct chain {
	int64_t now;
	struct msg m[MAX_MSGS];
	size_t n;
};

/*
 * Split @p data into @p c (at most MAX_MSGS messages). A length running
 * past the end makes the split fail when @p strict (a recorded seed must be
 * whole) and is cut at the end otherwise (what a fuzzer's mutation gets).
 * True when the time and at least two messages were there.
 */
static inline bool chain_split(const uint8_t *data, size_t size, bool strict, struct chain *c)
{
	size_t off = 8;

	memset(c, 0, sizeof(*c));
	if (size < 8)
		return false;
	for (int i = 0; i < 8; i++)
		c->now = (int64_t)((uint64_t)c->now << 8 | data[i]);
	while (off + 2 <= size && c->n < MAX_MSGS) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];

		off += 2;
		if (len > size - off) {
			if (strict)
				return false;
			len = size - off;
		}
		c->m[c->n].data = data + off;
		c->m[c->n].len = len;
		c->n++;
		off += len;
	}
	return c->n >= 2;
}

/* Does message @p m ask (name, type)? */
static inline bool chain_asks(const struct msg *m, const char *name, uint16_t type)
{
	ldns_pkt *p = NULL;
	bool yes = false;

	if (ldns_wire2pkt(&p, m->data, m->len) == LDNS_STATUS_OK) {
		ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
		ldns_rdf *want = ldns_dname_new_frm_str(name);

		yes = q && want && ldns_rr_get_type(q) == type &&
		      ldns_dname_compare(ldns_rr_owner(q), want) == 0;
		ldns_rdf_deep_free(want);
	}
	ldns_pkt_free(p);
	return yes;
}

/*
 * The trust anchors of @p c: copies of the DS and DNSKEY records in the
 * answer section of its first message. NULL when that message does not
 * parse or holds none; the caller frees the list (ldns_rr_list_deep_free).
 */
static inline ldns_rr_list *chain_anchors(const struct chain *c)
{
	ldns_pkt *p = NULL;
	ldns_rr_list *anchors = NULL;

	if (c->n < 1 || ldns_wire2pkt(&p, c->m[0].data, c->m[0].len) != LDNS_STATUS_OK)
		return NULL;
	anchors = ldns_rr_list_new();
	for (size_t i = 0; anchors && i < ldns_rr_list_rr_count(ldns_pkt_answer(p)); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DS ||
		    ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNSKEY)
			ldns_rr_list_push_rr(anchors, ldns_rr_clone(rr));
	}
	ldns_pkt_free(p);
	if (anchors && !ldns_rr_list_rr_count(anchors)) {
		ldns_rr_list_free(anchors);
		anchors = NULL;
	}
	return anchors;
}

#endif
