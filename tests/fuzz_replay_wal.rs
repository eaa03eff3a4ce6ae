//! Replays the checked-in fuzz seed corpus of the message box through the
//! same entry points the fuzz targets use (`fuzz/fuzz_targets/wal_*.rs`),
//! so stable CI covers them. Every file must run without a panic.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        run(&std::fs::read(&path).unwrap());
        files += 1;
    }
    assert!(files >= 5, "{target}: only {files} corpus files");
}

#[test]
fn wal_frame_corpus() {
    replay("wal_frame", bamdb::fuzz::wal::wal_frame);
}

#[test]
fn wal_segment_corpus() {
    replay("wal_segment", bamdb::fuzz::wal::wal_segment);
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
