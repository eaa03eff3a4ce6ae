//! Replays the checked-in fuzz seed corpus of the import files and the
//! manifest through the entry points the fuzz targets use
//! (`fuzz/fuzz_targets/{import_file,manifest}.rs`).

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        run(&std::fs::read(entry.unwrap().path()).unwrap());
        files += 1;
    }
    assert!(files >= 5, "{target}: only {files} corpus files");
}

#[test]
fn import_file_corpus() {
    replay("import_file", bamdb::fuzz::segments::import_file);
}

#[test]
fn manifest_corpus() {
    replay("manifest", bamdb::fuzz::segments::manifest);
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
