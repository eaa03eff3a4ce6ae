//! Memory (issue 6, item 8): no length or count read from disk or input is
//! trusted before its limit check.
//!
//! A counting global allocator records the largest single allocation while
//! a check runs; every check here feeds a length or count field claiming
//! gigabytes (with every checksum valid, so the limit check, not the
//! checksum, has to stop it) and asserts that the error comes back at once
//! and that no allocation larger than 1 MiB happened:
//!
//! - a message box frame header claiming 4 GiB, decoded alone and then
//!   planted in a real segment which is recovered and read, by the log
//!   alone and by a whole store;
//! - a frame claiming just under a 1 GiB limit in a 64 KiB file (the
//!   reader is bounded by the file, not by the claim);
//! - an event batch whose event count claims 4 billion, and every one-byte
//!   count or length field of a real batch replaced by a varint claiming
//!   2^35.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bamdb::fuzz::wal::{decode_frame_header, frame_header_claiming};
use bamdb::model::{decode_batch, encode_batch, Event, EventKind, Limits, Timestamp, Value};
use bamdb::storage::MemStorage;
use bamdb::wal::{ReadItem, Wal, WalOptions};
use bamdb::{Store, StoreOptions};

struct Counting;

static ARMED: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

fn note(size: usize) {
    if ARMED.load(Ordering::Relaxed) {
        LARGEST.fetch_max(size, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MIB: usize = 1 << 20;
/// Tests of this binary run one at a time: the allocator's figure is global.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` with the allocator watching; returns its result, the largest
/// single allocation and how long it took.
fn watched<T>(f: impl FnOnce() -> T) -> (T, usize, Duration) {
    LARGEST.store(0, Ordering::Relaxed);
    ARMED.store(true, Ordering::Relaxed);
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    ARMED.store(false, Ordering::Relaxed);
    (out, LARGEST.load(Ordering::Relaxed), took)
}

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const SALT: u32 = 0xC0FF_EE11;

#[test]
fn a_frame_header_claiming_4_gib_is_refused_by_the_limit_check() {
    let _serial = serial();
    let header = frame_header_claiming(u32::MAX, 7, SALT);
    let (result, largest, took) = watched(|| decode_frame_header(&header, SALT, 16 << 10));
    let err = result.expect_err("a 4 GiB frame must be refused");
    // The limit check refused it, not the checksum: the header is sound.
    assert!(err.contains("exceeds the limit"), "{err}");
    assert!(largest < MIB, "largest allocation {largest} bytes");
    assert!(took < Duration::from_millis(100), "{took:?}");
    // Even at the largest limit the options allow (1 GiB).
    let err = decode_frame_header(&header, SALT, 1 << 30).unwrap_err();
    assert!(err.contains("exceeds the limit"), "{err}");
}

fn wal_options(max_frame_size: u32, segment_size: u64) -> WalOptions {
    WalOptions {
        segment_size,
        max_frame_size,
        preallocate: false,
    }
}

/// Writes three frames through a real log, then replaces the second with a
/// sealed header claiming `claim` bytes. Returns the disk and segment path.
fn segment_with_a_lying_frame(dir: &Path, claim: u32, options: &WalOptions) -> MemStorage {
    let disk = MemStorage::new();
    {
        let wal = Wal::open_with_storage(disk.shared(), dir, options.clone()).unwrap();
        for payload in [&b"first"[..], b"second", b"third"] {
            wal.append(payload).unwrap();
        }
    }
    let path = dir.join("00000000000000000001.wal");
    let mut bytes = disk.read_file(&path).expect("the first segment");
    let salt = u32::from_le_bytes(bytes[12..16].try_into().unwrap());
    // Segment header 32 bytes; "first" is a 24-byte header + 5 bytes,
    // padded to 32: the second frame starts at 64 and has LSN 2.
    let lying = frame_header_claiming(claim, 2, salt);
    assert_eq!(
        decode_frame_header(&bytes[64..88], salt, u32::MAX),
        Ok(6),
        "the second frame is where the test expects it"
    );
    bytes[64..88].copy_from_slice(&lying);
    assert!(disk.corrupt_file(&path, bytes));
    disk
}

#[test]
fn a_segment_whose_frame_claims_4_gib_recovers_and_reads_without_a_large_allocation() {
    let _serial = serial();
    let dir = Path::new("/w");
    let options = wal_options(16 << 10, 64 << 10);
    let disk = segment_with_a_lying_frame(dir, u32::MAX, &options);
    let (items, largest, took) = watched(|| {
        let wal = Wal::open_with_storage(disk.shared(), dir, options.clone()).unwrap();
        let items: Vec<_> = wal.reader(1).collect();
        items
    });
    assert!(largest < MIB, "largest allocation {largest} bytes");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // The first frame is served; the lying one is never served as a frame.
    match items.first() {
        Some(Ok(ReadItem::Frame(f))) => assert_eq!(f.payload, b"first"),
        other => panic!("first item: {other:?}"),
    }
    for item in &items[1..] {
        if let Ok(ReadItem::Frame(f)) = item {
            assert_ne!(f.lsn, 2, "the damaged frame was served");
        }
    }
}

#[test]
fn a_claim_under_a_1_gib_limit_is_bounded_by_the_file_not_the_claim() {
    let _serial = serial();
    let dir = Path::new("/w");
    let options = wal_options(1 << 30, 2 << 30);
    let disk = segment_with_a_lying_frame(dir, (1 << 30) - 64, &options);
    let (opened, largest, _) = watched(|| {
        let wal = Wal::open_with_storage(disk.shared(), dir, options.clone())?;
        let items: Vec<_> = wal.reader(1).collect();
        Ok::<_, bamdb::wal::WalError>(items.len())
    });
    assert!(opened.is_ok(), "{opened:?}");
    assert!(largest < MIB, "largest allocation {largest} bytes");
}

#[test]
fn a_store_whose_message_box_holds_a_4_gib_claim_opens_and_imports_without_a_large_allocation() {
    let _serial = serial();
    let options = StoreOptions {
        wal: wal_options(16 << 10, 64 << 10),
        ..StoreOptions::default()
    };
    let disk = MemStorage::new();
    {
        let store = Store::open_with_storage(disk.shared(), "/s", options.clone()).unwrap();
        store
            .deploy(
                serde_json::from_str(r#"{"name":"A","items":[{"name":"N","type":"int"}]}"#)
                    .unwrap(),
            )
            .unwrap();
        let mut s = store.buffered_stream(0);
        use bamdb::EventStream;
        for i in 0..3i64 {
            s.update("A", &format!("a{i}"), [("N", i)]).unwrap();
            s.flush().unwrap();
        }
        // Closing checkpoints and trims the message box; keep the frames.
        std::mem::forget(s);
        let image = disk.crash_image(bamdb::storage::CrashMode::KeepAll);
        drop(store);
        plant_lie(&image);
        let (opened, largest, _) = watched(|| {
            let store = Store::open_with_storage(image.shared(), "/s", options.clone())?;
            store.sync(Duration::from_secs(10));
            Ok::<_, bamdb::StoreError>(store.quarantine_entries()?.0.len())
        });
        let quarantined = opened.unwrap();
        assert!(quarantined >= 1, "the damaged frame must be quarantined");
        assert!(largest < MIB, "largest allocation {largest} bytes");
    }
}

/// Replaces the header of the next-to-last frame of the first message box
/// segment with a sealed header claiming 4 GiB. (Not the last: damage
/// there cannot be told from a torn write and is cut off as one.)
fn plant_lie(disk: &MemStorage) {
    let path = Path::new("/s/wal/00000000000000000001.wal");
    let mut bytes = disk.read_file(path).expect("the first segment");
    let salt = u32::from_le_bytes(bytes[12..16].try_into().unwrap());
    // Walk the frames to the last one.
    let (mut pos, mut frames) = (32usize, Vec::new());
    while let Some(Ok(len)) = bytes
        .get(pos..pos + 24)
        .map(|h| decode_frame_header(h, salt, u32::MAX))
    {
        frames.push(pos);
        pos += (24 + len as usize).next_multiple_of(8);
    }
    assert!(frames.len() >= 3, "frames in the segment: {frames:?}");
    let at = frames[frames.len() - 2];
    let lsn = u64::from_le_bytes(bytes[at + 8..at + 16].try_into().unwrap());
    bytes[at..at + 24].copy_from_slice(&frame_header_claiming(u32::MAX, lsn, salt));
    assert!(disk.corrupt_file(path, bytes));
}

fn sample_batch() -> Vec<u8> {
    let ts = Timestamp::from_micros(1_790_000_000_000_000);
    let ev = |id: &str, kind| Event {
        ts,
        activity: "PurchaseOrder".into(),
        id: id.into(),
        kind,
    };
    let events = vec![
        ev("PO-1", EventKind::Begin),
        ev(
            "PO-1",
            EventKind::Update(vec![
                ("Customer".into(), Value::from("ACME")),
                ("Quantity".into(), Value::from(3i64)),
            ]),
        ),
        ev(
            "PO-1",
            EventKind::AddReference {
                ref_type: "Doc".into(),
                ref_name: "scan".into(),
                data: "abc".into(),
                long_data: Some("long".into()),
            },
        ),
        ev("PO-1", EventKind::End),
    ];
    encode_batch(1, 1, &events, &Limits::default()).unwrap()
}

#[test]
fn an_event_batch_claiming_4_billion_events_is_refused_at_once() {
    let _serial = serial();
    let mut bytes = sample_batch();
    assert!(decode_batch(&bytes, &Limits::default()).is_ok());
    // Format: { version u8 | count u32 | producer u32 | seq varint | ... }
    bytes[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
    let (result, largest, took) = watched(|| decode_batch(&bytes, &Limits::default()));
    let err = result.expect_err("4 billion events must be refused");
    assert!(err.to_string().contains("event count"), "{err}");
    assert!(largest < MIB, "largest allocation {largest} bytes");
    assert!(took < Duration::from_millis(100), "{took:?}");
}

#[test]
fn every_small_count_or_length_in_a_batch_claiming_billions_is_refused_without_a_large_allocation()
{
    let _serial = serial();
    let bytes = sample_batch();
    // A varint of 2^35 replacing each one-byte field (most of them lengths
    // and counts; the rest just garble the batch).
    let huge = [0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
    let (_, largest, took) = watched(|| {
        for at in 5..bytes.len() {
            if bytes[at] >= 0x80 {
                continue;
            }
            let mut lying = bytes[..at].to_vec();
            lying.extend_from_slice(&huge);
            lying.extend_from_slice(&bytes[at + 1..]);
            let _ = decode_batch(&lying, &Limits::default());
        }
    });
    assert!(largest < MIB, "largest allocation {largest} bytes");
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn the_counting_allocator_sees_a_large_allocation() {
    let _serial = serial();
    let (v, largest, _) = watched(|| vec![0u8; 2 * MIB]);
    assert_eq!(v.len(), 2 * MIB);
    assert!(largest >= 2 * MIB, "the allocator missed it: {largest}");
}
