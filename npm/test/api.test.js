import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { generateKey, issue, verify, info, CaptokenError, moduleSha256, ABI_VERSION, callOperation } from '../index.js';

const issuerKey = generateKey();
const holder = generateKey();
const jwks = { keys: [issuerKey.publicJwk] };
const claims = {
  sub: 'operator-1',
  aud: 'robot-gateway',
  cnf: { jwk: holder.publicJwk },
  caps: [{ actions: ['drive'], resources: ['robot:7'], constraints: { max_purchase: 0, pii_access: false } }],
};

test('the loaded module is the committed one', () => {
  const bytes = readFileSync(new URL('../dist/captoken_bg.wasm', import.meta.url));
  assert.equal(moduleSha256, createHash('sha256').update(bytes).digest('hex'));
  assert.equal(ABI_VERSION, 1);
  assert.deepEqual(info().ops, ['info', 'keygen', 'issue', 'verify']);
});

test('issue then verify returns the claims', () => {
  const now = 1_700_000_000;
  const t = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims, now, ttl: 60 });
  assert.equal(t.exp, now + 60);
  assert.equal(t.kid, issuerKey.kid);
  const v = verify({ token: t.token, jwks, issuer: 'gw', audience: 'robot-gateway', now: now + 1, leeway: 0 });
  assert.deepEqual(v.header, { alg: 'EdDSA', typ: 'captoken+jwt', kid: issuerKey.kid });
  assert.equal(v.claims.sub, 'operator-1');
  assert.equal(v.claims.jti, t.jti);
  assert.deepEqual(v.claims.caps, claims.caps);
});

test('two tokens never share a jti', () => {
  const a = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims });
  const b = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims });
  assert.notEqual(a.jti, b.jti);
});

test('rejections are CaptokenErrors with stable codes', () => {
  const now = 1_700_000_000;
  const { token } = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims, now, ttl: 60 });
  const cases = [
    [{ audience: 'elsewhere' }, 'bad_audience'],
    [{ issuer: 'someone-else' }, 'bad_issuer'],
    [{ now: now + 60 }, 'expired'],
    [{ jwks: { keys: [generateKey().publicJwk] } }, 'unknown_kid'],
    [{ jwks: { keys: [issuerKey.privateJwk] } }, 'private_key_in_public_set'],
    [{ token: token.slice(0, -2) + 'AA' }, 'bad_signature'],
    [{ token: 'a.b' }, 'malformed_token'],
  ];
  for (const [override, code] of cases) {
    const args = { token, jwks, issuer: 'gw', audience: 'robot-gateway', now, leeway: 0, ...override };
    assert.throws(() => verify(args), (err) => err instanceof CaptokenError && err.code === code, code);
  }
});

test('malformed requests are refused, not ignored', () => {
  assert.throws(() => callOperation('verify', { token: 'x', typo: 1 }), (e) => e.code === 'bad_request');
  assert.throws(() => callOperation('nope', {}), (e) => e.code === 'unknown_op');
});
