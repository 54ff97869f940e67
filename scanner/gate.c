/**
 * \file
 * The gate every probe connection passes before a packet leaves: the
 * blocklist first (a blocked name or address is never contacted), then the
 * politeness scheduler's permits (probes/polite.h: rates and caps per
 * address, per network and overall).
 *
 * A request that cannot go now waits in a queue, in arrival order; the
 * queue is tried again when a permit is returned and when the earliest
 * time a refused request may succeed comes round (one timer for the whole
 * queue). Requests to an address that is busy do not hold back requests to
 * other addresses: each waiting request is tried on its own.
 */
#include "scanner/gate.h"

#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

struct mxc_gate {
	uv_loop_t *loop;
	struct mxc_polite *polite;
	const struct mxc_blocklist *blocklist;
	uv_timer_t timer;
	struct mxc_gate_req *head, *tail;
	size_t queued;
	bool closing;
	struct mxc_gate_stats st;
};

static uint64_t now_ns(void)
{
	return uv_hrtime();
}

static void unlink_req(struct mxc_gate *g, struct mxc_gate_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		g->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		g->tail = r->prev;
	r->next = r->prev = NULL;
	g->queued--;
}

static void on_timer(uv_timer_t *t);

/* Try every waiting request once; re-arm the timer for the earliest retry. */
static void pump(struct mxc_gate *g)
{
	uint64_t now = now_ns(), next = UINT64_MAX;
	struct mxc_gate_req *r = g->head;

	while (r && !g->closing) {
		struct mxc_gate_req *after = r->next;
		uint64_t retry = 0;

		if (r->retry_at <= now || r->retry_at == MXC_POLITE_ON_RELEASE) {
			if (mxc_polite_acquire(g->polite, (const struct sockaddr *)&r->addr, now,
					       &retry) == 0) {
				unlink_req(g, r);
				g->st.granted++;
				r->go(r, MXC_GATE_GO);
				r = after;
				continue;
			}
			r->retry_at = retry;
		}
		if (r->retry_at != MXC_POLITE_ON_RELEASE && r->retry_at < next)
			next = r->retry_at;
		r = after;
	}
	if (next != UINT64_MAX && !g->closing) {
		uint64_t ms = next > now ? (next - now + 999999) / 1000000 : 0;

		uv_timer_start(&g->timer, on_timer, ms, 0);
	}
}

static void on_timer(uv_timer_t *t)
{
	pump(t->data);
}

int mxc_gate_new(uv_loop_t *loop, const struct mxc_polite_opts *o,
		 const struct mxc_blocklist *bl, struct mxc_gate **out)
{
	struct mxc_gate *g = mxc_calloc(1, sizeof(*g));
	int r;

	*out = NULL;
	if (!g)
		return MXC_ENOMEM;
	r = mxc_polite_new(o, &g->polite);
	if (r) {
		mxc_free(g);
		return r;
	}
	g->loop = loop;
	g->blocklist = bl;
	uv_timer_init(loop, &g->timer);
	g->timer.data = g;
	*out = g;
	return 0;
}

void mxc_gate_enter(struct mxc_gate *g, struct mxc_gate_req *r)
{
	uint64_t retry = 0;

	r->next = r->prev = NULL;
	if (g->closing) {
		r->go(r, MXC_GATE_CANCELED);
		return;
	}
	if (g->blocklist && ((r->name && mxc_blocklist_name(g->blocklist, r->name)) ||
			     mxc_blocklist_addr(g->blocklist, (const struct sockaddr *)&r->addr))) {
		g->st.blocked++;
		r->go(r, MXC_GATE_BLOCKED);
		return;
	}
	/* First come, first served: while others wait, a newcomer queues. */
	if (!g->head &&
	    mxc_polite_acquire(g->polite, (const struct sockaddr *)&r->addr, now_ns(), &retry) == 0) {
		g->st.granted++;
		r->go(r, MXC_GATE_GO);
		return;
	}
	r->retry_at = g->head ? 0 : retry;
	r->prev = g->tail;
	if (g->tail)
		g->tail->next = r;
	else
		g->head = r;
	g->tail = r;
	g->queued++;
	g->st.waited++;
	if (g->queued > g->st.peak_queued)
		g->st.peak_queued = g->queued;
	pump(g);
}

void mxc_gate_leave(struct mxc_gate *g, const struct sockaddr *addr)
{
	if (!g)
		return; /* closed while the connection ran: nothing to return */
	mxc_polite_release(g->polite, addr);
	if (g->head)
		pump(g);
}

void mxc_gate_get_stats(const struct mxc_gate *g, struct mxc_gate_stats *st)
{
	*st = g->st;
	st->queued = g->queued;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct mxc_gate *g = h->data;

	mxc_polite_free(g->polite);
	mxc_free(g);
}

void mxc_gate_close(struct mxc_gate *g)
{
	if (!g || g->closing)
		return;
	g->closing = true;
	while (g->head) {
		struct mxc_gate_req *r = g->head;

		unlink_req(g, r);
		r->go(r, MXC_GATE_CANCELED);
	}
	uv_timer_stop(&g->timer);
	uv_close((uv_handle_t *)&g->timer, on_timer_closed);
}
