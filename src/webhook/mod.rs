//! The validating admission webhook: judges workloads as they are applied, with the same engine
//! and the same live World as the controller, and warns or refuses as the ReadinessPolicy of the
//! namespace says. It never writes: reports are the controller's.
//!
//! Safety first: it allows whatever it cannot judge (unknown kinds, caches not synced, an
//! internal error), answers in well under a millisecond of work, and is meant to be registered
//! with `failurePolicy: Ignore`, so a webhook that is down never stops a deploy.

pub mod certs;
mod error;
pub mod leftovers;
pub mod metrics;
pub mod review;
pub mod rotation;
pub mod server;
pub mod tls;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use error::Error;
pub use metrics::WebhookMetrics;
pub use review::{Decision, Denial, Exclusions, Warnings, decide};
pub use rotation::SelfManaged;
pub use tls::{CertStore, PemPair};

use crate::live::LiveState;

/// Where the serving certificate comes from.
#[derive(Clone, Debug)]
pub enum Certificates {
    /// Files mounted from a Secret (cert-manager): read again when they change.
    Mounted { cert: PathBuf, key: PathBuf },
    /// A CA and a serving certificate the webhook makes and renews itself.
    SelfManaged(SelfManaged),
}

#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub certificates: Certificates,
    /// prodready's own namespace, never judged.
    pub own_namespace: Option<String>,
}

/// What the request handler needs.
pub struct Webhook {
    pub state: Arc<LiveState>,
    pub exclusions: Exclusions,
    pub metrics: WebhookMetrics,
}

/// A started webhook: where it listens, what it serves, and its tasks.
pub struct Running {
    pub local_addr: SocketAddr,
    pub store: Arc<CertStore>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops serving (as dropping does).
    pub fn stop(self) {}
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// How often mounted certificate files are looked at.
const FILE_POLL: Duration = Duration::from_secs(10);

fn read_pair(cert: &PathBuf, key: &PathBuf) -> Result<PemPair, Error> {
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })
    };
    Ok(PemPair {
        cert: read(cert)?,
        key: read(key)?,
    })
}

/// Gets the first certificate, binds, and serves until [`Running`] is stopped or dropped. The
/// webhook judges against `state`, which the caller keeps current (the controller's watches,
/// or [`crate::live::watch::spawn_all`]). Self-managed certificates need a `client`.
pub async fn start(
    client: Option<Client>,
    config: Config,
    state: Arc<LiveState>,
    metrics: WebhookMetrics,
) -> Result<Running, Error> {
    let mut tasks = Vec::new();
    let store = match &config.certificates {
        Certificates::Mounted { cert, key } => {
            let pair = read_pair(cert, key)?;
            let store = CertStore::new(&pair, &cert.display().to_string())?;
            metrics.certificate_expires("serving", store.not_after());
            tasks.push(tokio::spawn(reload_files(
                cert.clone(),
                key.clone(),
                pair,
                store.clone(),
                metrics.clone(),
            )));
            store
        }
        Certificates::SelfManaged(cfg) => {
            let client = client.ok_or(Error::NoCluster)?;
            let (ca, serving) = first_certificate(&client, cfg).await;
            let store = CertStore::new(&serving.pair, "the serving certificate Secret")?;
            rotation::install(&store, &metrics, &ca, &serving)?;
            tasks.push(tokio::spawn(rotation::run(
                client,
                cfg.clone(),
                store.clone(),
                metrics.clone(),
                serving,
            )));
            store
        }
    };
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| Error::Bind {
            addr: config.addr,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: config.addr,
        source,
    })?;
    let webhook = Arc::new(Webhook {
        state,
        exclusions: Exclusions::new(config.own_namespace.as_deref()),
        metrics,
    });
    let tls = Arc::new(store.server_config()?);
    tasks.push(tokio::spawn(server::serve(
        listener,
        tls,
        server::router(webhook),
    )));
    tracing::info!(%local_addr, "admission webhook serving");
    Ok(Running {
        local_addr,
        store,
        tasks,
    })
}

/// The first round of the self-managed certificates, retried until it succeeds: without a
/// certificate there is nothing to serve, and `failurePolicy: Ignore` covers the wait.
async fn first_certificate(client: &Client, cfg: &SelfManaged) -> (certs::Ca, certs::Serving) {
    let mut delay = Duration::from_millis(500);
    loop {
        match rotation::ensure(client, cfg).await {
            Ok(pair) => return pair,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?delay, "cannot get the webhook certificate yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Serves mounted certificate files again when they change (cert-manager renews them in place).
async fn reload_files(
    cert: PathBuf,
    key: PathBuf,
    mut served: PemPair,
    store: Arc<CertStore>,
    metrics: WebhookMetrics,
) {
    loop {
        tokio::time::sleep(FILE_POLL).await;
        let pair = match read_pair(&cert, &key) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the mounted certificate; serving the previous one");
                continue;
            }
        };
        if pair == served {
            continue;
        }
        match store.replace(&pair, &cert.display().to_string()) {
            Ok(()) => {
                tracing::info!(cert = %cert.display(), "serving the renewed mounted certificate");
                metrics.certificate_expires("serving", store.not_after());
                served = pair;
            }
            // Files are often written one after the other: the next poll sees both.
            Err(e) => tracing::warn!(error = %e, "the mounted certificate is not usable yet"),
        }
    }
}
