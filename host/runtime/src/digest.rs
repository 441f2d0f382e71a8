//! The module's identity: the SHA-256 of its bytes, as lowercase hex.

use sha2::{Digest, Sha256};

use crate::HostError;

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            hex.push(nibble(byte >> 4));
            hex.push(nibble(byte & 0x0f));
            hex
        })
}

fn nibble(n: u8) -> char {
    char::from_digit(u32::from(n), 16).unwrap_or('0')
}

/// The digest in `sha256sum` output (`<hex>  <name>`), or a bare hex digest.
///
/// # Errors
///
/// [`HostError::BadModuleDigest`] unless the first word is 64 lowercase hex
/// characters: a malformed digest must never compare equal to anything.
pub(crate) fn parse_expected(text: &str) -> Result<&str, HostError> {
    let digest = text.split_whitespace().next().unwrap_or_default();
    let well_formed = digest.len() == 64
        && digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if well_formed {
        Ok(digest)
    } else {
        Err(HostError::BadModuleDigest {
            digest: text.trim().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hashes_like_sha256sum() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn reads_sha256sum_lines_and_refuses_the_rest() {
        let hex = sha256_hex(b"");
        assert_eq!(parse_expected(&format!("{hex}  x.wasm\n")).unwrap(), hex);
        assert_eq!(parse_expected(&hex).unwrap(), hex);
        for bad in ["", "abc", &hex.to_uppercase(), &format!("{hex}0")] {
            let err = parse_expected(bad).unwrap_err();
            assert_eq!(err.code(), "module_bad_digest", "{bad:?}");
        }
    }
}
