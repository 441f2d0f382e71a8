// Generated from the file of the same name ending in .d.ts by
// tests/tests/npm_contract.rs (CAPTOKEN_BLESS=1): do not edit.
// Types of the captoken package: one file for every entry (index.js for
// Node ESM, index.cjs for CommonJS, browser.js for browsers and bundlers),
// which all export the same names. Written by hand and type-checked by
// `tsc` (tsconfig.json), together with test/types/usage.ts; the options
// and results of each operation, the audit events and the module's error
// codes are generated from the module's own description of its requests
// and answers (ops.d.ts).

import type {
  AppendAuditOptions, AttachSignatureOptions, AttachedSignature, AuditEvent, AuditRecord, AuditSummary,
  Authorized, AuthorizeOptions, CheckedRevocationList, CreatedProof, CreateProofOptions, Decoded, Delegated,
  DelegateOptions, Denied, Granted, IssueOptions, Issued, IssuedAndGranted, ModuleErrorCode, ModuleInfo,
  PolicyCheck, PolicyExplanation, Refreshed, RefreshOptions, SignedRevocationList,
  SignRevocationListOptions, Verified, VerifiedProof, VerifyOptions, VerifyProofOptions,
  VerifyRevocationListOptions, SignStatusListOptions, SignedStatusList, VerifyStatusListOptions,
  CheckedStatusList,
} from './ops.cjs';
export type {
  AppendAuditOptions, AttachSignatureOptions, AttachedSignature, AuditEvent, AuditRecord, AuditSummary,
  Authorized, AuthorizeOptions, CheckedRevocationList, CreatedProof, CreateProofOptions, Decoded, Delegated,
  DelegateOptions, Denied, Granted, IssueOptions, Issued, IssuedAndGranted, ModuleErrorCode, ModuleInfo,
  PolicyCheck, PolicyExplanation, Refreshed, RefreshOptions, SignedRevocationList,
  SignRevocationListOptions, TrustOptions, Verified, VerifiedProof, VerifyOptions, VerifyProofOptions,
  VerifyRevocationListOptions, SignStatusListOptions, SignedStatusList, VerifyStatusListOptions,
  CheckedStatusList,
} from './ops.cjs';

/** A JSON Web Key (public or private Ed25519, RFC 8037). */
export interface Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  /** The private seed: present only in private keys. */
  d?: string;
  kid?: string;
  alg?: 'EdDSA';
  use?: 'sig';
  key_ops?: string[];
  /** Validity window of an issuer key (integer seconds; a captoken extension for rotation). */
  nbf?: number;
  exp?: number;
}

/** The public keys of one issuer. */
export interface Jwks {
  keys: Jwk[];
}

/**
 * A duration: integer seconds, or a whole number and a unit as a string
 * (`'30s'`, `'5m'`, `'2h'`, `'1d'`; also `sec`, `min`, `hour`, `day` and
 * their plurals, with or without a space).
 */
export type Duration = number | string;

/**
 * A Node `KeyObject` (public, Ed25519), declared structurally so these types
 * need no @types/node.
 */
export interface PublicKeyObject {
  readonly type: 'public';
  readonly asymmetricKeyType?: string;
  export(options: { format: 'jwk' }): unknown;
}

/**
 * The keys a verifier trusts: a JWKS, one public JWK, a PEM `PUBLIC KEY`
 * block (SPKI), a Node `KeyObject`, or a list of these. In a JWKS only the
 * Ed25519 signature keys are used; RSA, EC or encryption keys beside them
 * are skipped (never trusted), and a set publishing any private or secret
 * key is refused. A WebCrypto `CryptoKey` exports asynchronously: pass
 * `await toPublicJwk(cryptoKey)`.
 */
export type VerificationKeys = Jwks | Jwk | string | PublicKeyObject | Array<Jwk | string | PublicKeyObject>;

/** Limits a capability is granted under; an unknown kind fails closed at authorization. */
export interface Constraints {
  domains?: string[];
  max_purchase?: number;
  pii_access?: boolean;
  rooms?: string[];
  tools?: string[];
  [kind: string]: unknown;
}

/** Every listed action on every listed resource, under all the constraints. */
export interface Capability {
  actions: string[];
  resources: string[];
  constraints?: Constraints;
}

/** What the caller chooses when issuing; the issuer adds ver, iss, iat, nbf, exp and jti. */
export interface TokenRequest {
  sub: string;
  aud: string | string[];
  /** The holder's key. Absent: a bearer token, which only a policy rule with `bearer` grants (issue through a policy). */
  cnf?: { jwk: Jwk };
  caps: Capability[];
  plan_id?: string;
  /** The token's place in a status list; delegated children carry their root's. */
  status?: StatusClaim;
  /** How deep below a root grant the issuer granted this token (1..16); every depth limit counts it, children carry it. */
  grant_depth?: number;
  [extra: string]: unknown;
}

/** A `status` claim: the token's bit `idx` in the status list whose `sub` is `uri`. */
export interface StatusClaim {
  status_list: { idx: number; uri: string };
}

/** Claims as a token states them, before (or without) verification: any member may be missing or wrong. */
export type UnverifiedClaims = Partial<Claims> & Record<string, unknown>;

/** The claims of a verified token. */
export interface Claims extends TokenRequest {
  ver: 1;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  /** In a delegated token: base64url SHA-256 of its parent's compact text. */
  prf?: string;
}

/** What a request does, checked against constraints. Unknown members are refused. */
export interface Context {
  domain?: string;
  purchase_amount?: number;
  pii?: boolean;
  room?: string;
  tool?: string;
}

export interface ActionRequest {
  action: string;
  resource: string;
  context?: Context;
}

export interface RevokedEntry {
  jti: string;
  revoked_at: number;
  reason?: string;
}

export interface RevocationListContent {
  iss: string;
  /** Monotonic: a verifier refuses a list older than one it has seen. */
  seq: number;
  iat: number;
  next_update: number;
  revoked: RevokedEntry[];
}

/**
 * An issue decided by `policy` in the same call: the claims' subject asks
 * for the claims' `caps` for `ttl`; exactly what the policy grants is signed.
 */
export interface IssueThroughPolicyOptions extends IssueOptions {
  policy: Policy;
}

/** An issue through a policy: the token and the grant, or the denial (nothing signed). */
export type IssuedThroughPolicy = IssuedAndGranted | Denied;

export interface KeyPair {
  kid: string;
  privateJwk: Jwk;
  publicJwk: Jwk;
  /** The key read once: give it as `key` to sign without re-deriving the public key each call. */
  handle: KeyHandle;
}

declare const keyHandle: unique symbol;

/**
 * A signing key read once (`generateKey`, `importKey`'s `handle`). It holds
 * the private key; printing or serializing it shows only `kid` and
 * `publicJwk`. Made only by this package.
 */
export interface KeyHandle {
  readonly kid: string;
  readonly publicJwk: Jwk;
  readonly [keyHandle]: true;
}

/** A key to sign with: a private Ed25519 JWK, or a `KeyHandle` of one. */
export type PrivateKey = Jwk | KeyHandle;

export interface PolicyRule {
  id: string;
  effect: 'allow' | 'deny';
  subjects: { ids?: string[]; patterns?: string[]; attributes?: Record<string, string[]> };
  capabilities: Capability[];
  required_constraints?: Constraints;
  max_ttl?: number;
  /** The rule also grants bearer tokens (no `cnf`), living at most `max_ttl` seconds (1..3600). */
  bearer?: { max_ttl: number };
}

export interface Policy {
  version: 1;
  max_ttl?: number;
  rules: PolicyRule[];
}

/** What a policy decides: a grant or a denial. */
export type Decision = Granted | Denied;

/** One ancestor in a delegation chain. */
export type ChainLink = Verified['chain'][number];

export interface PolicyRequest {
  subject: { id: string; attributes?: Record<string, string> };
  capabilities: Capability[];
  ttl?: number;
  /** A bearer token is asked for: only rules with `bearer` grant it. */
  bearer?: boolean;
}

/**
 * The stable error codes: the module's (`ModuleErrorCode`, generated from
 * the module's one list; the same strings the gateway and CLI report) and
 * the package's own while loading and calling the module. Open-ended, so a
 * newer module's codes still type-check.
 */
export type ErrorCode =
  | ModuleErrorCode
  | 'module_digest_mismatch' | 'module_unavailable' | 'module_unverifiable'
  | 'abi_mismatch' | 'not_initialized' | 'guest_trap' | 'guest_alloc' | 'guest_bad_status'
  | 'guest_bad_response' | 'module_invalid' | 'request_too_large' | 'jwks_unavailable'
  | (string & {});

export declare class CaptokenError extends Error {
  readonly name: 'CaptokenError';
  readonly code: ErrorCode;
  /** Where in a document the problem is, e.g. `caps[0].constraints.max_purchase`, when the module says. */
  readonly path?: string;
  /** The audit event this refusal must leave, e.g. `agent.delegation.attempted` for a refused delegation. */
  readonly audit?: { event: AuditEvent; data: Record<string, unknown> };
  /** Where an audit chain broke: the `seq` of the first bad record, when the module says. */
  readonly seq?: number;
  constructor(
    code: ErrorCode,
    message: string,
    options?: { path?: string; audit?: { event: AuditEvent; data: Record<string, unknown> }; seq?: number; cause?: unknown },
  );
}

/**
 * SHA-256 (hex) of the loaded module: the digest the gateway checks too.
 * Node: set on import. Browser entry: `null` until `init()` resolves.
 */
export declare const moduleSha256: string;
/** ABI version of the loaded module (1). Browser entry: `null` until `init()` resolves. */
export declare const ABI_VERSION: number;

/**
 * Where `init` gets the module: a URL (string or `URL`), a fetch `Response`,
 * the bytes (each checked against the package's SHA-256 before compiling),
 * or a compiled `WebAssembly.Module` (what Cloudflare Workers and some
 * bundlers hand out: trusted as the bundle's own code, ABI still checked).
 * Written structurally so these types need neither the DOM library nor
 * @types/node.
 */
export type ModuleSource =
  | string
  | { readonly href: string }
  | { readonly ok: boolean; arrayBuffer(): Promise<ArrayBuffer> }
  | ArrayBuffer
  | ArrayBufferView
  | CompiledModule;

/** A `WebAssembly.Module` (declared structurally: it has no members of its own). */
export type CompiledModule = object;

/**
 * Browsers, bundlers and workers: load the module (default: the package's
 * own `dist/captoken_bg.wasm`, beside the entry), check its SHA-256 against
 * the digest in this package's code and instantiate it. Must resolve before
 * any other call. A bundle without `import.meta.url` (an IIFE, a classic
 * script) must pass `source`. Node: the module is loaded on import; this
 * resolves at once.
 */
export declare function init(source?: ModuleSource): Promise<{ moduleSha256: string; abiVersion: number }>;

/** Generate an Ed25519 key from the platform's CSPRNG. */
export declare function generateKey(): KeyPair;
/** The key pair of a stored private JWK (checks that its `x` belongs to its `d`). */
export declare function importKey(privateJwk: Jwk): KeyPair;
/** `{ keys: [...] }`, the JWKS to publish; refuses a private key. */
export declare function jwks(...publicJwks: Jwk[]): Jwks;
/** Issue a token signed with `key` as `issuer`. */
export declare function issue(options: IssueThroughPolicyOptions): IssuedThroughPolicy;
export declare function issue(options: IssueOptions): Issued;
/** Verify a token or delegation chain; throws a `CaptokenError` when it is refused. */
export declare function verify(options: VerifyOptions): Verified;
/** Verify, then authorize `request`; throws `not_granted`, `constraint_violated`, ... when refused. */
export declare function authorize(options: AuthorizeOptions): Authorized;
/** Mint a narrower child of `parent` for a new holder; returns the new chain. */
export declare function delegate(options: DelegateOptions): Delegated;
/**
 * A token's (or chain's) headers and claims, read by the module's strict
 * rules but NOT verified: nothing in the answer is authenticated, and a
 * token that decodes may be forged. For routing or display only; trust
 * only what `verify` returns.
 */
export declare function decodeUnverified(token: string): Decoded;
/** `min(a, b)`: exactly the requests both capability lists allow. */
export declare function scopeMeet(a: Capability[], b: Capability[]): Capability[];
/** Validate a policy document; returns its normal form. */
export declare function checkPolicy(policy: Policy): PolicyCheck;
/** What `request` may be granted under `policy`; a denial is a decision, not an error. */
export declare function evaluatePolicy(policy: Policy, request: PolicyRequest, budget?: number): Decision;
/** As `evaluatePolicy`, with a rule-by-rule trace. */
export declare function explainPolicy(policy: Policy, request: PolicyRequest, budget?: number): PolicyExplanation;
/** Sign a revocation list with the issuer's key. */
export declare function signRevocationList(options: SignRevocationListOptions): SignedRevocationList;
/** Verify a signed revocation list offline; a stale list is an outcome (`status`), not an error. */
export declare function verifyRevocationList(options: VerifyRevocationListOptions): CheckedRevocationList;
/** Sign a status list (one bit per token, `size` tokens, `revoked` set) with the issuer's key. */
export declare function signStatusList(options: SignStatusListOptions): SignedStatusList;
/** Verify a signed status list offline for the `uri` a token names; with `idx`, say whether that token is revoked. A stale list is an outcome (`status`), not an error. */
export declare function verifyStatusList(options: VerifyStatusListOptions): CheckedStatusList;
/** As a holder, prove possession of the token's key to `audience`. */
export declare function createProof(options: CreateProofOptions): CreatedProof;
/** Verify the token, then the proof against its `cnf` key, audience, age, nonce, request hash and `seen`. */
export declare function verifyProof(options: VerifyProofOptions): VerifiedProof;
/** The next record of an audit hash chain. */
export declare function appendAudit(options: AppendAuditOptions): AuditRecord;
/** Check an audit chain (any edit, insertion, deletion or reordering), and that it ends at `head` when given. */
export declare function verifyAuditChain(records: AuditRecord[], head?: string): AuditSummary;
/** Re-issue an unrevoked issuer token through the policy in force; never wider than it was. */
export declare function refresh(options: RefreshOptions): Refreshed;
/**
 * Signs outside the module: `sign` gets the exact bytes (the JWS signing
 * input) and returns the 64-byte Ed25519 signature. The module checks it
 * against `publicJwk` before using it.
 */
export interface ExternalSigner {
  publicJwk: Jwk;
  sign(bytes: Uint8Array): Promise<Uint8Array> | Uint8Array;
}
/** Structural stand-in for a WebCrypto `CryptoKeyPair` (Ed25519), so no DOM types are needed. */
export interface Ed25519KeyPair {
  publicKey: unknown;
  privateKey: unknown;
}
/** A signer over a WebCrypto Ed25519 key pair: the private key may be non-extractable and never enters wasm memory. */
export declare function webCryptoSigner(keyPair: Ed25519KeyPair): Promise<ExternalSigner>;
type WithSigner<T> = Omit<T, 'key'> & { signer: ExternalSigner };
/** `issue`, signed by `signer` outside the module; or with `key`, run off the event loop as `verifyAsync` runs. */
export declare function issueAsync(options: WithSigner<IssueThroughPolicyOptions> | IssueThroughPolicyOptions): Promise<IssuedThroughPolicy>;
export declare function issueAsync(options: WithSigner<IssueOptions> | IssueOptions): Promise<Issued>;
/** `delegate`, signed by the holder's `signer`; or with `key`, off the event loop. */
export declare function delegateAsync(options: WithSigner<DelegateOptions> | DelegateOptions): Promise<Delegated>;
/** `createProof`, signed by the holder's `signer`; or with `key`, off the event loop. */
export declare function createProofAsync(options: WithSigner<CreateProofOptions> | CreateProofOptions): Promise<CreatedProof>;
/** `signRevocationList`, signed by the issuer's `signer`; or with `key`, off the event loop. */
export declare function signRevocationListAsync(options: WithSigner<SignRevocationListOptions> | SignRevocationListOptions): Promise<SignedRevocationList>;
/** `signStatusList`, signed by the issuer's `signer`; or with `key`, off the event loop. */
export declare function signStatusListAsync(options: WithSigner<SignStatusListOptions> | SignStatusListOptions): Promise<SignedStatusList>;
/** A key set fetched from a JWKS URL and cached (`remoteJwks`): use it as `jwks` with the async verifiers. */
export interface RemoteJwks {
  readonly url: string;
  /** The cached set, fetched when missing or older than `maxAge`. */
  get(): Promise<unknown>;
  /** Fetch again unless the last fetch is under `cooldown` old (then `null`). */
  refresh(): Promise<unknown | null>;
}
/**
 * A key set fetched from `url` (an issuer's `/.well-known/jwks.json`):
 * fetched on first use, again when older than `maxAge` seconds (default
 * 600), and on a token whose `kid` it lacks (a rotation), at most once per
 * `cooldown` seconds (default 30). A failed fetch is `jwks_unavailable`.
 */
export declare function remoteJwks(
  url: string | { readonly href: string },
  options?: { cooldown?: number; maxAge?: number; timeout?: number; fetch?: (url: string, init?: object) => Promise<unknown> },
): RemoteJwks;
/** `VerificationKeys`, a `RemoteJwks`, or a WebCrypto `CryptoKey` (alone or in a list). */
export type AsyncVerificationKeys = VerificationKeys | RemoteJwks | object | Array<Jwk | string | PublicKeyObject | object>;
/**
 * `verify` off the event loop (Node: a pool of worker threads, one per core
 * up to 8; browsers: a module Web Worker), and with key sets that must be
 * awaited: a `RemoteJwks` (refetched once on an unknown `kid`), or
 * WebCrypto keys. Answers and refusals are `verify`'s.
 */
export declare function verifyAsync(options: Omit<VerifyOptions, 'jwks'> & { jwks: AsyncVerificationKeys }): Promise<Verified>;
/** `authorize`, with key sets that must be awaited, as `verifyAsync`. */
export declare function authorizeAsync(options: Omit<AuthorizeOptions, 'jwks'> & { jwks: AsyncVerificationKeys }): Promise<Authorized>;
/** Any verification key (JWK, PEM, `KeyObject`, WebCrypto `CryptoKey`) as the public JWK `verify` and the others take. */
export declare function toPublicJwk(key: Jwk | string | PublicKeyObject | object): Promise<Jwk>;
/** Check `signature` over `signingInput` under `publicJwk` and assemble the token (low level; the `...Async` functions use it). */
export declare function attachSignature(options: AttachSignatureOptions): AttachedSignature;
/** Module version, ABI version and the operations table. */
export declare function info(): ModuleInfo;
/** Call any operation of the table by name with a JSON-able request (escape hatch). */
export declare function callOperation(op: string, request: unknown): unknown;
/**
 * As `callOperation`, with the request as JSON text and the module's
 * response returned as the exact text it wrote (to forward or compare it
 * byte for byte). Refusals throw a `CaptokenError`, as everywhere.
 */
export declare function callOperationText(op: string, requestText: string): string;

/**
 * The module instance behind this API: its resident linear memory and how
 * many instances were made. A trap, or a call that left the memory over
 * 32 MiB, makes the next call use a fresh instance, so one large request
 * never holds its memory for the life of the process. Requests over 1 MiB
 * are refused (`request_too_large`) before the module sees them.
 */
export declare function engineStats(): { memoryBytes: number; instances: number } | null;

/** The operations, as `createCaptoken` returns them. */
export interface Captoken {
  readonly moduleSha256: string;
  readonly ABI_VERSION: number;
  generateKey: typeof generateKey;
  importKey: typeof importKey;
  jwks: typeof jwks;
  issue: typeof issue;
  verify: typeof verify;
  authorize: typeof authorize;
  delegate: typeof delegate;
  scopeMeet: typeof scopeMeet;
  decodeUnverified: typeof decodeUnverified;
  checkPolicy: typeof checkPolicy;
  evaluatePolicy: typeof evaluatePolicy;
  explainPolicy: typeof explainPolicy;
  signRevocationList: typeof signRevocationList;
  verifyRevocationList: typeof verifyRevocationList;
  signStatusList: typeof signStatusList;
  verifyStatusList: typeof verifyStatusList;
  createProof: typeof createProof;
  verifyProof: typeof verifyProof;
  appendAudit: typeof appendAudit;
  verifyAuditChain: typeof verifyAuditChain;
  refresh: typeof refresh;
  webCryptoSigner: typeof webCryptoSigner;
  toPublicJwk: typeof toPublicJwk;
  remoteJwks: typeof remoteJwks;
  verifyAsync: typeof verifyAsync;
  authorizeAsync: typeof authorizeAsync;
  issueAsync: typeof issueAsync;
  delegateAsync: typeof delegateAsync;
  createProofAsync: typeof createProofAsync;
  signRevocationListAsync: typeof signRevocationListAsync;
  signStatusListAsync: typeof signStatusListAsync;
  attachSignature: typeof attachSignature;
  info: typeof info;
  callOperation: typeof callOperation;
  callOperationText: typeof callOperationText;
  /** As `engineStats`; `null` for an engine of your own (`instantiate`). */
  engineStats: typeof engineStats;
}

/** A module instance for `createCaptoken`. */
export interface ModuleBinding {
  /** Hex SHA-256 of the module's bytes: refused unless it is the package's own module's. */
  sha256: string;
  /** The module compiled (a `WebAssembly.Module`, after checking its bytes against `sha256`). */
  module?: object;
  /** The module's bytes, compiled after the digest check. */
  bytes?: ArrayBuffer | ArrayBufferView;
  /** Linear memory an instance may keep after a call before it is replaced; default 32 MiB. */
  maxResidentBytes?: number;
  /** An engine of your own instead of `module` / `bytes` (called after the digest check). */
  instantiate?(): {
    /** Run operation `op` on a JSON request; throws `{ code, message, path? }` when the module refuses. */
    call(op: string, request: string): string;
    abiVersion: number;
  };
  /** `n` bytes from a CSPRNG. */
  randomBytes(n: number): Uint8Array;
  /** Seconds since the Unix epoch. */
  now(): number;
}

/**
 * Advanced: the API over a module instance you load yourself (a worker
 * handed a compiled module, a runtime without `fetch`). The digest and ABI
 * are checked as `init` checks them. The entries are built with it.
 */
export declare function createCaptoken(binding: ModuleBinding): Captoken;
