#!/bin/bash
# test_report.sh - `mxcensus report` and `mxcensus compare` on scans of the
# world, checked against the CSV export of the same stores:
#
#  - scan A: the world's list and part of bulk.test through Unbound;
#    scan B: a modified input (names dropped, other bulk names added);
#    scan C: A's input asked of NSD directly (no recursion), so that some
#    verdicts really differ from A's;
#  - report A in text, md, json and html; the JSON's counts per column value,
#    per TLD and per provider equal what python counts from the CSV export
#    (providers: the last two labels of each MX host, which is what the
#    Public Suffix List's default rule gives for .test and .example);
#    the text and Markdown show the same totals; --by limits the sections;
#  - the HTML page opened in headless Chromium: no console message (a
#    script error or a blocked fetch would log one), the SVG charts and the
#    provider table in the rendered DOM, a screenshot that is not blank;
#  - compare A B and A C: domains in both / only old / only new, the deltas
#    per TLD and every changed verdict equal python's diff of the exports;
#  - bad usage exits 2, an unreadable store 1.
# Needs Debian's chromium: without it the test fails, it does not skip.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[[ -n $CHROMIUM ]] || fail "chromium is not installed (apt-get install chromium)"

# --- the scans ---------------------------------------------------------------
grep -v '^#' "$BULK_LIST" | sed -n '1,1500p' >"$TMP/bulk_a.txt"
grep -v '^#' "$BULK_LIST" | sed -n '1001,2500p' >"$TMP/bulk_b.txt"
grep -v -x -F -e one.test -e solo.example -e shop.test "$WORLD_DOMAINS" >"$TMP/world_b.txt"

mxc scan-a 300 scan --db "$TMP/a" --resolver "$UNBOUND_ADDR" --probes none \
	--timeout 500 "$WORLD_DOMAINS" "$TMP/bulk_a.txt"
expect_rc scan-a 0
mxc scan-b 300 scan --db "$TMP/b" --resolver "$UNBOUND_ADDR" --probes none \
	--timeout 500 "$TMP/world_b.txt" "$TMP/bulk_b.txt"
expect_rc scan-b 0
mxc scan-c 300 scan --db "$TMP/c" --resolver "$NSD_ADDR" --probes none \
	--timeout 300 --retries 1 "$WORLD_DOMAINS" "$TMP/bulk_a.txt"
expect_rc scan-c 0
for s in a b c; do
	export_db "$TMP/$s" domains csv "$TMP/$s.csv"
done

# --- report in every format ----------------------------------------------------
for fmt in text md json html; do
	mxc "report-$fmt" 120 report --db "$TMP/a" --format "$fmt" --out "$TMP/report.$fmt"
	expect_rc "report-$fmt" 0
	[[ -s $TMP/report.$fmt ]] || fail "report --format $fmt wrote nothing"
	[[ ! -e $TMP/report.$fmt.tmp ]] || fail "report --format $fmt left its .tmp file"
done
# Standard output is the default, and is the same report.
mxc report-stdout 120 report --db "$TMP/a" --format json
expect_rc report-stdout 0
cmp -s "$TMP/report-stdout.out" "$TMP/report.json" ||
	fail "report to standard output differs from report --out"

python3 - "$TMP/a.csv" "$TMP/report.json" "$TMP/report.text" "$TMP/report.md" <<'EOF' ||
import csv, json, sys
from collections import Counter, defaultdict

# The design's values per column (shared/DESIGN.md, "Export columns").
VALUES = {
    "mx_status": ["ok", "null-mx", "implicit", "no-mail", "nxdomain", "servfail", "timeout"],
    "dnssec": ["secure", "insecure", "bogus", "indeterminate"],
    "starttls": ["all", "some", "none", "unreachable", "n-a"],
    "pkix": ["all-valid", "some-invalid", "none-valid", "n-a"],
    "dane": ["valid", "invalid", "not-dnssec", "bogus", "none", "n-a"],
    "mta_sts_txt": ["valid", "invalid", "multiple", "none"],
    "mta_sts_policy": ["ok", "fetch-error", "invalid", "n-a"],
    "mta_sts_mode": ["enforce", "testing", "none"],
    "mta_sts_mx_match": ["all", "some", "none", "n-a"],
    "tls_rpt": ["valid", "invalid", "multiple", "none"],
    "spf": ["present", "multiple", "none"],
    "dmarc": ["reject", "quarantine", "none", "invalid", "multiple", "absent"],
    "downgrade_exposure": ["no-mail", "plaintext", "strippable", "testing", "mta-sts",
                           "dane", "dane+mta-sts", "broken"],
}
csv_path, json_path, text_path, md_path = sys.argv[1:5]
rows = list(csv.DictReader(open(csv_path, newline="", encoding="utf-8")))
rep = json.load(open(json_path, encoding="utf-8"))
errors = []

def expect(what, got, want):
    if got != want:
        errors.append("%s: report says %r, the export %r" % (what, got, want))

def slot(col, v):
    if v == "":
        return "not_measured"
    return v if v in VALUES[col] else "other"

def counts(rs):
    c = {col: Counter(slot(col, r[col]) for r in rs) for col in VALUES}
    return c

def check_group(where, g, rs):
    expect(where + " domains", g["domains"], len(rs))
    want = counts(rs)
    for col, vals in VALUES.items():
        for v in vals + ["other", "not_measured"]:
            got = g["columns"][col][v]
            expect("%s %s=%s" % (where, col, v), got["count"], want[col][v])
            pct = round(100.0 * want[col][v] / len(rs), 2) if rs else 0.0
            if abs(got["percent"] - pct) > 0.006:
                errors.append("%s %s=%s: percent %r, want %r" % (where, col, v,
                                                                got["percent"], pct))
    mail = sum(1 for r in rs if r["mx_status"] in ("ok", "implicit"))
    expect(where + " adoption.mail", g["adoption"]["mail"]["count"], mail)
    spf = sum(1 for r in rs if r["spf"] == "present")
    expect(where + " adoption.spf_present", g["adoption"]["spf_present"]["count"], spf)
    dm = sum(1 for r in rs if r["dmarc"] in ("reject", "quarantine"))
    expect(where + " adoption.dmarc_enforcing", g["adoption"]["dmarc_enforcing"]["count"], dm)
    issues = Counter()
    for r in rs:
        for code in set(x.strip() for x in r["issues"].split(";") if x.strip()):
            issues[code] += 1
    expect(where + " issues", {i["code"]: i["count"] for i in g["issues"]}, dict(issues))

expect("schema", rep["schema"], "mxcensus-report/1")
check_group("total", rep["total"], rows)
expect("run id", rep["run"]["run_id"], rows[0]["run_id"])

by_tld = defaultdict(list)
for r in rows:
    by_tld[r["tld"]].append(r)
shown = rep["by_tld"]["groups"]
expect("TLDs shown", sorted(g["name"] for g in shown), sorted(by_tld))
for g in shown:
    check_group("tld " + g["name"], g, by_tld[g["name"]])
    expect("tld %s exact" % g["name"], g["exact"], True)

# Providers: a domain counts once per distinct registrable domain of its MX.
by_prov = defaultdict(list)
for r in rows:
    provs = set()
    for e in filter(None, r["mx_hosts"].split(";")):
        host = e.split(":", 1)[1].rstrip(".").lower()
        provs.add(".".join(host.split(".")[-2:]))
    for p in provs:
        by_prov[p].append(r)
ranked = sorted(by_prov, key=lambda p: (-len(by_prov[p]), p))
shown = rep["by_provider"]["groups"]
expect("providers shown", [g["name"] for g in shown], ranked[:20])
for g in shown:
    check_group("provider " + g["name"], g, by_prov[g["name"]])
rest = [r for p in ranked[20:] for r in by_prov[p]]
expect("provider other domains", rep["by_provider"]["other"]["domains"], len(rest))
if len(ranked) <= 1:
    errors.append("the world gave %d providers; the test needs several" % len(ranked))

# Text and Markdown: the same totals.
text = open(text_path, encoding="utf-8").read()
md = open(md_path, encoding="utf-8").read()
mail = sum(1 for r in rows if r["mx_status"] in ("ok", "implicit"))
line = "domains: %d, receiving mail: %d (%.1f%%)" % (len(rows), mail, 100.0 * mail / len(rows))
for name, body in (("text", text), ("md", md)):
    if line not in body:
        errors.append("%s report lacks %r" % (name, line))
n_test = len(by_tld["test"])
if not any(l.split()[:2] == ["test", str(n_test)] for l in text.splitlines()):
    errors.append("text report has no row 'test %d'" % n_test)
if "| test | %d |" % n_test not in md:
    errors.append("md report has no row '| test | %d |'" % n_test)
for e in errors[:40]:
    print("report check:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
	fail "the report's numbers differ from the CSV export (see above)"

# --by keeps one breakdown.
mxc report-by 120 report --db "$TMP/a" --by tld --format text
expect_rc report-by 0
grep -q '^By TLD' "$TMP/report-by.out" || fail "report --by tld lacks the TLD section"
! grep -q '^By provider' "$TMP/report-by.out" || fail "report --by tld shows providers"
mxc report-byp 120 report --db "$TMP/a" --by provider --format json
expect_rc report-byp 0
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit("by_tld" in d or "by_provider" not in d)' \
	"$TMP/report-byp.out" || fail "report --by provider --format json has the wrong sections"

# --- the HTML page in a browser -----------------------------------------------
html=$TMP/report.html
prof=$TMP/chromium-profile
chrome=("$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run
	--disable-extensions --disable-background-networking --hide-scrollbars
	--user-data-dir="$prof" --enable-logging=stderr --v=0)
timeout -k 5 120 "${chrome[@]}" --dump-dom "file://$html" >"$TMP/dom.html" \
	2>"$TMP/chromium.err" || fail "chromium --dump-dom failed (see $TMP/chromium.err)"
if grep -a ':CONSOLE' "$TMP/chromium.err" >&2; then
	fail "the HTML report logs console messages in Chromium (above)"
fi
python3 - "$TMP/dom.html" "$TMP/report.json" <<'EOF' || fail "the rendered HTML report lacks its charts or tables"
import json, re, sys
dom = open(sys.argv[1], encoding="utf-8", errors="replace").read()
rep = json.load(open(sys.argv[2], encoding="utf-8"))
bad = []
for cid in ("chart-adoption", "chart-exposure"):
    m = re.search(r'<svg id="%s"(.*?)</svg>' % cid, dom, re.S)
    if not m:
        bad.append("no <svg id=%s> in the DOM" % cid)
    elif len(re.findall(r"<rect", m.group(1))) < 3:
        bad.append("svg %s has almost no bars" % cid)
m = re.search(r'<svg id="chart-exposure".*?</svg>', dom, re.S)
tlds = len(rep["by_tld"]["groups"])
if m and len(re.findall(r"<text", m.group(0))) != 1 + tlds:
    bad.append("exposure chart: %d labels, want %d" % (len(re.findall(r"<text", m.group(0))), 1 + tlds))
m = re.search(r'<table id="providers">.*?<tbody>(.*?)</tbody>', dom, re.S)
want = len(rep["by_provider"]["groups"]) + (1 if rep["by_provider"]["other"]["domains"] else 0)
if not m:
    bad.append("no provider table")
elif m.group(1).count("<tr>") != want:
    bad.append("provider table: %d rows, want %d" % (m.group(1).count("<tr>"), want))
if re.search(r"<script|https?://(?!www\.w3\.org/2000/svg)", dom):
    bad.append("the page references a script or a remote resource")
for b in bad:
    print("html check:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
timeout -k 5 120 "${chrome[@]}" --window-size=1280,1600 --screenshot="$TMP/report.png" \
	"file://$html" >/dev/null 2>>"$TMP/chromium.err" || fail "chromium --screenshot failed"
python3 - "$TMP/report.png" <<'EOF' || fail "the screenshot of the HTML report is blank"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
# A blank page compresses to a handful of byte values; text and bars do not.
distinct = len(set(raw))
print("# screenshot: %d bytes of pixels, %d distinct byte values" % (len(raw), distinct),
      file=sys.stderr)
sys.exit(0 if distinct > 32 else 1)
EOF

# --- compare ---------------------------------------------------------------
for pair in ab ac; do
	old=$TMP/${pair:0:1} new=$TMP/${pair:1:1}
	mxc "compare-$pair" 120 compare "$old" "$new" --format json --out "$TMP/compare-$pair.json"
	expect_rc "compare-$pair" 0
	python3 - "$old.csv" "$new.csv" "$TMP/compare-$pair.json" "$pair" <<'EOF' ||
import csv, json, sys
from collections import defaultdict
COLS = ["mx_status", "dnssec", "starttls", "pkix", "dane", "mta_sts_txt", "mta_sts_policy",
        "mta_sts_mode", "mta_sts_mx_match", "tls_rpt", "spf", "dmarc", "downgrade_exposure"]
old = {r["domain"]: r for r in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8"))}
new = {r["domain"]: r for r in csv.DictReader(open(sys.argv[2], newline="", encoding="utf-8"))}
cmp_ = json.load(open(sys.argv[3], encoding="utf-8"))
pair = sys.argv[4]
errors = []
both = old.keys() & new.keys()
want = {"both": len(both), "removed": len(old.keys() - new.keys()),
        "added": len(new.keys() - old.keys())}
for k, v in want.items():
    if cmp_["domains"][k] != v:
        errors.append("domains.%s: %r, want %r" % (k, cmp_["domains"][k], v))
# A change is listed when a column differs and neither side is empty, except
# mta_sts_mode, whose empty value means "no policy".
changes = set()
for d in both:
    for c in COLS:
        a, b = old[d][c], new[d][c]
        if a != b and ((a and b) or c == "mta_sts_mode"):
            changes.add((d, c, a, b))
got = set((x["domain"], x["column"], x["old"] or "", x["new"] or "") for x in cmp_["changes"])
if got != changes:
    errors.append("changes: missing %s, extra %s" % (sorted(changes - got)[:10],
                                                     sorted(got - changes)[:10]))
if len(cmp_["changes"]) != len(got):
    errors.append("a change is listed twice")
if cmp_["domains"]["changed"] != len(set(d for d, *_ in changes)):
    errors.append("domains.changed %r" % cmp_["domains"]["changed"])
if pair == "ac" and not changes:
    errors.append("scan C was meant to differ from scan A, and nothing changed")
# Deltas per TLD: domains and SPF adoption on each side.
for g in cmp_["by_tld"]:
    for side, rows in (("old", old), ("new", new)):
        rs = [r for r in rows.values() if r["tld"] == g["name"]]
        spf = sum(1 for r in rs if r["spf"] == "present")
        if g[side]["domains"] != len(rs) or g[side]["adoption"]["spf_present"]["count"] != spf:
            errors.append("tld %s %s: %r domains, %r spf; want %d, %d" % (
                g["name"], side, g[side]["domains"],
                g[side]["adoption"]["spf_present"]["count"], len(rs), spf))
    o, n = g["old"]["adoption"]["spf_present"], g["new"]["adoption"]["spf_present"]
    if abs(g["delta_points"]["spf_present"] - (n["percent"] - o["percent"])) > 0.011:
        errors.append("tld %s: delta_points.spf_present %r" % (g["name"],
                                                            g["delta_points"]["spf_present"]))
print("# compare %s: %d in both, %d changes" % (pair, len(both), len(changes)), file=sys.stderr)
for e in errors:
    print("compare check:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
		fail "compare $pair differs from the diff of the exports (see above)"
done
first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["changes"][0]["domain"])' \
	"$TMP/compare-ac.json") || fail "compare-ac.json lists no change"
for fmt in text md html; do
	mxc "compare-$fmt" 120 compare "$TMP/a" "$TMP/c" --format "$fmt"
	expect_rc "compare-$fmt" 0
	grep -q 'Domains whose verdict changed' "$TMP/compare-$fmt.out" ||
		fail "compare --format $fmt lacks its changes section"
	grep -q -F "$first" "$TMP/compare-$fmt.out" ||
		fail "compare --format $fmt does not list $first, which changed"
done

# --- usage and failures -------------------------------------------------------
mxc bad-format 30 report --db "$TMP/a" --format pdf
expect_rc bad-format 2
mxc no-db 30 report --format text
expect_rc no-db 2
mxc bad-by 30 report --db "$TMP/a" --by country
expect_rc bad-by 2
mxc one-store 30 compare "$TMP/a"
expect_rc one-store 2
mxc missing-store 30 report --db "$TMP/does-not-exist"
expect_rc missing-store 1
mxc missing-old 30 compare "$TMP/does-not-exist" "$TMP/a"
expect_rc missing-old 1
grep -q 'does-not-exist' "$TMP/missing-old.err" || fail "compare does not name the missing store"
note "ok: reports in 4 formats match the export; HTML renders; compare matches the diff"
