# shellcheck shell=bash
# proc.sh - stopping exactly the servers we started, shared by world.sh and
# the world's parts (sourced; the caller defines log() and STOP_WAIT).
#
# A server's PID is recorded in a file when it starts; it is stopped only if
# that PID is alive and its command line still names our marker (its config
# file), so a recycled PID is never taken for ours. Never by name.

# True if process $1 exists and is not a zombie (kill -0 says yes to a
# zombie whose parent has not reaped it yet, which made stops wait in vain).
running() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && ${st%% *} != Z ]]
}

# True if PID file $1 names a live process whose command line contains $2.
pid_live() {
	local file=$1 marker=$2 pid
	[[ -s $file ]] || return 1
	pid=$(<"$file")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	running "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

# stop_one PIDFILE MARKER NAME: SIGTERM, wait STOP_WAIT seconds, then
# SIGKILL if need be; removes the PID file once the process is gone.
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
	log "stopped $name (pid $pid)"
}
