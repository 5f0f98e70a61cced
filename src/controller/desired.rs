//! The ReadinessReport the controller wants for a workload, and what must be written to bring the
//! cluster's copy to it. Pure: the reconciler decides from this what to write.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference, Time};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::report_cache::{
    CachedReport, CachedStatus, LabelsDigest, StatusDigest, labels_digest, status_digest,
};
use crate::api::names::{CONDITION, KIND_LABEL, MANAGED_BY, NAME_LABEL, RELEASE_LABEL};
pub use crate::api::names::{label_value, report_name};
use crate::api::{ReadinessReportSpec, Report, Verdict, WorkloadRef};
use crate::workload::WorkloadObject;

/// What a report's content hashes over: everything judged, nothing about when.
pub fn content_hash(report: &Report) -> String {
    let mut content = report.clone();
    content.input_hash = None;
    content.last_evaluated = None;
    content.conditions.clear();
    let text = serde_json::to_string(&content).expect("a report serializes");
    let digest = Sha256::digest(text.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The report the controller wants.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub owner: Option<OwnerReference>,
    pub spec: ReadinessReportSpec,
    pub status: Report,
    pub digest: StatusDigest,
    pub labels_digest: LabelsDigest,
}

fn summary_message(report: &Report) -> String {
    let s = &report.summary;
    format!(
        "score {}: {} critical, {} high, {} medium, {} low failing",
        report.score, s.critical, s.high, s.medium, s.low
    )
}

/// Builds the desired report from an evaluation. `previous` is the status the cluster holds:
/// the condition keeps its `lastTransitionTime` while its status stays the same.
pub fn desired(
    workload: &WorkloadObject,
    mut report: Report,
    previous: Option<&CachedStatus>,
    now: Timestamp,
) -> Desired {
    let meta = workload.meta();
    let kind = workload.kind();
    let reference = WorkloadRef {
        api_version: kind.api_version().to_string(),
        kind: kind.as_str().to_string(),
        namespace: meta.namespace.clone().unwrap_or_else(|| "default".into()),
        name: meta.name.clone().unwrap_or_default(),
    };
    let mut labels = BTreeMap::from([
        (MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string()),
        (KIND_LABEL.to_string(), label_value(kind.as_str())),
        (NAME_LABEL.to_string(), label_value(&reference.name)),
    ]);
    if let Some(release) = &report.release {
        labels.insert(RELEASE_LABEL.to_string(), label_value(release));
    }
    let owner = meta.uid.as_ref().map(|uid| OwnerReference {
        api_version: kind.api_version().to_string(),
        kind: kind.as_str().to_string(),
        name: reference.name.clone(),
        uid: uid.clone(),
        controller: Some(false),
        block_owner_deletion: Some(false),
    });
    report.observed_generation = meta.generation;
    report.input_hash = Some(content_hash(&report));
    report.last_evaluated = Some(Time(now));
    let status = if report.verdict == Verdict::Ready {
        "True"
    } else {
        "False"
    };
    let last_transition_time = match previous.and_then(|p| p.condition.as_ref()) {
        Some((held, since)) if held == status => since.clone(),
        _ => Time(now),
    };
    report.conditions = vec![Condition {
        type_: CONDITION.to_string(),
        status: status.to_string(),
        reason: report.verdict.as_str().to_string(),
        message: summary_message(&report),
        observed_generation: meta.generation,
        last_transition_time,
    }];
    let digest = status_digest(&mut report);
    let labels_digest = labels_digest(&labels);
    Desired {
        name: report_name(kind.as_str(), &reference.name),
        namespace: reference.namespace.clone(),
        labels,
        owner,
        spec: ReadinessReportSpec {
            workload_ref: reference,
        },
        status: report,
        digest,
        labels_digest,
    }
}

/// What must be written to bring the cluster's report to the desired one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Writes {
    pub object: bool,
    pub status: bool,
}

impl Writes {
    pub fn any(self) -> bool {
        self.object || self.status
    }
}

pub fn writes_needed(desired: &Desired, existing: Option<&CachedReport>) -> Writes {
    let Some(existing) = existing else {
        return Writes {
            object: true,
            status: true,
        };
    };
    // The desired labels are exactly prodready's own, which are all the cache keeps.
    let labels_ok = existing.labels == desired.labels_digest;
    let owner_ok = match &desired.owner {
        Some(owner) => existing.owner_uids.contains(&owner.uid),
        None => true,
    };
    let object = !labels_ok || !owner_ok || existing.spec != desired.spec;
    let status = existing
        .status
        .as_ref()
        .is_none_or(|s| s.digest != desired.digest);
    Writes { object, status }
}

/// The server-side apply body of the object (metadata and spec).
pub fn object_patch(desired: &Desired) -> Value {
    let mut metadata = json!({
        "name": desired.name,
        "namespace": desired.namespace,
        "labels": desired.labels,
    });
    if let Some(owner) = &desired.owner {
        metadata["ownerReferences"] = json!([owner]);
    }
    json!({
        "apiVersion": "prodready.dev/v1alpha1",
        "kind": "ReadinessReport",
        "metadata": metadata,
        "spec": desired.spec,
    })
}

/// The server-side apply body of the status subresource.
pub fn status_patch(desired: &Desired) -> Value {
    json!({
        "apiVersion": "prodready.dev/v1alpha1",
        "kind": "ReadinessReport",
        "metadata": {"name": desired.name, "namespace": desired.namespace},
        "status": desired.status,
    })
}

/// An event to record on the workload when its verdict changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerdictChange {
    pub warning: bool,
    pub reason: &'static str,
    pub note: String,
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Ready => 0,
        Verdict::NeedsAttention => 1,
        Verdict::NotReady => 2,
    }
}

/// `ReadinessDegraded` when the verdict gets worse (naming the checks that newly fail),
/// `ReadinessRestored` when it comes back to Ready; nothing for a first report.
pub fn verdict_change(previous: Option<&CachedStatus>, current: &Report) -> Option<VerdictChange> {
    let previous = previous?;
    if previous.verdict == current.verdict {
        return None;
    }
    if current.verdict == Verdict::Ready {
        return Some(VerdictChange {
            warning: false,
            reason: "ReadinessRestored",
            note: format!(
                "verdict {} -> Ready ({})",
                previous.verdict,
                summary_message(current)
            ),
        });
    }
    if rank(current.verdict) < rank(previous.verdict) {
        return None;
    }
    let failing_before: Vec<&str> = previous.failing().collect();
    let mut new_failures: Vec<&str> = current
        .failing_at_or_above(crate::api::Severity::Info)
        .map(|f| f.check_id.as_ref())
        .filter(|id| !failing_before.contains(id))
        .collect();
    new_failures.dedup();
    let failures = if new_failures.is_empty() {
        String::new()
    } else {
        format!("; newly failing: {}", new_failures.join(", "))
    };
    Some(VerdictChange {
        warning: true,
        reason: "ReadinessDegraded",
        note: format!(
            "verdict {} -> {}{failures}",
            previous.verdict, current.verdict
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Category, CheckResult, Finding, ReadinessReport, Severity};

    fn workload() -> WorkloadObject {
        WorkloadObject::Deployment(
            serde_json::from_value(json!({
                "metadata": {"name": "api", "namespace": "shop", "uid": "u-1", "generation": 3,
                             "annotations": {"meta.helm.sh/release-name": "shop"}},
                "spec": {"selector": {}, "template": {"spec": {"containers": []}}}
            }))
            .unwrap(),
        )
    }

    fn report(verdict: Verdict, failing: &[&'static str]) -> Report {
        Report {
            score: 50,
            verdict,
            release: Some("shop".into()),
            findings: failing
                .iter()
                .map(|id| Finding {
                    check_id: (*id).into(),
                    severity: Severity::High,
                    result: CheckResult::Fail,
                    category: Category::Probes,
                    message: "m".into(),
                    remediation: "".into(),
                    container: None,
                    object: None,
                })
                .collect(),
            ..Report::default()
        }
    }

    fn stored(d: &Desired) -> ReadinessReport {
        let mut r = ReadinessReport::new(&d.name, d.spec.clone());
        r.metadata.namespace = Some(d.namespace.clone());
        r.metadata.labels = Some(d.labels.clone());
        r.metadata.owner_references = d.owner.clone().map(|o| vec![o]);
        // What the apiserver hands back: the status after a JSON round trip.
        r.status = Some(serde_json::from_value(serde_json::to_value(&d.status).unwrap()).unwrap());
        r
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn unchanged_content_needs_no_write_even_at_a_later_time() {
        let first = desired(
            &workload(),
            report(Verdict::NeedsAttention, &["a"]),
            None,
            at(1000),
        );
        assert_eq!(first.name, "deployment-api");
        assert_eq!(first.labels[RELEASE_LABEL], "shop");
        assert_eq!(first.status.observed_generation, Some(3));
        let cluster = CachedReport::of(stored(&first));
        let later = desired(
            &workload(),
            report(Verdict::NeedsAttention, &["a"]),
            cluster.status.as_ref(),
            at(5000),
        );
        assert!(!writes_needed(&later, Some(&cluster)).any());
        // Labels of someone else's are not prodready's business.
        let mut labelled = stored(&first);
        let labels = labelled.metadata.labels.as_mut().unwrap();
        labels.insert("team".into(), "shop".into());
        assert!(!writes_needed(&later, Some(&CachedReport::of(labelled.clone()))).any());
        // A release label the workload no longer has is removed.
        let unreleased = desired(
            &workload(),
            Report {
                release: None,
                ..report(Verdict::NeedsAttention, &["a"])
            },
            cluster.status.as_ref(),
            at(5000),
        );
        assert!(writes_needed(&unreleased, Some(&CachedReport::of(labelled))).object);
        // The condition keeps its transition time while its status holds.
        assert_eq!(
            later.status.conditions[0].last_transition_time,
            Time(at(1000))
        );
    }

    #[test]
    fn content_changes_user_edits_and_deletions_are_written() {
        let first = desired(&workload(), report(Verdict::Ready, &[]), None, at(1000));
        assert_eq!(first.status.conditions[0].status, "True");
        assert_eq!(
            writes_needed(&first, None),
            Writes {
                object: true,
                status: true
            }
        );
        let stored_first = stored(&first);
        let cluster = CachedReport::of(stored_first.clone());
        let worse = desired(
            &workload(),
            report(Verdict::NotReady, &["x"]),
            cluster.status.as_ref(),
            at(2000),
        );
        assert_eq!(
            writes_needed(&worse, Some(&cluster)),
            Writes {
                object: false,
                status: true
            }
        );
        assert_eq!(worse.status.conditions[0].status, "False");
        assert_eq!(
            worse.status.conditions[0].last_transition_time,
            Time(at(2000))
        );
        // A user's edit of one finding's message is restored too: the digest covers it.
        let mut reworded = stored(&worse);
        reworded.status.as_mut().unwrap().findings[0].message = "edited".into();
        assert_eq!(
            writes_needed(&worse, Some(&CachedReport::of(reworded))),
            Writes {
                object: false,
                status: true
            }
        );
        assert!(!writes_needed(&worse, Some(&CachedReport::of(stored(&worse)))).any());
        let mut edited = stored_first.clone();
        edited.status.as_mut().unwrap().score = 100;
        edited.metadata.labels.as_mut().unwrap().remove(NAME_LABEL);
        assert_eq!(
            writes_needed(&first, Some(&CachedReport::of(edited))),
            Writes {
                object: true,
                status: true
            }
        );
    }

    #[test]
    fn verdict_changes_make_events() {
        let ready = report(Verdict::Ready, &[]);
        let bad = report(Verdict::NotReady, &["network-no-policy", "probe-inverted"]);
        assert_eq!(verdict_change(None, &bad), None);
        let cached = |r: &Report| CachedStatus::of(r.clone());
        let degraded = verdict_change(Some(&cached(&ready)), &bad).unwrap();
        assert!(degraded.warning);
        assert_eq!(degraded.reason, "ReadinessDegraded");
        assert!(
            degraded
                .note
                .contains("newly failing: network-no-policy, probe-inverted"),
            "{}",
            degraded.note
        );
        let restored = verdict_change(Some(&cached(&bad)), &ready).unwrap();
        assert_eq!(restored.reason, "ReadinessRestored");
        assert!(!restored.warning);
        assert_eq!(verdict_change(Some(&cached(&bad)), &bad), None);
    }
}
