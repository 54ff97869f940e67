/**
 * \file
 * Messages for MXC_E* codes and -errno, generated from MXC_ERRNO_MAP.
 */
#include "common/error.h"

#include <string.h>

#include "common/log.h"

const char *mxc_strerror(int err)
{
	switch (err) {
#define XX(code, msg)                                                       \
	case MXC_##code:                                                    \
		return msg;
		MXC_ERRNO_MAP(XX)
#undef XX
	case 0:
		return "success";
	default:
		break;
	}
	if (err < 0 && err > -MXC__EBASE)
		return strerror(-err);
	return "unknown error";
}

const char *mxc_errname(int err)
{
	switch (err) {
#define XX(code, msg)                                                       \
	case MXC_##code:                                                    \
		return #code;
		MXC_ERRNO_MAP(XX)
#undef XX
	case 0:
		return "OK";
	default:
		return "ERRNO";
	}
}

int mxc__fails_assert(int ok, const char *expr, const char *file, int line)
{
	if (ok)
		return 0;
	mxc_log_error("internal check failed at %s:%d: %s", file, line, expr);
	return 1;
}
