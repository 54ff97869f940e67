/**
 * \file
 * Command-line parsing for every subcommand, with getopt_long, and the help
 * texts. Each subcommand turns its options into a plain struct and calls one
 * function (mxc_scan_run, mxc_export); nothing here touches the network.
 *
 * Options whose capability is not in this build yet (the SMTP and HTTPS
 * probes, DNSSEC validation) are accepted where harmless and say plainly, on
 * stderr, that they have no effect yet; asking for a probe that does not
 * exist is an error, because the user would otherwise get results that
 * silently lack what they asked for.
 */
#include "scanner/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/compare.h"
#include "analysis/export.h"
#include "analysis/report.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "resolver/resolver.h"
#include "scanner/scan.h"
#include "store/merge.h"
#include "store/store.h"

#ifndef MXC_VERSION
#define MXC_VERSION "0.1.0"
#endif

#define MAX_BLOCKLISTS 16
#define MAX_UPSTREAMS 16

static const char usage_main[] =
	"usage: mxcensus COMMAND [OPTIONS]\n"
	"\n"
	"Measure how well the inbound mail of many domains is protected in transit.\n"
	"\n"
	"commands:\n"
	"  scan      scan domains: DNS, DNSSEC and (opt-in) SMTP and MTA-STS probes\n"
	"  export    write the stored results as CSV, JSON Lines or Parquet\n"
	"  report    adoption per TLD and per mail provider (text, md, json, html)\n"
	"  compare   compare two runs: adoption deltas and changed verdicts\n"
	"  merge     join the stores of shards into one store\n"
	"\n"
	"  mxcensus COMMAND --help   options of one command\n"
	"  mxcensus --version\n"
	"\n"
	"exit status: 0 success, 1 failed run, 2 bad usage, 130/143 after SIGINT/SIGTERM\n";

static const char usage_scan[] =
	"usage: mxcensus scan [OPTIONS] INPUT...\n"
	"\n"
	"Scan the domains listed in INPUT files ('-' for standard input) and store the\n"
	"facts in --db DIR. Running the same command again on the same store resumes:\n"
	"domains already stored are skipped.\n"
	"\n"
	"input:\n"
	"  --input-format F    list | zone | csv | auto (default auto: .zone/.db are zone\n"
	"                      files, .csv is rank,domain CSV, anything else a list)\n"
	"  --shard K/N         scan only share K of N (0 <= K < N), by a stable hash\n"
	"\n"
	"store:\n"
	"  --db DIR            results store directory (default ./mxcensus-db)\n"
	"  --batch N           records per commit, at most (default 1000; the store\n"
	"                      also commits every 250 ms)\n"
	"\n"
	"DNS:\n"
	"  --resolver A[:P]    recursive resolver, repeatable; IPv6 as [addr]:port\n"
	"                      (default: the nameservers of /etc/resolv.conf)\n"
	"  --qps N             queries per second per resolver, 0 = no cap (default 5000)\n"
	"  --resolver-inflight N  queries in flight per resolver (default 2000)\n"
	"  --timeout MS        first-try timeout, doubled on each retry (default 1500)\n"
	"  --retries N         retries after a timeout (default 3)\n"
	"  --max-mx N          MX hosts followed per domain (default 10, at most 32)\n"
	"\n"
	"DNSSEC:\n"
	"  --trust-anchor FILE DS or DNSKEY records (presentation format) to validate\n"
	"                      from (default: the root zone's KSKs, built in)\n"
	"  --no-validate       do not validate: the dnssec columns stay empty (for\n"
	"                      comparisons, and for users who trust their resolver)\n"
	"  --verify-threads N  threads that verify signatures beside the event loop,\n"
	"                      0 = the loop verifies them itself (default: one per CPU\n"
	"                      but the loop's, at most 16)\n"
	"\n"
	"pipeline:\n"
	"  --concurrency N     domains in flight (default 2000)\n"
	"  --progress M        auto | bar | lines | none (default auto: a live bar on a\n"
	"                      terminal, a line every 5 s otherwise)\n"
	"  -q, --quiet         only errors\n"
	"  -v, --verbose       debug messages\n"
	"\n"
	"probes (they contact the mail hosts and policy servers: opt in):\n"
	"  --probes LIST       smtp, https, both (smtp,https), or none (default none:\n"
	"                      DNS only)\n"
	"  --ehlo NAME         the EHLO name the SMTP probe introduces itself with;\n"
	"                      make it name you (default mxcensus-research.invalid)\n"
	"  --ca-file FILE      PEM trust anchors replacing the system store (PKIX of\n"
	"                      mail hosts and policy servers)\n"
	"  --smtp-port N       port of the mail hosts (default 25)\n"
	"  --https-port N      port of the MTA-STS policy servers (default 443)\n"
	"  --max-probe-addrs N addresses probed per mail host (default 8)\n"
	"  --probe-timeout MS  deadline of each SMTP step and of a policy fetch; the\n"
	"                      banner gets 1.5 times it (default: 10 s to connect, 30 s\n"
	"                      for the banner, 20 s per reply and for the TLS handshake,\n"
	"                      30 s per policy fetch)\n"
	"  --blocklist FILE    never contact these CIDRs and domains (repeatable)\n"
	"  --per-ip-rate R     new connections per second per address (default 1)\n"
	"  --per-ip-conns N    connections open at once per address (default 2)\n"
	"  --per-net-rate R    per IPv4 /24 or IPv6 /48, 0 = no limit (default 10)\n"
	"  --per-net-conns N   per network, 0 = no cap (default 16)\n"
	"  --connect-rate R    new connections per second overall (default 100)\n"
	"  --max-connections N connections open at once overall (default 500)\n";

static const char usage_export[] =
	"usage: mxcensus export --db DIR [--what domains|hosts]\n"
	"                       [--format csv|jsonl|parquet] [--out FILE]\n"
	"\n"
	"Write the stored records, one row per domain (or per mail host and address).\n"
	"  --db DIR            the store to read\n"
	"  --what W            domains (default) or hosts\n"
	"  --format F          csv (default), jsonl, or parquet (ZSTD; docs/PARQUET.md)\n"
	"  --out FILE          output file (default standard output); written to\n"
	"                      FILE.tmp and renamed when complete\n";

static const char usage_report[] =
	"usage: mxcensus report --db DIR [--by tld|provider] [--format text|md|json|html]\n"
	"                       [--out FILE]\n"
	"\n"
	"Adoption of DNSSEC, STARTTLS, DANE, MTA-STS, TLS-RPT, SPF and DMARC, downgrade\n"
	"exposure and the most frequent issues, per TLD and per mail provider (MX hosts\n"
	"grouped by registrable domain with the Public Suffix List). See docs/REPORT.md.\n"
	"  --db DIR            the store to read\n"
	"  --by B              tld or provider (default: both)\n"
	"  --format F          text (default), md, json, or html (a self-contained page)\n"
	"  --out FILE          output file (default standard output); written to\n"
	"                      FILE.tmp and renamed when complete\n"
	"  --top N             providers shown, the rest as 'other' (default 20)\n"
	"  --top-tlds N        TLDs shown, the rest as 'other' (default 50)\n"
	"  --psl FILE          Public Suffix List file (default: the newest of libpsl's\n"
	"                      built-in list and the system's)\n";

static const char usage_compare[] =
	"usage: mxcensus compare OLD_DB NEW_DB [--format text|md|json|html] [--out FILE]\n"
	"\n"
	"Compare two runs: adoption per TLD and per provider in each and the change in\n"
	"percentage points, how many domains moved between verdicts, and every domain\n"
	"whose verdict changed (better, worse, or just changed). See docs/REPORT.md.\n"
	"  --format F          text (default), md, json or html\n"
	"  --out FILE          output file (default standard output); written to\n"
	"                      FILE.tmp and renamed when complete\n"
	"  --top N             providers shown (default 20)\n"
	"  --top-tlds N        TLDs shown (default 50)\n"
	"  --psl FILE          Public Suffix List file\n";

static const char usage_merge[] =
	"usage: mxcensus merge --out DIR DB...\n"
	"\n"
	"Join the stores of the shards of a scan (scan --shard K/N) into one new store\n"
	"that export, report and compare read like that of a single scan. Every input is\n"
	"checked first: a store being written by a running scan, or the same store, run\n"
	"or shard given twice, is refused; inputs of different scans, missing shards and\n"
	"unfinished runs are merged with a warning. Where inputs hold the same domain or\n"
	"mail host, the most recent record is kept. See store/README.md, \"Merging\".\n"
	"  --out DIR           the new store (must not exist, or be empty); after a\n"
	"                      killed merge, the same command completes it\n"
	"  --batch N           records per transaction (default 10000)\n"
	"  -q, --quiet         errors only\n"
	"\n"
	"exit status: 0 merged (or already merged), 1 failed, 2 bad usage or inputs\n";

static int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mxcensus %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'mxcensus %s --help'.\n", cmd);
	return MXC_EXIT_USAGE;
}

static int parse_uint(const char *cmd, const char *opt, const char *arg, uint64_t min,
		      uint64_t max, unsigned *out)
{
	uint64_t v;

	if (mxc_parse_u64(arg, min, max, &v) != 0) {
		fprintf(stderr, "mxcensus %s: %s: '%s' is not a number in [%llu, %llu]\n", cmd,
			opt, arg, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static void join_args(int argc, char **argv, char *out, size_t len)
{
	size_t k = 0;

	out[0] = '\0';
	for (int i = 0; i < argc && k + 1 < len; i++) {
		int n = snprintf(out + k, len - k, "%s%s", i ? " " : "", argv[i]);

		if (n < 0)
			break;
		k += (size_t)n;
	}
}

enum scan_opt {
	OPT_DB = 256,
	OPT_RESOLVER,
	OPT_QPS,
	OPT_RINFLIGHT,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_MAXMX,
	OPT_CONCURRENCY,
	OPT_SHARD,
	OPT_FORMAT,
	OPT_BATCH,
	OPT_PROGRESS,
	OPT_PROBES,
	OPT_TRUST_ANCHOR,
	OPT_NO_VALIDATE,
	OPT_VERIFY_THREADS,
	OPT_CA_FILE,
	OPT_SMTP_PORT,
	OPT_HTTPS_PORT,
	OPT_EHLO,
	OPT_PER_IP_RATE,
	OPT_PER_IP_CONNS,
	OPT_PER_NET_RATE,
	OPT_PER_NET_CONNS,
	OPT_CONNECT_RATE,
	OPT_MAX_CONNS,
	OPT_BLOCKLIST,
	OPT_MAX_PROBE_ADDRS,
	OPT_PROBE_TIMEOUT,
	OPT_WHAT,
	OPT_OUT,
};

static int parse_rate(const char *opt, const char *arg, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || !end || *end || end == arg || v < 0 || v > MXC_POLITE_RATE_MAX) {
		fprintf(stderr, "mxcensus scan: %s: '%s' is not a rate in [0, %.0f]\n", opt, arg,
			MXC_POLITE_RATE_MAX);
		return -1;
	}
	*out = v;
	return 0;
}

/* --probes LIST: smtp, https, "smtp,https" (either order), or none. */
static int parse_probes(const char *arg, bool *smtp, bool *https)
{
	const char *p = arg;

	*smtp = *https = false;
	if (strcmp(arg, "none") == 0)
		return 0;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 4 && strncmp(p, "smtp", 4) == 0)
			*smtp = true;
		else if (n == 5 && strncmp(p, "https", 5) == 0)
			*https = true;
		else
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return *smtp || *https ? 0 : -1;
}

static int cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "qps", required_argument, NULL, OPT_QPS },
		{ "resolver-inflight", required_argument, NULL, OPT_RINFLIGHT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "retries", required_argument, NULL, OPT_RETRIES },
		{ "max-mx", required_argument, NULL, OPT_MAXMX },
		{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "input-format", required_argument, NULL, OPT_FORMAT },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "progress", required_argument, NULL, OPT_PROGRESS },
		{ "probes", required_argument, NULL, OPT_PROBES },
		{ "trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR },
		{ "no-validate", no_argument, NULL, OPT_NO_VALIDATE },
		{ "verify-threads", required_argument, NULL, OPT_VERIFY_THREADS },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "smtp-port", required_argument, NULL, OPT_SMTP_PORT },
		{ "https-port", required_argument, NULL, OPT_HTTPS_PORT },
		{ "ehlo", required_argument, NULL, OPT_EHLO },
		{ "per-ip-rate", required_argument, NULL, OPT_PER_IP_RATE },
		{ "per-ip-conns", required_argument, NULL, OPT_PER_IP_CONNS },
		{ "per-net-rate", required_argument, NULL, OPT_PER_NET_RATE },
		{ "per-net-conns", required_argument, NULL, OPT_PER_NET_CONNS },
		{ "connect-rate", required_argument, NULL, OPT_CONNECT_RATE },
		{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
		{ "blocklist", required_argument, NULL, OPT_BLOCKLIST },
		{ "max-probe-addrs", required_argument, NULL, OPT_MAX_PROBE_ADDRS },
		{ "probe-timeout", required_argument, NULL, OPT_PROBE_TIMEOUT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mxc_upstream_cfg ups[MAX_UPSTREAMS];
	size_t n_ups = 0;
	const char *blocklists[MAX_BLOCKLISTS];
	size_t n_blocklists = 0;
	unsigned tmp;
	bool verify_threads_given = false;
	struct mxc_scan_opts o;
	char args[1024];
	int c;

	memset(&o, 0, sizeof(o));
	o.db_dir = "mxcensus-db";
	o.format = MXC_INPUT_AUTO;
	o.concurrency = 2000;
	o.max_mx = 10;
	o.batch_size = 1000;
	/*
	 * Four commits a second, of at most 1,000 records: the records wait
	 * in memory until the committer thread has written them, up to about
	 * four batches when it falls behind (on a 1M-domain store it does, now
	 * and then), so the batch, not the input, sets that share of our
	 * memory (heap profile at 1M: 10 MB of waiting records with 2,500,
	 * half that at 100k).
	 */
	o.commit_ms = 250;
	o.progress = MXC_PROGRESS_AUTO;
	o.progress_ms = 5000;
	mxc_resolver_opts_default(&o.resolver);
	mxc_validator_opts_default(&o.validator);
	o.validate = true;
	mxc_polite_opts_init(&o.polite);
	o.smtp_port = 25;
	o.max_probe_addrs = 8;
	o.resolver.qps = 5000;
	o.resolver.max_inflight = 2000;
	o.resolver.timeout_ms = 1500;
	o.resolver.retries = 3;
	/*
	 * Mail hosts are resolved once per run (the store remembers them) and a
	 * domain's own questions bypass the cache, so the cache serves little
	 * beyond implicit-MX addresses: keep it small, so that memory does not
	 * creep up with the population.
	 */
	o.resolver.cache_entries = 5000;
	join_args(argc, argv, args, sizeof(args));
	o.args = args;

	optind = 0; /* glibc: 0 re-initialises getopt, so the CLI can run twice in one process */
	while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			o.db_dir = optarg;
			break;
		case OPT_RESOLVER:
			if (n_ups == MAX_UPSTREAMS)
				return usage_error("scan", "too many --resolver (at most 16): %s",
						   optarg);
			if (mxc_upstream_parse(optarg, &ups[n_ups]) != 0)
				return usage_error("scan",
						   "--resolver: '%s' is not ADDR, ADDR:PORT or [ADDR]:PORT",
						   optarg);
			n_ups++;
			break;
		case OPT_QPS:
			if (parse_uint("scan", "--qps", optarg, 0, 10000000, &o.resolver.qps))
				return MXC_EXIT_USAGE;
			break;
		case OPT_RINFLIGHT:
			if (parse_uint("scan", "--resolver-inflight", optarg, 1, 60000,
				       &o.resolver.max_inflight))
				return MXC_EXIT_USAGE;
			break;
		case OPT_TIMEOUT:
			if (parse_uint("scan", "--timeout", optarg, 10, 60000, &o.resolver.timeout_ms))
				return MXC_EXIT_USAGE;
			break;
		case OPT_RETRIES:
			if (parse_uint("scan", "--retries", optarg, 0, 10, &o.resolver.retries))
				return MXC_EXIT_USAGE;
			break;
		case OPT_MAXMX:
			if (parse_uint("scan", "--max-mx", optarg, 1, 32, &o.max_mx))
				return MXC_EXIT_USAGE;
			break;
		case OPT_CONCURRENCY:
			if (parse_uint("scan", "--concurrency", optarg, 1, 1000000, &o.concurrency))
				return MXC_EXIT_USAGE;
			break;
		case OPT_BATCH:
			if (parse_uint("scan", "--batch", optarg, 1, 1000000, &o.batch_size))
				return MXC_EXIT_USAGE;
			break;
		case OPT_SHARD:
			if (mxc_shard_parse(optarg, &o.shard) != 0)
				return usage_error("scan", "--shard: '%s' is not K/N with 0 <= K < N",
						   optarg);
			break;
		case OPT_FORMAT:
			if (mxc_input_format_parse(optarg, &o.format) != 0)
				return usage_error("scan",
						   "--input-format: '%s' is not list, zone, csv or auto",
						   optarg);
			break;
		case OPT_PROGRESS:
			if (strcmp(optarg, "auto") == 0)
				o.progress = MXC_PROGRESS_AUTO;
			else if (strcmp(optarg, "bar") == 0)
				o.progress = MXC_PROGRESS_BAR;
			else if (strcmp(optarg, "lines") == 0)
				o.progress = MXC_PROGRESS_LINES;
			else if (strcmp(optarg, "none") == 0)
				o.progress = MXC_PROGRESS_NONE;
			else
				return usage_error("scan",
						   "--progress: '%s' is not auto, bar, lines or none",
						   optarg);
			break;
		case OPT_PROBES:
			if (parse_probes(optarg, &o.probe_smtp, &o.probe_https) != 0)
				return usage_error("scan",
						   "--probes: '%s' is not smtp, https, smtp,https or none",
						   optarg);
			break;
		case OPT_CA_FILE:
			o.smtp.ca_file = optarg;
			o.sts.ca_file = optarg;
			break;
		case OPT_SMTP_PORT:
		case OPT_HTTPS_PORT: {
			unsigned port;

			if (parse_uint("scan", c == OPT_SMTP_PORT ? "--smtp-port" : "--https-port",
				       optarg, 1, 65535, &port))
				return MXC_EXIT_USAGE;
			if (c == OPT_SMTP_PORT)
				o.smtp_port = (uint16_t)port;
			else
				o.sts.port = (uint16_t)port;
			break;
		}
		case OPT_EHLO:
			o.smtp.ehlo_name = optarg;
			break;
		case OPT_PER_IP_RATE:
			if (parse_rate("--per-ip-rate", optarg, &o.polite.host.rate))
				return MXC_EXIT_USAGE;
			break;
		case OPT_PER_NET_RATE:
			if (parse_rate("--per-net-rate", optarg, &o.polite.net.rate))
				return MXC_EXIT_USAGE;
			break;
		case OPT_CONNECT_RATE:
			if (parse_rate("--connect-rate", optarg, &o.polite.global.rate))
				return MXC_EXIT_USAGE;
			break;
		case OPT_PER_IP_CONNS:
			if (parse_uint("scan", "--per-ip-conns", optarg, 0, MXC_POLITE_INFLIGHT_MAX,
				       &tmp))
				return MXC_EXIT_USAGE;
			o.polite.host.max_inflight = tmp;
			break;
		case OPT_PER_NET_CONNS:
			if (parse_uint("scan", "--per-net-conns", optarg, 0, MXC_POLITE_INFLIGHT_MAX,
				       &tmp))
				return MXC_EXIT_USAGE;
			o.polite.net.max_inflight = tmp;
			break;
		case OPT_MAX_CONNS:
			if (parse_uint("scan", "--max-connections", optarg, 1,
				       MXC_POLITE_INFLIGHT_MAX, &tmp))
				return MXC_EXIT_USAGE;
			o.polite.global.max_inflight = tmp;
			break;
		case OPT_BLOCKLIST:
			if (n_blocklists == MAX_BLOCKLISTS)
				return usage_error("scan", "too many --blocklist (at most %d)",
						   MAX_BLOCKLISTS);
			blocklists[n_blocklists++] = optarg;
			break;
		case OPT_MAX_PROBE_ADDRS:
			if (parse_uint("scan", "--max-probe-addrs", optarg, 1, 64, &o.max_probe_addrs))
				return MXC_EXIT_USAGE;
			break;
		case OPT_PROBE_TIMEOUT:
			if (parse_uint("scan", "--probe-timeout", optarg, 100, 600000, &tmp))
				return MXC_EXIT_USAGE;
			o.smtp.connect_timeout_ms = tmp;
			o.smtp.command_timeout_ms = tmp;
			o.smtp.tls_timeout_ms = tmp;
			o.smtp.banner_timeout_ms = (uint64_t)tmp * 3 / 2;
			o.sts.timeout_ms = tmp;
			break;
		case OPT_TRUST_ANCHOR:
			o.validator.anchor_file = optarg;
			break;
		case OPT_NO_VALIDATE:
			o.validate = false;
			break;
		case OPT_VERIFY_THREADS:
			if (parse_uint("scan", "--verify-threads", optarg, 0, 16, &tmp))
				return MXC_EXIT_USAGE;
			o.validator.threads = (int)tmp;
			verify_threads_given = true;
			break;
		case 'q':
			mxc_log_set_level(MXC_LOG_ERROR);
			if (o.progress == MXC_PROGRESS_AUTO)
				o.progress = MXC_PROGRESS_NONE;
			break;
		case 'v':
			mxc_log_set_level(MXC_LOG_DEBUG);
			break;
		case 'h':
			fputs(usage_scan, stdout);
			return MXC_EXIT_OK;
		default:
			fprintf(stderr, "Try 'mxcensus scan --help'.\n");
			return MXC_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("scan", "%s", "no INPUT given");
	o.inputs = (const char *const *)&argv[optind];
	o.n_inputs = (size_t)(argc - optind);

	if (n_ups == 0) {
		int r = mxc_upstreams_from_resolv_conf("/etc/resolv.conf", ups, MAX_UPSTREAMS,
						       &n_ups);

		if (r != 0 || n_ups == 0) {
			fprintf(stderr, "mxcensus scan: no --resolver given and /etc/resolv.conf %s\n",
				r ? "cannot be read" : "names no nameserver");
			return MXC_EXIT_USAGE;
		}
	}
	{
		const char *why = NULL;

		if (mxc_polite_opts_check(&o.polite, &why) != 0)
			return usage_error("scan", "politeness limits: %s", why ? why : "invalid");
	}
	o.blocklists = blocklists;
	o.n_blocklists = n_blocklists;
	if (!o.validate && o.validator.anchor_file)
		return usage_error("scan", "%s", "--trust-anchor and --no-validate contradict each other");
	if (!o.validate && verify_threads_given)
		return usage_error("scan", "%s",
				   "--verify-threads and --no-validate contradict each other");
	o.resolver.upstreams = ups;
	o.resolver.n_upstreams = n_ups;
	/* The validator judges what the resolver would have refused. */
	o.resolver.checking_disabled = o.validate;
	return mxc_scan_run(&o);
}

/* Opens the store at @p path read-only; says why not. */
static int store_open_ro(const char *path, struct mxc_store **store)
{
	char err[512] = "";
	int r = mxc_store_open(path, MXC_STORE_RDONLY, 1, store, err, sizeof(err));

	if (r && err[0])
		mxc_log_error("cannot open the store: %s", err);
	else if (r)
		mxc_log_error("cannot open the store %s: %s", path, mxc_strerror(r));
	return r;
}

/* Where an export, report or comparison goes: stdout, or FILE.tmp renamed
 * at the end so that a reader never sees half a file. */
struct out_file {
	const char *path;
	char tmp[4096];
	FILE *f;
};

static int out_open(const char *cmd, struct out_file *o, const char *path)
{
	o->path = path;
	o->f = stdout;
	if (strcmp(path, "-") == 0)
		return 0;
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp", path);
	o->f = fopen(o->tmp, "w");
	if (!o->f) {
		mxc_log_error("%s: %s: cannot create: %s", cmd, o->tmp, strerror(errno));
		return MXC_EIO;
	}
	return 0;
}

/* Closes @p o after a writer returned @p r; the file appears only when all went well. */
static int out_close(struct out_file *o, int r)
{
	if (o->f == stdout)
		return fflush(stdout) != 0 && r == 0 ? MXC_EIO : r;
	if (fclose(o->f) != 0 && r == 0)
		r = MXC_EIO;
	if (r == 0 && rename(o->tmp, o->path) != 0) {
		mxc_log_error("%s: cannot rename to %s: %s", o->tmp, o->path, strerror(errno));
		r = MXC_EIO;
	}
	if (r)
		unlink(o->tmp);
	return r;
}

static const char *out_name(const char *path)
{
	return strcmp(path, "-") ? path : "standard output";
}

static int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "what", required_argument, NULL, OPT_WHAT },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *out = "-";
	enum mxc_export_what what = MXC_EXPORT_DOMAINS;
	enum mxc_export_format fmt = MXC_EXPORT_CSV;
	struct mxc_store *store = NULL;
	struct out_file o;
	uint64_t rows = 0;
	int c, r;

	optind = 0; /* glibc: 0 re-initialises getopt, so the CLI can run twice in one process */
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			db = optarg;
			break;
		case OPT_WHAT:
			if (mxc_export_what_parse(optarg, &what) != 0)
				return usage_error("export", "--what: '%s' is not domains or hosts",
						   optarg);
			break;
		case OPT_FORMAT:
			if (mxc_export_format_parse(optarg, &fmt) != 0)
				return usage_error("export", "--format: '%s' is not csv, jsonl or parquet",
						   optarg);
			break;
		case OPT_OUT:
			out = optarg;
			break;
		case 'q':
			mxc_log_set_level(MXC_LOG_ERROR);
			break;
		case 'h':
			fputs(usage_export, stdout);
			return MXC_EXIT_OK;
		default:
			fprintf(stderr, "Try 'mxcensus export --help'.\n");
			return MXC_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("export", "unexpected argument '%s'", argv[optind]);
	if (!db)
		return usage_error("export", "%s", "--db DIR is required");
	/* Parquet is binary: not onto a terminal. */
	if (fmt == MXC_EXPORT_PARQUET && strcmp(out, "-") == 0 && isatty(STDOUT_FILENO))
		return usage_error("export", "%s",
				   "--format parquet writes binary data: give --out FILE or redirect");
	if (store_open_ro(db, &store))
		return MXC_EXIT_FAILED;
	r = out_open("export", &o, out);
	if (r) {
		mxc_store_close(store);
		return MXC_EXIT_FAILED;
	}
	r = out_close(&o, mxc_export(store, what, fmt, o.f, &rows));
	mxc_store_close(store);
	if (r) {
		mxc_log_error("export from %s failed: %s", db, mxc_strerror(r));
		return MXC_EXIT_FAILED;
	}
	mxc_log_info("exported %llu %s rows from %s to %s", (unsigned long long)rows,
		     what == MXC_EXPORT_DOMAINS ? "domain" : "host", db, out_name(out));
	return MXC_EXIT_OK;
}

enum report_opt {
	ROPT_DB = 512,
	ROPT_BY,
	ROPT_FORMAT,
	ROPT_OUT,
	ROPT_TOP,
	ROPT_TOP_TLDS,
	ROPT_PSL,
};

/* Terminal bold only on a terminal, and never when NO_COLOR is set. */
static bool report_color(FILE *f, enum mxc_out_format fmt)
{
	return fmt == MXC_OUT_TEXT && f == stdout && isatty(STDOUT_FILENO) &&
	       !getenv("NO_COLOR");
}

static int report_common_opt(const char *cmd, int c, struct mxc_report_opts *ro,
			     enum mxc_out_format *fmt, const char **out)
{
	switch (c) {
	case ROPT_FORMAT:
		if (mxc_out_format_parse(optarg, fmt) != 0)
			return usage_error(cmd, "--format: '%s' is not text, md, json or html",
					   optarg);
		return 0;
	case ROPT_OUT:
		*out = optarg;
		return 0;
	case ROPT_TOP:
		return parse_uint(cmd, "--top", optarg, 1, 1000, &ro->top_providers) ?
			       MXC_EXIT_USAGE : 0;
	case ROPT_TOP_TLDS:
		return parse_uint(cmd, "--top-tlds", optarg, 1, 1000, &ro->top_tlds) ?
			       MXC_EXIT_USAGE : 0;
	case ROPT_PSL:
		ro->psl_file = optarg;
		return 0;
	case 'q':
		mxc_log_set_level(MXC_LOG_ERROR);
		return 0;
	default:
		fprintf(stderr, "Try 'mxcensus %s --help'.\n", cmd);
		return MXC_EXIT_USAGE;
	}
}

/* Writes a report or comparison in @p fmt to @p out through @p write. */
static int report_emit(const char *cmd, const char *out, enum mxc_out_format fmt,
		       int (*write)(void *obj, enum mxc_out_format fmt, FILE *f, bool color),
		       void *obj)
{
	struct out_file o;
	int r = out_open(cmd, &o, out);

	if (r)
		return r;
	r = out_close(&o, write(obj, fmt, o.f, report_color(o.f, fmt)));
	if (r)
		mxc_log_error("%s: writing %s failed: %s", cmd, out_name(out), mxc_strerror(r));
	return r;
}

struct report_job {
	struct mxc_report *rep;
	unsigned by;
};

static int report_job_write(void *obj, enum mxc_out_format fmt, FILE *f, bool color)
{
	struct report_job *j = obj;

	return mxc_report_write(j->rep, fmt, j->by, f, color);
}

static int compare_write(void *obj, enum mxc_out_format fmt, FILE *f, bool color)
{
	return mxc_compare_write(obj, fmt, f, color);
}

static int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, ROPT_DB },
		{ "by", required_argument, NULL, ROPT_BY },
		{ "format", required_argument, NULL, ROPT_FORMAT },
		{ "out", required_argument, NULL, ROPT_OUT },
		{ "top", required_argument, NULL, ROPT_TOP },
		{ "top-tlds", required_argument, NULL, ROPT_TOP_TLDS },
		{ "psl", required_argument, NULL, ROPT_PSL },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mxc_report_opts ro = { 0 };
	enum mxc_out_format fmt = MXC_OUT_TEXT;
	const char *db = NULL, *out = "-";
	struct report_job job = { .by = MXC_REPORT_BY_ALL };
	struct mxc_store *store = NULL;
	char err[512] = "";
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_report, stdout);
			return MXC_EXIT_OK;
		} else if (c == ROPT_DB) {
			db = optarg;
		} else if (c == ROPT_BY) {
			if (strcmp(optarg, "tld") == 0)
				job.by = MXC_REPORT_BY_TLD;
			else if (strcmp(optarg, "provider") == 0)
				job.by = MXC_REPORT_BY_PROVIDER;
			else
				return usage_error("report", "--by: '%s' is not tld or provider",
						   optarg);
		} else if ((r = report_common_opt("report", c, &ro, &fmt, &out)) != 0) {
			return r;
		}
	}
	if (optind < argc)
		return usage_error("report", "unexpected argument '%s'", argv[optind]);
	if (!db)
		return usage_error("report", "%s", "--db DIR is required");
	if (store_open_ro(db, &store))
		return MXC_EXIT_FAILED;
	r = mxc_report_new(&ro, &job.rep, err, sizeof(err));
	if (r) {
		mxc_log_error("report: %s", err[0] ? err : mxc_strerror(r));
		mxc_store_close(store);
		return MXC_EXIT_FAILED;
	}
	r = mxc_report_scan(job.rep, store);
	mxc_store_close(store);
	if (r)
		mxc_log_error("report: reading %s failed: %s", db, mxc_strerror(r));
	else
		r = report_emit("report", out, fmt, report_job_write, &job);
	mxc_report_free(job.rep);
	return r ? MXC_EXIT_FAILED : MXC_EXIT_OK;
}

static int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, ROPT_FORMAT },
		{ "out", required_argument, NULL, ROPT_OUT },
		{ "top", required_argument, NULL, ROPT_TOP },
		{ "top-tlds", required_argument, NULL, ROPT_TOP_TLDS },
		{ "psl", required_argument, NULL, ROPT_PSL },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mxc_report_opts ro = { 0 };
	enum mxc_out_format fmt = MXC_OUT_TEXT;
	const char *out = "-";
	struct mxc_compare *cmp = NULL;
	struct mxc_store *store = NULL;
	char err[512] = "";
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_compare, stdout);
			return MXC_EXIT_OK;
		}
		r = report_common_opt("compare", c, &ro, &fmt, &out);
		if (r)
			return r;
	}
	if (argc - optind != 2)
		return usage_error("compare", "%s", "expected two stores: OLD_DB NEW_DB");
	if (store_open_ro(argv[optind + 1], &store))
		return MXC_EXIT_FAILED;
	r = mxc_compare_new(&ro, &cmp, err, sizeof(err));
	if (!r)
		r = mxc_compare_stores(cmp, argv[optind], store, err, sizeof(err));
	mxc_store_close(store);
	if (r)
		mxc_log_error("compare: %s", err[0] ? err : mxc_strerror(r));
	else
		r = report_emit("compare", out, fmt, compare_write, cmp);
	mxc_compare_free(cmp);
	return r ? MXC_EXIT_FAILED : MXC_EXIT_OK;
}

static int cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, OPT_OUT },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mxc_merge_opts o = { 0 };
	struct mxc_merge_stats st;
	char err[1024] = "", args[1024];
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_OUT:
			o.out = optarg;
			break;
		case OPT_BATCH:
			if (parse_uint("merge", "--batch", optarg, 1, 1000000, &o.batch_size))
				return MXC_EXIT_USAGE;
			break;
		case 'q':
			mxc_log_set_level(MXC_LOG_ERROR);
			break;
		case 'h':
			fputs(usage_merge, stdout);
			return MXC_EXIT_OK;
		default:
			fprintf(stderr, "Try 'mxcensus merge --help'.\n");
			return MXC_EXIT_USAGE;
		}
	}
	if (!o.out)
		return usage_error("merge", "%s", "--out DIR is required");
	if (optind >= argc)
		return usage_error("merge", "%s", "no input store (DB) given");
	/* The merge's run record keeps the command line, as a scan's does. */
	join_args(argc, argv, args, sizeof(args));
	o.inputs = (const char *const *)(argv + optind);
	o.n_inputs = (size_t)(argc - optind);
	o.args = args;
	r = mxc_merge_run(&o, &st, err, sizeof(err));
	if (r) {
		mxc_log_error("%s", err[0] ? err : mxc_strerror(r));
		/* What the user must fix (the inputs, --out) is bad usage. */
		return r == MXC_EINVAL || r == MXC_EEXIST ? MXC_EXIT_USAGE : MXC_EXIT_FAILED;
	}
	if (!st.already_done)
		mxc_log_info("merged %zu stores into %s (run %s%s): %llu domains, %llu hosts; "
			     "%llu domain and %llu host records met an earlier one, %llu "
			     "replaced it; %llu damaged records skipped",
			     o.n_inputs, o.out, st.run_id, st.resumed ? ", completed" : "",
			     (unsigned long long)st.domains, (unsigned long long)st.hosts,
			     (unsigned long long)st.domains_shared,
			     (unsigned long long)st.hosts_shared, (unsigned long long)st.replaced,
			     (unsigned long long)st.corrupt);
	return MXC_EXIT_OK;
}

int mxc_cli_main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage_main, stderr);
		return MXC_EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_main, stdout);
		return MXC_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("mxcensus %s\n", MXC_VERSION);
		return MXC_EXIT_OK;
	}
	if (strcmp(cmd, "scan") == 0)
		return cmd_scan(argc - 1, argv + 1);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(argc - 1, argv + 1);
	if (strcmp(cmd, "report") == 0)
		return cmd_report(argc - 1, argv + 1);
	if (strcmp(cmd, "compare") == 0)
		return cmd_compare(argc - 1, argv + 1);
	if (strcmp(cmd, "merge") == 0)
		return cmd_merge(argc - 1, argv + 1);
	fprintf(stderr, "mxcensus: unknown command '%s'\n\n%s", cmd, usage_main);
	return MXC_EXIT_USAGE;
}
