//! Real nats-server processes for the fleet tests: one server, or a
//! three-node JetStream cluster on loopback, started, killed (SIGKILL) and
//! started again by the tests themselves. `.ci/run` installs nats-server
//! (Debian's package); without it the tests print "skipped: ..." and pass.

#![allow(dead_code)]

pub mod soak;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether nats-server can be run here; prints why not.
pub fn available(test: &str) -> bool {
    match Command::new("nats-server").arg("--version").output() {
        Ok(out) if out.status.success() => true,
        _ => {
            eprintln!(
                "skipped: {test}: nats-server is not installed (apt-get install nats-server)"
            );
            false
        }
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("its address").port()
}

/// One nats-server process with JetStream, its ports and its store kept
/// across restarts.
pub struct Server {
    name: String,
    pub port: u16,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Server {
    fn new(dir: &Path, name: &str, port: u16, cluster: Option<(u16, &[u16])>) -> Server {
        Server::listening(dir, name, "127.0.0.1", port, cluster)
    }

    fn listening(
        dir: &Path,
        name: &str,
        host: &str,
        port: u16,
        cluster: Option<(u16, &[u16])>,
    ) -> Server {
        let store = dir.join(format!("{name}-js"));
        let mut config = format!(
            "server_name: {name}\nlisten: {host}:{port}\nmax_payload: 8MB\n\
             jetstream {{ store_dir: {store:?} }}\n",
        );
        if let Some((route_port, others)) = cluster {
            let routes: Vec<String> = others
                .iter()
                .map(|p| format!("nats-route://127.0.0.1:{p}"))
                .collect();
            config.push_str(&format!(
                "cluster {{ name: fleet, listen: 127.0.0.1:{route_port}, routes: [{}] }}\n",
                routes.join(", ")
            ));
        }
        let path = dir.join(format!("{name}.conf"));
        std::fs::write(&path, config).expect("write the server's configuration");
        Server {
            name: name.into(),
            port,
            config: path,
            log: dir.join(format!("{name}.log")),
            child: None,
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none(), "{} runs already", self.name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open the server's log");
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        self.wait_listening();
    }

    /// Waits until the server takes connections.
    fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(child) = &mut self.child {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("{} exited ({status}): {}", self.name, self.log_tail());
                }
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen within 20 s: {}",
                self.name,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no shutdown, whatever JetStream had not written is the
    /// kernel's (page cache) or lost.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One server on its own.
pub fn single(dir: &Path) -> Server {
    let mut server = Server::new(dir, "solo", free_port(), None);
    server.start();
    server
}

/// One server on its own, listening on every address (for clients in
/// other network namespaces).
pub fn single_on_all_addresses(dir: &Path) -> Server {
    let mut server = Server::listening(dir, "solo", "0.0.0.0", free_port(), None);
    server.start();
    server
}

/// Three servers in one JetStream cluster, all started.
pub fn cluster(dir: &Path) -> Vec<Server> {
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut servers: Vec<Server> = (0..3)
        .map(|i| {
            let others: Vec<u16> = (0..3).filter(|&j| j != i).map(|j| routes[j]).collect();
            Server::new(
                dir,
                &format!("n{}", i + 1),
                ports[i],
                Some((routes[i], &others)),
            )
        })
        .collect();
    for server in &mut servers {
        server.start();
    }
    servers
}

/// The URL list of a cluster, as `--nats` takes it.
pub fn urls(servers: &[Server]) -> String {
    servers
        .iter()
        .map(Server::url)
        .collect::<Vec<_>>()
        .join(",")
}
