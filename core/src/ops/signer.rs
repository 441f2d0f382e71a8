//! Who signs: a private key handed to the module, or a signer outside it.
//!
//! With `"signer": {"public_jwk"}` in place of `"key"`, an operation that
//! signs (issue, delegate, refresh, pop_create, revocation_list_sign) builds
//! everything but the signature and answers with the `signing_input` instead
//! of the finished text. The host signs those bytes where the key lives (a
//! WebCrypto `CryptoKey`, an HSM, a KMS) and `attach_signature` checks the
//! signature against the public key and assembles the result. The private
//! key never enters the module.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use ed25519_dalek::{Signature, VerifyingKey};
use signature::{Keypair, Signer};

use sha2::{Digest, Sha256};

use super::OpError;
use super::fields::{Fields, respond};
use crate::b64;
use crate::error::Part;
use crate::error::TokenError;
use crate::json::{self, Value, object};
use crate::jws::{self, Limits};
use crate::{keys, pop, revocation, status, token};

/// The signer of one operation.
pub(super) enum OpSigner {
    /// The private key, given in the request as a JWK or as a handle from
    /// `keygen`.
    Key(keys::KeyHandle),
    /// Only the public key: the signature is made outside.
    External(VerifyingKey),
}

impl OpSigner {
    /// Read `"key"` (a private JWK or a key handle) or `"signer":
    /// {"public_jwk"}`.
    pub(super) fn take(f: &mut Fields) -> Result<Self, OpError> {
        match (f.opt("key")?, f.opt("signer")?) {
            (Some(Value::String(handle)), None) => {
                Ok(OpSigner::Key(keys::KeyHandle::from_text(&handle)?))
            }
            (Some(key), None) => Ok(OpSigner::Key(keys::KeyHandle::of(
                &keys::signing_key_from_jwk(&key)?,
            ))),
            (None, Some(Value::Object(signer))) => {
                let mut signer = f.nested("signer", signer);
                let public = keys::verifying_key_from_jwk(&signer.value("public_jwk")?)?;
                signer.done()?;
                Ok(OpSigner::External(public))
            }
            (None, Some(_)) => Err(OpError::BadRequest(
                "`signer` must be an object `{\"public_jwk\"}`".into(),
            )),
            (None, None) => Err(OpError::BadRequest(
                "missing member `key` (or `signer` to sign outside the module)".into(),
            )),
            (Some(_), Some(_)) => Err(OpError::BadRequest(
                "give `key` or `signer`, not both".into(),
            )),
        }
    }

    /// For an external signer, replace `out[member]` (the text made with a
    /// placeholder signature) by `signing_input` and, for a delegation
    /// chain, `chain_rest` (`~parent~…`, appended after the signature).
    pub(super) fn finish(&self, out: &mut Value, member: &str) -> Result<(), OpError> {
        if matches!(self, OpSigner::Key(_)) {
            return Ok(());
        }
        let text = out
            .as_object_mut()
            .and_then(|m| m.remove(member))
            .and_then(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .ok_or_else(|| OpError::BadRequest(format!("no `{member}` to hand out")))?;
        let (leaf, rest) = match text.split_once('~') {
            Some((leaf, rest)) => (leaf, format!("~{rest}")),
            None => (text.as_str(), String::new()),
        };
        let input = leaf
            .rsplit_once('.')
            .map(|(input, _placeholder)| input)
            .unwrap_or_default();
        out.set("signing_input", input);
        if !rest.is_empty() {
            out.set("chain_rest", rest);
        }
        Ok(())
    }
}

impl Keypair for OpSigner {
    type VerifyingKey = VerifyingKey;
    fn verifying_key(&self) -> VerifyingKey {
        match self {
            OpSigner::Key(key) => key.verifying_key(),
            OpSigner::External(public) => *public,
        }
    }
}

impl Signer<Signature> for OpSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Signature, signature::Error> {
        match self {
            OpSigner::Key(key) => Ok(key.sign(msg)),
            // A placeholder that `finish` strips: the text it ends up in is
            // never handed out.
            OpSigner::External(_) => Ok(Signature::from_bytes(&[0; 64])),
        }
    }
}

/// `{"signing_input", "signature", "public_jwk", "chain_rest"?}` →
/// `{"token"}`: the signature must verify (strictly) under the key.
pub(super) fn attach_signature(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request, "attach_signature")?;
    let input = f.string("signing_input")?;
    let signature = f.bytes("signature")?;
    let public = keys::verifying_key_from_jwk(&f.value("public_jwk")?)?;
    let rest = f.opt_string("chain_rest")?.unwrap_or_default();
    f.done()?;
    if input.split('.').count() != 2 || input.contains('~') {
        return Err(OpError::BadRequest(
            "`signing_input` must be `header.payload`".into(),
        ));
    }
    if !rest.is_empty() && !rest.starts_with('~') {
        return Err(OpError::BadRequest(
            "`chain_rest` must start with `~`".into(),
        ));
    }
    let signature = Signature::from_slice(&signature)
        .map_err(|_| OpError::BadRequest("`signature` must be 64 bytes".into()))?;
    public
        .verify_strict(input.as_bytes(), &signature)
        .map_err(|_| TokenError::BadSignature)?;
    let leaf = format!("{input}.{}", b64::encode(&signature.to_bytes()));
    // What the module prepared names its kind, its signer and, for a
    // delegation, its parent: refuse to assemble anything that could not
    // verify (an unknown kind, a signature by another key than the header's
    // `kid`, a foreign parent). Each kind is read under the bounds its
    // verifiers apply: a revocation list is not held to a token's 16 KiB.
    let (typ, limits) = signed_kind(&input)?;
    let jws = jws::parse(&leaf, &limits)?;
    let kid = jws::typed_kid(&jws.header, typ)?;
    let thumbprint = keys::thumbprint(&public);
    if kid != thumbprint {
        return Err(keys::KeyError::KidMismatch {
            claimed: kid,
            thumbprint,
        }
        .into());
    }
    if let Some(parent) = rest.strip_prefix('~') {
        let parent_leaf = parent.split('~').next().unwrap_or_default();
        let prf = b64::encode(&Sha256::digest(parent_leaf.as_bytes()));
        let payload =
            json::parse_object(&jws.payload, limits.max_json_depth).map_err(OpError::Json)?;
        if payload.get("prf").and_then(Value::as_str) != Some(prf.as_str()) {
            return Err(OpError::BadRequest(
                "`chain_rest` is not the parent this token was prepared for".into(),
            ));
        }
    }
    respond(&object! { "token" => format!("{leaf}{rest}") })
}

/// The document kinds the module signs, each with the bounds its verifiers
/// read it under.
const SIGNED_KINDS: [(&str, Limits); 4] = [
    (token::TYP, token::DEFAULT_LIMITS),
    (revocation::TYP, revocation::DEFAULT_LIMITS),
    (status::TYP, status::DEFAULT_LIMITS),
    (pop::TYP, pop::DEFAULT_LIMITS),
];

/// The `typ` a prepared `header.payload` declares, and its kind's bounds.
/// A header is a few dozen bytes; one past 1 KiB was not prepared here.
fn signed_kind(input: &str) -> Result<(&'static str, Limits), OpError> {
    const MAX_HEADER: usize = 1024;
    let encoded = input.split('.').next().unwrap_or_default();
    if encoded.len() > MAX_HEADER {
        return Err(OpError::BadRequest(
            "`signing_input` has a header longer than any the module prepares".into(),
        ));
    }
    let header = b64::decode(encoded.as_bytes()).map_err(|err| TokenError::Base64 {
        part: Part::Header,
        err,
    })?;
    let header = json::parse_object(&header, 2).map_err(|err| TokenError::Json {
        part: Part::Header,
        err,
    })?;
    let typ = header.get("typ").and_then(Value::as_str);
    SIGNED_KINDS
        .iter()
        .find(|(kind, _)| Some(*kind) == typ)
        .copied()
        .ok_or_else(|| {
            TokenError::BadTyp {
                expected: token::TYP,
                found: typ.map(Into::into),
            }
            .into()
        })
}
