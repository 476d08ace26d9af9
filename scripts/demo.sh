#!/usr/bin/env bash
# The demo: builds tailship, starts the project's local ingestion server, writes a log while
# tailship tails it (with one rename rotation on the way), then shows what the server
# received and what the checkpoints say. Everything lives in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# The interpreter itself, not a wrapper script, so signals reach the server.
PY=$(python3 -c "import sys; print(sys.executable)")
swift build --product tailship 2>&1 | tail -1
BIN=$PWD/.build/debug/tailship
WORK=$(mktemp -d /tmp/tailship-demo.XXXXXX)
mkdir -p "$WORK/logs"
SERVER_PID="" AGENT_PID=""
cleanup() {
    [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null || true
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
}
trap cleanup EXIT

coproc SERVER { exec "$PY" Tests/ingest-server/fake_ingest.py --port 0 --exit-on-stdin-eof --project-id 3141592 \
    --sa-user demo.sa --sa-secret demo-secret; }
SERVER_PID=$SERVER_PID
read -r _ PORT <&"${SERVER[0]}"
echo "local ingestion server on 127.0.0.1:$PORT"

cat > "$WORK/agent.yaml" <<YAML
state_dir: $WORK/state
destination:
  kind: mixpanel
  url: http://127.0.0.1:$PORT
  project_id: "3141592"
  auth: { username: demo.sa, secret_env: DEMO_SECRET }
  batch: { flush_interval: 200ms }
sources:
  - name: app
    paths: ["$WORK/logs/*.log"]
    start_at: beginning
    rules:
      - name: purchase
        match: '^(?<ts>\S+) INFO user=(?<user>\S+) action=purchase amount=(?<amount>[\d.]+) plan=(?<plan>\S+)'
        where: { plan: '^(pro|team)$' }
        event: Purchase Completed
        distinct_id: "{{user}}"
        time: { field: ts, format: iso8601 }
        properties:
          amount: { value: "{{amount}}", type: float }
          plan: "{{plan}}"
      - name: health
        match: healthcheck
        drop: true
YAML
export DEMO_SECRET=demo-secret
"$BIN" check -c "$WORK/agent.yaml"
"$BIN" run -c "$WORK/agent.yaml" 2> "$WORK/agent.log" &
AGENT_PID=$!

plans=(free pro team pro)
for i in $(seq 1 400); do
    ts=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
    echo "$ts INFO user=u$((i % 37)) action=purchase amount=$((i % 90)).$((i % 100)) plan=${plans[$((i % 4))]}" >> "$WORK/logs/app.log"
    (( i % 10 == 0 )) && echo "$ts DEBUG healthcheck ok" >> "$WORK/logs/app.log"
    # Halfway through, rotate the way logrotate's default 'create' does.
    (( i == 200 )) && mv "$WORK/logs/app.log" "$WORK/logs/app.log.1"
    sleep 0.01
done
sleep 2
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true; AGENT_PID=""

echo; echo "== agent log (last lines)"; tail -n 5 "$WORK/agent.log"
echo; echo "== what the server stored (expected 300: the pro and team purchases)"
curl -s "http://127.0.0.1:$PORT/_control/events?view=dedup" | python3 -c '
import json, sys
events = json.load(sys.stdin)
print(len(events), "distinct events")
for e in events[:3]:
    print(json.dumps(e, sort_keys=True))'
echo; echo "== tailship status"; "$BIN" status -c "$WORK/agent.yaml"
echo; echo "demo files are in $WORK"
