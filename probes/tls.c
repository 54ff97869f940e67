/**
 * \file
 * OpenSSL client sessions over a libuv stream through memory BIOs.
 *
 * OpenSSL is driven only from three places: mxc_tls_start() and
 * mxc_tls_feed() run the handshake, mxc_tls_read()/mxc_tls_write() move
 * application data. After each call whatever OpenSSL wrote into its output
 * BIO is flushed to the stream at once, one uv_write per flush; a write
 * request carries its own bytes and a reference to the layer, so a layer
 * closed while writes are pending lives until libuv has called their
 * callbacks (with UV_ECANCELED when the owner closed the stream).
 *
 * OpenSSL's error queue is per thread and shared by every session on the
 * loop, so it is cleared before each operation and read right after, in
 * one function (ssl_fail) that is the only translation of OpenSSL errors
 * into our terms.
 */
#include "probes/tls.h"

#include <arpa/inet.h>
#include <string.h>

#include <openssl/err.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

enum tls_state {
	TLS_IDLE = 0,
	TLS_HANDSHAKING,
	TLS_ESTABLISHED,
	TLS_FAILED,
	TLS_PEER_CLOSED,
};

struct mxc_tls {
	uv_timer_t timer;          /**< handshake deadline */
	uv_stream_t *stream;       /**< the owner's; written to, never read */
	SSL *ssl;
	BIO *rbio;                 /**< peer -> OpenSSL (owned by ssl) */
	BIO *wbio;                 /**< OpenSSL -> peer (owned by ssl) */
	mxc_tls_cb cb;
	void *arg;
	struct mxc_tls_opts opts;
	uint64_t bytes_in;
	unsigned refs;             /**< the timer handle + writes in flight */
	enum tls_state state;
	int closing;               /**< mxc_tls_close() was called */
	int errcode;               /**< MXC_E* behind err, 0 when none */
	char err[128];
};

struct tls_write {
	uv_write_t req;
	struct mxc_tls *t;
	uint8_t data[];
};

static void maybe_free(struct mxc_tls *t)
{
	if (!t->closing || t->refs > 0)
		return;
	SSL_free(t->ssl);
	mxc_free(t);
}

static void emit(struct mxc_tls *t, enum mxc_tls_event ev)
{
	if (!t->closing)
		t->cb(t, ev, t->arg);
}

static void set_error(struct mxc_tls *t, int code, const char *msg)
{
	t->errcode = code;
	snprintf(t->err, sizeof(t->err), "%s", msg);
}

/* Fail the session and tell the owner. The caller returns right after:
 * the owner may have closed the layer inside the callback. */
static void fail(struct mxc_tls *t, int code, const char *msg)
{
	if (t->state == TLS_FAILED)
		return;
	t->state = TLS_FAILED;
	set_error(t, code, msg);
	uv_timer_stop(&t->timer);
	emit(t, MXC_TLS_EV_ERROR);
}

/* The one translation of OpenSSL's error state: the reason of the last
 * queued error, or the SSL_get_error class when the queue is empty. */
static void ssl_reason(struct mxc_tls *t, int sslerr, char *buf, size_t cap)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r)
		snprintf(buf, cap, "%s", r);
	else if (e)
		snprintf(buf, cap, "openssl error %lx", e);
	else if (sslerr == SSL_ERROR_SYSCALL)
		snprintf(buf, cap, "unexpected eof");
	else
		snprintf(buf, cap, "ssl error %d", sslerr);
	ERR_clear_error();
}

static void on_write(uv_write_t *req, int status)
{
	struct tls_write *w = mxc_container_of(req, struct tls_write, req);
	struct mxc_tls *t = w->t;

	mxc_free(w);
	t->refs--;
	if (status < 0 && !t->closing && t->state != TLS_FAILED && status != UV_ECANCELED) {
		char msg[96];

		snprintf(msg, sizeof(msg), "write: %s", uv_strerror(status));
		fail(t, MXC_EIO, msg);
	}
	maybe_free(t);
}

/* Send whatever OpenSSL queued for the peer. */
static int flush(struct mxc_tls *t)
{
	size_t n;

	while ((n = BIO_ctrl_pending(t->wbio)) > 0) {
		struct tls_write *w = mxc_malloc(sizeof(*w) + n);
		uv_buf_t b;
		int got, rc;

		if (!w)
			return MXC_ENOMEM;
		got = BIO_read(t->wbio, w->data, (int)n);
		if (got <= 0) {
			mxc_free(w);
			return MXC_EIO;
		}
		w->t = t;
		b = uv_buf_init((char *)w->data, (unsigned)got);
		rc = uv_write(&w->req, t->stream, &b, 1, on_write);
		if (rc < 0) {
			mxc_free(w);
			return rc;
		}
		t->refs++;
	}
	return 0;
}

static void flush_or_fail(struct mxc_tls *t)
{
	int rc = flush(t);

	if (rc < 0) {
		char msg[96];

		snprintf(msg, sizeof(msg), "write: %s", mxc_strerror(rc));
		fail(t, rc == MXC_ENOMEM ? MXC_ENOMEM : MXC_EIO, msg);
	}
}

static void drive_handshake(struct mxc_tls *t)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
	if (r != 1 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		char why[100];

		ssl_reason(t, e, why, sizeof(why));
		/* Send the alert OpenSSL queued, if the stream still takes it. */
		(void)flush(t);
		fail(t, MXC_EIO, why);
		return;
	}
	flush_or_fail(t);
	if (t->state == TLS_FAILED || t->closing)
		return;
	if (r == 1) {
		t->state = TLS_ESTABLISHED;
		uv_timer_stop(&t->timer);
		emit(t, MXC_TLS_EV_HANDSHAKE);
	}
}

static void on_timer(uv_timer_t *h)
{
	struct mxc_tls *t = mxc_container_of(h, struct mxc_tls, timer);

	if (t->closing || t->state != TLS_HANDSHAKING)
		return;
	fail(t, MXC_ETIMEDOUT, "timeout");
}

static void on_timer_close(uv_handle_t *h)
{
	struct mxc_tls *t = mxc_container_of(h, struct mxc_tls, timer);

	t->refs--;
	maybe_free(t);
}

static int is_ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int mxc_tls_new(uv_loop_t *loop, uv_stream_t *stream, SSL_CTX *ctx, const char *sni,
		const struct mxc_tls_opts *opts, mxc_tls_cb cb, void *arg,
		struct mxc_tls **out)
{
	struct mxc_tls *t;

	if (!loop || !stream || !ctx || !opts || !cb || !out)
		return MXC_EINVAL;
	if (sni && (strlen(sni) == 0 || strlen(sni) > 253))
		return MXC_EINVAL;
	t = mxc_calloc(1, sizeof(*t));
	if (!t)
		return MXC_ENOMEM;
	t->ssl = SSL_new(ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->rbio || !t->wbio)
		goto nomem;
	/* An empty input BIO means "no bytes yet", not end of file. */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_connect_state(t->ssl);
	if (sni && !is_ip_literal(sni) && SSL_set_tlsext_host_name(t->ssl, sni) != 1)
		goto nomem;
	t->stream = stream;
	t->opts = *opts;
	t->cb = cb;
	t->arg = arg;
	uv_timer_init(loop, &t->timer);
	t->refs = 1;
	*out = t;
	return 0;
nomem:
	ERR_clear_error();
	if (t->ssl && SSL_get_rbio(t->ssl)) {
		SSL_free(t->ssl); /* and the BIOs it owns */
	} else {
		SSL_free(t->ssl);
		BIO_free(t->rbio);
		BIO_free(t->wbio);
	}
	mxc_free(t);
	return MXC_ENOMEM;
}

SSL *mxc_tls_ssl(struct mxc_tls *t)
{
	return t->ssl;
}

int mxc_tls_start(struct mxc_tls *t)
{
	int r, e, rc;

	if (t->closing || t->state != TLS_IDLE)
		return MXC_EINVAL;
	t->state = TLS_HANDSHAKING;
	/* The first flight is produced here so that a failure to send it is
	 * reported to the caller, as the contract says, with no event. */
	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	e = SSL_get_error(t->ssl, r);
	if (r != 1 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		ERR_clear_error();
		t->state = TLS_FAILED;
		set_error(t, MXC_EIO, "cannot start handshake");
		return MXC_EIO;
	}
	rc = flush(t);
	if (rc < 0) {
		t->state = TLS_FAILED;
		set_error(t, rc, "write failed");
		return rc;
	}
	if (t->opts.handshake_timeout_ms)
		uv_timer_start(&t->timer, on_timer, t->opts.handshake_timeout_ms, 0);
	return 0;
}

void mxc_tls_feed(struct mxc_tls *t, const uint8_t *data, size_t len)
{
	if (t->closing || t->state == TLS_FAILED || t->state == TLS_PEER_CLOSED || len == 0)
		return;
	t->bytes_in += len;
	if (t->opts.max_in_bytes && t->bytes_in > t->opts.max_in_bytes) {
		fail(t, MXC_ETOOBIG, "too much data");
		return;
	}
	if (len > INT32_MAX || BIO_write(t->rbio, data, (int)len) != (int)len) {
		ERR_clear_error();
		fail(t, MXC_ENOMEM, "out of memory");
		return;
	}
	if (t->state == TLS_HANDSHAKING)
		drive_handshake(t);
	else if (t->state == TLS_ESTABLISHED)
		emit(t, MXC_TLS_EV_DATA);
}

void mxc_tls_stream_end(struct mxc_tls *t, int err)
{
	char msg[96];

	if (t->closing || t->state == TLS_FAILED || t->state == TLS_PEER_CLOSED)
		return;
	if (t->state != TLS_ESTABLISHED) {
		if (err == UV_EOF)
			snprintf(msg, sizeof(msg), "connection closed");
		else
			snprintf(msg, sizeof(msg), "read: %s", uv_strerror(err));
		fail(t, MXC_EIO, msg);
		return;
	}
	t->state = TLS_PEER_CLOSED;
	set_error(t, MXC_EIO, err == UV_EOF ? "truncated" : uv_strerror(err));
	emit(t, MXC_TLS_EV_CLOSED);
}

int mxc_tls_read(struct mxc_tls *t, uint8_t *buf, size_t cap)
{
	int r, e;

	if (t->closing || t->state != TLS_ESTABLISHED)
		return MXC_EIO;
	if (cap > INT32_MAX)
		cap = INT32_MAX;
	ERR_clear_error();
	r = SSL_read(t->ssl, buf, (int)cap);
	if (r > 0)
		return r;
	e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		/* Post-handshake messages (tickets, key updates) may want an
		 * answer; a failed write shows up on the next operation. */
		(void)flush(t);
		return 0;
	}
	if (e == SSL_ERROR_ZERO_RETURN) {
		t->state = TLS_PEER_CLOSED;
		set_error(t, MXC_EIO, "close-notify");
	} else {
		char why[100];

		ssl_reason(t, e, why, sizeof(why));
		t->state = TLS_FAILED;
		uv_timer_stop(&t->timer);
		set_error(t, MXC_EIO, why);
	}
	return MXC_EIO;
}

/* Encrypt into the output BIO without sending. */
static int seal(struct mxc_tls *t, const void *data, size_t len)
{
	int r, e;

	if (t->closing || t->state != TLS_ESTABLISHED || len > INT32_MAX)
		return MXC_EINVAL;
	if (len == 0)
		return 0;
	ERR_clear_error();
	r = SSL_write(t->ssl, data, (int)len);
	if (r <= 0) {
		char why[100];

		e = SSL_get_error(t->ssl, r);
		ssl_reason(t, e, why, sizeof(why));
		set_error(t, MXC_EIO, why);
		return MXC_EIO;
	}
	return 0;
}

int mxc_tls_write(struct mxc_tls *t, const void *data, size_t len)
{
	int rc = seal(t, data, len);

	return rc < 0 ? rc : flush(t);
}

int mxc_tls_shutdown(struct mxc_tls *t)
{
	if (t->closing || t->state != TLS_ESTABLISHED)
		return MXC_EINVAL;
	ERR_clear_error();
	(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
	return flush(t);
}

int mxc_tls_write_shutdown(struct mxc_tls *t, const void *data, size_t len)
{
	int rc = seal(t, data, len);

	if (rc < 0)
		return rc;
	/* One flush for both records: one write on the stream, not two. */
	return mxc_tls_shutdown(t);
}

const char *mxc_tls_error(const struct mxc_tls *t)
{
	return t->errcode ? t->err : NULL;
}

int mxc_tls_error_code(const struct mxc_tls *t)
{
	return t->errcode;
}

int mxc_tls_established(const struct mxc_tls *t)
{
	return t->state == TLS_ESTABLISHED || (t->state == TLS_PEER_CLOSED && SSL_is_init_finished(t->ssl));
}

uint64_t mxc_tls_bytes_in(const struct mxc_tls *t)
{
	return t->bytes_in;
}

void mxc_tls_close(struct mxc_tls *t)
{
	if (!t || t->closing)
		return;
	t->closing = 1;
	uv_timer_stop(&t->timer);
	uv_close((uv_handle_t *)&t->timer, on_timer_close);
}
