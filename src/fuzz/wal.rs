//! Fuzz entry points for the message box.

use std::path::Path;

use crate::storage::{MemStorage, OpenMode, Storage};
use std::collections::BTreeMap;

use crate::wal::{encode_frame, read_tail, FrameHeader, ReadItem, Wal, WalOptions};

const SALT: u32 = 0x1234_5678;
const MAX_FRAME: u32 = 1 << 16;

/// Decodes `data` as a frame: a verified header never claims more than the
/// limit, and a frame that verifies re-encodes to the same bytes.
pub fn wal_frame(data: &[u8]) {
    let Ok(header) = FrameHeader::decode(data, SALT, MAX_FRAME) else {
        return;
    };
    assert!(header.len <= MAX_FRAME);
    let end = crate::wal::FRAME_HEADER_LEN + header.len as usize;
    let Some(payload) = data.get(crate::wal::FRAME_HEADER_LEN..end) else {
        return;
    };
    if header.verify_payload(data, payload, SALT) {
        let mut again = Vec::new();
        encode_frame(&mut again, payload, header.lsn, header.span, SALT);
        assert_eq!(again.get(..end), data.get(..end), "re-encoding differs");
    }
}

/// Opens a log whose only segment holds `data` (after a valid header when
/// `data` starts with a zero byte, so the fuzzer reaches frame parsing):
/// recovery must always succeed, reading must never fail or panic, and a
/// frame appended afterwards must read back as the last item. Before the
/// open, another process's read of the same bytes (`read_tail`) must give
/// frames without holes from LSN 1, each as the writer's reader gives it.
pub fn wal_segment(data: &[u8]) {
    let disk = MemStorage::new();
    let dir = Path::new("/fuzz/wal");
    let options = WalOptions {
        segment_size: 1 << 20,
        max_frame_size: MAX_FRAME,
        preallocate: false,
    };
    let file_bytes = match data.split_first() {
        Some((0, rest)) => {
            let header = crate::wal::SegmentHeader {
                salt: SALT,
                base_lsn: 1,
            };
            let mut bytes = header.encode().to_vec();
            bytes.extend_from_slice(rest);
            bytes
        }
        _ => data.to_vec(),
    };
    let written = disk
        .create_dir_all(dir)
        .and_then(|()| disk.open_file(&dir.join("00000000000000000001.wal"), OpenMode::CreateNew))
        .and_then(|f| f.write_all_at(&file_bytes, 0).and_then(|()| f.sync_all()))
        .and_then(|()| disk.sync_dir(dir));
    assert!(written.is_ok(), "setting up the in-memory disk failed");
    let tail = match read_tail(&disk, dir, 1, &options, u64::MAX) {
        Ok(tail) => tail.frames,
        Err(e) => panic!("reading the tail failed: {e}"),
    };
    for (i, f) in tail.iter().enumerate() {
        assert_eq!(f.lsn, i as u64 + 1, "the tail has a hole");
        assert!(f.payload.len() <= MAX_FRAME as usize);
    }

    let wal = match Wal::open_with_storage(disk.shared(), dir, options) {
        Ok(wal) => wal,
        Err(e) => panic!("recovery refused a damaged segment: {e}"),
    };
    let mut last = 0;
    let mut read = BTreeMap::new();
    for item in wal.reader(1) {
        match item {
            Ok(ReadItem::Frame(f)) => {
                assert!(f.lsn > last, "LSNs must increase");
                last = f.lsn;
                read.insert(f.lsn, f.payload);
            }
            Ok(ReadItem::Corrupt(c)) => {
                assert!(c.lsns.0 <= c.lsns.1 && c.lsns.0 > last);
                assert!(c.raw.len() <= MAX_FRAME as usize);
                last = c.lsns.1;
            }
            Err(e) => panic!("reading failed: {e}"),
        }
    }
    for f in &tail {
        assert_eq!(
            read.get(&f.lsn),
            Some(&f.payload),
            "the tail read LSN {} other than the writer's reader",
            f.lsn
        );
    }
    let lsn = match wal.append(b"after fuzz") {
        Ok(lsn) => lsn,
        Err(e) => panic!("append after recovery failed: {e}"),
    };
    let tail = wal.reader(lsn).next();
    match tail {
        Some(Ok(ReadItem::Frame(f))) => assert_eq!(f.payload, b"after fuzz"),
        other => panic!("appended frame not read back: {other:?}"),
    }
}

/// Seed inputs for both targets: `(target, file name, bytes)`.
pub fn seed_corpus() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut frames = vec![0u8];
    for lsn in 1..=4u64 {
        encode_frame(
            &mut frames,
            &vec![lsn as u8; 20 * lsn as usize],
            lsn,
            1,
            SALT,
        );
    }
    out.push(("wal_segment", "frames".into(), frames.clone()));
    out.push((
        "wal_segment",
        "frames_torn".into(),
        frames[..frames.len() - 30].to_vec(),
    ));
    let mut flipped = frames.clone();
    if let Some(b) = flipped.get_mut(60) {
        *b ^= 4;
    }
    out.push(("wal_segment", "frames_flipped".into(), flipped));
    out.push(("wal_segment", "empty".into(), Vec::new()));
    out.push(("wal_segment", "zeros".into(), vec![0u8; 200]));
    let header = crate::wal::SegmentHeader {
        salt: SALT,
        base_lsn: 1,
    };
    let mut raw = header.encode().to_vec();
    raw.extend_from_slice(frames.get(1..).unwrap_or(&[]));
    out.push(("wal_segment", "raw_valid".into(), raw));
    for i in 0..5u64 {
        let mut f = Vec::new();
        encode_frame(&mut f, &vec![7; i as usize * 13], i + 1, 1, SALT);
        out.push(("wal_frame", format!("frame{i}"), f));
    }
    out.push((
        "wal_frame",
        "garbage".into(),
        b"\xff\xff\xff\xffnot a frame".to_vec(),
    ));
    out
}

/// A frame header exactly as the encoder writes it (valid header checksum)
/// but claiming a payload of `len` bytes, which does not follow. For the
/// tests that check no length is trusted before its limit check.
pub fn frame_header_claiming(len: u32, lsn: u64, salt: u32) -> Vec<u8> {
    let mut frame = Vec::new();
    encode_frame(&mut frame, &[], lsn, 1, salt);
    frame.truncate(crate::wal::FRAME_HEADER_LEN);
    if let Some(field) = frame.get_mut(..4) {
        field.copy_from_slice(&len.to_le_bytes());
    }
    // Re-seal the header checksum over the patched fields, as the encoder
    // would have for a payload of that length.
    let mut h = crc32fast::Hasher::new_with_initial(salt);
    h.update(frame.get(..16).unwrap_or(&[]));
    let crc = h.finalize().to_le_bytes();
    if let Some(field) = frame.get_mut(16..20) {
        field.copy_from_slice(&crc);
    }
    frame
}

/// Decodes a frame header the way the reader does: `Ok(len)` or the error
/// as text.
pub fn decode_frame_header(bytes: &[u8], salt: u32, max_len: u32) -> Result<u32, String> {
    FrameHeader::decode(bytes, salt, max_len)
        .map(|h| h.len)
        .map_err(|e| e.to_string())
}
