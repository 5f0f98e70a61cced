//! Rollout and lifecycle: whether a release can be rolled out without an outage, rolled back,
//! and whether pods shut down without dropping requests.

use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::serving::{serves_clients, services_targeting};
use super::util::{join_names, resolve_int_or_percent};
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Severity};
use crate::workload::WorkloadObject;
use crate::world::RelatedKind;

pub const CHECKS: &[Check] = &[
    Check {
        id: "rollout-no-history",
        category: Category::Rollout,
        severity: Severity::Low,
        needs: Needs::Object,
        title: "revisionHistoryLimit: 0 (no rollback possible)",
        remediation: "Remove revisionHistoryLimit (Kubernetes keeps 10 revisions) or set it to 3 \
                      or more, so `kubectl rollout undo` has a revision to return to.",
        run: Run::Workload(no_history),
    },
    Check {
        id: "rollout-recreate",
        category: Category::Rollout,
        severity: Severity::Medium,
        needs: Needs::Object,
        title: "A Deployment rolls out by stopping every pod",
        remediation: "Use strategy RollingUpdate with maxUnavailable 0 or 1 (or 25%) and \
                      maxSurge 1, so old pods keep serving until new ones are ready; keep \
                      Recreate only for workloads that cannot run two versions at once.",
        run: Run::Workload(recreate),
    },
    Check {
        id: "lifecycle-no-graceful-shutdown",
        category: Category::Rollout,
        severity: Severity::Low,
        needs: Needs::Object,
        title: "A container behind a Service is not given time to drain on shutdown",
        remediation: "Give pods time to drain: terminationGracePeriodSeconds of 5 or more \
                      (Kubernetes defaults to 30), a preStop hook that sleeps a few seconds, and \
                      a process that finishes in-flight requests on SIGTERM.",
        run: Run::Workload(no_graceful_shutdown),
    },
];

fn no_history(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let limit = match ctx.workload.object {
        WorkloadObject::Deployment(d) => d.spec.as_ref().and_then(|s| s.revision_history_limit),
        WorkloadObject::StatefulSet(s) => s.spec.as_ref().and_then(|s| s.revision_history_limit),
        WorkloadObject::DaemonSet(d) => d.spec.as_ref().and_then(|s| s.revision_history_limit),
        _ => return,
    };
    if limit == Some(0) {
        out.fail(
            "revisionHistoryLimit is 0: no earlier revision is kept, so a bad release cannot be \
             rolled back with `kubectl rollout undo`",
        );
    } else {
        out.pass();
    }
}

fn recreate(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let WorkloadObject::Deployment(d) = ctx.workload.object else {
        return;
    };
    let Some(replicas) = ctx.workload.replicas() else {
        return;
    };
    // An HPA may scale the Deployment down to its floor; that is the count a rollout may meet.
    let count = ctx.related.hpa.map_or(replicas, |h| h.min_replicas);
    if count < 1 {
        return;
    }
    // One replica: a rolling update with surge starts the new pod and waits for it to be ready
    // before it stops the old one, so only a Recreate interrupts it. That matters for a pod
    // that serves; a single worker may need Recreate so that two versions never run at once,
    // and a pod that mounts a claim (ReadWriteOnce, most often) may need it so that the new
    // pod can attach the volume the old one holds.
    if count == 1 && (!serves(ctx) || mounts_claim(ctx)) {
        return;
    }
    let replicas = if count == 1 {
        "1 replica".to_string()
    } else {
        format!("{count} replicas")
    };
    let strategy = d.spec.as_ref().and_then(|s| s.strategy.as_ref());
    if strategy.and_then(|s| s.type_.as_deref()) == Some("Recreate") {
        let stops = if count == 1 {
            "stops the pod before starting the new one"
        } else {
            "stops all pods before starting new ones"
        };
        out.fail(format!(
            "strategy Recreate with {replicas}: every rollout {stops}, an outage on each release"
        ));
        return;
    }
    let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
    let max = rolling.and_then(|r| r.max_unavailable.as_ref());
    // Unset, maxUnavailable defaults to 25% (rounded down) and maxSurge to 25% (rounded up).
    let default = IntOrString::String("25%".to_string());
    let surge = rolling
        .and_then(|r| r.max_surge.as_ref())
        .map_or(Some(1), |s| resolve_int_or_percent(s, count, true));
    // Deployments round a maxUnavailable percentage down; when both resolve to 0, the
    // controller lets one pod be unavailable so the rollout can progress.
    let unavailable = match resolve_int_or_percent(max.unwrap_or(&default), count, false) {
        Some(0) if surge == Some(0) => Some(1),
        n => n,
    };
    match unavailable {
        Some(n) if n >= count => {
            let shown = match max {
                Some(IntOrString::Int(i)) => format!("maxUnavailable {i} with {replicas}"),
                // No rollout stops more pods than there are.
                Some(IntOrString::String(s)) => {
                    format!("maxUnavailable {s} ({count} of {replicas})")
                }
                None => format!("maxSurge 0 with {replicas}"),
            };
            let how = if count == 1 {
                "a rollout may stop the pod before its replacement is ready"
            } else {
                "a rollout may stop every pod at once"
            };
            out.fail(format!("RollingUpdate with {shown}: {how}"));
        }
        _ => out.pass(),
    }
}

/// Whether the Deployment's pods serve requests: a Service sends them some or, Services
/// unknown, a long-running container declares a port.
fn serves(ctx: &Ctx<'_>) -> bool {
    serves_clients(ctx).unwrap_or_else(|| {
        ctx.workload
            .long_running_containers()
            .any(|c| c.ports.as_ref().is_some_and(|p| !p.is_empty()))
    })
}

fn mounts_claim(ctx: &Ctx<'_>) -> bool {
    ctx.workload
        .pod_spec
        .volumes
        .iter()
        .flatten()
        .any(|v| v.persistent_volume_claim.is_some())
}

fn no_graceful_shutdown(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if !ctx.workload.is_long_running() {
        return;
    }
    if !ctx.has(&[RelatedKind::Service]) {
        return out.skip_missing(&[RelatedKind::Service]);
    }
    // Draining matters only for containers a Service sends requests to.
    let serving: Vec<(&Container, String)> = ctx
        .workload
        .containers()
        .iter()
        .filter_map(|c| {
            let names: Vec<&str> = services_targeting(ctx, c).map(|s| &*s.name).collect();
            (!names.is_empty()).then(|| (c, services_phrase(&names)))
        })
        .collect();
    let Some((_, first)) = serving.first() else {
        return;
    };
    let min = ctx.params.min_termination_grace_seconds;
    let grace = ctx
        .workload
        .pod_spec
        .termination_grace_period_seconds
        .unwrap_or(30);
    if grace < min {
        out.fail(format!(
            "terminationGracePeriodSeconds is {grace} (under {min}s) behind {first}: pods are \
             killed {grace}s after SIGTERM, before in-flight requests can finish"
        ))
        .remediation(format!(
            "Set terminationGracePeriodSeconds to {min} or more (Kubernetes defaults to 30) and \
             make the process finish in-flight requests on SIGTERM."
        ));
    }
    for (c, services) in &serving {
        let pre_stop = c.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref());
        if pre_stop.is_none() {
            out.fail(format!(
                "container {:?} serves behind {services} but has no preStop hook: endpoints take \
                 a few seconds to drop a terminating pod, so requests still arrive after it \
                 starts shutting down",
                c.name
            ))
            .container(&c.name)
            .remediation(
                "Add a preStop hook that waits a few seconds (`lifecycle.preStop.sleep.seconds: \
                 5`, or an exec `sleep 5`) so endpoints drop the pod before it stops, and keep \
                 terminationGracePeriodSeconds above that wait plus the shutdown time.",
            );
        }
    }
    out.pass();
}

/// `Service a` or `Services a and b`.
fn services_phrase(names: &[&str]) -> String {
    let word = if names.len() == 1 {
        "Service"
    } else {
        "Services"
    };
    format!("{word} {}", join_names(names))
}

#[cfg(test)]
mod tests {
    use crate::testing::{findings, judge, judge_with, messages, outcome};

    /// A workload named api in namespace shop; `spec` lines at two spaces, `pod` lines at six,
    /// `container` lines at eight.
    fn workload(kind: &str, spec: &str, pod: &str, container: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: api, namespace: shop}}\n\
             spec:\n{spec}  selector: {{matchLabels: {{app: api}}}}\n  template:\n    \
             metadata: {{labels: {{app: api}}}}\n    spec:\n{pod}      containers:\n      - \
             name: app\n        image: api:1\n{container}"
        )
    }

    fn deployment(spec: &str) -> String {
        workload("Deployment", spec, "", "")
    }

    const SERVICE: &str = "---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: \
                           shop}\nspec: {selector: {app: api}, ports: [{port: 80, targetPort: \
                           http}]}\n";

    const OTHER_SERVICE: &str = "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, \
                                 namespace: shop}\nspec: {selector: {app: web}, ports: [{port: \
                                 80}]}\n";

    #[test]
    fn no_history() {
        let r = judge(&deployment("  revisionHistoryLimit: 0\n"));
        assert_eq!(
            messages(&r, "rollout-no-history"),
            vec![
                "revisionHistoryLimit is 0: no earlier revision is kept, so a bad release cannot be rolled back with `kubectl rollout undo`"
            ]
        );
        // Unset: Kubernetes keeps 10.
        assert_eq!(
            outcome(&judge(&deployment("")), "rollout-no-history"),
            "pass"
        );
        assert_eq!(
            outcome(
                &judge(&deployment("  revisionHistoryLimit: 2\n")),
                "rollout-no-history"
            ),
            "pass"
        );
        for kind in ["StatefulSet", "DaemonSet"] {
            let w = workload(kind, "  revisionHistoryLimit: 0\n", "", "");
            assert_eq!(outcome(&judge(&w), "rollout-no-history"), "fail", "{kind}");
        }
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: m}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: m:1}]\n";
        assert_eq!(outcome(&judge(job), "rollout-no-history"), "n/a");
    }

    #[test]
    fn recreate() {
        let r = judge(&deployment("  replicas: 3\n  strategy: {type: Recreate}\n"));
        assert_eq!(
            messages(&r, "rollout-recreate"),
            vec![
                "strategy Recreate with 3 replicas: every rollout stops all pods before starting new ones, an outage on each release"
            ]
        );
        let r = judge(&deployment(
            "  replicas: 4\n  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: \"100%\"}}\n",
        ));
        assert_eq!(
            messages(&r, "rollout-recreate"),
            vec![
                "RollingUpdate with maxUnavailable 100% (4 of 4 replicas): a rollout may stop every pod at once"
            ]
        );
        // A percentage too large to multiply is read as what it is, not a panic.
        let r = judge(&deployment(
            "  replicas: 3\n  strategy: {rollingUpdate: {maxUnavailable: \"999999999999999999%\"}}\n",
        ));
        assert_eq!(
            messages(&r, "rollout-recreate"),
            vec![
                "RollingUpdate with maxUnavailable 999999999999999999% (3 of 3 replicas): a rollout may stop every pod at once"
            ]
        );
        // The type may be left out: RollingUpdate is the default.
        let r = judge(&deployment(
            "  replicas: 3\n  strategy: {rollingUpdate: {maxUnavailable: 5}}\n",
        ));
        assert_eq!(
            messages(&r, "rollout-recreate"),
            vec![
                "RollingUpdate with maxUnavailable 5 with 3 replicas: a rollout may stop every pod at once"
            ]
        );
        for spec in [
            "  replicas: 3\n",
            "  replicas: 3\n  strategy: {type: RollingUpdate}\n",
            // 99% of 3, rounded down, is 2.
            "  replicas: 3\n  strategy: {rollingUpdate: {maxUnavailable: \"99%\"}}\n",
            "  replicas: 3\n  strategy: {rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}\n",
        ] {
            assert_eq!(
                outcome(&judge(&deployment(spec)), "rollout-recreate"),
                "pass",
                "{spec}"
            );
        }
        // One replica that serves nothing: a singleton worker may need Recreate.
        let single = deployment("  strategy: {type: Recreate}\n");
        assert_eq!(outcome(&judge(&single), "rollout-recreate"), "n/a");
        // An HPA's floor counts.
        let hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: \
                   {name: api, namespace: shop}\nspec: {scaleTargetRef: {apiVersion: apps/v1, \
                   kind: Deployment, name: api}, minReplicas: 3, maxReplicas: 6}\n";
        assert_eq!(
            outcome(&judge(&format!("{single}{hpa}")), "rollout-recreate"),
            "fail"
        );
        let sts = workload("StatefulSet", "  replicas: 3\n", "", "");
        assert_eq!(outcome(&judge(&sts), "rollout-recreate"), "n/a");
    }

    #[test]
    fn recreate_interrupts_a_single_serving_replica() {
        let serving = |spec: &str| format!("{}{SERVICE}", workload("Deployment", spec, "", PORT));
        let r = judge(&serving("  replicas: 1\n  strategy: {type: Recreate}\n"));
        assert_eq!(
            messages(&r, "rollout-recreate"),
            vec![
                "strategy Recreate with 1 replica: every rollout stops the pod before starting the new one, an outage on each release"
            ]
        );
        // No surge: the controller lets the only pod go before its replacement is ready.
        let r = judge(&serving(
            "  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: \"25%\"}}\n",
        ));
        assert_eq!(
            messages(&r, "rollout-recreate"),
            vec![
                "RollingUpdate with maxUnavailable 25% (1 of 1 replica): a rollout may stop the pod before its replacement is ready"
            ]
        );
        let r = judge(&serving("  strategy: {rollingUpdate: {maxSurge: 0}}\n"));
        assert_eq!(
            messages(&r, "rollout-recreate"),
            vec![
                "RollingUpdate with maxSurge 0 with 1 replica: a rollout may stop the pod before its replacement is ready"
            ]
        );
        // The default rolling update surges one pod and waits for it.
        for spec in ["", "  strategy: {type: RollingUpdate}\n"] {
            assert_eq!(
                outcome(&judge(&serving(spec)), "rollout-recreate"),
                "pass",
                "{spec}"
            );
        }
        // Services unknown, a declared port is taken to serve.
        let alone = workload("Deployment", "  strategy: {type: Recreate}\n", "", PORT);
        assert_eq!(outcome(&judge(&alone), "rollout-recreate"), "fail");
        // A claim the new pod must attach after the old one lets go of it.
        let claim = workload(
            "Deployment",
            "  strategy: {type: Recreate}\n",
            "      volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]\n",
            PORT,
        );
        assert_eq!(
            outcome(&judge(&format!("{claim}{SERVICE}")), "rollout-recreate"),
            "n/a"
        );
    }

    const PORT: &str = "        ports: [{containerPort: 8080, name: http}]\n";

    const PRE_STOP: &str = "        ports: [{containerPort: 8080, name: http}]\n        \
                            lifecycle: {preStop: {sleep: {seconds: 5}}}\n";

    #[test]
    fn graceful_shutdown() {
        let r = judge(&format!(
            "{}{SERVICE}",
            workload("Deployment", "", "", PORT)
        ));
        assert_eq!(
            messages(&r, "lifecycle-no-graceful-shutdown"),
            vec![
                "container \"app\" serves behind Service api but has no preStop hook: endpoints take a few seconds to drop a terminating pod, so requests still arrive after it starts shutting down"
            ]
        );
        let f = findings(&r, "lifecycle-no-graceful-shutdown")[0];
        assert_eq!(f.container.as_deref(), Some("app"));
        assert!(f.remediation.contains("preStop"));
        let r = judge(&format!(
            "{}{SERVICE}",
            workload("Deployment", "", "", PRE_STOP)
        ));
        assert_eq!(outcome(&r, "lifecycle-no-graceful-shutdown"), "pass");
        // One finding per problem.
        let r = judge(&format!(
            "{}{SERVICE}",
            workload(
                "Deployment",
                "",
                "      terminationGracePeriodSeconds: 0\n",
                PORT
            )
        ));
        assert_eq!(
            messages(&r, "lifecycle-no-graceful-shutdown"),
            vec![
                "terminationGracePeriodSeconds is 0 (under 5s) behind Service api: pods are killed 0s after SIGTERM, before in-flight requests can finish",
                "container \"app\" serves behind Service api but has no preStop hook: endpoints take a few seconds to drop a terminating pod, so requests still arrive after it starts shutting down",
            ]
        );
        assert_eq!(
            findings(&r, "lifecycle-no-graceful-shutdown")[0].remediation,
            "Set terminationGracePeriodSeconds to 5 or more (Kubernetes defaults to 30) and make the process finish in-flight requests on SIGTERM."
        );
        let mut spec = crate::api::ReadinessPolicySpec::default();
        spec.parameters.min_termination_grace_seconds = 60;
        let r = judge_with(
            &format!("{}{SERVICE}", workload("Deployment", "", "", PRE_STOP)),
            &spec,
        );
        assert_eq!(
            messages(&r, "lifecycle-no-graceful-shutdown"),
            vec![
                "terminationGracePeriodSeconds is 30 (under 60s) behind Service api: pods are killed 30s after SIGTERM, before in-flight requests can finish"
            ]
        );
        // A container no Service port targets (a worker) has nothing to drain.
        let r = judge(&format!("{}{SERVICE}", workload("Deployment", "", "", "")));
        assert_eq!(outcome(&r, "lifecycle-no-graceful-shutdown"), "n/a");
        // No Service selects it, no Service known at all, or not long-running.
        let r = judge(&format!(
            "{}{OTHER_SERVICE}",
            workload("Deployment", "", "", PORT)
        ));
        assert_eq!(outcome(&r, "lifecycle-no-graceful-shutdown"), "n/a");
        let r = judge(&workload("Deployment", "", "", PORT));
        assert_eq!(
            messages(&r, "lifecycle-no-graceful-shutdown"),
            vec![
                "not judged: no Service objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        let job = format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: m, namespace: shop}}\nspec:\n  template:\n    metadata: {{labels: {{app: api}}}}\n    spec:\n      restartPolicy: Never\n      containers: [{{name: m, image: m:1, ports: [{{containerPort: 80}}]}}]\n{SERVICE}"
        );
        assert_eq!(
            outcome(&judge(&job), "lifecycle-no-graceful-shutdown"),
            "n/a"
        );
    }
}
