//! What the shipper and the central bus share about NATS: where to
//! connect, the stream and its subjects, the headers, and how long to wait
//! before trying again.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use serde::Deserialize;

use super::ShipError;

/// Subjects of a stream: `bamdb.<stream>.<box id as 16 hex digits>`.
const SUBJECT_ROOT: &str = "bamdb";
/// The header that carries the LSN of a message's last frame, so a
/// shipper resumes from the stream's last message without decoding it.
pub(crate) const LAST_LSN_HEADER: &str = "Bamdb-Last-Lsn";
/// The longest a stream or consumer name may be (NATS allows more; kept
/// short so the subjects stay readable).
const MAX_STREAM_NAME: usize = 64;

/// Where the messages go: a NATS server (or cluster) and a JetStream stream.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSettings {
    /// NATS server URL(s), comma-separated: `nats://host:4222`.
    pub url: String,
    /// The JetStream stream's name (letters, digits, `-` and `_`).
    pub stream: String,
    /// Replicas of the stream when this side creates it (1 for one
    /// server, 3 for a three-node cluster). An existing stream is used as
    /// it is.
    #[serde(default = "one")]
    pub replicas: usize,
}

fn one() -> usize {
    1
}

impl StreamSettings {
    /// Checks the names before anything connects.
    pub fn validate(&self) -> Result<(), ShipError> {
        check_name("stream", &self.stream)?;
        if self.urls().is_empty() {
            return Err(ShipError::InvalidInput("the NATS URL is empty".into()));
        }
        for url in self.urls() {
            if url.parse::<async_nats::ServerAddr>().is_err() {
                return Err(ShipError::InvalidInput(format!(
                    "{url:?} is not a NATS server URL (nats://host:port)"
                )));
            }
        }
        if !(1..=5).contains(&self.replicas) {
            return Err(ShipError::InvalidInput(format!(
                "{} replicas: JetStream takes 1 to 5",
                self.replicas
            )));
        }
        Ok(())
    }

    /// The server URLs, one per comma-separated entry.
    fn urls(&self) -> Vec<&str> {
        self.url
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect()
    }

    /// The subject of box `box_id`'s messages.
    pub fn subject(&self, box_id: u64) -> String {
        format!("{SUBJECT_ROOT}.{}.{box_id:016x}", self.stream)
    }

    fn config(&self) -> stream::Config {
        stream::Config {
            name: self.stream.clone(),
            subjects: vec![format!("{SUBJECT_ROOT}.{}.*", self.stream)],
            storage: stream::StorageType::File,
            num_replicas: self.replicas,
            // Kept until removed by hand: the boxes delete what JetStream
            // acknowledged, so the stream is the only copy until the
            // central bus imported it.
            retention: stream::RetentionPolicy::Limits,
            duplicate_window: DUPLICATE_WINDOW,
            ..stream::Config::default()
        }
    }
}

/// Checks a JetStream name (a stream's, a consumer's): 1 to
/// [`MAX_STREAM_NAME`] letters, digits, `-` or `_`.
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), ShipError> {
    let good = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.is_empty() || name.len() > MAX_STREAM_NAME || !name.chars().all(good) {
        return Err(ShipError::InvalidInput(format!(
            "{what} name {name:?}: use 1 to {MAX_STREAM_NAME} letters, digits, '-' or '_'"
        )));
    }
    Ok(())
}

/// How long JetStream remembers message ids to drop a message published
/// twice (the central bus's per-box mark drops what is older).
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Connects, trying again for as long as it takes (until `stop`): a
/// shipper starts whether or not the server is up.
pub(crate) async fn connect(
    settings: &StreamSettings,
    name: &str,
) -> Result<async_nats::Client, ShipError> {
    async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(2))
        .request_timeout(Some(Duration::from_secs(5)))
        .connect(settings.urls())
        .await
        .map_err(|e| ShipError::Nats {
            what: format!("connect to {}", settings.url),
            reason: e.to_string(),
        })
}

/// The stream, created if missing.
pub(crate) async fn ensure_stream(
    js: &jetstream::Context,
    settings: &StreamSettings,
) -> Result<stream::Stream, ShipError> {
    js.get_or_create_stream(settings.config())
        .await
        .map_err(|e| ShipError::Nats {
            what: format!("create or open stream {}", settings.stream),
            reason: e.to_string(),
        })
}

/// Waits between attempts: doubling from 50 ms up to 2 s.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Backoff {
        Backoff {
            next: Duration::from_millis(50),
        }
    }

    pub(crate) async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(Duration::from_secs(2));
    }

    pub(crate) fn reset(&mut self) {
        self.next = Duration::from_millis(50);
    }
}

/// A runtime on the calling thread: the embedded build has no async
/// runtime, and the transport needs one only inside its own loop.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ShipError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ShipError::Nats {
            what: "start the async runtime".into(),
            reason: e.to_string(),
        })
}
