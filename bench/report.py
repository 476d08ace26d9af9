#!/usr/bin/env python3
"""Prints scripts/bench.sh's figures: each run's, then the medians.

Reads the raw files bench.sh leaves in RESULTS/<run>/: time.txt (GNU time: elapsed, user,
system, max RSS KiB), run.txt (start, end, events), rollup-peak.txt and rollup-idle.txt
(/proc/PID/smaps_rollup), status-idle.txt, tasks.txt (/proc/PID/task/*/stat just before the
stop) and sink-stat.txt (/proc/SINK/stat).
"""

import argparse
import os
import statistics
import sys

# What each thread of `tailship run` does (the names are set in Sources/Tailship).
STAGES = {
    "tailship-tail": "reading + rules + JSON encoding (tail, match, encode)",
    "tailship-batch": "dedupe + batching",
    "tailship-gzip": "gzip (libdeflate), batch by batch",
    "tailship-ship": "HTTP (libcurl multi: requests, answers, acknowledgements)",
    "tailship-ckpt": "checkpoints",
    "tailship-metric": "metrics endpoint",
    "tailship": "main thread: start-up, signals, status file",
    "tailship-stop": "stopping (short-lived)",
}
FILE_STAGES = dict(STAGES, **{"tailship-ship": "file writes (no gzip, no HTTP)"})


def last_line(path):
    with open(path) as f:
        return f.read().strip().splitlines()[-1]


def proc_stat(line):
    """(comm, CPU ticks) of one /proc/.../stat line; comm may hold spaces and parentheses."""
    comm = line[line.index("(") + 1 : line.rindex(")")]
    rest = line[line.rindex(")") + 2 :].split()
    return comm, int(rest[11]) + int(rest[12])  # utime, stime


def kib_fields(path):
    """The `Name: N kB` fields of a /proc file, in KiB."""
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return out


def rollup(path):
    if not os.path.exists(path):
        return None
    f = kib_fields(path)
    return {"rss": f["Rss"] / 1024, "anon": f["Anonymous"] / 1024, "file": (f["Rss"] - f["Anonymous"]) / 1024}


def rss_by_file(path):
    """Idle RSS in MiB per mapped file (smaps), largest first; anonymous mappings left out."""
    by_file, name = {}, None
    with open(path) as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):  # a mapping's header
                name = parts[5] if len(parts) > 5 and parts[5].startswith("/") else None
            elif parts[0] == "Rss:" and name:
                by_file[name] = by_file.get(name, 0) + int(parts[1]) / 1024
    return sorted(by_file.items(), key=lambda kv: -kv[1])


def read_run(path, args):
    elapsed, user, system, max_rss_kib = (float(x) for x in last_line(os.path.join(path, "time.txt")).split())
    run = {"user": user, "system": system, "cpu": user + system, "peak_rss": max_rss_kib / 1024}
    if args.dest == "parse":
        # `test`'s summary on stderr: "summary: N lines, M events, ..."
        summary = open(os.path.join(path, "test.err")).readline().split()
        run.update(wall=elapsed, lines_per_s=args.lines / elapsed, events=int(summary[3]))
        return run
    with open(os.path.join(path, "run.txt")) as f:
        raw = dict(line.split() for line in f)
    wall = float(raw["end"]) - float(raw["start"])
    events = int(raw["events"] or 0)
    run.update(wall=wall, events=events, lines_per_s=args.lines / wall, events_per_s=events / wall)
    run["idle_rss"] = kib_fields(os.path.join(path, "status-idle.txt"))["VmRSS"] / 1024
    run["rollup_peak"] = rollup(os.path.join(path, "rollup-peak.txt"))
    run["rollup_idle"] = rollup(os.path.join(path, "rollup-idle.txt"))
    run["files"] = rss_by_file(os.path.join(path, "smaps-idle.txt"))
    threads = {}
    with open(os.path.join(path, "tasks.txt")) as f:
        for line in f:
            comm, ticks = proc_stat(line)
            count, total = threads.get(comm, (0, 0))
            threads[comm] = (count + 1, total + ticks / args.clk_tck)
    run["threads"] = threads
    sink = os.path.join(path, "sink-stat.txt")
    if os.path.exists(sink):
        with open(sink) as f:
            run["sink_cpu"] = proc_stat(f.read())[1] / args.clk_tck
    return run


def print_run(label, r, args):
    print(f"== {label}")
    print(f"events            {int(r['events']):,} of {args.expected:,} expected")
    print(f"wall seconds      {r['wall']:.2f}")
    print(f"lines/s           {r['lines_per_s']:,.0f}")
    if args.dest != "parse":
        print(f"events/s          {r['events_per_s']:,.0f}")
    who = "tailship test" if args.dest == "parse" else "agent"
    print(f"{who + ' CPU s':17} {r['cpu']:.2f} (user {r['user']:.2f}, system {r['system']:.2f})")
    print(f"peak RSS          {r['peak_rss']:.1f} MiB")
    if args.dest == "parse":
        return
    print(f"idle RSS          {r['idle_rss']:.1f} MiB")
    for when in ("peak", "idle"):
        ro = r[f"rollup_{when}"]
        if ro:
            print(
                f"RSS at {when:4}       {ro['rss']:.1f} MiB: {ro['anon']:.1f} anonymous, {ro['file']:.1f} file-backed"
                + (" (largest 0.1 s sample)" if when == "peak" else " (1 s after catching up)")
            )
    if r.get("files"):
        print("file-backed RSS when idle, by file:")
        for name, mib in r["files"][:6]:
            print(f"  {mib:6.1f} MiB  {name}")
    if "sink_cpu" in r:
        print(f"sink CPU s        {r['sink_cpu']:.2f}")
    stages = FILE_STAGES if args.dest == "file" else STAGES
    print(f"threads (CPU s, share of the agent's CPU, busy = CPU s / wall {r['wall']:.2f} s):")
    total = sum(cpu for _, cpu in r["threads"].values()) or 1
    for comm, (count, cpu) in sorted(r["threads"].items(), key=lambda kv: -kv[1][1]):
        name = comm if count == 1 else f"{comm} x{count}"
        stage = stages.get(comm, "unnamed: not set by tailship")
        print(f"  {name:18} {cpu:6.2f}  {100 * cpu / total:5.1f}%  busy {100 * cpu / r['wall']:5.1f}%  {stage}")
    shared = "reading, rules and encoding share tailship-tail; dedupe and batching share tailship-batch"
    print(f"  (stages that share a thread: {shared})")


def median_run(runs):
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
    med = {k: statistics.median(r[k] for r in runs) for k in keys}
    for when in ("rollup_peak", "rollup_idle"):
        if runs[0].get(when):
            med[when] = {f: statistics.median(r[when][f] for r in runs if r[when]) for f in ("rss", "anon", "file")}
    if "threads" in runs[0]:
        names = sorted({n for r in runs for n in r["threads"]})
        med["threads"] = {
            n: (
                max(r["threads"].get(n, (0, 0))[0] for r in runs),
                statistics.median(r["threads"].get(n, (0, 0))[1] for r in runs),
            )
            for n in names
        }
    return med


def main():
    p = argparse.ArgumentParser()
    p.add_argument("results")
    p.add_argument("--dest", required=True)
    p.add_argument("--lines", type=int, required=True)
    p.add_argument("--expected", type=int, required=True)
    p.add_argument("--clk-tck", type=int, default=100)
    args = p.parse_args()
    dirs = sorted(os.listdir(args.results), key=int)
    runs = [read_run(os.path.join(args.results, d), args) for d in dirs]
    print(f"destination {args.dest}, {args.lines:,} lines, {len(runs)} run(s)")
    for d, r in zip(dirs, runs):
        print_run(f"run {d}", r, args)
    if len(runs) > 1:
        print_run(f"median of {len(runs)} runs (each figure on its own)", median_run(runs), args)
    if any(r["events"] < args.expected for r in runs):
        sys.exit("benchmark incomplete: not every expected event arrived")


if __name__ == "__main__":
    main()
