//! Exposure: how the workload is reached from outside, and whether that path has TLS, a CORS
//! policy, rate and size limits, and endpoints behind it.

use super::util::{
    contains_ignoring_case, datastore_container, human_duration, instant, is_ingress_controller,
    join_names,
};
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Severity};
use crate::text::annotations;
use crate::world::{IngressFacts, Labels, RelatedKind, ServiceFacts};

pub const CHECKS: &[Check] = &[
    Check {
        id: "exposure-ingress-no-tls",
        category: Category::Exposure,
        severity: Severity::High,
        needs: Needs::Related,
        title: "An Ingress routes to the workload without TLS",
        remediation: "Add a `tls` section to the Ingress covering every host, with a \
                      certificate Secret (cert-manager's `cert-manager.io/cluster-issuer` \
                      annotation can issue it), and redirect HTTP to HTTPS.",
        run: Run::Workload(ingress_no_tls),
    },
    Check {
        id: "exposure-cors-wildcard",
        category: Category::Exposure,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "An Ingress enables CORS for any origin",
        remediation: "Set `nginx.ingress.kubernetes.io/cors-allow-origin` (or your \
                      controller's equivalent) to the exact origins of your front ends, for \
                      example `https://app.example.com`, or turn CORS off.",
        run: Run::Workload(cors_wildcard),
    },
    Check {
        id: "exposure-no-rate-limit",
        category: Category::Exposure,
        severity: Severity::Low,
        needs: Needs::Related,
        title: "An Ingress sets no rate limit",
        remediation: "Limit requests per client on the Ingress: ingress-nginx \
                      `nginx.ingress.kubernetes.io/limit-rps: \"20\"` (or limit-rpm, \
                      limit-connections, global-rate-limit), NGINX Inc \
                      `nginx.org/limit-req-rate`, HAProxy `haproxy.org/rate-limit-requests`, \
                      Kong a rate-limiting plugin in `konghq.com/plugins`, Traefik a RateLimit \
                      middleware in `traefik.ingress.kubernetes.io/router.middlewares`.",
        run: Run::Workload(no_rate_limit),
    },
    Check {
        id: "exposure-unbounded-body",
        category: Category::Exposure,
        severity: Severity::Low,
        needs: Needs::Related,
        title: "An Ingress lifts the request-body size limit",
        remediation: "Set the annotation to the largest body the service accepts (for \
                      example `nginx.ingress.kubernetes.io/proxy-body-size: \"10m\"`) \
                      instead of \"0\".",
        run: Run::Workload(unbounded_body),
    },
    Check {
        id: "exposure-public-service",
        category: Category::Exposure,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "A LoadBalancer or NodePort Service exposes the workload directly",
        remediation: "Make the Service `type: ClusterIP` and publish it through an Ingress \
                      with TLS, or mark the load balancer internal; a datastore should stay \
                      reachable only inside the cluster.",
        run: Run::Workload(public_service),
    },
    Check {
        id: "live-service-no-endpoints",
        category: Category::Exposure,
        severity: Severity::High,
        needs: Needs::Live,
        title: "A Service selecting the workload has no ready endpoints",
        remediation: "Check that the pods are Ready (`kubectl get pods`) and that the \
                      Service's selector and targetPort match them \
                      (`kubectl describe service`, `kubectl get endpointslices`).",
        run: Run::Workload(service_no_endpoints),
    },
];

// ---- Ingresses -------------------------------------------------------------------------------

/// The Ingresses routing to the workload, each once with the first of its Services that
/// selects the workload. `None` (after writing a skip when kinds are unknown) when the
/// Ingress checks do not apply.
fn ingresses<'a>(
    ctx: &'a Ctx<'_>,
    out: &mut Out<'_>,
) -> Option<impl Iterator<Item = (&'a IngressFacts, &'a ServiceFacts)> + 'a> {
    if !ctx.workload.is_long_running() {
        return None;
    }
    let missing: &[RelatedKind] = match (
        ctx.has(&[RelatedKind::Service]),
        ctx.has(&[RelatedKind::Ingress]),
    ) {
        (true, true) => &[],
        (false, true) => &[RelatedKind::Service],
        (true, false) => &[RelatedKind::Ingress],
        (false, false) => &[RelatedKind::Service, RelatedKind::Ingress],
    };
    if !missing.is_empty() {
        out.skip_missing(missing);
        return None;
    }
    let all = &ctx.related.ingresses;
    if all.is_empty() {
        return None;
    }
    Some(
        all.iter()
            .enumerate()
            .filter(move |(i, (ing, _))| !all[..*i].iter().any(|(p, _)| p.name == ing.name))
            .map(|(_, (ing, svc))| (*ing, *svc)),
    )
}

fn annotation<'a>(a: &'a Labels, key: &str) -> Option<&'a str> {
    a.get(key).map(|v| v.trim())
}

/// Whether a TLS host entry covers a rule host (`*.example.com` covers one label).
fn tls_covers(tls: &str, host: &str) -> bool {
    if tls == "*" || tls.eq_ignore_ascii_case(host) {
        return true;
    }
    tls.strip_prefix('*').is_some_and(|suffix| {
        host.len() > suffix.len()
            && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
            && !host[..host.len() - suffix.len()].contains('.')
    })
}

/// Hosts in order, each once (several rules may name one host).
fn unique<'a>(hosts: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for h in hosts {
        if !out.contains(&h) {
            out.push(h);
        }
    }
    out
}

fn ingress_no_tls(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(list) = ingresses(ctx, out) else {
        return;
    };
    for (ing, svc) in list {
        let hosts = || ing.hosts.iter().map(|h| &**h);
        let uncovered = |h: &&str| !ing.tls_hosts.iter().any(|t| tls_covers(t, h));
        if !ing.has_tls() {
            let hosts = if ing.hosts.is_empty() {
                "every host".to_string()
            } else {
                join_names(&unique(hosts()))
            };
            out.fail(format!(
                "Ingress {} routes {hosts} to Service {} without TLS: logins, tokens and data \
                 cross the network in clear text",
                ing.name, svc.name
            ))
            .object(format!("Ingress/{}", ing.name));
        } else if hosts().any(|h| uncovered(&h)) {
            let open = unique(hosts().filter(uncovered));
            out.fail(format!(
                "Ingress {} routes {} to Service {} without TLS (its tls section covers only \
                 {}): logins, tokens and data to that host cross the network in clear text",
                ing.name,
                join_names(&open),
                svc.name,
                join_names(&unique(ing.tls_hosts.iter().map(|h| &**h)))
            ))
            .object(format!("Ingress/{}", ing.name));
        }
    }
    out.pass();
}

/// An allowed-origin entry that matches every site.
fn is_any_origin(entry: &str) -> bool {
    matches!(entry.trim(), "*" | "https://*" | "http://*")
}

fn cors_wildcard(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(list) = ingresses(ctx, out) else {
        return;
    };
    for (ing, _) in list {
        for (enable, origin, controller) in annotations::CORS {
            let enabled = annotation(&ing.annotations, enable)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            if !enabled {
                continue;
            }
            match annotation(&ing.annotations, origin).filter(|o| !o.is_empty()) {
                None => {
                    out.fail(format!(
                        "Ingress {} enables CORS ({enable}) without {origin}, so {controller} \
                         allows any origin: any website can call the API from its visitors' \
                         browsers",
                        ing.name
                    ))
                    .object(format!("Ingress/{}", ing.name));
                }
                Some(list) if list.split(',').any(is_any_origin) => {
                    out.fail(format!(
                        "Ingress {} allows CORS requests from any origin ({origin}: {list:?}): \
                         any website can call the API from its visitors' browsers",
                        ing.name
                    ))
                    .object(format!("Ingress/{}", ing.name));
                }
                Some(_) => {}
            }
        }
    }
    out.pass();
}

fn is_zero(value: &str) -> bool {
    let v = value.trim();
    let digits = v.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    !digits.is_empty() && digits.bytes().all(|b| b == b'0')
}

fn rate_limited(a: &Labels) -> bool {
    annotations::RATE_LIMITS
        .iter()
        .any(|k| annotation(a, k).is_some_and(|v| !v.is_empty() && !is_zero(v)))
        || annotations::RATE_LIMIT_PLUGIN_LISTS.iter().any(|k| {
            annotation(a, k).is_some_and(|v| {
                ["ratelimit", "rate-limit", "rate_limit"]
                    .iter()
                    .any(|n| contains_ignoring_case(v, n))
            })
        })
}

fn no_rate_limit(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(list) = ingresses(ctx, out) else {
        return;
    };
    for (ing, svc) in list {
        if !rate_limited(&ing.annotations) {
            out.fail(format!(
                "Ingress {} sets no rate limit in front of Service {}: a single client or bot \
                 can flood it",
                ing.name, svc.name
            ))
            .object(format!("Ingress/{}", ing.name));
        }
    }
    out.pass();
}

fn unbounded_body(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(list) = ingresses(ctx, out) else {
        return;
    };
    for (ing, _) in list {
        for key in annotations::BODY_SIZES {
            if let Some(v) = annotation(&ing.annotations, key).filter(|v| is_zero(v)) {
                out.fail(format!(
                    "Ingress {} lifts the request-body limit ({key}: {v:?}): a client can send \
                     bodies of any size and exhaust the service's memory or disk",
                    ing.name
                ))
                .object(format!("Ingress/{}", ing.name));
            }
        }
    }
    out.pass();
}

// ---- Services --------------------------------------------------------------------------------

fn is_internal_load_balancer(svc: &ServiceFacts) -> bool {
    let a = &svc.annotations;
    annotation(a, annotations::AWS_LEGACY_INTERNAL)
        .is_some_and(|v| !v.eq_ignore_ascii_case("false"))
        || annotations::INTERNAL_LOAD_BALANCER
            .iter()
            .any(|(k, want)| annotation(a, k).is_some_and(|v| v.eq_ignore_ascii_case(want)))
}

fn exposes_publicly(svc: &ServiceFacts) -> bool {
    match &*svc.service_type {
        "NodePort" => true,
        "LoadBalancer" => !is_internal_load_balancer(svc),
        _ => false,
    }
}

fn describe_ports(svc: &ServiceFacts) -> String {
    let ports: Vec<String> = svc
        .ports
        .iter()
        .map(|p| match p.node_port {
            Some(n) => format!("{} (node port {n})", p.port),
            None => p.port.to_string(),
        })
        .collect();
    match ports.len() {
        0 => "no ports".to_string(),
        1 => format!("port {}", ports[0]),
        _ => format!("ports {}", join_names(&ports)),
    }
}

fn public_service(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let serving = ctx.workload.is_long_running();
    if !ctx.has(&[RelatedKind::Service]) {
        if serving {
            out.skip_missing(&[RelatedKind::Service]);
        }
        return;
    }
    if !serving && ctx.related.services.is_empty() {
        return;
    }
    // The edge of the cluster: its public Service is what it is for.
    if is_ingress_controller(ctx.workload, ctx.params) {
        return out.pass();
    }
    for svc in &ctx.related.services {
        if !exposes_publicly(svc) {
            continue;
        }
        let head = format!(
            "Service {} ({}, {})",
            svc.name,
            svc.service_type,
            describe_ports(svc)
        );
        let object = format!("Service/{}", svc.name);
        if let Some((_, datastore)) = datastore_container(ctx.workload, ctx.params) {
            let what = format!("the {datastore} datastore");
            out.fail(format!(
                "{head} exposes {what} outside the cluster: anyone who reaches a node or the \
                 load balancer can try its credentials and exploits"
            ))
            .object(object)
            .severity(Severity::Critical);
        } else {
            out.fail(format!(
                "{head} exposes the pods outside the cluster directly: clients reach them \
                 without an ingress controller's TLS, authentication and limits in between"
            ))
            .object(object);
        }
    }
    out.pass();
}

fn service_no_endpoints(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if !ctx.workload.is_long_running()
        || ctx.workload.replicas() == Some(0)
        || ctx.related.services.is_empty()
    {
        return;
    }
    if !ctx.has_any(&[RelatedKind::EndpointSlice, RelatedKind::Endpoints]) {
        return out.skip_missing(&[RelatedKind::EndpointSlice, RelatedKind::Endpoints]);
    }
    let ns = ctx.workload.namespace;
    let grace = ctx.params.grace_period_seconds;
    // The newest pod start: endpoints lag behind a rollout that just began.
    let newest = ctx
        .related
        .pods
        .iter()
        .filter(|p| !p.deleting)
        .filter_map(|p| p.created)
        .max();
    let mut judged = false;
    for svc in &ctx.related.services {
        if &*svc.service_type == "ExternalName" {
            continue;
        }
        let Some(ready) = ctx.world.ready_endpoints(ns, &svc.name) else {
            continue;
        };
        judged = true;
        if ready > 0 {
            out.pass();
            continue;
        }
        let pods = &ctx.related.pods;
        let observed = if pods.is_empty() {
            String::new()
        } else {
            let ready_pods = pods.iter().filter(|p| p.ready).count();
            format!(" ({ready_pods} of {} observed pods Ready)", pods.len())
        };
        match newest {
            Some(started) if ctx.seconds_since(started) < grace => {
                out.warn(format!(
                    "Service {} has no ready endpoints{observed}, its newest pod started at {}, \
                     inside the {} grace period",
                    svc.name,
                    instant(started),
                    human_duration(grace)
                ))
                .object(format!("Service/{}", svc.name));
            }
            _ => {
                out.fail(format!(
                    "Service {} has no ready endpoints{observed}: every request to it fails",
                    svc.name
                ))
                .object(format!("Service/{}", svc.name));
            }
        }
    }
    if !judged {
        let names: Vec<&str> = ctx.related.services.iter().map(|s| &*s.name).collect();
        out.skip(format!(
            "not judged: no EndpointSlice or Endpoints object is known for Service {}",
            join_names(&names)
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::api::Severity;
    use crate::testing::{findings, judge, messages, outcome};

    fn deployment(image: &str, replicas: i32) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\n\
             spec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    \
             metadata: {{labels: {{app: api}}}}\n    spec:\n      containers: [{{name: app, image: {image}}}]\n"
        )
    }

    fn service(name: &str, spec: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: shop}}\n\
             spec: {{selector: {{app: api}}, {spec}}}\n"
        )
    }

    const CLUSTER_IP: &str = "ports: [{port: 80, targetPort: 8080}]";

    fn ingress(name: &str, annotations: &str, tls: &str) -> String {
        format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  \
             namespace: shop\n  annotations: {{{annotations}}}\nspec:\n  ingressClassName: nginx\n{tls}  \
             rules:\n  - host: shop.example.com\n    http:\n      paths:\n      \
             - {{path: /, pathType: Prefix, backend: {{service: {{name: api, port: {{number: 80}}}}}}}}\n  \
             - host: admin.example.com\n    http:\n      paths:\n      \
             - {{path: /, pathType: Prefix, backend: {{service: {{name: api, port: {{number: 80}}}}}}}}\n"
        )
    }

    fn with_ingress(annotations: &str, tls: &str) -> String {
        format!(
            "{}{}{}",
            deployment("api:1", 2),
            service("api", CLUSTER_IP),
            ingress("web", annotations, tls)
        )
    }

    const FULL_TLS: &str = "  tls: [{hosts: [\"*.example.com\"], secretName: web-tls}]\n";

    #[test]
    fn ingress_without_tls() {
        let r = judge(&with_ingress("", ""));
        assert_eq!(
            messages(&r, "exposure-ingress-no-tls"),
            vec![
                "Ingress web routes shop.example.com and admin.example.com to Service api without TLS: logins, tokens and data cross the network in clear text"
            ]
        );
        assert_eq!(
            findings(&r, "exposure-ingress-no-tls")[0].object.as_deref(),
            Some("Ingress/web")
        );
        // Two rules for one host: named once.
        let same_host = with_ingress("", "").replace("admin.example.com", "shop.example.com");
        assert_eq!(
            messages(&judge(&same_host), "exposure-ingress-no-tls"),
            vec![
                "Ingress web routes shop.example.com to Service api without TLS: logins, tokens and data cross the network in clear text"
            ]
        );
        let partial = "  tls: [{hosts: [shop.example.com], secretName: web-tls}]\n";
        assert_eq!(
            messages(
                &judge(&with_ingress("", partial)),
                "exposure-ingress-no-tls"
            ),
            vec![
                "Ingress web routes admin.example.com to Service api without TLS (its tls section covers only shop.example.com): logins, tokens and data to that host cross the network in clear text"
            ]
        );
        assert_eq!(
            outcome(
                &judge(&with_ingress("", FULL_TLS)),
                "exposure-ingress-no-tls"
            ),
            "pass"
        );
    }

    #[test]
    fn ingress_checks_without_ingresses() {
        // Ingresses known, none routes to the workload's Service.
        let other = format!(
            "{}{}{}",
            deployment("api:1", 2),
            service("api", CLUSTER_IP),
            ingress("web", "", "").replace("name: api,", "name: other,")
        );
        let r = judge(&other);
        for id in [
            "exposure-ingress-no-tls",
            "exposure-cors-wildcard",
            "exposure-no-rate-limit",
            "exposure-unbounded-body",
        ] {
            assert_eq!(outcome(&r, id), "n/a", "{id}");
        }
        let r = judge(&format!(
            "{}{}",
            deployment("api:1", 2),
            service("api", CLUSTER_IP)
        ));
        assert_eq!(
            messages(&r, "exposure-ingress-no-tls"),
            vec![
                "not judged: no Ingress objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        let r = judge(&deployment("api:1", 2));
        assert_eq!(
            messages(&r, "exposure-no-rate-limit"),
            vec![
                "not judged: no Service or Ingress objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate, namespace: shop}\n\
             spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: m:1}]\n";
        assert_eq!(outcome(&judge(job), "exposure-ingress-no-tls"), "n/a");
        assert_eq!(outcome(&judge(job), "exposure-public-service"), "n/a");
    }

    #[test]
    fn cors_for_any_origin() {
        let r = judge(&with_ingress(
            "nginx.ingress.kubernetes.io/enable-cors: \"true\"",
            FULL_TLS,
        ));
        assert_eq!(
            messages(&r, "exposure-cors-wildcard"),
            vec![
                "Ingress web enables CORS (nginx.ingress.kubernetes.io/enable-cors) without nginx.ingress.kubernetes.io/cors-allow-origin, so ingress-nginx allows any origin: any website can call the API from its visitors' browsers"
            ]
        );
        let r = judge(&with_ingress(
            "nginx.ingress.kubernetes.io/enable-cors: \"true\", nginx.ingress.kubernetes.io/cors-allow-origin: \"https://app.example.com, *\"",
            FULL_TLS,
        ));
        assert_eq!(
            messages(&r, "exposure-cors-wildcard"),
            vec![
                "Ingress web allows CORS requests from any origin (nginx.ingress.kubernetes.io/cors-allow-origin: \"https://app.example.com, *\"): any website can call the API from its visitors' browsers"
            ]
        );
        let exact = with_ingress(
            "nginx.ingress.kubernetes.io/enable-cors: \"true\", nginx.ingress.kubernetes.io/cors-allow-origin: \"https://app.example.com\"",
            FULL_TLS,
        );
        assert_eq!(outcome(&judge(&exact), "exposure-cors-wildcard"), "pass");
        // A wildcard origin without enable-cors does nothing in ingress-nginx.
        let off = with_ingress(
            "nginx.ingress.kubernetes.io/cors-allow-origin: \"*\"",
            FULL_TLS,
        );
        assert_eq!(outcome(&judge(&off), "exposure-cors-wildcard"), "pass");
    }

    #[test]
    fn rate_limits() {
        let r = judge(&with_ingress("", FULL_TLS));
        assert_eq!(
            messages(&r, "exposure-no-rate-limit"),
            vec![
                "Ingress web sets no rate limit in front of Service api: a single client or bot can flood it"
            ]
        );
        let zero = with_ingress("nginx.ingress.kubernetes.io/limit-rps: \"0\"", FULL_TLS);
        assert_eq!(outcome(&judge(&zero), "exposure-no-rate-limit"), "fail");
        for limited in [
            "nginx.ingress.kubernetes.io/limit-rps: \"20\"",
            "nginx.org/limit-req-rate: 10r/s",
            "haproxy.org/rate-limit-requests: \"100\"",
            "konghq.com/plugins: \"cors, rate-limiting\"",
            "traefik.ingress.kubernetes.io/router.middlewares: shop-ratelimit@kubernetescrd",
        ] {
            assert_eq!(
                outcome(
                    &judge(&with_ingress(limited, FULL_TLS)),
                    "exposure-no-rate-limit"
                ),
                "pass",
                "{limited}"
            );
        }
    }

    #[test]
    fn unbounded_request_bodies() {
        let r = judge(&with_ingress(
            "nginx.ingress.kubernetes.io/proxy-body-size: \"0\"",
            FULL_TLS,
        ));
        assert_eq!(
            messages(&r, "exposure-unbounded-body"),
            vec![
                "Ingress web lifts the request-body limit (nginx.ingress.kubernetes.io/proxy-body-size: \"0\"): a client can send bodies of any size and exhaust the service's memory or disk"
            ]
        );
        let zero_megabytes = with_ingress("nginx.org/client-max-body-size: 0m", FULL_TLS);
        assert_eq!(
            outcome(&judge(&zero_megabytes), "exposure-unbounded-body"),
            "fail"
        );
        let bounded = with_ingress("nginx.ingress.kubernetes.io/proxy-body-size: 10m", FULL_TLS);
        assert_eq!(outcome(&judge(&bounded), "exposure-unbounded-body"), "pass");
        assert_eq!(
            outcome(
                &judge(&with_ingress("", FULL_TLS)),
                "exposure-unbounded-body"
            ),
            "pass"
        );
    }

    #[test]
    fn public_services() {
        let lb = format!(
            "{}{}",
            deployment("api:1", 2),
            service(
                "api-public",
                "type: LoadBalancer, ports: [{port: 80}, {port: 443}]"
            )
        );
        let r = judge(&lb);
        assert_eq!(
            messages(&r, "exposure-public-service"),
            vec![
                "Service api-public (LoadBalancer, ports 80 and 443) exposes the pods outside the cluster directly: clients reach them without an ingress controller's TLS, authentication and limits in between"
            ]
        );
        let f = findings(&r, "exposure-public-service");
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(f[0].object.as_deref(), Some("Service/api-public"));

        let redis = format!(
            "{}{}",
            deployment("bitnami/redis:7.2", 1),
            service(
                "redis",
                "type: NodePort, ports: [{port: 6379, nodePort: 30079}]"
            )
        );
        let r = judge(&redis);
        assert_eq!(
            messages(&r, "exposure-public-service"),
            vec![
                "Service redis (NodePort, port 6379 (node port 30079)) exposes the redis datastore outside the cluster: anyone who reaches a node or the load balancer can try its credentials and exploits"
            ]
        );
        assert_eq!(
            findings(&r, "exposure-public-service")[0].severity,
            Severity::Critical
        );

        // An ingress controller's public Service is its purpose.
        let controller = format!(
            "{}{}",
            deployment("registry.k8s.io/ingress-nginx/controller:v1.11.0", 2),
            service(
                "ingress-nginx-controller",
                "type: LoadBalancer, ports: [{port: 80}, {port: 443}]"
            )
        );
        assert_eq!(
            outcome(&judge(&controller), "exposure-public-service"),
            "pass"
        );

        let internal = format!(
            "{}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api-internal\n  namespace: shop\n  \
             annotations: {{networking.gke.io/load-balancer-type: Internal}}\n\
             spec: {{type: LoadBalancer, selector: {{app: api}}, ports: [{{port: 80}}]}}\n{}",
            deployment("api:1", 2),
            service("api", CLUSTER_IP)
        );
        assert_eq!(
            outcome(&judge(&internal), "exposure-public-service"),
            "pass"
        );
        assert_eq!(
            outcome(&judge(&deployment("api:1", 2)), "exposure-public-service"),
            "skip"
        );
    }

    fn endpoint_slice(ready: &[bool]) -> String {
        let endpoints: Vec<String> = ready
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{{addresses: [10.0.0.{i}], conditions: {{ready: {r}}}}}"))
            .collect();
        format!(
            "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: api-x1\n  \
             namespace: shop\n  labels: {{kubernetes.io/service-name: api}}\naddressType: IPv4\n\
             endpoints: [{}]\n",
            endpoints.join(", ")
        )
    }

    fn pod(name: &str, created: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  \
             creationTimestamp: \"{created}\"\n  labels: {{app: api, pod-template-hash: 5f7}}\n  \
             ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: api-5f7, uid: u, controller: true}}]\n\
             spec: {{containers: [{{name: app, image: api:1}}]}}\n\
             status:\n  phase: Running\n  conditions: [{{type: Ready, status: \"False\", lastTransitionTime: \"{created}\"}}]\n"
        )
    }

    #[test]
    fn services_without_endpoints() {
        let base = format!("{}{}", deployment("api:1", 2), service("api", CLUSTER_IP));
        let r = judge(&format!("{base}{}", endpoint_slice(&[false, false])));
        assert_eq!(
            messages(&r, "live-service-no-endpoints"),
            vec!["Service api has no ready endpoints: every request to it fails"]
        );
        let r = judge(&format!(
            "{base}{}{}",
            endpoint_slice(&[false]),
            pod("api-5f7-a", "2026-06-01T10:00:00Z")
        ));
        assert_eq!(
            messages(&r, "live-service-no-endpoints"),
            vec![
                "Service api has no ready endpoints (0 of 1 observed pods Ready): every request to it fails"
            ]
        );
        let r = judge(&format!(
            "{base}{}{}",
            endpoint_slice(&[false]),
            pod("api-5f7-b", "2026-06-01T11:58:00Z")
        ));
        assert_eq!(outcome(&r, "live-service-no-endpoints"), "warn");
        assert_eq!(
            messages(&r, "live-service-no-endpoints"),
            vec![
                "Service api has no ready endpoints (0 of 1 observed pods Ready), its newest pod started at 2026-06-01T11:58:00Z, inside the 5m grace period"
            ]
        );
        let r = judge(&format!("{base}{}", endpoint_slice(&[false, true])));
        assert_eq!(outcome(&r, "live-service-no-endpoints"), "pass");
        assert_eq!(outcome(&judge(&base), "live-service-no-endpoints"), "skip");
        let scaled_down = format!(
            "{}{}{}",
            deployment("api:1", 0),
            service("api", CLUSTER_IP),
            endpoint_slice(&[])
        );
        assert_eq!(
            outcome(&judge(&scaled_down), "live-service-no-endpoints"),
            "n/a"
        );
    }
}
