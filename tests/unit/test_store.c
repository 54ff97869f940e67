/**
 * \file
 * Unit tests of the LMDB results store: put, exists (pending and committed),
 * flush, reopen and ordered walks; first-write-wins; progress counters; run
 * begin and resume; map growth from a tiny map; durability across a kill -9
 * of a writer in the middle of its batches, with synchronous and with
 * asynchronous commits; read-only opening; the schema check; corrupt
 * records skipped by walks; a second writer refused.
 *
 * The committer thread: records visible to exists() before, during and
 * after their commit; puts during a commit going to the next batch;
 * counters travelling with their batch; map growth through the
 * asynchronous path; an injected commit failure reported once and its batch
 * kept; back-pressure; close with a commit in flight. The "during" state is
 * made deterministic with mxc_store_test_hold_commits, never with sleeps;
 * waiting for a released commit is a bounded loop on mxc_store_poll.
 *
 * Every test works in its own fresh directory under /tmp and removes it.
 * Some tests open the LMDB files directly to plant damage, which is why this
 * file includes <lmdb.h>.
 */
#include <dirent.h>
#include <errno.h>
#include <lmdb.h>
#include <sched.h>
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
#include "common/util.h"
#include "store/store.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static int make_tmpdir(void **state)
{
	char *dir = mxc_strdup("/tmp/mxc-test-store-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	*state = dir;
	return 0;
}

/* rm -r of a test directory: files one level down and the directory. */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) != 0) {
			/* a sub-directory made by a test */
			remove_tree(path);
		}
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int drop_tmpdir(void **state)
{
	remove_tree(*state);
	mxc_free(*state);
	mxc_store_set_initial_mapsize(0);
	mxc_store_test_hold_commits(false);
	mxc_store_test_fail_commits(0);
	return 0;
}

static char *sub(const char *dir, const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static bool file_exists(const char *dir, const char *name)
{
	struct stat st;

	return stat(sub(dir, name), &st) == 0;
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

static struct mxc_store *open_ro(const char *dir)
{
	struct mxc_store *s = NULL;
	char err[256];
	int r = mxc_store_open(dir, MXC_STORE_RDONLY, 0, &s, err, sizeof(err));

	if (r)
		fail_msg("open ro %s: %s (%s)", dir, err, mxc_strerror(r));
	return s;
}

static uint8_t wire_mx[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 7, 'e' };

/* A domain record whose contents depend on @p i, in @p name (>= 32 bytes). */
static struct mxc_domain_rec make_domain(unsigned i, char *name, struct mxc_mx *mx,
					 struct mxc_raw_answer *raw)
{
	struct mxc_domain_rec r = { 0 };

	memset(mx, 0, sizeof(*mx));
	memset(raw, 0, sizeof(*raw));
	/* Zero-padded, so that key order is numeric order. */
	snprintf(name, 32, "d%07u.example", i);
	raw[0].status = (uint8_t)(i % 3);
	raw[0].rcode = (uint8_t)(i % 5);
	mx[0].pref = (uint16_t)(i % 50);
	mx[0].host = "mx.example.net";
	raw[0].qname = name;
	raw[0].qtype = 15;
	raw[0].wire = wire_mx;
	raw[0].wire_len = sizeof(wire_mx);
	r.domain = name;
	r.run_id = "run-test";
	r.scanned_at = 1700000000 + i;
	r.rank = i;
	r.mx_status = (uint8_t)(i % MXC_MX__COUNT);
	r.n_mx = 1;
	r.mx = mx;
	r.n_raw = 1;
	r.raw = raw;
	return r;
}

static void put_domain(struct mxc_store *s, unsigned i)
{
	char name[32];
	struct mxc_mx mx[1];
	struct mxc_raw_answer raw[1];
	struct mxc_domain_rec r = make_domain(i, name, mx, raw);

	assert_int_equal(mxc_store_domain_put(s, &r), 0);
}

static int domain_exists(struct mxc_store *s, unsigned i)
{
	char name[32];

	snprintf(name, sizeof(name), "d%07u.example", i);
	return mxc_store_domain_exists(s, name);
}

/** What a walk saw. */
struct seen {
	unsigned n;
	unsigned next;     /* index expected next, for order */
	bool in_order;
	bool all_equal;    /* each record equal to make_domain(index) */
	unsigned corrupt;
	char corrupt_key[64];
	char corrupt_db[16];
	int corrupt_err;
	unsigned stop_after; /* 0 = never */
};

static int seen_domain(void *arg, const struct mxc_domain_rec *r)
{
	struct seen *sn = arg;
	char name[32];
	struct mxc_mx mx[1];
	struct mxc_raw_answer raw[1];
	struct mxc_domain_rec want;
	unsigned i;

	if (sscanf(r->domain, "d%7u.example", &i) != 1) {
		sn->all_equal = false;
		return 0;
	}
	want = make_domain(i, name, mx, raw);
	if (!mxc_domain_rec_equal(&want, r))
		sn->all_equal = false;
	if (i != sn->next)
		sn->in_order = false;
	sn->next = i + 1;
	sn->n++;
	if (sn->stop_after && sn->n == sn->stop_after)
		return 42;
	return 0;
}

static void seen_corrupt(void *arg, const char *db, const char *key, int err)
{
	struct seen *sn = arg;

	sn->corrupt++;
	snprintf(sn->corrupt_key, sizeof(sn->corrupt_key), "%s", key);
	snprintf(sn->corrupt_db, sizeof(sn->corrupt_db), "%s", db);
	sn->corrupt_err = err;
}

static struct seen walk(struct mxc_store *s)
{
	struct seen sn = { .in_order = true, .all_equal = true };

	assert_int_equal(mxc_store_each_domain(s, seen_domain, seen_corrupt, &sn), 0);
	return sn;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */

static void test_put_exists_flush_reopen(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 1000);
	uint64_t nd = 99, nh = 99;
	struct seen sn;

	assert_true(file_exists(dir, "data.mdb"));
	assert_int_equal(domain_exists(s, 1), 0);
	/* Put in reverse order: the walk must still be in key order. */
	for (unsigned i = 10; i-- > 0;)
		put_domain(s, i);
	assert_int_equal(mxc_store_pending(s), 10);
	/* Pending, not committed: exists says yes, count says none. */
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(domain_exists(s, i), 1);
	assert_int_equal(domain_exists(s, 10), 0);
	assert_int_equal(mxc_store_count(s, &nd, &nh), 0);
	assert_int_equal(nd, 0);
	assert_int_equal(nh, 0);
	sn = walk(s);
	assert_int_equal(sn.n, 0);

	assert_int_equal(mxc_store_flush(s), 0);
	assert_int_equal(mxc_store_pending(s), 0);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(domain_exists(s, i), 1);
	assert_int_equal(domain_exists(s, 10), 0);
	assert_int_equal(mxc_store_count(s, &nd, &nh), 0);
	assert_int_equal(nd, 10);
	/* Argument checks. */
	assert_int_equal(mxc_store_domain_exists(s, ""), MXC_EINVAL);
	assert_int_equal(mxc_store_domain_exists(s, NULL), MXC_EINVAL);
	assert_int_equal(mxc_store_close(s), 0);

	s = open_rw(dir, 1000);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(domain_exists(s, i), 1);
	sn = walk(s);
	assert_int_equal(sn.n, 10);
	assert_true(sn.in_order);
	assert_true(sn.all_equal);
	assert_int_equal(sn.corrupt, 0);
	/* A callback's non-zero return stops the walk and is returned. */
	sn = (struct seen){ .in_order = true, .all_equal = true, .stop_after = 3 };
	assert_int_equal(mxc_store_each_domain(s, seen_domain, NULL, &sn), 42);
	assert_int_equal(sn.n, 3);
	/* Records put but never flushed are committed by close. */
	put_domain(s, 10);
	assert_int_equal(mxc_store_close(s), 0);
	s = open_ro(dir);
	assert_int_equal(domain_exists(s, 10), 1);
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	assert_int_equal(nd, 11);
	assert_int_equal(mxc_store_close(s), 0);
}

static int first_host(void *arg, const struct mxc_host_rec *r)
{
	struct mxc_host_rec *copy = arg;

	copy->resolved_at = r->resolved_at;
	copy->n_addr = r->n_addr;
	return 0;
}

static void test_first_write_wins_and_hosts(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 1000);
	struct mxc_addr a = { 4, { 127, 0, 0, 1 } };
	struct mxc_host_rec h = { .host = "mx.example", .run_id = "r", .resolved_at = 1,
				  .n_addr = 1, .addrs = &a };
	struct mxc_host_rec got = { 0 };
	uint64_t nh = 0;

	assert_int_equal(mxc_store_host_exists(s, "mx.example"), 0);
	assert_int_equal(mxc_store_host_put(s, &h), 0);
	assert_int_equal(mxc_store_host_exists(s, "mx.example"), 1);
	/* A domain of the same name is another key space. */
	assert_int_equal(mxc_store_domain_exists(s, "mx.example"), 0);
	/* Second put while pending: ignored. */
	h.resolved_at = 2;
	assert_int_equal(mxc_store_host_put(s, &h), 0);
	assert_int_equal(mxc_store_pending(s), 1);
	assert_int_equal(mxc_store_flush(s), 0);
	/* Third put after commit: ignored too. */
	h.resolved_at = 3;
	h.n_addr = 0;
	assert_int_equal(mxc_store_host_put(s, &h), 0);
	assert_int_equal(mxc_store_flush(s), 0);
	assert_int_equal(mxc_store_count(s, NULL, &nh), 0);
	assert_int_equal(nh, 1);
	assert_int_equal(mxc_store_each_host(s, first_host, NULL, &got), 0);
	assert_int_equal(got.resolved_at, 1);
	assert_int_equal(got.n_addr, 1);
	/* Read back by name: the first write, decoded. */
	{
		struct mxc_host_rec *one = NULL;

		assert_int_equal(mxc_store_host_get(s, "mx.example", &one), 0);
		assert_non_null(one);
		assert_string_equal(one->host, "mx.example");
		assert_int_equal(one->resolved_at, 1);
		assert_int_equal(one->n_addr, 1);
		mxc_free(one);
		assert_int_equal(mxc_store_host_get(s, "other.example", &one), MXC_ENOTFOUND);
		assert_null(one);
	}

	/* Records that cannot be stored. */
	h.host = "";
	assert_int_equal(mxc_store_host_put(s, &h), MXC_EINVAL);
	h.host = NULL;
	assert_int_equal(mxc_store_host_put(s, &h), MXC_EINVAL);
	assert_int_equal(mxc_store_pending(s), 0);
	assert_int_equal(mxc_store_close(s), 0);
}

/*
 * A full batch goes to the committer without a flush. With commits held the
 * second full batch cannot go (one commit at a time) and stays pending,
 * below the back-pressure bound; everything stays visible.
 */
static void test_batches_commit_when_full(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 10);
	uint64_t nd = 99;

	mxc_store_test_hold_commits(true);
	for (unsigned i = 0; i < 9; i++)
		put_domain(s, i);
	assert_int_equal(mxc_store_pending(s), 9);
	put_domain(s, 9);
	/* Handed over at once. */
	assert_int_equal(mxc_store_pending(s), 0);
	for (unsigned i = 10; i < 25; i++)
		put_domain(s, i);
	assert_int_equal(mxc_store_pending(s), 15);
	assert_int_equal(mxc_store_committed(s), 0);
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	assert_int_equal(nd, 0);
	for (unsigned i = 0; i < 25; i++)
		assert_int_equal(domain_exists(s, i), 1);
	assert_int_equal(domain_exists(s, 25), 0);
	/* flush waits for the held commit (letting it through), then writes
	 * the rest. */
	assert_int_equal(mxc_store_flush(s), 0);
	assert_int_equal(mxc_store_pending(s), 0);
	assert_int_equal(mxc_store_committed(s), 25);
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	assert_int_equal(nd, 25);
	assert_int_equal(mxc_store_close(s), 0);
}

static void test_counters(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 1000);
	uint64_t v = 1;
	char longname[80];

	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(mxc_store_counter_add(s, "done", 3), 0);
	assert_int_equal(mxc_store_counter_add(s, "skipped", 1), 0);
	assert_int_equal(mxc_store_counter_add(s, "done", 4), 0);
	/* Buffered with the batch: not committed yet. */
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(mxc_store_flush(s), 0);
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(mxc_store_counter_get(s, "skipped", &v), 0);
	assert_int_equal(v, 1);
	/* Added to the committed value, with a record in the same batch. */
	put_domain(s, 1);
	assert_int_equal(mxc_store_counter_add(s, "done", 1ULL << 40), 0);
	assert_int_equal(mxc_store_close(s), 0);

	s = open_rw(dir, 1000);
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_true(v == (1ULL << 40) + 7);
	assert_int_equal(domain_exists(s, 1), 1);
	memset(longname, 'c', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(mxc_store_counter_add(s, longname, 1), MXC_EINVAL);
	assert_int_equal(mxc_store_counter_add(s, "", 1), MXC_EINVAL);
	assert_int_equal(mxc_store_close(s), 0);
}

static void test_run_begin_resume(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 1000);
	struct mxc_run_info fresh = { .run_id = "20261129T045602Z-3fa2c1",
				      .started_at = 1796014562,
				      .shard = "2/8",
				      .args = "mxcensus scan --db x list.txt" };
	struct mxc_run_info other = { .run_id = "20261130T000000Z-000000", .started_at = 5 };
	struct mxc_run_info got;

	assert_int_equal(mxc_store_run_get(s, &got), MXC_ENOTFOUND);
	assert_int_equal(mxc_store_run_finish(s, 1), MXC_ENOTFOUND);
	assert_int_equal(mxc_store_run_begin(s, &fresh, &got), 0);
	assert_memory_equal(&got, &fresh, sizeof(got));
	/* Committed at once: visible without a flush. */
	memset(&got, 0, sizeof(got));
	assert_int_equal(mxc_store_run_get(s, &got), 0);
	assert_string_equal(got.run_id, fresh.run_id);
	assert_string_equal(got.shard, "2/8");
	assert_string_equal(got.args, fresh.args);
	assert_int_equal(got.started_at, fresh.started_at);
	assert_int_equal(got.finished_at, 0);
	assert_int_equal(mxc_store_close(s), 0);

	/* Resume: the existing run comes back, the fresh one is ignored. */
	s = open_rw(dir, 1000);
	memset(&got, 0, sizeof(got));
	assert_int_equal(mxc_store_run_begin(s, &other, &got), 1);
	assert_string_equal(got.run_id, fresh.run_id);
	assert_int_equal(got.started_at, fresh.started_at);
	assert_int_equal(mxc_store_run_finish(s, 1796099999), 0);
	assert_int_equal(mxc_store_close(s), 0);

	s = open_ro(dir);
	assert_int_equal(mxc_store_run_get(s, &got), 0);
	assert_int_equal(got.finished_at, 1796099999);
	assert_string_equal(got.args, fresh.args);
	/* Read-only stores take no writes. */
	assert_int_equal(mxc_store_run_begin(s, &other, &got), MXC_EINVAL);
	assert_int_equal(mxc_store_run_finish(s, 1), MXC_EINVAL);
	assert_int_equal(mxc_store_counter_add(s, "x", 1), MXC_EINVAL);
	{
		char name[32];
		struct mxc_mx mx[1];
		struct mxc_raw_answer raw[1];
		struct mxc_domain_rec r = make_domain(1, name, mx, raw);

		assert_int_equal(mxc_store_domain_put(s, &r), MXC_EINVAL);
	}
	assert_int_equal(mxc_store_close(s), 0);
}

static void test_map_growth(void **state)
{
	const char *dir = *state;
	const unsigned n = 20000;
	struct mxc_store *s;
	size_t start;
	uint64_t nd = 0;
	struct seen sn;

	mxc_store_set_initial_mapsize(64 << 10);
	s = open_rw(dir, 500);
	start = mxc_store_mapsize(s);
	assert_true(start <= (128 << 10));
	for (unsigned i = 0; i < n; i++) {
		put_domain(s, i);
		/* Keep the cached read txn live across commits and growths. */
		if (i % 97 == 0)
			assert_int_equal(domain_exists(s, i / 2), 1);
	}
	assert_int_equal(mxc_store_flush(s), 0);
	/* At least three doublings. */
	assert_true(mxc_store_mapsize(s) >= start * 8);
	for (unsigned i = 0; i < n; i += 13)
		assert_int_equal(domain_exists(s, i), 1);
	assert_int_equal(mxc_store_close(s), 0);

	/* The default map on reopen must cover the grown file; all readable. */
	mxc_store_set_initial_mapsize(64 << 10);
	s = open_ro(dir);
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	assert_int_equal(nd, n);
	sn = walk(s);
	assert_int_equal(sn.n, n);
	assert_true(sn.in_order);
	assert_true(sn.all_equal);
	assert_int_equal(mxc_store_close(s), 0);
	/* And a writer reopening a grown store with a tiny map can still write. */
	s = open_rw(dir, 500);
	put_domain(s, n);
	assert_int_equal(mxc_store_close(s), 0);
}

/*
 * The child writes domains 0, 1, 2... and reports on a pipe how many are
 * committed, each time that number grows. Synchronous: it flushes every
 * 100 puts. Asynchronous: full batches of 100 go to the committer thread
 * from inside put, and the count is what mxc_store_committed says, i.e.
 * commits that completed and were picked up. The parent kills it with
 * SIGKILL at some point while it is still writing, then checks that the
 * store opens cleanly and holds every reported domain exactly once.
 */
static void child_writer(const char *dir, int fd, bool async)
{
	struct mxc_store *s;
	char err[256];
	uint32_t done = 0;

	if (mxc_store_open(dir, MXC_STORE_CREATE, async ? 100 : 1000000, &s, err,
			   sizeof(err)) != 0)
		_exit(3);
	for (unsigned i = 0; i < 2000000; i++) {
		put_domain(s, i);
		if (!async && (i + 1) % 100 == 0 && mxc_store_flush(s) != 0)
			_exit(6);
		if (mxc_store_committed(s) != done) {
			done = (uint32_t)mxc_store_committed(s);
			if (write(fd, &done, sizeof(done)) != sizeof(done))
				_exit(4);
		}
	}
	_exit(5); /* never reached in time: the parent kills us */
}

static void kill9_durability(const char *dir, bool async)
{
	int fds[2], status;
	uint32_t done = 0, v;
	unsigned reports = 0;
	uint64_t nd = 0;
	struct mxc_store *s;
	struct seen sn;
	pid_t pid;
	ssize_t n;
	unsigned char delay;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_writer(dir, fds[1], async);
	}
	close(fds[1]);
	/* Let it commit a number of batches, then kill it a little later. */
	while (reports < 20 && (n = read(fds[0], &v, sizeof(v))) == sizeof(v)) {
		done = v;
		reports++;
	}
	assert_int_equal(reports, 20);
	mxc_random_bytes(&delay, 1);
	usleep(1000u * (delay % 50));
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* Commits reported before the kill. */
	while ((n = read(fds[0], &v, sizeof(v))) == sizeof(v))
		done = v;
	close(fds[0]);
	assert_true(done >= 2000);

	s = open_rw(dir, 100);
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	/* Everything reported is there. Synchronous: at most one batch more
	 * (committed between its commit and its report), and only whole
	 * batches. Asynchronous: a batch holds 100 to 200 records (it waits
	 * while the one before commits), and at most two were durable but not
	 * reported: one picked up but not yet reported, one finished but not
	 * yet picked up. */
	assert_true(nd >= done);
	if (async) {
		assert_true(nd <= (uint64_t)done + 400);
	} else {
		assert_true(nd <= (uint64_t)done + 100);
		assert_int_equal(nd % 100, 0);
	}
	sn = walk(s);
	/* Visits 0..nd-1 in order, each exactly once, each intact. */
	assert_int_equal(sn.n, nd);
	assert_int_equal(sn.next, nd);
	assert_true(sn.in_order);
	assert_true(sn.all_equal);
	assert_int_equal(sn.corrupt, 0);
	/* Resume as the scanner would: skip what exists, write the rest. */
	for (unsigned i = 0; i < nd + 250; i++) {
		int e = domain_exists(s, i);

		assert_int_equal(e, i < nd ? 1 : 0);
		if (!e)
			put_domain(s, i);
	}
	assert_int_equal(mxc_store_close(s), 0);
	s = open_ro(dir);
	sn = walk(s);
	assert_int_equal(sn.n, nd + 250);
	assert_true(sn.in_order);
	assert_int_equal(mxc_store_close(s), 0);
}

static void test_kill9_durability(void **state)
{
	kill9_durability(*state, false);
}

static void test_kill9_durability_async(void **state)
{
	kill9_durability(*state, true);
}

static void test_rdonly_missing_and_empty(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = NULL;
	char missing[512], err[256];
	int r;

	snprintf(missing, sizeof(missing), "%s/nope", dir);
	r = mxc_store_open(missing, MXC_STORE_RDONLY, 0, &s, err, sizeof(err));
	assert_int_equal(r, -ENOENT);
	assert_null(s);
	assert_non_null(strstr(err, missing));
	assert_false(file_exists(dir, "nope"));
	/* CREATE does not apply to a read-only open. */
	r = mxc_store_open(missing, MXC_STORE_RDONLY | MXC_STORE_CREATE, 0, &s, err,
			   sizeof(err));
	assert_int_equal(r, -ENOENT);
	assert_false(file_exists(dir, "nope"));
	/* A writer without CREATE does not create it either. */
	r = mxc_store_open(missing, 0, 0, &s, err, sizeof(err));
	assert_int_equal(r, -ENOENT);
	assert_false(file_exists(dir, "nope"));

	/* An existing empty directory is not a store, and stays empty. */
	r = mxc_store_open(dir, MXC_STORE_RDONLY, 0, &s, err, sizeof(err));
	assert_int_equal(r, MXC_ENOTFOUND);
	assert_non_null(strstr(err, "not an mxcensus store"));
	assert_false(file_exists(dir, "data.mdb"));
	assert_false(file_exists(dir, "lock.mdb"));

	/* CREATE makes missing parents too. */
	snprintf(missing, sizeof(missing), "%s/a/b", dir);
	s = open_rw(missing, 10);
	assert_int_equal(mxc_store_close(s), 0);
	snprintf(missing, sizeof(missing), "%s/a", dir);
	remove_tree(missing);
}

static void test_rdonly_without_lock_file(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 10);

	put_domain(s, 7);
	assert_int_equal(mxc_store_close(s), 0);
	/* A copied store may come without lock.mdb: reading must not add one. */
	assert_int_equal(unlink(sub(dir, "lock.mdb")), 0);
	s = open_ro(dir);
	assert_int_equal(domain_exists(s, 7), 1);
	assert_int_equal(domain_exists(s, 8), 0);
	assert_int_equal(mxc_store_close(s), 0);
	assert_false(file_exists(dir, "lock.mdb"));
}

/* Writes @p val under @p key in database @p db, behind the store's back. */
static void plant(const char *dir, const char *db, const char *key, const void *val,
		  size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { strlen(key), (void *)key }, v = { vlen, (void *)val };

	plant_begin(dir, 0, &env, &txn);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_newer_schema_refused(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 10);
	uint8_t newer[4] = { 0, 0, 0, MXC_STORE_SCHEMA + 1 };
	char err[256], want[32];
	int r;

	assert_int_equal(mxc_store_close(s), 0);
	plant(dir, "meta", "schema", newer, sizeof(newer));
	r = mxc_store_open(dir, 0, 10, &s, err, sizeof(err));
	assert_int_equal(r, MXC_ESCHEMA);
	assert_null(s);
	assert_non_null(strstr(err, dir));
	snprintf(want, sizeof(want), "schema %u", MXC_STORE_SCHEMA + 1);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "newer mxcensus"));
	r = mxc_store_open(dir, MXC_STORE_RDONLY, 10, &s, err, sizeof(err));
	assert_int_equal(r, MXC_ESCHEMA);
}

static void test_corrupt_records_skipped(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 10);
	static const uint8_t junk[] = { 0, 1, 1, 0, 0, 0, 9, 'x' };
	struct seen sn;

	for (unsigned i = 0; i < 5; i++)
		put_domain(s, i);
	assert_int_equal(mxc_store_close(s), 0);
	plant_domain(dir, "d0000002.example", junk, sizeof(junk));

	s = open_ro(dir);
	sn = walk(s);
	assert_int_equal(sn.n, 4);
	assert_int_equal(sn.corrupt, 1);
	assert_string_equal(sn.corrupt_key, "d0000002.example");
	assert_string_equal(sn.corrupt_db, "domains");
	assert_int_equal(sn.corrupt_err, MXC_ECORRUPT);
	/* Without a corrupt callback the record is skipped silently. */
	sn = (struct seen){ .in_order = false, .all_equal = true };
	assert_int_equal(mxc_store_each_domain(s, seen_domain, NULL, &sn), 0);
	assert_int_equal(sn.n, 4);
	assert_int_equal(mxc_store_close(s), 0);
}

/* The sequence numbers of "domains" in key order, and the index's size. */
struct layout {
	uint64_t seq[64];
	size_t n_seq, n_names;
	bool names_point_home; /* every index entry names a stored record */
};

static struct layout read_layout(const char *dir)
{
	struct layout l = { .names_point_home = true };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi recs, names;
	MDB_cursor *cur;
	MDB_val k, v, rec;

	plant_begin(dir, MDB_RDONLY, &env, &txn);
	assert_int_equal(mdb_dbi_open(txn, "domains", 0, &recs), 0);
	assert_int_equal(mdb_dbi_open(txn, "domain_names", 0, &names), 0);
	assert_int_equal(mdb_cursor_open(txn, recs, &cur), 0);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0 && l.n_seq < 64) {
		assert_int_equal(k.mv_size, 8);
		l.seq[l.n_seq++] = plant_seq_get(k.mv_data);
	}
	mdb_cursor_close(cur);
	assert_int_equal(mdb_cursor_open(txn, names, &cur), 0);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		l.n_names++;
		if (v.mv_size != 8 || mdb_get(txn, recs, &v, &rec) != 0)
			l.names_point_home = false;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return l;
}

/*
 * Records are appended under sequence numbers 1, 2, 3... in the order
 * they were committed, across reopenings; the names index them; a name
 * put again adds nothing; the walk still goes in name order.
 */
static void test_domains_appended_in_order(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 4);
	struct layout l;
	struct seen sn;

	/* Put in an order unlike the names' order. */
	for (unsigned i = 0; i < 10; i++)
		put_domain(s, (i * 7) % 10);
	assert_int_equal(mxc_store_close(s), 0);
	s = open_rw(dir, 4);
	put_domain(s, 3); /* stored already */
	for (unsigned i = 10; i < 15; i++)
		put_domain(s, i);
	assert_int_equal(mxc_store_close(s), 0);

	l = read_layout(dir);
	assert_int_equal(l.n_seq, 15);
	assert_int_equal(l.n_names, 15);
	assert_true(l.names_point_home);
	for (size_t i = 0; i < l.n_seq; i++)
		assert_int_equal(l.seq[i], i + 1);

	s = open_ro(dir);
	sn = walk(s);
	assert_int_equal(sn.n, 15);
	assert_true(sn.in_order);
	assert_true(sn.all_equal);
	assert_int_equal(domain_exists(s, 14), 1);
	assert_int_equal(domain_exists(s, 15), 0);
	assert_int_equal(mxc_store_close(s), 0);
}

/* An index entry whose record is gone: the walk names it as damaged and
 * goes on; a lookup says the store is damaged. */
static void test_broken_index_entry(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 10);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi names;
	MDB_val k = { 16, (void *)"d0000009.example" };
	uint8_t far[8] = { 0, 0, 0, 0, 0, 0, 0x7f, 0 };
	MDB_val v = { 8, far };
	struct seen sn;

	for (unsigned i = 0; i < 5; i++)
		put_domain(s, i);
	assert_int_equal(mxc_store_close(s), 0);
	plant_begin(dir, 0, &env, &txn);
	assert_int_equal(mdb_dbi_open(txn, "domain_names", 0, &names), 0);
	assert_int_equal(mdb_put(txn, names, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	s = open_ro(dir);
	sn = walk(s);
	assert_int_equal(sn.n, 5);
	assert_int_equal(sn.corrupt, 1);
	assert_string_equal(sn.corrupt_key, "d0000009.example");
	assert_int_equal(sn.corrupt_err, MXC_ECORRUPT);
	assert_int_equal(domain_exists(s, 9), MXC_ECORRUPT);
	assert_int_equal(domain_exists(s, 4), 1);
	assert_int_equal(mxc_store_close(s), 0);
}

/*
 * A store of schema 1 (records under their names, no index) is refused
 * with a message that says what to do, by a reader and by a writer, and
 * the writer creates nothing in it.
 */
static void test_schema1_store_refused(void **state)
{
	const char *dir = *state;
	uint8_t one[4] = { 0, 0, 0, 1 };
	struct mxc_store *s = NULL;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, dom, names;
	MDB_val k = { 6, (void *)"schema" }, v = { 4, one };
	MDB_val kd = { 9, (void *)"old.test" }, vd = { 3, (void *)"old" };
	char err[512];

	plant_begin(dir, 0, &env, &txn);
	assert_int_equal(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
	assert_int_equal(mdb_dbi_open(txn, "domains", MDB_CREATE, &dom), 0);
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_put(txn, dom, &kd, &vd, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_int_equal(mxc_store_open(dir, MXC_STORE_RDONLY, 0, &s, err, sizeof(err)),
			 MXC_ESCHEMA);
	assert_null(s);
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, "schema 1"));
	assert_int_equal(mxc_store_open(dir, MXC_STORE_CREATE, 10, &s, err, sizeof(err)),
			 MXC_ESCHEMA);
	assert_null(s);
	assert_non_null(strstr(err, "new --db"));

	plant_begin(dir, MDB_RDONLY, &env, &txn);
	assert_int_equal(mdb_dbi_open(txn, "domain_names", 0, &names), MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/*
 * Host lookups are answered from the table of hosts found once stored:
 * with more hosts than it has slots (names colliding in a slot), every
 * stored host is found, asked many times and in both orders, and no
 * unstored one ever is, also across a reopening (resume).
 */
static void test_hosts_found_exactly(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 5000);
	enum { HOSTS = 20000 };
	char name[64];

	for (unsigned i = 0; i < HOSTS; i += 2) {
		struct mxc_host_rec h = { .host = name, .run_id = "r", .resolved_at = i };

		snprintf(name, sizeof(name), "mx%u.example.net", i);
		assert_int_equal(mxc_store_host_put(s, &h), 0);
	}
	assert_int_equal(mxc_store_flush(s), 0);
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned k = 0; k < HOSTS; k++) {
			unsigned i = round ? HOSTS - 1 - k : k;

			snprintf(name, sizeof(name), "mx%u.example.net", i);
			if (mxc_store_host_exists(s, name) != (i % 2 == 0))
				fail_msg("round %u: %s: wrong answer", round, name);
		}
		if (round == 0) {
			assert_int_equal(mxc_store_close(s), 0);
			s = open_rw(dir, 5000);
		}
	}
	assert_int_equal(mxc_store_close(s), 0);
}

static void test_second_writer_refused(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 10), *s2 = NULL, *ro;
	char err[256];
	int r;

	put_domain(s, 1);
	assert_int_equal(mxc_store_flush(s), 0);
	r = mxc_store_open(dir, MXC_STORE_CREATE, 10, &s2, err, sizeof(err));
	assert_int_equal(r, MXC_EEXIST);
	assert_null(s2);
	assert_non_null(strstr(err, "in use"));
	/* A reader is welcome beside the writer and sees its commits. */
	ro = open_ro(dir);
	assert_int_equal(domain_exists(ro, 1), 1);
	put_domain(s, 2);
	assert_int_equal(mxc_store_flush(s), 0);
	assert_int_equal(mxc_store_close(ro), 0);
	/* The first writer still works after the refused open. */
	assert_int_equal(domain_exists(s, 2), 1);
	assert_int_equal(mxc_store_close(s), 0);
	s = open_rw(dir, 10);
	assert_int_equal(mxc_store_close(s), 0);
}

/* ------------------------------------------------------------------------ */
/* The committer thread                                                     */

/* Fails the test once @p t0 is more than 30 s ago: waiting for a released
 * commit must end, and a hang would only hit ctest's timeout. */
static void within_deadline(uint64_t t0)
{
	if (mxc_now_ms() - t0 > 30000)
		fail_msg("a released commit did not complete within 30 s");
	sched_yield();
}

/* Polls until @p want records are committed, checking that domains
 * [0, @p visible) are found at every step. */
static void wait_committed(struct mxc_store *s, uint64_t want, unsigned visible)
{
	uint64_t t0 = mxc_now_ms();

	while (mxc_store_committed(s) < want) {
		assert_int_equal(mxc_store_poll(s), 0);
		for (unsigned i = 0; i < visible; i++)
			assert_int_equal(domain_exists(s, i), 1);
		within_deadline(t0);
	}
}

static void test_async_visible_during_commit(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 1000);
	uint64_t nd = 99, t0;
	struct seen sn;

	for (unsigned i = 0; i < 50; i++)
		put_domain(s, i);
	/* Before: pending. */
	for (unsigned i = 0; i < 50; i++)
		assert_int_equal(domain_exists(s, i), 1);
	mxc_store_test_hold_commits(true);
	assert_int_equal(mxc_store_commit_async(s), 0);
	assert_int_equal(mxc_store_pending(s), 0);
	/* The committer takes the batch and waits at the hold. */
	t0 = mxc_now_ms();
	while (mxc_store_test_held() == 0)
		within_deadline(t0);

	/* During: neither pending nor committed, still found. */
	for (unsigned i = 0; i < 50; i++)
		assert_int_equal(domain_exists(s, i), 1);
	assert_int_equal(domain_exists(s, 50), 0);
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	assert_int_equal(nd, 0);
	assert_int_equal(mxc_store_poll(s), 0);
	assert_int_equal(mxc_store_committed(s), 0);
	/* A key being committed is not taken again, whatever the record says. */
	{
		char name[32];
		struct mxc_mx mx[1];
		struct mxc_raw_answer raw[1];
		struct mxc_domain_rec r = make_domain(7, name, mx, raw);

		r.rank = 123456789;
		assert_int_equal(mxc_store_domain_put(s, &r), 0);
		assert_int_equal(mxc_store_pending(s), 0);
	}
	/* New puts go to the next batch, which cannot go while one commits. */
	for (unsigned i = 50; i < 60; i++)
		put_domain(s, i);
	assert_int_equal(mxc_store_pending(s), 10);
	assert_int_equal(mxc_store_commit_async(s), 0);
	assert_int_equal(mxc_store_pending(s), 10);
	assert_int_equal(mxc_store_committed(s), 0);

	/* Released: found at every step until and after poll picks it up. */
	mxc_store_test_hold_commits(false);
	wait_committed(s, 50, 60);
	assert_int_equal(mxc_store_committed(s), 50);
	assert_int_equal(mxc_store_pending(s), 10);
	for (unsigned i = 0; i < 60; i++)
		assert_int_equal(domain_exists(s, i), 1);
	/* After: the read snapshot was renewed and sees the commit. */
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	assert_int_equal(nd, 50);

	/* The second batch goes now that the slot is free. */
	assert_int_equal(mxc_store_commit_async(s), 0);
	assert_int_equal(mxc_store_pending(s), 0);
	wait_committed(s, 60, 60);
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	assert_int_equal(nd, 60);
	assert_int_equal(mxc_store_close(s), 0);

	s = open_ro(dir);
	sn = walk(s);
	assert_int_equal(sn.n, 60);
	assert_true(sn.in_order);
	assert_true(sn.all_equal); /* the second put of 7 was ignored */
	assert_int_equal(mxc_store_commit_async(s), MXC_EINVAL);
	assert_int_equal(mxc_store_poll(s), 0);
	assert_int_equal(mxc_store_close(s), 0);
}

static void test_async_counters(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 10);
	uint64_t v = 99, t0;

	/* A delta travels with the batch it was added to. */
	for (unsigned i = 0; i < 3; i++)
		put_domain(s, i);
	assert_int_equal(mxc_store_counter_add(s, "done", 3), 0);
	mxc_store_test_hold_commits(true);
	assert_int_equal(mxc_store_commit_async(s), 0);
	assert_int_equal(mxc_store_counter_add(s, "done", 4), 0);
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_int_equal(v, 0);
	mxc_store_test_hold_commits(false);
	t0 = mxc_now_ms();
	while (mxc_store_committed(s) < 3) {
		assert_int_equal(mxc_store_poll(s), 0);
		within_deadline(t0);
	}
	/* The first batch's delta, not the second's, which is pending. */
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(mxc_store_flush(s), 0);
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_int_equal(v, 7);

	/* Many batches, full ones handed over from put, others by hand. */
	for (unsigned i = 3; i < 503; i++) {
		put_domain(s, i);
		assert_int_equal(mxc_store_counter_add(s, "done", 1), 0);
		assert_int_equal(mxc_store_counter_add(s, "odd", i & 1), 0);
		if (i % 7 == 0)
			assert_int_equal(mxc_store_commit_async(s), 0);
	}
	assert_int_equal(mxc_store_flush(s), 0);
	assert_int_equal(mxc_store_committed(s), 503);
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_int_equal(v, 507);
	assert_int_equal(mxc_store_counter_get(s, "odd", &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(mxc_store_close(s), 0);
}

static void test_async_map_growth(void **state)
{
	const char *dir = *state;
	const unsigned n = 20000;
	struct mxc_store *s;
	size_t start;
	uint64_t nd = 0;
	struct seen sn;

	mxc_store_set_initial_mapsize(64 << 10);
	s = open_rw(dir, 200);
	start = mxc_store_mapsize(s);
	for (unsigned i = 0; i < n; i++) {
		put_domain(s, i);
		if (i % 50 == 0)
			assert_int_equal(mxc_store_commit_async(s), 0);
		if (i % 97 == 0)
			assert_int_equal(domain_exists(s, i / 2), 1);
	}
	/* The growth happened on the asynchronous path: flush has not run. */
	assert_true(mxc_store_mapsize(s) >= start * 8);
	assert_true(mxc_store_committed(s) >= n / 2);
	assert_int_equal(mxc_store_flush(s), 0);
	assert_int_equal(mxc_store_committed(s), n);
	for (unsigned i = 0; i < n; i += 7)
		assert_int_equal(domain_exists(s, i), 1);
	assert_int_equal(mxc_store_close(s), 0);

	s = open_ro(dir);
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	assert_int_equal(nd, n);
	sn = walk(s);
	assert_int_equal(sn.n, n);
	assert_true(sn.in_order);
	assert_true(sn.all_equal);
	assert_int_equal(mxc_store_close(s), 0);
}

/* Polls through exists() until the failed commit's error comes back. */
static int wait_failure(struct mxc_store *s)
{
	uint64_t t0 = mxc_now_ms();
	int r;

	while ((r = domain_exists(s, 0)) == 1)
		within_deadline(t0);
	return r;
}

static void test_async_commit_failure(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 1000);
	uint64_t nd = 99, v = 99;
	struct seen sn;

	/* Reported by the next entry point (here exists), once. */
	for (unsigned i = 0; i < 20; i++)
		put_domain(s, i);
	assert_int_equal(mxc_store_counter_add(s, "done", 20), 0);
	mxc_store_test_fail_commits(1);
	assert_int_equal(mxc_store_commit_async(s), 0);
	assert_int_equal(wait_failure(s), MXC_EIO);
	assert_int_equal(mxc_store_poll(s), 0);
	/* The batch is kept, and still found. */
	assert_int_equal(mxc_store_committed(s), 0);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(domain_exists(s, i), 1);
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	assert_int_equal(nd, 0);
	/* Puts go on, and a key of the failed batch is still taken. */
	for (unsigned i = 15; i < 25; i++)
		put_domain(s, i);
	assert_int_equal(mxc_store_pending(s), 5);
	/* A later flush writes the failed batch and the pending one. */
	assert_int_equal(mxc_store_flush(s), 0);
	assert_int_equal(mxc_store_committed(s), 25);
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_int_equal(v, 20);

	/* Reported by flush, which keeps the batch; the next flush writes it. */
	for (unsigned i = 25; i < 30; i++)
		put_domain(s, i);
	mxc_store_test_fail_commits(1);
	assert_int_equal(mxc_store_commit_async(s), 0);
	assert_int_equal(mxc_store_flush(s), MXC_EIO);
	assert_int_equal(domain_exists(s, 29), 1);
	assert_int_equal(mxc_store_flush(s), 0);
	assert_int_equal(mxc_store_committed(s), 30);

	/* A failed asynchronous retry of the failed batch. */
	for (unsigned i = 30; i < 35; i++)
		put_domain(s, i);
	mxc_store_test_fail_commits(2);
	assert_int_equal(mxc_store_commit_async(s), 0);
	assert_int_equal(wait_failure(s), MXC_EIO);
	assert_int_equal(mxc_store_commit_async(s), 0); /* the retry */
	assert_int_equal(wait_failure(s), MXC_EIO);
	assert_int_equal(mxc_store_commit_async(s), 0); /* works now */
	wait_committed(s, 35, 35);

	/* A synchronous flush that fails keeps its batch too. */
	put_domain(s, 35);
	mxc_store_test_fail_commits(1);
	assert_int_equal(mxc_store_flush(s), MXC_EIO);
	assert_int_equal(mxc_store_pending(s), 1);
	assert_int_equal(mxc_store_flush(s), 0);

	/* Failing in close: the error is returned, and the retry inside
	 * close still writes the batch. */
	for (unsigned i = 36; i < 40; i++)
		put_domain(s, i);
	mxc_store_test_fail_commits(1);
	assert_int_equal(mxc_store_commit_async(s), 0);
	assert_int_equal(mxc_store_close(s), MXC_EIO);

	s = open_ro(dir);
	sn = walk(s);
	assert_int_equal(sn.n, 40);
	assert_int_equal(sn.next, 40);
	assert_true(sn.in_order);
	assert_true(sn.all_equal);
	assert_int_equal(mxc_store_close(s), 0);
}

/*
 * With commits held, nothing commits unless the loop thread waits for the
 * committer (each wait lets one held commit through). So a put that
 * returns with the pending batch below its bound, and commits that
 * complete, prove that put waited: without back-pressure the batch would
 * grow without bound and nothing would be committed.
 */
static void test_async_backpressure(void **state)
{
	const char *dir = *state;
	const unsigned batch = 10, n = 1000;
	struct mxc_store *s = open_rw(dir, batch);
	struct seen sn;

	mxc_store_test_hold_commits(true);
	for (unsigned i = 0; i < n; i++) {
		put_domain(s, i);
		assert_true(mxc_store_pending(s) < 2 * batch);
		/* Pending (< 2 batches) and committing (<= 2 batches) are
		 * all that is not committed. */
		assert_true(i + 1 - mxc_store_committed(s) < 4 * batch);
	}
	assert_true(mxc_store_committed(s) > 0);
	for (unsigned i = 0; i < n; i += 3)
		assert_int_equal(domain_exists(s, i), 1);
	mxc_store_test_hold_commits(false);
	assert_int_equal(mxc_store_flush(s), 0);
	assert_int_equal(mxc_store_committed(s), n);
	assert_int_equal(mxc_store_close(s), 0);

	s = open_ro(dir);
	sn = walk(s);
	assert_int_equal(sn.n, n);
	assert_true(sn.in_order);
	assert_true(sn.all_equal);
	assert_int_equal(mxc_store_close(s), 0);
}

static void test_async_close_in_flight(void **state)
{
	const char *dir = *state;
	struct mxc_store *s = open_rw(dir, 1000);
	uint64_t nd = 0, v = 0, t0;

	for (unsigned i = 0; i < 100; i++)
		put_domain(s, i);
	assert_int_equal(mxc_store_counter_add(s, "done", 100), 0);
	mxc_store_test_hold_commits(true);
	assert_int_equal(mxc_store_commit_async(s), 0);
	t0 = mxc_now_ms();
	while (mxc_store_test_held() == 0)
		within_deadline(t0);
	for (unsigned i = 100; i < 110; i++)
		put_domain(s, i);
	assert_int_equal(mxc_store_counter_add(s, "done", 10), 0);
	/* Close waits for the held commit, writes the rest, joins. */
	assert_int_equal(mxc_store_close(s), 0);
	assert_int_equal(mxc_store_test_held(), 0);

	/* A store closed while its committer thread idles. */
	s = open_rw(dir, 1000);
	put_domain(s, 110);
	mxc_store_test_hold_commits(false);
	assert_int_equal(mxc_store_commit_async(s), 0);
	assert_int_equal(mxc_store_close(s), 0);

	s = open_ro(dir);
	assert_int_equal(mxc_store_count(s, &nd, NULL), 0);
	assert_int_equal(nd, 111);
	assert_int_equal(mxc_store_counter_get(s, "done", &v), 0);
	assert_int_equal(v, 110);
	assert_int_equal(mxc_store_close(s), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_tmpdir, drop_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_put_exists_flush_reopen),
		T(test_first_write_wins_and_hosts),
		T(test_batches_commit_when_full),
		T(test_counters),
		T(test_run_begin_resume),
		T(test_map_growth),
		T(test_kill9_durability),
		T(test_kill9_durability_async),
		T(test_rdonly_missing_and_empty),
		T(test_rdonly_without_lock_file),
		T(test_newer_schema_refused),
		T(test_corrupt_records_skipped),
		T(test_domains_appended_in_order),
		T(test_broken_index_entry),
		T(test_schema1_store_refused),
		T(test_hosts_found_exactly),
		T(test_second_writer_refused),
		T(test_async_visible_during_commit),
		T(test_async_counters),
		T(test_async_map_growth),
		T(test_async_commit_failure),
		T(test_async_backpressure),
		T(test_async_close_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
