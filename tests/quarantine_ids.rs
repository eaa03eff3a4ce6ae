//! Quarantine entry ids: the id is the LSN of the entry's record in the
//! quarantine log (docs/FORMAT.md, "Quarantine log"). A failed or retried
//! append, or a crash, never skips an id nor writes an entry twice; the
//! only gaps are the ids of the log's other records (a replay's outcome, a
//! drop) and of damaged records.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use bamdb::storage::{CrashMode, Fault, MemStorage};
use bamdb::{EventStream, ReplayOutcome, Store, StoreOptions};
use common::*;

fn options() -> StoreOptions {
    StoreOptions {
        retry_backoff: Duration::from_millis(1),
        // No checkpoint I/O in the middle of the steps counted below.
        checkpoint_interval: Duration::from_secs(3600),
        ..StoreOptions::default()
    }
}

/// Entry ids and source LSNs, oldest first.
fn ids(store: &Store) -> (Vec<u64>, Vec<u64>) {
    let (entries, damaged) = store.quarantine_entries().unwrap();
    assert!(damaged.is_empty(), "{damaged:?}");
    (
        entries.iter().map(|e| e.id).collect(),
        entries.iter().map(|e| e.source.lsns.0).collect(),
    )
}

#[test]
fn a_failed_append_or_a_crash_skips_no_id() {
    for n in 1..=8 {
        for fault in [Fault::Eio, Fault::NoSpace] {
            let disk = MemStorage::new();
            let store = Store::open_with_storage(disk.shared(), "/store", options()).unwrap();
            let mut s = store.buffered_stream(0);
            let mut committed = Vec::new();
            s.begin("Invoice", "INV-1").unwrap();
            committed.push(s.flush().unwrap().unwrap().lsn);
            settle(&store);
            // The fault hits the message box append, the quarantine append
            // or its sync, depending on n.
            disk.inject(n, fault);
            s.begin("Invoice", "INV-2").unwrap();
            if let Ok(Some(r)) = s.flush() {
                committed.push(r.lsn);
            }
            store.sync(Duration::from_secs(10));
            let what = format!("{fault:?} at step {n}");
            let (ids, sources) = ids(&store);
            assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "{what}");
            let distinct: HashSet<u64> = sources.iter().copied().collect();
            assert_eq!(
                distinct.len(),
                sources.len(),
                "{what}: an entry written twice"
            );
            for lsn in &committed {
                assert!(sources.contains(lsn), "{what}: frame {lsn} not quarantined");
            }

            // After a crash the reopened store goes on from the next id.
            let image = disk.crash_image(CrashMode::DropUnsynced);
            disk.crash_now();
            drop(s);
            drop(store);
            let store = Store::open_with_storage(image.shared(), "/store", options()).unwrap();
            settle(&store);
            let (before, _) = self::ids(&store);
            let mut s = store.buffered_stream(0);
            s.begin("Invoice", "INV-3").unwrap();
            s.flush().unwrap();
            settle(&store);
            let (after, _) = self::ids(&store);
            let next = before.last().copied().unwrap_or(0) + 1;
            assert_eq!(
                after.last(),
                Some(&next),
                "{what}: {before:?} then {after:?}"
            );
        }
    }
}

#[test]
fn the_records_of_replays_and_drops_take_ids_between_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut s = store.buffered_stream(0);
    s.begin("Shipment", "SH-1").unwrap();
    s.flush().unwrap();
    s.begin("Shipment", "SH-2").unwrap();
    s.flush().unwrap();
    settle(&store);
    assert_eq!(ids(&store).0, vec![1, 2]);
    // A replay that fails again appends its outcome (id 3), a drop its
    // decision (id 4): the next entry is 5.
    assert!(matches!(
        store.replay_quarantined(1).unwrap(),
        ReplayOutcome::StillInvalid(_)
    ));
    store.drop_quarantined(&[2], "not wanted").unwrap();
    s.begin("Shipment", "SH-3").unwrap();
    s.flush().unwrap();
    settle(&store);
    assert_eq!(ids(&store).0, vec![1, 2, 5]);
}
