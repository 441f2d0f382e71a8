// Every Node side of the benchmark in one process, rounds alternating: the
// wasm floor (raw ed25519-dalek compiled to a bare .wasm, bench/floor, in
// Node's engine), node:crypto's native Ed25519, captoken's npm API (key
// handles, as a service keeps its key) and jose, for issue, verify,
// authorize and delegate + verify the chain.
//
//   node bench/sides.mjs <floor.wasm> [rounds=7] [calls=200] [out.json]
//
// Prints each side's median µs per call and its ratio to the wasm floor of
// the operation (the first row), and to jose where jose does the same
// thing; writes them as JSON. Timing is its output, never a verdict.
import { readFileSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { SignJWT, jwtVerify, importJWK } from 'jose';
import { issue, verify, verifyAsync, authorize, delegate, generateKey } from '../index.js';

const [floorPath, roundsArg, callsArg, outPath] = process.argv.slice(2);
if (!floorPath) throw new Error('usage: node bench/sides.mjs <floor.wasm> [rounds] [calls] [out.json]');
const rounds = Number(roundsArg ?? 7);
const calls = Number(callsArg ?? 200);

const issuer = generateKey();
const holder = generateKey();
const friend = generateKey();
const caps = [{ actions: ['drive'], resources: ['robot:7'], constraints: { domains: ['*.example.com'], max_purchase: 0, pii_access: false } }];
const claims = { sub: 'operator-1', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk }, caps };
const trust = { jwks: { keys: [issuer.publicJwk] }, issuer: 'gw', audience: 'robot-gateway' };
const token = issue({ key: issuer.handle, issuer: 'gw', claims, ttl: 3600 }).token;
const signingInput = Buffer.from(token.slice(0, token.lastIndexOf('.')));
const signature = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
const childClaims = { sub: 'operator-2', aud: 'robot-gateway', cnf: { jwk: friend.publicJwk },
  caps: [{ actions: ['drive'], resources: ['robot:7'], constraints: { domains: ['a.example.com'], max_purchase: 0, pii_access: false } }] };
const request = { action: 'drive', resource: 'robot:7', context: { domain: 'a.example.com', purchase_amount: 0, pii: false } };

// The floor: dalek in a bare module, its buffer at floor_buf() (bench/floor).
const { instance } = await WebAssembly.instantiate(readFileSync(floorPath), {});
const floor = instance.exports;
const buf = () => new Uint8Array(floor.memory.buffer, floor.floor_buf(), 96 + 4096);
const seed = Buffer.from(issuer.privateJwk.d, 'base64url');
const publicRaw = Buffer.from(issuer.publicJwk.x, 'base64url');
// The issuer's key, derived once, as captoken's key handle holds it.
buf().set(seed, 0);
if (floor.floor_key() !== 1) throw new Error('floor key');
const floorLoad = (key) => {
  const b = buf();
  b.set(key, 0);
  b.set(signature, 32);
  b.set(signingInput, 96);
};

// node:crypto and jose with the same key, imported once (as a service would).
const nodePrivate = createPrivateKey({ key: { ...issuer.privateJwk, kty: 'OKP' }, format: 'jwk' });
const nodePublic = createPublicKey({ key: { ...issuer.publicJwk, kty: 'OKP' }, format: 'jwk' });
const joseKey = await importJWK({ ...issuer.privateJwk, alg: 'EdDSA' }, 'EdDSA');
const josePublic = await importJWK({ ...issuer.publicJwk, alg: 'EdDSA' }, 'EdDSA');
const joseSign = () => new SignJWT({ caps, cnf: claims.cnf })
  .setProtectedHeader({ alg: 'EdDSA', typ: 'captoken+jwt', kid: issuer.kid })
  .setIssuer('gw').setAudience('robot-gateway').setSubject('operator-1')
  .setIssuedAt().setNotBefore('0s').setExpirationTime('1h').setJti('AAAAAAAAAAAAAAAAAAAAAA')
  .sign(joseKey);
const joseToken = await joseSign();

const ops = {
  issue: {
    'ed25519-dalek sign, bare .wasm in Node': () => { floorLoad(seed); if (floor.floor_sign(signingInput.length) !== 1) throw new Error('floor sign'); },
    'node:crypto Ed25519 sign (native)': () => nodeSign(null, signingInput, nodePrivate),
    'captoken issue (npm, key handle)': () => issue({ key: issuer.handle, issuer: 'gw', claims, ttl: 300 }),
    'jose SignJWT': joseSign,
  },
  verify: {
    'ed25519-dalek verify_strict, bare .wasm in Node': () => { floorLoad(publicRaw); if (floor.floor_verify(signingInput.length) !== 1) throw new Error('floor verify'); },
    'node:crypto Ed25519 verify (native)': () => { if (!nodeVerify(null, signingInput, nodePublic, signature)) throw new Error('node verify'); },
    'captoken verify (npm)': () => verify({ ...trust, token }),
    'jose jwtVerify': () => jwtVerify(joseToken, josePublic, { issuer: 'gw', audience: 'robot-gateway' }),
  },
  authorize: {
    'captoken authorize (npm)': () => authorize({ ...trust, token, request }),
  },
  'delegate + verify chain': {
    'captoken delegate + verify chain (npm, key handle)': () => {
      const child = delegate({ ...trust, parent: token, key: holder.handle, ttl: 60, claims: childClaims });
      verify({ ...trust, token: child.token });
    },
  },
};

// A service verifying under load: FLIGHT verifications started at once
// and awaited together. captoken's verifyAsync runs them on its worker pool
// (one thread per core); jose's run on this thread; the synchronous verify
// runs them one after another. Each side's time is per verification.
const FLIGHT = 400;
const inFlight = (one) => () => Promise.all(Array.from({ length: FLIGHT }, one));
const verifyOptions = { issuer: 'gw', audience: 'robot-gateway' };
ops['verify, 400 in flight'] = {
  'captoken verify, one after another (npm)': inFlight(() => verify({ ...trust, token })),
  'captoken verifyAsync (npm, worker pool)': inFlight(() => verifyAsync({ ...trust, token })),
  'jose jwtVerify': inFlight(() => jwtVerify(joseToken, josePublic, verifyOptions)),
};
// Calls of each op's sides per round, and verifications per call.
const shape = (op) => (op.includes('in flight') ? [Math.max(1, Math.round(calls / 50)), FLIGHT] : [calls, 1]);

async function time(fn, [n, per]) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - start) / n / per / 1000;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`node ${process.version}, ${rounds} rounds x ${calls} calls, medians (µs per call)`);
const report = [];
for (const [op, sides] of Object.entries(ops)) {
  const samples = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (const fn of Object.values(sides)) await time(fn, shape(op));
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(sides)) samples[name].push(await time(fn, shape(op)));
  }
  const names = Object.keys(sides);
  const floorUs = median(samples[names[0]]);
  const jose = names.find((n) => n.startsWith('jose'));
  const joseUs = jose && median(samples[jose]);
  console.log(op);
  const rows = names.map((side) => {
    const us = median(samples[side]);
    const row = { side, kind: side.startsWith('captoken') ? 'captoken' : side.includes('bare .wasm') ? 'floor' : 'peer', median_us: us, vs_floor: us / floorUs };
    if (joseUs) row.vs_jose = us / joseUs;
    console.log(`  ${side.padEnd(52)} ${us.toFixed(1).padStart(9)} µs  ${(us / floorUs).toFixed(2).padStart(6)}x${joseUs ? `  ${(us / joseUs).toFixed(2).padStart(6)}x jose` : ''}`);
    return row;
  });
  report.push({ op, floor: names[0], sides: rows });
}
if (outPath) {
  writeFileSync(outPath, JSON.stringify({ generated_by: 'npm/bench/sides.mjs', node: process.version, rounds, calls_per_round: calls, ops: report }, null, 2));
  console.log(`wrote ${outPath}`);
}
