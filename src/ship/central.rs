//! The central bus's NATS source: reads the stream of shipped messages
//! through a durable consumer and imports their frames into a store.
//!
//! A message is acknowledged only once its frames are imported (or set
//! aside in quarantine): after [`Store::append_shipped`] and
//! [`Store::wait_applied`]. A crash before that leaves it unacknowledged,
//! JetStream delivers it again, and the store's per-box mark skips what
//! was imported, so every (box, LSN) is imported once whatever JetStream
//! redelivers, also long after its duplicate window. A message that comes
//! before its turn (a frame of its box missing before it) is handed back
//! (`nak` with a delay) until the missing one came: the bus never skips
//! past a frame it has not seen.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{self, AckKind, Message};
use futures_util::StreamExt;

use super::jetstream::{check_name, connect, ensure_stream, runtime, Backoff, StreamSettings};
use super::message;
use super::status::{read_sources, SourceStatus, SOURCES_FILE};
use super::ShipError;
use crate::wal::Lsn;
use crate::{RefusedBecause, ShippedFrame, Store};

/// How long JetStream waits for a delivered message's acknowledgement
/// before it delivers the message again.
const ACK_WAIT: Duration = Duration::from_secs(5);

/// One fetch: the messages that came, and whether the fetch ended
/// (false: the server stopped answering within [`FETCH_TIMEOUT`], as when
/// it died with the request in flight; what came is kept all the same).
async fn fetch(
    consumer: &jetstream::consumer::Consumer<pull::Config>,
    max_messages: usize,
    max_bytes: usize,
) -> (Result<Vec<Message>, ShipError>, bool) {
    let deadline = tokio::time::Instant::now() + FETCH_TIMEOUT;
    let asked = consumer
        .fetch()
        .max_messages(max_messages)
        .max_bytes(max_bytes)
        .messages();
    let mut batch = match tokio::time::timeout_at(deadline, asked).await {
        Ok(Ok(batch)) => batch,
        Ok(Err(e)) => {
            let e = ShipError::Nats {
                what: "fetch".into(),
                reason: e.to_string(),
            };
            return (Err(e), true);
        }
        Err(_) => return (Ok(Vec::new()), false),
    };
    let mut messages = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, batch.next()).await {
            Ok(Some(Ok(message))) => messages.push(message),
            // A status that ends the batch (no messages, request timeout).
            Ok(Some(Err(_))) | Ok(None) => return (Ok(messages), true),
            Err(_) => return (Ok(messages), false),
        }
    }
}

/// Whether the consumer has nothing left: nothing new, and nothing
/// delivered but unacknowledged (a killed bus's messages come again only
/// after [`ACK_WAIT`]). A failed look says no.
async fn drained(consumer: &jetstream::consumer::Consumer<pull::Config>) -> bool {
    let mut consumer = consumer.clone();
    match consumer.info().await {
        Ok(info) => info.num_pending == 0 && info.num_ack_pending == 0,
        Err(_) => false,
    }
}

/// Options of a [`NatsSource`].
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Where to read from.
    pub nats: StreamSettings,
    /// The durable consumer's name: one per central store. Default
    /// `bamdb`.
    pub consumer: String,
    /// Messages fetched (and imported with one sync) at a time, at most.
    /// Default 256.
    pub batch: usize,
    /// Stop once the stream has nothing more for this consumer instead of
    /// running until stopped.
    pub drain: bool,
}

impl SourceOptions {
    /// Options reading `nats`, with defaults.
    pub fn new(nats: StreamSettings) -> SourceOptions {
        SourceOptions {
            nats,
            consumer: "bamdb".into(),
            batch: 256,
            drain: false,
        }
    }
}

/// What a [`NatsSource`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceReport {
    /// Messages acknowledged.
    pub messages: u64,
    /// Frames appended to the store (each imported once).
    pub frames: u64,
    /// Frames skipped as imported before (redelivered, or shipped twice).
    pub duplicates: u64,
    /// Messages handed back because a frame before them was missing.
    pub out_of_order: u64,
    /// Messages that were no shipped message (damaged): kept in the
    /// store's quarantine, with the reason.
    pub damaged: u64,
}

/// Reads shipped messages from NATS into a store (see the module docs).
///
/// ```no_run
/// use std::sync::atomic::AtomicBool;
/// use bamdb::ship::{NatsSource, SourceOptions, StreamSettings};
/// use bamdb::{Store, StoreOptions};
///
/// let store = Store::open("/var/lib/bamdb/central", StoreOptions::default())?;
/// let nats = StreamSettings {
///     url: "nats://a:4222,nats://b:4222,nats://c:4222".into(),
///     stream: "FLEET".into(),
///     replicas: 3,
/// };
/// let source = NatsSource::new(SourceOptions::new(nats))?;
/// let stop = AtomicBool::new(false); // set it from a signal handler
/// let report = source.run(&store, &stop)?;
/// println!("imported {} frames", report.frames);
/// store.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct NatsSource {
    options: SourceOptions,
}

impl NatsSource {
    /// Checks the options.
    pub fn new(options: SourceOptions) -> Result<NatsSource, ShipError> {
        options.nats.validate()?;
        check_name("consumer", &options.consumer)?;
        if !(1..=10_000).contains(&options.batch) {
            return Err(ShipError::InvalidInput(format!(
                "batch {}: use 1 to 10000 messages",
                options.batch
            )));
        }
        Ok(NatsSource { options })
    }

    /// Imports into `store` until `stop` is set or, when draining, the
    /// stream has nothing more.
    pub fn run(&self, store: &Store, stop: &AtomicBool) -> Result<SourceReport, ShipError> {
        runtime()?.block_on(self.receive(store, stop))
    }

    async fn receive(&self, store: &Store, stop: &AtomicBool) -> Result<SourceReport, ShipError> {
        let options = &self.options;
        let client = connect(&options.nats, &format!("bamdb bus {}", options.consumer)).await?;
        let js = jetstream::new(client.clone());
        let mut report = SourceReport::default();
        let mut status = Statuses::load(store.dir());
        let mut backoff = Backoff::new();
        let mut consumer = None;
        let mut in_flight = VecDeque::new();
        let mut idle = MIN_IDLE;

        while !stop.load(Ordering::Relaxed) {
            let current = match &consumer {
                Some(c) => c,
                None => match self.open_consumer(&js).await {
                    Ok(c) => consumer.insert(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "the stream's consumer cannot be opened yet; trying again");
                        backoff.wait().await;
                        continue;
                    }
                },
            };
            // Room for at least two of the largest messages the server takes.
            let fetch_bytes = FETCH_BYTES.max(2 * client.server_info().max_payload);
            let (messages, answered) = fetch(current, options.batch, fetch_bytes).await;
            let messages = match messages {
                Ok(messages) => messages,
                Err(e) => {
                    tracing::warn!(error = %e, "fetch failed; trying again");
                    consumer = None;
                    backoff.wait().await;
                    continue;
                }
            };
            let drained_now =
                answered && messages.is_empty() && options.drain && drained(current).await;
            if !answered {
                // What came is kept; the rest comes again after the
                // consumer's ack_wait, through a consumer handle made anew.
                tracing::warn!(
                    received = messages.len(),
                    "a fetch was not answered in full; asking again"
                );
                consumer = None;
            }
            backoff.reset();
            if messages.is_empty() {
                // A fetch returns at once with what there is: wait a
                // little before asking again, longer while idle.
                tokio::time::sleep(idle).await;
                idle = (idle * 2).min(MAX_IDLE);
                // Idle: everything imported is acknowledged now.
                if !self
                    .settle(store, &mut in_flight, 0, &mut report, &mut status, stop)
                    .await
                {
                    break;
                }
                status.save(store.dir(), false);
                if drained_now {
                    break;
                }
                continue;
            }
            idle = MIN_IDLE;
            in_flight.push_back(self.import(store, messages, &mut report, &mut status)?);
            // The next batch is fetched while this one imports; at most a
            // few batches wait for their acknowledgement.
            if !self
                .settle(
                    store,
                    &mut in_flight,
                    MAX_IN_FLIGHT,
                    &mut report,
                    &mut status,
                    stop,
                )
                .await
            {
                break;
            }
            status.save(store.dir(), false);
        }
        status.save(store.dir(), true);
        Ok(report)
    }

    async fn open_consumer(
        &self,
        js: &jetstream::Context,
    ) -> Result<jetstream::consumer::Consumer<pull::Config>, ShipError> {
        let options = &self.options;
        let stream = ensure_stream(js, &options.nats).await?;
        stream
            .get_or_create_consumer(
                &options.consumer,
                pull::Config {
                    durable_name: Some(options.consumer.clone()),
                    ack_policy: AckPolicy::Explicit,
                    deliver_policy: DeliverPolicy::All,
                    // A message delivered to a bus that was killed comes
                    // again after this; until then its box's later
                    // messages are handed back as out of order.
                    ack_wait: ACK_WAIT,
                    max_ack_pending: 20_000,
                    ..pull::Config::default()
                },
            )
            .await
            .map_err(|e| ShipError::Nats {
                what: format!("create or open consumer {}", options.consumer),
                reason: e.to_string(),
            })
    }

    /// Appends one fetched batch to the store; its messages wait in the
    /// returned batch for their acknowledgement.
    fn import(
        &self,
        store: &Store,
        messages: Vec<Message>,
        report: &mut SourceReport,
        status: &mut Statuses,
    ) -> Result<InFlight, ShipError> {
        let now = now_ms();
        let mut frames = Vec::new();
        // Per frame, the message it came from.
        let mut owner = Vec::new();
        let mut damaged = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            match message::decode(&m.payload) {
                Ok(decoded) => {
                    let box_status = status.of(decoded.box_id);
                    box_status.synced_lsn = box_status.synced_lsn.max(decoded.synced);
                    box_status.last_message_ms = now;
                    for (k, payload) in decoded.frames.iter().enumerate() {
                        frames.push(ShippedFrame {
                            box_id: decoded.box_id,
                            lsn: decoded.first_lsn + k as u64,
                            payload,
                        });
                        owner.push(i);
                    }
                }
                Err(e) => damaged.push((i, e)),
            }
        }
        let mut handed_back = vec![false; messages.len()];
        let appended = store.append_shipped(&frames)?;
        for refused in &appended.refused {
            let Some(&i) = owner.get(refused.index) else {
                continue;
            };
            handed_back[i] = true;
            match refused.reason {
                RefusedBecause::OutOfOrder { .. } => status.of(refused.box_id).out_of_order += 1,
                RefusedBecause::TooLarge { .. } => tracing::error!(
                    box_id = refused.box_id,
                    lsn = refused.lsn,
                    reason = %refused.reason,
                    "a shipped frame cannot be imported; it stays in the stream"
                ),
            }
        }
        report.frames += appended.appended;
        report.duplicates += appended.duplicates;
        let mut wait_for = appended.durable_at;
        // A damaged message is kept where every bad frame is: appended as
        // it is, the bus sets it aside in quarantine with the reason.
        if !damaged.is_empty() {
            let payloads: Vec<&[u8]> = damaged
                .iter()
                .filter_map(|(i, _)| messages.get(*i).map(|m| m.payload.as_ref()))
                .collect();
            if let Some(&lsn) = store.append_raw(&payloads)?.last() {
                wait_for = wait_for.max(lsn);
            }
            for (i, e) in &damaged {
                if let Some(m) = messages.get(*i) {
                    tracing::error!(subject = %m.subject, error = %e, "a damaged message was set aside in quarantine");
                }
            }
            report.damaged += damaged.len() as u64;
        }
        Ok(InFlight {
            wait_for,
            messages,
            handed_back,
        })
    }

    /// Acknowledges the batches whose frames are imported, waiting until
    /// at most `keep` batches are left. False if stopped meanwhile (what
    /// is not acknowledged is delivered again after a restart).
    async fn settle(
        &self,
        store: &Store,
        in_flight: &mut VecDeque<InFlight>,
        keep: usize,
        report: &mut SourceReport,
        status: &mut Statuses,
        stop: &AtomicBool,
    ) -> bool {
        let mut settled = false;
        while let Some(oldest) = in_flight.front() {
            let must = in_flight.len() > keep;
            if !store.wait_applied(oldest.wait_for, Duration::ZERO) {
                if !must {
                    break;
                }
                if !wait_imported(store, oldest, stop).await {
                    return false;
                }
            }
            let Some(done) = in_flight.pop_front() else {
                break;
            };
            done.acknowledge(report).await;
            settled = true;
        }
        if settled {
            for (box_id, applied) in store.shipped_marks() {
                status.of(box_id).applied_lsn = applied;
            }
        }
        true
    }
}

/// Bytes one fetch brings at most: a backlog after an outage comes in
/// batches that arrive well within [`FETCH_TIMEOUT`] and import while the
/// next is fetched (messages hold up to 1 MiB each).
const FETCH_BYTES: usize = 8 << 20;

/// How long a fetch may go unanswered before the bus gives up on it (and
/// on its connection's consumer handle) and asks again.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The shortest and the longest wait before fetching again after a fetch
/// found nothing.
const MIN_IDLE: Duration = Duration::from_millis(1);
const MAX_IDLE: Duration = Duration::from_millis(32);

/// Batches fetched and appended at most, waiting for their import while
/// the next is fetched.
const MAX_IN_FLIGHT: usize = 4;

/// A batch appended to the store, waiting for its import.
struct InFlight {
    /// Imported once the store applied this LSN.
    wait_for: Lsn,
    messages: Vec<Message>,
    /// Per message: refused (handed back to JetStream) rather than done.
    handed_back: Vec<bool>,
}

impl InFlight {
    async fn acknowledge(self, report: &mut SourceReport) {
        for (m, back) in self.messages.iter().zip(self.handed_back) {
            let ack = if back {
                report.out_of_order += 1;
                m.ack_with(AckKind::Nak(Some(Duration::from_millis(500))))
                    .await
            } else {
                report.messages += 1;
                m.ack().await
            };
            if let Err(e) = ack {
                // Delivered again later, and skipped by the store's mark.
                tracing::warn!(error = %e, "acknowledgement lost");
            }
        }
    }
}

/// Waits until `batch` is imported, telling JetStream meanwhile that its
/// messages are being worked on; false if stopped first.
async fn wait_imported(store: &Store, batch: &InFlight, stop: &AtomicBool) -> bool {
    let mut told = std::time::Instant::now();
    while !store.wait_applied(batch.wait_for, Duration::from_millis(200)) {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        if told.elapsed() >= ACK_WAIT / 2 {
            // A slow import: not to be delivered again meanwhile.
            for m in &batch.messages {
                let _ = m.ack_with(AckKind::Progress).await;
            }
            told = std::time::Instant::now();
        }
    }
    true
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The status of every source box, by box id (16 hex digits).
#[derive(Debug, Default)]
struct Statuses {
    boxes: BTreeMap<String, SourceStatus>,
    dirty: bool,
    saved: Option<std::time::Instant>,
}

/// How often the status file is written at most.
const SAVE_EVERY: Duration = Duration::from_secs(1);

impl Statuses {
    fn load(dir: &Path) -> Statuses {
        Statuses {
            boxes: read_sources(dir).unwrap_or_default(),
            ..Statuses::default()
        }
    }

    fn of(&mut self, box_id: u64) -> &mut SourceStatus {
        self.dirty = true;
        self.boxes.entry(format!("{box_id:016x}")).or_default()
    }

    /// Writes the file (a new one synced and renamed over the old) at
    /// most once a second, or at once with `now`.
    fn save(&mut self, dir: &Path, now: bool) {
        if !self.dirty || (!now && self.saved.is_some_and(|at| at.elapsed() < SAVE_EVERY)) {
            return;
        }
        self.saved = Some(std::time::Instant::now());
        for status in self.boxes.values_mut() {
            status.lag = status.synced_lsn.saturating_sub(status.applied_lsn);
        }
        let Ok(bytes) = serde_json::to_vec_pretty(&self.boxes) else {
            return;
        };
        let storage = crate::storage::FsStorage::shared();
        match crate::segments::blob::write_atomically(storage.as_ref(), dir, SOURCES_FILE, &bytes) {
            Ok(()) => self.dirty = false,
            Err(e) => tracing::warn!(error = %e, "cannot write {SOURCES_FILE}"),
        }
    }
}
