// A static file server for the package directory, on 127.0.0.1 only: the
// browser tests load the package through it, and it lets a person try the
// operator console (`node scripts/serve.mjs [port]`, then open the printed
// address). Browsers need http(s) here: WebCrypto, which checks the
// module's digest, is only available to pages from a secure context, and
// http://127.0.0.1 is one.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.sha256': 'text/plain; charset=utf-8',
};

/**
 * Serve `root` (default: the package) on 127.0.0.1:`port` (0: any free
 * port). `routes` maps extra paths to `(request, response) => void`, for a
 * test's own endpoints (a JWKS URL, say); `headers` are added to every file
 * served (a Content-Security-Policy, say). Resolves to `{ url, close }`.
 */
export async function serve({ root = packageRoot, port = 0, routes = {}, headers = {} } = {}) {
  const base = resolve(root);
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
    if (Object.hasOwn(routes, path)) return routes[path](request, response);
    const file = resolve(join(base, path.endsWith('/') ? `${path}index.html` : path));
    if (file !== base && !file.startsWith(base + sep)) {
      response.writeHead(403).end('outside the served directory');
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, {
        'content-type': types[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
        ...headers,
      });
      response.end(body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
    }
  });
  await new Promise((ready, fail) => server.once('error', fail).listen(port, '127.0.0.1', ready));
  const url = `http://127.0.0.1:${server.address().port}/`;
  return { url, close: () => new Promise((done) => server.close(done)) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { url } = await serve({ port: Number(process.argv[2] ?? 8080) });
  console.log(`serving ${packageRoot} at ${url}`);
  console.log(`operator console: ${url}examples/console/`);
}
