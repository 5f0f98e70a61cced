//! Shared by the integration tests: `mod support;` at the top of a test file.

// Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code, unused_imports)]

pub mod command;
pub mod controlplane;
pub mod golden;
pub mod https;
pub mod skip;
pub mod wait;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

use prodready::api::{CheckResult, ReadinessReport};

pub use command::{ok, promtool, run};
pub use controlplane::{ControlPlane, controlplane, dedicated_controlplane};
pub use wait::eventually;

/// A CRD that keeps whatever it is given: enough for objects of the prometheus-operator kinds.
pub fn open_crd(group: &str, kind: &str, plural: &str) -> CustomResourceDefinition {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(),
                      "listKind": format!("{kind}List")},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object",
                    "x-kubernetes-preserve-unknown-fields": true}}}]
        }
    }))
    .unwrap()
}

/// A check's result on a report: `Pass` when it is among the passed checks, else the result of
/// its finding; `None` when the report does not mention it.
pub fn result_of(report: &ReadinessReport, check: &str) -> Option<CheckResult> {
    let status = report.status.as_ref()?;
    if status.passed_checks.iter().any(|c| c == check) {
        return Some(CheckResult::Pass);
    }
    status
        .findings
        .iter()
        .find(|f| f.check_id == check)
        .map(|f| f.result)
}
