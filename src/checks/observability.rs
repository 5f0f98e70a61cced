//! Observability: whether anything collects the workload's metrics and alerts on them.

use super::util::join_names;
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Severity};
use crate::text::annotations::SCRAPE as SCRAPE_ANNOTATION;
use crate::world::{LabelSet, RelatedKind};

pub const CHECKS: &[Check] = &[
    Check {
        id: "observability-no-metrics",
        category: Category::Observability,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "Nothing scrapes the workload's metrics",
        remediation: "Expose Prometheus metrics and have them scraped: a ServiceMonitor \
                      selecting its Service (or a PodMonitor selecting its pods) with the \
                      Prometheus Operator, or the annotations `prometheus.io/scrape: \"true\"` \
                      and `prometheus.io/port` on the pod template.",
        run: Run::Workload(no_metrics),
    },
    Check {
        id: "observability-no-alerts",
        category: Category::Observability,
        severity: Severity::Low,
        needs: Needs::Related,
        title: "The workload's namespace has no PrometheusRule",
        remediation: "Add a PrometheusRule in the namespace alerting on what users feel \
                      (error rate, latency, unavailable replicas, crash loops). If alerts live \
                      in a central namespace, exempt the check with the annotation \
                      `prodready.dev/exempt: observability-no-alerts`.",
        run: Run::Workload(no_alerts),
    },
];

fn scrape_requested<L: LabelSet + ?Sized>(annotations: &L) -> bool {
    annotations
        .label(SCRAPE_ANNOTATION)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn no_metrics(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let w = ctx.workload;
    if !w.is_long_running() {
        return;
    }
    let ns = w.namespace;
    let services = &ctx.related.services;
    let scraped = scrape_requested(w.pod_annotations())
        || services.iter().any(|s| scrape_requested(&s.annotations))
        || services.iter().any(|s| {
            !ctx.world
                .service_monitors_selecting(ns, &s.labels)
                .is_empty()
        })
        || !ctx
            .world
            .pod_monitors_selecting(ns, w.pod_labels())
            .is_empty();
    if scraped {
        return out.pass();
    }
    if !ctx.has_any(&[RelatedKind::ServiceMonitor, RelatedKind::PodMonitor]) {
        return out.skip_missing(&[RelatedKind::ServiceMonitor, RelatedKind::PodMonitor]);
    }
    // ServiceMonitors select Services: without them, a ServiceMonitor may scrape it unseen.
    if ctx.has(&[RelatedKind::ServiceMonitor]) && !ctx.has(&[RelatedKind::Service]) {
        return out.skip_missing(&[RelatedKind::Service]);
    }
    let annotated = if services.is_empty() {
        format!("its pods carry no {SCRAPE_ANNOTATION}: \"true\" annotation")
    } else {
        let names: Vec<&str> = services.iter().map(|s| &*s.name).collect();
        let noun = if names.len() == 1 {
            "Service"
        } else {
            "Services"
        };
        format!(
            "neither its pods nor {noun} {} carry {SCRAPE_ANNOTATION}: \"true\"",
            join_names(&names)
        )
    };
    out.fail(format!(
        "nothing scrapes its metrics: no ServiceMonitor or PodMonitor selects it and \
         {annotated}: failures and saturation go unseen until users notice"
    ));
}

fn no_alerts(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if !ctx.has(&[RelatedKind::PrometheusRule]) {
        return out.skip_missing(&[RelatedKind::PrometheusRule]);
    }
    let ns = ctx.workload.namespace;
    if ctx.world.prometheus_rules(ns).is_empty() {
        out.fail(format!(
            "namespace {ns} has no PrometheusRule: no alert rule of its own watches its \
             workloads, so only rules kept elsewhere (if any) notice when it fails"
        ));
    } else {
        out.pass();
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{judge, messages, outcome};

    fn deployment(pod_annotations: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\n\
             spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    \
             metadata: {{labels: {{app: api}}, annotations: {{{pod_annotations}}}}}\n    spec:\n      \
             containers: [{{name: app, image: api:1}}]\n"
        )
    }

    fn service(annotations: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\n  \
             labels: {{app: api}}\n  annotations: {{{annotations}}}\n\
             spec: {{selector: {{app: api}}, ports: [{{name: http, port: 80}}]}}\n"
        )
    }

    fn monitor(kind: &str, ns: &str, app: &str) -> String {
        format!(
            "---\napiVersion: monitoring.coreos.com/v1\nkind: {kind}\nmetadata: {{name: m, namespace: {ns}}}\n\
             spec:\n  selector: {{matchLabels: {{app: {app}}}}}\n"
        )
    }

    #[test]
    fn scraped_workloads_pass() {
        let annotated = deployment("prometheus.io/scrape: \"true\", prometheus.io/port: \"9090\"");
        assert_eq!(
            outcome(&judge(&annotated), "observability-no-metrics"),
            "pass"
        );
        let via_service = format!(
            "{}{}",
            deployment(""),
            service("prometheus.io/scrape: \"true\"")
        );
        assert_eq!(
            outcome(&judge(&via_service), "observability-no-metrics"),
            "pass"
        );
        let service_monitor = format!(
            "{}{}{}",
            deployment(""),
            service(""),
            monitor("ServiceMonitor", "shop", "api")
        );
        assert_eq!(
            outcome(&judge(&service_monitor), "observability-no-metrics"),
            "pass"
        );
        let pod_monitor = format!("{}{}", deployment(""), monitor("PodMonitor", "shop", "api"));
        assert_eq!(
            outcome(&judge(&pod_monitor), "observability-no-metrics"),
            "pass"
        );
    }

    #[test]
    fn unscraped_workloads_fail() {
        let r = judge(&format!(
            "{}{}{}",
            deployment("prometheus.io/scrape: \"false\""),
            service(""),
            monitor("ServiceMonitor", "shop", "web")
        ));
        assert_eq!(
            messages(&r, "observability-no-metrics"),
            vec![
                "nothing scrapes its metrics: no ServiceMonitor or PodMonitor selects it and neither its pods nor Service api carry prometheus.io/scrape: \"true\": failures and saturation go unseen until users notice"
            ]
        );
        // A monitor in another namespace looks only into its own.
        let r = judge(&format!(
            "{}{}",
            deployment(""),
            monitor("PodMonitor", "monitoring", "api")
        ));
        assert_eq!(
            messages(&r, "observability-no-metrics"),
            vec![
                "nothing scrapes its metrics: no ServiceMonitor or PodMonitor selects it and its pods carry no prometheus.io/scrape: \"true\" annotation: failures and saturation go unseen until users notice"
            ]
        );
    }

    #[test]
    fn metrics_not_judged() {
        let r = judge(&format!("{}{}", deployment(""), service("")));
        assert_eq!(
            messages(&r, "observability-no-metrics"),
            vec![
                "not judged: no ServiceMonitor or PodMonitor objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        // ServiceMonitors known, Services not: one may select a Service of the workload.
        let r = judge(&format!(
            "{}{}",
            deployment(""),
            monitor("ServiceMonitor", "shop", "web")
        ));
        assert_eq!(
            messages(&r, "observability-no-metrics"),
            vec![
                "not judged: no Service objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate, namespace: shop}\n\
             spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: m:1}]\n";
        assert_eq!(outcome(&judge(job), "observability-no-metrics"), "n/a");
    }

    fn rule(ns: &str) -> String {
        format!(
            "---\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\n\
             metadata: {{name: api-alerts, namespace: {ns}}}\nspec: {{groups: []}}\n"
        )
    }

    #[test]
    fn alerts() {
        let r = judge(&format!("{}{}", deployment(""), rule("monitoring")));
        assert_eq!(
            messages(&r, "observability-no-alerts"),
            vec![
                "namespace shop has no PrometheusRule: no alert rule of its own watches its workloads, so only rules kept elsewhere (if any) notice when it fails"
            ]
        );
        assert_eq!(
            outcome(
                &judge(&format!("{}{}", deployment(""), rule("shop"))),
                "observability-no-alerts"
            ),
            "pass"
        );
        assert_eq!(
            outcome(&judge(&deployment("")), "observability-no-alerts"),
            "skip"
        );
    }
}
