#!/usr/bin/env python3
"""Count the distinct signed RRsets a validating scan of a population needs.

    count_rrsets.py SIGNED_ZONE QUERIES

SIGNED_ZONE is the `bench.` zone as ldns-signzone wrote it (NSEC3, one
record a line, names fully qualified); QUERIES is the population's
queries.txt, which holds exactly the questions mxcensus asks (see
gen_population.py). The scan judges some of those answers (scanner/job.c):
every domain's MX answer, and every mail host's A, AAAA and TLSA answers
(an implicit-MX domain is its own mail host). In queries.txt these are the
MX and TLSA questions and the A and AAAA questions of a name whose TLSA is
asked; the TXT answers, and the addresses of domains without mail, are kept
unjudged. Of a judged answer the validator verifies the answer section and,
for a denial, every NSEC3 record of the authority section (RFC 5155 §7.2:
NODATA carries the NSEC3 matching the name; NXDOMAIN the one matching the
closest encloser, the one covering the next closer name and the one
covering the wildcard at the closest encloser). So the signed RRsets a scan
can need are:

  * (name, type) for every judged question with records,
  * each distinct NSEC3 record that some judged denial carries,
  * the DNSKEY RRset of the zone (the chain of trust starts there).

If the validator verified every RRset at most once while its TTL held
(every TTL in the population is a day, far longer than a scan), its count of
signature verifications is at most this number; anything above it is an
RRset verified again. Printed as one line of `key=value` pairs, for
run_dnssec.sh.
"""

import base64
import bisect
import hashlib
import sys


def wire(name):
    """The canonical (lower-case) wire form of a presentation name."""
    out = bytearray()
    for label in name.rstrip(".").split(".") if name != "." else []:
        b = label.lower().encode("ascii")
        out.append(len(b))
        out += b
    out.append(0)
    return bytes(out)


def nsec3_hash(name, salt, iterations):
    h = hashlib.sha1(wire(name) + salt).digest()
    for _ in range(iterations):
        h = hashlib.sha1(h + salt).digest()
    return base64.b32hexencode(h).decode("ascii").lower()


def parent(name):
    """name without its first label ("a.b." -> "b."), "." stays."""
    if name == ".":
        return None
    rest = name.split(".", 1)[1]
    return rest if rest else "."


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: count_rrsets.py SIGNED_ZONE QUERIES")
    zone_file, queries_file = sys.argv[1], sys.argv[2]
    types = {}              # owner -> set of types with records
    hashes = []             # NSEC3 owner hashes
    apex = None
    salt, iterations = b"", None
    with open(zone_file) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split(";", 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            if len(fields) < 5 or fields[2] != "IN":
                sys.exit("%s:%d: expected 'owner ttl IN type rdata'"
                         % (zone_file, lineno))
            owner, rtype = fields[0].lower(), fields[3].upper()
            if rtype == "SOA":
                apex = owner
            if rtype == "NSEC3PARAM":
                iterations = int(fields[6])
                salt = b"" if fields[7] == "-" else bytes.fromhex(fields[7])
            if rtype == "NSEC3":
                hashes.append(owner.split(".", 1)[0])
                continue
            if rtype == "RRSIG":
                continue
            types.setdefault(owner, set()).add(rtype)
    if apex is None or iterations is None:
        sys.exit("%s: no SOA or no NSEC3PARAM: not an NSEC3-signed zone"
                 % zone_file)
    # Empty non-terminals exist too (they own NSEC3 records).
    exists = set(types)
    for name in list(types):
        p = parent(name)
        while p is not None and p != apex and p.endswith(apex):
            exists.add(p)
            p = parent(p)
    hashes.sort()
    hash_set = set(hashes)

    def match(name):
        h = nsec3_hash(name, salt, iterations)
        if h not in hash_set:
            sys.exit("%s: no NSEC3 record for existing name %s" % (zone_file, name))
        return h

    def cover(name):
        h = nsec3_hash(name, salt, iterations)
        i = bisect.bisect_left(hashes, h)
        if i < len(hashes) and hashes[i] == h:
            sys.exit("%s: %s is said not to exist but has an NSEC3 record"
                     % (zone_file, name))
        return hashes[i - 1]     # i == 0 wraps round to the last one

    questions = []
    mail_hosts = set()
    with open(queries_file) as f:
        for line in f:
            fields = line.split()
            if len(fields) != 2:
                continue
            name = fields[0].lower()
            if not name.endswith("."):
                name += "."
            qtype = fields[1].upper()
            questions.append((name, qtype))
            if qtype == "TLSA" and name.startswith("_25._tcp."):
                mail_hosts.add(name[len("_25._tcp."):])

    positive = set()
    nsec3 = set()
    kinds = dict(positive=0, nodata=0, nxdomain=0)
    for name, qtype in questions:
        if not (qtype in ("MX", "TLSA") or
                (qtype in ("A", "AAAA") and name in mail_hosts)):
            continue
        if qtype in types.get(name, ()):
            kinds["positive"] += 1
            positive.add((name, qtype))
        elif name in exists:
            kinds["nodata"] += 1
            nsec3.add(match(name))
        else:
            kinds["nxdomain"] += 1
            ce, nc = parent(name), name
            while ce not in exists:
                ce, nc = parent(ce), ce
            nsec3.add(match(ce))
            nsec3.add(cover(nc))
            nsec3.add(cover("*." + ce))
    total = len(positive) + len(nsec3) + 1
    print("judged=%d positive=%d nodata=%d nxdomain=%d "
          "rrsets=%d nsec3=%d dnskey=1 distinct=%d nsec3_in_zone=%d"
          % (sum(kinds.values()), kinds["positive"], kinds["nodata"],
             kinds["nxdomain"], len(positive), len(nsec3), total,
             len(hashes)))


if __name__ == "__main__":
    main()
