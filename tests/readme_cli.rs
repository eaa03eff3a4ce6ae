//! Runs the shell block under "Quick start with the CLI" in README.md, with
//! `bamdb` being the built binary, in a fresh directory; every command must
//! exit 0.

use std::process::Command;

fn cli_block(readme: &str) -> String {
    let start = readme
        .find("## Quick start with the CLI")
        .expect("README has the CLI quick start");
    let rest = &readme[start..];
    let open = rest.find("```sh\n").expect("a sh block under the heading") + 6;
    let close = rest[open..].find("\n```").expect("the block ends") + open;
    rest[open..close].to_string()
}

#[test]
fn readme_cli_quick_start_works_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let block = cli_block(&readme);
    assert!(block.contains("bamdb ingest"));
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_bamdb"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // -e: stop at the first failing command; -x: show which one.
    let script = format!("set -eux\n{block}\n");
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(tmp.path())
        .env("PATH", path)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "README CLI block failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("\"committed\""), "{stdout}");
    assert!(stdout.contains("\"Contoso\""), "{stdout}");
    assert!(stdout.contains("\"outcome\":\"imported\""), "{stdout}");
    assert!(stdout.contains("sound"), "{stdout}");
}
