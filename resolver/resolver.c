/**
 * \file
 * The resolver's core: the UDP socket pool, query IDs, strict matching of
 * responses, per-upstream caps with wait queues, timeouts and retries, and
 * delivery to the waiters of a question.
 *
 * Why this shape. A census pushes tens of thousands of questions per second
 * through one thread, so every per-query step is O(1) and allocation-free once
 * the pools are warm: a question is found by (socket, ID) through a 65536-slot
 * array per socket, by (name, type) through a hash table, and its timeout is an
 * entry in a FIFO. All attempts of the same level (first try, first retry, ...,
 * TCP) have the same timeout, so the FIFO of a level is sorted by deadline
 * without any sorting, and one uv_timer armed for the earliest head serves
 * every question. This is massdns's timed ring reduced to what a fixed set of
 * timeouts needs.
 *
 * A response is trusted only when its socket and ID name a question in flight,
 * its source address and port are the upstream that question was sent to, it
 * parses (ldns), it is a response to a QUERY, and its question section equals
 * ours. Everything else is counted and dropped, and the question keeps
 * waiting: a spoofed or broken datagram can cost at most a retry, never a
 * wrong answer. This follows unbound's outside_network.c.
 *
 * Callbacks may call back into the resolver (ask new questions, even close
 * it), so a question is taken out of every structure before its waiters are
 * called, and memory is only freed once libuv has closed every handle.
 */
/* sendmmsg(2) is a GNU extension. */
#define _GNU_SOURCE
#include "resolver/resolver_internal.h"

#include <errno.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

/* A queued UDP send, used only when the socket cannot send at once. */
struct sendreq {
	uv_udp_send_t req;
	struct mxc_resolver *r;
	uint8_t buf[MXC__QWIRE_MAX];
};

/* Retries are bounded so that timeout_ms << retries cannot overflow. */
#define MAX_RETRIES 10
#define MAX_SOCKETS 256
/* Leave room in a socket's ID space so that random probing stays short. */
#define SOCK_ID_SOFT_CAP 49152
#define ID_PROBES 16
/* recvmmsg reads in 64 KiB slots (libuv's UV__UDP_DGRAM_MAXSIZE). */
#define DGRAM_SLOT 65536
#define MMSG_SLOTS 8
#define GARBAGE_LOG_INTERVAL_MS 10000

static const char *const status_names[] = {
	[MXC_DNS_ANSWER] = "answer",
	[MXC_DNS_TIMEOUT] = "timeout",
	[MXC_DNS_ERROR] = "error",
	[MXC_DNS_CANCELED] = "canceled",
};

const char *mxc_dns_status_name(enum mxc_dns_status s)
{
	if ((unsigned)s < MXC_ARRAY_SIZE(status_names))
		return status_names[s];
	return "?";
}

static const char *const qstate_names[] = {
	[MXC__Q_NEW] = "new",   [MXC__Q_QUEUED] = "queued", [MXC__Q_UDP] = "udp",
	[MXC__Q_TCP] = "tcp",   [MXC__Q_DONE] = "done",
};

const char *mxc__qstate_name(enum mxc__qstate s)
{
	if ((unsigned)s < MXC_ARRAY_SIZE(qstate_names))
		return qstate_names[s];
	return "?";
}

/* The only way to change a question's state. */
static void q_set_state(struct mxc__question *q, enum mxc__qstate s)
{
	if (mxc_log_get_level() >= MXC_LOG_DEBUG && q->state != s)
		mxc_log(MXC_LOG_DEBUG, "resolver: question %p (type %u) %s -> %s", (void *)q,
			(unsigned)q->qtype, mxc__qstate_name(q->state), mxc__qstate_name(s));
	q->state = (uint8_t)s;
}

void mxc_resolver_opts_default(struct mxc_resolver_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->qps = 0;
	o->max_inflight = 2000;
	o->n_sockets = 4;
	o->timeout_ms = 1500;
	o->retries = 2;
	o->tcp_timeout_ms = 5000;
	o->cache_entries = 200000;
	o->cache_max_ttl = 3600;
	o->cache_neg_ttl = 300;
	o->cache_servfail_ttl = 30;
	o->udp_recvmmsg = true;
}

/* Lists. */

void mxc__list_init(struct mxc__list *l)
{
	l->prev = l->next = l;
}

bool mxc__list_empty(const struct mxc__list *l)
{
	return l->next == l;
}

void mxc__list_push_back(struct mxc__list *l, struct mxc__list *n)
{
	n->prev = l->prev;
	n->next = l;
	l->prev->next = n;
	l->prev = n;
}

void mxc__list_push_front(struct mxc__list *l, struct mxc__list *n)
{
	n->next = l->next;
	n->prev = l;
	l->next->prev = n;
	l->next = n;
}

void mxc__list_del(struct mxc__list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

#define q_of_link(l) mxc_container_of(l, struct mxc__question, link)
#define q_of_hnode(n) mxc_container_of(n, struct mxc__question, hnode)

/* Randomness: IDs and socket choice come from a buffered CSPRNG. */

static void rnd_bytes(struct mxc_resolver *r, void *out, size_t n)
{
	uint8_t *o = out;

	while (n--) {
		if (r->rnd_pos >= sizeof(r->rnd)) {
			mxc_random_bytes(r->rnd, sizeof(r->rnd));
			r->rnd_pos = 0;
		}
		*o++ = r->rnd[r->rnd_pos];
		/* Never hand out the same byte twice. */
		r->rnd[r->rnd_pos++] = 0;
	}
}

static uint16_t rnd16(struct mxc_resolver *r)
{
	uint8_t b[2];

	rnd_bytes(r, b, sizeof(b));
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* Keys and names. */

uint64_t mxc__key_hash(const struct mxc_resolver *r, const uint8_t *name, size_t len,
		       uint16_t type)
{
	/*
	 * FNV-1a seeded per resolver, then a murmur3 finalizer: names come
	 * from the input lists, and a random seed keeps a crafted list from
	 * piling every name into one bucket.
	 */
	uint64_t h = 0xcbf29ce484222325ULL ^ r->hash_seed;

	for (size_t i = 0; i < len; i++) {
		h ^= name[i];
		h *= 0x100000001b3ULL;
	}
	h ^= type;
	h *= 0x100000001b3ULL;
	return mxc_hash_mix64(h);
}

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Names with escapes (rare: input names are normalised) go through ldns. */
static int name_to_wire_ldns(const char *name, uint8_t *out, size_t *len)
{
	ldns_rdf *rdf = NULL;
	size_t n;
	const uint8_t *d;

	if (ldns_str2rdf_dname(&rdf, name) != LDNS_STATUS_OK || !rdf)
		return MXC_ENAME;
	n = ldns_rdf_size(rdf);
	d = ldns_rdf_data(rdf);
	if (n == 0 || n > MXC_DNS_NAME_WIRE_MAX) {
		ldns_rdf_deep_free(rdf);
		return MXC_ENAME;
	}
	/* Length octets are <= 63, so lowering every byte only touches letters. */
	for (size_t i = 0; i < n; i++)
		out[i] = lower(d[i]);
	*len = n;
	ldns_rdf_deep_free(rdf);
	return 0;
}

/*
 * Every question's name passes through here, so plain names (no escapes)
 * are converted in place rather than through an ldns_rdf (two allocations).
 * The rules are ldns_str2rdf_dname's: "." is the root, the final dot is
 * optional, labels of 1 to 63 bytes, at most 255 bytes in all.
 */
int mxc__name_to_wire(const char *name, uint8_t *out, size_t *len)
{
	const char *p = name;
	size_t o = 0;

	if (!name || !*name)
		return MXC_ENAME;
	if (strchr(name, '\\'))
		return name_to_wire_ldns(name, out, len);
	if (name[0] == '.' && name[1] == '\0') {
		out[0] = 0;
		*len = 1;
		return 0;
	}
	while (*p) {
		size_t lab = o++, n = 0;

		while (*p && *p != '.') {
			/* Room must stay for the root label after this byte. */
			if (n == 63 || o >= MXC_DNS_NAME_WIRE_MAX - 1)
				return MXC_ENAME;
			out[o++] = lower((uint8_t)*p++);
			n++;
		}
		if (n == 0)
			return MXC_ENAME; /* a leading dot, or two in a row */
		out[lab] = (uint8_t)n;
		if (*p == '.')
			p++;
	}
	out[o++] = 0;
	*len = o;
	return 0;
}

static bool q_eq(const struct mxc__hnode *n, const void *key)
{
	const struct mxc__question *q = q_of_hnode(n);
	const struct mxc__qkey *k = key;

	return q->qtype == k->type && q->qname_len == k->len &&
	       memcmp(q->qwire + 12, k->name, k->len) == 0;
}

/*
 * The query is built by hand around the ldns-encoded name: the header and
 * the OPT record are fixed bytes, and this costs nothing per retry (only the
 * ID is patched). RD=1, CD when asked; EDNS0 payload 1232, version 0, DO=1.
 */
static void build_query(struct mxc__question *q, const uint8_t *name, size_t len,
			uint16_t type, bool cd)
{
	static const uint8_t hdr[12] = { 0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1 };
	static const uint8_t opt[11] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0 };
	uint8_t *w = q->qwire;
	size_t p = 12;

	memcpy(w, hdr, sizeof(hdr));
	if (cd)
		w[3] |= 0x10;
	memcpy(w + p, name, len);
	p += len;
	w[p++] = (uint8_t)(type >> 8);
	w[p++] = (uint8_t)type;
	w[p++] = 0;
	w[p++] = LDNS_RR_CLASS_IN;
	memcpy(w + p, opt, sizeof(opt));
	p += sizeof(opt);
	q->qname_len = (uint8_t)len;
	q->qwire_len = (uint16_t)p;
	q->qtype = type;
}

/* Per-socket ID registration. */

static int pick_id(struct mxc_resolver *r, struct mxc__upstream *u, struct mxc__question *q)
{
	unsigned start = rnd16(r) % u->sock_count;

	for (unsigned i = 0; i < u->sock_count; i++) {
		struct mxc__sock *s = &r->socks[u->sock_base + (start + i) % u->sock_count];

		if (s->inflight >= SOCK_ID_SOFT_CAP)
			continue;
		for (int t = 0; t < ID_PROBES; t++) {
			uint16_t id = rnd16(r);

			if (!s->ids[id]) {
				s->ids[id] = q;
				s->inflight++;
				q->sock = s->idx;
				q->id = id;
				q->registered = true;
				return 0;
			}
		}
	}
	return MXC_EFULL;
}

static void unregister(struct mxc_resolver *r, struct mxc__question *q)
{
	struct mxc__sock *s;

	/*
	 * Leaving the wire before the flush (a forged answer that guessed a
	 * fresh ID, say): the datagram must not be sent from freed memory.
	 */
	if (q->in_outq) {
		for (unsigned i = 0; i < r->outq_len; i++) {
			if (r->outq[i] == q) {
				r->outq[i] = r->outq[--r->outq_len];
				break;
			}
		}
		q->in_outq = false;
	}
	if (!q->registered)
		return;
	s = &r->socks[q->sock];
	s->ids[q->id] = NULL;
	s->inflight--;
	q->registered = false;
}

/* Timeouts: one FIFO per attempt level, one timer for all. */

static void timeout_cb(uv_timer_t *t);

static void arm_timeout(struct mxc_resolver *r, uint64_t due)
{
	uint64_t now = uv_now(r->loop);

	r->timer_due = due;
	uv_timer_start(&r->timeout_timer, timeout_cb, due > now ? due - now : 0, 0);
}

static void rearm_timeout(struct mxc_resolver *r)
{
	uint64_t due = 0;

	for (unsigned l = 0; l < r->n_levels; l++) {
		if (!mxc__list_empty(&r->tfifo[l])) {
			uint64_t d = q_of_link(r->tfifo[l].next)->deadline;

			if (due == 0 || d < due)
				due = d;
		}
	}
	if (due)
		arm_timeout(r, due);
	else if (r->timer_due) {
		uv_timer_stop(&r->timeout_timer);
		r->timer_due = 0;
	}
}

void mxc__timeout_add(struct mxc_resolver *r, struct mxc__question *q, unsigned level)
{
	q->level = (uint8_t)level;
	q->deadline = uv_now(r->loop) + r->tdur[level];
	mxc__list_push_back(&r->tfifo[level], &q->link);
	if (r->timer_due == 0 || q->deadline < r->timer_due)
		arm_timeout(r, q->deadline);
}

static void timeout_cb(uv_timer_t *t)
{
	struct mxc_resolver *r = mxc_container_of(t, struct mxc_resolver, timeout_timer);
	uint64_t now = uv_now(r->loop);

	r->timer_due = 0;
	for (unsigned l = 0; l < r->n_levels && !r->closing; l++) {
		while (!r->closing && !mxc__list_empty(&r->tfifo[l])) {
			struct mxc__question *q = q_of_link(r->tfifo[l].next);

			if (q->deadline > now)
				break;
			mxc__attempt_failed(r, q, true);
		}
	}
	if (!r->closing)
		rearm_timeout(r);
}

/* Caps: a token bucket and an in-flight count per upstream. */

static void token_cb(uv_timer_t *t);

static void refill(struct mxc_resolver *r, struct mxc__upstream *u)
{
	uint64_t now = uv_now(r->loop);

	if (r->opts.qps == 0 || now <= u->refilled_at)
		return;
	u->tokens += (int64_t)(now - u->refilled_at) * r->opts.qps;
	if (u->tokens > u->tokens_max)
		u->tokens = u->tokens_max;
	u->refilled_at = now;
}

static bool has_capacity(struct mxc_resolver *r, struct mxc__upstream *u)
{
	if (u->inflight >= r->opts.max_inflight)
		return false;
	if (r->opts.qps == 0)
		return true;
	refill(r, u);
	return u->tokens >= 1000;
}

static void take_token(struct mxc_resolver *r, struct mxc__upstream *u)
{
	if (r->opts.qps)
		u->tokens -= 1000;
}

/* Wake up when @p u will have a token again. */
static void arm_token_timer(struct mxc_resolver *r, struct mxc__upstream *u)
{
	uint64_t wait;

	if (r->token_armed || r->opts.qps == 0 || r->closing)
		return;
	wait = u->tokens >= 1000 ? 1 : (uint64_t)(1000 - u->tokens + r->opts.qps - 1) / r->opts.qps;
	if (wait == 0)
		wait = 1;
	r->token_armed = true;
	uv_timer_start(&r->token_timer, token_cb, wait, 0);
}

static void send_attempt(struct mxc_resolver *r, struct mxc__question *q);

/* Send what the caps of @p u allow from its queue, in FIFO order. */
static void drain(struct mxc_resolver *r, struct mxc__upstream *u)
{
	/* Sending can finish questions whose callbacks ask again: no recursion. */
	if (u->draining)
		return;
	u->draining = true;
	while (!r->closing && !mxc__list_empty(&u->queue) && has_capacity(r, u)) {
		struct mxc__question *q = q_of_link(u->queue.next);

		mxc__list_del(&q->link);
		u->queued--;
		r->st.queued--;
		q_set_state(q, MXC__Q_NEW);
		take_token(r, u);
		send_attempt(r, q);
	}
	u->draining = false;
	if (!r->closing && !mxc__list_empty(&u->queue) && u->inflight < r->opts.max_inflight)
		arm_token_timer(r, u);
}

static void token_cb(uv_timer_t *t)
{
	struct mxc_resolver *r = mxc_container_of(t, struct mxc_resolver, token_timer);

	r->token_armed = false;
	for (size_t i = 0; i < r->n_ups && !r->closing; i++)
		drain(r, &r->ups[i]);
}

/* Send @p q now if its upstream's caps allow, else queue it. */
static void dispatch(struct mxc_resolver *r, struct mxc__question *q)
{
	struct mxc__upstream *u = &r->ups[q->upstream];

	if (mxc__list_empty(&u->queue) && has_capacity(r, u)) {
		take_token(r, u);
		send_attempt(r, q);
		return;
	}
	if (q->priority)
		mxc__list_push_front(&u->queue, &q->link);
	else
		mxc__list_push_back(&u->queue, &q->link);
	u->queued++;
	r->st.queued++;
	q_set_state(q, MXC__Q_QUEUED);
	if (u->inflight < r->opts.max_inflight)
		arm_token_timer(r, u);
}

/* Sending. */

/*
 * The upstream a socket of @p family is connected to: the only one of that
 * family, if there is only one (the usual census set-up, one local
 * resolver). A connected socket skips the route lookup and the address copy
 * of every datagram it sends, and the kernel drops datagrams from any other
 * source before they cost us anything. NULL when several upstreams share
 * the family's sockets.
 */
static const struct mxc__upstream *sole_upstream(const struct mxc_resolver *r, int family)
{
	const struct mxc__upstream *found = NULL;

	for (size_t i = 0; i < r->n_ups; i++) {
		if (r->ups[i].cfg.addr.ss_family != family)
			continue;
		if (found)
			return NULL;
		found = &r->ups[i];
	}
	return found;
}

static void send_cb(uv_udp_send_t *req, int status)
{
	struct sendreq *sr = mxc_container_of(req, struct sendreq, req);

	if (status < 0 && status != UV_ECANCELED)
		mxc_log_debug("resolver: queued send failed: %s", uv_strerror(status));
	mxc__pool_put(&sr->r->spool, sr);
}

/*
 * Send one datagram now, with uv_udp_try_send; when the socket buffer is
 * full, hand a copy to libuv's own send queue. A failure is treated like a
 * lost datagram: the attempt times out and is retried.
 */
static void send_now(struct mxc_resolver *r, struct mxc__question *q)
{
	struct mxc__upstream *u = &r->ups[q->upstream];
	const struct sockaddr *sa = (const struct sockaddr *)&u->cfg.addr;
	struct mxc__sock *s = &r->socks[q->sock];
	uv_buf_t buf = uv_buf_init((char *)q->qwire, q->qwire_len);
	int rc;

	if (s->connected)
		sa = NULL; /* libuv refuses an address on a connected socket */
	rc = uv_udp_try_send(&s->udp, &buf, 1, sa);
	if (rc >= 0)
		return;
	if (rc == UV_EAGAIN || rc == UV_ENOBUFS) {
		/* The socket is busy: queue a copy, the question may change ID. */
		struct sendreq *sr = mxc__pool_get(&r->spool);

		if (sr) {
			sr->r = r;
			memcpy(sr->buf, q->qwire, q->qwire_len);
			buf = uv_buf_init((char *)sr->buf, q->qwire_len);
			rc = uv_udp_send(&sr->req, &s->udp, &buf, 1, sa, send_cb);
			if (rc == 0)
				return;
			mxc__pool_put(&r->spool, sr);
		}
	}
	mxc_log_debug("resolver: send to %s failed: %s", u->name, uv_strerror(rc));
}

/*
 * Send the gathered datagrams: one sendmmsg(2) per socket instead of one
 * sendmsg(2) per datagram. Besides the system calls, this wakes the server
 * once per burst rather than once per query. What sendmmsg does not take
 * goes through send_now. The questions stay valid until this runs: an
 * attempt cannot end (answer, timeout, close) within the loop iteration that
 * started it, and closing flushes first.
 */
static void flush_sends(struct mxc_resolver *r)
{
	struct mmsghdr msgs[MXC__OUTQ_MAX];
	struct iovec iov[MXC__OUTQ_MAX];
	struct mxc__question *batch[MXC__OUTQ_MAX];
	unsigned n_left = r->outq_len;

	r->outq_len = 0;
	while (n_left > 0) {
		unsigned sock = r->outq[0]->sock, n = 0, keep = 0;
		bool connected = r->socks[sock].connected;
		uv_os_fd_t fd;
		int sent = -1;

		/* Take the datagrams of the first entry's socket; keep the rest. */
		for (unsigned i = 0; i < n_left; i++) {
			struct mxc__question *q = r->outq[i];

			if (q->sock != sock) {
				r->outq[keep++] = q;
				continue;
			}
			q->in_outq = false;
			batch[n] = q;
			iov[n].iov_base = q->qwire;
			iov[n].iov_len = q->qwire_len;
			memset(&msgs[n], 0, sizeof(msgs[n]));
			if (!connected) {
				msgs[n].msg_hdr.msg_name = &r->ups[q->upstream].cfg.addr;
				msgs[n].msg_hdr.msg_namelen = r->ups[q->upstream].cfg.addrlen;
			}
			msgs[n].msg_hdr.msg_iov = &iov[n];
			msgs[n].msg_hdr.msg_iovlen = 1;
			n++;
		}
		n_left = keep;
		if (uv_fileno((uv_handle_t *)&r->socks[sock].udp, &fd) == 0) {
			do
				sent = sendmmsg(fd, msgs, n, MSG_DONTWAIT);
			while (sent < 0 && errno == EINTR);
		}
		for (unsigned i = sent > 0 ? (unsigned)sent : 0; i < n; i++)
			send_now(r, batch[i]);
	}
}

static void flush_check_cb(uv_check_t *h)
{
	struct mxc_resolver *r = mxc_container_of(h, struct mxc_resolver, flush_check);

	if (r->outq_len)
		flush_sends(r);
}

static void flush_prepare_cb(uv_prepare_t *h)
{
	struct mxc_resolver *r = mxc_container_of(h, struct mxc_resolver, flush_prepare);

	if (r->outq_len)
		flush_sends(r);
}

/*
 * Put @p q on the wire to its current upstream: register an ID and gather
 * the datagram for the next flush. A local failure (no free ID) is treated
 * like a lost datagram: the attempt simply times out and is retried. That
 * keeps every callback off the caller's stack.
 */
static void send_attempt(struct mxc_resolver *r, struct mxc__question *q)
{
	struct mxc__upstream *u = &r->ups[q->upstream];

	q_set_state(q, MXC__Q_UDP);
	u->inflight++;
	r->st.inflight++;
	r->st.sent++;
	mxc__timeout_add(r, q, q->attempt);
	if (pick_id(r, u, q) != 0) {
		mxc_log_warn("resolver: no free query ID on any socket for %s; "
			     "lower the in-flight caps", u->name);
		return;
	}
	q->qwire[0] = (uint8_t)(q->id >> 8);
	q->qwire[1] = (uint8_t)q->id;
	q->in_outq = true;
	r->outq[r->outq_len++] = q;
	if (r->outq_len == MXC__OUTQ_MAX)
		flush_sends(r);
}

/* Take @p q off the wire: FIFO, ID, TCP exchange, in-flight slot. */
static void leave_wire(struct mxc_resolver *r, struct mxc__question *q)
{
	struct mxc__upstream *u = &r->ups[q->upstream];

	mxc__list_del(&q->link);
	unregister(r, q);
	if (q->state == MXC__Q_TCP)
		mxc__tcp_abort(r, q);
	u->inflight--;
	r->st.inflight--;
	q_set_state(q, MXC__Q_NEW);
}

/* Take @p q out of every structure, so that callbacks cannot find it. */
static void detach(struct mxc_resolver *r, struct mxc__question *q)
{
	switch (q->state) {
	case MXC__Q_QUEUED:
		mxc__list_del(&q->link);
		r->ups[q->upstream].queued--;
		r->st.queued--;
		break;
	case MXC__Q_UDP:
	case MXC__Q_TCP:
		leave_wire(r, q);
		break;
	default:
		break;
	}
	if (mxc__hnode_linked(&q->hnode))
		mxc__htab_remove(&r->questions, &q->hnode);
	q_set_state(q, MXC__Q_DONE);
}

/* Detach @p q, call every waiter once with @p a, release @p q. */
static void finish(struct mxc_resolver *r, struct mxc__question *q, struct mxc_dns_answer *a)
{
	struct mxc__upstream *u = &r->ups[q->upstream];
	struct mxc__waiter *w;

	detach(r, q);
	w = q->waiters;
	q->waiters = NULL;
	while (w) {
		struct mxc__waiter *next = w->next;

		w->cb(w->arg, a);
		mxc__pool_put(&r->wpool, w);
		w = next;
	}
	mxc__pool_put(&r->qpool, q);
	if (!r->closing)
		drain(r, u);
}

static void finish_status(struct mxc_resolver *r, struct mxc__question *q,
			  enum mxc_dns_status status)
{
	struct mxc_dns_answer a;

	memset(&a, 0, sizeof(a));
	a.status = status;
	finish(r, q, &a);
}

/*
 * An upstream that stops answering must be named: a census against a dead
 * resolver would otherwise just fill the store with timeouts. Warn once a
 * run of timeouts with no answer in between is long enough to be no accident,
 * and again at most every GARBAGE_LOG_INTERVAL_MS while it lasts.
 */
#define SILENCE_WARN_AFTER 20

static void note_silence(struct mxc_resolver *r, struct mxc__upstream *u)
{
	uint64_t now = uv_now(r->loop);

	u->silent_run++;
	if (u->silent_run < SILENCE_WARN_AFTER)
		return;
	if (u->silence_logged && now - u->silence_logged < GARBAGE_LOG_INTERVAL_MS)
		return;
	u->silence_logged = now ? now : 1;
	mxc_log_warn("resolver %s: %llu questions in a row timed out with no answer "
		     "(is it running and reachable?)",
		     u->name, (unsigned long long)u->silent_run);
}

void mxc__attempt_failed(struct mxc_resolver *r, struct mxc__question *q, bool timed_out)
{
	struct mxc__upstream *u = &r->ups[q->upstream];

	if (timed_out) {
		r->st.timeouts++;
		note_silence(r, u);
	}
	leave_wire(r, q);
	if (q->attempt < r->opts.retries) {
		q->attempt++;
		q->upstream = (uint16_t)((q->upstream + 1) % r->n_ups);
		r->st.retries++;
		dispatch(r, q);
	} else if (q->saw_garbage) {
		finish_status(r, q, MXC_DNS_ERROR);
	} else {
		r->st.gave_up++;
		finish_status(r, q, MXC_DNS_TIMEOUT);
	}
	if (!r->closing)
		drain(r, u);
}

/* Receiving and matching. */

static bool addr_eq(const struct sockaddr *a, const struct mxc_upstream_cfg *u)
{
	if (a->sa_family != u->addr.ss_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)&u->addr;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&u->addr;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0 &&
		       (y->sin6_scope_id == 0 || x->sin6_scope_id == y->sin6_scope_id);
	}
	return false;
}

/** Lazily parsed response (see mxc_dns_answer_pkt). */
struct mxc__lazy_pkt {
	const uint8_t *wire;
	size_t len;
	ldns_pkt *pkt;
	bool tried;
};

const ldns_pkt *mxc_dns_answer_pkt(const struct mxc_dns_answer *a)
{
	struct mxc__lazy_pkt *l = a ? a->lazy : NULL;

	if (!l || a->status != MXC_DNS_ANSWER)
		return NULL;
	if (!l->tried) {
		l->tried = true;
		if (ldns_wire2pkt(&l->pkt, l->wire, l->len) != LDNS_STATUS_OK) {
			if (l->pkt)
				ldns_pkt_free(l->pkt);
			l->pkt = NULL;
		}
	}
	return l->pkt;
}

static void lazy_free(struct mxc__lazy_pkt *l)
{
	if (l->pkt)
		ldns_pkt_free(l->pkt);
	l->pkt = NULL;
}

/* Reading answers straight from the wire (see resolver.h). */

/* More pointers than labels a name can have means a loop. */
#define NAME_MAX_POINTERS 128

int mxc_dns_name_parse(const uint8_t *msg, size_t len, size_t pos, unsigned flags,
		       uint8_t *out, size_t *out_len, unsigned *labels, size_t *end)
{
	size_t o = 0, seg = pos;
	bool jumped = false;
	unsigned hops = 0, nl = 0;

	for (;;) {
		uint8_t c;

		if (pos >= len)
			return MXC_EPARSE;
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if ((flags & MXC_DNS_NAME_NO_PTR) || pos + 1 >= len)
				return MXC_EPARSE;
			to = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			if ((flags & MXC_DNS_NAME_BACK_PTR) ? to < 12 || to >= seg :
							      ++hops > NAME_MAX_POINTERS)
				return MXC_EPARSE;
			if (!jumped && end)
				*end = pos + 2;
			jumped = true;
			pos = seg = to;
			continue;
		}
		if (c & 0xc0)
			return MXC_EPARSE; /* 01 and 10: no such label types in use */
		if (o + 1 + c > MXC_DNS_NAME_WIRE_MAX || pos + 1 + c > len)
			return MXC_EPARSE;
		out[o++] = c;
		if (c == 0)
			break;
		for (size_t i = 1; i <= c; i++)
			out[o++] = lower(msg[pos + i]);
		nl++;
		pos += 1 + (size_t)c;
	}
	if (!jumped && end)
		*end = pos + 1;
	*out_len = o;
	if (labels)
		*labels = nl;
	return 0;
}

int mxc_dns_name_read(const uint8_t *msg, size_t len, size_t pos, uint8_t *out,
		      size_t *out_len, size_t *end)
{
	return mxc_dns_name_parse(msg, len, pos, 0, out, out_len, NULL, end);
}

int mxc_dns_walk_init(struct mxc_dns_walk *w, const uint8_t *msg, size_t len)
{
	uint8_t scratch[MXC_DNS_NAME_WIRE_MAX];
	size_t pos = 12, n;
	unsigned qd;

	memset(w, 0, sizeof(*w));
	if (!msg || len < 12)
		return MXC_EPARSE;
	qd = (unsigned)(msg[4] << 8 | msg[5]);
	for (unsigned i = 0; i < qd; i++) {
		if (mxc_dns_name_read(msg, len, pos, scratch, &n, &pos) != 0 || pos + 4 > len)
			return MXC_EPARSE;
		pos += 4;
	}
	w->msg = msg;
	w->len = len;
	w->pos = pos;
	for (int s = 0; s < 3; s++)
		w->left[s] = (uint16_t)(msg[6 + 2 * s] << 8 | msg[7 + 2 * s]);
	return 0;
}

int mxc_dns_walk_next(struct mxc_dns_walk *w, struct mxc_dns_rr *rr)
{
	uint8_t scratch[MXC_DNS_NAME_WIRE_MAX];
	const uint8_t *p;
	size_t pos, n;

	while (w->section < 3 && w->left[w->section] == 0)
		w->section++;
	if (w->section >= 3)
		return 0;
	rr->owner = w->pos;
	/* Reading the whole owner checks it once; callers may then trust it. */
	if (mxc_dns_name_read(w->msg, w->len, w->pos, scratch, &n, &pos) != 0 ||
	    pos + 10 > w->len)
		return MXC_EPARSE;
	p = w->msg + pos;
	rr->type = (uint16_t)(p[0] << 8 | p[1]);
	rr->rclass = (uint16_t)(p[2] << 8 | p[3]);
	rr->ttl = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	rr->rdlen = (uint16_t)(p[8] << 8 | p[9]);
	rr->rdata = pos + 10;
	if (rr->rdata + rr->rdlen > w->len)
		return MXC_EPARSE;
	rr->section = (uint8_t)(w->section + 1);
	w->pos = rr->rdata + rr->rdlen;
	w->left[w->section]--;
	return 1;
}

int mxc_dns_msg_check(const uint8_t *msg, size_t len)
{
	struct mxc_dns_walk w;
	struct mxc_dns_rr rr;
	int r = mxc_dns_walk_init(&w, msg, len);

	while (r == 0 && (r = mxc_dns_walk_next(&w, &rr)) == 1)
		r = 0;
	return r;
}

/* Bytes a name's presentation form escapes with a backslash (as ldns does). */
static bool escaped_char(uint8_t c)
{
	return c == '.' || c == ';' || c == '(' || c == ')' || c == '\\';
}

int mxc_dns_name_str(const uint8_t *name, size_t len, char *out, size_t outlen)
{
	size_t p = 0, o = 0;

	if (!name || len == 0 || len > MXC_DNS_NAME_WIRE_MAX || outlen == 0)
		return MXC_ENAME;
	while (p < len && name[p] != 0) {
		uint8_t c = name[p++];

		if (c > 63 || p + c >= len)
			return MXC_ENAME;
		if (o > 0) {
			if (o + 1 >= outlen)
				return MXC_ETOOBIG;
			out[o++] = '.';
		}
		for (size_t i = 0; i < c; i++) {
			uint8_t b = lower(name[p + i]);

			if (escaped_char(b)) {
				if (o + 2 >= outlen)
					return MXC_ETOOBIG;
				out[o++] = '\\';
				out[o++] = (char)b;
			} else if (b <= 0x20 || b >= 0x7f) {
				if (o + 4 >= outlen)
					return MXC_ETOOBIG;
				out[o++] = '\\';
				out[o++] = (char)('0' + b / 100);
				out[o++] = (char)('0' + b / 10 % 10);
				out[o++] = (char)('0' + b % 10);
			} else {
				if (o + 1 >= outlen)
					return MXC_ETOOBIG;
				out[o++] = (char)b;
			}
		}
		p += c;
	}
	/* The root label must end the name, exactly where it ends. */
	if (p + 1 != len)
		return MXC_ENAME;
	out[o] = '\0';
	return 0;
}

enum wire_check { WIRE_OK, WIRE_MALFORMED, WIRE_MISMATCH };

/*
 * Header and question of a response, straight from the wire: QR set,
 * opcode QUERY, exactly one question, and that question byte for byte ours
 * (the name compared without case; it is the first name of the message, so
 * it cannot be compressed). Nothing past the question is read here.
 */
static enum wire_check check_wire(const struct mxc__question *q, const uint8_t *w, size_t len)
{
	const uint8_t *qn = w + 12;

	if (len < 12 || !(w[2] & 0x80))
		return WIRE_MALFORMED;
	if (((w[2] >> 3) & 0x0f) != LDNS_PACKET_QUERY || w[4] != 0 || w[5] != 1)
		return WIRE_MISMATCH;
	if (len < 12 + (size_t)q->qname_len + 4)
		return WIRE_MALFORMED;
	for (size_t i = 0; i < q->qname_len; i++)
		if (lower(qn[i]) != q->qwire[12 + i])
			return WIRE_MISMATCH;
	qn += q->qname_len;
	if ((uint16_t)(qn[0] << 8 | qn[1]) != q->qtype ||
	    (uint16_t)(qn[2] << 8 | qn[3]) != LDNS_RR_CLASS_IN)
		return WIRE_MISMATCH;
	return WIRE_OK;
}

static void log_garbage(struct mxc_resolver *r, struct mxc__upstream *u, const char *what)
{
	uint64_t now = uv_now(r->loop);

	if (u->garbage_logged == 0 || now - u->garbage_logged >= GARBAGE_LOG_INTERVAL_MS) {
		u->garbage_logged = now ? now : 1;
		mxc_log_warn("resolver: %s response from %s dropped (further ones logged at debug "
			     "level for %u s)", what, u->name, GARBAGE_LOG_INTERVAL_MS / 1000);
	} else {
		mxc_log_debug("resolver: %s response from %s dropped", what, u->name);
	}
}

/* TC=1 over UDP: the same upstream, over TCP, in the TCP timeout level. */
static void go_tcp(struct mxc_resolver *r, struct mxc__question *q)
{
	mxc__list_del(&q->link);
	unregister(r, q);
	q_set_state(q, MXC__Q_TCP);
	r->st.tcp++;
	mxc__timeout_add(r, q, r->n_levels - 1);
	mxc__tcp_start(r, q);
}

bool mxc__accept_response(struct mxc_resolver *r, struct mxc__question *q,
			  const uint8_t *wire, size_t len, bool via_tcp)
{
	struct mxc__upstream *u = &r->ups[q->upstream];
	struct mxc__lazy_pkt lazy = { wire, len, NULL, false };
	struct mxc_dns_answer a;

	switch (check_wire(q, wire, len)) {
	case WIRE_MALFORMED:
		r->st.malformed++;
		q->saw_garbage = true;
		log_garbage(r, u, "malformed");
		return false;
	case WIRE_MISMATCH:
		r->st.mismatched++;
		log_garbage(r, u, "wrong-question");
		return false;
	case WIRE_OK:
		break;
	}
	if (!via_tcp && (wire[2] & 0x02)) {
		go_tcp(r, q);
		return false;
	}
	memset(&a, 0, sizeof(a));
	a.status = MXC_DNS_ANSWER;
	a.rcode = wire[3] & 0x0f;
	a.wire = wire;
	a.wire_len = len;
	a.truncated_retry = via_tcp;
	a.server = u->name;
	a.lazy = &lazy;
	if (!q->nocache) {
		/* Caching needs the TTLs, so the whole message must parse. */
		const ldns_pkt *pkt = mxc_dns_answer_pkt(&a);

		if (!pkt) {
			r->st.malformed++;
			q->saw_garbage = true;
			log_garbage(r, u, "malformed");
			return false;
		}
		mxc__cache_put(r, q, pkt, wire, len);
	}
	r->st.answers++;
	u->silent_run = 0;
	finish(r, q, &a);
	lazy_free(&lazy);
	return true;
}

void mxc__resolver_udp_input(struct mxc_resolver *r, unsigned sock,
			     const struct sockaddr *from, const uint8_t *data, size_t len)
{
	struct mxc__question *q;
	uint16_t id;

	if (r->closing || sock >= r->n_socks || !from)
		return;
	if (len < 12) {
		/* Not even a header: we cannot tell whom it was meant for. */
		r->st.unmatched++;
		return;
	}
	id = (uint16_t)(data[0] << 8 | data[1]);
	q = r->socks[sock].ids[id];
	if (!q || !addr_eq(from, &r->ups[q->upstream].cfg)) {
		r->st.unmatched++;
		return;
	}
	mxc__accept_response(r, q, data, len, false);
}

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct mxc__sock *s = mxc_container_of(h, struct mxc__sock, udp);

	/* Processing is synchronous, so every socket shares one buffer. */
	buf->base = (char *)s->r->rxbuf;
	buf->len = s->r->rxbuf_len;
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
		     const struct sockaddr *addr, unsigned flags)
{
	struct mxc__sock *s = mxc_container_of(h, struct mxc__sock, udp);
	struct mxc_resolver *r = s->r;

	if (r->closing || (flags & UV_UDP_MMSG_FREE))
		return;
	if (nread < 0) {
		mxc_log_debug("resolver: UDP receive error: %s", uv_strerror((int)nread));
		return;
	}
	if (!addr)
		return;
	if (flags & UV_UDP_PARTIAL) {
		/* Bigger than 64 KiB: no DNS message; cannot be matched safely. */
		r->st.unmatched++;
		return;
	}
	mxc__resolver_udp_input(r, s->idx, addr, (const uint8_t *)buf->base, (size_t)nread);
}

/* Cache hits are delivered from the loop. */

static void deliver_hit(struct mxc_resolver *r, struct mxc__waiter *w,
			enum mxc_dns_status status)
{
	struct mxc__centry *e = w->entry;
	struct mxc__lazy_pkt lazy = { e->wire, e->wire_len, NULL, false };
	struct mxc_dns_answer a;

	memset(&a, 0, sizeof(a));
	a.status = status;
	if (status == MXC_DNS_ANSWER) {
		/* It parsed when it was cached; the lazy parse repeats that on demand. */
		a.rcode = e->rcode;
		a.wire = e->wire;
		a.wire_len = e->wire_len;
		a.from_cache = true;
		a.server = r->ups[e->upstream].name;
		a.lazy = &lazy;
	}
	w->cb(w->arg, &a);
	lazy_free(&lazy);
	mxc__cache_unref(r, e);
	mxc__pool_put(&r->wpool, w);
}

static void idle_cb(uv_idle_t *h)
{
	struct mxc_resolver *r = mxc_container_of(h, struct mxc_resolver, idle);
	struct mxc__waiter *w = r->hits;

	/* Take the batch: hits that callbacks add wait for the next turn. */
	r->hits = NULL;
	r->hits_tail = &r->hits;
	uv_idle_stop(h);
	while (w) {
		struct mxc__waiter *next = w->next;

		deliver_hit(r, w, MXC_DNS_ANSWER);
		w = next;
	}
}

/* The public API. */

int mxc_resolver_query(struct mxc_resolver *r, const char *name, uint16_t type,
		       mxc_dns_cb cb, void *arg)
{
	return mxc_resolver_query_flags(r, name, type, 0, cb, arg);
}

/*
 * A question its asker vouches is unique (MXC_DNS_UNIQUE): no cache, no
 * coalescing, so it stays out of both tables; close and expiry find it in
 * the upstream queues and timeout FIFOs instead.
 */
static int ask_unique(struct mxc_resolver *r, const struct mxc__qkey *key, unsigned flags,
		      struct mxc__waiter *w)
{
	struct mxc__question *q = mxc__pool_get(&r->qpool);

	if (!q) {
		mxc__pool_put(&r->wpool, w);
		return MXC_ENOMEM;
	}
	memset(q, 0, offsetof(struct mxc__question, qwire));
	mxc__hnode_init(&q->hnode);
	mxc__list_init(&q->link);
	build_query(q, key->name, key->len, key->type, r->opts.checking_disabled);
	q->nocache = true;
	q->priority = (flags & MXC_DNS_PRIORITY) != 0;
	q->waiters = w;
	q->wtail = &w->next;
	q->upstream = (uint16_t)(r->rr_next++ % r->n_ups);
	r->st.queries++;
	dispatch(r, q);
	return 0;
}

int mxc_resolver_query_flags(struct mxc_resolver *r, const char *name, uint16_t type,
			     unsigned flags, mxc_dns_cb cb, void *arg)
{
	uint8_t wire[255];
	struct mxc__qkey key;
	struct mxc__waiter *w;
	struct mxc__question *q;
	struct mxc__hnode *n;
	uint64_t hash;
	int rc;

	if (!r || !name || !cb)
		return MXC_EINVAL;
	if (r->closing)
		return MXC_ECANCELED;
	rc = mxc__name_to_wire(name, wire, &key.len);
	if (rc)
		return rc;
	key.name = wire;
	key.type = type;
	w = mxc__pool_get(&r->wpool);
	if (!w)
		return MXC_ENOMEM;
	w->next = NULL;
	w->cb = cb;
	w->arg = arg;
	w->entry = NULL;
	if (flags & MXC_DNS_UNIQUE)
		return ask_unique(r, &key, flags, w);

	hash = mxc__key_hash(r, wire, key.len, type);
	w->entry = mxc__cache_get(r, wire, key.len, type, hash);
	if (w->entry) {
		w->entry->refs++;
		if (!r->hits)
			uv_idle_start(&r->idle, idle_cb);
		*r->hits_tail = w;
		r->hits_tail = &w->next;
		r->st.queries++;
		r->st.cache_hits++;
		return 0;
	}
	n = mxc__htab_find(&r->questions, hash, q_eq, &key);
	if (n) {
		q = q_of_hnode(n);
		if (!(flags & MXC_DNS_NOCACHE))
			q->nocache = false;
		/* Already queued: it keeps its place (it was asked first). */
		*q->wtail = w;
		q->wtail = &w->next;
		r->st.queries++;
		r->st.coalesced++;
		return 0;
	}
	q = mxc__pool_get(&r->qpool);
	if (!q) {
		mxc__pool_put(&r->wpool, w);
		return MXC_ENOMEM;
	}
	memset(q, 0, offsetof(struct mxc__question, qwire));
	mxc__list_init(&q->link);
	build_query(q, wire, key.len, type, r->opts.checking_disabled);
	q->nocache = (flags & MXC_DNS_NOCACHE) != 0;
	q->priority = (flags & MXC_DNS_PRIORITY) != 0;
	q->waiters = w;
	q->wtail = &w->next;
	q->hnode.hash = hash;
	mxc__htab_insert(&r->questions, &q->hnode);
	q->upstream = (uint16_t)(r->rr_next++ % r->n_ups);
	r->st.queries++;
	dispatch(r, q);
	return 0;
}

void mxc_resolver_get_stats(const struct mxc_resolver *r, struct mxc_resolver_stats *st)
{
	*st = r->st;
}

static void free_all(struct mxc_resolver *r)
{
	mxc__cache_destroy(r);
	mxc__htab_free(&r->questions);
	mxc__pool_destroy(&r->qpool);
	mxc__pool_destroy(&r->wpool);
	mxc__pool_destroy(&r->spool);
	for (unsigned i = 0; i < r->n_socks; i++)
		mxc_free(r->socks[i].ids);
	mxc_free(r->socks);
	mxc_free(r->ups);
	mxc_free(r->tfifo);
	mxc_free(r->tdur);
	mxc_free(r->rxbuf);
	mxc_free(r->tcpbuf);
	mxc_free(r);
}

void mxc__handle_closed(struct mxc_resolver *r)
{
	if (--r->open_handles == 0)
		free_all(r);
}

static void on_handle_closed(uv_handle_t *h)
{
	mxc__handle_closed(h->data);
}

/* Close every handle that was initialised; memory goes when the last closes. */
static void teardown(struct mxc_resolver *r)
{
	r->closing = true;
	/* Hold a reference so no close callback can free r under our feet. */
	r->open_handles++;
	for (unsigned i = 0; i < r->n_socks_open; i++)
		uv_close((uv_handle_t *)&r->socks[i].udp, on_handle_closed);
	uv_close((uv_handle_t *)&r->timeout_timer, on_handle_closed);
	uv_close((uv_handle_t *)&r->token_timer, on_handle_closed);
	uv_close((uv_handle_t *)&r->idle, on_handle_closed);
	uv_close((uv_handle_t *)&r->flush_check, on_handle_closed);
	uv_close((uv_handle_t *)&r->flush_prepare, on_handle_closed);
	mxc__tcp_close_all(r);
	mxc__handle_closed(r);
}

void mxc_resolver_close(struct mxc_resolver *r)
{
	struct mxc__waiter *w;
	struct mxc__hnode *n;

	if (!r || r->closing)
		return;
	r->closing = true;
	/* Unsent datagrams of questions about to be canceled: not sent. */
	for (unsigned i = 0; i < r->outq_len; i++)
		r->outq[i]->in_outq = false;
	r->outq_len = 0;
	w = r->hits;
	r->hits = NULL;
	r->hits_tail = &r->hits;
	while (w) {
		struct mxc__waiter *next = w->next;

		deliver_hit(r, w, MXC_DNS_CANCELED);
		w = next;
	}
	/* Queries are refused now, so the table only shrinks while we walk it. */
	r->close_cursor = 0;
	while ((n = mxc__htab_any(&r->questions, &r->close_cursor)))
		finish_status(r, q_of_hnode(n), MXC_DNS_CANCELED);
	/* Unique questions are in no table: they wait in a queue or a FIFO. */
	for (unsigned l = 0; l < r->n_levels; l++)
		while (!mxc__list_empty(&r->tfifo[l]))
			finish_status(r, q_of_link(r->tfifo[l].next), MXC_DNS_CANCELED);
	for (size_t i = 0; i < r->n_ups; i++)
		while (!mxc__list_empty(&r->ups[i].queue))
			finish_status(r, q_of_link(r->ups[i].queue.next), MXC_DNS_CANCELED);
	teardown(r);
}

/* Setup. */

static int check_opts(const struct mxc_resolver_opts *o)
{
	if (!o->upstreams || o->n_upstreams == 0 || o->n_upstreams > UINT16_MAX)
		return MXC_EINVAL;
	if (o->max_inflight == 0 || o->n_sockets == 0 || o->n_sockets > MAX_SOCKETS ||
	    o->timeout_ms == 0 || o->tcp_timeout_ms == 0 || o->retries > MAX_RETRIES ||
	    o->qps > 10000000)
		return MXC_EINVAL;
	for (size_t i = 0; i < o->n_upstreams; i++) {
		const struct mxc_upstream_cfg *u = &o->upstreams[i];

		if (u->addr.ss_family == AF_INET && u->addrlen >= sizeof(struct sockaddr_in))
			continue;
		if (u->addr.ss_family == AF_INET6 && u->addrlen >= sizeof(struct sockaddr_in6))
			continue;
		return MXC_EINVAL;
	}
	return 0;
}

static int open_socket(struct mxc_resolver *r, struct mxc__sock *s, int family)
{
	unsigned flags = (unsigned)family | (r->opts.udp_recvmmsg ? UV_UDP_RECVMMSG : 0);
	struct sockaddr_storage any;
	int rc, size = 4 << 20;

	s->r = r;
	s->udp.data = r;
	rc = uv_udp_init_ex(r->loop, &s->udp, flags);
	if (rc)
		return rc;
	/* From here on the handle exists and must be closed. */
	r->open_handles++;
	r->n_socks_open++;
	memset(&any, 0, sizeof(any));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&any;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_ANY);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&any;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_any;
	}
	/* Port 0: the kernel picks a random ephemeral port for each socket. */
	rc = uv_udp_bind(&s->udp, (const struct sockaddr *)&any,
			 family == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
	if (rc == 0 && sole_upstream(r, family)) {
		const struct mxc__upstream *u = sole_upstream(r, family);

		/* Only an optimisation: a socket that cannot be connected (no
		 * route yet, say) sends with the address like a shared one. */
		s->connected = uv_udp_connect(&s->udp, (const struct sockaddr *)&u->cfg.addr) == 0;
		if (!s->connected)
			mxc_log_debug("resolver: %s: socket not connected; sending with the address",
				      u->name);
	}
	if (rc == 0)
		rc = uv_udp_recv_start(&s->udp, udp_alloc, udp_recv);
	if (rc)
		return rc;
	/* Bursts of answers must not overflow the socket; best effort. */
	uv_recv_buffer_size((uv_handle_t *)&s->udp, &size);
	size = 1 << 20;
	uv_send_buffer_size((uv_handle_t *)&s->udp, &size);
	/* Idle sockets alone must not keep the loop running. */
	uv_unref((uv_handle_t *)&s->udp);
	return 0;
}

/* Allocate everything that needs no handle, so that most failures are simple. */
static int alloc_resolver(uv_loop_t *loop, const struct mxc_resolver_opts *opts,
			  struct mxc_resolver **out)
{
	struct mxc_resolver *r;
	size_t n_v4 = 0, n_v6 = 0;

	r = mxc_calloc(1, sizeof(*r));
	if (!r)
		return MXC_ENOMEM;
	*out = r;
	r->loop = loop;
	r->opts = *opts;
	r->opts.upstreams = NULL;
	r->n_ups = opts->n_upstreams;
	r->n_levels = opts->retries + 2;
	r->hits_tail = &r->hits;
	mxc__list_init(&r->lru);
	mxc__list_init(&r->tcps);
	mxc__pool_init(&r->qpool, sizeof(struct mxc__question), 256);
	mxc__pool_init(&r->wpool, sizeof(struct mxc__waiter), 1024);
	mxc__pool_init(&r->spool, sizeof(struct sendreq), 32);
	mxc_random_bytes(&r->hash_seed, sizeof(r->hash_seed));
	r->rnd_pos = sizeof(r->rnd);

	for (size_t i = 0; i < opts->n_upstreams; i++) {
		if (opts->upstreams[i].addr.ss_family == AF_INET)
			n_v4++;
		else
			n_v6++;
	}
	r->n_socks = (unsigned)((n_v4 ? opts->n_sockets : 0) + (n_v6 ? opts->n_sockets : 0));
	r->ups = mxc_calloc(r->n_ups, sizeof(*r->ups));
	r->socks = mxc_calloc(r->n_socks, sizeof(*r->socks));
	r->tfifo = mxc_calloc(r->n_levels, sizeof(*r->tfifo));
	r->tdur = mxc_calloc(r->n_levels, sizeof(*r->tdur));
	r->rxbuf_len = opts->udp_recvmmsg ? (size_t)DGRAM_SLOT * MMSG_SLOTS : DGRAM_SLOT;
	r->rxbuf = mxc_malloc(r->rxbuf_len);
	r->tcpbuf = mxc_malloc(DGRAM_SLOT);
	if (!r->ups || !r->socks || !r->tfifo || !r->tdur || !r->rxbuf || !r->tcpbuf)
		return MXC_ENOMEM;
	for (unsigned i = 0; i < r->n_socks; i++) {
		/* Sockets [0, n) serve IPv4 if any upstream is IPv4; then IPv6. */
		r->socks[i].family = (n_v4 && i < opts->n_sockets) ? AF_INET : AF_INET6;
		r->socks[i].idx = (uint16_t)i;
		r->socks[i].ids = mxc_calloc(65536, sizeof(*r->socks[i].ids));
		if (!r->socks[i].ids)
			return MXC_ENOMEM;
	}
	for (unsigned l = 0; l < r->n_levels; l++) {
		mxc__list_init(&r->tfifo[l]);
		r->tdur[l] = l + 1 < r->n_levels ? (uint64_t)opts->timeout_ms << l
						  : opts->tcp_timeout_ms;
	}
	for (size_t i = 0; i < r->n_ups; i++) {
		struct mxc__upstream *u = &r->ups[i];
		bool v4 = opts->upstreams[i].addr.ss_family == AF_INET;

		u->cfg = opts->upstreams[i];
		mxc_upstream_format(&u->cfg, u->name, sizeof(u->name));
		mxc__list_init(&u->queue);
		u->sock_count = opts->n_sockets;
		u->sock_base = (v4 || !n_v4) ? 0 : opts->n_sockets;
		u->tokens_max = (int64_t)(opts->qps / 10 ? opts->qps / 10 : 1) * 1000;
		u->tokens = u->tokens_max;
		u->refilled_at = uv_now(loop);
	}
	if (mxc__htab_init(&r->questions, 1024) != 0 || mxc__cache_init(r) != 0)
		return MXC_ENOMEM;
	return 0;
}

static void free_unopened(struct mxc_resolver *r)
{
	if (!r)
		return;
	/* No handle exists yet: free_all copes with whatever was allocated. */
	if (r->socks)
		for (unsigned i = 0; i < r->n_socks; i++)
			mxc_free(r->socks[i].ids);
	if (r->cache.buckets)
		mxc__cache_destroy(r);
	mxc__htab_free(&r->questions);
	mxc_free(r->socks);
	r->socks = NULL;
	r->n_socks = 0;
	mxc_free(r->ups);
	mxc_free(r->tfifo);
	mxc_free(r->tdur);
	mxc_free(r->rxbuf);
	mxc_free(r->tcpbuf);
	mxc_free(r);
}

int mxc_resolver_new(uv_loop_t *loop, const struct mxc_resolver_opts *opts,
		     struct mxc_resolver **out)
{
	struct mxc_resolver *r = NULL;
	unsigned i;
	int rc;

	if (!loop || !opts || !out)
		return MXC_EINVAL;
	rc = check_opts(opts);
	if (rc)
		return rc;
	rc = alloc_resolver(loop, opts, &r);
	if (rc) {
		free_unopened(r);
		return rc;
	}
	uv_timer_init(loop, &r->timeout_timer);
	uv_timer_init(loop, &r->token_timer);
	uv_idle_init(loop, &r->idle);
	uv_check_init(loop, &r->flush_check);
	uv_prepare_init(loop, &r->flush_prepare);
	r->timeout_timer.data = r;
	r->token_timer.data = r;
	r->idle.data = r;
	r->flush_check.data = r;
	r->flush_prepare.data = r;
	r->open_handles = 5;
	/* Always running, never keeping the loop alive on their own. */
	uv_check_start(&r->flush_check, flush_check_cb);
	uv_prepare_start(&r->flush_prepare, flush_prepare_cb);
	uv_unref((uv_handle_t *)&r->flush_check);
	uv_unref((uv_handle_t *)&r->flush_prepare);
	for (i = 0; i < r->n_socks; i++) {
		rc = open_socket(r, &r->socks[i], r->socks[i].family);
		if (rc) {
			mxc_log_error("resolver: cannot open UDP socket: %s", uv_strerror(rc));
			teardown(r);
			return rc;
		}
	}
	*out = r;
	return 0;
}

/* Hooks for tests and fuzzing. */

int mxc__resolver_register(struct mxc_resolver *r, const char *name, uint16_t type,
			   unsigned sock, uint16_t id, mxc_dns_cb cb, void *arg)
{
	uint8_t wire[255];
	struct mxc__qkey key;
	struct mxc__question *q;
	struct mxc__waiter *w;
	struct mxc__upstream *u;
	int rc;

	if (!r || r->closing || !cb || sock >= r->n_socks)
		return MXC_EINVAL;
	rc = mxc__name_to_wire(name, wire, &key.len);
	if (rc)
		return rc;
	key.name = wire;
	key.type = type;
	if (r->socks[sock].ids[id] ||
	    mxc__htab_find(&r->questions, mxc__key_hash(r, wire, key.len, type), q_eq, &key))
		return MXC_EEXIST;
	q = mxc__pool_get(&r->qpool);
	w = mxc__pool_get(&r->wpool);
	if (!q || !w) {
		mxc__pool_put(&r->qpool, q);
		mxc__pool_put(&r->wpool, w);
		return MXC_ENOMEM;
	}
	memset(w, 0, sizeof(*w));
	w->cb = cb;
	w->arg = arg;
	memset(q, 0, offsetof(struct mxc__question, qwire));
	mxc__list_init(&q->link);
	build_query(q, wire, key.len, type, r->opts.checking_disabled);
	q->waiters = w;
	q->wtail = &w->next;
	q->hnode.hash = mxc__key_hash(r, wire, key.len, type);
	mxc__htab_insert(&r->questions, &q->hnode);
	q->attempt = (uint8_t)r->opts.retries;
	q->sock = (uint16_t)sock;
	q->id = id;
	q->registered = true;
	r->socks[sock].ids[id] = q;
	r->socks[sock].inflight++;
	u = &r->ups[0];
	u->inflight++;
	r->st.inflight++;
	r->st.queries++;
	q_set_state(q, MXC__Q_UDP);
	mxc__timeout_add(r, q, q->attempt);
	return 0;
}

void mxc__resolver_expire_all(struct mxc_resolver *r)
{
	for (unsigned l = 0; l < r->n_levels && !r->closing; l++) {
		while (!r->closing && !mxc__list_empty(&r->tfifo[l])) {
			struct mxc__question *q = q_of_link(r->tfifo[l].next);

			q->attempt = (uint8_t)r->opts.retries;
			mxc__attempt_failed(r, q, true);
		}
	}
	for (size_t i = 0; i < r->n_ups && !r->closing; i++) {
		struct mxc__upstream *u = &r->ups[i];

		while (!r->closing && !mxc__list_empty(&u->queue))
			finish_status(r, q_of_link(u->queue.next), MXC_DNS_TIMEOUT);
	}
}

unsigned mxc__resolver_n_socks(const struct mxc_resolver *r)
{
	return r->n_socks;
}
