//! Store-level fuzz hook: random operation sequences (events on one to
//! three streams, flushes, clears, syncs, injected faults, crashes and
//! reopens with a random crash mode) run against the in-memory store and
//! checked against a model, the log of flushes and what became of them.
//!
//! # Input format
//!
//! A hand-rolled byte decoder (every input is valid; missing bytes read as
//! zero). Byte 0 picks the streams: `1 + b % 3` streams, stream `i` is
//! direct when bit `2 + i` is set, buffered otherwise. Then one operation
//! per leading byte `op % 16`, at most [`MAX_OPS`] of them:
//!
//! | op      | operands        | operation                                   |
//! |---------|-----------------|---------------------------------------------|
//! | 0..=6   | `s k a v`       | push event `k % 13` on stream `s`           |
//! | 7..=8   | `s`             | flush stream `s`                            |
//! | 9       | `s n`           | flush stream `s` as its batch `n % 8` (`flush_sequenced`) |
//! | 10      | `s`             | clear stream `s`                            |
//! | 11      |                 | `store.sync`                                |
//! | 12      | `n f`           | inject fault `f % 3` at I/O step `1 + n % 16` from now |
//! | 13      | `n`             | crash at I/O step `1 + n % 32` from now     |
//! | 14      | `m r`           | crash now and reopen (see [`Harness::reopen`]) |
//! | 15      |                 | flush every stream                          |
//!
//! Event operands: `a & 3` the instance id, `(a >> 2) & 3` the continuation
//! token, `(a >> 4) & 3` a timestamp jitter (whole seconds, so events can
//! arrive out of order), `v` a value. Every event gets a distinct timestamp
//! (the jitter plus a running event number in microseconds), so the merged
//! state never depends on producer ids, which are random per store.
//!
//! # The oracle
//!
//! Each flush is logged as *acknowledged* (it returned `Ok`, or it failed
//! after the message box had made its frame durable), *in doubt* (it
//! failed otherwise) or dropped (a direct stream refused it before writing,
//! or it was empty). After every reopen, and at the end of the input after
//! a final power loss, the recovered store is synced and compared with a
//! fresh store that never crashed, fed exactly the acknowledged flushes (a
//! sequenced one under the same producer id and number, so it is skipped
//! there exactly when a batch of that number was imported before) plus some subset of
//! the in-doubt ones, in commit order (instances, quarantine count and
//! pending trees). An in-doubt flush on which every matching subset agrees
//! is settled (kept or dropped); one they disagree on stays in doubt, since
//! its events may wait invisible in a pending tree until a later begin.
//! Flushing stops while three flushes are in doubt (the subsets stay few).
//! Also checked: the store always opens and imports everything after a
//! crash, no panic, quarantine entries never repeat a source.
//!
//! (Over 500 lines on purpose: the operation decoder, the model and the
//! checker are one harness that must change together.)

use std::collections::BTreeSet;
use std::time::Duration;

use crate::model::{ActivityDefinition, ActivityInstance, Timestamp, Value};
use crate::storage::{CrashMode, Fault, MemStorage};
use crate::stream::{BufferedEventStream, DirectEventStream, EventStream};
use crate::{Store, StoreError, StoreOptions};

/// Most operations decoded from one input.
pub const MAX_OPS: usize = 64;
/// Most reopens in one input (each costs a reference store or a few).
const MAX_REOPENS: usize = 4;
/// In-doubt flushes (this session's plus those no check could settle yet)
/// before flushing stops, so the subsets to try stay few.
const MAX_IN_DOUBT: usize = 3;

const DIR: &str = "/s";
const PO: &str = "PurchaseOrder";
const BASE_TS: i64 = 1_790_000_000_000_000;
const SYNC: Duration = Duration::from_secs(10);

const DEFINITION: &str = r#"{"name":"PurchaseOrder","items":[
    {"name":"Customer","type":"text","max_len":16},
    {"name":"Amount","type":"float"},
    {"name":"Quantity","type":"int"},
    {"name":"Status","type":"text","max_len":32}]}"#;

/// The options of every store the hook opens: small segments and frames,
/// frequent checkpoints, one quick retry before the bus halts.
pub fn options() -> StoreOptions {
    let mut o = StoreOptions::default();
    o.wal.segment_size = 64 << 10;
    o.wal.max_frame_size = 16 << 10;
    o.checkpoint_frames = 4;
    o.retry_limit = 1;
    o.retry_backoff = Duration::from_millis(1);
    o
}

fn definition() -> ActivityDefinition {
    match serde_json::from_str(DEFINITION) {
        Ok(def) => def,
        Err(e) => panic!("the fixture definition must parse: {e}"),
    }
}

/// One event as the model keeps it: enough to push it again, identically,
/// into a reference store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ev {
    ts: i64,
    kind: u8,
    a: u8,
    v: u8,
}

/// Stream `i` of the harness writes as producer `PRODUCER + i`, in every
/// session, so a sequenced batch sent again after a reopen is a duplicate.
const PRODUCER: u32 = 40;

/// A logged flush's producer id and sequence number, if sequenced.
type Seq = Option<(u32, u64)>;

/// Number of event kinds [`push`] knows.
const EVENT_KINDS: u8 = 13;

/// Pushes `ev` on `s`, at its timestamp.
fn push<S: EventStream>(s: &mut S, ev: Ev) -> Result<Option<crate::stream::Receipt>, StoreError> {
    s.set_time(Some(Timestamp::from_micros(ev.ts)));
    let id = format!("PO-{}", ev.a & 3);
    let token = format!("T-{}", (ev.a >> 2) & 3);
    let v = ev.v;
    match ev.kind % EVENT_KINDS {
        0 => s.begin(PO, &id),
        1 => s.update(PO, &id, [("Amount", Value::from(f64::from(v) * 1.5))]),
        2 => s.update(PO, &id, [("Customer", Value::from(format!("c{v}")))]),
        3 => s.update(PO, &id, [("Quantity", Value::from(i64::from(v)))]),
        4 => s.end(PO, &id),
        5 => s.enable_continuation(PO, &id, &token),
        6 => s.update(PO, &token, [("Status", Value::from(format!("S{v}")))]),
        7 => s.end(PO, &token),
        // Invalid at import: an unknown item, an unknown activity, a value
        // of the wrong type, a text longer than the item allows.
        8 => s.update(PO, &id, [("NoSuchItem", Value::from(1i64))]),
        9 => s.begin("Nope", &id),
        10 => s.update(PO, &id, [("Quantity", Value::from("not a number"))]),
        11 => s.update(PO, &id, [("Customer", Value::from("x".repeat(17)))]),
        // Bulk, so the message box rotates and trims; an odd value adds
        // long data that can make the batch larger than a frame may be.
        _ => {
            let data = "d".repeat(usize::from(v % 4) * 300);
            let long = (v % 2 == 1).then(|| "l".repeat(usize::from(v) * 48));
            s.add_reference(PO, &id, "Doc", &format!("r{v}"), &data, long.as_deref())
        }
    }
}

enum Stream {
    Buffered(BufferedEventStream),
    Direct(DirectEventStream),
}

impl Stream {
    fn push(&mut self, ev: Ev) -> Result<Option<crate::stream::Receipt>, StoreError> {
        match self {
            Stream::Buffered(s) => push(s, ev),
            Stream::Direct(s) => push(s, ev),
        }
    }

    fn flush(&mut self, seq: Option<u64>) -> Result<Option<crate::stream::Receipt>, StoreError> {
        match (self, seq) {
            (Stream::Buffered(s), None) => s.flush(),
            (Stream::Direct(s), None) => s.flush(),
            (Stream::Buffered(s), Some(n)) => s.flush_sequenced(n),
            (Stream::Direct(s), Some(n)) => s.flush_sequenced(n),
        }
    }

    fn clear(&mut self) {
        match self {
            Stream::Buffered(s) => s.clear(),
            Stream::Direct(s) => s.clear(),
        }
    }

    fn pending(&self) -> usize {
        match self {
            Stream::Buffered(s) => s.pending_events(),
            Stream::Direct(s) => s.pending_events(),
        }
    }
}

/// What the recovered store is compared on: every instance (sorted by id),
/// the number of quarantine entries, and the number of pending trees
/// (events for ids not begun yet: invisible, but a later begin reveals
/// them, so an in-doubt flush that only fed them must still be told apart).
type Snapshot = (Vec<ActivityInstance>, usize, usize);

fn snapshot(store: &Store, context: &str) -> Snapshot {
    let mut all = match store.instances(PO) {
        Ok(all) => all,
        Err(e) => panic!("{context}: listing instances failed: {e}"),
    };
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let entries = match store.quarantine_entries() {
        Ok((entries, _damaged)) => entries,
        Err(e) => panic!("{context}: reading the quarantine failed: {e}"),
    };
    let mut sources = BTreeSet::new();
    for e in &entries {
        assert!(
            sources.insert(e.source.lsns),
            "{context}: quarantine entry {} repeats source {:?}; entries (id, source, reasons): {:?}",
            e.id,
            e.source.lsns,
            entries
                .iter()
                .map(|e| (e.id, e.source.lsns, &e.reasons))
                .collect::<Vec<_>>()
        );
    }
    (all, entries.len(), store.stats().pending)
}

/// A store that never crashed, fed `batches` in order; `None` when one of
/// them cannot be written at all (a frame over the size limit: such an
/// in-doubt flush can only have been lost).
fn reference(batches: &[(&[Ev], Seq)]) -> Option<Snapshot> {
    let disk = MemStorage::new();
    let store = match Store::open_with_storage(disk.shared(), DIR, options()) {
        Ok(store) => store,
        Err(e) => panic!("the reference store must open: {e}"),
    };
    if let Err(e) = store.deploy(definition()) {
        panic!("the reference deploy failed: {e}");
    }
    let mut plain = store.buffered_stream(0);
    let mut sequenced = std::collections::BTreeMap::new();
    for (batch, seq) in batches {
        let s = match seq {
            None => &mut plain,
            Some((producer, _)) => sequenced
                .entry(*producer)
                .or_insert_with(|| store.buffered_stream_as(*producer, 0)),
        };
        for ev in batch.iter() {
            if let Err(e) = push(s, *ev) {
                panic!("the reference refused an event the store took: {ev:?}: {e}");
            }
        }
        let flushed = match seq {
            None => s.flush(),
            Some((_, n)) => s.flush_sequenced(*n),
        };
        if flushed.is_err() {
            return None;
        }
    }
    assert!(store.sync(SYNC), "the reference store did not catch up");
    Some(snapshot(&store, "reference"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    Acked,
    InDoubt,
}

/// Reads operands; an exhausted input reads zeros.
struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
}

struct Harness {
    disk: MemStorage,
    // Streams before the store: they are dropped first.
    streams: Vec<Stream>,
    store: Store,
    direct: Vec<bool>,
    /// What each stream holds and has not flushed, as the model sees it.
    buffers: Vec<Vec<Ev>>,
    /// Every flush that may have been written, in commit order.
    log: Vec<(Vec<Ev>, Fate, Seq)>,
    in_doubt_this_session: usize,
    /// In-doubt flushes earlier checks could not settle.
    unsettled: usize,
    events: i64,
    reopens: usize,
    trace: Vec<String>,
}

impl Harness {
    fn new(direct: Vec<bool>) -> Harness {
        let disk = MemStorage::new();
        let store = match Store::open_with_storage(disk.shared(), DIR, options()) {
            Ok(store) => store,
            Err(e) => panic!("a fresh store must open: {e}"),
        };
        if let Err(e) = store.deploy(definition()) {
            panic!("deploy on a fresh store failed: {e}");
        }
        let streams = make_streams(&store, &direct);
        Harness {
            disk,
            streams,
            store,
            buffers: vec![Vec::new(); direct.len()],
            direct,
            log: Vec::new(),
            in_doubt_this_session: 0,
            unsettled: 0,
            events: 0,
            reopens: 0,
            trace: Vec::new(),
        }
    }

    fn context(&self) -> String {
        format!("after ops [{}]", self.trace.join(", "))
    }

    fn push(&mut self, s: usize, kind: u8, a: u8, v: u8) {
        self.events += 1;
        let ev = Ev {
            ts: BASE_TS + i64::from((a >> 4) & 3) * 1_000_000_000 + self.events,
            kind: kind % EVENT_KINDS,
            a,
            v,
        };
        let before = self.streams[s].pending();
        match self.streams[s].push(ev) {
            Ok(receipt) => {
                // Pushes never commit here: batches stay far below the
                // batch limits, so the stream only buffers.
                assert_eq!(receipt, None, "{}: a push committed", self.context());
                assert_eq!(
                    self.streams[s].pending(),
                    before + 1,
                    "{}: a push did not buffer exactly one event",
                    self.context()
                );
                self.buffers[s].push(ev);
            }
            Err(_) => assert_eq!(
                self.streams[s].pending(),
                before,
                "{}: a refused push changed the buffer",
                self.context()
            ),
        }
    }

    fn flush(&mut self, s: usize, seq: Option<u64>) {
        if self.in_doubt_this_session + self.unsettled >= MAX_IN_DOUBT {
            return;
        }
        let batch = std::mem::take(&mut self.buffers[s]);
        let before = self.store.stats().committed_lsn;
        let result = self.streams[s].flush(seq);
        let seq = seq.map(|n| (PRODUCER + s as u32, n));
        let after = self.store.stats().committed_lsn;
        let context = self.context();
        assert_eq!(
            self.streams[s].pending(),
            0,
            "{context}: a flush left events in the stream"
        );
        match result {
            Ok(None) => assert!(
                batch.is_empty(),
                "{context}: a flush of {} events wrote nothing",
                batch.len()
            ),
            Ok(Some(receipt)) => {
                assert_eq!(receipt.events, batch.len(), "{context}: receipt count");
                assert!(
                    after >= receipt.lsn,
                    "{context}: acknowledged LSN {} is not committed ({after})",
                    receipt.lsn
                );
                self.log.push((batch, Fate::Acked, seq));
            }
            // A direct stream validates before writing: nothing written.
            Err(StoreError::Rejected { .. }) if after == before && self.direct[s] => {}
            // The frame became durable before the error (a direct stream
            // waiting for the import, or rejected by the import).
            Err(_) if after > before => self.log.push((batch, Fate::Acked, seq)),
            Err(_) => {
                if !batch.is_empty() {
                    self.log.push((batch, Fate::InDoubt, seq));
                    self.in_doubt_this_session += 1;
                }
            }
        }
    }

    /// Crashes now and reopens: the disk image keeps all, drops the unsynced
    /// writes or keeps/drops/tears each of them (`m % 3`); when `r % 4 ==
    /// 0` recovery itself crashes after `1 + (r >> 2) % 8` steps and the
    /// image of that is opened again. Then the store must open, import
    /// everything, and match the model.
    fn reopen(&mut self, m: u8, r: u8) {
        self.reopens += 1;
        let mode = crash_mode(m, self.reopens as u64);
        self.disk.crash_now();
        let mut image = self.disk.crash_image(mode);
        let direct = self.direct.clone();
        // Stop the old store (its writes all fail now) before the new one.
        self.streams.clear();
        if r % 4 == 0 {
            image.crash_after(1 + u64::from(r >> 2) % 8);
            if let Ok(store) = Store::open_with_storage(image.shared(), DIR, options()) {
                store.sync(Duration::from_secs(1));
            }
            image = image.crash_image(crash_mode(r >> 5, self.reopens as u64 + 100));
        }
        let context = format!("{}, reopen {mode:?} r={r}", self.context());
        let store = match Store::open_with_storage(image.shared(), DIR, options()) {
            Ok(store) => store,
            Err(e) => panic!("{context}: the store must open after a crash: {e}"),
        };
        self.store = store;
        self.disk = image;
        assert!(
            self.store.sync(SYNC),
            "{context}: import stuck after recovery: {:?}",
            self.store.stats()
        );
        self.check(&context);
        self.streams = make_streams(&self.store, &direct);
        self.buffers = vec![Vec::new(); direct.len()];
        self.in_doubt_this_session = 0;
    }

    /// Compares the synced store with references over the subsets of the
    /// in-doubt flushes; the first match becomes the truth.
    fn check(&mut self, context: &str) {
        let got = snapshot(&self.store, context);
        let doubtful: Vec<usize> = (0..self.log.len())
            .filter(|&i| self.log[i].1 == Fate::InDoubt)
            .collect();
        let mut first = None;
        let mut matching = Vec::new();
        for mask in 0u32..(1 << doubtful.len()) {
            let batches: Vec<(&[Ev], Seq)> = (0..self.log.len())
                .filter(|&i| {
                    self.log[i].1 == Fate::Acked
                        || doubtful
                            .iter()
                            .position(|&d| d == i)
                            .is_some_and(|bit| mask & (1 << bit) != 0)
                })
                .map(|i| (self.log[i].0.as_slice(), self.log[i].2))
                .collect();
            match reference(&batches) {
                Some(want) if want == got => matching.push(mask),
                Some(want) => {
                    first.get_or_insert(want);
                }
                None => {}
            }
        }
        if matching.is_empty() {
            panic!(
                "{context}: the recovered store matches no run of the acknowledged flushes \
                 ({} in doubt):\n got {got:?}\n want {first:?}\n log {:?}",
                doubtful.len(),
                self.log
            );
        }
        // An in-doubt flush is settled (kept, or dropped from the model)
        // only when every matching subset agrees on it. Otherwise it stays
        // in doubt: its events may sit in pending trees, invisible until a
        // later begin reveals them.
        let mut settled = vec![None; self.log.len()];
        for (bit, &i) in doubtful.iter().enumerate() {
            let kept = |m: &u32| m & (1 << bit) != 0;
            if matching.iter().all(kept) {
                settled[i] = Some(true);
            } else if !matching.iter().any(kept) {
                settled[i] = Some(false);
            }
        }
        let log = std::mem::take(&mut self.log);
        self.log = log
            .into_iter()
            .zip(settled)
            .filter_map(|((batch, fate, seq), settled)| match (fate, settled) {
                (Fate::Acked, _) | (_, Some(true)) => Some((batch, Fate::Acked, seq)),
                (_, Some(false)) => None,
                (Fate::InDoubt, None) => Some((batch, Fate::InDoubt, seq)),
            })
            .collect();
        self.unsettled = self.log.iter().filter(|e| e.1 == Fate::InDoubt).count();
    }
}

fn make_streams(store: &Store, direct: &[bool]) -> Vec<Stream> {
    direct
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let producer = PRODUCER + i as u32;
            if d {
                Stream::Direct(store.direct_stream_as(producer))
            } else {
                Stream::Buffered(store.buffered_stream_as(producer, 0))
            }
        })
        .collect()
}

fn crash_mode(m: u8, salt: u64) -> CrashMode {
    match m % 3 {
        0 => CrashMode::KeepAll,
        1 => CrashMode::DropUnsynced,
        _ => CrashMode::Random(u64::from(m) * 7919 + salt),
    }
}

/// Runs the operations `data` encodes (see the module docs) and checks the
/// store against the model after every reopen and at the end. Panics when
/// a property is violated.
pub fn store_ops(data: &[u8]) {
    let mut input = Input { data, pos: 0 };
    let config = input.byte();
    let streams = 1 + usize::from(config % 3);
    let direct: Vec<bool> = (0..streams).map(|i| config & (4 << i) != 0).collect();
    let mut h = Harness::new(direct);
    let mut ops = 0;
    while !input.done() && ops < MAX_OPS {
        ops += 1;
        let op = input.byte() % 16;
        match op {
            0..=6 => {
                let (s, k, a, v) = (input.byte(), input.byte(), input.byte(), input.byte());
                let s = usize::from(s) % streams;
                h.trace
                    .push(format!("push s{s} k{} a{a} v{v}", k % EVENT_KINDS));
                h.push(s, k, a, v);
            }
            7..=8 => {
                let s = usize::from(input.byte()) % streams;
                h.trace.push(format!("flush s{s}"));
                h.flush(s, None);
            }
            9 => {
                let (s, n) = (
                    usize::from(input.byte()) % streams,
                    u64::from(input.byte() % 8),
                );
                h.trace.push(format!("flush s{s} as {n}"));
                h.flush(s, Some(n));
            }
            10 => {
                let s = usize::from(input.byte()) % streams;
                h.trace.push(format!("clear s{s}"));
                h.streams[s].clear();
                h.buffers[s].clear();
            }
            11 => {
                h.trace.push("sync".into());
                h.store.sync(Duration::from_secs(2));
            }
            12 => {
                let (n, f) = (1 + u64::from(input.byte()) % 16, input.byte() % 3);
                let fault = [Fault::Eio, Fault::NoSpace, Fault::PartialWrite][usize::from(f)];
                h.trace.push(format!("fault {fault:?} at +{n}"));
                h.disk.inject(n, fault);
            }
            13 => {
                let n = 1 + u64::from(input.byte()) % 32;
                h.trace.push(format!("crash at +{n}"));
                h.disk.crash_after(n);
            }
            14 => {
                let (m, r) = (input.byte(), input.byte());
                if h.reopens < MAX_REOPENS {
                    h.trace.push(format!("reopen m{m} r{r}"));
                    h.reopen(m, r);
                }
            }
            _ => {
                h.trace.push("flush all".into());
                for s in 0..streams {
                    h.flush(s, None);
                }
            }
        }
    }
    // The end: a power loss, then everything acknowledged must be there.
    h.trace.push("final power loss".into());
    h.reopens = 0;
    h.reopen(1, 1);
}

/// Seed inputs: `(file name, bytes)`, each a short scenario.
pub fn seed_corpus() -> Vec<(&'static str, Vec<u8>)> {
    // Operation helpers, in the input format of the module docs.
    let push = |s: u8, k: u8, a: u8, v: u8| vec![0, s, k, a, v];
    let flush = |s: u8| vec![7, s];
    let order = |id: u8, token: u8| -> Vec<u8> {
        let a = id | (token << 2);
        [
            push(0, 0, a, 0),
            push(0, 1, a, 10),
            push(0, 2, a, 3),
            push(0, 5, a, 0),
            push(0, 4, a, 0),
            flush(0),
        ]
        .concat()
    };
    let ship = |s: u8, token: u8| {
        [
            push(s, 6, token << 2, 9),
            push(s, 7, token << 2, 0),
            flush(s),
        ]
        .concat()
    };
    let mut seeds = vec![
        (
            "orders_one_stream",
            [vec![0], order(0, 0), order(1, 1), ship(0, 0), vec![11]].concat(),
        ),
        (
            "out_of_order_three_streams",
            [
                vec![20],
                ship(1, 2),
                push(2, 3, 0x32, 7),
                flush(2),
                order(2, 2),
                vec![14, 1, 1],
                ship(2, 2),
            ]
            .concat(),
        ),
        (
            "invalid_and_clear",
            [
                vec![1],
                push(0, 8, 1, 0),
                push(1, 9, 2, 0),
                flush(0),
                push(0, 0, 3, 0),
                vec![10, 0],
                push(0, 10, 3, 0),
                push(0, 11, 3, 0),
                vec![15],
                order(3, 3),
            ]
            .concat(),
        ),
        (
            "faults_then_reopen",
            [
                vec![4],
                order(0, 0),
                vec![12, 2, 0],
                order(1, 1),
                vec![12, 1, 1],
                order(2, 2),
                vec![12, 0, 2],
                order(3, 3),
                vec![14, 2, 9],
                ship(0, 1),
            ]
            .concat(),
        ),
        (
            "crash_mid_flush_random_mode",
            [
                vec![0],
                order(0, 0),
                push(0, 12, 0, 7),
                push(0, 12, 1, 3),
                flush(0),
                vec![13, 3],
                order(1, 1),
                vec![14, 2, 0],
                order(2, 2),
            ]
            .concat(),
        ),
    ];
    // Sequenced flushes sent again within a session, after a power loss
    // and across a crash in the middle of one.
    let as_batch = |s: u8, n: u8| vec![9, s, n];
    seeds.push((
        "sequenced_resends_across_reopens",
        [
            vec![4 | 1],
            push(0, 0, 1, 0),
            push(0, 4, 1, 0),
            as_batch(0, 3),
            push(0, 0, 2, 0),
            push(0, 4, 2, 0),
            as_batch(0, 3),
            push(1, 0, 3, 0),
            as_batch(1, 3),
            vec![14, 1, 0],
            push(0, 0, 2, 0),
            push(0, 4, 2, 0),
            as_batch(0, 3),
            push(0, 1, 2, 5),
            as_batch(0, 5),
            vec![13, 4],
            push(1, 1, 3, 9),
            as_batch(1, 6),
            vec![14, 2, 3],
            push(1, 1, 3, 9),
            as_batch(1, 6),
        ]
        .concat(),
    ));
    let mut bulk = vec![1];
    for i in 0..20u8 {
        bulk.extend(push(i % 2, 12, i, 1 + 2 * (i % 40)));
        bulk.extend(flush(i % 2));
    }
    bulk.extend([13, 20, 14, 0, 4]);
    seeds.push(("bulk_rotation_then_crash", bulk));
    seeds.push(("empty", Vec::new()));
    seeds
}
