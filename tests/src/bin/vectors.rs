//! Write the conformance vectors to `tests/vectors/` (see its README).
//!
//! `captoken-vectors [DIR]`: the files go to DIR instead when given. Files
//! of the directory that no case produces any more are removed, so the set
//! on disk is exactly the generated one.

use std::path::PathBuf;
use std::process::ExitCode;

use captoken_tests::vectors;

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(vectors::dir, PathBuf::from);
    let cases = vectors::cases();
    let count = cases.len();
    let files = vectors::render(cases);
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let stale = path.extension().is_some_and(|e| e == "json")
                && path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_none_or(|n| !files.contains_key(n));
            if stale {
                std::fs::remove_file(&path)?;
            }
        }
        for (name, text) in &files {
            std::fs::write(dir.join(name), text)?;
        }
        Ok(())
    };
    match write() {
        Ok(()) => {
            println!(
                "{count} vectors in {} files in {}",
                files.len(),
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("captoken-vectors: {}: {err}", dir.display());
            ExitCode::FAILURE
        }
    }
}
