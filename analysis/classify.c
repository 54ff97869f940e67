/**
 * \file
 * The classifier: one pass over a domain's mail hosts that reduces each host
 * to a few judgements (did a sender reach it, did TLS complete, is its
 * certificate PKIX-valid, does DANE apply to it and hold, does the MTA-STS
 * policy cover it), counts them, and derives every verdict column and every
 * issue code from the counts and the domain-level facts.
 *
 * The rules read the facts the way a compliant sending MTA would: RFC 7672
 * for DANE (TLSA used only behind a secure address, usages 2 and 3 only,
 * mandatory TLS once a secure TLSA RRset exists), RFC 8461 for MTA-STS (a
 * policy exists only with exactly one valid `_mta-sts` record and a fetched,
 * valid policy; testing mode reports, enforce mode refuses), RFC 8460 for
 * what such a sender would put in a TLS-RPT report. A fact that was not
 * gathered (an enum still at its 0 value) never yields a verdict: the column
 * stays empty rather than claiming "none". analysis/CLASSIFY.md states each
 * rule and each reading taken where the design was silent.
 *
 * The pass is O(hosts + TLSA records), allocates nothing and touches no
 * state outside its arguments, so it is safe from any thread.
 */
#include "analysis/classify.h"

#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

/* How DANE stands for one host, from its DNS facts alone. */
enum host_dane {
	HD_UNKNOWN = 0, /* TLSA not looked up */
	HD_NONE,        /* no TLSA records */
	HD_INSECURE,    /* records exist but protect nothing */
	HD_BOGUS,       /* TLSA or address answer bogus: senders defer */
	HD_UNUSABLE,    /* secure RRset without a usable (2/3) record */
	HD_USABLE,      /* secure RRset with a usable record: DANE applies */
};

/* Counts over the hosts that the verdicts are derived from. */
struct tally {
	size_t hosts;        /* entries with an address (mail can go there) */
	size_t probed;       /* of those, the SMTP probe ran */
	size_t reached;      /* an SMTP session with a usable EHLO */
	size_t tls;          /* STARTTLS and the handshake completed */
	size_t pkix_valid;   /* of tls: chain, name and dates all valid */
	uint16_t tls_min;    /* lowest negotiated version; 0 if none */

	size_t dane_bogus;    /* any entry, address or not */
	size_t dane_insecure;
	size_t dane_unusable;
	size_t dane_usable;
	size_t dane_unknown;
	size_t dane_absent;   /* NONE or INSECURE: no secure TLSA */
	size_t dane_matched;  /* usable, handshake done, chain matched */
	size_t dane_broken;   /* secure TLSA and a sender would defer */

	size_t sts_ok;        /* covered and, if reached, TLS + PKIX valid */
	size_t sts_broken;    /* not covered, or reached and failing */
};

/* The facts a whole-domain rule needs besides the tally. */
struct domain_view {
	bool sts_in_force; /* a policy senders apply (enforce or testing) */
	bool sts_enforce;
};

static const char *const dnssec_names[] = {
	[MXC_FACT_DNSSEC_UNKNOWN] = "",
	[MXC_FACT_DNSSEC_SECURE] = "secure",
	[MXC_FACT_DNSSEC_INSECURE] = "insecure",
	[MXC_FACT_DNSSEC_BOGUS] = "bogus",
	[MXC_FACT_DNSSEC_INDETERMINATE] = "indeterminate",
};

static const char *const tlsa_status_names[] = {
	[MXC_FACT_TLSA_UNKNOWN] = "",          [MXC_FACT_TLSA_NONE] = "none",
	[MXC_FACT_TLSA_SECURE] = "secure",     [MXC_FACT_TLSA_INSECURE] = "insecure",
	[MXC_FACT_TLSA_BOGUS] = "bogus",
};

static const char *const host_status_names[] = {
	[MXC_FACT_HOST_NOT_PROBED] = "",
	[MXC_FACT_HOST_NO_ADDRESS] = "no-address",
	[MXC_FACT_HOST_OK] = "ok",
	[MXC_FACT_HOST_CONNECT_FAILED] = "connect-failed",
	[MXC_FACT_HOST_TIMEOUT] = "timeout",
	[MXC_FACT_HOST_BANNER_ERROR] = "banner-error",
	[MXC_FACT_HOST_NO_STARTTLS] = "no-starttls",
	[MXC_FACT_HOST_STARTTLS_REJECTED] = "starttls-rejected",
	[MXC_FACT_HOST_TLS_FAILED] = "tls-failed",
};

static const char *const dane_result_names[] = {
	[MXC_FACT_DANE_UNKNOWN] = "",          [MXC_FACT_DANE_MATCH_EE] = "match-ee",
	[MXC_FACT_DANE_MATCH_TA] = "match-ta", [MXC_FACT_DANE_MISMATCH] = "mismatch",
	[MXC_FACT_DANE_NONE] = "none",         [MXC_FACT_DANE_NOT_DNSSEC] = "not-dnssec",
};

static const char *const sts_policy_names[] = {
	[MXC_FACT_STS_POLICY_NA] = "n-a",
	[MXC_FACT_STS_POLICY_OK] = "ok",
	[MXC_FACT_STS_POLICY_FETCH_ERROR] = "fetch-error",
	[MXC_FACT_STS_POLICY_INVALID] = "invalid",
};

static const char *const sts_fetch_names[] = {
	[MXC_FACT_STS_FETCH_OK] = "",
	[MXC_FACT_STS_FETCH_DNS] = "dns",
	[MXC_FACT_STS_FETCH_CONNECT] = "connect",
	[MXC_FACT_STS_FETCH_TIMEOUT] = "timeout",
	[MXC_FACT_STS_FETCH_TLS_PKIX] = "tls-pkix",
	[MXC_FACT_STS_FETCH_TLS_NAME] = "tls-name",
	[MXC_FACT_STS_FETCH_TLS_OTHER] = "tls",
	[MXC_FACT_STS_FETCH_HTTP_STATUS] = "http",
	[MXC_FACT_STS_FETCH_REDIRECT] = "redirect",
	[MXC_FACT_STS_FETCH_CONTENT_TYPE] = "content-type",
	[MXC_FACT_STS_FETCH_TOO_LARGE] = "too-large",
	[MXC_FACT_STS_FETCH_OTHER] = "other",
};

static const struct mxc_issue_info issue_table[] = {
#define XX(id, code, rfc8460, meaning, ref) { MXC_ISSUE_##id, code, rfc8460, meaning, ref },
	MXC_ISSUE_MAP(XX)
#undef XX
};

/* The mask is a uint64_t: the table must never outgrow it. */
_Static_assert(MXC_ISSUE_COUNT <= 64, "issue codes must fit in issue_mask");

#define NAME_OF(table, v)                                                       \
	((size_t)(v) < MXC_ARRAY_SIZE(table) && (table)[(size_t)(v)] ? (table)[(size_t)(v)] : "?")

const char *mxc_fact_dnssec_name(enum mxc_fact_dnssec s)
{
	return NAME_OF(dnssec_names, s);
}

const char *mxc_fact_tlsa_name(enum mxc_fact_tlsa s)
{
	return NAME_OF(tlsa_status_names, s);
}

const char *mxc_fact_host_name(enum mxc_fact_host s)
{
	return NAME_OF(host_status_names, s);
}

const char *mxc_fact_dane_name(enum mxc_fact_dane r)
{
	return NAME_OF(dane_result_names, r);
}

const char *mxc_fact_sts_policy_name(enum mxc_fact_sts_policy s)
{
	return NAME_OF(sts_policy_names, s);
}

const char *mxc_fact_sts_fetch_name(enum mxc_fact_sts_fetch e, int http_status, char buf[16])
{
	/* The export spells a bad status "http-404"; an out-of-range status
	 * (the fetcher's bug, not the server's) is kept visible as "http". */
	if (e == MXC_FACT_STS_FETCH_HTTP_STATUS && http_status >= 100 && http_status <= 999) {
		snprintf(buf, 16, "http-%d", http_status);
		return buf;
	}
	return NAME_OF(sts_fetch_names, e);
}

const struct mxc_issue_info *mxc_issue_table(size_t *n)
{
	if (n)
		*n = MXC_ARRAY_SIZE(issue_table);
	return issue_table;
}

const char *mxc_issue_code(enum mxc_issue id)
{
	if ((size_t)id >= MXC_ARRAY_SIZE(issue_table))
		return "?";
	return issue_table[id].code;
}

int mxc_issue_parse(const char *code, size_t len, enum mxc_issue *out)
{
	size_t i;

	if (!code || !out)
		return MXC_EINVAL;
	for (i = 0; i < MXC_ARRAY_SIZE(issue_table); i++) {
		if (strlen(issue_table[i].code) == len && !memcmp(issue_table[i].code, code, len)) {
			*out = issue_table[i].id;
			return 0;
		}
	}
	return MXC_ENOTFOUND;
}

static void add_issue(struct mxc_verdicts *v, enum mxc_issue id)
{
	v->issue_mask |= UINT64_C(1) << id;
}

static const char *tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0300: return "SSLv3";
	case 0x0301: return "TLSv1";
	case 0x0302: return "TLSv1.1";
	case 0x0303: return "TLSv1.2";
	case 0x0304: return "TLSv1.3";
	default: return "";
	}
}

/* A version the name table knows; anything else is ignored for the minimum
 * so that a garbled value cannot pose as "the oldest TLS". */
static bool tls_version_known(uint16_t v)
{
	return v >= 0x0300 && v <= 0x0304;
}

/* RFC 7672 3.1.3: SMTP senders use only DANE-TA(2) and DANE-EE(3), with
 * the selectors and matching types RFC 6698 defines. */
static bool tlsa_usable(const struct mxc_fact_tlsa_rr *t)
{
	return (t->usage == 2 || t->usage == 3) && t->selector <= 1 && t->mtype <= 2;
}

/* Only a secure address RRset leads a sender to the TLSA records (RFC 7672
 * 2.2.2). An address status nobody gathered does not overrule a secure
 * TLSA answer: missing data must not turn into an accusation. */
static enum host_dane host_dane_state(const struct mxc_host_facts *h, size_t usable)
{
	if (h->tlsa == MXC_FACT_TLSA_BOGUS || h->addr_dnssec == MXC_FACT_DNSSEC_BOGUS)
		return HD_BOGUS;
	switch (h->tlsa) {
	case MXC_FACT_TLSA_NONE:
		return HD_NONE;
	case MXC_FACT_TLSA_INSECURE:
		return HD_INSECURE;
	case MXC_FACT_TLSA_SECURE:
		if (h->addr_dnssec == MXC_FACT_DNSSEC_INSECURE ||
		    h->addr_dnssec == MXC_FACT_DNSSEC_INDETERMINATE)
			return HD_INSECURE;
		return usable ? HD_USABLE : HD_UNUSABLE;
	default:
		return HD_UNKNOWN;
	}
}

/* A sender's SMTP session got as far as EHLO. Connect failures, timeouts
 * and broken banners take no mail at all, so they neither protect nor
 * expose it; they are left out of every "all/some/none" count. */
static bool host_reached(enum mxc_fact_host s)
{
	return s == MXC_FACT_HOST_OK || s == MXC_FACT_HOST_NO_STARTTLS ||
	       s == MXC_FACT_HOST_STARTTLS_REJECTED ||
	       s == MXC_FACT_HOST_TLS_FAILED;
}

static bool host_pkix_valid(const struct mxc_host_facts *h)
{
	return h->pkix_chain_valid && h->cert_name_matches && !h->cert_expired;
}

static bool sts_covers(const struct mxc_domain_facts *f, const char *name)
{
	size_t i;

	if (!name)
		return false;
	for (i = 0; i < f->n_sts_mx; i++)
		if (f->sts_mx[i] && mxc_sts_mx_matches(f->sts_mx[i], name))
			return true;
	return false;
}

/* DANE part of one host: the TLSA facts, the codes they raise, and the
 * counts the dane and downgrade_exposure columns use. */
static void judge_host_dane(const struct mxc_host_facts *h, bool has_address, struct tally *t,
			    struct mxc_verdicts *v)
{
	size_t i, usable = 0, ee = 0, ta = 0;
	enum host_dane hd;
	bool reached = host_reached(h->status), tls = h->status == MXC_FACT_HOST_OK;

	for (i = 0; i < h->n_tlsa; i++) {
		const struct mxc_fact_tlsa_rr *r = &h->tlsa_rr[i];

		if (tlsa_usable(r)) {
			usable++;
			ee += r->usage == 3;
			ta += r->usage == 2;
		}
		/* Visible whatever the DNSSEC state: the record is wrong for
		 * SMTP in any case and would be ignored once secured. */
		if ((h->tlsa == MXC_FACT_TLSA_SECURE || h->tlsa == MXC_FACT_TLSA_INSECURE) &&
		    r->usage <= 1)
			add_issue(v, MXC_ISSUE_TLSA_USAGE_PKIX_ON_PORT_25);
	}
	hd = host_dane_state(h, usable);

	switch (hd) {
	case HD_BOGUS:
		/* A validating sender gets no usable answer and defers. */
		t->dane_bogus++;
		add_issue(v, MXC_ISSUE_DNSSEC_BOGUS);
		add_issue(v, MXC_ISSUE_DNSSEC_INVALID);
		return;
	case HD_INSECURE:
		add_issue(v, MXC_ISSUE_TLSA_WITHOUT_DNSSEC);
		if (has_address) {
			t->dane_insecure++;
			t->dane_absent++;
		}
		return;
	case HD_NONE:
		if (has_address)
			t->dane_absent++;
		return;
	case HD_UNKNOWN:
		if (has_address)
			t->dane_unknown++;
		return;
	case HD_UNUSABLE:
	case HD_USABLE:
		break;
	}
	if (!has_address)
		return;

	/* Internet.nl's rule: a rollover needs two DANE-EE records (current
	 * and next key) or a DANE-EE beside a DANE-TA (the issuer). A set
	 * without a usable record has a worse problem, reported below. */
	if (usable && !(ee >= 2 || (ee >= 1 && ta >= 1)))
		add_issue(v, MXC_ISSUE_SINGLE_TLSA_NO_ROLLOVER);

	if (hd == HD_UNUSABLE) {
		t->dane_unusable++;
		add_issue(v, MXC_ISSUE_TLSA_INVALID);
	} else {
		t->dane_usable++;
	}

	/* Secure TLSA records make TLS mandatory (RFC 7672 2.2), usable or
	 * not: a host that cannot do it is one a DANE sender defers on. */
	if (reached && !tls) {
		t->dane_broken++;
		add_issue(v, h->status == MXC_FACT_HOST_TLS_FAILED ? MXC_ISSUE_VALIDATION_FAILURE
							     : MXC_ISSUE_STARTTLS_NOT_SUPPORTED);
		return;
	}
	if (!tls || hd != HD_USABLE)
		return;
	if (h->dane == MXC_FACT_DANE_MATCH_EE || h->dane == MXC_FACT_DANE_MATCH_TA) {
		t->dane_matched++;
	} else if (h->dane == MXC_FACT_DANE_MISMATCH) {
		t->dane_broken++;
		add_issue(v, MXC_ISSUE_TLSA_INVALID);
		add_issue(v, MXC_ISSUE_TLSA_MISMATCH);
	}
}

/* MTA-STS part of one host, under a policy senders apply. */
static void judge_host_sts(const struct mxc_domain_facts *f, const struct domain_view *d,
			   const struct mxc_host_facts *h, struct tally *t, struct mxc_verdicts *v)
{
	bool reached = host_reached(h->status), tls = h->status == MXC_FACT_HOST_OK;

	/* RFC 8461 4.1: a sender checks the MX name against the patterns
	 * before it connects. RFC 8460 has no result type of its own for an
	 * MX outside the policy; "validation-failure" is its catch-all. */
	if (!sts_covers(f, h->name)) {
		t->sts_broken++;
		add_issue(v, MXC_ISSUE_VALIDATION_FAILURE);
		if (d->sts_enforce)
			add_issue(v, MXC_ISSUE_MTA_STS_MX_MISMATCH);
		return;
	}
	if (!reached) {
		/* Coverage is all that can be said of a host nobody reached. */
		t->sts_ok++;
		return;
	}
	if (!tls) {
		t->sts_broken++;
		add_issue(v, h->status == MXC_FACT_HOST_TLS_FAILED ? MXC_ISSUE_VALIDATION_FAILURE
							     : MXC_ISSUE_STARTTLS_NOT_SUPPORTED);
		return;
	}
	if (host_pkix_valid(h)) {
		t->sts_ok++;
		return;
	}
	t->sts_broken++;
	if (h->cert_expired)
		add_issue(v, MXC_ISSUE_CERTIFICATE_EXPIRED);
	if (!h->cert_name_matches)
		add_issue(v, MXC_ISSUE_CERTIFICATE_HOST_MISMATCH);
	if (!h->pkix_chain_valid)
		add_issue(v, MXC_ISSUE_CERTIFICATE_NOT_TRUSTED);
	if (d->sts_enforce)
		add_issue(v, MXC_ISSUE_MTA_STS_MX_CERT_INVALID);
}

static void judge_host(const struct mxc_domain_facts *f, const struct domain_view *d,
		       const struct mxc_host_facts *h, struct tally *t, struct mxc_verdicts *v)
{
	/* A name without an address takes no mail; only its DNS answers
	 * (a bogus one is why it has no address, often) still count. */
	bool has_address = h->status != MXC_FACT_HOST_NO_ADDRESS;
	bool tls = h->status == MXC_FACT_HOST_OK;

	judge_host_dane(h, has_address, t, v);
	if (!has_address)
		return;

	t->hosts++;
	if (h->status != MXC_FACT_HOST_NOT_PROBED)
		t->probed++;
	if (host_reached(h->status))
		t->reached++;
	if (h->stripping_evidence)
		add_issue(v, MXC_ISSUE_STARTTLS_STRIPPED);
	if (tls) {
		t->tls++;
		if (host_pkix_valid(h))
			t->pkix_valid++;
		if (tls_version_known(h->tls_version) &&
		    (!t->tls_min || h->tls_version < t->tls_min))
			t->tls_min = h->tls_version;
		/* RFC 7672 3.1.1: a DANE-EE match binds the key, not the
		 * name or the dates; the certificate's own fields are then
		 * not a mistake but the design. */
		if (h->dane != MXC_FACT_DANE_MATCH_EE) {
			if (h->cert_expired)
				add_issue(v, MXC_ISSUE_MX_CERT_EXPIRED);
			if (!h->cert_name_matches)
				add_issue(v, MXC_ISSUE_MX_CERT_NAME_MISMATCH);
		}
	}
	if (d->sts_in_force)
		judge_host_sts(f, d, h, t, v);
}

static void judge_domain(const struct mxc_domain_facts *f, const struct domain_view *d,
			 struct mxc_verdicts *v)
{
	if (f->null_mx_with_other)
		add_issue(v, MXC_ISSUE_NULL_MX_WITH_OTHER_MX);
	if (f->dnssec == MXC_FACT_DNSSEC_BOGUS) {
		add_issue(v, MXC_ISSUE_DNSSEC_BOGUS);
		add_issue(v, MXC_ISSUE_DNSSEC_INVALID);
	}
	if (f->sts_txt == MXC_TXTREC_MULTIPLE)
		add_issue(v, MXC_ISSUE_MULTIPLE_MTA_STS_RECORDS);
	/* Without one valid record a sender never looks for the policy
	 * (RFC 8461 3.1), so the policy's own faults would go unseen. */
	if (f->sts_txt != MXC_TXTREC_VALID)
		return;
	switch (f->sts_policy) {
	case MXC_FACT_STS_POLICY_FETCH_ERROR:
		add_issue(v, MXC_ISSUE_MTA_STS_POLICY_UNREACHABLE);
		/* RFC 8460 separates a policy host whose certificate fails
		 * from one that cannot be reached at all. */
		if (f->sts_fetch_error == MXC_FACT_STS_FETCH_TLS_PKIX ||
		    f->sts_fetch_error == MXC_FACT_STS_FETCH_TLS_NAME)
			add_issue(v, MXC_ISSUE_STS_WEBPKI_INVALID);
		else
			add_issue(v, MXC_ISSUE_STS_POLICY_FETCH_ERROR);
		break;
	case MXC_FACT_STS_POLICY_INVALID:
		add_issue(v, MXC_ISSUE_STS_POLICY_INVALID);
		break;
	case MXC_FACT_STS_POLICY_OK:
		if (d->sts_enforce && f->tls_rpt != MXC_TXTREC_VALID)
			add_issue(v, MXC_ISSUE_MTA_STS_ENFORCE_WITHOUT_TLS_RPT);
		if (f->sts_mode == MXC_STS_MODE_TESTING)
			add_issue(v, MXC_ISSUE_MTA_STS_TESTING);
		break;
	case MXC_FACT_STS_POLICY_NA:
		break;
	}
}

/* Where the MX lookup leaves the domain. */
enum mail {
	MAIL_UNKNOWN, /* a status this build does not know */
	MAIL_NONE,    /* the domain takes no mail */
	MAIL_FAILED,  /* the lookup failed: hosts unknown */
	MAIL_HOSTS,   /* hosts to judge */
};

static enum mail mail_state(const struct mxc_domain_facts *f)
{
	switch (f->mx_status) {
	case MXC_MX_OK:
	case MXC_MX_IMPLICIT:
		return MAIL_HOSTS;
	case MXC_MX_NULL:
	case MXC_MX_NO_MAIL:
	case MXC_MX_NXDOMAIN:
		return MAIL_NONE;
	case MXC_MX_SERVFAIL:
	case MXC_MX_TIMEOUT:
		return MAIL_FAILED;
	default:
		return MAIL_UNKNOWN;
	}
}

static const char *all_some_none(size_t n, size_t of, const char *all, const char *some,
				 const char *none)
{
	if (n == of)
		return all;
	return n ? some : none;
}

static const char *col_starttls(const struct mxc_domain_facts *f, const struct tally *t)
{
	/* MX names without any address: there is nowhere to deliver. */
	if (!t->hosts)
		return f->n_hosts ? "unreachable" : "n-a";
	if (!t->probed)
		return "";
	if (!t->reached)
		return "unreachable";
	return all_some_none(t->tls, t->reached, "all", "some", "none");
}

static const char *col_pkix(const struct tally *t)
{
	if (!t->hosts)
		return "n-a";
	if (!t->probed)
		return "";
	if (!t->tls)
		return "n-a";
	return all_some_none(t->pkix_valid, t->tls, "all-valid", "some-invalid", "none-valid");
}

static const char *col_dane(const struct mxc_domain_facts *f, const struct tally *t)
{
	if (f->dnssec == MXC_FACT_DNSSEC_BOGUS || t->dane_bogus)
		return "bogus";
	if (!t->hosts)
		return "n-a";
	if (t->dane_usable || t->dane_unusable) {
		/* Secure TLSA somewhere, but not a complete, working DANE: a
		 * host without secure records (the design's "some host does
		 * not match"), one without a usable record, or one that
		 * fails the handshake or the match. */
		if (t->dane_unusable || t->dane_absent || t->dane_broken)
			return "invalid";
		if (t->dane_unknown)
			return "";
		/* With an insecure MX RRset an attacker picks the hosts, so
		 * their TLSA records protect nothing (our reading). */
		if (f->dnssec != MXC_FACT_DNSSEC_SECURE)
			return f->dnssec == MXC_FACT_DNSSEC_UNKNOWN ? "" : "not-dnssec";
		if (t->reached && t->dane_matched == t->reached)
			return "valid";
		/* Like pkix: no handshake to check is "n-a"; a handshake the
		 * probe did not check against the records is "not known". */
		return t->probed && !t->reached ? "n-a" : "";
	}
	if (t->dane_insecure)
		return "not-dnssec";
	if (t->dane_unknown)
		return "";
	return "none";
}

static const char *col_sts_mx_match(const struct domain_view *d, const struct tally *t)
{
	if (!d->sts_in_force || !t->hosts)
		return "n-a";
	return all_some_none(t->sts_ok, t->hosts, "all", "some", "none");
}

static const char *col_exposure(const struct mxc_domain_facts *f, const struct domain_view *d,
				const struct tally *t)
{
	bool dane_ok, sts_ok;

	/* Broken first: a declared protection that makes compliant senders
	 * defer is the finding, whatever else holds. It needs no probe when
	 * DNS alone shows it (bogus answers, an MX outside the policy). */
	if (f->dnssec == MXC_FACT_DNSSEC_BOGUS || t->dane_bogus || t->dane_broken ||
	    (d->sts_enforce && t->sts_broken))
		return "broken";
	if (!t->hosts)
		return "no-mail";
	if (!t->probed)
		return "";
	if (!t->reached)
		return "no-mail";
	dane_ok = f->dnssec == MXC_FACT_DNSSEC_SECURE && t->dane_usable == t->hosts &&
		  t->dane_matched == t->reached;
	sts_ok = d->sts_enforce && t->sts_ok == t->hosts;
	if (dane_ok && sts_ok)
		return "dane+mta-sts";
	if (dane_ok)
		return "dane";
	if (sts_ok)
		return "mta-sts";
	if (!t->tls)
		return "plaintext";
	if (d->sts_in_force && f->sts_mode == MXC_STS_MODE_TESTING)
		return "testing";
	return "strippable";
}

static void list_issues(struct mxc_verdicts *v)
{
	size_t i;

	v->n_issues = 0;
	for (i = 0; i < MXC_ISSUE_COUNT; i++)
		if (v->issue_mask & (UINT64_C(1) << i))
			v->issues[v->n_issues++] = (enum mxc_issue)i;
}

static bool facts_valid(const struct mxc_domain_facts *f)
{
	size_t i;

	if ((!f->hosts && f->n_hosts) || (!f->sts_mx && f->n_sts_mx))
		return false;
	for (i = 0; i < f->n_hosts; i++)
		if (!f->hosts[i].tlsa_rr && f->hosts[i].n_tlsa)
			return false;
	return true;
}

int mxc_classify(const struct mxc_domain_facts *f, struct mxc_verdicts *out)
{
	struct domain_view d = { 0 };
	struct tally t = { 0 };
	enum mail mail;
	size_t i;

	if (!f || !out || !facts_valid(f))
		return MXC_EINVAL;
	memset(out, 0, sizeof(*out));

	/* RFC 8461 3.1, 5: only one valid record plus a valid policy is a
	 * policy; mode "none" is a policy that asks nothing. */
	d.sts_in_force = f->sts_txt == MXC_TXTREC_VALID &&
			 f->sts_policy == MXC_FACT_STS_POLICY_OK &&
			 (f->sts_mode == MXC_STS_MODE_ENFORCE ||
			  f->sts_mode == MXC_STS_MODE_TESTING);
	d.sts_enforce = d.sts_in_force && f->sts_mode == MXC_STS_MODE_ENFORCE;

	out->dnssec = mxc_fact_dnssec_name(f->dnssec);
	if (f->dnssec != MXC_FACT_DNSSEC_SECURE && f->dnssec_reason)
		snprintf(out->dnssec_reason, sizeof(out->dnssec_reason), "%s", f->dnssec_reason);

	judge_domain(f, &d, out);
	mail = mail_state(f);
	if (mail == MAIL_HOSTS)
		for (i = 0; i < f->n_hosts; i++)
			judge_host(f, &d, &f->hosts[i], &t, out);
	/* Some hosts DANE-protected and others not: a sender that requires
	 * DANE for this destination (RFC 7672 6) fails on the others. */
	if ((t.dane_usable || t.dane_unusable) && t.dane_absent)
		add_issue(out, MXC_ISSUE_DANE_REQUIRED);
	list_issues(out);

	switch (mail) {
	case MAIL_UNKNOWN:
		out->starttls = out->tls_version_min = out->pkix = out->dane = "";
		out->mta_sts_mx_match = out->downgrade_exposure = "";
		break;
	case MAIL_NONE:
		out->starttls = out->pkix = out->dane = out->mta_sts_mx_match = "n-a";
		out->tls_version_min = "";
		out->downgrade_exposure = "no-mail";
		break;
	case MAIL_FAILED:
		/* The hosts are unknown; only a bogus answer says more. */
		out->starttls = out->tls_version_min = out->pkix = out->mta_sts_mx_match = "";
		out->dane = f->dnssec == MXC_FACT_DNSSEC_BOGUS ? "bogus" : "";
		out->downgrade_exposure = f->dnssec == MXC_FACT_DNSSEC_BOGUS ? "broken" : "";
		break;
	case MAIL_HOSTS:
		out->starttls = col_starttls(f, &t);
		out->tls_version_min = tls_version_name(t.tls_min);
		out->pkix = col_pkix(&t);
		out->dane = col_dane(f, &t);
		out->mta_sts_mx_match = col_sts_mx_match(&d, &t);
		out->downgrade_exposure = col_exposure(f, &d, &t);
		break;
	}
	return 0;
}

int mxc_classify_issues_write(const struct mxc_verdicts *v, char *buf, size_t size, size_t *len)
{
	size_t i, used = 0;

	if (!v || !buf || !size)
		return MXC_EINVAL;
	buf[0] = '\0';
	if (len)
		*len = 0;
	if (mxc_fails_assert(v->n_issues <= MXC_ISSUE_COUNT))
		return MXC_EINVAL;
	for (i = 0; i < v->n_issues; i++) {
		const char *code = mxc_issue_code(v->issues[i]);
		size_t n = strlen(code) + (i ? 1 : 0);

		if (used + n >= size) {
			buf[0] = '\0';
			return MXC_ETOOBIG;
		}
		if (i)
			buf[used++] = ';';
		memcpy(buf + used, code, n - (i ? 1 : 0));
		used += n - (i ? 1 : 0);
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	return 0;
}
