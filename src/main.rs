use std::process::ExitCode;

use clap::Parser;

// See Cargo.toml: a long-running operator must give back what its start-up burst used.
#[cfg(all(unix, not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read before the first allocation (`_RJEM_MALLOC_CONF` still overrides
/// them). One arena: two or three busy threads do not contend enough to need more, and every
/// extra arena keeps its own partly used pages. No thread caches: at 10,000 workloads they held
/// about 8 MiB of freed objects per process, more than they saved in time.
#[cfg(all(unix, not(target_env = "msvc")))]
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8; 23] = b"narenas:1,tcache:false\0";

fn main() -> ExitCode {
    prodready::cli::run(prodready::cli::Cli::parse())
}
