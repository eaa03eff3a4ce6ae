//! Fixed-width bit packing of unsigned integers (frame-of-reference
//! columns, text codes, record offsets): `width` bits per value, values
//! back to back, least significant bit first.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use byteorder::{ByteOrder, LittleEndian as LE};

/// Widths above this are stored as plain 8-byte values (a read of one
/// unaligned u64 must hold a whole value at any bit position).
pub(crate) const MAX_PACKED_WIDTH: u32 = 56;

/// Bits needed for `max` (0 for 0), or 64 above [`MAX_PACKED_WIDTH`].
pub(crate) fn width_for(max: u64) -> u32 {
    match 64 - max.leading_zeros() {
        w if w > MAX_PACKED_WIDTH => 64,
        w => w,
    }
}

/// Bytes that `count` values of `width` bits take.
pub(crate) fn packed_len(count: usize, width: u32) -> Option<usize> {
    if width == 64 {
        return count.checked_mul(8);
    }
    count
        .checked_mul(width as usize)
        .map(|bits| bits.div_ceil(8))
}

/// Appends `values` packed at `width` bits (each must fit).
pub(crate) fn pack(values: impl Iterator<Item = u64>, width: u32, out: &mut Vec<u8>) {
    if width == 64 {
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        return;
    }
    let (mut acc, mut bits) = (0u128, 0u32);
    for v in values {
        acc |= u128::from(v) << bits;
        bits += width;
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
}

/// Unpacks `count` values of `width` bits from `bytes` (checked by the
/// caller to be [`packed_len`] long) into `f(index, value)`.
pub(crate) fn unpack(bytes: &[u8], count: usize, width: u32, mut f: impl FnMut(usize, u64)) {
    if width == 0 {
        (0..count).for_each(|i| f(i, 0));
        return;
    }
    if width == 64 {
        for (i, chunk) in bytes.chunks_exact(8).take(count).enumerate() {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            f(i, u64::from_le_bytes(word));
        }
        return;
    }
    let mask = (1u64 << width) - 1;
    for i in 0..count {
        let bit = i * width as usize;
        let at = bit / 8;
        let word = match bytes.get(at..at + 8) {
            Some(eight) => LE::read_u64(eight),
            None => {
                // The last few bytes: zeros past the end.
                let mut word = [0u8; 8];
                let tail = bytes.get(at..).unwrap_or(&[]);
                for (to, from) in word.iter_mut().zip(tail) {
                    *to = *from;
                }
                u64::from_le_bytes(word)
            }
        };
        f(i, (word >> (bit % 8)) & mask);
    }
}

/// Value `i` of values packed at `width` bits in `bytes` (zeros past the
/// end): random access, for a column read one row at a time.
pub(crate) fn get(bytes: &[u8], width: u32, i: usize) -> u64 {
    match width {
        0 => 0,
        64 => bytes.get(i * 8..i * 8 + 8).map_or(0, LE::read_u64),
        w => {
            // At most 56 bits from bit 0..7 of an 8-byte word.
            let bit = i * w as usize;
            let mut word = [0u8; 8];
            for (to, from) in word.iter_mut().zip(bytes.get(bit / 8..).unwrap_or(&[])) {
                *to = *from;
            }
            (u64::from_le_bytes(word) >> (bit % 8)) & ((1u64 << w) - 1)
        }
    }
}

#[cfg(test)]
#[path = "bitpack_tests.rs"]
mod tests;
