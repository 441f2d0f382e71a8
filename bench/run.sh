#!/usr/bin/env bash
# Every side of the benchmark in one command, each operation's sides in
# the same process with rounds alternating:
#
#   bash bench/run.sh [rounds=7] [calls=200] [http seconds=10]
#   bash bench/run.sh --smoke      (CI: tiny counts, results in a temp dir)
#
# 1. the floor: raw ed25519-dalek compiled to a bare .wasm (bench/floor.sh);
# 2. in Rust (bench/sides, release): the floors native and in wasmtime,
#    captoken natively, in a warm wasmtime instance and in a fresh one per
#    call, jsonwebtoken and biscuit-auth: issue, verify, authorize,
#    delegate + verify the chain -> bench/results/sides.json;
# 3. in Node (npm/bench/sides.mjs): the floor in Node's engine,
#    node:crypto, captoken's npm API, jose, and verify with 400 in flight
#    (the worker pool against jose) -> bench/results/node.json;
# 4. over HTTP (bench/http.sh): the gateway against bench/peer under
#    Debian's wrk, and the seed's 1,000-token issue test -> http.json;
# 5. bench/chart.py draws all of it as bench/results/chart.svg.
#
# Each prints medians and ratios; timing is the output, never a verdict.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [ "${1:-}" = "--smoke" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  floor=$(bash bench/floor.sh)
  cargo build -q --locked -p captoken-bench-sides
  target/debug/captoken-bench-sides --floor "$floor" --rounds 1 --calls 2 --json "$out/sides.json"
  (cd npm && node bench/sides.mjs "$floor" 1 2 "$out/node.json")
  python3 - "$out" <<'PY'
import json, sys
for name in ("sides.json", "node.json"):
    doc = json.load(open(f"{sys.argv[1]}/{name}"))
    ops = [r["op"] for r in doc["ops"]]
    expected = ["issue", "verify", "authorize", "delegate + verify chain"]
    if name == "node.json":
        expected.append("verify, 400 in flight")
    assert ops == expected, ops
    assert all(s["median_us"] > 0 for r in doc["ops"] for s in r["sides"]), name
print("bench smoke: every side ran")
PY
  exit 0
fi

rounds=${1:-7}
calls=${2:-200}
seconds=${3:-10}
mkdir -p bench/results
echo "== the floor: raw ed25519-dalek as a bare .wasm"
floor=$(bash bench/floor.sh)
echo "== in Rust: floors, captoken native and in wasmtime, jsonwebtoken, biscuit-auth (release)"
cargo build -q --release --locked -p captoken-bench-sides
target/release/captoken-bench-sides --floor "$floor" --rounds "$rounds" --calls "$calls" --json bench/results/sides.json
echo "== in Node: the floor, node:crypto, captoken (npm), jose"
(cd npm && node bench/sides.mjs "$floor" "$rounds" "$calls" ../bench/results/node.json)
echo "== over HTTP: the gateway against bench/peer"
bash bench/http.sh 3 "$seconds"
python3 bench/chart.py
