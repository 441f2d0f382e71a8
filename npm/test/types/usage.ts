// Compiled by `tsc -p tsconfig.json`, never run: every export of the package
// used the way the README uses it, through the package's own name (so the
// `exports` map and its `types` condition are what tsc resolves).
import {
  ABI_VERSION, CaptokenError, authorize, callOperation, checkPolicy, createCaptoken, delegate,
  evaluatePolicy, explainPolicy, generateKey, importKey, info, init, issue, issueAsync, moduleSha256, remoteJwks, scopeMeet,
  toPublicJwk, verify, verifyAsync,
  type Capability, type KeyHandle, type Captoken, type Decision, type ErrorCode, type Jwk, type Jwks, type Policy, type Verified,
} from 'captoken';

export async function usage(): Promise<string[]> {
  const ready: { moduleSha256: string; abiVersion: number } = await init();
  const digest: string = moduleSha256 + ready.moduleSha256;
  const abi: number = ABI_VERSION;

  const gw = generateKey();
  const holder = generateKey();
  const jwks: Jwks = { keys: [gw.publicJwk] };
  const caps: Capability[] = [{ actions: ['drive'], resources: ['robot:7'], constraints: { max_purchase: 0 } }];
  const issued = issue({
    key: gw.privateJwk, issuer: 'https://gw.example', ttl: 300,
    claims: { sub: 'operator-1', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk }, caps, tenant: 'extra claims are allowed' },
  });
  const trust = { jwks, issuer: 'https://gw.example', audience: 'robot-gateway' };
  const verified: Verified = verify({ ...trust, token: issued.token, leeway: 5, revoked: [] });
  const revocationKey: string = verified.id;
  // Keys in the forms a jose user holds them; durations as strings.
  const pem = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA...\n-----END PUBLIC KEY-----';
  verify({ ...trust, jwks: pem, token: issued.token, leeway: '30s' });
  verify({ ...trust, jwks: [gw.publicJwk, pem], token: issued.token, issuer: ['a', 'b'], audience: ['c', 'd'] });
  const remote = remoteJwks('https://gw.example/.well-known/jwks.json', { cooldown: 30 });
  const fromRemote: Verified = await verifyAsync({ ...trust, jwks: remote, token: issued.token });
  const jwk: Jwk = await toPublicJwk(pem);
  void fromRemote, jwk;
  // @ts-expect-error: a remote set must be awaited: the sync verify does not take it.
  verify({ ...trust, jwks: remote, token: issued.token });
  // The holder's proof of possession in the same call.
  const proven = verify({ ...trust, token: issued.token, proof: { proof: 'p', requestHash: 'h', maxAge: 30 } });
  const replayKey: string | undefined = proven.proof?.replay.key;
  // @ts-expect-error: nested options are camelCase too.
  verify({ ...trust, token: issued.token, proof: { proof: 'p', request_hash: 'h' } });
  void revocationKey, replayKey;
  const ok = authorize({ ...trust, token: issued.token, request: { action: 'drive', resource: 'robot:7', context: { purchase_amount: 0 } } });
  const allowed: true = ok.allowed;

  const child = delegate({
    ...trust, parent: issued.token, key: holder.privateJwk, ttl: 60, maxDepth: 2,
    claims: { sub: 'friend', aud: 'robot-gateway', cnf: { jwk: generateKey().publicJwk }, caps: scopeMeet(caps, caps) },
  });
  // A key handle signs in place of the JWK, synchronously or off the event loop.
  const handle: KeyHandle = importKey(gw.privateJwk).handle;
  const viaHandle = issue({ key: handle, issuer: 'https://gw.example', claims: { sub: 's', aud: 'a', cnf: { jwk: holder.publicJwk }, caps } });
  const offLoop = await issueAsync({ key: gw.handle, issuer: 'https://gw.example', claims: { sub: 's', aud: 'a', cnf: { jwk: holder.publicJwk }, caps } });
  void viaHandle.token, offLoop.token, handle.kid;
  // @ts-expect-error: a handle is made by the package, not spelled by hand.
  issue({ key: { kid: 'k', publicJwk: gw.publicJwk }, issuer: 'i', claims: { sub: 's', aud: 'a', cnf: { jwk: holder.publicJwk }, caps } });
  const depth: number = child.depth + verified.depth + verified.chain.length;
  // Every result names its revocation key, and a chain link its own.
  const ids: string[] = [ok.id, child.id, verified.id, ...verified.chain.map((link) => link.id)];
  // @ts-expect-error: the signer's half of an answer never reaches the sync API.
  void issued.signing_input;

  const policy: Policy = { version: 1, rules: [{ id: 'ops', effect: 'allow', subjects: { ids: ['op-1'] }, capabilities: caps }] };
  const request = { subject: { id: 'op-1' }, capabilities: caps, ttl: 60 };
  const decision: Decision = evaluatePolicy(policy, request, 1000);
  const reason = decision.decision === 'granted' ? decision.matched_rules.join(',') : decision.reason;
  const explained = explainPolicy(policy, request);
  const steps: number = explained.steps + checkPolicy(policy).rules;
  const effects: ('allow' | 'deny')[] = explained.rules.map((rule) => rule.effect);
  // Through the policy: the token and the grant, or the denial.
  const decided = issue({
    key: gw.privateJwk, issuer: 'x', policy, attributes: { role: 'operator' },
    claims: { sub: 'op-1', aud: 'robot-gateway', cnf: { jwk: holder.publicJwk }, caps },
  });
  const outcome: string = decided.decision === 'granted' ? decided.token + decided.ttl : decided.code;
  // @ts-expect-error: without a policy there is no decision to read.
  const none: string = issued.decision;

  // @ts-expect-error: a misspelt option is a compile error (and a `bad_request` at run time).
  verify({ ...trust, token: issued.token, maxdepth: 2 });
  // @ts-expect-error: `now` is a number of seconds, not a Date.
  issue({ key: gw.privateJwk, issuer: 'x', claims: issued as never, now: new Date() });

  let code: ErrorCode = 'expired';
  try {
    verify({ ...trust, token: 'a.b' });
  } catch (err) {
    if (!(err instanceof CaptokenError)) throw err;
    code = err.code;
    const where: string | undefined = err.path;
    void where;
  }

  const api: Captoken = createCaptoken({
    sha256: digest,
    instantiate: () => ({ call: (op, json) => `${op}${json}`, abiVersion: abi }),
    randomBytes: (n) => new Uint8Array(n),
    now: () => 0,
  });
  const ops: string[] = info().ops.concat(api.info().ops).map((op) => op.name + op.id);
  const raw: unknown = callOperation('info', {});
  void raw; void allowed;
  return [reason, code, String(depth + steps), ...ops, ...ids, ...effects];
}
