/**
 * \file
 * sts_fetch_cli: one domain's MTA-STS verdict, as the census would give it,
 * for the end-to-end test of the policy world (tests/e2e/test_world_sts.sh).
 *
 * The test asks DNS itself (dig at the world's Unbound) and passes what it
 * found: the `_mta-sts` TXT records, the MX host names, the addresses of
 * mta-sts.<domain>. This program classifies the TXT records, fetches the
 * policy with the real fetcher when the record is valid, and prints one CSV
 * row in the columns of tests/world/truth_sts.csv:
 *
 *   domain,mta_sts_txt,mta_sts_policy,mta_sts_error,mta_sts_mode,
 *   mta_sts_max_age,mx_patterns_match
 *
 * mx_patterns_match treats every MX host as PKIX-valid, so it says whether
 * the patterns cover the hosts; the certificate half of the verdict needs
 * the SMTP probes. The fetch's detail goes to stderr.
 *
 *   sts_fetch_cli [--port N] [--ca-file FILE] [--timeout-ms N]
 *                 [--txt RECORD]... [--mx HOST]... [--addr IP]... DOMAIN
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "common/error.h"
#include "common/util.h"
#include "probes/sts_fetch.h"
#include "probes/txtrec.h"

#define MAX_ITEMS 16

struct run {
	const char *domain;
	const char **mx;
	size_t n_mx;
	int done;
};

static void usage(void)
{
	fprintf(stderr, "usage: sts_fetch_cli [--port N] [--ca-file FILE] [--timeout-ms N]\n"
			"                     [--txt RECORD]... [--mx HOST]... [--addr IP]... DOMAIN\n");
}

static void on_result(const struct mxc_sts_fetch_result *res, void *arg)
{
	struct run *run = arg;
	struct mxc_sts_mx_host hosts[MAX_ITEMS];
	size_t i;

	run->done = 1;
	if (res->detail[0])
		fprintf(stderr, "sts_fetch_cli: %s: %s: %s\n", res->domain, res->error_name,
			res->detail);
	if (res->error == MXC_STS_FETCH_OK) {
		for (i = 0; i < run->n_mx; i++) {
			hosts[i].name = run->mx[i];
			hosts[i].pkix_valid = true;
		}
		printf("%s,valid,ok,,%s,%u,%s\n", res->domain,
		       mxc_sts_mode_name(res->policy->mode), (unsigned)res->policy->max_age,
		       mxc_sts_mx_match_name(mxc_sts_mx_match(res->policy, hosts, run->n_mx)));
	} else if (res->error == MXC_STS_FETCH_SYNTAX) {
		printf("%s,valid,invalid,syntax,,,n-a\n", res->domain);
	} else {
		printf("%s,valid,fetch-error,%s,,,n-a\n", res->domain, res->error_name);
	}
}

static int parse_addr(const char *s, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)(void *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)(void *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return 0;
	}
	return MXC_EINVAL;
}

int main(int argc, char **argv)
{
	struct mxc_sts_fetch_opts opts = { 0 };
	struct mxc_txtrec txt[MAX_ITEMS];
	struct sockaddr_storage addrs[MAX_ITEMS];
	const char *mx[MAX_ITEMS];
	size_t n_txt = 0, n_addr = 0, n_mx = 0;
	struct mxc_sts_txt st;
	struct mxc_sts_fetcher *f;
	struct run run = { 0 };
	uv_loop_t loop;
	uint64_t v;
	int i, r;

	for (i = 1; i < argc - 1; i += 2) {
		const char *k = argv[i], *val = argv[i + 1];

		if (!strcmp(k, "--port") && !mxc_parse_u64(val, 1, 65535, &v)) {
			opts.port = (uint16_t)v;
		} else if (!strcmp(k, "--timeout-ms") && !mxc_parse_u64(val, 1, 600000, &v)) {
			opts.timeout_ms = (uint32_t)v;
		} else if (!strcmp(k, "--ca-file")) {
			opts.ca_file = val;
		} else if (!strcmp(k, "--txt") && n_txt < MAX_ITEMS) {
			txt[n_txt].data = (const uint8_t *)val;
			txt[n_txt++].len = strlen(val);
		} else if (!strcmp(k, "--mx") && n_mx < MAX_ITEMS) {
			mx[n_mx++] = val;
		} else if (!strcmp(k, "--addr") && n_addr < MAX_ITEMS) {
			if (parse_addr(val, &addrs[n_addr++])) {
				fprintf(stderr, "sts_fetch_cli: --addr %s: not an IP address\n", val);
				return 2;
			}
		} else {
			usage();
			return 2;
		}
	}
	if (i != argc - 1) {
		usage();
		return 2;
	}
	run.domain = argv[argc - 1];
	run.mx = mx;
	run.n_mx = n_mx;

	if (mxc_txtrec_sts(txt, n_txt, &st))
		return 1;
	if (st.status != MXC_TXTREC_VALID) {
		printf("%s,%s,n-a,,,,n-a\n", run.domain, mxc_txtrec_status_name(st.status));
		return 0;
	}
	uv_loop_init(&loop);
	r = mxc_sts_fetcher_new(&loop, &opts, &f);
	if (r) {
		fprintf(stderr, "sts_fetch_cli: %s\n", mxc_strerror(r));
		return 1;
	}
	r = mxc_sts_fetch_start(f, run.domain, addrs, n_addr, on_result, &run);
	if (r)
		fprintf(stderr, "sts_fetch_cli: %s: %s\n", run.domain, mxc_strerror(r));
	else
		uv_run(&loop, UV_RUN_DEFAULT);
	mxc_sts_fetcher_close(f);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return r || !run.done ? 1 : 0;
}
