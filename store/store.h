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
 * domains. A full batch, or mxc_store_commit_async, hands the batch to the
 * store's committer thread and returns at once, so the caller's event loop
 * does not wait for the disk; mxc_store_poll picks up the result.
 * mxc_store_flush commits everything and returns once it is durable. When
 * the map is full it is grown and the batch is retried.
 *
 * Threads: a store is used from one thread (the "loop thread"); the
 * committer thread is internal. Every entry point first calls
 * mxc_store_poll, and returns the error of a failed asynchronous commit,
 * doing nothing else, if there is one. A domain key is written once however often it is
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

#define MXC_STORE_SCHEMA 2

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

/**
 * Commit what is buffered (waiting for a commit in flight), stop the
 * committer thread and close. A batch whose commit failed is tried once
 * more; whatever still fails is freed.
 * @return 0, or the first error (of a commit, also one that failed earlier
 *         and was not yet returned, or of closing)
 */
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
 * Is the domain already committed, being committed, or buffered for commit?
 * There is no moment between a put and its commit in which it is not found.
 * @return 1 yes, 0 no, negative on error
 */
int mxc_store_domain_exists(struct mxc_store *s, const char *domain);
int mxc_store_host_exists(struct mxc_store *s, const char *host);

/**
 * The committed record of mail host @p host (records still in a batch are
 * not seen: this is for readers, such as the export joining a domain with
 * its hosts, and may be called inside mxc_store_each_domain's callback).
 * @param out set to the decoded record, to be freed with mxc_free()
 * @return 0, MXC_ENOTFOUND, a decoding error (MXC_ECORRUPT, MXC_ESCHEMA),
 *         or a store error
 */
int mxc_store_host_get(struct mxc_store *s, const char *host, struct mxc_host_rec **out);

/**
 * Buffer a record for the next batch (encoded at once: the caller keeps
 * ownership of @p r). When the batch is full it is committed as by
 * mxc_store_commit_async (so this may wait when the committer is behind by
 * twice a batch). A key already committed, committing or pending is left as
 * it was.
 * @return 0, MXC_EINVAL (read-only store, no name), an encoding error, the
 *         error of an earlier asynchronous commit (nothing was buffered), or
 *         a failure to start a commit or of the commit it waited for (the
 *         record stays buffered)
 */
int mxc_store_domain_put(struct mxc_store *s, const struct mxc_domain_rec *r);
int mxc_store_host_put(struct mxc_store *s, const struct mxc_host_rec *r);

/** Add @p delta to a progress counter (buffered with the batch). */
int mxc_store_counter_add(struct mxc_store *s, const char *name, uint64_t delta);
/** Read a committed counter (0 if absent). */
int mxc_store_counter_get(struct mxc_store *s, const char *name, uint64_t *out);

/**
 * Records buffered in the pending batch, not yet handed to a commit (records
 * being committed are not counted).
 * @param s the store
 * @return the number of records
 */
size_t mxc_store_pending(const struct mxc_store *s);

/**
 * Records this handle has committed since it was opened: each is durable
 * (see store/README.md). A commit done by the committer thread is counted
 * once mxc_store_poll (or any entry point) has picked it up.
 * @param s the store
 * @return the number of records
 */
uint64_t mxc_store_committed(const struct mxc_store *s);

/**
 * Commit everything buffered now, on the calling thread: wait for a commit
 * in flight, then write a batch kept from a failed commit, then the pending
 * batch. Returns once all of it is durable.
 * @param s the store
 * @return 0 (also on a read-only store), the error of an earlier
 *         asynchronous commit (its batch is kept, and the next flush tries
 *         it again), or the error of this commit (the batch is kept)
 */
int mxc_store_flush(struct mxc_store *s);

/**
 * Hand the pending batch (records and counter deltas) to the committer
 * thread, started on first use, and return without waiting; new puts go to
 * a fresh batch. If a commit is still running, the batch stays pending and
 * goes next time, except that a batch grown to twice batch_size records (or
 * twice the batch byte bound) waits for the running commit (back-pressure).
 * A batch whose commit failed is handed over again before the pending one.
 * Call it regularly (e.g. from a 1-second timer) even with nothing pending:
 * it also picks up a finished commit, as mxc_store_poll does.
 * @param s a writable store
 * @return 0, MXC_EINVAL (read-only), the error of an earlier asynchronous
 *         commit (also one it waited for), or a failure to start the commit
 *         (MXC_ENOMEM, -errno); the batches are kept in every case
 */
int mxc_store_commit_async(struct mxc_store *s);

/**
 * Pick up a finished asynchronous commit, on the calling thread, without
 * waiting: free the committed batch and let lookups see the commit. When the
 * map was full it is grown here and the batch handed back to the committer.
 * Every other entry point calls this first.
 * @param s the store
 * @return 0 (also when nothing finished), or the error of the commit: its
 *         batch is kept (lookups still find its keys) and retried by the
 *         next mxc_store_commit_async, flush or close
 */
int mxc_store_poll(struct mxc_store *s);

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

/**
 * Test hook: while @p hold is true, the committer threads of all stores wait
 * before each commit, so that a test sees the "being committed" state for
 * as long as it likes. A loop thread that has to wait for a commit
 * (back-pressure, flush, close) lets exactly one held commit through, so a
 * held commit never deadlocks its store. false lets every commit go.
 * @param hold whether to hold commits
 */
void mxc_store_test_hold_commits(bool hold);

/**
 * Test hook: the next @p n commits (asynchronous or not) fail with MXC_EIO
 * before they touch the database. 0 turns it off.
 * @param n the number of commits to fail
 */
void mxc_store_test_fail_commits(unsigned n);

/**
 * Test hook: how many commits wait in mxc_store_test_hold_commits now.
 * @return the number of committer threads held
 */
unsigned mxc_store_test_held(void);

#endif
