import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import {
  generateKey, issue, verify, authorize, delegate, scopeMeet, evaluatePolicy, explainPolicy, checkPolicy, info,
  CaptokenError, moduleSha256, ABI_VERSION, callOperation, signRevocationList, verifyRevocationList, createProof,
  verifyProof, appendAudit, verifyAuditChain, refresh, webCryptoSigner, issueAsync, delegateAsync, createProofAsync,
  signRevocationListAsync, importKey, jwks as toJwks, engineStats, createCaptoken,
  signStatusList, verifyStatusList, signStatusListAsync,
} from '../index.js';
import { webcrypto } from 'node:crypto';

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
  assert.deepEqual(info().ops.map((op) => op.name), ['info', 'keygen', 'issue', 'verify', 'authorize', 'delegate', 'scope_meet', 'policy_check', 'policy_evaluate', 'policy_explain',
    'revocation_list_sign', 'revocation_list_verify', 'pop_create', 'pop_verify', 'audit_append', 'audit_verify', 'refresh',
    'attach_signature', 'decode', 'status_list_sign', 'status_list_verify']);
  // Each with the id the raw ABI is called with.
  assert.deepEqual(info().ops.map((op) => op.id), [...Array(21).keys()]);
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

// Change one signature character well before the end (the last two encode
// the top byte of S, which is often 0x00, so rewriting them to `AA` can
// leave the token unchanged).
function flipSignatureChar(token) {
  const i = token.length - 10;
  const c = token[i] === 'A' ? 'B' : 'A';
  const out = token.slice(0, i) + c + token.slice(i + 1);
  assert.notEqual(out, token);
  return out;
}

test('rejections are CaptokenErrors with stable codes', () => {
  const now = 1_700_000_000;
  const { token } = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims, now, ttl: 60 });
  const cases = [
    [{ audience: 'elsewhere' }, 'bad_audience'],
    [{ issuer: 'someone-else' }, 'bad_issuer'],
    [{ now: now + 60 }, 'expired'],
    [{ jwks: { keys: [generateKey().publicJwk] } }, 'unknown_kid'],
    [{ jwks: { keys: [issuerKey.privateJwk] } }, 'private_key_in_public_set'],
    [{ token: flipSignatureChar(token) }, 'bad_signature'],
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

test('misuse from JS is a CaptokenError too, never a bare TypeError', async () => {
  const isCode = (code) => (err) => err instanceof CaptokenError && err.code === code;
  for (const bad of [null, 'token', 42, ['token']]) {
    assert.throws(() => verify(bad), isCode('bad_request'), String(bad));
  }
  // Not JSON: a BigInt, a cycle.
  assert.throws(() => issue({ key: issuerKey.privateJwk, issuer: 'gw', claims: { ...claims, n: 1n } }), isCode('bad_request'));
  const cyclic = { ...claims };
  cyclic.self = cyclic;
  assert.throws(() => issue({ key: issuerKey.privateJwk, issuer: 'gw', claims: cyclic }), isCode('bad_request'));
  // A WebCrypto signer needs a key pair, of Ed25519.
  await assert.rejects(webCryptoSigner({}), isCode('bad_key'));
  await assert.rejects(webCryptoSigner(null), isCode('bad_key'));
  const ecdsa = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  await assert.rejects(webCryptoSigner(ecdsa), isCode('bad_key'));
  // A signer that fails is `signing_failed`, whatever it threw.
  const failing = { publicJwk: issuerKey.publicJwk, sign: async () => { throw new Error('hsm offline'); } };
  await assert.rejects(issueAsync({ signer: failing, issuer: 'gw', claims }), (err) =>
    isCode('signing_failed')(err) && err.cause instanceof Error && err.cause.message === 'hsm offline');
});

test('authorize and delegate through the JS API', () => {
  const now = 1_700_000_000;
  const caps = [{ actions: ['drive', 'stop'], resources: ['robot:*'], constraints: { max_purchase: 50 } }];
  const { token } = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims: { ...claims, caps }, now, ttl: 120 });
  const trust = { jwks, issuer: 'gw', audience: 'robot-gateway', now: now + 1, leeway: 0 };
  const ok = authorize({ ...trust, token, request: { action: 'stop', resource: 'robot:9', context: { purchase_amount: 50 } } });
  assert.equal(ok.cap_index, 0);
  assert.throws(
    () => authorize({ ...trust, token, request: { action: 'stop', resource: 'robot:9', context: { purchase_amount: 51 } } }),
    (e) => e.code === 'constraint_violated',
  );

  const friend = generateKey();
  const narrower = scopeMeet(caps, [{ actions: ['drive', 'fly'], resources: ['robot:7'] }]);
  assert.deepEqual(narrower, [{ actions: ['drive'], resources: ['robot:7'], constraints: { max_purchase: 50 } }]);
  const child = delegate({ ...trust, parent: token, key: holder.privateJwk, ttl: 60,
    claims: { sub: 'friend', aud: 'robot-gateway', cnf: { jwk: friend.publicJwk }, caps: narrower } });
  assert.equal(child.depth, 1);
  const v = verify({ ...trust, token: child.token });
  assert.throws(() => verify({ ...trust, token: child.token, revoked: [v.chain[0].jti] }), (e) => e.code === 'revoked');
  assert.equal(v.depth, 1);
  assert.equal(v.chain[0].sub, 'operator-1');
  assert.throws(
    () => authorize({ ...trust, token: child.token, request: { action: 'stop', resource: 'robot:7' } }),
    (e) => e.code === 'not_granted',
  );
  assert.throws(
    () => delegate({ ...trust, parent: token, key: holder.privateJwk, ttl: 60,
      claims: { sub: 'friend', aud: 'robot-gateway', cnf: { jwk: friend.publicJwk }, caps: [{ actions: ['*'], resources: ['robot:*'] }] } }),
    (e) => e.code === 'delegation_escalation' && e.audit.event === 'agent.delegation.attempted'
      && e.audit.data.parent_id === v.chain[0].id && e.audit.data.code === 'delegation_escalation',
  );
  assert.equal(child.audit.event, 'agent.capability.granted');
  assert.equal(child.audit.data.parent_id, v.chain[0].id);
  assert.equal(child.audit.data.id, child.id);
  assert.throws(
    () => delegate({ ...trust, parent: token, key: friend.privateJwk,
      claims: { sub: 'x', aud: 'robot-gateway', cnf: { jwk: friend.publicJwk }, caps: narrower } }),
    (e) => e.code === 'delegation_not_holder',
  );
});

// Operators may drive any robot for two minutes, without personal data;
// nobody touches robot:0.
const policy = {
  version: 1,
  rules: [
    { id: 'ops', effect: 'allow', subjects: { attributes: { role: ['operator'] } },
      capabilities: [{ actions: ['drive'], resources: ['robot:*'] }],
      required_constraints: { pii_access: false }, max_ttl: 120 },
    { id: 'not-robot-0', effect: 'deny', subjects: { patterns: ['*'] },
      capabilities: [{ actions: ['*'], resources: ['robot:0'] }] },
  ],
};

test('policy: grant with required constraints, deny by rule, explain agrees', () => {
  assert.equal(checkPolicy(policy).rules, 2);
  const request = { subject: { id: 'op-1', attributes: { role: 'operator' } }, capabilities: [{ actions: ['drive'], resources: ['robot:7'] }], ttl: 600 };
  const granted = evaluatePolicy(policy, request);
  assert.equal(granted.decision, 'granted');
  assert.equal(granted.ttl, 120);
  assert.deepEqual(granted.capabilities, [{ actions: ['drive'], resources: ['robot:7'], constraints: { pii_access: false } }]);
  const denied = evaluatePolicy(policy, { ...request, capabilities: [{ actions: ['drive'], resources: ['robot:0'] }] });
  assert.deepEqual([denied.decision, denied.code, denied.rule], ['denied', 'denied_by_rule', 'not-robot-0']);
  assert.deepEqual(explainPolicy(policy, request).decision, granted);
  assert.throws(() => checkPolicy({ ...policy, rules: [{ ...policy.rules[0], efect: 'allow' }] }), (e) => e.code === 'bad_policy');
});

test('issue through a policy signs what it grants, in one call, here or with a signer', async () => {
  const now = 1_700_000_000;
  const asked = { ...claims, caps: [{ actions: ['drive'], resources: ['robot:7'] }] };
  const attributes = { role: 'operator' };
  const out = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims: asked, now, policy, attributes });
  assert.equal(out.decision, 'granted');
  assert.equal(out.ttl, 120, 'without a ttl, as long as the policy allows');
  assert.equal(out.exp, now + 120);
  assert.deepEqual(out.matched_rules, ['ops']);
  const v = verify({ token: out.token, jwks, issuer: 'gw', audience: 'robot-gateway', now: now + 1 });
  assert.deepEqual(v.claims.caps, out.capabilities);
  assert.deepEqual(out.capabilities, [{ actions: ['drive'], resources: ['robot:7'], constraints: { pii_access: false } }]);

  const refused = { ...asked, caps: [{ actions: ['drive'], resources: ['robot:0'] }] };
  const denied = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims: refused, now, policy, attributes });
  assert.deepEqual([denied.decision, denied.code, denied.rule, denied.token], ['denied', 'denied_by_rule', 'not-robot-0', undefined]);

  // With a signer: the same token, and a denial asks it for nothing.
  const signer = { publicJwk: issuerKey.publicJwk, asked: 0, sign(bytes) { this.asked += 1; return webcrypto.subtle.sign('Ed25519', this.key, bytes); } };
  signer.key = await webcrypto.subtle.importKey('jwk', { ...issuerKey.privateJwk, key_ops: ['sign'] }, 'Ed25519', false, ['sign']);
  const entropyFree = (o) => ({ ...o, token: undefined, jti: undefined, audit: undefined });
  const viaSigner = await issueAsync({ signer, issuer: 'gw', claims: asked, now, policy, attributes });
  assert.deepEqual(entropyFree(viaSigner), entropyFree(out));
  assert.equal(verify({ token: viaSigner.token, jwks, issuer: 'gw', audience: 'robot-gateway', now: now + 1 }).claims.sub, 'operator-1');
  assert.deepEqual(await issueAsync({ signer, issuer: 'gw', claims: refused, now, policy, attributes }), denied);
  assert.equal(signer.asked, 1);
  // The policy's options mean nothing without a policy.
  assert.throws(() => issue({ key: issuerKey.privateJwk, issuer: 'gw', claims, now, attributes }), (e) => e.code === 'bad_request');
});

test('a bearer token: only where a rule allows one, short-lived, never proven, delegated or refreshed', () => {
  const now = 1_700_000_000;
  const trust = { jwks, issuer: 'gw', audience: 'robot-gateway', now: now + 1 };
  const bearerPolicy = { ...policy, rules: [{ ...policy.rules[0], bearer: { max_ttl: 60 } }, policy.rules[1]] };
  const { cnf, ...unbound } = claims;
  const asked = { ...unbound, caps: [{ actions: ['drive'], resources: ['robot:7'] }] };
  const attributes = { role: 'operator' };
  // The rule allows it: capped at its bearer lifetime, and verify says so.
  const out = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims: asked, now, policy: bearerPolicy, attributes, ttl: 3600, bearer: true });
  assert.equal(out.decision, 'granted');
  assert.equal(out.ttl, 60);
  const v = verify({ token: out.token, ...trust });
  assert.equal(v.bearer, true);
  assert.equal(v.claims.cnf, undefined);
  assert.equal(verify({ token: issue({ key: issuerKey.privateJwk, issuer: 'gw', claims, now }).token, ...trust }).bearer, false);
  // Without the rule's consent, or without a policy: refused.
  const denied = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims: asked, now, policy, attributes, bearer: true });
  assert.deepEqual([denied.decision, denied.code, denied.token], ['denied', 'bearer_not_allowed', undefined]);
  // Asked for by name: a forgotten key is a missing key, never a bearer token.
  assert.throws(() => issue({ key: issuerKey.privateJwk, issuer: 'gw', claims: asked, now, policy: bearerPolicy, attributes }), (e) => e.code === 'bad_claims');
  assert.equal(explainPolicy(policy, { subject: { id: 'op-1', attributes }, capabilities: asked.caps, bearer: true }).rules[0].bearer_refused, true);
  assert.throws(() => issue({ key: issuerKey.privateJwk, issuer: 'gw', claims: asked, now }), (e) => e.code === 'bad_claims');
  // No key to prove, hand on or refresh with.
  const { proof } = createProof({ key: holder.privateJwk, token: out.token, audience: 'svc', now: now + 1 });
  assert.throws(() => verifyProof({ token: out.token, proof, ...trust, popAudience: 'svc' }), { code: 'bearer_token' });
  assert.throws(() => delegate({ parent: out.token, ...trust, key: holder.privateJwk, claims: { ...claims, caps: asked.caps } }), { code: 'bearer_token' });
  assert.throws(() => refresh({ token: out.token, ...trust, key: issuerKey.privateJwk, policy: bearerPolicy, attributes }), { code: 'bearer_token' });
});

test('a signed revocation list revokes offline, and a stale one must be allowed', () => {
  const now = 1_700_000_000;
  const trust = { jwks, issuer: 'gw', audience: 'robot-gateway', now: now + 1 };
  const t = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims, now, ttl: 300 });
  const { list } = signRevocationList({
    key: issuerKey.privateJwk,
    list: { iss: 'gw', seq: 2, iat: now, next_update: now + 60, revoked: [{ jti: t.jti, revoked_at: now }] },
  });
  const checked = verifyRevocationList({ list, jwks, issuer: 'gw', now: now + 1 });
  assert.equal(checked.status, 'fresh');
  assert.deepEqual(checked.revoked.map((e) => e.jti), [t.jti]);
  assert.equal(verifyRevocationList({ list, jwks, issuer: 'gw', now: now + 60 }).status, 'stale');
  assert.throws(() => verifyRevocationList({ list, jwks, issuer: 'gw', lastSeenSeq: 3, now }), { code: 'revocation_list_rollback' });
  assert.throws(() => verify({ token: t.token, ...trust, revocationList: list }), { code: 'revoked' });
  const empty = signRevocationList({ key: issuerKey.privateJwk, list: { iss: 'gw', seq: 3, iat: now, next_update: now + 60, revoked: [] } }).list;
  assert.equal(verify({ token: t.token, ...trust, revocationList: empty }).claims.jti, t.jti);
  assert.throws(() => verify({ token: t.token, ...trust, now: now + 61, revocationList: empty }), { code: 'revocation_list_stale' });
  verify({ token: t.token, ...trust, now: now + 61, revocationList: empty, maxStale: 60 });
  assert.throws(() => verify({ token: t.token, ...trust, now: now + 121, revocationList: empty, maxStale: 60 }), { code: 'revocation_list_stale' });
  // An older list than one already accepted could un-revoke: refused.
  assert.throws(() => verify({ token: t.token, ...trust, revocationList: list, lastSeenSeq: 3 }), { code: 'revocation_list_rollback' });
});

test('a status list says which of a million tokens are revoked, offline', async () => {
  const now = 1_700_000_000;
  const uri = 'https://gateway.example/v1/status-lists/0';
  const revoked = [0, 77, 999_999];
  const { list, kid } = signStatusList({
    key: issuerKey.privateJwk,
    list: { iss: 'gw', sub: uri, iat: now, exp: now + 300, ttl: 60, size: 1_000_000, revoked },
  });
  assert.equal(kid, issuerKey.kid);
  const check = (idx, at = now + 1) => verifyStatusList({ list, jwks, issuer: 'gw', uri, idx, now: at });
  for (const idx of revoked) assert.equal(check(idx).revoked, true);
  for (const idx of [1, 76, 78, 999_998]) assert.equal(check(idx).revoked, false);
  const whole = verifyStatusList({ list, jwks, issuer: 'gw', uri, now: now + 1 });
  assert.deepEqual([whole.status, whole.size, whole.revoked_count, whole.revoked, whole.ttl], ['fresh', 1_000_000, 3, null, 60]);
  assert.equal(check(0, now + 300).status, 'stale');
  assert.throws(() => check(1_000_000), { code: 'status_index_out_of_range' });
  assert.throws(() => verifyStatusList({ list, jwks, issuer: 'gw', uri: uri + 'x', now }), { code: 'wrong_status_list' });
  // A token that names its place: verify refuses it when its bit is set.
  const placed = (idx) => issue({ key: issuerKey.privateJwk, issuer: 'gw', now, ttl: 300,
    claims: { ...claims, status: { status_list: { idx, uri } } } }).token;
  const trust = { jwks, issuer: 'gw', audience: 'robot-gateway', now: now + 1, statusList: list };
  assert.throws(() => verify({ token: placed(77), ...trust }), { code: 'revoked' });
  assert.deepEqual(verify({ token: placed(78), ...trust }).claims.status, { status_list: { idx: 78, uri } });
  const idList = signRevocationList({ key: issuerKey.privateJwk, list: { iss: 'gw', seq: 1, iat: now, next_update: now + 60, revoked: [] } }).list;
  assert.throws(() => verify({ token: placed(78), jwks, issuer: 'gw', audience: 'robot-gateway', now: now + 1, revocationList: idList }),
    { code: 'status_list_required' });
  // Signed outside the module, as an HSM would.
  const pair = await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  const issuerSigner = await webCryptoSigner(pair);
  const keys = { keys: [issuerSigner.publicJwk] };
  const outside = await signStatusListAsync({ signer: issuerSigner,
    list: { iss: 'gw', sub: uri, iat: now, exp: now + 300, size: 8, revoked: [3] } });
  assert.equal(verifyStatusList({ list: outside.list, jwks: keys, issuer: 'gw', uri, idx: 3, now }).revoked, true);
});

test('a proof of possession verifies once per recorded replay key', () => {
  const t = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims });
  const trust = { jwks, issuer: 'gw', audience: 'robot-gateway' };
  const { proof } = createProof({ key: holder.privateJwk, token: t.token, audience: 'svc', nonce: 'abc' });
  const ok = verifyProof({ token: t.token, proof, ...trust, popAudience: 'svc', nonce: 'abc' });
  assert.equal(ok.token_jti, t.jti);
  assert.match(ok.replay.key, /^pop:/);
  assert.throws(() => verifyProof({ token: t.token, proof, ...trust, popAudience: 'svc', nonce: 'abc', seen: [ok.replay.key] }), { code: 'replayed' });
  assert.throws(() => verifyProof({ token: t.token, proof, ...trust, popAudience: 'other', nonce: 'abc' }), { code: 'pop_bad_audience' });
  const forged = createProof({ key: issuerKey.privateJwk, token: t.token, audience: 'svc', nonce: 'abc' }).proof;
  assert.throws(() => verifyProof({ token: t.token, proof: forged, ...trust, popAudience: 'svc' }), { code: 'pop_key_mismatch' });
  // The same check inside verify, in one module call: the same replay key.
  const both = verify({ token: t.token, ...trust, proof: { proof, audience: 'svc', nonce: 'abc' } });
  assert.equal(both.id, t.jti);
  assert.deepEqual(both.proof.replay, ok.replay);
  assert.throws(() => verify({ token: t.token, ...trust, proof: { proof, audience: 'svc', nonce: 'abc', seen: [ok.replay.key] } }), { code: 'replayed' });
  assert.throws(() => verify({ token: t.token, ...trust, proof: { proof: forged, audience: 'svc' } }), { code: 'pop_key_mismatch' });
});

test('an audit chain built here verifies, and an edit is found', () => {
  const first = appendAudit({ event: 'token_issued', data: { jti: 'j1' } });
  const second = appendAudit({ last: first, event: 'agent.delegation.attempted', data: { parent_jti: 'j1', sub: 's', code: 'delegation_escalation' } });
  assert.equal(second.prev, first.hash);
  assert.deepEqual(verifyAuditChain([first, second], second.hash).count, 2);
  assert.throws(() => verifyAuditChain([first, { ...second, time: second.time + 1 }]), { code: 'audit_bad_hash' });
  assert.throws(() => verifyAuditChain([first], second.hash), { code: 'audit_head_mismatch' });
  assert.throws(() => appendAudit({ event: 'token_issued', data: { amount: 1.5 } }), { code: 'audit_bad_record' });
});

test('refresh narrows to what the policy grants now', () => {
  const t = issue({ key: issuerKey.privateJwk, issuer: 'gw', claims });
  const policy = { version: 1, max_ttl: 120, rules: [{ id: 'r', effect: 'allow', subjects: { ids: ['operator-1'] },
    capabilities: [{ actions: ['drive'], resources: ['robot:*'] }], required_constraints: { rooms: ['lab'] } }] };
  const next = refresh({ token: t.token, jwks, issuer: 'gw', audience: 'robot-gateway', key: issuerKey.privateJwk, policy, ttl: 3600 });
  assert.equal(next.replaces, t.jti);
  assert.equal(next.exp - next.iat, 120);
  assert.deepEqual(next.caps[0].constraints, { max_purchase: 0, pii_access: false, rooms: ['lab'] });
});

test('a non-extractable WebCrypto key signs without entering the module', async () => {
  const pair = await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  const issuerSigner = await webCryptoSigner(pair);
  const keys = { keys: [issuerSigner.publicJwk] };
  const trust = { jwks: keys, issuer: 'gw', audience: 'robot-gateway' };
  const holderPair = await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  const holderSigner = await webCryptoSigner(holderPair);
  const t = await issueAsync({ signer: issuerSigner, issuer: 'gw', claims: { ...claims, cnf: { jwk: holderSigner.publicJwk } } });
  assert.equal(verify({ token: t.token, ...trust }).claims.jti, t.jti);
  assert.equal(t.audit.event, 'token_issued');
  const child = await delegateAsync({ signer: holderSigner, parent: t.token, ...trust,
    claims: { sub: 'friend', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk }, caps: claims.caps } });
  assert.equal(verify({ token: child.token, ...trust }).id, child.id);
  const { proof } = await createProofAsync({ signer: holderSigner, token: t.token, audience: 'svc' });
  assert.equal(verifyProof({ proof, token: t.token, ...trust, popAudience: 'svc' }).token_jti, t.jti);
  const { list } = await signRevocationListAsync({ signer: issuerSigner,
    list: { iss: 'gw', seq: 1, iat: 1_700_000_000, next_update: 4_000_000_000, revoked: [] } });
  assert.equal(verifyRevocationList({ list, jwks: keys, issuer: 'gw' }).status, 'fresh');
  // A signer whose signature does not match its public key is caught.
  const liar = { publicJwk: issuerSigner.publicJwk, sign: (bytes) => holderSigner.sign(bytes) };
  await assert.rejects(issueAsync({ signer: liar, issuer: 'gw', claims }), { code: 'bad_signature' });
  // Not the parent's holder: refused before anything is signed.
  let asked = false;
  const stranger = { publicJwk: issuerSigner.publicJwk, sign: (b) => { asked = true; return issuerSigner.sign(b); } };
  await assert.rejects(delegateAsync({ signer: stranger, parent: t.token, ...trust,
    claims: { sub: 'x', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk }, caps: claims.caps } }), { code: 'delegation_not_holder' });
  assert.equal(asked, false);
});

test('an outside signer signs revocation lists far longer than a token', async () => {
  const pair = await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  const signer = await webCryptoSigner(pair);
  const keys = { keys: [signer.publicJwk] };
  for (const n of [200, 5000]) {
    const revoked = Array.from({ length: n }, (_, i) => {
      const id = Buffer.alloc(16, 7);
      id.writeUInt32BE(i);
      return { jti: id.toString('base64url'), revoked_at: 1_700_000_000, reason: 'key lost' };
    });
    const { list } = await signRevocationListAsync({ signer,
      list: { iss: 'gw', seq: n, iat: 1_700_000_000, next_update: 4_000_000_000, revoked } });
    assert.ok(list.length > 16 * 1024, `${n} entries: ${list.length} bytes`);
    const read = verifyRevocationList({ list, jwks: keys, issuer: 'gw', now: 1_700_000_001 });
    assert.equal(read.status, 'fresh');
    assert.equal(read.revoked.length, n);
  }
});

test('a request over 1 MiB never reaches the module, and a large one does not stay resident', () => {
  const before = engineStats();
  // Four million elements: refused by size, before any of it is copied in.
  const huge = Array.from({ length: 4_000_000 }, () => 1);
  assert.throws(() => scopeMeet(huge, []), { code: 'request_too_large' });
  assert.throws(() => callOperation('info', { pad: 'é'.repeat(600_000) }), { code: 'request_too_large' });
  assert.deepEqual(engineStats(), before);
  // Just under the limit is the module's to judge (and it refuses it).
  assert.throws(() => callOperation('info', { pad: 'x'.repeat((1 << 20) - 20) }), { code: 'bad_request' });

  // An instance whose memory grew past its bound is replaced after the call.
  const bytes = readFileSync(new URL('../dist/captoken_bg.wasm', import.meta.url));
  const small = createCaptoken({
    sha256: moduleSha256,
    bytes,
    maxResidentBytes: 2 << 20,
    randomBytes: (n) => new Uint8Array(n).fill(7),
    now: () => 1_700_000_000,
  });
  assert.equal(small.engineStats().instances, 1);
  const wide = { a: [{ actions: ['x'], resources: ['y'], constraints: { big: Array.from({ length: 120_000 }, (_, i) => i) } }], b: [] };
  small.callOperation('scope_meet', wide);
  assert.equal(small.engineStats().memoryBytes, 0, 'dropped after the call');
  assert.deepEqual(small.info().ops[0], { id: 0, name: 'info' });
  assert.equal(small.engineStats().instances, 2);
  assert.ok(small.engineStats().memoryBytes <= 2 << 20);
});

/** A module speaking the raw ABI whose `ct_call` always traps. */
function trappingModule() {
  const leb = (n) => { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return out; };
  const vec = (items) => [...leb(items.length), ...items.flat()];
  const name = (s) => [...leb(s.length), ...new TextEncoder().encode(s)];
  const section = (id, body) => [id, ...leb(body.length), ...body];
  const [i32, fn] = [0x7f, 0x60];
  const types = vec([[fn, 0, 1, i32], [fn, 1, i32, 1, i32], [fn, 2, i32, i32, 0], [fn, 3, i32, i32, i32, 1, i32]]);
  const funcs = vec([[0], [1], [2], [3], [0], [0]]);
  const exports = vec([
    [...name('memory'), 2, 0], [...name('ct_abi_version'), 0, 0], [...name('ct_alloc'), 0, 1],
    [...name('ct_free'), 0, 2], [...name('ct_call'), 0, 3], [...name('ct_out_ptr'), 0, 4], [...name('ct_out_len'), 0, 5],
  ]);
  const body = (code) => [...leb(code.length + 1), 0, ...code];
  const codes = vec([
    body([0x41, 1, 0x0b]), body([0x41, 0x80, 0x08, 0x0b]), body([0x0b]),
    body([0x00, 0x0b]), body([0x41, 0, 0x0b]), body([0x41, 0, 0x0b]),
  ]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, types), ...section(3, funcs), ...section(5, [1, 0, 1]), ...section(7, exports), ...section(10, codes),
  ]);
}

test('an instance that trapped is never called again', () => {
  // A compiled module is the caller's to vouch for (its bytes are out of
  // reach): here it vouches for one that traps.
  const module = new WebAssembly.Module(trappingModule());
  const api = createCaptoken({
    sha256: moduleSha256, module, randomBytes: (n) => new Uint8Array(n), now: () => 0,
  });
  for (let made = 2; made <= 4; made += 1) {
    assert.throws(() => api.info(), { code: 'guest_trap' });
    assert.deepEqual(api.engineStats(), { memoryBytes: 0, instances: made - 1 });
  }
});

test('keys import from a stored private JWK and export as a JWKS', () => {
  const k = generateKey();
  const again = importKey(JSON.parse(JSON.stringify(k.privateJwk)));
  assert.deepEqual(again, k);
  assert.throws(() => importKey({ ...k.privateJwk, x: holder.publicJwk.x }), { code: 'key_pair_mismatch' });
  assert.throws(() => importKey(k.publicJwk), { code: 'bad_key' });
  assert.deepEqual(toJwks(k.publicJwk, holder.publicJwk), { keys: [k.publicJwk, holder.publicJwk] });
  assert.throws(() => toJwks(k.privateJwk), { code: 'private_key_in_public_set' });
  const t = issue({ key: again.privateJwk, issuer: 'gw', claims });
  assert.equal(verify({ token: t.token, jwks: toJwks(k.publicJwk), issuer: 'gw', audience: 'robot-gateway' }).header.kid, k.kid);
});
