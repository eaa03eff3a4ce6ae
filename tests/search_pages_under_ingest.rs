//! Paging covers a result exactly once while the store is written: pages
//! walked by cursor (ordered by `id`, and by `begin` descending, keys an
//! instance never changes) list every instance that existed before the
//! walk exactly once and no instance twice, while another thread begins new
//! instances, updates and ends existing ones, and checkpoints move them
//! from memory into import files between pages. A stream (one snapshot)
//! lists exactly the instances of one moment.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bamdb::model::{Timestamp, Value};
use bamdb::query::{OrderBy, Search};
use bamdb::{EventStream, Store, StoreOptions};

const A: &str = "Order";
const BASE: i64 = 1_793_000_000_000_000;

fn open(dir: &std::path::Path) -> Store {
    let options = StoreOptions {
        checkpoint_frames: 16,
        ..StoreOptions::default()
    };
    let store = Store::open(dir, options).unwrap();
    store
        .deploy(
            serde_json::from_str(r#"{"name":"Order","items":[{"name":"Amount","type":"int"}]}"#)
                .unwrap(),
        )
        .unwrap();
    store
}

/// Begins `ids`, each at its own time; every other one ends.
fn write(store: &Store, ids: impl Iterator<Item = usize>, prefix: &str) {
    let mut s = store.buffered_stream(0);
    for i in ids {
        let id = format!("{prefix}-{i:05}");
        s.set_time(Some(Timestamp::from_micros(BASE + i as i64 * 1_000_000)));
        s.begin(A, &id).unwrap();
        s.update(A, &id, [("Amount", Value::Int(i as i64 % 97))])
            .unwrap();
        if i % 2 == 0 {
            s.end(A, &id).unwrap();
        }
        if i % 50 == 49 {
            s.flush().unwrap();
        }
    }
    s.flush().unwrap();
}

fn ids(rows: &[bamdb::query::Row]) -> Vec<String> {
    rows.iter()
        .filter_map(|r| match r.get("id") {
            Some(Value::Text(id)) => Some(id.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn pages_list_every_instance_once_while_the_store_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(open(tmp.path()));
    write(&store, 0..3000, "O");
    assert!(store.sync(Duration::from_secs(60)));
    let before: BTreeSet<String> = (0..3000).map(|i| format!("O-{i:05}")).collect();

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            // New instances, and updates and ends of the old active ones
            // (odd ids), until the walks are done.
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                write(&store, round * 40..round * 40 + 40, "N");
                let mut s = store.buffered_stream(0);
                for i in (1..3000).step_by(2).skip(round * 7 % 1500).take(7) {
                    let id = format!("O-{i:05}");
                    s.update(A, &id, [("Amount", Value::Int(round as i64))])
                        .unwrap();
                    s.end(A, &id).unwrap();
                }
                s.flush().unwrap();
                round += 1;
            }
            round
        })
    };

    for order in [OrderBy::asc("id"), OrderBy::desc("begin")] {
        let mut search = Search::new(A);
        search.order_by = vec![order.clone()];
        search.columns = Some(vec!["id".into()]);
        search.limit = Some(97);
        let mut seen: Vec<String> = Vec::new();
        loop {
            let page = store.search_page(&search).unwrap();
            seen.extend(ids(&page.rows));
            match page.next {
                Some(cursor) => search.after = Some(cursor),
                None => break,
            }
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{order}: a row on two pages");
        let missing: Vec<&String> = before.iter().filter(|id| !unique.contains(id)).collect();
        assert!(missing.is_empty(), "{order}: never listed: {missing:?}");
    }

    // A stream reads one snapshot: exactly the instances of one moment,
    // every old one among them, none twice.
    let mut search = Search::new(A);
    search.columns = Some(vec!["id".into()]);
    let streamed: Vec<String> = ids(&store
        .search_stream(&search)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap());
    let unique: BTreeSet<&String> = streamed.iter().collect();
    assert_eq!(unique.len(), streamed.len(), "a row twice in the stream");
    assert!(before.iter().all(|id| unique.contains(id)));

    stop.store(true, Ordering::Relaxed);
    let rounds = writer.join().unwrap();
    assert!(rounds > 0, "the writer ran beside the walks");
    assert!(store.sync(Duration::from_secs(60)));
    match Arc::try_unwrap(store) {
        Ok(store) => store.close().unwrap(),
        Err(_) => panic!("the writer still holds the store"),
    }
}
