//! How the operator runs ([`Config`], [`LeaderElection`]) and what every task shares
//! ([`Context`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kube::Client;
use kube::runtime::events::{Recorder, Reporter};

use super::metrics::Metrics;
use super::report_cache::ReportCache;
use crate::live::watch::WatchObserver;
use crate::live::{LiveState, WorkloadKey};

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

/// Where the Lease lives and how long it holds.
#[derive(Clone, Debug)]
pub struct LeaderElection {
    pub lease_name: String,
    pub lease_namespace: String,
    /// A leader that stops renewing loses the Lease after this long: the bound on takeover.
    pub duration_seconds: u64,
    /// Renewal starts this long before expiry.
    pub grace_seconds: u64,
}

impl Default for LeaderElection {
    fn default() -> Self {
        LeaderElection {
            lease_name: "prodready-controller".into(),
            lease_namespace: "default".into(),
            // Takeover within 15 s of the leader dying: 10 s of Lease, plus the time to notice.
            duration_seconds: 10,
            grace_seconds: 3,
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
    pub openreports: Option<Arc<super::openreports::OpenReports>>,
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
            .then(|| super::openreports::OpenReports::new(metrics.registry()));
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

    /// Records whether this replica leads; returns whether it led before.
    pub(super) fn set_leader(&self, leading: bool) -> bool {
        self.leader.swap(leading, Ordering::SeqCst)
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

    /// Keys of reports whose workload the store does not hold: reconciling them deletes them.
    pub(super) fn orphans(&self) -> Vec<WorkloadKey> {
        let store = crate::live::read(&self.state.workloads);
        self.reports
            .all()
            .iter()
            .filter_map(|r| r.workload())
            .filter(|k| !store.contains(k))
            .collect()
    }

    /// Every workload and every orphaned report: what a full pass judges.
    pub(super) fn everything(&self) -> Vec<WorkloadKey> {
        let mut keys = self.state.all_workloads();
        keys.extend(self.orphans());
        keys
    }

    /// What the watches count into: this context's metrics.
    pub(super) fn observer(&self) -> Arc<dyn WatchObserver> {
        self.metrics.clone()
    }
}

impl crate::health::Health for Context {
    fn render_metrics(&self) -> String {
        Context::render_metrics(self)
    }

    fn waiting_for(&self) -> Option<String> {
        self.state.sync.waiting_for()
    }
}
