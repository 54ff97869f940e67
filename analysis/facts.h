/**
 * \file
 * From stored records to the classifier's facts: a domain's record, its
 * mail hosts' records (looked up in the store), the raw answers with their
 * DNSSEC verdicts, the probes' stored results, all turned into one
 * struct mxc_domain_facts (analysis/classify.h). The export and the reports
 * read verdicts through here, so that a fix in a classifier or a parser
 * applies to every store ever written.
 */
#ifndef MXC_ANALYSIS_FACTS_H
#define MXC_ANALYSIS_FACTS_H

#include <stdbool.h>
#include <stddef.h>

#include "analysis/classify.h"
#include "probes/probe_rec.h"
#include "probes/sts_policy.h"
#include "probes/txtrec.h"
#include "probes/txtset.h"
#include "store/store.h"

/** Scratch for one domain at a time, reused across domains. */
struct mxc_facts {
	struct mxc_domain_facts f;   /**< the result of mxc_facts_build() */
	/* record columns, as the classifiers read the stored TXT answers */
	struct mxc_sts_txt sts_txt;
	struct mxc_tlsrpt_txt tlsrpt;
	enum mxc_spf_status spf;
	enum mxc_dmarc_status dmarc;
	bool txt_measured[4];        /**< _mta-sts, _smtp._tls, apex, _dmarc answered */
	/* the MTA-STS fetch, when one was made */
	bool have_sts;
	struct mxc_sts_rec sts;
	struct mxc_sts_policy policy; /**< parsed when the fetch brought a body */
	const char *sts_mx[MXC_STS_MAX_MX];
	/* private: the hosts */
	struct mxc_host_rec **hosts;
	size_t n_hosts, cap_hosts;
	struct mxc_host_facts *hf;
	struct mxc_smtp_result *res;
	struct mxc_fact_tlsa_rr *tlsa;
	char (*addr)[46];
	size_t cap_hf;
	struct mxc_txtset txt;
};

void mxc_facts_init(struct mxc_facts *fx);
void mxc_facts_free(struct mxc_facts *fx);

/**
 * Gather the facts of @p d (its hosts are read from @p s).
 * @return 0 (fx->f is filled and valid until the next call), or MXC_ENOMEM /
 *         a store error; a damaged host record or probe result is skipped
 *         with a warning, as the export does with damaged domain records
 */
int mxc_facts_build(struct mxc_facts *fx, struct mxc_store *s, const struct mxc_domain_rec *d);

#endif
