"""bench/sink.c, the benchmark's native /import stand-in (scripts/bench.sh, docs/benchmarks.md):
compiled as bench.sh compiles it and driven with real gzip requests."""

import gzip
import http.client
import json
import os
import random
import socket
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OK = {"code": 200, "num_records_imported": 0, "status": "OK"}


@pytest.fixture(scope="module")
def sink_binary(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("sink") / "sink")
    # -Werror: the build bench.sh runs must stay warning-free.
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", out, os.path.join(ROOT, "bench/sink.c"), "-ldeflate"],
                   check=True)
    return out


class Sink:
    def __init__(self, binary):
        self.proc = subprocess.Popen([binary, "--exit-on-stdin-eof"], stdout=subprocess.PIPE, stdin=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("LISTENING "), line
        self.port = int(line.split()[1])

    def connect(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def stats(self):
        conn = self.connect()
        conn.request("GET", "/_control/stats")
        resp = conn.getresponse()
        assert resp.status == 200
        return json.loads(resp.read())

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self):
        self.proc.stdin.close()  # --exit-on-stdin-eof
        assert self.proc.wait(timeout=10) == 0


@pytest.fixture
def sink(sink_binary):
    s = Sink(sink_binary)
    yield s
    s.close()


def event(i, rng=random.Random(7)):
    """An event shaped like tailship's, with the characters a counter could trip on."""
    return {
        "event": "Purchase Completed",
        "properties": {
            "time": 1764300000000 + i,
            "distinct_id": f"u{rng.randrange(100000)}",
            "$insert_id": "%032x" % rng.getrandbits(128),
            "amount": round(rng.uniform(1, 500), 2),
            "plan": rng.choice(["free", "pro [annual]", 'quote " and \\ backslash', "{brace}, comma", "é ünïcödé"]),
            "path": f"/api/v1/items/{rng.randrange(10**6)}?q=[1,2]",
        },
    }


def array_body(n, start=0):
    return ("[" + ",".join(json.dumps(event(start + i), ensure_ascii=False) for i in range(n)) + "]").encode()


def post(conn, body, headers=None, path="/import?strict=1&project_id=123456"):
    conn.request("POST", path, body, {"Content-Type": "application/json", **(headers or {})})
    resp = conn.getresponse()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()


GZ = {"Content-Encoding": "gzip"}


def test_gzip_json_array_is_counted_and_answered_like_import(sink):
    status, headers, body = post(sink.connect(), gzip.compress(array_body(2000), 1), GZ)
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert body == b'{"code":200,"num_records_imported":2000,"status":"OK"}'
    assert json.loads(body) == dict(OK, num_records_imported=2000)
    assert sink.stats()["events_accepted"] == 2000


def test_plain_ndjson_counts_non_blank_lines(sink):
    lines = [json.dumps(event(i)) for i in range(5)]
    body = ("\n".join(lines[:3]) + "\n\n  \n" + "\n".join(lines[3:])).encode()  # no final newline
    status, _, answer = post(sink.connect(), body, path="/import/")
    assert (status, json.loads(answer)) == (200, dict(OK, num_records_imported=5))
    status, _, answer = post(sink.connect(), gzip.compress(body + b"\n"), GZ)
    assert (status, json.loads(answer)) == (200, dict(OK, num_records_imported=5))
    assert sink.stats()["events_accepted"] == 10


def test_one_keep_alive_connection_carries_many_requests(sink):
    conn = sink.connect()
    sizes = [1, 17, 2000, 0, 333]
    for n in sizes:
        status, headers, answer = post(conn, gzip.compress(array_body(n), 6), GZ)
        assert (status, json.loads(answer)) == (200, dict(OK, num_records_imported=n))
        assert "connection" not in headers
    conn.request("GET", "/_control/stats")
    stats = json.loads(conn.getresponse().read())
    assert stats["events_accepted"] == sum(sizes)
    assert stats["requests"] == len(sizes) + 1


@pytest.mark.parametrize("piece", [1, 7, 4096])
def test_bodies_arriving_in_small_pieces_count_the_same(sink, piece):
    plain = array_body(300)
    for body, headers in ((plain, {}), (gzip.compress(plain, 1), GZ)):
        head = "POST /import?strict=1 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % len(body)
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        data = head.encode() + body
        with socket.create_connection(("127.0.0.1", sink.port), timeout=10) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(0, len(data), piece):
                s.sendall(data[i : i + piece])
                if piece < 4096 and i % (piece * 500) == 0:
                    time.sleep(0.001)  # let some pieces arrive on their own
            answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer
        assert answer.endswith(b'{"code":200,"num_records_imported":300,"status":"OK"}'), answer
    assert sink.stats()["events_accepted"] == 600


def test_a_body_over_the_api_cap_gets_413_and_counts_nothing(sink):
    # 10 MiB after inflating is the cap; the compressed body is far smaller.
    big = b"[" + b",".join([b'{"event":"e","properties":{"pad":"' + b"x" * 1000 + b'"}}'] * 10500) + b"]"
    assert len(big) > 10 * 1024 * 1024
    conn = sink.connect()
    status, _, answer = post(conn, gzip.compress(big, 1), GZ)
    assert status == 413
    assert json.loads(answer) == {
        "code": 413, "error": "request exceeds max limit of 10485760 bytes", "status": "Request Entity Too Large"}
    status, _, answer = post(conn, big)  # the same uncompressed, on the same connection
    assert status == 413
    # Incompressible: the gzip body itself is over the cap, refused without being held.
    status, _, answer = post(conn, gzip.compress(os.urandom(len(big)), 1), GZ)
    assert status == 413
    status, _, answer = post(conn, gzip.compress(array_body(3)), GZ)  # the connection still works
    assert (status, json.loads(answer)) == (200, dict(OK, num_records_imported=3))
    assert sink.stats()["events_accepted"] == 3


@pytest.mark.parametrize("body,headers", [
    (gzip.compress(array_body(50))[:-20], GZ),  # cut short
    (b"not gzip at all", GZ),
    (gzip.compress(array_body(2)) + b"trailing", GZ),
    (b'[{"event":"e"},{"event":"f"', {}),  # unterminated array
    (b'[{"event":"e"}] [', {}),  # data after the array
    (b'[{"event":"e\\"}]', {}),  # unterminated string
])
def test_malformed_bodies_get_400_and_count_nothing(sink, body, headers):
    conn = sink.connect()
    status, _, answer = post(conn, body, headers)
    assert status == 400
    assert json.loads(answer)["code"] == 400
    status, _, _ = post(conn, array_body(1))
    assert status == 200
    assert sink.stats()["events_accepted"] == 1


def test_expect_100_continue_is_answered_before_the_body(sink):
    body = gzip.compress(array_body(10))
    with socket.create_connection(("127.0.0.1", sink.port), timeout=10) as s:
        s.sendall(b"POST /import HTTP/1.1\r\nContent-Encoding: gzip\r\nExpect: 100-continue\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        assert s.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        assert s.recv(4096).endswith(b'{"code":200,"num_records_imported":10,"status":"OK"}')


def test_other_paths_methods_and_encodings_are_refused(sink):
    conn = sink.connect()
    assert post(conn, array_body(1), path="/track")[0] == 404
    conn.request("GET", "/import")
    resp = conn.getresponse()
    assert (resp.status, json.loads(resp.read())) == (404, {"error": "not found"})
    assert post(conn, array_body(1), {"Content-Encoding": "br"})[0] == 415
    conn.request("POST", "/_control/reset", b"")
    assert conn.getresponse().status == 200
    assert sink.stats()["events_accepted"] == 0


def test_a_million_events_cost_well_under_half_a_cpu_second(sink):
    # 250 requests of 2,000 varied events (about 230 bytes each), gzip level 1 as bench.sh
    # configures tailship: 500,000 events, about 220 MB inflated.
    body = gzip.compress(array_body(2000), 1)
    conn = sink.connect()
    before = sink.cpu_seconds()
    for _ in range(250):
        status, _, _ = post(conn, body, GZ)
        assert status == 200
    spent = sink.cpu_seconds() - before
    assert sink.stats()["events_accepted"] == 500_000
    print(f"{spent * 2:.2f} CPU s per million events")
    assert spent * 2 < 0.3, f"{spent * 2:.2f} CPU s per million events"
