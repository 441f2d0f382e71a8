// A key set fetched from the issuer's JWKS URL, as services verifying
// tokens of a gateway they do not run would use it: cached, refetched on a
// rotation, never hammered by unknown `kid`s.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { issue, generateKey, remoteJwks, verifyAsync, CaptokenError } from '../index.js';

const [a, b, holder] = [generateKey(), generateKey(), generateKey()];
let published = [a.publicJwk];
let fetches = 0;
let status = 200;
const server = createServer((request, response) => {
  fetches += 1;
  if (status !== 200) return response.writeHead(status).end('down');
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
});
await new Promise((ready) => server.listen(0, '127.0.0.1', ready));
const url = `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`;
after(() => new Promise((done) => server.close(done)));

const tokenOf = (key) => issue({
  key: key.privateJwk, issuer: 'https://gw.example', ttl: 300,
  claims: { sub: 'svc', aud: 'api', cnf: { jwk: holder.publicJwk }, caps: [{ actions: ['read'], resources: ['*'] }] },
}).token;
const trust = { issuer: 'https://gw.example', audience: 'api' };
const refused = (code) => (e) => e instanceof CaptokenError && e.code === code;

test('fetched once and cached; a rotation is picked up on the first token of the new key', async () => {
  fetches = 0;
  published = [a.publicJwk];
  const jwks = remoteJwks(url, { cooldown: 0 });
  assert.equal(fetches, 0, 'nothing is fetched before it is used');
  for (let i = 0; i < 3; i += 1) {
    assert.equal((await verifyAsync({ ...trust, jwks, token: tokenOf(a) })).claims.sub, 'svc');
  }
  assert.equal(fetches, 1);
  published = [a.publicJwk, b.publicJwk];
  assert.equal((await verifyAsync({ ...trust, jwks, token: tokenOf(b) })).claims.sub, 'svc');
  assert.equal(fetches, 2, 'one refetch for the unknown kid');
});

test('unknown kids do not hammer the issuer: one refetch per cooldown', async () => {
  fetches = 0;
  published = [a.publicJwk];
  const jwks = remoteJwks(url, { cooldown: 3600 });
  const stranger = tokenOf(generateKey());
  for (let i = 0; i < 5; i += 1) {
    await assert.rejects(verifyAsync({ ...trust, jwks, token: stranger }), refused('unknown_kid'));
  }
  assert.equal(fetches, 1, 'the first fetch only: the cooldown holds the refetch');
});

test('a stale cache is refetched; an unreachable or failing issuer is jwks_unavailable', async () => {
  fetches = 0;
  published = [a.publicJwk];
  const jwks = remoteJwks(url, { maxAge: 0 });
  await verifyAsync({ ...trust, jwks, token: tokenOf(a) });
  await verifyAsync({ ...trust, jwks, token: tokenOf(a) });
  assert.equal(fetches, 2);
  status = 503;
  try {
    await assert.rejects(verifyAsync({ ...trust, jwks, token: tokenOf(a) }), refused('jwks_unavailable'));
  } finally {
    status = 200;
  }
  await assert.rejects(
    verifyAsync({ ...trust, jwks: remoteJwks('http://127.0.0.1:1/jwks.json'), token: tokenOf(a) }),
    refused('jwks_unavailable'),
  );
  // What the set holds is the module's to judge, as for any set.
  published = [{ ...a.publicJwk, d: a.privateJwk.d }];
  await assert.rejects(verifyAsync({ ...trust, jwks: remoteJwks(url), token: tokenOf(a) }), refused('private_key_in_public_set'));
});

test('verifyAsync takes every key form verify takes, and a CryptoKey', async () => {
  const { webcrypto } = await import('node:crypto');
  const cryptoKey = await webcrypto.subtle.importKey('jwk', a.publicJwk, { name: 'Ed25519' }, true, ['verify']);
  assert.equal((await verifyAsync({ ...trust, jwks: cryptoKey, token: tokenOf(a) })).claims.sub, 'svc');
  assert.equal((await verifyAsync({ ...trust, jwks: [b.publicJwk, cryptoKey], token: tokenOf(a) })).claims.sub, 'svc');
  assert.equal((await verifyAsync({ ...trust, jwks: { keys: [a.publicJwk] }, token: tokenOf(a) })).claims.sub, 'svc');
});
