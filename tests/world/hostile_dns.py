#!/usr/bin/env python3
"""A deliberately bad DNS server for the resolver's robustness tests.

It listens on one UDP port of the loopback and answers every query in one of
several hostile ways, so that tests can check that the scanner's resolver
never accepts a response it should not, and still finishes its run:

  garbage   random bytes: some without any structure, some that start with
            the query's ID, some cut inside the header or the question
  wrongid   a well-formed answer whose ID is not the query's
  mismatch  the query's ID, but the question (name, or type) is another one
  servfail  a well-formed SERVFAIL for the query (a plain finding)
  delay     a well-formed answer, sent only after --delay seconds
  silent    reads queries and never answers

The well-formed answers give every MX question one record, "10 <--mx-host>",
and every other question an empty NOERROR answer (NODATA), so a scanner that
wrongly accepts one of the bad responses shows it as an "ok" row with that
host. Each query received is logged as one line on stdout, so a test can tell
the scanner did talk to this server.

Standard library only. Only loopback addresses are accepted for --addr.
"""

import argparse
import heapq
import ipaddress
import os
import random
import selectors
import signal
import socket
import struct
import sys
import time

TYPE_MX = 15
MODES = ("garbage", "wrongid", "mismatch", "servfail", "delay", "silent")


def parse_query(msg):
    """Return (id, flags, qname_wire, qtype, qclass) or None if unusable."""
    if len(msg) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    if qdcount != 1 or flags & 0x8000:
        return None
    pos = 12
    while True:
        if pos >= len(msg):
            return None
        n = msg[pos]
        if n & 0xC0:
            return None  # no compression in a question we accept
        pos += 1 + n
        if n == 0:
            break
    if pos + 4 > len(msg):
        return None
    qname = msg[12:pos]
    qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
    return qid, flags, qname, qtype, qclass


def name_to_text(wire):
    labels = []
    pos = 0
    while wire[pos]:
        n = wire[pos]
        labels.append(wire[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    return ".".join(labels) + "."


def text_to_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def answer(qid, flags, qname, qtype, qclass, mx_host, rcode=0):
    """A response to the question; MX questions get one MX record."""
    rd = flags & 0x0100
    hdr_flags = 0x8000 | 0x0080 | rd | rcode  # QR, RA, RD copied, rcode
    records = b""
    ancount = 0
    if rcode == 0 and qtype == TYPE_MX:
        rdata = struct.pack("!H", 10) + text_to_wire(mx_host)
        # Owner: a pointer to the question name at offset 12.
        records = struct.pack("!HHHIH", 0xC00C, TYPE_MX, qclass, 300,
                              len(rdata)) + rdata
        ancount = 1
    header = struct.pack("!HHHHHH", qid, hdr_flags, 1, ancount, 0, 0)
    return header + qname + struct.pack("!HH", qtype, qclass) + records


class Server:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        family = socket.AF_INET6 if ":" in args.addr else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((args.addr, args.port))
        self.sock.setblocking(False)
        self.pending = []  # heap of (due, seq, payload, peer)
        self.seq = 0
        self.queries = 0

    @property
    def port(self):
        return self.sock.getsockname()[1]

    def log(self, text):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def send_later(self, delay, payload, peer):
        self.seq += 1
        heapq.heappush(self.pending,
                       (time.monotonic() + delay, self.seq, payload, peer))

    def garbage(self, msg):
        """Several bad datagrams for one query."""
        rng = self.rng
        out = [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 600)))]
        if len(msg) >= 2:
            # The right ID, then noise: only a parser can reject this.
            out.append(msg[:2] + bytes(rng.getrandbits(8)
                                       for _ in range(rng.randint(0, 300))))
            # The query echoed as a response but cut short.
            cut = bytearray(msg[:rng.randint(2, max(2, len(msg) - 1))])
            if len(cut) >= 3:
                cut[2] |= 0x80
            out.append(bytes(cut))
            # A header claiming records that are not there.
            out.append(msg[:2] + struct.pack("!HHHHH", 0x8180, 1, 5, 0, 0))
        return out

    def handle(self, msg, peer):
        self.queries += 1
        q = parse_query(msg)
        if q is None:
            self.log("unparsable query from %s:%d" % peer[:2])
            return
        qid, flags, qname, qtype, qclass = q
        self.log("query id=%d name=%s type=%d from %s:%d"
                 % (qid, name_to_text(qname), qtype, peer[0], peer[1]))
        mode = self.args.mode
        mx = self.args.mx_host
        if mode == "silent":
            return
        if mode == "garbage":
            for payload in self.garbage(msg):
                self.send_later(0, payload, peer)
        elif mode == "wrongid":
            self.send_later(0, answer(qid ^ 0x5A5A, flags, qname, qtype,
                                      qclass, mx), peer)
        elif mode == "mismatch":
            if self.queries % 2:
                other = text_to_wire("evil." + name_to_text(qname))
                self.send_later(0, answer(qid, flags, other, qtype, qclass,
                                          mx), peer)
            else:
                other_type = TYPE_MX if qtype != TYPE_MX else 1
                self.send_later(0, answer(qid, flags, qname, other_type,
                                          qclass, mx), peer)
        elif mode == "servfail":
            self.send_later(0, answer(qid, flags, qname, qtype, qclass, mx,
                                      rcode=2), peer)
        elif mode == "delay":
            self.send_later(self.args.delay,
                            answer(qid, flags, qname, qtype, qclass, mx),
                            peer)

    def flush_due(self):
        now = time.monotonic()
        while self.pending and self.pending[0][0] <= now:
            _, _, payload, peer = heapq.heappop(self.pending)
            try:
                self.sock.sendto(payload, peer)
            except OSError as e:
                self.log("send to %s:%d failed: %s" % (peer[0], peer[1], e))

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        while True:
            timeout = None
            if self.pending:
                timeout = max(0.0, self.pending[0][0] - time.monotonic())
            for _key, _ev in sel.select(timeout):
                while True:
                    try:
                        msg, peer = self.sock.recvfrom(65535)
                    except BlockingIOError:
                        break
                    except ConnectionRefusedError:
                        continue
                    self.handle(msg, peer)
            self.flush_due()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=MODES, required=True)
    ap.add_argument("--addr", default="127.0.0.1",
                    help="loopback address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0,
                    help="UDP port; 0 (default) picks a free one")
    ap.add_argument("--port-file",
                    help="write the port here once listening (atomically)")
    ap.add_argument("--delay", type=float, default=3.0,
                    help="seconds before answering in delay mode")
    ap.add_argument("--mx-host", default="mx.hostile.test",
                    help="host of the MX record in well-formed answers")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not ipaddress.ip_address(args.addr).is_loopback:
        ap.error("--addr must be a loopback address")

    # Exit quietly on SIGTERM/SIGINT: tests stop this server by its PID.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))

    server = Server(args)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.port)
        os.replace(tmp, args.port_file)
    server.log("listening on %s:%d mode=%s" % (args.addr, server.port,
                                               args.mode))
    server.run()


if __name__ == "__main__":
    main()
