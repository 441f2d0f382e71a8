// The three entries (Node ESM, CommonJS, browser) are one API: same names,
// same answers, same errors, over the same committed module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as esm from '../index.js';
import * as browser from '../browser.js';

const cjs = createRequire(import.meta.url)('../index.cjs');
const committed = readFileSync(new URL('../dist/captoken_bg.wasm.sha256', import.meta.url), 'utf8').slice(0, 64);

test('every entry exports the same names', () => {
  const names = Object.keys(esm).sort();
  assert.deepEqual(Object.keys(cjs).sort(), names);
  assert.deepEqual(Object.keys(browser).sort(), names);
  // ... and index.d.ts declares each of them.
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8');
  for (const name of names) {
    assert.match(dts, new RegExp(`export declare (const|function|class) ${name}\\b`), `index.d.ts lacks ${name}`);
  }
});

test('CommonJS and ESM load the committed module', () => {
  assert.equal(esm.moduleSha256, committed);
  assert.equal(cjs.moduleSha256, committed);
  assert.equal(cjs.ABI_VERSION, 1);
  assert.deepEqual(cjs.info(), esm.info());
});

test('a token issued through one entry verifies through the other', () => {
  const issuer = cjs.generateKey();
  const holder = esm.generateKey();
  const claims = { sub: 'op', aud: 'gw', cnf: { jwk: holder.publicJwk }, caps: [{ actions: ['read'], resources: ['doc:*'] }] };
  const trust = { jwks: { keys: [issuer.publicJwk] }, issuer: 'https://gw.example', audience: 'gw' };
  const a = cjs.issue({ key: issuer.privateJwk, issuer: 'https://gw.example', claims });
  const b = esm.issue({ key: issuer.privateJwk, issuer: 'https://gw.example', claims });
  assert.equal(esm.verify({ ...trust, token: a.token }).claims.jti, a.jti);
  assert.equal(cjs.verify({ ...trust, token: b.token }).claims.jti, b.jti);
  assert.equal(cjs.authorize({ ...trust, token: b.token, request: { action: 'read', resource: 'doc:1' } }).cap_index, 0);
});

test('refusals are the same CaptokenError through every entry', () => {
  const cases = [
    () => ['verify', { token: 'a.b', jwks: { keys: [] }, issuer: 'i', audience: 'a' }],
    () => ['scope_meet', { a: [{ actions: ['a'], resources: ['r*x'] }], b: [] }],
    () => ['nope', {}],
  ];
  for (const make of cases) {
    const [op, request] = make();
    const seen = [esm, cjs].map((api) => {
      try {
        api.callOperation(op, request);
      } catch (err) {
        // instanceof holds across the two copies of the class.
        assert.ok(err instanceof esm.CaptokenError && err instanceof cjs.CaptokenError && err instanceof browser.CaptokenError);
        return [err.name, err.code, err.message];
      }
      assert.fail(`${op} was not refused`);
    });
    assert.deepEqual(seen[0], seen[1]);
  }
  assert.equal(new Error('x') instanceof esm.CaptokenError, false);
});

test('a misspelt option is refused, not ignored', () => {
  for (const api of [esm, cjs]) {
    assert.throws(
      () => api.verify({ token: 'a.b.c', jwks: { keys: [] }, issuer: 'i', audience: 'a', maxdepth: 1 }),
      (e) => e.code === 'bad_request' && e.message === '`verify` has no option `maxdepth`',
    );
    // An option set to undefined is an option left out.
    assert.throws(() => api.verify({ token: 'a.b', jwks: { keys: [] }, issuer: 'i', audience: 'a', maxDepth: undefined }),
      (e) => e.code === 'malformed_token');
  }
});

test('CommonJS reports the path of a refused document part', () => {
  assert.throws(
    () => cjs.scopeMeet([{ actions: ['a'], resources: ['r'], constraints: { domains: ['*x'] } }], []),
    (e) => e.code === 'bad_pattern' && e.path === 'caps[0].constraints.domains[0]',
  );
});

// createCaptoken is what every entry builds on; these feed it fake modules.
const fakeModule = (overrides) => {
  const calls = [];
  return {
    calls,
    binding: {
      // An engine of the caller's own attests to the package's module.
      sha256: esm.moduleSha256,
      instantiate() {
        calls.push('instantiate');
        return { abiVersion: 1, call: (op, json) => { calls.push([op, JSON.parse(json)]); return '{"ok":true}'; } };
      },
      randomBytes: (n) => new Uint8Array(n).fill(0xff),
      now: () => 1_700_000_000,
      ...overrides,
    },
  };
};

test('createCaptoken refuses a module that is not the committed one, before running it', () => {
  const wrong = fakeModule({ sha256: createHash('sha256').update('another module').digest('hex') });
  assert.throws(() => esm.createCaptoken(wrong.binding), (e) => e.code === 'module_digest_mismatch');
  assert.deepEqual(wrong.calls, []);
  // The digest is the code's own: no file beside the module is consulted,
  // so a swapped module and a swapped .sha256 still fail.
  const bytes = new TextEncoder().encode('not the module');
  const swapped = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes };
  assert.throws(() => esm.createCaptoken({ ...fakeModule().binding, instantiate: undefined, ...swapped }),
    (e) => e.code === 'module_digest_mismatch');
  assert.throws(() => cjs.createCaptoken({ ...fakeModule().binding, instantiate: undefined, ...swapped }),
    (e) => e.code === 'module_digest_mismatch');
  const future = fakeModule();
  const instantiate = future.binding.instantiate;
  future.binding.instantiate = () => ({ ...instantiate(), abiVersion: 2 });
  assert.throws(() => esm.createCaptoken(future.binding), (e) => e.code === 'abi_mismatch');
});

test('the wrappers supply the clock and fresh entropy, and the caller may pin now', () => {
  const fake = fakeModule();
  const api = esm.createCaptoken(fake.binding);
  api.issue({ key: {}, issuer: 'i', claims: {} });
  api.verify({ token: 't', jwks: {}, issuer: 'i', audience: 'a', now: 5, maxDepth: 2 });
  assert.deepEqual(fake.calls.slice(1), [
    // No `ttl`: every default but the clock and entropy is the module's.
    ['issue', { key: {}, issuer: 'i', claims: {}, now: 1_700_000_000, entropy: '_____________________w' }],
    ['verify', { token: 't', jwks: {}, issuer: 'i', audience: 'a', now: 5, max_depth: 2 }],
  ]);
  assert.throws(() => api.issue({ key: {}, issuer: 'i', claims: {}, entropy: 'mine' }), (e) => e.code === 'bad_request');
});

test('object options map to their members as the contract names them, and misspelt ones are refused', () => {
  const fake = fakeModule();
  const api = esm.createCaptoken(fake.binding);
  api.verify({ token: 't', jwks: {}, issuer: 'i', audience: 'a', now: 5, proof: { proof: 'p', requestHash: 'h', maxAge: 9 } });
  assert.deepEqual(fake.calls.at(-1), [
    'verify',
    { token: 't', jwks: {}, issuer: 'i', audience: 'a', now: 5, proof: { proof: 'p', request_hash: 'h', max_age: 9 } },
  ]);
  assert.throws(
    () => api.verify({ token: 't', jwks: {}, issuer: 'i', audience: 'a', proof: { proof: 'p', request_hash: 'h' } }),
    (e) => e.code === 'bad_request' && /`proof\.request_hash`/.test(e.message),
  );
  // Not an object: passed as it is, for the module to refuse.
  api.verify({ token: 't', jwks: {}, issuer: 'i', audience: 'a', now: 5, proof: 'p' });
  assert.equal(fake.calls.at(-1)[1].proof, 'p');
  // The sync forms take no external signer; the async ones no private key.
  assert.throws(() => api.issue({ key: {}, issuer: 'i', claims: {}, signer: {} }), (e) => e.code === 'bad_request');
});

test('a trap in the module is a guest_trap CaptokenError', () => {
  const fake = fakeModule({
    instantiate: () => ({ abiVersion: 1, call: () => { throw new WebAssembly.RuntimeError('unreachable'); } }),
  });
  assert.throws(() => esm.createCaptoken(fake.binding).info(), (e) => e.code === 'guest_trap' && e.cause instanceof WebAssembly.RuntimeError);
});
