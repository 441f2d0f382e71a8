#!/usr/bin/env bash
# Install what the browser tests need beyond `npm ci`: Debian's Chromium at
# /usr/bin/chromium. playwright-core drives it through `executablePath`; we
# never let a test tool download its own browser. Idempotent: does nothing
# when Chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "setup-browser: /usr/bin/chromium is missing and apt-get is not available; install Chromium yourself" >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup-browser: installing chromium needs root (or sudo)" >&2; exit 1; }
  sudo="sudo"
fi

echo "setup-browser: installing Debian chromium"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
