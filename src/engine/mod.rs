//! Runs the catalogue on a workload: exemptions, scoring and the verdict. Pure: no I/O.

mod policy;
mod score;

use std::borrow::Cow;

use jiff::Timestamp;

pub use policy::{CheckSetting, CompiledPolicy, PolicyError, PolicySet};
pub use score::{score, verdict};

use crate::api::{
    CheckResult, EXEMPT_ANNOTATION, EXEMPT_REASON_ANNOTATION, Finding, Report, Summary,
};
use crate::checks::{Ctx, Out, Related, catalogue};
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

/// Judges one workload against the World under a policy, at time `now`.
pub fn evaluate(
    workload: &Workload<'_>,
    world: &World,
    policy: &CompiledPolicy,
    now: Timestamp,
) -> Report {
    let related = Related::compute(workload, world);
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
        let mut out = Out::new(
            check,
            setting.severity,
            setting.severity_fixed,
            &mut findings,
        );
        (check.run)(&ctx, &mut out);
        let passed_here = out.passed();
        let wrote = findings.len() > start;
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
                message: ex.message(),
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
    let catalogue_order = |f: &Finding| crate::checks::index_of(&f.check_id).unwrap_or(usize::MAX);
    findings.sort_by(|a, b| {
        result_rank(a.result)
            .cmp(&result_rank(b.result))
            .then(b.severity.cmp(&a.severity))
            .then(catalogue_order(a).cmp(&catalogue_order(b)))
            .then(a.container.cmp(&b.container))
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
