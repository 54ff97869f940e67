#!/bin/bash
# run_smtp.sh - what one SMTP STARTTLS probe costs, beside the cost of one
# TLS handshake by `openssl s_time` against the same server, and what a
# connection in flight costs in memory.
#
#   bench/run_smtp.sh            run everything, print the figures
#   bench/run_smtp.sh --callgrind
#                                count instructions instead of CPU time:
#                                both tools under valgrind --tool=callgrind,
#                                user-space instructions per handshake and
#                                per probe (independent of the machine's
#                                load; the kernel's share is not counted)
#   bench/run_smtp.sh --serve    only start the Postfix instance and keep it
#                                up until interrupted (to profile a tool
#                                against it)
#   bench/run_smtp.sh --help     this text
#
# One private Postfix instance (a master daemon in the foreground of a
# background job, stopped by its PID when the script exits however it
# exits) listens on a loopback address with one certificate on two ports:
#   PORT    STARTTLS, for the prober (bench/mxc_smtp_bench)
#   PORT+1  implicit TLS (smtpd_tls_wrappermode), for `openssl s_time`,
#           which cannot speak STARTTLS
# Same smtpd, same key, same TLS settings: the server side of the handshake
# is the same for both tools. Each round runs, one after the other:
#   - openssl s_time -connect ADDR:PORT+1 -new -time T -CAfile CA
#     -no-CApath -no-CAstore under /usr/bin/time: full handshakes, one
#     connection at a time, each verifying the chain against the same one
#     trust anchor the prober uses (without -CAfile it would look the
#     unknown root up in the system's certificate directory on every
#     handshake, which costs it more); its user+system CPU;
#   - mxc_smtp_bench against ADDR:PORT under /usr/bin/time: N whole probes
#     (banner, EHLO, STARTTLS, handshake with SNI, certificate facts, PKIX
#     against the test CA, DANE against a 3 1 1 record of the key, QUIT)
#     with C in flight at once on one loop; its user+system CPU. Twice:
#     with --no-chain-cache, every probe verifying its chain as a probe of
#     an unknown host does (this is the figure the target counts), and with
#     the chain verdict cache, which answers every probe but the first here
#     because all present one chain (what a census sees of a large
#     provider, an upper bound of what the cache gives).
# and prints handshakes per CPU-second, probes per CPU-second and their
# ratio (the target is a ratio of at least 1, without the cache). A driver
# without the cache (an older build) runs once. Then mxc_smtp_bench --hold
# holds H connections in flight against its own stall server, in each of
# three places (before the banner, during the handshake, after it), and
# prints the memory per connection and the process's RSS with all H held
# (the target is under 100 MB for 1000).
#
# Loopback only. Postfix needs its package (postfix), the user postfix and
# a work directory every user can search (one under /tmp is made).
# Environment:
#   MXC_SMTP_BENCH          the driver (default: bench/mxc_smtp_bench in
#                           build-release/ inside or beside the source
#                           tree); use a Release build without sanitizers
#   MXC_BENCH_SMTP_ADDR     listening address (default 127.0.4.1)
#   MXC_BENCH_SMTP_PORT     STARTTLS port; PORT+1 is implicit TLS
#                           (default 54225)
#   MXC_BENCH_PROBES        probes per round (default 5000)
#   MXC_BENCH_INFLIGHT      probes in flight (default 100)
#   MXC_BENCH_STIME         s_time's -time in seconds (default 10)
#   MXC_BENCH_ROUNDS        rounds of s_time + prober (default 2)
#   MXC_BENCH_DANE          1: the prober gets the 3 1 1 record as DNSSEC-secure
#                           (default); 0: no TLSA record, PKIX only
#   MXC_BENCH_CACHE         both (default), off (only --no-chain-cache) or on
#   MXC_BENCH_HOLD          connections held in the memory test (default 1000)
#   MXC_BENCH_SMTPD         smtpd processes at most (default 200)
#   MXC_BENCH_DIR           work directory (default: a new /tmp/mxc-smtpbench.*,
#                           removed at the end unless MXC_BENCH_KEEP=1)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
PKI=$SRC/tests/world/pki
MASTER=/usr/lib/postfix/sbin/master
ADDR=${MXC_BENCH_SMTP_ADDR:-127.0.4.1}
PORT=${MXC_BENCH_SMTP_PORT:-54225}
PROBES=${MXC_BENCH_PROBES:-5000}
INFLIGHT=${MXC_BENCH_INFLIGHT:-100}
STIME=${MXC_BENCH_STIME:-10}
ROUNDS=${MXC_BENCH_ROUNDS:-2}
HOLD=${MXC_BENCH_HOLD:-1000}
DANE=${MXC_BENCH_DANE:-1}
CACHE=${MXC_BENCH_CACHE:-both}
SMTPD=${MXC_BENCH_SMTPD:-200}
MX=mx-valid.mail.test
KEY=$PKI/mx-valid.key
CHAIN=$PKI/mx-valid.chain.pem
CA=$PKI/root.crt

master_pid=
work=
die() {
	echo "run_smtp.sh: $*" >&2
	exit 1
}

# True if process $1 exists and is not a zombie.
running() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && ${st%% *} != Z ]]
}

stop_postfix() {
	local i
	[[ -n $master_pid ]] || return 0
	# The master leads its own process group and takes its children down.
	kill -TERM "$master_pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		running "$master_pid" || break
		sleep 0.1
	done
	if running "$master_pid"; then
		echo "run_smtp.sh: postfix master (pid $master_pid) ignored SIGTERM" >&2
		kill -KILL "$master_pid" 2>/dev/null || true
	fi
	wait "$master_pid" 2>/dev/null || true
	master_pid=
}

cleanup() {
	stop_postfix
	if [[ -n $work && -z ${MXC_BENCH_DIR:-} && ${MXC_BENCH_KEEP:-0} != 1 ]]; then
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

number() {
	local name=$1 val=$2 min=$3
	if ! [[ $val =~ ^[0-9]+$ ]] || ((val < min)); then
		die "$name=$val: want a whole number >= $min"
	fi
}

find_driver() {
	local d
	if [[ -n ${MXC_SMTP_BENCH:-} ]]; then
		[[ -x $MXC_SMTP_BENCH ]] || die "MXC_SMTP_BENCH=$MXC_SMTP_BENCH is not executable"
		echo "$MXC_SMTP_BENCH"
		return
	fi
	for d in "$SRC/build-release" "$SRC/../build-release"; do
		if [[ -x $d/bench/mxc_smtp_bench ]]; then
			echo "$d/bench/mxc_smtp_bench"
			return
		fi
	done
	die "no mxc_smtp_bench: build it (README.md) or set MXC_SMTP_BENCH"
}

write_config() {
	local m=$1
	cat >"$m/etc/main.cf" <<EOF
# Generated by bench/run_smtp.sh: a private Postfix instance that receives
# nothing, for the SMTP probe benchmark. Do not edit.
compatibility_level = 3.6
queue_directory = $m/queue
data_directory = $m/data
maillog_file = $m/log/maillog
maillog_file_prefixes = $m/log
myhostname = $MX
mydomain = mail.test
myorigin = mail.test
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
mynetworks =
relay_domains =
relayhost =
local_recipient_maps =
alias_maps =
alias_database =
smtpd_relay_restrictions = reject
smtpd_recipient_restrictions = reject
smtpd_data_restrictions = reject
smtpd_etrn_restrictions = reject
disable_vrfy_command = yes
default_transport = error:this benchmark delivers nothing
local_transport = error:this benchmark delivers nothing
# Thousands of connections from one address: no anvil limits, no reverse
# lookup of the client, no per-connection TLS log lines.
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_event_limit_exceptions = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_tls_loglevel = 0
smtpd_tls_received_header = no
smtpd_tls_session_cache_database =
smtpd_tls_security_level = may
smtpd_tls_chain_files = $KEY, $CHAIN
EOF
	cat >"$m/etc/master.cf" <<EOF
# Generated by bench/run_smtp.sh. Do not edit.
# service type private unpriv chroot wakeup maxproc command + args
$ADDR:$PORT inet n - n - $SMTPD smtpd
  -o max_use=100000
$ADDR:$((PORT + 1)) inet n - n - $SMTPD smtpd
  -o max_use=100000
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
anvil     unix  -       -       n       -       1       anvil
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# banner: true once ADDR:PORT sends a 220 line.
banner() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 5 bash -c '
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		IFS= read -r -t 4 line <&3 || exit 1
		printf "QUIT\r\n" >&3
		[[ $line == 220* ]]' _ "$ADDR" "$PORT" 2>/dev/null
}

start_postfix() {
	local m=$1 i p
	command -v postfix >/dev/null || die "postfix is not installed"
	[[ -x $MASTER ]] || die "no Postfix master daemon at $MASTER"
	getent passwd postfix >/dev/null || die "no user postfix (install postfix)"
	for p in "$PORT" "$((PORT + 1))"; do
		! ss -Hltn "sport = :$p" | grep -q . ||
			die "TCP port $p is in use; set MXC_BENCH_SMTP_PORT"
	done
	mkdir -p "$m/etc" "$m/queue" "$m/data" "$m/log"
	chown postfix: "$m/data"
	chmod 700 "$m/data"
	if command -v runuser >/dev/null &&
		! runuser -u postfix -- test -w "$m/data" 2>/dev/null; then
		die "user postfix cannot reach $m/data: choose a MXC_BENCH_DIR every user can search"
	fi
	write_config "$m"
	postfix -c "$m/etc" check >"$m/log/check.out" 2>&1 ||
		die "postfix -c $m/etc check failed: $(tail -n 5 "$m/log/check.out" "$m/log/maillog" 2>/dev/null)"
	# setsid: the master leads its own process group (which it signals on
	# SIGTERM), and as this job is no group leader setsid does not fork,
	# so $! is the master's PID.
	setsid "$MASTER" -d -c "$m/etc" </dev/null >"$m/log/master.out" 2>&1 &
	master_pid=$!
	for ((i = 0; i < 150; i++)); do
		running "$master_pid" || die "postfix exited: $(tail -n 5 "$m/log/maillog" "$m/log/master.out" 2>/dev/null)"
		if ss -Hltn "src = $ADDR and sport = :$((PORT + 1))" | grep -q . && banner; then
			return 0
		fi
		sleep 0.1
	done
	die "postfix is not answering on $ADDR:$PORT after 15 s (log $m/log/maillog)"
}

# The DANE-EE SPKI SHA-256 of the server's key: the record a domain would
# publish at _25._tcp.<mx>.
tlsa_311() {
	openssl x509 -in "$PKI/mx-valid.crt" -noout -pubkey |
		openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -r | cut -d' ' -f1
}

# field FILE NAME: the value of "NAME: value" in the driver's output.
field() {
	awk -v k="$2:" '$1 == k { print $2; exit }' "$1"
}

# s_time ROUND: prints "handshakes cpu_s wall_s".
run_stime() {
	local out=$work/stime.$1 n cpu
	/usr/bin/time -f '%U %S %e' -o "$out.time" \
		openssl s_time -connect "$ADDR:$((PORT + 1))" -new -time "$STIME" \
		-CAfile "$CA" -no-CApath -no-CAstore >"$out" 2>&1 || die "openssl s_time failed: $(tail -n 5 "$out")"
	n=$(awk '/connections in .* real seconds/ { print $1; exit }' "$out")
	[[ -n $n && $n -gt 0 ]] || die "openssl s_time made no connection: $(tail -n 5 "$out")"
	cpu=$(awk '{ print $1 + $2 }' "$out.time")
	echo "$n $cpu $(awk '{ print $3 }' "$out.time")"
}

# prober ROUND MODE: prints "probes ok cpu_s wall_s"; MODE off runs with
# --no-chain-cache; the driver's own output stays in the work directory.
run_prober() {
	local out=$work/prober.$1.$2 n ok tlsa=() nc=()
	((DANE)) && tlsa=(--tlsa "3 1 1 $TLSA")
	[[ $2 == off ]] && nc=(--no-chain-cache)
	/usr/bin/time -f '%U %S %e' -o "$out.time" \
		"$DRIVER" --addr "$ADDR" --port "$PORT" --mx "$MX" --ca-file "$CA" \
		"${tlsa[@]}" "${nc[@]}" -n "$PROBES" -c "$INFLIGHT" >"$out" 2>&1 ||
		die "mxc_smtp_bench failed: $(tail -n 5 "$out")"
	n=$(field "$out" probes)
	ok=$(awk '$1 == "status" && $2 == "ok:" { print $3 }' "$out")
	echo "$n ${ok:-0} $(awk '{ print $1 + $2, $3 }' "$out.time")"
}

hold() {
	local kind=$1 out=$work/hold.$1
	"$DRIVER" --hold "$kind" -c "$HOLD" --addr "$ADDR" --port 0 --mx "$MX" \
		--ca-file "$CA" --cert "$CHAIN" --key "$KEY" >"$out" 2>&1 ||
		die "mxc_smtp_bench --hold $kind failed: $(tail -n 5 "$out")"
	awk -v kind="$kind" -v n="$HOLD" '
		$1 == "rss_per_conn_bytes:" { rss = $2 }
		$1 == "heap_per_conn_bytes:" { heap = $2 }
		$1 == "rss_held_kib:" { held = $2 }
		$1 == "rss_before_kib:" { before = $2 }
		$1 == "peak_rss_kib:" { peak = $2 }
		END {
			# The target is for 1000 connections: project to it.
			proj = (before * 1024 + rss * 1000) / 1e6
			printf "  %-7s %6.1f KiB RSS, %6.1f KiB malloc per connection;" \
				" RSS %.1f MB before, %.1f MB with %d held (peak %.1f MB);" \
				" 1000 held: %.0f MB (%s 100 MB)\n",
				kind, rss / 1024, heap / 1024, before * 1024 / 1e6,
				held * 1024 / 1e6, n, peak * 1024 / 1e6, proj,
				(proj < 100 ? "under" : "OVER")
		}' "$out"
}

# cg_total FILE: the instructions callgrind counted (its "summary:" line).
cg_total() {
	awk '/^(summary|totals):/ { print $2; exit }' "$1"
}

# Instructions per unit, from a short and a long run of each tool: the
# difference leaves out start-up and exit. Prints two lines.
# cg_prober MODE N C: one run of the driver under callgrind, which must
# end with every probe ok (under valgrind a probe is slow: the steps get
# long deadlines, or probes waiting in line would time out and count as
# cheap probes).
cg_prober() {
	local f=$work/cg.probe.$1.$2 tlsa=() nc=() ok tmo=()
	((DANE)) && tlsa=(--tlsa "3 1 1 $TLSA")
	[[ $1 == off ]] && nc=(--no-chain-cache)
	# --timeout came with the cache: an older driver has neither.
	((CACHE_OPT)) && tmo=(--timeout 600000)
	valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$f" "$DRIVER" \
		--addr "$ADDR" --port "$PORT" --mx "$MX" --ca-file "$CA" "${tlsa[@]}" \
		"${nc[@]}" "${tmo[@]}" -n "$2" -c "$3" >"$f.out" 2>&1 ||
		die "callgrind: $(tail -n 3 "$f.out")"
	ok=$(awk '$1 == "status" && $2 == "ok:" { print $3 }' "$f.out")
	[[ $ok == "$2" ]] || die "callgrind: ${ok:-0} of $2 probes ok (see $f.out)"
}

run_callgrind() {
	local cg=(valgrind --tool=callgrind --dump-instr=no) n1 n2 i1 i2 m modes=(off on)
	command -v valgrind >/dev/null || die "valgrind is missing (package valgrind)"
	((CACHE_OPT)) || modes=(none)
	[[ $CACHE == both ]] || ((!CACHE_OPT)) || modes=("$CACHE")
	for m in "${modes[@]}"; do
		cg_prober "$m" 10 10
		cg_prober "$m" 310 "$INFLIGHT"
		i1=$(cg_total "$work/cg.probe.$m.10") i2=$(cg_total "$work/cg.probe.$m.310")
		awk -v a="$i1" -v b="$i2" -v m="$m" 'BEGIN {
			printf "prober (chain cache %s): %.2f million instructions per probe (300 probes)\n",
				m, (b - a) / 300 / 1e6 }'
	done
	"${cg[@]}" --callgrind-out-file="$work/cg.stime1" openssl s_time \
		-connect "$ADDR:$((PORT + 1))" -new -time 2 -CAfile "$CA" -no-CApath \
		-no-CAstore >"$work/cg.stime1.out" 2>&1 || die "callgrind: s_time failed"
	"${cg[@]}" --callgrind-out-file="$work/cg.stime2" openssl s_time \
		-connect "$ADDR:$((PORT + 1))" -new -time 20 -CAfile "$CA" -no-CApath \
		-no-CAstore >"$work/cg.stime2.out" 2>&1 || die "callgrind: s_time failed"
	n1=$(awk '/connections in .* real seconds/ { print $1; exit }' "$work/cg.stime1.out")
	n2=$(awk '/connections in .* real seconds/ { print $1; exit }' "$work/cg.stime2.out")
	i1=$(cg_total "$work/cg.stime1") i2=$(cg_total "$work/cg.stime2")
	awk -v a="$i1" -v b="$i2" -v n1="$n1" -v n2="$n2" 'BEGIN {
		if (n2 <= n1) { print "s_time: too few handshakes under callgrind"; exit }
		printf "s_time: %.2f million instructions per handshake (%d handshakes)\n",
			(b - a) / (n2 - n1) / 1e6, n2 - n1 }'
	echo "(callgrind files in $work)"
}

SERVE=0 CALLGRIND=0
case ${1:-} in
"") ;;
--serve) SERVE=1 ;;
--callgrind) CALLGRIND=1 ;;
-h | --help)
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit 0
	;;
*) die "usage: run_smtp.sh [--callgrind | --serve | --help] (settings are environment variables)" ;;
esac
number MXC_BENCH_SMTP_PORT "$PORT" 1024
((PORT < 65535)) || die "MXC_BENCH_SMTP_PORT=$PORT: PORT+1 must be a port too"
number MXC_BENCH_PROBES "$PROBES" 1
number MXC_BENCH_INFLIGHT "$INFLIGHT" 1
number MXC_BENCH_STIME "$STIME" 1
number MXC_BENCH_ROUNDS "$ROUNDS" 1
number MXC_BENCH_HOLD "$HOLD" 1
number MXC_BENCH_SMTPD "$SMTPD" 1
[[ $DANE == 0 || $DANE == 1 ]] || die "MXC_BENCH_DANE=$DANE: want 0 or 1"
[[ $CACHE == both || $CACHE == on || $CACHE == off ]] ||
	die "MXC_BENCH_CACHE=$CACHE: want both, on or off"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (package time)"
command -v openssl >/dev/null || die "openssl is missing"
((SERVE)) || DRIVER=$(find_driver)
# Does the driver know --no-chain-cache (builds before the cache do not)?
CACHE_OPT=0
if ((!SERVE)) && "$DRIVER" --help 2>&1 | grep -q -- --no-chain-cache; then
	CACHE_OPT=1
fi

if [[ -n ${MXC_BENCH_DIR:-} ]]; then
	work=$MXC_BENCH_DIR
	mkdir -p "$work"
else
	work=$(mktemp -d /tmp/mxc-smtpbench.XXXXXX)
fi
chmod 755 "$work"
TLSA=$(tlsa_311)
[[ $TLSA =~ ^[0-9a-f]{64}$ ]] || die "cannot compute the TLSA record of $PKI/mx-valid.crt"

start_postfix "$work/postfix"
echo "postfix: pid $master_pid, STARTTLS on $ADDR:$PORT, implicit TLS on" \
	"$ADDR:$((PORT + 1)), $MX ($(openssl x509 -in "$PKI/mx-valid.crt" -noout \
	-text | awk '/Public Key Algorithm/ { print $NF; exit }')), up to $SMTPD smtpd"
if ((CALLGRIND)); then
	run_callgrind
	MXC_BENCH_KEEP=1
	exit 0
fi
if ((SERVE)); then
	echo "serving until interrupted (prober: --addr $ADDR --port $PORT --mx $MX" \
		"--ca-file $CA --tlsa \"3 1 1 $TLSA\"; s_time: -connect $ADDR:$((PORT + 1)))"
	wait "$master_pid" || true
	exit 0
fi
echo "driver: $DRIVER"
echo "openssl: $(openssl version)"

# Start smtpd processes and fault in both tools before measuring.
"$DRIVER" --addr "$ADDR" --port "$PORT" --mx "$MX" --ca-file "$CA" \
	-n $((INFLIGHT * 4)) -c "$INFLIGHT" >"$work/warmup" 2>&1 ||
	die "warm-up failed: $(tail -n 5 "$work/warmup")"
openssl s_time -connect "$ADDR:$((PORT + 1))" -new -time 1 >/dev/null 2>&1 ||
	die "openssl s_time cannot connect to $ADDR:$((PORT + 1))"

MODES=(off on)
((CACHE_OPT)) || MODES=(none)
[[ $CACHE == both ]] || ((!CACHE_OPT)) || MODES=("$CACHE")
declare -A tot_p tot_pcpu
tot_h=0 tot_hcpu=0
for m in "${MODES[@]}"; do tot_p[$m]=0 tot_pcpu[$m]=0; done
for ((r = 1; r <= ROUNDS; r++)); do
	read -r h hcpu hwall < <(run_stime "$r")
	echo
	echo "round $r:"
	awk -v h="$h" -v c="$hcpu" -v w="$hwall" -v t="$STIME" 'BEGIN {
		printf "  s_time (implicit TLS, one at a time, -time %d): %d handshakes" \
			" in %.1f s, CPU %.2f s: %.0f handshakes/s, %.0f handshakes per" \
			" CPU-second (%.0f us each)\n", t, h, w, c, h / w,
			(c > 0 ? h / c : 0), (h > 0 ? c * 1e6 / h : 0) }'
	tot_h=$((tot_h + h))
	tot_hcpu=$(awk -v a="$tot_hcpu" -v b="$hcpu" 'BEGIN { print a + b }')
	for m in "${MODES[@]}"; do
		read -r p pok pcpu pwall < <(run_prober "$r" "$m")
		awk -v p="$p" -v ok="$pok" -v c="$pcpu" -v w="$pwall" -v f="$INFLIGHT" \
			-v m="$m" -v h="$h" -v hc="$hcpu" \
			-v d="$( ((DANE)) && echo ", DANE 3 1 1" || echo ", no TLSA")" 'BEGIN {
			printf "  prober (STARTTLS, %d in flight%s, chain cache %s): %d probes" \
				" (%d ok) in %.1f s, CPU %.2f s: %.0f probes/s, %.0f probes per" \
				" CPU-second (%.0f us each)", f, d, m, p, ok, w, c, p / w,
				(c > 0 ? p / c : 0), (p > 0 ? c * 1e6 / p : 0)
			if (hc > 0 && c > 0)
				printf ": ratio %.2f", (p / c) / (h / hc)
			printf "\n" }'
		((pok == p)) || echo "  warning: $((p - pok)) probes did not end ok; see $work/prober.$r.$m"
		tot_p[$m]=$((tot_p[$m] + p))
		tot_pcpu[$m]=$(awk -v a="${tot_pcpu[$m]}" -v b="$pcpu" 'BEGIN { print a + b }')
	done
done
echo
for m in "${MODES[@]}"; do
	awk -v h="$tot_h" -v hc="$tot_hcpu" -v p="${tot_p[$m]}" -v pc="${tot_pcpu[$m]}" \
		-v m="$m" 'BEGIN {
		if (hc <= 0 || pc <= 0) { print "CPU time too small to compare"; exit }
		r = (p / pc) / (h / hc)
		printf "all rounds, chain cache %s: s_time %.0f handshakes per CPU-second," \
			" prober %.0f probes per CPU-second: ratio %.2f", m, h / hc, p / pc, r
		if (m == "on")
			printf " (one chain for every probe: not the target figure)\n"
		else
			printf " (target >= 1: %s)\n", (r >= 1 ? "met" : "NOT met") }'
	echo "prober, chain cache $m, last round: $(field "$work/prober.$ROUNDS.$m" cpu_us_per_probe)" \
		"us CPU per probe (inside the run), peak RSS" \
		"$(($(field "$work/prober.$ROUNDS.$m" peak_rss_kib) / 1024)) MiB"
done
stop_postfix

echo
echo "memory per connection in flight ($HOLD held against the driver's own stall server):"
hold banner
hold hello
hold tls
