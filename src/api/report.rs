use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Category, CheckResult, Severity, Verdict};

/// Which workload a report judges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// The kind a namespace-level report names as its subject.
pub const NAMESPACE_KIND: &str = "Namespace";

impl WorkloadRef {
    /// The subject of a namespace's own report: the objects in it that no workload owns.
    pub fn namespace(namespace: &str) -> WorkloadRef {
        WorkloadRef {
            api_version: "v1".to_string(),
            kind: NAMESPACE_KIND.to_string(),
            namespace: namespace.to_string(),
            name: namespace.to_string(),
        }
    }

    /// Whether this is a namespace's own report rather than a workload's.
    pub fn is_namespace(&self) -> bool {
        self.kind == NAMESPACE_KIND && self.api_version == "v1"
    }

    /// `Kind/namespace/name`, the way messages and logs name a workload; `Namespace/name` for
    /// a namespace.
    pub fn display(&self) -> String {
        if self.is_namespace() {
            return format!("{}/{}", self.kind, self.name);
        }
        format!("{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// One check's outcome on one workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub check_id: Cow<'static, str>,
    pub severity: Severity,
    pub result: CheckResult,
    pub category: Category,
    /// What is wrong, naming the container, port, path or object at fault.
    pub message: Cow<'static, str>,
    /// What a person can do about it.
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub remediation: Cow<'static, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The related object at fault, as `Kind/name` (an Ingress, a ConfigMap, a claim...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
}

/// Failing findings by severity, with the other outcomes counted beside them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
    pub info: u32,
    #[serde(default)]
    pub warnings: u32,
    #[serde(default)]
    pub passed: u32,
    #[serde(default)]
    pub skipped: u32,
}

impl Summary {
    pub fn failing(&self, severity: Severity) -> u32 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    pub fn failing_total(&self) -> u32 {
        self.critical + self.high + self.medium + self.low + self.info
    }

    pub(crate) fn count_failure(&mut self, severity: Severity) {
        match severity {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Info => self.info += 1,
        }
    }
}

impl std::ops::AddAssign for Summary {
    fn add_assign(&mut self, other: Summary) {
        self.critical += other.critical;
        self.high += other.high;
        self.medium += other.medium;
        self.low += other.low;
        self.info += other.info;
        self.warnings += other.warnings;
        self.passed += other.passed;
        self.skipped += other.skipped;
    }
}

/// Where a workload was read from (offline audits only): what SARIF and error messages point at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceLocation {
    pub file: String,
    /// 1-based index of the document in its file or stream.
    pub document: usize,
    /// 1-based line where the document starts.
    pub line: usize,
}

/// The verdict on one workload. The CLI prints it and the cluster stores it as the status of a
/// ReadinessReport: one type, so what a pipeline sees is what the cluster sees.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub workload: WorkloadRef,
    /// 0-100: the severity-weighted share of applicable checks that pass.
    #[schemars(range(max = 100))]
    pub score: u8,
    pub verdict: Verdict,
    pub summary: Summary,
    /// Failing, warning and skipped checks, worst first.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// IDs of the checks that passed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passed_checks: Vec<Cow<'static, str>>,
    /// The Helm release the workload belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLocation>,
    /// The workload generation this report judged (controller only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Hash of everything the evaluation read; unchanged input, unchanged report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated: Option<Time>,
    /// Conditions, among them the summary condition `ProductionReady`.
    // A map keyed by type, so server-side apply merges conditions as the API conventions want.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}

impl Report {
    /// Failing findings at or above `severity`.
    pub fn failing_at_or_above(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |f| f.result == CheckResult::Fail && f.severity >= severity)
    }
}
