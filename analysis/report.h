/**
 * \file
 * Adoption reports: the domain rows of a run (as mxc_export_rows builds
 * them) counted per TLD and per mail provider, in one streaming pass, and
 * written as a terminal table, Markdown, JSON or a self-contained HTML page.
 *
 * Memory holds counters, never rows. Each group (the whole run, a TLD, a
 * provider) is a fixed block of counters: for every verdict column the
 * report knows (struct mxc_report_metric), one counter per value the design
 * lists, one for values it does not list ("other") and one for an empty
 * cell ("not measured": the stage that fills the column did not run or got
 * no answer). The number of groups is bounded too: when a table of TLDs or
 * providers is full, the smaller half of it is folded into its "other" group
 * (the Space-Saving idea: heavy hitters stay, the long tail goes), and every
 * group created after such a fold carries an error bound, the most domains
 * it may have lost to "other", so a report never presents an estimate as an
 * exact count.
 *
 * A mail provider is the registrable domain of an MX host under the Public
 * Suffix List (libpsl): mx1.example.co.uk belongs to example.co.uk. A domain
 * counts once for each distinct provider among its MX hosts.
 */
#ifndef MXC_ANALYSIS_REPORT_H
#define MXC_ANALYSIS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis/html.h"
#include "store/store.h"

/** The verdict columns a report counts. */
enum mxc_report_metric_id {
	MXC_RM_MX_STATUS,
	MXC_RM_DNSSEC,
	MXC_RM_STARTTLS,
	MXC_RM_PKIX,
	MXC_RM_DANE,
	MXC_RM_MTA_STS_TXT,
	MXC_RM_MTA_STS_POLICY,
	MXC_RM_MTA_STS_MODE,
	MXC_RM_MTA_STS_MX_MATCH,
	MXC_RM_TLS_RPT,
	MXC_RM_SPF,
	MXC_RM_DMARC,
	MXC_RM_EXPOSURE,
	MXC_RM__COUNT
};

/** Counter slots of a metric: these two, then the design's values. */
enum {
	MXC_RS_NOT_MEASURED = 0, /**< empty cell */
	MXC_RS_OTHER = 1,        /**< a value the design does not list */
	MXC_RS_VALUE0 = 2,       /**< slot of values[0]; values[i] is 2 + i */
};

#define MXC_REPORT_VALUES_MAX 10
#define MXC_REPORT_SLOTS (MXC_RS_VALUE0 + MXC_REPORT_VALUES_MAX)
/** Distinct issue codes counted by name; further codes count as "other". */
#define MXC_REPORT_ISSUES_MAX 64

/** A verdict column and the values the design lists for it. */
struct mxc_report_metric {
	const char *column;  /**< export column name, also the JSON key */
	const char *title;   /**< heading for people */
	const char *const *values; /**< the design's values, in a sensible order */
	size_t nvalues;      /**< at most MXC_REPORT_VALUES_MAX */
};

/**
 * The metric @p id. @param id an enum mxc_report_metric_id
 * @return a static description, or NULL for an unknown id
 */
const struct mxc_report_metric *mxc_report_metric(unsigned id);

/**
 * Slot of @p value in metric @p id: MXC_RS_NOT_MEASURED for NULL or "",
 * MXC_RS_OTHER for a value the design does not list.
 */
unsigned mxc_report_slot(unsigned id, const char *value);

/** Adoption indicators: one headline share each (see docs/REPORT.md). */
enum mxc_report_indicator_id {
	MXC_RI_MAIL,         /**< mx_status ok or implicit */
	MXC_RI_DNSSEC,       /**< dnssec secure */
	MXC_RI_STARTTLS,     /**< starttls all */
	MXC_RI_PKIX,         /**< pkix all-valid */
	MXC_RI_DANE,         /**< dane valid */
	MXC_RI_STS_ENFORCE,  /**< mta_sts_mode enforce */
	MXC_RI_STS_TESTING,  /**< mta_sts_mode testing */
	MXC_RI_TLS_RPT,      /**< tls_rpt valid */
	MXC_RI_SPF,          /**< spf present */
	MXC_RI_DMARC,        /**< dmarc reject or quarantine */
	MXC_RI_PROTECTED,    /**< exposure mta-sts, dane or dane+mta-sts */
	MXC_RI__COUNT
};

/** An adoption indicator: a set of values of one metric. */
struct mxc_report_indicator {
	const char *key;     /**< JSON key */
	const char *title;   /**< heading for people */
	unsigned metric;     /**< enum mxc_report_metric_id */
	const char *const *values; /**< the values that count, NULL-ended */
};

/**
 * The indicator @p id. @param id an enum mxc_report_indicator_id
 * @return a static description, or NULL for an unknown id
 */
const struct mxc_report_indicator *mxc_report_indicator(unsigned id);

/** The counters of one group. */
struct mxc_report_counts {
	uint32_t domains;                           /**< rows counted */
	uint32_t v[MXC_RM__COUNT][MXC_REPORT_SLOTS]; /**< per metric, per slot */
	uint32_t issues[MXC_REPORT_ISSUES_MAX + 1]; /**< per issue code id; last = other */
	uint32_t with_issues;                       /**< rows with any issue */
};

/**
 * Domains of @p c that an indicator counts.
 * @param c the counters
 * @param id an enum mxc_report_indicator_id
 * @return the count
 */
uint32_t mxc_report_indicator_count(const struct mxc_report_counts *c, unsigned id);

/**
 * @p n as a percentage of @p of (0 when @p of is 0).
 */
double mxc_report_pct(uint32_t n, uint32_t of);

/** One TLD or provider. */
struct mxc_report_group {
	char *name;                   /**< owned */
	uint32_t error_bound;         /**< domains it may have lost to "other" */
	struct mxc_report_counts c;   /**< its counters */
};

/** The breakdowns of a report. */
enum mxc_report_by {
	MXC_REPORT_BY_TLD = 1u << 0,
	MXC_REPORT_BY_PROVIDER = 1u << 1,
	MXC_REPORT_BY_ALL = 3,
};

/** Options of an aggregation; zero fields take the defaults. */
struct mxc_report_opts {
	unsigned top_tlds;       /**< TLDs shown, the rest as "other" (default 50) */
	unsigned top_providers;  /**< providers shown (default 20) */
	unsigned max_tlds;       /**< TLDs counted before folding (default 4096) */
	unsigned max_providers;  /**< providers counted before folding (default 20000) */
	unsigned top_issues;     /**< issue codes listed (default 10) */
	const char *psl_file;    /**< a Public Suffix List file, or NULL for the
				      newest of the built-in and the system list */
};

struct mxc_report;

/**
 * A new, empty aggregation.
 * @param o options (NULL: defaults)
 * @param out set to the report; caller frees with mxc_report_free
 * @param errmsg gets a reason on failure (may be NULL)
 * @return 0, MXC_ENOMEM, or MXC_EIO when the PSL cannot be loaded
 */
int mxc_report_new(const struct mxc_report_opts *o, struct mxc_report **out, char *errmsg,
		   size_t errlen);

/** Free a report. @param r the report (NULL is fine) */
void mxc_report_free(struct mxc_report *r);

/**
 * Count one domain row, its values in the order of
 * mxc_export_columns(MXC_EXPORT_DOMAINS) (NULL = empty). Has the signature
 * of mxc_export_row_fn, so it can be given to mxc_export_rows directly.
 * @param arg the report
 * @param val the row
 * @return 0 or MXC_ENOMEM
 */
int mxc_report_add(void *arg, const char *const *val);

/**
 * Aggregate every domain row of @p s and remember the store's run.
 * @return 0 or the error of the walk
 */
int mxc_report_scan(struct mxc_report *r, struct mxc_store *s);

/**
 * Set the run described in the report's header (copied).
 * @param r the report
 * @param run the run, or NULL for none
 */
void mxc_report_set_run(struct mxc_report *r, const struct mxc_run_info *run);

/**
 * Sort the groups and fold everything past the top N into "other". Called
 * by the writers; adding rows afterwards is an error (MXC_EINVAL).
 * @param r the report
 * @return 0 or MXC_ENOMEM
 */
int mxc_report_finish(struct mxc_report *r);

/** The whole run. @param r the report @return its counters */
const struct mxc_report_counts *mxc_report_total(const struct mxc_report *r);

/**
 * The groups shown of one breakdown, after mxc_report_finish: TLDs by
 * domains (then name), providers by domains (then name).
 * @param r the report
 * @param by MXC_REPORT_BY_TLD or MXC_REPORT_BY_PROVIDER
 * @param n set to the number of groups shown
 * @return the groups, valid until the report is freed
 */
struct mxc_report_group *const *mxc_report_groups(const struct mxc_report *r, unsigned by,
						  size_t *n);

/**
 * The "other" group of a breakdown after mxc_report_finish: the groups not
 * shown and those folded while counting.
 * @return the group (its domains may be 0)
 */
const struct mxc_report_group *mxc_report_other(const struct mxc_report *r, unsigned by);

/**
 * Find any counted group (shown or not) by name.
 * @return the group, or NULL when absent (or folded into "other")
 */
const struct mxc_report_group *mxc_report_find(const struct mxc_report *r, unsigned by,
					       const char *name);

/**
 * Number of distinct issue codes seen (at most MXC_REPORT_ISSUES_MAX) and
 * the name of code @p id.
 */
size_t mxc_report_issue_codes(const struct mxc_report *r);
const char *mxc_report_issue_name(const struct mxc_report *r, size_t id);

/**
 * Provider of an MX host: its registrable domain under the report's PSL,
 * or the host itself when it has none (it is a public suffix, or has one
 * label). Lower-cased, without a trailing dot.
 * @param r the report
 * @param host the MX host name
 * @param buf receives the provider
 * @param len size of @p buf (at least 254)
 * @return 0, or MXC_ENAME when the host is empty or too long
 */
int mxc_report_provider(const struct mxc_report *r, const char *host, char *buf, size_t len);

/**
 * Write the report.
 * @param r the report (finished here if it was not)
 * @param fmt the format
 * @param by the breakdowns to include (MXC_REPORT_BY_*)
 * @param f the stream
 * @param color text only: terminal bold in headings
 * @return 0, MXC_ENOMEM or MXC_EIO
 */
int mxc_report_write(struct mxc_report *r, enum mxc_out_format fmt, unsigned by, FILE *f,
		     bool color);

/**
 * The per-TLD and per-provider sections of the report (headings and
 * tables), without the title and the run: text, md and html.
 * @param r the report (finished here if it was not)
 * @param by the breakdowns
 * @param fmt MXC_OUT_TEXT, MXC_OUT_MD or MXC_OUT_HTML
 * @param f the stream
 * @param color text only: terminal bold
 * @return 0 or MXC_ENOMEM
 */
int mxc_report_write_sections(struct mxc_report *r, unsigned by, enum mxc_out_format fmt,
			      FILE *f, bool color);

/**
 * The HTML page (analysis/html_report.c); called by mxc_report_write.
 * @return 0, MXC_ENOMEM or MXC_EIO
 */
int mxc_report_write_html(struct mxc_report *r, unsigned by, FILE *f);

/**
 * The run of the report's header, or NULL.
 */
const struct mxc_run_info *mxc_report_run(const struct mxc_report *r);

#endif
