#!/usr/bin/env python3
"""Reads mxcensus exports for the end-to-end tests.

The exports are RFC 4180 CSV (fields may be quoted) or JSON Lines, so the
shell tests do not parse them with cut or awk: they ask this tool.

  csvtool.py project FILE COL[,COL...]     selected columns, tab-separated,
                                           one line per row, sorted
  csvtool.py drop FILE COL[,COL...]        every column but these, with a
                                           header line of the names kept
  csvtool.py count FILE                    number of data rows
  csvtool.py check-domains FILE            per-row sanity of a domains export
  csvtool.py check-hosts FILE TRUTH        hosts export against truth_hosts.csv

FILE ending in .jsonl is read as JSON Lines; list values are joined with
";" so that both formats project to the same text. Exits 1 with a message
on any failed check or missing column, 2 on bad usage.
"""

import csv
import json
import re
import sys


def die(msg, code=1):
    sys.stderr.write("csvtool: %s\n" % msg)
    sys.exit(code)


def cell(v):
    if v is None:
        return ""
    if isinstance(v, list):
        return ";".join(cell(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def read_rows(path):
    """Return (header, rows) with rows as dicts of strings."""
    try:
        f = open(path, newline="", encoding="utf-8")
    except OSError as e:
        die("cannot read %s: %s" % (path, e))
    with f:
        if path.endswith(".jsonl"):
            rows, header = [], []
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    die("%s:%d: not JSON: %s" % (path, n, e))
                if not isinstance(obj, dict):
                    die("%s:%d: not a JSON object" % (path, n))
                for k in obj:
                    if k not in header:
                        header.append(k)
                rows.append({k: cell(v) for k, v in obj.items()})
            return header, rows
        reader = csv.reader(f, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            die("%s is empty (no header row)" % path)
        except csv.Error as e:
            die("%s: bad CSV: %s" % (path, e))
        rows = []
        try:
            for rec in reader:
                if len(rec) != len(header):
                    die("%s:%d: %d fields, header has %d"
                        % (path, reader.line_num, len(rec), len(header)))
                rows.append(dict(zip(header, rec)))
        except csv.Error as e:
            die("%s:%d: bad CSV: %s" % (path, reader.line_num, e))
        return header, rows


def need(header, cols, path):
    missing = [c for c in cols if c not in header]
    if missing:
        die("%s lacks column(s) %s (has: %s)"
            % (path, ",".join(missing), ",".join(header)))


def cmd_project(path, cols):
    header, rows = read_rows(path)
    cols = cols.split(",")
    need(header, cols, path)
    lines = sorted("\t".join(r.get(c, "") for c in cols) for r in rows)
    for line in lines:
        print(line)


def cmd_drop(path, cols):
    header, rows = read_rows(path)
    cols = cols.split(",")
    need(header, cols, path)
    keep = [c for c in header if c not in cols]
    print("\t".join(keep))
    for line in sorted("\t".join(r.get(c, "") for c in keep) for r in rows):
        print(line)


def cmd_count(path):
    _, rows = read_rows(path)
    print(len(rows))


RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
STATUSES = {"ok", "null-mx", "implicit", "no-mail", "nxdomain", "servfail",
            "timeout"}
MX_ENTRY = re.compile(r"^(\d{1,5}):([a-z0-9_-]+(\.[a-z0-9_-]+)*)$")


def cmd_check_domains(path):
    """Checks that hold for every row of any domains export."""
    header, rows = read_rows(path)
    need(header, ["domain", "tld", "run_id", "scanned_at", "mx_status",
                  "mx_hosts"], path)
    bad = []
    seen = set()
    for r in rows:
        d = r["domain"]
        if d in seen:
            bad.append("%s: appears more than once" % d)
        seen.add(d)
        if d != d.lower() or d.endswith(".") or not d.isascii():
            bad.append("%s: not a lower-case A-label without a trailing dot"
                       % d)
        if r["tld"] != d.rsplit(".", 1)[-1]:
            bad.append("%s: tld %r is not its last label" % (d, r["tld"]))
        if not r["run_id"]:
            bad.append("%s: empty run_id" % d)
        if not RFC3339.match(r["scanned_at"]):
            bad.append("%s: scanned_at %r is not RFC 3339"
                       % (d, r["scanned_at"]))
        if r["mx_status"] not in STATUSES:
            bad.append("%s: unknown mx_status %r" % (d, r["mx_status"]))
        hosts = r["mx_hosts"]
        if hosts:
            entries = hosts.split(";")
            keys = []
            for e in entries:
                m = MX_ENTRY.match(e)
                if not m:
                    bad.append("%s: bad mx_hosts entry %r" % (d, e))
                    break
                keys.append((int(m.group(1)), m.group(2)))
            else:
                if keys != sorted(keys):
                    bad.append("%s: mx_hosts not sorted by preference, name:"
                               " %s" % (d, hosts))
    if bad:
        die("%s:\n  %s" % (path, "\n  ".join(bad)))


def tlsa_set(s):
    return sorted(" ".join(e.lower().split()) for e in s.split(";") if e)


def cmd_check_hosts(path, truth_path):
    """Every host named in the truth file has exactly the addresses the
    truth lists (none for rows with an empty ip), port 25, and on each
    address the TLSA records listed (compared as sets)."""
    header, rows = read_rows(path)
    need(header, ["mx_host", "ip", "port", "tlsa_records"], path)
    _, truth = read_rows(truth_path)
    want = {}
    for t in truth:
        want.setdefault(t["mx_host"], {})
        if t["ip"]:
            want[t["mx_host"]][t["ip"]] = t
    got = {}
    for r in rows:
        if r["mx_host"] in want and r["ip"]:
            key = (r["mx_host"], r["ip"], r["port"])
            if key in got:
                die("%s: row %s appears twice" % (path, "/".join(key)))
            got[key] = r
    bad = []
    for host, addrs in sorted(want.items()):
        have = sorted(ip for (h, ip, _) in got if h == host)
        if have != sorted(addrs):
            bad.append("%s: addresses %s, expected %s"
                       % (host, have or "none", sorted(addrs) or "none"))
            continue
        for ip, t in sorted(addrs.items()):
            r = got.get((host, ip, t["port"]))
            if r is None:
                bad.append("%s %s: no row with port %s" % (host, ip,
                                                           t["port"]))
                continue
            if tlsa_set(r["tlsa_records"]) != tlsa_set(t["tlsa_records"]):
                bad.append("%s %s: tlsa_records %r, expected %r"
                           % (host, ip, r["tlsa_records"],
                              t["tlsa_records"]))
    if bad:
        die("%s against %s:\n  %s" % (path, truth_path, "\n  ".join(bad)))


def main(argv):
    cmds = {
        "project": (cmd_project, 2),
        "drop": (cmd_drop, 2),
        "count": (cmd_count, 1),
        "check-domains": (cmd_check_domains, 1),
        "check-hosts": (cmd_check_hosts, 2),
    }
    if len(argv) < 2 or argv[1] not in cmds:
        die("usage: csvtool.py %s ..." % "|".join(cmds), 2)
    fn, nargs = cmds[argv[1]]
    if len(argv) != 2 + nargs:
        die("%s takes %d argument(s)" % (argv[1], nargs), 2)
    fn(*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
