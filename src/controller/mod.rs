//! The operator: keeps a ReadinessReport current for every top-level workload.
//!
//! Watches (see `crate::live`) send the keys of the workloads each change can affect into one
//! queue; a worker drains it in short batches, judges each workload and writes its report only
//! when the content changed. Errors back off per workload and never block the others. With
//! leader election only the leader writes, and every replica keeps warm caches.

mod leader;
pub mod openreports;
pub mod optional_crd;
pub mod reconcile;
pub mod report;
pub mod reports;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use kube::runtime::events::{Recorder, Reporter};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tracing::Instrument;

pub use leader::LeaderElection;
pub use reconcile::Outcome;
pub use reports::ReportCache;

use crate::live::watch::{self, Scope, Sink, WatchObserver};
use crate::live::{LiveState, WorkloadKey};
use crate::metrics::Metrics;

/// Everything that can go wrong reconciling one workload.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("cannot judge the workload: {0}")]
    Unjudgeable(String),
    #[error("leader election: {0}")]
    Lease(String),
    #[error("serving HTTP on {addr}: {source}")]
    Http {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// How the operator runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Watch one namespace only (`None`: the whole cluster).
    pub namespace: Option<String>,
    /// Every workload is judged again this often (time-based checks: grace periods, windows).
    pub resync: Duration,
    /// How long keys are gathered before a batch is judged.
    pub batch_delay: Duration,
    /// Judging starts once every watch has listed, or after this long with the kinds still
    /// unlisted unknown (their checks skip) rather than never: a kind the operator may not
    /// read must not stop every report. Reports are removed only after a complete sync.
    pub sync_timeout: Duration,
    /// Add one info series per failing finding to /metrics.
    pub finding_metrics: bool,
    /// Serve /metrics, /healthz and /readyz here.
    pub http_addr: Option<SocketAddr>,
    pub leader_election: Option<LeaderElection>,
    /// Reports judged and written at once.
    pub concurrency: usize,
    /// This replica's name, in events and in the Lease.
    pub identity: String,
    /// Keep an OpenReports Report beside each ReadinessReport.
    pub openreports: bool,
    /// How often a missing optional CRD (OpenReports) is looked for again.
    pub crd_recheck: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            namespace: None,
            resync: Duration::from_secs(3600),
            batch_delay: Duration::from_millis(50),
            sync_timeout: Duration::from_secs(60),
            finding_metrics: false,
            http_addr: None,
            leader_election: None,
            concurrency: 4,
            identity: default_identity(),
            openreports: false,
            crd_recheck: Duration::from_secs(30),
        }
    }
}

/// The pod name when running in a cluster, else the host name and process id.
pub fn default_identity() -> String {
    std::env::var("POD_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "prodready".into());
            format!("{host}-{}", std::process::id())
        })
}

/// What reconcile needs, shared by every task.
pub struct Context {
    pub client: Client,
    pub state: Arc<LiveState>,
    pub reports: Arc<ReportCache>,
    pub metrics: Arc<Metrics>,
    /// With `--openreports`.
    pub openreports: Option<Arc<openreports::OpenReports>>,
    pub recorder: Recorder,
    pub config: Config,
    leader: AtomicBool,
}

impl Context {
    pub fn new(client: Client, config: Config) -> Arc<Context> {
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: "prodready".into(),
                instance: Some(config.identity.clone()),
            },
        );
        let metrics = Arc::new(Metrics::new());
        let openreports = config
            .openreports
            .then(|| openreports::OpenReports::new(metrics.registry()));
        Arc::new(Context {
            client,
            state: LiveState::new(),
            reports: Arc::new(ReportCache::default()),
            metrics,
            openreports,
            recorder,
            leader: AtomicBool::new(config.leader_election.is_none()),
            config,
        })
    }

    /// Whether this replica writes (always, without leader election).
    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::SeqCst)
    }

    /// Ready: every watch listed once.
    pub fn is_ready(&self) -> bool {
        self.state.sync.all_synced()
    }

    pub fn render_metrics(&self) -> String {
        let reports = self.reports.all();
        self.metrics.render(
            reports.iter().map(|r| r.as_ref()),
            self.config.finding_metrics,
            self.config
                .leader_election
                .is_some()
                .then(|| self.is_leader()),
        )
    }
}

impl crate::health::Health for Context {
    fn render_metrics(&self) -> String {
        Context::render_metrics(self)
    }

    fn ready(&self) -> Result<(), String> {
        if self.is_ready() {
            Ok(())
        } else {
            Err(format!(
                "waiting for watches: {}",
                self.state.sync.pending().join(", ")
            ))
        }
    }
}

struct Observer(Arc<Metrics>);

impl WatchObserver for Observer {
    fn error(&self, watch: &str) {
        self.0.error(watch)
    }

    fn restart(&self, watch: &str) {
        self.0.restart(watch)
    }
}

/// Per-workload exponential backoff after errors.
#[derive(Default)]
struct Backoff {
    failures: HashMap<WorkloadKey, u32>,
}

impl Backoff {
    const BASE: Duration = Duration::from_millis(500);
    const MAX: Duration = Duration::from_secs(300);

    fn failed(&mut self, key: &WorkloadKey) -> Duration {
        let n = self.failures.entry(key.clone()).or_insert(0);
        *n = n.saturating_add(1);
        Self::BASE
            .saturating_mul(1u32 << (*n - 1).min(10))
            .min(Self::MAX)
    }

    fn succeeded(&mut self, key: &WorkloadKey) {
        self.failures.remove(key);
    }
}

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
    let (sink, queue) = unbounded_channel::<WorkloadKey>();
    let scope = Scope {
        namespace: ctx.config.namespace.clone(),
    };
    let observer: Arc<dyn WatchObserver> = Arc::new(Observer(ctx.metrics.clone()));
    let (mut names, mut tasks) = watch::spawn_all(
        &ctx.client,
        &scope,
        ctx.state.clone(),
        sink.clone(),
        observer.clone(),
    )
    .await;
    names.push(reports::WATCH_NAME.to_string());
    ctx.state.sync.expect(names);
    let report_api = match &ctx.config.namespace {
        Some(ns) => kube::Api::namespaced(ctx.client.clone(), ns),
        None => kube::Api::all(ctx.client.clone()),
    };
    tasks.push(tokio::spawn(reports::run(
        report_api,
        ctx.reports.clone(),
        ctx.state.clone(),
        sink.clone(),
        observer.clone(),
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
    work(&ctx, queue, sink, shutdown).await;
    tracing::info!("shutting down: writes drained");
    if let Some(lease) = lease {
        lease.release().await;
    }
    for task in tasks {
        task.abort();
    }
    Ok(())
}

/// The worker: gathers keys, judges them in batches once every watch has synced, and on
/// resync judges everything again (and removes the reports of workloads that are gone).
async fn work(
    ctx: &Arc<Context>,
    mut queue: UnboundedReceiver<WorkloadKey>,
    sink: Sink,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    let mut pending: BTreeSet<WorkloadKey> = BTreeSet::new();
    let mut backoff = Backoff::default();
    let mut synced = false;
    let mut resync = tokio::time::interval(ctx.config.resync);
    resync.tick().await;
    let mut sync_poll = tokio::time::interval(Duration::from_millis(100));
    let started = tokio::time::Instant::now();
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => return,
            key = queue.recv() => match key {
                Some(key) => {
                    pending.insert(key);
                    // Gather what arrives in the next moment: one change often dirties a
                    // workload several times (object, then status, then its pods).
                    let gather = tokio::time::sleep(ctx.config.batch_delay);
                    tokio::pin!(gather);
                    loop {
                        tokio::select! {
                            () = &mut gather => break,
                            more = queue.recv() => match more {
                                Some(k) => { pending.insert(k); }
                                None => break,
                            },
                        }
                    }
                }
                None => return,
            },
            _ = sync_poll.tick(), if !synced => {
                if ctx.is_ready() {
                    tracing::info!("every watch synced: judging every workload");
                } else if started.elapsed() >= ctx.config.sync_timeout {
                    tracing::warn!(pending = ?ctx.state.sync.pending(),
                        "watches still not listed: judging without them");
                } else {
                    continue;
                }
                synced = true;
                pending.extend(ctx.state.all_workloads());
                pending.extend(orphans(ctx));
            },
            _ = resync.tick() => {
                pending.extend(ctx.state.all_workloads());
                pending.extend(orphans(ctx));
            },
        }
        if !synced || pending.is_empty() {
            continue;
        }
        let batch: Vec<WorkloadKey> = std::mem::take(&mut pending).into_iter().collect();
        let results: Vec<(WorkloadKey, Result<Outcome, Error>)> = futures::stream::iter(batch)
            .map(|key| {
                let span = tracing::info_span!("reconcile", workload = %key);
                async move {
                    let result = reconcile::reconcile(ctx, &key).await;
                    (key, result)
                }
                .instrument(span)
            })
            .buffer_unordered(ctx.config.concurrency.max(1))
            .collect()
            .await;
        for (key, result) in results {
            match result {
                Ok(_) => backoff.succeeded(&key),
                Err(e) => {
                    let delay = backoff.failed(&key);
                    tracing::warn!(workload = %key, error = %e, retry_in = ?delay,
                        "reconcile failed");
                    let sink = sink.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let _ = sink.send(key);
                    });
                }
            }
        }
    }
}

/// Keys of reports whose workload the store does not hold: reconciling them deletes them.
pub(crate) fn orphans(ctx: &Context) -> Vec<WorkloadKey> {
    let store = crate::live::read(&ctx.state.workloads);
    ctx.reports
        .all()
        .iter()
        .filter_map(|r| r.workload())
        .filter(|k| !store.contains(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::WorkloadKind;

    #[test]
    fn backoff_grows_per_workload_and_resets_on_success() {
        let mut b = Backoff::default();
        let a = WorkloadKey::new(WorkloadKind::Deployment, "ns", "a");
        let other = WorkloadKey::new(WorkloadKind::Deployment, "ns", "b");
        assert_eq!(b.failed(&a), Duration::from_millis(500));
        assert_eq!(b.failed(&a), Duration::from_secs(1));
        assert_eq!(b.failed(&a), Duration::from_secs(2));
        assert_eq!(b.failed(&other), Duration::from_millis(500));
        for _ in 0..20 {
            b.failed(&a);
        }
        assert_eq!(b.failed(&a), Backoff::MAX);
        b.succeeded(&a);
        assert_eq!(b.failed(&a), Duration::from_millis(500));
    }
}
