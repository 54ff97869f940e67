/**
 * \file
 * A small intrusive chained hash table and a fixed-size object pool, the two
 * containers the resolver's hot path needs.
 *
 * The table stores no keys and no values: callers embed a struct mxc__hnode in
 * their own objects, compute the hash themselves and pass an equality function
 * at lookup. That keeps one allocation per object (the object itself) and lets
 * the same table type hold in-flight questions and cache entries. Buckets are a
 * power of two and the table doubles when the load passes 1; if growing fails
 * the table keeps working with longer chains.
 *
 * The pool hands out fixed-size objects from slabs and takes them back on a
 * free list, so that per-query objects cost no malloc once the pool is warm.
 * Memory returns to the system only when the pool is destroyed.
 */
#ifndef MXC_RESOLVER_HTAB_H
#define MXC_RESOLVER_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Embedded in every object a table holds. */
struct mxc__hnode {
	struct mxc__hnode *next; /**< next in the bucket chain */
	uint64_t hash;           /**< full hash, compared before calling eq */
};

/**
 * Mark @p n as in no table: a node that is never inserted (or was removed)
 * answers false to mxc__hnode_linked(). A removed node is marked again.
 */
static inline void mxc__hnode_init(struct mxc__hnode *n)
{
	n->next = n;
}

/** Is @p n (set up with mxc__hnode_init or inserted) in a table? */
static inline bool mxc__hnode_linked(const struct mxc__hnode *n)
{
	return n->next != n;
}

/** The table: an array of bucket chains. */
struct mxc__htab {
	struct mxc__hnode **buckets;
	size_t mask;  /**< number of buckets - 1 */
	size_t count; /**< nodes stored */
};

/** Equality callback: does @p n hold @p key? */
typedef bool (*mxc__htab_eq)(const struct mxc__hnode *n, const void *key);

/**
 * Allocate the buckets.
 * @param t the table
 * @param nbuckets initial number of buckets, rounded up to a power of two
 * @return 0 or MXC_ENOMEM
 */
int mxc__htab_init(struct mxc__htab *t, size_t nbuckets);

/** Free the buckets (not the nodes, which the caller owns). */
void mxc__htab_free(struct mxc__htab *t);

/**
 * Find the node with @p hash that @p eq says holds @p key.
 * @return the node or NULL
 */
struct mxc__hnode *mxc__htab_find(const struct mxc__htab *t, uint64_t hash,
				  mxc__htab_eq eq, const void *key);

/**
 * Insert @p n, whose hash field the caller has set. Duplicates are not
 * checked for: look up first.
 */
void mxc__htab_insert(struct mxc__htab *t, struct mxc__hnode *n);

/** Unlink @p n, which must be in the table; it is marked unlinked. */
void mxc__htab_remove(struct mxc__htab *t, struct mxc__hnode *n);

/**
 * Return some node without unlinking it, or NULL when the table is empty.
 * Used to tear a table down one node at a time while callbacks run.
 * @param cursor bucket to start from, advanced past empty buckets; start at 0.
 *        Only valid while nothing is inserted.
 */
struct mxc__hnode *mxc__htab_any(const struct mxc__htab *t, size_t *cursor);

/** A free-list pool of objects of one size. */
struct mxc__pool {
	size_t objsize;   /**< bytes per object, at least a pointer */
	size_t per_slab;  /**< objects carved from each slab */
	void *free;       /**< free list, linked through the objects' first word */
	void *slabs;      /**< slabs, linked through their first word */
	size_t in_use;    /**< objects handed out and not yet returned */
};

/**
 * Set up a pool; allocates nothing yet.
 * @param p the pool
 * @param objsize object size in bytes
 * @param per_slab how many objects each slab holds
 */
void mxc__pool_init(struct mxc__pool *p, size_t objsize, size_t per_slab);

/**
 * Take an object (uninitialised memory, suitably aligned for any type).
 * @return the object, or NULL when a new slab cannot be allocated
 */
void *mxc__pool_get(struct mxc__pool *p);

/** Give @p obj back to @p p. */
void mxc__pool_put(struct mxc__pool *p, void *obj);

/** Free every slab; objects still handed out become invalid. */
void mxc__pool_destroy(struct mxc__pool *p);

#endif
