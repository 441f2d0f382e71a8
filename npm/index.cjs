'use strict';
// captoken for Node (CommonJS): the same dist/captoken_bg.wasm as the ESM
// and browser entries, initialized synchronously and checked against the
// SHA-256 in its code.
//
// Like the ESM entries, it speaks the module's raw ABI (docs/ABI.md):
// versioned, documented, import-free, the very interface the wasmtime
// gateway uses (`rawEngine` in browser.js).
//
// The wrappers are not copied either: shared.cjs is the "shared" region of
// browser.js, rendered as a CommonJS file by tests/tests/npm_contract.rs
// (which fails when it drifts), so a bundler follows it like any require.
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { createHash, randomFillSync, webcrypto } = require('node:crypto');
const { CaptokenError, createCaptoken } = require('./shared.cjs');

const bytes = readFileSync(join(__dirname, 'dist', 'captoken_bg.wasm'));

const api = createCaptoken({
  sha256: createHash('sha256').update(bytes).digest('hex'),
  bytes,
  randomBytes: (n) => randomFillSync(new Uint8Array(n)),
  now: () => Math.floor(Date.now() / 1000),
  subtle: webcrypto.subtle,
  offload: offloader(),
});

// verifyAsync, authorizeAsync and the signing async forms given a `key`
// run on a pool of worker threads (pool.js,
// an ES module, imported on first use); where worker.js is not beside this
// file (a bundle that copied only the module), they run here instead.
function offloader() {
  const workerFile = join(__dirname, 'worker.js');
  if (!existsSync(workerFile)) return undefined;
  let pool = null;
  return async (op, request) => {
    pool ??= import('./pool.js').then(({ createPool }) => createPool(pathToFileURL(workerFile)));
    return (await pool).call(op, request);
  };
}

module.exports = {
  ...api,
  CaptokenError,
  createCaptoken,
  /** Already done when this module loads; here so code can be written once for Node and browsers. */
  init: async () => ({ moduleSha256: api.moduleSha256, abiVersion: api.ABI_VERSION }),
};
