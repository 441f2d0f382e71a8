// captoken for Node (ESM): the same .wasm the gateway runs, initialized
// synchronously from the file next to this one and checked against the
// SHA-256 in its code, then called over its raw ABI (`rawEngine` in
// browser.js), as the gateway calls it. The module has no clock and no randomness of its own;
// Node supplies both. The wrappers themselves are shared with the browser
// and CommonJS entries: see `createCaptoken` in browser.js.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHash, randomFillSync, webcrypto } from 'node:crypto';
import { createCaptoken, CaptokenError } from './browser.js';
import { createPool } from './pool.js';

const bytes = readFileSync(new URL('./dist/captoken_bg.wasm', import.meta.url));

const api = createCaptoken({
  sha256: createHash('sha256').update(bytes).digest('hex'),
  // Compiled after the digest check, and called over the raw ABI.
  bytes,
  // node:crypto rather than globalThis.crypto, which Node 18 lacks by default.
  randomBytes: (n) => randomFillSync(new Uint8Array(n)),
  now: () => Math.floor(Date.now() / 1000),
  subtle: webcrypto.subtle,
  offload: offloader(),
});

// verifyAsync, authorizeAsync and the signing async forms given a `key`
// run on a pool of worker threads, made on
// first use; where worker.js is not beside this file (a bundle that copied
// only the module), they run here instead.
function offloader() {
  const workerUrl = new URL('./worker.js', import.meta.url);
  if (workerUrl.protocol !== 'file:' || !existsSync(fileURLToPath(workerUrl))) return undefined;
  let pool = null;
  return (op, request) => (pool ??= createPool(workerUrl)).call(op, request);
}

/** Already done when this module loads; here so code can be written once for Node and browsers. */
export async function init() {
  return { moduleSha256: api.moduleSha256, abiVersion: api.ABI_VERSION };
}

export const {
  moduleSha256,
  ABI_VERSION,
  generateKey,
  importKey,
  jwks,
  issue,
  verify,
  authorize,
  delegate,
  scopeMeet,
  decodeUnverified,
  checkPolicy,
  evaluatePolicy,
  explainPolicy,
  signRevocationList,
  verifyRevocationList,
  signStatusList,
  verifyStatusList,
  createProof,
  verifyProof,
  appendAudit,
  verifyAuditChain,
  refresh,
  webCryptoSigner,
  toPublicJwk,
  remoteJwks,
  verifyAsync,
  authorizeAsync,
  issueAsync,
  delegateAsync,
  createProofAsync,
  signRevocationListAsync,
  signStatusListAsync,
  attachSignature,
  info,
  callOperation,
  callOperationText,
  engineStats,
} = api;
export { CaptokenError, createCaptoken };
