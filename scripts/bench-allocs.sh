#!/usr/bin/env bash
# Heap allocations per million lines of `tailship run` (release build, file destination, the
# benchmark's log and rules): the process's allocations counted by bench/alloc_count.c
# (LD_PRELOAD) for the first LINES and the first 2 × LINES lines of the log, and the difference
# per line, so start-up and shutdown cancel out.
#
# Usage: scripts/bench-allocs.sh [LINES]     (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
LINES=${1:-20000}
OUT=bench-out
mkdir -p "$OUT"
swift build -c release --product tailship --static-swift-stdlib --scratch-path .build-release >/dev/null
BIN=$PWD/.build-release/release/tailship
cc -O2 -Wall -Wextra -shared -fPIC -o "$OUT/alloc_count.so" bench/alloc_count.c
[ -f "$OUT/bench-1000000.log" ] || python3 scripts/gen_log.py "$OUT/bench-1000000.log" --lines 1000000 > "$OUT/bench-1000000.json"
# The benchmark's configuration (scripts/bench.sh), with the file destination.
RULES=$(sed -n '/^    rules:$/,/^YAML$/p' scripts/bench.sh | sed '$d')

# Prints "<calls> <bytes>" for a run over the first $1 lines.
count() {
    local dir
    dir=$(mktemp -d "$PWD/$OUT/allocs.XXXXXX")
    mkdir -p "$dir/logs"
    head -n "$1" "$OUT/bench-1000000.log" > "$dir/logs/app.log"
    cat > "$dir/agent.yaml" <<YAML
state_dir: $dir/state
destination:
  kind: file
  path: $dir/events.ndjson
  batch: { flush_interval: 200ms }
sources:
  - name: bench
    paths: ["$dir/logs/*.log"]
    start_at: beginning
$RULES
YAML
    ALLOC_COUNT_OUT="$dir/count" LD_PRELOAD="$PWD/$OUT/alloc_count.so" "$BIN" run -c "$dir/agent.yaml" 2> "$dir/agent.log" &
    local pid=$! last=-1 steady=0 size
    # Caught up once the output has stopped growing for a second.
    while ((steady < 4)); do
        sleep 0.25
        size=$(stat -c %s "$dir/events.ndjson" 2>/dev/null || echo 0)
        if [ "$size" = "$last" ] && [ "$size" != 0 ]; then steady=$((steady + 1)); else steady=0 last=$size; fi
    done
    kill -TERM "$pid"
    wait "$pid" || true
    cat "$dir/count"
    rm -rf "$dir"
}

read -r one one_bytes < <(count "$LINES")
read -r two two_bytes < <(count $((2 * LINES)))
python3 - "$LINES" "$one" "$two" "$one_bytes" "$two_bytes" <<'PY'
import sys
lines, one, two, one_bytes, two_bytes = map(int, sys.argv[1:])
print(f"allocations, {lines} lines: {one:,}; {2 * lines} lines: {two:,}")
print(f"allocations per million lines: {(two - one) * 1_000_000 // lines:,} "
      f"({(two_bytes - one_bytes) / lines:.0f} bytes allocated per line)")
PY
