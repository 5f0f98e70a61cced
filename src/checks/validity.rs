//! Validity: objects that route to, select or refer to nothing. Kubernetes accepts them and
//! nothing works: a Service without endpoints answers every request with a refused connection.

use super::util::join_names;
use super::{Check, NamespaceCtx, Out, Run};
use crate::api::{Category, Needs, Severity};
use crate::world::RelatedKind;

pub const CHECKS: &[Check] = &[Check {
    id: "validity-service-selects-nothing",
    category: Category::Validity,
    severity: Severity::Medium,
    needs: Needs::Related,
    title: "A Service's selector matches no pod",
    remediation: "Make the Service's spec.selector match the labels of the pods it should \
                  route to (compare `kubectl get svc <name> -o jsonpath='{.spec.selector}'` \
                  with `kubectl get pods --show-labels`), or remove the Service.",
    run: Run::Namespace(service_selects_nothing),
}];

fn service_selects_nothing(ctx: &NamespaceCtx<'_>, out: &mut Out<'_>) {
    if !ctx.has(&[RelatedKind::Service]) {
        return;
    }
    let proven = ctx.absence_proven();
    // Offline, a namespace none of whose workloads is in the input says nothing about where
    // its Services route: the manifests audited are someone else's part of it.
    let workloads_known = ctx.world.templates(ctx.namespace).next().is_some();
    if !proven && !workloads_known {
        return;
    }
    for (selector, service) in ctx.world.services_in(ctx.namespace) {
        // No selector (endpoints kept by hand or by a controller) or an ExternalName: the
        // Service routes by other means.
        if selector.is_nothing() || &*service.service_type == "ExternalName" {
            continue;
        }
        if ctx.world.first_selected(ctx.namespace, selector).is_some() {
            out.pass();
            continue;
        }
        let object = format!("Service/{}", service.name);
        let selected = selector.describe();
        if proven {
            out.fail(format!(
                "Service {} selects {selected}, which no pod or pod template in namespace {} \
                 carries: it has no endpoints, so every connection to it is refused",
                service.name, ctx.namespace
            ))
            .object(object);
        } else {
            let workloads: Vec<String> = ctx
                .world
                .templates(ctx.namespace)
                .take(3)
                .map(|t| t.workload.to_string())
                .collect();
            out.warn(format!(
                "Service {} selects {selected}, which no pod template in the input carries \
                 (the input's workloads in namespace {} are {}{}): unless its pods come from \
                 manifests not audited here, it has no endpoints",
                service.name,
                ctx.namespace,
                join_names(&workloads),
                if ctx.world.templates(ctx.namespace).count() > 3 {
                    "..."
                } else {
                    ""
                }
            ))
            .object(object);
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use crate::api::{CheckResult, Report};
    use crate::engine::{CompiledPolicy, evaluate_namespace};
    use crate::input::Inventory;

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n\
        spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
        spec: {containers: [{name: app, image: web:1.0, ports: [{name: http, containerPort: 8080}]}]}\n";

    fn service(name: &str, selector: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: shop}}\n\
             spec: {{selector: {selector}, ports: [{{port: 80, targetPort: http}}]}}\n"
        )
    }

    fn namespace_report(text: &str, complete: bool) -> Option<Report> {
        let mut inventory = Inventory::new();
        inventory.add_text("test.yaml", text);
        assert!(inventory.errors.is_empty(), "{:?}", inventory.errors);
        inventory.world.set_partial(!complete);
        let policy = CompiledPolicy::builtin();
        evaluate_namespace("shop", &inventory.world, &policy, Timestamp::UNIX_EPOCH)
    }

    fn outcome(report: &Report) -> Vec<(CheckResult, &str, &str)> {
        report
            .findings
            .iter()
            .filter(|f| f.check_id == "validity-service-selects-nothing")
            .map(|f| (f.result, f.object.as_deref().unwrap_or(""), &*f.message))
            .collect()
    }

    #[test]
    fn a_service_whose_selector_matches_a_template_passes() {
        let r = namespace_report(
            &format!("{DEPLOYMENT}{}", service("web", "{app: web}")),
            true,
        )
        .expect("a namespace report");
        assert!(
            r.passed_checks
                .iter()
                .any(|c| c == "validity-service-selects-nothing")
        );
        assert!(outcome(&r).is_empty());
    }

    #[test]
    fn a_typo_in_the_selector_fails_when_the_namespace_is_complete() {
        let r = namespace_report(
            &format!("{DEPLOYMENT}{}", service("web", "{app: wbe}")),
            true,
        )
        .expect("a namespace report");
        assert_eq!(
            outcome(&r),
            [(
                CheckResult::Fail,
                "Service/web",
                "Service web selects app=wbe, which no pod or pod template in namespace shop \
                 carries: it has no endpoints, so every connection to it is refused"
            )]
        );
        assert_eq!(r.workload.display(), "Namespace/shop");
    }

    #[test]
    fn offline_and_partial_it_is_a_warning_naming_the_workloads_seen() {
        let r = namespace_report(
            &format!("{DEPLOYMENT}{}", service("web", "{app: wbe}")),
            false,
        )
        .expect("a namespace report");
        assert_eq!(
            outcome(&r),
            [(
                CheckResult::Warn,
                "Service/web",
                "Service web selects app=wbe, which no pod template in the input carries (the \
                 input's workloads in namespace shop are Deployment/web): unless its pods come \
                 from manifests not audited here, it has no endpoints"
            )]
        );
    }

    #[test]
    fn services_without_selector_and_namespaces_without_workloads_say_nothing() {
        let manual = "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\n\
                      spec: {ports: [{port: 5432}]}\n";
        assert!(
            namespace_report(&format!("{DEPLOYMENT}---\n{manual}"), true)
                .is_none_or(|r| outcome(&r).is_empty())
        );
        // Only a Service in the input: its pods are someone else's manifests.
        assert!(namespace_report(&service("web", "{app: wbe}"), false).is_none());
    }
}
