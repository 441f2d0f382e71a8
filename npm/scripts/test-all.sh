#!/usr/bin/env bash
# Every npm-side test, in order, failing on the first failure:
#   1. the API in Node (node --test test/*.test.js);
#   2. the types (tsc: index.d.ts and test/types/);
#   3. the packed tarball installed into an empty project (test/pack/: the
#      README's snippets and recipes, bundled by Vite, esbuild and webpack
#      and run in Chromium, workerd, Deno, Bun and Node), and
#      linted as its consumers' tools see it (scripts/lint-package.sh:
#      @arethetypeswrong/cli and publint report nothing);
#   4. the package and the operator console in headless Chromium (test/browser/);
#   5. the API tests and the README's Node snippets again on Node 18, the
#      oldest Node `engines` admits (scripts/node18.sh).
# Needs `npm ci` in npm/ and Chromium (scripts/setup-browser.sh). Steps 3 and
# 4 fail, never skip, without Chromium.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x node_modules/.bin/tsc ] || [ ! -d node_modules/playwright-core ]; then
  echo "test-all: dev dependencies missing: run 'npm ci' in $(pwd)" >&2
  exit 1
fi

# Each step fails after 15 minutes rather than hang CI to its limit: once
# (2026-12-03) a test file's Node process sat idle before its first test,
# never reproduced since.
step() {
  local started=$SECONDS
  echo "== npm: $1"
  shift
  timeout 900 "$@"
  echo "   ($((SECONDS - started)) s)"
}

step "API tests (Node $(node --version))" node --test test/*.test.js
step "types (tsc)" node_modules/.bin/tsc -p tsconfig.json
step "pack test" node --test test/pack/
step "package lint (attw, publint)" bash scripts/lint-package.sh
step "Chromium tests (package and operator console)" node --test test/browser/
step "Node 18, the engines floor" bash scripts/node18.sh
echo "npm: screenshot of the console in $(pwd)/test-artifacts/console.png"
