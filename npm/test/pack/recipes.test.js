// The README's recipes, each as a user follows it: the packed tarball
// installed into an empty project, the recipe's files and commands taken
// from the README unchanged, the result run where the recipe says (Chromium
// under a strict Content-Security-Policy, workerd, Deno, Bun, Node). The
// bundlers and runtimes are dev dependencies from the npm registry, pinned
// in package-lock.json; `npx X` in a recipe runs this package's X.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { serve } from '../../scripts/serve.mjs';
import { generateKey, issue, jwks as keySet } from '../../index.js';
import { STRICT_CSP, launchChromium, packAndInstall, packageDir, pageText, snippet } from '../support/tarball.mjs';

const bin = join(packageDir, 'node_modules/.bin');
let work;
let project;
let browser;
let token;
let jwks;
let expected;

before(async () => {
  ({ work, project } = packAndInstall('captoken-recipes-'));
  const gw = generateKey();
  const caps = [{ actions: ['drive'], resources: ['robot:7'] }];
  ({ token } = issue({
    key: gw.privateJwk, issuer: 'https://gw.example', ttl: 3600,
    claims: { sub: 'operator-1', aud: 'robot-gateway', cnf: { jwk: generateKey().publicJwk }, caps },
  }));
  jwks = keySet(gw.publicJwk);
  expected = `operator-1 may ${JSON.stringify(caps)}`;
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A fresh directory holding the installed package, the token and the key set. */
function app(name) {
  const dir = join(work, name);
  mkdirSync(dir);
  cpSync(join(project, 'node_modules'), join(dir, 'node_modules'), { recursive: true });
  cpSync(join(project, 'package.json'), join(dir, 'package.json'));
  writeFileSync(join(dir, 'token.jws'), `${token}\n`);
  writeFileSync(join(dir, 'gw.jwks'), JSON.stringify(jwks));
  return dir;
}

/** Run a recipe's shell commands in `dir`, `npx X` being this package's X. */
function sh(dir, commands) {
  return execFileSync('bash', ['-euo', 'pipefail', '-c', commands.replace(/^npx /gm, '')], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Serve `root` under the strict CSP and return what the page shows. */
async function inChromium(root, page = '') {
  const server = await serve({ root, headers: { 'content-security-policy': STRICT_CSP } });
  try {
    return await pageText(browser, `${server.url}${page}`, { csp: STRICT_CSP });
  } finally {
    await server.close();
  }
}

function copyData(dir, to) {
  cpSync(join(dir, 'token.jws'), join(dir, to, 'token.jws'));
  cpSync(join(dir, 'gw.jwks'), join(dir, to, 'gw.jwks'));
}

test('recipe: esbuild ES module bundle, one file copied, in Chromium under a strict CSP', async () => {
  const dir = app('esbuild-esm');
  writeFileSync(join(dir, 'main.js'), snippet('vite'));
  sh(dir, snippet('recipe-esbuild-esm'));
  writeFileSync(join(dir, 'public/index.html'), '<!doctype html><body><script type="module" src="main.js"></script></body>');
  copyData(dir, 'public');
  assert.equal(await inChromium(join(dir, 'public')), expected);
});

test('recipe: esbuild IIFE in a classic <script>, in Chromium under a strict CSP', async () => {
  const dir = app('esbuild-iife');
  writeFileSync(join(dir, 'app.js'), snippet('recipe-iife-app'));
  sh(dir, snippet('recipe-esbuild-iife'));
  writeFileSync(join(dir, 'public/index.html'), '<!doctype html><body><script src="app.js"></script></body>');
  copyData(dir, 'public');
  assert.equal(await inChromium(join(dir, 'public')), expected);
});

test('recipe: webpack 5, in Chromium under a strict CSP', async () => {
  const dir = app('webpack');
  writeFileSync(join(dir, 'main.js'), snippet('vite'));
  writeFileSync(join(dir, 'webpack.config.mjs'), snippet('recipe-webpack'));
  sh(dir, 'npx webpack --no-stats');
  writeFileSync(join(dir, 'public/index.html'), '<!doctype html><body><script src="main.js"></script></body>');
  copyData(dir, 'public');
  assert.equal(await inChromium(join(dir, 'public')), expected);
});

test('recipe: a module Web Worker verifies off the page thread, under a strict CSP', async () => {
  const dir = app('worker');
  writeFileSync(join(dir, 'worker.js'), snippet('recipe-worker'));
  writeFileSync(join(dir, 'page.js'), `
    const worker = new Worker('./worker.js', { type: 'module' });
    const [token, jwks] = await Promise.all([
      fetch('./token.jws').then((r) => r.text()), fetch('./gw.jwks').then((r) => r.json()),
    ]);
    worker.onmessage = ({ data }) => { document.body.textContent = data; };
    worker.onerror = (e) => { document.body.textContent = 'worker error: ' + e.message; };
    worker.postMessage({ token: token.trim(), jwks });
  `);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><body><script type="module" src="page.js"></script></body>');
  assert.equal(await inChromium(dir), expected);
});

/** A free loopback port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

test('recipe: Cloudflare workerd, the module imported as a WebAssembly.Module', async () => {
  const dir = app('workerd');
  writeFileSync(join(dir, 'worker.js'), snippet('recipe-workerd-worker'));
  writeFileSync(join(dir, 'config.capnp'), snippet('recipe-workerd-config'));
  const port = await freePort();
  const child = spawn(join(bin, 'workerd'), ['serve', 'config.capnp', '--socket-addr', `http=127.0.0.1:${port}`], {
    cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  try {
    let response;
    for (let attempt = 0; attempt < 100 && response === undefined; attempt += 1) {
      try {
        response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify({ token, jwks }) });
      } catch {
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(response, `workerd did not answer:\n${output}`);
    assert.equal(await response.text(), expected, output);
    assert.equal(response.status, 200);
    // A token from another issuer is refused there as everywhere.
    const other = keySet(generateKey().publicJwk);
    const refused = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify({ token, jwks: other }) });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /^refused: /);
  } finally {
    child.kill();
  }
});

test('recipe: the Node entry in Deno and Bun, from the installed package', () => {
  const dir = app('runtimes');
  writeFileSync(join(dir, 'verify.mjs'), snippet('recipe-server-verify'));
  assert.equal(sh(dir, 'deno run --allow-read verify.mjs').trim(), expected);
  assert.equal(sh(dir, 'bun verify.mjs').trim(), expected);
  // CommonJS in Bun too.
  writeFileSync(join(dir, 'verify.cjs'), snippet('recipe-server-verify')
    .replace("import { readFileSync } from 'node:fs';", "const { readFileSync } = require('node:fs');")
    .replace("import { verify } from 'captoken';", "const { verify } = require('captoken');"));
  assert.equal(sh(dir, 'bun verify.cjs').trim(), expected);
});

test('recipe: a Node service bundled by esbuild, ESM and CommonJS, one file copied', () => {
  const dir = app('esbuild-node');
  writeFileSync(join(dir, 'verify.mjs'), snippet('recipe-server-verify'));
  assert.equal(sh(dir, snippet('recipe-esbuild-node')).trim(), expected);
  // The bundle needs nothing of node_modules: only the copied module.
  rmSync(join(dir, 'node_modules'), { recursive: true });
  assert.equal(sh(dir, 'node out/verify.mjs').trim(), expected);
  // The same service as CommonJS, bundled to CommonJS (index.cjs requires
  // shared.cjs, which the bundler follows).
  const cjs = app('esbuild-node-cjs');
  writeFileSync(join(cjs, 'verify.cjs'), snippet('recipe-server-verify')
    .replace("import { readFileSync } from 'node:fs';", "const { readFileSync } = require('node:fs');")
    .replace("import { verify } from 'captoken';", "const { verify } = require('captoken');"));
  sh(cjs, 'npx esbuild verify.cjs --bundle --platform=node --format=cjs --outfile=out/verify.cjs\n'
    + 'mkdir -p out/dist && cp node_modules/captoken/dist/captoken_bg.wasm out/dist/');
  rmSync(join(cjs, 'node_modules'), { recursive: true });
  assert.equal(sh(cjs, 'node out/verify.cjs').trim(), expected);
});
