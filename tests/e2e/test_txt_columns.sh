#!/bin/bash
# test_txt_columns.sh - the record columns of the domain export.
#
# mta_sts_txt, mta_sts_id, tls_rpt, tls_rpt_rua, spf and dmarc are computed
# from the raw TXT answers the scan stored. tests/world/truth_txt.csv holds
# what the world's zones publish for a set of domains, written from the zone
# files: valid MTA-STS and TLS-RPT records (shop.test, c17.example), SPF
# beside an unrelated TXT record (shop.test), DMARC p=reject/quarantine, no
# records at all, a name that does not exist (none/absent: measured), and a
# lame delegation (all empty: not measured).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

truth=$MXC_SOURCE_DIR/tests/world/truth_txt.csv
cols=domain,mta_sts_txt,mta_sts_id,tls_rpt,tls_rpt_rua,spf,dmarc
tail -n +2 "$truth" | cut -d, -f1 >"$TMP/list.txt"
mxc scan 120 scan --db "$TMP/db" --resolver "$UNBOUND_ADDR" --probes none \
	--timeout 500 "$TMP/list.txt"
expect_rc scan 0
for fmt in csv jsonl; do
	export_db "$TMP/db" domains "$fmt" "$TMP/domains.$fmt"
	csvtool project "$TMP/domains.$fmt" "$cols" >"$TMP/got.$fmt"
	tail -n +2 "$truth" | tr ',' '\t' | sort >"$TMP/want"
	diff -u "$TMP/want" "$TMP/got.$fmt" >&2 ||
		fail "the $fmt export's record columns differ from $truth"
done
note "ok: $(wc -l <"$TMP/want") domains' record columns as published"
