/**
 * \file
 * Classification: pure functions from one domain's gathered facts (its MX
 * answer, DNSSEC states, MTA-STS and TLS-RPT records, and what the SMTP
 * probe saw on each mail host) to the design's verdict columns and a sorted
 * list of issue codes.
 *
 * The facts are filled by the stages that gathered them (resolver and
 * validator, SMTP/DANE probe, MTA-STS fetcher) and by the wiring that reads
 * stored records; the classifier only reads them. Every enum the facts add
 * starts with an UNKNOWN (or N/A) value at 0, so that a stage that did not
 * run leaves its fields zeroed and the classifier writes empty columns
 * instead of guessing: the columns fill in as the stages come to exist.
 *
 * Nothing here does I/O or allocates. The rules, and the readings taken
 * where the design leaves room, are written down in analysis/CLASSIFY.md;
 * the comments in classify.c point at the same readings.
 */
#ifndef MXC_ANALYSIS_CLASSIFY_H
#define MXC_ANALYSIS_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/sts_policy.h"
#include "probes/txtrec.h"
#include "store/record.h"

/** DNSSEC status of one answer (or of its denial). */
enum mxc_fact_dnssec {
	MXC_FACT_DNSSEC_UNKNOWN = 0,   /**< not validated (the column stays empty) */
	MXC_FACT_DNSSEC_SECURE,        /**< validated to the trust anchor */
	MXC_FACT_DNSSEC_INSECURE,      /**< proven unsigned (or unsupported algorithm) */
	MXC_FACT_DNSSEC_BOGUS,         /**< signed but fails validation */
	MXC_FACT_DNSSEC_INDETERMINATE, /**< could not be decided (lookup failed) */
};

/** DNSSEC state of the `_25._tcp.<host>` TLSA RRset. */
enum mxc_fact_tlsa {
	MXC_FACT_TLSA_UNKNOWN = 0, /**< not looked up, or the lookup failed */
	MXC_FACT_TLSA_NONE,        /**< no TLSA records (NXDOMAIN or NODATA) */
	MXC_FACT_TLSA_SECURE,      /**< records present, DNSSEC secure */
	MXC_FACT_TLSA_INSECURE,    /**< records present, not signed */
	MXC_FACT_TLSA_BOGUS,       /**< the answer (records or denial) is bogus */
};

/** Outcome of the SMTP probe of one (host, address, port). */
enum mxc_fact_host {
	MXC_FACT_HOST_NOT_PROBED = 0,    /**< probes off, or not yet probed */
	MXC_FACT_HOST_NO_ADDRESS,        /**< the MX name has no address */
	MXC_FACT_HOST_OK,                /**< STARTTLS and the TLS handshake done */
	MXC_FACT_HOST_CONNECT_FAILED,    /**< TCP connect refused or unreachable */
	MXC_FACT_HOST_TIMEOUT,           /**< no SMTP session in time */
	MXC_FACT_HOST_BANNER_ERROR,      /**< connected, no usable 220 banner/EHLO */
	MXC_FACT_HOST_NO_STARTTLS,       /**< EHLO did not offer STARTTLS */
	MXC_FACT_HOST_STARTTLS_REJECTED, /**< STARTTLS offered, command refused */
	MXC_FACT_HOST_TLS_FAILED,        /**< the TLS handshake failed */
};

/** What DANE verification (RFC 7672) of the presented chain found. */
enum mxc_fact_dane {
	MXC_FACT_DANE_UNKNOWN = 0, /**< not checked (no handshake, probes off) */
	MXC_FACT_DANE_MATCH_EE,    /**< a DANE-EE(3) record matched the leaf */
	MXC_FACT_DANE_MATCH_TA,    /**< a DANE-TA(2) record matched the chain */
	MXC_FACT_DANE_MISMATCH,    /**< usable records, none matched */
	MXC_FACT_DANE_NONE,        /**< no TLSA records to check */
	MXC_FACT_DANE_NOT_DNSSEC,  /**< records exist but are not secure */
};

/** State of the MTA-STS policy fetch (the `mta_sts_policy` column). */
enum mxc_fact_sts_policy {
	MXC_FACT_STS_POLICY_NA = 0,      /**< not fetched (no valid TXT record) */
	MXC_FACT_STS_POLICY_OK,          /**< fetched and valid */
	MXC_FACT_STS_POLICY_FETCH_ERROR, /**< not fetched: see sts_fetch_error */
	MXC_FACT_STS_POLICY_INVALID,     /**< does not parse: see sts_parse_error */
};

/** Why a policy fetch failed (the `mta_sts_error` column's kinds). */
enum mxc_fact_sts_fetch {
	MXC_FACT_STS_FETCH_OK = 0,       /**< no fetch error */
	MXC_FACT_STS_FETCH_DNS,          /**< mta-sts.<domain> does not resolve */
	MXC_FACT_STS_FETCH_CONNECT,      /**< TCP connect failed */
	MXC_FACT_STS_FETCH_TIMEOUT,      /**< no complete answer in time */
	MXC_FACT_STS_FETCH_TLS_PKIX,     /**< HTTPS chain not trusted or expired */
	MXC_FACT_STS_FETCH_TLS_NAME,     /**< HTTPS certificate not for the name */
	MXC_FACT_STS_FETCH_TLS_OTHER,    /**< TLS handshake failed otherwise */
	MXC_FACT_STS_FETCH_HTTP_STATUS,  /**< not 200: see sts_http_status */
	MXC_FACT_STS_FETCH_REDIRECT,     /**< a 3xx: RFC 8461 forbids following it */
	MXC_FACT_STS_FETCH_CONTENT_TYPE, /**< not text/plain */
	MXC_FACT_STS_FETCH_TOO_LARGE,    /**< body beyond the 64 KiB cap */
	MXC_FACT_STS_FETCH_OTHER,        /**< anything else */
};

/** One TLSA record's parameters (the association data is not needed). */
struct mxc_fact_tlsa_rr {
	uint8_t usage;    /**< certificate usage: 0 PKIX-TA .. 3 DANE-EE */
	uint8_t selector; /**< 0 full certificate, 1 SubjectPublicKeyInfo */
	uint8_t mtype;    /**< matching type: 0 full, 1 SHA-256, 2 SHA-512 */
};

/**
 * What was seen of one mail host at one address. A host name with several
 * addresses appears once per address; a name without an address appears
 * once with status MXC_FACT_HOST_NO_ADDRESS. The strings and the TLSA
 * array are the caller's and are only read during mxc_classify().
 */
struct mxc_host_facts {
	const char *name;             /**< MX host name, A-label, no trailing dot */
	const char *address;          /**< the address probed; NULL or "" if none */
	enum mxc_fact_host status;  /**< how far the SMTP session got */
	bool starttls_offered;        /**< EHLO listed STARTTLS */
	/** EHLO showed signs of STARTTLS removed on the path (e.g. XXXXXXXA). */
	bool stripping_evidence;
	/** Negotiated TLS version as on the wire (0x0303 = TLS 1.2, what
	 *  OpenSSL's SSL_version() returns); 0 when no handshake completed. */
	uint16_t tls_version;
	/** The chain verifies to a trust anchor of the CA store, judged
	 *  without the validity period (that is cert_expired's job), so that
	 *  an expired but otherwise trusted certificate is not also reported
	 *  as untrusted. Meaningful only when status is MXC_FACT_HOST_OK. */
	bool pkix_chain_valid;
	/** The leaf certificate is valid for the MX host name (RFC 6125). */
	bool cert_name_matches;
	/** The leaf certificate's notAfter is before the scan's clock. */
	bool cert_expired;
	enum mxc_fact_tlsa tlsa;             /**< the TLSA RRset's state */
	const struct mxc_fact_tlsa_rr *tlsa_rr;  /**< the records (may be NULL if 0) */
	size_t n_tlsa;                         /**< number of records in tlsa_rr */
	enum mxc_fact_dane dane;             /**< DANE verification result */
	/** DNSSEC status of the host's address RRset: RFC 7672 2.2.2 uses
	 *  TLSA records only when it is secure. */
	enum mxc_fact_dnssec addr_dnssec;
};

/**
 * Everything the classifier needs to know of one domain. All pointers are
 * the caller's and are only read during mxc_classify().
 */
struct mxc_domain_facts {
	/** Outcome of the MX lookup (store/record.h). A value this build
	 *  does not know (a newer writer) leaves every column empty. */
	enum mxc_mx_status mx_status;
	/** A null MX (`MX 0 .`) sits beside other MX records (RFC 7505 3). */
	bool null_mx_with_other;
	/** DNSSEC status of the MX answer, or of its denial. */
	enum mxc_fact_dnssec dnssec;
	/** The validator's reason when not secure ("no-ds", "sig-expired",
	 *  ...); NULL or "" when there is none. Copied into the verdicts. */
	const char *dnssec_reason;

	enum mxc_txtrec_status sts_txt;       /**< `_mta-sts` TXT state */
	const char *sts_id;                   /**< its id when valid, else NULL */
	enum mxc_fact_sts_policy sts_policy; /**< policy fetch state */
	enum mxc_fact_sts_fetch sts_fetch_error; /**< when FETCH_ERROR */
	int sts_http_status;                  /**< the status when HTTP_STATUS */
	enum mxc_sts_perr sts_parse_error;    /**< when INVALID */
	enum mxc_sts_mode sts_mode;           /**< the policy's mode when OK */
	uint32_t sts_max_age;                 /**< the policy's max_age when OK */
	/** The policy's mx patterns when OK, matched here against each host
	 *  name with mxc_sts_mx_matches() (RFC 8461 4.1). */
	const char *const *sts_mx;
	size_t n_sts_mx;                      /**< number of patterns */

	enum mxc_txtrec_status tls_rpt;       /**< `_smtp._tls` TXT state */
	enum mxc_spf_status spf;              /**< SPF presence (context only) */
	enum mxc_dmarc_status dmarc;          /**< DMARC policy (context only) */

	const struct mxc_host_facts *hosts;   /**< mail hosts (may be NULL if 0) */
	size_t n_hosts;                       /**< number of entries in hosts */
};

/** The issue codes, in the byte order of their names (the export's order). */
#define MXC_ISSUE_MAP(XX)                                                       \
	XX(CERTIFICATE_EXPIRED, "certificate-expired", true,                    \
	   "an MX under an MTA-STS policy presents an expired certificate",     \
	   "RFC 8460 4.3.1")                                                    \
	XX(CERTIFICATE_HOST_MISMATCH, "certificate-host-mismatch", true,        \
	   "an MX under an MTA-STS policy presents a certificate not valid "    \
	   "for its name", "RFC 8460 4.3.1")                                    \
	XX(CERTIFICATE_NOT_TRUSTED, "certificate-not-trusted", true,            \
	   "an MX under an MTA-STS policy presents a chain that does not "      \
	   "verify to a trusted CA", "RFC 8460 4.3.1")                          \
	XX(DANE_REQUIRED, "dane-required", true,                                \
	   "some MX hosts have DNSSEC-validated TLSA records and others do "    \
	   "not", "RFC 8460 4.3.2.1, RFC 7672 6")                               \
	XX(DNSSEC_BOGUS, "dnssec-bogus", false,                                 \
	   "the MX, an MX address or a TLSA answer fails DNSSEC validation",    \
	   "RFC 4035 4.3")                                                      \
	XX(DNSSEC_INVALID, "dnssec-invalid", true,                              \
	   "a validating sender gets no valid records (bogus answer)",          \
	   "RFC 8460 4.3.2.1")                                                  \
	XX(MTA_STS_ENFORCE_WITHOUT_TLS_RPT, "mta-sts-enforce-without-tls-rpt",  \
	   false, "MTA-STS enforces but no valid TLS-RPT record collects the "  \
	   "failures", "RFC 8461 5, RFC 8460 3")                                \
	XX(MTA_STS_MX_CERT_INVALID, "mta-sts-mx-cert-invalid", false,           \
	   "MTA-STS enforces and an MX it covers has no PKIX-valid "            \
	   "certificate for its name", "RFC 8461 4.2")                          \
	XX(MTA_STS_MX_MISMATCH, "mta-sts-mx-mismatch", false,                   \
	   "MTA-STS enforces and an MX matches none of the policy's mx "        \
	   "patterns", "RFC 8461 4.1")                                          \
	XX(MTA_STS_POLICY_UNREACHABLE, "mta-sts-policy-unreachable", false,     \
	   "a valid _mta-sts record announces a policy that cannot be "         \
	   "fetched", "RFC 8461 3.3")                                           \
	XX(MTA_STS_TESTING, "mta-sts-testing", false,                           \
	   "the MTA-STS policy is left in testing mode: it protects nothing",   \
	   "RFC 8461 5")                                                        \
	XX(MULTIPLE_MTA_STS_RECORDS, "multiple-mta-sts-records", false,         \
	   "several _mta-sts TXT records: senders assume no policy",            \
	   "RFC 8461 3.1")                                                      \
	XX(MX_CERT_EXPIRED, "mx-cert-expired", false,                           \
	   "an MX presents an expired certificate", "RFC 5280 4.1.2.5")         \
	XX(MX_CERT_NAME_MISMATCH, "mx-cert-name-mismatch", false,               \
	   "an MX presents a certificate not valid for its name",               \
	   "RFC 6125 6")                                                        \
	XX(NULL_MX_WITH_OTHER_MX, "null-mx-with-other-mx", false,               \
	   "a null MX is published beside other MX records", "RFC 7505 3")      \
	XX(SINGLE_TLSA_NO_ROLLOVER, "single-tlsa-no-rollover", false,           \
	   "the TLSA RRset has no rollover scheme (two 3 x x, or 3 x x and "    \
	   "2 x x)", "RFC 7671 8.1, Internet.nl")                               \
	XX(STARTTLS_NOT_SUPPORTED, "starttls-not-supported", true,              \
	   "an MX under a policy does not offer or refuses STARTTLS",           \
	   "RFC 8460 4.3.1")                                                    \
	XX(STARTTLS_STRIPPED, "starttls-stripped", false,                       \
	   "the EHLO reply shows STARTTLS removed on the path",                 \
	   "RFC 3207 6, RFC 7672 1.3")                                          \
	XX(STS_POLICY_FETCH_ERROR, "sts-policy-fetch-error", true,              \
	   "the MTA-STS policy cannot be retrieved", "RFC 8460 4.3.2.2")        \
	XX(STS_POLICY_INVALID, "sts-policy-invalid", true,                      \
	   "the MTA-STS policy does not validate", "RFC 8460 4.3.2.2")          \
	XX(STS_WEBPKI_INVALID, "sts-webpki-invalid", true,                      \
	   "the MTA-STS policy host's certificate fails PKIX validation",       \
	   "RFC 8460 4.3.2.2")                                                  \
	XX(TLSA_INVALID, "tlsa-invalid", true,                                  \
	   "no record of a secure TLSA RRset is valid for the presented "       \
	   "chain (or none is usable)", "RFC 8460 4.3.2.1")                     \
	XX(TLSA_MISMATCH, "tlsa-mismatch", false,                               \
	   "secure, usable TLSA records do not match the certificate (often "   \
	   "a renewal without a TLSA update)", "RFC 7672 3.1, RFC 7671 8")      \
	XX(TLSA_USAGE_PKIX_ON_PORT_25, "tlsa-usage-pkix-on-port-25", false,     \
	   "TLSA usage 0 (PKIX-TA) or 1 (PKIX-EE), which SMTP senders treat "   \
	   "as unusable", "RFC 7672 3.1.3")                                     \
	XX(TLSA_WITHOUT_DNSSEC, "tlsa-without-dnssec", false,                   \
	   "TLSA records that are not DNSSEC-secure (or sit behind an "         \
	   "insecure address): they protect nothing", "RFC 7672 2.2")           \
	XX(VALIDATION_FAILURE, "validation-failure", true,                      \
	   "another failure under a policy: MX not covered by the MTA-STS "     \
	   "policy, or the TLS handshake fails", "RFC 8460 4.3.1")

/** One issue code. The values are also bit numbers in mxc_verdicts.issue_mask. */
enum mxc_issue {
#define XX(id, code, rfc8460, meaning, ref) MXC_ISSUE_##id,
	MXC_ISSUE_MAP(XX)
#undef XX
	MXC_ISSUE_COUNT
};

/** One row of the issue table. */
struct mxc_issue_info {
	enum mxc_issue id;   /**< the code's enum value */
	const char *code;    /**< as exported ("tlsa-mismatch") */
	/** true for RFC 8460 result types (what a TLS-RPT report would say),
	 *  false for the operator mistakes this project names. */
	bool rfc8460;
	const char *meaning; /**< one line for people */
	const char *ref;     /**< where the rule comes from */
};

/** Room for every code joined with ';', NUL included. */
#define MXC_ISSUES_STR_MAX 768
/** Longest DNSSEC reason kept in the verdicts; longer ones are cut. */
#define MXC_CLASSIFY_REASON_MAX 63

/**
 * The verdict columns of one domain. The string members point at static
 * strings; "" means "not known" (the stage that feeds it did not run or
 * could not tell), "n-a" means "does not apply" (no mail).
 */
struct mxc_verdicts {
	const char *dnssec;     /**< secure, insecure, bogus, indeterminate, "" */
	/** The validator's reason when not secure, else "". */
	char dnssec_reason[MXC_CLASSIFY_REASON_MAX + 1];
	const char *starttls;   /**< all, some, none, unreachable, n-a, "" */
	const char *tls_version_min; /**< e.g. "TLSv1.2"; "" if no handshake */
	const char *pkix;       /**< all-valid, some-invalid, none-valid, n-a, "" */
	/** valid, invalid, not-dnssec, bogus, none, n-a, "" */
	const char *dane;
	const char *mta_sts_mx_match; /**< all, some, none, n-a, "" */
	/** no-mail, plaintext, strippable, testing, mta-sts, dane,
	 *  dane+mta-sts, broken, or "" when it cannot be judged */
	const char *downgrade_exposure;
	uint64_t issue_mask;    /**< bit (1 << MXC_ISSUE_x) per issue found */
	enum mxc_issue issues[MXC_ISSUE_COUNT]; /**< sorted, no duplicates */
	size_t n_issues;        /**< number of entries in issues */
};

/**
 * Classify one domain.
 * @param f the gathered facts; only read
 * @param out the verdicts; always fully written when 0 is returned
 * @return 0, or MXC_EINVAL for a NULL argument or an array pointer that is
 *         NULL with a non-zero count
 */
int mxc_classify(const struct mxc_domain_facts *f, struct mxc_verdicts *out);

/**
 * The table of every issue code, in enum (= export) order.
 * @param n set to the number of rows (may be NULL)
 * @return a static table of MXC_ISSUE_COUNT rows
 */
const struct mxc_issue_info *mxc_issue_table(size_t *n);

/**
 * Export name of an issue.
 * @param id an issue
 * @return static string; "?" for an unknown value
 */
const char *mxc_issue_code(enum mxc_issue id);

/**
 * Find an issue by its export name, for readers of exported rows.
 * @param code the name (need not be NUL-terminated)
 * @param len its length
 * @param out set to the issue when found
 * @return 0, or MXC_ENOTFOUND
 */
int mxc_issue_parse(const char *code, size_t len, enum mxc_issue *out);

/**
 * Write the verdicts' issues as the export's `;`-separated list.
 * @param v the verdicts
 * @param buf where to write; always NUL-terminated when size > 0
 * @param size bytes available; MXC_ISSUES_STR_MAX always suffices
 * @param len set to the string's length (may be NULL)
 * @return 0, MXC_EINVAL for a NULL argument or size 0, or MXC_ETOOBIG
 *         when the list does not fit (buf is then "")
 */
int mxc_classify_issues_write(const struct mxc_verdicts *v, char *buf, size_t size, size_t *len);

/**
 * Export name of a DNSSEC status ("secure", "insecure", "bogus",
 * "indeterminate").
 * @param s a status
 * @return static string; "" for unknown, "?" for a value out of range
 */
const char *mxc_fact_dnssec_name(enum mxc_fact_dnssec s);

/**
 * Export name of a TLSA RRset state ("none", "secure", "insecure", "bogus").
 * @param s a state
 * @return static string; "" for unknown, "?" for a value out of range
 */
const char *mxc_fact_tlsa_name(enum mxc_fact_tlsa s);

/**
 * Export name of a host status ("ok", "connect-failed", ..., and
 * "no-address" for a name without an address).
 * @param s a status
 * @return static string; "" when not probed, "?" for a value out of range
 */
const char *mxc_fact_host_name(enum mxc_fact_host s);

/**
 * Export name of a DANE result ("match-ee", "match-ta", "mismatch", "none",
 * "not-dnssec").
 * @param r a result
 * @return static string; "" for unknown, "?" for a value out of range
 */
const char *mxc_fact_dane_name(enum mxc_fact_dane r);

/**
 * Export name of a policy state ("ok", "fetch-error", "invalid", "n-a").
 * @param s a state
 * @return static string; "?" for a value out of range
 */
const char *mxc_fact_sts_policy_name(enum mxc_fact_sts_policy s);

/**
 * Export name of a fetch error ("connect", "tls-pkix", "http-404", ...).
 * @param e the error kind
 * @param http_status the status, used for MXC_FACT_STS_FETCH_HTTP_STATUS
 * @param buf at least 16 bytes; the result may point into it
 * @return the name; "" for MXC_FACT_STS_FETCH_OK
 */
const char *mxc_fact_sts_fetch_name(enum mxc_fact_sts_fetch e, int http_status, char buf[16]);

#endif
