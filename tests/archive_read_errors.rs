//! Reading archived instances tells a failing disk from a damaged file.
//! Before, every failure of the import-file layer was a string the store
//! wrapped as `StoreError::Corrupt`: an archive file the operating system
//! could not open was reported as corrupt data, which sends an operator to
//! restore a backup when the disk (or its permissions) is the problem.

mod common;

use std::path::Path;
use std::time::Duration;

use bamdb::model::Value;
use bamdb::storage::{MemStorage, Storage};
use bamdb::{EventStream, Retention, RetentionAction, Store, StoreError, StoreOptions};
use common::*;

/// A store on `disk` with two instances archived by retention; returns the
/// archive file's path.
fn store_with_archive(disk: &MemStorage) -> (Store, std::path::PathBuf) {
    let store = Store::open_with_storage(disk.shared(), "/s", StoreOptions::default()).unwrap();
    store.deploy(po_definition()).unwrap();
    let mut s = store.buffered_stream(0);
    s.set_time(Some(ts("2020-01-01T00:00:00Z")));
    for id in ["OLD-1", "OLD-2"] {
        s.begin(PO, id).unwrap();
        s.update(PO, id, [("Amount", Value::Float(1.0))]).unwrap();
        s.end(PO, id).unwrap();
    }
    s.flush().unwrap();
    settle(&store);
    // Returns once the archive file is written and named by the manifest.
    store
        .apply_retention(Retention {
            online_window: Duration::from_secs(30 * 86_400),
            action: RetentionAction::Archive,
        })
        .unwrap();
    assert_eq!(store.archived(PO).unwrap().len(), 2, "retention archived");
    let archive = Path::new("/s/archive");
    let names = disk.list_dir(archive).unwrap();
    assert_eq!(names.len(), 1, "{names:?}");
    (store, archive.join(&names[0]))
}

#[test]
fn an_archive_file_the_disk_cannot_open_is_an_io_error_naming_it() {
    let disk = MemStorage::new();
    let (store, path) = store_with_archive(&disk);
    // The disk stops answering (every operation fails from now on).
    disk.crash_now();
    for result in [
        store.archived(PO).map(|_| ()),
        store.get_archived(PO, "OLD-1").map(|_| ()),
    ] {
        match result {
            Err(StoreError::Io { op, path: p, .. }) => {
                assert_eq!(op, "open");
                assert_eq!(p, path);
            }
            other => panic!("expected an I/O error, got {other:?}"),
        }
    }
}

#[test]
fn a_damaged_archive_file_is_corrupt_with_its_name_and_the_byte() {
    let disk = MemStorage::new();
    let (store, path) = store_with_archive(&disk);
    let mut bytes = disk.read_file(&path).unwrap();
    // Inside the first record's body, past the 16-byte file header and
    // the record's 8-byte header.
    bytes[16 + 8 + 2] ^= 0x10;
    disk.corrupt_file(&path, bytes);
    let err = store.archived(PO).unwrap_err();
    match &err {
        StoreError::Corrupt { location, reason } => {
            assert_eq!(location, &format!("{} at byte 16", path.display()));
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}

/// A read-only reader finds what the writer archived, and searches and
/// aggregations read the archive only when their selection asks.
#[test]
fn readers_and_queries_read_the_archive_when_asked() {
    use bamdb::query::{Aggregate, Search};
    let disk = MemStorage::new();
    let (store, _) = store_with_archive(&disk);
    let mut search = Search::new(PO);
    assert!(store.search(&search).unwrap().is_empty());
    search.include_archived = true;
    assert_eq!(store.search(&search).unwrap().len(), 2);
    let mut agg = Aggregate::new(PO);
    agg.measures = vec![bamdb::query::Measure::Count];
    agg.include_archived = true;
    let counted = store.aggregate(&agg).unwrap();
    assert_eq!(counted.rows[0].cells[0], bamdb::query::Cell::Int(2));
    store.close().unwrap();

    let reader = bamdb::StoreReader::open_with_storage(disk.shared(), "/s").unwrap();
    assert_eq!(reader.archived(PO).unwrap().len(), 2);
    assert!(reader.get_archived(PO, "OLD-2").unwrap().is_some());
    assert_eq!(reader.search(&search).unwrap().len(), 2);
}
