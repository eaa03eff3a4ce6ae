//! HTTP/1.1 over one connection: reading requests within time and size
//! limits, and writing responses.
//!
//! The request head is parsed by `httparse` (hyper's parser, no runtime);
//! everything around it is here so the limits are ours: a whole head must
//! arrive within `head_timeout` of its first byte (a client that sends a
//! header line every few seconds is cut off, not just one that is silent),
//! a body within a time that grows with its length, an idle keep-alive
//! connection is closed after `idle_timeout`, and no read buffer grows past
//! the head limit or the body limit.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The limits a connection is read within.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The longest request head (request line and headers).
    pub max_head_bytes: usize,
    /// The longest request body.
    pub max_body_bytes: usize,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// How long a request head may take from its first byte.
    pub head_timeout: Duration,
    /// How long a body may take, plus one second per `min_body_rate` bytes.
    pub body_timeout: Duration,
    /// The slowest upload accepted, in bytes per second.
    pub min_body_rate: u64,
    /// How long writing a response may block.
    pub write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head_bytes: 16 * 1024,
            max_body_bytes: 32 * 1024 * 1024,
            idle_timeout: Duration::from_secs(5),
            head_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            min_body_rate: 256 * 1024,
            write_timeout: Duration::from_secs(10),
        }
    }
}

/// Headers beyond this many make the head bad (431).
const MAX_HEADERS: usize = 64;

/// One request.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The path, still percent-encoded (the router decodes each segment).
    pub path: String,
    /// The query string's pairs, decoded.
    pub query: Vec<(String, String)>,
    /// Header names lower-cased, values as sent (non-UTF-8 bytes lossy).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the connection may serve another request after this one.
    pub keep_alive: bool,
}

impl Request {
    /// The first header of this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a query parameter, in order.
    pub fn params<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter, if given and not empty.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    }
}

/// Why no request could be read. Each but `Closed` and `Io` is answered
/// with a status before the connection is closed.
#[derive(Debug)]
pub enum ReadError {
    /// The client closed (or went idle) between requests: nothing to answer.
    Closed,
    /// The head or the body did not arrive in time (408).
    Timeout,
    /// The head is larger than the limit (431).
    HeadTooLarge,
    /// The body is larger than the limit (413); its declared length.
    BodyTooLarge(u64),
    /// A body without a length or chunked framing (411).
    LengthRequired,
    /// Not HTTP/1.x (400), with the reason.
    Bad(String),
    /// The connection failed.
    Io,
}

/// A client connection and what was read of it past the last request.
pub struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    pub fn new(stream: TcpStream) -> Connection {
        Connection {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads the next request. `first`: the first request of the
    /// connection (waits `head_timeout` for it, not `idle_timeout`).
    pub fn next_request(&mut self, limits: &Limits, first: bool) -> Result<Request, ReadError> {
        let idle = if first {
            limits.head_timeout
        } else {
            limits.idle_timeout
        };
        if self.buf.is_empty() {
            match self.fill(Instant::now() + idle) {
                Ok(0) => return Err(ReadError::Closed),
                Ok(_) => {}
                Err(ReadError::Timeout) => return Err(ReadError::Closed),
                Err(e) => return Err(e),
            }
        }
        let deadline = Instant::now() + limits.head_timeout;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Request::new(&mut headers);
            match parsed.parse(&self.buf) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let head = Head::from(&parsed)?;
                    self.buf.drain(..head_len);
                    return self.finish(head, limits);
                }
                Ok(httparse::Status::Partial) => {}
                Err(httparse::Error::TooManyHeaders) => return Err(ReadError::HeadTooLarge),
                Err(e) => return Err(ReadError::Bad(format!("not an HTTP/1.1 request: {e}"))),
            }
            if self.buf.len() > limits.max_head_bytes {
                return Err(ReadError::HeadTooLarge);
            }
            if self.fill(deadline)? == 0 {
                return Err(ReadError::Bad("the request head was cut off".into()));
            }
        }
    }

    /// Reads the body the head announces.
    fn finish(&mut self, head: Head, limits: &Limits) -> Result<Request, ReadError> {
        if head.expect_continue {
            if let Some(len) = head.content_length {
                if len > limits.max_body_bytes as u64 {
                    return Err(ReadError::BodyTooLarge(len));
                }
            }
            self.write_all(b"HTTP/1.1 100 Continue\r\n\r\n", limits)
                .map_err(|_| ReadError::Io)?;
        }
        let body = match (head.chunked, head.content_length) {
            (true, _) => self.read_chunked(limits)?,
            (false, Some(len)) => {
                if len > limits.max_body_bytes as u64 {
                    return Err(ReadError::BodyTooLarge(len));
                }
                self.read_exact_body(len as usize, limits)?
            }
            (false, None) if head.method == "POST" || head.method == "PUT" => {
                return Err(ReadError::LengthRequired)
            }
            (false, None) => Vec::new(),
        };
        let (path, query) = match head.target.split_once('?') {
            Some((p, q)) => (p.to_owned(), parse_query(q)),
            None => (head.target.clone(), Vec::new()),
        };
        Ok(Request {
            method: head.method,
            path,
            query,
            headers: head.headers,
            body,
            keep_alive: head.keep_alive,
        })
    }

    fn body_deadline(limits: &Limits, len: usize) -> Instant {
        let rate = limits.min_body_rate.max(1);
        Instant::now() + limits.body_timeout + Duration::from_secs(len as u64 / rate)
    }

    fn read_exact_body(&mut self, len: usize, limits: &Limits) -> Result<Vec<u8>, ReadError> {
        let deadline = Self::body_deadline(limits, len);
        while self.buf.len() < len {
            if self.fill(deadline)? == 0 {
                return Err(ReadError::Bad("the request body was cut off".into()));
            }
        }
        let rest = self.buf.split_off(len);
        Ok(std::mem::replace(&mut self.buf, rest))
    }

    /// A `Transfer-Encoding: chunked` body, within the body limit.
    fn read_chunked(&mut self, limits: &Limits) -> Result<Vec<u8>, ReadError> {
        let deadline = Self::body_deadline(limits, limits.max_body_bytes);
        let mut body = Vec::new();
        loop {
            let line = self.read_line(deadline, limits)?;
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| ReadError::Bad(format!("bad chunk size {size_text:?}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line(deadline, limits)?.is_empty() {}
                return Ok(body);
            }
            if body.len().saturating_add(size) > limits.max_body_bytes {
                return Err(ReadError::BodyTooLarge(
                    (body.len() as u64).saturating_add(size as u64),
                ));
            }
            while self.buf.len() < size + 2 {
                if self.fill(deadline)? == 0 {
                    return Err(ReadError::Bad("a chunk was cut off".into()));
                }
            }
            body.extend_from_slice(&self.buf[..size]);
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(ReadError::Bad("a chunk does not end in CRLF".into()));
            }
            self.buf.drain(..size + 2);
        }
    }

    /// One CRLF-terminated line of chunk framing, without the CRLF.
    fn read_line(&mut self, deadline: Instant, limits: &Limits) -> Result<String, ReadError> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..pos]).into_owned();
                self.buf.drain(..pos + 2);
                return Ok(line);
            }
            if self.buf.len() > limits.max_head_bytes {
                return Err(ReadError::Bad("a chunk header is too long".into()));
            }
            if self.fill(deadline)? == 0 {
                return Err(ReadError::Bad("the chunked body was cut off".into()));
            }
        }
    }

    /// Reads more into the buffer before `deadline`; 0 at the end of input.
    fn fill(&mut self, deadline: Instant) -> Result<usize, ReadError> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or(ReadError::Timeout)?;
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|_| ReadError::Io)?;
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ReadError::Timeout)
                }
                Err(_) => return Err(ReadError::Io),
            }
        }
    }

    fn write_all(&mut self, bytes: &[u8], limits: &Limits) -> io::Result<()> {
        self.stream.set_write_timeout(Some(limits.write_timeout))?;
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Closes after a response that was not preceded by reading the whole
    /// request (a refusal, a busy server): stops writing, then reads and
    /// discards what the client still sends for a moment, so that closing
    /// with unread data does not reset the connection before the client
    /// read the answer (a "lingering close").
    pub fn linger(mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
        let deadline = Instant::now() + Duration::from_millis(500);
        let mut sink = [0u8; 16 * 1024];
        let mut left: usize = 1024 * 1024;
        while left > 0 {
            let Some(wait) = deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
            else {
                return;
            };
            if self.stream.set_read_timeout(Some(wait)).is_err() {
                return;
            }
            match self.stream.read(&mut sink) {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    }

    /// Writes a response; `keep_alive`: the connection stays open.
    pub fn respond(
        &mut self,
        response: &Response,
        keep_alive: bool,
        head_only: bool,
        limits: &Limits,
    ) -> io::Result<()> {
        let mut out = Vec::with_capacity(256 + response.body.len());
        let _ = write!(
            out,
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
            response.status,
            reason(response.status),
            response.content_type,
            response.body.len(),
            if keep_alive { "keep-alive" } else { "close" }
        );
        for (name, value) in &response.headers {
            let _ = write!(out, "{name}: {value}\r\n");
        }
        out.extend_from_slice(b"X-Content-Type-Options: nosniff\r\n\r\n");
        if !head_only {
            out.extend_from_slice(&response.body);
        }
        self.write_all(&out, limits)
    }
}

/// The parts of a head the server uses.
struct Head {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    content_length: Option<u64>,
    chunked: bool,
    expect_continue: bool,
    keep_alive: bool,
}

impl Head {
    fn from(parsed: &httparse::Request<'_, '_>) -> Result<Head, ReadError> {
        let method = parsed.method.unwrap_or("").to_owned();
        let target = parsed.path.unwrap_or("/").to_owned();
        let http10 = parsed.version == Some(0);
        let mut head = Head {
            method,
            target,
            headers: Vec::with_capacity(parsed.headers.len()),
            content_length: None,
            chunked: false,
            expect_continue: false,
            keep_alive: !http10,
        };
        for h in parsed.headers.iter() {
            let name = h.name.to_ascii_lowercase();
            let value = String::from_utf8_lossy(h.value).trim().to_owned();
            match name.as_str() {
                "content-length" => {
                    let len = value
                        .parse::<u64>()
                        .map_err(|_| ReadError::Bad(format!("bad Content-Length {value:?}")))?;
                    if head.content_length.is_some_and(|l| l != len) {
                        return Err(ReadError::Bad("conflicting Content-Length headers".into()));
                    }
                    head.content_length = Some(len);
                }
                "transfer-encoding" => {
                    if !value.eq_ignore_ascii_case("chunked") {
                        return Err(ReadError::Bad(format!(
                            "Transfer-Encoding {value:?} is not supported (only chunked)"
                        )));
                    }
                    head.chunked = true;
                }
                "expect" if value.eq_ignore_ascii_case("100-continue") => {
                    head.expect_continue = true;
                }
                "connection" => {
                    let v = value.to_ascii_lowercase();
                    if v.contains("close") {
                        head.keep_alive = false;
                    } else if v.contains("keep-alive") {
                        head.keep_alive = true;
                    }
                }
                _ => {}
            }
            head.headers.push((name, value));
        }
        if head.chunked && head.content_length.is_some() {
            // RFC 9112 6.3: a request with both is a smuggling attempt.
            return Err(ReadError::Bad(
                "both Content-Length and Transfer-Encoding were sent".into(),
            ));
        }
        Ok(head)
    }
}

/// A response to write.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A JSON body.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        let mut body = serde_json::to_vec(value).unwrap_or_default();
        body.push(b'\n');
        Response::new(status, "application/json", body)
    }

    /// A JSON error: `{"error": message}`.
    pub fn error(status: u16, message: impl Into<String>) -> Response {
        Response::json(status, &serde_json::json!({ "error": message.into() }))
    }

    /// With one more header.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }
}

/// The reason phrase of the statuses this server sends.
fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        303 => "See Other",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// The pairs of a query string or form body, decoded (`+` is a space).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k, true), decode_component(v, true))
        })
        .collect()
}

/// Percent-decodes one component; invalid escapes are kept as they are,
/// and invalid UTF-8 becomes U+FFFD. `plus`: `+` means a space (query
/// strings and forms, not paths).
pub fn decode_component(text: &str, plus: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
