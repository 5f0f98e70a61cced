use std::process::ExitCode;

use clap::Parser;

// See Cargo.toml: a long-running operator must give back what its start-up burst used.
#[cfg(all(unix, not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    prodready::cli::run(prodready::cli::Cli::parse())
}
