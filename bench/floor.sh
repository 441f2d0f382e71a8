#!/usr/bin/env bash
# Build the bare dalek module (bench/floor) for wasm32 exactly as
# scripts/build-wasm.sh builds captoken's: the same profile, the same
# 32-bit curve backend and the same path remapping (so neither build
# invalidates the other's cache). Prints the .wasm's path.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
cargo_home=${CARGO_HOME:-$HOME/.cargo}
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=$root=/captoken --remap-path-prefix=$cargo_home=/cargo --cfg=curve25519_dalek_bits=\"32\""
cargo build -q --locked -p captoken-bench-floor --target wasm32-unknown-unknown --profile wasm >&2
echo "$root/target/wasm32-unknown-unknown/wasm/captoken_bench_floor.wasm"
