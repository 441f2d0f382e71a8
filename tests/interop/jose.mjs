// The Node side of the interop tests (host/tests/gateway/interop.rs): jose,
// the usual JWT library of Node, and the captoken npm package, each asked
// to verify or sign one token. One JSON command on stdin, one JSON answer
// on stdout; a refusal is `{ "refused": "<the library's message>" }`.
//
//   verify      { jwks_url | jwks, token, issuer, audience } -> { header, payload }
//   sign        { private_jwk, header, claims }               -> { token }
//   npm-issue   { private_jwk, issuer, ttl, claims }          -> { token, jwks }
//   npm-verify  { jwks, token, issuer, audience }             -> { claims }
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as captoken from '../../npm/index.js';

// jose is a dev dependency of the npm package: resolve it from there.
const fromNpm = createRequire(new URL('../../npm/package.json', import.meta.url));
const jose = await import(pathToFileURL(fromNpm.resolve('jose')).href);

const command = JSON.parse(readFileSync(0, 'utf8'));

async function run(c) {
  switch (c.do) {
    case 'verify': {
      // A remote JWKS is what a service verifying gateway tokens would
      // point jose at: the gateway's /.well-known/jwks.json.
      const keys = c.jwks_url
        ? jose.createRemoteJWKSet(new URL(c.jwks_url))
        : jose.createLocalJWKSet(c.jwks);
      const { protectedHeader, payload } = await jose.jwtVerify(c.token, keys, {
        algorithms: ['EdDSA'],
        typ: 'captoken+jwt',
        issuer: c.issuer,
        audience: c.audience,
        requiredClaims: ['exp', 'iat', 'nbf', 'jti', 'sub'],
      });
      return { header: protectedHeader, payload };
    }
    case 'sign': {
      const key = await jose.importJWK(c.private_jwk, 'EdDSA');
      return { token: await new jose.SignJWT(c.claims).setProtectedHeader(c.header).sign(key) };
    }
    case 'npm-issue': {
      const pair = captoken.importKey(c.private_jwk);
      const issued = captoken.issue({ key: pair.handle, issuer: c.issuer, ttl: c.ttl, claims: c.claims });
      return { token: issued.token, jwks: captoken.jwks(pair.publicJwk) };
    }
    case 'npm-verify': {
      const verified = captoken.verify({ token: c.token, jwks: c.jwks, issuer: c.issuer, audience: c.audience });
      return { claims: verified.claims };
    }
    default:
      throw new Error(`unknown command ${c.do}`);
  }
}

try {
  process.stdout.write(JSON.stringify(await run(command)));
} catch (err) {
  if (err instanceof Error && (err.code || err.name)) {
    process.stdout.write(JSON.stringify({ refused: `${err.code ?? err.name}: ${err.message}` }));
  } else {
    throw err;
  }
}
