#!/bin/bash
# test_probes.sh - the SMTP and HTTPS probes end to end, against the mail
# and policy servers of the test world.
#
# One scan with --probes smtp,https of the mail domains (Postfix listeners
# with each certificate and TLSA case, and the scripted odd servers) and the
# MTA-STS domains (nginx and the stalling servers). Then:
#   1. the hosts export against tests/world/truth_mail.csv: status, STARTTLS
#      offered, PKIX (chain and name), DANE result per (host, address). The
#      same truth is checked against posttls-finger and openssl s_client by
#      test_world_mail.sh, so both tools and the scanner agree through it;
#   2. the domains export against tests/world/truth_sts.csv: the _mta-sts
#      record, the policy fetch and its error kind, mode and max_age (the
#      truth is checked against curl by test_world_sts.sh);
#   3. the domain verdicts of tests/world/truth_verdicts.csv (starttls, pkix,
#      dane, downgrade exposure), which follow from how the world was built;
#   4. a blocklist naming a mail host: that host is reported "blocked" and
#      never contacted, its neighbours are probed.
# Every scan passes tests/world/not-loopback.blocklist: nothing here can
# contact an address outside the loopback, whatever a zone says.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

: "${SMTP_PORT:?the world has no mail part}" "${HTTPS_PORT:?the world has no https part}"
: "${MAIL_CA_FILE:?}" "${STS_CA_FILE:?}" "${TRUST_ANCHOR:?}"
src=$MXC_SOURCE_DIR/tests/world
cat "$MAIL_CA_FILE" "$STS_CA_FILE" >"$TMP/ca.pem"
probe_args=(--resolver "$UNBOUND_ADDR" --trust-anchor "$TRUST_ANCHOR" --probes smtp,https
	--smtp-port "$SMTP_PORT" --https-port "$HTTPS_PORT" --ca-file "$TMP/ca.pem"
	--blocklist "$src/not-loopback.blocklist" --per-ip-rate 100 --per-net-rate 0
	--per-net-conns 0 --probe-timeout 3000 --timeout 1000 --progress none)

mxc scan 180 scan --db "$TMP/db" "${probe_args[@]}" "$src/domains_mail.txt" "$src/domains_sts.txt"
expect_rc scan 0
grep -q 'probes: [1-9][0-9]* SMTP probes' "$TMP/scan.err" || fail "no probe line in the summary"

# 1. hosts
export_db "$TMP/db" hosts csv "$TMP/hosts.csv"
csvtool project "$TMP/hosts.csv" mx_host,ip,port,status,starttls_offered,pkix_valid,dane_result \
	>"$TMP/hosts_got_all"
awk -F, 'NR > 1 {
	st = ($5 == "yes") ? "true" : ($5 == "no") ? "false" : ""
	pk = ($6 == "") ? "" : ($6 == "yes" && $7 == "yes") ? "true" : "false"
	printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $1, $2, port, $4, st, pk, $8 }' port="$SMTP_PORT" \
	"$src/truth_mail.csv" | sort >"$TMP/hosts_want"
cut -f1 "$TMP/hosts_want" | sort -u >"$TMP/truth_hosts"
awk -F'\t' 'NR == FNR { want[$1] = 1; next } ($1 in want)' "$TMP/truth_hosts" \
	"$TMP/hosts_got_all" | sort >"$TMP/hosts_got"
diff -u "$TMP/hosts_want" "$TMP/hosts_got" >&2 ||
	fail "the hosts export differs from truth_mail.csv (want: -, got: +)"
note "hosts: $(wc -l <"$TMP/hosts_want") (host, address) probes as the truth says"

# 2. MTA-STS
export_db "$TMP/db" domains csv "$TMP/domains.csv"
export_db "$TMP/db" domains jsonl "$TMP/domains.jsonl"
cols=domain,mta_sts_txt,mta_sts_policy,mta_sts_error,mta_sts_mode,mta_sts_max_age
awk -F, 'NR > 1 { printf "%s\t%s\t%s\t%s\t%s\t%s\n", $1, $2, $3, $4, $5, $6 }' \
	"$src/truth_sts.csv" | sort >"$TMP/sts_want"
for fmt in csv jsonl; do
	csvtool project "$TMP/domains.$fmt" "$cols" | grep '\.sts\.test	' >"$TMP/sts_got.$fmt"
	diff -u "$TMP/sts_want" "$TMP/sts_got.$fmt" >&2 ||
		fail "the $fmt export's MTA-STS columns differ from truth_sts.csv"
done
note "MTA-STS: $(wc -l <"$TMP/sts_want") domains' policy columns as the truth says"

# 3. domain verdicts
tail -n +2 "$src/truth_verdicts.csv" | tr ',' '\t' | sort >"$TMP/verdicts_want"
csvtool project "$TMP/domains.csv" domain,starttls,pkix,dane,downgrade_exposure |
	awk -F'\t' 'NR == FNR { want[$1] = 1; next } ($1 in want)' \
		<(cut -f1 "$TMP/verdicts_want") - | sort >"$TMP/verdicts_got"
diff -u "$TMP/verdicts_want" "$TMP/verdicts_got" >&2 ||
	fail "domain verdicts differ from truth_verdicts.csv"
note "verdicts: $(wc -l <"$TMP/verdicts_want") domains as built"

# 4. the blocklist is consulted before any packet
printf '# test\nmx-valid.mail.test\n127.0.2.2\n' >"$TMP/block.txt"
mxc scan-bl 120 scan --db "$TMP/db-bl" "${probe_args[@]}" --blocklist "$TMP/block.txt" \
	"$src/domains_mail.txt"
expect_rc scan-bl 0
export_db "$TMP/db-bl" hosts csv "$TMP/hosts-bl.csv"
csvtool project "$TMP/hosts-bl.csv" mx_host,status >"$TMP/bl_got"
grep -qx $'mx-valid.mail.test\tblocked' "$TMP/bl_got" || fail "a blocklisted name was probed"
grep -qx $'mx-ta.mail.test\tblocked' "$TMP/bl_got" || fail "a blocklisted address was probed"
grep -qx $'mx-ee0.mail.test\tok' "$TMP/bl_got" || fail "a host beside the blocked ones was not probed"
# A bad blocklist line is a usage error naming file and line, before any scan.
printf '10.0.0.1/8\n' >"$TMP/bad.txt"
mxc scan-badbl 60 scan --db "$TMP/db-badbl" "${probe_args[@]}" --blocklist "$TMP/bad.txt" \
	"$src/domains_mail.txt"
expect_rc scan-badbl 2
grep -q "$TMP/bad.txt:1" "$TMP/scan-badbl.err" || fail "the bad blocklist line is not named"
note "ok"
