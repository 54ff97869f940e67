#!/usr/bin/env python3
"""stall.py - the hostile MTA-STS policy servers nginx will not play.

Five TLS listeners on one port, one address each:

  --stall ADDR    completes the TLS handshake, reads the request, then says
                  nothing until the client gives up (or 120 s pass)
  --drip ADDR     answers 200 text/plain and sends a policy one byte every
                  half second, never finishing within any sane deadline
  --endless ADDR  answers 200 text/plain without a length and sends
                  64 KiB blocks as fast as the client reads, up to 1 GiB
  --garbage ADDR  answers the request with binary garbage, not HTTP
  --headers ADDR  answers 200 and then header lines without end

A fetcher that honours RFC 8461 must give up on the stall and the drip at
its deadline, on the endless body after 64 KiB, on the garbage at once and
on the headers at its own cap. Each connection is a daemon thread
with its own time bound, so a client that vanishes costs the world nothing.
--ready FILE is created once every socket listens. SIGTERM ends the process.
Python standard library only.
"""
import argparse
import socket
import ssl
import sys
import threading
import time

# Bound on anything one connection may take, and on connections at once.
CONN_LIMIT_S = 120
MAX_CONNS = 128
ENDLESS_MAX = 1 << 30

slots = threading.BoundedSemaphore(MAX_CONNS)


def read_request(tls):
    """Read the request head (bounded); False if the client went away."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(4096)
        if not chunk:
            return False
        data += chunk
        if len(data) > 16384:
            return False
    return True


def stall(tls):
    # Wait for the client to close; recv returns b"" then.
    tls.settimeout(CONN_LIMIT_S)
    while tls.recv(4096):
        pass


def drip(tls):
    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 80\r\nConnection: close\r\n\r\n")
    body = b"version: STSv1\nmode: enforce\nmx: mail.drip.sts.test\nmax_age: 604800\n"
    end = time.monotonic() + CONN_LIMIT_S
    for i in range(len(body)):
        if time.monotonic() > end:
            return
        tls.sendall(body[i:i + 1])
        time.sleep(0.5)


def endless(tls):
    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                b"Connection: close\r\n\r\n")
    block = (b"x-pad: " + b"0" * 56 + b"\n") * 1024
    sent = 0
    end = time.monotonic() + CONN_LIMIT_S
    while sent < ENDLESS_MAX and time.monotonic() < end:
        tls.sendall(block)
        sent += len(block)


def garbage(tls):
    # Bytes that start no HTTP status line, then the end of the connection.
    tls.sendall(bytes((i * 151 + 7) % 256 for i in range(4096)))


def headers(tls):
    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")
    line = b"X-Pad: " + b"h" * 90 + b"\r\n"
    end = time.monotonic() + CONN_LIMIT_S
    sent = 0
    while sent < ENDLESS_MAX and time.monotonic() < end:
        tls.sendall(line * 64)
        sent += len(line) * 64


def handle(conn, ctx, mode):
    try:
        conn.settimeout(10)
        with ctx.wrap_socket(conn, server_side=True) as tls:
            if not read_request(tls):
                return
            mode(tls)
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()
        slots.release()


def serve(sock, ctx, mode):
    while True:
        conn, _ = sock.accept()
        if not slots.acquire(blocking=False):
            conn.close()
            continue
        threading.Thread(target=handle, args=(conn, ctx, mode), daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--stall", required=True)
    ap.add_argument("--drip", required=True)
    ap.add_argument("--endless", required=True)
    ap.add_argument("--garbage", required=True)
    ap.add_argument("--headers", required=True)
    ap.add_argument("--ready", required=True)
    a = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    listeners = []
    for addr, mode in ((a.stall, stall), (a.drip, drip), (a.endless, endless),
                       (a.garbage, garbage), (a.headers, headers)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, a.port))
        s.listen(64)
        listeners.append((s, mode))
    threads = [threading.Thread(target=serve, args=(s, ctx, m), daemon=True)
               for s, m in listeners]
    for t in threads:
        t.start()
    with open(a.ready, "w") as f:
        f.write("ready\n")
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
