//! What the controller knows of the ReadinessReports the cluster holds: the cache of its own
//! reports, fed by a watch (`report_watch`) and by the answers to its own writes, and the labels
//! and digests it compares them by. A watch event older than a write's answer never replaces it,
//! so the controller does not mistake its own earlier version for a user's edit and write again.
//!
//! It keeps a digest of each report, not the report: what reconcile compares, what events and
//! /metrics read. A full report holds every finding's message and remediation (about 12 KiB
//! decoded), which at ten thousand workloads would be most of the operator's memory.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock};

use std::hash::{Hash, Hasher};

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use sha2::{Digest, Sha256};

use crate::api::{
    CheckResult, ReadinessReport, ReadinessReportSpec, Report, Severity, Summary, Verdict,
};
use crate::live::{WorkloadKey, read, write};
use crate::workload::WorkloadKind;

use crate::api::names::{CONDITION, OWN_LABELS};

/// A hash of a set of labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelsDigest(u64);

/// Hashes labels given in key order (as a `BTreeMap` iterates).
pub fn labels_digest<'a>(
    labels: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> LabelsDigest {
    let mut hasher = std::hash::DefaultHasher::new();
    for (key, value) in labels {
        (key, value).hash(&mut hasher);
    }
    LabelsDigest(hasher.finish())
}

/// A hash of a status without what moves on every evaluation (when it ran, when the condition
/// last moved): equal digests need no write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusDigest([u8; 16]);

/// Hashes a status as [`StatusDigest`] says. The times are taken out for the hashing and put
/// back, rather than hashing a copy: a copy of a status is every finding's message again.
pub fn status_digest(status: &mut Report) -> StatusDigest {
    let evaluated = status.last_evaluated.take();
    let moved: Vec<Time> = status
        .conditions
        .iter_mut()
        .map(|c| std::mem::replace(&mut c.last_transition_time, Time(Timestamp::UNIX_EPOCH)))
        .collect();
    let mut hasher = Sha256::new();
    serde_json::to_writer(&mut hasher, &*status).expect("a report serializes");
    status.last_evaluated = evaluated;
    for (c, time) in status.conditions.iter_mut().zip(moved) {
        c.last_transition_time = time;
    }
    let digest = hasher.finalize();
    let mut out = [0; 16];
    out.copy_from_slice(&digest[..16]);
    StatusDigest(out)
}

/// A finding as the cache keeps it: which check, how bad, and the outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedFinding {
    /// Borrowed from the catalogue for every known check: no allocation per finding.
    pub check_id: Cow<'static, str>,
    pub severity: Severity,
    pub result: CheckResult,
}

impl CachedFinding {
    /// A failing finding of a check whose failure is an incident now (crash loops, OOM kills,
    /// unavailable replicas...): what production alerts page on.
    pub fn is_live_failure(&self) -> bool {
        self.result == CheckResult::Fail
            && crate::checks::by_id(&self.check_id).is_some_and(|c| c.is_incident())
    }
}

/// What the cache keeps of a report's status.
#[derive(Clone, Debug, PartialEq)]
pub struct CachedStatus {
    /// Of everything but the evaluation and transition times: equal digests need no write.
    pub digest: StatusDigest,
    pub score: u8,
    pub verdict: Verdict,
    pub summary: Summary,
    pub last_evaluated: Option<Time>,
    /// The summary condition's status (`True`/`False`) and when it last moved.
    pub condition: Option<(String, Time)>,
    /// Failing and warning findings, in the report's order.
    pub findings: Vec<CachedFinding>,
}

impl CachedStatus {
    /// Reads a status, hashing it whole before its messages are dropped.
    pub fn of(mut status: Report) -> CachedStatus {
        let digest = status_digest(&mut status);
        let condition = status
            .conditions
            .iter()
            .find(|c| c.type_ == CONDITION)
            .map(|c| (c.status.clone(), c.last_transition_time.clone()));
        let findings = status
            .findings
            .iter()
            .filter(|f| matches!(f.result, CheckResult::Fail | CheckResult::Warn))
            .map(|f| CachedFinding {
                check_id: match crate::checks::by_id(&f.check_id) {
                    Some(check) => Cow::Borrowed(check.id),
                    None => Cow::Owned(f.check_id.to_string()),
                },
                severity: f.severity,
                result: f.result,
            })
            .collect();
        CachedStatus {
            digest,
            score: status.score,
            verdict: status.verdict,
            summary: status.summary,
            last_evaluated: status.last_evaluated,
            condition,
            findings,
        }
    }

    /// IDs of the failing checks, worst first.
    pub fn failing(&self) -> impl Iterator<Item = &str> {
        self.findings
            .iter()
            .filter(|f| f.result == CheckResult::Fail)
            .map(|f| f.check_id.as_ref())
    }
}

/// What the cache keeps of a report.
#[derive(Clone, Debug, PartialEq)]
pub struct CachedReport {
    pub namespace: String,
    pub name: String,
    resource_version: Option<u64>,
    pub spec: ReadinessReportSpec,
    /// The labels prodready sets, as the cluster holds them (other labels are not its
    /// business), hashed: they are only ever compared with the labels wanted.
    pub labels: LabelsDigest,
    /// UIDs of the report's owners.
    pub owner_uids: Vec<String>,
    pub status: Option<CachedStatus>,
}

impl CachedReport {
    pub fn of(report: ReadinessReport) -> CachedReport {
        let meta = report.metadata;
        let labels = labels_digest(
            meta.labels
                .iter()
                .flatten()
                .filter(|(k, _)| OWN_LABELS.contains(&k.as_str())),
        );
        CachedReport {
            namespace: meta.namespace.unwrap_or_default(),
            name: meta.name.unwrap_or_default(),
            resource_version: meta
                .resource_version
                .as_deref()
                .and_then(|v| v.parse().ok()),
            spec: report.spec,
            labels,
            owner_uids: meta
                .owner_references
                .unwrap_or_default()
                .into_iter()
                .map(|o| o.uid)
                .collect(),
            status: report.status.map(CachedStatus::of),
        }
    }

    /// The workload the report judges.
    pub fn workload(&self) -> Option<WorkloadKey> {
        let r = &self.spec.workload_ref;
        let kind = WorkloadKind::from_kind(&r.kind)?;
        let namespace = if self.namespace.is_empty() {
            &r.namespace
        } else {
            &self.namespace
        };
        Some(WorkloadKey::new(kind, namespace, &r.name))
    }
}

/// Reports by (namespace, name).
#[derive(Debug, Default)]
pub struct ReportCache {
    reports: RwLock<BTreeMap<(String, String), Arc<CachedReport>>>,
}

pub(super) fn key_of(report: &ReadinessReport) -> (String, String) {
    (
        report.metadata.namespace.clone().unwrap_or_default(),
        report.metadata.name.clone().unwrap_or_default(),
    )
}

/// The workload a report judges.
pub fn workload_of(report: &ReadinessReport) -> Option<WorkloadKey> {
    let r = &report.spec.workload_ref;
    let kind = WorkloadKind::from_kind(&r.kind)?;
    let namespace = report.metadata.namespace.as_deref().unwrap_or(&r.namespace);
    Some(WorkloadKey::new(kind, namespace, &r.name))
}

impl ReportCache {
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<CachedReport>> {
        read(&self.reports)
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Stores a report unless the cache already holds a newer version of it.
    pub fn upsert(&self, report: ReadinessReport) {
        let report = CachedReport::of(report);
        let key = (report.namespace.clone(), report.name.clone());
        let mut reports = write(&self.reports);
        if let Some(held) = reports.get(&key)
            && let (Some(held), Some(new)) = (held.resource_version, report.resource_version)
            && held > new
        {
            return;
        }
        reports.insert(key, Arc::new(report));
    }

    pub fn remove(&self, namespace: &str, name: &str) {
        write(&self.reports).remove(&(namespace.to_string(), name.to_string()));
    }

    pub fn all(&self) -> Vec<Arc<CachedReport>> {
        read(&self.reports).values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        read(&self.reports).len()
    }

    pub fn is_empty(&self) -> bool {
        read(&self.reports).is_empty()
    }

    pub(super) fn retain(&self, keep: &HashSet<(String, String)>) -> Vec<Arc<CachedReport>> {
        let mut reports = write(&self.reports);
        let gone: Vec<(String, String)> = reports
            .keys()
            .filter(|k| !keep.contains(*k))
            .cloned()
            .collect();
        gone.iter().filter_map(|k| reports.remove(k)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::names::MANAGED_BY;
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
        assert_eq!(held.workload().unwrap().to_string(), "Deployment/shop/api");
    }

    #[test]
    fn the_cache_keeps_a_digest_not_the_report() {
        let mut full = report("7", 40);
        full.metadata.labels = Some(
            [
                (MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string()),
                ("team".to_string(), "shop".to_string()),
            ]
            .into(),
        );
        let finding = |id: &str, result| crate::api::Finding {
            check_id: Cow::Owned(id.to_string()),
            severity: Severity::High,
            result,
            category: crate::api::Category::Probes,
            message: "a long message".into(),
            remediation: "a long remediation".into(),
            container: None,
            object: None,
        };
        full.status.as_mut().unwrap().findings = vec![
            finding("probe-readiness-missing", CheckResult::Fail),
            finding("not-a-check", CheckResult::Warn),
            finding("probe-liveness-missing", CheckResult::Skip),
        ];
        let cached = CachedReport::of(full);
        assert_eq!(
            cached.labels,
            labels_digest([(&MANAGED_BY.0.to_string(), &MANAGED_BY.1.to_string())]),
            "only prodready's own labels"
        );
        let status = cached.status.as_ref().unwrap();
        let ids: Vec<&str> = status
            .findings
            .iter()
            .map(|f| f.check_id.as_ref())
            .collect();
        assert_eq!(ids, ["probe-readiness-missing", "not-a-check"]);
        assert!(
            matches!(status.findings[0].check_id, Cow::Borrowed(_)),
            "a known check's ID is the catalogue's"
        );
        assert_eq!(
            status.failing().collect::<Vec<_>>(),
            ["probe-readiness-missing"]
        );
    }
}
