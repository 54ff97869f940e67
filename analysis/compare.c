/**
 * \file
 * Run-to-run comparison: the merge join of two stores, the classification
 * of each verdict change (worse, better, changed), and its writers.
 *
 * The join needs two ordered walks in step, and the store offers a walk as
 * a callback (mxc_export_rows over mxc_store_each_domain). Rather than a
 * second row builder, the OLD store is opened, walked and closed on a helper
 * thread that copies each row into a small ring; the NEW store is walked on
 * the calling thread, and its callback pulls OLD rows from the ring until
 * their names catch up. Each store is used only by the thread that opened
 * it, as the store requires. Names must arrive in strictly increasing byte
 * order on both sides; anything else would make the join silently wrong, so
 * it is an error.
 *
 * What counts as a change: a verdict column whose value differs. A column
 * empty on one side ("not measured": a stage that did not run) is counted
 * in the transitions as measured/unmeasured but the domain is not listed,
 * because comparing a store from before a stage existed with one from after
 * would otherwise list every domain. mta_sts_mode is the exception: it is
 * empty when there is no policy, so enforce -> empty is "enforce lost".
 */
#include "analysis/compare.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/export.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#define RING 64
#define COLS_MAX 32
/* A domain row is a few kilobytes; TXT-derived columns are bounded by a DNS
 * message. */
#define ROW_BYTES_MAX ((size_t)1 << 20)
#define SPOOL_FIELD_MAX 1024

static const char *const dir_names[MXC_CMP__COUNT] = {
	[MXC_CMP_CHANGED] = "changed",
	[MXC_CMP_WORSE] = "worse",
	[MXC_CMP_BETTER] = "better",
	[MXC_CMP_MEASURED] = "measured",
	[MXC_CMP_UNMEASURED] = "unmeasured",
};

/*
 * Rank of each design value (in the order of report.c's value lists):
 * higher protects more; -1 is not comparable (n-a, no mail, a lookup
 * failure). Only values of different rank make a change worse or better.
 */
static const int8_t ranks[MXC_RM__COUNT][MXC_REPORT_VALUES_MAX] = {
	/* ok null-mx implicit no-mail nxdomain servfail timeout */
	[MXC_RM_MX_STATUS] = { -1, -1, -1, -1, -1, -1, -1 },
	/* secure insecure bogus indeterminate */
	[MXC_RM_DNSSEC] = { 2, 1, 0, 1 },
	/* all some none unreachable n-a */
	[MXC_RM_STARTTLS] = { 2, 1, 0, -1, -1 },
	/* all-valid some-invalid none-valid n-a */
	[MXC_RM_PKIX] = { 2, 1, 0, -1 },
	/* valid invalid not-dnssec bogus none n-a */
	[MXC_RM_DANE] = { 2, 0, 1, 0, 1, -1 },
	/* valid invalid multiple none */
	[MXC_RM_MTA_STS_TXT] = { 1, 0, 0, 0 },
	/* ok fetch-error invalid n-a */
	[MXC_RM_MTA_STS_POLICY] = { 1, 0, 0, -1 },
	/* enforce testing none */
	[MXC_RM_MTA_STS_MODE] = { 2, 1, 0 },
	/* all some none n-a */
	[MXC_RM_MTA_STS_MX_MATCH] = { 2, 1, 0, -1 },
	/* valid invalid multiple none */
	[MXC_RM_TLS_RPT] = { 1, 0, 0, 0 },
	/* present multiple none */
	[MXC_RM_SPF] = { 1, 0, 0 },
	/* reject quarantine none invalid multiple absent */
	[MXC_RM_DMARC] = { 3, 2, 1, 0, 0, 0 },
	/* no-mail plaintext strippable testing mta-sts dane dane+mta-sts broken */
	[MXC_RM_EXPOSURE] = { -1, 1, 2, 3, 4, 4, 5, 0 },
};

/* One row copied out of a walk: the values packed in one buffer. */
struct slot {
	struct mxc_buf bytes;
	size_t off[COLS_MAX];
	bool set[COLS_MAX];
	const char *val[COLS_MAX];
};

/* The OLD store's rows, produced on a helper thread. */
struct feed {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *dir;
	size_t ncols;
	struct slot ring[RING];
	size_t head, count;  /* consumer reads ring[head]; count rows ready */
	bool done;           /* producer finished (err says how) */
	bool stop;           /* consumer gives up */
	int err;
	char errmsg[512];
	struct mxc_run_info run;
	bool has_run;
	bool holding;        /* the consumer holds ring[head] */
};

struct mxc_compare {
	struct mxc_report *old, *neu;
	size_t col_domain, ncols;
	size_t col[MXC_RM__COUNT];
	uint32_t tr[MXC_RM__COUNT][MXC_REPORT_SLOTS][MXC_REPORT_SLOTS];
	struct mxc_compare_totals tot;
	FILE *spool;
	struct mxc_run_info run_old, run_new;
	bool has_old, has_new;
};

const char *mxc_compare_dir_name(enum mxc_compare_dir d)
{
	return (unsigned)d < MXC_CMP__COUNT ? dir_names[d] : "changed";
}

/* mta_sts_mode is empty when a domain has no policy: a value, not a gap. */
static bool empty_is_value(unsigned metric)
{
	return metric == MXC_RM_MTA_STS_MODE;
}

static int rank_of(unsigned metric, unsigned slot)
{
	if (slot == MXC_RS_NOT_MEASURED)
		return empty_is_value(metric) ? 0 : -1;
	if (slot < MXC_RS_VALUE0 || slot - MXC_RS_VALUE0 >= MXC_REPORT_VALUES_MAX)
		return -1;
	return ranks[metric][slot - MXC_RS_VALUE0];
}

enum mxc_compare_dir mxc_compare_direction(unsigned metric, unsigned old_slot,
					   unsigned new_slot)
{
	int ro, rn;

	if (metric >= MXC_RM__COUNT)
		return MXC_CMP_CHANGED;
	if (!empty_is_value(metric)) {
		if (old_slot == MXC_RS_NOT_MEASURED && new_slot != MXC_RS_NOT_MEASURED)
			return MXC_CMP_MEASURED;
		if (old_slot != MXC_RS_NOT_MEASURED && new_slot == MXC_RS_NOT_MEASURED)
			return MXC_CMP_UNMEASURED;
	}
	ro = rank_of(metric, old_slot);
	rn = rank_of(metric, new_slot);
	if (ro < 0 || rn < 0 || ro == rn)
		return MXC_CMP_CHANGED;
	return rn > ro ? MXC_CMP_BETTER : MXC_CMP_WORSE;
}

/* ------------------------------------------------------------------------ */
/* Construction and counting                                                */

static int column_index(const char *name, size_t *out)
{
	return mxc_export_column_index(MXC_EXPORT_DOMAINS, name, out);
}

int mxc_compare_new(const struct mxc_report_opts *o, struct mxc_compare **out, char *errmsg,
		    size_t errlen)
{
	struct mxc_compare *c;
	int e;

	*out = NULL;
	c = mxc_calloc(1, sizeof(*c));
	if (!c)
		return MXC_ENOMEM;
	e = column_index("domain", &c->col_domain);
	for (unsigned m = 0; !e && m < MXC_RM__COUNT; m++)
		e = column_index(mxc_report_metric(m)->column, &c->col[m]);
	mxc_export_columns(MXC_EXPORT_DOMAINS, &c->ncols);
	if (e || c->ncols > COLS_MAX) {
		if (errmsg)
			snprintf(errmsg, errlen, "the domain export lacks a column compare needs");
		mxc_free(c);
		return MXC_EINVAL;
	}
	e = mxc_report_new(o, &c->old, errmsg, errlen);
	if (!e)
		e = mxc_report_new(o, &c->neu, errmsg, errlen);
	if (!e) {
		c->spool = tmpfile();
		if (!c->spool) {
			e = -errno;
			if (errmsg)
				snprintf(errmsg, errlen, "cannot create a temporary file: %s",
					 strerror(errno));
		}
	}
	if (e) {
		mxc_compare_free(c);
		return e;
	}
	*out = c;
	return 0;
}

void mxc_compare_free(struct mxc_compare *c)
{
	if (!c)
		return;
	mxc_report_free(c->old);
	mxc_report_free(c->neu);
	if (c->spool)
		fclose(c->spool);
	mxc_free(c);
}

void mxc_compare_set_runs(struct mxc_compare *c, const struct mxc_run_info *old_run,
			  const struct mxc_run_info *new_run)
{
	c->has_old = old_run != NULL;
	if (old_run)
		c->run_old = *old_run;
	c->has_new = new_run != NULL;
	if (new_run)
		c->run_new = *new_run;
	mxc_report_set_run(c->old, old_run);
	mxc_report_set_run(c->neu, new_run);
}

/* A spooled field: u16 length, bytes (cut at SPOOL_FIELD_MAX). */
static void spool_str(FILE *f, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint8_t len[2];

	if (n > SPOOL_FIELD_MAX)
		n = SPOOL_FIELD_MAX;
	len[0] = (uint8_t)(n >> 8);
	len[1] = (uint8_t)n;
	fwrite(len, 1, 2, f);
	fwrite(s ? s : "", 1, n, f);
}

static int spool_read_str(FILE *f, char *buf)
{
	uint8_t len[2];
	size_t n;

	if (fread(len, 1, 2, f) != 2)
		return MXC_EIO;
	n = ((size_t)len[0] << 8) | len[1];
	if (n > SPOOL_FIELD_MAX || fread(buf, 1, n, f) != n)
		return MXC_EIO;
	buf[n] = '\0';
	return 0;
}

int mxc_compare_pair(struct mxc_compare *c, const char *const *o, const char *const *n)
{
	bool listed = false, worse = false, better = false;
	int e = 0;

	if (!o && !n)
		return MXC_EINVAL;
	if (o)
		e = mxc_report_add(c->old, o);
	if (!e && n)
		e = mxc_report_add(c->neu, n);
	if (e)
		return e;
	if (!o || !n) {
		if (o)
			c->tot.removed++;
		else
			c->tot.added++;
		return 0;
	}
	c->tot.both++;
	for (unsigned m = 0; m < MXC_RM__COUNT; m++) {
		unsigned so = mxc_report_slot(m, o[c->col[m]]);
		unsigned sn = mxc_report_slot(m, n[c->col[m]]);
		uint32_t *t = &c->tr[m][so][sn];
		enum mxc_compare_dir d;

		/* "other" values differ among themselves too. */
		if (so == sn && (so != MXC_RS_OTHER || strcmp(o[c->col[m]], n[c->col[m]]) == 0))
			continue;
		if (*t < UINT32_MAX)
			(*t)++;
		d = mxc_compare_direction(m, so, sn);
		if (d == MXC_CMP_MEASURED || d == MXC_CMP_UNMEASURED)
			continue;
		listed = true;
		worse |= d == MXC_CMP_WORSE;
		better |= d == MXC_CMP_BETTER;
		spool_str(c->spool, n[c->col_domain]);
		spool_str(c->spool, mxc_report_metric(m)->column);
		spool_str(c->spool, o[c->col[m]]);
		spool_str(c->spool, n[c->col[m]]);
		fputc((int)d, c->spool);
	}
	c->tot.changed += listed;
	c->tot.worse += worse;
	c->tot.better += better;
	return ferror(c->spool) ? MXC_EIO : 0;
}

void mxc_compare_totals(const struct mxc_compare *c, struct mxc_compare_totals *out)
{
	*out = c->tot;
}

uint32_t mxc_compare_transitions(const struct mxc_compare *c, unsigned metric,
				 unsigned old_slot, unsigned new_slot)
{
	if (metric >= MXC_RM__COUNT || old_slot >= MXC_REPORT_SLOTS ||
	    new_slot >= MXC_REPORT_SLOTS)
		return 0;
	return c->tr[metric][old_slot][new_slot];
}

struct mxc_report *mxc_compare_old(struct mxc_compare *c)
{
	return c->old;
}

struct mxc_report *mxc_compare_new_report(struct mxc_compare *c)
{
	return c->neu;
}

/* ------------------------------------------------------------------------ */
/* The join                                                                 */

static void slot_view(struct slot *s, size_t ncols)
{
	for (size_t i = 0; i < ncols; i++)
		s->val[i] = s->set[i] ? (const char *)s->bytes.data + s->off[i] : NULL;
}

/* Producer side: copy a row into the ring, waiting while it is full. */
static int feed_row(void *arg, const char *const *val)
{
	struct feed *fd = arg;
	struct slot *s;
	int e = 0;

	pthread_mutex_lock(&fd->mu);
	while (fd->count == RING && !fd->stop)
		pthread_cond_wait(&fd->cv, &fd->mu);
	if (fd->stop) {
		pthread_mutex_unlock(&fd->mu);
		return MXC_ECANCELED;
	}
	s = &fd->ring[(fd->head + fd->count) % RING];
	pthread_mutex_unlock(&fd->mu);
	/* The slot is the producer's until count covers it. */
	mxc_buf_reset(&s->bytes);
	for (size_t i = 0; !e && i < fd->ncols; i++) {
		s->set[i] = val[i] != NULL;
		s->off[i] = s->bytes.len;
		if (val[i])
			e = mxc_buf_append(&s->bytes, val[i], strlen(val[i]) + 1);
	}
	if (e)
		return e;
	pthread_mutex_lock(&fd->mu);
	fd->count++;
	pthread_cond_broadcast(&fd->cv);
	pthread_mutex_unlock(&fd->mu);
	return 0;
}

static void *feed_main(void *arg)
{
	struct feed *fd = arg;
	struct mxc_store *s = NULL;
	int e;

	e = mxc_store_open(fd->dir, MXC_STORE_RDONLY, 1, &s, fd->errmsg, sizeof(fd->errmsg));
	if (!e) {
		fd->has_run = mxc_store_run_get(s, &fd->run) == 0;
		e = mxc_export_rows(s, MXC_EXPORT_DOMAINS, feed_row, fd, NULL);
		if (e && e != MXC_ECANCELED)
			snprintf(fd->errmsg, sizeof(fd->errmsg), "%s: reading domains: %s", fd->dir,
				 mxc_strerror(e));
		mxc_store_close(s);
	}
	pthread_mutex_lock(&fd->mu);
	fd->err = e;
	fd->done = true;
	pthread_cond_broadcast(&fd->cv);
	pthread_mutex_unlock(&fd->mu);
	return NULL;
}

/*
 * Consumer side: the next OLD row, or NULL at the end (or on the producer's
 * error, in fd->err). The row stays valid until the next call.
 */
static const char *const *feed_next(struct feed *fd)
{
	struct slot *s = NULL;

	pthread_mutex_lock(&fd->mu);
	if (fd->holding) {
		fd->head = (fd->head + 1) % RING;
		fd->count--;
		fd->holding = false;
		pthread_cond_broadcast(&fd->cv);
	}
	while (fd->count == 0 && !fd->done)
		pthread_cond_wait(&fd->cv, &fd->mu);
	if (fd->count > 0) {
		s = &fd->ring[fd->head];
		fd->holding = true;
	}
	pthread_mutex_unlock(&fd->mu);
	if (!s)
		return NULL;
	slot_view(s, fd->ncols);
	return s->val;
}

/* State of the join on the calling thread. */
struct join {
	struct mxc_compare *c;
	struct feed *fd;
	const char *const *old; /* the current OLD row, or NULL at its end */
	char last_old[256], last_new[256];
	const char *errwhere;
};

/* Names must come in strictly increasing order; @p last keeps the previous. */
static int in_order(char *last, const char *name)
{
	if (!name)
		return MXC_ECORRUPT;
	if (last[0] && strcmp(last, name) >= 0)
		return MXC_ECORRUPT;
	snprintf(last, 256, "%s", name);
	return 0;
}

static int advance_old(struct join *j)
{
	j->old = feed_next(j->fd);
	/* At the end the producer is done, so its error is settled: stop at
	 * once rather than walk all of NEW against a store that failed. */
	if (!j->old && j->fd->err && j->fd->err != MXC_ECANCELED)
		return j->fd->err;
	if (j->old && in_order(j->last_old, j->old[j->c->col_domain]) != 0) {
		j->errwhere = "old";
		return MXC_ECORRUPT;
	}
	return 0;
}

static int join_new(void *arg, const char *const *val)
{
	struct join *j = arg;
	const char *name = val[j->c->col_domain];
	int e;

	if (in_order(j->last_new, name) != 0) {
		j->errwhere = "new";
		return MXC_ECORRUPT;
	}
	while (j->old && strcmp(j->old[j->c->col_domain], name) < 0) {
		e = mxc_compare_pair(j->c, j->old, NULL);
		if (!e)
			e = advance_old(j);
		if (e)
			return e;
	}
	if (j->old && strcmp(j->old[j->c->col_domain], name) == 0) {
		e = mxc_compare_pair(j->c, j->old, val);
		return e ? e : advance_old(j);
	}
	return mxc_compare_pair(j->c, NULL, val);
}

int mxc_compare_stores(struct mxc_compare *c, const char *old_dir, struct mxc_store *new_store,
		       char *errmsg, size_t errlen)
{
	struct feed *fd = mxc_calloc(1, sizeof(*fd));
	struct join j = { .c = c, .fd = fd };
	struct mxc_run_info run_new;
	bool has_new;
	int e, pe;

	if (errmsg && errlen)
		errmsg[0] = '\0';
	if (!fd)
		return MXC_ENOMEM;
	fd->dir = old_dir;
	fd->ncols = c->ncols;
	for (size_t i = 0; i < RING; i++)
		mxc_buf_init(&fd->ring[i].bytes, ROW_BYTES_MAX);
	pthread_mutex_init(&fd->mu, NULL);
	pthread_cond_init(&fd->cv, NULL);
	e = -pthread_create(&fd->th, NULL, feed_main, fd);
	if (e) {
		if (errmsg)
			snprintf(errmsg, errlen, "cannot start a thread: %s", strerror(-e));
		goto out;
	}
	has_new = mxc_store_run_get(new_store, &run_new) == 0;
	e = advance_old(&j);
	if (!e)
		e = mxc_export_rows(new_store, MXC_EXPORT_DOMAINS, join_new, &j, NULL);
	while (!e && j.old) {
		e = mxc_compare_pair(c, j.old, NULL);
		if (!e)
			e = advance_old(&j);
	}
	pthread_mutex_lock(&fd->mu);
	fd->stop = true;
	pthread_cond_broadcast(&fd->cv);
	pthread_mutex_unlock(&fd->mu);
	pthread_join(fd->th, NULL);
	pe = fd->err == MXC_ECANCELED ? 0 : fd->err;
	if ((!e || e == pe) && pe) {
		e = pe;
		if (errmsg)
			snprintf(errmsg, errlen, "%s", fd->errmsg[0] ? fd->errmsg : mxc_strerror(pe));
	} else if (e && errmsg) {
		if (e == MXC_ECORRUPT && j.errwhere)
			snprintf(errmsg, errlen, "the %s store's domains are not in key order",
				 j.errwhere);
		else
			snprintf(errmsg, errlen, "%s", mxc_strerror(e));
	}
	if (!e)
		mxc_compare_set_runs(c, fd->has_run ? &fd->run : NULL, has_new ? &run_new : NULL);
out:
	pthread_cond_destroy(&fd->cv);
	pthread_mutex_destroy(&fd->mu);
	for (size_t i = 0; i < RING; i++)
		mxc_buf_free(&fd->ring[i].bytes);
	mxc_free(fd);
	return e;
}

/* ------------------------------------------------------------------------ */
/* Writers                                                                  */

static const char *slot_name(unsigned m, unsigned slot)
{
	if (slot == MXC_RS_NOT_MEASURED)
		return empty_is_value(m) ? "(empty)" : "(not measured)";
	if (slot == MXC_RS_OTHER)
		return "(other)";
	return mxc_report_metric(m)->values[slot - MXC_RS_VALUE0];
}

static void heading(FILE *f, enum mxc_out_format fmt, int level, bool color, const char *t)
{
	if (fmt == MXC_OUT_HTML) {
		fprintf(f, "<h%d>%s</h%d>\n", level, t, level);
	} else if (fmt == MXC_OUT_MD) {
		fprintf(f, "%s %s\n\n", level == 1 ? "#" : "##", t);
	} else {
		fprintf(f, "%s%s%s\n", color ? "\033[1m" : "", t, color ? "\033[0m" : "");
		for (size_t i = 0; i < strlen(t); i++)
			fputc(level == 1 ? '=' : '-', f);
		fputs("\n\n", f);
	}
}

static void run_line(FILE *f, enum mxc_out_format fmt, const char *label, bool has,
		     const struct mxc_run_info *run, const struct mxc_report *r)
{
	char t0[21];

	fprintf(f, "%s%s: ", fmt == MXC_OUT_MD ? "- " : fmt == MXC_OUT_HTML ? "<p>" : "", label);
	if (has) {
		mxc_rfc3339(run->started_at, t0);
		fputs("run ", f);
		mxc_out_str(f, fmt, run->run_id);
		fprintf(f, " started %s, ", t0);
	}
	fprintf(f, "%lu domains%s\n", (unsigned long)mxc_report_total(r)->domains,
		fmt == MXC_OUT_HTML ? "</p>" : "");
}

/* The groups a delta table shows: NEW's shown groups, then OLD's shown
 * groups that NEW does not show. */
static size_t delta_groups(struct mxc_compare *c, unsigned by, const char **names, size_t max)
{
	size_t nn, no, k = 0;
	struct mxc_report_group *const *gn = mxc_report_groups(c->neu, by, &nn);
	struct mxc_report_group *const *go = mxc_report_groups(c->old, by, &no);

	for (size_t i = 0; i < nn && k < max; i++)
		names[k++] = gn[i]->name;
	for (size_t i = 0; i < no && k < max; i++) {
		bool dup = false;

		for (size_t x = 0; x < nn && !dup; x++)
			dup = strcmp(gn[x]->name, go[i]->name) == 0;
		if (!dup)
			names[k++] = go[i]->name;
	}
	return k;
}

static const struct mxc_report_counts zero_counts;

static const struct mxc_report_counts *counts_of(struct mxc_report *r, unsigned by,
						 const char *name)
{
	const struct mxc_report_group *g = name ? mxc_report_find(r, by, name) : NULL;

	if (!name)
		return mxc_report_total(r);
	return g ? &g->c : &zero_counts;
}

static int delta_row(struct mxc_table *t, const char *name, const struct mxc_report_counts *o,
		     const struct mxc_report_counts *n)
{
	int e = mxc_table_row(t);

	if (!e)
		e = mxc_table_cell(t, 0, name);
	if (!e)
		e = mxc_table_cellf(t, 1, "%lu", (unsigned long)o->domains);
	if (!e)
		e = mxc_table_cellf(t, 2, "%lu", (unsigned long)n->domains);
	for (unsigned i = 0; !e && i < MXC_RI__COUNT; i++) {
		double po = mxc_report_pct(mxc_report_indicator_count(o, i), o->domains);
		double pn = mxc_report_pct(mxc_report_indicator_count(n, i), n->domains);

		e = mxc_table_cellf(t, 3 + i, "%.1f->%.1f (%+.1f)", po, pn, pn - po);
	}
	return e;
}

static int delta_table(struct mxc_compare *c, unsigned by, FILE *f, enum mxc_out_format fmt,
		       bool color)
{
	const char *names[2048];
	size_t n = delta_groups(c, by, names, MXC_ARRAY_SIZE(names));
	struct mxc_table *t = mxc_table_new(3 + MXC_RI__COUNT);
	int e = t ? 0 : MXC_ENOMEM;

	if (!e)
		e = mxc_table_head(t, 0, by == MXC_REPORT_BY_TLD ? "TLD" : "provider", false);
	if (!e)
		e = mxc_table_head(t, 1, "old domains", true);
	if (!e)
		e = mxc_table_head(t, 2, "new domains", true);
	for (unsigned i = 0; !e && i < MXC_RI__COUNT; i++)
		e = mxc_table_head(t, 3 + i, mxc_report_indicator(i)->title, true);
	if (!e)
		e = delta_row(t, "(all)", mxc_report_total(c->old), mxc_report_total(c->neu));
	for (size_t i = 0; !e && i < n; i++)
		e = delta_row(t, names[i], counts_of(c->old, by, names[i]),
			      counts_of(c->neu, by, names[i]));
	return mxc_table_finish(t, e, f, fmt, color);
}

static int transition_table(struct mxc_compare *c, FILE *f, enum mxc_out_format fmt, bool color)
{
	struct mxc_table *t = mxc_table_new(5);
	int e = t ? 0 : MXC_ENOMEM;

	if (!e)
		e = mxc_table_head(t, 0, "column", false);
	if (!e)
		e = mxc_table_head(t, 1, "old", false);
	if (!e)
		e = mxc_table_head(t, 2, "new", false);
	if (!e)
		e = mxc_table_head(t, 3, "domains", true);
	if (!e)
		e = mxc_table_head(t, 4, "direction", false);
	for (unsigned m = 0; !e && m < MXC_RM__COUNT; m++) {
		for (unsigned so = 0; !e && so < MXC_REPORT_SLOTS; so++) {
			for (unsigned sn = 0; !e && sn < MXC_REPORT_SLOTS; sn++) {
				uint32_t n = c->tr[m][so][sn];

				if (!n)
					continue;
				e = mxc_table_row(t);
				if (!e)
					e = mxc_table_cell(t, 0, mxc_report_metric(m)->column);
				if (!e)
					e = mxc_table_cell(t, 1, slot_name(m, so));
				if (!e)
					e = mxc_table_cell(t, 2, slot_name(m, sn));
				if (!e)
					e = mxc_table_cellf(t, 3, "%lu", (unsigned long)n);
				if (!e)
					e = mxc_table_cell(t, 4, mxc_compare_dir_name(
									 mxc_compare_direction(m, so, sn)));
			}
		}
	}
	if (!e && mxc_table_rows(t) == 0)
		fputs(fmt == MXC_OUT_HTML ? "<p>No verdict changed.</p>\n" : "No verdict changed.\n",
		      f);
	else if (!e)
		e = mxc_table_write(t, f, fmt, color);
	mxc_table_free(t);
	return e;
}

/* One spooled change; returns 1 with the fields, 0 at the end, or MXC_EIO. */
static int spool_next(FILE *f, char fld[4][SPOOL_FIELD_MAX + 1], int *dir)
{
	int ch = fgetc(f);

	if (ch == EOF)
		return ferror(f) ? MXC_EIO : 0;
	ungetc(ch, f);
	for (int i = 0; i < 4; i++)
		if (spool_read_str(f, fld[i]) != 0)
			return MXC_EIO;
	*dir = fgetc(f);
	return *dir == EOF ? MXC_EIO : 1;
}

/*
 * The changed domains, streamed from the spool: a text table would need all
 * widths first, so text and Markdown write one line per change in the same
 * escaped form, without aligning.
 */
static int write_changes(struct mxc_compare *c, FILE *f, enum mxc_out_format fmt)
{
	char fld[4][SPOOL_FIELD_MAX + 1];
	const char *sep = fmt == MXC_OUT_MD ? " | " : "  ";
	uint64_t n = 0;
	int dir, r;

	if (fflush(c->spool) != 0 || fseek(c->spool, 0, SEEK_SET) != 0)
		return MXC_EIO;
	if (fmt == MXC_OUT_MD)
		fputs("| domain | column | old | new | direction |\n| --- | --- | --- | --- | --- |\n",
		      f);
	else if (fmt == MXC_OUT_HTML)
		fputs("<table id=\"changes\"><thead><tr><th>domain</th><th>column</th><th>old</th>"
		      "<th>new</th><th>direction</th></tr></thead><tbody>\n",
		      f);
	else if (fmt == MXC_OUT_TEXT)
		fputs("domain  column  old -> new  direction\n", f);
	while ((r = spool_next(c->spool, fld, &dir)) == 1) {
		const char *dn = mxc_compare_dir_name((enum mxc_compare_dir)dir);

		if (fmt == MXC_OUT_JSON) {
			fputs(n ? ",\n{\"domain\":" : "\n{\"domain\":", f);
			mxc_json_str(f, fld[0]);
			fputs(",\"column\":", f);
			mxc_json_str(f, fld[1]);
			for (int i = 2; i < 4; i++) {
				fputs(i == 2 ? ",\"old\":" : ",\"new\":", f);
				if (fld[i][0])
					mxc_json_str(f, fld[i]);
				else
					fputs("null", f);
			}
			fprintf(f, ",\"direction\":\"%s\"}", dn);
		} else if (fmt == MXC_OUT_HTML) {
			fputs("<tr>", f);
			for (int i = 0; i < 4; i++) {
				fputs("<td>", f);
				mxc_html_str(f, fld[i][0] ? fld[i] : "(empty)");
				fputs("</td>", f);
			}
			fprintf(f, "<td>%s</td></tr>\n", dn);
		} else {
			if (fmt == MXC_OUT_MD)
				fputs("| ", f);
			mxc_out_str(f, fmt, fld[0]);
			fputs(sep, f);
			mxc_out_str(f, fmt, fld[1]);
			fputs(sep, f);
			mxc_out_str(f, fmt, fld[2][0] ? fld[2] : "(empty)");
			fputs(fmt == MXC_OUT_MD ? sep : " -> ", f);
			mxc_out_str(f, fmt, fld[3][0] ? fld[3] : "(empty)");
			fprintf(f, "%s%s%s\n", sep, dn, fmt == MXC_OUT_MD ? " |" : "");
		}
		n++;
	}
	if (fmt == MXC_OUT_HTML)
		fputs("</tbody></table>\n", f);
	return r < 0 ? r : 0;
}

static void json_adoption(FILE *f, const struct mxc_report_counts *c)
{
	fprintf(f, "{\"domains\":%lu,\"adoption\":{", (unsigned long)c->domains);
	for (unsigned i = 0; i < MXC_RI__COUNT; i++) {
		uint32_t n = mxc_report_indicator_count(c, i);

		fprintf(f, "%s\"%s\":{\"count\":%lu,\"percent\":%.2f}", i ? "," : "",
			mxc_report_indicator(i)->key, (unsigned long)n,
			mxc_report_pct(n, c->domains));
	}
	fputs("}}", f);
}

static void json_delta(FILE *f, const struct mxc_report_counts *o,
		       const struct mxc_report_counts *n)
{
	fputs("\"old\":", f);
	json_adoption(f, o);
	fputs(",\"new\":", f);
	json_adoption(f, n);
	fputs(",\"delta_points\":{", f);
	for (unsigned i = 0; i < MXC_RI__COUNT; i++) {
		double po = mxc_report_pct(mxc_report_indicator_count(o, i), o->domains);
		double pn = mxc_report_pct(mxc_report_indicator_count(n, i), n->domains);

		fprintf(f, "%s\"%s\":%.2f", i ? "," : "", mxc_report_indicator(i)->key, pn - po);
	}
	fputc('}', f);
}

static void json_run(FILE *f, bool has, const struct mxc_run_info *run)
{
	char t0[21];

	if (!has) {
		fputs("null", f);
		return;
	}
	mxc_rfc3339(run->started_at, t0);
	fputs("{\"run_id\":", f);
	mxc_json_str(f, run->run_id);
	fprintf(f, ",\"started_at\":\"%s\"}", t0);
}

static int write_json(struct mxc_compare *c, FILE *f)
{
	const char *names[2048];
	int e;

	fputs("{\"schema\":\"mxcensus-compare/1\",\"old\":{\"run\":", f);
	json_run(f, c->has_old, &c->run_old);
	fputs("},\"new\":{\"run\":", f);
	json_run(f, c->has_new, &c->run_new);
	fprintf(f, "},\n\"domains\":{\"both\":%llu,\"removed\":%llu,\"added\":%llu,"
		   "\"changed\":%llu,\"worse\":%llu,\"better\":%llu},\n\"total\":{",
		(unsigned long long)c->tot.both, (unsigned long long)c->tot.removed,
		(unsigned long long)c->tot.added, (unsigned long long)c->tot.changed,
		(unsigned long long)c->tot.worse, (unsigned long long)c->tot.better);
	json_delta(f, mxc_report_total(c->old), mxc_report_total(c->neu));
	fputc('}', f);
	for (unsigned by = MXC_REPORT_BY_TLD; by <= MXC_REPORT_BY_PROVIDER; by <<= 1) {
		size_t n = delta_groups(c, by, names, MXC_ARRAY_SIZE(names));

		fprintf(f, ",\n\"%s\":[", by == MXC_REPORT_BY_TLD ? "by_tld" : "by_provider");
		for (size_t i = 0; i < n; i++) {
			fputs(i ? ",\n{\"name\":" : "\n{\"name\":", f);
			mxc_json_str(f, names[i]);
			fputc(',', f);
			json_delta(f, counts_of(c->old, by, names[i]), counts_of(c->neu, by, names[i]));
			fputc('}', f);
		}
		fputc(']', f);
	}
	fputs(",\n\"transitions\":[", f);
	for (unsigned m = 0, k = 0; m < MXC_RM__COUNT; m++) {
		for (unsigned so = 0; so < MXC_REPORT_SLOTS; so++) {
			for (unsigned sn = 0; sn < MXC_REPORT_SLOTS; sn++) {
				uint32_t n = c->tr[m][so][sn];

				if (!n)
					continue;
				fprintf(f, "%s{\"column\":\"%s\",\"old\":", k++ ? ",\n" : "\n",
					mxc_report_metric(m)->column);
				if (so == MXC_RS_NOT_MEASURED)
					fputs("null", f);
				else
					mxc_json_str(f, so == MXC_RS_OTHER ? "other" : slot_name(m, so));
				fputs(",\"new\":", f);
				if (sn == MXC_RS_NOT_MEASURED)
					fputs("null", f);
				else
					mxc_json_str(f, sn == MXC_RS_OTHER ? "other" : slot_name(m, sn));
				fprintf(f, ",\"count\":%lu,\"direction\":\"%s\"}", (unsigned long)n,
					mxc_compare_dir_name(mxc_compare_direction(m, so, sn)));
			}
		}
	}
	fputs("],\n\"changes\":[", f);
	e = write_changes(c, f, MXC_OUT_JSON);
	fputs("]}\n", f);
	return e;
}

int mxc_compare_write(struct mxc_compare *c, enum mxc_out_format fmt, FILE *f, bool color)
{
	int e = mxc_report_finish(c->old);

	if (!e)
		e = mxc_report_finish(c->neu);
	if (e)
		return e;
	if (fmt == MXC_OUT_JSON) {
		e = write_json(c, f);
	} else {
		const char *p = fmt == MXC_OUT_HTML ? "<p>" : fmt == MXC_OUT_MD ? "- " : "";
		const char *pe = fmt == MXC_OUT_HTML ? "</p>" : "";

		color = color && fmt == MXC_OUT_TEXT;
		if (fmt == MXC_OUT_HTML)
			fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
			      "'none'; style-src 'unsafe-inline'\"><title>mxcensus compare</title>"
			      "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-"
			      "collapse:collapse;font-size:.85em}th,td{border:1px solid #ddd;padding:"
			      ".2em .5em}.n{text-align:right}</style></head><body>\n",
			      f);
		heading(f, fmt, 1, color, "mxcensus compare");
		run_line(f, fmt, "old", c->has_old, &c->run_old, c->old);
		run_line(f, fmt, "new", c->has_new, &c->run_new, c->neu);
		fprintf(f, "%sdomains in both: %llu, only in old: %llu, only in new: %llu; with a "
			   "changed verdict: %llu (worse: %llu, better: %llu)%s\n\n",
			p, (unsigned long long)c->tot.both, (unsigned long long)c->tot.removed,
			(unsigned long long)c->tot.added, (unsigned long long)c->tot.changed,
			(unsigned long long)c->tot.worse, (unsigned long long)c->tot.better, pe);
		heading(f, fmt, 2, color, "Adoption by TLD (% old->new, change in points)");
		e = delta_table(c, MXC_REPORT_BY_TLD, f, fmt, color);
		fputc('\n', f);
		if (!e) {
			heading(f, fmt, 2, color,
				"Adoption by provider (% old->new, change in points)");
			e = delta_table(c, MXC_REPORT_BY_PROVIDER, f, fmt, color);
			fputc('\n', f);
		}
		if (!e) {
			heading(f, fmt, 2, color, "Verdict transitions (domains in both runs)");
			e = transition_table(c, f, fmt, color);
			fputc('\n', f);
		}
		if (!e) {
			heading(f, fmt, 2, color, "Domains whose verdict changed");
			e = write_changes(c, f, fmt);
		}
		if (fmt == MXC_OUT_HTML)
			fputs("</body></html>\n", f);
	}
	if (!e && (fflush(f) != 0 || ferror(f)))
		e = MXC_EIO;
	return e;
}
