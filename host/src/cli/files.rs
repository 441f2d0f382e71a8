//! Reading the JSON files the CLI is given, and writing private keys safely.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use serde_json::Value;

use super::fail::CliError;

/// The JSON in the file at `path`.
pub(crate) fn read_json(path: &Path) -> Result<Value, CliError> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        CliError::usage(
            "io_error",
            format!("cannot read `{}`: {err}", path.display()),
        )
    })?;
    serde_json::from_str(&text).map_err(|err| {
        CliError::usage(
            "bad_json",
            format!("`{}` is not valid json: {err}", path.display()),
        )
    })
}

/// JSON given inline (anything starting with `{`), or else read from a file.
pub(crate) fn inline_or_file(arg: &str) -> Result<Value, CliError> {
    if arg.trim_start().starts_with('{') {
        serde_json::from_str(arg)
            .map_err(|err| CliError::usage("bad_json", format!("inline json is invalid: {err}")))
    } else {
        read_json(Path::new(arg))
    }
}

/// The argument, or all of stdin for `-`, without surrounding whitespace.
pub(crate) fn arg_or_stdin(arg: &str) -> Result<String, CliError> {
    if arg != "-" {
        return Ok(arg.trim().to_owned());
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|err| CliError::usage("io_error", format!("cannot read stdin: {err}")))?;
    Ok(text.trim().to_owned())
}

/// Writes a secret to `path`, readable by its owner only.
///
/// The secret goes to a new file beside `path` (created exclusively, so
/// never through a link, and 0600 from the start, so never on disk with
/// wider permissions even for a moment), which then replaces `path` by a
/// rename: with `force`, a symlink at `path` is replaced itself, never
/// followed to overwrite whatever it points at. Without `force`, an
/// existing `path` (a symlink included) is refused.
pub(crate) fn write_secret(path: &Path, contents: &str, force: bool) -> Result<(), CliError> {
    let io_error = |path: &Path, err: std::io::Error| {
        CliError::usage(
            "io_error",
            format!("cannot write `{}`: {err}", path.display()),
        )
    };
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(CliError::usage(
            "file_exists",
            format!(
                "`{}` exists; pass `--force` to overwrite it",
                path.display()
            ),
        ));
    }
    let nonce =
        captoken_host::entropy::<8>().map_err(|err| io_error(path, std::io::Error::other(err)))?;
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".{:016x}.tmp", u64::from_le_bytes(nonce)));
    let temp = path.with_file_name(name);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temp).and_then(|mut file: File| {
        file.write_all(contents.as_bytes())?;
        file.sync_all()
    });
    if let Err(err) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io_error(&temp, err));
    }
    // Without `force`, a file created since the check above still wins.
    let placed = if force {
        std::fs::rename(&temp, path)
    } else {
        std::fs::hard_link(&temp, path).and_then(|()| std::fs::remove_file(&temp))
    };
    if let Err(err) = placed {
        let _ = std::fs::remove_file(&temp);
        return Err(if err.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::usage(
                "file_exists",
                format!(
                    "`{}` exists; pass `--force` to overwrite it",
                    path.display()
                ),
            )
        } else {
            io_error(path, err)
        });
    }
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|err| io_error(dir, err))?;
    }
    Ok(())
}
