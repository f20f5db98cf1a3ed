#!/usr/bin/env bash
# Install Debian's chromium for the status page's browser test
# (cmd/swarmrun/internal/statuspage, behind the build tag integration), idempotently: nothing
# happens when a chromium is on PATH already. The test starts and stops its own headless
# Chromium; this script only installs it.
set -euo pipefail

say() { printf 'chromium-up: %s\n' "$*" >&2; }

if ! command -v chromium >/dev/null 2>&1; then
  say "no chromium installed: installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
say "chromium ready ($(chromium --version 2>/dev/null || echo 'version unknown'))"
