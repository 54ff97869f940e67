/**
 * \file
 * mxc_verify_speed: signature verifications per CPU-second of the validator,
 * on the RRsets of a signed zone, for comparison with `openssl speed` on the
 * same algorithm (bench/run_dnssec.sh prints both and the ratio).
 *
 *   mxc_verify_speed [--breakdown] ZONEFILE [ROUNDS]
 *
 * Every signed RRset of the zone (but the DNSKEY, NSEC, NSEC3 and SOA
 * RRsets) becomes an answer of its own, judged by the validator through
 * mxc_validator_check() as a scan's answers are: parsed from wire, cut into
 * RRsets, checked against the zone's keys (validated once, from the zone's
 * own DNSKEY as the anchor, and then remembered), its signature verified.
 * The verified-RRset memory is emptied between rounds so that every round
 * verifies every RRset again. Printed: the number of checks and
 * verifications, CPU seconds, and verifications per CPU-second.
 *
 * With --breakdown the same RRsets are also verified layer by layer, to show
 * where the time between the validator and the bare crypto goes:
 *   ldns     ldns_verify_rrsig_keylist_time() on the parsed RRset, as the
 *            validator calls it (ldns builds the signed data and converts
 *            the DNSKEY into an OpenSSL key on every call);
 *   canon    the signed data built here (RFC 4034 §3.1.8.1, §6.2), then
 *            EVP_DigestVerify() with a key converted once, beforehand: what
 *            the validator would cost if it kept its keys as OpenSSL keys;
 *   evp      EVP_DigestVerify() alone on signed data built beforehand (the
 *            crypto, with the hash of the signed data: `openssl speed`
 *            verifies a ready digest);
 *   pkey     the same with a verification context kept per key (hash the
 *            data, EVP_PKEY_verify() the digest; EdDSA as evp);
 *   keyconv  one DNSKEY to EVP_PKEY conversion as ldns does it per
 *            verification (ECDSA and Ed25519; RSA is converted by hand here).
 * Each is printed as microseconds of CPU per operation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/alloc.h"
#include "common/util.h"
#include "resolver/validator.h"

struct bench {
	ldns_rr_list *keyset; /* DNSKEY RRset and its RRSIGs */
	ldns_rdf *apex;
	uint64_t verdicts, secure;
};

/* One signed RRset of the zone, in the forms the layers need. */
struct item {
	uint8_t *wire;          /* an answer holding it (for the validator) */
	size_t len;
	ldns_rr_list *rrset;    /* the records, borrowed from the zone */
	ldns_rr *sig;           /* borrowed */
	EVP_PKEY *pkey;         /* the ZSK as an OpenSSL key, borrowed */
	const ldns_rr *key;     /* the ZSK's DNSKEY record, borrowed */
	EVP_PKEY_CTX *pctx;     /* the ZSK ready to verify digests, borrowed */
	ldns_buffer *data;      /* signed data (breakdown only) */
	ldns_buffer *sigbuf;    /* the signature as OpenSSL wants it */
};

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* A response to (owner, type) holding @p rrs (wire format, malloc'd by ldns). */
static uint8_t *answer_wire(const ldns_rdf *owner, ldns_rr_type type, const ldns_rr_list *rrs,
			    size_t *len)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *q = ldns_rr_new();
	uint8_t *w = NULL;

	if (!p || !q) {
		ldns_pkt_free(p);
		ldns_rr_free(q);
		return NULL;
	}
	ldns_rr_set_owner(q, ldns_rdf_clone(owner));
	ldns_rr_set_type(q, type);
	ldns_rr_set_question(q, true);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);
	ldns_pkt_set_qr(p, true);
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++)
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, ldns_rr_clone(ldns_rr_list_rr(rrs, i)));
	if (ldns_pkt2wire(&w, p, len) != LDNS_STATUS_OK)
		w = NULL;
	ldns_pkt_free(p);
	return w;
}

/* The zone's DNSKEY question, answered from memory. */
static int keys_from_zone(void *ctx, const char *name, uint16_t type, unsigned flags,
			  mxc_dns_cb cb, void *arg)
{
	struct bench *b = ctx;
	struct mxc_dns_answer a = { .status = MXC_DNS_TIMEOUT };
	uint8_t *w = NULL;
	size_t len = 0;

	(void)name;
	(void)flags;
	if (type == LDNS_RR_TYPE_DNSKEY)
		w = answer_wire(b->apex, LDNS_RR_TYPE_DNSKEY, b->keyset, &len);
	if (w) {
		a.status = MXC_DNS_ANSWER;
		a.wire = w;
		a.wire_len = len;
	}
	cb(arg, &a);
	LDNS_FREE(w);
	return 0;
}

static void on_verdict(void *arg, struct mxc_val_result r)
{
	struct bench *b = arg;

	b->verdicts++;
	if (r.status == MXC_DNSSEC_SECURE)
		b->secure++;
}

/* The type an RRset is filed under: RRSIGs go with the type they cover. */
static ldns_rr_type set_type(const ldns_rr *rr)
{
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG && ldns_rr_rrsig_typecovered(rr))
		return ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr));
	return ldns_rr_get_type(rr);
}

/* Orders records by owner, then RRset type, RRSIGs last within a set. */
static int by_set(const void *pa, const void *pb)
{
	const ldns_rr *a = *(const ldns_rr *const *)pa, *b = *(const ldns_rr *const *)pb;
	int c = ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b));
	ldns_rr_type ta = set_type(a), tb = set_type(b);
	int sa = ldns_rr_get_type(a) == LDNS_RR_TYPE_RRSIG;
	int sb = ldns_rr_get_type(b) == LDNS_RR_TYPE_RRSIG;

	if (c)
		return c;
	if (ta != tb)
		return ta < tb ? -1 : 1;
	return sa - sb;
}

/* A DNSKEY as an OpenSSL key, the way ldns converts it for each signature
 * (RSA as the validator does: ldns's own RSA conversion is deprecated API). */
static EVP_PKEY *dnskey_pkey(const ldns_rr *key)
{
	ldns_rdf *alg = ldns_rr_dnskey_algorithm(key);
	ldns_rdf *pub = ldns_rr_dnskey_key(key);

	if (!alg || !pub)
		return NULL;
	switch (ldns_rdf2native_int8(alg)) {
	case LDNS_RSASHA256:
	case LDNS_RSASHA512:
		return mxc_dnskey_pkey(key);
	case LDNS_ECDSAP256SHA256:
	case LDNS_ECDSAP384SHA384:
		return ldns_ecdsa2pkey_raw(ldns_rdf_data(pub), ldns_rdf_size(pub),
					   ldns_rdf2native_int8(alg));
	case LDNS_ED25519:
		return ldns_ed255192pkey_raw(ldns_rdf_data(pub), ldns_rdf_size(pub));
	default:
		return NULL;
	}
}

/*
 * The data an RRSIG signs (RFC 4034 §3.1.8.1): its RDATA without the
 * signature, then the RRset in canonical form and order with the original
 * TTL. @p out is cleared first. Returns false on failure.
 */
static bool signed_data(ldns_buffer *out, const ldns_rr_list *rrset, const ldns_rr *sig)
{
	ldns_rr_list *c = ldns_rr_list_clone(rrset);
	uint32_t ottl = ldns_rdf2native_int32(ldns_rr_rrsig_origttl(sig));
	bool ok;

	if (!c)
		return false;
	for (size_t i = 0; i < ldns_rr_list_rr_count(c); i++) {
		ldns_rr *rr = ldns_rr_list_rr(c, i);

		ldns_rr_set_ttl(rr, ottl);
		ldns_rr2canonical(rr);
	}
	ldns_rr_list_sort(c);
	ldns_buffer_clear(out);
	ok = ldns_rrsig2buffer_wire(out, sig) == LDNS_STATUS_OK &&
	     ldns_rr_list2buffer_wire(out, c) == LDNS_STATUS_OK;
	ldns_rr_list_deep_free(c);
	return ok;
}

/* The signature in the form EVP wants: DER for ECDSA, raw for the rest. */
static bool sig_bytes(ldns_buffer *out, const ldns_rr *sig)
{
	ldns_rdf *s = ldns_rr_rrsig_sig(sig);
	uint8_t alg = ldns_rdf2native_int8(ldns_rr_rrsig_algorithm(sig));

	ldns_buffer_clear(out);
	if (alg == LDNS_ECDSAP256SHA256 || alg == LDNS_ECDSAP384SHA384)
		return ldns_convert_ecdsa_rrsig_rdf2asn1(out, s) == LDNS_STATUS_OK;
	return ldns_buffer_reserve(out, ldns_rdf_size(s)) &&
	       (ldns_buffer_write(out, ldns_rdf_data(s), ldns_rdf_size(s)), true);
}

static bool evp_verify(EVP_PKEY *pkey, const EVP_MD *md, ldns_buffer *data, ldns_buffer *sig)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1 &&
		  EVP_DigestVerify(ctx, ldns_buffer_begin(sig), ldns_buffer_position(sig),
				   ldns_buffer_begin(data), ldns_buffer_position(data)) == 1;

	EVP_MD_CTX_free(ctx);
	return ok;
}

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

enum layer { L_CHECK, L_LDNS, L_CANON, L_EVP, L_PKEY, L_CONV, L__COUNT };

/*
 * A verification context kept per key: RSA and ECDSA then verify a digest
 * without setting the key up again (EdDSA signs the message itself, so it
 * has none: NULL).
 */
static EVP_PKEY_CTX *pkey_ctx(EVP_PKEY *pkey, uint8_t alg)
{
	EVP_PKEY_CTX *c;

	if (!mxc_dnssec_alg_md(alg))
		return NULL;
	c = EVP_PKEY_CTX_new(pkey, NULL);
	if (!c || EVP_PKEY_verify_init(c) <= 0 || EVP_PKEY_CTX_set_signature_md(c, mxc_dnssec_alg_md(alg)) <= 0 ||
	    ((alg == LDNS_RSASHA256 || alg == LDNS_RSASHA512) &&
	     EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0)) {
		EVP_PKEY_CTX_free(c);
		return NULL;
	}
	return c;
}

/* Verify with a kept context: hash, then check the digest. */
static bool digest_verify(const struct item *it, uint8_t alg)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!it->pctx)
		return evp_verify(it->pkey, mxc_dnssec_alg_md(alg), it->data, it->sigbuf);
	return EVP_Digest(ldns_buffer_begin(it->data), ldns_buffer_position(it->data), md, &mdlen,
			  mxc_dnssec_alg_md(alg), NULL) == 1 &&
	       EVP_PKEY_verify(it->pctx, ldns_buffer_begin(it->sigbuf),
			       ldns_buffer_position(it->sigbuf), md, mdlen) == 1;
}

/*
 * The layers of one verification, timed over @p rounds passes on every
 * item. The layers take turns item by item, so that a neighbour's load on
 * the shared machine falls on all of them alike; prints microseconds of CPU
 * per operation. Returns false when some verification failed (the figures
 * would then mean nothing).
 */
static bool breakdown(struct bench *b, const struct mxc_validator_opts *o, struct item *it,
		      size_t n, const ldns_rr_list *keys, unsigned rounds)
{
	ldns_buffer *tmp = ldns_buffer_new(1024);
	struct mxc_validator *v = NULL;
	time_t now = time(NULL);
	double us[L__COUNT] = { 0 }, t;
	uint64_t secure0 = b->secure;
	unsigned long bad = 0;
	char err[256];

	if (!tmp)
		return false;
	for (size_t i = 0; i < n; i++) {
		it[i].data = ldns_buffer_new(512);
		it[i].sigbuf = ldns_buffer_new(128);
		if (!it[i].data || !it[i].sigbuf || !signed_data(it[i].data, it[i].rrset, it[i].sig) ||
		    !sig_bytes(it[i].sigbuf, it[i].sig)) {
			fprintf(stderr, "mxc_verify_speed: cannot build the signed data\n");
			ldns_buffer_free(tmp);
			return false;
		}
	}
	for (unsigned r = 0; r < rounds; r++) {
		mxc_validator_free(v);
		if (mxc_validator_new(NULL, o, &v, err, sizeof(err)) != 0) {
			fprintf(stderr, "mxc_verify_speed: %s\n", err);
			ldns_buffer_free(tmp);
			return false;
		}
		mxc_validator_set_query(v, keys_from_zone, b);
		for (size_t i = 0; i < n; i++) {
			uint8_t alg = ldns_rdf2native_int8(ldns_rr_rrsig_algorithm(it[i].sig));
			EVP_PKEY *p;

			t = thread_cpu();
			if (mxc_validator_check(v, it[i].wire, it[i].len, on_verdict, b) != 0)
				bad++;
			us[L_CHECK] += thread_cpu() - t;

			t = thread_cpu();
			if (ldns_verify_rrsig_keylist_time(it[i].rrset, it[i].sig, keys, now, NULL) !=
			    LDNS_STATUS_OK)
				bad++;
			us[L_LDNS] += thread_cpu() - t;

			t = thread_cpu();
			if (!signed_data(tmp, it[i].rrset, it[i].sig) ||
			    !sig_bytes(it[i].sigbuf, it[i].sig) ||
			    !evp_verify(it[i].pkey, mxc_dnssec_alg_md(alg), tmp, it[i].sigbuf))
				bad++;
			us[L_CANON] += thread_cpu() - t;

			t = thread_cpu();
			if (!evp_verify(it[i].pkey, mxc_dnssec_alg_md(alg), it[i].data, it[i].sigbuf))
				bad++;
			us[L_EVP] += thread_cpu() - t;

			t = thread_cpu();
			if (!digest_verify(&it[i], alg))
				bad++;
			us[L_PKEY] += thread_cpu() - t;

			t = thread_cpu();
			p = dnskey_pkey(it[i].key);
			us[L_CONV] += thread_cpu() - t;
			if (!p)
				bad++;
			EVP_PKEY_free(p);
		}
	}
	mxc_validator_free(v);
	bad += (unsigned long)((uint64_t)rounds * n - (b->secure - secure0));
	for (int l = 0; l < L__COUNT; l++)
		us[l] = us[l] * 1e6 / ((double)rounds * (double)n);
	printf("breakdown_us check %.1f ldns %.1f canon %.1f evp %.1f pkey %.1f keyconv %.1f "
	       "(validator over the bare crypto %.1f, ldns over canon %.1f, "
	       "canonicalisation %.1f)\n",
	       us[L_CHECK], us[L_LDNS], us[L_CANON], us[L_EVP], us[L_PKEY], us[L_CONV],
	       us[L_CHECK] - us[L_PKEY], us[L_LDNS] - us[L_CANON], us[L_CANON] - us[L_EVP]);
	ldns_buffer_free(tmp);
	if (bad)
		fprintf(stderr, "mxc_verify_speed: %lu layer verifications failed\n", bad);
	return bad == 0;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	ldns_zone *zone = NULL;
	ldns_rr_list *all, *anchors;
	struct mxc_validator_opts o;
	struct mxc_validator *v = NULL;
	struct item *items;
	ldns_rr **sorted;
	EVP_PKEY *pkeys[8] = { 0 };
	EVP_PKEY_CTX *pctxs[8] = { 0 };
	const ldns_rr *krr[8] = { 0 };
	uint16_t tags[8] = { 0 };
	size_t n = 0, nall, npk = 0;
	uint64_t rounds = 3;
	bool bd = false, ok = true;
	char err[256];
	int ai = 1;
	FILE *f;
	double t0, t1;

	if (argc > 1 && strcmp(argv[1], "--breakdown") == 0) {
		bd = true;
		ai++;
	}
	if (argc <= ai || argc > ai + 2 ||
	    (argc == ai + 2 && mxc_parse_u64(argv[ai + 1], 1, 1000000, &rounds) != 0)) {
		fprintf(stderr, "usage: mxc_verify_speed [--breakdown] ZONEFILE [ROUNDS (1..1000000)]\n");
		return 2;
	}
	if (!(f = fopen(argv[ai], "r"))) {
		fprintf(stderr, "mxc_verify_speed: %s: cannot open\n", argv[ai]);
		return 2;
	}
	if (ldns_zone_new_frm_fp(&zone, f, NULL, 3600, LDNS_RR_CLASS_IN) != LDNS_STATUS_OK ||
	    !ldns_zone_soa(zone)) {
		fprintf(stderr, "mxc_verify_speed: %s does not parse as a zone\n", argv[ai]);
		fclose(f);
		return 1;
	}
	fclose(f);
	b.apex = ldns_rr_owner(ldns_zone_soa(zone));
	all = ldns_zone_rrs(zone);
	nall = ldns_rr_list_rr_count(all);
	b.keyset = ldns_rr_list_new();
	anchors = ldns_rr_list_new();
	sorted = mxc_calloc(nall ? nall : 1, sizeof(*sorted));
	items = mxc_calloc(nall ? nall : 1, sizeof(*items));
	if (!b.keyset || !anchors || !sorted || !items) {
		fprintf(stderr, "mxc_verify_speed: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < nall; i++) {
		ldns_rr *rr = ldns_rr_list_rr(all, i);

		sorted[i] = rr;
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNSKEY) {
			ldns_rr_list_push_rr(b.keyset, rr);
			ldns_rr_list_push_rr(anchors, rr);
			if (npk < sizeof(pkeys) / sizeof(pkeys[0]) && (pkeys[npk] = dnskey_pkey(rr))) {
				krr[npk] = rr;
				pctxs[npk] = pkey_ctx(pkeys[npk],
						      ldns_rdf2native_int8(ldns_rr_dnskey_algorithm(rr)));
				tags[npk++] = ldns_calc_keytag(rr);
			}
		} else if (set_type(rr) == LDNS_RR_TYPE_DNSKEY) {
			ldns_rr_list_push_rr(b.keyset, rr);
		}
	}
	/* Group the records into RRsets: sorted, a set is a run of records of
	 * one owner and type followed by its RRSIGs. */
	qsort(sorted, nall, sizeof(*sorted), by_set);
	for (size_t i = 0, j; i < nall; i = j) {
		ldns_rr_type tc = set_type(sorted[i]);
		ldns_rr_list *set = ldns_rr_list_new(), *ans;
		ldns_rr *sig = NULL;

		for (j = i; j < nall && set_type(sorted[j]) == tc &&
			    ldns_dname_compare(ldns_rr_owner(sorted[j]), ldns_rr_owner(sorted[i])) == 0;
		     j++) {
			if (ldns_rr_get_type(sorted[j]) != LDNS_RR_TYPE_RRSIG)
				ldns_rr_list_push_rr(set, sorted[j]);
			else if (!sig)
				sig = sorted[j];
		}
		if (!set || !sig || !ldns_rr_list_rr_count(set) || tc == LDNS_RR_TYPE_DNSKEY ||
		    tc == LDNS_RR_TYPE_NSEC || tc == LDNS_RR_TYPE_NSEC3 || tc == LDNS_RR_TYPE_SOA) {
			ldns_rr_list_free(set);
			continue;
		}
		ans = ldns_rr_list_clone(set);
		if (ans)
			ldns_rr_list_push_rr(ans, ldns_rr_clone(sig));
		items[n].wire = ans ? answer_wire(ldns_rr_owner(sig), tc, ans, &items[n].len) : NULL;
		ldns_rr_list_deep_free(ans);
		items[n].rrset = set;
		items[n].sig = sig;
		for (size_t k = 0; k < npk; k++)
			if (tags[k] == ldns_rdf2native_int16(ldns_rr_rrsig_keytag(sig))) {
				items[n].pkey = pkeys[k];
				items[n].key = krr[k];
				items[n].pctx = pctxs[k];
			}
		if (!items[n].wire || !items[n].pkey) {
			fprintf(stderr, "mxc_verify_speed: a signed RRset has no usable key "
					"in the zone's DNSKEY RRset\n");
			return 1;
		}
		n++;
	}
	mxc_free(sorted);
	if (!n) {
		fprintf(stderr, "mxc_verify_speed: no signed RRsets in %s\n", argv[ai]);
		return 1;
	}
	mxc_validator_opts_default(&o);
	o.anchors = anchors;
	/* Single-threaded, as `openssl speed` is: without a resolver the
	 * validator has no loop and no verification threads anyway. */
	o.threads = 0;
	t0 = cpu_seconds();
	for (uint64_t r = 0; r < rounds; r++) {
		/* A fresh validator per round: its RRset memory starts empty. */
		mxc_validator_free(v);
		if (mxc_validator_new(NULL, &o, &v, err, sizeof(err)) != 0) {
			fprintf(stderr, "mxc_verify_speed: %s\n", err);
			return 1;
		}
		mxc_validator_set_query(v, keys_from_zone, &b);
		for (size_t i = 0; i < n; i++)
			if (mxc_validator_check(v, items[i].wire, items[i].len, on_verdict, &b) != 0)
				return 1;
	}
	t1 = cpu_seconds();
	printf("answers %llu secure %llu rounds %llu rrsets/round %zu cpu_s %.3f "
	       "checks_per_cpu_s %.0f\n",
	       (unsigned long long)b.verdicts, (unsigned long long)b.secure,
	       (unsigned long long)rounds, n, t1 - t0, (double)b.verdicts / (t1 - t0));
	if (b.secure != b.verdicts)
		fprintf(stderr, "mxc_verify_speed: %llu of %llu answers not secure\n",
			(unsigned long long)(b.verdicts - b.secure),
			(unsigned long long)b.verdicts);
	if (bd && b.verdicts)
		ok = breakdown(&b, &o, items, n, anchors, (unsigned)rounds);
	mxc_validator_free(v);
	for (size_t i = 0; i < n; i++) {
		LDNS_FREE(items[i].wire);
		ldns_rr_list_free(items[i].rrset);
		ldns_buffer_free(items[i].data);
		ldns_buffer_free(items[i].sigbuf);
	}
	for (size_t k = 0; k < npk; k++) {
		EVP_PKEY_CTX_free(pctxs[k]);
		EVP_PKEY_free(pkeys[k]);
	}
	mxc_free(items);
	ldns_rr_list_free(anchors);
	ldns_rr_list_free(b.keyset);
	ldns_zone_deep_free(zone);
	return b.secure == b.verdicts && ok ? 0 : 1;
}
