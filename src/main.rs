//! The `bamdb` command: see `bamdb --help`.

mod cli;

use clap::Parser;

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
