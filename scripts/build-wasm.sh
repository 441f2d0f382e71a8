#!/usr/bin/env bash
# Build the one captoken module: cargo (profile `wasm`) -> wasm-bindgen
# --target web -> wasm-opt (binaryen from npm) -> SHA-256 beside it.
#
#   scripts/build-wasm.sh [OUT_DIR]     (default: npm/dist, the committed copy)
#
# Every input that shapes the bytes is pinned: the toolchain
# (rust-toolchain.toml), wasm-bindgen (=0.2.130 in Cargo.toml, the CLI at the
# same version), binaryen (npm/package-lock.json), the `wasm` profile and the
# flags below. Build paths are remapped so the bytes do not depend on where
# the checkout or cargo's home lives.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(mkdir -p "${1:-$root/npm/dist}" && cd "${1:-$root/npm/dist}" && pwd)
cd "$root"

cargo_home=${CARGO_HOME:-$HOME/.cargo}
# curve25519-dalek's 32-bit serial backend: wasm has no 64x64->128 multiply,
# so the 64-bit backend is ~2.5-4x slower there (docs/BENCHMARKS.md).
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=$root=/captoken --remap-path-prefix=$cargo_home=/cargo --cfg=curve25519_dalek_bits=\"32\""

want=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' Cargo.toml)
have=$(wasm-bindgen --version | awk '{print $2}')
if [ "$want" != "$have" ]; then
  echo "wasm-bindgen CLI is $have but the crate is pinned to $want (scripts/setup.sh installs it)" >&2
  exit 1
fi
wasm_opt="$root/npm/node_modules/.bin/wasm-opt"
[ -x "$wasm_opt" ] || { echo "missing $wasm_opt: run 'npm ci' in npm/ (scripts/setup.sh does)" >&2; exit 1; }

cargo build --locked -p captoken-wasm --target wasm32-unknown-unknown --profile wasm

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wasm-bindgen --target web --out-dir "$tmp" --out-name captoken \
  target/wasm32-unknown-unknown/wasm/captoken_wasm.wasm
# The exact feature set Rust 1.95 emits for wasm32-unknown-unknown; naming it
# keeps wasm-opt from introducing anything wasmtime or browsers lack.
# --low-memory-unused (-0.7 KB gzipped): rustc lays the stack out first,
# growing down from 1 MiB, and data above it, so no valid pointer lies in
# the low 1 KiB; an address that would wrap past 2^32 into it (a stack
# run past its bottom) now traps instead of writing there.
"$wasm_opt" -Oz --low-memory-unused --converge --strip-debug --strip-producers \
  --enable-bulk-memory --enable-reference-types --enable-multivalue \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  "$tmp/captoken_bg.wasm" -o "$tmp/captoken_bg.opt.wasm"

cp "$tmp/captoken_bg.opt.wasm" "$out/captoken_bg.wasm"
cp "$tmp/captoken.js" "$out/captoken.js"
cp "$tmp/captoken.d.ts" "$out/captoken.d.ts"
(cd "$out" && sha256sum captoken_bg.wasm > captoken_bg.wasm.sha256)
if [ "$out" = "$root/npm/dist" ]; then
  # The digest travels in the code that trusts the module (and in the
  # CommonJS rendering of the same code): tests/tests/npm_contract.rs
  # renders this same line from the .sha256 file and fails on a difference.
  digest=$(cut -d' ' -f1 "$out/captoken_bg.wasm.sha256")
  sed -i "s/^const MODULE_SHA256 = '[0-9a-f]\{64\}';\$/const MODULE_SHA256 = '$digest';/" \
    "$root/npm/browser.js" "$root/npm/shared.cjs"
fi
echo "captoken_bg.wasm $(stat -c %s "$out/captoken_bg.wasm") bytes, $(gzip -9c "$out/captoken_bg.wasm" | wc -c) gzipped"
echo "sha256 $(cut -d' ' -f1 "$out/captoken_bg.wasm.sha256")"
