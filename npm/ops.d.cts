// Generated from the file of the same name ending in .d.ts by
// tests/tests/npm_contract.rs (CAPTOKEN_BLESS=1): do not edit.
// Generated from captoken_core::ops::{contract, responses} by tests/tests/npm_contract.rs
// (CAPTOKEN_BLESS=1 cargo test -p captoken-tests --test npm_contract): do not edit.
import type {
  Capability, Claims, Context, Decision, Duration, Jwk, Policy, PolicyRequest, PrivateKey,
  RevocationListContent, RevokedEntry, StatusClaim, TokenRequest, UnverifiedClaims,
  VerificationKeys,
} from './index.cjs';

/** Every code the module reports (`captoken_core::codes::ErrorCode`). */
export type ModuleErrorCode =
  | 'audit_bad_record'
  | 'audit_bad_hash'
  | 'audit_broken_link'
  | 'audit_bad_sequence'
  | 'audit_head_mismatch'
  | 'audit_empty_chain'
  | 'unsupported_version'
  | 'bad_date'
  | 'missing_exp'
  | 'bad_claims'
  | 'delegation_not_holder'
  | 'delegation_too_deep'
  | 'delegation_escalation'
  | 'delegation_broken_link'
  | 'delegation_parent_mismatch'
  | 'delegation_cycle'
  | 'token_too_large'
  | 'malformed_token'
  | 'bad_base64'
  | 'unsupported_alg'
  | 'bad_typ'
  | 'untrusted_key_header'
  | 'unknown_crit'
  | 'bad_header'
  | 'missing_kid'
  | 'unknown_kid'
  | 'key_not_valid'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'bad_audience'
  | 'bad_issuer'
  | 'bad_ttl'
  | 'entropy_unavailable'
  | 'signing_failed'
  | 'bad_json'
  | 'duplicate_key'
  | 'json_too_deep'
  | 'bad_key'
  | 'unsupported_key_type'
  | 'bad_key_use'
  | 'bad_key_alg'
  | 'weak_key'
  | 'private_key_in_public_set'
  | 'duplicate_kid'
  | 'kid_mismatch'
  | 'key_pair_mismatch'
  | 'unknown_op'
  | 'bad_request'
  | 'denied_by_rule'
  | 'no_matching_rule'
  | 'bearer_not_allowed'
  | 'unsupported_policy_version'
  | 'bad_policy'
  | 'bad_pattern'
  | 'unknown_constraint'
  | 'duplicate_rule_id'
  | 'too_many_rules'
  | 'policy_budget_exceeded'
  | 'pop_key_mismatch'
  | 'bad_presentation'
  | 'pop_token_mismatch'
  | 'pop_bad_audience'
  | 'pop_stale'
  | 'pop_in_future'
  | 'pop_nonce_mismatch'
  | 'pop_request_mismatch'
  | 'bearer_token'
  | 'refresh_not_root'
  | 'replayed'
  | 'replay_expired'
  | 'replay_guard_full'
  | 'revoked'
  | 'revocation_list_rollback'
  | 'revocation_list_stale'
  | 'bad_revocation_list'
  | 'revocation_list_too_large'
  | 'bad_status_list'
  | 'wrong_status_list'
  | 'status_index_out_of_range'
  | 'status_list_stale'
  | 'status_list_required'
  | 'not_granted'
  | 'constraint_violated'
  | 'missing_context'
  | 'bad_context'
;

/** Every audit event (`captoken_core::audit::EventKind`). */
export type AuditEvent =
  | 'token_issued'
  | 'token_revoked'
  | 'token_denied'
  | 'agent.capability.granted'
  | 'agent.capability.revoked'
  | 'agent.delegation.attempted'
;

/** How a verifier trusts tokens: the members every verifying operation shares. */
export interface TrustOptions {
  /** Clock skew allowed on time claims, in seconds. Default: 30. */
  leeway?: Duration;
  /** Most delegation steps accepted. Default: 3. */
  maxDepth?: number;
  /** Token ids (`jti`) the caller knows are revoked; a revoked ancestor revokes its descendants. */
  revoked?: string[];
  /** A signed revocation list to check the chain against too. */
  revocationList?: string;
  /** The signed status list the token's `status` claim names: its bit refuses the chain. Required with `revocation_list` for a token that names one. */
  statusList?: string;
  /** How long past its `next_update` (a status list: its `exp`) a list may still be used, in seconds. */
  maxStale?: Duration;
  /** The highest revocation list `seq` accepted before: an older list is refused. */
  lastSeenSeq?: number;
  /** The issuer's public keys. */
  jwks: VerificationKeys;
  /** The issuer (`iss`) trusted, or several names it goes by. */
  issuer: string | string[];
  /** This verifier's audience, or several: the token's `aud` must name one. */
  audience: string | string[];
  /** The time to verify at. Default: the clock. */
  now?: number;
}

/** The options of `issue` (operation `issue`). */
export interface IssueOptions {
  /** The private Ed25519 JWK to sign with, or its key handle (`keygen`'s `handle`: no public key derived per call). */
  key: PrivateKey;
  /** The issuer (`iss`). */
  issuer: string;
  /** The issue time (`iat`). Default: the clock. */
  now?: number;
  /** Decide through this policy what is granted, and for how long. */
  policy?: Policy;
  /** What the issuer knows of the subject, for the policy's rules. */
  attributes?: Record<string, string>;
  /** Policy evaluation steps allowed. Default: 16000000. */
  budget?: number;
  /** `true`: a bearer token, its claims without `cnf`; only a policy rule with `bearer` grants one. */
  bearer?: boolean;
  /** Lifetime in seconds; through a policy, capped by it (absent: as long as it allows). Default: 300. */
  ttl?: Duration;
  /** `sub`, `aud`, `caps`, `cnf` (none with `bearer`) and the optional claims. */
  claims: TokenRequest;
}

/** The options of `verify` (operation `verify`). */
export interface VerifyOptions extends TrustOptions {
  /** The token, as issued. */
  token: string;
  /** Check the holder's proof of possession in the same call. */
  proof?: {
    /** The holder's proof of possession. */
    proof: string;
    /** The proof's audience (default: this verifier's). */
    audience?: string;
    /** How old the proof may be, in seconds. Default: 60. */
    maxAge?: Duration;
    /** The nonce the proof must carry. */
    nonce?: string;
    /** The request hash the proof must carry. */
    requestHash?: string;
    /** Replay keys already recorded: a proof among them is `replayed`. */
    seen?: string[];
  };
  /** The chain is presented to be recorded as a delegation: a refusal whose parent verifies carries the `agent.delegation.attempted` event to append (`audit`). */
  grant?: boolean;
}

/** The options of `authorize` (operation `authorize`). */
export interface AuthorizeOptions extends TrustOptions {
  /** The token, as issued. */
  token: string;
  /** The action on a resource to authorize. */
  request: {
    /** Facts the constraints are checked against. */
    context?: Context;
    /** The action, e.g. `drive`. */
    action: string;
    /** The resource, e.g. `robot:7`. */
    resource: string;
  };
}

/** The options of `delegate` (operation `delegate`). */
export interface DelegateOptions extends TrustOptions {
  /** The parent token (a chain for a delegated parent). */
  parent: string;
  /** The private Ed25519 JWK to sign with, or its key handle (`keygen`'s `handle`: no public key derived per call). */
  key: PrivateKey;
  /** The child's lifetime in seconds, within the parent's. Default: 300. */
  ttl?: Duration;
  /** The child's claims; its `caps` must lie within the parent's. */
  claims: TokenRequest;
}

/** The options of `signRevocationList` (operation `revocation_list_sign`). */
export interface SignRevocationListOptions {
  /** The private Ed25519 JWK to sign with, or its key handle (`keygen`'s `handle`: no public key derived per call). */
  key: PrivateKey;
  /** The list's claims: `iss`, `seq`, `iat`, `next_update`, `revoked`. */
  list: RevocationListContent;
}

/** The options of `verifyRevocationList` (operation `revocation_list_verify`). */
export interface VerifyRevocationListOptions {
  /** The signed list. */
  list: string;
  /** The issuer's public keys. */
  jwks: VerificationKeys;
  /** The issuer trusted, or several names it goes by. */
  issuer: string | string[];
  /** The time to verify at. Default: the clock. */
  now?: number;
  /** The highest list `seq` accepted before: an older list is refused. */
  lastSeenSeq?: number;
  /** Clock skew allowed, in seconds. Default: 30. */
  leeway?: Duration;
}

/** The options of `signStatusList` (operation `status_list_sign`). */
export interface SignStatusListOptions {
  /** The private Ed25519 JWK to sign with, or its key handle (`keygen`'s `handle`: no public key derived per call). */
  key: PrivateKey;
  /** The list's content; the module sets the bits and compresses them. */
  list: {
    /** The issuer. */
    iss: string;
    /** The list's URI: the `status.status_list.uri` its tokens name. */
    sub: string;
    /** When the list is made. */
    iat: number;
    /** When it stops being fresh (after `iat`). */
    exp: number;
    /** How long a verifier may cache it, in seconds. */
    ttl?: Duration;
    /** How many tokens it covers (1 to 2^24; rounded up to a multiple of 8). */
    size: number;
    /** The indices of the revoked tokens, in any order. */
    revoked: Array<number>;
  };
}

/** The options of `verifyStatusList` (operation `status_list_verify`). */
export interface VerifyStatusListOptions {
  /** The signed list. */
  list: string;
  /** The issuer's public keys. */
  jwks: VerificationKeys;
  /** The issuer trusted, or several names it goes by. */
  issuer: string | string[];
  /** The time to verify at. Default: the clock. */
  now?: number;
  /** The `status.status_list.uri` the token names: the list's `sub` must be it. */
  uri: string;
  /** A token's `status.status_list.idx`: the answer says whether it is revoked. */
  idx?: number;
  /** Clock skew allowed, in seconds. Default: 30. */
  leeway?: Duration;
}

/** The options of `createProof` (operation `pop_create`). */
export interface CreateProofOptions {
  /** The private Ed25519 JWK to sign with, or its key handle (`keygen`'s `handle`: no public key derived per call). */
  key: PrivateKey;
  /** The token the proof presents. */
  token: string;
  /** Who the proof is for. */
  audience: string;
  /** A nonce the verifier issued. */
  nonce?: string;
  /** A hash of the request the proof authorizes. */
  requestHash?: string;
  /** The proof's time (`iat`). Default: the clock. */
  now?: number;
}

/** The options of `verifyProof` (operation `pop_verify`). */
export interface VerifyProofOptions extends TrustOptions {
  /** The holder's proof of possession. */
  proof: string;
  /** The token, as issued. */
  token: string;
  /** The audience the proof must name. */
  popAudience: string;
  /** How old the proof may be, in seconds. Default: 60. */
  maxAge?: Duration;
  /** The nonce the proof must carry. */
  nonce?: string;
  /** The request hash the proof must carry. */
  requestHash?: string;
  /** Replay keys already recorded: a proof among them is `replayed`. */
  seen?: string[];
}

/** The options of `appendAudit` (operation `audit_append`). */
export interface AppendAuditOptions {
  /** The chain's last record (absent: the genesis record is made). */
  last?: AuditRecord;
  /** When the event happened. Default: the clock. */
  time?: number;
  /** The event name. */
  event: AuditEvent;
  /** The event's data. */
  data: Record<string, unknown>;
}

/** The options of `refresh` (operation `refresh`). */
export interface RefreshOptions extends TrustOptions {
  /** The token, as issued. */
  token: string;
  /** The private Ed25519 JWK to sign with, or its key handle (`keygen`'s `handle`: no public key derived per call). */
  key: PrivateKey;
  /** The policy the refreshed grant must still pass. */
  policy: Policy;
  /** What the issuer knows of the subject. */
  attributes?: Record<string, string>;
  /** The new token's lifetime in seconds. Default: 300. */
  ttl?: Duration;
  /** The new token's own place in a status list; without it the new token keeps the place of the one it replaces (revoking that place refuses both). */
  status?: StatusClaim;
  /** Policy evaluation steps allowed. Default: 16000000. */
  budget?: number;
}

/** The options of `attachSignature` (operation `attach_signature`). */
export interface AttachSignatureOptions {
  /** `header.payload`, as prepared. */
  signingInput: string;
  /** The 64-byte Ed25519 signature over it. */
  signature: string;
  /** The public key that signed. */
  publicJwk: Jwk;
  /** `~parent~…`, as prepared for a delegated token. */
  chainRest?: string;
}

/** The module's versions and its operations table. (An answer of `info`.) */
export interface ModuleInfo {
  /** The ABI version. */
  abi: number;
  /** The crate version. */
  version: string;
  /** Every operation. */
  ops: Array<{
    /** The id the raw ABI calls it by. */
    id: number;
    /** Its name. */
    name: string;
  }>;
}

/** A key, as the module answers it (the JS API renames its members: `KeyPair`). (An answer of `keygen`.) */
export interface GeneratedKey {
  /** The key's id. */
  kid: string;
  /** The private JWK. */
  private_jwk: Jwk;
  /** The public JWK. */
  public_jwk: Jwk;
  /** The key handle (`ckh1.`…): as secret as the private JWK, and signs without re-deriving the public key. */
  handle: string;
}

/** A token, signed. (An answer of `issue`.) */
export interface Issued {
  /** The signed token; for a delegation, the whole chain `child~parent~…~root`. */
  token: string;
  /** The signing key's id. */
  kid: string;
  /** The token's id. */
  jti: string;
  /** Issued at. */
  iat: number;
  /** Expires at. */
  exp: number;
  /** The event to append to the audit log (`token_issued` for `issue` and `refresh`, `agent.capability.granted` for `delegate`). */
  audit: {
    /** The event's name. */
    event: AuditEvent;
    /** Its data. */
    data: Record<string, unknown>;
  };
}

/** An issue through a policy that granted: the token and the grant. (An answer of `issue`.) */
export interface IssuedAndGranted {
  /** The signed token; for a delegation, the whole chain `child~parent~…~root`. */
  token: string;
  /** The signing key's id. */
  kid: string;
  /** The token's id. */
  jti: string;
  /** Issued at. */
  iat: number;
  /** Expires at. */
  exp: number;
  /** The event to append to the audit log (`token_issued` for `issue` and `refresh`, `agent.capability.granted` for `delegate`). */
  audit: {
    /** The event's name. */
    event: AuditEvent;
    /** Its data. */
    data: Record<string, unknown>;
  };
  /** Granted. */
  decision: 'granted';
  /** What is granted: the request met with the allow rules, required constraints merged in. */
  capabilities: Capability[];
  /** The lifetime granted, in seconds (capped by the policy). */
  ttl: number;
  /** The allow rules that granted it. */
  matched_rules: string[];
  /** Whether less than asked is granted. */
  narrowed: boolean;
}

/** A denial: a decision, not an error; nothing is signed. (An answer of `issue`.) */
export interface Denied {
  /** Denied. */
  decision: 'denied';
  /** Why, as a stable code. */
  code: 'denied_by_rule' | 'no_matching_rule' | 'bearer_not_allowed';
  /** The deny rule, if one denied. */
  rule: string | null;
  /** Why, for a person. */
  reason: string;
}

/** A token or chain that verified. (An answer of `verify`.) */
export interface Verified {
  /** The leaf's protected header. */
  header: {
    /** The algorithm. */
    alg: 'EdDSA';
    /** The type. */
    typ: 'captoken+jwt';
    /** The signing key's id. */
    kid: string;
  };
  /** The leaf's claims (the token presented first). */
  claims: Claims;
  /** Delegations between the issuer and this token (0: signed by the issuer). */
  depth: number;
  /** The revocation key: the `jti`, or for a delegated token the chain's `jti`s joined by `.`. */
  id: string;
  /** The leaf's ancestors, root first; empty for a token signed by the issuer. */
  chain: Array<{
    /** The ancestor's `jti`. */
    jti: string;
    /** Its revocation key. */
    id: string;
    /** Its subject. */
    sub: string;
    /** The key that signed it. */
    kid: string;
  }>;
  /** The principal the issuer vouched for. */
  root_sub: string;
  /** Whether it is a bearer token: whoever holds its text may present it (no proof of possession). */
  bearer: boolean;
  /** With the `proof` option: the holder's proof of possession, checked in the same call. */
  proof?: {
    /** The holder key that signed the proof. */
    kid: string;
    /** The proof's id. */
    jti: string;
    /** When it was made. */
    iat: number;
    /** Who it is for. */
    aud: string;
    /** The nonce it carries. */
    nonce: string | null;
    /** The request hash it carries. */
    request_hash: string | null;
    /** Record `key` until `exp` and pass recorded keys as `seen`: the module keeps no state. */
    replay: {
      /** The replay key to record. */
      key: string;
      /** Until when to keep it. */
      exp: number;
    };
  };
  /** Without `proof` or `revocation_list`: the first `now` at which this request gives this answer (every link's `nbf` and `iat`, the key's window, less the leeway). */
  valid_from?: number;
  /** With `valid_from`: the first `now` at which it no longer does (the earliest `exp` or key window end, plus the leeway). Revocation is the caller's to check on every use. */
  valid_until?: number;
}

/** A request the token allows. (An answer of `authorize`.) */
export interface Authorized {
  /** Allowed. */
  allowed: true;
  /** Index in `claims.caps` of the capability that allowed it. */
  cap_index: number;
  /** The token's subject. */
  sub: string;
  /** The principal the issuer vouched for. */
  root_sub: string;
  /** The token's `jti`. */
  jti: string;
  /** The revocation key. */
  id: string;
  /** Delegations below the issuer's token. */
  depth: number;
}

/** A child token, signed by the holder: the whole chain. (An answer of `delegate`.) */
export interface Delegated {
  /** The signed token; for a delegation, the whole chain `child~parent~…~root`. */
  token: string;
  /** The signing key's id. */
  kid: string;
  /** The token's id. */
  jti: string;
  /** Issued at. */
  iat: number;
  /** Expires at. */
  exp: number;
  /** The event to append to the audit log (`token_issued` for `issue` and `refresh`, `agent.capability.granted` for `delegate`). */
  audit: {
    /** The event's name. */
    event: AuditEvent;
    /** Its data. */
    data: Record<string, unknown>;
  };
  /** The child's depth. */
  depth: number;
  /** The child's revocation key. */
  id: string;
}

/** Exactly the requests both lists allow. (An answer of `scope_meet`.) */
export interface ScopeMeet {
  /** min(a, b). */
  caps: Capability[];
}

/** A policy that is valid. (An answer of `policy_check`.) */
export interface PolicyCheck {
  /** Valid. */
  valid: true;
  /** How many rules. */
  rules: number;
  /** The policy's TTL cap. */
  max_ttl: number;
  /** The policy in normal form. */
  policy: Policy;
}

/** A grant. (An answer of `policy_evaluate`.) */
export interface Granted {
  /** Granted. */
  decision: 'granted';
  /** What is granted: the request met with the allow rules, required constraints merged in. */
  capabilities: Capability[];
  /** The lifetime granted, in seconds (capped by the policy). */
  ttl: number;
  /** The allow rules that granted it. */
  matched_rules: string[];
  /** Whether less than asked is granted. */
  narrowed: boolean;
}

/** An evaluation, rule by rule. (An answer of `policy_explain`.) */
export interface PolicyExplanation {
  /** The lifetime asked for. */
  requested_ttl: number;
  /** The policy's TTL cap. */
  policy_max_ttl: number;
  /** One entry per rule visited, in order. */
  rules: Array<{
    /** The rule's id. */
    id: string;
    /** Its effect. */
    effect: 'allow' | 'deny';
    /** Whether it names the subject. */
    subject_matched: boolean;
    /** What named it: `ids`, `patterns[1]` or `attributes`. */
    matched_by: string | null;
    /** Whether its capabilities overlap the request. */
    overlapped: boolean;
    /** What an allow rule contributed. */
    contributed: Capability[];
    /** The lifetime cap it imposed. */
    ttl_cap: number | null;
    /** `true`: it applied to a request for a bearer token and allows none, so it contributed nothing. */
    bearer_refused?: boolean;
  }>;
  /** Evaluation steps spent. */
  steps: number;
  /** The decision. */
  decision: Decision;
}

/** A revocation list, signed. (An answer of `revocation_list_sign`.) */
export interface SignedRevocationList {
  /** The signed list. */
  list: string;
  /** The signing key's id. */
  kid: string;
}

/** A revocation list that verified; a stale list is an outcome, not an error. (An answer of `revocation_list_verify`.) */
export interface CheckedRevocationList {
  /** `stale`: past its freshness (a revocation list's `next_update`, a status list's `exp`); fetch a newer list, or decide to accept it. */
  status: 'fresh' | 'stale';
  /** Stale since (its `next_update` or `exp`). */
  stale_since: number | null;
  /** The signing key's id. */
  kid: string;
  /** The issuer. */
  iss: string;
  /** Monotonic: a verifier refuses a list older than one it has seen. */
  seq: number;
  /** Issued at. */
  iat: number;
  /** When a newer list is due. */
  next_update: number;
  /** The revoked ids. */
  revoked: RevokedEntry[];
}

/** A proof of possession, signed by the holder. (An answer of `pop_create`.) */
export interface CreatedProof {
  /** The proof. */
  proof: string;
}

/** A proof of possession that verified, and the token it was for. (An answer of `pop_verify`.) */
export interface VerifiedProof {
  /** The holder key that signed the proof. */
  kid: string;
  /** The proof's id. */
  jti: string;
  /** When it was made. */
  iat: number;
  /** Who it is for. */
  aud: string;
  /** The nonce it carries. */
  nonce: string | null;
  /** The request hash it carries. */
  request_hash: string | null;
  /** Record `key` until `exp` and pass recorded keys as `seen`: the module keeps no state. */
  replay: {
    /** The replay key to record. */
    key: string;
    /** Until when to keep it. */
    exp: number;
  };
  /** The presented token's `jti`. */
  token_jti: string;
  /** Its revocation key. */
  token_id: string;
  /** Its subject. */
  sub: string;
  /** The principal the issuer vouched for. */
  root_sub: string;
}

/** A record of an audit hash chain. (An answer of `audit_append`.) */
export interface AuditRecord {
  /** The record's place in the chain. */
  seq: number;
  /** When the event happened. */
  time: number;
  /** The event name. */
  event: AuditEvent;
  /** The event's data version. */
  v: number;
  /** The event's data (integers only among numbers: a record must hash one way). */
  data: Record<string, unknown>;
  /** The previous record's hash. */
  prev: string;
  /** This record's hash. */
  hash: string;
}

/** An audit chain that verified. (An answer of `audit_verify`.) */
export interface AuditSummary {
  /** Valid. */
  valid: true;
  /** The first record's `seq`. */
  first_seq: number;
  /** The last record's `seq`. */
  last_seq: number;
  /** How many records. */
  count: number;
  /** The last record's hash. */
  head: string;
}

/** A token re-issued through the policy in force. (An answer of `refresh`.) */
export interface Refreshed {
  /** The signed token; for a delegation, the whole chain `child~parent~…~root`. */
  token: string;
  /** The signing key's id. */
  kid: string;
  /** The token's id. */
  jti: string;
  /** Issued at. */
  iat: number;
  /** Expires at. */
  exp: number;
  /** The event to append to the audit log (`token_issued` for `issue` and `refresh`, `agent.capability.granted` for `delegate`). */
  audit: {
    /** The event's name. */
    event: AuditEvent;
    /** Its data. */
    data: Record<string, unknown>;
  };
  /** The `jti` of the token refreshed. */
  replaces: string;
  /** The new grant. */
  caps: Capability[];
}

/** A token's headers and claims, read but NOT verified: nothing in it is authenticated. (An answer of `decode`.) */
export interface Decoded {
  /** The leaf's protected header. */
  header: Record<string, unknown>;
  /** The leaf's claims, as the token states them. */
  claims: UnverifiedClaims;
  /** The leaf's ancestors, root first; empty for a single token. */
  chain: Array<{
    /** The ancestor's protected header. */
    header: Record<string, unknown>;
    /** Its claims, as stated. */
    claims: UnverifiedClaims;
  }>;
}

/** A status list, signed. (An answer of `status_list_sign`.) */
export interface SignedStatusList {
  /** The signed list. */
  list: string;
  /** The signing key's id. */
  kid: string;
}

/** A status list that verified; a stale list is an outcome, not an error. (An answer of `status_list_verify`.) */
export interface CheckedStatusList {
  /** `stale`: past its freshness (a revocation list's `next_update`, a status list's `exp`); fetch a newer list, or decide to accept it. */
  status: 'fresh' | 'stale';
  /** Stale since (its `next_update` or `exp`). */
  stale_since: number | null;
  /** The signing key's id. */
  kid: string;
  /** The issuer. */
  iss: string;
  /** The list's URI. */
  sub: string;
  /** When it was made. */
  iat: number;
  /** When it stops being fresh. */
  exp: number;
  /** How long it may be cached, in seconds, if the issuer said. */
  ttl: number | null;
  /** How many tokens it covers. */
  size: number;
  /** How many of them are revoked. */
  revoked_count: number;
  /** With `idx`: whether that token is revoked; else `null`. */
  revoked: boolean | null;
}

/** The assembled text. (An answer of `attach_signature`.) */
export interface AttachedSignature {
  /** The assembled text. */
  token: string;
}
