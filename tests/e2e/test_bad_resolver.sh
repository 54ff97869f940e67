#!/bin/bash
# test_bad_resolver.sh - a hostile upstream cannot make the scanner accept a
# wrong answer, hang, or crash.
#
# For each mode of tests/world/hostile_dns.py (garbage bytes, wrong ID,
# mismatched question, SERVFAIL, late answers, silence) the scanner is run
# with that server as its only resolver. Every run must finish in bounded
# time with exit 0 and one row per domain. Rows may only say what the
# server could honestly have told: timeout or servfail for the bad modes,
# exactly servfail for the SERVFAIL mode, and for late answers either
# timeout or the server's real MX (nothing else). The server's log must show
# that the scanner did ask it.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

HOSTILE=$MXC_SOURCE_DIR/tests/world/hostile_dns.py
MX_HOST=mx.hostile.test
hostile_pid=
stop_hostile() {
	if [[ -n $hostile_pid ]]; then
		kill "$hostile_pid" 2>/dev/null || true
		wait "$hostile_pid" 2>/dev/null || true
		hostile_pid=
	fi
}
trap stop_hostile EXIT

printf '%s\n' one.test single.test ghost.test >"$TMP/three.txt"

# run_mode TAG MODE ALLOWED_REGEX [EXTRA hostile args...]: TAG names the
# files of this run, ALLOWED_REGEX must match every exported row (domain,
# mx_status, mx_hosts, tab-separated). The scan gets the options in the
# array scan_opts.
run_mode() {
	local tag=$1 mode=$2 allowed=$3 port i start n bad
	shift 3
	rm -f "$TMP/$tag.port"
	python3 "$HOSTILE" --mode "$mode" --mx-host "$MX_HOST" \
		--port-file "$TMP/$tag.port" "$@" >"$TMP/$tag.server.log" 2>&1 &
	hostile_pid=$!
	for ((i = 0; i < 50; i++)); do
		[[ -s $TMP/$tag.port ]] && break
		kill -0 "$hostile_pid" 2>/dev/null ||
			fail "hostile_dns.py --mode $mode exited: $(cat "$TMP/$tag.server.log")"
		sleep 0.1
	done
	[[ -s $TMP/$tag.port ]] || fail "hostile_dns.py --mode $mode did not start"
	port=$(<"$TMP/$tag.port")

	start=$(date +%s)
	mxc "scan-$tag" 240 scan --db "$TMP/db-$tag" \
		--resolver "127.0.0.1:$port" --probes none "${scan_opts[@]}" \
		"$TMP/three.txt"
	stop_hostile
	expect_rc "scan-$tag" 0
	grep -q '^query ' "$TMP/$tag.server.log" ||
		fail "$tag: the scanner never queried the hostile server"

	export_db "$TMP/db-$tag" domains csv "$TMP/$tag.csv"
	csvtool check-domains "$TMP/$tag.csv"
	csvtool project "$TMP/$tag.csv" domain,mx_status,mx_hosts >"$TMP/$tag.rows"
	n=$(wc -l <"$TMP/$tag.rows")
	((n == 3)) || fail "$tag: $n rows exported for 3 domains"
	bad=$(grep -Ev "$allowed" "$TMP/$tag.rows" || true)
	[[ -z $bad ]] || fail "$tag: rows the server cannot have told:"$'\n'"$bad"
	if grep -qF "127.0.0.1:$port" "$TMP/scan-$tag.err"; then
		note "$tag: $(($(date +%s) - start))s; the server is named in the messages"
	else
		note "$tag: $(($(date +%s) - start))s; the messages do not name 127.0.0.1:$port"
	fi
}

tab=$'\t'
# Short timeouts where nothing useful can arrive: the runs take about a
# second instead of the default ~20 s of retries.
scan_opts=(--timeout 300 --retries 1)
fail_rows="^[a-z.]+${tab}(timeout|servfail)${tab}\$"
run_mode garbage garbage "$fail_rows"
run_mode wrongid wrongid "$fail_rows"
run_mode mismatch mismatch "$fail_rows"
run_mode silent silent "^[a-z.]+${tab}timeout${tab}\$"
run_mode servfail servfail "^[a-z.]+${tab}servfail${tab}\$"
# Late but correct: either the scanner waited long enough and took the
# server's one MX, or it gave up. Answers 2 s late with a 0.3 s timeout and
# one retry must all time out; answers 0.3 s late with the default timeout
# (1.5 s) must be taken.
late_rows="^[a-z.]+${tab}(timeout${tab}|ok${tab}10:${MX_HOST//./\\.})\$"
run_mode delay-long delay "^[a-z.]+${tab}timeout${tab}\$" --delay 2
scan_opts=()
run_mode delay-short delay "$late_rows" --delay 0.3
grep -q "${tab}ok${tab}" "$TMP/delay-short.rows" ||
	fail "delay-short: answers 0.3 s late were not accepted; that is a normal RTT"
note "ok"
