#!/bin/bash
# part.sh - the mail servers of the test world: one Postfix instance with a
# STARTTLS listener per certificate case, one listener without STARTTLS,
# and the scripted odd servers of tests/world/smtp_odd.py.
#
#   part.sh start DIR      start them under DIR/mail (world.sh calls this
#                          after the DNS is up) and append to DIR/env
#   part.sh stop DIR       stop exactly the PIDs recorded under DIR/mail/run
#
# Postfix runs as a private instance: its main.cf and master.cf are written
# to DIR/mail/etc, its queue and data directories are DIR/mail/queue and
# DIR/mail/data, and its log is DIR/mail/log/maillog. The system's
# /etc/postfix is only read (the package's post-install and postfix-files),
# never written, and nothing listens on port 25: every listener is
# ADDR:PORT in master.cf, on 127.0.2.x (all of 127.0.0.0/8 is local on
# Linux, so no address needs configuring). The master daemon runs in the
# foreground (`setsid master -d`) of a background job so that its PID is $! and
# stop can end exactly it; it takes its children (smtpd, tlsmgr, ...) down
# with it.
#
# This server must never accept mail: no delivery agent or queue manager is
# in master.cf, mynetworks and mydestination are empty, and every RCPT is
# rejected. The scanner and posttls-finger only say EHLO, STARTTLS and QUIT.
#
# Which host has which certificate is in the table below; what each must
# yield is in tests/world/truth_mail.csv, and the TLSA records that go with
# the keys in tests/world/zones/mail.test.zone.
#
# Environment: MXC_WORLD_SMTP_PORT sets the port of every listener (default:
# 2525, or if anything listens there the first free of 2535, 2545, ...).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORLD_SRC=$(cd "$HERE/../.." && pwd)
PKI=$WORLD_SRC/pki
ODD=$WORLD_SRC/smtp_odd.py
MASTER=/usr/lib/postfix/sbin/master
START_WAIT=15
STOP_WAIT=10

# The Postfix listeners: address, host name (banner and certificate case),
# private key, certificate chain ("-" for the listener without STARTTLS).
POSTFIX_HOSTS="
127.0.2.1	mx-valid.mail.test	mx-valid.key	mx-valid.chain.pem
127.0.2.2	mx-ta.mail.test		mx-ta.key	mx-ta.chain.pem
127.0.2.3	mx-ee0.mail.test	mx-ee0.key	mx-ee0.chain.pem
127.0.2.4	mx-expired.mail.test	mx-expired.key	mx-expired.chain.pem
127.0.2.5	mx-wrongname.mail.test	mx-wrongname.key mx-wrongname.chain.pem
127.0.2.6	mx-self.mail.test	mx-self.key	mx-self.chain.pem
127.0.2.7	mx-stale.mail.test	rotate-new.key	mx-stale.chain.pem
127.0.2.8	mx-rollover.mail.test	rotate-new.key	mx-rollover.chain.pem
127.0.2.9	mx-usage1.mail.test	mx-usage1.key	mx-usage1.chain.pem
127.0.2.10	mx-notls.mail.test	-		-
127.0.2.11	mx.mail-plain.test	mx.mail-plain.key mx.mail-plain.chain.pem
"

# The scripted servers: address, host name, smtp_odd.py mode. All present
# the one "odd" certificate when they get as far as TLS.
ODD_HOSTS="
127.0.2.101	odd-ok.mail.test	ok
127.0.2.102	odd-plain.mail.test	plain
127.0.2.103	odd-stripped.mail.test	stripped
127.0.2.104	odd-reject454.mail.test	reject454
127.0.2.105	odd-drop.mail.test	drop-at-starttls
127.0.2.106	odd-banner.mail.test	banner-forever
127.0.2.107	odd-drip.mail.test	drip
127.0.2.108	odd-garbage.mail.test	garbage-tls
127.0.2.109	odd-silent.mail.test	silent
"

die() {
	echo "mail part: $*" >&2
	exit 1
}

log() {
	echo "mail part: $*" >&2
}

usage() {
	echo "usage: part.sh start|stop DIR" >&2
	exit 2
}

# True if anything listens on TCP port $1, on any address: a wildcard
# listener there would take our connections too.
port_busy() {
	ss -Hltn "sport = :$1" | grep -q .
}

pick_port() {
	local p
	if [[ -n ${MXC_WORLD_SMTP_PORT:-} ]]; then
		if ! [[ $MXC_WORLD_SMTP_PORT =~ ^[0-9]+$ ]] ||
			((MXC_WORLD_SMTP_PORT < 1024 || MXC_WORLD_SMTP_PORT > 65535)); then
			die "MXC_WORLD_SMTP_PORT must be a port number in 1024..65535"
		fi
		port_busy "$MXC_WORLD_SMTP_PORT" &&
			die "TCP port $MXC_WORLD_SMTP_PORT is in use (MXC_WORLD_SMTP_PORT)"
		echo "$MXC_WORLD_SMTP_PORT"
		return
	fi
	for ((p = 2525; p < 2725; p += 10)); do
		if ! port_busy "$p"; then
			echo "$p"
			return
		fi
	done
	die "no free TCP port in 2525..2715; set MXC_WORLD_SMTP_PORT"
}

# True if process $1 exists and is not a zombie. A server whose parent has
# exited is reaped by PID 1, which in a container may never do it: a dead
# server must not look alive to kill -0.
running() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && ${st%% *} != Z ]]
}

# True if PID file $1 names a live process whose command line contains $2:
# a recycled PID is never taken for ours.
pid_live() {
	local file=$1 marker=$2 pid
	[[ -s $file ]] || return 1
	pid=$(<"$file")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	running "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

# stop_one PIDFILE MARKER NAME: SIGTERM, wait, SIGKILL if need be.
stop_one() {
	local file=$1 marker=$2 name=$3 pid i
	if ! pid_live "$file" "$marker"; then
		rm -f "$file"
		return 0
	fi
	pid=$(<"$file")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_WAIT * 10; i++)); do
		running "$pid" || break
		sleep 0.1
	done
	if running "$pid"; then
		log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			running "$pid" || break
			sleep 0.1
		done
	fi
	if running "$pid"; then
		log "$name (pid $pid) is still running"
		return 1
	fi
	rm -f "$file"
}

do_stop() {
	local m=$1/mail rc=0 f marker
	[[ -d $m/run ]] || return 0
	for f in "$m"/run/odd-*.pid; do
		[[ -e $f ]] || continue
		marker=$(<"$f.marker" 2>/dev/null) || marker=smtp_odd.py
		stop_one "$f" "$marker" "smtp_odd $(basename "$f" .pid)" || rc=1
		rm -f "$f.marker"
	done
	stop_one "$m/run/master.pid" "$m/etc" "postfix master" || rc=1
	return $rc
}

write_main_cf() {
	local m=$1
	cat >"$m/etc/main.cf" <<EOF
# Generated by tests/world/parts/mail/part.sh: a private Postfix instance
# of the mxcensus test world that receives nothing. Do not edit.
compatibility_level = 3.6
queue_directory = $m/queue
data_directory = $m/data
maillog_file = $m/log/maillog
maillog_file_prefixes = $m/log
myhostname = mail.test
mydomain = mail.test
myorigin = mail.test
# postfix(1) insists that inet_interfaces name local interface addresses;
# the listeners themselves are ADDR:PORT in master.cf.
inet_interfaces = loopback-only
inet_protocols = ipv4

# Accept nothing, relay nothing, deliver nothing.
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
default_transport = error:the mxcensus test world delivers nothing
local_transport = error:the mxcensus test world delivers nothing
# No anvil: the scanner's tests open many connections at once.
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_event_limit_exceptions = 127.0.0.0/8

# STARTTLS: the listeners in master.cf name their key and chain.
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_received_header = no
smtpd_tls_session_cache_database =
EOF
}

write_master_cf() {
	local m=$1 port=$2 addr name key chain
	{
		cat <<EOF
# Generated by tests/world/parts/mail/part.sh. Do not edit.
# service type private unpriv chroot wakeup maxproc command + args
EOF
		while read -r addr name key chain; do
			[[ -n $addr ]] || continue
			printf '%s:%s inet n - n - - smtpd\n' "$addr" "$port"
			printf '  -o syslog_name=postfix/%s\n' "$name"
			printf '  -o myhostname=%s\n' "$name"
			if [[ $key == - ]]; then
				printf '  -o smtpd_tls_security_level=none\n'
			else
				printf '  -o smtpd_tls_chain_files=%s,%s\n' \
					"$PKI/$key" "$PKI/$chain"
			fi
		done <<<"$POSTFIX_HOSTS"
		cat <<EOF
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
anvil     unix  -       -       n       -       1       anvil
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	} >"$m/etc/master.cf"
}

# banner ADDR PORT: true once the server at ADDR:PORT sends a 220 line.
banner() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 5 bash -c '
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		IFS= read -r -t 4 line <&3 || exit 1
		printf "QUIT\r\n" >&3
		[[ $line == 220* ]]' _ "$1" "$2" 2>/dev/null
}

# wait_listeners PORT PIDFILE NAME ADDR...: until every ADDR:PORT has a
# listening socket, bounded by START_WAIT; fails at once if the server
# exits.
wait_listeners() {
	local port=$1 pidfile=$2 name=$3 i a missing
	shift 3
	for ((i = 0; i < START_WAIT * 10; i++)); do
		# Not pid_live: right after the fork the child may not have
		# exec'd yet, and its command line is still ours.
		if ! running "$(<"$pidfile")"; then
			log "$name exited during start-up"
			return 1
		fi
		missing=
		for a in "$@"; do
			ss -Hltn "src = $a and sport = :$port" | grep -q . || missing=$a
		done
		[[ -z $missing ]] && return 0
		sleep 0.1
	done
	log "$name: $missing:$port not listening after ${START_WAIT}s"
	return 1
}

start_postfix() {
	local m=$1 port=$2 addrs
	command -v postfix >/dev/null || die "postfix is not installed"
	[[ -x $MASTER ]] || die "no Postfix master daemon at $MASTER"
	getent passwd postfix >/dev/null || die "no user postfix (install postfix)"

	rm -rf "${m:?}/etc" "${m:?}/queue" "${m:?}/data" "${m:?}/log"
	mkdir -p "$m/etc" "$m/queue" "$m/data" "$m/log"
	# The daemons run as the postfix user: data_directory is theirs, and
	# their key and certificate files are read before privileges drop.
	chown postfix: "$m/data"
	chmod 700 "$m/data"
	# The master opens data_directory as user postfix, so every directory
	# above it must be searchable by that user (not so under /root).
	if command -v runuser >/dev/null &&
		! runuser -u postfix -- test -w "$m/data" 2>/dev/null; then
		die "user postfix cannot reach $m/data: run the world in a directory every user can search (a parent of $m is not)"
	fi
	write_main_cf "$m"
	write_master_cf "$m" "$port"

	# postfix check creates the queue's subdirectories with the owners
	# and modes the package's postfix-files prescribes, and checks the
	# configuration; it reports to the log file (or to a terminal).
	if ! postfix -c "$m/etc" check >"$m/log/check.out" 2>&1; then
		tail -n 20 "$m/log/maillog" "$m/log/check.out" >&2 2>/dev/null || true
		die "postfix -c $m/etc check failed"
	fi

	# setsid: the master leads its own process group, which is what it
	# signals on SIGTERM to take its children down (a background job of
	# a script is no group leader, so setsid execs without forking and
	# $! stays the master's PID).
	setsid "$MASTER" -d -c "$m/etc" </dev/null >"$m/log/master.out" 2>&1 &
	echo $! >"$m/run/master.pid"
	addrs=$(awk 'NF { print $1 }' <<<"$POSTFIX_HOSTS")
	# shellcheck disable=SC2086
	if ! wait_listeners "$port" "$m/run/master.pid" postfix $addrs ||
		! banner 127.0.2.1 "$port"; then
		tail -n 20 "$m/log/maillog" "$m/log/master.out" >&2 2>/dev/null || true
		return 1
	fi
}

# The odd servers, when smtp_odd.py exists; prints the addresses started.
start_odd() {
	local m=$1 port=$2 addr name mode pidfile
	[[ -e $ODD ]] || return 0
	command -v python3 >/dev/null || die "python3 is needed for $ODD"
	while read -r addr name mode; do
		[[ -n $addr ]] || continue
		pidfile=$m/run/${name%%.*}.pid
		python3 "$ODD" --listen "$addr:$port" --mode "$mode" \
			--cert "$PKI/odd.chain.pem" --key "$PKI/odd.key" \
			</dev/null >"$m/log/${name%%.*}.log" 2>&1 &
		echo $! >"$pidfile"
		echo "--listen $addr:$port" >"$pidfile.marker"
		if ! wait_listeners "$port" "$pidfile" "smtp_odd.py --mode $mode" "$addr"; then
			tail -n 20 "$m/log/${name%%.*}.log" >&2 || true
			return 1
		fi
		echo "$addr"
	done <<<"$ODD_HOSTS"
}

do_start() {
	local dir=$1 m port odd_addrs
	[[ -d $dir ]] || die "no world directory $dir"
	m=$dir/mail
	do_stop "$dir" || die "could not stop the mail servers already running in $m"
	port=$(pick_port)
	rm -rf "$m/run"
	mkdir -p "$m/run"

	start_postfix "$m" "$port" || {
		do_stop "$dir" || true
		die "Postfix did not start (config $m/etc, log $m/log/maillog)"
	}
	odd_addrs=$(start_odd "$m" "$port") || {
		do_stop "$dir" || true
		die "a scripted odd server did not start (logs in $m/log)"
	}
	[[ -e $ODD ]] || log "no $ODD yet: the odd servers are not started"

	{
		echo "# mail part (tests/world/parts/mail)"
		printf 'SMTP_PORT=%q\n' "$port"
		printf 'MAIL_ADDRS=%q\n' "$(awk 'NF { printf "%s%s", s, $1; s = " " }' <<<"$POSTFIX_HOSTS")"
		printf 'MAIL_ODD_ADDRS=%q\n' "$(tr '\n' ' ' <<<"$odd_addrs" | sed 's/ *$//')"
		printf 'MAIL_PKI=%q\n' "$PKI"
		printf 'MAIL_CA_FILE=%q\n' "$PKI/root.crt"
		printf 'MAIL_TRUTH=%q\n' "$WORLD_SRC/truth_mail.csv"
		printf 'MAIL_DOMAINS=%q\n' "$WORLD_SRC/domains_mail.txt"
		printf 'MAIL_DIR=%q\n' "$m"
		printf 'POSTFIX_PID=%q\n' "$(<"$m/run/master.pid")"
	} >>"$dir/env"
	log "up: postfix (pid $(<"$m/run/master.pid")) and $(wc -w <<<"$odd_addrs") odd servers on port $port"
}

[[ $# -eq 2 ]] || usage
case $1 in
start) do_start "$(cd "$2" && pwd)" ;;
stop)
	[[ -d $2 ]] || exit 0
	do_stop "$(cd "$2" && pwd)"
	;;
*) usage ;;
esac
