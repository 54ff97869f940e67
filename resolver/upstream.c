/**
 * \file
 * Upstream addresses: parsing "ADDR[:PORT]" the way users type them on the
 * command line, reading the nameserver lines of resolv.conf, and formatting an
 * upstream back to "addr:port" for logs and answers.
 *
 * Parsing is strict (inet_pton, whole-string port numbers) because an address
 * that is half understood would send a census to the wrong server. resolv.conf
 * is read leniently the other way round: a line we cannot parse (an unknown
 * option, a link-local address with an unknown interface) is skipped, as the
 * C library itself does, rather than failing the run.
 */
#include "resolver/resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

/* Longest host part we accept: an IPv6 address plus "%" and an interface. */
#define HOST_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 2)

static int parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (mxc_parse_u64(s, 1, 65535, &v) != 0)
		return MXC_EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* IPv6 address with an optional "%scope" (interface name or number). */
static int parse_v6(const char *host, uint16_t port, struct mxc_upstream_cfg *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *pct = strchr(host, '%');
	size_t alen = pct ? (size_t)(pct - host) : strlen(host);
	struct sockaddr_in6 sa6;
	uint32_t scope = 0;

	if (alen == 0 || alen >= sizeof(addr))
		return MXC_EINVAL;
	memcpy(addr, host, alen);
	addr[alen] = '\0';
	memset(&sa6, 0, sizeof(sa6));
	if (inet_pton(AF_INET6, addr, &sa6.sin6_addr) != 1)
		return MXC_EINVAL;
	if (pct) {
		uint64_t v;

		if (mxc_parse_u64(pct + 1, 1, UINT32_MAX, &v) == 0)
			scope = (uint32_t)v;
		else
			scope = if_nametoindex(pct + 1);
		/* An unknown interface would silently mean "any": refuse it. */
		if (scope == 0)
			return MXC_EINVAL;
	}
	sa6.sin6_family = AF_INET6;
	sa6.sin6_port = htons(port);
	sa6.sin6_scope_id = scope;
	memset(out, 0, sizeof(*out));
	memcpy(&out->addr, &sa6, sizeof(sa6));
	out->addrlen = sizeof(sa6);
	return 0;
}

static int parse_v4(const char *host, uint16_t port, struct mxc_upstream_cfg *out)
{
	struct sockaddr_in sa4;

	memset(&sa4, 0, sizeof(sa4));
	if (inet_pton(AF_INET, host, &sa4.sin_addr) != 1)
		return MXC_EINVAL;
	sa4.sin_family = AF_INET;
	sa4.sin_port = htons(port);
	memset(out, 0, sizeof(*out));
	memcpy(&out->addr, &sa4, sizeof(sa4));
	out->addrlen = sizeof(sa4);
	return 0;
}

int mxc_upstream_parse(const char *s, struct mxc_upstream_cfg *out)
{
	char host[HOST_MAX];
	const char *colon;
	uint16_t port = 53;
	size_t len;

	if (!s || !out || !*s)
		return MXC_EINVAL;
	len = strlen(s);
	if (s[0] == '[') {
		/* "[v6]" or "[v6]:port" */
		const char *close = strchr(s, ']');
		size_t hlen;

		if (!close)
			return MXC_EINVAL;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return MXC_EINVAL;
		if (close[1] != '\0') {
			if (close[1] != ':' || parse_port(close + 2, &port) != 0)
				return MXC_EINVAL;
		}
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		return parse_v6(host, port, out);
	}
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':')) {
		/* Two or more colons and no brackets: a bare IPv6 address. */
		if (len >= sizeof(host))
			return MXC_EINVAL;
		return parse_v6(s, port, out);
	}
	if (colon) {
		size_t hlen = (size_t)(colon - s);

		if (hlen == 0 || hlen >= sizeof(host) || parse_port(colon + 1, &port) != 0)
			return MXC_EINVAL;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		return parse_v4(host, port, out);
	}
	if (len >= sizeof(host))
		return MXC_EINVAL;
	return parse_v4(s, port, out);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/*
 * Split off the next whitespace-separated token of @p *p, NUL-terminating it
 * in place. Returns NULL at the end of the line.
 */
static char *next_token(char **p)
{
	char *s = *p, *tok;

	while (*s && is_space(*s))
		s++;
	if (!*s)
		return NULL;
	tok = s;
	while (*s && !is_space(*s))
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return tok;
}

int mxc_upstreams_from_resolv_conf(const char *path, struct mxc_upstream_cfg *out,
				   size_t max, size_t *n)
{
	FILE *f;
	char line[512];
	bool overlong = false;

	if (!path || !n || (max && !out))
		return MXC_EINVAL;
	*n = 0;
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (*n < max && fgets(line, sizeof(line), f)) {
		char *p = line, *kw, *addr, *comment;
		bool had_nl = strchr(line, '\n') != NULL;
		bool skip = overlong;

		/*
		 * A line longer than the buffer is no nameserver line we could
		 * use: skip all of it, not just its first part.
		 */
		overlong = !had_nl && !feof(f);
		if (skip || overlong)
			continue;
		comment = strpbrk(line, "#;");
		if (comment)
			*comment = '\0';
		kw = next_token(&p);
		if (!kw || strcmp(kw, "nameserver") != 0)
			continue;
		addr = next_token(&p);
		if (!addr)
			continue;
		if (mxc_upstream_parse(addr, &out[*n]) == 0)
			(*n)++;
	}
	fclose(f);
	return 0;
}

void mxc_upstream_format(const struct mxc_upstream_cfg *u, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!buf || len == 0)
		return;
	if (u->addr.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&u->addr;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, (unsigned)ntohs(s4->sin_port));
	} else if (u->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&u->addr;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		if (s6->sin6_scope_id)
			snprintf(buf, len, "[%s%%%u]:%u", a, (unsigned)s6->sin6_scope_id,
				 (unsigned)ntohs(s6->sin6_port));
		else
			snprintf(buf, len, "[%s]:%u", a, (unsigned)ntohs(s6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}
