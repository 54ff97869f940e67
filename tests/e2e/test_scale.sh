#!/bin/bash
# test_scale.sh - the commands of docs/SCALE.md, as far as one machine
# without Slurm, Kubernetes or Spark can run them.
#
#  - Slurm: deploy/slurm/mxcensus-scan.sbatch runs as each task of a
#    3-task array would (SLURM_ARRAY_* set by hand) against the world,
#    with the probes. Task 1 is stopped by SIGTERM to its process group,
#    as Slurm's time limit does, and resumes when run again as a
#    resubmission of index 1 alone (MXC_SHARDS=3). The merge job refuses
#    to run while shards are unfinished, and names them. A task that
#    disagrees on the number of shards, and a partial array without
#    MXC_SHARDS, are refused; an old Slurm's SLURM_ARRAY_TASK_MAX is used
#    when SLURM_ARRAY_TASK_COUNT is missing. Then
#    deploy/slurm/mxcensus-merge.sbatch merges, exports and reports, and
#    the merged domains equal those of a single scan, time aside.
#  - Kubernetes: deploy/k8s/indexed-job.yaml is checked structurally
#    (python3-yaml): kinds, completionMode Indexed, completions and
#    parallelism, the shard argument from JOB_COMPLETION_INDEX, volumes,
#    the sidecar. The scan container's arguments are run as the kubelet
#    would expand them (on an empty list), its Unbound configuration is
#    checked by unbound-checkconf, and the merge Job's script is run on
#    the Slurm run's shard stores: its Parquet exports must equal the
#    Slurm merge's byte for byte.
#  - Analysis: every docs/queries/*.sql runs in DuckDB (the npm package of
#    tests/parquet) on the Parquet exports, after docs/queries/duckdb/
#    views.sql, and its numbers are computed again in Python from the CSV
#    export of the same store and must agree. The PySpark script is only
#    compiled: Spark cannot be installed here.
#  - Every mxcensus option named in docs/SCALE.md, deploy/ and the YAML
#    exists in the help of its command.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

SRC=$MXC_SOURCE_DIR
SLURM=$SRC/deploy/slurm
K8S=$SRC/deploy/k8s/indexed-job.yaml
QUERIES=$SRC/docs/queries
# MXC_TEST_TMP is <build>/tests/e2e-tmp/<test>; the readers live in
# <build>/tests/parquet-readers, shared with test_parquet.
READERS=$(cd "$MXC_TEST_TMP/../.." && pwd)/parquet-readers
python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml is not installed (apt-get install python3-yaml)"
command -v unbound-checkconf >/dev/null || fail "unbound-checkconf is not installed"

# The scripts and the YAML call plain `mxcensus`.
mkdir -p "$TMP/bin"
ln -s "$MXCENSUS" "$TMP/bin/mxcensus"
export PATH=$TMP/bin:$PATH

# --- Slurm: the scan array, task by task ----------------------------------------
RUN=$TMP/run
n_shards=3
cat "$MAIL_CA_FILE" "$STS_CA_FILE" >"$TMP/ca.pem"
world=$SRC/tests/world
export MXC_RUN_DIR=$RUN
export MXC_INPUT="$world/domains.txt $world/domains_mail.txt $world/domains_sts.txt $BULK_LIST"
opts="--resolver $UNBOUND_ADDR --trust-anchor $TRUST_ANCHOR --probes smtp,https
	--smtp-port $SMTP_PORT --https-port $HTTPS_PORT --ca-file $TMP/ca.pem
	--blocklist $world/not-loopback.blocklist --timeout 500 --progress none"
export MXC_SCAN_OPTS=${opts//$'\n'/ }
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN \
	SLURM_ARRAY_TASK_MAX MXC_SHARDS MXC_EXPORT_FORMATS

# task NAME ID COUNT MIN MAX [VAR=VALUE...]: run the scan script as array
# task ID (an empty COUNT leaves SLURM_ARRAY_TASK_COUNT unset); its output
# goes to $TMP/NAME.log, its exit status to RC.
task() {
	local name=$1 id=$2 count=$3 min=$4 max=$5
	shift 5
	local vars=(SLURM_ARRAY_TASK_ID="$id" SLURM_ARRAY_TASK_MIN="$min"
		SLURM_ARRAY_TASK_MAX="$max")
	[[ -n $count ]] && vars+=(SLURM_ARRAY_TASK_COUNT="$count")
	RC=0
	timeout -k 10 300 env "${vars[@]}" "$@" bash "$SLURM/mxcensus-scan.sbatch" \
		>"$TMP/$name.log" 2>&1 || RC=$?
	((RC != 124 && RC != 137)) || fail "task $name did not finish in 300 s"
}

expect_task() {
	local name=$1 want=$2
	if ((RC != want)); then
		tail -n 20 "$TMP/$name.log" >&2
		fail "scan task $name: exit status $RC, expected $want"
	fi
}

merge_job() {
	RC=0
	timeout -k 10 300 env "$@" bash "$SLURM/mxcensus-merge.sbatch" \
		>"$TMP/merge-job.log" 2>&1 || RC=$?
}

# Task 1, slowed down (--qps 50) so that it is still scanning when Slurm's
# SIGTERM comes, to every process of the task as at a time limit.
setsid env SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=$n_shards \
	SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=$((n_shards - 1)) \
	MXC_SCAN_OPTS="$MXC_SCAN_OPTS --qps 50" \
	bash "$SLURM/mxcensus-scan.sbatch" >"$TMP/task1-killed.log" 2>&1 &
pid=$!
for ((i = 0; i < 100; i++)); do
	[[ -e $RUN/shards/shard-1/data.mdb ]] && break
	sleep 0.1
done
sleep 2 # a few batches committed
kill -TERM -- "-$pid" 2>/dev/null || true
RC=0
wait "$pid" || RC=$?
((RC == 143)) || { cat "$TMP/task1-killed.log" >&2; fail "task 1 stopped by SIGTERM: exit status $RC, expected 143"; }
[[ ! -e $RUN/shards/shard-1.done ]] || fail "an interrupted task left shard-1.done"
grep -q "stored" "$TMP/task1-killed.log" || fail "the interrupted task 1 did not report what it stored"

task task0 0 "$n_shards" 0 $((n_shards - 1))
expect_task task0 0
[[ -e $RUN/shards/shard-0.done ]] || fail "task 0 left no shard-0.done"
[[ $(cat "$RUN/shards/count") == "$n_shards" ]] || fail "shards/count does not hold $n_shards"

# The merge job will not merge unfinished shards, and names them.
merge_job
((RC == 1)) || { cat "$TMP/merge-job.log" >&2; fail "merge job with shards 1 and 2 unfinished: exit status $RC, expected 1"; }
grep -q "run tasks 1,2 again" "$TMP/merge-job.log" ||
	fail "the merge job did not name the unfinished tasks: $(cat "$TMP/merge-job.log")"
[[ ! -e $RUN/merged ]] || fail "a refused merge job left $RUN/merged"

# Another split of the same run, and a partial array without MXC_SHARDS.
task wrong-n 0 2 0 1
expect_task wrong-n 2
grep -q "split into 3 shards, this task says 2" "$TMP/wrong-n.log" ||
	fail "a task with another shard count: $(cat "$TMP/wrong-n.log")"
task partial 1 1 1 1
expect_task partial 2
grep -q "set MXC_SHARDS" "$TMP/partial.log" ||
	fail "a partial array without MXC_SHARDS: $(cat "$TMP/partial.log")"

# Index 1 resubmitted alone (sbatch --array=1 with MXC_SHARDS=3): resumes.
task task1 1 1 1 1 MXC_SHARDS="$n_shards"
expect_task task1 0
grep -q "resuming run" "$TMP/task1.log" || fail "task 1 run again did not resume its store"
grep -Eq "[1-9][0-9]* already stored" "$TMP/task1.log" ||
	fail "task 1 run again skipped nothing: $(grep stored "$TMP/task1.log")"
# Task 2 on a Slurm without SLURM_ARRAY_TASK_COUNT: N = SLURM_ARRAY_TASK_MAX + 1.
task task2 2 "" 0 $((n_shards - 1))
expect_task task2 0
grep -q "shard 2/3" "$TMP/task2.log" || fail "task 2 without SLURM_ARRAY_TASK_COUNT: $(head -n 3 "$TMP/task2.log")"
# A finished task run again does nothing and stays finished.
task task0-again 0 "$n_shards" 0 $((n_shards - 1))
expect_task task0-again 0
grep -q " 0 domains stored" "$TMP/task0-again.log" || fail "task 0 run again scanned something"
for ((k = 0; k < n_shards; k++)); do
	[[ -e $RUN/shards/shard-$k.done ]] || fail "shard $k is not marked done"
done
note "slurm: 3 tasks, one interrupted and resumed; wrong splits refused"

# --- Slurm: the merge job ----------------------------------------------------------
merge_job MXC_EXPORT_FORMATS="parquet csv jsonl"
((RC == 0)) || { tail -n 30 "$TMP/merge-job.log" >&2; fail "merge job: exit status $RC"; }
grep -q "warning" "$TMP/merge-job.log" && { cat "$TMP/merge-job.log" >&2; fail "the merge of all shards warned"; }
EXPORT=$RUN/export
for f in domains.parquet hosts.parquet domains.csv hosts.csv domains.jsonl hosts.jsonl report.html; do
	[[ -s $EXPORT/$f ]] || fail "the merge job wrote no $EXPORT/$f"
done
grep -q "<svg" "$EXPORT/report.html" || fail "the merge job's report.html has no chart"

# The merged domains equal those of one scan of the whole list.
read -ra whole_opts <<<"$MXC_SCAN_OPTS"
read -ra inputs <<<"$MXC_INPUT"
mxc whole 300 scan --db "$TMP/whole" "${whole_opts[@]}" "${inputs[@]}"
expect_rc whole 0
export_db "$TMP/whole" domains csv "$TMP/whole.csv"
for db in whole merged; do
	case $db in whole) f=$TMP/whole.csv ;; merged) f=$EXPORT/domains.csv ;; esac
	csvtool drop "$f" run_id,scanned_at >"$TMP/$db.rows"
	{
		head -n 1 "$TMP/$db.rows"
		tail -n +2 "$TMP/$db.rows" | sort
	} >"$TMP/$db.sorted"
done
diff -u "$TMP/whole.sorted" "$TMP/merged.sorted" >"$TMP/whole.diff" || {
	head -n 40 "$TMP/whole.diff" >&2
	fail "the domains merged from the array differ from a single scan's"
}
n_domains=$(($(wc -l <"$TMP/whole.sorted") - 1))
((n_domains > 3000)) || fail "only $n_domains domains scanned"
note "slurm: merge job = single scan ($n_domains domains); Parquet, CSV, JSON Lines, report"

# --- Kubernetes: the manifests -------------------------------------------------------
python3 - "$K8S" "$TMP/k8s" <<'EOF' || fail "deploy/k8s/indexed-job.yaml (see above)"
import sys, yaml

path, out = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


def by_kind(kind):
    return [d for d in docs if d.get("kind") == kind]


for d in docs:
    check("apiVersion" in d and "kind" in d and "name" in d.get("metadata", {}),
          f"a document without apiVersion, kind or metadata.name: {d}")
jobs = {j["metadata"]["name"]: j for j in by_kind("Job")}
check(set(jobs) == {"mxcensus-scan", "mxcensus-merge"}, f"Jobs: {sorted(jobs)}")
pvcs = {p["metadata"]["name"]: p for p in by_kind("PersistentVolumeClaim")}
cms = {c["metadata"]["name"]: c for c in by_kind("ConfigMap")}
for j in jobs.values():
    check(j["apiVersion"] == "batch/v1", f"{j['metadata']['name']}: apiVersion {j['apiVersion']}")

scan = jobs["mxcensus-scan"]
spec = scan["spec"]
check(spec.get("completionMode") == "Indexed", "scan: completionMode is not Indexed")
n = spec.get("completions")
p = spec.get("parallelism")
check(isinstance(n, int) and n > 1, f"scan: completions {n!r}")
check(isinstance(p, int) and 1 <= p <= n, f"scan: parallelism {p!r} (completions {n!r})")
pod = spec["template"]["spec"]
check(pod.get("restartPolicy") == "Never" or "backoffLimitPerIndex" not in spec,
      "scan: backoffLimitPerIndex needs restartPolicy Never")
(c,) = pod["containers"]
env = {e["name"]: e.get("value") for e in c.get("env", [])}
check(env.get("SHARDS") == str(n), f"scan: SHARDS {env.get('SHARDS')!r} is not completions {n}")
args = c["args"]
check(c["command"] == ["mxcensus"] and args[0] == "scan", f"scan: command {c['command']} {args[:1]}")
i = args.index("--shard")
check(args[i + 1] in ("$(JOB_COMPLETION_INDEX)/$(SHARDS)", f"$(JOB_COMPLETION_INDEX)/{n}"),
      f"scan: --shard {args[i + 1]}")
db = args[args.index("--db") + 1]
check("$(JOB_COMPLETION_INDEX)" in db, f"scan: --db {db} is not per index")

# Volumes: every mount names a volume, the data volume is the PVC, RWX.
def check_volumes(name, podspec):
    vols = {v["name"]: v for v in podspec.get("volumes", [])}
    for ct in podspec.get("containers", []) + podspec.get("initContainers", []):
        for m in ct.get("volumeMounts", []):
            check(m["name"] in vols, f"{name}/{ct['name']}: mount of unknown volume {m['name']}")
    claim = vols.get("data", {}).get("persistentVolumeClaim", {}).get("claimName")
    check(claim in pvcs, f"{name}: data volume claims {claim!r}, not a PVC of the file")
    return vols

vols = check_volumes("scan", pod)
for pvc in pvcs.values():
    check("ReadWriteMany" in pvc["spec"]["accessModes"], "the PVC is not ReadWriteMany")
check(db.startswith("/data/") and c["volumeMounts"][0]["mountPath"] == "/data",
      f"scan: store {db} is not on the /data volume")
for ct in pod["containers"] + pod.get("initContainers", []):
    r = ct.get("resources", {})
    check("cpu" in r.get("requests", {}) and "memory" in r.get("requests", {}),
          f"scan/{ct['name']}: no cpu and memory requests")

# The sidecar: a native one (restartPolicy Always), its port the resolver's.
(side,) = pod["initContainers"]
check(side.get("restartPolicy") == "Always", "scan: the Unbound init container is no sidecar")
check(side["command"][0] == "unbound", f"scan: sidecar runs {side['command']}")
cm = cms[vols["unbound-conf"]["configMap"]["name"]]
conf = cm["data"]["unbound.conf"]
port = next(l.split(":")[1].strip() for l in conf.splitlines() if l.strip().startswith("port:"))
check(args[args.index("--resolver") + 1] == f"127.0.0.1:{port}",
      f"scan: --resolver {args[args.index('--resolver') + 1]}, Unbound listens on {port}")
check(side["startupProbe"]["tcpSocket"]["port"] == int(port), "scan: the startup probe is not on Unbound's port")

merge = jobs["mxcensus-merge"]
mpod = merge["spec"]["template"]["spec"]
check_volumes("merge", mpod)
(mc,) = mpod["containers"]
menv = {e["name"]: e.get("value") for e in mc.get("env", [])}
check(menv.get("SHARDS") == str(n), f"merge: SHARDS {menv.get('SHARDS')!r} is not completions {n}")
check(merge["metadata"]["labels"].get("app.kubernetes.io/component") == "merge",
      "merge: no component=merge label (the apply selector)")
check(scan["metadata"]["labels"].get("app.kubernetes.io/component") != "merge", "scan: labelled merge")

if errors:
    for e in errors:
        print("indexed-job.yaml:", e, file=sys.stderr)
    sys.exit(1)

# For the shell: the scan arguments (one a line), the merge script, the
# Unbound configuration.
import os
os.makedirs(out, exist_ok=True)
with open(f"{out}/scan.args", "w") as f:
    f.write("\n".join(args) + "\n")
with open(f"{out}/merge.sh", "w") as f:
    f.write(mc["args"][0])
with open(f"{out}/unbound.conf", "w") as f:
    f.write(conf)
with open(f"{out}/completions", "w") as f:
    f.write(f"{n}\n")
EOF
K8=$TMP/k8s
completions=$(cat "$K8/completions")

# The scan pod's arguments, expanded as the kubelet does, for index
# completions-1, on an empty list: every option must be accepted.
mkdir -p "$K8/data/input"
: >"$K8/data/input/domains.txt"
: >"$K8/data/input/optout.txt"
mapfile -t k8s_args <"$K8/scan.args"
last=$((completions - 1))
for ((i = 0; i < ${#k8s_args[@]}; i++)); do
	a=${k8s_args[i]//\$(JOB_COMPLETION_INDEX)/$last}
	a=${a//\$(SHARDS)/$completions}
	a=${a//\/data\//$K8/data/}
	[[ $a == 127.0.0.1:5353 ]] && a=$UNBOUND_ADDR
	k8s_args[i]=$a
done
[[ " ${k8s_args[*]} " == *" --shard $last/$completions "* ]] || fail "the YAML's --shard did not expand to $last/$completions"
mxc k8s-scan 60 "${k8s_args[@]}"
expect_rc k8s-scan 0
[[ -e $K8/data/census/shards/shard-$last/data.mdb ]] || fail "the YAML's scan made no store shard-$last"

unbound-checkconf "$K8/unbound.conf" >"$TMP/checkconf.log" 2>&1 || {
	cat "$TMP/checkconf.log" >&2
	fail "unbound-checkconf refuses the ConfigMap's unbound.conf"
}

# The merge Job's script on the Slurm run's shards, its outputs in $K8.
sed -e "s#/data/census/shards#$RUN/shards#g" -e "s#/data/census#$K8/census#g" \
	"$K8/merge.sh" >"$K8/merge.local.sh"
grep -q "/data/" "$K8/merge.local.sh" && fail "the merge Job's script uses /data outside /data/census"
RC=0
SHARDS=$n_shards timeout -k 10 300 sh "$K8/merge.local.sh" >"$K8/merge.log" 2>&1 || RC=$?
((RC == 0)) || { tail -n 20 "$K8/merge.log" >&2; fail "the merge Job's script: exit status $RC"; }
for what in domains hosts; do
	cmp -s "$K8/census/export/$what.parquet" "$EXPORT/$what.parquet" ||
		fail "the merge Job's $what.parquet differs from the Slurm merge job's"
done
[[ -s $K8/census/export/report.html ]] || fail "the merge Job wrote no report"
note "k8s: manifests sound; scan arguments accepted; merge Job = Slurm merge job"

# --- Analysis: docs/queries in DuckDB, checked against the CSV --------------------------
"$SRC/tests/parquet/install.sh" "$READERS" 2>"$TMP/install.err" || {
	cat "$TMP/install.err" >&2
	fail "the Parquet readers could not be installed"
}
# Runs the SQL files given, in one DuckDB session in the current
# directory, and prints the last statement's rows as JSON, one a line.
cat >"$READERS/scale-sql.mjs" <<'EOF'
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';

const sql = process.argv.slice(2).map((f) => readFileSync(f, 'utf8')).join('\n');
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const res = await con.runAndReadAll(sql);
for (const row of res.getRowObjectsJson())
	process.stdout.write(JSON.stringify(row) + '\n');
con.closeSync();
EOF
mkdir -p "$TMP/queries"
n_q=0
for q in "$QUERIES"/*.sql; do
	name=$(basename "$q" .sql)
	(cd "$EXPORT" && node "$READERS/scale-sql.mjs" "$QUERIES/duckdb/views.sql" "$q") \
		>"$TMP/queries/$name.json" 2>"$TMP/queries/$name.err" || {
		cat "$TMP/queries/$name.err" >&2
		fail "DuckDB could not run docs/queries/$name.sql"
	}
	[[ -s $TMP/queries/$name.json ]] || fail "docs/queries/$name.sql returned no rows"
	n_q=$((n_q + 1))
done
((n_q >= 4)) || fail "docs/queries holds $n_q queries, expected 4 or more"

python3 - "$EXPORT/domains.csv" "$EXPORT/hosts.csv" "$TMP/queries" <<'EOF' || fail "the DuckDB results disagree with the CSV export (see above)"
import collections, csv, json, os, re, sys

domains = list(csv.DictReader(open(sys.argv[1], newline="")))
hosts = list(csv.DictReader(open(sys.argv[2], newline="")))
qdir = sys.argv[3]
errors = []


def pct(x, total):
    return None if total == 0 else 100.0 * x / total


def primary(d):
    """The host of the first pref:host of mx_hosts."""
    return d["mx_hosts"].split(";")[0].split(":")[1]


def provider(host):
    m = re.search(r"[^.]+[.][^.]+$", host)
    return m.group(0) if m else host


def adoption_per_tld():
    rows = collections.defaultdict(lambda: collections.Counter())
    for d in domains:
        c = rows[d["tld"]]
        c["domains"] += 1
        if d["mx_status"] not in ("ok", "implicit"):
            continue
        c["mail_domains"] += 1
        c["dnssec_secure"] += d["dnssec"] == "secure"
        c["starttls_all"] += d["starttls"] == "all"
        c["dane_valid"] += d["dane"] == "valid"
        c["mta_sts_enforce"] += d["mta_sts_policy"] == "ok" and d["mta_sts_mode"] == "enforce"
        c["tls_rpt"] += d["tls_rpt"] == "valid"
        c["dmarc_enforcing"] += d["dmarc"] in ("reject", "quarantine")
    out = []
    for tld, c in sorted(rows.items(), key=lambda kv: (-kv[1]["domains"], kv[0])):
        r = {"tld": tld, "domains": c["domains"], "mail_domains": c["mail_domains"]}
        for k in ("dnssec_secure", "starttls_all", "dane_valid", "mta_sts_enforce",
                  "tls_rpt", "dmarc_enforcing"):
            r[k] = c[k]
            r[k + "_pct"] = pct(c[k], c["mail_domains"])
        out.append(r)
    return out


def downgrade_exposure():
    count = collections.Counter((d["tld"], d["downgrade_exposure"] or "not-measured")
                                for d in domains)
    per_tld = collections.Counter(d["tld"] for d in domains)
    keys = sorted(count, key=lambda k: (k[0], -count[k], k[1]))
    return [{"tld": t, "exposure": e, "domains": count[(t, e)],
             "pct_of_tld": pct(count[(t, e)], per_tld[t])} for t, e in keys]


def top_providers():
    rows = collections.defaultdict(lambda: collections.Counter())
    mx = [d for d in domains if d["mx_hosts"]]
    for d in mx:
        c = rows[provider(primary(d))]
        c["domains"] += 1
        c["starttls_all"] += d["starttls"] == "all"
        c["dane_valid"] += d["dane"] == "valid"
        c["mta_sts_enforce"] += d["mta_sts_policy"] == "ok" and d["mta_sts_mode"] == "enforce"
    order = sorted(rows.items(), key=lambda kv: (-kv[1]["domains"], kv[0]))[:25]
    return [{"provider": p, "domains": c["domains"], "pct_of_mx_domains": pct(c["domains"], len(mx)),
             "starttls_all": c["starttls_all"], "dane_valid": c["dane_valid"],
             "mta_sts_enforce": c["mta_sts_enforce"]} for p, c in order]


def primary_mx_hosts():
    by_host = collections.defaultdict(list)
    for h in hosts:
        if h["status"] not in ("", "blocked"):
            by_host[h["mx_host"]].append(h)
    rows = collections.defaultdict(lambda: collections.Counter())
    for d in domains:
        if not d["mx_hosts"]:
            continue
        addrs = by_host[primary(d)]
        c = rows[d["tld"]]
        c["mx_domains"] += 1
        if not addrs:
            continue
        c["primary_probed"] += 1
        c["primary_starttls"] += all(h["starttls_offered"] == "true" for h in addrs)
        c["primary_pkix_valid"] += all(h["pkix_valid"] == "true" for h in addrs)
        c["primary_dane_match"] += all(h["dane_result"] in ("match-ee", "match-ta") for h in addrs)
    out = []
    for tld, c in sorted(rows.items(), key=lambda kv: (-kv[1]["mx_domains"], kv[0])):
        r = {"tld": tld}
        for k in ("mx_domains", "primary_probed", "primary_starttls",
                  "primary_pkix_valid", "primary_dane_match"):
            r[k] = c[k]
        out.append(r)
    return out


checks = {"adoption_per_tld": adoption_per_tld, "downgrade_exposure": downgrade_exposure,
          "top_providers": top_providers, "primary_mx_hosts": primary_mx_hosts}


def same(want, got):
    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, float):
        # DuckDB rounds to one decimal: within half a unit of the last digit.
        return abs(float(got) - want) <= 0.05 + 1e-9
    if isinstance(want, int):
        return int(got) == want
    return want == got


names = sorted(f[:-5] for f in os.listdir(qdir) if f.endswith(".json"))
for name in names:
    if name not in checks:
        errors.append(f"{name}.sql: no check in test_scale.sh computes its result")
        continue
    got = [json.loads(l) for l in open(f"{qdir}/{name}.json")]
    want = checks[name]()
    if len(got) != len(want):
        errors.append(f"{name}: {len(got)} rows, the CSV gives {len(want)}")
    for i, (w, g) in enumerate(zip(want, got)):
        if list(w) != list(g):
            errors.append(f"{name}: row {i}: columns {list(g)}, expected {list(w)}")
            break
        bad = [k for k in w if not same(w[k], g[k])]
        if bad:
            errors.append(f"{name}: row {i}: {', '.join(f'{k} = {g[k]} (CSV: {w[k]})' for k in bad)}")

# Not a vacuous agreement: the world has each thing these queries count.
a = adoption_per_tld()
for k in ("mail_domains", "dnssec_secure", "starttls_all", "dane_valid", "mta_sts_enforce"):
    if sum(r[k] for r in a) == 0:
        errors.append(f"the world gives no domain with {k}: the check proves little")
if len({r["exposure"] for r in downgrade_exposure()}) < 4:
    errors.append("fewer than 4 downgrade exposure classes in the world")
if sum(r["primary_probed"] for r in primary_mx_hosts()) == 0:
    errors.append("no domain's primary MX was probed")

for e in errors:
    print("test_scale:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
note "analysis: $n_q queries in DuckDB agree with the CSV export"

# Compiled in memory: py_compile would write into the source tree.
python3 -c 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")' \
	"$QUERIES/spark/report.py" 2>"$TMP/pyc.err" || {
	cat "$TMP/pyc.err" >&2
	fail "docs/queries/spark/report.py does not compile"
}

# --- Every mxcensus option the documents name exists ---------------------------------
for cmd in scan merge export report compare; do
	"$MXCENSUS" "$cmd" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u >"$TMP/help-$cmd"
	[[ -s $TMP/help-$cmd ]] || fail "mxcensus $cmd --help lists no options"
done
python3 - "$TMP" "$SRC/docs/SCALE.md" "$SRC/deploy/README.md" "$SLURM/mxcensus-scan.sbatch" \
	"$SLURM/mxcensus-merge.sbatch" "$K8S" <<'EOF' || fail "a document names an option mxcensus does not have (see above)"
import re, sys

tmp, files = sys.argv[1], sys.argv[2:]
helps = {c: set(open(f"{tmp}/help-{c}").read().split())
         for c in ("scan", "merge", "export", "report", "compare")}
bad, seen = [], 0
for path in files:
    text = open(path).read()
    # Backslash-continued lines are one command.
    text = re.sub(r"\\\n", " ", text)
    for lineno, line in enumerate(text.splitlines(), 1):
        # `mxcensus CMD ...` up to the end of the line or of a code span, and
        # MXC_SCAN_OPTS="...", which holds scan options.
        spans = [(m.group(1), m.group(2)) for m in
                 re.finditer(r"mxcensus\"?\s+(scan|merge|export|report|compare)\b([^`|;]*)", line)]
        spans += [("scan", m.group(1)) for m in re.finditer(r'MXC_SCAN_OPTS="([^"]*)"', line)]
        for cmd, rest in spans:
            for opt in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", rest):
                seen += 1
                if opt not in helps[cmd] and opt != "--help":
                    bad.append(f"{path}:{lineno}: mxcensus {cmd} has no {opt}")
# The YAML's scan arguments are a list, one option an item.
yml = open(files[-1]).read()
for m in re.finditer(r"^\s*- (--[a-z][a-z0-9-]*)\s*$", yml, re.M):
    seen += 1
    if m.group(1) not in helps["scan"]:
        bad.append(f"{files[-1]}: mxcensus scan has no {m.group(1)}")
for b in bad:
    print(b, file=sys.stderr)
if seen < 20:
    print(f"only {seen} options found in the documents: is the extraction broken?", file=sys.stderr)
    sys.exit(1)
sys.exit(1 if bad else 0)
EOF
note "ok: Slurm array, Kubernetes Jobs and the queries of docs/SCALE.md work here"
