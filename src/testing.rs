//! Helpers for unit tests of checks: judge a workload written as YAML, with the other documents
//! of the same text as its World.

use jiff::Timestamp;

use crate::api::{CheckResult, Finding, ReadinessPolicySpec, Report};
use crate::engine::{CompiledPolicy, evaluate};
use crate::input::Inventory;

/// The evaluation time of every test: fixtures date their live state relative to it.
pub const NOW: &str = "2026-06-01T12:00:00Z";

pub fn now() -> Timestamp {
    NOW.parse().expect("valid timestamp")
}

/// Judges the first workload in `yaml` under the default policy.
pub fn judge(yaml: &str) -> Report {
    judge_with(yaml, &ReadinessPolicySpec::default())
}

/// Judges the first workload in `yaml` under a policy.
pub fn judge_with(yaml: &str, policy: &ReadinessPolicySpec) -> Report {
    judge_input(yaml, policy, false)
}

/// Judges the first workload in `yaml`, the text declared the whole of its namespaces
/// (`--complete`).
pub fn judge_complete(yaml: &str) -> Report {
    judge_input(yaml, &ReadinessPolicySpec::default(), true)
}

fn judge_input(yaml: &str, policy: &ReadinessPolicySpec, complete: bool) -> Report {
    let mut inv = Inventory::new();
    inv.add_text("test.yaml", yaml);
    if complete {
        inv.assume_complete();
    }
    assert!(
        inv.errors.is_empty(),
        "fixture does not parse: {:?}",
        inv.errors
    );
    let first = inv.workloads.first().expect("fixture has a workload");
    let view = first.object.view().expect("workload has a pod spec");
    let policy = CompiledPolicy::compile(Some("test".into()), policy).expect("valid policy");
    evaluate(&view, &inv.world, &policy, now())
}

/// The findings a check wrote.
pub fn findings<'a>(report: &'a Report, check: &str) -> Vec<&'a Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.check_id == check)
        .collect()
}

/// A check's outcome on the report: `pass`, `fail`, `warn`, `skip`, or `n/a` when the check
/// did not apply.
pub fn outcome(report: &Report, check: &str) -> &'static str {
    if report.passed_checks.iter().any(|c| c == check) {
        return "pass";
    }
    let own = findings(report, check);
    if own.iter().any(|f| f.result == CheckResult::Fail) {
        "fail"
    } else if own.iter().any(|f| f.result == CheckResult::Warn) {
        "warn"
    } else if !own.is_empty() {
        "skip"
    } else {
        "n/a"
    }
}

/// Messages of a check's findings, in report order.
pub fn messages(report: &Report, check: &str) -> Vec<String> {
    findings(report, check)
        .into_iter()
        .map(|f| f.message.to_string())
        .collect()
}
