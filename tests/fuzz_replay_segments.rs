//! Replays the checked-in fuzz seed corpus of the import files, the
//! manifest and the active runs through the entry points the fuzz targets
//! use (`fuzz/fuzz_targets/{import_file,manifest,active_run}.rs`).

mod fuzz_common;

use fuzz_common::replay;

use std::path::Path;

#[test]
fn import_file_corpus() {
    replay("import_file", bamdb::fuzz::segments::import_file, 5);
}

#[test]
fn manifest_corpus() {
    replay("manifest", bamdb::fuzz::segments::manifest, 5);
}

#[test]
fn active_run_corpus() {
    replay("active_run", bamdb::fuzz::segments::active_run, 3);
}

/// Regenerates the seeds:
/// `cargo test --test fuzz_replay_segments -- --ignored write_seed_corpus`.
#[test]
#[ignore = "writes files into fuzz/corpus; run by hand to regenerate the seeds"]
fn write_seed_corpus() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (target, name, bytes) in bamdb::fuzz::segments::seed_corpus() {
        let dir = base.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
