// captoken's JS API against jose (the usual Node JWT library) in the same
// run: issue ~ SignJWT, verify ~ jwtVerify, both EdDSA over Ed25519 keys.
// Ratios, not absolute times, are the result: rounds alternate between the
// two sides so whatever else the machine does hits both alike.
//
//   node bench/peer.mjs [rounds=7] [calls=300]
//
// What each side does per call is not identical, and the table says how:
// captoken's verify also checks the schema of the capabilities and decodes
// the key set from JWK every call (it is stateless); jose gets an imported
// KeyLike once. captoken's issue signs with a private JWK handed in (and so
// derives its public key each call) or with its key handle (read once, as
// jose's KeyLike); with a WebCrypto signer the module only prepares and
// checks, and node:crypto signs.
import { webcrypto } from 'node:crypto';
import { SignJWT, jwtVerify, importJWK } from 'jose';
import { generateKey, issue, issueAsync, verify, webCryptoSigner } from '../index.js';

const rounds = Number(process.argv[2] ?? 7);
const calls = Number(process.argv[3] ?? 300);

const issuer = generateKey();
const holder = generateKey();
const jwks = { keys: [issuer.publicJwk] };
const claims = {
  sub: 'operator-1', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk },
  caps: [{ actions: ['drive'], resources: ['robot:7'], constraints: { domains: ['*.example.com'], max_purchase: 0, pii_access: false } }],
};
const token = issue({ key: issuer.privateJwk, issuer: 'gw', claims, ttl: 3600 }).token;

// The same key as a WebCrypto key: the module prepares, node:crypto signs.
const cryptoPair = {
  privateKey: await webcrypto.subtle.importKey('jwk', { ...issuer.privateJwk, ext: true }, { name: 'Ed25519' }, false, ['sign']),
  publicKey: await webcrypto.subtle.importKey('jwk', issuer.publicJwk, { name: 'Ed25519' }, true, ['verify']),
};
const signer = await webCryptoSigner(cryptoPair);
const joseKey = await importJWK({ ...issuer.privateJwk, alg: 'EdDSA' }, 'EdDSA');
const josePublic = await importJWK({ ...issuer.publicJwk, alg: 'EdDSA' }, 'EdDSA');
const random = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('base64url');
const joseSign = () => new SignJWT({ caps: claims.caps, cnf: claims.cnf })
  .setProtectedHeader({ alg: 'EdDSA', typ: 'captoken+jwt', kid: issuer.kid })
  .setIssuer('gw').setAudience('robot-gateway').setSubject('operator-1')
  .setIssuedAt().setNotBefore('0s').setExpirationTime('1h').setJti(random())
  .sign(joseKey);
const joseToken = await joseSign();

async function time(fn) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await fn();
  return Number(process.hrtime.bigint() - start) / calls / 1000; // µs per call
}

const sides = {
  'issue   captoken': () => issue({ key: issuer.privateJwk, issuer: 'gw', claims, ttl: 300 }),
  'issue   captoken handle': () => issue({ key: issuer.handle, issuer: 'gw', claims, ttl: 300 }),
  'issue   captoken+WebCrypto': () => issueAsync({ signer, issuer: 'gw', claims, ttl: 300 }),
  'issue   jose SignJWT': joseSign,
  'verify  captoken': () => verify({ token, jwks, issuer: 'gw', audience: 'robot-gateway' }),
  'verify  jose jwtVerify': () => jwtVerify(joseToken, josePublic, { issuer: 'gw', audience: 'robot-gateway' }),
};
const samples = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
for (const fn of Object.values(sides)) await time(fn); // warm up
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of Object.entries(sides)) samples[name].push(await time(fn));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]));
console.log(`node ${process.version}, ${rounds} rounds x ${calls} calls, medians (µs per call)`);
for (const [name, us] of Object.entries(m)) console.log(`${name.padEnd(28)} ${us.toFixed(1).padStart(8)}`);
console.log(`issue  ratio captoken/jose ${(m['issue   captoken'] / m['issue   jose SignJWT']).toFixed(2)}x`);
console.log(`issue  ratio captoken handle/jose ${(m['issue   captoken handle'] / m['issue   jose SignJWT']).toFixed(2)}x`);
console.log(`issue  ratio captoken+WebCrypto/jose ${(m['issue   captoken+WebCrypto'] / m['issue   jose SignJWT']).toFixed(2)}x`);
console.log(`verify ratio captoken/jose ${(m['verify  captoken'] / m['verify  jose jwtVerify']).toFixed(2)}x`);
