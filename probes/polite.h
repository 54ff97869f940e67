/**
 * \file
 * Per-target politeness: who may open a connection now, and when to ask
 * again. The SMTP and HTTPS probes ask for a permit before every connect and
 * give it back when the connection ends.
 *
 * Three levels are limited, each with a rate (a token bucket: a sustained
 * rate and a burst) and a cap on connections in flight: the destination
 * address, its network (IPv4 /24, IPv6 /48 by default, looser because a
 * hosting provider keeps many mail hosts on one network) and the whole
 * scanner. A permit is granted only when every level allows it, and then
 * taken from every level at once.
 *
 * The scheduler is pure: it reads no clock and knows no event loop. The
 * caller passes a monotonic time in nanoseconds and, when refused, gets back
 * the earliest time worth asking again. That makes it testable to the
 * nanosecond and usable from any loop. See probes/POLITENESS.md for the
 * defaults and why they were chosen.
 */
#ifndef MXC_PROBES_POLITE_H
#define MXC_PROBES_POLITE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/error.h"

/**
 * retry_at value when only a connection ending can unblock the request (a
 * cap on connections in flight is reached): retry after a release.
 */
#define MXC_POLITE_ON_RELEASE UINT64_MAX

/** Bounds of the options, checked by mxc_polite_opts_check(). */
#define MXC_POLITE_RATE_MIN 0.001      /**< connections per second */
#define MXC_POLITE_RATE_MAX 1000000.0  /**< connections per second */
#define MXC_POLITE_BURST_MAX 1000000u
#define MXC_POLITE_INFLIGHT_MAX 1000000u
#define MXC_POLITE_ENTRIES_MIN 64u
#define MXC_POLITE_ENTRIES_MAX (1u << 26)

/**
 * Limits of one level (address, network, global). A rate of 0 disables the
 * bucket of that level and a max_inflight of 0 disables its cap; both exist
 * for tests and private networks, not for scans of other people's servers.
 */
struct mxc_polite_limit {
	/** Sustained new connections per second (0 = no rate limit). */
	double rate;
	/** Connections that may start at once after an idle period (>= 1). */
	uint32_t burst;
	/** Connections open at the same time (0 = no cap). */
	uint32_t max_inflight;
};

/** Options; mxc_polite_opts_init() fills in the defaults. */
struct mxc_polite_opts {
	/** Per destination address (--per-ip-rate, --per-ip-burst,
	 * --per-ip-conns). Default 1/s, burst 2, 2 in flight. */
	struct mxc_polite_limit host;
	/** Per network of the destination (--per-net-rate, ...). Default
	 * 10/s, burst 10, 16 in flight. */
	struct mxc_polite_limit net;
	/** The whole scanner (--connect-rate, --max-connections). Default
	 * 100/s, burst 100, 500 in flight. */
	struct mxc_polite_limit global;
	/** Network prefix length for IPv4 destinations (8..32, default 24). */
	unsigned v4_prefix;
	/** Network prefix length for IPv6 destinations (16..128, default 48). */
	unsigned v6_prefix;
	/**
	 * Hard cap on the addresses (and, separately, networks) tracked at
	 * once. The live set is normally far smaller (see POLITENESS.md);
	 * when it is reached, new destinations wait until idle state
	 * expires. Default 131072.
	 */
	size_t max_entries;
};

/** Counters for progress lines and tests. */
struct mxc_polite_stats {
	uint64_t granted;          /**< permits granted */
	uint64_t denied_host_rate; /**< refusals by the address bucket */
	uint64_t denied_host_cap;  /**< ... by the per-address cap */
	uint64_t denied_net_rate;  /**< ... by the network bucket */
	uint64_t denied_net_cap;   /**< ... by the per-network cap */
	uint64_t denied_global_rate; /**< ... by the global bucket */
	uint64_t denied_global_cap;  /**< ... by the global cap */
	uint64_t denied_full;      /**< ... because max_entries was reached */
	uint32_t inflight;         /**< permits held now */
	size_t hosts;              /**< addresses tracked now */
	size_t nets;               /**< networks tracked now */
	size_t bytes;              /**< memory held by the tables */
};

struct mxc_polite;

/**
 * Fill @p o with the defaults documented in POLITENESS.md.
 * @param o the options to fill
 */
void mxc_polite_opts_init(struct mxc_polite_opts *o);

/**
 * Check options against their bounds.
 * @param o the options
 * @param why on error, a static sentence naming the bad field
 * @return 0 or MXC_EINVAL
 */
int mxc_polite_opts_check(const struct mxc_polite_opts *o, const char **why);

/**
 * Create a scheduler.
 * @param o options (copied); NULL for the defaults
 * @param out the new scheduler on success; caller frees with
 *        mxc_polite_free()
 * @return 0, MXC_EINVAL (bad options) or MXC_ENOMEM
 */
int mxc_polite_new(const struct mxc_polite_opts *o, struct mxc_polite **out);

/**
 * Free a scheduler. Permits still held are forgotten.
 * @param p the scheduler, or NULL
 */
void mxc_polite_free(struct mxc_polite *p);

/**
 * Ask for a permit to open one connection to @p sa. An IPv4-mapped IPv6
 * address counts as the IPv4 address it maps; the port is ignored.
 * @param p the scheduler
 * @param sa destination, AF_INET or AF_INET6
 * @param now_ns monotonic time in nanoseconds (never decreasing)
 * @param retry_at_ns on MXC_EAGAIN, the earliest time at which asking again
 *        can succeed, or MXC_POLITE_ON_RELEASE when a cap on connections in
 *        flight is reached (ask again after a release); may be NULL
 * @return 0 (a permit is taken: call mxc_polite_release() when the
 *         connection ends, whatever its outcome), MXC_EAGAIN (not now; no
 *         state changed) or MXC_EINVAL (family not supported)
 */
int mxc_polite_acquire(struct mxc_polite *p, const struct sockaddr *sa, uint64_t now_ns,
		       uint64_t *retry_at_ns);

/**
 * Give back a permit taken by mxc_polite_acquire() for @p sa.
 * @param p the scheduler
 * @param sa the same destination address
 * @return 0, or MXC_ENOTFOUND when no permit is held for @p sa (a caller
 *         bug: logged, nothing changed) or MXC_EINVAL (bad family)
 */
int mxc_polite_release(struct mxc_polite *p, const struct sockaddr *sa);

/**
 * Forget the state of every destination that is idle at @p now_ns: no
 * connection open and its buckets full again, so forgetting it changes no
 * future answer. Acquire does this by itself before a table would grow; a
 * caller may also run it from a timer to return memory sooner.
 * @param p the scheduler
 * @param now_ns monotonic time in nanoseconds
 * @return the number of entries removed
 */
size_t mxc_polite_expire(struct mxc_polite *p, uint64_t now_ns);

/**
 * Current counters.
 * @param p the scheduler
 * @param st filled in
 */
void mxc_polite_stats(const struct mxc_polite *p, struct mxc_polite_stats *st);

#endif
