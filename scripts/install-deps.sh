#!/usr/bin/env bash
# Install the Debian 12 packages mxcensus needs to build, test and run its
# loopback test world. Installs only what is missing; safe to run again.
set -euo pipefail

PACKAGES=(
	# build
	cmake make gcc pkg-config clang libclang-rt-14-dev
	# libraries
	libuv1-dev libldns-dev liblmdb-dev libidn2-dev libssl-dev libcmocka-dev
	libcurl4-openssl-dev libzstd-dev libpsl-dev publicsuffix
	# test world and tools
	nsd unbound ldnsutils bind9-dnsutils dnsperf python3 python3-yaml lmdb-utils time iproute2
	procps valgrind
	postfix nginx-light curl openssl nodejs
	# the report test renders the HTML page headless
	chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "install-deps: missing packages: ${missing[*]} (run as root to install)" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Package scripts must not start nsd/unbound system services: the test
	# world starts its own instances on loopback ports.
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	# Postfix asks how to configure itself: not at all, the test world
	# writes its own configuration and starts its own master.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Parquet test installs its readers with npm: NodeSource's nodejs has it,
# Debian's does not.
if ! command -v npm >/dev/null; then
	[[ $(id -u) -eq 0 ]] || { echo "install-deps: npm is missing (run as root)" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
