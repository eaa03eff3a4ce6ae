//! Opening a store tells a failing disk from damaged data. Before, every
//! failure while loading the manifest, the import files and the checkpoint
//! was a string the store wrapped as `StoreError::Corrupt` naming only the
//! `segments/` directory: a disk error sent the operator looking for
//! damage, and damage was not located to its file.

mod common;

use bamdb::storage::{CrashMode, Fault, MemStorage, Storage};
use bamdb::{EventStream, Store, StoreError, StoreOptions};
use common::*;

/// A closed store on a disk: one completed instance in an import file, one
/// active instance in the checkpoint.
fn closed_store() -> MemStorage {
    let disk = MemStorage::new();
    let store = Store::open_with_storage(disk.shared(), "/s", StoreOptions::default()).unwrap();
    store.deploy(po_definition()).unwrap();
    let mut s = store.direct_stream();
    s.begin(PO, "DONE").unwrap();
    s.end(PO, "DONE").unwrap();
    s.begin(PO, "OPEN").unwrap();
    s.flush().unwrap();
    store.close().unwrap();
    disk
}

fn checkpoint_of(disk: &MemStorage) -> std::path::PathBuf {
    let dir = std::path::Path::new("/s/segments");
    let names = disk.list_dir(dir).unwrap();
    let name = names
        .iter()
        .find(|n| n.ends_with(".ckpt"))
        .expect("a checkpoint");
    dir.join(name)
}

#[test]
fn a_damaged_checkpoint_is_corrupt_and_named() {
    let disk = closed_store();
    let path = checkpoint_of(&disk);
    let mut bytes = disk.read_file(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    assert!(disk.corrupt_file(&path, bytes));
    match Store::open_with_storage(disk.shared(), "/s", StoreOptions::default()) {
        Err(StoreError::Corrupt { location, .. }) => {
            assert!(
                location.starts_with(&path.display().to_string()),
                "{location}"
            )
        }
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(_) => panic!("a damaged checkpoint was loaded"),
    }
}

#[test]
fn an_io_error_at_any_step_of_open_is_never_reported_as_damage() {
    let disk = closed_store();
    let mut failed = 0;
    for step in 1..=80 {
        let image = disk.crash_image(CrashMode::KeepAll);
        // As after a crash: without the clean-end records a clean close
        // leaves, recovery syncs and writes, so the faults reach open (an
        // open that trusts them writes nothing at all).
        for log in ["/s/wal/CLEAN", "/s/quarantine/CLEAN"] {
            let _ = image.remove_file(std::path::Path::new(log));
        }
        image.inject(step, Fault::Eio);
        match Store::open_with_storage(image.shared(), "/s", StoreOptions::default()) {
            Ok(store) => drop(store),
            Err(e @ StoreError::Corrupt { .. }) => {
                panic!("step {step}: an I/O error reported as damage: {e}")
            }
            Err(_) => failed += 1,
        }
    }
    assert!(failed > 0, "the faults reached open");
}

#[test]
fn an_import_file_the_disk_cannot_open_is_an_io_error_naming_it() {
    let disk = closed_store();
    let dir = std::path::Path::new("/s/segments");
    let names = disk.list_dir(dir).unwrap();
    let file = dir.join(
        names
            .iter()
            .find(|n| n.ends_with(".seg"))
            .expect("an import file"),
    );
    disk.remove_file(&file).unwrap();
    match Store::open_with_storage(disk.shared(), "/s", StoreOptions::default()) {
        Err(StoreError::Io { op, path, .. }) => {
            assert_eq!(op, "open");
            assert_eq!(path, file);
        }
        Err(other) => panic!("expected Io, got {other}"),
        Ok(_) => panic!("opened without its import file"),
    }
}
