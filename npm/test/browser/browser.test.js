// The package in a real headless Chromium (Debian's, at /usr/bin/chromium,
// installed by scripts/setup-browser.sh; playwright-core never downloads a
// browser). The package is served on 127.0.0.1 by scripts/serve.mjs; the
// tokens are issued here in Node and verified in the page, and back.
// Without Chromium these tests fail: they are never skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';
import { startGateway } from '../support/gateway.mjs';
import { generateKey, issue, delegate, verify, signRevocationList, decodeUnverified } from '../../index.js';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = new URL('../../test-artifacts/', import.meta.url);
const wasm = readFileSync(new URL('../../dist/captoken_bg.wasm', import.meta.url));
const committed = readFileSync(new URL('../../dist/captoken_bg.wasm.sha256', import.meta.url), 'utf8').slice(0, 64);

const ISSUER = 'https://gw.example';
const gw = generateKey();
const holder = generateKey();
const friend = generateKey();
const jwks = { keys: [gw.publicJwk] };
const caps = [
  { actions: ['drive', 'stop'], resources: ['robot:7'], constraints: { max_purchase: 500, rooms: ['lab-2'] } },
  { actions: ['read'], resources: ['telemetry:*'] },
];
const root = issue({ key: gw.privateJwk, issuer: ISSUER, ttl: 3600,
  claims: { sub: 'operator-1', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk }, caps } });
const child = delegate({ parent: root.token, jwks, issuer: ISSUER, audience: 'robot-gateway', key: holder.privateJwk, ttl: 600,
  claims: { sub: 'night-shift-bot', aud: 'robot-gateway', cnf: { jwk: friend.publicJwk }, caps: [caps[1]] } });

let browser;
let server;

before(async () => {
  assert.ok(existsSync(executablePath),
    `Chromium is missing at ${executablePath}: run npm/scripts/setup-browser.sh (the browser tests never skip)`);
  server = await serve({
    routes: {
      '/jwks.json': (_, response) => response.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
        .end(JSON.stringify(jwks)),
      '/tampered.wasm': (_, response) => {
        const bytes = Buffer.from(wasm);
        bytes[bytes.length - 1] ^= 1;
        response.writeHead(200, { 'content-type': 'application/wasm' }).end(bytes);
      },
      '/blank.html': (_, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>blank</title>'),
    },
  });
  // playwright gives each launch a fresh, empty profile of its own.
  browser = await chromium.launch({
    executablePath,
    headless: true,
    // Networks may be closed (CI): keep Chromium from calling home.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

// A page that has imported the browser entry as `window.captoken`, and
// collects every uncaught error.
async function packagePage() {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err));
  await page.goto(`${server.url}blank.html`);
  await page.evaluate(async () => {
    window.captoken = await import('/browser.js');
  });
  return { page, errors };
}

test('Chromium: init checks the digest, then a Node-issued chain verifies in the page', async () => {
  const { page, errors } = await packagePage();
  const before = await page.evaluate(() => {
    try {
      window.captoken.info();
      return 'no error';
    } catch (err) {
      return `${err.name}:${err.code}`;
    }
  });
  assert.equal(before, 'CaptokenError:not_initialized');

  // A module that is not the committed one is refused.
  const refused = await page.evaluate(() => window.captoken.init('/tampered.wasm').then(() => 'loaded', (e) => e.code));
  assert.equal(refused, 'module_digest_mismatch');

  const loaded = await page.evaluate(() => window.captoken.init());
  assert.deepEqual(loaded, { moduleSha256: committed, abiVersion: 1 });

  const verdict = await page.evaluate(({ token, jwks, issuer }) => {
    const { verify } = window.captoken;
    const attempt = (options) => {
      try {
        const v = verify({ jwks, issuer, audience: 'robot-gateway', token, ...options });
        return { ok: true, sub: v.claims.sub, root: v.root_sub, depth: v.depth, chain: v.chain.map((l) => l.sub) };
      } catch (err) {
        return { ok: false, code: err.code, isCaptokenError: err instanceof window.captoken.CaptokenError };
      }
    };
    return {
      valid: attempt({}),
      otherAudience: attempt({ audience: 'elsewhere' }),
      tampered: attempt({ token: token.replace(/\.(.{10})(.)/, (_, head, c) => `.${head}${c === 'A' ? 'B' : 'A'}`) }),
      expired: attempt({ now: Math.floor(Date.now() / 1000) + 7200 }),
    };
  }, { token: child.token, jwks, issuer: ISSUER });

  assert.deepEqual(verdict.valid, { ok: true, sub: 'night-shift-bot', root: 'operator-1', depth: 1, chain: ['operator-1'] });
  assert.deepEqual(verdict.otherAudience, { ok: false, code: 'bad_audience', isCaptokenError: true });
  assert.equal(verdict.tampered.ok, false);
  assert.equal(verdict.expired.code, 'expired');
  assert.deepEqual(errors, []);
  await page.close();
});

test('Chromium: verifyAsync runs in a Web Worker: the same answers, and the page keeps turning', async () => {
  const { page, errors } = await packagePage();
  const out = await page.evaluate(async ({ token, jwks, issuer }) => {
    await window.captoken.init();
    const { verify, verifyAsync, authorizeAsync } = window.captoken;
    const trust = { jwks, issuer, audience: 'robot-gateway', token };
    const same = JSON.stringify(await verifyAsync(trust)) === JSON.stringify(verify(trust));
    let turned = false;
    setTimeout(() => { turned = true; }, 0);
    let turnedBeforeLast = null;
    const inflight = Array.from({ length: 300 }, () => verifyAsync(trust));
    inflight[inflight.length - 1].then(() => { turnedBeforeLast = turned; });
    const all = await Promise.all(inflight);
    const refused = await authorizeAsync({ ...trust, request: { action: 'drive', resource: 'robot:7', context: { purchase_amount: 'x' } } })
      .then(() => null, (e) => ({ code: e.code, path: e.path, isCaptokenError: e instanceof window.captoken.CaptokenError }));
    return { same, count: all.filter((v) => v.claims.sub === 'night-shift-bot').length, turnedBeforeLast, refused };
  }, { token: child.token, jwks, issuer: ISSUER });
  assert.equal(out.same, true);
  assert.equal(out.count, 300);
  assert.equal(out.turnedBeforeLast, true, 'a timer fired while 300 verifications were in flight: they ran in the worker');
  assert.equal(out.refused.isCaptokenError, true);
  assert.ok(out.refused.code, 'a refusal carries its code');
  assert.deepEqual(errors, []);
  await page.close();
});

test('Chromium: a token issued in the page (browser entropy and clock) verifies in Node', async () => {
  const { page, errors } = await packagePage();
  const issued = await page.evaluate(async ({ key, issuer, holderJwk }) => {
    await window.captoken.init();
    return window.captoken.issue({ key, issuer, ttl: 120,
      claims: { sub: 'from-the-page', aud: 'robot-gateway', cnf: { jwk: holderJwk }, caps: [{ actions: ['read'], resources: ['*'] }] } });
  }, { key: gw.privateJwk, issuer: ISSUER, holderJwk: holder.publicJwk });
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(issued.iat - now) <= 5, 'iat is the page clock');
  const v = verify({ token: issued.token, jwks, issuer: ISSUER, audience: 'robot-gateway' });
  assert.equal(v.claims.sub, 'from-the-page');
  assert.match(v.claims.jti, /^[A-Za-z0-9_-]{22,}$/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('Chromium: a holder key that cannot leave WebCrypto delegates and proves possession', async () => {
  const { page, errors } = await packagePage();
  // The holder's key pair is made in the page as non-extractable; only its
  // public half leaves, to be bound into a token issued here in Node.
  const holderPublic = await page.evaluate(async () => {
    await window.captoken.init();
    window.pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    window.signer = await window.captoken.webCryptoSigner(window.pair);
    return window.signer.publicJwk;
  });
  const held = issue({ key: gw.privateJwk, issuer: ISSUER, ttl: 600,
    claims: { sub: 'console-user', aud: 'robot-gateway', cnf: { jwk: holderPublic }, caps: [caps[1]] } });
  const out = await page.evaluate(async ({ token, jwks, issuer, friendJwk }) => {
    const trust = { jwks, issuer, audience: 'robot-gateway' };
    const exported = await crypto.subtle.exportKey('jwk', window.pair.privateKey).then(() => 'exported', (e) => e.name);
    const child = await window.captoken.delegateAsync({ signer: window.signer, parent: token, ...trust, ttl: 60,
      claims: { sub: 'page-bot', aud: 'robot-gateway', cnf: { jwk: friendJwk }, caps: [{ actions: ['read'], resources: ['telemetry:arm'] }] } });
    const { proof } = await window.captoken.createProofAsync({ signer: window.signer, token, audience: 'svc' });
    return { exported, child: child.token, proof };
  }, { token: held.token, jwks, issuer: ISSUER, friendJwk: friend.publicJwk });
  assert.equal(out.exported, 'InvalidAccessError', 'the private key is not extractable');
  const v = verify({ token: out.child, jwks, issuer: ISSUER, audience: 'robot-gateway' });
  assert.equal(v.claims.sub, 'page-bot');
  assert.equal(v.root_sub, 'console-user');
  const { verifyProof } = await import('../../index.js');
  assert.equal(verifyProof({ proof: out.proof, token: held.token, jwks, issuer: ISSUER, audience: 'robot-gateway',
    popAudience: 'svc' }).token_jti, held.jti);
  assert.deepEqual(errors, []);
  await page.close();
});

test('Chromium: the operator console shows verdict, chain, capabilities and expiry', async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1250 } });
  const errors = [];
  page.on('pageerror', (err) => errors.push(err));
  await page.goto(`${server.url}examples/console/`);
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.textContent('#module'), `captoken module sha256 ${committed}`);

  // The delegated chain, its JWKS fetched from a URL.
  await page.fill('#token', child.token);
  await page.fill('#jwks-url', `${server.url}jwks.json`);
  await page.fill('#issuer', ISSUER);
  await page.fill('#audience', 'robot-gateway');
  await page.click('#verify');
  // Nothing said whether it is revoked: never a plain "valid".
  await page.waitForSelector('#verdict.unchecked');
  assert.match(await page.textContent('#verdict'), /^✔ valid, revocation not checked: night-shift-bot \(delegated, depth 1, from operator-1\)/);
  const chain = await page.$$eval('#chain li.link', (items) => items.map((li) => [li.querySelector('.role').textContent, li.querySelector('.sub').textContent]));
  assert.deepEqual(chain, [['root: issued by the issuer', 'operator-1'], ['leaf: presented', 'night-shift-bot']]);
  const rows = await page.$$eval('#caps tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.deepEqual(rows, [['0', 'read', 'telemetry:*', '(none)']]);
  // The time left depends on how long the run took so far; the instant does not.
  const expiry = await page.textContent('#expiry');
  assert.match(expiry, /^expires in (10m 0s|[1-9]?[0-9]m [0-9]+s) \(at /);
  assert.ok(Number.isInteger(child.exp), 'delegate reports exp');
  assert.ok(expiry.includes(`(at ${new Date(child.exp * 1000).toISOString()})`), expiry);
  assert.match(await page.textContent('#claims'), /"prf": "/);
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: new URL('console.png', artifacts).pathname, fullPage: true });

  // The root token with a pasted JWKS: two capabilities, with constraints.
  await page.fill('#jwks-url', '');
  await page.fill('#jwks', JSON.stringify(jwks));
  await page.fill('#token', root.token);
  await page.click('#verify');
  await page.waitForFunction(() => document.querySelectorAll('#caps tbody tr').length === 2);
  const rootRows = await page.$$eval('#caps tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.deepEqual(rootRows[0], ['0', 'drive, stop', 'robot:7', 'max_purchase: 500; rooms: ["lab-2"]']);
  assert.equal(await page.textContent('#depth'), '(no delegation)');

  // Refusals show the stable code.
  await page.fill('#revoked', root.jti);
  await page.fill('#token', child.token);
  await page.click('#verify');
  await page.waitForSelector('#verdict.refused');
  assert.equal(await page.textContent('#code'), 'revoked');
  assert.equal(await page.isHidden('#details'), true);

  // A signed revocation list naming the root refuses the chain, and says
  // what it is; so does a stale one, flagged as stale.
  await page.fill('#revoked', '');
  const now = Math.floor(Date.now() / 1000);
  const signed = (nextUpdate) => signRevocationList({ key: gw.privateJwk,
    list: { iss: ISSUER, seq: 5, iat: now - 10, next_update: nextUpdate, revoked: [{ jti: root.jti, revoked_at: now - 20 }] } }).list;
  await page.fill('#revocation-list', signed(now + 600));
  await page.click('#verify');
  // Refused before too: wait for this verdict's list line.
  await page.waitForSelector('#list-status:not([hidden])');
  assert.equal(await page.textContent('#code'), 'revoked');
  assert.match(await page.textContent('#list-status'), /^revocation list #5: fresh, 1 revoked, next update /);
  await page.fill('#revocation-list', signed(now - 1));
  await page.click('#verify');
  await page.waitForSelector('#list-status.stale');
  assert.match(await page.textContent('#list-status'), /^revocation list #5: stale since /);
  assert.equal(await page.textContent('#code'), 'revoked');
  await page.fill('#revocation-list', '');

  // The authorize form: the failing constraint's path, or the capability
  // that allows it.
  await page.fill('#token', root.token);
  await page.fill('#action', 'drive');
  await page.fill('#resource', 'robot:7');
  await page.fill('#context', '{"purchase_amount": 900, "room": "lab-2"}');
  await page.click('#verify');
  await page.waitForSelector('#authorization.denied');
  assert.equal(await page.textContent('#authorize-code'), 'constraint_violated');
  assert.equal(await page.textContent('#authorize-path'), 'caps[0].constraints.max_purchase');
  await page.fill('#context', '{"purchase_amount": 20, "room": "lab-2"}');
  await page.click('#verify');
  await page.waitForSelector('#authorization.allowed');
  assert.match(await page.textContent('#authorization'), /drive on robot:7: allowed by capability #0/);
  await page.fill('#context', '{not json');
  await page.click('#verify');
  await page.waitForSelector('#verdict.input');
  assert.match(await page.textContent('#verdict'), /the context is not JSON/);
  for (const id of ['#action', '#resource', '#context']) await page.fill(id, '');

  // "As of": the decision replayed at another time. 20 minutes on, the
  // root still holds and its 10-minute child does not: the refused link
  // is named.
  const later = Math.floor(Date.now() / 1000) + 1200;
  await page.fill('#token', child.token);
  await page.fill('#as-of', String(later));
  await page.click('#verify');
  await page.waitForSelector('#chain-refusal:not([hidden])');
  assert.equal(await page.textContent('#code'), 'expired');
  assert.match(await page.textContent('#chain-refusal'), /^link 1 of 1 below the root \(delegated to night-shift-bot\) is refused: expired/);
  assert.match(await page.textContent('#as-of-note'), new RegExp(`as of ${new Date(later * 1000).toISOString()}`));
  await page.screenshot({ path: new URL('console-refused-link.png', artifacts).pathname, fullPage: true });
  await page.fill('#as-of', 'yesterday-ish');
  await page.click('#verify');
  await page.waitForSelector('#verdict.input');
  assert.match(await page.textContent('#verdict'), /"as of" must be a date and time/);
  await page.fill('#as-of', '');

  await page.fill('#audience', 'someone-else');
  await page.click('#verify');
  await page.waitForFunction(() => document.querySelector('#code')?.textContent === 'bad_audience');

  await page.fill('#jwks', '{not json');
  await page.click('#verify');
  await page.waitForSelector('#verdict.input');
  assert.match(await page.textContent('#verdict'), /the pasted JWKS is not JSON/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('Chromium: the console verifies against a real gateway: its JWKS URL, then its signed revocation list', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'captoken-console-gw-'));
  const gateway = await startGateway(dir);
  const page = await browser.newPage();
  try {
    const errors = [];
    page.on('pageerror', (err) => errors.push(err));
    const operator = generateKey();
    const issued = await gateway.issue('operator-9', operator.publicJwk, [{ actions: ['stop'], resources: ['robot:3'] }]);
    await page.goto(`${server.url}examples/console/`);
    await page.waitForSelector('body[data-ready="true"]');
    // The page and the gateway are different origins: the JWKS is fetched
    // cross-origin, as an operator's console would.
    await page.fill('#token', issued.token);
    await page.fill('#jwks-url', `${gateway.url}/.well-known/jwks.json`);
    await page.fill('#issuer', 'https://gw.example');
    await page.fill('#audience', 'robot-gateway');
    await page.click('#verify');
    await page.waitForSelector('#verdict.unchecked');
    assert.match(await page.textContent('#verdict'), /valid, revocation not checked: operator-9/);

    // Revoked at the gateway: its signed list, loaded into the console,
    // refuses the token offline.
    await gateway.revoke(issued.jti);
    const published = await fetch(`${gateway.url}/v1/revocations`);
    assert.equal(published.headers.get('access-control-allow-origin'), '*');
    const { list, seq, status_lists: statusLists } = await published.json();
    // The gateway's token is revoked by its bit in the status list it
    // names, not by id: the id list alone is not enough to decide.
    await page.fill('#revocation-list', list);
    await page.click('#verify');
    await page.waitForSelector('#verdict.refused');
    assert.equal(await page.textContent('#code'), 'status_list_required');
    assert.match(await page.textContent('#list-status'), new RegExp(`^revocation list #${seq}: fresh, 0 revoked`));
    const { uri } = decodeUnverified(issued.token).claims.status.status_list;
    assert.deepEqual(statusLists, [uri]);
    const statusList = await fetch(uri);
    assert.equal(statusList.headers.get('access-control-allow-origin'), '*');
    await page.fill('#status-list', (await statusList.json()).list);
    await page.click('#verify');
    // The verdict above is a refusal too: wait for this one's code.
    await page.waitForFunction(() => document.querySelector('#code')?.textContent === 'revoked');
    assert.match(await page.textContent('#status-list-status'), /^status list http:\/\/.*: fresh, 1 of 1048576 revoked, this token's bit #\d+ set$/);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Chromium: the gateway serves the console: its module, its key set and lists, another gateway on request', async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'captoken-served-a-')), mkdtempSync(join(tmpdir(), 'captoken-served-b-'))];
  const [own, other] = await Promise.all(dirs.map((dir) => startGateway(dir)));
  const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
  try {
    const errors = [];
    page.on('pageerror', (err) => errors.push(err));
    const redirect = await fetch(`${own.url}/console`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    const page_ = await fetch(new URL(redirect.headers.get('location'), own.url));
    assert.match(page_.headers.get('content-security-policy'), /script-src 'self' 'wasm-unsafe-eval'/);
    await page.goto(`${own.url}/console`);
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.getAttribute('body', 'data-gateway'), 'served');
    // The module the gateway runs, by its digest; the gateway's own
    // origin, issuer and audience filled in.
    const health = await (await fetch(`${own.url}/healthz`)).json();
    assert.equal(await page.textContent('#module'), `captoken module sha256 ${health.module_sha256}`);
    assert.equal(await page.inputValue('#gateway'), own.url);
    assert.equal(await page.inputValue('#issuer'), 'https://gw.example');
    assert.equal(await page.inputValue('#audience'), 'robot-gateway');

    // The gateway's answer pasted whole: its token is read, and checked
    // against the id list and the status list the token names, fetched
    // from the gateway.
    const holderKey = generateKey();
    const issued = await own.issue('operator-3', holderKey.publicJwk, [{ actions: ['stop'], resources: ['robot:3'] }]);
    await page.fill('#token', JSON.stringify(issued, null, 2));
    await page.click('#verify');
    await page.waitForSelector('#verdict.valid');
    assert.match(await page.textContent('#verdict'), /^✔ valid: operator-3/);
    assert.match(await page.textContent('#token-note'), /pasted gateway answer/);
    assert.match(await page.textContent('#list-status'), /^revocation list #0: fresh, 0 revoked/);
    assert.match(await page.textContent('#status-list-status'), /, 0 of 1048576 revoked, this token's bit #\d+ clear$/);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: new URL('console-served.png', artifacts).pathname, fullPage: true });

    // Revoked at the gateway: the next check fetches the lists again.
    await own.revoke(issued.jti);
    await page.click('#verify');
    await page.waitForSelector('#verdict.refused');
    assert.equal(await page.textContent('#code'), 'revoked');
    assert.match(await page.textContent('#status-list-status'), /, 1 of 1048576 revoked, this token's bit #\d+ set$/);
    await page.screenshot({ path: new URL('console-served-revoked.png', artifacts).pathname, fullPage: true });

    // A pasted refusal is said to be one, not blamed on a token.
    await page.fill('#token', JSON.stringify({ error: 'no_matching_rule', reason: 'no rule grants it' }));
    await page.click('#verify');
    await page.waitForSelector('#verdict.input');
    assert.match(await page.textContent('#verdict'), /a gateway's refusal, not a token: no_matching_rule/);

    // Pointed at another gateway (another origin, another key): its
    // tokens verify, this one's are not its own.
    const theirs = await other.issue('operator-4', holderKey.publicJwk, [{ actions: ['stop'], resources: ['robot:4'] }]);
    await page.fill('#gateway', other.url);
    await page.fill('#token', theirs.token);
    await page.click('#verify');
    await page.waitForSelector('#verdict.valid');
    assert.match(await page.textContent('#verdict'), /^✔ valid: operator-4/);
    await page.fill('#token', issued.token);
    await page.click('#verify');
    await page.waitForSelector('#verdict.refused');
    assert.equal(await page.textContent('#code'), 'unknown_kid');
    // Its status list lives at the first gateway: a URI from a token not
    // yet verified is never fetched from elsewhere than the gateway named.
    assert.match(await page.textContent('#status-list-status'), new RegExp(`names ${own.url}/v1/status-lists/0, not on ${other.url}; not fetched`));
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await Promise.all([own.stop(), other.stop()]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
});
