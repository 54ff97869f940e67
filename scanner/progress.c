/**
 * \file
 * Progress on stderr. On a terminal a live line is redrawn in place four
 * times a second (domains done, rate, queries/s, in flight, percent of the
 * input read, ETA); otherwise (a log file, CI) one plain line is printed
 * every few seconds. Log lines clear the live line first through the log
 * hook, so the two never interleave on one line.
 *
 * A streamed input's number of names is not known in advance, so it is
 * estimated from the names handed out so far and the share of the input's
 * bytes they took; the fraction done is the names finished (stored, or
 * skipped as stored already or duplicate) over that estimate.
 */
#include <stdio.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "scanner/scan.h"

#define BAR_INTERVAL_MS 250

static struct mxc_progress *g_live; /* the progress with a visible bar, for the log hook */

void mxc__progress_clear_line(void)
{
	if (g_live && g_live->bar_visible) {
		fputs("\r\033[K", stderr);
		g_live->bar_visible = false;
	}
}

static void format_eta(double seconds, char *buf, size_t len)
{
	if (seconds < 0 || seconds > 1e7) {
		snprintf(buf, len, "--");
		return;
	}
	unsigned long t = (unsigned long)seconds;

	if (t >= 3600)
		snprintf(buf, len, "%luh%02lum", t / 3600, (t / 60) % 60);
	else
		snprintf(buf, len, "%lum%02lus", t / 60, t % 60);
}

static void progress_tick(uv_timer_t *h)
{
	struct mxc_progress *p = h->data;
	struct mxc_scan *s = p->scan;
	struct mxc_input_stats is;
	struct mxc_resolver_stats rs = { 0 };
	uint64_t now = mxc_now_ms();
	double dt = (double)(now - p->last_ms) / 1000.0;
	double inst, qps, frac = -1, eta = -1;
	char etabuf[32];

	if (dt <= 0)
		return;
	mxc_input_get_stats(s->input, &is);
	if (s->resolver)
		mxc_resolver_get_stats(s->resolver, &rs);
	inst = (double)(s->stats.done - p->last_done) / dt;
	qps = (double)(rs.sent - p->last_queries) / dt;
	p->rate = p->rate == 0 ? inst : 0.7 * p->rate + 0.3 * inst;
	p->last_ms = now;
	p->last_done = s->stats.done;
	p->last_queries = rs.sent;
	if (is.bytes_total > 0 && is.bytes_read > 0) {
		double est_names = (double)is.names * (double)is.bytes_total / (double)is.bytes_read;
		double finished = (double)(s->stats.done + s->stats.resumed_skip + s->stats.dup_skip);

		frac = est_names > 0 ? finished / est_names : 0;
		if (frac > 1)
			frac = 1;
		if (frac > 0.001 && now > p->started_ms) {
			double el = (double)(now - p->started_ms) / 1000.0;

			eta = el / frac - el;
		}
	}
	format_eta(eta, etabuf, sizeof(etabuf));

	if (p->mode == MXC_PROGRESS_BAR) {
		char bar[21];
		int fill = frac < 0 ? 0 : (int)(frac * 20 + 0.5);

		for (int i = 0; i < 20; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[20] = '\0';
		fprintf(stderr, "\r\033[K[%s] %5.1f%% %llu done, %llu skipped, %.0f dom/s, %.0f q/s, "
				"%u in flight, ETA %s",
			bar, frac < 0 ? 0.0 : frac * 100, (unsigned long long)s->stats.done,
			(unsigned long long)s->stats.resumed_skip, p->rate, qps, s->inflight, etabuf);
		p->bar_visible = true;
	} else {
		fprintf(stderr,
			"mxcensus: progress: %llu done, %llu skipped, %llu invalid lines, "
			"%.0f domains/s, %.0f queries/s sent, %u in flight, %llu timeouts, %.1f%% done, ETA %s\n",
			(unsigned long long)s->stats.done, (unsigned long long)s->stats.resumed_skip,
			(unsigned long long)is.invalid, p->rate, qps, s->inflight,
			(unsigned long long)rs.gave_up, frac < 0 ? 0.0 : frac * 100, etabuf);
	}
	fflush(stderr);
}

int mxc__progress_start(struct mxc_scan *s)
{
	struct mxc_progress *p = &s->progress;
	unsigned interval;

	p->scan = s;
	p->mode = s->opts->progress;
	if (p->mode == MXC_PROGRESS_AUTO)
		p->mode = isatty(STDERR_FILENO) ? MXC_PROGRESS_BAR : MXC_PROGRESS_LINES;
	p->started_ms = p->last_ms = mxc_now_ms();
	uv_timer_init(s->loop, &p->timer);
	p->timer.data = p;
	if (p->mode == MXC_PROGRESS_NONE)
		return 0;
	interval = p->mode == MXC_PROGRESS_BAR ? BAR_INTERVAL_MS : s->opts->progress_ms;
	if (interval == 0)
		interval = 5000;
	if (p->mode == MXC_PROGRESS_BAR) {
		g_live = p;
		mxc_log_set_hook(mxc__progress_clear_line);
	}
	return uv_timer_start(&p->timer, progress_tick, interval, interval);
}

void mxc__progress_stop(struct mxc_scan *s)
{
	struct mxc_progress *p = &s->progress;

	mxc__progress_clear_line();
	if (g_live == p) {
		g_live = NULL;
		mxc_log_set_hook(NULL);
	}
	if (p->scan && !uv_is_closing((uv_handle_t *)&p->timer))
		uv_close((uv_handle_t *)&p->timer, NULL);
}

void mxc__progress_summary(struct mxc_scan *s, uint64_t elapsed_ms)
{
	struct mxc_input_stats is = { 0 };
	const struct mxc_scan_stats *st = &s->stats;
	double secs = (double)elapsed_ms / 1000.0;

	if (s->input)
		mxc_input_get_stats(s->input, &is);
	mxc_log_info("run %s: %llu domains stored in %.1f s (%.0f/s); %llu already stored "
		     "(skipped), %llu duplicates, %llu invalid lines, %llu in other shards",
		     s->run.run_id, (unsigned long long)st->done, secs,
		     secs > 0 ? (double)st->done / secs : 0.0,
		     (unsigned long long)st->resumed_skip,
		     (unsigned long long)(st->dup_skip + is.duplicates),
		     (unsigned long long)is.invalid, (unsigned long long)is.other_shard);
	mxc_log_info("mx_status: ok %llu, null-mx %llu, implicit %llu, no-mail %llu, "
		     "nxdomain %llu, servfail %llu, timeout %llu; %llu mail hosts resolved",
		     (unsigned long long)st->by_status[MXC_MX_OK],
		     (unsigned long long)st->by_status[MXC_MX_NULL],
		     (unsigned long long)st->by_status[MXC_MX_IMPLICIT],
		     (unsigned long long)st->by_status[MXC_MX_NO_MAIL],
		     (unsigned long long)st->by_status[MXC_MX_NXDOMAIN],
		     (unsigned long long)st->by_status[MXC_MX_SERVFAIL],
		     (unsigned long long)st->by_status[MXC_MX_TIMEOUT],
		     (unsigned long long)st->hosts_done);
	if (s->last_rstats_valid) {
		const struct mxc_resolver_stats *rs = &s->last_rstats;

		mxc_log_info("dns: %llu questions, %llu cache hits, %llu coalesced, %llu sent, "
			     "%llu retries, %llu timeouts, %llu gave up, %llu over TCP, "
			     "%llu unmatched, %llu mismatched, %llu malformed answers dropped",
			     (unsigned long long)rs->queries, (unsigned long long)rs->cache_hits,
			     (unsigned long long)rs->coalesced, (unsigned long long)rs->sent,
			     (unsigned long long)rs->retries, (unsigned long long)rs->timeouts,
			     (unsigned long long)rs->gave_up, (unsigned long long)rs->tcp,
			     (unsigned long long)rs->unmatched, (unsigned long long)rs->mismatched,
			     (unsigned long long)rs->malformed);
	}
	if (st->probes_started || st->sts_started)
		mxc_log_info("probes: %llu SMTP probes of mail host addresses (%llu done, %llu "
			     "blocklisted), %llu MTA-STS policy fetches (%llu done)",
			     (unsigned long long)st->probes_started,
			     (unsigned long long)st->probes_done,
			     (unsigned long long)st->probes_blocked,
			     (unsigned long long)st->sts_started, (unsigned long long)st->sts_done);
	if (s->last_vstats_valid) {
		const struct mxc_validator_stats *vs = &s->last_vstats;

		mxc_log_info("dnssec: %llu answers judged, %llu signature verifications "
			     "(%llu on verification threads), "
			     "%llu RRset verifications saved by the cache, %llu remembered RRsets "
			     "pushed out before their TTL, %llu zone walks "
			     "(%llu answered from memory, %llu joined), %llu DS/DNSKEY questions",
			     (unsigned long long)vs->checks, (unsigned long long)vs->sig_verify,
			     (unsigned long long)vs->sig_threaded,
			     (unsigned long long)vs->rrset_cached,
			     (unsigned long long)vs->rrset_evicted_live,
			     (unsigned long long)vs->zone_evals,
			     (unsigned long long)vs->zone_hits, (unsigned long long)vs->zone_joined,
			     (unsigned long long)vs->queries);
	}
}
