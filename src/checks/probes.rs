//! Probes: whether Kubernetes can tell when a container is ready and when it is stuck.

use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::serving::{Served, served};
use super::util::{container_declares_port, human_duration, instant, join_names};
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Severity};
use crate::world::RelatedKind;

pub const CHECKS: &[Check] = &[
    Check {
        id: "probe-readiness-missing",
        category: Category::Probes,
        severity: Severity::High,
        needs: Needs::Object,
        title: "A container a Service sends requests to has no readinessProbe",
        remediation: "Add a readinessProbe that checks the container can serve (for example an \
                      httpGet on /ready) so traffic only reaches ready pods.",
        run: Run::Workload(readiness_missing),
    },
    Check {
        id: "probe-liveness-missing",
        category: Category::Probes,
        severity: Severity::Medium,
        needs: Needs::Object,
        title: "A long-running container has no livenessProbe",
        remediation: "Add a livenessProbe on a cheap endpoint that fails only when the process \
                      is stuck (for example /livez), so Kubernetes restarts it.",
        run: Run::Workload(liveness_missing),
    },
    Check {
        id: "probe-identical",
        category: Category::Probes,
        severity: Severity::Medium,
        needs: Needs::Object,
        title: "Liveness and readiness probes are the same HTTP handler",
        remediation: "Point readiness at a check of dependencies (/ready) and liveness at a \
                      check of the process alone (/livez): a dependency outage should take pods \
                      out of rotation, not restart them all.",
        run: Run::Workload(identical),
    },
    Check {
        id: "probe-inverted",
        category: Category::Probes,
        severity: Severity::High,
        needs: Needs::Object,
        title: "Readiness points at a liveness endpoint and liveness at a readiness endpoint",
        remediation: "Swap the probe paths: readiness on the readiness endpoint (/ready, \
                      /readyz), liveness on the liveness endpoint (/healthz, /livez).",
        run: Run::Workload(inverted),
    },
    Check {
        id: "probe-port-unknown",
        category: Category::Probes,
        severity: Severity::Medium,
        needs: Needs::Object,
        title: "A probe targets a port the container does not declare",
        remediation: "Point the probe at a port the container declares in `ports`, by number \
                      or by name.",
        run: Run::Workload(port_unknown),
    },
    Check {
        id: "probe-liveness-fragile",
        category: Category::Probes,
        severity: Severity::Low,
        needs: Needs::Object,
        title: "Liveness can kill a slow-starting container",
        remediation: "Add a startupProbe (or raise initialDelaySeconds, periodSeconds or \
                      failureThreshold) so a slow start is not mistaken for a hang.",
        run: Run::Workload(liveness_fragile),
    },
    Check {
        id: "live-probe-failing",
        category: Category::Probes,
        severity: Severity::High,
        needs: Needs::Live,
        title: "Pods are running but not Ready for longer than the grace period",
        remediation: "Read the pod's events and the readiness endpoint's answer \
                      (`kubectl describe pod`): a dependency it waits for, or a probe that \
                      cannot pass.",
        run: Run::Workload(live_probe_failing),
    },
];

/// The main containers of a long-running workload (native sidecars report readiness too, but
/// their probes are optional).
fn long_running_containers<'a>(ctx: &Ctx<'a>) -> Option<&'a [Container]> {
    ctx.workload
        .is_long_running()
        .then(|| ctx.workload.containers())
}

fn readiness_missing(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(containers) = long_running_containers(ctx) else {
        return;
    };
    // Readiness decides whether a Service sends the container requests: a container no Service
    // targets (a worker, a reloader, a load generator) has nothing to be ready for.
    for c in containers {
        let Some(served) = served(ctx, c) else {
            continue;
        };
        if c.readiness_probe.is_some() {
            out.pass();
            continue;
        }
        let message = match served {
            Served::ByService(svc) => format!(
                "container {:?} has no readinessProbe: Service {} sends it requests before it \
                 can serve and while it is failing",
                c.name, svc.name
            ),
            Served::DeclaresPorts => format!(
                "container {:?} declares a port but has no readinessProbe: a Service in front \
                 of it would send it requests before it can serve and while it is failing",
                c.name
            ),
        };
        out.fail(message).container(&c.name);
    }
}

fn liveness_missing(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(containers) = long_running_containers(ctx) else {
        return;
    };
    for c in containers {
        if c.liveness_probe.is_none() {
            out.fail(format!(
                "container {:?} has no livenessProbe: a hung process is never restarted",
                c.name
            ))
            .container(&c.name);
        }
    }
    out.pass();
}

/// A probe's handler in a comparable, printable form.
#[derive(PartialEq, Eq)]
enum Handler<'a> {
    Http {
        path: &'a str,
        port: &'a IntOrString,
    },
    Tcp(&'a IntOrString),
    Exec(&'a [String]),
    Grpc(i32),
    None,
}

impl<'a> Handler<'a> {
    fn of(p: &'a Probe) -> Handler<'a> {
        if let Some(h) = &p.http_get {
            Handler::Http {
                path: h.path.as_deref().unwrap_or("/"),
                port: &h.port,
            }
        } else if let Some(t) = &p.tcp_socket {
            Handler::Tcp(&t.port)
        } else if let Some(e) = &p.exec {
            Handler::Exec(e.command.as_deref().unwrap_or(&[]))
        } else if let Some(g) = &p.grpc {
            Handler::Grpc(g.port)
        } else {
            Handler::None
        }
    }

    fn describe(&self) -> String {
        match self {
            Handler::Http { path, port } => format!("httpGet {path} on port {}", port_str(port)),
            Handler::Tcp(port) => format!("tcpSocket on port {}", port_str(port)),
            Handler::Exec(cmd) => format!("exec {:?}", cmd.join(" ")),
            Handler::Grpc(port) => format!("grpc on port {port}"),
            Handler::None => "no handler".to_string(),
        }
    }
}

fn port_str(p: &IntOrString) -> String {
    match p {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => format!("{s:?}"),
    }
}

fn identical(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(containers) = long_running_containers(ctx) else {
        return;
    };
    for c in containers {
        let (Some(l), Some(r)) = (&c.liveness_probe, &c.readiness_probe) else {
            continue;
        };
        let (lh, rh) = (Handler::of(l), Handler::of(r));
        // The same HTTP path may check dependencies, so one outage fails liveness everywhere.
        // The same tcpSocket, gRPC or exec check tests the process itself: fine for both.
        if lh == rh && matches!(lh, Handler::Http { .. }) {
            out.fail(format!(
                "container {:?}: livenessProbe and readinessProbe are the same {}: a \
                 dependency outage restarts every pod instead of taking them out of rotation",
                c.name,
                lh.describe()
            ))
            .container(&c.name);
        } else {
            out.pass();
        }
    }
}

/// Normalises a probe path for comparison: lower case, no query, no trailing slash.
fn normalised(path: &str) -> String {
    let p = path.split(['?', '#']).next().unwrap_or("");
    let p = p.trim_end_matches('/');
    p.to_ascii_lowercase()
}

const LIVENESS_PATHS: &[&str] = &[
    "/healthz",
    "/livez",
    "/live",
    "/liveness",
    "/alive",
    "/health/live",
    "/health/liveness",
    "/healthz/live",
    "/actuator/health/liveness",
];

const READINESS_PATHS: &[&str] = &[
    "/ready",
    "/readyz",
    "/readiness",
    "/health/ready",
    "/health/readiness",
    "/healthz/ready",
    "/actuator/health/readiness",
];

fn is_one_of(path: &str, list: &[&str]) -> bool {
    let p = normalised(path);
    list.iter().any(|x| p == *x || p.ends_with(x))
}

fn inverted(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(containers) = long_running_containers(ctx) else {
        return;
    };
    for c in containers {
        fn path(p: &Option<Probe>) -> Option<&str> {
            p.as_ref()
                .and_then(|p| p.http_get.as_ref())
                .map(|h| h.path.as_deref().unwrap_or("/"))
        }
        let (Some(live), Some(ready)) = (path(&c.liveness_probe), path(&c.readiness_probe)) else {
            continue;
        };
        if is_one_of(ready, LIVENESS_PATHS) && is_one_of(live, READINESS_PATHS) {
            out.fail(format!(
                "container {:?}: readinessProbe points at liveness endpoint {ready} while \
                 livenessProbe points at readiness endpoint {live}: a dependency outage \
                 restarts pods and a hung process keeps receiving traffic",
                c.name
            ))
            .container(&c.name);
        } else {
            out.pass();
        }
    }
}

fn port_unknown(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for c in ctx.workload.long_running_containers() {
        let probes = [
            ("livenessProbe", &c.liveness_probe),
            ("readinessProbe", &c.readiness_probe),
            ("startupProbe", &c.startup_probe),
        ];
        let declares_ports = c.ports.as_ref().is_some_and(|p| !p.is_empty());
        for (kind, probe) in probes {
            let Some(probe) = probe else {
                continue;
            };
            let grpc_port;
            let port = if let Some(h) = &probe.http_get {
                &h.port
            } else if let Some(t) = &probe.tcp_socket {
                &t.port
            } else if let Some(g) = &probe.grpc {
                grpc_port = IntOrString::Int(g.port);
                &grpc_port
            } else {
                continue;
            };
            // A numeric port need not be declared; it is only suspicious when the container
            // declares its ports and this is not one of them. A name must be declared.
            let unknown = match port {
                IntOrString::String(_) => !container_declares_port(c, port),
                IntOrString::Int(_) => declares_ports && !container_declares_port(c, port),
            };
            if unknown {
                let declared: Vec<String> = c
                    .ports
                    .iter()
                    .flatten()
                    .map(|p| match &p.name {
                        Some(n) => format!("{} ({n})", p.container_port),
                        None => p.container_port.to_string(),
                    })
                    .collect();
                let declared = if declared.is_empty() {
                    "none".to_string()
                } else {
                    join_names(&declared)
                };
                match port {
                    // The kubelet resolves a port name among the container's own ports: one it
                    // does not declare fails the probe every time.
                    IntOrString::String(_) => {
                        out.fail(format!(
                            "container {:?}: {kind} targets port {}, which the container does \
                             not declare (declared: {declared}): the kubelet cannot resolve the \
                             name, so the probe fails every time",
                            c.name,
                            port_str(port)
                        ))
                        .container(&c.name)
                        .severity(Severity::Critical);
                    }
                    IntOrString::Int(_) => {
                        out.fail(format!(
                            "container {:?}: {kind} targets port {}, which the container does \
                             not declare (declared: {declared})",
                            c.name,
                            port_str(port)
                        ))
                        .container(&c.name);
                    }
                }
            } else {
                out.pass();
            }
        }
    }
}

fn liveness_fragile(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(containers) = long_running_containers(ctx) else {
        return;
    };
    let min = ctx.params.min_liveness_tolerance_seconds;
    for c in containers {
        let Some(l) = &c.liveness_probe else {
            continue;
        };
        if c.startup_probe.is_some() {
            out.pass();
            continue;
        }
        let delay = i64::from(l.initial_delay_seconds.unwrap_or(0));
        let period = i64::from(l.period_seconds.unwrap_or(10));
        let failures = i64::from(l.failure_threshold.unwrap_or(3));
        // From i32 fields: the product and the sum fit in an i64, whatever the values.
        let tolerance = delay + period * failures;
        if tolerance < min {
            out.fail(format!(
                "container {:?}: livenessProbe restarts it after {tolerance}s without a \
                 startupProbe (initialDelaySeconds {delay} + failureThreshold {failures} x \
                 periodSeconds {period}), under the {min}s a slow start may need",
                c.name
            ))
            .container(&c.name);
        } else {
            out.pass();
        }
    }
}

fn live_probe_failing(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if !ctx.workload.is_long_running() {
        return;
    }
    if !ctx.has(&[RelatedKind::Pod]) {
        return out.skip_missing(&[RelatedKind::Pod]);
    }
    let grace = ctx.params.grace_period_seconds;
    let running: Vec<_> = ctx
        .related
        .pods
        .iter()
        .filter(|p| p.phase.as_deref() == Some("Running") && !p.deleting)
        .collect();
    if running.is_empty() {
        return;
    }
    for pod in running {
        if pod.ready {
            out.pass();
            continue;
        }
        let unready: Vec<&str> = pod
            .containers
            .iter()
            .filter(|c| !c.ready)
            .map(|c| c.name.as_str())
            .collect();
        let which = if unready.is_empty() {
            String::new()
        } else {
            format!(" (containers not ready: {})", join_names(&unready))
        };
        let since = pod.ready_changed.or(pod.created);
        let age = since.map(|t| ctx.seconds_since(t));
        match age {
            Some(age) if age < grace => {
                out.warn(format!(
                    "pod {} is running but not Ready since {}{which}, inside the {} grace period",
                    pod.name,
                    since.map(instant).unwrap_or_default(),
                    human_duration(grace)
                ))
                .object(format!("Pod/{}", pod.name));
            }
            _ => {
                let how_long = since.map_or_else(
                    || "longer than the grace period".to_string(),
                    |t| format!("since {}", instant(t)),
                );
                out.fail(format!(
                    "pod {} is running but not Ready {how_long}{which}: its readiness probe \
                     keeps failing",
                    pod.name
                ))
                .object(format!("Pod/{}", pod.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::api::Severity;
    use crate::testing::{findings, judge, messages, outcome};

    fn deployment(container: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\n\
             spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    \
             metadata: {{labels: {{app: api}}}}\n    spec:\n      containers:\n{container}"
        )
    }

    const BARE: &str = "      - name: app\n        image: api:1\n";

    const GOOD: &str = "      - name: app\n        image: api:1\n        ports: [{containerPort: 8080, name: http}]\n        \
         readinessProbe: {httpGet: {path: /ready, port: http}}\n        \
         livenessProbe: {httpGet: {path: /livez, port: 8080}}\n";

    const SERVICE: &str = "---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\n\
                           spec: {selector: {app: api}, ports: [{port: 80, targetPort: 8080}]}\n";

    #[test]
    fn readiness_and_liveness_missing() {
        let r = judge(&format!("{}{SERVICE}", deployment(BARE)));
        assert_eq!(outcome(&r, "probe-readiness-missing"), "fail");
        assert_eq!(
            messages(&r, "probe-readiness-missing"),
            vec![
                "container \"app\" has no readinessProbe: Service api sends it requests before it can serve and while it is failing"
            ]
        );
        assert_eq!(outcome(&r, "probe-liveness-missing"), "fail");
        assert_eq!(
            r.findings
                .iter()
                .find(|f| f.check_id == "probe-readiness-missing")
                .unwrap()
                .container
                .as_deref(),
            Some("app")
        );
        let r = judge(&deployment(GOOD));
        assert_eq!(outcome(&r, "probe-readiness-missing"), "pass");
        assert_eq!(outcome(&r, "probe-liveness-missing"), "pass");
        // A container nothing sends requests to has no readiness to report; a hung one still
        // needs restarting.
        let r = judge(&deployment(BARE));
        assert_eq!(outcome(&r, "probe-readiness-missing"), "n/a");
        assert_eq!(outcome(&r, "probe-liveness-missing"), "fail");
    }

    #[test]
    fn init_containers_are_never_probed() {
        let r = judge(&format!(
            "{}{SERVICE}",
            deployment(&format!(
                "{GOOD}      initContainers:\n      - {{name: migrate, image: api:1, ports: [{{containerPort: 8080}}]}}\n"
            ))
        ));
        for id in [
            "probe-readiness-missing",
            "probe-liveness-missing",
            "probe-liveness-fragile",
        ] {
            assert_eq!(outcome(&r, id), "pass", "{id}");
        }
    }

    #[test]
    fn jobs_need_no_probes() {
        let r = judge(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: m:1}]\n",
        );
        assert_eq!(outcome(&r, "probe-readiness-missing"), "n/a");
    }

    #[test]
    fn identical_probes() {
        let same = "      - name: app\n        image: api:1\n        ports: [{containerPort: 8080}]\n        \
             readinessProbe: {httpGet: {path: /healthz, port: 8080}}\n        \
             livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 10}\n";
        let r = judge(&deployment(same));
        assert_eq!(
            messages(&r, "probe-identical"),
            vec![
                "container \"app\": livenessProbe and readinessProbe are the same httpGet /healthz on port 8080: a dependency outage restarts every pod instead of taking them out of rotation"
            ]
        );
        assert_eq!(
            outcome(&judge(&deployment(GOOD)), "probe-identical"),
            "pass"
        );
        assert_eq!(outcome(&judge(&deployment(BARE)), "probe-identical"), "n/a");
        // A port that accepts connections, a gRPC health check or a command that checks the
        // process says nothing of dependencies: the same for both probes is fine.
        for handler in [
            "tcpSocket: {port: 8080}",
            "grpc: {port: 8080}",
            "exec: {command: [pg_isready]}",
        ] {
            let same = format!(
                "      - name: app\n        image: api:1\n        ports: [{{containerPort: 8080}}]\n        \
                 readinessProbe: {{{handler}}}\n        livenessProbe: {{{handler}}}\n"
            );
            assert_eq!(
                outcome(&judge(&deployment(&same)), "probe-identical"),
                "pass",
                "{handler}"
            );
        }
    }

    #[test]
    fn inverted_probes() {
        let inverted = "      - name: risk-api\n        image: risk:1\n        \
             readinessProbe: {httpGet: {path: /healthz, port: 8000}}\n        \
             livenessProbe: {httpGet: {path: /ready, port: 8000}}\n";
        let r = judge(&deployment(inverted));
        assert_eq!(
            messages(&r, "probe-inverted"),
            vec![
                "container \"risk-api\": readinessProbe points at liveness endpoint /healthz while livenessProbe points at readiness endpoint /ready: a dependency outage restarts pods and a hung process keeps receiving traffic"
            ]
        );
        assert_eq!(outcome(&judge(&deployment(GOOD)), "probe-inverted"), "pass");
    }

    #[test]
    fn probe_ports() {
        let wrong = "      - name: app\n        image: api:1\n        ports: [{containerPort: 8080, name: http}]\n        \
             readinessProbe: {httpGet: {path: /ready, port: web}}\n        \
             livenessProbe: {tcpSocket: {port: 9090}}\n";
        let r = judge(&deployment(wrong));
        assert_eq!(
            messages(&r, "probe-port-unknown"),
            vec![
                "container \"app\": readinessProbe targets port \"web\", which the container does not declare (declared: 8080 (http)): the kubelet cannot resolve the name, so the probe fails every time",
                "container \"app\": livenessProbe targets port 9090, which the container does not declare (declared: 8080 (http))",
            ]
        );
        // An unresolvable name is broken now; an undeclared number may still be listened on.
        let severities: Vec<Severity> = findings(&r, "probe-port-unknown")
            .iter()
            .map(|f| f.severity)
            .collect();
        assert_eq!(severities, [Severity::Critical, Severity::Medium]);
        assert_eq!(
            outcome(&judge(&deployment(GOOD)), "probe-port-unknown"),
            "pass"
        );
    }

    #[test]
    fn fragile_liveness() {
        let fragile = "      - name: app\n        image: api:1\n        \
             livenessProbe: {httpGet: {path: /livez, port: 8080}, periodSeconds: 2, failureThreshold: 2}\n";
        let r = judge(&deployment(fragile));
        assert_eq!(
            messages(&r, "probe-liveness-fragile"),
            vec![
                "container \"app\": livenessProbe restarts it after 4s without a startupProbe (initialDelaySeconds 0 + failureThreshold 2 x periodSeconds 2), under the 10s a slow start may need"
            ]
        );
        let with_startup = "      - name: app\n        image: api:1\n        \
             startupProbe: {httpGet: {path: /livez, port: 8080}, failureThreshold: 30}\n        \
             livenessProbe: {httpGet: {path: /livez, port: 8080}, periodSeconds: 2, failureThreshold: 2}\n";
        assert_eq!(
            outcome(&judge(&deployment(with_startup)), "probe-liveness-fragile"),
            "pass"
        );
        assert_eq!(
            outcome(&judge(&deployment(GOOD)), "probe-liveness-fragile"),
            "pass"
        );
    }

    fn pod(name: &str, ready: bool, since: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {{app: api, pod-template-hash: 5f7\n}}\n  \
             ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: api-5f7, uid: u, controller: true}}]\n\
             spec: {{containers: [{{name: app, image: api:1}}]}}\n\
             status:\n  phase: Running\n  conditions: [{{type: Ready, status: \"{}\", lastTransitionTime: \"{since}\"}}]\n  \
             containerStatuses: [{{name: app, ready: {ready}, restartCount: 0, image: api:1, imageID: x}}]\n",
            if ready { "True" } else { "False" }
        )
    }

    #[test]
    fn live_readiness() {
        let base = deployment(GOOD);
        let r = judge(&base);
        assert_eq!(outcome(&r, "live-probe-failing"), "skip");
        let r = judge(&format!(
            "{base}{}",
            pod("api-5f7-a", true, "2026-06-01T10:00:00Z")
        ));
        assert_eq!(outcome(&r, "live-probe-failing"), "pass");
        let r = judge(&format!(
            "{base}{}",
            pod("api-5f7-b", false, "2026-06-01T11:58:00Z")
        ));
        assert_eq!(
            messages(&r, "live-probe-failing"),
            vec![
                "pod api-5f7-b is running but not Ready since 2026-06-01T11:58:00Z (containers not ready: app), inside the 5m grace period"
            ]
        );
        assert_eq!(outcome(&r, "live-probe-failing"), "warn");
        let r = judge(&format!(
            "{base}{}",
            pod("api-5f7-b", false, "2026-06-01T11:00:00Z")
        ));
        assert_eq!(
            messages(&r, "live-probe-failing"),
            vec![
                "pod api-5f7-b is running but not Ready since 2026-06-01T11:00:00Z (containers not ready: app): its readiness probe keeps failing"
            ]
        );
    }
}
