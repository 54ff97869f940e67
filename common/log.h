/**
 * \file
 * Logging to stderr with levels. The scanner's progress display shares
 * stderr, so log lines first ask the progress module to clear its live line
 * (through a hook, so common/ depends on nothing).
 */
#ifndef MXC_COMMON_LOG_H
#define MXC_COMMON_LOG_H

enum mxc_log_level {
	MXC_LOG_ERROR = 0,
	MXC_LOG_WARN = 1,
	MXC_LOG_INFO = 2,
	MXC_LOG_DEBUG = 3,
};

/** Set the most verbose level that is printed (default MXC_LOG_INFO). */
void mxc_log_set_level(enum mxc_log_level level);
enum mxc_log_level mxc_log_get_level(void);

/** Hook called before each log line is written (e.g. to clear a live bar). */
void mxc_log_set_hook(void (*before_line)(void));

/** printf-style log line, prefixed with "mxcensus: " and the level. */
void mxc_log(enum mxc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define mxc_log_error(...) mxc_log(MXC_LOG_ERROR, __VA_ARGS__)
#define mxc_log_warn(...) mxc_log(MXC_LOG_WARN, __VA_ARGS__)
#define mxc_log_info(...) mxc_log(MXC_LOG_INFO, __VA_ARGS__)
#define mxc_log_debug(...)                                                  \
	do {                                                                \
		if (mxc_log_get_level() >= MXC_LOG_DEBUG)                   \
			mxc_log(MXC_LOG_DEBUG, __VA_ARGS__);                \
	} while (0)

#endif
