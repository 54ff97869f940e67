/**
 * \file
 * TCP after truncation: when an upstream answers TC=1 over UDP, the same
 * question goes to the same upstream over TCP (RFC 1035 4.2.2 two-byte
 * length framing, RFC 7766). One connection per exchange: truncation is rare
 * for the records a census asks, and a fresh connection keeps the state
 * machine trivial.
 *
 * The exchange is bounded in time by the TCP level of the timeout FIFOs
 * (tcp_timeout_ms for the whole exchange) and in memory by the framing: at
 * most 65535 bytes are buffered, and bytes past the announced length are
 * ignored. Any failure (refused, reset, EOF, garbage) fails the attempt, which
 * then retries over UDP on the next upstream or gives up.
 *
 * The question and its connection point at each other; whichever ends first
 * detaches the other. The connection's memory is freed in its close callback
 * only, as libuv requires.
 */
#include "resolver/resolver_internal.h"

#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#define TCP_MSG_MAX 65535

struct mxc__tcp {
	uv_tcp_t handle;
	uv_connect_t connect;
	uv_write_t write;
	struct mxc__list link;      /**< in mxc_resolver.tcps */
	struct mxc_resolver *r;
	struct mxc__question *q;    /**< NULL once detached */
	struct mxc_buf in;          /**< length prefix + response */
	uint16_t out_len;
	uint8_t out[2 + MXC__QWIRE_MAX];
};

static void on_close(uv_handle_t *h)
{
	struct mxc__tcp *c = mxc_container_of(h, struct mxc__tcp, handle);
	struct mxc_resolver *r = c->r;

	mxc_buf_free(&c->in);
	mxc_free(c);
	mxc__handle_closed(r);
}

static void close_conn(struct mxc__tcp *c)
{
	if (c->q)
		c->q->tcp = NULL;
	c->q = NULL;
	mxc__list_del(&c->link);
	uv_close((uv_handle_t *)&c->handle, on_close);
}

void mxc__tcp_abort(struct mxc_resolver *r, struct mxc__question *q)
{
	(void)r;
	if (q->tcp)
		close_conn(q->tcp);
}

void mxc__tcp_close_all(struct mxc_resolver *r)
{
	while (!mxc__list_empty(&r->tcps))
		close_conn(mxc_container_of(r->tcps.next, struct mxc__tcp, link));
}

/* The exchange failed: the attempt fails, which also closes @p c. */
static void fail(struct mxc__tcp *c, const char *why, int err)
{
	struct mxc__question *q = c->q;
	struct mxc_resolver *r = c->r;

	if (!q)
		return;
	mxc_log_debug("resolver: TCP to %s failed: %s%s%s", r->ups[q->upstream].name, why,
		      err ? ": " : "", err ? uv_strerror(err) : "");
	mxc__attempt_failed(r, q, false);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct mxc__tcp *c = mxc_container_of(h, struct mxc__tcp, handle);

	/* Reads are consumed at once, so all connections share one scratch. */
	buf->base = (char *)c->r->tcpbuf;
	buf->len = 65536;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct mxc__tcp *c = mxc_container_of(s, struct mxc__tcp, handle);
	struct mxc_resolver *r = c->r;
	struct mxc__question *q = c->q;
	size_t need, take;
	const uint8_t *msg;

	if (!q || r->closing)
		return;
	if (nread < 0) {
		fail(c, nread == UV_EOF ? "closed before the answer" : "read", nread == UV_EOF ? 0 : (int)nread);
		return;
	}
	/* Take no more than the frame: a length prefix, then that many bytes. */
	take = (size_t)nread;
	need = 2;
	if (c->in.len + take >= 2) {
		uint8_t hdr[2];
		size_t have = c->in.len < 2 ? c->in.len : 2;

		if (have)
			memcpy(hdr, c->in.data, have);
		memcpy(hdr + have, buf->base, 2 - have);
		need = 2 + (size_t)(hdr[0] << 8 | hdr[1]);
		if (need == 2) {
			r->st.malformed++;
			q->saw_garbage = true;
			fail(c, "empty message", 0);
			return;
		}
	}
	if (take > need - c->in.len)
		take = need - c->in.len;
	if (mxc_buf_append(&c->in, buf->base, take) != 0) {
		fail(c, "out of memory", 0);
		return;
	}
	if (c->in.len < need || need == 2)
		return;
	uv_read_stop(s);
	msg = c->in.data + 2;
	if ((msg[0] << 8 | msg[1]) != q->id) {
		r->st.unmatched++;
		fail(c, "answer with another ID", 0);
		return;
	}
	if (!mxc__accept_response(r, q, msg, need - 2, true) && c->q == q)
		fail(c, "unusable answer", 0);
}

static void on_write(uv_write_t *req, int status)
{
	struct mxc__tcp *c = mxc_container_of(req, struct mxc__tcp, write);

	if (c->q && status < 0)
		fail(c, "write", status);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct mxc__tcp *c = mxc_container_of(req, struct mxc__tcp, connect);
	uv_buf_t b;
	int rc;

	if (!c->q)
		return;
	if (status < 0) {
		fail(c, "connect", status);
		return;
	}
	b = uv_buf_init((char *)c->out, c->out_len);
	rc = uv_write(&c->write, (uv_stream_t *)&c->handle, &b, 1, on_write);
	if (rc == 0)
		rc = uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read);
	if (rc)
		fail(c, "start", rc);
}

void mxc__tcp_start(struct mxc_resolver *r, struct mxc__question *q)
{
	struct mxc__upstream *u = &r->ups[q->upstream];
	struct mxc__tcp *c = mxc_calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		mxc__attempt_failed(r, q, false);
		return;
	}
	rc = uv_tcp_init_ex(r->loop, &c->handle, u->cfg.addr.ss_family);
	if (rc) {
		mxc_free(c);
		mxc_log_debug("resolver: TCP socket for %s: %s", u->name, uv_strerror(rc));
		mxc__attempt_failed(r, q, false);
		return;
	}
	r->open_handles++;
	c->r = r;
	c->q = q;
	q->tcp = c;
	mxc__list_push_back(&r->tcps, &c->link);
	mxc_buf_init(&c->in, 2 + TCP_MSG_MAX);
	/* Same ID as the UDP attempt: the connection is ours alone anyway. */
	c->out[0] = (uint8_t)(q->qwire_len >> 8);
	c->out[1] = (uint8_t)q->qwire_len;
	memcpy(c->out + 2, q->qwire, q->qwire_len);
	c->out_len = (uint16_t)(q->qwire_len + 2);
	uv_tcp_nodelay(&c->handle, 1);
	rc = uv_tcp_connect(&c->connect, &c->handle, (const struct sockaddr *)&u->cfg.addr,
			    on_connect);
	if (rc)
		fail(c, "connect", rc);
}
