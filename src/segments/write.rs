//! Writing an import file (version 4): the records, then everything a
//! reader needs, built once here so that no reader computes anything in
//! proportion to the records: the key index, the key filter, the key
//! samples and the column projection, all under per-chunk checksums.
//! Layout in `docs/FORMAT.md` ("Import file").
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::blob::write_atomically;
use super::chunks::checksum_table;
use super::columns::FileColumns;
use super::compact::{encode_record, encode_record_into, NameTable};
use super::compress::{self, Compressor};
use super::error::ImportFileError;
use super::keys::{KeyFilter, KeyPrefix, KeyProbe, KeySamples, KEY_SAMPLE_EVERY};
use super::layout::{v4_footer, Layout, FILE_MAGIC, FILE_VERSION, HEADER_LEN};
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
    write_with_narrow_below(storage, dir, name, records, u64::from(u32::MAX))
}

/// [`write_import_file`], with offsets 4 bytes wide when everything they
/// point into ends at or below `narrow_below` (tests lower it to write
/// the 8-byte form a file of over 4 GiB takes).
pub(crate) fn write_with_narrow_below(
    storage: &dyn Storage,
    dir: &Path,
    name: &str,
    records: &[Arc<StoredInstance>],
    narrow_below: u64,
) -> Result<(), ImportFileError> {
    let path = dir.join(name);
    let encode_failed = |what: &'static str| {
        let path = path.clone();
        move |reason: String| ImportFileError::Encode { path, what, reason }
    };
    // Records in (activity, id) order, equal keys in their given order: a
    // stable sort, done per activity (a file holds few), so that comparing
    // two records does not compare their activities first every time.
    let mut by_activity: BTreeMap<&str, Vec<&StoredInstance>> = BTreeMap::new();
    for rec in records {
        by_activity.entry(&rec.activity).or_default().push(rec);
    }
    let mut sorted: Vec<&StoredInstance> = Vec::with_capacity(records.len());
    for (_, mut group) in by_activity {
        group.sort_by(|a, b| a.id.cmp(&b.id));
        sorted.extend(group);
    }
    let mut out = Vec::with_capacity(HEADER_LEN + records.len() * 256);
    out.extend_from_slice(&FILE_MAGIC);
    out.extend_from_slice(&FILE_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    // The index first, by record number: each record names its own key
    // by position. One key per (activity, id): a record's own id wins over
    // a token of another record that repeats it, then the first record in
    // file order.
    let mut keys: Vec<(&str, &str, bool, usize)> = Vec::with_capacity(records.len());
    for (n, rec) in sorted.iter().enumerate() {
        keys.push((&rec.activity, &rec.id, false, n));
        for token in &rec.continuations {
            keys.push((&rec.activity, token, true, n));
        }
    }
    keys.sort_unstable();
    keys.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    // Each record's own key, by one walk over both (records and keys are
    // in the same order), instead of a binary search per record.
    let mut own_keys: Vec<u32> = Vec::with_capacity(sorted.len());
    let mut at = 0usize;
    for rec in &sorted {
        let wanted = (rec.activity.as_str(), rec.id.as_str());
        while keys.get(at).is_some_and(|k| (k.0, k.1) < wanted) {
            at += 1;
        }
        match keys.get(at) {
            Some(k) if (k.0, k.1) == wanted => own_keys.push(
                u32::try_from(at)
                    .map_err(|_| encode_failed("a record")("more than 2^32 keys".into()))?,
            ),
            _ => {
                return Err(encode_failed("a record")(format!(
                    "record {}/{} has no key",
                    rec.activity, rec.id
                )))
            }
        }
    }
    let own_key = |n: usize| own_keys.get(n).copied().unwrap_or(0);
    let names = NameTable::of(&sorted, keys.iter().map(|k| k.0));
    let encode = |n: usize, rec: &StoredInstance| {
        encode_record(rec, own_key(n), &names).map_err(encode_failed("a record"))
    };
    // Records compress with a dictionary trained on this file's own
    // (`compress.rs`); a file too small to train one is stored plain. Only
    // the samples are encoded ahead; each record is then encoded and
    // compressed in turn, so the uncompressed file is never in memory.
    let dictionary = match compress::sample_step(sorted.len()) {
        Some(step) => {
            let samples = sorted
                .iter()
                .enumerate()
                .step_by(step)
                .map(|(n, rec)| encode(n, rec))
                .collect::<Result<Vec<_>, _>>()?;
            compress::train(&samples)
        }
        None => None,
    };
    let mut compressor = dictionary.as_deref().and_then(Compressor::new);
    let mut offsets: Vec<u64> = Vec::with_capacity(sorted.len());
    let (mut min_end, mut max_end) = (i64::MAX, i64::MIN);
    let (mut encoded, mut compressed) = (Vec::new(), Vec::new());
    for (n, rec) in sorted.iter().enumerate() {
        encode_record_into(rec, own_key(n), &names, &mut encoded)
            .map_err(encode_failed("a record"))?;
        let body = match compressor.as_mut() {
            Some(c) => {
                c.compress_into(&encoded, &mut compressed)
                    .map_err(encode_failed("a record"))?;
                &compressed
            }
            None => &encoded,
        };
        offsets.push(out.len() as u64);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
        out.extend_from_slice(body);
        if let Some(end) = rec.end {
            min_end = min_end.min(end);
            max_end = max_end.max(end);
        }
    }
    let offset_of = |n: usize| offsets.get(n).copied().unwrap_or(0);
    // Offsets in the keys and the key table take 4 bytes when everything
    // they point into (records and keys) ends below 4 GiB.
    let keys_end = out.len() as u64 + keys.iter().map(|k| 2 + k.1.len() as u64 + 8).sum::<u64>();
    let offset_width = if keys_end <= narrow_below { 4 } else { 8 };
    let put_offset = |out: &mut Vec<u8>, offset: u64| {
        out.extend_from_slice(offset.to_le_bytes().get(..offset_width).unwrap_or(&[]));
    };
    let mut layout = Layout {
        version: FILE_VERSION,
        offset_width,
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
    for (i, (activity, id, _, record)) in keys.iter().enumerate() {
        key_offsets.push(out.len() as u64);
        // The activity is in the name table, not in the key.
        out.extend_from_slice(&(id.len() as u16).to_le_bytes());
        out.extend_from_slice(id.as_bytes());
        put_offset(&mut out, offset_of(*record));
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
        put_offset(&mut out, off);
    }
    let start = out.len();
    out.extend_from_slice(&filter.to_bytes());
    layout.filter = start..out.len();
    let start = out.len();
    layout.sample_count = samples.len();
    out.extend_from_slice(&samples.to_bytes());
    layout.samples = start..out.len();
    let columns = FileColumns::from_records(
        sorted
            .iter()
            .enumerate()
            .map(|(n, rec)| (offset_of(n), *rec)),
    );
    let start = out.len();
    out.extend_from_slice(&stored_columns::encode(&columns).map_err(encode_failed("the columns"))?);
    layout.columns = start..out.len();
    let start = out.len();
    out.extend_from_slice(&names.to_bytes().map_err(encode_failed("the item names"))?);
    layout.names = start..out.len();
    if u32::try_from(layout.names.len()).is_err() {
        return Err(encode_failed("the item names")("over 4 GiB".into()));
    }
    let start = out.len();
    // Only a dictionary the compressor accepted was used.
    if compressor.is_some() {
        out.extend_from_slice(dictionary.as_deref().unwrap_or(&[]));
    }
    layout.dictionary = start..out.len();
    layout.crc_table = out.len();
    let table = checksum_table(out.get(layout.index_offset..).unwrap_or(&[]));
    out.extend_from_slice(&table);
    out.extend_from_slice(&v4_footer(&layout));
    write_atomically(storage, dir, name, &out).map_err(ImportFileError::io("write", &path))
}
