//! Replays the checked-in seed corpus of the store-level fuzz target
//! (`fuzz/fuzz_targets/store_ops.rs`) through its hook on stable Rust, and
//! runs a few fixed operation sequences through the same hook: every event
//! kind on both stream kinds, a crash at each of the first I/O steps of a
//! small workload under each crash mode, and each fault kind at each of the
//! first steps. The hook checks the recovered store against a no-crash
//! store fed the acknowledged flushes (see `src/fuzz/store.rs`).

use std::path::Path;

use bamdb::fuzz::store::store_ops;

#[test]
fn store_ops_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/store_ops");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        println!("{}", path.display());
        store_ops(&bytes);
        files += 1;
    }
    assert!(files >= 5, "store_ops: only {files} corpus files");
}

fn push(s: u8, k: u8, a: u8, v: u8) -> Vec<u8> {
    vec![0, s, k, a, v]
}

/// Two orders, one shipped under its continuation token, one quarantined
/// batch, over two streams (`config` picks which are direct).
fn workload(config: u8) -> Vec<u8> {
    let mut ops = vec![config];
    for (id, token) in [(0u8, 0u8), (1, 1)] {
        let a = id | token << 2;
        for (k, v) in [(0, 0), (1, 4), (5, 0), (4, 0)] {
            ops.extend(push(id % 2, k, a, v));
        }
        ops.extend([7, id % 2]);
    }
    ops.extend(push(0, 8, 2, 0));
    ops.extend([7, 0]);
    ops.extend(push(1, 6, 0, 3));
    ops.extend(push(1, 7, 0, 0));
    ops.extend([7, 1, 11]);
    ops
}

#[test]
fn every_event_kind_on_both_stream_kinds_then_each_crash_mode() {
    for config in [1u8, 1 | 4, 1 | 8, 1 | 12] {
        for mode in 0..3u8 {
            let mut ops = vec![config];
            for k in 0..13u8 {
                ops.extend(push(k % 2, k, k, k.wrapping_mul(37)));
                ops.extend([7, k % 2]);
            }
            ops.extend([14, mode, 1]);
            ops.extend(push(0, 0, 3, 0));
            ops.extend([15]);
            store_ops(&ops);
        }
    }
}

#[test]
fn crash_at_each_early_io_step_under_each_mode() {
    for n in 0..24u8 {
        for mode in 0..3u8 {
            let mut ops = vec![13, n];
            ops.extend(workload(1 | 8).into_iter().skip(1));
            ops.extend([14, mode + 3 * n, 1]);
            ops.splice(0..0, [1 | 8]);
            store_ops(&ops);
        }
    }
}

#[test]
fn each_fault_at_each_early_io_step() {
    for n in 0..16u8 {
        for fault in 0..3u8 {
            let mut ops = vec![4 | 1, 12, n, fault];
            ops.extend(workload(4 | 1).into_iter().skip(1));
            ops.extend(workload(4 | 1).into_iter().skip(1));
            store_ops(&ops);
        }
    }
}

#[test]
fn a_crash_during_recovery_then_recover_again() {
    for r in [0u8, 4, 8, 12, 16, 20, 24, 28, 32, 64] {
        let mut ops = workload(1);
        ops.extend([14, 1, r]);
        ops.extend(workload(1).into_iter().skip(1));
        store_ops(&ops);
    }
}

/// Regenerates the seeds:
/// `cargo test --test fuzz_replay_store -- --ignored write_seed_corpus`.
#[test]
#[ignore = "writes files into fuzz/corpus; run by hand to regenerate the seeds"]
fn write_seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/store_ops");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in bamdb::fuzz::store::seed_corpus() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// Replays one input file through the hook (a fuzzer artifact, say):
/// `BAMDB_STORE_OPS_INPUT=path cargo test --test fuzz_replay_store -- --ignored replay_one_input --nocapture`.
#[test]
#[ignore = "replays the file named by BAMDB_STORE_OPS_INPUT"]
fn replay_one_input() {
    let path = std::env::var("BAMDB_STORE_OPS_INPUT").expect("BAMDB_STORE_OPS_INPUT");
    store_ops(&std::fs::read(path).unwrap());
}
