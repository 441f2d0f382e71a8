'use strict';
// captoken for Node (CommonJS): the same dist/captoken_bg.wasm as the ESM
// and browser entries, initialized synchronously and checked against its
// committed SHA-256.
//
// Like the ESM entries, it speaks the module's raw ABI (docs/ABI.md):
// versioned, documented, import-free, the very interface the wasmtime
// gateway uses (`rawEngine` in browser.js).
//
// The wrappers are not copied either: they live in the "shared" region of
// browser.js, which this file runs as a script (that region is written to
// be valid both as module code and as a strict-mode script).
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { createHash, randomFillSync } = require('node:crypto');
const vm = require('node:vm');

function loadShared() {
  const file = join(__dirname, 'browser.js');
  const text = readFileSync(file, 'utf8');
  const begin = text.indexOf('// #region shared\n');
  const end = text.indexOf('// #endregion shared\n');
  if (begin < 0 || end < begin) {
    throw new Error(`captoken: ${file} has lost its \`// #region shared\` block`);
  }
  const region = text.slice(begin, end);
  // lineOffset keeps stack traces pointing at the right lines of browser.js.
  const lineOffset = text.slice(0, begin).split('\n').length - 1;
  const body = `'use strict';${region}\nreturn { CaptokenError, createCaptoken };`;
  return vm.compileFunction(body, [], { filename: file, lineOffset })();
}

const { CaptokenError, createCaptoken } = loadShared();

const bytes = readFileSync(join(__dirname, 'dist', 'captoken_bg.wasm'));

const api = createCaptoken({
  sha256: createHash('sha256').update(bytes).digest('hex'),
  sha256File: readFileSync(join(__dirname, 'dist', 'captoken_bg.wasm.sha256'), 'utf8'),
  bytes,
  randomBytes: (n) => randomFillSync(new Uint8Array(n)),
  now: () => Math.floor(Date.now() / 1000),
  subtle: require('node:crypto').webcrypto.subtle,
});

module.exports = {
  ...api,
  CaptokenError,
  createCaptoken,
  /** Already done when this module loads; here so code can be written once for Node and browsers. */
  init: async () => ({ moduleSha256: api.moduleSha256, abiVersion: api.ABI_VERSION }),
};
