#!/bin/bash
# test_input_formats.sh - the zone-file and rank,domain CSV readers end to end.
#
#  - A TLD zone file as input (tests/world/zones/test.zone, read with
#    --input-format zone): the scan covers exactly the delegated names (the
#    owners of NS records below the apex), each once, and their facts match
#    the world (lame.test is a lame delegation: servfail).
#  - A rank,domain CSV (with a header and a quoted field) built from the
#    world's truth: every domain scanned, rows equal to the list's scan.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

zone=$MXC_SOURCE_DIR/tests/world/zones/test.zone
mxc zone 120 scan --db "$TMP/db-zone" --resolver "$UNBOUND_ADDR" --probes none \
	--input-format zone --timeout 500 "$zone"
expect_rc zone 0
export_db "$TMP/db-zone" domains csv "$TMP/zone.csv"
csvtool check-domains "$TMP/zone.csv"
csvtool project "$TMP/zone.csv" domain >"$TMP/zone.got"
# The delegations, by the zone's own NS lines (owner is the first field).
awk '$0 !~ /^[;$]/ && $2 == "IN" && $3 == "NS" && $1 != "@" { print $1 ".test" }' "$zone" |
	sort -u >"$TMP/zone.want"
[[ -s $TMP/zone.want ]] || fail "found no delegations in $zone"
diff -u "$TMP/zone.want" "$TMP/zone.got" >&2 ||
	fail "a zone-file scan must cover exactly the delegated names"
# Through a file: grep -q would close the pipe early under pipefail.
csvtool project "$TMP/zone.csv" domain,mx_status >"$TMP/zone.status"
grep -qx $'lame.test\tservfail' "$TMP/zone.status" ||
	fail "lame.test (a lame delegation) must be servfail"

# rank,domain CSV: a header, ranks, one quoted field, the truth's domains.
{
	echo "rank,domain"
	n=0
	tail -n +2 "$WORLD_TRUTH" | cut -d, -f1 | while read -r d; do
		n=$((n + 1))
		if ((n == 3)); then
			printf '%d,"%s"\n' "$n" "$d"
		else
			printf '%d,%s\n' "$n" "$d"
		fi
	done
} >"$TMP/ranked.csv"
mxc csv 120 scan --db "$TMP/db-csv" --resolver "$UNBOUND_ADDR" --probes none \
	--timeout 500 "$TMP/ranked.csv"
expect_rc csv 0
grep -q " 0 invalid lines" "$TMP/csv.err" ||
	fail "the CSV input had invalid lines: $(grep -m3 'warning' "$TMP/csv.err")"
export_db "$TMP/db-csv" domains csv "$TMP/csv.csv"
csvtool check-domains "$TMP/csv.csv"
csvtool project "$TMP/csv.csv" domain,mx_status,mx_hosts >"$TMP/csv.rows"
tail -n +2 "$WORLD_TRUTH" | tr ',' '\t' | sort >"$TMP/truth.rows"
diff -u "$TMP/truth.rows" "$TMP/csv.rows" >&2 ||
	fail "the CSV input's scan does not match the truth"
note "ok: zone $(wc -l <"$TMP/zone.got") delegations, csv $(wc -l <"$TMP/csv.rows") domains"
