/**
 * \file
 * The command-line contract, driven in-process through mxc_cli_main: exit
 * statuses for bad usage, true --help texts, the plain refusal of what this
 * build does not have yet, and export errors that name the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scanner/cli.h"

/** Run the CLI with stdout and stderr captured into @p out (one buffer). */
static int run(char *out, size_t outlen, int argc, const char *const *argv)
{
	char path[] = "/tmp/mxc-test-cli-XXXXXX";
	int fd = mkstemp(path);
	int saved_out = dup(1), saved_err = dup(2);
	char *args[32];
	int status;
	ssize_t n;

	assert_true(fd >= 0);
	assert_true(argc < 32);
	for (int i = 0; i < argc; i++)
		args[i] = (char *)argv[i];
	args[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	dup2(fd, 1);
	dup2(fd, 2);
	status = mxc_cli_main(argc, args);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return status;
}

#define RUN(out, ...)                                                           \
	run(out, sizeof(out), (int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *)), \
	    (const char *[]){ __VA_ARGS__ })

static void test_top_level(void **state)
{
	char out[8192];

	assert_int_equal(RUN(out, "mxcensus"), 2);
	assert_non_null(strstr(out, "usage: mxcensus COMMAND"));
	assert_int_equal(RUN(out, "mxcensus", "--help"), 0);
	assert_non_null(strstr(out, "scan"));
	assert_int_equal(RUN(out, "mxcensus", "frobnicate"), 2);
	assert_non_null(strstr(out, "unknown command 'frobnicate'"));
	assert_int_equal(RUN(out, "mxcensus", "--version"), 0);
	assert_non_null(strstr(out, "mxcensus "));
}

static void test_scan_usage(void **state)
{
	char out[8192];

	assert_int_equal(RUN(out, "mxcensus", "scan", "--help"), 0);
	/* The help names every option the design promises. */
	static const char *const opts[] = { "--db", "--resolver", "--trust-anchor", "--ca-file",
					    "--smtp-port", "--https-port", "--ehlo",
					    "--concurrency", "--qps", "--per-ip-rate",
					    "--blocklist", "--shard", "--probes", "--input-format" };
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		assert_non_null(strstr(out, opts[i]));

	assert_int_equal(RUN(out, "mxcensus", "scan", "--resolver", "127.0.0.1"), 2);
	assert_non_null(strstr(out, "no INPUT"));
	assert_int_equal(RUN(out, "mxcensus", "scan", "--shard", "3/3", "x.txt"), 2);
	assert_non_null(strstr(out, "--shard"));
	assert_int_equal(RUN(out, "mxcensus", "scan", "--concurrency", "0", "x.txt"), 2);
	assert_int_equal(RUN(out, "mxcensus", "scan", "--qps", "fast", "x.txt"), 2);
	assert_non_null(strstr(out, "'fast' is not a number"));
	assert_int_equal(RUN(out, "mxcensus", "scan", "--resolver", "not an address", "x.txt"), 2);
	assert_int_equal(RUN(out, "mxcensus", "scan", "--input-format", "xml", "x.txt"), 2);
	assert_int_equal(RUN(out, "mxcensus", "scan", "--probes", "smtp,ftp", "x.txt"), 2);
	assert_non_null(strstr(out, "'smtp,ftp' is not"));
	assert_int_equal(RUN(out, "mxcensus", "scan", "--probes", "", "x.txt"), 2);
	assert_int_equal(RUN(out, "mxcensus", "scan", "--per-ip-rate", "-1", "x.txt"), 2);
	assert_non_null(strstr(out, "--per-ip-rate"));
	assert_int_equal(RUN(out, "mxcensus", "scan", "--smtp-port", "0", "x.txt"), 2);
	assert_int_equal(RUN(out, "mxcensus", "scan", "--trust-anchor", "a.ds", "--no-validate",
			     "x.txt"), 2);
	assert_non_null(strstr(out, "contradict"));
	assert_int_equal(RUN(out, "mxcensus", "scan", "--bogus-option", "x.txt"), 2);
}

static void test_missing_input_names_file(void **state)
{
	char out[8192], db[] = "/tmp/mxc-test-cli-db-XXXXXX";

	assert_non_null(mkdtemp(db));
	assert_int_equal(RUN(out, "mxcensus", "scan", "--db", db, "--resolver", "127.0.0.1:1",
			     "--progress", "none", "/nonexistent/list.txt"),
			 2);
	assert_non_null(strstr(out, "/nonexistent/list.txt"));
	assert_int_equal(system("rm -rf /tmp/mxc-test-cli-db-*"), 0);
}

static void test_export_usage(void **state)
{
	char out[8192];

	assert_int_equal(RUN(out, "mxcensus", "export", "--help"), 0);
	assert_non_null(strstr(out, "--what"));
	assert_int_equal(RUN(out, "mxcensus", "export", "--what", "domains"), 2);
	assert_non_null(strstr(out, "--db DIR is required"));
	assert_int_equal(RUN(out, "mxcensus", "export", "--db", "x", "--what", "cats"), 2);
	assert_int_equal(RUN(out, "mxcensus", "export", "--db", "x", "--format", "xlsx"), 2);
	assert_int_equal(RUN(out, "mxcensus", "export", "--db", "/nonexistent/store"), 1);
	assert_non_null(strstr(out, "/nonexistent/store"));
}

static void test_later_commands(void **state)
{
	char out[8192];

	assert_int_equal(RUN(out, "mxcensus", "report", "--db", "/nonexistent/store"), 1);
	assert_non_null(strstr(out, "/nonexistent/store"));
	assert_int_equal(RUN(out, "mxcensus", "report", "--db", "x", "--format", "pdf"), 2);
	assert_int_equal(RUN(out, "mxcensus", "compare", "a"), 2);
	assert_int_equal(RUN(out, "mxcensus", "merge", "--help"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_scan_usage),
		cmocka_unit_test(test_missing_input_names_file),
		cmocka_unit_test(test_export_usage),
		cmocka_unit_test(test_later_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
