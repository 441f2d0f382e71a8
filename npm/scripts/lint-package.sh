#!/usr/bin/env bash
# The packed tarball as its consumers' tools see it: @arethetypeswrong/cli
# (types resolve for every module system, ESM and CommonJS alike) and
# publint (package.json fields, exports, files), both pinned in
# package-lock.json. Fails on anything either reports, suggestions included.
#
# dist/captoken_bg.wasm is exported as an asset (bundlers and Workers import
# it), not a module: attw, which resolves every subpath as code, is told so.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm pack --silent --pack-destination "$tmp" >/dev/null
tarball=$(ls "$tmp"/*.tgz)

node_modules/.bin/attw --no-emoji --no-color --exclude-entrypoints ./dist/captoken_bg.wasm -- "$tarball"

publint_out=$(node_modules/.bin/publint run --strict --pack=false "$tarball" 2>&1) || { echo "$publint_out"; exit 1; }
echo "$publint_out"
if grep -Eq '^(Suggestions|Warnings|Errors):' <<<"$publint_out"; then
  echo "FAIL: publint reports something about the package" >&2
  exit 1
fi
