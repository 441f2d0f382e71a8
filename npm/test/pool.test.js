// verifyAsync, authorizeAsync and the signing async forms in Node: the same
// answers as the sync API, computed on worker threads so the event loop
// keeps turning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import {
  issue, delegate, verify, verifyAsync, authorize, authorizeAsync, generateKey, CaptokenError, issueAsync,
  signRevocationList, verifyProof, moduleSha256,
} from '../index.js';
import { createCaptoken } from '../browser.js';
import { createPool } from '../pool.js';

const cjs = createRequire(import.meta.url)('../index.cjs');
const [gw, holder, friend] = [generateKey(), generateKey(), generateKey()];
const caps = [{ actions: ['drive'], resources: ['robot:7'], constraints: { max_purchase: 10 } }];
const root = issue({
  key: gw.privateJwk, issuer: 'https://gw.example', ttl: 300,
  claims: { sub: 'operator-1', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk }, caps },
}).token;
const trust = { jwks: { keys: [gw.publicJwk] }, issuer: 'https://gw.example', audience: 'robot-gateway' };
const chain = delegate({
  ...trust, parent: root, key: holder.privateJwk, ttl: 60,
  claims: { sub: 'friend', aud: 'robot-gateway', cnf: { jwk: friend.publicJwk }, caps },
}).token;
const now = Math.floor(Date.now() / 1000);

test('verifyAsync answers what verify answers, through both entries', async () => {
  const expected = verify({ ...trust, token: chain, now });
  assert.deepEqual(await verifyAsync({ ...trust, token: chain, now }), expected);
  assert.deepEqual(await cjs.verifyAsync({ ...trust, token: chain, now }), expected);
  const request = { action: 'drive', resource: 'robot:7', context: { purchase_amount: 3 } };
  assert.deepEqual(await authorizeAsync({ ...trust, token: chain, now, request }), authorize({ ...trust, token: chain, now, request }));
});

test('refusals keep their code, path and class across the thread', async () => {
  const request = { action: 'drive', resource: 'robot:7', context: { purchase_amount: 'lots' } };
  let sync;
  try {
    authorize({ ...trust, token: chain, now, request });
  } catch (err) {
    sync = err;
  }
  await assert.rejects(authorizeAsync({ ...trust, token: chain, now, request }), (err) => {
    assert.ok(err instanceof CaptokenError);
    assert.equal(err.code, sync.code);
    assert.equal(err.path, sync.path);
    assert.equal(err.message, sync.message);
    return true;
  });
  const tampered = { ...trust, token: `${chain}x`, now };
  const code = (() => { try { verify(tampered); } catch (err) { return err.code; } return 'accepted'; })();
  assert.notEqual(code, 'accepted');
  await assert.rejects(verifyAsync(tampered), (err) => err instanceof CaptokenError && err.code === code);
  await assert.rejects(verifyAsync({ ...trust, token: chain, now, nope: 1 }), (err) => err.code === 'bad_request');
});

test('many in flight: all answered, and the event loop turns meanwhile', async () => {
  // Submit from the loop's check phase: the next phase is the timers', so a
  // timer due by the time the 400 are submitted fires before any worker's
  // answer is read (answers are read in the poll phase). Submitted from the
  // poll phase, answers already queued could be read in that same phase,
  // before the timer: a race, not a finding. Answered on this thread, the
  // results would still resolve before any timer fires.
  await new Promise((resolve) => setImmediate(resolve));
  let turned = false;
  const timer = new Promise((resolve) => setTimeout(() => { turned = true; resolve(); }, 0));
  let turnedBeforeLast = null;
  const inflight = Array.from({ length: 400 }, () => verifyAsync({ ...trust, token: chain, now }));
  inflight[inflight.length - 1].then(() => { turnedBeforeLast = turned; });
  const results = await Promise.all(inflight);
  await timer;
  assert.equal(results.length, 400);
  for (const r of results) assert.equal(r.claims.sub, 'friend');
  assert.equal(turnedBeforeLast, true, 'a timer fired while the verifications ran: they were off the event loop');
});

test('with a key (a handle or a JWK), the operations that sign go to the worker pool too', async () => {
  // The same API over a pool whose calls are recorded: which operations
  // leave the calling thread is then a fact, not a race with a timer.
  const pool = createPool(new URL('../worker.js', import.meta.url));
  const offloaded = [];
  const api = createCaptoken({
    sha256: moduleSha256,
    bytes: readFileSync(new URL('../dist/captoken_bg.wasm', import.meta.url)),
    randomBytes: (n) => randomFillSync(new Uint8Array(n)),
    now: () => now,
    offload: (op, request) => {
      offloaded.push(op);
      return pool.call(op, request);
    },
  });
  try {
    const claims = { sub: 'operator-2', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk }, caps };
    const issued = await Promise.all(Array.from({ length: 20 },
      (_, i) => api.issueAsync({ key: i % 2 ? gw.handle : gw.privateJwk, issuer: 'https://gw.example', claims, now })));
    assert.equal(new Set(issued.map((t) => t.jti)).size, 20, 'each with its own jti');
    for (const t of issued.slice(0, 4)) assert.equal(verify({ ...trust, token: t.token, now }).claims.sub, 'operator-2');
    const child = await api.delegateAsync({ ...trust, parent: root, key: holder.handle, ttl: 60, now,
      claims: { sub: 'friend', aud: 'robot-gateway', cnf: { jwk: friend.publicJwk }, caps } });
    assert.equal(verify({ ...trust, token: child.token, now }).depth, 1);
    const { proof } = await api.createProofAsync({ key: holder.handle, token: root, audience: 'svc', now });
    assert.equal(verifyProof({ ...trust, token: root, proof, popAudience: 'svc', now }).sub, 'operator-1');
    const list = { iss: 'https://gw.example', seq: 1, iat: now, next_update: now + 60, revoked: [] };
    assert.equal((await api.signRevocationListAsync({ key: gw.handle, list })).list, signRevocationList({ key: gw.handle, list }).list);
    assert.deepEqual(offloaded, [...Array(20).fill('issue'), 'delegate', 'pop_create', 'revocation_list_sign']);
    // A refusal crosses the thread with its code.
    const refused = { key: holder.handle, issuer: 'https://gw.example', claims: { ...claims, caps: [] }, now };
    await assert.rejects(api.issueAsync(refused), (err) => err instanceof CaptokenError && err.code === issueCode(refused));
  } finally {
    await pool.close();
  }
  // The package's own entries, ESM and CommonJS: a handle made through one
  // signs through the other.
  const claims = { sub: 'operator-3', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk }, caps };
  const viaEsm = await issueAsync({ key: gw.handle, issuer: 'https://gw.example', claims, now });
  const viaCjs = await cjs.issueAsync({ key: gw.handle, issuer: 'https://gw.example', claims, now });
  for (const t of [viaEsm, viaCjs]) assert.equal(verify({ ...trust, token: t.token, now }).header.kid, gw.kid);
});

function issueCode(options) {
  try {
    issue(options);
  } catch (err) {
    return err.code;
  }
  return 'accepted';
}
