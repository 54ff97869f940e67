/**
 * \file
 * Classifiers for the TXT records that advertise mail policies: MTA-STS
 * (`_mta-sts`, RFC 8461 section 3.1), SMTP TLS reporting (`_smtp._tls`,
 * RFC 8460 section 3), SPF presence at the apex (RFC 7208 section 4.5) and
 * DMARC (`_dmarc`, RFC 7489 sections 6.3, 6.4 and 6.6.3).
 *
 * Each classifier takes every TXT record found at the name, because each
 * RFC first selects the records of its version and then treats "more than
 * one" as "no policy". Records are byte strings with lengths (the caller has
 * already concatenated the character-strings of one record); they may hold
 * any bytes, NUL included. The functions are pure: no I/O, no allocation,
 * results go into caller-provided structs with fixed bounds.
 */
#ifndef MXC_PROBES_TXTREC_H
#define MXC_PROBES_TXTREC_H

#include <stddef.h>
#include <stdint.h>

/** One TXT record: its character-strings concatenated, any bytes. */
struct mxc_txtrec {
	const uint8_t *data; /**< record bytes (need not be NUL-terminated) */
	size_t len;          /**< length of data in bytes */
};

/** Outcome of the MTA-STS and TLS-RPT record selection and parse. */
enum mxc_txtrec_status {
	MXC_TXTREC_NONE = 0, /**< no record of this version */
	MXC_TXTREC_VALID,    /**< exactly one record, syntactically valid */
	MXC_TXTREC_INVALID,  /**< exactly one record, invalid (see reason) */
	MXC_TXTREC_MULTIPLE, /**< several records: the domain has no policy */
};

/** Longest MTA-STS id (RFC 8461: 1*32 ALPHA/DIGIT). */
#define MXC_STS_ID_MAX 32
/** Room for the `;`-joined TLS-RPT rua list; longer lists are truncated. */
#define MXC_TLSRPT_RUA_MAX 1023

/** Result of classifying the `_mta-sts` TXT records. */
struct mxc_sts_txt {
	enum mxc_txtrec_status status; /**< none, valid, invalid or multiple */
	char id[MXC_STS_ID_MAX + 1];   /**< the id when valid, else "" */
	/** Static reason when invalid ("id-missing", "id-syntax",
	 *  "id-duplicate", "bad-field"), else NULL. */
	const char *reason;
};

/** Result of classifying the `_smtp._tls` TXT records. */
struct mxc_tlsrpt_txt {
	enum mxc_txtrec_status status; /**< none, valid, invalid or multiple */
	/** The usable (mailto:/https:) URIs joined with ';' when valid. */
	char rua[MXC_TLSRPT_RUA_MAX + 1];
	int rua_truncated;  /**< 1 when some usable URIs did not fit in rua */
	/** Static reason when invalid ("rua-missing", "rua-syntax",
	 *  "rua-duplicate", "rua-no-usable-uri", "bad-field"), else NULL. */
	const char *reason;
};

/** SPF presence at the apex. */
enum mxc_spf_status {
	MXC_SPF_NONE = 0, /**< no v=spf1 record */
	MXC_SPF_PRESENT,  /**< exactly one */
	MXC_SPF_MULTIPLE, /**< several: an SPF "permerror" */
};

/** DMARC policy at `_dmarc`. */
enum mxc_dmarc_status {
	MXC_DMARC_ABSENT = 0,  /**< no v=DMARC1 record */
	MXC_DMARC_NONE,        /**< p=none */
	MXC_DMARC_QUARANTINE,  /**< p=quarantine */
	MXC_DMARC_REJECT,      /**< p=reject */
	MXC_DMARC_INVALID,     /**< one record, p missing or unknown */
	MXC_DMARC_MULTIPLE,    /**< several records: no DMARC applies */
};

/**
 * Classify the TXT records at `_mta-sts.<domain>` (RFC 8461 section 3.1).
 * @param recs the records (may be NULL when n is 0)
 * @param n number of records
 * @param out result; always fully written
 * @return 0, or MXC_EINVAL when out is NULL or recs is NULL with n > 0
 */
int mxc_txtrec_sts(const struct mxc_txtrec *recs, size_t n, struct mxc_sts_txt *out);

/**
 * Classify the TXT records at `_smtp._tls.<domain>` (RFC 8460 section 3).
 * @param recs the records (may be NULL when n is 0)
 * @param n number of records
 * @param out result; always fully written
 * @return 0, or MXC_EINVAL when out is NULL or recs is NULL with n > 0
 */
int mxc_txtrec_tlsrpt(const struct mxc_txtrec *recs, size_t n, struct mxc_tlsrpt_txt *out);

/**
 * Count the SPF records among the apex TXT records (RFC 7208 section 4.5).
 * @param recs the records (may be NULL when n is 0)
 * @param n number of records
 * @return none, present or multiple
 */
enum mxc_spf_status mxc_txtrec_spf(const struct mxc_txtrec *recs, size_t n);

/**
 * Classify the TXT records at `_dmarc.<domain>` (RFC 7489).
 * @param recs the records (may be NULL when n is 0)
 * @param n number of records
 * @return the policy found, absent, invalid or multiple
 */
enum mxc_dmarc_status mxc_txtrec_dmarc(const struct mxc_txtrec *recs, size_t n);

/**
 * Export name of a status ("none", "valid", "invalid", "multiple").
 * @param s a status
 * @return static string; "?" for an unknown value
 */
const char *mxc_txtrec_status_name(enum mxc_txtrec_status s);

/**
 * Export name of an SPF status ("none", "present", "multiple").
 * @param s a status
 * @return static string; "?" for an unknown value
 */
const char *mxc_txtrec_spf_name(enum mxc_spf_status s);

/**
 * Export name of a DMARC status ("absent", "none", "quarantine", "reject",
 * "invalid", "multiple").
 * @param s a status
 * @return static string; "?" for an unknown value
 */
const char *mxc_txtrec_dmarc_name(enum mxc_dmarc_status s);

#endif
