#!/usr/bin/env python3
"""A local stand-in for Mixpanel's Ingestion API, for tailship's end-to-end tests,
benchmark and demo. It reproduces INGESTION_API.md section 9: /import (auth, gzip,
JSON/NDJSON, 413, strict validation, dedup store), /track, /engage, /groups, plus fault
injection and inspection under /_control/ on the same port.

Usage: python3 fake_ingest.py --port 0 [--project-id P --sa-user U --sa-secret S --token T
       --secret X --max-body-bytes N --id-merge original|simplified --store full|summary|none
       --tls-cert FILE --tls-key FILE]
Prints `LISTENING <port>` once ready; binds 127.0.0.1 only; exits on SIGTERM/SIGINT.
With --tls-cert/--tls-key the port speaks HTTPS, and a second, plain-HTTP port serving the
same state (control API included) is announced on a following `CONTROL <port>` line.
See README.md for the control API.
"""

import argparse
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mp_import  # noqa: E402
import mp_legacy  # noqa: E402
from mp_body import dumps, loads  # noqa: E402
from mp_state import DEFAULT_CONFIG, HOSTILE_DEFAULT_BYTES, STORE_MODES, Chaos, ConfigError, State, \
    validate_config_update, validate_fault  # noqa: E402

INGEST_ROUTES = {
    "/import": (mp_import.handle, ("POST",)),
    "/track": (mp_legacy.handle_track, ("POST", "GET")),
    "/engage": (lambda s, r: mp_legacy.handle_profiles(s, r, False), ("POST", "GET")),
    "/groups": (lambda s, r: mp_legacy.handle_profiles(s, r, True), ("POST", "GET")),
}

UPSTREAM_TEXT = b"upstream connect error or disconnect/reset before headers"
RATE_LIMIT = {"code": 429, "error": "Project exceeded rate limits. Please retry the request with "
                                    "exponential backoff.", "status": "Too Many Requests"}


def fault_response(fault, cfg):
    """The (status, body, content_type, headers) an injected fault answers with."""
    status = fault["status"]
    headers = {str(k): str(v) for k, v in (fault.get("headers") or {}).items()}
    if fault.get("retry_after") is not None:
        headers["Retry-After"] = str(fault["retry_after"])
    if "body" in fault:
        body = fault["body"]
        if isinstance(body, str):
            return status, body.encode("utf-8"), fault.get("content_type", "text/plain"), headers
        return status, dumps(body), fault.get("content_type", "application/json"), headers
    if status == 429:
        return status, dumps(RATE_LIMIT), "application/json", headers
    if status == 401:
        return mp_import.error_401()[:3] + (headers,)
    if status == 413:
        return mp_import.error_413(cfg["max_body_bytes"])[:3] + (headers,)
    if status == 400:
        return mp_import.error_400("injected bad request")[:3] + (headers,)
    if status in (502, 503, 504):
        return status, UPSTREAM_TEXT, "text/plain", headers
    return status, f"{status} injected fault".encode(), "text/plain", headers


class Request:
    """What an endpoint handler needs from one HTTP request."""
    __slots__ = ("method", "path", "query", "headers", "content_type", "raw", "seq", "log", "body_bytes")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real clients (libcurl) expect
    server_version = "fake-mixpanel/1.0"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            # Here, on the connection's own thread, not in accept(): a client that stalls or
            # refuses our certificate must not hold up the listener.
            self.connection.settimeout(10)
            self.connection.do_handshake()
            self.connection.settimeout(None)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_PUT(self):
        self._route("PUT")

    def do_DELETE(self):
        self._route("DELETE")

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body, ctype, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _hostile(self, mode, size):
        """Answers without ingesting, with more than a client should read, streamed in 64 KiB
        writes so the server never holds it; stops when the client closes the connection."""
        size = size or HOSTILE_DEFAULT_BYTES[mode]
        self.close_connection = True
        chunk = b"x" * 65536
        try:
            if mode == "long_error":
                head = b'{"code":400,"error":"'
                tail = b'","status":"Bad Request"}'
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(head) + size + len(tail)))
                self.end_headers()
                self.wfile.write(head)
                self._stream(b"E" * 65536, size)
                self.wfile.write(tail)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if mode == "huge":
                self.send_header("Content-Length", str(size))
            elif mode == "endless":
                self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            if mode == "endless":
                while True:
                    self.wfile.write(b"10000\r\n" + chunk + b"\r\n")
            self._stream(chunk, size)
        except OSError:
            pass  # the client stopped reading, which is what a careful client does

    def _stream(self, chunk, size):
        left = size
        while left > 0:
            piece = chunk if left >= len(chunk) else chunk[:left]
            self.wfile.write(piece)
            left -= len(piece)

    def _json(self, status, obj):
        self._send(status, dumps(obj), "application/json")

    def _drop(self):
        """Closes the connection with a TCP reset and no answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _route(self, method):
        path, _, qs = self.path.partition("?")
        if path.startswith("/_control/"):
            return self._control(method, path[len("/_control/"):].strip("/"), qs)
        route = INGEST_ROUTES.get(path.rstrip("/") or "/")
        raw = self._read_body()
        if route is None:
            return self._send(404, b"not found", "text/plain")
        if method not in route[1]:
            return self._send(405, b"method not allowed", "text/plain", {"Allow": ", ".join(route[1])})
        self._ingest(path.rstrip("/"), route[0], method, qs, raw)

    def _ingest(self, path, handler, method, qs, raw):
        app = self.server.app
        req = Request()
        req.method, req.path, req.raw, req.body_bytes = method, path, raw, len(raw)
        req.query = urllib.parse.parse_qs(qs, keep_blank_values=True, encoding="latin-1")
        req.headers = {k.lower(): v for k, v in self.headers.items()}
        req.content_type = (req.headers.get("content-type") or "").lower()
        req.seq = app.next_request_seq()
        encoding = req.headers.get("content-encoding")
        req.log = log = {
            "seq": req.seq, "time_ms": int(time.time() * 1000), "method": method, "path": path,
            "query": qs, "content_type": req.content_type, "content_encoding": encoding,
            "gzip": (encoding or "").lower() in ("gzip", "x-gzip"), "bytes": len(raw),
            "auth": None, "events": None, "imported": None, "failed": None, "status": None,
        }
        counts = (0, 0, 0)
        fault = app.next_fault()
        if fault:
            log["fault"] = fault
            if fault.get("delay_ms"):
                time.sleep(fault["delay_ms"] / 1000)
            if fault.get("hostile"):
                log["status"], log["hostile"] = 200 if fault["hostile"] != "long_error" else 400, fault["hostile"]
                app.record_request(log, len(raw), 0, 0, 0, 0)
                return self._hostile(fault["hostile"], fault.get("hostile_bytes"))
            if fault.get("reset_before_ingest"):
                log["status"], log["reset"] = "reset", True
                self._drop()
                return app.record_request(log, len(raw), 0, 0, 0, 0)
            if fault.get("status"):
                status, body, ctype, headers = fault_response(fault, app.config)
                log["status"] = status
                self._send(status, body, ctype, headers)
                return app.record_request(log, len(raw), 0, 0, 0, 0)
        try:
            (status, body, ctype, headers), counts = handler(app, req)
        except Exception:  # a bug in the fake must be loud, not a hung client
            traceback.print_exc()
            status, body, ctype, headers = 500, b"fake server error", "text/plain", {}
        if fault and fault.get("reset_after_ingest"):
            log["status"], log["reset"] = "reset", True
            log["answer"] = status
            self._drop()
        else:
            log["status"] = status
            try:
                self._send(status, body, ctype, headers)
            except OSError:
                # The client gave up first (its timeout, after a delay fault): the events are
                # ingested all the same, as Mixpanel would, and the log says so.
                log["client_gone"] = True
                self.close_connection = True
        app.record_request(log, len(raw), req.body_bytes, *counts)

    def _control(self, method, name, qs):
        app = self.server.app
        raw = self._read_body()
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(qs).items()}
        try:
            payload = loads(raw) if raw.strip() else None
            if method == "GET" and name == "events":
                if app.store_mode != "full":
                    return self._json(409, {"error": f"store mode {app.store_mode!r} keeps no events"})
                limit = int(q["limit"]) if "limit" in q else None
                return self._json(200, app.snapshot_events(
                    dedup=q.get("view") == "dedup", endpoint=q.get("endpoint"),
                    offset=int(q.get("offset", 0)), limit=limit))
            if method == "GET" and name == "stats":
                return self._json(200, app.snapshot_stats())
            if method == "GET" and name == "requests":
                with app.lock:
                    log = list(app.log)
                limit = int(q.get("limit", len(log)))
                return self._json(200, log[-limit:] if limit else [])
            if method == "GET" and name == "profiles":
                return self._json(200, app.snapshot_profiles())
            if name == "config":
                if method == "POST":
                    update = validate_config_update(payload or {})
                    with app.lock:
                        app.config.update(update)
                with app.lock:
                    return self._json(200, dict(app.config))
            if name == "faults":
                if method == "POST":
                    faults = payload if isinstance(payload, list) else [payload]
                    faults = [validate_fault(f) for f in faults]
                    with app.lock:
                        if q.get("replace") == "1":
                            app.faults.clear()
                        app.faults.extend(faults)
                with app.lock:
                    return self._json(200, list(app.faults))
            if method == "POST" and name == "chaos":
                chaos = Chaos(**(payload or {}))
                with app.lock:
                    app.chaos = chaos if chaos.active else None
                return self._json(200, chaos.describe())
            if method == "POST" and name == "reset":
                app.reset()
                return self._json(200, {"reset": True})
            if method == "GET" and name == "health":
                return self._send(200, b"ok", "text/plain")
            return self._json(404, {"error": f"no control endpoint {method} /_control/{name}"})
        except (ConfigError, ValueError, TypeError) as e:
            return self._json(400, {"error": str(e)})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client refusing our certificate (the point of some tests) is not a server bug.
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError, socket.timeout)):
            return
        super().handle_error(request, client_address)


def tls_context(cert, key):
    """A server-side TLS context for `cert` (PEM, chain allowed) and its `key`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Local fake of Mixpanel's Ingestion API.")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port)")
    ap.add_argument("--project-id", default=DEFAULT_CONFIG["project_id"])
    ap.add_argument("--sa-user", default=DEFAULT_CONFIG["sa_user"], help="service account username")
    ap.add_argument("--sa-secret", default=DEFAULT_CONFIG["sa_secret"], help="service account secret")
    ap.add_argument("--token", default=DEFAULT_CONFIG["token"], help="project token")
    ap.add_argument("--secret", default=DEFAULT_CONFIG["secret"], help="legacy project API secret")
    ap.add_argument("--max-body-bytes", type=int, default=DEFAULT_CONFIG["max_body_bytes"],
                    help="cap on the decompressed body (10485760; 2097152 mimics the old cap)")
    ap.add_argument("--max-events", type=int, default=DEFAULT_CONFIG["max_events"])
    ap.add_argument("--max-event-bytes", type=int, default=DEFAULT_CONFIG["max_event_bytes"])
    ap.add_argument("--id-merge", choices=("original", "simplified"), default=DEFAULT_CONFIG["id_merge"])
    ap.add_argument("--clock-offset-ms", type=int, default=0, help="added to the server's clock")
    ap.add_argument("--store", choices=STORE_MODES, default="full",
                    help="full: every copy; summary: dedup keys and counts only; none: counts only")
    ap.add_argument("--exit-on-stdin-eof", action="store_true",
                    help="exit when stdin closes (so a crashed parent never leaks the server)")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    ap.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (needs --tls-key)")
    ap.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    args = ap.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        ap.error("--tls-cert and --tls-key go together")
    return args


def main(argv=None):
    args = parse_args(argv)
    config = dict(DEFAULT_CONFIG, project_id=args.project_id, sa_user=args.sa_user,
                  sa_secret=args.sa_secret, token=args.token, secret=args.secret,
                  max_body_bytes=args.max_body_bytes, max_events=args.max_events,
                  max_event_bytes=args.max_event_bytes, id_merge=args.id_merge,
                  clock_offset_ms=args.clock_offset_ms)
    server = Server(("127.0.0.1", args.port), Handler)
    server.app = State(config, args.store)
    server.verbose = args.verbose
    servers = [server]
    if args.tls_cert:
        server.socket = tls_context(args.tls_cert, args.tls_key).wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False)
        # The same state over plain HTTP, so harnesses can inspect it without trusting our CA.
        plain = Server(("127.0.0.1", 0), Handler)
        plain.app, plain.verbose = server.app, args.verbose
        servers.append(plain)

    def shutdown():
        for each in servers:
            each.shutdown()

    def stop(signum, frame):
        # shutdown() waits for serve_forever to return, so it cannot run on this (main) thread;
        # it works whether or not serve_forever has started yet.
        threading.Thread(target=shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent may spawn us with these blocked (the mask is inherited); we must see them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    if args.exit_on_stdin_eof:
        def watch_stdin():
            # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader
            # aborts the interpreter at shutdown.
            while os.read(0, 65536):
                pass
            shutdown()
        threading.Thread(target=watch_stdin, daemon=True).start()
    for extra in servers[1:]:
        threading.Thread(target=extra.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    print(f"LISTENING {server.server_address[1]}", flush=True)
    if len(servers) > 1:
        print(f"CONTROL {servers[1].server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        for each in servers:
            each.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
