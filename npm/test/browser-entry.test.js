// The browser entry's loading, run in Node (which has fetch, WebCrypto and
// WebAssembly like a browser). Node's fetch does not read file: URLs, so
// fetch is replaced by one that serves the package's files and counts
// requests. The real-browser test is test/browser/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as captoken from '../browser.js';

// Every browser has WebCrypto on globalThis; Node 18 keeps it in node:crypto.
if (!globalThis.crypto) globalThis.crypto = (await import('node:crypto')).webcrypto;

const wasmUrl = new URL('../dist/captoken_bg.wasm', import.meta.url);
const committed = readFileSync(new URL('../dist/captoken_bg.wasm.sha256', import.meta.url), 'utf8').slice(0, 64);
const fetched = [];
globalThis.fetch = async (url) => {
  fetched.push(String(url));
  const u = new URL(String(url));
  if (u.protocol !== 'file:') throw new TypeError('fetch failed');
  try {
    return new Response(readFileSync(fileURLToPath(u)), { status: 200 });
  } catch {
    return new Response('missing', { status: 404 });
  }
};

test('browser entry: refuses to work before init, refuses a wrong module, then loads the committed one', async () => {
  assert.equal(captoken.moduleSha256, null);
  assert.throws(() => captoken.generateKey(), (e) => e instanceof captoken.CaptokenError && e.code === 'not_initialized');

  await assert.rejects(captoken.init(new URL('../dist/no-such.wasm', import.meta.url)), (e) => e.code === 'module_unavailable');
  await assert.rejects(captoken.init('https://unreachable.invalid/captoken_bg.wasm'), (e) => e.code === 'module_unavailable');

  const tampered = new Uint8Array(readFileSync(wasmUrl));
  tampered[tampered.length - 1] ^= 1;
  await assert.rejects(captoken.init(tampered), (e) => e.code === 'module_digest_mismatch');
  assert.equal(captoken.moduleSha256, null);

  fetched.length = 0;
  const loading = captoken.init();
  assert.equal(captoken.init(), loading, 'a second init while loading shares the first');
  assert.deepEqual(await loading, { moduleSha256: committed, abiVersion: 1 });
  // The digest travels in the code: only the module is fetched.
  assert.deepEqual(fetched, [wasmUrl.href]);
  assert.equal(captoken.moduleSha256, committed);
  assert.equal(captoken.ABI_VERSION, 1);
});

test('browser entry: a compiled WebAssembly.Module (as Workers hand out) loads without a fetch', async () => {
  // A second instance of the entry (a query makes it another module).
  const fresh = await import('../browser.js?compiled');
  fetched.length = 0;
  const module = new WebAssembly.Module(readFileSync(wasmUrl));
  assert.deepEqual(await fresh.init(module), { moduleSha256: committed, abiVersion: 1 });
  assert.deepEqual(fetched, []);
  assert.equal(fresh.info().abi, 1);
  // Its ABI is still checked: a module without the ABI is refused.
  const other = await import('../browser.js?compiled-other');
  const empty = new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  await assert.rejects(other.init(empty), (e) => e instanceof other.CaptokenError && e.code === 'module_invalid');
});

test('browser entry: issue, verify and refuse after init', async () => {
  await captoken.init();
  const gw = captoken.generateKey();
  const holder = captoken.generateKey();
  const now = Math.floor(Date.now() / 1000);
  const { token, exp } = captoken.issue({
    key: gw.privateJwk, issuer: 'https://gw.example', ttl: 60,
    claims: { sub: 'operator-1', aud: 'console', cnf: { jwk: holder.publicJwk }, caps: [{ actions: ['read'], resources: ['*'] }] },
  });
  assert.ok(exp >= now + 60 && exp <= now + 61, 'now comes from Date');
  const trust = { jwks: { keys: [gw.publicJwk] }, issuer: 'https://gw.example', audience: 'console' };
  assert.equal(captoken.verify({ ...trust, token }).claims.sub, 'operator-1');
  assert.throws(() => captoken.verify({ ...trust, token, now: exp, leeway: 0 }), (e) => e.code === 'expired');
});
