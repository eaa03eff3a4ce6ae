//! Power loss at every I/O step of a producer's message box, and of the
//! bus copying boxes into its store, on the in-memory disk (issue 16's
//! power-loss campaign, for the box and for the bus's store separately).
//! After each crash, what was not synced is lost, kept or torn; then the
//! box and the store must open, and after a full import every
//! acknowledged flush is in the store exactly once, the one in doubt whole
//! or not at all, nothing else.
//!
//! Long form: `BAMDB_BOX_CRASH_SEEDS=50 cargo test --release --test box_crash -- --nocapture`

mod common;

use std::time::Duration;

use bamdb::storage::{CrashMode, MemStorage};
use bamdb::wal::WalOptions;
use bamdb::{BoxOptions, EventStream, MessageBox, Store, StoreError};
use common::*;

const BOX: &str = "/s/boxes/p";
const FLUSHES: usize = 12;

fn box_options() -> BoxOptions {
    BoxOptions {
        wal: WalOptions {
            segment_size: 4096,
            max_frame_size: 2048,
            ..WalOptions::default()
        },
        ..BoxOptions::default()
    }
}

fn order(outbox: &MessageBox, n: usize) -> Result<(), StoreError> {
    let mut stream = outbox.buffered_stream();
    let id = format!("PO-{n}");
    stream.begin(PO, &id)?;
    stream.update(PO, &id, [("Amount", n as f64)])?;
    stream.end(PO, &id)?;
    stream.flush().map(|_| ())
}

fn mode(seed: u64, step: u64) -> CrashMode {
    match (seed + step) % 3 {
        0 => CrashMode::DropUnsynced,
        1 => CrashMode::KeepAll,
        _ => CrashMode::Random(seed * 7919 + step),
    }
}

fn seeds() -> u64 {
    std::env::var("BAMDB_BOX_CRASH_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
}

/// Imports every box of the store at `/s` on `disk` until nothing is
/// left; the orders present, checked whole and imported once each.
fn import_all(disk: &MemStorage, context: &str) -> Vec<usize> {
    let store = Store::open_with_storage(disk.shared(), "/s", mem_options())
        .unwrap_or_else(|e| panic!("{context}: the store must open: {e}"));
    loop {
        let pass = store
            .import_boxes(&[])
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        assert!(pass.problems.is_empty(), "{context}: {:?}", pass.problems);
        assert!(
            store.sync(Duration::from_secs(10)),
            "{context}: import stuck"
        );
        if pass.frames == 0 {
            break;
        }
    }
    let mut present: Vec<usize> = Vec::new();
    for instance in store.instances(PO).unwrap() {
        let n: usize = instance.id.trim_start_matches("PO-").parse().unwrap();
        assert!(instance.end.is_some(), "{context}: PO-{n} is not whole");
        assert_eq!(
            instance.item("Amount"),
            Some(&bamdb::model::Value::Float(n as f64)),
            "{context}"
        );
        present.push(n);
    }
    present.sort_unstable();
    assert_eq!(
        store.stats().counters.frames_imported,
        present.len() as u64,
        "{context}: a frame imported twice"
    );
    present
}

/// A store at `/s` with the PurchaseOrder deployed, closed.
fn deployed(disk: &MemStorage) {
    let store = open_mem(disk, mem_options());
    store.close().unwrap();
}

#[test]
fn power_loss_at_every_step_of_a_producer_keeps_every_acknowledged_flush() {
    let total_steps = {
        let disk = MemStorage::new();
        let outbox = MessageBox::open_with_storage(disk.shared(), BOX, box_options()).unwrap();
        for n in 0..FLUSHES {
            order(&outbox, n).unwrap();
        }
        disk.steps()
    };
    let mut states = 0;
    for seed in 0..seeds() {
        for step in 1..=total_steps {
            let disk = MemStorage::new();
            disk.crash_after(step);
            let mut acked = 0;
            if let Ok(outbox) = MessageBox::open_with_storage(disk.shared(), BOX, box_options()) {
                for n in 0..FLUSHES {
                    if order(&outbox, n).is_err() {
                        break;
                    }
                    acked += 1;
                }
            }
            let image = disk.crash_image(mode(seed, step));
            let context = format!("producer crash at step {step}/{total_steps}, {acked} acked");
            // The producer comes back and goes on.
            let outbox = MessageBox::open_with_storage(image.shared(), BOX, box_options())
                .unwrap_or_else(|e| panic!("{context}: the box must open: {e}"));
            order(&outbox, FLUSHES).unwrap_or_else(|e| panic!("{context}: {e}"));
            drop(outbox);
            deployed(&image);
            let present = import_all(&image, &context);
            let expected: Vec<usize> = (0..acked).chain([FLUSHES]).collect();
            let with_doubt: Vec<usize> = (0..=acked).chain([FLUSHES]).collect();
            assert!(
                present == expected || (acked < FLUSHES && present == with_doubt),
                "{context}: present {present:?}"
            );
            states += 1;
        }
    }
    println!("producer crash states: {states} ({total_steps} I/O steps per run)");
}

#[test]
fn power_loss_at_every_step_of_the_bus_copies_each_frame_once() {
    // The box is full and untouched by the crash; the bus crashes.
    let prepared = MemStorage::new();
    {
        let outbox = MessageBox::open_with_storage(prepared.shared(), BOX, box_options()).unwrap();
        for n in 0..FLUSHES {
            order(&outbox, n).unwrap();
        }
    }
    deployed(&prepared);
    let run = |disk: &MemStorage| -> Result<(), StoreError> {
        // Copy in two passes (the box's segments end between them), mark
        // what was imported, and close (a checkpoint).
        let store = Store::open_with_storage(disk.shared(), "/s", mem_options())?;
        for _ in 0..3 {
            store.import_boxes(&[])?;
            if !store.sync(Duration::from_secs(5)) {
                break;
            }
        }
        store.close()
    };
    let total_steps = {
        let disk = prepared.crash_image(CrashMode::KeepAll);
        let before = disk.steps();
        run(&disk).unwrap();
        disk.steps() - before
    };
    let mut states = 0;
    for seed in 0..seeds() {
        for step in 1..=total_steps {
            let disk = prepared.crash_image(CrashMode::KeepAll);
            disk.crash_after(step);
            let _ = run(&disk);
            let mut image = disk.crash_image(mode(seed, step));
            if step % 5 == 0 {
                // And again during the recovery.
                image.crash_after(1 + seed % 6);
                let _ = run(&image);
                image = image.crash_image(CrashMode::DropUnsynced);
            }
            let context = format!("bus crash at step {step}/{total_steps}");
            let present = import_all(&image, &context);
            assert_eq!(present, (0..FLUSHES).collect::<Vec<_>>(), "{context}");
            states += 1;
        }
    }
    println!("bus crash states: {states} ({total_steps} I/O steps per run)");
}
