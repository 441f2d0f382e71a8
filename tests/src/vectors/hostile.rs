//! Hostile input: tokens, chains and request texts the format refuses, each
//! refused with its stable code. Tokens are forged here by signing
//! hand-made headers and payloads with the trusted issuer's key (or a
//! holder's), so each case reaches exactly the rule it is about.

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::build::*;
use super::{Case, Request};

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// `header.payload.signature` over the texts, signed by key `n`.
fn sign_text(n: u8, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let sig = key(n).sign(input.as_bytes());
    format!("{input}.{}", b64(&sig.to_bytes()))
}

fn segment(value: &Value) -> String {
    value.to_string()
}

/// The baseline root token's header and claims, as issued (issuer key 1,
/// held by key 2, drive and stop robot:7).
fn baseline() -> (String, Value, Value) {
    let issued = ok(
        "issue",
        &json!({ "key": keygen(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": 300, "entropy": b64(&[3; 16]), "claims": claims(2, drive7()) }),
    );
    let token = issued["token"].as_str().unwrap().to_owned();
    let mut parts = token.split('.');
    let mut decode = || -> Value {
        let bytes = captoken_core::b64::decode(parts.next().unwrap().as_bytes()).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    let header = decode();
    let claims = decode();
    (token, header, claims)
}

fn verify(what: &str, token: &str, expect: &str) -> Case {
    json_case(what, "verify", trust(token), expect)
}

fn json_case(what: &str, op: &str, request: Value, expect: &str) -> Case {
    Case {
        what: what.to_owned(),
        op: op.to_owned(),
        request: Request::Json(request),
        expect: expect.to_owned(),
    }
}

fn text_case(what: &str, op: &str, text: String, expect: &str) -> Case {
    Case {
        what: what.to_owned(),
        op: op.to_owned(),
        request: Request::Text(text),
        expect: expect.to_owned(),
    }
}

#[allow(clippy::too_many_lines)]
pub(crate) fn cases() -> Vec<Case> {
    let (token, header, claims) = baseline();
    let with_header = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut h = header.clone();
        f(h.as_object_mut().unwrap());
        sign_text(1, &segment(&h), &segment(&claims))
    };
    let with_claims = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut c = claims.clone();
        f(c.as_object_mut().unwrap());
        sign_text(1, &segment(&header), &segment(&c))
    };
    let parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let kid = header["kid"].as_str().unwrap().to_owned();
    let mut out = Vec::new();

    // The baseline itself verifies: the refusals below are the edits' doing.
    out.push(verify(
        "a re-signed copy of the baseline",
        &sign_text(1, &segment(&header), &segment(&claims)),
        "ok",
    ));

    // Algorithm: EdDSA exactly, nothing else, never absent.
    for (what, alg) in [
        ("alg none", json!("none")),
        ("alg None, capitalised", json!("None")),
        ("alg HS256", json!("HS256")),
        ("alg ES256", json!("ES256")),
        ("alg eddsa lower case", json!("eddsa")),
        ("alg Ed25519", json!("Ed25519")),
        ("alg a number", json!(1)),
        ("alg null", Value::Null),
    ] {
        out.push(verify(
            what,
            &with_header(&|h| {
                h.insert("alg".into(), alg.clone());
            }),
            "unsupported_alg",
        ));
    }
    out.push(verify(
        "alg absent",
        &with_header(&|h| {
            h.remove("alg");
        }),
        "unsupported_alg",
    ));
    out.push(verify(
        "alg none with an empty signature",
        &format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"captoken+jwt"}"#),
            parts[1]
        ),
        "unsupported_alg",
    ));

    // Header: an explicit typ, a trusted kid, no keys or URLs, no crit,
    // nothing unknown.
    out.push(verify(
        "typ absent",
        &with_header(&|h| {
            h.remove("typ");
        }),
        "bad_typ",
    ));
    for (what, typ) in [
        ("typ JWT", "JWT"),
        ("typ upper case", "CAPTOKEN+JWT"),
        ("typ at+jwt", "at+jwt"),
    ] {
        out.push(verify(
            what,
            &with_header(&|h| {
                h.insert("typ".into(), typ.into());
            }),
            "bad_typ",
        ));
    }
    out.push(verify(
        "kid absent",
        &with_header(&|h| {
            h.remove("kid");
        }),
        "missing_kid",
    ));
    out.push(verify(
        "kid unknown",
        &with_header(&|h| {
            h.insert("kid".into(), "not-a-key-we-know".into());
        }),
        "unknown_kid",
    ));
    for (name, value) in [
        ("jwk", keygen(1)["public_jwk"].clone()),
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("x5c", json!(["MIIB"])),
    ] {
        out.push(verify(
            &format!("a key in the header: {name}"),
            &with_header(&|h| {
                h.insert(name.into(), value.clone());
            }),
            "untrusted_key_header",
        ));
    }
    for (what, crit) in [
        ("crit exp", json!(["exp"])),
        ("crit b64", json!(["b64"])),
        ("crit empty", json!([])),
    ] {
        out.push(verify(
            what,
            &with_header(&|h| {
                h.insert("crit".into(), crit.clone());
            }),
            "unknown_crit",
        ));
    }
    out.push(verify(
        "an unknown header member",
        &with_header(&|h| {
            h.insert("cty".into(), "JWT".into());
        }),
        "bad_header",
    ));

    // Encoding: three segments of strict, canonical base64url.
    out.push(verify(
        "two segments",
        &format!("{}.{}", parts[0], parts[1]),
        "malformed_token",
    ));
    out.push(verify(
        "four segments",
        &format!("{token}.{}", parts[2]),
        "malformed_token",
    ));
    out.push(verify("empty token", "", "malformed_token"));
    for (i, name) in ["header", "payload", "signature"].iter().enumerate() {
        let mutate = |f: &dyn Fn(&str) -> String| {
            let mut p = parts.clone();
            p[i] = f(&p[i]);
            p.join(".")
        };
        out.push(verify(
            &format!("{name} padded with ="),
            &mutate(&|s| format!("{s}=")),
            "bad_base64",
        ));
        out.push(verify(
            &format!("{name} in standard base64"),
            &mutate(&|s| s.replacen(|c: char| c.is_ascii_alphabetic(), "+", 1)),
            "bad_base64",
        ));
        out.push(verify(
            &format!("{name} with a leading space"),
            &mutate(&|s| format!(" {s}")),
            "bad_base64",
        ));
    }
    {
        let sig = &parts[2];
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let last = sig.chars().last().unwrap();
        let sibling = alphabet
            .chars()
            .nth(alphabet.find(last).unwrap() ^ 1)
            .unwrap();
        out.push(verify(
            "signature with non-canonical trailing bits",
            &format!(
                "{}.{}.{}{sibling}",
                parts[0],
                parts[1],
                &sig[..sig.len() - 1]
            ),
            "bad_base64",
        ));
    }

    // JSON inside the token: objects, strict, no duplicate members, no
    // deep nesting, UTF-8.
    let h = segment(&header);
    let c = segment(&claims);
    out.push(verify(
        "header an array",
        &sign_text(1, "[]", &c),
        "bad_json",
    ));
    out.push(verify(
        "payload null",
        &sign_text(1, &h, "null"),
        "bad_json",
    ));
    out.push(verify(
        "payload with trailing text",
        &sign_text(1, &h, &format!("{c} trailing")),
        "bad_json",
    ));
    out.push(verify(
        "header with a duplicate alg",
        &sign_text(
            1,
            &format!(r#"{{"alg":"EdDSA","typ":"captoken+jwt","kid":"{kid}","alg":"EdDSA"}}"#),
            &c,
        ),
        "duplicate_key",
    ));
    out.push(verify(
        "payload with a duplicate aud",
        &sign_text(1, &h, &format!(r#"{{"aud":"someone-else",{}"#, &c[1..])),
        "duplicate_key",
    ));
    let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    out.push(verify(
        "payload nested 40 deep",
        &with_claims(&|c| {
            c.insert("x".into(), serde_json::from_str(&deep).unwrap());
        }),
        "json_too_deep",
    ));
    {
        let input = format!("{}.{}", parts[0], b64(b"{\"sub\":\"\xff\xfe\"}"));
        let sig = key(1).sign(input.as_bytes());
        out.push(verify(
            "payload not UTF-8",
            &format!("{input}.{}", b64(&sig.to_bytes())),
            "bad_json",
        ));
    }
    out.push(verify(
        "a token past the size limit",
        &"A".repeat(captoken_core::jws::Limits::default().max_token_len + 1),
        "token_too_large",
    ));

    // Number forms: dates are integers a JavaScript host reads exactly.
    for (what, value) in [
        ("exp with a fraction", json!(1_700_000_300.5)),
        ("exp in exponent form", json!(1.7e9)),
        ("exp a string", json!("1700000300")),
        ("exp negative", json!(-1)),
        ("exp past 2^53", json!(9_007_199_254_740_992_i64)),
    ] {
        out.push(verify(
            what,
            &with_claims(&|c| {
                c.insert("exp".into(), value.clone());
            }),
            "bad_date",
        ));
    }
    out.push(verify(
        "exp written 1.7000003e9 in the payload text",
        &sign_text(
            1,
            &h,
            &c.replace(&format!("\"exp\":{}", NOW + 300), "\"exp\":1.7000003e9"),
        ),
        "bad_date",
    ));
    out.push(verify(
        "exp absent",
        &with_claims(&|c| {
            c.remove("exp");
        }),
        "missing_exp",
    ));
    for (what, ver) in [
        ("schema version 2", json!(2)),
        ("schema version a string", json!("1")),
        ("schema version 1.0", json!(1.0)),
    ] {
        out.push(verify(
            what,
            &with_claims(&|c| {
                c.insert("ver".into(), ver.clone());
            }),
            "unsupported_version",
        ));
    }

    // Time, audience, issuer, signature.
    out.push(json_case(
        "expired at exp exactly",
        "verify",
        with(trust(&token), "now", json!(NOW + 300)),
        "expired",
    ));
    out.push(json_case(
        "one second before exp",
        "verify",
        with(trust(&token), "now", json!(NOW + 299)),
        "ok",
    ));
    out.push(json_case(
        "leeway stretches exp",
        "verify",
        with(
            with(trust(&token), "now", json!(NOW + 329)),
            "leeway",
            json!(30),
        ),
        "ok",
    ));
    out.push(json_case(
        "not yet valid",
        "verify",
        with(trust(&token), "now", json!(NOW - 1)),
        "not_yet_valid",
    ));
    out.push(verify(
        "issued in the future",
        &with_claims(&|c| {
            c.insert("iat".into(), (NOW + 10).into());
        }),
        "issued_in_future",
    ));
    out.push(verify(
        "another audience",
        &with_claims(&|c| {
            c.insert("aud".into(), "another-service".into());
        }),
        "bad_audience",
    ));
    out.push(verify(
        "an audience list naming us",
        &with_claims(&|c| {
            c.insert("aud".into(), json!(["another-service", AUD]));
        }),
        "ok",
    ));
    out.push(verify(
        "another issuer",
        &with_claims(&|c| {
            c.insert("iss".into(), "https://someone-else.example".into());
        }),
        "bad_issuer",
    ));
    out.push(verify(
        "a short jti",
        &with_claims(&|c| {
            c.insert("jti".into(), "abc".into());
        }),
        "bad_claims",
    ));
    {
        let mut edited = claims.clone();
        edited["caps"][0]["actions"] = json!(["drive", "self-destruct"]);
        out.push(verify(
            "payload edited after signing",
            &format!(
                "{}.{}.{}",
                parts[0],
                b64(segment(&edited).as_bytes()),
                parts[2]
            ),
            "bad_signature",
        ));
    }
    out.push(verify(
        "signature cut short",
        &format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            &parts[2][..parts[2].len() - 2]
        ),
        "bad_signature",
    ));
    out.push(verify(
        "signed by the holder, not the issuer",
        &sign_text(2, &h, &c),
        "bad_signature",
    ));

    // A bearer token lives an hour at most, whoever signed it.
    for (what, life, expect) in [
        ("a bearer token living an hour", 3600, "ok"),
        (
            "a bearer token living an hour and a second",
            3601,
            "bad_claims",
        ),
    ] {
        out.push(verify(
            what,
            &with_claims(&|c| {
                c.remove("cnf");
                c.insert("exp".into(), json!(NOW + life));
            }),
            expect,
        ));
    }

    // Forged chains: what a hostile holder can sign without `delegate`.
    let forge = |parent: &str,
                 signer: u8,
                 holder: u8,
                 edit: &dyn Fn(&mut serde_json::Map<String, Value>)|
     -> String {
        let leaf = parent.split('~').next().unwrap();
        let parent_claims: Value = serde_json::from_slice(
            &captoken_core::b64::decode(leaf.split('.').nth(1).unwrap().as_bytes()).unwrap(),
        )
        .unwrap();
        let mut child = json!({
            "ver": 1, "iss": ISS, "sub": format!("principal-{holder}"), "aud": AUD,
            "iat": NOW + 1, "nbf": NOW + 1, "exp": parent_claims["exp"],
            "jti": b64(&[0xA0 + holder; 16]),
            "cnf": { "jwk": keygen(holder)["public_jwk"] },
            "caps": [{ "actions": ["drive"], "resources": ["robot:7"], "constraints": { "domains": ["a.example.com"], "max_purchase": 10, "rooms": ["lab"] } }],
            "prf": b64(&Sha256::digest(leaf.as_bytes())),
        });
        edit(child.as_object_mut().unwrap());
        let header = json!({ "alg": "EdDSA", "typ": "captoken+jwt", "kid": keygen(signer)["kid"] });
        format!(
            "{}~{parent}",
            sign_text(signer, &segment(&header), &segment(&child))
        )
    };
    let child = forge(&token, 2, 4, &|_| {});
    out.push(verify("a hand-made child within its parent", &child, "ok"));
    out.push(verify(
        "a hand-made child wider than its parent",
        &forge(&token, 2, 4, &|c| {
            c.insert(
                "caps".into(),
                json!([{ "actions": ["*"], "resources": ["robot:*"] }]),
            );
        }),
        "delegation_escalation",
    ));
    out.push(verify(
        "a hand-made child without its parent's constraint",
        &forge(&token, 2, 4, &|c| { c.insert("caps".into(), json!([{ "actions": ["drive"], "resources": ["robot:7"], "constraints": { "domains": ["a.example.com"], "rooms": ["lab"] } }])); }),
        "delegation_escalation",
    ));
    out.push(verify(
        "a hand-made child outliving its parent",
        &forge(&token, 2, 4, &|c| {
            c.insert("exp".into(), json!(NOW + 301));
        }),
        "delegation_escalation",
    ));
    out.push(verify(
        "a hand-made bearer child (no cnf) of a holder-bound parent",
        &forge(&token, 2, 4, &|c| {
            c.remove("cnf");
        }),
        "bearer_token",
    ));
    out.push(verify(
        "a child signed by someone other than the parent's holder",
        &forge(&token, 6, 4, &|_| {}),
        "delegation_broken_link",
    ));
    {
        // The same child re-attached to a different root of the same holder.
        let other_root = ok(
            "issue",
            &json!({ "key": keygen(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": 300, "entropy": b64(&[5; 16]), "claims": super::build::claims(2, drive7()) }),
        )["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let leaf = child.split('~').next().unwrap();
        out.push(verify(
            "a child re-attached to another parent",
            &format!("{leaf}~{other_root}"),
            "delegation_parent_mismatch",
        ));
    }
    out.push(verify(
        "a child repeating its parent's jti",
        &forge(&token, 2, 4, &|c| {
            c.insert("jti".into(), claims["jti"].clone());
        }),
        "delegation_cycle",
    ));
    {
        let two = forge(&child, 4, 5, &|c| {
            c.insert("jti".into(), json!(b64(&[0xB5; 16])));
        });
        let three = forge(&two, 5, 6, &|c| {
            c.insert("jti".into(), json!(b64(&[0xB6; 16])));
        });
        let four = forge(&three, 6, 7, &|c| {
            c.insert("jti".into(), json!(b64(&[0xB7; 16])));
        });
        out.push(verify("a chain three delegations deep", &three, "ok"));
        out.push(verify(
            "a chain four delegations deep",
            &four,
            "delegation_too_deep",
        ));
    }

    // The request text itself.
    let seed = b64(&[9; 32]);
    out.push(text_case(
        "a duplicate member in the request",
        "keygen",
        format!(r#"{{"seed":"{seed}","seed":"{}"}}"#, b64(&[8; 32])),
        "duplicate_key",
    ));
    out.push(text_case(
        "a request that is not an object",
        "keygen",
        format!(r#"["{seed}"]"#),
        "bad_json",
    ));
    out.push(text_case(
        "a request with trailing text",
        "keygen",
        format!(r#"{{"seed":"{seed}"}} {{}}"#),
        "bad_json",
    ));
    out.push(text_case(
        "a request that is not JSON",
        "info",
        "info please".to_owned(),
        "bad_json",
    ));
    out.push(text_case(
        "an empty request",
        "info",
        String::new(),
        "bad_json",
    ));
    out.push(json_case(
        "an unknown member in the request",
        "keygen",
        json!({ "seed": seed, "sed": seed }),
        "bad_request",
    ));
    {
        let request = trust(&token).to_string();
        let now = format!("\"now\":{}", NOW + 1);
        out.push(text_case(
            "now in exponent form",
            "verify",
            request.replace(&now, "\"now\":1.700000001e9"),
            "bad_request",
        ));
        out.push(text_case(
            "now with a fraction",
            "verify",
            request.replace(&now, "\"now\":1700000001.0"),
            "bad_request",
        ));
        out.push(text_case(
            "now past 2^53",
            "verify",
            request.replace(&now, "\"now\":9007199254740993"),
            "bad_request",
        ));
        out.push(text_case(
            "a lone surrogate in the request",
            "verify",
            request.replace(&format!("\"issuer\":\"{ISS}\""), "\"issuer\":\"\\ud800\""),
            "bad_json",
        ));
    }
    {
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let request = with(
            trust(&token),
            "request",
            json!({ "action": "drive", "resource": "robot:7", "context": { "room": "DEEP" } }),
        )
        .to_string();
        out.push(text_case(
            "a context nested 100 deep",
            "authorize",
            request.replace("\"DEEP\"", &deep),
            "json_too_deep",
        ));
    }
    out
}
