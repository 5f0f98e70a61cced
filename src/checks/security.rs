//! Security: what a compromised container could do to its node, its neighbours and the cluster.

use k8s_openapi::api::core::v1::{Container, PodSecurityContext, SeccompProfile, SecurityContext};

use super::util::join_names;
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Severity};
use crate::world::RelatedKind;

pub const CHECKS: &[Check] = &[
    Check {
        id: "security-run-as-root",
        category: Category::Security,
        severity: Severity::High,
        needs: Needs::Object,
        title: "A container may run as root",
        remediation: "Set securityContext.runAsNonRoot: true and a non-zero runAsUser (for \
                      example 10001) on the pod or the container, and give the image a non-root \
                      USER.",
        run: Run::Workload(run_as_root),
    },
    Check {
        id: "security-privileged",
        category: Category::Security,
        severity: Severity::Critical,
        needs: Needs::Object,
        title: "A container runs privileged",
        remediation: "Remove securityContext.privileged: true; add only the capabilities the \
                      container needs (capabilities.add) and mount only the devices it uses.",
        run: Run::Workload(privileged),
    },
    Check {
        id: "security-privilege-escalation",
        category: Category::Security,
        severity: Severity::High,
        needs: Needs::Object,
        title: "A container may gain more privileges than it started with",
        remediation: "Set securityContext.allowPrivilegeEscalation: false on the container (and \
                      drop privileged: true and the SYS_ADMIN capability, which force it on).",
        run: Run::Workload(privilege_escalation),
    },
    Check {
        id: "security-capabilities",
        category: Category::Security,
        severity: Severity::High,
        needs: Needs::Object,
        title: "A container adds dangerous capabilities or keeps the default ones",
        remediation: "Set securityContext.capabilities.drop: [ALL] and add back only what the \
                      container needs (for example NET_BIND_SERVICE); never add ALL, SYS_ADMIN \
                      or NET_ADMIN to an application container.",
        run: Run::Workload(capabilities),
    },
    Check {
        id: "security-writable-root-fs",
        category: Category::Security,
        severity: Severity::Medium,
        needs: Needs::Object,
        title: "A container's root filesystem is writable",
        remediation: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir \
                      where the container must write (for example /tmp).",
        run: Run::Workload(writable_root_fs),
    },
    Check {
        id: "security-host-namespaces",
        category: Category::Security,
        severity: Severity::Critical,
        needs: Needs::Object,
        title: "The pod shares the node's network, PID or IPC namespace",
        remediation: "Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to \
                      false); expose ports through a Service instead of the node's network.",
        run: Run::Workload(host_namespaces),
    },
    Check {
        id: "security-host-path",
        category: Category::Security,
        severity: Severity::High,
        needs: Needs::Object,
        title: "The pod mounts a directory or file of the node",
        remediation: "Replace the hostPath volume with a PersistentVolumeClaim, a ConfigMap or \
                      Secret, or an emptyDir; a node agent that truly needs it should mount it \
                      readOnly and be exempted with a reason.",
        run: Run::Workload(host_path),
    },
    Check {
        id: "security-host-port",
        category: Category::Security,
        severity: Severity::Medium,
        needs: Needs::Object,
        title: "A container binds a port on the node",
        remediation: "Remove hostPort from the container's ports and reach the pods through a \
                      Service (NodePort or LoadBalancer if it must be reachable from outside).",
        run: Run::Workload(host_port),
    },
    Check {
        id: "security-seccomp",
        category: Category::Security,
        severity: Severity::Low,
        needs: Needs::Object,
        title: "A container runs without a seccomp profile",
        remediation: "Set securityContext.seccompProfile.type: RuntimeDefault on the pod (or \
                      Localhost with a profile of your own).",
        run: Run::Workload(seccomp),
    },
    Check {
        id: "security-sa-token-automount",
        category: Category::Security,
        severity: Severity::Low,
        needs: Needs::Related,
        title: "The pod automounts a service-account token",
        remediation: "Set automountServiceAccountToken: false on the pod or its ServiceAccount; \
                      a workload that calls the Kubernetes API should set it to true explicitly \
                      on the pod.",
        run: Run::Workload(sa_token_automount),
    },
    Check {
        id: "security-cluster-admin",
        category: Category::Security,
        severity: Severity::Critical,
        needs: Needs::Related,
        title: "The workload's ServiceAccount is bound to cluster-admin or a wildcard role",
        remediation: "Remove the binding and grant the ServiceAccount a Role with only the verbs \
                      and resources it uses, in its own namespace.",
        run: Run::Workload(cluster_admin),
    },
];

/// Windows pods reject the Linux-only settings (runAsUser, seccomp, capabilities,
/// allowPrivilegeEscalation, readOnlyRootFilesystem): checks of them do not apply.
fn is_windows(ctx: &Ctx<'_>) -> bool {
    ctx.workload
        .pod_spec
        .os
        .as_ref()
        .is_some_and(|os| os.name == "windows")
}

fn pod_sc<'a>(ctx: &Ctx<'a>) -> Option<&'a PodSecurityContext> {
    ctx.workload.pod_spec.security_context.as_ref()
}

fn sc(c: &Container) -> Option<&SecurityContext> {
    c.security_context.as_ref()
}

/// A setting the container may set and otherwise inherits from the pod, with the level
/// (`container` or `pod`) it comes from.
fn effective<T: Copy>(container: Option<T>, pod: Option<T>) -> Option<(T, &'static str)> {
    container
        .map(|v| (v, "container"))
        .or_else(|| pod.map(|v| (v, "pod")))
}

fn run_as_root(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if is_windows(ctx) {
        return;
    }
    let pod = pod_sc(ctx);
    for c in ctx.workload.all_containers() {
        let csc = sc(c);
        let non_root = effective(
            csc.and_then(|s| s.run_as_non_root),
            pod.and_then(|s| s.run_as_non_root),
        );
        let user = effective(
            csc.and_then(|s| s.run_as_user),
            pod.and_then(|s| s.run_as_user),
        );
        match (non_root, user) {
            (Some((true, _)), Some((0, at))) => {
                out.fail(format!(
                    "container {:?} runs with runAsUser 0 (at {at} level) and runAsNonRoot \
                     true: the kubelet refuses to start it",
                    c.name
                ))
                .container(&c.name)
                .remediation(
                    "Set runAsUser to a non-zero UID (for example 10001) or remove it so the \
                     image's non-root USER applies.",
                );
            }
            (Some((true, _)), _) => out.pass(),
            (_, Some((0, at))) => {
                out.fail(format!(
                    "container {:?} runs as root (runAsUser 0 at {at} level): a process that \
                     breaks out of it is root on the node",
                    c.name
                ))
                .container(&c.name);
            }
            (_, Some(_)) => out.pass(),
            (_, None) => {
                out.fail(format!(
                    "container {:?} may run as root: neither runAsNonRoot: true nor a runAsUser \
                     is set on the pod or the container, so it runs as the image's user, often \
                     root",
                    c.name
                ))
                .container(&c.name);
            }
        }
    }
}

fn privileged(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for c in ctx.workload.all_containers() {
        if sc(c).and_then(|s| s.privileged) == Some(true) {
            out.fail(format!(
                "container {:?} is privileged: it has every capability and the node's devices, \
                 so a compromised process owns the node",
                c.name
            ))
            .container(&c.name);
        } else {
            out.pass();
        }
    }
}

/// A capability name without its `CAP_` prefix.
fn cap_name(cap: &str) -> &str {
    match cap.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("CAP_") => &cap[4..],
        _ => cap,
    }
}

fn same_cap(a: &str, b: &str) -> bool {
    cap_name(a).eq_ignore_ascii_case(cap_name(b))
}

fn added_caps(c: &Container) -> &[String] {
    sc(c)
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| c.add.as_deref())
        .unwrap_or(&[])
}

fn dropped_caps(c: &Container) -> &[String] {
    sc(c)
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| c.drop.as_deref())
        .unwrap_or(&[])
}

fn privilege_escalation(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if is_windows(ctx) {
        return;
    }
    for c in ctx.workload.all_containers() {
        let csc = sc(c);
        // Kubernetes rejects allowPrivilegeEscalation: false next to either of these, and the
        // runtime grants escalation with them whatever the field says.
        let forced = if csc.and_then(|s| s.privileged) == Some(true) {
            Some("it is privileged")
        } else if added_caps(c)
            .iter()
            .any(|a| same_cap(a, "SYS_ADMIN") || same_cap(a, "ALL"))
        {
            Some("it adds the SYS_ADMIN capability")
        } else {
            None
        };
        if let Some(why) = forced {
            out.fail(format!(
                "container {:?} can escalate privileges whatever allowPrivilegeEscalation says: \
                 {why}",
                c.name
            ))
            .container(&c.name);
            continue;
        }
        match csc.and_then(|s| s.allow_privilege_escalation) {
            Some(false) => out.pass(),
            Some(true) => {
                out.fail(format!(
                    "container {:?} sets allowPrivilegeEscalation: true: a setuid binary in the \
                     image can gain more privileges than the process started with",
                    c.name
                ))
                .container(&c.name);
            }
            None => {
                out.fail(format!(
                    "container {:?} does not set allowPrivilegeEscalation: false: a setuid \
                     binary in the image can gain more privileges than the process started with",
                    c.name
                ))
                .container(&c.name);
            }
        }
    }
}

fn capabilities(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if is_windows(ctx) {
        return;
    }
    let dangerous = &ctx.params.dangerous_capabilities;
    for c in ctx.workload.all_containers() {
        let added = added_caps(c);
        let is_dangerous =
            |a: &String| same_cap(a, "ALL") || dangerous.iter().any(|d| same_cap(a, d));
        let mut ok = true;
        if added.iter().any(is_dangerous) {
            ok = false;
            let msg = if added.iter().any(|a| same_cap(a, "ALL")) {
                format!(
                    "container {:?} adds ALL capabilities: it holds every privilege root has on \
                     the node's kernel",
                    c.name
                )
            } else {
                let names: Vec<&str> = added
                    .iter()
                    .filter(|a| is_dangerous(a))
                    .map(String::as_str)
                    .collect();
                let (noun, pronoun) = if names.len() == 1 {
                    ("capability", "it lets")
                } else {
                    ("capabilities", "they let")
                };
                format!(
                    "container {:?} adds the dangerous {noun} {}: {pronoun} a compromised process \
                     reach beyond the container",
                    c.name,
                    join_names(&names)
                )
            };
            out.fail(msg).container(&c.name);
        }
        if !dropped_caps(c)
            .iter()
            .any(|d| d.eq_ignore_ascii_case("ALL"))
        {
            ok = false;
            out.fail(format!(
                "container {:?} does not drop ALL capabilities: it keeps the runtime's defaults \
                 (such as NET_RAW, CHOWN and SETUID) that it most likely does not need",
                c.name
            ))
            .container(&c.name)
            .severity(Severity::Medium)
            .remediation(
                "Set securityContext.capabilities.drop: [ALL] and add back only what the \
                 container needs (for example NET_BIND_SERVICE).",
            );
        }
        if ok {
            out.pass();
        }
    }
}

fn writable_root_fs(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if is_windows(ctx) {
        return;
    }
    for c in ctx.workload.all_containers() {
        let how = match sc(c).and_then(|s| s.read_only_root_filesystem) {
            Some(true) => {
                out.pass();
                continue;
            }
            Some(false) => "sets readOnlyRootFilesystem: false",
            None => "does not set readOnlyRootFilesystem: true",
        };
        out.fail(format!(
            "container {:?} {how}: an intruder can change its binaries and drop tools in its \
             filesystem",
            c.name
        ))
        .container(&c.name);
    }
}

fn host_namespaces(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let spec = ctx.workload.pod_spec;
    let set = |v: Option<bool>| v == Some(true);
    let shared = [
        (
            set(spec.host_network),
            "hostNetwork",
            "use the node's network interfaces and ports",
        ),
        (
            set(spec.host_pid),
            "hostPID",
            "see and signal every process on the node",
        ),
        (
            set(spec.host_ipc),
            "hostIPC",
            "read the shared memory of the node's processes",
        ),
    ];
    if !shared.iter().any(|(on, _, _)| *on) {
        return out.pass();
    }
    let fields: Vec<String> = shared
        .iter()
        .filter(|(on, _, _)| *on)
        .map(|(_, field, _)| format!("{field}: true"))
        .collect();
    let effects: Vec<&str> = shared
        .iter()
        .filter(|(on, _, _)| *on)
        .map(|(_, _, effect)| *effect)
        .collect();
    out.fail(format!(
        "the pod sets {}: its containers can {}",
        join_names(&fields),
        join_names(&effects)
    ));
}

/// Where container runtimes put their sockets, in /run and in its /var/run alias.
const RUNTIME_SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/docker/containerd/containerd.sock",
    "/run/docker/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/k3s/containerd/containerd.sock",
    "/run/k3s/containerd/containerd.sock",
];

const RUNTIME_SOCKET_NAMES: &[&str] = &[
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "cri-dockerd.sock",
];

/// How a host path exposes the container runtime socket, if it does.
enum SocketExposure {
    Socket,
    ParentDirectory,
}

fn runtime_socket_exposure(path: &str) -> Option<SocketExposure> {
    let path = path.trim_end_matches('/');
    let file = path.rsplit('/').next().unwrap_or(path);
    if RUNTIME_SOCKET_NAMES.contains(&file) {
        return Some(SocketExposure::Socket);
    }
    // The node's root (an empty path once trimmed) holds everything.
    let parent = path.is_empty()
        || RUNTIME_SOCKETS.iter().any(|s| {
            s.strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('/'))
        });
    parent.then_some(SocketExposure::ParentDirectory)
}

fn host_path(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let volumes = ctx.workload.pod_spec.volumes.as_deref().unwrap_or(&[]);
    let mut any = false;
    for v in volumes {
        let Some(hp) = &v.host_path else {
            continue;
        };
        any = true;
        let mounters: Vec<&str> = ctx
            .workload
            .all_containers()
            .filter(|c| c.volume_mounts.iter().flatten().any(|m| m.name == v.name))
            .map(|c| c.name.as_str())
            .collect();
        let quoted: Vec<String> = mounters.iter().map(|n| format!("{n:?}")).collect();
        let into = match quoted.len() {
            0 => "but no container mounts it".to_string(),
            1 => format!("into container {}", quoted[0]),
            _ => format!("into containers {}", join_names(&quoted)),
        };
        let path = hp.path.as_str();
        let finding = match runtime_socket_exposure(path) {
            Some(exposure) => {
                let what = match exposure {
                    SocketExposure::Socket => "the container runtime socket",
                    SocketExposure::ParentDirectory => {
                        "a directory holding the container runtime socket"
                    }
                };
                out.fail(format!(
                    "hostPath volume {:?} mounts the node's {path}, {what}, {into}: whoever \
                     holds the socket controls every container on the node",
                    v.name
                ))
                .severity(Severity::Critical)
                .remediation(
                    "Do not mount the container runtime socket: build images with a \
                     daemonless builder (kaniko, buildah) and read container metadata through \
                     the Kubernetes API.",
                )
            }
            None => out.fail(format!(
                "hostPath volume {:?} mounts the node's {path} {into}: the pod can read or \
                 change the node's files and depends on what that node holds",
                v.name
            )),
        };
        if let [only] = mounters.as_slice() {
            finding.container(only);
        }
    }
    if !any {
        out.pass();
    }
}

fn host_port(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for c in ctx.workload.all_containers() {
        let mut ok = true;
        for p in c.ports.iter().flatten() {
            // Kubernetes reads hostPort 0 as no host port.
            let Some(host) = p.host_port.filter(|h| *h != 0) else {
                continue;
            };
            ok = false;
            out.fail(format!(
                "container {:?} binds hostPort {host} (containerPort {}/{}) on the node: one such \
                 pod fits per node and the port is open on the node's address",
                c.name,
                p.container_port,
                p.protocol.as_deref().unwrap_or("TCP")
            ))
            .container(&c.name);
        }
        if ok {
            out.pass();
        }
    }
}

fn profile_type(p: &Option<SeccompProfile>) -> Option<&str> {
    p.as_ref().map(|p| p.type_.as_str())
}

fn seccomp(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if is_windows(ctx) {
        return;
    }
    let pod = pod_sc(ctx).and_then(|s| profile_type(&s.seccomp_profile));
    for c in ctx.workload.all_containers() {
        let own = sc(c).and_then(|s| profile_type(&s.seccomp_profile));
        match effective(own, pod) {
            Some(("RuntimeDefault" | "Localhost", _)) => out.pass(),
            Some((other, at)) => {
                out.fail(format!(
                    "container {:?} runs with seccomp profile {other} (at {at} level): every \
                     system call of the kernel is open to it",
                    c.name
                ))
                .container(&c.name);
            }
            None => {
                out.fail(format!(
                    "container {:?} has no seccomp profile (neither the pod nor the container \
                     sets seccompProfile): it runs Unconfined unless the kubelet defaults to \
                     RuntimeDefault",
                    c.name
                ))
                .container(&c.name);
            }
        }
    }
}

fn sa_token_automount(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    // Set either way on the pod, the author decided: true means the workload uses the API.
    if ctx
        .workload
        .pod_spec
        .automount_service_account_token
        .is_some()
    {
        return out.pass();
    }
    if !ctx.has(&[RelatedKind::ServiceAccount]) {
        return out.skip_missing(&[RelatedKind::ServiceAccount]);
    }
    let name = ctx.workload.service_account();
    let consequence = "every container gets a Kubernetes API token it may not need";
    let msg = match ctx.world.service_account(ctx.workload.namespace, name) {
        Some(sa) => match sa.automount_token {
            Some(false) => return out.pass(),
            Some(true) => format!(
                "the pod does not set automountServiceAccountToken and its \
                 ServiceAccount/{name} sets it true: {consequence}"
            ),
            None => format!(
                "neither the pod nor its ServiceAccount/{name} sets \
                 automountServiceAccountToken: false: {consequence}"
            ),
        },
        None => format!(
            "the pod does not set automountServiceAccountToken: false and its \
             ServiceAccount/{name} is not among the known ServiceAccounts, so the token is \
             mounted: {consequence}"
        ),
    };
    out.fail(msg).object(format!("ServiceAccount/{name}"));
}

fn cluster_admin(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let kinds = [RelatedKind::RoleBinding, RelatedKind::ClusterRoleBinding];
    if !ctx.has_any(&kinds) {
        return out.skip_missing(&kinds);
    }
    let sa = ctx.workload.service_account();
    let mut ok = true;
    for b in ctx
        .world
        .bindings_of_service_account(ctx.workload.namespace, sa)
    {
        if b.role_kind != "ClusterRole" {
            continue;
        }
        let role = if b.role_name == "cluster-admin" {
            String::from("ClusterRole/cluster-admin")
        } else if ctx
            .world
            .cluster_role(&b.role_name)
            .is_some_and(|r| r.wildcard)
        {
            format!("ClusterRole/{} (every verb on every resource)", b.role_name)
        } else {
            continue;
        };
        ok = false;
        // A RoleBinding (`RoleBinding/<ns>/<name>`) grants the role inside its own namespace.
        let scope = match b.display.strip_prefix("RoleBinding/") {
            Some(rest) => format!("namespace {}", rest.split('/').next().unwrap_or(rest)),
            None => String::from("the whole cluster"),
        };
        out.fail(format!(
            "{} grants {role} to ServiceAccount/{sa}: a compromised pod controls {scope}",
            b.display
        ))
        .object(b.display.as_str());
    }
    if ok {
        out.pass();
    }
}

#[cfg(test)]
mod tests {
    use crate::api::{Parameters, ReadinessPolicySpec, Severity};
    use crate::testing::{findings, judge, judge_with, messages, outcome};

    /// A Deployment with extra pod-spec lines (indented six spaces) and its containers.
    fn deployment(pod: &str, containers: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\n\
             spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    \
             metadata: {{labels: {{app: api}}}}\n    spec:\n{pod}      containers:\n{containers}"
        )
    }

    /// A container with a security context of these flow-mapping fields.
    fn container(name: &str, security_context: &str) -> String {
        format!(
            "      - name: {name}\n        image: api:1\n        securityContext: {{{security_context}}}\n"
        )
    }

    const HARDENED: &str = "runAsNonRoot: true, runAsUser: 10001, allowPrivilegeEscalation: false, \
         readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}";

    const OBJECT_CHECKS: &[&str] = &[
        "security-run-as-root",
        "security-privileged",
        "security-privilege-escalation",
        "security-capabilities",
        "security-writable-root-fs",
        "security-host-namespaces",
        "security-host-path",
        "security-host-port",
        "security-seccomp",
    ];

    #[test]
    fn hardened_container_passes() {
        let r = judge(&deployment("", &container("app", HARDENED)));
        for id in OBJECT_CHECKS {
            assert_eq!(outcome(&r, id), "pass", "{id}");
        }
    }

    #[test]
    fn run_as_root() {
        let r = judge(&deployment("", &container("app", "")));
        assert_eq!(
            messages(&r, "security-run-as-root"),
            vec![
                "container \"app\" may run as root: neither runAsNonRoot: true nor a runAsUser is set on the pod or the container, so it runs as the image's user, often root"
            ]
        );
        let r = judge(&deployment(
            "      securityContext: {runAsUser: 0}\n",
            &container("app", ""),
        ));
        assert_eq!(
            messages(&r, "security-run-as-root"),
            vec![
                "container \"app\" runs as root (runAsUser 0 at pod level): a process that breaks out of it is root on the node"
            ]
        );
        let r = judge(&deployment(
            "      securityContext: {runAsNonRoot: true}\n",
            &container("app", "runAsUser: 0"),
        ));
        assert_eq!(
            messages(&r, "security-run-as-root"),
            vec![
                "container \"app\" runs with runAsUser 0 (at container level) and runAsNonRoot true: the kubelet refuses to start it"
            ]
        );
        // The container's own runAsNonRoot: false overrides the pod's true.
        let r = judge(&deployment(
            "      securityContext: {runAsNonRoot: true}\n",
            &container("app", "runAsNonRoot: false"),
        ));
        assert_eq!(outcome(&r, "security-run-as-root"), "fail");
        // A non-zero UID on the pod is enough, and runAsNonRoot alone lets the kubelet verify.
        let r = judge(&deployment(
            "      securityContext: {runAsUser: 1000}\n",
            &container("app", ""),
        ));
        assert_eq!(outcome(&r, "security-run-as-root"), "pass");
        let r = judge(&deployment(
            "      securityContext: {runAsNonRoot: true}\n",
            &container("app", ""),
        ));
        assert_eq!(outcome(&r, "security-run-as-root"), "pass");
    }

    #[test]
    fn init_containers_and_sidecars_are_judged() {
        let pod = format!(
            "      initContainers:\n{}{}",
            container("migrate", "runAsUser: 0"),
            container("proxy", "runAsUser: 0").replace(
                "        image: api:1\n",
                "        image: api:1\n        restartPolicy: Always\n"
            )
        );
        let r = judge(&deployment(&pod, &container("app", HARDENED)));
        assert_eq!(
            messages(&r, "security-run-as-root"),
            vec![
                "container \"migrate\" runs as root (runAsUser 0 at container level): a process that breaks out of it is root on the node",
                "container \"proxy\" runs as root (runAsUser 0 at container level): a process that breaks out of it is root on the node",
            ]
        );
        assert_eq!(
            findings(&r, "security-run-as-root")[0].container.as_deref(),
            Some("migrate")
        );
    }

    #[test]
    fn windows_pods_skip_linux_settings() {
        let r = judge(&deployment(
            "      os: {name: windows}\n",
            &container("app", ""),
        ));
        for id in [
            "security-run-as-root",
            "security-privilege-escalation",
            "security-capabilities",
            "security-writable-root-fs",
            "security-seccomp",
        ] {
            assert_eq!(outcome(&r, id), "n/a", "{id}");
        }
    }

    #[test]
    fn privileged() {
        let r = judge(&deployment("", &container("app", "privileged: true")));
        assert_eq!(
            messages(&r, "security-privileged"),
            vec![
                "container \"app\" is privileged: it has every capability and the node's devices, so a compromised process owns the node"
            ]
        );
        assert_eq!(
            findings(&r, "security-privileged")[0].severity,
            Severity::Critical
        );
        let r = judge(&deployment("", &container("app", "privileged: false")));
        assert_eq!(outcome(&r, "security-privileged"), "pass");
    }

    #[test]
    fn privilege_escalation() {
        let r = judge(&deployment("", &container("app", "")));
        assert_eq!(
            messages(&r, "security-privilege-escalation"),
            vec![
                "container \"app\" does not set allowPrivilegeEscalation: false: a setuid binary in the image can gain more privileges than the process started with"
            ]
        );
        let r = judge(&deployment(
            "",
            &container("app", "allowPrivilegeEscalation: true"),
        ));
        assert_eq!(
            messages(&r, "security-privilege-escalation"),
            vec![
                "container \"app\" sets allowPrivilegeEscalation: true: a setuid binary in the image can gain more privileges than the process started with"
            ]
        );
        let r = judge(&deployment(
            "",
            &container(
                "app",
                "allowPrivilegeEscalation: false, capabilities: {add: [CAP_SYS_ADMIN]}",
            ),
        ));
        assert_eq!(
            messages(&r, "security-privilege-escalation"),
            vec![
                "container \"app\" can escalate privileges whatever allowPrivilegeEscalation says: it adds the SYS_ADMIN capability"
            ]
        );
        let r = judge(&deployment("", &container("app", "privileged: true")));
        assert_eq!(
            messages(&r, "security-privilege-escalation"),
            vec![
                "container \"app\" can escalate privileges whatever allowPrivilegeEscalation says: it is privileged"
            ]
        );
        let r = judge(&deployment(
            "",
            &container("app", "allowPrivilegeEscalation: false"),
        ));
        assert_eq!(outcome(&r, "security-privilege-escalation"), "pass");
    }

    #[test]
    fn capabilities() {
        let r = judge(&deployment(
            "",
            &container(
                "app",
                "capabilities: {add: [NET_BIND_SERVICE, NET_ADMIN, cap_sys_admin]}",
            ),
        ));
        assert_eq!(
            messages(&r, "security-capabilities"),
            vec![
                "container \"app\" adds the dangerous capabilities NET_ADMIN and cap_sys_admin: they let a compromised process reach beyond the container",
                "container \"app\" does not drop ALL capabilities: it keeps the runtime's defaults (such as NET_RAW, CHOWN and SETUID) that it most likely does not need",
            ]
        );
        let f = findings(&r, "security-capabilities");
        assert_eq!(
            (f[0].severity, f[1].severity),
            (Severity::High, Severity::Medium)
        );
        let r = judge(&deployment(
            "",
            &container("app", "capabilities: {add: [ALL, SYS_ADMIN], drop: [ALL]}"),
        ));
        assert_eq!(
            messages(&r, "security-capabilities"),
            vec![
                "container \"app\" adds ALL capabilities: it holds every privilege root has on the node's kernel"
            ]
        );
        // Dropping everything and adding a harmless one back is the recommended shape.
        let r = judge(&deployment(
            "",
            &container(
                "app",
                "capabilities: {add: [NET_BIND_SERVICE], drop: [all]}",
            ),
        ));
        assert_eq!(outcome(&r, "security-capabilities"), "pass");
        // The policy's list decides what is dangerous (ALL always is).
        let policy = ReadinessPolicySpec {
            parameters: Parameters {
                dangerous_capabilities: vec!["CAP_NET_BIND_SERVICE".into()],
                ..Parameters::default()
            },
            ..ReadinessPolicySpec::default()
        };
        let r = judge_with(
            &deployment(
                "",
                &container(
                    "app",
                    "capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}",
                ),
            ),
            &policy,
        );
        assert_eq!(
            messages(&r, "security-capabilities"),
            vec![
                "container \"app\" adds the dangerous capability NET_BIND_SERVICE: it lets a compromised process reach beyond the container"
            ]
        );
    }

    #[test]
    fn writable_root_fs() {
        let r = judge(&deployment(
            "",
            &format!(
                "{}{}",
                container("app", ""),
                container("sidecar", "readOnlyRootFilesystem: false")
            ),
        ));
        assert_eq!(
            messages(&r, "security-writable-root-fs"),
            vec![
                "container \"app\" does not set readOnlyRootFilesystem: true: an intruder can change its binaries and drop tools in its filesystem",
                "container \"sidecar\" sets readOnlyRootFilesystem: false: an intruder can change its binaries and drop tools in its filesystem",
            ]
        );
    }

    #[test]
    fn host_namespaces() {
        let r = judge(&deployment(
            "      hostNetwork: true\n      hostPID: true\n      hostIPC: false\n",
            &container("app", HARDENED),
        ));
        assert_eq!(
            messages(&r, "security-host-namespaces"),
            vec![
                "the pod sets hostNetwork: true and hostPID: true: its containers can use the node's network interfaces and ports and see and signal every process on the node"
            ]
        );
        let r = judge(&deployment(
            "      hostIPC: true\n",
            &container("app", HARDENED),
        ));
        assert_eq!(
            messages(&r, "security-host-namespaces"),
            vec![
                "the pod sets hostIPC: true: its containers can read the shared memory of the node's processes"
            ]
        );
    }

    fn with_mounts(name: &str, mounts: &str) -> String {
        format!("      - name: {name}\n        image: agent:1\n        volumeMounts: [{mounts}]\n")
    }

    #[test]
    fn host_path() {
        let pod = "      volumes:\n      - {name: logs, hostPath: {path: /var/log}}\n      \
                   - {name: sock, hostPath: {path: /var/run/docker.sock, type: Socket}}\n      \
                   - {name: run, hostPath: {path: /run/}}\n      \
                   - {name: spare, hostPath: {path: /opt/spare}}\n      \
                   - {name: tmp, emptyDir: {}}\n";
        let containers = format!(
            "{}{}",
            with_mounts(
                "shipper",
                "{name: logs, mountPath: /logs, readOnly: true}, {name: sock, mountPath: /sock}"
            ),
            with_mounts(
                "exporter",
                "{name: logs, mountPath: /logs}, {name: run, mountPath: /host/run}"
            )
        );
        let r = judge(&deployment(pod, &containers));
        // The report lists critical findings first.
        assert_eq!(
            messages(&r, "security-host-path"),
            vec![
                "hostPath volume \"run\" mounts the node's /run/, a directory holding the container runtime socket, into container \"exporter\": whoever holds the socket controls every container on the node",
                "hostPath volume \"sock\" mounts the node's /var/run/docker.sock, the container runtime socket, into container \"shipper\": whoever holds the socket controls every container on the node",
                "hostPath volume \"logs\" mounts the node's /var/log into containers \"shipper\" and \"exporter\": the pod can read or change the node's files and depends on what that node holds",
                "hostPath volume \"spare\" mounts the node's /opt/spare but no container mounts it: the pod can read or change the node's files and depends on what that node holds",
            ]
        );
        let f = findings(&r, "security-host-path");
        let sev: Vec<Severity> = f.iter().map(|f| f.severity).collect();
        assert_eq!(
            sev,
            vec![
                Severity::Critical,
                Severity::Critical,
                Severity::High,
                Severity::High
            ]
        );
        assert_eq!(f[1].container.as_deref(), Some("shipper"));
        assert_eq!(f[2].container, None);
        let r = judge(&deployment(
            "      volumes: [{name: tmp, emptyDir: {}}]\n",
            &container("app", HARDENED),
        ));
        assert_eq!(outcome(&r, "security-host-path"), "pass");
    }

    #[test]
    fn runtime_sockets() {
        use super::{SocketExposure, runtime_socket_exposure};
        let kind = |p| match runtime_socket_exposure(p) {
            Some(SocketExposure::Socket) => "socket",
            Some(SocketExposure::ParentDirectory) => "parent",
            None => "none",
        };
        assert_eq!(kind("/run/k3s/containerd/containerd.sock"), "socket");
        assert_eq!(kind("/var/run/crio/crio.sock"), "socket");
        assert_eq!(kind("/var/run/cri-dockerd.sock"), "socket");
        assert_eq!(kind("/var/run"), "parent");
        assert_eq!(kind("/run/containerd"), "parent");
        assert_eq!(kind("/var/run/docker"), "parent");
        assert_eq!(kind("/"), "parent");
        assert_eq!(kind("/var/lib/docker"), "none");
        assert_eq!(kind("/runtime"), "none");
        assert_eq!(kind("/var/log"), "none");
    }

    #[test]
    fn host_port() {
        let c = "      - name: app\n        image: api:1\n        \
                 ports: [{containerPort: 8080, hostPort: 80}, {containerPort: 53, hostPort: 53, protocol: UDP}, {containerPort: 9090}]\n";
        let r = judge(&deployment("", c));
        assert_eq!(
            messages(&r, "security-host-port"),
            vec![
                "container \"app\" binds hostPort 80 (containerPort 8080/TCP) on the node: one such pod fits per node and the port is open on the node's address",
                "container \"app\" binds hostPort 53 (containerPort 53/UDP) on the node: one such pod fits per node and the port is open on the node's address",
            ]
        );
        let c = "      - name: app\n        image: api:1\n        ports: [{containerPort: 8080}]\n";
        assert_eq!(
            outcome(&judge(&deployment("", c)), "security-host-port"),
            "pass"
        );
    }

    #[test]
    fn seccomp() {
        let r = judge(&deployment("", &container("app", "")));
        assert_eq!(
            messages(&r, "security-seccomp"),
            vec![
                "container \"app\" has no seccomp profile (neither the pod nor the container sets seccompProfile): it runs Unconfined unless the kubelet defaults to RuntimeDefault"
            ]
        );
        let pod = "      securityContext: {seccompProfile: {type: RuntimeDefault}}\n";
        let containers = format!(
            "{}{}{}",
            container("app", ""),
            container("debug", "seccompProfile: {type: Unconfined}"),
            container(
                "tuned",
                "seccompProfile: {type: Localhost, localhostProfile: profiles/tuned.json}"
            )
        );
        let r = judge(&deployment(pod, &containers));
        assert_eq!(
            messages(&r, "security-seccomp"),
            vec![
                "container \"debug\" runs with seccomp profile Unconfined (at container level): every system call of the kernel is open to it"
            ]
        );
        let r = judge(&deployment(pod, &container("app", "")));
        assert_eq!(outcome(&r, "security-seccomp"), "pass");
        let r = judge(&deployment(
            "      securityContext: {seccompProfile: {type: Unconfined}}\n",
            &container("app", ""),
        ));
        assert_eq!(
            messages(&r, "security-seccomp"),
            vec![
                "container \"app\" runs with seccomp profile Unconfined (at pod level): every system call of the kernel is open to it"
            ]
        );
    }

    fn service_account(name: &str, automount: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}, namespace: shop}}\n{automount}"
        )
    }

    #[test]
    fn sa_token_automount() {
        let id = "security-sa-token-automount";
        let plain = deployment("", &container("app", HARDENED));
        let r = judge(&plain);
        assert_eq!(outcome(&r, id), "skip");
        assert_eq!(
            messages(&r, id),
            vec![
                "not judged: no ServiceAccount objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        // The pod's own decision needs no ServiceAccount, either way.
        for setting in ["false", "true"] {
            let r = judge(&deployment(
                &format!("      automountServiceAccountToken: {setting}\n"),
                &container("app", HARDENED),
            ));
            assert_eq!(outcome(&r, id), "pass", "{setting}");
        }
        let r = judge(&format!(
            "{plain}{}",
            service_account("default", "automountServiceAccountToken: false\n")
        ));
        assert_eq!(outcome(&r, id), "pass");
        let r = judge(&format!("{plain}{}", service_account("default", "")));
        assert_eq!(
            messages(&r, id),
            vec![
                "neither the pod nor its ServiceAccount/default sets automountServiceAccountToken: false: every container gets a Kubernetes API token it may not need"
            ]
        );
        assert_eq!(
            findings(&r, id)[0].object.as_deref(),
            Some("ServiceAccount/default")
        );
        let named = deployment(
            "      serviceAccountName: api\n",
            &container("app", HARDENED),
        );
        let r = judge(&format!(
            "{named}{}",
            service_account("api", "automountServiceAccountToken: true\n")
        ));
        assert_eq!(
            messages(&r, id),
            vec![
                "the pod does not set automountServiceAccountToken and its ServiceAccount/api sets it true: every container gets a Kubernetes API token it may not need"
            ]
        );
        let r = judge(&format!(
            "{named}{}",
            service_account("default", "automountServiceAccountToken: false\n")
        ));
        assert_eq!(
            messages(&r, id),
            vec![
                "the pod does not set automountServiceAccountToken: false and its ServiceAccount/api is not among the known ServiceAccounts, so the token is mounted: every container gets a Kubernetes API token it may not need"
            ]
        );
    }

    fn binding(kind: &str, name: &str, role: &str, subject: &str) -> String {
        let ns = if kind == "RoleBinding" {
            ", namespace: shop"
        } else {
            ""
        };
        format!(
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}{ns}}}\n\
             roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\n\
             subjects: [{subject}]\n"
        )
    }

    const API_SA: &str = "{kind: ServiceAccount, name: api, namespace: shop}";

    #[test]
    fn cluster_admin() {
        let id = "security-cluster-admin";
        let plain = deployment(
            "      serviceAccountName: api\n",
            &container("app", HARDENED),
        );
        let r = judge(&plain);
        assert_eq!(
            messages(&r, id),
            vec![
                "not judged: no RoleBinding or ClusterRoleBinding objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        let r = judge(&format!(
            "{plain}{}",
            binding("ClusterRoleBinding", "api-admin", "cluster-admin", API_SA)
        ));
        assert_eq!(
            messages(&r, id),
            vec![
                "ClusterRoleBinding/api-admin grants ClusterRole/cluster-admin to ServiceAccount/api: a compromised pod controls the whole cluster"
            ]
        );
        assert_eq!(
            findings(&r, id)[0].object.as_deref(),
            Some("ClusterRoleBinding/api-admin")
        );
        assert_eq!(findings(&r, id)[0].severity, Severity::Critical);
        let wildcard = "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: god}\n\
                        rules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]\n";
        let r = judge(&format!(
            "{plain}{}{wildcard}",
            binding(
                "RoleBinding",
                "everyone",
                "god",
                "{kind: Group, name: 'system:serviceaccounts:shop', apiGroup: rbac.authorization.k8s.io}"
            )
        ));
        assert_eq!(
            messages(&r, id),
            vec![
                "RoleBinding/shop/everyone grants ClusterRole/god (every verb on every resource) to ServiceAccount/api: a compromised pod controls namespace shop"
            ]
        );
        // A narrow role, or cluster-admin given to another ServiceAccount, is fine.
        let r = judge(&format!(
            "{plain}{}{}",
            binding("RoleBinding", "api-view", "view", API_SA),
            binding(
                "ClusterRoleBinding",
                "ops-admin",
                "cluster-admin",
                "{kind: ServiceAccount, name: ops, namespace: shop}"
            )
        ));
        assert_eq!(outcome(&r, id), "pass");
    }
}
