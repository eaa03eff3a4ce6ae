//! Record compression in import files: zstd with a dictionary trained on
//! the file's own records, one zstd frame per record.
//!
//! Why per record and with a dictionary: a lookup decodes one record, so a
//! record must decompress alone, in about a microsecond; records are a few
//! hundred bytes that repeat the same item names, ids of one shape and
//! timestamps of one era, which a dictionary of 8 KiB captures. Measured
//! on the query data set (`docs/FORMAT.md`, "Record compression"): 386
//! bytes per record become about 116, training takes about 70 ms per file.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::cell::RefCell;

use zstd_safe::{CCtx, CDict, DCtx, DDict};

/// Largest dictionary trained.
const DICTIONARY_LEN: usize = 8 << 10;
/// Records sampled to train it (spread over the file).
const TRAINING_SAMPLES: usize = 1000;
/// Below this many records a file is not compressed: a dictionary would
/// not pay for itself.
pub(crate) const MIN_RECORDS: usize = 64;
/// zstd level: 3 (the library's default) compresses within 2% of level 9
/// on these records at a quarter of the time.
const LEVEL: i32 = 3;

/// Which records of a file of `records` train its dictionary: every
/// `step`-th, about `TRAINING_SAMPLES` spread over the file; `None` when
/// the file is too small to be compressed. The writer encodes just these
/// first, so the file's other records need not be held encoded at once.
pub(crate) fn sample_step(records: usize) -> Option<usize> {
    (records >= MIN_RECORDS).then(|| records.div_ceil(TRAINING_SAMPLES).max(1))
}

/// A dictionary trained on `samples` (encoded records, chosen by
/// [`sample_step`]), or `None` when training fails (too few or too uniform
/// samples): the file is then written uncompressed.
pub(crate) fn train(samples: &[Vec<u8>]) -> Option<Vec<u8>> {
    let mut joined = Vec::with_capacity(samples.iter().map(Vec::len).sum());
    let mut sizes = Vec::with_capacity(samples.len());
    for body in samples {
        joined.extend_from_slice(body);
        sizes.push(body.len());
    }
    let mut dictionary = Vec::with_capacity(DICTIONARY_LEN);
    zstd_safe::train_from_buffer(&mut dictionary, &joined, &sizes).ok()?;
    (!dictionary.is_empty()).then_some(dictionary)
}

/// Compresses records with one file's dictionary.
pub(crate) struct Compressor {
    context: CCtx<'static>,
    dictionary: CDict<'static>,
}

impl Compressor {
    pub(crate) fn new(dictionary: &[u8]) -> Option<Compressor> {
        Some(Compressor {
            context: CCtx::try_create()?,
            dictionary: CDict::try_create(dictionary, LEVEL)?,
        })
    }

    /// One record's zstd frame (with its decompressed size), into `out`
    /// (replacing what it held; a writer reuses one buffer).
    pub(crate) fn compress_into(&mut self, body: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        out.clear();
        out.reserve(zstd_safe::compress_bound(body.len()));
        self.context
            .compress_using_cdict(out, body, &self.dictionary)
            .map_err(|code| format!("zstd: {}", zstd_safe::get_error_name(code)))?;
        Ok(())
    }
}

/// Decompresses one file's records.
pub(crate) struct Decompressor {
    dictionary: DDict<'static>,
}

thread_local! {
    /// One decompression context per thread, reused by every file: a
    /// context costs an allocation of about 100 KiB to create.
    static CONTEXT: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

impl Decompressor {
    pub(crate) fn new(dictionary: &[u8]) -> Option<Decompressor> {
        DDict::try_create(dictionary).map(|dictionary| Decompressor { dictionary })
    }

    /// The record in the zstd frame `frame`; `limit` bounds its size,
    /// checked against the frame's header before anything is allocated.
    pub(crate) fn decompress(&self, frame: &[u8], limit: usize) -> Result<Vec<u8>, String> {
        let size = match zstd_safe::get_frame_content_size(frame) {
            Ok(Some(size)) => size,
            Ok(None) => return Err("the compressed record does not give its size".into()),
            Err(_) => return Err("the compressed record's header is damaged".into()),
        };
        let size = usize::try_from(size)
            .ok()
            .filter(|&s| s <= limit)
            .ok_or_else(|| format!("the record claims {size} bytes, the limit is {limit}"))?;
        let mut out = Vec::with_capacity(size);
        CONTEXT.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                *slot = DCtx::try_create();
            }
            let context = slot
                .as_mut()
                .ok_or_else(|| "zstd: no memory for a decompression context".to_owned())?;
            context
                .decompress_using_ddict(&mut out, frame, &self.dictionary)
                .map_err(|code| format!("zstd: {}", zstd_safe::get_error_name(code)))
        })?;
        if out.len() != size {
            return Err(format!(
                "the record decompressed to {} bytes, its header said {size}",
                out.len()
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "compress_tests.rs"]
mod tests;
