#!/bin/bash
# test_world_sts.sh - every MTA-STS case of the test world fetched by our
# fetcher, compared with the truth (tests/world/truth_sts.csv) and with what
# curl says of the same URL.
#
# For each domain of tests/world/domains_sts.txt the test asks the world's
# Unbound (dig) for the `_mta-sts` TXT records, the MX hosts and the
# addresses of mta-sts.<domain>, and hands them to tests/tools/sts_fetch_cli,
# which classifies the record, fetches the policy with probes/sts_fetch.c
# and prints the truth columns. Where a fetch happens, curl fetches the same
# URL from the same address with the same CA (--max-redirs 0, no -L) and
# its verdict must agree on the kind of outcome: fetched (ok or syntax),
# http-<code>, redirect, content-type, too-large, timeout, connect,
# protocol, or a TLS verification failure.
#
# Needs the world's https part (tests/world/parts/https): HTTPS_PORT and
# STS_CA_FILE in the world's env. The scanner binary is not used.
MXC_E2E_NO_BINARY=1
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

: "${HTTPS_PORT:?the world has no https part (HTTPS_PORT missing from $MXC_WORLD_DIR/env)}"
: "${STS_CA_FILE:?}" "${STS_TRUTH:?}" "${STS_DOMAINS:?}" "${UNBOUND_PORT:?}"
BUILD_DIR=$(cd "$MXC_TEST_TMP/../../.." && pwd)
CLI=${MXC_STS_FETCH_CLI:-$BUILD_DIR/tests/tools/sts_fetch_cli}
[[ -x $CLI ]] || fail "no sts_fetch_cli at $CLI (set MXC_STS_FETCH_CLI)"
TIMEOUT_MS=3000

ask() {
	dig @127.0.0.1 -p "$UNBOUND_PORT" +short +time=3 +tries=2 "$@" ||
		fail "dig $* failed"
}

# curl_verdict DOMAIN ADDR: the outcome class curl sees, on stdout.
curl_verdict() {
	local d=$1 a=$2 url="https://mta-sts.$1:$HTTPS_PORT/.well-known/mta-sts.txt"
	local out rc code ctype size
	# head bounds what an endless body costs; curl then fails to write.
	out=$(
		set +o pipefail
		curl -sS --max-time $((TIMEOUT_MS / 1000)) --max-redirs 0 --max-filesize 65536 \
			--noproxy '*' --cacert "$STS_CA_FILE" --resolve "mta-sts.$d:$HTTPS_PORT:$a" \
			-w '%{http_code} %{content_type}\n' -D "$TMP/$d.headers" \
			-o >(head -c 65537 >"$TMP/$d.body") "$url" 2>"$TMP/$d.curl.err"
		echo "rc=$?"
	)
	sleep 0.1 # let the process substitution finish writing
	rc=${out##*rc=}
	read -r code ctype <<<"${out%%$'\n'rc=*}"
	size=$(stat -c %s "$TMP/$d.body" 2>/dev/null || echo 0)
	if ((size > 65536)) || ((rc == 63)); then
		echo too-large
	elif ((rc == 7)); then
		echo connect
	elif ((rc == 28)); then
		echo timeout
	elif ((rc == 60)); then
		echo tls
	elif ((rc == 56)) && grep -q "Too large response headers" "$TMP/$d.curl.err"; then
		echo too-large
	elif ((rc == 1 || rc == 8 || rc == 52 || rc == 56)); then
		# HTTP/0.9 refused, weird reply, nothing, reset mid-response.
		echo protocol
	elif ((rc != 0)); then
		echo "curl-error-$rc"
	elif ((code >= 300 && code < 400)); then
		echo redirect
	elif ((code != 200)); then
		echo "http-$code"
	elif ! [[ ${ctype,,} =~ ^text/plain[[:space:]]*(\;|$) ]]; then
		echo content-type
	else
		echo fetched
	fi
}

# Our verdict in the same classes.
our_class() {
	case $1 in
	ok | syntax) echo fetched ;;
	tls-pkix | tls-name) echo tls ;;
	*) echo "$1" ;;
	esac
}

unique_names "$STS_DOMAINS" >"$TMP/domains"
tail -n +2 "$STS_TRUTH" | cut -d, -f1 | sort >"$TMP/truth-domains"
diff -u "$TMP/truth-domains" "$TMP/domains" >&2 ||
	fail "domains_sts.txt and truth_sts.csv list different domains"

head -n 1 "$STS_TRUTH" >"$TMP/got.csv"
compared=0
while read -r d; do
	args=(--port "$HTTPS_PORT" --ca-file "$STS_CA_FILE" --timeout-ms "$TIMEOUT_MS")
	while read -r line; do
		[[ -n $line ]] || continue
		line=${line#\"}
		line=${line%\"}
		args+=(--txt "${line//\" \"/}")
	done < <(ask "_mta-sts.$d" TXT)
	while read -r _ host; do
		[[ -n $host ]] && args+=(--mx "${host%.}")
	done < <(ask "$d" MX)
	addrs=()
	while read -r a; do
		[[ $a =~ ^[0-9.]+$ ]] && addrs+=("$a")
	done < <(ask "mta-sts.$d" A)
	for a in "${addrs[@]}"; do
		args+=(--addr "$a")
	done
	timeout 30 "$CLI" "${args[@]}" "$d" >>"$TMP/got.csv" 2>>"$TMP/cli.err" ||
		fail "sts_fetch_cli failed for $d: $(tail -n 3 "$TMP/cli.err")"
	row=$(tail -n 1 "$TMP/got.csv")
	IFS=, read -r _ txt policy err _ <<<"$row"
	if [[ $txt == valid && ${#addrs[@]} -gt 0 ]]; then
		[[ $policy == ok ]] && err=ok
		want=$(our_class "$err")
		got=$(curl_verdict "$d" "${addrs[0]}")
		[[ $want == "$got" ]] ||
			fail "$d: our fetch says '$err', curl says '$got' ($(cat "$TMP/$d.curl.err"))"
		compared=$((compared + 1))
	fi
done <"$TMP/domains"

sort "$STS_TRUTH" >"$TMP/want.sorted"
sort "$TMP/got.csv" >"$TMP/got.sorted"
if ! diff -u "$TMP/want.sorted" "$TMP/got.sorted" >&2; then
	cat "$TMP/cli.err" >&2
	fail "the fetcher's verdicts differ from truth_sts.csv (- truth, + fetcher)"
fi
((compared >= 15)) || fail "only $compared fetches were compared with curl"
note "ok: $(($(wc -l <"$TMP/got.csv") - 1)) domains match truth_sts.csv; $compared agree with curl"
