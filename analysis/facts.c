/**
 * \file
 * Stored records to classifier facts (see facts.h).
 *
 * A domain's record holds its own answers (MX, TXT, the policy host's
 * addresses) and its MTA-STS fetch; each MX host's record, looked up by
 * name, holds the host's answers and one SMTP probe result per address.
 * Every (host, address) becomes one struct mxc_host_facts; a host without
 * an address becomes one with status NO_ADDRESS, a host never stored (the
 * scan stopped first) one with status NOT_PROBED. The scratch arrays grow
 * to the largest domain seen and are reused, so an export of millions of
 * domains allocates little after its first rows.
 */
#include "analysis/facts.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "resolver/resolver.h"
#include "resolver/validator.h"

#define TLSA_PER_HOST 32

void mxc_facts_init(struct mxc_facts *fx)
{
	memset(fx, 0, sizeof(*fx));
	mxc_txtset_init(&fx->txt);
}

static void release_hosts(struct mxc_facts *fx)
{
	for (size_t i = 0; i < fx->n_hosts; i++)
		mxc_free(fx->hosts[i]);
	fx->n_hosts = 0;
}

void mxc_facts_free(struct mxc_facts *fx)
{
	release_hosts(fx);
	mxc_free(fx->hosts);
	mxc_free(fx->hf);
	mxc_free(fx->res);
	mxc_free(fx->tlsa);
	mxc_free(fx->addr);
	mxc_txtset_free(&fx->txt);
	memset(fx, 0, sizeof(*fx));
}

static enum mxc_fact_dnssec fact_dnssec(uint8_t v)
{
	switch (v) {
	case MXC_DNSSEC_SECURE:
		return MXC_FACT_DNSSEC_SECURE;
	case MXC_DNSSEC_INSECURE:
		return MXC_FACT_DNSSEC_INSECURE;
	case MXC_DNSSEC_BOGUS:
		return MXC_FACT_DNSSEC_BOGUS;
	case MXC_DNSSEC_INDETERMINATE:
		return MXC_FACT_DNSSEC_INDETERMINATE;
	default:
		return MXC_FACT_DNSSEC_UNKNOWN;
	}
}

/* The stored answer to (prefix + name, qtype), or NULL. */
static const struct mxc_raw_answer *find_raw(const struct mxc_raw_answer *raw, uint32_t n,
					     const char *prefix, const char *name, uint16_t qtype)
{
	size_t plen = strlen(prefix);

	for (uint32_t i = 0; i < n; i++)
		if (raw[i].qtype == qtype && raw[i].qname &&
		    strncmp(raw[i].qname, prefix, plen) == 0 && strcmp(raw[i].qname + plen, name) == 0)
			return &raw[i];
	return NULL;
}

/* The TXT records of one of the domain's names; false if not measured. */
static bool txt_of(struct mxc_facts *fx, const struct mxc_domain_rec *d, const char *prefix)
{
	const struct mxc_raw_answer *a = find_raw(d->raw, d->n_raw, prefix, d->domain,
						  LDNS_RR_TYPE_TXT);

	if (!a || a->status != MXC_DNS_ANSWER || !a->wire)
		return false;
	return mxc_txtset_from_wire(&fx->txt, a->wire, a->wire_len, a->rcode) == 1;
}

static void txt_facts(struct mxc_facts *fx, const struct mxc_domain_rec *d)
{
	memset(&fx->sts_txt, 0, sizeof(fx->sts_txt));
	memset(&fx->tlsrpt, 0, sizeof(fx->tlsrpt));
	fx->spf = MXC_SPF_NONE;
	fx->dmarc = MXC_DMARC_ABSENT;
	fx->txt_measured[0] = txt_of(fx, d, "_mta-sts.");
	if (fx->txt_measured[0])
		(void)mxc_txtrec_sts(fx->txt.recs, fx->txt.n, &fx->sts_txt);
	fx->txt_measured[1] = txt_of(fx, d, "_smtp._tls.");
	if (fx->txt_measured[1])
		(void)mxc_txtrec_tlsrpt(fx->txt.recs, fx->txt.n, &fx->tlsrpt);
	fx->txt_measured[2] = txt_of(fx, d, "");
	if (fx->txt_measured[2])
		fx->spf = mxc_txtrec_spf(fx->txt.recs, fx->txt.n);
	fx->txt_measured[3] = txt_of(fx, d, "_dmarc.");
	if (fx->txt_measured[3])
		fx->dmarc = mxc_txtrec_dmarc(fx->txt.recs, fx->txt.n);
	fx->f.sts_txt = fx->sts_txt.status;
	fx->f.sts_id = fx->sts_txt.status == MXC_TXTREC_VALID ? fx->sts_txt.id : NULL;
	fx->f.tls_rpt = fx->tlsrpt.status;
	fx->f.spf = fx->spf;
	fx->f.dmarc = fx->dmarc;
}

static enum mxc_fact_sts_fetch fetch_kind(uint8_t e)
{
	switch (e) {
	case MXC_STS_FETCH_DNS:
		return MXC_FACT_STS_FETCH_DNS;
	case MXC_STS_FETCH_CONNECT:
		return MXC_FACT_STS_FETCH_CONNECT;
	case MXC_STS_FETCH_TIMEOUT:
		return MXC_FACT_STS_FETCH_TIMEOUT;
	case MXC_STS_FETCH_TLS:
		return MXC_FACT_STS_FETCH_TLS_OTHER;
	case MXC_STS_FETCH_TLS_PKIX:
		return MXC_FACT_STS_FETCH_TLS_PKIX;
	case MXC_STS_FETCH_TLS_NAME:
		return MXC_FACT_STS_FETCH_TLS_NAME;
	case MXC_STS_FETCH_HTTP:
		return MXC_FACT_STS_FETCH_HTTP_STATUS;
	case MXC_STS_FETCH_REDIRECT:
		return MXC_FACT_STS_FETCH_REDIRECT;
	case MXC_STS_FETCH_CONTENT_TYPE:
		return MXC_FACT_STS_FETCH_CONTENT_TYPE;
	case MXC_STS_FETCH_TOO_LARGE:
		return MXC_FACT_STS_FETCH_TOO_LARGE;
	default:
		return MXC_FACT_STS_FETCH_OTHER;
	}
}

static void sts_facts(struct mxc_facts *fx, const struct mxc_domain_rec *d)
{
	struct mxc_domain_facts *f = &fx->f;

	fx->have_sts = false;
	f->sts_policy = MXC_FACT_STS_POLICY_NA;
	if (!d->sts.len)
		return;
	if (mxc_sts_rec_decode(d->sts.data, d->sts.len, &fx->sts) != 0) {
		mxc_log_warn("%s: the stored MTA-STS fetch does not decode; ignored", d->domain);
		return;
	}
	fx->have_sts = true;
	if (fx->sts.error == MXC_STS_FETCH_OK || fx->sts.error == MXC_STS_FETCH_SYNTAX) {
		/* Parsed again from the body: a parser fix applies to old stores. */
		mxc_sts_policy_parse(fx->sts.body ? fx->sts.body : (const uint8_t *)"",
				     fx->sts.body_len, &fx->policy);
		if (fx->policy.error != MXC_STS_OK) {
			f->sts_policy = MXC_FACT_STS_POLICY_INVALID;
			f->sts_parse_error = fx->policy.error;
			return;
		}
		f->sts_policy = MXC_FACT_STS_POLICY_OK;
		f->sts_mode = fx->policy.mode;
		f->sts_max_age = fx->policy.max_age;
		for (size_t i = 0; i < fx->policy.n_mx; i++)
			fx->sts_mx[i] = fx->policy.mx[i];
		f->sts_mx = fx->sts_mx;
		f->n_sts_mx = fx->policy.n_mx;
		return;
	}
	f->sts_policy = MXC_FACT_STS_POLICY_FETCH_ERROR;
	f->sts_fetch_error = fetch_kind(fx->sts.error);
	f->sts_http_status = fx->sts.http_code;
}

static int reserve(void **p, size_t *cap_unused, size_t n, size_t size)
{
	void *q = mxc_realloc(*p, n * size);

	(void)cap_unused;
	if (!q)
		return MXC_ENOMEM;
	*p = q;
	return 0;
}

/* Room for @p n host facts (and as many results, addresses, TLSA groups). */
static int grow(struct mxc_facts *fx, size_t n)
{
	int r = 0;

	if (n <= fx->cap_hf)
		return 0;
	r = reserve((void **)&fx->hf, NULL, n, sizeof(*fx->hf));
	if (!r)
		r = reserve((void **)&fx->res, NULL, n, sizeof(*fx->res));
	if (!r)
		r = reserve((void **)&fx->addr, NULL, n, sizeof(*fx->addr));
	if (!r)
		r = reserve((void **)&fx->tlsa, NULL, n * TLSA_PER_HOST, sizeof(*fx->tlsa));
	if (!r)
		fx->cap_hf = n;
	return r;
}

/* The TLSA records of a host's answer and the RRset's state. */
static enum mxc_fact_tlsa tlsa_facts(const struct mxc_host_rec *h, struct mxc_fact_tlsa_rr *out,
				     size_t *n)
{
	const struct mxc_raw_answer *a = find_raw(h->raw, h->n_raw, "_25._tcp.", h->host,
						  LDNS_RR_TYPE_TLSA);
	ldns_pkt *pkt = NULL;
	const ldns_rr_list *ans;

	*n = 0;
	if (!a || a->status != MXC_DNS_ANSWER || !a->wire)
		return MXC_FACT_TLSA_UNKNOWN;
	if (a->dnssec == MXC_DNSSEC_BOGUS)
		return MXC_FACT_TLSA_BOGUS;
	if (a->rcode == LDNS_RCODE_NXDOMAIN)
		return MXC_FACT_TLSA_NONE;
	if (a->rcode != LDNS_RCODE_NOERROR ||
	    ldns_wire2pkt(&pkt, a->wire, a->wire_len) != LDNS_STATUS_OK) {
		if (pkt)
			ldns_pkt_free(pkt);
		return MXC_FACT_TLSA_UNKNOWN;
	}
	ans = ldns_pkt_answer(pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(ans) && *n < TLSA_PER_HOST; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ans, i);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TLSA || ldns_rr_rd_count(rr) != 4)
			continue;
		out[*n].usage = ldns_rdf2native_int8(ldns_rr_rdf(rr, 0));
		out[*n].selector = ldns_rdf2native_int8(ldns_rr_rdf(rr, 1));
		out[*n].mtype = ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
		(*n)++;
	}
	ldns_pkt_free(pkt);
	if (*n == 0)
		return MXC_FACT_TLSA_NONE;
	if (a->dnssec == MXC_DNSSEC_SECURE)
		return MXC_FACT_TLSA_SECURE;
	if (a->dnssec == MXC_DNSSEC_INSECURE)
		return MXC_FACT_TLSA_INSECURE;
	return MXC_FACT_TLSA_UNKNOWN;
}

static enum mxc_fact_host host_status(int st)
{
	switch (st) {
	case MXC_SMTP_OK:
		return MXC_FACT_HOST_OK;
	case MXC_SMTP_CONNECT_FAILED:
		return MXC_FACT_HOST_CONNECT_FAILED;
	case MXC_SMTP_TIMEOUT:
		return MXC_FACT_HOST_TIMEOUT;
	case MXC_SMTP_BANNER_ERROR:
		return MXC_FACT_HOST_BANNER_ERROR;
	case MXC_SMTP_NO_STARTTLS:
		return MXC_FACT_HOST_NO_STARTTLS;
	case MXC_SMTP_STARTTLS_REJECTED:
		return MXC_FACT_HOST_STARTTLS_REJECTED;
	case MXC_SMTP_TLS_FAILED:
		return MXC_FACT_HOST_TLS_FAILED;
	default:
		return MXC_FACT_HOST_NOT_PROBED; /* blocked, or a newer status */
	}
}

static enum mxc_fact_dane dane_fact(int st, int dane)
{
	if (st == MXC_SMTP_BLOCKED)
		return MXC_FACT_DANE_UNKNOWN;
	switch (dane) {
	case MXC_DANE_MATCH_EE:
		return MXC_FACT_DANE_MATCH_EE;
	case MXC_DANE_MATCH_TA:
		return MXC_FACT_DANE_MATCH_TA;
	case MXC_DANE_MISMATCH:
		return MXC_FACT_DANE_MISMATCH;
	case MXC_DANE_NOT_DNSSEC:
		return MXC_FACT_DANE_NOT_DNSSEC;
	default:
		/* "none": no usable records; unknown when no session came up */
		return st == MXC_SMTP_OK ? MXC_FACT_DANE_NONE : MXC_FACT_DANE_UNKNOWN;
	}
}

static uint16_t tls_version_code(const char *v)
{
	static const struct {
		const char *name;
		uint16_t code;
	} t[] = {
		{ "SSLv3", 0x0300 }, { "TLSv1", 0x0301 },   { "TLSv1.1", 0x0302 },
		{ "TLSv1.2", 0x0303 }, { "TLSv1.3", 0x0304 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(v, t[i].name) == 0)
			return t[i].code;
	return 0;
}

/* One (host, address): what its probe found, if it ran. */
static void addr_facts(struct mxc_host_facts *hf, const struct mxc_host_rec *h,
		       const struct mxc_smtp_result *r, const char *now)
{
	hf->status = host_status(r->status);
	hf->starttls_offered = r->starttls_offered != 0;
	hf->stripping_evidence = r->stripping != 0;
	hf->tls_version = tls_version_code(r->tls_version);
	hf->cert_name_matches = r->name_valid != 0;
	/* RFC 3339 UTC strings compare as the times they name. */
	hf->cert_expired = r->not_after[0] && strcmp(r->not_after, now) < 0;
	/* The chain without its dates: an expired, otherwise trusted chain is
	 * "expired", not also "untrusted". */
	hf->pkix_chain_valid = r->chain_valid ||
			       (hf->cert_expired && strstr(r->pkix_error, "expired") != NULL);
	hf->dane = dane_fact(r->status, r->dane);
	(void)h;
}

static int host_facts(struct mxc_facts *fx, const struct mxc_host_rec *h, size_t *k,
		      const char *now)
{
	struct mxc_fact_tlsa_rr *tl = &fx->tlsa[*k * TLSA_PER_HOST];
	size_t ntl = 0, nres = 0;
	enum mxc_fact_tlsa tstate = tlsa_facts(h, tl, &ntl);
	const struct mxc_raw_answer *a4 = find_raw(h->raw, h->n_raw, "", h->host, LDNS_RR_TYPE_A);
	const struct mxc_raw_answer *a6 = find_raw(h->raw, h->n_raw, "", h->host, LDNS_RR_TYPE_AAAA);
	struct mxc_smtp_result *res = &fx->res[*k];

	/* Decode the probe results once; they are matched by address below. */
	for (uint32_t i = 0; i < h->n_probe && *k + nres < fx->cap_hf; i++) {
		if (mxc_smtp_rec_decode(h->probe[i].data, h->probe[i].len, &res[nres]) != 0) {
			mxc_log_warn("host %s: a stored probe result does not decode; skipped",
				     h->host);
			continue;
		}
		nres++;
	}
	if (h->n_addr == 0) {
		struct mxc_host_facts *hf = &fx->hf[(*k)++];

		memset(hf, 0, sizeof(*hf));
		hf->name = h->host;
		hf->status = MXC_FACT_HOST_NO_ADDRESS;
		hf->tlsa = tstate;
		hf->tlsa_rr = tl;
		hf->n_tlsa = ntl;
		return 0;
	}
	for (uint32_t i = 0; i < h->n_addr && *k < fx->cap_hf; i++) {
		const struct mxc_addr *ad = &h->addrs[i];
		size_t slot = *k;
		struct mxc_host_facts *hf = &fx->hf[slot];
		const struct mxc_smtp_result *found = NULL;

		memset(hf, 0, sizeof(*hf));
		if (!inet_ntop(ad->family == 4 ? AF_INET : AF_INET6, ad->addr, fx->addr[slot],
			       sizeof(fx->addr[slot])))
			fx->addr[slot][0] = '\0';
		hf->name = h->host;
		hf->address = fx->addr[slot];
		hf->tlsa = tstate;
		hf->tlsa_rr = tl;
		hf->n_tlsa = ntl;
		hf->addr_dnssec = fact_dnssec(ad->family == 4 ? (a4 ? a4->dnssec : 0) :
								(a6 ? a6->dnssec : 0));
		for (size_t j = 0; j < nres && !found; j++)
			if (strcmp(res[j].ip, fx->addr[slot]) == 0)
				found = &res[j];
		if (found)
			addr_facts(hf, h, found, now);
		(*k)++;
	}
	return 0;
}

int mxc_facts_build(struct mxc_facts *fx, struct mxc_store *s, const struct mxc_domain_rec *d)
{
	struct mxc_domain_facts *f = &fx->f;
	const struct mxc_raw_answer *mx;
	size_t need = 0, k = 0;
	char now[21];
	int r;

	release_hosts(fx);
	memset(f, 0, sizeof(*f));
	f->mx_status = (enum mxc_mx_status)d->mx_status;
	f->null_mx_with_other = (d->flags & MXC_DOM_NULL_MX_MIXED) != 0;
	mx = find_raw(d->raw, d->n_raw, "", d->domain, LDNS_RR_TYPE_MX);
	if (mx) {
		f->dnssec = fact_dnssec(mx->dnssec);
		f->dnssec_reason = mx->dnssec && mx->dnssec != MXC_DNSSEC_SECURE ?
					   mxc_dnssec_reason_name(mx->dnssec_reason) : NULL;
	}
	txt_facts(fx, d);
	sts_facts(fx, d);
	if (d->n_mx > fx->cap_hosts) {
		r = reserve((void **)&fx->hosts, NULL, d->n_mx, sizeof(*fx->hosts));
		if (r)
			return r;
		fx->cap_hosts = d->n_mx;
	}
	/* The hosts first, to know how many (host, address) facts there are. */
	for (uint32_t i = 0; i < d->n_mx; i++) {
		struct mxc_host_rec *h = NULL;

		r = mxc_store_host_get(s, d->mx[i].host, &h);
		if (r == MXC_ECORRUPT || r == MXC_ESCHEMA) {
			mxc_log_warn("host %s (of %s): its record does not decode (%s); taken as "
				     "not probed", d->mx[i].host, d->domain, mxc_strerror(r));
			h = NULL;
		} else if (r && r != MXC_ENOTFOUND) {
			return r;
		}
		fx->hosts[fx->n_hosts++] = h;
		need += h && h->n_addr > h->n_probe ? h->n_addr : h ? h->n_probe + 1 : 1;
	}
	r = grow(fx, need + 1);
	if (r)
		return r;
	mxc_rfc3339(mxc_wall_time(), now);
	for (uint32_t i = 0; i < d->n_mx; i++) {
		const struct mxc_host_rec *h = fx->hosts[i];

		if (!h) {
			struct mxc_host_facts *hf = &fx->hf[k++];

			memset(hf, 0, sizeof(*hf));
			hf->name = d->mx[i].host; /* resolved in no run of this store */
			continue;
		}
		host_facts(fx, h, &k, now);
	}
	f->hosts = k ? fx->hf : NULL;
	f->n_hosts = k;
	return 0;
}
