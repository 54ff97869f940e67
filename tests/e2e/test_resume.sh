#!/bin/bash
# test_resume.sh - a scan killed with SIGKILL resumes where it stopped.
#
# Scans the world's bulk.test list (3000 generated domains) paced by --qps so
# that it cannot finish in a second, kills it with SIGKILL (by its PID)
# after 1.5 seconds (the store commits at least once a second), exports what the killed store holds, reruns the very
# same command, and checks that
#  - the killed store is readable (export succeeds) and holds no duplicate;
#  - the rerun exits 0 and the export has every input name exactly once;
#  - every row committed before the kill is in the final export unchanged
#    (same run_id and scanned_at): the rerun skipped it instead of
#    scanning it again.
# MXC_RESUME_KILL_AFTER (seconds, default 1.5) and MXC_RESUME_QPS (default
# 1000) tune the kill point and the pace.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

kill_after=${MXC_RESUME_KILL_AFTER:-1.5}
qps=${MXC_RESUME_QPS:-1000}
db=$TMP/db
unique_names "$BULK_LIST" >"$TMP/input.names"
n_input=$(wc -l <"$TMP/input.names")
((n_input >= 1000)) || fail "the bulk list has only $n_input names"

scan_args=(scan --db "$db" --resolver "$UNBOUND_ADDR" --trust-anchor "$TRUST_ANCHOR" --probes none
	--qps "$qps" "$BULK_LIST")

# First run, in the background so that we hold its PID.
"$MXCENSUS" "${scan_args[@]}" >"$TMP/run1.out" 2>"$TMP/run1.err" &
pid=$!
sleep "$kill_after"
if ! kill -0 "$pid" 2>/dev/null; then
	rc=0
	wait "$pid" || rc=$?
	tail -n 20 "$TMP/run1.err" >&2
	fail "the first run ended (status $rc) before the kill at ${kill_after}s;" \
		"with --qps $qps it should take ~$((n_input * 5 / qps))s"
fi
kill -KILL "$pid"
rc=0
# bash reports the kill on stderr; the status says it all.
wait "$pid" 2>/dev/null || rc=$?
((rc == 137)) || fail "the killed scan exited $rc, not by SIGKILL"

# What the killed run had committed.
export_db "$db" domains csv "$TMP/partial.csv"
csvtool check-domains "$TMP/partial.csv"
n_partial=$(csvtool count "$TMP/partial.csv")
((n_partial < n_input)) || fail "the killed run had already stored all $n_input domains"
((n_partial > 0)) || note "nothing was committed in the first ${kill_after}s;" \
	"the skip check below is vacuous"

# The same command again, to completion.
mxc run2 300 "${scan_args[@]}"
expect_rc run2 0

export_db "$db" domains csv "$TMP/final.csv"
csvtool check-domains "$TMP/final.csv"
csvtool project "$TMP/final.csv" domain >"$TMP/final.names"
if ! diff -u "$TMP/input.names" "$TMP/final.names" >"$TMP/names.diff"; then
	head -n 40 "$TMP/names.diff" >&2
	fail "after the resume, the exported domains are not exactly the input names"
fi

# Rows committed before the kill must come through unchanged.
cols=domain,run_id,scanned_at,mx_status,mx_hosts
csvtool project "$TMP/partial.csv" "$cols" >"$TMP/partial.rows"
csvtool project "$TMP/final.csv" "$cols" >"$TMP/final.rows"
changed=$(comm -23 "$TMP/partial.rows" "$TMP/final.rows" | wc -l)
if ((changed > 0)); then
	comm -23 "$TMP/partial.rows" "$TMP/final.rows" | head -n 10 >&2
	fail "$changed of the $n_partial rows committed before the kill were" \
		"scanned again (or changed) by the resumed run"
fi

note "ok: $n_partial of $n_input committed before the kill, all kept;" \
	"$(wc -l <"$TMP/final.names") exported once each"
