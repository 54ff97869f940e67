/**
 * \file
 * The domain job and the host job: the small state machines that gather one
 * domain's DNS facts.
 *
 * A domain job asks, all at once, for the MX RRset and the TXT records at the
 * apex, `_dmarc`, `_mta-sts` and `_smtp._tls`. When the MX answer arrives it
 * decides the mail hosts: the MX targets (a lone `MX 0 .` is RFC 7505's null
 * MX; with no MX at all it asks for the domain's own addresses, RFC 5321's
 * implicit MX). Each mail host is a host job, shared by every domain that
 * names it and resolved once per run (A, AAAA and TLSA at `_25._tcp.<host>`);
 * the domain job waits for the host jobs it attached to, so the number of
 * things in flight stays bounded by the window. When nothing is pending any
 * more the domain's record (derived facts plus the raw answers, RRSIGs
 * included, for the validator) goes to the store's current batch.
 *
 * States:  QUERY --MX answer--> [IMPLICIT --A/AAAA--> ] HOSTS --all done--> STORE
 * A canceled query (the scan is stopping) makes the job finish without
 * writing anything: the domain is simply scanned again next time.
 *
 * Cost. Every domain passes through here, so a domain job costs no malloc
 * in the common case: jobs are recycled through a free list, and the
 * answers and MX names a job keeps live in a small arena inside it (one
 * allocation more only when they outgrow it), released all at once when the
 * job ends. The MX answer is read straight from the wire (resolver.h):
 * an ldns_pkt for a handful of fields cost more than the rest of the job.
 */
#include <string.h>

#include <ldns/ldns.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "probes/probe_rec.h"
#include "probes/txtset.h"
#include "resolver/htab.h"
#include "scanner/scan.h"

/** Bytes of answers and names a job keeps inline before it allocates. */
#define JOB_ARENA_INLINE 1536
/** Smallest overflow block, so that a big answer costs one malloc. */
#define JOB_ARENA_BLOCK 4096
/** Jobs kept for reuse at most (the window is usually smaller). */
#define JOB_FREE_MAX 65536

/** Hard cap on MX hosts per domain, whatever --max-mx says. */
#define JOB_MX_HARD_MAX 32
/** CNAME links followed inside one answer. */
#define CNAME_MAX_CHAIN 8

enum job_state {
	JOB_QUERY = 0, /**< MX and TXT questions in flight */
	JOB_IMPLICIT,  /**< no MX: asking for the domain's own addresses */
	JOB_HOSTS,     /**< waiting for host jobs (and TXT answers) */
	JOB_STORE,     /**< everything answered: write the record */
};

static const char *const job_state_names[] = { "query", "implicit", "hosts", "store" };

/** The questions a domain job asks about the domain itself. */
enum job_q {
	Q_MX = 0, Q_TXT, Q_DMARC, Q_MTASTS, Q_TLSRPT, Q_A, Q_AAAA,
	Q_STS_A, Q_STS_AAAA, /* the policy host, when the _mta-sts record is valid */
	Q__COUNT
};

static const struct {
	const char *prefix;
	uint16_t type;
} job_questions[Q__COUNT] = {
	[Q_MX] = { "", LDNS_RR_TYPE_MX },
	[Q_TXT] = { "", LDNS_RR_TYPE_TXT },
	[Q_DMARC] = { "_dmarc.", LDNS_RR_TYPE_TXT },
	[Q_MTASTS] = { "_mta-sts.", LDNS_RR_TYPE_TXT },
	[Q_TLSRPT] = { "_smtp._tls.", LDNS_RR_TYPE_TXT },
	[Q_A] = { "", LDNS_RR_TYPE_A },
	[Q_AAAA] = { "", LDNS_RR_TYPE_AAAA },
	[Q_STS_A] = { "mta-sts.", LDNS_RR_TYPE_A },
	[Q_STS_AAAA] = { "mta-sts.", LDNS_RR_TYPE_AAAA },
};

/** Callback argument: which question of which job. */
struct job_slot {
	struct mxc_job *job;
	uint8_t q;
};

/** A block of arena memory beyond the inline part. */
struct arena_block {
	struct arena_block *next;
	size_t size, used;
	uint8_t data[];
};

/**
 * A bump allocator for what one job keeps (raw answers, names): freed all
 * at once with the job, so keeping an answer costs no malloc in most jobs.
 */
struct job_arena {
	size_t used;                 /**< bytes of inline taken */
	struct arena_block *blocks;  /**< overflow, newest first */
	uint8_t inline_buf[JOB_ARENA_INLINE];
};

struct mxc_job {
	struct mxc_scan *scan;
	uint64_t rank;
	enum job_state state;
	unsigned pending;       /**< questions outstanding */
	unsigned hosts_pending; /**< host jobs we wait for */
	bool canceled;
	bool in_cb;             /**< inside job_answer_cb: finishing waits for its end */
	uint8_t mx_status;
	uint32_t flags;
	struct job_slot slots[Q__COUNT];
	struct mxc_raw_answer raw[Q__COUNT];
	bool asked[Q__COUNT];
	uint32_t n_mx;
	size_t implicit_addrs;  /**< A and AAAA records of the domain itself */
	bool sts_permitted;
	size_t n_sts_addrs;
	struct mxc_blob sts;    /**< the stored fetch (probes/probe_rec.h) */
	/*
	 * From here on every field is written before it is read (the counts
	 * above say how much of each array is valid), so a recycled job is
	 * not cleared past this point: most of the job's bytes are here.
	 */
	char domain[MXC_NAME_MAX + 1];
	struct mxc_mx mx[JOB_MX_HARD_MAX];
	/* The MTA-STS policy fetch (when --probes has https) */
	struct mxc_gate_req sts_req;
	char sts_host[MXC_NAME_MAX + 16];
	struct sockaddr_storage sts_addrs[MXC_STS_FETCH_MAX_ADDRS];
	struct job_arena arena; /**< raw answers and MX names */
};

/** The questions a host job asks. */
enum host_q { H_A = 0, H_AAAA, H_TLSA, H__COUNT };

static const uint16_t host_qtypes[H__COUNT] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA,
						LDNS_RR_TYPE_TLSA };

struct host_slot {
	struct mxc_hostjob *hj;
	uint8_t q;
};

struct mxc_hostjob {
	struct mxc_scan *scan;
	char name[MXC_NAME_MAX + 1];
	unsigned pending;
	bool canceled;
	bool in_cb;             /**< inside hostjob_answer_cb */
	struct host_slot slots[H__COUNT];
	struct mxc_raw_answer raw[H__COUNT];
	struct mxc_addr addrs[64]; /**< from the A and AAAA answers, in order */
	uint32_t n_addrs;
	struct mxc_job **waiters;
	size_t n_waiters, cap_waiters;
	/* SMTP probes, one per address (when --probes has smtp) */
	struct host_probe *probes;
	struct mxc_blob *results;
	uint32_t n_probes;
	unsigned probes_pending;
	bool starting;           /**< probes being started: finishing waits */
	struct mxc_tlsa tlsa[MXC_SMTP_TLSA_MAX];
	size_t ntlsa;
	uint8_t *tlsa_data;
};

/** One SMTP probe of a host job: (host, address, port). */
struct host_probe {
	struct mxc_gate_req req;   /* first: the gate hands it back */
	struct mxc_hostjob *hj;
	uint32_t i;
	bool permitted;            /* holds a gate permit to return */
};

static void job_set_state(struct mxc_job *j, enum job_state st)
{
	mxc_log_debug("job %s: %s -> %s", j->domain, job_state_names[j->state],
		      job_state_names[st]);
	j->state = st;
}

/** prefix + name into @p out (MXC_NAME_MAX + 32 bytes: the longest prefix fits). */
static void concat_name(const char *prefix, const char *name, char out[MXC_NAME_MAX + 32])
{
	size_t p = strlen(prefix), n = strlen(name);

	memcpy(out, prefix, p);
	memcpy(out + p, name, n + 1);
}

/* ------------------------------------------------------------------ */
/* Job memory                                                          */
/* ------------------------------------------------------------------ */

/**
 * @p n bytes (no alignment: they hold bytes and strings) from @p ar, or
 * from the heap when @p ar is NULL (host jobs, which are few and live long).
 */
static void *arena_alloc(struct job_arena *ar, size_t n)
{
	struct arena_block *b;
	size_t size;

	if (!ar)
		return mxc_malloc(n);
	if (n <= sizeof(ar->inline_buf) - ar->used) {
		void *p = ar->inline_buf + ar->used;

		ar->used += n;
		return p;
	}
	b = ar->blocks;
	if (b && n <= b->size - b->used) {
		void *p = b->data + b->used;

		b->used += n;
		return p;
	}
	size = n > JOB_ARENA_BLOCK ? n : JOB_ARENA_BLOCK;
	b = mxc_malloc(sizeof(*b) + size);
	if (!b)
		return NULL;
	b->next = ar->blocks;
	b->size = size;
	b->used = n;
	ar->blocks = b;
	return b->data;
}

static void arena_release(struct job_arena *ar)
{
	while (ar->blocks) {
		struct arena_block *next = ar->blocks->next;

		mxc_free(ar->blocks);
		ar->blocks = next;
	}
	ar->used = 0;
}

static char *arena_strdup(struct job_arena *ar, const char *str)
{
	size_t n = strlen(str) + 1;
	char *p = arena_alloc(ar, n);

	if (p)
		memcpy(p, str, n);
	return p;
}

/*
 * Domain jobs are recycled: a census starts one per input name, and a job is
 * a few KiB that malloc would otherwise carve and coalesce every time. The
 * pool holds at most the window's worth and is emptied when the last job
 * of a scan ends after its input did (a job that ends before the scan
 * knows its input is exhausted leaves the pool for the next job or scan
 * to reuse). Loop thread only.
 */
static struct mxc__pool job_pool;

static struct mxc_job *job_alloc(void)
{
	struct mxc_job *j;

	if (job_pool.objsize == 0)
		mxc__pool_init(&job_pool, sizeof(struct mxc_job), 16);
	j = mxc__pool_get(&job_pool);
	if (!j)
		return NULL;
	/* The counted part; the arena starts empty. */
	memset(j, 0, offsetof(struct mxc_job, domain));
	j->arena.used = 0;
	j->arena.blocks = NULL;
	return j;
}

/* ------------------------------------------------------------------ */
/* Answers: copying and reading                                        */
/* ------------------------------------------------------------------ */

/**
 * Keep a copy of an answer (the wire bytes) in @p raw, its memory from
 * @p ar (NULL: the heap; raw_free frees it then).
 */
static int raw_keep(struct mxc_raw_answer *raw, const char *qname, uint16_t qtype,
		    const struct mxc_dns_answer *a, struct job_arena *ar)
{
	raw->qname = arena_strdup(ar, qname);
	if (!raw->qname)
		return MXC_ENOMEM;
	raw->qtype = qtype;
	raw->status = (uint8_t)a->status;
	raw->rcode = a->rcode;
	raw->wire = NULL;
	raw->wire_len = 0;
	if (a->status == MXC_DNS_ANSWER && a->wire && a->wire_len) {
		raw->wire = arena_alloc(ar, a->wire_len);
		if (!raw->wire)
			return MXC_ENOMEM;
		memcpy(raw->wire, a->wire, a->wire_len);
		raw->wire_len = (uint32_t)a->wire_len;
	}
	return 0;
}

/*
 * Start judging the answer @p a (kept in @p raw) with the scan's validator;
 * *pending counts the verdict until @p cb has it (which may be at once).
 * Without validation nothing happens; without an answer to judge the raw
 * answer is marked indeterminate.
 */
static void raw_validate(struct mxc_scan *s, struct mxc_raw_answer *raw,
			 const struct mxc_dns_answer *a, mxc_val_cb cb, void *arg,
			 unsigned *pending)
{
	if (!s->validator)
		return;
	raw->dnssec = MXC_DNSSEC_INDETERMINATE;
	raw->dnssec_reason = a->status == MXC_DNS_TIMEOUT ? MXC_DR_TIMEOUT : MXC_DR_MALFORMED;
	if (a->status != MXC_DNS_ANSWER || !a->wire)
		return;
	++*pending;
	if (mxc_validator_check(s->validator, a->wire, a->wire_len, cb, arg) != 0)
		--*pending;
}

static void raw_verdict(struct mxc_raw_answer *raw, struct mxc_val_result res)
{
	raw->dnssec = (uint8_t)res.status;
	raw->dnssec_reason = (uint8_t)res.reason;
}

/** Free what raw_keep took from the heap (host jobs only). */
static void raw_free(struct mxc_raw_answer *raw)
{
	mxc_free(raw->qname);
	mxc_free(raw->wire);
	memset(raw, 0, sizeof(*raw));
}

/*
 * The checks ldns_wire2pkt would make before we read MX or CNAME data:
 * every record well formed, and the RDATA of every MX (preference, then a
 * name) and CNAME (a name) exactly as long as it says. A message that fails
 * is treated as one that does not parse.
 */
static int answer_check(const uint8_t *msg, size_t len)
{
	struct mxc_dns_walk w;
	struct mxc_dns_rr rr;
	uint8_t name[MXC_DNS_NAME_WIRE_MAX];
	int r = mxc_dns_walk_init(&w, msg, len);

	while (r == 0 && (r = mxc_dns_walk_next(&w, &rr)) == 1) {
		size_t n, end, at = rr.rdata;

		r = 0;
		if (rr.type == LDNS_RR_TYPE_MX) {
			if (rr.rdlen < 3)
				return MXC_EPARSE;
			at += 2;
		} else if (rr.type != LDNS_RR_TYPE_CNAME) {
			continue;
		}
		if (mxc_dns_name_read(msg, len, at, name, &n, &end) != 0 ||
		    end != rr.rdata + rr.rdlen)
			return MXC_EPARSE;
	}
	return r;
}

/** Is the (checked) owner of @p rr the lower-case wire name @p name? */
static bool owner_is(const uint8_t *msg, size_t len, const struct mxc_dns_rr *rr,
		     const uint8_t *name, size_t name_len)
{
	uint8_t o[MXC_DNS_NAME_WIRE_MAX];
	size_t n;

	return mxc_dns_name_read(msg, len, rr->owner, o, &n, NULL) == 0 && n == name_len &&
	       memcmp(o, name, n) == 0;
}

/**
 * The owner the records asked for must have in a checked answer: the
 * question's name, or the end of the CNAME chain that starts there (at most
 * CNAME_MAX_CHAIN links). Sets *cname if a link was followed.
 * @param owner MXC_DNS_NAME_WIRE_MAX bytes, lower-case wire name out
 * @return 0 or MXC_EPARSE
 */
static int answer_owner(const uint8_t *msg, size_t len, uint8_t *owner, size_t *owner_len,
			bool *cname)
{
	/* The resolver matched the question name (at 12) against ours. */
	if (mxc_dns_name_read(msg, len, 12, owner, owner_len, NULL) != 0)
		return MXC_EPARSE;
	for (int depth = 0; depth < CNAME_MAX_CHAIN; depth++) {
		struct mxc_dns_walk w;
		struct mxc_dns_rr rr;
		bool moved = false;
		int r = mxc_dns_walk_init(&w, msg, len);

		while (r == 0 && (r = mxc_dns_walk_next(&w, &rr)) == 1 && rr.section == 1) {
			r = 0;
			if (rr.type != LDNS_RR_TYPE_CNAME ||
			    !owner_is(msg, len, &rr, owner, *owner_len))
				continue;
			if (mxc_dns_name_read(msg, len, rr.rdata, owner, owner_len, NULL) != 0)
				return MXC_EPARSE;
			*cname = true;
			moved = true;
			break;
		}
		if (r < 0)
			return r;
		if (!moved)
			break;
	}
	return 0;
}

/** Count the RRs of @p type owned by the end of the CNAME chain of the question. */
static size_t count_rrs(const uint8_t *msg, size_t len, uint16_t type)
{
	uint8_t owner[MXC_DNS_NAME_WIRE_MAX];
	size_t owner_len, n = 0;
	bool cname = false;
	struct mxc_dns_walk w;
	struct mxc_dns_rr rr;
	int r;

	if (answer_check(msg, len) != 0 || answer_owner(msg, len, owner, &owner_len, &cname) != 0)
		return 0;
	r = mxc_dns_walk_init(&w, msg, len);
	while (r == 0 && mxc_dns_walk_next(&w, &rr) == 1 && rr.section == 1)
		if (rr.type == type && owner_is(msg, len, &rr, owner, owner_len))
			n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* Host jobs                                                           */
/* ------------------------------------------------------------------ */

static void hostjob_answer_cb(void *arg, const struct mxc_dns_answer *a);
static void job_host_done(struct mxc_job *j);

static void hostjob_free(struct mxc_hostjob *hj)
{
	for (int i = 0; i < H__COUNT; i++)
		raw_free(&hj->raw[i]);
	for (uint32_t i = 0; hj->results && i < hj->n_probes; i++)
		mxc_free(hj->results[i].data);
	mxc_free(hj->results);
	mxc_free(hj->probes);
	mxc_free(hj->tlsa_data);
	mxc_free(hj->waiters);
	mxc_free(hj);
}

static int hostjob_add_waiter(struct mxc_hostjob *hj, struct mxc_job *j)
{
	if (hj->n_waiters == hj->cap_waiters) {
		size_t ncap = hj->cap_waiters ? hj->cap_waiters * 2 : 4;
		struct mxc_job **nw = mxc_realloc(hj->waiters, ncap * sizeof(*nw));

		if (!nw)
			return MXC_ENOMEM;
		hj->waiters = nw;
		hj->cap_waiters = ncap;
	}
	hj->waiters[hj->n_waiters++] = j;
	return 0;
}

/*
 * Take the addresses of an A or AAAA answer as it arrives, from the parse
 * the resolver already made (host answers are cached, so they are parsed
 * once for their TTLs).
 */
static void hostjob_take_addrs(struct mxc_hostjob *hj, int q, const struct mxc_dns_answer *a)
{
	const ldns_pkt *pkt = mxc_dns_answer_pkt(a);
	const ldns_rr_list *answer;
	uint16_t want = q == H_A ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
	size_t alen = q == H_A ? 4 : 16;

	if (!pkt)
		return;
	answer = ldns_pkt_answer(pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answer, i);
		const ldns_rdf *rd;
		struct mxc_addr *out;

		if (hj->n_addrs == MXC_ARRAY_SIZE(hj->addrs))
			return; /* the rest stay in the raw answer */
		if (ldns_rr_get_type(rr) != want || ldns_rr_rd_count(rr) < 1)
			continue;
		rd = ldns_rr_rdf(rr, 0);
		if (ldns_rdf_size(rd) != alen)
			continue;
		out = &hj->addrs[hj->n_addrs++];
		memset(out, 0, sizeof(*out));
		out->family = q == H_A ? 4 : 6;
		memcpy(out->addr, ldns_rdf_data(rd), alen);
	}
}

static int addr_cmp(const void *a, const void *b)
{
	const struct mxc_addr *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/** All three answers are in: write the host record, wake the waiters. */
static void hostjob_finish(struct mxc_hostjob *hj)
{
	struct mxc_scan *s = hj->scan;

	mxc_strmap_del(&s->hostjobs, hj->name);
	if (!hj->canceled && !s->stopping) {
		struct mxc_host_rec rec = {
			.host = hj->name,
			.run_id = s->run.run_id,
			.resolved_at = mxc_wall_time(),
			.n_raw = H__COUNT,
			.raw = hj->raw,
		};
		int r;

		rec.n_addr = hj->n_addrs;
		rec.addrs = hj->addrs;
		/* Every started probe left a result (or the job was canceled). */
		rec.n_probe = hj->n_probes;
		rec.probe = hj->results;
		r = mxc_store_host_put(s->store, &rec);
		if (r)
			mxc__scan_fail(s, r, "writing a host record");
		s->stats.hosts_done++;
	}
	for (size_t i = 0; i < hj->n_waiters; i++) {
		if (hj->canceled)
			hj->waiters[i]->canceled = true;
		job_host_done(hj->waiters[i]);
	}
	hostjob_free(hj);
}

/* ---- SMTP probes of a host ---------------------------------------- */

/* The TLSA records of the host's answer, copied for the probes. */
static void hostjob_take_tlsa(struct mxc_hostjob *hj)
{
	const struct mxc_raw_answer *raw = &hj->raw[H_TLSA];
	ldns_pkt *pkt = NULL;
	const ldns_rr_list *ans;
	size_t bytes = 0, off = 0;

	if (!raw->wire || raw->rcode != LDNS_RCODE_NOERROR ||
	    ldns_wire2pkt(&pkt, raw->wire, raw->wire_len) != LDNS_STATUS_OK) {
		if (pkt)
			ldns_pkt_free(pkt);
		return;
	}
	ans = ldns_pkt_answer(pkt);
	for (int pass = 0; pass < 2; pass++) {
		hj->ntlsa = 0;
		for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(ans, i);
			const ldns_rdf *d;
			struct mxc_tlsa *t;

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TLSA || ldns_rr_rd_count(rr) != 4 ||
			    hj->ntlsa == MXC_ARRAY_SIZE(hj->tlsa))
				continue;
			d = ldns_rr_rdf(rr, 3);
			if (pass == 0) {
				bytes += ldns_rdf_size(d);
				hj->ntlsa++;
				continue;
			}
			t = &hj->tlsa[hj->ntlsa++];
			t->usage = ldns_rdf2native_int8(ldns_rr_rdf(rr, 0));
			t->selector = ldns_rdf2native_int8(ldns_rr_rdf(rr, 1));
			t->mtype = ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
			memcpy(hj->tlsa_data + off, ldns_rdf_data(d), ldns_rdf_size(d));
			t->data = hj->tlsa_data + off;
			t->len = ldns_rdf_size(d);
			off += ldns_rdf_size(d);
		}
		if (pass == 0 && (hj->ntlsa == 0 || !(hj->tlsa_data = mxc_malloc(bytes)))) {
			hj->ntlsa = 0;
			break;
		}
	}
	ldns_pkt_free(pkt);
}

static void hostjob_probe_end(struct mxc_hostjob *hj)
{
	if (--hj->probes_pending == 0 && !hj->starting)
		hostjob_finish(hj);
}

/* Keep a probe's result in the host's record. */
static void hostjob_keep_result(struct mxc_hostjob *hj, uint32_t i, const struct mxc_smtp_result *res)
{
	struct mxc_buf b;

	mxc_buf_init(&b, MXC_RECORD_BLOB_MAX);
	if (mxc_smtp_rec_encode(res, &b) == 0 && b.len) {
		hj->results[i].data = b.data; /* the buffer's bytes move into the record */
		hj->results[i].len = (uint32_t)b.len;
		return;
	}
	mxc_buf_free(&b);
	mxc__scan_fail(hj->scan, MXC_ENOMEM, "keeping a probe result");
}

static void probe_done(const struct mxc_smtp_result *res, void *arg)
{
	struct host_probe *hp = arg;
	struct mxc_hostjob *hj = hp->hj;

	if (hp->permitted)
		mxc_gate_leave(hj->scan->gate, (const struct sockaddr *)&hp->req.addr);
	if (hj->scan->stopping)
		hj->canceled = true; /* an interrupted probe is not a finding */
	else
		hostjob_keep_result(hj, hp->i, res);
	hj->scan->stats.probes_done++;
	hostjob_probe_end(hj);
}

/* A result for a probe that never ran (blocklisted, or could not start). */
static void probe_not_run(struct host_probe *hp, enum mxc_smtp_status st, const char *why)
{
	struct mxc_smtp_result res;
	const struct sockaddr *sa = (const struct sockaddr *)&hp->req.addr;

	memset(&res, 0, sizeof(res));
	snprintf(res.mx_host, sizeof(res.mx_host), "%s", hp->hj->name);
	if (sa->sa_family == AF_INET) {
		uv_ip4_name((const struct sockaddr_in *)sa, res.ip, sizeof(res.ip));
		res.port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else {
		uv_ip6_name((const struct sockaddr_in6 *)sa, res.ip, sizeof(res.ip));
		res.port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	res.status = st;
	snprintf(res.detail, sizeof(res.detail), "%s", why);
	res.probed_at = mxc_wall_time();
	hostjob_keep_result(hp->hj, hp->i, &res);
	hostjob_probe_end(hp->hj);
}

static void probe_go(struct mxc_gate_req *req, enum mxc_gate_verdict v)
{
	struct host_probe *hp = (struct host_probe *)(void *)req;
	struct mxc_hostjob *hj = hp->hj;
	struct mxc_smtp_target t = {
		.mx = hj->name,
		.addr = (const struct sockaddr *)&req->addr,
		.tlsa = hj->tlsa,
		.ntlsa = hj->ntlsa,
		.tlsa_secure = hj->raw[H_TLSA].dnssec == MXC_DNSSEC_SECURE,
	};
	int r;

	if (v == MXC_GATE_CANCELED) {
		hj->canceled = true;
		hostjob_probe_end(hj);
		return;
	}
	if (v == MXC_GATE_BLOCKED) {
		hj->scan->stats.probes_blocked++;
		probe_not_run(hp, MXC_SMTP_BLOCKED, "blocklist");
		return;
	}
	hp->permitted = true;
	r = mxc_smtp_probe_start(hj->scan->smtp, &t, probe_done, hp);
	if (r) {
		mxc_gate_leave(hj->scan->gate, (const struct sockaddr *)&req->addr);
		hp->permitted = false;
		probe_not_run(hp, MXC_SMTP_CONNECT_FAILED, mxc_strerror(r));
	}
}

/*
 * The host's DNS answers are all in: probe each address (SMTP, through the
 * gate), or write the record now when there is nothing to probe.
 */
static void hostjob_answers_done(struct mxc_hostjob *hj)
{
	struct mxc_scan *s = hj->scan;
	uint32_t n;

	/* IPv4 first, then in address order, whichever answer came first. */
	qsort(hj->addrs, hj->n_addrs, sizeof(hj->addrs[0]), addr_cmp);
	n = hj->n_addrs;
	if (n > s->opts->max_probe_addrs)
		n = s->opts->max_probe_addrs;
	if (!s->smtp || !s->gate || n == 0 || hj->canceled || s->stopping) {
		hostjob_finish(hj);
		return;
	}
	hj->probes = mxc_calloc(n, sizeof(*hj->probes));
	hj->results = mxc_calloc(n, sizeof(*hj->results));
	if (!hj->probes || !hj->results) {
		mxc__scan_fail(s, MXC_ENOMEM, "starting probes");
		hj->canceled = true;
		hostjob_finish(hj);
		return;
	}
	hostjob_take_tlsa(hj);
	hj->n_probes = n;
	hj->probes_pending = n;
	hj->starting = true;
	for (uint32_t i = 0; i < n; i++) {
		struct host_probe *hp = &hj->probes[i];
		const struct mxc_addr *a = &hj->addrs[i];

		hp->hj = hj;
		hp->i = i;
		hp->req.name = hj->name;
		hp->req.go = probe_go;
		if (a->family == 4) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&hp->req.addr;

			sin->sin_family = AF_INET;
			sin->sin_port = htons(s->opts->smtp_port);
			memcpy(&sin->sin_addr, a->addr, 4);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&hp->req.addr;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(s->opts->smtp_port);
			memcpy(&sin6->sin6_addr, a->addr, 16);
		}
		s->stats.probes_started++;
		mxc_gate_enter(s->gate, &hp->req);
	}
	hj->starting = false;
	if (hj->probes_pending == 0)
		hostjob_finish(hj);
}

static void hostjob_val_cb(void *arg, struct mxc_val_result res)
{
	struct host_slot *slot = arg;
	struct mxc_hostjob *hj = slot->hj;

	raw_verdict(&hj->raw[slot->q], res);
	if (--hj->pending == 0 && !hj->in_cb)
		hostjob_answers_done(hj);
}

static void hostjob_answer_cb(void *arg, const struct mxc_dns_answer *a)
{
	struct host_slot *slot = arg;
	struct mxc_hostjob *hj = slot->hj;
	char tlsa[MXC_NAME_MAX + 32];
	const char *qname = hj->name;

	if (slot->q == H_TLSA) {
		concat_name("_25._tcp.", hj->name, tlsa);
		qname = tlsa;
	}
	hj->in_cb = true;
	if (a->status == MXC_DNS_CANCELED) {
		hj->canceled = true;
	} else if (raw_keep(&hj->raw[slot->q], qname, host_qtypes[slot->q], a, NULL)) {
		mxc__scan_fail(hj->scan, MXC_ENOMEM, "keeping a host answer");
	} else {
		if (slot->q != H_TLSA)
			hostjob_take_addrs(hj, slot->q, a);
		/* DANE needs to know whether the TLSA and address records are
		 * secure (RFC 7672 2.1, 2.2): every host answer is judged. */
		raw_validate(hj->scan, &hj->raw[slot->q], a, hostjob_val_cb, slot, &hj->pending);
	}
	hj->in_cb = false;
	if (--hj->pending == 0)
		hostjob_answers_done(hj);
}

/**
 * Make @p j wait for the host job of @p host, creating it if this run has
 * not resolved the host yet. @return 1 if the job now waits, 0 if the host
 * is already stored, or a negative code.
 */
static int hostjob_attach(struct mxc_scan *s, const char *host, struct mxc_job *j)
{
	struct mxc_hostjob *hj = mxc_strmap_get(&s->hostjobs, host);
	int r;

	if (!hj) {
		char tlsa[MXC_NAME_MAX + 32];

		r = mxc_store_host_exists(s->store, host);
		if (r != 0)
			return r < 0 ? r : 0;
		hj = mxc_calloc(1, sizeof(*hj));
		if (!hj)
			return MXC_ENOMEM;
		hj->scan = s;
		memcpy(hj->name, host, strlen(host) + 1);
		concat_name("_25._tcp.", host, tlsa);
		for (int q = 0; q < H__COUNT; q++) {
			const char *qname = q == H_TLSA ? tlsa : host;

			hj->slots[q].hj = hj;
			hj->slots[q].q = (uint8_t)q;
			if (q == H_TLSA && strlen(tlsa) > MXC_NAME_MAX)
				continue; /* no such name can exist */
			/* Every domain naming this host waits for it: ask first. */
			r = mxc_resolver_query_flags(s->resolver, qname, host_qtypes[q], MXC_DNS_PRIORITY,
						     hostjob_answer_cb, &hj->slots[q]);
			if (r == 0)
				hj->pending++;
		}
		if (hj->pending == 0) {
			hostjob_free(hj);
			return MXC_ECANCELED;
		}
		r = mxc_strmap_put(&s->hostjobs, hj->name, hj);
		if (r) {
			/* The queries are out; let them finish, unwaited. */
			hj->canceled = true;
			return r;
		}
		s->stats.hosts_started++;
	}
	r = hostjob_add_waiter(hj, j);
	return r ? r : 1;
}

/* ------------------------------------------------------------------ */
/* Domain jobs                                                         */
/* ------------------------------------------------------------------ */

static void job_answer_cb(void *arg, const struct mxc_dns_answer *a);

/*
 * The answers and MX names go with the arena; the job back to the pool,
 * which is emptied once the scan has no job left and will start none.
 */
static void job_free(struct mxc_job *j)
{
	struct mxc_scan *s = j->scan;

	mxc_free(j->sts.data);
	arena_release(&j->arena);
	mxc__pool_put(&job_pool, j);
	if (job_pool.in_use == 0 && (!s || s->input_done || s->stopping))
		mxc__pool_destroy(&job_pool);
}

static void job_qname(const struct mxc_job *j, int q, char out[MXC_NAME_MAX + 32])
{
	concat_name(job_questions[q].prefix, j->domain, out);
}

static int job_ask(struct mxc_job *j, int q)
{
	char qname[MXC_NAME_MAX + 32];
	int r;

	job_qname(j, q, qname);
	if (strlen(qname) > MXC_NAME_MAX)
		return 0; /* the name cannot exist: nothing to ask */
	j->slots[q].job = j;
	j->slots[q].q = (uint8_t)q;
	/*
	 * The domain's own records are asked once per run (duplicates never
	 * reach a job), so caching or coalescing them would only cost. The
	 * implicit-MX addresses are cached: the host job asks for them again.
	 */
	r = mxc_resolver_query_flags(j->scan->resolver, qname, job_questions[q].type,
				     q <= Q_TLSRPT ? MXC_DNS_UNIQUE : 0, job_answer_cb,
				     &j->slots[q]);
	if (r)
		return r;
	j->asked[q] = true;
	j->pending++;
	return 0;
}

static int mx_cmp(const void *a, const void *b)
{
	const struct mxc_mx *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcmp(x->host, y->host);
}

/** Add an MX target unless it is already listed. */
static int job_add_mx(struct mxc_job *j, uint16_t pref, const char *host)
{
	unsigned max = j->scan->opts->max_mx;

	if (max == 0 || max > JOB_MX_HARD_MAX)
		max = JOB_MX_HARD_MAX;
	for (uint32_t i = 0; i < j->n_mx; i++) {
		if (strcmp(j->mx[i].host, host) == 0) {
			if (pref < j->mx[i].pref)
				j->mx[i].pref = pref;
			return 0;
		}
	}
	if (j->n_mx >= max) {
		j->flags |= MXC_DOM_MX_TRUNCATED;
		return 0;
	}
	j->mx[j->n_mx].host = arena_strdup(&j->arena, host);
	if (!j->mx[j->n_mx].host)
		return MXC_ENOMEM;
	j->mx[j->n_mx].pref = pref;
	j->n_mx++;
	return 0;
}

/**
 * Read the MX RRset (at the end of any CNAME chain) of a checked answer
 * into the job's MX list.
 * @return the number of MX RRs seen (null MX included), or a negative code
 */
static int job_read_mx(struct mxc_job *j, const uint8_t *msg, size_t len)
{
	uint8_t owner[MXC_DNS_NAME_WIRE_MAX], name[MXC_DNS_NAME_WIRE_MAX];
	size_t owner_len, name_len;
	bool cname = false, null_mx = false;
	struct mxc_dns_walk w;
	struct mxc_dns_rr rr;
	int seen = 0, r;

	r = answer_owner(msg, len, owner, &owner_len, &cname);
	if (r)
		return r;
	if (cname)
		j->flags |= MXC_DOM_CNAME;
	r = mxc_dns_walk_init(&w, msg, len);
	while (r == 0 && (r = mxc_dns_walk_next(&w, &rr)) == 1 && rr.section == 1) {
		char host[MXC_NAME_MAX + 2];

		r = 0;
		if (rr.type != LDNS_RR_TYPE_MX || !owner_is(msg, len, &rr, owner, owner_len))
			continue;
		seen++;
		if (mxc_dns_name_read(msg, len, rr.rdata + 2, name, &name_len, NULL) != 0 ||
		    mxc_dns_name_str(name, name_len, host, sizeof(host)) != 0)
			continue; /* an exchange we cannot represent: not followed */
		if (host[0] == '\0') {
			null_mx = true;
			continue;
		}
		r = job_add_mx(j, (uint16_t)(msg[rr.rdata] << 8 | msg[rr.rdata + 1]), host);
	}
	if (r < 0)
		return r;
	if (null_mx && j->n_mx > 0)
		j->flags |= MXC_DOM_NULL_MX_MIXED;
	else if (null_mx)
		j->mx_status = MXC_MX_NULL;
	qsort(j->mx, j->n_mx, sizeof(j->mx[0]), mx_cmp);
	return seen;
}

/** Attach to the host job of every MX host. */
static int job_attach_hosts(struct mxc_job *j)
{
	for (uint32_t i = 0; i < j->n_mx; i++) {
		int r = hostjob_attach(j->scan, j->mx[i].host, j);

		if (r < 0 && r != MXC_ECANCELED)
			return r;
		if (r == 1)
			j->hosts_pending++;
	}
	return 0;
}

/** The MX answer is in: decide the mail hosts. */
static int job_on_mx(struct mxc_job *j, const struct mxc_dns_answer *a)
{
	int seen;

	switch (a->status) {
	case MXC_DNS_TIMEOUT:
		j->mx_status = MXC_MX_TIMEOUT;
		return 0;
	case MXC_DNS_ERROR:
		j->mx_status = MXC_MX_SERVFAIL;
		return 0;
	case MXC_DNS_CANCELED:
		j->canceled = true;
		return 0;
	case MXC_DNS_ANSWER:
		break;
	}
	if (a->rcode == LDNS_RCODE_NXDOMAIN) {
		j->mx_status = MXC_MX_NXDOMAIN;
		return 0;
	}
	if (a->rcode != LDNS_RCODE_NOERROR) {
		j->mx_status = MXC_MX_SERVFAIL;
		return 0;
	}
	if (answer_check(a->wire, a->wire_len) != 0) {
		/* A well-formed header and question, then garbage. */
		j->mx_status = MXC_MX_SERVFAIL;
		return 0;
	}
	seen = job_read_mx(j, a->wire, a->wire_len);
	if (seen < 0)
		return seen;
	if (j->mx_status == MXC_MX_NULL)
		return 0;
	if (seen == 0) {
		/* NODATA: RFC 5321 section 5.1, the domain itself is the mail host. */
		int r;

		job_set_state(j, JOB_IMPLICIT);
		r = job_ask(j, Q_A);
		return r ? r : job_ask(j, Q_AAAA);
	}
	j->mx_status = MXC_MX_OK;
	job_set_state(j, JOB_HOSTS);
	return job_attach_hosts(j);
}

/** Both address answers for an MX-less domain are in. */
static int job_on_implicit(struct mxc_job *j)
{
	job_set_state(j, JOB_HOSTS);
	if (j->implicit_addrs == 0) {
		j->mx_status = MXC_MX_NO_MAIL;
		return 0;
	}
	j->mx_status = MXC_MX_IMPLICIT;
	{
		int r = job_add_mx(j, 0, j->domain);

		return r ? r : job_attach_hosts(j);
	}
}

/** Write the record (unless canceled) and leave the window. */
static void job_finish(struct mxc_job *j)
{
	struct mxc_scan *s = j->scan;
	struct mxc_raw_answer raws[Q__COUNT];
	uint32_t n_raw = 0;

	job_set_state(j, JOB_STORE);
	mxc_strmap_del(&s->active, j->domain);
	if (!j->canceled && !s->stopping) {
		struct mxc_domain_rec rec = {
			.domain = j->domain,
			.run_id = s->run.run_id,
			.scanned_at = mxc_wall_time(),
			.rank = j->rank,
			.mx_status = j->mx_status,
			.flags = j->flags,
			.n_mx = j->n_mx,
			.mx = j->mx,
		};
		int r;

		for (int q = 0; q < Q__COUNT; q++)
			if (j->asked[q] && j->raw[q].qname)
				raws[n_raw++] = j->raw[q];
		rec.n_raw = n_raw;
		rec.raw = raws;
		rec.sts = j->sts;
		/* The counter first, so that it lands in the batch of its record. */
		r = mxc_store_counter_add(s->store, "domains_done", 1);
		if (r == 0)
			r = mxc_store_domain_put(s->store, &rec);
		if (r)
			mxc__scan_fail(s, r, "writing a domain record");
		else {
			s->stats.done++;
			s->stats.by_status[j->mx_status]++;
		}
	}
	job_free(j);
	mxc__scan_job_done(s);
}

static void job_maybe_finish(struct mxc_job *j)
{
	if (j->pending == 0 && j->hosts_pending == 0 && j->state == JOB_HOSTS)
		job_finish(j);
	else if (j->pending == 0 && j->hosts_pending == 0 && j->canceled)
		job_finish(j);
}

static void job_host_done(struct mxc_job *j)
{
	j->hosts_pending--;
	job_maybe_finish(j);
}

/* ---- the MTA-STS policy fetch of a domain ------------------------ */

/* Keep the outcome of the fetch in the domain's record. */
static void job_keep_sts(struct mxc_job *j, const struct mxc_sts_rec *rec)
{
	struct mxc_buf b;

	mxc_buf_init(&b, MXC_RECORD_BLOB_MAX);
	if (mxc_sts_rec_encode(rec, &b) == 0 && b.len) {
		mxc_free(j->sts.data);
		j->sts.data = b.data;
		j->sts.len = (uint32_t)b.len;
		return;
	}
	mxc_buf_free(&b);
	mxc__scan_fail(j->scan, MXC_ENOMEM, "keeping a policy fetch");
}

/* An outcome without a fetch (no address, blocklisted, could not start). */
static void job_sts_outcome(struct mxc_job *j, enum mxc_sts_ferr e, const char *detail)
{
	struct mxc_sts_rec rec = { .error = (uint8_t)e, .fetched_at = mxc_wall_time() };

	snprintf(rec.detail, sizeof(rec.detail), "%s", detail);
	job_keep_sts(j, &rec);
}

static void job_sts_end(struct mxc_job *j)
{
	j->pending--;
	j->scan->stats.sts_done++;
	if (!j->in_cb)
		job_maybe_finish(j);
}

static void sts_done(const struct mxc_sts_fetch_result *res, void *arg)
{
	struct mxc_job *j = arg;

	if (j->sts_permitted)
		mxc_gate_leave(j->scan->gate, (const struct sockaddr *)&j->sts_req.addr);
	if (res->error == MXC_STS_FETCH_CANCELED || j->scan->stopping) {
		j->canceled = true;
	} else {
		struct mxc_sts_rec rec = {
			.error = (uint8_t)res->error,
			.http_code = res->http_code > 0 && res->http_code < 1000 ?
					     (uint16_t)res->http_code : 0,
			.elapsed_ms = res->elapsed_ms,
			.fetched_at = mxc_wall_time(),
			.body = res->body,
			.body_len = res->body ? res->body_len : 0,
		};

		snprintf(rec.detail, sizeof(rec.detail), "%s", res->detail ? res->detail : "");
		job_keep_sts(j, &rec);
	}
	job_sts_end(j);
}

static void sts_go(struct mxc_gate_req *req, enum mxc_gate_verdict v)
{
	struct mxc_job *j = mxc_container_of(req, struct mxc_job, sts_req);
	struct mxc_scan *s = j->scan;
	struct sockaddr_storage ok[MXC_STS_FETCH_MAX_ADDRS];
	size_t n = 0;
	int r;

	if (v == MXC_GATE_CANCELED) {
		j->canceled = true;
		job_sts_end(j);
		return;
	}
	/* The policy host by name, or every one of its addresses, blocked. */
	for (size_t i = 0; v == MXC_GATE_GO && i < j->n_sts_addrs; i++)
		if (!s->blocklist ||
		    !mxc_blocklist_addr(s->blocklist, (const struct sockaddr *)&j->sts_addrs[i]))
			ok[n++] = j->sts_addrs[i];
	if (v == MXC_GATE_BLOCKED || n == 0) {
		if (v == MXC_GATE_GO)
			mxc_gate_leave(s->gate, (const struct sockaddr *)&req->addr);
		job_sts_outcome(j, MXC_STS_FETCH_BLOCKED, "blocklist");
		job_sts_end(j);
		return;
	}
	j->sts_permitted = true;
	r = mxc_sts_fetch_start(s->sts, j->domain, ok, n, sts_done, j);
	if (r) {
		mxc_gate_leave(s->gate, (const struct sockaddr *)&req->addr);
		j->sts_permitted = false;
		job_sts_outcome(j, MXC_STS_FETCH_INTERNAL, mxc_strerror(r));
		job_sts_end(j);
	}
}

/* The addresses of the policy host, from the answers the job kept. */
static void job_sts_addrs(struct mxc_job *j)
{
	for (int q = Q_STS_A; q <= Q_STS_AAAA; q++) {
		const struct mxc_raw_answer *raw = &j->raw[q];
		ldns_pkt *pkt = NULL;
		const ldns_rr_list *ans;

		if (!raw->wire || raw->rcode != LDNS_RCODE_NOERROR ||
		    ldns_wire2pkt(&pkt, raw->wire, raw->wire_len) != LDNS_STATUS_OK) {
			if (pkt)
				ldns_pkt_free(pkt);
			continue;
		}
		ans = ldns_pkt_answer(pkt);
		for (size_t i = 0; i < ldns_rr_list_rr_count(ans) &&
				   j->n_sts_addrs < MXC_ARRAY_SIZE(j->sts_addrs);
		     i++) {
			const ldns_rr *rr = ldns_rr_list_rr(ans, i);
			const ldns_rdf *rd = ldns_rr_rd_count(rr) ? ldns_rr_rdf(rr, 0) : NULL;
			struct sockaddr_storage *ss = &j->sts_addrs[j->n_sts_addrs];

			memset(ss, 0, sizeof(*ss));
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A && rd && ldns_rdf_size(rd) == 4) {
				struct sockaddr_in *sin = (struct sockaddr_in *)ss;

				sin->sin_family = AF_INET;
				sin->sin_port = htons(j->scan->opts->sts.port);
				memcpy(&sin->sin_addr, ldns_rdf_data(rd), 4);
				j->n_sts_addrs++;
			} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA && rd &&
				   ldns_rdf_size(rd) == 16) {
				struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

				sin6->sin6_family = AF_INET6;
				sin6->sin6_port = htons(j->scan->opts->sts.port);
				memcpy(&sin6->sin6_addr, ldns_rdf_data(rd), 16);
				j->n_sts_addrs++;
			}
		}
		ldns_pkt_free(pkt);
	}
}

/* Both address answers of the policy host are in: fetch through the gate. */
static void job_sts_start(struct mxc_job *j)
{
	if (!j->scan->gate || j->scan->stopping) {
		j->canceled = true; /* stopping: the domain is scanned again later */
		return;
	}
	job_sts_addrs(j);
	j->scan->stats.sts_started++;
	if (j->n_sts_addrs == 0) {
		job_sts_outcome(j, MXC_STS_FETCH_DNS, "no address for the policy host");
		j->scan->stats.sts_done++;
		return;
	}
	j->pending++;
	snprintf(j->sts_host, sizeof(j->sts_host), "mta-sts.%s", j->domain);
	memcpy(&j->sts_req.addr, &j->sts_addrs[0], sizeof(j->sts_req.addr));
	j->sts_req.name = j->sts_host;
	j->sts_req.go = sts_go;
	mxc_gate_enter(j->scan->gate, &j->sts_req);
}

/* The _mta-sts answer: a valid record (RFC 8461 3.1) is worth a fetch. */
static int job_on_mtasts(struct mxc_job *j, const struct mxc_dns_answer *a)
{
	struct mxc_txtset t;
	struct mxc_sts_txt sts;
	int r, valid = 0;

	if (!j->scan->sts || a->status != MXC_DNS_ANSWER)
		return 0;
	mxc_txtset_init(&t);
	r = mxc_txtset_from_wire(&t, a->wire, a->wire_len, a->rcode);
	if (r == 1 && mxc_txtrec_sts(t.recs, t.n, &sts) == 0)
		valid = sts.status == MXC_TXTREC_VALID;
	mxc_txtset_free(&t);
	if (r < 0)
		return r;
	if (!valid)
		return 0;
	r = job_ask(j, Q_STS_A);
	return r ? r : job_ask(j, Q_STS_AAAA);
}

static void job_val_cb(void *arg, struct mxc_val_result res)
{
	struct job_slot *slot = arg;
	struct mxc_job *j = slot->job;

	raw_verdict(&j->raw[slot->q], res);
	j->pending--;
	if (!j->in_cb)
		job_maybe_finish(j);
}

static void job_answer_cb(void *arg, const struct mxc_dns_answer *a)
{
	struct job_slot *slot = arg;
	struct mxc_job *j = slot->job;
	char qname[MXC_NAME_MAX + 32];
	int r = 0;

	j->pending--;
	j->in_cb = true;
	if (a->status == MXC_DNS_CANCELED) {
		j->canceled = true;
	} else {
		job_qname(j, slot->q, qname);
		r = raw_keep(&j->raw[slot->q], qname, job_questions[slot->q].type, a, &j->arena);
	}
	if (r == 0 && !j->canceled) {
		if ((slot->q == Q_A || slot->q == Q_AAAA) && a->status == MXC_DNS_ANSWER &&
		    a->rcode == LDNS_RCODE_NOERROR)
			j->implicit_addrs += count_rrs(a->wire, a->wire_len,
						       job_questions[slot->q].type);
		if (slot->q == Q_MX)
			r = job_on_mx(j, a);
		else if (slot->q == Q_MTASTS)
			r = job_on_mtasts(j, a);
		else if ((slot->q == Q_STS_A || slot->q == Q_STS_AAAA) && j->raw[Q_STS_A].qname &&
			 j->raw[Q_STS_AAAA].qname)
			job_sts_start(j);
		else if (j->state == JOB_IMPLICIT && j->raw[Q_A].qname && j->raw[Q_AAAA].qname &&
			 (slot->q == Q_A || slot->q == Q_AAAA))
			r = job_on_implicit(j);
	}
	if (r) {
		mxc__scan_fail(j->scan, r, "gathering a domain's answers");
		j->canceled = true;
	}
	if (slot->q == Q_MX && j->state == JOB_QUERY && !j->canceled)
		job_set_state(j, JOB_HOSTS); /* MX settled without hosts */
	/* The domain's dnssec column is the verdict on its MX answer (or on
	 * the denial that there is none). */
	if (r == 0 && !j->canceled && slot->q == Q_MX)
		raw_validate(j->scan, &j->raw[Q_MX], a, job_val_cb, slot, &j->pending);
	j->in_cb = false;
	job_maybe_finish(j);
}

int mxc__job_start(struct mxc_scan *s, const struct mxc_input_item *item)
{
	struct mxc_job *j = job_alloc();
	int r = 0;

	if (!j)
		return MXC_ENOMEM;
	j->scan = s;
	j->rank = item->rank;
	memcpy(j->domain, item->name, strlen(item->name) + 1);
	j->state = JOB_QUERY;
	r = mxc_strmap_put(&s->active, j->domain, j);
	if (r) {
		job_free(j);
		return r;
	}
	s->inflight++;
	s->stats.started++;
	for (int q = Q_MX; q <= Q_TLSRPT && r == 0; q++)
		r = job_ask(j, q);
	if (r) {
		/* Some questions may be out; the job ends when they return. */
		j->canceled = true;
		mxc__scan_fail(s, r, "asking a question");
		if (j->pending == 0)
			job_finish(j);
		return 0;
	}
	return 0;
}
