#!/bin/bash
# test_shards.sh - --shard K/N splits the input without loss or overlap.
#
# Scans the world's domain list plus the bulk list once whole and once as
# shards 0/3, 1/3, 2/3 into three stores. The three shard exports must be
# disjoint, each must hold a fair part of the input (the split is by a
# stable hash, so none may be empty or hold nearly everything), and their
# union must equal the single scan's export in every column but run_id and
# scanned_at.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

inputs=("$WORLD_DOMAINS" "$BULK_LIST")
n_shards=3

mxc whole 300 scan --db "$TMP/whole" --resolver "$UNBOUND_ADDR" --probes none \
	"${inputs[@]}"
expect_rc whole 0
export_db "$TMP/whole" domains csv "$TMP/whole.csv"
csvtool drop "$TMP/whole.csv" run_id,scanned_at >"$TMP/whole.rows"
n_whole=$(($(wc -l <"$TMP/whole.rows") - 1))

: >"$TMP/union.body"
for ((k = 0; k < n_shards; k++)); do
	mxc "shard$k" 300 scan --db "$TMP/shard$k" --resolver "$UNBOUND_ADDR" \
		--probes none --shard "$k/$n_shards" "${inputs[@]}"
	expect_rc "shard$k" 0
	export_db "$TMP/shard$k" domains csv "$TMP/shard$k.csv"
	csvtool check-domains "$TMP/shard$k.csv"
	csvtool drop "$TMP/shard$k.csv" run_id,scanned_at >"$TMP/shard$k.rows"
	if ! cmp -s <(head -n 1 "$TMP/shard$k.rows") <(head -n 1 "$TMP/whole.rows"); then
		fail "shard $k exports other columns than the whole scan"
	fi
	n=$(($(wc -l <"$TMP/shard$k.rows") - 1))
	# A stable hash puts about a third in each shard; allow a wide margin.
	if ((n * n_shards * 2 < n_whole || n * n_shards > n_whole * 2)); then
		fail "shard $k/$n_shards holds $n of $n_whole domains"
	fi
	tail -n +2 "$TMP/shard$k.rows" >>"$TMP/union.body"
	note "shard $k/$n_shards: $n domains"
done

# Disjoint: no domain in two shards.
dups=$(cut -f1 "$TMP/union.body" | sort | uniq -d | head -n 5)
[[ -z $dups ]] || fail "domains in more than one shard: $dups"

# Union equals the whole scan (all columns but run_id, scanned_at).
tail -n +2 "$TMP/whole.rows" >"$TMP/whole.body"
sort -o "$TMP/union.body" "$TMP/union.body"
if ! diff -u "$TMP/whole.body" "$TMP/union.body" >"$TMP/union.diff"; then
	head -n 40 "$TMP/union.diff" >&2
	fail "the union of the shards differs from the single scan"
fi
note "ok: $n_shards disjoint shards, union = single scan ($n_whole domains)"
