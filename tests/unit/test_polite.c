/**
 * \file
 * Unit tests for the connection permit scheduler (probes/polite.c), on a
 * clock the tests move by hand: the defaults and option bounds, burst and
 * refill to the nanosecond, the per-/24 and per-/48 buckets, the caps on
 * connections in flight per address, per network and overall, release,
 * v4-mapped IPv6 counted as IPv4, exact expiry of idle state, the
 * max_entries backstop, memory that stays flat over a million distinct
 * destinations, and allocation failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"
#include "probes/polite.h"

#define S 1000000000ULL /* one second in ns */
#define MS 1000000ULL

static const struct sockaddr *addr(struct sockaddr_storage *ss, const char *text)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(25);
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(25);
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return (const struct sockaddr *)ss;
}

/* Options with every level switched off, for tests that study one level. */
static void opts_off(struct mxc_polite_opts *o)
{
	mxc_polite_opts_init(o);
	o->host.rate = 0;
	o->host.max_inflight = 0;
	o->net.rate = 0;
	o->net.max_inflight = 0;
	o->global.rate = 0;
	o->global.max_inflight = 0;
}

static struct mxc_polite *make(const struct mxc_polite_opts *o)
{
	struct mxc_polite *p = NULL;

	assert_int_equal(mxc_polite_new(o, &p), 0);
	assert_non_null(p);
	return p;
}

/* Acquire and release at once: one connection started. */
static int start(struct mxc_polite *p, const char *a, uint64_t now, uint64_t *retry)
{
	struct sockaddr_storage ss;
	int rc = mxc_polite_acquire(p, addr(&ss, a), now, retry);

	if (rc == 0)
		assert_int_equal(mxc_polite_release(p, addr(&ss, a)), 0);
	return rc;
}

static void test_defaults_and_bounds(void **state)
{
	struct mxc_polite_opts o;
	const char *why = NULL;
	struct mxc_polite *p;

	mxc_polite_opts_init(&o);
	assert_true(o.host.rate == 1.0);
	assert_int_equal(o.host.burst, 2);
	assert_int_equal(o.host.max_inflight, 2);
	assert_true(o.net.rate == 10.0);
	assert_int_equal(o.v4_prefix, 24);
	assert_int_equal(o.v6_prefix, 48);
	assert_true(o.global.rate > 0 && o.global.max_inflight > 0);
	assert_int_equal(mxc_polite_opts_check(&o, &why), 0);

	o.host.rate = -1;
	assert_int_equal(mxc_polite_opts_check(&o, &why), MXC_EINVAL);
	assert_non_null(strstr(why, "per-address rate"));
	o.host.rate = NAN;
	assert_int_equal(mxc_polite_opts_check(&o, &why), MXC_EINVAL);
	o.host.rate = 0.0001;
	assert_int_equal(mxc_polite_opts_check(&o, &why), MXC_EINVAL);
	o.host.rate = 2e6;
	assert_int_equal(mxc_polite_opts_check(&o, &why), MXC_EINVAL);
	mxc_polite_opts_init(&o);
	o.net.burst = 0;
	assert_int_equal(mxc_polite_opts_check(&o, &why), MXC_EINVAL);
	assert_non_null(strstr(why, "per-network burst"));
	mxc_polite_opts_init(&o);
	o.global.max_inflight = MXC_POLITE_INFLIGHT_MAX + 1;
	assert_int_equal(mxc_polite_opts_check(&o, &why), MXC_EINVAL);
	mxc_polite_opts_init(&o);
	o.v4_prefix = 7;
	assert_int_equal(mxc_polite_opts_check(&o, &why), MXC_EINVAL);
	o.v4_prefix = 33;
	assert_int_equal(mxc_polite_opts_check(&o, &why), MXC_EINVAL);
	mxc_polite_opts_init(&o);
	o.v6_prefix = 129;
	assert_int_equal(mxc_polite_opts_check(&o, &why), MXC_EINVAL);
	mxc_polite_opts_init(&o);
	o.max_entries = 10;
	assert_int_equal(mxc_polite_opts_check(&o, &why), MXC_EINVAL);
	p = (struct mxc_polite *)&o; /* must be cleared on failure */
	assert_int_equal(mxc_polite_new(&o, &p), MXC_EINVAL);
	assert_null(p);
	assert_int_equal(mxc_polite_new(NULL, &p), 0);
	mxc_polite_free(p);
}

static void test_burst_and_refill(void **state)
{
	struct mxc_polite_opts o;
	struct mxc_polite *p;
	uint64_t retry = 0;

	opts_off(&o);
	o.host.rate = 1.0;
	o.host.burst = 2;
	p = make(&o);

	/* A burst of 2, then one per second. */
	assert_int_equal(start(p, "192.0.2.1", 0, &retry), 0);
	assert_int_equal(start(p, "192.0.2.1", 0, &retry), 0);
	assert_int_equal(start(p, "192.0.2.1", 0, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 1 * S);
	assert_int_equal(start(p, "192.0.2.1", S - 1, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 1 * S);
	assert_int_equal(start(p, "192.0.2.1", S, &retry), 0);
	assert_int_equal(start(p, "192.0.2.1", S, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 2 * S);
	/* Another address has its own bucket. */
	assert_int_equal(start(p, "192.0.2.2", S, &retry), 0);
	/* Half a second refills half a token: not enough. */
	assert_int_equal(start(p, "192.0.2.1", S + S / 2, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 2 * S);
	/* A long idle time refills the burst and no more. */
	assert_int_equal(start(p, "192.0.2.1", 100 * S, &retry), 0);
	assert_int_equal(start(p, "192.0.2.1", 100 * S, &retry), 0);
	assert_int_equal(start(p, "192.0.2.1", 100 * S, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 101 * S);
	mxc_polite_free(p);
}

/* Asking at every retry time, n grants take exactly (n - burst) / rate. */
static void test_sustained_rate(void **state)
{
	struct mxc_polite_opts o;
	struct mxc_polite *p;
	uint64_t now = 0, retry;
	unsigned granted = 0, refused = 0;

	opts_off(&o);
	o.host.rate = 10.0;
	o.host.burst = 5;
	p = make(&o);
	while (granted < 105) {
		int rc = start(p, "2001:db8::25", now, &retry);

		if (rc == 0) {
			granted++;
			continue;
		}
		assert_int_equal(rc, MXC_EAGAIN);
		assert_true(retry > now);
		refused++;
		now = retry;
	}
	/* 5 at once, then 100 at 100 ms: the last at 10 s. */
	assert_int_equal(now, 10 * S);
	assert_int_equal(refused, 100);

	/* Polling on a fine grid never beats the rate either. */
	mxc_polite_free(p);
	p = make(&o);
	granted = 0;
	for (now = 0; now <= 60 * S; now += 7 * MS)
		granted += start(p, "2001:db8::25", now, NULL) == 0;
	assert_true(granted <= 5 + 600 + 1);
	assert_true(granted >= 600);
	mxc_polite_free(p);
}

static void test_net_v4(void **state)
{
	struct mxc_polite_opts o;
	struct mxc_polite *p;
	uint64_t retry = 0;
	char a[32];
	int i;

	opts_off(&o);
	o.host.rate = 1.0;
	o.host.burst = 2;
	o.net.rate = 10.0;
	o.net.burst = 10;
	p = make(&o);
	for (i = 1; i <= 10; i++) {
		snprintf(a, sizeof(a), "198.51.100.%d", i * 20);
		assert_int_equal(start(p, a, 0, &retry), 0);
	}
	/* A fresh address, but the /24 has used its burst. */
	assert_int_equal(start(p, "198.51.100.255", 0, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 100 * MS);
	assert_int_equal(start(p, "198.51.100.0", 0, &retry), MXC_EAGAIN);
	/* The neighbouring /24 is another network. */
	assert_int_equal(start(p, "198.51.101.1", 0, &retry), 0);
	assert_int_equal(start(p, "198.51.99.255", 0, &retry), 0);
	assert_int_equal(start(p, "198.51.100.255", 100 * MS, &retry), 0);
	assert_int_equal(start(p, "198.51.100.254", 100 * MS, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 200 * MS);
	mxc_polite_free(p);

	/* Another prefix length: /16 takes in the neighbour. */
	o.v4_prefix = 16;
	p = make(&o);
	for (i = 0; i < 10; i++) {
		snprintf(a, sizeof(a), "203.0.%d.1", i);
		assert_int_equal(start(p, a, 0, &retry), 0);
	}
	assert_int_equal(start(p, "203.0.200.1", 0, &retry), MXC_EAGAIN);
	assert_int_equal(start(p, "203.1.0.1", 0, &retry), 0);
	mxc_polite_free(p);
}

static void test_net_v6(void **state)
{
	static const char *const same48[] = {
		"2001:db8:1::1",	  "2001:db8:1::2",	   "2001:db8:1:1::1",
		"2001:db8:1:ffff::25",	  "2001:db8:1:8000::1",	   "2001:db8:1:abcd:1:2:3:4",
	};
	struct mxc_polite_opts o;
	struct mxc_polite *p;
	uint64_t retry = 0;
	size_t i;

	opts_off(&o);
	o.net.rate = 1.0;
	o.net.burst = MXC_ARRAY_SIZE(same48);
	p = make(&o);
	for (i = 0; i < MXC_ARRAY_SIZE(same48); i++)
		assert_int_equal(start(p, same48[i], 0, &retry), 0);
	assert_int_equal(start(p, "2001:db8:1:7::7", 0, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 1 * S);
	/* Bit 48 differs: another /48. */
	assert_int_equal(start(p, "2001:db8:2::1", 0, &retry), 0);
	assert_int_equal(start(p, "2001:db8:0:ffff::1", 0, &retry), 0);
	/* An IPv4 address is never in an IPv6 network, nor ::/48. */
	assert_int_equal(start(p, "0.0.0.1", 0, &retry), 0);
	assert_int_equal(start(p, "::2", 0, &retry), 0);
	mxc_polite_free(p);
}

static void test_concurrency_caps(void **state)
{
	struct sockaddr_storage s1, s2, s3, s4;
	const struct sockaddr *a = addr(&s1, "192.0.2.10");
	const struct sockaddr *b = addr(&s2, "192.0.2.11");
	const struct sockaddr *c = addr(&s3, "192.0.3.10");
	const struct sockaddr *d = addr(&s4, "192.0.4.10");
	struct mxc_polite_stats st;
	struct mxc_polite_opts o;
	struct mxc_polite *p;
	uint64_t retry = 0;

	opts_off(&o);
	o.host.max_inflight = 2;
	o.net.max_inflight = 3;
	o.global.max_inflight = 4;
	p = make(&o);

	/* Per address. */
	assert_int_equal(mxc_polite_acquire(p, a, 0, &retry), 0);
	assert_int_equal(mxc_polite_acquire(p, a, 0, &retry), 0);
	assert_int_equal(mxc_polite_acquire(p, a, 0, &retry), MXC_EAGAIN);
	assert_true(retry == MXC_POLITE_ON_RELEASE);
	/* Time does not help a cap. */
	assert_int_equal(mxc_polite_acquire(p, a, 1000 * S, &retry), MXC_EAGAIN);
	/* Per network: a third in the /24 is fine, a fourth is not. */
	assert_int_equal(mxc_polite_acquire(p, b, 0, &retry), 0);
	assert_int_equal(mxc_polite_acquire(p, b, 0, &retry), MXC_EAGAIN);
	assert_true(retry == MXC_POLITE_ON_RELEASE);
	/* Global: four in flight. */
	assert_int_equal(mxc_polite_acquire(p, c, 0, &retry), 0);
	assert_int_equal(mxc_polite_acquire(p, d, 0, &retry), MXC_EAGAIN);
	assert_true(retry == MXC_POLITE_ON_RELEASE);
	mxc_polite_stats(p, &st);
	assert_int_equal(st.inflight, 4);
	assert_int_equal(st.granted, 4);
	assert_true(st.denied_host_cap >= 2);
	assert_int_equal(st.denied_net_cap, 1);
	assert_int_equal(st.denied_global_cap, 1);

	/* A release frees exactly its own levels. */
	assert_int_equal(mxc_polite_release(p, c), 0);
	assert_int_equal(mxc_polite_acquire(p, d, 0, &retry), 0);
	assert_int_equal(mxc_polite_acquire(p, c, 0, &retry), MXC_EAGAIN);
	assert_int_equal(mxc_polite_release(p, a), 0);
	/* a's release made room in the network and overall: b fits. */
	assert_int_equal(mxc_polite_acquire(p, b, 0, &retry), 0);
	assert_int_equal(mxc_polite_release(p, b), 0);
	assert_int_equal(mxc_polite_release(p, b), 0);
	assert_int_equal(mxc_polite_release(p, a), 0);
	assert_int_equal(mxc_polite_release(p, d), 0);
	mxc_polite_stats(p, &st);
	assert_int_equal(st.inflight, 0);
	/* Releasing what is not held is refused and changes nothing. */
	assert_int_equal(mxc_polite_release(p, a), MXC_ENOTFOUND);
	assert_int_equal(mxc_polite_release(p, d), MXC_ENOTFOUND);
	mxc_polite_stats(p, &st);
	assert_int_equal(st.inflight, 0);
	mxc_polite_free(p);
}

static void test_global_rate(void **state)
{
	struct mxc_polite_opts o;
	struct mxc_polite *p;
	uint64_t retry = 0;
	char a[32];
	int i;

	opts_off(&o);
	o.global.rate = 4.0;
	o.global.burst = 4;
	p = make(&o);
	for (i = 0; i < 4; i++) {
		snprintf(a, sizeof(a), "10.%d.0.1", i);
		assert_int_equal(start(p, a, 0, &retry), 0);
	}
	assert_int_equal(start(p, "10.200.0.1", 0, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 250 * MS);
	assert_int_equal(start(p, "2001:db8:99::1", 250 * MS, &retry), 0);
	mxc_polite_free(p);
}

/* When several levels refuse, the answer is the latest of their times. */
static void test_retry_is_latest(void **state)
{
	struct mxc_polite_opts o;
	struct mxc_polite *p;
	uint64_t retry = 0;

	opts_off(&o);
	o.host.rate = 1.0;
	o.host.burst = 1;
	o.global.rate = 0.5;
	o.global.burst = 1;
	p = make(&o);
	assert_int_equal(start(p, "192.0.2.1", 0, &retry), 0);
	assert_int_equal(start(p, "192.0.2.1", 0, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 2 * S);
	assert_int_equal(start(p, "192.0.2.1", 1 * S, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 2 * S);
	assert_int_equal(start(p, "192.0.2.1", 2 * S, &retry), 0);
	mxc_polite_free(p);
}

static void test_v4_mapped(void **state)
{
	struct sockaddr_storage s4, s6;
	const struct sockaddr *v4 = addr(&s4, "192.0.2.77");
	const struct sockaddr *v6 = addr(&s6, "::ffff:192.0.2.77");
	struct mxc_polite_opts o;
	struct mxc_polite *p;
	uint64_t retry = 0;

	opts_off(&o);
	o.host.max_inflight = 2;
	o.host.rate = 1.0;
	o.host.burst = 2;
	p = make(&o);
	assert_int_equal(mxc_polite_acquire(p, v4, 0, &retry), 0);
	assert_int_equal(mxc_polite_acquire(p, v6, 0, &retry), 0);
	assert_int_equal(mxc_polite_acquire(p, v4, 10 * S, &retry), MXC_EAGAIN);
	assert_true(retry == MXC_POLITE_ON_RELEASE);
	assert_int_equal(mxc_polite_release(p, v6), 0);
	assert_int_equal(mxc_polite_release(p, v6), 0);
	assert_int_equal(mxc_polite_release(p, v4), MXC_ENOTFOUND);
	/* Same bucket too: the burst of 2 was used by the pair. */
	assert_int_equal(start(p, "::ffff:192.0.2.77", 0, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 1 * S);
	mxc_polite_free(p);

	/* The mapped form is also in the IPv4 /24. */
	opts_off(&o);
	o.net.rate = 1.0;
	o.net.burst = 1;
	p = make(&o);
	assert_int_equal(start(p, "192.0.2.1", 0, &retry), 0);
	assert_int_equal(start(p, "::ffff:192.0.2.200", 0, &retry), MXC_EAGAIN);
	assert_int_equal(start(p, "::ffff:192.0.3.200", 0, &retry), 0);
	mxc_polite_free(p);
}

static void test_bad_family(void **state)
{
	struct sockaddr_storage ss;
	struct mxc_polite *p = make(NULL);
	uint64_t retry = 5;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_int_equal(mxc_polite_acquire(p, (struct sockaddr *)&ss, 0, &retry), MXC_EINVAL);
	assert_int_equal(mxc_polite_acquire(p, NULL, 0, &retry), MXC_EINVAL);
	assert_int_equal(mxc_polite_release(p, (struct sockaddr *)&ss), MXC_EINVAL);
	mxc_polite_free(p);
}

static void test_expiry(void **state)
{
	struct sockaddr_storage ss;
	struct mxc_polite_stats st;
	struct mxc_polite_opts o;
	struct mxc_polite *p;
	uint64_t retry;
	char a[32];
	int i;

	/* Address and network buckets both go idle 1 s after one start. */
	mxc_polite_opts_init(&o);
	o.net.rate = 1.0;
	o.global.rate = 0;
	p = make(&o);
	for (i = 0; i < 300; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.1", i / 250, i % 250);
		assert_int_equal(start(p, a, (uint64_t)i * MS, NULL), 0);
	}
	/* One connection stays open. */
	assert_int_equal(mxc_polite_acquire(p, addr(&ss, "10.9.9.9"), S / 2, NULL), 0);
	mxc_polite_stats(p, &st);
	assert_int_equal(st.hosts, 301);
	assert_int_equal(st.nets, 301);

	/* Just before 1.2 s, those started before 200 ms are full again. */
	assert_int_equal(mxc_polite_expire(p, 1200 * MS - 1), 2 * 200);
	mxc_polite_stats(p, &st);
	assert_int_equal(st.hosts, 101);
	assert_int_equal(st.nets, 101);
	/* Everything idle is gone at 1.3 s; the open connection is not. */
	assert_int_equal(mxc_polite_expire(p, 1300 * MS), 2 * 100);
	mxc_polite_stats(p, &st);
	assert_int_equal(st.hosts, 1);
	assert_int_equal(st.nets, 1);
	assert_int_equal(st.inflight, 1);
	assert_int_equal(mxc_polite_expire(p, 1000 * S), 0);
	assert_int_equal(mxc_polite_release(p, addr(&ss, "10.9.9.9")), 0);

	/* The forgotten state was exactly a full bucket: burst 2 again. */
	assert_int_equal(start(p, "10.0.0.1", 5 * S, &retry), 0);
	assert_int_equal(start(p, "10.0.0.1", 5 * S, &retry), 0);
	assert_int_equal(start(p, "10.0.0.1", 5 * S, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 6 * S);
	/* A bucket not yet full is kept, so its limit still holds. */
	(void)mxc_polite_expire(p, 6 * S);
	mxc_polite_stats(p, &st);
	assert_int_equal(st.hosts, 1);
	assert_int_equal(start(p, "10.0.0.1", 6 * S, &retry), 0);
	assert_int_equal(start(p, "10.0.0.1", 6 * S, &retry), MXC_EAGAIN);
	mxc_polite_free(p);
}

/* A tiny max_entries: new destinations wait for old state to expire. */
static void test_max_entries(void **state)
{
	struct mxc_polite_stats st;
	struct mxc_polite_opts o;
	struct mxc_polite *p;
	uint64_t retry = 0;
	char a[40];
	int i;

	opts_off(&o);
	o.host.rate = 0.001; /* one per 1000 s */
	o.host.burst = 1;
	o.max_entries = 64;
	p = make(&o);
	for (i = 0; i < 64; i++) {
		snprintf(a, sizeof(a), "2001:db8::%x", i + 1);
		assert_int_equal(start(p, a, (uint64_t)i * S, &retry), 0);
	}
	assert_int_equal(start(p, "2001:db8::ffff", 100 * S, &retry), MXC_EAGAIN);
	/* The first address goes idle at 1000 s. */
	assert_int_equal(retry, 1000 * S);
	/* A tracked address is still answered from its state. */
	assert_int_equal(start(p, "2001:db8::1", 100 * S, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 1000 * S);
	assert_int_equal(start(p, "2001:db8::ffff", 1000 * S, &retry), 0);
	assert_int_equal(start(p, "2001:db8::fffe", 1000 * S, &retry), MXC_EAGAIN);
	assert_int_equal(retry, 1001 * S);
	mxc_polite_stats(p, &st);
	assert_true(st.hosts <= 64);
	assert_int_equal(st.denied_full, 2);
	mxc_polite_free(p);
}

/*
 * A million distinct destinations, half IPv4 and half IPv6, each connected
 * to once for 3 s, at the default global rate: the tracked state and the
 * memory must stay at what the limits imply (connections in flight plus
 * the last 2 s of destinations), not grow with the destinations seen.
 */
static void test_million_bounded(void **state)
{
	enum { N = 1000000, HOLD = 300 };
	static struct sockaddr_storage ring[HOLD];
	struct mxc_polite_stats st;
	struct mxc_polite *p = make(NULL);
	size_t max_hosts = 0, max_bytes = 0;
	uint64_t now = 0, retry;
	uint32_t i;

	for (i = 0; i < N; i++) {
		struct sockaddr_storage *ss = &ring[i % HOLD];
		int rc;

		if (i >= HOLD)
			assert_int_equal(mxc_polite_release(p, (struct sockaddr *)ss), 0);
		memset(ss, 0, sizeof(*ss));
		if (i & 1) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

			s4->sin_family = AF_INET;
			/* Odd multiplier: a bijection, so all distinct. */
			s4->sin_addr.s_addr = htonl(i * 2654435761u);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
			uint32_t x = htonl(i * 2246822519u);

			s6->sin6_family = AF_INET6;
			s6->sin6_addr.s6_addr[0] = 0x20;
			s6->sin6_addr.s6_addr[1] = 0x01;
			memcpy(&s6->sin6_addr.s6_addr[2], &x, 4);
			s6->sin6_addr.s6_addr[15] = 1;
		}
		while ((rc = mxc_polite_acquire(p, (struct sockaddr *)ss, now, &retry)) != 0) {
			assert_int_equal(rc, MXC_EAGAIN);
			assert_true(retry > now && retry != MXC_POLITE_ON_RELEASE);
			now = retry;
		}
		if ((i & 1023) == 0) {
			mxc_polite_stats(p, &st);
			if (st.hosts > max_hosts)
				max_hosts = st.hosts;
			if (st.bytes > max_bytes)
				max_bytes = st.bytes;
		}
	}
	mxc_polite_stats(p, &st);
	assert_int_equal(st.granted, N);
	assert_int_equal(st.inflight, HOLD);
	/* 100/s: a million take 10^4 s, less the first burst of 100. */
	assert_true(now >= 9990 * S && now <= 10000 * S);
	/* In flight (300) + two seconds of starts (200) + table slack. */
	assert_true(max_hosts <= 1024);
	assert_true(max_bytes <= 256 * 1024);
	printf("million: peak %zu addresses tracked, peak %zu bytes\n", max_hosts, max_bytes);
	mxc_polite_free(p);
}

static void test_enomem(void **state)
{
	struct sockaddr_storage ss;
	struct mxc_polite_stats st;
	struct mxc_polite *p = NULL;

	mxc_alloc_fail_after(0);
	assert_int_equal(mxc_polite_new(NULL, &p), MXC_ENOMEM);
	mxc_alloc_fail_after(-1);
	assert_null(p);
	p = make(NULL);
	/* The host table gets its memory, the network table does not. */
	mxc_alloc_fail_after(1);
	assert_int_equal(mxc_polite_acquire(p, addr(&ss, "192.0.2.1"), 0, NULL), MXC_ENOMEM);
	mxc_alloc_fail_after(-1);
	mxc_polite_stats(p, &st);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(st.granted, 0);
	/* Nothing was taken: the full burst is still there. */
	assert_int_equal(start(p, "192.0.2.1", 0, NULL), 0);
	assert_int_equal(start(p, "192.0.2.1", 0, NULL), 0);
	assert_int_equal(start(p, "192.0.2.1", 0, NULL), MXC_EAGAIN);
	mxc_polite_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_bounds),
		cmocka_unit_test(test_burst_and_refill),
		cmocka_unit_test(test_sustained_rate),
		cmocka_unit_test(test_net_v4),
		cmocka_unit_test(test_net_v6),
		cmocka_unit_test(test_concurrency_caps),
		cmocka_unit_test(test_global_rate),
		cmocka_unit_test(test_retry_is_latest),
		cmocka_unit_test(test_v4_mapped),
		cmocka_unit_test(test_bad_family),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_max_entries),
		cmocka_unit_test(test_million_bounded),
		cmocka_unit_test(test_enomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
