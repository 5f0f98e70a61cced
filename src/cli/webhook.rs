//! `prodready webhook` (the admission webhook with watches of its own) and `prodready run` (the
//! controller and the webhook in one process, judging against one shared set of watches).

use std::sync::Arc;
use std::time::Duration;

use super::controller::{config as controller_config, runtime, shutdown_signal};
use super::{EXIT_INPUT, EXIT_OK, Error, RunArgs, WebhookArgs, WebhookServingArgs, cluster};
use crate::controller::Metrics;
use crate::controller::{self, Context};
use crate::health::Health;
use crate::live::LiveState;
use crate::live::watch::{self, Scope, WatchObserver};
use crate::webhook::certs::Lifetimes;
use crate::webhook::{self, Certificates, SelfManaged, WebhookMetrics};

/// The webhook's configuration from its flags.
fn webhook_config(args: &WebhookServingArgs) -> webhook::Config {
    let namespace = args
        .webhook_namespace
        .clone()
        .unwrap_or_else(|| "default".to_string());
    let certificates = match (&args.tls_cert_file, &args.tls_key_file) {
        (Some(cert), Some(key)) => Certificates::Mounted {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ => Certificates::SelfManaged(SelfManaged {
            hosts: SelfManaged::service_hosts(
                &args.webhook_service,
                &namespace,
                &args.webhook_hosts,
            ),
            namespace: namespace.clone(),
            ca_secret: args.ca_secret.clone(),
            cert_secret: args.cert_secret.clone(),
            webhook_config: Some(args.webhook_config_name.clone()),
            lifetimes: Lifetimes {
                ca: args.ca_validity,
                serving: args.cert_validity,
                // The apiserver sees a new CA bundle within a second or two; a minute is
                // ample, and short-lived test certificates get a tenth of their life.
                propagation: Duration::from_secs(60).min(args.cert_validity / 10),
            },
            check_every: args.cert_check_interval,
        }),
    };
    webhook::Config {
        addr: args.webhook_addr,
        certificates,
        // Known in a cluster (POD_NAMESPACE); outside one, no namespace is prodready's.
        own_namespace: args.webhook_namespace.clone(),
    }
}

/// The webhook alone: the World from its own watches, which nothing else consumes.
struct Standalone {
    state: Arc<LiveState>,
    metrics: Arc<Metrics>,
}

impl Health for Standalone {
    fn render_metrics(&self) -> String {
        self.metrics.render([], false, None)
    }

    fn waiting_for(&self) -> Option<String> {
        self.state.sync.waiting_for()
    }
}

/// The World and policies from manifests instead of watches: the webhook without a cluster,
/// for benchmarks and for trying a policy out.
fn load_world(state: &LiveState, paths: &[std::path::PathBuf]) -> Result<(), Error> {
    let mut inventory = crate::input::Inventory::new();
    for path in paths {
        inventory.add_path(path);
    }
    let count = inventory.errors.len();
    if let Some(first) = inventory.errors.into_iter().next() {
        return Err(Error::Unreadable {
            first: Box::new(first),
            count,
        });
    }
    let policies = inventory
        .policies
        .iter()
        .map(|(p, _)| crate::engine::CompiledPolicy::from_resource(p))
        .collect::<Result<Vec<_>, _>>()?;
    *crate::live::write(&state.world) = inventory.world;
    *crate::live::write(&state.policies) = crate::engine::PolicySet::new(policies);
    state.sync.expect(["manifests".to_string()]);
    state.sync.mark_synced("manifests");
    Ok(())
}

pub fn run_webhook(args: &WebhookArgs) -> u8 {
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let state = LiveState::new();
        let metrics = Arc::new(Metrics::new());
        let webhook_metrics = WebhookMetrics::register(metrics.registry());
        let client = if args.world_from.is_empty() {
            let client = match cluster::client(&args.cluster).await {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_INPUT;
                }
            };
            // Changes would re-evaluate reports; the webhook judges on request: drop the keys.
            let (sink, mut keys) = tokio::sync::mpsc::channel(1024);
            tokio::spawn(async move { while keys.recv().await.is_some() {} });
            let observer: Arc<dyn WatchObserver> = metrics.clone();
            let (names, _watches) =
                watch::spawn_all(&client, &Scope::default(), state.clone(), sink, observer).await;
            state.sync.expect(names);
            Some(client)
        } else {
            if let Err(e) = load_world(&state, &args.world_from) {
                eprintln!("error: {e}");
                return EXIT_INPUT;
            }
            None
        };
        let listener = match tokio::net::TcpListener::bind(args.http_addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: serving HTTP on {}: {e}", args.http_addr);
                return EXIT_INPUT;
            }
        };
        let health: Arc<dyn Health> = Arc::new(Standalone {
            state: state.clone(),
            metrics,
        });
        tokio::spawn(crate::health::serve(listener, health));
        let running = match webhook::start(
            client,
            webhook_config(&args.serving),
            state,
            webhook_metrics,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_INPUT;
            }
        };
        shutdown_signal().await;
        running.stop();
        EXIT_OK
    })
}

pub fn run_both(args: &RunArgs) -> u8 {
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let client = match cluster::client(&args.controller.cluster).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_INPUT;
            }
        };
        let ctx = Context::new(client.clone(), controller_config(&args.controller));
        let webhook_metrics = WebhookMetrics::register(ctx.metrics.registry());
        // The webhook waits for its first certificate in the background; the controller does
        // not wait for it. A webhook that cannot serve at all stops the process.
        let (failed_tx, failed_rx) = tokio::sync::oneshot::channel::<String>();
        let config = webhook_config(&args.serving);
        let state = ctx.state.clone();
        let webhook = tokio::spawn(async move {
            match webhook::start(Some(client), config, state, webhook_metrics).await {
                Ok(running) => {
                    std::future::pending::<()>().await;
                    drop(running);
                }
                Err(e) => {
                    let _ = failed_tx.send(e.to_string());
                }
            }
        });
        let failure = Arc::new(std::sync::Mutex::new(None::<String>));
        let failure_slot = failure.clone();
        let shutdown = async move {
            tokio::select! {
                () = shutdown_signal() => {},
                Ok(e) = failed_rx => {
                    tracing::error!(error = %e, "the webhook cannot serve; stopping");
                    *failure_slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                }
            }
        };
        let result = controller::run_with(ctx, shutdown).await;
        webhook.abort();
        if let Some(e) = failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
            eprintln!("error: {e}");
            return EXIT_INPUT;
        }
        match result {
            Ok(()) => EXIT_OK,
            Err(e) => {
                tracing::error!(error = %e, "controller failed");
                eprintln!("error: {e}");
                EXIT_INPUT
            }
        }
    })
}
