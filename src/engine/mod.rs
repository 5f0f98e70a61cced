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
    CheckResult, EXEMPT_ANNOTATION, EXEMPT_REASON_ANNOTATION, Finding, Report, Summary, WorkloadRef,
};
use crate::checks::{Check, Ctx, NamespaceCtx, Out, Run, catalogue};
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

/// Runs one check through `run`, writing its findings after `findings`' current end. `None`
/// when the check is not of the kind being judged, else whether it said it passed. A check that
/// panics is a bug, not a verdict: whatever it wrote is dropped for one skipped finding that
/// says so, and the other checks still run, offline as in the cluster.
fn run_check(
    check: &'static Check,
    setting: CheckSetting,
    findings: &mut Vec<Finding>,
    run: &mut impl FnMut(&'static Check, &mut Out<'_>) -> bool,
) -> Option<bool> {
    let start = findings.len();
    let mut out = Out::new(check, setting.severity, setting.severity_fixed, findings);
    let ran = std::panic::catch_unwind(AssertUnwindSafe(|| run(check, &mut out)));
    let passed = out.passed();
    let panic = match ran {
        Ok(applies) => return applies.then_some(passed),
        Err(panic) => panic,
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
    Some(false)
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
    let judged = judge(policy, exemption.as_ref(), |check, out| match check.run {
        Run::Workload(run) => {
            run(&ctx, out);
            true
        }
        Run::Namespace(_) => false,
    });
    judged.into_report(
        workload.reference(),
        workload.helm_release().map(str::to_string),
    )
}

/// Judges the objects of a namespace that no workload owns (Services, Ingresses, policies,
/// budgets, autoscalers, releases) with the namespace-scoped checks. `None` when no such check
/// applies there: a namespace with nothing to say has no report.
pub fn evaluate_namespace(
    namespace: &str,
    world: &World,
    policy: &CompiledPolicy,
    now: Timestamp,
) -> Option<Report> {
    let ctx = NamespaceCtx {
        namespace,
        world,
        params: &policy.params,
        now,
    };
    let judged = judge(policy, None, |check, out| match check.run {
        Run::Namespace(run) => {
            run(&ctx, out);
            true
        }
        Run::Workload(_) => false,
    });
    (judged.applicable > 0).then(|| judged.into_report(WorkloadRef::namespace(namespace), None))
}

/// What running the catalogue left: the findings kept, the checks passed, the score's parts.
struct Judged {
    findings: Vec<Finding>,
    passed: Vec<Cow<'static, str>>,
    /// Weight earned and possible, both doubled (a warning earns half).
    earned: u32,
    possible: u32,
    /// Checks that applied: wrote a finding or passed.
    applicable: usize,
}

/// Runs every enabled check through `run`, which answers whether the check is of the kind being
/// judged (a workload check on a workload, a namespace check on a namespace), and keeps score.
fn judge(
    policy: &CompiledPolicy,
    exemption: Option<&Exemption<'_>>,
    mut run: impl FnMut(&'static Check, &mut Out<'_>) -> bool,
) -> Judged {
    let mut judged = Judged {
        findings: Vec::with_capacity(16),
        passed: Vec::with_capacity(catalogue().len()),
        earned: 0,
        possible: 0,
        applicable: 0,
    };
    let findings = &mut judged.findings;
    for (i, check) in catalogue().iter().enumerate() {
        let setting = policy.settings[i];
        if !setting.enabled {
            continue;
        }
        let start = findings.len();
        let Some(passed_here) = run_check(check, setting, findings, &mut run) else {
            continue;
        };
        let wrote = findings.len() > start;
        let own = &mut findings[start..];
        if own.len() > 1 {
            own.sort_by(|a, b| a.container.cmp(&b.container));
        }
        if !wrote && !passed_here {
            continue; // not applicable
        }
        judged.applicable += 1;
        if setting.exemptible
            && let Some(ex) = exemption.filter(|e| e.covers(check.id))
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
            judged.possible += weight;
        } else if warned {
            judged.possible += weight;
            judged.earned += weight / 2;
        } else if own.iter().all(|f| f.result == CheckResult::Skip) && wrote {
            // Skipped: outside the score.
        } else {
            judged.possible += weight;
            judged.earned += weight;
            judged.passed.push(Cow::Borrowed(check.id));
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
    judged
}

impl Judged {
    fn into_report(self, workload: WorkloadRef, release: Option<String>) -> Report {
        let mut summary = Summary {
            passed: self.passed.len() as u32,
            ..Summary::default()
        };
        for f in &self.findings {
            match f.result {
                CheckResult::Fail => summary.count_failure(f.severity),
                CheckResult::Warn => summary.warnings += 1,
                CheckResult::Skip => summary.skipped += 1,
                CheckResult::Pass => {}
            }
        }
        Report {
            workload,
            score: score(self.earned, self.possible),
            verdict: verdict(&self.findings),
            summary,
            findings: self.findings,
            passed_checks: self.passed,
            release,
            ..Report::default()
        }
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
             - {{name: app, image: api:1.0, ports: [{{containerPort: 8080}}]}}\n"
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
        use crate::checks::{Check, Ctx, Out, Run};
        static BROKEN: Check = Check {
            id: "probe-readiness-missing",
            category: Category::Probes,
            severity: Severity::High,
            needs: Needs::Object,
            title: "a check with a bug",
            remediation: "none",
            run: Run::Workload(|_: &Ctx<'_>, out: &mut Out<'_>| {
                out.fail("half written");
                panic!("index out of bounds");
            }),
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
        let mut run = |check: &'static Check, out: &mut Out<'_>| match check.run {
            Run::Workload(run) => {
                run(&ctx, out);
                true
            }
            Run::Namespace(_) => false,
        };
        assert_eq!(
            super::run_check(&BROKEN, setting, &mut findings, &mut run),
            Some(false)
        );
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
