/**
 * \file
 * The probes' results as the store keeps them: opaque byte strings in the
 * domain and host records (store/record.h, struct mxc_blob), encoded and
 * decoded here. Each is a version byte and a list of fields (u8 tag, u32
 * length, value); a reader skips the tags it does not know, so a probe can
 * learn new facts without a new record schema, and decoding is bounded by
 * the fixed sizes of the result structs (a field that does not fit is
 * corruption, never truncated silently).
 */
#ifndef MXC_PROBES_PROBE_REC_H
#define MXC_PROBES_PROBE_REC_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "probes/smtp.h"
#include "probes/sts_fetch.h"

/**
 * Append the encoding of one SMTP probe result to @p out.
 * @return 0, MXC_ETOOBIG (the buffer's limit), MXC_ENOMEM
 */
int mxc_smtp_rec_encode(const struct mxc_smtp_result *r, struct mxc_buf *out);

/**
 * Decode an SMTP probe result (every field absent from @p data is zero).
 * @return 0, MXC_ECORRUPT, MXC_ESCHEMA (a newer version)
 */
int mxc_smtp_rec_decode(const uint8_t *data, size_t len, struct mxc_smtp_result *out);

/** An MTA-STS policy fetch, as stored: the outcome and the body received. */
struct mxc_sts_rec {
	uint8_t error;            /**< enum mxc_sts_ferr */
	uint16_t http_code;       /**< 0 when no status line came */
	char detail[160];         /**< the fetcher's detail, "" if none */
	uint64_t elapsed_ms;
	int64_t fetched_at;       /**< UNIX seconds */
	const uint8_t *body;      /**< the policy text (OK or SYNTAX), else NULL */
	size_t body_len;
};

/** Append the encoding of @p r (body included) to @p out. @return 0 or an mxc_buf error */
int mxc_sts_rec_encode(const struct mxc_sts_rec *r, struct mxc_buf *out);

/**
 * Decode a stored fetch; out->body points into @p data.
 * @return 0, MXC_ECORRUPT, MXC_ESCHEMA
 */
int mxc_sts_rec_decode(const uint8_t *data, size_t len, struct mxc_sts_rec *out);

#endif
