//! Campaign 5 of issue 6: corruption of a real store directory's message
//! box. A small store (16 commits over several 8 KiB segments, no
//! checkpoint, so everything is still in the message box) is copied as a
//! crash image; then, one damage per copy:
//! - every bit of every segment header and of every frame header flipped,
//! - random bits of payloads flipped,
//! - every whole 4 KiB block of every segment zeroed,
//! - a frame copied from another segment over a frame.
//!
//! For each damaged copy: `Store::verify` runs first, then `Store::open`
//! must succeed, and after the import settles NO instance differs from the
//! oracle (damaged data is never served). Any damage that changed bytes in
//! use must be detected: a `verify` problem or note naming the damaged
//! segment file (a damaged tail frame is cut as a torn tail, noted), or a
//! quarantined frame. Missing instances are allowed only then.
//!
//! CI: every bit of every segment header, one bit (rotating) of every
//! frame header byte, 200 payload bits, every block, every frame copy
//! (about 1,400 cases). Long form (every bit of every frame header too,
//! and more payload bits; about 4,300 cases with the default bits):
//! `BAMDB_CORRUPTION_ALL_BITS=1 BAMDB_CORRUPTION_PAYLOAD_BITS=1000 cargo test --release --test reliability_corruption -- --nocapture`

mod reliability_common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bamdb::model::Value;
use bamdb::{EventStream, Status, Store, StoreOptions};
use reliability_common::*;

const FRAMES: usize = 16;

fn options() -> StoreOptions {
    let mut o = StoreOptions::default();
    o.wal.segment_size = 8192;
    o.wal.max_frame_size = 4096;
    o.checkpoint_interval = Duration::from_secs(3600);
    o.checkpoint_frames = u64::MAX;
    o.checkpoint_wal_bytes = u64::MAX;
    o.checkpoint_completed = usize::MAX;
    o
}

fn id(i: usize) -> String {
    format!("PO-{i}")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// (segment path, frame offset, frame total length) of every frame.
fn frames(segments: &[(String, Vec<u8>)]) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    for (s, (_, bytes)) in segments.iter().enumerate() {
        let mut at = 32;
        while at + 24 <= bytes.len() {
            let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            if len == 0 {
                break;
            }
            let total = (24 + len).div_ceil(8) * 8;
            out.push((s, at, total));
            at += total;
        }
    }
    out
}

struct Case {
    segment: usize,
    /// The damaged bytes of that segment.
    bytes: Vec<u8>,
    what: String,
}

fn check_case(base: &Path, work: &Path, segments: &[(String, Vec<u8>)], case: &Case) {
    let _ = std::fs::remove_dir_all(work);
    copy_dir(base, work);
    let (name, original) = &segments[case.segment];
    std::fs::write(work.join("wal").join(name), &case.bytes).unwrap();
    let changed = case.bytes != *original;
    let what = &case.what;

    let report = Store::verify(work, &options()).unwrap_or_else(|e| panic!("{what}: verify: {e}"));
    let store =
        Store::open(work, options()).unwrap_or_else(|e| panic!("{what}: the store must open: {e}"));
    assert!(store.sync(Duration::from_secs(30)), "{what}: import halted");
    let mut missing = 0;
    let all = store.instances(ACTIVITY).unwrap();
    let mut seen = BTreeMap::new();
    for inst in &all {
        let i: usize = inst
            .id
            .strip_prefix("PO-")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{what}: invented instance {inst:?}"));
        assert!(i < FRAMES, "{what}: invented {inst:?}");
        assert!(
            seen.insert(i, ()).is_none(),
            "{what}: listed twice {inst:?}"
        );
        let ok = inst.status == Status::Completed
            && inst.item("Amount") == Some(&Value::Float(i as f64 + 0.5))
            && inst.item("Customer") == Some(&Value::Text(format!("c {}", id(i))))
            && inst.item("Region").is_none();
        assert!(ok, "{what}: damaged data served: {inst:?}");
    }
    for i in 0..FRAMES {
        if !seen.contains_key(&i) {
            missing += 1;
        }
    }
    let quarantined = store.stats().counters.frames_quarantined;
    drop(store);
    let said: Vec<String> = report
        .problems
        .iter()
        .map(|p| p.to_string())
        .chain(report.notes.iter().cloned())
        .collect();
    let named = said.iter().any(|s| s.contains(name.as_str()));
    if missing > 0 {
        assert!(
            named || quarantined > 0,
            "{what}: {missing} instance(s) lost without a report naming {name} or a quarantine: {said:?}"
        );
    }
    if changed {
        assert!(
            named || quarantined > 0,
            "{what}: damage in use went undetected: {said:?}, {quarantined} quarantined"
        );
    }
}

#[test]
fn corrupted_message_box_is_detected_and_never_served() {
    let payload_bits = env_count("BAMDB_CORRUPTION_PAYLOAD_BITS", 200);
    let mut rng = Rng::from_env();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let base = tmp.path().join("base");
    {
        let store = Store::open(&dir, options()).unwrap();
        let defs: Vec<bamdb::model::ActivityDefinition> = serde_json::from_str(&defs()).unwrap();
        for d in defs {
            store.deploy(d).unwrap();
        }
        let mut s = store.buffered_stream(0);
        for i in 0..FRAMES {
            let id = id(i);
            let filler = "x".repeat(600 + 250 * (i % 4));
            s.begin(ACTIVITY, &id).unwrap();
            s.update(ACTIVITY, &id, [("Amount", i as f64 + 0.5)])
                .unwrap();
            s.update(ACTIVITY, &id, [("Customer", filler)]).unwrap();
            s.update(ACTIVITY, &id, [("Customer", format!("c {id}"))])
                .unwrap();
            s.end(ACTIVITY, &id).unwrap();
            s.flush().unwrap().unwrap();
        }
        assert!(store.sync(Duration::from_secs(30)));
        // A crash image: everything is durable, nothing checkpointed.
        copy_dir(&dir, &base);
        drop(s);
        store.close().unwrap();
    }
    let mut names: Vec<String> = std::fs::read_dir(base.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".wal"))
        .collect();
    names.sort();
    let segments: Vec<(String, Vec<u8>)> = names
        .into_iter()
        .map(|n| {
            let b = std::fs::read(base.join("wal").join(&n)).unwrap();
            (n, b)
        })
        .collect();
    let frames = frames(&segments);
    assert!(segments.len() >= 2, "several segments: {}", segments.len());
    assert!(frames.len() >= FRAMES, "{} frames", frames.len());

    let mut cases = Vec::new();
    let flip = |s: usize, byte: usize, bit: usize, what: String| {
        let mut bytes = segments[s].1.clone();
        bytes[byte] ^= 1 << bit;
        Case {
            segment: s,
            bytes,
            what,
        }
    };
    for s in 0..segments.len() {
        for byte in 0..32 {
            for bit in 0..8 {
                cases.push(flip(
                    s,
                    byte,
                    bit,
                    format!("segment {s} header byte {byte} bit {bit}"),
                ));
            }
        }
    }
    let all_bits = env_count("BAMDB_CORRUPTION_ALL_BITS", 0) != 0;
    for (f, &(s, at, _)) in frames.iter().enumerate() {
        for byte in 0..24 {
            for bit in 0..8 {
                if !all_bits && bit != (byte + f) % 8 {
                    continue;
                }
                cases.push(flip(
                    s,
                    at + byte,
                    bit,
                    format!("frame {f} header byte {byte} bit {bit}"),
                ));
            }
        }
    }
    for _ in 0..payload_bits {
        let f = rng.below(frames.len() as u64) as usize;
        let (s, at, total) = frames[f];
        let len = u32::from_le_bytes(segments[s].1[at..at + 4].try_into().unwrap()) as usize;
        let _ = total;
        let byte = at + 24 + rng.below(len as u64) as usize;
        let bit = rng.below(8) as usize;
        cases.push(flip(
            s,
            byte,
            bit,
            format!("frame {f} payload byte {byte} bit {bit}"),
        ));
    }
    for (s, (_, bytes)) in segments.iter().enumerate() {
        for block in 0..bytes.len().div_ceil(4096) {
            let mut b = bytes.clone();
            let end = ((block + 1) * 4096).min(b.len());
            b[block * 4096..end].fill(0);
            cases.push(Case {
                segment: s,
                bytes: b,
                what: format!("segment {s} block {block} zeroed"),
            });
        }
    }
    for (f, &(s, at, total)) in frames.iter().enumerate() {
        // The first frame of another segment, over this one.
        let Some(&(os, oat, ototal)) = frames.iter().find(|x| x.0 != s) else {
            continue;
        };
        let mut b = segments[s].1.clone();
        let n = ototal.min(b.len() - at);
        b[at..at + n].copy_from_slice(&segments[os].1[oat..oat + n]);
        let _ = total;
        cases.push(Case {
            segment: s,
            bytes: b,
            what: format!("frame {f} overwritten by a frame of segment {os}"),
        });
    }

    let work = tmp.path().join("work");
    let started = std::time::Instant::now();
    for case in &cases {
        check_case(&base, &work, &segments, case);
    }
    eprintln!(
        "corruption: {} cases ({} segments, {} frames) in {:?}",
        cases.len(),
        segments.len(),
        frames.len(),
        started.elapsed()
    );
}
