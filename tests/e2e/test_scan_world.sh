#!/bin/bash
# test_scan_world.sh - scan the world's domain list through Unbound and
# compare what mxcensus exports with the truth the world was built to have:
#
#  - exit status 0, and the invalid line reported as domains.txt:<line>;
#  - domain, mx_status, mx_hosts of every exported row equal truth.csv as a
#    set (a diff is printed on failure): no row missing, none extra, the
#    duplicates once, the U-label as its A-label;
#  - sanity of every row (tld, run_id, scanned_at, sorting of mx_hosts);
#  - the JSON Lines export carries the same rows as the CSV;
#  - the hosts export has the addresses and TLSA records of truth_hosts.csv.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

db=$TMP/db
mxc scan 300 scan --db "$db" --resolver "$UNBOUND_ADDR" --probes none \
	"$WORLD_DOMAINS"
expect_rc scan 0

# The invalid name is reported with its file and line number.
bad_line=$(grep -n -x -F 'bad..name.test' "$WORLD_DOMAINS" | cut -d: -f1)
[[ -n $bad_line ]] || fail "domains.txt lost its invalid line"
grep -q "domains\.txt:$bad_line\b" "$TMP/scan.err" ||
	fail "the invalid name on domains.txt:$bad_line is not reported as" \
		"domains.txt:$bad_line on stderr"

export_db "$db" domains csv "$TMP/domains.csv"
csvtool check-domains "$TMP/domains.csv"

csvtool project "$WORLD_TRUTH" domain,mx_status,mx_hosts >"$TMP/want.tsv"
csvtool project "$TMP/domains.csv" domain,mx_status,mx_hosts >"$TMP/got.tsv"
if ! diff -u "$TMP/want.tsv" "$TMP/got.tsv" >"$TMP/truth.diff"; then
	echo "--- truth.csv vs export (domain, mx_status, mx_hosts):" >&2
	cat "$TMP/truth.diff" >&2
	fail "the domains export differs from truth.csv"
fi

# Spelled out, although the set comparison above implies them, so that a
# failure says which contract broke.
for d in single.test multi.test; do
	n=$(awk -F'\t' -v d="$d" '$1 == d' "$TMP/got.tsv" | wc -l)
	((n == 1)) || fail "$d (listed twice in the input) exported $n times"
done
awk -F'\t' '$1 == "xn--bcher-kva.test" { found = 1 } END { exit !found }' \
	"$TMP/got.tsv" || fail "bücher.test was not converted to xn--bcher-kva.test"
if grep -q 'bücher' "$TMP/got.tsv"; then
	fail "a U-label reached the export"
fi

# One run: every row carries the same run_id.
n_runs=$(csvtool project "$TMP/domains.csv" run_id | sort -u | wc -l)
((n_runs == 1)) || fail "one scan produced $n_runs distinct run_id values"

# JSON Lines: the same rows.
export_db "$db" domains jsonl "$TMP/domains.jsonl"
csvtool project "$TMP/domains.jsonl" domain,mx_status,mx_hosts >"$TMP/got-jsonl.tsv"
diff -u "$TMP/got.tsv" "$TMP/got-jsonl.tsv" >&2 ||
	fail "the JSON Lines export differs from the CSV export"

# Hosts: addresses and TLSA records of the hosts in truth_hosts.csv.
export_db "$db" hosts csv "$TMP/hosts.csv"
csvtool check-hosts "$TMP/hosts.csv" "$WORLD_TRUTH_HOSTS"

note "ok: $(wc -l <"$TMP/got.tsv") domains match truth.csv"
