//! Active runs: immutable sorted files of the bus's active (not yet
//! completed) instances, keyed by (activity, id), one written per
//! checkpoint with the nodes that changed since the last one. Why this
//! shape: the active state no longer fits in memory, so the bus keeps only
//! the changed nodes and a checkpoint writes them out (newest wins, a
//! tombstone hides older runs' values); a lookup asks the runs newest to
//! oldest, and must not read a run that cannot hold the key (Bloom filter)
//! nor more than one 4 KiB block of one that may (sparse block index);
//! opening a run reads its header and footer only, whatever it holds, and
//! everything read is checked before use (per-block CRCs, per-chunk CRCs
//! of the index and filter as in `chunks.rs`). Runs are merged now and
//! then by [`merge_runs`], streaming. Byte layout in `docs/FORMAT.md`
//! ("Active runs").
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::cmp::Ordering;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use byteorder::{ByteOrder, LittleEndian as LE};

use super::chunks::{chunk_count, ChunkChecks, CHUNK_LEN};
use super::error::ImportFileError;
use super::keys::{
    filter_positions, stored_block_may_contain, KeyFilter, KeyProbe, FILTER_BLOCK_LEN,
};
use super::sealed::SealedBytes;
use crate::storage::{read_exact_at, Access, OpenMode, Storage, StorageFile};

// Format: { magic "BAMDBRUN" | version u32 = 1 | zero u32 } block* index_entry* index_table [u64; block_count] filter [64 bytes; filter_blocks] chunk_crcs [u32; chunks] footer
// block: { len u32 | crc u32 | entry+ [len] }
// entry: { activity_len u16 | id_len u16 | activity | id | tag u8 (0 tombstone, 1 value) | value_len u32 (0 for a tombstone) | value [value_len] }
// index_entry: { block_offset u64 | activity_len u16 | id_len u16 | activity | id }   (the block's first key)
// footer (72 bytes): { entries u64 | tombstones u64 | block_count u64 | index_offset u64 | table_offset u64 | filter_offset u64 | filter_blocks u64 | crc_table u64 | zero u32 | footer_crc u32 }

/// First bytes of a run file.
pub(crate) const RUN_MAGIC: [u8; 8] = *b"BAMDBRUN";
/// Layout version written and read.
pub(crate) const RUN_VERSION: u32 = 1;
const HEADER_LEN: usize = 16;
const FOOTER_LEN: usize = 72;
/// Where the footer's `zero` field is.
const FOOTER_ZERO: usize = 64;
const BLOCK_HEADER_LEN: usize = 8;
/// A block is filled with whole entries up to this many body bytes; an
/// entry larger than that gets a block of its own.
pub(crate) const BLOCK_TARGET: usize = 4096;
/// Longest value accepted, written or read.
pub(crate) const MAX_VALUE: usize = 64 << 20;
/// Bytes of an entry besides its key and value.
const ENTRY_FIXED: usize = 2 + 2 + 1 + 4;
/// Longest entry, and so longest block body.
const MAX_BLOCK: usize = ENTRY_FIXED + 2 * u16::MAX as usize + MAX_VALUE;
/// Bytes of an index entry besides its key.
const INDEX_FIXED: usize = 8 + 2 + 2;
const TAG_TOMBSTONE: u8 = 0;
const TAG_VALUE: u8 = 1;
/// Bloom filter bits per expected key.
const FILTER_BITS_PER_KEY: u64 = 10;
/// The filter is sized for at most this many keys (1 GiB of filter would
/// be a caller's mistake; more keys only raise the false positive rate).
const FILTER_MAX_KEYS: u64 = 1 << 28;
/// The writer keeps at most this much of the index (and of its table) in
/// memory; the rest waits in a side file until the blocks are written.
/// (Under 1 MiB, like every buffer a checkpoint allocates: the memory-limit
/// tests hold the store to no allocation of 1 MiB or more.)
const SPILL_LEN: usize = 512 << 10;
/// The writer's output buffer.
const WRITE_BUF_LEN: usize = 256 << 10;

/// One entry of a run, borrowed from the file. `value: None` = tombstone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunEntry<'a> {
    pub activity: &'a str,
    pub id: &'a str,
    pub value: Option<&'a [u8]>,
}

impl<'a> RunEntry<'a> {
    fn key(&self) -> (&'a [u8], &'a [u8]) {
        (self.activity.as_bytes(), self.id.as_bytes())
    }
}

/// A [`RunEntry`] with its key not yet checked to be UTF-8.
#[derive(Debug, Clone, Copy)]
struct RawEntry<'a> {
    activity: &'a [u8],
    id: &'a [u8],
    value: Option<&'a [u8]>,
}

impl<'a> RawEntry<'a> {
    fn key(&self) -> (&'a [u8], &'a [u8]) {
        (self.activity, self.id)
    }
}

/// What was written or verified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RunSummary {
    pub entries: u64,
    pub tombstones: u64,
    pub bytes: u64,
}

/// A lookup result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found<'a> {
    Value(&'a [u8]),
    Tombstone,
}

fn key_of<'k>(activity: &'k str, id: &'k str) -> (&'k [u8], &'k [u8]) {
    (activity.as_bytes(), id.as_bytes())
}

// ---------------------------------------------------------------- writing

/// Writes run `dir/name` atomically (temp name, fsync file, rename, fsync
/// dir), streaming: memory stays bounded (a few MiB plus the Bloom filter,
/// sized from `expected_entries`, ~10 bits per key) whatever the number of
/// entries. Entries must come in strictly increasing key order: otherwise
/// an [`ImportFileError::Encode`] and no file left behind. An error item
/// from the iterator aborts the write (temp file removed) and is returned.
pub(crate) fn write_run<'a, I>(
    storage: &dyn Storage,
    dir: &Path,
    name: &str,
    expected_entries: u64,
    entries: I,
) -> Result<RunSummary, ImportFileError>
where
    I: IntoIterator<Item = Result<RunEntry<'a>, ImportFileError>>,
{
    write_run_spilling_at(storage, dir, name, expected_entries, entries, SPILL_LEN)
}

/// [`write_run`] with the index spilled to side files past `spill_at`
/// bytes (tests lower it).
pub(crate) fn write_run_spilling_at<'a, I>(
    storage: &dyn Storage,
    dir: &Path,
    name: &str,
    expected_entries: u64,
    entries: I,
    spill_at: usize,
) -> Result<RunSummary, ImportFileError>
where
    I: IntoIterator<Item = Result<RunEntry<'a>, ImportFileError>>,
{
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let side = |ext: &str| Spool::new(dir.join(format!("{name}.{ext}.tmp")), spill_at);
    let mut index = side("index");
    let mut table = side("table");
    let result = (|| {
        remove_if_there(storage, &tmp).map_err(ImportFileError::io("remove", &tmp))?;
        let file = storage
            .open_file(&tmp, OpenMode::CreateNew)
            .map_err(ImportFileError::io("create", &tmp))?;
        let mut writer = RunWriter {
            path: &path,
            out: Out::new(file.clone(), &tmp),
            block: Vec::with_capacity(BLOCK_TARGET),
            block_count: 0,
            filter: filter_for(expected_entries),
            entries: 0,
            tombstones: 0,
            prev: None,
        };
        writer.out.write(&RUN_MAGIC)?;
        writer.out.write(&RUN_VERSION.to_le_bytes())?;
        writer.out.write(&0u32.to_le_bytes())?;
        for entry in entries {
            writer.push(storage, entry?, &mut index, &mut table)?;
        }
        let bytes = writer.finish(&mut index, &mut table)?;
        file.sync_all().map_err(ImportFileError::io("sync", &tmp))?;
        Ok(RunSummary {
            entries: writer.entries,
            tombstones: writer.tombstones,
            bytes,
        })
    })();
    index.remove(storage);
    table.remove(storage);
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => {
            // A partial temp file would hold space the message box needs.
            let _ = storage.remove_file(&tmp);
            return Err(e);
        }
    };
    if let Err(e) = storage.rename(&tmp, &path) {
        let _ = storage.remove_file(&tmp);
        return Err(ImportFileError::io("rename", &tmp)(e));
    }
    storage
        .sync_dir(dir)
        .map_err(ImportFileError::io("sync", dir))?;
    Ok(summary)
}

fn remove_if_there(storage: &dyn Storage, path: &Path) -> io::Result<()> {
    match storage.remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// An empty filter of ~10 bits per expected key (at least one block).
fn filter_for(expected_entries: u64) -> KeyFilter {
    let bits = expected_entries.min(FILTER_MAX_KEYS) * FILTER_BITS_PER_KEY;
    let blocks = usize::try_from(bits.div_ceil(FILTER_BLOCK_LEN as u64 * 8))
        .unwrap_or(1)
        .max(1);
    KeyFilter {
        blocks: vec![[0; 8]; blocks],
    }
}

struct RunWriter<'p, 'a> {
    path: &'p Path,
    out: Out<'p>,
    /// The block being filled (body only).
    block: Vec<u8>,
    block_count: u64,
    filter: KeyFilter,
    entries: u64,
    tombstones: u64,
    prev: Option<(&'a str, &'a str)>,
}

impl<'a> RunWriter<'_, 'a> {
    fn refuse(&self, reason: String) -> ImportFileError {
        ImportFileError::Encode {
            path: self.path.to_path_buf(),
            what: "an active run",
            reason,
        }
    }

    fn push(
        &mut self,
        storage: &dyn Storage,
        entry: RunEntry<'a>,
        index: &mut Spool,
        table: &mut Spool,
    ) -> Result<(), ImportFileError> {
        let (a, i) = (entry.activity, entry.id);
        if a.len() > usize::from(u16::MAX) || i.len() > usize::from(u16::MAX) {
            return Err(self.refuse(format!(
                "a key part of {} bytes is longer than {}",
                a.len().max(i.len()),
                u16::MAX
            )));
        }
        let value_len = entry.value.map_or(0, <[u8]>::len);
        if value_len > MAX_VALUE {
            return Err(self.refuse(format!(
                "a value of {value_len} bytes is longer than {MAX_VALUE}"
            )));
        }
        if let Some((pa, pi)) = self.prev {
            if key_of(pa, pi) >= entry.key() {
                return Err(self.refuse(format!(
                    "keys not in strictly increasing order: ({a:?}, {i:?}) after ({pa:?}, {pi:?})"
                )));
            }
        }
        self.prev = Some((a, i));
        let len = ENTRY_FIXED + a.len() + i.len() + value_len;
        if !self.block.is_empty() && self.block.len() + len > BLOCK_TARGET {
            self.flush_block()?;
        }
        if self.block.is_empty() {
            // A new block: its first key and where it will start go to
            // the index, the index entry's place to the table.
            let rel = index.len();
            table.push(storage, &rel.to_le_bytes())?;
            let mut head = [0u8; INDEX_FIXED];
            LE::write_u64(&mut head[..8], self.out.pos());
            LE::write_u16(&mut head[8..10], a.len() as u16);
            LE::write_u16(&mut head[10..12], i.len() as u16);
            index.push(storage, &head)?;
            index.push(storage, a.as_bytes())?;
            index.push(storage, i.as_bytes())?;
        }
        self.block
            .extend_from_slice(&(a.len() as u16).to_le_bytes());
        self.block
            .extend_from_slice(&(i.len() as u16).to_le_bytes());
        self.block.extend_from_slice(a.as_bytes());
        self.block.extend_from_slice(i.as_bytes());
        match entry.value {
            Some(v) => {
                self.block.push(TAG_VALUE);
                self.block
                    .extend_from_slice(&(v.len() as u32).to_le_bytes());
                self.block.extend_from_slice(v);
            }
            None => {
                self.block.push(TAG_TOMBSTONE);
                self.block.extend_from_slice(&0u32.to_le_bytes());
                self.tombstones += 1;
            }
        }
        self.entries += 1;
        self.filter.insert(KeyProbe::of(a, i).hash);
        if self.block.len() >= BLOCK_TARGET {
            self.flush_block()?;
        }
        Ok(())
    }

    fn flush_block(&mut self) -> Result<(), ImportFileError> {
        let mut head = [0u8; BLOCK_HEADER_LEN];
        LE::write_u32(&mut head[..4], self.block.len() as u32);
        LE::write_u32(&mut head[4..], crc32fast::hash(&self.block));
        self.out.write(&head)?;
        self.out.write(&self.block)?;
        self.block.clear();
        // A big entry's block is not kept around at its size.
        if self.block.capacity() > 2 * BLOCK_TARGET {
            self.block = Vec::with_capacity(BLOCK_TARGET);
        }
        self.block_count += 1;
        Ok(())
    }

    /// Writes the last block, the index, its table, the filter, the
    /// chunk checksums and the footer; returns the file's length.
    fn finish(&mut self, index: &mut Spool, table: &mut Spool) -> Result<u64, ImportFileError> {
        if !self.block.is_empty() {
            self.flush_block()?;
        }
        let index_offset = self.out.pos();
        self.out.sums = Some(ChunkSums::default());
        index.drain_into(&mut self.out)?;
        let table_offset = self.out.pos();
        table.drain_into(&mut self.out)?;
        let filter_offset = self.out.pos();
        for block in &self.filter.blocks {
            let mut bytes = [0u8; FILTER_BLOCK_LEN];
            for (slot, word) in bytes.chunks_exact_mut(8).zip(block) {
                slot.copy_from_slice(&word.to_le_bytes());
            }
            self.out.write(&bytes)?;
        }
        let crc_table = self.out.pos();
        let sums = self.out.sums.take().unwrap_or_default().finish();
        self.out.write(&sums)?;
        let mut footer = [0u8; FOOTER_LEN];
        let fields = [
            self.entries,
            self.tombstones,
            self.block_count,
            index_offset,
            table_offset,
            filter_offset,
            self.filter.blocks.len() as u64,
            crc_table,
        ];
        for (slot, value) in footer.chunks_exact_mut(8).zip(fields) {
            slot.copy_from_slice(&value.to_le_bytes());
        }
        let crc = crc32fast::hash(&footer[..FOOTER_LEN - 4]);
        LE::write_u32(&mut footer[FOOTER_LEN - 4..], crc);
        self.out.write(&footer)?;
        self.out.flush()?;
        Ok(self.out.pos())
    }
}

/// CRC-32 of each 4 KiB chunk of a region written piece by piece (the
/// table `chunks::checksum_table` computes from the whole region).
#[derive(Default)]
struct ChunkSums {
    hasher: crc32fast::Hasher,
    in_chunk: usize,
    table: Vec<u8>,
}

impl ChunkSums {
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let take = (CHUNK_LEN - self.in_chunk).min(bytes.len());
            let (now, rest) = bytes.split_at(take);
            self.hasher.update(now);
            self.in_chunk += take;
            bytes = rest;
            if self.in_chunk == CHUNK_LEN {
                self.end_chunk();
            }
        }
    }

    fn end_chunk(&mut self) {
        let hasher = std::mem::take(&mut self.hasher);
        self.table
            .extend_from_slice(&hasher.finalize().to_le_bytes());
        self.in_chunk = 0;
    }

    fn finish(mut self) -> Vec<u8> {
        if self.in_chunk > 0 {
            self.end_chunk();
        }
        self.table
    }
}

/// The temp file being written, through a buffer; while `sums` is set,
/// what is written is also checksummed by chunk.
struct Out<'p> {
    file: Arc<dyn StorageFile>,
    path: &'p Path,
    buf: Vec<u8>,
    flushed: u64,
    sums: Option<ChunkSums>,
}

impl<'p> Out<'p> {
    fn new(file: Arc<dyn StorageFile>, path: &'p Path) -> Out<'p> {
        Out {
            file,
            path,
            buf: Vec::with_capacity(WRITE_BUF_LEN),
            flushed: 0,
            sums: None,
        }
    }

    fn pos(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ImportFileError> {
        if let Some(sums) = &mut self.sums {
            sums.feed(bytes);
        }
        if self.buf.len() + bytes.len() > WRITE_BUF_LEN {
            self.flush()?;
        }
        if bytes.len() >= WRITE_BUF_LEN {
            self.file
                .write_all_at(bytes, self.flushed)
                .map_err(ImportFileError::io("write", self.path))?;
            self.flushed += bytes.len() as u64;
        } else {
            self.buf.extend_from_slice(bytes);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ImportFileError> {
        if !self.buf.is_empty() {
            self.file
                .write_all_at(&self.buf, self.flushed)
                .map_err(ImportFileError::io("write", self.path))?;
            self.flushed += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }
}

/// Bytes written in order and read back once, in memory up to a limit
/// and in a side file past it (the index while the blocks are written).
struct Spool {
    path: PathBuf,
    spill_at: usize,
    buf: Vec<u8>,
    file: Option<Arc<dyn StorageFile>>,
    spilled: u64,
}

impl Spool {
    fn new(path: PathBuf, spill_at: usize) -> Spool {
        Spool {
            path,
            spill_at,
            buf: Vec::new(),
            file: None,
            spilled: 0,
        }
    }

    fn len(&self) -> u64 {
        self.spilled + self.buf.len() as u64
    }

    fn push(&mut self, storage: &dyn Storage, bytes: &[u8]) -> Result<(), ImportFileError> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() < self.spill_at {
            return Ok(());
        }
        let file = match &self.file {
            Some(f) => f.clone(),
            None => {
                remove_if_there(storage, &self.path)
                    .map_err(ImportFileError::io("remove", &self.path))?;
                let f = storage
                    .open_file(&self.path, OpenMode::CreateNew)
                    .map_err(ImportFileError::io("create", &self.path))?;
                self.file = Some(f.clone());
                f
            }
        };
        file.write_all_at(&self.buf, self.spilled)
            .map_err(ImportFileError::io("write", &self.path))?;
        self.spilled += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Everything pushed, in order, into `out`, a piece at a time.
    fn drain_into(&mut self, out: &mut Out<'_>) -> Result<(), ImportFileError> {
        if let Some(file) = &self.file {
            let mut piece = vec![0u8; SPILL_LEN.min(self.spilled as usize).max(1)];
            let mut at = 0u64;
            while at < self.spilled {
                let n = (self.spilled - at).min(piece.len() as u64) as usize;
                let part = piece.get_mut(..n).unwrap_or_default();
                read_exact_at(file.as_ref(), part, at)
                    .map_err(ImportFileError::io("read", &self.path))?;
                out.write(part)?;
                at += n as u64;
            }
        }
        out.write(&self.buf)?;
        self.buf = Vec::new();
        Ok(())
    }

    /// Removes the side file, if one was made.
    fn remove(&mut self, storage: &dyn Storage) {
        if self.file.take().is_some() {
            let _ = storage.remove_file(&self.path);
        }
    }
}

// ---------------------------------------------------------------- reading

/// Where everything is, from the footer (checked against each other and
/// the file length at open).
#[derive(Debug, Clone)]
struct RunLayout {
    block_count: usize,
    /// The blocks: `HEADER_LEN..index_offset`.
    index_offset: usize,
    table_offset: usize,
    filter: Range<usize>,
    crc_table: usize,
}

/// An open run file (mmap where the storage offers it, else read into
/// memory).
pub(crate) struct ActiveRun {
    pub name: String,
    pub path: PathBuf,
    pub entries: u64,
    pub tombstones: u64,
    /// The file's length.
    pub bytes: u64,
    data: SealedBytes,
    layout: RunLayout,
    /// Checks of the index, its table and the filter, each chunk once.
    checks: ChunkChecks,
}

impl std::fmt::Debug for ActiveRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveRun")
            .field("name", &self.name)
            .field("entries", &self.entries)
            .field("tombstones", &self.tombstones)
            .finish()
    }
}

/// A block's body and where the block starts.
struct Block<'a> {
    at: usize,
    body: &'a [u8],
}

impl ActiveRun {
    /// O(1) in the number of entries: header and footer checked (magic,
    /// version, footer checksum, section bounds within the file length).
    pub fn open(
        storage: &dyn Storage,
        dir: &Path,
        name: &str,
    ) -> Result<ActiveRun, ImportFileError> {
        let path = dir.join(name);
        // Runs are sealed (see `SealedBytes::open`): merges write new runs
        // and unlink the old ones. Lookups land anywhere in a run: mapped
        // with the kernel's default, each fault maps the pages around it
        // too (whole large folios on recent kernels), and the resident set
        // of a process that looks up 10,000 nodes grows to the size of the
        // run (85 MB instead of 14 MB for a 300,000-order store, measured).
        let data = SealedBytes::open(storage, &path, Access::Random)?;
        let bad = |offset: usize, what: String| {
            ImportFileError::corrupt(&path, Some(offset as u64), what)
        };
        let len = data.len();
        if len < HEADER_LEN + FOOTER_LEN {
            return Err(ImportFileError::corrupt(
                &path,
                None,
                format!("{len} bytes is too short for an active run"),
            ));
        }
        if data.get(..RUN_MAGIC.len()) != Some(&RUN_MAGIC[..]) {
            return Err(bad(0, "wrong magic: not an active run".into()));
        }
        let version = data.get(8..12).map_or(0, LE::read_u32);
        if version != RUN_VERSION {
            return Err(ImportFileError::UnsupportedVersion {
                path,
                version,
                reads: "version 1",
            });
        }
        if data.get(12..16).map_or(1, LE::read_u32) != 0 {
            return Err(bad(12, "the header's reserved field is not zero".into()));
        }
        let footer_at = len - FOOTER_LEN;
        let footer = data.get(footer_at..).unwrap_or(&[]);
        let (fields, crc) = footer.split_at(FOOTER_LEN - 4);
        if crc32fast::hash(fields) != LE::read_u32(crc) {
            return Err(bad(footer_at, "footer checksum mismatch".into()));
        }
        let field = |i: usize| fields.get(i * 8..i * 8 + 8).map_or(u64::MAX, LE::read_u64);
        let offset = |i: usize| usize::try_from(field(i)).unwrap_or(usize::MAX);
        let (entries, tombstones) = (field(0), field(1));
        let block_count = offset(2);
        let index_offset = offset(3);
        let table_offset = offset(4);
        let filter_offset = offset(5);
        let filter_blocks = offset(6);
        let crc_table = offset(7);
        if fields
            .get(FOOTER_ZERO..FOOTER_ZERO + 4)
            .map_or(1, LE::read_u32)
            != 0
        {
            return Err(bad(
                footer_at,
                "the footer's reserved field is not zero".into(),
            ));
        }
        let ordered = [
            HEADER_LEN,
            index_offset,
            table_offset,
            filter_offset,
            crc_table,
            footer_at,
        ];
        if ordered.windows(2).any(|w| matches!(w, [a, b] if a > b)) {
            return Err(bad(
                footer_at,
                "the footer's section offsets are out of order".into(),
            ));
        }
        let ends = |start: usize, count: usize, size: usize| {
            count.checked_mul(size).and_then(|n| start.checked_add(n))
        };
        if ends(table_offset, block_count, 8) != Some(filter_offset) {
            return Err(bad(
                footer_at,
                format!("an index table of {block_count} blocks does not fit"),
            ));
        }
        if filter_blocks == 0
            || ends(filter_offset, filter_blocks, FILTER_BLOCK_LEN) != Some(crc_table)
        {
            return Err(bad(
                footer_at,
                format!("a key filter of {filter_blocks} blocks does not fit"),
            ));
        }
        if ends(crc_table, chunk_count(crc_table - index_offset), 4) != Some(footer_at) {
            return Err(bad(
                footer_at,
                "the chunk checksum table does not fit".into(),
            ));
        }
        // Every count against the bytes that must hold it.
        let data_len = (index_offset - HEADER_LEN) as u64;
        let index_len = (table_offset - index_offset) as u64;
        let blocks = block_count as u64;
        let fits = tombstones <= entries
            && blocks <= entries
            && (blocks == 0) == (entries == 0)
            && (blocks == 0) == (data_len == 0)
            && (blocks == 0) == (index_len == 0)
            && blocks.saturating_mul((BLOCK_HEADER_LEN + ENTRY_FIXED) as u64) <= data_len
            && entries.saturating_mul(ENTRY_FIXED as u64) <= data_len
            && blocks.saturating_mul(INDEX_FIXED as u64) <= index_len;
        if !fits {
            return Err(bad(
                footer_at,
                format!(
                    "counts ({entries} entries, {tombstones} tombstones, {block_count} blocks) do not fit the file"
                ),
            ));
        }
        Ok(ActiveRun {
            name: name.to_owned(),
            entries,
            tombstones,
            bytes: len as u64,
            checks: ChunkChecks::new(index_offset..crc_table, crc_table),
            layout: RunLayout {
                block_count,
                index_offset,
                table_offset,
                filter: filter_offset..crc_table,
                crc_table,
            },
            data,
            path,
        })
    }

    /// Damage in this file at `offset`.
    fn corrupt(&self, offset: usize, what: impl Into<String>) -> ImportFileError {
        ImportFileError::corrupt(&self.path, Some(offset as u64), what)
    }

    /// `range` of the index, its table or the filter, its chunks verified.
    fn checked(&self, range: Range<usize>, what: &str) -> Result<&[u8], ImportFileError> {
        let start = range.start;
        if range.end > self.layout.crc_table || range.start > range.end {
            return Err(self.corrupt(start, format!("{what} runs past its section")));
        }
        let bytes = self
            .data
            .get(range.clone())
            .ok_or_else(|| self.corrupt(start, format!("{what} runs past the file")))?;
        self.checks.verify(&self.data, range).map_err(|bad| {
            self.corrupt(
                bad.offset,
                format!("checksum mismatch in the chunk holding {what}"),
            )
        })?;
        Ok(bytes)
    }

    /// Whether the filter may hold `hash` (`Err` if its block is damaged).
    fn filter_holds(&self, hash: u64) -> Result<bool, ImportFileError> {
        let blocks = self.layout.filter.len() / FILTER_BLOCK_LEN;
        let (block, _) = filter_positions(hash, blocks);
        let at = self.layout.filter.start + block * FILTER_BLOCK_LEN;
        let bytes = self.checked(at..at + FILTER_BLOCK_LEN, "the key filter")?;
        Ok(stored_block_may_contain(bytes, hash))
    }

    /// Bloom filter test (no false negatives: a damaged filter block
    /// answers `true`).
    pub fn may_contain(&self, activity: &str, id: &str) -> bool {
        self.entries > 0
            && self
                .filter_holds(KeyProbe::of(activity, id).hash)
                .unwrap_or(true)
    }

    /// Index entry `i`: where block `i` starts and its first key.
    /// Index entry `i`: its block's offset and first key, as bytes (a
    /// lookup compares bytes, which order as the strings do; the keys'
    /// UTF-8 is checked where entries are read as text).
    fn index_entry(&self, i: usize) -> Result<(usize, &[u8], &[u8]), ImportFileError> {
        let l = &self.layout;
        let slot = l.table_offset + i * 8;
        let rel = LE::read_u64(self.checked(slot..slot + 8, "the index table")?);
        let at = usize::try_from(rel)
            .ok()
            .and_then(|r| r.checked_add(l.index_offset))
            .filter(|&at| at < l.table_offset)
            .ok_or_else(|| self.corrupt(slot, format!("index entry {i} is outside the index")))?;
        if at + INDEX_FIXED > l.table_offset {
            return Err(self.corrupt(at, format!("index entry {i} is truncated")));
        }
        let head = self.checked(at..at + INDEX_FIXED, "the index")?;
        let block = usize::try_from(LE::read_u64(head)).unwrap_or(usize::MAX);
        let a_len = usize::from(head.get(8..10).map_or(0, LE::read_u16));
        let i_len = usize::from(head.get(10..12).map_or(0, LE::read_u16));
        let key_end = at + INDEX_FIXED + a_len + i_len;
        if key_end > l.table_offset {
            return Err(self.corrupt(at, format!("index entry {i} is truncated")));
        }
        if block < HEADER_LEN
            || block.saturating_add(BLOCK_HEADER_LEN + ENTRY_FIXED) > l.index_offset
        {
            return Err(self.corrupt(
                at,
                format!("index entry {i}: block offset {block} is outside the blocks"),
            ));
        }
        let key = self.checked(at + INDEX_FIXED..key_end, "the index")?;
        let (a, id) = key.split_at(a_len);
        Ok((block, a, id))
    }

    /// How many blocks start with a key at or before `key`.
    fn blocks_at_or_before(&self, key: (&[u8], &[u8])) -> Result<usize, ImportFileError> {
        let (mut lo, mut hi) = (0, self.layout.block_count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (_, a, i) = self.index_entry(mid)?;
            if (a, i) <= key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// Block `i`, its checksum checked, its first entry checked to be the
    /// index's key, and a block over the target size to hold one entry.
    fn block(&self, i: usize) -> Result<Block<'_>, ImportFileError> {
        let (at, first_a, first_i) = self.index_entry(i)?;
        let end = self.layout.index_offset;
        let head = self
            .data
            .get(at..at + BLOCK_HEADER_LEN)
            .filter(|_| at + BLOCK_HEADER_LEN <= end)
            .ok_or_else(|| self.corrupt(at, format!("block {i} is outside the blocks")))?;
        let len = LE::read_u32(head) as usize;
        let crc = head.get(4..).map_or(0, LE::read_u32);
        if !(ENTRY_FIXED..=MAX_BLOCK).contains(&len) {
            return Err(self.corrupt(at, format!("block {i} claims {len} bytes")));
        }
        let start = at + BLOCK_HEADER_LEN;
        let body = self
            .data
            .get(start..start + len)
            .filter(|_| start + len <= end)
            .ok_or_else(|| {
                self.corrupt(at, format!("block {i} of {len} bytes runs past the blocks"))
            })?;
        if crc32fast::hash(body) != crc {
            return Err(self.corrupt(at, format!("block {i} checksum mismatch")));
        }
        let block = Block { at, body };
        let (first, next) = self.raw_entry(&block, 0)?;
        if first.key() != (first_a, first_i) {
            return Err(self.corrupt(at, format!("block {i} does not start with its index key")));
        }
        if len > BLOCK_TARGET && next != len {
            return Err(self.corrupt(
                at,
                format!("block {i} of {len} bytes holds more than one entry"),
            ));
        }
        Ok(block)
    }

    /// The entry at `pos` of `block`'s body, its key checked to be UTF-8,
    /// and where the next starts.
    fn entry<'a>(
        &self,
        block: &Block<'a>,
        pos: usize,
    ) -> Result<(RunEntry<'a>, usize), ImportFileError> {
        let (raw, next) = self.raw_entry(block, pos)?;
        let text = |b| {
            std::str::from_utf8(b).map_err(|_| {
                self.corrupt(
                    block.at,
                    format!("entry at {pos} of the block: key is not UTF-8"),
                )
            })
        };
        Ok((
            RunEntry {
                activity: text(raw.activity)?,
                id: text(raw.id)?,
                value: raw.value,
            },
            next,
        ))
    }

    /// The entry at `pos` of `block`'s body with its key as bytes, and
    /// where the next starts: what a lookup compares.
    fn raw_entry<'a>(
        &self,
        block: &Block<'a>,
        pos: usize,
    ) -> Result<(RawEntry<'a>, usize), ImportFileError> {
        let body = block.body;
        let damaged =
            |what: &str| self.corrupt(block.at, format!("entry at {pos} of the block: {what}"));
        let get = |from: usize, n: usize| -> Result<&'a [u8], ImportFileError> {
            from.checked_add(n)
                .and_then(|to| body.get(from..to))
                .ok_or_else(|| damaged("runs past the block"))
        };
        let lens = get(pos, 4)?;
        let a_len = usize::from(LE::read_u16(lens));
        let i_len = usize::from(lens.get(2..).map_or(0, LE::read_u16));
        let key = get(pos + 4, a_len + i_len)?;
        let (activity, id) = key.split_at(a_len);
        let at = pos + 4 + a_len + i_len;
        let tag_len = get(at, 5)?;
        let tag = tag_len.first().copied().unwrap_or(u8::MAX);
        let value_len = tag_len.get(1..).map_or(0, LE::read_u32) as usize;
        if value_len > MAX_VALUE {
            return Err(damaged(&format!(
                "a value of {value_len} bytes is over the limit"
            )));
        }
        let value = match tag {
            TAG_VALUE => Some(get(at + 5, value_len)?),
            TAG_TOMBSTONE if value_len == 0 => None,
            TAG_TOMBSTONE => return Err(damaged("a tombstone with a value")),
            _ => return Err(damaged(&format!("unknown tag {tag}"))),
        };
        Ok((
            RawEntry {
                activity,
                id,
                value,
            },
            at + 5 + value_len,
        ))
    }

    /// Point lookup: Bloom filter, then binary search of the sparse block
    /// index, then the block (its checksum checked before use).
    pub fn get(&self, activity: &str, id: &str) -> Result<Option<Found<'_>>, ImportFileError> {
        if self.entries == 0 || !self.filter_holds(KeyProbe::of(activity, id).hash)? {
            return Ok(None);
        }
        let key = key_of(activity, id);
        let after = self.blocks_at_or_before(key)?;
        let Some(i) = after.checked_sub(1) else {
            return Ok(None);
        };
        let block = self.block(i)?;
        let mut pos = 0;
        while pos < block.body.len() {
            let (entry, next) = self.raw_entry(&block, pos)?;
            match entry.key().cmp(&key) {
                Ordering::Less => pos = next,
                Ordering::Equal => {
                    return Ok(Some(entry.value.map_or(Found::Tombstone, Found::Value)));
                }
                Ordering::Greater => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Every entry in key order.
    pub fn iter(&self) -> RunIter<'_> {
        RunIter {
            run: self,
            block: None,
            next_block: 0,
            prev: None,
            failed: None,
        }
    }

    /// Entries with key >= (activity, id), in key order (seek by the index).
    pub fn iter_from(&self, activity: &str, id: &str) -> RunIter<'_> {
        let mut it = self.iter();
        if let Err(e) = it.seek(key_of(activity, id)) {
            it.failed = Some(e);
        }
        it
    }

    /// Reads and checks everything (every block checksum, index, filter,
    /// strict key order, counts equal the footer's) — for `bamdb verify`.
    pub fn verify(&self) -> Result<RunSummary, ImportFileError> {
        let l = &self.layout;
        self.checks.verify_all(&self.data).map_err(|bad| {
            self.corrupt(
                bad.offset,
                "checksum mismatch in an index, table or filter chunk",
            )
        })?;
        // The index entries follow each other without gaps, and so do the
        // blocks they name.
        let mut index_at = l.index_offset;
        let mut block_at = HEADER_LEN;
        for i in 0..l.block_count {
            let slot = l.table_offset + i * 8;
            let rel = LE::read_u64(self.checked(slot..slot + 8, "the index table")?);
            if Some(rel) != (index_at - l.index_offset).try_into().ok() {
                return Err(self.corrupt(
                    slot,
                    format!("index entry {i} is not where the one before ends"),
                ));
            }
            let (at, a, id) = self.index_entry(i)?;
            index_at += INDEX_FIXED + a.len() + id.len();
            if at != block_at {
                return Err(self.corrupt(
                    index_at,
                    format!("block {i} is not where the one before ends"),
                ));
            }
            let block = self.block(i)?;
            block_at = block.at + BLOCK_HEADER_LEN + block.body.len();
        }
        if index_at != l.table_offset {
            return Err(self.corrupt(index_at, "bytes after the last index entry"));
        }
        if block_at != l.index_offset {
            return Err(self.corrupt(block_at, "bytes after the last block"));
        }
        let mut summary = RunSummary {
            bytes: self.bytes,
            ..RunSummary::default()
        };
        for entry in self.iter() {
            let entry = entry?;
            summary.entries += 1;
            summary.tombstones += u64::from(entry.value.is_none());
            if !self.filter_holds(KeyProbe::of(entry.activity, entry.id).hash)? {
                return Err(self.corrupt(
                    l.filter.start,
                    format!(
                        "the key filter does not hold ({:?}, {:?})",
                        entry.activity, entry.id
                    ),
                ));
            }
        }
        if summary.entries != self.entries || summary.tombstones != self.tombstones {
            return Err(self.corrupt(
                l.crc_table,
                format!(
                    "the footer counts {} entries and {} tombstones, the blocks hold {} and {}",
                    self.entries, self.tombstones, summary.entries, summary.tombstones
                ),
            ));
        }
        Ok(summary)
    }

    /// Tells the kernel the run is about to be read front to back (a
    /// merge): read ahead, map around each fault.
    pub fn read_sequentially(&self) {
        self.data.advise(Access::Sequential);
    }

    /// Drops the mapped pages from this process's resident set (madvise
    /// DONTNEED, like `ImportFile::release_pages`) after a scan.
    pub fn release_pages(&self) {
        self.data.release_pages();
    }
}

/// The entries of a run in key order, from a block on; checks that keys
/// strictly increase, and ends after an `Err`.
pub(crate) struct RunIter<'a> {
    run: &'a ActiveRun,
    /// The current block and the position of the next entry in it.
    block: Option<(Block<'a>, usize)>,
    next_block: usize,
    prev: Option<(&'a str, &'a str)>,
    /// An error to report before ending (from a seek).
    failed: Option<ImportFileError>,
}

impl<'a> RunIter<'a> {
    /// Positions the iterator at the first entry with key >= `key`.
    fn seek(&mut self, key: (&[u8], &[u8])) -> Result<(), ImportFileError> {
        let run = self.run;
        if run.layout.block_count == 0 {
            return Ok(());
        }
        let after = run.blocks_at_or_before(key)?;
        let Some(i) = after.checked_sub(1) else {
            // Before the first key: from the start.
            return Ok(());
        };
        let block = run.block(i)?;
        let mut pos = 0;
        while pos < block.body.len() {
            let (entry, next) = run.entry(&block, pos)?;
            if entry.key() >= key {
                break;
            }
            self.prev = Some((entry.activity, entry.id));
            pos = next;
        }
        self.block = Some((block, pos));
        self.next_block = i + 1;
        Ok(())
    }

    fn step(&mut self) -> Result<Option<RunEntry<'a>>, ImportFileError> {
        loop {
            if let Some((block, pos)) = &mut self.block {
                if *pos < block.body.len() {
                    let (entry, next) = self.run.entry(block, *pos)?;
                    *pos = next;
                    if let Some((pa, pi)) = self.prev {
                        if key_of(pa, pi) >= entry.key() {
                            return Err(self.run.corrupt(
                                block.at,
                                format!(
                                    "keys out of order: ({:?}, {:?}) after ({pa:?}, {pi:?})",
                                    entry.activity, entry.id
                                ),
                            ));
                        }
                    }
                    self.prev = Some((entry.activity, entry.id));
                    return Ok(Some(entry));
                }
            }
            if self.next_block >= self.run.layout.block_count {
                self.block = None;
                return Ok(None);
            }
            self.block = Some((self.run.block(self.next_block)?, 0));
            self.next_block += 1;
        }
    }
}

impl<'a> Iterator for RunIter<'a> {
    type Item = Result<RunEntry<'a>, ImportFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            self.block = None;
            self.next_block = usize::MAX;
            return Some(Err(e));
        }
        match self.step() {
            Ok(entry) => entry.map(Ok),
            Err(e) => {
                self.block = None;
                self.next_block = usize::MAX;
                Some(Err(e))
            }
        }
    }
}

// ---------------------------------------------------------------- merging

/// Newest-wins k-way merge of runs (`runs` oldest first): each key once,
/// with the entry of the newest run that holds it, tombstones included
/// (the caller decides whether to drop them). Streaming, O(runs) memory.
pub(crate) fn merge_runs(runs: &[Arc<ActiveRun>]) -> MergedRuns<'_> {
    MergedRuns::new(runs.iter().map(|r| r.iter()).collect())
}

/// [`merge_runs`] of the entries with key >= (activity, id).
pub(crate) fn merge_runs_from<'a>(
    runs: &'a [Arc<ActiveRun>],
    activity: &str,
    id: &str,
) -> MergedRuns<'a> {
    MergedRuns::new(runs.iter().map(|r| r.iter_from(activity, id)).collect())
}

/// The merge of [`merge_runs`]: one iterator and its next entry per run.
pub(crate) struct MergedRuns<'a> {
    /// Oldest first, like the runs.
    iters: Vec<RunIter<'a>>,
    heads: Vec<Option<RunEntry<'a>>>,
    started: bool,
    done: bool,
    /// An error met while advancing past the entry just returned.
    failed: Option<ImportFileError>,
}

impl<'a> MergedRuns<'a> {
    fn new(iters: Vec<RunIter<'a>>) -> MergedRuns<'a> {
        let heads = vec![None; iters.len()];
        MergedRuns {
            iters,
            heads,
            started: false,
            done: false,
            failed: None,
        }
    }

    /// Refills head `i` from its run.
    fn advance(&mut self, i: usize) -> Result<(), ImportFileError> {
        if let (Some(it), Some(head)) = (self.iters.get_mut(i), self.heads.get_mut(i)) {
            *head = it.next().transpose()?;
        }
        Ok(())
    }

    fn step(&mut self) -> Result<Option<RunEntry<'a>>, ImportFileError> {
        if !self.started {
            self.started = true;
            for i in 0..self.iters.len() {
                self.advance(i)?;
            }
        }
        // The smallest key; among equal keys the newest run's entry (the
        // last one, as runs are oldest first).
        let mut best: Option<RunEntry<'a>> = None;
        for e in self.heads.iter().flatten() {
            if best.is_none_or(|b| e.key() <= b.key()) {
                best = Some(*e);
            }
        }
        let Some(best) = best else {
            return Ok(None);
        };
        for i in 0..self.heads.len() {
            let same = self
                .heads
                .get(i)
                .copied()
                .flatten()
                .is_some_and(|e| e.key() == best.key());
            if same {
                if let Err(e) = self.advance(i) {
                    self.failed = Some(e);
                    break;
                }
            }
        }
        Ok(Some(best))
    }
}

impl<'a> Iterator for MergedRuns<'a> {
    type Item = Result<RunEntry<'a>, ImportFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(e) = self.failed.take() {
            self.done = true;
            return Some(Err(e));
        }
        match self.step() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
#[path = "active_run_tests.rs"]
mod tests;
