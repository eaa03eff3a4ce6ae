#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::storage::{FsStorage, MemStorage};

type Key = (String, String);
type Model = BTreeMap<Key, Option<Vec<u8>>>;
/// A model's entries in order.
type Entries = Vec<(Key, Option<Vec<u8>>)>;

fn entries_of(model: &Model) -> impl Iterator<Item = Result<RunEntry<'_>, ImportFileError>> {
    model.iter().map(|((a, i), v)| {
        Ok(RunEntry {
            activity: a,
            id: i,
            value: v.as_deref(),
        })
    })
}

fn write_model(
    storage: &dyn Storage,
    dir: &Path,
    name: &str,
    model: &Model,
    spill_at: usize,
) -> RunSummary {
    write_run_spilling_at(
        storage,
        dir,
        name,
        model.len() as u64,
        entries_of(model),
        spill_at,
    )
    .unwrap()
}

fn mem_disk() -> (MemStorage, PathBuf) {
    let disk = MemStorage::new();
    let dir = PathBuf::from("/runs");
    disk.create_dir_all(&dir).unwrap();
    (disk, dir)
}

/// The entries of an iterator, as owned model pairs (panics on `Err`).
fn owned<'a>(it: impl Iterator<Item = Result<RunEntry<'a>, ImportFileError>>) -> Entries {
    it.map(|e| {
        let e = e.unwrap();
        (
            (e.activity.to_owned(), e.id.to_owned()),
            e.value.map(<[u8]>::to_vec),
        )
    })
    .collect()
}

fn model_from(model: &Model, from: &(String, String)) -> Entries {
    model
        .range(from.clone()..)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn found(v: &Option<Vec<u8>>) -> Found<'_> {
    v.as_deref().map_or(Found::Tombstone, Found::Value)
}

/// Every property of one written run against its model.
fn check_run(run: &ActiveRun, model: &Model, probes: &[(String, String)], summary: RunSummary) {
    let tombstones = model.values().filter(|v| v.is_none()).count() as u64;
    assert_eq!(summary.entries, model.len() as u64);
    assert_eq!(summary.tombstones, tombstones);
    assert_eq!(summary.bytes, run.bytes);
    assert_eq!((run.entries, run.tombstones), (summary.entries, tombstones));
    for (k, v) in model {
        assert!(run.may_contain(&k.0, &k.1));
        assert_eq!(run.get(&k.0, &k.1).unwrap(), Some(found(v)), "{k:?}");
    }
    for p in probes {
        assert_eq!(
            run.get(&p.0, &p.1).unwrap(),
            model.get(p).map(found),
            "{p:?}"
        );
        assert_eq!(
            owned(run.iter_from(&p.0, &p.1)),
            model_from(model, p),
            "from {p:?}"
        );
    }
    assert_eq!(
        owned(run.iter()),
        model_from(model, &(String::new(), String::new()))
    );
    assert_eq!(run.verify().unwrap(), summary);
    run.release_pages();
    // Still readable after the pages are dropped.
    assert_eq!(run.iter().count(), model.len());
}

fn part() -> impl Strategy<Value = String> {
    // Small alphabets so keys collide across runs; empty strings, a zero
    // byte and a multi-byte character to test the byte order.
    "[ab\u{0}é]{0,3}"
}

fn key() -> impl Strategy<Value = (String, String)> {
    (part(), part())
}

fn model_strategy(max: usize) -> impl Strategy<Value = Model> {
    prop::collection::btree_map(
        key(),
        prop::option::weighted(0.8, prop::collection::vec(any::<u8>(), 0..300)),
        0..max,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_run_answers_like_its_model_in_memory(
        model in model_strategy(200),
        probes in prop::collection::vec(key(), 0..20),
        spill_at in prop::sample::select(vec![1usize, 40, SPILL_LEN]),
    ) {
        let (disk, dir) = mem_disk();
        let summary = write_model(&disk, &dir, "1.run", &model, spill_at);
        // Nothing but the run is left: no temp or side file.
        prop_assert_eq!(disk.list_dir(&dir).unwrap(), vec!["1.run".to_string()]);
        let run = ActiveRun::open(&disk, &dir, "1.run").unwrap();
        check_run(&run, &model, &probes, summary);
    }

    #[test]
    fn a_run_answers_like_its_model_on_real_files(
        model in model_strategy(200),
        probes in prop::collection::vec(key(), 0..20),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let fs = FsStorage;
        let summary = write_model(&fs, tmp.path(), "1.run", &model, SPILL_LEN);
        let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        prop_assert_eq!(names, vec![std::ffi::OsString::from("1.run")]);
        let run = ActiveRun::open(&fs, tmp.path(), "1.run").unwrap();
        check_run(&run, &model, &probes, summary);
    }

    #[test]
    fn merged_runs_equal_the_runs_applied_oldest_to_newest(
        models in prop::collection::vec(model_strategy(60), 1..5),
        probes in prop::collection::vec(key(), 0..10),
    ) {
        let (disk, dir) = mem_disk();
        let mut expected = Model::new();
        let mut runs = Vec::new();
        for (n, model) in models.iter().enumerate() {
            let name = format!("{n}.run");
            write_model(&disk, &dir, &name, model, SPILL_LEN);
            runs.push(Arc::new(ActiveRun::open(&disk, &dir, &name).unwrap()));
            expected.extend(model.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        prop_assert_eq!(owned(merge_runs(&runs)), model_from(&expected, &(String::new(), String::new())));
        for p in &probes {
            prop_assert_eq!(owned(merge_runs_from(&runs, &p.0, &p.1)), model_from(&expected, p));
        }
    }
}

#[test]
fn active_run_is_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<ActiveRun>();
}

#[test]
fn an_empty_run_is_valid() {
    let (disk, dir) = mem_disk();
    let summary = write_model(&disk, &dir, "e.run", &Model::new(), SPILL_LEN);
    let run = ActiveRun::open(&disk, &dir, "e.run").unwrap();
    check_run(&run, &Model::new(), &[("a".into(), "b".into())], summary);
    assert!(!run.may_contain("a", "b"));
    assert_eq!(owned(merge_runs(&[Arc::new(run)])), vec![]);
    assert_eq!(owned(merge_runs(&[])), vec![]);
}

#[test]
fn an_entry_larger_than_a_block_gets_a_block_of_its_own() {
    let (disk, dir) = mem_disk();
    let mut model = Model::new();
    for (i, len) in [10, 9000, 20, 4096, 0, 5000, 3].into_iter().enumerate() {
        model.insert(("A".into(), format!("{i}")), Some(vec![i as u8; len]));
    }
    model.insert(("A".into(), "9".into()), None);
    let summary = write_model(&disk, &dir, "big.run", &model, SPILL_LEN);
    let run = ActiveRun::open(&disk, &dir, "big.run").unwrap();
    check_run(&run, &model, &[("A".into(), "55".into())], summary);
    // 10 | 9000 | 20, 4096 (over the target together) | ... : the big
    // ones alone.
    assert!(run.layout.block_count >= 5, "{}", run.layout.block_count);
    for i in 0..run.layout.block_count {
        let block = run.block(i).unwrap();
        if block.body.len() > BLOCK_TARGET {
            let (_, next) = run.entry(&block, 0).unwrap();
            assert_eq!(next, block.body.len());
        }
    }
}

fn disk_files(disk: &MemStorage, dir: &Path) -> Vec<String> {
    disk.list_dir(dir).unwrap()
}

#[test]
fn unsorted_or_duplicate_keys_are_refused_and_leave_no_file() {
    let (disk, dir) = mem_disk();
    let e = |a: &'static str, i: &'static str| {
        Ok(RunEntry {
            activity: a,
            id: i,
            value: Some(b"v"),
        })
    };
    for bad in [
        vec![e("a", "2"), e("a", "1")],
        vec![e("a", "1"), e("a", "1")],
        vec![e("b", ""), e("a", "z")],
        vec![e("a", "x"), e("a", "y"), e("a", "y")],
    ] {
        // Tombstone and value with the same key are duplicates too.
        let err = write_run(&disk, &dir, "x.run", 3, bad).unwrap_err();
        assert!(matches!(err, ImportFileError::Encode { .. }), "{err}");
        assert_eq!(disk_files(&disk, &dir), Vec::<String>::new());
    }
    let dup_tombstone = vec![
        e("a", "1"),
        Ok(RunEntry {
            activity: "a",
            id: "1",
            value: None,
        }),
    ];
    assert!(write_run(&disk, &dir, "x.run", 2, dup_tombstone).is_err());
    // Ordered by activity first: ("a", "z") < ("ab", "").
    write_run(&disk, &dir, "ok.run", 2, vec![e("a", "z"), e("ab", "")]).unwrap();
    assert_eq!(disk_files(&disk, &dir), vec!["ok.run".to_string()]);
}

#[test]
fn a_key_part_or_value_over_the_limit_is_refused() {
    let (disk, dir) = mem_disk();
    let long = "x".repeat(usize::from(u16::MAX) + 1);
    let err = write_run(
        &disk,
        &dir,
        "x.run",
        1,
        [Ok(RunEntry {
            activity: "a",
            id: &long,
            value: None,
        })],
    )
    .unwrap_err();
    assert!(matches!(err, ImportFileError::Encode { .. }), "{err}");
    let big = vec![0u8; MAX_VALUE + 1];
    let err = write_run(
        &disk,
        &dir,
        "x.run",
        1,
        [Ok(RunEntry {
            activity: "a",
            id: "b",
            value: Some(&big),
        })],
    )
    .unwrap_err();
    assert!(matches!(err, ImportFileError::Encode { .. }), "{err}");
    assert_eq!(disk_files(&disk, &dir), Vec::<String>::new());
}

#[test]
fn an_error_from_the_entries_aborts_the_write_and_leaves_no_file() {
    let (disk, dir) = mem_disk();
    let ids: Vec<String> = (0..5000).map(|i| format!("{i:06}")).collect();
    let value = vec![7u8; 100];
    // Far enough in that blocks were written and the index spilled.
    let entries = ids.iter().enumerate().map(|(n, id)| {
        if n == 4000 {
            return Err(ImportFileError::corrupt(
                Path::new("/src"),
                Some(9),
                "source damaged",
            ));
        }
        Ok(RunEntry {
            activity: "A",
            id,
            value: Some(&value),
        })
    });
    let err = write_run_spilling_at(&disk, &dir, "x.run", 5000, entries, 100).unwrap_err();
    assert_eq!(err.to_string(), "/src at byte 9: source damaged");
    assert_eq!(disk_files(&disk, &dir), Vec::<String>::new());
    // A new write of the same name is not disturbed by the failed one.
    let model: Model = [(("A".into(), "1".into()), Some(b"one".to_vec()))].into();
    write_model(&disk, &dir, "x.run", &model, 1);
    assert_eq!(disk_files(&disk, &dir), vec!["x.run".to_string()]);
}

/// A small run (three blocks, tombstones), its model and its bytes.
fn small_run() -> (MemStorage, PathBuf, Model, Vec<u8>) {
    let (disk, dir) = mem_disk();
    let mut model = Model::new();
    for i in 0..100u32 {
        let value = (i % 5 != 0).then(|| vec![i as u8; (i as usize * 37) % 250]);
        model.insert((format!("Act{}", i % 3), format!("id-{i}")), value);
    }
    write_model(&disk, &dir, "s.run", &model, SPILL_LEN);
    let bytes = disk.read_file(&dir.join("s.run")).unwrap();
    (disk, dir, model, bytes)
}

/// Everything a reader can ask of a damaged copy: no panic, and every
/// answer that is `Ok` is the undamaged run's.
fn check_damaged(disk: &MemStorage, dir: &Path, model: &Model, what: &str) {
    let Ok(run) = ActiveRun::open(disk, dir, "s.run") else {
        return;
    };
    // The counts come from the checksummed footer.
    assert_eq!(run.entries, model.len() as u64, "{what}");
    let absent = [
        ("Act1".to_string(), "id-0".to_string()),
        ("Z".into(), "".into()),
    ];
    for k in model.keys().chain(&absent) {
        let expected = model.get(k).map(found);
        if let Ok(answer) = run.get(&k.0, &k.1) {
            assert_eq!(answer, expected, "{what}: get {k:?}");
        }
    }
    let all = model_from(model, &(String::new(), String::new()));
    let mut n = 0;
    for e in run.iter() {
        let Ok(e) = e else { break };
        let got = (
            (e.activity.to_owned(), e.id.to_owned()),
            e.value.map(<[u8]>::to_vec),
        );
        assert_eq!(Some(&got), all.get(n), "{what}: entry {n}");
        n += 1;
    }
    let mid = &all[all.len() / 2].0;
    for (n, e) in run.iter_from(&mid.0, &mid.1).enumerate() {
        let Ok(e) = e else { break };
        assert_eq!(
            e.key(),
            key_of(&all[all.len() / 2 + n].0 .0, &all[all.len() / 2 + n].0 .1),
            "{what}"
        );
    }
    if let Ok(summary) = run.verify() {
        assert_eq!(summary.entries, model.len() as u64, "{what}");
        assert_eq!(n, all.len(), "{what}: verified but the scan stopped");
    }
}

#[test]
fn every_flipped_byte_is_reported_or_harmless() {
    let (disk, dir, model, good) = small_run();
    let path = dir.join("s.run");
    let blocks = ActiveRun::open(&disk, &dir, "s.run")
        .unwrap()
        .layout
        .block_count;
    assert!(blocks >= 3, "{blocks} blocks");
    let mut reported = 0;
    for at in 0..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 1 << (at % 8);
        assert!(disk.corrupt_file(&path, bad));
        check_damaged(&disk, &dir, &model, &format!("bit flip at {at}"));
        // A flip anywhere is found by the full check.
        let found = ActiveRun::open(&disk, &dir, "s.run").and_then(|r| r.verify());
        assert!(found.is_err(), "flip at {at} not found by verify");
        reported += 1;
    }
    assert_eq!(reported, good.len());
}

#[test]
fn every_truncation_is_an_error_never_a_panic() {
    let (disk, dir, model, good) = small_run();
    let path = dir.join("s.run");
    for len in 0..good.len() {
        assert!(disk.corrupt_file(&path, good[..len].to_vec()));
        check_damaged(&disk, &dir, &model, &format!("truncated to {len}"));
        let found = ActiveRun::open(&disk, &dir, "s.run").and_then(|r| r.verify());
        assert!(found.is_err(), "truncation to {len} not found");
    }
}

#[test]
fn damage_is_located_in_the_block_or_chunk_that_holds_it() {
    let (disk, dir, model, good) = small_run();
    let path = dir.join("s.run");
    let run = ActiveRun::open(&disk, &dir, "s.run").unwrap();
    let (key, _) = model.iter().next_back().unwrap();
    let (last_block, _, _) = run.index_entry(run.layout.block_count - 1).unwrap();
    let mut bad = good.clone();
    bad[last_block + BLOCK_HEADER_LEN + 3] ^= 0x40;
    disk.corrupt_file(&path, bad);
    let run = ActiveRun::open(&disk, &dir, "s.run").unwrap();
    let err = run.get(&key.0, &key.1).unwrap_err();
    assert!(
        matches!(&err, ImportFileError::Corrupt { offset: Some(o), .. } if *o == last_block as u64),
        "{err}"
    );
    // The first block is still served.
    let (first, v) = model.iter().next().unwrap();
    assert_eq!(run.get(&first.0, &first.1).unwrap(), Some(found(v)));
    let mut bad = good.clone();
    bad[run.layout.filter.start + 1] ^= 1;
    disk.corrupt_file(&path, bad);
    let run = ActiveRun::open(&disk, &dir, "s.run").unwrap();
    assert!(matches!(run.verify(), Err(ImportFileError::Corrupt { .. })));
    // A damaged filter never hides a key.
    for k in model.keys() {
        assert!(run.may_contain(&k.0, &k.1));
    }
}

#[test]
fn a_wrong_magic_or_version_is_refused() {
    let (disk, dir, _, good) = small_run();
    let path = dir.join("s.run");
    let mut bad = good.clone();
    bad[9] = 2;
    disk.corrupt_file(&path, bad);
    assert!(matches!(
        ActiveRun::open(&disk, &dir, "s.run"),
        Err(ImportFileError::UnsupportedVersion { version: 513, .. })
    ));
    let mut bad = good.clone();
    bad[0] = b'X';
    disk.corrupt_file(&path, bad);
    assert!(matches!(
        ActiveRun::open(&disk, &dir, "s.run"),
        Err(ImportFileError::Corrupt {
            offset: Some(0),
            ..
        })
    ));
}

#[test]
fn a_large_run_streams_and_merges() {
    const N: usize = 50_000;
    let (disk, dir) = mem_disk();
    let ids: Vec<String> = (0..N).map(|i| format!("{i:08}")).collect();
    let value = [0xABu8; 60];
    // Produced on the fly from borrowed keys: the writer sees one entry
    // at a time (and spills its index past 4 KiB here).
    let entries = ids.iter().enumerate().map(|(n, id)| {
        Ok(RunEntry {
            activity: "Order",
            id,
            value: (n % 7 != 0).then_some(&value[..n % 61]),
        })
    });
    let summary = write_run_spilling_at(&disk, &dir, "big.run", N as u64, entries, 4096).unwrap();
    assert_eq!(summary.entries, N as u64);
    assert_eq!(summary.tombstones, N.div_ceil(7) as u64);
    assert_eq!(disk_files(&disk, &dir), vec!["big.run".to_string()]);
    let big = Arc::new(ActiveRun::open(&disk, &dir, "big.run").unwrap());
    assert_eq!(big.verify().unwrap(), summary);
    for n in [0, 1, 6, 7, 4095, 25_000, N - 1] {
        let expected = if n % 7 == 0 {
            Found::Tombstone
        } else {
            Found::Value(&value[..n % 61])
        };
        assert_eq!(big.get("Order", &ids[n]).unwrap(), Some(expected));
    }
    assert_eq!(big.get("Order", "zzz").unwrap(), None);
    // Few false positives at 10 bits per key (248 of 10,000 measured).
    let false_positives = (0..10_000)
        .filter(|i| big.may_contain("Order", &format!("x{i}")))
        .count();
    assert!(false_positives < 400, "{false_positives} of 10,000");
    // A newer run that deletes every other thousandth key, merged.
    let newer: Model = (0..N)
        .step_by(1000)
        .map(|n| (("Order".to_string(), ids[n].clone()), None))
        .collect();
    write_model(&disk, &dir, "new.run", &newer, SPILL_LEN);
    let runs = vec![
        big.clone(),
        Arc::new(ActiveRun::open(&disk, &dir, "new.run").unwrap()),
    ];
    let mut count = 0;
    let mut tombstones = 0;
    for e in merge_runs(&runs) {
        let e = e.unwrap();
        count += 1;
        tombstones += usize::from(e.value.is_none());
    }
    assert_eq!(count, N);
    let old_tombstones = N.div_ceil(7);
    let new_only = (0..N).step_by(1000).filter(|n| n % 7 != 0).count();
    assert_eq!(tombstones, old_tombstones + new_only);
    assert_eq!(merge_runs_from(&runs, "Order", &ids[N - 10]).count(), 10);
}

#[test]
fn runs_are_read_from_many_threads() {
    let (disk, dir, model, _) = small_run();
    let run = Arc::new(ActiveRun::open(&disk, &dir, "s.run").unwrap());
    let model = Arc::new(model);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (run, model) = (run.clone(), model.clone());
            std::thread::spawn(move || {
                for (k, v) in model.iter() {
                    assert_eq!(run.get(&k.0, &k.1).unwrap(), Some(found(v)));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn more_entries_than_expected_are_all_found() {
    let (disk, dir) = mem_disk();
    let model: Model = (0..2000)
        .map(|i| (("A".to_string(), format!("{i}")), Some(vec![1u8; i % 7])))
        .collect();
    // The filter is sized for one key; it fills up but never says no.
    write_run(&disk, &dir, "u.run", 1, entries_of(&model)).unwrap();
    let run = ActiveRun::open(&disk, &dir, "u.run").unwrap();
    for (k, v) in &model {
        assert_eq!(run.get(&k.0, &k.1).unwrap(), Some(found(v)));
    }
    assert_eq!(run.verify().unwrap().entries, 2000);
}

#[test]
fn a_damaged_run_ends_a_scan_and_a_merge_with_an_error() {
    let (disk, dir, model, good) = small_run();
    let older: Model = [(("Act0".to_string(), "id-0".to_string()), None)].into();
    write_model(&disk, &dir, "0.run", &older, SPILL_LEN);
    let run = ActiveRun::open(&disk, &dir, "s.run").unwrap();
    let (second_block, _, _) = run.index_entry(1).unwrap();
    let mut bad = good.clone();
    bad[second_block + BLOCK_HEADER_LEN + 1] ^= 0x08;
    disk.corrupt_file(&dir.join("s.run"), bad);
    let run = Arc::new(ActiveRun::open(&disk, &dir, "s.run").unwrap());
    let mut scan = run.iter();
    let first_block = scan.by_ref().take_while(Result::is_ok).count();
    assert!(first_block > 0 && first_block < model.len());
    assert!(scan.next().is_none(), "the scan goes on after an error");
    let runs = vec![
        Arc::new(ActiveRun::open(&disk, &dir, "0.run").unwrap()),
        run,
    ];
    let mut merged = merge_runs(&runs);
    let before = merged.by_ref().take_while(Result::is_ok).count();
    assert_eq!(before, first_block);
    assert!(merged.next().is_none(), "the merge goes on after an error");
    assert!(matches!(
        merge_runs_from(&runs, "Act2", "").find(Result::is_err),
        Some(Err(ImportFileError::Corrupt { .. }))
    ));
}
