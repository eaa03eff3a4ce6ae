//! Shared by the fuzz corpus replays: run every checked-in seed of a
//! target through the same hook its cargo-fuzz target calls.

use std::path::Path;

/// Replays every file of `fuzz/corpus/<target>/` through `hook`; the
/// folder must hold at least `min_files` seeds.
pub fn replay(target: &str, hook: fn(&[u8]), min_files: usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            eprintln!("replaying {}", path.display());
            hook(&data);
            files += 1;
        }
    }
    assert!(files >= min_files, "{target}: only {files} corpus files");
}
