//! Which workloads a change can affect. Every related object leaves a `Footprint` (what it can
//! reach: the pods its selector matches, the Services it routes to, the workloads that reference
//! it...); a change re-evaluates what the old and the new footprint reach, and nothing else.
//! Pure functions over the workload store and the World.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::workload::{WorkloadKind, WorkloadObject};
use crate::world::{RelatedKind, RelatedObject, Selector, World, helm, ingest};

use super::{Footprints, Links, WorkloadStore};

/// One top-level workload.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkloadKey {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
}

impl WorkloadKey {
    pub fn new(kind: WorkloadKind, namespace: &str, name: &str) -> WorkloadKey {
        WorkloadKey {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    pub fn of(object: &WorkloadObject) -> WorkloadKey {
        let meta = object.meta();
        WorkloadKey::new(
            object.kind(),
            meta.namespace.as_deref().unwrap_or("default"),
            meta.name.as_deref().unwrap_or(""),
        )
    }
}

impl fmt::Display for WorkloadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.kind.as_str(), self.namespace, self.name)
    }
}

/// What a workload can reference by name in its namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reference {
    ConfigMap,
    Secret,
    Claim,
    ServiceAccount,
}

/// What one object can affect. See the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Footprint {
    Nothing,
    /// Workloads in the namespace whose pod labels the selector matches.
    PodSelector {
        namespace: String,
        selector: Selector,
    },
    /// The workloads behind these Services (through the Services' own footprints).
    Services {
        namespace: String,
        names: BTreeSet<String>,
    },
    /// The workload that owns the object: `kind` may be an intermediate owner (a ReplicaSet, a
    /// Job), resolved to the top-level workload through its own footprint.
    Owner {
        namespace: String,
        kind: String,
        name: String,
    },
    /// Workloads that reference the object by name.
    Referenced {
        namespace: String,
        reference: Reference,
        name: String,
    },
    /// Workloads of a Helm release.
    Release {
        namespace: String,
        release: String,
    },
    Namespaces(BTreeSet<String>),
    /// Workloads in the namespaces whose labels the selector matches (a ReadinessPolicy).
    NamespaceSelector(Selector),
    /// A node's zone: what spread checks read of it. Status heartbeats leave it unchanged.
    Zone(Option<String>),
    /// A namespace's labels: what policy selection reads of it.
    NamespaceLabels {
        name: String,
        labels: BTreeMap<String, String>,
    },
    All,
    Many(Vec<Footprint>),
}

/// The key under which an object's footprint is remembered.
pub fn object_key(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind}/{namespace}/{name}")
}

fn ns_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    meta.namespace.clone().unwrap_or_else(|| "default".into())
}

fn one(namespace: String) -> Footprint {
    Footprint::Namespaces(BTreeSet::from([namespace]))
}

fn controller_owner(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<(&str, &str)> {
    let owners = meta.owner_references.as_ref()?;
    let owner = owners
        .iter()
        .find(|o| o.controller == Some(true))
        .or_else(|| owners.first())?;
    Some((owner.kind.as_str(), owner.name.as_str()))
}

/// What a related object can affect.
pub fn footprint(object: &RelatedObject) -> Footprint {
    match object {
        RelatedObject::Service(svc) => Footprint::PodSelector {
            namespace: ns_of(&svc.metadata),
            selector: Selector::from_map(svc.spec.as_ref().and_then(|s| s.selector.as_ref())),
        },
        RelatedObject::Ingress(ing) => Footprint::Services {
            namespace: ns_of(&ing.metadata),
            names: ingest::ingress(ing).services,
        },
        RelatedObject::NetworkPolicy(np) => Footprint::PodSelector {
            namespace: ns_of(&np.metadata),
            selector: Selector::from_label_selector(
                np.spec.as_ref().and_then(|s| s.pod_selector.as_ref()),
                true,
            ),
        },
        RelatedObject::PodDisruptionBudget(pdb) => Footprint::PodSelector {
            namespace: ns_of(&pdb.metadata),
            selector: Selector::from_label_selector(
                pdb.spec.as_ref().and_then(|s| s.selector.as_ref()),
                true,
            ),
        },
        RelatedObject::HorizontalPodAutoscaler(hpa) => match &hpa.spec {
            Some(spec) => Footprint::Owner {
                namespace: ns_of(&hpa.metadata),
                kind: spec.scale_target_ref.kind.clone(),
                name: spec.scale_target_ref.name.clone(),
            },
            None => Footprint::Nothing,
        },
        RelatedObject::ConfigMap(cm) => referenced(&cm.metadata, Reference::ConfigMap),
        RelatedObject::Secret(secret) => {
            if helm::is_release_secret(secret) {
                match helm::release_name(secret) {
                    Some(release) => Footprint::Release {
                        namespace: ns_of(&secret.metadata),
                        release,
                    },
                    None => Footprint::Nothing,
                }
            } else {
                referenced(&secret.metadata, Reference::Secret)
            }
        }
        RelatedObject::PersistentVolumeClaim(pvc) => referenced(&pvc.metadata, Reference::Claim),
        RelatedObject::PersistentVolume(pv) => {
            match pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) {
                Some(claim) => Footprint::Referenced {
                    namespace: claim.namespace.clone().unwrap_or_else(|| "default".into()),
                    reference: Reference::Claim,
                    name: claim.name.clone().unwrap_or_default(),
                },
                None => Footprint::Nothing,
            }
        }
        RelatedObject::ServiceAccount(sa) => referenced(&sa.metadata, Reference::ServiceAccount),
        RelatedObject::RoleBinding(rb) => {
            let ns = ns_of(&rb.metadata);
            Footprint::Many(
                rb.subjects
                    .iter()
                    .flatten()
                    .filter_map(|s| subject(s, Some(&ns)))
                    .collect(),
            )
        }
        RelatedObject::ClusterRoleBinding(crb) => Footprint::Many(
            crb.subjects
                .iter()
                .flatten()
                .filter_map(|s| subject(s, None))
                .collect(),
        ),
        // Rare and cluster-wide: what they reach is not worth indexing.
        RelatedObject::StorageClass(_)
        | RelatedObject::ClusterRole(_)
        | RelatedObject::VeleroSchedule(_) => Footprint::All,
        RelatedObject::ServiceMonitor(obj) | RelatedObject::PodMonitor(obj) => {
            let ns = ns_of(&obj.metadata);
            let ns_sel = obj
                .data
                .get("spec")
                .and_then(|s| s.get("namespaceSelector"));
            if ns_sel
                .and_then(|n| n.get("any"))
                .and_then(|a| a.as_bool())
                .unwrap_or(false)
            {
                return Footprint::All;
            }
            let names: BTreeSet<String> = ns_sel
                .and_then(|n| n.get("matchNames"))
                .and_then(|m| m.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if names.is_empty() {
                one(ns)
            } else {
                Footprint::Namespaces(names)
            }
        }
        RelatedObject::PrometheusRule(obj) | RelatedObject::SnapshotSchedule(obj) => {
            one(ns_of(&obj.metadata))
        }
        RelatedObject::VolumeSnapshot(obj) => {
            let claim = obj
                .data
                .get("spec")
                .and_then(|s| s.get("source"))
                .and_then(|s| s.get("persistentVolumeClaimName"))
                .and_then(|c| c.as_str());
            match claim {
                Some(claim) => Footprint::Referenced {
                    namespace: ns_of(&obj.metadata),
                    reference: Reference::Claim,
                    name: claim.to_string(),
                },
                None => Footprint::Nothing,
            }
        }
        RelatedObject::Pod(pod) => {
            let namespace = ns_of(&pod.metadata);
            let (kind, name) = pod_owner(pod);
            Footprint::Owner {
                namespace,
                kind,
                name,
            }
        }
        RelatedObject::ReplicaSet(rs) => owner_footprint(&rs.metadata),
        RelatedObject::Job(job) => owner_footprint(&job.metadata),
        RelatedObject::Node(node) => {
            let labels = node.metadata.labels.as_ref();
            Footprint::Zone(labels.and_then(|l| {
                l.get("topology.kubernetes.io/zone")
                    .or_else(|| l.get("failure-domain.beta.kubernetes.io/zone"))
                    .cloned()
            }))
        }
        RelatedObject::EndpointSlice(slice) => {
            let service = slice
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name"));
            match service {
                Some(s) => Footprint::Services {
                    namespace: ns_of(&slice.metadata),
                    names: BTreeSet::from([s.clone()]),
                },
                None => Footprint::Nothing,
            }
        }
        RelatedObject::Endpoints(ep) => Footprint::Services {
            namespace: ns_of(&ep.metadata),
            names: BTreeSet::from([ep.metadata.name.clone().unwrap_or_default()]),
        },
        RelatedObject::Namespace(ns) => Footprint::NamespaceLabels {
            name: ns.metadata.name.clone().unwrap_or_default(),
            labels: ns.metadata.labels.clone().unwrap_or_default(),
        },
    }
}

fn referenced(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    reference: Reference,
) -> Footprint {
    Footprint::Referenced {
        namespace: ns_of(meta),
        reference,
        name: meta.name.clone().unwrap_or_default(),
    }
}

fn owner_footprint(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Footprint {
    match controller_owner(meta) {
        Some((kind, name)) => Footprint::Owner {
            namespace: ns_of(meta),
            kind: kind.to_string(),
            name: name.to_string(),
        },
        None => Footprint::Nothing,
    }
}

/// A pod's owner, with a ReplicaSet named `<deployment>-<pod-template-hash>` resolved to its
/// Deployment at once (as the World files pods), so that pods find their workload even before
/// the ReplicaSet is seen.
fn pod_owner(pod: &k8s_openapi::api::core::v1::Pod) -> (String, String) {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let Some((kind, owner)) = controller_owner(&pod.metadata) else {
        return ("Pod".into(), name);
    };
    if kind == "ReplicaSet"
        && let Some(hash) = pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("pod-template-hash"))
        && let Some(deployment) = owner
            .strip_suffix(hash.as_str())
            .and_then(|p| p.strip_suffix('-'))
    {
        return ("Deployment".into(), deployment.to_string());
    }
    (kind.to_string(), owner.to_string())
}

fn subject(s: &k8s_openapi::api::rbac::v1::Subject, binding_ns: Option<&str>) -> Option<Footprint> {
    match s.kind.as_str() {
        "ServiceAccount" => Some(Footprint::Referenced {
            namespace: s
                .namespace
                .as_deref()
                .or(binding_ns)
                .unwrap_or("default")
                .to_string(),
            reference: Reference::ServiceAccount,
            name: s.name.clone(),
        }),
        "Group" if s.name == "system:serviceaccounts" => Some(Footprint::All),
        "Group" => s
            .name
            .strip_prefix("system:serviceaccounts:")
            .map(|ns| one(ns.to_string())),
        _ => None,
    }
}

/// What a workload's own change can affect: itself, and for a CronJob (a possible backup of
/// the namespace's datastores) the whole namespace.
pub fn workload_footprint(key: &WorkloadKey) -> Footprint {
    let key = key.clone();
    let own = Footprint::Owner {
        namespace: key.namespace.clone(),
        kind: key.kind.as_str().to_string(),
        name: key.name.clone(),
    };
    if key.kind == WorkloadKind::CronJob {
        Footprint::Many(vec![own, one(key.namespace)])
    } else {
        own
    }
}

/// What the resolution reads besides the footprints themselves.
pub struct Lookup<'a> {
    pub store: &'a WorkloadStore,
    pub world: &'a World,
    /// Remembered footprints, by [`object_key`]: a Service's selector, a ReplicaSet's owner.
    pub footprints: &'a Footprints,
}

impl Lookup<'_> {
    fn in_namespace<'s>(
        &'s self,
        namespace: &'s str,
    ) -> impl Iterator<Item = (&'s WorkloadKey, &'s Links)> + 's {
        self.store
            .in_namespace(namespace)
            .filter_map(|k| Some((k, &self.store.get(k)?.links)))
    }

    /// The workloads a footprint reaches, added to `out`.
    pub fn resolve(&self, footprint: &Footprint, out: &mut BTreeSet<WorkloadKey>) {
        self.resolve_depth(footprint, out, 0);
    }

    fn resolve_depth(&self, footprint: &Footprint, out: &mut BTreeSet<WorkloadKey>, depth: u8) {
        // Owner chains are short (Pod -> Job -> CronJob); a cycle in hostile owner references
        // must not recurse forever.
        if depth > 4 {
            return;
        }
        match footprint {
            Footprint::Nothing => {}
            Footprint::PodSelector {
                namespace,
                selector,
            } => {
                if selector.is_nothing() {
                    return;
                }
                for (key, w) in self.in_namespace(namespace) {
                    if selector.matches(&w.pod_labels) {
                        out.insert(key.clone());
                    }
                }
            }
            Footprint::Services { namespace, names } => {
                for name in names {
                    if let Some(fp) = self.footprints.get(&object_key("Service", namespace, name)) {
                        self.resolve_depth(&fp, out, depth + 1);
                    }
                }
            }
            Footprint::Owner {
                namespace,
                kind,
                name,
            } => {
                if let Some(k) = WorkloadKind::from_kind(kind) {
                    let key = WorkloadKey::new(k, namespace, name);
                    if self.store.contains(&key) {
                        out.insert(key);
                        return;
                    }
                }
                // An intermediate owner: follow its own owner.
                if let Some(fp) = self.footprints.get(&object_key(kind, namespace, name)) {
                    self.resolve_depth(&fp, out, depth + 1);
                }
            }
            Footprint::Referenced {
                namespace,
                reference,
                name,
            } => {
                for (key, w) in self.in_namespace(namespace) {
                    if w.references(*reference, name) {
                        out.insert(key.clone());
                    }
                }
            }
            Footprint::Release { namespace, release } => {
                for (key, w) in self.in_namespace(namespace) {
                    if w.helm_release.as_deref() == Some(release.as_str()) {
                        out.insert(key.clone());
                    }
                }
            }
            Footprint::Namespaces(names) => {
                for ns in names {
                    out.extend(self.store.in_namespace(ns).cloned());
                }
            }
            Footprint::NamespaceSelector(selector) => {
                for ns in self.store.namespaces() {
                    let fallback;
                    let labels = match self.world.namespace_labels(ns) {
                        Some(l) => l,
                        None => {
                            fallback = BTreeMap::from([(
                                "kubernetes.io/metadata.name".to_string(),
                                ns.to_string(),
                            )]);
                            &fallback
                        }
                    };
                    if selector.matches(labels) {
                        out.extend(self.store.in_namespace(ns).cloned());
                    }
                }
            }
            Footprint::NamespaceLabels { name, .. } => {
                out.extend(self.store.in_namespace(name).cloned());
            }
            Footprint::Zone(_) | Footprint::All => out.extend(self.store.keys().cloned()),
            Footprint::Many(parts) => {
                for part in parts {
                    self.resolve_depth(part, out, depth);
                }
            }
        }
    }

    /// The workloads a change can affect, given the object's footprint before and after (either
    /// absent for a creation or a deletion).
    pub fn affected(
        &self,
        old: Option<&Footprint>,
        new: Option<&Footprint>,
    ) -> BTreeSet<WorkloadKey> {
        let mut out = BTreeSet::new();
        // A node or namespace is read only through its footprint: unchanged footprint, nothing
        // to judge again (node status heartbeats arrive every few seconds).
        if let (Some(o), Some(n)) = (old, new)
            && o == n
            && matches!(o, Footprint::Zone(_) | Footprint::NamespaceLabels { .. })
        {
            return out;
        }
        for fp in old.into_iter().chain(new) {
            self.resolve(fp, &mut out);
        }
        out
    }
}

/// The footprint key of a related object, as `Kind/namespace/name`.
pub fn related_key(object: &RelatedObject) -> String {
    let (kind, meta) = related_meta(object);
    let ns = if meta.namespace.is_some() {
        ns_of(meta)
    } else {
        String::new()
    };
    object_key(kind, &ns, meta.name.as_deref().unwrap_or(""))
}

/// The kind name used in footprint keys, and the object's metadata.
pub fn related_meta(
    object: &RelatedObject,
) -> (
    &'static str,
    &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) {
    match object {
        RelatedObject::Service(o) => ("Service", &o.metadata),
        RelatedObject::Ingress(o) => ("Ingress", &o.metadata),
        RelatedObject::NetworkPolicy(o) => ("NetworkPolicy", &o.metadata),
        RelatedObject::PodDisruptionBudget(o) => ("PodDisruptionBudget", &o.metadata),
        RelatedObject::HorizontalPodAutoscaler(o) => ("HorizontalPodAutoscaler", &o.metadata),
        RelatedObject::ConfigMap(o) => ("ConfigMap", &o.metadata),
        RelatedObject::Secret(o) => ("Secret", &o.metadata),
        RelatedObject::PersistentVolumeClaim(o) => ("PersistentVolumeClaim", &o.metadata),
        RelatedObject::PersistentVolume(o) => ("PersistentVolume", &o.metadata),
        RelatedObject::StorageClass(o) => ("StorageClass", &o.metadata),
        RelatedObject::ServiceAccount(o) => ("ServiceAccount", &o.metadata),
        RelatedObject::RoleBinding(o) => ("RoleBinding", &o.metadata),
        RelatedObject::ClusterRoleBinding(o) => ("ClusterRoleBinding", &o.metadata),
        RelatedObject::ClusterRole(o) => ("ClusterRole", &o.metadata),
        RelatedObject::ServiceMonitor(o) => ("ServiceMonitor", &o.metadata),
        RelatedObject::PodMonitor(o) => ("PodMonitor", &o.metadata),
        RelatedObject::PrometheusRule(o) => ("PrometheusRule", &o.metadata),
        RelatedObject::VeleroSchedule(o) => ("Schedule", &o.metadata),
        RelatedObject::VolumeSnapshot(o) => ("VolumeSnapshot", &o.metadata),
        RelatedObject::SnapshotSchedule(o) => ("SnapshotSchedule", &o.metadata),
        RelatedObject::Pod(o) => ("Pod", &o.metadata),
        RelatedObject::ReplicaSet(o) => ("ReplicaSet", &o.metadata),
        RelatedObject::Job(o) => ("Job", &o.metadata),
        RelatedObject::Node(o) => ("Node", &o.metadata),
        RelatedObject::EndpointSlice(o) => ("EndpointSlice", &o.metadata),
        RelatedObject::Endpoints(o) => ("Endpoints", &o.metadata),
        RelatedObject::Namespace(o) => ("Namespace", &o.metadata),
    }
}

/// The World's kind for a related object (a Helm release Secret is its own kind).
pub fn related_kind(object: &RelatedObject) -> RelatedKind {
    match object {
        RelatedObject::Service(_) => RelatedKind::Service,
        RelatedObject::Ingress(_) => RelatedKind::Ingress,
        RelatedObject::NetworkPolicy(_) => RelatedKind::NetworkPolicy,
        RelatedObject::PodDisruptionBudget(_) => RelatedKind::PodDisruptionBudget,
        RelatedObject::HorizontalPodAutoscaler(_) => RelatedKind::HorizontalPodAutoscaler,
        RelatedObject::ConfigMap(_) => RelatedKind::ConfigMap,
        RelatedObject::Secret(s) if helm::is_release_secret(s) => RelatedKind::HelmRelease,
        RelatedObject::Secret(_) => RelatedKind::Secret,
        RelatedObject::PersistentVolumeClaim(_) => RelatedKind::PersistentVolumeClaim,
        RelatedObject::PersistentVolume(_) => RelatedKind::PersistentVolume,
        RelatedObject::StorageClass(_) => RelatedKind::StorageClass,
        RelatedObject::ServiceAccount(_) => RelatedKind::ServiceAccount,
        RelatedObject::RoleBinding(_) => RelatedKind::RoleBinding,
        RelatedObject::ClusterRoleBinding(_) => RelatedKind::ClusterRoleBinding,
        RelatedObject::ClusterRole(_) => RelatedKind::ClusterRole,
        RelatedObject::ServiceMonitor(_) => RelatedKind::ServiceMonitor,
        RelatedObject::PodMonitor(_) => RelatedKind::PodMonitor,
        RelatedObject::PrometheusRule(_) => RelatedKind::PrometheusRule,
        RelatedObject::VeleroSchedule(_) => RelatedKind::VeleroSchedule,
        RelatedObject::VolumeSnapshot(_) => RelatedKind::VolumeSnapshot,
        RelatedObject::SnapshotSchedule(_) => RelatedKind::SnapshotSchedule,
        RelatedObject::Pod(_) => RelatedKind::Pod,
        RelatedObject::ReplicaSet(_) => RelatedKind::ReplicaSet,
        RelatedObject::Job(_) => RelatedKind::Job,
        RelatedObject::Node(_) => RelatedKind::Node,
        RelatedObject::EndpointSlice(_) => RelatedKind::EndpointSlice,
        RelatedObject::Endpoints(_) => RelatedKind::Endpoints,
        RelatedObject::Namespace(_) => RelatedKind::Namespace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn related(kind: &str, value: Value) -> RelatedObject {
        let v = value;
        match kind {
            "Service" => RelatedObject::Service(serde_json::from_value(v).unwrap()),
            "Ingress" => RelatedObject::Ingress(serde_json::from_value(v).unwrap()),
            "NetworkPolicy" => RelatedObject::NetworkPolicy(serde_json::from_value(v).unwrap()),
            "ConfigMap" => RelatedObject::ConfigMap(serde_json::from_value(v).unwrap()),
            "Secret" => RelatedObject::Secret(serde_json::from_value(v).unwrap()),
            "PersistentVolumeClaim" => {
                RelatedObject::PersistentVolumeClaim(serde_json::from_value(v).unwrap())
            }
            "HorizontalPodAutoscaler" => {
                RelatedObject::HorizontalPodAutoscaler(serde_json::from_value(v).unwrap())
            }
            "Pod" => RelatedObject::Pod(serde_json::from_value(v).unwrap()),
            "Job" => RelatedObject::Job(serde_json::from_value(v).unwrap()),
            "Node" => RelatedObject::Node(serde_json::from_value(v).unwrap()),
            "RoleBinding" => RelatedObject::RoleBinding(serde_json::from_value(v).unwrap()),
            "EndpointSlice" => RelatedObject::EndpointSlice(serde_json::from_value(v).unwrap()),
            other => panic!("no fixture kind {other}"),
        }
    }

    fn deployment(ns: &str, name: &str, app: &str, pod_spec: Value) -> WorkloadObject {
        WorkloadObject::Deployment(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": ns,
                             "annotations": {"meta.helm.sh/release-name": format!("rel-{app}")}},
                "spec": {"selector": {"matchLabels": {"app": app}},
                         "template": {"metadata": {"labels": {"app": app, "tier": "web"}},
                                      "spec": pod_spec}}
            }))
            .unwrap(),
        )
    }

    struct Fixture {
        store: WorkloadStore,
        world: World,
        footprints: Footprints,
    }

    impl Fixture {
        fn new() -> Fixture {
            let mut store = WorkloadStore::default();
            store.insert(deployment(
                "shop",
                "api",
                "api",
                json!({"containers": [{"name": "c", "envFrom": [{"configMapRef": {"name": "api-config"}}],
                                       "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}}]}],
                       "serviceAccountName": "api-sa",
                       "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "uploads"}}]}),
            ));
            store.insert(deployment(
                "shop",
                "worker",
                "worker",
                json!({"containers": [{"name": "c"}],
                       "volumes": [{"name": "p", "projected": {"sources": [{"secret": {"name": "db"}}]}}]}),
            ));
            store.insert(deployment(
                "other",
                "api",
                "api",
                json!({"containers": [{"name": "c"}]}),
            ));
            store.insert(WorkloadObject::StatefulSet(
                serde_json::from_value(json!({
                    "metadata": {"name": "pg", "namespace": "shop"},
                    "spec": {"selector": {}, "serviceName": "pg",
                             "template": {"metadata": {"labels": {"app": "pg"}}, "spec": {"containers": []}},
                             "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}
                }))
                .unwrap(),
            ));
            Fixture {
                store,
                world: World::new(),
                footprints: Footprints::default(),
            }
        }

        /// Records an object the way the watches do, returning what its change affects.
        fn apply(&mut self, kind: &str, value: Value) -> Vec<String> {
            let object = related(kind, value);
            let key = related_key(&object);
            let new = footprint(&object);
            let old = self.footprints.insert(&key, new.clone());
            self.world.apply(object);
            self.names(old.as_ref(), Some(&new))
        }

        fn delete(&mut self, kind: &str, ns: &str, name: &str) -> Vec<String> {
            let old = self.footprints.remove(&object_key(kind, ns, name));
            self.names(old.as_ref(), None)
        }

        fn names(&self, old: Option<&Footprint>, new: Option<&Footprint>) -> Vec<String> {
            let lookup = Lookup {
                store: &self.store,
                world: &self.world,
                footprints: &self.footprints,
            };
            lookup
                .affected(old, new)
                .into_iter()
                .map(|k| k.to_string())
                .collect()
        }
    }

    fn policy(ns: &str, name: &str, selector: Value) -> Value {
        json!({"metadata": {"name": name, "namespace": ns}, "spec": {"podSelector": selector}})
    }

    #[test]
    fn network_policy_reaches_the_pods_its_old_and_new_selector_match() {
        let mut f = Fixture::new();
        let changed = f.apply(
            "NetworkPolicy",
            policy("shop", "np", json!({"matchLabels": {"app": "api"}})),
        );
        assert_eq!(changed, ["Deployment/shop/api"]);
        // Moved to the worker: both the old and the new target change.
        let changed = f.apply(
            "NetworkPolicy",
            policy("shop", "np", json!({"matchLabels": {"app": "worker"}})),
        );
        assert_eq!(changed, ["Deployment/shop/api", "Deployment/shop/worker"]);
        assert_eq!(
            f.delete("NetworkPolicy", "shop", "np"),
            ["Deployment/shop/worker"]
        );
        // An empty selector selects every pod of the namespace, and no other namespace.
        let changed = f.apply("NetworkPolicy", policy("shop", "all", json!({})));
        assert_eq!(
            changed,
            [
                "Deployment/shop/api",
                "Deployment/shop/worker",
                "StatefulSet/shop/pg"
            ]
        );
    }

    #[test]
    fn ingress_and_endpoints_reach_the_workloads_behind_their_services() {
        let mut f = Fixture::new();
        let changed = f.apply(
            "Service",
            json!({"metadata": {"name": "api", "namespace": "shop"}, "spec": {"selector": {"app": "api"}}}),
        );
        assert_eq!(changed, ["Deployment/shop/api"]);
        let changed = f.apply(
            "Ingress",
            json!({"metadata": {"name": "web", "namespace": "shop"},
                   "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                       "backend": {"service": {"name": "api", "port": {"number": 80}}}}]}}]}}),
        );
        assert_eq!(changed, ["Deployment/shop/api"]);
        let changed = f.apply(
            "EndpointSlice",
            json!({"metadata": {"name": "api-x", "namespace": "shop",
                                "labels": {"kubernetes.io/service-name": "api"}},
                   "addressType": "IPv4", "endpoints": []}),
        );
        assert_eq!(changed, ["Deployment/shop/api"]);
        // A Service without selector selects nothing.
        let changed = f.apply(
            "Service",
            json!({"metadata": {"name": "ext", "namespace": "shop"}, "spec": {}}),
        );
        assert!(changed.is_empty());
    }

    #[test]
    fn config_secrets_claims_and_accounts_reach_the_workloads_referencing_them() {
        let mut f = Fixture::new();
        let cm = json!({"metadata": {"name": "api-config", "namespace": "shop"}});
        assert_eq!(f.apply("ConfigMap", cm), ["Deployment/shop/api"]);
        let secret = json!({"metadata": {"name": "db", "namespace": "shop"}});
        assert_eq!(
            f.apply("Secret", secret),
            ["Deployment/shop/api", "Deployment/shop/worker"]
        );
        let unused = json!({"metadata": {"name": "unused", "namespace": "shop"}});
        assert!(f.apply("ConfigMap", unused).is_empty());
        let claim = json!({"metadata": {"name": "uploads", "namespace": "shop"}});
        assert_eq!(
            f.apply("PersistentVolumeClaim", claim),
            ["Deployment/shop/api"]
        );
        let sts_claim = json!({"metadata": {"name": "data-pg-1", "namespace": "shop"}});
        assert_eq!(
            f.apply("PersistentVolumeClaim", sts_claim),
            ["StatefulSet/shop/pg"]
        );
        let binding = json!({"metadata": {"name": "rb", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "api-sa"}]});
        assert_eq!(f.apply("RoleBinding", binding), ["Deployment/shop/api"]);
    }

    #[test]
    fn helm_release_secrets_reach_the_workloads_of_their_release() {
        let mut f = Fixture::new();
        let secret = json!({"metadata": {"name": "sh.helm.release.v1.rel-worker.v1", "namespace": "shop",
                                         "labels": {"owner": "helm", "name": "rel-worker", "version": "1"}},
                            "type": "helm.sh/release.v1"});
        assert_eq!(f.apply("Secret", secret), ["Deployment/shop/worker"]);
    }

    #[test]
    fn pods_and_hpas_reach_their_top_level_owner() {
        let mut f = Fixture::new();
        let pod = json!({"metadata": {"name": "api-5d9c-x", "namespace": "shop",
            "labels": {"pod-template-hash": "5d9c"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-5d9c",
                                 "uid": "u", "controller": true}]}});
        assert_eq!(f.apply("Pod", pod), ["Deployment/shop/api"]);
        let hpa = json!({"metadata": {"name": "h", "namespace": "shop"},
            "spec": {"maxReplicas": 3, "scaleTargetRef": {"kind": "Deployment", "name": "worker"}}});
        assert_eq!(
            f.apply("HorizontalPodAutoscaler", hpa),
            ["Deployment/shop/worker"]
        );
        // Pod -> Job -> CronJob, through the Job's remembered footprint.
        f.store.insert(WorkloadObject::CronJob(
            serde_json::from_value(json!({"metadata": {"name": "nightly", "namespace": "shop"},
                "spec": {"schedule": "0 0 * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}}))
            .unwrap(),
        ));
        let job = json!({"metadata": {"name": "nightly-1", "namespace": "shop",
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly",
                                 "uid": "u", "controller": true}]}, "spec": {"template": {}}});
        assert_eq!(f.apply("Job", job), ["CronJob/shop/nightly"]);
        let pod = json!({"metadata": {"name": "nightly-1-abc", "namespace": "shop",
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "nightly-1",
                                 "uid": "u", "controller": true}]}});
        assert_eq!(f.apply("Pod", pod), ["CronJob/shop/nightly"]);
    }

    #[test]
    fn node_heartbeats_affect_nothing_but_zone_changes_affect_everything() {
        let mut f = Fixture::new();
        let node = |zone: &str| json!({"metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": zone}}});
        assert_eq!(f.apply("Node", node("a")).len(), 4);
        assert!(f.apply("Node", node("a")).is_empty());
        assert_eq!(f.apply("Node", node("b")).len(), 4);
    }

    #[test]
    fn policies_reach_the_namespaces_they_select() {
        let f = Fixture::new();
        let lookup = Lookup {
            store: &f.store,
            world: &f.world,
            footprints: &f.footprints,
        };
        let selector = Selector::from_map(Some(&BTreeMap::from([(
            "kubernetes.io/metadata.name".to_string(),
            "other".to_string(),
        )])));
        let keys = lookup.affected(None, Some(&Footprint::NamespaceSelector(selector)));
        let names: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        assert_eq!(names, ["Deployment/other/api"]);
    }
}
