//! The `prodready` command line: parses arguments, sets up logging and hands over to the
//! command. Commands return the process exit code; they print their own diagnostics.

mod args;
mod audit;
mod checks;
mod cluster;
mod controller;
mod crds;
mod error;
mod webhook;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

pub use args::{
    AuditArgs, AuditFormat, ChecksArgs, Cli, ClusterArgs, ColorChoice, Command, ControllerArgs,
    CrdsArgs, FailOn, ListFormat, LogFormat, LogLevel, RunArgs, SeverityArg, WebhookArgs,
    WebhookServingArgs, parse_duration,
};
pub use crds::{crd_documents, crd_file_name};
pub use error::Error;

/// Exit code: nothing at or above `--fail-on` failed.
pub const EXIT_OK: u8 = 0;
/// Exit code: a failing finding at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: unusable input or arguments (the same code clap uses for usage errors).
pub const EXIT_INPUT: u8 = 2;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    // The operator is a service: what it does is worth logging by default.
    let default_level = match cli.command {
        Command::Controller(_) | Command::Webhook(_) | Command::Run(_) => "info",
        _ => "warn",
    };
    init_logging(cli.log_level, cli.log_format, default_level);
    let code = match &cli.command {
        Command::Audit(a) => audit::run(a),
        Command::Checks(a) => checks::run(a),
        Command::Crds(a) => crds::run(a),
        Command::Controller(a) => controller::run(a),
        Command::Webhook(a) => webhook::run_webhook(a),
        Command::Run(a) => webhook::run_both(a),
        Command::Version => version(),
    };
    ExitCode::from(code)
}

/// Logs go to stderr so they never mix with a report on stdout. An explicit `--log-level`
/// wins over RUST_LOG, which wins over the default.
fn init_logging(level: Option<LogLevel>, format: LogFormat, default_level: &str) {
    let filter = match level {
        Some(l) => EnvFilter::new(l.as_str()),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)),
    };
    if format == LogFormat::Json {
        // Spans (the workload being reconciled) go into every line as fields.
        let _ = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(io::stderr)
            .try_init();
        return;
    }
    // A second initialisation (tests calling `run` twice) is harmless: keep the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(
            io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .with_target(false)
        .try_init();
}

fn version() -> u8 {
    let mut out = io::stdout().lock();
    let written = writeln!(
        out,
        "prodready {}\nchecks: {}\napi: {}/v1alpha1",
        env!("CARGO_PKG_VERSION"),
        crate::checks::catalogue().len(),
        crate::api::GROUP
    );
    finish_stdout(written)
}

/// Maps the result of writing to stdout to an exit code. A closed pipe (`prodready ... | head`)
/// is the reader's choice, not a failure.
fn finish_stdout(result: io::Result<()>) -> u8 {
    match result.and_then(|()| io::stdout().flush()) {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            EXIT_INPUT
        }
    }
}
