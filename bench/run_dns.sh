#!/bin/bash
# run_dns.sh - how close mxcensus' DNS pipeline comes to the server's ceiling.
#
#   bench/run_dns.sh [N]       one population of N domains (default 100000)
#   bench/run_dns.sh --rss     100,000 then 1,000,000 domains, and the ratio
#                              of mxcensus' peak RSS between the two (and of
#                              its anonymous memory, which excludes the
#                              LMDB map)
#
# For a population made by gen_population.py (cached in bench/out/N/), NSD
# serves the zone on a loopback port, authoritatively: there is no recursive
# resolver in between, so both tools measure their own pipeline against the
# same server. First dnsperf replays exactly the questions mxcensus would ask
# (queries.txt) for DNSPERF_SECONDS, which gives the ceiling in queries/s;
# then `mxcensus scan --probes none --no-validate --qps 0` (the DNS stage
# alone, unpaced: the ceiling is what is measured; bench/run_dnssec.sh
# measures validation) runs the population under /usr/bin/time -v. Printed: dnsperf queries/s and lost; mxcensus domains/s,
# queries/s sent, answers lost (timed-out attempts), peak RSS, and the ratio
#   mxcensus domains/s / (dnsperf queries/s / queries per domain)
# i.e. the share of the ceiling mxcensus reaches (1.0 = as fast as dnsperf).
#
# Loopback only; NSD runs as the invoking user (root on the project's
# machines) with every file under bench/out/. Environment:
#   MXCENSUS              the binary (default: scanner/mxcensus in
#                         build-release/ inside or beside the source tree);
#                         use a Release build: sanitizers cost several times
#   MXC_BENCH_PORT        NSD's port on 127.0.0.1 (default 53600)
#   MXC_BENCH_NSD_SERVERS NSD server-count (default 2; see README.md)
#   DNSPERF_SECONDS       dnsperf's run time (default 20)
#   DNSPERF_CLIENTS       dnsperf -c (default 8)
#   DNSPERF_OUTSTANDING   dnsperf -q (default 1000)
#   DNSPERF_THREADS       dnsperf -T (default 2)
#   DNSPERF_MAX_QPS       dnsperf -Q (default: none)
#   MXC_BENCH_SCAN_ARGS   extra arguments for mxcensus scan, after
#                         "--qps 0" (e.g. "--concurrency 4000", or
#                         "--qps 5000" for the default pacing)
# NSD is stopped by its PID when the script exits, however it exits.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
OUT=$HERE/out
PORT=${MXC_BENCH_PORT:-53600}
NSD_SERVERS=${MXC_BENCH_NSD_SERVERS:-2}
DP_SECONDS=${DNSPERF_SECONDS:-20}
DP_CLIENTS=${DNSPERF_CLIENTS:-8}
DP_OUTSTANDING=${DNSPERF_OUTSTANDING:-1000}
DP_THREADS=${DNSPERF_THREADS:-2}
DP_MAX_QPS=${DNSPERF_MAX_QPS:-}
read -r -a SCAN_EXTRA <<<"${MXC_BENCH_SCAN_ARGS:-}"

die() {
	echo "run_dns.sh: $*" >&2
	exit 1
}
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

trap stop_nsd EXIT
trap 'exit 130' INT
trap 'exit 143' TERM



meta() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
		"$1/meta.json" "$2"
}


# Prints "qps lost sent completed".
run_dnsperf() {
	local pop=$1 run=$2 args
	args=(-s 127.0.0.1 -p "$PORT" -d "$pop/queries.txt" -l "$DP_SECONDS"
		-c "$DP_CLIENTS" -q "$DP_OUTSTANDING" -T "$DP_THREADS")
	[[ -n $DP_MAX_QPS ]] && args+=(-Q "$DP_MAX_QPS")
	dnsperf "${args[@]}" >"$run/dnsperf.out" 2>&1 ||
		die "dnsperf failed: $(tail -n 5 "$run/dnsperf.out")"
	awk '
		/Queries sent:/ { sent = $3 }
		/Queries completed:/ { done = $3 }
		/Queries lost:/ { lost = $3 }
		/Queries per second:/ { qps = $4 }
		END { printf "%s %s %s %s\n", qps, lost, sent, done }
	' "$run/dnsperf.out"
}

# sample_anon PID FILE: until PID exits, write the largest RssAnon (kB) it
# had, sampled every 0.2 s. Peak RSS alone misleads here: LMDB maps the
# store, and every page of it the scan touched counts as resident, so RSS
# grows with the store while the scanner's own (anonymous) memory need not.
sample_anon() {
	local pid=$1 file=$2 max=0 v
	while kill -0 "$pid" 2>/dev/null; do
		v=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		[[ -n $v ]] && ((v > max)) && max=$v
		sleep 0.2
	done
	echo "$max" >"$file"
}

# Prints "domains_per_s queries_per_s timeouts gave_up rss_kb wall_s rc anon_kb".
run_mxcensus() {
	local bin=$1 pop=$2 run=$3 rc=0 tpid child i spid
	rm -rf "$run/db"
	/usr/bin/time -v -o "$run/time.out" "$bin" scan --probes none --no-validate --qps 0 \
		--resolver "127.0.0.1:$PORT" --db "$run/db" "${SCAN_EXTRA[@]}" \
		"$pop/domains.txt" >"$run/scan.out" 2>"$run/scan.err" &
	tpid=$!
	# The scanner is the only child of time(1).
	child=
	for ((i = 0; i < 50; i++)); do
		child=$(cat /proc/"$tpid"/task/*/children 2>/dev/null | awk '{ print $1 }')
		[[ -z $child ]] || break
		sleep 0.02
	done
	echo 0 >"$run/anon.out"
	spid=
	if [[ -n $child ]]; then
		sample_anon "$child" "$run/anon.out" &
		spid=$!
	fi
	wait "$tpid" || rc=$?
	[[ -z $spid ]] || wait "$spid" || true
	awk -v rc="$rc" -v anon="$(<"$run/anon.out")" '
		FNR == 1 { file++ }
		file == 1 && /Maximum resident set size/ { rss = $NF }
		file == 1 && /Elapsed \(wall clock\)/ {
			n = split($NF, t, ":"); wall = 0
			for (i = 1; i <= n; i++) wall = wall * 60 + t[i]
		}
		file == 2 && / domains stored in / {
			# "... N domains stored in T s ...; M already stored"
			for (i = 1; i <= NF; i++)
				if ($i == "stored") { done = $(i - 2); break }
		}
		file == 2 && /dns: .* questions/ {
			for (i = 1; i <= NF; i++) {
				v = $(i - 1); w = $i; sub(/,$/, "", w)
				if (w == "sent") sent = v
				if (w == "timeouts") to = v
				if (w == "gave" && $(i + 1) ~ /^up/) gu = v
			}
		}
		END {
			if (wall <= 0) wall = 1e-9
			printf "%.0f %.0f %d %d %d %.2f %d %d\n", done / wall, sent / wall,
				to, gu, rss, wall, rc, anon
		}
	' "$run/time.out" "$run/scan.err"
}

# One population: prints a block of figures; sets RSS_KB.
bench_one() {
	local n=$1 pop run qpd bin dp mx
	pop=$(population "$n")
	run=$OUT/run-$n
	rm -rf "$run"
	qpd=$(meta "$pop" queries_per_domain)
	start_nsd "$pop/bench.zone" "$run"

	read -r dp_qps dp_lost dp_sent _ < <(run_dnsperf "$pop" "$run")
	echo "population: $n domains, $(meta "$pop" mx_hosts) MX hosts," \
		"$(meta "$pop" queries) queries ($qpd per domain)"
	echo "nsd: server-count $NSD_SERVERS on 127.0.0.1:$PORT"
	echo "dnsperf (-c $DP_CLIENTS -q $DP_OUTSTANDING -T $DP_THREADS" \
		"${DP_MAX_QPS:+-Q $DP_MAX_QPS }-l $DP_SECONDS): $dp_qps queries/s," \
		"$dp_lost lost of $dp_sent sent"
	dp="$dp_qps"

	bin=$(find_mxcensus || true)
	RSS_KB=
	ANON_KB=
	if [[ -z $bin ]]; then
		echo "mxcensus: not built (set MXCENSUS); figures pending"
		stop_nsd
		return 0
	fi
	read -r m_dps m_qps m_to m_gu m_rss m_wall m_rc m_anon \
		< <(run_mxcensus "$bin" "$pop" "$run")
	stop_nsd
	if ((m_rc != 0)); then
		echo "mxcensus: exit status $m_rc; see $run/scan.err"
		tail -n 5 "$run/scan.err"
		return 1
	fi
	mx=$(awk -v d="$m_dps" -v q="$dp" -v k="$qpd" \
		'BEGIN { if (q > 0) printf "%.2f", d / (q / k); else print "n/a" }')
	echo "mxcensus ($bin): $m_dps domains/s, $m_qps queries/s sent," \
		"$m_to answers lost (timed-out attempts), $m_gu gave up," \
		"peak RSS $((m_rss / 1024)) MiB (anonymous $((m_anon / 1024)) MiB," \
		"store $(du -sm "$run/db" | cut -f1) MiB), ${m_wall}s"
	echo "ratio: mxcensus domains/s / (dnsperf qps / queries per domain) = $mx"
	RSS_KB=$m_rss
	ANON_KB=$m_anon
}

case ${1:-} in
--rss)
	bench_one 100000
	rss_small=$RSS_KB anon_small=$ANON_KB
	echo
	bench_one 1000000
	rss_large=$RSS_KB anon_large=$ANON_KB
	if [[ -n $rss_small && -n $rss_large ]]; then
		echo
		awk -v a="$rss_small" -v b="$rss_large" -v c="$anon_small" \
			-v d="$anon_large" 'BEGIN {
			printf "peak RSS: %d MiB at 100k, %d MiB at 1M: ratio %.2f\n",
				a / 1024, b / 1024, b / a
			if (c > 0)
				printf "anonymous: %d MiB at 100k, %d MiB at 1M: ratio %.2f\n",
					c / 1024, d / 1024, d / c }'
	fi
	;;
-h | --help)
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
	;;
*)
	n=${1:-100000}
	if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > 1000000)); then
		die "usage: run_dns.sh [N (1..1000000)] | --rss"
	fi
	bench_one "$n"
	;;
esac
