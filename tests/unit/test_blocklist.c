/**
 * \file
 * Unit tests for the blocklist (probes/blocklist.c): the file format
 * (comments, blank lines, CRLF, a BOM), a table of bad lines that must each
 * fail with "ORIGIN:LINE: reason" and leave the list as it was, CIDR edges
 * (/0, /32, /128, the 64-bit halves of IPv6, the top of each space, host
 * bits set), IPv4-mapped forms, merging, name matching by whole labels,
 * U-labels, files (missing, a directory), out-of-memory, and a randomised
 * comparison with a linear scan over many ranges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"
#include "probes/blocklist.h"

static const struct sockaddr *addr(struct sockaddr_storage *ss, const char *text)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return (const struct sockaddr *)ss;
}

static bool blocked(const struct mxc_blocklist *bl, const char *text)
{
	struct sockaddr_storage ss;

	return mxc_blocklist_addr(bl, addr(&ss, text));
}

static struct mxc_blocklist *load(const char *text)
{
	struct mxc_blocklist *bl = NULL;
	char err[256];

	assert_int_equal(mxc_blocklist_new(&bl), 0);
	if (mxc_blocklist_add_text(bl, "t.txt", text, strlen(text), err, sizeof(err)) != 0)
		fail_msg("unexpected error: %s", err);
	return bl;
}

static void test_format(void **state)
{
	static const char text[] = "\xef\xbb\xbf# researcher's opt-outs\n"
				   "\n"
				   "   \t\n"
				   "192.0.2.0/24\r\n"
				   "  198.51.100.7   # one host\n"
				   "2001:db8:bad::/48\t#v6\n"
				   "Example.COM.\n"
				   "#10.0.0.0/8\n"
				   "opted-out.example";
	struct mxc_blocklist_size sz;
	struct mxc_blocklist *bl = load(text);

	mxc_blocklist_size(bl, &sz);
	assert_int_equal(sz.v4_ranges, 2);
	assert_int_equal(sz.v6_ranges, 1);
	assert_int_equal(sz.names, 2);
	assert_true(blocked(bl, "192.0.2.99"));
	assert_true(blocked(bl, "198.51.100.7"));
	assert_false(blocked(bl, "198.51.100.8"));
	assert_false(blocked(bl, "10.1.1.1")); /* commented out */
	assert_true(blocked(bl, "2001:db8:bad:1::25"));
	assert_true(mxc_blocklist_name(bl, "example.com"));
	assert_true(mxc_blocklist_name(bl, "mx.opted-out.example"));
	mxc_blocklist_free(bl);

	/* An empty text and a comment-only text block nothing. */
	bl = load("");
	assert_false(blocked(bl, "192.0.2.1"));
	assert_false(mxc_blocklist_name(bl, "example.com"));
	mxc_blocklist_free(bl);
	bl = load("# nothing\n\n");
	assert_false(blocked(bl, "::1"));
	mxc_blocklist_free(bl);
	/* No list at all blocks nothing. */
	assert_false(mxc_blocklist_name(NULL, "example.com"));
	assert_false(blocked(NULL, "192.0.2.1"));
}

struct bad_case {
	const char *line;
	const char *why; /* expected substring of the message */
};

static const struct bad_case bad_cases[] = {
	{ "10.0.0.1/8", "host bits set in the network (did you mean 10.0.0.0/8?)" },
	{ "192.0.2.128/24", "did you mean 192.0.2.0/24?" },
	{ "10.0.0.0/33", "invalid IPv4 prefix length" },
	{ "10.0.0.0/08", "invalid IPv4 prefix length" },
	{ "10.0.0.0/", "invalid IPv4 prefix length" },
	{ "10.0.0.0/1/2", "invalid IPv4 prefix length" },
	{ "10.0.0/8", "invalid IPv4 address" },
	{ "1.2.3.256", "invalid IPv4 address" },
	{ "010.0.0.1", "invalid IPv4 address" },
	{ "1.2.3.4.5", "invalid IPv4 address" },
	{ "2001:db8::1/64", "did you mean 2001:db8::/64?" },
	{ "2001:db8:0:1:4000::/65", "did you mean 2001:db8:0:1::/65?" },
	{ "2001:db8:0:1:c000::/65", "did you mean 2001:db8:0:1:8000::/65?" },
	{ "2001:db8::/129", "invalid IPv6 prefix length" },
	{ "2001:db8::/-1", "invalid IPv6 prefix length" },
	{ "2001:db8:::1", "invalid IPv6 address" },
	{ "::ffff:10.0.0.1/104", "did you mean 10.0.0.0/8?" },
	{ "example .com", "one entry per line" },
	{ "192.0.2.0/24 198.51.100.0/24", "one entry per line" },
	{ "exa$mple.com", "invalid character in name" },
	{ "*.example.com", "a name blocks itself and every name under it" },
	{ ".", "empty name" },
	{ "a..example", "empty label" },
	{ ".example", "empty label" },
	{ "example..", "empty label" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	  "label longer than 63 octets" },
	{ "example.com/24", "not a CIDR nor a name" },
	{ "\xff\xfe.example", "invalid internationalised name" },
};

static void test_errors(void **state)
{
	struct mxc_blocklist *bl = load("203.0.113.0/24\nkept.example\n");
	struct mxc_blocklist_size sz;
	char text[512], err[256];
	size_t i;

	for (i = 0; i < MXC_ARRAY_SIZE(bad_cases); i++) {
		int n = snprintf(text, sizeof(text), "# header\n192.0.2.0/24\nnew.example\n%s\n::1\n",
				 bad_cases[i].line);

		err[0] = 'x';
		assert_int_equal(mxc_blocklist_add_text(bl, "lists/opt-out.txt", text, (size_t)n, err,
							sizeof(err)),
				 MXC_EPARSE);
		if (strncmp(err, "lists/opt-out.txt:4: ", 21) != 0 ||
		    !strstr(err, bad_cases[i].why))
			fail_msg("case %zu '%s': message '%s', wanted line 4 and '%s'", i,
				 bad_cases[i].line, err, bad_cases[i].why);
		/* All or nothing: lines 2 and 3 were not added... */
		assert_false(blocked(bl, "192.0.2.1"));
		assert_false(mxc_blocklist_name(bl, "new.example"));
		/* ...and the list is what it was. */
		assert_true(blocked(bl, "203.0.113.9"));
		assert_true(mxc_blocklist_name(bl, "kept.example"));
		mxc_blocklist_size(bl, &sz);
		assert_int_equal(sz.v4_ranges, 1);
		assert_int_equal(sz.v6_ranges, 0);
		assert_int_equal(sz.names, 1);
	}

	/* A NUL byte and an overlong line, each named by its line. */
	assert_int_equal(mxc_blocklist_add_text(bl, "f", "a.example\nb.exa\0mple\n", 21, err,
						sizeof(err)),
			 MXC_EPARSE);
	assert_string_equal(err, "f:2: NUL byte in line");
	{
		static char longline[MXC_BLOCKLIST_LINE_MAX + 40];

		memset(longline, 'a', sizeof(longline) - 1);
		memcpy(longline, "# ", 2);
		assert_int_equal(mxc_blocklist_add_text(bl, "f", longline, strlen(longline), err,
							sizeof(err)),
				 MXC_EPARSE);
		assert_string_equal(err, "f:1: line too long (more than 1024 bytes)");
	}
	/* A too-long name: 4 labels of 63 plus dots = 255 octets. */
	{
		char name[300];

		memset(name, 'a', 255);
		name[63] = name[127] = name[191] = '.';
		name[255] = '\0';
		assert_int_equal(mxc_blocklist_add_text(bl, "f", name, 255, err, sizeof(err)),
				 MXC_EPARSE);
		assert_non_null(strstr(err, "f:1: name longer than 253 octets"));
		/* Three labels block their 253-octet child, not their parent,
		 * nor a name that ends in the same characters but not the
		 * same labels. */
		assert_int_equal(mxc_blocklist_add_text(bl, "f", name + 64, 191, err, sizeof(err)),
				 0);
		assert_true(mxc_blocklist_name(bl, name + 2));
		assert_true(mxc_blocklist_name(bl, name + 64));
		assert_false(mxc_blocklist_name(bl, name + 66));
		assert_false(mxc_blocklist_name(bl, name + 128));
	}
	mxc_blocklist_free(bl);
}

static void test_cidr_edges(void **state)
{
	struct mxc_blocklist *bl;

	/* /0: every IPv4 address, no IPv6 address. */
	bl = load("0.0.0.0/0\n");
	assert_true(blocked(bl, "0.0.0.0"));
	assert_true(blocked(bl, "255.255.255.255"));
	assert_true(blocked(bl, "::ffff:8.8.8.8"));
	assert_false(blocked(bl, "2001:db8::1"));
	assert_false(blocked(bl, "::"));
	mxc_blocklist_free(bl);

	/* ::/0: every IPv6 address; a v4-mapped address is IPv4. */
	bl = load("::/0\n");
	assert_true(blocked(bl, "::"));
	assert_true(blocked(bl, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_false(blocked(bl, "192.0.2.1"));
	assert_false(blocked(bl, "::ffff:192.0.2.1"));
	mxc_blocklist_free(bl);

	/* /32 and a bare address: exactly one, at both ends of the space. */
	bl = load("192.0.2.7/32\n0.0.0.0\n255.255.255.255/32\n");
	assert_true(blocked(bl, "192.0.2.7"));
	assert_false(blocked(bl, "192.0.2.6"));
	assert_false(blocked(bl, "192.0.2.8"));
	assert_true(blocked(bl, "0.0.0.0"));
	assert_false(blocked(bl, "0.0.0.1"));
	assert_true(blocked(bl, "255.255.255.255"));
	assert_false(blocked(bl, "255.255.255.254"));
	mxc_blocklist_free(bl);

	/* /24 boundaries. */
	bl = load("192.0.2.0/24\n");
	assert_true(blocked(bl, "192.0.2.0"));
	assert_true(blocked(bl, "192.0.2.255"));
	assert_false(blocked(bl, "192.0.1.255"));
	assert_false(blocked(bl, "192.0.3.0"));
	assert_true(blocked(bl, "::ffff:192.0.2.128"));
	assert_false(blocked(bl, "::192.0.2.128")); /* IPv4-compatible is IPv6 */
	mxc_blocklist_free(bl);

	/* /128, and the top of the IPv6 space. */
	bl = load("2001:db8::25/128\nffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n::\n");
	assert_true(blocked(bl, "2001:db8::25"));
	assert_false(blocked(bl, "2001:db8::24"));
	assert_false(blocked(bl, "2001:db8::26"));
	assert_true(blocked(bl, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_false(blocked(bl, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
	assert_true(blocked(bl, "::"));
	assert_false(blocked(bl, "::1"));
	mxc_blocklist_free(bl);

	/* Prefixes on both sides of the 64-bit halves. */
	bl = load("2001:db8:0:1::/64\n2001:db8:0:2::/63\n2001:db8:0:4:8000::/65\n");
	assert_true(blocked(bl, "2001:db8:0:1::"));
	assert_true(blocked(bl, "2001:db8:0:1:ffff:ffff:ffff:ffff"));
	assert_false(blocked(bl, "2001:db8:0:0:ffff:ffff:ffff:ffff"));
	assert_true(blocked(bl, "2001:db8:0:3:ffff:ffff:ffff:ffff")); /* in the /63 */
	assert_false(blocked(bl, "2001:db8:0:4:7fff:ffff:ffff:ffff"));
	assert_true(blocked(bl, "2001:db8:0:4:8000::"));
	assert_true(blocked(bl, "2001:db8:0:4:ffff:ffff:ffff:ffff"));
	assert_false(blocked(bl, "2001:db8:0:5::"));
	mxc_blocklist_free(bl);

	/* An IPv4 network written in mapped form is the IPv4 network. */
	bl = load("::ffff:10.0.0.0/104\n::ffff:192.0.2.1\n");
	assert_true(blocked(bl, "10.255.0.1"));
	assert_true(blocked(bl, "192.0.2.1"));
	assert_false(blocked(bl, "11.0.0.0"));
	assert_false(blocked(bl, "192.0.2.2"));
	mxc_blocklist_free(bl);
}

static void test_merge(void **state)
{
	struct mxc_blocklist_size sz;
	struct mxc_blocklist *bl;

	/* Adjacent halves, a nested network, duplicates: one range. */
	bl = load("10.128.0.0/9\n10.0.0.0/9\n10.1.2.0/24\n10.0.0.0/9\n10.200.0.1\n");
	mxc_blocklist_size(bl, &sz);
	assert_int_equal(sz.v4_ranges, 1);
	assert_true(blocked(bl, "10.127.255.255"));
	assert_true(blocked(bl, "10.128.0.0"));
	assert_false(blocked(bl, "11.0.0.0"));
	assert_false(blocked(bl, "9.255.255.255"));
	mxc_blocklist_free(bl);

	/* Touching at the top of the space, and across two texts. */
	bl = load("255.255.255.255\n255.255.255.254/31\n128.0.0.0/1\n");
	mxc_blocklist_size(bl, &sz);
	assert_int_equal(sz.v4_ranges, 1);
	assert_int_equal(mxc_blocklist_add_text(bl, "u", "2001:db8::/33\n2001:db8:8000::/33\n"
						"ffff:ffff:ffff:ffff::/64\n"
						"ffff:ffff:ffff:fffe::/64\n",
						strlen("2001:db8::/33\n2001:db8:8000::/33\n"
						       "ffff:ffff:ffff:ffff::/64\n"
						       "ffff:ffff:ffff:fffe::/64\n"),
						NULL, 0),
			 0);
	mxc_blocklist_size(bl, &sz);
	assert_int_equal(sz.v4_ranges, 1);
	assert_int_equal(sz.v6_ranges, 2);
	assert_true(blocked(bl, "2001:db8:ffff::1"));
	assert_true(blocked(bl, "ffff:ffff:ffff:fffe::1"));
	assert_false(blocked(bl, "ffff:ffff:ffff:fffd::1"));
	assert_true(blocked(bl, "128.0.0.0"));
	assert_false(blocked(bl, "127.255.255.255"));
	mxc_blocklist_free(bl);
}

static void test_names(void **state)
{
	struct mxc_blocklist_size sz;
	struct mxc_blocklist *bl = load("example.com\nmil\nDeep.Sub.Example.NET.\n"
					"bücher.example\nexample.com\n_dmarc.policy.test\n");

	mxc_blocklist_size(bl, &sz);
	assert_int_equal(sz.names, 5); /* the duplicate counts once */
	assert_true(mxc_blocklist_name(bl, "example.com"));
	assert_true(mxc_blocklist_name(bl, "example.com."));
	assert_true(mxc_blocklist_name(bl, "mx.example.com"));
	assert_true(mxc_blocklist_name(bl, "MX.Example.COM."));
	assert_true(mxc_blocklist_name(bl, "a.b.c.example.com"));
	/* Labels, not characters. */
	assert_false(mxc_blocklist_name(bl, "badexample.com"));
	assert_false(mxc_blocklist_name(bl, "mx.badexample.com"));
	assert_false(mxc_blocklist_name(bl, "example.com.evil"));
	assert_false(mxc_blocklist_name(bl, "example.co"));
	assert_false(mxc_blocklist_name(bl, "com"));
	assert_false(mxc_blocklist_name(bl, "xample.com"));
	assert_false(mxc_blocklist_name(bl, ""));
	assert_false(mxc_blocklist_name(bl, "."));
	assert_false(mxc_blocklist_name(bl, NULL));
	/* A whole TLD. */
	assert_true(mxc_blocklist_name(bl, "mil"));
	assert_true(mxc_blocklist_name(bl, "mail.army.mil"));
	assert_false(mxc_blocklist_name(bl, "mil.example.org"));
	assert_false(mxc_blocklist_name(bl, "fmil"));
	/* An entry below a registrable name blocks only its subtree. */
	assert_true(mxc_blocklist_name(bl, "deep.sub.example.net"));
	assert_true(mxc_blocklist_name(bl, "mx.deep.sub.example.net"));
	assert_false(mxc_blocklist_name(bl, "sub.example.net"));
	assert_false(mxc_blocklist_name(bl, "other.sub.example.net"));
	/* U-labels in the file match the A-labels the scanner uses. */
	assert_true(mxc_blocklist_name(bl, "xn--bcher-kva.example"));
	assert_true(mxc_blocklist_name(bl, "mta-sts.xn--bcher-kva.example"));
	assert_false(mxc_blocklist_name(bl, "bucher.example"));
	assert_true(mxc_blocklist_name(bl, "_dmarc.policy.test"));
	assert_false(mxc_blocklist_name(bl, "dmarc.policy.test"));
	/* Empty labels in a query do not confuse the walk. */
	assert_false(mxc_blocklist_name(bl, "a..com"));
	assert_true(mxc_blocklist_name(bl, "a..example.com"));
	mxc_blocklist_free(bl);
}

static void test_families(void **state)
{
	struct mxc_blocklist *bl = load("192.0.2.0/24\n");
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	/* Never contact what cannot be checked. */
	assert_true(mxc_blocklist_addr(bl, (struct sockaddr *)&ss));
	assert_true(mxc_blocklist_addr(bl, NULL));
	mxc_blocklist_free(bl);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/mxc-blocklist-XXXXXX";
	char path[128], err[512];
	struct mxc_blocklist *bl;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/opt-out.txt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# opt-outs\n192.0.2.0/24\nexample.org\n10.0.0.1/8\n", f);
	fclose(f);

	assert_int_equal(mxc_blocklist_new(&bl), 0);
	assert_int_equal(mxc_blocklist_add_file(bl, path, err, sizeof(err)), MXC_EPARSE);
	assert_non_null(strstr(err, "/opt-out.txt:4: host bits set"));
	assert_false(blocked(bl, "192.0.2.1"));

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("192.0.2.0/24\nexample.org", f);
	fclose(f);
	assert_int_equal(mxc_blocklist_add_file(bl, path, err, sizeof(err)), 0);
	assert_true(blocked(bl, "192.0.2.1"));
	assert_true(mxc_blocklist_name(bl, "mx.example.org"));

	/* Missing file, directory: the path and the reason. */
	snprintf(path, sizeof(path), "%s/missing.txt", dir);
	assert_int_equal(mxc_blocklist_add_file(bl, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing.txt: No such file or directory"));
	assert_int_equal(mxc_blocklist_add_file(bl, dir, err, sizeof(err)), MXC_EINVAL);
	assert_non_null(strstr(err, ": not a regular file"));
	/* Still what it was. */
	assert_true(blocked(bl, "192.0.2.1"));
	mxc_blocklist_free(bl);

	snprintf(path, sizeof(path), "%s/opt-out.txt", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_enomem(void **state)
{
	static const char text[] = "192.0.2.0/24\n2001:db8::/32\na.example\nb.example\n";
	struct mxc_blocklist *bl = NULL;
	char err[256];
	long n;
	int rc;

	mxc_alloc_fail_after(0);
	assert_int_equal(mxc_blocklist_new(&bl), MXC_ENOMEM);
	mxc_alloc_fail_after(-1);
	/* Fail every allocation in turn: all or nothing each time. */
	for (n = 0;; n++) {
		assert_int_equal(mxc_blocklist_new(&bl), 0);
		mxc_alloc_fail_after(n);
		rc = mxc_blocklist_add_text(bl, "m", text, sizeof(text) - 1, err, sizeof(err));
		mxc_alloc_fail_after(-1);
		if (rc == 0) {
			assert_true(blocked(bl, "192.0.2.1"));
			assert_true(mxc_blocklist_name(bl, "x.b.example"));
			mxc_blocklist_free(bl);
			break;
		}
		assert_int_equal(rc, MXC_ENOMEM);
		assert_non_null(strstr(err, "out of memory"));
		assert_false(blocked(bl, "192.0.2.1"));
		assert_false(blocked(bl, "2001:db8::1"));
		assert_false(mxc_blocklist_name(bl, "a.example"));
		mxc_blocklist_free(bl);
	}
	assert_true(n >= 4);
}

static uint64_t rng(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Many random networks: the search agrees with a linear scan. */
static void test_random_vs_linear(void **state)
{
	enum { NETS = 3000, PROBES = 20000 };
	static uint32_t lo[NETS], hi[NETS];
	struct mxc_blocklist *bl;
	struct mxc_buf text;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i, j, hits = 0;

	mxc_buf_init(&text, 1 << 20);
	for (i = 0; i < NETS; i++) {
		unsigned bits = 8 + (unsigned)(rng(&x) % 25);
		uint32_t m = (uint32_t)(0xffffffffu << (32 - bits));
		uint32_t a = (uint32_t)rng(&x) & m;
		char line[40];
		int n;

		lo[i] = a;
		hi[i] = a | ~m;
		n = snprintf(line, sizeof(line), "%u.%u.%u.%u/%u\n", a >> 24, (a >> 16) & 255,
			     (a >> 8) & 255, a & 255, bits);
		assert_int_equal(mxc_buf_append(&text, line, (size_t)n), 0);
	}
	bl = load("");
	assert_int_equal(mxc_blocklist_add_text(bl, "r", (const char *)text.data, text.len, NULL, 0),
			 0);
	for (j = 0; j < PROBES; j++) {
		uint32_t a = (uint32_t)rng(&x);
		struct sockaddr_in s4;
		bool want = false;

		/* Half the probes at an edge of some network. */
		if (j & 1) {
			i = (size_t)(rng(&x) % NETS);
			a = (j & 2) ? lo[i] - (j & 4 ? 1 : 0) : hi[i] + (j & 4 ? 1 : 0);
		}
		for (i = 0; i < NETS && !want; i++)
			want = a >= lo[i] && a <= hi[i];
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_addr.s_addr = htonl(a);
		assert_int_equal(mxc_blocklist_addr(bl, (struct sockaddr *)&s4), want);
		hits += want;
	}
	/* Both answers occurred. */
	assert_true(hits > PROBES / 10 && hits < PROBES);
	mxc_blocklist_free(bl);
	mxc_buf_free(&text);
}

/* 100k names and 100k networks load and answer; print the speed. */
static void test_large(void **state)
{
	enum { N = 100000 };
	struct mxc_blocklist_size sz;
	struct mxc_blocklist *bl;
	struct mxc_buf text;
	uint64_t t0, t1;
	char line[96];
	size_t i, found = 0;

	mxc_buf_init(&text, 16 << 20);
	for (i = 0; i < N; i++) {
		int n = snprintf(line, sizeof(line), "opt%zu.example\n2001:db8:%zx:1::/64\n", i,
				 (size_t)(i * 7) & 0xffff);

		assert_int_equal(mxc_buf_append(&text, line, (size_t)n), 0);
	}
	t0 = mxc_now_ms();
	bl = load("");
	assert_int_equal(mxc_blocklist_add_text(bl, "big", (const char *)text.data, text.len, NULL,
						0),
			 0);
	t1 = mxc_now_ms();
	mxc_blocklist_size(bl, &sz);
	assert_int_equal(sz.names, N);
	assert_int_equal(sz.v6_ranges, 65536);
	for (i = 0; i < 1000000; i++) {
		snprintf(line, sizeof(line), "mx%zu.opt%zu.example", i & 7, i % (2 * N));
		found += mxc_blocklist_name(bl, line);
	}
	assert_int_equal(found, 500000);
	printf("large: loaded %d names and %d networks in %llu ms; 1e6 name lookups in %llu ms\n",
	       N, N, (unsigned long long)(t1 - t0), (unsigned long long)(mxc_now_ms() - t1));
	mxc_blocklist_free(bl);
	mxc_buf_free(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_cidr_edges),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_enomem),
		cmocka_unit_test(test_random_vs_linear),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
