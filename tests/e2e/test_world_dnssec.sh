#!/bin/bash
# test_world_dnssec.sh - the signed world's Unbound gives every name of
# truth_dnssec.csv the verdict the truth gives it: the reference half of
# the scanner-vs-Unbound comparison.
#
# For each row "name,type,verdict,reason" the world's validating Unbound is
# asked twice with dig:
# - plainly, which gives Unbound's verdict: NOERROR or NXDOMAIN with the AD
#   bit is secure, without it insecure, SERVFAIL is bogus. For a bogus row
#   the Extended DNS Error (RFC 8914) Unbound attaches must fit the reason
#   (expired -> 7, not yet valid -> 8, ...), so that a zone broken the wrong
#   way (an expired key where a missing RRSIG was meant) is caught too;
# - with the CD bit, as the scanner asks: the data must come back whatever
#   the verdict (NOERROR or NXDOMAIN, never SERVFAIL), and for the rows that
#   are not bogus with the same status as the plain answer.
# It also checks the trust anchor files the world exports against the root
# zone served, and the resolv.conf address if the world has one. Every
# disagreement is reported; the test fails if there is any. It needs no
# mxcensus binary.
MXC_E2E_NO_BINARY=1
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

: "${WORLD_TRUTH_DNSSEC:?the world env has no WORLD_TRUTH_DNSSEC: world.sh is older than this test}"
: "${TRUST_ANCHOR:?}" "${TRUST_ANCHOR_KEY:?}"
server=${UNBOUND_ADDR%:*}
port=${UNBOUND_ADDR##*:}
errors=0

problem() {
	echo "MISMATCH [$TEST_NAME]: $*" >&2
	errors=$((errors + 1))
}

# ask NAME TYPE: two lines "STATUS FLAGS EDE ANSWERS", for the plain
# question and for the same with the CD bit (one dig run asks both). FLAGS
# is the header flags joined by commas, EDE the first Extended DNS Error
# code or "-", ANSWERS the number of answer records.
ask() {
	local out
	out=$(dig @"$server" -p "$port" +time=5 +tries=2 "$1" "$2" "$1" "$2" +cd 2>&1) || true
	awk '
		function flush() {
			if (open) {
				print st, (fl == "" ? "-" : fl), (ede == "" ? "-" : ede), an
				n++
			}
			open = 0
		}
		/->>HEADER<<-/ {
			flush()
			open = 1
			fl = ""; ede = ""; an = 0
			st = $0
			sub(/.*status: /, "", st)
			sub(/,.*/, "", st)
		}
		/^;; flags:/ {
			fl = $0
			sub(/^;; flags: /, "", fl)
			sub(/;.*/, "", fl)
			gsub(/ /, ",", fl)
			an = $0
			sub(/.* ANSWER: /, "", an)
			sub(/,.*/, "", an)
		}
		/^; EDE: / && ede == "" {
			ede = $3
			sub(/[^0-9].*/, "", ede)
		}
		END {
			flush()
			# A question that got no answer at all still gets its line.
			for (; n < 2; n++)
				print "TIMEOUT - - 0"
		}' <<<"$out"
}

# The Extended DNS Errors Unbound gives for a bogus answer with this reason.
# 6 ("DNSSEC Bogus") always fits: once a zone's keys have failed, Unbound
# answers later questions from its bad-key cache with that generic code, so
# which rows get the specific one depends on the order of the questions.
ede_for() {
	echo "6 $(ede_specific "$1")"
}

ede_specific() {
	case $1 in
	signature-expired) echo "7" ;;
	signature-not-yet-valid) echo "8" ;;
	no-matching-ds) echo "9" ;;
	no-rrsig) echo "10" ;;
	# A signature by an unknown key: "DNSKEY Missing"; a damaged one:
	# "DNSSEC Bogus".
	bad-signature) echo "9" ;;
	nsec-proof-missing) echo "12" ;;
	*) echo "" ;;
	esac
}

reasons=" signature-expired signature-not-yet-valid no-matching-ds no-rrsig bad-signature nsec-proof-missing unsupported-algorithm nsec3-iterations "

[[ $(head -n 1 "$WORLD_TRUTH_DNSSEC") == name,type,verdict,reason ]] ||
	fail "$WORLD_TRUTH_DNSSEC: the header is not name,type,verdict,reason"
rows=0
secure=0 insecure=0 bogus=0
ln=1
while IFS=, read -r name type verdict reason extra; do
	ln=$((ln + 1))
	where="$WORLD_TRUTH_DNSSEC:$ln"
	[[ -z ${extra:-} && -n $name && $type =~ ^[A-Z0-9]+$ ]] ||
		fail "$where: not a row name,type,verdict,reason"
	case $verdict in
	secure) [[ -z $reason ]] || fail "$where: a secure row has no reason" ;;
	insecure) [[ -z $reason || $reasons == *" $reason "* ]] || fail "$where: unknown reason '$reason'" ;;
	bogus) [[ -n $reason && $reasons == *" $reason "* ]] || fail "$where: a bogus row needs a known reason, not '$reason'" ;;
	*) fail "$where: verdict '$verdict' is not secure, insecure or bogus" ;;
	esac
	rows=$((rows + 1))
	declare "$verdict=$((${!verdict} + 1))"

	{
		read -r st fl ede _
		read -r cst _ _ ccount
	} < <(ask "$name" "$type")
	q="$name $type"
	case $verdict in
	secure | insecure)
		if [[ $st != NOERROR && $st != NXDOMAIN ]]; then
			problem "$q: truth says $verdict, Unbound answers $st (EDE ${ede})"
		elif [[ $verdict == secure && ,$fl, != *,ad,* ]]; then
			problem "$q: truth says secure, Unbound answers $st without the AD bit"
		elif [[ $verdict == insecure && ,$fl, == *,ad,* ]]; then
			problem "$q: truth says insecure, Unbound answers $st with the AD bit"
		fi
		[[ $cst == "$st" ]] ||
			problem "$q: $st plainly but $cst with +cd"
		;;
	bogus)
		if [[ $st != SERVFAIL ]]; then
			problem "$q: truth says bogus ($reason), Unbound answers $st (flags $fl)"
		elif [[ " $(ede_for "$reason") " != *" $ede "* ]]; then
			problem "$q: truth says bogus ($reason), Unbound's EDE is $ede, not $(ede_for "$reason")"
		fi
		if [[ $cst != NOERROR && $cst != NXDOMAIN ]]; then
			problem "$q: bogus data must come back with +cd, Unbound answers $cst"
		elif [[ $cst == NOERROR && $ccount == 0 && $type != TXT ]]; then
			# TXT rows are NODATA cases; every other bogus row has data.
			problem "$q: +cd answered NOERROR with no records"
		fi
		;;
	esac
done < <(tail -n +2 "$WORLD_TRUTH_DNSSEC")
((secure > 0 && insecure > 0 && bogus > 0)) ||
	fail "truth_dnssec.csv must hold secure, insecure and bogus rows ($secure/$insecure/$bogus)"

# The trust anchor files: root.key is the root DNSKEY RRset the world
# serves, and root.ds holds the digest of one of its keys.
got=$(dig @"$server" -p "$port" . DNSKEY +short +time=5 +tries=2 | tr -d ' ' | sort)
want=$(sed 's/;.*//' "$TRUST_ANCHOR_KEY" |
	awk '$4 == "DNSKEY" { s = ""; for (i = 5; i <= NF; i++) s = s $i; print s }' | sort)
[[ -n $want && $got == "$want" ]] ||
	problem "$TRUST_ANCHOR_KEY is not the root DNSKEY RRset served"
ds_want=$(awk '$4 == "DS" { print tolower($5 " " $6 " " $7 " " $8) }' "$TRUST_ANCHOR" | sort)
ds_got=$(ldns-key2ds -n -2 "$TRUST_ANCHOR_KEY" 2>/dev/null |
	awk '$4 == "DS" { print tolower($5 " " $6 " " $7 " " $8) }' | sort)
[[ -n $ds_want && $ds_got == *"$ds_want"* ]] ||
	problem "$TRUST_ANCHOR matches no key of $TRUST_ANCHOR_KEY"

# The resolv.conf address: the same validating resolver on port 53.
if [[ -n ${RESOLV_ADDR:-} ]]; then
	out=$(dig @"$RESOLV_ADDR" one.test MX +time=5 +tries=2 2>&1 || true)
	grep -q '^;; flags:.* ad[ ;]' <<<"$out" ||
		problem "the resolver at $RESOLV_ADDR:53 gives one.test MX no AD bit"
else
	note "the world has no RESOLV_ADDR (no right to bind port 53): not checked"
fi

((errors == 0)) || fail "$errors disagreements between Unbound and $WORLD_TRUTH_DNSSEC"
note "ok: $rows names ($secure secure, $insecure insecure, $bogus bogus) as truth_dnssec.csv says"
