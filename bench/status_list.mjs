// A browser-side revocation check, two ways, in one run: verifying the
// signed id list (10,000 revoked ids, near the most it can hold) against
// verifying a status list of a million tokens with 10,000 revoked and
// reading one token's bit. Measured in Node (the npm package) and in
// headless Chromium (the package's browser entry, as a console loads it;
// Chromium from npm/scripts/setup-browser.sh, or CHROMIUM_PATH).
//
//   node bench/status_list.mjs [revoked=10000] [tokens=1000000]
//
// Prints sizes, medians over 15 runs (after 3 warm-ups) and the ratios.
// Without Chromium it says so and exits 1 after the Node half.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
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

// Runs in Node and, stringified, in the page: no closure over this module.
function median(run, clock) {
  for (let i = 0; i < 3; i++) run();
  const times = [];
  for (let i = 0; i < 15; i++) {
    const start = clock();
    run();
    times.push(clock() - start);
  }
  return times.sort((a, b) => a - b)[7];
}
const clock = () => Number(process.hrtime.bigint()) / 1e6;
const idMs = median(() => verifyRevocationList({ list: idList, jwks, issuer: iss, now }), clock);
const statusMs = median(() => verifyStatusList({ list: statusList, jwks, issuer: iss, uri, now, idx: 5 }), clock);
console.log(`id list:     ${revokedCount} ids, ${idList.length} bytes, verify ${idMs.toFixed(2)} ms (Node)`);
console.log(`status list: ${tokens} tokens, ${revokedCount} revoked, ${statusList.length} bytes, verify + one bit ${statusMs.toFixed(2)} ms (Node)`);
console.log(`Node: the status list check is ${(idMs / statusMs).toFixed(1)}x faster`);

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(`Chromium is missing at ${executablePath}: run npm/scripts/setup-browser.sh for the browser half`);
  process.exit(1);
}
const { chromium } = createRequire(new URL('../npm/package.json', import.meta.url))('playwright-core');
const { serve } = await import('../npm/scripts/serve.mjs');
const server = await serve({
  routes: { '/blank.html': (_, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>bench</title>') },
});
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}blank.html`);
  const inPage = await page.evaluate(async ({ median, idList, statusList, jwks, iss, uri, now }) => {
    const captoken = await import('/browser.js');
    await captoken.init();
    const measure = new Function(`return ${median}`)();
    const clock = () => performance.now();
    return {
      idMs: measure(() => captoken.verifyRevocationList({ list: idList, jwks, issuer: iss, now }), clock),
      statusMs: measure(() => captoken.verifyStatusList({ list: statusList, jwks, issuer: iss, uri, now, idx: 5 }), clock),
      agent: navigator.userAgent,
    };
  }, { median: median.toString(), idList, statusList, jwks, iss, uri, now });
  console.log(`Chromium (${inPage.agent.match(/(?:Headless)?Chrome\/[\d.]+/)?.[0] ?? 'unknown'}):`);
  console.log(`  id list verify ${inPage.idMs.toFixed(2)} ms, status list verify + one bit ${inPage.statusMs.toFixed(2)} ms, ${(inPage.idMs / inPage.statusMs).toFixed(1)}x faster`);
} finally {
  await browser.close();
  await server.close();
}
