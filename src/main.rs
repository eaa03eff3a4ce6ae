//! The `bamdb` command.

fn main() {
    eprintln!("bamdb: the demo is not built yet; see README.md");
    std::process::exit(2);
}
