// verifyAsync and authorizeAsync in Node: the same answers as verify and
// authorize, computed on worker threads so the event loop keeps turning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { issue, delegate, verify, verifyAsync, authorize, authorizeAsync, generateKey, CaptokenError } from '../index.js';

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
