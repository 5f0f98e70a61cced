//! OpenReports (`openreports.io/v1alpha1` Report): what Policy Reporter and the other tools of the
//! policy-report ecosystem read. One mapping from a `Report`, used by `--format openreports` and
//! by the operator alike, so a Report applied from a pipeline and one the operator keeps say the
//! same thing.
//!
//! A workload's report becomes a Report in its namespace whose `scope` is the workload; the
//! namespace-level report (workload kind `Namespace`) becomes a Report whose scope is the
//! Namespace (cluster-scoped: no namespace in the reference) and whose results name the object at
//! fault in `resources`. Every result carries `source: prodready`: Policy Reporter reads a
//! Report's source from its results.

use std::collections::BTreeMap;
use std::io::{self, Write};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Audit, RenderOptions};
use crate::api::names::{
    KIND_LABEL, MANAGED_BY, NAME_LABEL, RELEASE_LABEL, label_value, report_name,
};
use crate::api::{CheckResult, Finding, Report, Severity};

pub const GROUP: &str = "openreports.io";
pub const VERSION: &str = "v1alpha1";
pub const API_VERSION: &str = "openreports.io/v1alpha1";
pub const KIND: &str = "Report";
pub const PLURAL: &str = "reports";
/// The `source` of every result: what Policy Reporter filters and groups by.
pub const SOURCE: &str = "prodready";
/// Policy Reporter uses this property as the result's identity instead of hashing its message,
/// so a reworded message (a restart count that moved) is not announced as a new result.
pub const RESULT_ID: &str = "resultID";

/// A Report as prodready writes it. Fields it never sets (`configuration`, `scopeSelector`) are
/// not modelled: reading someone's edit of them back drops them, which is what the operator
/// compares against.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenReport {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    #[serde(flatten)]
    pub body: Body,
}

/// Everything below `metadata`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Body {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ObjectReference>,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub summary: ReportSummary,
    #[serde(default)]
    pub results: Vec<ReportResult>,
}

/// Results by outcome. prodready never writes `error`: a check it cannot judge says `skip`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    #[serde(default)]
    pub pass: u32,
    #[serde(default)]
    pub fail: u32,
    #[serde(default)]
    pub warn: u32,
    #[serde(default)]
    pub error: u32,
    #[serde(default)]
    pub skip: u32,
}

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportResult {
    #[serde(default)]
    pub source: String,
    /// The check ID.
    pub policy: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub category: String,
    /// The severity of a failing, warning or skipped check under the policy that judged it.
    /// Passed checks carry none: which severity a policy gave them is not in the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub result: CheckResult,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// `remediation`, `container`, `object` and `resultID`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// The object at fault, in the namespace-level report only (in a workload's report the
    /// subject is the scope).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<ResultTimestamp>,
}

/// A protobuf-style timestamp, as the CRD defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultTimestamp {
    pub seconds: i64,
    pub nanos: i32,
}

impl From<Timestamp> for ResultTimestamp {
    fn from(t: Timestamp) -> ResultTimestamp {
        ResultTimestamp {
            seconds: t.as_second(),
            nanos: t.subsec_nanosecond(),
        }
    }
}

/// `prodready-<kind>-<name>`: the Report's name, apart from the names other tools give theirs.
pub fn name_of(kind: &str, name: &str) -> String {
    report_name(&format!("{SOURCE}-{kind}"), name)
}

/// The Report for `report`. `uid` is the judged object's (the workload's, or the Namespace's):
/// with it the scope names that very object and the Report is owned by it, so the garbage
/// collector removes it with the object. `timestamp` stamps every result; `None` leaves them
/// unstamped (the operator compares content without them).
pub fn report(report: &Report, uid: Option<&str>, timestamp: Option<Timestamp>) -> OpenReport {
    let w = &report.workload;
    let namespace_level = w.is_namespace();
    let mut labels = BTreeMap::from([
        (MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string()),
        (KIND_LABEL.to_string(), label_value(&w.kind)),
        (NAME_LABEL.to_string(), label_value(&w.name)),
    ]);
    if let Some(release) = &report.release {
        labels.insert(RELEASE_LABEL.to_string(), label_value(release));
    }
    let owner = uid.map(|uid| OwnerReference {
        api_version: w.api_version.clone(),
        kind: w.kind.clone(),
        name: w.name.clone(),
        uid: uid.to_string(),
        controller: Some(false),
        block_owner_deletion: Some(false),
    });
    let scope = ObjectReference {
        api_version: Some(w.api_version.clone()),
        kind: Some(w.kind.clone()),
        // A Namespace is not in a namespace.
        namespace: (!namespace_level).then(|| w.namespace.clone()),
        name: Some(w.name.clone()),
        uid: uid.map(str::to_string),
        ..ObjectReference::default()
    };
    let stamp = timestamp.map(ResultTimestamp::from);
    let mut ids = ResultIds::new(&scope);
    let mut results = Vec::with_capacity(report.findings.len() + report.passed_checks.len());
    for f in &report.findings {
        results.push(finding_result(
            f,
            &w.namespace,
            namespace_level,
            stamp,
            &mut ids,
        ));
    }
    for id in &report.passed_checks {
        results.push(passed_result(id, stamp, &mut ids));
    }
    let summary = summary_of(&results);
    OpenReport {
        api_version: API_VERSION.to_string(),
        kind: KIND.to_string(),
        metadata: ObjectMeta {
            name: Some(name_of(&w.kind, &w.name)),
            namespace: Some(w.namespace.clone()),
            labels: Some(labels),
            owner_references: owner.map(|o| vec![o]),
            ..ObjectMeta::default()
        },
        body: Body {
            scope: Some(scope),
            source: SOURCE.to_string(),
            summary,
            results,
        },
    }
}

fn finding_result(
    f: &Finding,
    namespace: &str,
    namespace_level: bool,
    stamp: Option<ResultTimestamp>,
    ids: &mut ResultIds,
) -> ReportResult {
    let mut properties = BTreeMap::new();
    if !f.remediation.is_empty() {
        properties.insert("remediation".to_string(), f.remediation.to_string());
    }
    if let Some(container) = &f.container {
        properties.insert("container".to_string(), container.clone());
    }
    if let Some(object) = &f.object {
        properties.insert("object".to_string(), object.clone());
    }
    properties.insert(
        RESULT_ID.to_string(),
        ids.next(
            &f.check_id,
            f.result,
            f.container.as_deref(),
            f.object.as_deref(),
        ),
    );
    let resources = match (&f.object, namespace_level) {
        (Some(object), true) => object_reference(object, namespace).into_iter().collect(),
        _ => Vec::new(),
    };
    ReportResult {
        source: SOURCE.to_string(),
        policy: f.check_id.to_string(),
        category: f.category.as_str().to_string(),
        severity: Some(f.severity),
        result: f.result,
        message: f.message.to_string(),
        properties,
        resources,
        timestamp: stamp,
    }
}

/// A passed check is kept in the report as its ID only: its category and what it looks for
/// come from the catalogue. An ID the catalogue does not know (a report written by another
/// version) still gets its result.
fn passed_result(id: &str, stamp: Option<ResultTimestamp>, ids: &mut ResultIds) -> ReportResult {
    let check = crate::checks::by_id(id);
    let properties = BTreeMap::from([(
        RESULT_ID.to_string(),
        ids.next(id, CheckResult::Pass, None, None),
    )]);
    ReportResult {
        source: SOURCE.to_string(),
        policy: id.to_string(),
        category: check.map_or_else(String::new, |c| c.category.as_str().to_string()),
        severity: None,
        result: CheckResult::Pass,
        message: match check {
            Some(c) => format!("Passed: checked for \"{}\" and found none.", c.title),
            None => "Passed.".to_string(),
        },
        properties,
        resources: Vec::new(),
        timestamp: stamp,
    }
}

/// `Kind/name` (a finding's `object`) as a reference in `namespace`; the API version is not
/// known from the kind alone and is left out rather than guessed.
fn object_reference(object: &str, namespace: &str) -> Option<ObjectReference> {
    let (kind, name) = object.split_once('/')?;
    (!kind.is_empty() && !name.is_empty()).then(|| ObjectReference {
        kind: Some(kind.to_string()),
        namespace: Some(namespace.to_string()),
        name: Some(name.to_string()),
        ..ObjectReference::default()
    })
}

fn summary_of(results: &[ReportResult]) -> ReportSummary {
    let mut s = ReportSummary::default();
    for r in results {
        match r.result {
            CheckResult::Pass => s.pass += 1,
            CheckResult::Fail => s.fail += 1,
            CheckResult::Warn => s.warn += 1,
            CheckResult::Skip => s.skip += 1,
        }
    }
    s
}

/// Stable identities for the results of one Report: the same check, outcome, container and
/// object give the same ID from one evaluation to the next; a second finding with all of these
/// equal gets its own.
struct ResultIds {
    scope: String,
    seen: Vec<String>,
}

impl ResultIds {
    fn new(scope: &ObjectReference) -> ResultIds {
        let part = |s: &Option<String>| s.as_deref().unwrap_or("").to_string();
        ResultIds {
            scope: [
                part(&scope.uid),
                part(&scope.api_version),
                part(&scope.kind),
                part(&scope.namespace),
                part(&scope.name),
            ]
            .join("\u{0}"),
            seen: Vec::new(),
        }
    }

    fn next(
        &mut self,
        check: &str,
        result: CheckResult,
        container: Option<&str>,
        object: Option<&str>,
    ) -> String {
        let identity = [
            check,
            result.as_str(),
            container.unwrap_or(""),
            object.unwrap_or(""),
        ]
        .join("\u{0}");
        let repeat = self.seen.iter().filter(|s| **s == identity).count();
        let mut hasher = Sha256::new();
        hasher.update(self.scope.as_bytes());
        hasher.update([0]);
        hasher.update(identity.as_bytes());
        if repeat > 0 {
            hasher.update(format!("\u{0}{repeat}").as_bytes());
        }
        self.seen.push(identity);
        hasher.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// `--format openreports`: a `v1` List of Reports, one per report, as YAML that
/// `kubectl apply -f` takes. Each Report is rendered alone and written as it is, so a large
/// audit never holds the whole document.
pub fn write(audit: &Audit, options: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let now = options.now.unwrap_or_else(Timestamp::now);
    out.write_all(b"apiVersion: v1\nkind: List\n")?;
    if audit.reports.is_empty() {
        return out.write_all(b"items: []\n");
    }
    out.write_all(b"items:\n")?;
    for r in &audit.reports {
        let text =
            serde_yaml_ng::to_string(&report(r, None, Some(now))).map_err(io::Error::other)?;
        // A list item: the first line after `- `, the others indented to match. Indenting every
        // line alike keeps block scalars (multi-line messages) intact.
        for (i, line) in text.lines().enumerate() {
            let prefix: &[u8] = match (i, line.is_empty()) {
                (0, _) => b"- ",
                (_, true) => b"",
                _ => b"  ",
            };
            out.write_all(prefix)?;
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::WorkloadRef;
    use crate::testing::judge;

    fn finding(
        id: &'static str,
        severity: Severity,
        result: CheckResult,
        container: Option<&str>,
        object: Option<&str>,
    ) -> Finding {
        Finding {
            check_id: id.into(),
            severity,
            result,
            category: crate::checks::by_id(id).unwrap().category,
            message: format!("{id} message").into(),
            remediation: format!("{id} remediation").into(),
            container: container.map(str::to_string),
            object: object.map(str::to_string),
        }
    }

    fn at() -> Timestamp {
        "2026-06-01T12:00:00.5Z".parse().unwrap()
    }

    #[test]
    fn a_workload_report_maps_every_result_and_counts_them() {
        let mut judged = judge(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n\
             spec:\n  replicas: 1\n  selector: {matchLabels: {app: api}}\n  template:\n    \
             metadata: {labels: {app: api}}\n    spec:\n      containers:\n      - name: app\n        \
             image: registry.example.com/api:1.0\n",
        );
        judged.release = Some("shop".into());
        let open = report(&judged, Some("u-1"), Some(at()));
        assert_eq!(open.api_version, "openreports.io/v1alpha1");
        assert_eq!(open.kind, "Report");
        assert_eq!(
            open.metadata.name.as_deref(),
            Some("prodready-deployment-api")
        );
        assert_eq!(open.metadata.namespace.as_deref(), Some("shop"));
        let labels = open.metadata.labels.as_ref().unwrap();
        assert_eq!(labels["app.kubernetes.io/managed-by"], "prodready");
        assert_eq!(labels["prodready.dev/workload-kind"], "Deployment");
        assert_eq!(labels["prodready.dev/workload-name"], "api");
        assert_eq!(labels["prodready.dev/release"], "shop");
        let owner = &open.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("Deployment", "api", "u-1")
        );
        let scope = open.body.scope.as_ref().unwrap();
        assert_eq!(scope.api_version.as_deref(), Some("apps/v1"));
        assert_eq!(scope.kind.as_deref(), Some("Deployment"));
        assert_eq!(scope.namespace.as_deref(), Some("shop"));
        assert_eq!(scope.name.as_deref(), Some("api"));
        assert_eq!(scope.uid.as_deref(), Some("u-1"));
        assert_eq!(open.body.source, "prodready");

        // One result per finding and per passed check, the counts matching the report's.
        let s = &judged.summary;
        assert_eq!(
            open.body.summary,
            ReportSummary {
                pass: s.passed,
                fail: s.failing_total(),
                warn: s.warnings,
                error: 0,
                skip: s.skipped,
            }
        );
        assert_eq!(
            open.body.results.len(),
            judged.findings.len() + judged.passed_checks.len()
        );
        assert!(open.body.results.iter().all(|r| r.source == "prodready"
            && r.timestamp
                == Some(ResultTimestamp {
                    seconds: at().as_second(),
                    nanos: 500_000_000
                })));

        let single = open
            .body
            .results
            .iter()
            .find(|r| r.policy == "availability-single-replica")
            .unwrap();
        let f = judged
            .findings
            .iter()
            .find(|f| f.check_id == "availability-single-replica")
            .unwrap();
        assert_eq!(single.result, CheckResult::Fail);
        assert_eq!(single.severity, Some(Severity::High));
        assert_eq!(single.category, "Availability");
        assert_eq!(single.message, f.message);
        assert_eq!(single.properties["remediation"], f.remediation);
        assert!(single.resources.is_empty(), "the subject is the scope");

        let passed = open
            .body
            .results
            .iter()
            .find(|r| r.policy == "security-privileged")
            .unwrap();
        assert_eq!(passed.result, CheckResult::Pass);
        assert_eq!(passed.severity, None);
        assert_eq!(passed.category, "Security");
        assert_eq!(
            passed.message,
            "Passed: checked for \"A container runs privileged\" and found none."
        );
    }

    #[test]
    fn severities_and_outcomes_keep_their_names() {
        let judged = Report {
            workload: WorkloadRef {
                api_version: "apps/v1".into(),
                kind: "StatefulSet".into(),
                namespace: "db".into(),
                name: "pg".into(),
            },
            findings: vec![
                finding(
                    "security-privileged",
                    Severity::Critical,
                    CheckResult::Fail,
                    Some("pg"),
                    None,
                ),
                finding(
                    "probe-readiness-missing",
                    Severity::High,
                    CheckResult::Warn,
                    Some("pg"),
                    None,
                ),
                finding(
                    "security-writable-root-fs",
                    Severity::Medium,
                    CheckResult::Fail,
                    Some("pg"),
                    None,
                ),
                finding(
                    "security-seccomp",
                    Severity::Low,
                    CheckResult::Fail,
                    Some("pg"),
                    None,
                ),
                finding(
                    "network-no-policy",
                    Severity::Info,
                    CheckResult::Skip,
                    None,
                    None,
                ),
            ],
            ..Report::default()
        };
        let open = report(&judged, None, None);
        let yaml = serde_yaml_ng::to_string(&open).unwrap();
        for (policy, severity, result) in [
            ("security-privileged", "critical", "fail"),
            ("probe-readiness-missing", "high", "warn"),
            ("security-writable-root-fs", "medium", "fail"),
            ("security-seccomp", "low", "fail"),
            ("network-no-policy", "info", "skip"),
        ] {
            let value: serde_json::Value = serde_json::to_value(
                open.body
                    .results
                    .iter()
                    .find(|r| r.policy == policy)
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(value["severity"], severity, "{policy}");
            assert_eq!(value["result"], result, "{policy}");
        }
        assert_eq!(
            open.body.summary,
            ReportSummary {
                pass: 0,
                fail: 3,
                warn: 1,
                error: 0,
                skip: 1
            }
        );
        // Without a uid: no owner, no uid in the scope; without a time: no timestamps.
        assert!(open.metadata.owner_references.is_none());
        assert!(!yaml.contains("uid"), "{yaml}");
        assert!(!yaml.contains("timestamp"), "{yaml}");
        assert_eq!(open.body.results[0].properties["container"], "pg");
        assert!(!open.body.results[4].properties.contains_key("container"));
    }

    #[test]
    fn result_ids_are_stable_and_distinct() {
        let judged = Report {
            workload: WorkloadRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: "shop".into(),
                name: "api".into(),
            },
            findings: vec![
                finding(
                    "security-run-as-root",
                    Severity::High,
                    CheckResult::Fail,
                    Some("app"),
                    None,
                ),
                finding(
                    "security-run-as-root",
                    Severity::High,
                    CheckResult::Fail,
                    Some("sidecar"),
                    None,
                ),
                finding(
                    "exposure-ingress-no-tls",
                    Severity::High,
                    CheckResult::Fail,
                    None,
                    Some("Ingress/a"),
                ),
                finding(
                    "exposure-ingress-no-tls",
                    Severity::High,
                    CheckResult::Fail,
                    None,
                    Some("Ingress/a"),
                ),
            ],
            passed_checks: vec!["security-privileged".into()],
            ..Report::default()
        };
        let ids = |r: &Report, uid: Option<&str>| -> Vec<String> {
            report(r, uid, None)
                .body
                .results
                .iter()
                .map(|r| r.properties[RESULT_ID].clone())
                .collect()
        };
        let first = ids(&judged, None);
        let mut unique = first.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), first.len(), "{first:?}");
        // A reworded message keeps the identity; a new outcome or another object does not.
        let mut reworded = judged.clone();
        reworded.findings[0].message = "another wording".into();
        assert_eq!(ids(&reworded, None), first);
        let mut fixed = judged.clone();
        fixed.findings[0].result = CheckResult::Warn;
        assert_ne!(ids(&fixed, None)[0], first[0]);
        assert_eq!(ids(&fixed, None)[1..], first[1..]);
        // The same workload name recreated (another uid) is another subject.
        assert_ne!(ids(&judged, Some("u-2"))[0], ids(&judged, Some("u-1"))[0]);
    }

    /// The namespace-level report (objects no workload owns): a Report in the namespace whose
    /// scope is the Namespace itself, with no namespace of its own, and whose results name
    /// the object at fault.
    #[test]
    fn a_namespace_report_is_scoped_to_the_namespace() {
        let judged = Report {
            workload: WorkloadRef {
                api_version: "v1".into(),
                kind: "Namespace".into(),
                namespace: "shop".into(),
                name: "shop".into(),
            },
            findings: vec![finding(
                "exposure-ingress-no-tls",
                Severity::High,
                CheckResult::Fail,
                None,
                Some("Ingress/storefront"),
            )],
            passed_checks: vec!["network-no-policy".into()],
            ..Report::default()
        };
        let open = report(&judged, Some("ns-uid"), Some(at()));
        assert_eq!(
            open.metadata.name.as_deref(),
            Some("prodready-namespace-shop")
        );
        assert_eq!(open.metadata.namespace.as_deref(), Some("shop"));
        assert_eq!(
            open.body.scope,
            Some(ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Namespace".into()),
                name: Some("shop".into()),
                uid: Some("ns-uid".into()),
                ..ObjectReference::default()
            })
        );
        let owner = &open.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (
                owner.api_version.as_str(),
                owner.kind.as_str(),
                owner.name.as_str()
            ),
            ("v1", "Namespace", "shop")
        );
        let failing = &open.body.results[0];
        assert_eq!(
            failing.resources,
            vec![ObjectReference {
                kind: Some("Ingress".into()),
                namespace: Some("shop".into()),
                name: Some("storefront".into()),
                ..ObjectReference::default()
            }]
        );
        assert_eq!(failing.properties["object"], "Ingress/storefront");
        assert!(open.body.results[1].resources.is_empty());
        assert_eq!(open.body.summary.fail, 1);
        assert_eq!(open.body.summary.pass, 1);
    }

    #[test]
    fn the_yaml_list_reads_back_as_the_reports() {
        let judged = judge(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n\
             spec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: \
             {app: api}}\n    spec:\n      containers:\n      - name: app\n        image: \
             \"registry.example.com/api:1.0\"\n        env: [{name: NOTE, value: \"two\\nlines\"}]\n",
        );
        let mut audit = Audit::default();
        let options = RenderOptions {
            now: Some(at()),
            ..RenderOptions::default()
        };
        let render = |audit: &Audit| {
            let mut out = Vec::new();
            write(audit, &options, &mut out).unwrap();
            let value: serde_json::Value = serde_yaml_ng::from_slice(&out).unwrap();
            value
        };
        assert_eq!(
            render(&audit),
            serde_json::json!({"apiVersion": "v1", "kind": "List", "items": []})
        );
        let mut other = judged.clone();
        other.workload.name = "web".into();
        other.findings[0].message = "line one\nline two: with a colon\n  indented".into();
        audit.reports = vec![judged.clone(), other.clone()];
        let list = render(&audit);
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        for (item, r) in items.iter().zip([&judged, &other]) {
            let back: OpenReport = serde_json::from_value(item.clone()).unwrap();
            assert_eq!(back, report(r, None, Some(at())));
        }
    }
}
