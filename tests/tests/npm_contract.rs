//! The npm package's operation maps (the generated region of
//! `npm/browser.js`) and its option and error-code types (`npm/ops.d.ts`)
//! are rendered from core's one description of the operations
//! (`captoken_core::ops::contract`) and of the codes
//! (`captoken_core::codes::ErrorCode`). This test renders them and fails
//! when the committed files differ, so the JS wrappers and the declarations
//! cannot drift from what the module reads. To rewrite them:
//! `CAPTOKEN_BLESS=1 cargo test -p captoken-tests --test npm_contract`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::PathBuf;

use captoken_core::codes::ErrorCode;
use captoken_core::ops::contract::{self, CONTRACTS, Member, Members, Presence, Shape};

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
    ("pop_create", "createProof"),
    ("pop_verify", "verifyProof"),
    ("audit_append", "appendAudit"),
    ("refresh", "refresh"),
    ("attach_signature", "attachSignature"),
];

const BEGIN: &str = "// #region generated operations\n";
const END: &str = "// #endregion generated operations\n";
const HEADER: &str = "Generated from captoken_core::ops::contract by tests/tests/npm_contract.rs\n\
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
    out.push_str(";\nconst CONTRACT = {\n");
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

fn ts_type(shape: Shape, indent: &str) -> String {
    match shape {
        Shape::String | Shape::Bytes => "string".into(),
        Shape::Integer | Shape::Uint | Shape::Now => "number".into(),
        Shape::Boolean => "boolean".into(),
        Shape::Strings => "string[]".into(),
        Shape::Entropy => "never".into(),
        Shape::Named(name) => name.into(),
        Shape::List(inner) => format!("Array<{}>", ts_type(*inner, indent)),
        Shape::Nullable(inner) => format!("{} | null", ts_type(*inner, indent)),
        Shape::Object(inner) => {
            let mut out = String::from("{\n");
            ts_members(&mut out, inner.iter().copied(), &format!("{indent}  "));
            write!(out, "{indent}}}").unwrap();
            out
        }
    }
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
            ts_type(m.shape, indent)
        )
        .unwrap();
    }
}

fn render_ts() -> String {
    let mut out = String::new();
    for line in HEADER.lines() {
        writeln!(out, "// {line}").unwrap();
    }
    out.push_str(
        "import type {\n  AuditEvent, AuditRecord, Capability, Context, Jwk, Jwks, Policy, PolicyRequest,\n  \
         RevocationListContent, TokenRequest,\n} from './index.js';\n\n",
    );
    out.push_str("/** Every code the module reports (`captoken_core::codes::ErrorCode`). */\n");
    out.push_str("export type ModuleErrorCode =\n");
    for code in ErrorCode::ALL {
        writeln!(out, "  | '{}'", code.as_str()).unwrap();
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
        let esm = std::fs::read_to_string(npm().join(format!("{name}.d.ts"))).unwrap();
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
