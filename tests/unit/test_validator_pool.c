/**
 * \file
 * The validator's verification threads against its synchronous path. A
 * validator made with a resolver hands a domain's MX RRset to threads of
 * its own and gets the verdict back through the loop; the verdict must be
 * the one the loop's thread would have reached. Every recorded chain of
 * tests/fuzz/corpus/validator/ (anchors, the answer, the DS and DNSKEY
 * answers; the format of validator_input.h) is judged with threads and
 * without, with a real uv loop, as recorded, with each signature damaged,
 * and with the clock a year later (expired) and a year earlier (not yet
 * valid). A chain signed here puts the MX RRset's own signature (not the
 * zone's keys) out of its window, or makes it with a key outside the zone,
 * one signature or two, so that those reasons come from a thread too. The
 * threads must really have been used, many checks in flight at once must
 * all come back, and freeing the validator with checks still on the
 * threads must deliver every verdict.
 *
 * Every one of those judgements is also made with the wire path for plain
 * answers turned off (validator.h, mxc__validator_wire_path): an MX answer
 * read straight from the wire must get the verdict and the reason the
 * general path (ldns) gives it, on the loop and on the threads.
 */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <uv.h>

#include "../fuzz/chain_input.h"
#include "resolver/resolver.h"
#include "resolver/validator.h"

#define MAX_SEED (1 << 20)

struct verdicts {
	int n;
	struct mxc_val_result last;
	struct mxc_val_result first;
};

static uv_loop_t loop;
static struct mxc_resolver *res;
static bool general_only; /* validators made with the wire path off */

static const char *src_dir(void)
{
	const char *d = getenv("MXC_SOURCE_DIR");

	return d ? d : ".";
}

static int setup(void **state)
{
	struct mxc_resolver_opts o;
	static struct mxc_upstream_cfg up;

	(void)state;
	if (uv_loop_init(&loop) != 0 || mxc_upstream_parse("127.0.0.1:1", &up) != 0)
		return -1;
	mxc_resolver_opts_default(&o);
	o.upstreams = &up;
	o.n_upstreams = 1;
	o.n_sockets = 1;
	o.cache_entries = 0;
	return mxc_resolver_new(&loop, &o, &res) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	mxc_resolver_close(res);
	res = NULL;
	uv_run(&loop, UV_RUN_DEFAULT);
	return uv_loop_close(&loop) == 0 ? 0 : -1;
}

static int from_chain(void *ctx, const char *name, uint16_t type, unsigned flags, mxc_dns_cb cb,
		      void *arg)
{
	const struct chain *c = ctx;
	struct mxc_dns_answer a = { .status = MXC_DNS_TIMEOUT };

	(void)flags;
	for (size_t i = 2; i < c->n; i++) {
		if (chain_asks(&c->m[i], name, type)) {
			a.status = MXC_DNS_ANSWER;
			a.wire = c->m[i].data;
			a.wire_len = c->m[i].len;
			a.rcode = c->m[i].len >= 4 ? (c->m[i].data[3] & 0x0f) : 0;
			break;
		}
	}
	cb(arg, &a);
	return 0;
}

static void on_verdict(void *arg, struct mxc_val_result r)
{
	struct verdicts *vs = arg;

	if (!vs->n)
		vs->first = r;
	vs->n++;
	vs->last = r;
}

static struct mxc_validator *validator_for(const struct chain *c, int threads,
					   ldns_rr_list **anchors)
{
	struct mxc_validator_opts o;
	struct mxc_validator *v = NULL;
	char err[256];

	*anchors = chain_anchors(c);
	assert_non_null(*anchors);
	mxc_validator_opts_default(&o);
	o.anchors = *anchors;
	o.now = c->now ? c->now : 1;
	o.cache_entries = 64;
	o.threads = threads;
	assert_int_equal(mxc_validator_new(res, &o, &v, err, sizeof(err)), 0);
	mxc_validator_set_query(v, from_chain, (void *)c);
	if (general_only)
		mxc__validator_wire_path(v, false);
	return v;
}

/* Judge the chain's answer @p copies times at once, with @p threads threads. */
static struct verdicts judge(const struct chain *c, int threads, int copies,
			     struct mxc_validator_stats *st)
{
	struct verdicts vs = { 0 };
	ldns_rr_list *anchors;
	struct mxc_validator *v = validator_for(c, threads, &anchors);
	int refused = 0;

	for (int i = 0; i < copies; i++)
		if (mxc_validator_check(v, c->m[1].data, c->m[1].len, on_verdict, &vs) != 0)
			refused++;
	uv_run(&loop, UV_RUN_DEFAULT);
	/* Every verdict is in once the loop has nothing left to do. */
	assert_int_equal(vs.n + refused, copies);
	if (st)
		mxc_validator_get_stats(v, st);
	mxc_validator_free(v);
	uv_run(&loop, UV_RUN_DEFAULT);
	ldns_rr_list_deep_free(anchors);
	if (refused) {
		vs.last.status = MXC_DNSSEC_NONE;
		vs.last.reason = MXC_DR_MALFORMED;
	}
	return vs;
}

static size_t read_seed(const char *name, uint8_t *buf)
{
	char path[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/validator/%s", src_dir(), name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, MAX_SEED, f);
	fclose(f);
	return n;
}

static bool same(struct verdicts a, struct verdicts b)
{
	return a.last.status == b.last.status && a.last.reason == b.last.reason;
}

/* The chain judged on the loop and on threads, by the wire path and by the
 * general path: four verdicts, one answer. */
static uint64_t wire_read; /* answers the wire path took, over expect_same() */

static void expect_same(const char *what, const struct chain *c, uint64_t *threaded)
{
	struct mxc_validator_stats st, gst;
	struct verdicts sync, thr, gsync, gthr;

	general_only = true;
	gsync = judge(c, 0, 1, &gst);
	assert_int_equal(gst.wire_checks, 0);
	gthr = judge(c, 2, 1, &gst);
	assert_int_equal(gst.wire_checks, 0);
	general_only = false;
	sync = judge(c, 0, 1, NULL);
	thr = judge(c, 2, 1, &st);
	wire_read += st.wire_checks;
	if (!same(sync, thr) || !same(sync, gsync) || !same(sync, gthr)) {
		fprintf(stderr,
			"%s: on the loop %s %s, on threads %s %s; general path: on the loop "
			"%s %s, on threads %s %s\n",
			what, mxc_dnssec_name(sync.last.status),
			mxc_dnssec_reason_name(sync.last.reason), mxc_dnssec_name(thr.last.status),
			mxc_dnssec_reason_name(thr.last.reason), mxc_dnssec_name(gsync.last.status),
			mxc_dnssec_reason_name(gsync.last.reason), mxc_dnssec_name(gthr.last.status),
			mxc_dnssec_reason_name(gthr.last.reason));
		fail();
	}
	*threaded += st.sig_threaded;
}

/* Where the signature of the answer's first RRSIG lies in @p c; NULL if none. */
static const uint8_t *answer_signature(const struct chain *c, size_t *len)
{
	const uint8_t *at = NULL;
	ldns_pkt *p = NULL;

	if (ldns_wire2pkt(&p, c->m[1].data, c->m[1].len) != LDNS_STATUS_OK)
		return NULL;
	for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(p)) && !at; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		ldns_rdf *sig;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG || !(sig = ldns_rr_rdf(rr, 8)))
			continue;
		at = memmem(c->m[1].data, c->m[1].len, ldns_rdf_data(sig), ldns_rdf_size(sig));
		*len = ldns_rdf_size(sig);
	}
	ldns_pkt_free(p);
	return at;
}

/* Every MX chain: recorded, damaged, expired, not yet valid. */
static void test_threads_agree_with_the_loop(void **state)
{
	static uint8_t buf[MAX_SEED], copy[MAX_SEED];
	char dir[512];
	struct dirent *e;
	uint64_t threaded = 0;
	size_t chains = 0, secure = 0, damaged = 0;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/validator", src_dir());
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t n, len = strlen(e->d_name), slen = 0;
		struct chain c;
		const uint8_t *sig;

		if (len < 3 || strcmp(e->d_name + len - 3, "_MX") != 0)
			continue;
		n = read_seed(e->d_name, buf);
		assert_true(chain_split(buf, n, true, &c));
		expect_same(e->d_name, &c, &threaded);
		secure += judge(&c, 0, 1, NULL).last.status == MXC_DNSSEC_SECURE;
		chains++;

		/* A year later, a year earlier. */
		for (int k = -1; k <= 1; k += 2) {
			struct chain moved = c;
			char what[400];

			moved.now = c.now + k * 365 * 86400;
			snprintf(what, sizeof(what), "%s, clock %+d years", e->d_name, k);
			expect_same(what, &moved, &threaded);
		}

		/* The answer's signature damaged, byte by byte (every 5th). */
		memcpy(copy, buf, n);
		assert_true(chain_split(copy, n, true, &c));
		sig = answer_signature(&c, &slen);
		for (size_t i = 0; sig && i < slen; i += 5) {
			uint8_t *b = copy + (sig - copy) + i;
			char what[400];

			*b ^= 0x21;
			snprintf(what, sizeof(what), "%s, signature byte %zu damaged", e->d_name, i);
			expect_same(what, &c, &threaded);
			*b ^= 0x21;
			damaged++;
		}
	}
	closedir(d);
	/* The corpus has its MX chains, most of them secure and signed. */
	assert_true(chains >= 30);
	assert_true(secure >= 15);
	assert_true(damaged >= 100);
	/* And the threads did verify. */
	assert_true(threaded >= secure);
	/* The wire path read the secure ones at least (the rest may be
	 * damaged past what it takes, or denials). */
	assert_true(wire_read >= secure);
}

/* Damage and time must still give the reasons they give on the loop. */
static void test_threads_reasons(void **state)
{
	static uint8_t buf[MAX_SEED];
	struct mxc_validator_stats st;
	struct verdicts vs;
	struct chain c, moved;
	const uint8_t *sig;
	size_t n, slen = 0;

	(void)state;
	n = read_seed("one.test_MX", buf);
	assert_true(chain_split(buf, n, true, &c));
	vs = judge(&c, 2, 1, &st);
	assert_int_equal(vs.last.status, MXC_DNSSEC_SECURE);
	assert_int_equal(st.sig_threaded, 1);

	moved = c;
	moved.now += 365 * 86400;
	vs = judge(&moved, 2, 1, &st);
	assert_int_equal(vs.last.status, MXC_DNSSEC_BOGUS);
	assert_string_equal(mxc_dnssec_reason_name(vs.last.reason), "signature-expired");

	moved.now = c.now - 365 * 86400;
	vs = judge(&moved, 2, 1, &st);
	assert_int_equal(vs.last.status, MXC_DNSSEC_BOGUS);
	assert_string_equal(mxc_dnssec_reason_name(vs.last.reason), "signature-not-yet-valid");

	sig = answer_signature(&c, &slen);
	assert_non_null(sig);
	buf[(size_t)(sig - buf) + slen / 2] ^= 0x01;
	vs = judge(&c, 2, 1, &st);
	assert_int_equal(vs.last.status, MXC_DNSSEC_BOGUS);
	assert_string_equal(mxc_dnssec_reason_name(vs.last.reason), "bad-signature");
	assert_int_equal(st.sig_threaded, 1);

	/* The expired RRset of the world's broken zone, on a thread too. */
	n = read_seed("expired.test_MX", buf);
	assert_true(chain_split(buf, n, true, &c));
	vs = judge(&c, 2, 1, &st);
	assert_int_equal(vs.last.status, MXC_DNSSEC_BOGUS);
	assert_string_equal(mxc_dnssec_reason_name(vs.last.reason), "signature-expired");
}

/*
 * A chain made here, so that the MX RRset's own signature (not the zone's
 * keys) is the one out of its window: a zone "synth.test." with a KSK (the
 * anchor) and a ZSK (ECDSAP256SHA256), its DNSKEY RRset signed by the KSK
 * and valid, and the MX RRset of mail.synth.test. signed with the windows
 * given (relative to now), possibly by a key outside the zone. The signed
 * data is built the way ldns builds it (clone, canonical form, sort), apart
 * from the validator's own builder, and signed with OpenSSL.
 */
struct synth {
	uint8_t *msg[3];
	struct chain c;
};

struct window {
	int64_t inc, exp; /* seconds from now */
	bool wrong;       /* signed with a key outside the zone */
};

static EVP_PKEY *synth_pkey(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	assert_non_null(k);
	return k;
}

/* The DNSKEY record of @p k with @p flags. */
static ldns_rr *synth_dnskey(EVP_PKEY *k, unsigned flags)
{
	uint8_t pub[65];
	size_t len = 0;
	char b64[128], line[512];
	ldns_rr *rr = NULL;

	assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub,
							 sizeof(pub), &len),
			 1);
	assert_int_equal(len, 65);
	EVP_EncodeBlock((unsigned char *)b64, pub + 1, 64);
	snprintf(line, sizeof(line), "synth.test. 3600 IN DNSKEY %u 3 13 %s", flags, b64);
	assert_int_equal(ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL), LDNS_STATUS_OK);
	return rr;
}

/* An RRSIG over @p set by key @p k (tag of @p krr) valid from @p inc to @p exp. */
static ldns_rr *synth_sign(const ldns_rr_list *set, EVP_PKEY *k, const ldns_rr *krr,
			   int64_t inc, int64_t exp)
{
	const ldns_rr *r0 = ldns_rr_list_rr(set, 0);
	char *owner = ldns_rdf2str(ldns_rr_owner(r0));
	char *type = ldns_rr_type2str(ldns_rr_get_type(r0));
	char head[512], line[1024], b64[128];
	ldns_buffer *data = ldns_buffer_new(1024);
	ldns_rr_list *c = ldns_rr_list_clone(set);
	ldns_rr *sig = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[128], rs[64];
	const uint8_t *dp = der;
	size_t derlen = sizeof(der);
	ECDSA_SIG *es;

	snprintf(head, sizeof(head), "%s %u IN RRSIG %s 13 %u %u %lld %lld %u synth.test.", owner,
		 ldns_rr_ttl(r0), type, ldns_dname_label_count(ldns_rr_owner(r0)),
		 ldns_rr_ttl(r0), (long long)exp, (long long)inc, ldns_calc_keytag(krr));
	snprintf(line, sizeof(line), "%s AA==", head);
	assert_int_equal(ldns_rr_new_frm_str(&sig, line, 0, NULL, NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_rrsig2buffer_wire(data, sig), LDNS_STATUS_OK);
	for (size_t i = 0; i < ldns_rr_list_rr_count(c); i++)
		ldns_rr2canonical(ldns_rr_list_rr(c, i));
	ldns_rr_list_sort(c);
	assert_int_equal(ldns_rr_list2buffer_wire(data, c), LDNS_STATUS_OK);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestSign(md, der, &derlen, ldns_buffer_begin(data),
					ldns_buffer_position(data)),
			 1);
	es = d2i_ECDSA_SIG(NULL, &dp, (long)derlen);
	assert_non_null(es);
	BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
	EVP_EncodeBlock((unsigned char *)b64, rs, 64);
	ldns_rr_free(sig);
	sig = NULL;
	snprintf(line, sizeof(line), "%s %s", head, b64);
	assert_int_equal(ldns_rr_new_frm_str(&sig, line, 0, NULL, NULL), LDNS_STATUS_OK);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	ldns_rr_list_deep_free(c);
	ldns_buffer_free(data);
	free(owner);
	free(type);
	return sig;
}

static void synth_msg(struct synth *s, int i, const char *qname, ldns_rr_type qtype,
		      const ldns_rr_list *ans)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(qname), qtype, LDNS_RR_CLASS_IN,
					 0);
	size_t len;

	assert_non_null(p);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_id(p, (uint16_t)(0x1000 + i));
	for (size_t k = 0; k < ldns_rr_list_rr_count(ans); k++)
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, ldns_rr_clone(ldns_rr_list_rr(ans, k)));
	assert_int_equal(ldns_pkt2wire(&s->msg[i], p, &len), LDNS_STATUS_OK);
	s->c.m[i].data = s->msg[i];
	s->c.m[i].len = len;
	ldns_pkt_free(p);
}

static void synth_make(struct synth *s, int64_t now, const struct window *w, size_t nsig)
{
	EVP_PKEY *ksk = synth_pkey(), *zsk = synth_pkey(), *other = synth_pkey();
	ldns_rr *kr = synth_dnskey(ksk, 257), *zr = synth_dnskey(zsk, 256);
	ldns_rr *or = synth_dnskey(other, 256);
	ldns_rr_list *keys = ldns_rr_list_new(), *mx = ldns_rr_list_new();
	ldns_rr_list *anchor = ldns_rr_list_new(), *ans;
	ldns_rr *rr = NULL;

	memset(s, 0, sizeof(*s));
	s->c.now = now;
	s->c.n = 3;
	ldns_rr_list_push_rr(keys, kr);
	ldns_rr_list_push_rr(keys, zr);
	ldns_rr_list_push_rr(anchor, ldns_rr_clone(kr));
	synth_msg(s, 0, "synth.test.", LDNS_RR_TYPE_DNSKEY, anchor);

	ans = ldns_rr_list_clone(keys);
	ldns_rr_list_push_rr(ans, synth_sign(keys, ksk, kr, now - 3600, now + 86400));
	synth_msg(s, 2, "synth.test.", LDNS_RR_TYPE_DNSKEY, ans);
	ldns_rr_list_deep_free(ans);

	assert_int_equal(ldns_rr_new_frm_str(&rr, "mail.synth.test. 3600 IN MX 10 mx.synth.test.",
					     0, NULL, NULL),
			 LDNS_STATUS_OK);
	ldns_rr_list_push_rr(mx, rr);
	rr = NULL;
	assert_int_equal(ldns_rr_new_frm_str(&rr, "mail.synth.test. 3600 IN MX 20 MX2.Synth.test.",
					     0, NULL, NULL),
			 LDNS_STATUS_OK);
	ldns_rr_list_push_rr(mx, rr);
	ans = ldns_rr_list_clone(mx);
	for (size_t i = 0; i < nsig; i++)
		ldns_rr_list_push_rr(ans, synth_sign(mx, w[i].wrong ? other : zsk,
						     w[i].wrong ? or : zr, now + w[i].inc,
						     now + w[i].exp));
	synth_msg(s, 1, "mail.synth.test.", LDNS_RR_TYPE_MX, ans);
	ldns_rr_list_deep_free(ans);
	ldns_rr_list_deep_free(mx);
	ldns_rr_list_deep_free(keys);
	ldns_rr_list_deep_free(anchor);
	ldns_rr_free(or);
	EVP_PKEY_free(ksk);
	EVP_PKEY_free(zsk);
	EVP_PKEY_free(other);
}

static void synth_free(struct synth *s)
{
	for (int i = 0; i < 3; i++)
		free(s->msg[i]);
}

/* The MX RRset's own signature out of its window, checked on a thread. */
static void test_threads_windows(void **state)
{
	static const struct {
		struct window w[2];
		size_t n;
		const char *verdict, *reason;
	} cases[] = {
		{ { { -3600, 86400, false } }, 1, "secure", "" },
		{ { { -7200, -3600, false } }, 1, "bogus", "signature-expired" },
		{ { { 3600, 86400, false } }, 1, "bogus", "signature-not-yet-valid" },
		{ { { -3600, 86400, true } }, 1, "bogus", "bad-signature" },
		/* within the allowed skew (300 s) */
		{ { { -7200, -100, false } }, 1, "secure", "" },
		{ { { -7200, -3600, false }, { -3600, 86400, false } }, 2, "secure", "" },
		{ { { -7200, -3600, false }, { -3600, 86400, true } }, 2, "bogus",
		  "signature-expired" },
		{ { { -3600, 86400, true }, { 3600, 86400, false } }, 2, "bogus",
		  "signature-not-yet-valid" },
	};
	int64_t now = (int64_t)time(NULL);
	uint64_t threaded = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mxc_validator_stats st;
		struct verdicts sync, thr;
		struct synth s;
		char what[64];

		synth_make(&s, now, cases[i].w, cases[i].n);
		sync = judge(&s.c, 0, 1, NULL);
		thr = judge(&s.c, 2, 1, &st);
		snprintf(what, sizeof(what), "case %zu", i);
		if (strcmp(mxc_dnssec_name(thr.last.status), cases[i].verdict) != 0 ||
		    strcmp(thr.last.status == MXC_DNSSEC_SECURE ?
				   "" :
				   mxc_dnssec_reason_name(thr.last.reason),
			   cases[i].reason) != 0 ||
		    sync.last.status != thr.last.status || sync.last.reason != thr.last.reason) {
			fprintf(stderr, "%s: want %s %s; threads %s %s, loop %s %s\n", what,
				cases[i].verdict, cases[i].reason, mxc_dnssec_name(thr.last.status),
				mxc_dnssec_reason_name(thr.last.reason),
				mxc_dnssec_name(sync.last.status),
				mxc_dnssec_reason_name(sync.last.reason));
			fail();
		}
		/* The MX signatures were checked on a thread. */
		assert_true(st.sig_threaded >= 1);
		/* And the general path (ldns) agrees; the wire path read it. */
		wire_read = 0;
		expect_same(what, &s.c, &threaded);
		assert_int_equal(wire_read, 1);
		synth_free(&s);
	}
}

/* Many checks at once: past the bound the loop verifies; all come back. */
static void test_many_in_flight(void **state)
{
	static uint8_t buf[MAX_SEED];
	struct mxc_validator_stats st;
	struct verdicts vs;
	struct chain c;
	size_t n;

	(void)state;
	n = read_seed("one.test_MX", buf);
	assert_true(chain_split(buf, n, true, &c));
	/* More than the jobs the threads may hold (1024): all are submitted
	 * before the loop runs, so the rest are verified on the loop. */
	vs = judge(&c, 2, 1500, &st);
	assert_int_equal(vs.n, 1500);
	assert_int_equal(vs.first.status, MXC_DNSSEC_SECURE);
	assert_int_equal(vs.last.status, MXC_DNSSEC_SECURE);
	assert_int_equal(st.checks, 1500);
	assert_int_equal(st.wire_checks, 1500);
	/* MX RRsets are not remembered: each check verified its own. */
	assert_true(st.sig_verify >= 1500);
	assert_true(st.sig_threaded > 0);
	assert_true(st.sig_threaded < st.sig_verify);
}

static void count_turn(uv_check_t *h)
{
	++*(unsigned *)h->data;
}

/*
 * A check below the batch that wakes a thread is held back for at most a
 * millisecond; meanwhile the loop must sleep in its poll, not spin. Each
 * round is one check on its own; the loop's turns are counted until its
 * verdict is in: a handful when the poll waits for the timer and then for
 * the thread, hundreds or thousands when every poll returns at once.
 */
static void test_held_back_jobs_let_the_loop_sleep(void **state)
{
	static uint8_t buf[MAX_SEED];
	struct mxc_validator_stats st;
	struct verdicts vs = { 0 };
	ldns_rr_list *anchors;
	struct mxc_validator *v;
	struct chain c;
	uv_check_t turns;
	unsigned n_turns = 0;
	size_t n;
	const int rounds = 5;

	(void)state;
	n = read_seed("one.test_MX", buf);
	assert_true(chain_split(buf, n, true, &c));
	v = validator_for(&c, 1, &anchors);
	/* The zone's keys first, so that the rounds below only verify. */
	assert_int_equal(mxc_validator_check(v, c.m[1].data, c.m[1].len, on_verdict, &vs), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(vs.n, 1);
	uv_check_init(&loop, &turns);
	turns.data = &n_turns;
	uv_check_start(&turns, count_turn);
	uv_unref((uv_handle_t *)&turns);
	for (int i = 0; i < rounds; i++) {
		assert_int_equal(
			mxc_validator_check(v, c.m[1].data, c.m[1].len, on_verdict, &vs), 0);
		uv_run(&loop, UV_RUN_DEFAULT);
		assert_int_equal(vs.n, 2 + i);
	}
	uv_close((uv_handle_t *)&turns, NULL);
	mxc_validator_get_stats(v, &st);
	/* Every round's check went to the thread (else nothing was held). */
	assert_true(st.sig_threaded >= (uint64_t)rounds);
	assert_int_equal(vs.last.status, MXC_DNSSEC_SECURE);
	print_message("held-back checks: %u loop turns for %d rounds\n", n_turns, rounds);
	assert_true(n_turns <= 20u * rounds);
	mxc_validator_free(v);
	uv_run(&loop, UV_RUN_DEFAULT);
	ldns_rr_list_deep_free(anchors);
}

/* Freed with checks still on the threads: every verdict is delivered. */
static void test_free_delivers(void **state)
{
	static uint8_t buf[MAX_SEED];
	struct verdicts vs = { 0 };
	ldns_rr_list *anchors;
	struct mxc_validator *v;
	struct chain c;
	size_t n;

	(void)state;
	n = read_seed("one.test_MX", buf);
	assert_true(chain_split(buf, n, true, &c));
	v = validator_for(&c, 2, &anchors);
	for (int i = 0; i < 50; i++)
		assert_int_equal(mxc_validator_check(v, c.m[1].data, c.m[1].len, on_verdict, &vs),
				 0);
	mxc_validator_free(v);
	assert_int_equal(vs.n, 50);
	assert_int_equal(vs.last.status, MXC_DNSSEC_SECURE);
	uv_run(&loop, UV_RUN_DEFAULT);
	ldns_rr_list_deep_free(anchors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_reasons),
		cmocka_unit_test(test_threads_windows),
		cmocka_unit_test(test_many_in_flight),
		cmocka_unit_test(test_free_delivers),
		cmocka_unit_test(test_held_back_jobs_let_the_loop_sleep),
		cmocka_unit_test(test_threads_agree_with_the_loop),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
