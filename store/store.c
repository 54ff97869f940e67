/**
 * \file
 * The results store above its database engine: batching, the committer
 * thread, the pending-key sets, encoding of records and runs, progress
 * counters, schema checks.
 *
 * Puts are encoded at once (so the caller's record may be freed right after
 * the call) and kept in a pending batch: one block per record holding the
 * key and the encoded value. When batch_size records are pending, or their
 * bytes pass BATCH_BYTES_MAX, the whole batch with the summed counter deltas
 * goes to the engine as one atomic write. The cost of a durable commit is
 * thus shared by a batch of domains, and a crash loses at most the
 * uncommitted batches, which the next run scans again because
 * mxc_store_domain_exists does not find them.
 *
 * A commit (one write transaction of thousands of records, then fdatasync)
 * takes tens of milliseconds, which the scan's event loop must not spend
 * waiting. So a writable store has a committer thread, started on the first
 * asynchronous commit: mxc_store_commit_async (and a put that fills the
 * batch) moves the pending batch into the "committing" slot, builds its
 * operation list and hands that to the thread; new puts go to a fresh
 * pending batch. There is one committing slot: while it is busy a full
 * batch simply stays pending and goes next time, unless it has grown to
 * twice its size (in records or bytes), when the caller waits for the
 * committer (back-pressure: memory stays bounded by about four batches).
 * The loop thread learns of a finished commit in mxc_store_poll, which every
 * entry point calls first: it frees the batch, resets the engine's cached
 * read snapshot so that lookups see the commit, and returns the commit's
 * error. mxc_store_flush, run writes and close stay synchronous: they wait
 * for the committer, then write what is left on the calling thread.
 *
 * Ownership is what keeps the two threads apart, with one mutex and two
 * condition variables for the hand-over. The loop thread owns the pending
 * batch, the engine's read transaction and everything else; while a commit
 * runs the committer thread owns the committing batch's operation list and
 * its own write transaction. The loop thread still reads the committing
 * batch's key sets (nobody writes them then), which is how
 * mxc_store_domain_exists answers "yes" for a domain in every moment: first
 * the pending set, then the committing set, then the committed data. The
 * committing batch is freed only in mxc_store_poll, in the same step that
 * resets the read snapshot, so there is no moment in which a domain is in
 * neither. The committer thread logs nothing and allocates nothing.
 *
 * A full map is grown only on the loop thread: the committer reports
 * MXC_EFULL (its transaction aborted), and mxc_store_poll grows the map,
 * which needs every transaction of the process closed, then hands the same
 * batch back to the committer.
 *
 * Records are written with "first write wins": a key that is already
 * committed, committing or pending is left as it is, so a resumed scan
 * cannot store a domain twice or overwrite what an earlier attempt
 * recorded. Runs and the schema mark are the exception; they are rewritten
 * in place.
 *
 * A failed commit keeps its batch in the committing slot (still visible to
 * lookups) and its error is returned by the next entry point; the next
 * asynchronous commit or flush retries it before anything newer, and close
 * frees it in any case.
 */
#include "store/store.h"

#include <pthread.h>
#include <signal.h>
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
/* Back-pressure: a pending batch that cannot be handed over because a
 * commit runs may grow to this many times its normal size. */
#define BATCH_SLACK 2u
/* Largest encoded record accepted (1024 raw answers of 64 KiB fit). */
#define RECORD_MAX ((size_t)80 << 20)
#define COUNTER_NAME_MAX 64
/*
 * Writes per LMDB transaction. A batch is committed as transactions of at
 * most this many writes each (with the counter deltas added among them).
 * LMDB keeps every page a transaction dirtied in memory until the commit,
 * and keeps the freed pages for reuse, so the largest transaction sets its
 * share of our memory: about one leaf and, on a large tree, one branch page
 * per record, i.e. 3,900 dirty pages (16 MiB) for 2,500 records on a
 * million domains but 2,800 on a hundred thousand, and twice that under
 * back-pressure. Smaller transactions keep that small and nearly
 * independent of the size of the store; each costs a commit (fdatasync,
 * the branch pages copied again), so not too small.
 */
#define TXN_OPS 1000
/*
 * Lookups in the engine between two trims of the map's pages. Each maps
 * 64 KiB or more around the page it reads (store_lmdb.c, drop_map_pages);
 * commits drop them too, but a resumed scan that skips stored names for a
 * while commits nothing. A look at the budget is one pread of
 * /proc/self/statm, so it is looked at often: 128 lookups could map 12 MiB
 * before the look, which was most of what a 1M scan's peak added to 100k's.
 */
#define LOOKUPS_PER_TRIM 16
#define SCHEMA_KEY "schema"
#define RUN_VERSION 1
/* The filter of names put into a fresh store: 2^24 bits (2 MiB), 5 probes.
 * False positives (a lookup in LMDB that finds nothing) stay below 0.2 %
 * up to a million names and 2 % at two million; past that the filter
 * degrades towards "maybe" for every name, which is the lookup per name
 * that it saves, never a wrong answer. */
#define SEEN_BITS_LOG2 24
#define SEEN_PROBES 5
/* Slots of the table of host names found stored (see "Hosts found"). */
#define KNOWN_SLOTS 16384

/** A write waiting for a commit: key and value live in one block. */
struct pending {
	uint8_t db;   /* enum mxc__kv_db */
	uint8_t kind; /* enum mxc__kv_op_kind */
	char *key;    /* NUL-terminated; the block also holds the value */
	size_t klen;
	uint8_t *val;
	size_t vlen;
};

/* A counter delta, committed in the transaction of the writes queued
 * around it: @p at is the number of writes pending when it was added. */
struct counter {
	char name[COUNTER_NAME_MAX + 1];
	uint64_t delta;
	size_t at;
};

/** The writes of one transaction: the pending batch, or the committing one. */
struct batch {
	struct pending *pend;
	size_t n_pend, cap_pend;
	size_t n_records;       /* domain and host records */
	size_t bytes;
	struct mxc_strmap keys[2]; /* domain and host names (sets) */
	struct counter *ctr;    /* counter deltas, committed with the records */
	size_t n_ctr, cap_ctr;
	struct mxc__kv_op *ops; /* built at hand-over, freed with the batch */
	size_t n_ops;
	size_t *txn_end;        /* ops[txn_end[i-1] .. txn_end[i]) is transaction i */
	size_t n_txn;
	size_t txn_done;        /* transactions committed; a retry goes on from here */
};

/** Where the committing slot stands, as the loop thread sees it. */
enum commit_state {
	CS_IDLE,   /* empty */
	CS_BUSY,   /* handed to the committer; done or not, not yet polled */
	CS_FAILED, /* its commit failed; the loop thread holds it for a retry */
};

/** The committer thread and the hand-over between it and the loop thread. */
struct committer {
	pthread_t thread;
	bool started;               /* loop thread only */
	pthread_mutex_t mu;
	pthread_cond_t work_cv;     /* loop -> committer: job queued, or stop */
	pthread_cond_t done_cv;     /* committer -> loop: job done */
	/* Under mu. */
	bool queued;                /* a job waits for, or is in, the committer */
	bool done;                  /* the job is finished; err is its result */
	bool stop;
	int err;
	struct batch *b;            /* the committing batch (ops, txn_end, txn_done) */
};

/**
 * A Bloom filter of the record names this handle has queued, in use only
 * when the store held no record at open (see seen_start()).
 */
struct seen {
	uint64_t *words;  /* 1 << (SEEN_BITS_LOG2 - 6) words; NULL: not in use */
	uint64_t added;   /* names added, for the log */
	uint64_t skipped; /* lookups it answered without the engine */
};

struct mxc_store {
	const struct mxc__kv_api *api;
	void *kv;
	bool rdonly;
	unsigned batch_size;
	char *dir;

	struct batch batches[2];
	struct batch *pend;     /* where puts go */
	struct batch *comm;     /* the committing slot */
	enum commit_state cstate;
	uint64_t committed;     /* records made durable through this handle */

	struct committer c;
	bool c_init;            /* c's mutex and condition variables exist */

	struct mxc_buf enc;     /* scratch for encoding */
	struct seen seen;       /* names put, when the store began empty */
	struct known *known;    /* KNOWN_SLOTS host names found stored, or NULL */
	unsigned lookups;       /* engine lookups since the last trim */
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
	return s->pend->n_records;
}

uint64_t mxc_store_committed(const struct mxc_store *s)
{
	return s->committed;
}

/* ------------------------------------------------------------------------ */
/* Test hooks                                                                */

/*
 * Shared by every store of the process, under their own mutex. A held
 * commit waits in the committer thread before it touches the engine, until
 * the hold is lifted or until the loop thread starts to wait for it
 * (back-pressure, flush, close): each such wait lets exactly one commit
 * through, so a test can observe the "committing" state at leisure and
 * still never deadlock.
 */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool hold;
	unsigned passes;     /* held commits let through by waiters */
	unsigned fail;       /* commits still to fail */
	unsigned at_gate;    /* committers held now */
} g_test = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0, 0 };

void mxc_store_test_hold_commits(bool hold)
{
	pthread_mutex_lock(&g_test.mu);
	g_test.hold = hold;
	g_test.passes = 0;
	pthread_cond_broadcast(&g_test.cv);
	pthread_mutex_unlock(&g_test.mu);
}

void mxc_store_test_fail_commits(unsigned n)
{
	pthread_mutex_lock(&g_test.mu);
	g_test.fail = n;
	pthread_mutex_unlock(&g_test.mu);
}

unsigned mxc_store_test_held(void)
{
	unsigned n;

	pthread_mutex_lock(&g_test.mu);
	n = g_test.at_gate;
	pthread_mutex_unlock(&g_test.mu);
	return n;
}

/* In the committer thread, before a commit: waits while commits are held. */
static void test_gate(void)
{
	pthread_mutex_lock(&g_test.mu);
	g_test.at_gate++;
	while (g_test.hold && g_test.passes == 0)
		pthread_cond_wait(&g_test.cv, &g_test.mu);
	if (g_test.hold)
		g_test.passes--;
	g_test.at_gate--;
	pthread_mutex_unlock(&g_test.mu);
}

/* On the loop thread, about to wait for the committer: let one commit by. */
static void test_pass_one(void)
{
	pthread_mutex_lock(&g_test.mu);
	if (g_test.hold) {
		g_test.passes++;
		pthread_cond_broadcast(&g_test.cv);
	}
	pthread_mutex_unlock(&g_test.mu);
}

/* Whether the commit about to be made is to fail (any thread). */
static bool test_fail_now(void)
{
	bool fail = false;

	pthread_mutex_lock(&g_test.mu);
	if (g_test.fail) {
		g_test.fail--;
		fail = true;
	}
	pthread_mutex_unlock(&g_test.mu);
	return fail;
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                   */

static void batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	mxc_strmap_init(&b->keys[0]);
	mxc_strmap_init(&b->keys[1]);
}

/* Empties @p b, keeping its arrays for reuse. */
static void batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n_pend; i++)
		mxc_free(b->pend[i].key);
	b->n_pend = 0;
	b->n_records = 0;
	b->bytes = 0;
	b->n_ctr = 0;
	mxc_free(b->ops);
	b->ops = NULL;
	b->n_ops = 0;
	mxc_free(b->txn_end);
	b->txn_end = NULL;
	b->n_txn = 0;
	b->txn_done = 0;
	/* Freed rather than cleared: the map has no clear, and a batch is
	 * rebuilt from scratch anyway. */
	mxc_strmap_free(&b->keys[0]);
	mxc_strmap_free(&b->keys[1]);
}

static void batch_free(struct batch *b)
{
	batch_clear(b);
	mxc_free(b->pend);
	mxc_free(b->ctr);
}

static bool batch_empty(const struct batch *b)
{
	return b->n_pend == 0 && b->n_ctr == 0;
}

/* Which transaction the writes around pending index @p at go to. */
static size_t txn_of(size_t at, size_t n_pend)
{
	/* A delta added after the last write goes with that write. */
	if (at >= n_pend && n_pend)
		at = n_pend - 1;
	return at / TXN_OPS;
}

/*
 * (Re)builds the operation list of @p b and its split into transactions:
 * transaction i holds writes i*TXN_OPS.. and the counter deltas added
 * among them. The ops point into the batch and live until it is cleared or
 * rebuilt. The result depends only on the batch, so a rebuild for a retry
 * splits it the same way and txn_done still counts the same transactions.
 */
static int batch_build_ops(struct batch *b)
{
	size_t n = b->n_pend + b->n_ctr, k = 0;
	size_t n_txn = b->n_pend ? (b->n_pend - 1) / TXN_OPS + 1 : 1;
	struct mxc__kv_op *ops;
	size_t *ends;

	mxc_free(b->ops);
	mxc_free(b->txn_end);
	b->ops = NULL;
	b->txn_end = NULL;
	b->n_ops = b->n_txn = 0;
	ops = mxc_calloc(n, sizeof(*ops));
	ends = mxc_calloc(n_txn, sizeof(*ends));
	if (!ops || !ends) {
		mxc_free(ops);
		mxc_free(ends);
		return MXC_ENOMEM;
	}
	for (size_t t = 0; t < n_txn; t++) {
		size_t lo = t * TXN_OPS, hi = lo + TXN_OPS;

		for (size_t i = lo; i < hi && i < b->n_pend; i++, k++) {
			ops[k].kind = b->pend[i].kind;
			ops[k].db = b->pend[i].db;
			ops[k].key = b->pend[i].key;
			ops[k].klen = b->pend[i].klen;
			ops[k].val = b->pend[i].val;
			ops[k].vlen = b->pend[i].vlen;
		}
		for (size_t i = 0; i < b->n_ctr; i++) {
			if (txn_of(b->ctr[i].at, b->n_pend) != t)
				continue;
			ops[k].kind = MXC__KV_ADD_U64;
			ops[k].db = MXC__DB_PROGRESS;
			ops[k].key = b->ctr[i].name;
			ops[k].klen = strlen(b->ctr[i].name);
			ops[k].delta = b->ctr[i].delta;
			k++;
		}
		ends[t] = k;
	}
	b->ops = ops;
	b->n_ops = n;
	b->txn_end = ends;
	b->n_txn = n_txn;
	return 0;
}

/* Queues one write in the pending batch; copies @p key and @p val. */
static int queue(struct mxc_store *s, unsigned db, unsigned kind, const char *key,
		 const void *val, size_t vlen, struct pending **out)
{
	struct batch *b = s->pend;
	size_t klen = strlen(key);
	struct pending *p;
	char *blk;

	if (b->n_pend == b->cap_pend) {
		size_t ncap = b->cap_pend ? b->cap_pend * 2 : 64;
		struct pending *np = mxc_realloc(b->pend, ncap * sizeof(*np));

		if (!np)
			return MXC_ENOMEM;
		b->pend = np;
		b->cap_pend = ncap;
	}
	blk = mxc_malloc(klen + 1 + vlen);
	if (!blk)
		return MXC_ENOMEM;
	memcpy(blk, key, klen + 1);
	if (vlen)
		memcpy(blk + klen + 1, val, vlen);
	p = &b->pend[b->n_pend++];
	p->db = (uint8_t)db;
	p->kind = (uint8_t)kind;
	p->key = blk;
	p->klen = klen;
	p->val = (uint8_t *)blk + klen + 1;
	p->vlen = vlen;
	b->bytes += klen + vlen;
	if (out)
		*out = p;
	return 0;
}

static bool batch_full(const struct mxc_store *s)
{
	return s->pend->n_records >= s->batch_size || s->pend->bytes >= BATCH_BYTES_MAX;
}

/* Past this the pending batch must not grow: the caller waits. */
static bool batch_over_bound(const struct mxc_store *s)
{
	return s->pend->n_records >= (size_t)BATCH_SLACK * s->batch_size ||
	       s->pend->bytes >= BATCH_SLACK * BATCH_BYTES_MAX;
}

/* Whether @p name is pending or committing (not yet known to the engine). */
static bool batched(const struct mxc_store *s, unsigned db, const char *name)
{
	unsigned set = db == MXC__DB_HOSTS;

	if (mxc_strmap_get(&s->pend->keys[set], name))
		return true;
	/* The committing batch's sets are only read while it commits. */
	return s->cstate != CS_IDLE && mxc_strmap_get(&s->comm->keys[set], name);
}

/* ------------------------------------------------------------------------ */
/* Hosts found                                                               */

/*
 * Every domain asks whether its mail hosts are stored, and most hosts are
 * shared (a few providers serve most domains), so the same few thousand
 * host names would each be looked up in LMDB over and over: a random read
 * of the hosts database per domain, and its pages mapped again after every
 * drop. Records are never deleted or replaced by a scan, so a host found
 * once stays found: a direct-mapped table of names found (exact, the name
 * is kept) answers the repeats. Fixed size, so it does not grow with the
 * number of hosts; a slot taken by another name just costs a lookup.
 */
struct known {
	uint64_t hash;
	char *name; /* NULL: empty slot */
};

static struct known *known_slot(struct mxc_store *s, const char *name, uint64_t *hash)
{
	*hash = mxc_hash_mix64(mxc_hash64(name, strlen(name)));
	return &s->known[*hash & (KNOWN_SLOTS - 1)];
}

static bool known_has(struct mxc_store *s, const char *name)
{
	uint64_t h;
	struct known *k;

	if (!s->known)
		return false;
	k = known_slot(s, name, &h);
	return k->name && k->hash == h && strcmp(k->name, name) == 0;
}

/* Remembers @p name as stored; without memory it is simply not kept. */
static void known_add(struct mxc_store *s, const char *name)
{
	uint64_t h;
	struct known *k;
	char *copy;

	if (!s->known)
		return;
	k = known_slot(s, name, &h);
	copy = mxc_strdup(name);
	if (!copy)
		return;
	mxc_free(k->name);
	k->hash = h;
	k->name = copy;
}

static void known_free(struct mxc_store *s)
{
	if (!s->known)
		return;
	for (size_t i = 0; i < KNOWN_SLOTS; i++)
		mxc_free(s->known[i].name);
	mxc_free(s->known);
	s->known = NULL;
}

/* ------------------------------------------------------------------------ */
/* The filter of names put into a fresh store                                */

/*
 * mxc_store_domain_exists runs once per input name, and a lookup in LMDB
 * reads a leaf page at a random place in the map: the kernel maps it and
 * its neighbours in the page cache (fault-around, 64 KiB a fault), so the
 * process's resident pages grow with the store, and on a million-domain
 * store they were most of the scan's peak RSS. In a store that held no
 * record when it was opened (a fresh scan: every run but a resumed one),
 * every committed record was put through this handle, so a filter of the
 * names put answers "no" for almost every new name without touching the
 * map. A "maybe" still asks the engine: the filter has false positives,
 * never false negatives, since a name enters it before it can reach the
 * engine. Only one writer can use a store (the directory lock), so no
 * record can arrive from elsewhere.
 */

/* The probe positions of @p name in @p db: two hashes, stepped. */
static void seen_hash(unsigned db, const char *name, uint32_t *h1, uint32_t *h2)
{
	uint64_t h = mxc_hash_mix64(mxc_hash64(name, strlen(name)) ^ ((uint64_t)db << 56));

	*h1 = (uint32_t)h;
	*h2 = (uint32_t)(h >> 32) | 1u;
}

static void seen_add(struct seen *f, unsigned db, const char *name)
{
	const uint32_t mask = (1u << SEEN_BITS_LOG2) - 1;
	uint32_t h1, h2;

	if (!f->words)
		return;
	seen_hash(db, name, &h1, &h2);
	for (unsigned i = 0; i < SEEN_PROBES; i++) {
		uint32_t bit = (h1 + i * h2) & mask;

		f->words[bit >> 6] |= (uint64_t)1 << (bit & 63);
	}
	f->added++;
}

/* False: @p name was never put through this handle. */
static bool seen_maybe(const struct seen *f, unsigned db, const char *name)
{
	const uint32_t mask = (1u << SEEN_BITS_LOG2) - 1;
	uint32_t h1, h2;

	seen_hash(db, name, &h1, &h2);
	for (unsigned i = 0; i < SEEN_PROBES; i++) {
		uint32_t bit = (h1 + i * h2) & mask;

		if (!(f->words[bit >> 6] & (uint64_t)1 << (bit & 63)))
			return false;
	}
	return true;
}

/*
 * At open of a writable store: use the filter if the store holds no domain
 * and no host record. A store with records (a resumed scan) keeps the
 * lookup per name. Without memory for the filter the store works as
 * without it.
 */
static int seen_start(struct mxc_store *s)
{
	uint64_t nd = 0, nh = 0;
	int r;

	r = s->api->count(s->kv, MXC__DB_DOMAINS, &nd);
	if (!r)
		r = s->api->count(s->kv, MXC__DB_HOSTS, &nh);
	if (r || nd || nh)
		return r;
	s->seen.words = mxc_calloc((size_t)1 << (SEEN_BITS_LOG2 - 6), sizeof(uint64_t));
	if (!s->seen.words)
		mxc_log_warn("store %s: no memory for the filter of new names; "
			     "looking every name up", s->dir);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Synchronous writes                                                        */

/* Writes @p b on this thread and clears it. Nothing may be committing. */
static int write_sync(struct mxc_store *s, struct batch *b)
{
	size_t n = b->n_records;
	int r;

	if (batch_empty(b))
		return 0;
	r = batch_build_ops(b);
	if (r)
		return r;
	r = test_fail_now() ? MXC_EIO : 0;
	for (; !r && b->txn_done < b->n_txn; b->txn_done++) {
		size_t lo = b->txn_done ? b->txn_end[b->txn_done - 1] : 0;

		r = s->api->write(s->kv, b->ops + lo, b->txn_end[b->txn_done] - lo);
		if (r)
			break;
	}
	if (r) {
		mxc_log_error("store %s: commit of %zu writes failed: %s", s->dir, b->n_ops,
			      mxc_strerror(r));
		return r;
	}
	batch_clear(b);
	s->committed += n;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The committer thread                                                      */

static void *committer_main(void *arg)
{
	struct mxc_store *s = arg;
	struct committer *c = &s->c;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct batch *b;
		int r;

		while (!c->stop && (!c->queued || c->done))
			pthread_cond_wait(&c->work_cv, &c->mu);
		/* close() waits for every job before it stops us. */
		if (c->stop)
			break;
		b = c->b;
		pthread_mutex_unlock(&c->mu);

		test_gate();
		/* The batch's transactions in order, from the first not yet
		 * committed; txn_done is ours until the loop thread reaps. */
		r = test_fail_now() ? MXC_EIO : 0;
		for (; !r && b->txn_done < b->n_txn; b->txn_done++) {
			size_t lo = b->txn_done ? b->txn_end[b->txn_done - 1] : 0;

			r = s->api->commit(s->kv, b->ops + lo, b->txn_end[b->txn_done] - lo);
			if (r)
				break;
		}

		pthread_mutex_lock(&c->mu);
		c->err = r;
		c->done = true;
		pthread_cond_signal(&c->done_cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Starts the committer thread, with every signal blocked in it so that
 * SIGINT and SIGTERM keep going to the loop thread. */
static int committer_start(struct mxc_store *s)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&s->c.thread, NULL, committer_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		mxc_log_error("store %s: cannot start the committer thread: %s", s->dir,
			      mxc_strerror(-r));
		return -r;
	}
	s->c.started = true;
	return 0;
}

static void committer_stop(struct mxc_store *s)
{
	if (!s->c.started)
		return;
	pthread_mutex_lock(&s->c.mu);
	s->c.stop = true;
	pthread_cond_signal(&s->c.work_cv);
	pthread_mutex_unlock(&s->c.mu);
	pthread_join(s->c.thread, NULL);
	s->c.started = false;
}

/* Hands the committing batch (its ops built) to the committer thread. */
static int hand_over(struct mxc_store *s)
{
	struct committer *c = &s->c;
	int r;

	if (!c->started) {
		r = committer_start(s);
		if (r)
			return r;
	}
	pthread_mutex_lock(&c->mu);
	c->b = s->comm;
	c->err = 0;
	c->done = false;
	c->queued = true;
	pthread_cond_signal(&c->work_cv);
	pthread_mutex_unlock(&c->mu);
	s->cstate = CS_BUSY;
	return 0;
}

/*
 * Takes in the result @p err of the commit just finished: frees the batch
 * on success, grows the map and hands the batch over again on MXC_EFULL,
 * keeps it for a retry on any other error.
 */
static int reap(struct mxc_store *s, int err)
{
	struct batch *b = s->comm;

	s->api->after_commit(s->kv);
	if (!err) {
		s->committed += b->n_records;
		batch_clear(b);
		s->cstate = CS_IDLE;
		return 0;
	}
	if (err == MXC_EFULL) {
		/* No commit runs now, and grow() closes the read txn: the
		 * process has no transaction open, as a resize needs. */
		err = s->api->grow(s->kv);
		if (!err)
			err = hand_over(s);
		if (!err)
			return 0;
	}
	mxc_log_error("store %s: commit of %zu writes failed: %s", s->dir, b->n_ops,
		      mxc_strerror(err));
	s->cstate = CS_FAILED;
	return err;
}

int mxc_store_poll(struct mxc_store *s)
{
	struct committer *c = &s->c;
	bool done;
	int err;

	if (s->cstate != CS_BUSY)
		return 0;
	pthread_mutex_lock(&c->mu);
	done = c->done;
	err = c->err;
	if (done)
		c->queued = c->done = false;
	pthread_mutex_unlock(&c->mu);
	return done ? reap(s, err) : 0;
}

/* Waits until nothing is committing, taking in each result. */
static int settle(struct mxc_store *s)
{
	struct committer *c = &s->c;
	int err = 0;

	while (s->cstate == CS_BUSY) {
		test_pass_one();
		pthread_mutex_lock(&c->mu);
		while (!c->done)
			pthread_cond_wait(&c->done_cv, &c->mu);
		err = c->err;
		c->queued = c->done = false;
		pthread_mutex_unlock(&c->mu);
		err = reap(s, err);
	}
	return err;
}

/* Starts a commit if the slot is free: a failed batch first, else the
 * pending one. */
static int kick(struct mxc_store *s)
{
	struct batch *b;
	int r;

	if (s->cstate == CS_BUSY)
		return 0;
	if (s->cstate == CS_FAILED) {
		r = batch_build_ops(s->comm);
		return r ? r : hand_over(s);
	}
	if (batch_empty(s->pend))
		return 0;
	r = batch_build_ops(s->pend);
	if (r)
		return r;
	b = s->comm;
	s->comm = s->pend;
	s->pend = b;
	r = hand_over(s);
	if (r) {
		/* Back to where it was, still pending. */
		s->pend = s->comm;
		s->comm = b;
		mxc_free(s->pend->ops);
		mxc_free(s->pend->txn_end);
		s->pend->ops = NULL;
		s->pend->txn_end = NULL;
		s->pend->n_ops = s->pend->n_txn = 0;
	}
	return r;
}

/* mxc_store_commit_async without the poll. */
static int commit_async(struct mxc_store *s)
{
	int r = kick(s);

	if (r)
		return r;
	/* Back-pressure: the batch could not go, and is as large as it may
	 * get. The committer is busy with an earlier batch; wait for it. */
	if (s->cstate == CS_BUSY && batch_over_bound(s)) {
		r = settle(s);
		if (!r)
			r = kick(s);
	}
	return r;
}

int mxc_store_commit_async(struct mxc_store *s)
{
	int r;

	if (s->rdonly)
		return MXC_EINVAL;
	r = mxc_store_poll(s);
	if (r)
		return r;
	return commit_async(s);
}

int mxc_store_flush(struct mxc_store *s)
{
	int r;

	if (s->rdonly)
		return 0;
	r = mxc_store_poll(s);
	if (!r)
		r = settle(s);
	if (r)
		return r;
	/* The older batch first: a failed commit kept for a retry. */
	if (s->cstate == CS_FAILED) {
		r = write_sync(s, s->comm);
		if (r)
			return r;
		s->cstate = CS_IDLE;
	}
	return write_sync(s, s->pend);
}

/* ------------------------------------------------------------------------ */
/* Records                                                                   */

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
	struct mxc_strmap *set = &s->pend->keys[db == MXC__DB_HOSTS];
	struct pending *p;
	int r;

	if (batched(s, db, name))
		return 0;
	r = queue(s, db, MXC__KV_PUT_NEW, name, s->enc.data, s->enc.len, &p);
	if (r)
		return r;
	/* The value only has to be non-NULL; the block's address is stable,
	 * unlike p, which moves when the pending array grows. */
	r = mxc_strmap_put(set, p->key, p->key);
	if (r) {
		/* Undo, so that a pending record is always in the set. */
		s->pend->n_pend--;
		s->pend->bytes -= p->klen + p->vlen;
		mxc_free(p->key);
		return r;
	}
	s->pend->n_records++;
	seen_add(&s->seen, db, name);
	return batch_full(s) ? commit_async(s) : 0;
}

/* What every put checks before encoding into s->enc. */
static int begin_put(struct mxc_store *s, const char *key)
{
	int e;

	if (s->rdonly || !key_ok(key))
		return MXC_EINVAL;
	e = mxc_store_poll(s);
	if (e)
		return e;
	mxc_buf_reset(&s->enc);
	return 0;
}

int mxc_store_domain_put(struct mxc_store *s, const struct mxc_domain_rec *r)
{
	int e = begin_put(s, r ? r->domain : NULL);

	if (!e)
		e = mxc_domain_rec_encode(r, &s->enc);
	return e ? e : put_record(s, MXC__DB_DOMAINS, r->domain);
}

int mxc_store_host_put(struct mxc_store *s, const struct mxc_host_rec *r)
{
	int e = begin_put(s, r ? r->host : NULL);

	if (!e)
		e = mxc_host_rec_encode(r, &s->enc);
	return e ? e : put_record(s, MXC__DB_HOSTS, r->host);
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
	r = mxc_store_poll(s);
	if (r)
		return r;
	/* Pending, then committing, then committed: a batch leaves the
	 * committing slot only in poll, which also resets the read snapshot,
	 * so a name is always found in one of the three. */
	if (batched(s, db, name))
		return 1;
	if (db == MXC__DB_HOSTS && known_has(s, name))
		return 1;
	if (s->seen.words && !seen_maybe(&s->seen, db, name)) {
		s->seen.skipped++;
		return 0;
	}
	if (++s->lookups >= LOOKUPS_PER_TRIM) {
		s->lookups = 0;
		s->api->trim(s->kv);
	}
	r = s->api->get(s->kv, db, name, strlen(name), &v, &vlen);
	if (r == MXC_ENOTFOUND)
		return 0;
	if (r)
		return r;
	if (db == MXC__DB_HOSTS)
		known_add(s, name);
	return 1;
}

int mxc_store_domain_exists(struct mxc_store *s, const char *domain)
{
	return exists(s, MXC__DB_DOMAINS, domain);
}

int mxc_store_host_exists(struct mxc_store *s, const char *host)
{
	return exists(s, MXC__DB_HOSTS, host);
}

int mxc_store_host_get(struct mxc_store *s, const char *host, struct mxc_host_rec **out)
{
	const void *v;
	size_t vlen;
	int r;

	*out = NULL;
	if (!host || !host[0])
		return MXC_EINVAL;
	if (!key_ok(host))
		return MXC_ENOTFOUND;
	r = s->api->get(s->kv, MXC__DB_HOSTS, host, strlen(host), &v, &vlen);
	if (r)
		return r;
	/* Decoded (copied) at once: the value lives only as long as the
	 * read snapshot. */
	return mxc_host_rec_decode(v, vlen, out);
}

/* ------------------------------------------------------------------------ */
/* Counters                                                                  */

int mxc_store_counter_add(struct mxc_store *s, const char *name, uint64_t delta)
{
	struct batch *b;
	size_t n;
	int r;

	if (s->rdonly || !name)
		return MXC_EINVAL;
	n = strnlen(name, COUNTER_NAME_MAX + 1);
	if (n == 0 || n > COUNTER_NAME_MAX)
		return MXC_EINVAL;
	r = mxc_store_poll(s);
	if (r)
		return r;
	/* The delta travels with the pending batch, so that it is committed
	 * in the same transaction as the records it counts (those queued
	 * next to it). A handful of counter names and transactions per batch
	 * exist: a linear scan beats a map. */
	b = s->pend;
	for (size_t i = 0; i < b->n_ctr; i++) {
		/* Deltas merge only within one transaction's writes. */
		if (strcmp(b->ctr[i].name, name) == 0 &&
		    b->ctr[i].at / TXN_OPS == b->n_pend / TXN_OPS) {
			b->ctr[i].delta += delta;
			return 0;
		}
	}
	if (b->n_ctr == b->cap_ctr) {
		size_t ncap = b->cap_ctr ? b->cap_ctr * 2 : 8;
		struct counter *nc = mxc_realloc(b->ctr, ncap * sizeof(*nc));

		if (!nc)
			return MXC_ENOMEM;
		b->ctr = nc;
		b->cap_ctr = ncap;
	}
	memcpy(b->ctr[b->n_ctr].name, name, n + 1);
	b->ctr[b->n_ctr].delta = delta;
	b->ctr[b->n_ctr].at = b->n_pend;
	b->n_ctr++;
	return 0;
}

int mxc_store_counter_get(struct mxc_store *s, const char *name, uint64_t *out)
{
	const void *v;
	size_t vlen;
	int r;

	*out = 0;
	if (!name || !name[0] || strnlen(name, COUNTER_NAME_MAX + 1) > COUNTER_NAME_MAX)
		return MXC_EINVAL;
	r = mxc_store_poll(s);
	if (r)
		return r;
	r = s->api->get(s->kv, MXC__DB_PROGRESS, name, strlen(name), &v, &vlen);
	if (r == MXC_ENOTFOUND)
		return 0;
	if (r)
		return r;
	if (vlen != 8)
		return MXC_ECORRUPT;
	*out = mxc__be64_get(v);
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

int mxc__run_encode(const struct mxc_run_info *ri, struct mxc_buf *b)
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

int mxc__run_decode(const uint8_t *data, size_t len, struct mxc_run_info *ri)
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
				ri->started_at = (int64_t)mxc__be64_get(v);
			else
				ri->finished_at = (int64_t)mxc__be64_get(v);
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

	fr->err = mxc__run_decode(val, vlen, fr->out);
	return 1; /* one run per store: the first is the run */
}

int mxc_store_run_get(struct mxc_store *s, struct mxc_run_info *out)
{
	struct first_run fr = { out, MXC_ENOTFOUND };
	int r = mxc_store_poll(s);

	if (r)
		return r;
	r = s->api->each(s->kv, MXC__DB_RUNS, take_first_run, &fr);
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
	r = mxc__run_encode(ri, &s->enc);
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
	int r;

	if (!cb)
		return MXC_EINVAL;
	r = mxc_store_poll(s);
	if (r)
		return r;
	return s->api->each(s->kv, MXC__DB_DOMAINS, walk_one, &w);
}

int mxc_store_each_host(struct mxc_store *s, mxc_store_host_cb cb,
			mxc_store_corrupt_cb on_corrupt, void *arg)
{
	struct walk w = { MXC__DB_HOSTS, NULL, cb, on_corrupt, arg };
	int r;

	if (!cb)
		return MXC_EINVAL;
	r = mxc_store_poll(s);
	if (r)
		return r;
	return s->api->each(s->kv, MXC__DB_HOSTS, walk_one, &w);
}

int mxc_store_count(struct mxc_store *s, uint64_t *domains, uint64_t *hosts)
{
	int r = mxc_store_poll(s);

	if (domains && !r)
		r = s->api->count(s->kv, MXC__DB_DOMAINS, domains);
	if (!r && hosts)
		r = s->api->count(s->kv, MXC__DB_HOSTS, hosts);
	return r;
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                            */

/*
 * The "meta" database carries the store's schema. A new store gets ours; a
 * newer one is refused, since this build would misread or damage it. An
 * older one (schema 1 kept the domains under their names) never gets here:
 * the engine refuses it on open, before creating anything in it.
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
	batch_free(&s->batches[0]);
	batch_free(&s->batches[1]);
	if (s->c_init) {
		pthread_cond_destroy(&s->c.done_cv);
		pthread_cond_destroy(&s->c.work_cv);
		pthread_mutex_destroy(&s->c.mu);
	}
	mxc_buf_free(&s->enc);
	mxc_free(s->seen.words);
	known_free(s);
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
	batch_init(&s->batches[0]);
	batch_init(&s->batches[1]);
	s->pend = &s->batches[0];
	s->comm = &s->batches[1];
	s->cstate = CS_IDLE;
	mxc_buf_init(&s->enc, RECORD_MAX);
	if (pthread_mutex_init(&s->c.mu, NULL) == 0) {
		if (pthread_cond_init(&s->c.work_cv, NULL) == 0) {
			if (pthread_cond_init(&s->c.done_cv, NULL) == 0)
				s->c_init = true;
			else
				pthread_cond_destroy(&s->c.work_cv);
		}
		if (!s->c_init)
			pthread_mutex_destroy(&s->c.mu);
	}
	if (!s->c_init) {
		store_free(s);
		goto nomem;
	}

	r = s->api->open(&s->kv, dir, flags, g_initial_mapsize, errmsg, errlen);
	if (!r)
		r = check_schema(s, errmsg, errlen);
	if (!r && !s->rdonly) {
		/* Without memory for it the store works as without it. */
		s->known = mxc_calloc(KNOWN_SLOTS, sizeof(*s->known));
		r = seen_start(s);
		if (r)
			snprintf(errmsg, errlen, "store %s: %s", dir, mxc_strerror(r));
	}
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

/*
 * Like mxc_store_flush, but goes on after an error: a failed commit taken
 * in here is still retried and the pending batch still written, and the
 * first error is returned, so that it is not lost even if the retry worked.
 */
static int close_flush(struct mxc_store *s)
{
	size_t lost;
	int r, e;

	r = mxc_store_poll(s);
	e = settle(s);
	if (!r)
		r = e;
	if (s->cstate == CS_FAILED) {
		e = write_sync(s, s->comm);
		if (!e)
			s->cstate = CS_IDLE;
		if (!r)
			r = e;
	}
	e = write_sync(s, s->pend);
	if (!r)
		r = e;
	lost = s->pend->n_records + (s->cstate == CS_FAILED ? s->comm->n_records : 0);
	if (lost)
		mxc_log_error("store %s: %zu records not committed", s->dir, lost);
	return r;
}

int mxc_store_close(struct mxc_store *s)
{
	int r, rc;

	if (!s)
		return 0;
	r = s->rdonly ? 0 : close_flush(s);
	committer_stop(s);
	if (s->seen.words)
		mxc_log_debug("store %s: %llu names put, %llu lookups answered by the filter",
			      s->dir, (unsigned long long)s->seen.added,
			      (unsigned long long)s->seen.skipped);
	rc = s->api->close(s->kv);
	store_free(s);
	return r ? r : rc;
}
