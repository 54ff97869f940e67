/**
 * \file
 * The asynchronous, pipelined DNS stub resolver.
 *
 * It sends recursive queries (RD=1, EDNS0 with a 1232-byte buffer and the DO
 * bit) to one or more upstream recursive resolvers from a pool of UDP sockets
 * with random source ports and random IDs, many queries in flight on each
 * socket. Answers are matched strictly on (socket, ID, upstream address and
 * port, question); anything else is dropped and counted. A truncated answer is
 * asked again over TCP. Timeouts are retried with exponential backoff,
 * rotating over the upstreams. Each upstream has caps on queries per second
 * and on queries in flight; queries over the caps wait in a queue.
 *
 * Answers are cached by (name, type) for their TTL (capped), and identical
 * questions in flight are sent once: every waiter gets the same answer. This
 * is where the speed of a census comes from: a mail host shared by 100,000
 * domains is asked about once.
 *
 * ldns is used for the wire format only; never its blocking resolver.
 * Everything runs on the caller's libuv loop; nothing blocks.
 */
#ifndef MXC_RESOLVER_H
#define MXC_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ldns/ldns.h>
#include <uv.h>

/** Outcome of one question. */
enum mxc_dns_status {
	MXC_DNS_ANSWER = 0,  /**< a matching response arrived; see rcode */
	MXC_DNS_TIMEOUT,     /**< no usable response after every retry */
	MXC_DNS_ERROR,       /**< only malformed/garbage responses, or a local error */
	MXC_DNS_CANCELED,    /**< the resolver was closed first */
};

/** Names of enum mxc_dns_status values ("answer", "timeout", ...). */
const char *mxc_dns_status_name(enum mxc_dns_status s);

struct mxc__lazy_pkt;

/**
 * What a query callback receives. Everything it points to is owned by the
 * resolver and valid only during the callback: copy what you keep.
 *
 * The resolver checks the header and matches the question section byte for
 * byte itself; it parses the whole message with ldns only when it must (to
 * cache it, for the TTL) or when a callback asks with mxc_dns_answer_pkt().
 * A census keeps most answers only as raw evidence, and a full parse is most
 * of the cost of an answer, so answers nobody reads are never parsed.
 */
struct mxc_dns_answer {
	enum mxc_dns_status status;
	uint8_t rcode;           /**< header RCODE when status == MXC_DNS_ANSWER */
	const uint8_t *wire;     /**< the response in wire format (NULL unless ANSWER) */
	size_t wire_len;
	bool from_cache;         /**< served from the TTL cache */
	bool truncated_retry;    /**< this answer came over TCP after TC=1 */
	const char *server;      /**< "addr:port" of the upstream that answered, or NULL */
	struct mxc__lazy_pkt *lazy; /**< private: the parse, shared by every waiter */
};

/**
 * The response parsed by ldns, parsed on the first call and shared by every
 * callback of the same answer.
 * @return the packet, valid only during the callback; NULL when the status
 *         is not MXC_DNS_ANSWER or when the message does not parse (a
 *         malformed body after a well-formed header and question)
 */
const ldns_pkt *mxc_dns_answer_pkt(const struct mxc_dns_answer *a);

/*
 * Reading an answer straight from the wire. A census reads a few fields of
 * most answers (the MX targets, a count of addresses) and keeps the rest only
 * as raw evidence; building an ldns_pkt for that costs several allocations
 * per record. These helpers walk the message in place, checking every length
 * against the end of the message, and decompress names with a bound on the
 * number of compression pointers, so a hostile message costs bounded time.
 */

/** Longest domain name in wire format (RFC 1035 section 2.3.4). */
#define MXC_DNS_NAME_WIRE_MAX 255

/** One resource record of a message, as offsets into the message. */
struct mxc_dns_rr {
	size_t owner;     /**< offset of the owner name (possibly compressed) */
	size_t rdata;     /**< offset of the RDATA */
	uint32_t ttl;
	uint16_t type;
	uint16_t rclass;
	uint16_t rdlen;
	uint8_t section;  /**< 1 answer, 2 authority, 3 additional */
};

/** A cursor over the records of a message; see mxc_dns_walk_init(). */
struct mxc_dns_walk {
	const uint8_t *msg;
	size_t len;
	size_t pos;        /**< offset of the next record */
	uint16_t left[3];  /**< records left in answer, authority, additional */
	uint8_t section;   /**< index into left of the current section */
};

/**
 * Start walking the records of @p msg: checks the header and steps over the
 * question section.
 * @param w the cursor; @p msg must outlive it
 * @return 0, or MXC_EPARSE if the header or a question does not fit
 */
int mxc_dns_walk_init(struct mxc_dns_walk *w, const uint8_t *msg, size_t len);

/**
 * The next record, in message order (answer, authority, additional).
 * @param rr filled when 1 is returned
 * @return 1 for a record, 0 at the end of the message, MXC_EPARSE when the
 *         owner name is malformed or the record runs past the message's end
 */
int mxc_dns_walk_next(struct mxc_dns_walk *w, struct mxc_dns_rr *rr);

/**
 * Check that every record of @p msg is well formed (names, lengths).
 * @return 0 or MXC_EPARSE
 */
int mxc_dns_msg_check(const uint8_t *msg, size_t len);

/**
 * Read the name at @p pos of @p msg, following compression pointers (at
 * most 128, each to an earlier or later offset inside the message).
 * @param out the name, uncompressed and lower-cased (A-Z only), at least
 *        MXC_DNS_NAME_WIRE_MAX bytes
 * @param out_len its length, the root label included
 * @param end if not NULL, the offset just past the name where it sits at
 *        @p pos (past the first pointer when it is compressed)
 * @return 0, or MXC_EPARSE (runs past the message, label type 01 or 10,
 *         longer than 255 bytes, too many pointers)
 */
int mxc_dns_name_read(const uint8_t *msg, size_t len, size_t pos, uint8_t *out,
		      size_t *out_len, size_t *end);

/** Rules for mxc_dns_name_parse. */
enum {
	/** No compression pointer at all (an RRSIG's signer name). */
	MXC_DNS_NAME_NO_PTR = 1u << 0,
	/**
	 * Pointers only past the header and before the labels they end, as
	 * ldns_wire2dname takes them (so each hop goes backwards and the walk
	 * ends), with no cap on their number; without it, at most 128 pointers
	 * to anywhere in the message.
	 */
	MXC_DNS_NAME_BACK_PTR = 1u << 1,
};

/**
 * mxc_dns_name_read under the rules of @p flags (MXC_DNS_NAME_*; 0 gives
 * mxc_dns_name_read's), also counting the labels.
 * @param labels if not NULL, the name's labels, the root not counted
 * @return 0 or MXC_EPARSE
 */
int mxc_dns_name_parse(const uint8_t *msg, size_t len, size_t pos, unsigned flags,
		       uint8_t *out, size_t *out_len, unsigned *labels, size_t *end);

/**
 * Presentation format of an uncompressed wire name, as scans store names:
 * lower case, no trailing dot, "" for the root. Bytes are escaped as ldns
 * prints them (`\.`, `\;`, `\(`, `\)`, `\\`, and `\DDD` for anything that
 * is not printable ASCII), so the result equals ldns_rdf2str's lower-cased
 * without its final dot.
 * @param out NUL-terminated on success
 * @param outlen size of @p out
 * @return 0, MXC_ENAME (malformed name) or MXC_ETOOBIG (does not fit)
 */
int mxc_dns_name_str(const uint8_t *name, size_t len, char *out, size_t outlen);

/**
 * Query callback. Called exactly once per successful mxc_resolver_query(),
 * always from the loop (never from inside mxc_resolver_query itself, even for
 * cache hits).
 */
typedef void (*mxc_dns_cb)(void *arg, const struct mxc_dns_answer *ans);

/** One upstream recursive resolver. */
struct mxc_upstream_cfg {
	struct sockaddr_storage addr; /**< IPv4 or IPv6 address with port */
	socklen_t addrlen;
};

/** Resolver settings; mxc_resolver_opts_default() fills sensible values. */
struct mxc_resolver_opts {
	struct mxc_upstream_cfg *upstreams; /**< copied by mxc_resolver_new */
	size_t n_upstreams;
	unsigned qps;               /**< per upstream queries/second cap; 0 = none */
	unsigned max_inflight;      /**< per upstream cap on queries in flight */
	unsigned n_sockets;         /**< UDP sockets per address family */
	unsigned timeout_ms;        /**< first attempt timeout; doubles per retry */
	unsigned retries;           /**< retries after the first attempt */
	unsigned tcp_timeout_ms;    /**< whole TCP exchange */
	size_t cache_entries;       /**< max cached answers (LRU); 0 disables the cache */
	uint32_t cache_max_ttl;     /**< cap on positive TTLs, seconds */
	uint32_t cache_neg_ttl;     /**< cap on negative (NXDOMAIN/NODATA) TTLs, seconds */
	uint32_t cache_servfail_ttl;/**< how long SERVFAIL is remembered; 0 = not cached */
	bool udp_recvmmsg;          /**< read UDP in recvmmsg batches (libuv UV_UDP_RECVMMSG) */
	/**
	 * Set CD (checking disabled) in every query: a validating upstream then
	 * hands over the data it would judge bogus, and our own validator
	 * (validator.h) judges it. Without it a bogus answer is a SERVFAIL.
	 */
	bool checking_disabled;
};

/** Fill @p o with defaults (no upstreams). */
void mxc_resolver_opts_default(struct mxc_resolver_opts *o);

/**
 * Parse "ADDR", "ADDR:PORT", "[V6]:PORT" or a bare IPv6 address; the port
 * defaults to 53.
 * @return 0 or MXC_EINVAL
 */
int mxc_upstream_parse(const char *s, struct mxc_upstream_cfg *out);

/**
 * Read the nameserver lines of a resolv.conf file.
 * @param path usually "/etc/resolv.conf"
 * @param out array of at least @p max entries
 * @param n set to the number found
 * @return 0 (n may be 0), or -errno if the file cannot be read
 */
int mxc_upstreams_from_resolv_conf(const char *path, struct mxc_upstream_cfg *out,
				   size_t max, size_t *n);

/** Format an upstream as "1.2.3.4:53" or "[::1]:53" into buf (>= 64 bytes). */
void mxc_upstream_format(const struct mxc_upstream_cfg *u, char *buf, size_t len);

/** Counters, for progress lines, the run record and the benchmark. */
struct mxc_resolver_stats {
	uint64_t queries;        /**< mxc_resolver_query calls accepted */
	uint64_t cache_hits;
	uint64_t coalesced;      /**< joined an identical question in flight */
	uint64_t sent;           /**< UDP datagrams sent (first tries and retries) */
	uint64_t retries;        /**< re-sends after a timeout */
	uint64_t timeouts;       /**< attempts that timed out */
	uint64_t gave_up;        /**< questions answered MXC_DNS_TIMEOUT */
	uint64_t answers;        /**< matched responses accepted */
	uint64_t tcp;            /**< TCP exchanges after truncation */
	uint64_t unmatched;      /**< responses with unknown ID/port/source: dropped */
	uint64_t mismatched;     /**< right ID but wrong question: dropped */
	uint64_t malformed;      /**< responses ldns could not parse: dropped */
	uint64_t inflight;       /**< questions on the wire now */
	uint64_t queued;         /**< questions waiting for an upstream's caps */
};

struct mxc_resolver;

/**
 * Create a resolver on @p loop. Its UDP sockets do not keep the loop alive
 * by themselves: uv_run() returns once nothing is pending.
 * @param loop the loop everything runs on
 * @param opts settings; the upstreams are copied
 * @param out the new resolver; close it with mxc_resolver_close()
 * @return 0, MXC_EINVAL (no upstreams, bad option), MXC_ENOMEM or -errno
 *         (a socket could not be opened; handles already opened are closed
 *         and freed when the loop next runs)
 */
int mxc_resolver_new(uv_loop_t *loop, const struct mxc_resolver_opts *opts,
		     struct mxc_resolver **out);

/**
 * Ask @p type for @p name (presentation format, absolute or not; case is
 * ignored for caching and matching).
 * @return 0 and @p cb will be called once; or a negative MXC_E* and @p cb is
 *         never called.
 */
int mxc_resolver_query(struct mxc_resolver *r, const char *name, uint16_t type,
		       mxc_dns_cb cb, void *arg);

/** Flags of mxc_resolver_query_flags(). */
enum {
	/**
	 * Do not keep the answer in the TTL cache: the caller knows nobody will
	 * ask again during its lifetime (a domain's own records in a census,
	 * each domain being scanned once). Saves the copy and the eviction it
	 * would cost. Identical questions in flight are still coalesced; if any
	 * of their askers did not pass the flag, the answer is cached.
	 */
	MXC_DNS_NOCACHE = 1u << 0,
	/**
	 * Jump the queue: when an upstream's caps hold questions back, this
	 * one waits at the head rather than the tail. For questions many others
	 * wait on (a mail host that a thousand domains share), so that a rate
	 * cap does not hold every one of those domains for the whole backlog.
	 */
	MXC_DNS_PRIORITY = 1u << 1,
	/**
	 * The caller knows nobody asks this question while it is in flight
	 * and nobody will ask it again (a domain's own records in a census,
	 * each domain scanned once): it is neither looked up in nor added to
	 * the cache or the table of questions in flight, which saves two hash
	 * lookups and an insertion per question. Implies MXC_DNS_NOCACHE. Two
	 * identical questions that both carry it are simply both sent.
	 */
	MXC_DNS_UNIQUE = 1u << 2,
};

/**
 * mxc_resolver_query() with flags (MXC_DNS_*).
 * @return as mxc_resolver_query()
 */
int mxc_resolver_query_flags(struct mxc_resolver *r, const char *name, uint16_t type,
			     unsigned flags, mxc_dns_cb cb, void *arg);

/** Copy the counters. */
void mxc_resolver_get_stats(const struct mxc_resolver *r, struct mxc_resolver_stats *st);

/**
 * Close: every pending callback is called with MXC_DNS_CANCELED, then the
 * handles are closed; the memory is freed once the loop has run their close
 * callbacks (run the loop until it stops). Safe to call once.
 */
void mxc_resolver_close(struct mxc_resolver *r);

#endif
