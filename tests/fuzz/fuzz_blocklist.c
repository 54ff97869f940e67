/**
 * \file
 * Fuzz target for the blocklist parser and lookups (probes/blocklist.c).
 *
 * Besides the memory errors the sanitizers catch, the target aborts when a
 * documented property fails: the parser returns only 0 or MXC_EPARSE; an
 * error message names the origin and a line that exists; a failed text
 * leaves the list exactly as it was; a line that loads on its own blocks
 * nothing that the whole text, once loaded, does not also block (probed at
 * the line's own address and name, and a name under it); a blocked name
 * blocks every name under it; an IPv4 address and its v4-mapped IPv6 form
 * get the same answer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "probes/blocklist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                            \
	do {                                                                \
		if (!(x)) {                                                 \
			fprintf(stderr, "property failed: %s\n", #x);       \
			abort();                                            \
		}                                                           \
	} while (0)

#define MAX_INPUT 8192
#define MAX_LINES 64
#define SEED_LIST "203.0.113.0/24\nkept.invalid\n2001:db8::/32\n"

static unsigned count_lines(const uint8_t *data, size_t size)
{
	unsigned n = size ? 1 : 0;
	size_t i;

	for (i = 0; i + 1 < size; i++)
		n += data[i] == '\n';
	return n;
}

static bool addr_blocked(const struct mxc_blocklist *bl, const char *text)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, text, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		return mxc_blocklist_addr(bl, (struct sockaddr *)&s4);
	}
	if (inet_pton(AF_INET6, text, &s6.sin6_addr) == 1) {
		s6.sin6_family = AF_INET6;
		return mxc_blocklist_addr(bl, (struct sockaddr *)&s6);
	}
	return false;
}

/* Probe points of one line: its token as an address, a name, a child. */
static void check_line(const struct mxc_blocklist *whole, const char *line, size_t n)
{
	struct mxc_blocklist *one = NULL;
	char tok[MXC_BLOCKLIST_LINE_MAX + 8], child[MXC_BLOCKLIST_LINE_MAX + 16];
	size_t a = 0, b = n;
	char *slash;

	if (mxc_blocklist_new(&one) != 0)
		return;
	if (mxc_blocklist_add_text(one, "line", line, n, NULL, 0) != 0) {
		mxc_blocklist_free(one);
		return;
	}
	if (memchr(line, '#', n))
		b = (size_t)((const char *)memchr(line, '#', n) - line);
	while (a < b && (line[a] == ' ' || line[a] == '\t' || line[a] == '\r'))
		a++;
	while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t' || line[b - 1] == '\r'))
		b--;
	if (b - a > MXC_BLOCKLIST_LINE_MAX)
		b = a + MXC_BLOCKLIST_LINE_MAX;
	memcpy(tok, line + a, b - a);
	tok[b - a] = '\0';
	snprintf(child, sizeof(child), "x.%s", tok);
	if (mxc_blocklist_name(one, tok))
		CHECK(mxc_blocklist_name(whole, tok));
	if (mxc_blocklist_name(one, child))
		CHECK(mxc_blocklist_name(whole, child));
	slash = strchr(tok, '/');
	if (slash)
		*slash = '\0';
	if (addr_blocked(one, tok))
		CHECK(addr_blocked(whole, tok));
	mxc_blocklist_free(one);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxc_blocklist_size before, after;
	struct mxc_blocklist *bl = NULL;
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	char err[256], *name;
	size_t pos, lines;
	int rc;

	if (size > MAX_INPUT)
		return 0;
	if (mxc_blocklist_new(&bl) != 0)
		return 0;
	/* A list that already holds something, to see it kept on error. */
	CHECK(mxc_blocklist_add_text(bl, "seed", SEED_LIST, strlen(SEED_LIST), NULL, 0) == 0);
	mxc_blocklist_size(bl, &before);

	rc = mxc_blocklist_add_text(bl, "fuzz", (const char *)data, size, err, sizeof(err));
	CHECK(rc == 0 || rc == MXC_EPARSE);
	mxc_blocklist_size(bl, &after);
	if (rc == MXC_EPARSE) {
		unsigned long line;
		char *end;

		CHECK(strncmp(err, "fuzz:", 5) == 0);
		line = strtoul(err + 5, &end, 10);
		CHECK(*end == ':' && line >= 1 && line <= count_lines(data, size));
		CHECK(memcmp(&before, &after, sizeof(before)) == 0);
	} else {
		CHECK(after.v4_ranges >= 1 && after.v6_ranges >= 1 && after.names >= 1);
		for (pos = 0, lines = 0; pos < size && lines < MAX_LINES; lines++) {
			const uint8_t *nl = memchr(data + pos, '\n', size - pos);
			size_t end = nl ? (size_t)(nl - data) : size;

			check_line(bl, (const char *)data + pos, end - pos);
			pos = end + 1;
		}
	}
	CHECK(mxc_blocklist_name(bl, "kept.invalid"));
	CHECK(mxc_blocklist_name(bl, "mx.kept.invalid"));

	/* The bytes as a name: a blocked name blocks its children. */
	name = mxc_malloc(size + 3);
	if (name) {
		memcpy(name, "x.", 2);
		memcpy(name + 2, data, size);
		name[size + 2] = '\0';
		if (mxc_blocklist_name(bl, name + 2))
			CHECK(mxc_blocklist_name(bl, name));
		mxc_free(name);
	}

	/* The bytes as addresses: v4 and v4-mapped agree. */
	if (size >= 4) {
		memset(&s4, 0, sizeof(s4));
		memset(&s6, 0, sizeof(s6));
		s4.sin_family = AF_INET;
		memcpy(&s4.sin_addr, data, 4);
		s6.sin6_family = AF_INET6;
		s6.sin6_addr.s6_addr[10] = 0xff;
		s6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6.sin6_addr.s6_addr[12], data, 4);
		CHECK(mxc_blocklist_addr(bl, (struct sockaddr *)&s4) ==
		      mxc_blocklist_addr(bl, (struct sockaddr *)&s6));
	}
	if (size >= 16) {
		memcpy(&s6.sin6_addr, data, 16);
		(void)mxc_blocklist_addr(bl, (struct sockaddr *)&s6);
	}
	mxc_blocklist_free(bl);
	return 0;
}
