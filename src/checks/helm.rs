//! Helm releases: the state of the release that manages the workload, read from Helm's own
//! release Secrets.

use super::util::{human_duration, instant, join_names};
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Severity};
use crate::workload::WorkloadKind;
use crate::world::{HelmReleaseFacts, HelmRevisionFacts, RelatedKind};

pub const CHECKS: &[Check] = &[
    Check {
        id: "helm-release-failed",
        category: Category::Helm,
        severity: Severity::High,
        needs: Needs::Live,
        title: "The workload's Helm release failed or is stuck pending",
        remediation: "Read why (`helm history <release>`, `helm status <release>`), fix the \
                      cause, then `helm rollback <release>` to the last good revision or run \
                      the upgrade again; a release stuck pending needs a rollback before any \
                      new upgrade.",
        run: Run::Workload(release_failed),
    },
    Check {
        id: "helm-release-deprecated-chart",
        category: Category::Helm,
        severity: Severity::Low,
        needs: Needs::Live,
        title: "The deployed chart is marked deprecated",
        remediation: "Move to the chart's maintained successor (the chart's README or \
                      Artifact Hub names it): a deprecated chart receives no fixes.",
        run: Run::Workload(deprecated_chart),
    },
    Check {
        id: "helm-autoscaling-disabled",
        category: Category::Helm,
        severity: Severity::Low,
        needs: Needs::Live,
        title: "The release's values disable autoscaling",
        remediation: "Enable the chart's autoscaling (`--set autoscaling.enabled=true`, or \
                      in your values file) with minReplicas of 2 or more.",
        run: Run::Workload(autoscaling_disabled),
    },
];

const RELEASE_NAMESPACE_ANNOTATION: &str = "meta.helm.sh/release-namespace";

/// The release the workload names and its facts. Writes a skip (and returns `None`) when the
/// release cannot be read; returns `None` silently when the workload names no release.
fn release<'a>(ctx: &'a Ctx<'_>, out: &mut Out<'_>) -> Option<(&'a str, &'a HelmReleaseFacts)> {
    let name = ctx.workload.helm_release()?;
    if !ctx.has(&[RelatedKind::HelmRelease]) {
        out.skip_missing(&[RelatedKind::HelmRelease]);
        return None;
    }
    // Helm stores a release in its own namespace, which a chart's objects need not share.
    let release_ns = ctx
        .workload
        .annotations()
        .get(RELEASE_NAMESPACE_ANNOTATION)
        .map_or(ctx.workload.namespace, String::as_str);
    let found = if release_ns == ctx.workload.namespace {
        ctx.related.release
    } else {
        ctx.world.helm_release(release_ns, name)
    };
    match found.filter(|r| r.latest().is_some()) {
        Some(r) => Some((name, r)),
        None => {
            out.skip(format!(
                "not judged: Helm release {name} is not found in namespace {release_ns} (no \
                 release Secret sh.helm.release.v1.{name}.v*)"
            ));
            None
        }
    }
}

/// `chart shop-1.2.0`, as Helm prints it, when the revision could be decoded.
fn chart(rev: &HelmRevisionFacts) -> String {
    match (&rev.chart_name, &rev.chart_version) {
        (Some(n), Some(v)) => format!(" (chart {n}-{v})"),
        (Some(n), None) => format!(" (chart {n})"),
        _ => String::new(),
    }
}

/// The revision running in the cluster: the newest `deployed` one, else the newest.
fn deployed(release: &HelmReleaseFacts) -> Option<&HelmRevisionFacts> {
    release
        .revisions
        .values()
        .rev()
        .find(|r| r.status == "deployed")
        .or_else(|| release.latest())
}

fn release_failed(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some((name, release)) = release(ctx, out) else {
        return;
    };
    let Some(latest) = release.latest() else {
        return;
    };
    let status = latest.status.as_str();
    match status {
        "deployed" => out.pass(),
        "failed" => {
            let why = latest
                .description
                .as_deref()
                .map(|d| format!(" ({d:?})"))
                .unwrap_or_default();
            out.fail(format!(
                "Helm release {name} revision {}{} failed{why}: the cluster may run a mix of \
                 old and new objects",
                latest.revision,
                chart(latest)
            ))
            .object(format!("Secret/{}", latest.secret));
        }
        "pending-install" | "pending-upgrade" | "pending-rollback" | "uninstalling" => {
            let grace = ctx.params.grace_period_seconds;
            let age = latest.last_deployed.map(|t| ctx.seconds_since(t));
            match age {
                Some(age) if age < grace => {
                    out.warn(format!(
                        "Helm release {name} revision {}{} is {status} since {}, inside the {} \
                         grace period",
                        latest.revision,
                        chart(latest),
                        latest.last_deployed.map(instant).unwrap_or_default(),
                        human_duration(grace)
                    ))
                    .object(format!("Secret/{}", latest.secret));
                }
                _ => {
                    let how_long = latest.last_deployed.map_or_else(
                        || "longer than the grace period".to_string(),
                        |t| format!("since {}", instant(t)),
                    );
                    out.fail(format!(
                        "Helm release {name} revision {}{} is stuck in {status} {how_long}: \
                         every further helm upgrade or rollback fails with \"another \
                         operation is in progress\"",
                        latest.revision,
                        chart(latest)
                    ))
                    .object(format!("Secret/{}", latest.secret));
                }
            }
        }
        other => {
            out.skip(format!(
                "not judged: Helm release {name} revision {} has status {other:?}",
                latest.revision
            ));
        }
    }
}

fn deprecated_chart(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some((name, release)) = release(ctx, out) else {
        return;
    };
    let Some(rev) = deployed(release) else {
        return;
    };
    let Some(chart_name) = rev.chart_name.as_deref() else {
        out.skip(format!(
            "not judged: the chart of Helm release {name} revision {} could not be read from \
             its release Secret",
            rev.revision
        ));
        return;
    };
    if rev.deprecated {
        let version = rev
            .chart_version
            .as_deref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        out.fail(format!(
            "chart {chart_name}{version} of Helm release {name} is deprecated: it receives no \
             more fixes, security ones included"
        ))
        .object(format!("Secret/{}", rev.secret));
    } else {
        out.pass();
    }
}

/// Letters and digits only, lower case: `api-server`, `apiServer` and `api_server` read alike.
fn squash(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_lowercase())
}

/// Whether `needle` occurs in `hay`, both squashed.
fn squashed_contains(hay: &str, needle: &str) -> bool {
    if squash(needle).next().is_none() {
        return false;
    }
    let h = hay.as_bytes();
    (0..h.len()).any(|start| {
        let mut rest = squash(&hay[start..]);
        h[start].is_ascii_alphanumeric() && squash(needle).all(|n| rest.next() == Some(n))
    })
}

/// Whether a values path is about this workload: `autoscaling.enabled` is the chart's main
/// workload's; `<component>.autoscaling.enabled` is the component named like the workload.
fn concerns_workload(ctx: &Ctx<'_>, path: &str) -> bool {
    let Some(component) = path.strip_suffix(".autoscaling.enabled") else {
        return true;
    };
    let w = ctx.workload;
    squashed_contains(w.name, component)
        || [w.labels(), w.pod_labels()].iter().any(|l| {
            l.get("app.kubernetes.io/component")
                .is_some_and(|c| squashed_contains(c, component))
        })
}

fn autoscaling_disabled(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if !matches!(
        ctx.workload.kind,
        WorkloadKind::Deployment | WorkloadKind::StatefulSet
    ) {
        return;
    }
    let Some((name, release)) = release(ctx, out) else {
        return;
    };
    let Some(rev) = deployed(release) else {
        return;
    };
    // An HPA from elsewhere already scales it, whatever the chart's switch says.
    if ctx.related.hpa.is_some() {
        return out.pass();
    }
    let paths: Vec<&str> = rev
        .autoscaling_disabled
        .iter()
        .map(String::as_str)
        .filter(|p| concerns_workload(ctx, p))
        .collect();
    if paths.is_empty() {
        return out.pass();
    }
    let sets: Vec<String> = paths.iter().map(|p| format!("--set {p}=true")).collect();
    out.fail(format!(
        "Helm release {name} sets {} to false: the chart deploys no HorizontalPodAutoscaler, \
         so load spikes are not absorbed",
        join_names(&paths)
    ))
    .object(format!("Secret/{}", rev.secret))
    .remediation(format!(
        "Enable autoscaling in the release's values: `helm upgrade {name} <chart> \
         --reuse-values {}` (or set it in your values file), with minReplicas of 2 or more.",
        sets.join(" ")
    ));
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use crate::testing::{findings, judge, messages, outcome};

    fn deployment(name: &str, annotations: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: shop\n  \
             annotations: {{meta.helm.sh/release-name: shop{annotations}}}\n\
             spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    \
             metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers: [{{name: app, image: api:1}}]\n"
        )
    }

    /// A Helm 3 release Secret: the `release` key is base64(gzip(JSON)), base64-encoded once
    /// more by the Secret's `data`.
    fn release_secret(ns: &str, revision: u32, status: &str, json: &str) -> String {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(json.as_bytes()).unwrap();
        let inner = STANDARD.encode(gz.finish().unwrap());
        format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: sh.helm.release.v1.shop.v{revision}\n  \
             namespace: {ns}\n  labels: {{owner: helm, name: shop, status: {status}, version: \"{revision}\"}}\n\
             type: helm.sh/release.v1\ndata:\n  release: {}\n",
            STANDARD.encode(inner)
        )
    }

    fn revision(revision: u32, status: &str, deployed: &str, extra: &str) -> String {
        release_secret(
            "shop",
            revision,
            status,
            &format!(
                r#"{{"name":"shop","version":{revision},"info":{{"status":"{status}","last_deployed":"{deployed}","description":"Upgrade \"shop\" failed: timed out waiting for the condition"}},
                   "chart":{{"metadata":{{"name":"shop","version":"1.{revision}.0"{extra}}},"values":{{"autoscaling":{{"enabled":false}}}}}},"config":{{}}}}"#
            ),
        )
    }

    #[test]
    fn failed_release() {
        let r = judge(&format!(
            "{}{}{}",
            deployment("api", ""),
            revision(2, "superseded", "2026-05-01T10:00:00Z", ""),
            revision(3, "failed", "2026-06-01T10:00:00Z", "")
        ));
        assert_eq!(
            messages(&r, "helm-release-failed"),
            vec![
                "Helm release shop revision 3 (chart shop-1.3.0) failed (\"Upgrade \\\"shop\\\" failed: timed out waiting for the condition\"): the cluster may run a mix of old and new objects"
            ]
        );
        assert_eq!(
            findings(&r, "helm-release-failed")[0].object.as_deref(),
            Some("Secret/sh.helm.release.v1.shop.v3")
        );
        // A failed release is not proof the workload is down: the live checks say that.
        assert_eq!(
            findings(&r, "helm-release-failed")[0].severity,
            crate::api::Severity::High
        );
        let r = judge(&format!(
            "{}{}",
            deployment("api", ""),
            revision(1, "deployed", "2026-05-01T10:00:00Z", "")
        ));
        assert_eq!(outcome(&r, "helm-release-failed"), "pass");
    }

    #[test]
    fn pending_release() {
        let warn = judge(&format!(
            "{}{}",
            deployment("api", ""),
            revision(4, "pending-upgrade", "2026-06-01T11:58:00Z", "")
        ));
        assert_eq!(outcome(&warn, "helm-release-failed"), "warn");
        assert_eq!(
            messages(&warn, "helm-release-failed"),
            vec![
                "Helm release shop revision 4 (chart shop-1.4.0) is pending-upgrade since 2026-06-01T11:58:00Z, inside the 5m grace period"
            ]
        );
        let stuck = judge(&format!(
            "{}{}",
            deployment("api", ""),
            revision(4, "pending-upgrade", "2026-06-01T11:00:00Z", "")
        ));
        assert_eq!(
            messages(&stuck, "helm-release-failed"),
            vec![
                "Helm release shop revision 4 (chart shop-1.4.0) is stuck in pending-upgrade since 2026-06-01T11:00:00Z: every further helm upgrade or rollback fails with \"another operation is in progress\""
            ]
        );
    }

    #[test]
    fn release_not_judged() {
        let no_release = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n\
             spec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    \
             spec:\n      containers: [{name: app, image: api:1}]\n";
        for id in [
            "helm-release-failed",
            "helm-release-deprecated-chart",
            "helm-autoscaling-disabled",
        ] {
            assert_eq!(outcome(&judge(no_release), id), "n/a", "{id}");
        }
        let r = judge(&deployment("api", ""));
        assert_eq!(
            messages(&r, "helm-release-failed"),
            vec![
                "not judged: no Helm release Secret objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        // Release Secrets known, but only in another namespace.
        let r = judge(&format!(
            "{}{}",
            deployment("api", ""),
            release_secret("other", 1, "deployed", "{}")
        ));
        assert_eq!(
            messages(&r, "helm-release-failed"),
            vec![
                "not judged: Helm release shop is not found in namespace shop (no release Secret sh.helm.release.v1.shop.v*)"
            ]
        );
        // Helm's release-namespace annotation says where the release is stored.
        let r = judge(&format!(
            "{}{}",
            deployment("api", ", meta.helm.sh/release-namespace: other"),
            release_secret("other", 1, "failed", "{}")
        ));
        assert_eq!(
            messages(&r, "helm-release-failed"),
            vec![
                "Helm release shop revision 1 failed: the cluster may run a mix of old and new objects"
            ]
        );
    }

    #[test]
    fn deprecated_chart() {
        // The running revision is the deployed one, not the failed upgrade after it.
        let r = judge(&format!(
            "{}{}{}",
            deployment("api", ""),
            revision(
                2,
                "deployed",
                "2026-05-01T10:00:00Z",
                r#","deprecated":true"#
            ),
            revision(3, "failed", "2026-06-01T10:00:00Z", "")
        ));
        assert_eq!(
            messages(&r, "helm-release-deprecated-chart"),
            vec![
                "chart shop 1.2.0 of Helm release shop is deprecated: it receives no more fixes, security ones included"
            ]
        );
        let r = judge(&format!(
            "{}{}",
            deployment("api", ""),
            revision(2, "deployed", "2026-05-01T10:00:00Z", "")
        ));
        assert_eq!(outcome(&r, "helm-release-deprecated-chart"), "pass");
    }

    #[test]
    fn autoscaling_disabled_by_values() {
        let r = judge(&format!(
            "{}{}",
            deployment("api", ""),
            revision(2, "deployed", "2026-05-01T10:00:00Z", "")
        ));
        assert_eq!(
            messages(&r, "helm-autoscaling-disabled"),
            vec![
                "Helm release shop sets autoscaling.enabled to false: the chart deploys no HorizontalPodAutoscaler, so load spikes are not absorbed"
            ]
        );
        assert_eq!(
            findings(&r, "helm-autoscaling-disabled")[0].remediation,
            "Enable autoscaling in the release's values: `helm upgrade shop <chart> --reuse-values --set autoscaling.enabled=true` (or set it in your values file), with minReplicas of 2 or more."
        );
        let enabled = release_secret(
            "shop",
            2,
            "deployed",
            r#"{"version":2,"info":{"status":"deployed"},"chart":{"metadata":{"name":"shop","version":"1.0.0"},"values":{"autoscaling":{"enabled":false}}},"config":{"autoscaling":{"enabled":true}}}"#,
        );
        let r = judge(&format!("{}{enabled}", deployment("api", "")));
        assert_eq!(outcome(&r, "helm-autoscaling-disabled"), "pass");
        // An HPA created outside the chart scales it anyway.
        let hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n\
             metadata: {name: api, namespace: shop}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}\n  \
             minReplicas: 2\n  maxReplicas: 5\n";
        let r = judge(&format!(
            "{}{}{hpa}",
            deployment("api", ""),
            revision(2, "deployed", "2026-05-01T10:00:00Z", "")
        ));
        assert_eq!(outcome(&r, "helm-autoscaling-disabled"), "pass");
    }

    #[test]
    fn component_autoscaling_concerns_that_component() {
        let worker_off = release_secret(
            "shop",
            1,
            "deployed",
            r#"{"version":1,"info":{"status":"deployed"},"chart":{"metadata":{"name":"shop","version":"1.0.0"},"values":{"worker":{"autoscaling":{"enabled":false}}}}}"#,
        );
        let r = judge(&format!("{}{worker_off}", deployment("shop-worker", "")));
        assert_eq!(
            messages(&r, "helm-autoscaling-disabled"),
            vec![
                "Helm release shop sets worker.autoscaling.enabled to false: the chart deploys no HorizontalPodAutoscaler, so load spikes are not absorbed"
            ]
        );
        let r = judge(&format!("{}{worker_off}", deployment("shop-api", "")));
        assert_eq!(outcome(&r, "helm-autoscaling-disabled"), "pass");
    }
}
