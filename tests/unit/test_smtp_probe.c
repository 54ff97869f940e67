/**
 * \file
 * The SMTP STARTTLS probe (probes/smtp.c) against real servers on loopback:
 * instances of tests/world/smtp_odd.py on ephemeral ports of 127.0.0.1 (and
 * ::1 when the machine has it), with certificates that openssl(1) makes at
 * test time in a temporary directory: a test CA, a valid leaf for mx.test,
 * an expired one, one for another name, a self-signed one and a wildcard.
 *
 * Every expectation is computed, not copied: the digests the probe reports
 * and the TLSA association data are derived here from the PEM files with
 * OpenSSL, so a probe that hashed the wrong bytes fails. The hostile modes
 * are checked for their status and for finishing within their deadline.
 * The servers are stopped by the PIDs this test started.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <uv.h>

#include "common/error.h"
#include "common/util.h"
#include "probes/smtp.h"
#include "probes/smtp_reply.h"

#define TMO_BANNER 1500
#define TMO_CMD 1500
#define TMO_TLS 1500
/* Slack for a loaded test machine on top of a deadline. */
#define SLACK_MS 1500

enum srv_id {
	S_VALID = 0, S_EXPIRED, S_WRONG, S_SELF, S_WILD,
	S_PLAIN, S_STRIPPED, S_454, S_DROP, S_FOREVER, S_DRIP, S_GARBAGE, S_SILENT,
	S_V6, S_COUNT
};

struct srv_def {
	const char *mode;
	const char *cert; /* basename of <x>.chain / <x>.key, or NULL */
	int v6;
};

static const struct srv_def SRV[S_COUNT] = {
	[S_VALID] = { "ok", "valid", 0 },
	[S_EXPIRED] = { "ok", "expired", 0 },
	[S_WRONG] = { "ok", "wrong", 0 },
	[S_SELF] = { "ok", "self", 0 },
	[S_WILD] = { "ok", "wild", 0 },
	[S_PLAIN] = { "plain", NULL, 0 },
	[S_STRIPPED] = { "stripped", NULL, 0 },
	[S_454] = { "reject454", NULL, 0 },
	[S_DROP] = { "drop-at-starttls", NULL, 0 },
	[S_FOREVER] = { "banner-forever", NULL, 0 },
	[S_DRIP] = { "drip", NULL, 0 },
	[S_GARBAGE] = { "garbage-tls", NULL, 0 },
	[S_SILENT] = { "silent", NULL, 0 },
	[S_V6] = { "ok", "valid", 1 },
};

struct world {
	char dir[512];
	pid_t pid[S_COUNT];
	int port[S_COUNT];
	uv_loop_t loop;
	struct mxc_smtp_ctx *ctx;     /* trust: the test CA */
	struct mxc_smtp_ctx *ctx_sys; /* trust: the system store */
};

static struct world W;

/* OpenSSL's own allocations, counted so the test can tell the memory a
 * connection in flight really costs (the probe cannot see OpenSSL's). */
static size_t ossl_live, ossl_peak;

#define HDR 16

static void *count_malloc(size_t n, const char *file, int line)
{
	size_t *p = malloc(n + HDR);

	(void)file;
	(void)line;
	if (!p)
		return NULL;
	p[0] = n;
	ossl_live += n;
	if (ossl_live > ossl_peak)
		ossl_peak = ossl_live;
	return (char *)p + HDR;
}

static void count_free(void *q, const char *file, int line)
{
	size_t *p;

	(void)file;
	(void)line;
	if (!q)
		return;
	p = (size_t *)(void *)((char *)q - HDR);
	ossl_live -= p[0];
	free(p);
}

static void *count_realloc(void *q, size_t n, const char *file, int line)
{
	size_t *p, old;

	if (!q)
		return count_malloc(n, file, line);
	p = (size_t *)(void *)((char *)q - HDR);
	old = p[0];
	p = realloc(p, n + HDR);
	if (!p)
		return NULL;
	p[0] = n;
	ossl_live = ossl_live - old + n;
	if (ossl_live > ossl_peak)
		ossl_peak = ossl_live;
	return (char *)p + HDR;
}

/* ---- certificates ------------------------------------------------------ */

static const char CERT_SCRIPT[] =
	"set -e; cd \"$1\"; exec >log 2>&1\n"
	"k() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key; }\n"
	"k ca; openssl req -x509 -new -key ca.key -out ca.pem -days 30 -subj '/CN=mxcensus Test CA'"
	" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign\n"
	"leaf() { k $1; openssl req -new -key $1.key -out $1.csr -subj \"/CN=$2\";\n"
	"  printf 'subjectAltName=%s\\nbasicConstraints=CA:FALSE\\n' \"$3\" > $1.ext;\n"
	"  openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $4"
	" -extfile $1.ext -out $1.crt; cat $1.crt ca.pem > $1.chain; }\n"
	"leaf valid mx.test DNS:mx.test 30\n"
	"leaf expired mx.test DNS:mx.test -1\n"
	"leaf wrong other.test DNS:other.test 30\n"
	"leaf wild '*.example.test' 'DNS:*.example.test' 30\n"
	"k self; openssl req -x509 -new -key self.key -out self.crt -days 30 -subj /CN=mx.test"
	" -addext subjectAltName=DNS:mx.test; cp self.crt self.chain\n"
	"k old\n";

static int make_certs(const char *dir)
{
	char script[600], cmd[1400];
	FILE *f;

	snprintf(script, sizeof(script), "%s/mkcerts.sh", dir);
	f = fopen(script, "w");
	if (!f)
		return -1;
	fputs(CERT_SCRIPT, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s'", script, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *buf, size_t cap, const char *name, const char *ext)
{
	snprintf(buf, cap, "%s/%s.%s", W.dir, name, ext);
}

static X509 *load_cert(const char *name)
{
	char p[600];
	FILE *f;
	X509 *x;

	path_of(p, sizeof(p), name, "crt");
	if (strcmp(name, "ca") == 0)
		path_of(p, sizeof(p), name, "pem");
	f = fopen(p, "r");
	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static void sha256(const uint8_t *d, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(d, n, out, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
}

/* SHA-256 of a certificate's DER (selector 0) or SPKI (selector 1). */
static void cert_hash(const char *name, int selector, uint8_t out[32])
{
	X509 *x = load_cert(name);
	unsigned char *der = NULL;
	int n = selector ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : i2d_X509(x, &der);

	assert_true(n > 0);
	sha256(der, (size_t)n, out);
	OPENSSL_free(der);
	X509_free(x);
}

/* SHA-256 of the SPKI of a key no server uses any more: a stale record. */
static void key_spki_hash(const char *name, uint8_t out[32])
{
	char p[600];
	FILE *f;
	EVP_PKEY *k;
	unsigned char *der = NULL;
	int n;

	path_of(p, sizeof(p), name, "key");
	f = fopen(p, "r");
	assert_non_null(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	n = i2d_PUBKEY(k, &der);
	assert_true(n > 0);
	sha256(der, (size_t)n, out);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

static void hexstr(const uint8_t *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- servers ----------------------------------------------------------- */

static int read_int_file(const char *p)
{
	FILE *f = fopen(p, "r");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static pid_t spawn(enum srv_id id)
{
	const struct srv_def *d = &SRV[id];
	const char *src = getenv("MXC_SOURCE_DIR");
	char script[600], portfile[600], cert[600], key[600];
	pid_t pid;

	snprintf(script, sizeof(script), "%s/tests/world/smtp_odd.py", src ? src : ".");
	snprintf(portfile, sizeof(portfile), "%s/port.%d", W.dir, (int)id);
	pid = fork();
	if (pid != 0)
		return pid;
	if (d->cert) {
		path_of(cert, sizeof(cert), d->cert, "chain");
		path_of(key, sizeof(key), d->cert, "key");
		execlp("python3", "python3", script, "--listen", d->v6 ? "[::1]:0" : "127.0.0.1:0",
		       "--mode", d->mode, "--portfile", portfile, "--cert", cert, "--key", key,
		       "--max-conn-seconds", "20", (char *)NULL);
	} else {
		execlp("python3", "python3", script, "--listen", "127.0.0.1:0", "--mode", d->mode,
		       "--portfile", portfile, "--max-conn-seconds", "20", (char *)NULL);
	}
	_exit(127);
}

static void stop_servers(void)
{
	int i;

	for (i = 0; i < S_COUNT; i++) {
		if (W.pid[i] > 0) {
			kill(W.pid[i], SIGTERM);
			waitpid(W.pid[i], NULL, 0);
			W.pid[i] = 0;
		}
	}
}

static int setup(void **state)
{
	const char *base = getenv("MXC_BUILD_DIR");
	struct mxc_smtp_opts o = { 0 };
	char ca[600];
	int i, tries;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(W.dir, sizeof(W.dir), "%s/smtp-probe-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(W.dir) || make_certs(W.dir) < 0) {
		fprintf(stderr, "cannot make test certificates in %s (see log there)\n", W.dir);
		return -1;
	}
	for (i = 0; i < S_COUNT; i++)
		W.pid[i] = spawn((enum srv_id)i);
	for (i = 0; i < S_COUNT; i++) {
		char pf[600];

		snprintf(pf, sizeof(pf), "%s/port.%d", W.dir, i);
		for (tries = 0; tries < 300 && (W.port[i] = read_int_file(pf)) <= 0; tries++) {
			int st;

			if (waitpid(W.pid[i], &st, WNOHANG) == W.pid[i]) {
				W.pid[i] = 0; /* exited: no IPv6 here, say */
				break;
			}
			usleep(50 * 1000);
		}
		if (W.port[i] <= 0 && !SRV[i].v6) {
			fprintf(stderr, "smtp_odd.py (%s) did not start\n", SRV[i].mode);
			stop_servers();
			return -1;
		}
	}
	uv_loop_init(&W.loop);
	path_of(ca, sizeof(ca), "ca", "pem");
	o.ca_file = ca;
	o.banner_timeout_ms = TMO_BANNER;
	o.command_timeout_ms = TMO_CMD;
	o.tls_timeout_ms = TMO_TLS;
	o.quit_timeout_ms = 1000;
	o.connect_timeout_ms = 2000;
	if (mxc_smtp_ctx_new(&W.loop, &o, &W.ctx) < 0)
		return -1;
	o.ca_file = NULL;
	o.ehlo_name = "probe.example";
	return mxc_smtp_ctx_new(&W.loop, &o, &W.ctx_sys) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[700];

	(void)state;
	stop_servers();
	mxc_smtp_ctx_free(W.ctx);
	mxc_smtp_ctx_free(W.ctx_sys);
	uv_run(&W.loop, UV_RUN_DEFAULT);
	uv_loop_close(&W.loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", W.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- running probes ---------------------------------------------------- */

struct done {
	struct mxc_smtp_result res;
	int calls;
};

static void on_done(const struct mxc_smtp_result *res, void *arg)
{
	struct done *d = arg;

	d->res = *res;
	d->calls++;
}

static void addr_of(int port, int v6, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (v6)
		uv_ip6_addr("::1", port, (struct sockaddr_in6 *)ss);
	else
		uv_ip4_addr("127.0.0.1", port, (struct sockaddr_in *)ss);
}

static struct mxc_smtp_result probe_ctx(struct mxc_smtp_ctx *ctx, enum srv_id id, const char *mx,
					const struct mxc_tlsa *tlsa, size_t n, int secure)
{
	struct sockaddr_storage ss;
	struct mxc_smtp_target t = { 0 };
	struct done d = { .calls = 0 };

	addr_of(W.port[id], SRV[id].v6, &ss);
	t.mx = mx;
	t.addr = (struct sockaddr *)&ss;
	t.tlsa = tlsa;
	t.ntlsa = n;
	t.tlsa_secure = secure;
	assert_int_equal(mxc_smtp_probe_start(ctx, &t, on_done, &d), 0);
	assert_int_equal(d.calls, 0); /* never from inside start */
	uv_run(&W.loop, UV_RUN_DEFAULT);
	assert_int_equal(d.calls, 1);
	return d.res;
}

static struct mxc_smtp_result probe(enum srv_id id, const char *mx, const struct mxc_tlsa *tlsa,
				    size_t n, int secure)
{
	return probe_ctx(W.ctx, id, mx, tlsa, n, secure);
}

#define assert_status(r, st)                                                       \
	do {                                                                       \
		if ((r).status != (st))                                            \
			fail_msg("status %s (%s), expected %s",                    \
				 mxc_smtp_status_name((r).status), (r).detail,      \
				 mxc_smtp_status_name(st));                         \
	} while (0)

#define assert_dane(r, d)                                                          \
	do {                                                                       \
		if ((r).dane != (d))                                               \
			fail_msg("dane %s (%s), expected %s",                      \
				 mxc_dane_result_name((r).dane), (r).dane_detail,   \
				 mxc_dane_result_name(d));                          \
	} while (0)

/* ---- facts and PKIX ----------------------------------------------------- */

static void assert_rfc3339(const char *s)
{
	assert_int_equal(strlen(s), 20);
	assert_int_equal(s[4], '-');
	assert_int_equal(s[10], 'T');
	assert_int_equal(s[19], 'Z');
}

static void test_ok_facts(void **state)
{
	struct mxc_smtp_result r = probe(S_VALID, "mx.test", NULL, 0, 0);
	uint8_t h[32];
	char hx[65];

	(void)state;
	assert_status(r, MXC_SMTP_OK);
	assert_string_equal(r.mx_host, "mx.test");
	assert_string_equal(r.ip, "127.0.0.1");
	assert_int_equal(r.port, W.port[S_VALID]);
	assert_int_equal(r.banner_code, 220);
	assert_string_equal(r.banner, "odd.test ESMTP smtp_odd");
	assert_true(r.starttls_offered);
	assert_true(r.ehlo_ext & MXC_EHLO_PIPELINING);
	assert_true(r.ehlo_ext & MXC_EHLO_SIZE);
	assert_int_equal(r.stripping, 0);
	assert_string_equal(r.tls_version, "TLSv1.3");
	assert_true(strlen(r.cipher) > 0);
	cert_hash("valid", 0, h);
	hexstr(h, 32, hx);
	assert_string_equal(r.cert_sha256, hx);
	cert_hash("valid", 1, h);
	hexstr(h, 32, hx);
	assert_string_equal(r.spki_sha256, hx);
	assert_string_equal(r.issuer, "CN=mxcensus Test CA");
	assert_string_equal(r.cert_names, "mx.test");
	assert_rfc3339(r.not_before);
	assert_rfc3339(r.not_after);
	assert_true(strcmp(r.not_before, r.not_after) < 0);
	assert_true(r.chain_valid);
	assert_true(r.name_valid);
	assert_true(r.pkix_valid);
	assert_string_equal(r.pkix_error, "");
	assert_dane(r, MXC_DANE_NONE);
	assert_string_equal(r.tlsa_records, "");
	assert_false(r.tlsa_dnssec);
	assert_true(r.probed_at > 1600000000);
	assert_true(r.bytes_in > 0);
}

static void test_pkix_system_store(void **state)
{
	struct mxc_smtp_result r = probe_ctx(W.ctx_sys, S_VALID, "mx.test", NULL, 0, 0);

	(void)state;
	assert_status(r, MXC_SMTP_OK);
	assert_false(r.chain_valid);
	assert_true(r.name_valid); /* a separate finding */
	assert_false(r.pkix_valid);
	/* The server sends its CA along, so the chain ends in an untrusted
	 * self-signed root. */
	assert_string_equal(r.pkix_error, "self-signed certificate in certificate chain");
}

static void test_pkix_expired(void **state)
{
	struct mxc_smtp_result r = probe(S_EXPIRED, "mx.test", NULL, 0, 0);

	(void)state;
	assert_status(r, MXC_SMTP_OK);
	assert_false(r.chain_valid);
	assert_true(r.name_valid);
	assert_string_equal(r.pkix_error, "certificate has expired");
	assert_true(strcmp(r.not_after, r.not_before) < 0);
}

static void test_pkix_wrong_name(void **state)
{
	struct mxc_smtp_result r = probe(S_WRONG, "mx.test", NULL, 0, 0);

	(void)state;
	assert_status(r, MXC_SMTP_OK);
	assert_true(r.chain_valid);
	assert_false(r.name_valid);
	assert_false(r.pkix_valid);
	assert_string_equal(r.pkix_error, "name-mismatch");
	assert_string_equal(r.cert_names, "other.test");
}

static void test_pkix_self_signed(void **state)
{
	struct mxc_smtp_result r = probe(S_SELF, "mx.test", NULL, 0, 0);

	(void)state;
	assert_status(r, MXC_SMTP_OK);
	assert_false(r.chain_valid);
	assert_true(r.name_valid);
	assert_non_null(strstr(r.pkix_error, "self-signed"));
	assert_string_equal(r.issuer, "CN=mx.test");
}

static void test_pkix_wildcard(void **state)
{
	struct mxc_smtp_result r;

	(void)state;
	r = probe(S_WILD, "mx.example.test", NULL, 0, 0);
	assert_status(r, MXC_SMTP_OK);
	assert_true(r.chain_valid);
	assert_true(r.name_valid);
	assert_string_equal(r.cert_names, "*.example.test");
	/* RFC 6125: the wildcard stands for exactly one left-most label. */
	r = probe(S_WILD, "a.mx.example.test", NULL, 0, 0);
	assert_false(r.name_valid);
	r = probe(S_WILD, "example.test", NULL, 0, 0);
	assert_false(r.name_valid);
}

/* ---- DANE --------------------------------------------------------------- */

struct rec {
	uint8_t u, s, m;
	uint8_t data[32];
};

static struct mxc_tlsa tl(const struct rec *r)
{
	struct mxc_tlsa t = { r->u, r->s, r->m, r->data, 32 };

	return t;
}

static struct rec rec_cert(uint8_t u, uint8_t s, const char *cert)
{
	struct rec r = { u, s, 1, { 0 } };

	cert_hash(cert, s, r.data);
	return r;
}

static enum mxc_dane_result dane1(enum srv_id id, struct rec r, int secure, char *detail)
{
	struct mxc_tlsa t = tl(&r);
	struct mxc_smtp_result res = probe(id, "mx.test", &t, 1, secure);

	assert_status(res, MXC_SMTP_OK);
	assert_int_equal(res.tlsa_dnssec, secure);
	if (detail)
		snprintf(detail, 128, "%s", res.dane_detail);
	return res.dane;
}

static void test_dane_ee_spki(void **state)
{
	struct rec r = rec_cert(3, 1, "valid");
	struct mxc_tlsa t = tl(&r);
	struct mxc_smtp_result res = probe(S_VALID, "mx.test", &t, 1, 1);
	char want[200];

	(void)state;
	assert_dane(res, MXC_DANE_MATCH_EE);
	memcpy(want, "3 1 1 ", 6);
	hexstr(r.data, 32, want + 6);
	assert_string_equal(res.tlsa_records, want);
	assert_string_equal(res.spki_sha256, want + 6);
	assert_true(res.tlsa_dnssec);
}

static void test_dane_ta_spki(void **state)
{
	(void)state;
	assert_int_equal(dane1(S_VALID, rec_cert(2, 1, "ca"), 1, NULL), MXC_DANE_MATCH_TA);
}

static void test_dane_ee_full_cert(void **state)
{
	(void)state;
	assert_int_equal(dane1(S_VALID, rec_cert(3, 0, "valid"), 1, NULL), MXC_DANE_MATCH_EE);
	/* The same digest under the wrong selector matches nothing. */
	{
		struct rec r = rec_cert(3, 0, "valid");

		r.s = 1;
		assert_int_equal(dane1(S_VALID, r, 1, NULL), MXC_DANE_MISMATCH);
	}
}

static void test_dane_stale(void **state)
{
	struct rec r = { 3, 1, 1, { 0 } };

	(void)state;
	key_spki_hash("old", r.data);
	assert_int_equal(dane1(S_VALID, r, 1, NULL), MXC_DANE_MISMATCH);
}

static void test_dane_rollover(void **state)
{
	struct rec old = { 3, 1, 1, { 0 } }, cur = rec_cert(3, 1, "valid");
	struct mxc_tlsa t[2] = { tl(&old), tl(&cur) };
	struct mxc_smtp_result res;

	(void)state;
	key_spki_hash("old", old.data);
	res = probe(S_VALID, "mx.test", t, 2, 1);
	assert_dane(res, MXC_DANE_MATCH_EE);
	assert_non_null(strchr(res.tlsa_records, ';'));
	/* Also when the new key's record comes first, and for TA rollover. */
	{
		struct rec ta_old = { 2, 1, 1, { 0 } }, ta = rec_cert(2, 1, "ca");
		struct mxc_tlsa t2[2] = { tl(&ta), tl(&ta_old) };

		key_spki_hash("old", ta_old.data);
		res = probe(S_VALID, "mx.test", t2, 2, 1);
		assert_dane(res, MXC_DANE_MATCH_TA);
	}
}

static void test_dane_insecure(void **state)
{
	char detail[128];

	(void)state;
	/* Even a matching record protects nothing without DNSSEC. */
	assert_int_equal(dane1(S_VALID, rec_cert(3, 1, "valid"), 0, detail), MXC_DANE_NOT_DNSSEC);
}

static void test_dane_pkix_usages_unusable(void **state)
{
	struct rec a = rec_cert(0, 1, "ca"), b = rec_cert(1, 1, "valid");
	struct mxc_tlsa t[2] = { tl(&a), tl(&b) };
	struct mxc_smtp_result res = probe(S_VALID, "mx.test", t, 2, 1);

	(void)state;
	assert_dane(res, MXC_DANE_NONE);
	assert_string_equal(res.dane_detail, "no usable records");
}

static void test_dane_ee_ignores_dates_and_names(void **state)
{
	(void)state;
	assert_int_equal(dane1(S_EXPIRED, rec_cert(3, 1, "expired"), 1, NULL), MXC_DANE_MATCH_EE);
	assert_int_equal(dane1(S_WRONG, rec_cert(3, 1, "wrong"), 1, NULL), MXC_DANE_MATCH_EE);
	assert_int_equal(dane1(S_SELF, rec_cert(3, 1, "self"), 1, NULL), MXC_DANE_MATCH_EE);
}

static void test_dane_ta_checks_dates_and_names(void **state)
{
	(void)state;
	assert_int_equal(dane1(S_EXPIRED, rec_cert(2, 1, "ca"), 1, NULL), MXC_DANE_MISMATCH);
	assert_int_equal(dane1(S_WRONG, rec_cert(2, 1, "ca"), 1, NULL), MXC_DANE_MISMATCH);
}

static void test_dane_without_tls(void **state)
{
	struct rec r = rec_cert(3, 1, "valid");
	struct mxc_tlsa t = tl(&r);
	struct mxc_smtp_result res = probe(S_PLAIN, "mx.test", &t, 1, 1);

	(void)state;
	assert_status(res, MXC_SMTP_NO_STARTTLS);
	assert_dane(res, MXC_DANE_MISMATCH);
	assert_string_equal(res.dane_detail, "no-tls");
}

/* ---- hostile and odd servers ------------------------------------------- */

static void test_plain(void **state)
{
	struct mxc_smtp_result r = probe(S_PLAIN, "mx.test", NULL, 0, 0);

	(void)state;
	assert_status(r, MXC_SMTP_NO_STARTTLS);
	assert_false(r.starttls_offered);
	assert_int_equal(r.stripping, 0);
	assert_string_equal(r.tls_version, "");
	assert_string_equal(r.cert_sha256, "");
}

static void test_stripped(void **state)
{
	struct mxc_smtp_result r = probe(S_STRIPPED, "mx.test", NULL, 0, 0);
	char names[64];

	(void)state;
	assert_status(r, MXC_SMTP_NO_STARTTLS);
	assert_false(r.starttls_offered);
	assert_int_equal(r.stripping, MXC_STRIP_EHLO);
	assert_string_equal(r.stripped_keyword, "XXXXXXXA");
	mxc_smtp_strip_names(r.stripping, names, sizeof(names));
	assert_string_equal(names, "ehlo-stripped");
}

static void test_reject454(void **state)
{
	struct mxc_smtp_result r = probe(S_454, "mx.test", NULL, 0, 0);

	(void)state;
	assert_status(r, MXC_SMTP_STARTTLS_REJECTED);
	assert_true(r.starttls_offered);
	assert_int_equal(r.stripping, MXC_STRIP_454);
}

static void test_drop_at_starttls(void **state)
{
	struct mxc_smtp_result r = probe(S_DROP, "mx.test", NULL, 0, 0);
	char names[64];

	(void)state;
	assert_status(r, MXC_SMTP_STARTTLS_REJECTED);
	assert_int_equal(r.stripping, MXC_STRIP_DROPPED);
	mxc_smtp_strip_names(r.stripping | MXC_STRIP_454, names, sizeof(names));
	assert_string_equal(names, "starttls-454;starttls-dropped");
}

static void test_banner_forever(void **state)
{
	struct mxc_smtp_result r = probe(S_FOREVER, "mx.test", NULL, 0, 0);

	(void)state;
	/* The line cap ends it long before the deadline would. */
	assert_status(r, MXC_SMTP_BANNER_ERROR);
	assert_non_null(strstr(r.detail, "too-many-lines"));
	assert_true(r.elapsed_ms < TMO_BANNER + SLACK_MS);
}

static void test_drip(void **state)
{
	struct mxc_smtp_result r = probe(S_DRIP, "mx.test", NULL, 0, 0);

	(void)state;
	assert_status(r, MXC_SMTP_TIMEOUT);
	assert_non_null(strstr(r.detail, "banner"));
	assert_true(r.elapsed_ms >= TMO_BANNER - 50);
	assert_true(r.elapsed_ms < TMO_BANNER + SLACK_MS);
	assert_true(r.bytes_in < 5);
}

static void test_garbage_tls(void **state)
{
	struct rec rr = rec_cert(3, 1, "valid");
	struct mxc_tlsa t = tl(&rr);
	struct mxc_smtp_result r = probe(S_GARBAGE, "mx.test", &t, 1, 1);

	(void)state;
	assert_status(r, MXC_SMTP_TLS_FAILED);
	assert_true(r.starttls_offered);
	assert_non_null(strstr(r.detail, "tls handshake"));
	assert_true(r.elapsed_ms < TMO_TLS + SLACK_MS);
	assert_dane(r, MXC_DANE_MISMATCH);
}

static void test_silent(void **state)
{
	struct mxc_smtp_result r = probe(S_SILENT, "mx.test", NULL, 0, 0);

	(void)state;
	assert_status(r, MXC_SMTP_TIMEOUT);
	assert_true(r.elapsed_ms >= TMO_BANNER - 50);
	assert_true(r.elapsed_ms < TMO_BANNER + SLACK_MS);
	assert_int_equal(r.bytes_in, 0);
}

static void test_connect_refused(void **state)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_storage ss;
	struct mxc_smtp_target t = { 0 };
	struct done d = { .calls = 0 };

	(void)state;
	/* A port that was free a moment ago and has no listener now. */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	addr_of(ntohs(sa.sin_port), 0, &ss);
	t.mx = "mx.test";
	t.addr = (struct sockaddr *)&ss;
	assert_int_equal(mxc_smtp_probe_start(W.ctx, &t, on_done, &d), 0);
	uv_run(&W.loop, UV_RUN_DEFAULT);
	assert_int_equal(d.calls, 1);
	assert_status(d.res, MXC_SMTP_CONNECT_FAILED);
	assert_non_null(strstr(d.res.detail, "refused"));
}

static void test_ipv6(void **state)
{
	struct mxc_smtp_result r;

	(void)state;
	if (W.port[S_V6] <= 0)
		skip(); /* no ::1 on this machine */
	r = probe(S_V6, "mx.test", NULL, 0, 0);
	assert_status(r, MXC_SMTP_OK);
	assert_string_equal(r.ip, "::1");
	assert_true(r.pkix_valid);
}

/* Many probes in flight on one loop; prints the memory each one holds. */
static void test_concurrent(void **state)
{
	enum { N = 24 };
	static struct done d[N];
	struct sockaddr_storage ss;
	struct mxc_smtp_stats before, after;
	int i;

	size_t base, per_conn;

	(void)state;
	mxc_smtp_ctx_stats(W.ctx, &before);
	addr_of(W.port[S_VALID], 0, &ss);
	base = ossl_live;
	ossl_peak = ossl_live;
	for (i = 0; i < N; i++) {
		struct mxc_smtp_target t = { .mx = "mx.test", .addr = (struct sockaddr *)&ss };

		d[i].calls = 0;
		assert_int_equal(mxc_smtp_probe_start(W.ctx, &t, on_done, &d[i]), 0);
	}
	uv_run(&W.loop, UV_RUN_DEFAULT);
	for (i = 0; i < N; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_status(d[i].res, MXC_SMTP_OK);
		assert_true(d[i].res.pkix_valid);
	}
	mxc_smtp_ctx_stats(W.ctx, &after);
	assert_int_equal(after.finished - before.finished, N);
	assert_int_equal(after.in_flight, 0);
	assert_true(after.peak_in_flight >= N);
	/* The budget: a thousand connections in flight under 100 MB. */
	per_conn = mxc_smtp_probe_size() + (ossl_peak - base) / N;
	printf("smtp probe: %zu bytes per connection in flight (probe %zu + OpenSSL %zu, "
	       "peak of %d handshakes)\n", per_conn, mxc_smtp_probe_size(),
	       (ossl_peak - base) / N, N);
	assert_true(per_conn < 100000);
}

static void test_bad_arguments(void **state)
{
	struct sockaddr_storage ss;
	struct mxc_smtp_target t = { 0 };
	struct mxc_smtp_opts o = { 0 };
	struct mxc_smtp_ctx *c = NULL;
	struct done d = { .calls = 0 };

	(void)state;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	t.mx = "mx.test";
	t.addr = (struct sockaddr *)&ss;
	assert_int_equal(mxc_smtp_probe_start(W.ctx, &t, on_done, &d), MXC_EINVAL);
	t.mx = "";
	addr_of(25, 0, &ss);
	assert_int_equal(mxc_smtp_probe_start(W.ctx, &t, on_done, &d), MXC_EINVAL);
	uv_run(&W.loop, UV_RUN_DEFAULT);
	assert_int_equal(d.calls, 0);

	o.ehlo_name = "bad name\r\nMAIL FROM:<x>";
	assert_int_equal(mxc_smtp_ctx_new(&W.loop, &o, &c), MXC_EINVAL);
	o.ehlo_name = "[127.0.0.1]";
	assert_int_equal(mxc_smtp_ctx_new(&W.loop, &o, &c), 0);
	mxc_smtp_ctx_free(c);
	o.ehlo_name = NULL;
	o.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(mxc_smtp_ctx_new(&W.loop, &o, &c), MXC_EINVAL);
}

static void test_names(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(mxc_smtp_status_name(MXC_SMTP_OK), "ok");
	assert_string_equal(mxc_smtp_status_name(MXC_SMTP_CONNECT_FAILED), "connect-failed");
	assert_string_equal(mxc_smtp_status_name(MXC_SMTP_TIMEOUT), "timeout");
	assert_string_equal(mxc_smtp_status_name(MXC_SMTP_BANNER_ERROR), "banner-error");
	assert_string_equal(mxc_smtp_status_name(MXC_SMTP_NO_STARTTLS), "no-starttls");
	assert_string_equal(mxc_smtp_status_name(MXC_SMTP_STARTTLS_REJECTED), "starttls-rejected");
	assert_string_equal(mxc_smtp_status_name(MXC_SMTP_TLS_FAILED), "tls-failed");
	assert_string_equal(mxc_dane_result_name(MXC_DANE_MATCH_EE), "match-ee");
	assert_string_equal(mxc_dane_result_name(MXC_DANE_MATCH_TA), "match-ta");
	assert_string_equal(mxc_dane_result_name(MXC_DANE_MISMATCH), "mismatch");
	assert_string_equal(mxc_dane_result_name(MXC_DANE_NONE), "none");
	assert_string_equal(mxc_dane_result_name(MXC_DANE_NOT_DNSSEC), "not-dnssec");
	mxc_smtp_strip_names(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	mxc_smtp_strip_names(MXC_STRIP_EHLO | MXC_STRIP_454 | MXC_STRIP_DROPPED, buf, sizeof(buf));
	assert_string_equal(buf, "ehlo-stripped;starttls-454;starttls-dropped");
}

/* ---- the chain verdict cache ------------------------------------------ */

static struct mxc_smtp_ctx *cache_ctx(int off, size_t slots)
{
	struct mxc_smtp_opts o = { 0 };
	struct mxc_smtp_ctx *ctx = NULL;
	char ca[600];

	path_of(ca, sizeof(ca), "ca", "pem");
	o.ca_file = ca;
	o.banner_timeout_ms = TMO_BANNER;
	o.command_timeout_ms = TMO_CMD;
	o.tls_timeout_ms = TMO_TLS;
	o.quit_timeout_ms = 1000;
	o.chain_cache_off = off;
	o.chain_cache_slots = slots;
	assert_int_equal(mxc_smtp_ctx_new(&W.loop, &o, &ctx), 0);
	return ctx;
}

/* Every column the verification decides, and the facts beside it. */
static void assert_same_verdict(const struct mxc_smtp_result *a, const struct mxc_smtp_result *b)
{
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->chain_valid, b->chain_valid);
	assert_int_equal(a->name_valid, b->name_valid);
	assert_int_equal(a->pkix_valid, b->pkix_valid);
	assert_string_equal(a->pkix_error, b->pkix_error);
	assert_int_equal(a->dane, b->dane);
	assert_string_equal(a->dane_detail, b->dane_detail);
	assert_string_equal(a->cert_sha256, b->cert_sha256);
	assert_string_equal(a->spki_sha256, b->spki_sha256);
}

static void cache_counts(struct mxc_smtp_ctx *ctx, uint64_t hits, uint64_t misses)
{
	struct mxc_smtp_stats st;

	mxc_smtp_ctx_stats(ctx, &st);
	if (st.chain_cache_hits != hits || st.chain_cache_misses != misses)
		fail_msg("chain cache: %llu hits, %llu verified; expected %llu, %llu",
			 (unsigned long long)st.chain_cache_hits,
			 (unsigned long long)st.chain_cache_misses, (unsigned long long)hits,
			 (unsigned long long)misses);
}

/*
 * Each step probes with the cache and without it and wants the same
 * verdict. Repeats follow each other directly: two chains may share a slot
 * of the direct-mapped table, and then the later replaces the earlier
 * (test_chain_cache_evicts), which must not make this test flaky.
 */
static void test_chain_cache(void **state)
{
	struct mxc_smtp_ctx *on = cache_ctx(0, 0), *off = cache_ctx(1, 0);
	struct rec r311 = rec_cert(3, 1, "valid");
	struct mxc_tlsa t = tl(&r311);
	struct mxc_smtp_result a, b, ref;

	(void)state;
	/* The first sight of a chain is verified, the next is a hit with the
	 * same verdict. */
	a = probe_ctx(on, S_VALID, "mx.test", NULL, 0, 0);
	cache_counts(on, 0, 1);
	b = probe_ctx(on, S_VALID, "mx.test", NULL, 0, 0);
	cache_counts(on, 1, 1);
	assert_true(b.pkix_valid);
	assert_same_verdict(&a, &b);
	ref = probe_ctx(off, S_VALID, "mx.test", NULL, 0, 0);
	assert_same_verdict(&b, &ref);

	/* Another MX name presenting the same chain: the chain's verdict is
	 * reused, the name is judged again. */
	b = probe_ctx(on, S_VALID, "other.test", NULL, 0, 0);
	cache_counts(on, 2, 1);
	assert_true(b.chain_valid);
	assert_false(b.name_valid);
	assert_string_equal(b.pkix_error, "name-mismatch");
	ref = probe_ctx(off, S_VALID, "other.test", NULL, 0, 0);
	assert_same_verdict(&b, &ref);

	/* With DANE in play PKIX is verified after the handshake, through
	 * the same cache; DANE itself is judged on every probe. */
	b = probe_ctx(on, S_VALID, "mx.test", &t, 1, 1);
	cache_counts(on, 3, 1);
	assert_dane(b, MXC_DANE_MATCH_EE);
	assert_true(b.pkix_valid);
	ref = probe_ctx(off, S_VALID, "mx.test", &t, 1, 1);
	assert_same_verdict(&b, &ref);

	/* Another chain misses; failures are cached like successes. */
	a = probe_ctx(on, S_EXPIRED, "mx.test", NULL, 0, 0);
	cache_counts(on, 3, 2);
	assert_string_equal(a.pkix_error, "certificate has expired");
	b = probe_ctx(on, S_EXPIRED, "mx.test", NULL, 0, 0);
	cache_counts(on, 4, 2);
	assert_same_verdict(&a, &b);
	ref = probe_ctx(off, S_EXPIRED, "mx.test", NULL, 0, 0);
	assert_same_verdict(&b, &ref);
	b = probe_ctx(on, S_EXPIRED, "mx.test", &t, 1, 1);
	cache_counts(on, 5, 2);
	assert_dane(b, MXC_DANE_MISMATCH);
	assert_string_equal(b.pkix_error, "certificate has expired");

	a = probe_ctx(on, S_SELF, "mx.test", NULL, 0, 0);
	cache_counts(on, 5, 3);
	b = probe_ctx(on, S_SELF, "mx.test", NULL, 0, 0);
	cache_counts(on, 6, 3);
	assert_false(b.chain_valid);
	assert_same_verdict(&a, &b);
	ref = probe_ctx(off, S_SELF, "mx.test", NULL, 0, 0);
	assert_same_verdict(&b, &ref);

	/* Off means off: every chain was verified. */
	cache_counts(off, 0, 5);
	mxc_smtp_ctx_free(on);
	mxc_smtp_ctx_free(off);
}

/* One slot: two chains in turn replace each other; memory stays fixed. */
static void test_chain_cache_evicts(void **state)
{
	struct mxc_smtp_ctx *one = cache_ctx(0, 1);
	struct mxc_smtp_result r;

	(void)state;
	r = probe_ctx(one, S_VALID, "mx.test", NULL, 0, 0);
	assert_true(r.pkix_valid);
	r = probe_ctx(one, S_EXPIRED, "mx.test", NULL, 0, 0);
	assert_false(r.chain_valid);
	r = probe_ctx(one, S_VALID, "mx.test", NULL, 0, 0);
	assert_true(r.pkix_valid);
	cache_counts(one, 0, 3);
	r = probe_ctx(one, S_VALID, "mx.test", NULL, 0, 0);
	assert_true(r.pkix_valid);
	cache_counts(one, 1, 3);
	mxc_smtp_ctx_free(one);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ok_facts),
		cmocka_unit_test(test_pkix_system_store),
		cmocka_unit_test(test_pkix_expired),
		cmocka_unit_test(test_pkix_wrong_name),
		cmocka_unit_test(test_pkix_self_signed),
		cmocka_unit_test(test_pkix_wildcard),
		cmocka_unit_test(test_dane_ee_spki),
		cmocka_unit_test(test_dane_ta_spki),
		cmocka_unit_test(test_dane_ee_full_cert),
		cmocka_unit_test(test_dane_stale),
		cmocka_unit_test(test_dane_rollover),
		cmocka_unit_test(test_dane_insecure),
		cmocka_unit_test(test_dane_pkix_usages_unusable),
		cmocka_unit_test(test_dane_ee_ignores_dates_and_names),
		cmocka_unit_test(test_dane_ta_checks_dates_and_names),
		cmocka_unit_test(test_dane_without_tls),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_stripped),
		cmocka_unit_test(test_reject454),
		cmocka_unit_test(test_drop_at_starttls),
		cmocka_unit_test(test_banner_forever),
		cmocka_unit_test(test_drip),
		cmocka_unit_test(test_garbage_tls),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_chain_cache),
		cmocka_unit_test(test_chain_cache_evicts),
	};

	/* Before OpenSSL allocates anything, or it refuses. */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
		fprintf(stderr, "note: OpenSSL allocations are not counted\n");
	return cmocka_run_group_tests(tests, setup, teardown);
}
