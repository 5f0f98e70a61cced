//! Which containers receive traffic: a Service selects the pod and one of its ports targets
//! the container, by port name or number. Readiness and drain-on-shutdown checks are about
//! those containers only: a load generator, a config reloader or a queue worker serves nothing.

use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Ctx;
use super::util::container_declares_port;
use crate::world::{RelatedKind, ServiceFacts};

/// How a container is known to receive traffic.
#[derive(Clone, Copy, Debug)]
pub enum Served<'a> {
    /// A Service selecting the pods targets one of the container's ports.
    ByService(&'a ServiceFacts),
    /// Services are unknown (none in the input, or not watched); the container declares a
    /// port, so a Service may send it requests.
    DeclaresPorts,
}

/// Whether and how `c` receives traffic; `None` when it is known to receive none.
pub fn served<'a>(ctx: &Ctx<'a>, c: &Container) -> Option<Served<'a>> {
    if !ctx.has(&[RelatedKind::Service]) {
        return c
            .ports
            .as_ref()
            .is_some_and(|p| !p.is_empty())
            .then_some(Served::DeclaresPorts);
    }
    services_targeting(ctx, c).next().map(Served::ByService)
}

/// The Services (selecting the pods) whose ports send container `c` requests. A port that
/// only exposes metrics is scraped, not used by clients: a readiness probe there would take the
/// whole pod out of rotation when the exporter alone fails, and a scrape lost at shutdown is
/// taken again at the next interval.
pub fn services_targeting<'a, 'c>(
    ctx: &'c Ctx<'a>,
    c: &'c Container,
) -> impl Iterator<Item = &'a ServiceFacts> + 'c {
    ctx.related.services.iter().copied().filter(move |svc| {
        svc.ports.iter().any(|p| {
            targets(ctx, c, p.target_port.as_ref(), p.port)
                && !is_metrics_port(c, p.name.as_deref(), p.target_port.as_ref())
        })
    })
}

/// Whether any container of the workload serves clients through a Service; `None` when
/// Services are unknown.
pub fn serves_clients(ctx: &Ctx<'_>) -> Option<bool> {
    if !ctx.has(&[RelatedKind::Service]) {
        return None;
    }
    Some(
        ctx.workload
            .long_running_containers()
            .any(|c| services_targeting(ctx, c).next().is_some()),
    )
}

/// Port names that mark a metrics endpoint (`metrics`, `http-metrics`, `exporter`,
/// `telemetry`...).
fn metrics_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("metrics")
        || n.contains("exporter")
        || matches!(
            n.as_str(),
            "telemetry" | "prometheus" | "prom" | "monitoring"
        )
}

/// Whether a Service port reaching `c` is a metrics port: named so on the Service, or the
/// container port it targets is.
fn is_metrics_port(
    c: &Container,
    service_port: Option<&str>,
    target: Option<&IntOrString>,
) -> bool {
    if service_port.is_some_and(metrics_name) {
        return true;
    }
    let container_port = match target {
        Some(IntOrString::String(name)) => Some(name.as_str()),
        Some(IntOrString::Int(n)) => c
            .ports
            .iter()
            .flatten()
            .find(|p| p.container_port == *n)
            .and_then(|p| p.name.as_deref()),
        None => None,
    };
    container_port.is_some_and(metrics_name)
}

/// Whether a Service port (`targetPort`, defaulting to `port`) reaches container `c`: a name
/// must be one of its port names; a number one of its container ports, or, when no container
/// of the pod declares it, the pod's only container.
fn targets(ctx: &Ctx<'_>, c: &Container, target: Option<&IntOrString>, port: i32) -> bool {
    let by_number;
    let target = match target {
        Some(t) => t,
        None => {
            by_number = IntOrString::Int(port);
            &by_number
        }
    };
    if container_declares_port(c, target) {
        return true;
    }
    let IntOrString::Int(_) = target else {
        return false;
    };
    let mut containers = ctx.workload.long_running_containers();
    let only = ctx.workload.containers().len() == 1 && ctx.workload.containers()[0].name == c.name;
    only && !containers.any(|other| container_declares_port(other, target))
}

#[cfg(test)]
mod tests {
    use crate::testing::{judge, messages, outcome};

    fn pod(containers: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: shop, namespace: shop}}\n\
             spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: shop}}}}\n  template:\n    \
             metadata: {{labels: {{app: shop}}}}\n    spec:\n      containers:\n{containers}"
        )
    }

    fn service(ports: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: shop, namespace: shop}}\n\
             spec: {{selector: {{app: shop}}, ports: [{ports}]}}\n"
        )
    }

    const WEB_AND_RELOADER: &str = "      - {name: web, image: web:1, ports: [{name: http, containerPort: 8080}]}\n      \
         - {name: reloader, image: reloader:1}\n      \
         - {name: metrics, image: exporter:1, ports: [{containerPort: 9102}]}\n";

    #[test]
    fn only_the_containers_a_service_targets_need_a_readiness_probe() {
        // By name: the web container only.
        let r = judge(&format!(
            "{}{}",
            pod(WEB_AND_RELOADER),
            service("{port: 80, targetPort: http}")
        ));
        assert_eq!(
            messages(&r, "probe-readiness-missing"),
            vec![
                "container \"web\" has no readinessProbe: Service shop sends it requests before it can serve and while it is failing"
            ]
        );
        // By number, the port a container declares.
        let r = judge(&format!(
            "{}{}",
            pod(WEB_AND_RELOADER),
            service("{port: 9102}")
        ));
        assert_eq!(
            messages(&r, "probe-readiness-missing"),
            vec![
                "container \"metrics\" has no readinessProbe: Service shop sends it requests before it can serve and while it is failing"
            ]
        );
        // A number no container declares reaches the only container there is.
        let single = pod("      - {name: app, image: app:1}\n");
        let r = judge(&format!(
            "{single}{}",
            service("{port: 80, targetPort: 8080}")
        ));
        assert_eq!(outcome(&r, "probe-readiness-missing"), "fail");
        // ... and no container of several: it cannot be told which.
        let r = judge(&format!(
            "{}{}",
            pod(WEB_AND_RELOADER),
            service("{port: 80, targetPort: 3000}")
        ));
        assert_eq!(outcome(&r, "probe-readiness-missing"), "n/a");
    }

    #[test]
    fn a_port_that_only_exposes_metrics_serves_no_clients() {
        let r = judge(&format!(
            "{}{}",
            pod(&WEB_AND_RELOADER.replace(
                "{containerPort: 9102}",
                "{name: exporter, containerPort: 9102}"
            )),
            service("{name: http, port: 80, targetPort: http}, {port: 9102, targetPort: exporter}")
        ));
        assert_eq!(
            messages(&r, "probe-readiness-missing"),
            vec![
                "container \"web\" has no readinessProbe: Service shop sends it requests before it can serve and while it is failing"
            ]
        );
        let r = judge(&format!(
            "{}{}",
            pod(WEB_AND_RELOADER),
            service("{name: http-metrics, port: 9102}")
        ));
        assert_eq!(outcome(&r, "probe-readiness-missing"), "n/a");
        assert_eq!(outcome(&r, "lifecycle-no-graceful-shutdown"), "n/a");
    }

    #[test]
    fn nothing_serves_without_a_service_and_ports_stand_in_when_services_are_unknown() {
        let other = "---\napiVersion: v1\nkind: Service\nmetadata: {name: other, namespace: shop}\n\
                     spec: {selector: {app: other}, ports: [{port: 80}]}\n";
        let r = judge(&format!("{}{other}", pod(WEB_AND_RELOADER)));
        assert_eq!(outcome(&r, "probe-readiness-missing"), "n/a");
        assert_eq!(outcome(&r, "lifecycle-no-graceful-shutdown"), "n/a");
        // No Service known at all: the containers that declare a port may serve.
        let r = judge(&pod(WEB_AND_RELOADER));
        assert_eq!(
            messages(&r, "probe-readiness-missing"),
            vec![
                "container \"metrics\" declares a port but has no readinessProbe: a Service in front of it would send it requests before it can serve and while it is failing",
                "container \"web\" declares a port but has no readinessProbe: a Service in front of it would send it requests before it can serve and while it is failing",
            ]
        );
    }

    #[test]
    fn only_containers_that_serve_are_asked_to_drain() {
        let r = judge(&format!(
            "{}{}",
            pod(WEB_AND_RELOADER),
            service("{port: 80, targetPort: http}")
        ));
        assert_eq!(
            messages(&r, "lifecycle-no-graceful-shutdown"),
            vec![
                "container \"web\" serves behind Service shop but has no preStop hook: endpoints take a few seconds to drop a terminating pod, so requests still arrive after it starts shutting down"
            ]
        );
    }
}
