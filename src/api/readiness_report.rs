use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Report, WorkloadRef};

/// The verdict on one top-level workload, kept current by the controller. Named
/// `<kind>-<name>` in the workload's namespace and owned by it.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "prodready.dev",
    version = "v1alpha1",
    kind = "ReadinessReport",
    doc = "The production-readiness verdict on one workload, kept current by prodready.",
    namespaced,
    status = "Report",
    shortname = "rdr",
    category = "prodready",
    printcolumn = r#"{"name":"Kind","type":"string","jsonPath":".spec.workloadRef.kind"}"#,
    printcolumn = r#"{"name":"Workload","type":"string","jsonPath":".spec.workloadRef.name"}"#,
    // The verdict is shown by default: a column `Ready True/False` would read like pod
    // readiness. The condition it summarises (what `kubectl wait` waits for) is in -o wide.
    printcolumn = r#"{"name":"Verdict","type":"string","jsonPath":".status.verdict"}"#,
    printcolumn = r#"{"name":"Score","type":"integer","jsonPath":".status.score"}"#,
    printcolumn = r#"{"name":"Critical","type":"integer","jsonPath":".status.summary.critical"}"#,
    printcolumn = r#"{"name":"High","type":"integer","jsonPath":".status.summary.high"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"ProductionReady","type":"string","priority":1,"jsonPath":".status.conditions[?(@.type==\"ProductionReady\")].status"}"#,
    printcolumn = r#"{"name":"Release","type":"string","priority":1,"jsonPath":".status.release"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessReportSpec {
    pub workload_ref: WorkloadRef,
}
