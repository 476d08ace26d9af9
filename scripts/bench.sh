#!/usr/bin/env bash
# The benchmark: a 1,000,000-line mixed log read from the beginning by `tailship run`
# (release build) and shipped to the local ingestion server. Reports lines/s, events/s,
# CPU seconds and peak RSS of the agent. Usage: scripts/bench.sh [LINES] [mixpanel|file]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# The interpreter itself, not a wrapper script, so signals reach the server.
PY=$(python3 -c "import sys; print(sys.executable)")
LINES=${1:-1000000}
DEST=${2:-mixpanel}
OUT=bench-out
mkdir -p "$OUT"
# Built as installed (docs/operations.md): release, static Swift runtime.
swift build -c release --product tailship --static-swift-stdlib --scratch-path .build-release >/dev/null
BIN=.build-release/release/tailship
if [ ! -f "$OUT/bench-$LINES.log" ]; then
    python3 scripts/gen_log.py "$OUT/bench-$LINES.log" --lines "$LINES" > "$OUT/bench-$LINES.json"
fi
EXPECTED=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['events'])" "$OUT/bench-$LINES.json")
rm -rf "$OUT/state" "$OUT/logs" "$OUT/events.ndjson"
mkdir -p "$OUT/logs"
# Hard-link so the file tailship reads is the generated one, without copying 100+ MB.
ln "$OUT/bench-$LINES.log" "$OUT/logs/app.log"

SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT
if [ "$DEST" = mixpanel ]; then
    coproc SERVER { exec "$PY" Tests/ingest-server/fake_ingest.py --port 0 --exit-on-stdin-eof --store summary --secret benchsecret; }
    SERVER_PID=$SERVER_PID
    read -r _ PORT <&"${SERVER[0]}"
    DEST_YAML="kind: mixpanel
  url: http://127.0.0.1:$PORT
  auth: { secret_env: BENCH_SECRET }"
else
    DEST_YAML="kind: file
  path: $PWD/$OUT/events.ndjson"
fi
cat > "$OUT/agent.yaml" <<YAML
state_dir: $PWD/$OUT/state
destination:
  $DEST_YAML
  gzip: true
  gzip_level: 1
  batch: { flush_interval: 200ms }
sources:
  - name: bench
    paths: ["$PWD/$OUT/logs/*.log"]
    start_at: beginning
    rules:
      - name: purchase
        match: '^(?<ts>\S+) INFO user=(?<user>\S+) action=purchase amount=(?<amount>[\d.]+) plan=(?<plan>\S+) request_id=(?<request_id>\S+)'
        event: Purchase Completed
        distinct_id: "{{user}}"
        time: { field: ts, format: iso8601 }
        insert_id: "{{request_id}}"
        properties:
          amount: { value: "{{amount}}", type: float }
          plan: "{{plan}}"
      - name: access
        match: '^(?<client_ip>\S+) \S+ (?<remote_user>\S+) \[(?<time_local>[^\]]+)\] "(?<method>\S+) (?<path>\S+) (?<protocol>[^"]*)" (?<status>\d{3}) (?<bytes>\d+) "(?<referer>[^"]*)" "(?<agent>[^"]*)"'
        event: Page Request
        distinct_id: "{{client_ip}}"
        time: { field: time_local, format: "%d/%b/%Y:%H:%M:%S %z" }
        ip: "{{client_ip}}"
        properties:
          path: "{{path}}"
          status: { value: "{{status}}", type: int }
          bytes: { value: "{{bytes}}", type: int }
          user_agent: "{{agent}}"
      - name: health
        match: 'healthcheck'
        drop: true
YAML
export BENCH_SECRET=benchsecret
"$BIN" check -c "$OUT/agent.yaml" >/dev/null
START=$(date +%s.%N)
/usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" "$BIN" run -c "$OUT/agent.yaml" 2> "$OUT/agent.log" &
AGENT=$!
# Cheap polls (no interpreter start-up per poll): they share the 2 cores with the agent.
count() {
    if [ "$DEST" = mixpanel ]; then
        curl -s "http://127.0.0.1:$PORT/_control/stats" | grep -o '"events_accepted": *[0-9]*' | grep -o '[0-9]*$'
    else
        wc -l < "$OUT/events.ndjson" 2>/dev/null || echo 0
    fi
}
DONE=0
LAST_SIZE=-1 STEADY=0
for _ in $(seq 1 6000); do
    if [ "$DEST" = mixpanel ]; then
        DONE=$(count)
        [ "${DONE:-0}" -ge "$EXPECTED" ] && break
    else
        # Count lines only once the output has stopped growing; stamp the end at its last growth.
        SIZE=$(stat -c %s "$OUT/events.ndjson" 2>/dev/null || echo 0)
        if [ "$SIZE" = "$LAST_SIZE" ] && [ "$SIZE" != 0 ]; then
            STEADY=$((STEADY + 1))
            if [ "$STEADY" = 3 ]; then
                DONE=$(count)
                [ "$DONE" -ge "$EXPECTED" ] && break
            fi
        else
            STEADY=0 LAST_SIZE=$SIZE GREW=$(date +%s.%N)
        fi
    fi
    sleep 0.1
done
END=$(date +%s.%N)
[ "$DEST" = mixpanel ] || END=$GREW
kill -TERM "$(pgrep -P $AGENT tailship || echo $AGENT)" 2>/dev/null || true
wait $AGENT || true
read -r _ USER_S SYS_S RSS_KB < "$OUT/time.txt"
python3 - "$LINES" "$EXPECTED" "$DONE" "$START" "$END" "$USER_S" "$SYS_S" "$RSS_KB" "$DEST" <<'PY'
import sys
lines, expected, done = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
wall = float(sys.argv[5]) - float(sys.argv[4])
cpu = float(sys.argv[6]) + float(sys.argv[7])
print(f"destination      {sys.argv[9]}")
print(f"lines            {lines}")
print(f"events           {done} of {expected} expected")
print(f"wall seconds     {wall:.2f}")
print(f"lines/s          {lines / wall:,.0f}")
print(f"events/s         {done / wall:,.0f}")
print(f"agent CPU s      {cpu:.2f}")
print(f"agent peak RSS   {int(sys.argv[8]) / 1024:.1f} MiB")
if done < expected:
    sys.exit("benchmark incomplete: not every expected event arrived")
PY
