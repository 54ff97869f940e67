#!/usr/bin/env python3
"""Save the raw DNS answers of the signed test world as seed files.

For every row of truth_dnssec.csv, and for the DNSKEY and DS RRsets of
every zone the world hosts, this asks the world's servers one question
with the DO bit (so that RRSIG, NSEC and NSEC3 records come back) and
writes the answer message, byte for byte as received, to a file. Unbound
is asked with RD and CD set, the way the scanner asks it: the answer is the
data whatever its DNSSEC state, bogus included. NSD is asked without RD:
the authoritative answer of the zone that holds the name, a referral with
its DS or NSEC proof at a zone cut. These files seed the fuzz corpus of the
scanner's validator, which must parse every one of them.

Only the standard library: the world's machines have python3 but not
dnspython, and a query is a few dozen bytes to build by hand. Answers are
matched on the ID and the question before they are kept; a truncated UDP
answer is asked again over TCP.

Usage: dump_answers.py --unbound ADDR:PORT --nsd ADDR:PORT --truth CSV
       --zones DIR [--server unbound|nsd|both] OUTDIR
(tests/world/dump_answers.sh fills these in from a running world's env.)
"""

import argparse
import csv
import os
import secrets
import socket
import struct
import sys

TYPES = {
    "A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
    "AAAA": 28, "SRV": 33, "DNAME": 39, "DS": 43, "RRSIG": 46, "NSEC": 47,
    "DNSKEY": 48, "NSEC3": 50, "NSEC3PARAM": 51, "TLSA": 52, "ANY": 255,
}
EDNS_SIZE = 1232
TIMEOUT = 3.0
TRIES = 2


class DumpError(Exception):
    pass


def qtype_code(name):
    name = name.upper()
    if name in TYPES:
        return TYPES[name]
    if name.startswith("TYPE") and name[4:].isdigit() and int(name[4:]) < 65536:
        return int(name[4:])
    raise DumpError(f"unknown record type {name!r}")


def wire_name(name):
    """Presentation name (no escapes) to wire format, lower-cased."""
    name = name.rstrip(".").lower()
    out = bytearray()
    if name:
        for label in name.split("."):
            raw = label.encode("ascii")
            if not 0 < len(raw) < 64:
                raise DumpError(f"bad label {label!r} in {name!r}")
            out.append(len(raw))
            out += raw
    out.append(0)
    if len(out) > 255:
        raise DumpError(f"name too long: {name!r}")
    return bytes(out)


def build_query(qid, qname, qtype, rd):
    """Header, one question, and an OPT record with DO set (RFC 6891)."""
    flags = 0x0010  # CD: give the data even if it does not validate
    if rd:
        flags |= 0x0100
    header = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 1)
    question = qname + struct.pack("!HH", qtype, 1)
    opt = b"\x00" + struct.pack("!HHIH", 41, EDNS_SIZE, 0x00008000, 0)
    return header + question + opt


def answers_question(msg, qid, question):
    """True if msg is a response to our query: same ID, same question."""
    if len(msg) < 12 + len(question):
        return False
    rid, flags, qd = struct.unpack("!HHH", msg[:6])
    if rid != qid or not flags & 0x8000 or qd != 1:
        return False
    got = msg[12:12 + len(question)]
    return got.lower() == question.lower()


def ask_udp(addr, query, qid, question):
    family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(TIMEOUT)
        s.connect(addr)
        s.send(query)
        while True:
            msg = s.recv(65535)
            if answers_question(msg, qid, question):
                return msg
            # Anything else is not ours: keep waiting until the timeout.


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise DumpError("TCP connection closed mid-answer")
        buf += chunk
    return bytes(buf)


def ask_tcp(addr, query, qid, question):
    family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(TIMEOUT)
        s.connect(addr)
        s.sendall(struct.pack("!H", len(query)) + query)
        (n,) = struct.unpack("!H", recv_exact(s, 2))
        msg = recv_exact(s, n)
    if not answers_question(msg, qid, question):
        raise DumpError("TCP answer does not match the question")
    return msg


def ask(addr, name, qtype, rd):
    qname = wire_name(name)
    question = qname + struct.pack("!HH", qtype, 1)
    last = None
    for _ in range(TRIES):
        qid = secrets.randbelow(65536)
        query = build_query(qid, qname, qtype, rd)
        try:
            msg = ask_udp(addr, query, qid, question)
            if struct.unpack("!H", msg[2:4])[0] & 0x0200:  # TC
                msg = ask_tcp(addr, query, qid, question)
            return msg
        except (OSError, DumpError) as e:  # socket.timeout is an OSError
            last = e
    raise DumpError(f"no answer from {addr[0]}:{addr[1]}: {last}")


def parse_addr(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise DumpError(f"address {text!r} is not ADDR:PORT")
    return host.strip("[]"), int(port)


def file_name(server, name, qtype):
    """A portable file name: '*' and '.' spelled out, nothing else odd."""
    base = name.rstrip(".").lower() or "root"
    base = base.replace("*", "star")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in base)
    return f"{server}-{safe}-{qtype.upper()}.bin"


def questions(truth, zones_dir):
    """(name, type) pairs: the truth rows, then each zone's DNSKEY and DS."""
    seen = []
    with open(truth, newline="") as f:
        rows = csv.DictReader(f)
        if rows.fieldnames is None or rows.fieldnames[:2] != ["name", "type"]:
            raise DumpError(f"{truth}: the header does not start with name,type")
        for ln, row in enumerate(rows, start=2):
            if not row["name"] or not row["type"]:
                raise DumpError(f"{truth}:{ln}: empty name or type")
            seen.append((row["name"], row["type"].upper()))
    for entry in sorted(os.listdir(zones_dir)):
        if not entry.endswith(".zone"):
            continue
        zone = entry[:-len(".zone")]
        zone = "." if zone == "root" else zone
        seen.append((zone, "DNSKEY"))
        if zone != ".":
            seen.append((zone, "DS"))
    out = []
    for q in seen:
        if q not in out:
            out.append(q)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--unbound", required=True, help="Unbound's ADDR:PORT")
    ap.add_argument("--nsd", required=True, help="NSD's ADDR:PORT")
    ap.add_argument("--truth", required=True, help="truth_dnssec.csv")
    ap.add_argument("--zones", required=True, help="the world's zones/ copies")
    ap.add_argument("--server", choices=("unbound", "nsd", "both"), default="both")
    ap.add_argument("outdir")
    args = ap.parse_args()

    try:
        servers = []
        if args.server in ("unbound", "both"):
            servers.append(("unbound", parse_addr(args.unbound), True))
        if args.server in ("nsd", "both"):
            servers.append(("nsd", parse_addr(args.nsd), False))
        qs = questions(args.truth, args.zones)
    except (OSError, DumpError) as e:
        print(f"dump_answers: {e}", file=sys.stderr)
        return 2

    os.makedirs(args.outdir, exist_ok=True)
    written = failed = 0
    for server, addr, rd in servers:
        for name, qtype in qs:
            try:
                msg = ask(addr, name, qtype_code(qtype), rd)
            except DumpError as e:
                print(f"dump_answers: {server} {name} {qtype}: {e}", file=sys.stderr)
                failed += 1
                continue
            path = os.path.join(args.outdir, file_name(server, name, qtype))
            with open(path + ".tmp", "wb") as f:
                f.write(msg)
            os.replace(path + ".tmp", path)
            written += 1
    print(f"dump_answers: {written} answers written to {args.outdir}"
          + (f", {failed} questions unanswered" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
