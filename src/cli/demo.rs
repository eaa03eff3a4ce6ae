pub fn run(_a: Args) -> Result<i32, super::CliError> { Ok(0) }
#[derive(Debug, clap::Args)] pub struct Args {}
