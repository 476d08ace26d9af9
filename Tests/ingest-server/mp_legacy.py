"""The token-in-payload endpoints: POST /track, /engage and /groups
(INGESTION_API.md sections 5, 6, 9.13 and 9.14).

They answer HTTP 200 with `1`/`0`, or `{"status": 1|0, "error": ...}` when `verbose=1`.
"""

import mp_body
import mp_profiles
from mp_import import error_413, time_to_ms, json_response

MSG_TOKEN = "token, missing or empty"
MSG_PROFILE_TOKEN = "$token, missing or empty"
MSG_DATA = "data, missing or empty"


def _answer(verbose, ok, error):
    if verbose:
        if ok:
            return json_response(200, {"status": 1, "error": None})
        return json_response(200, {"error": error, "status": 0})
    return 200, b"1" if ok else b"0", "text/plain", {}


def _payload(req, cfg, allow_encoding):
    """Decodes the body into (items, verbose); raises BadBody or BodyTooLarge."""
    encoding = req.headers.get("content-encoding")
    if not allow_encoding and (encoding or "identity").strip().lower() != "identity":
        raise mp_body.BadBody("Content-Encoding is not supported")  # unverified text
    body = mp_body.decode(req.raw, encoding, cfg["max_body_bytes"])
    req.body_bytes = len(body)
    verbose = req.query.get("verbose", [""])[0] == "1"
    if (req.content_type.startswith("application/x-www-form-urlencoded") or body.startswith(b"data=")
            or (not body and "data" in req.query)):
        data, fields = mp_body.form_data(body, req.query)
        if not data:
            raise mp_body.BadBody(MSG_DATA)
        verbose = verbose or fields.get("verbose", [""])[0] == "1"
        body = mp_body.decode_data_field(data)
    if not body.strip():
        raise mp_body.BadBody(MSG_DATA)
    items, _, _ = mp_body.parse_events(body, False, cfg["max_body_bytes"] + 1)
    return items, verbose


def _parse(req, cfg, allow_encoding):
    """(items, verbose, early_response): early_response is set when the body is unusable."""
    verbose = req.query.get("verbose", [""])[0] == "1"
    try:
        items, verbose = _payload(req, cfg, allow_encoding)
    except mp_body.BodyTooLarge:
        return None, verbose, error_413(cfg["max_body_bytes"])
    except mp_body.BadBody as e:
        return None, verbose, _answer(verbose, False, str(e))
    req.log["events"] = len(items)
    if len(items) > cfg["max_events"]:
        return None, verbose, _answer(verbose, False,
                                      f"request exceeds max limit of {cfg['max_events']} events")  # unverified
    return items, verbose, None


def handle_track(state, req):
    """/track: token in each event's properties; events older than the age limit are
    acknowledged but dropped; wrong (non-empty) tokens are acknowledged and dropped too."""
    cfg = dict(state.config)
    req.log["auth"] = "payload_token"
    items, verbose, early = _parse(req, cfg, True)
    if early:
        return early, (0, 0, 0)
    now = state.now_ms()
    oldest = now - cfg["track_max_age_s"] * 1000
    records, rejected, dropped, well_formed, error = [], 0, 0, 0, None
    for ev in items:
        props = ev.get("properties") if type(ev) is dict else None
        name = ev.get("event") if type(ev) is dict else None
        token = props.get("token") if type(props) is dict else None
        if type(name) is not str or not name.strip():
            rejected += 1
            error = error or "event, missing or empty"
            continue
        if type(token) is not str or not token:
            rejected += 1
            error = error or MSG_TOKEN
            continue
        time_ms = now if props.get("time") is None else time_to_ms(props["time"])
        if time_ms is None:
            rejected += 1
            error = error or "time, invalid"  # unverified
            continue
        well_formed += 1
        if token != cfg["token"] or time_ms < oldest:
            dropped += 1
            continue
        did = props.get("distinct_id", "")
        iid = props.get("$insert_id")
        generated = not iid
        if generated:
            iid = state.generated_insert_id()
        ip = props.pop("ip", None)
        records.append((ev, (name, did if type(did) is str else mp_body.dumps(did).decode(), time_ms,
                             iid if type(iid) is str else str(iid)), time_ms, ip is None, ip, generated))
    state.add_events("/track", req.seq, records)
    req.log["imported"] = len(records)
    req.log["failed"] = rejected
    return _answer(verbose, well_formed > 0, error), (len(items), rejected, dropped)


def handle_profiles(state, req, groups):
    """/engage (groups=False) or /groups: validate each update, then apply the valid ones."""
    cfg = dict(state.config)
    req.log["auth"] = "payload_token"
    items, verbose, early = _parse(req, cfg, False)
    if early:
        return early, (0, 0, 0)
    allowed = mp_profiles.GROUP_OPS if groups else mp_profiles.ENGAGE_OPS
    valid, rejected, dropped, error = [], 0, 0, None
    for upd in items:
        err = None
        if type(upd) is not dict:
            err = "update must be a JSON object"
        elif type(upd.get("$token")) is not str or not upd["$token"]:
            err = MSG_PROFILE_TOKEN
        elif groups and (upd.get("$group_key") in (None, "") or upd.get("$group_id") in (None, "")):
            err = "$group_key and $group_id, missing or empty"  # unverified
        elif not groups and upd.get("$distinct_id") in (None, ""):
            err = "$distinct_id, missing or empty"  # unverified
        if err is None:
            ops, err = mp_profiles.validate(upd, allowed)
        if err is not None:
            rejected += 1
            error = error or err
            continue
        if upd["$token"] != cfg["token"]:
            dropped += 1
            continue
        key = (str(upd["$group_key"]), str(upd["$group_id"])) if groups else str(upd["$distinct_id"])
        valid.append((key, upd, ops))
    state.apply_profile_updates("/groups" if groups else "/engage", valid)
    req.log["imported"] = len(valid)
    req.log["failed"] = rejected
    ok = len(valid) + dropped > 0
    return _answer(verbose, ok, error), (len(items), rejected, dropped)
