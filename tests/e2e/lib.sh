# shellcheck shell=bash
# lib.sh - what every end-to-end test shares: the environment CTest passes
# (MXCENSUS, MXC_WORLD_DIR, MXC_SOURCE_DIR, MXC_TEST_TMP), the world's
# addresses from $MXC_WORLD_DIR/env, a clean scratch directory, and helpers
# that run the scanner with a time bound and read its exports.
#
# Sourced, not run; its name does not match the test_*.sh glob on purpose.
# Every helper fails the test (exit 1) with a message rather than return an
# error the caller might forget to check.

set -euo pipefail

# Byte order for sort, comm and uniq, which must agree with csvtool.py
# (Python sorts by code point, which is UTF-8 byte order). Only for them:
# mxcensus itself runs in the caller's locale.
sort() { LC_ALL=C command sort "$@"; }
comm() { LC_ALL=C command comm "$@"; }
uniq() { LC_ALL=C command uniq "$@"; }

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${MXC_SOURCE_DIR:=$(cd "$E2E_DIR/../.." && pwd)}"
# A test that checks only the world sets MXC_E2E_NO_BINARY=1 first.
if [[ -z ${MXC_E2E_NO_BINARY:-} ]]; then
	: "${MXCENSUS:?MXCENSUS must name the mxcensus binary}"
	[[ -x $MXCENSUS ]] || { echo "FAIL: no executable mxcensus at $MXCENSUS" >&2; exit 1; }
fi
: "${MXC_WORLD_DIR:?MXC_WORLD_DIR must name a running world (tests/world/world.sh start DIR)}"
: "${MXC_TEST_TMP:?MXC_TEST_TMP must name a scratch directory}"
TEST_NAME=$(basename "$0" .sh)
CSVTOOL=(python3 "$E2E_DIR/csvtool.py")

fail() {
	echo "FAIL [$TEST_NAME]: $*" >&2
	exit 1
}

note() {
	echo "# [$TEST_NAME] $*" >&2
}

[[ -r $MXC_WORLD_DIR/env ]] || fail "no world env at $MXC_WORLD_DIR/env (is the world started?)"
# shellcheck source=/dev/null
source "$MXC_WORLD_DIR/env"
: "${UNBOUND_ADDR:?}" "${WORLD_DOMAINS:?}" "${WORLD_TRUTH:?}" "${BULK_LIST:?}"

rm -rf "$MXC_TEST_TMP"
mkdir -p "$MXC_TEST_TMP"
TMP=$MXC_TEST_TMP

# mxc NAME SECONDS ARGS...: run mxcensus ARGS with a time bound; its stdout
# and stderr go to $TMP/NAME.out and $TMP/NAME.err, its exit status to RC.
# A run that outlives the bound is killed (timeout signals only its child)
# and fails the test, as does death by a signal (a crash).
#
# A scan validates from the world's own trust anchor (its private root),
# unless the test says otherwise (--trust-anchor or --no-validate): the
# built-in root KSK would make every answer of the world bogus.
mxc() {
	local name=$1 secs=$2
	shift 2
	if [[ ${1:-} == scan && -n ${TRUST_ANCHOR:-} && " $* " != *" --trust-anchor "* &&
		" $* " != *" --no-validate "* ]]; then
		set -- scan --trust-anchor "$TRUST_ANCHOR" "${@:2}"
	fi
	RC=0
	timeout -k 10 "$secs" "$MXCENSUS" "$@" >"$TMP/$name.out" \
		2>"$TMP/$name.err" || RC=$?
	if ((RC == 124 || RC == 137)); then
		tail -n 20 "$TMP/$name.err" >&2
		fail "mxcensus $* did not finish within ${secs}s"
	fi
	if ((RC > 128)); then
		tail -n 20 "$TMP/$name.err" >&2
		fail "mxcensus $* died of signal $((RC - 128))"
	fi
}

# expect_rc NAME WANT: fail unless the last mxc run exited WANT.
expect_rc() {
	local name=$1 want=$2
	if ((RC != want)); then
		echo "--- stderr of $name (last lines):" >&2
		tail -n 30 "$TMP/$name.err" >&2
		fail "$name: exit status $RC, expected $want"
	fi
}

# export_db DB WHAT FORMAT FILE: export and fail on error.
export_db() {
	local db=$1 what=$2 format=$3 file=$4
	mxc "export-$what-$(basename "$file")" 120 export --db "$db" \
		--what "$what" --format "$format" --out "$file"
	expect_rc "export-$what-$(basename "$file")" 0
	[[ -s $file ]] || fail "export --what $what --format $format wrote nothing to $file"
}

# csvtool ARGS...: the export reader; fails the test on its errors.
csvtool() {
	"${CSVTOOL[@]}" "$@" || fail "csvtool $1 ${2:-} failed (see above)"
}

# unique_names FILE...: the distinct names of plain list files as the
# scanner should see them (comments, blanks dropped; lower case, no dot).
unique_names() {
	sed -e 's/#.*//' -e 's/[[:space:]]//g' -e 's/\.$//' "$@" |
		tr '[:upper:]' '[:lower:]' | sed '/^$/d' | sort -u
}

# free_udp_port: a loopback UDP port nothing listens on right now.
free_udp_port() {
	python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
