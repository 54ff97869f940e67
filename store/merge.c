/**
 * \file
 * mxcensus merge: the stores of the shards of a scan joined into one store.
 *
 * A merge works one level below the public store API, on the engine table
 * of store/internal.h, for three reasons: it copies records byte for byte
 * (so fields a newer build added, which this build would drop on
 * re-encoding, survive), it must replace a host record by a newer one (the
 * store's puts are first-write-wins), and the output's runs database holds
 * many run records (the store keeps one run per store). Each record read is
 * still decoded, to check it and to learn its time and run, before its
 * bytes are copied.
 *
 * It goes in two passes over the inputs, each input opened alone so that a
 * merge of a thousand shards does not hold a thousand environments (and
 * three thousand descriptors) at once:
 *
 *  1. Check. Each input is locked against writers (a shared flock on its
 *     directory, which a running scan's exclusive lock refuses), opened
 *     read-only, its schema checked and its run records read. Stores, runs
 *     and shards given twice are refused; inputs from different scans,
 *     missing shards and unfinished runs are warned about. The run records
 *     go into the output's first transaction, with the merge's own run
 *     record, unfinished; on a rerun they are compared with what the
 *     output already holds instead.
 *  2. Copy. Each input's domains, hosts and counters are walked in key
 *     order and written in batches of batch_size records (and at most
 *     BATCH_BYTES_MAX bytes), one transaction each, so memory does not grow
 *     with the number of records. When a name is already merged, the
 *     record with the later time (scanned_at, resolved_at) wins, ties going
 *     to the greater run id: the result does not depend on the order of the
 *     inputs or on how often a pass is repeated. The summed counters and
 *     the merge's run record, now finished, are written in the last
 *     transaction.
 *
 * A merge killed in pass 2 leaves an output whose run record is unfinished.
 * Run again with the same inputs, it walks them again: records already
 * there compare equal and are skipped, the rest is written, and since the
 * counters are written only with the finish they are never counted twice.
 */
#include "store/merge.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strmap.h"
#include "common/util.h"
#include "store/internal.h"
#include "store/record.h"
#include "store/store.h"

#define BATCH_DEFAULT 10000u
#define BATCH_BYTES_MAX ((size_t)64 << 20)
#define INPUTS_MAX 999999u   /* the width of the input index in run keys */
#define KEY_MAX 511          /* LMDB's key size limit */
#define COUNTERS_MAX 256
#define COUNTER_NAME_MAX 64
#define SHARD_N_MAX 65536    /* as scanner/shard.c */
#define NAMED_MAX 5          /* stores or shards a warning lists by name */
#define CORRUPT_LOGGED 10    /* damaged records logged per input */
#define SCHEMA_KEY "schema"

/* Where a name of the output stands, and what the output is. */
enum out_state {
	OUT_NONE,       /* not opened yet: to be created */
	OUT_EMPTY,      /* opened, holds nothing */
	OUT_UNFINISHED, /* holds a merge that was not finished */
	OUT_FINISHED,   /* holds a finished merge */
};

/* One input store. */
struct input {
	const char *dir;
	dev_t dev;
	ino_t ino;
	struct mxc_run_info run; /* its own run: a scan's, or a merge's */
	size_t n_runs;           /* run records it holds */
};

/* One run record of an input; the leaves are the runs of scans. */
struct run {
	char run_id[MXC_RECORD_RUN_ID_MAX + 1];
	char shard[32];
	int64_t finished_at;
	size_t input;
	bool leaf;
	unsigned k, n;           /* the shard, when n > 0 */
};

/* A write waiting for its transaction. */
struct entry {
	uint8_t db;
	int64_t at;
	char run_id[MXC_RECORD_RUN_ID_MAX + 1];
	char *key;    /* NUL-terminated; owned */
	size_t klen;
	uint8_t *val; /* owned; replaced when a newer record comes */
	size_t vlen;
};

struct counter {
	char name[COUNTER_NAME_MAX + 1];
	uint64_t sum;
	uint8_t be[8];
};

struct merge {
	const struct mxc_merge_opts *o;
	struct mxc_merge_stats *st;
	char *err;
	size_t errlen;
	const struct mxc__kv_api *api;

	void *out;
	enum out_state state;
	bool out_exists;
	dev_t out_dev;
	ino_t out_ino;
	struct mxc_run_info mrun;  /* the merge's own run record */

	struct input *in;
	struct run **runs;
	size_t n_runs, cap_runs;
	struct mxc_strmap run_ids; /* run id -> struct run */
	uint64_t runs_expected;    /* run records the output must hold */

	/* The batch. */
	struct entry *ent;
	size_t n_ent, cap_ent, n_records, bytes;
	struct mxc_strmap pend[2]; /* domain, host name -> entry index + 1 */
	unsigned batch_size;
	unsigned commits;

	struct counter ctr[COUNTERS_MAX];
	size_t n_ctr;
	bool ctr_overflow;

	/* The input being walked in pass 2. */
	size_t cur;
	uint64_t cur_corrupt;
	struct mxc_buf enc;
};

static void (*g_on_commit)(unsigned commits);

void mxc_merge_test_on_commit(void (*fn)(unsigned commits))
{
	g_on_commit = fn;
}

static int fail(struct merge *m, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets the error message (the first one wins) and returns @p code. */
static int fail(struct merge *m, int code, const char *fmt, ...)
{
	va_list ap;

	if (m->err[0])
		return code;
	va_start(ap, fmt);
	vsnprintf(m->err, m->errlen, fmt, ap);
	va_end(ap);
	return code;
}

static void warn(struct merge *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct merge *m, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	mxc_log_warn("merge: %s", line);
	m->st->warnings++;
}

/* ------------------------------------------------------------------------ */
/* Run records                                                              */

/* Run records: encoded by store.c (mxc__run_encode/decode, internal.h). */

static bool is_merge_run(const struct mxc_run_info *ri)
{
	return strcmp(ri->shard, MXC_MERGE_SHARD) == 0;
}

/* "20261129T074500Z-merge-3fa2c1": a scan's run id with "merge" in it. */
static void make_merge_id(char *out, size_t len)
{
	char ts[21], compact[17];
	uint8_t rnd[3];
	size_t k = 0;

	mxc_rfc3339(mxc_wall_time(), ts);
	for (size_t i = 0; ts[i] && k < sizeof(compact) - 1; i++)
		if (ts[i] != '-' && ts[i] != ':')
			compact[k++] = ts[i];
	compact[k] = '\0';
	mxc_random_bytes(rnd, sizeof(rnd));
	snprintf(out, len, "%s-merge-%02x%02x%02x", compact, rnd[0], rnd[1], rnd[2]);
}

/* The output key of run record @p key of input @p i. */
static int run_key(struct merge *m, size_t i, const void *key, size_t klen, char *out,
		   size_t outlen)
{
	int n;

	if (klen == 0 || klen > KEY_MAX || memchr(key, 0, klen))
		return fail(m, MXC_ECORRUPT, "%s: damaged key in its runs database",
			    m->in[i].dir);
	n = snprintf(out, outlen, "%s/%06zu/%.*s", m->mrun.run_id, i, (int)klen,
		     (const char *)key);
	if (n < 0 || (size_t)n >= outlen || (size_t)n > KEY_MAX)
		return fail(m, MXC_ETOOBIG,
			    "%s: run key '%.*s' too long to be merged again (merges nested too deep)",
			    m->in[i].dir, (int)klen, (const char *)key);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The batch                                                                 */

static void batch_clear(struct merge *m)
{
	for (size_t i = 0; i < m->n_ent; i++) {
		mxc_free(m->ent[i].key);
		mxc_free(m->ent[i].val);
	}
	m->n_ent = 0;
	m->n_records = 0;
	m->bytes = 0;
	mxc_strmap_free(&m->pend[0]);
	mxc_strmap_free(&m->pend[1]);
}

/* Gives entry @p e a copy of @p val (replacing the one it had) with the
 * record's time and run. The key stays: the pending name set points at it. */
static int entry_set_val(struct entry *e, const void *val, size_t vlen, int64_t at,
			 const char *run_id)
{
	uint8_t *v = mxc_malloc(vlen ? vlen : 1);

	if (!v)
		return MXC_ENOMEM;
	if (vlen)
		memcpy(v, val, vlen);
	mxc_free(e->val);
	e->val = v;
	e->vlen = vlen;
	e->at = at;
	snprintf(e->run_id, sizeof(e->run_id), "%s", run_id ? run_id : "");
	return 0;
}

/* Queues a write of @p key; records (domains, hosts) also go into the
 * pending name set so that a later input finds them. */
static int batch_put(struct merge *m, unsigned db, const char *key, size_t klen, const void *val,
		     size_t vlen, int64_t at, const char *run_id)
{
	struct entry *e;
	int r;

	if (m->n_ent == m->cap_ent) {
		size_t ncap = m->cap_ent ? m->cap_ent * 2 : 256;
		struct entry *ne = mxc_realloc(m->ent, ncap * sizeof(*ne));

		if (!ne)
			return MXC_ENOMEM;
		m->ent = ne;
		m->cap_ent = ncap;
	}
	e = &m->ent[m->n_ent];
	memset(e, 0, sizeof(*e));
	e->db = (uint8_t)db;
	e->klen = klen;
	e->key = mxc_strndup(key, klen);
	if (!e->key)
		return MXC_ENOMEM;
	r = entry_set_val(e, val, vlen, at, run_id);
	if (r) {
		mxc_free(e->key);
		return r;
	}
	m->n_ent++;
	m->bytes += klen + vlen;
	if (db == MXC__DB_DOMAINS || db == MXC__DB_HOSTS) {
		m->n_records++;
		r = mxc_strmap_put(&m->pend[db == MXC__DB_HOSTS], e->key,
				   (void *)(uintptr_t)m->n_ent);
		if (r) {
			/* Keep the set and the batch in step: drop the entry. */
			m->n_ent--;
			m->n_records--;
			m->bytes -= klen + vlen;
			mxc_free(e->key);
			mxc_free(e->val);
			return r;
		}
	}
	return 0;
}

/* Writes the batch and @p extra in one transaction, then empties it. */
static int batch_commit(struct merge *m, const struct mxc__kv_op *extra, size_t n_extra)
{
	size_t n = m->n_ent + n_extra;
	struct mxc__kv_op *ops;
	int r;

	if (n == 0)
		return 0;
	ops = mxc_calloc(n, sizeof(*ops));
	if (!ops)
		return MXC_ENOMEM;
	for (size_t i = 0; i < m->n_ent; i++) {
		ops[i].kind = MXC__KV_PUT;
		ops[i].db = m->ent[i].db;
		ops[i].key = m->ent[i].key;
		ops[i].klen = m->ent[i].klen;
		ops[i].val = m->ent[i].val;
		ops[i].vlen = m->ent[i].vlen;
	}
	if (n_extra)
		memcpy(ops + m->n_ent, extra, n_extra * sizeof(*ops));
	r = m->api->write(m->out, ops, n);
	mxc_free(ops);
	if (r)
		return fail(m, r, "%s: commit of %zu writes failed: %s", m->o->out, n,
			    mxc_strerror(r));
	batch_clear(m);
	m->commits++;
	if (g_on_commit)
		g_on_commit(m->commits);
	return 0;
}

static bool batch_full(const struct merge *m)
{
	return m->n_records >= m->batch_size || m->bytes >= BATCH_BYTES_MAX;
}

/* ------------------------------------------------------------------------ */
/* Opening stores                                                            */

/* Checks the schema mark of an open store. */
static int check_schema(struct merge *m, void *kv, const char *dir, bool must_exist)
{
	const void *v;
	size_t vlen;
	uint32_t have;
	const uint8_t *b;
	int r;

	r = m->api->get(kv, MXC__DB_META, SCHEMA_KEY, strlen(SCHEMA_KEY), &v, &vlen);
	if (r == MXC_ENOTFOUND && !must_exist)
		return 0;
	if (r == MXC_ENOTFOUND)
		return fail(m, MXC_EINVAL, "%s is not an mxcensus store (no schema mark)", dir);
	if (r)
		return fail(m, r, "store %s: %s", dir, mxc_strerror(r));
	if (vlen != 4)
		return fail(m, MXC_ECORRUPT, "store %s: damaged schema mark", dir);
	b = v;
	have = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	if (have > MXC_STORE_SCHEMA)
		return fail(m, MXC_ESCHEMA,
			    "store %s has schema %u but this mxcensus reads schema %u at most: "
			    "use a newer mxcensus",
			    dir, have, MXC_STORE_SCHEMA);
	return 0;
}

/*
 * Takes a shared lock on the directory of input @p i. A running scan holds
 * the exclusive one, so this refuses a store being written, and while it is
 * held no scan can start on the store.
 */
static int lock_input(struct merge *m, size_t i, int *fd)
{
	const char *dir = m->in[i].dir;
	struct stat st;
	int r;

	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0) {
		r = -errno;
		return fail(m, r == -ENOENT || r == -ENOTDIR ? MXC_EINVAL : r,
			    "input store %s: %s", dir, mxc_strerror(r));
	}
	if (flock(*fd, LOCK_SH | LOCK_NB) != 0) {
		r = errno == EWOULDBLOCK ? MXC_EAGAIN : -errno;
		close(*fd);
		*fd = -1;
		if (r == MXC_EAGAIN)
			return fail(m, r,
				    "input store %s is being written (a scan is running on it): "
				    "merge it once that has ended",
				    dir);
		return fail(m, r, "cannot lock input store %s: %s", dir, mxc_strerror(r));
	}
	if (fstat(*fd, &st) != 0) {
		r = -errno;
		close(*fd);
		*fd = -1;
		return fail(m, r, "input store %s: %s", dir, mxc_strerror(r));
	}
	if (st.st_dev != m->in[i].dev || st.st_ino != m->in[i].ino) {
		close(*fd);
		*fd = -1;
		return fail(m, MXC_EINVAL, "input store %s was replaced during the merge", dir);
	}
	return 0;
}

static int open_input(struct merge *m, size_t i, void **kv)
{
	char msg[512] = "";
	int r;

	r = m->api->open(kv, m->in[i].dir, MXC_STORE_RDONLY, 0, msg, sizeof(msg));
	if (r) {
		/* Missing files and foreign directories are the user's to fix. */
		if (r == MXC_ENOTFOUND || r == MXC_ECORRUPT || r == -ENOENT || r == -ENOTDIR)
			r = MXC_EINVAL;
		return fail(m, r, "input %s", msg[0] ? msg : mxc_strerror(r));
	}
	r = check_schema(m, *kv, m->in[i].dir, true);
	if (r) {
		m->api->close(*kv);
		*kv = NULL;
	}
	return r;
}

/* ------------------------------------------------------------------------ */
/* The output                                                                */

/* A directory holding anything but "." and "..". */
static int dir_empty(const char *dir, bool *empty)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return -errno;
	*empty = true;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			*empty = false;
			break;
		}
	}
	closedir(d);
	return 0;
}

/* What is at --out before we open it: nothing, an empty directory, or a
 * store (then m->out_exists). */
static int check_out_dir(struct merge *m)
{
	const char *out = m->o->out;
	char path[4096];
	struct stat st;
	bool empty = false;
	int r, n;

	if (stat(out, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		return fail(m, r, "--out %s: %s", out, mxc_strerror(r));
	}
	if (!S_ISDIR(st.st_mode))
		return fail(m, MXC_EEXIST, "--out %s exists and is not a directory", out);
	m->out_dev = st.st_dev;
	m->out_ino = st.st_ino;
	n = snprintf(path, sizeof(path), "%s/data.mdb", out);
	if (n < 0 || (size_t)n >= sizeof(path))
		return fail(m, -ENAMETOOLONG, "--out %s: %s", out, mxc_strerror(-ENAMETOOLONG));
	if (stat(path, &st) == 0) {
		m->out_exists = true;
		return 0;
	}
	r = dir_empty(out, &empty);
	if (r)
		return fail(m, r, "--out %s: %s", out, mxc_strerror(r));
	if (!empty)
		return fail(m, MXC_EEXIST,
			    "--out %s is a directory with files but no mxcensus store: "
			    "give a new or empty directory",
			    out);
	return 0;
}

struct first {
	struct mxc_run_info ri;
	char key[KEY_MAX + 1];
	int err;
};

static int take_first(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct first *f = arg;
	size_t n = klen < sizeof(f->key) - 1 ? klen : sizeof(f->key) - 1;

	memcpy(f->key, key, n);
	f->key[n] = '\0';
	f->err = mxc__run_decode(val, vlen, &f->ri);
	return 1;
}

/* Opens the output (creating it when @p create) and finds what it holds. */
static int open_out(struct merge *m, bool create)
{
	const char *out = m->o->out;
	uint64_t runs = 0, domains = 0, hosts = 0;
	struct first f;
	char msg[512] = "";
	int r;

	r = m->api->open(&m->out, out, create ? MXC_STORE_CREATE : 0, m->o->mapsize, msg,
			 sizeof(msg));
	if (r) {
		m->out = NULL;
		if (r == MXC_EEXIST)
			return fail(m, MXC_EAGAIN, "--out %s is in use by another writer", out);
		return fail(m, r, "--out %s", msg[0] ? msg : mxc_strerror(r));
	}
	r = check_schema(m, m->out, out, false);
	if (!r)
		r = m->api->count(m->out, MXC__DB_RUNS, &runs);
	if (!r)
		r = m->api->count(m->out, MXC__DB_DOMAINS, &domains);
	if (!r)
		r = m->api->count(m->out, MXC__DB_HOSTS, &hosts);
	if (r)
		return fail(m, r, "--out %s: %s", out, mxc_strerror(r));
	if (runs == 0) {
		if (domains || hosts)
			return fail(m, MXC_EEXIST,
				    "--out %s holds records but no run: give a new directory", out);
		m->state = OUT_EMPTY;
		return 0;
	}
	memset(&f, 0, sizeof(f));
	r = m->api->each(m->out, MXC__DB_RUNS, take_first, &f);
	if (r < 0)
		return fail(m, r, "--out %s: %s", out, mxc_strerror(r));
	if (f.err || !is_merge_run(&f.ri) || strcmp(f.key, f.ri.run_id) != 0)
		return fail(m, MXC_EEXIST,
			    "--out %s already holds run %s, which is not a merge: "
			    "a merge writes into a new directory",
			    out, f.err ? "(damaged)" : f.ri.run_id);
	m->mrun = f.ri;
	m->state = f.ri.finished_at ? OUT_FINISHED : OUT_UNFINISHED;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Pass 1: the inputs' runs                                                  */

struct runs_walk {
	struct merge *m;
	size_t i;
	size_t n;
};

static int add_run(struct merge *m, size_t i, const struct mxc_run_info *ri, bool first)
{
	struct run *run, *other;
	int r;

	if (m->n_runs == m->cap_runs) {
		size_t ncap = m->cap_runs ? m->cap_runs * 2 : 16;
		struct run **nr = mxc_realloc(m->runs, ncap * sizeof(*nr));

		if (!nr)
			return MXC_ENOMEM;
		m->runs = nr;
		m->cap_runs = ncap;
	}
	other = mxc_strmap_get(&m->run_ids, ri->run_id);
	if (other && other->input != i)
		return fail(m, MXC_EINVAL,
			    "run %s is in both %s and %s: the same store or shard given twice?",
			    ri->run_id, m->in[other->input].dir, m->in[i].dir);
	run = mxc_calloc(1, sizeof(*run));
	if (!run)
		return MXC_ENOMEM;
	snprintf(run->run_id, sizeof(run->run_id), "%s", ri->run_id);
	snprintf(run->shard, sizeof(run->shard), "%s", ri->shard);
	run->finished_at = ri->finished_at;
	run->input = i;
	/* A scan store holds one run, its leaf; a merged store holds its
	 * own run record first, then those of its inputs. */
	run->leaf = !is_merge_run(ri) && (first || is_merge_run(&m->in[i].run));
	m->runs[m->n_runs++] = run;
	if (!other) {
		r = mxc_strmap_put(&m->run_ids, run->run_id, run);
		if (r)
			return r;
	}
	return 0;
}

static int take_run(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct runs_walk *w = arg;
	struct merge *m = w->m;
	struct mxc_run_info ri;
	char okey[KEY_MAX + 64];
	const void *have;
	size_t hlen;
	int r;

	r = mxc__run_decode(val, vlen, &ri);
	if (r)
		return fail(m, r == MXC_ENOMEM ? r : MXC_ECORRUPT,
			    "%s: damaged run record '%.*s': %s", m->in[w->i].dir,
			    (int)(klen < 64 ? klen : 64), (const char *)key, mxc_strerror(r));
	if (w->n == 0)
		m->in[w->i].run = ri;
	r = add_run(m, w->i, &ri, w->n == 0);
	if (r)
		return r;
	w->n++;
	r = run_key(m, w->i, key, klen, okey, sizeof(okey));
	if (r)
		return r;
	if (m->state == OUT_NONE || m->state == OUT_EMPTY)
		return batch_put(m, MXC__DB_RUNS, okey, strlen(okey), val, vlen, 0, NULL);
	/* Completing a merge: the output must hold exactly these runs. */
	r = m->api->get(m->out, MXC__DB_RUNS, okey, strlen(okey), &have, &hlen);
	if (r && r != MXC_ENOTFOUND)
		return fail(m, r, "--out %s: %s", m->o->out, mxc_strerror(r));
	if (r || hlen != vlen || memcmp(have, val, vlen) != 0)
		return fail(m, MXC_EEXIST,
			    "--out %s holds %s merge %s of other inputs (%s, input %zu, differs): "
			    "give the same inputs in the same order, or a new --out",
			    m->o->out, m->state == OUT_FINISHED ? "the finished" : "an unfinished",
			    m->mrun.run_id, m->in[w->i].dir, w->i + 1);
	return 0;
}

/*
 * Before anything is opened: every input exists, none is given twice (by
 * another path, a symbolic link) and none is the output.
 */
static int check_paths(struct merge *m)
{
	struct stat st;
	int r;

	for (size_t i = 0; i < m->o->n_inputs; i++) {
		struct input *in = &m->in[i];

		if (stat(in->dir, &st) != 0) {
			r = -errno;
			return fail(m, r == -ENOENT || r == -ENOTDIR ? MXC_EINVAL : r,
				    "input store %s: %s", in->dir, mxc_strerror(r));
		}
		if (!S_ISDIR(st.st_mode))
			return fail(m, MXC_EINVAL, "input store %s is not a directory", in->dir);
		in->dev = st.st_dev;
		in->ino = st.st_ino;
		if (m->out_ino && in->dev == m->out_dev && in->ino == m->out_ino)
			return fail(m, MXC_EINVAL, "%s is both an input and --out", in->dir);
		for (size_t j = 0; j < i; j++)
			if (m->in[j].dev == in->dev && m->in[j].ino == in->ino)
				return fail(m, MXC_EINVAL, "%s and %s are the same store",
					    m->in[j].dir, in->dir);
	}
	return 0;
}

static int check_input(struct merge *m, size_t i)
{
	struct runs_walk w = { m, i, 0 };
	void *kv = NULL;
	int fd = -1, r;

	r = lock_input(m, i, &fd);
	if (!r)
		r = open_input(m, i, &kv);
	if (!r)
		r = m->api->each(kv, MXC__DB_RUNS, take_run, &w);
	if (!r && w.n == 0)
		r = fail(m, MXC_EINVAL, "%s holds no run (its scan never began?)", m->in[i].dir);
	/* Its leaves may all have finished, yet it holds only part of them. */
	if (!r && is_merge_run(&m->in[i].run) && !m->in[i].run.finished_at)
		r = fail(m, MXC_EINVAL,
			 "%s holds the unfinished merge %s: complete it first (run that merge "
			 "again)",
			 m->in[i].dir, m->in[i].run.run_id);
	if (!r) {
		m->in[i].n_runs = w.n;
		m->runs_expected += w.n;
	}
	if (kv)
		m->api->close(kv);
	if (fd >= 0)
		close(fd);
	return r;
}

/* "K/N" into its numbers; false for "" and anything else. */
static bool shard_parse(const char *s, unsigned *k, unsigned *n)
{
	const char *slash = strchr(s, '/');
	char kbuf[16];
	uint64_t kv, nv;

	if (!slash || (size_t)(slash - s) >= sizeof(kbuf))
		return false;
	memcpy(kbuf, s, (size_t)(slash - s));
	kbuf[slash - s] = '\0';
	if (mxc_parse_u64(slash + 1, 1, SHARD_N_MAX, &nv) != 0 ||
	    mxc_parse_u64(kbuf, 0, nv - 1, &kv) != 0)
		return false;
	*k = (unsigned)kv;
	*n = (unsigned)nv;
	return true;
}

/* Appends "DIR (run R, shard S)" of @p run to @p buf. */
static void name_run(struct merge *m, const struct run *run, char *buf, size_t len)
{
	size_t k = strlen(buf);

	snprintf(buf + k, len - k, "%s%s (run %s, %s%s)", k ? "; " : "", m->in[run->input].dir,
		 run->run_id, run->shard[0] ? "shard " : "whole list", run->shard);
}

/*
 * The scans' runs (the leaves) of all inputs together: the same shard twice
 * is an error; runs of several scans, shards missing from a sharded scan and
 * unfinished runs are merged with a warning.
 */
static int check_shards(struct merge *m)
{
	struct mxc_strmap shards;
	unsigned n_common = 0, n_sharded = 0, n_whole = 0, n_unfinished = 0;
	bool mixed = false;
	char list[1536] = "";
	int r = 0;

	mxc_strmap_init(&shards);
	for (size_t j = 0; j < m->n_runs; j++) {
		struct run *run = m->runs[j], *other;

		if (!run->leaf)
			continue;
		if (!run->finished_at && n_unfinished++ < NAMED_MAX)
			name_run(m, run, list, sizeof(list));
		if (!shard_parse(run->shard, &run->k, &run->n)) {
			run->n = 0;
			n_whole++;
			continue;
		}
		n_sharded++;
		if (n_common && n_common != run->n)
			mixed = true;
		n_common = run->n;
		other = mxc_strmap_get(&shards, run->shard);
		if (other) {
			r = fail(m, MXC_EINVAL,
				 "shard %s given twice: %s (run %s) and %s (run %s)", run->shard,
				 m->in[other->input].dir, other->run_id, m->in[run->input].dir,
				 run->run_id);
			goto out;
		}
		r = mxc_strmap_put(&shards, run->shard, run);
		if (r)
			goto out;
	}
	if (n_unfinished)
		warn(m, "%u run(s) did not finish, so the domains they did not reach are missing: "
			"%s%s",
		     n_unfinished, list, n_unfinished > NAMED_MAX ? "; ..." : "");
	if (mixed || n_whole > 1 || (n_whole && n_sharded)) {
		unsigned named = 0;

		list[0] = '\0';
		for (size_t j = 0; j < m->n_runs && named < NAMED_MAX; j++) {
			if (m->runs[j]->leaf) {
				name_run(m, m->runs[j], list, sizeof(list));
				named++;
			}
		}
		warn(m, "the inputs come from different scans (where they overlap the most "
			"recent record of a name is kept): %s%s",
		     list, n_whole + n_sharded > NAMED_MAX ? "; ..." : "");
	} else if (n_sharded && n_sharded < n_common) {
		size_t k = 0;
		unsigned listed = 0;

		list[0] = '\0';
		for (unsigned s = 0; s < n_common && listed < 10; s++) {
			char key[32];

			snprintf(key, sizeof(key), "%u/%u", s, n_common);
			if (!mxc_strmap_get(&shards, key)) {
				k += (size_t)snprintf(list + k, sizeof(list) - k, "%s%s",
						      listed ? ", " : "", key);
				listed++;
			}
		}
		warn(m, "%u of %u shards are missing (%s%s): the merged store covers part of the "
			"input",
		     n_common - n_sharded, n_common, list,
		     n_common - n_sharded > listed ? ", ..." : "");
	}
out:
	mxc_strmap_free(&shards);
	return r;
}

/* ------------------------------------------------------------------------ */
/* Pass 2: the records                                                       */

struct rec_walk {
	struct merge *m;
	unsigned db;
};

/* Whether (at, run) is later than (at2, run2): time first, then run id. */
static bool newer(int64_t at, const char *run, int64_t at2, const char *run2)
{
	return at > at2 || (at == at2 && strcmp(run, run2) > 0);
}

/* Decodes a record enough to check it against its key and learn its time
 * and run. */
static int rec_facts(unsigned db, const char *name, const void *val, size_t vlen, int64_t *at,
		     char *run_id, size_t rlen)
{
	const char *key, *run;
	int r;

	if (db == MXC__DB_DOMAINS) {
		struct mxc_domain_rec *d;

		r = mxc_domain_rec_decode(val, vlen, &d);
		if (r)
			return r;
		key = d->domain;
		run = d->run_id;
		*at = d->scanned_at;
		r = strcmp(key, name) ? MXC_ECORRUPT : 0;
		snprintf(run_id, rlen, "%s", run ? run : "");
		mxc_free(d);
	} else {
		struct mxc_host_rec *h;

		r = mxc_host_rec_decode(val, vlen, &h);
		if (r)
			return r;
		key = h->host;
		run = h->run_id;
		*at = h->resolved_at;
		r = strcmp(key, name) ? MXC_ECORRUPT : 0;
		snprintf(run_id, rlen, "%s", run ? run : "");
		mxc_free(h);
	}
	return r;
}

static void corrupt(struct merge *m, unsigned db, const char *name, int err)
{
	m->st->corrupt++;
	if (m->cur_corrupt++ < CORRUPT_LOGGED)
		mxc_log_warn("merge: %s: damaged %s record '%s' skipped: %s", m->in[m->cur].dir,
			     mxc__kv_db_names[db], name, mxc_strerror(err));
}

static int take_record(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct rec_walk *w = arg;
	struct merge *m = w->m;
	unsigned db = w->db;
	char name[MXC_RECORD_NAME_MAX + 1], run_id[MXC_RECORD_RUN_ID_MAX + 1];
	char orun[MXC_RECORD_RUN_ID_MAX + 1];
	const void *have;
	size_t hlen;
	uintptr_t idx;
	int64_t at, oat;
	int r;

	if (klen == 0 || klen > MXC_RECORD_NAME_MAX || memchr(key, 0, klen)) {
		snprintf(name, sizeof(name), "%.*s", (int)(klen < 64 ? klen : 64),
			 (const char *)key);
		corrupt(m, db, name, MXC_ECORRUPT);
		return 0;
	}
	memcpy(name, key, klen);
	name[klen] = '\0';
	r = rec_facts(db, name, val, vlen, &at, run_id, sizeof(run_id));
	if (r == MXC_ENOMEM)
		return r;
	if (r) {
		corrupt(m, db, name, r);
		return 0;
	}
	if (db == MXC__DB_DOMAINS)
		m->st->domains_read++;
	else
		m->st->hosts_read++;

	/* Merged in this batch already? */
	idx = (uintptr_t)mxc_strmap_get(&m->pend[db == MXC__DB_HOSTS], name);
	if (idx) {
		struct entry *e = &m->ent[idx - 1];

		if (e->vlen == vlen && memcmp(e->val, val, vlen) == 0)
			return 0;
		if (db == MXC__DB_DOMAINS)
			m->st->domains_shared++;
		else
			m->st->hosts_shared++;
		if (!newer(at, run_id, e->at, e->run_id))
			return 0;
		m->bytes = m->bytes - e->vlen + vlen;
		r = entry_set_val(e, val, vlen, at, run_id);
		if (!r)
			m->st->replaced++;
		return r;
	}
	/* In an earlier transaction (of this run or of a killed one)? */
	r = m->api->get(m->out, db, name, klen, &have, &hlen);
	if (r == 0) {
		if (hlen == vlen && memcmp(have, val, vlen) == 0)
			return 0;
		if (db == MXC__DB_DOMAINS)
			m->st->domains_shared++;
		else
			m->st->hosts_shared++;
		r = rec_facts(db, name, have, hlen, &oat, orun, sizeof(orun));
		if (r == MXC_ENOMEM)
			return r;
		/* Damage in our own output is replaced by a sound record. */
		if (!r && !newer(at, run_id, oat, orun))
			return 0;
		m->st->replaced++;
	} else if (r != MXC_ENOTFOUND) {
		return fail(m, r, "--out %s: %s", m->o->out, mxc_strerror(r));
	}
	r = batch_put(m, db, name, klen, val, vlen, at, run_id);
	if (!r && batch_full(m))
		r = batch_commit(m, NULL, 0);
	return r;
}

static int take_counter(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct rec_walk *w = arg;
	struct merge *m = w->m;
	char name[COUNTER_NAME_MAX + 1];
	size_t j;

	if (klen == 0 || klen > COUNTER_NAME_MAX || memchr(key, 0, klen) || vlen != 8) {
		snprintf(name, sizeof(name), "%.*s", (int)(klen < 64 ? klen : 64),
			 (const char *)key);
		corrupt(m, MXC__DB_PROGRESS, name, MXC_ECORRUPT);
		return 0;
	}
	memcpy(name, key, klen);
	name[klen] = '\0';
	for (j = 0; j < m->n_ctr; j++)
		if (strcmp(m->ctr[j].name, name) == 0)
			break;
	if (j == m->n_ctr) {
		if (m->n_ctr == COUNTERS_MAX) {
			if (!m->ctr_overflow)
				warn(m, "%s: more than %u progress counters; '%s' and later ones "
					"are not merged",
				     m->in[m->cur].dir, COUNTERS_MAX, name);
			m->ctr_overflow = true;
			return 0;
		}
		memcpy(m->ctr[j].name, name, klen + 1);
		m->ctr[j].sum = 0;
		m->n_ctr++;
	}
	m->ctr[j].sum += mxc__be64_get(val);
	return 0;
}

static int copy_input(struct merge *m, size_t i)
{
	struct rec_walk w = { m, 0 };
	uint64_t d0 = m->st->domains_read, h0 = m->st->hosts_read;
	void *kv = NULL;
	int fd = -1, r;

	m->cur = i;
	m->cur_corrupt = 0;
	r = lock_input(m, i, &fd);
	if (r)
		return r;
	r = open_input(m, i, &kv);
	if (r)
		goto out;
	w.db = MXC__DB_DOMAINS;
	r = m->api->each(kv, MXC__DB_DOMAINS, take_record, &w);
	if (!r) {
		w.db = MXC__DB_HOSTS;
		r = m->api->each(kv, MXC__DB_HOSTS, take_record, &w);
	}
	if (!r)
		r = m->api->each(kv, MXC__DB_PROGRESS, take_counter, &w);
	if (r) {
		fail(m, r, "merging %s: %s", m->in[i].dir, mxc_strerror(r));
		goto out;
	}
	mxc_log_info("merge: %s: %llu domains, %llu hosts (run %s%s%s)", m->in[i].dir,
		     (unsigned long long)(m->st->domains_read - d0),
		     (unsigned long long)(m->st->hosts_read - h0), m->in[i].run.run_id,
		     m->in[i].run.shard[0] ? ", shard " : "", m->in[i].run.shard);
	if (m->cur_corrupt)
		warn(m, "%s: %llu damaged records skipped", m->in[i].dir,
		     (unsigned long long)m->cur_corrupt);
out:
	if (kv)
		m->api->close(kv);
	if (fd >= 0)
		close(fd);
	return r;
}

/* The last transaction: what is left of the batch, the counters, and the
 * merge's run record marked finished. */
static int finish(struct merge *m)
{
	struct mxc__kv_op ops[COUNTERS_MAX + 1];
	size_t n = 0;
	int r;

	for (size_t j = 0; j < m->n_ctr; j++, n++) {
		for (int b = 0; b < 8; b++)
			m->ctr[j].be[b] = (uint8_t)(m->ctr[j].sum >> (56 - 8 * b));
		ops[n] = (struct mxc__kv_op){ .kind = MXC__KV_PUT, .db = MXC__DB_PROGRESS,
					      .key = m->ctr[j].name,
					      .klen = strlen(m->ctr[j].name),
					      .val = m->ctr[j].be, .vlen = 8 };
	}
	m->mrun.finished_at = mxc_wall_time();
	/* finished_at 0 means "not finished": a merge in the first second of
	 * 1970 is not a concern, a clock set to it is. */
	if (m->mrun.finished_at <= 0)
		m->mrun.finished_at = 1;
	mxc_buf_reset(&m->enc);
	r = mxc__run_encode(&m->mrun, &m->enc);
	if (r)
		return fail(m, r, "cannot encode the merge's run record: %s", mxc_strerror(r));
	ops[n++] = (struct mxc__kv_op){ .kind = MXC__KV_PUT, .db = MXC__DB_RUNS,
					.key = m->mrun.run_id, .klen = strlen(m->mrun.run_id),
					.val = m->enc.data, .vlen = m->enc.len };
	return batch_commit(m, ops, n);
}

/* The first transaction of a new merge: the schema mark, the merge's run
 * record (unfinished) and the run records of the inputs, queued in pass 1. */
static int begin(struct merge *m)
{
	uint8_t schema[4] = { 0, 0, 0, MXC_STORE_SCHEMA };
	struct mxc__kv_op ops[2];
	int r;

	mxc_buf_reset(&m->enc);
	r = mxc__run_encode(&m->mrun, &m->enc);
	if (r)
		return fail(m, r, "cannot encode the merge's run record: %s", mxc_strerror(r));
	ops[0] = (struct mxc__kv_op){ .kind = MXC__KV_PUT, .db = MXC__DB_META,
				      .key = SCHEMA_KEY, .klen = strlen(SCHEMA_KEY),
				      .val = schema, .vlen = sizeof(schema) };
	ops[1] = (struct mxc__kv_op){ .kind = MXC__KV_PUT, .db = MXC__DB_RUNS,
				      .key = m->mrun.run_id, .klen = strlen(m->mrun.run_id),
				      .val = m->enc.data, .vlen = m->enc.len };
	return batch_commit(m, ops, 2);
}

/* ------------------------------------------------------------------------ */
/* The merge                                                                 */

static int merge_inputs(struct merge *m)
{
	uint64_t have = 0;
	int r;

	r = check_out_dir(m);
	if (!r)
		r = check_paths(m);
	if (!r && m->out_exists)
		r = open_out(m, false);
	if (r)
		return r;
	if (m->state == OUT_NONE || m->state == OUT_EMPTY) {
		make_merge_id(m->mrun.run_id, sizeof(m->mrun.run_id));
		m->mrun.started_at = mxc_wall_time();
		snprintf(m->mrun.shard, sizeof(m->mrun.shard), "%s", MXC_MERGE_SHARD);
		snprintf(m->mrun.args, sizeof(m->mrun.args), "%s", m->o->args ? m->o->args : "");
	}
	snprintf(m->st->run_id, sizeof(m->st->run_id), "%s", m->mrun.run_id);

	for (size_t i = 0; i < m->o->n_inputs; i++) {
		r = check_input(m, i);
		if (r)
			return r;
	}
	if (m->state == OUT_UNFINISHED || m->state == OUT_FINISHED) {
		r = m->api->count(m->out, MXC__DB_RUNS, &have);
		if (r)
			return fail(m, r, "--out %s: %s", m->o->out, mxc_strerror(r));
		if (have != m->runs_expected + 1)
			return fail(m, MXC_EEXIST,
				    "--out %s holds merge %s of other inputs (%llu run records, "
				    "these inputs make %llu): give the same inputs, or a new --out",
				    m->o->out, m->mrun.run_id, (unsigned long long)have,
				    (unsigned long long)(m->runs_expected + 1));
	}
	r = check_shards(m);
	if (r)
		return r;
	if (m->state == OUT_FINISHED) {
		m->st->already_done = true;
		mxc_log_info("merge: %s already holds merge %s of these inputs: nothing to do",
			     m->o->out, m->mrun.run_id);
		return 0;
	}
	if (m->state == OUT_UNFINISHED) {
		m->st->resumed = true;
		mxc_log_info("merge: completing the unfinished merge %s in %s", m->mrun.run_id,
			     m->o->out);
	} else {
		if (m->state == OUT_NONE) {
			r = open_out(m, true);
			if (r)
				return r;
			if (m->state != OUT_EMPTY)
				return fail(m, MXC_EEXIST,
					    "--out %s was filled by someone else meanwhile",
					    m->o->out);
		}
		mxc_log_info("merge: %zu stores into %s (run %s)", m->o->n_inputs, m->o->out,
			     m->mrun.run_id);
		r = begin(m);
		if (r)
			return r;
	}
	for (size_t i = 0; i < m->o->n_inputs; i++) {
		r = copy_input(m, i);
		if (r)
			return r;
	}
	return finish(m);
}

int mxc_merge_run(const struct mxc_merge_opts *o, struct mxc_merge_stats *stats, char *errmsg,
		  size_t errlen)
{
	struct mxc_merge_stats dummy_st;
	char dummy[1];
	struct merge m;
	int r, rc;

	if (!stats)
		stats = &dummy_st;
	memset(stats, 0, sizeof(*stats));
	if (!errmsg || errlen == 0) {
		errmsg = dummy;
		errlen = sizeof(dummy);
	}
	errmsg[0] = '\0';
	if (!o || !o->out || !o->out[0] || !o->inputs || o->n_inputs == 0) {
		snprintf(errmsg, errlen, "merge: an output and at least one input are needed");
		return MXC_EINVAL;
	}
	if (o->n_inputs > INPUTS_MAX) {
		snprintf(errmsg, errlen, "merge: %zu inputs, at most %u at once", o->n_inputs,
			 INPUTS_MAX);
		return MXC_EINVAL;
	}
	memset(&m, 0, sizeof(m));
	m.o = o;
	m.st = stats;
	m.err = errmsg;
	m.errlen = errlen;
	m.api = mxc__kv_lmdb();
	m.state = OUT_NONE;
	m.batch_size = o->batch_size ? o->batch_size : BATCH_DEFAULT;
	mxc_strmap_init(&m.run_ids);
	mxc_strmap_init(&m.pend[0]);
	mxc_strmap_init(&m.pend[1]);
	mxc_buf_init(&m.enc, 4096);
	m.in = mxc_calloc(o->n_inputs, sizeof(*m.in));
	if (!m.in) {
		r = fail(&m, MXC_ENOMEM, "merge: out of memory");
		goto out;
	}
	for (size_t i = 0; i < o->n_inputs; i++)
		m.in[i].dir = o->inputs[i];

	r = merge_inputs(&m);
	if (!r && m.out && !stats->already_done) {
		r = m.api->count(m.out, MXC__DB_DOMAINS, &stats->domains);
		if (!r)
			r = m.api->count(m.out, MXC__DB_HOSTS, &stats->hosts);
		if (r)
			fail(&m, r, "--out %s: %s", o->out, mxc_strerror(r));
	}
	if (r == MXC_ENOMEM)
		fail(&m, r, "merge: out of memory");
out:
	batch_clear(&m);
	mxc_free(m.ent);
	if (m.out) {
		rc = m.api->close(m.out);
		if (rc && !r)
			r = fail(&m, rc, "--out %s: closing: %s", o->out, mxc_strerror(rc));
	}
	for (size_t j = 0; j < m.n_runs; j++)
		mxc_free(m.runs[j]);
	mxc_free(m.runs);
	mxc_strmap_free(&m.run_ids);
	mxc_buf_free(&m.enc);
	mxc_free(m.in);
	if (r && !errmsg[0])
		snprintf(errmsg, errlen, "merge: %s", mxc_strerror(r));
	return r;
}
