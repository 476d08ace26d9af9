#!/usr/bin/env python3
"""A tiny forward HTTP proxy for tailship's transport tests: proves that the agent's requests
really went through the proxy named by `http_proxy` / `https_proxy`, and that `no_proxy`
keeps them away from it.

Usage: python3 http_proxy.py --port 0 [--exit-on-stdin-eof]
Prints `LISTENING <port>` once ready; binds 127.0.0.1 only; exits on SIGTERM/SIGINT.

- `POST http://host:port/path HTTP/1.1` (absolute URI, any method): forwarded to the origin
  over a fresh connection, the answer relayed with `Connection: close` (one request per client
  connection keeps the relay simple; libcurl reconnects).
- `CONNECT host:port HTTP/1.1`: `200 Connection established`, then bytes are piped both ways
  until either side closes (TLS to the origin travels inside).
- `GET /_proxy/stats` (origin form, to the proxy itself): `{"requests": N, "tunnels": N,
  "targets": {"host:port": N}}` counted since start, or since `POST /_proxy/reset`.
"""

import argparse
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import urllib.parse

HOP_BY_HOP = {"connection", "proxy-connection", "keep-alive", "proxy-authorization", "te", "trailer",
              "upgrade"}
MAX_HEAD = 64 * 1024


class Stats:
    """What the proxy handled; shared by every connection thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests, self.tunnels, self.targets = 0, 0, {}

    def count(self, kind, target):
        with self.lock:
            if kind == "tunnel":
                self.tunnels += 1
            else:
                self.requests += 1
            self.targets[target] = self.targets.get(target, 0) + 1

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests, "tunnels": self.tunnels, "targets": dict(self.targets)}


def read_head(rfile):
    """The request or status line and the header lines, or None at a clean end of stream."""
    first = rfile.readline(MAX_HEAD)
    if not first:
        return None
    lines, size = [], len(first)
    while True:
        line = rfile.readline(MAX_HEAD)
        size += len(line)
        if not line or size > MAX_HEAD:
            raise ValueError("incomplete or oversized head")
        if line in (b"\r\n", b"\n"):
            break
        lines.append(line.rstrip(b"\r\n").decode("latin-1"))
    headers = []
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return first.rstrip(b"\r\n").decode("latin-1"), headers


def header(headers, name):
    return next((v for k, v in headers if k.lower() == name), None)


def pipe(source, sink):
    """Copies bytes until `source` ends, then half-closes `sink` so the other side sees EOF."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            head = read_head(self.rfile)
        except (ValueError, OSError):
            return self.answer(400, {"error": "bad request head"})
        if head is None:
            return
        line, headers = head
        parts = line.split(" ")
        if len(parts) != 3:
            return self.answer(400, {"error": f"bad request line {line!r}"})
        method, target, _ = parts
        if method == "CONNECT":
            return self.tunnel(target)
        if target.startswith("/_proxy/"):
            return self.control(method, target)
        return self.forward(method, target, headers)

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.wfile.write(f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                         f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                         f"Connection: close\r\n\r\n".encode() + body)

    def control(self, method, target):
        if method == "GET" and target == "/_proxy/stats":
            return self.answer(200, self.server.stats.snapshot())
        if method == "POST" and target == "/_proxy/reset":
            self.server.stats.reset()
            return self.answer(200, {"reset": True})
        return self.answer(404, {"error": f"no proxy endpoint {method} {target}"})

    def connect(self, host, port):
        try:
            return socket.create_connection((host, port), timeout=10)
        except OSError as e:
            self.answer(502, {"error": f"cannot reach {host}:{port}: {e}"})
            return None

    def tunnel(self, target):
        host, _, port = target.rpartition(":")
        if not host or not port.isdigit():
            return self.answer(400, {"error": f"bad CONNECT target {target!r}"})
        upstream = self.connect(host.strip("[]"), int(port))
        if upstream is None:
            return
        self.server.stats.count("tunnel", target)
        upstream.settimeout(None)
        with upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            # Clients wait for this 200 before their TLS hello, so rfile holds nothing unread.
            back = threading.Thread(target=pipe, args=(upstream, self.connection), daemon=True)
            back.start()
            pipe(self.connection, upstream)
            back.join()

    def forward(self, method, target, headers):
        url = urllib.parse.urlsplit(target)
        if url.scheme != "http" or not url.hostname:
            return self.answer(400, {"error": f"not an absolute http URI: {target!r}"})
        if "chunked" in (header(headers, "transfer-encoding") or "").lower():
            return self.answer(501, {"error": "chunked request bodies are not supported"})
        body = self.rfile.read(int(header(headers, "content-length") or 0))
        port = url.port or 80
        upstream = self.connect(url.hostname, port)
        if upstream is None:
            return
        self.server.stats.count("request", f"{url.hostname}:{port}")
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        kept = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
        out = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in kept] + ["Connection: close", "", ""]
        with upstream:
            upstream.sendall("\r\n".join(out).encode("latin-1") + body)
            reply = upstream.makefile("rb")
            try:
                status, answer_headers = read_head(reply)
            except (TypeError, ValueError, OSError):
                return  # the origin dropped us: drop the client too, as the origin meant
            kept = [(k, v) for k, v in answer_headers if k.lower() not in HOP_BY_HOP]
            lines = [status] + [f"{k}: {v}" for k, v in kept] + ["Connection: close", "", ""]
            self.wfile.write("\r\n".join(lines).encode("latin-1"))
            while True:  # the origin closes after its answer (we asked it to)
                data = reply.read1(65536)
                if not data:
                    break
                self.wfile.write(data)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128


def main(argv=None):
    ap = argparse.ArgumentParser(description="Tiny forward HTTP proxy (absolute URIs and CONNECT).")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port)")
    ap.add_argument("--exit-on-stdin-eof", action="store_true",
                    help="exit when stdin closes (so a crashed parent never leaks the proxy)")
    args = ap.parse_args(argv)
    server = Server(("127.0.0.1", args.port), Handler)
    server.stats = Stats()

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    if args.exit_on_stdin_eof:
        def watch_stdin():
            while os.read(0, 65536):
                pass
            server.shutdown()
        threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
