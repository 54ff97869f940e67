/**
 * \file
 * The blocklist (--blocklist FILE): networks and names the scanner must never
 * send a packet to, whatever the DNS says. The probes ask it before every
 * connection: the SMTP probe for the MX host name and each of its addresses,
 * the MTA-STS fetcher for the policy host name and its addresses.
 *
 * File format, one entry per line:
 *
 *     # a comment; also allowed after an entry
 *     192.0.2.0/24        an IPv4 network (CIDR)
 *     198.51.100.7        one IPv4 address (= /32)
 *     2001:db8::/32       an IPv6 network
 *     ::ffff:10.0.0.0/104 an IPv4 network written IPv6-mapped (= 10.0.0.0/8)
 *     example.com         that name and every name under it
 *     bücher.example      U-labels are converted to A-labels (IDNA 2008)
 *
 * A CIDR with host bits set (10.0.0.1/8) is refused, not normalised: it is
 * most often a typo whose intent cannot be known, and silently widening or
 * narrowing what a researcher meant to protect is worse than stopping. The
 * message suggests the network the line would mean. Any bad line makes the
 * whole load fail with "FILE:LINE: reason": a blocklist half-read is a
 * blocklist silently not applied.
 */
#ifndef MXC_PROBES_BLOCKLIST_H
#define MXC_PROBES_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/** Longest line accepted, without its line end. */
#define MXC_BLOCKLIST_LINE_MAX 1024

/** Largest file accepted, in bytes. */
#define MXC_BLOCKLIST_FILE_MAX (512u * 1024 * 1024)

struct mxc_blocklist;

/** Sizes of a blocklist after merging overlaps and duplicates. */
struct mxc_blocklist_size {
	size_t v4_ranges; /**< disjoint IPv4 ranges */
	size_t v6_ranges; /**< disjoint IPv6 ranges */
	size_t names;     /**< distinct names */
};

/**
 * Create an empty blocklist, which blocks nothing.
 * @param out the new list; caller frees with mxc_blocklist_free()
 * @return 0 or MXC_ENOMEM
 */
int mxc_blocklist_new(struct mxc_blocklist **out);

/**
 * Free a blocklist.
 * @param bl the list, or NULL
 */
void mxc_blocklist_free(struct mxc_blocklist *bl);

/**
 * Add the entries of a blocklist text. All or nothing: on error the list is
 * as it was before the call.
 * @param bl the list
 * @param origin name used in messages (the file name)
 * @param text the text; need not be NUL-terminated (a NUL byte is an error)
 * @param len bytes of @p text
 * @param err on error, "ORIGIN:LINE: reason" (NUL-terminated, truncated
 *        to @p errlen); may be NULL
 * @param errlen size of @p err
 * @return 0, MXC_EPARSE (a bad line), MXC_ETOOBIG or MXC_ENOMEM
 */
int mxc_blocklist_add_text(struct mxc_blocklist *bl, const char *origin, const char *text,
			   size_t len, char *err, size_t errlen);

/**
 * Read a blocklist file and add its entries, all or nothing.
 * @param bl the list
 * @param path the file
 * @param err on error, "PATH:LINE: reason" or "PATH: reason"; may be NULL
 * @param errlen size of @p err
 * @return 0, MXC_EPARSE, MXC_ETOOBIG, MXC_ENOMEM or -errno (open, read)
 */
int mxc_blocklist_add_file(struct mxc_blocklist *bl, const char *path, char *err, size_t errlen);

/**
 * Is this address blocked? An IPv4-mapped IPv6 address is looked up as the
 * IPv4 address it maps. O(log n).
 * @param bl the list (NULL blocks nothing)
 * @param sa AF_INET or AF_INET6 (the port is ignored); anything else
 *        is reported blocked, so that an unknown family is never contacted
 * @return true if the scanner must not send to @p sa
 */
bool mxc_blocklist_addr(const struct mxc_blocklist *bl, const struct sockaddr *sa);

/**
 * Is this name, or a name above it, blocked? Labels are compared whole and
 * case-insensitively: "example.com" blocks "example.com" and
 * "mx.EXAMPLE.com." but not "badexample.com". O(length of @p name).
 * @param bl the list (NULL blocks nothing)
 * @param name a domain name in A-label form, one trailing dot allowed
 * @return true if the scanner must not contact @p name
 */
bool mxc_blocklist_name(const struct mxc_blocklist *bl, const char *name);

/**
 * Sizes, for the log line that says what was loaded.
 * @param bl the list
 * @param sz filled in
 */
void mxc_blocklist_size(const struct mxc_blocklist *bl, struct mxc_blocklist_size *sz);

#endif
