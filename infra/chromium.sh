#!/usr/bin/env bash
# Install (if needed) Debian's Chromium for the web UI's browser tests and benchmark. Idempotent;
# needs root. Playwright drives it through executable_path (no `playwright install` download).
# Used by .ci/run and by developers: `sudo bash infra/chromium.sh`.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  # Refresh the package lists only when they do not know chromium yet (a fresh machine).
  if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[ -x /usr/bin/chromium ] || { echo "chromium did not install at /usr/bin/chromium" >&2; exit 1; }
echo "$(/usr/bin/chromium --version 2>/dev/null || echo Chromium) ready"
