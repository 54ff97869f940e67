/**
 * \file
 * Unit tests of what keeps a scan's memory flat as the store grows
 * (store/README.md, "Memory"):
 *
 * - the filter of names put, which answers lookups in a store that was
 *   empty at open: no false negative, whether the name is pending, being
 *   committed or committed, for domains and hosts; and a store that held
 *   any record at open (a resumed scan) never uses it, since names it holds
 *   were put by an earlier handle;
 * - the pages of the map dropped from the process after commits and
 *   during walks, measured in /proc/self/smaps (skipped where there is
 *   none);
 * - a batch committed as several transactions, counters with their
 *   records, a commit interrupted by a full map going on where it stopped.
 *
 * Every test works in its own fresh directory under /tmp and removes it.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/error.h"
#include "store/store.h"

static int make_tmpdir(void **state)
{
	char *dir = mxc_strdup("/tmp/mxc-test-storemem-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	*state = dir;
	return 0;
}

static int drop_tmpdir(void **state)
{
	char *dir = *state;
	char path[512];
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	mxc_free(dir);
	return 0;
}

static struct mxc_store *open_rw(const char *dir, unsigned batch)
{
	struct mxc_store *s = NULL;
	char err[256];
	int r = mxc_store_open(dir, MXC_STORE_CREATE, batch, &s, err, sizeof(err));

	if (r)
		fail_msg("open %s: %s (%s)", dir, err, mxc_strerror(r));
	return s;
}

/* Names of domain @p i: "m<i>.example", not in key order of i. */
static void dname(unsigned i, char *out, size_t len)
{
	snprintf(out, len, "m%u.example", i);
}

/* Puts domain @p i with a raw answer of @p wire_len bytes. */
static void put_domain(struct mxc_store *s, unsigned i, uint32_t wire_len)
{
	static uint8_t wire[2048];
	char name[64];
	struct mxc_raw_answer raw = { 0 };
	struct mxc_domain_rec r = { 0 };

	dname(i, name, sizeof(name));
	memset(wire, (int)(i & 0xff), sizeof(wire));
	raw.qname = name;
	raw.qtype = 15;
	raw.wire = wire;
	raw.wire_len = wire_len < sizeof(wire) ? wire_len : sizeof(wire);
	r.domain = name;
	r.run_id = "run-mem";
	r.scanned_at = 1700000000 + i;
	r.n_raw = 1;
	r.raw = &raw;
	assert_int_equal(mxc_store_domain_put(s, &r), 0);
}

static void put_host(struct mxc_store *s, const char *host)
{
	struct mxc_host_rec h = { 0 };

	h.host = (char *)host;
	h.run_id = "run-mem";
	h.resolved_at = 1700000000;
	assert_int_equal(mxc_store_host_put(s, &h), 0);
}

static int exists(struct mxc_store *s, unsigned i)
{
	char name[64];

	dname(i, name, sizeof(name));
	return mxc_store_domain_exists(s, name);
}

/*
 * A fresh store: every name put is found at every stage (pending, being
 * committed by the committer thread, committed), every other name is not;
 * the same across a reopen, where the lookups go to LMDB.
 */
static void test_fresh_store_no_false_negative(void **state)
{
	const char *dir = *state;
	const unsigned n = 20000;
	struct mxc_store *s = open_rw(dir, 500);
	unsigned found = 0;

	for (unsigned i = 0; i < n; i++) {
		put_domain(s, i, 16);
		/* Just put (pending), and one put a batch ago (committing
		 * or committed, whichever the committer thread reached). */
		assert_int_equal(exists(s, i), 1);
		if (i >= 500)
			assert_int_equal(exists(s, i - 500), 1);
		if (i % 997 == 0)
			assert_int_equal(mxc_store_commit_async(s), 0);
	}
	put_host(s, "mx1.example.net");
	assert_int_equal(mxc_store_flush(s), 0);
	for (unsigned i = 0; i < 2 * n; i++) {
		int r = exists(s, i);

		assert_true(r == 0 || r == 1);
		found += (unsigned)r;
		assert_int_equal(r, i < n);
	}
	assert_int_equal(found, n);
	assert_int_equal(mxc_store_host_exists(s, "mx1.example.net"), 1);
	assert_int_equal(mxc_store_host_exists(s, "mx2.example.net"), 0);
	/* A host name is not a domain name, and the other way round. */
	assert_int_equal(mxc_store_domain_exists(s, "mx1.example.net"), 0);
	assert_int_equal(mxc_store_close(s), 0);

	s = open_rw(dir, 500);
	for (unsigned i = 0; i < 2 * n; i += 7)
		assert_int_equal(exists(s, i), i < n);
	assert_int_equal(mxc_store_host_exists(s, "mx1.example.net"), 1);
	assert_int_equal(mxc_store_close(s), 0);
}

/*
 * A store that holds records when it is opened must look names up in the
 * engine: a filter of this handle's puts alone would deny them. Also when
 * it holds only a host, or only a domain.
 */
static void test_resumed_store_is_looked_up(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 100);

	put_host(s, "mx-only.example.net");
	assert_int_equal(mxc_store_close(s), 0);

	s = open_rw(dir, 100);
	assert_int_equal(mxc_store_host_exists(s, "mx-only.example.net"), 1);
	put_domain(s, 1, 16);
	assert_int_equal(mxc_store_close(s), 0);

	s = open_rw(dir, 100);
	assert_int_equal(exists(s, 1), 1);
	assert_int_equal(mxc_store_host_exists(s, "mx-only.example.net"), 1);
	for (unsigned i = 2; i < 300; i++)
		put_domain(s, i, 16);
	/* Putting again what an earlier handle committed changes nothing,
	 * and it is still found after this handle's own commits. */
	put_domain(s, 1, 32);
	assert_int_equal(mxc_store_flush(s), 0);
	for (unsigned i = 1; i < 300; i++)
		assert_int_equal(exists(s, i), 1);
	assert_int_equal(exists(s, 300), 0);
	assert_int_equal(mxc_store_close(s), 0);
}

/*
 * kB of data.mdb mapped into this process (Rss of its mappings in
 * /proc/self/smaps), or -1 without /proc.
 */
static long mapped_kb(const char *dir)
{
	char want[512], line[1024];
	bool in = false;
	long kb = 0, v;
	FILE *f;

	snprintf(want, sizeof(want), "%s/data.mdb", dir);
	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		unsigned long lo, hi;

		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		/* A mapping's header starts with its address range; field
		 * lines with a name ("Rss:", also "Anonymous:"). */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = n >= strlen(want) && strcmp(line + n - strlen(want), want) == 0;
			continue;
		}
		if (in && sscanf(line, "Rss: %ld kB", &v) == 1)
			kb += v;
	}
	fclose(f);
	return kb;
}

/* What store_lmdb.c lets stay mapped (MAP_BUDGET, 8 MiB), plus the
 * overrun between two looks at it (16 puts, at most 256 KiB each) and
 * slack: the bound the tests hold the store to. */
#define MAPPED_BOUND_KB (16L << 10)

/*
 * Writing a store of ~60 MiB, then looking every record up in it again: the
 * pages are dropped whenever 8 MiB more than after the last drop are
 * mapped, so what stays mapped is bounded far below the store's size.
 * Without the drops the lookups would map all of it (checked: 58 MiB).
 * Writing it in this order maps only ~7 MiB even without drops, so the
 * first bound holds either way; a million-domain scan is where the drops
 * during writes matter (bench/run_mem.sh).
 */
static void test_map_pages_dropped(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 2000);
	struct stat st;
	char path[512];
	long kb, peak = 0;

	if (mapped_kb(dir) < 0)
		skip();
	for (unsigned i = 0; i < 32000; i++) {
		put_domain(s, i, 1400);
		/* The committer thread commits meanwhile. */
		if (i % 500 == 0) {
			kb = mapped_kb(dir);
			peak = kb > peak ? kb : peak;
		}
	}
	assert_int_equal(mxc_store_flush(s), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 2 * (MAPPED_BOUND_KB << 10));
	kb = mapped_kb(dir);
	peak = kb > peak ? kb : peak;
	if (peak > MAPPED_BOUND_KB)
		fail_msg("%ld kB of a %lld kB data.mdb mapped", peak,
			 (long long)st.st_size / 1024);
	assert_int_equal(mxc_store_close(s), 0);

	/* A reopened store (no filter): every lookup reads LMDB, and the
	 * lookups drop the pages too. */
	s = open_rw(dir, 2000);
	peak = 0;
	for (unsigned i = 0; i < 32000; i++) {
		assert_int_equal(exists(s, i), 1);
		if (i % 500 == 0) {
			kb = mapped_kb(dir);
			peak = kb > peak ? kb : peak;
		}
	}
	assert_true(peak > 0);
	if (peak > MAPPED_BOUND_KB)
		fail_msg("lookups left %ld kB of data.mdb mapped", peak);
	assert_int_equal(mxc_store_close(s), 0);
}

struct walk_peak {
	const char *dir;
	unsigned n;
	long peak_kb;
};

static int walk_peak_cb(void *arg, const struct mxc_domain_rec *r)
{
	struct walk_peak *w = arg;

	(void)r;
	if (++w->n % 500 == 0) {
		long kb = mapped_kb(w->dir);

		if (kb > w->peak_kb)
			w->peak_kb = kb;
	}
	return 0;
}

/*
 * A walk of the whole store (export, merge) reads every page of it in key
 * order: what it leaves mapped stays well below the store's size.
 */
static void test_walk_pages_dropped(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 5000);
	struct walk_peak w = { dir, 0, 0 };
	char err[256];
	struct stat st;
	char path[512];

	for (unsigned i = 0; i < 32000; i++)
		put_domain(s, i, 1400);
	assert_int_equal(mxc_store_close(s), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(stat(path, &st), 0);
	if (mapped_kb(dir) < 0)
		skip();
	assert_int_equal(mxc_store_open(dir, MXC_STORE_RDONLY, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(mxc_store_each_domain(s, walk_peak_cb, NULL, &w), 0);
	assert_int_equal(w.n, 32000);
	assert_true(w.peak_kb > 0);
	assert_true(st.st_size > 2 * (MAPPED_BOUND_KB << 10));
	if (w.peak_kb > MAPPED_BOUND_KB)
		fail_msg("a walk kept %ld kB of a %lld kB store mapped", w.peak_kb,
			 (long long)st.st_size / 1024);
	assert_int_equal(mxc_store_close(s), 0);
}

/*
 * A batch larger than one transaction is committed as several; a counter
 * delta goes with the records queued next to it. From a tiny map, the
 * committer thread runs out of map in the middle of a batch, some of its
 * transactions committed: the map is grown and the commit goes on from the
 * first transaction not committed, so every record is stored once and the
 * counter counts each exactly once (a retry of the whole batch would count
 * the committed transactions twice).
 */
static void test_batch_in_transactions(void **state)
{
	const char *dir = *state;
	const unsigned n = 2600;
	struct mxc_store *s;
	uint64_t v = 0, nd = 0;

	mxc_store_set_initial_mapsize(64 << 10);
	s = open_rw(dir, 10000);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(mxc_store_counter_add(s, "done", 1), 0);
		put_domain(s, i, 600);
	}
	/* Another counter only at the end. */
	assert_int_equal(mxc_store_counter_add(s, "tail", 7), 0);
	assert_int_equal(mxc_store_commit_async(s), 0);
	assert_int_equal(mxc_store_flush(s), 0);
	assert_true(mxc_store_mapsize(s) > (64 << 10));
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_int_equal(v, n);
	assert_int_equal(mxc_store_counter_get(s, "tail", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	assert_int_equal(nd, n);
	assert_int_equal(mxc_store_committed(s), n);

	/* The same through synchronous writes. */
	for (unsigned i = n; i < 2 * n; i++) {
		assert_int_equal(mxc_store_counter_add(s, "done", 1), 0);
		put_domain(s, i, 600);
	}
	assert_int_equal(mxc_store_flush(s), 0);
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_int_equal(v, 2 * n);
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	assert_int_equal(nd, 2 * n);
	assert_int_equal(mxc_store_close(s), 0);
	mxc_store_set_initial_mapsize(0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_tmpdir, drop_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fresh_store_no_false_negative),
		T(test_resumed_store_is_looked_up),
		T(test_map_pages_dropped),
		T(test_batch_in_transactions),
		T(test_walk_pages_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
