/**
 * \file
 * The results store: one LMDB environment per --db DIR.
 *
 * Named databases:
 *   - "domains":  domain name -> encoded struct mxc_domain_rec
 *   - "hosts":    MX host name -> encoded struct mxc_host_rec
 *   - "runs":     run id -> run metadata (struct mxc_run_info, encoded)
 *   - "progress": counter name -> u64 (done, skipped, invalid, duplicates...)
 *   - "meta":     "schema" -> u32 store schema version
 *
 * Writes are buffered in memory and committed in batches (one write
 * transaction per batch) so that the cost of a commit is shared by many
 * domains; mxc_store_flush commits at once. When the map is full it is grown
 * and the batch is retried. A domain key is written once however often it is
 * put, so a scan that was killed and is run again stores every domain exactly
 * once: what was committed is skipped, what was not is scanned again. The
 * first write of a key wins; putting a key that is already committed or
 * pending changes nothing.
 *
 * The implementation hides LMDB behind a table of function pointers
 * (store/internal.h), so another engine can be swapped in. See
 * store/README.md for the layout, durability and map growth.
 */
#ifndef MXC_STORE_H
#define MXC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/record.h"

#define MXC_STORE_SCHEMA 1

struct mxc_store;

/** Store open flags. */
enum {
	MXC_STORE_RDONLY = 1u << 0,  /**< for export/report: no writes */
	MXC_STORE_CREATE = 1u << 1,  /**< create the directory if missing */
};

/** Run metadata kept in the "runs" database. */
struct mxc_run_info {
	char run_id[40];        /**< e.g. "20261129T045602Z-3fa2c1" */
	int64_t started_at;
	int64_t finished_at;    /**< 0 while the run is not complete */
	char shard[32];         /**< "K/N" or "" */
	char args[1024];        /**< the command line, for provenance */
};

/**
 * Open (and create) the store in directory @p dir.
 * @param batch_size records per write transaction (e.g. 1000)
 * @return 0, or a negative code; on error @p errmsg (if not NULL) gets a
 *         human-readable reason naming the directory
 */
int mxc_store_open(const char *dir, unsigned flags, unsigned batch_size,
		   struct mxc_store **out, char *errmsg, size_t errlen);

/** Commit what is buffered and close. Returns the flush result. */
int mxc_store_close(struct mxc_store *s);

/** The current run, or MXC_ENOTFOUND if none was begun in this store. */
int mxc_store_run_get(struct mxc_store *s, struct mxc_run_info *out);

/**
 * Begin the store's run, or resume it: if a run exists it is returned
 * (resume), otherwise @p fresh is written and returned.
 * @return 0 (new run) or 1 (resumed), or a negative code
 */
int mxc_store_run_begin(struct mxc_store *s, const struct mxc_run_info *fresh,
			struct mxc_run_info *out);

/** Mark the run complete at @p finished_at (committed at once). */
int mxc_store_run_finish(struct mxc_store *s, int64_t finished_at);

/**
 * Is the domain already committed (or buffered for commit)?
 * @return 1 yes, 0 no, negative on error
 */
int mxc_store_domain_exists(struct mxc_store *s, const char *domain);
int mxc_store_host_exists(struct mxc_store *s, const char *host);

/**
 * Buffer a record for the next batch (encoded at once: the caller keeps
 * ownership of @p r). Commits the batch when it is full. A key already
 * committed or pending is left as it was.
 * @return 0, MXC_EINVAL (read-only store, no name), an encoding error, or a
 *         failed commit (the batch then stays buffered for a later flush)
 */
int mxc_store_domain_put(struct mxc_store *s, const struct mxc_domain_rec *r);
int mxc_store_host_put(struct mxc_store *s, const struct mxc_host_rec *r);

/** Add @p delta to a progress counter (buffered with the batch). */
int mxc_store_counter_add(struct mxc_store *s, const char *name, uint64_t delta);
/** Read a committed counter (0 if absent). */
int mxc_store_counter_get(struct mxc_store *s, const char *name, uint64_t *out);

/** Records buffered but not yet committed. */
size_t mxc_store_pending(const struct mxc_store *s);

/** Commit the buffered batch now. */
int mxc_store_flush(struct mxc_store *s);

/**
 * Visit every committed domain record in key order. The record is valid only
 * during the callback. A callback returning non-zero stops the walk and that
 * value is returned. Records that fail to decode are reported through
 * @p on_corrupt (may be NULL) and skipped.
 */
typedef int (*mxc_store_domain_cb)(void *arg, const struct mxc_domain_rec *r);
typedef int (*mxc_store_host_cb)(void *arg, const struct mxc_host_rec *r);
typedef void (*mxc_store_corrupt_cb)(void *arg, const char *db, const char *key, int err);
int mxc_store_each_domain(struct mxc_store *s, mxc_store_domain_cb cb,
			  mxc_store_corrupt_cb on_corrupt, void *arg);
int mxc_store_each_host(struct mxc_store *s, mxc_store_host_cb cb,
			mxc_store_corrupt_cb on_corrupt, void *arg);

/** Number of committed domain / host records. */
int mxc_store_count(struct mxc_store *s, uint64_t *domains, uint64_t *hosts);

/**
 * Initial map size for stores opened after this call (tests use a tiny map
 * to exercise growth; 0 restores the default of 256 MiB). The map of an
 * existing store starts large enough for its file whatever this says.
 * @param bytes the size; values below 64 KiB are raised to 64 KiB
 */
void mxc_store_set_initial_mapsize(size_t bytes);

/**
 * Current map size of an open store, in bytes (it doubles when full).
 * @param s the store
 * @return the size
 */
size_t mxc_store_mapsize(const struct mxc_store *s);

#endif
