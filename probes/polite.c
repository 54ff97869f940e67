/**
 * \file
 * The connection permit scheduler of probes/polite.h.
 *
 * Each bucket is kept as a single "theoretical arrival time" (the generic
 * cell rate algorithm, GCRA, which is a token bucket written as a time
 * instead of a token count): with an interval T = 1 s / rate and a
 * tolerance tau = (burst - 1) * T, a connection may start at time now iff
 * tat <= now + tau, and starting one moves tat to max(tat, now) + T. When it
 * may not, tat - tau is exactly the moment it may. One 64-bit word per
 * bucket, integer arithmetic only, and no refill step to schedule.
 *
 * The same representation makes forgetting exact: a destination with no
 * connection open and tat <= now behaves like one never seen (a fresh bucket
 * is full), so dropping its entry changes no answer. That is the only kind
 * of entry ever dropped. The live set is therefore bounded by the
 * connections in flight plus the destinations started within the last
 * burst * T, both of which the global limits bound; max_entries is a
 * backstop for configurations that make that window huge.
 *
 * Addresses and networks live in two open-addressing tables (linear
 * probing) of 32-byte entries, keyed by the 16-byte address in IPv6 form
 * (IPv4 as ::ffff:a.b.c.d, so a v4-mapped IPv6 destination is the IPv4 host
 * it names). Addresses come from DNS answers that anyone can publish, so the
 * hash is keyed with a random seed: a zone cannot choose AAAA records that
 * collide in our table. Expired entries are removed by rebuilding a table
 * when it would otherwise grow; each rebuild costs O(size) and is preceded
 * by at least size/4 insertions, so acquire stays O(1) amortised and the
 * tables shrink again after a burst of distinct destinations.
 */
#include "probes/polite.h"

#include <math.h>
#include <netinet/in.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#define NS_PER_S 1000000000.0
#define TABLE_MIN 16

/* One tracked address or network. */
struct entry {
	uint8_t key[16];
	uint64_t tat;      /* GCRA theoretical arrival time, ns */
	uint32_t inflight; /* permits held */
	uint32_t used;     /* 0: empty slot */
};

struct table {
	struct entry *slots;
	size_t cap;   /* power of two, or 0 before the first insert */
	size_t count; /* used slots */
	size_t max;   /* max_entries */
	size_t cap_max;
	/* Earliest time a rebuild can free something; used only when full. */
	uint64_t next_sweep;
};

/* A level's limits in the form the arithmetic wants. */
struct level {
	uint64_t interval; /* ns between connections; 0 = no rate limit */
	uint64_t tau;      /* (burst - 1) * interval */
	uint32_t max_inflight;
};

struct mxc_polite {
	struct mxc_polite_opts opts;
	struct level host, net, global;
	struct table hosts, nets;
	uint64_t global_tat;
	uint32_t global_inflight;
	uint64_t seed[2];
	struct mxc_polite_stats st;
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static size_t slot_of(const struct mxc_polite *p, const struct table *t, const uint8_t key[16])
{
	uint64_t a, b;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	return (size_t)(mxc_hash_mix64(mxc_hash_mix64(a ^ p->seed[0]) ^ b ^ p->seed[1])) &
	       (t->cap - 1);
}

static struct entry *find(const struct mxc_polite *p, const struct table *t, const uint8_t key[16])
{
	size_t i;

	if (t->cap == 0)
		return NULL;
	for (i = slot_of(p, t, key);; i = (i + 1) & (t->cap - 1)) {
		struct entry *e = &t->slots[i];

		if (!e->used)
			return NULL;
		if (memcmp(e->key, key, 16) == 0)
			return e;
	}
}

/* Place @e (not yet present) into a table with room for it. */
static struct entry *place(const struct mxc_polite *p, struct table *t, const struct entry *e)
{
	size_t i;

	for (i = slot_of(p, t, e->key); t->slots[i].used; i = (i + 1) & (t->cap - 1))
		;
	t->slots[i] = *e;
	t->slots[i].used = 1;
	t->count++;
	return &t->slots[i];
}

static int idle(const struct entry *e, uint64_t now)
{
	return e->inflight == 0 && e->tat <= now;
}

static size_t pow2_at_least(size_t n)
{
	size_t c = TABLE_MIN;

	while (c < n)
		c <<= 1;
	return c;
}

/*
 * Drop every idle entry and move the rest into a table of a fitting size:
 * at least twice the survivors (plus the one about to be inserted), so the
 * next rebuild is size/4 insertions away.
 */
static int rebuild(struct mxc_polite *p, struct table *t, uint64_t now)
{
	struct entry *old = t->slots;
	size_t old_cap = t->cap, live = 0, i, cap;
	uint64_t next = UINT64_MAX;

	for (i = 0; i < old_cap; i++)
		if (old[i].used && !idle(&old[i], now))
			live++;
	cap = pow2_at_least(2 * (live + 1));
	if (cap > t->cap_max)
		cap = t->cap_max;
	t->slots = mxc_calloc(cap, sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old;
		return MXC_ENOMEM;
	}
	t->cap = cap;
	t->count = 0;
	for (i = 0; i < old_cap; i++) {
		if (!old[i].used || idle(&old[i], now))
			continue;
		place(p, t, &old[i]);
		if (old[i].inflight == 0 && old[i].tat < next)
			next = old[i].tat;
	}
	t->next_sweep = next;
	mxc_free(old);
	return 0;
}

/*
 * Find or create the entry for @key.
 * @return 0 with *out set, MXC_EAGAIN when max_entries is reached (with
 *         *retry_at), or MXC_ENOMEM
 */
static int get(struct mxc_polite *p, struct table *t, const uint8_t key[16], uint64_t now,
	       struct entry **out, uint64_t *retry_at)
{
	struct entry fresh;
	int rc;

	*out = find(p, t, key);
	if (*out)
		return 0;
	if (t->count >= t->max) {
		/* Full: a rebuild helps only once some entry has gone idle. */
		if (now < t->next_sweep) {
			*retry_at = t->next_sweep;
			return MXC_EAGAIN;
		}
		rc = rebuild(p, t, now);
		if (rc)
			return rc;
		if (t->count >= t->max) {
			*retry_at = t->next_sweep;
			return MXC_EAGAIN;
		}
	} else if (t->cap == 0 || (t->count + 1) * 4 > t->cap * 3) {
		rc = rebuild(p, t, now);
		if (rc)
			return rc;
	}
	memset(&fresh, 0, sizeof(fresh));
	memcpy(fresh.key, key, 16);
	*out = place(p, t, &fresh);
	return 0;
}

/* May a bucket at @tat start a connection at @now? If not, set *when. */
static int bucket_ok(uint64_t tat, uint64_t now, const struct level *l, uint64_t *when)
{
	if (l->interval == 0 || tat <= sat_add(now, l->tau))
		return 1;
	*when = tat - l->tau;
	return 0;
}

static uint64_t bucket_take(uint64_t tat, uint64_t now, const struct level *l)
{
	if (l->interval == 0)
		return 0;
	return sat_add(max_u64(tat, now), l->interval);
}

static int level_on(const struct level *l)
{
	return l->interval != 0 || l->max_inflight != 0;
}

/*
 * The address key (IPv6 form, IPv4 mapped) and its network key.
 * @return 0 or MXC_EINVAL
 */
static int make_keys(const struct mxc_polite *p, const struct sockaddr *sa, uint8_t host[16],
		     uint8_t net[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned bits, i;

	if (!sa)
		return MXC_EINVAL;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

		memcpy(host, mapped, 12);
		memcpy(host + 12, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

		memcpy(host, &s6->sin6_addr, 16);
	} else {
		return MXC_EINVAL;
	}
	bits = memcmp(host, mapped, 12) == 0 ? 96 + p->opts.v4_prefix : p->opts.v6_prefix;
	for (i = 0; i < 16; i++) {
		if (bits >= 8)
			net[i] = host[i];
		else
			net[i] = (uint8_t)(host[i] & (0xff00u >> bits));
		bits = bits >= 8 ? bits - 8 : 0;
	}
	return 0;
}

void mxc_polite_opts_init(struct mxc_polite_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->host.rate = 1.0;
	o->host.burst = 2;
	o->host.max_inflight = 2;
	o->net.rate = 10.0;
	o->net.burst = 10;
	o->net.max_inflight = 16;
	o->global.rate = 100.0;
	o->global.burst = 100;
	o->global.max_inflight = 500;
	o->v4_prefix = 24;
	o->v6_prefix = 48;
	o->max_entries = 131072;
}

static int limit_check(const struct mxc_polite_limit *l, const char **why, const char *rate_msg,
		       const char *burst_msg, const char *cap_msg)
{
	/* The negated form also refuses NaN. */
	if (!(l->rate == 0.0 || (l->rate >= MXC_POLITE_RATE_MIN && l->rate <= MXC_POLITE_RATE_MAX))) {
		*why = rate_msg;
		return MXC_EINVAL;
	}
	if (l->burst < 1 || l->burst > MXC_POLITE_BURST_MAX) {
		*why = burst_msg;
		return MXC_EINVAL;
	}
	if (l->max_inflight > MXC_POLITE_INFLIGHT_MAX) {
		*why = cap_msg;
		return MXC_EINVAL;
	}
	return 0;
}

int mxc_polite_opts_check(const struct mxc_polite_opts *o, const char **why)
{
	const char *dummy;
	int rc;

	if (!why)
		why = &dummy;
	if (!o) {
		*why = "no options";
		return MXC_EINVAL;
	}
	rc = limit_check(&o->host, why, "per-address rate must be 0 or 0.001..1000000 per second",
			 "per-address burst must be 1..1000000",
			 "per-address connection cap must be 0..1000000");
	if (!rc)
		rc = limit_check(&o->net, why,
				 "per-network rate must be 0 or 0.001..1000000 per second",
				 "per-network burst must be 1..1000000",
				 "per-network connection cap must be 0..1000000");
	if (!rc)
		rc = limit_check(&o->global, why,
				 "global connection rate must be 0 or 0.001..1000000 per second",
				 "global burst must be 1..1000000",
				 "global connection cap must be 0..1000000");
	if (rc)
		return rc;
	if (o->v4_prefix < 8 || o->v4_prefix > 32) {
		*why = "IPv4 network prefix must be 8..32";
		return MXC_EINVAL;
	}
	if (o->v6_prefix < 16 || o->v6_prefix > 128) {
		*why = "IPv6 network prefix must be 16..128";
		return MXC_EINVAL;
	}
	if (o->max_entries < MXC_POLITE_ENTRIES_MIN || o->max_entries > MXC_POLITE_ENTRIES_MAX) {
		*why = "max_entries must be 64..67108864";
		return MXC_EINVAL;
	}
	return 0;
}

static void level_init(struct level *l, const struct mxc_polite_limit *lim)
{
	double iv;

	l->max_inflight = lim->max_inflight;
	l->interval = 0;
	l->tau = 0;
	if (lim->rate == 0.0)
		return;
	iv = nearbyint(NS_PER_S / lim->rate);
	l->interval = iv < 1.0 ? 1 : (uint64_t)iv;
	/* At most 1e6 * 1e12: no overflow. */
	l->tau = (uint64_t)(lim->burst - 1) * l->interval;
}

static void table_init(struct table *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	t->cap_max = pow2_at_least(2 * (max + 1));
	t->next_sweep = UINT64_MAX;
}

int mxc_polite_new(const struct mxc_polite_opts *o, struct mxc_polite **out)
{
	struct mxc_polite_opts def;
	struct mxc_polite *p;
	const char *why;

	if (!out)
		return MXC_EINVAL;
	*out = NULL;
	if (!o) {
		mxc_polite_opts_init(&def);
		o = &def;
	}
	if (mxc_polite_opts_check(o, &why)) {
		mxc_log_error("politeness options: %s", why);
		return MXC_EINVAL;
	}
	p = mxc_calloc(1, sizeof(*p));
	if (!p)
		return MXC_ENOMEM;
	p->opts = *o;
	level_init(&p->host, &o->host);
	level_init(&p->net, &o->net);
	level_init(&p->global, &o->global);
	table_init(&p->hosts, o->max_entries);
	table_init(&p->nets, o->max_entries);
	mxc_random_bytes(p->seed, sizeof(p->seed));
	*out = p;
	return 0;
}

void mxc_polite_free(struct mxc_polite *p)
{
	if (!p)
		return;
	mxc_free(p->hosts.slots);
	mxc_free(p->nets.slots);
	mxc_free(p);
}

/*
 * Check one tracked level (address or network). An entry not yet tracked
 * passes: its bucket is full and nothing is in flight.
 */
static int check_entry(const struct entry *e, const struct level *l, uint64_t now,
		       uint64_t *retry, uint64_t *denied_rate, uint64_t *denied_cap)
{
	uint64_t when;
	int ok = 1;

	if (!e)
		return 1;
	if (l->max_inflight && e->inflight >= l->max_inflight) {
		*retry = MXC_POLITE_ON_RELEASE;
		(*denied_cap)++;
		ok = 0;
	}
	if (!bucket_ok(e->tat, now, l, &when)) {
		*retry = max_u64(*retry, when);
		(*denied_rate)++;
		ok = 0;
	}
	return ok;
}

int mxc_polite_acquire(struct mxc_polite *p, const struct sockaddr *sa, uint64_t now_ns,
		       uint64_t *retry_at_ns)
{
	uint8_t hkey[16], nkey[16];
	struct entry *he = NULL, *ne = NULL;
	uint64_t retry = 0, when, dummy;
	int ok = 1, rc;

	if (!retry_at_ns)
		retry_at_ns = &dummy;
	*retry_at_ns = 0;
	if (!p || make_keys(p, sa, hkey, nkey))
		return MXC_EINVAL;

	if (p->global.max_inflight && p->global_inflight >= p->global.max_inflight) {
		retry = MXC_POLITE_ON_RELEASE;
		p->st.denied_global_cap++;
		ok = 0;
	}
	if (!bucket_ok(p->global_tat, now_ns, &p->global, &when)) {
		retry = max_u64(retry, when);
		p->st.denied_global_rate++;
		ok = 0;
	}
	if (level_on(&p->host))
		ok &= check_entry(find(p, &p->hosts, hkey), &p->host, now_ns, &retry,
				  &p->st.denied_host_rate, &p->st.denied_host_cap);
	if (level_on(&p->net))
		ok &= check_entry(find(p, &p->nets, nkey), &p->net, now_ns, &retry,
				  &p->st.denied_net_rate, &p->st.denied_net_cap);
	if (!ok) {
		*retry_at_ns = retry;
		return MXC_EAGAIN;
	}

	/*
	 * Create the entries only now that the answer is yes. If the second
	 * one cannot be had, the first stays behind idle and is dropped at
	 * the next rebuild; nothing is taken.
	 */
	if (level_on(&p->host)) {
		rc = get(p, &p->hosts, hkey, now_ns, &he, retry_at_ns);
		if (rc) {
			p->st.denied_full += rc == MXC_EAGAIN;
			return rc;
		}
	}
	if (level_on(&p->net)) {
		rc = get(p, &p->nets, nkey, now_ns, &ne, retry_at_ns);
		if (rc) {
			p->st.denied_full += rc == MXC_EAGAIN;
			if (he && idle(he, now_ns))
				p->hosts.next_sweep = 0;
			return rc;
		}
	}

	p->global_tat = bucket_take(p->global_tat, now_ns, &p->global);
	p->global_inflight++;
	if (he) {
		he->tat = bucket_take(he->tat, now_ns, &p->host);
		he->inflight++;
	}
	if (ne) {
		ne->tat = bucket_take(ne->tat, now_ns, &p->net);
		ne->inflight++;
	}
	p->st.granted++;
	return 0;
}

static void entry_release(struct table *t, struct entry *e)
{
	e->inflight--;
	if (e->inflight == 0 && e->tat < t->next_sweep)
		t->next_sweep = e->tat;
}

int mxc_polite_release(struct mxc_polite *p, const struct sockaddr *sa)
{
	uint8_t hkey[16], nkey[16];
	struct entry *he = NULL, *ne = NULL;

	if (!p || make_keys(p, sa, hkey, nkey))
		return MXC_EINVAL;
	if (level_on(&p->host)) {
		he = find(p, &p->hosts, hkey);
		if (!he || he->inflight == 0)
			goto unknown;
	}
	if (level_on(&p->net)) {
		ne = find(p, &p->nets, nkey);
		if (!ne || ne->inflight == 0)
			goto unknown;
	}
	if (p->global_inflight == 0)
		goto unknown;
	p->global_inflight--;
	if (he)
		entry_release(&p->hosts, he);
	if (ne)
		entry_release(&p->nets, ne);
	return 0;

unknown:
	mxc_log_error("politeness: release of a connection that holds no permit "
		      "(internal error; ignored)");
	return MXC_ENOTFOUND;
}

size_t mxc_polite_expire(struct mxc_polite *p, uint64_t now_ns)
{
	size_t before, after;

	if (!p)
		return 0;
	before = p->hosts.count + p->nets.count;
	/* On allocation failure the tables stay as they were: harmless. */
	if (p->hosts.cap)
		(void)rebuild(p, &p->hosts, now_ns);
	if (p->nets.cap)
		(void)rebuild(p, &p->nets, now_ns);
	after = p->hosts.count + p->nets.count;
	return before - after;
}

void mxc_polite_stats(const struct mxc_polite *p, struct mxc_polite_stats *st)
{
	if (!p || !st)
		return;
	*st = p->st;
	st->inflight = p->global_inflight;
	st->hosts = p->hosts.count;
	st->nets = p->nets.count;
	st->bytes = sizeof(*p) + (p->hosts.cap + p->nets.cap) * sizeof(struct entry);
}
