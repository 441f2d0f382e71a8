/** A JSON Web Key (public or private Ed25519, RFC 8037). */
export interface Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d?: string;
  kid?: string;
  alg?: 'EdDSA';
  use?: 'sig';
  [member: string]: unknown;
}

export interface Jwks {
  keys: Jwk[];
}

export interface Constraints {
  domains?: string[];
  max_purchase?: number;
  pii_access?: boolean;
  rooms?: string[];
  tools?: string[];
  [kind: string]: unknown;
}

export interface Capability {
  actions: string[];
  resources: string[];
  constraints?: Constraints;
}

/** What the caller chooses when issuing; the issuer adds ver, iss, iat, nbf, exp and jti. */
export interface TokenRequest {
  sub: string;
  aud: string | string[];
  cnf: { jwk: Jwk };
  caps: Capability[];
  plan_id?: string;
  [extra: string]: unknown;
}

export interface Claims extends TokenRequest {
  ver: 1;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
}

export interface Issued {
  token: string;
  kid: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface Verified {
  header: { alg: 'EdDSA'; typ: 'captoken+jwt'; kid: string };
  claims: Claims;
  /** Delegations between the issuer and this token (0: signed by the issuer). */
  depth: number;
  /** Ancestors, root first. */
  chain: { jti: string; sub: string; kid: string }[];
  /** The principal the issuer vouched for (a delegated token's own `sub` is named by its delegator). */
  root_sub: string;
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

export interface Authorized {
  allowed: true;
  cap_index: number;
  sub: string;
  root_sub: string;
  jti: string;
  depth: number;
}

interface TrustArgs {
  jwks: Jwks;
  issuer: string;
  audience: string;
  now?: number;
  leeway?: number;
  maxDepth?: number;
  /** Revoked `jti`s: a token is refused when any `jti` of its chain is listed. */
  revoked?: string[];
}

export declare class CaptokenError extends Error {
  readonly code: string;
  constructor(code: string, message: string);
}

export declare const moduleSha256: string;
export declare const ABI_VERSION: number;

export declare function generateKey(): { kid: string; privateJwk: Jwk; publicJwk: Jwk };
export declare function issue(args: { key: Jwk; issuer: string; claims: TokenRequest; ttl?: number; now?: number }): Issued;
export declare function verify(args: TrustArgs & { token: string }): Verified;
export declare function authorize(args: TrustArgs & { token: string; request: ActionRequest }): Authorized;
export declare function delegate(
  args: TrustArgs & { parent: string; key: Jwk; claims: TokenRequest; ttl?: number },
): Issued & { depth: number };
export declare function scopeMeet(a: Capability[], b: Capability[]): Capability[];
export declare function info(): { abi: number; version: string; ops: string[] };
export declare function callOperation(op: string, request: unknown): unknown;

export interface Policy {
  version: 1;
  max_ttl?: number;
  rules: {
    id: string;
    effect: 'allow' | 'deny';
    subjects: { ids?: string[]; patterns?: string[]; attributes?: Record<string, string[]> };
    capabilities: Capability[];
    required_constraints?: Constraints;
    max_ttl?: number;
  }[];
}

export interface PolicyRequest {
  subject: { id: string; attributes?: Record<string, string> };
  capabilities: Capability[];
  ttl?: number;
}

export type Decision =
  | { decision: 'granted'; capabilities: Capability[]; ttl: number; matched_rules: string[]; narrowed: boolean }
  | { decision: 'denied'; code: 'denied_by_rule' | 'no_matching_rule'; rule: string | null; reason: string };

export declare function checkPolicy(policy: Policy): { valid: true; rules: number; max_ttl: number; policy: Policy };
export declare function evaluatePolicy(policy: Policy, request: PolicyRequest, budget?: number): Decision;
export declare function explainPolicy(
  policy: Policy,
  request: PolicyRequest,
  budget?: number,
): { requested_ttl: number; policy_max_ttl: number; rules: unknown[]; steps: number; decision: Decision };
