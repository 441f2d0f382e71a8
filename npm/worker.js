// A worker thread of the Node pool (pool.js): one instance of the module,
// answering `{ id, op, request }` (a request the main thread built) with
// the module's answer text, or its refusal's code, message, path, audit and seq.
import { parentPort } from 'node:worker_threads';
import { callOperationText } from './index.js';

parentPort.on('message', ({ id, op, request }) => {
  try {
    parentPort.postMessage({ id, ok: callOperationText(op, request) });
  } catch (err) {
    const { code = 'guest_trap', message = String(err), path, audit, seq } = err ?? {};
    parentPort.postMessage({ id, error: { code, message, path, audit, seq } });
  }
});
