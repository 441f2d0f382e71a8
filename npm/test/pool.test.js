// verifyAsync and authorizeAsync in Node: the same answers as verify and
// authorize, computed on worker threads so the event loop keeps turning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  issue, delegate, verify, verifyAsync, authorize, authorizeAsync, generateKey, CaptokenError, issueAsync, delegateAsync,
  signRevocationList, signRevocationListAsync, createProofAsync, verifyProof,
} from '../index.js';

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

test('with a key (a handle or a JWK), the operations that sign run off the event loop too', async () => {
  const claims = { sub: 'operator-2', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk }, caps };
  let turned = false;
  const timer = new Promise((resolve) => setTimeout(() => { turned = true; resolve(); }, 0));
  let turnedBeforeLast = null;
  const inflight = Array.from({ length: 200 }, (_, i) => issueAsync({ key: i % 2 ? gw.handle : gw.privateJwk, issuer: 'https://gw.example', claims, now }));
  inflight[inflight.length - 1].then(() => { turnedBeforeLast = turned; });
  const issued = await Promise.all(inflight);
  await timer;
  assert.equal(turnedBeforeLast, true, 'a timer fired while the tokens were signed: they were off the event loop');
  assert.equal(new Set(issued.map((t) => t.jti)).size, 200, 'each with its own jti');
  for (const t of issued.slice(0, 4)) assert.equal(verify({ ...trust, token: t.token, now }).claims.sub, 'operator-2');
  // Through the CommonJS entry, and for delegate, proofs and lists.
  const viaCjs = await cjs.issueAsync({ key: gw.handle, issuer: 'https://gw.example', claims, now });
  assert.equal(verify({ ...trust, token: viaCjs.token, now }).header.kid, gw.kid);
  const child = await delegateAsync({ ...trust, parent: root, key: holder.handle, ttl: 60, now,
    claims: { sub: 'friend', aud: 'robot-gateway', cnf: { jwk: friend.publicJwk }, caps } });
  assert.equal(verify({ ...trust, token: child.token, now }).depth, 1);
  const { proof } = await createProofAsync({ key: holder.handle, token: root, audience: 'svc', now });
  assert.equal(verifyProof({ ...trust, token: root, proof, popAudience: 'svc', now }).sub, 'operator-1');
  const list = { iss: 'https://gw.example', seq: 1, iat: now, next_update: now + 60, revoked: [] };
  assert.equal((await signRevocationListAsync({ key: gw.handle, list })).list, signRevocationList({ key: gw.handle, list }).list);
  // A refusal crosses the thread with its code.
  await assert.rejects(issueAsync({ key: holder.handle, issuer: 'https://gw.example', claims: { ...claims, caps: [] }, now }),
    (err) => err instanceof CaptokenError && err.code === issueCode({ key: holder.handle, issuer: 'https://gw.example', claims: { ...claims, caps: [] }, now }));
});

function issueCode(options) {
  try {
    issue(options);
  } catch (err) {
    return err.code;
  }
  return 'accepted';
}
