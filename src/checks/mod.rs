//! The check catalogue: one file per category, each check a small function plus its metadata.
//!
//! A check reads the workload (and, through `Ctx`, the World and the policy's parameters) and
//! writes its outcome to `Out`: nothing at all when it does not apply, otherwise pass, fail,
//! warn or skip. A check that fails in several places writes one failing finding per place.

mod availability;
mod config;
mod exposure;
mod helm;
mod images;
mod missing;
mod network;
mod observability;
mod probes;
mod resources;
mod rollout;
mod security;
mod serving;
mod storage;
pub mod util;
mod validity;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use jiff::Timestamp;

use crate::api::{Category, CheckResult, Finding, Needs, Parameters, Severity};
use crate::workload::Workload;
use crate::world::{
    HelmReleaseFacts, HpaFacts, IngressFacts, NetworkPolicyFacts, PdbFacts, PodFacts, RelatedKind,
    ServiceFacts, World,
};

/// A check: its catalogue entry and the function that judges.
pub struct Check {
    /// Stable ID, never renamed once shipped.
    pub id: &'static str,
    pub category: Category,
    /// Default severity; a policy may replace it.
    pub severity: Severity,
    pub needs: Needs,
    /// One line: what the check catches.
    pub title: &'static str,
    /// The default remediation, used when a finding gives none of its own.
    pub remediation: &'static str,
    pub run: Run,
}

/// What a check judges, and the function that judges it.
#[derive(Clone, Copy)]
pub enum Run {
    /// One workload and what relates to it: most checks.
    Workload(fn(&Ctx<'_>, &mut Out<'_>)),
    /// The objects of a namespace that no workload owns (a Service that routes nowhere, a
    /// release that left no workload): their findings go to the namespace's own report, each
    /// naming its object.
    Namespace(fn(&NamespaceCtx<'_>, &mut Out<'_>)),
}

impl Run {
    pub fn is_namespace(self) -> bool {
        matches!(self, Run::Namespace(_))
    }
}

/// The live checks whose failure is an incident now: something is broken at run time (a crash
/// loop, an OOM kill, replicas or endpoints missing, a claim or an image that does not arrive, a
/// failed release). Their failing findings are what the operator exports as live failures, the
/// series production alerts page on. Other live checks (a deprecated chart, autoscaling disabled
/// in a release's values, replicas on one node) are risks, judged like any other finding.
const INCIDENTS: &[&str] = &[
    "live-replicas-unavailable",
    "live-crashloop",
    "live-image-pull-failure",
    "live-oomkilled",
    "live-probe-failing",
    "live-pvc-pending",
    "live-service-no-endpoints",
    "helm-release-failed",
];

impl Check {
    /// Whether a failure of this check is an incident now (see [`INCIDENTS`]).
    pub fn is_incident(&self) -> bool {
        INCIDENTS.contains(&self.id)
    }
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check").field("id", &self.id).finish()
    }
}

static CATALOGUE: LazyLock<Vec<&'static Check>> = LazyLock::new(|| {
    [
        probes::CHECKS,
        security::CHECKS,
        availability::CHECKS,
        resources::CHECKS,
        storage::CHECKS,
        network::CHECKS,
        images::CHECKS,
        config::CHECKS,
        exposure::CHECKS,
        observability::CHECKS,
        rollout::CHECKS,
        helm::CHECKS,
        validity::CHECKS,
    ]
    .into_iter()
    .flatten()
    .collect()
});

static BY_ID: LazyLock<HashMap<&'static str, usize>> = LazyLock::new(|| {
    CATALOGUE
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect()
});

/// Every check, in catalogue order (the order reports list them in).
pub fn catalogue() -> &'static [&'static Check] {
    &CATALOGUE
}

/// A check's position in the catalogue.
pub fn index_of(id: &str) -> Option<usize> {
    BY_ID.get(id).copied()
}

pub fn by_id(id: &str) -> Option<&'static Check> {
    index_of(id).map(|i| CATALOGUE[i])
}

/// What the engine works out once per workload, shared by every check (see
/// `engine::related`).
#[derive(Debug, Default)]
pub struct Related<'w> {
    /// Services in the namespace whose selector matches the pods.
    pub services: Vec<&'w ServiceFacts>,
    /// Ingresses routing to one of those Services, with the Service they route to.
    pub ingresses: Vec<(&'w IngressFacts, &'w ServiceFacts)>,
    pub network_policies: Vec<&'w NetworkPolicyFacts>,
    pub pdbs: Vec<&'w PdbFacts>,
    pub hpa: Option<&'w HpaFacts>,
    /// Observed pods (owned ones; a bare Pod's own state is on the workload).
    pub pods: Vec<&'w PodFacts>,
    pub release: Option<&'w HelmReleaseFacts>,
}

/// What a check reads.
pub struct Ctx<'a> {
    pub workload: &'a Workload<'a>,
    pub world: &'a World,
    pub related: &'a Related<'a>,
    pub params: &'a Parameters,
    /// The evaluation time: live checks compare grace periods and windows against it.
    pub now: Timestamp,
}

impl Ctx<'_> {
    /// Whether every one of these kinds is known to the World.
    pub fn has(&self, kinds: &[RelatedKind]) -> bool {
        kinds.iter().all(|k| self.world.has(*k))
    }

    /// Whether any of these kinds is known to the World.
    pub fn has_any(&self, kinds: &[RelatedKind]) -> bool {
        kinds.iter().any(|k| self.world.has(*k))
    }

    /// Whether an object the World does not hold is proven not to exist: in the cluster, or
    /// for input declared the whole of its namespaces (`--complete`). Offline otherwise, an
    /// absence is at most a warning.
    pub fn absence_proven(&self) -> bool {
        !self.world.is_partial()
    }

    /// Seconds from `t` to now (negative when `t` is in the future).
    pub fn seconds_since(&self, t: Timestamp) -> i64 {
        self.now.as_second() - t.as_second()
    }
}

/// What a namespace-scoped check reads.
pub struct NamespaceCtx<'a> {
    pub namespace: &'a str,
    pub world: &'a World,
    pub params: &'a Parameters,
    pub now: Timestamp,
}

impl NamespaceCtx<'_> {
    /// Whether every one of these kinds is known to the World.
    pub fn has(&self, kinds: &[RelatedKind]) -> bool {
        kinds.iter().all(|k| self.world.has(*k))
    }

    /// As [`Ctx::absence_proven`]: in the cluster, or for input declared complete.
    pub fn absence_proven(&self) -> bool {
        !self.world.is_partial()
    }
}

/// Where a check writes its outcome.
pub struct Out<'a> {
    check: &'static Check,
    severity: Severity,
    /// The policy replaced the severity: a check's own variations no longer apply.
    severity_fixed: bool,
    findings: &'a mut Vec<Finding>,
    passed: bool,
}

impl<'a> Out<'a> {
    pub(crate) fn new(
        check: &'static Check,
        severity: Severity,
        severity_fixed: bool,
        findings: &'a mut Vec<Finding>,
    ) -> Out<'a> {
        Out {
            check,
            severity,
            severity_fixed,
            findings,
            passed: false,
        }
    }

    pub(crate) fn passed(&self) -> bool {
        self.passed
    }

    /// The check applies and found nothing wrong (ignored if it also fails somewhere).
    pub fn pass(&mut self) {
        self.passed = true;
    }

    fn push(&mut self, result: CheckResult, message: Cow<'static, str>) -> FindingMut<'_> {
        self.findings.push(Finding {
            check_id: Cow::Borrowed(self.check.id),
            severity: self.severity,
            result,
            category: self.check.category,
            message,
            remediation: Cow::Borrowed(self.check.remediation),
            container: None,
            object: None,
        });
        FindingMut {
            finding: self.findings.last_mut().expect("pushed above"),
            severity_fixed: self.severity_fixed,
        }
    }

    pub fn fail(&mut self, message: impl Into<Cow<'static, str>>) -> FindingMut<'_> {
        self.push(CheckResult::Fail, message.into())
    }

    pub fn warn(&mut self, message: impl Into<Cow<'static, str>>) -> FindingMut<'_> {
        self.push(CheckResult::Warn, message.into())
    }

    /// Fails when the finding is proven, warns when it is not (`Ctx::absence_proven`).
    pub fn fail_if_proven(
        &mut self,
        proven: bool,
        message: impl Into<Cow<'static, str>>,
    ) -> FindingMut<'_> {
        let result = if proven {
            CheckResult::Fail
        } else {
            CheckResult::Warn
        };
        self.push(result, message.into())
    }

    pub fn skip(&mut self, reason: impl Into<Cow<'static, str>>) -> FindingMut<'_> {
        let f = self.push(CheckResult::Skip, reason.into());
        f.finding.remediation = Cow::Borrowed("");
        f
    }

    /// Skips because the related kinds the check needs are unknown.
    pub fn skip_missing(&mut self, kinds: &[RelatedKind]) {
        self.skip(missing::missing_reason(kinds));
    }
}

/// A finding just written, to refine.
pub struct FindingMut<'a> {
    finding: &'a mut Finding,
    severity_fixed: bool,
}

impl FindingMut<'_> {
    /// The container at fault.
    pub fn container(self, name: &str) -> Self {
        self.finding.container = Some(name.to_string());
        self
    }

    /// The related object at fault, as `Kind/name`.
    pub fn object(self, object: impl Into<String>) -> Self {
        self.finding.object = Some(object.into());
        self
    }

    /// A severity other than the check's default, for a variation the catalogue names (critical
    /// for the runtime socket, high when some replicas are available...). A policy override
    /// wins over it.
    pub fn severity(self, severity: Severity) -> Self {
        if !self.severity_fixed {
            self.finding.severity = severity;
        }
        self
    }

    /// A remediation specific to this finding.
    pub fn remediation(self, remediation: impl Into<Cow<'static, str>>) -> Self {
        self.finding.remediation = remediation.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_ids_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for c in catalogue() {
            assert!(seen.insert(c.id), "duplicate check id {}", c.id);
            assert!(
                c.id.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "bad id {}",
                c.id
            );
            assert!(!c.title.is_empty() && !c.remediation.is_empty(), "{}", c.id);
            assert_eq!(
                c.needs == Needs::Live,
                c.id.starts_with("live-") || c.id.starts_with("helm-"),
                "{}: live checks are named live-* (or helm-*)",
                c.id
            );
        }
    }

    #[test]
    fn incidents_are_live_checks_of_the_catalogue() {
        for id in INCIDENTS {
            let check = by_id(id).unwrap_or_else(|| panic!("{id} is not in the catalogue"));
            assert_eq!(
                check.needs,
                Needs::Live,
                "{id}: an incident is observed state"
            );
        }
        let risks: Vec<&str> = catalogue()
            .iter()
            .filter(|c| c.needs == Needs::Live && !c.is_incident())
            .map(|c| c.id)
            .collect();
        assert_eq!(
            risks,
            [
                "live-replicas-colocated",
                "helm-release-deprecated-chart",
                "helm-autoscaling-disabled"
            ]
        );
    }
}
