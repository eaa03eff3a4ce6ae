//! Runs the shell block under "Serve and portal" in README.md as written
//! (with `bamdb` the built binary, a free port instead of 8080, and a wait
//! for the server to listen after it starts), and checks what the curl
//! commands print. Needs `curl` (`.ci/run` installs it); without it the
//! test says so and passes.

mod readme_common;

use std::process::Command;

#[test]
fn readme_serve_section_works_as_written() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut script = String::from("set -eux\n");
    for line in readme_common::sh_block("## Serve and portal").lines() {
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
    let out = readme_common::run_script(&script, tmp.path());
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
