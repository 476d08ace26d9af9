#!/usr/bin/env bash
# Installs the Debian packages tailship builds and tests against, only those missing (dpkg-dev:
# dpkg-shlibdeps, for scripts/build-deb.sh; lintian, which the package test runs on the package;
# strace, for the unit sandbox test; libdeflate-dev, which compresses request bodies and which the
# benchmark sink bench/sink.c uses).
# Sourced by demo.sh and test.sh; safe to run again.
set -euo pipefail
need=()
for pkg in libcurl4-openssl-dev zlib1g-dev libyaml-dev libpcre2-dev pkg-config logrotate python3 time dpkg-dev strace libdeflate-dev lintian; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
    echo "setup: installing ${need[*]}" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
# The local ingestion server's test runner and fast JSON parser (it works without orjson, slower).
if ! python3 -c "import pytest, orjson" 2>/dev/null; then
    echo "setup: installing pytest and orjson from PyPI" >&2
    python3 -m pip install -q pytest orjson >&2
fi
