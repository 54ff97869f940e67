/**
 * \file
 * A string-keyed hash table (open addressing, linear probing, tombstones),
 * for the scanner's small working sets: the domains in flight and the mail
 * hosts being resolved. Keys are borrowed: the caller keeps each key alive
 * while it is in the table (normally the key lives inside the value).
 */
#ifndef MXC_COMMON_STRMAP_H
#define MXC_COMMON_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct mxc_strmap_slot {
	const char *key; /**< NULL = empty; MXC__STRMAP_TOMB = deleted */
	uint64_t hash;
	void *value;
};

struct mxc_strmap {
	struct mxc_strmap_slot *slots;
	size_t cap;   /**< power of two */
	size_t count; /**< live entries */
	size_t used;  /**< live entries + tombstones */
};

/** Initialise an empty map (no allocation until the first put). */
void mxc_strmap_init(struct mxc_strmap *m);
void mxc_strmap_free(struct mxc_strmap *m);

/** Value for @p key, or NULL. */
void *mxc_strmap_get(const struct mxc_strmap *m, const char *key);

/**
 * Insert @p key -> @p value (replacing an existing value).
 * @return 0 or MXC_ENOMEM
 */
int mxc_strmap_put(struct mxc_strmap *m, const char *key, void *value);

/** Remove @p key; returns its value or NULL if absent. */
void *mxc_strmap_del(struct mxc_strmap *m, const char *key);

#endif
