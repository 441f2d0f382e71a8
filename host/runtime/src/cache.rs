//! The precompiled-module cache: wasmtime's compiled form of the module,
//! kept on disk so a process after the first skips compilation (tens of
//! milliseconds in release, most of a second in a debug build) and
//! deserializes instead (a fraction of a millisecond).
//!
//! A cache file is named by the module's SHA-256 and by the engine's
//! compatibility hash (wasmtime version and every setting that changes the
//! compiled code), so another module or another build never picks it up; a
//! stale file is simply never read again. Its contents are the SHA-256 of
//! the compiled bytes, in hex, followed by those bytes.
//!
//! Loading compiled code is trusting it: wasmtime cannot check machine code
//! it did not just produce. So a file is used only when it and its
//! directory are owned by the user running the process and writable by
//! nobody else, with no symlink on the way in and a parent that others
//! cannot swap the directory out of (the trust the signing key beside it
//! already needs), and only when its bytes still hash to the digest stored
//! with them (a torn write, a bad disk). Anything else is a miss: the module is compiled from the checked
//! `.wasm` bytes as if there were no cache, and the file is rewritten. The
//! cache never makes start-up fail.

use std::fs::{DirBuilder, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use wasmtime::{Engine, Module};

use crate::digest::sha256_hex;

/// How the module was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleSource {
    /// Compiled; no cache was configured.
    Compiled,
    /// Loaded from the cache file.
    CacheHit(PathBuf),
    /// Compiled, and written to the cache file for next time.
    CacheWritten(PathBuf),
    /// Compiled; the cache could not be used, for the reason given (a
    /// directory others can write, a corrupt file, an I/O error).
    CacheSkipped(String),
}

impl std::fmt::Display for ModuleSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Compiled => f.write_str("compiled (no cache)"),
            Self::CacheHit(path) => write!(f, "precompiled, from `{}`", path.display()),
            Self::CacheWritten(path) => write!(f, "compiled, cached in `{}`", path.display()),
            Self::CacheSkipped(why) => write!(f, "compiled; cache not used: {why}"),
        }
    }
}

/// The module `wasm` (whose SHA-256 is `sha256`) for `engine`, from `dir`
/// when a sound cache file is there, else compiled (and cached).
///
/// # Errors
///
/// Only compilation's: the cache itself never fails the load.
pub(crate) fn load_or_compile(
    engine: &Engine,
    wasm: &[u8],
    sha256: &str,
    dir: &Path,
) -> Result<(Module, ModuleSource), wasmtime::Error> {
    let path = dir.join(file_name(engine, sha256));
    let why_not = match read_sound(dir, &path) {
        Ok(Some(compiled)) => match deserialize(engine, &compiled) {
            Ok(module) => return Ok((module, ModuleSource::CacheHit(path))),
            Err(err) => format!("`{}` was refused by wasmtime: {err}", path.display()),
        },
        Ok(None) => String::new(),
        Err(why) => why,
    };
    let module = Module::new(engine, wasm)?;
    if !why_not.is_empty() && !why_not.starts_with("corrupt") {
        // Unsafe to use, so unsafe to overwrite: leave it to its owner.
        return Ok((module, ModuleSource::CacheSkipped(why_not)));
    }
    let source = match module.serialize() {
        Ok(compiled) => match write(dir, &path, &compiled) {
            Ok(()) if why_not.is_empty() => ModuleSource::CacheWritten(path),
            Ok(()) => ModuleSource::CacheSkipped(format!("{why_not} (rewritten)")),
            Err(err) => ModuleSource::CacheSkipped(err),
        },
        Err(err) => ModuleSource::CacheSkipped(format!("cannot serialize the module: {err}")),
    };
    Ok((module, source))
}

/// `<module sha-256>-<engine compatibility hash>.cwasm`.
fn file_name(engine: &Engine, sha256: &str) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{sha256}-{:016x}.cwasm", hasher.finish())
}

/// The compiled bytes in `path` if the file exists and can be trusted:
/// the directory is a real directory (not a symlink) that this user owns
/// and only this user can write, inside a parent others cannot replace it
/// in; the file, opened without following a symlink, is a regular file
/// with the same owner and mode rule (checked on the open descriptor, so
/// nothing can be swapped in between); and it holds what its digest says.
/// `None` if there is no file; `Err` with the reason it must not be used
/// (a reason starting `corrupt` means the file may be replaced).
fn read_sound(dir: &Path, path: &Path) -> Result<Option<Vec<u8>>, String> {
    match std::fs::symlink_metadata(dir) {
        Ok(_) => trusted_dir(dir)?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("cannot stat `{}`: {err}", dir.display())),
    }
    let mut file = match open_no_follow(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("cannot open `{}`: {err}", path.display())),
    };
    let meta = file
        .metadata()
        .map_err(|err| format!("cannot stat `{}`: {err}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("`{}` is not a regular file", path.display()));
    }
    owned_by_me_only(&meta, path)?;
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut data)
        .map_err(|err| format!("cannot read `{}`: {err}", path.display()))?;
    let (digest, compiled) = data
        .split_at_checked(64)
        .ok_or_else(|| format!("corrupt: `{}` is shorter than its digest", path.display()))?;
    if sha256_hex(compiled).as_bytes() != digest {
        return Err(format!(
            "corrupt: `{}` does not hash to its digest",
            path.display()
        ));
    }
    Ok(Some(compiled.to_vec()))
}

/// `path` opened for reading; a symlink at `path` is an error (ELOOP).
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(no_follow_flag());
    }
    options.open(path)
}

#[cfg(unix)]
fn no_follow_flag() -> i32 {
    i32::try_from(rustix::fs::OFlags::NOFOLLOW.bits()).unwrap_or(0)
}

/// The cache directory must be a directory, not a symlink to one, owned by
/// this user and writable by nobody else; and its parent must not let
/// others rename it away and put their own in its place (writable by
/// others without the sticky bit, as `/tmp` has).
fn trusted_dir(dir: &Path) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|err| format!("cannot stat `{}`: {err}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!(
            "`{}` is not a directory (a symlink is not trusted)",
            dir.display()
        ));
    }
    owned_by_me_only(&meta, dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let parent = match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) => parent.to_path_buf(),
            None => Path::new(".").to_path_buf(),
        };
        let mode = std::fs::metadata(&parent)
            .map_err(|err| format!("cannot stat `{}`: {err}", parent.display()))?
            .permissions()
            .mode();
        if mode & 0o022 != 0 && mode & 0o1000 == 0 {
            return Err(format!(
                "`{}` has mode {:o}: others could replace the cache directory in it",
                parent.display(),
                mode & 0o7777
            ));
        }
    }
    Ok(())
}

/// Refuses what another user owns, or anyone but its owner may write:
/// compiled code from it would run as this user.
fn owned_by_me_only(meta: &std::fs::Metadata, path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me {
            return Err(format!(
                "`{}` is owned by uid {}, not by this user (uid {me})",
                path.display(),
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "`{}` has mode {:o}: others could write compiled code the gateway would run",
                path.display(),
                meta.mode() & 0o777
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (meta, path);
    Ok(())
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, compiled: &[u8]) -> Result<Module, wasmtime::Error> {
    // SAFETY: `Module::deserialize` requires bytes produced by
    // `Module::serialize` of a compatible engine, because it maps them as
    // machine code it cannot check. These bytes come from a file named
    // with this engine's compatibility hash (and wasmtime refuses another
    // version or configuration from its own header), which `read_sound`
    // opened without following symlinks in a real directory, and found (on
    // the open descriptor) to be owned by this user and writable by nobody
    // else, in a directory with the same rule whose parent others cannot
    // swap it out of. So only this user, or root, could have written them:
    // whoever can already replace this process's binary and its signing
    // key. The digest stored with them catches a torn write or a bad disk,
    // not an attacker; the ownership rule is what stands against one.
    unsafe { Module::deserialize(engine, compiled) }
}

/// Writes the hex digest of `compiled`, then `compiled`, to `path` all at once: a private temporary
/// file, fsynced, renamed over `path`.
fn write(dir: &Path, path: &Path, compiled: &[u8]) -> Result<(), String> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|err| format!("cannot create `{}`: {err}", dir.display()))?;
    // A directory someone else made first is not ours to fill.
    trusted_dir(dir)?;
    // Unique per writer, so processes starting together never share one.
    let temp = path.with_extension(format!(
        "{}.{:x}.tmp",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let fail = |err: std::io::Error| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot write `{}`: {err}", path.display())
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(no_follow_flag());
    }
    let mut file = options.open(&temp).map_err(fail)?;
    file.write_all(sha256_hex(compiled).as_bytes())
        .and_then(|()| file.write_all(compiled))
        .and_then(|()| file.sync_all())
        .map_err(fail)?;
    drop(file);
    std::fs::rename(&temp, path).map_err(fail)
}
