//! The controller's cache of its own ReadinessReports, fed by a watch and by the answers to its
//! own writes. A watch event older than a write's answer never replaces it, so the controller
//! does not mistake its own earlier version for a user's edit and write again.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock};

use futures::StreamExt;
use kube::Api;
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher as watch_stream};

use super::report::MANAGED_BY;
use crate::api::ReadinessReport;
use crate::live::watch::{Sink, WatchObserver};
use crate::live::{LiveState, WorkloadKey, read, strip_metadata, write};
use crate::workload::WorkloadKind;

/// Reports by (namespace, name).
#[derive(Debug, Default)]
pub struct ReportCache {
    reports: RwLock<BTreeMap<(String, String), Arc<ReadinessReport>>>,
}

fn key_of(report: &ReadinessReport) -> (String, String) {
    (
        report.metadata.namespace.clone().unwrap_or_default(),
        report.metadata.name.clone().unwrap_or_default(),
    )
}

fn version(report: &ReadinessReport) -> Option<u64> {
    report.metadata.resource_version.as_deref()?.parse().ok()
}

/// The workload a report judges.
pub fn workload_of(report: &ReadinessReport) -> Option<WorkloadKey> {
    let r = &report.spec.workload_ref;
    let kind = WorkloadKind::from_kind(&r.kind)?;
    let namespace = report.metadata.namespace.as_deref().unwrap_or(&r.namespace);
    Some(WorkloadKey::new(kind, namespace, &r.name))
}

impl ReportCache {
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<ReadinessReport>> {
        read(&self.reports)
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Stores a report unless the cache already holds a newer version of it.
    pub fn upsert(&self, mut report: ReadinessReport) {
        strip_metadata(&mut report.metadata);
        let key = key_of(&report);
        let mut reports = write(&self.reports);
        if let Some(held) = reports.get(&key)
            && let (Some(held), Some(new)) = (version(held), version(&report))
            && held > new
        {
            return;
        }
        reports.insert(key, Arc::new(report));
    }

    pub fn remove(&self, namespace: &str, name: &str) {
        write(&self.reports).remove(&(namespace.to_string(), name.to_string()));
    }

    pub fn all(&self) -> Vec<Arc<ReadinessReport>> {
        read(&self.reports).values().cloned().collect()
    }

    fn retain(&self, keep: &HashSet<(String, String)>) -> Vec<Arc<ReadinessReport>> {
        let mut reports = write(&self.reports);
        let gone: Vec<(String, String)> = reports
            .keys()
            .filter(|k| !keep.contains(*k))
            .cloned()
            .collect();
        gone.iter().filter_map(|k| reports.remove(k)).collect()
    }
}

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
                        touched.extend(workload_of(&gone));
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
            if sink.send(key).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ReadinessReportSpec, WorkloadRef};

    fn report(rv: &str, score: u8) -> ReadinessReport {
        let mut r = ReadinessReport::new(
            "deployment-api",
            ReadinessReportSpec {
                workload_ref: WorkloadRef {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    namespace: "shop".into(),
                    name: "api".into(),
                },
            },
        );
        r.metadata.namespace = Some("shop".into());
        r.metadata.resource_version = Some(rv.into());
        r.status = Some(crate::api::Report {
            score,
            ..Default::default()
        });
        r
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let cache = ReportCache::default();
        cache.upsert(report("12", 50));
        cache.upsert(report("11", 40));
        let held = cache.get("shop", "deployment-api").unwrap();
        assert_eq!(held.status.as_ref().unwrap().score, 50);
        cache.upsert(report("13", 60));
        assert_eq!(
            cache
                .get("shop", "deployment-api")
                .unwrap()
                .status
                .as_ref()
                .unwrap()
                .score,
            60
        );
        assert_eq!(
            workload_of(&held).unwrap().to_string(),
            "Deployment/shop/api"
        );
    }
}
