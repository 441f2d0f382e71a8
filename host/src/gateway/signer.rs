//! Signing outside the module. The gateway never hands its private key to
//! the guest: an operation that signs is called with `"signer":
//! {"public_jwk"}` and answers the bytes to sign; the host signs them with a
//! [`TokenSigner`]; the module's `attach_signature` checks the signature
//! strictly under the public key and assembles the result (docs/ABI.md).
//!
//! [`KeyFileSigner`] signs with the key file's Ed25519 key in this process.
//! An HSM, a KMS or a PKCS#11 token is another [`TokenSigner`]: nothing else
//! changes, and a signer that signs the wrong bytes or with the wrong key is
//! caught by the module before anything is handed out.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use captoken_core::{b64, keys};

use crate::{HostError, Runtime};

/// Something that signs with the gateway's Ed25519 key.
pub trait TokenSigner: Send + Sync {
    /// The public JWK of the key (`kty`, `crv`, `x`), as tokens name it.
    fn public_jwk(&self) -> &Value;

    /// The Ed25519 signature of `message`.
    ///
    /// # Errors
    ///
    /// Why it could not sign (a device offline, a key withdrawn), for
    /// people; the caller reports it as `signing_failed`.
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], String>;
}

/// The gateway's key file, signing in this process. The secret lives in
/// ed25519-dalek's `SigningKey`, which zeroizes it when dropped.
pub struct KeyFileSigner {
    key: ed25519_dalek::SigningKey,
    public_jwk: Value,
}

impl std::fmt::Debug for KeyFileSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFileSigner")
            .field("public_jwk", &self.public_jwk)
            .finish_non_exhaustive()
    }
}

/// A new private Ed25519 JWK (`kty`, `crv`, `kid`, `x`, `d`) from a 32-byte
/// seed of host entropy, made here rather than by the module's `keygen`, so
/// the gateway's key is never in the module's memory, not even at birth. The
/// encoding and the `kid` (RFC 7638 thumbprint) are core's own code, linked
/// natively.
#[must_use]
pub fn new_private_jwk(seed: &[u8; 32]) -> Value {
    let key = ed25519_dalek::SigningKey::from_bytes(seed);
    let public = key.verifying_key();
    json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "kid": keys::thumbprint(&public),
        "x": b64::encode(public.as_bytes()),
        "d": b64::encode(seed),
    })
}

impl KeyFileSigner {
    /// The signer of a private Ed25519 JWK (RFC 8037: `d` is the 32-byte
    /// seed), read by core's own JWK reader: `x` must be `d`'s public key.
    /// The JWK without `d` is the public key the module checks signatures
    /// against.
    ///
    /// # Errors
    ///
    /// Why `jwk` is not a private Ed25519 JWK, in core's words.
    pub fn from_private_jwk(jwk: &Map<String, Value>) -> Result<Self, String> {
        let text = serde_json::to_vec(jwk).map_err(|err| err.to_string())?;
        let read = captoken_core::json::parse(&text, captoken_core::ops::MAX_REQUEST_DEPTH)
            .map_err(|err| err.to_string())?;
        let key = keys::signing_key_from_jwk(&read).map_err(|err| err.to_string())?;
        let public_jwk = Value::Object(
            jwk.iter()
                .filter(|(name, _)| name.as_str() != "d")
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        );
        Ok(Self { key, public_jwk })
    }
}

impl TokenSigner for KeyFileSigner {
    fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], String> {
        use ed25519_dalek::Signer as _;
        Ok(self.key.sign(message).to_bytes())
    }
}

/// Runs signing operation `op` (`issue`, `revocation_list_sign`, …) with
/// `signer` in place of a private key, synchronously: the request gets
/// `"signer": {"public_jwk": published}`, the module answers
/// `signing_input`, `signer` signs it, and `attach_signature` (operation
/// `attach`) checks the signature under `published` (the key verifiers are
/// given, never what the signer says of itself) and assembles it into the
/// response's `member` (`token`, `list`). A policy's denial (an `issue`
/// with `policy`, answered `{"decision": "denied", …}`) is returned as it
/// is: nothing to sign.
///
/// # Errors
///
/// The module's refusal of the request or of the signature (`bad_signature`,
/// `kid_mismatch` of the request's own key material);
/// `signing_failed` ([`HostError::SigningFailed`]) if the signer fails or the
/// module refuses its signature.
pub(crate) fn call_signed(
    runtime: &Runtime,
    op: u32,
    attach: u32,
    signer: &Arc<dyn TokenSigner>,
    published: &Value,
    mut request: Value,
    member: &str,
) -> Result<Value, HostError> {
    if let Value::Object(members) = &mut request {
        members.insert("signer".to_owned(), json!({ "public_jwk": published }));
    }
    // One instance for the prepare and the attach: the signature is made
    // between the two calls, in the host.
    let mut session = runtime.session(op)?;
    let mut prepared = session.call_json(op, &request)?;
    // An issue through a policy that denies signs nothing: the denial is
    // the answer.
    if prepared.get("decision").and_then(Value::as_str) == Some("denied") {
        return Ok(prepared);
    }
    let attach_request = attach_request(&prepared, signer.as_ref(), published)?;
    // From here on the request is not at fault: a signature the module
    // refuses is the signer's.
    let attached = session
        .call_json(attach, &attach_request)
        .map_err(|err| match err {
            HostError::Op { code, message, .. } => HostError::SigningFailed {
                reason: format!("the module refused its signature: {code}: {message}"),
            },
            other => other,
        })?;
    finish(&mut prepared, attached, member)?;
    Ok(prepared)
}

/// The `attach_signature` request for a prepared response, signed.
fn attach_request(
    prepared: &Value,
    signer: &dyn TokenSigner,
    published: &Value,
) -> Result<Value, HostError> {
    let input = prepared
        .get("signing_input")
        .and_then(Value::as_str)
        .ok_or_else(|| HostError::GuestBadResponse {
            reason: "a signer-prepared response has no `signing_input`".to_owned(),
        })?;
    let signature = signer
        .sign(input.as_bytes())
        .map_err(|reason| HostError::SigningFailed { reason })?;
    let mut request = json!({
        "signing_input": input,
        "signature": b64::encode(&signature),
        "public_jwk": published,
    });
    if let (Some(rest), Value::Object(members)) = (prepared.get("chain_rest"), &mut request) {
        members.insert("chain_rest".to_owned(), rest.clone());
    }
    Ok(request)
}

/// Moves the assembled token from `attached` into `prepared[member]`, in
/// place of the signing input.
fn finish(prepared: &mut Value, attached: Value, member: &str) -> Result<(), HostError> {
    let token = attached
        .get("token")
        .cloned()
        .ok_or_else(|| HostError::GuestBadResponse {
            reason: "`attach_signature` answered no `token`".to_owned(),
        })?;
    if let Value::Object(members) = prepared {
        members.remove("signing_input");
        members.remove("chain_rest");
        members.insert(member.to_owned(), token);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn a_new_key_file_is_read_back_and_names_its_key_by_thumbprint() {
        let jwk = new_private_jwk(&[7; 32]);
        let signer = KeyFileSigner::from_private_jwk(jwk.as_object().unwrap()).unwrap();
        let public = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        assert_eq!(signer.public_jwk()["kid"], keys::thumbprint(&public));
        assert!(signer.public_jwk().get("d").is_none());
        let signature = ed25519_dalek::Signature::from_bytes(&signer.sign(b"m").unwrap());
        assert!(public.verify_strict(b"m", &signature).is_ok());
    }

    #[test]
    fn a_key_file_whose_x_is_not_its_d_is_refused_when_read() {
        // Another key's public half, consistently named: only `d` disagrees.
        let other = new_private_jwk(&[8; 32]);
        let mut jwk = new_private_jwk(&[7; 32]);
        jwk["x"] = other["x"].clone();
        jwk["kid"] = other["kid"].clone();
        let why = KeyFileSigner::from_private_jwk(jwk.as_object().unwrap()).unwrap_err();
        assert!(why.contains("is not the public key of `d`"), "{why}");
    }
}
