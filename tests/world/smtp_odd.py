#!/usr/bin/env python3
"""A scripted SMTP server for the odd and hostile cases of the test world.

Usage:
  smtp_odd.py --listen ADDR:PORT --mode MODE [--cert F --key F]
              [--pidfile F] [--portfile F] [--name NAME]

ADDR is an IPv4 address or a bracketed IPv6 one ([::1]:2525). PORT 0 picks a
free port; --portfile then receives it (written atomically once listening,
as is --pidfile, so a caller can wait for either file to appear).

Modes (what the server does; a prober's expected finding in brackets):
  ok                EHLO offers STARTTLS, the handshake works (--cert/--key,
                    the cert file may hold the whole chain)      [ok]
  plain             EHLO offers no STARTTLS                     [no-starttls]
  stripped          EHLO says XXXXXXXA where STARTTLS was       [no-starttls,
                                                                 ehlo-stripped]
  reject454         STARTTLS answered 454                       [starttls-rejected]
  drop-at-starttls  the connection is closed at STARTTLS        [starttls-rejected]
  banner-forever    a multi-line banner that never ends         [banner-error
                                                                 or timeout]
  drip              everything is sent one byte per second      [timeout]
  garbage-tls       220 to STARTTLS, then garbage, no ServerHello [tls-failed]
  silent            accepts and says nothing                    [timeout]

It never accepts mail (MAIL, RCPT, DATA get 502). Each connection runs in a
thread and ends when the client leaves or after at most --max-conn-seconds.
SIGTERM and SIGINT stop the server. Python standard library only.
"""
import argparse
import os
import signal
import socket
import ssl
import sys
import threading
import time

MODES = ("ok", "plain", "stripped", "reject454", "drop-at-starttls",
         "banner-forever", "drip", "garbage-tls", "silent")


class Conn:
    """One client: a line reader and a writer over a socket or TLS socket."""

    def __init__(self, sock, args, tls_ctx):
        self.sock = sock
        self.args = args
        self.tls_ctx = tls_ctx
        self.buf = b""
        self.deadline = time.monotonic() + args.max_conn_seconds

    def send(self, data):
        if self.args.mode == "drip":
            for i in range(len(data)):
                if time.monotonic() > self.deadline:
                    raise OSError("deadline")
                self.sock.sendall(data[i:i + 1])
                time.sleep(1.0)
        else:
            self.sock.sendall(data)

    def reply(self, *lines):
        out = b""
        for i, line in enumerate(lines):
            sep = b" " if i == len(lines) - 1 else b"-"
            out += line[:3] + sep + line[4:] + b"\r\n"
        self.send(out)

    def readline(self):
        while b"\n" not in self.buf:
            if len(self.buf) > 4096 or time.monotonic() > self.deadline:
                return None
            self.sock.settimeout(max(0.1, self.deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(4096)
            except (OSError, socket.timeout):
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def ehlo_lines(self, greeting, tls_active):
        name = self.args.name.encode()
        lines = [b"250 " + name + b" greets " + greeting, b"250 PIPELINING",
                 b"250 SIZE 10240000"]
        mode = self.args.mode
        if not tls_active:
            if mode == "stripped":
                lines.append(b"250 XXXXXXXA")
            elif mode != "plain":
                lines.append(b"250 STARTTLS")
        lines += [b"250 ENHANCEDSTATUSCODES", b"250 8BITMIME"]
        return lines

    def starttls(self):
        mode = self.args.mode
        if mode in ("plain", "stripped"):
            self.reply(b"502 5.5.1 command not recognized")
            return True
        if mode == "reject454":
            self.reply(b"454 4.7.0 TLS not available due to temporary reason")
            return True
        if mode == "drop-at-starttls":
            return False
        if mode == "garbage-tls":
            self.reply(b"220 2.0.0 Ready to start TLS")
            junk = b"this is not a TLS ServerHello\r\n" * 8
            try:
                self.sock.sendall(junk)
                time.sleep(min(5.0, max(0.0, self.deadline - time.monotonic())))
            except OSError:
                pass
            return False
        self.reply(b"220 2.0.0 Ready to start TLS")
        if self.buf:
            # Pipelined bytes after STARTTLS: refuse to carry them into TLS.
            return False
        self.sock.settimeout(10)
        self.sock = self.tls_ctx.wrap_socket(self.sock, server_side=True)
        return "tls"

    def run(self):
        mode = self.args.mode
        name = self.args.name.encode()
        if mode == "silent":
            self.sock.settimeout(max(0.1, self.deadline - time.monotonic()))
            try:
                while self.sock.recv(4096):
                    pass
            except OSError:
                pass
            return
        if mode == "banner-forever":
            n = 0
            while time.monotonic() < self.deadline:
                self.sock.sendall(b"220-%s still greeting you, line %d\r\n" % (name, n))
                n += 1
                time.sleep(0.01)
            return
        self.reply(b"220 " + name + b" ESMTP smtp_odd")
        tls_active = False
        while True:
            line = self.readline()
            if line is None:
                return
            verb = line.split(b" ", 1)[0].upper()
            arg = line[len(verb) + 1:].strip()
            if verb == b"EHLO":
                self.reply(*self.ehlo_lines(arg, tls_active))
            elif verb == b"HELO":
                self.reply(b"250 " + name)
            elif verb == b"STARTTLS" and not tls_active:
                r = self.starttls()
                if r is False:
                    return
                if r == "tls":
                    tls_active = True
            elif verb == b"QUIT":
                self.reply(b"221 2.0.0 Bye")
                return
            elif verb in (b"NOOP", b"RSET"):
                self.reply(b"250 2.0.0 OK")
            else:
                self.reply(b"502 5.5.2 not implemented here")


def serve_one(sock, args, tls_ctx):
    try:
        Conn(sock, args, tls_ctx).run()
    except (OSError, ssl.SSLError, ValueError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def parse_listen(s):
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
        return socket.AF_INET6, host, int(port)
    host, _, port = s.rpartition(":")
    if not host or not port:
        raise ValueError("--listen wants ADDR:PORT, got %r" % s)
    return socket.AF_INET, host, int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True, help="ADDR:PORT or [ADDR6]:PORT")
    ap.add_argument("--mode", required=True, choices=MODES)
    ap.add_argument("--cert", help="PEM certificate (chain) for STARTTLS")
    ap.add_argument("--key", help="PEM private key for STARTTLS")
    ap.add_argument("--pidfile", help="write the PID here once listening")
    ap.add_argument("--portfile", help="write the bound port here once listening")
    ap.add_argument("--name", default="odd.test", help="name in the banner")
    ap.add_argument("--max-conn-seconds", type=float, default=120.0,
                    help="longest life of one connection")
    args = ap.parse_args()

    tls_ctx = None
    if args.mode == "ok":
        if not args.cert or not args.key:
            ap.error("--mode ok needs --cert and --key")
        tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_ctx.load_cert_chain(args.cert, args.key)

    try:
        family, host, port = parse_listen(args.listen)
    except ValueError as e:
        ap.error(str(e))
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(128)

    def stop(signum, frame):
        srv.close()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.portfile:
        write_atomic(args.portfile, "%d\n" % srv.getsockname()[1])
    if args.pidfile:
        write_atomic(args.pidfile, "%d\n" % os.getpid())
    while True:
        try:
            sock, _ = srv.accept()
        except OSError:
            return 0
        t = threading.Thread(target=serve_one, args=(sock, args, tls_ctx), daemon=True)
        t.start()


if __name__ == "__main__":
    sys.exit(main())
