//! The watch of the controller's own ReadinessReports: keeps the report cache current, and sends
//! every workload whose report changed (a user's edit or deletion too) to be judged again, which
//! restores what the controller wants.

use std::collections::HashSet;
use std::sync::Arc;

use futures::StreamExt;
use kube::Api;
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher as watch_stream};

use super::report_cache::{ReportCache, key_of, workload_of};
use crate::api::ReadinessReport;
use crate::api::names::MANAGED_BY;
use crate::live::watch::{Sink, WatchObserver};
use crate::live::{LiveState, WorkloadKey};

/// The name the report watch syncs under.
pub const WATCH_NAME: &str = "ReadinessReport";

/// Watches the controller's reports: each change (a user's edit or deletion too) sends the
/// workload to be judged again, which restores what the controller wants.
pub async fn run(
    api: Api<ReadinessReport>,
    cache: Arc<ReportCache>,
    state: Arc<LiveState>,
    sink: Sink,
    observer: Arc<dyn WatchObserver>,
) {
    let config = watcher::Config::default().labels(&format!("{}={}", MANAGED_BY.0, MANAGED_BY.1));
    let mut stream = watch_stream(api, config).default_backoff().boxed();
    let mut relisted: Option<HashSet<(String, String)>> = None;
    let mut listed_once = false;
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                observer.error(WATCH_NAME);
                tracing::warn!(watch = WATCH_NAME, error = %e, "watch error; retrying with backoff");
                continue;
            }
        };
        let mut touched: Vec<WorkloadKey> = Vec::new();
        match event {
            Event::Init => {
                if listed_once {
                    observer.restart(WATCH_NAME);
                }
                listed_once = true;
                relisted = Some(HashSet::new());
            }
            Event::InitApply(report) => {
                if let Some(seen) = relisted.as_mut() {
                    seen.insert(key_of(&report));
                }
                touched.extend(workload_of(&report));
                cache.upsert(report);
            }
            Event::InitDone => {
                if let Some(seen) = relisted.take() {
                    for gone in cache.retain(&seen) {
                        touched.extend(gone.workload());
                    }
                }
                state.sync.mark_synced(WATCH_NAME);
            }
            Event::Apply(report) => {
                touched.extend(workload_of(&report));
                cache.upsert(report);
            }
            Event::Delete(report) => {
                let (ns, name) = key_of(&report);
                cache.remove(&ns, &name);
                touched.extend(workload_of(&report));
            }
        }
        for key in touched {
            if sink.send(key).await.is_err() {
                return;
            }
        }
    }
}
