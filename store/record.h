/**
 * \file
 * The records the store keeps, and their binary encoding.
 *
 * A record is what one domain (or one mail host) looked like during a run:
 * the derived facts the exports need and the raw DNS answers (with their
 * RRSIGs and denial proofs) that later stages, such as the DNSSEC validator,
 * read again. Every encoded record starts with a schema version so that a
 * newer build can read an older store, and refuses a store it does not know.
 *
 * Encoding: version (u16), then a sequence of tagged fields (u8 tag, u32
 * length, bytes), integers big-endian, closed by an empty field with tag 0 so
 * that truncation is always detected. Unknown tags are skipped, so fields can
 * be added without a schema bump. A list is one field per element. The
 * decoder treats its input as hostile: it is fuzzed. store/README.md has the
 * table of tags.
 */
#ifndef MXC_STORE_RECORD_H
#define MXC_STORE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define MXC_RECORD_SCHEMA 1

/*
 * Bounds the decoder enforces (and the encoder refuses to exceed), so that a
 * corrupt or hostile record can never make a reader allocate without limit.
 */
#define MXC_RECORD_NAME_MAX 253     /**< domain, host and qname length */
#define MXC_RECORD_RUN_ID_MAX 39    /**< fits struct mxc_run_info.run_id */
#define MXC_RECORD_MX_MAX 1024      /**< MX hosts per domain */
#define MXC_RECORD_RAW_MAX 1024     /**< raw answers per record */
#define MXC_RECORD_ADDR_MAX 1024    /**< addresses per host */
#define MXC_RECORD_WIRE_MAX 65535   /**< bytes of one DNS message */

#define MXC_RECORD_PROBE_MAX 1024   /**< probe results per host */
#define MXC_RECORD_BLOB_MAX (1u << 20) /**< bytes of one opaque result */

/**
 * An opaque result kept in a record: the probes encode and decode their own
 * (probes/smtp_rec.h, probes/sts_rec.h), so that the store need not know
 * every field a probe learns, and a probe can grow fields without a new
 * record schema.
 */
struct mxc_blob {
	uint8_t *data;
	uint32_t len;  /**< 0 = absent */
};

/** The design's mx_status column. */
enum mxc_mx_status {
	MXC_MX_OK = 0,   /**< one or more MX hosts */
	MXC_MX_NULL,     /**< RFC 7505 null MX: the domain accepts no mail */
	MXC_MX_IMPLICIT, /**< no MX, but an address: RFC 5321 implicit MX */
	MXC_MX_NO_MAIL,  /**< no MX and no address */
	MXC_MX_NXDOMAIN,
	MXC_MX_SERVFAIL, /**< SERVFAIL, REFUSED or another error rcode, or garbage */
	MXC_MX_TIMEOUT,
	MXC_MX__COUNT
};

/**
 * Name of an mx_status for exports and logs.
 * @param s a status; values this build does not know (a newer writer) are
 *          not an error
 * @return "ok", "null-mx", "implicit", "no-mail", "nxdomain", "servfail",
 *         "timeout", or "unknown"; a static string
 */
const char *mxc_mx_status_name(enum mxc_mx_status s);

/** One MX host of a domain. */
struct mxc_mx {
	uint16_t pref;
	char *host; /**< lower case, no trailing dot */
};

/** One DNS answer as received, kept for later analysis. */
struct mxc_raw_answer {
	char *qname;       /**< lower case, no trailing dot */
	uint16_t qtype;
	uint8_t status;    /**< enum mxc_dns_status */
	uint8_t rcode;
	uint8_t *wire;     /**< response in wire format (may be NULL, len 0) */
	uint32_t wire_len;
	uint8_t dnssec;        /**< enum mxc_dnssec (resolver/validator.h); 0 = not judged */
	uint8_t dnssec_reason; /**< enum mxc_dnssec_reason */
};

/** Domain record flags. */
enum {
	MXC_DOM_NULL_MX_MIXED = 1u << 0, /**< a null MX beside other MX records */
	MXC_DOM_MX_TRUNCATED = 1u << 1,  /**< more MX hosts than we follow */
	MXC_DOM_CNAME = 1u << 2,         /**< the MX answer went through a CNAME */
};

/** What a domain looked like. */
struct mxc_domain_rec {
	char *domain;        /**< A-label, lower case, no trailing dot */
	char *run_id;
	int64_t scanned_at;  /**< UNIX seconds */
	uint64_t rank;       /**< from rank,domain CSV input; 0 if none */
	uint8_t mx_status;   /**< enum mxc_mx_status */
	uint32_t flags;      /**< MXC_DOM_* */
	uint32_t n_mx;
	struct mxc_mx *mx;   /**< sorted by preference, then name */
	uint32_t n_raw;
	struct mxc_raw_answer *raw; /**< MX, TXT apex, _dmarc, _mta-sts, _smtp._tls, ... */
	struct mxc_blob sts;        /**< the MTA-STS policy fetch (probes/sts_rec.h) */
};

/** One address of a mail host. */
struct mxc_addr {
	uint8_t family;      /**< 4 or 6 */
	uint8_t addr[16];    /**< network byte order; 4 bytes used for IPv4 */
};

/** What a mail host looked like (its name's addresses and TLSA records). */
struct mxc_host_rec {
	char *host;          /**< lower case, no trailing dot */
	char *run_id;
	int64_t resolved_at; /**< UNIX seconds */
	uint32_t n_addr;
	struct mxc_addr *addrs;
	uint32_t n_raw;
	struct mxc_raw_answer *raw; /**< A, AAAA, TLSA _25._tcp.<host> */
	uint32_t n_probe;
	struct mxc_blob *probe;     /**< SMTP probe results, one per address (probes/smtp_rec.h) */
};

/**
 * Encode a domain record, appending to @p out. On failure @p out is left as
 * it was. A NULL run_id is written as the empty string.
 * @param r the record; domain must be a non-empty name
 * @param out buffer appended to
 * @return 0, MXC_EINVAL (no domain, or an address family other than 4/6),
 *         MXC_ETOOBIG (a name, list or wire message beyond the MXC_RECORD_*
 *         bounds, or @p out's limit), or MXC_ENOMEM
 */
int mxc_domain_rec_encode(const struct mxc_domain_rec *r, struct mxc_buf *out);

/**
 * Decode a domain record.
 * @param data encoded bytes, untrusted
 * @param len their length
 * @param out on success a new record in one allocation; free with mxc_free()
 * @return 0, MXC_ESCHEMA (unknown version), MXC_ECORRUPT or MXC_ENOMEM
 */
int mxc_domain_rec_decode(const uint8_t *data, size_t len, struct mxc_domain_rec **out);

/**
 * Encode a host record, appending to @p out (same rules as the domain one).
 * @return 0, MXC_EINVAL, MXC_ETOOBIG or MXC_ENOMEM
 */
int mxc_host_rec_encode(const struct mxc_host_rec *r, struct mxc_buf *out);

/**
 * Decode a host record.
 * @param out on success a new record in one allocation; free with mxc_free()
 * @return 0, MXC_ESCHEMA, MXC_ECORRUPT or MXC_ENOMEM
 */
int mxc_host_rec_decode(const uint8_t *data, size_t len, struct mxc_host_rec **out);

/**
 * Field-by-field equality, for tests, the fuzzer and merges. A NULL string
 * equals "" and a NULL wire equals an empty one, as after a round trip.
 * @return true when the records encode the same facts
 */
bool mxc_domain_rec_equal(const struct mxc_domain_rec *a, const struct mxc_domain_rec *b);
/** Host record equality, as mxc_domain_rec_equal(). */
bool mxc_host_rec_equal(const struct mxc_host_rec *a, const struct mxc_host_rec *b);

#endif
