/**
 * \file
 * Run against run: adoption deltas per TLD and per provider between two
 * stores (OLD, NEW), and the domains whose verdicts changed.
 *
 * The two stores are joined domain by domain without holding either in
 * memory: both domain databases are in the same key order (LMDB's, byte
 * order of the names), so one ordered walk of each, advanced in step, is a
 * merge join. Each side is also fed to a report aggregator, so the deltas
 * are the difference of two reports made exactly as `mxcensus report`
 * makes them.
 *
 * The changed domains are spooled to an unlinked temporary file while the
 * join runs and copied out after the summary, so a comparison of two runs
 * of a million domains with many changes still needs memory for counters
 * only.
 */
#ifndef MXC_ANALYSIS_COMPARE_H
#define MXC_ANALYSIS_COMPARE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis/html.h"
#include "analysis/report.h"

/** How a verdict moved. */
enum mxc_compare_dir {
	MXC_CMP_CHANGED = 0, /**< different, neither better nor worse */
	MXC_CMP_WORSE,       /**< less protection (e.g. enforce lost, dane broken) */
	MXC_CMP_BETTER,      /**< more protection */
	MXC_CMP_MEASURED,    /**< empty in OLD, set in NEW */
	MXC_CMP_UNMEASURED,  /**< set in OLD, empty in NEW */
	MXC_CMP__COUNT
};

/**
 * Name of a direction ("changed", "worse", "better", "measured",
 * "unmeasured"). @param d the direction @return a static string
 */
const char *mxc_compare_dir_name(enum mxc_compare_dir d);

/**
 * How a metric's value moved from @p old_slot to @p new_slot (slots as
 * mxc_report_slot gives them).
 * @param metric an enum mxc_report_metric_id
 * @return the direction; equal slots give MXC_CMP_CHANGED (callers do not ask)
 */
enum mxc_compare_dir mxc_compare_direction(unsigned metric, unsigned old_slot,
					   unsigned new_slot);

struct mxc_compare;

/**
 * A new comparison.
 * @param o report options for both sides (NULL: defaults)
 * @param out set to the comparison; caller frees with mxc_compare_free
 * @param errmsg gets a reason on failure (may be NULL)
 * @return 0, MXC_ENOMEM, MXC_EIO (no temporary file, no PSL)
 */
int mxc_compare_new(const struct mxc_report_opts *o, struct mxc_compare **out, char *errmsg,
		    size_t errlen);

/** Free a comparison. @param c the comparison (NULL is fine) */
void mxc_compare_free(struct mxc_compare *c);

/**
 * Count one domain: its row in OLD and in NEW (values in the order of
 * mxc_export_columns(MXC_EXPORT_DOMAINS)); either may be NULL when the
 * domain is in one store only. Callers hand domains in any order; the
 * store join hands them in key order.
 * @return 0, MXC_EINVAL (both NULL) or MXC_ENOMEM / MXC_EIO
 */
int mxc_compare_pair(struct mxc_compare *c, const char *const *old_row,
		     const char *const *new_row);

/**
 * Set the runs of the header (copied; NULL for none).
 */
void mxc_compare_set_runs(struct mxc_compare *c, const struct mxc_run_info *old_run,
			  const struct mxc_run_info *new_run);

/**
 * Join the domain rows of the store in @p old_dir with those of @p new_store
 * and count every pair. The old store is opened read-only and walked on a
 * helper thread (a walk is a callback; two in step need two threads), which
 * hands rows over through a small ring.
 * @param c the comparison
 * @param old_dir directory of the OLD store
 * @param new_store the NEW store, open
 * @param errmsg gets a reason on failure
 * @return 0, a store error, MXC_ECORRUPT (a store not in key order), or
 *         the error of counting
 */
int mxc_compare_stores(struct mxc_compare *c, const char *old_dir, struct mxc_store *new_store,
		       char *errmsg, size_t errlen);

/**
 * Write the comparison: header, deltas per TLD and per provider, verdict
 * transitions, the changed domains.
 * @param c the comparison
 * @param fmt text, md, json or html
 * @param f the stream
 * @param color text only: terminal bold
 * @return 0, MXC_ENOMEM or MXC_EIO
 */
int mxc_compare_write(struct mxc_compare *c, enum mxc_out_format fmt, FILE *f, bool color);

/** Domains in both runs, only in OLD, only in NEW, with a listed change. */
struct mxc_compare_totals {
	uint64_t both, removed, added, changed, worse, better;
};

/** The totals so far. @param c the comparison @param out filled */
void mxc_compare_totals(const struct mxc_compare *c, struct mxc_compare_totals *out);

/**
 * Domains whose @p metric moved from @p old_slot to @p new_slot.
 */
uint32_t mxc_compare_transitions(const struct mxc_compare *c, unsigned metric,
				 unsigned old_slot, unsigned new_slot);

/** The OLD and NEW aggregations (finished by mxc_compare_write). */
struct mxc_report *mxc_compare_old(struct mxc_compare *c);
struct mxc_report *mxc_compare_new_report(struct mxc_compare *c);

#endif
