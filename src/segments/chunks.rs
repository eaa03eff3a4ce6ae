//! Checksums of an import file's read-side sections (index, key filter,
//! key samples, columns), one CRC-32 per 4 KiB chunk, checked the first
//! time a read touches the chunk and remembered for the life of the open
//! file.
//!
//! Why chunks and not one checksum over the whole region: opening a file
//! must cost O(1), not O(records) (a CLI `get` opens every file and reads
//! a few hundred bytes of each), and yet nothing read from the index may be
//! trusted unverified. A lookup touches a handful of chunks; each is
//! checked once per process.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use byteorder::{ByteOrder, LittleEndian as LE};

/// Bytes per checksummed chunk (the last chunk may be shorter).
pub(crate) const CHUNK_LEN: usize = 4096;

/// Per-chunk checksums of the file region `covered`, the table of them at
/// `table` (both byte ranges of the file), and which chunks were checked.
#[derive(Debug, Default)]
pub(crate) struct ChunkChecks {
    covered: Range<usize>,
    table: usize,
    /// One bit per chunk: set once the chunk verified.
    verified: Vec<AtomicU64>,
}

/// A chunk that did not verify: where it starts.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadChunk {
    pub offset: usize,
}

/// How many chunks cover `len` bytes.
pub(crate) fn chunk_count(len: usize) -> usize {
    len.div_ceil(CHUNK_LEN)
}

/// The checksum table of `region`: CRC-32 of each chunk, little-endian.
pub(crate) fn checksum_table(region: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk_count(region.len()) * 4);
    for chunk in region.chunks(CHUNK_LEN) {
        out.extend_from_slice(&crc32fast::hash(chunk).to_le_bytes());
    }
    out
}

impl ChunkChecks {
    /// Checks of `covered`, whose table starts at `table` (the caller has
    /// checked that `table + 4 * chunk_count(covered.len())` is inside the
    /// file).
    pub(crate) fn new(covered: Range<usize>, table: usize) -> ChunkChecks {
        let words = chunk_count(covered.len()).div_ceil(64);
        ChunkChecks {
            covered,
            table,
            verified: (0..words).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Verifies (once) every chunk that `range` touches, in `file`, the
    /// whole file's bytes. Parts of `range` outside the covered region
    /// are the caller's to check.
    pub(crate) fn verify(&self, file: &[u8], range: Range<usize>) -> Result<(), BadChunk> {
        let start = range.start.max(self.covered.start);
        let end = range.end.min(self.covered.end);
        if start >= end {
            return Ok(());
        }
        let first = (start - self.covered.start) / CHUNK_LEN;
        let last = (end - 1 - self.covered.start) / CHUNK_LEN;
        for chunk in first..=last {
            self.verify_chunk(file, chunk)?;
        }
        Ok(())
    }

    fn verify_chunk(&self, file: &[u8], chunk: usize) -> Result<(), BadChunk> {
        let (word, bit) = (chunk / 64, 1u64 << (chunk % 64));
        let Some(flags) = self.verified.get(word) else {
            return Err(BadChunk { offset: self.table });
        };
        if flags.load(Ordering::Relaxed) & bit != 0 {
            return Ok(());
        }
        let at = self.covered.start + chunk * CHUNK_LEN;
        let bad = BadChunk { offset: at };
        let bytes = file
            .get(at..(at + CHUNK_LEN).min(self.covered.end))
            .ok_or(BadChunk { offset: at })?;
        let entry = self.table + chunk * 4;
        let expected = file.get(entry..entry + 4).map(LE::read_u32).ok_or(bad)?;
        if crc32fast::hash(bytes) != expected {
            return Err(BadChunk { offset: at });
        }
        // Two threads may both check a chunk; both set the same bit.
        flags.fetch_or(bit, Ordering::Relaxed);
        Ok(())
    }

    /// Verifies every chunk (the `verify` command's full check).
    pub(crate) fn verify_all(&self, file: &[u8]) -> Result<(), BadChunk> {
        self.verify(file, self.covered.clone())
    }
}

#[cfg(test)]
#[path = "chunks_tests.rs"]
mod tests;
