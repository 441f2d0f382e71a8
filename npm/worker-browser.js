// The Web Worker behind the browser entry's verifyAsync and
// authorizeAsync: the page hands it the module it already compiled and
// checked (a WebAssembly.Module is cloned, not refetched), then
// `{ id, op, request }` (a request the page built); it answers with the
// module's text, or the refusal's code, message, path, audit and seq.
import { init, callOperationText } from './browser.js';

self.onmessage = async ({ data }) => {
  if (data.module !== undefined) {
    try {
      await init(data.module);
      self.postMessage({ ready: true });
    } catch (err) {
      self.postMessage({ failed: String(err && err.message) });
    }
    return;
  }
  const { id, op, request } = data;
  try {
    self.postMessage({ id, ok: callOperationText(op, request) });
  } catch (err) {
    const { code = 'guest_trap', message = String(err), path, audit, seq } = err ?? {};
    self.postMessage({ id, error: { code, message, path, audit, seq } });
  }
};
