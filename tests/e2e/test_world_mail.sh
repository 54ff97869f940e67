#!/bin/bash
# test_world_mail.sh - the mail part of the world is what truth_mail.csv
# says it is, in the words of tools that are not ours.
#
# For every host of tests/world/truth_mail.csv:
#   - the world's DNS gives the host the truth's address;
#   - posttls-finger (Postfix's own STARTTLS prober, at level "secure" with
#     the test CA, SNI and the host name to match) reports STARTTLS offered
#     or not, TLS established or not, and "Verified" exactly when the truth
#     says the chain is valid and the name matches; "Untrusted" with a
#     hostname mismatch when only the name is wrong;
#   - openssl s_client -starttls smtp sees a leaf of tests/world/pki whose
#     chain verifies against the test CA (pkix_valid) and whose names cover
#     the host (name_ok);
#   - the TLSA records of _25._tcp.<host>, asked with dig, against the chain
#     s_client saw, give the truth's dane_result by RFC 7672's rules
#     (usages 2 and 3 only; DANE-EE on the leaf, DANE-TA on a certificate
#     above it), and are DNSSEC-secure (AD) exactly when the truth does not
#     say not-dnssec;
#   - posttls-finger at level "dane", with the system resolver pointed at
#     the world's Unbound in a private mount namespace, matches an end
#     entity or a trust anchor as the truth says, or matches nothing.
# A check that cannot run in this world yet (an unsigned world, no
# RESOLV_ADDR, no smtp_odd.py) prints a SKIP line saying which. It needs no
# mxcensus binary.
MXC_E2E_NO_BINARY=1
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

[[ -n ${SMTP_PORT:-} && -n ${MAIL_TRUTH:-} && -n ${MAIL_CA_FILE:-} ]] ||
	fail "the world has no mail part (no SMTP_PORT/MAIL_TRUTH in $MXC_WORLD_DIR/env)"
for t in posttls-finger openssl dig; do
	command -v "$t" >/dev/null || fail "$t is not installed"
done

server=${UNBOUND_ADDR%:*}
port=${UNBOUND_ADDR##*:}
PKI=$MAIL_PKI
CA=$MAIL_CA_FILE
# Seconds posttls-finger may spend on one host in all; its own connect and
# command timeouts are 5 s, but a dripping server resets a per-read timer.
PF_LIMIT=20

# posttls-finger reads main.cf from MAIL_CONFIG; the system has none.
export MAIL_CONFIG=$TMP/postfix
mkdir -p "$MAIL_CONFIG"
cat >"$MAIL_CONFIG/main.cf" <<EOF
compatibility_level = 3.6
smtp_dns_support_level = dnssec
EOF

errors=0
# bad HOST WHAT: record a mismatch; the test fails at the end, after all
# hosts have been looked at, so that one run names every difference.
bad() {
	echo "MISMATCH [$TEST_NAME] $1: $2" >&2
	errors=$((errors + 1))
}

# ask NAME TYPE: the answer's rdata, one record a line (+short).
ask() {
	dig @"$server" -p "$port" "$1" "$2" +short +time=3 +tries=2 2>/dev/null |
		grep -v '\.$' || true
}

# secure NAME TYPE: true if Unbound says the answer is authenticated (AD).
secure() {
	dig @"$server" -p "$port" "$1" "$2" +dnssec +noall +comments +time=3 \
		+tries=2 2>/dev/null | grep -q '^;; flags:[a-z ]* ad[ ;]'
}

signed=no
if secure mail.test SOA; then
	signed=yes
else
	note "SKIP: the world is not signed (mail.test SOA is not authenticated):" \
		"the DNSSEC half of the DANE checks and posttls-finger -l dane are skipped"
fi

# RESOLV_ADDR names the world's resolver on port 53 of a loopback address
# (the system resolver cannot be told a port); with it, posttls-finger
# resolves through the world in a private mount namespace.
pf_dane=no
resolv_ip=${RESOLV_ADDR:-}
resolv_ip=${resolv_ip%:53}
if [[ -z $resolv_ip ]]; then
	note "SKIP: no RESOLV_ADDR in the world env: posttls-finger -l dane is skipped"
elif [[ $resolv_ip == *:* && $resolv_ip != *::* ]]; then
	note "SKIP: RESOLV_ADDR=$RESOLV_ADDR is not on port 53: posttls-finger -l dane is skipped"
elif [[ $signed == yes ]]; then
	if unshare -m true 2>/dev/null; then
		pf_dane=yes
		printf 'nameserver %s\noptions trust-ad edns0 timeout:2 attempts:2\n' \
			"$resolv_ip" >"$TMP/resolv.conf"
	else
		note "SKIP: unshare -m is not permitted here: posttls-finger -l dane is skipped"
	fi
fi

# pf OUT ARGS...: posttls-finger with a bound on its time; the transcript
# goes to OUT. It exits non-zero for some findings, which are not errors.
pf() {
	local out=$1
	shift
	timeout -k 5 "$PF_LIMIT" posttls-finger -t 5 -T 5 "$@" >"$out" 2>&1 || true
}

# pf_dane OUT HOST: posttls-finger -l dane against [HOST]:SMTP_PORT, with
# /etc/resolv.conf replaced, for this process only, by one naming the
# world's resolver.
pf_dane() {
	local out=$1 host=$2 rc=0
	# shellcheck disable=SC2016 # expanded by the inner sh
	timeout -k 5 "$PF_LIMIT" unshare -m sh -c '
		mount --bind "$1" /etc/resolv.conf || exit 99
		shift
		exec posttls-finger "$@"' _ "$TMP/resolv.conf" -t 5 -T 5 -l dane \
		-L routine,certmatch -F "$CA" "[$host]:$SMTP_PORT" >"$out" 2>&1 || rc=$?
	((rc != 99)) ||
		fail "could not bind-mount $TMP/resolv.conf over /etc/resolv.conf: $(head -n 3 "$out")"
}

# pf_facts FILE: "status starttls verified" from a posttls-finger transcript
# (verified: yes, name (only the name failed), no, or empty without TLS).
pf_facts() {
	awk '
	/: < 250[- ]/ && !tls && !after { ehlo = 1 }
	/: < 250[- ]STARTTLS/ && !tls && !after { starttls = 1 }
	/: > STARTTLS$/ { after = 1; next }
	after && !reply && /: < [0-9][0-9][0-9]/ { reply = $3 + 0 }
	/TLS connection established/ {
		tls = 1
		if ($0 ~ /: Verified TLS/ || $0 ~ /: Trusted TLS/) verified = "yes"
		else verified = "no"
	}
	/verification failed.*hostname mismatch/ { namefail = 1 }
	END {
		if (tls) status = "ok"
		else if (after && reply == 220) status = "tls-failed"
		else if (after) status = "starttls-rejected"
		else if (ehlo) status = starttls ? "tls-failed" : "no-starttls"
		else status = "no-ehlo"
		if (tls && verified == "no" && namefail) verified = "name"
		printf "%s %s %s\n", status, (ehlo ? (starttls ? "yes" : "no") : "-"), \
			(verified == "" ? "-" : verified)
	}' "$1"
}

# chain HOST IP DIR: the certificates the server at IP presents, as
# DIR/0.pem (leaf), DIR/1.pem, ...; prints s_client's verify code.
chain() {
	local host=$1 ip=$2 dir=$3 out
	mkdir -p "$dir"
	out=$(printf 'QUIT\r\n' | timeout -k 5 20 openssl s_client -starttls smtp \
		-connect "$ip:$SMTP_PORT" -servername "$host" -CAfile "$CA" \
		-showcerts 2>&1) || true
	awk -v dir="$dir" '
		/-----BEGIN CERTIFICATE-----/ { f = dir "/" n++ ".pem"; p = 1 }
		p { print > f }
		/-----END CERTIFICATE-----/ { p = 0; close(f) }' <<<"$out"
	sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' <<<"$out" | tail -n 1
}

# digest SELECTOR MATCHING CERT: TLSA association data for CERT, lower case.
digest() {
	local sel=$1 mt=$2 cert=$3
	{
		if [[ $sel == 0 ]]; then
			openssl x509 -in "$cert" -outform DER
		else
			openssl x509 -in "$cert" -noout -pubkey | openssl pkey -pubin -outform DER
		fi
	} | case $mt in
	0) od -An -v -tx1 | tr -d ' \n' ;;
	1) openssl dgst -sha256 -r | cut -d' ' -f1 ;;
	2) openssl dgst -sha512 -r | cut -d' ' -f1 ;;
	*) echo unsupported ;;
	esac
}

# dane_of HOST DIR: match-ee, match-ta, mismatch or none for the chain in
# DIR against the TLSA records of _25._tcp.HOST (RFC 7672: only usages
# 2 and 3 count; 3 on the leaf, 2 on a certificate above it).
dane_of() {
	local host=$1 dir=$2 u s m data usable=0 ee=0 ta=0 c
	while read -r u s m data; do
		[[ -n $u ]] || continue
		data=$(tr -d ' ' <<<"$data" | tr '[:upper:]' '[:lower:]')
		case $u in
		3)
			usable=1
			[[ -e $dir/0.pem && $(digest "$s" "$m" "$dir/0.pem") == "$data" ]] && ee=1
			;;
		2)
			usable=1
			for c in "$dir"/[1-9]*.pem; do
				[[ -e $c && $(digest "$s" "$m" "$c") == "$data" ]] && ta=1
			done
			;;
		esac
	done < <(ask "_25._tcp.$host" TLSA)
	if ((ee)); then
		echo match-ee
	elif ((ta)); then
		echo match-ta
	elif ((usable)); then
		echo mismatch
	else
		echo none
	fi
}

odd_addrs=" ${MAIL_ODD_ADDRS:-} "
checked=0
csvtool project "$MAIL_TRUTH" mx_host,ip,status,starttls,pkix_valid,name_ok,dane_result \
	>"$TMP/truth.tsv"
[[ -s $TMP/truth.tsv ]] || fail "no rows in $MAIL_TRUTH"
while IFS=$'\t' read -r host ip status starttls pkix name dane; do
	if [[ $ip == 127.0.2.1[0-9][0-9] && $odd_addrs != *" $ip "* ]]; then
		note "SKIP: $host ($ip): no scripted odd server runs (tests/world/smtp_odd.py missing)"
		continue
	fi
	checked=$((checked + 1))
	got=$(ask "$host" A | tr '\n' ' ')
	[[ $got == "$ip " ]] || bad "$host" "DNS A is '${got% }', truth $ip"

	# posttls-finger at level secure: the SMTP dialogue and PKIX.
	pf "$TMP/$host.pf" -l secure -F "$CA" -s "$host" "[$ip]:$SMTP_PORT" "$host"
	read -r f_status f_starttls f_verified < <(pf_facts "$TMP/$host.pf")
	case $status in
	timeout | banner-error)
		# posttls-finger cannot tell these apart; both end before EHLO.
		[[ $f_status == no-ehlo ]] ||
			bad "$host" "posttls-finger got as far as '$f_status', truth $status"
		;;
	*)
		[[ $f_status == "$status" ]] ||
			bad "$host" "posttls-finger says status '$f_status', truth $status"
		[[ $f_starttls == "$starttls" ]] ||
			bad "$host" "posttls-finger says STARTTLS offered '$f_starttls', truth $starttls"
		;;
	esac
	if [[ $status == ok ]]; then
		want=no
		[[ $pkix == yes && $name == yes ]] && want=yes
		[[ $pkix == yes && $name == no ]] && want=name
		[[ $f_verified == "$want" ]] ||
			bad "$host" "posttls-finger -l secure verified '$f_verified', want '$want' (pkix $pkix, name $name)"
	fi
	[[ $status == ok ]] || continue

	# openssl s_client: the certificate itself.
	d=$TMP/chain/$host
	code=$(chain "$host" "$ip" "$d")
	if [[ ! -s $d/0.pem ]]; then
		bad "$host" "openssl s_client -starttls smtp saw no certificate"
		continue
	fi
	got=no
	[[ $code == 0 ]] && got=yes
	[[ $got == "$pkix" ]] ||
		bad "$host" "s_client verify code '$code' against the test CA, truth pkix_valid $pkix"
	got=no
	openssl x509 -in "$d/0.pem" -noout -checkhost "$host" 2>/dev/null |
		grep -q 'does match' && got=yes
	[[ $got == "$name" ]] || bad "$host" "leaf names cover $host: $got, truth name_ok $name"
	fp=$(openssl x509 -in "$d/0.pem" -noout -fingerprint -sha256)
	known=
	for c in "$PKI"/*.crt; do
		[[ $(openssl x509 -in "$c" -noout -fingerprint -sha256) == "$fp" ]] && known=$c
	done
	[[ -n $known ]] || bad "$host" "the leaf it presents is none of $PKI/*.crt"

	# DANE by digest: the TLSA records against the chain s_client saw.
	got=$(dane_of "$host" "$d")
	if [[ $dane == not-dnssec ]]; then
		[[ $got == match-* ]] ||
			bad "$host" "its insecure TLSA records should match ('$got'), so that only DNSSEC is missing"
		[[ $signed == yes ]] && secure "_25._tcp.$host" TLSA &&
			bad "$host" "TLSA records are authenticated, truth not-dnssec"
	else
		[[ $got == "$dane" ]] ||
			bad "$host" "TLSA records against the presented chain: '$got', truth $dane"
		if [[ $signed == yes && $got != none ]] && ! secure "_25._tcp.$host" TLSA; then
			bad "$host" "TLSA records are not authenticated (AD), truth $dane"
		fi
	fi

	# posttls-finger at level dane, through the world's DNS.
	[[ $pf_dane == yes ]] || continue
	pf_dane "$TMP/$host.pf-dane" "$host"
	got=none
	# Postfix 3.7 logs "Matched DANE EE|TA certificate at depth N: <TLSA>".
	grep -q 'Matched DANE EE ' "$TMP/$host.pf-dane" && got=match-ee
	grep -q 'Matched DANE TA ' "$TMP/$host.pf-dane" && got=match-ta
	want=$dane
	[[ $want == not-dnssec ]] && want=none
	if [[ $want == mismatch ]]; then
		want=none
		if ! grep -q 'no matching DANE TLSA records' "$TMP/$host.pf-dane" ||
			! grep -q 'Untrusted TLS connection' "$TMP/$host.pf-dane"; then
			bad "$host" "posttls-finger -l dane did not report 'no matching DANE TLSA records' and an Untrusted connection (truth mismatch)"
		fi
	fi
	[[ $got == "$want" ]] ||
		bad "$host" "posttls-finger -l dane: '$got', truth $dane (transcript $TMP/$host.pf-dane)"
done <"$TMP/truth.tsv"

((checked > 0)) || fail "no host of $MAIL_TRUTH was checked"
((errors == 0)) || fail "$errors differences between the mail world and $MAIL_TRUTH (see above; transcripts in $TMP)"
note "$checked hosts agree with $(basename "$MAIL_TRUTH") (signed world: $signed, posttls-finger -l dane: $pf_dane)"
