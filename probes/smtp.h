/**
 * \file
 * The SMTP STARTTLS probe of one mail host: one (MX name, address, port).
 *
 * It does what a sending MTA does up to the point where mail would flow,
 * and stops there: connect, read the banner, EHLO, STARTTLS, the TLS
 * handshake with SNI = the MX name, then QUIT. No mail is ever sent. From
 * what the server said and presented it records every host column of the
 * design's `export --what hosts`: status, banner, STARTTLS offer and
 * stripping evidence, TLS version and cipher, the leaf certificate's facts,
 * the PKIX verdict (chain and name, separately), and the DANE verdict under
 * RFC 7672 when TLSA records were given.
 *
 * A server that refuses, stalls, drips or floods is a finding: the probe
 * ends with a status, never an MXC_E* error, and every step has a deadline
 * and a byte cap, so a hostile server costs bounded time and memory.
 *
 * Many probes share one context (the SSL_CTX with its trust store, the
 * options and the counters); each probe is independent and reports once,
 * through its callback, after all its handles have closed.
 */
#ifndef MXC_PROBES_SMTP_H
#define MXC_PROBES_SMTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

/** The default EHLO name: it says who scans and where to ask. */
#define MXC_SMTP_DEFAULT_EHLO "mxcensus-research.invalid"

/** Host status, the `status` column. */
enum mxc_smtp_status {
	MXC_SMTP_OK = 0,              /**< TLS handshake completed */
	MXC_SMTP_CONNECT_FAILED,      /**< refused, unreachable, reset at once */
	MXC_SMTP_TIMEOUT,             /**< some step ran past its deadline */
	MXC_SMTP_BANNER_ERROR,        /**< no usable 220 greeting */
	MXC_SMTP_NO_STARTTLS,         /**< EHLO did not offer STARTTLS */
	MXC_SMTP_STARTTLS_REJECTED,   /**< STARTTLS answered other than 220 */
	MXC_SMTP_TLS_FAILED,          /**< the handshake failed */
	/** Never probed: the host or address is on the blocklist (set by the
	 *  scanner, which consults it before any packet is sent). */
	MXC_SMTP_BLOCKED,
};

/** DANE verdict of the host, the `dane_result` column. */
enum mxc_dane_result {
	MXC_DANE_NONE = 0,    /**< no TLSA records, or none usable for SMTP */
	MXC_DANE_MATCH_EE,    /**< a DANE-EE(3) record matched the leaf */
	MXC_DANE_MATCH_TA,    /**< a DANE-TA(2) record matched, chain and name ok */
	MXC_DANE_MISMATCH,    /**< usable secure records, none matched (or no TLS) */
	MXC_DANE_NOT_DNSSEC,  /**< records exist but are not DNSSEC-secure */
};

/** Stripping evidence bits, the `stripping_evidence` column. */
enum mxc_smtp_strip {
	MXC_STRIP_EHLO = 1u << 0,      /**< STARTTLS overwritten in EHLO */
	MXC_STRIP_454 = 1u << 1,       /**< STARTTLS answered 454 */
	MXC_STRIP_DROPPED = 1u << 2,   /**< connection dropped at STARTTLS */
};

/** One TLSA record of `_25._tcp.<mx>`. */
struct mxc_tlsa {
	uint8_t usage;        /**< 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE */
	uint8_t selector;     /**< 0 full certificate, 1 SubjectPublicKeyInfo */
	uint8_t mtype;        /**< 0 exact, 1 SHA-256, 2 SHA-512 */
	const uint8_t *data;  /**< association data (the caller's) */
	size_t len;           /**< its length */
};

/** Most TLSA records considered per host; more are ignored (counted). */
#define MXC_SMTP_TLSA_MAX 32

/** What to probe. Copied by mxc_smtp_probe_start(); nothing is kept. */
struct mxc_smtp_target {
	const char *mx;                 /**< MX host name, A-label, no final dot */
	const struct sockaddr *addr;    /**< IPv4 or IPv6 address with port */
	const struct mxc_tlsa *tlsa;    /**< TLSA RRset of _25._tcp.<mx>, or NULL */
	size_t ntlsa;                   /**< records in @p tlsa */
	int tlsa_secure;                /**< 1 when that RRset validated (DNSSEC) */
};

/** Options shared by every probe of a context. */
struct mxc_smtp_opts {
	const char *ehlo_name;        /**< NULL: MXC_SMTP_DEFAULT_EHLO */
	const char *ca_file;          /**< PEM trust anchors replacing the system store */
	uint64_t connect_timeout_ms;  /**< 0: default 10 s */
	uint64_t banner_timeout_ms;   /**< whole banner; 0: default 30 s */
	uint64_t command_timeout_ms;  /**< each EHLO/STARTTLS reply; 0: 20 s */
	uint64_t tls_timeout_ms;      /**< the handshake; 0: default 20 s */
	uint64_t quit_timeout_ms;     /**< the 221 to QUIT; 0: default 3 s */
	size_t max_reply_bytes;       /**< one reply; 0: default 16 KiB */
	size_t max_tls_bytes;         /**< ciphertext per session; 0: 256 KiB */
	/** Slots of the chain verdict cache (rounded up to a power of two);
	 *  0: default 8192 (64 bytes each). See mxc_smtp_ctx_new(). */
	size_t chain_cache_slots;
	int chain_cache_off;          /**< 1: verify every chain (benchmarks) */
};

/** Field sizes of struct mxc_smtp_result (including the final NUL). */
#define MXC_SMTP_BANNER_LEN 256
#define MXC_SMTP_ISSUER_LEN 256
#define MXC_SMTP_NAMES_LEN 1024
#define MXC_SMTP_TLSA_TEXT_LEN 2048
#define MXC_SMTP_DETAIL_LEN 160

/**
 * What one probe found: the host columns of `export --what hosts`. Every
 * string is NUL-terminated, printable ASCII, and empty when not known.
 */
struct mxc_smtp_result {
	char mx_host[256];             /**< the MX name probed */
	char ip[46];                   /**< the address, text form */
	uint16_t port;                 /**< the port */
	enum mxc_smtp_status status;   /**< how far the conversation got */
	char detail[MXC_SMTP_DETAIL_LEN]; /**< why, when status is not ok */
	char banner[MXC_SMTP_BANNER_LEN]; /**< first banner line, after the code */
	int banner_code;               /**< the banner's reply code, 0 if none */
	int starttls_offered;          /**< EHLO listed STARTTLS */
	unsigned ehlo_ext;             /**< enum mxc_ehlo_ext bits */
	unsigned stripping;            /**< enum mxc_smtp_strip bits */
	char stripped_keyword[33];     /**< the mangled EHLO keyword, if any */
	char tls_version[16];          /**< "TLSv1.3", ... */
	char cipher[64];               /**< OpenSSL cipher name */
	char cert_sha256[65];          /**< leaf DER, hex */
	char spki_sha256[65];          /**< leaf SubjectPublicKeyInfo, hex */
	char issuer[MXC_SMTP_ISSUER_LEN]; /**< RFC 2253 issuer of the leaf */
	char not_before[21];           /**< RFC 3339 UTC */
	char not_after[21];            /**< RFC 3339 UTC */
	char cert_names[MXC_SMTP_NAMES_LEN]; /**< SAN DNS names, else CN; ';' */
	int chain_valid;               /**< PKIX chain to a trust anchor */
	int name_valid;                /**< leaf valid for the MX name (RFC 6125) */
	int pkix_valid;                /**< chain_valid && name_valid */
	char pkix_error[128];          /**< chain error, or "name-mismatch" */
	char tlsa_records[MXC_SMTP_TLSA_TEXT_LEN]; /**< "u s m hex" joined by ';' */
	int tlsa_dnssec;               /**< the TLSA RRset was secure */
	enum mxc_dane_result dane;     /**< DANE verdict */
	char dane_detail[128];         /**< matched record, or why not */
	int64_t probed_at;             /**< wall clock at the start, UNIX time */
	uint64_t elapsed_ms;           /**< how long the probe took */
	uint64_t bytes_in;             /**< bytes received, all layers */
};

struct mxc_smtp_ctx;
struct mxc_smtp_probe;

/**
 * Called once per probe, after the probe's handles have closed.
 * @param res the result; valid during the call only (copy what you keep)
 * @param arg the argument given to mxc_smtp_probe_start()
 */
typedef void (*mxc_smtp_cb)(const struct mxc_smtp_result *res, void *arg);

/** Counters of a context. */
struct mxc_smtp_stats {
	uint64_t started;      /**< probes started */
	uint64_t finished;     /**< probes whose callback ran */
	uint64_t in_flight;    /**< started and not finished */
	uint64_t peak_in_flight;
	uint64_t chain_cache_hits;    /**< PKIX chain verdicts taken from the cache */
	uint64_t chain_cache_misses;  /**< chains verified (cache on or off) */
};

/**
 * Create a context: the SSL_CTX (TLS 1.0 and up, every cipher a sending MTA
 * might settle for, DANE enabled) with the system trust store or @p
 * opts->ca_file.
 *
 * The context keeps a cache of PKIX chain verdicts for its lifetime (one
 * run): large providers present one chain on hundreds of addresses, and
 * verifying it is most of a probe's cost after the handshake itself. The
 * key is the SHA-256 of the SHA-256 digests of every certificate the server
 * presented, in order; the trust store is the context's own and never
 * changes, so it needs no place in the key. The MX name has none either:
 * the chain is verified without a host name, and the name check against
 * the MX name runs on every probe. A verdict is reused only while the clock
 * stays between the same two validity dates of the chain's certificates,
 * so a certificate that expires during a run is judged expired from then
 * on. Memory is fixed: a direct-mapped table whose colliding entries
 * replace each other.
 * @param loop the loop every probe runs on
 * @param opts options; strings are copied
 * @param out the new context; caller frees with mxc_smtp_ctx_free()
 * @return 0, MXC_ENOMEM, or MXC_EINVAL when the CA file cannot be loaded or
 *         the EHLO name is not a valid domain or address literal (logged
 *         with the file name)
 */
int mxc_smtp_ctx_new(uv_loop_t *loop, const struct mxc_smtp_opts *opts,
		     struct mxc_smtp_ctx **out);

/**
 * Free a context. No probe may be in flight.
 */
void mxc_smtp_ctx_free(struct mxc_smtp_ctx *ctx);

/**
 * End every probe in flight now (a scan stopping on a signal): each
 * finishes as a timeout with detail "canceled", and its callback runs once
 * its handles have closed, as always.
 */
void mxc_smtp_ctx_cancel(struct mxc_smtp_ctx *ctx);

/** Read the counters of a context. */
void mxc_smtp_ctx_stats(const struct mxc_smtp_ctx *ctx, struct mxc_smtp_stats *out);

/**
 * Start probing one host. On success @p cb is called exactly once, never
 * from inside this call; on failure it is never called.
 * @param ctx the shared context
 * @param target what to probe (copied)
 * @param cb completion callback
 * @param arg passed to @p cb
 * @return 0, MXC_EINVAL (bad target: no name, not IPv4/IPv6), MXC_ENOMEM,
 *         or -errno from libuv when no socket could be made
 */
int mxc_smtp_probe_start(struct mxc_smtp_ctx *ctx, const struct mxc_smtp_target *target,
			 mxc_smtp_cb cb, void *arg);

/** Column value of a status ("ok", "connect-failed", ...). */
const char *mxc_smtp_status_name(enum mxc_smtp_status s);

/** Column value of a DANE result ("match-ee", ...). */
const char *mxc_dane_result_name(enum mxc_dane_result d);

/**
 * The stripping_evidence column: the set bits' names joined by ';'
 * ("ehlo-stripped", "starttls-454", "starttls-dropped"), "" for none.
 * @param bits enum mxc_smtp_strip bits
 * @param buf output
 * @param cap its size (64 is always enough)
 */
void mxc_smtp_strip_names(unsigned bits, char *buf, size_t cap);

/**
 * Bytes of memory one probe holds while in flight, not counting what
 * OpenSSL allocates for a session (which the probe cannot see).
 */
size_t mxc_smtp_probe_size(void);

#endif
