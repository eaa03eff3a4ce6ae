//! The shipper: publishes a producer's message box to NATS JetStream, in
//! LSN order, and lets the box delete only what JetStream acknowledged.
//!
//! Each message carries a run of consecutive frames ([`super::message`]),
//! with the message id `<box id>.<first LSN>-<last LSN>` (JetStream drops
//! a message published twice within its duplicate window) and the
//! expected last sequence of the box's subject (JetStream refuses a
//! message that does not follow the last one it holds for the box). After
//! a restart, or when JetStream refuses for that reason, the shipper reads
//! the last message the stream holds for its box and goes on after it: the
//! stream, not the shipper's memory, says what is shipped.
//!
//! The box's `APPLIED` mark (written by the shipper, as the bus does for a
//! local box) advances only after JetStream acknowledged, so the producer
//! deletes a frame only once the stream holds it; until then the box keeps
//! it (and the box's quota holds its producer back when the stream is
//! unreachable for long).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::stream::{LastRawMessageErrorKind, Stream};
use async_nats::jetstream::{self, Context};
use async_nats::HeaderMap;

use super::jetstream::{connect, ensure_stream, runtime, Backoff, StreamSettings, LAST_LSN_HEADER};
use super::message::{self, MAX_FRAMES};
use super::ShipError;
use crate::producer::{read_identity, BoxTail, APPLIED_FILE};
use crate::storage::{FsStorage, Storage};
use crate::wal::{Lsn, MarkWriter, TailFrame};

/// Options of a [`Shipper`].
#[derive(Debug, Clone)]
pub struct ShipOptions {
    /// The producer's message box directory.
    pub box_dir: PathBuf,
    /// Where to publish.
    pub nats: StreamSettings,
    /// How long to wait before looking at the box again when it had
    /// nothing new. Default 2 ms.
    pub poll: Duration,
    /// Bytes of frames per message, at most (the server's `max_payload`
    /// caps it further). Default 1 MiB.
    pub max_message_bytes: usize,
    /// The largest frame the box may hold (its `WalOptions::max_frame_size`).
    /// Default 4 MiB, a box's default.
    pub max_frame_size: u32,
    /// Stop once everything the box holds is shipped (adopting the box if
    /// its producer is gone) instead of running until stopped.
    pub drain: bool,
}

impl ShipOptions {
    /// Options for the box in `box_dir`, shipped to `nats`, with defaults.
    pub fn new(box_dir: impl Into<PathBuf>, nats: StreamSettings) -> ShipOptions {
        ShipOptions {
            box_dir: box_dir.into(),
            nats,
            poll: Duration::from_millis(2),
            max_message_bytes: 1 << 20,
            max_frame_size: 4 << 20,
            drain: false,
        }
    }
}

/// What a [`Shipper`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipReport {
    /// The box's id.
    pub box_id: u64,
    /// Messages JetStream stored.
    pub messages: u64,
    /// Frames they carried.
    pub frames: u64,
    /// Payload bytes of those frames.
    pub bytes: u64,
    /// The box's last LSN the stream holds.
    pub shipped_lsn: Lsn,
    /// Times the shipper read the stream's last message of its box again
    /// (after a restart, a refused expected sequence or a duplicate).
    pub resyncs: u64,
    /// Attempts that failed and were tried again (outages, timeouts).
    pub retries: u64,
}

/// Ships one producer's message box to NATS JetStream (see the module
/// docs). Runs on the calling thread until stopped or, with
/// [`ShipOptions::drain`], until the box is shipped.
///
/// ```no_run
/// use std::sync::atomic::AtomicBool;
/// use bamdb::ship::{ShipOptions, Shipper, StreamSettings};
///
/// let nats = StreamSettings {
///     url: "nats://hub:4222".into(),
///     stream: "FLEET".into(),
///     replicas: 1,
/// };
/// let shipper = Shipper::new(ShipOptions::new("/var/lib/shop/outbox", nats))?;
/// let stop = AtomicBool::new(false); // set it from a signal handler
/// let report = shipper.run(&stop)?;
/// println!("shipped up to LSN {}", report.shipped_lsn);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Shipper {
    options: ShipOptions,
}

impl Shipper {
    /// Checks the options.
    pub fn new(options: ShipOptions) -> Result<Shipper, ShipError> {
        options.nats.validate()?;
        if options.max_message_bytes < 1024 {
            return Err(ShipError::InvalidInput(format!(
                "max_message_bytes {} is below 1024",
                options.max_message_bytes
            )));
        }
        Ok(Shipper { options })
    }

    /// Ships until `stop` is set (checked between messages and while
    /// waiting), or the box is shipped when draining.
    pub fn run(&self, stop: &AtomicBool) -> Result<ShipReport, ShipError> {
        runtime()?.block_on(self.ship(stop))
    }

    async fn ship(&self, stop: &AtomicBool) -> Result<ShipReport, ShipError> {
        let options = &self.options;
        let storage = FsStorage::shared();
        let Some(identity) = wait_for_box(&storage, options, stop).await? else {
            return Ok(ShipReport::default());
        };
        let box_id = identity.box_id;
        let subject = options.nats.subject(box_id);
        let client = connect(&options.nats, &format!("bamdb ship {box_id:016x}")).await?;
        let js = jetstream::new(client.clone());
        let mut report = ShipReport {
            box_id,
            ..ShipReport::default()
        };
        let Some(mut stream) = open_stream(&js, &options.nats, stop, &mut report).await? else {
            return Ok(report);
        };
        let mut applied = MarkWriter::open(
            storage.as_ref(),
            &options.box_dir.join(APPLIED_FILE),
            box_id,
        )?;
        let mut tail = BoxTail::new(box_id, applied.value() + 1);
        let mut at = Position::default();
        let mut backoff = Backoff::new();
        let mut synced = false;
        while !stop.load(Ordering::Relaxed) {
            if !synced {
                match resync(&stream, &subject, &mut tail, &mut applied).await {
                    Ok(position) => {
                        at = position;
                        report.shipped_lsn = report.shipped_lsn.max(position.last_lsn);
                        synced = true;
                        report.resyncs += 1;
                        backoff.reset();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the stream's last message; trying again");
                        report.retries += 1;
                        backoff.wait().await;
                        continue;
                    }
                }
            }
            let budget = self.message_budget(&client);
            let read = tail.read(
                &storage,
                &options.box_dir,
                options.max_frame_size,
                budget as u64,
                false,
            )?;
            let read = match read {
                Some(read) => read,
                None if options.drain => {
                    match tail.read(
                        &storage,
                        &options.box_dir,
                        options.max_frame_size,
                        budget as u64,
                        true,
                    )? {
                        Some(read) => read,
                        None => break,
                    }
                }
                None => {
                    tokio::time::sleep(options.poll).await;
                    continue;
                }
            };
            let mut frames = read.frames.as_slice();
            while let Some(run) = next_run(frames, budget)? {
                let sent = publish(&js, &subject, box_id, read.synced, run, &mut at).await;
                match sent {
                    Sent::Stored { duplicate } => {
                        let last = at.last_lsn;
                        applied.advance(last)?;
                        report.messages += 1;
                        report.frames += run.len() as u64;
                        report.bytes += run.iter().map(|f| f.payload.len() as u64).sum::<u64>();
                        report.shipped_lsn = last;
                        frames = &frames[run.len()..];
                        if frames.is_empty() {
                            tail.advance(last, read.end);
                        } else {
                            tail.seek(last + 1);
                        }
                        if duplicate {
                            // Published before (an acknowledgement lost):
                            // the subject's last sequence is not known.
                            synced = false;
                            break;
                        }
                        backoff.reset();
                    }
                    Sent::OutOfStep => {
                        synced = false;
                        break;
                    }
                    Sent::NoStream => {
                        // Deleted meanwhile: made again, and the box
                        // shipped on from its mark.
                        report.retries += 1;
                        let Some(opened) =
                            open_stream(&js, &options.nats, stop, &mut report).await?
                        else {
                            break;
                        };
                        stream = opened;
                        tail.seek(run[0].lsn);
                        synced = false;
                        break;
                    }
                    Sent::Retry(reason) => {
                        tracing::warn!(reason, "publish failed; trying again");
                        report.retries += 1;
                        backoff.wait().await;
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        // The same run again: JetStream drops it if it
                        // was stored after all.
                        tail.seek(run[0].lsn);
                        break;
                    }
                }
            }
        }
        drop(client);
        Ok(report)
    }

    /// Bytes of frames one message may carry: the configured size, within
    /// the server's `max_payload` less room for headers.
    fn message_budget(&self, client: &async_nats::Client) -> usize {
        let server = client.server_info().max_payload;
        let server = if server == 0 { 1 << 20 } else { server };
        self.options
            .max_message_bytes
            .min(server.saturating_sub(HEADER_ROOM))
            .max(1024)
    }
}

/// Room left in a message for its headers (ids, sequence numbers).
const HEADER_ROOM: usize = 512;

/// Where the stream is for this box.
#[derive(Debug, Default, Clone, Copy)]
struct Position {
    /// The stream sequence of the box's last message (0: none).
    sequence: u64,
    /// The LSN of its last frame.
    last_lsn: Lsn,
}

enum Sent {
    Stored {
        duplicate: bool,
    },
    /// The stream's last message of the box is not the one expected.
    OutOfStep,
    /// No stream takes the subject (deleted while the shipper ran).
    NoStream,
    Retry(String),
}

/// The longest prefix of `frames` one message of `budget` bytes carries;
/// `None` when there are no frames. A frame alone over the budget is an
/// error: no message can carry it.
fn next_run(frames: &[TailFrame], budget: usize) -> Result<Option<&[TailFrame]>, ShipError> {
    let Some(first) = frames.first() else {
        return Ok(None);
    };
    if message::overhead(1) + first.payload.len() > budget {
        return Err(ShipError::FrameTooLarge {
            lsn: first.lsn,
            bytes: first.payload.len(),
            max_message: budget,
        });
    }
    let mut size = message::overhead(0);
    let mut count = 0;
    for frame in frames.iter().take(MAX_FRAMES) {
        let more = 4 + frame.payload.len();
        if size + more > budget {
            break;
        }
        size += more;
        count += 1;
    }
    Ok(Some(&frames[..count]))
}

async fn publish(
    js: &Context,
    subject: &str,
    box_id: u64,
    synced: Lsn,
    run: &[TailFrame],
    at: &mut Position,
) -> Sent {
    let first = run[0].lsn;
    let last = first + run.len() as u64 - 1;
    let payloads: Vec<&[u8]> = run.iter().map(|f| f.payload.as_slice()).collect();
    let bytes = message::encode(box_id, first, synced, &payloads);
    let mut headers = HeaderMap::new();
    headers.insert(
        "Nats-Msg-Id",
        format!("{box_id:016x}.{first}-{last}").as_str(),
    );
    headers.insert(
        "Nats-Expected-Last-Subject-Sequence",
        at.sequence.to_string().as_str(),
    );
    headers.insert(LAST_LSN_HEADER, last.to_string().as_str());
    let ack = match js
        .publish_with_headers(subject.to_string(), headers, bytes.into())
        .await
    {
        Ok(pending) => pending.await,
        Err(e) => Err(e),
    };
    match ack {
        Ok(ack) => {
            *at = Position {
                sequence: ack.sequence,
                last_lsn: last,
            };
            Sent::Stored {
                duplicate: ack.duplicate,
            }
        }
        Err(e) => match e.kind() {
            PublishErrorKind::WrongLastSequence => Sent::OutOfStep,
            PublishErrorKind::StreamNotFound => Sent::NoStream,
            // The run was sized before the server told its max_payload:
            // the next read sizes it anew (and a frame alone too large is
            // refused there).
            _ => Sent::Retry(e.to_string()),
        },
    }
}

/// Reads the stream's last message of the box and moves the cursor after
/// it: what the stream holds is shipped, and the box may delete it.
async fn resync(
    stream: &Stream,
    subject: &str,
    tail: &mut BoxTail,
    applied: &mut MarkWriter,
) -> Result<Position, ShipError> {
    let last = match stream.get_last_raw_message_by_subject(subject).await {
        Ok(last) => last,
        Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => {
            return Ok(Position::default());
        }
        Err(e) => {
            return Err(ShipError::Nats {
                what: format!("read the last message of {subject}"),
                reason: e.to_string(),
            })
        }
    };
    let lsn = match last.headers.get(LAST_LSN_HEADER) {
        Some(value) => value.as_str().parse::<Lsn>().ok(),
        None => None,
    };
    let lsn = match lsn {
        Some(lsn) => lsn,
        // Not ours to judge by its header: read the message itself.
        None => message::decode(&last.payload)
            .map(|m| m.last_lsn())
            .map_err(|e| ShipError::Nats {
                what: format!("read the last message of {subject}"),
                reason: e.to_string(),
            })?,
    };
    if lsn + 1 > tail.next {
        tail.seek(lsn + 1);
        applied.advance(lsn)?;
    } else if lsn + 1 < tail.next {
        tracing::warn!(
            subject,
            stream_lsn = lsn,
            box_applied = tail.next - 1,
            "the stream holds less of this box than it acknowledged before (purged or recreated?); shipping on from the box's mark"
        );
    }
    Ok(Position {
        sequence: last.sequence,
        last_lsn: lsn,
    })
}

/// The box's identity, once the box exists (its producer may start
/// after the shipper); `None` if stopped first.
async fn wait_for_box(
    storage: &Arc<dyn Storage>,
    options: &ShipOptions,
    stop: &AtomicBool,
) -> Result<Option<crate::producer::identity::Identity>, ShipError> {
    let mut warned = false;
    loop {
        if let Some(identity) = read_identity(storage.as_ref(), &options.box_dir)? {
            return Ok(Some(identity));
        }
        if stop.load(Ordering::Relaxed) || options.drain {
            return Ok(None);
        }
        if !warned {
            tracing::warn!(dir = %options.box_dir.display(), "no message box here yet; waiting for its producer to make it");
            warned = true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The stream, waiting through outages; `None` if stopped first.
pub(super) async fn open_stream(
    js: &Context,
    settings: &StreamSettings,
    stop: &AtomicBool,
    report: &mut ShipReport,
) -> Result<Option<Stream>, ShipError> {
    let mut backoff = Backoff::new();
    while !stop.load(Ordering::Relaxed) {
        match ensure_stream(js, settings).await {
            Ok(stream) => return Ok(Some(stream)),
            Err(e) => {
                tracing::warn!(error = %e, "the stream cannot be opened yet; trying again");
                report.retries += 1;
                backoff.wait().await;
            }
        }
    }
    Ok(None)
}
