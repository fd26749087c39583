#!/usr/bin/env bash
# Install the engine-less docker-compose validator used by tests/deploy/test_compose.py:
# Debian's docker-compose 1.29.2, whose `docker-compose -f docker-compose.yaml config -q` checks
# the file without a Docker engine. Does nothing if docker-compose is already on PATH.
# Needs root and apt-get (CI images); elsewhere it says what to do and exits 1.
set -euo pipefail

if command -v docker-compose >/dev/null 2>&1; then
    echo "docker-compose already installed: $(docker-compose version --short 2>/dev/null || echo unknown)"
    exit 0
fi
if [[ "$(id -u)" != "0" ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "docker-compose is missing; install it as root with: apt-get install -y docker-compose" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
install_validator() { apt-get install -y --no-install-recommends docker-compose; }
# The package lists may be missing or stale: refresh them once if the first attempt fails.
install_validator || { apt-get update && install_validator; }
docker-compose version
