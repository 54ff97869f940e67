#!/bin/bash
# dump_answers.sh - save the signed world's raw DNS answers as seed files.
#
#   dump_answers.sh DIR OUTDIR [unbound|nsd|both]
#
# DIR is a running world (tests/world/world.sh start DIR). For every row of
# truth_dnssec.csv and for every hosted zone's DNSKEY and DS, the answer to
# one query with the DO bit is written to OUTDIR as received: from Unbound
# with RD and CD (the data whatever its validation state, as the scanner
# asks), from NSD without RD (the authoritative view). The files,
# "<server>-<name>-<TYPE>.bin", seed the validator's fuzz corpus. The
# queries are built by dump_answers.py beside this script.
set -euo pipefail

[[ $# -eq 2 || $# -eq 3 ]] || {
	echo "usage: dump_answers.sh DIR OUTDIR [unbound|nsd|both]" >&2
	exit 2
}
dir=$1
out=$2
which=${3:-both}
[[ -r $dir/env ]] || {
	echo "dump_answers.sh: no world env at $dir/env (is the world started?)" >&2
	exit 1
}
# shellcheck source=/dev/null
source "$dir/env"
: "${UNBOUND_ADDR:?}" "${NSD_ADDR:?}" "${WORLD_DIR:?}"
: "${WORLD_TRUTH_DNSSEC:?$dir/env has no WORLD_TRUTH_DNSSEC: restart the world}"
exec python3 "$(dirname "${BASH_SOURCE[0]}")/dump_answers.py" \
	--unbound "$UNBOUND_ADDR" --nsd "$NSD_ADDR" --truth "$WORLD_TRUTH_DNSSEC" \
	--zones "$WORLD_DIR/zones" --server "$which" "$out"
