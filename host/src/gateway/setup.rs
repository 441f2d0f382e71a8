//! What `captoken serve` needs on disk before it can answer: a signing key,
//! a policy and a database. A bare `captoken serve` on a fresh machine makes
//! a development key and a sample policy; it never overwrites either.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::GatewayError;
use super::module::OpIds;
use crate::{Runtime, b64, entropy};

/// The file name of the signing key inside the key directory.
pub const SIGNING_KEY_FILE: &str = "signing.jwk";

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
      "max_ttl": 300 },
    { "id": "everyone-reads", "effect": "allow",
      "subjects": { "patterns": ["*"] },
      "capabilities": [ { "actions": ["READ"], "resources": ["*"] } ] },
    { "id": "agents-never-pii", "effect": "deny",
      "subjects": { "patterns": ["agent-*"] },
      "capabilities": [ { "actions": ["*"], "resources": ["pii:*"] } ] }
  ]
}
"#;

/// The issuer's signing key, loaded.
#[derive(Clone)]
pub(crate) struct SigningKey {
    pub(crate) private_jwk: Value,
    pub(crate) public_jwk: Value,
    pub(crate) kid: String,
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
) -> Result<(SigningKey, KeyFile), GatewayError> {
    let path = key_dir.join(SIGNING_KEY_FILE);
    let created = if path.exists() {
        false
    } else {
        private_dir(key_dir)?;
        let pair = runtime.keygen(entropy::<32>()?)?;
        let jwk = pair.get("private_jwk").ok_or_else(|| {
            GatewayError::Key(format!("keygen returned no `private_jwk`: {pair}"))
        })?;
        write_secret(&path, &format!("{jwk:#}\n"))?;
        true
    };
    check_private_mode(&path)?;
    let text = std::fs::read_to_string(&path).map_err(|err| io(&path, &err))?;
    let private_jwk: Value = serde_json::from_str(&text)
        .map_err(|err| GatewayError::Key(format!("`{}` is not json: {err}", path.display())))?;
    let Value::Object(members) = &private_jwk else {
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
    let public_jwk = Value::Object(
        members
            .iter()
            .filter(|(name, _)| name.as_str() != "d")
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect::<Map<_, _>>(),
    );
    let kid = self_test(runtime, &private_jwk, &public_jwk)?;
    Ok((
        SigningKey {
            private_jwk,
            public_jwk,
            kid: kid.clone(),
        },
        KeyFile { path, created, kid },
    ))
}

/// Signs and verifies one throwaway token, so that an unusable key file
/// stops the server at start-up, not at its first request.
fn self_test(
    runtime: &Runtime,
    private_jwk: &Value,
    public_jwk: &Value,
) -> Result<String, GatewayError> {
    let now = crate::now();
    let issued = runtime.issue(&json!({
        "key": private_jwk,
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
    }))?;
    runtime.verify(&json!({
        "token": issued.get("token").cloned().unwrap_or(Value::Null),
        "jwks": { "keys": [public_jwk] },
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
) -> Result<(Value, bool), GatewayError> {
    let created = if path.exists() {
        false
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
