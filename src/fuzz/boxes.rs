//! Fuzz entry point for the bus's copy of producers' message boxes: a box
//! whose log segment and `SYNCED` mark come from the input.

use std::path::Path;
use std::time::Duration;

use crate::producer::identity::create_identity;
use crate::producer::{LOG_DIR, SYNCED_FILE};
use crate::storage::{MemStorage, OpenMode, Storage};
use crate::wal::{encode_frame, MarkWriter, SegmentHeader};
use crate::{BoxOptions, EventStream, MessageBox, Store, StoreOptions};

const SALT: u32 = 0x0B0C_5A17;
const STORE: &str = "/s";
const BOX: &str = "/s/boxes/f";

fn options() -> StoreOptions {
    let mut options = StoreOptions::default();
    options.wal.segment_size = 1 << 20;
    options.wal.max_frame_size = 1 << 16;
    options
}

/// Input: the box's `SYNCED` mark (8 bytes, little-endian), then its one
/// log segment (after a valid segment header when it starts with a zero
/// byte). The bus copies the box and imports it; it must never panic,
/// copy beyond the mark, copy a frame twice (not in a second pass, not
/// after a restart), and every copy must be imported or quarantined.
pub fn box_import(data: &[u8]) {
    box_import_counted(data);
}

/// [`box_import`], returning how many frames the bus copied.
pub fn box_import_counted(data: &[u8]) -> u64 {
    let (mark, segment) = match data.split_first_chunk::<8>() {
        Some((mark, rest)) => (u64::from_le_bytes(*mark), rest),
        None => (0, data),
    };
    let disk = MemStorage::new();
    let store = match Store::open_with_storage(disk.shared(), STORE, options()) {
        Ok(store) => store,
        Err(e) => panic!("a fresh store must open: {e}"),
    };
    let definition = crate::fixture::definition(crate::fixture::FULL);
    if let Err(e) = store.deploy(definition) {
        panic!("the fixture definition must deploy: {e}");
    }
    write_box(&disk, mark, segment);
    let mut copied = 0u64;
    for _ in 0..4 {
        let pass = match store.import_boxes(&[]) {
            Ok(pass) => pass,
            Err(e) => panic!("a damaged box must be a problem, not an error: {e}"),
        };
        copied += pass.frames;
        assert!(store.sync(Duration::from_secs(30)), "import stuck");
        if pass.frames == 0 {
            break;
        }
    }
    assert!(copied <= mark, "copied {copied} frames, synced only {mark}");
    let handled = |store: &Store| {
        let c = store.stats().counters;
        c.frames_imported + c.frames_quarantined
    };
    assert_eq!(handled(&store), copied, "a copy not handled exactly once");
    drop(store);
    let store = match Store::open_with_storage(disk.shared(), STORE, options()) {
        Ok(store) => store,
        Err(e) => panic!("the store must reopen: {e}"),
    };
    match store.import_boxes(&[]) {
        Ok(pass) => assert_eq!(pass.frames, 0, "copied again after a restart"),
        Err(e) => panic!("after a restart: {e}"),
    }
    assert!(store.sync(Duration::from_secs(30)), "import stuck");
    assert_eq!(handled(&store), copied, "imported again after a restart");
    copied
}

/// The box at [`BOX`] with `segment` as its log and `mark` as `SYNCED`.
fn write_box(disk: &MemStorage, mark: u64, segment: &[u8]) {
    let dir = Path::new(BOX);
    let log = dir.join(LOG_DIR);
    let bytes = match segment.split_first() {
        Some((0, rest)) => {
            let header = SegmentHeader {
                salt: SALT,
                base_lsn: 1,
            };
            let mut bytes = header.encode().to_vec();
            bytes.extend_from_slice(rest);
            bytes
        }
        _ => segment.to_vec(),
    };
    let made = disk
        .create_dir_all(&log)
        .and_then(|()| disk.open_file(&log.join("00000000000000000001.wal"), OpenMode::CreateNew))
        .and_then(|f| f.write_all_at(&bytes, 0));
    assert!(made.is_ok(), "setting up the in-memory disk failed");
    let identity = match create_identity(disk, dir, Some(7)) {
        Ok(identity) => identity,
        Err(e) => panic!("making the box identity failed: {e}"),
    };
    let marked = MarkWriter::open(disk, &dir.join(SYNCED_FILE), identity.box_id)
        .and_then(|mut m| m.advance(mark));
    assert!(marked.is_ok(), "writing the mark failed");
}

/// Seed inputs: `(file name, bytes)`: boxes a producer really wrote, with
/// marks below, at and past their end; torn and damaged ones; frames that
/// do not decode.
pub fn seed_corpus() -> Vec<(String, Vec<u8>)> {
    let disk = MemStorage::new();
    let segment = match real_box_segment(&disk) {
        Ok(bytes) => bytes,
        Err(e) => panic!("writing the seed box failed: {e}"),
    };
    let with_mark = |mark: u64, bytes: &[u8]| {
        let mut out = mark.to_le_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    };
    let mut out = vec![
        ("real_all".into(), with_mark(5, &segment)),
        ("real_mark_2".into(), with_mark(2, &segment)),
        ("real_mark_past".into(), with_mark(99, &segment)),
        ("real_mark_0".into(), with_mark(0, &segment)),
    ];
    if let Some(torn) = segment.get(..segment.len().saturating_sub(40)) {
        out.push(("real_torn".into(), with_mark(5, torn)));
    }
    let mut flipped = segment.clone();
    if let Some(b) = flipped.get_mut(100) {
        *b ^= 0x10;
    }
    out.push(("real_flipped".into(), with_mark(5, &flipped)));
    // Frames whose payloads are not batches: unknown kinds, a boxed
    // payload inside a box, a truncated sequenced one.
    let mut frames = vec![0u8];
    let payloads: [&[u8]; 4] = [b"\x77junk", b"\xd5\x01\x02", b"\xd4\x01", b"\x01"];
    for (i, payload) in payloads.iter().enumerate() {
        encode_frame(&mut frames, payload, i as u64 + 1, 1, SALT);
    }
    out.push(("odd_payloads".into(), with_mark(4, &frames)));
    out.push(("empty".into(), Vec::new()));
    out
}

/// The bytes of the first log segment of a box a producer wrote (five
/// flushes, one sequenced).
fn real_box_segment(disk: &MemStorage) -> Result<Vec<u8>, crate::StoreError> {
    let mut options = BoxOptions::default();
    options.wal.preallocate = false;
    let outbox = MessageBox::open_with_storage(disk.shared(), BOX, options)?;
    for n in 0..5u64 {
        let mut stream = outbox.buffered_stream();
        let id = format!("PO-{n}");
        stream.begin(crate::fixture::ACTIVITY, &id)?;
        stream.update(crate::fixture::ACTIVITY, &id, [("Amount", n as f64)])?;
        stream.end(crate::fixture::ACTIVITY, &id)?;
        match n {
            3 => stream.flush_sequenced(1)?,
            _ => stream.flush()?,
        };
    }
    drop(outbox);
    let path = Path::new(BOX)
        .join(LOG_DIR)
        .join("00000000000000000001.wal");
    let io = |source| crate::StoreError::Io {
        op: "read seed segment",
        path: path.clone(),
        source,
    };
    let file = disk.open_file(&path, OpenMode::Read).map_err(io)?;
    let len = file.len().map_err(io)?;
    let mut bytes = vec![0u8; usize::try_from(len.min(1 << 16)).unwrap_or(0)];
    crate::storage::read_exact_at(file.as_ref(), &mut bytes, 0).map_err(io)?;
    Ok(bytes)
}
