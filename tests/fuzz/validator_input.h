/**
 * \file
 * The validator driven from one byte string: what the fuzz target
 * (fuzz_validator.c) and the validator's unit test (test_validator.c) share.
 * It follows an answer from the socket through parsing and DNSSEC
 * validation.
 *
 * Input: a chain (chain_input.h): 8 bytes of validation time, then DNS
 * messages, each preceded by its length:
 *   1. the trust anchors: the DS/DNSKEY records of its answer section;
 *   2. the answer to judge: its own header and question are registered as a
 *      question in flight, and it is fed to the resolver as a datagram from
 *      the upstream (ID, source and question matching, parsing), then
 *      handed to the validator;
 *   3. and on: the answers to the validator's DS and DNSKEY questions: the
 *      first unused message whose question is the one asked, else the next
 *      unused message, else a timeout.
 * Seeds come from the signed test world (mxc_validate --seed-dir), so the
 * fuzzer starts from chains that validate and mutates them into every way
 * they can fail. The validator is made anew for each input, so every input
 * walks its chain from the anchor.
 */
#ifndef MXC_TESTS_VALIDATOR_INPUT_H
#define MXC_TESTS_VALIDATOR_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain_input.h"
#include "resolver/resolver_internal.h"
#include "resolver/validator.h"

struct input {
	struct chain c;
	int verdicts;
	struct mxc_val_result last;
};

static uv_loop_t loop;
static struct mxc_resolver *res;
static struct mxc_upstream_cfg up;

static void teardown(void)
{
	if (!res)
		return;
	mxc_resolver_close(res);
	res = NULL;
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
}

static int setup(void)
{
	struct mxc_resolver_opts o;

	if (uv_loop_init(&loop) != 0 || mxc_upstream_parse("127.0.0.1:1", &up) != 0)
		return -1;
	mxc_resolver_opts_default(&o);
	o.upstreams = &up;
	o.n_upstreams = 1;
	o.n_sockets = 1;
	o.retries = 0;
	o.cache_entries = 0;
	o.udp_recvmmsg = false;
	if (mxc_resolver_new(&loop, &o, &res) != 0)
		return -1;
	atexit(teardown);
	return 0;
}

/* The validator's questions, answered from the input. */
static int from_input(void *ctx, const char *name, uint16_t type, unsigned flags,
		      mxc_dns_cb cb, void *arg)
{
	struct input *in = ctx;
	struct mxc_dns_answer a = { .status = MXC_DNS_TIMEOUT };
	struct msg *pick = NULL;

	(void)flags;
	for (size_t i = 2; i < in->c.n && !pick; i++)
		if (!in->c.m[i].used && chain_asks(&in->c.m[i], name, type))
			pick = &in->c.m[i];
	for (size_t i = 2; i < in->c.n && !pick; i++)
		if (!in->c.m[i].used)
			pick = &in->c.m[i];
	if (pick) {
		pick->used = true;
		a.status = MXC_DNS_ANSWER;
		a.wire = pick->data;
		a.wire_len = pick->len;
		a.rcode = pick->len >= 4 ? (pick->data[3] & 0x0f) : 0;
	}
	cb(arg, &a);
	return 0;
}

static void on_verdict(void *arg, struct mxc_val_result r)
{
	struct input *in = arg;

	/* Touch the verdict so the sanitizers see it is initialised. */
	if (mxc_dnssec_name(r.status)[0] == '?' || mxc_dnssec_reason_name(r.reason)[0] == '?')
		abort();
	in->verdicts++;
	in->last = r;
}

struct ctx {
	struct mxc_validator *v;
	struct input *in;
};

static void on_answer(void *arg, const struct mxc_dns_answer *a)
{
	struct ctx *c = arg;

	if (a->status == MXC_DNS_ANSWER &&
	    mxc_validator_check(c->v, a->wire, a->wire_len, on_verdict, c->in) != 0)
		c->in->verdicts++;
}

/*
 * Judge one input (the format above); @p out gets the last verdict (status
 * NONE when the input held no judgeable answer).
 */
static void validate_input(const uint8_t *data, size_t size, struct mxc_val_result *out)
{
	struct input in = { 0 };
	struct mxc_validator_opts o;
	struct mxc_validator *v = NULL;
	ldns_pkt *ans = NULL;
	ldns_rr_list *anchors = NULL;
	char err[256];
	struct ctx c = { NULL, &in };

	out->status = MXC_DNSSEC_NONE;
	out->reason = MXC_DR_NONE;
	if (!res && setup() != 0)
		abort();
	if (!chain_split(data, size, false, &in.c) || !(anchors = chain_anchors(&in.c)))
		goto out;
	mxc_validator_opts_default(&o);
	o.anchors = anchors;
	o.now = in.c.now ? in.c.now : 1;
	o.cache_entries = 64;
	if (mxc_validator_new(res, &o, &v, err, sizeof(err)) != 0)
		goto out;
	mxc_validator_set_query(v, from_input, &in);
	c.v = v;

	if (ldns_wire2pkt(&ans, in.c.m[1].data, in.c.m[1].len) == LDNS_STATUS_OK &&
	    ldns_rr_list_rr(ldns_pkt_question(ans), 0) && in.c.m[1].len >= 2) {
		ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(ans), 0);
		char *name = ldns_rdf2str(ldns_rr_owner(q));
		uint16_t id = (uint16_t)(in.c.m[1].data[0] << 8 | in.c.m[1].data[1]);

		/* Through the resolver's receive path, as from the socket. */
		if (name && mxc__resolver_register(res, name, ldns_rr_get_type(q), 0, id,
						   on_answer, &c) == 0) {
			mxc__resolver_udp_input(res, 0, (const struct sockaddr *)&up.addr,
						in.c.m[1].data, in.c.m[1].len);
			mxc__resolver_expire_all(res);
		}
		free(name);
	} else {
		/* Garbage goes to the validator too: it must refuse it cleanly. */
		if (mxc_validator_check(v, in.c.m[1].data, in.c.m[1].len, on_verdict, &in) != 0)
			in.verdicts++;
	}
	uv_run(&loop, UV_RUN_NOWAIT);
out:
	mxc_validator_free(v);
	ldns_rr_list_deep_free(anchors);
	ldns_pkt_free(ans);
	*out = in.last;
}

#endif
