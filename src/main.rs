//! The `bamdb` command: see `bamdb --help`.

mod cli;

use clap::Parser;

/// The command allocates with mimalloc: the bus's import allocates and
/// frees many small objects (names, ids, records), and glibc's allocator
/// made it 1.4x slower (BENCHMARKS.md, "Write path CPU"). The library
/// leaves the choice to the application that embeds it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args = cli::Cli::parse();
    let code = match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            let message = err.to_string();
            if !message.is_empty() {
                eprintln!("bamdb: {message}");
            }
            err.code
        }
    };
    std::process::exit(code);
}
