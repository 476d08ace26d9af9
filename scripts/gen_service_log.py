#!/usr/bin/env python3
"""Writes a real-looking Java service log for `tailship test` with examples/service.yaml:
purchases (some with an unparseable amount, some with a Latin-1 note), logins, health checks,
slow-query warnings and cache debug lines, and errors followed by Java stack traces (some with
a `Caused by:` section). Deterministic for a given seed. Prints a JSON summary: lines, records
(a trace counts with its error line), and the events, invalid events, dropped and unmatched
records the example's rules must give."""
import argparse
import json
import random
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--lines", type=int, default=100_000, help="at least this many lines")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start-ms", type=int, default=None,
                    help="first timestamp (default: early enough that the last one is an hour ago)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    # Records are 20 ms apart on average and at most 0.6 per line: 25 ms per line is ample.
    ms = args.start_ms if args.start_ms is not None else int(time.time() * 1000) - 3600 * 1000 - 25 * args.lines
    plans = ["free", "pro", "team", "enterprise"]
    exceptions = ["java.lang.IllegalStateException", "java.lang.NullPointerException",
                  "com.example.orders.PaymentDeclinedException", "java.util.concurrent.TimeoutException"]
    causes = ["java.net.SocketTimeoutException", "java.sql.SQLTransientConnectionException"]
    counts = {"lines": 0, "records": 0, "events": 0, "invalid": 0, "dropped": 0, "unmatched": 0}
    out = []

    def emit(*lines):
        for line in lines:
            out.append(line if isinstance(line, bytes) else line.encode("ascii"))
        counts["lines"] += len(lines)
        counts["records"] += 1

    while counts["lines"] < args.lines:
        ms += rng.randrange(1, 40)
        t = time.gmtime(ms // 1000)
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (ms % 1000)
        thread = "http-8080-%d" % rng.randrange(1, 33)
        r = rng.random()
        if r < 0.55:
            amount = "%d.%02d" % (rng.randrange(1000), rng.randrange(100))
            note = b"-"
            k = rng.random()
            if k < 0.01:
                amount = "n/a"  # not a float: the event is invalid (dead-lettered)
                counts["invalid"] += 1
            else:
                counts["events"] += 1
                if k < 0.03:
                    note = "caf\xe9".encode("latin-1")  # invalid UTF-8: replaced with U+FFFD
            emit(("%s INFO [%s] user=u%d action=purchase amount=%s plan=%s note=" % (
                ts, thread, rng.randrange(50000), amount, plans[rng.randrange(4)])).encode("ascii") + note)
        elif r < 0.70:
            emit("%s INFO [%s] user=u%d action=login method=%s" % (
                ts, thread, rng.randrange(50000), rng.choice(["password", "sso", "token"])))
            counts["events"] += 1
        elif r < 0.80:
            emit("%s INFO [%s] GET /healthz 200 %dms" % (ts, thread, rng.randrange(1, 9)))
            counts["dropped"] += 1
        elif r < 0.88:
            emit("%s WARN [%s] slow query on orders took %dms rows=%d" % (
                ts, thread, rng.randrange(500, 9000), rng.randrange(1, 5000)))
            counts["unmatched"] += 1
        elif r < 0.95:
            emit("%s DEBUG [%s] cache stats hits=%d misses=%d evictions=%d" % (
                ts, thread, rng.randrange(99999), rng.randrange(999), rng.randrange(99)))
            counts["unmatched"] += 1
        else:
            exception = rng.choice(exceptions)
            lines = ["%s ERROR [%s] Request %032x failed" % (ts, thread, rng.getrandbits(128)),
                     "%s: %s" % (exception, rng.choice(["boom", "card declined", "no session", "timed out"]))]
            lines += ["\tat com.example.orders.Layer%d.call(Layer%d.java:%d)" % (i, i, rng.randrange(20, 400))
                      for i in range(rng.randrange(3, 25))]
            if rng.random() < 0.4:
                lines.append("Caused by: %s: Read timed out" % rng.choice(causes))
                lines += ["\tat java.base/java.net.SocketInputStream.read(SocketInputStream.java:168)",
                          "\t... %d more" % rng.randrange(5, 40)]
            emit(*lines)
            counts["events"] += 1
    with open(args.path, "wb") as f:
        f.write(b"\n".join(out) + b"\n")
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
