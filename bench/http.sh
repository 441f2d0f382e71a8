#!/usr/bin/env bash
# The gateway against a plain JWT verify service, over HTTP, in one run.
#
#   bash bench/http.sh [rounds=3] [seconds=10]
#
# Builds `captoken` and the peer (bench/peer: axum + jsonwebtoken, EdDSA) in
# release, starts the gateway on a fresh embedded store and issues 1,000
# tokens through POST /v1/tokens one at a time (the seed's acceptance test:
# average and p99), starts the peer with the gateway's JWKS, then drives
# both with wrk (Debian's; installed if missing), -t1 -c16, on the same
# tokens: "distinct" cycles through 200 of them, "repeated" presents one
# (a client sending its token with every call). The gateway is measured
# twice: as it runs (its verified-token cache answers tokens seen before)
# and with the cache off (--verify-cache-entries 0: every request verified
# in the module, the price of a token never seen). Rounds alternate between
# the servers, so whatever else the machine does hits all alike. A round
# with any answer but 200 stops the run. Then it issues under load: 8
# clients at once on POST /v1/tokens (bench/issue.lua), a new signed token
# and a durable row per request. Prints medians and ratios and writes
# bench/results/http.json.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
rounds=${1:-3}
seconds=${2:-10}

echo "== build (release)"
cargo build --release --locked -p captoken-host -p captoken-bench-peer --bins 2>&1 | tail -1
bin=$root/target/release

work=$(mktemp -d)
source bench/lib.sh
trap stop_all EXIT
ensure_wrk

admin=$(admin_token)
start gateway env CAPTOKEN_ADMIN_TOKEN="$admin" "$bin/captoken" serve --listen 127.0.0.1:0
gateway=$addr

mkdir -p bench/results
echo "== issue: 1,000 tokens through POST /v1/tokens ($gateway)"
python3 bench/issue.py "$gateway" "$admin" 1000 "$work/all.txt" "$work/issue.json"
head -200 "$work/all.txt" > "$work/distinct.txt"
head -1 "$work/all.txt" > "$work/repeated.txt"

python3 - "$gateway" "$work" <<'EOF'
import base64, json, sys, urllib.request
gateway, work = sys.argv[1:3]
with urllib.request.urlopen(f"{gateway}/.well-known/jwks.json") as reply:
    open(f"{work}/jwks.json", "wb").write(reply.read())
token = open(f"{work}/repeated.txt").read().strip()
payload = token.split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
aud = claims["aud"] if isinstance(claims["aud"], str) else claims["aud"][0]
open(f"{work}/trust", "w").write(f"{claims['iss']}\n{aud}\n")
# The issue load's body: the how-to's request for that token's holder key.
json.dump({"subject_public_key": claims["cnf"]["jwk"], "scope": "INPUT", "expires_in_seconds": 3600},
          open(f"{work}/issue-body.json", "w"))
EOF
issuer=$(sed -n 1p "$work/trust")
audience=$(sed -n 2p "$work/trust")
start peer "$bin/captoken-bench-peer" 127.0.0.1:0 "$work/jwks.json" "$issuer" "$audience"
peer=$addr
# The same gateway with its verified-token cache off: the price of a token
# it has never seen. Same key directory, a store of its own.
start uncached env CAPTOKEN_ADMIN_TOKEN="$admin" "$bin/captoken" serve --listen 127.0.0.1:0 \
  --key-dir "$work/gateway/captoken-data/keys" --verify-cache-entries 0
uncached=$addr

# One wrk round: prints "<req/s> <p99 ms>". Verify by default; with
# more arguments: connections, script, path and the script's arguments.
round() {
  local url=$1 tokens=$2 out
  if [ $# -gt 2 ]; then
    out=$(wrk -t1 -c"$3" -d"${seconds}s" --latency -s "$4" "$url$5" -- "${@:6}")
  else
    out=$(wrk -t1 -c16 -d"${seconds}s" --latency -s bench/verify.lua "$url/v1/tokens/verify" -- "$tokens")
  fi
  wrk_summary "$out"
}

echo "== verify: wrk -t1 -c16 -d${seconds}s, $rounds rounds alternating (gateway $gateway, uncached $uncached, peer $peer)"
results=$work/rounds.txt
: > "$results"
for scenario in distinct repeated; do
  for r in $(seq "$rounds"); do
    for server in gateway uncached peer; do
      case $server in
        gateway) url=$gateway ;;
        uncached) url=$uncached ;;
        peer) url=$peer ;;
      esac
      line=$(round "$url" "$work/$scenario.txt")
      echo "$scenario $server $line" >> "$results"
      echo "   $scenario round $r $server: $line (req/s, p99 ms)"
    done
  done
done

# Issue under load: 8 clients at once, each request a new signed token
# and a durable row (the issue's third goal; no peer issues tokens).
echo "== issue: wrk -t1 -c8 -d${seconds}s POST /v1/tokens, $rounds rounds (gateway $gateway)"
issued=$work/issue-rounds.txt
: > "$issued"
for r in $(seq "$rounds"); do
  line=$(round "$gateway" - 8 bench/issue.lua /v1/tokens "$work/issue-body.json" "$admin")
  echo "$line" >> "$issued"
  echo "   issue round $r: $line (req/s, p99 ms)"
done

python3 - "$results" "$work/issue.json" bench/results/http.json "$rounds" "$seconds" "$issued" <<'EOF'
import json, platform, statistics, subprocess, sys, time
rounds_file, issue_file, out_file, rounds, seconds, issued_file = sys.argv[1:7]
rows = [line.split() for line in open(rounds_file) if line.strip()]
table = {}
for scenario, server, rps, p99 in rows:
    entry = table.setdefault(scenario, {}).setdefault(server, {"rps": [], "p99_ms": []})
    entry["rps"].append(float(rps))
    entry["p99_ms"].append(float(p99))
result = {
    "date": time.strftime("%Y-%m-%d"),
    "machine": f"{platform.machine()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores",
    "load": f"wrk -t1 -c16 -d{seconds}s, {rounds} rounds alternating",
    "issue": json.load(open(issue_file)),
    "verify": {},
}
print(f"\n{'verify':<10} {'server':<9} {'req/s (median)':>15} {'p99 ms (median)':>16}")
for scenario, servers in table.items():
    summary = {}
    for server, entry in servers.items():
        summary[server] = {
            "rps": statistics.median(entry["rps"]),
            "p99_ms": statistics.median(entry["p99_ms"]),
            "rounds": entry,
        }
        print(f"{scenario:<10} {server:<9} {summary[server]['rps']:>15.0f} {summary[server]['p99_ms']:>16.2f}")
    for server in ("gateway", "uncached"):
        ratio = summary[server]["rps"] / summary["peer"]["rps"]
        summary[f"{server}_over_peer"] = ratio
        print(f"{scenario:<10} {server}/peer throughput {ratio:.2f}x")
    result["verify"][scenario] = summary
issued = [tuple(map(float, line.split())) for line in open(issued_file) if line.strip()]
result["issue_concurrent"] = {
    "load": f"wrk -t1 -c8 -d{seconds}s POST /v1/tokens, {rounds} rounds",
    "rps": statistics.median(r for r, _ in issued),
    "p99_ms": statistics.median(p for _, p in issued),
    "rounds": {"rps": [r for r, _ in issued], "p99_ms": [p for _, p in issued]},
}
print(f"\nissue, 8 at once: {result['issue_concurrent']['rps']:.0f} req/s, p99 {result['issue_concurrent']['p99_ms']:.2f} ms (medians)")
json.dump(result, open(out_file, "w"), indent=2)
print(f"\nwritten: {out_file}")
EOF
