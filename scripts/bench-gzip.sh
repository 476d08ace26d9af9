#!/usr/bin/env bash
# zlib against libdeflate (levels 1, 3, 6) on about 20 MB of the NDJSON tailship produces:
# compression ratio and MB/s, compressing and decompressing (bench/gzipcmp.c). The input is the
# file destination's output of scripts/bench.sh, made first if it is missing.
# Usage: scripts/bench-gzip.sh [MAX_BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
OUT=bench-out
mkdir -p "$OUT"
[ -s "$OUT/events.ndjson" ] || scripts/bench.sh 1000000 file 1 >/dev/null
cc -O2 -Wall -Wextra -o "$OUT/gzipcmp" bench/gzipcmp.c -lz -ldeflate
"$OUT/gzipcmp" "$OUT/events.ndjson" "${1:-20000000}"
