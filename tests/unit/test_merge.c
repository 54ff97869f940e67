/**
 * \file
 * Unit tests of mxc_merge_run (store/merge.c), on stores written through the
 * public store API as a scan would write them:
 *
 * - disjoint shards: every record arrives byte for byte, counters are
 *   summed, the runs database holds the merge's own run first and one
 *   record per shard, and the merge is the store's run;
 * - overlapping records: a host (or domain) in several inputs keeps the
 *   most recent record, ties going to the greater run id, whatever the
 *   order of the inputs;
 * - bad inputs: missing, not a store, the same store twice (by path, by a
 *   symbolic link, by a copy), the same shard twice, a store a running
 *   scan holds, the output among the inputs, a non-empty output; none of
 *   them leaves an output behind; warnings for missing shards, unfinished
 *   runs and inputs of different scans;
 * - a merge killed (SIGKILL, from the commit hook, so at an exact point)
 *   after any of its transactions: the same command completes it into a
 *   store equal to that of a merge never killed, other inputs are refused,
 *   and a finished merge run again does nothing.
 *
 * Every test works in its own directory under /tmp and removes it. The runs
 * database is read with LMDB directly, since the store API shows one run.
 */
#include <dirent.h>
#include <errno.h>
#include <lmdb.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_plant.h"

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "store/merge.h"
#include "store/store.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static int make_tmpdir(void **state)
{
	char *dir = mxc_strdup("/tmp/mxc-test-merge-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	*state = dir;
	return 0;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) != 0)
			remove_tree(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int drop_tmpdir(void **state)
{
	remove_tree(*state);
	mxc_free(*state);
	mxc_merge_test_on_commit(NULL);
	return 0;
}

/* Path of @p name under the test directory, in a ring of 64 static buffers:
 * a test asks for fewer. */
static const char *sub(void **state, const char *name)
{
	static char bufs[64][512];
	static unsigned next;
	char *b = bufs[next++ % 64];

	snprintf(b, sizeof(bufs[0]), "%s/%s", (const char *)*state, name);
	return b;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* A scan's store: its run begun, to be filled and closed by the caller. */
static struct mxc_store *new_store(const char *dir, const char *run_id, const char *shard,
				   int64_t started)
{
	struct mxc_run_info ri, got;
	struct mxc_store *s;
	char err[256];

	assert_int_equal(mxc_store_open(dir, MXC_STORE_CREATE, 1000, &s, err, sizeof(err)), 0);
	memset(&ri, 0, sizeof(ri));
	snprintf(ri.run_id, sizeof(ri.run_id), "%s", run_id);
	snprintf(ri.shard, sizeof(ri.shard), "%s", shard);
	snprintf(ri.args, sizeof(ri.args), "scan --shard %s", shard);
	ri.started_at = started;
	assert_int_equal(mxc_store_run_begin(s, &ri, &got), 0);
	return s;
}

static void end_store(struct mxc_store *s, int64_t finished)
{
	if (finished)
		assert_int_equal(mxc_store_run_finish(s, finished), 0);
	assert_int_equal(mxc_store_close(s), 0);
}

static void put_domain(struct mxc_store *s, const char *name, const char *run, int64_t at,
		       const char *mx)
{
	struct mxc_mx m = { 10, (char *)mx };
	uint8_t wire[12] = { 0x12, 0x34, 0x81, 0x80 };
	struct mxc_raw_answer raw = { .qname = (char *)name, .qtype = 15, .wire = wire,
				      .wire_len = sizeof(wire) };
	struct mxc_domain_rec r = { .domain = (char *)name, .run_id = (char *)run,
				    .scanned_at = at, .mx_status = MXC_MX_OK, .n_mx = 1,
				    .mx = &m, .n_raw = 1, .raw = &raw };

	assert_int_equal(mxc_store_domain_put(s, &r), 0);
}

static void put_host(struct mxc_store *s, const char *name, const char *run, int64_t at,
		     uint8_t octet)
{
	struct mxc_addr a = { .family = 4, .addr = { 192, 0, 2, octet } };
	struct mxc_host_rec h = { .host = (char *)name, .run_id = (char *)run,
				  .resolved_at = at, .n_addr = 1, .addrs = &a };

	assert_int_equal(mxc_store_host_put(s, &h), 0);
}

/* A shard store with @p n domains d<first>..d<first+n-1>.test whose MX hosts
 * are shared between shards (mx<i % 7>.test). */
static void make_shard(const char *dir, const char *run_id, const char *shard, unsigned first,
		       unsigned n, int64_t at)
{
	struct mxc_store *s = new_store(dir, run_id, shard, at);
	char name[64], mx[64];

	for (unsigned i = first; i < first + n; i++) {
		snprintf(name, sizeof(name), "d%05u.test", i);
		snprintf(mx, sizeof(mx), "mx%u.test", i % 7);
		put_domain(s, name, run_id, at + i, mx);
		if (i - first < 7) {
			snprintf(mx, sizeof(mx), "mx%u.test", i % 7);
			put_host(s, mx, run_id, at, (uint8_t)(i % 7));
		}
	}
	assert_int_equal(mxc_store_counter_add(s, "done", n), 0);
	assert_int_equal(mxc_store_counter_add(s, "timeouts", 1), 0);
	end_store(s, at + 1000);
}

static struct mxc_store *open_ro(const char *dir)
{
	struct mxc_store *s;
	char err[256];

	assert_int_equal(mxc_store_open(dir, MXC_STORE_RDONLY, 1, &s, err, sizeof(err)), 0);
	return s;
}

/* A fingerprint of a store's records: "name=hash" lines, in key order. */
struct fp {
	struct mxc_buf out;
	struct mxc_buf enc;
};

static int fp_domain(void *arg, const struct mxc_domain_rec *r)
{
	struct fp *f = arg;
	char line[320];

	mxc_buf_reset(&f->enc);
	assert_int_equal(mxc_domain_rec_encode(r, &f->enc), 0);
	snprintf(line, sizeof(line), "D %s=%016llx\n", r->domain,
		 (unsigned long long)mxc_hash64(f->enc.data, f->enc.len));
	return mxc_buf_append(&f->out, line, strlen(line));
}

static int fp_host(void *arg, const struct mxc_host_rec *r)
{
	struct fp *f = arg;
	char line[320];

	mxc_buf_reset(&f->enc);
	assert_int_equal(mxc_host_rec_encode(r, &f->enc), 0);
	snprintf(line, sizeof(line), "H %s=%016llx\n", r->host,
		 (unsigned long long)mxc_hash64(f->enc.data, f->enc.len));
	return mxc_buf_append(&f->out, line, strlen(line));
}

/* Caller frees. */
static char *fingerprint(const char *dir)
{
	struct mxc_store *s = open_ro(dir);
	struct fp f;
	uint64_t v;
	char line[128], *res;

	mxc_buf_init(&f.out, 64u << 20);
	mxc_buf_init(&f.enc, 1u << 20);
	assert_int_equal(mxc_store_each_domain(s, fp_domain, NULL, &f), 0);
	assert_int_equal(mxc_store_each_host(s, fp_host, NULL, &f), 0);
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	snprintf(line, sizeof(line), "C done=%llu\n", (unsigned long long)v);
	assert_int_equal(mxc_buf_append(&f.out, line, strlen(line) + 1), 0);
	assert_int_equal(mxc_store_close(s), 0);
	res = mxc_strdup((const char *)f.out.data);
	mxc_buf_free(&f.out);
	mxc_buf_free(&f.enc);
	return res;
}

/* The run database's keys, one a line (LMDB directly). Caller frees. */
static char *run_keys(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	struct mxc_buf b;
	char *res;

	mxc_buf_init(&b, 1u << 20);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "runs", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		assert_int_equal(mxc_buf_append(&b, k.mv_data, k.mv_size), 0);
		assert_int_equal(mxc_buf_append_u8(&b, '\n'), 0);
	}
	assert_int_equal(mxc_buf_append_u8(&b, 0), 0);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	res = mxc_strdup((const char *)b.data);
	mxc_buf_free(&b);
	return res;
}

static int merge(const char *out, const char *const *in, size_t n, unsigned batch,
		 struct mxc_merge_stats *st, char *err, size_t errlen)
{
	struct mxc_merge_opts o = { .out = out, .inputs = in, .n_inputs = n,
				    .batch_size = batch, .args = "merge (test)" };

	return mxc_merge_run(&o, st, err, errlen);
}

/* Finds host @p name in a store and returns its resolved_at and run id. */
struct find_host {
	const char *name;
	int64_t at;
	char run[40];
	uint8_t octet;
	int found;
};

static int find_host_cb(void *arg, const struct mxc_host_rec *r)
{
	struct find_host *fh = arg;

	if (strcmp(r->host, fh->name) == 0) {
		fh->at = r->resolved_at;
		snprintf(fh->run, sizeof(fh->run), "%s", r->run_id ? r->run_id : "");
		fh->octet = r->n_addr ? r->addrs[0].addr[3] : 0;
		fh->found++;
	}
	return 0;
}

static struct find_host find_host(const char *dir, const char *name)
{
	struct find_host fh = { .name = name };
	struct mxc_store *s = open_ro(dir);

	assert_int_equal(mxc_store_each_host(s, find_host_cb, NULL, &fh), 0);
	assert_int_equal(mxc_store_close(s), 0);
	return fh;
}

struct find_dom {
	const char *name;
	char run[40];
	int found;
};

static int find_dom_cb(void *arg, const struct mxc_domain_rec *r)
{
	struct find_dom *fd = arg;

	if (strcmp(r->domain, fd->name) == 0) {
		snprintf(fd->run, sizeof(fd->run), "%s", r->run_id ? r->run_id : "");
		fd->found++;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Disjoint shards                                                           */

static void test_disjoint_shards(void **state)
{
	const char *in[3] = { sub(state, "s0"), sub(state, "s1"), sub(state, "s2") };
	const char *out = sub(state, "out");
	struct mxc_merge_stats st;
	struct mxc_run_info ri;
	struct mxc_store *s;
	char err[512], *fo, *f0, *keys, want[512];
	uint64_t nd, nh, v;

	make_shard(in[0], "20261129T010000Z-aaaaaa", "0/3", 0, 40, 1000);
	make_shard(in[1], "20261129T010001Z-bbbbbb", "1/3", 40, 35, 1000);
	make_shard(in[2], "20261129T010002Z-cccccc", "2/3", 75, 30, 1000);
	assert_int_equal(merge(out, in, 3, 16, &st, err, sizeof(err)), 0);
	assert_false(st.resumed);
	assert_false(st.already_done);
	assert_int_equal(st.domains, 105);
	assert_int_equal(st.domains_read, 105);
	assert_int_equal(st.domains_shared, 0);
	/* mx0..mx6 are in every shard; each kept once. */
	assert_int_equal(st.hosts, 7);
	assert_int_equal(st.hosts_read, 21);
	assert_int_equal(st.hosts_shared, 14);
	assert_int_equal(st.corrupt, 0);
	assert_int_equal(st.warnings, 0);

	s = open_ro(out);
	assert_int_equal(mxc_store_count(s, &nd, &nh), 0);
	assert_int_equal(nd, 105);
	assert_int_equal(nh, 7);
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_int_equal(v, 105);
	assert_int_equal(mxc_store_counter_get(s, "timeouts", &v), 0);
	assert_int_equal(v, 3);
	/* The store's run is the merge. */
	assert_int_equal(mxc_store_run_get(s, &ri), 0);
	assert_string_equal(ri.run_id, st.run_id);
	assert_string_equal(ri.shard, MXC_MERGE_SHARD);
	assert_string_equal(ri.args, "merge (test)");
	assert_true(ri.finished_at > 0);
	assert_int_equal(mxc_store_close(s), 0);

	/* Each shard's domain records are in the merge unchanged. */
	fo = fingerprint(out);
	for (int k = 0; k < 3; k++) {
		const char *line;

		f0 = fingerprint(in[k]);
		for (line = f0; *line == 'D'; line = strchr(line, '\n') + 1) {
			char one[128];

			snprintf(one, sizeof(one), "%.*s", (int)(strchr(line, '\n') - line + 1),
				 line);
			assert_non_null(strstr(fo, one));
		}
		mxc_free(f0);
	}
	mxc_free(fo);

	/* Runs: the merge's first, then each shard's under its index. */
	keys = run_keys(out);
	snprintf(want, sizeof(want),
		 "%s\n%s/000000/20261129T010000Z-aaaaaa\n%s/000001/20261129T010001Z-bbbbbb\n"
		 "%s/000002/20261129T010002Z-cccccc\n",
		 st.run_id, st.run_id, st.run_id, st.run_id);
	assert_string_equal(keys, want);
	mxc_free(keys);

	/* From a tiny map, grown by the engine: the same store. */
	{
		struct mxc_merge_opts o = { .out = sub(state, "tiny"), .inputs = in,
					    .n_inputs = 3, .batch_size = 8,
					    .mapsize = 64u << 10 };

		assert_int_equal(mxc_merge_run(&o, &st, err, sizeof(err)), 0);
		fo = fingerprint(out);
		f0 = fingerprint(o.out);
		assert_string_equal(fo, f0);
		mxc_free(fo);
		mxc_free(f0);
	}

	/* A merged store can be an input again: its shards count as its runs. */
	{
		const char *again[1] = { out };
		const char *out2 = sub(state, "out2");

		assert_int_equal(merge(out2, again, 1, 0, &st, err, sizeof(err)), 0);
		assert_int_equal(st.domains, 105);
		assert_int_equal(st.warnings, 0);
		fo = fingerprint(out);
		f0 = fingerprint(out2);
		assert_string_equal(fo, f0);
		mxc_free(fo);
		mxc_free(f0);
	}
}

/* ------------------------------------------------------------------------ */
/* Overlapping records                                                       */

static void test_overlapping_hosts(void **state)
{
	const char *a = sub(state, "a"), *b = sub(state, "b"), *c = sub(state, "c");
	const char *ab[2] = { a, b }, *ba[2] = { b, a }, *abc[3] = { a, b, c };
	struct mxc_merge_stats st;
	struct find_host fh;
	struct mxc_store *s;
	char err[512];

	/* mx.test: older in a, newer in b. tie.test: the same time in both,
	 * run ids decide. */
	s = new_store(a, "20261129T010000Z-000001", "0/2", 100);
	put_domain(s, "one.test", "20261129T010000Z-000001", 100, "mx.test");
	put_host(s, "mx.test", "20261129T010000Z-000001", 100, 1);
	put_host(s, "tie.test", "20261129T010000Z-000001", 150, 1);
	put_host(s, "only-a.test", "20261129T010000Z-000001", 100, 1);
	end_store(s, 200);
	s = new_store(b, "20261129T010000Z-000002", "1/2", 100);
	put_domain(s, "two.test", "20261129T010000Z-000002", 100, "mx.test");
	put_host(s, "mx.test", "20261129T010000Z-000002", 180, 2);
	put_host(s, "tie.test", "20261129T010000Z-000002", 150, 2);
	end_store(s, 200);

	for (int order = 0; order < 2; order++) {
		const char *out = sub(state, order ? "out-ba" : "out-ab");

		assert_int_equal(merge(out, order ? ba : ab, 2, 1, &st, err, sizeof(err)), 0);
		assert_int_equal(st.hosts, 3);
		assert_int_equal(st.hosts_shared, 2);
		/* In order a, b both of b's replace; in order b, a neither. */
		assert_int_equal(st.replaced, order ? 0 : 2);
		fh = find_host(out, "mx.test");
		assert_int_equal(fh.found, 1);
		assert_int_equal(fh.at, 180);
		assert_int_equal(fh.octet, 2);
		fh = find_host(out, "tie.test");
		assert_string_equal(fh.run, "20261129T010000Z-000002");
		fh = find_host(out, "only-a.test");
		assert_int_equal(fh.found, 1);
	}
	{
		char *f1 = fingerprint(sub(state, "out-ab")), *f2 = fingerprint(sub(state, "out-ba"));

		assert_string_equal(f1, f2);
		mxc_free(f1);
		mxc_free(f2);
	}

	/* A whole-list scan beside the shards: a domain in both keeps the
	 * later record, and the merge warns of inputs of different scans. */
	s = new_store(c, "20261130T000000Z-000003", "", 300);
	put_domain(s, "one.test", "20261130T000000Z-000003", 300, "mx.test");
	put_host(s, "mx.test", "20261130T000000Z-000003", 90, 3);
	end_store(s, 400);
	assert_int_equal(merge(sub(state, "out-abc"), abc, 3, 0, &st, err, sizeof(err)), 0);
	assert_true(st.warnings >= 1);
	assert_int_equal(st.domains, 2);
	assert_int_equal(st.domains_shared, 1);
	{
		struct find_dom fd = { .name = "one.test" };

		s = open_ro(sub(state, "out-abc"));
		assert_int_equal(mxc_store_each_domain(s, find_dom_cb, NULL, &fd), 0);
		assert_int_equal(mxc_store_close(s), 0);
		assert_int_equal(fd.found, 1);
		assert_string_equal(fd.run, "20261130T000000Z-000003");
	}
	/* c's mx.test is older than b's: b's stays. */
	fh = find_host(sub(state, "out-abc"), "mx.test");
	assert_int_equal(fh.at, 180);
}

/* ------------------------------------------------------------------------ */
/* Bad inputs                                                                */

static unsigned g_commits, g_kill_at;

static void count_commits(unsigned n)
{
	g_commits = n;
}

static void kill_at(unsigned n)
{
	if (n == g_kill_at)
		raise(SIGKILL);
}

/* The merge fails with @p code, its message names @p what, and it leaves
 * no output behind. */
static void refused(const char *out, const char *const *in, size_t n, int code,
		    const char *what)
{
	char err[1024];
	bool had = exists(out);

	err[0] = '\0';
	assert_int_equal(merge(out, in, n, 0, NULL, err, sizeof(err)), code);
	if (!strstr(err, what))
		fail_msg("message '%s' does not name '%s'", err, what);
	if (!had)
		assert_false(exists(out));
}

static void test_bad_inputs(void **state)
{
	const char *a = sub(state, "a"), *b = sub(state, "b"), *out = sub(state, "out");
	char copy[512], link[512], other[512], plain[512], cmd[1200], err[512];
	struct mxc_merge_stats st;
	struct mxc_store *s;

	make_shard(a, "20261129T010000Z-00000a", "0/3", 0, 10, 1000);
	make_shard(b, "20261129T010000Z-00000b", "1/3", 10, 10, 1000);

	{
		const char *in[2] = { a, "/nonexistent/store" };

		refused(out, in, 2, MXC_EINVAL, "/nonexistent/store");
	}
	snprintf(plain, sizeof(plain), "%s/plain", (const char *)*state);
	assert_int_equal(mkdir(plain, 0755), 0);
	{
		const char *in[2] = { a, plain };

		refused(out, in, 2, MXC_EINVAL, plain);
	}
	{
		const char *in[2] = { a, a };

		refused(out, in, 2, MXC_EINVAL, "same store");
	}
	snprintf(link, sizeof(link), "%s/link", (const char *)*state);
	assert_int_equal(symlink(a, link), 0);
	{
		const char *in[3] = { a, b, link };

		refused(out, in, 3, MXC_EINVAL, link);
	}
	/* A copy: another directory, the same run. */
	snprintf(copy, sizeof(copy), "%s/copy", (const char *)*state);
	snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s'", a, copy);
	assert_int_equal(system(cmd), 0);
	{
		const char *in[2] = { a, copy };

		refused(out, in, 2, MXC_EINVAL, "20261129T010000Z-00000a");
	}
	/* Another scan's store of a shard already given. */
	snprintf(other, sizeof(other), "%s/other", (const char *)*state);
	make_shard(other, "20261130T000000Z-0000ff", "1/3", 10, 10, 2000);
	{
		const char *in[3] = { a, b, other };

		refused(out, in, 3, MXC_EINVAL, "shard 1/3 given twice");
	}
	/* A store a scan is writing. */
	assert_int_equal(mxc_store_open(b, MXC_STORE_CREATE, 10, &s, err, sizeof(err)), 0);
	{
		const char *in[2] = { a, b };

		refused(out, in, 2, MXC_EAGAIN, b);
	}
	assert_int_equal(mxc_store_close(s), 0);
	/* The output among the inputs; an output that holds something. */
	{
		const char *in[2] = { a, b };

		refused(a, in, 2, MXC_EINVAL, "both an input and --out");
		refused(b, in + 1, 1, MXC_EINVAL, "both an input and --out");
		refused(other, in, 2, MXC_EEXIST, "not a merge");
		snprintf(cmd, sizeof(cmd), "%s/notes.txt", plain);
		{
			FILE *f = fopen(cmd, "w");

			assert_non_null(f);
			fputs("mine\n", f);
			fclose(f);
		}
		refused(plain, in, 2, MXC_EEXIST, plain);
		refused(cmd, in, 2, MXC_EEXIST, "not a directory");
	}
	/* Missing shard: merged, with a warning. An empty directory is a
	 * fine output. */
	{
		const char *in[2] = { a, b };
		char empty[512];

		snprintf(empty, sizeof(empty), "%s/empty", (const char *)*state);
		assert_int_equal(mkdir(empty, 0755), 0);
		assert_int_equal(merge(empty, in, 2, 0, &st, err, sizeof(err)), 0);
		assert_int_equal(st.warnings, 1);
		assert_int_equal(st.domains, 20);
		/* Run again: it is done already. Other inputs: refused. */
		assert_int_equal(merge(empty, in, 2, 0, &st, err, sizeof(err)), 0);
		assert_true(st.already_done);
		refused(empty, in, 1, MXC_EEXIST, "other inputs");
	}
	/* A damaged record: skipped, counted, the rest merged. */
	{
		const char *d = sub(state, "d");
		const char *in[3] = { a, b, d };

		make_shard(d, "20261129T010000Z-00000d", "2/3", 20, 5, 1000);
		plant_domain(d, "bad.test", "\0\1junk", 5);
		assert_int_equal(merge(sub(state, "out-d"), in, 3, 0, &st, err, sizeof(err)), 0);
		assert_int_equal(st.corrupt, 1);
		assert_int_equal(st.domains, 25);
		assert_int_equal(st.warnings, 1);
	}
	/* A merge that was killed is no input until it is completed. */
	{
		const char *half = sub(state, "half");
		const char *in[2] = { a, b }, *in2[1] = { half };
		pid_t pid;

		g_kill_at = 1;
		fflush(NULL);
		pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			mxc_log_set_level(MXC_LOG_ERROR);
			mxc_merge_test_on_commit(kill_at);
			merge(half, in, 2, 0, NULL, err, sizeof(err));
			_exit(3);
		}
		assert_int_equal(waitpid(pid, NULL, 0), pid);
		refused(sub(state, "out-half"), in2, 1, MXC_EINVAL, "unfinished merge");
	}
	/* An unfinished run: merged, with a warning naming it. */
	{
		const char *c = sub(state, "c");
		const char *in[3] = { a, b, c };

		s = new_store(c, "20261129T010000Z-00000c", "2/3", 1000);
		put_domain(s, "late.test", "20261129T010000Z-00000c", 1000, "mx.test");
		end_store(s, 0);
		assert_int_equal(merge(sub(state, "out-c"), in, 3, 0, &st, err, sizeof(err)), 0);
		assert_int_equal(st.warnings, 1);
		assert_int_equal(st.domains, 21);
	}
}

/* ------------------------------------------------------------------------ */
/* Killed and completed                                                      */

static void test_kill_resume(void **state)
{
	const char *in[3] = { sub(state, "s0"), sub(state, "s1"), sub(state, "s2") };
	const char *ref = sub(state, "ref");
	struct mxc_merge_stats st;
	char err[512], *fref, *fout;
	unsigned points[4];

	make_shard(in[0], "20261129T010000Z-aaaaaa", "0/3", 0, 200, 1000);
	make_shard(in[1], "20261129T010001Z-bbbbbb", "1/3", 200, 150, 1000);
	make_shard(in[2], "20261129T010002Z-cccccc", "2/3", 350, 170, 1000);
	mxc_merge_test_on_commit(count_commits);
	assert_int_equal(merge(ref, in, 3, 32, &st, err, sizeof(err)), 0);
	mxc_merge_test_on_commit(NULL);
	/* 1 for the runs, 520 / 32 batches and a few partial ones, 1 finish. */
	assert_true(g_commits >= 18);
	fref = fingerprint(ref);
	/* After the first transaction, early, in the middle, before the last. */
	points[0] = 1;
	points[1] = 2;
	points[2] = g_commits / 2;
	points[3] = g_commits - 1;

	for (unsigned p = 0; p < MXC_ARRAY_SIZE(points); p++) {
		char name[32];
		const char *out;
		struct mxc_run_info ri;
		struct mxc_store *s;
		int status;
		pid_t pid;

		snprintf(name, sizeof(name), "out%u", p);
		out = sub(state, name);
		g_kill_at = points[p];
		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			mxc_log_set_level(MXC_LOG_ERROR);
			mxc_merge_test_on_commit(kill_at);
			merge(out, in, 3, 32, NULL, err, sizeof(err));
			_exit(3); /* not reached: killed at commit g_kill_at */
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

		/* What a reader sees: an unfinished merge. */
		s = open_ro(out);
		assert_int_equal(mxc_store_run_get(s, &ri), 0);
		assert_string_equal(ri.shard, MXC_MERGE_SHARD);
		assert_int_equal(ri.finished_at, 0);
		assert_int_equal(mxc_store_close(s), 0);

		/* Other inputs are refused; the same ones complete it. */
		{
			const char *swapped[3] = { in[1], in[0], in[2] };

			err[0] = '\0';
			assert_int_equal(merge(out, swapped, 3, 32, &st, err, sizeof(err)),
					 MXC_EEXIST);
			assert_non_null(strstr(err, "unfinished"));
		}
		assert_int_equal(merge(out, in, 3, 32, &st, err, sizeof(err)), 0);
		assert_true(st.resumed);
		assert_int_equal(st.domains, 520);
		fout = fingerprint(out);
		assert_string_equal(fout, fref);
		mxc_free(fout);
		s = open_ro(out);
		assert_int_equal(mxc_store_run_get(s, &ri), 0);
		assert_true(ri.finished_at > 0);
		assert_int_equal(mxc_store_close(s), 0);
	}
	mxc_free(fref);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_tmpdir, drop_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_disjoint_shards),
		T(test_overlapping_hosts),
		T(test_bad_inputs),
		T(test_kill_resume),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
