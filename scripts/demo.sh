#!/usr/bin/env bash
# The main job, offline: install what is missing, build, start the bundled
# test world on loopback (NSD serving a private signed root and TLDs,
# Unbound validating, Postfix and scripted SMTP servers, nginx serving
# MTA-STS policies), scan its domains with DNSSEC validation and the SMTP
# and HTTPS probes, export the results (CSV, JSON Lines, Parquet) and print
# the report; the same report is written as an HTML page. Everything it
# starts is stopped by PID when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${MXC_BUILD:-$root/build}
out=${MXC_DEMO_OUT:-$build/demo}
mxc=$build/scanner/mxcensus

scripts/install-deps.sh
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMXC_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target mxcensus

world=$out/world
mkdir -p "$out"
tests/world/world.sh start "$world" >/dev/null
trap 'tests/world/world.sh stop "$world" >/dev/null' EXIT
# shellcheck disable=SC1091
. "$world/env"
# The world's two test CAs (mail hosts, policy servers) as one trust store.
cat "$MAIL_CA_FILE" "$STS_CA_FILE" >"$out/test-ca.pem"

rm -rf "$out/db"
# The blocklist keeps every probe on the loopback, whatever a zone says.
"$mxc" scan --db "$out/db" --resolver "$UNBOUND_ADDR" --trust-anchor "$TRUST_ANCHOR" \
	--probes smtp,https --smtp-port "$SMTP_PORT" --https-port "$HTTPS_PORT" \
	--ca-file "$out/test-ca.pem" --blocklist tests/world/not-loopback.blocklist \
	--per-ip-rate 100 --per-net-rate 0 --per-net-conns 0 --probe-timeout 3000 \
	--timeout 1000 --progress lines \
	tests/world/domains.txt tests/world/domains_mail.txt tests/world/domains_sts.txt
for what in domains hosts; do
	for fmt in csv jsonl parquet; do
		"$mxc" export -q --db "$out/db" --what "$what" --format "$fmt" \
			--out "$out/$what.$fmt"
	done
done
"$mxc" report --db "$out/db" --format html --out "$out/report.html"
"$mxc" report --db "$out/db" --format md --out "$out/report.md"

echo
echo "== mxcensus: the bundled test world =="
"$mxc" report --db "$out/db" --format text
echo
echo "report:  $out/report.html (open it in a browser; no network needed), $out/report.md"
echo "exports: $out/domains.{csv,jsonl,parquet}  $out/hosts.{csv,jsonl,parquet}"
echo "store:   $out/db"
