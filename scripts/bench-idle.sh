#!/usr/bin/env bash
# The idle benchmark: what `tailship run` (release build) costs while FILES watched files do
# nothing. Creates the files, lets the agent read them, waits SETTLE seconds, then samples its
# CPU time (utime + stime from /proc/PID/stat) over SECONDS seconds, plus descriptors and RSS.
# Usage: scripts/bench-idle.sh [FILES] [SECONDS] [MAX_OPEN_FILES]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
FILES=${1:-1000}
SECONDS_IDLE=${2:-30}
MAX_OPEN=${3:-256}
SETTLE=5
OUT=bench-out/idle
swift build -c release --product tailship --static-swift-stdlib --disable-local-rpath --scratch-path .build-release >/dev/null
BIN=.build-release/release/tailship
rm -rf "$OUT"
mkdir -p "$OUT/logs"
for i in $(seq 1 "$FILES"); do
    printf '2026-11-28T04:59:15.481Z INFO user=u%d action=login\n' "$i" > "$OUT/logs/f$i.log"
done
cat > "$OUT/agent.yaml" <<YAML
state_dir: $PWD/$OUT/state
destination:
  kind: file
  path: $PWD/$OUT/events.ndjson
sources:
  - name: idle
    paths: ["$PWD/$OUT/logs/*.log"]
    start_at: beginning
    max_open_files: $MAX_OPEN
    rules:
      - name: login
        match: '^(?<ts>\S+) INFO user=(?<user>\S+) action=login'
        event: Logged In
        distinct_id: "{{user}}"
        time: { field: ts, format: iso8601 }
YAML
"$BIN" check -c "$OUT/agent.yaml" >/dev/null
"$BIN" run -c "$OUT/agent.yaml" 2> "$OUT/agent.log" &
AGENT=$!
trap 'kill -TERM $AGENT 2>/dev/null || true; wait $AGENT 2>/dev/null || true' EXIT
sleep "$SETTLE"
ticks() { awk '{print $14 + $15}' "/proc/$AGENT/stat"; }
HZ=$(getconf CLK_TCK)
BEFORE=$(ticks)
sleep "$SECONDS_IDLE"
AFTER=$(ticks)
EVENTS=$(wc -l < "$OUT/events.ndjson")
FDS=$(ls "/proc/$AGENT/fd" | wc -l)
RSS_KB=$(awk '/^VmRSS/ {print $2}' "/proc/$AGENT/status")
python3 - "$FILES" "$SECONDS_IDLE" "$BEFORE" "$AFTER" "$HZ" "$EVENTS" "$FDS" "$RSS_KB" "$MAX_OPEN" <<'PY'
import sys
files, seconds, before, after, hz, events, fds, rss, bound = map(int, sys.argv[1:])
used = (after - before) / hz
print(f"idle files        {files} (max_open_files {bound})")
print(f"events read       {events} of {files}")
print(f"idle seconds      {seconds}")
print(f"agent CPU s       {used:.2f} ({after - before} ticks)")
print(f"share of a core   {100 * used / seconds:.2f} %")
print(f"descriptors       {fds}")
print(f"RSS               {rss / 1024:.1f} MiB")
if events < files:
    sys.exit("idle benchmark: not every file was read")
PY
