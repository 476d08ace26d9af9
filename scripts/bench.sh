#!/usr/bin/env bash
# The benchmark: a 1,000,000-line mixed log read from the beginning by `tailship run` (release
# build), RUNS times, each run's figures and then the medians (bench/report.py prints them).
#
# Usage: scripts/bench.sh [LINES] [DEST] [RUNS]     (defaults: 1000000 light 3)
#   light     gzip level 1 over HTTP to bench/sink.c, a native stand-in for /import that only
#             inflates and counts (well under 0.5 CPU s per million events): the agent's figure
#   mixpanel  the same to the local ingestion server (Tests/ingest-server/fake_ingest.py), which
#             parses and validates every event and needs about as much CPU as the agent
#   file      the file destination (no gzip, no HTTP)
#   parse     `tailship test` on the same log with the same rules, output to /dev/null
#
# Per run, from /proc and GNU time: wall time until every expected event has arrived, the
# agent's user and system CPU seconds and peak RSS (GNU time, whole life), its RSS and
# smaps_rollup (anonymous against file-backed) at the largest sample taken every 0.1 s and
# once idle (1 s after catching up) with the idle RSS per mapped file (smaps), each thread's
# CPU seconds just before the stop, and the sink's CPU seconds. The libdeflate/zlib comparison is scripts/bench-gzip.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# The interpreter itself, not a wrapper script, so signals reach the server.
PY=$(python3 -c "import sys; print(sys.executable)")
LINES=${1:-1000000}
DEST=${2:-light}
RUNS=${3:-3}
case "$DEST" in light | mixpanel | file | parse) ;; *)
    echo "usage: scripts/bench.sh [LINES] [light|mixpanel|file|parse] [RUNS]" >&2
    exit 2
    ;;
esac
OUT=bench-out
mkdir -p "$OUT"
# Built as installed (docs/operations.md): release, static Swift runtime.
swift build -c release --product tailship --static-swift-stdlib --disable-local-rpath --scratch-path .build-release >/dev/null
BIN=.build-release/release/tailship
cc -O2 -Wall -Wextra -o "$OUT/sink" bench/sink.c -ldeflate
if [ ! -f "$OUT/bench-$LINES.log" ]; then
    python3 scripts/gen_log.py "$OUT/bench-$LINES.log" --lines "$LINES" > "$OUT/bench-$LINES.json"
fi
EXPECTED=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['events'])" "$OUT/bench-$LINES.json")

# The agent's configuration; DEST_YAML is the destination's kind and where it goes.
write_config() {
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
}

SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT

# Starts the run's sink (a fresh one, so its CPU seconds are this run's) and sets DEST_YAML.
start_sink() {
    SERVER_PID="" PORT=""
    case "$DEST" in
    light) coproc SERVER { exec "$OUT/sink" --exit-on-stdin-eof; } ;;
    mixpanel) coproc SERVER { exec "$PY" Tests/ingest-server/fake_ingest.py --port 0 --exit-on-stdin-eof --store summary --secret benchsecret; } ;;
    *)
        DEST_YAML="kind: file
  path: $PWD/$OUT/events.ndjson"
        return
        ;;
    esac
    SERVER_PID=$SERVER_PID
    read -r _ PORT <&"${SERVER[0]}"
    DEST_YAML="kind: mixpanel
  url: http://127.0.0.1:$PORT
  auth: { secret_env: BENCH_SECRET }"
}

# Events the destination holds so far (cheap: no interpreter start-up per poll).
count() {
    if [ -n "$PORT" ]; then
        curl -s "http://127.0.0.1:$PORT/_control/stats" | grep -o '"events_accepted": *[0-9]*' | grep -o '[0-9]*$'
    else
        wc -l < "$OUT/events.ndjson" 2>/dev/null || echo 0
    fi
}

# One run into $RUN_DIR: raw figures that bench/report.py turns into the table.
run_once() {
    rm -rf "$OUT/state" "$OUT/logs" "$OUT/events.ndjson"
    mkdir -p "$OUT/logs" "$RUN_DIR"
    # Hard-link so the file tailship reads is the generated one, without copying 100+ MB.
    ln "$OUT/bench-$LINES.log" "$OUT/logs/app.log"
    if [ "$DEST" = parse ]; then
        start_sink  # parse: only the file destination's YAML, which `test` does not use
        write_config
        /usr/bin/time -f "%e %U %S %M" -o "$RUN_DIR/time.txt" \
            "$BIN" test -c "$OUT/agent.yaml" --source bench "$OUT/logs/app.log" > /dev/null 2> "$RUN_DIR/test.err"
        return
    fi
    start_sink
    write_config
    "$BIN" check -c "$OUT/agent.yaml" >/dev/null
    local start=$EPOCHREALTIME end grew=$EPOCHREALTIME done=0 last_size=-1 steady=0 size
    /usr/bin/time -f "%e %U %S %M" -o "$RUN_DIR/time.txt" "$BIN" run -c "$OUT/agent.yaml" 2> "$RUN_DIR/agent.log" &
    local time_pid=$! agent=""
    while [ -z "$agent" ]; do agent=$(pgrep -P "$time_pid" -x tailship || true); done
    # The largest RSS sample's smaps_rollup (read with builtins: no process per sample).
    local roll peak_rss=0 rss
    for _ in $(seq 1 6000); do
        roll=""
        IFS= read -r -d '' roll 2>/dev/null < "/proc/$agent/smaps_rollup" || true
        if [[ $roll =~ Rss:\ +([0-9]+) ]] && rss=${BASH_REMATCH[1]} && ((rss > peak_rss)); then
            peak_rss=$rss
            printf '%s' "$roll" > "$RUN_DIR/rollup-peak.txt"
        fi
        if [ -n "$PORT" ]; then
            done=$(count || true)
            [ "${done:-0}" -ge "$EXPECTED" ] && break
        else
            # Count lines only once the output has stopped growing; stamp the end at its last growth.
            size=$(stat -c %s "$OUT/events.ndjson" 2>/dev/null || echo 0)
            if [ "$size" = "$last_size" ] && [ "$size" != 0 ]; then
                steady=$((steady + 1))
                if [ "$steady" = 3 ]; then
                    done=$(count || true)
                    [ "$done" -ge "$EXPECTED" ] && break
                fi
            else
                steady=0 last_size=$size grew=$EPOCHREALTIME
            fi
        fi
        sleep 0.1
    done
    end=$EPOCHREALTIME
    [ -n "$PORT" ] || end=$grew
    # Idle: caught up, batches acknowledged, the next checkpoint written.
    sleep 1
    cat "/proc/$agent/smaps_rollup" > "$RUN_DIR/rollup-idle.txt"
    cat "/proc/$agent/status" > "$RUN_DIR/status-idle.txt"
    cat "/proc/$agent/smaps" > "$RUN_DIR/smaps-idle.txt"
    # Each thread's name and CPU just before the stop (the shutdown's own work is not in it).
    for task in /proc/"$agent"/task/*; do cat "$task/stat"; done > "$RUN_DIR/tasks.txt"
    [ -z "$SERVER_PID" ] || cat "/proc/$SERVER_PID/stat" > "$RUN_DIR/sink-stat.txt"
    kill -TERM "$agent"
    wait "$time_pid" || true
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
    printf 'start %s\nend %s\nevents %s\n' "$start" "$end" "$done" > "$RUN_DIR/run.txt"
}

export BENCH_SECRET=benchsecret
RESULTS="$OUT/runs-$DEST"
rm -rf "$RESULTS"
for i in $(seq 1 "$RUNS"); do
    RUN_DIR="$RESULTS/$i"
    run_once
done
python3 bench/report.py "$RESULTS" --dest "$DEST" --lines "$LINES" --expected "$EXPECTED" --clk-tck "$(getconf CLK_TCK)"
