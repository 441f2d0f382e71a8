#!/usr/bin/env bash
# Install what building and testing captoken needs, on a fresh machine or an
# old one. Idempotent: each step checks before it installs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# rust-toolchain.toml pins the compiler; make sure its wasm target is there.
rustup target add wasm32-unknown-unknown >/dev/null

# wasm-bindgen's CLI must be the exact version of the crate (=x.y.z in Cargo.toml).
want=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' Cargo.toml)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "setup: installing wasm-bindgen-cli $want (was: ${have:-none}); takes ~6 minutes on 2 cores"
  # Not --locked: its lockfile has pinned a version the registry no longer had.
  cargo install wasm-bindgen-cli --version "$want"
fi

# Node packages: binaryen (wasm-opt) and the test tooling, from the lockfile.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: node and npm are required (Node >= 18)" >&2
  exit 1
fi
(cd npm && npm ci --no-audit --no-fund --loglevel=error)

# Debian's Chromium for the browser tests (playwright-core drives it; no
# browser download).
bash npm/scripts/setup-browser.sh

# Debian's PostgreSQL server for the store's second engine and the
# two-gateway tests (scripts/postgres.sh runs a throwaway cluster of it).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  bash scripts/apt-install.sh setup postgresql
fi

# Python for the interop tests (PyJWT + cryptography, pinned in
# tests/interop/requirements.txt), in a virtual environment of the
# project's own, remade when the requirements change.
venv=target/interop-venv
if ! cmp -s tests/interop/requirements.txt "$venv/requirements.txt"; then
  echo "setup: making $venv (PyJWT, cryptography)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r tests/interop/requirements.txt
  cp tests/interop/requirements.txt "$venv/requirements.txt"
fi
