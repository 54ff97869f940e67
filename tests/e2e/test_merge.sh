#!/bin/bash
# test_merge.sh - mxcensus merge joins the stores of shards into the store of
# one scan.
#
# Scans the world's bulk list once whole and once as shards 0/3, 1/3, 2/3,
# merges the three shard stores, and checks that the merged store exports
# the same domains and hosts as the single scan in every column that does
# not depend on when or in which run a record was made (domains: run_id,
# scanned_at; hosts: probed_at), that each domain keeps the run id of the
# shard that scanned it, and that report reads the merge as one run. Then
# the command's contract: running the same merge again does nothing, a
# scan refuses to write into a merged store, a store given twice and an
# output that holds a scan are refused (exit 2), a missing shard is merged
# with a warning naming it, and a store a running scan is writing is
# refused (exit 1) while that scan runs.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

n_shards=3

mxc whole 300 scan --db "$TMP/whole" --resolver "$UNBOUND_ADDR" --probes none \
	--progress none "$BULK_LIST"
expect_rc whole 0
shards=()
for ((k = 0; k < n_shards; k++)); do
	mxc "shard$k" 300 scan --db "$TMP/shard$k" --resolver "$UNBOUND_ADDR" \
		--probes none --progress none --shard "$k/$n_shards" "$BULK_LIST"
	expect_rc "shard$k" 0
	shards+=("$TMP/shard$k")
done

mxc merge 300 merge --out "$TMP/merged" "${shards[@]}"
expect_rc merge 0
if grep -q "warning" "$TMP/merge.err"; then
	cat "$TMP/merge.err" >&2
	fail "a merge of all shards of one scan warned"
fi

# The exports of the merge equal those of the single scan, time aside.
for what in domains hosts; do
	case $what in
	domains) timecols=run_id,scanned_at ;;
	hosts) timecols=probed_at ;;
	esac
	for db in whole merged; do
		export_db "$TMP/$db" "$what" csv "$TMP/$db.$what.csv"
		csvtool drop "$TMP/$db.$what.csv" "$timecols" >"$TMP/$db.$what.rows"
	done
	n=$(($(wc -l <"$TMP/whole.$what.rows") - 1))
	((n > 0)) || fail "the single scan exported no $what"
	head -n 1 "$TMP/whole.$what.rows" >"$TMP/whole.$what.sorted"
	head -n 1 "$TMP/merged.$what.rows" >"$TMP/merged.$what.sorted"
	tail -n +2 "$TMP/whole.$what.rows" | sort >>"$TMP/whole.$what.sorted"
	tail -n +2 "$TMP/merged.$what.rows" | sort >>"$TMP/merged.$what.sorted"
	if ! diff -u "$TMP/whole.$what.sorted" "$TMP/merged.$what.sorted" >"$TMP/$what.diff"; then
		head -n 40 "$TMP/$what.diff" >&2
		fail "the merged $what differ from the single scan's"
	fi
	note "$what: merge = single scan ($n rows)"
done

# Each domain keeps the run of the shard that scanned it.
for ((k = 0; k < n_shards; k++)); do
	export_db "$TMP/shard$k" domains csv "$TMP/shard$k.csv"
	csvtool project "$TMP/shard$k.csv" domain,run_id >>"$TMP/shards.runs"
done
sort -o "$TMP/shards.runs" "$TMP/shards.runs"
csvtool project "$TMP/merged.domains.csv" domain,run_id >"$TMP/merged.runs"
cmp -s "$TMP/shards.runs" "$TMP/merged.runs" ||
	fail "the merged domains do not keep their shards' run ids"

# report reads the merge as the store's run.
mxc report 120 report --db "$TMP/merged"
expect_rc report 0
grep -q "merge" "$TMP/report.out" || fail "report does not name the merge run"

# The same merge again: nothing to do.
mxc again 60 merge --out "$TMP/merged" "${shards[@]}"
expect_rc again 0
grep -q "nothing to do" "$TMP/again.err" || fail "a repeated merge did not say it had nothing to do"

# A merged store is not scanned into.
mxc scan-merged 60 scan --db "$TMP/merged" --resolver "$UNBOUND_ADDR" --probes none \
	--progress none "$BULK_LIST"
expect_rc scan-merged 2

# Refusals name what is wrong and leave no output.
mxc twice 60 merge --out "$TMP/twice" "$TMP/shard0" "$TMP/shard1" "$TMP/shard1"
expect_rc twice 2
grep -q "same store" "$TMP/twice.err" || fail "a store given twice: $(cat "$TMP/twice.err")"
[[ ! -e $TMP/twice ]] || fail "a refused merge left $TMP/twice behind"
mxc onto-scan 60 merge --out "$TMP/shard2" "$TMP/shard0" "$TMP/shard1"
expect_rc onto-scan 2
grep -q "shard2" "$TMP/onto-scan.err" || fail "an output holding a scan: $(cat "$TMP/onto-scan.err")"
mxc usage 10 merge "$TMP/shard0"
expect_rc usage 2

# A missing shard is merged, with a warning naming it.
mxc partial 120 merge --out "$TMP/partial" "$TMP/shard0" "$TMP/shard2"
expect_rc partial 0
grep -q "warning.*1/3" "$TMP/partial.err" || fail "no warning names the missing shard 1/3"

# A store being written by a running scan is refused. The scan asks a
# resolver that never answers, so it is still running while we merge.
dead=$(free_udp_port)
"$MXCENSUS" scan --db "$TMP/busy" --resolver "127.0.0.1:$dead" --timeout 2000 \
	--retries 5 --probes none --progress none "$BULK_LIST" \
	>"$TMP/busy.out" 2>"$TMP/busy.err" &
busy_pid=$!
for ((i = 0; i < 100; i++)); do
	[[ -e $TMP/busy/data.mdb ]] && break
	sleep 0.1
done
[[ -e $TMP/busy/data.mdb ]] || { kill "$busy_pid"; fail "the busy scan did not open its store"; }
mxc locked 60 merge --out "$TMP/locked" "$TMP/shard0" "$TMP/busy"
kill -TERM "$busy_pid" 2>/dev/null || true
wait "$busy_pid" || true
expect_rc locked 1
grep -q "$TMP/busy.*being written" "$TMP/locked.err" ||
	fail "a store being written: $(cat "$TMP/locked.err")"
note "ok: merge of $n_shards shards = single scan; repeat, refusals and warnings as documented"
