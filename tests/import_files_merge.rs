//! Each checkpoint with newly completed instances writes an import file;
//! small files are merged so their number stays bounded, and every
//! instance stays readable, before and after a restart.

mod common;

use std::time::Duration;

use bamdb::storage::MemStorage;
use bamdb::{EventStream, Status, Store};
use common::*;

#[test]
fn import_files_stay_bounded_and_every_instance_stays_readable() {
    let disk = MemStorage::new();
    let options = || {
        let mut o = mem_options();
        o.checkpoint_frames = 2;
        o.checkpoint_interval = Duration::from_secs(3600);
        o
    };
    let store = open_mem(&disk, options());
    let mut s = store.buffered_stream(0);
    let mut max_files = 0;
    for i in 0..120 {
        let id = format!("PO-{i}");
        s.begin(PO, &id).unwrap();
        s.update(PO, &id, [("Amount", i as f64)]).unwrap();
        s.end(PO, &id).unwrap();
        s.flush().unwrap();
        settle(&store);
        max_files = max_files.max(store.stats().import_files);
    }
    assert!(max_files <= 9, "import files grew to {max_files}");
    assert_eq!(store.stats().completed, 120);
    let check = |store: &Store| {
        for i in 0..120 {
            let po = store.get(PO, &format!("PO-{i}")).unwrap().unwrap();
            assert_eq!(po.status, Status::Completed);
            assert_eq!(po.item("Amount"), Some(&(i as f64).into()));
        }
        assert_eq!(store.instances(PO).unwrap().len(), 120);
    };
    check(&store);
    drop(s);
    drop(store);
    let store = Store::open_with_storage(disk.shared(), "/s", options()).unwrap();
    check(&store);
    assert!(store.stats().import_files <= 9);
}
