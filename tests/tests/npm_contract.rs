//! The npm package's operation maps (the generated region of
//! `npm/browser.js`) and its option, result, event and error-code types
//! (`npm/ops.d.ts`) are rendered from core's one description of the
//! operations' requests (`captoken_core::ops::contract`) and answers
//! (`captoken_core::ops::responses`), of the audit events
//! (`captoken_core::audit::EventKind`) and of the codes
//! (`captoken_core::codes::ErrorCode`). This test renders them and fails
//! when the committed files differ, so the JS wrappers and the declarations
//! cannot drift from what the module reads. To rewrite them:
//! `CAPTOKEN_BLESS=1 cargo test -p captoken-tests --test npm_contract`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::PathBuf;

use captoken_core::audit::EventKind;
use captoken_core::codes::ErrorCode;
use captoken_core::ops::contract::{self, CONTRACTS, Member, Members, Presence, Shape};
use captoken_core::ops::responses::{Answer, RESPONSES};

/// The operations the JS API takes one options object for, and the name
/// of the JS function (its options type is that name, capitalized, +
/// `Options`). The others take positional arguments.
const OPTION_OPS: &[(&str, &str)] = &[
    ("issue", "issue"),
    ("verify", "verify"),
    ("authorize", "authorize"),
    ("delegate", "delegate"),
    ("revocation_list_sign", "signRevocationList"),
    ("revocation_list_verify", "verifyRevocationList"),
    ("status_list_sign", "signStatusList"),
    ("status_list_verify", "verifyStatusList"),
    ("pop_create", "createProof"),
    ("pop_verify", "verifyProof"),
    ("audit_append", "appendAudit"),
    ("refresh", "refresh"),
    ("attach_signature", "attachSignature"),
];

const BEGIN: &str = "// #region generated operations\n";
const END: &str = "// #endregion generated operations\n";
const HEADER: &str = "Generated from captoken_core::ops::{contract, responses} by tests/tests/npm_contract.rs\n\
    (CAPTOKEN_BLESS=1 cargo test -p captoken-tests --test npm_contract): do not edit.";

fn npm() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../npm")
}

fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Whether a JS caller sets the member. The wrapper fills `Entropy`
/// members; an external signer (`signer`) is the async functions' to
/// set, from an `ExternalSigner`.
fn is_option(m: &Member) -> bool {
    !matches!(m.shape, Shape::Entropy)
        && !matches!(
            (m.presence, m.shape),
            (Presence::Either(_), Shape::Object(_))
        )
}

/// Whether a group is the members every verifying operation shares.
fn is_trust(group: &[Member]) -> bool {
    group == contract::TRUST
}

fn members(members: Members) -> impl Iterator<Item = &'static Member> {
    members.iter().flat_map(|group| group.iter())
}

// ---------------------------------------------------------------------------
// JS: the option maps

fn js_options(out: &mut String, members_: Members, indent: &str, spread_trust: bool) {
    if members(members_).all(|m| !is_option(m)) {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    if spread_trust && members_.iter().any(|g| is_trust(g)) {
        writeln!(out, "{indent}  ...TRUST_OPTIONS,").unwrap();
    }
    let own = members_
        .iter()
        .filter(|g| !(spread_trust && is_trust(g)))
        .flat_map(|g| g.iter());
    for m in own.filter(|m| is_option(m)) {
        match m.shape {
            Shape::Object(inner) => {
                write!(out, "{indent}  {}: ['{}', ", camel(m.name), m.name).unwrap();
                js_options(out, inner, &format!("{indent}  "), spread_trust);
                out.push_str("],\n");
            }
            _ => writeln!(out, "{indent}  {}: '{}',", camel(m.name), m.name).unwrap(),
        }
    }
    write!(out, "{indent}}}").unwrap();
}

fn names_of(members_: Members, shape: Shape) -> String {
    let names: Vec<String> = members(members_)
        .filter(|m| m.shape == shape)
        .map(|m| format!("'{}'", m.name))
        .collect();
    format!("[{}]", names.join(", "))
}

/// The committed module's digest, from the file written with it.
fn module_sha256() -> String {
    let file = std::fs::read_to_string(npm().join("dist/captoken_bg.wasm.sha256")).unwrap();
    let hex = file.split_whitespace().next().unwrap_or_default();
    assert!(
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "dist/captoken_bg.wasm.sha256 does not start with a SHA-256 in hex"
    );
    hex.to_string()
}

fn render_js() -> String {
    let mut out = String::from(BEGIN);
    for line in HEADER.lines() {
        writeln!(out, "// {line}").unwrap();
    }
    out.push_str(
        "// Per operation: `options`, each JS option's request member (an object\n\
         // member as `[member, its options]`); `now`, the members filled from the\n\
         // clock when left out; `entropy`, the members always filled with random\n\
         // bytes. `TRUST_OPTIONS`: the options every verifying operation shares.\n\
         const TRUST_OPTIONS = ",
    );
    js_options(&mut out, &[contract::TRUST], "", false);
    write!(
        out,
        ";\n// The SHA-256 of the module this code trusts, dist/captoken_bg.wasm\n\
         // (scripts/build-wasm.sh writes it here with the module).\n\
         const MODULE_SHA256 = '{}';\n",
        module_sha256()
    )
    .unwrap();
    out.push_str("const CONTRACT = {\n");
    for c in CONTRACTS {
        write!(out, "  {}: {{\n    options: ", c.op).unwrap();
        js_options(&mut out, c.request, "    ", true);
        writeln!(
            out,
            ",\n    now: {},\n    entropy: {},\n  }},",
            names_of(c.request, Shape::Now),
            names_of(c.request, Shape::Entropy)
        )
        .unwrap();
    }
    out.push_str("};\n");
    out.push_str(END);
    out
}

// ---------------------------------------------------------------------------
// TypeScript: the options types and the codes

/// Which way a shape travels: request members are JS options (camelCase,
/// the clock's members optional); response members reach JS as the module
/// writes them.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Request,
    Response,
}

fn ts_type(shape: Shape, indent: &str, side: Side) -> String {
    match shape {
        Shape::String | Shape::Bytes => "string".into(),
        Shape::Integer | Shape::Uint | Shape::Now => "number".into(),
        Shape::Boolean => "boolean".into(),
        Shape::True => "true".into(),
        Shape::OneOf(words) => words
            .iter()
            .map(|w| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(" | "),
        Shape::Strings => "string[]".into(),
        Shape::Names => "string | string[]".into(),
        Shape::Entropy => "never".into(),
        Shape::Named(name) => name.into(),
        Shape::List(inner) => format!("Array<{}>", ts_type(*inner, indent, side)),
        Shape::Nullable(inner) => format!("{} | null", ts_type(*inner, indent, side)),
        Shape::Object(inner) => {
            let mut out = String::from("{\n");
            let indent = format!("{indent}  ");
            match side {
                Side::Request => ts_members(&mut out, inner.iter().copied(), &indent),
                Side::Response => ts_answer_members(&mut out, inner, &indent),
            }
            write!(out, "{}}}", &indent[2..]).unwrap();
            out
        }
    }
}

/// Request members the JS API takes in more forms than the wire (a key
/// set as a PEM block, a duration as `'30s'`), converted by `CONVERT` in
/// browser.js: their TypeScript types, defined in index.d.ts.
const JS_TYPES: &[(&str, &str)] = &[
    ("jwks", "VerificationKeys"),
    ("key", "PrivateKey"),
    ("leeway", "Duration"),
    ("max_age", "Duration"),
    ("max_stale", "Duration"),
    ("ttl", "Duration"),
];

/// The TypeScript type of a JS option.
fn js_option_type(m: &Member, indent: &str) -> String {
    match JS_TYPES.iter().find(|(name, _)| *name == m.name) {
        Some((_, ts)) => (*ts).to_string(),
        None => ts_type(m.shape, indent, Side::Request),
    }
}

#[test]
fn the_js_conversions_are_the_ones_typed() {
    let text = std::fs::read_to_string(npm().join("browser.js")).unwrap();
    let start = text
        .find("const CONVERT = {\n")
        .expect("browser.js has CONVERT");
    let body = &text[start..];
    let body = &body[..body.find("};").unwrap()];
    let converted: Vec<&str> = body
        .lines()
        .skip(1)
        .filter_map(|line| line.trim().split(':').next())
        .filter(|name| !name.is_empty())
        .collect();
    let typed: Vec<&str> = JS_TYPES.iter().map(|(name, _)| *name).collect();
    assert_eq!(converted, typed, "CONVERT in browser.js and JS_TYPES here");
}

fn ts_members<'a>(out: &mut String, groups: impl Iterator<Item = &'a [Member]>, indent: &str) {
    for m in groups.flat_map(|g| g.iter()).filter(|m| is_option(m)) {
        let mut doc = m.doc.to_string();
        if let Some(default) = m.default {
            write!(doc, " Default: {default}.").unwrap();
        }
        if m.shape == Shape::Now {
            doc.push_str(" Default: the clock.");
        }
        let optional = match m.presence {
            Presence::Required | Presence::Either(_) => m.shape == Shape::Now,
            Presence::Optional | Presence::With(_) => true,
        };
        writeln!(out, "{indent}/** {doc} */").unwrap();
        writeln!(
            out,
            "{indent}{}{}: {};",
            camel(m.name),
            if optional { "?" } else { "" },
            js_option_type(m, indent)
        )
        .unwrap();
    }
}

/// The member an answer holds only when an external signer signs: the
/// JS functions never hand it out (the `...Async` forms attach the
/// signature first), so their results always hold its alternative.
const SIGNER_ONLY: &str = "signing_input";

fn ts_answer_members(out: &mut String, members_: Members, indent: &str) {
    for m in members(members_) {
        let optional = match m.presence {
            Presence::Required => false,
            Presence::Optional => true,
            Presence::Either(other) if other == SIGNER_ONLY => false,
            Presence::With(other) | Presence::Either(other) => {
                assert!(
                    other == SIGNER_ONLY || m.name == SIGNER_ONLY,
                    "answer member `{}`: only the signer's alternatives are rendered",
                    m.name
                );
                continue;
            }
        };
        if m.name == SIGNER_ONLY {
            continue;
        }
        writeln!(out, "{indent}/** {} */", m.doc).unwrap();
        writeln!(
            out,
            "{indent}{}{}: {};",
            m.name,
            if optional { "?" } else { "" },
            ts_type(m.shape, indent, Side::Response)
        )
        .unwrap();
    }
}

/// Every answer, once by name (two operations may give the same one).
fn answers() -> Vec<(&'static str, Answer)> {
    let mut seen: Vec<(&'static str, Answer)> = Vec::new();
    for (op, alternatives) in RESPONSES {
        for answer in *alternatives {
            match seen.iter().find(|(_, a)| a.name == answer.name) {
                Some((_, known)) => assert_eq!(
                    known, answer,
                    "two different answers are both named `{}`",
                    answer.name
                ),
                None => seen.push((op, *answer)),
            }
        }
    }
    seen
}

/// The named types the generated declarations use and do not define:
/// `index.d.ts` defines them.
fn imported(defined: &[&str]) -> Vec<&'static str> {
    fn add(name: &'static str, into: &mut Vec<&'static str>) {
        let name = name.trim_end_matches("[]");
        if !name.contains('<') && !into.contains(&name) {
            into.push(name);
        }
    }
    fn walk(m: &Member, side: Side, into: &mut Vec<&'static str>) {
        if side == Side::Request
            && let Some((_, ts)) = JS_TYPES.iter().find(|(name, _)| *name == m.name)
        {
            return add(ts, into);
        }
        walk_shape(m.shape, side, into);
    }
    fn walk_shape(shape: Shape, side: Side, into: &mut Vec<&'static str>) {
        match shape {
            Shape::Named(name) => add(name, into),
            Shape::List(inner) | Shape::Nullable(inner) => walk_shape(*inner, side, into),
            Shape::Object(inner) => members(inner).for_each(|m| walk(m, side, into)),
            _ => {}
        }
    }
    let mut names = Vec::new();
    for c in CONTRACTS {
        members(c.request).for_each(|m| walk(m, Side::Request, &mut names));
    }
    for answer in RESPONSES.iter().flat_map(|(_, a)| a.iter()) {
        members(answer.members).for_each(|m| walk(m, Side::Response, &mut names));
    }
    names.retain(|n| !defined.contains(n));
    names.sort_unstable();
    names
}

fn render_ts() -> String {
    let mut out = String::new();
    for line in HEADER.lines() {
        writeln!(out, "// {line}").unwrap();
    }
    let answers = answers();
    let mut defined: Vec<&str> = answers.iter().map(|(_, a)| a.name).collect();
    defined.push("AuditEvent");
    out.push_str("import type {\n");
    let mut line = String::from(" ");
    for name in imported(&defined) {
        if line.len() + name.len() + 2 > 100 {
            writeln!(out, "{line}").unwrap();
            line = String::from(" ");
        }
        write!(line, " {name},").unwrap();
    }
    writeln!(out, "{line}\n}} from './index.js';\n").unwrap();
    out.push_str("/** Every code the module reports (`captoken_core::codes::ErrorCode`). */\n");
    out.push_str("export type ModuleErrorCode =\n");
    for code in ErrorCode::ALL {
        writeln!(out, "  | '{}'", code.as_str()).unwrap();
    }
    out.push_str(";\n\n/** Every audit event (`captoken_core::audit::EventKind`). */\n");
    out.push_str("export type AuditEvent =\n");
    for kind in EventKind::ALL {
        writeln!(out, "  | '{}'", kind.name()).unwrap();
    }
    out.push_str(
        ";\n\n/** How a verifier trusts tokens: the members every verifying operation shares. */\n",
    );
    out.push_str("export interface TrustOptions {\n");
    ts_members(&mut out, [contract::TRUST].into_iter(), "  ");
    out.push_str("}\n");
    for (op, js) in OPTION_OPS {
        let c = CONTRACTS.iter().find(|c| c.op == *op).unwrap();
        let trusts = c.request.iter().any(|g| is_trust(g));
        write!(
            out,
            "\n/** The options of `{js}` (operation `{op}`). */\nexport interface {}Options{} {{\n",
            capitalized(js),
            if trusts { " extends TrustOptions" } else { "" }
        )
        .unwrap();
        ts_members(
            &mut out,
            c.request.iter().copied().filter(|g| !is_trust(g)),
            "  ",
        );
        out.push_str("}\n");
    }
    for (op, answer) in answers {
        write!(
            out,
            "\n/** {} (An answer of `{op}`.) */\nexport interface {} {{\n",
            answer.doc, answer.name
        )
        .unwrap();
        ts_answer_members(&mut out, answer.members, "  ");
        out.push_str("}\n");
    }
    out
}

// ---------------------------------------------------------------------------

/// Fails unless `path` holds `rendered`; with `CAPTOKEN_BLESS` set, writes it.
fn settle(path: &PathBuf, current: &str, rendered: &str) {
    if current == rendered {
        return;
    }
    if std::env::var_os("CAPTOKEN_BLESS").is_some() {
        std::fs::write(path, rendered).unwrap();
        return;
    }
    panic!(
        "{} is not what core's contract renders; rerun with CAPTOKEN_BLESS=1 to rewrite it",
        path.display()
    );
}

#[test]
fn the_npm_option_maps_are_the_contract() {
    let path = npm().join("browser.js");
    let text = std::fs::read_to_string(&path).unwrap();
    let begin = text
        .find(BEGIN)
        .expect("browser.js has its generated region");
    let end = text
        .find(END)
        .expect("browser.js ends its generated region")
        + END.len();
    let rendered = format!("{}{}{}", &text[..begin], render_js(), &text[end..]);
    settle(&path, &text, &rendered);
}

#[test]
fn the_npm_option_and_code_types_are_the_contract() {
    let path = npm().join("ops.d.ts");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    settle(&path, &current, &render_ts());
}

const SHARED_BEGIN: &str = "// #region shared\n";
const SHARED_END: &str = "// #endregion shared\n";

/// The wrapper code every entry shares, as the CommonJS entry requires it:
/// the shared region of browser.js (valid both as module code and as a
/// strict-mode script), exporting what index.cjs needs. A plain file, so a
/// bundler follows `require('./shared.cjs')` like any other.
fn render_shared_cjs(browser_js: &str) -> String {
    let begin = browser_js
        .find(SHARED_BEGIN)
        .expect("browser.js has its shared region");
    let end = browser_js
        .find(SHARED_END)
        .expect("browser.js ends its shared region");
    format!(
        "// Generated from the shared region of browser.js by tests/tests/npm_contract.rs\n\
         // (CAPTOKEN_BLESS=1 cargo test -p captoken-tests --test npm_contract): do not edit.\n\
         'use strict';\n\n{}\nmodule.exports = {{ CaptokenError, createCaptoken, MODULE_SHA256 }};\n",
        &browser_js[begin..end]
    )
}

#[test]
fn the_commonjs_wrappers_are_the_shared_region() {
    let browser = std::fs::read_to_string(npm().join("browser.js")).unwrap();
    // browser.js as its generated region renders it, so one blessing run
    // settles both.
    let begin = browser.find(BEGIN).unwrap();
    let end = browser.find(END).unwrap() + END.len();
    let browser = format!("{}{}{}", &browser[..begin], render_js(), &browser[end..]);
    let path = npm().join("shared.cjs");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    settle(&path, &current, &render_shared_cjs(&browser));
}

/// The CommonJS form of an ESM declaration file: the same declarations,
/// importing their siblings' `.cts` forms, so a `require` consumer never
/// gets ESM types for a CommonJS entry.
fn commonjs(esm: &str, sibling: &str) -> String {
    let header = "// Generated from the file of the same name ending in .d.ts by\n\
                  // tests/tests/npm_contract.rs (CAPTOKEN_BLESS=1): do not edit.\n";
    let body = esm.replace(
        &format!("from './{sibling}.js';"),
        &format!("from './{sibling}.cjs';"),
    );
    format!("{header}{body}")
}

#[test]
fn the_commonjs_declarations_are_the_esm_ones() {
    for (name, sibling) in [("index", "ops"), ("ops", "index")] {
        // ops.d.ts as rendered, not as read, so one blessing run settles both.
        let esm = match name {
            "ops" => render_ts(),
            _ => std::fs::read_to_string(npm().join(format!("{name}.d.ts"))).unwrap(),
        };
        let path = npm().join(format!("{name}.d.cts"));
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        let rendered = commonjs(&esm, sibling);
        assert!(
            rendered.contains(&format!("'./{sibling}.cjs'")),
            "{name}.d.ts no longer imports ./{sibling}.js"
        );
        settle(&path, &current, &rendered);
    }
}
