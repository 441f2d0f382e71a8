#!/usr/bin/env bash
# apt-install.sh WHY PACKAGE...: installs Debian packages, as root or with
# sudo, quietly; WHY names the caller in its messages. For the set-up
# scripts, which call it only when what they need is missing.
set -euo pipefail
why=${1:?usage: apt-install.sh WHY PACKAGE...}
shift
if ! command -v apt-get >/dev/null; then
  echo "$why: $* missing and apt-get is not available; install it yourself" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "$why: installing $* needs root (or sudo)" >&2; exit 1; }
  sudo="sudo"
fi
echo "$why: installing Debian $*"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
