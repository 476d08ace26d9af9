"""Fixtures: the fake server as a real subprocess, and a tiny HTTP client over http.client."""

import base64
import http.client
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "fake_ingest.py")

PROJECT = "123456"
SA_USER = "tailship-sa.abc123.mp-service-account"
SA_SECRET = "sa-secret"
TOKEN = "test-token"
SECRET = "test-api-secret"


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


SA_AUTH = basic(SA_USER, SA_SECRET)
TOKEN_AUTH = basic(TOKEN, "")


class FakeServer:
    """A running fake_ingest.py subprocess."""

    def __init__(self, *args):
        # --exit-on-stdin-eof: if pytest dies, the closed pipe ends the server too.
        self.proc = subprocess.Popen([sys.executable, SCRIPT, "--port", "0", "--exit-on-stdin-eof", *args],
                                     stdout=subprocess.PIPE, stdin=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("LISTENING "), line
        self.port = int(line.split()[1])

    def request(self, method, path, body=b"", headers=None, timeout=10):
        """Returns (status, headers dict with lower-case names, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, (list, dict)):
                body = json.dumps(body).encode()
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def post(self, path, body=b"", headers=None, **kw):
        return self.request("POST", path, body, headers, **kw)

    def control(self, name, payload=None, method=None):
        """Calls /_control/<name> and decodes the JSON answer."""
        method = method or ("POST" if payload is not None or name == "reset" else "GET")
        status, _, body = self.request(method, f"/_control/{name}", payload if payload is not None else b"")
        return status, json.loads(body)

    def events(self, dedup=False):
        status, data = self.control("events?view=dedup" if dedup else "events")
        assert status == 200
        return data

    def stats(self):
        return self.control("stats")[1]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server():
    srv = FakeServer()
    yield srv
    srv.stop()


@pytest.fixture
def fake(server):
    """The shared server, reset to a clean state with default knobs."""
    server.control("reset")
    server.control("config", {"project_id": PROJECT, "sa_user": SA_USER, "sa_secret": SA_SECRET,
                              "token": TOKEN, "secret": SECRET, "max_body_bytes": 10485760,
                              "max_events": 2000, "max_event_bytes": 1_000_000,
                              "id_merge": "original", "clock_offset_ms": 0})
    return server
