/**
 * \file
 * The MTA-STS policy fetcher (RFC 8461 section 3.3) and the MX verdict that
 * a fetched policy gives (section 4.1).
 *
 * A fetch is `GET https://mta-sts.<domain>/.well-known/mta-sts.txt` made by
 * libcurl's multi-socket interface on the scanner's libuv loop: curl tells
 * us which sockets to watch and when to wake it, libuv does the waiting.
 * The connection goes only to the addresses the caller's own resolver found
 * (curl never resolves a name itself), the certificate must be PKIX-valid
 * for `mta-sts.<domain>`, only an HTTP 200 with a `text/plain` body of at
 * most 64 KiB counts, redirects are not followed, and the whole fetch has
 * one deadline. A server that misbehaves is a finding, reported by an
 * error kind (`connect`, `timeout`, `tls-pkix`, `tls-name`, `http-404`,
 * ...), never an MXC_E* failure.
 *
 * At most `max_inflight` transfers run at once; further fetches wait in
 * FIFO order and their deadline starts when their transfer does. Results
 * are always delivered from the loop, never from inside
 * mxc_sts_fetch_start().
 */
#ifndef MXC_PROBES_STS_FETCH_H
#define MXC_PROBES_STS_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "probes/sts_policy.h"

/** Default HTTPS port of the policy host. */
#define MXC_STS_FETCH_PORT 443
/** Default deadline of one whole fetch (connect to last byte), ms. */
#define MXC_STS_FETCH_TIMEOUT_MS 30000u
/** Default cap on transfers in flight at once. */
#define MXC_STS_FETCH_INFLIGHT 64u
/** Most addresses of one policy host that are tried. */
#define MXC_STS_FETCH_MAX_ADDRS 8
/** Cap on the response header bytes of one fetch. */
#define MXC_STS_FETCH_HEADER_MAX (32 * 1024)

/** How a fetch ended. Everything but OK and SYNTAX is a fetch error. */
enum mxc_sts_ferr {
	MXC_STS_FETCH_OK = 0,       /**< 200, text/plain, valid policy */
	MXC_STS_FETCH_DNS,          /**< no address for the policy host */
	MXC_STS_FETCH_CONNECT,      /**< no TCP connection to any address */
	MXC_STS_FETCH_TIMEOUT,      /**< the deadline passed */
	MXC_STS_FETCH_TLS,          /**< TLS handshake failed (not verification) */
	MXC_STS_FETCH_TLS_PKIX,     /**< chain not valid against the trust store */
	MXC_STS_FETCH_TLS_NAME,     /**< valid chain, not for mta-sts.<domain> */
	MXC_STS_FETCH_HTTP,         /**< a status other than 200 and 3xx */
	MXC_STS_FETCH_REDIRECT,     /**< a 3xx status (never followed) */
	MXC_STS_FETCH_CONTENT_TYPE, /**< media type other than text/plain */
	MXC_STS_FETCH_TOO_LARGE,    /**< body over 64 KiB, or headers over cap */
	MXC_STS_FETCH_PROTOCOL,     /**< the server broke HTTP itself */
	MXC_STS_FETCH_SYNTAX,       /**< fetched, but the policy is invalid */
	MXC_STS_FETCH_CANCELED,     /**< the fetcher was closed first */
	MXC_STS_FETCH_INTERNAL,     /**< our own failure (memory, libcurl setup) */
	MXC_STS_FETCH_BLOCKED,      /**< not fetched: the policy host is blocklisted */
};

/** Options of a fetcher; zero fields take the defaults. */
struct mxc_sts_fetch_opts {
	/** Port of the policy hosts (0: 443). */
	uint16_t port;
	/** PEM file of trust anchors replacing the system store; NULL: system. */
	const char *ca_file;
	/** Deadline of one whole fetch in ms (0: MXC_STS_FETCH_TIMEOUT_MS). */
	uint32_t timeout_ms;
	/** Deadline of the TCP connect in ms (0 or larger: timeout_ms). */
	uint32_t connect_timeout_ms;
	/** Transfers in flight at once (0: MXC_STS_FETCH_INFLIGHT). */
	unsigned max_inflight;
};

/** What one fetch found. Valid only during the callback. */
struct mxc_sts_fetch_result {
	const char *domain;       /**< the policy domain as given */
	enum mxc_sts_ferr error;  /**< the outcome */
	/** Export name of the outcome: "ok", "dns", "connect", "timeout",
	 *  "tls", "tls-pkix", "tls-name", "http-<code>", "redirect",
	 *  "content-type", "too-large", "protocol", "syntax", "canceled",
	 *  "internal". */
	const char *error_name;
	long http_code;           /**< HTTP status, 0 if none was received */
	/** Human detail: curl's message, the media type, the parser's error
	 *  and line; "" when there is nothing to add. */
	const char *detail;
	/** The parsed policy when error is OK or SYNTAX (then policy->error
	 *  names the violation), else NULL. Owned by the fetcher. */
	const struct mxc_sts_policy *policy;
	const uint8_t *body;      /**< the body received (OK/SYNTAX), else NULL */
	size_t body_len;          /**< its length */
	uint64_t elapsed_ms;      /**< transfer start to end */
};

/**
 * Called once per fetch started, from the loop.
 * @param res the result; it and everything it points to live only during
 *        the call
 * @param arg the caller's argument
 */
typedef void (*mxc_sts_fetch_cb)(const struct mxc_sts_fetch_result *res, void *arg);

struct mxc_sts_fetcher;

/**
 * Make a fetcher on @p loop. Calls curl_global_init once per process
 * (not thread-safe: call before starting threads that use libcurl).
 * @param loop the libuv loop it runs on
 * @param opts options, or NULL for all defaults; ca_file is copied
 * @param out the new fetcher; close with mxc_sts_fetcher_close()
 * @return 0, MXC_EINVAL, MXC_ENOMEM, or MXC_EIO when libcurl cannot start
 */
int mxc_sts_fetcher_new(uv_loop_t *loop, const struct mxc_sts_fetch_opts *opts,
			struct mxc_sts_fetcher **out);

/**
 * Fetch the MTA-STS policy of @p domain from the given addresses.
 * @param f the fetcher
 * @param domain the policy domain (A-label, no trailing dot); the host is
 *        mta-sts.<domain>. Copied.
 * @param addrs addresses of mta-sts.<domain> as our resolver found them
 *        (AF_INET/AF_INET6; their ports are ignored); at most
 *        MXC_STS_FETCH_MAX_ADDRS are used, in the order given
 * @param n number of addresses; 0 ends the fetch with MXC_STS_FETCH_DNS
 * @param cb called exactly once with the result, never from this call
 * @param arg passed to cb
 * @return 0 when the fetch is under way (cb will be called); MXC_EINVAL for
 *         a bad argument, MXC_ENAME for a domain that cannot be a host
 *         name, MXC_ENOMEM, MXC_ECANCELED when the fetcher is closing;
 *         cb is not called then
 */
int mxc_sts_fetch_start(struct mxc_sts_fetcher *f, const char *domain,
			const struct sockaddr_storage *addrs, size_t n,
			mxc_sts_fetch_cb cb, void *arg);

/** @return fetches started and not yet called back (queued or running) */
size_t mxc_sts_fetcher_pending(const struct mxc_sts_fetcher *f);

/**
 * Close the fetcher: every fetch not yet called back is called back with
 * MXC_STS_FETCH_CANCELED (from this call), then libcurl and the libuv
 * handles are released; the memory goes when the last handle has closed,
 * so let the loop run afterwards. May be called from a fetch callback.
 * @param f the fetcher; NULL is ignored
 */
void mxc_sts_fetcher_close(struct mxc_sts_fetcher *f);

/**
 * Export name of an outcome without its HTTP code ("http" for
 * MXC_STS_FETCH_HTTP; the result's error_name has "http-<code>").
 * @param e an outcome
 * @return static string; "?" for an unknown value
 */
const char *mxc_sts_ferr_name(enum mxc_sts_ferr e);

/** The `mta_sts_mx_match` verdict. */
enum mxc_sts_mx_match {
	MXC_STS_MX_NA = 0, /**< no usable policy, no MX hosts, or nothing to match */
	MXC_STS_MX_ALL,    /**< every MX host qualifies */
	MXC_STS_MX_SOME,   /**< some do, some do not */
	MXC_STS_MX_NONE,   /**< none does */
};

/** One MX host of the domain as the SMTP probes saw it. */
struct mxc_sts_mx_host {
	const char *name;  /**< the MX host name */
	/** The host presented a certificate with a valid chain for its own
	 *  name; false when invalid, unknown or unreachable. */
	bool pkix_valid;
};

/**
 * Judge the domain's MX hosts against its policy (RFC 8461 section 4.1).
 * In enforce and testing mode a host qualifies when it matches an mx
 * pattern and is PKIX-valid for its own name, because a compliant sender
 * delivers only to such hosts. A policy in mode none is no policy in force
 * and gives n-a, as in the domain export's mta_sts_mx_match column.
 * @param policy the parsed policy; NULL or invalid gives MXC_STS_MX_NA
 * @param hosts the MX hosts (NULL when n is 0)
 * @param n number of hosts; 0 gives MXC_STS_MX_NA
 * @return the verdict
 */
enum mxc_sts_mx_match mxc_sts_mx_match(const struct mxc_sts_policy *policy,
				       const struct mxc_sts_mx_host *hosts, size_t n);

/**
 * Export name of a verdict ("all", "some", "none", "n-a").
 * @param m a verdict
 * @return static string; "?" for an unknown value
 */
const char *mxc_sts_mx_match_name(enum mxc_sts_mx_match m);

#endif
