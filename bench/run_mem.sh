#!/bin/bash
# run_mem.sh - the memory of `mxcensus scan` on a population, split into the
# scanner's own (anonymous) pages and the pages of the LMDB map, for one or
# more builds side by side.
#
#   bench/run_mem.sh [-r REPS] N BINARY...
#
# NSD serves the cached population bench/out/N (made by run_dns.sh or
# gen_population.py; this script never generates one) on 127.0.0.1; each
# BINARY then scans it with `--probes none --no-validate` into a fresh store,
# the binaries alternating, REPS rounds (default 1). Per run it prints:
#   domains/s, user+sys CPU seconds, peak RSS (/usr/bin/time, what the
#   issue's target counts), and the peaks of RssAnon and RssFile from
#   /proc/PID/status sampled every 0.1 s (RssFile: pages of data.mdb mapped
#   into the process), and the size of the store.
#
# Run it under the machine-wide benchmark lock:
#   flock /work/bench.lock bench/run_mem.sh 1000000 old/mxcensus new/mxcensus
# Environment: MXC_BENCH_PORT (default 26850), MXC_BENCH_NSD_SERVERS (2),
# MXC_MEM_RUN_DIR (default /tmp/mxc-mem-$USER), MXC_BENCH_SCAN_ARGS (extra
# scan arguments; default "--qps 0", no pacing, as run_dns.sh's figures). NSD is stopped by its PID however the script exits.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
OUT=$HERE/out
PORT=${MXC_BENCH_PORT:-26850}
NSD_SERVERS=${MXC_BENCH_NSD_SERVERS:-2}
RUN_DIR=${MXC_MEM_RUN_DIR:-/tmp/mxc-mem-${USER:-root}}
read -r -a SCAN_EXTRA <<<"${MXC_BENCH_SCAN_ARGS:---qps 0}"

die() {
	echo "run_mem.sh: $*" >&2
	exit 1
}
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

reps=1
if [[ ${1:-} == -r ]]; then
	reps=${2:?}
	shift 2
fi
(($# >= 2)) || die "usage: run_mem.sh [-r REPS] N BINARY..."
n=$1
shift
pop=$OUT/$n
[[ -s $pop/meta.json && -s $pop/bench.zone ]] ||
	die "no cached population in $pop (bench/run_dns.sh $n makes one)"
for b in "$@"; do
	[[ -x $b ]] || die "$b is not executable"
done

trap stop_nsd EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$RUN_DIR"
start_nsd "$pop/bench.zone" "$RUN_DIR/nsd"

# sample PID FILE: peaks of RssAnon and RssFile (kB) until PID exits.
sample() {
	local pid=$1 file=$2 a=0 f=0 va vf
	while kill -0 "$pid" 2>/dev/null; do
		read -r va vf < <(awk '/^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
			END { print a + 0, f + 0 }' "/proc/$pid/status" 2>/dev/null ||
			echo "0 0")
		((va > a)) && a=$va
		((vf > f)) && f=$vf
		sleep 0.1
	done
	echo "$a $f" >"$file"
}

run_one() {
	local bin=$1 run=$2 tpid child i spid rc=0
	rm -rf "$run"
	mkdir -p "$run"
	/usr/bin/time -f '%e %U %S %M' -o "$run/time.out" "$bin" scan --probes none \
		--no-validate --resolver "127.0.0.1:$PORT" --db "$run/db" \
		"${SCAN_EXTRA[@]}" "$pop/domains.txt" >"$run/scan.out" 2>"$run/scan.err" &
	tpid=$!
	child=
	for ((i = 0; i < 100; i++)); do
		child=$(cat /proc/"$tpid"/task/*/children 2>/dev/null | awk '{ print $1 }')
		[[ -z $child ]] || break
		sleep 0.01
	done
	echo "0 0" >"$run/peaks.out"
	spid=
	if [[ -n $child ]]; then
		sample "$child" "$run/peaks.out" &
		spid=$!
	fi
	wait "$tpid" || rc=$?
	[[ -z $spid ]] || wait "$spid" || true
	((rc == 0)) || die "$bin exited with $rc; see $run/scan.err"
	read -r wall usr sys maxrss <"$run/time.out"
	read -r anon file <"$run/peaks.out"
	done_n=$(awk '/ domains stored in / {
		for (i = 1; i <= NF; i++) if ($i == "stored") { print $(i - 2); exit } }' \
		"$run/scan.err")
	awk -v b="$bin" -v w="$wall" -v u="$usr" -v s="$sys" -v m="$maxrss" \
		-v a="$anon" -v f="$file" -v d="${done_n:-0}" \
		-v st="$(du -sm "$run/db" | cut -f1)" 'BEGIN {
		printf "%-50s %8.0f dom/s  cpu %6.1f s  peak RSS %5d MiB  anon %4d MiB  file %5d MiB  store %5d MiB\n",
			b, d / w, u + s, m / 1024, a / 1024, f / 1024, st }'
	rm -rf "$run/db"
}

echo "population $n, NSD server-count $NSD_SERVERS on 127.0.0.1:$PORT"
for ((r = 1; r <= reps; r++)); do
	i=0
	for b in "$@"; do
		run_one "$b" "$RUN_DIR/run-$i"
		i=$((i + 1))
	done
done
