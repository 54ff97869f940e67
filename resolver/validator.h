/**
 * \file
 * A DNSSEC validator for the stub resolver: every answer the scanner uses is
 * judged secure, insecure, bogus or indeterminate from a trust anchor, on the
 * event loop, without trusting any upstream's AD bit (the queries carry CD, so
 * a validating upstream hands over what it would have refused).
 *
 * The chain of trust is walked bottom-up from the zone that signed an RRset
 * (the RRSIG signer) through DS and DNSKEY RRsets to the anchor; unsigned data
 * is judged by asking for the DS RRset of its name, which either proves an
 * insecure delegation (NSEC/NSEC3, or a DS RRset of algorithms we cannot use)
 * or shows that the data sits in a signed zone and should have been signed.
 * What a zone's keys are worth is remembered per zone name for the TTL of the
 * records that proved it, and one evaluation per zone is in flight at a time.
 * The signatures no cache can save (a domain's own MX RRset) are verified on
 * a few threads beside the loop; everything else stays on the loop.
 */
#ifndef MXC_RESOLVER_VALIDATOR_H
#define MXC_RESOLVER_VALIDATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "resolver/resolver.h"

/** The security status of an answer (RFC 4033 §5), or NONE when not judged. */
enum mxc_dnssec {
	MXC_DNSSEC_NONE = 0,
	MXC_DNSSEC_SECURE,
	MXC_DNSSEC_INSECURE,
	MXC_DNSSEC_BOGUS,
	MXC_DNSSEC_INDETERMINATE,
};

/* Why an answer is not secure: the code that goes into dnssec_reason. */
#define MXC_DNSSEC_REASONS(XX)                                              \
	XX(NONE, "")                                                        \
	XX(NO_DS, "no-ds")                                                  \
	XX(UNSUPPORTED_ALG, "unsupported-algorithm")                        \
	XX(NSEC3_ITERATIONS, "nsec3-iterations")                            \
	XX(SIG_EXPIRED, "signature-expired")                                \
	XX(SIG_NOT_YET_VALID, "signature-not-yet-valid")                    \
	XX(NO_MATCHING_DS, "no-matching-ds")                                \
	XX(NO_RRSIG, "no-rrsig")                                            \
	XX(BAD_SIGNATURE, "bad-signature")                                  \
	XX(NSEC_PROOF_MISSING, "nsec-proof-missing")                        \
	XX(WILDCARD_PROOF_MISSING, "wildcard-proof-missing")                \
	XX(NO_DNSKEY, "no-dnskey")                                          \
	XX(SIGNER_NOT_ZONE, "signer-not-zone")                              \
	XX(MALFORMED, "malformed")                                          \
	XX(SERVFAIL, "servfail")                                            \
	XX(TIMEOUT, "timeout")                                              \
	XX(NO_TRUST_ANCHOR, "no-trust-anchor")                              \
	XX(WORK_LIMIT, "work-limit")

enum mxc_dnssec_reason {
#define XX(c, s) MXC_DR_##c,
	MXC_DNSSEC_REASONS(XX)
#undef XX
	MXC_DR__COUNT
};

/** "secure", "insecure", "bogus", "indeterminate", or "" for NONE. */
const char *mxc_dnssec_name(enum mxc_dnssec s);
/** The reason's code, "" for NONE. */
const char *mxc_dnssec_reason_name(enum mxc_dnssec_reason r);

/** A verdict: status and, when not secure, why. */
struct mxc_val_result {
	enum mxc_dnssec status;
	enum mxc_dnssec_reason reason;
};

/** Receives a verdict; called once per check, possibly before check returns. */
typedef void (*mxc_val_cb)(void *arg, struct mxc_val_result res);

struct mxc_validator_opts {
	/** DS or DNSKEY records in presentation format; NULL = the root KSKs. */
	const char *anchor_file;
	/** Or the anchors themselves (copied); takes precedence over anchor_file. */
	const ldns_rr_list *anchors;
	/** Validation time (Unix seconds); 0 = the wall clock at each check. */
	int64_t now;
	/** Tolerated clock skew on signature validity windows, seconds. */
	uint32_t skew;
	/** NSEC3 iterations above this make a proof insecure (RFC 9276). */
	uint16_t nsec3_max_iterations;
	/** Cap on how long a zone's verdict is remembered, seconds. */
	uint32_t max_ttl;
	/** Zone verdicts and verified RRsets remembered (each), LRU. */
	size_t cache_entries;
	/**
	 * Threads that verify the signatures no cache can save (a domain's
	 * own MX RRset) beside the loop, for a validator made with a
	 * resolver: MXC_VAL_THREADS_AUTO (the default) = one per CPU but the
	 * loop's, 0 = every signature checked on the loop's thread. Verdicts
	 * are the same either way; without a resolver there are none.
	 */
	int threads;
};

/** mxc_validator_opts.threads: one thread per CPU but the loop's (at most 16). */
#define MXC_VAL_THREADS_AUTO (-1)

/** Fill @p o with the defaults (root anchor, 300 s skew, 150 iterations,
 *  verification threads for every CPU but the loop's). */
void mxc_validator_opts_default(struct mxc_validator_opts *o);

/** Work counters, for the benchmark and the run summary. */
struct mxc_validator_stats {
	uint64_t checks;        /**< answers judged */
	uint64_t wire_checks;   /**< of which read from the wire (plain answers), not by ldns */
	uint64_t sig_verify;    /**< signature verifications (crypto) */
	uint64_t sig_threaded;  /**< of which on a verification thread */
	uint64_t rrset_cached;  /**< RRset verifications saved by the cache */
	uint64_t rrset_evicted_live; /**< remembered RRsets pushed out before their TTL ended:
				      * the most that can be verified twice (should be 0) */
	uint64_t zone_evals;    /**< zone key evaluations started (DS/DNSKEY walks) */
	uint64_t zone_hits;     /**< zone verdicts served from the cache */
	uint64_t zone_joined;   /**< joined an evaluation in flight */
	uint64_t queries;       /**< DS/DNSKEY questions asked */
};

struct mxc_validator;

/**
 * Create a validator that asks its DS and DNSKEY questions through @p r
 * (which should have been created with opts.checking_disabled).
 * @param err set to a message naming the file and line of a bad anchor
 * @return 0, MXC_EPARSE (bad anchor file), -errno (unreadable), MXC_ENOMEM
 */
int mxc_validator_new(struct mxc_resolver *r, const struct mxc_validator_opts *o,
		      struct mxc_validator **out, char *err, size_t errlen);

/**
 * Judge a response (wire format) to its own question. The verdict may come
 * from a verification thread: @p cb is still always called on the loop's
 * thread (or from mxc_validator_free, which delivers what is out).
 * @return 0 (cb will be called exactly once), or MXC_ENOMEM/MXC_EPARSE, or
 *         MXC_ECANCELED while the validator is being freed (cb not called)
 */
int mxc_validator_check(struct mxc_validator *v, const uint8_t *wire, size_t len,
			mxc_val_cb cb, void *arg);

/**
 * How the validator asks its DS and DNSKEY questions: the resolver's
 * mxc_resolver_query_flags() by default. Tests and the fuzz target answer
 * from memory instead (the callback may then run before the call returns).
 */
typedef int (*mxc_val_query_fn)(void *ctx, const char *name, uint16_t type, unsigned flags,
				mxc_dns_cb cb, void *arg);

/** Replace the way questions are asked (see mxc_val_query_fn). */
void mxc_validator_set_query(struct mxc_validator *v, mxc_val_query_fn fn, void *ctx);

void mxc_validator_get_stats(const struct mxc_validator *v, struct mxc_validator_stats *st);

/*
 * Internals for tests and fuzzing. A plain answer (the question's RRset and
 * its RRSIGs, nothing else; validator.c wire_plain) is read straight from
 * the wire; every other answer, and every answer when the wire path is off,
 * through ldns. Both must give the same verdict.
 */

/** Turn the wire path for plain answers on (the default) or off. */
void mxc__validator_wire_path(struct mxc_validator *v, bool on);

/**
 * The data (RFC 4034 §3.1.8.1) the @p i-th RRSIG over the question's RRset
 * of answer @p msg signs, as the wire path builds it (@p wire true) or as
 * the general path builds it from ldns's parse (false), into @p out.
 * @return its length, 0 when that path does not build it (for the wire
 *         path: not a plain answer, or no such RRSIG), MXC_ETOOBIG when it
 *         exceeds @p cap, MXC_ENOMEM
 */
int mxc__validator_signed_data(const uint8_t *msg, size_t len, unsigned i, bool wire,
			       uint8_t *out, size_t cap);

/**
 * Free the validator. Checks on the verification threads are finished and
 * delivered first (the threads are joined); the loop must run once more
 * afterwards to close their handle. Other checks still in flight (waiting
 * for a DS or DNSKEY answer) are answered by the resolver's close, which the
 * owner does first.
 */
void mxc_validator_free(struct mxc_validator *v);

/**
 * The digest DNSSEC algorithm @p alg signs with (RSA, ECDSA); NULL for
 * EdDSA, which hashes inside, and for algorithms not known here.
 */
const EVP_MD *mxc_dnssec_alg_md(uint8_t alg);

/**
 * A DNSKEY record (RSA per RFC 3110, ECDSA per RFC 6605, Ed25519/Ed448 per
 * RFC 8080) as an OpenSSL public key, built through the provider interface.
 * @return the key (EVP_PKEY_free it), or NULL when malformed or unsupported
 */
EVP_PKEY *mxc_dnskey_pkey(const ldns_rr *key);

/**
 * Read trust anchors (DS or DNSKEY records, presentation format, comments
 * allowed) from @p path.
 * @param err set to "FILE:LINE: what" on failure
 * @return 0, MXC_EPARSE, -errno
 */
int mxc_trust_anchor_load(const char *path, ldns_rr_list **out, char *err, size_t errlen);

/**
 * The same from an open stream; @p name is used in messages.
 * @return 0, MXC_EPARSE, MXC_ENOMEM
 */
int mxc_trust_anchor_read(FILE *f, const char *name, ldns_rr_list **out, char *err,
			  size_t errlen);

#endif
