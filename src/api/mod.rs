//! Types that cross the boundary of the process: what the CLI prints, what the cluster stores
//! (ReadinessReport, ReadinessPolicy) and what the webhook answers with.

pub mod names;
mod policy;
mod readiness_report;
mod report;
mod vocabulary;

pub use policy::{
    CheckPolicy, ExemptionPolicy, Parameters, ReadinessPolicy, ReadinessPolicySpec, WebhookMode,
    WebhookPolicy,
};
pub use readiness_report::{ReadinessReport, ReadinessReportSpec};
pub use report::{Finding, NAMESPACE_KIND, Report, SourceLocation, Summary, WorkloadRef};
pub use vocabulary::{Category, CheckResult, Needs, Severity, Verdict};

/// The API group of every prodready resource.
pub const GROUP: &str = "prodready.dev";
/// Annotation listing the checks a workload is exempt from (`all` for every check).
pub const EXEMPT_ANNOTATION: &str = "prodready.dev/exempt";
/// Annotation giving the reason of an exemption; shown in the skipped finding.
pub const EXEMPT_REASON_ANNOTATION: &str = "prodready.dev/exempt-reason";
