//! Immutable, indexed import files of completed activity instances.
//!
//! Records are sorted by (activity, id); an index of keys (ids and the
//! continuation tokens that alias them) allows binary search without loading
//! the index into memory. Files are written once (temp, fsync, rename,
//! directory fsync) and then only read, through a memory map where the
//! storage has real files. Layout in `docs/FORMAT.md`.
//!
//! (About 500 lines: writing and reading the one layout, kept together so
//! the two cannot disagree; the key structures are in `keys.rs`.)
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use byteorder::{ByteOrder, LittleEndian as LE};

use super::blob::write_atomically;
use super::columns::FileColumns;
use super::error::ImportFileError;
use super::keys::{KeyFilter, KeyPrefix, KeyProbe, KeySamples, KEY_SAMPLE_EVERY};
use super::record::{StoredInstance, StoredInstanceV1};
use crate::model::ActivityInstance;
use crate::storage::{read_exact_at, OpenMode, Storage};

/// First bytes of an import file.
pub(crate) const FILE_MAGIC: [u8; 8] = *b"BAMDBSEG";
/// Layout version written by this code: 2 added the instance's parts to
/// each record (see `docs/FORMAT.md`).
pub(crate) const FILE_VERSION: u32 = 2;
/// The oldest layout version still read (records without parts).
const FILE_VERSION_V1: u32 = 1;
// Format: { magic [u8; 8] | version u32 | reserved u32 }
const HEADER_LEN: usize = 16;
// Format: { index_offset u64 | key_count u64 | record_count u64 | min_end i64 | max_end i64 | index_crc u32 | footer_crc u32 }
const FOOTER_INDEX_OFFSET: usize = 0;
const FOOTER_KEY_COUNT: usize = FOOTER_INDEX_OFFSET + size_of::<u64>();
const FOOTER_RECORD_COUNT: usize = FOOTER_KEY_COUNT + size_of::<u64>();
const FOOTER_MIN_END: usize = FOOTER_RECORD_COUNT + size_of::<u64>();
const FOOTER_MAX_END: usize = FOOTER_MIN_END + size_of::<i64>();
const FOOTER_INDEX_CRC: usize = FOOTER_MAX_END + size_of::<i64>();
const FOOTER_CRC: usize = FOOTER_INDEX_CRC + size_of::<u32>();
const FOOTER_LEN: usize = FOOTER_CRC + size_of::<u32>();
// Format (record): { len u32 | crc u32 | postcard(StoredInstance) [len] }
const RECORD_HEADER_LEN: usize = 8;
/// No record may claim more than this.
const MAX_RECORD_LEN: u32 = 64 << 20;
/// Longest activity name or id in an index key, in bytes.
const MAX_KEY_PART: usize = 4 * crate::model::MAX_NAME_LEN;

/// The bytes of a sealed file: mapped, or read into memory where the
/// storage cannot map (the in-memory test disk).
enum FileBytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Owned(v) => v,
        }
    }
}

/// An open, verified import file.
pub(crate) struct ImportFile {
    pub name: String,
    pub path: PathBuf,
    bytes: FileBytes,
    index_offset: usize,
    key_count: usize,
    pub record_count: u64,
    /// The earliest completion time in the file (µs; `i64::MAX` if none):
    /// retention skips files that hold nothing old enough.
    pub min_end: i64,
    /// The layout version the file was written with.
    version: u32,
    /// Which keys the file may hold, built from its index when opened: a
    /// lookup of a key that is not there (every new instance the bus checks)
    /// usually touches none of the file's pages.
    filter: KeyFilter,
    /// The column projection, once a query has asked for it.
    columns: OnceLock<Result<Arc<FileColumns>, ImportFileError>>,
    /// Every [`KEY_SAMPLE_EVERY`]th key of the index, in memory: a lookup
    /// searches these first, then only a short run of the mapped index
    /// (one or two pages instead of one page per halving).
    samples: KeySamples,
    /// Prefixes of the first and last keys' sort keys (inline, so ruling a
    /// file out by range costs no pointer chase).
    first_key: KeyPrefix,
    last_key: KeyPrefix,
}

impl std::fmt::Debug for ImportFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportFile")
            .field("name", &self.name)
            .field("records", &self.record_count)
            .finish()
    }
}

/// Writes `records` (and their continuation tokens as alias keys) to
/// `dir/name` atomically. Records need not be sorted.
pub(crate) fn write_import_file(
    storage: &dyn Storage,
    dir: &Path,
    name: &str,
    records: &[Arc<StoredInstance>],
) -> Result<(), ImportFileError> {
    let path = dir.join(name);
    let mut sorted: Vec<&StoredInstance> = records.iter().map(|r| r.as_ref()).collect();
    sorted.sort_by(|a, b| (&a.activity, &a.id).cmp(&(&b.activity, &b.id)));
    let mut out = Vec::with_capacity(HEADER_LEN + records.len() * 256);
    out.extend_from_slice(&FILE_MAGIC);
    out.extend_from_slice(&FILE_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut keys: Vec<(&str, &str, u64)> = Vec::with_capacity(records.len());
    let (mut min_end, mut max_end) = (i64::MAX, i64::MIN);
    for rec in &sorted {
        let body = postcard::to_allocvec(rec).map_err(|e| ImportFileError::Encode {
            path: path.clone(),
            what: "a record",
            reason: e.to_string(),
        })?;
        let offset = out.len() as u64;
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        out.extend_from_slice(&body);
        keys.push((&rec.activity, &rec.id, offset));
        for token in &rec.continuations {
            keys.push((&rec.activity, token, offset));
        }
        if let Some(end) = rec.end {
            min_end = min_end.min(end);
            max_end = max_end.max(end);
        }
    }
    keys.sort_unstable();
    keys.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let index_offset = out.len();
    let mut key_offsets = Vec::with_capacity(keys.len());
    // Format (key): { activity_len u16 | activity | id_len u16 | id | record_offset u64 }
    for (activity, id, record) in &keys {
        key_offsets.push(out.len() as u64);
        out.extend_from_slice(&(activity.len() as u16).to_le_bytes());
        out.extend_from_slice(activity.as_bytes());
        out.extend_from_slice(&(id.len() as u16).to_le_bytes());
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&record.to_le_bytes());
    }
    for off in &key_offsets {
        out.extend_from_slice(&off.to_le_bytes());
    }
    let index_crc = crc32fast::hash(out.get(index_offset..).unwrap_or(&[]));
    let mut footer = [0u8; FOOTER_LEN];
    LE::write_u64(&mut footer[FOOTER_INDEX_OFFSET..], index_offset as u64);
    LE::write_u64(&mut footer[FOOTER_KEY_COUNT..], keys.len() as u64);
    LE::write_u64(&mut footer[FOOTER_RECORD_COUNT..], sorted.len() as u64);
    LE::write_i64(&mut footer[FOOTER_MIN_END..], min_end);
    LE::write_i64(&mut footer[FOOTER_MAX_END..], max_end);
    LE::write_u32(&mut footer[FOOTER_INDEX_CRC..], index_crc);
    let fcrc = crc32fast::hash(&footer[..FOOTER_CRC]);
    LE::write_u32(&mut footer[FOOTER_CRC..], fcrc);
    out.extend_from_slice(&footer);
    write_atomically(storage, dir, name, &out).map_err(ImportFileError::io("write", &path))
}

impl ImportFile {
    /// Opens and verifies an import file: header, footer and index
    /// checksums, and every offset and count against the file size.
    /// Records are verified when read.
    pub fn open(
        storage: &dyn Storage,
        dir: &Path,
        name: &str,
    ) -> Result<ImportFile, ImportFileError> {
        let path = dir.join(name);
        let corrupt = |offset: Option<usize>, what: String| {
            ImportFileError::corrupt(&path, offset.map(|o| o as u64), what)
        };
        let file = storage
            .open_file(&path, OpenMode::Read)
            .map_err(ImportFileError::io("open", &path))?;
        // SAFETY: `map_sealed` maps the file MAP_SHARED, so the map would
        // show a later write to the file and fault past a truncation. Import
        // files are sealed: written whole under a temporary name, synced and
        // renamed into place before anyone opens them, and never written or
        // truncated after. Merges and retention write new files and unlink
        // the old ones; a retried checkpoint may rename a new file over the
        // same name. Both only unlink the mapped inode, which stays alive and
        // unchanged for the map. The store's directory lock keeps other
        // bamdb writers out; a process that ignores it is outside the
        // contract.
        let mapped = unsafe { file.map_sealed() };
        let bytes = match mapped.map_err(ImportFileError::io("map", &path))? {
            Some(map) => FileBytes::Mapped(map),
            None => {
                let len = file.len().map_err(ImportFileError::io("stat", &path))?;
                let Ok(size) = usize::try_from(len) else {
                    return Err(ImportFileError::TooLarge {
                        path: path.clone(),
                        what: "file",
                        len,
                        limit: usize::MAX as u64,
                    });
                };
                let mut buf = vec![0u8; size];
                read_exact_at(file.as_ref(), &mut buf, 0)
                    .map_err(ImportFileError::io("read", &path))?;
                FileBytes::Owned(buf)
            }
        };
        let len = bytes.len();
        if len < HEADER_LEN + FOOTER_LEN {
            return Err(corrupt(
                None,
                format!("{len} bytes is too short for an import file"),
            ));
        }
        if bytes.get(..FILE_MAGIC.len()) != Some(&FILE_MAGIC[..]) {
            return Err(corrupt(Some(0), "wrong magic: not an import file".into()));
        }
        let version = LE::read_u32(bytes.get(8..12).unwrap_or(&[0; 4]));
        if version != FILE_VERSION && version != FILE_VERSION_V1 {
            return Err(ImportFileError::UnsupportedVersion {
                path: path.clone(),
                version,
                reads: "versions 1 and 2",
            });
        }
        let footer_at = len - FOOTER_LEN;
        let footer = bytes.get(footer_at..).unwrap_or(&[]);
        let (fields, fcrc) = footer.split_at(FOOTER_CRC);
        if crc32fast::hash(fields) != LE::read_u32(fcrc) {
            return Err(corrupt(Some(footer_at), "footer checksum mismatch".into()));
        }
        let read_u64 = |at: usize| LE::read_u64(fields.get(at..at + 8).unwrap_or(&[0; 8]));
        let index_offset = usize::try_from(read_u64(FOOTER_INDEX_OFFSET)).unwrap_or(usize::MAX);
        let key_count = usize::try_from(read_u64(FOOTER_KEY_COUNT)).unwrap_or(usize::MAX);
        let record_count = read_u64(FOOTER_RECORD_COUNT);
        let index_end = footer_at;
        if index_offset < HEADER_LEN || index_offset > index_end {
            return Err(corrupt(
                Some(footer_at),
                format!("index offset {index_offset} is outside the file"),
            ));
        }
        let index_len = index_end - index_offset;
        // Every key takes at least 12 bytes plus its 8-byte offset entry.
        if key_count > index_len / 20 || record_count > key_count as u64 {
            return Err(corrupt(
                Some(footer_at),
                format!("counts ({key_count} keys, {record_count} records) do not fit the index"),
            ));
        }
        let index = bytes.get(index_offset..index_end).unwrap_or(&[]);
        if crc32fast::hash(index) != LE::read_u32(fields.get(FOOTER_INDEX_CRC..).unwrap_or(&[0; 4]))
        {
            return Err(corrupt(
                Some(index_offset),
                "index checksum mismatch".into(),
            ));
        }
        let min_end = LE::read_i64(fields.get(FOOTER_MIN_END..).unwrap_or(&[0; 8]));
        let mut file = ImportFile {
            name: name.to_owned(),
            path,
            bytes,
            index_offset,
            key_count,
            record_count,
            min_end,
            version,
            // Built below, from the index.
            filter: KeyFilter::default(),
            columns: OnceLock::new(),
            samples: KeySamples::default(),
            first_key: KeyPrefix::default(),
            last_key: KeyPrefix::default(),
        };
        let mut filter = KeyFilter::with_keys(key_count);
        let mut samples = KeySamples::default();
        for i in 0..key_count {
            let (activity, id, _) = file.key_at(i)?;
            let probe = KeyProbe::of(activity, id);
            filter.insert(probe.hash);
            if i % KEY_SAMPLE_EVERY == 0 {
                samples.push(&probe.sort_key);
            }
            if i == 0 {
                file.first_key = KeyPrefix::of(&probe.sort_key);
            }
            if i + 1 == key_count {
                file.last_key = KeyPrefix::of(&probe.sort_key);
            }
        }
        file.filter = filter;
        file.samples = samples;
        file.release_pages();
        Ok(file)
    }

    /// Key `i` of the index: activity, id (checked to be UTF-8) and the
    /// offset of its record.
    fn key_at(&self, i: usize) -> Result<(&str, &str, u64), ImportFileError> {
        let (activity, id, record) = self.key_bytes_at(i)?;
        let text = |b| {
            std::str::from_utf8(b).map_err(|_| self.corrupt(None, format!("key {i} is not UTF-8")))
        };
        Ok((text(activity)?, text(id)?, record))
    }

    /// [`Self::key_at`] without the UTF-8 check, for comparisons (byte
    /// order is `str` order; `open` checked every key once).
    fn key_bytes_at(&self, i: usize) -> Result<(&[u8], &[u8], u64), ImportFileError> {
        let table = self.bytes.len() - FOOTER_LEN - self.key_count * 8;
        let at = table + i * 8;
        let off = self
            .bytes
            .get(at..at + 8)
            .map(LE::read_u64)
            .ok_or_else(|| self.corrupt(Some(at), format!("key table entry {i} out of range")))?;
        let off = usize::try_from(off)
            .ok()
            .filter(|&off| off >= self.index_offset && off < table)
            .ok_or_else(|| {
                self.corrupt(
                    Some(at),
                    format!("key {i} offset {off} is outside the index"),
                )
            })?;
        let truncated = || self.corrupt(Some(off), format!("key {i} truncated"));
        let part = |at: usize| -> Result<(&[u8], usize), ImportFileError> {
            let n = self
                .bytes
                .get(at..at + 2)
                .map(LE::read_u16)
                .ok_or_else(truncated)? as usize;
            if n > MAX_KEY_PART {
                return Err(self.corrupt(
                    Some(off),
                    format!("key {i}: a part of {n} bytes exceeds the limit of {MAX_KEY_PART}"),
                ));
            }
            let s = self.bytes.get(at + 2..at + 2 + n).ok_or_else(truncated)?;
            Ok((s, at + 2 + n))
        };
        let (activity, next) = part(off)?;
        let (id, next) = part(next)?;
        let record = self
            .bytes
            .get(next..next + 8)
            .map(LE::read_u64)
            .ok_or_else(truncated)?;
        Ok((activity, id, record))
    }

    /// Damage in this file at `offset`.
    fn corrupt(&self, offset: Option<usize>, what: String) -> ImportFileError {
        ImportFileError::corrupt(&self.path, offset.map(|o| o as u64), what)
    }

    /// The record starting at `offset` (from the index, or from
    /// [`Self::columns`]), its checksum verified.
    pub fn record(&self, offset: u64) -> Result<StoredInstance, ImportFileError> {
        let damaged = |what: String| ImportFileError::corrupt(&self.path, Some(offset), what);
        let at = usize::try_from(offset)
            .map_err(|_| damaged("record offset is outside the file".into()))?;
        let header = self
            .bytes
            .get(at..at + RECORD_HEADER_LEN)
            .ok_or_else(|| damaged("record offset is outside the file".into()))?;
        let len = LE::read_u32(header);
        if len > MAX_RECORD_LEN {
            return Err(damaged(format!(
                "record claims {len} bytes, the limit is {MAX_RECORD_LEN}"
            )));
        }
        let crc = LE::read_u32(header.get(4..).unwrap_or(&[0; 4]));
        let body_start = at + RECORD_HEADER_LEN;
        let body = self
            .bytes
            .get(body_start..body_start + len as usize)
            .filter(|_| body_start + len as usize <= self.index_offset)
            .ok_or_else(|| damaged(format!("record of {len} bytes runs past the records")))?;
        if crc32fast::hash(body) != crc {
            return Err(damaged("record checksum mismatch".into()));
        }
        if self.version == FILE_VERSION_V1 {
            return postcard::from_bytes::<StoredInstanceV1>(body)
                .map(StoredInstance::from)
                .map_err(|e| damaged(format!("record does not decode: {e}")));
        }
        postcard::from_bytes(body).map_err(|e| damaged(format!("record does not decode: {e}")))
    }

    /// Lets go of the pages a scan touched (mapped files only), so resident
    /// memory does not grow with the data read.
    pub fn release_pages(&self) {
        if let FileBytes::Mapped(map) = &self.bytes {
            crate::storage::release_pages(map);
        }
    }

    /// Finds the record whose id, or one of whose continuation tokens, is
    /// `id`.
    pub fn get(&self, activity: &str, id: &str) -> Result<Option<StoredInstance>, ImportFileError> {
        self.get_probed(activity, id, &KeyProbe::of(activity, id))
    }

    /// [`Self::get`] with the key's probe computed by the caller (once for
    /// every file it asks).
    pub fn get_probed(
        &self,
        activity: &str,
        id: &str,
        probe: &KeyProbe,
    ) -> Result<Option<StoredInstance>, ImportFileError> {
        if self.key_count == 0 {
            return Ok(None);
        }
        // Files written in ingest order often hold disjoint ranges of ids:
        // the range check rules them out before the Bloom filter costs a
        // cache miss.
        let key = probe.sort_key.as_slice();
        if self.first_key.cmp_key(key) == Ordering::Less
            || self.last_key.cmp_key(key) == Ordering::Greater
            || !self.filter.may_contain(probe.hash)
        {
            return Ok(None);
        }
        // The run of keys between the last sample at or before the key and
        // the next sample.
        let after = self.samples.at_or_before(key);
        if after == 0 {
            return Ok(None);
        }
        let lo_sample = after - 1;
        let (mut lo, mut hi) = (
            lo_sample * KEY_SAMPLE_EVERY,
            (after * KEY_SAMPLE_EVERY).min(self.key_count),
        );
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (a, i, record) = self.key_bytes_at(mid)?;
            match (a, i).cmp(&(activity.as_bytes(), id.as_bytes())) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return self.record(record).map(Some),
            }
        }
        Ok(None)
    }

    /// Every record, in (activity, id) order.
    pub fn records(&self) -> impl Iterator<Item = Result<StoredInstance, ImportFileError>> + '_ {
        self.entries().map(|e| e.map(|(_, rec)| rec))
    }

    /// Every record of `activity`, as instances (a full scan; the pages it
    /// touched are released after).
    pub fn instances_of(&self, activity: &str) -> Result<Vec<ActivityInstance>, ImportFileError> {
        let mut out = Vec::new();
        for rec in self.records() {
            let rec = rec?;
            if rec.activity == activity {
                out.push(rec.into_instance());
            }
        }
        self.release_pages();
        Ok(out)
    }

    /// Every record with the offset it starts at, in (activity, id) order.
    fn entries(&self) -> impl Iterator<Item = Result<(u64, StoredInstance), ImportFileError>> + '_ {
        let mut at = HEADER_LEN as u64;
        let end = self.index_offset as u64;
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let start = at;
            let result = self.record(at);
            match &result {
                Ok(_) => {
                    let len = self
                        .bytes
                        .get(at as usize..at as usize + 4)
                        .map(LE::read_u32)
                        .unwrap_or(0);
                    at += RECORD_HEADER_LEN as u64 + u64::from(len);
                }
                Err(_) => at = end,
            }
            Some(result.map(|rec| (start, rec)))
        })
    }

    /// The file's column projection, built by the first call (one pass over
    /// every record; the pages it touched are released after).
    pub fn columns(&self) -> Result<Arc<FileColumns>, ImportFileError> {
        self.columns
            .get_or_init(|| {
                let built = FileColumns::build(self.entries()).map(Arc::new);
                self.release_pages();
                built
            })
            .clone()
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
