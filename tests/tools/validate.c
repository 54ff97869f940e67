/**
 * \file
 * mxc_validate: ask names through the stub resolver and print the
 * validator's verdict for each, for the end-to-end comparison with Unbound
 * (tests/e2e/test_dnssec_verdicts.sh) and for looking at one name by hand.
 *
 *   mxc_validate --resolver ADDR:PORT [--trust-anchor FILE] [--now UNIX]
 *                [NAME TYPE]...      (or "NAME TYPE" lines on stdin)
 *
 * Prints "NAME TYPE STATUS REASON RCODE" per question, in input order, then
 * a line of validator counters on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

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
	const char *resolver = NULL;
	char err[512], line[600];
	uv_loop_t *loop = uv_default_loop();
	int i, rc;

	mxc_validator_opts_default(&vo);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--resolver") && i + 1 < argc)
			resolver = argv[++i];
		else if (!strcmp(argv[i], "--trust-anchor") && i + 1 < argc)
			vo.anchor_file = argv[++i];
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
	rc = mxc_validator_new(r, &vo, &run.v, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "mxc_validate: trust anchor: %s\n", err);
		return 1;
	}
	for (size_t k = 0; k < run.n; k++) {
		struct ctx *c = malloc(sizeof(*c));
		ldns_rr_type t = ldns_get_rr_type_by_name(run.items[k].type);

		if (!c || !t)
			return 1;
		c->run = &run;
		c->it = &run.items[k];
		if (mxc_resolver_query(r, run.items[k].name, t, on_answer, c) != 0)
			on_answer(c, &(struct mxc_dns_answer){ .status = MXC_DNS_ERROR });
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
	free(run.items);
	return 0;
}
