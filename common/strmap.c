/**
 * \file
 * Open-addressing string map. Linear probing keeps lookups cache-friendly;
 * deletions leave tombstones that a rehash clears once they and the live
 * entries fill more than 70% of the slots.
 */
#include "common/strmap.h"

#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

static const char tomb_marker;
#define TOMB (&tomb_marker)

void mxc_strmap_init(struct mxc_strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void mxc_strmap_free(struct mxc_strmap *m)
{
	mxc_free(m->slots);
	mxc_strmap_init(m);
}

static size_t find(const struct mxc_strmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct mxc_strmap_slot *s = &m->slots[i];

		if (!s->key)
			return SIZE_MAX;
		if (s->key != TOMB && s->hash == h && strcmp(s->key, key) == 0)
			return i;
	}
}

void *mxc_strmap_get(const struct mxc_strmap *m, const char *key)
{
	size_t i;

	if (!m->count)
		return NULL;
	i = find(m, key, mxc_hash64(key, strlen(key)));
	return i == SIZE_MAX ? NULL : m->slots[i].value;
}

static int rehash(struct mxc_strmap *m, size_t ncap)
{
	struct mxc_strmap_slot *ns = mxc_calloc(ncap, sizeof(*ns));

	if (!ns)
		return MXC_ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct mxc_strmap_slot *s = &m->slots[i];
		size_t j;

		if (!s->key || s->key == TOMB)
			continue;
		for (j = s->hash & (ncap - 1); ns[j].key; j = (j + 1) & (ncap - 1))
			;
		ns[j] = *s;
	}
	mxc_free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	m->used = m->count;
	return 0;
}

int mxc_strmap_put(struct mxc_strmap *m, const char *key, void *value)
{
	uint64_t h = mxc_hash64(key, strlen(key));
	size_t i, mask, tomb = SIZE_MAX;

	if ((m->used + 1) * 10 > m->cap * 7) {
		size_t ncap = m->cap ? m->cap : 16;
		int r;

		while ((m->count + 1) * 10 > ncap * 5)
			ncap *= 2;
		r = rehash(m, ncap);
		if (r)
			return r;
	}
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		struct mxc_strmap_slot *s = &m->slots[i];

		if (!s->key)
			break;
		if (s->key == TOMB) {
			if (tomb == SIZE_MAX)
				tomb = i;
			continue;
		}
		if (s->hash == h && strcmp(s->key, key) == 0) {
			s->key = key;
			s->value = value;
			return 0;
		}
	}
	if (tomb != SIZE_MAX) {
		i = tomb;
	} else {
		m->used++;
	}
	m->slots[i].key = key;
	m->slots[i].hash = h;
	m->slots[i].value = value;
	m->count++;
	return 0;
}

void *mxc_strmap_del(struct mxc_strmap *m, const char *key)
{
	size_t i;
	void *v;

	if (!m->count)
		return NULL;
	i = find(m, key, mxc_hash64(key, strlen(key)));
	if (i == SIZE_MAX)
		return NULL;
	v = m->slots[i].value;
	m->slots[i].key = TOMB;
	m->slots[i].value = NULL;
	m->count--;
	return v;
}
