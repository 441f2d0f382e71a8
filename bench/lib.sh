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
