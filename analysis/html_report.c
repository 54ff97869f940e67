/**
 * \file
 * The report as one self-contained HTML page: inline CSS and inline SVG
 * charts, no script, nothing fetched. A Content-Security-Policy of
 * default-src 'none' says so to the browser as well, so that the page
 * stays inert even if an escaping bug ever let data through as markup.
 *
 * Charts are plain SVG shapes with <title> tooltips, drawn at fixed sizes
 * (the page scales them with CSS): adoption as horizontal bars for the run,
 * downgrade exposure as one 100% stacked bar per TLD (the run first), and a
 * small exposure bar in every row of the provider table. The detailed tables
 * below them are the same as in the text and Markdown reports.
 */
#include "analysis/report.h"

#include <string.h>

#include "common/error.h"
#include "common/util.h"

#define LABEL_W 220
#define BAR_W 560
#define ROW_H 22
#define CHART_W (LABEL_W + BAR_W + 80)

/* Colours of the exposure classes, from worst to best, then the two extra
 * slots; chosen to be told apart by people with red-green colour blindness
 * by lightness as well as hue. */
static const char *const exposure_color[] = {
	[0] = "#bdbdbd", /* no-mail */
	[1] = "#b2182b", /* plaintext */
	[2] = "#ef8a62", /* strippable */
	[3] = "#fddbc7", /* testing */
	[4] = "#67a9cf", /* mta-sts */
	[5] = "#2166ac", /* dane */
	[6] = "#053061", /* dane+mta-sts */
	[7] = "#762a83", /* broken */
};
#define OTHER_COLOR "#8c8c8c"
#define UNMEASURED_COLOR "#f0f0f0"

static const char css[] =
	"body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;"
	"padding:0 1em;color:#222;background:#fff}"
	"h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}"
	"h3{font-size:1.05em;margin-top:1.5em}"
	"table{border-collapse:collapse;font-size:.85em;margin:.5em 0}"
	"th,td{border:1px solid #ddd;padding:.2em .5em;text-align:left;white-space:nowrap}"
	"th{background:#f4f4f4}.n{text-align:right;font-variant-numeric:tabular-nums}"
	"svg{max-width:100%;height:auto;display:block}"
	"svg text{font-size:12px;font-family:system-ui,sans-serif}"
	".legend span{display:inline-block;margin-right:1em;font-size:.85em}"
	".legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;"
	"vertical-align:middle;border:1px solid #999}"
	".scroll{overflow-x:auto}.note{color:#555;font-size:.9em}";

static void svg_text(FILE *f, int x, int y, const char *anchor, const char *s)
{
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\">", x, y, anchor);
	mxc_html_str(f, s);
	fputs("</text>\n", f);
}

/* One segment of a stacked bar, with a tooltip naming the group and class. */
static void segment(FILE *f, double x, double y, double w, double h, const char *color,
		    const char *group, const char *what, uint32_t n, double pct)
{
	if (w <= 0)
		return;
	fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\">"
		   "<title>",
		x, y, w, h, color);
	mxc_html_str(f, group);
	fprintf(f, ": %s %lu (%.1f%%)</title></rect>\n", what, (unsigned long)n, pct);
}

/* A 100% stacked exposure bar of @p c at (x, y). */
static void exposure_bar(FILE *f, const struct mxc_report_counts *c, const char *name, double x,
			 double y, double w, double h)
{
	const struct mxc_report_metric *m = mxc_report_metric(MXC_RM_EXPOSURE);

	for (size_t i = 0; i < m->nvalues + 2; i++) {
		unsigned slot = i < m->nvalues ? MXC_RS_VALUE0 + (unsigned)i
					       : (i == m->nvalues ? MXC_RS_OTHER
								  : MXC_RS_NOT_MEASURED);
		const char *color = i < m->nvalues ? exposure_color[i]
						   : (i == m->nvalues ? OTHER_COLOR : UNMEASURED_COLOR);
		const char *what = i < m->nvalues ? m->values[i]
						  : (i == m->nvalues ? "other" : "not measured");
		uint32_t n = c->v[MXC_RM_EXPOSURE][slot];
		double seg = c->domains ? w * (double)n / (double)c->domains : 0;

		segment(f, x, y, seg, h, color, name, what, n, mxc_report_pct(n, c->domains));
		x += seg;
	}
}

static void legend(FILE *f)
{
	const struct mxc_report_metric *m = mxc_report_metric(MXC_RM_EXPOSURE);

	fputs("<p class=\"legend\">", f);
	for (size_t i = 0; i < m->nvalues; i++)
		fprintf(f, "<span><i style=\"background:%s\"></i>%s</span>", exposure_color[i],
			m->values[i]);
	fprintf(f, "<span><i style=\"background:%s\"></i>other</span>"
		   "<span><i style=\"background:%s\"></i>not measured</span></p>\n",
		OTHER_COLOR, UNMEASURED_COLOR);
}

static void adoption_chart(FILE *f, const struct mxc_report_counts *c)
{
	int h = MXC_RI__COUNT * ROW_H + 30;

	fprintf(f, "<svg id=\"chart-adoption\" xmlns=\"http://www.w3.org/2000/svg\" "
		   "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
		   "aria-label=\"adoption, share of all domains\">\n",
		CHART_W, h, CHART_W, h);
	for (int p = 0; p <= 100; p += 25) {
		char lab[8];
		int x = LABEL_W + BAR_W * p / 100;

		snprintf(lab, sizeof(lab), "%d%%", p);
		fprintf(f, "<line x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, x,
			h - 18);
		svg_text(f, x, h - 4, "middle", lab);
	}
	for (unsigned i = 0; i < MXC_RI__COUNT; i++) {
		const struct mxc_report_indicator *ind = mxc_report_indicator(i);
		uint32_t n = mxc_report_indicator_count(c, i);
		double pct = mxc_report_pct(n, c->domains);
		int y = (int)i * ROW_H;
		char lab[64];

		svg_text(f, LABEL_W - 8, y + 15, "end", ind->title);
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f4f4f4\"/>\n",
			LABEL_W, y + 3, BAR_W, ROW_H - 6);
		fprintf(f, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
			   "fill=\"#2166ac\"><title>%s: %lu of %lu (%.1f%%)</title></rect>\n",
			LABEL_W, y + 3, BAR_W * pct / 100.0, ROW_H - 6, ind->title, (unsigned long)n,
			(unsigned long)c->domains, pct);
		snprintf(lab, sizeof(lab), "%.1f%% (%lu)", pct, (unsigned long)n);
		svg_text(f, LABEL_W + BAR_W + 6, y + 15, "start", lab);
	}
	fputs("</svg>\n", f);
}

static void exposure_chart(FILE *f, const struct mxc_report *r)
{
	size_t n;
	struct mxc_report_group *const *g = mxc_report_groups(r, MXC_REPORT_BY_TLD, &n);
	const struct mxc_report_group *other = mxc_report_other(r, MXC_REPORT_BY_TLD);
	size_t rows = 1 + n + (other->c.domains ? 1 : 0);
	int h = (int)rows * ROW_H + 4;

	fprintf(f, "<svg id=\"chart-exposure\" xmlns=\"http://www.w3.org/2000/svg\" "
		   "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
		   "aria-label=\"downgrade exposure by TLD\">\n",
		CHART_W, h, CHART_W, h);
	for (size_t i = 0; i < rows; i++) {
		const struct mxc_report_counts *c;
		const char *name;
		char lab[300];
		int y = (int)i * ROW_H;

		if (i == 0) {
			c = mxc_report_total(r);
			name = "(all)";
		} else if (i <= n) {
			c = &g[i - 1]->c;
			name = g[i - 1]->name;
		} else {
			c = &other->c;
			name = "other";
		}
		snprintf(lab, sizeof(lab), "%s (%lu)", name, (unsigned long)c->domains);
		svg_text(f, LABEL_W - 8, y + 15, "end", lab);
		exposure_bar(f, c, name, LABEL_W, y + 3, BAR_W, ROW_H - 6);
	}
	fputs("</svg>\n", f);
	legend(f);
}

static void provider_row(FILE *f, const char *name, uint32_t bound,
			 const struct mxc_report_counts *c)
{
	fputs("<tr><td>", f);
	mxc_html_str(f, name);
	if (bound)
		fprintf(f, " <span class=\"note\">(up to %lu more)</span>", (unsigned long)bound);
	fprintf(f, "</td><td class=\"n\">%lu</td>", (unsigned long)c->domains);
	for (unsigned i = 1; i < MXC_RI__COUNT; i++)
		fprintf(f, "<td class=\"n\">%.1f%%</td>",
			mxc_report_pct(mxc_report_indicator_count(c, i), c->domains));
	fputs("<td><svg class=\"mini\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 160 "
	      "12\" width=\"160\" height=\"12\">",
	      f);
	exposure_bar(f, c, name, 0, 0, 160, 12);
	fputs("</svg></td></tr>\n", f);
}

static void provider_table(FILE *f, const struct mxc_report *r)
{
	size_t n;
	struct mxc_report_group *const *g = mxc_report_groups(r, MXC_REPORT_BY_PROVIDER, &n);
	const struct mxc_report_group *other = mxc_report_other(r, MXC_REPORT_BY_PROVIDER);

	fputs("<div class=\"scroll\"><table id=\"providers\">\n<thead><tr><th>provider</th>"
	      "<th class=\"n\">domains</th>",
	      f);
	for (unsigned i = 1; i < MXC_RI__COUNT; i++)
		fprintf(f, "<th class=\"n\">%s</th>", mxc_report_indicator(i)->title);
	fputs("<th>exposure</th></tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < n; i++)
		provider_row(f, g[i]->name, g[i]->error_bound, &g[i]->c);
	if (other->c.domains)
		provider_row(f, "other", 0, &other->c);
	fputs("</tbody></table></div>\n", f);
	legend(f);
}

int mxc_report_write_html(struct mxc_report *r, unsigned by, FILE *f)
{
	const struct mxc_run_info *run = mxc_report_run(r);
	const struct mxc_report_counts *c = mxc_report_total(r);
	uint32_t mail = mxc_report_indicator_count(c, MXC_RI_MAIL);
	char t0[21], t1[21];
	int e = mxc_report_finish(r);

	if (e)
		return e;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>mxcensus report",
	      f);
	if (run) {
		fputs(" ", f);
		mxc_html_str(f, run->run_id);
	}
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>mxcensus report</h1>\n",
		css);
	if (run) {
		mxc_rfc3339(run->started_at, t0);
		mxc_rfc3339(run->finished_at, t1);
		fputs("<p>Run <code>", f);
		mxc_html_str(f, run->run_id);
		fprintf(f, "</code>, started %s, %s%s", t0,
			run->finished_at ? "finished " : "not finished",
			run->finished_at ? t1 : "");
		if (run->shard[0]) {
			fputs(", shard ", f);
			mxc_html_str(f, run->shard);
		}
		fputs(".</p>\n", f);
	}
	fprintf(f, "<p>%lu domains, %lu receiving mail (%.1f%%), %lu with issues (%.1f%%). "
		   "Percentages are of all domains; &ldquo;not measured&rdquo; is an empty "
		   "column (the stage did not run or got no answer).</p>\n",
		(unsigned long)c->domains, (unsigned long)mail, mxc_report_pct(mail, c->domains),
		(unsigned long)c->with_issues, mxc_report_pct(c->with_issues, c->domains));
	fputs("<h2>Adoption</h2>\n", f);
	adoption_chart(f, c);
	if (by & MXC_REPORT_BY_TLD) {
		fputs("<h2>Downgrade exposure by TLD</h2>\n", f);
		exposure_chart(f, r);
	}
	if (by & MXC_REPORT_BY_PROVIDER) {
		fputs("<h2>Mail providers</h2>\n", f);
		provider_table(f, r);
	}
	fputs("<div class=\"scroll\">\n", f);
	e = mxc_report_write_sections(r, by, MXC_OUT_HTML, f, false);
	fputs("</div>\n</body>\n</html>\n", f);
	if (!e && ferror(f))
		e = MXC_EIO;
	return e;
}
