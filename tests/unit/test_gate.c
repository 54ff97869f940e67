/**
 * \file
 * Tests of the connection gate (scanner/gate.c) on a real libuv loop: the
 * blocklist answers before any permit, a request the politeness limits
 * hold back waits in the queue and goes when its time comes (or when a
 * connection ends), requests for other addresses are not held behind it,
 * and closing the gate cancels what waits.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "scanner/gate.h"

struct req {
	struct mxc_gate_req g; /* first: the gate hands it back */
	int verdict;           /* -1 until go */
	uint64_t at_ms;        /* when go came */
};

static void go(struct mxc_gate_req *r, enum mxc_gate_verdict v)
{
	struct req *q = (struct req *)(void *)r;

	q->verdict = (int)v;
	q->at_ms = mxc_now_ms();
}

static void init_req(struct req *q, const char *ip, const char *name)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&q->g.addr;

	memset(q, 0, sizeof(*q));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(25);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	q->g.name = name;
	q->g.go = go;
	q->verdict = -1;
}

/* Run the loop until @p q has its verdict or @p ms pass. */
static void wait_for(uv_loop_t *loop, struct req *q, uint64_t ms)
{
	uint64_t end = mxc_now_ms() + ms;

	while (q->verdict < 0 && mxc_now_ms() < end)
		uv_run(loop, UV_RUN_NOWAIT);
}

static void test_rate_queue_and_release(void **state)
{
	uv_loop_t loop;
	struct mxc_polite_opts o;
	struct mxc_gate *g;
	struct req a, b, c, other;
	uint64_t t0;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	mxc_polite_opts_init(&o);
	o.host.rate = 10.0;      /* one new connection per 100 ms per address */
	o.host.burst = 1;
	o.host.max_inflight = 1; /* and one open at a time */
	o.net.rate = 0.0;
	o.net.max_inflight = 0;
	assert_int_equal(mxc_gate_new(&loop, &o, NULL, &g), 0);

	init_req(&a, "127.0.0.10", "a.example");
	init_req(&b, "127.0.0.10", "a.example");
	init_req(&c, "127.0.0.10", "a.example");
	init_req(&other, "127.0.1.20", "b.example");
	t0 = mxc_now_ms();
	mxc_gate_enter(g, &a.g);
	assert_int_equal(a.verdict, MXC_GATE_GO); /* at once */
	mxc_gate_enter(g, &b.g);
	mxc_gate_enter(g, &c.g);
	assert_int_equal(b.verdict, -1); /* held: rate and the open connection */
	assert_int_equal(c.verdict, -1);
	/* Another address is not held behind them. */
	mxc_gate_enter(g, &other.g);
	wait_for(&loop, &other, 1000);
	assert_int_equal(other.verdict, MXC_GATE_GO);
	/* b waits for a's connection to end, whatever the clock says. */
	wait_for(&loop, &b, 300);
	assert_int_equal(b.verdict, -1);
	mxc_gate_leave(g, (const struct sockaddr *)&a.g.addr);
	wait_for(&loop, &b, 2000);
	assert_int_equal(b.verdict, MXC_GATE_GO);
	assert_true(b.at_ms - t0 >= 90); /* not before the bucket refilled */
	/* c comes after b's connection ends and another 100 ms. */
	mxc_gate_leave(g, (const struct sockaddr *)&b.g.addr);
	wait_for(&loop, &c, 2000);
	assert_int_equal(c.verdict, MXC_GATE_GO);
	assert_true(c.at_ms - b.at_ms >= 90);
	{
		struct mxc_gate_stats st;

		mxc_gate_get_stats(g, &st);
		assert_int_equal(st.granted, 4);
		assert_int_equal(st.queued, 0);
		assert_true(st.waited >= 2);
	}
	mxc_gate_leave(g, (const struct sockaddr *)&c.g.addr);
	mxc_gate_leave(g, (const struct sockaddr *)&other.g.addr);
	mxc_gate_close(g);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_blocklist_and_close(void **state)
{
	static const char list[] = "# test\nblocked.example\n127.0.9.0/24\n";
	uv_loop_t loop;
	struct mxc_polite_opts o;
	struct mxc_blocklist *bl;
	struct mxc_gate *g;
	struct req by_name, by_addr, ok, waiting;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(mxc_blocklist_new(&bl), 0);
	assert_int_equal(mxc_blocklist_add_text(bl, "list", list, sizeof(list) - 1, NULL, 0), 0);
	mxc_polite_opts_init(&o);
	o.host.rate = 0.001; /* after the first, nothing for a long while */
	o.host.burst = 1;
	assert_int_equal(mxc_gate_new(&loop, &o, bl, &g), 0);

	init_req(&by_name, "127.0.0.30", "mx.blocked.example");
	init_req(&by_addr, "127.0.9.7", "fine.example");
	init_req(&ok, "127.0.0.30", "fine.example");
	init_req(&waiting, "127.0.0.30", "fine.example");
	mxc_gate_enter(g, &by_name.g);
	mxc_gate_enter(g, &by_addr.g);
	mxc_gate_enter(g, &ok.g);
	mxc_gate_enter(g, &waiting.g);
	/* The blocklist answers at once, and never uses a permit. */
	assert_int_equal(by_name.verdict, MXC_GATE_BLOCKED);
	assert_int_equal(by_addr.verdict, MXC_GATE_BLOCKED);
	assert_int_equal(ok.verdict, MXC_GATE_GO);
	assert_int_equal(waiting.verdict, -1);
	/* Closing cancels the waiting request, before the gate goes away. */
	mxc_gate_close(g);
	assert_int_equal(waiting.verdict, MXC_GATE_CANCELED);
	/* A connection that ends after the close returns nothing anywhere. */
	mxc_gate_leave(NULL, (const struct sockaddr *)&ok.g.addr);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	mxc_blocklist_free(bl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_queue_and_release),
		cmocka_unit_test(test_blocklist_and_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
