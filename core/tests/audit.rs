//! The audit log: a chain verifies, and every kind of tampering is reported
//! with its code at the first record it touches.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use captoken_core::audit::{
    self, AuditChain, AuditError, AuditRecord, ChainVerifier, EventKind, GENESIS_PREV, HASH_TAG,
    data, verify_chain, verify_chain_against, verify_chain_json, verify_chain_json_against,
};
use captoken_core::{b64, json};
use proptest::prelude::*;
mod lit;
use captoken_core::json::{Map, Value};
use lit::json;
use sha2::{Digest, Sha256};

const T0: i64 = 1_700_000_000;

fn caps() -> Value {
    json!([{ "actions": ["drive"], "resources": ["robot:7"], "constraints": { "max_purchase": 0 } }])
}

/// The facts of the `i`th event of the test log, cycling through every kind.
fn event(i: usize) -> (EventKind, Map) {
    let jti = format!("jti-{i:02}");
    match i % 6 {
        0 => (
            EventKind::TokenIssued,
            data::token_issued(&jti, "operator-1", &caps(), T0 + 300),
        ),
        1 => (
            EventKind::TokenDenied,
            data::token_denied("expired", Some(&jti)),
        ),
        2 => (
            EventKind::CapabilityGranted,
            data::capability_granted(&jti, Some("jti-00"), "agent-7", &caps(), T0 + 60),
        ),
        3 => (
            EventKind::DelegationAttempted,
            data::delegation_attempted("jti-02", Some("agent-8"), "scope_widened"),
        ),
        4 => (
            EventKind::CapabilityRevoked,
            data::capability_revoked(&jti, "agent \"retired\"\n"),
        ),
        _ => (
            EventKind::TokenRevoked,
            data::token_revoked(&jti, "key compromise ✓"),
        ),
    }
}

fn log(n: usize) -> Vec<AuditRecord> {
    let mut chain = AuditChain::new();
    (0..n)
        .map(|i| {
            let (kind, data) = event(i);
            chain.append(T0 + i as i64, kind, data)
        })
        .collect()
}

/// A digest-shaped string other than `s`.
fn other_digest(s: &str) -> String {
    let other = b64::encode(&Sha256::digest(s.as_bytes()));
    assert_ne!(other, s);
    other
}

fn rehash(r: &mut AuditRecord) {
    r.hash = r.computed_hash();
}

/// Give every record from `from` on its position's `seq` and re-link and
/// re-hash it: what someone with write access to the log can do.
fn rewrite_from(records: &mut [AuditRecord], from: usize) {
    for i in from..records.len() {
        records[i].seq = i as u64;
        records[i].prev = if i == 0 {
            GENESIS_PREV.into()
        } else {
            records[i - 1].hash.clone()
        };
        rehash(&mut records[i]);
    }
}

fn err(records: &[AuditRecord]) -> (&'static str, Option<u64>) {
    let e = verify_chain(records).unwrap_err();
    (e.code(), e.seq())
}

fn err_json(records: &[Value]) -> (&'static str, Option<u64>) {
    let e = verify_chain_json(records).unwrap_err();
    (e.code(), e.seq())
}

#[test]
fn a_log_of_every_kind_verifies() {
    let records = log(20);
    for kind in EventKind::ALL {
        assert!(records.iter().any(|r| r.kind == kind), "{kind}");
    }
    let summary = verify_chain(&records).unwrap();
    assert_eq!(summary.first_seq, 0);
    assert_eq!(summary.last_seq, 19);
    assert_eq!(summary.count, 20);
    assert_eq!(summary.head, records[19].hash);
    assert_eq!(
        verify_chain_against(&records, &records[19].hash).unwrap(),
        summary
    );
    let values: Vec<Value> = records.iter().map(AuditRecord::to_json).collect();
    assert_eq!(verify_chain_json(&values).unwrap(), summary);
    assert_eq!(
        verify_chain_json_against(&values, &records[19].hash).unwrap(),
        summary
    );
}

#[test]
fn genesis_and_links() {
    assert_eq!(GENESIS_PREV, b64::encode(&[0u8; 32]));
    let records = log(3);
    assert_eq!(records[0].seq, 0);
    assert_eq!(records[0].prev, GENESIS_PREV);
    assert_eq!(records[1].prev, records[0].hash);
    assert_eq!(records[2].prev, records[1].hash);
    for r in &records {
        assert_eq!(r.hash.len(), 43);
        assert_eq!(r.version, 1);
    }

    let mut chain = AuditChain::new();
    assert_eq!((chain.head(), chain.next_seq()), (None, 0));
    let r = chain.append(
        T0,
        EventKind::TokenDenied,
        data::token_denied("bad_signature", None),
    );
    assert_eq!((chain.head(), chain.next_seq()), (Some(r.hash.as_str()), 1));
    assert_eq!(
        r.data,
        json!({ "code": "bad_signature" })
            .as_object()
            .cloned()
            .unwrap()
    );
}

/// A silent change to the hash input changes this value and fails here,
/// instead of failing every log already written.
#[test]
fn record_hash_is_pinned() {
    let record = AuditChain::new().append(
        T0,
        EventKind::TokenIssued,
        data::token_issued("KioqKioqKioqKioqKioqKg", "operator-1", &caps(), T0 + 300),
    );
    let input = format!(
        "captoken-audit-v1\n{{\"data\":{{\"caps\":[{{\"actions\":[\"drive\"],\"constraints\":{{\"max_purchase\":0}},\"resources\":[\"robot:7\"]}}],\"exp\":1700000300,\"jti\":\"KioqKioqKioqKioqKioqKg\",\"sub\":\"operator-1\"}},\"event\":\"token_issued\",\"prev\":\"{GENESIS_PREV}\",\"seq\":0,\"time\":1700000000,\"v\":1}}"
    );
    assert!(input.starts_with(HASH_TAG));
    assert_eq!(record.hash, b64::encode(&Sha256::digest(input.as_bytes())));
    assert_eq!(record.hash, "ROZdHAZ3D5tBRG25XD2qJU8Ze22_23mcqI1qorl5iBk");
    assert_eq!(
        serde_json::to_string(&record.to_json()).unwrap(),
        format!(
            "{{\"data\":{{\"caps\":[{{\"actions\":[\"drive\"],\"constraints\":{{\"max_purchase\":0}},\"resources\":[\"robot:7\"]}}],\"exp\":1700000300,\"jti\":\"KioqKioqKioqKioqKioqKg\",\"sub\":\"operator-1\"}},\"event\":\"token_issued\",\"hash\":\"{}\",\"prev\":\"{GENESIS_PREV}\",\"seq\":0,\"time\":1700000000,\"v\":1}}",
            record.hash
        )
    );
}

#[test]
fn canonical_json_sorts_and_escapes() {
    let v = json!({ "b": [1, -2, true, null], "a": { "z": "\u{1}\t\"\\/é😀", "y": 1.5 } });
    assert_eq!(
        audit::canonical_json(&v),
        "{\"a\":{\"y\":1.5,\"z\":\"\\u0001\\t\\\"\\\\/é😀\"},\"b\":[1,-2,true,null]}"
    );
    // Other numbers are kept as written, never rounded or respelled.
    let floats = lit::parse(b"[1e21,1E-7,-0,1.50]");
    assert_eq!(audit::canonical_json(&floats), "[1e21,1E-7,-0,1.50]");
}

#[test]
fn stored_records_with_non_integer_data_are_refused() {
    // `1.5` and `1.50` are one number to most readers but two hash inputs,
    // so event data is integers only.
    let mut chain = AuditChain::new();
    let record = chain.append(T0, EventKind::TokenIssued, Map::new());
    for number in [
        "1.5",
        "1e3",
        "-0",
        "18446744073709551616",
        "9007199254740992",
        "-9007199254740992",
    ] {
        let mut value = record.to_json();
        value["data"]["n"] = lit::parse(number.as_bytes());
        let err = AuditRecord::from_json(&value).unwrap_err();
        assert_eq!(err.code(), "audit_bad_record", "{number}");
        value["data"]["n"] = json!([1, { "deep": 2 }]);
        AuditRecord::from_json(&value).unwrap();
    }
}

/// A change to one record.
type Edit = Box<dyn Fn(&mut AuditRecord)>;

#[test]
fn editing_any_member_of_any_record_is_detected() {
    let records = log(20);
    for i in 0..records.len() {
        let seq = i as u64;
        let edits: Vec<(&str, Edit, &str, u64)> = vec![
            (
                "data value",
                Box::new(|r| {
                    let k = r.data.keys().next().unwrap().clone();
                    r.data.insert(k, json!("forged"));
                }),
                "audit_bad_hash",
                seq,
            ),
            (
                "data member added",
                Box::new(|r| {
                    r.data.insert("extra".into(), json!(1));
                }),
                "audit_bad_hash",
                seq,
            ),
            (
                "data member removed",
                Box::new(|r| {
                    let k = r.data.keys().next().unwrap().clone();
                    r.data.remove(&k);
                }),
                "audit_bad_hash",
                seq,
            ),
            ("time", Box::new(|r| r.time += 1), "audit_bad_hash", seq),
            (
                "kind",
                Box::new(|r| {
                    r.kind = if r.kind == EventKind::TokenIssued {
                        EventKind::TokenRevoked
                    } else {
                        EventKind::TokenIssued
                    }
                }),
                "audit_bad_hash",
                seq,
            ),
            (
                "version",
                Box::new(|r| r.version = 2),
                "audit_bad_record",
                seq,
            ),
            (
                "prev",
                Box::new(|r| r.prev = other_digest(&r.prev)),
                "audit_bad_hash",
                seq,
            ),
            (
                "hash",
                Box::new(|r| r.hash = other_digest(&r.hash)),
                "audit_bad_hash",
                seq,
            ),
            // The first record sets where the chain starts, so a changed seq
            // there shows as a hash mismatch at the seq it now claims.
            (
                "seq",
                Box::new(|r| r.seq += 100),
                if i == 0 {
                    "audit_bad_hash"
                } else {
                    "audit_bad_sequence"
                },
                if i == 0 { 100 } else { seq },
            ),
        ];
        for (what, edit, code, at) in edits {
            let mut tampered = records.clone();
            edit(&mut tampered[i]);
            assert_ne!(tampered[i], records[i]);
            assert_eq!(err(&tampered), (code, Some(at)), "{what} of record {i}");
        }
    }
}

#[test]
fn editing_any_member_of_any_serialized_record_is_detected() {
    let records = log(20);
    let values: Vec<Value> = records.iter().map(AuditRecord::to_json).collect();
    for i in 0..values.len() {
        let seq = i as u64;
        let edits: Vec<(&str, Value, &str)> = vec![
            ("data", json!({ "jti": "forged" }), "audit_bad_hash"),
            ("data", json!([]), "audit_bad_record"),
            ("time", json!(T0 + 1000), "audit_bad_hash"),
            ("time", json!("1700000000"), "audit_bad_record"),
            ("time", json!(1.5), "audit_bad_record"),
            ("event", json!("token_revoked_"), "audit_bad_record"),
            ("event", json!(1), "audit_bad_record"),
            ("v", json!(2), "audit_bad_record"),
            ("v", json!(-1), "audit_bad_record"),
            (
                "prev",
                json!(other_digest(&records[i].prev)),
                "audit_bad_hash",
            ),
            ("prev", json!("AAAA"), "audit_bad_record"),
            (
                "hash",
                json!(other_digest(&records[i].hash)),
                "audit_bad_hash",
            ),
            // 43 characters whose last carries non-zero unused bits.
            (
                "hash",
                json!(format!("{}B", &GENESIS_PREV[..42])),
                "audit_bad_record",
            ),
            ("seq", json!(-1), "audit_bad_record"),
            ("seq", json!("0"), "audit_bad_record"),
        ];
        for (member, value, code) in edits {
            let mut tampered = values.clone();
            if tampered[i][member] == value {
                continue;
            }
            tampered[i][member] = value.clone();
            assert_eq!(
                err_json(&tampered),
                (
                    code,
                    if i == 0 && member == "seq" {
                        None
                    } else {
                        Some(seq)
                    }
                ),
                "{member} = {value} in record {i}"
            );
        }
        for member in ["data", "event", "hash", "prev", "seq", "time", "v"] {
            let mut tampered = values.clone();
            tampered[i].as_object_mut().unwrap().remove(member);
            let expect_seq = if i == 0 && member == "seq" {
                None
            } else {
                Some(seq)
            };
            assert_eq!(
                err_json(&tampered),
                ("audit_bad_record", expect_seq),
                "{member} removed from record {i}"
            );
        }
        let mut tampered = values.clone();
        tampered[i]["note"] = json!("added");
        assert_eq!(err_json(&tampered), ("audit_bad_record", Some(seq)));
        let mut tampered = values.clone();
        tampered[i] = json!([1]);
        assert_eq!(
            err_json(&tampered),
            ("audit_bad_record", if i == 0 { None } else { Some(seq) })
        );
    }
}

#[test]
fn deleting_a_record_is_detected() {
    for k in [1, 10, 18] {
        let mut records = log(20);
        records.remove(k);
        assert_eq!(
            err(&records),
            ("audit_bad_sequence", Some(k as u64)),
            "deleted {k}"
        );
    }
    // Without the genesis record the log is a valid segment starting at 1:
    // only an anchor, or the caller requiring `first_seq == 0`, tells.
    let records = log(20);
    assert_eq!(verify_chain(&records[1..]).unwrap().first_seq, 1);
    // Renumbering the rest without re-hashing does not help.
    let mut records = log(20);
    records.remove(10);
    for r in &mut records[10..] {
        r.seq -= 1;
    }
    assert_eq!(err(&records), ("audit_bad_hash", Some(10)));
    // Re-hashing the renumbered record still leaves its link to the deleted one.
    let mut records = log(20);
    records.remove(10);
    records[10].seq = 10;
    rehash(&mut records[10]);
    assert_eq!(err(&records), ("audit_broken_link", Some(10)));
}

#[test]
fn inserting_a_forged_record_is_detected() {
    let records = log(20);
    let forged = |prev: &str| {
        // Every member set: a record is built only by its chain.
        let mut r = records[10].clone();
        r.seq = 10;
        r.time = T0 + 10;
        r.kind = EventKind::TokenIssued;
        r.version = 1;
        r.data = data::token_issued("forged", "mallory", &caps(), T0 + 9999);
        r.prev = prev.into();
        r.hash = String::new();
        rehash(&mut r);
        r
    };

    // Correct hash, wrong link.
    let mut tampered = records.clone();
    tampered.insert(10, forged(&records[3].hash));
    assert_eq!(err(&tampered), ("audit_broken_link", Some(10)));

    // Correct hash and link: the successor no longer fits.
    let mut tampered = records.clone();
    tampered.insert(10, forged(&records[9].hash));
    assert_eq!(err(&tampered), ("audit_bad_sequence", Some(11)));
    // ... even renumbered and re-hashed, its `prev` names the record it
    // followed before.
    tampered[11].seq = 11;
    rehash(&mut tampered[11]);
    assert_eq!(err(&tampered), ("audit_broken_link", Some(11)));

    // A forged genesis anywhere but seq 0.
    let mut tampered = records[5..].to_vec();
    tampered[0].prev = GENESIS_PREV.into();
    rehash(&mut tampered[0]);
    assert_eq!(err(&tampered), ("audit_broken_link", Some(5)));
    let mut tampered = records.clone();
    tampered[0].prev = other_digest(GENESIS_PREV);
    rehash(&mut tampered[0]);
    assert_eq!(err(&tampered), ("audit_broken_link", Some(0)));
}

#[test]
fn reordering_records_is_detected() {
    for (a, b) in [(0, 1), (3, 4), (5, 15), (18, 19)] {
        let mut tampered = log(20);
        tampered.swap(a, b);
        let expected = if a == 0 {
            ("audit_bad_sequence", Some(2))
        } else {
            ("audit_bad_sequence", Some(a as u64))
        };
        assert_eq!(err(&tampered), expected, "swapped {a} and {b}");
        // With their seqs swapped back and re-hashed, the links are wrong.
        let (sa, sb) = (tampered[a].seq, tampered[b].seq);
        tampered[a].seq = sb;
        tampered[b].seq = sa;
        rehash(&mut tampered[a]);
        rehash(&mut tampered[b]);
        assert_eq!(err(&tampered), ("audit_broken_link", Some(a as u64)));
    }
}

#[test]
fn tail_truncation_and_rewrites_need_an_anchor() {
    let records = log(20);
    let anchor = records[19].hash.clone();

    let truncated = &records[..15];
    assert_eq!(verify_chain(truncated).unwrap().last_seq, 14);
    let e = verify_chain_against(truncated, &anchor).unwrap_err();
    assert_eq!((e.code(), e.seq()), ("audit_head_mismatch", Some(14)));
    assert_eq!(
        e,
        AuditError::HeadMismatch {
            seq: 14,
            expected: anchor.clone(),
            found: records[14].hash.clone(),
        }
    );
    let values: Vec<Value> = truncated.iter().map(AuditRecord::to_json).collect();
    assert_eq!(
        verify_chain_json_against(&values, &anchor)
            .unwrap_err()
            .code(),
        "audit_head_mismatch"
    );

    // Whoever can write the log can re-hash everything after an edit; the
    // chain is then valid and only the anchor tells.
    let mut rewritten = records.clone();
    rewritten[12].data.insert("sub".into(), json!("mallory"));
    rewrite_from(&mut rewritten, 12);
    assert!(verify_chain(&rewritten).is_ok());
    assert_eq!(
        verify_chain_against(&rewritten, &anchor)
            .unwrap_err()
            .code(),
        "audit_head_mismatch"
    );

    // An empty log proves nothing.
    assert_eq!(verify_chain(&[]), Err(AuditError::Empty));
    assert_eq!(verify_chain_against(&[], &anchor), Err(AuditError::Empty));
    assert_eq!(
        verify_chain_json(&[]).unwrap_err().code(),
        "audit_empty_chain"
    );
}

#[test]
fn a_segment_verifies_from_its_first_seq() {
    let records = log(20);
    let summary = verify_chain(&records[7..13]).unwrap();
    assert_eq!(
        (summary.first_seq, summary.last_seq, summary.count),
        (7, 12, 6)
    );
    assert_eq!(summary.head, records[12].hash);
}

#[test]
fn resume_continues_a_chain_that_verifies_as_a_whole() {
    let whole = log(20);
    let mut stored: Vec<AuditRecord> = whole[..9].to_vec();
    let mut chain = AuditChain::resume(stored.last().unwrap());
    assert_eq!(chain.next_seq(), 9);
    assert_eq!(chain.head(), Some(whole[8].hash.as_str()));
    for i in 9..20 {
        let (kind, data) = event(i);
        stored.push(chain.append(T0 + i as i64, kind, data));
    }
    // Same events, same times: the same records as one uninterrupted chain.
    assert_eq!(stored, whole);
    assert_eq!(verify_chain(&stored).unwrap().count, 20);
}

#[test]
fn json_round_trip() {
    for record in log(12) {
        let value = record.to_json();
        assert_eq!(AuditRecord::from_json(&value).unwrap(), record);
        // Through text, read strictly as a store would.
        let text = serde_json::to_vec(&value).unwrap();
        let parsed = Value::Object(json::parse_object(&text, 64).unwrap());
        assert_eq!(AuditRecord::from_json(&parsed).unwrap(), record);
    }
    assert_eq!(
        AuditRecord::from_json(&json!("x")).unwrap_err(),
        AuditError::BadRecord {
            seq: None,
            reason: "not a json object".into()
        }
    );
}

#[test]
fn event_names_and_versions() {
    let names = [
        "token_issued",
        "token_revoked",
        "token_denied",
        "agent.capability.granted",
        "agent.capability.revoked",
        "agent.delegation.attempted",
    ];
    for (kind, name) in EventKind::ALL.into_iter().zip(names) {
        assert_eq!(kind.name(), name);
        assert_eq!(kind.to_string(), name);
        assert_eq!(kind.version(), 1);
        assert_eq!(EventKind::from_name(name), Some(kind));
    }
    for name in ["", "TOKEN_ISSUED", "token_issued ", "agent.capability"] {
        assert_eq!(EventKind::from_name(name), None);
    }
}

#[test]
fn error_codes_and_messages() {
    let cases = [
        (
            AuditError::BadRecord {
                seq: Some(3),
                reason: "unknown member `x`".into(),
            },
            "audit_bad_record",
            "audit record 3 is invalid: unknown member `x`",
        ),
        (
            AuditError::BadHash { seq: 4 },
            "audit_bad_hash",
            "audit record 4 does not match its hash",
        ),
        (
            AuditError::BrokenLink { seq: 5 },
            "audit_broken_link",
            "audit record 5 does not link to the record before it",
        ),
        (
            AuditError::BadSequence { seq: 6, found: 7 },
            "audit_bad_sequence",
            "audit record 7 is where record 6 should be",
        ),
        (
            AuditError::Empty,
            "audit_empty_chain",
            "audit chain has no records",
        ),
    ];
    for (e, code, message) in cases {
        assert_eq!(e.code(), code);
        assert_eq!(e.to_string(), message);
        let _: &dyn std::error::Error = &e;
    }
}

#[test]
fn the_streaming_verifier_matches_verify_chain() {
    let records = log(20);
    let mut v = ChainVerifier::new();
    assert_eq!(v.expected_seq(), None);
    for r in &records {
        v.push(r).unwrap();
    }
    assert_eq!(v.expected_seq(), Some(20));
    assert_eq!(v.finish().unwrap(), verify_chain(&records).unwrap());
    assert_eq!(ChainVerifier::new().finish(), Err(AuditError::Empty));
}

// --- properties -----------------------------------------------------------

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        // Event data numbers are integers every JSON reader keeps exactly.
        (-json::MAX_SAFE_INTEGER..=json::MAX_SAFE_INTEGER).prop_map(Value::from),
        // Control characters, quotes, backslashes and non-ASCII included.
        "[a-z\"\\\\\\x00-\\x1fé😀 ]{0,8}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-d]{1,2}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn data_map() -> impl Strategy<Value = Map> {
    prop::collection::btree_map("[a-z_]{1,6}", value(), 0..5).prop_map(|m| m.into_iter().collect())
}

fn appends() -> impl Strategy<Value = Vec<(i64, EventKind, Map)>> {
    prop::collection::vec(
        (
            any::<i64>(),
            prop::sample::select(EventKind::ALL.to_vec()),
            data_map(),
        ),
        1..10,
    )
}

fn build(appends: Vec<(i64, EventKind, Map)>) -> Vec<AuditRecord> {
    let mut chain = AuditChain::new();
    appends
        .into_iter()
        .map(|(time, kind, data)| chain.append(time, kind, data))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_appends_verify(appends in appends()) {
        let records = build(appends);
        let summary = verify_chain(&records).unwrap();
        prop_assert_eq!(summary.count, records.len() as u64);
        prop_assert_eq!(&summary.head, &records.last().unwrap().hash);
        let values: Vec<Value> = records.iter().map(AuditRecord::to_json).collect();
        prop_assert_eq!(verify_chain_json(&values).unwrap(), summary);
        for r in &records {
            prop_assert_eq!(&AuditRecord::from_json(&r.to_json()).unwrap(), r);
        }
    }

    /// Any one-byte change to a stored record's text is refused, unless it
    /// leaves the same JSON value (e.g. `\u001f` to `\u001F`).
    #[test]
    fn any_byte_change_in_a_stored_record_is_detected(
        appends in appends(),
        pick in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let records = build(appends);
        let i = pick.index(records.len());
        let mut texts: Vec<Vec<u8>> =
            records.iter().map(|r| serde_json::to_vec(&r.to_json()).unwrap()).collect();
        let pos = at.index(texts[i].len());
        prop_assume!(texts[i][pos] != byte);
        texts[i][pos] = byte;

        let parsed: Result<Vec<Value>, _> = texts
            .iter()
            .map(|t| json::parse_object(t, 64).map(Value::Object))
            .collect();
        let Ok(values) = parsed else {
            return Ok(()); // refused by the strict reader
        };
        if values[i] == records[i].to_json() {
            return Ok(()); // another spelling of the same record
        }
        let e = verify_chain_json(&values).unwrap_err();
        if i > 0 {
            prop_assert_eq!(e.seq(), Some(i as u64), "{}", e);
        }
    }

    /// For the data the gateway writes (no floats), the hash input is what
    /// `serde_json` prints, so other tools can reproduce it.
    #[test]
    fn canonical_json_is_serde_json_for_float_free_values(v in value()) {
        prop_assert_eq!(audit::canonical_json(&v), serde_json::to_string(&v).unwrap());
    }
}
