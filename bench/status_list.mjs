// A browser-side revocation check, two ways, in one run (Node, the npm
// package's module): verifying the signed id list (10,000 revoked ids, near
// the most it can hold) against verifying a status list of a million
// tokens with 10,000 revoked and reading one token's bit.
//
//   node bench/status_list.mjs [revoked=10000] [tokens=1000000]
//
// Prints sizes, medians over 15 runs (after 3 warm-ups) and the ratio.
import { randomBytes } from 'node:crypto';
import { generateKey, signRevocationList, verifyRevocationList, signStatusList, verifyStatusList } from '../npm/index.js';

const revokedCount = Number(process.argv[2] ?? 10_000);
const tokens = Number(process.argv[3] ?? 1_000_000);
const key = generateKey();
const jwks = { keys: [key.publicJwk] };
const iss = 'urn:captoken:gateway';
const uri = 'https://gateway.example/v1/status-lists/0';
const now = Math.floor(Date.now() / 1000);

const revoked = Array.from({ length: revokedCount }, () => ({
  jti: randomBytes(16).toString('base64url'), revoked_at: now,
}));
const idList = signRevocationList({ key: key.privateJwk, list: { iss, seq: 1, iat: now, next_update: now + 300, revoked } }).list;
const indices = new Set();
while (indices.size < revokedCount) indices.add(Math.floor(Math.random() * tokens));
const statusList = signStatusList({ key: key.privateJwk, list: { iss, sub: uri, iat: now, exp: now + 300, size: tokens, revoked: [...indices] } }).list;

function median(run) {
  for (let i = 0; i < 3; i++) run();
  const times = [];
  for (let i = 0; i < 15; i++) {
    const start = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times.sort((a, b) => a - b)[7];
}
const idMs = median(() => verifyRevocationList({ list: idList, jwks, issuer: iss, now }));
const statusMs = median(() => verifyStatusList({ list: statusList, jwks, issuer: iss, uri, now, idx: 5 }));
console.log(`id list:     ${revokedCount} ids, ${idList.length} bytes, verify ${idMs.toFixed(2)} ms`);
console.log(`status list: ${tokens} tokens, ${revokedCount} revoked, ${statusList.length} bytes, verify + one bit ${statusMs.toFixed(2)} ms`);
console.log(`the status list check is ${(idMs / statusMs).toFixed(1)}x faster`);
