#!/bin/bash
# test_parquet.sh - the Parquet export, read back by two readers that share
# no code with us or with each other: DuckDB (@duckdb/node-api, C++) and
# hyparquet (JavaScript, with hyparquet-compressors for ZSTD), both pinned
# in tests/parquet/package-lock.json.
#
#  - The world is scanned once; domains and hosts are exported as CSV,
#    JSON Lines and Parquet. Both readers must give back exactly the CSV's
#    rows, in the same order, header included (null reads as an empty
#    field, as the CSV writes it), and the JSON Lines export the same rows.
#  - The schema: port is a 64-bit integer, every other column a string.
#  - The unit test's files (nulls beside empty strings, long strings,
#    multi-byte UTF-8, bytes that are not UTF-8, extreme integers, 15 row
#    groups of many pages, no rows at all) must read back, in both readers,
#    as the rows the unit test wrote beside them from its own tables.
#
# The readers are installed with `npm ci` into the build tree
# (tests/parquet-readers), once: a rerun with the same lock file does not
# touch the network. While `mxcensus export` still refuses parquet, the
# Parquet files are made through the C API (the unit test binary's
# --export mode, which calls mxc_export) and the test says SKIP for the
# command line part on stderr.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

SRC=$MXC_SOURCE_DIR/tests/parquet
# MXC_TEST_TMP is <build>/tests/e2e-tmp/<test>; the unit tests are built
# into <build>/tests.
TESTS_BIN=$(cd "$MXC_TEST_TMP/../.." && pwd)
UNIT=$TESTS_BIN/test_parquet
READERS=$TESTS_BIN/parquet-readers
[[ -x $UNIT ]] || fail "no unit test binary at $UNIT"

# --- the readers -------------------------------------------------------------
"$SRC/install.sh" "$READERS" || fail "the Parquet readers could not be installed"

# read FORMAT READER FILE: the file as the reader sees it, on stdout.
read_pq() {
	node "$READERS/read.mjs" "$@" 2>"$TMP/read.err" || {
		cat "$TMP/read.err" >&2
		fail "$2 could not read $3"
	}
}

# --- the world's exports -----------------------------------------------------
mxc scan 300 scan --db "$TMP/db" --resolver "$UNBOUND_ADDR" --probes none \
	--timeout 500 "$WORLD_DOMAINS"
expect_rc scan 0

cli_parquet=yes
for what in domains hosts; do
	export_db "$TMP/db" "$what" csv "$TMP/$what.csv"
	export_db "$TMP/db" "$what" jsonl "$TMP/$what.jsonl"
	pq=$TMP/$what.parquet
	mxc "export-$what-parquet" 120 export --db "$TMP/db" --what "$what" \
		--format parquet --out "$pq"
	if ((RC == 2)) && grep -q "parquet is not in this build" "$TMP/export-$what-parquet.err"; then
		cli_parquet=no
		"$UNIT" --export "$TMP/db" "$what" "$pq" 2>"$TMP/capi-$what.err" || {
			cat "$TMP/capi-$what.err" >&2
			fail "mxc_export to Parquet ($what) failed"
		}
	else
		expect_rc "export-$what-parquet" 0
	fi
	[[ -s $pq ]] || fail "the $what Parquet export is empty"

	rows=$(csvtool count "$TMP/$what.csv")
	((rows > 0)) || fail "the world's $what export has no rows"
	cols=$(head -n 1 "$TMP/$what.csv")
	csvtool project "$TMP/$what.csv" "$cols" >"$TMP/$what.csv.tsv"
	csvtool project "$TMP/$what.jsonl" "$cols" >"$TMP/$what.jsonl.tsv"
	diff -u "$TMP/$what.csv.tsv" "$TMP/$what.jsonl.tsv" >&2 ||
		fail "the $what JSON Lines export differs from the CSV export"

	for reader in duckdb hyparquet; do
		read_pq csv "$reader" "$pq" >"$TMP/$what.$reader.csv"
		diff -u "$TMP/$what.csv" "$TMP/$what.$reader.csv" >"$TMP/$what.$reader.diff" || {
			head -n 40 "$TMP/$what.$reader.diff" >&2
			fail "$reader reads the $what Parquet export differently from the CSV export"
		}
		read_pq schema "$reader" "$pq" >"$TMP/$what.$reader.schema"
		[[ $(cut -f1 "$TMP/$what.$reader.schema" | paste -sd,) == "$cols" ]] ||
			fail "$reader sees other $what columns than the CSV header: $(cut -f1 "$TMP/$what.$reader.schema" | paste -sd,)"
	done
	# Types in each reader's own words.
	awk -F'\t' '($1 == "port") != ($2 == "BIGINT") || ($1 != "port" && $2 != "VARCHAR") { print; bad = 1 }
		END { exit bad }' "$TMP/$what.duckdb.schema" >&2 ||
		fail "DuckDB types of the $what export: port must be BIGINT, the rest VARCHAR"
	awk -F'\t' '($1 == "port") != ($2 == "INT64/INTEGER") || ($1 != "port" && $2 != "BYTE_ARRAY/STRING") { print; bad = 1 }
		END { exit bad }' "$TMP/$what.hyparquet.schema" >&2 ||
		fail "hyparquet types of the $what export: port must be INT64/INTEGER, the rest BYTE_ARRAY/STRING"
	note "ok: $rows $what rows read back alike by DuckDB and hyparquet"
done
grep -q '^port' "$TMP/hosts.duckdb.schema" || fail "the hosts export has no port column"

# --- the unit test's awkward files ---------------------------------------------
mkdir -p "$TMP/unit"
MXC_PARQUET_OUT_DIR=$TMP/unit "$UNIT" >"$TMP/unit.log" 2>&1 || {
	tail -n 30 "$TMP/unit.log" >&2
	fail "test_parquet failed"
}
n=0
for want in "$TMP"/unit/*.jsonl; do
	name=$(basename "$want" .jsonl)
	for reader in duckdb hyparquet; do
		read_pq json "$reader" "$TMP/unit/$name.parquet" >"$TMP/unit/$name.$reader.got"
		cmp -s "$want" "$TMP/unit/$name.$reader.got" || {
			diff -u "$want" "$TMP/unit/$name.$reader.got" | head -n 40 | cut -c1-200 >&2
			fail "$reader reads $name.parquet (from test_parquet) differently from its rows"
		}
	done
	n=$((n + 1))
done
((n >= 5)) || fail "test_parquet left $n files in MXC_PARQUET_OUT_DIR, expected 5 or more"
groups=$(read_pq meta hyparquet "$TMP/unit/groups.parquet" | awk -F'\t' '$1 == "row_groups" { print $2 }')
((groups == 15)) || fail "groups.parquet has $groups row groups, expected 15"
note "ok: $n files of the unit test read back alike by DuckDB and hyparquet"

if [[ $cli_parquet == no ]]; then
	echo "SKIP [$TEST_NAME]: 'mxcensus export --format parquet' is refused by the command line;" \
		"the Parquet files were made through mxc_export() instead" >&2
fi
