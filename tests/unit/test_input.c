/**
 * \file
 * Unit tests for the input readers. Each test writes small files into a
 * private temporary directory, reads them back through mxc_input_open /
 * mxc_input_next and compares the names, ranks and line numbers with what
 * the file says, and the counters and warnings (stderr is captured into a
 * file) with the lines that had to be rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "scanner/input.h"

static char tmpdir[256];

#define MAX_ITEMS 128

struct got {
	size_t n;
	char name[MAX_ITEMS][MXC_NAME_MAX + 1];
	uint64_t rank[MAX_ITEMS];
	uint64_t line[MAX_ITEMS];
	char file[MAX_ITEMS][300];
	struct mxc_input_stats st;
	char log[1 << 18]; /* what the reader wrote to stderr */
};

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/mxc_test_input.XXXXXX", base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write @p len bytes to tmpdir/@p name; returns the path (static buffer). */
static const char *write_file(const char *name, const char *data, size_t len)
{
	static char path[4][300];
	static int slot;
	char *p = path[slot++ % 4];
	FILE *f;

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return p;
}

static const char *write_str(const char *name, const char *data)
{
	return write_file(name, data, strlen(data));
}

/* Read everything with stderr redirected to a file, collected into @p g. */
static void read_all(const char *const *files, size_t n, enum mxc_input_format fmt,
		     const struct mxc_shard *sh, struct got *g)
{
	struct mxc_input *in = NULL;
	struct mxc_input_item it;
	char err[512], logpath[300];
	int saved, fd, rc;
	ssize_t got;

	memset(g, 0, sizeof(*g));
	snprintf(logpath, sizeof(logpath), "%s/stderr.log", tmpdir);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);

	rc = mxc_input_open(files, n, fmt, sh, &in, err, sizeof(err));
	if (rc == 0) {
		while ((rc = mxc_input_next(in, &it)) != 0) {
			if (rc < 0)
				continue;
			if (g->n < MAX_ITEMS) {
				memcpy(g->name[g->n], it.name, sizeof(it.name));
				g->rank[g->n] = it.rank;
				g->line[g->n] = it.line;
				snprintf(g->file[g->n], sizeof(g->file[0]), "%s", it.file);
			}
			g->n++;
		}
		mxc_input_get_stats(in, &g->st);
		mxc_input_close(in);
	}

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_int_equal(rc, 0);
	fd = open(logpath, O_RDONLY);
	assert_true(fd >= 0);
	got = read(fd, g->log, sizeof(g->log) - 1);
	close(fd);
	g->log[got > 0 ? got : 0] = '\0';
	/* Show it, so a failure is easy to understand. */
	if (g->log[0])
		fprintf(stderr, "%s", g->log);
}

static void read_one(const char *path, enum mxc_input_format fmt, struct got *g)
{
	read_all(&path, 1, fmt, NULL, g);
}

static void expect_names(const struct got *g, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n && i < g->n; i++) {
		if (strcmp(g->name[i], want[i]) != 0)
			fail_msg("name %zu: got \"%s\", want \"%s\"", i, g->name[i], want[i]);
	}
	if (g->n != n)
		fail_msg("got %zu names, want %zu", g->n, n);
}

/* Does the captured log contain "<path>:<line>: <reason>"? */
static bool logged(const struct got *g, const char *path, unsigned line, const char *reason)
{
	char needle[512];

	snprintf(needle, sizeof(needle), "%s:%u: %s", path, line, reason);
	return strstr(g->log, needle) != NULL;
}

#define assert_logged(g, path, line, reason)                                        \
	do {                                                                        \
		if (!logged(g, path, line, reason))                                 \
			fail_msg("no warning \"%s:%u: %s\"", path, (unsigned)(line), \
				 reason);                                           \
	} while (0)

static void test_list(void **state)
{
	static const char text[] =
		"# a comment line\n"
		"\n"
		"example.com\n"
		"   Example.COM.   \n"		/* duplicate of the line before */
		"bücher.example\r\n"		/* CRLF */
		"foo.org # trailing comment\n"
		"\t\n"
		"two.com names.com\n"		/* 8: invalid */
		"bad_char$.com\n"		/* 9: invalid */
		"com\n"				/* 10: invalid */
		"last.net";			/* no final newline */
	static const char *const want[] = { "example.com", "xn--bcher-kva.example",
					    "foo.org", "last.net" };
	static struct got g;
	const char *p = write_str("names.txt", text);

	(void)state;
	read_one(p, MXC_INPUT_AUTO, &g);
	expect_names(&g, want, 4);
	assert_int_equal(g.line[0], 3);
	assert_int_equal(g.line[1], 5);
	assert_int_equal(g.line[2], 6);
	assert_int_equal(g.line[3], 11);
	assert_string_equal(g.file[0], p);
	assert_int_equal(g.rank[0], 0);
	assert_int_equal(g.st.lines, 11);
	assert_int_equal(g.st.names, 4);
	assert_int_equal(g.st.invalid, 3);
	assert_int_equal(g.st.duplicates, 1);
	assert_int_equal(g.st.other_shard, 0);
	assert_int_equal(g.st.bytes_total, sizeof(text) - 1);
	assert_int_equal(g.st.bytes_read, sizeof(text) - 1);
	assert_logged(&g, p, 8, "more than one name on the line: two.com names.com");
	assert_logged(&g, p, 9, "invalid character: bad_char$.com");
	assert_logged(&g, p, 10, "single label: com");
}

static void test_list_escapes_in_warnings(void **state)
{
	static const char text[] = "ok.com\nbad\x01\xff.com\n";
	static struct got g;
	const char *p = write_file("esc.txt", text, sizeof(text) - 1);

	(void)state;
	read_one(p, MXC_INPUT_LIST, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.st.invalid, 1);
	/* non-printable bytes are escaped, never written raw to the terminal */
	assert_non_null(strstr(g.log, "bad\\x01\\xff.com"));
}

static void test_csv(void **state)
{
	static const char text[] =
		"rank,domain\r\n"
		"1,google.com\r\n"
		"2,\"facebook.com\"\r\n"
		"3,\"we\"\"ird.com\"\r\n"	/* 4: quote in the name: invalid */
		"x,foo.com\n"			/* 5: rank not numeric */
		"0,bar.com\n"			/* 6: rank 0 */
		"\"4\",Bücher.example\n"
		"5, spaced.org \n"
		"6,a.com,extra\n"		/* 9: three fields */
		"7,\"unterminated\n"		/* 10 */
		"\n"
		"8\n"				/* 12: one field */
		"9,GOOGLE.com.\n";		/* not consecutive: kept */
	static const char *const want[] = { "google.com", "facebook.com",
					    "xn--bcher-kva.example", "spaced.org",
					    "google.com" };
	static struct got g;
	const char *p = write_str("top.csv", text);

	(void)state;
	read_one(p, MXC_INPUT_AUTO, &g);
	expect_names(&g, want, 5);
	assert_int_equal(g.rank[0], 1);
	assert_int_equal(g.rank[1], 2);
	assert_int_equal(g.rank[2], 4);
	assert_int_equal(g.rank[3], 5);
	assert_int_equal(g.rank[4], 9);
	assert_int_equal(g.line[2], 7);
	assert_int_equal(g.st.invalid, 6);
	assert_logged(&g, p, 4, "invalid character");
	assert_logged(&g, p, 5, "rank is not a positive integer");
	assert_logged(&g, p, 6, "rank is not a positive integer");
	assert_logged(&g, p, 9, "more than two fields");
	assert_logged(&g, p, 10, "unterminated quoted field");
	assert_logged(&g, p, 12, "expected rank,domain");
	/* the header is skipped silently */
	assert_null(strstr(g.log, ":1:"));
}

static void test_csv_no_header(void **state)
{
	static struct got g;
	const char *p = write_str("nohdr.csv", "1,a.com\n2,b.com\nrank,domain\n");

	(void)state;
	read_one(p, MXC_INPUT_CSV, &g);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.name[0], "a.com");
	assert_string_equal(g.name[1], "b.com");
	/* a header anywhere but the first line is an error */
	assert_int_equal(g.st.invalid, 1);
	assert_logged(&g, p, 3, "rank is not a positive integer");
}

static const char zone_text[] =
	"; example. zone\n"						/* 1 */
	"$ORIGIN example.\n"						/* 2 */
	"$TTL 3600\n"							/* 3 */
	"@\tIN\tSOA\tns1.nic.example. hostmaster.nic.example. (\n"	/* 4 */
	"\t\t2026112901 ; serial\n"					/* 5 */
	"\t\t1800 900 604800 86400 )\n"					/* 6 */
	"@\tNS\tns1.nic.example.\n"					/* 7 */
	"\tNS\tns2.nic.example.\n"					/* 8 */
	"alpha\t86400\tIN\tNS\tns1.alpha.example.\n"			/* 9 */
	"alpha\t86400\tIN\tNS\tns2.alpha.example.\r\n"			/* 10 */
	"ns1.alpha\tA\t192.0.2.1\n"					/* 11 glue */
	"ns1.alpha\tAAAA\t2001:db8::1\n"				/* 12 glue */
	"alpha\tDS\t12345 13 2 "
	"3F4E0B2A1D5C6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F7\n" /* 13 */
	"beta.example.\tIN 300 NS ns.elsewhere.net. ; class first\n"	/* 14 */
	"\tIN\tNS\tns2.elsewhere.net.\n"				/* 15 same owner */
	"beta\tRRSIG\tDS 13 2 3600 20261220000000 20261129000000 4711 example. "
	"AAAA\n"							/* 16 */
	"gamma\tNS\t( ns1.gamma.example.\n"				/* 17 */
	"\t\tns1.gamma.example. )\n"					/* 18: bad: 2 names */
	"broken\tIN\tNS\n"						/* 19: no rdata */
	"delta\tIN\tNSX\tfoo.\n"					/* 20: no such type */
	"Epsilon.EXAMPLE.\tNS\tns.x.net.\n"				/* 21 */
	"outside.test.\tNS\tns.x.net.\n"				/* 22 out of zone */
	"zeta\t3600\tNS\t(\n"						/* 23 */
	"\tns.zeta.example. ) ; multi-line NS\n"			/* 24 */
	"eta\\032x\tNS\tns.example.\n"					/* 25: escaped space */
	"sub.theta 1h IN NS ns.theta.example.\n"			/* 26 */
	"$ORIGIN iota.example.\n"					/* 27 */
	"@\tNS\tns.iota.example.\n"					/* 28 */
	"www\tA\t192.0.2.7\n"						/* 29 */
	"$INCLUDE /etc/passwd\n"					/* 30 */
	"kappa.example.\tNS\tns.kappa.example.\n";			/* 31 */

static void test_zone(void **state)
{
	static const char *const want[] = {
		"alpha.example", "beta.example", "epsilon.example", "zeta.example",
		"sub.theta.example", "iota.example", "kappa.example",
	};
	static struct got g;
	const char *p = write_str("example.zone", zone_text);

	(void)state;
	read_one(p, MXC_INPUT_AUTO, &g);
	expect_names(&g, want, MXC_ARRAY_SIZE(want));
	assert_int_equal(g.line[0], 9);
	assert_int_equal(g.line[1], 14);
	assert_int_equal(g.line[2], 21);
	assert_int_equal(g.line[3], 23);
	assert_int_equal(g.line[5], 28);
	assert_int_equal(g.st.lines, 31);
	/* NS of one delegation are one name, not duplicates */
	assert_int_equal(g.st.duplicates, 0);
	assert_logged(&g, p, 17, "");
	assert_logged(&g, p, 19, "");
	assert_logged(&g, p, 20, "");
	assert_logged(&g, p, 25, "invalid character");
	assert_logged(&g, p, 30, "$INCLUDE not supported");
	assert_int_equal(g.st.invalid, 5);
}

static void test_zone_soa_apex(void **state)
{
	/* An AXFR-style dump: no $ORIGIN, the SOA names the apex (twice). */
	static const char text[] =
		"com.\t900\tIN\tSOA\ta.gtld-servers.net. nstld.verisign-grs.com. "
		"1764390000 1800 900 604800 86400\n"
		"com.\t172800\tIN\tNS\ta.gtld-servers.net.\n"
		"com.\t172800\tIN\tNS\tb.gtld-servers.net.\n"
		"example.com.\t172800\tIN\tNS\tns1.example.com.\n"
		"example.com.\t172800\tIN\tNS\tns2.example.com.\n"
		"ns1.example.com.\t172800\tIN\tA\t192.0.2.53\n"
		"example.com.\t172800\tIN\tNS\tns3.example.com.\n"
		"xn--bcher-kva.com.\t172800\tIN\tNS\tns.example.net.\n"
		"1.com.\t172800\tIN\tNS\tns.example.net.\n"
		"com.\t900\tIN\tSOA\ta.gtld-servers.net. nstld.verisign-grs.com. "
		"1764390000 1800 900 604800 86400\n";
	static const char *const want[] = { "example.com", "xn--bcher-kva.com", "1.com" };
	static struct got g;
	const char *p = write_str("com.txt", text);

	(void)state;
	read_one(p, MXC_INPUT_ZONE, &g);
	expect_names(&g, want, 3);
	assert_int_equal(g.st.invalid, 0);
	assert_int_equal(g.st.lines, 10);
	assert_int_equal(g.line[0], 4);
}

static void test_zone_unbalanced(void **state)
{
	static const char text[] = "$ORIGIN test.\n"
				   "a NS ns.a.test.\n"
				   "b SOA ns. host. ( 1 2 3 4\n"
				   "5\n";
	static struct got g;
	const char *p = write_str("unbal.db", text);

	(void)state;
	read_one(p, MXC_INPUT_AUTO, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.name[0], "a.test");
	assert_int_equal(g.st.invalid, 1);
	assert_logged(&g, p, 3, "unbalanced parentheses at end of file");
}

static void test_overlong_line(void **state)
{
	size_t big = MXC_INPUT_LINE_MAX + 5000, len = 0;
	char *text = malloc(3 * big + 64);
	const char *p;
	static struct got g;

	(void)state;
	assert_non_null(text);
	memcpy(text, "a.com\n", 6);
	len = 6;
	memset(text + len, 'x', big);
	len += big;
	memcpy(text + len, "\nb.com\n", 7);
	len += 7;
	/* a line of exactly the maximum is fine (a long comment) */
	memcpy(text + len, "c.com #", 7);
	len += 7;
	memset(text + len, 'y', MXC_INPUT_LINE_MAX - 7);
	len += MXC_INPUT_LINE_MAX - 7;
	text[len++] = '\n';
	/* and an over-long last line without a newline */
	memset(text + len, 'z', big);
	len += big;
	p = write_file("long.txt", text, len);
	free(text);

	read_one(p, MXC_INPUT_LIST, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.name[0], "a.com");
	assert_string_equal(g.name[1], "b.com");
	assert_string_equal(g.name[2], "c.com");
	assert_int_equal(g.line[1], 3);
	assert_int_equal(g.line[2], 4);
	assert_int_equal(g.st.invalid, 2);
	assert_int_equal(g.st.lines, 5);
	assert_logged(&g, p, 2, "line longer than 65536 bytes: xxxx");
	assert_logged(&g, p, 5, "line longer than 65536 bytes: zzzz");
	assert_int_equal(g.st.bytes_read, len);
}

static void test_warning_cap(void **state)
{
	size_t n = MXC_INPUT_WARN_MAX + 500, len = 0;
	char *text = malloc(n * 16 + 32);
	const char *p, *s;
	unsigned shown = 0;
	static struct got g;

	(void)state;
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, 16, "bad$%zu.com\n", i);
	memcpy(text + len, "good.com\n", 9);
	len += 9;
	p = write_file("many.txt", text, len);
	free(text);

	read_one(p, MXC_INPUT_LIST, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.name[0], "good.com");
	assert_int_equal(g.st.invalid, n);
	for (s = g.log; (s = strstr(s, ": invalid character: ")); s++)
		shown++;
	assert_int_equal(shown, MXC_INPUT_WARN_MAX);
	assert_non_null(strstr(g.log, "1500 invalid lines in all, 500 of them not shown"));
}

static void test_missing_and_directory(void **state)
{
	/* not NULL, so the test sees the reader set it on failure */
	struct mxc_input *in = (struct mxc_input *)&in;
	char err[512], path[300];
	const char *files[2];
	int rc;

	(void)state;
	snprintf(path, sizeof(path), "%s/does-not-exist.txt", tmpdir);
	files[0] = write_str("exists.txt", "a.com\n");
	files[1] = path;
	rc = mxc_input_open(files, 2, MXC_INPUT_AUTO, NULL, &in, err, sizeof(err));
	assert_int_equal(rc, -ENOENT);
	assert_null(in);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file or directory"));

	files[0] = tmpdir;
	rc = mxc_input_open(files, 1, MXC_INPUT_AUTO, NULL, &in, err, sizeof(err));
	assert_int_equal(rc, -EISDIR);
	assert_non_null(strstr(err, tmpdir));
	assert_non_null(strstr(err, "Is a directory"));
}

static void test_bad_arguments(void **state)
{
	struct mxc_input *in;
	struct mxc_shard sh = { 3, 3 };
	enum mxc_input_format f;
	char err[128];
	const char *files[1] = { write_str("x.txt", "a.com\n") };

	(void)state;
	assert_int_equal(mxc_input_open(files, 1, MXC_INPUT_LIST, &sh, &in, err, sizeof(err)),
			 MXC_EINVAL);
	assert_int_equal(mxc_input_open(files, 0, MXC_INPUT_LIST, NULL, &in, err, sizeof(err)),
			 MXC_EINVAL);
	assert_int_equal(mxc_input_format_parse("zone", &f), 0);
	assert_int_equal(f, MXC_INPUT_ZONE);
	assert_int_equal(mxc_input_format_parse("csv", &f), 0);
	assert_int_equal(f, MXC_INPUT_CSV);
	assert_int_equal(mxc_input_format_parse("list", &f), 0);
	assert_int_equal(f, MXC_INPUT_LIST);
	assert_int_equal(mxc_input_format_parse("auto", &f), 0);
	assert_int_equal(f, MXC_INPUT_AUTO);
	assert_int_equal(mxc_input_format_parse("ZONE", &f), MXC_EINVAL);
	assert_int_equal(mxc_input_format_parse("", &f), MXC_EINVAL);
}

static void test_several_files_auto(void **state)
{
	const char *files[3];
	static struct got g;

	(void)state;
	files[0] = write_str("one.txt", "a.com\nb.com\n");
	files[1] = write_str("two.CSV", "rank,domain\n1,b.com\n2,c.com\n");
	files[2] = write_str("three.db", "$ORIGIN org.\nd NS ns.d.org.\n");
	read_all(files, 3, MXC_INPUT_AUTO, NULL, &g);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.name[0], "a.com");
	assert_string_equal(g.name[1], "b.com");
	/* b.com again at the start of the next file: still consecutive */
	assert_string_equal(g.name[2], "c.com");
	assert_int_equal(g.rank[2], 2);
	assert_string_equal(g.file[2], files[1]);
	assert_string_equal(g.name[3], "d.org");
	assert_string_equal(g.file[3], files[2]);
	assert_int_equal(g.line[3], 2);
	assert_int_equal(g.st.duplicates, 1);
	assert_int_equal(g.st.bytes_read, g.st.bytes_total);
}

static void test_stdin(void **state)
{
	const char *dash = "-";
	const char *p = write_str("stdin.txt", "x.com\ny.com\n");
	int saved = dup(STDIN_FILENO), fd = open(p, O_RDONLY);
	static struct got g;

	(void)state;
	assert_true(fd >= 0);
	dup2(fd, STDIN_FILENO);
	close(fd);
	read_all(&dash, 1, MXC_INPUT_AUTO, NULL, &g);
	dup2(saved, STDIN_FILENO);
	close(saved);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.name[0], "x.com");
	assert_string_equal(g.name[1], "y.com");
	assert_string_equal(g.file[0], "-");
}

static void test_shard_filter(void **state)
{
	char text[4096];
	size_t len = 0, total = 0;
	const char *p;

	(void)state;
	for (int i = 0; i < 200; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "d%d.net\n", i);
	p = write_file("shard.txt", text, len);
	for (uint32_t k = 0; k < 3; k++) {
		struct mxc_shard sh = { k, 3 };
		static struct got g;

		read_all(&p, 1, MXC_INPUT_LIST, &sh, &g);
		assert_int_equal(g.st.names + g.st.other_shard, 200);
		assert_int_equal(g.st.names, g.n);
		for (size_t i = 0; i < g.n && i < MAX_ITEMS; i++)
			assert_true(mxc_shard_match(&sh, g.name[i]));
		total += g.n;
	}
	assert_int_equal(total, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_list_escapes_in_warnings),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_no_header),
		cmocka_unit_test(test_zone),
		cmocka_unit_test(test_zone_soa_apex),
		cmocka_unit_test(test_zone_unbalanced),
		cmocka_unit_test(test_overlong_line),
		cmocka_unit_test(test_warning_cap),
		cmocka_unit_test(test_missing_and_directory),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_several_files_auto),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_shard_filter),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
