# Sourced by the bench scripts, after they set `work` (a temporary directory).

pids=()

# start NAME COMMAND...: runs COMMAND in the background in $work/NAME/,
# records its pid (the last of `pids`) and sets `addr` to the http://
# address its stdout names first (the gateway and the peer both print it).
start() {
  local name=$1
  shift
  mkdir -p "$work/$name"
  (cd "$work/$name" && exec "$@") > "$work/$name.out" 2> "$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do
    addr=$(grep -o 'http://[0-9.:]*' "$work/$name.out" | head -1 || true)
    [ -n "$addr" ] && return 0
    sleep 0.1
  done
  echo "bench: $name did not start:" >&2
  cat "$work/$name.err" >&2
  exit 1
}

stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}

# An admin token the gateway accepts as strong.
admin_token() {
  python3 -c 'import secrets; print(secrets.token_urlsafe(32))'
}

# Debian's wrk, installed if missing.
ensure_wrk() {
  if ! command -v wrk >/dev/null; then
    echo "bench: installing wrk from Debian"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  fi
}

# wrk_summary OUTPUT: "<req/s> <p99 ms>" of one wrk run whose script
# reported its errors (a STATUS line); a run with any error or an answer
# other than 2xx stops the bench.
wrk_summary() {
  if ! grep -q 'STATUS errors=0 non2xx_or_timeouts=0' <<<"$1"; then
    echo "bench: a round had errors or answers other than 2xx:" >&2
    echo "$1" >&2
    exit 1
  fi
  python3 - "$1" <<'EOF'
import re, sys
out = sys.argv[1]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
print(f"{rps} {float(value) * {'us': 0.001, 'ms': 1.0, 's': 1000.0}[unit]}")
EOF
}
