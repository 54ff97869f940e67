/**
 * \file
 * Fuzz target for the resolver's receive path: the bytes are handled exactly
 * as a UDP datagram from the upstream would be after recv (ID and source
 * matching, ldns parsing, QR/opcode/question checks, TC=1 hand-over to TCP,
 * cache insertion, delivery to the waiters).
 *
 * So that inputs can get past the ID check, one question per entry of a small
 * table (the names and types a census asks) is registered on its own socket
 * with the ID taken from the input's first two bytes, and the input is fed to
 * every socket: the socket whose question matches accepts it, the others must
 * count it as a wrong question. Then every question left is expired, as after
 * its last timeout. The resolver persists across inputs, so its cache (kept
 * small) and pools are exercised too. The upstream is 127.0.0.1:1, where
 * nothing listens: a TC=1 input costs at most a refused loopback connection.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/resolver_internal.h"

static const struct {
	const char *name;
	uint16_t type;
} questions[] = {
	{ "example.com", LDNS_RR_TYPE_MX },
	{ "example.com", LDNS_RR_TYPE_A },
	{ "_25._tcp.mail.example.com", LDNS_RR_TYPE_TLSA },
	{ "_mta-sts.example.com", LDNS_RR_TYPE_TXT },
	{ "example.com", LDNS_RR_TYPE_DNSKEY },
	{ "nx.example.com", LDNS_RR_TYPE_AAAA },
};
#define NQ (sizeof(questions) / sizeof(questions[0]))

static uv_loop_t loop;
static struct mxc_resolver *res;
static struct mxc_upstream_cfg up;
static size_t delivered;

static void on_answer(void *arg, const struct mxc_dns_answer *a)
{
	/* Touch what a caller would read, so the sanitizers check it. */
	if (a->status == MXC_DNS_ANSWER) {
		volatile uint8_t x = 0;

		for (size_t i = 0; i < a->wire_len; i++)
			x ^= a->wire[i];
		(void)x;
		/* The lazy parse of whatever passed the header and question checks. */
		(void)mxc_dns_answer_pkt(a);
	}
	delivered++;
}

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
	o.n_sockets = NQ;
	o.retries = 0;
	o.cache_entries = 64;
	o.udp_recvmmsg = false;
	if (mxc_resolver_new(&loop, &o, &res) != 0)
		return -1;
	atexit(teardown);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t id;

	if (!res && setup() != 0)
		abort();
	if (size < 2)
		return 0;
	id = (uint16_t)(data[0] << 8 | data[1]);
	for (unsigned i = 0; i < NQ; i++)
		mxc__resolver_register(res, questions[i].name, questions[i].type, i, id,
				       on_answer, NULL);
	for (unsigned i = 0; i < NQ; i++)
		mxc__resolver_udp_input(res, i, (const struct sockaddr *)&up.addr, data, size);
	mxc__resolver_expire_all(res);
	/* Let closed TCP handles and cache-hit deliveries run. */
	uv_run(&loop, UV_RUN_NOWAIT);
	return 0;
}
