#!/usr/bin/env bash
# Install the browser of the acceptance suite's UI scenario (tests/acceptance/test_2_browser.py):
# Debian's chromium at /usr/bin/chromium, driven by Playwright for Python (a dev dependency), which
# never downloads a browser of its own. Does nothing if /usr/bin/chromium exists.
# Needs root and apt-get (CI images); elsewhere it says what to do and exits 1.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo unknown)"
    exit 0
fi
if [[ "$(id -u)" != "0" ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium is missing; install it as root with: apt-get install -y chromium" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
install_browser() { apt-get install -y --no-install-recommends chromium; }
# The package lists may be missing or stale: refresh them once if the first attempt fails.
install_browser || { apt-get update && install_browser; }
/usr/bin/chromium --version
