//! base64url without padding (RFC 4648 §5), the encoding of every byte
//! string in a request. The host decodes only to check the shape of an id a
//! client sends (see [`is_token_id`]); module output is never decoded.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `bytes` as base64url without padding.
#[must_use]
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let mut group = [0u8; 3];
        for (slot, byte) in group.iter_mut().zip(chunk) {
            *slot = *byte;
        }
        let bits = u32::from_be_bytes([0, group[0], group[1], group[2]]);
        // A chunk of n bytes carries n * 8 bits: n + 1 sextets, unpadded.
        for i in 0..=chunk.len() {
            let sextet = (bits >> (18 - 6 * i)) & 0x3f;
            // INVARIANT: masked to six bits, so always inside the alphabet.
            if let Some(&symbol) = ALPHABET.get(sextet as usize) {
                out.push(char::from(symbol));
            }
        }
    }
    out
}

/// `text` decoded, only if it is the one spelling [`encode`] gives its
/// bytes (no padding, no stray trailing bits, nothing outside the alphabet).
#[must_use]
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let mut bits: u32 = 0;
    let mut held = 0u32;
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for symbol in text.bytes() {
        let value = ALPHABET.iter().position(|&s| s == symbol)?;
        bits = (bits << 6) | u32::try_from(value).ok()?;
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push(u8::try_from((bits >> held) & 0xff).ok()?);
        }
    }
    // What decodes must encode back to the same text: that refuses a
    // length no encoding has and non-zero leftover bits.
    (encode(&out) == text).then_some(out)
}

/// Whether `id` is a token id as docs/FORMAT.md defines it: a `jti`
/// (base64url of at least 128 bits), or such `jti`s joined by `.` for a
/// delegated token. Anything else can never match a token, and a signed
/// revocation list refuses to carry it.
#[must_use]
pub fn is_token_id(id: &str) -> bool {
    id.split('.')
        .all(|jti| decode(jti).is_some_and(|bytes| bytes.len() >= 16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_takes_only_the_canonical_spelling() {
        for bytes in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foobar",
            &[0xfb, 0xff, 0xbf],
        ] {
            assert_eq!(decode(&encode(bytes)).as_deref(), Some(bytes));
        }
        // `Zh` carries bits past the one byte it encodes; `Z` is no length.
        assert_eq!(decode("Zh"), None);
        assert_eq!(decode("Z"), None);
        assert_eq!(decode("Zg=="), None);
        assert_eq!(decode("Zm+v"), None);
    }

    #[test]
    fn token_ids_are_long_jtis_joined_by_dots() {
        let jti = encode(&[7; 16]);
        assert!(is_token_id(&jti));
        assert!(is_token_id(&format!("{jti}.{jti}")));
        assert!(!is_token_id(&encode(&[7; 15])));
        assert!(!is_token_id(&format!("{jti}.")));
        assert!(!is_token_id("x"));
    }

    #[test]
    fn matches_rfc4648_vectors_without_padding() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(encode(input), expected);
        }
    }

    #[test]
    fn uses_the_url_safe_alphabet() {
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "-_-_");
    }
}
