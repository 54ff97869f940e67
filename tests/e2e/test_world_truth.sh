#!/bin/bash
# test_world_truth.sh - the world says what truth.csv and truth_hosts.csv
# say it does, asked with dig through the world's Unbound.
#
# This checks the test world, not mxcensus: if a zone and the truth files
# drift apart, this test names the domain, and the scanner's tests are not
# blamed for it. It derives mx_status and mx_hosts with the rules of the
# export contract (DESIGN.md): MX answer (through any CNAME chain) ->
# "ok" with the hosts sorted by preference then name, the null MX "0 ."
# alone -> "null-mx" (beside real hosts it is left out); NODATA -> the
# domain's own A/AAAA decide "implicit" (host 0:<domain>) or "no-mail";
# NXDOMAIN, SERVFAIL and no answer -> "nxdomain", "servfail", "timeout".
# Then each address and TLSA record set of truth_hosts.csv is asked for.
# It needs no mxcensus binary.
MXC_E2E_NO_BINARY=1
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

server=${UNBOUND_ADDR%:*}
port=${UNBOUND_ADDR##*:}

# ask NAME TYPE: "STATUS" on the first line, then the answer records of
# TYPE as "owner type rdata" (CNAMEs left out).
ask() {
	local out status
	out=$(dig @"$server" -p "$port" "$1" "$2" +time=5 +tries=2 +noall \
		+comments +answer 2>&1) || {
		echo timeout
		return
	}
	status=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out")
	echo "${status:-timeout}"
	awk -v t="$2" '$0 !~ /^;/ && $4 == t { $2 = ""; $3 = ""; print }' <<<"$out"
}

mx_of() {
	local d=$1 res status hosts a aaaa
	res=$(ask "$d" MX)
	status=$(head -n 1 <<<"$res")
	case $status in
	NXDOMAIN) printf '%s\tnxdomain\t\n' "$d"; return ;;
	SERVFAIL) printf '%s\tservfail\t\n' "$d"; return ;;
	NOERROR) ;;
	*) printf '%s\ttimeout\t\n' "$d"; return ;;
	esac
	# "owner MX pref host." -> "pref host" sorted by pref, then name.
	hosts=$(tail -n +2 <<<"$res" | awk '{ print $3, $4 }' |
		sed 's/\.$//' | sort -k1,1n -k2,2)
	if [[ -n $hosts ]]; then
		if [[ $hosts == "0 " || $hosts == "0" ]]; then
			printf '%s\tnull-mx\t\n' "$d"
			return
		fi
		hosts=$(awk '$2 != "" { printf "%s%s:%s", sep, $1, $2; sep = ";" }' \
			<<<"$hosts")
		printf '%s\tok\t%s\n' "$d" "$hosts"
		return
	fi
	a=$(ask "$d" A | tail -n +2)
	aaaa=$(ask "$d" AAAA | tail -n +2)
	if [[ -n $a || -n $aaaa ]]; then
		printf '%s\timplicit\t0:%s\n' "$d" "$d"
	else
		printf '%s\tno-mail\t\n' "$d"
	fi
}

csvtool project "$WORLD_TRUTH" domain,mx_status,mx_hosts >"$TMP/want.tsv"
cut -f1 "$TMP/want.tsv" | while read -r d; do mx_of "$d"; done |
	sort >"$TMP/got.tsv"
if ! diff -u "$TMP/want.tsv" "$TMP/got.tsv" >&2; then
	fail "the world's DNS differs from truth.csv (- truth, + Unbound)"
fi

# Hosts: addresses and TLSA sets.
tail -n +2 "$WORLD_TRUTH_HOSTS" | cut -d, -f1 | sort -u | while read -r h; do
	want=$(awk -F, -v h="$h" '$1 == h && $2 != "" { print $2 }' \
		"$WORLD_TRUTH_HOSTS" | sort | tr '\n' ' ')
	got=$({ ask "$h" A | tail -n +2; ask "$h" AAAA | tail -n +2; } |
		awk '{ print $3 }' | sort | tr '\n' ' ')
	[[ $want == "$got" ]] || fail "$h: addresses '$got', truth_hosts.csv says '$want'"
	want=$(awk -F, -v h="$h" '$1 == h { print $4; exit }' "$WORLD_TRUTH_HOSTS" |
		tr ';' '\n' | sed '/^$/d' | tr '[:upper:]' '[:lower:]' | sort | tr '\n' '|')
	got=$(ask "_25._tcp.$h" TLSA | tail -n +2 |
		awk '{ printf "%s %s %s ", $3, $4, $5; for (i = 6; i <= NF; i++) printf "%s", $i; print "" }' |
		tr '[:upper:]' '[:lower:]' | sort | tr '\n' '|')
	[[ $want == "$got" ]] || fail "$h: TLSA '$got', truth_hosts.csv says '$want'"
done
note "ok: $(wc -l <"$TMP/want.tsv") domains and their hosts match the truth files"
