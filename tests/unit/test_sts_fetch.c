/**
 * \file
 * Unit tests for the MTA-STS policy fetcher (probes/sts_fetch.c) and the
 * mta_sts_mx_match verdict.
 *
 * The fetcher is driven on a real libuv loop against real servers: the
 * group setup starts the HTTPS part of the test world
 * (tests/world/parts/https/part.sh: nginx and stall.py on 127.0.3.1-4, a
 * test CA made on the spot) in a temporary directory on a free port, and
 * the teardown stops it by the PIDs it recorded. No DNS is involved: the
 * tests hand the fetcher the addresses, as the scanner's resolver would.
 * Each error kind has a case; so do the address fallback, the cap on
 * transfers in flight (measured through the deadline, which starts only
 * when a queued fetch gets its turn), many fetches at once, and closing
 * with fetches pending.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "common/error.h"
#include "common/util.h"
#include "probes/sts_fetch.h"

static char world_dir[512];
static char ca_file[600];
static uint16_t port;

/* What a callback saw, copied out of the short-lived result. */
struct got {
	int calls;
	enum mxc_sts_ferr error;
	char name[32];
	char detail[512];
	long http_code;
	bool has_policy;
	enum mxc_sts_perr perr;
	enum mxc_sts_mode mode;
	uint32_t max_age;
	size_t n_mx;
	char mx0[MXC_STS_MX_LEN + 1];
	uint64_t elapsed_ms;
	uint64_t at_ms;
};

static void on_result(const struct mxc_sts_fetch_result *res, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->error = res->error;
	snprintf(g->name, sizeof(g->name), "%s", res->error_name);
	snprintf(g->detail, sizeof(g->detail), "%s", res->detail);
	g->http_code = res->http_code;
	g->has_policy = res->policy != NULL;
	if (res->policy) {
		g->perr = res->policy->error;
		g->mode = res->policy->mode;
		g->max_age = res->policy->max_age;
		g->n_mx = res->policy->n_mx;
		snprintf(g->mx0, sizeof(g->mx0), "%s", res->policy->n_mx ? res->policy->mx[0] : "");
	}
	g->elapsed_ms = res->elapsed_ms;
	g->at_ms = mxc_now_ms();
}

static struct sockaddr_storage addr(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		ss.ss_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr), 1);
	} else {
		ss.ss_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &((struct sockaddr_in *)(void *)&ss)->sin_addr), 1);
	}
	return ss;
}

static struct mxc_sts_fetch_opts opts_world(uint32_t timeout_ms)
{
	struct mxc_sts_fetch_opts o = { 0 };

	o.port = port;
	o.ca_file = ca_file;
	o.timeout_ms = timeout_ms;
	return o;
}

/* Fetch one domain from one address and run the loop until done. */
static struct got fetch_opts(const char *domain, const char *ip,
			     const struct mxc_sts_fetch_opts *o)
{
	uv_loop_t loop;
	struct mxc_sts_fetcher *f;
	struct sockaddr_storage a = addr(ip);
	struct got g = { 0 };

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(mxc_sts_fetcher_new(&loop, o, &f), 0);
	assert_int_equal(mxc_sts_fetch_start(f, domain, &a, 1, on_result, &g), 0);
	assert_int_equal(g.calls, 0); /* never from inside start */
	assert_int_equal(mxc_sts_fetcher_pending(f), 1);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(g.calls, 1);
	assert_int_equal(mxc_sts_fetcher_pending(f), 0);
	mxc_sts_fetcher_close(f);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	if (g.error != MXC_STS_FETCH_OK)
		print_message("# %s: %s: %s\n", domain, g.name, g.detail);
	return g;
}

static struct got fetch(const char *domain, const char *ip)
{
	struct mxc_sts_fetch_opts o = opts_world(5000);

	return fetch_opts(domain, ip, &o);
}

/* --- world setup ------------------------------------------------------- */

static uint16_t free_port(void)
{
	struct sockaddr_storage ss = addr("127.0.3.1");
	struct sockaddr_in *in = (struct sockaddr_in *)(void *)&ss;
	socklen_t len = sizeof(*in);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t p;

	if (fd < 0 || bind(fd, (struct sockaddr *)in, sizeof(*in)) != 0 ||
	    getsockname(fd, (struct sockaddr *)in, &len) != 0)
		return 0;
	p = ntohs(in->sin_port);
	close(fd);
	return p;
}

static int part(const char *verb)
{
	const char *src = getenv("MXC_SOURCE_DIR");
	char cmd[2048];
	int r;

	if (!src)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "MXC_WORLD_HTTPS_PORT=%u bash '%s/tests/world/parts/https/part.sh' %s '%s' "
		 ">'%s/part-%s.log' 2>&1",
		 (unsigned)port, src, verb, world_dir, world_dir, verb);
	r = system(cmd);
	if (r != 0)
		fprintf(stderr, "# %s: exit status %d\n", cmd, r);
	return r;
}

static int setup_world(void **state)
{
	const char *base = getenv("MXC_BUILD_DIR");

	(void)state;
	snprintf(world_dir, sizeof(world_dir), "%s/test_sts_fetch.XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(world_dir)) {
		fprintf(stderr, "mkdtemp %s failed\n", world_dir);
		return -1;
	}
	port = free_port();
	if (!getenv("MXC_SOURCE_DIR") || port == 0) {
		fprintf(stderr, "need MXC_SOURCE_DIR and a free port on 127.0.3.1\n");
		return -1;
	}
	if (part("start") != 0) {
		fprintf(stderr, "part.sh start failed: see %s/part-start.log\n", world_dir);
		return -1;
	}
	snprintf(ca_file, sizeof(ca_file), "%s/https/pki/ca.pem", world_dir);
	return 0;
}

static int teardown_world(void **state)
{
	char cmd[1100];
	int r;

	(void)state;
	r = part("stop");
	if (r == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", world_dir);
		r = system(cmd);
	}
	return r == 0 ? 0 : -1;
}

/* --- good policies ----------------------------------------------------- */

static void test_ok_enforce(void **state)
{
	struct got g = fetch("enforce.sts.test", "127.0.3.1");

	(void)state;
	assert_int_equal(g.error, MXC_STS_FETCH_OK);
	assert_string_equal(g.name, "ok");
	assert_int_equal(g.http_code, 200);
	assert_true(g.has_policy);
	assert_int_equal(g.perr, MXC_STS_OK);
	assert_int_equal(g.mode, MXC_STS_MODE_ENFORCE);
	assert_int_equal(g.max_age, 604800);
	assert_int_equal(g.n_mx, 1);
	assert_string_equal(g.mx0, "mail.enforce.sts.test");
}

static void test_ok_testing_none_crlf(void **state)
{
	struct got g;

	(void)state;
	g = fetch("testing.sts.test", "127.0.3.1");
	assert_int_equal(g.error, MXC_STS_FETCH_OK);
	assert_int_equal(g.mode, MXC_STS_MODE_TESTING);
	assert_string_equal(g.mx0, "*.testing.sts.test");
	g = fetch("none.sts.test", "127.0.3.1");
	assert_int_equal(g.error, MXC_STS_FETCH_OK);
	assert_int_equal(g.mode, MXC_STS_MODE_NONE);
	assert_int_equal(g.n_mx, 0);
	/* CRLF line ends and "text/plain; charset=utf-8". */
	g = fetch("crlf.sts.test", "127.0.3.1");
	assert_int_equal(g.error, MXC_STS_FETCH_OK);
	assert_int_equal(g.max_age, MXC_STS_MAX_AGE_MAX);
}

/* --- HTTP-level errors ------------------------------------------------- */

static void test_http_errors(void **state)
{
	struct got g;

	(void)state;
	g = fetch("notfound.sts.test", "127.0.3.1");
	assert_int_equal(g.error, MXC_STS_FETCH_HTTP);
	assert_string_equal(g.name, "http-404");
	assert_int_equal(g.http_code, 404);
	assert_false(g.has_policy);

	/* The target of the redirect serves a valid policy: not followed. */
	g = fetch("redirect.sts.test", "127.0.3.1");
	assert_int_equal(g.error, MXC_STS_FETCH_REDIRECT);
	assert_string_equal(g.name, "redirect");
	assert_int_equal(g.http_code, 301);

	/* An unknown name gets the default server, whose certificate is not
	 * for it. */
	g = fetch("unknown.sts.test", "127.0.3.1");
	assert_int_equal(g.error, MXC_STS_FETCH_TLS_NAME);

	g = fetch("ctype.sts.test", "127.0.3.1");
	assert_int_equal(g.error, MXC_STS_FETCH_CONTENT_TYPE);
	assert_string_equal(g.name, "content-type");
	assert_non_null(strstr(g.detail, "text/html"));
}

static void test_syntax(void **state)
{
	struct got g;

	(void)state;
	g = fetch("badmode.sts.test", "127.0.3.1");
	assert_int_equal(g.error, MXC_STS_FETCH_SYNTAX);
	assert_string_equal(g.name, "syntax");
	assert_true(g.has_policy);
	assert_int_equal(g.perr, MXC_STS_ERR_MODE);
	assert_string_equal(g.detail, "mode at line 2");
	g = fetch("badline.sts.test", "127.0.3.1");
	assert_int_equal(g.error, MXC_STS_FETCH_SYNTAX);
	assert_int_equal(g.perr, MXC_STS_ERR_SYNTAX);
}

static void test_too_large(void **state)
{
	struct got g;

	(void)state;
	/* Content-Length says 70000. */
	g = fetch("big.sts.test", "127.0.3.1");
	assert_int_equal(g.error, MXC_STS_FETCH_TOO_LARGE);
	assert_string_equal(g.name, "too-large");
	/* No length, an endless body: cut at 64 KiB, not at the deadline. */
	g = fetch("endless.sts.test", "127.0.3.4");
	assert_int_equal(g.error, MXC_STS_FETCH_TOO_LARGE);
	assert_true(g.elapsed_ms < 4000);
	/* Header lines without end: cut at our header cap. */
	g = fetch("headers.sts.test", "127.0.3.6");
	assert_int_equal(g.error, MXC_STS_FETCH_TOO_LARGE);
	assert_non_null(strstr(g.detail, "headers"));
	assert_true(g.elapsed_ms < 4000);
}

static void test_garbage(void **state)
{
	struct got g = fetch("garbage.sts.test", "127.0.3.5");

	(void)state;
	assert_int_equal(g.error, MXC_STS_FETCH_PROTOCOL);
	assert_string_equal(g.name, "protocol");
	assert_int_equal(g.http_code, 0);
	assert_true(g.elapsed_ms < 4000);
}

/* --- TLS --------------------------------------------------------------- */

static void test_tls(void **state)
{
	struct mxc_sts_fetch_opts sys = { 0 };
	struct got g;

	(void)state;
	g = fetch("wrongname.sts.test", "127.0.3.1");
	assert_int_equal(g.error, MXC_STS_FETCH_TLS_NAME);
	assert_string_equal(g.name, "tls-name");
	g = fetch("untrusted.sts.test", "127.0.3.1");
	assert_int_equal(g.error, MXC_STS_FETCH_TLS_PKIX);
	assert_string_equal(g.name, "tls-pkix");
	/* The system store does not know the test CA. */
	sys.port = port;
	sys.timeout_ms = 5000;
	g = fetch_opts("enforce.sts.test", "127.0.3.1", &sys);
	assert_int_equal(g.error, MXC_STS_FETCH_TLS_PKIX);
}

/* --- time and connections ---------------------------------------------- */

static void test_timeouts(void **state)
{
	struct mxc_sts_fetch_opts o = opts_world(800);
	struct got g;

	(void)state;
	g = fetch_opts("stall.sts.test", "127.0.3.2", &o);
	assert_int_equal(g.error, MXC_STS_FETCH_TIMEOUT);
	assert_string_equal(g.name, "timeout");
	assert_true(g.elapsed_ms >= 700 && g.elapsed_ms < 3000);
	g = fetch_opts("drip.sts.test", "127.0.3.3", &o);
	assert_int_equal(g.error, MXC_STS_FETCH_TIMEOUT);
	assert_true(g.elapsed_ms >= 700 && g.elapsed_ms < 3000);
}

static void test_connect_and_dns(void **state)
{
	uv_loop_t loop;
	struct mxc_sts_fetcher *f;
	struct mxc_sts_fetch_opts o = opts_world(3000);
	struct got g = { 0 };

	(void)state;
	g = fetch("refused.sts.test", "127.0.3.9");
	assert_int_equal(g.error, MXC_STS_FETCH_CONNECT);
	assert_string_equal(g.name, "connect");

	memset(&g, 0, sizeof(g));
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(mxc_sts_fetcher_new(&loop, &o, &f), 0);
	assert_int_equal(mxc_sts_fetch_start(f, "noaddr.sts.test", NULL, 0, on_result, &g), 0);
	assert_int_equal(g.calls, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.error, MXC_STS_FETCH_DNS);
	assert_string_equal(g.name, "dns");
	mxc_sts_fetcher_close(f);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* Addresses are tried in order: a dead one, an IPv6 one with nothing
 * behind it (its bracketed form must reach curl intact), then the server. */
static void test_address_fallback(void **state)
{
	uv_loop_t loop;
	struct mxc_sts_fetcher *f;
	struct mxc_sts_fetch_opts o = opts_world(5000);
	struct sockaddr_storage a[3] = { addr("127.0.3.9"), addr("::1"), addr("127.0.3.1") };
	struct got g = { 0 };

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(mxc_sts_fetcher_new(&loop, &o, &f), 0);
	assert_int_equal(mxc_sts_fetch_start(f, "enforce.sts.test", a, 3, on_result, &g), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.error, MXC_STS_FETCH_OK);
	mxc_sts_fetcher_close(f);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/*
 * Cap 1, three stalling fetches of 400 ms each: they must run one after
 * the other (the last ends after about 1.2 s), and each still gets its
 * whole deadline, because it starts when its transfer does.
 */
static void test_inflight_cap(void **state)
{
	uv_loop_t loop;
	struct mxc_sts_fetcher *f;
	struct mxc_sts_fetch_opts o = opts_world(400);
	struct sockaddr_storage a = addr("127.0.3.2");
	struct got g[3];
	uint64_t t0;
	int i;

	(void)state;
	memset(g, 0, sizeof(g));
	o.max_inflight = 1;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(mxc_sts_fetcher_new(&loop, &o, &f), 0);
	t0 = mxc_now_ms();
	for (i = 0; i < 3; i++)
		assert_int_equal(mxc_sts_fetch_start(f, "stall.sts.test", &a, 1, on_result, &g[i]), 0);
	assert_int_equal(mxc_sts_fetcher_pending(f), 3);
	uv_run(&loop, UV_RUN_DEFAULT);
	for (i = 0; i < 3; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].error, MXC_STS_FETCH_TIMEOUT);
		assert_true(g[i].elapsed_ms >= 350);
	}
	assert_true(g[0].at_ms <= g[1].at_ms && g[1].at_ms <= g[2].at_ms);
	assert_true(g[2].at_ms - t0 >= 1100);
	mxc_sts_fetcher_close(f);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* Many fetches of several kinds in flight at once on one loop. */
static void test_many(void **state)
{
	enum { N = 60 };
	static const char *const domains[] = { "enforce.sts.test", "notfound.sts.test",
					       "badmode.sts.test", "wrongname.sts.test" };
	static const enum mxc_sts_ferr want[] = { MXC_STS_FETCH_OK, MXC_STS_FETCH_HTTP,
						  MXC_STS_FETCH_SYNTAX, MXC_STS_FETCH_TLS_NAME };
	uv_loop_t loop;
	struct mxc_sts_fetcher *f;
	struct mxc_sts_fetch_opts o = opts_world(10000);
	struct sockaddr_storage a = addr("127.0.3.1");
	struct got *g = calloc(N, sizeof(*g));
	int i;

	(void)state;
	assert_non_null(g);
	o.max_inflight = 16;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(mxc_sts_fetcher_new(&loop, &o, &f), 0);
	for (i = 0; i < N; i++)
		assert_int_equal(mxc_sts_fetch_start(f, domains[i % 4], &a, 1, on_result, &g[i]), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	for (i = 0; i < N; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].error, want[i % 4]);
	}
	mxc_sts_fetcher_close(f);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(g);
}

/* --- closing ----------------------------------------------------------- */

struct closer {
	struct mxc_sts_fetcher *f;
	struct got got;
	int start_after_close;
};

static void on_close_timer(uv_timer_t *t)
{
	struct closer *c = t->data;

	mxc_sts_fetcher_close(c->f);
	uv_close((uv_handle_t *)t, NULL);
}

/* The callback of one fetch closes the fetcher, canceling the others. */
static void on_result_close(const struct mxc_sts_fetch_result *res, void *arg)
{
	struct closer *c = arg;
	struct sockaddr_storage a = addr("127.0.3.1");

	on_result(res, &c->got);
	mxc_sts_fetcher_close(c->f);
	c->start_after_close = mxc_sts_fetch_start(c->f, "enforce.sts.test", &a, 1,
						   on_result, &c->got);
}

static void test_close_cancels(void **state)
{
	uv_loop_t loop;
	uv_timer_t t;
	struct mxc_sts_fetch_opts o = opts_world(5000);
	struct sockaddr_storage a = addr("127.0.3.2");
	struct closer c = { 0 };
	struct got g[2];

	(void)state;
	memset(g, 0, sizeof(g));
	o.max_inflight = 1;
	/* A running and a queued fetch, closed from a timer. */
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(mxc_sts_fetcher_new(&loop, &o, &c.f), 0);
	assert_int_equal(mxc_sts_fetch_start(c.f, "stall.sts.test", &a, 1, on_result, &g[0]), 0);
	assert_int_equal(mxc_sts_fetch_start(c.f, "stall.sts.test", &a, 1, on_result, &g[1]), 0);
	uv_timer_init(&loop, &t);
	t.data = &c;
	uv_timer_start(&t, on_close_timer, 200, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(g[0].calls, 1);
	assert_int_equal(g[0].error, MXC_STS_FETCH_CANCELED);
	assert_int_equal(g[1].calls, 1);
	assert_int_equal(g[1].error, MXC_STS_FETCH_CANCELED);
	assert_int_equal(uv_loop_close(&loop), 0);

	/* Closed from inside a callback while a transfer runs. */
	memset(g, 0, sizeof(g));
	memset(&c, 0, sizeof(c));
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(mxc_sts_fetcher_new(&loop, &o, &c.f), 0);
	assert_int_equal(mxc_sts_fetch_start(c.f, "stall.sts.test", &a, 1, on_result, &g[0]), 0);
	assert_int_equal(mxc_sts_fetch_start(c.f, "noaddr.sts.test", NULL, 0, on_result_close, &c), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(c.got.calls, 1);
	assert_int_equal(c.got.error, MXC_STS_FETCH_DNS);
	assert_int_equal(c.start_after_close, MXC_ECANCELED);
	assert_int_equal(g[0].calls, 1);
	assert_int_equal(g[0].error, MXC_STS_FETCH_CANCELED);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* --- arguments --------------------------------------------------------- */

static void test_bad_arguments(void **state)
{
	static const char *const bad[] = { "", "a/b.test", "x.test:1", "u@x.test", "-a.test",
					   "a-.test", "a..test", ".a.test", "a.test.", "a b.test",
					   "a%2f.test" };
	uv_loop_t loop;
	struct mxc_sts_fetcher *f;
	struct mxc_sts_fetch_opts o = opts_world(1000);
	struct mxc_sts_fetch_opts missing = { .ca_file = "/nonexistent/ca.pem" };
	struct sockaddr_storage a = addr("127.0.3.1");
	struct sockaddr_storage unix_addr = { .ss_family = AF_UNIX };
	struct got g = { 0 };
	char longname[260];
	size_t i;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(mxc_sts_fetcher_new(&loop, &missing, &f), -ENOENT);
	assert_int_equal(mxc_sts_fetcher_new(NULL, &o, &f), MXC_EINVAL);
	assert_int_equal(mxc_sts_fetcher_new(&loop, &o, &f), 0);
	for (i = 0; i < MXC_ARRAY_SIZE(bad); i++)
		assert_int_equal(mxc_sts_fetch_start(f, bad[i], &a, 1, on_result, &g), MXC_ENAME);
	/* mta-sts. + 246 bytes is one over the 253 of a host name. */
	memset(longname, 'a', sizeof(longname));
	for (i = 63; i < 246; i += 64)
		longname[i] = '.';
	longname[246] = '\0';
	assert_int_equal(mxc_sts_fetch_start(f, longname, &a, 1, on_result, &g), MXC_ENAME);
	assert_int_equal(mxc_sts_fetch_start(f, "ok.test", &unix_addr, 1, on_result, &g),
			 MXC_EINVAL);
	assert_int_equal(mxc_sts_fetch_start(f, "ok.test", NULL, 1, on_result, &g), MXC_EINVAL);
	assert_int_equal(mxc_sts_fetch_start(f, "ok.test", &a, 1, NULL, &g), MXC_EINVAL);
	assert_int_equal(mxc_sts_fetcher_pending(f), 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(g.calls, 0);
	mxc_sts_fetcher_close(f);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* --- MX verdict -------------------------------------------------------- */

static struct mxc_sts_policy make_policy(enum mxc_sts_mode mode, const char *a, const char *b)
{
	struct mxc_sts_policy p;

	memset(&p, 0, sizeof(p));
	p.error = MXC_STS_OK;
	p.mode = mode;
	if (a)
		snprintf(p.mx[p.n_mx++], sizeof(p.mx[0]), "%s", a);
	if (b)
		snprintf(p.mx[p.n_mx++], sizeof(p.mx[0]), "%s", b);
	return p;
}

static void test_mx_match(void **state)
{
	struct mxc_sts_policy enf = make_policy(MXC_STS_MODE_ENFORCE, "*.example.com", "mx.other.net");
	struct mxc_sts_policy tst = make_policy(MXC_STS_MODE_TESTING, "mx1.example.com", NULL);
	struct mxc_sts_policy non = make_policy(MXC_STS_MODE_NONE, "mx1.example.com", NULL);
	struct mxc_sts_policy non0 = make_policy(MXC_STS_MODE_NONE, NULL, NULL);
	struct mxc_sts_policy bad = enf;
	const struct mxc_sts_mx_host both[] = { { "mx1.example.com", true },
						{ "MX.Other.NET.", true } };
	const struct mxc_sts_mx_host one_bad_cert[] = { { "mx1.example.com", true },
							{ "mx2.example.com", false } };
	const struct mxc_sts_mx_host no_cert[] = { { "mx1.example.com", false } };
	const struct mxc_sts_mx_host deep[] = { { "a.b.example.com", true },
						{ "example.com", true } };
	const struct mxc_sts_mx_host mixed[] = { { "mx1.example.com", true },
						 { "a.b.example.com", true } };

	(void)state;
	bad.error = MXC_STS_ERR_MODE;
	assert_int_equal(mxc_sts_mx_match(&enf, both, 2), MXC_STS_MX_ALL);
	assert_int_equal(mxc_sts_mx_match(&enf, one_bad_cert, 2), MXC_STS_MX_SOME);
	assert_int_equal(mxc_sts_mx_match(&enf, no_cert, 1), MXC_STS_MX_NONE);
	/* A wildcard stands for exactly one label. */
	assert_int_equal(mxc_sts_mx_match(&enf, deep, 2), MXC_STS_MX_NONE);
	assert_int_equal(mxc_sts_mx_match(&enf, mixed, 2), MXC_STS_MX_SOME);
	assert_int_equal(mxc_sts_mx_match(&tst, both, 2), MXC_STS_MX_SOME);
	assert_int_equal(mxc_sts_mx_match(&tst, no_cert, 1), MXC_STS_MX_NONE);
	/* Mode none: no policy in force, with or without patterns. */
	assert_int_equal(mxc_sts_mx_match(&non, both, 2), MXC_STS_MX_NA);
	assert_int_equal(mxc_sts_mx_match(&non0, both, 2), MXC_STS_MX_NA);
	assert_int_equal(mxc_sts_mx_match(&bad, both, 2), MXC_STS_MX_NA);
	assert_int_equal(mxc_sts_mx_match(NULL, both, 2), MXC_STS_MX_NA);
	assert_int_equal(mxc_sts_mx_match(&enf, NULL, 0), MXC_STS_MX_NA);
	assert_string_equal(mxc_sts_mx_match_name(MXC_STS_MX_ALL), "all");
	assert_string_equal(mxc_sts_mx_match_name(MXC_STS_MX_SOME), "some");
	assert_string_equal(mxc_sts_mx_match_name(MXC_STS_MX_NONE), "none");
	assert_string_equal(mxc_sts_mx_match_name(MXC_STS_MX_NA), "n-a");
	assert_string_equal(mxc_sts_ferr_name(MXC_STS_FETCH_TLS_PKIX), "tls-pkix");
	assert_string_equal(mxc_sts_ferr_name((enum mxc_sts_ferr)99), "?");
}

int main(void)
{
	const struct CMUnitTest world[] = {
		cmocka_unit_test(test_ok_enforce),
		cmocka_unit_test(test_ok_testing_none_crlf),
		cmocka_unit_test(test_http_errors),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_connect_and_dns),
		cmocka_unit_test(test_address_fallback),
		cmocka_unit_test(test_inflight_cap),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_close_cancels),
		cmocka_unit_test(test_bad_arguments),
	};
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_mx_match),
	};
	int fails = cmocka_run_group_tests_name("sts_mx_match", pure, NULL, NULL);

	/* Outside cmocka: a group setup failure must fail the executable. */
	if (setup_world(NULL) != 0)
		return 1;
	fails += cmocka_run_group_tests_name("sts_fetch", world, NULL, NULL);
	if (teardown_world(NULL) != 0)
		fails++;
	return fails;
}
