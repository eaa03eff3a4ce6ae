//! A corrupt frame between two good ones in a sealed message box segment:
//! both good ones are imported, the bad one is quarantined with its
//! location, and the bus carries on.

mod common;

use std::path::Path;
use std::time::Duration;

use bamdb::storage::{CrashMode, MemStorage};
use bamdb::wal::ReadItem;
use bamdb::{EventStream, Store, StoreOptions};
use common::*;

fn options() -> StoreOptions {
    let mut o = StoreOptions::default();
    o.wal.segment_size = 4096;
    o.wal.max_frame_size = 2048;
    // No checkpoint (and so no trim) during the test: the reopened store
    // imports the whole message box again.
    o.checkpoint_interval = Duration::from_secs(3600);
    o
}

#[test]
fn a_corrupt_frame_is_quarantined_with_its_location_and_import_carries_on() {
    let disk = MemStorage::new();
    let store = Store::open_with_storage(disk.shared(), "/store", options()).unwrap();
    store.deploy(po_definition()).unwrap();
    let mut s = store.buffered_stream(0);
    let mut receipts = Vec::new();
    for i in 0..150 {
        s.begin(PO, &format!("PO-{i}")).unwrap();
        s.update(
            PO,
            &format!("PO-{i}"),
            [("Customer", format!("customer {i}"))],
        )
        .unwrap();
        receipts.push(s.flush().unwrap().unwrap());
    }
    settle(&store);
    // The process dies here: no final checkpoint.
    let image = disk.crash_image(CrashMode::KeepAll);
    drop(s);
    drop(store);

    let victim = receipts[10].lsn;
    let location = {
        let wal = bamdb::wal::Wal::open_with_storage(image.shared(), "/store/wal", options().wal)
            .unwrap();
        assert!(wal.stats().segments > 2);
        let item = wal.reader(victim).next().unwrap().unwrap();
        match item {
            ReadItem::Frame(f) => f.location,
            other => panic!("{other:?}"),
        }
    };
    let mut bytes = image.read_file(&location.segment).unwrap();
    bytes[location.offset as usize + 40] ^= 0xFF;
    image.corrupt_file(&location.segment, bytes);

    let store = Store::open_with_storage(image.shared(), "/store", options()).unwrap();
    settle(&store);
    let (entries, _) = store.quarantine_entries().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert!(
        entry.reasons[0].contains("damaged message box region"),
        "{:?}",
        entry.reasons
    );
    assert_eq!(entry.source.lsns, (victim, victim));
    assert_eq!(entry.source.offset, location.offset);
    assert_eq!(Path::new(&entry.source.segment), location.segment);
    for (i, r) in receipts.iter().enumerate() {
        let found = store.get(PO, &format!("PO-{i}")).unwrap();
        assert_eq!(found.is_some(), r.lsn != victim, "PO-{i}");
    }
    assert_eq!(store.stats().applied_lsn, receipts[149].lsn);
    assert_eq!(store.stats().counters.frames_quarantined, 1);
}
