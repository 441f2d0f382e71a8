// Run a batch of operations in the npm package's module:
//   node batch.mjs < [[op, requestText], ...]
// Prints [{ ok, body }, ...] with each body the module's raw response text,
// so the Rust side compares the exact bytes every host produced.
import { readFileSync } from 'node:fs';
// The package's own entry: digest-checked, called over the raw ABI, the
// response text exactly as the module wrote it.
import { callOperationText as call } from '../../npm/index.js';

const cases = JSON.parse(readFileSync(0, 'utf8'));
const results = cases.map(([op, request]) => {
  try {
    return { ok: true, body: call(op, request) };
  } catch (err) {
    return { ok: false, body: JSON.stringify({ code: err.code, message: err.message }) };
  }
});
process.stdout.write(JSON.stringify(results));
