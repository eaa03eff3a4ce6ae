//! Runs the shell block under "Serve and portal" in README.md as written
//! (with `bamdb` the built binary, a free port instead of 8080, and a wait
//! for the server to listen after it starts), and checks what the curl
//! commands print. Needs `curl` (`.ci/run` installs it); without it the
//! test says so and passes.

use std::process::Command;

fn serve_block(readme: &str) -> String {
    let start = readme
        .find("## Serve and portal")
        .expect("README has the serve section");
    let rest = &readme[start..];
    let open = rest.find("```sh\n").expect("a sh block under the heading") + 6;
    let close = rest[open..].find("\n```\n").expect("the block ends") + open;
    rest[open..close].to_string()
}

#[test]
fn readme_serve_section_works_as_written() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut script = String::from("set -eux\n");
    for line in serve_block(&readme).lines() {
        let line = line.replace("8080", &port.to_string());
        script.push_str(&line);
        script.push('\n');
        if line.starts_with("bamdb serve") {
            script.push_str(&format!(
                "until curl -sf http://127.0.0.1:{port}/v1/health > /dev/null; do sleep 0.05; done\n"
            ));
        }
    }
    // The server's clean exit after `kill %1`.
    script.push_str("wait\n");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("defs.json"),
        bamdb::fixture::definitions_json(bamdb::fixture::BRIEF),
    )
    .expect("defs.json");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_bamdb"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(tmp.path())
        .env("PATH", path)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let receipts: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("{\"committed\""))
        .collect();
    assert_eq!(receipts.len(), 2, "{stdout}");
    assert_eq!(receipts[0], receipts[1], "the retry's answer differs");
    assert!(receipts[0].ends_with("\"events\":3}"), "{stdout}");
    assert!(stdout.contains("\"id\":\"PO-9\""), "{stdout}");
    assert!(stdout.contains("[\"EU\",1000.0]"), "{stdout}");
    assert!(stdout.contains("bamdb_commits_total 1\n"), "{stdout}");
    assert!(stderr.contains("stopped, store closed"), "{stderr}");
}
