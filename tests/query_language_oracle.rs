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

// --- Aggregations -------------------------------------------------------
//
// The new measures (count_distinct, median, percentiles of numbers and
// durations), buckets in a zone, having, and order and limit on groups,
// each against a naive evaluation over the generated orders: values
// sorted in full (the store selects), zones through jiff's zoned
// arithmetic (the store works on a local time line), groups filtered and
// sorted by hand.

use bamdb::query::{Aggregate, BucketUnit, Cell, GroupOrder, Measure, Zone};

/// A naive group key: cells in the store's key order (null last).
type Key = Vec<(bool, Cell)>;

/// The `p`th percentile of `values` (sorted here), linearly interpolated
/// at `p/100 * (n-1)`, the documented definition.
fn percentile(mut values: Vec<f64>, p: u8) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let pos = f64::from(p) / 100.0 * (values.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some((values[lo], values[hi], pos - pos.floor()))
}

fn number_percentile(values: Vec<f64>, p: u8) -> Cell {
    match percentile(values, p) {
        None => Cell::Null,
        Some((lo, hi, frac)) => Cell::Float(lo + (hi - lo) * frac),
    }
}

fn duration_percentile(values: Vec<i64>, p: u8) -> Cell {
    let as_f: Vec<f64> = values.iter().map(|&v| v as f64).collect();
    match percentile(as_f, p) {
        None => Cell::Null,
        Some((lo, hi, frac)) => {
            Cell::Duration(lo as i64 + ((hi as i64 - lo as i64) as f64 * frac).round() as i64)
        }
    }
}

/// The bucket of hour `h` (as `at(h)`): the start of the local day (or
/// month) in `zone`, through jiff's zoned arithmetic.
fn naive_bucket(h: i64, unit: &str, zone: &jiff::tz::TimeZone, utc: bool) -> Cell {
    let t = jiff::Timestamp::from_microsecond(BASE + h * HOUR).unwrap();
    let z = t.to_zoned(zone.clone());
    let start = match unit {
        "day" => z.start_of_day().unwrap(),
        _ => z.first_of_month().unwrap().start_of_day().unwrap(),
    };
    let at = Timestamp::from_micros(start.timestamp().as_microsecond());
    if utc {
        Cell::Timestamp(at)
    } else {
        Cell::ZonedTimestamp {
            at,
            offset_seconds: start.offset().seconds(),
        }
    }
}

struct AggCase {
    agg: Aggregate,
    /// The naive result, rows of cells, after having/order/limit.
    want: fn(&[Order]) -> Vec<Vec<Cell>>,
}

fn key_cell(c: Cell) -> (bool, Cell) {
    (matches!(c, Cell::Null), c)
}

fn text(s: Option<&str>) -> Cell {
    s.map_or(Cell::Null, |s| Cell::Text(s.into()))
}

/// Groups orders by `key`, in the store's key order.
fn group_by(orders: &[Order], key: impl Fn(&Order) -> Key) -> Vec<(Key, Vec<&Order>)> {
    let mut groups: Vec<(Key, Vec<&Order>)> = Vec::new();
    for o in orders {
        let k = key(o);
        match groups.iter_mut().find(|(g, _)| cmp_key(g, &k).is_eq()) {
            Some((_, members)) => members.push(o),
            None => groups.push((k, vec![o])),
        }
    }
    groups.sort_by(|a, b| cmp_key(&a.0, &b.0));
    groups
}

fn cmp_key(a: &Key, b: &Key) -> std::cmp::Ordering {
    for ((na, ca), (nb, cb)) in a.iter().zip(b) {
        let o = na.cmp(nb).then_with(|| ca.total_cmp(cb));
        if o.is_ne() {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

fn agg_cases() -> Vec<AggCase> {
    let m = |s: &str| Measure::parse(s).unwrap();
    let mut by_region = Aggregate::new(A);
    by_region.group_by = vec!["Region".into()];
    by_region.measures = vec![
        m("count"),
        m("count_distinct:Customer"),
        m("median:Amount"),
        m("p90:Price"),
        m("p95:duration(Received,Shipped)"),
    ];
    by_region.having = vec![Filter::parse("count >= 2 or `median:Amount` is null").unwrap()];
    by_region.order_by = vec![
        GroupOrder::parse("count desc").unwrap(),
        GroupOrder::parse("`p90:Price` asc").unwrap(),
    ];
    by_region.limit = Some(3);

    let mut by_day = Aggregate::new(A);
    by_day.bucket = Some((BucketUnit::Day, "Received".into()));
    by_day.zone = Zone::parse("America/Los_Angeles").unwrap();
    by_day.measures = vec![
        m("count"),
        m("p50:Amount"),
        m("median:duration(Received,Shipped)"),
    ];
    by_day.order_by = vec![GroupOrder::parse("p50:Amount desc").unwrap()];

    let mut by_month = Aggregate::new(A);
    by_month.group_by = vec!["Status".into()];
    by_month.bucket = Some((BucketUnit::Month, "Shipped".into()));
    by_month.zone = Zone::parse("+13:00").unwrap();
    by_month.measures = vec![m("count"), m("count_distinct:Region"), m("p99:Amount")];
    by_month.having = vec![Filter::parse("`count_distinct:Region` > 0").unwrap()];

    vec![
        AggCase {
            agg: by_region,
            want: |orders| {
                let groups = group_by(orders, |o| vec![key_cell(text(o.region()))]);
                let mut rows: Vec<Vec<Cell>> = groups
                    .into_iter()
                    .map(|(key, members)| {
                        let mut customers: Vec<&str> =
                            members.iter().filter_map(|o| o.customer()).collect();
                        customers.sort();
                        customers.dedup();
                        let amounts = members.iter().filter_map(|o| o.amount).map(|a| a as f64);
                        let prices = members.iter().filter_map(|o| o.price);
                        let durations = members
                            .iter()
                            .filter_map(|o| Some((o.shipped? - o.received?) * HOUR));
                        vec![
                            key[0].1.clone(),
                            Cell::Int(members.len() as i64),
                            Cell::Int(customers.len() as i64),
                            number_percentile(amounts.collect(), 50),
                            number_percentile(prices.collect(), 90),
                            duration_percentile(durations.collect(), 95),
                        ]
                    })
                    .filter(|r| matches!(r[1], Cell::Int(n) if n >= 2) || r[3] == Cell::Null)
                    .collect();
                // count desc, then p90 asc with nulls last; ties by key.
                rows.sort_by(|a, b| {
                    b[1].total_cmp(&a[1]).then_with(|| {
                        let null = |c: &Cell| matches!(c, Cell::Null);
                        null(&a[4])
                            .cmp(&null(&b[4]))
                            .then_with(|| a[4].total_cmp(&b[4]))
                    })
                });
                rows.truncate(3);
                rows
            },
        },
        AggCase {
            agg: by_day,
            want: |orders| {
                let la = jiff::tz::TimeZone::get("America/Los_Angeles").unwrap();
                let groups = group_by(orders, |o| {
                    vec![key_cell(
                        o.received
                            .map_or(Cell::Null, |h| naive_bucket(h, "day", &la, false)),
                    )]
                });
                let mut rows: Vec<Vec<Cell>> = groups
                    .into_iter()
                    .map(|(key, members)| {
                        let amounts = members.iter().filter_map(|o| o.amount).map(|a| a as f64);
                        let durations = members
                            .iter()
                            .filter_map(|o| Some((o.shipped? - o.received?) * HOUR));
                        vec![
                            key[0].1.clone(),
                            Cell::Int(members.len() as i64),
                            number_percentile(amounts.collect(), 50),
                            duration_percentile(durations.collect(), 50),
                        ]
                    })
                    .collect();
                let null = |c: &Cell| matches!(c, Cell::Null);
                rows.sort_by(|a, b| {
                    null(&a[2])
                        .cmp(&null(&b[2]))
                        .then_with(|| b[2].total_cmp(&a[2]))
                });
                rows
            },
        },
        AggCase {
            agg: by_month,
            want: |orders| {
                let plus13 =
                    jiff::tz::TimeZone::fixed(jiff::tz::Offset::from_seconds(13 * 3600).unwrap());
                let groups = group_by(orders, |o| {
                    vec![
                        key_cell(text(o.status())),
                        key_cell(
                            o.shipped
                                .map_or(Cell::Null, |h| naive_bucket(h, "month", &plus13, false)),
                        ),
                    ]
                });
                groups
                    .into_iter()
                    .map(|(key, members)| {
                        let mut regions: Vec<&str> =
                            members.iter().filter_map(|o| o.region()).collect();
                        regions.sort();
                        regions.dedup();
                        let amounts = members.iter().filter_map(|o| o.amount).map(|a| a as f64);
                        vec![
                            key[0].1.clone(),
                            key[1].1.clone(),
                            Cell::Int(members.len() as i64),
                            Cell::Int(regions.len() as i64),
                            number_percentile(amounts.collect(), 99),
                        ]
                    })
                    .filter(|r| matches!(r[3], Cell::Int(n) if n > 0))
                    .collect()
            },
        },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn every_aggregation_answers_as_its_oracle(
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
        for case in agg_cases() {
            let got: Vec<Vec<Cell>> = store
                .aggregate(&case.agg)
                .unwrap()
                .rows
                .into_iter()
                .map(|r| r.cells)
                .collect();
            prop_assert_eq!(got, (case.want)(&orders), "{:?}", case.agg.columns());
        }
    }
}
