//! Raw Ed25519 over a fixed buffer, for measuring the wasm floor: what a
//! signature costs in a wasm engine with nothing of captoken around it.
//!
//! The host writes into the buffer at `floor_buf()`:
//! `[0..32)` a seed or public key, `[32..96)` a signature, `[96..)` the
//! message. `floor_key()` reads the seed into a signing key kept for the
//! instance's life (its public key derived once, as a service keeps its
//! key); `floor_sign(len)` writes the signature of the `len`-byte message
//! under it; `floor_verify(len)` answers 1 when the signature verifies
//! strictly under the public key, else 0.
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// Bytes of message the buffer holds.
pub const MAX_MESSAGE: usize = 4096;
const MESSAGE: usize = 96;

static mut BUF: [u8; MESSAGE + MAX_MESSAGE] = [0; MESSAGE + MAX_MESSAGE];
static mut KEY: Option<SigningKey> = None;

fn buffer() -> &'static mut [u8; MESSAGE + MAX_MESSAGE] {
    // SAFETY: the module is single-threaded and every export takes the
    // buffer once, for the length of the call.
    unsafe { &mut *core::ptr::addr_of_mut!(BUF) }
}

/// Where the host writes its inputs and reads the signature.
#[unsafe(no_mangle)]
pub extern "C" fn floor_buf() -> *mut u8 {
    buffer().as_mut_ptr()
}

fn key() -> &'static mut Option<SigningKey> {
    // SAFETY: as `buffer`.
    unsafe { &mut *core::ptr::addr_of_mut!(KEY) }
}

/// Keep the signing key whose seed is at the start of the buffer.
#[unsafe(no_mangle)]
pub extern "C" fn floor_key() -> i32 {
    let Some(seed) = buffer()
        .get(..32)
        .and_then(|s| <[u8; 32]>::try_from(s).ok())
    else {
        return 0;
    };
    *key() = Some(SigningKey::from_bytes(&seed));
    1
}

/// Sign the `len`-byte message with the kept key; 0 without one or when
/// `len` is too long.
#[unsafe(no_mangle)]
pub extern "C" fn floor_sign(len: usize) -> i32 {
    let buf = buffer();
    let (Some(key), Some(message)) = (key().as_ref(), buf.get(MESSAGE..MESSAGE + len)) else {
        return 0;
    };
    let signature = key.sign(message).to_bytes();
    if let Some(out) = buf.get_mut(32..96) {
        out.copy_from_slice(&signature);
    }
    1
}

/// 1 when the signature verifies strictly under the public key, else 0.
#[unsafe(no_mangle)]
pub extern "C" fn floor_verify(len: usize) -> i32 {
    let buf = buffer();
    let (Some(key), Some(signature), Some(message)) = (
        buf.get(..32).and_then(|k| <[u8; 32]>::try_from(k).ok()),
        buf.get(32..96).and_then(|s| <[u8; 64]>::try_from(s).ok()),
        buf.get(MESSAGE..MESSAGE + len),
    ) else {
        return 0;
    };
    let Ok(key) = VerifyingKey::from_bytes(&key) else {
        return 0;
    };
    i32::from(
        key.verify_strict(message, &Signature::from_bytes(&signature))
            .is_ok(),
    )
}
