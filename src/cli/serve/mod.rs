//! `bamdb serve`: the store over HTTP. One process owns the store (its
//! writer lock, bus and checkpoints) and serves:
//!
//! - `POST /v1/events`: ingest, one flush per request (`ingest.rs`), with
//!   `Idempotency-Key` (`idempotency.rs`);
//! - `GET /v1/...`: queries, definitions, stats, quarantine, and the admin
//!   actions `POST /v1/quarantine/{id}/replay|drop` (`api.rs`), described
//!   in `openapi.json`;
//! - `GET /metrics`: Prometheus text (`metrics.rs`);
//! - every other `GET`: the portal's HTML pages (`portal/`).
//!
//! Threads over `std::net` (`http.rs`): one accepts, a fixed pool of
//! workers serves connections, and a connection that finds every worker
//! busy and the queue full is answered 503 at once. No async runtime: a
//! request's cost is dominated by the commit's fsync or the query, and a
//! blocked worker is what bounds concurrency.

mod api;
mod http;
mod idempotency;
mod ingest;
mod metrics;
mod portal;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bamdb::Store;

use super::{await_import, close_store, err_line, open_store, out_line, CliError, EXIT_OK};
use http::{Connection, Limits, ReadError, Request, Response};
use idempotency::{Journal, KEYED_BASE};
use ingest::Streams;
use metrics::{Metrics, QueryKind};

/// The OpenAPI description of the `/v1/` API, served at
/// `/v1/openapi.json` and checked against the server by the tests.
const OPENAPI: &str = include_str!("openapi.json");

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Endpoints (see /v1/openapi.json):
  POST /v1/events                         JSON lines or CloudEvents; one flush
  GET  /v1/activities/{A}/instances/{ID}  one instance, parts merged
  GET  /v1/activities/{A}/search          ?where=..&status=..&limit=..
  GET  /v1/activities/{A}/aggregate       ?group_by=..&bucket=..&measure=..
  GET  /v1/definitions, /v1/stats, /v1/quarantine[/{ID}], /v1/health
  POST /v1/quarantine/{ID}/replay, /v1/quarantine/{ID}/drop
  GET  /metrics                           Prometheus text format
  GET  /                                  the portal (HTML)

With a token, writes (ingest) and admin actions (replay, drop) need
`Authorization: Bearer TOKEN`; listening on anything but loopback needs one.
Stops cleanly on SIGTERM or SIGINT.

Exit codes:
  0  stopped by a signal, store closed
  2  usage error, the address could not be bound, or the store could not
     be used (locked, damaged, I/O)")]
pub struct Args {
    /// The store directory (created if missing).
    #[arg(long, value_name = "DIR")]
    store: PathBuf,
    /// The address to listen on (port 0: any free port; the address is
    /// printed on stdout).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The bearer token writes and admin actions need.
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_file")]
    token: Option<String>,
    /// Reads the token from FILE (its first line), so it is not in the
    /// process list.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Worker threads: requests served at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    workers: usize,
    /// The largest request body.
    #[arg(long, value_name = "BYTES", default_value_t = 32 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Ingest is refused with 503 (Retry-After) while more committed
    /// frames than this wait for the import.
    #[arg(long, value_name = "FRAMES", default_value_t = 1024)]
    max_lag: u64,
    /// The producer id of requests without an Idempotency-Key (the
    /// tie-break between events with equal timestamps).
    #[arg(long, value_name = "ID", default_value_t = 1)]
    producer: u32,
    /// How long a request's head may take to arrive (its body gets this
    /// plus a second per 256 KiB): a slow or half-open client is answered
    /// 408 and closed after it.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    request_timeout: u64,
    /// How long a kept-alive connection may stay idle between requests.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    idle_timeout: u64,
    /// How long an Idempotency-Key is remembered.
    #[arg(long, value_name = "SECS", default_value_t = 24 * 3600)]
    idempotency_window: u64,
    /// The most Idempotency-Keys remembered (the oldest are forgotten).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    idempotency_keys: usize,
}

/// The server's settings.
pub struct ServeOptions {
    pub token: Option<String>,
    pub max_lag: u64,
}

/// What every worker shares.
pub struct Server {
    pub store: Store,
    pub journal: Journal,
    pub metrics: Metrics,
    pub options: ServeOptions,
    limits: Limits,
    stop: Arc<AtomicBool>,
}

pub fn run(args: Args) -> Result<i32, CliError> {
    let token = read_token(&args)?;
    if token.is_none() && !args.listen.ip().is_loopback() {
        return Err(CliError::fatal(format!(
            "--listen {} is not a loopback address: give --token or --token-file, so that \
             writes and admin actions need it",
            args.listen
        )));
    }
    if args.workers == 0 || args.workers > 1024 {
        return Err(CliError::fatal("--workers must be 1 to 1024"));
    }
    let listener = TcpListener::bind(args.listen)
        .map_err(|e| CliError::fatal(format!("cannot listen on {}: {e}", args.listen)))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::fatal(format!("cannot read the listening address: {e}")))?;
    let store = await_import(open_store(&args.store)?)?;
    let stats = store.stats();
    let journal = Journal::open(
        &args.store.join("serve"),
        args.workers,
        Duration::from_secs(args.idempotency_window),
        args.idempotency_keys,
        |producer| store.last_sequence(producer),
        stats.applied_lsn,
    )
    .map_err(|e| CliError::fatal(format!("idempotency journal: {e}")))?;
    let server = Arc::new(Server {
        store,
        journal,
        metrics: Metrics::default(),
        options: ServeOptions {
            token,
            max_lag: args.max_lag,
        },
        limits: Limits {
            max_body_bytes: args.max_body_bytes,
            head_timeout: Duration::from_secs(args.request_timeout.max(1)),
            body_timeout: Duration::from_secs(args.request_timeout.max(1)),
            idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
            ..Limits::default()
        },
        stop: Arc::new(AtomicBool::new(false)),
    });
    watch_signals(server.stop.clone(), local)?;
    out_line(&format!(
        "bamdb serve: listening on http://{local} (store {})",
        args.store.display()
    ))?;
    let (queue, jobs) = sync_channel::<TcpStream>(args.workers);
    let jobs = Arc::new(Mutex::new(jobs));
    let mut handles = Vec::new();
    for slot in 0..args.workers {
        let server = server.clone();
        let jobs = jobs.clone();
        let streams = Streams {
            plain: server.store.buffered_stream_as(args.producer, 0),
            keyed: server
                .store
                .buffered_stream_as(KEYED_BASE.saturating_add(slot as u32), 0),
        };
        handles.push(std::thread::spawn(move || {
            worker(&server, slot, streams, &jobs)
        }));
    }
    let (refuse, refused) = sync_channel::<TcpStream>(args.workers);
    let refuser = {
        let server = server.clone();
        std::thread::spawn(move || refuse_busy(server, refused))
    };
    for conn in listener.incoming() {
        if server.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(conn) = conn else { continue };
        if let Err(TrySendError::Full(conn)) = queue.try_send(conn) {
            // Dropped (closed) if the refuser is behind as well.
            let _ = refuse.try_send(conn);
        }
    }
    drop(queue);
    drop(refuse);
    let _ = refuser.join();
    for h in handles {
        let _ = h.join();
    }
    let server = Arc::into_inner(server)
        .ok_or_else(|| CliError::fatal("a worker still holds the store at shutdown"))?;
    close_store(server.store)?;
    err_line("bamdb serve: stopped, store closed");
    Ok(EXIT_OK)
}

fn read_token(args: &Args) -> Result<Option<String>, CliError> {
    let token = match (&args.token, &args.token_file) {
        (Some(t), _) => Some(t.trim().to_owned()),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::fatal(format!("cannot read --token-file {}: {e}", path.display()))
            })?;
            Some(text.lines().next().unwrap_or("").trim().to_owned())
        }
        (None, None) => None,
    };
    if token.as_deref().is_some_and(|t| t.len() < 16) {
        return Err(CliError::fatal(
            "the token must be at least 16 characters (e.g. `openssl rand -hex 16`)",
        ));
    }
    Ok(token)
}

/// On SIGTERM or SIGINT: stop accepting (a connection to ourselves wakes
/// the accept), let the workers finish, close the store.
fn watch_signals(stop: Arc<AtomicBool>, local: SocketAddr) -> Result<(), CliError> {
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])
    .map_err(|e| CliError::fatal(format!("cannot handle signals: {e}")))?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect_timeout(&local, Duration::from_secs(1));
        }
    });
    Ok(())
}

/// Answers connections that found every worker busy and the queue full:
/// 503 now, not a wait. Its own thread, so the accepting thread never
/// waits on a client; when it is behind too, a connection is just closed.
fn refuse_busy(server: Arc<Server>, refused: Receiver<TcpStream>) {
    let limits = Limits {
        write_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let response =
        Response::error(503, "every worker is busy; retry shortly").with("Retry-After", "1");
    for stream in refused {
        server.metrics.overloaded.fetch_add(1, Ordering::Relaxed);
        server.metrics.count_response(503);
        let mut conn = Connection::new(stream);
        if conn.respond(&response, false, false, &limits).is_ok() {
            conn.linger();
        }
    }
}

fn worker(server: &Server, slot: usize, mut streams: Streams, jobs: &Mutex<Receiver<TcpStream>>) {
    loop {
        let next = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(stream) = next else { return };
        let _ = stream.set_nodelay(true);
        serve_connection(server, slot, &mut streams, Connection::new(stream));
    }
}

/// Serves the requests of one connection until it closes, fails, or asks
/// to close.
fn serve_connection(server: &Server, slot: usize, streams: &mut Streams, mut conn: Connection) {
    let mut first = true;
    loop {
        let request = conn.next_request(&server.limits, first);
        first = false;
        let (response, keep_alive, head_only) = match request {
            Ok(req) => {
                let head_only = req.method == "HEAD";
                let response = route(server, slot, streams, &req);
                let keep = req.keep_alive && !server.stop.load(Ordering::SeqCst);
                (response, keep, head_only)
            }
            Err(ReadError::Closed) | Err(ReadError::Io) => return,
            Err(e) => (read_error(&e), false, false),
        };
        server.metrics.count_response(response.status);
        if conn
            .respond(&response, keep_alive, head_only, &server.limits)
            .is_err()
        {
            return;
        }
        if !keep_alive {
            conn.linger();
            return;
        }
    }
}

fn read_error(e: &ReadError) -> Response {
    match e {
        ReadError::Timeout => Response::error(408, "the request did not arrive in time"),
        ReadError::HeadTooLarge => Response::error(431, "the request head is too large"),
        ReadError::BodyTooLarge(len) => Response::error(
            413,
            format!("the body ({len} bytes) is larger than the limit (--max-body-bytes); nothing was written"),
        ),
        ReadError::LengthRequired => {
            Response::error(411, "a body needs Content-Length or chunked encoding")
        }
        ReadError::Bad(why) => Response::error(400, why.clone()),
        ReadError::Closed | ReadError::Io => Response::error(400, "connection failed"),
    }
}

/// Which methods a path allows, for 405.
fn not_allowed(allowed: &'static str) -> Response {
    Response::error(405, format!("method not allowed here; allowed: {allowed}"))
        .with("Allow", allowed)
}

/// Dispatches a request by method and path.
fn route(server: &Server, slot: usize, streams: &mut Streams, req: &Request) -> Response {
    let segments: Vec<String> = req
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| http::decode_component(s, false))
        .collect();
    let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    let get = matches!(req.method.as_str(), "GET" | "HEAD");
    let post = req.method == "POST";
    if post {
        if let Some(refused) = cross_site(req) {
            return refused;
        }
    }
    match parts.as_slice() {
        ["v1", "events"] => match post {
            true => authorized(server, req, None)
                .unwrap_or_else(|| ingest::post_events(server, slot, streams, req)),
            false => not_allowed("POST"),
        },
        ["v1", "quarantine", id, action @ ("replay" | "drop")] => match post {
            true => authorized(server, req, None).unwrap_or_else(|| match *action {
                "replay" => api::quarantine_replay(server, id),
                _ => api::quarantine_drop(server, id, req),
            }),
            false => not_allowed("POST"),
        },
        ["quarantine", id, "replay"] if post => portal_replay(server, id, req),
        _ if !get => not_allowed("GET, HEAD"),
        ["v1", "activities", a, "instances", id] => api::get(server, a, id),
        ["v1", "activities", a, "search"] => api::search(server, a, req),
        ["v1", "activities", a, "aggregate"] => api::aggregate(server, a, req),
        ["v1", "definitions"] => api::definitions(server, None),
        ["v1", "definitions", a] => api::definitions(server, Some(a)),
        ["v1", "stats"] => api::stats(server),
        ["v1", "health"] => health(server),
        ["v1", "quarantine"] => api::quarantine_list(server, req),
        ["v1", "quarantine", id] => api::quarantine_show(server, id),
        ["v1", "openapi.json"] => Response::new(200, "application/json", OPENAPI),
        ["metrics"] => {
            let text = server
                .metrics
                .render(&server.store.stats(), &server.store.sync_latency());
            Response::new(200, "text/plain; version=0.0.4; charset=utf-8", text)
        }
        ["v1", ..] => Response::error(
            404,
            format!("no endpoint {}; see /v1/openapi.json", req.path),
        ),
        // Browsers ask for it; an empty answer keeps their consoles quiet.
        ["favicon.ico"] => Response::new(204, "image/x-icon", Vec::new()),
        _ => portal_page(server, req),
    }
}

/// `GET /v1/health`: 200 while the import runs, 503 when it halted.
fn health(server: &Server) -> Response {
    let stats = server.store.stats();
    let status = if stats.import_halted { 503 } else { 200 };
    Response::json(
        status,
        &serde_json::json!({
            "status": if stats.import_halted { "halted" } else if stats.degraded.is_some() { "degraded" } else { "ok" },
            "degraded": stats.degraded,
            "lag": stats.lag,
        }),
    )
}

fn portal_page(server: &Server, req: &Request) -> Response {
    let started = Instant::now();
    let ctx = portal::Context {
        store: &server.store,
        token_required: server.options.token.is_some(),
    };
    // The portal splits and decodes the path itself (an id may hold '/').
    let response = match portal::page(&ctx, &req.path, &req.query) {
        Some(page) => Response::new(page.status, "text/html; charset=utf-8", page.body),
        None => Response::new(
            404,
            "text/html; charset=utf-8",
            "<!doctype html><title>Not found</title><p>Not found. <a href=\"/\">Home</a>",
        ),
    };
    server
        .metrics
        .query(QueryKind::Portal)
        .record(started.elapsed());
    response
}

/// The portal's replay button (a form post; the token, when one is
/// needed, is a form field): replays, then sends the browser back to the
/// quarantine page with the outcome.
fn portal_replay(server: &Server, id: &str, req: &Request) -> Response {
    let form = http::parse_query(&String::from_utf8_lossy(&req.body));
    let form_token = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.as_str());
    if let Some(refused) = authorized(server, req, form_token) {
        return refused;
    }
    let outcome = match id.parse::<u64>() {
        Err(_) => format!("{id:?} is not an entry id"),
        Ok(n) => match api::replay(server, n) {
            Ok((name, reasons)) if reasons.is_empty() => name.to_owned(),
            Ok((name, reasons)) => format!("{name}: {}", reasons.join("; ")),
            Err(r) => String::from_utf8_lossy(&r.body).trim().to_owned(),
        },
    };
    let location = format!(
        "/quarantine?replayed={}&outcome={}",
        portal::html::encode(id),
        portal::html::encode(&outcome)
    );
    Response::new(303, "text/plain; charset=utf-8", "see the quarantine page")
        .with("Location", location)
}

/// A write sent by a web page of another site (a form posted from it to
/// this loopback address needs no token when none is set): refused with
/// 403. Browsers name the page's origin on such a request (`Origin`,
/// `Sec-Fetch-Site`); clients that are not browsers send neither, and the
/// portal's own forms are same-origin.
fn cross_site(req: &Request) -> Option<Response> {
    let host = req.header("host").unwrap_or("");
    // An origin is `scheme://host[:port]`; "null" (a sandboxed or local
    // page) names no host, so it is foreign too.
    let foreign_origin = req
        .header("origin")
        .is_some_and(|o| o.split_once("://").map(|(_, h)| h) != Some(host));
    let foreign_fetch = req
        .header("sec-fetch-site")
        .is_some_and(|s| s == "cross-site" || s == "same-site");
    (foreign_origin || foreign_fetch).then(|| {
        Response::error(
            403,
            "a write from a web page of another origin is refused; nothing was done",
        )
    })
}

/// `None` when the request may write; otherwise the 401 to send. With no
/// token configured (loopback only), every request may.
fn authorized(server: &Server, req: &Request, form_token: Option<&str>) -> Option<Response> {
    let expected = server.options.token.as_deref()?;
    let given = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .or(form_token);
    match given {
        Some(t) if constant_time_eq(t.as_bytes(), expected.as_bytes()) => None,
        Some(_) => Some(
            Response::error(401, "the token is wrong; nothing was done")
                .with("WWW-Authenticate", "Bearer error=\"invalid_token\""),
        ),
        None => Some(
            Response::error(
                401,
                "this endpoint needs Authorization: Bearer TOKEN; nothing was done",
            )
            .with("WWW-Authenticate", "Bearer"),
        ),
    }
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
