// What the tarball tests share: the package packed and installed into an
// empty project, the README's tested snippets, and Chromium.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
export const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// The policy a strict console page runs under: nothing but its own origin,
// and wasm compiled only from what the page fetched itself.
export const STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'";

/** The fenced block after `<!-- tested: NAME ... -->` in the README. */
export function snippet(name) {
  const match = new RegExp(`<!-- tested: ${name}\\b[^>]*-->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  assert.ok(match, `README.md has no snippet marked \`tested: ${name}\``);
  return match[1];
}

/**
 * `npm pack` the package and install the tarball, offline, into a new empty
 * project: `{ work, project, packed }` (`packed`: npm's description of the
 * tarball).
 */
export function packAndInstall(prefix) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: packageDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  }));
  const project = join(work, 'app');
  execFileSync('mkdir', [project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, version: '1.0.0' }));
  // The package has no dependencies: nothing but the tarball is fetched.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(work, packed.filename)], {
    cwd: project, stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { work, project, packed };
}

/** Headless Chromium, kept from calling home; fails (never skips) when missing. */
export function launchChromium() {
  assert.ok(existsSync(executablePath),
    `Chromium is missing at ${executablePath}: run npm/scripts/setup-browser.sh (this test never skips)`);
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Open `url` in a new page of `browser`, wait until `ready` (run in the
 * page) holds, and return the body's text; page errors and CSP violations
 * (reported on the console, not thrown) fail the test.
 */
export async function pageText(browser, url, { csp } = {}) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => { if (/Content Security Policy/i.test(msg.text())) errors.push(msg.text()); });
  try {
    const response = await page.goto(url);
    if (csp !== undefined) assert.equal(response.headers()['content-security-policy'], csp);
    await page.waitForFunction(() => document.body && document.body.textContent.length > 0, null, { timeout: 20_000 });
    const text = await page.textContent('body');
    assert.deepEqual(errors, []);
    return text;
  } finally {
    await page.close();
  }
}
