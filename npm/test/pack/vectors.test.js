// The conformance vectors (tests/vectors/*.json, format in its README)
// replayed through the package as a user gets it: `npm pack`, installed into
// an empty project, then every vector sent with `callOperationText` from
// Node (the `import` and the `require` entries, found by the package's name
// as a user's code finds them) and from the browser entry in headless
// Chromium. Each answer must be the vector's, byte for byte; a refusal must
// be a CaptokenError carrying the module's error object. Every mismatch is
// listed, with the vector's id and both answers, not just the first.
//
// CAPTOKEN_VECTOR_DIR replays another directory of vector files (a sample,
// or another implementation's); the default is the repository's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { serve } from '../../scripts/serve.mjs';
import { launchChromium, packAndInstall } from '../support/tarball.mjs';

const vectorDir = process.env.CAPTOKEN_VECTOR_DIR
  ? resolve(process.env.CAPTOKEN_VECTOR_DIR)
  : fileURLToPath(new URL('../../../tests/vectors/', import.meta.url));

// What the module's error object may hold (README: "The four runners
// compare all of them"). A member outside this list would go uncompared,
// so a file holding one fails here instead.
const ERROR_MEMBERS = ['code', 'message', 'path', 'seq', 'audit'];

/**
 * Every vector of every `*.json` file in `dir`, in file order, checked
 * against the format first: a runner that replays nothing, or half a
 * file, must not pass.
 */
function readVectors(dir) {
  let names;
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  } catch (err) {
    assert.fail(`cannot read the vector directory ${dir}: ${err.message}`);
  }
  assert.ok(names.length > 0, `no vector files (*.json) in ${dir}`);
  const vectors = [];
  const ids = new Set();
  for (const name of names) {
    const file = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    assert.equal(file.format, 'captoken-vectors', `${name}: format`);
    assert.equal(file.version, 1, `${name}: version`);
    assert.equal(`${file.operation}.json`, name, `${name}: one file per operation, named after it`);
    assert.ok(Array.isArray(file.vectors) && file.vectors.length > 0, `${name}: no vectors`);
    for (const v of file.vectors) {
      const where = `${name}: ${v.id}`;
      assert.ok(typeof v.id === 'string' && v.id.length > 0, `${name}: a vector without an id`);
      assert.ok(!ids.has(v.id), `${where}: the id is not unique`);
      ids.add(v.id);
      assert.equal(typeof v.op, 'string', `${where}: op`);
      const hasRequest = Object.hasOwn(v, 'request');
      const hasText = Object.hasOwn(v, 'request_text');
      assert.ok(hasRequest !== hasText, `${where}: exactly one of request, request_text`);
      if (hasText) assert.equal(typeof v.request_text, 'string', `${where}: request_text`);
      const { expect } = v;
      assert.equal(typeof expect?.ok, 'boolean', `${where}: expect.ok`);
      if (expect.ok) {
        assert.equal(typeof expect.response, 'string', `${where}: expect.response`);
      } else {
        assert.equal(typeof expect.error?.code, 'string', `${where}: expect.error.code`);
        assert.equal(typeof expect.error.message, 'string', `${where}: expect.error.message`);
        const unknown = Object.keys(expect.error).filter((k) => !ERROR_MEMBERS.includes(k));
        assert.deepEqual(unknown, [], `${where}: error members no runner compares`);
      }
      vectors.push({
        id: v.id,
        op: v.op,
        // A JSON value may be sent in any serialization; request_text is
        // the exact text (the hostile cases no JSON value can hold).
        text: hasText ? v.request_text : JSON.stringify(v.request),
        expect,
      });
    }
  }
  return vectors;
}

/**
 * Replay `vectors` (an array, or the URL of one) through the entry at
 * `entry`. Runs both in Node and, serialized by playwright, in the page, so
 * it uses nothing but its arguments and what both have. Only what a
 * comparison needs leaves it: own properties, so "absent" stays absent.
 */
async function replay({ entry, vectors }) {
  const captoken = await import(entry);
  // The browser entry loads and checks the module here; Node's is a no-op.
  await captoken.init();
  const list = typeof vectors === 'string' ? await (await fetch(vectors)).json() : vectors;
  return list.map(({ id, op, text }) => {
    try {
      return { id, ok: true, text: captoken.callOperationText(op, text) };
    } catch (err) {
      const out = { id, ok: false, captokenError: err instanceof captoken.CaptokenError && err.name === 'CaptokenError' };
      if (!out.captokenError) out.thrown = String(err && err.stack ? err.stack : err);
      out.code = err?.code;
      out.message = err?.message;
      for (const key of ['path', 'audit', 'seq']) {
        if (err !== null && typeof err === 'object' && Object.prototype.hasOwnProperty.call(err, key)) out[key] = err[key];
      }
      return out;
    }
  });
}

/** `text`, cut to a length a failure report can show. */
function clip(text, max = 2000) {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/**
 * Compare a runner's outcomes with the vectors: the ids in order (each
 * vector replayed once), then every answer. Fails listing every mismatch.
 */
function check(runner, vectors, outcomes) {
  assert.equal(outcomes.length, vectors.length, `${runner}: replayed ${outcomes.length} of ${vectors.length} vectors`);
  assert.deepEqual(outcomes.map((o) => o.id), vectors.map((v) => v.id), `${runner}: replayed other vectors than the files hold`);
  const mismatches = [];
  vectors.forEach((vector, i) => {
    const actual = outcomes[i];
    let expected;
    if (vector.expect.ok) {
      expected = { id: vector.id, ok: true, text: vector.expect.response };
    } else {
      const { error } = vector.expect;
      expected = { id: vector.id, ok: false, captokenError: true, code: error.code, message: error.message };
      for (const key of ['path', 'audit', 'seq']) if (Object.hasOwn(error, key)) expected[key] = error[key];
    }
    if (isDeepStrictEqual(actual, expected)) return;
    let report = `${vector.id} (op ${vector.op}, sent ${clip(JSON.stringify(vector.text), 300)})`;
    if (expected.ok && actual.ok) {
      const got = String(actual.text);
      report += `\n  expected response: ${clip(expected.text)}\n  actual response:   ${clip(got)}`;
      // Long answers are clipped: say where they part.
      let at = 0;
      while (at < expected.text.length && expected.text[at] === got[at]) at += 1;
      report += `\n  first difference at UTF-16 offset ${at}`;
    } else {
      report += `\n  expected: ${clip(JSON.stringify(expected))}\n  actual:   ${clip(JSON.stringify(actual))}`;
    }
    mismatches.push(report);
  });
  if (mismatches.length > 0) {
    assert.fail(`${runner}: ${mismatches.length} of ${vectors.length} vectors answered otherwise:\n\n${mismatches.join('\n\n')}`);
  }
}

let vectors;
let work;
let project;

before(() => {
  // The files first: malformed ones fail before anything is packed.
  vectors = readVectors(vectorDir);
  ({ work, project } = packAndInstall('captoken-vectors-'));
  // Entries that find the package by its name, from inside the project, as
  // a user's `import` and `require` do (the `import` and `require`
  // conditions of its exports: index.js, and index.cjs over shared.cjs).
  writeFileSync(join(project, 'entry-import.mjs'), "export * from 'captoken';\n");
  writeFileSync(join(project, 'entry-require.mjs'), [
    "import { createRequire } from 'node:module';",
    "const { init, callOperationText, CaptokenError } = createRequire(import.meta.url)('captoken');",
    'export { init, callOperationText, CaptokenError };',
    '',
  ].join('\n'));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

for (const [runner, file] of [['Node import', 'entry-import.mjs'], ['Node require', 'entry-require.mjs']]) {
  test(`${runner}: the installed package answers every vector byte for byte`, async (t) => {
    const entry = pathToFileURL(join(project, file)).href;
    const outcomes = await replay({ entry, vectors: vectors.map(({ id, op, text }) => ({ id, op, text })) });
    check(runner, vectors, outcomes);
    t.diagnostic(`${runner}: ${outcomes.length} vectors replayed from ${vectorDir}`);
  });
}

test('Chromium: the browser entry of the installed package answers every vector byte for byte', async (t) => {
  const body = JSON.stringify(vectors.map(({ id, op, text }) => ({ id, op, text })));
  // The installed package as a site serves it; the vectors and an empty
  // page to run in are the test's own routes.
  const server = await serve({
    root: join(project, 'node_modules/captoken'),
    routes: {
      '/vectors.json': (_, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(body),
      '/blank.html': (_, response) => response.writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>vectors</title>'),
    },
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('crash', () => errors.push('the page crashed'));
    await page.goto(`${server.url}blank.html`);
    const outcomes = await page.evaluate(replay, { entry: '/browser.js', vectors: '/vectors.json' });
    assert.deepEqual(errors, [], 'errors in the page');
    check('Chromium', vectors, outcomes);
    t.diagnostic(`Chromium: ${outcomes.length} vectors replayed from ${vectorDir}`);
    await page.close();
  } finally {
    await browser.close();
    await server.close();
  }
});
