//! Refused requests: missing or wrong admin credentials and their back-off,
//! malformed input and its stable error codes.

use serde_json::json;

use super::support::*;

#[test]
fn admin_endpoints_refuse_missing_or_wrong_credentials() {
    let server = start("auth");
    let addr = server.addr;
    let (_, public) = holder(3);
    let body = issue_body("operator-1", &public).to_string();
    let cases: [(&str, &str, &str); 5] = [
        ("POST", "/v1/tokens", body.as_str()),
        ("POST", "/v1/tokens/revoke", r#"{"jti": "x"}"#),
        ("POST", "/v1/capabilities/grant", r#"{"token": "x"}"#),
        ("POST", "/v1/capabilities/revoke", r#"{"token_id": "x"}"#),
        ("GET", "/v1/capabilities?principal_id=operator-1", ""),
    ];
    for (method, path, body) in cases {
        let none = request(addr, method, path, None, body);
        none.expect_error(401, "missing_credentials");
        assert_eq!(none.header("www-authenticate"), Some("Bearer"));
        request(addr, method, path, Some(&format!("Basic {ADMIN}")), body)
            .expect_error(401, "missing_credentials");
        request(addr, method, path, Some("Bearer not-the-token"), body)
            .expect_error(401, "bad_credentials");
        request(addr, method, path, Some(&format!("Bearer {ADMIN}x")), body)
            .expect_error(401, "bad_credentials");
    }
    // Nothing was issued or revoked by the refused calls.
    let listed = get(addr, "/v1/capabilities?principal_id=operator-1", true).json();
    assert_eq!(listed["count"], 0);
    // The scheme is case-insensitive (RFC 7235).
    let lower = request(
        addr,
        "GET",
        "/v1/capabilities?principal_id=operator-1",
        Some(&format!("bearer {ADMIN}")),
        "",
    );
    assert_eq!(lower.status, 200);
}

#[test]
fn repeated_admin_failures_are_delayed_and_the_right_token_is_not() {
    let server = start("auth-backoff");
    let addr = server.addr;
    let wrong = move || {
        request(
            addr,
            "GET",
            "/v1/capabilities?principal_id=x",
            Some("Bearer guess-0123456789abcdefghijklmnop"),
            "",
        )
        .expect_error(401, "bad_credentials");
    };
    // (refused at once, refused after a delay), from /metrics.
    let refusals = || {
        let metrics = String::from_utf8(get(addr, "/metrics", false).body).unwrap();
        let count = |delayed: &str| -> u64 {
            let prefix = format!("captoken_admin_refusals_total{{delayed=\"{delayed}\"}} ");
            metrics
                .lines()
                .find_map(|line| line.strip_prefix(&prefix))
                .map_or(0, |n| n.parse().unwrap())
        };
        (count("false"), count("true"))
    };
    for _ in 0..5 {
        wrong();
    }
    assert_eq!(refusals(), (5, 0));
    // From the sixth failure in a row on, each waits its turn and a delay
    // (the delays themselves: auth.rs's unit test).
    for _ in 0..3 {
        wrong();
    }
    assert_eq!(refusals(), (5, 3));
    let guessers: Vec<_> = (0..4).map(|_| std::thread::spawn(wrong)).collect();
    for guesser in guessers {
        guesser.join().unwrap();
    }
    assert_eq!(refusals(), (5, 7));
    // The admin is let in, never delayed, and the count starts again.
    assert_eq!(
        get(addr, "/v1/capabilities?principal_id=x", true).status,
        200
    );
    wrong();
    assert_eq!(refusals(), (6, 7));
}

#[test]
fn malformed_requests_get_400_with_a_stable_code() {
    let server = start("bad-input");
    let addr = server.addr;
    let (private, public) = holder(4);
    let caps = json!([{ "actions": ["drive"], "resources": ["robot:7"] }]);
    let cases: Vec<(&str, String, &str)> =
        vec![
        ("/v1/tokens", "{".to_owned(), "malformed_json"),
        ("/v1/tokens", String::new(), "malformed_json"),
        ("/v1/tokens", "[1, 2]".to_owned(), "wrong_type"),
        (
            "/v1/tokens",
            json!({ "subject": 7, "subject_public_key": public, "capabilities": caps }).to_string(),
            "wrong_type",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": "abc", "capabilities": caps })
                .to_string(),
            "wrong_type",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public, "capabilities": caps,
                    "expires_in_seconds": "60" })
            .to_string(),
            "wrong_type",
        ),
        // Neither a key nor a subject: nobody to issue to (a subject alone
        // asks for a bearer token; a key alone names the subject).
        (
            "/v1/tokens",
            json!({ "capabilities": caps }).to_string(),
            "missing_field",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public }).to_string(),
            "missing_field",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public, "capabilities": caps,
                    "expires_in": 60 })
            .to_string(),
            "unknown_field",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public, "capabilities": caps,
                    "expires_in_seconds": 0 })
            .to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "", "subject_public_key": public, "capabilities": caps })
                .to_string(),
            "invalid_value",
        ),
        // Control characters in principal ids and other strings.
        (
            "/v1/tokens",
            json!({ "subject": "operator\u{0}1", "subject_public_key": public, "capabilities": caps })
                .to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1\nforged line", "subject_public_key": public,
                    "capabilities": caps })
                .to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public, "capabilities": caps,
                    "workspace_id": "ws\u{1b}[2J" })
                .to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens/revoke",
            json!({ "jti": "AAAAAAAAAAAAAAAAAAAAAA", "reason": "lost\u{85}" }).to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public, "capabilities": caps,
                    "scope": "READ" })
            .to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public, "scope": "ROOT" })
                .to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": private, "capabilities": caps })
                .to_string(),
            "private_key_submitted",
        ),
        // The module's own codes for what it refuses to evaluate or sign.
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public,
                    "capabilities": [{ "actions": [], "resources": ["robot:7"] }] })
            .to_string(),
            "bad_request",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": { "kty": "OKP" },
                    "capabilities": caps })
            .to_string(),
            "bad_claims",
        ),
        ("/v1/tokens/verify", json!({ "token": 5 }).to_string(), "wrong_type"),
        ("/v1/tokens/verify", json!({}).to_string(), "missing_field"),
        (
            "/v1/tokens/verify",
            json!({ "token": "a.b.c", "leeway": 5 }).to_string(),
            "unknown_field",
        ),
        ("/v1/tokens/revoke", json!({ "jti": null }).to_string(), "wrong_type"),
        ("/v1/tokens/revoke", json!({ "reason": "x" }).to_string(), "missing_field"),
        (
            "/v1/tokens/revoke",
            json!({ "jti": "x".repeat(300) }).to_string(),
            "invalid_value",
        ),
    ];
    // Read with the module's strict rules: a duplicate key is refused,
    // never taken last-wins; and only as JSON.
    let doubled = r#"{"token": "a.b.c", "token": "x.y.z"}"#;
    request(addr, "POST", "/v1/tokens/verify", None, doubled).expect_error(400, "duplicate_key");
    let subject_twice = format!(
        r#"{{"subject": "operator-1", "subject": "admin", "subject_public_key": {public},
             "capabilities": {caps}}}"#
    );
    request(addr, "POST", "/v1/tokens", Some(&admin()), &subject_twice)
        .expect_error(400, "duplicate_key");
    let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
    request(
        addr,
        "POST",
        "/v1/tokens/verify",
        None,
        &format!(r#"{{"token": {deep}}}"#),
    )
    .expect_error(400, "json_too_deep");
    let token = json!({ "token": "a.b.c" }).to_string();
    for content_type in [
        "",
        "\r\nContent-Type: text/plain",
        "\r\nContent-Type: application/x-www-form-urlencoded",
    ] {
        let head = format!(
            "POST /v1/tokens/verify HTTP/1.1\r\nContent-Length: {}{content_type}",
            token.len()
        );
        raw(addr, &head, token.as_bytes()).expect_error(415, "unsupported_media_type");
    }
    let head = format!(
        "POST /v1/tokens/verify HTTP/1.1\r\nContent-Length: {}\r\nContent-Type: Application/JSON; charset=utf-8",
        token.len()
    );
    raw(addr, &head, token.as_bytes()).expect_error(401, "bad_base64");
    for (path, body, code) in &cases {
        let reply = request(addr, "POST", path, Some(&admin()), body);
        let got = reply.json();
        assert_eq!(
            (reply.status, got["error"].as_str()),
            (400, Some(*code)),
            "POST {path} {body}: {got}"
        );
    }
    let queries = [
        ("/v1/capabilities", "missing_field"),
        ("/v1/capabilities?principal_id=", "missing_field"),
        ("/v1/capabilities?principal_id=a%00b", "invalid_value"),
        (
            "/v1/capabilities?principal_id=a&workspace_id=w%0A",
            "invalid_value",
        ),
        (
            "/v1/capabilities?principal_id=a&colour=red",
            "unknown_field",
        ),
        ("/v1/capabilities?principal_id=a&limit=0", "invalid_value"),
        (
            "/v1/capabilities?principal_id=a&include_inactive=yes",
            "invalid_value",
        ),
    ];
    for (path, code) in queries {
        get(addr, path, true).expect_error(400, code);
    }
}

#[test]
fn a_refusal_names_the_path_of_the_offending_member() {
    let server = start("paths");
    let (_, public) = holder(68);
    let mut body = issue_body("operator-1", &public);
    body["capabilities"][0]["constraints"] = json!({ "colour": "red" });
    let refused = post(server.addr, "/v1/tokens", true, &body).expect_error(400, "bad_request");
    assert_eq!(refused["path"], "capabilities[0].constraints.colour");
}
