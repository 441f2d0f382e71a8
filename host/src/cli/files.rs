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
/// The mode is set when the file is created, so the secret is never on disk
/// with wider permissions, even for a moment.
pub(crate) fn write_secret(path: &Path, contents: &str, force: bool) -> Result<(), CliError> {
    let io_error = |err: std::io::Error| {
        CliError::usage(
            "io_error",
            format!("cannot write `{}`: {err}", path.display()),
        )
    };
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file: File = options.open(path).map_err(|err| {
        if err.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::usage(
                "file_exists",
                format!(
                    "`{}` exists; pass `--force` to overwrite it",
                    path.display()
                ),
            )
        } else {
            io_error(err)
        }
    })?;
    // An overwritten file keeps its old mode: narrow it before writing.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io_error)?;
    }
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_error)
}
