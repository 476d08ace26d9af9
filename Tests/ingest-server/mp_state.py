"""In-memory state of the fake Mixpanel server: configuration, event store, profiles,
fault queue, statistics and the request log.

Everything here is guarded by one lock owned by `State`; the HTTP handlers do their
parsing and validation outside the lock and only take it to publish results.
"""

import collections
import gc
import random
import threading
import time

import mp_profiles

# Knobs and their defaults (INGESTION_API.md section 9). `max_body_bytes` may be switched
# to 2097152 to mimic the older documented cap.
DEFAULT_CONFIG = {
    "project_id": "123456",
    "sa_user": "tailship-sa.abc123.mp-service-account",
    "sa_secret": "sa-secret",
    "token": "test-token",
    "secret": "test-api-secret",
    "max_body_bytes": 10485760,
    "max_events": 2000,
    "max_event_bytes": 1_000_000,
    "id_merge": "original",
    "outage": False,
    "hostile": None,
    "hostile_bytes": None,
    "clock_offset_ms": 0,
    "track_max_age_s": 5 * 86400,
}

# Hostile answers (`hostile` knob or fault key), for the agent's bounds on what it reads:
# huge: a 200 of `hostile_bytes` (default 800 MB) with its Content-Length; unsized: the same
# without a length, ended by closing; endless: a chunked 200 that never ends; long_error: a 400
# whose `error` text is `hostile_bytes` (default 2 MB) long. Streamed, never held in memory.
HOSTILE_MODES = ("huge", "unsized", "endless", "long_error")
HOSTILE_DEFAULT_BYTES = {"huge": 800_000_000, "unsized": 800_000_000, "endless": None, "long_error": 2_000_000}

_INT_KNOBS = ("max_body_bytes", "max_events", "max_event_bytes", "clock_offset_ms", "track_max_age_s")
_STR_KNOBS = ("project_id", "sa_user", "sa_secret", "token", "secret")

STORE_MODES = ("full", "summary", "none")


class ConfigError(ValueError):
    """A control request asked for an unknown knob or an invalid value."""


def validate_config_update(update):
    """Checks a partial config dict and returns it normalised; raises ConfigError."""
    if not isinstance(update, dict):
        raise ConfigError("config must be a JSON object")
    out = {}
    for key, value in update.items():
        if key in _INT_KNOBS:
            if type(value) is not int:
                raise ConfigError(f"{key} must be an integer")
        elif key in _STR_KNOBS:
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{key} must be a string or null")
        elif key == "outage":
            if type(value) is not bool:
                raise ConfigError("outage must be true or false")
        elif key == "hostile":
            if value is not None and value not in HOSTILE_MODES:
                raise ConfigError(f"hostile must be null or one of {list(HOSTILE_MODES)}")
        elif key == "hostile_bytes":
            if value is not None and not (type(value) is int and value > 0):
                raise ConfigError("hostile_bytes must be a positive integer or null")
        elif key == "id_merge":
            if value not in ("original", "simplified"):
                raise ConfigError("id_merge must be 'original' or 'simplified'")
        else:
            raise ConfigError(f"unknown config key {key!r}")
        out[key] = value
    return out


class Chaos:
    """Probabilistic faults: each ingestion request fails with `fail_rate`, or is ingested
    and then reset with `reset_rate`, using a seeded generator so runs are repeatable."""

    def __init__(self, fail_rate=0.0, reset_rate=0.0, seed=None, statuses=(429, 500, 502, 503),
                 retry_after=None, delay_ms=0):
        if not (0 <= fail_rate <= 1 and 0 <= reset_rate <= 1 and fail_rate + reset_rate <= 1):
            raise ConfigError("fail_rate and reset_rate must be within [0, 1] and sum to at most 1")
        if not statuses or not all(type(s) is int and 100 <= s <= 599 for s in statuses):
            raise ConfigError("statuses must be a non-empty list of HTTP status codes")
        self.fail_rate = fail_rate
        self.reset_rate = reset_rate
        self.statuses = list(statuses)
        self.retry_after = retry_after
        self.delay_ms = delay_ms
        self.seed = seed
        self.rng = random.Random(seed)

    @property
    def active(self):
        return self.fail_rate > 0 or self.reset_rate > 0 or self.delay_ms > 0

    def draw(self):
        """Returns the fault dict for the next request, or None."""
        r = self.rng.random()
        fault = None
        if r < self.fail_rate:
            fault = {"status": self.rng.choice(self.statuses)}
            if self.retry_after is not None:
                fault["retry_after"] = self.retry_after
        elif r < self.fail_rate + self.reset_rate:
            fault = {"reset_after_ingest": True}
        if self.delay_ms:
            fault = dict(fault or {}, delay_ms=self.delay_ms)
        return fault

    def describe(self):
        return {"fail_rate": self.fail_rate, "reset_rate": self.reset_rate, "seed": self.seed,
                "statuses": self.statuses, "retry_after": self.retry_after, "delay_ms": self.delay_ms}


_FAULT_KEYS = {"status", "body", "retry_after", "headers", "content_type", "delay_ms",
               "reset_after_ingest", "reset_before_ingest", "hostile", "hostile_bytes"}


def validate_fault(fault):
    """Rejects fault dicts with unknown keys or nonsensical values."""
    if not isinstance(fault, dict):
        raise ConfigError("each fault must be a JSON object")
    unknown = set(fault) - _FAULT_KEYS
    if unknown:
        raise ConfigError(f"unknown fault keys {sorted(unknown)}")
    if "status" in fault and not (type(fault["status"]) is int and 100 <= fault["status"] <= 599):
        raise ConfigError("status must be an HTTP status code")
    if "hostile" in fault and fault["hostile"] not in HOSTILE_MODES:
        raise ConfigError(f"hostile must be one of {list(HOSTILE_MODES)}")
    if not fault.get("status") and not fault.get("reset_after_ingest") \
            and not fault.get("reset_before_ingest") and not fault.get("delay_ms") and not fault.get("hostile"):
        raise ConfigError("a fault needs status, delay_ms, reset_after_ingest, reset_before_ingest or hostile")
    return fault


class State:
    """All mutable server state behind one lock."""

    def __init__(self, config, store_mode="full", log_size=2000):
        if store_mode not in STORE_MODES:
            raise ValueError(f"store mode must be one of {STORE_MODES}")
        self.lock = threading.Lock()
        self.config = dict(config)
        self.store_mode = store_mode
        self.log_size = log_size
        self.reset()

    def reset(self):
        """Forgets events, profiles, faults, chaos, statistics and the outage switch;
        credentials and limits stay as configured."""
        with self.lock:
            gc.unfreeze()
            self.raw = []            # full mode: one record tuple per accepted copy
            self.dedup = {}          # full mode: key -> index in raw; summary: key hash -> None
            self.profiles = {}       # distinct_id -> properties
            self.groups = {}         # (group_key, group_id) -> properties
            self.updates = []        # every accepted /engage or /groups update, in order
            self.faults = collections.deque()
            self.chaos = None
            self.config["outage"] = False
            self.config["hostile"] = None
            self.config["hostile_bytes"] = None
            self.log = collections.deque(maxlen=self.log_size)
            self.request_seq = 0
            self.generated_ids = 0
            self.stats = {
                "requests": 0, "requests_by_status": {}, "requests_by_path": {},
                "events_received": 0, "events_accepted": 0, "events_rejected": 0,
                "events_dropped": 0, "duplicates": 0, "bytes_received": 0,
                "bytes_decompressed": 0, "faults_injected": 0, "resets": 0,
                "profile_updates": 0, "group_updates": 0, "hostile_answers": 0,
            }

    def now_ms(self):
        return int(time.time() * 1000) + self.config["clock_offset_ms"]

    def next_request_seq(self):
        with self.lock:
            self.request_seq += 1
            return self.request_seq

    def next_fault(self):
        """Outage first, then the explicit queue, then chaos."""
        with self.lock:
            if self.config["outage"]:
                return {"status": 503, "outage": True}
            if self.config["hostile"]:
                return {"hostile": self.config["hostile"], "hostile_bytes": self.config["hostile_bytes"]}
            if self.faults:
                return self.faults.popleft()
            if self.chaos is not None:
                return self.chaos.draw()
            return None

    def add_events(self, endpoint, request_seq, records):
        """Publishes accepted events. Each record is
        (event_dict, key, time_ms, used_request_ip, ip_value, insert_id_generated)."""
        mode = self.store_mode
        with self.lock:
            dups = 0
            if mode == "full":
                raw, dedup = self.raw, self.dedup
                for rec in records:
                    key = rec[1]
                    if key in dedup:
                        dups += 1
                    dedup[key] = len(raw)
                    raw.append((endpoint, request_seq) + rec)
                # Stored events are acyclic and live until reset: move them out of the cyclic
                # collector's sight, or every full collection walks millions of dicts.
                gc.freeze()
            elif mode == "summary":
                dedup = self.dedup
                for rec in records:
                    h = hash(rec[1])
                    if h in dedup:
                        dups += 1
                    else:
                        dedup[h] = None
            self.stats["events_accepted"] += len(records)
            self.stats["duplicates"] += dups

    def apply_profile_updates(self, endpoint, updates):
        """Applies validated (key, update, ops) triples to the profile or group map."""
        groups = endpoint == "/groups"
        with self.lock:
            target = self.groups if groups else self.profiles
            for key, update, ops in updates:
                mp_profiles.apply(target, key, update, ops)
                self.updates.append({"endpoint": endpoint, "update": update})
            self.stats["group_updates" if groups else "profile_updates"] += len(updates)

    def snapshot_profiles(self):
        """Profiles, groups and the update log as JSON-ready values."""
        with self.lock:
            return {
                "profiles": {k: dict(v) for k, v in self.profiles.items()},
                "groups": [{"group_key": k[0], "group_id": k[1], "properties": dict(v)}
                           for k, v in self.groups.items()],
                "updates": list(self.updates),
            }

    def generated_insert_id(self):
        """A server-side $insert_id for events that lack one: unique, so never deduplicated."""
        with self.lock:
            self.generated_ids += 1
            return f"srv-{self.generated_ids:012d}"

    def record_request(self, entry, wire_bytes, body_bytes, received, rejected, dropped):
        with self.lock:
            st = self.stats
            st["requests"] += 1
            status = str(entry["status"])
            st["requests_by_status"][status] = st["requests_by_status"].get(status, 0) + 1
            st["requests_by_path"][entry["path"]] = st["requests_by_path"].get(entry["path"], 0) + 1
            st["bytes_received"] += wire_bytes
            st["bytes_decompressed"] += body_bytes
            st["events_received"] += received
            st["events_rejected"] += rejected
            st["events_dropped"] += dropped
            if entry.get("fault"):
                st["faults_injected"] += 1
            if entry.get("reset"):
                st["resets"] += 1
            if entry.get("hostile"):
                st["hostile_answers"] += 1
            self.log.append(entry)

    def snapshot_stats(self):
        with self.lock:
            out = dict(self.stats)
            out["requests_by_status"] = dict(out["requests_by_status"])
            out["requests_by_path"] = dict(out["requests_by_path"])
            out["unique_events"] = len(self.dedup)
            out["stored_copies"] = len(self.raw)
            out["faults_pending"] = len(self.faults)
            out["profiles"] = len(self.profiles)
            out["groups"] = len(self.groups)
            out["store"] = self.store_mode
            return out

    def snapshot_events(self, dedup=False, endpoint=None, offset=0, limit=None):
        """Accepted copies as JSON-ready dicts, in ingestion order (dedup view: the latest copy
        of each key, ordered by when that copy arrived)."""
        with self.lock:
            if dedup:
                rows = [self.raw[i] for i in sorted(self.dedup.values())]
            else:
                rows = self.raw[offset:offset + limit] if limit is not None else self.raw[offset:]
        out = []
        for ep, seq, ev, key, time_ms, used_ip, ip, generated in rows:
            if endpoint is not None and ep != endpoint:
                continue
            out.append({
                "event": ev.get("event"), "properties": ev.get("properties"),
                "time_ms": time_ms, "distinct_id": key[1], "insert_id": key[3],
                "insert_id_generated": generated, "used_request_ip": used_ip, "ip": ip,
                "endpoint": ep, "request_seq": seq,
            })
        return out
