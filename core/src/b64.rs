//! Strict base64url without padding (RFC 7515 §2, RFC 4648 §5).
//!
//! Strict means one encoding per byte string: no `=` padding, no `+` or `/`,
//! no whitespace, and the unused low bits of the last character must be zero.
//! A lenient decoder would let an attacker mint many spellings of one token,
//! which defeats replay guards and revocation lists keyed by the token text.

use alloc::string::String;
use alloc::vec::Vec;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Why a base64url string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum B64Error {
    /// A byte outside the base64url alphabet (includes `=`, `+`, `/`, whitespace).
    InvalidByte {
        /// Offset of the offending byte.
        at: usize,
    },
    /// A length no encoder produces (`len % 4 == 1`).
    InvalidLength,
    /// The last character carries non-zero unused bits.
    NonCanonical,
}

impl core::fmt::Display for B64Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            B64Error::InvalidByte { at } => write!(f, "invalid base64url byte at offset {at}"),
            B64Error::InvalidLength => f.write_str("invalid base64url length"),
            B64Error::NonCanonical => f.write_str("non-canonical base64url trailing bits"),
        }
    }
}

/// Encode bytes as base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    // Bytes first, one check at the end: pushing chars one by one into a
    // String costs more than the encoding itself.
    let mut out = Vec::new();
    encode_to(&mut out, bytes);
    String::from_utf8(out).unwrap_or_default()
}

/// Append the base64url encoding of `bytes` (no padding) to `out`; every
/// byte appended is ASCII.
pub fn encode_to(out: &mut Vec<u8>, bytes: &[u8]) {
    // Four characters per chunk, always (a fixed-size copy); a short last
    // chunk's unused ones are cut off at the end.
    let end = out.len() + (bytes.len() * 4).div_ceil(3);
    out.reserve(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0);
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let mut chars = [0u8; 4];
        for (i, c) in (0u32..).zip(&mut chars) {
            let idx = (n >> (18 - 6 * i)) & 0x3f;
            *c = ALPHABET.get(idx as usize).copied().unwrap_or(b'A');
        }
        out.extend_from_slice(&chars);
    }
    out.truncate(end);
}

/// Each byte's 6-bit value, or `INVALID` for bytes outside the alphabet.
// Evaluated at compile time: an index out of bounds fails the build.
#[allow(clippy::indexing_slicing)]
const VALUES: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};
const INVALID: u8 = 0xff;

fn value(byte: u8) -> Option<u32> {
    match VALUES.get(usize::from(byte)) {
        Some(&v) if v != INVALID => Some(u32::from(v)),
        _ => None,
    }
}

/// Decode strict base64url without padding.
///
/// # Errors
/// [`B64Error`] for any byte outside the alphabet, an impossible length, or
/// non-zero trailing bits.
pub fn decode(text: &[u8]) -> Result<Vec<u8>, B64Error> {
    if text.len() % 4 == 1 {
        return Err(B64Error::InvalidLength);
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for (c, chunk) in text.chunks(4).enumerate() {
        let mut n: u32 = 0;
        for (i, &byte) in chunk.iter().enumerate() {
            let v = value(byte).ok_or(B64Error::InvalidByte { at: c * 4 + i })?;
            n |= v << (18 - 6 * i);
        }
        let [_, b0, b1, b2] = n.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&[b0, b1, b2]),
            3 => {
                if b2 != 0 {
                    return Err(B64Error::NonCanonical);
                }
                out.extend_from_slice(&[b0, b1]);
            }
            _ => {
                // INVARIANT: len 1 was refused above, so this chunk has 2 chars.
                if b1 != 0 || b2 != 0 {
                    return Err(B64Error::NonCanonical);
                }
                out.push(b0);
            }
        }
    }
    Ok(out)
}

/// Decode into exactly `N` bytes.
///
/// # Errors
/// `None` when the text is not strict base64url or decodes to another length.
pub fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode(text.as_bytes()).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn rfc4648_vectors_round_trip() {
        let cases: &[(&[u8], &str)] = &[
            (b"", ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"foobar", "Zm9vYmFy"),
            (&[0xfb, 0xff], "-_8"),
        ];
        for (raw, text) in cases {
            assert_eq!(encode(raw), *text);
            assert_eq!(decode(text.as_bytes()).unwrap(), *raw);
        }
    }

    #[test]
    fn refuses_every_lenient_spelling() {
        assert_eq!(decode(b"Zg=="), Err(B64Error::InvalidByte { at: 2 }));
        assert_eq!(decode(b"+/8"), Err(B64Error::InvalidByte { at: 0 }));
        assert_eq!(decode(b"Zm9v Yg"), Err(B64Error::InvalidByte { at: 4 }));
        assert_eq!(decode(b"Zm9vY"), Err(B64Error::InvalidLength));
        // "Zh" decodes to the same byte as "Zg" in a lenient decoder.
        assert_eq!(decode(b"Zh"), Err(B64Error::NonCanonical));
        assert_eq!(decode(b"Zm9"), Err(B64Error::NonCanonical));
    }

    #[test]
    fn accepts_exactly_the_alphabet() {
        for byte in 0..=u8::MAX {
            let text = [b'A', b'A', b'A', byte];
            let expected = ALPHABET.contains(&byte);
            assert_eq!(decode(&text).is_ok(), expected, "byte {byte:#04x}");
            if !expected {
                assert_eq!(decode(&text), Err(B64Error::InvalidByte { at: 3 }));
            }
        }
    }

    #[test]
    fn every_length_round_trips_and_appends() {
        let bytes: Vec<u8> = (0u8..=200).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        for n in 0..bytes.len() {
            let input = &bytes[..n];
            let text = encode(input);
            assert_eq!(text.len(), (n * 4).div_ceil(3));
            assert!(text.bytes().all(|b| ALPHABET.contains(&b)));
            assert_eq!(decode(text.as_bytes()).unwrap(), input);
            let mut out = b"prefix.".to_vec();
            encode_to(&mut out, input);
            assert_eq!(out, [b"prefix.".as_slice(), text.as_bytes()].concat());
        }
    }
}
