// Generated from the file of the same name ending in .d.ts by
// tests/tests/npm_contract.rs (CAPTOKEN_BLESS=1): do not edit.
// Generated from captoken_core::ops::contract by tests/tests/npm_contract.rs
// (CAPTOKEN_BLESS=1 cargo test -p captoken-tests --test npm_contract): do not edit.
import type {
  AuditEvent, AuditRecord, Capability, Context, Jwk, Jwks, Policy, PolicyRequest,
  RevocationListContent, TokenRequest,
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
  | 'refresh_not_root'
  | 'replayed'
  | 'replay_expired'
  | 'replay_guard_full'
  | 'revoked'
  | 'revocation_list_rollback'
  | 'revocation_list_stale'
  | 'bad_revocation_list'
  | 'revocation_list_too_large'
  | 'not_granted'
  | 'constraint_violated'
  | 'missing_context'
  | 'bad_context'
;

/** How a verifier trusts tokens: the members every verifying operation shares. */
export interface TrustOptions {
  /** Clock skew allowed on time claims, in seconds. Default: 30. */
  leeway?: number;
  /** Most delegation steps accepted. Default: 3. */
  maxDepth?: number;
  /** Token ids (`jti`) the caller knows are revoked; a revoked ancestor revokes its descendants. */
  revoked?: string[];
  /** A signed revocation list to check the chain against too. */
  revocationList?: string;
  /** How long past its `next_update` the revocation list may still be used, in seconds. */
  maxStale?: number;
  /** The highest revocation list `seq` accepted before: an older list is refused. */
  lastSeenSeq?: number;
  /** The issuer's public keys. */
  jwks: Jwks;
  /** The issuer (`iss`) trusted. */
  issuer: string;
  /** This verifier's audience: the token's `aud` must name it. */
  audience: string;
  /** The time to verify at. Default: the clock. */
  now?: number;
}

/** The options of `issue` (operation `issue`). */
export interface IssueOptions {
  /** The private Ed25519 JWK to sign with. */
  key: Jwk;
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
  /** Lifetime in seconds; through a policy, capped by it (absent: as long as it allows). Default: 300. */
  ttl?: number;
  /** `sub`, `aud`, `caps`, `cnf` and the optional claims. */
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
    maxAge?: number;
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
  /** The private Ed25519 JWK to sign with. */
  key: Jwk;
  /** The child's lifetime in seconds, within the parent's. Default: 300. */
  ttl?: number;
  /** The child's claims; its `caps` must lie within the parent's. */
  claims: TokenRequest;
}

/** The options of `signRevocationList` (operation `revocation_list_sign`). */
export interface SignRevocationListOptions {
  /** The private Ed25519 JWK to sign with. */
  key: Jwk;
  /** The list's claims: `iss`, `seq`, `iat`, `next_update`, `revoked`. */
  list: RevocationListContent;
}

/** The options of `verifyRevocationList` (operation `revocation_list_verify`). */
export interface VerifyRevocationListOptions {
  /** The signed list. */
  list: string;
  /** The issuer's public keys. */
  jwks: Jwks;
  /** The issuer trusted. */
  issuer: string;
  /** The time to verify at. Default: the clock. */
  now?: number;
  /** The highest list `seq` accepted before: an older list is refused. */
  lastSeenSeq?: number;
  /** Clock skew allowed, in seconds. Default: 30. */
  leeway?: number;
}

/** The options of `createProof` (operation `pop_create`). */
export interface CreateProofOptions {
  /** The private Ed25519 JWK to sign with. */
  key: Jwk;
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
  maxAge?: number;
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
  /** The private Ed25519 JWK to sign with. */
  key: Jwk;
  /** The policy the refreshed grant must still pass. */
  policy: Policy;
  /** What the issuer knows of the subject. */
  attributes?: Record<string, string>;
  /** The new token's lifetime in seconds. Default: 300. */
  ttl?: number;
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
