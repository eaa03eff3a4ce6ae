//! Helpers of the README tests: the shell block under a heading, and
//! running a script with the built `bamdb` first on the PATH.

use std::path::Path;
use std::process::{Command, Output};

/// The first ```sh block after the heading `heading` of README.md.
pub fn sh_block(heading: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README has no {heading:?}"));
    let rest = &readme[start..];
    let open = rest.find("```sh\n").expect("a sh block under the heading") + 6;
    let close = rest[open..].find("\n```").expect("the block ends") + open;
    rest[open..close].to_string()
}

/// Runs `script` with bash in `dir`, the built `bamdb` first on the PATH.
pub fn run_script(script: &str, dir: &Path) -> Output {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_bamdb"))
        .parent()
        .expect("the binary's directory")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .expect("run bash")
}
