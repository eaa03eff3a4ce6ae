//! Writing an import file (version 3): the records, then everything a
//! reader needs, built once here so that no reader computes anything in
//! proportion to the records: the key index, the key filter, the key
//! samples and the column projection, all under per-chunk checksums.
//! Layout in `docs/FORMAT.md` ("Import file").
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::sync::Arc;

use super::blob::write_atomically;
use super::chunks::checksum_table;
use super::columns::FileColumns;
use super::compress::{self, Compressor};
use super::error::ImportFileError;
use super::keys::{KeyFilter, KeyPrefix, KeyProbe, KeySamples, KEY_SAMPLE_EVERY};
use super::layout::{v3_footer, Layout, FILE_MAGIC, FILE_VERSION, HEADER_LEN};
use super::record::StoredInstance;
use super::stored_columns;
use crate::storage::Storage;

/// Writes `records` (and their continuation tokens as alias keys) to
/// `dir/name` atomically. Records need not be sorted.
pub(crate) fn write_import_file(
    storage: &dyn Storage,
    dir: &Path,
    name: &str,
    records: &[Arc<StoredInstance>],
) -> Result<(), ImportFileError> {
    let path = dir.join(name);
    let encode_failed = |what: &'static str| {
        let path = path.clone();
        move |reason: String| ImportFileError::Encode { path, what, reason }
    };
    let mut sorted: Vec<&StoredInstance> = records.iter().map(|r| r.as_ref()).collect();
    sorted.sort_by(|a, b| (&a.activity, &a.id).cmp(&(&b.activity, &b.id)));
    let mut out = Vec::with_capacity(HEADER_LEN + records.len() * 256);
    out.extend_from_slice(&FILE_MAGIC);
    out.extend_from_slice(&FILE_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut bodies = Vec::with_capacity(sorted.len());
    for rec in &sorted {
        bodies.push(
            postcard::to_allocvec(rec).map_err(|e| encode_failed("a record")(e.to_string()))?,
        );
    }
    // Records compress with a dictionary trained on this file's own
    // (`compress.rs`); a file too small to train one is stored plain.
    let dictionary = compress::train(&bodies);
    let mut compressor = dictionary.as_deref().and_then(Compressor::new);
    let mut keys: Vec<(&str, &str, u64)> = Vec::with_capacity(records.len());
    let mut placed: Vec<(u64, &StoredInstance)> = Vec::with_capacity(records.len());
    let (mut min_end, mut max_end) = (i64::MAX, i64::MIN);
    for (rec, body) in sorted.iter().zip(bodies) {
        let body = match compressor.as_mut() {
            Some(c) => c.compress(&body).map_err(encode_failed("a record"))?,
            None => body,
        };
        let offset = out.len() as u64;
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        out.extend_from_slice(&body);
        keys.push((&rec.activity, &rec.id, offset));
        placed.push((offset, rec));
        for token in &rec.continuations {
            keys.push((&rec.activity, token, offset));
        }
        if let Some(end) = rec.end {
            min_end = min_end.min(end);
            max_end = max_end.max(end);
        }
    }
    // One key per (activity, id): a token that repeats an id (or another
    // token) is not indexed twice; the first record's entry stays.
    keys.sort_unstable();
    keys.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let mut layout = Layout {
        version: FILE_VERSION,
        index_offset: out.len(),
        key_count: keys.len(),
        record_count: sorted.len() as u64,
        min_end,
        max_end,
        ..Layout::default()
    };
    // Keys, then the table of where each starts.
    let mut key_offsets = Vec::with_capacity(keys.len());
    let mut filter = KeyFilter::with_keys(keys.len());
    let mut samples = KeySamples::default();
    for (i, (activity, id, record)) in keys.iter().enumerate() {
        key_offsets.push(out.len() as u64);
        for part in [activity, id] {
            out.extend_from_slice(&(part.len() as u16).to_le_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out.extend_from_slice(&record.to_le_bytes());
        let probe = KeyProbe::of(activity, id);
        filter.insert(probe.hash);
        if i == 0 {
            layout.first_key = KeyPrefix::of(&probe.sort_key);
        }
        if i + 1 == keys.len() {
            layout.last_key = KeyPrefix::of(&probe.sort_key);
        }
        if i % KEY_SAMPLE_EVERY == 0 {
            samples.push(&probe.sort_key);
        }
    }
    layout.key_table = out.len();
    for off in key_offsets {
        out.extend_from_slice(&off.to_le_bytes());
    }
    let start = out.len();
    out.extend_from_slice(&filter.to_bytes());
    layout.filter = start..out.len();
    let start = out.len();
    layout.sample_count = samples.len();
    out.extend_from_slice(&samples.to_bytes());
    layout.samples = start..out.len();
    let columns = FileColumns::from_records(placed.iter().map(|(at, rec)| (*at, *rec)));
    let start = out.len();
    out.extend_from_slice(&stored_columns::encode(&columns).map_err(encode_failed("the columns"))?);
    layout.columns = start..out.len();
    let start = out.len();
    // Only a dictionary the compressor accepted was used.
    if compressor.is_some() {
        out.extend_from_slice(dictionary.as_deref().unwrap_or(&[]));
    }
    layout.dictionary = start..out.len();
    layout.crc_table = out.len();
    let table = checksum_table(out.get(layout.index_offset..).unwrap_or(&[]));
    out.extend_from_slice(&table);
    out.extend_from_slice(&v3_footer(&layout));
    write_atomically(storage, dir, name, &out).map_err(ImportFileError::io("write", &path))
}
