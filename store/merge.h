/**
 * \file
 * Merging stores: the stores of the shards of a scan (--shard K/N, one
 * store per machine or job) joined into one store that export, report and
 * compare read like the store of a single scan.
 *
 * The merge streams: it walks each input in key order and writes what it
 * reads into the output in batched transactions, so its memory depends on
 * the batch size and the number of inputs, never on the number of records.
 * The rules (which record wins when two inputs hold the same name, what the
 * output's runs database holds, how a killed merge is completed) are in
 * store/README.md, section "Merging".
 */
#ifndef MXC_STORE_MERGE_H
#define MXC_STORE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The shard field of a merge's own run record: a scan refuses such a store. */
#define MXC_MERGE_SHARD "merged"

/** What to merge. */
struct mxc_merge_opts {
	const char *out;                /**< output store directory */
	const char *const *inputs;      /**< input store directories */
	size_t n_inputs;                /**< at least 1 */
	unsigned batch_size;            /**< records per transaction (0: 10,000) */
	size_t mapsize;                 /**< initial map of a new output (0: default) */
	const char *args;               /**< command line, for provenance (may be NULL) */
};

/** What a merge did. */
struct mxc_merge_stats {
	char run_id[40];                /**< the merge's run id */
	bool resumed;                   /**< an unfinished merge was completed */
	bool already_done;              /**< the output already held this merge */
	uint64_t domains_read;          /**< domain records read from the inputs */
	uint64_t hosts_read;            /**< host records read from the inputs */
	uint64_t domains;               /**< domain records in the output */
	uint64_t hosts;                 /**< host records in the output */
	uint64_t domains_shared;        /**< domain reads that met the name already merged */
	uint64_t hosts_shared;          /**< host reads that met the name already merged */
	uint64_t replaced;              /**< of those, how many replaced the older record */
	uint64_t corrupt;               /**< damaged input records skipped */
	unsigned warnings;              /**< warnings logged about the inputs */
};

/**
 * Merge the stores @p o->inputs into the new store @p o->out.
 *
 * Every input is checked before anything is written: it must be an
 * mxcensus store of a schema this build reads, not locked by a running
 * scan, not given twice (as a path, as a run, or as the same shard of a
 * sharded scan), and not the output. Inputs from different scans, missing
 * shards and unfinished runs are merged with a warning naming them.
 *
 * The output must not exist, be an empty directory, or hold an unfinished
 * merge of the same inputs (a killed merge; it is completed) or a finished
 * one (nothing is done, stats->already_done is set). Anything else is
 * refused.
 *
 * @param o what to merge
 * @param stats out: counts (may be NULL)
 * @param errmsg out: on failure, a reason naming the store at fault
 * @param errlen its size
 * @return 0; MXC_EINVAL for inputs the user must fix (missing, not a store,
 *         given twice, the output among them); MXC_EEXIST when the output
 *         holds something else; MXC_EAGAIN when an input or the output is
 *         being written by another process; MXC_ESCHEMA for a store newer
 *         than this build; or a store error (MXC_ENOMEM, MXC_EIO, -errno...)
 */
int mxc_merge_run(const struct mxc_merge_opts *o, struct mxc_merge_stats *stats, char *errmsg,
		  size_t errlen);

/**
 * Test hook: @p fn is called after each transaction the merge commits, with
 * the number committed so far (the first, holding the run records, is 1).
 * A test kills itself there to leave a merge unfinished. NULL turns it off.
 * @param fn the hook
 */
void mxc_merge_test_on_commit(void (*fn)(unsigned commits));

#endif
