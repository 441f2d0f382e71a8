//! A tamper-evident audit log: every issue, revocation and denial as a record
//! in a SHA-256 hash chain.
//!
//! This module is pure. The caller says what happened and when ([`AuditChain::append`]
//! takes `time`), and persists the [`AuditRecord`]s it gets back; the
//! verifier ([`verify_chain`]) reads them back and says whether any was
//! edited, inserted, removed or reordered.
//!
//! # Record format (schema version 1)
//!
//! A record is a JSON object with exactly these members:
//!
//! ```json
//! {"data":{"jti":"…","sub":"operator-1"},"event":"token_revoked","hash":"<43 chars>",
//!  "prev":"<43 chars>","seq":7,"time":1700000000,"v":1}
//! ```
//!
//! | member | type | meaning |
//! |---|---|---|
//! | `seq` | integer `0..=2^64-1` | position in the log; contiguous from 0 |
//! | `time` | integer seconds | when the caller says the event happened |
//! | `event` | string | an [`EventKind`] name |
//! | `v` | integer | the event's schema version ([`EventKind::version`]) |
//! | `data` | object | the event's facts (see [`data`] for the usual ones) |
//! | `prev` | base64url, 32 bytes | `hash` of the record before; [`GENESIS_PREV`] for `seq` 0 |
//! | `hash` | base64url, 32 bytes | see below |
//!
//! `hash` is base64url (no padding) of SHA-256 over the ASCII tag
//! [`HASH_TAG`] (`captoken-audit-v1` and a line feed) followed by the
//! canonical JSON of the record without its `hash`:
//!
//! ```text
//! captoken-audit-v1\n{"data":{…},"event":"…","prev":"…","seq":7,"time":1700000000,"v":1}
//! ```
//!
//! The tag keeps a record hash from ever being mistaken for another SHA-256
//! in the system (a `kid`, a token digest). Canonical JSON here means: no
//! whitespace; object members sorted by the UTF-8 bytes of their names, at
//! every depth; strings escaped as `serde_json` does (`"`, `\` and control
//! characters only, `\b \f \n \r \t` by name, others as lowercase `\u00xx`;
//! everything else literal UTF-8); integers in decimal. That is exactly how
//! [`crate::json`] prints any value, and what `serde_json::to_vec` prints for
//! the same data. Numbers that are not integers have more than one spelling
//! (`1.5`, `1.50`, `15e-1`), so a stored record whose `data` holds one is
//! refused by [`AuditRecord::from_json`]: event data numbers are integers
//! within ±(2^53-1), which JavaScript also reads exactly.
//!
//! # What the chain proves, and what it does not
//!
//! Each record commits to its predecessor, so editing, inserting, deleting
//! or reordering records anywhere before the last one breaks verification at
//! the first record affected. Two things a chain cannot show on its own:
//!
//! - records removed from the **end** leave a shorter chain that is still
//!   valid. Only comparing the head against one kept elsewhere detects that:
//!   [`verify_chain_against`].
//! - someone who can write the log can also recompute every hash after the
//!   record they changed. The hashes carry no key; again only an anchored
//!   head (the last one the gateway published, logged elsewhere, or signed)
//!   detects the rewrite.

use crate::codes::ErrorCode;
use alloc::format;
use alloc::string::{String, ToString};

use core::fmt;

use crate::json::{self, Map, Value};
use sha2::{Digest, Sha256};

use crate::b64;

/// Domain-separation tag prefixed to the bytes a record hash covers.
pub const HASH_TAG: &str = "captoken-audit-v1\n";

/// `prev` of the record with `seq` 0: base64url of 32 zero bytes.
pub const GENESIS_PREV: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Members of a serialized record; anything else is refused.
const MEMBERS: &[&str] = &["data", "event", "hash", "prev", "seq", "time", "v"];

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EventKind {
    /// A token was issued (`token_issued`).
    TokenIssued,
    /// A token was revoked (`token_revoked`).
    TokenRevoked,
    /// A token was refused by verification or policy (`token_denied`).
    TokenDenied,
    /// A capability was granted or delegated (`agent.capability.granted`).
    CapabilityGranted,
    /// A granted capability was revoked (`agent.capability.revoked`).
    CapabilityRevoked,
    /// A delegation was attempted and refused (`agent.delegation.attempted`).
    DelegationAttempted,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 6] = [
        EventKind::TokenIssued,
        EventKind::TokenRevoked,
        EventKind::TokenDenied,
        EventKind::CapabilityGranted,
        EventKind::CapabilityRevoked,
        EventKind::DelegationAttempted,
    ];

    /// The name written in a record's `event` member. Names are API: never
    /// renamed, only added.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::TokenIssued => "token_issued",
            EventKind::TokenRevoked => "token_revoked",
            EventKind::TokenDenied => "token_denied",
            EventKind::CapabilityGranted => "agent.capability.granted",
            EventKind::CapabilityRevoked => "agent.capability.revoked",
            EventKind::DelegationAttempted => "agent.delegation.attempted",
        }
    }

    /// The schema version of this event's `data`, written as `v`.
    pub fn version(self) -> u32 {
        // Every event is at its first version. Changing what `data` holds
        // for an event bumps its version here, so old readers can tell.
        1
    }

    /// The kind named `name`, exactly as [`EventKind::name`] spells it.
    pub fn from_name(name: &str) -> Option<Self> {
        EventKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a record or a chain of records was refused.
///
/// Every variant but [`AuditError::Empty`] names the `seq` where the chain
/// first went wrong; records before it verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditError {
    /// A record does not fit the record format (missing, mistyped or unknown
    /// member, unknown event, `v` not the event's version).
    BadRecord {
        /// The record's `seq`; when that is unreadable, the `seq` its place
        /// in the chain implies; `None` when neither is known.
        seq: Option<u64>,
        /// What is wrong with it.
        reason: String,
    },
    /// `hash` is not the hash of the record's content: the record was edited.
    BadHash {
        /// The record's `seq`.
        seq: u64,
    },
    /// `prev` is not the `hash` of the record before (or not
    /// [`GENESIS_PREV`] for `seq` 0, or [`GENESIS_PREV`] for any other).
    BrokenLink {
        /// The record's `seq`.
        seq: u64,
    },
    /// A record is not where its `seq` says: one was removed, inserted or moved.
    BadSequence {
        /// The `seq` this position in the chain should hold.
        seq: u64,
        /// The `seq` the record there holds.
        found: u64,
    },
    /// The chain is intact but does not end at the anchored head: records
    /// were removed from its end, or it was rewritten.
    HeadMismatch {
        /// `seq` of the chain's last record.
        seq: u64,
        /// The anchored head.
        expected: String,
        /// The chain's head.
        found: String,
    },
    /// No records: an empty chain proves nothing, so it is not reported valid.
    Empty,
}

impl AuditError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            AuditError::BadRecord { .. } => ErrorCode::AuditBadRecord,
            AuditError::BadHash { .. } => ErrorCode::AuditBadHash,
            AuditError::BrokenLink { .. } => ErrorCode::AuditBrokenLink,
            AuditError::BadSequence { .. } => ErrorCode::AuditBadSequence,
            AuditError::HeadMismatch { .. } => ErrorCode::AuditHeadMismatch,
            AuditError::Empty => ErrorCode::AuditEmptyChain,
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The `seq` where the chain first went wrong, when known.
    pub fn seq(&self) -> Option<u64> {
        match self {
            AuditError::BadRecord { seq, .. } => *seq,
            AuditError::BadHash { seq }
            | AuditError::BrokenLink { seq }
            | AuditError::BadSequence { seq, .. }
            | AuditError::HeadMismatch { seq, .. } => Some(*seq),
            AuditError::Empty => None,
        }
    }

    fn bad(seq: Option<u64>, reason: impl Into<String>) -> Self {
        AuditError::BadRecord {
            seq,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::BadRecord {
                seq: Some(seq),
                reason,
            } => write!(f, "audit record {seq} is invalid: {reason}"),
            AuditError::BadRecord { seq: None, reason } => {
                write!(f, "audit record is invalid: {reason}")
            }
            AuditError::BadHash { seq } => {
                write!(f, "audit record {seq} does not match its hash")
            }
            AuditError::BrokenLink { seq } => write!(
                f,
                "audit record {seq} does not link to the record before it"
            ),
            AuditError::BadSequence { seq, found } => {
                write!(f, "audit record {found} is where record {seq} should be")
            }
            AuditError::HeadMismatch {
                seq,
                expected,
                found,
            } => write!(
                f,
                "audit chain ends at record {seq} with head `{found}`, the anchored head is `{expected}`"
            ),
            AuditError::Empty => f.write_str("audit chain has no records"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for AuditError {}

/// One entry of the audit log.
///
/// The members are public so a store can hold them as columns; anything
/// built or changed by hand is checked by [`verify_chain`] like anything read
/// from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditRecord {
    /// Position in the log, contiguous from 0.
    pub seq: u64,
    /// When the event happened, in seconds, as the caller said.
    pub time: i64,
    /// What happened.
    pub kind: EventKind,
    /// Schema version of `data`; always `kind.version()` in a valid record.
    pub version: u32,
    /// The facts of the event.
    pub data: Map,
    /// `hash` of the previous record, or [`GENESIS_PREV`].
    pub prev: String,
    /// Base64url SHA-256 of this record (see the module docs for the input).
    pub hash: String,
}

impl AuditRecord {
    /// The hash this record's content commits to. Equal to `hash` unless the
    /// record was changed after it was made.
    pub fn computed_hash(&self) -> String {
        let mut input = String::from(HASH_TAG);
        // Members in sorted order, written out so the content needs no copy
        // into a map just to be hashed.
        input.push_str("{\"data\":");
        json::write_object(&mut input, &self.data);
        input.push_str(",\"event\":");
        json::write_string(&mut input, self.kind.name());
        input.push_str(",\"prev\":");
        json::write_string(&mut input, &self.prev);
        input.push_str(",\"seq\":");
        input.push_str(&self.seq.to_string());
        input.push_str(",\"time\":");
        input.push_str(&self.time.to_string());
        input.push_str(",\"v\":");
        input.push_str(&self.version.to_string());
        input.push('}');
        b64::encode(&Sha256::digest(input.as_bytes()))
    }

    /// The record as a JSON object with the members of the module docs.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("data".into(), Value::Object(self.data.clone()));
        map.insert("event".into(), Value::String(self.kind.name().into()));
        map.insert("hash".into(), Value::String(self.hash.clone()));
        map.insert("prev".into(), Value::String(self.prev.clone()));
        map.insert("seq".into(), Value::Number(self.seq.into()));
        map.insert("time".into(), Value::Number(self.time.into()));
        map.insert("v".into(), Value::Number(self.version.into()));
        Value::Object(map)
    }

    /// Read a record from its JSON form, strictly.
    ///
    /// Only the shape is checked here; whether `hash` matches and the record
    /// fits its chain is [`verify_chain`]'s job. Parse stored text with
    /// [`crate::json::parse_object`] first, so a duplicated member cannot
    /// show one value here and another to a different reader.
    ///
    /// # Errors
    /// [`AuditError::BadRecord`] when `value` is not an object, a member is
    /// missing, has the wrong type or is unknown, `event` names no
    /// [`EventKind`], `v` is not that event's version, or `prev`/`hash` is not
    /// strict base64url of 32 bytes.
    pub fn from_json(value: &Value) -> Result<Self, AuditError> {
        let Value::Object(map) = value else {
            return Err(AuditError::bad(None, "not a json object"));
        };
        let seq = match map.get("seq") {
            Some(v) => v
                .as_u64()
                .ok_or_else(|| AuditError::bad(None, "`seq` is not an unsigned integer"))?,
            None => return Err(AuditError::bad(None, "`seq` is missing")),
        };
        let bad = |reason: String| AuditError::bad(Some(seq), reason);
        if let Some(unknown) = map.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
            return Err(bad(format!("unknown member `{unknown}`")));
        }
        let member = |name: &str| {
            map.get(name)
                .ok_or_else(|| bad(format!("`{name}` is missing")))
        };
        let time = member("time")?
            .as_i64()
            .ok_or_else(|| bad("`time` is not an integer".into()))?;
        let event = member("event")?
            .as_str()
            .ok_or_else(|| bad("`event` is not a string".into()))?;
        let kind =
            EventKind::from_name(event).ok_or_else(|| bad(format!("unknown event `{event}`")))?;
        let version = member("v")?
            .as_u64()
            .ok_or_else(|| bad("`v` is not an unsigned integer".into()))?;
        if version != u64::from(kind.version()) {
            return Err(bad(format!(
                "`v` is {version}, event `{kind}` is version {}",
                kind.version()
            )));
        }
        let data = member("data")?
            .as_object()
            .ok_or_else(|| bad("`data` is not an object".into()))?;
        if !data.values().all(crate::json::numbers_are_safe) {
            // `1.5` and `1.50` are one number to most readers and two hash
            // inputs to us, and JavaScript rounds integers beyond 2^53:
            // refuse what could hash two ways.
            return Err(bad(
                "`data` holds a number that is not an integer within ±(2^53-1)".into(),
            ));
        }
        let prev = digest_member(map, "prev").map_err(bad)?;
        let hash = digest_member(map, "hash").map_err(bad)?;
        Ok(AuditRecord {
            seq,
            time,
            kind,
            version: kind.version(),
            data: data.clone(),
            prev,
            hash,
        })
    }
}

/// A member holding a base64url SHA-256, checked for exactly that shape.
fn digest_member(map: &Map, name: &str) -> Result<String, String> {
    match map.get(name) {
        Some(Value::String(s)) if b64::decode_array::<32>(s).is_some() => Ok(s.clone()),
        Some(_) => Err(format!("`{name}` is not base64url of 32 bytes")),
        None => Err(format!("`{name}` is missing")),
    }
}

/// Appends records to a chain.
///
/// Appending never fails: there is no I/O here. The record it returns exists
/// only in memory until the caller stores it, and the caller must store it
/// durably **before** acknowledging the operation it records (returning the
/// token, confirming the revocation); otherwise a crash leaves an operation
/// that happened with no record of it. If storing fails, discard this
/// `AuditChain` and [`AuditChain::resume`] from the last stored record, so
/// the next record does not link to one that was never written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditChain {
    next_seq: u64,
    head: Option<String>,
}

impl AuditChain {
    /// An empty chain: the next record is the genesis record, `seq` 0.
    pub fn new() -> Self {
        AuditChain::default()
    }

    /// Continue after `last`, the last record already stored.
    ///
    /// `last` is trusted as given: verify the stored chain (ideally against
    /// an anchored head) before resuming it, or new records will faithfully
    /// extend a tampered log.
    pub fn resume(last: &AuditRecord) -> Self {
        AuditChain {
            // At u64::MAX the next record repeats `seq`, which verification
            // reports; 2^64 records will not be written in practice.
            next_seq: last.seq.saturating_add(1),
            head: Some(last.hash.clone()),
        }
    }

    /// Record that `kind` happened at `time` with the facts in `data`.
    /// Persist the result before acknowledging the operation (see above).
    pub fn append(&mut self, time: i64, kind: EventKind, data: Map) -> AuditRecord {
        let mut record = AuditRecord {
            seq: self.next_seq,
            time,
            kind,
            version: kind.version(),
            data,
            prev: self
                .head
                .clone()
                .unwrap_or_else(|| GENESIS_PREV.to_string()),
            hash: String::new(),
        };
        record.hash = record.computed_hash();
        self.next_seq = self.next_seq.saturating_add(1);
        self.head = Some(record.hash.clone());
        record
    }

    /// `hash` of the last record appended or resumed from; `None` before the
    /// genesis record. Publish it (or store it apart from the log) as the
    /// anchor for [`verify_chain_against`].
    pub fn head(&self) -> Option<&str> {
        self.head.as_deref()
    }

    /// The `seq` the next appended record gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

/// What a verified chain covers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChainSummary {
    /// `seq` of the first record. Not 0 means a segment was verified, whose
    /// start is only as trustworthy as the head it continues from.
    pub first_seq: u64,
    /// `seq` of the last record.
    pub last_seq: u64,
    /// `hash` of the last record.
    pub head: String,
    /// Number of records.
    pub count: u64,
}

/// Verifies a chain one record at a time, for logs too large to hold at
/// once. [`verify_chain`] is this over a slice.
#[derive(Debug, Clone, Default)]
pub struct ChainVerifier {
    // INVARIANT: `last` is `Some` once a record has been accepted, or from
    // the start when resuming; `first_seq` and `count` describe the
    // records accepted by this verifier (`count` 0: none yet).
    last: Option<(u64, String)>,
    first_seq: u64,
    count: u64,
    /// The first record must be the chain's first (`seq` 0).
    genesis: bool,
}

impl ChainVerifier {
    /// A verifier expecting any first record: a segment, from anywhere in
    /// a chain.
    pub fn new() -> Self {
        ChainVerifier::default()
    }

    /// A verifier expecting the whole chain: its first record must be
    /// `seq` 0 (and link to [`GENESIS_PREV`]), so records removed from the
    /// start are found.
    pub fn genesis() -> Self {
        ChainVerifier {
            genesis: true,
            ..ChainVerifier::default()
        }
    }

    /// A verifier continuing after a record already verified: `seq` and
    /// `hash` of that record. The next record must be `seq + 1` and link
    /// to `hash`, so a long chain can be verified in segments with nothing
    /// left between them for the caller to check.
    pub fn resume(seq: u64, hash: impl Into<String>) -> Self {
        ChainVerifier {
            last: Some((seq, hash.into())),
            ..ChainVerifier::default()
        }
    }

    /// The `seq` the next record must have, once one has been accepted.
    pub fn expected_seq(&self) -> Option<u64> {
        self.last.as_ref().map(|(seq, _)| seq.saturating_add(1))
    }

    /// Check `record` and its link to the record pushed before it.
    ///
    /// The first record pushed starts the chain at its own `seq`; if that is
    /// 0 its `prev` must be [`GENESIS_PREV`]. After an error the verifier
    /// should be discarded: the chain is broken at that record.
    ///
    /// # Errors
    /// [`AuditError::BadSequence`] when `seq` is not the previous one plus
    /// one, [`AuditError::BadRecord`] when `version` is not the event's,
    /// [`AuditError::BadHash`] when `hash` does not match the content, and
    /// [`AuditError::BrokenLink`] when `prev` is not the previous `hash`.
    pub fn push(&mut self, record: &AuditRecord) -> Result<(), AuditError> {
        let seq = record.seq;
        // Position first: after a deletion or insertion every later record
        // is intact, so the sequence is what names the place it broke.
        if self.genesis && self.last.is_none() && seq != 0 {
            return Err(AuditError::BadSequence { seq: 0, found: seq });
        }
        if let Some(expected) = self.expected_seq() {
            let overflowed = self.last.as_ref().is_some_and(|(s, _)| *s == u64::MAX);
            if seq != expected || overflowed {
                return Err(AuditError::BadSequence {
                    seq: expected,
                    found: seq,
                });
            }
        }
        if record.version != record.kind.version() {
            return Err(AuditError::bad(
                Some(seq),
                format!(
                    "`v` is {}, event `{}` is version {}",
                    record.version,
                    record.kind,
                    record.kind.version()
                ),
            ));
        }
        if record.computed_hash() != record.hash {
            return Err(AuditError::BadHash { seq });
        }
        let linked = match &self.last {
            Some((_, prev_hash)) => record.prev == *prev_hash,
            // A segment that does not start at 0 cannot be linked here, but
            // a record claiming to follow the genesis anywhere else is forged.
            None if seq == 0 => record.prev == GENESIS_PREV,
            None => record.prev != GENESIS_PREV,
        };
        if !linked {
            return Err(AuditError::BrokenLink { seq });
        }
        if self.count == 0 {
            self.first_seq = seq;
        }
        self.count = self.count.saturating_add(1);
        self.last = Some((seq, record.hash.clone()));
        Ok(())
    }

    /// The summary of the records pushed so far.
    ///
    /// # Errors
    /// [`AuditError::Empty`] when no record was pushed.
    pub fn finish(self) -> Result<ChainSummary, AuditError> {
        if self.count == 0 {
            return Err(AuditError::Empty);
        }
        let (last_seq, head) = self.last.ok_or(AuditError::Empty)?;
        Ok(ChainSummary {
            first_seq: self.first_seq,
            last_seq,
            head,
            count: self.count,
        })
    }
}

/// Verify that `records` form an unbroken chain, in order.
///
/// Every hash is recomputed, `seq` must count up by one from `records[0].seq`,
/// and every `prev` must be the `hash` before it ([`GENESIS_PREV`] at `seq`
/// 0). That detects any edit, insertion, deletion or reordering **except**
/// removal of records at the end and a rewrite of everything after an edit:
/// use [`verify_chain_against`] for those.
///
/// # Errors
/// The first problem found, at the lowest `seq`: see [`ChainVerifier::push`];
/// [`AuditError::Empty`] for no records.
pub fn verify_chain(records: &[AuditRecord]) -> Result<ChainSummary, AuditError> {
    let mut verifier = ChainVerifier::new();
    for record in records {
        verifier.push(record)?;
    }
    verifier.finish()
}

/// [`verify_chain`], and the chain must end at `expected_head`.
///
/// `expected_head` is an anchor kept out of reach of whoever can write the
/// log: the head the gateway last published, sent to another log, or signed.
/// Pass the records up to the one that anchor names; records appended after
/// it are verified by a later anchor.
///
/// # Errors
/// Those of [`verify_chain`], and [`AuditError::HeadMismatch`] when the
/// chain is intact but its last `hash` is not `expected_head`.
pub fn verify_chain_against(
    records: &[AuditRecord],
    expected_head: &str,
) -> Result<ChainSummary, AuditError> {
    check_head(verify_chain(records)?, expected_head)
}

/// [`verify_chain`] over records in their JSON form, each read with
/// [`AuditRecord::from_json`].
///
/// # Errors
/// Those of [`verify_chain`], and [`AuditError::BadRecord`] for a record that
/// does not fit the format, reported at its place in the chain.
pub fn verify_chain_json(records: &[Value]) -> Result<ChainSummary, AuditError> {
    verify_chain_json_with(ChainVerifier::new(), records)
}

/// [`verify_chain_json`] with `verifier`: [`ChainVerifier::genesis`] for a
/// whole chain, [`ChainVerifier::resume`] for a segment after one already
/// verified.
///
/// # Errors
/// As [`verify_chain_json`].
pub fn verify_chain_json_with(
    mut verifier: ChainVerifier,
    records: &[Value],
) -> Result<ChainSummary, AuditError> {
    for value in records {
        let record = AuditRecord::from_json(value).map_err(|err| match err {
            AuditError::BadRecord { seq: None, reason } => AuditError::BadRecord {
                seq: verifier.expected_seq(),
                reason,
            },
            other => other,
        })?;
        verifier.push(&record)?;
    }
    verifier.finish()
}

/// [`verify_chain_json`], and the chain must end at `expected_head`.
///
/// # Errors
/// Those of [`verify_chain_json`] and [`verify_chain_against`].
pub fn verify_chain_json_against(
    records: &[Value],
    expected_head: &str,
) -> Result<ChainSummary, AuditError> {
    check_head(verify_chain_json(records)?, expected_head)
}

pub(crate) fn check_head(
    summary: ChainSummary,
    expected_head: &str,
) -> Result<ChainSummary, AuditError> {
    if summary.head == expected_head {
        Ok(summary)
    } else {
        Err(AuditError::HeadMismatch {
            seq: summary.last_seq,
            expected: expected_head.to_string(),
            found: summary.head,
        })
    }
}

/// The canonical JSON of `value`, as hashed (see the module docs).
///
/// Exposed so other hosts and tests can reproduce a record's hash input.
pub fn canonical_json(value: &Value) -> String {
    String::from_utf8(value.to_vec()).unwrap_or_default()
}

/// Builders for the `data` of each event, so every writer records the same
/// facts under the same names.
///
/// Each returns the map to pass to [`AuditChain::append`] with the matching
/// [`EventKind`]. Add members freely: `data` is an open object, and readers
/// must ignore members they do not know.
pub mod data {

    use crate::json::{Map, Value};

    fn object<const N: usize>(members: [(&str, Option<Value>); N]) -> Map {
        members
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name.into(), v)))
            .collect()
    }

    fn text(s: &str) -> Option<Value> {
        Some(Value::String(s.into()))
    }

    /// [`super::EventKind::TokenIssued`]: `{"jti","sub","caps","exp"}`.
    pub fn token_issued(jti: &str, sub: &str, caps: &Value, exp: i64) -> Map {
        object([
            ("jti", text(jti)),
            ("sub", text(sub)),
            ("caps", Some(caps.clone())),
            ("exp", Some(exp.into())),
        ])
    }

    /// [`super::EventKind::TokenRevoked`]: `{"id","reason"}`, where `id` is
    /// what was revoked (a token id: `crate::token::VerifiedToken::id`).
    pub fn token_revoked(id: &str, reason: &str) -> Map {
        object([("id", text(id)), ("reason", text(reason))])
    }

    /// [`super::EventKind::TokenDenied`]: `{"code","jti"?}`, where `code` is
    /// the error's stable code and `jti` is present when the token got far
    /// enough to have a trusted one.
    pub fn token_denied(code: &str, jti: Option<&str>) -> Map {
        object([("code", text(code)), ("jti", jti.and_then(text))])
    }

    /// [`super::EventKind::CapabilityGranted`]: `{"id","parent_id"?,"sub","caps","exp"}`;
    /// `parent_id` is present for a delegation. Ids, not bare `jti`s: an id
    /// is what revokes the token (a delegated `jti` alone names nothing).
    pub fn capability_granted(
        id: &str,
        parent_id: Option<&str>,
        sub: &str,
        caps: &Value,
        exp: i64,
    ) -> Map {
        object([
            ("id", text(id)),
            ("parent_id", parent_id.and_then(text)),
            ("sub", text(sub)),
            ("caps", Some(caps.clone())),
            ("exp", Some(exp.into())),
        ])
    }

    /// [`super::EventKind::CapabilityRevoked`]: `{"id","reason"}`.
    pub fn capability_revoked(id: &str, reason: &str) -> Map {
        object([("id", text(id)), ("reason", text(reason))])
    }

    /// [`super::EventKind::DelegationAttempted`]: `{"parent_id","sub"?,"code"}`,
    /// where `parent_id` is the id of the token a delegation was attempted
    /// from, `sub` who it was for (when known: a refused chain presented
    /// for recording may not say) and `code` why it was refused.
    pub fn delegation_attempted(parent_id: &str, sub: Option<&str>, code: &str) -> Map {
        object([
            ("parent_id", text(parent_id)),
            ("sub", sub.and_then(text)),
            ("code", text(code)),
        ])
    }
}
