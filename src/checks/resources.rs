//! Resources: whether the scheduler knows what each container needs, and what stops one
//! container from starving its neighbours.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::util::instant;
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Severity};
use crate::world::RelatedKind;

pub const CHECKS: &[Check] = &[
    Check {
        id: "resources-requests-missing",
        category: Category::Resources,
        severity: Severity::Medium,
        needs: Needs::Object,
        title: "A container requests no CPU or no memory",
        remediation: "Set resources.requests.cpu and resources.requests.memory to what the \
                      container uses under normal load (for example cpu: 100m, memory: 256Mi), \
                      or set them for the whole pod in spec.resources.",
        run: Run::Workload(requests_missing),
    },
    Check {
        id: "resources-memory-limit-missing",
        category: Category::Resources,
        severity: Severity::Medium,
        needs: Needs::Object,
        title: "A container has no memory limit",
        remediation: "Set resources.limits.memory a little above the container's peak use (read \
                      it from its metrics), or a memory limit for the whole pod in \
                      spec.resources.",
        run: Run::Workload(memory_limit_missing),
    },
    Check {
        id: "resources-cpu-limit-missing",
        category: Category::Resources,
        severity: Severity::Info,
        needs: Needs::Object,
        title: "A container has no CPU limit (advisory)",
        remediation: "Set resources.limits.cpu if the container must not take idle CPU from its \
                      neighbours; if running without a CPU limit is deliberate, disable this \
                      check in the policy.",
        run: Run::Workload(cpu_limit_missing),
    },
    Check {
        id: "resources-ephemeral-storage",
        category: Category::Resources,
        severity: Severity::Low,
        needs: Needs::Object,
        title: "A container sets no ephemeral-storage request or limit",
        remediation: "Set resources.requests and resources.limits for ephemeral-storage (for \
                      example 1Gi) so a container that writes too much is evicted alone, before \
                      the node's disk fills.",
        run: Run::Workload(ephemeral_storage),
    },
    Check {
        id: "live-oomkilled",
        category: Category::Resources,
        severity: Severity::High,
        needs: Needs::Live,
        title: "A container was OOMKilled recently",
        remediation: "Raise resources.limits.memory above the container's peak use (read it from \
                      its metrics), or find the leak; a container without a memory limit was \
                      killed because its node ran out of memory: set requests and limits.",
        run: Run::Workload(live_oomkilled),
    },
];

type ResourceList = BTreeMap<String, Quantity>;

/// A container's (or the pod's) requests and limits.
#[derive(Clone, Copy, Default)]
struct Resources<'a> {
    requests: Option<&'a ResourceList>,
    limits: Option<&'a ResourceList>,
}

impl<'a> Resources<'a> {
    fn of(r: Option<&'a ResourceRequirements>) -> Resources<'a> {
        Resources {
            requests: r.and_then(|r| r.requests.as_ref()),
            limits: r.and_then(|r| r.limits.as_ref()),
        }
    }

    /// Kubernetes copies a limit into an unset request, so either one sets the request.
    fn requests(&self, resource: &str) -> bool {
        is_set(self.requests, resource) || is_set(self.limits, resource)
    }

    fn limits(&self, resource: &str) -> bool {
        is_set(self.limits, resource)
    }
}

/// Set to something other than zero: a zero request reserves nothing and a zero limit is no
/// limit either.
fn is_set(list: Option<&ResourceList>, resource: &str) -> bool {
    list.and_then(|l| l.get(resource))
        .is_some_and(|q| !is_zero(&q.0))
}

fn is_zero(quantity: &str) -> bool {
    let number = quantity
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_alphabetic());
    number.parse::<f64>().is_ok_and(|n| n == 0.0)
}

/// Resources of the container and of the pod. Pod-level resources cover CPU and memory for
/// every container that sets none of its own.
fn container_and_pod<'a>(ctx: &Ctx<'a>, c: &'a Container) -> (Resources<'a>, Resources<'a>) {
    (
        Resources::of(c.resources.as_ref()),
        Resources::of(ctx.workload.pod_spec.resources.as_ref()),
    )
}

/// One finding per container that runs for the pod's lifetime (main containers and native
/// sidecars) missing one of `resources`, as tested by `has`. Init containers are left out: they
/// run to completion before the others start, the pod's effective request is the larger of
/// theirs and the sum of the others', and a leak cannot grow in a step that ends.
fn per_container(
    ctx: &Ctx<'_>,
    out: &mut Out<'_>,
    resources: &[(&str, &str)],
    has: fn(&Resources<'_>, &Resources<'_>, &str) -> bool,
    describe: fn(&[&str]) -> String,
    consequence: &str,
) {
    for c in ctx.workload.long_running_containers() {
        let (own, pod) = container_and_pod(ctx, c);
        let mut missing: [&str; 2] = ["", ""];
        let mut n = 0;
        for (key, label) in resources {
            if !has(&own, &pod, key) {
                missing[n] = *label;
                n += 1;
            }
        }
        if n == 0 {
            out.pass();
            continue;
        }
        out.fail(format!(
            "container {:?} has {}: {consequence}",
            c.name,
            describe(&missing[..n])
        ))
        .container(&c.name);
    }
}

fn requests_missing(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    per_container(
        ctx,
        out,
        &[("cpu", "CPU"), ("memory", "memory")],
        |own, pod, r| own.requests(r) || pod.requests(r),
        |missing| match missing {
            [one] => format!("no {one} request"),
            _ => "no CPU request and no memory request".to_string(),
        },
        "the scheduler reserves nothing for it, and it is among the first evicted when its node \
         runs short",
    );
}

fn memory_limit_missing(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    per_container(
        ctx,
        out,
        &[("memory", "memory")],
        |own, pod, r| own.limits(r) || pod.limits(r),
        |_| "no memory limit".to_string(),
        "a leak or a spike can exhaust its node's memory and get other pods killed or evicted",
    );
}

fn cpu_limit_missing(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    per_container(
        ctx,
        out,
        &[("cpu", "CPU")],
        |own, pod, r| own.limits(r) || pod.limits(r),
        |_| "no CPU limit".to_string(),
        "it can take all idle CPU on its node (advisory: many teams run without CPU limits on \
         purpose)",
    );
}

fn ephemeral_storage(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    // Pod-level resources do not cover ephemeral-storage: only the container's own count.
    for c in ctx.workload.long_running_containers() {
        let own = Resources::of(c.resources.as_ref());
        let (request, limit) = (
            own.requests("ephemeral-storage"),
            own.limits("ephemeral-storage"),
        );
        let missing = match (request, limit) {
            (_, true) => {
                out.pass();
                continue;
            }
            (true, false) => "no ephemeral-storage limit",
            (false, false) => "no ephemeral-storage request or limit",
        };
        out.fail(format!(
            "container {:?} has {missing}: its logs, writable layer and emptyDir volumes can \
             fill its node's disk and get other pods evicted",
            c.name
        ))
        .container(&c.name);
    }
}

fn live_oomkilled(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if !ctx.has(&[RelatedKind::Pod]) {
        return out.skip_missing(&[RelatedKind::Pod]);
    }
    let pods = &ctx.related.pods;
    if pods.is_empty() {
        return;
    }
    let window = ctx.params.restart_window_seconds;
    for pod in pods {
        for cs in &pod.containers {
            if cs.last_terminated_reason.as_deref() != Some("OOMKilled") {
                continue;
            }
            // Without a time, a kill cannot be placed inside the window.
            let Some(at) = cs.last_terminated_at else {
                continue;
            };
            if ctx.seconds_since(at) > window {
                continue;
            }
            let spec = ctx.workload.all_containers().find(|c| c.name == cs.name);
            let limit = match spec {
                Some(c) => memory_limit_text(ctx, c),
                None => "a memory limit that is no longer in the spec".to_string(),
            };
            out.fail(format!(
                "container {:?} of pod {} was OOMKilled at {} with {limit}: {}",
                cs.name,
                pod.name,
                instant(at),
                if limit.starts_with("no ") {
                    "its node ran out of memory and the kernel killed it"
                } else {
                    "its memory limit is too low for its load, or it leaks"
                }
            ))
            .container(&cs.name)
            .object(format!("Pod/{}", pod.name));
        }
    }
    out.pass();
}

fn memory_limit_text(ctx: &Ctx<'_>, c: &Container) -> String {
    let own = c
        .resources
        .as_ref()
        .and_then(|r| r.limits.as_ref())
        .and_then(|l| l.get("memory"))
        .filter(|q| !is_zero(&q.0));
    let pod = ctx
        .workload
        .pod_spec
        .resources
        .as_ref()
        .and_then(|r| r.limits.as_ref())
        .and_then(|l| l.get("memory"))
        .filter(|q| !is_zero(&q.0));
    match (own, pod) {
        (Some(q), _) => format!("memory limit {}", q.0),
        (None, Some(q)) => format!("pod memory limit {}", q.0),
        (None, None) => "no memory limit".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{findings, judge, messages, outcome};

    fn deployment(pod_spec: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\n\
             spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    \
             metadata: {{labels: {{app: api}}}}\n    spec:\n{pod_spec}"
        )
    }

    fn app(resources: &str) -> String {
        deployment(&format!(
            "      containers:\n      - name: app\n        image: api:1\n        resources: {resources}\n"
        ))
    }

    const FULL: &str = "{requests: {cpu: 100m, memory: 256Mi, ephemeral-storage: 1Gi}, \
                        limits: {cpu: '1', memory: 512Mi, ephemeral-storage: 2Gi}}";

    #[test]
    fn nothing_set() {
        let r = judge(&app("{}"));
        assert_eq!(
            messages(&r, "resources-requests-missing"),
            vec![
                "container \"app\" has no CPU request and no memory request: the scheduler reserves nothing for it, and it is among the first evicted when its node runs short"
            ]
        );
        assert_eq!(
            messages(&r, "resources-memory-limit-missing"),
            vec![
                "container \"app\" has no memory limit: a leak or a spike can exhaust its node's memory and get other pods killed or evicted"
            ]
        );
        assert_eq!(
            messages(&r, "resources-cpu-limit-missing"),
            vec![
                "container \"app\" has no CPU limit: it can take all idle CPU on its node (advisory: many teams run without CPU limits on purpose)"
            ]
        );
        assert_eq!(
            messages(&r, "resources-ephemeral-storage"),
            vec![
                "container \"app\" has no ephemeral-storage request or limit: its logs, writable layer and emptyDir volumes can fill its node's disk and get other pods evicted"
            ]
        );
        assert_eq!(
            findings(&r, "resources-requests-missing")[0]
                .container
                .as_deref(),
            Some("app")
        );
    }

    #[test]
    fn everything_set() {
        let r = judge(&app(FULL));
        for id in [
            "resources-requests-missing",
            "resources-memory-limit-missing",
            "resources-cpu-limit-missing",
            "resources-ephemeral-storage",
        ] {
            assert_eq!(outcome(&r, id), "pass", "{id}");
        }
    }

    #[test]
    fn limits_default_requests() {
        // Kubernetes copies a limit into an unset request.
        let r = judge(&app(
            "{limits: {cpu: 500m, memory: 512Mi, ephemeral-storage: 1Gi}}",
        ));
        assert_eq!(outcome(&r, "resources-requests-missing"), "pass");
        assert_eq!(outcome(&r, "resources-ephemeral-storage"), "pass");
        let r = judge(&app(
            "{requests: {memory: 256Mi, ephemeral-storage: 1Gi}, limits: {memory: 256Mi}}",
        ));
        assert_eq!(
            messages(&r, "resources-requests-missing"),
            vec![
                "container \"app\" has no CPU request: the scheduler reserves nothing for it, and it is among the first evicted when its node runs short"
            ]
        );
        assert_eq!(
            messages(&r, "resources-ephemeral-storage"),
            vec![
                "container \"app\" has no ephemeral-storage limit: its logs, writable layer and emptyDir volumes can fill its node's disk and get other pods evicted"
            ]
        );
        // A zero request reserves nothing.
        let r = judge(&app(
            "{requests: {cpu: '0', memory: 0Mi}, limits: {memory: 1Gi}}",
        ));
        assert_eq!(
            messages(&r, "resources-requests-missing"),
            vec![
                "container \"app\" has no CPU request: the scheduler reserves nothing for it, and it is among the first evicted when its node runs short"
            ]
        );
    }

    #[test]
    fn init_containers_and_pod_level_resources() {
        let yaml = deployment(&format!(
            "      initContainers:\n      - name: migrate\n        image: api:1\n      \
             - name: proxy\n        image: envoy:1\n        restartPolicy: Always\n        resources: {FULL}\n      \
             containers:\n      - name: app\n        image: api:1\n        resources: {FULL}\n"
        ));
        // The init container runs to completion before the others start: the native sidecar
        // and the app are what the pod holds on to.
        let r = judge(&yaml);
        for id in [
            "resources-requests-missing",
            "resources-memory-limit-missing",
            "resources-cpu-limit-missing",
        ] {
            assert_eq!(outcome(&r, id), "pass", "{id}");
        }
        let sidecar_without = yaml.replace(
            &format!("restartPolicy: Always\n        resources: {FULL}\n"),
            "restartPolicy: Always\n",
        );
        assert_eq!(
            messages(&judge(&sidecar_without), "resources-memory-limit-missing"),
            vec![
                "container \"proxy\" has no memory limit: a leak or a spike can exhaust its node's memory and get other pods killed or evicted"
            ]
        );
        // Pod-level resources cover CPU and memory, not ephemeral-storage.
        let pod_level = deployment(
            "      resources: {requests: {cpu: 500m, memory: 1Gi}, limits: {cpu: '1', memory: 2Gi}}\n      \
             containers: [{name: app, image: 'api:1'}, {name: log, image: 'fluent-bit:3'}]\n",
        );
        let r = judge(&pod_level);
        assert_eq!(outcome(&r, "resources-requests-missing"), "pass");
        assert_eq!(outcome(&r, "resources-memory-limit-missing"), "pass");
        assert_eq!(outcome(&r, "resources-cpu-limit-missing"), "pass");
        assert_eq!(messages(&r, "resources-ephemeral-storage").len(), 2);
    }

    fn pod(name: &str, last_state: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {{app: api, pod-template-hash: 5f7}}\n  \
             ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: api-5f7, uid: u, controller: true}}]\n\
             spec: {{containers: [{{name: app, image: 'api:1'}}]}}\n\
             status:\n  phase: Running\n  \
             containerStatuses: [{{name: app, ready: true, restartCount: 3, image: 'api:1', imageID: x, \
             state: {{running: {{startedAt: '2026-06-01T11:50:00Z'}}}}, lastState: {last_state}}}]\n"
        )
    }

    fn oom(at: &str) -> String {
        format!(
            "{{terminated: {{exitCode: 137, reason: OOMKilled, startedAt: '2026-06-01T09:00:00Z', finishedAt: '{at}'}}}}"
        )
    }

    #[test]
    fn oomkilled() {
        let base = app(FULL);
        assert_eq!(
            messages(&judge(&base), "live-oomkilled"),
            vec![
                "not judged: no Pod objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        let r = judge(&format!(
            "{base}{}",
            pod("api-5f7-a", &oom("2026-06-01T11:48:00Z"))
        ));
        assert_eq!(
            messages(&r, "live-oomkilled"),
            vec![
                "container \"app\" of pod api-5f7-a was OOMKilled at 2026-06-01T11:48:00Z with memory limit 512Mi: its memory limit is too low for its load, or it leaks"
            ]
        );
        let f = findings(&r, "live-oomkilled");
        assert_eq!(f[0].container.as_deref(), Some("app"));
        assert_eq!(f[0].object.as_deref(), Some("Pod/api-5f7-a"));

        let r = judge(&format!(
            "{}{}",
            app("{requests: {memory: 256Mi}}"),
            pod("api-5f7-a", &oom("2026-06-01T11:48:00Z"))
        ));
        assert_eq!(
            messages(&r, "live-oomkilled"),
            vec![
                "container \"app\" of pod api-5f7-a was OOMKilled at 2026-06-01T11:48:00Z with no memory limit: its node ran out of memory and the kernel killed it"
            ]
        );
        let pod_limit = deployment(
            "      resources: {limits: {memory: 1Gi}}\n      containers: [{name: app, image: 'api:1'}]\n",
        );
        let r = judge(&format!(
            "{pod_limit}{}",
            pod("api-5f7-b", &oom("2026-06-01T11:00:00Z"))
        ));
        assert_eq!(
            messages(&r, "live-oomkilled"),
            vec![
                "container \"app\" of pod api-5f7-b was OOMKilled at 2026-06-01T11:00:00Z with pod memory limit 1Gi: its memory limit is too low for its load, or it leaks"
            ]
        );
        // Outside the one-hour window, or another reason: fine.
        let r = judge(&format!(
            "{base}{}",
            pod("api-5f7-a", &oom("2026-06-01T09:30:00Z"))
        ));
        assert_eq!(outcome(&r, "live-oomkilled"), "pass");
        let r = judge(&format!(
            "{base}{}",
            pod(
                "api-5f7-a",
                "{terminated: {exitCode: 1, reason: Error, finishedAt: '2026-06-01T11:48:00Z'}}"
            )
        ));
        assert_eq!(outcome(&r, "live-oomkilled"), "pass");
    }
}
