//! Where everything is in an import file: the header, and the footer of
//! each layout version, read and checked in O(1) (offsets and counts
//! against each other and the file size; nothing proportional to the
//! records). Byte layout in `docs/FORMAT.md` ("Import file").
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::ops::Range;

use byteorder::{ByteOrder, LittleEndian as LE};

use super::chunks::chunk_count;
use super::keys::{KeyPrefix, FILTER_BLOCK_LEN, KEY_SAMPLE_EVERY};

/// First bytes of an import file.
pub(crate) const FILE_MAGIC: [u8; 8] = *b"BAMDBSEG";
/// Layout version written by this code: 4 has version 3's sections and
/// footer, with compact records and per-block column ranges (see
/// `docs/FORMAT.md`).
pub(crate) const FILE_VERSION: u32 = 4;
/// Version 3 stores the key filter, the key samples and the column
/// projection with the file, under per-chunk checksums.
pub(crate) const FILE_VERSION_V3: u32 = 3;
/// Version 2: records with parts; key structures built at open.
pub(crate) const FILE_VERSION_V2: u32 = 2;
/// Version 1: records without parts.
pub(crate) const FILE_VERSION_V1: u32 = 1;
// Format: { magic [u8; 8] | version u32 | reserved u32 }
pub(crate) const HEADER_LEN: usize = 16;

// Format (footer, versions 1 and 2, 48 bytes): { index_offset u64 | key_count u64 | record_count u64 | min_end i64 | max_end i64 | index_crc u32 | footer_crc u32 }
pub(crate) const V2_FOOTER_LEN: usize = 48;
// Format (footer, versions 3 and 4, 208 bytes): { index_offset u64 | key_count u64 | record_count u64 | min_end i64 | max_end i64 | key_table u64 | filter_offset u64 | filter_blocks u64 | samples_offset u64 | sample_count u64 | columns_offset u64 | dictionary_offset u64 | crc_table u64 | first_key_len u8 | first_key [u8; 46] | last_key_len u8 | last_key [u8; 46] | offset_width u8 (version 3: 0) | zero u8 | names_len u32 (version 3: 0) | footer_crc u32 }
pub(crate) const V3_FOOTER_LEN: usize = 208;
/// Where the first and last keys' prefixes start in a version-3 footer.
const V3_FIRST_KEY: usize = 104;
const V3_LAST_KEY: usize = V3_FIRST_KEY + 1 + KeyPrefix::LEN;
/// Where a version-4 footer holds the length of the item-name table, and
/// the width of the offsets in the key table and the keys.
const V4_NAMES_LEN: usize = V3_FOOTER_LEN - 8;
const V4_OFFSET_WIDTH: usize = V3_LAST_KEY + 1 + KeyPrefix::LEN;

/// Before version 4 an index key table entry is 8 bytes and a key at
/// least 12; from version 4 both hold offsets of `offset_width` bytes (4
/// when the file's index ends below 4 GiB, else 8) and a key is at least
/// `2 + offset_width` (it does not hold the activity).
const KEY_TABLE_ENTRY: usize = 8;
const MIN_KEY_LEN: usize = 12;

/// A file's parts, as byte offsets into it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    pub version: u32,
    /// Records: `HEADER_LEN..index_offset`.
    pub index_offset: usize,
    pub key_count: usize,
    pub record_count: u64,
    pub min_end: i64,
    pub max_end: i64,
    /// The key table `[offset; key_count]`.
    pub key_table: usize,
    /// Bytes of an offset in the key table and in a key: 8 before version
    /// 4; 4 or 8 from version 4.
    pub offset_width: usize,
    /// Version 3 only (empty ranges before): the key filter's blocks,
    /// the samples (`[u32; sample_count]` ends then bytes), the column
    /// section, and the region under chunk checksums with its table.
    pub filter: Range<usize>,
    pub samples: Range<usize>,
    pub sample_count: usize,
    pub columns: Range<usize>,
    /// Version 4: the table of item names records refer to by position
    /// (between the columns and the dictionary; empty before).
    pub names: Range<usize>,
    /// The records' compression dictionary (empty: records are stored
    /// uncompressed).
    pub dictionary: Range<usize>,
    pub checked: Range<usize>,
    pub crc_table: usize,
    /// Version 3: prefixes of the first and last keys' sort keys, so that
    /// opening a file reads no index page (older files: read from the
    /// index at open).
    pub first_key: KeyPrefix,
    pub last_key: KeyPrefix,
    /// Versions 1 and 2: the checksum over the whole index.
    pub index_crc: u32,
    /// Where the footer starts.
    pub footer_at: usize,
}

/// Whether files of `version` store their key structures and columns
/// (version 3 on) rather than having them built at open.
pub(crate) fn has_sections(version: u32) -> bool {
    version >= FILE_VERSION_V3
}

/// What is wrong, and where.
pub(crate) type Bad = (Option<usize>, String);

/// Reads the layout of `bytes` (the whole file) whose version is
/// `version` (already checked to be one this code reads).
pub(crate) fn read(bytes: &[u8], version: u32) -> Result<Layout, Bad> {
    let footer_len = if has_sections(version) {
        V3_FOOTER_LEN
    } else {
        V2_FOOTER_LEN
    };
    let len = bytes.len();
    if len < HEADER_LEN + footer_len {
        return Err((None, format!("{len} bytes is too short for an import file")));
    }
    let footer_at = len - footer_len;
    let footer = bytes.get(footer_at..).unwrap_or(&[]);
    let (fields, crc) = footer.split_at(footer_len - 4);
    if crc32fast::hash(fields) != LE::read_u32(crc) {
        return Err((Some(footer_at), "footer checksum mismatch".into()));
    }
    let field = |i: usize| LE::read_u64(fields.get(i * 8..i * 8 + 8).unwrap_or(&[0; 8]));
    let offset = |i: usize| usize::try_from(field(i)).unwrap_or(usize::MAX);
    let bad = |what: String| Err((Some(footer_at), what));
    let mut layout = Layout {
        version,
        offset_width: KEY_TABLE_ENTRY,
        index_offset: offset(0),
        key_count: offset(1),
        record_count: field(2),
        min_end: field(3) as i64,
        max_end: field(4) as i64,
        footer_at,
        ..Layout::default()
    };
    if layout.index_offset < HEADER_LEN || layout.index_offset > footer_at {
        return bad(format!(
            "index offset {} is outside the file",
            layout.index_offset
        ));
    }
    if !has_sections(version) {
        layout.index_crc = LE::read_u32(fields.get(40..44).unwrap_or(&[0; 4]));
        let index_len = footer_at - layout.index_offset;
        if layout.key_count > index_len / (KEY_TABLE_ENTRY + MIN_KEY_LEN)
            || layout.record_count > layout.key_count as u64
        {
            return bad(format!(
                "counts ({} keys, {} records) do not fit the index",
                layout.key_count, layout.record_count
            ));
        }
        layout.key_table = footer_at - layout.key_count * KEY_TABLE_ENTRY;
        return Ok(layout);
    }
    for (at, slot) in [
        (V3_FIRST_KEY, &mut layout.first_key),
        (V3_LAST_KEY, &mut layout.last_key),
    ] {
        let len = usize::from(fields.get(at).copied().unwrap_or(0));
        match fields.get(at + 1..at + 1 + len) {
            Some(prefix) if len <= KeyPrefix::LEN => *slot = KeyPrefix::of(prefix),
            _ => {
                return bad(format!(
                    "a key prefix of {len} bytes is longer than {}",
                    KeyPrefix::LEN
                ))
            }
        }
    }
    layout.key_table = offset(5);
    let filter_offset = offset(6);
    let filter_blocks = offset(7);
    let samples_offset = offset(8);
    layout.sample_count = offset(9);
    let columns_offset = offset(10);
    let dictionary_offset = offset(11);
    layout.crc_table = offset(12);
    // Each part starts where the one before ends, in this order.
    let ordered = [
        layout.index_offset,
        layout.key_table,
        filter_offset,
        samples_offset,
        columns_offset,
        dictionary_offset,
        layout.crc_table,
        footer_at,
    ];
    if ordered.windows(2).any(|w| matches!(w, [a, b] if a > b)) {
        return bad("the footer's section offsets are out of order".into());
    }
    let keys_len = layout.key_table - layout.index_offset;
    let ends = |start: usize, count: usize, size: usize| {
        count.checked_mul(size).and_then(|n| start.checked_add(n))
    };
    let width = fields.get(V4_OFFSET_WIDTH).copied().unwrap_or(0);
    let min_key_len = match (version, width) {
        (FILE_VERSION_V3, 0) => MIN_KEY_LEN,
        (FILE_VERSION, 4 | 8) => {
            layout.offset_width = usize::from(width);
            2 + layout.offset_width
        }
        _ => {
            return bad(format!(
                "an offset width of {width} bytes (version {version})"
            ))
        }
    };
    if layout.key_count > keys_len / min_key_len
        || ends(layout.key_table, layout.key_count, layout.offset_width) != Some(filter_offset)
        || layout.record_count > layout.key_count as u64
    {
        return bad(format!(
            "counts ({} keys, {} records) do not fit the index",
            layout.key_count, layout.record_count
        ));
    }
    if filter_blocks == 0
        || ends(filter_offset, filter_blocks, FILTER_BLOCK_LEN) != Some(samples_offset)
    {
        return bad(format!(
            "a key filter of {filter_blocks} blocks does not fit"
        ));
    }
    if layout.sample_count != layout.key_count.div_ceil(KEY_SAMPLE_EVERY)
        || ends(samples_offset, layout.sample_count, 4).is_none_or(|end| end > columns_offset)
    {
        return bad(format!(
            "{} key samples do not fit (or do not match {} keys)",
            layout.sample_count, layout.key_count
        ));
    }
    let names_len = LE::read_u32(
        fields
            .get(V4_NAMES_LEN..V4_NAMES_LEN + 4)
            .unwrap_or(&[0; 4]),
    );
    let names_len = usize::try_from(names_len).unwrap_or(usize::MAX);
    if (version == FILE_VERSION_V3 && names_len != 0)
        || dictionary_offset - columns_offset < names_len
    {
        return bad(format!(
            "an item-name table of {names_len} bytes does not fit (version {version})"
        ));
    }
    let names_start = dictionary_offset - names_len;
    layout.checked = layout.index_offset..layout.crc_table;
    if ends(layout.crc_table, chunk_count(layout.checked.len()), 4) != Some(footer_at) {
        return bad("the chunk checksum table does not fit".into());
    }
    layout.filter = filter_offset..samples_offset;
    layout.samples = samples_offset..columns_offset;
    layout.columns = columns_offset..names_start;
    layout.names = names_start..dictionary_offset;
    layout.dictionary = dictionary_offset..layout.crc_table;
    Ok(layout)
}

/// Encodes a version-4 footer (version 3's, with the name table's length).
pub(crate) fn v4_footer(layout: &Layout) -> [u8; V3_FOOTER_LEN] {
    let mut footer = [0u8; V3_FOOTER_LEN];
    let fields: [u64; 13] = [
        layout.index_offset as u64,
        layout.key_count as u64,
        layout.record_count,
        layout.min_end as u64,
        layout.max_end as u64,
        layout.key_table as u64,
        layout.filter.start as u64,
        (layout.filter.len() / FILTER_BLOCK_LEN) as u64,
        layout.samples.start as u64,
        layout.sample_count as u64,
        layout.columns.start as u64,
        layout.dictionary.start as u64,
        layout.crc_table as u64,
    ];
    for (slot, value) in footer.chunks_exact_mut(8).zip(fields) {
        slot.copy_from_slice(&value.to_le_bytes());
    }
    for (at, prefix) in [
        (V3_FIRST_KEY, &layout.first_key),
        (V3_LAST_KEY, &layout.last_key),
    ] {
        let bytes = prefix.as_slice();
        if let Some(slot) = footer.get_mut(at) {
            *slot = bytes.len() as u8;
        }
        if let Some(slot) = footer.get_mut(at + 1..at + 1 + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
    }
    if let Some(slot) = footer.get_mut(V4_OFFSET_WIDTH) {
        *slot = layout.offset_width as u8;
    }
    if let Some(slot) = footer.get_mut(V4_NAMES_LEN..V4_NAMES_LEN + 4) {
        slot.copy_from_slice(&(layout.names.len() as u32).to_le_bytes());
    }
    let crc = crc32fast::hash(footer.get(..V3_FOOTER_LEN - 4).unwrap_or(&[]));
    if let Some(slot) = footer.get_mut(V3_FOOTER_LEN - 4..) {
        slot.copy_from_slice(&crc.to_le_bytes());
    }
    footer
}
