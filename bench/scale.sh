#!/usr/bin/env bash
# Several gateways, one PostgreSQL: what the shared store costs and carries,
# measured in one run (docs/SCALE.md).
#
#   bash bench/scale.sh [rounds=3] [seconds=10]
#
# Builds `captoken` in release, starts a throwaway PostgreSQL
# (scripts/postgres.sh) and three gateways: one on its own SQLite file, and
# A and B on the one PostgreSQL database, sharing a key directory and a
# policy. Then, rounds alternating:
#   - issue under load on SQLite: wrk -t1 -c8 POST /v1/tokens;
#   - issue under load on A alone, and on A and B at once (c8 each): every
#     issue is a write serialized with every other gateway's, so this is the
#     shared write path's ceiling;
#   - verify of distinct tokens on A (each one a revocation read from
#     PostgreSQL).
# And the propagation delay: a token revoked through A, then verified on B,
# 200 times (bench/propagation.py): how long after A's 200 B refuses it.
# Prints medians, writes bench/results/scale.json, and runs bench/scale.py
# with the measured ceiling and delay.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
rounds=${1:-3}
seconds=${2:-10}

echo "== build (release)"
cargo build --release --locked -p captoken-host --bins 2>&1 | tail -1
bin=$root/target/release

work=$(mktemp -d)
chmod 755 "$work"
source bench/lib.sh
ensure_wrk
pg=$work/pg
mkdir -p "$pg"
cleanup() {
  stop_all_but_work
  bash scripts/postgres.sh stop "$pg"
  rm -rf "$work"
}
stop_all_but_work() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
url=$(bash scripts/postgres.sh start "$pg")
echo "== PostgreSQL at $url"

admin=$(admin_token)
start sqlite env CAPTOKEN_ADMIN_TOKEN="$admin" "$bin/captoken" serve --listen 127.0.0.1:0
sqlite=$addr
shared=(--key-dir "$work/shared/keys" --policy "$work/shared/policy.json")
mkdir -p "$work/shared"
start a env CAPTOKEN_ADMIN_TOKEN="$admin" "$bin/captoken" serve --listen 127.0.0.1:0 --db "$url" "${shared[@]}"
a=$addr
start b env CAPTOKEN_ADMIN_TOKEN="$admin" CAPTOKEN_DATABASE_URL="$url" "$bin/captoken" serve --listen 127.0.0.1:0 "${shared[@]}"
b=$addr

# Tokens for the verify rounds, and the issue body (the how-to's request).
python3 bench/issue.py "$a" "$admin" 200 "$work/distinct.txt" "$work/issue.json" >/dev/null
python3 - "$work" <<'EOF'
import base64, json, sys
work = sys.argv[1]
token = open(f"{work}/distinct.txt").readline().strip()
payload = token.split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
json.dump({"subject_public_key": claims["cnf"]["jwk"], "scope": "INPUT", "expires_in_seconds": 3600},
          open(f"{work}/issue-body.json", "w"))
EOF

# One wrk run: prints "<req/s> <p99 ms>".
wrk_run() {
  wrk_summary "$(wrk -t1 -c"$1" -d"${seconds}s" --latency -s "$2" "$3" -- "${@:4}")"
}
issue_on() {
  wrk_run 8 bench/issue.lua "$1/v1/tokens" "$work/issue-body.json" "$admin"
}

results=$work/rounds.txt
: > "$results"
echo "== rounds: wrk -t1 -d${seconds}s, $rounds rounds alternating"
for r in $(seq "$rounds"); do
  line=$(issue_on "$sqlite"); echo "issue_sqlite $line" >> "$results"; echo "   round $r issue, SQLite:          $line"
  line=$(issue_on "$a"); echo "issue_postgres_one $line" >> "$results"; echo "   round $r issue, PostgreSQL (A):  $line"
  issue_on "$a" > "$work/two-a" & one=$!
  issue_on "$b" > "$work/two-b" & two=$!
  wait "$one" "$two"
  line=$(python3 -c 'import sys; a, b = (open(f).read().split() for f in sys.argv[1:]); print(float(a[0]) + float(b[0]), max(float(a[1]), float(b[1])))' "$work/two-a" "$work/two-b")
  echo "issue_postgres_two $line" >> "$results"; echo "   round $r issue, PostgreSQL (A+B): $line"
  line=$(wrk_run 16 bench/verify.lua "$a/v1/tokens/verify" "$work/distinct.txt")
  echo "verify_postgres $line" >> "$results"; echo "   round $r verify, PostgreSQL (A):  $line"
done

echo "== propagation: revoked through A, verified on B"
python3 bench/propagation.py "$a" "$b" "$admin" 200 "$work/issue-body.json" > "$work/propagation.json"
cat "$work/propagation.json"

mkdir -p bench/results
python3 - "$results" "$work/propagation.json" bench/results/scale.json "$rounds" "$seconds" <<'EOF'
import json, platform, statistics, subprocess, sys, time
rounds_file, propagation_file, out_file, rounds, seconds = sys.argv[1:6]
table = {}
for line in open(rounds_file):
    name, rps, p99 = line.split()
    entry = table.setdefault(name, {"rps": [], "p99_ms": []})
    entry["rps"].append(float(rps))
    entry["p99_ms"].append(float(p99))
result = {
    "date": time.strftime("%Y-%m-%d"),
    "machine": f"{platform.machine()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores",
    "load": f"wrk -t1 -d{seconds}s, issue -c8 per gateway, verify -c16, {rounds} rounds alternating",
    "rounds": table,
    "median": {name: {"rps": statistics.median(v["rps"]), "p99_ms": statistics.median(v["p99_ms"])}
               for name, v in table.items()},
    "propagation": json.load(open(propagation_file)),
}
json.dump(result, open(out_file, "w"), indent=2)
m = result["median"]
print("== medians (req/s, p99 ms)")
for name, v in m.items():
    print(f"   {name:<20} {v['rps']:>9.0f} {v['p99_ms']:>8.1f}")
print(f"   shared issue, two gateways over SQLite alone: {m['issue_postgres_two']['rps'] / m['issue_sqlite']['rps']:.2f}x")
EOF
ceiling=$(python3 -c 'import json; print(json.load(open("bench/results/scale.json"))["median"]["issue_postgres_two"]["rps"])')
delay=$(python3 -c 'import json; print(json.load(open("bench/results/scale.json"))["propagation"]["max_ms"])')
echo "== the deployment of docs/SCALE.md, with the measured ceiling ($ceiling writes/s) and delay ($delay ms)"
python3 bench/scale.py --write-ceiling "$ceiling" --propagation-ms "$delay"
