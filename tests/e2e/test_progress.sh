#!/bin/bash
# test_progress.sh - progress lines on a non-terminal stderr, and the summary.
#
# A scan paced to take about 7 s (the bulk list at --qps 2200) with stderr
# redirected to a file prints a progress line every 5 s: domains done, rate,
# queries sent per second, in flight, share done and ETA; then the run
# summary with the counts by mx_status and the DNS counters.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

mxc run 120 scan --db "$TMP/db" --resolver "$UNBOUND_ADDR" --probes none \
	--qps 2200 "$BULK_LIST"
expect_rc run 0
line='^mxcensus: progress: [0-9]+ done, [0-9]+ skipped, [0-9]+ invalid lines, [0-9]+ domains/s, [0-9]+ queries/s sent, [0-9]+ in flight, [0-9]+ timeouts, [0-9.]+% done, ETA [0-9hms-]+$'
n=$(grep -cE "$line" "$TMP/run.err" || true)
((n >= 1)) || { cat "$TMP/run.err" >&2; fail "no progress line on stderr"; }
# No live-bar escape sequences when stderr is not a terminal.
! grep -q $'\r' "$TMP/run.err" || fail "a carriage return (live bar) went to a file"
grep -qE "^mxcensus: info: run .*: [0-9]+ domains stored in" "$TMP/run.err" ||
	fail "no run summary"
grep -qE "^mxcensus: info: mx_status: ok [0-9]+" "$TMP/run.err" || fail "no mx_status summary"
grep -qE "^mxcensus: info: dns: [0-9]+ questions" "$TMP/run.err" || fail "no DNS summary"
note "ok: $n progress lines"
