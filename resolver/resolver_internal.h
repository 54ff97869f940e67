/**
 * \file
 * Internals of the resolver shared between its files (resolver.c, cache.c,
 * tcp.c), the unit tests and the fuzz target. Nothing outside resolver/ and
 * tests/ may include this header.
 *
 * The central object is the question: one per distinct (name, type) that is
 * queued or on the wire. Waiters (the callers' callbacks) hang off it, so
 * identical questions are sent once. A question is always in at most one
 * intrusive FIFO: an upstream's wait queue while the caps hold it back, or the
 * timeout FIFO of its attempt level while it is on the wire. Because every
 * entry of one level has the same timeout, each FIFO is sorted by deadline and
 * one timer serves all of them: O(1) per timeout, no timer per query.
 */
#ifndef MXC_RESOLVER_INTERNAL_H
#define MXC_RESOLVER_INTERNAL_H

#include "resolver/htab.h"
#include "resolver/resolver.h"

/** Longest query we build: header, name, question tail, OPT record. */
#define MXC__QWIRE_MAX (12 + 255 + 4 + 11)

/** An intrusive, circular doubly-linked list node (a sentinel heads it). */
struct mxc__list {
	struct mxc__list *prev, *next;
};

/** Where a question is in its life. Changed only by q_set_state(). */
enum mxc__qstate {
	MXC__Q_NEW = 0, /**< built, not yet dispatched */
	MXC__Q_QUEUED,  /**< waiting in an upstream's FIFO for its caps */
	MXC__Q_UDP,     /**< on the wire over UDP, in a timeout FIFO */
	MXC__Q_TCP,     /**< re-asked over TCP after TC=1 */
	MXC__Q_DONE,    /**< answered or given up; being delivered */
};

/** Name of a question state, for logs. */
const char *mxc__qstate_name(enum mxc__qstate s);

/**
 * One caller waiting for a question, or one cache hit waiting to be
 * delivered from the loop. Pooled.
 */
struct mxc__waiter {
	struct mxc__waiter *next;
	mxc_dns_cb cb;
	void *arg;
	struct mxc__centry *entry; /**< cache hits only: referenced entry */
};

struct mxc__tcp;

/** A distinct question that is queued or in flight. Pooled. */
struct mxc__question {
	struct mxc__hnode hnode;       /**< in mxc_resolver.questions */
	struct mxc__list link;         /**< upstream queue or timeout FIFO */
	uint64_t deadline;             /**< loop time (ms) the attempt times out */
	struct mxc__waiter *waiters;   /**< FIFO of callers */
	struct mxc__waiter **wtail;
	struct mxc__tcp *tcp;          /**< TCP exchange, when state == Q_TCP */
	uint16_t id;                   /**< DNS ID of the current attempt */
	uint16_t qtype;
	uint16_t upstream;             /**< index of the current upstream */
	uint16_t sock;                 /**< socket index of the current attempt */
	uint8_t attempt;               /**< 0 for the first try */
	uint8_t state;                 /**< enum mxc__qstate */
	uint8_t level;                 /**< timeout FIFO it is in, when on the wire */
	bool registered;               /**< holds socks[sock].ids[id] */
	bool saw_garbage;              /**< a malformed reply came from its upstream */
	bool nocache;                  /**< every asker passed MXC_DNS_NOCACHE */
	bool in_outq;                  /**< its datagram waits in outq for a flush */
	bool priority;                 /**< queued at the head (MXC_DNS_PRIORITY) */
	uint8_t qname_len;             /**< wire name length (at qwire + 12) */
	uint16_t qwire_len;
	uint8_t qwire[MXC__QWIRE_MAX]; /**< the query, name lower-cased */
};

/** A cached answer: key, expiry and the response wire, one allocation. */
struct mxc__centry {
	struct mxc__hnode hnode;
	struct mxc__list lru;  /**< most recently used first */
	uint64_t expires;      /**< loop time (ms) */
	uint32_t refs;         /**< pending deliveries holding it */
	bool linked;           /**< still in the table and the LRU */
	uint8_t rcode;
	uint8_t qname_len;
	uint16_t qtype;
	uint16_t upstream;     /**< who answered, for mxc_dns_answer.server */
	uint32_t wire_len;
	uint8_t *wire;         /**< points into data, after the name */
	uint8_t data[];        /**< qname, then the wire */
};

/** Datagrams gathered for one sendmmsg(2) round. */
#define MXC__OUTQ_MAX 64

/** One UDP socket of the pool. */
struct mxc__sock {
	uv_udp_t udp;
	struct mxc_resolver *r;
	struct mxc__question **ids; /**< 65536 slots: in-flight question by ID */
	unsigned inflight;
	int family;                 /**< AF_INET or AF_INET6 */
	uint16_t idx;
	bool connected;             /**< to the family's only upstream: send without address */
};

/** One upstream with its caps, queue and counters. */
struct mxc__upstream {
	struct mxc_upstream_cfg cfg;
	char name[64];           /**< "addr:port" */
	struct mxc__list queue;  /**< questions held back by the caps */
	size_t queued;
	unsigned inflight;
	int64_t tokens;          /**< token bucket, in thousandths of a query */
	int64_t tokens_max;
	uint64_t refilled_at;    /**< loop time of the last refill */
	unsigned sock_base;      /**< first socket of its address family */
	unsigned sock_count;
	uint64_t garbage_logged; /**< loop time of the last garbage warning */
	uint64_t silent_run;     /**< attempts timed out since its last answer */
	uint64_t silence_logged; /**< loop time of the last silence warning */
	bool draining;           /**< drain() is running: do not recurse */
};

/** The resolver. */
struct mxc_resolver {
	uv_loop_t *loop;
	struct mxc_resolver_opts opts;
	struct mxc__upstream *ups;
	size_t n_ups;
	size_t rr_next;                 /**< round-robin start for first attempts */
	struct mxc__sock *socks;
	unsigned n_socks;
	unsigned n_socks_open;          /**< sockets whose handle was initialised */

	struct mxc__list *tfifo;        /**< timeout FIFOs: retries + 1 UDP levels, then TCP */
	uint64_t *tdur;                 /**< duration of each level, ms */
	unsigned n_levels;
	uv_timer_t timeout_timer;
	uint64_t timer_due;             /**< 0 when not armed */
	uv_timer_t token_timer;
	bool token_armed;
	uv_idle_t idle;                 /**< delivers cache hits from the loop */
	uv_check_t flush_check;         /**< sends the batch after the I/O callbacks */
	uv_prepare_t flush_prepare;     /**< ...and before the loop blocks */
	struct mxc__question *outq[MXC__OUTQ_MAX]; /**< datagrams waiting for sendmmsg */
	unsigned outq_len;
	struct mxc__waiter *hits, **hits_tail;

	struct mxc__htab questions;     /**< coalescing: (name, type) -> question */
	struct mxc__htab cache;         /**< (name, type) -> cache entry */
	struct mxc__list lru;
	size_t cache_count;

	struct mxc__pool qpool, wpool, spool;
	struct mxc__list tcps;          /**< live TCP exchanges */
	size_t close_cursor;            /**< bucket cursor while canceling */

	uint64_t hash_seed;
	uint8_t rnd[512];               /**< CSPRNG bytes, consumed for IDs */
	size_t rnd_pos;
	uint8_t *rxbuf;                 /**< shared UDP receive buffer */
	size_t rxbuf_len;
	uint8_t *tcpbuf;                /**< shared TCP read scratch, 64 KiB */

	struct mxc_resolver_stats st;
	unsigned open_handles;          /**< memory is freed when this drops to 0 */
	bool closing;
};

/* Lists. */
void mxc__list_init(struct mxc__list *l);
bool mxc__list_empty(const struct mxc__list *l);
void mxc__list_push_back(struct mxc__list *l, struct mxc__list *n);
void mxc__list_push_front(struct mxc__list *l, struct mxc__list *n);
void mxc__list_del(struct mxc__list *n);

/** A lookup key: lower-case wire name and type. */
struct mxc__qkey {
	const uint8_t *name;
	size_t len;
	uint16_t type;
};

/** Hash of a (lower-case wire name, type) key with the resolver's seed. */
uint64_t mxc__key_hash(const struct mxc_resolver *r, const uint8_t *name, size_t len,
		       uint16_t type);

/**
 * Convert a presentation-format name to lower-case wire format: plain
 * names directly, names with escapes through ldns.
 * @param out at least 255 bytes
 * @return 0 or MXC_ENAME
 */
int mxc__name_to_wire(const char *name, uint8_t *out, size_t *len);

/* Cache (cache.c). */
int mxc__cache_init(struct mxc_resolver *r);
void mxc__cache_destroy(struct mxc_resolver *r);

/**
 * Look up a live entry; expired entries found on the way are dropped.
 * @return the entry (now most recently used) or NULL
 */
struct mxc__centry *mxc__cache_get(struct mxc_resolver *r, const uint8_t *name,
				   size_t len, uint16_t type, uint64_t hash);

/**
 * Store the answer to @p q if the caching rules say so (see cache.c).
 * @param pkt the parsed @p wire
 */
void mxc__cache_put(struct mxc_resolver *r, const struct mxc__question *q,
		    const ldns_pkt *pkt, const uint8_t *wire, size_t len);

/** Drop a reference held by a pending delivery; frees unlinked entries. */
void mxc__cache_unref(struct mxc_resolver *r, struct mxc__centry *e);

/** The TTL (seconds) the rules give @p pkt; 0 means "do not cache". */
uint32_t mxc__cache_ttl(const struct mxc_resolver_opts *o, const ldns_pkt *pkt);

/* TCP (tcp.c). */

/**
 * Re-ask @p q over TCP to its current upstream. On a local failure the
 * attempt fails at once (next retry or give up).
 */
void mxc__tcp_start(struct mxc_resolver *r, struct mxc__question *q);

/** Detach and close @p q's TCP exchange, if any. */
void mxc__tcp_abort(struct mxc_resolver *r, struct mxc__question *q);

/** Close every TCP exchange (resolver close). */
void mxc__tcp_close_all(struct mxc_resolver *r);

/* Core (resolver.c), also used by tcp.c. */

/** Put @p q on the timeout FIFO of @p level, deadline now + its duration. */
void mxc__timeout_add(struct mxc_resolver *r, struct mxc__question *q, unsigned level);

/**
 * The current attempt of @p q failed (timeout, TCP error): retry on the next
 * upstream or give up.
 * @param timed_out counts a timeout in the stats
 */
void mxc__attempt_failed(struct mxc_resolver *r, struct mxc__question *q, bool timed_out);

/**
 * Validate a response to @p q (QR, question) and deliver it or, if TC=1,
 * go to TCP. Does not check ID or source: the caller did.
 * @param via_tcp it came over TCP (TC is then ignored)
 * @return true if @p q was finished (answered)
 */
bool mxc__accept_response(struct mxc_resolver *r, struct mxc__question *q,
			  const uint8_t *wire, size_t len, bool via_tcp);

/** A handle of the resolver finished closing (tcp.c's handles too). */
void mxc__handle_closed(struct mxc_resolver *r);

/* Hooks for the fuzz target and the unit tests. */

/**
 * Feed a datagram as if it arrived on socket @p sock from @p from: the exact
 * path a received UDP response takes (match, parse, TC, cache, delivery).
 */
void mxc__resolver_udp_input(struct mxc_resolver *r, unsigned sock,
			     const struct sockaddr *from, const uint8_t *data, size_t len);

/**
 * Create a question in flight on socket @p sock with ID @p id to upstream 0
 * without sending anything, so that a test can answer it.
 * @return 0, MXC_EEXIST (ID taken or question already in flight), MXC_ENAME,
 *         MXC_EINVAL or MXC_ENOMEM
 */
int mxc__resolver_register(struct mxc_resolver *r, const char *name, uint16_t type,
			   unsigned sock, uint16_t id, mxc_dns_cb cb, void *arg);

/** Give up every question now (as after its last timeout). */
void mxc__resolver_expire_all(struct mxc_resolver *r);

/** Number of sockets in the pool. */
unsigned mxc__resolver_n_socks(const struct mxc_resolver *r);

#endif
