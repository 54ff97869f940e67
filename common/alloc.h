/**
 * \file
 * The one place that calls malloc and free. Everything else allocates through
 * these wrappers, so a test build can make the Nth allocation fail
 * (mxc_alloc_fail_after) and check that every path copes with ENOMEM.
 * The wrappers return NULL on failure like their libc counterparts.
 */
#ifndef MXC_COMMON_ALLOC_H
#define MXC_COMMON_ALLOC_H

#include <stddef.h>

void *mxc_malloc(size_t n);
void *mxc_calloc(size_t count, size_t size);
/** realloc; on failure the old block is untouched and NULL is returned. */
void *mxc_realloc(void *p, size_t n);
void mxc_free(void *p);
/** strdup through the allocator; NULL on failure. Caller frees. */
char *mxc_strdup(const char *s);
/** strndup through the allocator; NULL on failure. Caller frees. */
char *mxc_strndup(const char *s, size_t n);

/**
 * Test hook: the next @p n allocations succeed, every one after fails.
 * A negative value turns failure injection off (the default).
 */
void mxc_alloc_fail_after(long n);

#endif
