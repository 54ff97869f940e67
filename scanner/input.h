/**
 * \file
 * Input readers: the domains to scan, streamed from plain lists, TLD zone
 * master files and "rank,domain" CSV files, one name at a time, in constant
 * memory however long the input is.
 *
 * Every name is normalised (mxc_name_normalize): lower case, no trailing dot,
 * IDN to A-labels with libidn2. An invalid line is reported with its file and
 * line number and skipped; the reader goes on. Consecutive duplicates (the NS
 * records of one delegation, a sorted list) are dropped here; duplicates
 * further apart are dropped by the scanner against the store.
 *
 * A shard filter (--shard K/N) keeps the names whose stable hash falls in
 * share K of N; the same name always lands in the same shard.
 */
#ifndef MXC_SCANNER_INPUT_H
#define MXC_SCANNER_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Input formats. */
enum mxc_input_format {
	MXC_INPUT_AUTO = 0, /**< by extension: .zone/.db -> zone, .csv -> csv, else list */
	MXC_INPUT_LIST,     /**< one name per line; '#' comments and blank lines */
	MXC_INPUT_ZONE,     /**< master file; the delegated names (owners of NS below the apex) */
	MXC_INPUT_CSV,      /**< "rank,domain" lines; a header line is allowed */
};

/**
 * Parse a --input-format argument.
 * @param s "list", "zone", "csv" or "auto" (exactly, lower case)
 * @param out set on success
 * @return 0 or MXC_EINVAL
 */
int mxc_input_format_parse(const char *s, enum mxc_input_format *out);

/** Maximum length of a normalised name (presentation form, no trailing dot). */
#define MXC_NAME_MAX 253

/**
 * Longest input line (or zone record, parentheses joined) the readers accept,
 * in bytes without the line end. A longer one is reported and skipped, and
 * reading goes on at the next line; memory stays bounded whatever the file.
 */
#define MXC_INPUT_LINE_MAX 65536

/**
 * Invalid lines reported one by one per file; beyond this, they are only
 * counted and one summary line is logged at the end of the file.
 */
#define MXC_INPUT_WARN_MAX 1000

/**
 * Normalise one domain name: trim, strip one trailing dot, convert U-labels
 * to A-labels (libidn2, IDNA 2008 with transitional fallback off), lower
 * case, then check it: labels of 1 to 63 octets, LDH plus '_' only, no label
 * starting or ending with '-', at least two labels, not all numeric in the
 * last label, total at most 253. The output is a fixed point: normalising it
 * again returns it unchanged. Plain ASCII input allocates nothing.
 * @param in the name; need not be NUL-terminated (a NUL byte is invalid)
 * @param len bytes of @p in
 * @param out at least MXC_NAME_MAX + 1 bytes; NUL-terminated on success
 * @param why on error, a short static reason ("empty label", ...)
 * @return 0 or MXC_ENAME
 */
int mxc_name_normalize(const char *in, size_t len, char *out, const char **why);

/** Shard selector; n == 0 means no sharding. */
struct mxc_shard {
	uint32_t k; /**< 0 <= k < n */
	uint32_t n;
};

/**
 * Parse "K/N" with 0 <= K < N and 1 <= N <= 65536 (plain decimal, nothing
 * else on the string).
 * @param s the --shard argument
 * @param out set on success only
 * @return 0 or MXC_EINVAL
 */
int mxc_shard_parse(const char *s, struct mxc_shard *out);

/**
 * Does @p name (normalised) belong to this shard? Always true if n == 0 or
 * @p sh is NULL. The rule, mxc_hash64(name) % n == k, is a stable contract:
 * the shards of one input are disjoint and cover it, on any machine and any
 * version, so it must never change.
 * @param sh the shard
 * @param name a normalised name (the output of mxc_name_normalize)
 * @return true when this shard owns the name
 */
bool mxc_shard_match(const struct mxc_shard *sh, const char *name);

/** One name from the input. */
struct mxc_input_item {
	char name[MXC_NAME_MAX + 1]; /**< normalised */
	uint64_t rank;               /**< CSV rank, else 0 */
	const char *file;            /**< where it came from; owned by the reader, valid
					  until mxc_input_close */
	uint64_t line;               /**< line number (first line of a zone record) */
};

/** Reader counters. */
struct mxc_input_stats {
	uint64_t lines;        /**< physical lines read (zone records may span several) */
	uint64_t names;        /**< names handed out */
	uint64_t invalid;      /**< lines rejected (reported) */
	uint64_t duplicates;   /**< consecutive duplicates dropped (the further NS records
				    of one delegation are one name, not duplicates) */
	uint64_t other_shard;  /**< names of other shards */
	uint64_t bytes_read;   /**< for progress: bytes consumed so far */
	uint64_t bytes_total;  /**< sum of the sizes of regular input files, 0 if unknown */
};

struct mxc_input;

/**
 * Open a reader over @p n_files paths ("-" is standard input), read in order.
 * @return 0, or -errno / MXC_E* with a message naming the file in @p errmsg
 */
int mxc_input_open(const char *const *files, size_t n_files, enum mxc_input_format fmt,
		   const struct mxc_shard *shard, struct mxc_input **out,
		   char *errmsg, size_t errlen);

/**
 * Next name.
 * @return 1 and fills @p item; 0 at the end of all files; negative on an I/O
 *         error (logged with the file name; the reader then moves on to the
 *         next file, so calling again is allowed).
 */
int mxc_input_next(struct mxc_input *in, struct mxc_input_item *item);

/**
 * Counters so far (for progress and the end-of-run summary).
 * @param in the reader
 * @param st filled with a copy of the counters
 */
void mxc_input_get_stats(const struct mxc_input *in, struct mxc_input_stats *st);

/**
 * Close the files and free the reader. Items' @c file pointers die with it.
 * @param in the reader, or NULL
 */
void mxc_input_close(struct mxc_input *in);

#endif
