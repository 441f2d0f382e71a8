// What a jose user reaches for: verification keys in every form Node and
// browsers hold them, mixed key sets, durations as strings, several
// issuers and audiences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { inspect } from 'node:util';
import {
  issue, verify, generateKey, importKey, toPublicJwk, CaptokenError, signRevocationList, delegate, createProof, verifyProof,
} from '../index.js';

// An issuer key made by Node, as a service that already has one holds it.
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const privateJwk = privateKey.export({ format: 'jwk' });
const pem = publicKey.export({ type: 'spki', format: 'pem' });
const holder = generateKey();
const NOW = 1_700_000_000;

const { token, exp } = issue({
  key: privateJwk, issuer: 'https://gw.example', now: NOW, ttl: '2m',
  claims: { sub: 'operator-1', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk }, caps: [{ actions: ['read'], resources: ['*'] }] },
});
const trust = { token, issuer: 'https://gw.example', audience: 'robot-gateway', now: NOW + 1 };
const refused = (code) => (e) => e instanceof CaptokenError && e.code === code;

test('a ttl as a string is seconds: 2m is 120', () => {
  assert.equal(exp, NOW + 120);
});

test('verification keys as a JWKS, a JWK, a PEM block, a KeyObject, or a list of them', async () => {
  const jwk = publicKey.export({ format: 'jwk' });
  for (const jwks of [{ keys: [jwk] }, jwk, pem, publicKey, [pem], [holder.publicJwk, publicKey]]) {
    assert.equal(verify({ ...trust, jwks }).claims.sub, 'operator-1');
  }
  // A WebCrypto CryptoKey exports asynchronously, through toPublicJwk.
  const cryptoKey = await webcrypto.subtle.importKey('spki', publicKey.export({ type: 'spki', format: 'der' }),
    { name: 'Ed25519' }, true, ['verify']);
  assert.throws(() => verify({ ...trust, jwks: cryptoKey }), refused('bad_request'));
  assert.deepEqual(await toPublicJwk(cryptoKey), { kty: 'OKP', crv: 'Ed25519', x: jwk.x });
  assert.equal(verify({ ...trust, jwks: await toPublicJwk(cryptoKey) }).claims.sub, 'operator-1');
  assert.deepEqual(await toPublicJwk(pem), { kty: 'OKP', crv: 'Ed25519', x: jwk.x });
});

test('keys that are not public Ed25519 keys are refused with the module\'s codes', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  assert.throws(() => verify({ ...trust, jwks: rsa.publicKey.export({ type: 'spki', format: 'pem' }) }), refused('unsupported_key_type'));
  assert.throws(() => verify({ ...trust, jwks: rsa.publicKey }), refused('unsupported_key_type'));
  assert.throws(() => verify({ ...trust, jwks: privateKey }), refused('private_key_in_public_set'));
  assert.throws(() => verify({ ...trust, jwks: '-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n-----END PUBLIC KEY-----' }), refused('bad_key'));
  assert.throws(() => verify({ ...trust, jwks: 'ssh-ed25519 AAAA' }), refused('bad_key'));
  // Someone else's key: the token is not theirs.
  assert.throws(() => verify({ ...trust, jwks: generateKey().publicJwk }), refused('unknown_kid'));
});

test('a JWKS that also holds RSA and EC keys verifies with its Ed25519 key; one with a secret is refused', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  const jwks = { keys: [{ ...rsa, kid: 'rsa-1', use: 'sig' }, { ...ec, kid: 'ec-1' }, publicKey.export({ format: 'jwk' })] };
  assert.equal(verify({ ...trust, jwks }).claims.sub, 'operator-1');
  const leaked = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  assert.throws(() => verify({ ...trust, jwks: { keys: [...jwks.keys, leaked] } }), refused('private_key_in_public_set'));
});

test('leeway as seconds or a duration string', () => {
  const late = { ...trust, jwks: pem, now: exp + 100 };
  assert.throws(() => verify(late), refused('expired'), 'beyond the default leeway');
  assert.equal(verify({ ...late, leeway: '2m' }).claims.sub, 'operator-1');
  assert.equal(verify({ ...late, leeway: '101 seconds' }).claims.sub, 'operator-1');
  assert.equal(verify({ ...late, leeway: 120 }).claims.sub, 'operator-1');
  assert.throws(() => verify({ ...late, leeway: '100s' }), refused('expired'));
  assert.throws(() => verify({ ...late, leeway: '30 parsecs' }), refused('bad_request'));
  assert.throws(() => verify({ ...late, leeway: '-5s' }), refused('bad_request'));
  assert.throws(() => verify({ ...late, leeway: '1.5m' }), refused('bad_request'));
  // The module still bounds it.
  assert.throws(() => verify({ ...late, leeway: '1d' }), refused('bad_request'));
});

test('issuer and audience as lists: any one will do', () => {
  const names = { ...trust, jwks: pem, issuer: ['https://old.example', 'https://gw.example'], audience: ['console', 'robot-gateway'] };
  assert.equal(verify(names).claims.iss, 'https://gw.example');
  assert.throws(() => verify({ ...names, audience: ['console'] }), refused('bad_audience'));
  assert.throws(() => verify({ ...names, issuer: [] }), refused('bad_request'));
});

test('decodeUnverified reads a token without verifying it, by the module\'s rules', async () => {
  const { decodeUnverified } = await import('../index.js');
  const decoded = decodeUnverified(token);
  assert.equal(decoded.claims.sub, 'operator-1');
  assert.equal(decoded.header.alg, 'EdDSA');
  assert.deepEqual(decoded.chain, []);
  // A forged signature still decodes: nothing in the answer is trusted.
  const forged = `${token.slice(0, token.lastIndexOf('.'))}.${'A'.repeat(86)}`;
  assert.equal(decodeUnverified(forged).claims.sub, 'operator-1');
  assert.throws(() => verify({ ...trust, jwks: pem, token: forged }), refused('bad_signature'));
  assert.throws(() => decodeUnverified('not.a.token'), (e) => e instanceof CaptokenError && e.code === 'bad_base64');
});

test('a key handle signs what its private JWK signs, in every operation that signs', () => {
  const pair = importKey(privateJwk);
  assert.equal(pair.handle.kid, pair.kid);
  assert.deepEqual(pair.handle.publicJwk, pair.publicJwk);
  // A revocation list has no random member: the same list, byte for byte.
  const list = { iss: 'https://gw.example', seq: 3, iat: NOW, next_update: NOW + 60, revoked: [] };
  assert.equal(signRevocationList({ key: pair.handle, list }).list, signRevocationList({ key: privateJwk, list }).list);
  // Tokens carry a random `jti`: they verify, under the same `kid`.
  const issued = issue({ key: pair.handle, issuer: 'https://gw.example', now: NOW, ttl: 60,
    claims: { sub: 'operator-1', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk }, caps: [{ actions: ['read'], resources: ['*'] }] } });
  assert.equal(issued.kid, pair.kid);
  assert.equal(verify({ ...trust, token: issued.token, jwks: publicKey }).claims.sub, 'operator-1');
  const child = delegate({ parent: issued.token, key: holder.handle, jwks: publicKey, issuer: 'https://gw.example',
    audience: 'robot-gateway', now: NOW + 1, ttl: 30,
    claims: { sub: 'bot', aud: 'robot-gateway', cnf: { jwk: generateKey().publicJwk }, caps: [{ actions: ['read'], resources: ['doc:1'] }] } });
  assert.equal(verify({ ...trust, token: child.token, jwks: publicKey }).claims.sub, 'bot');
  const { proof } = createProof({ key: holder.handle, token: issued.token, audience: 'svc', now: NOW + 2 });
  assert.equal(verifyProof({ ...trust, token: issued.token, jwks: publicKey, proof, popAudience: 'svc', now: NOW + 2 }).token_id,
    verify({ ...trust, token: issued.token, jwks: publicKey }).id);
});

test('a key handle never shows its private key, and nothing else passes for one', () => {
  const pair = generateKey();
  const d = pair.privateJwk.d;
  assert.ok(Object.isFrozen(pair.handle));
  for (const shown of [JSON.stringify(pair.handle), inspect(pair.handle, { showHidden: true, depth: 5 }), String(Object.values(pair.handle))]) {
    assert.ok(!shown.includes(d), shown);
    assert.ok(!shown.includes('ckh1.'), shown);
  }
  const claims = { sub: 'a', aud: 'b', cnf: { jwk: holder.publicJwk }, caps: [{ actions: ['read'], resources: ['*'] }] };
  // A copy of a handle is a plain object, not a key; nor is its text a JWK.
  assert.throws(() => issue({ key: { ...pair.handle }, issuer: 'i', claims }), refused('unsupported_key_type'));
  assert.throws(() => issue({ key: 'ckh1.AAAA', issuer: 'i', claims }), refused('bad_key'));
});
