//! `prodready controller`: runs the operator until SIGTERM or Ctrl-C, then drains the writes
//! in flight and releases the Lease before exiting.

use super::{ControllerArgs, EXIT_INPUT, EXIT_OK, cluster};
use crate::controller::{self, Config, LeaderElection};

pub fn run(args: &ControllerArgs) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_INPUT;
        }
    };
    runtime.block_on(async {
        let client = match cluster::client(&args.cluster).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_INPUT;
            }
        };
        let config = Config {
            namespace: args.namespace.clone(),
            resync: args.resync,
            finding_metrics: args.finding_metrics,
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
        };
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

/// Completes on SIGTERM (what Kubernetes sends a terminating pod) or Ctrl-C.
async fn shutdown_signal() {
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
