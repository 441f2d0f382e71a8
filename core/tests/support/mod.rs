//! Locating the external test-vector data (`/work/shared/vectors`).
//!
//! The data is read in place at test time and never copied into the repo.
//! When it is absent a test must not pass silently: it prints a line starting
//! with `SKIPPED:` (CI greps for it and fails) and returns.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Overrides where the vectors live.
pub const ENV_VAR: &str = "CAPTOKEN_VECTORS";

/// Where the vectors should be: `$CAPTOKEN_VECTORS`, else the shared folder
/// beside the workspace.
pub fn vectors_root() -> PathBuf {
    match std::env::var_os(ENV_VAR) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"),
    }
}

/// The vectors directory, or `None` after a loud `SKIPPED:` line naming `test`.
pub fn vectors_dir(test: &str) -> Option<PathBuf> {
    let dir = vectors_root();
    if dir.is_dir() {
        Some(dir)
    } else {
        // Straight to the stderr handle: libtest captures `eprintln!` of a
        // passing test, and CI must see this line without `--nocapture`.
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIPPED: captoken vectors not found at {}; test {test} did not run (set {ENV_VAR})",
            dir.display()
        );
        None
    }
}

/// Read `rel` under `dir` as JSON. A missing or unreadable file inside a
/// present vectors directory is a failure, not a skip.
pub fn read_json(dir: &Path, rel: &str) -> Value {
    let path = dir.join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}
