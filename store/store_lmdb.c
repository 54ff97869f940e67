/**
 * \file
 * The LMDB engine under the store (struct mxc__kv_api), and the only file
 * that includes <lmdb.h>.
 *
 * One environment per --db directory, five named databases. The choices that
 * matter, and why:
 *
 * - Durability. The environment is opened with MDB_NOMETASYNC and without
 *   MDB_NOSYNC or MDB_WRITEMAP. Every commit writes its pages with write(2)
 *   and fsyncs the data pages before the meta page points at them, so once
 *   mdb_txn_commit returns the transaction is in the kernel and a kill -9 of
 *   the process cannot lose or corrupt it. NOMETASYNC skips the second fsync
 *   of each commit (the meta page): after a power loss or kernel crash the
 *   last transaction may be rolled back, but the file stays consistent, and a
 *   rolled-back batch is only scanned again. close() syncs fully.
 *   WRITEMAP is avoided because a stray write through the map could corrupt
 *   committed pages; NOSYNC would give no integrity after a system crash.
 * - Two threads. The store's owner (the scan's event loop) calls get(),
 *   count(), each(), write() and grow(); the store's committer thread calls
 *   commit() and nothing else. commit() uses only its own write transaction
 *   and the fields commit_rc and bad_counter, which the owner reads in
 *   after_commit() once store.c's mutex has told it the commit returned.
 *   The cached read transaction belongs to the owner alone. LMDB itself
 *   allows one write transaction beside any number of readers, and with
 *   MDB_NOTLS a read transaction is not tied to the thread's identity.
 *   commit() logs nothing, because a log line may run a hook of the
 *   owner's (the progress display); after_commit() logs for it.
 * - Map growth. The map starts at 256 MiB (or the size the test hook sets,
 *   or enough for an existing file). When a write hits MDB_MAP_FULL the
 *   transaction is aborted, the map doubled with mdb_env_set_mapsize and
 *   the batch retried. LMDB allows that only while this process has no
 *   transaction open, which is why grow() runs on the owner, only while no
 *   commit() runs (commit() reports MXC_EFULL instead of growing), aborts
 *   the cached read transaction first, and is refused while an each() walk
 *   holds a read transaction.
 * - Lookups. mxc_store_domain_exists runs once per input name, so get() keeps
 *   one read transaction and renews it (a cheap reader-slot update) instead
 *   of beginning and aborting one per lookup. write() resets it first so
 *   that it does not pin old pages while the writer commits; after a
 *   commit() by the committer thread, after_commit() resets it. Either way
 *   it is renewed lazily on the next lookup, which then sees the new commit.
 *   While commit() runs, the owner's snapshot stays live, so that batch
 *   cannot reuse the pages freed by the commit before it: the file may grow
 *   by about one batch more than with synchronous commits.
 * - MDB_NORDAHEAD: lookups and puts land on random pages of a file that
 *   can outgrow memory; reading ahead around each would only evict pages.
 * - Mapped pages. Each random read through the map maps 64 KiB or more of
 *   the page cache into the process (fault-around), so a scan's resident
 *   set would grow to the size of the store. Writes, lookups and walks
 *   drop the map's pages (MADV_DONTNEED) whenever 8 MiB more file pages
 *   are mapped than after the last drop: see drop_map_pages().
 * - MDB_NOTLS, so the cached read transaction and an each() walk can be open
 *   at once in the same thread.
 * - A writer takes flock(LOCK_EX) on the directory before LMDB opens it:
 *   two scans writing one store would each skip only what they themselves
 *   wrote. The lock is on the directory, not on an LMDB file, because LMDB
 *   keeps POSIX record locks on lock.mdb, and closing any descriptor of that
 *   file in this process would drop them. Being taken first, it also keeps
 *   this process from opening one environment twice, which LMDB forbids.
 *   Readers (export) take no such lock and work beside a running scan
 *   through LMDB's MVCC.
 * - Read-only opening must not create files: a missing directory or data.mdb
 *   is an error, and when lock.mdb is absent (a copied store) the environment
 *   is opened with MDB_NOLOCK instead of creating one; that is safe because
 *   without a lock file no writer can be running on it.
 *
 * Every LMDB return code is translated in lmdb_error() and nowhere else.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "store/internal.h"
#include "store/store.h"

#define MAP_DEFAULT ((size_t)256 << 20)
/* Past this the disk, not the map, is the limit to report. */
#define MAP_MAX (sizeof(size_t) >= 8 ? (size_t)1 << 40 : (size_t)1 << 30)
#define MAP_MIN ((size_t)64 << 10)
/*
 * File pages this process may have mapped beyond what it had after the last
 * drop (see drop_map_pages) before the map's pages are dropped again. A
 * drop costs the faults that map the pages back, the B-tree's branch pages
 * first, so it is done when this budget is spent, not at a fixed rate.
 */
#define MAP_BUDGET ((size_t)8 << 20)
/* Puts between two looks at the budget inside one write: on a large store
 * a read at a random place maps 64 to 256 KiB (100 on average, measured),
 * and a domain put reads the name index there, so the budget is overrun by
 * a few MiB at most. (16 MiB and 32 puts: 1M domains peaked 1.22 times as
 * high as 100k; 8 MiB and 16: 1.14, for ~5 % more CPU.) */
#define DROP_CHECK_EVERY 16
/* Records between two looks at the budget in a walk (export, merge): each
 * record is read at a random place, through the name index. */
#define WALK_CHECK_EVERY 32

const char *const mxc__kv_db_names[MXC__DB__COUNT] = {
	[MXC__DB_DOMAINS] = "domains", [MXC__DB_HOSTS] = "hosts",
	[MXC__DB_RUNS] = "runs",       [MXC__DB_PROGRESS] = "progress",
	[MXC__DB_META] = "meta",
};

/*
 * The domains are kept in two databases (store schema 2). Their records
 * are written in the order they are made, under a sequence number, so a
 * commit appends to the last leaf of "domains" instead of rewriting one
 * leaf at a random place per record; the name goes into "domain_names"
 * (name -> sequence number, 8 bytes big-endian), whose small entries make
 * random inserts cheap. Above this file the domains are still one map from
 * name to record: get() and each() go through the index, each() in name
 * order.
 */
#define NAMES_DB "domain_names"
/* Size of a sequence number: the key of "domains", the value of the index. */
#define SEQ_LEN 8

struct lmdb_kv {
	MDB_env *env;
	MDB_dbi dbi[MXC__DB__COUNT];
	MDB_dbi names;      /* NAMES_DB: domain name -> sequence number */
	MDB_txn *rtxn;      /* cached read txn for get(): NULL, live or reset */
	bool rtxn_live;
	unsigned walking;   /* each() read txns open now */
	size_t mapsize;
	void *map_base;     /* where data.mdb is mapped (find_map), or NULL */
	size_t map_len;
	size_t psize;       /* LMDB's page size */
	bool rdonly;
	bool opened;        /* mdb_env_open succeeded */
	int dir_fd;         /* the directory, flock'ed by a writer; -1 otherwise */
	int statm_fd;       /* /proc/self/statm, or -1: then every look drops */
	/* File pages mapped right after the last drop, read and written by
	 * both threads (a drop may run on either). */
	_Atomic size_t shared_floor;
	/* Written by commit() on the committer thread, read and cleared by
	 * after_commit() on the owner; store.c's mutex orders the two. */
	int commit_rc;      /* LMDB code of the last commit(), to log */
	unsigned bad_counter; /* damaged progress counters restarted */
};

/* True for the codes that lmdb_error() logs: those that lose detail. */
static bool lmdb_unusual(int rc)
{
	switch (rc) {
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
		return true;
	default:
		return rc < 0 && rc != MDB_NOTFOUND && rc != MDB_KEYEXIST &&
		       rc != MDB_MAP_FULL && rc != MDB_TXN_FULL &&
		       rc != MDB_VERSION_MISMATCH;
	}
}

/*
 * The one translation of LMDB codes, without logging, for the committer
 * thread; lmdb_error() below is the same plus the log line.
 */
static int lmdb_code(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return MXC_ENOTFOUND;
	case MDB_KEYEXIST:
		return MXC_EEXIST;
	case MDB_MAP_FULL:
		return MXC_EFULL;
	case MDB_TXN_FULL:
		return MXC_ETOOBIG;
	case MDB_VERSION_MISMATCH:
		return MXC_ESCHEMA;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
		return MXC_ECORRUPT;
	case ENOMEM:
		return MXC_ENOMEM;
	default:
		break;
	}
	if (rc > 0)
		return -rc; /* an errno value */
	return MXC_ESTORE;
}

/*
 * lmdb_code() for the owner's thread. Codes whose MXC_E* meaning loses
 * detail (corruption, anything LMDB-specific that becomes MXC_ESTORE) are
 * logged with LMDB's own text, since the caller only sees our code.
 */
static int lmdb_error(int rc)
{
	if (lmdb_unusual(rc))
		mxc_log_error("store: %s", mdb_strerror(rc));
	return lmdb_code(rc);
}

/*
 * Where LMDB mapped data.mdb: mdb_env_info() names the address only for
 * MDB_FIXEDMAP, so it is looked up in /proc/self/maps by the file's device
 * and inode. Called by the owner after open and after every resize (the
 * map moves then). Not found (no /proc): map_base stays NULL and the pages
 * are simply not dropped.
 */
static void find_map(struct lmdb_kv *kv)
{
	char line[4096];
	struct stat st;
	int fd = -1;
	FILE *f;

	kv->map_base = NULL;
	kv->map_len = 0;
	if (mdb_env_get_fd(kv->env, &fd) || fd < 0 || fstat(fd, &st) != 0)
		return;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		/* start-end perms offset major:minor inode path */
		unsigned long long lo, hi, off, ino;
		unsigned maj, mnt;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &lo, &hi, perms, &off, &maj,
			   &mnt, &ino) != 7)
			continue;
		if (ino != (unsigned long long)st.st_ino || off != 0 ||
		    makedev(maj, mnt) != st.st_dev || perms[3] != 's')
			continue;
		kv->map_base = (void *)(uintptr_t)lo;
		kv->map_len = (size_t)(hi - lo);
		break;
	}
	fclose(f);
}

/*
 * Takes the pages of the map out of this process (drop_if_over_budget
 * decides when). A lookup or a put reads the leaf it lands on (and the branch pages above it) through the
 * map; the kernel maps each faulting page together with its neighbours in
 * the page cache (fault-around, 64 KiB, or a whole large folio), and every
 * page a commit wrote is in the page cache. So without this the resident
 * set grows with every record written, until it covers the whole store.
 * The map is shared and read-only (no MDB_WRITEMAP; LMDB writes with
 * write(2)), so MADV_DONTNEED loses nothing: it only unmaps, the pages stay
 * in the page cache, and the next access by any thread, also one inside a
 * read transaction, maps the same bytes again. Called on whichever thread
 * committed; the map cannot move meanwhile (it is resized only with no
 * commit running). Failure is harmless and ignored.
 */
static void drop_map_pages(struct lmdb_kv *kv)
{
	MDB_envinfo info;
	size_t len;

	if (!kv->map_base || mdb_env_info(kv->env, &info))
		return;
	len = (info.me_last_pgno + 1) * kv->psize;
	if (len > kv->map_len)
		len = kv->map_len;
	(void)madvise(kv->map_base, len, MADV_DONTNEED);
}

/* File-backed pages of this process now (statm's third field), or 0. */
static size_t shared_pages(const struct lmdb_kv *kv)
{
	char buf[128];
	ssize_t n;
	size_t v = 0;
	const char *p;

	if (kv->statm_fd < 0)
		return 0;
	n = pread(kv->statm_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "size resident shared text lib data dt", in pages */
	p = strchr(buf, ' ');
	if (p)
		p = strchr(p + 1, ' ');
	if (!p)
		return 0;
	for (p++; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (size_t)(*p - '0');
	return v;
}

/*
 * Drops the map's pages when this process has mapped more than MAP_BUDGET
 * of file pages since the last drop. The floor is re-read after each drop,
 * so code pages mapped as the scan warms up do not eat the budget. Cheap
 * enough to call every few dozen puts: one pread of /proc/self/statm.
 */
static void drop_if_over_budget(struct lmdb_kv *kv)
{
	size_t now = shared_pages(kv), page = (size_t)sysconf(_SC_PAGESIZE);
	size_t floor = atomic_load_explicit(&kv->shared_floor, memory_order_relaxed);

	if (now && now < floor) {
		/* Something else was unmapped: a lower floor. */
		atomic_store_explicit(&kv->shared_floor, now, memory_order_relaxed);
		return;
	}
	/* Without statm (now 0) every look drops. */
	if (now && now - floor < MAP_BUDGET / page)
		return;
	drop_map_pages(kv);
	atomic_store_explicit(&kv->shared_floor, shared_pages(kv), memory_order_relaxed);
}

/* True when the file exists; errno tells why not otherwise. */
static bool file_exists(const char *dir, const char *name, off_t *size)
{
	char path[4096];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return false;
	}
	if (stat(path, &st) != 0)
		return false;
	if (size)
		*size = st.st_size;
	return true;
}

/* mkdir -p: creates @p dir and any missing parents. */
static int make_dirs(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -errno;
		path[i] = dir[i];
	}
	return 0;
}

/* Checks the directory and decides the open flags; no file is created here
 * except by CREATE. */
static int prepare_dir(const char *dir, unsigned flags, unsigned *env_flags,
		       off_t *data_size, char *errmsg, size_t errlen)
{
	struct stat st;
	int r;

	*data_size = 0;
	if (stat(dir, &st) != 0) {
		r = -errno;
		if (r == -ENOENT && (flags & MXC_STORE_CREATE) && !(flags & MXC_STORE_RDONLY)) {
			r = make_dirs(dir);
			if (r) {
				snprintf(errmsg, errlen, "cannot create store directory %s: %s",
					 dir, mxc_strerror(r));
				return r;
			}
			*env_flags = MDB_NOTLS | MDB_NOMETASYNC | MDB_NORDAHEAD;
			return 0;
		}
		snprintf(errmsg, errlen, "store %s: %s%s", dir, mxc_strerror(r),
			 r == -ENOENT && !(flags & MXC_STORE_RDONLY) ?
				 " (it is created only when asked to)" : "");
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(errmsg, errlen, "store %s: not a directory", dir);
		return -ENOTDIR;
	}
	if (!file_exists(dir, "data.mdb", data_size)) {
		if (errno != ENOENT) {
			r = -errno;
			snprintf(errmsg, errlen, "store %s: data.mdb: %s", dir, mxc_strerror(r));
			return r;
		}
		if (flags & MXC_STORE_RDONLY || !(flags & MXC_STORE_CREATE)) {
			snprintf(errmsg, errlen, "%s is not an mxcensus store (no data.mdb)", dir);
			return MXC_ENOTFOUND;
		}
	}
	if (!(flags & MXC_STORE_RDONLY)) {
		*env_flags = MDB_NOTLS | MDB_NOMETASYNC | MDB_NORDAHEAD;
		return 0;
	}
	*env_flags = MDB_NOTLS | MDB_RDONLY | MDB_NORDAHEAD;
	if (!file_exists(dir, "lock.mdb", NULL))
		*env_flags |= MDB_NOLOCK;
	return 0;
}

/*
 * A store of schema 1 kept each domain's record under its name in
 * "domains"; this layout cannot read it. Caught here, before a writer
 * creates the index beside it: a clear error, the old store untouched.
 * A missing or newer mark is store.c's to judge (check_schema).
 */
static int refuse_old_layout(MDB_txn *txn, const char *dir, char *errmsg, size_t errlen)
{
	MDB_dbi meta;
	MDB_val k = { 6, (void *)"schema" }, v;
	const uint8_t *b;

	if (mdb_dbi_open(txn, mxc__kv_db_names[MXC__DB_META], 0, &meta) != 0 ||
	    mdb_get(txn, meta, &k, &v) != 0 || v.mv_size != 4)
		return 0;
	b = v.mv_data;
	if (b[0] || b[1] || b[2] || b[3] >= 2)
		return 0;
	snprintf(errmsg, errlen,
		 "store %s has schema %u, the layout of an earlier mxcensus, which this one "
		 "(schema %u) does not read: scan again into a new --db, or export it with "
		 "the mxcensus that wrote it",
		 dir, b[3], MXC_STORE_SCHEMA);
	return MXC_ESCHEMA;
}

/* Opens one named database (for a writer: creates it) or says why not. */
static int open_db(struct lmdb_kv *kv, MDB_txn *txn, const char *name, MDB_dbi *dbi,
		   const char *dir, char *errmsg, size_t errlen)
{
	int rc = mdb_dbi_open(txn, name, kv->rdonly ? 0 : MDB_CREATE, dbi);

	if (!rc)
		return 0;
	if (rc == MDB_NOTFOUND) {
		snprintf(errmsg, errlen, "%s is not an mxcensus store (no \"%s\" database)", dir,
			 name);
		return MXC_ECORRUPT;
	}
	snprintf(errmsg, errlen, "store %s: database %s: %s", dir, name, mdb_strerror(rc));
	return lmdb_error(rc);
}

/* Opens (and for a writer creates) the named databases in one transaction. */
static int open_dbs(struct lmdb_kv *kv, const char *dir, char *errmsg, size_t errlen)
{
	MDB_txn *txn;
	int rc, r;

	rc = mdb_txn_begin(kv->env, NULL, kv->rdonly ? MDB_RDONLY : 0, &txn);
	if (rc) {
		r = lmdb_error(rc);
		snprintf(errmsg, errlen, "store %s: %s", dir, mdb_strerror(rc));
		return r;
	}
	r = refuse_old_layout(txn, dir, errmsg, errlen);
	for (unsigned i = 0; i < MXC__DB__COUNT && !r; i++)
		r = open_db(kv, txn, mxc__kv_db_names[i], &kv->dbi[i], dir, errmsg, errlen);
	if (!r)
		r = open_db(kv, txn, NAMES_DB, &kv->names, dir, errmsg, errlen);
	if (r) {
		mdb_txn_abort(txn);
		return r;
	}
	/* Committed even when read-only: an aborted txn closes its handles. */
	rc = mdb_txn_commit(txn);
	if (rc) {
		r = lmdb_error(rc);
		snprintf(errmsg, errlen, "store %s: %s", dir, mdb_strerror(rc));
		return r;
	}
	return 0;
}

static int kv_close(void *p);

static int kv_open(void **out, const char *dir, unsigned flags, size_t mapsize,
		   char *errmsg, size_t errlen)
{
	struct lmdb_kv *kv;
	unsigned env_flags = 0;
	MDB_envinfo info;
	MDB_stat st;
	off_t data_size;
	int rc, r;

	*out = NULL;
	r = prepare_dir(dir, flags, &env_flags, &data_size, errmsg, errlen);
	if (r)
		return r;
	kv = mxc_calloc(1, sizeof(*kv));
	if (!kv)
		return MXC_ENOMEM;
	kv->dir_fd = -1;
	kv->statm_fd = -1;
	kv->rdonly = (flags & MXC_STORE_RDONLY) != 0;
	kv->mapsize = mapsize ? mapsize : MAP_DEFAULT;
	if (kv->mapsize < MAP_MIN)
		kv->mapsize = MAP_MIN;
	/* Leave room to grow beyond what an earlier run already wrote. */
	while (kv->mapsize <= (size_t)data_size && kv->mapsize < MAP_MAX)
		kv->mapsize *= 2;

	if (!kv->rdonly) {
		kv->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (kv->dir_fd < 0 || flock(kv->dir_fd, LOCK_EX | LOCK_NB) != 0) {
			r = errno == EWOULDBLOCK ? MXC_EEXIST : -errno;
			if (r == MXC_EEXIST)
				snprintf(errmsg, errlen,
					 "store %s is in use by another writer (another scan?)",
					 dir);
			else
				snprintf(errmsg, errlen, "cannot lock store %s: %s", dir,
					 mxc_strerror(r));
			goto fail;
		}
	}
	rc = mdb_env_create(&kv->env);
	if (!rc)
		rc = mdb_env_set_maxdbs(kv->env, MXC__DB__COUNT + 1);
	if (!rc)
		rc = mdb_env_set_mapsize(kv->env, kv->mapsize);
	if (!rc)
		rc = mdb_env_open(kv->env, dir, env_flags, 0644);
	if (rc) {
		r = lmdb_error(rc);
		snprintf(errmsg, errlen, "cannot open store %s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	kv->opened = true;
	/* LMDB may have enlarged the map to fit the file. */
	if (mdb_env_info(kv->env, &info) == 0)
		kv->mapsize = info.me_mapsize;
	if (mdb_env_stat(kv->env, &st) == 0)
		kv->psize = st.ms_psize;
	find_map(kv);
	kv->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	atomic_store_explicit(&kv->shared_floor, shared_pages(kv), memory_order_relaxed);
	r = open_dbs(kv, dir, errmsg, errlen);
	if (r)
		goto fail;
	*out = kv;
	return 0;
fail:
	kv_close(kv);
	return r;
}

static int kv_close(void *p)
{
	struct lmdb_kv *kv = p;
	int r = 0;

	if (!kv)
		return 0;
	if (kv->rtxn)
		mdb_txn_abort(kv->rtxn);
	if (kv->env) {
		/* NOMETASYNC left the last meta page unsynced: sync it now. */
		if (kv->opened && !kv->rdonly)
			r = lmdb_error(mdb_env_sync(kv->env, 1));
		mdb_env_close(kv->env);
	}
	/* Only now may another writer come in. */
	if (kv->dir_fd >= 0)
		close(kv->dir_fd);
	if (kv->statm_fd >= 0)
		close(kv->statm_fd);
	mxc_free(kv);
	return r;
}

/*
 * Begins a read txn. When another process (a scan beside this export) has
 * grown the map, LMDB says MDB_MAP_RESIZED: adopt the new size, allowed
 * only with no txn of ours open, and retry once.
 */
static int begin_read(struct lmdb_kv *kv, MDB_txn **txn)
{
	int rc = mdb_txn_begin(kv->env, NULL, MDB_RDONLY, txn);

	if (rc == MDB_MAP_RESIZED && !kv->rtxn && !kv->walking) {
		rc = mdb_env_set_mapsize(kv->env, 0);
		if (!rc) {
			find_map(kv);
			rc = mdb_txn_begin(kv->env, NULL, MDB_RDONLY, txn);
		}
	}
	return lmdb_error(rc);
}

/* Makes the cached read txn live, renewing a reset one. */
static int live_rtxn(struct lmdb_kv *kv)
{
	int rc;

	if (kv->rtxn_live)
		return 0;
	if (kv->rtxn) {
		rc = mdb_txn_renew(kv->rtxn);
		if (!rc) {
			kv->rtxn_live = true;
			return 0;
		}
		/* E.g. the map was resized: start over with a fresh txn. */
		mdb_txn_abort(kv->rtxn);
		kv->rtxn = NULL;
	}
	rc = begin_read(kv, &kv->rtxn);
	if (rc) {
		kv->rtxn = NULL;
		return rc;
	}
	kv->rtxn_live = true;
	return 0;
}

static void reset_rtxn(struct lmdb_kv *kv)
{
	if (kv->rtxn_live) {
		mdb_txn_reset(kv->rtxn);
		kv->rtxn_live = false;
	}
}

/*
 * The record an index entry @p seq names, in @p txn; and the record of
 * domain @p name through the index (get_domain). An index entry that is
 * not a sequence number, or names a record that is not there, is damage:
 * MDB_CORRUPTED, which lmdb_error() logs.
 * @return an LMDB code
 */
static int record_at(struct lmdb_kv *kv, MDB_txn *txn, MDB_val seq, MDB_val *rec)
{
	int rc;

	if (seq.mv_size != SEQ_LEN)
		return MDB_CORRUPTED;
	rc = mdb_get(txn, kv->dbi[MXC__DB_DOMAINS], &seq, rec);
	return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
}

static int get_domain(struct lmdb_kv *kv, MDB_txn *txn, const MDB_val *name, MDB_val *rec)
{
	MDB_val seq;
	int rc = mdb_get(txn, kv->names, (MDB_val *)name, &seq);

	return rc ? rc : record_at(kv, txn, seq, rec);
}

/*
 * The sequence number the next new domain record of @p txn gets: one more
 * than the last one written (records are appended in this order), 1 in an
 * empty store.
 * @return an LMDB code
 */
static int next_seq(struct lmdb_kv *kv, MDB_txn *txn, uint64_t *seq)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, kv->dbi[MXC__DB_DOMAINS], &cur);

	if (rc)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	*seq = 1;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (k.mv_size != SEQ_LEN)
		return MDB_CORRUPTED;
	*seq = mxc__be64_get(k.mv_data);
	if (*seq == UINT64_MAX)
		return MDB_CORRUPTED;
	(*seq)++;
	return 0;
}

/*
 * A put of a domain record: the name into the index, the record after the
 * last one (MDB_APPEND: only the last leaf and the path to it change). A
 * name already indexed keeps its record (PUT_NEW: first write wins) or has
 * it replaced in place (PUT, the merge's newer record). @p seq is the next
 * sequence number, 0 until the transaction's first domain put reads it.
 * @return an LMDB code
 */
static int put_domain(struct lmdb_kv *kv, MDB_txn *txn, const struct mxc__kv_op *op,
		      uint64_t *seq)
{
	MDB_val name = { op->klen, (void *)op->key }, idx, k;
	MDB_val v = { op->vlen, (void *)op->val };
	uint8_t key[SEQ_LEN];
	unsigned flags = MDB_APPEND;
	int rc;

	if (op->kind != MXC__KV_PUT_NEW && op->kind != MXC__KV_PUT)
		return EINVAL;
	if (*seq == 0) {
		rc = next_seq(kv, txn, seq);
		if (rc)
			return rc;
	}
	mxc__be64_put(key, *seq);
	idx.mv_size = SEQ_LEN;
	idx.mv_data = key;
	rc = mdb_put(txn, kv->names, &name, &idx, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		if (op->kind == MXC__KV_PUT_NEW)
			return 0; /* committed earlier: first write wins */
		/* idx now points at the stored sequence number. */
		if (idx.mv_size != SEQ_LEN)
			return MDB_CORRUPTED;
		memcpy(key, idx.mv_data, SEQ_LEN);
		flags = 0;
	} else if (rc) {
		return rc;
	} else {
		(*seq)++;
	}
	k.mv_size = SEQ_LEN;
	k.mv_data = key;
	return mdb_put(txn, kv->dbi[MXC__DB_DOMAINS], &k, &v, flags);
}

static int kv_get(void *p, unsigned db, const void *key, size_t klen, const void **val,
		  size_t *vlen)
{
	struct lmdb_kv *kv = p;
	MDB_val k = { klen, (void *)key }, v;
	int r;

	if (mxc_fails_assert(db < MXC__DB__COUNT))
		return MXC_EINVAL;
	r = live_rtxn(kv);
	if (r)
		return r;
	if (db == MXC__DB_DOMAINS)
		r = lmdb_error(get_domain(kv, kv->rtxn, &k, &v));
	else
		r = lmdb_error(mdb_get(kv->rtxn, kv->dbi[db], &k, &v));
	if (r)
		return r;
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

static int add_u64(struct lmdb_kv *kv, MDB_txn *txn, MDB_dbi dbi,
		   const struct mxc__kv_op *op)
{
	MDB_val k = { op->klen, (void *)op->key }, v;
	uint64_t cur = 0;
	uint8_t buf[8];
	int rc;

	rc = mdb_get(txn, dbi, &k, &v);
	if (rc == 0 && v.mv_size == 8) {
		cur = mxc__be64_get(v.mv_data);
	} else if (rc == 0) {
		/* A damaged counter must not block every later batch. It is
		 * logged by the owner (this may be the committer thread). */
		kv->bad_counter++;
	} else if (rc != MDB_NOTFOUND) {
		return rc;
	}
	cur += op->delta;
	mxc__be64_put(buf, cur);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return mdb_put(txn, dbi, &k, &v, 0);
}

/* One attempt at the batch. @return an LMDB code */
static int write_once(struct lmdb_kv *kv, const struct mxc__kv_op *ops, size_t n)
{
	MDB_txn *txn;
	uint64_t seq = 0;
	int rc;

	rc = mdb_txn_begin(kv->env, NULL, 0, &txn);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct mxc__kv_op *op = &ops[i];
		MDB_val k = { op->klen, (void *)op->key };
		MDB_val v = { op->vlen, (void *)op->val };
		MDB_dbi dbi = kv->dbi[op->db];

		/* A batch of thousands of puts on a large tree would map
		 * 64 KiB or more per put before the drop after the commit. */
		if (i && i % DROP_CHECK_EVERY == 0)
			drop_if_over_budget(kv);
		if (op->db == MXC__DB_DOMAINS) {
			rc = put_domain(kv, txn, op, &seq);
			continue;
		}
		switch (op->kind) {
		case MXC__KV_PUT_NEW:
			rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
			if (rc == MDB_KEYEXIST)
				rc = 0; /* committed earlier: first write wins */
			break;
		case MXC__KV_PUT:
			rc = mdb_put(txn, dbi, &k, &v, 0);
			break;
		case MXC__KV_ADD_U64:
			rc = add_u64(kv, txn, dbi, op);
			break;
		default:
			rc = EINVAL;
			break;
		}
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	/* mdb_txn_commit frees the txn whether or not it succeeds. */
	rc = mdb_txn_commit(txn);
	if (!rc)
		drop_if_over_budget(kv);
	return rc;
}

/* On the owner: logs the damaged counters a write restarted. */
static void report_bad_counters(struct lmdb_kv *kv)
{
	if (kv->bad_counter) {
		mxc_log_warn("store: %u damaged progress counter(s) restarted from 0",
			     kv->bad_counter);
		kv->bad_counter = 0;
	}
}

/* Doubles the map. No txn of this process may be open: see the file comment. */
static int grow(struct lmdb_kv *kv)
{
	size_t want = kv->mapsize * 2;
	int rc;

	if (kv->walking) {
		mxc_log_error("store: map full while a walk is open; cannot grow it now");
		return MXC_EFULL;
	}
	if (kv->mapsize >= MAP_MAX) {
		mxc_log_error("store: map reached %zu bytes, the most it may grow to",
			      kv->mapsize);
		return MXC_EFULL;
	}
	if (kv->rtxn) {
		mdb_txn_abort(kv->rtxn);
		kv->rtxn = NULL;
		kv->rtxn_live = false;
	}
	rc = mdb_env_set_mapsize(kv->env, want);
	if (rc)
		return lmdb_error(rc);
	mxc_log_debug("store: map grown from %zu to %zu bytes", kv->mapsize, want);
	kv->mapsize = want;
	find_map(kv);
	return 0;
}

static int kv_write(void *p, const struct mxc__kv_op *ops, size_t n)
{
	struct lmdb_kv *kv = p;
	int r;

	if (kv->rdonly)
		return MXC_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (mxc_fails_assert(ops[i].db < MXC__DB__COUNT && ops[i].klen > 0))
			return MXC_EINVAL;
	/* A reader slot that pins an old snapshot would keep its pages from
	 * reuse by this commit. */
	reset_rtxn(kv);
	for (;;) {
		r = lmdb_error(write_once(kv, ops, n));
		report_bad_counters(kv);
		if (r != MXC_EFULL)
			return r;
		r = grow(kv);
		if (r)
			return r;
	}
}

/* The committer thread's write: see mxc__kv_api.commit. */
static int kv_commit(void *p, const struct mxc__kv_op *ops, size_t n)
{
	struct lmdb_kv *kv = p;
	int rc;

	/* No mxc_fails_assert here: it would log from this thread. store.c
	 * builds the operations, so these checks never fire in practice. */
	if (kv->rdonly)
		return MXC_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (ops[i].db >= MXC__DB__COUNT || ops[i].klen == 0)
			return MXC_EINVAL;
	rc = write_once(kv, ops, n);
	kv->commit_rc = rc;
	return lmdb_code(rc);
}

static void kv_after_commit(void *p)
{
	struct lmdb_kv *kv = p;

	/* The next lookup renews the snapshot and sees the commit. */
	reset_rtxn(kv);
	if (kv->commit_rc)
		(void)lmdb_error(kv->commit_rc);
	kv->commit_rc = 0;
	report_bad_counters(kv);
}

static int kv_grow(void *p)
{
	return grow(p);
}

static int kv_each(void *p, unsigned db, mxc__kv_each_cb cb, void *arg)
{
	struct lmdb_kv *kv = p;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t seen = 0;
	int rc, r;

	if (mxc_fails_assert(db < MXC__DB__COUNT))
		return MXC_EINVAL;
	r = begin_read(kv, &txn);
	if (r)
		return r;
	/* The domains are walked in name order, through the index. */
	rc = mdb_cursor_open(txn, db == MXC__DB_DOMAINS ? kv->names : kv->dbi[db], &cur);
	if (rc) {
		mdb_txn_abort(txn);
		return lmdb_error(rc);
	}
	kv->walking++;
	r = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		/* A broken index entry reaches the caller as an empty,
		 * undecodable record, reported under its name. */
		if (db == MXC__DB_DOMAINS && record_at(kv, txn, v, &v) != 0)
			v = (MDB_val){ 0, (void *)"" };
		r = cb(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (r)
			break;
		/* A walk of the whole store would map all of it. */
		if (++seen % WALK_CHECK_EVERY == 0)
			drop_if_over_budget(kv);
	}
	if (!r && rc != MDB_NOTFOUND)
		r = lmdb_error(rc);
	kv->walking--;
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return r;
}

static int kv_count(void *p, unsigned db, uint64_t *n)
{
	struct lmdb_kv *kv = p;
	MDB_stat st;
	int r;

	if (mxc_fails_assert(db < MXC__DB__COUNT))
		return MXC_EINVAL;
	r = live_rtxn(kv);
	if (r)
		return r;
	r = lmdb_error(mdb_stat(kv->rtxn, db == MXC__DB_DOMAINS ? kv->names : kv->dbi[db], &st));
	if (!r)
		*n = st.ms_entries;
	return r;
}

static void kv_trim(void *p)
{
	drop_if_over_budget(p);
}

static size_t kv_mapsize(void *p)
{
	struct lmdb_kv *kv = p;

	return kv->mapsize;
}

static const struct mxc__kv_api lmdb_api = {
	.name = "lmdb",
	.open = kv_open,
	.close = kv_close,
	.get = kv_get,
	.write = kv_write,
	.commit = kv_commit,
	.after_commit = kv_after_commit,
	.grow = kv_grow,
	.each = kv_each,
	.count = kv_count,
	.mapsize = kv_mapsize,
	.trim = kv_trim,
};

const struct mxc__kv_api *mxc__kv_lmdb(void)
{
	return &lmdb_api;
}
