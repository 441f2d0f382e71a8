// A real `captoken serve` for the npm tests: the gateway binary the Rust
// build made (scripts/test.sh runs cargo test first; CAPTOKEN_BIN points
// elsewhere), on a free port over a fresh data directory.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const gatewayBin = process.env.CAPTOKEN_BIN ?? join(packageDir, '../target/debug/captoken');

export const ADMIN = 'npm-test-admin-token-0123456789';

/**
 * Starts the gateway in `dir` with issuer `https://gw.example` and audience
 * `robot-gateway` (what the README's snippets verify against); resolves to
 * `{ child, url, issue(subject, publicJwk, capabilities), stop() }`.
 */
export async function startGateway(dir) {
  assert.ok(existsSync(gatewayBin),
    `the gateway binary is missing at ${gatewayBin}: run \`cargo build -p captoken-host\` (or set CAPTOKEN_BIN)`);
  const data = (name) => join(dir, name);
  const child = spawn(gatewayBin, ['serve', '--listen', '127.0.0.1:0', '--db', data('captoken.db'),
    '--key-dir', data('keys'), '--policy', data('policy.json'), '--cache-dir', data('cache'),
    '--issuer', 'https://gw.example', '--audience', 'robot-gateway'],
  { env: { ...process.env, CAPTOKEN_ADMIN_TOKEN: ADMIN }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const found = /listening on (http:\/\/\S+)/.exec(out);
      if (found) resolve(found[1]);
    });
    child.on('exit', (code) => reject(new Error(`the gateway exited (${code}) before listening: ${out}`)));
  });
  const admin = (path, body) => fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    child,
    url,
    /** POST /v1/tokens; resolves to the 201 body. */
    async issue(subject, publicJwk, capabilities) {
      const response = await admin('/v1/tokens', { subject, subject_public_key: publicJwk, capabilities,
        expires_in_seconds: 600 });
      const body = await response.json();
      assert.equal(response.status, 201, JSON.stringify(body));
      return body;
    },
    /** POST /v1/tokens/revoke. */
    async revoke(jti) {
      const response = await admin('/v1/tokens/revoke', { jti });
      assert.equal(response.status, 200);
    },
    /** Stops the gateway and waits until it has exited (and closed its store). */
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill();
    }),
  };
}
