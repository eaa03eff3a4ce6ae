//! `Idempotency-Key`: a retried ingest request is written once.
//!
//! The store already imports at most one batch per (producer id, sequence
//! number) (`flush_sequenced`, see `bus/idempotency.rs`). So each worker
//! thread commits keyed requests as its own producer (`KEYED_BASE + n`),
//! numbering them in the order it commits them, one at a time; and before
//! a keyed request is committed this journal records, fsynced, which
//! (producer, sequence) the key was given. Then, whatever crashed:
//!
//! - a key with a receipt is answered with it again (nothing written);
//! - a key whose commit outcome is unknown (the server died, or the commit
//!   failed) is resolved exactly: after the store imported everything
//!   committed, the batch was imported iff the store's highest sequence of
//!   that producer is at least the key's (the producer committed nothing
//!   after it: a worker stops committing keyed requests after a failed
//!   commit, and a server start resolves every open key first). Imported:
//!   answered as committed; not: written now, as a new request.
//!
//! The journal, `<store>/serve/idempotency.jsonl`, holds one JSON object
//! per line: `{"key","producer","seq","events","body","at"}` when a key is
//! claimed (fsynced before the commit), `{"key","lsn"}` once it is
//! acknowledged (not fsynced: if lost, the key is resolved as above). A
//! start rewrites it (temporary file, fsync, rename, directory fsync) with
//! only the keys of the last `window`, so it does not grow without bound;
//! at most `max_keys` are kept in memory, the oldest forgotten first.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use bamdb::model::Timestamp;
use serde::{Deserialize, Serialize};

/// The first producer id of keyed requests: far from the small ids
/// applications and `bamdb ingest` use.
pub const KEYED_BASE: u32 = 0x7000_0000;

/// The longest key accepted.
pub const MAX_KEY_BYTES: usize = 255;

/// The longest journal line read (a claim with the longest key is about
/// 400 bytes).
const MAX_LINE_BYTES: usize = 4096;

/// One journal line.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    producer: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    events: Option<u64>,
    /// The request body's fingerprint: `crc32-length`, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    /// When it was claimed, microseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lsn: Option<u64>,
}

/// What became of a key's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Its commit is running now.
    InFlight,
    /// Committed at `lsn` (for a key resolved after a crash: an LSN at or
    /// after the commit, the import point when it was resolved).
    Done { lsn: u64 },
    /// Its commit failed or the server died during it.
    Unknown,
}

#[derive(Debug, Clone)]
struct Record {
    producer: u32,
    seq: u64,
    events: u64,
    body: String,
    at: i64,
    outcome: Outcome,
}

/// What the server does with a keyed request.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// Commit it with `flush_sequenced(seq)` as `producer`, then call
    /// [`Journal::done`] or [`Journal::failed`].
    Commit { producer: u32, seq: u64 },
    /// It was committed before: answer with this receipt again.
    Replay { lsn: u64, events: u64 },
    /// The same key is being committed by another request now.
    InProgress,
    /// The key was used for a different body.
    Mismatch,
    /// The outcome of an earlier attempt must be resolved first
    /// ([`Journal::resolve`]).
    Unresolved { producer: u32, seq: u64 },
    /// This worker stopped committing keyed requests after a failed commit.
    Disabled,
}

/// A worker's producer for keyed requests.
#[derive(Debug)]
struct Slot {
    producer: u32,
    next_seq: u64,
    /// A commit failed: its outcome is known only after a restart.
    disabled: bool,
}

struct State {
    keys: HashMap<String, Record>,
    /// Keys in the order they were claimed, for forgetting the oldest.
    order: VecDeque<(i64, String)>,
    slots: Vec<Slot>,
    file: File,
}

/// The journal of idempotency keys; see the module docs.
pub struct Journal {
    path: PathBuf,
    window: Duration,
    max_keys: usize,
    state: Mutex<State>,
}

/// A failure of the journal: its file could not be read or written.
#[derive(Debug)]
pub struct JournalError(pub String);

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> JournalError {
    JournalError(format!("{what} {}: {e}", path.display()))
}

/// The fingerprint of a request body.
pub fn fingerprint(body: &[u8]) -> String {
    format!("{:08x}-{:x}", crc32fast::hash(body), body.len())
}

/// Whether `key` may be used: 1 to 255 visible ASCII characters.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_BYTES} characters, not {}",
            key.len()
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("Idempotency-Key must be visible ASCII characters (no spaces)".into());
    }
    Ok(())
}

impl Journal {
    /// Opens (or creates) the journal in `dir` for `workers` workers,
    /// resolving every key whose outcome was open with `highest`: the
    /// store's highest imported sequence number of a producer, once it
    /// imported everything committed; `applied`: its import point.
    pub fn open(
        dir: &Path,
        workers: usize,
        window: Duration,
        max_keys: usize,
        highest: impl Fn(u32) -> Option<u64>,
        applied: u64,
    ) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(dir).map_err(|e| io_err("cannot create", dir, e))?;
        let path = dir.join("idempotency.jsonl");
        let mut records = read_lines(&path)?;
        let now = Timestamp::now().as_micros();
        let oldest = now.saturating_sub(i64::try_from(window.as_micros()).unwrap_or(i64::MAX));
        records.retain(|_, r| r.at >= oldest);
        for r in records.values_mut() {
            if !matches!(r.outcome, Outcome::Done { .. }) {
                r.outcome = if highest(r.producer).is_some_and(|h| h >= r.seq) {
                    Outcome::Done { lsn: applied }
                } else {
                    // Never committed: the key is free for a new attempt.
                    Outcome::Unknown
                };
            }
        }
        records.retain(|_, r| r.outcome != Outcome::Unknown);
        let mut order: Vec<(i64, String)> =
            records.iter().map(|(k, r)| (r.at, k.clone())).collect();
        order.sort();
        let excess = order.len().saturating_sub(max_keys);
        for (_, key) in order.drain(..excess) {
            records.remove(&key);
        }
        let slots = (0..workers)
            .map(|i| {
                let producer = KEYED_BASE.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
                let journaled = records
                    .values()
                    .filter(|r| r.producer == producer)
                    .map(|r| r.seq)
                    .max()
                    .unwrap_or(0);
                let imported = highest(producer).unwrap_or(0);
                Slot {
                    producer,
                    next_seq: journaled.max(imported) + 1,
                    disabled: false,
                }
            })
            .collect();
        let file = rewrite(dir, &path, &records)?;
        Ok(Journal {
            path,
            window,
            max_keys,
            state: Mutex::new(State {
                keys: records,
                order: order.into(),
                slots,
                file,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims `key` for a request with this body fingerprint and `events`
    /// events, served by worker `slot`.
    pub fn claim(
        &self,
        key: &str,
        body: &str,
        events: u64,
        slot: usize,
    ) -> Result<Claim, JournalError> {
        let mut state = self.lock();
        self.forget_old(&mut state);
        if let Some(r) = state.keys.get(key) {
            if r.body != body {
                return Ok(Claim::Mismatch);
            }
            return Ok(match r.outcome {
                Outcome::InFlight => Claim::InProgress,
                Outcome::Done { lsn } => Claim::Replay {
                    lsn,
                    events: r.events,
                },
                Outcome::Unknown => Claim::Unresolved {
                    producer: r.producer,
                    seq: r.seq,
                },
            });
        }
        let Some(s) = state.slots.get_mut(slot) else {
            return Ok(Claim::Disabled);
        };
        if s.disabled {
            return Ok(Claim::Disabled);
        }
        let (producer, seq) = (s.producer, s.next_seq);
        s.next_seq += 1;
        let at = Timestamp::now().as_micros();
        let line = Line {
            key: key.to_owned(),
            producer: Some(producer),
            seq: Some(seq),
            events: Some(events),
            body: Some(body.to_owned()),
            at: Some(at),
            lsn: None,
        };
        // Durable before the commit: a crash after the commit must find it.
        append(&mut state.file, &line, true).map_err(|e| io_err("cannot write", &self.path, e))?;
        state.keys.insert(
            key.to_owned(),
            Record {
                producer,
                seq,
                events,
                body: body.to_owned(),
                at,
                outcome: Outcome::InFlight,
            },
        );
        state.order.push_back((at, key.to_owned()));
        Ok(Claim::Commit { producer, seq })
    }

    /// The claimed request of `key` was committed at `lsn`.
    pub fn done(&self, key: &str, lsn: u64) {
        let mut state = self.lock();
        if let Some(r) = state.keys.get_mut(key) {
            r.outcome = Outcome::Done { lsn };
        }
        let line = Line {
            key: key.to_owned(),
            producer: None,
            seq: None,
            events: None,
            body: None,
            at: None,
            lsn: Some(lsn),
        };
        // Not synced: a lost line is resolved from the store at the next
        // start. A failed write is the same case.
        let _ = append(&mut state.file, &line, false);
    }

    /// The commit of `key`'s request by worker `slot` failed: its outcome
    /// is unknown until resolved, and the worker commits no more keyed
    /// requests (so that its producer's highest sequence keeps telling).
    pub fn failed(&self, key: &str, slot: usize) {
        let mut state = self.lock();
        if let Some(r) = state.keys.get_mut(key) {
            r.outcome = Outcome::Unknown;
        }
        if let Some(s) = state.slots.get_mut(slot) {
            s.disabled = true;
        }
    }

    /// Resolves an [`Claim::Unresolved`] key once the store imported
    /// everything committed: `imported` says whether its batch was. An
    /// imported one becomes a receipt at `applied`; one that was not is
    /// forgotten, so the request is committed anew.
    pub fn resolve(&self, key: &str, imported: bool, applied: u64) {
        let mut state = self.lock();
        if imported {
            if let Some(r) = state.keys.get_mut(key) {
                r.outcome = Outcome::Done { lsn: applied };
            }
        } else {
            state.keys.remove(key);
        }
    }

    fn forget_old(&self, state: &mut State) {
        let now = Timestamp::now().as_micros();
        let oldest = now.saturating_sub(i64::try_from(self.window.as_micros()).unwrap_or(i64::MAX));
        while let Some((at, key)) = state.order.front() {
            let expired = *at < oldest || state.order.len() > self.max_keys;
            // In-flight keys are never forgotten mid-commit.
            let busy = state
                .keys
                .get(key)
                .is_some_and(|r| r.outcome == Outcome::InFlight);
            if !expired || busy {
                break;
            }
            let Some((at, key)) = state.order.pop_front() else {
                break;
            };
            // The key may have been claimed again since (after a resolve
            // that found it never committed): only this claim expires.
            if state.keys.get(&key).is_some_and(|r| r.at == at) {
                state.keys.remove(&key);
            }
        }
    }
}

fn append(file: &mut File, line: &Line, sync: bool) -> std::io::Result<()> {
    let mut text = serde_json::to_vec(line).map_err(std::io::Error::other)?;
    text.push(b'\n');
    file.write_all(&text)?;
    if sync {
        file.sync_data()?;
    }
    Ok(())
}

/// Reads the journal: the keys with their last known outcome. A line that
/// does not parse is an error, except the last one (a write the crash cut
/// short, never acknowledged).
fn read_lines(path: &Path) -> Result<HashMap<String, Record>, JournalError> {
    let mut records = HashMap::new();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(records),
        Err(e) => return Err(io_err("cannot open", path, e)),
    };
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    for i in 0.. {
        buf.clear();
        // A line is under 400 bytes; a longer one is damage, and is not
        // read whole.
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| io_err("cannot read", path, e))?;
        if read == 0 {
            break;
        }
        let last = !buf.ends_with(b"\n") && buf.len() <= MAX_LINE_BYTES;
        let line: Line = match serde_json::from_slice(&buf) {
            Ok(line) => line,
            Err(_) if last => break,
            Err(e) => {
                return Err(JournalError(format!(
                    "{} line {} is damaged ({e}); move the file away to start without it \
                     (retried requests with old keys would then be written again)",
                    path.display(),
                    i + 1
                )))
            }
        };
        match (line.producer, line.seq) {
            (Some(producer), Some(seq)) => {
                records.insert(
                    line.key,
                    Record {
                        producer,
                        seq,
                        events: line.events.unwrap_or(0),
                        body: line.body.unwrap_or_default(),
                        at: line.at.unwrap_or(0),
                        outcome: match line.lsn {
                            Some(lsn) => Outcome::Done { lsn },
                            None => Outcome::Unknown,
                        },
                    },
                );
            }
            _ => {
                if let (Some(r), Some(lsn)) = (records.get_mut(&line.key), line.lsn) {
                    r.outcome = Outcome::Done { lsn };
                }
            }
        }
    }
    Ok(records)
}

/// Writes the journal anew with `records` (atomically) and opens it for
/// appending.
fn rewrite(
    dir: &Path,
    path: &Path,
    records: &HashMap<String, Record>,
) -> Result<File, JournalError> {
    let tmp = dir.join("idempotency.jsonl.tmp");
    {
        let mut file = File::create(&tmp).map_err(|e| io_err("cannot create", &tmp, e))?;
        for (key, r) in records {
            let lsn = match r.outcome {
                Outcome::Done { lsn } => Some(lsn),
                _ => None,
            };
            let line = Line {
                key: key.clone(),
                producer: Some(r.producer),
                seq: Some(r.seq),
                events: Some(r.events),
                body: Some(r.body.clone()),
                at: Some(r.at),
                lsn,
            };
            append(&mut file, &line, false).map_err(|e| io_err("cannot write", &tmp, e))?;
        }
        file.sync_all()
            .map_err(|e| io_err("cannot sync", &tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io_err("cannot rename", &tmp, e))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("cannot sync directory", dir, e))?;
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| io_err("cannot open", path, e))
}

#[cfg(test)]
#[path = "idempotency_tests.rs"]
mod tests;
