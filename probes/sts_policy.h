/**
 * \file
 * The MTA-STS policy file parser (RFC 8461 section 3.2) and the MX pattern
 * matcher (section 4.1).
 *
 * The policy is untrusted bytes fetched over HTTPS. The parser is pure: it
 * writes a fixed-size struct the caller provides (no allocation), bounds
 * every list and length, and reports an invalid policy as a finding (an error
 * code naming the violation and its line) rather than as an MXC_E* failure.
 */
#ifndef MXC_PROBES_STS_POLICY_H
#define MXC_PROBES_STS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Largest policy body the caller may pass (bytes). */
#define MXC_STS_POLICY_MAX (64 * 1024)
/** Most mx patterns kept; more makes the policy invalid (too-many-mx). */
#define MXC_STS_MAX_MX 64
/** Longest mx pattern in bytes, "*." included. */
#define MXC_STS_MX_LEN 253
/** Largest max_age RFC 8461 allows (one year of seconds). */
#define MXC_STS_MAX_AGE_MAX 31557600u

/** Policy mode. */
enum mxc_sts_mode {
	MXC_STS_MODE_UNSET = 0, /**< not (validly) given */
	MXC_STS_MODE_ENFORCE,   /**< "enforce" */
	MXC_STS_MODE_TESTING,   /**< "testing" */
	MXC_STS_MODE_NONE,      /**< "none" */
};

/** Why a policy is invalid; MXC_STS_OK when it is valid. */
enum mxc_sts_perr {
	MXC_STS_OK = 0,
	MXC_STS_ERR_SYNTAX,          /**< a line is not `key: value` */
	MXC_STS_ERR_VERSION,         /**< version other than STSv1 */
	MXC_STS_ERR_MODE,            /**< mode not enforce/testing/none */
	MXC_STS_ERR_MAX_AGE,         /**< max_age not 0..31557600 */
	MXC_STS_ERR_MX,              /**< mx pattern malformed or too long */
	MXC_STS_ERR_TOO_MANY_MX,     /**< more than MXC_STS_MAX_MX patterns */
	MXC_STS_ERR_DUPLICATE,       /**< version, mode or max_age repeated */
	MXC_STS_ERR_MISSING_VERSION, /**< no version line */
	MXC_STS_ERR_MISSING_MODE,    /**< no mode line */
	MXC_STS_ERR_MISSING_MAX_AGE, /**< no max_age line */
	MXC_STS_ERR_MISSING_MX,      /**< no mx line while mode is not none */
};

/** A parsed policy. Large (about 16 KiB): keep one per worker, not per target. */
struct mxc_sts_policy {
	enum mxc_sts_perr error; /**< MXC_STS_OK when the policy is valid */
	unsigned line;           /**< 1-based line of the error; 0 if none */
	enum mxc_sts_mode mode;  /**< the mode when valid */
	uint32_t max_age;        /**< seconds, 0..MXC_STS_MAX_AGE_MAX */
	size_t n_mx;             /**< number of patterns in mx */
	/** The mx patterns as written, NUL-terminated. */
	char mx[MXC_STS_MAX_MX][MXC_STS_MX_LEN + 1];
};

/**
 * Parse an MTA-STS policy body.
 * @param data the body (any bytes; need not be NUL-terminated)
 * @param len its length, at most MXC_STS_POLICY_MAX
 * @param out result; always fully written. out->error says whether the
 *        policy is valid; an invalid policy is a finding, not a failure.
 * @return 0 when parsed (valid or not), MXC_EINVAL for a NULL argument,
 *         MXC_ETOOBIG when len exceeds MXC_STS_POLICY_MAX
 */
int mxc_sts_policy_parse(const uint8_t *data, size_t len, struct mxc_sts_policy *out);

/**
 * Check the syntax of an mx pattern: a domain name of LDH labels (1..63
 * bytes, no leading or trailing hyphen, no trailing dot), at most
 * MXC_STS_MX_LEN bytes, optionally preceded by "*." as the whole left-most
 * label.
 * @param s the pattern
 * @param len its length
 * @return true if the pattern is well-formed
 */
bool mxc_sts_mx_pattern_valid(const char *s, size_t len);

/**
 * Does an MX host name match a policy pattern (RFC 8461 section 4.1)?
 * Case-insensitive, one trailing dot ignored on either side; "*.example.com"
 * matches exactly one extra left-most label.
 * @param pattern NUL-terminated pattern
 * @param mx_host NUL-terminated host name
 * @return true on a match; false otherwise or when either is NULL or empty
 */
bool mxc_sts_mx_matches(const char *pattern, const char *mx_host);

/**
 * Export name of a policy error ("ok", "syntax", "version", "mode",
 * "max-age", "mx", "too-many-mx", "duplicate", "missing-version",
 * "missing-mode", "missing-max-age", "missing-mx").
 * @param e an error value
 * @return static string; "?" for an unknown value
 */
const char *mxc_sts_perr_name(enum mxc_sts_perr e);

/**
 * Export name of a mode ("enforce", "testing", "none"; "" when unset).
 * @param m a mode
 * @return static string
 */
const char *mxc_sts_mode_name(enum mxc_sts_mode m);

#endif
