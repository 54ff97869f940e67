/**
 * \file
 * The MTA-STS policy fetcher: libcurl's multi-socket interface bridged to
 * the libuv loop, and the rules of RFC 8461 section 3.3 laid over it.
 *
 * The bridge is the usual one. curl asks, through CURLMOPT_SOCKETFUNCTION,
 * for a socket to be watched for reading, writing or no longer; each socket
 * gets a uv_poll_t, found again through curl_multi_assign(). curl asks,
 * through CURLMOPT_TIMERFUNCTION, to be woken after some milliseconds; one
 * uv_timer_t does that. Poll and timer callbacks hand the event to
 * curl_multi_socket_action() and then collect the finished transfers.
 *
 * Each transfer is told exactly where to connect: CURLOPT_RESOLVE with our
 * resolver's addresses for `mta-sts.<domain>:<port>`, in a DNS cache of its
 * own (a CURLSH per fetch). curl's resolve entries never expire, so in the
 * multi handle's shared cache they would pile up for every domain of a
 * census; a private cache dies with its transfer. Connections are never
 * reused across fetches, for the same reason: a kept connection would be
 * found by name and could lead a later fetch to an address its resolver
 * never gave.
 *
 * The RFC's rules become curl options where curl has one (no redirects,
 * HTTPS only, PKIX and host name checks, a whole-fetch deadline, no proxy,
 * no cookies, no decompression) and checks in the header and body
 * callbacks otherwise: a status other than 200 or a media type other than
 * text/plain ends the transfer at the first body byte, and the body
 * buffer's hard cap ends it at 64 KiB, whatever Content-Length said. So a
 * server that stalls costs the deadline, and one that sends gigabytes costs
 * 64 KiB and 32 KiB of headers.
 *
 * curl reports a chain that does not verify and a name that does not match
 * with one code; the OpenSSL verify result it keeps tells them apart,
 * because OpenSSL checks the chain in the handshake and curl checks the
 * name afterwards (a certificate wrong in both ways is tls-pkix).
 */
#include "probes/sts_fetch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#define USER_AGENT "mxcensus/0.1 (MTA-STS policy census)"
/* Longest host name we build, "mta-sts." included (RFC 1035). */
#define HOST_MAX 253

/* A doubly linked list node; the fetcher keeps one list per state. */
struct link {
	struct link *prev, *next;
};

/* One watched socket: curl's fd under a uv_poll_t. */
struct sock {
	uv_poll_t poll;           /* must stay first: freed from the close cb */
	struct link link;         /* in fetcher->socks, so close can find it */
	struct mxc_sts_fetcher *f;
	curl_socket_t fd;
	int events;               /* what curl last asked for (UV_*) */
	bool closing;             /* uv_close called; memory not yet freed */
};

/* One fetch, from start to callback. Lives in exactly one list. */
struct fetch {
	struct link link;
	struct mxc_sts_fetcher *f;
	char *domain;
	struct sockaddr_storage addrs[MXC_STS_FETCH_MAX_ADDRS];
	size_t n_addrs;
	mxc_sts_fetch_cb cb;
	void *arg;

	/* Set once the transfer is built (when it leaves the queue). */
	CURL *easy;
	CURLSH *share;
	struct curl_slist *resolve;
	uint64_t started_ms;

	/* What the callbacks saw; `abort` is set when they ended it. */
	struct mxc_buf body;
	size_t header_bytes;
	bool checked;             /* status and media type looked at */
	enum mxc_sts_ferr abort;  /* MXC_STS_FETCH_OK unless aborted */
	long abort_code;
	char errbuf[CURL_ERROR_SIZE];
	char detail[CURL_ERROR_SIZE + 64];
};

struct mxc_sts_fetcher {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;         /* curl's wake-up */
	uv_timer_t kick;          /* delivers results decided at start */
	char *ca_file;
	struct mxc_sts_fetch_opts opts;
	struct link queued, running, done, socks;
	size_t n_queued, n_running, n_done;
	unsigned open_handles;    /* timers and polls not yet closed */
	bool closing;
	/* One parse target for every fetch: the struct is 16 KiB, and only
	 * the callback being run needs it. */
	struct mxc_sts_policy policy;
};

static const uint8_t empty_body[1];

/* --- lists ------------------------------------------------------------ */

static void list_init(struct link *h)
{
	h->prev = h->next = h;
}

static bool list_empty(const struct link *h)
{
	return h->next == h;
}

static void list_push(struct link *h, struct link *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static void list_del(struct link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

static struct fetch *fetch_of(struct link *l)
{
	return mxc_container_of(l, struct fetch, link);
}

/* --- names ------------------------------------------------------------ */

const char *mxc_sts_ferr_name(enum mxc_sts_ferr e)
{
	switch (e) {
	case MXC_STS_FETCH_OK: return "ok";
	case MXC_STS_FETCH_DNS: return "dns";
	case MXC_STS_FETCH_CONNECT: return "connect";
	case MXC_STS_FETCH_TIMEOUT: return "timeout";
	case MXC_STS_FETCH_TLS: return "tls";
	case MXC_STS_FETCH_TLS_PKIX: return "tls-pkix";
	case MXC_STS_FETCH_TLS_NAME: return "tls-name";
	case MXC_STS_FETCH_HTTP: return "http";
	case MXC_STS_FETCH_REDIRECT: return "redirect";
	case MXC_STS_FETCH_CONTENT_TYPE: return "content-type";
	case MXC_STS_FETCH_TOO_LARGE: return "too-large";
	case MXC_STS_FETCH_PROTOCOL: return "protocol";
	case MXC_STS_FETCH_SYNTAX: return "syntax";
	case MXC_STS_FETCH_CANCELED: return "canceled";
	case MXC_STS_FETCH_INTERNAL: return "internal";
	case MXC_STS_FETCH_BLOCKED: return "blocked";
	}
	return "?";
}

const char *mxc_sts_mx_match_name(enum mxc_sts_mx_match m)
{
	switch (m) {
	case MXC_STS_MX_NA: return "n-a";
	case MXC_STS_MX_ALL: return "all";
	case MXC_STS_MX_SOME: return "some";
	case MXC_STS_MX_NONE: return "none";
	}
	return "?";
}

/* --- MX verdict ------------------------------------------------------- */

enum mxc_sts_mx_match mxc_sts_mx_match(const struct mxc_sts_policy *policy,
				       const struct mxc_sts_mx_host *hosts, size_t n)
{
	size_t i, j, good = 0;

	/* As the classifier judges it (analysis/classify.c): a policy in mode
	 * none is no policy in force, so there is nothing to match. */
	if (!policy || policy->error != MXC_STS_OK || !hosts || n == 0 ||
	    policy->mode == MXC_STS_MODE_NONE)
		return MXC_STS_MX_NA;
	for (i = 0; i < n; i++) {
		bool match = false;

		for (j = 0; j < policy->n_mx && !match; j++)
			match = mxc_sts_mx_matches(policy->mx[j], hosts[i].name);
		if (match && hosts[i].pkix_valid)
			good++;
	}
	if (good == n)
		return MXC_STS_MX_ALL;
	return good ? MXC_STS_MX_SOME : MXC_STS_MX_NONE;
}

/* --- input checks ----------------------------------------------------- */

/*
 * The domain becomes part of a URL and of a curl resolve entry, so only a
 * plain LDH host name is let through: anything else (':', '/', '@', '%',
 * spaces, an empty label) could change what is fetched from where.
 */
static bool domain_ok(const char *d)
{
	size_t i, label = 0, len = strlen(d);

	if (len == 0 || len + sizeof("mta-sts.") - 1 > HOST_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = d[i];

		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && d[len - 1] != '-';
}

/* --- building a transfer ---------------------------------------------- */

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch *fe = arg;
	size_t n = size * nmemb;

	(void)data;
	fe->header_bytes += n;
	if (fe->header_bytes > MXC_STS_FETCH_HEADER_MAX) {
		fe->abort = MXC_STS_FETCH_TOO_LARGE;
		snprintf(fe->detail, sizeof(fe->detail),
			 "response headers over %d bytes", MXC_STS_FETCH_HEADER_MAX);
		return 0; /* anything but n aborts the transfer */
	}
	return n;
}

/* The media type of a Content-Type value is text/plain (RFC 9110 8.3.1:
 * case-insensitive, parameters after ';' allowed, optional whitespace). */
static bool is_text_plain(const char *ct)
{
	static const char want[] = "text/plain";
	size_t n = sizeof(want) - 1;

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/*
 * Status and media type, looked at once the headers are in (at the first
 * body byte, or at the end for an empty body). Returns the verdict the
 * response deserves so far; MXC_STS_FETCH_OK when it may carry a policy.
 */
static enum mxc_sts_ferr check_response(struct fetch *fe, long *code)
{
	char *ct = NULL;

	*code = 0;
	curl_easy_getinfo(fe->easy, CURLINFO_RESPONSE_CODE, code);
	if (*code >= 300 && *code <= 399)
		return MXC_STS_FETCH_REDIRECT;
	if (*code != 200)
		return MXC_STS_FETCH_HTTP;
	curl_easy_getinfo(fe->easy, CURLINFO_CONTENT_TYPE, &ct);
	if (!is_text_plain(ct)) {
		snprintf(fe->detail, sizeof(fe->detail), "Content-Type: %.200s",
			 ct ? ct : "(none)");
		return MXC_STS_FETCH_CONTENT_TYPE;
	}
	return MXC_STS_FETCH_OK;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch *fe = arg;
	size_t n = size * nmemb;
	int r;

	if (!fe->checked) {
		enum mxc_sts_ferr e;

		fe->checked = true;
		e = check_response(fe, &fe->abort_code);
		if (e != MXC_STS_FETCH_OK) {
			/* No reason to read a 404 page or an HTML body. */
			fe->abort = e;
			return 0;
		}
	}
	r = mxc_buf_append(&fe->body, data, n);
	if (r == MXC_ETOOBIG) {
		fe->abort = MXC_STS_FETCH_TOO_LARGE;
		snprintf(fe->detail, sizeof(fe->detail), "body over %d bytes",
			 MXC_STS_POLICY_MAX);
		return 0;
	}
	if (r) {
		fe->abort = MXC_STS_FETCH_INTERNAL;
		snprintf(fe->detail, sizeof(fe->detail), "%s", mxc_strerror(r));
		return 0;
	}
	return n;
}

/* "mta-sts.<domain>:<port>:<a1>,<a2>..." with IPv6 in brackets. */
static int resolve_entry(const struct fetch *fe, char *out, size_t size)
{
	size_t i, used;
	int w;

	w = snprintf(out, size, "mta-sts.%s:%u:", fe->domain, (unsigned)fe->f->opts.port);
	if (w < 0 || (size_t)w >= size)
		return MXC_ETOOBIG;
	used = (size_t)w;
	for (i = 0; i < fe->n_addrs; i++) {
		char ip[INET6_ADDRSTRLEN];
		const struct sockaddr_storage *ss = &fe->addrs[i];
		const void *a;

		if (ss->ss_family == AF_INET)
			a = &((const struct sockaddr_in *)(const void *)ss)->sin_addr;
		else
			a = &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;
		if (!inet_ntop(ss->ss_family, a, ip, sizeof(ip)))
			return -errno;
		w = snprintf(out + used, size - used,
			     ss->ss_family == AF_INET6 ? "%s[%s]" : "%s%s",
			     i ? "," : "", ip);
		if (w < 0 || (size_t)w >= size - used)
			return MXC_ETOOBIG;
		used += (size_t)w;
	}
	return 0;
}

#define SETOPT(opt, val)                                                    \
	do {                                                                \
		if (curl_easy_setopt(fe->easy, opt, val) != CURLE_OK)       \
			return MXC_EIO;                                     \
	} while (0)

/* Build the easy handle of a fetch; on failure the caller frees it. */
static int build_transfer(struct fetch *fe)
{
	const struct mxc_sts_fetch_opts *o = &fe->f->opts;
	char url[HOST_MAX + 64];
	char entry[HOST_MAX + 16 + MXC_STS_FETCH_MAX_ADDRS * (INET6_ADDRSTRLEN + 3)];
	struct curl_slist *sl;
	int r;

	if (o->port == 443)
		r = snprintf(url, sizeof(url),
			     "https://mta-sts.%s/.well-known/mta-sts.txt", fe->domain);
	else
		r = snprintf(url, sizeof(url),
			     "https://mta-sts.%s:%u/.well-known/mta-sts.txt",
			     fe->domain, (unsigned)o->port);
	if (r < 0 || (size_t)r >= sizeof(url))
		return MXC_ETOOBIG;
	r = resolve_entry(fe, entry, sizeof(entry));
	if (r)
		return r;

	fe->share = curl_share_init();
	fe->easy = curl_easy_init();
	if (!fe->share || !fe->easy)
		return MXC_ENOMEM;
	if (curl_share_setopt(fe->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)
		return MXC_EIO;
	sl = curl_slist_append(NULL, entry);
	if (!sl)
		return MXC_ENOMEM;
	fe->resolve = sl;

	SETOPT(CURLOPT_PRIVATE, fe);
	SETOPT(CURLOPT_ERRORBUFFER, fe->errbuf);
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_SHARE, fe->share);
	SETOPT(CURLOPT_RESOLVE, fe->resolve);
	SETOPT(CURLOPT_FRESH_CONNECT, 1L);
	SETOPT(CURLOPT_FORBID_REUSE, 1L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	/* No proxy from the environment: "" turns every proxy off. */
	SETOPT(CURLOPT_PROXY, "");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_MAXREDIRS, 0L);
	SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SETOPT(CURLOPT_USERAGENT, USER_AGENT);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (fe->f->ca_file) {
		SETOPT(CURLOPT_CAINFO, fe->f->ca_file);
		SETOPT(CURLOPT_CAPATH, (char *)NULL);
	}
	SETOPT(CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
	/* curl refuses at once when Content-Length is too big; the body
	 * buffer's cap catches a body that lies or has no length. */
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MXC_STS_POLICY_MAX);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, fe);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, fe);
	return 0;
}

#undef SETOPT

static void fetch_free(struct fetch *fe)
{
	if (fe->easy)
		curl_easy_cleanup(fe->easy);
	if (fe->share)
		curl_share_cleanup(fe->share);
	curl_slist_free_all(fe->resolve);
	mxc_buf_free(&fe->body);
	mxc_free(fe->domain);
	mxc_free(fe);
}

/* --- results ---------------------------------------------------------- */

static enum mxc_sts_ferr classify_curl(struct fetch *fe, CURLcode rc)
{
	long verify = 0;
	curl_off_t connect_us = 0;

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return MXC_STS_FETCH_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		/* Never got a TCP connection: the server is unreachable. */
		curl_easy_getinfo(fe->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
		return connect_us > 0 ? MXC_STS_FETCH_TIMEOUT : MXC_STS_FETCH_CONNECT;
	case CURLE_PEER_FAILED_VERIFICATION:
		/* curl primes the result with 1 (X509_V_ERR_UNSPECIFIED) and
		 * stores OpenSSL's verdict only once it has got past the name
		 * check: a chain error is a real X509_V_ERR_* (> 1), a name
		 * mismatch leaves 0 or the primer. */
		curl_easy_getinfo(fe->easy, CURLINFO_SSL_VERIFYRESULT, &verify);
		return verify > 1 ? MXC_STS_FETCH_TLS_PKIX : MXC_STS_FETCH_TLS_NAME;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return MXC_STS_FETCH_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return MXC_STS_FETCH_TOO_LARGE;
	case CURLE_UNSUPPORTED_PROTOCOL: /* "Received HTTP/0.9": not HTTP */
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		return MXC_STS_FETCH_PROTOCOL;
	default:
		return MXC_STS_FETCH_INTERNAL;
	}
}

/* Decide the outcome of a finished transfer and call back. */
static void finish_transfer(struct fetch *fe, CURLcode rc)
{
	struct mxc_sts_fetcher *f = fe->f;
	struct mxc_sts_fetch_result res = { 0 };
	enum mxc_sts_ferr e;
	char ename[24];
	long code = 0;

	curl_easy_getinfo(fe->easy, CURLINFO_RESPONSE_CODE, &code);
	if (fe->abort != MXC_STS_FETCH_OK) {
		e = fe->abort;
	} else if (rc != CURLE_OK) {
		e = classify_curl(fe, rc);
		snprintf(fe->detail, sizeof(fe->detail), "%s",
			 fe->errbuf[0] ? fe->errbuf : curl_easy_strerror(rc));
	} else {
		e = check_response(fe, &code);
	}
	res.http_code = code;
	if (e == MXC_STS_FETCH_OK) {
		const uint8_t *b = fe->body.data ? fe->body.data : empty_body;

		/* The cap is the parser's own, so this cannot be too big. */
		mxc_require(mxc_sts_policy_parse(b, fe->body.len, &f->policy) == 0);
		res.policy = &f->policy;
		res.body = b;
		res.body_len = fe->body.len;
		if (f->policy.error != MXC_STS_OK) {
			e = MXC_STS_FETCH_SYNTAX;
			snprintf(fe->detail, sizeof(fe->detail), "%s at line %u",
				 mxc_sts_perr_name(f->policy.error), f->policy.line);
		}
	}
	res.domain = fe->domain;
	res.error = e;
	if (e == MXC_STS_FETCH_HTTP) {
		snprintf(ename, sizeof(ename), "http-%ld", code);
		res.error_name = ename;
	} else {
		res.error_name = mxc_sts_ferr_name(e);
	}
	res.detail = fe->detail;
	res.elapsed_ms = mxc_now_ms() - fe->started_ms;
	mxc_log_debug("sts: %s: %s%s%s (%llu ms)", fe->domain, res.error_name,
		      fe->detail[0] ? ": " : "", fe->detail,
		      (unsigned long long)res.elapsed_ms);
	fe->cb(&res, fe->arg);
}

/* Call back a fetch that never ran a transfer. */
static void finish_early(struct fetch *fe, enum mxc_sts_ferr e)
{
	struct mxc_sts_fetch_result res = { 0 };

	res.domain = fe->domain;
	res.error = e;
	res.error_name = mxc_sts_ferr_name(e);
	res.detail = fe->detail;
	fe->cb(&res, fe->arg);
}

static void on_kick(uv_timer_t *t);

/* Move queued fetches into curl while there is room. */
static void pump(struct mxc_sts_fetcher *f)
{
	while (!f->closing && !list_empty(&f->queued) &&
	       f->n_running < f->opts.max_inflight) {
		struct fetch *fe = fetch_of(f->queued.next);
		int r;

		list_del(&fe->link);
		f->n_queued--;
		r = build_transfer(fe);
		if (!r && curl_multi_add_handle(f->multi, fe->easy) != CURLM_OK)
			r = MXC_EIO;
		if (r) {
			snprintf(fe->detail, sizeof(fe->detail),
				 "cannot start the transfer: %s", mxc_strerror(r));
			list_push(&f->done, &fe->link);
			f->n_done++;
			fe->abort = MXC_STS_FETCH_INTERNAL;
			uv_timer_start(&f->kick, on_kick, 0, 0);
			continue;
		}
		fe->started_ms = mxc_now_ms();
		list_push(&f->running, &fe->link);
		f->n_running++;
	}
}

/* Collect every finished transfer, call back, refill. */
static void collect(struct mxc_sts_fetcher *f)
{
	CURLMsg *msg;
	int left;

	while (!f->closing && (msg = curl_multi_info_read(f->multi, &left))) {
		struct fetch *fe;
		char *priv = NULL;
		CURLcode rc;

		if (msg->msg != CURLMSG_DONE)
			continue;
		rc = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		mxc_require(priv != NULL);
		fe = (struct fetch *)(void *)priv;
		curl_multi_remove_handle(f->multi, fe->easy);
		list_del(&fe->link);
		f->n_running--;
		finish_transfer(fe, rc);
		fetch_free(fe);
	}
	pump(f);
}

static void on_kick(uv_timer_t *t)
{
	struct mxc_sts_fetcher *f = t->data;

	while (!f->closing && !list_empty(&f->done)) {
		struct fetch *fe = fetch_of(f->done.next);

		list_del(&fe->link);
		f->n_done--;
		finish_early(fe, fe->abort);
		fetch_free(fe);
	}
}

/* --- the libuv bridge ------------------------------------------------- */

static void on_sock_closed(uv_handle_t *h);

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct sock *s = p->data;
	struct mxc_sts_fetcher *f = s->f;
	int flags = 0, running;

	if (f->closing || s->closing)
		return;
	/*
	 * An error (libuv stops the handle on POLLERR) is handed to curl as
	 * readable and writable, so that curl finds the cause itself: a
	 * refused connect is then one failed address and the next is tried.
	 * CURL_CSELECT_ERR would end the whole transfer instead.
	 */
	if (status < 0)
		flags = CURL_CSELECT_IN | CURL_CSELECT_OUT;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	/* s may be closed by the call, but its memory lives until its
	 * close callback, which runs later. */
	curl_multi_socket_action(f->multi, s->fd, flags, &running);
	if (status < 0 && !s->closing && !f->closing)
		uv_poll_start(&s->poll, s->events, on_poll);
	collect(f);
}

static void sock_close(struct sock *s)
{
	s->closing = true;
	list_del(&s->link);
	uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct mxc_sts_fetcher *f = userp;
	struct sock *s = socketp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			/* Inside curl_multi_cleanup the assignment is moot. */
			if (!f->closing)
				curl_multi_assign(f->multi, fd, NULL);
			sock_close(s);
		}
		return 0;
	}
	if (f->closing)
		return 0;
	if (!s) {
		s = mxc_calloc(1, sizeof(*s));
		if (!s)
			return -1;
		if (uv_poll_init_socket(f->loop, &s->poll, fd) != 0) {
			mxc_free(s);
			return -1;
		}
		s->poll.data = s;
		s->f = f;
		s->fd = fd;
		f->open_handles++;
		list_push(&f->socks, &s->link);
		curl_multi_assign(f->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	s->events = events;
	if (uv_poll_start(&s->poll, events, on_poll) != 0)
		return -1;
	return 0;
}

static void on_timer(uv_timer_t *t)
{
	struct mxc_sts_fetcher *f = t->data;
	int running;

	if (f->closing)
		return;
	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect(f);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct mxc_sts_fetcher *f = userp;

	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&f->timer);
	else
		uv_timer_start(&f->timer, on_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

/* --- life cycle ------------------------------------------------------- */

static void handle_closed(struct mxc_sts_fetcher *f)
{
	if (--f->open_handles == 0) {
		mxc_free(f->ca_file);
		mxc_free(f);
	}
}

static void on_sock_closed(uv_handle_t *h)
{
	struct sock *s = (struct sock *)(void *)h;
	struct mxc_sts_fetcher *f = s->f;

	mxc_free(s);
	handle_closed(f);
}

static void on_timer_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

static int global_init(void)
{
	static bool done;

	if (done)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return MXC_EIO;
	done = true;
	return 0;
}

int mxc_sts_fetcher_new(uv_loop_t *loop, const struct mxc_sts_fetch_opts *opts,
			struct mxc_sts_fetcher **out)
{
	struct mxc_sts_fetcher *f;
	int r;

	if (!loop || !out)
		return MXC_EINVAL;
	*out = NULL;
	r = global_init();
	if (r)
		return r;
	if (opts && opts->ca_file && access(opts->ca_file, R_OK) != 0) {
		r = -errno;
		mxc_log_error("--ca-file %s: %s", opts->ca_file, mxc_strerror(r));
		return r;
	}
	f = mxc_calloc(1, sizeof(*f));
	if (!f)
		return MXC_ENOMEM;
	if (opts)
		f->opts = *opts;
	f->opts.ca_file = NULL;
	if (!f->opts.port)
		f->opts.port = MXC_STS_FETCH_PORT;
	if (!f->opts.timeout_ms)
		f->opts.timeout_ms = MXC_STS_FETCH_TIMEOUT_MS;
	if (!f->opts.connect_timeout_ms || f->opts.connect_timeout_ms > f->opts.timeout_ms)
		f->opts.connect_timeout_ms = f->opts.timeout_ms;
	if (!f->opts.max_inflight)
		f->opts.max_inflight = MXC_STS_FETCH_INFLIGHT;
	if (opts && opts->ca_file) {
		f->ca_file = mxc_strdup(opts->ca_file);
		if (!f->ca_file) {
			mxc_free(f);
			return MXC_ENOMEM;
		}
	}
	f->multi = curl_multi_init();
	if (!f->multi) {
		mxc_free(f->ca_file);
		mxc_free(f);
		return MXC_ENOMEM;
	}
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	f->loop = loop;
	list_init(&f->queued);
	list_init(&f->running);
	list_init(&f->done);
	list_init(&f->socks);
	uv_timer_init(loop, &f->timer);
	uv_timer_init(loop, &f->kick);
	f->timer.data = f;
	f->kick.data = f;
	f->open_handles = 2;
	*out = f;
	return 0;
}

int mxc_sts_fetch_start(struct mxc_sts_fetcher *f, const char *domain,
			const struct sockaddr_storage *addrs, size_t n,
			mxc_sts_fetch_cb cb, void *arg)
{
	struct fetch *fe;
	size_t i;

	if (!f || !domain || !cb || (n && !addrs))
		return MXC_EINVAL;
	if (f->closing)
		return MXC_ECANCELED;
	if (!domain_ok(domain))
		return MXC_ENAME;
	for (i = 0; i < n; i++)
		if (addrs[i].ss_family != AF_INET && addrs[i].ss_family != AF_INET6)
			return MXC_EINVAL;
	fe = mxc_calloc(1, sizeof(*fe));
	if (!fe)
		return MXC_ENOMEM;
	fe->domain = mxc_strdup(domain);
	if (!fe->domain) {
		mxc_free(fe);
		return MXC_ENOMEM;
	}
	fe->f = f;
	fe->cb = cb;
	fe->arg = arg;
	list_init(&fe->link);
	mxc_buf_init(&fe->body, MXC_STS_POLICY_MAX);
	fe->n_addrs = n < MXC_STS_FETCH_MAX_ADDRS ? n : MXC_STS_FETCH_MAX_ADDRS;
	if (fe->n_addrs)
		memcpy(fe->addrs, addrs, fe->n_addrs * sizeof(*addrs));
	if (fe->n_addrs == 0) {
		/* Decided already, but delivered from the loop all the same. */
		fe->abort = MXC_STS_FETCH_DNS;
		snprintf(fe->detail, sizeof(fe->detail), "no address for mta-sts.%s",
			 domain);
		list_push(&f->done, &fe->link);
		f->n_done++;
		uv_timer_start(&f->kick, on_kick, 0, 0);
		return 0;
	}
	list_push(&f->queued, &fe->link);
	f->n_queued++;
	pump(f);
	return 0;
}

size_t mxc_sts_fetcher_pending(const struct mxc_sts_fetcher *f)
{
	return f ? f->n_queued + f->n_running + f->n_done : 0;
}

/* Call back and free every fetch of a list as canceled. */
static void cancel_list(struct mxc_sts_fetcher *f, struct link *h, size_t *count)
{
	while (!list_empty(h)) {
		struct fetch *fe = fetch_of(h->next);

		list_del(&fe->link);
		(*count)--;
		if (fe->easy)
			curl_multi_remove_handle(f->multi, fe->easy);
		snprintf(fe->detail, sizeof(fe->detail), "fetcher closed");
		finish_early(fe, MXC_STS_FETCH_CANCELED);
		fetch_free(fe);
	}
}

void mxc_sts_fetcher_close(struct mxc_sts_fetcher *f)
{
	if (!f || f->closing)
		return;
	f->closing = true;
	cancel_list(f, &f->running, &f->n_running);
	cancel_list(f, &f->queued, &f->n_queued);
	cancel_list(f, &f->done, &f->n_done);
	/* curl may still report sockets it closes; on_socket copes. */
	curl_multi_cleanup(f->multi);
	f->multi = NULL;
	while (!list_empty(&f->socks))
		sock_close(mxc_container_of(f->socks.next, struct sock, link));
	uv_close((uv_handle_t *)&f->timer, on_timer_closed);
	uv_close((uv_handle_t *)&f->kick, on_timer_closed);
}
