/**
 * \file
 * The scan driver: opens the store and the input, begins or resumes the run,
 * and runs the loop that keeps the window of domain jobs full until the input
 * is exhausted or a signal asks us to stop.
 *
 * Resume and duplicates are decided here, before a job exists: a name the
 * store already holds (committed or in the pending batch) is skipped, and so
 * is a name whose job is in flight. Together with the readers' consecutive
 * dedup this drops every duplicate without a set that grows with the input.
 *
 * Stopping (SIGINT, SIGTERM, or a fatal store error): no new jobs; the
 * resolver is closed, which cancels every question, so jobs in flight end
 * without writing (they will be scanned next time); the store's batch is
 * committed; the exit status tells what happened.
 */
#include "scanner/scan.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

/** Names read per feeder turn, so the loop stays responsive on resume. */
#define FEED_BURST 512

static void scan_stop(struct mxc_scan *s, int signum);

void mxc__scan_fail(struct mxc_scan *s, int err, const char *what)
{
	if (!s->fatal) {
		s->fatal = err;
		mxc_log_error("%s: %s; stopping the scan (everything committed is kept)",
			      what, mxc_strerror(err));
	}
	scan_stop(s, 0);
}

static void feeder_cb(uv_idle_t *h)
{
	struct mxc_scan *s = h->data;
	struct mxc_input_item item;

	for (int i = 0; i < FEED_BURST; i++) {
		int r;

		if (s->stopping || s->input_done || s->inflight >= s->opts->concurrency) {
			uv_idle_stop(h);
			break;
		}
		r = mxc_input_next(s->input, &item);
		if (r == 0) {
			s->input_done = true;
			continue;
		}
		if (r < 0)
			continue; /* the reader logged it and moved to the next file */
		if (mxc_strmap_get(&s->active, item.name)) {
			s->stats.dup_skip++;
			continue;
		}
		r = mxc_store_domain_exists(s->store, item.name);
		if (r < 0) {
			mxc__scan_fail(s, r, "reading the store");
			break;
		}
		if (r == 1) {
			s->stats.resumed_skip++;
			continue;
		}
		r = mxc__job_start(s, &item);
		if (r) {
			mxc__scan_fail(s, r, "starting a job");
			break;
		}
	}
	if (s->input_done && s->inflight == 0)
		scan_stop(s, 0);
}

void mxc__scan_job_done(struct mxc_scan *s)
{
	s->inflight--;
	if (s->stopping) {
		if (s->inflight == 0)
			scan_stop(s, 0);
		return;
	}
	if (!uv_is_active((uv_handle_t *)&s->feeder))
		uv_idle_start(&s->feeder, feeder_cb);
}

/*
 * Every commit interval (250 ms): hand the pending batch to the store's
 * committer thread (the loop never waits for LMDB) and pick up the result of
 * the previous commit.
 */
static void commit_cb(uv_timer_t *h)
{
	struct mxc_scan *s = h->data;
	int r = mxc_store_commit_async(s->store);

	if (r)
		mxc__scan_fail(s, r, "committing to the store");
	/*
	 * LMDB allocates a commit's dirty pages one 4 KiB page at a time on
	 * the committer thread; freed, they fragment its heap, and the process
	 * would keep the holes. Hand free pages back every few commits.
	 */
	if (++s->commit_ticks % 4 == 0)
		malloc_trim(0);
}

/** Close the resolver (canceling its questions), keeping its final counters. */
static void close_resolver(struct mxc_scan *s)
{
	if (!s->resolver)
		return;
	mxc_resolver_get_stats(s->resolver, &s->last_rstats);
	s->last_rstats_valid = true;
	if (s->validator) {
		mxc_validator_get_stats(s->validator, &s->last_vstats);
		s->last_vstats_valid = true;
	}
	mxc_resolver_close(s->resolver);
	s->resolver = NULL;
}

/*
 * End the probes in flight (a scan stopping early) and close the gate and
 * the fetcher: their callbacks run from the loop, the jobs drain. The SMTP
 * context is freed at the very end, when no probe is left.
 */
static void close_probes(struct mxc_scan *s)
{
	struct mxc_gate *g = s->gate;

	if (s->smtp)
		mxc_smtp_ctx_cancel(s->smtp);
	if (s->sts) {
		struct mxc_sts_fetcher *f = s->sts;

		s->sts = NULL;
		mxc_sts_fetcher_close(f);
	}
	s->gate = NULL;
	mxc_gate_close(g);
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/**
 * Wind down: stop feeding, cancel the questions in flight (their jobs end
 * without writing), close our handles. Called again as jobs drain; the
 * handles are closed once.
 */
static void scan_stop(struct mxc_scan *s, int signum)
{
	if (signum && !s->signal)
		s->signal = signum;
	if (!s->stopping) {
		s->stopping = s->fatal || s->signal || (s->input_done && s->inflight == 0);
		if (!s->stopping)
			return;
		uv_idle_stop(&s->feeder);
		/* Cancels every question: the callbacks run from the loop. */
		close_resolver(s);
		close_probes(s);
	}
	if (s->inflight > 0)
		return;
	close_handle((uv_handle_t *)&s->feeder);
	close_handle((uv_handle_t *)&s->commit_timer);
	close_handle((uv_handle_t *)&s->sigint);
	close_handle((uv_handle_t *)&s->sigterm);
	mxc__progress_stop(s);
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct mxc_scan *s = h->data;

	if (s->signal) {
		/* A second signal: the user insists. The store stays consistent
		 * (LMDB), only the pending batch is lost and rescanned later. */
		mxc_log_warn("second signal: exiting now");
		exit(128 + signum);
	}
	mxc_log_warn("%s received: finishing the current batch and stopping "
		     "(send it again to exit at once)",
		     signum == SIGINT ? "SIGINT" : "SIGTERM");
	scan_stop(s, signum);
}

static void make_run_id(char *out, size_t len)
{
	char ts[21];
	uint8_t rnd[3];
	char compact[17];
	size_t k = 0;

	mxc_rfc3339(mxc_wall_time(), ts);
	for (size_t i = 0; ts[i] && k < sizeof(compact) - 1; i++)
		if (ts[i] != '-' && ts[i] != ':')
			compact[k++] = ts[i];
	compact[k] = '\0';
	mxc_random_bytes(rnd, sizeof(rnd));
	snprintf(out, len, "%s-%02x%02x%02x", compact, rnd[0], rnd[1], rnd[2]);
}

/* The blocklist, the gate, and the probes --probes asks for. */
static int open_probes(struct mxc_scan *s)
{
	const struct mxc_scan_opts *o = s->opts;
	char err[512] = "";
	int r;

	if (o->n_blocklists) {
		r = mxc_blocklist_new(&s->blocklist);
		for (size_t i = 0; !r && i < o->n_blocklists; i++)
			r = mxc_blocklist_add_file(s->blocklist, o->blocklists[i], err, sizeof(err));
		if (r) {
			mxc_log_error("--blocklist: %s", err[0] ? err : mxc_strerror(r));
			return 2;
		}
	}
	r = mxc_gate_new(s->loop, &o->polite, s->blocklist, &s->gate);
	if (r) {
		mxc_log_error("cannot set up the politeness limits: %s", mxc_strerror(r));
		return r == MXC_EINVAL ? 2 : 1;
	}
	if (o->probe_smtp) {
		r = mxc_smtp_ctx_new(s->loop, &o->smtp, &s->smtp);
		if (r) {
			mxc_log_error("cannot set up the SMTP probe (--ca-file, --ehlo): %s",
				      mxc_strerror(r));
			return r == MXC_EINVAL ? 2 : 1;
		}
	}
	if (o->probe_https) {
		r = mxc_sts_fetcher_new(s->loop, &o->sts, &s->sts);
		if (r) {
			mxc_log_error("cannot set up the MTA-STS fetcher (--ca-file): %s",
				      mxc_strerror(r));
			return r == MXC_EINVAL ? 2 : 1;
		}
	}
	return 0;
}

/**
 * Open the store, begin or resume the run, open the input and the resolver.
 * @return 0, or the exit status to end with: 2 for what the user must fix
 *         (an unreadable input, a store of another shard), 1 otherwise
 */
static int scan_open(struct mxc_scan *s)
{
	const struct mxc_scan_opts *o = s->opts;
	struct mxc_run_info fresh;
	char err[512] = "";
	int r;

	r = mxc_store_open(o->db_dir, MXC_STORE_CREATE, o->batch_size, &s->store, err,
			   sizeof(err));
	if (r) {
		mxc_log_error("cannot open the store: %s", err[0] ? err : mxc_strerror(r));
		return 1;
	}
	memset(&fresh, 0, sizeof(fresh));
	make_run_id(fresh.run_id, sizeof(fresh.run_id));
	fresh.started_at = mxc_wall_time();
	if (o->shard.n)
		snprintf(fresh.shard, sizeof(fresh.shard), "%u/%u", o->shard.k, o->shard.n);
	snprintf(fresh.args, sizeof(fresh.args), "%s", o->args ? o->args : "");
	r = mxc_store_run_begin(s->store, &fresh, &s->run);
	if (r < 0) {
		mxc_log_error("%s: cannot begin the run: %s", o->db_dir, mxc_strerror(r));
		return 1;
	}
	s->resumed = r == 1;
	if (s->resumed) {
		if (strcmp(s->run.shard, fresh.shard) != 0) {
			mxc_log_error("%s holds run %s of shard '%s', not '%s': use another --db",
				      o->db_dir, s->run.run_id, s->run.shard, fresh.shard);
			return 2;
		}
		mxc_log_info("resuming run %s in %s: domains already stored are skipped",
			     s->run.run_id, o->db_dir);
	}
	r = mxc_input_open(o->inputs, o->n_inputs, o->format, &o->shard, &s->input, err,
			   sizeof(err));
	if (r) {
		mxc_log_error("%s", err[0] ? err : mxc_strerror(r));
		return 2;
	}
	r = mxc_resolver_new(s->loop, &o->resolver, &s->resolver);
	if (r) {
		mxc_log_error("cannot start the resolver: %s", mxc_strerror(r));
		return 1;
	}
	if (o->validate) {
		r = mxc_validator_new(s->resolver, &o->validator, &s->validator, err, sizeof(err));
		if (r) {
			mxc_log_error("trust anchor: %s", err[0] ? err : mxc_strerror(r));
			return 2;
		}
	}
	return o->probe_smtp || o->probe_https ? open_probes(s) : 0;
}

int mxc_scan_run(const struct mxc_scan_opts *o)
{
	struct mxc_scan s;
	uv_loop_t loop;
	uint64_t t0 = mxc_now_ms();
	int r, status = 0;

	memset(&s, 0, sizeof(s));
	s.opts = o;
	s.loop = &loop;
	mxc_strmap_init(&s.active);
	mxc_strmap_init(&s.hostjobs);
	r = uv_loop_init(&loop);
	if (r) {
		mxc_log_error("cannot create the event loop: %s", uv_strerror(r));
		return 1;
	}
	status = scan_open(&s);
	if (status)
		goto out;
	uv_idle_init(&loop, &s.feeder);
	s.feeder.data = &s;
	uv_timer_init(&loop, &s.commit_timer);
	s.commit_timer.data = &s;
	uv_timer_start(&s.commit_timer, commit_cb, o->commit_ms, o->commit_ms);
	uv_signal_init(&loop, &s.sigint);
	uv_signal_init(&loop, &s.sigterm);
	s.sigint.data = s.sigterm.data = &s;
	uv_signal_start(&s.sigint, signal_cb, SIGINT);
	uv_signal_start(&s.sigterm, signal_cb, SIGTERM);
	mxc__progress_start(&s);
	uv_idle_start(&s.feeder, feeder_cb);

	uv_run(&loop, UV_RUN_DEFAULT);

	if (s.resolver) {
		close_resolver(&s);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	r = mxc_store_flush(s.store);
	if (r && !s.fatal) {
		mxc_log_error("%s: final commit failed: %s", o->db_dir, mxc_strerror(r));
		s.fatal = r;
	}
	if (!s.fatal && !s.signal) {
		r = mxc_store_run_finish(s.store, mxc_wall_time());
		if (r) {
			mxc_log_error("%s: cannot mark the run finished: %s", o->db_dir,
				      mxc_strerror(r));
			s.fatal = r;
		}
	}
	mxc__progress_summary(&s, mxc_now_ms() - t0);
	if (s.fatal)
		status = 1;
	else if (s.signal)
		status = 128 + s.signal;
out:
	if (s.resolver) {
		close_resolver(&s);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	mxc_validator_free(s.validator);
	s.validator = NULL;
	if (s.gate || s.sts) {
		close_probes(&s);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	mxc_smtp_ctx_free(s.smtp);
	s.smtp = NULL;
	mxc_blocklist_free(s.blocklist);
	s.blocklist = NULL;
	if (s.input)
		mxc_input_close(s.input);
	if (s.store) {
		r = mxc_store_close(s.store);
		if (r && status == 0) {
			mxc_log_error("%s: closing the store failed: %s", o->db_dir,
				      mxc_strerror(r));
			status = 1;
		}
	}
	mxc_strmap_free(&s.active);
	mxc_strmap_free(&s.hostjobs);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0)
		mxc_log_debug("event loop closed with handles still open");
	return status;
}
