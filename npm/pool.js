// A pool of Node worker threads, each holding its own instance of the
// module, that runs module calls off the event loop: what `verifyAsync`,
// `authorizeAsync` and the signing async forms given a `key` use in Node,
// so a service verifying or issuing under concurrency is not capped at one
// core. The main thread builds each
// request (options read, keys converted, clock and entropy filled) and a
// worker only runs the call (`worker.js`), so both answer alike.
import { Worker } from 'node:worker_threads';
import { availableParallelism, cpus } from 'node:os';

/** Threads by default: one per core, at most 8. */
export function defaultSize() {
  const cores = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  return Math.max(1, Math.min(8, cores));
}

/**
 * `{ call(op, requestJson) -> Promise<responseJson>, close() }` over
 * `size` workers running `workerUrl`. A call that the module refuses
 * rejects with `{ code, message, path?, audit?, seq? }` for the caller to turn
 * into its CaptokenError; a worker that dies fails its calls with
 * `guest_trap` and is replaced on the next call.
 */
export function createPool(workerUrl, size = defaultSize()) {
  const workers = [];
  let nextId = 0;

  function spawn() {
    const worker = new Worker(workerUrl);
    const entry = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', ({ id, ok, error }) => {
      const task = entry.pending.get(id);
      if (!task) return;
      entry.pending.delete(id);
      if (entry.pending.size === 0) worker.unref();
      if (error) task.reject(error);
      else task.resolve(ok);
    });
    const fail = (err) => {
      const index = workers.indexOf(entry);
      if (index >= 0) workers.splice(index, 1);
      for (const task of entry.pending.values()) {
        task.reject({ code: 'guest_trap', message: `a worker thread failed: ${err && err.message}` });
      }
      entry.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with ${code}`)));
    workers.push(entry);
    return entry;
  }

  function pick() {
    if (workers.length < size) return spawn();
    let best = workers[0];
    for (const entry of workers) if (entry.pending.size < best.pending.size) best = entry;
    return best;
  }

  return {
    size,
    call(op, request) {
      const entry = pick();
      const id = nextId++;
      return new Promise((resolve, reject) => {
        entry.pending.set(id, { resolve, reject });
        entry.worker.ref();
        entry.worker.postMessage({ id, op, request });
      });
    },
    close() {
      return Promise.all(workers.splice(0).map(({ worker }) => worker.terminate()));
    },
  };
}
