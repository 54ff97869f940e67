# shellcheck shell=bash
# lib.sh - what the benchmark scripts share (sourced after they define
# HERE, SRC, OUT and die): the population on disk, the mxcensus binary, and
# stopping the NSD they started (by its PID, recorded in nsd_pid).

nsd_pid=

stop_nsd() {
	local i
	[[ -n $nsd_pid ]] || return 0
	kill -TERM "$nsd_pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$nsd_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$nsd_pid" 2>/dev/null || true
	wait "$nsd_pid" 2>/dev/null || true
	nsd_pid=
}

# The mxcensus binary: $MXCENSUS, or a Release build beside the sources.
# Prints nothing and fails when there is none.
find_mxcensus() {
	local d
	if [[ -n ${MXCENSUS:-} ]]; then
		[[ -x $MXCENSUS ]] || die "MXCENSUS=$MXCENSUS is not executable"
		echo "$MXCENSUS"
		return
	fi
	for d in "$SRC/build-release" "$SRC/../build-release"; do
		if [[ -x $d/scanner/mxcensus ]]; then
			echo "$d/scanner/mxcensus"
			return
		fi
	done
	return 1
}

# Population N, generated once and kept while the generator is unchanged.
population() {
	local n=$1 dir=$OUT/$1
	if [[ ! -s $dir/meta.json || $HERE/gen_population.py -nt $dir/meta.json ]]; then
		echo "generating a population of $n domains in $dir ..." >&2
		python3 "$HERE/gen_population.py" "$n" "$dir" >/dev/null
	fi
	echo "$dir"
}
