/**
 * \file
 * Error codes shared by every module. Functions return 0 or a negative
 * MXC_E* value; system errors are passed on as -errno. One X-macro generates
 * both the enum and the message table, so the two can never drift apart.
 *
 * A server that misbehaves (refuses, times out, answers garbage) is a finding
 * recorded in the results, not an MXC_E* error: these codes are for our own
 * failures and for bad input the user gave us.
 */
#ifndef MXC_COMMON_ERROR_H
#define MXC_COMMON_ERROR_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define MXC_ERRNO_MAP(XX)                                                   \
	XX(EINVAL, "invalid argument")                                      \
	XX(ENOMEM, "out of memory")                                         \
	XX(EIO, "input/output error")                                       \
	XX(EPARSE, "parse error")                                           \
	XX(ENAME, "invalid domain name")                                    \
	XX(ETOOBIG, "value too large")                                      \
	XX(ENOTFOUND, "not found")                                          \
	XX(EEXIST, "already exists")                                        \
	XX(ECANCELED, "operation canceled")                                 \
	XX(ETIMEDOUT, "timed out")                                          \
	XX(ESCHEMA, "record schema not supported")                          \
	XX(ECORRUPT, "corrupt record")                                      \
	XX(ESTORE, "store error")                                           \
	XX(EFULL, "limit reached")                                          \
	XX(ESKIP, "skipped")                                                \
	XX(ENOTSUP, "not supported in this build")                          \
	XX(EAGAIN, "not now, try again later")

/* Our own codes live far above errno values so -errno never collides. */
enum mxc_errno {
	MXC__EBASE = 10000,
#define XX(code, msg) MXC_##code##_POS,
	MXC_ERRNO_MAP(XX)
#undef XX
};

#define XX(code, msg) MXC_##code = -MXC_##code##_POS,
enum { MXC_ERRNO_MAP(XX) };
#undef XX

/**
 * Message for an error code: one of ours, or -errno.
 * @param err a negative MXC_E* value or -errno
 * @return a static string; never NULL
 */
const char *mxc_strerror(int err);

/** Name of an error code ("EINVAL", "EPARSE", ...); static string. */
const char *mxc_errname(int err);

/**
 * Always-on assertion for invariants whose violation means memory is no
 * longer trustworthy: logs and aborts.
 */
#define mxc_require(x)                                                      \
	do {                                                                \
		if (!(x)) {                                                 \
			fprintf(stderr, "mxcensus: %s:%d: requirement failed: %s\n", \
				__FILE__, __LINE__, #x);                    \
			abort();                                            \
		}                                                           \
	} while (0)

/** Survivable check: logs the failure and evaluates to true when x is false. */
#define mxc_fails_assert(x) mxc__fails_assert(!!(x), #x, __FILE__, __LINE__)
int mxc__fails_assert(int ok, const char *expr, const char *file, int line);

#endif
