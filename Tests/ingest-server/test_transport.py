"""Real-socket tests of fake_ingest.py's HTTPS mode and of the forward proxy http_proxy.py."""

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys

import pytest

from conftest import HERE, PROJECT, SA_AUTH, FakeServer

IMPORT = f"/import?strict=1&project_id={PROJECT}"
HEADERS = {"Authorization": SA_AUTH, "Content-Type": "application/json"}
PROXY = os.path.join(HERE, "http_proxy.py")

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


def ev(i):
    return {"event": "login", "properties": {"time": 1_700_000_000_000 + i, "distinct_id": f"user-{i}",
                                             "$insert_id": f"id-{i:04d}"}}


def make_certs(directory):
    """A private CA and a server certificate for IP 127.0.0.1 signed by it, made with the
    openssl CLI. Returns (ca.pem, server.pem, server.key)."""
    path = lambda name: os.path.join(directory, name)  # noqa: E731
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2",
        "-subj", "/CN=tailship test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=127.0.0.1")
    with open(path("server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    run("x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
        "-set_serial", "2", "-days", "2", "-out", path("server.pem"), "-extfile", path("server.ext"))
    return path("ca.pem"), path("server.pem"), path("server.key")


class TLSFake(FakeServer):
    """fake_ingest.py over HTTPS; `request` (and so `events`, `control`) use its plain port."""

    def __init__(self, cert, key):
        super().__init__("--tls-cert", cert, "--tls-key", key)
        self.tls_port = self.port
        line = self.proc.stdout.readline().decode()
        assert line.startswith("CONTROL "), line
        self.port = int(line.split()[1])


class Proxy:
    """A running http_proxy.py subprocess."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, PROXY, "--port", "0", "--exit-on-stdin-eof"],
                                     stdout=subprocess.PIPE, stdin=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("LISTENING "), line
        self.port = int(line.split()[1])

    def stats(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/_proxy/stats")
            resp = conn.getresponse()
            assert resp.status == 200
            return json.loads(resp.read())
        finally:
            conn.close()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture
def tls_fake(certs):
    srv = TLSFake(certs[1], certs[2])
    yield srv
    srv.stop()


@pytest.fixture
def proxy():
    p = Proxy()
    yield p
    p.stop()


def post_https(port, ca, body, tunnel_via=None):
    context = ssl.create_default_context(cafile=ca)
    host, conn_port = ("127.0.0.1", tunnel_via) if tunnel_via else ("127.0.0.1", port)
    conn = http.client.HTTPSConnection(host, conn_port, context=context, timeout=10)
    if tunnel_via:
        conn.set_tunnel("127.0.0.1", port)
    try:
        conn.request("POST", IMPORT, body=json.dumps(body), headers=HEADERS)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_https_with_the_private_ca_is_served_and_stored(tls_fake, certs):
    status, answer = post_https(tls_fake.tls_port, certs[0], [ev(0), ev(1)])
    assert (status, answer["num_records_imported"]) == (200, 2)
    # The plain control port sees the same state.
    assert [e["insert_id"] for e in tls_fake.events()] == ["id-0000", "id-0001"]


def test_an_untrusted_client_fails_verification_and_the_server_carries_on(tls_fake, certs):
    with pytest.raises(ssl.SSLCertVerificationError):
        post_https(tls_fake.tls_port, None, [ev(0)])  # system CAs only: our CA is unknown
    with pytest.raises((ssl.SSLError, ConnectionError)):
        # Plain HTTP to the TLS port is refused, not ingested.
        conn = http.client.HTTPConnection("127.0.0.1", tls_fake.tls_port, timeout=10)
        conn.request("POST", IMPORT, body=json.dumps([ev(1)]), headers=HEADERS)
        conn.getresponse().read()
    assert tls_fake.events() == []
    assert post_https(tls_fake.tls_port, certs[0], [ev(2)])[0] == 200


def test_proxy_forwards_absolute_uri_requests_and_counts_them(fake, proxy):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("POST", f"http://127.0.0.1:{fake.port}{IMPORT}", body=json.dumps([ev(0), ev(1)]),
                 headers=HEADERS)
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["num_records_imported"] == 2
    assert resp.getheader("Connection") == "close"
    conn.close()
    assert len(fake.events()) == 2
    assert proxy.stats() == {"requests": 1, "tunnels": 0, "targets": {f"127.0.0.1:{fake.port}": 1}}
    # The origin's query string and headers arrived intact (auth passed, project matched).
    log = fake.control("requests")[1][-1]
    assert log["query"] == f"strict=1&project_id={PROJECT}" and log["auth"] == "service_account"


def test_proxy_tunnels_connect_to_the_https_server(tls_fake, certs, proxy):
    assert post_https(tls_fake.tls_port, certs[0], [ev(3)], tunnel_via=proxy.port)[0] == 200
    assert [e["insert_id"] for e in tls_fake.events()] == ["id-0003"]
    assert proxy.stats() == {"requests": 0, "tunnels": 1, "targets": {f"127.0.0.1:{tls_fake.tls_port}": 1}}


def test_proxy_answers_502_when_the_origin_is_down(proxy):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # a loopback port nobody listens on
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("POST", f"http://127.0.0.1:{port}/import", body=b"[]")
    resp = conn.getresponse()
    assert resp.status == 502 and "cannot reach" in json.loads(resp.read())["error"]
    conn.close()
    assert proxy.stats()["requests"] == 0
