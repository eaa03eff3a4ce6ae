//! Helpers of the `bamdb serve` tests: a real server process on a free
//! loopback port, and a small HTTP/1.1 client over `std::net` (one request
//! per connection unless told otherwise).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// A running `bamdb serve`.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// Kept open so the server's stdout never closes under it.
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    /// Starts `bamdb serve --store DIR --listen 127.0.0.1:0 EXTRA...` and
    /// waits for the line that names its address.
    pub fn start(store: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bamdb"))
            .arg("serve")
            .arg("--store")
            .arg(store)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start bamdb serve");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("read the listening line");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Server {
            child,
            addr,
            _stdout: stdout,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        request(self.addr, "GET", path, &[], b"")
    }

    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        request(self.addr, "POST", path, headers, body)
    }

    /// SIGTERM, and waits for a clean exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        assert_eq!(exit.code(), Some(0), "serve did not stop cleanly");
    }

    /// kill -9.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// One request on a new connection (`Connection: close`).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    try_request(addr, method, path, headers, body).expect("HTTP request")
}

/// As [`request`], with I/O errors returned (a server killed mid-request).
pub fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_reply(&raw)
}

/// Parses one whole response (the server closes after it).
pub fn parse_reply(raw: &[u8]) -> std::io::Result<Reply> {
    let bad = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_owned());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of head"))?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = raw[end + 4..].to_vec();
    let len = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .ok_or_else(|| bad("no Content-Length"))?;
    if body.len() != len {
        return Err(bad("body cut short"));
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Deploys the PurchaseOrder definitions of the CLI tests into `dir`.
pub fn deploy(dir: &Path) {
    let file = dir.with_extension("defs.json");
    std::fs::write(
        &file,
        bamdb::fixture::definitions_json(bamdb::fixture::BRIEF),
    )
    .expect("write defs");
    let out = Command::new(env!("CARGO_BIN_EXE_bamdb"))
        .arg("deploy")
        .arg("--store")
        .arg(dir)
        .arg(&file)
        .output()
        .expect("deploy");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Begin, update (Amount, Customer, Region) and end of order `id`.
pub fn order_lines(id: &str, amount: f64, region: &str) -> String {
    format!(
        "{{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"ts\":\"2026-11-02T10:00:00Z\"}}\n\
         {{\"op\":\"update\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"data\":{{\"Amount\":{amount},\"Customer\":\"c\",\"Region\":\"{region}\"}}}}\n\
         {{\"op\":\"end\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"ts\":\"2026-11-03T10:00:00Z\"}}\n"
    )
}
