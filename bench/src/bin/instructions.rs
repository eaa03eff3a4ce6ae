//! bamdb-instructions: the write path's work per event in instructions,
//! for `bench/instructions.sh` to run under `valgrind --tool=callgrind`
//! (instruction counts do not move with the noise of a shared machine).
//!
//! - `push --activities N`: pushes N typical PurchaseOrder activities (five
//!   events each) through a buffered stream's public API, clearing the
//!   buffer every 100 activities instead of flushing, so only the API call
//!   and the encoding are counted. The 100 activities' values are made
//!   once and reused, so making them is not counted per event.
//! - `commit --activities N`: the same pushes, committed every 100
//!   activities as one frame into a producer's own message box (no bus):
//!   push plus the frame write (checksum, `pwrite`, `fdatasync`; a system
//!   call counts as one instruction, so this is the CPU's share).
//! - `prepare --dir DIR --activities N`: a store with the definition
//!   deployed and N activities committed to its message box in frames of
//!   100, not imported (run outside valgrind).
//! - `import --dir DIR`: opens the store prepared above, waits until the bus
//!   imported everything, closes it (the checkpoint writes the import
//!   files): recovery, decode, validation, apply and the file build.
//!
//! The script runs each at two sizes and divides the difference by the
//! difference in events, which cancels the fixed cost of start-up.

use std::path::PathBuf;
use std::time::Duration;

use bamdb::fixture::{self, TypicalOrder, ACTIVITY, TYPICAL_EVENTS};
use bamdb::model::{encode_batch, Event, Limits, Timestamp};
use bamdb::wal::{Wal, WalOptions};
use bamdb::{BoxOptions, EventStream, MessageBox, Store, StoreOptions};

const PER_FRAME: u64 = 100;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    if let Err(e) = run() {
        eprintln!("bamdb-instructions: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().ok_or(USAGE)?;
    let (mut activities, mut dir) = (0u64, None);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--activities" => activities = value.parse()?,
            "--dir" => dir = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}").into()),
        }
    }
    match mode.as_str() {
        "push" => push(activities),
        "commit" => commit(activities),
        "prepare" => prepare(&dir.ok_or("prepare needs --dir")?, activities),
        "import" => import(&dir.ok_or("import needs --dir")?),
        _ => Err(USAGE.into()),
    }
}

const USAGE: &str = "usage: bamdb-instructions push --activities N | commit --activities N | prepare --dir DIR --activities N | import --dir DIR";

fn push(activities: u64) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path(), StoreOptions::default())?;
    store.deploy(fixture::definition(fixture::TYPICAL_ITEMS))?;
    let orders: Vec<TypicalOrder> = (0..PER_FRAME).map(|n| TypicalOrder::new(0, n)).collect();
    let mut stream = store.buffered_stream(0);
    stream.set_time(Some(Timestamp::now()));
    let mut pushed = 0u64;
    'outer: loop {
        for order in &orders {
            if pushed == activities {
                break 'outer;
            }
            order.report(&mut stream)?;
            pushed += 1;
        }
        if stream.pending_events() != orders.len() * TYPICAL_EVENTS {
            return Err("the stream flushed on its own; the count would include a commit".into());
        }
        stream.clear();
    }
    stream.clear();
    drop(stream);
    store.close()?;
    Ok(())
}

fn commit(activities: u64) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mailbox = MessageBox::open(dir.path().join("box"), BoxOptions::default())?;
    let orders: Vec<TypicalOrder> = (0..PER_FRAME).map(|n| TypicalOrder::new(0, n)).collect();
    let mut stream = mailbox.buffered_stream();
    stream.set_time(Some(Timestamp::now()));
    let mut pushed = 0u64;
    while pushed < activities {
        for order in orders
            .iter()
            .take((activities - pushed).min(PER_FRAME) as usize)
        {
            order.report(&mut stream)?;
            pushed += 1;
        }
        stream.flush()?;
    }
    Ok(())
}

fn prepare(dir: &std::path::Path, activities: u64) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(dir, StoreOptions::default())?;
    store.deploy(fixture::definition(fixture::TYPICAL_ITEMS))?;
    store.close()?;
    let wal = Wal::open(dir.join("wal"), WalOptions::default())?;
    let ts = Timestamp::now();
    for frame in 0..activities.div_ceil(PER_FRAME) {
        let first = frame * PER_FRAME;
        let batch: Vec<Event> = (first..(first + PER_FRAME).min(activities))
            .flat_map(|n| TypicalOrder::new(0, n).events(ts))
            .collect();
        wal.append(&encode_batch(1, frame + 1, &batch, &Limits::default())?)?;
    }
    Ok(())
}

fn import(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(dir, StoreOptions::default())?;
    if !store.sync(Duration::from_secs(3600)) {
        return Err("the bus did not catch up within an hour".into());
    }
    let imported = store.stats().counters.events_imported;
    store.close()?;
    eprintln!("imported {imported} events of {ACTIVITY}");
    Ok(())
}
