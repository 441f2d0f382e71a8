// Generated from the shared region of browser.js by tests/tests/npm_contract.rs
// (CAPTOKEN_BLESS=1 cargo test -p captoken-tests --test npm_contract): do not edit.
'use strict';

// #region shared
// Runs as module code here and as a strict-mode script in index.cjs: no
// import, export or import.meta between these markers.

const errorBrand = Symbol.for('captoken.CaptokenError');

/**
 * Every failure carries a stable `code`: the module's own codes (the same
 * strings the gateway and CLI report) plus the few this wrapper adds while
 * loading the module.
 */
class CaptokenError extends Error {
  constructor(code, message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CaptokenError';
    this.code = code;
    // Where in a document the problem is, e.g. `caps[0].constraints.max_purchase`.
    if (typeof options.path === 'string') this.path = options.path;
    // The audit event this refusal must leave (`{ event, data }`, as
    // appendAudit takes them), e.g. a refused delegation.
    if (options.audit !== undefined) this.audit = options.audit;
    // Where an audit chain broke: the `seq` of its first bad record.
    if (typeof options.seq === 'number') this.seq = options.seq;
    this[errorBrand] = true;
  }

  // A process can hold two copies of this class (an app's `import` and a
  // dependency's `require` load different entries); an error from either
  // copy must pass `instanceof` against both.
  static [Symbol.hasInstance](value) {
    return value instanceof Error && value[errorBrand] === true;
  }
}

/**
 * Refuse a module that is not the one this package was built with: the
 * expected digest is `MODULE_SHA256`, a constant in this code (generated
 * with the module), never a file fetched beside it, so swapping the module
 * means swapping the code that trusts it.
 */
function checkDigest(actualSha256) {
  if (actualSha256 !== MODULE_SHA256) {
    throw new CaptokenError(
      'module_digest_mismatch',
      `module digest \`${actualSha256}\` is not this package's \`${MODULE_SHA256}\``,
    );
  }
}

/** Refuse a module that speaks another ABI than this wrapper (docs/ABI.md). */
function checkAbi(abi) {
  if (abi !== 1) {
    throw new CaptokenError('abi_mismatch', `module speaks ABI \`${abi}\`; this package speaks 1`);
  }
}

function base64url(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** The largest request the module is handed, in UTF-8 bytes: the gateway's limit too. */
const MAX_REQUEST_BYTES = 1 << 20;
/**
 * Linear memory an instance may keep between calls. A call that leaves it
 * larger (a large request grew the heap, which wasm never shrinks) is the
 * instance's last: the next call gets a fresh one, so one big request does
 * not hold its memory for the life of the process.
 */
const MAX_RESIDENT_BYTES = 32 << 20;

/**
 * The module over its raw ABI (docs/ABI.md), the interface the wasmtime
 * gateway uses: versioned, documented, needing no imports. The imports a
 * wasm-bindgen build declares are defined as traps, as the gateway does.
 * `call(name, json) -> json`; operation ids come from the module's own
 * `info`. An instance that trapped, or grew past MAX_RESIDENT_BYTES, is
 * dropped and the next call gets a fresh one (instantiating a compiled
 * module takes microseconds).
 */
// ---- forms the JS API takes beyond the wire's (jose users write these)

/** Seconds in a duration's unit. */
const UNIT_SECONDS = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
};

/**
 * A duration as the module reads it (integer seconds): a number passes as
 * it is (the module judges it), a string is a whole number and a unit,
 * `'30s'`, `'5 min'`, `'2h'`, `'1d'`. Anything else is refused here.
 */
function seconds(value, name) {
  if (typeof value !== 'string') return value;
  const match = /^\s*(\d+)\s*([a-z]+)?\s*$/i.exec(value);
  const unit = match && (match[2] === undefined ? 1 : UNIT_SECONDS[match[2].toLowerCase()]);
  if (!unit) {
    throw new CaptokenError('bad_request', `\`${name}\`: \`${value}\` is not a duration (seconds, or e.g. '30s', '5m', '2h', '1d')`);
  }
  return Number(match[1]) * unit;
}

// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE,
// AlgorithmIdentifier with OID 1.3.101.112, BIT STRING of 32 bytes.
const ED25519_SPKI_PREFIX = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/** The public JWK of a PEM `PUBLIC KEY` block holding an Ed25519 key. */
function jwkOfPem(pem) {
  const match = /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----\s*$/.exec(pem.trim());
  if (match === null) {
    throw new CaptokenError('bad_key', 'a PEM key must be one `-----BEGIN PUBLIC KEY-----` block (SPKI)');
  }
  const der = Uint8Array.from(atob(match[1].replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  const prefixed = ED25519_SPKI_PREFIX.every((byte, i) => der[i] === byte);
  if (der.length !== ED25519_SPKI_PREFIX.length + 32 || !prefixed) {
    throw new CaptokenError('unsupported_key_type', 'the PEM key is not an Ed25519 public key');
  }
  return { kty: 'OKP', crv: 'Ed25519', x: base64url(der.subarray(ED25519_SPKI_PREFIX.length)) };
}

/** Whether `key` is a WebCrypto `CryptoKey` (structurally: an `algorithm`, no `export`). */
function isCryptoKey(key) {
  return key !== null && typeof key === 'object' && typeof key.export !== 'function'
    && typeof key.type === 'string' && typeof key.algorithm === 'object';
}

/** One verification key as a public JWK: a JWK, a PEM block or a Node `KeyObject`. */
function publicJwkOf(key) {
  if (typeof key === 'string') return jwkOfPem(key);
  if (key !== null && typeof key === 'object' && typeof key.export === 'function' && typeof key.type === 'string') {
    if (key.type !== 'public') {
      throw new CaptokenError('private_key_in_public_set', `a verification key must be public, not a ${key.type} KeyObject`);
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new CaptokenError('unsupported_key_type', `expected an Ed25519 key, not ${key.asymmetricKeyType}`);
    }
    const { kty, crv, x } = key.export({ format: 'jwk' });
    return { kty, crv, x };
  }
  if (isCryptoKey(key)) {
    throw new CaptokenError('bad_request', 'a CryptoKey exports asynchronously: pass `await toPublicJwk(cryptoKey)`');
  }
  return key;
}

/**
 * The key set a verifier trusts, from any of the forms the API takes: a
 * JWKS, one public JWK, a PEM block, a Node `KeyObject`, or a list of these.
 * What is not recognisably one of them goes as it is, for the module to
 * refuse with its own code.
 */
function keySetOf(value) {
  if (Array.isArray(value)) return { keys: value.map(publicJwkOf) };
  if (value !== null && typeof value === 'object' && Array.isArray(value.keys)) return value;
  if (typeof value === 'string' || (value !== null && typeof value === 'object')) {
    const jwk = publicJwkOf(value);
    if (jwk !== null && typeof jwk === 'object' && typeof jwk.kty === 'string') return { keys: [jwk] };
  }
  return value;
}

/**
 * The wire text of each `KeyHandle`, out of reach of logs and
 * `JSON.stringify`. One map per realm, not per copy of this file: a handle
 * made through the ESM entry works through the CommonJS one (a process may
 * load both). The map hides the text from accidents, not from code running
 * in the same realm, which could as well read the private JWK.
 */
const HANDLE_TEXT = (() => {
  const name = Symbol.for('captoken.keyHandles');
  if (!(globalThis[name] instanceof WeakMap)) {
    Object.defineProperty(globalThis, name, { value: new WeakMap() });
  }
  return globalThis[name];
})();

/**
 * A signing key read once (`generateKey`, `importKey`): operations given
 * it as `key` sign without re-deriving the public key from the private one
 * (about half of an issue's time). It holds the private key; printing or
 * serializing it shows only `kid` and `publicJwk`.
 */
class KeyHandle {
  constructor(kid, publicJwk, text) {
    this.kid = kid;
    this.publicJwk = publicJwk;
    HANDLE_TEXT.set(this, text);
    Object.freeze(this);
  }
}

/** A signing key as the module reads it: a handle's text, a JWK as it is. */
function privateKeyOf(value) {
  return HANDLE_TEXT.get(value) ?? value;
}

/** Request members the JS API takes in more forms than the wire, and their conversion. */
const CONVERT = {
  jwks: keySetOf,
  key: privateKeyOf,
  leeway: seconds,
  max_age: seconds,
  max_stale: seconds,
  ttl: seconds,
};

/** What a module speaking the raw ABI exports (docs/ABI.md). */
const RAW_ABI_EXPORTS = [
  ['memory', 'memory'], ['ct_abi_version', 'function'], ['ct_alloc', 'function'], ['ct_free', 'function'],
  ['ct_call', 'function'], ['ct_out_ptr', 'function'], ['ct_out_len', 'function'],
];

function rawEngine(module, maxResidentBytes = MAX_RESIDENT_BYTES) {
  const imports = {};
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== 'function') throw new CaptokenError('module_invalid', `unexpected ${kind} import \`${from}.${name}\``);
    imports[from] = imports[from] || {};
    imports[from][name] = () => {
      throw new WebAssembly.RuntimeError(`the raw ABI reached the JS import \`${name}\``);
    };
  }
  const exported = new Map(WebAssembly.Module.exports(module).map(({ name, kind }) => [name, kind]));
  for (const [name, kind] of RAW_ABI_EXPORTS) {
    if (exported.get(name) !== kind) {
      throw new CaptokenError('module_invalid', `the module does not export the raw ABI's ${kind} \`${name}\``);
    }
  }
  const instantiate = () => new WebAssembly.Instance(module, imports).exports;
  let wasm = instantiate();
  let instances = 1;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });

  function callId(id, request) {
    if (wasm === null) {
      wasm = instantiate();
      instances += 1;
    }
    const current = wasm;
    let status;
    let response;
    try {
      const ptr = current.ct_alloc(request.length) >>> 0;
      if (ptr === 0) throw new CaptokenError('guest_alloc', 'the module could not allocate the request');
      new Uint8Array(current.memory.buffer, ptr, request.length).set(request);
      status = current.ct_call(id, ptr, request.length);
      response = decoder.decode(new Uint8Array(current.memory.buffer, current.ct_out_ptr() >>> 0, current.ct_out_len() >>> 0));
      current.ct_free(ptr, request.length);
    } catch (err) {
      // A trap may leave the instance's state broken: never call it again.
      wasm = null;
      if (err instanceof TypeError) throw new CaptokenError('guest_bad_response', 'the module answered with invalid UTF-8');
      throw err;
    }
    if (current.memory.buffer.byteLength > maxResidentBytes) wasm = null;
    if (status === 0) return response;
    if (status === 1) {
      const { code, message, path, audit, seq } = JSON.parse(response);
      throw new CaptokenError(code, message, { path, audit, seq });
    }
    throw new CaptokenError('guest_bad_status', `the module answered with status \`${status}\``);
  }

  let ids = null;
  return {
    abiVersion: wasm.ct_abi_version(),
    call(op, text) {
      // Operation ids by name, from the module itself (operation 0, `info`);
      // asked on first use, after the caller has checked the ABI version.
      ids = ids || new Map(JSON.parse(callId(0, encoder.encode('{}'))).ops.map(({ id, name }) => [name, id]));
      const id = ids.get(op);
      if (id === undefined) throw new CaptokenError('unknown_op', `unknown operation \`${op}\``);
      // Counted before the module sees it: never copied into wasm memory.
      // A UTF-16 code unit is at least one UTF-8 byte, so a text longer
      // than the limit is not even encoded.
      const bytes = text.length > MAX_REQUEST_BYTES ? null : encoder.encode(text);
      if (bytes === null || bytes.length > MAX_REQUEST_BYTES) {
        throw new CaptokenError(
          'request_too_large',
          `the \`${op}\` request is over the module's limit of ${MAX_REQUEST_BYTES} bytes`,
        );
      }
      return callId(id, bytes);
    },
    /** Resident linear memory and instances made so far, for tests and monitoring. */
    stats: () => ({ memoryBytes: wasm === null ? 0 : wasm.memory.buffer.byteLength, instances }),
  };
}

// #region generated operations
// Generated from captoken_core::ops::{contract, responses} by tests/tests/npm_contract.rs
// (CAPTOKEN_BLESS=1 cargo test -p captoken-tests --test npm_contract): do not edit.
// Per operation: `options`, each JS option's request member (an object
// member as `[member, its options]`); `now`, the members filled from the
// clock when left out; `entropy`, the members always filled with random
// bytes. `TRUST_OPTIONS`: the options every verifying operation shares.
const TRUST_OPTIONS = {
  leeway: 'leeway',
  maxDepth: 'max_depth',
  revoked: 'revoked',
  revocationList: 'revocation_list',
  statusList: 'status_list',
  maxStale: 'max_stale',
  lastSeenSeq: 'last_seen_seq',
  jwks: 'jwks',
  issuer: 'issuer',
  audience: 'audience',
  now: 'now',
};
// The SHA-256 of the module this code trusts, dist/captoken_bg.wasm
// (scripts/build-wasm.sh writes it here with the module).
const MODULE_SHA256 = 'f567c1fffd9e1086353401a6c34ef70cf75abdb808ae6b3b777d1da5604ea6e1';
const CONTRACT = {
  info: {
    options: {},
    now: [],
    entropy: [],
  },
  keygen: {
    options: {
      seed: 'seed',
    },
    now: [],
    entropy: [],
  },
  issue: {
    options: {
      key: 'key',
      issuer: 'issuer',
      now: 'now',
      policy: 'policy',
      attributes: 'attributes',
      budget: 'budget',
      bearer: 'bearer',
      ttl: 'ttl',
      claims: 'claims',
    },
    now: ['now'],
    entropy: ['entropy'],
  },
  verify: {
    options: {
      ...TRUST_OPTIONS,
      token: 'token',
      proof: ['proof', {
        proof: 'proof',
        audience: 'audience',
        maxAge: 'max_age',
        nonce: 'nonce',
        requestHash: 'request_hash',
        seen: 'seen',
      }],
      grant: 'grant',
    },
    now: ['now'],
    entropy: [],
  },
  authorize: {
    options: {
      ...TRUST_OPTIONS,
      token: 'token',
      request: ['request', {
        context: 'context',
        action: 'action',
        resource: 'resource',
      }],
    },
    now: ['now'],
    entropy: [],
  },
  delegate: {
    options: {
      ...TRUST_OPTIONS,
      parent: 'parent',
      key: 'key',
      ttl: 'ttl',
      claims: 'claims',
    },
    now: ['now'],
    entropy: ['entropy'],
  },
  scope_meet: {
    options: {
      a: 'a',
      b: 'b',
    },
    now: [],
    entropy: [],
  },
  policy_check: {
    options: {
      policy: 'policy',
    },
    now: [],
    entropy: [],
  },
  policy_evaluate: {
    options: {
      policy: 'policy',
      request: 'request',
      budget: 'budget',
    },
    now: [],
    entropy: [],
  },
  policy_explain: {
    options: {
      policy: 'policy',
      request: 'request',
      budget: 'budget',
    },
    now: [],
    entropy: [],
  },
  revocation_list_sign: {
    options: {
      key: 'key',
      list: 'list',
    },
    now: [],
    entropy: [],
  },
  revocation_list_verify: {
    options: {
      list: 'list',
      jwks: 'jwks',
      issuer: 'issuer',
      now: 'now',
      lastSeenSeq: 'last_seen_seq',
      leeway: 'leeway',
    },
    now: ['now'],
    entropy: [],
  },
  pop_create: {
    options: {
      key: 'key',
      token: 'token',
      audience: 'audience',
      nonce: 'nonce',
      requestHash: 'request_hash',
      now: 'now',
    },
    now: ['now'],
    entropy: ['entropy'],
  },
  pop_verify: {
    options: {
      ...TRUST_OPTIONS,
      proof: 'proof',
      token: 'token',
      popAudience: 'pop_audience',
      maxAge: 'max_age',
      nonce: 'nonce',
      requestHash: 'request_hash',
      seen: 'seen',
    },
    now: ['now'],
    entropy: [],
  },
  audit_append: {
    options: {
      last: 'last',
      time: 'time',
      event: 'event',
      data: 'data',
    },
    now: ['time'],
    entropy: [],
  },
  audit_verify: {
    options: {
      records: 'records',
      head: 'head',
      genesis: 'genesis',
      after: ['after', {
        seq: 'seq',
        hash: 'hash',
      }],
    },
    now: [],
    entropy: [],
  },
  refresh: {
    options: {
      ...TRUST_OPTIONS,
      token: 'token',
      key: 'key',
      policy: 'policy',
      attributes: 'attributes',
      ttl: 'ttl',
      status: 'status',
      budget: 'budget',
    },
    now: ['now'],
    entropy: ['entropy'],
  },
  attach_signature: {
    options: {
      signingInput: 'signing_input',
      signature: 'signature',
      publicJwk: 'public_jwk',
      chainRest: 'chain_rest',
    },
    now: [],
    entropy: [],
  },
  decode: {
    options: {
      token: 'token',
    },
    now: [],
    entropy: [],
  },
  status_list_sign: {
    options: {
      key: 'key',
      list: ['list', {
        iss: 'iss',
        sub: 'sub',
        iat: 'iat',
        exp: 'exp',
        ttl: 'ttl',
        size: 'size',
        revoked: 'revoked',
      }],
    },
    now: [],
    entropy: [],
  },
  status_list_verify: {
    options: {
      list: 'list',
      jwks: 'jwks',
      issuer: 'issuer',
      now: 'now',
      uri: 'uri',
      idx: 'idx',
      leeway: 'leeway',
    },
    now: ['now'],
    entropy: [],
  },
};
// #endregion generated operations

/**
 * The API over one instance of the module. `source` says how to get it:
 * `{ sha256, module | bytes | instantiate, randomBytes, now }`, where
 * `sha256` is the hex digest of the module's bytes (it must be
 * `MODULE_SHA256`), and the module is a compiled `WebAssembly.Module`, its
 * `bytes` (compiled after the digest check), or `instantiate()`, which makes an engine of its own and returns
 * `{ call(op, requestJson) -> responseJson, abiVersion }` (`call` throws an
 * object with `code` and `message` when the module refuses). Nothing of the
 * module runs before its digest has been checked.
 */
function createCaptoken(source) {
  checkDigest(source.sha256);
  // The module as compiled, or its bytes (compiled only now, after the
  // digest check), over the raw ABI; or an engine of the caller's own.
  const engine = typeof source.instantiate === 'function'
    ? source.instantiate()
    : rawEngine(source.module ?? new WebAssembly.Module(source.bytes), source.maxResidentBytes);
  checkAbi(engine.abiVersion);

  function run(op, request) {
    let text;
    try {
      text = JSON.stringify(request);
    } catch (err) {
      // A BigInt, a cycle: not JSON, so not a request the module can read.
      throw new CaptokenError('bad_request', `\`${op}\`: the request is not JSON: ${err.message}`, { cause: err });
    }
    return JSON.parse(runText(op, text));
  }

  // The module's answer as the text it wrote, byte for byte.
  function runText(op, text) {
    if (typeof op !== 'string' || typeof text !== 'string') {
      throw new CaptokenError('bad_request', 'an operation name and a JSON request text are expected');
    }
    try {
      return engine.call(op, text);
    } catch (err) {
      if (err instanceof CaptokenError) throw err;
      if (err && typeof err.code === 'string') {
        const body = typeof err.body === 'string' ? JSON.parse(err.body) : {};
        throw new CaptokenError(err.code, err.message, { path: body.path, audit: body.audit, seq: body.seq });
      }
      // A trap is a bug in the module (it is built with panic = abort).
      if (err instanceof WebAssembly.RuntimeError) {
        throw new CaptokenError('guest_trap', `the module trapped: ${err.message}`, { cause: err });
      }
      // Anything else thrown from inside the call (the glue could not get
      // memory, say) is the module failing to run, whatever JS called it.
      throw new CaptokenError('guest_trap', `the module failed: ${err && err.message}`, { cause: err });
    }
  }

  const entropy = () => base64url(source.randomBytes(16));

  // The request an options object stands for, as `map` (from CONTRACT, the
  // module's own description of its requests) names each option's member.
  // An option not listed is refused, as the module refuses unknown
  // members, so a misspelt `maxdepth` never silently means "the default".
  function requestOf(op, options, map, at) {
    const request = {};
    for (const [name, value] of Object.entries(options)) {
      if (!Object.hasOwn(map, name)) {
        throw new CaptokenError('bad_request', `\`${op}\` has no option \`${at}${name}\``);
      }
      if (value === undefined) continue;
      const member = map[name];
      if (typeof member === 'string') {
        request[member] = Object.hasOwn(CONVERT, member) ? CONVERT[member](value, `${at}${name}`) : value;
      } else {
        // An object member: its own options, mapped the same way. Anything
        // but a plain object goes as it is, for the module to refuse.
        const [wire, inner] = member;
        const plain = value !== null && typeof value === 'object' && !Array.isArray(value);
        request[wire] = plain ? requestOf(op, value, inner, `${at}${name}.`) : value;
      }
    }
    return request;
  }

  // An operation whose request is one options object. `omit` drops options
  // this form does not take; `raw` adds members passed as they are. Members
  // the contract marks `now` are filled from the clock when left out, and
  // `entropy` members always; every other default is the module's.
  function prepare(op, { omit = [], raw = {} } = {}) {
    const { options: all, now, entropy: random } = CONTRACT[op];
    const map = { ...all, ...raw };
    for (const name of omit) delete map[name];
    return (options = {}) => {
      if (options === null || typeof options !== 'object' || Array.isArray(options)) {
        throw new CaptokenError('bad_request', `\`${op}\` takes one options object`);
      }
      const request = requestOf(op, options, map, '');
      for (const member of now) if (request[member] === undefined) request[member] = source.now();
      for (const member of random) request[member] = entropy();
      return request;
    };
  }

  function operation(op, forms) {
    const build = prepare(op, forms);
    return (options) => run(op, build(options));
  }

  // A request run where the binding offloads calls (Node: a pool of worker
  // threads, each with its own instance), or here when it does not. The
  // request is built here either way, so both answer alike.
  async function runOffloaded(op, request) {
    if (typeof source.offload !== 'function') return run(op, request);
    let text;
    try {
      text = JSON.stringify(request);
    } catch (err) {
      throw new CaptokenError('bad_request', `\`${op}\`: the request is not JSON: ${err.message}`, { cause: err });
    }
    try {
      return JSON.parse(await source.offload(op, text, () => runText(op, text)));
    } catch (err) {
      if (err instanceof CaptokenError) throw err;
      const { code = 'guest_trap', message = String(err), path, audit, seq } = err ?? {};
      throw new CaptokenError(code, message, { path, audit, seq });
    }
  }

  // Signing outside the module (docs/ABI.md, `signer`): the private key
  // stays where it lives (a non-extractable WebCrypto key, an HSM); the
  // module builds the bytes to sign, and checks the signature it is handed
  // back against the public key before assembling the result.
  function signedElsewhere(op, member) {
    const prepare = operation(op, { omit: ['key'], raw: { signer: 'signer' } });
    return async (options = {}) => {
      const { signer } = options;
      if (!signer || typeof signer.sign !== 'function' || typeof signer.publicJwk !== 'object') {
        throw new CaptokenError('bad_request', `\`${op}\` needs \`signer: { publicJwk, sign(bytes) }\``);
      }
      const out = prepare({ ...options, signer: { public_jwk: signer.publicJwk } });
      // An issue through a policy that denies signs nothing.
      if (out.decision === 'denied') return out;
      const input = out.signing_input;
      let signature;
      try {
        signature = new Uint8Array(await signer.sign(new TextEncoder().encode(input)));
      } catch (err) {
        if (err instanceof CaptokenError) throw err;
        throw new CaptokenError('signing_failed', `the signer failed: ${err && err.message}`, { cause: err });
      }
      const attach = { signing_input: input, signature: base64url(signature), public_jwk: signer.publicJwk };
      if (out.chain_rest !== undefined) attach.chain_rest = out.chain_rest;
      const { token } = run('attach_signature', attach);
      delete out.signing_input;
      delete out.chain_rest;
      out[member] = token;
      return out;
    };
  }

  // The async form of an operation that signs: with `signer`, signed
  // outside the module; with `key` (a JWK or a handle), the whole operation
  // off the event loop, as `verifyAsync` runs.
  function keyedOrSigned(op, member) {
    const signed = signedElsewhere(op, member);
    const keyed = awaiting(op);
    return async (options = {}) => (options !== null && typeof options === 'object' && options.signer === undefined
      ? keyed(options) : signed(options));
  }

  // ---- remote key sets (a JWKS URL), for the async verifiers

  const remoteBrand = Symbol.for('captoken.remoteJwks');

  /**
   * A key set fetched from `url` and cached: fetched on first use, again
   * when older than `maxAge` seconds, and on a token whose `kid` it does
   * not hold (a rotation), at most once per `cooldown` seconds so unknown
   * `kid`s cannot make it hammer the issuer. Use it as `jwks` with
   * `verifyAsync`.
   */
  function remoteJwks(url, { cooldown = 30, maxAge = 600, timeout = 5000, fetch: fetchImpl } = {}) {
    const get = fetchImpl ?? globalThis.fetch;
    if (typeof get !== 'function') throw new CaptokenError('bad_request', '`remoteJwks` needs fetch (pass `fetch` on this platform)');
    const href = String(url);
    let cached = null; // { keys, at }
    let lastFetch = -Infinity;
    let inflight = null;
    async function load() {
      lastFetch = source.now();
      const signal = typeof AbortSignal !== 'undefined' && AbortSignal.timeout ? AbortSignal.timeout(timeout) : undefined;
      let response;
      try {
        response = await get(href, { signal, headers: { accept: 'application/json' } });
      } catch (err) {
        throw new CaptokenError('jwks_unavailable', `fetching the key set \`${href}\`: ${err && err.message}`, { cause: err });
      }
      if (!response.ok) throw new CaptokenError('jwks_unavailable', `fetching the key set \`${href}\`: HTTP ${response.status}`);
      let body;
      try {
        body = await response.json();
      } catch (err) {
        throw new CaptokenError('jwks_unavailable', `the key set \`${href}\` is not JSON`, { cause: err });
      }
      cached = { keys: body, at: source.now() };
      return body;
    }
    function fetchOnce() {
      if (inflight === null) inflight = load().finally(() => { inflight = null; });
      return inflight;
    }
    return {
      [remoteBrand]: true,
      url: href,
      /** The cached set, fetched when missing or older than `maxAge`. */
      async get() {
        if (cached !== null && source.now() - cached.at < maxAge) return cached.keys;
        return fetchOnce();
      },
      /** Fetch again unless the last fetch is under `cooldown` old; `null` when it is. */
      async refresh() {
        if (source.now() - lastFetch < cooldown) return null;
        return fetchOnce();
      },
    };
  }

  const isRemote = (jwks) => jwks !== null && typeof jwks === 'object' && jwks[remoteBrand] === true;

  // `verify` for key sets that must be awaited: a remote set (refetched once
  // on an unknown `kid`) or a WebCrypto key.
  function awaiting(op) {
    const build = prepare(op);
    const sync = (options) => runOffloaded(op, build(options));
    return async (options = {}) => {
      const jwks = options && options.jwks;
      if (jwks === undefined) return sync(options);
      if (isRemote(jwks)) {
        const keys = await jwks.get();
        try {
          return await sync({ ...options, jwks: keys });
        } catch (err) {
          if (!(err instanceof CaptokenError) || err.code !== 'unknown_kid') throw err;
          const fresh = await jwks.refresh();
          if (fresh === null) throw err;
          return sync({ ...options, jwks: fresh });
        }
      }
      // WebCrypto keys export only asynchronously; every other form is
      // converted by the sync call, as verify converts it.
      const keys = Array.isArray(jwks) ? await Promise.all(jwks.map(toPublicJwk))
        : isCryptoKey(jwks) ? await toPublicJwk(jwks) : jwks;
      return sync({ ...options, jwks: keys });
    };
  }

  // Any verification key as a public JWK, WebCrypto's `CryptoKey` included
  // (which only exports asynchronously).
  async function toPublicJwk(key) {
    if (!isCryptoKey(key)) return publicJwkOf(key);
    if (key.type !== 'public') {
      throw new CaptokenError('private_key_in_public_set', `a verification key must be public, not a ${key.type} CryptoKey`);
    }
    const subtle = source.subtle;
    if (!subtle) throw new CaptokenError('module_unverifiable', 'WebCrypto is unavailable here');
    const { kty, crv, x } = await subtle.exportKey('jwk', key);
    if (kty !== 'OKP' || crv !== 'Ed25519') {
      throw new CaptokenError('unsupported_key_type', `expected an Ed25519 key, not ${kty} ${crv ?? ''}`.trim());
    }
    return { kty, crv, x };
  }

  /** A signer over a WebCrypto Ed25519 key pair; the private key may be non-extractable. */
  async function webCryptoSigner(keyPair) {
    const subtle = source.subtle;
    if (!subtle) throw new CaptokenError('module_unverifiable', 'WebCrypto is unavailable here');
    const isKey = (k) => k !== null && typeof k === 'object' && typeof k.type === 'string';
    if (!keyPair || !isKey(keyPair.publicKey) || !isKey(keyPair.privateKey)) {
      throw new CaptokenError('bad_key', 'expected a WebCrypto Ed25519 key pair `{ publicKey, privateKey }`');
    }
    let jwk;
    try {
      jwk = await subtle.exportKey('jwk', keyPair.publicKey);
    } catch (err) {
      throw new CaptokenError('bad_key', `the public key cannot be exported: ${err.message}`, { cause: err });
    }
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') {
      throw new CaptokenError('bad_key', `expected an Ed25519 key, not ${jwk.kty} ${jwk.crv ?? ''}`.trim());
    }
    const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
    return {
      publicJwk,
      sign: async (bytes) => new Uint8Array(await subtle.sign({ name: 'Ed25519' }, keyPair.privateKey, bytes)),
    };
  }

  function keyPairOf(key) {
    const handle = new KeyHandle(key.kid, key.public_jwk, key.handle);
    return { kid: key.kid, privateJwk: key.private_jwk, publicJwk: key.public_jwk, handle };
  }

  return {
    moduleSha256: source.sha256,
    ABI_VERSION: engine.abiVersion,
    /** `{ memoryBytes, instances }` of the module instance behind this API. */
    engineStats: () => (typeof engine.stats === 'function' ? engine.stats() : null),
    generateKey() {
      return keyPairOf(run('keygen', { seed: base64url(source.randomBytes(32)) }));
    },
    importKey(privateJwk) {
      // The private JWK's `d` is the 32-byte seed (RFC 8037); the module
      // derives the rest and the public half must match it.
      if (!privateJwk || privateJwk.kty !== 'OKP' || privateJwk.crv !== 'Ed25519' || typeof privateJwk.d !== 'string') {
        throw new CaptokenError('bad_key', 'expected a private Ed25519 JWK (kty OKP, crv Ed25519, d)');
      }
      const key = run('keygen', { seed: privateJwk.d });
      if (privateJwk.x !== undefined && privateJwk.x !== key.public_jwk.x) {
        throw new CaptokenError('key_pair_mismatch', 'the JWK\'s `x` is not the public key of its `d`');
      }
      return keyPairOf(key);
    },
    jwks: (...publicJwks) => ({ keys: publicJwks.map((jwk) => {
      if (jwk && jwk.d !== undefined) throw new CaptokenError('private_key_in_public_set', 'a key set must hold public keys only');
      return jwk;
    }) }),
    issue: operation('issue'),
    verify: operation('verify'),
    authorize: operation('authorize'),
    delegate: operation('delegate'),
    scopeMeet: (a, b) => run('scope_meet', { a, b }).caps,
    decodeUnverified: (token) => run('decode', { token }),
    checkPolicy: (policy) => run('policy_check', { policy }),
    evaluatePolicy: (policy, request, budget) => run('policy_evaluate', { policy, request, budget }),
    explainPolicy: (policy, request, budget) => run('policy_explain', { policy, request, budget }),
    signRevocationList: operation('revocation_list_sign'),
    verifyRevocationList: operation('revocation_list_verify'),
    signStatusList: operation('status_list_sign'),
    verifyStatusList: operation('status_list_verify'),
    createProof: operation('pop_create'),
    verifyProof: operation('pop_verify'),
    appendAudit: operation('audit_append'),
    verifyAuditChain: (records, head) => run('audit_verify', head === undefined ? { records } : { records, head }),
    refresh: operation('refresh'),
    webCryptoSigner,
    toPublicJwk,
    remoteJwks,
    verifyAsync: awaiting('verify'),
    authorizeAsync: awaiting('authorize'),
    issueAsync: keyedOrSigned('issue', 'token'),
    delegateAsync: keyedOrSigned('delegate', 'token'),
    createProofAsync: keyedOrSigned('pop_create', 'proof'),
    signRevocationListAsync: keyedOrSigned('revocation_list_sign', 'list'),
    signStatusListAsync: keyedOrSigned('status_list_sign', 'list'),
    attachSignature: operation('attach_signature'),
    info: () => run('info', {}),
    callOperation: (op, request) => run(op, request),
    callOperationText: (op, requestText) => runText(op, requestText),
  };
}

module.exports = { CaptokenError, createCaptoken, MODULE_SHA256 };
