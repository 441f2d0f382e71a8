//! The table checked for coverage, then run natively, in wasmtime and in Node
//! and compared outcome for outcome and byte for byte.

use std::io::Write;
use std::process::{Command, Stdio};

use captoken_host::Runtime;
use serde_json::{Value, json};

use super::support::*;
use super::table::table;

/// A new operation cannot skip the cross-host comparison: every operation
/// of the table has a row here, and a row that succeeds, so its response
/// bytes (not only an error code) are compared natively, in wasmtime and in
/// Node.
#[test]
fn every_operation_has_a_row_that_succeeds() {
    let rows = table();
    // The operations with no row `covered` accepts.
    let uncovered = |covered: &dyn Fn(&Row) -> bool| -> Vec<&str> {
        captoken_core::OPERATIONS
            .iter()
            .map(|o| o.name)
            .filter(|name| !rows.iter().any(|r| r.op == *name && covered(r)))
            .collect()
    };
    let no_row = uncovered(&|_| true);
    assert!(
        no_row.is_empty(),
        "operations with no row in the cross-host table: {no_row:?}"
    );
    let never_ok = uncovered(&|r| r.expect == "ok");
    assert!(
        never_ok.is_empty(),
        "operations with no succeeding row in the cross-host table: {never_ok:?}"
    );
}

fn outcome(result: &Result<Vec<u8>, Vec<u8>>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(body) => serde_json::from_slice::<Value>(body).unwrap()["code"]
            .as_str()
            .unwrap()
            .to_string(),
    }
}

#[test]
fn every_operation_gives_the_same_bytes_natively_in_wasmtime_and_in_node() {
    let rows = table();
    let runtime = Runtime::embedded().unwrap();

    let batch: Vec<Value> = rows
        .iter()
        .map(|r| json!([r.op, r.request.to_string()]))
        .collect();
    let mut child = Command::new("node")
        .arg(root().join("tests/js/batch.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node (>= 18) must be on PATH for the cross-host tests");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::from(batch).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let node: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(node.len(), rows.len());

    for (row, node) in rows.iter().zip(node) {
        let body = serde_json::to_vec(&row.request).unwrap();
        let n = native(row.op, &row.request);
        let id = captoken_core::OPERATIONS
            .iter()
            .find(|o| o.name == row.op)
            .map_or(u32::MAX, |o| o.id);
        let w = runtime.call(id, &body).map_err(|e| match e {
            captoken_host::HostError::Op { ref message, .. } => {
                json!({ "code": e.code(), "message": message, "path": e.path() })
            }
            other => panic!("{}: wasmtime failed to run: {other}", row.name),
        });
        let node_body = node["body"].as_str().unwrap().as_bytes().to_vec();
        let j = if node["ok"] == true {
            Ok(node_body)
        } else {
            Err(node_body)
        };

        assert_eq!(outcome(&n), row.expect, "{}: native", row.name);
        match (&n, &w) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}: native vs wasmtime", row.name),
            (Err(a), Err(b)) => {
                let a: Value = serde_json::from_slice(a).unwrap();
                assert_eq!(a["code"], b["code"], "{}: native vs wasmtime", row.name);
                // Where in the request, across the raw ABI as natively.
                assert_eq!(a["path"], b["path"], "{}: native vs wasmtime", row.name);
                // An unknown name has no id to send over the raw ABI, so only
                // known operations can be compared message for message.
                if row.expect != "unknown_op" {
                    assert_eq!(
                        a["message"], b["message"],
                        "{}: native vs wasmtime",
                        row.name
                    );
                }
            }
            _ => panic!(
                "{}: native and wasmtime disagree: {:?} vs {:?}",
                row.name,
                outcome(&n),
                w
            ),
        }
        assert_eq!(n.is_ok(), j.is_ok(), "{}: native vs node", row.name);
        let (a, b) = match (&n, &j) {
            (Ok(a), Ok(b)) | (Err(a), Err(b)) => (a, b),
            _ => unreachable!(),
        };
        if n.is_ok() {
            assert_eq!(a, b, "{}: native vs node bytes", row.name);
        } else {
            let (a, b): (Value, Value) = (
                serde_json::from_slice(a).unwrap(),
                serde_json::from_slice(b).unwrap(),
            );
            assert_eq!(
                (&a["code"], &a["message"]),
                (&b["code"], &b["message"]),
                "{}: native vs node",
                row.name
            );
        }
    }
}
