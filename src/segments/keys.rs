//! The key structures of an import file, written with it (version 3) or
//! built at open from its index (older versions): the probe a lookup computes once per key, a blocked Bloom filter,
//! every 32nd sort key, and the first and last key's prefixes. They let a
//! lookup skip a file without touching its index pages.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::cmp::Ordering;

use byteorder::{ByteOrder, LittleEndian as LE};

/// One key in this many is sampled into memory.
pub(crate) const KEY_SAMPLE_EVERY: usize = 32;

/// A blocked Bloom filter over (activity, id) keys: 20 bits per key, and
/// the 14 probes of a key all fall in one 512-bit block (one cache line),
/// so a lookup that misses costs one memory access per file, not up to 14.
/// About 0.02% false positives. (At 1%, a store with 70 files sent most new
/// keys into some file's index and kept those pages resident.)
#[derive(Default)]
pub(crate) struct KeyFilter {
    pub(crate) blocks: Vec<[u64; 8]>,
}

/// A key as a lookup probes files with: its hash and its sort key,
/// computed once for every file asked.
pub(crate) struct KeyProbe {
    pub(crate) hash: u64,
    pub(crate) sort_key: Vec<u8>,
}

/// `activity`, a zero byte, `id`: bytewise order is (activity, id) order,
/// as activity names hold only ASCII letters, digits and `_`.
pub(crate) fn sort_key(activity: &str, id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(activity.len() + 1 + id.len());
    key.extend_from_slice(activity.as_bytes());
    key.push(0);
    key.extend_from_slice(id.as_bytes());
    key
}

impl KeyProbe {
    pub(crate) fn of(activity: &str, id: &str) -> KeyProbe {
        // FNV-1a over activity, a separator no UTF-8 text contains, and
        // id; then the splitmix64 finaliser, so every bit depends on every
        // input byte.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in activity
            .as_bytes()
            .iter()
            .chain(&[0xFF])
            .chain(id.as_bytes())
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        KeyProbe {
            hash: h ^ (h >> 31),
            sort_key: sort_key(activity, id),
        }
    }
}

/// The first [`KeyPrefix::LEN`] bytes of a sort key.
#[derive(Clone, Debug)]
pub(crate) struct KeyPrefix {
    pub(crate) bytes: [u8; KeyPrefix::LEN],
    pub(crate) len: u8,
}

impl Default for KeyPrefix {
    fn default() -> Self {
        KeyPrefix {
            bytes: [0; Self::LEN],
            len: 0,
        }
    }
}

impl KeyPrefix {
    pub(crate) const LEN: usize = 46;

    pub(crate) fn of(sort_key: &[u8]) -> KeyPrefix {
        let len = sort_key.len().min(Self::LEN);
        let mut bytes = [0; Self::LEN];
        for (to, from) in bytes.iter_mut().zip(sort_key) {
            *to = *from;
        }
        KeyPrefix {
            bytes,
            len: len as u8,
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// `key`'s first bytes, as many as this prefix has, against it: `Less`
    /// means `key` sorts before the key this is a prefix of, `Greater`
    /// after it; `Equal` decides nothing.
    pub(crate) fn cmp_key(&self, key: &[u8]) -> Ordering {
        let mine = self.as_slice();
        key.get(..mine.len()).unwrap_or(key).cmp(mine)
    }
}

/// Every [`KEY_SAMPLE_EVERY`]th sort key of a file's index, as stored in
/// a version-3 file (and built in memory for older files): the end of each
/// sample `[u32; count]` (from the start of the sample bytes), then the
/// sample bytes.
#[derive(Default)]
pub(crate) struct KeySamples {
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

impl KeySamples {
    pub(crate) fn push(&mut self, sort_key: &[u8]) {
        self.bytes.extend_from_slice(sort_key);
        self.ends.push(self.bytes.len() as u32);
    }

    /// How many samples.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The stored form.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.ends.len() * 4 + self.bytes.len());
        for end in &self.ends {
            out.extend_from_slice(&end.to_le_bytes());
        }
        out.extend_from_slice(&self.bytes);
        out
    }
}

/// Bytes of one filter block in the stored form.
pub(crate) const FILTER_BLOCK_LEN: usize = 64;

/// Probes per key.
const FILTER_PROBES: u64 = 14;

/// The block of a filter of `blocks` blocks that `h` falls in, and its
/// probes in that block as (word, mask).
pub(crate) fn filter_positions(
    h: u64,
    blocks: usize,
) -> (usize, impl Iterator<Item = (usize, u64)>) {
    let block = (h >> 32).checked_rem(blocks as u64).unwrap_or(0) as usize;
    // The low 32 bits give the probes, 9 bits each, refreshed by a
    // multiply when they run out.
    let mut bits = h & 0xFFFF_FFFF;
    let probes = (0..FILTER_PROBES).map(move |i| {
        if i % 3 == 0 {
            bits = bits.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16;
        }
        let bit = bits & 511;
        bits >>= 9;
        ((bit / 64) as usize, 1u64 << (bit % 64))
    });
    (block, probes)
}

/// Whether `h` may be in the filter whose block `h` falls in is
/// `block` (stored form, 64 bytes).
pub(crate) fn stored_block_may_contain(block: &[u8], h: u64) -> bool {
    let (_, mut probes) = filter_positions(h, 1);
    probes.all(|(word, mask)| {
        block
            .get(word * 8..word * 8 + 8)
            .is_some_and(|w| LE::read_u64(w) & mask != 0)
    })
}

impl KeyFilter {
    pub(crate) fn with_keys(count: usize) -> KeyFilter {
        let blocks = (count * 20).div_ceil(512).max(1);
        KeyFilter {
            blocks: vec![[0; 8]; blocks],
        }
    }

    /// The key's block, and its probes in that block as (word, mask).
    pub(crate) fn positions(&self, h: u64) -> (usize, impl Iterator<Item = (usize, u64)>) {
        filter_positions(h, self.blocks.len())
    }

    /// The stored form: each block's eight words, little-endian.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.blocks.len() * FILTER_BLOCK_LEN);
        for word in self.blocks.iter().flatten() {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out
    }

    pub(crate) fn insert(&mut self, hash: u64) {
        let (block, probes) = self.positions(hash);
        if let Some(words) = self.blocks.get_mut(block) {
            for (word, mask) in probes {
                if let Some(w) = words.get_mut(word) {
                    *w |= mask;
                }
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn may_contain(&self, hash: u64) -> bool {
        let (block, mut probes) = self.positions(hash);
        self.blocks.get(block).is_some_and(|words| {
            probes.all(|(word, mask)| words.get(word).is_some_and(|w| w & mask != 0))
        })
    }
}
