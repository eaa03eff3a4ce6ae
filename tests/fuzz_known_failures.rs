//! Fuzzer findings that are not fixed yet, kept as ignored tests so they
//! can be reproduced on stable with one command and turned on once fixed:
//!
//! `cargo test --test fuzz_known_failures -- --ignored`
//!
//! - `wal_segment` (`fuzz/regressions/wal_segment/stale_frame_served_after_recovery`):
//!   a segment (base LSN 1) holding, at its first frame position, a frame
//!   with valid checksums but LSN 2, then garbage, a valid frame with LSN 1
//!   and a damaged copy of the LSN 2 frame. Recovery opens it; a frame is
//!   appended; `reader(lsn)` for the appended LSN returns the stale LSN-2
//!   frame from offset 32 (payload `[2; 40]`) instead of the appended one.
//!   Likely cause (not confirmed): the reader trusts the first frame with the requested LSN it meets
//!   while scanning from the segment start, where recovery has decided a
//!   different frame holds that LSN.
//! - `store_ops` (`fuzz/regressions/store_ops/quarantine_dup_after_failed_append`,
//!   and `quarantine_dup_after_eio`, found again by a later run with an EIO):
//!   an injected ENOSPC/EIO lands on the quarantine log while the bus
//!   quarantines a frame; `Quarantine::append` drops the failed writer and
//!   reopens the log "so recovery decides what became durable", but
//!   recovery reads the page cache, which still holds the record whose
//!   sync failed, and the retry appends it again: two entries with the same
//!   source LSN (in a process-crash image; after a power loss the first one
//!   is gone since its durability was lost). Other runs of the same input
//!   leave a "damaged quarantine record" instead. Timing-dependent (the
//!   fault hits whichever thread makes the n-th I/O step), so the test
//!   replays the input several times.

use std::path::Path;

fn input(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

#[test]
#[ignore = "known failure: the reader serves a stale frame after recovery (see the header)"]
fn wal_segment_stale_frame_served_after_recovery() {
    bamdb::fuzz::wal::wal_segment(&input(
        "fuzz/regressions/wal_segment/stale_frame_served_after_recovery",
    ));
}

#[test]
#[ignore = "known failure: a failed quarantine append is retried into a duplicate (see the header)"]
fn store_ops_quarantine_dup_after_failed_append() {
    for name in [
        "quarantine_dup_after_failed_append",
        "quarantine_dup_after_eio",
        "quarantine_dup_run2",
    ] {
        let bytes = input(&format!("fuzz/regressions/store_ops/{name}"));
        for _ in 0..50 {
            bamdb::fuzz::store::store_ops(&bytes);
        }
    }
}
