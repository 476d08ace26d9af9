#!/usr/bin/env bash
# The whole test suite: the local ingestion server's own tests, then the Swift suites: unit,
# integration (real inotify, real HTTP on loopback) and end-to-end (the built binary against
# the local ingestion server).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# Style first: it takes two seconds (the checked-in .swift-format; `swift format -i -r Sources
# Tests Package.swift` fixes nearly everything it reports).
swift format lint --strict -r Sources Tests Package.swift
python3 -m pytest -q -p no:cacheprovider Tests/ingest-server
swift build --build-tests
# The release binary as it is installed (static Swift runtime), for the tests that measure
# memory: a debug build's footprint says little about what runs on a host.
swift build -c release --product tailship --static-swift-stdlib --disable-local-rpath --scratch-path .build-release
export TAILSHIP_RELEASE_BIN="$PWD/.build-release/release/tailship"
# Serial: the end-to-end tests start processes and servers; two cores gain little from
# interleaving them and timing-sensitive tests stay honest.
swift test --skip-build --no-parallel
