#!/usr/bin/env bash
# The main job, offline: install what is missing, build, start the bundled
# test world (NSD with a private root and Unbound, on loopback), scan its
# domains, export the results and print a summary. Everything it starts is
# stopped by PID when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${MXC_BUILD:-$root/build}
out=${MXC_DEMO_OUT:-$build/demo}

scripts/install-deps.sh
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMXC_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target mxcensus

world=$out/world
mkdir -p "$out"
tests/world/world.sh start "$world" >/dev/null
trap 'tests/world/world.sh stop "$world" >/dev/null' EXIT
# shellcheck disable=SC1091
. "$world/env"

rm -rf "$out/db"
"$build/scanner/mxcensus" scan --db "$out/db" --resolver "$UNBOUND_ADDR" --probes none \
	tests/world/domains.txt
"$build/scanner/mxcensus" export --db "$out/db" --what domains --format csv --out "$out/domains.csv"
"$build/scanner/mxcensus" export --db "$out/db" --what hosts --format csv --out "$out/hosts.csv"

echo
echo "== mxcensus: bundled test world =="
echo "$(($(wc -l <"$out/domains.csv") - 1)) domains, $(($(wc -l <"$out/hosts.csv") - 1)) host rows (one per mail host name and address)"
awk -F, 'NR > 1 { n++; s[$5]++ } END {
	for (k in s) printf "  mx_status %-10s %5d  (%.1f%%)\n", k, s[k], 100 * s[k] / n
}' "$out/domains.csv" | sort -k3,3nr
echo
echo "exports: $out/domains.csv  $out/hosts.csv"
echo "store:   $out/db"
