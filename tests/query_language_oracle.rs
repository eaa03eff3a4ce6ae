//! The query language against an oracle: random orders, each a root part
//! and a continuation part from another application whose frames arrive
//! in random order (the continuation often before its root), go through
//! the store (import files, memtable, active instances); every filter's
//! answer must equal a predicate written by hand over the generated
//! event list, not over anything the store computed.

use std::time::Duration;

use bamdb::model::{ActivityDefinition, Timestamp, Value};
use bamdb::query::{Filter, Search};
use bamdb::storage::MemStorage;
use bamdb::{EventStream, Store, StoreOptions};
use proptest::prelude::*;

const A: &str = "Order";
const BASE: i64 = 1_793_000_000_000_000;
const HOUR: i64 = 3_600_000_000;
const REGIONS: [&str; 5] = ["EU", "US", "eu", "Ärzte", ""];
const CUSTOMERS: [&str; 4] = ["Contoso Ltd", "contoso", "O'Brien", "Fabrikam"];
const STATUSES: [&str; 3] = ["Shipped", "Packed", "Lost"];

fn definition() -> ActivityDefinition {
    serde_json::from_str(
        r#"{"name":"Order","items":[
            {"name":"Region","type":"text","max_len":8},
            {"name":"Customer","type":"text","max_len":16},
            {"name":"Amount","type":"int"},
            {"name":"Price","type":"float"},
            {"name":"Received","type":"timestamp"},
            {"name":"Shipped","type":"timestamp"},
            {"name":"Status","type":"text","max_len":8}]}"#,
    )
    .unwrap()
}

/// One order as generated: the root part's items and the continuation
/// part's, and whether each part ends.
#[derive(Debug, Clone)]
struct Order {
    region: Option<usize>,
    customer: Option<usize>,
    amount: Option<i64>,
    price: Option<f64>,
    received: Option<i64>,
    shipped: Option<i64>,
    status: Option<usize>,
    root_ends: bool,
    continuation_ends: bool,
}

impl Order {
    fn region(&self) -> Option<&'static str> {
        self.region.map(|r| REGIONS[r])
    }
    fn customer(&self) -> Option<&'static str> {
        self.customer.map(|c| CUSTOMERS[c])
    }
    fn status(&self) -> Option<&'static str> {
        self.status.map(|s| STATUSES[s])
    }
    fn completed(&self) -> bool {
        self.root_ends && self.continuation_ends
    }
}

fn order() -> impl Strategy<Value = Order> {
    (
        (
            proptest::option::of(0..REGIONS.len()),
            proptest::option::of(0..CUSTOMERS.len()),
            proptest::option::of(-50i64..50),
            proptest::option::of((-200i32..200).prop_map(|q| f64::from(q) / 4.0)),
        ),
        (
            proptest::option::of(0i64..48),
            proptest::option::of(0i64..48),
            proptest::option::of(0..STATUSES.len()),
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |((region, customer, amount, price), (received, shipped, status, re, ce))| Order {
                region,
                customer,
                amount,
                price,
                received,
                shipped,
                status,
                root_ends: re,
                continuation_ends: ce,
            },
        )
}

/// The hand-written meaning of each filter, over the generated order.
type Oracle = fn(&Order) -> bool;

fn cases() -> Vec<(&'static str, Oracle)> {
    vec![
        ("Region = EU or Region = US", |o| {
            matches!(o.region(), Some("EU" | "US"))
        }),
        ("Region in (EU, 'US')", |o| {
            matches!(o.region(), Some("EU" | "US"))
        }),
        ("Region not in (EU, US)", |o| {
            o.region().is_some_and(|r| r != "EU" && r != "US")
        }),
        ("not Region in (EU, US)", |o| {
            !matches!(o.region(), Some("EU" | "US"))
        }),
        ("Region ieq eu", |o| {
            o.region().is_some_and(|r| r.to_lowercase() == "eu")
        }),
        ("Region is null", |o| o.region().is_none()),
        ("Region is empty", |o| o.region().is_none_or(str::is_empty)),
        ("Region is not empty", |o| {
            o.region().is_some_and(|r| !r.is_empty())
        }),
        ("Region icontains 'ärz'", |o| {
            o.region().is_some_and(|r| r.to_lowercase().contains("ärz"))
        }),
        ("Amount between -10 and 10", |o| {
            o.amount.is_some_and(|a| (-10..=10).contains(&a))
        }),
        ("Amount not between -10 and 10", |o| {
            o.amount.is_some_and(|a| !(-10..=10).contains(&a))
        }),
        ("Amount in (-50, 0, 49) or Price in (0.25, -50)", |o| {
            o.amount.is_some_and(|a| [-50, 0, 49].contains(&a))
                || o.price.is_some_and(|p| p == 0.25 || p == -50.0)
        }),
        ("Customer contains 'o'", |o| {
            o.customer().is_some_and(|c| c.contains('o'))
        }),
        ("Customer icontains CONTOSO", |o| {
            o.customer()
                .is_some_and(|c| c.to_lowercase().contains("contoso"))
        }),
        ("Customer ends with Ltd", |o| {
            o.customer().is_some_and(|c| c.ends_with("Ltd"))
        }),
        ("Customer istarts with 'o'''", |o| {
            o.customer()
                .is_some_and(|c| c.to_lowercase().starts_with("o'"))
        }),
        (
            "Shipped > Received",
            |o| matches!((o.shipped, o.received), (Some(s), Some(r)) if s > r),
        ),
        (
            "Price >= Amount",
            |o| matches!((o.price, o.amount), (Some(p), Some(a)) if p >= a as f64),
        ),
        ("(Region = EU and Amount > 0) or Status = Shipped", |o| {
            (o.region() == Some("EU") && o.amount.is_some_and(|a| a > 0))
                || o.status() == Some("Shipped")
        }),
        (
            "not (Status = Lost or Status is null) and Region is not null",
            |o| !(o.status() == Some("Lost") || o.status().is_none()) && o.region().is_some(),
        ),
        ("status = completed and Shipped is not null", |o| {
            o.completed() && o.shipped.is_some()
        }),
        ("end is null", |o| !o.completed()),
        ("Received >= now-5200w and Received < now+5200w", |o| {
            o.received.is_some()
        }),
        ("Status ends with ed or Status istarts with L", |o| {
            o.status()
                .is_some_and(|s| s.ends_with("ed") || s.to_lowercase().starts_with('l'))
        }),
    ]
}

fn at(hours: i64) -> Value {
    Value::Timestamp(Timestamp::from_micros(BASE + hours * HOUR))
}

/// One part's frame: the root (begin, items, the continuation token,
/// maybe end) or the continuation (items under the token, maybe end).
fn send(store: &Store, i: usize, o: &Order, root: bool) {
    let id = format!("O-{i:04}");
    let token = format!("S-{i:04}");
    let mut s = store.buffered_stream(0);
    s.set_time(Some(Timestamp::from_micros(BASE + i as i64 * HOUR)));
    if root {
        s.begin(A, &id).unwrap();
        let mut items: Vec<(&str, Value)> = Vec::new();
        if let Some(r) = o.region() {
            items.push(("Region", Value::from(r)));
        }
        if let Some(c) = o.customer() {
            items.push(("Customer", Value::from(c)));
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
        let mut items: Vec<(&str, Value)> = Vec::new();
        if let Some(h) = o.shipped {
            items.push(("Shipped", at(h)));
        }
        if let Some(st) = o.status() {
            items.push(("Status", Value::from(st)));
        }
        if !items.is_empty() {
            s.update(A, &token, items).unwrap();
        }
        if o.continuation_ends {
            s.end(A, &token).unwrap();
        }
    }
    s.flush().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    #[test]
    fn every_filter_answers_as_its_oracle(
        orders in proptest::collection::vec(order(), 1..120),
        arrival in any::<proptest::sample::Index>(),
    ) {
        let disk = MemStorage::new();
        let options = StoreOptions {
            checkpoint_frames: 9,
            checkpoint_interval: Duration::from_secs(3600),
            ..StoreOptions::default()
        };
        let store = Store::open_with_storage(disk.shared(), "/s", options).unwrap();
        store.deploy(definition()).unwrap();
        // Every part once; a rotation by a random amount of the parts
        // listed continuation first puts many continuations before their
        // roots, the rest after.
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
        for (expr, oracle) in cases() {
            let mut s = Search::new(A);
            s.filters = vec![Filter::parse(expr).unwrap()];
            s.columns = Some(vec!["id".into()]);
            let mut got: Vec<String> = store
                .search(&s)
                .unwrap()
                .iter()
                .filter_map(|row| match row.get("id") {
                    Some(Value::Text(id)) => Some(id.clone()),
                    _ => None,
                })
                .collect();
            got.sort();
            let want: Vec<String> = orders
                .iter()
                .enumerate()
                .filter(|(_, o)| oracle(o))
                .map(|(i, _)| format!("O-{i:04}"))
                .collect();
            prop_assert_eq!(got, want, "{}", expr);
        }
    }
}
