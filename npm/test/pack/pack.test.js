// The package as a user gets it: `npm pack`, install the tarball into an
// empty project, then run the README's snippets there, unchanged: the Node
// ones with `node` (by `import` and by `require`), the browser one in
// Chromium. This is the issue's "done" criterion, as a test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '../../scripts/serve.mjs';
import { generateKey } from '../../index.js';
import { startGateway } from '../support/gateway.mjs';
import { STRICT_CSP, launchChromium, packAndInstall, packageDir, pageText, snippet } from '../support/tarball.mjs';

const committed = readFileSync(join(packageDir, 'dist/captoken_bg.wasm.sha256'), 'utf8').slice(0, 64);
// The Node that runs the snippets (scripts/node18.sh sets an older one).
const snippetNode = process.env.CAPTOKEN_SNIPPET_NODE ?? process.execPath;

let work;
let project;
let tarball;

const holder = generateKey();
const caps = [{ actions: ['drive'], resources: ['robot:7'] }];
let gateway;
let jwks;
let token;
let expected;

function writeToken(text) {
  writeFileSync(join(project, 'token.jws'), `${text}\n`);
}

before(async () => {
  let packed;
  ({ work, project, packed } = packAndInstall('captoken-pack-'));
  tarball = packed;

  // The files the README says the gateway gives you: its JWKS, and a token
  // it issued through its policy (POST /v1/tokens).
  gateway = await startGateway(join(work, 'gateway'));
  jwks = await (await fetch(`${gateway.url}/.well-known/jwks.json`)).json();
  const body = await gateway.issue('operator-1', holder.publicJwk, caps);
  // The sample policy grants operators exactly this.
  assert.deepEqual(body.capabilities, caps);
  token = body.token;
  expected = `operator-1 may ${JSON.stringify(body.capabilities)}`;
  writeFileSync(join(project, 'gw.jwks'), JSON.stringify(jwks));
  writeToken(token);
});

after(async () => {
  if (gateway) await gateway.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the entries, types, README and the committed module, nothing else', () => {
  const files = tarball.files.map((f) => f.path).sort();
  assert.deepEqual(files, [
    'README.md', 'browser.d.ts', 'browser.js', 'dist/captoken.d.ts', 'dist/captoken.js', 'dist/captoken_bg.wasm',
    'dist/captoken_bg.wasm.sha256', 'index.cjs', 'index.d.cts', 'index.d.ts', 'index.js', 'ops.d.cts', 'ops.d.ts',
    'package.json', 'pool.js', 'shared.cjs', 'worker-browser.js', 'worker.js',
  ]);
  const installed = readFileSync(join(project, 'node_modules/captoken/dist/captoken_bg.wasm'));
  assert.deepEqual(installed, readFileSync(join(packageDir, 'dist/captoken_bg.wasm')));
});

function node(file, source) {
  writeFileSync(join(project, file), source);
  return spawnSync(snippetNode, [file], { cwd: project, encoding: 'utf8' });
}

for (const [name, file] of [['node-esm', 'verify.mjs'], ['node-cjs', 'verify.cjs']]) {
  test(`README snippet ${name} verifies a gateway token from the installed tarball`, () => {
    const ok = node(file, snippet(name));
    assert.equal(ok.stderr, '');
    assert.equal(ok.status, 0);
    assert.equal(ok.stdout, `${expected}\n`);

    writeToken(token.replace(/\.[^.]+$/, (s) => `.${s[1] === 'A' ? 'B' : 'A'}${s.slice(2)}`));
    const refused = node(file, snippet(name));
    writeToken(token);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^refused: bad_signature: /);
  });
}

test('README snippet node-issue runs from the installed tarball', () => {
  const run = node('issue.mjs', snippet('node-issue'));
  assert.equal(run.stderr, '');
  assert.equal(run.status, 0);
  assert.match(run.stdout, /allowed: true/);
  assert.match(run.stdout, /sub: 'bot-1'/);
  assert.match(run.stdout, /depth: 1/);
});

test('import and require of the installed package load the committed module', () => {
  const run = node('both.mjs', `
    import { createRequire } from 'node:module';
    import * as esm from 'captoken';
    const cjs = createRequire(import.meta.url)('captoken');
    console.log(JSON.stringify([esm.moduleSha256, cjs.moduleSha256, esm.ABI_VERSION, cjs.ABI_VERSION]));
  `);
  assert.equal(run.stderr, '');
  assert.deepEqual(JSON.parse(run.stdout), [committed, committed, 1, 1]);
});

test('README vite snippet, bundled by vite from the installed tarball, verifies in Chromium under a strict CSP', async () => {
  const app = join(work, 'vite-app');
  mkdirSync(app);
  writeFileSync(join(app, 'index.html'), '<!doctype html><html><body><script type="module" src="./main.js"></script></body></html>');
  writeFileSync(join(app, 'main.js'), snippet('vite'));
  // The installed package, as a project's node_modules holds it.
  symlinkSync(join(project, 'node_modules'), join(app, 'node_modules'));
  const vite = join(packageDir, 'node_modules/vite/bin/vite.js');
  execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: app, stdio: ['ignore', 'inherit', 'inherit'] });
  const out = join(app, 'dist');
  writeFileSync(join(out, 'gw.jwks'), JSON.stringify(jwks));
  writeFileSync(join(out, 'token.jws'), `${token}\n`);
  const server = await serve({ root: out, headers: { 'content-security-policy': STRICT_CSP } });
  const browser = await launchChromium();
  try {
    assert.equal(await pageText(browser, server.url, { csp: STRICT_CSP }), expected);
  } finally {
    await browser.close();
    await server.close();
  }
});

test('README browser snippet verifies the gateway token in Chromium, from the installed tarball', async () => {
  writeFileSync(join(project, 'index.html'), snippet('browser'));
  const server = await serve({ root: project });
  const browser = await launchChromium();
  try {
    assert.equal(await pageText(browser, server.url), expected);
  } finally {
    await browser.close();
    await server.close();
  }
});
