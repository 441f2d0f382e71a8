//! The conformance vectors in `tests/vectors/`: the committed files are
//! exactly what the generator writes, every operation has one that
//! succeeds, and the core natively and the module in wasmtime (over the raw
//! ABI) give every vector's answer byte for byte. (Node and Chromium replay
//! the same files in `npm/test/pack/vectors.test.js`.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use captoken_host::{HostError, Runtime};
use captoken_tests::vectors::{self, Vector};
use serde_json::{Value, json};

const REGENERATE: &str = "cargo run -p captoken-tests --bin captoken-vectors";

fn committed() -> Vec<Vector> {
    vectors::read_dir(&vectors::dir())
        .unwrap()
        .into_values()
        .flatten()
        .collect()
}

#[test]
fn the_committed_vectors_are_the_generated_ones() {
    let generated = vectors::render(vectors::cases());
    let dir = vectors::dir();
    for (name, text) in &generated {
        let on_disk = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        assert!(
            on_disk == *text,
            "tests/vectors/{name} is not what the generator writes: run `{REGENERATE}` and review the difference"
        );
    }
    let files = vectors::read_dir(&dir).unwrap();
    let extra: Vec<&String> = files
        .keys()
        .filter(|n| !generated.contains_key(*n))
        .collect();
    assert!(
        extra.is_empty(),
        "files no case generates: {extra:?} (run `{REGENERATE}`)"
    );
}

/// A new operation cannot go without vectors: each has one that succeeds,
/// so its answer's bytes, not only an error code, are compared everywhere.
#[test]
fn every_operation_has_a_vector_that_succeeds() {
    let all = committed();
    let missing: Vec<&str> = captoken_core::OPERATIONS
        .iter()
        .map(|o| o.name)
        .filter(|name| !all.iter().any(|v| v.op == *name && v.expect.is_ok()))
        .collect();
    assert!(
        missing.is_empty(),
        "operations with no succeeding vector: {missing:?}"
    );
}

/// The error object a host reports, in the module's own members.
fn error_object(err: &HostError) -> Value {
    let HostError::Op {
        code,
        message,
        path,
        audit,
        seq,
    } = err
    else {
        panic!("the module did not run: {err}");
    };
    let mut object = json!({ "code": code, "message": message });
    if let Some(path) = path {
        object["path"] = json!(path);
    }
    if let Some(seq) = seq {
        object["seq"] = json!(seq);
    }
    if let Some(audit) = audit {
        object["audit"] = (**audit).clone();
    }
    object
}

fn show(answer: &Result<String, Value>) -> String {
    match answer {
        Ok(text) => format!("answer {text}"),
        Err(error) => format!("error {error}"),
    }
}

#[test]
fn every_vector_gives_its_answer_natively_and_in_wasmtime() {
    let all = committed();
    assert!(all.len() > 100, "only {} vectors", all.len());
    let runtime = Runtime::embedded().unwrap();
    let mut mismatches = Vec::new();
    for v in &all {
        let request = v.request.text();
        let native = captoken_core::ops::call_named(&v.op, request.as_bytes())
            .map(|bytes| String::from_utf8(bytes).unwrap())
            .map_err(|e| serde_json::from_slice::<Value>(&e.to_json()).unwrap());
        if native != v.expect {
            mismatches.push(format!(
                "{} natively:\n  expected {}\n  got      {}",
                v.id,
                show(&v.expect),
                show(&native)
            ));
        }
        let wasmtime = match captoken_core::OPERATIONS.iter().find(|o| o.name == v.op) {
            Some(op) => runtime
                .call(op.id, request.as_bytes())
                .map(|bytes| String::from_utf8(bytes).unwrap())
                .map_err(|e| error_object(&e)),
            // A name that is no operation has no id to send over the raw
            // ABI: send one no operation has, and compare the code only
            // (the module cannot repeat a name it was never given).
            None => match runtime.call(u32::MAX, request.as_bytes()) {
                Ok(bytes) => Ok(String::from_utf8(bytes).unwrap()),
                Err(e) => Err(json!({ "code": e.code() })),
            },
        };
        let expected = match (
            &v.expect,
            captoken_core::OPERATIONS.iter().any(|o| o.name == v.op),
        ) {
            (Err(error), false) => Err(json!({ "code": error["code"] })),
            (expect, _) => expect.clone(),
        };
        if wasmtime != expected {
            mismatches.push(format!(
                "{} in wasmtime:\n  expected {}\n  got      {}",
                v.id,
                show(&expected),
                show(&wasmtime)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} vectors answered differently:\n{}",
        mismatches.len(),
        all.len(),
        mismatches.join("\n")
    );
}
