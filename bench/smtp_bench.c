/**
 * \file
 * mxc_smtp_bench: what the SMTP STARTTLS probe (probes/smtp.c) costs, in
 * CPU per probe and in memory per connection in flight.
 *
 *   mxc_smtp_bench --port N --mx NAME [--addr IP] [--ca-file F]
 *                  [--tlsa "U S M HEX"]... [-n PROBES] [-c INFLIGHT]
 *                  [--no-chain-cache] [--timeout MS]
 *   mxc_smtp_bench --hold banner|hello|tls -c INFLIGHT
 *                  [--cert CHAIN --key KEY] [--mx NAME] [--ca-file F]
 *
 * Rate mode runs PROBES probes against one endpoint with INFLIGHT of them
 * in flight at once on one libuv loop, as the scanner would against a busy
 * mail host, and prints probes per second, CPU seconds per probe (this
 * process's getrusage over the run), the statuses and verdicts seen and the
 * peak RSS. The endpoint is a real SMTP server (bench/run_smtp.sh starts a
 * private Postfix), so each probe is the whole conversation: banner, EHLO,
 * STARTTLS, the handshake, certificate facts, PKIX and, with --tlsa
 * (records taken as DNSSEC-secure), DANE, then QUIT.
 *
 * Every probe of a run presents the same chain, so the context's cache of
 * PKIX chain verdicts answers all of them but the first: that is what a
 * census sees of a large provider, not what one probe of an unknown host
 * costs. --no-chain-cache turns the cache off and every chain is verified;
 * the hit and miss counts are printed either way. --timeout raises every
 * step's deadline (a run under valgrind is slow enough to miss them).
 *
 * Hold mode measures memory per connection in flight. A stall server is
 * forked first (before the loop or OpenSSL exist in this process, so that
 * nothing of it is counted) and serves every connection up to a point, then
 * goes silent: after accepting (banner), after the 220 to STARTTLS and the
 * client's ClientHello (hello: the probe waits in the handshake), or after
 * a completed TLS handshake (tls: the probe holds an established session
 * and waits for the 221 to its QUIT, the most it ever holds). The server
 * writes one byte to a pipe for each connection that reached its stall
 * point, so the measurement is taken when all of them are there, not after
 * a guessed delay. One warm-up probe is held first so that OpenSSL's
 * one-time allocations fall into the baseline; then INFLIGHT more are
 * started, and the difference in RSS and in malloc'd bytes (glibc
 * mallinfo2, which OpenSSL's allocations go through) is divided by
 * INFLIGHT. Then the server is killed and every probe ends.
 *
 * The server is a plain blocking loop in its own process: it handles one
 * connection at a time, and the probes wait for it in the listen backlog
 * (their step deadlines are raised in hold mode), which keeps it small and
 * keeps its costs out of this process.
 *
 * Output is one "name: value" line per figure, for bench/run_smtp.sh to
 * read and for people.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"
#include "probes/smtp.h"

#define TLSA_MAX 8
#define TLSA_DATA_MAX 64
/* After the last connection reached its stall point: let the probes finish
 * what they were doing (reading the server's last flight, sending QUIT)
 * before the memory is read. */
#define SETTLE_MS 500
#define DEF_HOLD_TIMEOUT_MS 120000
/* The stall server gives up on a client that says nothing this long. */
#define STALL_IO_TIMEOUT_S 30
#define LINE_MAX_BYTES 512

enum hold_kind {
	HOLD_NONE = 0,
	HOLD_BANNER,
	HOLD_HELLO,
	HOLD_TLS,
};

static const char *const HOLD_NAMES[] = { "rate", "banner", "hello", "tls" };

struct config {
	const char *addr;
	uint64_t port;
	const char *mx;
	const char *ca_file;
	const char *ehlo;
	const char *cert;
	const char *key;
	uint64_t probes;
	uint64_t inflight;
	uint64_t hold_timeout_ms;
	uint64_t step_timeout_ms;  /**< 0: the probe's defaults */
	int no_chain_cache;
	enum hold_kind hold;
	struct mxc_tlsa tlsa[TLSA_MAX];
	uint8_t tlsa_data[TLSA_MAX][TLSA_DATA_MAX];
	size_t ntlsa;
};

enum hold_phase {
	PH_WARMUP = 0, /**< one probe on its way to the stall point */
	PH_FILL,       /**< the measured probes on their way */
	PH_RELEASE,    /**< measured; the server is gone, probes are ending */
};

struct bench {
	uv_loop_t loop;
	const struct config *cf;
	struct mxc_smtp_ctx *ctx;
	struct sockaddr_storage sa;
	struct mxc_smtp_target target;
	uint64_t want;      /**< probes to start in all */
	uint64_t window;    /**< most probes in flight at once */
	uint64_t started;
	uint64_t done;
	int error;          /**< our own failure: nothing more is started */
	uint64_t status[MXC_SMTP_TLS_FAILED + 1];
	uint64_t dane[MXC_DANE_NOT_DNSSEC + 1];
	uint64_t pkix_valid;
	uint64_t elapsed_sum;
	uint64_t elapsed_max;
	char first_detail[MXC_SMTP_DETAIL_LEN + 32]; /**< of the first probe not ok */

	/* hold mode */
	pid_t child;
	uv_pipe_t notify;
	uv_timer_t timer;
	int handles_open;
	enum hold_phase phase;
	uint64_t held;        /**< connections the server holds */
	uint64_t hold_target; /**< held count that ends the phase */
	int settling;
	uint64_t rss_base, rss_held;
	uint64_t heap_base, heap_held;
};

/* ---- figures --------------------------------------------------------- */

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void cpu_now(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = tv_s(ru.ru_utime);
	*sys = tv_s(ru.ru_stime);
}

/* The high-water mark of the resident set (VmHWM): unlike ru_maxrss it
 * includes the pages mapped since the kernel last updated the mark. */
static uint64_t peak_rss_kib(void)
{
	char line[256], *end;
	FILE *f = fopen("/proc/self/status", "r");
	unsigned long long kib = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "VmHWM:", 6) != 0)
			continue;
		errno = 0;
		kib = strtoull(line + 6, &end, 10);
		if (errno || end == line + 6)
			kib = 0;
		break;
	}
	fclose(f);
	return (uint64_t)kib;
}

/* Resident bytes now (the second field of /proc/self/statm, in pages). */
static uint64_t rss_bytes(void)
{
	char line[256], *sp, *end;
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long pages = 0;

	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f) && (sp = strchr(line, ' '))) {
		errno = 0;
		pages = strtoull(sp + 1, &end, 10);
		if (errno || end == sp + 1)
			pages = 0;
	}
	fclose(f);
	return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Bytes handed out by malloc, from the arenas and as separate mappings.
 * OpenSSL allocates through malloc too, so its sessions count. */
static uint64_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

/* ---- probes ---------------------------------------------------------- */

static void fill(struct bench *b);

static void on_probe(const struct mxc_smtp_result *r, void *arg)
{
	struct bench *b = arg;

	b->done++;
	if ((unsigned)r->status < MXC_ARRAY_SIZE(b->status))
		b->status[r->status]++;
	if ((unsigned)r->dane < MXC_ARRAY_SIZE(b->dane))
		b->dane[r->dane]++;
	b->pkix_valid += r->pkix_valid ? 1 : 0;
	b->elapsed_sum += r->elapsed_ms;
	if (r->elapsed_ms > b->elapsed_max)
		b->elapsed_max = r->elapsed_ms;
	if (r->status != MXC_SMTP_OK && !b->first_detail[0])
		snprintf(b->first_detail, sizeof(b->first_detail), "%s: %s",
			 mxc_smtp_status_name(r->status), r->detail);
	fill(b);
}

/* Keep the window full: start probes while fewer than the limit are in
 * flight and the total is not reached. */
static void fill(struct bench *b)
{
	while (!b->error && b->started < b->want &&
	       b->started - b->done < b->window) {
		int rc = mxc_smtp_probe_start(b->ctx, &b->target, on_probe, b);

		if (rc < 0) {
			fprintf(stderr, "mxc_smtp_bench: probe %llu of %s: cannot start: %s\n",
				(unsigned long long)b->started + 1, b->cf->addr, mxc_strerror(rc));
			b->error = rc;
			return;
		}
		b->started++;
	}
}

static void print_outcomes(const struct bench *b)
{
	size_t i;

	for (i = 0; i < MXC_ARRAY_SIZE(b->status); i++)
		if (b->status[i])
			printf("status %s: %llu\n", mxc_smtp_status_name((enum mxc_smtp_status)i),
			       (unsigned long long)b->status[i]);
	printf("pkix_valid: %llu\n", (unsigned long long)b->pkix_valid);
	for (i = 0; i < MXC_ARRAY_SIZE(b->dane); i++)
		if (b->dane[i])
			printf("dane %s: %llu\n", mxc_dane_result_name((enum mxc_dane_result)i),
			       (unsigned long long)b->dane[i]);
	if (b->first_detail[0])
		printf("first_failure: %s\n", b->first_detail);
}

/* ---- the stall server (child process) -------------------------------- */

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until a CRLF arrives: the client sends one command and waits, so a
 * read never takes bytes of the next one. */
static int read_line(int fd)
{
	char buf[LINE_MAX_BYTES];
	size_t len = 0;

	while (len < sizeof(buf)) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		if (len >= 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n')
			return 0;
	}
	return -1;
}

/* Banner, EHLO offering STARTTLS, and the 220 to STARTTLS. */
static int smtp_preamble(int fd)
{
	static const char banner[] = "220 stall.bench.invalid ESMTP mxc_smtp_bench\r\n";
	static const char ehlo[] = "250-stall.bench.invalid\r\n250 STARTTLS\r\n";
	static const char go[] = "220 2.0.0 Ready to start TLS\r\n";

	if (write_all(fd, banner, sizeof(banner) - 1) < 0 || read_line(fd) < 0 ||
	    write_all(fd, ehlo, sizeof(ehlo) - 1) < 0 || read_line(fd) < 0 ||
	    write_all(fd, go, sizeof(go) - 1) < 0)
		return -1;
	return 0;
}

static SSL_CTX *stall_tls_ctx(const struct config *cf)
{
	SSL_CTX *sc = SSL_CTX_new(TLS_server_method());

	if (!sc)
		return NULL;
	/* No tickets: the probe would only throw them away. */
	SSL_CTX_set_num_tickets(sc, 0);
	if (SSL_CTX_use_certificate_chain_file(sc, cf->cert) != 1) {
		fprintf(stderr, "mxc_smtp_bench: --cert %s: cannot load the chain\n", cf->cert);
		SSL_CTX_free(sc);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(sc, cf->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(sc) != 1) {
		fprintf(stderr, "mxc_smtp_bench: --key %s: cannot load it, or it does not match %s\n",
			cf->key, cf->cert);
		SSL_CTX_free(sc);
		return NULL;
	}
	return sc;
}

/* Serve each connection up to the stall point, keep it open, report it.
 * Runs until killed; the kernel closes every connection then. */
static int serve_stall(int lfd, int notify, const struct config *cf)
{
	struct timeval tv = { .tv_sec = STALL_IO_TIMEOUT_S };
	SSL_CTX *sc = NULL;

	if (cf->hold == HOLD_TLS && !(sc = stall_tls_ctx(cf)))
		return 1;
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		char c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "mxc_smtp_bench: stall server: accept: %s\n",
				strerror(errno));
			return 1;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (cf->hold != HOLD_BANNER && smtp_preamble(fd) < 0) {
			close(fd); /* not counted: the parent's deadline notices */
			continue;
		}
		if (cf->hold == HOLD_HELLO && recv(fd, &c, 1, MSG_PEEK) != 1) {
			close(fd);
			continue;
		}
		if (cf->hold == HOLD_TLS) {
			/* Kept, never freed: the process ends by a signal. */
			SSL *s = SSL_new(sc);

			if (!s || SSL_set_fd(s, fd) != 1 || SSL_accept(s) != 1) {
				SSL_free(s);
				ERR_clear_error();
				close(fd);
				continue;
			}
		}
		/* A pipe, not a socket: write(), and SIGPIPE is ignored. */
		while (write(notify, "h", 1) != 1)
			if (errno != EINTR)
				return 1;
	}
}

/* Listen before forking, so the address is known and ready when the
 * parent starts its probes. */
static int stall_listen(struct bench *b)
{
	struct sockaddr_storage *sa = &b->sa;
	socklen_t len = sa->ss_family == AF_INET ? sizeof(struct sockaddr_in)
						 : sizeof(struct sockaddr_in6);
	int one = 1, fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)sa, len) < 0 ||
	    listen(fd, (int)(b->cf->inflight + 16 > 65535 ? 65535 : b->cf->inflight + 16)) < 0 ||
	    getsockname(fd, (struct sockaddr *)sa, &len) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* ---- hold mode (parent) ---------------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
	struct bench *b = h->data;

	b->handles_open--;
}

/* End the stall server: the kernel closes every connection it held. */
static void stop_child(struct bench *b)
{
	int st;

	if (b->child <= 0)
		return;
	kill(b->child, SIGKILL);
	while (waitpid(b->child, &st, 0) < 0 && errno == EINTR)
		;
	b->child = 0;
}

static void release(struct bench *b)
{
	if (b->phase == PH_RELEASE)
		return;
	b->phase = PH_RELEASE;
	uv_timer_stop(&b->timer);
	stop_child(b);
	uv_close((uv_handle_t *)&b->notify, on_handle_closed);
	uv_close((uv_handle_t *)&b->timer, on_handle_closed);
}

static void on_hold_timeout(uv_timer_t *t);

static void on_settled(uv_timer_t *t)
{
	struct bench *b = t->data;

	b->settling = 0;
	if (b->phase == PH_WARMUP) {
		b->rss_base = rss_bytes();
		b->heap_base = heap_bytes();
		b->phase = PH_FILL;
		b->want = 1 + b->cf->inflight;
		b->hold_target = b->want;
		uv_timer_start(&b->timer, on_hold_timeout, b->cf->hold_timeout_ms, 0);
		fill(b);
		if (b->error)
			release(b);
		return;
	}
	b->rss_held = rss_bytes();
	b->heap_held = heap_bytes();
	release(b);
}

static void on_hold_timeout(uv_timer_t *t)
{
	struct bench *b = t->data;

	fprintf(stderr,
		"mxc_smtp_bench: only %llu of %llu connections reached the stall point (%s) "
		"within %llu ms\n",
		(unsigned long long)b->held, (unsigned long long)b->hold_target,
		HOLD_NAMES[b->cf->hold], (unsigned long long)b->cf->hold_timeout_ms);
	b->error = MXC_ETIMEDOUT;
	release(b);
}

static void notify_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char space[4096];

	(void)h;
	(void)hint;
	*buf = uv_buf_init(space, sizeof(space));
}

static void on_notify(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct bench *b = s->data;

	(void)buf;
	if (b->phase == PH_RELEASE || n == 0)
		return;
	if (n < 0) {
		fprintf(stderr, "mxc_smtp_bench: the stall server exited (%s)\n",
			uv_strerror((int)n));
		b->error = MXC_EIO;
		release(b);
		return;
	}
	b->held += (uint64_t)n;
	if (b->held >= b->hold_target && !b->settling) {
		b->settling = 1;
		uv_timer_start(&b->timer, on_settled, SETTLE_MS, 0);
	}
}

static int hold_start(struct bench *b, int notify_fd)
{
	int rc;

	rc = uv_pipe_init(&b->loop, &b->notify, 0);
	if (rc < 0)
		return rc;
	b->notify.data = b;
	b->handles_open++;
	rc = uv_pipe_open(&b->notify, notify_fd);
	if (rc == 0)
		rc = uv_read_start((uv_stream_t *)&b->notify, notify_alloc, on_notify);
	uv_timer_init(&b->loop, &b->timer);
	b->timer.data = b;
	b->handles_open++;
	if (rc < 0) {
		release(b);
		return rc;
	}
	b->phase = PH_WARMUP;
	b->window = UINT64_MAX; /* the warm-up probe stays in flight too */
	b->want = 1;
	b->hold_target = 1;
	uv_timer_start(&b->timer, on_hold_timeout, b->cf->hold_timeout_ms, 0);
	fill(b);
	if (b->error)
		release(b);
	return 0;
}

static void print_hold(const struct bench *b)
{
	uint64_t n = b->cf->inflight;
	double rss = (double)b->rss_held - (double)b->rss_base;
	double heap = (double)b->heap_held - (double)b->heap_base;

	printf("mode: hold-%s\n", HOLD_NAMES[b->cf->hold]);
	printf("held: %llu (and 1 warm-up)\n", (unsigned long long)n);
	printf("rss_before_kib: %llu\n", (unsigned long long)(b->rss_base / 1024));
	printf("rss_held_kib: %llu\n", (unsigned long long)(b->rss_held / 1024));
	printf("rss_per_conn_bytes: %.0f\n", rss / (double)n);
	printf("heap_before_bytes: %llu\n", (unsigned long long)b->heap_base);
	printf("heap_held_bytes: %llu\n", (unsigned long long)b->heap_held);
	printf("heap_per_conn_bytes: %.0f\n", heap / (double)n);
	if (b->heap_held == 0)
		printf("heap_note: malloc statistics unavailable (a sanitizer build?)\n");
	printf("probe_struct_bytes: %zu\n", mxc_smtp_probe_size());
	printf("peak_rss_kib: %llu\n", (unsigned long long)peak_rss_kib());
}

/* ---- command line ---------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One field of a TLSA argument, in place: NUL-terminates it, returns the
 * rest. */
static char *field(char *s, char **rest)
{
	while (*s == ' ')
		s++;
	*rest = s + strcspn(s, " ");
	if (**rest)
		*(*rest)++ = '\0';
	return s;
}

/* "U S M HEX", the presentation form of a TLSA record's data. */
static int parse_tlsa(struct config *cf, const char *arg)
{
	char copy[2 * TLSA_DATA_MAX + 32], *rest, *f[4];
	uint64_t v[3];
	struct mxc_tlsa *t;
	uint8_t *d;
	size_t i, n;

	if (cf->ntlsa >= TLSA_MAX || strlen(arg) >= sizeof(copy))
		return MXC_EINVAL;
	snprintf(copy, sizeof(copy), "%s", arg);
	rest = copy;
	for (i = 0; i < 4; i++)
		f[i] = field(rest, &rest);
	if (*rest || !*f[3])
		return MXC_EINVAL;
	for (i = 0; i < 3; i++)
		if (mxc_parse_u64(f[i], 0, 255, &v[i]) < 0)
			return MXC_EINVAL;
	n = strlen(f[3]);
	if (n % 2 || n / 2 > TLSA_DATA_MAX)
		return MXC_EINVAL;
	d = cf->tlsa_data[cf->ntlsa];
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(f[3][2 * i]), lo = hexval(f[3][2 * i + 1]);

		if (hi < 0 || lo < 0)
			return MXC_EINVAL;
		d[i] = (uint8_t)(hi << 4 | lo);
	}
	t = &cf->tlsa[cf->ntlsa++];
	t->usage = (uint8_t)v[0];
	t->selector = (uint8_t)v[1];
	t->mtype = (uint8_t)v[2];
	t->data = d;
	t->len = n / 2;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mxc_smtp_bench --port N --mx NAME [--addr IP] [--ca-file FILE]\n"
		"                      [--tlsa \"U S M HEX\"]... [--ehlo NAME] [-n PROBES] [-c INFLIGHT]\n"
		"                      [--no-chain-cache] [--timeout MS]\n"
		"       mxc_smtp_bench --hold banner|hello|tls [-c INFLIGHT] [--cert CHAIN --key KEY]\n"
		"                      [--mx NAME] [--ca-file FILE] [--addr IP] [--port N]\n"
		"                      [--hold-timeout MS]\n"
		"Rate mode: PROBES probes (default 1000), INFLIGHT at once (default 100).\n"
		"Hold mode: INFLIGHT connections (default 1000) held by a forked stall server.\n");
}

static int bad(const char *opt, const char *val)
{
	fprintf(stderr, "mxc_smtp_bench: %s %s: invalid value\n", opt, val);
	return 2;
}

static int parse_args(int argc, char **argv, struct config *cf)
{
	static const struct option longopts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "mx", required_argument, NULL, 'm' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "tlsa", required_argument, NULL, 't' },
		{ "ehlo", required_argument, NULL, 'e' },
		{ "probes", required_argument, NULL, 'n' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "hold", required_argument, NULL, 'H' },
		{ "cert", required_argument, NULL, 'R' },
		{ "key", required_argument, NULL, 'K' },
		{ "hold-timeout", required_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "no-chain-cache", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o, inflight_set = 0;
	size_t i;

	cf->addr = "127.0.0.1";
	cf->probes = 1000;
	cf->inflight = 100;
	cf->hold_timeout_ms = DEF_HOLD_TIMEOUT_MS;
	while ((o = getopt_long(argc, argv, "n:c:h", longopts, NULL)) != -1) {
		switch (o) {
		case 'a': cf->addr = optarg; break;
		case 'm': cf->mx = optarg; break;
		case 'C': cf->ca_file = optarg; break;
		case 'e': cf->ehlo = optarg; break;
		case 'R': cf->cert = optarg; break;
		case 'K': cf->key = optarg; break;
		case 'p':
			if (mxc_parse_u64(optarg, 0, 65535, &cf->port) < 0)
				return bad("--port", optarg);
			break;
		case 'n':
			if (mxc_parse_u64(optarg, 1, 100000000, &cf->probes) < 0)
				return bad("--probes", optarg);
			break;
		case 'c':
			if (mxc_parse_u64(optarg, 1, 1000000, &cf->inflight) < 0)
				return bad("--concurrency", optarg);
			inflight_set = 1;
			break;
		case 'T':
			if (mxc_parse_u64(optarg, 1000, 3600000, &cf->hold_timeout_ms) < 0)
				return bad("--hold-timeout", optarg);
			break;
		case 'W':
			if (mxc_parse_u64(optarg, 1000, 3600000, &cf->step_timeout_ms) < 0)
				return bad("--timeout", optarg);
			break;
		case 'N':
			cf->no_chain_cache = 1;
			break;
		case 't':
			if (parse_tlsa(cf, optarg) < 0) {
				fprintf(stderr, "mxc_smtp_bench: --tlsa \"%s\": want \"U S M HEX\" "
						"(at most %d records of %d bytes)\n",
					optarg, TLSA_MAX, TLSA_DATA_MAX);
				return 2;
			}
			break;
		case 'H':
			for (i = 1; i < MXC_ARRAY_SIZE(HOLD_NAMES); i++)
				if (strcmp(optarg, HOLD_NAMES[i]) == 0)
					cf->hold = (enum hold_kind)i;
			if (cf->hold == HOLD_NONE)
				return bad("--hold", optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mxc_smtp_bench: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	if (cf->hold == HOLD_NONE && (!cf->port || !cf->mx)) {
		usage(stderr);
		return 2;
	}
	if (cf->hold == HOLD_TLS && (!cf->cert || !cf->key)) {
		fprintf(stderr, "mxc_smtp_bench: --hold tls needs --cert and --key\n");
		return 2;
	}
	if (cf->hold != HOLD_NONE && !inflight_set)
		cf->inflight = 1000;
	if (!cf->mx)
		cf->mx = "stall.bench.invalid";
	return 0;
}

/* Each connection is a descriptor here, and one more in the stall
 * server: the default soft limit of 1024 is too small. */
static void raise_nofile(uint64_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need + 64)
		fprintf(stderr, "mxc_smtp_bench: open file limit %llu is below %llu connections\n",
			(unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

static int make_target(struct bench *b)
{
	const struct config *cf = b->cf;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&b->sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&b->sa;

	if (uv_ip4_addr(cf->addr, (int)cf->port, s4) != 0 &&
	    uv_ip6_addr(cf->addr, (int)cf->port, s6) != 0) {
		fprintf(stderr, "mxc_smtp_bench: --addr %s: not an IPv4 or IPv6 address\n",
			cf->addr);
		return MXC_EINVAL;
	}
	b->target.mx = cf->mx;
	b->target.addr = (const struct sockaddr *)&b->sa;
	b->target.tlsa = cf->ntlsa ? cf->tlsa : NULL;
	b->target.ntlsa = cf->ntlsa;
	b->target.tlsa_secure = 1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct config cf;
	static struct bench b;
	struct mxc_smtp_opts o = { 0 };
	struct mxc_smtp_stats st;
	double u0, s0, u1, s1, cpu, wall;
	uint64_t t0, t1;
	int rc, lfd = -1, pfd[2] = { -1, -1 };

	rc = parse_args(argc, argv, &cf);
	if (rc)
		return rc;
	b.cf = &cf;
	if (make_target(&b) < 0)
		return 2;
	/* A probe writing to a socket the server closed must get EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile(cf.inflight + 1);

	if (cf.hold != HOLD_NONE) {
		lfd = stall_listen(&b);
		if (lfd < 0) {
			fprintf(stderr, "mxc_smtp_bench: stall server on %s port %llu: %s\n",
				cf.addr, (unsigned long long)cf.port, strerror(-lfd));
			return 1;
		}
		if (pipe(pfd) < 0) {
			perror("mxc_smtp_bench: pipe");
			return 1;
		}
		fflush(NULL);
		b.child = fork();
		if (b.child < 0) {
			perror("mxc_smtp_bench: fork");
			return 1;
		}
		if (b.child == 0) {
			close(pfd[0]);
			_exit(serve_stall(lfd, pfd[1], &cf));
		}
		close(pfd[1]);
		close(lfd);
		/* Every step may have to wait for the sequential server. */
		o.connect_timeout_ms = o.banner_timeout_ms = o.command_timeout_ms =
			o.tls_timeout_ms = o.quit_timeout_ms = cf.hold_timeout_ms + 10000;
	}

	rc = uv_loop_init(&b.loop);
	if (rc < 0) {
		fprintf(stderr, "mxc_smtp_bench: loop: %s\n", uv_strerror(rc));
		stop_child(&b);
		return 1;
	}
	if (cf.step_timeout_ms && cf.hold == HOLD_NONE)
		o.connect_timeout_ms = o.banner_timeout_ms = o.command_timeout_ms =
			o.tls_timeout_ms = o.quit_timeout_ms = cf.step_timeout_ms;
	o.chain_cache_off = cf.no_chain_cache;
	o.ehlo_name = cf.ehlo;
	o.ca_file = cf.ca_file;
	rc = mxc_smtp_ctx_new(&b.loop, &o, &b.ctx);
	if (rc < 0) {
		fprintf(stderr, "mxc_smtp_bench: smtp context: %s\n", mxc_strerror(rc));
		stop_child(&b);
		return 1;
	}

	cpu_now(&u0, &s0);
	t0 = uv_hrtime();
	if (cf.hold != HOLD_NONE) {
		rc = hold_start(&b, pfd[0]);
		if (rc < 0) {
			fprintf(stderr, "mxc_smtp_bench: notify pipe: %s\n", uv_strerror(rc));
			b.error = rc;
		}
	} else {
		b.want = cf.probes;
		b.window = cf.inflight;
		fill(&b);
	}
	uv_run(&b.loop, UV_RUN_DEFAULT);
	t1 = uv_hrtime();
	cpu_now(&u1, &s1);

	mxc_smtp_ctx_stats(b.ctx, &st);
	cpu = (u1 - u0) + (s1 - s0);
	wall = (double)(t1 - t0) / 1e9;
	if (cf.hold == HOLD_NONE) {
		printf("mode: rate\n");
		printf("target: %s port %llu, mx %s, %zu TLSA record(s)\n", cf.addr,
		       (unsigned long long)cf.port, cf.mx, cf.ntlsa);
		printf("probes: %llu\n", (unsigned long long)b.done);
		printf("concurrency: %llu (peak in flight %llu)\n",
		       (unsigned long long)cf.inflight, (unsigned long long)st.peak_in_flight);
		printf("wall_s: %.3f\n", wall);
		printf("cpu_s: %.3f (user %.3f, sys %.3f)\n", cpu, u1 - u0, s1 - s0);
		printf("probes_per_s: %.0f\n", wall > 0 ? (double)b.done / wall : 0.0);
		printf("probes_per_cpu_s: %.0f\n", cpu > 0 ? (double)b.done / cpu : 0.0);
		printf("cpu_us_per_probe: %.0f\n", b.done ? cpu * 1e6 / (double)b.done : 0.0);
		printf("probe_ms: mean %.1f, max %llu\n",
		       b.done ? (double)b.elapsed_sum / (double)b.done : 0.0,
		       (unsigned long long)b.elapsed_max);
		print_outcomes(&b);
		printf("chain_cache: %s, %llu hits, %llu verified\n",
		       cf.no_chain_cache ? "off" : "on", (unsigned long long)st.chain_cache_hits,
		       (unsigned long long)st.chain_cache_misses);
		printf("peak_rss_kib: %llu\n", (unsigned long long)peak_rss_kib());
	} else if (!b.error) {
		print_hold(&b);
		print_outcomes(&b);
	}
	fflush(stdout);

	mxc_smtp_ctx_free(b.ctx);
	rc = uv_loop_close(&b.loop);
	if (rc < 0)
		fprintf(stderr, "mxc_smtp_bench: loop still has handles: %s\n", uv_strerror(rc));
	return b.error || b.done != b.want ? 1 : 0;
}
