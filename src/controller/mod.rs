//! The operator: keeps a ReadinessReport current for every top-level workload.
//!
//! Watches (see `crate::live`) send the keys of the workloads each change can affect into one
//! bounded queue; a worker drains it in short batches, judges each workload and writes its report
//! only when the content changed. Errors back off per workload and never block the others. With
//! leader election only the leader writes, and every replica keeps warm caches.
//!
//! Layout: `context` (configuration and shared state), `worker` (the queue), `reconcile` (one
//! workload), `desired` (the report wanted, pure), `report_cache` and `report_watch` (the reports
//! the cluster holds), `leader`, `metrics`. This file only wires them together.

mod context;
mod desired;
mod error;
mod leader;
pub mod metrics;
pub mod openreports;
pub mod optional_crd;
mod reconcile;
mod report_cache;
mod report_watch;
mod worker;

use std::sync::Arc;

use kube::Client;
use tokio::sync::mpsc;

pub use crate::api::names::FIELD_MANAGER;
pub use context::{Config, Context, LeaderElection, default_identity};
pub use desired::{Desired, desired, object_patch, status_patch};
pub use error::Error;
pub use metrics::Metrics;
pub use reconcile::Outcome;
pub use report_cache::{CachedReport, ReportCache};

use crate::live::WorkloadKey;
use crate::live::watch::{self, Scope};

/// Runs the operator until `shutdown` completes, then finishes the writes in flight and
/// releases the Lease.
pub async fn run(
    client: Client,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let ctx = Context::new(client, config);
    run_with(ctx, shutdown).await
}

/// [`run`] with a context built by the caller (tests read its caches and metrics).
pub async fn run_with(
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let (sink, queue) = mpsc::channel::<WorkloadKey>(worker::QUEUE_CAPACITY);
    let scope = Scope {
        namespace: ctx.config.namespace.clone(),
    };
    let observer = ctx.observer();
    let (mut names, mut tasks) = watch::spawn_all(
        &ctx.client,
        &scope,
        ctx.state.clone(),
        sink.clone(),
        observer.clone(),
    )
    .await;
    names.push(report_watch::WATCH_NAME.to_string());
    observer.watching(report_watch::WATCH_NAME);
    ctx.state.sync.expect(names);
    let report_api = match &ctx.config.namespace {
        Some(ns) => kube::Api::namespaced(ctx.client.clone(), ns),
        None => kube::Api::all(ctx.client.clone()),
    };
    tasks.push(tokio::spawn(report_watch::run(
        report_api,
        ctx.reports.clone(),
        ctx.state.clone(),
        sink.clone(),
        observer,
    )));
    tasks.extend(openreports::start(&ctx, sink.clone()).await);
    if let Some(addr) = ctx.config.http_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Http { addr, source })?;
        tasks.push(tokio::spawn(crate::health::serve(listener, ctx.clone())));
    }
    let lease = match &ctx.config.leader_election {
        Some(election) => Some(leader::start(ctx.clone(), election.clone(), sink.clone()).await?),
        None => None,
    };
    tracing::info!(identity = %ctx.config.identity, namespace = ?ctx.config.namespace,
        "controller started");
    worker::work(&ctx, queue, sink, shutdown).await;
    tracing::info!("shutting down: writes drained");
    if let Some(lease) = lease {
        lease.release().await;
    }
    for task in tasks {
        task.abort();
    }
    Ok(())
}
