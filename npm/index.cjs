'use strict';
// captoken for Node (CommonJS): the same dist/captoken_bg.wasm as the ESM
// and browser entries, initialized synchronously and checked against its
// committed SHA-256.
//
// Why this file does not use dist/captoken.js, the wasm-bindgen glue the
// ESM entries use: the glue is an ES module, and Node 18 (and 20 without
// flags in every release) cannot require() one. Copying the glue's imports
// object here would tie this file to names wasm-bindgen renames at every
// build. Instead it speaks the module's raw ABI (docs/ABI.md): versioned,
// documented, import-free, the very interface the wasmtime gateway uses.
// The wasm-bindgen imports are defined as traps, as the gateway does: the
// raw ABI never reaches them.
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

// One instance of the module over the raw ABI: `call(name, json) -> json`.
// After a trap the instance may hold broken state, so the next call gets a
// fresh one (the gateway likewise discards an instance that trapped).
function rawEngine(module) {
  const imports = {};
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== 'function') throw new CaptokenError('module_invalid', `unexpected ${kind} import \`${from}.${name}\``);
    imports[from] = imports[from] || {};
    imports[from][name] = () => {
      throw new WebAssembly.RuntimeError(`the raw ABI reached the JS import \`${name}\``);
    };
  }
  const instantiate = () => new WebAssembly.Instance(module, imports).exports;
  let wasm = instantiate();
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });

  function callId(id, text) {
    const request = encoder.encode(text);
    let status;
    let response;
    try {
      const ptr = wasm.ct_alloc(request.length) >>> 0;
      if (ptr === 0) throw new CaptokenError('guest_alloc', 'the module could not allocate the request');
      new Uint8Array(wasm.memory.buffer, ptr, request.length).set(request);
      status = wasm.ct_call(id, ptr, request.length);
      response = new Uint8Array(wasm.memory.buffer, wasm.ct_out_ptr() >>> 0, wasm.ct_out_len() >>> 0);
      response = decoder.decode(response);
      wasm.ct_free(ptr, request.length);
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) wasm = instantiate();
      if (err instanceof TypeError) throw new CaptokenError('guest_bad_response', 'the module answered with invalid UTF-8');
      throw err;
    }
    if (status === 0) return response;
    if (status === 1) {
      const { code, message, path, audit } = JSON.parse(response);
      throw new CaptokenError(code, message, { path, audit });
    }
    throw new CaptokenError('guest_bad_status', `the module answered with status \`${status}\``);
  }

  let ids = null;
  return {
    abiVersion: wasm.ct_abi_version(),
    call(op, text) {
      // Operation ids by name, from the module itself (operation 0, `info`);
      // asked on first use, after the caller has checked the ABI version.
      ids = ids || new Map(JSON.parse(callId(0, '{}')).ops.map((name, id) => [name, id]));
      const id = ids.get(op);
      if (id === undefined) throw new CaptokenError('unknown_op', `unknown operation \`${op}\``);
      return callId(id, text);
    },
  };
}

const bytes = readFileSync(join(__dirname, 'dist', 'captoken_bg.wasm'));

const api = createCaptoken({
  sha256: createHash('sha256').update(bytes).digest('hex'),
  sha256File: readFileSync(join(__dirname, 'dist', 'captoken_bg.wasm.sha256'), 'utf8'),
  instantiate: () => rawEngine(new WebAssembly.Module(bytes)),
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
