#!/bin/bash
# test_bad_input.sh - mistakes of the user and a resolver that is not there.
#
#  - an input file that does not exist: exit 2, and the message names it;
#  - bad usage of every kind we can think of: exit 2 and a message, never a
#    crash, never a store created for a scan that cannot run;
#  - --resolver on a loopback port where nothing listens: the run still
#    finishes in bounded time, exit 0, every domain exported as "timeout".
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# A missing input file.
missing=$TMP/no-such-dir/no-such-list.txt
mxc missing 60 scan --db "$TMP/db-missing" --resolver "$UNBOUND_ADDR" \
	--probes none "$missing"
expect_rc missing 2
grep -qF "no-such-list.txt" "$TMP/missing.err" ||
	fail "the message for a missing input does not name the file:" \
		"$(head -c 300 "$TMP/missing.err")"

# Bad usage. Each case: a name and the arguments.
printf '%s\n' one.test >"$TMP/one.txt"
cases=(
	"no-args|"
	"unknown-command|frobnicate"
	"scan-unknown-option|scan --no-such-option --db $TMP/db-u $TMP/one.txt"
	"scan-no-input|scan --db $TMP/db-u --resolver $UNBOUND_ADDR --probes none"
	"scan-shard-out-of-range|scan --db $TMP/db-u --resolver $UNBOUND_ADDR --probes none --shard 3/3 $TMP/one.txt"
	"scan-shard-garbage|scan --db $TMP/db-u --resolver $UNBOUND_ADDR --probes none --shard x/y $TMP/one.txt"
	"scan-bad-probes|scan --db $TMP/db-u --resolver $UNBOUND_ADDR --probes carrier-pigeon $TMP/one.txt"
	"scan-bad-concurrency|scan --db $TMP/db-u --resolver $UNBOUND_ADDR --probes none --concurrency -5 $TMP/one.txt"
	"scan-bad-resolver|scan --db $TMP/db-u --resolver not-an-address:99999 --probes none $TMP/one.txt"
	"scan-bad-format|scan --db $TMP/db-u --resolver $UNBOUND_ADDR --probes none --input-format xml $TMP/one.txt"
	"export-no-db|export --what domains --format csv --out $TMP/x.csv"
	"export-bad-what|export --db $TMP/db-u --what everything --format csv --out $TMP/x.csv"
	"export-bad-format|export --db $TMP/db-u --what domains --format xls --out $TMP/x.csv"
)
for c in "${cases[@]}"; do
	name=${c%%|*}
	read -r -a args <<<"${c#*|}"
	mxc "usage-$name" 30 "${args[@]}"
	expect_rc "usage-$name" 2
	[[ -s $TMP/usage-$name.err ]] || fail "$name: exit 2 without a message on stderr"
done
[[ ! -e $TMP/db-u ]] || note "a store was created by a scan with bad usage ($TMP/db-u)"

# A resolver that does not exist: nothing listens on this loopback port.
dead_port=$(free_udp_port)
printf '%s\n' one.test single.test ghost.test >"$TMP/three.txt"
start=$(date +%s)
# Short timeouts (the CLI has them): seconds, not the default ~20 s.
mxc dead 240 scan --db "$TMP/db-dead" --resolver "127.0.0.1:$dead_port" \
	--probes none --timeout 300 --retries 1 "$TMP/three.txt"
expect_rc dead 0
note "the scan against a dead resolver took $(($(date +%s) - start))s"
export_db "$TMP/db-dead" domains csv "$TMP/dead.csv"
csvtool check-domains "$TMP/dead.csv"
csvtool project "$TMP/dead.csv" domain,mx_status >"$TMP/dead.got"
printf '%s\ttimeout\n' ghost.test one.test single.test >"$TMP/dead.want"
diff -u "$TMP/dead.want" "$TMP/dead.got" >&2 ||
	fail "a dead resolver must give one timeout row per domain"
grep -qF "127.0.0.1:$dead_port" "$TMP/dead.err" ||
	fail "the scan's messages do not name the dead resolver 127.0.0.1:$dead_port"
note "ok"
