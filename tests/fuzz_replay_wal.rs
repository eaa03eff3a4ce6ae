//! Replays the checked-in fuzz seed corpus of the message box through the
//! same entry points the fuzz targets use (`fuzz/fuzz_targets/wal_*.rs`),
//! so stable CI covers them. Every file must run without a panic.

mod fuzz_common;

use fuzz_common::replay;

use std::path::Path;

#[test]
fn wal_frame_corpus() {
    replay("wal_frame", bamdb::fuzz::wal::wal_frame, 5);
}

#[test]
fn wal_segment_corpus() {
    replay("wal_segment", bamdb::fuzz::wal::wal_segment, 5);
}

/// Regenerates the seed corpus:
/// `cargo test --test fuzz_replay_wal -- --ignored write_seed_corpus`.
#[test]
#[ignore = "writes files into fuzz/corpus; run by hand to regenerate the seeds"]
fn write_seed_corpus() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (target, name, bytes) in bamdb::fuzz::wal::seed_corpus() {
        let dir = base.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
