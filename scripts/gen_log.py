#!/usr/bin/env python3
"""Writes the benchmark's mixed log: ~70% app lines (rule `purchase`, five named groups),
~20% nginx combined access lines (rule `access`), ~10% noise (half dropped healthchecks,
half unmatched debug lines). Deterministic for a given seed. Prints a JSON summary with the
number of lines and of events the rules must produce."""
import argparse
import json
import random
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--start-ms", type=int, default=None, help="first timestamp (default: now - 30 min)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    start = args.start_ms if args.start_ms is not None else int(time.time() * 1000) - 30 * 60 * 1000
    plans = ["free", "pro", "team", "enterprise"]
    paths = ["/", "/api/v1/cart", "/api/v1/items?page=2", "/checkout", "/static/app.js", "/login"]
    agents = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "curl/7.88.1", "okhttp/4.12.0"]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    events = 0
    out = []
    with open(args.path, "w", encoding="ascii") as f:
        for i in range(args.lines):
            ms = start + i // 100
            r = rng.random()
            if r < 0.70:
                t = time.gmtime(ms // 1000)
                ts = time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (ms % 1000)
                out.append("%s INFO user=u%d action=purchase amount=%d.%02d plan=%s request_id=%032x\n" % (
                    ts, rng.randrange(100000), rng.randrange(1000), rng.randrange(100), plans[i % 4],
                    rng.getrandbits(128)))
                events += 1
            elif r < 0.90:
                t = time.gmtime(ms // 1000)
                ts = "%02d/%s/%d:%s +0000" % (t.tm_mday, months[t.tm_mon - 1], t.tm_year, time.strftime("%H:%M:%S", t))
                out.append('10.%d.%d.%d - - [%s] "GET %s HTTP/1.1" %d %d "-" "%s"\n' % (
                    rng.randrange(256), rng.randrange(256), rng.randrange(256), ts, paths[i % 6],
                    (200, 200, 200, 404, 500)[i % 5], rng.randrange(50000), agents[i % 3]))
                events += 1
            elif r < 0.95:
                out.append("%d DEBUG healthcheck ok latency_ms=%d\n" % (ms, rng.randrange(30)))
            else:
                out.append("%d DEBUG cache stats hits=%d misses=%d\n" % (ms, rng.randrange(9999), rng.randrange(99)))
            if len(out) >= 10000:
                f.write("".join(out))
                out.clear()
        f.write("".join(out))
    print(json.dumps({"lines": args.lines, "events": events}))


if __name__ == "__main__":
    main()
