#!/bin/bash
# test_signals.sh - SIGTERM and SIGINT stop a scan gracefully.
#
# For each signal: start a paced scan of the bulk list, send the signal (to
# the scanner's own PID) once it has committed something, and check that
#  - it exits with 128 + the signal (143 for TERM, 130 for INT) and says why;
#  - it stops promptly (well inside the run's remaining time);
#  - the store exports cleanly with no duplicate, and holds what was done;
#  - running the same command again completes the input, every name once.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

unique_names "$BULK_LIST" >"$TMP/input.names"
n_input=$(wc -l <"$TMP/input.names")

for sig in TERM INT; do
	db=$TMP/db-$sig
	[[ $sig == TERM ]] && want=143 || want=130
	args=(scan --db "$db" --resolver "$UNBOUND_ADDR" --trust-anchor "$TRUST_ANCHOR" --probes none --progress lines
		"$BULK_LIST")

	# Paced so that the signal lands mid-scan; the resume runs unpaced.
	"$MXCENSUS" "${args[@]}" --qps 800 >"$TMP/$sig.out" 2>"$TMP/$sig.err" &
	pid=$!
	sleep 1.5
	kill -0 "$pid" 2>/dev/null || fail "SIG$sig: the scan ended before the signal"
	t0=$(date +%s%N)
	kill -"$sig" "$pid"
	rc=0
	wait "$pid" || rc=$?
	elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
	if ((rc != want)); then
		tail -n 20 "$TMP/$sig.err" >&2
		fail "SIG$sig: exit status $rc, expected $want"
	fi
	grep -q "SIG$sig received" "$TMP/$sig.err" || fail "SIG$sig: no message on stderr"
	# The rest of the input would take seconds at --qps 800; a graceful
	# stop abandons it (generous bound: only a hang fails this).
	((elapsed_ms < 15000)) || fail "SIG$sig: took ${elapsed_ms} ms to stop"

	export_db "$db" domains csv "$TMP/$sig-partial.csv"
	csvtool check-domains "$TMP/$sig-partial.csv"
	n_partial=$(csvtool count "$TMP/$sig-partial.csv")
	((n_partial > 0)) || fail "SIG$sig: nothing was committed before the stop"
	((n_partial < n_input)) || fail "SIG$sig: the scan had already finished"

	mxc "resume-$sig" 300 "${args[@]}"
	expect_rc "resume-$sig" 0
	grep -q "resuming run" "$TMP/resume-$sig.err" || fail "SIG$sig: the rerun did not resume the run"
	export_db "$db" domains csv "$TMP/$sig-final.csv"
	csvtool check-domains "$TMP/$sig-final.csv"
	csvtool project "$TMP/$sig-final.csv" domain >"$TMP/$sig-final.names"
	diff -q "$TMP/input.names" "$TMP/$sig-final.names" >/dev/null ||
		fail "SIG$sig: after the resume the export is not the input, each name once"
	note "SIG$sig: exit $rc after ${elapsed_ms} ms, $n_partial of $n_input kept, resume complete"
done
