//! Security: what a compromised container could do to its node, its neighbours and the cluster.

use k8s_openapi::api::core::v1::{Container, PodSecurityContext, SeccompProfile, SecurityContext};

use super::util::join_names;
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Severity};
use crate::workload::WorkloadKind;
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

/// A node agent: a DaemonSet runs one pod on every node to do something to or for that node
/// (collect its logs and metrics, set up its network or storage), which is why it asks for
/// host access.
fn is_node_agent(ctx: &Ctx<'_>) -> bool {
    ctx.workload.kind == WorkloadKind::DaemonSet
}

/// Whether a container is held to what it was started with: it runs as a non-root user,
/// drops every capability, is not privileged and cannot gain privileges. Such a process cannot
/// use what host access shows it beyond plain file permissions (a root-owned socket, for one,
/// stays closed to it).
fn is_confined(ctx: &Ctx<'_>, c: &Container) -> bool {
    let (pod, csc) = (pod_sc(ctx), sc(c));
    let non_root = effective(
        csc.and_then(|s| s.run_as_non_root),
        pod.and_then(|s| s.run_as_non_root),
    )
    .is_some_and(|(v, _)| v);
    let user = effective(
        csc.and_then(|s| s.run_as_user),
        pod.and_then(|s| s.run_as_user),
    );
    let not_root = match user {
        Some((uid, _)) => uid != 0,
        None => non_root,
    };
    not_root
        && csc.and_then(|s| s.privileged) != Some(true)
        && csc.and_then(|s| s.allow_privilege_escalation) == Some(false)
        && drops_every_capability(c)
        && added_caps(c).is_empty()
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

/// The capabilities container runtimes (containerd, CRI-O, Docker) grant a container by
/// default: dropping each of them by name leaves it with as little as dropping ALL.
const DEFAULT_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Whether a container drops ALL capabilities, or every default one by name.
fn drops_every_capability(c: &Container) -> bool {
    dropped_caps(c).iter().any(|d| same_cap(d, "ALL")) || kept_defaults(c).is_empty()
}

/// The default capabilities a container does not drop by name.
fn kept_defaults(c: &Container) -> Vec<&'static str> {
    let dropped = dropped_caps(c);
    DEFAULT_CAPABILITIES
        .iter()
        .copied()
        .filter(|cap| !dropped.iter().any(|d| same_cap(d, cap)))
        .collect()
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
        if !drops_every_capability(c) {
            ok = false;
            let kept = kept_defaults(c);
            let msg = if kept.len() == DEFAULT_CAPABILITIES.len() {
                format!(
                    "container {:?} does not drop ALL capabilities: it keeps the runtime's \
                     defaults (such as NET_RAW, CHOWN and SETUID) that it most likely does not \
                     need",
                    c.name
                )
            } else {
                format!(
                    "container {:?} does not drop ALL capabilities: of the runtime's defaults it \
                     keeps {}, which it most likely does not need",
                    c.name,
                    join_names(&kept)
                )
            };
            out.fail(msg)
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
    let shared = format!(
        "the pod sets {}: its containers can {}",
        join_names(&fields),
        join_names(&effects)
    );
    if !is_node_agent(ctx) {
        out.fail(shared);
        return;
    }
    // A node agent shares the node's namespaces to do its job. What its containers can do
    // there is what makes it dangerous, and the other security checks report that.
    if ctx.workload.all_containers().all(|c| is_confined(ctx, c)) {
        out.fail(format!(
            "{shared}; expected of a node agent, and every container runs as non-root with no \
             capabilities"
        ))
        .severity(Severity::Low);
    } else {
        out.fail(format!(
            "{shared}; a node agent may need it, but not every container runs as non-root with \
             no capabilities: one that is compromised acts on the node as root"
        ))
        .severity(Severity::High);
    }
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
    let agent = is_node_agent(ctx);
    let mut any = false;
    for v in volumes {
        let Some(hp) = &v.host_path else {
            continue;
        };
        any = true;
        let mounts: Vec<(&Container, bool)> = ctx
            .workload
            .all_containers()
            .filter_map(|c| {
                let mine = c
                    .volume_mounts
                    .iter()
                    .flatten()
                    .filter(|m| m.name == v.name);
                let mut mounted = false;
                let mut read_only = true;
                for m in mine {
                    mounted = true;
                    read_only &= m.read_only == Some(true);
                }
                mounted.then_some((c, read_only))
            })
            .collect();
        let quoted: Vec<String> = mounts
            .iter()
            .map(|(c, _)| format!("{:?}", c.name))
            .collect();
        let into = match quoted.len() {
            0 => "but no container mounts it".to_string(),
            1 => format!("into container {}", quoted[0]),
            _ => format!("into containers {}", join_names(&quoted)),
        };
        let read_only = mounts.iter().all(|(_, ro)| *ro);
        // What an ordinary host path weighs: a node agent reading the node's files does its
        // job; any other workload should not depend on the node it lands on.
        let ordinary = match (agent, read_only) {
            (false, _) => Severity::High,
            (true, true) => Severity::Low,
            (true, false) => Severity::Medium,
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
                // A read-only mount does not stop a connection to a socket; the socket's
                // root-only permissions do stop a non-root process without capabilities.
                let confined =
                    !mounts.is_empty() && mounts.iter().all(|(c, _)| is_confined(ctx, c));
                let f = if confined {
                    out.fail(format!(
                        "hostPath volume {:?} mounts the node's {path}, {what}, {into}: every \
                         container mounting it runs as non-root with no capabilities, so the \
                         socket's permissions (root only, by default) keep it out, but the pod \
                         reads the node's files",
                        v.name
                    ))
                    .severity(ordinary)
                } else {
                    out.fail(format!(
                        "hostPath volume {:?} mounts the node's {path}, {what}, {into}: whoever \
                         holds the socket controls every container on the node",
                        v.name
                    ))
                    .severity(Severity::Critical)
                };
                f.remediation(
                    "Do not mount the container runtime socket: build images with a daemonless \
                     builder (kaniko, buildah) and read container metadata through the \
                     Kubernetes API; an agent that must see the node's files should mount only \
                     the directories it reads, readOnly, and run as non-root with every \
                     capability dropped.",
                )
            }
            None => {
                let how = if agent && read_only && !mounts.is_empty() {
                    "read-only, as a node agent may need"
                } else if agent {
                    "writable: the pod can change the node's files"
                } else {
                    "the pod can read or change the node's files and depends on what that node \
                     holds"
                };
                out.fail(format!(
                    "hostPath volume {:?} mounts the node's {path} {into}: {how}",
                    v.name
                ))
                .severity(ordinary)
            }
        };
        if let [(only, _)] = mounts.as_slice() {
            finding.container(&only.name);
        }
    }
    if !any {
        out.pass();
    }
}

fn host_port(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    // On the node's network every container port is a port of the node, declared hostPort or
    // not: security-host-namespaces reports it once, as hostNetwork.
    if ctx.workload.pod_spec.host_network == Some(true) {
        return;
    }
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
    let name = ctx.workload.service_account();
    // A ServiceAccount someone bound to a Role or ClusterRole is there to call the API: its
    // token is needed.
    if ctx
        .world
        .service_account_is_bound(ctx.workload.namespace, name)
    {
        return out.pass();
    }
    if !ctx.has(&[RelatedKind::ServiceAccount]) {
        return out.skip_missing(&[RelatedKind::ServiceAccount]);
    }
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
        // Offline, the account may be defined elsewhere, and may turn the token off.
        None if !ctx.absence_proven() => {
            out.warn(format!(
                "the pod does not set automountServiceAccountToken: false and its \
                 ServiceAccount/{name} is not in the input: unless that account turns it off, \
                 {consequence}"
            ))
            .object(format!("ServiceAccount/{name}"));
            return;
        }
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
    use crate::testing::{findings, judge, judge_complete, judge_with, messages, outcome};

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
        // Dropping every default capability by name leaves as little as dropping ALL...
        let every_default = "AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, \
             NET_BIND_SERVICE, NET_RAW, SETFCAP, SETGID, SETPCAP, SETUID, CAP_SYS_CHROOT";
        let r = judge(&deployment(
            "",
            &container("app", &format!("capabilities: {{drop: [{every_default}]}}")),
        ));
        assert_eq!(outcome(&r, "security-capabilities"), "pass");
        // ...and one of them kept is a default kept.
        let r = judge(&deployment(
            "",
            &container(
                "app",
                "capabilities: {drop: [AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, \
                 MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT]}",
            ),
        ));
        assert_eq!(
            messages(&r, "security-capabilities"),
            vec![
                "container \"app\" does not drop ALL capabilities: of the runtime's defaults it keeps NET_RAW, which it most likely does not need",
            ]
        );
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

    fn daemon_set(pod: &str, containers: &str) -> String {
        deployment(pod, containers)
            .replace("kind: Deployment", "kind: DaemonSet")
            .replace("  replicas: 2\n", "")
    }

    const AGENT_POD: &str = "      hostNetwork: true\n      hostPID: true\n      volumes:\n      \
         - {name: root, hostPath: {path: /}}\n      - {name: proc, hostPath: {path: /proc}}\n";

    fn agent(security_context: &str, read_only: bool) -> String {
        format!(
            "      - name: exporter\n        image: node-exporter:1\n        \
             ports: [{{containerPort: 9100, hostPort: 9100}}]\n        \
             volumeMounts: [{{name: root, mountPath: /host/root, readOnly: {read_only}}}, \
             {{name: proc, mountPath: /host/proc, readOnly: true}}]\n        \
             securityContext: {{{security_context}}}\n"
        )
    }

    /// A node agent gets host access to do its job: confined (non-root, no capabilities,
    /// read-only mounts) it is not a critical finding, and hostPort is hostNetwork said twice.
    #[test]
    fn node_agents() {
        let r = judge(&daemon_set(AGENT_POD, &agent(HARDENED, true)));
        assert_eq!(
            messages(&r, "security-host-namespaces"),
            vec![
                "the pod sets hostNetwork: true and hostPID: true: its containers can use the node's network interfaces and ports and see and signal every process on the node; expected of a node agent, and every container runs as non-root with no capabilities"
            ]
        );
        assert_eq!(
            messages(&r, "security-host-path"),
            vec![
                "hostPath volume \"root\" mounts the node's /, a directory holding the container runtime socket, into container \"exporter\": every container mounting it runs as non-root with no capabilities, so the socket's permissions (root only, by default) keep it out, but the pod reads the node's files",
                "hostPath volume \"proc\" mounts the node's /proc into container \"exporter\": read-only, as a node agent may need",
            ]
        );
        let failing = r.findings.iter().filter(|f| {
            f.category == crate::api::Category::Security
                && f.result == crate::api::CheckResult::Fail
        });
        for f in failing {
            assert_eq!(f.severity, Severity::Low, "{}: {}", f.check_id, f.message);
        }
        assert_eq!(outcome(&r, "security-host-port"), "n/a");

        // Writable, or run as root: the host access is what a compromise would use.
        let r = judge(&daemon_set(AGENT_POD, &agent(HARDENED, false)));
        let sev: Vec<Severity> = findings(&r, "security-host-path")
            .iter()
            .map(|f| f.severity)
            .collect();
        assert_eq!(sev, [Severity::Medium, Severity::Low]);
        let r = judge(&daemon_set(AGENT_POD, &agent("", true)));
        let f = findings(&r, "security-host-namespaces");
        assert_eq!(f[0].severity, Severity::High);
        assert!(f[0].message.ends_with(
            "a node agent may need it, but not every container runs as non-root with no capabilities: one that is compromised acts on the node as root"
        ));
        assert_eq!(
            findings(&r, "security-host-path")[0].severity,
            Severity::Critical
        );
        // The same host access in a Deployment is not a node agent's.
        let r = judge(&deployment(AGENT_POD, &agent(HARDENED, true)));
        assert_eq!(
            findings(&r, "security-host-namespaces")[0].severity,
            Severity::Critical
        );
        assert_eq!(
            messages(&r, "security-host-path")[1],
            "hostPath volume \"proc\" mounts the node's /proc into container \"exporter\": the pod can read or change the node's files and depends on what that node holds"
        );
        assert_eq!(outcome(&r, "security-host-port"), "n/a");
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
        // Bound to a role, the account is there to call the API: the token is needed.
        let r = judge(&format!(
            "{named}{}{}",
            service_account("api", ""),
            binding(
                "RoleBinding",
                "api-reader",
                "view",
                "{kind: ServiceAccount, name: api}"
            )
        ));
        assert_eq!(outcome(&r, id), "pass");
        // A binding to every account of the namespace says nothing of this one.
        let r = judge(&format!(
            "{named}{}{}",
            service_account("api", ""),
            binding(
                "RoleBinding",
                "all-readers",
                "view",
                "{kind: Group, name: 'system:serviceaccounts:shop', apiGroup: rbac.authorization.k8s.io}"
            )
        ));
        assert_eq!(outcome(&r, id), "fail");
        let r = judge(&format!(
            "{named}{}",
            service_account("default", "automountServiceAccountToken: false\n")
        ));
        assert_eq!(
            messages(&r, id),
            vec![
                "the pod does not set automountServiceAccountToken: false and its ServiceAccount/api is not in the input: unless that account turns it off, every container gets a Kubernetes API token it may not need"
            ]
        );
        assert_eq!(outcome(&r, id), "warn");
        let r = judge_complete(&format!(
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
