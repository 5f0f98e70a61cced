//! The admission decision: pure, so every rule is tested without a server. Given one
//! AdmissionRequest and the live state, says allow, warn or deny, and why.

use std::borrow::Cow;
use std::collections::HashSet;

use jiff::Timestamp;
use kube::core::admission::{AdmissionRequest, Operation};
use kube::core::{DynamicObject, GroupVersionKind};
use serde_json::Value;

use super::error::Error;
use super::leftovers::FreedLater;
use crate::api::names::report_name;
use crate::api::{
    CheckResult, EXEMPT_ANNOTATION, EXEMPT_REASON_ANNOTATION, Finding, Needs, Report, Severity,
    WebhookMode,
};
use crate::checks;
use crate::engine::{self, CompiledPolicy};
use crate::input::classify::{Parsed, classify};
use crate::live::{LiveState, read};
use crate::workload::{WorkloadKind, WorkloadObject};

/// Namespaces the webhook never judges: the cluster's own, and prodready's.
#[derive(Clone, Debug)]
pub struct Exclusions {
    namespaces: Vec<String>,
}

impl Exclusions {
    /// `kube-system` and, when known, the namespace prodready runs in.
    pub fn new(own_namespace: Option<&str>) -> Exclusions {
        let mut namespaces = vec!["kube-system".to_string()];
        namespaces.extend(own_namespace.map(str::to_string));
        Exclusions { namespaces }
    }

    pub fn excludes(&self, namespace: &str) -> bool {
        self.namespaces.iter().any(|n| n == namespace)
    }
}

/// What the webhook answers, and what the metrics count. Allowed or refused is the variant: an
/// answer cannot say both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not judged (not a workload, an excluded namespace, mode Off, caches not loaded yet, an
    /// internal error): allowed, with a note when the person applying should know why.
    NotJudged { note: Option<String> },
    /// Judged and allowed, with a summary line and the failing findings worth a line.
    Allowed(Warnings),
    /// Judged and refused.
    Denied { warnings: Warnings, denial: Denial },
}

/// The warnings of a judged request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Warnings {
    /// The summary line, then one line per failing finding at or above the policy's
    /// `warnSeverity` (on an update, only those it introduces; under Enforce, not those the
    /// denial states).
    pub lines: Vec<String>,
    /// The checks behind the finding lines, for the metrics: the IDs as the findings carry them, the
    /// catalogue's own strings shared rather than copied.
    pub checks: Vec<Cow<'static, str>>,
}

/// Why a request was refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Denial {
    /// For the person who sent it.
    pub message: String,
    /// The checks that refused it, for the metrics.
    pub checks: Vec<Cow<'static, str>>,
}

impl Decision {
    fn allow() -> Decision {
        Decision::NotJudged { note: None }
    }

    fn allow_with(note: String) -> Decision {
        Decision::NotJudged { note: Some(note) }
    }

    pub fn is_allowed(&self) -> bool {
        !matches!(self, Decision::Denied { .. })
    }

    /// The request was judged (a workload, in a judged namespace, under a mode other than Off).
    pub fn judged(&self) -> bool {
        !matches!(self, Decision::NotJudged { .. })
    }

    /// The warnings returned with the answer, whichever it is.
    pub fn warnings(&self) -> &[String] {
        match self {
            Decision::NotJudged { note } => note.as_slice(),
            Decision::Allowed(w) | Decision::Denied { warnings: w, .. } => &w.lines,
        }
    }

    /// The checks behind the warnings.
    pub fn warned_checks(&self) -> &[Cow<'static, str>] {
        match self {
            Decision::NotJudged { .. } => &[],
            Decision::Allowed(w) | Decision::Denied { warnings: w, .. } => &w.checks,
        }
    }

    /// Why the request was refused, if it was.
    pub fn denial(&self) -> Option<&str> {
        match self {
            Decision::Denied { denial, .. } => Some(&denial.message),
            _ => None,
        }
    }

    /// The checks that refused the request.
    pub fn denied_checks(&self) -> &[Cow<'static, str>] {
        match self {
            Decision::Denied { denial, .. } => &denial.checks,
            _ => &[],
        }
    }

    /// `allow`, `warn` or `deny`: the decision label of the review metrics.
    pub fn label(&self) -> &'static str {
        match (self.is_allowed(), self.warnings().is_empty()) {
            (false, _) => "deny",
            (true, false) => "warn",
            (true, true) => "allow",
        }
    }
}

/// What the decision reads from an admission request, however its body was read.
pub struct Admission<'r, O> {
    pub operation: &'r Operation,
    pub sub_resource: Option<&'r str>,
    pub kind: &'r GroupVersionKind,
    pub name: &'r str,
    pub namespace: Option<&'r str>,
    pub object: Option<&'r O>,
    pub old_object: Option<&'r O>,
}

impl<'r> From<&'r AdmissionRequest<DynamicObject>> for Admission<'r, DynamicObject> {
    fn from(request: &'r AdmissionRequest<DynamicObject>) -> Self {
        Admission {
            operation: &request.operation,
            sub_resource: request.sub_resource.as_deref(),
            kind: &request.kind,
            name: &request.name,
            namespace: request.namespace.as_deref(),
            object: request.object.as_ref(),
            old_object: request.old_object.as_ref(),
        }
    }
}

/// An object in an admission request, as the decision reads it.
pub trait Admitted {
    /// The workload it is; `None` when it is owned by another (judged through its owner), `Err`
    /// with the reason when it cannot be read. `namespace` is the request's, for an object
    /// that names none.
    fn workload(&self, namespace: &str) -> Result<Option<Cow<'_, WorkloadObject>>, Error>;
}

impl Admitted for DynamicObject {
    fn workload(&self, namespace: &str) -> Result<Option<Cow<'_, WorkloadObject>>, Error> {
        Ok(workload_of(self, namespace)?.map(Cow::Owned))
    }
}

/// Judges one admission request against the live state at `now`.
pub fn decide(
    request: &AdmissionRequest<DynamicObject>,
    state: &LiveState,
    exclusions: &Exclusions,
    now: Timestamp,
) -> Decision {
    decide_on(&Admission::from(request), state, exclusions, now)
}

/// [`decide`], for a request read either way.
pub fn decide_on<O: Admitted>(
    request: &Admission<'_, O>,
    state: &LiveState,
    exclusions: &Exclusions,
    now: Timestamp,
) -> Decision {
    if !matches!(request.operation, Operation::Create | Operation::Update) {
        return Decision::allow();
    }
    // Status and scale writes change nothing the checks read in the spec.
    if request.sub_resource.is_some() {
        return Decision::allow();
    }
    let Some(kind) = judged_kind(
        &request.kind.group,
        &request.kind.version,
        &request.kind.kind,
    ) else {
        return Decision::allow();
    };
    let namespace = request.namespace.unwrap_or("default");
    if exclusions.excludes(namespace) {
        return Decision::allow();
    }
    let Some(object) = request.object else {
        return Decision::allow();
    };
    let new = match object.workload(namespace) {
        Ok(Some(w)) => w,
        Ok(None) => return Decision::allow(),
        Err(e) => {
            return Decision::allow_with(format!(
                "prodready: {} {namespace}/{} was not judged: {e}",
                kind.as_str(),
                request.name
            ));
        }
    };
    let world = read(&state.world);
    let policies = read(&state.policies);
    let policy = policies.for_namespace(namespace, &world);
    if policy.webhook.mode == WebhookMode::Off {
        return Decision::allow();
    }
    if !state.sync.all_synced() {
        return Decision::allow_with(
            "prodready: not judged yet: the webhook is still loading the cluster's state"
                .to_string(),
        );
    }
    let Some(view) = new.view() else {
        return Decision::allow();
    };
    let report = FreedLater::new(engine::evaluate(&view, &world, policy, now));
    let failing: Vec<&Finding> = admission_failures(&report).collect();
    if failing.is_empty() {
        return Decision::Allowed(Warnings::default());
    }
    let is_update = *request.operation == Operation::Update;
    // What the object already failed before this change: an update is warned about, and
    // refused for, only what it brings. Scaling, annotating or rolling back an old workload
    // repeats none of its known findings, and is never blocked by them.
    let old_report = if is_update {
        request
            .old_object
            .and_then(|o| o.workload(namespace).ok().flatten())
            .and_then(|old| {
                let old_view = old.view()?;
                Some(FreedLater::new(engine::evaluate(
                    &old_view, &world, policy, now,
                )))
            })
    } else {
        None
    };
    let before: HashSet<FindingKey<'_>> = old_report
        .as_ref()
        .map(|r| admission_failures(r).map(finding_key).collect())
        .unwrap_or_default();
    let introduced = |f: &&Finding| !before.contains(&finding_key(f));
    let enforce = policy.webhook.mode == WebhookMode::Enforce;
    let threshold = policy.webhook.deny_severity;
    let blocking: Vec<&Finding> = if enforce {
        failing
            .iter()
            .copied()
            .filter(|f| f.severity >= threshold)
            .filter(introduced)
            .collect()
    } else {
        Vec::new()
    };

    let mut warnings = Warnings::default();
    warnings.lines.push(summary_line(
        kind,
        namespace,
        request.name,
        &report,
        &failing,
    ));
    let shown = policy.webhook.warn_severity;
    for finding in failing
        .iter()
        .copied()
        .filter(|f| f.severity >= shown)
        .filter(introduced)
        // The denial states these already: once is enough.
        .filter(|f| !blocking.iter().any(|b| std::ptr::eq(*b, *f)))
    {
        warnings
            .lines
            .push(finding_line(kind, request.name, finding));
        warnings.checks.push(finding.check_id.clone());
    }
    if blocking.is_empty() {
        return Decision::Allowed(warnings);
    }
    let denial = Denial {
        message: denial_message(
            kind,
            namespace,
            request.name,
            policy,
            threshold,
            is_update,
            &blocking,
        ),
        checks: blocking.iter().map(|f| f.check_id.clone()).collect(),
    };
    Decision::Denied { warnings, denial }
}

/// What makes two findings the same across an update: the check, and the container or object
/// it is about.
type FindingKey<'a> = (&'a str, Option<&'a str>, Option<&'a str>);

fn finding_key(f: &Finding) -> FindingKey<'_> {
    (
        f.check_id.as_ref(),
        f.container.as_deref(),
        f.object.as_deref(),
    )
}

/// The line every judged object with a failing finding gets: what it is, how it stands, how
/// many findings of each severity, and where to read them all.
/// `prodready: Deployment/api NeedsAttention, score 55/100: 4 high, 5 medium failing; details:
/// kubectl describe rdr deployment-api -n shop`.
fn summary_line(
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
    report: &Report,
    failing: &[&Finding],
) -> String {
    let counts: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|&s| {
            let n = failing.iter().filter(|f| f.severity == s).count();
            (n > 0).then(|| format!("{n} {}", s.as_str()))
        })
        .collect();
    format!(
        "prodready: {kind}/{name} {verdict}, score {score}/100: {counts} failing; details: \
         kubectl describe rdr {report_name} -n {namespace}",
        kind = kind.as_str(),
        verdict = report.verdict.as_str(),
        score = report.score,
        counts = counts.join(", "),
        report_name = report_name(kind.as_str(), name),
    )
}

/// One failing finding, named after its object so that kubectl never folds two objects'
/// warnings into one: `prodready high image-tag-mutable Deployment/api: <message>`.
fn finding_line(kind: WorkloadKind, name: &str, finding: &Finding) -> String {
    let (severity, id, kind, message) = (
        finding.severity.as_str(),
        finding.check_id.as_ref(),
        kind.as_str(),
        finding.message.as_ref(),
    );
    // Assembled rather than formatted: one exact allocation per warning.
    let mut line = String::with_capacity(
        "prodready   /: ".len()
            + severity.len()
            + id.len()
            + kind.len()
            + name.len()
            + message.len(),
    );
    for part in [
        "prodready ",
        severity,
        " ",
        id,
        " ",
        kind,
        "/",
        name,
        ": ",
        message,
    ] {
        line.push_str(part);
    }
    line
}

/// Failing findings that count at admission. Live checks judge the running version (its pods,
/// restarts, status), not the one being submitted, so they are left to the reports.
fn admission_failures(report: &Report) -> impl Iterator<Item = &Finding> {
    report.findings.iter().filter(|f| {
        f.result == CheckResult::Fail && checks::by_id(&f.check_id).is_none_or(judged_at_admission)
    })
}

/// Whether a check's failures count at admission (see [`admission_failures`]).
pub(super) fn judged_at_admission(check: &checks::Check) -> bool {
    check.needs != Needs::Live
}

/// The kinds the webhook judges, by group, version and kind.
fn judged_kind(group: &str, version: &str, kind: &str) -> Option<WorkloadKind> {
    let kind = WorkloadKind::from_kind(kind)?;
    let expected = kind.api_version();
    // `group/version`, or the version alone for the core group, compared without building it.
    let served = if group.is_empty() {
        version == expected
    } else {
        expected
            .strip_prefix(group)
            .and_then(|rest| rest.strip_prefix('/'))
            == Some(version)
    };
    served.then_some(kind)
}

/// The workload in an admitted object; `None` when it is owned by another (judged through its
/// owner). The namespace comes from the request when the object leaves it out.
fn workload_of(object: &DynamicObject, namespace: &str) -> Result<Option<WorkloadObject>, Error> {
    let mut value: Value = serde_json::to_value(object).map_err(Error::Reencode)?;
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut)
        && !meta.contains_key("namespace")
    {
        meta.insert("namespace".into(), Value::String(namespace.to_string()));
    }
    match classify(value)? {
        Parsed::Workload(w) if w.is_top_level() => Ok(Some(*w)),
        _ => Ok(None),
    }
}

/// The refusal, written to be acted on in one read: what, why, how to fix each, and the way
/// out when a failure is accepted on purpose.
fn denial_message(
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
    policy: &CompiledPolicy,
    threshold: Severity,
    is_update: bool,
    blocking: &[&Finding],
) -> String {
    let policy_name = policy.name.as_deref().unwrap_or("built-in default");
    let what = if is_update {
        "this change introduces"
    } else {
        "it has"
    };
    let count = blocking.len();
    let plural = if count == 1 { "" } else { "s" };
    let new = if is_update { "new " } else { "" };
    let mut out = format!(
        "prodready: {} {namespace}/{name} is not production-ready: {what} {count} {new}\
         failing check{plural} at or above {threshold} (ReadinessPolicy {policy_name:?}, mode \
         Enforce):",
        kind.as_str(),
    );
    for f in blocking {
        out.push_str("\n- ");
        out.push_str(&f.check_id);
        out.push_str(" (");
        out.push_str(f.severity.as_str());
        if let Some(c) = &f.container {
            out.push_str(", container ");
            out.push_str(c);
        }
        out.push_str("): ");
        out.push_str(f.message.trim_end_matches('.'));
        out.push_str(". Fix: ");
        out.push_str(&f.remediation);
    }
    if policy.exemptions.enabled {
        out.push_str(&format!(
            "\nTo accept a failure on purpose, annotate the workload {EXEMPT_ANNOTATION}: \
             \"<check-id>\" with the reason in {EXEMPT_REASON_ANNOTATION}."
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::api::{ReadinessPolicy, ReadinessPolicySpec, WebhookPolicy};
    use crate::engine::PolicySet;
    use crate::input::Inventory;
    use crate::live::write;

    const NS: &str = "shop";

    fn deployment(name: &str, container: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS, "labels": {"app": name}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [container]}
                }
            }
        })
    }

    fn container() -> Value {
        json!({"name": "app", "image": "registry.example.com/api:1.4.2", "ports": [{"containerPort": 8080}]})
    }

    fn privileged() -> Value {
        let mut c = container();
        c["securityContext"] = json!({"privileged": true});
        c
    }

    fn request(
        operation: &str,
        object: Option<Value>,
        old: Option<Value>,
    ) -> AdmissionRequest<DynamicObject> {
        let any = object.as_ref().or(old.as_ref()).expect("an object");
        let kind = any["kind"].as_str().unwrap().to_string();
        let (group, version) = match any["apiVersion"].as_str().unwrap().split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (
                String::new(),
                any["apiVersion"].as_str().unwrap().to_string(),
            ),
        };
        let review = json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {
                "uid": "0b7d5a3e", "kind": {"group": group, "version": version, "kind": kind},
                "resource": {"group": group, "version": version, "resource": "things"},
                "name": any["metadata"]["name"], "namespace": any["metadata"]["namespace"],
                "operation": operation, "userInfo": {"username": "alice"},
                "object": object, "oldObject": old, "dryRun": false
            }
        });
        let review: kube::core::admission::AdmissionReview<DynamicObject> =
            serde_json::from_value(review).unwrap();
        review.try_into().unwrap()
    }

    /// Live state holding `related` (YAML documents) and one policy, synced.
    fn state(related: &str, webhook: WebhookPolicy) -> std::sync::Arc<LiveState> {
        let state = LiveState::new();
        let mut inventory = Inventory::new();
        inventory.add_text("related.yaml", related);
        assert!(inventory.errors.is_empty(), "{:?}", inventory.errors);
        *write(&state.world) = inventory.world;
        let policy = ReadinessPolicy::new(
            "shop",
            ReadinessPolicySpec {
                webhook,
                ..ReadinessPolicySpec::default()
            },
        );
        *write(&state.policies) =
            PolicySet::new(vec![CompiledPolicy::from_resource(&policy).unwrap()]);
        state.sync.expect(["Deployment".to_string()]);
        state.sync.mark_synced("Deployment");
        state
    }

    fn enforce(at: Severity) -> WebhookPolicy {
        WebhookPolicy {
            mode: WebhookMode::Enforce,
            deny_severity: at,
            ..WebhookPolicy::default()
        }
    }

    fn decide_now(request: &AdmissionRequest<DynamicObject>, state: &LiveState) -> Decision {
        decide(
            request,
            state,
            &Exclusions::new(Some("prodready")),
            crate::testing::now(),
        )
    }

    const SUMMARY: &str = "prodready: Deployment/api NotReady, score 52/100: 1 critical, 3 \
        high, 6 medium, 3 low, 1 info failing; details: kubectl describe rdr deployment-api -n shop";
    const PRIVILEGED_LINE: &str = "prodready critical security-privileged Deployment/api: \
        container \"app\" is privileged: it has every capability and the node's devices, so a \
        compromised process owns the node";

    #[test]
    fn warn_mode_allows_with_a_summary_and_the_findings_at_or_above_warn_severity() {
        let state = state("", WebhookPolicy::default());
        let d = decide_now(
            &request("CREATE", Some(deployment("api", privileged())), None),
            &state,
        );
        assert!(d.is_allowed());
        assert!(d.judged());
        assert_eq!(d.label(), "warn");
        assert_eq!(
            d.warnings(),
            [
                SUMMARY,
                PRIVILEGED_LINE,
                "prodready high probe-readiness-missing Deployment/api: container \"app\" \
                 declares a port but has no readinessProbe: a Service in front of it would send \
                 it requests before it can serve and while it is failing",
                "prodready high security-run-as-root Deployment/api: container \"app\" may run \
                 as root: neither runAsNonRoot: true nor a runAsUser is set on the pod or the \
                 container, so it runs as the image's user, often root",
                "prodready high security-privilege-escalation Deployment/api: container \"app\" \
                 can escalate privileges whatever allowPrivilegeEscalation says: it is privileged",
            ],
            "{:#?}",
            d.warnings()
        );
        assert_eq!(
            d.warned_checks(),
            [
                "security-privileged",
                "probe-readiness-missing",
                "security-run-as-root",
                "security-privilege-escalation",
            ]
        );
        assert!(d.denial().is_none());

        // A policy that wants every failing finding spelled out gets them.
        let state = self::state(
            "",
            WebhookPolicy {
                warn_severity: Severity::Info,
                ..WebhookPolicy::default()
            },
        );
        let d = decide_now(
            &request("CREATE", Some(deployment("api", privileged())), None),
            &state,
        );
        assert_eq!(d.warnings()[0], SUMMARY);
        assert_eq!(d.warnings().len(), 1 + 14, "{:#?}", d.warnings());
        assert!(
            d.warnings()
                .iter()
                .any(|w| w.starts_with("prodready info ")),
            "{:#?}",
            d.warnings()
        );
    }

    #[test]
    fn an_update_warns_only_about_what_it_introduces() {
        let state = state("", WebhookPolicy::default());
        let legacy = deployment("api", privileged());
        let mut annotated = legacy.clone();
        annotated["metadata"]["annotations"] = json!({"team": "payments"});
        let d = decide_now(
            &request("UPDATE", Some(annotated.clone()), Some(legacy.clone())),
            &state,
        );
        assert_eq!(d.warnings(), [SUMMARY],);
        assert!(d.warned_checks().is_empty());

        let mut worse = annotated;
        worse["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
        let d = decide_now(&request("UPDATE", Some(worse), Some(legacy)), &state);
        assert_eq!(d.warnings().len(), 2, "{:#?}", d.warnings());
        assert!(
            d.warnings()[1]
                .starts_with("prodready critical security-host-namespaces Deployment/api: "),
            "{:#?}",
            d.warnings()
        );
    }

    #[test]
    fn enforce_denies_at_the_threshold_with_each_finding_and_its_fix() {
        let state = state("", enforce(Severity::Critical));
        let d = decide_now(
            &request("CREATE", Some(deployment("api", privileged())), None),
            &state,
        );
        assert!(!d.is_allowed());
        assert_eq!(d.denied_checks(), ["security-privileged"]);
        let denial = d.denial().unwrap();
        let lines: Vec<&str> = denial.lines().collect();
        assert_eq!(
            lines[0],
            "prodready: Deployment shop/api is not production-ready: it has 1 failing check at \
             or above critical (ReadinessPolicy \"shop\", mode Enforce):"
        );
        assert_eq!(
            lines[1],
            "- security-privileged (critical, container app): container \"app\" is privileged: \
             it has every capability and the node's devices, so a compromised process owns the \
             node. Fix: Remove securityContext.privileged: true; add only the capabilities the \
             container needs (capabilities.add) and mount only the devices it uses."
        );
        assert_eq!(
            lines[2],
            "To accept a failure on purpose, annotate the workload prodready.dev/exempt: \
             \"<check-id>\" with the reason in prodready.dev/exempt-reason."
        );
        // The denial states the privileged container; the warnings do not repeat it.
        assert!(
            d.warnings()[0].starts_with("prodready: Deployment/api NotReady, score "),
            "{:#?}",
            d.warnings()
        );
        assert!(
            !d.warnings()
                .iter()
                .any(|w| w.contains("security-privileged"))
        );
        assert!(
            d.warnings()
                .iter()
                .any(|w| w.starts_with("prodready high security-run-as-root Deployment/api: ")),
            "the rest is still warned about: {:#?}",
            d.warnings()
        );
        // Without a critical failure the same policy lets it through, with warnings.
        let d = decide_now(
            &request("CREATE", Some(deployment("api", container())), None),
            &state,
        );
        assert!(d.is_allowed(), "{:?}", d.denial());
        assert_eq!(d.label(), "warn");
    }

    #[test]
    fn an_update_is_denied_only_for_the_failures_it_introduces() {
        let state = state("", enforce(Severity::Critical));
        let legacy = deployment("api", privileged());
        let mut scaled = legacy.clone();
        scaled["spec"]["replicas"] = json!(5);
        let d = decide_now(
            &request("UPDATE", Some(scaled), Some(legacy.clone())),
            &state,
        );
        assert!(
            d.is_allowed(),
            "scaling a legacy violator: {:?}",
            d.denial()
        );
        // What it already failed is no news: the summary alone.
        assert_eq!(d.warnings().len(), 1, "{:#?}", d.warnings());

        let mut worse = legacy.clone();
        worse["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
        let d = decide_now(&request("UPDATE", Some(worse), Some(legacy)), &state);
        assert!(!d.is_allowed());
        assert_eq!(d.denied_checks(), ["security-host-namespaces"]);
        assert!(
            d.denial()
                .unwrap()
                .contains("this change introduces 1 new failing check at or above critical")
        );
    }

    #[test]
    fn an_exemption_the_policy_allows_is_honoured() {
        let state = state("", enforce(Severity::Critical));
        let mut exempt = deployment("api", privileged());
        exempt["metadata"]["annotations"] = json!({
            "prodready.dev/exempt": "security-privileged",
            "prodready.dev/exempt-reason": "node agent, reviewed by security"
        });
        let d = decide_now(&request("CREATE", Some(exempt), None), &state);
        assert!(d.is_allowed(), "{:?}", d.denial());
        assert!(!d.warned_checks().iter().any(|c| c == "security-privileged"));
    }

    #[test]
    fn a_cross_object_failure_counts_at_admission() {
        let ingress = |tls: bool| {
            let tls = if tls {
                "\n  tls: [{hosts: [shop.example.com], secretName: shop-tls}]"
            } else {
                ""
            };
            format!(
                "apiVersion: v1\nkind: Service\nmetadata: {{name: api, namespace: shop}}\nspec:\n  \
                 selector: {{app: api}}\n  ports: [{{port: 80, targetPort: 8080}}]\n---\n\
                 apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: api, \
                 namespace: shop}}\nspec:{tls}\n  rules:\n  - host: shop.example.com\n    http:\n      \
                 paths:\n      - path: /\n        pathType: Prefix\n        backend: {{service: \
                 {{name: api, port: {{number: 80}}}}}}\n"
            )
        };
        let req = request("CREATE", Some(deployment("api", container())), None);
        let d = decide_now(&req, &state(&ingress(false), enforce(Severity::High)));
        assert!(!d.is_allowed());
        assert!(
            d.denied_checks()
                .iter()
                .any(|c| c == "exposure-ingress-no-tls"),
            "{d:?}"
        );
        let d = decide_now(&req, &state(&ingress(true), enforce(Severity::High)));
        assert!(
            !d.denied_checks()
                .iter()
                .any(|c| c == "exposure-ingress-no-tls"),
            "{d:?}"
        );
    }

    #[test]
    fn what_is_not_judged_is_allowed_silently() {
        let state = state("", enforce(Severity::Info));
        let bad = deployment("api", privileged());
        // Deletions, other kinds, owned objects, excluded namespaces.
        let d = decide_now(&request("DELETE", None, Some(bad.clone())), &state);
        assert_eq!((d.is_allowed(), d.label()), (true, "allow"));
        let service = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "api", "namespace": NS}, "spec": {}});
        assert_eq!(
            decide_now(&request("CREATE", Some(service), None), &state).label(),
            "allow"
        );
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "api-1", "namespace": NS, "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-1", "uid": "1",
                "controller": true}]},
            "spec": {"containers": [privileged()]}});
        assert_eq!(
            decide_now(&request("CREATE", Some(pod), None), &state).label(),
            "allow"
        );
        for ns in ["kube-system", "prodready"] {
            let mut other = bad.clone();
            other["metadata"]["namespace"] = json!(ns);
            assert_eq!(
                decide_now(&request("CREATE", Some(other), None), &state).label(),
                "allow"
            );
        }
        // Mode Off.
        let off = self::state(
            "",
            WebhookPolicy {
                mode: WebhookMode::Off,
                ..WebhookPolicy::default()
            },
        );
        assert_eq!(
            decide_now(&request("CREATE", Some(bad), None), &off).label(),
            "allow"
        );
    }

    #[test]
    fn a_bare_pod_is_judged_and_unsynced_caches_allow_with_a_warning() {
        let state = state("", enforce(Severity::Critical));
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "debug", "namespace": NS},
            "spec": {"containers": [privileged()]}});
        let d = decide_now(&request("CREATE", Some(pod.clone()), None), &state);
        assert!(!d.is_allowed());
        let cold = LiveState::new();
        cold.sync.expect(["Pod".to_string()]);
        let d = decide_now(&request("CREATE", Some(pod), None), &cold);
        assert!(d.is_allowed());
        assert_eq!(
            d.warnings(),
            ["prodready: not judged yet: the webhook is still loading the cluster's state"]
        );
    }

    #[test]
    fn an_unreadable_object_is_allowed_with_the_reason() {
        let state = state("", enforce(Severity::Critical));
        let mut broken = deployment("api", container());
        broken["spec"]["replicas"] = json!("three");
        let d = decide_now(&request("CREATE", Some(broken), None), &state);
        assert!(d.is_allowed());
        assert_eq!(d.warnings().len(), 1);
        assert!(
            d.warnings()[0].starts_with(
                "prodready: Deployment shop/api was not judged: Deployment: spec.replicas"
            ),
            "{:?}",
            d.warnings()
        );
    }
}
