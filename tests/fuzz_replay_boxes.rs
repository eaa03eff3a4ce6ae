//! Replays the checked-in fuzz seed corpus of the bus's copy of producers'
//! message boxes through the entry point its fuzz target uses
//! (`fuzz/fuzz_targets/box_import.rs`), so stable CI covers it.

mod fuzz_common;

use fuzz_common::replay;

use std::path::Path;

#[test]
fn box_import_corpus() {
    replay("box_import", bamdb::fuzz::boxes::box_import, 8);
}

/// The seeds reach the copy: a real box is copied up to its mark.
#[test]
fn the_seeds_copy_what_their_marks_allow() {
    let seeds: std::collections::BTreeMap<String, Vec<u8>> =
        bamdb::fuzz::boxes::seed_corpus().into_iter().collect();
    let copied = |name: &str| bamdb::fuzz::boxes::box_import_counted(&seeds[name]);
    assert_eq!(copied("real_all"), 5);
    assert_eq!(copied("real_mark_2"), 2);
    assert_eq!(copied("real_mark_past"), 5);
    assert_eq!(copied("real_mark_0"), 0);
    assert_eq!(copied("real_torn"), 4);
    assert_eq!(copied("odd_payloads"), 4);
}

/// Regenerates the seed corpus:
/// `cargo test --test fuzz_replay_boxes -- --ignored write_seed_corpus`.
#[test]
#[ignore = "writes files into fuzz/corpus; run by hand to regenerate the seeds"]
fn write_seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/box_import");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in bamdb::fuzz::boxes::seed_corpus() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
