//! Search order and paging against an oracle: random orders, each a root
//! part and a continuation part whose frames arrive in random order, go
//! through the store (import files, memtable, active instances); every
//! order (`--order-by` keys and directions), offset and limit, every walk
//! through the pages by cursor, and the row stream must list exactly the
//! ids that a sort written by hand over the generated list gives.

use std::cmp::Ordering;
use std::time::Duration;

use bamdb::model::{ActivityDefinition, Timestamp, Value};
use bamdb::query::{OrderBy, Search};
use bamdb::storage::MemStorage;
use bamdb::{EventStream, Store, StoreOptions};
use proptest::prelude::*;

const A: &str = "Order";
const BASE: i64 = 1_793_000_000_000_000;
const HOUR: i64 = 3_600_000_000;
const REGIONS: [&str; 5] = ["EU", "US", "eu", "Ärzte", ""];

fn definition() -> ActivityDefinition {
    serde_json::from_str(
        r#"{"name":"Order","items":[
            {"name":"Region","type":"text","max_len":8},
            {"name":"Amount","type":"int"},
            {"name":"Price","type":"float"},
            {"name":"Received","type":"timestamp"},
            {"name":"Shipped","type":"timestamp"}]}"#,
    )
    .unwrap()
}

#[derive(Debug, Clone)]
struct Order {
    region: Option<usize>,
    amount: Option<i64>,
    price: Option<f64>,
    received: Option<i64>,
    shipped: Option<i64>,
    root_ends: bool,
    continuation_ends: bool,
}

fn order() -> impl Strategy<Value = Order> {
    (
        proptest::option::of(0..REGIONS.len()),
        proptest::option::of(-5i64..5),
        proptest::option::of((-20i32..20).prop_map(|q| f64::from(q) / 4.0)),
        proptest::option::of(0i64..12),
        proptest::option::of(0i64..12),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(region, amount, price, received, shipped, root_ends, continuation_ends)| Order {
                region,
                amount,
                price,
                received,
                shipped,
                root_ends,
                continuation_ends,
            },
        )
}

/// The fields an order can be by (few distinct values, so ties are many
/// and the id must break them).
const FIELDS: [&str; 6] = ["Region", "Amount", "Price", "Received", "Shipped", "id"];

/// A value of an order as the oracle compares it: numbers as f64 (exact
/// for the small ints generated), text by bytes; `None` is unset.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum V {
    N(f64),
    T(String),
}

fn value(o: &Order, i: usize, field: &str) -> Option<V> {
    match field {
        "Region" => o.region.map(|r| V::T(REGIONS[r].to_owned())),
        "Amount" => o.amount.map(|a| V::N(a as f64)),
        "Price" => o.price.map(V::N),
        "Received" => o.received.map(|h| V::N(h as f64)),
        "Shipped" => o.shipped.map(|h| V::N(h as f64)),
        "id" => Some(V::T(id(i))),
        other => panic!("no field {other}"),
    }
}

fn id(i: usize) -> String {
    format!("O-{i:04}")
}

/// The oracle: every id, sorted by the keys (unset last either way), then id.
fn sorted(orders: &[Order], keys: &[(usize, bool)]) -> Vec<String> {
    let mut ids: Vec<usize> = (0..orders.len()).collect();
    ids.sort_by(|&a, &b| {
        for &(f, desc) in keys {
            let (x, y) = (
                value(&orders[a], a, FIELDS[f]),
                value(&orders[b], b, FIELDS[f]),
            );
            let o = match (x, y) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => {
                    let o = match (x, y) {
                        (V::T(x), V::T(y)) => x.as_bytes().cmp(y.as_bytes()),
                        (x, y) => x.partial_cmp(&y).unwrap(),
                    };
                    if desc {
                        o.reverse()
                    } else {
                        o
                    }
                }
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        id(a).cmp(&id(b))
    });
    ids.into_iter().map(id).collect()
}

fn at(hours: i64) -> Value {
    Value::Timestamp(Timestamp::from_micros(BASE + hours * HOUR))
}

fn send(store: &Store, i: usize, o: &Order, root: bool) {
    let (id, token) = (id(i), format!("S-{i:04}"));
    let mut s = store.buffered_stream(0);
    s.set_time(Some(Timestamp::from_micros(BASE + i as i64 * HOUR)));
    if root {
        s.begin(A, &id).unwrap();
        let mut items: Vec<(&str, Value)> = Vec::new();
        if let Some(r) = o.region {
            items.push(("Region", Value::from(REGIONS[r])));
        }
        if let Some(a) = o.amount {
            items.push(("Amount", Value::Int(a)));
        }
        if let Some(p) = o.price {
            items.push(("Price", Value::Float(p)));
        }
        if let Some(h) = o.received {
            items.push(("Received", at(h)));
        }
        if !items.is_empty() {
            s.update(A, &id, items).unwrap();
        }
        s.enable_continuation(A, &id, &token).unwrap();
        if o.root_ends {
            s.end(A, &id).unwrap();
        }
    } else {
        if let Some(h) = o.shipped {
            s.update(A, &token, [("Shipped", at(h))]).unwrap();
        }
        if o.continuation_ends {
            s.end(A, &token).unwrap();
        }
    }
    s.flush().unwrap();
}

fn ids(rows: &[bamdb::query::Row]) -> Vec<String> {
    rows.iter()
        .map(|row| match row.get("id") {
            Some(Value::Text(id)) => id.clone(),
            other => panic!("a row without an id: {other:?}"),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn every_order_page_and_stream_lists_as_the_oracle(
        orders in proptest::collection::vec(order(), 1..150),
        arrival in any::<proptest::sample::Index>(),
        keys in proptest::collection::vec((0..FIELDS.len(), any::<bool>()), 1..3),
        offset in 0usize..12,
        limit in 1usize..40,
        page in 1usize..25,
    ) {
        let disk = MemStorage::new();
        let options = StoreOptions {
            checkpoint_frames: 9,
            checkpoint_interval: Duration::from_secs(3600),
            ..StoreOptions::default()
        };
        let store = Store::open_with_storage(disk.shared(), "/s", options).unwrap();
        store.deploy(definition()).unwrap();
        let mut parts: Vec<(usize, bool)> = Vec::new();
        for i in 0..orders.len() {
            parts.push((i, false));
            parts.push((i, true));
        }
        let n = parts.len();
        parts.rotate_left(arrival.index(n));
        for (i, root) in parts {
            send(&store, i, &orders[i], root);
        }
        prop_assert!(store.sync(Duration::from_secs(30)));

        let want = sorted(&orders, &keys);
        let mut search = Search::new(A);
        search.order_by = keys
            .iter()
            .map(|&(f, desc)| OrderBy { field: FIELDS[f].to_owned(), descending: desc })
            .collect();
        search.columns = Some(vec!["id".into()]);
        let what = format!("{:?}", search.order_by);

        // The whole order, at once and as a stream.
        prop_assert_eq!(ids(&store.search(&search).unwrap()), want.clone(), "{}", what);
        let streamed: Vec<bamdb::query::Row> =
            store.search_stream(&search).unwrap().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(ids(&streamed), want.clone(), "stream {}", what);
        let streamed: Vec<bamdb::query::Row> = store
            .search_stream(&search)
            .unwrap()
            .page_rows(page)
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(ids(&streamed), want.clone(), "stream by pages of {} {}", page, what);

        // One window by offset and limit.
        search.offset = offset;
        search.limit = Some(limit);
        let window: Vec<String> = want.iter().skip(offset).take(limit).cloned().collect();
        let got = store.search_page(&search).unwrap();
        prop_assert_eq!(ids(&got.rows), window, "offset {} limit {} {}", offset, limit, what);
        prop_assert_eq!(got.next.is_some(), offset + limit < want.len());
        let mut stream = store.search_stream(&search).unwrap().page_rows(page);
        let streamed: Vec<bamdb::query::Row> = stream.by_ref().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(ids(&streamed), ids(&got.rows), "stream window {}", what);
        prop_assert_eq!(stream.next_page(), got.next.as_ref(), "the stream's next page");

        // Every page by cursor: the whole order, each row once.
        search.offset = 0;
        search.limit = Some(page);
        search.after = None;
        let mut walked: Vec<String> = Vec::new();
        loop {
            let got = store.search_page(&search).unwrap();
            prop_assert!(got.rows.len() <= page);
            walked.extend(ids(&got.rows));
            match got.next {
                Some(cursor) => {
                    // A cursor survives its text form.
                    let text = cursor.to_string();
                    search.after = Some(bamdb::query::Cursor::parse(&text).unwrap());
                }
                None => break,
            }
            prop_assert!(walked.len() <= want.len(), "pages overlap: {}", what);
        }
        prop_assert_eq!(walked, want, "pages of {} {}", page, what);
        store.close().unwrap();
    }
}

/// A cursor made for one order is refused by a search of another, and a
/// damaged one is refused, each with a message that says so.
#[test]
fn a_cursor_of_another_order_or_damaged_is_refused() {
    let disk = MemStorage::new();
    let store = Store::open_with_storage(disk.shared(), "/s", StoreOptions::default()).unwrap();
    store.deploy(definition()).unwrap();
    for i in 0..5 {
        send(
            &store,
            i,
            &Order {
                region: Some(i % 2),
                amount: Some(i as i64),
                price: None,
                received: None,
                shipped: None,
                root_ends: true,
                continuation_ends: true,
            },
            true,
        );
    }
    assert!(store.sync(Duration::from_secs(30)));
    let mut search = Search::new(A);
    search.order_by = vec![OrderBy::desc("Amount")];
    search.limit = Some(2);
    let next = store.search_page(&search).unwrap().next.expect("more rows");
    search.order_by = vec![OrderBy::asc("Amount")];
    search.after = Some(next);
    let err = store.search_page(&search).unwrap_err().to_string();
    assert!(
        err.contains("Amount desc") && err.contains("Amount asc"),
        "{err}"
    );
    for bad in ["", "c1", "c1zz", "c17b7d", "x1abcd"] {
        let err = bamdb::query::Cursor::parse(bad).unwrap_err().to_string();
        assert!(err.contains("cursor"), "{bad:?}: {err}");
    }
    search.order_by = vec![OrderBy::asc("Nope")];
    search.after = None;
    let err = store.search(&search).unwrap_err().to_string();
    assert!(err.contains("Nope"), "{err}");
}

/// A first order key whose column a file does not project (a text item
/// with thousands of distinct values) still pages and streams in order,
/// across several pages of a stream.
#[test]
fn an_order_by_a_text_of_many_values_streams_in_order() {
    let disk = MemStorage::new();
    let store = Store::open_with_storage(disk.shared(), "/s", StoreOptions::default()).unwrap();
    store
        .deploy(
            serde_json::from_str(
                r#"{"name":"Order","items":[{"name":"Customer","type":"text","max_len":16}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let n = 6000;
    // Distinct customers, in an order unlike the ids'.
    let customer = |i: usize| format!("C-{:05}", (i * 7919) % n);
    let mut s = store.buffered_stream(0);
    for i in 0..n {
        let id = id(i);
        s.begin(A, &id).unwrap();
        s.update(A, &id, [("Customer", Value::from(customer(i)))])
            .unwrap();
        s.end(A, &id).unwrap();
    }
    s.flush().unwrap();
    drop(s);
    store.close().unwrap();
    let store = Store::open_with_storage(disk.shared(), "/s", StoreOptions::default()).unwrap();
    let mut want: Vec<(String, String)> = (0..n).map(|i| (customer(i), id(i))).collect();
    want.sort();
    want.reverse();
    let want: Vec<String> = want.into_iter().map(|(_, id)| id).collect();

    let mut search = Search::new(A);
    search.order_by = vec![OrderBy::desc("Customer")];
    search.columns = Some(vec!["id".into()]);
    let streamed: Vec<bamdb::query::Row> = store
        .search_stream(&search)
        .unwrap()
        .page_rows(700)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids(&streamed), want);
    search.limit = Some(1000);
    search.offset = 2500;
    let page = store.search_page(&search).unwrap();
    assert_eq!(ids(&page.rows), want[2500..3500]);
    search.offset = 0;
    search.after = page.next;
    search.limit = None;
    let rest = store.search(&search).unwrap();
    assert_eq!(ids(&rest), want[3500..]);
}
