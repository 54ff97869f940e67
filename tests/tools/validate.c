/**
 * \file
 * mxc_validate: ask names through the stub resolver and print the
 * validator's verdict for each, for the end-to-end comparison with Unbound
 * (tests/e2e/test_dnssec_verdicts.sh) and for looking at one name by hand.
 *
 *   mxc_validate --resolver ADDR:PORT [--trust-anchor FILE] [--now UNIX]
 *                [--seed-dir DIR] [NAME TYPE]...   (or "NAME TYPE" lines on stdin)
 *
 * Prints "NAME TYPE STATUS REASON RCODE" per question, in input order, then
 * a line of validator counters on stderr.
 *
 * With --seed-dir, the questions are judged one at a time, each by a fresh
 * validator, and everything each one needed (the anchors, the answer, the
 * DS and DNSKEY answers in the order they arrived) is written to DIR as a
 * seed of the validator's fuzz target (tests/fuzz/fuzz_validator.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"
#include "resolver/resolver.h"
#include "resolver/validator.h"

struct item {
	char name[256];
	char type[16];
	struct mxc_val_result res;
	int rcode;
	bool done;
};

struct run {
	struct mxc_validator *v;
	struct item *items;
	size_t n, done;
	struct mxc_resolver *r;
	/* --seed-dir: the answers of the question being recorded */
	uint8_t *rec[64];
	size_t rec_len[64];
	size_t n_rec;
	bool recording;
};

struct relay {
	struct run *run;
	mxc_dns_cb cb;
	void *arg;
};

static void keep(struct run *run, const struct mxc_dns_answer *a)
{
	if (a->status != MXC_DNS_ANSWER || run->n_rec == 64)
		return;
	run->rec[run->n_rec] = malloc(a->wire_len);
	if (!run->rec[run->n_rec])
		return;
	memcpy(run->rec[run->n_rec], a->wire, a->wire_len);
	run->rec_len[run->n_rec++] = a->wire_len;
}

static void relay_cb(void *arg, const struct mxc_dns_answer *a)
{
	struct relay *rl = arg;

	keep(rl->run, a);
	rl->cb(rl->arg, a);
	free(rl);
}

/* The validator's questions go to the resolver; their answers are kept. */
static int recording_query(void *ctx, const char *name, uint16_t type, unsigned flags,
			   mxc_dns_cb cb, void *arg)
{
	struct run *run = ctx;
	struct relay *rl = malloc(sizeof(*rl));

	if (!rl)
		return MXC_ENOMEM;
	rl->run = run;
	rl->cb = cb;
	rl->arg = arg;
	return mxc_resolver_query_flags(run->r, name, type, flags, relay_cb, rl);
}

static void put_msg(FILE *f, const uint8_t *d, size_t len)
{
	fputc((int)(len >> 8), f);
	fputc((int)(len & 0xff), f);
	fwrite(d, 1, len, f);
}

/* One seed: time, anchors (as a message), the answer, then the rest. */
static int write_seed(const char *dir, const struct item *it, const ldns_rr_list *anchors,
		      int64_t now, struct run *run)
{
	char path[512];
	ldns_pkt *p = ldns_pkt_new();
	uint8_t *wire = NULL;
	size_t wlen = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s_%s", dir, it->name, it->type);
	for (size_t i = 0; p && i < ldns_rr_list_rr_count(anchors); i++)
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, ldns_rr_clone(ldns_rr_list_rr(anchors, i)));
	if (!p || ldns_pkt2wire(&wire, p, &wlen) != LDNS_STATUS_OK || !(f = fopen(path, "wb"))) {
		ldns_pkt_free(p);
		free(wire);
		return -1;
	}
	for (int i = 7; i >= 0; i--)
		fputc((int)((uint64_t)now >> (8 * i)) & 0xff, f);
	put_msg(f, wire, wlen);
	for (size_t i = 0; i < run->n_rec; i++)
		put_msg(f, run->rec[i], run->rec_len[i]);
	ldns_pkt_free(p);
	free(wire);
	return fclose(f);
}

struct ctx {
	struct run *run;
	struct item *it;
};

static void on_verdict(void *arg, struct mxc_val_result res)
{
	struct ctx *c = arg;

	c->it->res = res;
	c->it->done = true;
	c->run->done++;
	free(c);
}

static void on_answer(void *arg, const struct mxc_dns_answer *a)
{
	struct ctx *c = arg;

	if (c->run->recording && c->run->n_rec == 0)
		keep(c->run, a); /* the answer itself comes first */
	if (a->status != MXC_DNS_ANSWER) {
		c->it->rcode = -1;
		on_verdict(c, (struct mxc_val_result){ MXC_DNSSEC_INDETERMINATE, MXC_DR_TIMEOUT });
		return;
	}
	c->it->rcode = a->rcode;
	if (mxc_validator_check(c->run->v, a->wire, a->wire_len, on_verdict, c) != 0)
		on_verdict(c, (struct mxc_val_result){ MXC_DNSSEC_INDETERMINATE, MXC_DR_MALFORMED });
}

static int usage(void)
{
	fprintf(stderr, "usage: mxc_validate --resolver ADDR:PORT [--trust-anchor FILE] "
			"[--now UNIX] [NAME TYPE]...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct mxc_resolver_opts ro;
	struct mxc_validator_opts vo;
	struct mxc_upstream_cfg up;
	struct mxc_resolver *r;
	struct run run = { 0 };
	size_t cap = 0;
	const char *resolver = NULL, *seed_dir = NULL;
	ldns_rr_list *anchors = NULL;
	char err[512], line[600];
	uv_loop_t *loop = uv_default_loop();
	int i, rc;

	mxc_validator_opts_default(&vo);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--resolver") && i + 1 < argc)
			resolver = argv[++i];
		else if (!strcmp(argv[i], "--trust-anchor") && i + 1 < argc)
			vo.anchor_file = argv[++i];
		else if (!strcmp(argv[i], "--seed-dir") && i + 1 < argc)
			seed_dir = argv[++i];
		else if (!strcmp(argv[i], "--now") && i + 1 < argc)
			vo.now = strtoll(argv[++i], NULL, 10);
		else
			return usage();
	}
	if (!resolver || mxc_upstream_parse(resolver, &up) != 0)
		return usage();
	for (bool from_args = i < argc;;) {
		char name[256], type[16];

		if (from_args) {
			if (i >= argc)
				break;
			if (i + 1 >= argc)
				return usage();
			snprintf(name, sizeof(name), "%s", argv[i++]);
			snprintf(type, sizeof(type), "%s", argv[i++]);
		} else {
			if (!fgets(line, sizeof(line), stdin))
				break;
			if (sscanf(line, "%255s %15s", name, type) != 2 || name[0] == '#')
				continue;
		}
		if (run.n == cap) {
			cap = cap ? 2 * cap : 64;
			run.items = realloc(run.items, cap * sizeof(*run.items));
			if (!run.items)
				return 1;
		}
		memset(&run.items[run.n], 0, sizeof(run.items[0]));
		memcpy(run.items[run.n].name, name, sizeof(name));
		memcpy(run.items[run.n].type, type, sizeof(type));
		run.n++;
	}
	mxc_resolver_opts_default(&ro);
	ro.upstreams = &up;
	ro.n_upstreams = 1;
	ro.checking_disabled = true;
	rc = mxc_resolver_new(loop, &ro, &r);
	if (rc) {
		fprintf(stderr, "mxc_validate: resolver: %s\n", mxc_strerror(rc));
		return 1;
	}
	run.r = r;
	run.recording = seed_dir != NULL;
	if (seed_dir) {
		if (!vo.anchor_file ||
		    mxc_trust_anchor_load(vo.anchor_file, &anchors, err, sizeof(err)) != 0) {
			fprintf(stderr, "mxc_validate: --seed-dir needs --trust-anchor: %s\n",
				vo.anchor_file ? err : "");
			return 1;
		}
		vo.anchors = anchors;
		if (!vo.now)
			vo.now = (int64_t)time(NULL);
	}
	rc = mxc_validator_new(r, &vo, &run.v, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "mxc_validate: trust anchor: %s\n", err);
		return 1;
	}
	for (size_t k = 0; k < run.n; k++) {
		if (seed_dir) {
			/* One at a time, a fresh validator each: a whole chain per seed. */
			mxc_validator_free(run.v);
			if (mxc_validator_new(r, &vo, &run.v, err, sizeof(err)) != 0)
				return 1;
			mxc_validator_set_query(run.v, recording_query, &run);
			run.n_rec = 0;
		}
		struct ctx *c = malloc(sizeof(*c));
		ldns_rr_type t = ldns_get_rr_type_by_name(run.items[k].type);

		if (!c || !t)
			return 1;
		c->run = &run;
		c->it = &run.items[k];
		if (mxc_resolver_query(r, run.items[k].name, t, on_answer, c) != 0)
			on_answer(c, &(struct mxc_dns_answer){ .status = MXC_DNS_ERROR });
		if (!seed_dir)
			continue;
		while (run.done < k + 1 && uv_run(loop, UV_RUN_ONCE))
			;
		if (run.n_rec && write_seed(seed_dir, &run.items[k], anchors, vo.now, &run) != 0)
			fprintf(stderr, "mxc_validate: cannot write a seed into %s\n", seed_dir);
		for (size_t j = 0; j < run.n_rec; j++)
			free(run.rec[j]);
		run.n_rec = 0;
	}
	while (run.done < run.n && uv_run(loop, UV_RUN_ONCE))
		;
	for (size_t k = 0; k < run.n; k++) {
		const struct item *it = &run.items[k];
		const char *reason = mxc_dnssec_reason_name(it->res.reason);
		char *rcs = it->rcode < 0 ? NULL : ldns_pkt_rcode2str((ldns_pkt_rcode)it->rcode);

		printf("%s %s %s %s %s\n", it->name, it->type, mxc_dnssec_name(it->res.status),
		       reason[0] ? reason : "-", rcs ? rcs : "-");
		free(rcs);
	}
	{
		struct mxc_validator_stats st;

		mxc_validator_get_stats(run.v, &st);
		fprintf(stderr,
			"validator: checks %llu sig_verify %llu rrset_cached %llu zone_evals %llu "
			"zone_hits %llu zone_joined %llu queries %llu\n",
			(unsigned long long)st.checks, (unsigned long long)st.sig_verify,
			(unsigned long long)st.rrset_cached, (unsigned long long)st.zone_evals,
			(unsigned long long)st.zone_hits, (unsigned long long)st.zone_joined,
			(unsigned long long)st.queries);
	}
	fflush(stdout);
	mxc_resolver_close(r);
	uv_run(loop, UV_RUN_DEFAULT);
	mxc_validator_free(run.v);
	ldns_rr_list_deep_free(anchors);
	free(run.items);
	return 0;
}
