#!/usr/bin/env bash
# Install what the browser tests need beyond `npm ci`: Debian's Chromium at
# /usr/bin/chromium. playwright-core drives it through `executablePath`; we
# never let a test tool download its own browser. Idempotent: does nothing
# when Chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

bash "$(dirname "${BASH_SOURCE[0]}")/../../scripts/apt-install.sh" setup-browser chromium
/usr/bin/chromium --version
