#!/bin/bash
# test_dnssec_verdicts.sh - the scanner's DNSSEC verdicts against the truth
# the signed world was built to have, and against Unbound's.
#
# For every (name, type) of tests/world/truth_dnssec.csv:
#   1. mxc_validate (our stub resolver and validator, asking with CD so the
#      world's validating Unbound hands over bogus data too) must give the
#      truth's verdict and reason (an insecure row without a reason is the
#      plain insecure delegation, for which we say no-ds);
#   2. Unbound, asked the same question without CD, must agree: AD set for
#      secure, SERVFAIL for bogus, an answer without AD for insecure. A
#      disagreement that is explained in writing is listed in
#      tests/world/dnssec_unbound_differs.txt (name type why) and skipped
#      for this comparison only;
#   3. a scan of the domains of the MX rows must put the same verdict and
#      reason into the dnssec and dnssec_reason columns of the export;
#   4. the same scan with --no-validate leaves those columns empty;
#   5. with --verify-threads 0 (every signature verified on the loop) and 3
#      the columns are the same, and the summary says where the
#      verifications ran; out-of-range or contradictory values are refused.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

truth=$MXC_SOURCE_DIR/tests/world/truth_dnssec.csv
explained=$MXC_SOURCE_DIR/tests/world/dnssec_unbound_differs.txt
: "${TRUST_ANCHOR:?the world has no trust anchor (is it signed?)}"
: "${MXC_VALIDATE:?MXC_VALIDATE must name the mxc_validate tool}"
[[ -r $truth ]] || fail "no $truth"

# 1. the validator against the truth
tail -n +2 "$truth" | cut -d, -f1,2 | tr ',' ' ' >"$TMP/questions"
timeout -k 5 120 "$MXC_VALIDATE" --resolver "$UNBOUND_ADDR" --trust-anchor "$TRUST_ANCHOR" \
	<"$TMP/questions" >"$TMP/ours" 2>"$TMP/ours.err" ||
	fail "mxc_validate failed: $(tail -n 5 "$TMP/ours.err")"
[[ $(wc -l <"$TMP/ours") -eq $(wc -l <"$TMP/questions") ]] ||
	fail "mxc_validate answered $(wc -l <"$TMP/ours") of $(wc -l <"$TMP/questions") questions"
# The truth's reason, as we name it.
reason_of='function reason(v, r) { return r != "" ? r : (v == "insecure" ? "no-ds" : "-") }'
tail -n +2 "$truth" | awk -F, "$reason_of"' { print $1, $2, $3, reason($3, $4) }' >"$TMP/want"
cut -d' ' -f1-4 "$TMP/ours" >"$TMP/got"
diff -u "$TMP/want" "$TMP/got" >&2 ||
	fail "the validator's verdicts differ from $truth (want: -, got: +)"
note "validator: $(wc -l <"$TMP/want") verdicts as the truth says; $(cat "$TMP/ours.err")"

# 2. Unbound, validating with the same anchor, on the same questions
host=${UNBOUND_ADDR%:*}
port=${UNBOUND_ADDR##*:}
bad=0
checked=0
while read -r name type verdict _; do
	if [[ -r $explained ]] && grep -q "^$name $type " "$explained"; then
		continue
	fi
	out=$(dig @"$host" -p "$port" "$name" "$type" +dnssec +tries=2 +time=3 2>&1)
	status=$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$out" | head -n 1)
	if [[ $status == SERVFAIL ]]; then
		ub=bogus
	elif grep -q '^;; flags:.* ad[ ;]' <<<"$out"; then
		ub=secure
	elif [[ $status == NOERROR || $status == NXDOMAIN ]]; then
		ub=insecure
	else
		ub="no-answer($status)"
	fi
	checked=$((checked + 1))
	if [[ $ub != "$verdict" ]]; then
		echo "DIFF $name $type: ours $verdict, Unbound $ub" >&2
		bad=$((bad + 1))
	fi
done <"$TMP/got"
((bad == 0)) || fail "$bad of $checked verdicts differ from Unbound's"
note "Unbound: $checked verdicts agree"

# 3. the scan's dnssec columns for the MX rows
awk -F, 'NR > 1 && $2 == "MX" { print $1 }' "$truth" | sort -u >"$TMP/domains"
mxc scan 120 scan --db "$TMP/db" --resolver "$UNBOUND_ADDR" --trust-anchor "$TRUST_ANCHOR" \
	--probes none --timeout 1000 "$TMP/domains"
expect_rc scan 0
grep -q 'dnssec: [1-9][0-9]* answers judged' "$TMP/scan.err" ||
	fail "the scan's summary has no dnssec line"
export_db "$TMP/db" domains csv "$TMP/domains.csv"
csvtool project "$TMP/domains.csv" domain,dnssec,dnssec_reason >"$TMP/scan_got"
awk -F, "$reason_of"' NR > 1 && $2 == "MX" {
	r = reason($3, $4); printf "%s\t%s\t%s\n", $1, $3, (r == "-" ? "" : r) }' "$truth" |
	sort >"$TMP/scan_want"
diff -u "$TMP/scan_want" "$TMP/scan_got" >&2 ||
	fail "the export's dnssec columns differ from the truth's MX rows"
note "scan: $(wc -l <"$TMP/scan_want") domains' dnssec columns as the truth says"

# 4. --no-validate: nothing judged, nothing claimed
mxc scan-nv 120 scan --db "$TMP/db-nv" --resolver "$UNBOUND_ADDR" --no-validate \
	--probes none --timeout 1000 "$TMP/domains"
expect_rc scan-nv 0
export_db "$TMP/db-nv" domains csv "$TMP/nv.csv"
csvtool project "$TMP/nv.csv" dnssec,dnssec_reason | sort -u >"$TMP/nv_got"
[[ $(cat "$TMP/nv_got") == $'\t' || ! -s $TMP/nv_got ]] ||
	fail "--no-validate still filled the dnssec columns: $(head -n 3 "$TMP/nv_got")"

# 5. --verify-threads: where the verifications run changes no verdict
for n in 0 3; do
	mxc "scan-vt$n" 120 scan --db "$TMP/db-vt$n" --resolver "$UNBOUND_ADDR" \
		--trust-anchor "$TRUST_ANCHOR" --verify-threads "$n" --probes none --timeout 1000 \
		"$TMP/domains"
	expect_rc "scan-vt$n" 0
	export_db "$TMP/db-vt$n" domains csv "$TMP/vt$n.csv"
	csvtool project "$TMP/vt$n.csv" domain,dnssec,dnssec_reason >"$TMP/vt${n}_got"
	diff -u "$TMP/scan_want" "$TMP/vt${n}_got" >&2 ||
		fail "--verify-threads $n: the dnssec columns differ from the truth's MX rows"
	threaded=$(sed -n 's/.*signature verifications (\([0-9]*\) on verification threads).*/\1/p' \
		"$TMP/scan-vt$n.err")
	[[ -n $threaded ]] || fail "--verify-threads $n: no dnssec summary line"
	if ((n == 0)); then
		((threaded == 0)) || fail "--verify-threads 0: $threaded verifications on threads"
	else
		((threaded > 0)) || fail "--verify-threads $n: no verification on a thread"
	fi
done
mxc vt-range 30 scan --db "$TMP/db-bad" --resolver "$UNBOUND_ADDR" --verify-threads 17 \
	"$TMP/domains"
expect_rc vt-range 2
grep -q -- "--verify-threads: '17' is not a number in \[0, 16\]" "$TMP/vt-range.err" ||
	fail "--verify-threads 17: $(cat "$TMP/vt-range.err")"
mxc vt-nv 30 scan --db "$TMP/db-bad" --resolver "$UNBOUND_ADDR" --no-validate \
	--verify-threads 2 "$TMP/domains"
expect_rc vt-nv 2
grep -q "contradict" "$TMP/vt-nv.err" || fail "--verify-threads with --no-validate: $(cat "$TMP/vt-nv.err")"
note "ok"
