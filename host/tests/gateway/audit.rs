//! The audit chain: every issue and revocation recorded and linked, and edits
//! to the log found by `captoken audit verify` or refused by the gateway.

use serde_json::json;

use super::support::*;

#[test]
fn every_issue_and_revoke_is_in_the_audit_chain_and_edits_are_found() {
    let server = start("audit");
    let addr = server.addr;
    let (_, public) = holder(12);
    let first = issue(addr, "operator-1", &public);
    let second = issue(addr, "operator-2", &public);
    let jti = first["jti"].as_str().unwrap();
    let revoked = post(
        addr,
        "/v1/tokens/revoke",
        true,
        &json!({ "jti": jti, "reason": "key lost" }),
    );
    assert_eq!(revoked.status, 200);
    // Already revoked, a denial and a verify change nothing: no record.
    assert_eq!(revoke(addr, jti).status, 200);
    post(addr, "/v1/tokens", true, &issue_body("mallory", &public))
        .expect_error(403, "no_matching_rule");
    assert_eq!(verify(addr, second["token"].as_str().unwrap()).status, 200);

    let db = sqlite_file(&server.paths.db).to_owned();
    let records = audit_records(&db);
    let events: Vec<&str> = records
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["token_issued", "token_issued", "token_revoked"]);
    assert_eq!(records[0]["data"]["jti"], first["jti"]);
    assert_eq!(records[0]["data"]["sub"], "operator-1");
    assert_eq!(records[0]["data"]["caps"], first["capabilities"]);
    assert_eq!(records[1]["data"]["jti"], second["jti"]);
    assert_eq!(
        records[2]["data"],
        json!({ "id": jti, "reason": "key lost" })
    );
    assert_eq!(records[2]["time"], revoked.json()["revoked_at"]);
    assert_eq!(records[1]["prev"], records[0]["hash"]);
    assert_eq!(records[2]["prev"], records[1]["hash"]);

    let (code, report, _) = audit_verify(&db, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        (
            report["valid"].clone(),
            report["count"].clone(),
            report["last_seq"].clone()
        ),
        (json!(true), json!(3), json!(2))
    );
    let head = text(&report, "head");
    assert_eq!(head, records[2]["hash"]);
    drop(server);

    // Cutting the last record leaves a valid shorter chain; only the head
    // kept from before tells.
    tamper(&db, "DELETE FROM audit_events WHERE seq = 2");
    assert_eq!(audit_verify(&db, &[]).0, 0);
    let (code, report, stderr) = audit_verify(&db, &["--head", &head]);
    assert_eq!(code, 1, "{report} {stderr}");
    assert_eq!(report["code"], "audit_head_mismatch");
    assert!(
        stderr.starts_with("error: audit_head_mismatch: "),
        "{stderr}"
    );

    // Editing a record's facts: found at that record.
    let edited = serde_json::to_string(&{
        let mut record = records[1].clone();
        record["data"]["sub"] = json!("operator-9");
        record
    })
    .unwrap();
    tamper(
        &db,
        &format!(
            "UPDATE audit_events SET record = '{}' WHERE seq = 1",
            edited.replace('\'', "''")
        ),
    );
    let (code, report, stderr) = audit_verify(&db, &[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        (
            report["valid"].clone(),
            report["code"].clone(),
            report["seq"].clone()
        ),
        (json!(false), json!("audit_bad_hash"), json!(1))
    );
    assert!(
        stderr.starts_with("error: audit_bad_hash: at seq 1: "),
        "{stderr}"
    );
}

#[test]
fn a_tampered_last_record_stops_the_gateway_from_extending_the_log() {
    let server = start("audit-refuse");
    let addr = server.addr;
    let (_, public) = holder(13);
    issue(addr, "operator-1", &public);
    let db = sqlite_file(&server.paths.db).to_owned();
    let record = audit_records(&db)[0].clone();
    let mut edited = record.clone();
    edited["data"]["sub"] = json!("operator-9");
    tamper(
        &db,
        &format!(
            "UPDATE audit_events SET record = '{}' WHERE seq = 0",
            serde_json::to_string(&edited).unwrap().replace('\'', "''")
        ),
    );
    // The module refuses to link a record to one that is not what its hash
    // says; the issue fails as a whole and nothing is handed out.
    post(addr, "/v1/tokens", true, &issue_body("operator-2", &public))
        .expect_error(500, "audit_bad_hash");
    let listed = get(addr, "/v1/capabilities?principal_id=operator-2", true).json();
    assert_eq!(listed["count"], 0);
    assert_eq!(audit_records(&db).len(), 1);
}
