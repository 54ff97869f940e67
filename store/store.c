/**
 * \file
 * The results store above its database engine: batching, the pending-key
 * set, encoding of records and runs, progress counters, schema checks.
 *
 * Puts are encoded at once (so the caller's record may be freed right after
 * the call) and kept in a pending batch: one block per record holding the
 * key and the encoded value. When batch_size records are pending, or their
 * bytes pass BATCH_BYTES_MAX, the whole batch with the summed counter deltas
 * goes to the engine as one atomic write; mxc_store_flush and close do the
 * same at once. The cost of a durable commit is thus shared by a batch of
 * domains, and a crash loses at most the uncommitted batch, which the next
 * run scans again because mxc_store_domain_exists does not find it.
 *
 * mxc_store_domain_exists answers from the pending batch first (a hash set
 * of pending names), then from the committed data, so a domain put but not
 * yet committed is not scanned twice in one run.
 *
 * Records are written with "first write wins": a key that is already
 * committed or pending is left as it is, so a resumed scan cannot store a
 * domain twice or overwrite what an earlier attempt recorded. Runs and the
 * schema mark are the exception; they are rewritten in place.
 *
 * If a commit fails the batch stays pending and the error is returned; a
 * later flush (or close) tries again, and close frees it in any case.
 */
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strmap.h"
#include "store/internal.h"

#define BATCH_DEFAULT 1000u
/* Memory bound of a batch, whatever batch_size says. */
#define BATCH_BYTES_MAX ((size_t)64 << 20)
/* Largest encoded record accepted (1024 raw answers of 64 KiB fit). */
#define RECORD_MAX ((size_t)80 << 20)
#define COUNTER_NAME_MAX 64
#define SCHEMA_KEY "schema"
#define RUN_VERSION 1

/** A write waiting for the next batch: key and value live in one block. */
struct pending {
	uint8_t db;   /* enum mxc__kv_db */
	uint8_t kind; /* enum mxc__kv_op_kind */
	char *key;    /* NUL-terminated; the block also holds the value */
	size_t klen;
	uint8_t *val;
	size_t vlen;
};

struct counter {
	char name[COUNTER_NAME_MAX + 1];
	uint64_t delta;
};

struct mxc_store {
	const struct mxc__kv_api *api;
	void *kv;
	bool rdonly;
	unsigned batch_size;
	char *dir;

	struct pending *pend;
	size_t n_pend, cap_pend;
	size_t n_records;       /* pending domain and host records */
	size_t pend_bytes;
	struct mxc_strmap keys[2]; /* pending domain and host names (sets) */

	struct counter *ctr;
	size_t n_ctr, cap_ctr;

	struct mxc_buf enc;     /* scratch for encoding */
};

static size_t g_initial_mapsize;

void mxc_store_set_initial_mapsize(size_t bytes)
{
	g_initial_mapsize = bytes;
}

size_t mxc_store_mapsize(const struct mxc_store *s)
{
	return s->api->mapsize(s->kv);
}

size_t mxc_store_pending(const struct mxc_store *s)
{
	return s->n_records;
}

/* ------------------------------------------------------------------------ */
/* The pending batch                                                         */

static void drop_pending(struct mxc_store *s)
{
	for (size_t i = 0; i < s->n_pend; i++)
		mxc_free(s->pend[i].key);
	s->n_pend = 0;
	s->n_records = 0;
	s->pend_bytes = 0;
	s->n_ctr = 0;
	/* Freed rather than cleared: the map has no clear, and a batch is
	 * rebuilt from scratch anyway. */
	mxc_strmap_free(&s->keys[0]);
	mxc_strmap_free(&s->keys[1]);
}

/* Queues one write; copies @p key and @p val. */
static int queue(struct mxc_store *s, unsigned db, unsigned kind, const char *key,
		 const void *val, size_t vlen, struct pending **out)
{
	size_t klen = strlen(key);
	struct pending *p;
	char *blk;

	if (s->n_pend == s->cap_pend) {
		size_t ncap = s->cap_pend ? s->cap_pend * 2 : 64;
		struct pending *np = mxc_realloc(s->pend, ncap * sizeof(*np));

		if (!np)
			return MXC_ENOMEM;
		s->pend = np;
		s->cap_pend = ncap;
	}
	blk = mxc_malloc(klen + 1 + vlen);
	if (!blk)
		return MXC_ENOMEM;
	memcpy(blk, key, klen + 1);
	if (vlen)
		memcpy(blk + klen + 1, val, vlen);
	p = &s->pend[s->n_pend++];
	p->db = (uint8_t)db;
	p->kind = (uint8_t)kind;
	p->key = blk;
	p->klen = klen;
	p->val = (uint8_t *)blk + klen + 1;
	p->vlen = vlen;
	s->pend_bytes += klen + vlen;
	if (out)
		*out = p;
	return 0;
}

int mxc_store_flush(struct mxc_store *s)
{
	struct mxc__kv_op *ops;
	size_t n = s->n_pend + s->n_ctr, k = 0;
	int r;

	if (n == 0)
		return 0;
	ops = mxc_calloc(n, sizeof(*ops));
	if (!ops)
		return MXC_ENOMEM;
	for (size_t i = 0; i < s->n_pend; i++, k++) {
		ops[k].kind = s->pend[i].kind;
		ops[k].db = s->pend[i].db;
		ops[k].key = s->pend[i].key;
		ops[k].klen = s->pend[i].klen;
		ops[k].val = s->pend[i].val;
		ops[k].vlen = s->pend[i].vlen;
	}
	for (size_t i = 0; i < s->n_ctr; i++, k++) {
		ops[k].kind = MXC__KV_ADD_U64;
		ops[k].db = MXC__DB_PROGRESS;
		ops[k].key = s->ctr[i].name;
		ops[k].klen = strlen(s->ctr[i].name);
		ops[k].delta = s->ctr[i].delta;
	}
	r = s->api->write(s->kv, ops, n);
	mxc_free(ops);
	if (r) {
		mxc_log_error("store %s: commit of %zu writes failed: %s", s->dir, n,
			      mxc_strerror(r));
		return r;
	}
	drop_pending(s);
	return 0;
}

static bool batch_full(const struct mxc_store *s)
{
	return s->n_records >= s->batch_size || s->pend_bytes >= BATCH_BYTES_MAX;
}

/* Valid record key: a name of 1..253 bytes. */
static bool key_ok(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, MXC_RECORD_NAME_MAX + 1);
	return n > 0 && n <= MXC_RECORD_NAME_MAX;
}

/* Queues an encoded record (in s->enc) under @p name, first write wins. */
static int put_record(struct mxc_store *s, unsigned db, const char *name)
{
	struct mxc_strmap *set = &s->keys[db == MXC__DB_HOSTS];
	struct pending *p;
	int r;

	if (mxc_strmap_get(set, name))
		return 0;
	r = queue(s, db, MXC__KV_PUT_NEW, name, s->enc.data, s->enc.len, &p);
	if (r)
		return r;
	/* The value only has to be non-NULL; the block's address is stable,
	 * unlike p, which moves when the pending array grows. */
	r = mxc_strmap_put(set, p->key, p->key);
	if (r) {
		/* Undo, so that a pending record is always in the set. */
		s->n_pend--;
		s->pend_bytes -= p->klen + p->vlen;
		mxc_free(p->key);
		return r;
	}
	s->n_records++;
	return batch_full(s) ? mxc_store_flush(s) : 0;
}

int mxc_store_domain_put(struct mxc_store *s, const struct mxc_domain_rec *r)
{
	int e;

	if (s->rdonly)
		return MXC_EINVAL;
	if (!r || !key_ok(r->domain))
		return MXC_EINVAL;
	mxc_buf_reset(&s->enc);
	e = mxc_domain_rec_encode(r, &s->enc);
	if (e)
		return e;
	return put_record(s, MXC__DB_DOMAINS, r->domain);
}

int mxc_store_host_put(struct mxc_store *s, const struct mxc_host_rec *r)
{
	int e;

	if (s->rdonly)
		return MXC_EINVAL;
	if (!r || !key_ok(r->host))
		return MXC_EINVAL;
	mxc_buf_reset(&s->enc);
	e = mxc_host_rec_encode(r, &s->enc);
	if (e)
		return e;
	return put_record(s, MXC__DB_HOSTS, r->host);
}

static int exists(struct mxc_store *s, unsigned db, const char *name)
{
	const void *v;
	size_t vlen;
	int r;

	if (!name || !name[0])
		return MXC_EINVAL;
	/* A longer name can never have been stored. */
	if (!key_ok(name))
		return 0;
	if (mxc_strmap_get(&s->keys[db == MXC__DB_HOSTS], name))
		return 1;
	r = s->api->get(s->kv, db, name, strlen(name), &v, &vlen);
	if (r == MXC_ENOTFOUND)
		return 0;
	return r ? r : 1;
}

int mxc_store_domain_exists(struct mxc_store *s, const char *domain)
{
	return exists(s, MXC__DB_DOMAINS, domain);
}

int mxc_store_host_exists(struct mxc_store *s, const char *host)
{
	return exists(s, MXC__DB_HOSTS, host);
}

/* ------------------------------------------------------------------------ */
/* Counters                                                                  */

int mxc_store_counter_add(struct mxc_store *s, const char *name, uint64_t delta)
{
	size_t n;

	if (s->rdonly || !name)
		return MXC_EINVAL;
	n = strnlen(name, COUNTER_NAME_MAX + 1);
	if (n == 0 || n > COUNTER_NAME_MAX)
		return MXC_EINVAL;
	/* A handful of counter names exist: a linear scan beats a map. */
	for (size_t i = 0; i < s->n_ctr; i++) {
		if (strcmp(s->ctr[i].name, name) == 0) {
			s->ctr[i].delta += delta;
			return 0;
		}
	}
	if (s->n_ctr == s->cap_ctr) {
		size_t ncap = s->cap_ctr ? s->cap_ctr * 2 : 8;
		struct counter *nc = mxc_realloc(s->ctr, ncap * sizeof(*nc));

		if (!nc)
			return MXC_ENOMEM;
		s->ctr = nc;
		s->cap_ctr = ncap;
	}
	memcpy(s->ctr[s->n_ctr].name, name, n + 1);
	s->ctr[s->n_ctr].delta = delta;
	s->n_ctr++;
	return 0;
}

static uint64_t be64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

int mxc_store_counter_get(struct mxc_store *s, const char *name, uint64_t *out)
{
	const void *v;
	size_t vlen;
	int r;

	*out = 0;
	if (!name || !name[0] || strnlen(name, COUNTER_NAME_MAX + 1) > COUNTER_NAME_MAX)
		return MXC_EINVAL;
	r = s->api->get(s->kv, MXC__DB_PROGRESS, name, strlen(name), &v, &vlen);
	if (r == MXC_ENOTFOUND)
		return 0;
	if (r)
		return r;
	if (vlen != 8)
		return MXC_ECORRUPT;
	*out = be64(v);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Runs                                                                      */

enum run_tag { RT_RUN_ID = 1, RT_STARTED = 2, RT_FINISHED = 3, RT_SHARD = 4, RT_ARGS = 5 };

static int run_put_str(struct mxc_buf *b, uint8_t tag, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	int r;

	if (n == cap)
		return MXC_EINVAL; /* not terminated inside its array */
	r = mxc_buf_append_u8(b, tag);
	if (!r)
		r = mxc_buf_append_u32(b, (uint32_t)n);
	if (!r)
		r = mxc_buf_append(b, s, n);
	return r;
}

static int run_put_i64(struct mxc_buf *b, uint8_t tag, int64_t v)
{
	int r = mxc_buf_append_u8(b, tag);

	if (!r)
		r = mxc_buf_append_u32(b, 8);
	if (!r)
		r = mxc_buf_append_u64(b, (uint64_t)v);
	return r;
}

static int run_encode(const struct mxc_run_info *ri, struct mxc_buf *b)
{
	int r = mxc_buf_append_u16(b, RUN_VERSION);

	if (!r)
		r = run_put_str(b, RT_RUN_ID, ri->run_id, sizeof(ri->run_id));
	if (!r)
		r = run_put_i64(b, RT_STARTED, ri->started_at);
	if (!r)
		r = run_put_i64(b, RT_FINISHED, ri->finished_at);
	if (!r)
		r = run_put_str(b, RT_SHARD, ri->shard, sizeof(ri->shard));
	if (!r)
		r = run_put_str(b, RT_ARGS, ri->args, sizeof(ri->args));
	if (!r)
		r = mxc__tlv_put_end(b);
	return r;
}

static int run_take_str(char *dst, size_t cap, const uint8_t *v, size_t n)
{
	if (n >= cap || (n && memchr(v, 0, n)))
		return MXC_ECORRUPT;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static int run_decode(const uint8_t *data, size_t len, struct mxc_run_info *ri)
{
	struct mxc__tlv t;
	const uint8_t *v;
	uint8_t tag;
	size_t n;
	int r;

	memset(ri, 0, sizeof(*ri));
	r = mxc__tlv_init(&t, data, len, RUN_VERSION);
	while (!r && (r = mxc__tlv_next(&t, &tag, &v, &n)) == 1) {
		r = 0;
		switch (tag) {
		case RT_RUN_ID:
			r = run_take_str(ri->run_id, sizeof(ri->run_id), v, n);
			break;
		case RT_SHARD:
			r = run_take_str(ri->shard, sizeof(ri->shard), v, n);
			break;
		case RT_ARGS:
			r = run_take_str(ri->args, sizeof(ri->args), v, n);
			break;
		case RT_STARTED:
		case RT_FINISHED:
			if (n != 8)
				return MXC_ECORRUPT;
			if (tag == RT_STARTED)
				ri->started_at = (int64_t)be64(v);
			else
				ri->finished_at = (int64_t)be64(v);
			break;
		default:
			break;
		}
	}
	if (r < 0)
		return r;
	return ri->run_id[0] ? 0 : MXC_ECORRUPT;
}

struct first_run {
	struct mxc_run_info *out;
	int err;
};

static int take_first_run(void *arg, const void *key, size_t klen, const void *val,
			  size_t vlen)
{
	struct first_run *fr = arg;

	fr->err = run_decode(val, vlen, fr->out);
	return 1; /* one run per store: the first is the run */
}

int mxc_store_run_get(struct mxc_store *s, struct mxc_run_info *out)
{
	struct first_run fr = { out, MXC_ENOTFOUND };
	int r = s->api->each(s->kv, MXC__DB_RUNS, take_first_run, &fr);

	if (r < 0)
		return r;
	if (fr.err)
		return fr.err;
	return 0;
}

/* Queues the run under its id (replacing) and commits with the batch. */
static int run_write(struct mxc_store *s, const struct mxc_run_info *ri)
{
	int r;

	mxc_buf_reset(&s->enc);
	r = run_encode(ri, &s->enc);
	if (!r)
		r = queue(s, MXC__DB_RUNS, MXC__KV_PUT, ri->run_id, s->enc.data, s->enc.len,
			  NULL);
	if (!r)
		r = mxc_store_flush(s);
	return r;
}

int mxc_store_run_begin(struct mxc_store *s, const struct mxc_run_info *fresh,
			struct mxc_run_info *out)
{
	int r;

	if (s->rdonly || !fresh || !fresh->run_id[0] ||
	    strnlen(fresh->run_id, sizeof(fresh->run_id)) == sizeof(fresh->run_id))
		return MXC_EINVAL;
	r = mxc_store_run_get(s, out);
	if (r == 0)
		return 1;
	if (r != MXC_ENOTFOUND)
		return r;
	r = run_write(s, fresh);
	if (r)
		return r;
	*out = *fresh;
	return 0;
}

int mxc_store_run_finish(struct mxc_store *s, int64_t finished_at)
{
	struct mxc_run_info ri;
	int r;

	if (s->rdonly)
		return MXC_EINVAL;
	r = mxc_store_run_get(s, &ri);
	if (r)
		return r;
	ri.finished_at = finished_at;
	return run_write(s, &ri);
}

/* ------------------------------------------------------------------------ */
/* Walks                                                                     */

struct walk {
	unsigned db;
	mxc_store_domain_cb dom_cb;
	mxc_store_host_cb host_cb;
	mxc_store_corrupt_cb on_corrupt;
	void *arg;
};

static void report_corrupt(struct walk *w, const void *key, size_t klen, int err)
{
	char name[MXC_RECORD_NAME_MAX + 1];
	size_t n = klen < sizeof(name) - 1 ? klen : sizeof(name) - 1;

	memcpy(name, key, n);
	name[n] = '\0';
	if (w->on_corrupt)
		w->on_corrupt(w->arg, mxc__kv_db_names[w->db], name, err);
}

static int walk_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct walk *w = arg;
	int r;

	if (w->db == MXC__DB_DOMAINS) {
		struct mxc_domain_rec *rec;

		r = mxc_domain_rec_decode(val, vlen, &rec);
		if (!r) {
			r = w->dom_cb(w->arg, rec);
			mxc_free(rec);
			return r;
		}
	} else {
		struct mxc_host_rec *rec;

		r = mxc_host_rec_decode(val, vlen, &rec);
		if (!r) {
			r = w->host_cb(w->arg, rec);
			mxc_free(rec);
			return r;
		}
	}
	if (r == MXC_ENOMEM)
		return r;
	report_corrupt(w, key, klen, r);
	return 0;
}

int mxc_store_each_domain(struct mxc_store *s, mxc_store_domain_cb cb,
			  mxc_store_corrupt_cb on_corrupt, void *arg)
{
	struct walk w = { MXC__DB_DOMAINS, cb, NULL, on_corrupt, arg };

	if (!cb)
		return MXC_EINVAL;
	return s->api->each(s->kv, MXC__DB_DOMAINS, walk_one, &w);
}

int mxc_store_each_host(struct mxc_store *s, mxc_store_host_cb cb,
			mxc_store_corrupt_cb on_corrupt, void *arg)
{
	struct walk w = { MXC__DB_HOSTS, NULL, cb, on_corrupt, arg };

	if (!cb)
		return MXC_EINVAL;
	return s->api->each(s->kv, MXC__DB_HOSTS, walk_one, &w);
}

int mxc_store_count(struct mxc_store *s, uint64_t *domains, uint64_t *hosts)
{
	int r = 0;

	if (domains)
		r = s->api->count(s->kv, MXC__DB_DOMAINS, domains);
	if (!r && hosts)
		r = s->api->count(s->kv, MXC__DB_HOSTS, hosts);
	return r;
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                            */

/*
 * The "meta" database carries the store's schema. A new store gets ours; an
 * older one is read as is (there is none yet); a newer one is refused, since
 * this build would misread or damage it.
 */
static int check_schema(struct mxc_store *s, char *errmsg, size_t errlen)
{
	const void *v;
	size_t vlen;
	uint32_t have;
	uint8_t buf[4];
	int r;

	r = s->api->get(s->kv, MXC__DB_META, SCHEMA_KEY, strlen(SCHEMA_KEY), &v, &vlen);
	if (r == MXC_ENOTFOUND && !s->rdonly) {
		buf[0] = buf[1] = buf[2] = 0;
		buf[3] = MXC_STORE_SCHEMA;
		r = queue(s, MXC__DB_META, MXC__KV_PUT, SCHEMA_KEY, buf, sizeof(buf), NULL);
		if (!r)
			r = mxc_store_flush(s);
		if (r)
			snprintf(errmsg, errlen, "store %s: cannot write schema: %s", s->dir,
				 mxc_strerror(r));
		return r;
	}
	if (r == MXC_ENOTFOUND) {
		snprintf(errmsg, errlen, "%s is not an mxcensus store (no schema mark)", s->dir);
		return MXC_ECORRUPT;
	}
	if (r) {
		snprintf(errmsg, errlen, "store %s: %s", s->dir, mxc_strerror(r));
		return r;
	}
	if (vlen != 4) {
		snprintf(errmsg, errlen, "store %s: damaged schema mark", s->dir);
		return MXC_ECORRUPT;
	}
	memcpy(buf, v, 4);
	have = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	if (have > MXC_STORE_SCHEMA) {
		snprintf(errmsg, errlen,
			 "store %s has schema %u but this mxcensus reads schema %u at most: "
			 "use a newer mxcensus",
			 s->dir, have, MXC_STORE_SCHEMA);
		return MXC_ESCHEMA;
	}
	return 0;
}

static void store_free(struct mxc_store *s)
{
	drop_pending(s);
	mxc_free(s->pend);
	mxc_free(s->ctr);
	mxc_buf_free(&s->enc);
	mxc_free(s->dir);
	mxc_free(s);
}

int mxc_store_open(const char *dir, unsigned flags, unsigned batch_size,
		   struct mxc_store **out, char *errmsg, size_t errlen)
{
	struct mxc_store *s;
	char dummy[1];
	int r;

	if (!errmsg || errlen == 0) {
		errmsg = dummy;
		errlen = sizeof(dummy);
	}
	errmsg[0] = '\0';
	*out = NULL;
	if (!dir || !dir[0]) {
		snprintf(errmsg, errlen, "no store directory given");
		return MXC_EINVAL;
	}
	s = mxc_calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	s->dir = mxc_strdup(dir);
	if (!s->dir) {
		mxc_free(s);
		goto nomem;
	}
	s->api = mxc__kv_lmdb();
	s->rdonly = (flags & MXC_STORE_RDONLY) != 0;
	s->batch_size = batch_size ? batch_size : BATCH_DEFAULT;
	mxc_strmap_init(&s->keys[0]);
	mxc_strmap_init(&s->keys[1]);
	mxc_buf_init(&s->enc, RECORD_MAX);

	r = s->api->open(&s->kv, dir, flags, g_initial_mapsize, errmsg, errlen);
	if (!r)
		r = check_schema(s, errmsg, errlen);
	if (r) {
		if (!errmsg[0])
			snprintf(errmsg, errlen, "store %s: %s", dir, mxc_strerror(r));
		if (s->kv)
			s->api->close(s->kv);
		store_free(s);
		return r;
	}
	*out = s;
	return 0;
nomem:
	snprintf(errmsg, errlen, "store %s: out of memory", dir);
	return MXC_ENOMEM;
}

int mxc_store_close(struct mxc_store *s)
{
	int r, rc;

	if (!s)
		return 0;
	r = s->rdonly ? 0 : mxc_store_flush(s);
	if (r)
		mxc_log_error("store %s: %zu records not committed", s->dir, s->n_records);
	rc = s->api->close(s->kv);
	store_free(s);
	return r ? r : rc;
}
