/**
 * \file
 * The TTL cache: answers by (lower-case name, type), bounded by an LRU list.
 *
 * The rules follow what a stub needs for a census (RFC 2308 for negative
 * answers): a positive answer lives for the smallest TTL in its answer
 * section, capped by cache_max_ttl; NXDOMAIN and NODATA live for
 * min(SOA TTL, SOA MINIMUM), capped by cache_neg_ttl, and are not cached
 * without an SOA; SERVFAIL lives for cache_servfail_ttl; every other rcode,
 * and every timeout, is not cached at all. The wire image is stored as it
 * arrived (TTLs are not decremented): a scan wants the record data, and
 * expiry is enforced here.
 *
 * One allocation per entry holds the key and the wire. Entries handed to a
 * pending (asynchronous) cache hit are reference counted, so eviction can
 * unlink them at once and free them when the last delivery is done.
 */
#include "resolver/resolver_internal.h"

#include <string.h>

#include "common/alloc.h"
#include "common/util.h"

#define e_of_hnode(n) mxc_container_of(n, struct mxc__centry, hnode)
#define e_of_lru(l) mxc_container_of(l, struct mxc__centry, lru)

int mxc__cache_init(struct mxc_resolver *r)
{
	size_t n = r->opts.cache_entries;

	mxc__list_init(&r->lru);
	r->cache_count = 0;
	/* Start small; the table doubles as it fills. */
	return mxc__htab_init(&r->cache, n < 4096 ? n : 4096);
}

static void unlink_entry(struct mxc_resolver *r, struct mxc__centry *e)
{
	mxc__htab_remove(&r->cache, &e->hnode);
	mxc__list_del(&e->lru);
	e->linked = false;
	r->cache_count--;
	if (e->refs == 0)
		mxc_free(e);
}

void mxc__cache_destroy(struct mxc_resolver *r)
{
	while (!mxc__list_empty(&r->lru)) {
		struct mxc__centry *e = e_of_lru(r->lru.next);

		mxc__list_del(&e->lru);
		mxc_free(e);
	}
	r->cache_count = 0;
	mxc__htab_free(&r->cache);
}

void mxc__cache_unref(struct mxc_resolver *r, struct mxc__centry *e)
{
	(void)r;
	if (--e->refs == 0 && !e->linked)
		mxc_free(e);
}

static bool c_eq(const struct mxc__hnode *n, const void *key)
{
	const struct mxc__centry *e = e_of_hnode(n);
	const struct mxc__qkey *k = key;

	return e->qtype == k->type && e->qname_len == k->len &&
	       memcmp(e->data, k->name, k->len) == 0;
}

struct mxc__centry *mxc__cache_get(struct mxc_resolver *r, const uint8_t *name,
				   size_t len, uint16_t type, uint64_t hash)
{
	struct mxc__qkey key = { name, len, type };
	struct mxc__hnode *n;
	struct mxc__centry *e;

	if (r->opts.cache_entries == 0 || r->cache_count == 0)
		return NULL;
	n = mxc__htab_find(&r->cache, hash, c_eq, &key);
	if (!n)
		return NULL;
	e = e_of_hnode(n);
	if (e->expires <= uv_now(r->loop)) {
		unlink_entry(r, e);
		return NULL;
	}
	mxc__list_del(&e->lru);
	mxc__list_push_front(&r->lru, &e->lru);
	return e;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* RFC 2308: the negative TTL is min(SOA TTL, SOA MINIMUM); 0 without SOA. */
static uint32_t negative_ttl(const ldns_pkt *pkt)
{
	const ldns_rr_list *auth = ldns_pkt_authority(pkt);
	size_t n = auth ? ldns_rr_list_rr_count(auth) : 0;

	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(auth, i);
		const ldns_rdf *min;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) != 7)
			continue;
		min = ldns_rr_rdf(rr, 6);
		if (!min || ldns_rdf_size(min) != 4)
			continue;
		return min_u32(ldns_rr_ttl(rr), ldns_rdf2native_int32(min));
	}
	return 0;
}

uint32_t mxc__cache_ttl(const struct mxc_resolver_opts *o, const ldns_pkt *pkt)
{
	const ldns_rr_list *an = ldns_pkt_answer(pkt);
	size_t n = an ? ldns_rr_list_rr_count(an) : 0;
	uint32_t ttl = UINT32_MAX;

	switch (ldns_pkt_get_rcode(pkt)) {
	case LDNS_RCODE_SERVFAIL:
		return o->cache_servfail_ttl;
	case LDNS_RCODE_NXDOMAIN:
		return min_u32(negative_ttl(pkt), o->cache_neg_ttl);
	case LDNS_RCODE_NOERROR:
		if (n == 0)
			return min_u32(negative_ttl(pkt), o->cache_neg_ttl);
		for (size_t i = 0; i < n; i++)
			ttl = min_u32(ttl, ldns_rr_ttl(ldns_rr_list_rr(an, i)));
		return min_u32(ttl, o->cache_max_ttl);
	default:
		return 0;
	}
}

void mxc__cache_put(struct mxc_resolver *r, const struct mxc__question *q,
		    const ldns_pkt *pkt, const uint8_t *wire, size_t len)
{
	struct mxc__qkey key = { q->qwire + 12, q->qname_len, q->qtype };
	struct mxc__hnode *old;
	struct mxc__centry *e;
	uint32_t ttl;

	if (r->opts.cache_entries == 0 || len > UINT16_MAX)
		return;
	ttl = mxc__cache_ttl(&r->opts, pkt);
	if (ttl == 0)
		return;
	e = mxc_malloc(sizeof(*e) + q->qname_len + len);
	if (!e)
		return; /* Not caching is always correct. */
	old = mxc__htab_find(&r->cache, q->hnode.hash, c_eq, &key);
	if (old)
		unlink_entry(r, e_of_hnode(old));
	memset(e, 0, sizeof(*e));
	e->hnode.hash = q->hnode.hash;
	e->expires = uv_now(r->loop) + (uint64_t)ttl * 1000;
	e->linked = true;
	e->rcode = (uint8_t)ldns_pkt_get_rcode(pkt);
	e->qname_len = q->qname_len;
	e->qtype = q->qtype;
	e->upstream = q->upstream;
	e->wire_len = (uint32_t)len;
	memcpy(e->data, q->qwire + 12, q->qname_len);
	e->wire = e->data + q->qname_len;
	memcpy(e->wire, wire, len);
	mxc__htab_insert(&r->cache, &e->hnode);
	mxc__list_push_front(&r->lru, &e->lru);
	r->cache_count++;
	while (r->cache_count > r->opts.cache_entries)
		unlink_entry(r, e_of_lru(r->lru.prev));
}
