"""Real-HTTP tests of fake_ingest.py against INGESTION_API.md section 9."""

import base64
import gzip
import http.client
import json
import signal
import socket
import time
import urllib.parse

import pytest

from conftest import PROJECT, SA_AUTH, SECRET, TOKEN, TOKEN_AUTH, FakeServer, basic, SA_USER, SA_SECRET

IMPORT = f"/import?strict=1&project_id={PROJECT}"
JSON_SA = {"Authorization": SA_AUTH, "Content-Type": "application/json"}
NOW_MS = lambda: int(time.time() * 1000)  # noqa: E731


def ev(i=0, name="login", **props):
    base = {"time": 1_700_000_000_000 + i, "distinct_id": f"user-{i}", "$insert_id": f"id-{i:04d}", "ip": "0"}
    base.update(props)
    return {"event": name, "properties": {k: v for k, v in base.items() if v is not ...}}


def ok_body(n):
    return {"code": 200, "num_records_imported": n, "status": "OK"}


# --- /import success shapes -----------------------------------------------------------------

def test_json_array_import_stores_every_event(fake):
    status, headers, body = fake.post(IMPORT, [ev(i) for i in range(3)], JSON_SA)
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == ok_body(3)
    stored = fake.events()
    assert [e["insert_id"] for e in stored] == ["id-0000", "id-0001", "id-0002"]
    first = stored[0]
    assert first["event"] == "login" and first["distinct_id"] == "user-0"
    assert first["time_ms"] == 1_700_000_000_000 and first["endpoint"] == "/import"
    # Geo: ip is not stored, but remembered; with ip present the request IP is not used.
    assert "ip" not in first["properties"] and first["ip"] == "0" and first["used_request_ip"] is False


def test_ndjson_with_blank_lines_matches_json(fake):
    lines = [json.dumps(ev(i)) for i in range(2)]
    body = ("\n" + lines[0] + "\n\n  \n" + lines[1] + "\n\n").encode()
    status, _, answer = fake.post(IMPORT, body, {"Authorization": SA_AUTH, "Content-Type": "application/x-ndjson"})
    assert (status, json.loads(answer)) == (200, ok_body(2))
    assert len(fake.events()) == 2


def test_gzip_body_is_decompressed_and_logged(fake):
    body = gzip.compress(json.dumps([ev(i) for i in range(5)]).encode())
    status, _, answer = fake.post(IMPORT, body, dict(JSON_SA, **{"Content-Encoding": "gzip"}))
    assert (status, json.loads(answer)) == (200, ok_body(5))
    log = fake.control("requests")[1][-1]
    assert log["gzip"] is True and log["events"] == 5 and log["auth"] == "service_account"
    assert log["status"] == 200 and log["path"] == "/import" and log["content_type"] == "application/json"
    assert fake.stats()["bytes_decompressed"] > fake.stats()["bytes_received"]


def test_keep_alive_serves_many_requests_on_one_connection(fake):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    for i in range(3):
        conn.request("POST", IMPORT, body=json.dumps([ev(i)]), headers=JSON_SA)
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read()) == ok_body(1)
    conn.close()
    assert len(fake.events()) == 3


def test_seconds_and_milliseconds_normalise_to_ms(fake):
    batch = [ev(0, time=1_700_000_000), ev(1, time=1_700_000_000.5), ev(2, time=1_700_000_000_123)]
    assert fake.post(IMPORT, batch, JSON_SA)[0] == 200
    assert [e["time_ms"] for e in fake.events()] == [1_700_000_000_000, 1_700_000_000_500, 1_700_000_000_123]


# --- size cap and authentication ------------------------------------------------------------

def test_413_checks_decompressed_size(fake):
    fake.control("config", {"max_body_bytes": 2000})
    raw = json.dumps([ev(i, pad="x" * 100) for i in range(20)]).encode()
    compressed = gzip.compress(raw)
    assert len(compressed) < 2000 < len(raw)
    status, _, body = fake.post(IMPORT, compressed, dict(JSON_SA, **{"Content-Encoding": "gzip"}))
    assert status == 413
    assert json.loads(body) == {"code": 413, "error": "request exceeds max limit of 2000 bytes",
                                "status": "Request Entity Too Large"}
    assert fake.events() == []
    small = json.dumps([ev(0)]).encode()
    assert fake.post(IMPORT, small, JSON_SA)[0] == 200


UNAUTHORIZED = {"code": 401, "error": "Invalid credentials", "status": "Unauthorized"}


@pytest.mark.parametrize("path,auth", [
    (IMPORT, None),                                          # no header
    (IMPORT, basic(SA_USER, "wrong")),                        # wrong secret
    ("/import?strict=1", SA_AUTH),                            # service account without project_id
    ("/import?strict=1&project_id=999", SA_AUTH),             # wrong project
    (IMPORT, TOKEN_AUTH),                                     # token with a project_id
    ("/import?strict=1", basic(TOKEN, "pw")),                 # token with a password
    ("/import?strict=1", basic("other-token", "")),           # unknown token
    (IMPORT, "Bearer abc"),                                   # unsupported scheme
])
def test_401_variants(fake, path, auth):
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    status, _, body = fake.post(path, [ev(0)], headers)
    assert (status, json.loads(body)) == (401, UNAUTHORIZED)
    assert fake.events() == []


@pytest.mark.parametrize("path,auth,kind", [
    ("/import?strict=1", TOKEN_AUTH, "token"),
    ("/import/?strict=1", basic(SECRET, ""), "secret"),
    (f"/import/?strict=1&project_id={PROJECT}", "Basic " + f"{SA_USER}:{SA_SECRET}", "service_account"),
])
def test_accepted_credentials(fake, path, auth, kind):
    status, _, body = fake.post(path, [ev(0)], {"Authorization": auth, "Content-Type": "application/json"})
    assert (status, json.loads(body)) == (200, ok_body(1))
    assert fake.control("requests")[1][-1]["auth"] == kind


# --- strict validation ----------------------------------------------------------------------

def test_partial_400_exact_body_and_valid_events_stored(fake):
    batch = [ev(0), {"event": " ", "properties": {"time": 1, "$insert_id": "blank-name"}},
             ev(2), ev(3, **{"$insert_id": "has:colon"}), ev(4, time=...)]
    status, _, body = fake.post(IMPORT, batch, JSON_SA)
    assert status == 400
    assert json.loads(body) == {
        "code": 400, "error": "some data points in the request failed validation",
        "status": "Bad Request", "num_records_imported": 2,
        "failed_records": [
            {"index": 1, "insert_id": "blank-name", "field": "event",
             "message": "'event' must not be missing or blank"},
            {"index": 3, "insert_id": "has:colon", "field": "$insert_id",
             "message": "'$insert_id' is invalid: must only contain alphanumeric or hyphen '-' characters"},
            {"index": 4, "insert_id": "id-0004", "field": "properties.time",
             "message": "'properties.time' is invalid: must not be missing"},
        ]}
    assert [e["insert_id"] for e in fake.events()] == ["id-0000", "id-0002"]


def test_all_invalid_gives_zero_imported(fake):
    status, _, body = fake.post(IMPORT, [ev(0, distinct_id="undefined"), ev(1, distinct_id="NULL")], JSON_SA)
    answer = json.loads(body)
    assert status == 400 and answer["num_records_imported"] == 0
    assert [(r["index"], r["field"]) for r in answer["failed_records"]] == \
        [(0, "properties.distinct_id"), (1, "properties.distinct_id")]
    assert fake.events() == []


def failure(fake, event):
    """The single failed record for one event, or None when it was accepted."""
    status, _, body = fake.post(IMPORT, [event], JSON_SA)
    answer = json.loads(body)
    if status == 200:
        return None
    assert status == 400 and answer["num_records_imported"] == 0
    (record,) = answer["failed_records"]
    return record["field"], record["message"]


@pytest.mark.parametrize("props,expected", [
    ({"time": "2024-01-01"}, ("properties.time", "'properties.time' is invalid: must be specified as seconds since epoch")),
    ({"time": 4_102_444_800_000}, ("properties.time", "'properties.time' is invalid: must not be in the future")),
    ({"time": 31_535_999}, ("properties.time", "'properties.time' is invalid: must not be before 1971-01-01")),
    ({"time": 31_536_000}, None),
    ({"$insert_id": "x" * 37}, ("$insert_id", "'$insert_id' is invalid: must only contain alphanumeric or hyphen '-' characters")),
    ({"$insert_id": "x" * 36}, None),
    ({"$insert_id": "Undefined"}, ("$insert_id", "'$insert_id' is invalid: must only contain alphanumeric or hyphen '-' characters")),
    ({"$insert_id": "é"}, ("$insert_id", "'$insert_id' is invalid: must only contain alphanumeric or hyphen '-' characters")),
    ({"$insert_id": ...}, None),  # a server id is generated
    ({"distinct_id": "N/A"}, ("properties.distinct_id", "'properties.distinct_id' is invalid: must not be a placeholder value")),
    ({"distinct_id": "00000000-0000-0000-0000-000000000000"}, ("properties.distinct_id", "'properties.distinct_id' is invalid: must not be a placeholder value")),
    ({"distinct_id": 0}, ("properties.distinct_id", "'properties.distinct_id' is invalid: must not be a placeholder value")),
    ({"distinct_id": False}, ("properties.distinct_id", "'properties.distinct_id' is invalid: must not be a placeholder value")),
    ({"distinct_id": ""}, None),
    ({"distinct_id": ...}, ("properties.distinct_id", "'properties.distinct_id' is invalid: must not be missing")),
    ({f"p{i}": i for i in range(251)}, ("properties", "'properties' is invalid: must have fewer than 255 properties")),
    ({f"p{i}": i for i in range(250)}, None),
    ({"blob": "x" * 1_000_000}, ("event", "'event' is invalid: must be smaller than 1000000 bytes of JSON")),
])
def test_per_event_checks(fake, props, expected):
    assert failure(fake, ev(0, **props)) == expected


def test_future_within_one_hour_is_accepted(fake):
    assert failure(fake, ev(0, time=NOW_MS() + 50 * 60 * 1000)) is None
    assert failure(fake, ev(1, time=NOW_MS() + 70 * 60 * 1000))[1].endswith("must not be in the future")


def test_missing_insert_id_gets_unique_server_id(fake):
    e = ev(0, **{"$insert_id": ...})
    fake.post(IMPORT, [e, e], JSON_SA)
    stored = fake.events(dedup=True)
    assert len(stored) == 2 and all(s["insert_id_generated"] for s in stored)


def test_simplified_id_merge_derives_distinct_id(fake):
    fake.control("config", {"id_merge": "simplified"})
    batch = [ev(0, distinct_id=..., **{"$device_id": "dev-1"}),
             ev(1, distinct_id=..., **{"$device_id": "dev-2", "$user_id": "alice"}),
             ev(2, distinct_id=...)]
    status, _, body = fake.post(IMPORT, batch, JSON_SA)
    assert status == 400 and json.loads(body)["failed_records"][0]["index"] == 2
    assert [e["distinct_id"] for e in fake.events()] == ["dev-1", "alice"]


@pytest.mark.parametrize("ndjson", [False, True])
def test_invalid_utf8_fails_only_that_event(fake, ndjson):
    good = json.dumps(ev(0)).encode()
    bad = json.dumps(ev(1, note="PLACEHOLDER")).encode().replace(b"PLACEHOLDER", b"caf\xe9")
    body = good + b"\n" + bad if ndjson else b"[" + good + b"," + bad + b"]"
    ctype = "application/x-ndjson" if ndjson else "application/json"
    status, _, answer = fake.post(IMPORT, body, {"Authorization": SA_AUTH, "Content-Type": ctype})
    assert status == 400
    assert json.loads(answer)["failed_records"] == [{
        "index": 1, "insert_id": "id-0001", "field": "properties.note",
        "message": "'properties.note' is invalid: string should be valid utf8"}]
    assert len(fake.events()) == 1


def test_malformed_json_rejects_request(fake):
    status, _, body = fake.post(IMPORT, b"[{\"event\": ", JSON_SA)
    assert status == 400 and json.loads(body)["status"] == "Bad Request"


def test_more_than_max_events_rejects_whole_request(fake):
    fake.control("config", {"max_events": 3})
    status, _, body = fake.post(IMPORT, [ev(i) for i in range(4)], JSON_SA)
    assert (status, json.loads(body)["error"]) == (400, "request exceeds max limit of 3 events")
    assert fake.events() == []


def test_strict_zero_drops_invalid_silently(fake):
    batch = [ev(0), ev(1, distinct_id="null")]
    path = f"/import?strict=0&project_id={PROJECT}"
    status, _, body = fake.post(path, batch, JSON_SA)
    assert (status, body) == (200, b"1")
    status, _, body = fake.post(path + "&verbose=1", batch, JSON_SA)
    assert status == 200 and json.loads(body) == {
        "code": 200, "error": "some data points in the request failed validation",
        "num_records_imported": 1, "status": 0}
    assert len(fake.events()) == 2


def test_legacy_form_import(fake):
    data = base64.b64encode(json.dumps([ev(0)]).encode()).decode()
    body = urllib.parse.urlencode({"data": data, "verbose": "1"}).encode()
    status, _, answer = fake.post("/import", body, {"Authorization": basic(SECRET, ""),
                                                    "Content-Type": "application/x-www-form-urlencoded"})
    assert (status, json.loads(answer)) == (200, {"code": 200, "error": None, "num_records_imported": 1, "status": 1})


# --- dedup store ----------------------------------------------------------------------------

def test_dedup_view_keeps_latest_copy_and_raw_keeps_all(fake):
    first = ev(0, attempt=1)
    second = ev(0, attempt=2)                      # same four-part key, other property differs
    other_time = ev(0, attempt=3, time=1_700_000_000_999)
    for batch in ([first], [second], [other_time]):
        assert json.loads(fake.post(IMPORT, batch, JSON_SA)[2]) == ok_body(1)
    assert [e["properties"]["attempt"] for e in fake.events()] == [1, 2, 3]
    assert sorted(e["properties"]["attempt"] for e in fake.events(dedup=True)) == [2, 3]
    stats = fake.stats()
    assert (stats["duplicates"], stats["unique_events"], stats["stored_copies"]) == (1, 2, 3)


# --- faults, chaos, outage ------------------------------------------------------------------

def test_fault_queue_is_consumed_in_order(fake):
    fake.control("faults", [
        {"status": 429, "retry_after": 1},
        {"status": 503, "body": "upstream connect error or disconnect/reset before headers"},
        {"status": 500},
        {"status": 401},
    ])
    s, h, b = fake.post(IMPORT, [ev(0)], JSON_SA)
    assert s == 429 and h["retry-after"] == "1"
    assert json.loads(b) == {"code": 429, "error": "Project exceeded rate limits. Please retry the request "
                                                   "with exponential backoff.", "status": "Too Many Requests"}
    s, h, b = fake.post(IMPORT, [ev(0)], JSON_SA)
    assert (s, b, h["content-type"]) == (503, b"upstream connect error or disconnect/reset before headers", "text/plain")
    assert fake.post(IMPORT, [ev(0)], JSON_SA)[0] == 500
    s, _, b = fake.post(IMPORT, [ev(0)], JSON_SA)
    assert (s, json.loads(b)) == (401, UNAUTHORIZED)
    assert fake.events() == []
    assert json.loads(fake.post(IMPORT, [ev(0)], JSON_SA)[2]) == ok_body(1)
    stats = fake.stats()
    assert stats["faults_injected"] == 4
    assert stats["requests_by_status"] == {"429": 1, "503": 1, "500": 1, "401": 1, "200": 1}


def test_reset_after_ingest_stores_but_client_sees_connection_error(fake):
    fake.control("faults", [{"reset_after_ingest": True}])
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine)):
        fake.post(IMPORT, [ev(0), ev(1)], JSON_SA)
    assert len(fake.events()) == 2
    # The client's retry of the same batch is accepted and deduplicated.
    assert json.loads(fake.post(IMPORT, [ev(0), ev(1)], JSON_SA)[2]) == ok_body(2)
    assert len(fake.events()) == 4 and len(fake.events(dedup=True)) == 2
    log = fake.control("requests")[1]
    assert log[-2]["status"] == "reset" and log[-2]["answer"] == 200


def test_reset_before_ingest_stores_nothing(fake):
    fake.control("faults", [{"reset_before_ingest": True}])
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine)):
        fake.post(IMPORT, [ev(0)], JSON_SA)
    assert fake.events() == []


def test_delay_fault_answers_slowly(fake):
    fake.control("faults", [{"delay_ms": 300}])
    start = time.monotonic()
    status, _, _ = fake.post(IMPORT, [ev(0)], JSON_SA)
    assert status == 200 and time.monotonic() - start >= 0.3


def test_outage_answers_503_until_switched_off(fake):
    fake.control("config", {"outage": True})
    assert [fake.post(IMPORT, [ev(i)], JSON_SA)[0] for i in range(3)] == [503, 503, 503]
    fake.control("config", {"outage": False})
    assert fake.post(IMPORT, [ev(0)], JSON_SA)[0] == 200


def test_chaos_is_seeded_and_repeatable(fake):
    def run():
        fake.control("reset")
        fake.control("chaos", {"fail_rate": 0.3, "reset_rate": 0.2, "seed": 7})
        outcomes = []
        for i in range(30):
            try:
                outcomes.append(fake.post(IMPORT, [ev(i)], JSON_SA)[0])
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                outcomes.append("reset")
        return outcomes

    first = run()
    assert first == run()
    assert 200 in first and "reset" in first and any(o in (429, 500, 502, 503) for o in first)
    # Events of reset requests were ingested; failed ones were not.
    assert len(fake.events()) == sum(1 for o in first if o in (200, "reset"))
    fake.control("chaos", {})
    assert fake.post(IMPORT, [ev(0)], JSON_SA)[0] == 200


def test_control_rejects_bad_input(fake):
    assert fake.control("config", {"nope": 1})[0] == 400
    assert fake.control("config", {"id_merge": "other"})[0] == 400
    assert fake.control("faults", [{"bogus": True}])[0] == 400
    assert fake.control("chaos", {"fail_rate": 2})[0] == 400
    assert fake.control("nothing")[0] == 404


# --- /track ---------------------------------------------------------------------------------

def track_event(i=0, **props):
    base = {"token": TOKEN, "time": NOW_MS() - 1000, "distinct_id": f"u{i}", "$insert_id": f"t-{i}"}
    base.update(props)
    return {"event": "view", "properties": {k: v for k, v in base.items() if v is not ...}}


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_track_form_base64_raw_and_json_bodies(fake):
    b64 = base64.b64encode(json.dumps([track_event(0)]).encode()).decode()
    assert fake.post("/track", urllib.parse.urlencode({"data": b64}).encode(), FORM)[2] == b"1"
    raw = json.dumps(track_event(1))
    assert fake.post("/track/", urllib.parse.urlencode({"data": raw}).encode(), FORM)[2] == b"1"
    status, _, body = fake.post("/track?verbose=1", [track_event(2)], {"Content-Type": "application/json"})
    assert (status, json.loads(body)) == (200, {"status": 1, "error": None})
    assert [e["insert_id"] for e in fake.events()] == ["t-0", "t-1", "t-2"]
    assert {e["endpoint"] for e in fake.events()} == {"/track"}


def test_track_missing_token(fake):
    e = track_event(0, token=...)
    assert fake.post("/track", [e], {"Content-Type": "application/json"})[2] == b"0"
    status, _, body = fake.post("/track?verbose=1", [e], {"Content-Type": "application/json"})
    assert (status, json.loads(body)) == (200, {"error": "token, missing or empty", "status": 0})
    assert fake.events() == []


def test_track_drops_old_events_but_acknowledges(fake):
    old = track_event(0, time=(NOW_MS() - 6 * 86400 * 1000) // 1000)
    assert fake.post("/track", [old, track_event(1)], {"Content-Type": "application/json"})[2] == b"1"
    assert [e["insert_id"] for e in fake.events()] == ["t-1"]
    assert fake.stats()["events_dropped"] == 1


# --- /engage and /groups --------------------------------------------------------------------

def test_engage_operations_update_profiles(fake):
    updates = [
        {"$token": TOKEN, "$distinct_id": "u1", "$set": {"plan": "free", "n": 1}},
        {"$token": TOKEN, "$distinct_id": "u1", "$set_once": {"plan": "pro", "first": "a"}},
        {"$token": TOKEN, "$distinct_id": "u1", "$add": {"n": 2, "m": 1.5}},
        {"$token": TOKEN, "$distinct_id": "u1", "$union": {"tags": ["a", "b"]}},
        {"$token": TOKEN, "$distinct_id": "u1", "$union": {"tags": ["b", "c"]}},
        {"$token": TOKEN, "$distinct_id": "u1", "$append": {"log": "x"}},
        {"$token": TOKEN, "$distinct_id": "u1", "$remove": {"tags": "a"}},
        {"$token": TOKEN, "$distinct_id": "u1", "$unset": ["first"]},
        {"$token": TOKEN, "$distinct_id": "u2", "$set": {"x": 1}},
        {"$token": TOKEN, "$distinct_id": "u2", "$delete": None},
    ]
    status, _, body = fake.post("/engage?verbose=1", updates, {"Content-Type": "application/json"})
    assert (status, json.loads(body)) == (200, {"status": 1, "error": None})
    profiles = fake.control("profiles")[1]
    assert profiles["profiles"] == {"u1": {"plan": "free", "n": 3, "m": 1.5, "tags": ["b", "c"], "log": ["x"]}}
    assert len(profiles["updates"]) == 10


def test_engage_missing_token_and_form_body(fake):
    missing = urllib.parse.urlencode({"data": json.dumps([{"$distinct_id": "u1", "$set": {"a": 1}}]),
                                      "verbose": "1"}).encode()
    status, _, body = fake.post("/engage", missing, FORM)
    assert (status, json.loads(body)) == (200, {"error": "$token, missing or empty", "status": 0})
    ok = urllib.parse.urlencode({"data": base64.b64encode(json.dumps(
        {"$token": TOKEN, "$distinct_id": "u1", "$set": {"a": 1}}).encode()).decode()}).encode()
    assert fake.post("/engage", ok, FORM)[2] == b"1"
    assert fake.control("profiles")[1]["profiles"] == {"u1": {"a": 1}}


def test_engage_refuses_gzip_and_too_many_updates(fake):
    body = gzip.compress(json.dumps([{"$token": TOKEN, "$distinct_id": "u", "$set": {}}]).encode())
    assert fake.post("/engage", body, {"Content-Type": "application/json", "Content-Encoding": "gzip"})[2] == b"0"
    fake.control("config", {"max_events": 2})
    many = [{"$token": TOKEN, "$distinct_id": f"u{i}", "$set": {"a": i}} for i in range(3)]
    assert fake.post("/engage", many, {"Content-Type": "application/json"})[2] == b"0"
    assert fake.control("profiles")[1]["profiles"] == {}


def test_groups_operations(fake):
    updates = [{"$token": TOKEN, "$group_key": "company", "$group_id": "acme", "$set": {"size": 10}},
               {"$token": TOKEN, "$group_key": "company", "$group_id": "acme", "$union": {"tags": ["x"]}}]
    assert fake.post("/groups", updates, {"Content-Type": "application/json"})[2] == b"1"
    assert fake.control("profiles")[1]["groups"] == [
        {"group_key": "company", "group_id": "acme", "properties": {"size": 10, "tags": ["x"]}}]


# --- process behaviour and store modes ------------------------------------------------------

def test_summary_store_counts_without_keeping_events():
    srv = FakeServer("--store", "summary")
    try:
        for _ in range(2):
            srv.post(IMPORT, [ev(0), ev(1)], JSON_SA)
        assert srv.control("events")[0] == 409
        stats = srv.stats()
        assert (stats["events_accepted"], stats["duplicates"], stats["unique_events"]) == (4, 2, 2)
    finally:
        srv.stop()


def test_listens_on_loopback_and_exits_on_sigterm():
    srv = FakeServer("--token", "tok-x")
    assert srv.control("config")[1]["token"] == "tok-x"
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5):
        pass
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=10) == 0


def test_exits_when_stdin_closes_with_flag():
    srv = FakeServer()
    srv.proc.stdin.close()
    assert srv.proc.wait(timeout=10) == 0
