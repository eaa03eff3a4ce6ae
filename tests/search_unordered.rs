//! `SearchStream::unordered` (what `bamdb export` reads): the same rows
//! as the ordered search, in storage order, across the instances held in
//! memory and several import files; the selection, offset and limit apply.

use std::collections::BTreeSet;
use std::time::Duration;

use bamdb::fixture;
use bamdb::model::Value;
use bamdb::query::{Filter, Search};
use bamdb::{EventStream, Store, StoreOptions};

fn ids(rows: impl IntoIterator<Item = bamdb::query::Row>) -> Vec<String> {
    rows.into_iter()
        .map(|r| match r.get("id") {
            Some(Value::Text(id)) => id.clone(),
            other => panic!("id {other:?}"),
        })
        .collect()
}

#[test]
fn unordered_reads_the_same_rows_as_the_search() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path(), StoreOptions::default()).unwrap();
    store.deploy(fixture::definition(fixture::BRIEF)).unwrap();
    // Three flushes of completed orders (import files), then active ones.
    let mut s = store.direct_stream();
    for i in 0..300 {
        let id = format!("PO-{i:03}");
        s.begin("PurchaseOrder", &id).unwrap();
        let region = if i % 3 == 0 { "EU" } else { "US" };
        s.update("PurchaseOrder", &id, [("Region", region)])
            .unwrap();
        if i < 240 {
            s.end("PurchaseOrder", &id).unwrap();
        }
        if i % 80 == 79 {
            s.flush().unwrap();
            assert!(store.sync(Duration::from_secs(30)));
        }
    }
    s.flush().unwrap();
    assert!(store.sync(Duration::from_secs(30)));

    for filter in [None, Some("Region = EU")] {
        let mut search = Search::new("PurchaseOrder");
        search.filters = filter
            .map(|f| Filter::parse(f).unwrap())
            .into_iter()
            .collect();
        let ordered = ids(store.search(&search).unwrap());
        let stream = store.search_stream(&search).unwrap();
        let unordered: Vec<String> = ids(stream.page_rows(7).unordered().map(|r| r.unwrap()));
        assert_eq!(unordered.len(), ordered.len(), "{filter:?}");
        let a: BTreeSet<_> = unordered.iter().collect();
        let b: BTreeSet<_> = ordered.iter().collect();
        assert_eq!(a, b, "{filter:?}");

        // Offset and limit count rows in storage order.
        let mut paged = search.clone();
        paged.offset = 10;
        paged.limit = Some(25);
        let stream = store
            .search_stream(&paged)
            .unwrap()
            .page_rows(4)
            .unordered();
        let page = ids(stream.map(|r| r.unwrap()));
        assert_eq!(page, unordered[10..35], "{filter:?}");

        // Split for several reading threads: together the same rows,
        // each once, whichever way it is split.
        for n in [1, 2, 3, 8] {
            let parts = store
                .search_stream(&search)
                .unwrap()
                .page_rows(5)
                .unordered()
                .split(n)
                .unwrap_or_else(|_| panic!("an untouched unordered stream splits"));
            assert_eq!(parts.len(), n);
            let mut together: Vec<String> = parts
                .into_iter()
                .flat_map(|p| ids(p.map(|r| r.unwrap())))
                .collect();
            together.sort();
            let mut expected = unordered.clone();
            expected.sort();
            assert_eq!(together, expected, "{filter:?} split {n}");
        }
        // Offsets and limits count across all rows: such a stream, an
        // ordered one, or one already read from is given back whole.
        let limited = store.search_stream(&paged).unwrap().unordered();
        assert!(limited.split(2).is_err());
        assert!(store.search_stream(&search).unwrap().split(2).is_err());
        let mut started = store.search_stream(&search).unwrap().unordered();
        if started.next().is_some() {
            assert!(started.split(2).is_err());
        }
    }
    drop(s);
    store.close().unwrap();
}
