/**
 * \file
 * The SMTP STARTTLS probe: one state machine per (MX name, address, port).
 *
 * The layers are stacked rather than switched: TCP (libuv) carries either
 * clear-text SMTP, read here into a capped reply buffer and cut into replies
 * by the pure parser of smtp_reply.c, or TLS (tls.c), which gets every byte
 * read after the 220 to STARTTLS. Bytes that arrive in clear text after that
 * 220 are thrown away, never handed to TLS: a server (or a box on the path)
 * that injects them must not be able to pose as the TLS peer.
 *
 * One timer per probe carries the deadline of the current step (connect,
 * banner, each command reply, QUIT); the TLS layer carries the handshake's.
 * Every change of state goes through set_state(), which logs it at debug
 * level. The probe decides its finding as soon as it is known (conclude()),
 * says QUIT when the server is still talking sense, and then closes; the
 * user's callback runs from the last close callback, so the probe is never
 * freed inside its own callback chain, and a probe whose start succeeded
 * always reports exactly once.
 *
 * After the handshake nothing the server says can change the finding, so
 * QUIT and close_notify go out in one write, our FIN follows, and the rest
 * (session tickets, the 221) is drained from the socket undecrypted until
 * the server closes (say_goodbye()).
 *
 * Verification is run with SSL_VERIFY_NONE so that every server yields its
 * facts:
 *  - PKIX: the presented chain is verified, without DANE, against the
 *    context's trust store (system or --ca-file), purpose TLS server: in the
 *    handshake's own verification step when no DANE record is in play
 *    (handshake_verify()), after it otherwise. The verdict is cached per
 *    context by the chain's digest (chain_verdict(); smtp.h says when it is
 *    reused). The name check against the MX name is separate and runs on
 *    every probe (X509_check_host, no partial wildcards: RFC 6125 allows
 *    the wildcard only as the whole left-most label, which is OpenSSL's
 *    rule too).
 *  - DANE: when the TLSA RRset is DNSSEC-secure, its DANE-TA(2) and
 *    DANE-EE(3) records are given to OpenSSL (SSL_dane_tlsa_add) before the
 *    handshake; PKIX-TA(0)/PKIX-EE(1) are unusable for SMTP (RFC 7672
 *    section 3.1.3) and skipped. OpenSSL's verdict is read with
 *    SSL_get_verify_result() and SSL_get0_dane_tlsa(). DANE-EE matches
 *    ignore names (DANE_FLAG_NO_DANE_EE_NAMECHECKS, RFC 7672 section 3.1.1)
 *    and dates (OpenSSL skips them for a DANE-EE match); DANE-TA matches
 *    need a valid chain to the TA and a name match with the MX name.
 *    Insecure records are reported as not-dnssec and never given to
 *    OpenSSL.
 */
#include "probes/smtp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "probes/smtp_reply.h"
#include "probes/tls.h"

#define DEF_CONNECT_MS 10000
#define DEF_BANNER_MS 30000
#define DEF_COMMAND_MS 20000
#define DEF_TLS_MS 20000
#define DEF_QUIT_MS 3000
#define DEF_REPLY_BYTES (16 * 1024)
#define DEF_TLS_BYTES (256 * 1024)
#define READ_CHUNK (64 * 1024)
#define EHLO_NAME_MAX 255
#define DEF_CACHE_SLOTS 8192
#define MAX_CACHE_SLOTS (1u << 24)

/** One cached PKIX chain verdict (see mxc_smtp_ctx_new() in smtp.h). */
struct chain_entry {
	uint8_t key[32];  /**< SHA-256 over the presented certificates' SHA-256 */
	int64_t from;     /**< the verdict holds while from < now < until - 1 */
	int64_t until;
	long error;       /**< X509_V_OK, or why the chain is not trusted */
	int used;
};

struct mxc_smtp_ctx {
	uv_loop_t *loop;
	SSL_CTX *ssl_ctx;
	char ehlo_cmd[EHLO_NAME_MAX + 8]; /**< "EHLO <name>\r\n" */
	size_t ehlo_cmd_len;
	struct mxc_smtp_opts opts;        /**< defaults filled in; no strings */
	struct mxc_smtp_stats stats;
	struct mxc_smtp_probe *live; /**< probes in flight, for cancel */
	/** SHA-256 fetched once: passing EVP_sha256() would make OpenSSL 3
	 * look the implementation up again on every digest. */
	EVP_MD *sha256;
	EVP_MD_CTX *md;              /**< for chain keys; the loop is one thread */
	struct chain_entry *cache;   /**< NULL when the cache is off */
	size_t cache_mask;           /**< slots - 1 */
	/** One read buffer for every probe: libuv hands each read to its
	 * callback at once, which copies the bytes into the probe's reply
	 * buffer or TLS input, so no probe needs a buffer of its own. */
	uint8_t rbuf[READ_CHUNK];
};

enum probe_state {
	ST_CONNECT = 0,
	ST_BANNER,
	ST_EHLO,
	ST_STARTTLS,
	ST_HANDSHAKE,
	ST_QUIT,       /**< QUIT sent in clear text, finding known */
	ST_QUIT_TLS,   /**< QUIT and close_notify sent over TLS, FIN after
			    them; draining what the server still sends */
	ST_CLOSING,
};

static const char *const STATE_NAMES[] = {
	"connect", "banner", "ehlo", "starttls", "handshake", "quit", "quit-tls", "closing",
};

struct mxc_smtp_probe {
	struct mxc_smtp_probe *next, *prev; /**< in ctx->live */
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect;
	uv_shutdown_t shutdown;      /**< our FIN after the last words over TLS */
	struct mxc_smtp_ctx *ctx;
	struct mxc_tls *tls;
	enum probe_state state;
	int open_handles;
	mxc_smtp_cb cb;
	void *arg;
	uint64_t start_ms;
	struct sockaddr_storage addr;
	struct mxc_tlsa tlsa[MXC_SMTP_TLSA_MAX];
	size_t ntlsa;
	uint8_t *tlsa_data;          /**< one block holding every record's data */
	int dane_wanted;             /**< secure records usable for SMTP exist */
	int dane_usable;             /**< and OpenSSL took at least one */
	int dane_enabled;            /**< SSL_dane_enable() ran (the handshake's
					  verification then knows the name) */
	int have_leaf_md;            /**< leaf_md is the leaf's SHA-256 */
	uint8_t leaf_md[32];
	struct mxc_buf in;           /**< clear-text bytes not yet a reply */
	uint64_t drained;            /**< bytes thrown away after the TLS QUIT */
	struct mxc_smtp_result res;
};

struct plain_write {
	uv_write_t req;
	char data[];
};

static void on_timeout(uv_timer_t *h);
static void tls_event(struct mxc_tls *t, enum mxc_tls_event ev, void *arg);

const char *mxc_smtp_status_name(enum mxc_smtp_status s)
{
	switch (s) {
	case MXC_SMTP_OK: return "ok";
	case MXC_SMTP_CONNECT_FAILED: return "connect-failed";
	case MXC_SMTP_TIMEOUT: return "timeout";
	case MXC_SMTP_BANNER_ERROR: return "banner-error";
	case MXC_SMTP_NO_STARTTLS: return "no-starttls";
	case MXC_SMTP_STARTTLS_REJECTED: return "starttls-rejected";
	case MXC_SMTP_TLS_FAILED: return "tls-failed";
	case MXC_SMTP_BLOCKED: return "blocked";
	}
	return "?";
}

const char *mxc_dane_result_name(enum mxc_dane_result d)
{
	switch (d) {
	case MXC_DANE_NONE: return "none";
	case MXC_DANE_MATCH_EE: return "match-ee";
	case MXC_DANE_MATCH_TA: return "match-ta";
	case MXC_DANE_MISMATCH: return "mismatch";
	case MXC_DANE_NOT_DNSSEC: return "not-dnssec";
	}
	return "?";
}

void mxc_smtp_strip_names(unsigned bits, char *buf, size_t cap)
{
	static const char *const names[] = { "ehlo-stripped", "starttls-454", "starttls-dropped" };
	size_t i, len = 0;

	if (cap == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < MXC_ARRAY_SIZE(names); i++) {
		int n;

		if (!(bits & (1u << i)))
			continue;
		n = snprintf(buf + len, cap - len, "%s%s", len ? ";" : "", names[i]);
		if (n < 0 || (size_t)n >= cap - len)
			return;
		len += (size_t)n;
	}
}

size_t mxc_smtp_probe_size(void)
{
	return sizeof(struct mxc_smtp_probe);
}

/* Copy peer-controlled bytes as printable ASCII, bounded. */
static void copy_printable(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t i;

	if (cap == 0)
		return;
	if (n > cap - 1)
		n = cap - 1;
	for (i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[n] = '\0';
}

static void set_state(struct mxc_smtp_probe *p, enum probe_state s)
{
	mxc_log_debug("smtp %s [%s]: %s -> %s", p->res.mx_host, p->res.ip,
		      STATE_NAMES[p->state], STATE_NAMES[s]);
	p->state = s;
}

static void arm(struct mxc_smtp_probe *p, uint64_t ms)
{
	uv_timer_start(&p->timer, on_timeout, ms, 0);
}

/* ---- ending ---------------------------------------------------------- */

static void on_close(uv_handle_t *h)
{
	struct mxc_smtp_probe *p = h->data;
	struct mxc_smtp_ctx *ctx = p->ctx;

	if (--p->open_handles > 0)
		return;
	if (p->prev)
		p->prev->next = p->next;
	else
		ctx->live = p->next;
	if (p->next)
		p->next->prev = p->prev;
	ctx->stats.finished++;
	ctx->stats.in_flight--;
	p->cb(&p->res, p->arg);
	mxc_buf_free(&p->in);
	mxc_free(p->tlsa_data);
	mxc_free(p);
}

/* Release everything; the callback follows from the close callbacks. */
static void finish(struct mxc_smtp_probe *p)
{
	if (p->state == ST_CLOSING)
		return;
	set_state(p, ST_CLOSING);
	p->res.elapsed_ms = mxc_now_ms() - p->start_ms;
	/* DANE could not be checked because no TLS session came up: a DANE
	 * sender would not deliver to this host. */
	if (p->dane_wanted && p->res.status != MXC_SMTP_OK) {
		p->res.dane = MXC_DANE_MISMATCH;
		snprintf(p->res.dane_detail, sizeof(p->res.dane_detail), "no-tls");
	}
	if (p->tls) {
		mxc_tls_close(p->tls);
		p->tls = NULL;
	}
	uv_timer_stop(&p->timer);
	uv_close((uv_handle_t *)&p->timer, on_close);
	uv_close((uv_handle_t *)&p->tcp, on_close);
}

/* Record the finding and end the conversation at once. */
static void fail_now(struct mxc_smtp_probe *p, enum mxc_smtp_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_now(struct mxc_smtp_probe *p, enum mxc_smtp_status st, const char *fmt, ...)
{
	va_list ap;

	p->res.status = st;
	va_start(ap, fmt);
	vsnprintf(p->res.detail, sizeof(p->res.detail), fmt, ap);
	va_end(ap);
	finish(p);
}

static void on_plain_write(uv_write_t *req, int status)
{
	struct plain_write *w = mxc_container_of(req, struct plain_write, req);

	/* A failed write shows up as an error or EOF on the read side. */
	(void)status;
	mxc_free(w);
}

static int send_plain(struct mxc_smtp_probe *p, const char *cmd, size_t len)
{
	struct plain_write *w = mxc_malloc(sizeof(*w) + len);
	uv_buf_t b;
	int rc;

	if (!w)
		return MXC_ENOMEM;
	memcpy(w->data, cmd, len);
	b = uv_buf_init(w->data, (unsigned)len);
	rc = uv_write(&w->req, (uv_stream_t *)&p->tcp, &b, 1, on_plain_write);
	if (rc < 0)
		mxc_free(w);
	return rc;
}

/* The finding is known and the server still talks SMTP: say QUIT politely,
 * wait briefly for its 221, then close. */
static void conclude(struct mxc_smtp_probe *p, enum mxc_smtp_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void conclude(struct mxc_smtp_probe *p, enum mxc_smtp_status st, const char *fmt, ...)
{
	va_list ap;

	p->res.status = st;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(p->res.detail, sizeof(p->res.detail), fmt, ap);
		va_end(ap);
	}
	mxc_buf_reset(&p->in);
	if (send_plain(p, "QUIT\r\n", 6) < 0) {
		finish(p);
		return;
	}
	set_state(p, ST_QUIT);
	arm(p, p->ctx->opts.quit_timeout_ms);
}

/* ---- TLS: facts and verification ------------------------------------- */

static void hex(char *dst, const uint8_t *src, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 15];
	}
	dst[2 * n] = '\0';
}

static void asn1_time(const ASN1_TIME *t, char out[21])
{
	struct tm tm;

	out[0] = '\0';
	if (t && ASN1_TIME_to_tm(t, &tm) == 1)
		mxc_rfc3339((int64_t)timegm(&tm), out);
}

static void append_name(char *buf, size_t cap, size_t *len, const uint8_t *s, size_t n)
{
	char tmp[256];

	copy_printable(tmp, sizeof(tmp), s, n);
	if (*len + (*len ? 1 : 0) + strlen(tmp) + 1 > cap)
		return; /* keep whole names only */
	*len += (size_t)snprintf(buf + *len, cap - *len, "%s%s", *len ? ";" : "", tmp);
}

static void cert_names(X509 *leaf, char *buf, size_t cap)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DNS)
			append_name(buf, cap, &len, ASN1_STRING_get0_data(g->d.dNSName),
				    (size_t)ASN1_STRING_length(g->d.dNSName));
	}
	GENERAL_NAMES_free(gens);
	if (len == 0) {
		/* RFC 6125 6.4.4: the CN only when there is no DNS-ID. */
		const X509_NAME *subj = X509_get_subject_name(leaf);
		int idx = -1;

		while ((idx = X509_NAME_get_index_by_NID(subj, NID_commonName, idx)) >= 0) {
			const ASN1_STRING *s =
				X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));

			append_name(buf, cap, &len, ASN1_STRING_get0_data(s),
				    (size_t)ASN1_STRING_length(s));
		}
	}
}

static void cert_issuer(X509 *leaf, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char tmp[MXC_SMTP_ISSUER_LEN];
	int n;

	buf[0] = '\0';
	if (!b)
		return;
	if (X509_NAME_print_ex(b, X509_get_issuer_name(leaf), 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(b, tmp, (int)sizeof(tmp));
		if (n > 0)
			copy_printable(buf, cap, (const uint8_t *)tmp, (size_t)n);
	}
	BIO_free(b);
}

static void cert_digests(struct mxc_smtp_probe *p, X509 *leaf)
{
	const EVP_MD *sha256 = p->ctx->sha256;
	struct mxc_smtp_result *res = &p->res;
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int mdlen = 0;
	int n;

	/* The chain key may have hashed the leaf already. */
	if (p->have_leaf_md)
		hex(res->cert_sha256, p->leaf_md, 32);
	else if (X509_digest(leaf, sha256, md, &mdlen) == 1 && mdlen == 32)
		hex(res->cert_sha256, md, 32);
	/* The whole SubjectPublicKeyInfo, as TLSA selector 1 hashes it (not
	 * X509_pubkey_digest, which hashes the key bits alone). */
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der);
	if (n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, sha256, NULL) == 1 && mdlen == 32)
		hex(res->spki_sha256, md, 32);
	OPENSSL_free(der);
}

/* ---- PKIX chain verdicts, cached per context -------------------------- */

/* The cache key of the presented chain: SHA-256 over the SHA-256 of each
 * certificate's DER, in the order sent. Keeps the leaf's digest for the
 * facts. 0, or -1 when something could not be hashed (no key, no cache). */
static int chain_key(struct mxc_smtp_probe *p, STACK_OF(X509) *chain, X509 *leaf,
		     uint8_t key[32])
{
	struct mxc_smtp_ctx *ctx = p->ctx;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int i, n = chain ? sk_X509_num(chain) : 0;

	if (n <= 0 || EVP_DigestInit_ex(ctx->md, ctx->sha256, NULL) != 1)
		return -1;
	for (i = 0; i < n; i++) {
		X509 *x = sk_X509_value(chain, i);

		if (X509_digest(x, ctx->sha256, md, &mdlen) != 1 || mdlen != 32 ||
		    EVP_DigestUpdate(ctx->md, md, 32) != 1)
			return -1;
		if (x == leaf) {
			memcpy(p->leaf_md, md, 32);
			p->have_leaf_md = 1;
		}
	}
	return EVP_DigestFinal_ex(ctx->md, key, &mdlen) == 1 && mdlen == 32 ? 0 : -1;
}

/* Narrow (*from, *until) to the dates of @p x around @p now: the verdict
 * cannot change between two consecutive validity dates of the chain. */
static void window_add(X509 *x, int64_t now, int64_t *from, int64_t *until)
{
	const ASN1_TIME *d[2] = { X509_get0_notBefore(x), X509_get0_notAfter(x) };
	struct tm tm;
	int i;

	for (i = 0; i < 2; i++) {
		int64_t t;

		if (!d[i] || ASN1_TIME_to_tm(d[i], &tm) != 1) {
			*until = *from; /* a date we cannot read: never reuse */
			return;
		}
		t = (int64_t)timegm(&tm);
		if (t <= now) {
			if (t > *from)
				*from = t;
		} else if (t < *until) {
			*until = t;
		}
	}
}

static struct chain_entry *cache_slot(struct mxc_smtp_ctx *ctx, const uint8_t key[32])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h)); /* a SHA-256 output: already uniform */
	return &ctx->cache[h & ctx->cache_mask];
}

/*
 * The PKIX verdict of the chain @p sc was initialised with (the presented
 * chain, purpose TLS server, no host name): from the cache when this chain
 * was verified before in the same validity window, else by verifying it.
 * Returns X509_V_OK or the X509_V_ERR_* why the chain is not trusted.
 */
static long chain_verdict(struct mxc_smtp_probe *p, X509_STORE_CTX *sc)
{
	struct mxc_smtp_ctx *ctx = p->ctx;
	STACK_OF(X509) *presented = X509_STORE_CTX_get0_untrusted(sc);
	X509 *leaf = X509_STORE_CTX_get0_cert(sc);
	struct chain_entry *e = NULL;
	int64_t now = 0, from = INT64_MIN, until = INT64_MAX;
	uint8_t key[32];
	long err;
	int r, i;

	if (ctx->cache && chain_key(p, presented, leaf, key) == 0) {
		now = mxc_wall_time();
		e = cache_slot(ctx, key);
		if (e->used && memcmp(e->key, key, 32) == 0 && e->from < now &&
		    now < e->until - 1) {
			ctx->stats.chain_cache_hits++;
			return e->error;
		}
	}
	ctx->stats.chain_cache_misses++;
	r = X509_verify_cert(sc);
	err = r == 1 ? X509_V_OK : X509_STORE_CTX_get_error(sc);
	if (r != 1 && err == X509_V_OK)
		return X509_V_ERR_UNSPECIFIED; /* our own failure: not a verdict */
	if (!e)
		return err;
	for (i = 0; i < sk_X509_num(presented); i++)
		window_add(sk_X509_value(presented, i), now, &from, &until);
	if (X509_STORE_CTX_get0_chain(sc))
		for (i = 0; i < sk_X509_num(X509_STORE_CTX_get0_chain(sc)); i++)
			window_add(sk_X509_value(X509_STORE_CTX_get0_chain(sc), i), now,
				   &from, &until);
	memcpy(e->key, key, 32);
	e->from = from;
	e->until = until;
	e->error = err;
	e->used = 1;
	return err;
}

/*
 * OpenSSL's verification step of the handshake (SSL_CTX_set_cert_verify_
 * callback). It runs under SSL_VERIFY_NONE too, and its result is what
 * SSL_get_verify_result() reports. With DANE on the session it is DANE's
 * verification, run as OpenSSL would; without, it is exactly the PKIX
 * verdict the probe records, so it goes through the cache.
 */
static int handshake_verify(X509_STORE_CTX *sc, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(sc, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct mxc_smtp_probe *p = ssl ? SSL_get_app_data(ssl) : NULL;
	long err;

	(void)arg;
	if (!p || p->dane_enabled)
		return X509_verify_cert(sc);
	err = chain_verdict(p, sc);
	X509_STORE_CTX_set_error(sc, (int)err);
	return err == X509_V_OK;
}

static void verify_pkix(struct mxc_smtp_probe *p, SSL *ssl, X509 *leaf)
{
	X509_STORE *store = SSL_CTX_get_cert_store(p->ctx->ssl_ctx);
	X509_STORE_CTX *sc = NULL;
	struct mxc_smtp_result *res = &p->res;

	/*
	 * Without DANE records in play, the handshake already verified the
	 * chain against the same store with the same purpose (OpenSSL does so
	 * even under SSL_VERIFY_NONE, and records the result; see
	 * handshake_verify()): take that verdict rather than verify again
	 * (measured: a fifth of a probe's instructions). With DANE, the
	 * handshake's verdict is DANE's, so PKIX is verified on its own.
	 */
	if (!p->dane_usable) {
		long v = SSL_get_verify_result(ssl);

		res->chain_valid = v == X509_V_OK;
		if (!res->chain_valid)
			snprintf(res->pkix_error, sizeof(res->pkix_error), "%s",
				 X509_verify_cert_error_string(v));
		goto name;
	}
	sc = X509_STORE_CTX_new();
	if (sc && X509_STORE_CTX_init(sc, store, leaf, SSL_get_peer_cert_chain(ssl)) == 1 &&
	    X509_STORE_CTX_set_default(sc, "ssl_server") == 1) {
		long err = chain_verdict(p, sc);

		res->chain_valid = err == X509_V_OK;
		if (!res->chain_valid)
			snprintf(res->pkix_error, sizeof(res->pkix_error), "%s",
				 X509_verify_cert_error_string(err));
	} else {
		snprintf(res->pkix_error, sizeof(res->pkix_error), "verification not run (out of memory)");
	}
	X509_STORE_CTX_free(sc);
name:
	ERR_clear_error();
	res->name_valid = X509_check_host(leaf, res->mx_host, strlen(res->mx_host),
					  X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
	if (res->chain_valid && !res->name_valid)
		snprintf(res->pkix_error, sizeof(res->pkix_error), "name-mismatch");
	res->pkix_valid = res->chain_valid && res->name_valid;
}

static void verify_dane(struct mxc_smtp_probe *p, SSL *ssl)
{
	struct mxc_smtp_result *res = &p->res;
	long vr = SSL_get_verify_result(ssl);
	uint8_t u = 0, s = 0, m = 0;
	const unsigned char *d = NULL;
	size_t dl = 0;
	int depth;

	if (!p->dane_usable)
		return;
	depth = SSL_get0_dane_tlsa(ssl, &u, &s, &m, &d, &dl);
	if (vr == X509_V_OK && depth >= 0) {
		res->dane = u == 3 ? MXC_DANE_MATCH_EE : MXC_DANE_MATCH_TA;
		snprintf(res->dane_detail, sizeof(res->dane_detail),
			 "%u %u %u at depth %d", u, s, m, depth);
	} else {
		res->dane = MXC_DANE_MISMATCH;
		snprintf(res->dane_detail, sizeof(res->dane_detail), "%s",
			 X509_verify_cert_error_string(vr == X509_V_OK ? X509_V_ERR_DANE_NO_MATCH : vr));
	}
}

static void collect_facts(struct mxc_smtp_probe *p)
{
	SSL *ssl = mxc_tls_ssl(p->tls);
	struct mxc_smtp_result *res = &p->res;
	X509 *leaf = SSL_get0_peer_certificate(ssl);

	snprintf(res->tls_version, sizeof(res->tls_version), "%s", SSL_get_version(ssl));
	snprintf(res->cipher, sizeof(res->cipher), "%s", SSL_get_cipher_name(ssl));
	if (!leaf) {
		snprintf(res->pkix_error, sizeof(res->pkix_error), "no certificate");
	} else {
		cert_digests(p, leaf);
		cert_issuer(leaf, res->issuer, sizeof(res->issuer));
		asn1_time(X509_get0_notBefore(leaf), res->not_before);
		asn1_time(X509_get0_notAfter(leaf), res->not_after);
		cert_names(leaf, res->cert_names, sizeof(res->cert_names));
		verify_pkix(p, ssl, leaf);
	}
	verify_dane(p, ssl);
	ERR_clear_error();
}

/* Give the usable secure records to OpenSSL before the handshake. */
static int setup_dane(struct mxc_smtp_probe *p, SSL *ssl)
{
	size_t i, usable = 0;

	if (!p->res.tlsa_dnssec || p->ntlsa == 0)
		return 0;
	for (i = 0; i < p->ntlsa; i++) {
		const struct mxc_tlsa *t = &p->tlsa[i];

		if (t->usage != 2 && t->usage != 3)
			continue;
		if (usable == 0 && !p->dane_enabled) {
			if (SSL_dane_enable(ssl, p->res.mx_host) <= 0) {
				ERR_clear_error();
				return MXC_ENOMEM;
			}
			p->dane_enabled = 1;
		}
		/* 0: unusable (unknown selector or matching type, wrong digest
		 * length); the RFC says to skip such records. */
		if (SSL_dane_tlsa_add(ssl, t->usage, t->selector, t->mtype, t->data, t->len) > 0)
			usable++;
		ERR_clear_error();
	}
	if (usable == 0) {
		snprintf(p->res.dane_detail, sizeof(p->res.dane_detail), "no usable records");
		return 0;
	}
	/* RFC 7672 3.1.1: DANE-EE(3) binds the key, not a name. */
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	p->dane_usable = 1;
	return 0;
}

static void start_tls(struct mxc_smtp_probe *p)
{
	struct mxc_smtp_ctx *ctx = p->ctx;
	struct mxc_tls_opts o = {
		.handshake_timeout_ms = ctx->opts.tls_timeout_ms,
		.max_in_bytes = ctx->opts.max_tls_bytes,
	};
	int rc;

	/* Clear-text bytes after the 220 are not the server's TLS: drop them. */
	mxc_buf_reset(&p->in);
	rc = mxc_tls_new(ctx->loop, (uv_stream_t *)&p->tcp, ctx->ssl_ctx, p->res.mx_host, &o,
			 tls_event, p, &p->tls);
	if (rc == 0) {
		SSL_set_app_data(mxc_tls_ssl(p->tls), p); /* for handshake_verify() */
		rc = setup_dane(p, mxc_tls_ssl(p->tls));
	}
	if (rc == 0) {
		uv_timer_stop(&p->timer); /* the layer keeps the deadline now */
		set_state(p, ST_HANDSHAKE);
		rc = mxc_tls_start(p->tls);
	}
	if (rc < 0)
		fail_now(p, MXC_SMTP_TLS_FAILED, "tls: cannot start: %s", mxc_strerror(rc));
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	/* Nothing to do: a failed or canceled FIN ends in the read side's
	 * EOF, an error or the QUIT deadline, all of which finish the probe. */
	(void)req;
	(void)status;
}

/*
 * The finding is complete once the handshake is: say goodbye the way a
 * careful MTA does and stop paying for the session. QUIT and close_notify
 * leave in one write and our FIN follows them. The 221 and whatever else
 * the server still sends (TLS 1.3 session tickets, its close_notify) is
 * read off the socket and thrown away undecrypted: decrypting it would
 * tell nothing about the host (Postfix's client does not wait for the 221
 * either, smtp_skip_quit_response), and reading it rather than closing on
 * it lets the connection end with FINs, not a reset. The server's EOF, the
 * QUIT deadline or the reply cap ends the probe.
 */
static void say_goodbye(struct mxc_smtp_probe *p)
{
	if (mxc_tls_write_shutdown(p->tls, "QUIT\r\n", 6) < 0) {
		finish(p);
		return;
	}
	/* Nothing more goes through TLS: release the session now (its last
	 * write keeps the memory until libuv is done with it). */
	mxc_tls_close(p->tls);
	p->tls = NULL;
	(void)uv_shutdown(&p->shutdown, (uv_stream_t *)&p->tcp, on_shutdown);
	set_state(p, ST_QUIT_TLS);
	arm(p, p->ctx->opts.quit_timeout_ms);
}

static void tls_event(struct mxc_tls *t, enum mxc_tls_event ev, void *arg)
{
	struct mxc_smtp_probe *p = arg;

	if (p->state == ST_CLOSING)
		return;
	switch (ev) {
	case MXC_TLS_EV_HANDSHAKE:
		p->res.status = MXC_SMTP_OK;
		collect_facts(p);
		say_goodbye(p);
		return;
	case MXC_TLS_EV_DATA:
		return; /* nothing is read over TLS: see say_goodbye() */
	case MXC_TLS_EV_CLOSED:
		finish(p);
		return;
	case MXC_TLS_EV_ERROR:
		if (p->state != ST_HANDSHAKE) {
			finish(p);
			return;
		}
		if (mxc_tls_error_code(t) == MXC_ETIMEDOUT)
			fail_now(p, MXC_SMTP_TIMEOUT, "tls handshake: timeout");
		else
			fail_now(p, MXC_SMTP_TLS_FAILED, "tls handshake: %s", mxc_tls_error(t));
		return;
	}
}

/* ---- clear-text SMTP ------------------------------------------------- */

static void on_banner(struct mxc_smtp_probe *p, const struct mxc_smtp_reply *r)
{
	const struct mxc_span *t = &r->text[0];
	struct mxc_smtp_ctx *ctx = p->ctx;

	p->res.banner_code = r->code;
	copy_printable(p->res.banner, sizeof(p->res.banner), p->in.data + t->off, t->len);
	if (r->code != 220) {
		conclude(p, MXC_SMTP_BANNER_ERROR, "banner: reply %d", r->code);
		return;
	}
	if (send_plain(p, ctx->ehlo_cmd, ctx->ehlo_cmd_len) < 0) {
		fail_now(p, MXC_SMTP_CONNECT_FAILED, "write failed");
		return;
	}
	set_state(p, ST_EHLO);
	arm(p, ctx->opts.command_timeout_ms);
}

static void on_ehlo(struct mxc_smtp_probe *p, const struct mxc_smtp_reply *r)
{
	struct mxc_ehlo e;

	if (r->code != 250) {
		conclude(p, MXC_SMTP_NO_STARTTLS, "ehlo: reply %d", r->code);
		return;
	}
	mxc_ehlo_parse(p->in.data, r, &e);
	p->res.ehlo_ext = e.ext;
	if (e.stripped) {
		p->res.stripping |= MXC_STRIP_EHLO;
		copy_printable(p->res.stripped_keyword, sizeof(p->res.stripped_keyword),
			       (const uint8_t *)e.stripped_keyword, strlen(e.stripped_keyword));
	}
	if (!(e.ext & MXC_EHLO_STARTTLS)) {
		conclude(p, MXC_SMTP_NO_STARTTLS, e.stripped ? "ehlo: STARTTLS overwritten (%s)"
							     : "ehlo: STARTTLS not offered%s",
			 e.stripped ? p->res.stripped_keyword : "");
		return;
	}
	p->res.starttls_offered = 1;
	if (send_plain(p, "STARTTLS\r\n", 10) < 0) {
		fail_now(p, MXC_SMTP_CONNECT_FAILED, "write failed");
		return;
	}
	set_state(p, ST_STARTTLS);
	arm(p, p->ctx->opts.command_timeout_ms);
}

static void on_starttls(struct mxc_smtp_probe *p, const struct mxc_smtp_reply *r)
{
	if (r->code == 220 && p->in.len > r->consumed) {
		/* Bytes after the 220 and before our ClientHello: no server
		 * speaking TLS sends them. Whether they came in the same read as
		 * the 220 or the next one (when TLS would choke on them), the
		 * finding is the same: the handshake cannot happen. */
		fail_now(p, MXC_SMTP_TLS_FAILED, "starttls: %zu bytes of clear text after the 220",
			 p->in.len - r->consumed);
		return;
	}
	if (r->code == 220) {
		start_tls(p);
		return;
	}
	if (r->code == 454)
		p->res.stripping |= MXC_STRIP_454;
	conclude(p, MXC_SMTP_STARTTLS_REJECTED, "starttls: reply %d", r->code);
}

/* A reply the state cannot use: what it means depends on where we are. */
static void protocol_error(struct mxc_smtp_probe *p, const char *why)
{
	switch (p->state) {
	case ST_BANNER:
		fail_now(p, MXC_SMTP_BANNER_ERROR, "banner: %s", why);
		break;
	case ST_EHLO:
		fail_now(p, MXC_SMTP_NO_STARTTLS, "ehlo: %s", why);
		break;
	case ST_STARTTLS:
		fail_now(p, MXC_SMTP_STARTTLS_REJECTED, "starttls: %s", why);
		break;
	default:
		finish(p);
		break;
	}
}

static void process_plain(struct mxc_smtp_probe *p)
{
	struct mxc_smtp_reply r;
	int rc;

	while (p->state != ST_CLOSING && p->in.len > 0) {
		rc = mxc_smtp_reply_parse(p->in.data, p->in.len, &r);
		if (rc == 0)
			return;
		if (rc < 0) {
			protocol_error(p, r.error);
			return;
		}
		switch (p->state) {
		case ST_BANNER:
			on_banner(p, &r);
			break;
		case ST_EHLO:
			on_ehlo(p, &r);
			break;
		case ST_STARTTLS:
			on_starttls(p, &r);
			return; /* the buffer was handed over or reset */
		case ST_QUIT:
			finish(p);
			return;
		default:
			return;
		}
		/* A server that talks ahead of its turn gets no say: drop
		 * whatever followed the reply. */
		mxc_buf_reset(&p->in);
	}
}

static void stream_end(struct mxc_smtp_probe *p, ssize_t err)
{
	const char *why = err == UV_EOF ? "connection closed" : uv_strerror((int)err);

	switch (p->state) {
	case ST_BANNER:
		fail_now(p, MXC_SMTP_BANNER_ERROR, "banner: %s", why);
		break;
	case ST_EHLO:
		fail_now(p, MXC_SMTP_NO_STARTTLS, "ehlo: %s", why);
		break;
	case ST_STARTTLS:
		p->res.stripping |= MXC_STRIP_DROPPED;
		fail_now(p, MXC_SMTP_STARTTLS_REJECTED, "starttls: %s", why);
		break;
	case ST_HANDSHAKE:
		mxc_tls_stream_end(p->tls, (int)err);
		break;
	default:
		finish(p);
		break;
	}
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct mxc_smtp_probe *p = h->data;

	(void)hint;
	*buf = uv_buf_init((char *)p->ctx->rbuf, sizeof(p->ctx->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct mxc_smtp_probe *p = s->data;
	int rc;

	if (p->state == ST_CLOSING || n == 0)
		return;
	if (n < 0) {
		stream_end(p, n);
		return;
	}
	p->res.bytes_in += (uint64_t)n;
	if (p->state == ST_QUIT_TLS) {
		p->drained += (uint64_t)n;
		if (p->drained > p->ctx->opts.max_reply_bytes)
			finish(p);
		return;
	}
	if (p->tls) {
		mxc_tls_feed(p->tls, (const uint8_t *)buf->base, (size_t)n);
		return;
	}
	rc = mxc_buf_append(&p->in, buf->base, (size_t)n);
	if (rc < 0) {
		protocol_error(p, rc == MXC_ETOOBIG ? "reply too large" : "out of memory");
		return;
	}
	process_plain(p);
}

static void on_timeout(uv_timer_t *h)
{
	struct mxc_smtp_probe *p = h->data;

	if (p->state == ST_CLOSING)
		return;
	if (p->state == ST_QUIT || p->state == ST_QUIT_TLS) {
		finish(p); /* the finding stands; the 221 is a courtesy */
		return;
	}
	fail_now(p, MXC_SMTP_TIMEOUT, "%s: timeout", STATE_NAMES[p->state]);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct mxc_smtp_probe *p = mxc_container_of(req, struct mxc_smtp_probe, connect);
	int rc;

	if (p->state == ST_CLOSING)
		return;
	if (status < 0) {
		fail_now(p, MXC_SMTP_CONNECT_FAILED, "connect: %s", uv_strerror(status));
		return;
	}
	rc = uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
	if (rc < 0) {
		fail_now(p, MXC_SMTP_CONNECT_FAILED, "read: %s", uv_strerror(rc));
		return;
	}
	set_state(p, ST_BANNER);
	arm(p, p->ctx->opts.banner_timeout_ms);
}

/* ---- setup ----------------------------------------------------------- */

static void tlsa_text(struct mxc_smtp_probe *p)
{
	char *buf = p->res.tlsa_records;
	size_t cap = sizeof(p->res.tlsa_records), len = 0, i;

	for (i = 0; i < p->ntlsa; i++) {
		const struct mxc_tlsa *t = &p->tlsa[i];
		size_t need = (len ? 1 : 0) + 12 + 2 * t->len + 1;
		int n;

		if (len + need > cap)
			break; /* whole records only */
		n = snprintf(buf + len, cap - len, "%s%u %u %u ", len ? ";" : "", t->usage,
			     t->selector, t->mtype);
		if (n < 0)
			break;
		len += (size_t)n;
		hex(buf + len, t->data, t->len);
		len += 2 * t->len;
	}
}

/* What OpenSSL's SSL_dane_tlsa_add() will accept for SMTP: DANE-TA or
 * DANE-EE, a known selector, data of the matching type's length. Known
 * before the connection, so a host that never gets to TLS can still be
 * judged (a DANE sender would not deliver to it). */
static int tlsa_usable(const struct mxc_tlsa *t)
{
	if ((t->usage != 2 && t->usage != 3) || t->selector > 1)
		return 0;
	switch (t->mtype) {
	case 0: return t->len > 0;
	case 1: return t->len == 32;
	case 2: return t->len == 64;
	default: return 0;
	}
}

static int copy_target(struct mxc_smtp_probe *p, const struct mxc_smtp_target *tg)
{
	size_t i, total = 0, off = 0, n = tg->ntlsa;

	if (n > MXC_SMTP_TLSA_MAX)
		n = MXC_SMTP_TLSA_MAX;
	for (i = 0; i < n; i++) {
		if (!tg->tlsa[i].data && tg->tlsa[i].len)
			return MXC_EINVAL;
		if (tg->tlsa[i].len > 65535)
			return MXC_EINVAL;
		total += tg->tlsa[i].len;
	}
	if (total) {
		p->tlsa_data = mxc_malloc(total);
		if (!p->tlsa_data)
			return MXC_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		p->tlsa[i] = tg->tlsa[i];
		if (tg->tlsa[i].len)
			memcpy(p->tlsa_data + off, tg->tlsa[i].data, tg->tlsa[i].len);
		p->tlsa[i].data = p->tlsa_data ? p->tlsa_data + off : NULL;
		off += tg->tlsa[i].len;
	}
	p->ntlsa = n;
	for (i = 0; i < n && tg->tlsa_secure; i++)
		p->dane_wanted |= tlsa_usable(&p->tlsa[i]);
	return 0;
}

int mxc_smtp_probe_start(struct mxc_smtp_ctx *ctx, const struct mxc_smtp_target *tg,
			 mxc_smtp_cb cb, void *arg)
{
	struct mxc_smtp_probe *p;
	size_t alen;
	int rc;

	if (!ctx || !tg || !cb || !tg->mx || !tg->addr || (tg->ntlsa && !tg->tlsa))
		return MXC_EINVAL;
	if (strlen(tg->mx) == 0 || strlen(tg->mx) >= sizeof(p->res.mx_host))
		return MXC_EINVAL;
	if (tg->addr->sa_family == AF_INET)
		alen = sizeof(struct sockaddr_in);
	else if (tg->addr->sa_family == AF_INET6)
		alen = sizeof(struct sockaddr_in6);
	else
		return MXC_EINVAL;
	p = mxc_calloc(1, sizeof(*p));
	if (!p)
		return MXC_ENOMEM;
	rc = copy_target(p, tg);
	if (rc < 0) {
		mxc_free(p);
		return rc;
	}
	memcpy(&p->addr, tg->addr, alen);
	p->ctx = ctx;
	p->cb = cb;
	p->arg = arg;
	p->start_ms = mxc_now_ms();
	p->res.probed_at = mxc_wall_time();
	snprintf(p->res.mx_host, sizeof(p->res.mx_host), "%s", tg->mx);
	if (tg->addr->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)tg->addr;

		uv_ip4_name(a, p->res.ip, sizeof(p->res.ip));
		p->res.port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)tg->addr;

		uv_ip6_name(a, p->res.ip, sizeof(p->res.ip));
		p->res.port = ntohs(a->sin6_port);
	}
	p->res.tlsa_dnssec = p->ntlsa > 0 && tg->tlsa_secure;
	if (p->ntlsa > 0 && !tg->tlsa_secure) {
		p->res.dane = MXC_DANE_NOT_DNSSEC;
		snprintf(p->res.dane_detail, sizeof(p->res.dane_detail), "tlsa not secure: unused");
	}
	if (tg->ntlsa > MXC_SMTP_TLSA_MAX)
		mxc_log_debug("smtp %s: %zu TLSA records, %d considered", tg->mx, tg->ntlsa,
			      MXC_SMTP_TLSA_MAX);
	tlsa_text(p);
	mxc_buf_init(&p->in, ctx->opts.max_reply_bytes);

	rc = uv_tcp_init(ctx->loop, &p->tcp);
	if (rc < 0) {
		mxc_free(p->tlsa_data);
		mxc_free(p);
		return rc;
	}
	uv_timer_init(ctx->loop, &p->timer);
	p->tcp.data = p;
	p->timer.data = p;
	p->open_handles = 2;
	p->next = ctx->live;
	if (ctx->live)
		ctx->live->prev = p;
	ctx->live = p;
	ctx->stats.started++;
	if (++ctx->stats.in_flight > ctx->stats.peak_in_flight)
		ctx->stats.peak_in_flight = ctx->stats.in_flight;
	(void)uv_tcp_nodelay(&p->tcp, 1);
	set_state(p, ST_CONNECT);
	rc = uv_tcp_connect(&p->connect, &p->tcp, (const struct sockaddr *)&p->addr, on_connect);
	if (rc < 0) {
		/* A finding (unreachable network, no route): reported through
		 * the callback like any other, after the handles close. */
		fail_now(p, MXC_SMTP_CONNECT_FAILED, "connect: %s", uv_strerror(rc));
		return 0;
	}
	arm(p, ctx->opts.connect_timeout_ms);
	return 0;
}

/* A domain name of letters, digits, hyphens and dots, or an address
 * literal in brackets: what RFC 5321 4.1.1.1 allows after EHLO. */
static int ehlo_name_ok(const char *s)
{
	size_t i, n = strlen(s), label = 0;

	if (n == 0 || n > EHLO_NAME_MAX)
		return 0;
	if (s[0] == '[')
		return n > 2 && s[n - 1] == ']' && strspn(s + 1, "0123456789abcdefABCDEF.:Pv6-") == n - 2;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-') || ++label > 63)
			return 0;
	}
	return 1;
}

int mxc_smtp_ctx_new(uv_loop_t *loop, const struct mxc_smtp_opts *opts,
		     struct mxc_smtp_ctx **out)
{
	struct mxc_smtp_ctx *ctx;
	const char *ehlo = opts && opts->ehlo_name ? opts->ehlo_name : MXC_SMTP_DEFAULT_EHLO;
	SSL_CTX *sc;

	if (!loop || !out)
		return MXC_EINVAL;
	if (!ehlo_name_ok(ehlo)) {
		char shown[64];

		copy_printable(shown, sizeof(shown), (const uint8_t *)ehlo, strlen(ehlo));
		mxc_log_error("--ehlo %s: not a domain name or address literal", shown);
		return MXC_EINVAL;
	}
	if (opts && opts->ca_file) {
		FILE *f = fopen(opts->ca_file, "r");

		if (!f) {
			int e = errno;

			mxc_log_error("--ca-file %s: %s", opts->ca_file, strerror(e));
			return MXC_EINVAL;
		}
		fclose(f);
	}
	ctx = mxc_calloc(1, sizeof(*ctx));
	if (!ctx)
		return MXC_ENOMEM;
	if (opts)
		ctx->opts = *opts;
	ctx->opts.ehlo_name = NULL;
	ctx->opts.ca_file = NULL;
#define DEF(f, v) if (!ctx->opts.f) ctx->opts.f = (v)
	DEF(connect_timeout_ms, DEF_CONNECT_MS);
	DEF(banner_timeout_ms, DEF_BANNER_MS);
	DEF(command_timeout_ms, DEF_COMMAND_MS);
	DEF(tls_timeout_ms, DEF_TLS_MS);
	DEF(quit_timeout_ms, DEF_QUIT_MS);
	DEF(max_reply_bytes, DEF_REPLY_BYTES);
	DEF(max_tls_bytes, DEF_TLS_BYTES);
	DEF(chain_cache_slots, DEF_CACHE_SLOTS);
#undef DEF
	if (ctx->opts.chain_cache_slots > MAX_CACHE_SLOTS)
		ctx->opts.chain_cache_slots = MAX_CACHE_SLOTS;
	ctx->ehlo_cmd_len = (size_t)snprintf(ctx->ehlo_cmd, sizeof(ctx->ehlo_cmd), "EHLO %s\r\n", ehlo);
	ctx->loop = loop;
	ctx->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	ctx->md = EVP_MD_CTX_new();
	if (!ctx->sha256 || !ctx->md)
		goto nomem;
	if (!ctx->opts.chain_cache_off) {
		size_t slots = 1;

		while (slots < ctx->opts.chain_cache_slots)
			slots <<= 1;
		ctx->cache = mxc_calloc(slots, sizeof(*ctx->cache));
		if (!ctx->cache)
			goto nomem;
		ctx->cache_mask = slots - 1;
	}

	sc = SSL_CTX_new(TLS_client_method());
	if (!sc)
		goto nomem;
	ctx->ssl_ctx = sc;
	/* Measure what a sending MTA would get: opportunistic senders accept
	 * any protocol and cipher the server offers, so do we. Verification
	 * runs after the handshake, never inside it. */
	SSL_CTX_set_min_proto_version(sc, TLS1_VERSION);
	SSL_CTX_set_security_level(sc, 0);
	if (SSL_CTX_set_cipher_list(sc, "ALL:!aNULL:!eNULL:@SECLEVEL=0") != 1)
		goto nomem;
	SSL_CTX_set_options(sc, SSL_OP_NO_COMPRESSION | SSL_OP_LEGACY_SERVER_CONNECT | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
	/* Thousands of sessions wait on the network at once; their 16 KiB
	 * record buffers need not exist while they wait. */
	SSL_CTX_set_mode(sc, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(sc, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_cert_verify_callback(sc, handshake_verify, NULL);
	if (opts && opts->ca_file) {
		if (SSL_CTX_load_verify_locations(sc, opts->ca_file, NULL) != 1) {
			unsigned long e = ERR_peek_last_error();

			mxc_log_error("--ca-file %s: cannot load trust anchors: %s", opts->ca_file,
				      e && ERR_reason_error_string(e) ? ERR_reason_error_string(e)
								      : "unknown error");
			ERR_clear_error();
			mxc_smtp_ctx_free(ctx);
			return MXC_EINVAL;
		}
	} else if (SSL_CTX_set_default_verify_paths(sc) != 1) {
		mxc_log_warn("smtp: cannot load the system trust store; every chain will be untrusted");
	}
	if (SSL_CTX_dane_enable(sc) <= 0)
		goto nomem;
	ERR_clear_error();
	*out = ctx;
	return 0;
nomem:
	ERR_clear_error();
	mxc_smtp_ctx_free(ctx);
	return MXC_ENOMEM;
}

void mxc_smtp_ctx_free(struct mxc_smtp_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->stats.in_flight)
		mxc_log_error("smtp: context freed with %llu probes in flight",
			      (unsigned long long)ctx->stats.in_flight);
	mxc_require(ctx->stats.in_flight == 0);
	SSL_CTX_free(ctx->ssl_ctx);
	EVP_MD_CTX_free(ctx->md);
	EVP_MD_free(ctx->sha256);
	mxc_free(ctx->cache);
	mxc_free(ctx);
}

void mxc_smtp_ctx_cancel(struct mxc_smtp_ctx *ctx)
{
	/* finish() only starts the closes: the list stays intact meanwhile. */
	for (struct mxc_smtp_probe *p = ctx ? ctx->live : NULL; p; p = p->next)
		if (p->state != ST_CLOSING)
			fail_now(p, MXC_SMTP_TIMEOUT, "%s: canceled", STATE_NAMES[p->state]);
}

void mxc_smtp_ctx_stats(const struct mxc_smtp_ctx *ctx, struct mxc_smtp_stats *out)
{
	*out = ctx->stats;
}
