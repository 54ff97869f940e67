#!/bin/bash
# run_dnssec.sh - what DNSSEC validation costs mxcensus, against the crypto.
#
#   bench/run_dnssec.sh [options] [N]     N domains (default 100000)
#     --alg ALG    ecdsa (ECDSAP256SHA256, the default), rsa (RSASHA256,
#                  2048-bit keys), ed25519, or all (one run each)
#     --reps R     repetitions of every measurement (default 3); min and
#                  median are printed
#     --breakdown  also time each layer of a verification once
#                  (mxc_verify_speed --breakdown: validator, ldns, EVP with
#                  kept keys, bare EVP, key conversion), in microseconds
#
# The population of gen_population.py (cached in bench/out/N/) is signed
# with ldns-signzone (a KSK and a ZSK of the algorithm, NSEC3 without
# opt-out, no salt, 0 iterations as RFC 9276 asks; cached in
# bench/out/N/signed-ALG/ and signed again when its signatures have less
# than a week left) and served by NSD on a loopback port. Then, R times,
# interleaved so that the machine's load falls on both sides alike:
#
#   a. mxc_verify_speed on the signed zone (the validator's signature
#      verifications per CPU-second, every answer judged through
#      mxc_validator_check) and `openssl speed` verify/s for the same
#      algorithm and key size; ratio = validator / openssl (target >= 0.8);
#   b. `mxcensus scan --probes none` of the population with validation
#      (--trust-anchor: the DS of bench.'s KSK) and with --no-validate, same
#      store settings, fresh store each time; domains/s, CPU seconds and
#      timed-out questions; ratio = validating / not validating domains/s
#      (target >= 0.7), and the same for CPU seconds per domain (less
#      sensitive to a neighbour's load than wall time);
#      Each scan also reports NSD's CPU seconds over it (bench/lib.sh
#      nsd_cpu: NSD and every process it forked) and a "CPU s:" line: what
#      validation adds to mxcensus's CPU (V), the crypto floor F (the
#      scan's signature verifications at `openssl speed`'s verify/s of the
#      repetition), V - F, the total CPU ratio (mxcensus + NSD without /
#      with) and the most it could be if V were F; see cpu_budget below and
#      bench/README.md. Medians of all of it follow the (b) summary;
#   c. from the validating scan's summary: answers judged, signature
#      verifications, RRset verifications saved by the cache, against the
#      number of distinct signed RRsets the scan could need
#      (count_rrsets.py: every positive answer's RRset, every distinct NSEC3
#      record of the denials, the DNSKEY RRset). More verifications than
#      distinct RRsets means some RRset was verified again.
#
# Loopback only; NSD runs as the invoking user with every file under
# bench/out/. Environment:
#   MXCENSUS              the binary (default: scanner/mxcensus in
#                         build-release/ inside or beside the source tree)
#   MXC_VERIFY_SPEED      mxc_verify_speed (default: bench/ beside mxcensus)
#                         Use a Release build: sanitizers cost several times.
#   MXC_BENCH_PORT        NSD's port on 127.0.0.1 (default 53610)
#   MXC_BENCH_NSD_SERVERS NSD server-count (default 2)
#   MXC_BENCH_SCAN_ARGS   extra arguments for both scans (default
#                         "--qps 0": unpaced, or both would run at the pace)
#   VERIFY_ROUNDS         mxc_verify_speed rounds over the zone (default:
#                         enough for about 50,000 verifications, at least 1)
#   OPENSSL_SECONDS       openssl speed -seconds (default 3)
#   MXCENSUS_BASE         another mxcensus (say, main's) to compare side by
#                         side: each repetition also times its validating
#                         scan, right after the other two, and prints its
#                         ratio against the same --no-validate scan
#   MXC_VERIFY_SPEED_BASE the same for mxc_verify_speed
# NSD is stopped by its PID when the script exits, however it exits.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
OUT=$HERE/out
PORT=${MXC_BENCH_PORT:-53610}
NSD_SERVERS=${MXC_BENCH_NSD_SERVERS:-2}
OSSL_SECONDS=${OPENSSL_SECONDS:-3}
read -r -a SCAN_EXTRA <<<"${MXC_BENCH_SCAN_ARGS---qps 0}"

die() {
	echo "run_dnssec.sh: $*" >&2
	exit 1
}
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

trap stop_nsd EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


find_verify_speed() {
	local bin=$1 v
	if [[ -n ${MXC_VERIFY_SPEED:-} ]]; then
		[[ -x $MXC_VERIFY_SPEED ]] || die "MXC_VERIFY_SPEED=$MXC_VERIFY_SPEED is not executable"
		echo "$MXC_VERIFY_SPEED"
		return
	fi
	v=$(dirname "$(dirname "$bin")")/bench/mxc_verify_speed
	[[ -x $v ]] || die "no $v: build target mxc_verify_speed or set MXC_VERIFY_SPEED"
	echo "$v"
}


# alg_info ALG: "DNSSEC-name keygen-bits openssl-speed-name"
alg_info() {
	case $1 in
	ecdsa) echo "ECDSAP256SHA256 - ecdsap256" ;;
	rsa) echo "RSASHA256 2048 rsa2048" ;;
	ed25519) echo "ED25519 - ed25519" ;;
	*) die "unknown algorithm $1 (ecdsa, rsa, ed25519, all)" ;;
	esac
}

# sign POP ALG: signs POP/bench.zone once; prints the directory holding
# bench.zone.signed and anchor.ds (the DS of the KSK).
sign() {
	local pop=$1 alg=$2 dir=$1/signed-$2 name bits ksk zsk now exp
	read -r name bits _ < <(alg_info "$alg")
	now=$(date +%s)
	if [[ -s $dir/bench.zone.signed && -s $dir/expires && ! $pop/bench.zone -nt $dir/expires ]] &&
		(($(<"$dir/expires") > now + 7 * 86400)); then
		echo "$dir"
		return
	fi
	echo "signing $pop/bench.zone with $name ..." >&2
	rm -rf "$dir"
	mkdir -p "$dir"
	local kb=()
	[[ $bits == - ]] || kb=(-b "$bits")
	ksk=$(cd "$dir" && ldns-keygen -r /dev/urandom -a "$name" "${kb[@]}" -k bench.)
	zsk=$(cd "$dir" && ldns-keygen -r /dev/urandom -a "$name" "${kb[@]}" bench.)
	exp=$((now + 30 * 86400))
	# Inception an hour back: the validator allows skew, but need not.
	(cd "$dir" && ldns-signzone -n -t 0 -i $((now - 3600)) -e "$exp" \
		-f "$dir/bench.zone.signed" -o bench. "$pop/bench.zone" "$ksk" "$zsk") ||
		die "ldns-signzone failed"
	cp "$dir/$ksk.ds" "$dir/anchor.ds"
	echo "$exp" >"$dir/expires"
	echo "$dir"
}


# Prints verify/s of `openssl speed` for one algorithm (machine-readable
# output: the last field of the +F line is verifications per second).
openssl_verify() {
	openssl speed -seconds "$OSSL_SECONDS" -mr "$1" 2>/dev/null |
		awk -F: '/^\+F[0-9]*:/ { v = $NF } END { if (v == "") exit 1; printf "%.0f\n", v }'
}

# Prints verifications per CPU-second of mxc_verify_speed.
validator_verify() {
	local vs=$1 zone=$2 rounds=$3 out
	out=$("$vs" "$zone" "$rounds") || die "mxc_verify_speed failed: $out"
	awk '{ for (i = 1; i < NF; i++) if ($i == "checks_per_cpu_s") print $(i + 1) }' <<<"$out"
}

# Prints "domains_per_s wall_s cpu_s rc timeouts nsd_cpu_s": one scan of
# the population, and the CPU seconds NSD used meanwhile (lib.sh nsd_cpu).
scan_once() {
	local bin=$1 pop=$2 run=$3 tag=$4 rc=0 nsd0 nsd1
	shift 4
	rm -rf "$run/db-$tag"
	nsd0=$(nsd_cpu)
	/usr/bin/time -f '%e %U %S' -o "$run/time-$tag.out" "$bin" scan --probes none \
		--resolver "127.0.0.1:$PORT" --db "$run/db-$tag" "${SCAN_EXTRA[@]}" "$@" \
		"$pop/domains.txt" >"$run/scan-$tag.out" 2>"$run/scan-$tag.err" || rc=$?
	nsd1=$(nsd_cpu)
	awk -v rc="$rc" -v nsd="$(awk -v a="$nsd0" -v b="$nsd1" 'BEGIN { print b - a }')" '
		FNR == 1 { file++ }
		file == 1 { wall = $1; cpu = $2 + $3 }
		file == 2 && / domains stored in / {
			for (i = 1; i <= NF; i++)
				if ($i == "stored") { done = $(i - 2); break }
		}
		file == 2 && /dns: .* questions/ {
			for (i = 2; i <= NF; i++)
				if ($i ~ /^timeouts/) to = $(i - 1)
		}
		END {
			if (wall <= 0) wall = 1e-9
			printf "%.0f %.2f %.2f %d %d %.2f\n", done / wall, wall, cpu, rc, to, nsd
		}
	' "$run/time-$tag.out" "$run/scan-$tag.err"
	rm -rf "$run/db-$tag"
}

# "min median max" of the numbers on stdin.
stats() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "n/a n/a n/a"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s\n", v[1], m, v[NR] }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

# The dnssec: summary line of a scan, as "judged verifications cached zonewalks questions".
dnssec_summary() {
	awk '/dnssec: .* answers judged/ {
		for (i = 1; i <= NF; i++) {
			if ($i == "answers" && $(i + 1) == "judged,") j = $(i - 1)
			if ($i == "signature") s = $(i - 1)
			if ($i == "RRset") c = $(i - 1)
			if ($i == "zone" && $(i + 1) ~ /^walks/) z = $(i - 1)
			if ($i == "DS/DNSKEY") q = $(i - 1)
		}
	} END { printf "%s %s %s %s %s\n", j, s, c, z, q }' "$1"
}

# cpu_budget CPU_VAL CPU_NOVAL NSD_VAL NSD_NOVAL VERIFICATIONS OPENSSL_PER_S WALL_NOVAL
# Prints "cv cn nv nn V F V-F total_ratio bound verifications wall_bound
# wall_idle"
# for one repetition:
#   V      = cv - cn, the CPU validation adds to mxcensus;
#   F      = verifications / openssl verify/s, the crypto floor: what those
#            verifications cost at `openssl speed`'s rate (per CPU-second);
#   total  = (cn + nn) / (cv + nv), mxcensus and NSD together without and
#            with validation: with both cores busy, wall time follows total
#            CPU, so this is what the wall-clock ratio tends to;
#   bound  = (cn + nn) / (cn + nn + F): the same ratio if validation cost
#            nothing but the crypto floor (NSD's work as without validation:
#            both scans ask the same questions with DO=1);
#   wall_bound = wall_noval * cores / (cn + nn + F), at most 1: the
#            wall-clock ratio if, besides, the validating scan kept every
#            core busy (the --no-validate scan need not: it may wait on NSD).
#   wall_idle = wall_noval / (I + (cn + nn + F) / cores), at most 1, where
#            I = wall_noval - (cn + nn) / cores is the time the
#            --no-validate scan left the cores idle (spread over the scan:
#            the loop and NSD waiting on each other): the same, if the
#            validating scan left them idle as long and busy the rest.
cpu_budget() {
	awk -v cv="$1" -v cn="$2" -v nv="$3" -v nn="$4" -v sig="${5:-0}" -v o="$6" \
		-v wn="$7" -v cores="$(nproc)" 'BEGIN {
		f = o > 0 ? sig / o : 0
		V = cv - cn
		t = cv + nv > 0 ? (cn + nn) / (cv + nv) : 0
		b = cn + nn + f > 0 ? (cn + nn) / (cn + nn + f) : 0
		w = cn + nn + f > 0 ? wn * cores / (cn + nn + f) : 0
		idle = wn - (cn + nn) / cores
		if (idle < 0) idle = 0
		wi = cn + nn + f > 0 ? wn / (idle + (cn + nn + f) / cores) : 0
		printf "%.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %d %.2f %.2f\n",
			cv, cn, nv, nn, V, f, V - f, t, b, sig, (w > 1 ? 1 : w), (wi > 1 ? 1 : wi)
	}'
}

# One line of cpu_budget, indented under its repetition ($1: "base" or "").
cpu_budget_line() {
	local who=${1:-}
	awk -v who="$who" '{
		printf "          %sCPU s: mxcensus %s with / %s without, NSD %s / %s;", \
			(who == "" ? "" : who " "), $1, $2, $3, $4
		printf " validation adds %s, crypto floor %s (%d verifications),", $5, $6, $10
		printf " beyond it %s; total CPU ratio %s, at most %s at the floor", $7, $8, $9
		printf " (wall, every core busy: %s; idle as long as without: %s)\n", $11, $12
	}'
}

# The medians of a cpu_budget file; $2 prefixes the label ("base ").
cpu_budget_medians() {
	local f=$1 who=$2 i m=()
	for i in 1 2 3 4 5 6 7 8 9 11 12; do
		m+=("$(cut -d' ' -f$i "$f" | stats | cut -d' ' -f2)")
	done
	printf '   %sCPU budget (medians, seconds)   mxcensus %s with / %s without; NSD %s / %s\n' \
		"$who" "${m[0]}" "${m[1]}" "${m[2]}" "${m[3]}"
	printf '       validation adds %s, of which crypto floor %s, beyond it %s\n' \
		"${m[4]}" "${m[5]}" "${m[6]}"
	printf '       total CPU ratio (mxcensus+NSD, without / with) %s; at most %s if\n' \
		"${m[7]}" "${m[8]}"
	printf '       validation cost only the crypto floor; wall-clock ratio at most %s if\n' "${m[9]}"
	printf '       besides the validating scan kept all %s cores busy; at most %s if\n' \
		"$(nproc)" "${m[10]}"
	printf '       it left them idle as long as the --no-validate scan and busy the rest\n'
}

bench_alg() {
	local n=$1 alg=$2 reps=$3 pop sdir zone run bin vs name bits ossl rounds
	local r v o dv dn cv cn rv rn tv tn nv nn wn out nsig ok=1 bv bd bc brc bt bn bs
	read -r name bits ossl < <(alg_info "$alg")
	bin=$(find_mxcensus) || die "no mxcensus: build it (Release) or set MXCENSUS"
	vs=$(find_verify_speed "$bin")
	pop=$(population "$n")
	sdir=$(sign "$pop" "$alg")
	zone=$sdir/bench.zone.signed
	run=$OUT/dnssec-run-$n-$alg
	rm -rf "$run"
	mkdir -p "$run"
	# About 50,000 verifications (at least one pass): long enough to
	# swamp the start.
	nsig=$(awk '$4 == "RRSIG" { n++ } END { print n + 0 }' "$zone")
	rounds=${VERIFY_ROUNDS:-$(awk -v s="$nsig" \
		'BEGIN { r = int(50000 / s + 0.999); print (r < 1 ? 1 : r) }')}
	start_nsd "$zone" "$run"
	echo "== $name ($alg), population $n domains, $nsig signatures in the zone"
	echo "   nsd server-count $NSD_SERVERS on 127.0.0.1:$PORT; scan args: ${SCAN_EXTRA[*]:-(none)}"
	: >"$run/a" && : >"$run/b" && : >"$run/cpu" && : >"$run/cpu-base"
	for ((r = 1; r <= reps; r++)); do
		v=$(validator_verify "$vs" "$zone" "$rounds")
		o=$(openssl_verify "$ossl") || die "openssl speed $ossl failed"
		echo "$v $o $(ratio "$v" "$o")" >>"$run/a"
		read -r dv _ cv rv tv nv < <(scan_once "$bin" "$pop" "$run" val \
			--trust-anchor "$sdir/anchor.ds")
		((rv == 0)) || die "validating scan exit status $rv; see $run/scan-val.err"
		cp "$run/scan-val.err" "$run/scan-val-$r.err"
		read -r dn wn cn rn tn nn < <(scan_once "$bin" "$pop" "$run" noval --no-validate)
		((rn == 0)) || die "scan --no-validate exit status $rn; see $run/scan-noval.err"
		echo "$dv $dn $(ratio "$dv" "$dn") $cv $cn $(ratio "$cn" "$cv")" >>"$run/b"
		printf '   rep %d: validator %s/s, openssl %s/s (%s); scan %s vs %s domains/s (%s),' \
			"$r" "$v" "$o" "$(ratio "$v" "$o")" "$dv" "$dn" "$(ratio "$dv" "$dn")"
		printf ' CPU %s s vs %s s (%s), timeouts %s vs %s\n' "$cv" "$cn" "$(ratio "$cn" "$cv")" \
			"$tv" "$tn"
		read -r _ out _ < <(dnssec_summary "$run/scan-val-$r.err")
		cpu_budget "$cv" "$cn" "$nv" "$nn" "$out" "$o" "$wn" | tee -a "$run/cpu" | cpu_budget_line
		if [[ -n ${MXC_VERIFY_SPEED_BASE:-} ]]; then
			bv=$(validator_verify "$MXC_VERIFY_SPEED_BASE" "$zone" "$rounds")
			printf '          base validator %s/s (%s against the same openssl figure)\n' \
				"$bv" "$(ratio "$bv" "$o")"
		fi
		if [[ -n ${MXCENSUS_BASE:-} ]]; then
			read -r bd _ bc brc bt bn < <(scan_once "$MXCENSUS_BASE" "$pop" "$run" base \
				--trust-anchor "$sdir/anchor.ds")
			((brc == 0)) || die "base validating scan exit status $brc; see $run/scan-base.err"
			printf '          base scan %s domains/s (%s), CPU %s s (%s), timeouts %s\n' \
				"$bd" "$(ratio "$bd" "$dn")" "$bc" "$(ratio "$cn" "$bc")" "$bt"
			read -r _ bs _ < <(dnssec_summary "$run/scan-base.err")
			cpu_budget "$bc" "$cn" "$bn" "$nn" "$bs" "$o" "$wn" | tee -a "$run/cpu-base" |
				cpu_budget_line base
		fi
	done
	stop_nsd

	if ((BREAKDOWN)); then
		out=$("$vs" --breakdown "$zone" "$(((rounds + 4) / 5))") ||
			die "mxc_verify_speed --breakdown failed: $out"
		echo "   breakdown (µs of CPU per verification): $(sed -n 's/^breakdown_us //p' <<<"$out")"
	fi
	echo "   (a) signature verifications/s       min / median / max"
	printf '       validator (mxc_verify_speed)    %s\n' "$(cut -d' ' -f1 "$run/a" | stats | sed 's/ / \/ /g')"
	printf '       openssl speed %-17s %s\n' "$ossl" "$(cut -d' ' -f2 "$run/a" | stats | sed 's/ / \/ /g')"
	read -r _ out _ < <(cut -d' ' -f3 "$run/a" | stats)
	printf '       ratio                           %s  (min %s; target >= 0.8: %s)\n' \
		"$out" "$(cut -d' ' -f3 "$run/a" | stats | cut -d' ' -f1)" \
		"$(awk -v x="$out" 'BEGIN { print (x >= 0.8 ? "met" : "NOT met") }')"
	echo "   (b) scan domains/s                  min / median / max"
	printf '       with validation                 %s\n' "$(cut -d' ' -f1 "$run/b" | stats | sed 's/ / \/ /g')"
	printf '       --no-validate                   %s\n' "$(cut -d' ' -f2 "$run/b" | stats | sed 's/ / \/ /g')"
	printf '       CPU s with / without            %s / %s (medians)\n' \
		"$(cut -d' ' -f4 "$run/b" | stats | cut -d' ' -f2)" "$(cut -d' ' -f5 "$run/b" | stats | cut -d' ' -f2)"
	read -r _ out _ < <(cut -d' ' -f3 "$run/b" | stats)
	printf '       ratio                           %s  (min %s; target >= 0.7: %s)\n' \
		"$out" "$(cut -d' ' -f3 "$run/b" | stats | cut -d' ' -f1)" \
		"$(awk -v x="$out" 'BEGIN { print (x >= 0.7 ? "met" : "NOT met") }')"
	printf '       CPU ratio (without / with)      %s  (min / median / max: %s)\n' \
		"$(cut -d' ' -f6 "$run/b" | stats | cut -d' ' -f2)" \
		"$(cut -d' ' -f6 "$run/b" | stats | sed 's/ / \/ /g')"

	cpu_budget_medians "$run/cpu" ""
	[[ -s $run/cpu-base ]] && cpu_budget_medians "$run/cpu-base" "base "

	# (c) the last validating scan against the RRsets it could need.
	local judged sigv cached walks qs cnt distinct again
	read -r judged sigv cached walks qs < <(dnssec_summary "$run/scan-val-$reps.err")
	[[ -n $sigv ]] || die "no dnssec: line in $run/scan-val-$reps.err"
	cnt=$(python3 "$HERE/count_rrsets.py" "$zone" "$pop/queries.txt") ||
		die "count_rrsets.py failed"
	distinct=$(sed -n 's/.* distinct=\([0-9]*\).*/\1/p' <<<"$cnt")
	again=$((sigv > distinct ? sigv - distinct : 0))
	echo "   (c) validating scan (rep $reps): $judged answers judged, $sigv signature" \
		"verifications, $cached served by the verified-RRset cache, $walks zone walks," \
		"$qs DS/DNSKEY questions"
	echo "       distinct signed RRsets the questions need: $distinct ($cnt)"
	if ((sigv > distinct)); then
		echo "       => at least $again RRset verifications repeated (target: none): NOT met"
		ok=0
	else
		echo "       => no RRset verified twice (verifications <= distinct RRsets): met"
	fi
	((ok)) || true
}

n=100000
algs=(ecdsa)
reps=3
BREAKDOWN=0
while (($#)); do
	case $1 in
	--breakdown)
		BREAKDOWN=1
		shift
		;;
	--alg)
		[[ $# -ge 2 ]] || die "--alg needs a value"
		if [[ $2 == all ]]; then algs=(ecdsa rsa ed25519); else
			alg_info "$2" >/dev/null
			algs=("$2")
		fi
		shift 2
		;;
	--reps)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--reps needs a positive number"
		reps=$2
		shift 2
		;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		[[ $1 =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= 1000000)) ||
			die "usage: run_dnssec.sh [--alg ecdsa|rsa|ed25519|all] [--reps R]" \
				"[--breakdown] [N (1..1000000)]"
		n=$1
		shift
		;;
	esac
done
for a in "${algs[@]}"; do
	bench_alg "$n" "$a" "$reps"
done
