/**
 * \file
 * The scan: one libuv loop, a bounded window of domain jobs, the mail hosts
 * they share, the store they write to, progress and graceful stop.
 *
 * The feeder reads names from the input while the window has room, skips
 * those the store already holds (resume) or that are already in flight
 * (duplicates), and starts a job for each of the rest. A job asks the
 * resolver for the domain's records, attaches to the host entries of its MX
 * hosts (each host name is resolved once per run, however many domains use
 * it), and when everything has answered, writes its record to the store's
 * current batch. The window bounds memory: nothing grows with the input.
 */
#ifndef MXC_SCANNER_SCAN_H
#define MXC_SCANNER_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common/strmap.h"
#include "resolver/resolver.h"
#include "resolver/validator.h"
#include "probes/blocklist.h"
#include "probes/polite.h"
#include "probes/smtp.h"
#include "probes/sts_fetch.h"
#include "scanner/gate.h"
#include "scanner/input.h"
#include "store/store.h"

/** How progress is shown on stderr. */
enum mxc_progress_mode {
	MXC_PROGRESS_AUTO = 0, /**< live bar on a terminal, lines otherwise */
	MXC_PROGRESS_BAR,
	MXC_PROGRESS_LINES,
	MXC_PROGRESS_NONE,
};

/** Everything `mxcensus scan` was asked to do. */
struct mxc_scan_opts {
	const char *db_dir;
	const char *const *inputs;
	size_t n_inputs;
	enum mxc_input_format format;
	struct mxc_shard shard;
	struct mxc_resolver_opts resolver;
	bool validate;           /**< judge DNSSEC (resolver/validator.h) */
	struct mxc_validator_opts validator;
	bool probe_smtp;         /**< --probes smtp: STARTTLS probes of each MX address */
	bool probe_https;        /**< --probes https: MTA-STS policy fetches */
	struct mxc_smtp_opts smtp;
	uint16_t smtp_port;      /**< --smtp-port (25) */
	unsigned max_probe_addrs; /**< addresses probed per mail host */
	struct mxc_sts_fetch_opts sts;
	struct mxc_polite_opts polite;
	const char *const *blocklists; /**< --blocklist files */
	size_t n_blocklists;
	unsigned concurrency;    /**< domains in flight */
	unsigned max_mx;         /**< MX hosts followed per domain */
	unsigned batch_size;     /**< records per store transaction */
	unsigned commit_ms;      /**< commit at least this often */
	enum mxc_progress_mode progress;
	unsigned progress_ms;    /**< interval of progress lines (non-terminal) */
	const char *args;        /**< the command line, kept in the run record */
};

/** Counters of one scan (this process only). */
struct mxc_scan_stats {
	uint64_t started;       /**< jobs started */
	uint64_t done;          /**< domain records written */
	uint64_t resumed_skip;  /**< already in the store */
	uint64_t dup_skip;      /**< already in flight */
	uint64_t hosts_started; /**< host names resolved */
	uint64_t hosts_done;
	uint64_t probes_started;  /**< SMTP probes asked for (per address) */
	uint64_t probes_done;
	uint64_t probes_blocked;  /**< not run: blocklisted */
	uint64_t sts_started;     /**< MTA-STS policy fetches */
	uint64_t sts_done;
	uint64_t by_status[MXC_MX__COUNT];
};

/**
 * Run a scan to the end of its input, or until SIGINT/SIGTERM.
 * @return the process exit status: 0 done, 1 failed, 130/143 after a signal
 */
int mxc_scan_run(const struct mxc_scan_opts *o);

/* ---- internal to the scanner (scan.c, job.c, progress.c) ---- */

struct mxc_scan;
struct mxc_job;
struct mxc_hostjob;

/** Progress display state (progress.c). */
struct mxc_progress {
	struct mxc_scan *scan;
	uv_timer_t timer;
	enum mxc_progress_mode mode;
	uint64_t started_ms;
	uint64_t last_ms;
	uint64_t last_done;
	uint64_t last_queries;  /**< datagrams sent at the last tick */
	double rate;            /**< smoothed domains/s */
	bool bar_visible;
};

struct mxc_scan {
	const struct mxc_scan_opts *opts;
	uv_loop_t *loop;
	struct mxc_resolver *resolver;
	struct mxc_validator *validator; /**< NULL with --no-validate */
	struct mxc_blocklist *blocklist; /**< NULL without --blocklist */
	struct mxc_gate *gate;           /**< NULL without probes */
	struct mxc_smtp_ctx *smtp;       /**< NULL without --probes smtp */
	struct mxc_sts_fetcher *sts;     /**< NULL without --probes https */
	struct mxc_store *store;
	struct mxc_input *input;
	struct mxc_run_info run;
	bool resumed;

	uv_idle_t feeder;       /**< reads input while the window has room */
	uv_timer_t commit_timer;
	unsigned commit_ticks;
	uv_signal_t sigint, sigterm;
	struct mxc_progress progress;

	struct mxc_strmap active;   /**< domain name -> struct mxc_job */
	struct mxc_strmap hostjobs; /**< host name -> struct mxc_hostjob */
	unsigned inflight;          /**< jobs in the window */
	bool input_done;
	bool stopping;              /**< a signal or a fatal error: no new work */
	int signal;                 /**< the signal that stopped us, or 0 */
	int fatal;                  /**< first fatal error (store), or 0 */
	struct mxc_scan_stats stats;
	struct mxc_resolver_stats last_rstats; /**< taken when the resolver closes */
	bool last_rstats_valid;
	struct mxc_validator_stats last_vstats;
	bool last_vstats_valid;
};

/** Start a job for @p item (job.c). @return 0 or MXC_ENOMEM */
int mxc__job_start(struct mxc_scan *s, const struct mxc_input_item *item);

/** Called by a job when it has finished and freed itself (scan.c). */
void mxc__scan_job_done(struct mxc_scan *s);

/** Record a fatal error and begin stopping (scan.c). */
void mxc__scan_fail(struct mxc_scan *s, int err, const char *what);

/** Progress display (progress.c). */
int mxc__progress_start(struct mxc_scan *s);
void mxc__progress_stop(struct mxc_scan *s);
void mxc__progress_clear_line(void);
void mxc__progress_summary(struct mxc_scan *s, uint64_t elapsed_ms);

#endif
