/**
 * \file
 * The intrusive chained hash table and the object pool declared in htab.h.
 * Both are deliberately minimal: the resolver needs O(1) lookups by a hash it
 * computes itself, and per-query objects without a malloc each.
 */
#include "resolver/htab.h"

#include <stdalign.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"

/*
 * Under AddressSanitizer, pooled objects are poisoned while on the free list
 * (all but the link word), so a use after mxc__pool_put is reported just as a
 * use after free would be.
 */
#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif
#ifdef POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

int mxc__htab_init(struct mxc__htab *t, size_t nbuckets)
{
	size_t n = 16;

	while (n < nbuckets && n < ((size_t)1 << 30))
		n <<= 1;
	t->buckets = mxc_calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return MXC_ENOMEM;
	t->mask = n - 1;
	t->count = 0;
	return 0;
}

void mxc__htab_free(struct mxc__htab *t)
{
	mxc_free(t->buckets);
	t->buckets = NULL;
	t->mask = 0;
	t->count = 0;
}

struct mxc__hnode *mxc__htab_find(const struct mxc__htab *t, uint64_t hash,
				  mxc__htab_eq eq, const void *key)
{
	struct mxc__hnode *n = t->buckets[hash & t->mask];

	for (; n; n = n->next)
		if (n->hash == hash && eq(n, key))
			return n;
	return NULL;
}

/* Double the bucket array. Failure is harmless: chains just get longer. */
static void grow(struct mxc__htab *t)
{
	size_t nb = (t->mask + 1) * 2;
	struct mxc__hnode **b;

	if (nb > ((size_t)1 << 30))
		return;
	b = mxc_calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i <= t->mask; i++) {
		struct mxc__hnode *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	mxc_free(t->buckets);
	t->buckets = b;
	t->mask = nb - 1;
}

void mxc__htab_insert(struct mxc__htab *t, struct mxc__hnode *n)
{
	struct mxc__hnode **b;

	if (t->count >= t->mask + 1)
		grow(t);
	b = &t->buckets[n->hash & t->mask];
	n->next = *b;
	*b = n;
	t->count++;
}

void mxc__htab_remove(struct mxc__htab *t, struct mxc__hnode *n)
{
	struct mxc__hnode **pp = &t->buckets[n->hash & t->mask];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			mxc__hnode_init(n);
			t->count--;
			return;
		}
	}
	/* Removing a node that is not there is a bug in the caller. */
	mxc_require(!"node not in hash table");
}

struct mxc__hnode *mxc__htab_any(const struct mxc__htab *t, size_t *cursor)
{
	if (!t->buckets || t->count == 0)
		return NULL;
	for (; *cursor <= t->mask; (*cursor)++)
		if (t->buckets[*cursor])
			return t->buckets[*cursor];
	return NULL;
}

/* Slabs start with a link word, padded so objects stay max-aligned. */
#define SLAB_HDR ((sizeof(void *) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

void mxc__pool_init(struct mxc__pool *p, size_t objsize, size_t per_slab)
{
	size_t a = alignof(max_align_t);

	if (objsize < sizeof(void *))
		objsize = sizeof(void *);
	p->objsize = (objsize + a - 1) & ~(a - 1);
	p->per_slab = per_slab ? per_slab : 1;
	p->free = NULL;
	p->slabs = NULL;
	p->in_use = 0;
}

void *mxc__pool_get(struct mxc__pool *p)
{
	void *obj;

	if (!p->free) {
		char *slab = mxc_malloc(SLAB_HDR + p->objsize * p->per_slab);

		if (!slab)
			return NULL;
		memcpy(slab, &p->slabs, sizeof(void *));
		p->slabs = slab;
		/* Thread the new objects onto the free list, last first. */
		for (size_t i = p->per_slab; i-- > 0;) {
			char *o = slab + SLAB_HDR + i * p->objsize;

			memcpy(o, &p->free, sizeof(void *));
			p->free = o;
			POISON(o + sizeof(void *), p->objsize - sizeof(void *));
		}
	}
	obj = p->free;
	memcpy(&p->free, obj, sizeof(void *));
	UNPOISON((char *)obj + sizeof(void *), p->objsize - sizeof(void *));
	p->in_use++;
	return obj;
}

void mxc__pool_put(struct mxc__pool *p, void *obj)
{
	if (!obj)
		return;
	memcpy(obj, &p->free, sizeof(void *));
	p->free = obj;
	POISON((char *)obj + sizeof(void *), p->objsize - sizeof(void *));
	p->in_use--;
}

void mxc__pool_destroy(struct mxc__pool *p)
{
	while (p->slabs) {
		void *next;

		memcpy(&next, p->slabs, sizeof(void *));
		UNPOISON(p->slabs, SLAB_HDR + p->objsize * p->per_slab);
		mxc_free(p->slabs);
		p->slabs = next;
	}
	p->free = NULL;
	p->in_use = 0;
}
