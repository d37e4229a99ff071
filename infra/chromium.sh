#!/usr/bin/env bash
# Install (if needed) Debian's Chromium for the web UI's browser tests and benchmark. Idempotent;
# needs root. Playwright drives it through executable_path (no `playwright install` download).
# Used by .ci/run and by developers: `sudo bash infra/chromium.sh`.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "$(/usr/bin/chromium --version 2>/dev/null || echo chromium) ready"
