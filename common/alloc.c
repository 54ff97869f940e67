/**
 * \file
 * Allocation wrappers with failure injection for tests.
 */
#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

static long g_fail_after = -1;

static int should_fail(void)
{
	if (g_fail_after < 0)
		return 0;
	if (g_fail_after == 0)
		return 1;
	g_fail_after--;
	return 0;
}

void mxc_alloc_fail_after(long n)
{
	g_fail_after = n;
}

void *mxc_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *mxc_calloc(size_t count, size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(count ? count : 1, size ? size : 1);
}

void *mxc_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

void mxc_free(void *p)
{
	free(p);
}

char *mxc_strdup(const char *s)
{
	return mxc_strndup(s, strlen(s));
}

char *mxc_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = mxc_malloc(len + 1);

	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}
