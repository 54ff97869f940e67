/**
 * \file
 * Tests of the stub resolver against fake DNS servers that run on the same
 * libuv loop, on 127.0.0.1 with kernel-chosen ports. Each fake can answer
 * normally, late, not at all, with TC=1 (then serving TCP on the same port),
 * with garbage, or with spoofed datagrams (wrong port, wrong ID, wrong
 * question) before the real answer. The fakes count what they receive, so
 * the tests check what went on the wire (datagrams, IDs, ports, in-flight
 * counts) as well as what the callbacks got and what the stats say.
 *
 * Raw free() appears only for memory ldns allocated (ldns_pkt2wire,
 * ldns_rdf2str), which belongs to the C library's allocator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"
#include "resolver/resolver.h"
#include "resolver/resolver_internal.h"

/* ---- fake server ---- */

struct fake {
	uv_loop_t *loop;
	uv_udp_t udp;
	uv_udp_t alt;          /* a second port, for spoofing */
	uv_tcp_t tcp;
	bool tcp_on;
	uint16_t port;
	struct mxc_upstream_cfg up;

	/* behaviour */
	unsigned drop_first;   /* ignore the first N datagrams */
	bool silent;           /* never answer */
	unsigned delay_ms;     /* answer this late */
	bool truncate;         /* TC=1 over UDP */
	bool garbage;          /* answer with junk */
	bool spoof;            /* spoofed datagrams before the real answer */
	bool upcase;           /* echo the question in upper case */
	uint8_t rcode;
	uint32_t ttl;
	unsigned n_answers;    /* A records per answer (TCP answers: 40) */

	/* observations */
	unsigned received;
	unsigned tcp_queries;
	unsigned bad_queries;  /* queries without RD, DO or a 1232 buffer */
	unsigned outstanding, max_outstanding;
	uint16_t ids[1024];
	uint16_t ports[1024];
	unsigned open_conns;
};

struct delayed {
	uv_timer_t t;
	struct fake *f;
	struct sockaddr_storage to;
	size_t len;
	uint8_t buf[4096];
};

struct tcpconn {
	uv_tcp_t h;
	uv_write_t w;
	struct fake *f;
	uint8_t in[1024];
	size_t in_len;
	uint8_t out[8192];
};

static void check_query(struct fake *f, const ldns_pkt *q)
{
	if (!ldns_pkt_rd(q) || !ldns_pkt_edns(q) || !ldns_pkt_edns_do(q) ||
	    ldns_pkt_edns_udp_size(q) != 1232 || ldns_pkt_qdcount(q) != 1 || ldns_pkt_qr(q))
		f->bad_queries++;
}

/* Build the fake's reply to @p q into @p out; returns its length or 0. */
static size_t build_reply(struct fake *f, const uint8_t *q, size_t qlen, uint8_t *out,
			  size_t max, bool tcp, bool wrong_question)
{
	ldns_pkt *query = NULL, *resp;
	ldns_rr *qrr;
	uint8_t *wire = NULL;
	size_t len = 0;
	char *owner;

	if (ldns_wire2pkt(&query, q, qlen) != LDNS_STATUS_OK)
		return 0;
	check_query(f, query);
	resp = ldns_pkt_new();
	ldns_pkt_set_id(resp, ldns_pkt_id(query));
	ldns_pkt_set_qr(resp, true);
	ldns_pkt_set_rd(resp, ldns_pkt_rd(query));
	ldns_pkt_set_ra(resp, true);
	ldns_pkt_set_rcode(resp, f->rcode);
	qrr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(query), 0));
	if (wrong_question) {
		ldns_rdf *o = NULL;

		ldns_str2rdf_dname(&o, "wrong.example.");
		ldns_rdf_deep_free(ldns_rr_owner(qrr));
		ldns_rr_set_owner(qrr, o);
	}
	if (f->upcase) {
		uint8_t *d = ldns_rdf_data(ldns_rr_owner(qrr));

		for (size_t i = 0; i < ldns_rdf_size(ldns_rr_owner(qrr)); i++)
			if (d[i] >= 'a' && d[i] <= 'z')
				d[i] = (uint8_t)(d[i] - 32);
	}
	owner = ldns_rdf2str(ldns_rr_owner(qrr));
	if (f->rcode == LDNS_RCODE_NOERROR && ldns_rr_get_type(qrr) == LDNS_RR_TYPE_A &&
	    !(f->truncate && !tcp)) {
		unsigned n = tcp ? 40 : (f->n_answers ? f->n_answers : 1);

		for (unsigned i = 0; i < n; i++) {
			char s[512];
			ldns_rr *rr = NULL;

			snprintf(s, sizeof(s), "%s %u IN A 192.0.2.%u", owner, f->ttl, i + 1);
			ldns_rr_new_frm_str(&rr, s, 0, NULL, NULL);
			ldns_pkt_push_rr(resp, LDNS_SECTION_ANSWER, rr);
		}
	}
	if (f->rcode == LDNS_RCODE_NXDOMAIN) {
		char s[512];
		ldns_rr *rr = NULL;

		snprintf(s, sizeof(s), "example. 3600 IN SOA ns.example. h.example. 1 2 3 4 %u",
			 f->ttl);
		ldns_rr_new_frm_str(&rr, s, 0, NULL, NULL);
		ldns_pkt_push_rr(resp, LDNS_SECTION_AUTHORITY, rr);
	}
	ldns_pkt_push_rr(resp, LDNS_SECTION_QUESTION, qrr);
	if (f->truncate && !tcp)
		ldns_pkt_set_tc(resp, true);
	if (ldns_pkt2wire(&wire, resp, &len) == LDNS_STATUS_OK && len <= max)
		memcpy(out, wire, len);
	else
		len = 0;
	free(wire);
	free(owner);
	ldns_pkt_free(resp);
	ldns_pkt_free(query);
	return len;
}

static void fake_send(struct fake *f, uv_udp_t *h, const struct sockaddr *to,
		      const uint8_t *buf, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);

	uv_udp_try_send(h, &b, 1, to);
}

static void delayed_close(uv_handle_t *h)
{
	mxc_free(h->data);
}

static void delayed_cb(uv_timer_t *t)
{
	struct delayed *d = t->data;

	fake_send(d->f, &d->f->udp, (const struct sockaddr *)&d->to, d->buf, d->len);
	d->f->outstanding--;
	uv_close((uv_handle_t *)t, delayed_close);
}

static void fake_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
	static char buf[65536];

	b->base = buf;
	b->len = sizeof(buf);
}

static void fake_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
		      unsigned flags)
{
	struct fake *f = h->data;
	const uint8_t *q = (const uint8_t *)b->base;
	uint8_t out[4096];
	size_t len;

	if (n < 12 || !from)
		return;
	if (f->received < 1024) {
		f->ids[f->received] = (uint16_t)(q[0] << 8 | q[1]);
		f->ports[f->received] = ntohs(((const struct sockaddr_in *)from)->sin_port);
	}
	f->received++;
	if (f->drop_first) {
		f->drop_first--;
		return;
	}
	if (f->silent)
		return;
	if (f->garbage) {
		uint8_t junk[512];
		size_t qend = 12;

		/*
		 * Right ID, QR=1 and our own question, then noise where the
		 * answer should be: it passes the header and question checks
		 * and only a full parse can tell it is garbage.
		 */
		while (qend < (size_t)n && q[qend] != 0)
			qend += (size_t)q[qend] + 1;
		qend += 5; /* root label, QTYPE, QCLASS */
		if (qend + 40 > sizeof(junk) || qend > (size_t)n)
			return;
		mxc_random_bytes(junk, sizeof(junk));
		memcpy(junk, q, qend);
		junk[2] = 0x80;
		junk[3] = 0;
		junk[6] = 0;
		junk[7] = 3; /* three answers claimed, none there */
		junk[qend] = 0xff;
		fake_send(f, &f->udp, from, junk, qend + 40);
		/* Too short for a header: unmatched. */
		fake_send(f, &f->udp, from, junk, 7);
		return;
	}
	len = build_reply(f, q, (size_t)n, out, sizeof(out), false, false);
	if (!len)
		return;
	if (f->spoof) {
		uint8_t bad[4096];
		size_t blen;

		/* The right answer from another port. */
		fake_send(f, &f->alt, from, out, len);
		/* From the right port with another ID. */
		memcpy(bad, out, len);
		bad[1] ^= 0x5a;
		fake_send(f, &f->udp, from, bad, len);
		/* Right ID, another question. */
		blen = build_reply(f, q, (size_t)n, bad, sizeof(bad), false, true);
		fake_send(f, &f->udp, from, bad, blen);
	}
	if (f->delay_ms) {
		struct delayed *d = mxc_calloc(1, sizeof(*d));

		d->f = f;
		memcpy(&d->to, from, sizeof(struct sockaddr_in));
		memcpy(d->buf, out, len);
		d->len = len;
		uv_timer_init(f->loop, &d->t);
		d->t.data = d;
		f->outstanding++;
		if (f->outstanding > f->max_outstanding)
			f->max_outstanding = f->outstanding;
		uv_timer_start(&d->t, delayed_cb, f->delay_ms, 0);
		return;
	}
	fake_send(f, &f->udp, from, out, len);
}

static void conn_close(uv_handle_t *h)
{
	struct tcpconn *c = h->data;

	c->f->open_conns--;
	mxc_free(c);
}

static void conn_written(uv_write_t *w, int status)
{
	struct tcpconn *c = w->data;

	uv_close((uv_handle_t *)&c->h, conn_close);
}

static void conn_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
	struct tcpconn *c = h->data;

	b->base = (char *)c->in + c->in_len;
	b->len = sizeof(c->in) - c->in_len;
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct tcpconn *c = s->data;
	size_t need, len;
	uv_buf_t ob;

	if (n < 0) {
		uv_close((uv_handle_t *)&c->h, conn_close);
		return;
	}
	c->in_len += (size_t)n;
	if (c->in_len < 2)
		return;
	need = 2 + (size_t)(c->in[0] << 8 | c->in[1]);
	if (c->in_len < need)
		return;
	uv_read_stop(s);
	c->f->tcp_queries++;
	len = build_reply(c->f, c->in + 2, need - 2, c->out + 2, sizeof(c->out) - 2, true, false);
	c->out[0] = (uint8_t)(len >> 8);
	c->out[1] = (uint8_t)len;
	ob = uv_buf_init((char *)c->out, (unsigned)(len + 2));
	c->w.data = c;
	uv_write(&c->w, s, &ob, 1, conn_written);
}

static void fake_accept(uv_stream_t *srv, int status)
{
	struct fake *f = srv->data;
	struct tcpconn *c = mxc_calloc(1, sizeof(*c));

	c->f = f;
	uv_tcp_init(f->loop, &c->h);
	c->h.data = c;
	f->open_conns++;
	if (uv_accept(srv, (uv_stream_t *)&c->h) == 0)
		uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_read);
	else
		uv_close((uv_handle_t *)&c->h, conn_close);
}

/* Bind UDP on a kernel-chosen port, and TCP on the same port if asked. */
static void fake_start(struct fake *f, uv_loop_t *loop, bool with_tcp)
{
	struct sockaddr_in a;
	struct sockaddr_storage got;
	int len;

	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->ttl = 300;
	for (int tries = 0; tries < 20; tries++) {
		uv_ip4_addr("127.0.0.1", 0, &a);
		assert_int_equal(uv_udp_init(loop, &f->udp), 0);
		f->udp.data = f;
		assert_int_equal(uv_udp_bind(&f->udp, (const struct sockaddr *)&a, 0), 0);
		len = sizeof(got);
		uv_udp_getsockname(&f->udp, (struct sockaddr *)&got, &len);
		f->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
		if (!with_tcp)
			break;
		uv_tcp_init(loop, &f->tcp);
		f->tcp.data = f;
		uv_ip4_addr("127.0.0.1", f->port, &a);
		if (uv_tcp_bind(&f->tcp, (const struct sockaddr *)&a, 0) == 0 &&
		    uv_listen((uv_stream_t *)&f->tcp, 16, fake_accept) == 0) {
			f->tcp_on = true;
			break;
		}
		/* The port is taken for TCP: try another one. */
		uv_close((uv_handle_t *)&f->tcp, NULL);
		uv_close((uv_handle_t *)&f->udp, NULL);
		uv_run(loop, UV_RUN_NOWAIT);
	}
	assert_true(!with_tcp || f->tcp_on);
	uv_udp_init(loop, &f->alt);
	uv_ip4_addr("127.0.0.1", 0, &a);
	assert_int_equal(uv_udp_bind(&f->alt, (const struct sockaddr *)&a, 0), 0);
	uv_udp_recv_start(&f->udp, fake_alloc, fake_recv);
	uv_ip4_addr("127.0.0.1", f->port, (struct sockaddr_in *)&f->up.addr);
	f->up.addrlen = sizeof(struct sockaddr_in);
}

static void fake_stop(struct fake *f)
{
	uv_close((uv_handle_t *)&f->udp, NULL);
	uv_close((uv_handle_t *)&f->alt, NULL);
	if (f->tcp_on)
		uv_close((uv_handle_t *)&f->tcp, NULL);
}

/* ---- test environment ---- */

struct rec {
	int calls;
	enum mxc_dns_status status;
	uint8_t rcode;
	bool from_cache, truncated_retry;
	bool reentered;        /* called from inside mxc_resolver_query */
	unsigned n_answers;
	char server[64];
	char first_a[64];
};

struct env {
	uv_loop_t loop;
	uv_timer_t guard;
	struct fake f[2];
	struct mxc_resolver *r;
	struct mxc_resolver_opts o;
	struct mxc_upstream_cfg ups[2];
	int done;              /* callbacks so far */
	bool in_query;
	struct mxc_resolver *close_in_cb; /* close the resolver from a callback */
};

static struct env *g_env;

static void guard_cb(uv_timer_t *t)
{
	/* Only there so UV_RUN_ONCE returns regularly. */
}

static void env_init(struct env *e, int n_fakes, bool tcp)
{
	memset(e, 0, sizeof(*e));
	g_env = e;
	assert_int_equal(uv_loop_init(&e->loop), 0);
	uv_timer_init(&e->loop, &e->guard);
	uv_timer_start(&e->guard, guard_cb, 10, 10);
	for (int i = 0; i < n_fakes; i++) {
		fake_start(&e->f[i], &e->loop, tcp);
		e->ups[i] = e->f[i].up;
	}
	mxc_resolver_opts_default(&e->o);
	e->o.upstreams = e->ups;
	e->o.n_upstreams = (size_t)n_fakes;
	e->o.timeout_ms = 2000; /* generous: a loaded machine must not cause retries */
	e->o.n_sockets = 2;
}

static void env_resolver(struct env *e)
{
	assert_int_equal(mxc_resolver_new(&e->loop, &e->o, &e->r), 0);
}

static void env_run_until(struct env *e, int calls, unsigned max_ms)
{
	uint64_t end = mxc_now_ms() + max_ms;

	while (e->done < calls && mxc_now_ms() < end)
		uv_run(&e->loop, UV_RUN_ONCE);
}

static void env_run_for(struct env *e, unsigned ms)
{
	uint64_t end = mxc_now_ms() + ms;

	while (mxc_now_ms() < end)
		uv_run(&e->loop, UV_RUN_ONCE);
}

static void env_stats(struct env *e, struct mxc_resolver_stats *st)
{
	mxc_resolver_get_stats(e->r, st);
}

static void env_done(struct env *e, int n_fakes)
{
	if (e->r)
		mxc_resolver_close(e->r);
	for (int i = 0; i < n_fakes; i++)
		fake_stop(&e->f[i]);
	uv_close((uv_handle_t *)&e->guard, NULL);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	/* Every handle, the resolver's included, must be closed by now. */
	assert_int_equal(uv_loop_close(&e->loop), 0);
	g_env = NULL;
}

static void record_cb(void *arg, const struct mxc_dns_answer *a)
{
	struct rec *rc = arg;

	rc->calls++;
	rc->status = a->status;
	rc->rcode = a->rcode;
	rc->from_cache = a->from_cache;
	rc->truncated_retry = a->truncated_retry;
	rc->reentered = g_env->in_query;
	snprintf(rc->server, sizeof(rc->server), "%s", a->server ? a->server : "");
	if (a->status == MXC_DNS_ANSWER) {
		/* The answer must be consistent: pkt and wire say the same. */
		ldns_pkt *p = NULL;
		const ldns_pkt *pkt = mxc_dns_answer_pkt(a);

		assert_non_null(pkt);
		/* Parsed once, shared: the same packet on a second call. */
		assert_ptr_equal(mxc_dns_answer_pkt(a), pkt);
		assert_non_null(a->wire);
		assert_int_equal(ldns_wire2pkt(&p, a->wire, a->wire_len), LDNS_STATUS_OK);
		assert_int_equal(ldns_pkt_ancount(p), ldns_pkt_ancount(pkt));
		assert_int_equal(ldns_pkt_get_rcode(p), a->rcode);
		ldns_pkt_free(p);
		rc->n_answers = ldns_pkt_ancount(pkt);
		if (rc->n_answers) {
			char *s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(pkt), 0), 0));

			snprintf(rc->first_a, sizeof(rc->first_a), "%s", s);
			free(s);
		}
	} else {
		assert_null(mxc_dns_answer_pkt(a));
		assert_null(a->wire);
	}
	g_env->done++;
	if (g_env->close_in_cb) {
		struct mxc_resolver *r = g_env->close_in_cb;

		g_env->close_in_cb = NULL;
		mxc_resolver_close(r);
		g_env->r = NULL;
	}
}

static int ask(struct env *e, const char *name, uint16_t type, struct rec *rc)
{
	int ret;

	e->in_query = true;
	ret = mxc_resolver_query(e->r, name, type, record_cb, rc);
	e->in_query = false;
	return ret;
}

/* ---- tests ---- */

static void test_answer_basic(void **state)
{
	struct env e;
	struct rec rc = { 0 };
	struct mxc_resolver_stats st;
	char want[64];

	env_init(&e, 1, false);
	e.f[0].upcase = true; /* the question comes back in another case */
	env_resolver(&e);
	assert_int_equal(ask(&e, "Mail.Example.COM", LDNS_RR_TYPE_A, &rc), 0);
	assert_int_equal(rc.calls, 0);
	env_run_until(&e, 1, 3000);
	assert_int_equal(rc.calls, 1);
	assert_int_equal(rc.status, MXC_DNS_ANSWER);
	assert_int_equal(rc.rcode, LDNS_RCODE_NOERROR);
	assert_false(rc.from_cache);
	assert_false(rc.truncated_retry);
	assert_false(rc.reentered);
	assert_string_equal(rc.first_a, "192.0.2.1");
	snprintf(want, sizeof(want), "127.0.0.1:%u", e.f[0].port);
	assert_string_equal(rc.server, want);
	assert_int_equal(e.f[0].received, 1);
	assert_int_equal(e.f[0].bad_queries, 0);
	env_stats(&e, &st);
	assert_int_equal(st.queries, 1);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.answers, 1);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(st.unmatched + st.mismatched + st.malformed, 0);
	assert_int_equal(mxc_resolver_query(e.r, "bad..name", LDNS_RR_TYPE_A, record_cb, &rc),
			 MXC_ENAME);
	env_done(&e, 1);
}

static void test_rcodes_delivered(void **state)
{
	static const uint8_t rcodes[] = { LDNS_RCODE_SERVFAIL, LDNS_RCODE_REFUSED,
					  LDNS_RCODE_NXDOMAIN };

	for (size_t i = 0; i < MXC_ARRAY_SIZE(rcodes); i++) {
		struct env e;
		struct rec rc = { 0 };

		env_init(&e, 1, false);
		e.f[0].rcode = rcodes[i];
		env_resolver(&e);
		assert_int_equal(ask(&e, "example.org", LDNS_RR_TYPE_MX, &rc), 0);
		env_run_until(&e, 1, 3000);
		assert_int_equal(rc.calls, 1);
		assert_int_equal(rc.status, MXC_DNS_ANSWER);
		assert_int_equal(rc.rcode, rcodes[i]);
		env_done(&e, 1);
	}
}

static void test_ids_and_ports(void **state)
{
	struct env e;
	static struct rec rc[200];
	char name[64];
	unsigned seq = 0, ports = 0;

	env_init(&e, 1, false);
	e.f[0].delay_ms = 100; /* all 200 are in flight together */
	e.o.n_sockets = 4;
	/* No retry even on a loaded machine: every ID below is a first try. */
	e.o.timeout_ms = 10000;
	env_resolver(&e);
	memset(rc, 0, sizeof(rc));
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "h%d.example.net", i);
		assert_int_equal(ask(&e, name, LDNS_RR_TYPE_A, &rc[i]), 0);
	}
	env_run_until(&e, 200, 5000);
	assert_int_equal(e.done, 200);
	assert_int_equal(e.f[0].received, 200);
	assert_int_equal(e.f[0].max_outstanding, 200);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(rc[i].status, MXC_DNS_ANSWER);
		for (int j = 0; j < i; j++)
			if (e.f[0].ports[j] == e.f[0].ports[i])
				assert_int_not_equal(e.f[0].ids[j], e.f[0].ids[i]);
		if (i && e.f[0].ids[i] == (uint16_t)(e.f[0].ids[i - 1] + 1))
			seq++;
	}
	/* Random IDs are almost never consecutive. */
	assert_true(seq < 5);
	/* Four sockets: several source ports in use. */
	for (int i = 1; i < 200; i++)
		if (e.f[0].ports[i] != e.f[0].ports[0])
			ports++;
	assert_true(ports > 0);
	env_done(&e, 1);
}

static void test_retry_backoff(void **state)
{
	struct env e;
	struct rec rc = { 0 };
	struct mxc_resolver_stats st;
	uint64_t t0, dt;

	env_init(&e, 1, false);
	e.o.timeout_ms = 100;
	e.o.retries = 3;
	e.f[0].drop_first = 2;
	env_resolver(&e);
	t0 = mxc_now_ms();
	assert_int_equal(ask(&e, "retry.example", LDNS_RR_TYPE_A, &rc), 0);
	env_run_until(&e, 1, 5000);
	dt = mxc_now_ms() - t0;
	assert_int_equal(rc.status, MXC_DNS_ANSWER);
	assert_int_equal(e.f[0].received, 3);
	/* 100 ms, then 200 ms (doubling), then the answer. */
	assert_true(dt >= 290);
	/* Only a loose upper bound: the machine may be busy (no timed tests). */
	assert_true(dt < 3000);
	env_stats(&e, &st);
	assert_int_equal(st.timeouts, 2);
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.gave_up, 0);
	env_done(&e, 1);
}

static void test_retry_rotates(void **state)
{
	struct env e;
	struct rec rc = { 0 };
	char want[64];

	env_init(&e, 2, false);
	e.o.timeout_ms = 100;
	e.o.retries = 1;
	e.f[0].silent = true;
	e.f[1].silent = true;
	env_resolver(&e);
	/* The first question starts on upstream 0; its retry goes to 1. */
	e.f[1].silent = false;
	assert_int_equal(ask(&e, "rotate.example", LDNS_RR_TYPE_A, &rc), 0);
	env_run_until(&e, 1, 3000);
	assert_int_equal(rc.status, MXC_DNS_ANSWER);
	assert_int_equal(e.f[0].received, 1);
	assert_int_equal(e.f[1].received, 1);
	snprintf(want, sizeof(want), "127.0.0.1:%u", e.f[1].port);
	assert_string_equal(rc.server, want);
	env_done(&e, 2);
}

static void test_timeout(void **state)
{
	struct env e;
	struct rec rc = { 0 };
	struct mxc_resolver_stats st;
	uint64_t t0, dt;

	env_init(&e, 1, false);
	e.o.timeout_ms = 50;
	e.o.retries = 2;
	e.f[0].silent = true;
	env_resolver(&e);
	t0 = mxc_now_ms();
	assert_int_equal(ask(&e, "void.example", LDNS_RR_TYPE_A, &rc), 0);
	env_run_until(&e, 1, 5000);
	dt = mxc_now_ms() - t0;
	assert_int_equal(rc.calls, 1);
	assert_int_equal(rc.status, MXC_DNS_TIMEOUT);
	assert_int_equal(rc.server[0], '\0');
	assert_true(dt >= 340); /* 50 + 100 + 200 */
	assert_int_equal(e.f[0].received, 3);
	env_stats(&e, &st);
	assert_int_equal(st.timeouts, 3);
	assert_int_equal(st.gave_up, 1);
	assert_int_equal(st.inflight, 0);
	/* Timeouts are not cached: asking again sends again. */
	assert_int_equal(ask(&e, "void.example", LDNS_RR_TYPE_A, &rc), 0);
	env_run_until(&e, 2, 5000);
	assert_int_equal(e.f[0].received, 6);
	env_done(&e, 1);
}

static void test_truncation_tcp(void **state)
{
	struct env e;
	struct rec rc = { 0 };
	struct mxc_resolver_stats st;

	env_init(&e, 1, true);
	e.f[0].truncate = true;
	env_resolver(&e);
	assert_int_equal(ask(&e, "big.example", LDNS_RR_TYPE_A, &rc), 0);
	env_run_until(&e, 1, 5000);
	assert_int_equal(rc.status, MXC_DNS_ANSWER);
	assert_true(rc.truncated_retry);
	assert_int_equal(rc.n_answers, 40);
	assert_int_equal(e.f[0].received, 1);
	assert_int_equal(e.f[0].tcp_queries, 1);
	assert_int_equal(e.f[0].bad_queries, 0);
	env_stats(&e, &st);
	assert_int_equal(st.tcp, 1);
	assert_int_equal(st.answers, 1);
	env_done(&e, 1);
}

static void test_truncation_tcp_refused(void **state)
{
	struct env e;
	struct rec rc = { 0 };
	struct mxc_resolver_stats st;

	env_init(&e, 1, false); /* nobody listens on TCP */
	e.f[0].truncate = true;
	e.o.retries = 1;
	env_resolver(&e);
	assert_int_equal(ask(&e, "big.example", LDNS_RR_TYPE_A, &rc), 0);
	env_run_until(&e, 1, 5000);
	assert_int_equal(rc.calls, 1);
	assert_int_equal(rc.status, MXC_DNS_TIMEOUT);
	assert_int_equal(e.f[0].received, 2);
	env_stats(&e, &st);
	assert_int_equal(st.tcp, 2);
	assert_int_equal(st.answers, 0);
	env_done(&e, 1);
}

static void test_spoofed_dropped(void **state)
{
	struct env e;
	struct rec rc = { 0 };
	struct mxc_resolver_stats st;

	env_init(&e, 1, false);
	e.f[0].spoof = true;
	env_resolver(&e);
	assert_int_equal(ask(&e, "victim.example", LDNS_RR_TYPE_A, &rc), 0);
	env_run_until(&e, 1, 3000);
	env_run_for(&e, 50); /* let the datagram from the other port arrive */
	assert_int_equal(rc.calls, 1);
	assert_int_equal(rc.status, MXC_DNS_ANSWER);
	assert_string_equal(rc.first_a, "192.0.2.1");
	env_stats(&e, &st);
	/*
	 * Other ID: unmatched. The datagram from the other port never gets
	 * here: with one upstream the socket is connected to it, and the
	 * kernel drops what comes from anywhere else.
	 */
	assert_int_equal(st.unmatched, 1);
	assert_int_equal(st.mismatched, 1); /* other question */
	assert_int_equal(st.answers, 1);
	assert_int_equal(st.sent, 1);
	env_done(&e, 1);
}

static void test_garbage(void **state)
{
	struct env e;
	struct rec rc = { 0 };
	struct mxc_resolver_stats st;

	env_init(&e, 1, false);
	e.f[0].garbage = true;
	e.o.timeout_ms = 50;
	e.o.retries = 2;
	env_resolver(&e);
	assert_int_equal(ask(&e, "junk.example", LDNS_RR_TYPE_A, &rc), 0);
	env_run_until(&e, 1, 5000);
	assert_int_equal(rc.calls, 1);
	assert_int_equal(rc.status, MXC_DNS_ERROR);
	assert_int_equal(e.f[0].received, 3);
	env_stats(&e, &st);
	assert_int_equal(st.malformed, 3);
	assert_int_equal(st.unmatched, 3);
	assert_int_equal(st.answers, 0);
	env_done(&e, 1);
}

static void garbage_body_cb(void *arg, const struct mxc_dns_answer *a)
{
	struct rec *rc = arg;

	rc->calls++;
	rc->status = a->status;
	/* Delivered (nobody parsed it yet), and the lazy parse says no. */
	rc->n_answers = mxc_dns_answer_pkt(a) ? 1 : 0;
	g_env->done++;
}

/*
 * A question that is not cached is delivered without a full parse: a body
 * of garbage behind a matching header and question reaches the caller, whose
 * own parse (mxc_dns_answer_pkt) fails. Cached questions are parsed first
 * and such answers dropped (test_garbage).
 */
static void test_garbage_body_nocache(void **state)
{
	struct env e;
	struct rec rc = { 0 };
	struct mxc_resolver_stats st;

	env_init(&e, 1, false);
	e.f[0].garbage = true;
	env_resolver(&e);
	assert_int_equal(mxc_resolver_query_flags(e.r, "junk.example", LDNS_RR_TYPE_A,
						  MXC_DNS_NOCACHE, garbage_body_cb, &rc),
			 0);
	env_run_until(&e, 1, 5000);
	assert_int_equal(rc.calls, 1);
	assert_int_equal(rc.status, MXC_DNS_ANSWER);
	assert_int_equal(rc.n_answers, 0);
	env_stats(&e, &st);
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.answers, 1);
	env_done(&e, 1);
}

static void test_cache(void **state)
{
	struct env e;
	struct rec a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	struct mxc_resolver_stats st;

	env_init(&e, 1, false);
	e.f[0].ttl = 1;
	env_resolver(&e);
	assert_int_equal(ask(&e, "cache.example", LDNS_RR_TYPE_A, &a), 0);
	env_run_until(&e, 1, 3000);
	assert_int_equal(a.status, MXC_DNS_ANSWER);
	assert_false(a.from_cache);
	/* Hit: no datagram, delivered later from the loop, never inline. */
	assert_int_equal(ask(&e, "CACHE.example.", LDNS_RR_TYPE_A, &b), 0);
	assert_int_equal(b.calls, 0);
	env_run_until(&e, 2, 3000);
	assert_int_equal(b.calls, 1);
	assert_false(b.reentered);
	assert_true(b.from_cache);
	assert_string_equal(b.first_a, "192.0.2.1");
	assert_string_equal(b.server, a.server);
	assert_int_equal(e.f[0].received, 1);
	/* Another type is another key. */
	assert_int_equal(ask(&e, "cache.example", LDNS_RR_TYPE_AAAA, &c), 0);
	env_run_until(&e, 3, 3000);
	assert_false(c.from_cache);
	assert_int_equal(e.f[0].received, 2);
	/* After the TTL (1 s) the entry is gone. */
	env_run_for(&e, 1100);
	assert_int_equal(ask(&e, "cache.example", LDNS_RR_TYPE_A, &d), 0);
	env_run_until(&e, 4, 3000);
	assert_false(d.from_cache);
	assert_int_equal(e.f[0].received, 3);
	env_stats(&e, &st);
	assert_int_equal(st.cache_hits, 1);
	env_done(&e, 1);
}

static int ask_flags(struct env *e, const char *name, uint16_t type, unsigned flags,
		     struct rec *rc)
{
	int ret;

	e->in_query = true;
	ret = mxc_resolver_query_flags(e->r, name, type, flags, record_cb, rc);
	e->in_query = false;
	return ret;
}

static void test_nocache(void **state)
{
	struct env e;
	struct rec a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 }, f = { 0 };
	struct mxc_resolver_stats st;

	env_init(&e, 1, false);
	env_resolver(&e);
	/* NOCACHE: answered, but asking again goes to the wire again. */
	assert_int_equal(ask_flags(&e, "once.example", LDNS_RR_TYPE_A, MXC_DNS_NOCACHE, &a), 0);
	env_run_until(&e, 1, 3000);
	assert_int_equal(a.status, MXC_DNS_ANSWER);
	assert_int_equal(ask(&e, "once.example", LDNS_RR_TYPE_A, &b), 0);
	env_run_until(&e, 2, 3000);
	assert_false(b.from_cache);
	assert_int_equal(e.f[0].received, 2);
	/* That plain question was cached. */
	assert_int_equal(ask_flags(&e, "once.example", LDNS_RR_TYPE_A, MXC_DNS_NOCACHE, &c), 0);
	env_run_until(&e, 3, 3000);
	assert_true(c.from_cache);
	assert_int_equal(e.f[0].received, 2);
	/* Coalesced with a plain asker: the answer is cached after all. */
	assert_int_equal(ask_flags(&e, "mixed.example", LDNS_RR_TYPE_A, MXC_DNS_NOCACHE, &d), 0);
	assert_int_equal(ask(&e, "mixed.example", LDNS_RR_TYPE_A, &f), 0);
	env_run_until(&e, 5, 3000);
	assert_int_equal(e.f[0].received, 3);
	env_stats(&e, &st);
	assert_int_equal(st.coalesced, 1);
	{
		struct rec g = { 0 };

		assert_int_equal(ask(&e, "mixed.example", LDNS_RR_TYPE_A, &g), 0);
		env_run_until(&e, 6, 3000);
		assert_true(g.from_cache);
		assert_int_equal(e.f[0].received, 3);
	}
	env_done(&e, 1);
}

static int g_order;

struct ordered {
	int seq; /* completion order, from 1 */
};

static void order_cb(void *arg, const struct mxc_dns_answer *a)
{
	struct ordered *o = arg;

	o->seq = ++g_order;
	g_env->done++;
}

/* With one question on the wire at a time, a PRIORITY question overtakes the queue. */
static void test_priority(void **state)
{
	struct env e;
	struct ordered a = { 0 }, b = { 0 }, c = { 0 }, p = { 0 };

	g_order = 0;
	env_init(&e, 1, false);
	e.o.max_inflight = 1;
	env_resolver(&e);
	assert_int_equal(mxc_resolver_query_flags(e.r, "a.example", LDNS_RR_TYPE_A, 0, order_cb, &a), 0);
	assert_int_equal(mxc_resolver_query_flags(e.r, "b.example", LDNS_RR_TYPE_A, 0, order_cb, &b), 0);
	assert_int_equal(mxc_resolver_query_flags(e.r, "c.example", LDNS_RR_TYPE_A, 0, order_cb, &c), 0);
	assert_int_equal(mxc_resolver_query_flags(e.r, "p.example", LDNS_RR_TYPE_A,
						  MXC_DNS_PRIORITY, order_cb, &p),
			 0);
	env_run_until(&e, 4, 5000);
	assert_int_equal(a.seq, 1); /* already on the wire */
	assert_int_equal(p.seq, 2);
	assert_int_equal(b.seq, 3);
	assert_int_equal(c.seq, 4);
	env_done(&e, 1);
}

static void test_cache_lru_and_servfail(void **state)
{
	struct env e;
	struct rec rc[8];

	memset(rc, 0, sizeof(rc));
	env_init(&e, 1, false);
	e.o.cache_entries = 2;
	env_resolver(&e);
	ask(&e, "n1.example", LDNS_RR_TYPE_A, &rc[0]);
	env_run_until(&e, 1, 3000);
	ask(&e, "n2.example", LDNS_RR_TYPE_A, &rc[1]);
	env_run_until(&e, 2, 3000);
	ask(&e, "n3.example", LDNS_RR_TYPE_A, &rc[2]);
	env_run_until(&e, 3, 3000);
	assert_int_equal(e.f[0].received, 3);
	/* n1 was evicted (least recently used), n3 is still there. */
	ask(&e, "n3.example", LDNS_RR_TYPE_A, &rc[3]);
	env_run_until(&e, 4, 3000);
	assert_true(rc[3].from_cache);
	ask(&e, "n1.example", LDNS_RR_TYPE_A, &rc[4]);
	env_run_until(&e, 5, 3000);
	assert_false(rc[4].from_cache);
	assert_int_equal(e.f[0].received, 4);
	env_done(&e, 1);

	/* SERVFAIL with cache_servfail_ttl = 0 is asked again. */
	memset(rc, 0, sizeof(rc));
	env_init(&e, 1, false);
	e.o.cache_servfail_ttl = 0;
	e.f[0].rcode = LDNS_RCODE_SERVFAIL;
	env_resolver(&e);
	ask(&e, "sf.example", LDNS_RR_TYPE_A, &rc[0]);
	env_run_until(&e, 1, 3000);
	ask(&e, "sf.example", LDNS_RR_TYPE_A, &rc[1]);
	env_run_until(&e, 2, 3000);
	assert_int_equal(rc[1].rcode, LDNS_RCODE_SERVFAIL);
	assert_false(rc[1].from_cache);
	assert_int_equal(e.f[0].received, 2);
	env_done(&e, 1);

	/* NXDOMAIN with an SOA is cached. */
	memset(rc, 0, sizeof(rc));
	env_init(&e, 1, false);
	e.f[0].rcode = LDNS_RCODE_NXDOMAIN;
	env_resolver(&e);
	ask(&e, "nx.example", LDNS_RR_TYPE_A, &rc[0]);
	env_run_until(&e, 1, 3000);
	ask(&e, "nx.example", LDNS_RR_TYPE_A, &rc[1]);
	env_run_until(&e, 2, 3000);
	assert_int_equal(rc[1].rcode, LDNS_RCODE_NXDOMAIN);
	assert_true(rc[1].from_cache);
	assert_int_equal(e.f[0].received, 1);
	env_done(&e, 1);
}

static ldns_pkt *pkt_from(const char *const *rrs, size_t n, uint8_t rcode)
{
	ldns_pkt *p = ldns_pkt_new();

	ldns_pkt_set_rcode(p, rcode);
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = NULL;
		bool auth = strstr(rrs[i], " SOA ") != NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, rrs[i], 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, auth ? LDNS_SECTION_AUTHORITY : LDNS_SECTION_ANSWER, rr);
	}
	return p;
}

static void test_cache_ttl_rules(void **state)
{
	struct mxc_resolver_opts o;
	const char *pos[] = { "a.example. 600 IN A 192.0.2.1", "a.example. 120 IN A 192.0.2.2" };
	const char *soa[] = { "example. 900 IN SOA ns. h. 1 2 3 4 60" };
	const char *soa_low[] = { "example. 30 IN SOA ns. h. 1 2 3 4 600" };
	ldns_pkt *p;

	mxc_resolver_opts_default(&o);
	o.cache_max_ttl = 100;
	o.cache_neg_ttl = 50;
	o.cache_servfail_ttl = 7;
	p = pkt_from(pos, 2, LDNS_RCODE_NOERROR);
	assert_int_equal(mxc__cache_ttl(&o, p), 100); /* min 120, capped */
	o.cache_max_ttl = 1000;
	assert_int_equal(mxc__cache_ttl(&o, p), 120);
	ldns_pkt_free(p);
	p = pkt_from(soa, 1, LDNS_RCODE_NXDOMAIN);
	assert_int_equal(mxc__cache_ttl(&o, p), 50); /* min(900, 60) = 60, capped */
	o.cache_neg_ttl = 1000;
	assert_int_equal(mxc__cache_ttl(&o, p), 60);
	ldns_pkt_free(p);
	p = pkt_from(soa_low, 1, LDNS_RCODE_NOERROR); /* NODATA */
	assert_int_equal(mxc__cache_ttl(&o, p), 30);
	ldns_pkt_free(p);
	p = pkt_from(NULL, 0, LDNS_RCODE_NXDOMAIN); /* no SOA: not cached */
	assert_int_equal(mxc__cache_ttl(&o, p), 0);
	ldns_pkt_free(p);
	p = pkt_from(NULL, 0, LDNS_RCODE_SERVFAIL);
	assert_int_equal(mxc__cache_ttl(&o, p), 7);
	ldns_pkt_free(p);
	p = pkt_from(NULL, 0, LDNS_RCODE_REFUSED);
	assert_int_equal(mxc__cache_ttl(&o, p), 0);
	ldns_pkt_free(p);
}

static struct rec g_nested;

static void nested_cb(void *arg, const struct mxc_dns_answer *a)
{
	record_cb(arg, a);
	/* Asking again from a callback: the answer is already cached. */
	if (g_nested.calls == 0 && g_env->r)
		assert_int_equal(mxc_resolver_query(g_env->r, "same.example", LDNS_RR_TYPE_A,
						    record_cb, &g_nested), 0);
}

static void test_coalescing(void **state)
{
	struct env e;
	static struct rec rc[100];
	struct mxc_resolver_stats st;

	env_init(&e, 1, false);
	e.f[0].delay_ms = 30;
	env_resolver(&e);
	memset(rc, 0, sizeof(rc));
	memset(&g_nested, 0, sizeof(g_nested));
	for (int i = 0; i < 100; i++)
		assert_int_equal(mxc_resolver_query(e.r, i % 2 ? "SAME.example" : "same.example",
						    LDNS_RR_TYPE_A, i == 0 ? nested_cb : record_cb,
						    &rc[i]), 0);
	env_run_until(&e, 101, 3000);
	assert_int_equal(e.f[0].received, 1);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(rc[i].calls, 1);
		assert_int_equal(rc[i].status, MXC_DNS_ANSWER);
		assert_false(rc[i].from_cache);
	}
	assert_int_equal(g_nested.calls, 1);
	assert_true(g_nested.from_cache);
	env_stats(&e, &st);
	assert_int_equal(st.coalesced, 99);
	assert_int_equal(st.sent, 1);
	env_done(&e, 1);
}

static void test_max_inflight(void **state)
{
	struct env e;
	static struct rec rc[10];
	struct mxc_resolver_stats st;
	char name[64];

	env_init(&e, 1, false);
	e.f[0].delay_ms = 20;
	e.o.max_inflight = 2;
	env_resolver(&e);
	memset(rc, 0, sizeof(rc));
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "cap%d.example", i);
		assert_int_equal(ask(&e, name, LDNS_RR_TYPE_A, &rc[i]), 0);
	}
	env_stats(&e, &st);
	assert_int_equal(st.inflight, 2);
	assert_int_equal(st.queued, 8);
	env_run_until(&e, 10, 5000);
	assert_int_equal(e.done, 10);
	assert_int_equal(e.f[0].received, 10);
	assert_int_equal(e.f[0].max_outstanding, 2);
	env_stats(&e, &st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.inflight, 0);
	env_done(&e, 1);
}

static uint64_t run_qps(unsigned qps, unsigned n)
{
	struct env e;
	static struct rec rc[64];
	char name[64];
	uint64_t t0;

	env_init(&e, 1, false);
	e.o.qps = qps;
	env_resolver(&e);
	memset(rc, 0, sizeof(rc));
	t0 = mxc_now_ms();
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "q%u.example", i);
		assert_int_equal(ask(&e, name, LDNS_RR_TYPE_A, &rc[i]), 0);
	}
	env_run_until(&e, (int)n, 10000);
	t0 = mxc_now_ms() - t0;
	assert_int_equal(e.done, (int)n);
	assert_int_equal(e.f[0].received, n);
	env_done(&e, 1);
	return t0;
}

static void test_qps(void **state)
{
	/* 50 qps with a burst of 5: 25 questions take at least 400 ms. */
	uint64_t capped = run_qps(50, 25);
	uint64_t free_run = run_qps(0, 25);

	assert_true(capped >= 360);
	assert_true(capped < 10000);
	/* Relative, not absolute: a loaded machine slows both runs. */
	assert_true(free_run < capped / 2);
}

static void test_close_pending(void **state)
{
	struct env e;
	static struct rec rc[70];
	struct rec hit = { 0 }, warm = { 0 };
	char name[64];

	env_init(&e, 1, false);
	e.o.max_inflight = 20; /* some sent, some queued */
	env_resolver(&e);
	ask(&e, "warm.example", LDNS_RR_TYPE_A, &warm);
	env_run_until(&e, 1, 3000);
	assert_int_equal(warm.status, MXC_DNS_ANSWER);
	e.f[0].silent = true;
	memset(rc, 0, sizeof(rc));
	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "p%d.example", i);
		assert_int_equal(ask(&e, name, LDNS_RR_TYPE_A, &rc[i]), 0);
	}
	for (int i = 60; i < 70; i++) /* coalesced */
		assert_int_equal(ask(&e, "p0.example", LDNS_RR_TYPE_A, &rc[i]), 0);
	assert_int_equal(ask(&e, "warm.example", LDNS_RR_TYPE_A, &hit), 0); /* pending hit */
	env_run_for(&e, 20);
	assert_int_equal(hit.calls, 1); /* the hit was delivered already */
	assert_int_equal(ask(&e, "warm.example", LDNS_RR_TYPE_A, &hit), 0);
	mxc_resolver_close(e.r);
	for (int i = 0; i < 70; i++) {
		assert_int_equal(rc[i].calls, 1);
		assert_int_equal(rc[i].status, MXC_DNS_CANCELED);
	}
	assert_int_equal(hit.calls, 2);
	assert_int_equal(hit.status, MXC_DNS_CANCELED);
	assert_int_equal(mxc_resolver_query(e.r, "late.example", LDNS_RR_TYPE_A, record_cb, &hit),
			 MXC_ECANCELED);
	e.r = NULL;
	env_done(&e, 1);
	for (int i = 0; i < 70; i++)
		assert_int_equal(rc[i].calls, 1);
}

static void test_close_from_callback(void **state)
{
	struct env e;
	struct rec a[3], other = { 0 };

	memset(a, 0, sizeof(a));
	env_init(&e, 1, false);
	env_resolver(&e);
	e.f[0].drop_first = 1; /* "other" (sent first) stays pending */
	ask(&e, "other.example", LDNS_RR_TYPE_A, &other);
	for (int i = 0; i < 3; i++)
		ask(&e, "three.example", LDNS_RR_TYPE_A, &a[i]);
	e.close_in_cb = e.r;
	env_run_until(&e, 4, 3000);
	/* The first waiter closed the resolver: the others still get the answer. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a[i].calls, 1);
		assert_int_equal(a[i].status, MXC_DNS_ANSWER);
	}
	assert_int_equal(other.calls, 1);
	assert_int_equal(other.status, MXC_DNS_CANCELED);
	env_done(&e, 1);
}

static void test_fuzz_hooks(void **state)
{
	struct env e;
	struct rec rc = { 0 };
	uint8_t resp[512];
	size_t len;
	struct mxc_resolver_stats st;
	uint8_t query[MXC__QWIRE_MAX];
	struct fake *f;

	env_init(&e, 1, false);
	f = &e.f[0];
	env_resolver(&e);
	assert_int_equal(mxc__resolver_register(e.r, "hook.example", LDNS_RR_TYPE_A, 0, 0x1234,
						record_cb, &rc), 0);
	assert_int_equal(mxc__resolver_register(e.r, "hook2.example", LDNS_RR_TYPE_A, 0, 0x1234,
						record_cb, &rc), MXC_EEXIST);
	/* A response built by the fake to a query with that ID and question. */
	{
		ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str("hook.example."),
						 LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);
		uint8_t *w = NULL;
		size_t wl = 0;

		ldns_pkt_set_id(q, 0x1234);
		ldns_pkt_set_edns_udp_size(q, 1232);
		ldns_pkt_set_edns_do(q, true);
		assert_int_equal(ldns_pkt2wire(&w, q, &wl), LDNS_STATUS_OK);
		memcpy(query, w, wl);
		free(w);
		ldns_pkt_free(q);
		len = build_reply(f, query, wl, resp, sizeof(resp), false, false);
	}
	assert_true(len > 12);
	/* From the wrong port: unmatched. */
	{
		struct mxc_upstream_cfg other = f->up;

		((struct sockaddr_in *)&other.addr)->sin_port = htons(f->port ^ 1);
		mxc__resolver_udp_input(e.r, 0, (struct sockaddr *)&other.addr, resp, len);
	}
	assert_int_equal(rc.calls, 0);
	mxc__resolver_udp_input(e.r, 0, (struct sockaddr *)&f->up.addr, resp, len);
	assert_int_equal(rc.calls, 1);
	assert_int_equal(rc.status, MXC_DNS_ANSWER);
	env_stats(&e, &st);
	assert_int_equal(st.unmatched, 1);
	/* expire_all gives up what is left. */
	assert_int_equal(mxc__resolver_register(e.r, "hook3.example", LDNS_RR_TYPE_A, 1, 7,
						record_cb, &rc), 0);
	mxc__resolver_expire_all(e.r);
	assert_int_equal(rc.calls, 2);
	assert_int_equal(rc.status, MXC_DNS_TIMEOUT);
	env_done(&e, 1);
}

static void test_new_rejects(void **state)
{
	struct env e;
	struct mxc_resolver *r = NULL;

	env_init(&e, 1, false);
	e.o.n_upstreams = 0;
	assert_int_equal(mxc_resolver_new(&e.loop, &e.o, &r), MXC_EINVAL);
	e.o.n_upstreams = 1;
	e.o.max_inflight = 0;
	assert_int_equal(mxc_resolver_new(&e.loop, &e.o, &r), MXC_EINVAL);
	e.o.max_inflight = 10;
	e.o.retries = 100;
	assert_int_equal(mxc_resolver_new(&e.loop, &e.o, &r), MXC_EINVAL);
	assert_null(r);
	env_done(&e, 1);
}

static void expect_parse(const char *in, const char *formatted)
{
	struct mxc_upstream_cfg u;
	char buf[64];

	assert_int_equal(mxc_upstream_parse(in, &u), 0);
	mxc_upstream_format(&u, buf, sizeof(buf));
	assert_string_equal(buf, formatted);
}

static void test_upstream_parse(void **state)
{
	static const char *const bad[] = {
		"", "1.2.3", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", ":53",
		"[::1", "[::1]x", "[::1]:", "[]:53", "localhost", "1.2.3.4:53x",
		"1.2.3.4:-1", "fe80::1%no-such-if0", "[127.0.0.1]:53", "::g",
	};
	struct mxc_upstream_cfg u;

	expect_parse("127.0.0.1", "127.0.0.1:53");
	expect_parse("127.0.0.1:5353", "127.0.0.1:5353");
	expect_parse("::1", "[::1]:53");
	expect_parse("[::1]:5353", "[::1]:5353");
	expect_parse("[2001:db8::1]", "[2001:db8::1]:53");
	expect_parse("fe80::1%1", "[fe80::1%1]:53");
	assert_int_equal(mxc_upstream_parse("127.0.0.1:5353", &u), 0);
	assert_int_equal(u.addr.ss_family, AF_INET);
	assert_int_equal(u.addrlen, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(((struct sockaddr_in *)&u.addr)->sin_port), 5353);
	assert_int_equal(mxc_upstream_parse("[::1]:99", &u), 0);
	assert_int_equal(u.addr.ss_family, AF_INET6);
	assert_int_equal(u.addrlen, sizeof(struct sockaddr_in6));
	for (size_t i = 0; i < MXC_ARRAY_SIZE(bad); i++) {
		if (mxc_upstream_parse(bad[i], &u) != MXC_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void test_resolv_conf(void **state)
{
	char path[] = "/tmp/mxc-resolv-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct mxc_upstream_cfg u[8];
	size_t n = 99;
	char buf[64];

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# generated\n"
	      "domain example.org\n"
	      "search a.example b.example\n"
	      "nameserver 127.0.0.1\n"
	      "  nameserver\t::1   # trailing comment\n"
	      "nameserver fe80::1%no-such-if0\n"
	      "nameserver bogus\n"
	      "nameserver\n"
	      "options ndots:2 edns0\n"
	      ";nameserver 10.0.0.1\n"
	      "#nameserver 10.0.0.2\n"
	      "nameservers 10.0.0.3\n"
	      "nameserver 192.0.2.53", f);
	fclose(f);
	assert_int_equal(mxc_upstreams_from_resolv_conf(path, u, 8, &n), 0);
	assert_int_equal(n, 3);
	mxc_upstream_format(&u[0], buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:53");
	mxc_upstream_format(&u[1], buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:53");
	mxc_upstream_format(&u[2], buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.53:53");
	assert_int_equal(mxc_upstreams_from_resolv_conf(path, u, 2, &n), 0);
	assert_int_equal(n, 2);
	unlink(path);
	assert_int_equal(mxc_upstreams_from_resolv_conf(path, u, 8, &n), -ENOENT);
	assert_int_equal(n, 0);
}

static void test_status_names(void **state)
{
	assert_string_equal(mxc_dns_status_name(MXC_DNS_ANSWER), "answer");
	assert_string_equal(mxc_dns_status_name(MXC_DNS_TIMEOUT), "timeout");
	assert_string_equal(mxc_dns_status_name(MXC_DNS_ERROR), "error");
	assert_string_equal(mxc_dns_status_name(MXC_DNS_CANCELED), "canceled");
	assert_string_equal(mxc_dns_status_name((enum mxc_dns_status)42), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_basic),
		cmocka_unit_test(test_rcodes_delivered),
		cmocka_unit_test(test_ids_and_ports),
		cmocka_unit_test(test_retry_backoff),
		cmocka_unit_test(test_retry_rotates),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_truncation_tcp),
		cmocka_unit_test(test_truncation_tcp_refused),
		cmocka_unit_test(test_spoofed_dropped),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_garbage_body_nocache),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_nocache),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_cache_lru_and_servfail),
		cmocka_unit_test(test_cache_ttl_rules),
		cmocka_unit_test(test_coalescing),
		cmocka_unit_test(test_max_inflight),
		cmocka_unit_test(test_qps),
		cmocka_unit_test(test_close_pending),
		cmocka_unit_test(test_close_from_callback),
		cmocka_unit_test(test_fuzz_hooks),
		cmocka_unit_test(test_new_rejects),
		cmocka_unit_test(test_upstream_parse),
		cmocka_unit_test(test_resolv_conf),
		cmocka_unit_test(test_status_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
