//! The demo's producer threads: three applications (orders, shipping,
//! billing) reporting the same purchase orders through continuations.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use bamdb::fixture::ACTIVITY as PO;
use bamdb::model::{Timestamp, Value};
use bamdb::{EventStream, Store, StoreError};

/// Purchase orders reported per flush.
pub const CHUNK: usize = 100;
/// Regions, with how many hours shipping takes there at least.
pub const REGIONS: [(&str, i64); 4] = [("EU", 20), ("NA", 30), ("APAC", 50), ("LATAM", 40)];
const CUSTOMERS: [&str; 6] = [
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Tailspin",
    "Wingtip",
    "Adventure Works",
];
/// 2026-11-01T00:00:00Z: when the simulated business day starts.
const BASE_MICROS: i64 = 1_793_491_200_000_000;
const HOUR: i64 = 3_600_000_000;
/// Orders that shipping reports for but no order app ever began.
pub const GHOSTS: usize = 3;
/// Orders begun and then rolled back (never imported).
pub const CANCELLED: usize = 20;

/// What every thread shares.
pub struct Shared<'a> {
    pub store: &'a Store,
    /// Id prefix of this run (so a reused store gets new ids).
    pub prefix: String,
    pub activities: usize,
    /// Events committed, for the progress bar and the rates.
    pub events: AtomicU64,
    /// Commits (flushes) done.
    pub commits: AtomicU64,
    /// Purchase-order reports committed, summed over the apps.
    pub reports: AtomicUsize,
    /// Chunks committed by billing and shipping (the gates below).
    billing_chunks: Gate,
    shipping_chunks: Gate,
}

/// A counter threads can wait on.
struct Gate {
    done: Mutex<usize>,
    changed: Condvar,
}

impl Gate {
    fn new() -> Self {
        Gate {
            done: Mutex::new(0),
            changed: Condvar::new(),
        }
    }

    fn set(&self, value: usize) {
        if let Ok(mut done) = self.done.lock() {
            *done = value;
        }
        self.changed.notify_all();
    }

    /// Waits until at least `value` chunks are done.
    fn wait(&self, value: usize) {
        let Ok(mut done) = self.done.lock() else {
            return;
        };
        while *done < value {
            match self.changed.wait(done) {
                Ok(d) => done = d,
                Err(_) => return,
            }
        }
    }
}

impl<'a> Shared<'a> {
    pub fn new(store: &'a Store, prefix: String, activities: usize) -> Self {
        Shared {
            store,
            prefix,
            activities,
            events: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            reports: AtomicUsize::new(0),
            billing_chunks: Gate::new(),
            shipping_chunks: Gate::new(),
        }
    }

    pub fn po_id(&self, i: usize) -> String {
        format!("PO-{}{:06}", self.prefix, i)
    }

    pub fn shipment_id(&self, i: usize) -> String {
        format!("SH-{}{:05}", self.prefix, i / 5)
    }

    fn chunks(&self) -> usize {
        self.activities.div_ceil(CHUNK)
    }

    /// Flushes and counts.
    fn flush(&self, stream: &mut impl EventStream) -> Result<(), String> {
        match stream.flush() {
            Ok(Some(receipt)) => {
                self.events
                    .fetch_add(receipt.events as u64, Ordering::Relaxed);
                self.commits.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(format!("flush failed: {e}")),
        }
    }

    /// Unblocks every waiter (when a thread fails).
    pub fn open_gates(&self) {
        self.billing_chunks.set(usize::MAX);
        self.shipping_chunks.set(usize::MAX);
    }
}

/// The simulated facts of order `i`, the same in every app.
pub struct Order {
    pub region: &'static str,
    pub customer: &'static str,
    pub amount: f64,
    pub quantity: i64,
    pub received: Timestamp,
    /// When it shipped; `None` for the one in ten that has not shipped yet.
    pub shipped: Option<Timestamp>,
}

pub fn order(i: usize) -> Order {
    let r = splitmix(i as u64);
    let (region, min_hours) = REGIONS[(r % REGIONS.len() as u64) as usize];
    let customer = CUSTOMERS[((r >> 8) % CUSTOMERS.len() as u64) as usize];
    let quantity = 1 + ((r >> 16) % 50) as i64;
    let unit = 5.0 + ((r >> 24) % 2000) as f64 / 10.0;
    let received = BASE_MICROS + i as i64 * 37_000_000;
    let ship_hours = min_hours + ((r >> 40) % 48) as i64;
    Order {
        region,
        customer,
        amount: (unit * quantity as f64 * 100.0).round() / 100.0,
        quantity,
        received: Timestamp::from_micros(received),
        shipped: ((r >> 56) % 10 != 0)
            .then(|| Timestamp::from_micros(received + ship_hours * HOUR)),
    }
}

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn err(what: &str, e: StoreError) -> String {
    format!("{what}: {e}")
}

/// The order-entry application: begins each order, sets its items, lets
/// shipping continue it under `SHIP-<id>`, ends its part. It starts only
/// after shipping has committed its first chunk, so those shipping frames
/// precede the orders they belong to. It also rolls back one batch.
pub fn orders(sh: &Shared) -> Result<(), String> {
    let mut stream = sh.store.buffered_stream(0);
    // A batch of orders cancelled before commit: cleared, never written.
    for c in 0..CANCELLED {
        let id = format!("PO-{}CXL-{c:03}", sh.prefix);
        stream
            .begin(PO, &id)
            .and_then(|_| stream.update(PO, &id, [("Customer", "Cancelled Ltd")]))
            .map_err(|e| err("orders", e))?;
    }
    stream.clear();
    sh.shipping_chunks.wait(1);
    for chunk in 0..sh.chunks() {
        let range = chunk * CHUNK..((chunk + 1) * CHUNK).min(sh.activities);
        let n = range.len();
        for i in range {
            let o = order(i);
            let id = sh.po_id(i);
            stream.set_time(Some(o.received));
            let items: [(&str, Value); 7] = [
                ("PO_Number", format!("{}{:06}", sh.prefix, i).into()),
                ("Customer", o.customer.into()),
                ("Region", o.region.into()),
                ("Amount", o.amount.into()),
                ("Quantity", o.quantity.into()),
                ("Status", "Received".into()),
                ("Received", o.received.into()),
            ];
            stream
                .begin(PO, &id)
                .and_then(|_| stream.update(PO, &id, items))
                .and_then(|_| stream.enable_continuation(PO, &id, &format!("SHIP-{id}")))
                .and_then(|_| stream.end(PO, &id))
                .map_err(|e| err("orders", e))?;
        }
        sh.flush(&mut stream)?;
        sh.reports.fetch_add(n, Ordering::Relaxed);
    }
    Ok(())
}

/// The warehouse application: reports under the continuation token
/// `SHIP-<id>` (it never sees the order id), consolidates five orders per
/// Shipment instance and relates each order to its shipment. Each chunk
/// waits for billing's, so no invoice arrives after its order completed.
/// It also reports a few tokens no order ever enabled (they stay pending).
pub fn shipping(sh: &Shared) -> Result<(), String> {
    let mut stream = sh.store.buffered_stream(0);
    let mut last_shipment = None;
    for chunk in 0..sh.chunks() {
        let range = chunk * CHUNK..((chunk + 1) * CHUNK).min(sh.activities);
        let n = range.len();
        for i in range {
            let o = order(i);
            let Some(shipped) = o.shipped else {
                continue;
            };
            let token = format!("SHIP-{}", sh.po_id(i));
            let shipment = sh.shipment_id(i);
            stream.set_time(Some(shipped));
            if last_shipment != Some(i / 5) {
                last_shipment = Some(i / 5);
                let items: [(&str, Value); 2] = [
                    ("Carrier", "Contoso Freight".into()),
                    ("Region", o.region.into()),
                ];
                stream
                    .begin("Shipment", &shipment)
                    .and_then(|_| stream.update("Shipment", &shipment, items))
                    .and_then(|_| stream.end("Shipment", &shipment))
                    .map_err(|e| err("shipping", e))?;
            }
            let items: [(&str, Value); 2] =
                [("Status", "Shipped".into()), ("Shipped", shipped.into())];
            stream
                .update(PO, &token, items)
                .and_then(|_| stream.add_related_activity(PO, &token, "Shipment", &shipment))
                .and_then(|_| stream.end(PO, &token))
                .map_err(|e| err("shipping", e))?;
        }
        if chunk == 0 {
            for g in 0..GHOSTS {
                let token = format!("SHIP-{}GHOST-{g}", sh.prefix);
                stream
                    .update(PO, &token, [("Status", "Shipped")])
                    .and_then(|_| stream.end(PO, &token))
                    .map_err(|e| err("shipping", e))?;
            }
        }
        sh.billing_chunks.wait(chunk + 1);
        sh.flush(&mut stream)?;
        sh.reports.fetch_add(n, Ordering::Relaxed);
        sh.shipping_chunks.set(chunk + 1);
    }
    Ok(())
}

/// The billing application: marks shipped orders invoiced, on the order id
/// itself, and attaches the invoice URL. After its first chunk it also
/// sends two frames that cannot be imported: an unknown item and an
/// unknown activity (they land in quarantine).
pub fn billing(sh: &Shared) -> Result<(), String> {
    let mut stream = sh.store.buffered_stream(0);
    for chunk in 0..sh.chunks() {
        let range = chunk * CHUNK..((chunk + 1) * CHUNK).min(sh.activities);
        let n = range.len();
        for i in range {
            let Some(shipped) = order(i).shipped else {
                continue;
            };
            let id = sh.po_id(i);
            stream.set_time(Some(Timestamp::from_micros(shipped.as_micros() + HOUR)));
            let url = format!(
                "https://billing.example.com/invoices/INV-{}{:06}",
                sh.prefix, i
            );
            stream
                .update(PO, &id, [("Status", "Invoiced")])
                .and_then(|_| stream.add_reference(PO, &id, "DocumentUrl", "invoice", &url, None))
                .map_err(|e| err("billing", e))?;
        }
        sh.flush(&mut stream)?;
        sh.reports.fetch_add(n, Ordering::Relaxed);
        sh.billing_chunks.set(chunk + 1);
        if chunk == 0 {
            invalid_frames(sh, &mut stream)?;
        }
    }
    Ok(())
}

/// Two frames the bus must set aside: each is its own commit so that no
/// good event shares their fate.
fn invalid_frames(sh: &Shared, stream: &mut impl EventStream) -> Result<(), String> {
    stream.set_time(None);
    let id = sh.po_id(0);
    stream
        .update(PO, &id, [("Discount", 0.1)])
        .map_err(|e| err("billing", e))?;
    sh.flush(stream)?;
    let invoice = format!("INV-{}000000", sh.prefix);
    stream
        .begin("Invoice", &invoice)
        .and_then(|_| stream.update("Invoice", &invoice, [("Total", 99.5)]))
        .map_err(|e| err("billing", e))?;
    sh.flush(stream)
}
