/**
 * \file
 * mxc_verify_speed: signature verifications per CPU-second of the validator,
 * on the RRsets of a signed zone, for comparison with `openssl speed` on the
 * same algorithm (bench/run_dnssec.sh prints both and the ratio).
 *
 *   mxc_verify_speed ZONEFILE [ROUNDS]
 *
 * Every signed RRset of the zone (but the DNSKEY RRset) becomes an answer
 * of its own, judged by the validator through mxc_validator_check() as a
 * scan's answers are: parsed from wire, cut into RRsets, checked against the
 * zone's keys (validated once, from the zone's own DNSKEY as the anchor, and
 * then remembered), its signature verified. The verified-RRset memory is
 * emptied between rounds so that every round verifies every RRset again.
 * Printed: the number of checks and verifications, CPU seconds, and
 * verifications per CPU-second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <ldns/ldns.h>

#include "resolver/validator.h"

struct bench {
	ldns_rr_list *keyset; /* DNSKEY RRset and its RRSIGs */
	ldns_rdf *apex;
	uint64_t verdicts, secure;
};

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* A response to (owner, type) holding @p rrs (wire format, malloc'd). */
static uint8_t *answer_wire(const ldns_rdf *owner, ldns_rr_type type, const ldns_rr_list *rrs,
			    size_t *len)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *q = ldns_rr_new();
	uint8_t *w = NULL;

	if (!p || !q)
		return NULL;
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
	free(w);
	return 0;
}

static void on_verdict(void *arg, struct mxc_val_result r)
{
	struct bench *b = arg;

	b->verdicts++;
	if (r.status == MXC_DNSSEC_SECURE)
		b->secure++;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	ldns_zone *zone = NULL;
	ldns_rr_list *all, *anchors;
	struct mxc_validator_opts o;
	struct mxc_validator *v = NULL;
	struct mxc_validator_stats st;
	uint8_t **wires;
	size_t *lens, n = 0;
	unsigned rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 3;
	char err[256];
	FILE *f;
	double t0, t1;

	if (argc < 2 || !(f = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: mxc_verify_speed ZONEFILE [ROUNDS]\n");
		return 2;
	}
	if (ldns_zone_new_frm_fp(&zone, f, NULL, 3600, LDNS_RR_CLASS_IN) != LDNS_STATUS_OK) {
		fprintf(stderr, "mxc_verify_speed: %s does not parse\n", argv[1]);
		return 1;
	}
	fclose(f);
	b.apex = ldns_rr_owner(ldns_zone_soa(zone));
	all = ldns_zone_rrs(zone);
	b.keyset = ldns_rr_list_new();
	anchors = ldns_rr_list_new();
	for (size_t i = 0; i < ldns_rr_list_rr_count(all); i++) {
		ldns_rr *rr = ldns_rr_list_rr(all, i);
		ldns_rr_type t = ldns_rr_get_type(rr);

		if (t == LDNS_RR_TYPE_DNSKEY) {
			ldns_rr_list_push_rr(b.keyset, rr);
			ldns_rr_list_push_rr(anchors, rr);
		} else if (t == LDNS_RR_TYPE_RRSIG &&
			   ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) == LDNS_RR_TYPE_DNSKEY) {
			ldns_rr_list_push_rr(b.keyset, rr);
		}
	}
	/* One answer per signed RRset: each RRSIG with the records it covers. */
	wires = calloc(ldns_rr_list_rr_count(all), sizeof(*wires));
	lens = calloc(ldns_rr_list_rr_count(all), sizeof(*lens));
	for (size_t i = 0; wires && lens && i < ldns_rr_list_rr_count(all); i++) {
		ldns_rr *sig = ldns_rr_list_rr(all, i);
		ldns_rr_type tc;
		ldns_rr_list *set;

		if (ldns_rr_get_type(sig) != LDNS_RR_TYPE_RRSIG)
			continue;
		tc = ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig));
		if (tc == LDNS_RR_TYPE_DNSKEY || tc == LDNS_RR_TYPE_NSEC ||
		    tc == LDNS_RR_TYPE_NSEC3 || tc == LDNS_RR_TYPE_SOA)
			continue;
		set = ldns_rr_list_new();
		for (size_t j = 0; j < ldns_rr_list_rr_count(all); j++) {
			ldns_rr *rr = ldns_rr_list_rr(all, j);

			if (ldns_rr_get_type(rr) == tc &&
			    ldns_dname_compare(ldns_rr_owner(rr), ldns_rr_owner(sig)) == 0)
				ldns_rr_list_push_rr(set, rr);
		}
		ldns_rr_list_push_rr(set, sig);
		wires[n] = answer_wire(ldns_rr_owner(sig), tc, set, &lens[n]);
		if (wires[n])
			n++;
		ldns_rr_list_free(set);
	}
	if (!n) {
		fprintf(stderr, "mxc_verify_speed: no signed RRsets in %s\n", argv[1]);
		return 1;
	}
	mxc_validator_opts_default(&o);
	o.anchors = anchors;
	t0 = cpu_seconds();
	for (unsigned r = 0; r < rounds; r++) {
		/* A fresh validator per round: its RRset memory starts empty. */
		mxc_validator_free(v);
		if (mxc_validator_new(NULL, &o, &v, err, sizeof(err)) != 0) {
			fprintf(stderr, "mxc_verify_speed: %s\n", err);
			return 1;
		}
		mxc_validator_set_query(v, keys_from_zone, &b);
		for (size_t i = 0; i < n; i++)
			if (mxc_validator_check(v, wires[i], lens[i], on_verdict, &b) != 0)
				return 1;
	}
	t1 = cpu_seconds();
	mxc_validator_get_stats(v, &st);
	printf("answers %llu secure %llu rounds %u rrsets/round %zu cpu_s %.3f "
	       "checks_per_cpu_s %.0f\n",
	       (unsigned long long)b.verdicts, (unsigned long long)b.secure, rounds, n, t1 - t0,
	       (double)b.verdicts / (t1 - t0));
	if (b.secure != b.verdicts)
		fprintf(stderr, "mxc_verify_speed: %llu of %llu answers not secure\n",
			(unsigned long long)(b.verdicts - b.secure),
			(unsigned long long)b.verdicts);
	mxc_validator_free(v);
	for (size_t i = 0; i < n; i++)
		free(wires[i]);
	free(wires);
	free(lens);
	ldns_rr_list_free(anchors);
	ldns_rr_list_free(b.keyset);
	ldns_zone_deep_free(zone);
	return b.secure == b.verdicts ? 0 : 1;
}
