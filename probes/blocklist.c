/**
 * \file
 * The blocklist of probes/blocklist.h: parsing, and two lookup structures
 * chosen for lists of 100k entries and lookups on every connection.
 *
 * Networks become closed ranges [lo, hi] (IPv4 in 32 bits, IPv6 in two
 * 64-bit halves), kept sorted and merged so that no two overlap or touch.
 * A lookup is then one binary search for the last range starting at or
 * below the address, and a compare. This is smaller than a binary trie
 * (16 or 32 bytes per range, no pointers) and just as fast at this size,
 * and merging makes nested or repeated entries cost nothing.
 *
 * Names go into an open-addressing hash table whose hash runs over the name
 * from its last byte to its first. A lookup walks the query from the right
 * once, and at every label boundary the hash of that suffix is already at
 * hand, so "a.b.example.com" probes "com", "example.com", "b.example.com"
 * and the whole name in one pass: labels, not characters, are matched.
 *
 * Both structures are rebuilt after each file (sorting O(n log n)), which
 * leaves the list always consistent between calls. A failed file leaves it
 * exactly as before: the new entries are appended, and cut off again on
 * error.
 */
#include "probes/blocklist.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <idn2.h>

#include "common/alloc.h"
#include "common/error.h"

#define NAME_MAX_LEN 253
#define LABEL_MAX_LEN 63
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

struct range4 {
	uint32_t lo, hi;
};

struct u128 {
	uint64_t hi, lo;
};

struct range6 {
	struct u128 lo, hi;
};

struct name_slot {
	uint64_t hash;
	uint32_t off; /* into names */
	uint32_t len; /* 0: empty slot */
};

struct mxc_blocklist {
	struct range4 *v4;
	size_t n_v4, cap_v4;
	struct range6 *v6;
	size_t n_v6, cap_v6;
	/* Every name, NUL-terminated, one after the other. */
	char *names;
	size_t names_len, names_cap;
	size_t n_names; /* names added, duplicates included */
	struct name_slot *table;
	size_t table_cap; /* power of two, or 0 */
	size_t table_count;
};

/* Grow *p (of *cap elements of @size) to hold at least @need. */
static int reserve(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return MXC_ENOMEM;
		ncap *= 2;
	}
	np = mxc_realloc(*p, ncap * size);
	if (!np)
		return MXC_ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static uint64_t hash_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

static uint64_t name_hash(const char *s, size_t n)
{
	uint64_t h = FNV_OFFSET;

	while (n > 0)
		h = hash_step(h, (unsigned char)s[--n]);
	return h;
}

/* ---- messages ---------------------------------------------------------- */

struct ctx {
	const char *origin;
	unsigned line;
	char *err;
	size_t errlen;
};

/* Copy a token for a message: printable ASCII, others as '?', bounded. */
static void printable(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, j = 0;

	for (i = 0; i < n && j + 4 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		out[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < n && j + 4 <= outlen) {
		memcpy(out + j, "...", 3);
		j += 3;
	}
	out[j] = '\0';
}

static int fail(struct ctx *c, const char *tok, size_t n, const char *why)
{
	char shown[96];

	if (!c->err || c->errlen == 0)
		return MXC_EPARSE;
	if (tok) {
		printable(tok, n, shown, sizeof(shown));
		snprintf(c->err, c->errlen, "%s:%u: %s: '%s'", c->origin, c->line, why, shown);
	} else {
		snprintf(c->err, c->errlen, "%s:%u: %s", c->origin, c->line, why);
	}
	return MXC_EPARSE;
}

/* ---- networks ---------------------------------------------------------- */

/* Prefix length: 1 to 3 digits, no leading zero, at most @max. */
static int parse_prefix(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static uint32_t mask4(unsigned bits)
{
	return bits == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - bits));
}

static uint64_t mask64(unsigned bits)
{
	return bits == 0 ? 0 : bits >= 64 ? UINT64_MAX : UINT64_MAX << (64 - bits);
}

static struct u128 u128_from(const uint8_t b[16])
{
	struct u128 v = { 0, 0 };
	int i;

	for (i = 0; i < 8; i++) {
		v.hi = (v.hi << 8) | b[i];
		v.lo = (v.lo << 8) | b[8 + i];
	}
	return v;
}

static int u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

static int add_v4(struct mxc_blocklist *bl, uint32_t lo, uint32_t hi)
{
	if (reserve((void **)&bl->v4, &bl->cap_v4, bl->n_v4 + 1, sizeof(*bl->v4)))
		return MXC_ENOMEM;
	bl->v4[bl->n_v4].lo = lo;
	bl->v4[bl->n_v4].hi = hi;
	bl->n_v4++;
	return 0;
}

static int v4_cidr(struct ctx *c, struct mxc_blocklist *bl, const char *tok, size_t n,
		   uint32_t addr, unsigned bits)
{
	uint32_t m = mask4(bits);

	if (addr & ~m) {
		char why[96], net[INET_ADDRSTRLEN];
		struct in_addr a = { htonl(addr & m) };

		inet_ntop(AF_INET, &a, net, sizeof(net));
		snprintf(why, sizeof(why), "host bits set in the network (did you mean %s/%u?)",
			 net, bits);
		return fail(c, tok, n, why);
	}
	return add_v4(bl, addr, addr | ~m);
}

static int parse_v4(struct ctx *c, struct mxc_blocklist *bl, const char *tok, size_t n)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash = memchr(tok, '/', n);
	size_t alen = slash ? (size_t)(slash - tok) : n;
	unsigned bits = 32;
	struct in_addr a;

	if (alen >= sizeof(buf))
		return fail(c, tok, n, "invalid IPv4 address");
	memcpy(buf, tok, alen);
	buf[alen] = '\0';
	/* glibc's inet_pton takes exactly a.b.c.d, no leading zeros. */
	if (inet_pton(AF_INET, buf, &a) != 1)
		return fail(c, tok, n, "invalid IPv4 address");
	if (slash && parse_prefix(slash + 1, n - alen - 1, 32, &bits))
		return fail(c, tok, n, "invalid IPv4 prefix length (0..32)");
	return v4_cidr(c, bl, tok, n, ntohl(a.s_addr), bits);
}

static int parse_v6(struct ctx *c, struct mxc_blocklist *bl, const char *tok, size_t n)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char buf[INET6_ADDRSTRLEN];
	const char *slash = memchr(tok, '/', n);
	size_t alen = slash ? (size_t)(slash - tok) : n;
	unsigned bits = 128;
	struct in6_addr a;
	struct u128 v, m;

	if (alen >= sizeof(buf))
		return fail(c, tok, n, "invalid IPv6 address");
	memcpy(buf, tok, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET6, buf, &a) != 1)
		return fail(c, tok, n, "invalid IPv6 address");
	if (slash && parse_prefix(slash + 1, n - alen - 1, 128, &bits))
		return fail(c, tok, n, "invalid IPv6 prefix length (0..128)");
	/*
	 * Lookups treat v4-mapped addresses as IPv4, so a network inside
	 * ::ffff:0:0/96 must be stored as the IPv4 network it names, or it
	 * would never match.
	 */
	if (bits >= 96 && memcmp(a.s6_addr, mapped, 12) == 0) {
		uint32_t v4 = ((uint32_t)a.s6_addr[12] << 24) | ((uint32_t)a.s6_addr[13] << 16) |
			      ((uint32_t)a.s6_addr[14] << 8) | a.s6_addr[15];

		return v4_cidr(c, bl, tok, n, v4, bits - 96);
	}
	v = u128_from(a.s6_addr);
	m.hi = mask64(bits);
	m.lo = bits <= 64 ? 0 : mask64(bits - 64);
	if ((v.hi & ~m.hi) || (v.lo & ~m.lo)) {
		char why[128], net[INET6_ADDRSTRLEN];
		struct in6_addr na;
		int i;

		for (i = 0; i < 16; i++) {
			unsigned left = bits > (unsigned)i * 8 ? bits - (unsigned)i * 8 : 0;

			na.s6_addr[i] = left >= 8 ? a.s6_addr[i]
						  : (uint8_t)(a.s6_addr[i] & (0xff00u >> left));
		}
		inet_ntop(AF_INET6, &na, net, sizeof(net));
		snprintf(why, sizeof(why), "host bits set in the network (did you mean %s/%u?)",
			 net, bits);
		return fail(c, tok, n, why);
	}
	if (reserve((void **)&bl->v6, &bl->cap_v6, bl->n_v6 + 1, sizeof(*bl->v6)))
		return MXC_ENOMEM;
	bl->v6[bl->n_v6].lo = v;
	bl->v6[bl->n_v6].hi.hi = v.hi | ~m.hi;
	bl->v6[bl->n_v6].hi.lo = v.lo | ~m.lo;
	bl->n_v6++;
	return 0;
}

static int cmp_range4(const void *a, const void *b)
{
	const struct range4 *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

static int cmp_range6(const void *a, const void *b)
{
	const struct range6 *x = a, *y = b;

	return u128_cmp(x->lo, y->lo);
}

/* Sort, then fold overlapping and adjacent ranges into one. */
static void merge_v4(struct mxc_blocklist *bl)
{
	size_t i, k = 0;

	if (bl->n_v4 == 0)
		return;
	qsort(bl->v4, bl->n_v4, sizeof(*bl->v4), cmp_range4);
	for (i = 1; i < bl->n_v4; i++) {
		struct range4 *last = &bl->v4[k];

		if (last->hi == UINT32_MAX || bl->v4[i].lo <= last->hi + 1) {
			if (bl->v4[i].hi > last->hi)
				last->hi = bl->v4[i].hi;
		} else {
			bl->v4[++k] = bl->v4[i];
		}
	}
	bl->n_v4 = k + 1;
}

static struct u128 u128_inc(struct u128 v)
{
	v.lo++;
	if (v.lo == 0)
		v.hi++;
	return v;
}

static void merge_v6(struct mxc_blocklist *bl)
{
	static const struct u128 top = { UINT64_MAX, UINT64_MAX };
	size_t i, k = 0;

	if (bl->n_v6 == 0)
		return;
	qsort(bl->v6, bl->n_v6, sizeof(*bl->v6), cmp_range6);
	for (i = 1; i < bl->n_v6; i++) {
		struct range6 *last = &bl->v6[k];

		if (u128_cmp(last->hi, top) == 0 ||
		    u128_cmp(bl->v6[i].lo, u128_inc(last->hi)) <= 0) {
			if (u128_cmp(bl->v6[i].hi, last->hi) > 0)
				last->hi = bl->v6[i].hi;
		} else {
			bl->v6[++k] = bl->v6[i];
		}
	}
	bl->n_v6 = k + 1;
}

/* ---- names ------------------------------------------------------------- */

static int is_name_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Check and store one name (ASCII, any case, one trailing dot allowed).
 * Hyphen placement is not checked: a stricter blocklist than DNS would
 * accept harms nobody.
 */
static int add_ascii_name(struct ctx *c, struct mxc_blocklist *bl, const char *tok, size_t n,
			  const char *s, size_t len)
{
	size_t i, label = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0)
		return fail(c, tok, n, "empty name (the root cannot be blocked by name)");
	if (len > NAME_MAX_LEN)
		return fail(c, tok, n, "name longer than 253 octets");
	if (s[0] == '*')
		return fail(c, tok, n,
			    "wildcards are not needed: a name blocks itself and every name under it");
	for (i = 0; i < len; i++) {
		unsigned char ch = lower((unsigned char)s[i]);

		if (ch == '.') {
			if (label == 0)
				return fail(c, tok, n, "empty label in name");
			label = 0;
			continue;
		}
		if (!is_name_byte(ch))
			return fail(c, tok, n, "invalid character in name");
		if (++label > LABEL_MAX_LEN)
			return fail(c, tok, n, "label longer than 63 octets");
	}
	if (label == 0)
		return fail(c, tok, n, "empty label in name");
	if (bl->names_len + len + 1 > UINT32_MAX)
		return fail(c, tok, n, "too many names");
	if (reserve((void **)&bl->names, &bl->names_cap, bl->names_len + len + 1, 1))
		return MXC_ENOMEM;
	for (i = 0; i < len; i++)
		bl->names[bl->names_len + i] = (char)lower((unsigned char)s[i]);
	bl->names[bl->names_len + len] = '\0';
	bl->names_len += len + 1;
	bl->n_names++;
	return 0;
}

static int parse_name(struct ctx *c, struct mxc_blocklist *bl, const char *tok, size_t n)
{
	char buf[MXC_BLOCKLIST_LINE_MAX + 1];
	char *ascii = NULL;
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((unsigned char)tok[i] >= 0x80)
			break;
	if (i == n)
		return add_ascii_name(c, bl, tok, n, tok, n);
	/* U-labels: the same conversion the scanner applies to its input. */
	memcpy(buf, tok, n);
	buf[n] = '\0';
	rc = idn2_to_ascii_8z(buf, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (rc != IDN2_OK) {
		char why[160];

		snprintf(why, sizeof(why), "invalid internationalised name (%s)",
			 idn2_strerror(rc));
		return fail(c, tok, n, why);
	}
	rc = add_ascii_name(c, bl, tok, n, ascii, strlen(ascii));
	idn2_free(ascii);
	return rc;
}

static int table_put(struct name_slot *t, size_t cap, const char *names, uint32_t off,
		     uint32_t len)
{
	uint64_t h = name_hash(names + off, len);
	size_t i;

	for (i = (size_t)h & (cap - 1); t[i].len; i = (i + 1) & (cap - 1))
		if (t[i].hash == h && t[i].len == len &&
		    memcmp(names + t[i].off, names + off, len) == 0)
			return 0;
	t[i].hash = h;
	t[i].off = off;
	t[i].len = len;
	return 1;
}

/* Rebuild the name table from the arena (duplicates fold into one). */
static int index_names(struct mxc_blocklist *bl)
{
	struct name_slot *t;
	size_t cap = 16, off = 0, count = 0;

	while (cap < 2 * bl->n_names)
		cap *= 2;
	t = mxc_calloc(cap, sizeof(*t));
	if (!t)
		return MXC_ENOMEM;
	while (off < bl->names_len) {
		size_t len = strlen(bl->names + off);

		count += (size_t)table_put(t, cap, bl->names, (uint32_t)off, (uint32_t)len);
		off += len + 1;
	}
	mxc_free(bl->table);
	bl->table = t;
	bl->table_cap = cap;
	bl->table_count = count;
	return 0;
}

/* ---- lines ------------------------------------------------------------- */

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static int parse_line(struct ctx *c, struct mxc_blocklist *bl, const char *s, size_t n)
{
	const char *hash = memchr(s, '#', n);
	size_t i, digits_dots = 1, digits = 0;

	if (memchr(s, '\0', n))
		return fail(c, NULL, 0, "NUL byte in line");
	if (n > MXC_BLOCKLIST_LINE_MAX)
		return fail(c, NULL, 0, "line too long (more than 1024 bytes)");
	if (hash)
		n = (size_t)(hash - s);
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	while (n > 0 && is_blank(s[0])) {
		s++;
		n--;
	}
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (is_blank(s[i]) || s[i] == '\v' || s[i] == '\f')
			return fail(c, s, n, "one entry per line");
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] != '.' && s[i] != '/')
			digits_dots = 0;
	}
	/* No name has a ':' or is all digits (its top label would be). */
	if (memchr(s, ':', n))
		return parse_v6(c, bl, s, n);
	if (digits_dots && digits)
		return parse_v4(c, bl, s, n);
	if (memchr(s, '/', n))
		return fail(c, s, n, "not a CIDR nor a name");
	return parse_name(c, bl, s, n);
}

int mxc_blocklist_new(struct mxc_blocklist **out)
{
	if (!out)
		return MXC_EINVAL;
	*out = mxc_calloc(1, sizeof(**out));
	return *out ? 0 : MXC_ENOMEM;
}

void mxc_blocklist_free(struct mxc_blocklist *bl)
{
	if (!bl)
		return;
	mxc_free(bl->v4);
	mxc_free(bl->v6);
	mxc_free(bl->names);
	mxc_free(bl->table);
	mxc_free(bl);
}

int mxc_blocklist_add_text(struct mxc_blocklist *bl, const char *origin, const char *text,
			   size_t len, char *err, size_t errlen)
{
	struct ctx c = { origin ? origin : "blocklist", 0, err, errlen };
	size_t n_v4 = bl ? bl->n_v4 : 0, n_v6 = bl ? bl->n_v6 : 0;
	size_t names_len = bl ? bl->names_len : 0, n_names = bl ? bl->n_names : 0;
	size_t pos = 0;
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!bl || (!text && len))
		return MXC_EINVAL;
	if (len > MXC_BLOCKLIST_FILE_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "%s: larger than %u bytes", c.origin,
				 MXC_BLOCKLIST_FILE_MAX);
		return MXC_ETOOBIG;
	}
	/* A UTF-8 byte order mark, as some editors write, is not an entry. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len && rc == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		c.line++;
		rc = parse_line(&c, bl, text + pos, end - pos);
		pos = end + 1;
	}
	/* The index first: it is the step that can fail, and merging cannot
	 * be undone. */
	if (rc == 0)
		rc = index_names(bl);
	if (rc == 0) {
		merge_v4(bl);
		merge_v6(bl);
		return 0;
	}
	if (rc == MXC_ENOMEM && err && errlen)
		snprintf(err, errlen, "%s:%u: out of memory", c.origin, c.line);
	bl->n_v4 = n_v4;
	bl->n_v6 = n_v6;
	bl->names_len = names_len;
	bl->n_names = n_names;
	return rc;
}

int mxc_blocklist_add_file(struct mxc_blocklist *bl, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc;

	if (err && errlen)
		err[0] = '\0';
	if (!bl || !path)
		return MXC_EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto sys_fail;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		close(fd);
		goto sys_fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MXC_BLOCKLIST_FILE_MAX) {
		close(fd);
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path,
				 S_ISREG(st.st_mode) ? "file larger than 512 MiB"
						     : "not a regular file");
		return S_ISREG(st.st_mode) ? MXC_ETOOBIG : MXC_EINVAL;
	}
	buf = mxc_malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		rc = MXC_ENOMEM;
		goto sys_fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			close(fd);
			mxc_free(buf);
			goto sys_fail;
		}
		if (r == 0)
			break; /* the file shrank: parse what is there */
		got += (size_t)r;
	}
	close(fd);
	rc = mxc_blocklist_add_text(bl, path, buf, got, err, errlen);
	mxc_free(buf);
	return rc;

sys_fail:
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path, mxc_strerror(rc));
	return rc;
}

/* ---- lookups ----------------------------------------------------------- */

static bool find_v4(const struct mxc_blocklist *bl, uint32_t a)
{
	size_t lo = 0, hi = bl->n_v4;

	/* The first range whose lo is above a; the one before may hold a. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bl->v4[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && a <= bl->v4[lo - 1].hi;
}

static bool find_v6(const struct mxc_blocklist *bl, struct u128 a)
{
	size_t lo = 0, hi = bl->n_v6;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u128_cmp(bl->v6[mid].lo, a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && u128_cmp(a, bl->v6[lo - 1].hi) <= 0;
}

bool mxc_blocklist_addr(const struct mxc_blocklist *bl, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!bl)
		return false;
	if (!sa)
		return true;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

		return find_v4(bl, ntohl(s4->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		const uint8_t *b = s6->sin6_addr.s6_addr;

		if (memcmp(b, mapped, 12) == 0)
			return find_v4(bl, ((uint32_t)b[12] << 24) | ((uint32_t)b[13] << 16) |
						   ((uint32_t)b[14] << 8) | b[15]);
		return find_v6(bl, u128_from(b));
	}
	return true;
}

static bool suffix_listed(const struct mxc_blocklist *bl, uint64_t h, const char *s, size_t n)
{
	size_t i, k;

	for (i = (size_t)h & (bl->table_cap - 1); bl->table[i].len;
	     i = (i + 1) & (bl->table_cap - 1)) {
		const struct name_slot *e = &bl->table[i];
		const char *t = bl->names + e->off;

		if (e->hash != h || e->len != n)
			continue;
		for (k = 0; k < n && t[k] == (char)lower((unsigned char)s[k]); k++)
			;
		if (k == n)
			return true;
	}
	return false;
}

bool mxc_blocklist_name(const struct mxc_blocklist *bl, const char *name)
{
	uint64_t h = FNV_OFFSET;
	size_t n, i;

	if (!bl || !name || bl->table_count == 0)
		return false;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	for (i = n; i > 0; i--) {
		h = hash_step(h, lower((unsigned char)name[i - 1]));
		if ((i == 1 || name[i - 2] == '.') && suffix_listed(bl, h, name + i - 1, n - i + 1))
			return true;
	}
	return false;
}

void mxc_blocklist_size(const struct mxc_blocklist *bl, struct mxc_blocklist_size *sz)
{
	if (!sz)
		return;
	memset(sz, 0, sizeof(*sz));
	if (!bl)
		return;
	sz->v4_ranges = bl->n_v4;
	sz->v6_ranges = bl->n_v6;
	sz->names = bl->table_count;
}
