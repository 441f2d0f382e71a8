//! The conformance vectors: every operation's cases, built from fixed keys
//! and entropy, answered by the core natively, and written to
//! `tests/vectors/<group>.json` (format: `tests/vectors/README.md`).
//!
//! The generator ([`render`]) and the runners ([`read_dir`]) share this
//! module so the format is written down once.

mod build;
mod cases;
mod hostile;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// The format's name and version, in every file.
pub const FORMAT: &str = "captoken-vectors";
/// Bumped when a file's shape changes (not when an answer does).
pub const VERSION: u64 = 1;

/// What a case sends.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// A JSON value: any serialization of it is the same request.
    Json(Value),
    /// Exact text, for cases whose point is the text itself.
    Text(String),
}

impl Request {
    /// The bytes a runner sends.
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Request::Json(value) => value.to_string(),
            Request::Text(text) => text.clone(),
        }
    }
}

/// A case as its author writes it: the outcome it expects, not the answer.
pub struct Case {
    /// What it exercises, in a few words; its id is made from it.
    pub what: String,
    /// The operation's name.
    pub op: String,
    /// What it sends.
    pub request: Request,
    /// `"ok"` or the error code the author expects.
    pub expect: String,
}

/// A vector as a file holds it: a case with the module's exact answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Vector {
    /// Unique across files: `<group>/<slug of what>`.
    pub id: String,
    /// What it exercises.
    pub what: String,
    /// The operation's name.
    pub op: String,
    /// What it sends.
    pub request: Request,
    /// `Ok(response text)` or `Err(error object)`.
    pub expect: Result<String, Value>,
}

/// The file a case of `op` belongs in.
fn group_of(op: &str) -> &str {
    if captoken_core::OPERATIONS.iter().any(|o| o.name == op) {
        op
    } else {
        "dispatch"
    }
}

fn slug(what: &str) -> String {
    let mut out = String::new();
    for c in what.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// Every case, in file order.
#[must_use]
pub fn cases() -> Vec<Case> {
    let mut all = cases::cases();
    all.extend(hostile::cases());
    all
}

/// Answer every case natively, check each outcome against its author's
/// expectation, and give the files' contents by file name.
///
/// # Panics
///
/// When a case's outcome is not the one written down, or two cases would
/// have one id: the generator refuses to write vectors nobody meant.
#[must_use]
pub fn render(cases: Vec<Case>) -> BTreeMap<String, String> {
    let mut groups: BTreeMap<String, Vec<Vector>> = BTreeMap::new();
    let mut ids = std::collections::BTreeSet::new();
    let mut wrong = Vec::new();
    for case in cases {
        let group = group_of(&case.op).to_owned();
        let id = format!("{group}/{}", slug(&case.what));
        assert!(ids.insert(id.clone()), "two cases have the id {id}");
        let expect =
            match captoken_core::ops::call_named(&case.op, case.request.text().as_bytes()) {
                Ok(bytes) => Ok(String::from_utf8(bytes).expect("responses are UTF-8")),
                Err(err) => Err(serde_json::from_slice::<Value>(&err.to_json())
                    .expect("error objects are JSON")),
            };
        let outcome = match &expect {
            Ok(_) => "ok",
            Err(error) => error["code"].as_str().unwrap_or("?"),
        };
        if outcome != case.expect {
            wrong.push(format!(
                "{id}: expected {}, the module answered {}",
                case.expect,
                match &expect {
                    Ok(text) => text.clone(),
                    Err(error) => error.to_string(),
                }
            ));
        }
        groups.entry(group).or_default().push(Vector {
            id,
            what: case.what,
            op: case.op,
            request: case.request,
            expect,
        });
    }
    assert!(
        wrong.is_empty(),
        "cases whose outcome is not the one written down:\n{}",
        wrong.join("\n")
    );
    groups
        .into_iter()
        .map(|(group, vectors)| (format!("{group}.json"), file_text(&group, &vectors)))
        .collect()
}

/// One file's text: members in reading order (id first), each vector's
/// values pretty-printed, a newline at the end.
fn file_text(group: &str, vectors: &[Vector]) -> String {
    let mut out = String::new();
    out.push_str("{\n");
    out.push_str(&format!("  \"format\": {},\n", json!(FORMAT)));
    out.push_str(&format!("  \"version\": {VERSION},\n"));
    out.push_str(&format!("  \"operation\": {},\n", json!(group)));
    out.push_str("  \"vectors\": [");
    for (i, v) in vectors.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        let (request_key, request) = match &v.request {
            Request::Json(value) => ("request", value.clone()),
            Request::Text(text) => ("request_text", json!(text)),
        };
        let expect = match &v.expect {
            Ok(response) => json!({ "ok": true, "response": response }),
            Err(error) => json!({ "ok": false, "error": error }),
        };
        let members = [
            ("id", json!(v.id)),
            ("what", json!(v.what)),
            ("op", json!(v.op)),
            (request_key, request),
            ("expect", expect),
        ];
        out.push_str("    {\n");
        for (j, (key, value)) in members.iter().enumerate() {
            let pretty = serde_json::to_string_pretty(value).expect("a value prints");
            let indented = pretty.replace('\n', "\n      ");
            out.push_str(&format!("      {}: {indented}", json!(key)));
            out.push_str(if j + 1 < members.len() { ",\n" } else { "\n" });
        }
        out.push_str("    }");
    }
    out.push_str("\n  ]\n}\n");
    out
}

/// Where the committed vectors live.
#[must_use]
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// Read every `*.json` file of `dir`, by file name, checking the format.
///
/// # Errors
///
/// A file that cannot be read or is not a vector file of this version.
pub fn read_dir(dir: &Path) -> Result<BTreeMap<String, Vec<Vector>>, String> {
    let mut files = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("a file name that is not UTF-8")?
            .to_owned();
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
        if doc["format"] != FORMAT || doc["version"] != VERSION {
            return Err(format!("{name}: not {FORMAT} version {VERSION}"));
        }
        let vectors = doc["vectors"]
            .as_array()
            .ok_or(format!("{name}: no vectors"))?
            .iter()
            .map(|v| parse_vector(v).map_err(|e| format!("{name}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        files.insert(name, vectors);
    }
    Ok(files)
}

fn parse_vector(v: &Value) -> Result<Vector, String> {
    let text = |key: &str| {
        v[key]
            .as_str()
            .map(str::to_owned)
            .ok_or(format!("a vector without `{key}`: {v}"))
    };
    let id = text("id")?;
    let request = match (v.get("request"), v.get("request_text")) {
        (Some(value), None) => Request::Json(value.clone()),
        (None, Some(Value::String(text))) => Request::Text(text.clone()),
        _ => return Err(format!("{id}: exactly one of `request`, `request_text`")),
    };
    let expect = match (
        &v["expect"]["ok"],
        &v["expect"]["response"],
        &v["expect"]["error"],
    ) {
        (Value::Bool(true), Value::String(response), Value::Null) => Ok(response.clone()),
        (Value::Bool(false), Value::Null, error @ Value::Object(_)) => Err(error.clone()),
        _ => return Err(format!("{id}: `expect` is neither an answer nor an error")),
    };
    Ok(Vector {
        id,
        what: text("what")?,
        op: text("op")?,
        request,
        expect,
    })
}
