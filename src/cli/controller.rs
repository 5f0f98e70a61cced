//! `prodready controller`: runs the operator until SIGTERM or Ctrl-C, then drains the writes
//! in flight and releases the Lease before exiting.

use super::{ControllerArgs, EXIT_INPUT, EXIT_OK, cluster};
use crate::controller::{self, Config, LeaderElection};

pub fn run(args: &ControllerArgs) -> u8 {
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let client = match cluster::client(&args.cluster).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_INPUT;
            }
        };
        let config = config(args);
        match controller::run(client, config, shutdown_signal()).await {
            Ok(()) => EXIT_OK,
            Err(e) => {
                tracing::error!(error = %e, "controller failed");
                eprintln!("error: {e}");
                EXIT_INPUT
            }
        }
    })
}

/// The controller's configuration from its flags.
pub fn config(args: &ControllerArgs) -> Config {
    Config {
        namespace: args.namespace.clone(),
        resync: args.resync,
        finding_metrics: args.finding_metrics,
        openreports: args.openreports,
        crd_recheck: args.crd_recheck,
        http_addr: Some(args.http_addr),
        leader_election: args.leader_elect.then(|| LeaderElection {
            lease_name: args.lease_name.clone(),
            lease_namespace: args
                .lease_namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
            ..LeaderElection::default()
        }),
        ..Config::default()
    }
}

/// A multi-threaded runtime for a long-running process (its threads, and the calling one, set
/// up by [`crate::memory::lean_thread`]; idle workers free what answered admission reviews
/// left, see [`crate::webhook::leftovers`]), or the reason there is none.
pub fn runtime() -> Result<tokio::runtime::Runtime, u8> {
    crate::memory::lean_thread();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(crate::memory::lean_thread)
        .on_thread_park(crate::webhook::leftovers::thread_parking)
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            EXIT_INPUT
        })
}

/// Completes on SIGTERM (what Kubernetes sends a terminating pod) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
        tracing::info!("shutdown signal received");
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
