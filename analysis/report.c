/**
 * \file
 * Aggregation of domain rows into per-TLD and per-provider counters, and the
 * text, Markdown and JSON writers of the report (the HTML page is in
 * html_report.c).
 *
 * A row is reduced once to a slot per metric and a set of issue code ids,
 * then that reduction is added to the run's counters, its TLD's and each of
 * its providers', so the cost per row is one PSL lookup per MX host plus a
 * few hundred additions, and memory is the group tables, which are bounded
 * (see report.h for the folding that keeps them so).
 *
 * The reports count whatever a column holds: values the design lists are
 * counted by name, anything else as "other", an empty cell as "not
 * measured". So a report of a store written before a stage existed says
 * plainly that it was not measured, rather than counting it as "none".
 */
#include "analysis/report.h"

#include <libpsl.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/export.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strmap.h"
#include "common/util.h"

/* Providers remembered per domain; a domain with more distinct providers
 * among its MX hosts than this counts for the first ones only. */
#define ROW_PROVIDERS_MAX 32
#define NAME_MAX_LEN 253
#define ISSUE_CODE_MAX 64

static const char *const v_mx_status[] = { "ok", "null-mx", "implicit", "no-mail",
					   "nxdomain", "servfail", "timeout", NULL };
static const char *const v_dnssec[] = { "secure", "insecure", "bogus", "indeterminate", NULL };
static const char *const v_starttls[] = { "all", "some", "none", "unreachable", "n-a", NULL };
static const char *const v_pkix[] = { "all-valid", "some-invalid", "none-valid", "n-a", NULL };
static const char *const v_dane[] = { "valid", "invalid", "not-dnssec", "bogus", "none",
				      "n-a", NULL };
static const char *const v_txt[] = { "valid", "invalid", "multiple", "none", NULL };
static const char *const v_policy[] = { "ok", "fetch-error", "invalid", "n-a", NULL };
static const char *const v_mode[] = { "enforce", "testing", "none", NULL };
static const char *const v_mx_match[] = { "all", "some", "none", "n-a", NULL };
static const char *const v_spf[] = { "present", "multiple", "none", NULL };
static const char *const v_dmarc[] = { "reject", "quarantine", "none", "invalid", "multiple",
				       "absent", NULL };
static const char *const v_exposure[] = { "no-mail", "plaintext", "strippable", "testing",
					  "mta-sts", "dane", "dane+mta-sts", "broken", NULL };

#define METRIC(id, col, title, vals) \
	[id] = { col, title, vals, sizeof(vals) / sizeof(vals[0]) - 1 }

static const struct mxc_report_metric metrics[MXC_RM__COUNT] = {
	METRIC(MXC_RM_MX_STATUS, "mx_status", "Mail (MX)", v_mx_status),
	METRIC(MXC_RM_DNSSEC, "dnssec", "DNSSEC", v_dnssec),
	METRIC(MXC_RM_STARTTLS, "starttls", "STARTTLS", v_starttls),
	METRIC(MXC_RM_PKIX, "pkix", "PKIX certificates", v_pkix),
	METRIC(MXC_RM_DANE, "dane", "DANE", v_dane),
	METRIC(MXC_RM_MTA_STS_TXT, "mta_sts_txt", "MTA-STS record", v_txt),
	METRIC(MXC_RM_MTA_STS_POLICY, "mta_sts_policy", "MTA-STS policy", v_policy),
	METRIC(MXC_RM_MTA_STS_MODE, "mta_sts_mode", "MTA-STS mode", v_mode),
	METRIC(MXC_RM_MTA_STS_MX_MATCH, "mta_sts_mx_match", "MTA-STS MX match", v_mx_match),
	METRIC(MXC_RM_TLS_RPT, "tls_rpt", "TLS-RPT", v_txt),
	METRIC(MXC_RM_SPF, "spf", "SPF", v_spf),
	METRIC(MXC_RM_DMARC, "dmarc", "DMARC policy", v_dmarc),
	METRIC(MXC_RM_EXPOSURE, "downgrade_exposure", "Downgrade exposure", v_exposure),
};

static const char *const i_mail[] = { "ok", "implicit", NULL };
static const char *const i_secure[] = { "secure", NULL };
static const char *const i_all[] = { "all", NULL };
static const char *const i_all_valid[] = { "all-valid", NULL };
static const char *const i_valid[] = { "valid", NULL };
static const char *const i_enforce[] = { "enforce", NULL };
static const char *const i_testing[] = { "testing", NULL };
static const char *const i_present[] = { "present", NULL };
static const char *const i_dmarc[] = { "reject", "quarantine", NULL };
static const char *const i_protected[] = { "mta-sts", "dane", "dane+mta-sts", NULL };

static const struct mxc_report_indicator indicators[MXC_RI__COUNT] = {
	[MXC_RI_MAIL] = { "mail", "mail", MXC_RM_MX_STATUS, i_mail },
	[MXC_RI_DNSSEC] = { "dnssec_secure", "DNSSEC", MXC_RM_DNSSEC, i_secure },
	[MXC_RI_STARTTLS] = { "starttls_all", "STARTTLS", MXC_RM_STARTTLS, i_all },
	[MXC_RI_PKIX] = { "pkix_all_valid", "PKIX", MXC_RM_PKIX, i_all_valid },
	[MXC_RI_DANE] = { "dane_valid", "DANE", MXC_RM_DANE, i_valid },
	[MXC_RI_STS_ENFORCE] = { "mta_sts_enforce", "STS enforce", MXC_RM_MTA_STS_MODE,
				 i_enforce },
	[MXC_RI_STS_TESTING] = { "mta_sts_testing", "STS testing", MXC_RM_MTA_STS_MODE,
				 i_testing },
	[MXC_RI_TLS_RPT] = { "tls_rpt_valid", "TLS-RPT", MXC_RM_TLS_RPT, i_valid },
	[MXC_RI_SPF] = { "spf_present", "SPF", MXC_RM_SPF, i_present },
	[MXC_RI_DMARC] = { "dmarc_enforcing", "DMARC q/r", MXC_RM_DMARC, i_dmarc },
	[MXC_RI_PROTECTED] = { "protected", "protected", MXC_RM_EXPOSURE, i_protected },
};

/** A breakdown: its groups, bounded by folding into "other". */
struct gtable {
	struct mxc_report_group **g; /* n groups, sorted by finish */
	size_t n;
	size_t max;                  /* fold when full */
	size_t top;                  /* shown after finish */
	size_t shown;
	struct mxc_strmap map;       /* name -> group; keys live in the groups */
	struct mxc_report_group other;
	uint32_t floor;              /* error bound of groups created from now on */
};

struct mxc_report {
	struct mxc_report_opts o;
	psl_ctx_t *psl;
	size_t col[MXC_RM__COUNT];
	size_t col_tld, col_mx_hosts, col_issues, ncols;
	struct mxc_report_counts total;
	struct gtable tld, prov;
	char *issue[MXC_REPORT_ISSUES_MAX];
	size_t nissues;
	bool finished;
	bool has_run;
	struct mxc_run_info run;
};

/** A row reduced to what the counters need. */
struct rowinfo {
	unsigned slot[MXC_RM__COUNT];
	uint64_t issues;   /* bit i: issue code id i */
	bool other_issue;
};

const struct mxc_report_metric *mxc_report_metric(unsigned id)
{
	return id < MXC_RM__COUNT ? &metrics[id] : NULL;
}

const struct mxc_report_indicator *mxc_report_indicator(unsigned id)
{
	return id < MXC_RI__COUNT ? &indicators[id] : NULL;
}

unsigned mxc_report_slot(unsigned id, const char *value)
{
	if (id >= MXC_RM__COUNT || !value || !value[0])
		return MXC_RS_NOT_MEASURED;
	for (size_t i = 0; i < metrics[id].nvalues; i++)
		if (strcmp(value, metrics[id].values[i]) == 0)
			return MXC_RS_VALUE0 + (unsigned)i;
	return MXC_RS_OTHER;
}

uint32_t mxc_report_indicator_count(const struct mxc_report_counts *c, unsigned id)
{
	const struct mxc_report_indicator *ind = mxc_report_indicator(id);
	uint64_t n = 0;

	if (!c || !ind)
		return 0;
	for (const char *const *v = ind->values; *v; v++)
		n += c->v[ind->metric][mxc_report_slot(ind->metric, *v)];
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

double mxc_report_pct(uint32_t n, uint32_t of)
{
	return of ? 100.0 * (double)n / (double)of : 0.0;
}

/* Counters saturate rather than wrap: a wrong small number is worse than a
 * visibly capped one, and 4 billion domains is beyond any zone. */
static void inc(uint32_t *x, uint32_t by)
{
	*x = *x > UINT32_MAX - by ? UINT32_MAX : *x + by;
}

static void counts_row(struct mxc_report_counts *c, const struct rowinfo *ri)
{
	inc(&c->domains, 1);
	for (unsigned m = 0; m < MXC_RM__COUNT; m++)
		inc(&c->v[m][ri->slot[m]], 1);
	for (unsigned i = 0; i < MXC_REPORT_ISSUES_MAX; i++)
		if (ri->issues & ((uint64_t)1 << i))
			inc(&c->issues[i], 1);
	if (ri->other_issue)
		inc(&c->issues[MXC_REPORT_ISSUES_MAX], 1);
	if (ri->issues || ri->other_issue)
		inc(&c->with_issues, 1);
}

static void counts_add(struct mxc_report_counts *dst, const struct mxc_report_counts *src)
{
	inc(&dst->domains, src->domains);
	inc(&dst->with_issues, src->with_issues);
	for (unsigned m = 0; m < MXC_RM__COUNT; m++)
		for (unsigned s = 0; s < MXC_REPORT_SLOTS; s++)
			inc(&dst->v[m][s], src->v[m][s]);
	for (unsigned i = 0; i <= MXC_REPORT_ISSUES_MAX; i++)
		inc(&dst->issues[i], src->issues[i]);
}

/* ------------------------------------------------------------------------ */
/* Group tables                                                             */

static void gtable_init(struct gtable *t, size_t max, size_t top)
{
	memset(t, 0, sizeof(*t));
	t->max = max < 2 ? 2 : max;
	t->top = top;
	mxc_strmap_init(&t->map);
}

static void group_free(struct mxc_report_group *g)
{
	if (g) {
		mxc_free(g->name);
		mxc_free(g);
	}
}

static void gtable_free(struct gtable *t)
{
	for (size_t i = 0; i < t->n; i++)
		group_free(t->g[i]);
	mxc_free(t->g);
	mxc_strmap_free(&t->map);
}

static int by_domains_asc(const void *a, const void *b)
{
	const struct mxc_report_group *x = *(const struct mxc_report_group *const *)a;
	const struct mxc_report_group *y = *(const struct mxc_report_group *const *)b;

	if (x->c.domains != y->c.domains)
		return x->c.domains < y->c.domains ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int by_domains_desc(const void *a, const void *b)
{
	const struct mxc_report_group *x = *(const struct mxc_report_group *const *)a;
	const struct mxc_report_group *y = *(const struct mxc_report_group *const *)b;

	if (x->c.domains != y->c.domains)
		return x->c.domains > y->c.domains ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * The table is full: fold its smaller half into "other". Halving (rather
 * than dropping one group per new name) keeps the cost per row amortised
 * O(log n), and the groups that go are the ones with the fewest domains, so
 * the large providers a report is read for stay exact.
 */
static void gtable_fold(struct gtable *t)
{
	size_t drop = t->n / 2, k = 0;

	qsort(t->g, t->n, sizeof(*t->g), by_domains_asc);
	for (size_t i = 0; i < drop; i++) {
		struct mxc_report_group *g = t->g[i];
		uint32_t lost = g->c.domains;

		inc(&lost, g->error_bound);
		if (lost > t->floor)
			t->floor = lost;
		counts_add(&t->other.c, &g->c);
		mxc_strmap_del(&t->map, g->name);
		group_free(g);
	}
	for (size_t i = drop; i < t->n; i++)
		t->g[k++] = t->g[i];
	t->n = k;
	mxc_log_debug("report: group table full, %zu smallest groups folded into other", drop);
}

static struct mxc_report_group *gtable_get(struct gtable *t, const char *name)
{
	struct mxc_report_group *g = mxc_strmap_get(&t->map, name);

	if (g)
		return g;
	if (!t->g) {
		t->g = mxc_calloc(t->max, sizeof(*t->g));
		if (!t->g)
			return NULL;
	}
	if (t->n == t->max)
		gtable_fold(t);
	g = mxc_calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->name = mxc_strdup(name);
	if (!g->name || mxc_strmap_put(&t->map, g->name, g) != 0) {
		group_free(g);
		return NULL;
	}
	g->error_bound = t->floor;
	t->g[t->n++] = g;
	return g;
}

static void gtable_finish(struct gtable *t)
{
	if (t->n)
		qsort(t->g, t->n, sizeof(*t->g), by_domains_desc);
	t->shown = t->n < t->top ? t->n : t->top;
	for (size_t i = t->shown; i < t->n; i++)
		counts_add(&t->other.c, &t->g[i]->c);
	t->other.error_bound = 0;
}

/* ------------------------------------------------------------------------ */
/* Construction                                                             */

static int column_index(const char *name, size_t *out)
{
	return mxc_export_column_index(MXC_EXPORT_DOMAINS, name, out);
}

int mxc_report_new(const struct mxc_report_opts *o, struct mxc_report **out, char *errmsg,
		   size_t errlen)
{
	struct mxc_report *r;
	int e = 0;

	if (errmsg && errlen)
		errmsg[0] = '\0';
	if (!out)
		return MXC_EINVAL;
	*out = NULL;
	r = mxc_calloc(1, sizeof(*r));
	if (!r)
		return MXC_ENOMEM;
	if (o)
		r->o = *o;
	if (!r->o.top_tlds)
		r->o.top_tlds = 50;
	if (!r->o.top_providers)
		r->o.top_providers = 20;
	if (!r->o.max_tlds)
		r->o.max_tlds = 4096;
	if (!r->o.max_providers)
		r->o.max_providers = 20000;
	if (!r->o.top_issues)
		r->o.top_issues = 10;
	/* The export's columns are the contract: find ours by name, so a new
	 * column in the export does not shift what a report counts. */
	for (unsigned m = 0; !e && m < MXC_RM__COUNT; m++)
		e = column_index(metrics[m].column, &r->col[m]);
	if (!e)
		e = column_index("tld", &r->col_tld);
	if (!e)
		e = column_index("mx_hosts", &r->col_mx_hosts);
	if (!e)
		e = column_index("issues", &r->col_issues);
	mxc_export_columns(MXC_EXPORT_DOMAINS, &r->ncols);
	if (e) {
		if (errmsg)
			snprintf(errmsg, errlen, "the domain export lacks a column the report needs");
		mxc_free(r);
		return MXC_EINVAL;
	}
	r->psl = r->o.psl_file ? psl_load_file(r->o.psl_file) : psl_latest(NULL);
	if (!r->psl && !r->o.psl_file)
		r->psl = (psl_ctx_t *)psl_builtin();
	if (!r->psl) {
		if (errmsg)
			snprintf(errmsg, errlen, "%s: cannot load the Public Suffix List",
				 r->o.psl_file ? r->o.psl_file : "built-in");
		mxc_free(r);
		return MXC_EIO;
	}
	gtable_init(&r->tld, r->o.max_tlds, r->o.top_tlds);
	gtable_init(&r->prov, r->o.max_providers, r->o.top_providers);
	*out = r;
	return 0;
}

void mxc_report_free(struct mxc_report *r)
{
	if (!r)
		return;
	gtable_free(&r->tld);
	gtable_free(&r->prov);
	for (size_t i = 0; i < r->nissues; i++)
		mxc_free(r->issue[i]);
	/* psl_free leaves the built-in context alone. */
	psl_free(r->psl);
	mxc_free(r);
}

void mxc_report_set_run(struct mxc_report *r, const struct mxc_run_info *run)
{
	r->has_run = run != NULL;
	if (run)
		r->run = *run;
}

const struct mxc_run_info *mxc_report_run(const struct mxc_report *r)
{
	return r->has_run ? &r->run : NULL;
}

/* ------------------------------------------------------------------------ */
/* Rows                                                                     */

/* Id of issue code [s, s+n), added when new and there is room; -1: other. */
static int issue_id(struct mxc_report *r, const char *s, size_t n)
{
	for (size_t i = 0; i < r->nissues; i++)
		if (strlen(r->issue[i]) == n && memcmp(r->issue[i], s, n) == 0)
			return (int)i;
	if (r->nissues == MXC_REPORT_ISSUES_MAX || n > ISSUE_CODE_MAX)
		return -1;
	r->issue[r->nissues] = mxc_strndup(s, n);
	if (!r->issue[r->nissues])
		return MXC_ENOMEM;
	return (int)r->nissues++;
}

static int row_issues(struct mxc_report *r, const char *list, struct rowinfo *ri)
{
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *s = p;
		int id;

		p = end ? end + 1 : NULL;
		while (n && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (!n)
			continue;
		id = issue_id(r, s, n);
		if (id == MXC_ENOMEM)
			return id;
		if (id < 0)
			ri->other_issue = true;
		else
			ri->issues |= (uint64_t)1 << id;
	}
	return 0;
}

int mxc_report_provider(const struct mxc_report *r, const char *host, char *buf, size_t len)
{
	size_t n = host ? strlen(host) : 0;
	const char *reg;

	if (n && host[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_MAX_LEN || len <= n)
		return MXC_ENAME;
	for (size_t i = 0; i < n; i++) {
		char c = host[i];

		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[n] = '\0';
	reg = psl_registrable_domain(r->psl, buf);
	if (reg && reg != buf)
		memmove(buf, reg, strlen(reg) + 1);
	return 0;
}

/* The distinct providers of "pref:host;pref:host...", at most
 * ROW_PROVIDERS_MAX, into @p prov. */
static size_t row_providers(const struct mxc_report *r, const char *list,
			    char prov[][NAME_MAX_LEN + 1])
{
	char host[NAME_MAX_LEN + 2];
	const char *p = list;
	size_t np = 0;

	while (p && *p && np < ROW_PROVIDERS_MAX) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *colon = memchr(p, ':', n);
		const char *h = colon ? colon + 1 : p;
		size_t hn = n - (size_t)(h - p);
		bool seen = false;

		p = end ? end + 1 : NULL;
		if (hn == 0 || hn > NAME_MAX_LEN + 1)
			continue;
		memcpy(host, h, hn);
		host[hn] = '\0';
		if (mxc_report_provider(r, host, prov[np], NAME_MAX_LEN + 1) != 0)
			continue;
		for (size_t i = 0; i < np && !seen; i++)
			seen = strcmp(prov[i], prov[np]) == 0;
		if (!seen)
			np++;
	}
	return np;
}

int mxc_report_add(void *arg, const char *const *val)
{
	struct mxc_report *r = arg;
	char prov[ROW_PROVIDERS_MAX][NAME_MAX_LEN + 1];
	struct rowinfo ri = { 0 };
	struct mxc_report_group *g;
	const char *tld;
	size_t np;
	int e;

	if (!r || !val || r->finished)
		return MXC_EINVAL;
	for (unsigned m = 0; m < MXC_RM__COUNT; m++)
		ri.slot[m] = mxc_report_slot(m, val[r->col[m]]);
	e = row_issues(r, val[r->col_issues], &ri);
	if (e)
		return e;
	counts_row(&r->total, &ri);
	tld = val[r->col_tld] && val[r->col_tld][0] ? val[r->col_tld] : "(none)";
	g = gtable_get(&r->tld, tld);
	if (!g)
		return MXC_ENOMEM;
	counts_row(&g->c, &ri);
	np = row_providers(r, val[r->col_mx_hosts], prov);
	for (size_t i = 0; i < np; i++) {
		g = gtable_get(&r->prov, prov[i]);
		if (!g)
			return MXC_ENOMEM;
		counts_row(&g->c, &ri);
	}
	return 0;
}

int mxc_report_scan(struct mxc_report *r, struct mxc_store *s)
{
	struct mxc_run_info run;
	int e;

	if (mxc_store_run_get(s, &run) == 0)
		mxc_report_set_run(r, &run);
	e = mxc_export_rows(s, MXC_EXPORT_DOMAINS, mxc_report_add, r, NULL);
	return e;
}

int mxc_report_finish(struct mxc_report *r)
{
	if (r->finished)
		return 0;
	gtable_finish(&r->tld);
	gtable_finish(&r->prov);
	r->finished = true;
	return 0;
}

const struct mxc_report_counts *mxc_report_total(const struct mxc_report *r)
{
	return &r->total;
}

static const struct gtable *table_of(const struct mxc_report *r, unsigned by)
{
	return by == MXC_REPORT_BY_PROVIDER ? &r->prov : &r->tld;
}

struct mxc_report_group *const *mxc_report_groups(const struct mxc_report *r, unsigned by,
						  size_t *n)
{
	const struct gtable *t = table_of(r, by);

	*n = r->finished ? t->shown : 0;
	return t->g;
}

const struct mxc_report_group *mxc_report_other(const struct mxc_report *r, unsigned by)
{
	return &table_of(r, by)->other;
}

const struct mxc_report_group *mxc_report_find(const struct mxc_report *r, unsigned by,
					       const char *name)
{
	return mxc_strmap_get(&table_of(r, by)->map, name);
}

size_t mxc_report_issue_codes(const struct mxc_report *r)
{
	return r->nissues;
}

const char *mxc_report_issue_name(const struct mxc_report *r, size_t id)
{
	if (id == MXC_REPORT_ISSUES_MAX)
		return "other";
	return id < r->nissues ? r->issue[id] : NULL;
}

/* ------------------------------------------------------------------------ */
/* Text and Markdown                                                        */

/* Issue ids of @p c with a count, by count then name; @p ids holds
 * MXC_REPORT_ISSUES_MAX + 1. @return how many, at most @p max. */
static size_t top_issues(const struct mxc_report *r, const struct mxc_report_counts *c,
			 size_t *ids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i <= MXC_REPORT_ISSUES_MAX; i++)
		if (c->issues[i] && (i == MXC_REPORT_ISSUES_MAX || i < r->nissues))
			ids[n++] = i;
	/* Insertion sort: at most 65 codes. */
	for (size_t i = 1; i < n; i++) {
		size_t x = ids[i], k = i;

		while (k > 0) {
			size_t y = ids[k - 1];

			if (c->issues[y] > c->issues[x] ||
			    (c->issues[y] == c->issues[x] &&
			     strcmp(mxc_report_issue_name(r, y), mxc_report_issue_name(r, x)) <= 0))
				break;
			ids[k] = y;
			k--;
		}
		ids[k] = x;
	}
	return n < max ? n : max;
}

static void heading(FILE *f, enum mxc_out_format fmt, int level, bool color, const char *title)
{
	size_t n = strlen(title);

	if (fmt == MXC_OUT_HTML) {
		fprintf(f, "<h%d>", level);
		mxc_html_str(f, title);
		fprintf(f, "</h%d>\n", level);
		return;
	}
	if (fmt == MXC_OUT_MD) {
		fprintf(f, "%s %s\n\n", level == 1 ? "#" : level == 2 ? "##" : "###", title);
		return;
	}
	if (color)
		fputs("\033[1m", f);
	fputs(title, f);
	if (color)
		fputs("\033[0m", f);
	fputc('\n', f);
	if (level < 3) {
		for (size_t i = 0; i < n; i++)
			fputc(level == 1 ? '=' : '-', f);
		fputc('\n', f);
	}
	fputc('\n', f);
}

static int cell_count(struct mxc_table *t, size_t col, uint32_t n, uint32_t of)
{
	return mxc_table_cellf(t, col, "%lu (%.1f%%)", (unsigned long)n, mxc_report_pct(n, of));
}

/* A group's display name, with "≥"-style marking of estimates in the text. */
static int cell_group(struct mxc_table *t, const struct mxc_report_group *g)
{
	if (g->error_bound)
		return mxc_table_cellf(t, 0, "%s (up to %lu more)", g->name,
				       (unsigned long)g->error_bound);
	return mxc_table_cell(t, 0, g->name);
}

/* A table of groups: its first columns name the group and count its domains. */
static struct mxc_table *group_table(size_t ncols, const char *what, int *e)
{
	struct mxc_table *t = mxc_table_new(ncols);

	*e = t ? 0 : MXC_ENOMEM;
	if (!*e)
		*e = mxc_table_head(t, 0, what, false);
	if (!*e)
		*e = mxc_table_head(t, 1, "domains", true);
	return t;
}

/* Starts the row of @p g: its name and its number of domains. */
static int group_row(struct mxc_table *t, const struct mxc_report_group *g)
{
	int e = mxc_table_row(t);

	if (!e)
		e = cell_group(t, g);
	if (!e)
		e = mxc_table_cellf(t, 1, "%lu", (unsigned long)g->c.domains);
	return e;
}

/* The rows of one table: the run, the groups shown, and "other". */
struct rowset {
	const struct mxc_report_group *row[1024];
	size_t n;
};

static void rowset_fill(const struct mxc_report *r, unsigned by, struct mxc_report_group *all,
			struct rowset *rs)
{
	size_t n;
	struct mxc_report_group *const *g = mxc_report_groups(r, by, &n);
	const struct mxc_report_group *other = mxc_report_other(r, by);

	rs->n = 0;
	rs->row[rs->n++] = all;
	for (size_t i = 0; i < n && rs->n < MXC_ARRAY_SIZE(rs->row) - 1; i++)
		rs->row[rs->n++] = g[i];
	if (other->c.domains)
		rs->row[rs->n++] = other;
}

static int adoption_table(const struct rowset *rs, const char *what, FILE *f,
			  enum mxc_out_format fmt, bool color)
{
	int e;
	struct mxc_table *t = group_table(2 + MXC_RI__COUNT, what, &e);

	for (unsigned i = 0; !e && i < MXC_RI__COUNT; i++)
		e = mxc_table_head(t, 2 + i, indicators[i].title, true);
	for (size_t k = 0; !e && k < rs->n; k++) {
		const struct mxc_report_counts *c = &rs->row[k]->c;

		e = group_row(t, rs->row[k]);
		for (unsigned i = 0; !e && i < MXC_RI__COUNT; i++)
			e = cell_count(t, 2 + i, mxc_report_indicator_count(c, i), c->domains);
	}
	return mxc_table_finish(t, e, f, fmt, color);
}

static bool any_slot(const struct rowset *rs, unsigned m, unsigned slot)
{
	for (size_t k = 0; k < rs->n; k++)
		if (rs->row[k]->c.v[m][slot])
			return true;
	return false;
}

/* One metric: a column per value, "other" only when some row has one. */
static int metric_table(const struct rowset *rs, unsigned m, const char *what, FILE *f,
			enum mxc_out_format fmt, bool color)
{
	const struct mxc_report_metric *mt = &metrics[m];
	bool other = any_slot(rs, m, MXC_RS_OTHER);
	size_t ncols = 2 + mt->nvalues + (other ? 1 : 0) + 1, c;
	int e;
	struct mxc_table *t = group_table(ncols, what, &e);

	for (size_t i = 0; !e && i < mt->nvalues; i++)
		e = mxc_table_head(t, 2 + i, mt->values[i], true);
	c = 2 + mt->nvalues;
	if (!e && other)
		e = mxc_table_head(t, c, "other", true);
	if (!e)
		e = mxc_table_head(t, ncols - 1, "not measured", true);
	for (size_t k = 0; !e && k < rs->n; k++) {
		const struct mxc_report_counts *cn = &rs->row[k]->c;

		e = group_row(t, rs->row[k]);
		for (size_t i = 0; !e && i < mt->nvalues; i++)
			e = cell_count(t, 2 + i, cn->v[m][MXC_RS_VALUE0 + i], cn->domains);
		if (!e && other)
			e = cell_count(t, c, cn->v[m][MXC_RS_OTHER], cn->domains);
		if (!e)
			e = cell_count(t, ncols - 1, cn->v[m][MXC_RS_NOT_MEASURED], cn->domains);
	}
	return mxc_table_finish(t, e, f, fmt, color);
}

/* Issues: a column per code among the run's most frequent. */
static int issue_table(const struct mxc_report *r, const struct rowset *rs, const char *what,
		       FILE *f, enum mxc_out_format fmt, bool color)
{
	size_t ids[MXC_REPORT_ISSUES_MAX + 1];
	size_t n = top_issues(r, &r->total, ids, r->o.top_issues);
	int e;
	struct mxc_table *t = group_table(3 + n, what, &e);

	if (!e)
		e = mxc_table_head(t, 2, "with issues", true);
	for (size_t i = 0; !e && i < n; i++)
		e = mxc_table_head(t, 3 + i, mxc_report_issue_name(r, ids[i]), true);
	for (size_t k = 0; !e && k < rs->n; k++) {
		const struct mxc_report_counts *c = &rs->row[k]->c;

		e = group_row(t, rs->row[k]);
		if (!e)
			e = cell_count(t, 2, c->with_issues, c->domains);
		for (size_t i = 0; !e && i < n; i++)
			e = cell_count(t, 3 + i, c->issues[ids[i]], c->domains);
	}
	return mxc_table_finish(t, e, f, fmt, color);
}

static void run_header(const struct mxc_report *r, FILE *f, enum mxc_out_format fmt)
{
	const struct mxc_run_info *run = mxc_report_run(r);
	const struct mxc_report_counts *c = &r->total;
	uint32_t mail = mxc_report_indicator_count(c, MXC_RI_MAIL);
	char t0[21], t1[21];
	const char *bullet = fmt == MXC_OUT_MD ? "- " : "";

	if (run) {
		mxc_rfc3339(run->started_at, t0);
		fprintf(f, "%srun: ", bullet);
		mxc_out_str(f, fmt, run->run_id);
		fprintf(f, ", started %s", t0);
		if (run->finished_at) {
			mxc_rfc3339(run->finished_at, t1);
			fprintf(f, ", finished %s", t1);
		} else {
			fputs(", not finished", f);
		}
		if (run->shard[0]) {
			fputs(", shard ", f);
			mxc_out_str(f, fmt, run->shard);
		}
		fputc('\n', f);
	}
	fprintf(f, "%sdomains: %lu, receiving mail: %lu (%.1f%%), with issues: %lu (%.1f%%)\n",
		bullet, (unsigned long)c->domains, (unsigned long)mail,
		mxc_report_pct(mail, c->domains), (unsigned long)c->with_issues,
		mxc_report_pct(c->with_issues, c->domains));
	fprintf(f, "%spercentages are of all domains in the row; \"not measured\" is an empty "
		   "column (the stage did not run or got no answer)\n\n",
		bullet);
}

static int write_breakdown(struct mxc_report *r, unsigned by, struct rowset *rs, FILE *f,
			   enum mxc_out_format fmt, bool color)
{
	const char *para = fmt == MXC_OUT_HTML ? "<p>" : "";
	const char *end = fmt == MXC_OUT_HTML ? "</p>" : "";
	const char *what = by == MXC_REPORT_BY_TLD ? "TLD" : "provider";
	char title[128];
	int e;

	snprintf(title, sizeof(title), "By %s", what);
	heading(f, fmt, 2, color, title);
	if (by == MXC_REPORT_BY_PROVIDER) {
		fprintf(f, "%sA provider is the registrable domain of an MX host (Public Suffix "
			   "List); a domain counts once for each of its providers. Top %zu; "
			   "the rest are counted as other.%s\n\n",
			para, r->prov.top, end);
	}
	heading(f, fmt, 3, color, "Adoption");
	e = adoption_table(rs, what, f, fmt, color);
	/* Exposure first: it is the report's answer; then the columns in the
	 * export's order. */
	for (unsigned k = 0; !e && k < MXC_RM__COUNT; k++) {
		unsigned m = k == 0 ? MXC_RM_EXPOSURE : k - 1;

		fputc('\n', f);
		snprintf(title, sizeof(title), "%s (%s)", metrics[m].title, metrics[m].column);
		heading(f, fmt, 3, color, title);
		e = metric_table(rs, m, what, f, fmt, color);
	}
	if (!e) {
		fputc('\n', f);
		heading(f, fmt, 3, color, "Most frequent issues");
		e = issue_table(r, rs, what, f, fmt, color);
	}
	fputc('\n', f);
	return e;
}

int mxc_report_write_sections(struct mxc_report *r, unsigned by, enum mxc_out_format fmt,
			      FILE *f, bool color)
{
	struct mxc_report_group all = { .name = (char *)"(all)", .c = r->total };
	struct rowset *rs;
	int e = mxc_report_finish(r);

	if (e)
		return e;
	rs = mxc_malloc(sizeof(*rs));
	if (!rs)
		return MXC_ENOMEM;
	if (by & MXC_REPORT_BY_TLD) {
		rowset_fill(r, MXC_REPORT_BY_TLD, &all, rs);
		e = write_breakdown(r, MXC_REPORT_BY_TLD, rs, f, fmt, color);
	}
	if (!e && (by & MXC_REPORT_BY_PROVIDER)) {
		rowset_fill(r, MXC_REPORT_BY_PROVIDER, &all, rs);
		e = write_breakdown(r, MXC_REPORT_BY_PROVIDER, rs, f, fmt, color);
	}
	mxc_free(rs);
	return e;
}

static int write_text(struct mxc_report *r, enum mxc_out_format fmt, unsigned by, FILE *f,
		      bool color)
{
	heading(f, fmt, 1, color, "mxcensus report");
	run_header(r, f, fmt);
	return mxc_report_write_sections(r, by, fmt, f, color);
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */

static void json_share(FILE *f, uint32_t n, uint32_t of)
{
	fprintf(f, "{\"count\":%lu,\"percent\":%.2f}", (unsigned long)n, mxc_report_pct(n, of));
}

static void json_counts(const struct mxc_report *r, const struct mxc_report_counts *c, FILE *f)
{
	size_t ids[MXC_REPORT_ISSUES_MAX + 1];
	size_t n = top_issues(r, c, ids, MXC_REPORT_ISSUES_MAX + 1);

	fprintf(f, "\"domains\":%lu,\"adoption\":{", (unsigned long)c->domains);
	for (unsigned i = 0; i < MXC_RI__COUNT; i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", indicators[i].key);
		json_share(f, mxc_report_indicator_count(c, i), c->domains);
	}
	fputs("},\"columns\":{", f);
	for (unsigned m = 0; m < MXC_RM__COUNT; m++) {
		fprintf(f, "%s\"%s\":{", m ? "," : "", metrics[m].column);
		for (size_t i = 0; i < metrics[m].nvalues; i++) {
			fputs(i ? "," : "", f);
			mxc_json_str(f, metrics[m].values[i]);
			fputc(':', f);
			json_share(f, c->v[m][MXC_RS_VALUE0 + i], c->domains);
		}
		fputs(",\"other\":", f);
		json_share(f, c->v[m][MXC_RS_OTHER], c->domains);
		fputs(",\"not_measured\":", f);
		json_share(f, c->v[m][MXC_RS_NOT_MEASURED], c->domains);
		fputc('}', f);
	}
	fputs("},\"with_issues\":", f);
	json_share(f, c->with_issues, c->domains);
	fputs(",\"issues\":[", f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",{\"code\":" : "{\"code\":", f);
		mxc_json_str(f, mxc_report_issue_name(r, ids[i]));
		fprintf(f, ",\"count\":%lu,\"percent\":%.2f}", (unsigned long)c->issues[ids[i]],
			mxc_report_pct(c->issues[ids[i]], c->domains));
	}
	fputc(']', f);
}

static void json_group(const struct mxc_report *r, const struct mxc_report_group *g, FILE *f)
{
	fputs("{\"name\":", f);
	mxc_json_str(f, g->name);
	fprintf(f, ",\"exact\":%s,\"error_bound\":%lu,", g->error_bound ? "false" : "true",
		(unsigned long)g->error_bound);
	json_counts(r, &g->c, f);
	fputc('}', f);
}

static void json_breakdown(const struct mxc_report *r, unsigned by, FILE *f)
{
	const struct gtable *t = table_of(r, by);
	size_t n;
	struct mxc_report_group *const *g = mxc_report_groups(r, by, &n);

	fprintf(f, "{\"counted\":%zu,\"shown\":%zu,\"folded\":%s,\"groups\":[", t->n, n,
		t->floor ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_group(r, g[i], f);
	}
	fputs("],\n\"other\":{", f);
	json_counts(r, &t->other.c, f);
	fputs("}}", f);
}

static int write_json(struct mxc_report *r, unsigned by, FILE *f)
{
	const struct mxc_run_info *run = mxc_report_run(r);
	char t0[21], t1[21];

	fputs("{\"schema\":\"mxcensus-report/1\",\"run\":", f);
	if (run) {
		mxc_rfc3339(run->started_at, t0);
		mxc_rfc3339(run->finished_at, t1);
		fputs("{\"run_id\":", f);
		mxc_json_str(f, run->run_id);
		fprintf(f, ",\"started_at\":\"%s\",\"finished_at\":", t0);
		if (run->finished_at)
			fprintf(f, "\"%s\"", t1);
		else
			fputs("null", f);
		fputs(",\"shard\":", f);
		mxc_json_str(f, run->shard);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\n\"values\":{", f);
	for (unsigned m = 0; m < MXC_RM__COUNT; m++) {
		fprintf(f, "%s\"%s\":[", m ? "," : "", metrics[m].column);
		for (size_t i = 0; i < metrics[m].nvalues; i++) {
			fputs(i ? "," : "", f);
			mxc_json_str(f, metrics[m].values[i]);
		}
		fputc(']', f);
	}
	fputs("},\n\"total\":{", f);
	json_counts(r, &r->total, f);
	fputc('}', f);
	if (by & MXC_REPORT_BY_TLD) {
		fputs(",\n\"by_tld\":", f);
		json_breakdown(r, MXC_REPORT_BY_TLD, f);
	}
	if (by & MXC_REPORT_BY_PROVIDER) {
		fputs(",\n\"by_provider\":", f);
		json_breakdown(r, MXC_REPORT_BY_PROVIDER, f);
	}
	fputs("}\n", f);
	return 0;
}

int mxc_report_write(struct mxc_report *r, enum mxc_out_format fmt, unsigned by, FILE *f,
		     bool color)
{
	int e;

	if (!r || !f || !(by & MXC_REPORT_BY_ALL))
		return MXC_EINVAL;
	e = mxc_report_finish(r);
	if (e)
		return e;
	switch (fmt) {
	case MXC_OUT_JSON:
		e = write_json(r, by, f);
		break;
	case MXC_OUT_HTML:
		e = mxc_report_write_html(r, by, f);
		break;
	default:
		e = write_text(r, fmt, by, f, color && fmt == MXC_OUT_TEXT);
		break;
	}
	if (!e && (fflush(f) != 0 || ferror(f)))
		e = MXC_EIO;
	return e;
}
