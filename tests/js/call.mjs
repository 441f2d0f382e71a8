// Run one operation of the npm package's module: `node call.mjs OP < request.json`.
// Prints the module's raw response text (not re-serialized by JS), so the
// Rust side can compare bytes. Exit 0 = result, 1 = error JSON.
import { readFileSync } from 'node:fs';
// The package's own entry: digest-checked, called over the raw ABI, the
// response text exactly as the module wrote it.
import { callOperationText as call } from '../../npm/index.js';

const op = process.argv[2];
const request = readFileSync(0, 'utf8');
try {
  process.stdout.write(call(op, request));
} catch (err) {
  process.stdout.write(JSON.stringify({ code: err.code, message: err.message }));
  process.exitCode = 1;
}
