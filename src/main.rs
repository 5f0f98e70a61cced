use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    prodready::cli::run(prodready::cli::Cli::parse())
}
