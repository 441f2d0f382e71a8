//! What `captoken serve` needs on disk before it can answer: a signing key,
//! a policy and a database. A bare `captoken serve` on a fresh machine makes
//! a development key and a sample policy; it never overwrites either.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};

use super::GatewayError;
use super::module::OpIds;
use super::signer::{KeyFileSigner, TokenSigner, call_signed, new_private_jwk};
use captoken_core::b64;

use crate::{Runtime, entropy};

/// The file name of the signing key inside the key directory.
pub const SIGNING_KEY_FILE: &str = "signing.jwk";

/// The file name, inside the key directory, of the public keys that signed
/// before a rotation: a JWKS whose keys carry the `exp` of their window.
pub const RETIRED_KEYS_FILE: &str = "retired.jwks";

/// The policy written when none exists: the examples of docs/POLICY.md and
/// docs/GATEWAY.md, for development only.
const SAMPLE_POLICY: &str = r#"{
  "version": 1,
  "max_ttl": 3600,
  "rules": [
    { "id": "operators-drive", "effect": "allow",
      "subjects": { "patterns": ["operator-*"] },
      "capabilities": [ { "actions": ["drive", "stop"], "resources": ["robot:*"] } ],
      "max_ttl": 900 },
    { "id": "agents-browse", "effect": "allow",
      "subjects": { "patterns": ["agent-*"] },
      "capabilities": [ { "actions": ["CAP_READ", "CAP_INTERACT", "CAP_NAVIGATE"], "resources": ["web:*"] } ],
      "required_constraints": { "max_purchase": 0, "pii_access": false },
      "max_ttl": 300, "bearer": { "max_ttl": 300 } },
    { "id": "paired-keys-input", "effect": "allow",
      "subjects": { "patterns": ["key:*"] },
      "capabilities": [ { "actions": ["INPUT", "USER"], "resources": ["*"] } ] },
    { "id": "everyone-reads", "effect": "allow",
      "subjects": { "patterns": ["*"] },
      "capabilities": [ { "actions": ["READ"], "resources": ["*"] } ] },
    { "id": "agents-never-pii", "effect": "deny",
      "subjects": { "patterns": ["agent-*"] },
      "capabilities": [ { "actions": ["*"], "resources": ["pii:*"] } ] }
  ]
}
"#;

/// Whether a missing key or policy file is made (at start-up) or an
/// error (on reload: a file that vanished must not be replaced by a fresh
/// key or the permissive sample policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Create {
    IfMissing,
    Never,
}

fn missing(path: &Path) -> GatewayError {
    GatewayError::Io(format!(
        "`{}` is missing (a reload never creates it)",
        path.display()
    ))
}

/// The issuer's signing key, loaded.
#[derive(Clone)]
pub(crate) struct SigningKey {
    /// Signs in the host: the private key never enters the module.
    pub(crate) signer: Arc<dyn TokenSigner>,
    pub(crate) public_jwk: Value,
    pub(crate) kid: String,
    /// The retired keys of the key directory when it was read (at start-up
    /// or the last reload), each with its `exp`.
    pub(crate) retired: Vec<Value>,
}

impl SigningKey {
    /// What tokens verify against: the current key first, then every
    /// retired key. Whether a retired key's window is still open (with the
    /// verifier's leeway) is the module's decision, made by the one rule
    /// the module applies everywhere, never a second copy here.
    pub(crate) fn trusted(&self) -> Value {
        let mut keys = vec![self.public_jwk.clone()];
        keys.extend(self.retired.iter().cloned());
        json!({ "keys": keys })
    }

    /// What `/.well-known/jwks.json` publishes at `now`: the current key,
    /// and the retired keys until their `exp`. Publication is the gateway's
    /// own choice (a key past its `exp` is no longer advertised); trust is
    /// [`SigningKey::trusted`]'s.
    pub(crate) fn published(&self, now: i64) -> Value {
        let mut keys = vec![self.public_jwk.clone()];
        keys.extend(
            self.retired
                .iter()
                .filter(|jwk| {
                    jwk.get("exp")
                        .and_then(Value::as_i64)
                        .is_some_and(|exp| exp > now)
                })
                .cloned(),
        );
        json!({ "keys": keys })
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Where the key file is, and whether this start created it.
#[derive(Debug, Clone)]
pub struct KeyFile {
    /// Retired keys still trusted for verification, by `kid`.
    pub retired: Vec<String>,
    /// The private JWK's path.
    pub path: PathBuf,
    /// Whether it was generated just now.
    pub created: bool,
    /// The key's id (RFC 7638 thumbprint).
    pub kid: String,
}

/// Loads `<key_dir>/signing.jwk`, generating it (mode 0600, in a 0700
/// directory) if it does not exist.
pub(crate) fn signing_key(
    runtime: &Runtime,
    key_dir: &Path,
    create: Create,
) -> Result<(SigningKey, KeyFile), GatewayError> {
    let path = key_dir.join(SIGNING_KEY_FILE);
    let created = if path.exists() {
        false
    } else if create == Create::Never {
        return Err(missing(&path));
    } else {
        private_dir(key_dir)?;
        let jwk = new_private_jwk(&entropy::<32>()?);
        write_secret(&path, &format!("{jwk:#}\n"))?;
        true
    };
    check_private_mode(&path)?;
    let text = std::fs::read_to_string(&path).map_err(|err| io(&path, &err))?;
    let private_jwk: Value = serde_json::from_str(&text)
        .map_err(|err| GatewayError::Key(format!("`{}` is not json: {err}", path.display())))?;
    let Value::Object(members) = private_jwk else {
        return Err(GatewayError::Key(format!(
            "`{}` is not a json object",
            path.display()
        )));
    };
    if !members.contains_key("d") {
        return Err(GatewayError::Key(format!(
            "`{}` holds no private key (`d`)",
            path.display()
        )));
    }
    let signer = KeyFileSigner::from_private_jwk(&members)
        .map_err(|why| GatewayError::Key(format!("`{}`: {why}", path.display())))?;
    // The file's text and JSON are dropped here; from now on the secret
    // lives only inside the signer.
    drop(members);
    drop(text);
    let signer: Arc<dyn TokenSigner> = Arc::new(signer);
    let public_jwk = signer.public_jwk().clone();
    let retired = retired_keys(key_dir, &public_jwk)?;
    let retired_kids = retired
        .iter()
        .filter_map(|jwk| jwk.get("kid").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let mut keys = vec![public_jwk.clone()];
    keys.extend(retired.iter().cloned());
    let kid = self_test(runtime, &signer, &json!({ "keys": keys }))?;
    // Published with its `kid` (the module's thumbprint of it), whether or
    // not the file names one.
    let mut public_jwk = public_jwk;
    if let Value::Object(members) = &mut public_jwk {
        members.insert("kid".to_owned(), Value::String(kid.clone()));
    }
    Ok((
        SigningKey {
            signer,
            public_jwk,
            kid: kid.clone(),
            retired,
        },
        KeyFile {
            path,
            created,
            kid,
            retired: retired_kids,
        },
    ))
}

/// Signs (the way every issue will: through the signer) and verifies one
/// throwaway token, so that an unusable key file stops the server at
/// start-up, not at its first request.
fn self_test(
    runtime: &Runtime,
    signer: &Arc<dyn TokenSigner>,
    jwks: &Value,
) -> Result<String, GatewayError> {
    let now = crate::now();
    let public_jwk = signer.public_jwk();
    let request = json!({
        "issuer": "urn:captoken:self-test",
        "now": now,
        "ttl": 60,
        "entropy": b64::encode(&entropy::<32>()?),
        "claims": {
            "sub": "self-test",
            "aud": "self-test",
            "cnf": { "jwk": public_jwk },
            "caps": [{ "actions": ["none"], "resources": ["none"] }],
        },
    });
    let issued = call_signed(
        runtime,
        runtime.op_id("issue")?,
        runtime.op_id("attach_signature")?,
        signer,
        public_jwk,
        request,
        "token",
    )?;
    runtime.verify(&json!({
        "token": issued.get("token").cloned().unwrap_or(Value::Null),
        // The whole set: the module refuses a malformed or duplicate
        // retired key here, at start-up, not at a client's verify.
        "jwks": jwks,
        "issuer": "urn:captoken:self-test",
        "audience": "self-test",
        "now": now,
    }))?;
    Ok(issued
        .get("kid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned())
}

/// Loads the policy at `path`, writing the sample first if it does not
/// exist, and has the module check it. Returns the policy and whether the
/// sample was written.
pub(crate) fn policy(
    runtime: &Runtime,
    ops: &OpIds,
    path: &Path,
    create: Create,
) -> Result<(Value, bool), GatewayError> {
    let created = if path.exists() {
        false
    } else if create == Create::Never {
        return Err(missing(path));
    } else {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|err| io(parent, &err))?;
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|err| io(path, &err))?;
        file.write_all(SAMPLE_POLICY.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|err| io(path, &err))?;
        true
    };
    let text = std::fs::read_to_string(path).map_err(|err| io(path, &err))?;
    let policy: Value = serde_json::from_str(&text)
        .map_err(|err| GatewayError::Policy(format!("`{}` is not json: {err}", path.display())))?;
    runtime
        .call_json(ops.policy_check, &json!({ "policy": policy }))
        .map_err(|err| {
            GatewayError::Policy(format!(
                "`{}` is not a valid policy: {}: {err}",
                path.display(),
                err.code()
            ))
        })?;
    Ok((policy, created))
}

/// A fresh admin token: 32 random bytes, base64url.
///
/// # Errors
///
/// `host_entropy` if the system generator fails.
pub fn generate_admin_token() -> Result<String, GatewayError> {
    Ok(b64::encode(&entropy::<32>()?))
}

/// The retired keys of `key_dir`, leaving out the current key (a rotation
/// cut short between its two writes lists the current key as retired too).
/// Closed windows stay listed until the next rotation drops them: the
/// module refuses their tokens by the window rule it applies everywhere.
fn retired_keys(key_dir: &Path, current: &Value) -> Result<Vec<Value>, GatewayError> {
    let path = key_dir.join(RETIRED_KEYS_FILE);
    let keys = read_retired(&path)?;
    let current_kid = current.get("kid").and_then(Value::as_str);
    let current_x = current.get("x");
    Ok(keys
        .into_iter()
        .filter(|jwk| {
            let same = jwk.get("x") == current_x
                || (current_kid.is_some() && jwk.get("kid").and_then(Value::as_str) == current_kid);
            !same
        })
        .collect())
}

/// The keys of a retired-keys file (none if it does not exist), each a
/// public JWK with an integer `exp`.
fn read_retired(path: &Path) -> Result<Vec<Value>, GatewayError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(io(path, &err)),
    };
    let bad = |why: &str| GatewayError::Key(format!("`{}`: {why}", path.display()));
    let value: Value =
        serde_json::from_str(&text).map_err(|err| bad(&format!("not json: {err}")))?;
    let keys = value
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("not a JWKS (no `keys` list)"))?;
    for key in keys {
        if key.get("d").is_some() {
            return Err(bad(
                "holds a private key (`d`); retired keys are kept public only",
            ));
        }
        if key.get("exp").and_then(Value::as_i64).is_none() {
            return Err(bad(
                "a retired key has no integer `exp` (the end of its window)",
            ));
        }
    }
    Ok(keys.clone())
}

/// What [`rotate_signing_key`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The key that signed until now, kept for verification only.
    pub retired_kid: String,
    /// Until when tokens it signed still verify (its `exp`).
    pub retired_until: i64,
    /// The new signing key.
    pub kid: String,
    /// Retired keys dropped because their window had closed.
    pub dropped: Vec<String>,
}

/// Replaces the signing key in `key_dir` with a new one. The old key's
/// public part joins `retired.jwks` with `exp = now + retire_after`, so
/// tokens it signed keep verifying until then (make it at least the
/// longest lifetime the policy grants; `0` for a compromised key, whose
/// tokens then stop verifying at once); its private part is gone once the
/// new key has replaced it. Retired keys whose window has closed are
/// dropped. A running gateway uses the new key from its next start.
///
/// Crash-safe: each file is replaced by an fsynced rename, the retired set
/// first. Cut short in between, the old key is still the signing key and
/// is also listed as retired, which start-up ignores; rotating again
/// finishes the job.
///
/// # Errors
///
/// `bad_signing_key` or `key_file_permissions` if there is no usable key
/// to rotate; `io_error`; `host_*` if the module cannot make a key.
pub fn rotate_signing_key(
    runtime: &Runtime,
    key_dir: &Path,
    retire_after: u64,
    now: i64,
) -> Result<Rotation, GatewayError> {
    let path = key_dir.join(SIGNING_KEY_FILE);
    if !path.exists() {
        return Err(GatewayError::Key(format!(
            "`{}` does not exist: there is no key to rotate (`captoken serve` creates one)",
            path.display()
        )));
    }
    let (old, _) = signing_key(runtime, key_dir, Create::Never)?;
    let retired_until = now.saturating_add(i64::try_from(retire_after).unwrap_or(i64::MAX));
    let retired_path = key_dir.join(RETIRED_KEYS_FILE);
    let mut dropped = Vec::new();
    let mut keys: Vec<Value> = Vec::new();
    for jwk in read_retired(&retired_path)? {
        let kid = jwk.get("kid").and_then(Value::as_str).unwrap_or_default();
        let open = jwk
            .get("exp")
            .and_then(Value::as_i64)
            .is_some_and(|exp| exp > now);
        if kid == old.kid || jwk.get("x") == old.public_jwk.get("x") {
            // Listed by an earlier rotation cut short: replaced below.
        } else if open {
            keys.push(jwk);
        } else {
            dropped.push(kid.to_owned());
        }
    }
    if retire_after > 0 {
        let mut public = old.public_jwk.clone();
        if let Value::Object(members) = &mut public {
            members.insert("kid".to_owned(), Value::String(old.kid.clone()));
            members.insert("exp".to_owned(), Value::from(retired_until));
        }
        keys.push(public);
    }
    let retired_text = format!("{:#}\n", json!({ "keys": keys }));
    replace_file(&retired_path, &retired_text, false)?;

    let jwk = new_private_jwk(&entropy::<32>()?);
    replace_file(&path, &format!("{jwk:#}\n"), true)?;
    // The new key's id, and proof it signs: the same self-test a start runs.
    let (new, _) = signing_key(runtime, key_dir, Create::Never)?;
    let kid = new.kid;
    Ok(Rotation {
        retired_kid: old.kid,
        retired_until,
        kid,
        dropped,
    })
}

/// Replaces `path` with `contents` all at once: written to a sibling
/// (mode 0600 from its creation when `secret`), fsynced, renamed over
/// `path`, and the directory fsynced so the rename itself is durable.
fn replace_file(path: &Path, contents: &str, secret: bool) -> Result<(), GatewayError> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".new");
    let temp = path.with_file_name(name);
    match std::fs::remove_file(&temp) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(io(&temp, &err)),
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if secret { 0o600 } else { 0o644 });
    let mut file = options.open(&temp).map_err(|err| io(&temp, &err))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|err| io(&temp, &err))?;
    drop(file);
    std::fs::rename(&temp, path).map_err(|err| io(path, &err))?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|err| io(dir, &err))?;
    }
    Ok(())
}

fn private_dir(dir: &Path) -> Result<(), GatewayError> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|err| io(dir, &err))
}

/// Creates `path` with mode 0600 from the start, so the secret is never on
/// disk with wider permissions; never overwrites.
fn write_secret(path: &Path, contents: &str) -> Result<(), GatewayError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|err| io(path, &err))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|err| io(path, &err))
}

/// Refuses a key file others can read or write, as ssh does.
fn check_private_mode(path: &Path) -> Result<(), GatewayError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|err| io(path, &err))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(GatewayError::KeyPermissions(format!(
                "`{}` has mode {:o}; a signing key must be readable by its owner only (chmod 600)",
                path.display(),
                mode & 0o777
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn io(path: &Path, err: &std::io::Error) -> GatewayError {
    GatewayError::Io(format!("`{}`: {err}", path.display()))
}
