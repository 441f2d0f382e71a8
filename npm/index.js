// captoken for Node: the same .wasm the gateway runs, initialized
// synchronously from the file next to this one. The module has no clock and
// no randomness of its own; this wrapper supplies both.
import { readFileSync } from 'node:fs';
import { createHash, getRandomValues } from 'node:crypto';
import { initSync, call, abiVersion } from './dist/captoken.js';

const wasmUrl = new URL('./dist/captoken_bg.wasm', import.meta.url);
const bytes = readFileSync(wasmUrl);
const expected = readFileSync(new URL('./dist/captoken_bg.wasm.sha256', import.meta.url), 'utf8').slice(0, 64);
const actual = createHash('sha256').update(bytes).digest('hex');
if (actual !== expected) {
  throw new Error(`captoken: module digest ${actual} does not match ${expected}`);
}
initSync({ module: bytes });

/** SHA-256 (hex) of the loaded module: the same digest the gateway checks. */
export const moduleSha256 = actual;
/** ABI version of the loaded module. */
export const ABI_VERSION = abiVersion();

/** Every failure carries a stable `code`, the same string the gateway and CLI report. */
export class CaptokenError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'CaptokenError';
    this.code = code;
  }
}

function run(op, request) {
  let text;
  try {
    text = call(op, JSON.stringify(request));
  } catch (err) {
    if (err && typeof err.code === 'string') throw new CaptokenError(err.code, err.message);
    throw err;
  }
  return JSON.parse(text);
}

const b64url = (u8) => Buffer.from(u8).toString('base64url');
const random = (n) => b64url(getRandomValues(new Uint8Array(n)));
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Generate an Ed25519 key: `{ kid, privateJwk, publicJwk }`. */
export function generateKey() {
  const r = run('keygen', { seed: random(32) });
  return { kid: r.kid, privateJwk: r.private_jwk, publicJwk: r.public_jwk };
}

/**
 * Issue a token signed with `key` (a private JWK) as `issuer`.
 * `claims`: `{ sub, aud, cnf: { jwk }, caps: [{ actions, resources, constraints? }], plan_id?, ...extra }`.
 */
export function issue({ key, issuer, claims, ttl = 300, now = nowSeconds() }) {
  return run('issue', { key, issuer, claims, ttl, now, entropy: random(16) });
}

/** Verify `token` against `jwks` of `issuer` for `audience`; returns `{ header, claims }`. */
export function verify({ token, jwks, issuer, audience, now = nowSeconds(), leeway = 30, maxDepth, revoked }) {
  return run('verify', { token, jwks, issuer, audience, now, leeway, max_depth: maxDepth, revoked });
}

/**
 * Verify `token` (or a delegation chain) and authorize `request`
 * (`{ action, resource, context? }`); throws a CaptokenError with the code
 * (`not_granted`, `constraint_violated`, ...) and `path` when refused.
 */
export function authorize({ token, jwks, issuer, audience, request, now = nowSeconds(), leeway = 30, maxDepth, revoked }) {
  return run('authorize', { token, jwks, issuer, audience, request, now, leeway, max_depth: maxDepth, revoked });
}

/**
 * Delegate `parent` (a token or chain you hold, `key` being your private JWK
 * bound in it) to a new holder; returns the new chain in `token`.
 */
export function delegate({ parent, jwks, issuer, audience, key, claims, ttl = 300, now = nowSeconds(), leeway = 30, maxDepth }) {
  return run('delegate', { parent, jwks, issuer, audience, key, claims, ttl, now, leeway, max_depth: maxDepth, entropy: random(16) });
}

/** `min(a, b)`: the capabilities both lists allow. */
export function scopeMeet(a, b) {
  return run('scope_meet', { a, b }).caps;
}

/** Validate a policy document; returns `{ valid, rules, max_ttl, policy }` (the normalized form). */
export function checkPolicy(policy) {
  return run('policy_check', { policy });
}

/**
 * Decide what `request` (`{ subject: { id, attributes? }, capabilities, ttl? }`)
 * may be granted under `policy`: `{ decision: 'granted', capabilities, ttl, matched_rules, narrowed }`
 * or `{ decision: 'denied', code, rule, reason }`. Bounded by a step budget.
 */
export function evaluatePolicy(policy, request, budget) {
  return run('policy_evaluate', { policy, request, budget });
}

/** As `evaluatePolicy`, with a rule-by-rule trace of why. */
export function explainPolicy(policy, request, budget) {
  return run('policy_explain', { policy, request, budget });
}

/** Module version, ABI version and operation names. */
export function info() {
  return run('info', {});
}

/** Call any row of the operations table with a JSON-able request (escape hatch). */
export function callOperation(op, request) {
  return run(op, request);
}
