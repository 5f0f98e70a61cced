//! Runs the catalogue on a workload: exemptions, scoring and the verdict. Pure: no I/O. The
//! engine's one error is an unusable policy ([`PolicyError`]); a check that panics becomes a
//! skipped finding that says so, wherever the engine runs.

mod policy;
mod related;
mod score;

use std::any::Any;
use std::borrow::Cow;
use std::panic::AssertUnwindSafe;

use jiff::Timestamp;

pub use policy::{CheckSetting, CompiledPolicy, PolicyError, PolicySet};
pub use score::{score, verdict};

use crate::api::{
    CheckResult, EXEMPT_ANNOTATION, EXEMPT_REASON_ANNOTATION, Finding, Report, Summary,
};
use crate::checks::{Check, Ctx, Out, catalogue};
use crate::workload::Workload;
use crate::world::World;

/// The checks a workload's annotation exempts it from.
struct Exemption<'a> {
    all: bool,
    ids: Vec<&'a str>,
    reason: Option<&'a str>,
}

impl<'a> Exemption<'a> {
    fn read(workload: &Workload<'a>, policy: &CompiledPolicy) -> Option<Exemption<'a>> {
        if !policy.exemptions.enabled {
            return None;
        }
        let annotations = workload.annotations();
        let list = annotations.get(EXEMPT_ANNOTATION)?;
        let reason = annotations
            .get(EXEMPT_REASON_ANNOTATION)
            .map(|r| r.trim())
            .filter(|r| !r.is_empty());
        if policy.exemptions.require_reason && reason.is_none() {
            return None;
        }
        let ids: Vec<&str> = list
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        Some(Exemption {
            all: ids.iter().any(|i| i.eq_ignore_ascii_case("all")),
            ids,
            reason,
        })
    }

    fn covers(&self, id: &str) -> bool {
        self.all || self.ids.contains(&id)
    }

    fn message(&self) -> String {
        match self.reason {
            Some(r) => format!("exempt by annotation {EXEMPT_ANNOTATION}: {r}"),
            None => format!("exempt by annotation {EXEMPT_ANNOTATION} (no reason given)"),
        }
    }
}

/// The text of a caught panic.
pub fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs one check, writing its findings after `findings`' current end. A check that panics is
/// a bug, not a verdict on the workload: whatever it wrote is dropped for one skipped finding
/// that says so, and the other checks still run, offline as in the cluster. Returns whether the
/// check said it passed.
fn run_check(
    check: &'static Check,
    ctx: &Ctx<'_>,
    setting: CheckSetting,
    findings: &mut Vec<Finding>,
) -> bool {
    let start = findings.len();
    let mut out = Out::new(check, setting.severity, setting.severity_fixed, findings);
    let ran = std::panic::catch_unwind(AssertUnwindSafe(|| (check.run)(ctx, &mut out)));
    let passed = out.passed();
    let Err(panic) = ran else {
        return passed;
    };
    findings.truncate(start);
    findings.push(Finding {
        check_id: Cow::Borrowed(check.id),
        severity: setting.severity,
        result: CheckResult::Skip,
        category: check.category,
        message: format!(
            "not judged: the check failed with an internal error ({}); this is a bug in \
             prodready, please report it",
            panic_message(&*panic)
        )
        .into(),
        remediation: Cow::Borrowed(""),
        container: None,
        object: None,
    });
    false
}

/// Judges one workload against the World under a policy, at time `now`.
pub fn evaluate(
    workload: &Workload<'_>,
    world: &World,
    policy: &CompiledPolicy,
    now: Timestamp,
) -> Report {
    let related = related::related(workload, world);
    let ctx = Ctx {
        workload,
        world,
        related: &related,
        params: &policy.params,
        now,
    };
    let exemption = Exemption::read(workload, policy);
    let mut findings: Vec<Finding> = Vec::with_capacity(16);
    let mut passed: Vec<Cow<'static, str>> = Vec::with_capacity(catalogue().len());
    // (weight earned x2, weight possible x2): warnings earn half.
    let mut earned = 0u32;
    let mut possible = 0u32;
    for (i, check) in catalogue().iter().enumerate() {
        let setting = policy.settings[i];
        if !setting.enabled {
            continue;
        }
        let start = findings.len();
        let passed_here = run_check(check, &ctx, setting, &mut findings);
        let wrote = findings.len() > start;
        let own = &mut findings[start..];
        if own.len() > 1 {
            own.sort_by(|a, b| a.container.cmp(&b.container));
        }
        if !wrote && !passed_here {
            continue; // not applicable
        }
        if setting.exemptible
            && let Some(ex) = exemption.as_ref().filter(|e| e.covers(check.id))
        {
            findings.truncate(start);
            findings.push(Finding {
                check_id: Cow::Borrowed(check.id),
                severity: setting.severity,
                result: CheckResult::Skip,
                category: check.category,
                message: ex.message().into(),
                remediation: Cow::Borrowed(""),
                container: None,
                object: None,
            });
            continue;
        }
        let own = &findings[start..];
        let worst_fail = own
            .iter()
            .filter(|f| f.result == CheckResult::Fail)
            .map(|f| f.severity)
            .max();
        let warned = own.iter().any(|f| f.result == CheckResult::Warn);
        let weight = 2 * worst_fail.unwrap_or(setting.severity).weight();
        if worst_fail.is_some() {
            possible += weight;
        } else if warned {
            possible += weight;
            earned += weight / 2;
        } else if own.iter().all(|f| f.result == CheckResult::Skip) && wrote {
            // Skipped: outside the score.
        } else {
            possible += weight;
            earned += weight;
            passed.push(Cow::Borrowed(check.id));
            // Passing findings are not kept; a check that passed cannot also have skipped.
            findings.truncate(start);
        }
    }
    // Findings sort by outcome, severity, catalogue order, then container. They were written
    // check by check in catalogue order (`Out` writes its own check's ID, nothing else), each
    // check's sorted by container, so a stable sort on outcome and severity alone gives that
    // order without looking up an ID per comparison.
    findings.sort_by(|a, b| {
        result_rank(a.result)
            .cmp(&result_rank(b.result))
            .then(b.severity.cmp(&a.severity))
    });
    let mut summary = Summary {
        passed: passed.len() as u32,
        ..Summary::default()
    };
    for f in &findings {
        match f.result {
            CheckResult::Fail => summary.count_failure(f.severity),
            CheckResult::Warn => summary.warnings += 1,
            CheckResult::Skip => summary.skipped += 1,
            CheckResult::Pass => {}
        }
    }
    Report {
        workload: workload.reference(),
        score: score(earned, possible),
        verdict: verdict(&findings),
        summary,
        findings,
        passed_checks: passed,
        release: workload.helm_release().map(str::to_string),
        ..Report::default()
    }
}

fn result_rank(r: CheckResult) -> u8 {
    match r {
        CheckResult::Fail => 0,
        CheckResult::Warn => 1,
        CheckResult::Skip => 2,
        CheckResult::Pass => 3,
    }
}

#[cfg(test)]
mod tests {
    use crate::api::{CheckPolicy, CheckResult, ExemptionPolicy, ReadinessPolicySpec, Severity};
    use crate::testing::{findings, judge, judge_with, outcome};

    fn deployment(annotations: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\n  \
             annotations: {{{annotations}}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: api}}}}\n  \
             template:\n    metadata: {{labels: {{app: api}}}}\n    spec:\n      containers:\n      \
             - {{name: app, image: api:1.0}}\n"
        )
    }

    #[test]
    fn an_exemption_skips_the_check_with_its_reason() {
        let r = judge(&deployment(
            "prodready.dev/exempt: \"probe-readiness-missing, availability-single-replica\", \
             prodready.dev/exempt-reason: \"batch host, tracked in OPS-1\"",
        ));
        for id in ["probe-readiness-missing", "availability-single-replica"] {
            let f = findings(&r, id);
            assert_eq!(f.len(), 1, "{id}");
            assert_eq!(f[0].result, CheckResult::Skip);
            assert_eq!(
                f[0].message,
                "exempt by annotation prodready.dev/exempt: batch host, tracked in OPS-1"
            );
        }
        assert_eq!(outcome(&r, "probe-liveness-missing"), "fail");
    }

    #[test]
    fn exempting_all_skips_every_applicable_check_and_scores_100() {
        let r = judge(&deployment("prodready.dev/exempt: all"));
        assert!(r.findings.iter().all(|f| f.result == CheckResult::Skip));
        assert!(r.findings.iter().any(|f| f.message
            == "exempt by annotation prodready.dev/exempt (no reason given)"));
        assert_eq!(r.score, 100);
        assert_eq!(r.summary.failing_total(), 0);
    }

    #[test]
    fn policies_decide_which_exemptions_count() {
        let exempt = deployment("prodready.dev/exempt: probe-readiness-missing");
        let off = ReadinessPolicySpec {
            exemptions: ExemptionPolicy {
                enabled: false,
                require_reason: false,
            },
            ..Default::default()
        };
        assert_eq!(
            outcome(&judge_with(&exempt, &off), "probe-readiness-missing"),
            "fail"
        );
        let need_reason = ReadinessPolicySpec {
            exemptions: ExemptionPolicy {
                enabled: true,
                require_reason: true,
            },
            ..Default::default()
        };
        assert_eq!(
            outcome(
                &judge_with(&exempt, &need_reason),
                "probe-readiness-missing"
            ),
            "fail"
        );
        let not_exemptible = ReadinessPolicySpec {
            checks: vec![CheckPolicy {
                id: "probe-readiness-missing".into(),
                exemptible: Some(false),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            outcome(
                &judge_with(&exempt, &not_exemptible),
                "probe-readiness-missing"
            ),
            "fail"
        );
    }

    #[test]
    fn a_policy_switches_checks_off_and_overrides_severities() {
        let policy = ReadinessPolicySpec {
            checks: vec![
                CheckPolicy {
                    id: "probe-liveness-missing".into(),
                    enabled: Some(false),
                    ..Default::default()
                },
                CheckPolicy {
                    id: "probe-readiness-missing".into(),
                    severity: Some(Severity::Critical),
                    ..Default::default()
                },
            ],
            disabled_categories: vec![crate::api::Category::Helm],
            ..Default::default()
        };
        let r = judge_with(&deployment(""), &policy);
        assert_eq!(outcome(&r, "probe-liveness-missing"), "n/a");
        assert_eq!(
            findings(&r, "probe-readiness-missing")[0].severity,
            Severity::Critical
        );
        assert_eq!(r.verdict, crate::api::Verdict::NotReady);
        assert!(
            r.findings
                .iter()
                .all(|f| f.category != crate::api::Category::Helm)
        );
    }

    #[test]
    fn score_verdict_and_summary_follow_the_findings() {
        let r = judge(&deployment(""));
        let failing = r
            .findings
            .iter()
            .filter(|f| f.result == CheckResult::Fail)
            .count() as u32;
        assert_eq!(r.summary.failing_total(), failing);
        assert!(r.score < 100);
        // Worst first: failures by severity, then warnings, then skips.
        let ranks: Vec<(u8, std::cmp::Reverse<Severity>)> = r
            .findings
            .iter()
            .map(|f| (super::result_rank(f.result), std::cmp::Reverse(f.severity)))
            .collect();
        let mut sorted = ranks.clone();
        sorted.sort();
        assert_eq!(ranks, sorted);
        assert_eq!(r.summary.passed as usize, r.passed_checks.len());
    }

    #[test]
    fn a_check_that_panics_is_a_skipped_finding_and_the_others_still_run() {
        use crate::api::{Category, Needs};
        use crate::checks::{Check, Ctx, Out};
        static BROKEN: Check = Check {
            id: "probe-readiness-missing",
            category: Category::Probes,
            severity: Severity::High,
            needs: Needs::Object,
            title: "a check with a bug",
            remediation: "none",
            run: |_: &Ctx<'_>, out: &mut Out<'_>| {
                out.fail("half written");
                panic!("index out of bounds");
            },
        };
        let yaml = deployment("");
        let mut inventory = crate::input::Inventory::new();
        inventory.add_text("d.yaml", &yaml);
        let view = inventory.workloads[0].object.view().unwrap();
        let policy = super::CompiledPolicy::builtin();
        let related = super::related::related(&view, &inventory.world);
        let ctx = Ctx {
            workload: &view,
            world: &inventory.world,
            related: &related,
            params: &policy.params,
            now: crate::testing::now(),
        };
        let mut findings = Vec::new();
        let setting = policy.settings[0];
        assert!(!super::run_check(&BROKEN, &ctx, setting, &mut findings));
        assert_eq!(
            findings.len(),
            1,
            "what it wrote before panicking is dropped"
        );
        assert_eq!(findings[0].result, CheckResult::Skip);
        assert_eq!(
            findings[0].message,
            "not judged: the check failed with an internal error (index out of bounds); this \
             is a bug in prodready, please report it"
        );
    }

    #[test]
    fn an_unknown_check_in_a_policy_is_an_error() {
        let policy = ReadinessPolicySpec {
            checks: vec![CheckPolicy {
                id: "probe-readiness-mising".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let err = super::CompiledPolicy::compile(Some("typo".into()), &policy).unwrap_err();
        assert_eq!(
            err.to_string(),
            "policy typo: unknown check id \"probe-readiness-mising\" in spec.checks (see `prodready checks`)"
        );
    }
}
