#!/usr/bin/env bash
# Where a gateway verify's CPU goes: the gateway (release) under wrk's load
# (-t1 -c16, 200 distinct tokens, as bench/http.sh drives it), sampled by
# `perf record` (cpu-clock, 2 kHz) with the module's compiled functions named
# through wasmtime's perf map (CAPTOKEN_PERF_MAP), then every sample's own
# frame sorted into a few categories. The gateway's CPU time over the window
# divided by the requests wrk counted gives microseconds per verify, split
# by those shares.
#
#   bash bench/profile.sh [seconds=10] [serve options...]
#
# By default the gateway runs with its verified-token cache off
# (--verify-cache-entries 0), so every request is a verify in the module;
# `PROFILE_NAME=cached bash bench/profile.sh 10 --verify-cache-entries 4096`
# profiles the cached path instead (into profile-cached.json).
#
# `PROFILE_OP=issue bash bench/profile.sh` profiles issuing instead: 8
# clients at once on POST /v1/tokens (bench/issue.lua, as bench/http.sh
# drives it), every request a new signed token and a durable row (into
# profile-issue.json).
#
# Needs perf (Debian's linux-perf; installed if missing) and wrk. Writes
# bench/results/profile.json (profile-$PROFILE_NAME.json with a name).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${1:-10}
shift || true
serve_options=("$@")
op=${PROFILE_OP:-verify}
case $op in
  verify) [ ${#serve_options[@]} -gt 0 ] || serve_options=(--verify-cache-entries 0) ;;
  issue) PROFILE_NAME=${PROFILE_NAME:-issue} ;;
  *) echo "profile: PROFILE_OP is verify or issue" >&2; exit 2 ;;
esac

for tool in wrk perf; do
  if ! command -v "$tool" >/dev/null; then
    pkg=$tool
    [ "$tool" = perf ] && pkg=linux-perf
    echo "profile: installing $pkg from Debian"
    apt-get install -y "$pkg" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$pkg" >/dev/null; }
  fi
done

cargo build --release --locked -p captoken-host --bin captoken 2>&1 | tail -1
work=$(mktemp -d)
source bench/lib.sh
trap stop_all EXIT

admin=$(admin_token)
start gateway env CAPTOKEN_PERF_MAP=1 CAPTOKEN_ADMIN_TOKEN="$admin" "$root/target/release/captoken" serve --listen 127.0.0.1:0 \
  ${serve_options[@]+"${serve_options[@]}"}
gateway=$addr
pid=${pids[-1]}

python3 bench/issue.py "$gateway" "$admin" 200 "$work/tokens.txt" "$work/issue.json" >/dev/null
if [ "$op" = issue ]; then
  # The how-to's request for the first token's holder key, as http.sh sends it.
  python3 - "$work/tokens.txt" "$work/issue-body.json" <<'PY'
import base64, json, sys
token = open(sys.argv[1]).readline().strip()
payload = token.split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
json.dump({"subject_public_key": claims["cnf"]["jwk"], "scope": "INPUT", "expires_in_seconds": 3600},
          open(sys.argv[2], "w"))
PY
  load=(-c8 -s bench/issue.lua "$gateway/v1/tokens" -- "$work/issue-body.json" "$admin")
else
  load=(-c16 -s bench/verify.lua "$gateway/v1/tokens/verify" -- "$work/tokens.txt")
fi
# Warm up, then measure: wrk runs a second longer on each side of perf.
wrk -t1 -d2s "${load[@]}" >/dev/null
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
wrk -t1 -d"$((seconds + 2))s" "${load[@]}" > "$work/wrk.out" &
load=$!
sleep 1
before=$(ticks)
perf record -q -e cpu-clock -F 2000 -p "$pid" -o "$work/perf.data" -- sleep "$seconds" 2>/dev/null
after=$(ticks)
wait "$load"
grep -q 'STATUS errors=0 non2xx_or_timeouts=0' "$work/wrk.out" || { echo "profile: wrk saw errors" >&2; cat "$work/wrk.out" >&2; exit 1; }
perf report -i "$work/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null > "$work/report.txt"
[ -z "${PROFILE_KEEP:-}" ] || cp "$work/report.txt" "$PROFILE_KEEP"

mkdir -p bench/results
python3 - "$work/report.txt" "$work/wrk.out" "$before" "$after" "$seconds" "$(getconf CLK_TCK)" "bench/results/profile${PROFILE_NAME:+-$PROFILE_NAME}.json" "${serve_options[*]}" "$op" <<'EOF'
import json, re, sys, time
report, wrk, before, after, seconds, hz, out, options, op = sys.argv[1:10]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", open(wrk).read()).group(1))
cpu = (int(after) - int(before)) / int(hz)
requests = rps * float(seconds)
per_request_us = cpu / requests * 1e6

# (category, test on dso and symbol), first match wins.
CATEGORIES = [
    ("module code (wasm, in the guest)", lambda d, s: d.startswith("[JIT]") or "wasm[" in s),
    ("instances: wasmtime's host side", lambda d, s: re.search(r"wasmtime|captoken_runtime|cranelift", s)),
    ("instances: kernel memory (madvise, faults, TLB)", lambda d, s: d.startswith("[kernel") and re.search(
        r"page|fault|madvise|unmap|tlb|smp_call_function|folio|lru|memcg|mas_|vma|mm_|pte|pmd|zap|clear_page|flush|pagevec", s)),
    ("kernel: network (loopback TCP)", lambda d, s: d.startswith("[kernel") and re.search(
        r"tcp|skb|ip_|sock|net|loopback|dev_|sk_|inet|__sys_(send|recv)|epoll|sys_write|sys_read|copy_(to|from)_user|_copy", s)),
    ("kernel: scheduling, futex, other", lambda d, s: d.startswith("[kernel")),
    ("JSON in the host (serde_json)", lambda d, s: "serde_json" in s or "serde_core" in s),
    ("store (SQLite)", lambda d, s: re.search(r"sqlite|rusqlite", s)),
    ("signing (ed25519 in the host)", lambda d, s: re.search(r"curve25519|ed25519|sha2::", s)),
    ("HTTP and async runtime (hyper, axum, tokio)", lambda d, s: re.search(r"hyper|axum|tokio|http::|mio|tower", s)),
    ("allocator and memcpy (libc)", lambda d, s: re.search(r"malloc|free|memmove|memcpy|memset|memcmp|_int_|unlink_chunk|consolidate|realloc", s)),
    ("gateway code and the rest", lambda d, s: True),
]
shares = {name: 0.0 for name, _ in CATEGORIES}
for line in open(report):
    m = re.match(r"\s+([\d.]+)%\s+(\S+(?: tid \d+)?)\s+\[[.k]\]\s+(.*)$", line)
    if not m:
        continue
    pct, dso, sym = float(m.group(1)), m.group(2), m.group(3)
    for name, test in CATEGORIES:
        if test(dso, sym):
            shares[name] += pct
            break
total = sum(shares.values())
rows = []
clients = 8 if op == "issue" else 16
print(f"gateway {op} ({options}) under wrk -t1 -c{clients}: {rps:.0f} req/s, {cpu:.2f} s of gateway CPU in {seconds} s "
      f"= {per_request_us:.0f} us of CPU per {op}")
print(f"{'where (own time of each sample)':<50} {'share':>7} {'us/' + op:>10}")
for name, _ in CATEGORIES:
    share = shares[name] / total if total else 0
    rows.append({"category": name, "share": share, f"us_per_{op}": share * per_request_us})
    print(f"{name:<50} {share * 100:>6.1f}% {share * per_request_us:>10.0f}")
json.dump({"date": time.strftime("%Y-%m-%d"), "operation": op, "serve_options": options, "rps": rps, "cpu_seconds": cpu,
           "seconds": float(seconds), f"us_per_{op}": per_request_us, "categories": rows}, open(out, "w"), indent=2)
print(f"written: {out}")
EOF
