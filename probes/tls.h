/**
 * \file
 * TLS on the libuv loop: an OpenSSL client session layered over a TCP
 * stream that its owner has already connected (and may have used in clear
 * text first, as STARTTLS does).
 *
 * OpenSSL never touches the socket. Ciphertext goes through two memory BIOs:
 * the owner hands every byte it reads from the stream to mxc_tls_feed(), and
 * the layer writes what OpenSSL produces to the stream with uv_write(). The
 * owner keeps its read callback and decides when the stream stops being
 * clear text; the layer never reads the stream itself. This is what lets one
 * prober stack SMTP, STARTTLS and TLS without a big switch.
 *
 * Bounds: the handshake has a deadline (its own timer) and the layer refuses
 * more than a fixed number of ciphertext bytes from the peer, so a server
 * that drips or floods costs bounded time and memory.
 *
 * Lifetime: the owner calls mxc_tls_close() exactly once, from any state
 * and from inside an event callback too; no event is delivered after it.
 * The memory is released when the layer's timer has closed and every write
 * it queued has completed or been cancelled (uv_close of the stream cancels
 * them), so the owner may close the stream at any time after.
 */
#ifndef MXC_PROBES_TLS_H
#define MXC_PROBES_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <uv.h>

struct mxc_tls;

/** What the layer tells its owner. */
enum mxc_tls_event {
	MXC_TLS_EV_HANDSHAKE = 0, /**< the handshake completed */
	MXC_TLS_EV_DATA,          /**< plaintext may be read (mxc_tls_read) */
	MXC_TLS_EV_CLOSED,        /**< the peer sent close_notify */
	MXC_TLS_EV_ERROR,         /**< failed: mxc_tls_error() says why */
};

/**
 * Event callback.
 * @param t the layer
 * @param ev what happened
 * @param arg the owner's argument given to mxc_tls_new()
 */
typedef void (*mxc_tls_cb)(struct mxc_tls *t, enum mxc_tls_event ev, void *arg);

/** Limits of one session. */
struct mxc_tls_opts {
	uint64_t handshake_timeout_ms; /**< deadline from mxc_tls_start(); 0: none */
	size_t max_in_bytes;           /**< ciphertext accepted from the peer */
};

/**
 * Create a client session over @p stream. Nothing is sent until
 * mxc_tls_start(), so the owner can configure the session first
 * (mxc_tls_ssl(): DANE, verification parameters).
 * @param loop the loop the stream runs on
 * @param stream a connected stream; the owner keeps it and its read callback
 * @param ctx client context (referenced by the session)
 * @param sni server name to send, NULL or an IP literal for none
 * @param opts limits; copied
 * @param cb event callback
 * @param arg passed to @p cb
 * @param out the new layer; the owner closes it with mxc_tls_close()
 * @return 0, MXC_ENOMEM, or MXC_EINVAL (bad SNI name)
 */
int mxc_tls_new(uv_loop_t *loop, uv_stream_t *stream, SSL_CTX *ctx, const char *sni,
		const struct mxc_tls_opts *opts, mxc_tls_cb cb, void *arg,
		struct mxc_tls **out);

/**
 * The OpenSSL session, to configure before mxc_tls_start() and to read
 * facts from after the handshake. Owned by the layer.
 */
SSL *mxc_tls_ssl(struct mxc_tls *t);

/**
 * Start the handshake (send the ClientHello, arm the deadline). The outcome
 * arrives as MXC_TLS_EV_HANDSHAKE or MXC_TLS_EV_ERROR, never from inside
 * this call.
 * @return 0, or a negative MXC_E* / -errno if nothing could be sent (no
 *         event follows then)
 */
int mxc_tls_start(struct mxc_tls *t);

/**
 * Hand ciphertext read from the stream to the layer. Events are delivered
 * from inside this call.
 * @param data bytes read
 * @param len their number
 */
void mxc_tls_feed(struct mxc_tls *t, const uint8_t *data, size_t len);

/**
 * The stream reached EOF or failed. During the handshake this is an error
 * event ("connection closed"); after it a close without close_notify is
 * reported as MXC_TLS_EV_CLOSED with mxc_tls_error() set to "truncated".
 * @param err the libuv status (UV_EOF or an error)
 */
void mxc_tls_stream_end(struct mxc_tls *t, int err);

/**
 * Read decrypted bytes. Never delivers an event.
 * @return bytes read (> 0), 0 when nothing is buffered, or MXC_EIO when the
 *         peer closed the session (close_notify) or it failed: see
 *         mxc_tls_error()
 */
int mxc_tls_read(struct mxc_tls *t, uint8_t *buf, size_t cap);

/**
 * Encrypt and send application data.
 * @return 0, or a negative MXC_E* / -errno
 */
int mxc_tls_write(struct mxc_tls *t, const void *data, size_t len);

/**
 * Send close_notify (best effort; no event follows).
 * @return 0, or a negative MXC_E* / -errno
 */
int mxc_tls_shutdown(struct mxc_tls *t);

/**
 * Encrypt and send application data followed by close_notify, in one write
 * on the stream: the last words of a session that expects no answer it
 * needs to read. No event follows for the close_notify.
 * @param t the layer
 * @param data bytes to send before the close_notify
 * @param len their number
 * @return 0, or a negative MXC_E* / -errno
 */
int mxc_tls_write_shutdown(struct mxc_tls *t, const void *data, size_t len);

/**
 * Why the session failed: a short static-or-owned string (an OpenSSL reason,
 * "timeout", "connection closed", "too much data"), or NULL when it did not.
 * Valid until mxc_tls_close().
 */
const char *mxc_tls_error(const struct mxc_tls *t);

/**
 * The error kind behind mxc_tls_error(): MXC_ETIMEDOUT for the handshake
 * deadline, MXC_ETOOBIG for the byte cap, MXC_EIO for anything else the peer
 * did, MXC_ENOMEM for our own allocation; 0 while nothing failed.
 */
int mxc_tls_error_code(const struct mxc_tls *t);

/** 1 when the handshake completed. */
int mxc_tls_established(const struct mxc_tls *t);

/** Ciphertext bytes received so far. */
uint64_t mxc_tls_bytes_in(const struct mxc_tls *t);

/**
 * Stop delivering events and release the layer (asynchronously; see the
 * file comment). Safe inside an event callback. @p t must not be used after.
 */
void mxc_tls_close(struct mxc_tls *t);

#endif
