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
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use byteorder::{ByteOrder, LittleEndian as LE};

use super::chunks::ChunkChecks;
use super::columns::{ActivityColumns, Column, ColumnId, FileColumns, RecordOffsets};
use super::compact::{decode_names, decode_record, DecodedRecord, FileNames};
use super::compress::Decompressor;
use super::error::ImportFileError;
use super::keys::{
    stored_block_may_contain, KeyFilter, KeyPrefix, KeyProbe, KeySamples, FILTER_BLOCK_LEN,
    KEY_SAMPLE_EVERY,
};
use super::layout::{
    self, has_sections, Layout, FILE_MAGIC, FILE_VERSION, FILE_VERSION_V1, FILE_VERSION_V2,
    FILE_VERSION_V3, HEADER_LEN,
};
use super::record::{StoredInstance, StoredInstanceV1};
use super::sealed::SealedBytes;
use super::stored_columns;
use crate::model::ActivityInstance;
use crate::storage::{Access, Storage};

pub(crate) use super::write::write_import_file;

// Format (record): { len u32 | crc u32 | body [len] }, the body (zstd with the file's dictionary, if it has one) postcard(StoredInstance) before version 4, the compact form of `compact.rs` from 4

const RECORD_HEADER_LEN: usize = 8;
/// No record may claim more than this.
const MAX_RECORD_LEN: u32 = 64 << 20;
/// The first query that evaluates at most one row in this many of an
/// activity decodes only those rows of the columns not decoded yet (see
/// [`ImportFile::activity_columns`]); more, or a later query, and the
/// whole columns are decoded and kept for the queries after it.
const PARTIAL_DECODE_SHARE: usize = 4;
/// Longest activity name or id in an index key, in bytes.
const MAX_KEY_PART: usize = 4 * crate::model::MAX_NAME_LEN;

/// The key filter and the key samples: stored in the file (version 3), or
/// built from the index at open (older versions) in the same form.
enum KeySections {
    InFile,
    Built { filter: Vec<u8>, samples: Vec<u8> },
}

/// One activity's stored columns decoded so far.
#[derive(Default)]
struct Decoded {
    offsets: Option<Arc<RecordOffsets>>,
    columns: HashMap<ColumnKey, Arc<Column>>,
    /// Columns a query has read some rows of (decoded for it alone).
    read_in_part: HashSet<ColumnKey>,
}

/// [`ColumnId`], owned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ColumnKey {
    Begin,
    End,
    LastModified,
    Item(String),
}

impl ColumnKey {
    fn of(id: &ColumnId<'_>) -> ColumnKey {
        match id {
            ColumnId::Begin => ColumnKey::Begin,
            ColumnId::End => ColumnKey::End,
            ColumnId::LastModified => ColumnKey::LastModified,
            ColumnId::Item(name) => ColumnKey::Item((*name).to_owned()),
        }
    }
}

/// An open, verified import file.
pub(crate) struct ImportFile {
    pub name: String,
    pub path: PathBuf,
    bytes: SealedBytes,
    layout: Layout,
    pub record_count: u64,
    /// The earliest completion time in the file (µs; `i64::MAX` if none):
    /// retention skips files that hold nothing old enough.
    pub min_end: i64,
    /// Checks of the index and the sections after it (version 3), each
    /// chunk once, when a read first touches it.
    checks: ChunkChecks,
    /// Where the key filter and the key samples are: a lookup of a key
    /// that is not there (every new instance the bus checks) usually
    /// touches one filter block and none of the index pages.
    keys: KeySections,
    /// The whole column projection, once asked for (older versions, and
    /// `verify`).
    columns: OnceLock<Result<Arc<FileColumns>, ImportFileError>>,
    /// The records' decompressor (version 3 files with a dictionary),
    /// made from the dictionary at the first record read.
    decompressor: OnceLock<Result<Option<Decompressor>, ImportFileError>>,
    /// The activity and item names keys and records refer to (version
    /// 4), once read.
    names: OnceLock<Result<FileNames, ImportFileError>>,
    /// The column directory (version 3), once read.
    directory: OnceLock<Result<Option<Arc<stored_columns::Directory>>, ImportFileError>>,
    /// The stored columns decoded so far, by activity (version 3): a
    /// query decodes only the columns it reads, each once per open file.
    decoded: Mutex<HashMap<String, Decoded>>,
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
        // Import files are sealed: see `SealedBytes::open`.
        let bytes = SealedBytes::open(storage, &path, Access::Normal)?;
        if bytes.get(..FILE_MAGIC.len()) != Some(&FILE_MAGIC[..]) {
            return Err(corrupt(Some(0), "wrong magic: not an import file".into()));
        }
        let version = bytes.get(8..12).map(LE::read_u32).unwrap_or(0);
        if ![
            FILE_VERSION,
            FILE_VERSION_V3,
            FILE_VERSION_V2,
            FILE_VERSION_V1,
        ]
        .contains(&version)
        {
            return Err(ImportFileError::UnsupportedVersion {
                path: path.clone(),
                version,
                reads: "versions 1 to 4",
            });
        }
        let layout = layout::read(&bytes, version).map_err(|(at, what)| corrupt(at, what))?;
        let stored_keys = has_sections(version);
        if !stored_keys {
            let index = bytes
                .get(layout.index_offset..layout.footer_at)
                .unwrap_or(&[]);
            if crc32fast::hash(index) != layout.index_crc {
                return Err(corrupt(
                    Some(layout.index_offset),
                    "index checksum mismatch".into(),
                ));
            }
        }
        let mut file = ImportFile {
            name: name.to_owned(),
            path,
            bytes,
            record_count: layout.record_count,
            min_end: layout.min_end,
            checks: ChunkChecks::new(layout.checked.clone(), layout.crc_table),
            layout,
            keys: KeySections::InFile,
            columns: OnceLock::new(),
            decompressor: OnceLock::new(),
            names: OnceLock::new(),
            directory: OnceLock::new(),
            decoded: Mutex::new(HashMap::new()),
            first_key: KeyPrefix::default(),
            last_key: KeyPrefix::default(),
        };
        if stored_keys {
            // Everything a lookup needs to rule the file out is in the
            // footer: opening touches two pages, whatever the file holds.
            file.first_key = file.layout.first_key.clone();
            file.last_key = file.layout.last_key.clone();
            return Ok(file);
        }
        file.build_key_sections()?;
        file.release_pages();
        Ok(file)
    }

    /// For files that do not store them (versions 1 and 2): the key filter
    /// and samples, built from the index in their stored form, and the
    /// first and last keys' prefixes. O(keys), once per open; every key is
    /// checked to be UTF-8 on the way.
    fn build_key_sections(&mut self) -> Result<(), ImportFileError> {
        let key_count = self.layout.key_count;
        let mut filter = KeyFilter::with_keys(key_count);
        let mut samples = KeySamples::default();
        for i in 0..key_count {
            let (activity, id, _) = self.key_at(i)?;
            let probe = KeyProbe::of(activity, id);
            filter.insert(probe.hash);
            if i % KEY_SAMPLE_EVERY == 0 {
                samples.push(&probe.sort_key);
            }
            if i == 0 {
                self.first_key = KeyPrefix::of(&probe.sort_key);
            }
            if i + 1 == key_count {
                self.last_key = KeyPrefix::of(&probe.sort_key);
            }
        }
        self.layout.sample_count = samples.len();
        self.keys = KeySections::Built {
            filter: filter.to_bytes(),
            samples: samples.to_bytes(),
        };
        Ok(())
    }

    /// `range` of the file's bytes, its chunks verified (the index and the
    /// sections after it, in version-3 files; older files verified their
    /// index at open).
    fn checked(&self, range: Range<usize>, what: &str) -> Result<&[u8], ImportFileError> {
        let bytes = self
            .bytes
            .get(range.clone())
            .ok_or_else(|| self.corrupt(Some(range.start), format!("{what} runs past the file")))?;
        self.checks.verify(&self.bytes, range).map_err(|bad| {
            self.corrupt(
                Some(bad.offset),
                format!("checksum mismatch in the chunk holding {what}"),
            )
        })?;
        Ok(bytes)
    }

    /// Bytes `range` of the key filter or the samples (`filter` says
    /// which), wherever they are kept.
    fn key_section(&self, filter: bool, range: Range<usize>) -> Result<&[u8], ImportFileError> {
        let what = if filter {
            "the key filter"
        } else {
            "the key samples"
        };
        match &self.keys {
            KeySections::Built { filter: f, samples } => {
                let section = if filter { f } else { samples };
                section
                    .get(range)
                    .ok_or_else(|| self.corrupt(None, format!("{what} is short")))
            }
            KeySections::InFile => {
                let base = if filter {
                    self.layout.filter.clone()
                } else {
                    self.layout.samples.clone()
                };
                let (start, end) = (base.start + range.start, base.start + range.end);
                if end > base.end {
                    return Err(self.corrupt(Some(start), format!("{what} is short")));
                }
                self.checked(start..end, what)
            }
        }
    }

    /// Whether the key filter may hold `hash`.
    fn filter_may_contain(&self, hash: u64) -> Result<bool, ImportFileError> {
        let blocks = match &self.keys {
            KeySections::Built { filter, .. } => filter.len() / FILTER_BLOCK_LEN,
            KeySections::InFile => self.layout.filter.len() / FILTER_BLOCK_LEN,
        };
        let (block, _) = super::keys::filter_positions(hash, blocks);
        let at = block * FILTER_BLOCK_LEN;
        let bytes = self.key_section(true, at..at + FILTER_BLOCK_LEN)?;
        Ok(stored_block_may_contain(bytes, hash))
    }

    /// Sample `i` (the sort key of index key `i * KEY_SAMPLE_EVERY`).
    fn sample(&self, i: usize) -> Result<&[u8], ImportFileError> {
        let end_of = |j: usize| -> Result<usize, ImportFileError> {
            Ok(LE::read_u32(self.key_section(false, j * 4..j * 4 + 4)?) as usize)
        };
        let start = if i == 0 { 0 } else { end_of(i - 1)? };
        let end = end_of(i)?;
        if end < start {
            return Err(self.corrupt(None, format!("key sample {i} ends before it starts")));
        }
        let base = self.layout.sample_count * 4;
        self.key_section(false, base + start..base + end)
    }

    /// How many samples sort at or before `key`.
    fn samples_at_or_before(&self, key: &[u8]) -> Result<usize, ImportFileError> {
        let (mut lo, mut hi) = (0, self.layout.sample_count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.sample(mid)? <= key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
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
    /// order is `str` order; the writer wrote strings, and the bytes are
    /// checksummed).
    fn key_bytes_at(&self, i: usize) -> Result<(&[u8], &[u8], u64), ImportFileError> {
        let table = self.layout.key_table;
        let width = self.layout.offset_width;
        let at = table + i * width;
        let off = self
            .checked(at..at + width, "the key table")
            .map(|b| LE::read_uint(b, width))
            .map_err(|_| {
                self.corrupt(
                    Some(at),
                    format!("key table entry {i} is damaged or out of range"),
                )
            })?;
        let off = usize::try_from(off)
            .ok()
            .filter(|&off| off >= self.layout.index_offset && off < table)
            .ok_or_else(|| {
                self.corrupt(
                    Some(at),
                    format!("key {i} offset {off} is outside the index"),
                )
            })?;
        let part = |at: usize| -> Result<(&[u8], usize), ImportFileError> {
            let n = LE::read_u16(self.checked(at..at + 2, "a key")?) as usize;
            if n > MAX_KEY_PART {
                return Err(self.corrupt(
                    Some(off),
                    format!("key {i}: a part of {n} bytes exceeds the limit of {MAX_KEY_PART}"),
                ));
            }
            if at + 2 + n > table {
                return Err(self.corrupt(Some(off), format!("key {i} truncated")));
            }
            Ok((self.checked(at + 2..at + 2 + n, "a key")?, at + 2 + n))
        };
        // Version 4 keys do not repeat the activity: the name table says
        // where each activity's keys start.
        let (activity, next) = if self.layout.version >= FILE_VERSION {
            let activity = self
                .names()?
                .activity_of(i)
                .ok_or_else(|| self.corrupt(Some(off), format!("key {i} has no activity")))?;
            (activity.as_bytes(), off)
        } else {
            part(off)?
        };
        let (id, next) = part(next)?;
        if next + width > table {
            return Err(self.corrupt(Some(off), format!("key {i} truncated")));
        }
        let record = LE::read_uint(self.checked(next..next + width, "a key")?, width);
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
            .filter(|_| body_start + len as usize <= self.layout.index_offset)
            .ok_or_else(|| damaged(format!("record of {len} bytes runs past the records")))?;
        if crc32fast::hash(body) != crc {
            return Err(damaged("record checksum mismatch".into()));
        }
        if self.layout.version == FILE_VERSION_V1 {
            return postcard::from_bytes::<StoredInstanceV1>(body)
                .map(StoredInstance::from)
                .map_err(|e| damaged(format!("record does not decode: {e}")));
        }
        let decompressed;
        let body = match self.decompressor()? {
            Some(d) => {
                decompressed = d
                    .decompress(body, MAX_RECORD_LEN as usize)
                    .map_err(&damaged)?;
                &decompressed[..]
            }
            None => body,
        };
        if self.layout.version < FILE_VERSION {
            return postcard::from_bytes(body)
                .map_err(|e| damaged(format!("record does not decode: {e}")));
        }
        let DecodedRecord { key, mut record } =
            decode_record(body, &self.names()?.items).map_err(&damaged)?;
        let key = usize::try_from(key)
            .ok()
            .filter(|&k| k < self.layout.key_count)
            .ok_or_else(|| {
                damaged(format!(
                    "record names key {key}, the index holds {}",
                    self.layout.key_count
                ))
            })?;
        let (activity, id, _) = self.key_at(key)?;
        record.activity = activity.to_owned();
        record.id = id.to_owned();
        Ok(record)
    }

    /// The names keys and records refer to (version 4), read at the
    /// first key or record read.
    fn names(&self) -> Result<&FileNames, ImportFileError> {
        let read = self.names.get_or_init(|| {
            let bytes = self.checked(self.layout.names.clone(), "the name table")?;
            decode_names(bytes, self.layout.key_count)
                .map_err(|what| self.corrupt(Some(self.layout.names.start), what))
        });
        match read {
            Ok(names) => Ok(names),
            Err(e) => Err(e.clone()),
        }
    }

    /// The records' decompressor, if the file's records are compressed.
    fn decompressor(&self) -> Result<Option<&Decompressor>, ImportFileError> {
        let made = self.decompressor.get_or_init(|| {
            if self.layout.dictionary.is_empty() {
                return Ok(None);
            }
            let at = self.layout.dictionary.start;
            let bytes = self.checked(self.layout.dictionary.clone(), "the dictionary")?;
            Decompressor::new(bytes).map(Some).ok_or_else(|| {
                self.corrupt(Some(at), "the records' dictionary does not load".into())
            })
        });
        match made {
            Ok(d) => Ok(d.as_ref()),
            Err(e) => Err(e.clone()),
        }
    }

    /// Lets go of the pages a scan touched (mapped files only), so resident
    /// memory does not grow with the data read.
    pub fn release_pages(&self) {
        self.bytes.release_pages();
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
        if self.layout.key_count == 0 {
            return Ok(None);
        }
        // Files written in ingest order often hold disjoint ranges of ids:
        // the range check rules them out before the Bloom filter costs a
        // cache miss.
        let key = probe.sort_key.as_slice();
        if self.first_key.cmp_key(key) == Ordering::Less
            || self.last_key.cmp_key(key) == Ordering::Greater
            || !self.filter_may_contain(probe.hash)?
        {
            return Ok(None);
        }
        // The run of keys between the last sample at or before the key and
        // the next sample.
        let after = self.samples_at_or_before(key)?;
        if after == 0 {
            return Ok(None);
        }
        let lo_sample = after - 1;
        let (mut lo, mut hi) = (
            lo_sample * KEY_SAMPLE_EVERY,
            (after * KEY_SAMPLE_EVERY).min(self.layout.key_count),
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
        self.for_each_record_of(activity, |rec| out.push(rec.into_instance()))?;
        Ok(out)
    }

    /// Hands every record of `activity` to `visit`, one at a time (a full
    /// scan; memory holds one record; the pages it touched are released
    /// after).
    pub fn for_each_record_of(
        &self,
        activity: &str,
        mut visit: impl FnMut(StoredInstance),
    ) -> Result<(), ImportFileError> {
        for rec in self.records() {
            let rec = rec?;
            if rec.activity == activity {
                visit(rec);
            }
        }
        self.release_pages();
        Ok(())
    }

    /// Every record with the offset it starts at, in (activity, id) order.
    fn entries(&self) -> impl Iterator<Item = Result<(u64, StoredInstance), ImportFileError>> + '_ {
        let mut at = HEADER_LEN as u64;
        let end = self.layout.index_offset as u64;
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

    /// The file's column projection, read by the first call from the file
    /// (version 3) or built from its records (older versions; one pass
    /// that decodes every record, the pages it touched released after).
    pub fn columns(&self) -> Result<Arc<FileColumns>, ImportFileError> {
        self.columns
            .get_or_init(|| {
                if has_sections(self.layout.version) {
                    let section = self.checked(self.layout.columns.clone(), "the columns")?;
                    let decoded =
                        stored_columns::decode(section, self.layout.version, self.record_count)
                            .map_err(|what| self.corrupt(Some(self.layout.columns.start), what));
                    return decoded.map(Arc::new);
                }
                let built = FileColumns::build(self.entries()).map(Arc::new);
                self.release_pages();
                built
            })
            .clone()
    }

    /// The column section's directory (activities, their row counts and
    /// each column's value range), read once without decoding any column:
    /// `None` for files older than version 3, which do not store one.
    pub fn column_directory(
        &self,
    ) -> Result<Option<Arc<stored_columns::Directory>>, ImportFileError> {
        self.directory
            .get_or_init(|| {
                if !has_sections(self.layout.version) {
                    return Ok(None);
                }
                let (bytes, _) = self.column_section_parts()?;
                stored_columns::decode_directory(bytes, self.layout.version, self.record_count)
                    .map(|(dir, _)| Some(Arc::new(dir)))
                    .map_err(|what| self.corrupt(Some(self.layout.columns.start), what))
            })
            .clone()
    }

    /// The column section's directory bytes (with their length prefix)
    /// and where the column data after them starts; only the directory's
    /// chunks are checked here.
    fn column_section_parts(&self) -> Result<(&[u8], usize), ImportFileError> {
        let start = self.layout.columns.start;
        let dir_len = LE::read_u32(self.checked(start..start + 4, "the column directory")?);
        let data = start + 4 + dir_len as usize;
        if data > self.layout.columns.end {
            return Err(self.corrupt(
                Some(start),
                "the column directory runs past its section".into(),
            ));
        }
        Ok((self.checked(start..data, "the column directory")?, data))
    }

    /// The columns of `activity` a query reads (`wanted`), decoded from
    /// the file once and kept; every other column of the activity is
    /// [`Column::Unavailable`], so a query that reads one it did not ask
    /// for falls back to the records instead of seeing it unset. `None`
    /// when the file holds no instance of `activity`.
    ///
    /// The first query that evaluates only some rows of a column (`runs`:
    /// the blocks its value ranges keep, ascending), at most a quarter of
    /// them, gets the column with those rows only (every other row
    /// unset), decoded for it and not kept: a one-off narrow window does
    /// not unpack, nor keep in memory, the rest of the column. A later
    /// query decodes the column whole and keeps it (repeated windows are
    /// cheaper over a kept column than re-decoding their blocks). Columns
    /// decoded in part are good for the rows in `runs` alone.
    pub fn activity_columns(
        &self,
        activity: &str,
        wanted: &[ColumnId<'_>],
        runs: Option<&[Range<usize>]>,
    ) -> Result<Option<ActivityColumns>, ImportFileError> {
        let Some(dir) = self.column_directory()? else {
            // Older files: the whole projection, built from the records.
            return Ok(self.columns()?.activities.get(activity).cloned());
        };
        let Some(act) = dir.activities.iter().find(|a| a.name == activity) else {
            return Ok(None);
        };
        let (_, data_start) = self.column_section_parts()?;
        let data_end = self.layout.columns.end;
        // The column data `r` names, its chunks checked.
        let bytes_of = |r: &stored_columns::ColumnRef| -> Result<&[u8], ImportFileError> {
            let start = usize::try_from(r.at)
                .ok()
                .and_then(|at| data_start.checked_add(at));
            let end = start
                .zip(usize::try_from(r.len).ok())
                .and_then(|(s, l)| s.checked_add(l));
            match start.zip(end) {
                Some((start, end)) if end <= data_end => self.checked(start..end, "a column"),
                _ => Err(self.corrupt(
                    Some(self.layout.columns.start),
                    format!(
                        "{activity}: a column at {} of {} bytes runs past its section",
                        r.at, r.len
                    ),
                )),
            }
        };
        let damaged = |what: String| {
            self.corrupt(
                Some(self.layout.columns.start),
                format!("{activity}: {what}"),
            )
        };
        let mut decoded = self.decoded.lock().unwrap_or_else(|p| p.into_inner());
        let cache = decoded.entry(activity.to_owned()).or_default();
        let offsets = match &cache.offsets {
            Some(o) => o.clone(),
            None => {
                let o = stored_columns::decode_offsets(bytes_of(&act.offsets)?, act.rows as usize)
                    .map(Arc::new)
                    .map_err(damaged)?;
                cache.offsets = Some(o.clone());
                o
            }
        };
        // Decode only the runs' rows when they are a small share.
        let partial = runs.filter(|runs| {
            let kept: usize = runs.iter().map(|r| r.len()).sum();
            kept <= act.rows as usize / PARTIAL_DECODE_SHARE
        });
        let unavailable = Arc::new(Column::Unavailable);
        let mut column = |id: ColumnId<'_>,
                          r: &stored_columns::ColumnRef|
         -> Result<Arc<Column>, ImportFileError> {
            if !wanted.contains(&id) {
                return Ok(unavailable.clone());
            }
            let key = ColumnKey::of(&id);
            if let Some(c) = cache.columns.get(&key) {
                return Ok(c.clone());
            }
            // Only the first time: the next query that reads the column
            // decodes it whole and keeps it (measured: re-decoding a
            // window's blocks for each query costs more than evaluating
            // the window over a kept column).
            let partial = partial.filter(|_| cache.read_in_part.insert(key.clone()));
            let c = stored_columns::decode_column_rows(bytes_of(r)?, act.rows as usize, partial)
                .map(Arc::new)
                .map_err(|what| damaged(format!("column at {}: {what}", r.at)))?;
            if partial.is_none() {
                cache.columns.insert(key, c.clone());
            }
            Ok(c)
        };
        let begin = column(ColumnId::Begin, &act.begin)?;
        let end = column(ColumnId::End, &act.end)?;
        let last_modified = column(ColumnId::LastModified, &act.last_modified)?;
        let mut items = HashMap::with_capacity(act.items.len());
        for (name, r) in &act.items {
            items.insert(name.clone(), column(ColumnId::Item(name), r)?);
        }
        Ok(Some(ActivityColumns {
            offsets,
            begin,
            end,
            last_modified,
            items,
        }))
    }

    /// The `verify` command's full check of what a reader uses besides
    /// the records: every checksummed chunk of the index and the sections
    /// (version 3; older files checked their index at open), and the
    /// stored column projection against one built from the records.
    pub fn verify_sections(&self) -> Result<(), ImportFileError> {
        self.checks.verify_all(&self.bytes).map_err(|bad| {
            self.corrupt(
                Some(bad.offset),
                "checksum mismatch in an index or section chunk".into(),
            )
        })?;
        if !has_sections(self.layout.version) {
            return Ok(());
        }
        let stored = self.columns()?;
        let built = FileColumns::build(self.entries())?;
        self.release_pages();
        if !stored.same_as(&built) {
            return Err(self.corrupt(
                Some(self.layout.columns.start),
                "the stored columns disagree with the records".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
