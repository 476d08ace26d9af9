"""Request-body decoding shared by every ingestion endpoint: content encoding, size cap,
JSON array / NDJSON / form `data=` parsing, and invalid-UTF-8 detection.

orjson is used when importable (it parses ~5x faster than the standard library); the
standard library is the fallback and also the slow path for bodies orjson refuses.
"""

import base64
import binascii
import json
import urllib.parse
import zlib

try:
    import orjson

    loads = orjson.loads
    dumps = orjson.dumps
except ImportError:  # pragma: no cover - exercised only on machines without orjson
    orjson = None

    def loads(data):
        return json.loads(data)

    def dumps(obj):
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class BodyTooLarge(Exception):
    """The decompressed body exceeds the configured byte cap."""


class BadBody(Exception):
    """The body cannot be decoded or parsed at all (the whole request fails)."""


def decode(raw, content_encoding, max_bytes):
    """Undoes `Content-Encoding` (gzip or deflate) and enforces `max_bytes` on the result.

    Decompression stops one byte past the cap, so a gzip bomb costs no more than the cap.
    """
    enc = (content_encoding or "").strip().lower()
    if enc in ("", "identity"):
        body = raw
    elif enc in ("gzip", "x-gzip", "deflate"):
        d = zlib.decompressobj(31 if enc != "deflate" else 15)
        try:
            body = d.decompress(raw, max_bytes + 1)
        except zlib.error as e:
            raise BadBody(f"invalid {enc} body: {e}") from None
        if len(body) > max_bytes or d.unconsumed_tail:
            raise BodyTooLarge()
        if not d.eof:
            raise BadBody(f"truncated {enc} body")
    else:
        raise BadBody(f"unsupported Content-Encoding {enc!r}")
    if len(body) > max_bytes:
        raise BodyTooLarge()
    return body


def _has_bad_text(value):
    """True when a string (or any string inside a container) holds surrogate escapes,
    i.e. came from bytes that were not valid UTF-8, or from lone surrogate escapes."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return False
        except UnicodeEncodeError:
            return True
    if isinstance(value, dict):
        return any(_has_bad_text(k) or _has_bad_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_bad_text(v) for v in value)
    return False


def bad_utf8_field(ev):
    """The field name to report for an event holding invalid UTF-8, or None."""
    if not isinstance(ev, dict):
        return None
    if _has_bad_text(ev.get("event")):
        return "event"
    props = ev.get("properties")
    if isinstance(props, dict):
        for k, v in props.items():
            if _has_bad_text(k) or _has_bad_text(v):
                name = k.encode("utf-8", "replace").decode("utf-8")
                return f"properties.{name}"
    for k, v in ev.items():
        if _has_bad_text(k) or _has_bad_text(v):
            return "properties"
    return None


def _slow_loads(chunk):
    """Parses bytes orjson refused: decode with surrogateescape so invalid UTF-8 survives
    as lone surrogates that `bad_utf8_field` can point at. Raises BadBody for bad JSON."""
    text = chunk.decode("utf-8", "surrogateescape")
    try:
        return json.loads(text)
    except ValueError as e:
        raise BadBody(f"malformed JSON: {e}") from None


def parse_events(body, ndjson, max_event_bytes):
    """Parses a JSON array (or a single object) or NDJSON body into a list of items.

    Returns (items, oversized, bad_utf8): `oversized` is the set of indexes whose JSON text is
    >= max_event_bytes, `bad_utf8` maps indexes to the field holding invalid UTF-8.
    """
    oversized = set()
    bad = {}
    if ndjson:
        items = []
        for line in body.split(b"\n"):
            if not line or line.isspace():
                continue
            try:
                item = loads(line)
            except ValueError:
                item = _slow_loads(line)
                field = bad_utf8_field(item)
                if field:
                    bad[len(items)] = field
            if len(line) >= max_event_bytes:
                oversized.add(len(items))
            items.append(item)
        return items, oversized, bad
    try:
        items = loads(body)
        slow = False
    except ValueError:
        items = _slow_loads(body)
        slow = True
    if isinstance(items, dict):
        items = [items]
    elif not isinstance(items, list):
        raise BadBody("body must be a JSON array of events")
    if slow:
        for i, item in enumerate(items):
            field = bad_utf8_field(item)
            if field:
                bad[i] = field
    if len(body) >= max_event_bytes:
        # Only a body this large can hold an oversized event; measure each one.
        for i, item in enumerate(items):
            if i not in bad and len(dumps(item)) >= max_event_bytes:
                oversized.add(i)
    return items, oversized, bad


def form_data(body, query):
    """The `data` field of a form body (or of the query string), or None."""
    # latin-1 maps percent-decoded bytes 1:1 onto code points, so encoding back is lossless.
    fields = urllib.parse.parse_qs(body.decode("latin-1"), keep_blank_values=True,
                                   encoding="latin-1") if body else {}
    values = fields.get("data") or query.get("data")
    if not values:
        return None, fields
    return values[0], fields


def decode_data_field(value):
    """`data=` holds raw JSON (Python SDK) or base64 JSON (Node/Java SDKs)."""
    raw = value.encode("latin-1")
    if raw.lstrip()[:1] in (b"[", b"{"):
        return raw
    # A '+' that the client forgot to percent-encode arrives as a space.
    raw = raw.strip().replace(b" ", b"+")
    altchars = b"-_" if b"-" in raw or b"_" in raw else None
    try:
        return base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        raise BadBody("data is neither JSON nor base64 JSON") from None
