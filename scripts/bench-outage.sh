#!/usr/bin/env bash
# The outage memory benchmark: the installed build (release, static Swift runtime) through an
# outage of the local ingestion server, with short lines (200,000 in 20 s) and with 8 KiB and
# 64 KiB lines (about 36 MB each in 15 s, big events), sampling the agent's RSS every 100 ms;
# then the server comes back and everything must arrive exactly once. Prints the peaks.
# Usage: scripts/bench-outage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build -c release --product tailship --static-swift-stdlib --disable-local-rpath --scratch-path .build-release >/dev/null
swift build --build-tests >/dev/null
export TAILSHIP_RELEASE_BIN="$PWD/.build-release/release/tailship"
swift test --skip-build --no-parallel \
    --filter 'OutageMemoryEndToEndTests|ChaosEndToEndTests/memoryStaysBounded' 2>&1 \
    | grep -E '^outage|✘|Test run with'
