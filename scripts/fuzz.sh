#!/usr/bin/env bash
# Run every fuzz target of core/fuzz and host/runtime/fuzz (cargo-fuzz,
# libFuzzer) for a bounded time, from seed corpora made fresh from the
# tests' fixed keys.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 20 s, all)
#
# CI runs it briefly so the targets keep building and the seeds keep
# passing; a long run (hours) is FUZZING.md's. A crash, a leak past
# libFuzzer's limits or a timeout fails the script; libFuzzer writes the
# input to <crate>/fuzz/artifacts/<target>/, and it becomes a named
# regression test (core/tests/fuzz_regressions.rs for the core's).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

seconds=${1:-20}
shift || true

# libFuzzer's instrumentation needs a nightly compiler; the machine has
# one beside the pinned stable (rust-toolchain.toml).
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: no nightly toolchain (rustup toolchain install nightly)" >&2
  exit 1
fi
want=0.13.2
have=$(cargo fuzz --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "fuzz: installing cargo-fuzz $want (was: ${have:-none})"
  cargo install cargo-fuzz --version "$want" --locked
fi

# Each target is named by the crate that holds it: core/fuzz (the core's
# decoders and ops::call) and host/runtime/fuzz (the raw ABI under
# wasmtime, differential against the native core).
crates=(core host/runtime)
declare -A crate_of
for crate in "${crates[@]}"; do
  while read -r target; do
    crate_of[$target]=$crate
  done < <(cd "$crate" && cargo +nightly fuzz list)
done

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for crate in "${crates[@]}"; do
    mapfile -t -O "${#targets[@]}" targets < <(cd "$crate" && cargo +nightly fuzz list)
  done
fi
for target in "${targets[@]}"; do
  [ -n "${crate_of[$target]:-}" ] || { echo "fuzz: no target \`$target\`" >&2; exit 1; }
done

work=${FUZZ_WORK:-$root/target/fuzz}
seeds="$work/seeds"
rm -rf "$seeds"
(cd core/fuzz && cargo run -q --locked --example seeds -- "$seeds")

# Without ASan (it needs the whole std rebuilt): the code is safe Rust,
# and what the targets look for is panics, aborts, hangs and wrong answers.
for crate in "${crates[@]}"; do
  want_crate=0
  for target in "${targets[@]}"; do
    [ "${crate_of[$target]}" = "$crate" ] && want_crate=1
  done
  [ $want_crate = 1 ] && (cd "$crate" && cargo +nightly fuzz build -O --sanitizer none)
done

for target in "${targets[@]}"; do
  crate=${crate_of[$target]}
  corpus="$work/corpus/$target"
  mkdir -p "$corpus" "$seeds/$target"
  log="$work/$target.log"
  echo "== fuzz $target ($crate/fuzz): ${seconds} s"
  if ! (cd "$crate" && cargo +nightly fuzz run -O --sanitizer none "$target" "$corpus" "$seeds/$target" -- \
          -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
          -print_final_stats=1) >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz: $target failed; the input is in $crate/fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^stat::new_units_added|^#[0-9]+.*DONE' "$log" | tr '\n' ' '
  echo
done
