//! Replays the checked-in fuzz seed corpus of shipped messages (what a
//! central bus receives from NATS) through the entry point its fuzz target
//! uses (`fuzz/fuzz_targets/shipped_message.rs`), so stable CI covers it.

mod fuzz_common;

use std::path::Path;

use fuzz_common::replay;

#[test]
fn shipped_message_corpus() {
    replay("shipped_message", bamdb::fuzz::ship::shipped_message, 7);
}

/// The seeds reach the store: the real ones decode, the damaged do not.
#[test]
fn the_seeds_decode_as_intended() {
    for (name, bytes) in bamdb::fuzz::ship::seed_corpus() {
        let decoded = bamdb::ship::message::decode(&bytes);
        let damaged = matches!(name.as_str(), "checksum_flipped" | "short");
        assert_eq!(decoded.is_err(), damaged, "{name}: {decoded:?}");
    }
}

/// Regenerates the seed corpus:
/// `cargo test --test fuzz_replay_ship -- --ignored write_seed_corpus`.
#[test]
#[ignore = "writes files into fuzz/corpus; run by hand to regenerate the seeds"]
fn write_seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/shipped_message");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in bamdb::fuzz::ship::seed_corpus() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
