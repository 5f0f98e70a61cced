//! Validity: objects that route to, select or refer to nothing. Kubernetes accepts them and
//! nothing works: a Service without endpoints answers every request with a refused connection.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::util::join_names;
use super::{Check, Ctx, NamespaceCtx, Out, Run};
use crate::api::{Category, Needs, Severity};
use crate::workload::WorkloadObject;
use crate::world::{RelatedKind, Selector};

pub const CHECKS: &[Check] = &[
    Check {
        id: "validity-service-selects-nothing",
        category: Category::Validity,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "A Service's selector matches no pod",
        remediation: "Make the Service's spec.selector match the labels of the pods it should \
                  route to (compare `kubectl get svc <name> -o jsonpath='{.spec.selector}'` \
                  with `kubectl get pods --show-labels`), or remove the Service.",
        run: Run::Namespace(service_selects_nothing),
    },
    Check {
        id: "validity-service-port-unknown",
        category: Category::Validity,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "A Service targets a port no container of its pods declares",
        remediation: "Make the Service port's targetPort name (or number) one that the \
                      selected containers declare in `ports` (compare `kubectl get svc <name> \
                      -o yaml` with the pod template), or declare the port on the container.",
        run: Run::Namespace(service_port_unknown),
    },
    Check {
        id: "validity-selector-mismatch",
        category: Category::Validity,
        severity: Severity::Critical,
        needs: Needs::Object,
        title: "A workload's selector does not match its pod template's labels",
        remediation: "Make spec.selector match labels that spec.template.metadata.labels \
                      carries (the selector of an existing Deployment, StatefulSet or DaemonSet \
                      cannot change: change the template's labels, or delete and recreate the \
                      workload).",
        run: Run::Workload(selector_mismatch),
    },
    Check {
        id: "validity-statefulset-service-missing",
        category: Category::Validity,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "A StatefulSet's serviceName is not a headless Service of its namespace",
        remediation: "Create the governing Service the StatefulSet's serviceName names, headless \
                      (clusterIP: None) and selecting its pods, so each pod gets its stable DNS \
                      name (<pod>.<service>.<namespace>.svc).",
        run: Run::Workload(statefulset_service_missing),
    },
    Check {
        id: "validity-networkpolicy-selects-nothing",
        category: Category::Validity,
        severity: Severity::Low,
        needs: Needs::Related,
        title: "A NetworkPolicy's podSelector matches no pod",
        remediation: "Make the NetworkPolicy's spec.podSelector match the labels of the pods it \
                      should protect (compare with `kubectl get pods --show-labels`), or remove \
                      the policy.",
        run: Run::Namespace(network_policy_selects_nothing),
    },
    Check {
        id: "validity-pdb-selects-nothing",
        category: Category::Validity,
        severity: Severity::Low,
        needs: Needs::Related,
        title: "A PodDisruptionBudget's selector matches no pod",
        remediation: "Make the PodDisruptionBudget's spec.selector match the labels of the pods \
                      it should protect (compare with `kubectl get pods --show-labels`), or \
                      remove it.",
        run: Run::Namespace(pdb_selects_nothing),
    },
    Check {
        id: "validity-hpa-target-missing",
        category: Category::Validity,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "A HorizontalPodAutoscaler's scaleTargetRef names no workload",
        remediation: "Point the HorizontalPodAutoscaler's spec.scaleTargetRef at the kind and \
                      name of the workload it should scale (`kubectl get deploy,sts -n <ns>`), \
                      or remove it.",
        run: Run::Namespace(hpa_target_missing),
    },
    Check {
        id: "validity-ingress-backend-missing",
        category: Category::Validity,
        severity: Severity::High,
        needs: Needs::Related,
        title: "An Ingress routes to a Service or Service port that does not exist",
        remediation: "Point the Ingress backend at an existing Service of its namespace and at \
                      one of that Service's ports, by number (spec.ports[].port, not the \
                      targetPort) or by name (`kubectl get svc <name> -o yaml`), or create the \
                      Service.",
        run: Run::Namespace(ingress_backend_missing),
    },
];

fn service_port_unknown(ctx: &NamespaceCtx<'_>, out: &mut Out<'_>) {
    if !ctx.has(&[RelatedKind::Service]) {
        return;
    }
    let proven = ctx.absence_proven();
    for (selector, service) in ctx.world.services_in(ctx.namespace) {
        if selector.is_nothing() || &*service.service_type == "ExternalName" {
            continue;
        }
        let (templates, unjudged) = ctx.world.selected_templates(ctx.namespace, selector);
        // Selecting nothing is validity-service-selects-nothing's finding; pods of an owner
        // prodready does not judge declare ports it does not know.
        if templates.is_empty() || unjudged {
            continue;
        }
        let workloads: Vec<&str> = templates.iter().map(|t| &*t.workload).collect();
        let workloads = join_names(&workloads);
        let mut ok = true;
        for port in service.ports.iter() {
            // Unset, targetPort is the port itself.
            let target = port
                .target_port
                .clone()
                .unwrap_or(IntOrString::Int(port.port));
            if templates.iter().any(|t| t.declares(&target)) {
                continue;
            }
            let shown = match &port.name {
                Some(n) => format!("{} ({n})", port.port),
                None => port.port.to_string(),
            };
            let object = format!("Service/{}", service.name);
            match &target {
                // A name resolves only against the ports a container declares: a pod that does
                // not declare it is no endpoint of that port.
                IntOrString::String(name) => {
                    ok = false;
                    if proven {
                        out.fail(format!(
                            "Service {} port {shown} targets port name {name}, which no \
                             container of the pods it selects ({workloads}) declares: that port \
                             has no endpoints, so its connections are refused",
                            service.name
                        ))
                        .object(object);
                    } else {
                        out.warn(format!(
                            "Service {} port {shown} targets port name {name}, which no \
                             container of the pod templates it selects in the input \
                             ({workloads}) declares: unless pods from manifests not audited \
                             here declare it, that port has no endpoints",
                            service.name
                        ))
                        .object(object);
                    }
                }
                // A number reaches the pod whether declared or not: a process may listen on a
                // port its container does not declare. Only when every selected template
                // declares its ports and none is this one is it likely a mistake, never proven.
                IntOrString::Int(number) => {
                    if templates.iter().any(|t| t.ports.is_empty()) {
                        continue;
                    }
                    ok = false;
                    let mut declared: Vec<String> = templates
                        .iter()
                        .flat_map(|t| t.ports.iter())
                        .map(|p| match &p.name {
                            Some(n) => format!("{} ({n})", p.number),
                            None => p.number.to_string(),
                        })
                        .collect();
                    declared.sort();
                    declared.dedup();
                    out.warn(format!(
                        "Service {} port {shown} targets port {number}, which no container of \
                         the pods it selects ({workloads}) declares (they declare {}): unless a \
                         process listens there undeclared, its connections are refused",
                        service.name,
                        join_names(&declared)
                    ))
                    .object(object);
                }
            }
        }
        if ok {
            out.pass();
        }
    }
}

fn ingress_backend_missing(ctx: &NamespaceCtx<'_>, out: &mut Out<'_>) {
    if !ctx.has(&[RelatedKind::Ingress, RelatedKind::Service]) {
        return;
    }
    let proven = ctx.absence_proven();
    for ingress in ctx.world.ingresses_in(ctx.namespace) {
        let object = format!("Ingress/{}", ingress.name);
        let mut ok = true;
        for backend in &ingress.backends {
            let name = &backend.service;
            let Some(service) = ctx.world.service(ctx.namespace, name) else {
                ok = false;
                if proven {
                    out.fail(format!(
                        "Ingress {} routes to Service {name}, which does not exist in namespace \
                         {}: the controller answers those requests with an error (503 or 404)",
                        ingress.name, ctx.namespace
                    ))
                    .object(object.clone());
                } else {
                    out.warn(format!(
                        "Ingress {} routes to Service {name}, which is not in the input: unless \
                         it is created elsewhere, the controller answers those requests with an \
                         error (503 or 404)",
                        ingress.name
                    ))
                    .object(object.clone());
                }
                continue;
            };
            // An ExternalName Service may declare no port: the controller uses the backend's.
            if &*service.service_type == "ExternalName" {
                continue;
            }
            let Some(port) = &backend.port else {
                continue;
            };
            let found = service.ports.iter().any(|p| match port {
                IntOrString::Int(n) => p.port == *n,
                IntOrString::String(s) => p.name.as_deref() == Some(s.as_str()),
            });
            if found {
                continue;
            }
            ok = false;
            let declared: Vec<String> = service
                .ports
                .iter()
                .map(|p| match &p.name {
                    Some(n) => format!("{} ({n})", p.port),
                    None => p.port.to_string(),
                })
                .collect();
            let (what, port) = match port {
                IntOrString::Int(n) => ("port", n.to_string()),
                IntOrString::String(s) => ("port name", s.clone()),
            };
            out.fail(format!(
                "Ingress {} routes to {what} {port} of Service {name}, which has no such port \
                 (it has {}): the controller answers those requests with an error (503)",
                ingress.name,
                if declared.is_empty() {
                    "none".to_string()
                } else {
                    join_names(&declared)
                }
            ))
            .object(object.clone());
        }
        if ok && !ingress.backends.is_empty() {
            out.pass();
        }
    }
}

/// What a selector of kind `kind` (NetworkPolicy, PodDisruptionBudget) applies to, judged as
/// `validity-service-selects-nothing` judges a Service's: `consequence` says what it means
/// when it matches nothing.
fn selects_nothing<'w, T: 'w>(
    ctx: &NamespaceCtx<'w>,
    out: &mut Out<'_>,
    kind: &str,
    objects: Vec<(&'w Selector, &'w T)>,
    name: impl Fn(&T) -> &str,
    consequence: &str,
) {
    let proven = ctx.absence_proven();
    // Offline, a namespace none of whose workloads is in the input says nothing: its pods are
    // in manifests not audited here.
    if !proven && ctx.world.templates(ctx.namespace).next().is_none() {
        return;
    }
    for (selector, object) in objects {
        // An empty selector applies to every pod of the namespace, one to come included; an
        // unreadable one is refused by the API server.
        if selector.is_everything() || selector.is_nothing() {
            continue;
        }
        if ctx.world.first_selected(ctx.namespace, selector).is_some() {
            out.pass();
            continue;
        }
        let name = name(object);
        let selected = selector.describe();
        if proven {
            out.fail(format!(
                "{kind} {name} selects {selected}, which no pod or pod template in namespace {} \
                 carries: {consequence}",
                ctx.namespace
            ))
        } else {
            out.warn(format!(
                "{kind} {name} selects {selected}, which no pod template in the input carries \
                 (the input's workloads in namespace {} are {}): unless its pods come from \
                 manifests not audited here, {consequence}",
                ctx.namespace,
                workloads_seen(ctx)
            ))
        }
        .object(format!("{kind}/{name}"));
    }
}

/// The first workloads of the namespace in the input, for a message.
fn workloads_seen(ctx: &NamespaceCtx<'_>) -> String {
    let workloads: Vec<String> = ctx
        .world
        .templates(ctx.namespace)
        .take(3)
        .map(|t| t.workload.to_string())
        .collect();
    let more = ctx.world.templates(ctx.namespace).nth(3).is_some();
    format!(
        "{}{}",
        join_names(&workloads),
        if more { "..." } else { "" }
    )
}

fn network_policy_selects_nothing(ctx: &NamespaceCtx<'_>, out: &mut Out<'_>) {
    if !ctx.has(&[RelatedKind::NetworkPolicy]) {
        return;
    }
    selects_nothing(
        ctx,
        out,
        "NetworkPolicy",
        ctx.world.network_policies_in(ctx.namespace),
        |p| &p.name,
        "it restricts no traffic, so the pods it was written for are as open as without it",
    );
}

fn pdb_selects_nothing(ctx: &NamespaceCtx<'_>, out: &mut Out<'_>) {
    if !ctx.has(&[RelatedKind::PodDisruptionBudget]) {
        return;
    }
    selects_nothing(
        ctx,
        out,
        "PodDisruptionBudget",
        ctx.world.pdbs_in(ctx.namespace),
        |p| &p.name,
        "it protects nothing, so a node drain may evict every pod it was written for at once",
    );
}

/// The kinds an autoscaler can target that prodready judges: any other (a custom resource
/// with a scale subresource) is not in its index, so its absence proves nothing.
const SCALABLE: &[&str] = &["Deployment", "StatefulSet", "ReplicaSet"];

fn hpa_target_missing(ctx: &NamespaceCtx<'_>, out: &mut Out<'_>) {
    if !ctx.has(&[RelatedKind::HorizontalPodAutoscaler]) {
        return;
    }
    let proven = ctx.absence_proven();
    if !proven && ctx.world.templates(ctx.namespace).next().is_none() {
        return;
    }
    for hpa in ctx.world.hpas_in(ctx.namespace) {
        if !SCALABLE.contains(&&*hpa.target_kind) {
            continue;
        }
        let target = format!("{}/{}", hpa.target_kind, hpa.target_name);
        if ctx.world.template(ctx.namespace, &target).is_some() {
            out.pass();
            continue;
        }
        if proven {
            out.fail(format!(
                "HorizontalPodAutoscaler {} scales {target}, which does not exist in namespace \
                 {}: nothing is autoscaled, and the workload it was written for keeps a fixed \
                 size",
                hpa.name, ctx.namespace
            ))
        } else {
            out.warn(format!(
                "HorizontalPodAutoscaler {} scales {target}, which is not in the input (the \
                 input's workloads in namespace {} are {}): unless it comes from manifests not \
                 audited here, nothing is autoscaled",
                hpa.name,
                ctx.namespace,
                workloads_seen(ctx)
            ))
        }
        .object(format!("HorizontalPodAutoscaler/{}", hpa.name));
    }
}

/// Whether labels satisfy a LabelSelector, read as the API server reads a workload's: an empty
/// selector matches nothing (apps/v1 refuses it).
fn selects(selector: &LabelSelector, labels: &std::collections::BTreeMap<String, String>) -> bool {
    let equals = selector.match_labels.iter().flatten();
    let expressions = selector.match_expressions.iter().flatten();
    if equals.clone().next().is_none() && expressions.clone().next().is_none() {
        return false;
    }
    equals.into_iter().all(|(k, v)| labels.get(k) == Some(v))
        && expressions.into_iter().all(|e| {
            let values = e.values.as_deref().unwrap_or(&[]);
            let value = labels.get(&e.key);
            match e.operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        })
}

fn selector_mismatch(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let selector = match ctx.workload.object {
        WorkloadObject::Deployment(d) => d.spec.as_ref().map(|s| &s.selector),
        WorkloadObject::StatefulSet(s) => s.spec.as_ref().map(|s| &s.selector),
        WorkloadObject::DaemonSet(d) => d.spec.as_ref().map(|s| &s.selector),
        WorkloadObject::ReplicaSet(r) => r.spec.as_ref().map(|s| &s.selector),
        // A Job's selector is generated unless set by hand (manualSelector).
        WorkloadObject::Job(j) => j.spec.as_ref().and_then(|s| s.selector.as_ref()),
        _ => None,
    };
    let Some(selector) = selector else {
        return;
    };
    let labels = ctx.workload.pod_labels();
    // A match is not counted as a pass: every object the API server accepts has one, and a
    // critical pass on every workload would lift every score without saying anything.
    if selects(selector, labels) {
        return;
    }
    let described = Selector::from_label_selector(Some(selector), true).describe();
    let carried: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let message = if described.is_empty() {
        "spec.selector is empty: the API server refuses the workload, so it is never created or \
         updated"
            .to_string()
    } else {
        format!(
            "spec.selector {described} does not match the pod template's labels ({}): the API \
             server refuses the workload, so it is never created or updated",
            if carried.is_empty() {
                "none".to_string()
            } else {
                carried.join(",")
            }
        )
    };
    out.fail(message);
}

fn statefulset_service_missing(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let WorkloadObject::StatefulSet(sts) = ctx.workload.object else {
        return;
    };
    // Since Kubernetes 1.32 serviceName may be left out: the pods then get no DNS names of
    // their own, by choice.
    let Some(name) = sts
        .spec
        .as_ref()
        .and_then(|s| s.service_name.as_deref())
        .filter(|n| !n.is_empty())
    else {
        return;
    };
    if !ctx.has(&[RelatedKind::Service]) {
        return out.skip_missing(&[RelatedKind::Service]);
    }
    let ns = ctx.workload.namespace;
    let object = format!("Service/{name}");
    match ctx.world.service(ns, name) {
        Some(service) if service.headless => out.pass(),
        Some(service) => {
            out.fail(format!(
                "serviceName {name} is a Service of type {} that is not headless: the pods get \
                 no stable DNS names (<pod>.{name}), which peers use to find each other",
                service.service_type
            ))
            .object(object)
            .remediation(format!(
                "Make Service {name} headless (spec.clusterIP: None; the field cannot change, so \
                 recreate it) or point serviceName at a headless Service selecting the pods; keep \
                 a separate ClusterIP Service for clients."
            ));
        }
        None if ctx.absence_proven() => {
            out.fail(format!(
                "serviceName {name} names no Service in namespace {ns}: the pods get no stable \
                 DNS names (<pod>.{name}), which peers use to find each other"
            ))
            .object(object);
        }
        None => {
            out.warn(format!(
                "serviceName {name} names a Service that is not in the input: unless it is \
                 created elsewhere, headless, the pods get no stable DNS names (<pod>.{name})"
            ))
            .object(object);
        }
    }
}

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

    fn findings_of<'r>(report: &'r Report, check: &str) -> Vec<(CheckResult, &'r str, &'r str)> {
        report
            .findings
            .iter()
            .filter(|f| f.check_id == check)
            .map(|f| (f.result, f.object.as_deref().unwrap_or(""), &*f.message))
            .collect()
    }

    fn passes(report: &Report, check: &str) -> bool {
        report.passed_checks.iter().any(|c| c == check)
    }

    const POLICY: &str = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: \
        {name: web-ingress, namespace: shop}\nspec: {podSelector: {matchLabels: {app: SELECTED}}, \
        policyTypes: [Ingress]}\n";

    #[test]
    fn a_network_policy_that_selects_no_pod_fails_when_proven() {
        let id = "validity-networkpolicy-selects-nothing";
        let text = format!("{DEPLOYMENT}{}", POLICY.replace("SELECTED", "wbe"));
        let r = namespace_report(&text, true).expect("a namespace report");
        assert_eq!(
            findings_of(&r, id),
            [(
                CheckResult::Fail,
                "NetworkPolicy/web-ingress",
                "NetworkPolicy web-ingress selects app=wbe, which no pod or pod template in \
                 namespace shop carries: it restricts no traffic, so the pods it was written for \
                 are as open as without it"
            )]
        );
        let r = namespace_report(&text, false).expect("a namespace report");
        assert_eq!(findings_of(&r, id)[0].0, CheckResult::Warn);
        let fine = format!("{DEPLOYMENT}{}", POLICY.replace("SELECTED", "web"));
        let r = namespace_report(&fine, true).expect("a namespace report");
        assert!(passes(&r, id) && findings_of(&r, id).is_empty());
        // An empty podSelector applies to every pod, those to come included.
        let all = format!(
            "{DEPLOYMENT}{}",
            POLICY.replace("{matchLabels: {app: SELECTED}}", "{}")
        );
        let r = namespace_report(&all, true);
        assert!(r.is_none_or(|r| findings_of(&r, id).is_empty()));
    }

    #[test]
    fn a_pdb_that_selects_no_pod_fails_when_proven() {
        let id = "validity-pdb-selects-nothing";
        let pdb = |app: &str| {
            format!(
                "{DEPLOYMENT}---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: \
                 {{name: web, namespace: shop}}\nspec: {{maxUnavailable: 1, selector: \
                 {{matchLabels: {{app: {app}}}}}}}\n"
            )
        };
        let r = namespace_report(&pdb("frontend"), true).expect("a namespace report");
        assert_eq!(
            findings_of(&r, id),
            [(
                CheckResult::Fail,
                "PodDisruptionBudget/web",
                "PodDisruptionBudget web selects app=frontend, which no pod or pod template in \
                 namespace shop carries: it protects nothing, so a node drain may evict every \
                 pod it was written for at once"
            )]
        );
        let r = namespace_report(&pdb("frontend"), false).expect("a namespace report");
        assert_eq!(
            findings_of(&r, id),
            [(
                CheckResult::Warn,
                "PodDisruptionBudget/web",
                "PodDisruptionBudget web selects app=frontend, which no pod template in the input \
                 carries (the input's workloads in namespace shop are Deployment/web): unless its \
                 pods come from manifests not audited here, it protects nothing, so a node drain \
                 may evict every pod it was written for at once"
            )]
        );
        let r = namespace_report(&pdb("web"), true).expect("a namespace report");
        assert!(passes(&r, id) && findings_of(&r, id).is_empty());
    }

    #[test]
    fn an_hpa_whose_target_is_missing_fails_when_proven() {
        let id = "validity-hpa-target-missing";
        let hpa = |kind: &str, name: &str| {
            format!(
                "{DEPLOYMENT}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n\
                 metadata: {{name: web, namespace: shop}}\nspec: {{scaleTargetRef: {{apiVersion: \
                 apps/v1, kind: {kind}, name: {name}}}, minReplicas: 2, maxReplicas: 5}}\n"
            )
        };
        let r = namespace_report(&hpa("Deployment", "webb"), true).expect("a namespace report");
        assert_eq!(
            findings_of(&r, id),
            [(
                CheckResult::Fail,
                "HorizontalPodAutoscaler/web",
                "HorizontalPodAutoscaler web scales Deployment/webb, which does not exist in \
                 namespace shop: nothing is autoscaled, and the workload it was written for keeps \
                 a fixed size"
            )]
        );
        // The kind counts: a StatefulSet named web is not the Deployment.
        let r = namespace_report(&hpa("StatefulSet", "web"), false).expect("a namespace report");
        assert_eq!(
            findings_of(&r, id),
            [(
                CheckResult::Warn,
                "HorizontalPodAutoscaler/web",
                "HorizontalPodAutoscaler web scales StatefulSet/web, which is not in the input \
                 (the input's workloads in namespace shop are Deployment/web): unless it comes \
                 from manifests not audited here, nothing is autoscaled"
            )]
        );
        let r = namespace_report(&hpa("Deployment", "web"), true).expect("a namespace report");
        assert!(passes(&r, id) && findings_of(&r, id).is_empty());
        // A custom resource with a scale subresource is not in the index: nothing is said.
        let r = namespace_report(&hpa("Rollout", "web"), true);
        assert!(r.is_none_or(|r| findings_of(&r, id).is_empty()));
    }

    fn ingress(backends: &str) -> String {
        format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: shop, \
             namespace: shop}}\nspec:\n  rules:\n  - host: shop.example.com\n    http:\n      \
             paths:\n{backends}"
        )
    }

    fn path(service: &str, port: &str) -> String {
        format!(
            "      - {{path: /, pathType: Prefix, backend: {{service: {{name: {service}, port: \
             {port}}}}}}}\n"
        )
    }

    #[test]
    fn an_ingress_to_a_missing_service_or_port_fails() {
        let id = "validity-ingress-backend-missing";
        let svc = service("web", "{app: web}").replace("port: 80,", "name: http, port: 80,");
        let text = format!(
            "{DEPLOYMENT}{svc}{}",
            ingress(&format!(
                "{}{}{}",
                path("web", "{number: 8080}"),
                path("web", "{name: https}"),
                path("api", "{number: 80}")
            ))
        );
        let r = namespace_report(&text, true).expect("a namespace report");
        assert_eq!(
            findings_of(&r, id),
            [
                (
                    CheckResult::Fail,
                    "Ingress/shop",
                    "Ingress shop routes to port 8080 of Service web, which has no such port (it \
                     has 80 (http)): the controller answers those requests with an error (503)"
                ),
                (
                    CheckResult::Fail,
                    "Ingress/shop",
                    "Ingress shop routes to port name https of Service web, which has no such \
                     port (it has 80 (http)): the controller answers those requests with an error \
                     (503)"
                ),
                (
                    CheckResult::Fail,
                    "Ingress/shop",
                    "Ingress shop routes to Service api, which does not exist in namespace shop: \
                     the controller answers those requests with an error (503 or 404)"
                ),
            ]
        );
        // Offline, a Service the input lacks may be created elsewhere; a port the Service it
        // holds lacks is proven.
        let r = namespace_report(&text, false).expect("a namespace report");
        let results: Vec<CheckResult> = findings_of(&r, id).iter().map(|f| f.0).collect();
        assert_eq!(
            results,
            [CheckResult::Fail, CheckResult::Fail, CheckResult::Warn]
        );
    }

    #[test]
    fn an_ingress_to_an_existing_service_port_passes() {
        let id = "validity-ingress-backend-missing";
        let svc = service("web", "{app: web}").replace("port: 80,", "name: http, port: 80,");
        for port in ["{number: 80}", "{name: http}"] {
            let text = format!("{DEPLOYMENT}{svc}{}", ingress(&path("web", port)));
            let r = namespace_report(&text, true).expect("a namespace report");
            assert!(passes(&r, id), "{port}");
            assert!(findings_of(&r, id).is_empty(), "{port}");
        }
    }

    #[test]
    fn a_service_port_named_for_no_container_fails_when_proven() {
        let id = "validity-service-port-unknown";
        let svc = service("web", "{app: web}").replace("targetPort: http", "targetPort: htpp");
        let text = format!("{DEPLOYMENT}{svc}");
        let r = namespace_report(&text, true).expect("a namespace report");
        assert_eq!(
            findings_of(&r, id),
            [(
                CheckResult::Fail,
                "Service/web",
                "Service web port 80 targets port name htpp, which no container of the pods it \
                 selects (Deployment/web) declares: that port has no endpoints, so its \
                 connections are refused"
            )]
        );
        let r = namespace_report(&text, false).expect("a namespace report");
        assert_eq!(
            findings_of(&r, id),
            [(
                CheckResult::Warn,
                "Service/web",
                "Service web port 80 targets port name htpp, which no container of the pod \
                 templates it selects in the input (Deployment/web) declares: unless pods from \
                 manifests not audited here declare it, that port has no endpoints"
            )]
        );
    }

    #[test]
    fn an_undeclared_service_port_number_is_at_most_a_warning() {
        let id = "validity-service-port-unknown";
        // The containers declare 8080 only: 9090 is likely a mistake, not a proof.
        let svc = service("web", "{app: web}").replace("targetPort: http", "targetPort: 9090");
        let r = namespace_report(&format!("{DEPLOYMENT}{svc}"), true).expect("a report");
        assert_eq!(
            findings_of(&r, id),
            [(
                CheckResult::Warn,
                "Service/web",
                "Service web port 80 targets port 9090, which no container of the pods it \
                 selects (Deployment/web) declares (they declare 8080 (http)): unless a process \
                 listens there undeclared, its connections are refused"
            )]
        );
        // A container that declares no port may listen anywhere: nothing is said.
        let bare = DEPLOYMENT.replace(", ports: [{name: http, containerPort: 8080}]", "");
        let r = namespace_report(&format!("{bare}{svc}"), true).expect("a report");
        assert!(findings_of(&r, id).is_empty());
    }

    #[test]
    fn a_service_port_a_container_declares_passes() {
        let id = "validity-service-port-unknown";
        for target in ["targetPort: http", "targetPort: 8080"] {
            let svc = service("web", "{app: web}").replace("targetPort: http", target);
            let r = namespace_report(&format!("{DEPLOYMENT}{svc}"), true).expect("a report");
            assert!(passes(&r, id), "{target}");
            assert!(findings_of(&r, id).is_empty(), "{target}");
        }
    }

    mod workloads {
        use crate::testing::{findings, judge, judge_complete, messages, outcome};

        fn workload(kind: &str, selector: &str, labels: &str) -> String {
            format!(
                "apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: db, namespace: shop}}\n\
                 spec:\n  serviceName: db\n  selector: {selector}\n  template:\n    metadata: \
                 {{labels: {labels}}}\n    spec: {{containers: [{{name: db, image: db:1.0}}]}}\n"
            )
            .replace(
                "  serviceName: db\n",
                if kind == "StatefulSet" {
                    "  serviceName: db\n"
                } else {
                    ""
                },
            )
        }

        #[test]
        fn a_selector_its_template_does_not_carry_fails() {
            let r = judge(&workload(
                "Deployment",
                "{matchLabels: {app: db, tier: data}}",
                "{app: db}",
            ));
            assert_eq!(
                messages(&r, "validity-selector-mismatch"),
                [
                    "spec.selector app=db,tier=data does not match the pod template's labels \
                     (app=db): the API server refuses the workload, so it is never created or \
                     updated"
                ]
            );
            let r = judge(&workload(
                "DaemonSet",
                "{matchExpressions: [{key: app, operator: In, values: [web]}]}",
                "{app: db}",
            ));
            assert_eq!(outcome(&r, "validity-selector-mismatch"), "fail");
            let r = judge(&workload("ReplicaSet", "{}", "{app: db}"));
            assert_eq!(
                messages(&r, "validity-selector-mismatch"),
                [
                    "spec.selector is empty: the API server refuses the workload, so it is never \
                     created or updated"
                ]
            );
        }

        #[test]
        fn a_selector_its_template_carries_passes() {
            for (selector, labels) in [
                ("{matchLabels: {app: db}}", "{app: db, version: v2}"),
                (
                    "{matchExpressions: [{key: app, operator: In, values: [db, cache]}, \
                     {key: canary, operator: DoesNotExist}]}",
                    "{app: db}",
                ),
            ] {
                // A match says nothing, and is not scored as a pass.
                let r = judge(&workload("StatefulSet", selector, labels));
                assert_eq!(
                    outcome(&r, "validity-selector-mismatch"),
                    "n/a",
                    "{selector}"
                );
            }
            // A Job's selector is generated; a bare Pod has none.
            let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: m, namespace: shop}\n\
                       spec:\n  template:\n    spec:\n      restartPolicy: Never\n      \
                       containers: [{name: m, image: m:1}]\n";
            assert_eq!(outcome(&judge(job), "validity-selector-mismatch"), "n/a");
        }

        const STATEFULSET: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, \
             namespace: shop}\nspec:\n  serviceName: db\n  selector: {matchLabels: {app: db}}\n  \
             template:\n    metadata: {labels: {app: db}}\n    spec: {containers: [{name: db, \
             image: db:1.0}]}\n";

        fn service(name: &str, cluster_ip: &str) -> String {
            format!(
                "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: shop}}\n\
                 spec: {{clusterIP: {cluster_ip}, selector: {{app: db}}, ports: [{{port: 5432}}]}}\n"
            )
        }

        #[test]
        fn a_headless_governing_service_passes() {
            let r = judge(&format!("{STATEFULSET}{}", service("db", "None")));
            assert_eq!(outcome(&r, "validity-statefulset-service-missing"), "pass");
        }

        #[test]
        fn a_governing_service_with_a_cluster_ip_fails_even_offline() {
            let r = judge(&format!("{STATEFULSET}{}", service("db", "10.0.0.12")));
            assert_eq!(
                messages(&r, "validity-statefulset-service-missing"),
                [
                    "serviceName db is a Service of type ClusterIP that is not headless: the pods \
                     get no stable DNS names (<pod>.db), which peers use to find each other"
                ]
            );
            let f = findings(&r, "validity-statefulset-service-missing");
            assert_eq!(f[0].object.as_deref(), Some("Service/db"));
        }

        #[test]
        fn a_missing_governing_service_fails_when_proven_and_warns_otherwise() {
            let other = service("db-client", "None");
            let r = judge_complete(&format!("{STATEFULSET}{other}"));
            assert_eq!(
                messages(&r, "validity-statefulset-service-missing"),
                [
                    "serviceName db names no Service in namespace shop: the pods get no stable \
                     DNS names (<pod>.db), which peers use to find each other"
                ]
            );
            assert_eq!(outcome(&r, "validity-statefulset-service-missing"), "fail");
            let r = judge(&format!("{STATEFULSET}{other}"));
            assert_eq!(
                messages(&r, "validity-statefulset-service-missing"),
                [
                    "serviceName db names a Service that is not in the input: unless it is \
                     created elsewhere, headless, the pods get no stable DNS names (<pod>.db)"
                ]
            );
            assert_eq!(outcome(&r, "validity-statefulset-service-missing"), "warn");
            // No Service at all in a partial input: unknown, not absent.
            assert_eq!(
                outcome(&judge(STATEFULSET), "validity-statefulset-service-missing"),
                "skip"
            );
        }
    }
}
