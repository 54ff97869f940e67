/**
 * \file
 * Leveled logging to stderr.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

static enum mxc_log_level g_level = MXC_LOG_INFO;
static void (*g_hook)(void);

void mxc_log_set_level(enum mxc_log_level level)
{
	g_level = level;
}

enum mxc_log_level mxc_log_get_level(void)
{
	return g_level;
}

void mxc_log_set_hook(void (*before_line)(void))
{
	g_hook = before_line;
}

void mxc_log(enum mxc_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > g_level)
		return;
	if (g_hook)
		g_hook();
	fprintf(stderr, "mxcensus: %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
