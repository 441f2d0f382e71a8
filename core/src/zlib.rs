//! zlib streams (RFC 1950) of DEFLATE data (RFC 1951): the encoding of a
//! status list's bits (`lst`, in the style of the IETF OAuth Token Status
//! List draft), written by the issuer and read by every verifier.
//!
//! [`compress`] writes one block with the fixed Huffman code, each run of
//! equal bytes as its first byte and copies of it (matches at distance
//! one): a status list is long runs of zero bytes with a set bit here and
//! there, which this takes to about four bytes a revoked token, and its
//! output is a zlib stream any decoder reads.
//!
//! [`decompress`] reads any zlib stream (stored, fixed and dynamic
//! blocks), up to a limit on its output, and refuses everything RFC 1950
//! and 1951 do not allow, including what decoders commonly let through: a
//! preset dictionary, incomplete or over-subscribed codes, a distance
//! before the start, a wrong Adler-32, and bytes after it. It never
//! panics on any input.

use alloc::vec::Vec;
use core::fmt;

/// Why a stream was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InflateError {
    /// The two-byte zlib header is not one of DEFLATE without a dictionary.
    BadHeader,
    /// The data ended inside the stream.
    Truncated,
    /// A block's type is the reserved `11`.
    BadBlockType,
    /// A stored block's length and its complement disagree.
    BadStoredLength,
    /// A dynamic block's code lengths do not make a complete prefix code,
    /// or repeat a length that is not there.
    BadCode,
    /// A symbol no block may hold (length 286, 287; distance 30, 31).
    BadSymbol,
    /// A match reaches before the start of the output.
    DistanceTooFar,
    /// The output would be longer than the limit given.
    TooLong,
    /// The Adler-32 after the data is not the output's.
    BadChecksum,
    /// Bytes follow the stream.
    TrailingData,
}

impl fmt::Display for InflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InflateError::BadHeader => "not a zlib stream of DEFLATE data without a dictionary",
            InflateError::Truncated => "the compressed data ends early",
            InflateError::BadBlockType => "a block has the reserved type 3",
            InflateError::BadStoredLength => {
                "a stored block's length does not match its complement"
            }
            InflateError::BadCode => "a block's Huffman code is incomplete or over-subscribed",
            InflateError::BadSymbol => "a block holds a symbol DEFLATE does not define",
            InflateError::DistanceTooFar => "a match reaches before the start of the data",
            InflateError::TooLong => "the data is longer than allowed",
            InflateError::BadChecksum => "the Adler-32 checksum does not match",
            InflateError::TrailingData => "bytes follow the end of the stream",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for InflateError {}

/// Adler-32 (RFC 1950) of `data`.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that cannot overflow `b` before the modulo.
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

// --- the DEFLATE tables (RFC 1951, 3.2.5) ----------------------------------

/// Base lengths of length symbols 257..=285, and their extra bits.
const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances of distance symbols 0..=29, and their extra bits.
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order a dynamic block sends its code-length code's lengths in.
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];
const MAX_BITS: usize = 15;

// --- compress --------------------------------------------------------------

/// Writes bits least significant first, as DEFLATE packs them.
struct BitWriter {
    out: Vec<u8>,
    buffer: u64,
    count: u32,
}

impl BitWriter {
    fn bits(&mut self, value: u32, count: u32) {
        self.buffer |= u64::from(value) << self.count;
        self.count += count;
        while self.count >= 8 {
            self.out.push(self.buffer as u8);
            self.buffer >>= 8;
            self.count -= 8;
        }
    }

    /// A Huffman code: sent most significant bit first.
    fn code(&mut self, code: u32, length: u32) {
        let reversed = code.reverse_bits() >> (32 - length);
        self.bits(reversed, length);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.out.push(self.buffer as u8);
        }
        self.out
    }
}

/// The fixed code of literal/length symbol `symbol` (RFC 1951, 3.2.6).
fn fixed_literal(w: &mut BitWriter, symbol: u32) {
    match symbol {
        0..=143 => w.code(0x30 + symbol, 8),
        144..=255 => w.code(0x190 + symbol - 144, 9),
        256..=279 => w.code(symbol - 256, 7),
        _ => w.code(0xc0 + symbol - 280, 8),
    }
}

/// A match of `length` (3..=258) at distance one.
fn fixed_match(w: &mut BitWriter, length: u16) {
    // The last base not above `length` (LENGTH_BASE is sorted, and its
    // first entry, 3, is not above any length written).
    let index = LENGTH_BASE
        .partition_point(|&base| base <= length)
        .saturating_sub(1);
    let (base, extra) = LENGTH_BASE
        .get(index)
        .zip(LENGTH_EXTRA.get(index))
        .map_or((3, 0), |(b, e)| (*b, *e));
    fixed_literal(w, 257 + index as u32);
    w.bits(u32::from(length - base), u32::from(extra));
    // Distance symbol 0 (distance 1), five bits, no extra.
    w.code(0, 5);
}

/// `data` as a zlib stream: one fixed-Huffman block, runs of equal bytes
/// as a literal and distance-one matches.
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut w = BitWriter {
        // CM 8, CINFO 7 (a 32 KiB window), no dictionary, FCHECK so that
        // the header is a multiple of 31.
        out: alloc::vec![0x78, 0x01],
        buffer: 0,
        count: 0,
    };
    // BFINAL 1, BTYPE 01 (fixed).
    w.bits(0b011, 3);
    let mut rest = data;
    while let Some(&byte) = rest.first() {
        let run = rest.iter().take_while(|&&b| b == byte).count();
        fixed_literal(&mut w, u32::from(byte));
        let mut left = run - 1;
        while left >= 3 {
            let length = left.min(258);
            // A remainder of 1 or 2 cannot be a match: leave 3 for one.
            let length = if left - length > 0 && left - length < 3 {
                length - 3
            } else {
                length
            };
            fixed_match(&mut w, length as u16);
            left -= length;
        }
        for _ in 0..left {
            fixed_literal(&mut w, u32::from(byte));
        }
        rest = rest.get(run..).unwrap_or_default();
    }
    fixed_literal(&mut w, 256);
    let mut out = w.finish();
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

// --- decompress ------------------------------------------------------------

/// Reads bits least significant first.
struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    buffer: u32,
    count: u32,
}

impl BitReader<'_> {
    fn bits(&mut self, need: u32) -> Result<u32, InflateError> {
        while self.count < need {
            let byte = *self.data.get(self.pos).ok_or(InflateError::Truncated)?;
            self.pos += 1;
            self.buffer |= u32::from(byte) << self.count;
            self.count += 8;
        }
        let value = self.buffer & ((1u32 << need) - 1);
        self.buffer = self.buffer.checked_shr(need).unwrap_or(0);
        self.count -= need;
        Ok(value)
    }

    /// Drops the bits left in the current byte.
    fn align(&mut self) {
        self.buffer = 0;
        self.count = 0;
    }

    fn byte(&mut self) -> Result<u8, InflateError> {
        let byte = *self.data.get(self.pos).ok_or(InflateError::Truncated)?;
        self.pos += 1;
        Ok(byte)
    }
}

/// A canonical Huffman code, as counts of codes of each length and the
/// symbols in code order.
struct Huffman {
    count: [u16; MAX_BITS + 1],
    symbol: Vec<u16>,
}

impl Huffman {
    /// The code `lengths` define; refused when over-subscribed, or
    /// incomplete unless it is one code of one bit (which RFC 1951 allows
    /// for a block with a single distance) or no code at all (a block of
    /// literals only has no distances; decoding one then fails).
    fn new(lengths: &[u8]) -> Result<Self, InflateError> {
        let mut count = [0u16; MAX_BITS + 1];
        for &length in lengths {
            *count
                .get_mut(usize::from(length))
                .ok_or(InflateError::BadCode)? += 1;
        }
        let mut left: i32 = 1;
        for &n in count.iter().skip(1) {
            left = (left << 1) - i32::from(n);
            if left < 0 {
                return Err(InflateError::BadCode);
            }
        }
        let [unused, one_bit, ..] = count;
        let used = lengths.len() - usize::from(unused);
        if left > 0 && used > 0 && !(used == 1 && one_bit == 1) {
            return Err(InflateError::BadCode);
        }
        // The first slot of each length's symbols, in code order; then the
        // symbols placed, each length's in increasing symbol order.
        let mut offset = [0u16; MAX_BITS + 1];
        let mut next = 0u16;
        for (slot, &n) in offset.iter_mut().zip(&count).skip(1) {
            *slot = next;
            next += n;
        }
        let mut symbol = alloc::vec![0u16; used];
        for (sym, &length) in lengths.iter().enumerate() {
            if length != 0 {
                let slot = offset
                    .get_mut(usize::from(length))
                    .ok_or(InflateError::BadCode)?;
                *symbol
                    .get_mut(usize::from(*slot))
                    .ok_or(InflateError::BadCode)? = sym as u16;
                *slot += 1;
            }
        }
        Ok(Huffman { count, symbol })
    }

    fn decode(&self, r: &mut BitReader<'_>) -> Result<u16, InflateError> {
        // `code` is the bits read so far; `first` the first code of this
        // length; `index` the first symbol of this length.
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for &count in &self.count[1..] {
            code |= r.bits(1)? as i32;
            let count = i32::from(count);
            if code - first < count {
                return self
                    .symbol
                    .get((index + code - first) as usize)
                    .copied()
                    .ok_or(InflateError::BadCode);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        // Only an incomplete single-code table can get here.
        Err(InflateError::BadCode)
    }
}

/// The fixed codes (RFC 1951, 3.2.6).
fn fixed_codes() -> Result<(Huffman, Huffman), InflateError> {
    let mut lengths = [0u8; 288];
    lengths[..144].fill(8);
    lengths[144..256].fill(9);
    lengths[256..280].fill(7);
    lengths[280..].fill(8);
    // All 32 five-bit distance codes exist; 30 and 31 are never valid.
    Ok((Huffman::new(&lengths)?, Huffman::new(&[5u8; 32])?))
}

/// A dynamic block's two codes (RFC 1951, 3.2.7).
fn dynamic_codes(r: &mut BitReader<'_>) -> Result<(Huffman, Huffman), InflateError> {
    let literals = r.bits(5)? as usize + 257;
    let distances = r.bits(5)? as usize + 1;
    let code_lengths = r.bits(4)? as usize + 4;
    if literals > 286 || distances > 30 {
        return Err(InflateError::BadCode);
    }
    let mut lengths = [0u8; 19];
    for &slot in CODE_LENGTH_ORDER.iter().take(code_lengths) {
        if let Some(length) = lengths.get_mut(slot) {
            *length = r.bits(3)? as u8;
        }
    }
    let code = Huffman::new(&lengths)?;
    let mut lengths = [0u8; 286 + 30];
    let total = literals + distances;
    let mut i = 0;
    while i < total {
        let symbol = code.decode(r)?;
        let (value, repeat) = match symbol {
            0..=15 => (symbol as u8, 1),
            16 => {
                let previous = *lengths
                    .get(i.wrapping_sub(1))
                    .filter(|_| i > 0)
                    .ok_or(InflateError::BadCode)?;
                (previous, 3 + r.bits(2)? as usize)
            }
            17 => (0, 3 + r.bits(3)? as usize),
            _ => (0, 11 + r.bits(7)? as usize),
        };
        lengths
            .get_mut(i..i + repeat)
            .filter(|_| i + repeat <= total)
            .ok_or(InflateError::BadCode)?
            .fill(value);
        i += repeat;
    }
    let (literal, distance) = lengths
        .get(..total)
        .ok_or(InflateError::BadCode)?
        .split_at(literals);
    // A block must be able to end.
    if literal.get(256).is_none_or(|&n| n == 0) {
        return Err(InflateError::BadCode);
    }
    Ok((Huffman::new(literal)?, Huffman::new(distance)?))
}

/// The data of the zlib stream `data`, at most `limit` bytes of it.
///
/// # Errors
///
/// [`InflateError`]: the stream is not one RFC 1950 and 1951 allow, or it
/// holds more than `limit` bytes.
pub fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let [cmf, flg, ..] = *data else {
        return Err(InflateError::Truncated);
    };
    if cmf & 0x0f != 8
        || cmf >> 4 > 7
        || flg & 0x20 != 0
        || (u16::from(cmf) << 8 | u16::from(flg)) % 31 != 0
    {
        return Err(InflateError::BadHeader);
    }
    let mut r = BitReader {
        data,
        pos: 2,
        buffer: 0,
        count: 0,
    };
    let mut out: Vec<u8> = Vec::new();
    loop {
        let last = r.bits(1)? == 1;
        match r.bits(2)? {
            0 => {
                r.align();
                let length = u16::from_le_bytes([r.byte()?, r.byte()?]);
                let complement = u16::from_le_bytes([r.byte()?, r.byte()?]);
                if length != !complement {
                    return Err(InflateError::BadStoredLength);
                }
                let length = usize::from(length);
                if out.len() + length > limit {
                    return Err(InflateError::TooLong);
                }
                let bytes = data
                    .get(r.pos..r.pos + length)
                    .ok_or(InflateError::Truncated)?;
                out.extend_from_slice(bytes);
                r.pos += length;
            }
            kind @ (1 | 2) => {
                let (literal, distance) = if kind == 1 {
                    fixed_codes()?
                } else {
                    dynamic_codes(&mut r)?
                };
                inflate_block(&mut r, &literal, &distance, &mut out, limit)?;
            }
            _ => return Err(InflateError::BadBlockType),
        }
        if last {
            break;
        }
    }
    r.align();
    let mut check = [0u8; 4];
    for byte in &mut check {
        *byte = r.byte()?;
    }
    if u32::from_be_bytes(check) != adler32(&out) {
        return Err(InflateError::BadChecksum);
    }
    if r.pos != data.len() {
        return Err(InflateError::TrailingData);
    }
    Ok(out)
}

/// One compressed block's symbols, up to its end.
fn inflate_block(
    r: &mut BitReader<'_>,
    literal: &Huffman,
    distance: &Huffman,
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<(), InflateError> {
    loop {
        let symbol = literal.decode(r)?;
        match symbol {
            0..=255 => {
                if out.len() >= limit {
                    return Err(InflateError::TooLong);
                }
                out.push(symbol as u8);
            }
            256 => return Ok(()),
            _ => {
                let index = usize::from(symbol - 257);
                let (&base, &extra) = LENGTH_BASE
                    .get(index)
                    .zip(LENGTH_EXTRA.get(index))
                    .ok_or(InflateError::BadSymbol)?;
                let length = usize::from(base) + r.bits(u32::from(extra))? as usize;
                let index = usize::from(distance.decode(r)?);
                let (&base, &extra) = DIST_BASE
                    .get(index)
                    .zip(DIST_EXTRA.get(index))
                    .ok_or(InflateError::BadSymbol)?;
                let back = usize::from(base) + r.bits(u32::from(extra))? as usize;
                if back > out.len() {
                    return Err(InflateError::DistanceTooFar);
                }
                if out.len() + length > limit {
                    return Err(InflateError::TooLong);
                }
                let start = out.len() - back;
                // Byte by byte: a match may overlap what it writes.
                for k in start..start + length {
                    let byte = out.get(k).copied().ok_or(InflateError::DistanceTooFar)?;
                    out.push(byte);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use alloc::vec;

    fn sparse(len: usize, every: usize, seed: u64) -> Vec<u8> {
        let mut state = seed;
        let mut data = vec![0u8; len];
        for _ in 0..len * 8 / every {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let bit = (state >> 33) as usize % (len * 8);
            data[bit / 8] |= 1 << (bit % 8);
        }
        data
    }

    #[test]
    fn what_compress_writes_decompresses_to_itself_and_other_decoders_read_it() {
        for data in [
            vec![],
            vec![0],
            vec![7; 2],
            vec![0; 3],
            vec![0; 4],
            vec![0; 259],
            vec![0; 260],
            vec![0; 261],
            vec![0; 1_000_000],
            (0..=255u8).cycle().take(5000).collect(),
            sparse(125_000, 100, 1),
            sparse(4096, 3, 2),
        ] {
            let packed = compress(&data);
            assert_eq!(decompress(&packed, data.len()).unwrap(), data);
            assert_eq!(
                miniz_oxide::inflate::decompress_to_vec_zlib(&packed).unwrap(),
                data,
                "another decoder reads it"
            );
            if !data.is_empty() {
                assert_eq!(
                    decompress(&packed, data.len() - 1),
                    Err(InflateError::TooLong)
                );
            }
        }
    }

    #[test]
    fn reads_stored_fixed_and_dynamic_blocks_from_another_encoder() {
        let text: Vec<u8> = b"status list, status list, a status list of tokens "
            .iter()
            .copied()
            .cycle()
            .take(70_000)
            .chain(sparse(50_000, 50, 3))
            .collect();
        for level in [0, 1, 6, 9, 10] {
            let packed = miniz_oxide::deflate::compress_to_vec_zlib(&text, level);
            assert_eq!(decompress(&packed, text.len()).unwrap(), text, "{level}");
        }
    }

    #[test]
    fn refuses_what_the_rfcs_do_not_allow() {
        let good = compress(&[1, 2, 3, 0, 0, 0, 0, 0]);
        let mut dictionary = good.clone();
        dictionary[1] |= 0x20;
        let mut checksum = good.clone();
        *checksum.last_mut().unwrap() ^= 1;
        let mut trailing = good.clone();
        trailing.push(0);
        let cases: [(&[u8], InflateError); 7] = [
            (&[], InflateError::Truncated),
            (&[0x78, 0x9c], InflateError::Truncated),
            (&[0x79, 0x01], InflateError::BadHeader),
            (&dictionary, InflateError::BadHeader),
            (&checksum, InflateError::BadChecksum),
            (&trailing, InflateError::TrailingData),
            // A fixed block whose first symbol is a match: nothing to copy.
            (
                &[0x78, 0x01, 0x03, 0x02, 0x00],
                InflateError::DistanceTooFar,
            ),
        ];
        for (data, err) in cases {
            assert_eq!(decompress(data, 1 << 20), Err(err), "{data:?}");
        }
        // A reserved block type, and a stored block whose complement lies.
        assert_eq!(
            decompress(&[0x78, 0x01, 0x07], 100),
            Err(InflateError::BadBlockType)
        );
        assert_eq!(
            decompress(&[0x78, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x41], 100),
            Err(InflateError::BadStoredLength)
        );
    }

    /// Every corruption of a valid stream is either refused or read as
    /// exactly what another decoder reads (with the checksum it carries).
    #[test]
    fn corrupted_streams_never_panic_and_agree_with_another_decoder() {
        let data = sparse(3000, 20, 4);
        let streams = [
            compress(&data),
            miniz_oxide::deflate::compress_to_vec_zlib(&data, 9),
            miniz_oxide::deflate::compress_to_vec_zlib(&data, 0),
        ];
        let mut state = 9u64;
        for stream in &streams {
            for _ in 0..3000 {
                let mut bad = stream.clone();
                for _ in 0..3 {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let at = (state >> 33) as usize % bad.len();
                    bad[at] ^= 1 << ((state >> 20) % 8);
                }
                let ours = decompress(&bad, 1 << 20);
                if let Ok(out) = ours {
                    assert_eq!(
                        miniz_oxide::inflate::decompress_to_vec_zlib(&bad).ok(),
                        Some(out)
                    );
                }
            }
        }
    }
}
