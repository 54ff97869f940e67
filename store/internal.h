/**
 * \file
 * Internals shared by the files of store/ and by nothing else.
 *
 * The store is split in two layers. store.c holds what does not depend on
 * the database engine: the batch of pending writes, the set of pending keys
 * that mxc_store_domain_exists consults, record and run encoding, schema
 * checks, and the committer thread. It talks to the engine only through
 * struct mxc__kv_api, a const table of a few functions (open, get, an atomic
 * batch write on the owning thread, the same write from the committer
 * thread with its follow-up on the owner, map growth, ordered iteration,
 * count), in the way Knot Resolver's kr_cdb_lmdb() hides LMDB.
 * store_lmdb.c implements that table, and is the only file that includes
 * <lmdb.h>.
 *
 * The tagged-field reader of the record encoding is shared too, so that the
 * run metadata is encoded the same way as records.
 */
#ifndef MXC_STORE_INTERNAL_H
#define MXC_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/** The named databases of a store. */
enum mxc__kv_db {
	MXC__DB_DOMAINS = 0,
	MXC__DB_HOSTS,
	MXC__DB_RUNS,
	MXC__DB_PROGRESS,
	MXC__DB_META,
	MXC__DB__COUNT
};

/** Names of the databases ("domains", ...), indexed by enum mxc__kv_db. */
extern const char *const mxc__kv_db_names[MXC__DB__COUNT];

/** What one operation of an atomic batch does. */
enum mxc__kv_op_kind {
	MXC__KV_PUT_NEW, /**< write unless the key exists (first write wins) */
	MXC__KV_PUT,     /**< write, replacing an existing value */
	MXC__KV_ADD_U64, /**< add delta to a u64 big-endian counter (0 if absent) */
};

/** One operation of a batch handed to mxc__kv_api.write. */
struct mxc__kv_op {
	uint8_t kind;      /**< enum mxc__kv_op_kind */
	uint8_t db;        /**< enum mxc__kv_db */
	const void *key;
	size_t klen;
	const void *val;   /**< PUT and PUT_NEW */
	size_t vlen;
	uint64_t delta;    /**< ADD_U64 */
};

/**
 * Called by mxc__kv_api.each for every key in order. The buffers are valid
 * only during the call. Non-zero stops the walk and is returned by each.
 */
typedef int (*mxc__kv_each_cb)(void *arg, const void *key, size_t klen, const void *val,
			       size_t vlen);

/** A database engine under the store. */
struct mxc__kv_api {
	const char *name;
	/**
	 * Open the engine in @p dir.
	 * @param flags MXC_STORE_RDONLY / MXC_STORE_CREATE
	 * @param mapsize initial size hint in bytes (0 = engine default)
	 * @param errmsg gets a reason naming @p dir on failure
	 * @return 0 or a negative code
	 */
	int (*open)(void **kv, const char *dir, unsigned flags, size_t mapsize, char *errmsg,
		    size_t errlen);
	/** Close; makes committed data durable first. @return 0 or an error */
	int (*close)(void *kv);
	/**
	 * Look a key up in the committed data.
	 * @param val set to the value, valid until the next write or close
	 * @return 0, MXC_ENOTFOUND or an error
	 */
	int (*get)(void *kv, unsigned db, const void *key, size_t klen, const void **val,
		   size_t *vlen);
	/**
	 * Apply @p n operations in one atomic, durable transaction, on the
	 * thread that owns the store (it resets the cached read snapshot and
	 * grows the map when full, retrying until the batch fits).
	 * @return 0 or an error; on error nothing was applied
	 */
	int (*write)(void *kv, const struct mxc__kv_op *ops, size_t n);
	/**
	 * Apply @p n operations in one atomic, durable transaction, from the
	 * committer thread, while the owning thread may go on calling get()
	 * and count(). It touches neither the cached read snapshot nor the map
	 * size, and logs nothing (the log is the owning thread's): the owner
	 * calls after_commit() once it knows the commit returned. A full map
	 * is reported, not grown, since growing needs every transaction of the
	 * process closed.
	 * @return 0, MXC_EFULL (map full; nothing applied: grow() on the
	 *         owning thread and retry) or another error (nothing applied)
	 */
	int (*commit)(void *kv, const struct mxc__kv_op *ops, size_t n);
	/**
	 * On the owning thread, after a commit() run by another thread has
	 * returned: drop the cached read snapshot so that the next get() sees
	 * the commit, and log what commit() found but could not log.
	 */
	void (*after_commit)(void *kv);
	/**
	 * Double the map, on the owning thread, with no commit() running.
	 * Closes the cached read transaction first.
	 * @return 0, or MXC_EFULL when the map may not grow (at its maximum,
	 *         or a walk holds a read transaction)
	 */
	int (*grow)(void *kv);
	/** Visit every committed key of @p db in key order. */
	int (*each)(void *kv, unsigned db, mxc__kv_each_cb cb, void *arg);
	/** Number of committed keys in @p db. */
	int (*count)(void *kv, unsigned db, uint64_t *n);
	/** Current size of the map in bytes (for tests and logs). */
	size_t (*mapsize)(void *kv);
	/**
	 * Take the pages of the store that lookups mapped into this process
	 * out of it again (they stay in the page cache), on the owning thread,
	 * also while commit() runs. Writes and walks do this themselves.
	 */
	void (*trim)(void *kv);
};

/** The LMDB engine. */
const struct mxc__kv_api *mxc__kv_lmdb(void);

/** The u64 at @p b, big-endian (counters, sequence numbers, record fields). */
static inline uint64_t mxc__be64_get(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/** Writes @p v big-endian into the 8 bytes at @p b. */
static inline void mxc__be64_put(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
}

/** Tag of the empty field that closes every record. */
#define MXC__TLV_END 0

/**
 * Append the closing field. @return 0, MXC_ENOMEM or MXC_ETOOBIG
 */
int mxc__tlv_put_end(struct mxc_buf *out);

/** A cursor over the tagged fields (u8 tag, u32 length, bytes) of a record. */
struct mxc__tlv {
	const uint8_t *p;
	size_t left;
};

/**
 * Check the u16 version at the start of @p data against @p version and place
 * the cursor on the first field.
 * @return 0, MXC_ESCHEMA (another version) or MXC_ECORRUPT
 */
int mxc__tlv_init(struct mxc__tlv *t, const uint8_t *data, size_t len, uint16_t version);

/**
 * Step to the next field.
 * @return 1 with @p tag, @p val, @p vlen set; 0 at the end field;
 *         MXC_ECORRUPT when a field runs past the data, the end field is
 *         missing, or bytes follow it
 */
int mxc__tlv_next(struct mxc__tlv *t, uint8_t *tag, const uint8_t **val, size_t *vlen);

/**
 * The encoding of a run record (struct mxc_run_info, store/README.md "Run
 * info"), shared by the store and the merge.
 * @return 0 or an mxc_buf error; decode: 0, MXC_ECORRUPT, MXC_ESCHEMA
 */
struct mxc_run_info;
int mxc__run_encode(const struct mxc_run_info *ri, struct mxc_buf *b);
int mxc__run_decode(const uint8_t *data, size_t len, struct mxc_run_info *ri);

#endif
