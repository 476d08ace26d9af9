"""POST /import: authentication, limits and strict per-event validation
(INGESTION_API.md sections 2 and 9.1-9.12).

Texts marked "unverified" are not documented or observed anywhere; they are our choice.
"""

import base64
import binascii
import re

import mp_body
from mp_body import dumps

PLACEHOLDERS = frozenset((
    "00000000-0000-0000-0000-000000000000", "anon", "anonymous", "nil", "none", "null", "n/a",
    "na", "undefined", "unknown", "<nil>", "0", "-1", "true", "false", "[]", "{}",
))
# ASCII-only pattern, so the 36 characters are also 36 bytes.
_INSERT_ID_OK = re.compile(r"[A-Za-z0-9-]{1,36}").fullmatch

MIN_TIME_MS = 31_536_000_000       # 1971-01-01T00:00:00Z
MAX_AHEAD_MS = 3_600_000           # one hour
SECONDS_BELOW = 100_000_000_000    # smaller values are seconds (unverified magnitude rule, section 8.6)
MAX_PROPERTIES = 255

MSG_EVENT = "'event' must not be missing or blank"
MSG_TIME_MISSING = "'properties.time' is invalid: must not be missing"
MSG_TIME_FUTURE = "'properties.time' is invalid: must not be in the future"
MSG_TIME_FORMAT = "'properties.time' is invalid: must be specified as seconds since epoch"
MSG_TIME_PAST = "'properties.time' is invalid: must not be before 1971-01-01"            # unverified
MSG_INSERT_ID = "'$insert_id' is invalid: must only contain alphanumeric or hyphen '-' characters"
MSG_DID_MISSING = "'properties.distinct_id' is invalid: must not be missing"
MSG_DID_PLACEHOLDER = "'properties.distinct_id' is invalid: must not be a placeholder value"  # unverified
MSG_TOO_MANY_PROPS = "'properties' is invalid: must have fewer than 255 properties"         # unverified
MSG_TOO_BIG = "'event' is invalid: must be smaller than {0} bytes of JSON"                  # unverified
MSG_UTF8 = "'{0}' is invalid: string should be valid utf8"          # wording from IMP's example
MSG_BATCH = "some data points in the request failed validation"


def json_response(status, obj, headers=None):
    return status, dumps(obj), "application/json", headers or {}


def error_401():
    return json_response(401, {"code": 401, "error": "Invalid credentials", "status": "Unauthorized"})


def error_413(max_bytes):
    return json_response(413, {"code": 413, "error": f"request exceeds max limit of {max_bytes} bytes",
                               "status": "Request Entity Too Large"})


def error_400(message):
    return json_response(400, {"code": 400, "error": message, "status": "Bad Request"})


def authenticate(header, query, cfg):
    """Returns the auth kind ("service_account", "token", "secret") or None when refused.

    Service accounts need `project_id`; token/secret auth is chosen by its absence."""
    if not header or not header[:6].lower() == "basic ":
        return None
    cred = header[6:].strip()
    try:
        decoded = base64.b64decode(cred, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        decoded = cred  # the docs say plain `user:secret` after "Basic " is accepted too
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    project = query.get("project_id")
    if project is not None:
        if (cfg["sa_user"] and user == cfg["sa_user"] and password == cfg["sa_secret"]
                and project[0] == cfg["project_id"]):
            return "service_account"
        return None
    if password == "":
        if cfg["token"] and user == cfg["token"]:
            return "token"
        if cfg["secret"] and user == cfg["secret"]:
            return "secret"
    return None


def time_to_ms(t):
    """Seconds or milliseconds (by magnitude) to integer ms; None for non-numbers."""
    tt = type(t)
    if tt is int:
        return t * 1000 if t < SECONDS_BELOW else t
    if tt is float:
        return round(t * 1000) if t < SECONDS_BELOW else round(t)
    return None


def _echo_id(props):
    iid = props.get("$insert_id") if type(props) is dict else None
    if iid is None:
        return ""
    return iid if type(iid) is str else dumps(iid).decode()


def _check(i, ev, now_ms, cfg, oversized, bad_utf8):
    """The full per-event check, in the order failures are reported. Returns
    (field, message, props, name, time_ms, did, iid) with field None when the event is valid."""
    props = ev.get("properties") if type(ev) is dict else None
    name = ev.get("event") if type(ev) is dict else None
    if type(name) is not str or not name.strip():
        return "event", MSG_EVENT, props, name, None, None, None
    if type(props) is not dict or props.get("time") is None:
        return "properties.time", MSG_TIME_MISSING, props, name, None, None, None
    time_ms = time_to_ms(props["time"])
    did = props.get("distinct_id")
    iid = props.get("$insert_id")
    field = msg = None
    if time_ms is None:
        field, msg = "properties.time", MSG_TIME_FORMAT
    elif time_ms > now_ms + MAX_AHEAD_MS:
        field, msg = "properties.time", MSG_TIME_FUTURE
    elif time_ms < MIN_TIME_MS:
        field, msg = "properties.time", MSG_TIME_PAST
    elif did is None and (cfg["id_merge"] != "simplified"
                          or (props.get("$user_id") is None and props.get("$device_id") is None)):
        field, msg = "properties.distinct_id", MSG_DID_MISSING
    elif did is not None and (did if type(did) is str else dumps(did).decode()).lower() in PLACEHOLDERS:
        field, msg = "properties.distinct_id", MSG_DID_PLACEHOLDER
    elif iid is not None and (type(iid) is not str or not _INSERT_ID_OK(iid) or iid.lower() in PLACEHOLDERS):
        field, msg = "$insert_id", MSG_INSERT_ID
    elif len(props) >= MAX_PROPERTIES:
        field, msg = "properties", MSG_TOO_MANY_PROPS
    elif i in oversized:
        field, msg = "event", MSG_TOO_BIG.format(cfg["max_event_bytes"])
    elif i in bad_utf8:
        field = bad_utf8[i]
        msg = MSG_UTF8.format(field)
    return field, msg, props, name, time_ms, did, iid


_ZERO_UUID = "00000000-0000-0000-0000-000000000000"
_PLACEHOLDER_MAX = 9  # longest placeholder apart from the zero UUID ("anonymous", "undefined")


def validate_events(items, oversized, bad_utf8, now_ms, cfg, new_insert_id):
    """Checks every item; returns (records, failed). `records` are store tuples
    (event, key, time_ms, used_request_ip, ip, insert_id_generated); `failed` are
    failed_records dicts. Accepted events lose their `ip` property (geo, section 9.12).

    The loop is the server's hot path (~400k events/s in the benchmark): a well-formed event
    passes a few type and range checks inline; anything unusual takes the full `_check`."""
    records, failed = [], []
    append = records.append
    latest = now_ms + MAX_AHEAD_MS
    special = oversized or bad_utf8
    insert_id_ok = _INSERT_ID_OK
    for i, ev in enumerate(items):
        try:
            name = ev["event"]
            props = ev["properties"]
            t = props["time"]
            did = props["distinct_id"]
            iid = props["$insert_id"]
        except (KeyError, TypeError, IndexError):
            t = did = iid = None
        tt = type(t)
        time_ms = (t * 1000 if t < SECONDS_BELOW else t) if tt is int else \
            (round(t * 1000) if t < SECONDS_BELOW else round(t)) if tt is float else 0
        if not (type(name) is str and name and not name.isspace() and MIN_TIME_MS <= time_ms <= latest
                and type(did) is str and (len(did) > _PLACEHOLDER_MAX or did.lower() not in PLACEHOLDERS)
                and did != _ZERO_UUID and type(iid) is str and insert_id_ok(iid)
                and (len(iid) > _PLACEHOLDER_MAX or iid.lower() not in PLACEHOLDERS) and iid != _ZERO_UUID
                and len(props) < MAX_PROPERTIES and not (special and (i in oversized or i in bad_utf8))):
            field, msg, props, name, time_ms, did, iid = _check(i, ev, now_ms, cfg, oversized, bad_utf8)
            if field is not None:
                failed.append({"index": i, "insert_id": _echo_id(props), "field": field, "message": msg})
                continue
            if did is None:
                # Simplified ID merge derives the distinct_id (section 2.4).
                did = props["$user_id"] if props.get("$user_id") is not None else props["$device_id"]
                props["distinct_id"] = did
            if type(did) is not str:
                did = dumps(did).decode()
        generated = iid is None
        if generated:
            iid = new_insert_id()
        ip = props.pop("ip", None)
        append((ev, (name, did, time_ms, iid), time_ms, ip is None, ip, generated))
    return records, failed


def handle(state, req):
    """Processes one /import request; returns (status, body, content_type, headers, counts)."""
    cfg = dict(state.config)
    auth = authenticate(req.headers.get("authorization"), req.query, cfg)
    req.log["auth"] = auth or ("none" if not req.headers.get("authorization") else "invalid")
    if auth is None:
        return error_401(), (0, 0, 0)
    form = req.content_type.startswith("application/x-www-form-urlencoded")
    try:
        body = mp_body.decode(req.raw, req.headers.get("content-encoding"), cfg["max_body_bytes"])
    except mp_body.BodyTooLarge:
        return error_413(cfg["max_body_bytes"]), (0, 0, 0)
    except mp_body.BadBody as e:
        return error_400(str(e)), (0, 0, 0)
    req.body_bytes = len(body)
    verbose = req.query.get("verbose", [""])[0] == "1"
    strict = req.query.get("strict", ["1"])[0] != "0"
    try:
        if form:
            # Legacy SDK form (section 2.1): answers in the {status: 0|1} style.
            data, fields = mp_body.form_data(body, req.query)
            if data is None:
                return json_response(200, {"error": "data, missing or empty", "status": 0}), (0, 0, 0)
            body = mp_body.decode_data_field(data)
            verbose = verbose or fields.get("verbose", [""])[0] == "1"
            strict = False
        ndjson = "ndjson" in req.content_type or (
            "json" not in req.content_type and body.lstrip()[:1] not in (b"[", b""))
        items, oversized, bad = mp_body.parse_events(body, ndjson, cfg["max_event_bytes"])
    except mp_body.BadBody as e:
        return error_400(str(e)), (0, 0, 0)
    n = len(items)
    req.log["events"] = n
    if n == 0:
        return error_400("data, missing or empty"), (0, 0, 0)  # unverified
    if n > cfg["max_events"]:
        # Unverified (section 8.10): we reject the whole request with 400.
        return error_400(f"request exceeds max limit of {cfg['max_events']} events"), (n, n, 0)
    records, failed = validate_events(items, oversized, bad, state.now_ms(), cfg,
                                      state.generated_insert_id)
    state.add_events("/import", req.seq, records)
    k = len(records)
    req.log["imported"] = k
    req.log["failed"] = len(failed)
    counts = (n, len(failed), 0)
    if strict:
        if not failed:
            return json_response(200, {"code": 200, "num_records_imported": k, "status": "OK"}), counts
        return json_response(400, {"code": 400, "error": MSG_BATCH, "status": "Bad Request",
                                   "num_records_imported": k, "failed_records": failed}), counts
    # Non-strict (section 9.9): invalid events are dropped silently.
    if verbose:
        return json_response(200, {"code": 200, "error": MSG_BATCH if failed else None,
                                   "num_records_imported": k, "status": 0 if failed else 1}), counts
    return (200, b"1" if k > 0 else b"0", "text/plain", {}), counts
