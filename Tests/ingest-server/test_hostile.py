"""Hostile answers: bodies too big to hold, streamed by the server without holding them."""

import http.client
import json

import pytest

from conftest import PROJECT, SA_AUTH

IMPORT = f"/import?strict=1&project_id={PROJECT}"
JSON_SA = {"Authorization": SA_AUTH, "Content-Type": "application/json"}
EVENT = [{"event": "e", "properties": {"time": 1700000000000, "distinct_id": "u", "$insert_id": "i1"}}]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def open_answer(fake):
    """Sends one import and returns (connection, response) with the body left unread."""
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    conn.request("POST", IMPORT, body=json.dumps(EVENT).encode(), headers=JSON_SA)
    return conn, conn.getresponse()


@pytest.mark.parametrize("mode,length", [("huge", "800000000"), ("unsized", None), ("endless", None)])
def test_an_answer_too_big_to_hold_is_streamed_and_stops_when_the_client_leaves(fake, mode, length):
    before = rss_kib(fake.proc.pid)
    fake.control("config", {"hostile": mode})
    conn, resp = open_answer(fake)
    assert resp.status == 200
    assert resp.getheader("Content-Length") == length
    assert (resp.getheader("Transfer-Encoding") == "chunked") == (mode == "endless")
    read = 0
    while read < 20 * 1024 * 1024:
        piece = resp.read(1 << 20)
        assert piece and set(piece) == {ord("x")}
        read += len(piece)
    conn.close()
    # Nothing was ingested, the server did not build the body in memory, and once switched off
    # it answers normally again.
    assert rss_kib(fake.proc.pid) - before < 30 * 1024
    assert fake.events() == []
    stats = fake.stats()
    assert stats["hostile_answers"] == 1 and stats["requests_by_status"] == {"200": 1}
    fake.control("config", {"hostile": None})
    assert json.loads(fake.post(IMPORT, EVENT, JSON_SA)[2])["num_records_imported"] == 1


def test_a_long_error_is_a_400_whose_error_text_has_the_size_asked(fake):
    fake.control("config", {"hostile": "long_error", "hostile_bytes": 2_000_000})
    status, headers, body = fake.post(IMPORT, EVENT, JSON_SA)
    answer = json.loads(body)
    assert status == 400 and headers["content-type"] == "application/json"
    assert answer["error"] == "E" * 2_000_000 and answer["status"] == "Bad Request"
    assert fake.events() == []


def test_a_hostile_fault_is_consumed_once_and_reset_clears_the_knob(fake):
    fake.control("faults", [{"hostile": "long_error", "hostile_bytes": 10}])
    assert json.loads(fake.post(IMPORT, EVENT, JSON_SA)[2])["error"] == "E" * 10
    assert fake.post(IMPORT, EVENT, JSON_SA)[0] == 200
    fake.control("config", {"hostile": "long_error"})
    fake.control("reset")
    assert fake.control("config")[1]["hostile"] is None
    assert fake.post(IMPORT, EVENT, JSON_SA)[0] == 200


@pytest.mark.parametrize("update", [{"hostile": "loud"}, {"hostile_bytes": 0}, {"hostile_bytes": "2MB"}])
def test_bad_hostile_settings_are_refused(fake, update):
    assert fake.control("config", update)[0] == 400
    assert fake.control("faults", [{"hostile": "loud"}])[0] == 400
