#!/usr/bin/env python3
"""Generate a synthetic mail population for the DNS benchmark.

    gen_population.py N OUTDIR [--seed S]

writes, for N domains (up to 1,000,000) under the TLD zone "bench.":

  OUTDIR/bench.zone    the zone NSD serves (authoritative for all of it)
  OUTDIR/domains.txt   the input list for mxcensus, one domain a line
  OUTDIR/queries.txt   a dnsperf data file with exactly the questions
                       mxcensus asks for this population
  OUTDIR/meta.json     counts: domains, hosts, queries, queries per domain,
                       and the realised share of each feature

The shares follow what large real populations look like, roughly:
mail hosts are concentrated Zipf-like on about N/200 host names (providers
with two MX hosts each: a few huge, a long tail of small ones); about 3% of
the domains have no MX (half of those have an address, RFC 5321 implicit MX,
the rest no mail at all), 1% publish a null MX (RFC 7505), 60% SPF at the
apex, 30% DMARC, 10% an MTA-STS record, 5% TLS-RPT, and 2% of the MX hosts
TLSA records. Everything is drawn from one seeded random generator, so the
same N and seed always give the same files.

The query file mirrors the scanner's questions (see docs/ARCHITECTURE.md):
per domain MX, TXT at the apex, at _dmarc, _mta-sts and _smtp._tls; per
distinct MX host, once, A, AAAA and TLSA _25._tcp.<host>; and A and AAAA of
a domain without MX, plus TLSA _25._tcp.<domain> when it has an address (it
is then its own mail host; the scanner's cache answers its A/AAAA again). The resolver's cache and coalescing make mxcensus ask
each host once, so this is the work both tools do for one pass, and dnsperf's
rate divided by queries per domain is the ceiling for mxcensus' domains/s.

Addresses are documentation ranges only (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32): data, never contacted.
"""

import argparse
import bisect
import json
import os
import random
import sys

TLD = "bench"
MAX_N = 1_000_000

SHARE_NO_MX = 0.03        # of domains; half implicit, half no mail
SHARE_NULL_MX = 0.01
SHARE_SPF = 0.60
SHARE_DMARC = 0.30
SHARE_MTA_STS = 0.10
SHARE_TLS_RPT = 0.05
SHARE_TLSA_HOST = 0.02    # of MX hosts
SHARE_SECOND_MX = 0.70    # domains at a provider that list its second host
SHARE_AAAA_HOST = 0.50    # MX hosts with an IPv6 address
ZIPF_S = 1.1

SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "si", "pe", "da",
             "gu", "ba", "fe", "zo", "hi", "wu", "xi", "jo", "ce", "ly")


def domain_name(rng, i):
    """A readable, unique second-level label: syllables plus the index."""
    k = rng.randint(2, 4)
    return "".join(rng.choice(SYLLABLES) for _ in range(k)) + str(i)


def doc_v4(k):
    nets = ("192.0.2", "198.51.100", "203.0.113")
    return "%s.%d" % (nets[k % 3], 1 + (k // 3) % 254)


def doc_v6(k):
    return "2001:db8:%x::%x" % ((k >> 16) & 0xFFFF, (k & 0xFFFF) or 1)


def build(n, seed):
    rng = random.Random(seed)
    n_providers = max(1, n // 400)      # two hosts each: ~N/200 host names
    weights = [1.0 / (p + 1) ** ZIPF_S for p in range(n_providers)]
    cum = []
    total = 0.0
    for w in weights:
        total += w
        cum.append(total)

    def pick_provider():
        return min(bisect.bisect_left(cum, rng.random() * total),
                   n_providers - 1)

    domains = []    # (name, kind, provider, two_mx, spf, dmarc, sts, rpt)
    for i in range(n):
        name = domain_name(rng, i)
        r = rng.random()
        if r < SHARE_NO_MX / 2:
            kind = "implicit"
        elif r < SHARE_NO_MX:
            kind = "nomail"
        elif r < SHARE_NO_MX + SHARE_NULL_MX:
            kind = "nullmx"
        else:
            kind = "mx"
        prov = pick_provider() if kind == "mx" else -1
        two = kind == "mx" and rng.random() < SHARE_SECOND_MX
        spf = rng.random() < SHARE_SPF
        # A no-mail domain must still exist (NODATA, not NXDOMAIN), or the
        # scanner would not ask its addresses: give it "v=spf1 -all", as
        # parked domains often have.
        domains.append((name, kind, prov, two, spf or kind == "nomail",
                        rng.random() < SHARE_DMARC,
                        rng.random() < SHARE_MTA_STS,
                        rng.random() < SHARE_TLS_RPT))
    return rng, domains


def host_name(p, which):
    return "mx%d.mail%d.%s" % (which, p, TLD)


def write(outdir, n, seed):
    rng, domains = build(n, seed)
    used_hosts = []             # in order of first use
    seen = set()
    for d in domains:
        if d[1] != "mx":
            continue
        for which in ((1, 2) if d[3] else (1,)):
            h = host_name(d[2], which)
            if h not in seen:
                seen.add(h)
                used_hosts.append(h)
    # Host attributes, drawn in a fixed order after the domains.
    host_attr = {}
    for k, h in enumerate(sorted(used_hosts)):
        host_attr[h] = (k, rng.random() < SHARE_AAAA_HOST,
                        rng.random() < SHARE_TLSA_HOST)

    os.makedirs(outdir, exist_ok=True)
    tmp = lambda f: os.path.join(outdir, f + ".tmp")
    counts = dict(mx=0, implicit=0, nomail=0, nullmx=0, spf=0, dmarc=0,
                  mta_sts=0, tls_rpt=0)
    n_queries = 0
    with open(tmp("bench.zone"), "w") as z, \
            open(tmp("domains.txt"), "w") as lst, \
            open(tmp("queries.txt"), "w") as q:
        z.write("; Synthetic population of %d domains (seed %d), generated"
                " by bench/gen_population.py.\n" % (n, seed))
        z.write("$ORIGIN %s.\n$TTL 86400\n" % TLD)
        z.write("@ IN SOA ns1.%s. hostmaster.%s. 1 3600 600 86400 300\n"
                % (TLD, TLD))
        z.write("@ IN NS ns1.%s.\nns1 IN A 127.0.0.1\n" % TLD)
        asked = set()
        for i, (name, kind, prov, two, spf, dmarc, sts, rpt) in \
                enumerate(domains):
            fq = "%s.%s" % (name, TLD)
            lst.write(fq + "\n")
            counts[kind] += 1
            for qn, qt in ((fq, "MX"), (fq, "TXT"), ("_dmarc." + fq, "TXT"),
                           ("_mta-sts." + fq, "TXT"),
                           ("_smtp._tls." + fq, "TXT")):
                q.write("%s %s\n" % (qn, qt))
                n_queries += 1
            if kind == "mx":
                z.write("%s IN MX 10 %s.\n" % (name, host_name(prov, 1)))
                if two:
                    z.write("%s IN MX 20 %s.\n" % (name, host_name(prov, 2)))
                for which in ((1, 2) if two else (1,)):
                    h = host_name(prov, which)
                    if h in asked:
                        continue
                    asked.add(h)
                    for qn, qt in ((h, "A"), (h, "AAAA"),
                                   ("_25._tcp." + h, "TLSA")):
                        q.write("%s %s\n" % (qn, qt))
                        n_queries += 1
            elif kind == "nullmx":
                z.write("%s IN MX 0 .\n" % name)
            else:
                if kind == "implicit":
                    z.write("%s IN A %s\n" % (name, doc_v4(len(asked) + 7)))
                for qt in ("A", "AAAA"):
                    q.write("%s %s\n" % (fq, qt))
                    n_queries += 1
                if kind == "implicit":
                    # The domain is its own mail host: it gets the host's
                    # TLSA question too (its A/AAAA are already cached).
                    q.write("_25._tcp.%s TLSA\n" % fq)
                    n_queries += 1
            if spf:
                counts["spf"] += 1
                z.write('%s IN TXT "v=spf1 %s -all"\n'
                        % (name, "mx" if kind == "mx" else ""))
            if dmarc:
                counts["dmarc"] += 1
                z.write('_dmarc.%s IN TXT "v=DMARC1; p=%s"\n'
                        % (name, ("none", "quarantine", "reject")[i % 3]))
            if sts:
                counts["mta_sts"] += 1
                z.write('_mta-sts.%s IN TXT "v=STSv1; id=20260101T000000;"\n'
                        % name)
            if rpt:
                counts["tls_rpt"] += 1
                z.write('_smtp._tls.%s IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@'
                        '%s"\n' % (name, fq))
        n_tlsa = 0
        for h in sorted(used_hosts):
            k, v6, tlsa = host_attr[h]
            rel = h[:-len(TLD) - 1]
            z.write("%s IN A %s\n" % (rel, doc_v4(k)))
            if v6:
                z.write("%s IN AAAA %s\n" % (rel, doc_v6(k)))
            if tlsa:
                n_tlsa += 1
                z.write("_25._tcp.%s IN TLSA 3 1 1 %064x\n"
                        % (rel, rng.getrandbits(256)))
    for f in ("bench.zone", "domains.txt", "queries.txt"):
        os.replace(tmp(f), os.path.join(outdir, f))

    # Concentration: share of MX domains served by the 10 largest providers.
    per_prov = {}
    for d in domains:
        if d[1] == "mx":
            per_prov[d[2]] = per_prov.get(d[2], 0) + 1
    top10 = sum(sorted(per_prov.values(), reverse=True)[:10])
    meta = {
        "domains": n,
        "seed": seed,
        "tld": TLD,
        "mx_hosts": len(used_hosts),
        "providers_used": len(per_prov),
        "tlsa_hosts": n_tlsa,
        "queries": n_queries,
        "queries_per_domain": round(n_queries / n, 4),
        "top10_provider_share": round(top10 / max(1, counts["mx"]), 4),
        "counts": counts,
    }
    with open(tmp("meta.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp("meta.json"), os.path.join(outdir, "meta.json"))
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="number of domains (1..%d)" % MAX_N)
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=20260101)
    args = ap.parse_args()
    if not 1 <= args.n <= MAX_N:
        ap.error("N must be in 1..%d" % MAX_N)
    meta = write(args.outdir, args.n, args.seed)
    json.dump(meta, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
