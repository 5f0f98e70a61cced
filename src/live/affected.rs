//! Which workloads a change can affect. Every related object leaves a `Footprint` (what it can
//! reach: the pods its selector matches, the Services it routes to, the workloads that reference
//! it..., as its kind's entry in `world::kinds` computes it); a change re-evaluates what the old
//! and the new footprint reach, and nothing else. Pure functions over the workload store and the
//! World.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use crate::world::kinds::object_key;
pub use crate::world::{Footprint, Reference};

use super::{Footprints, Links, WorkloadStore};
use crate::workload::{WorkloadKind, WorkloadObject};
use crate::world::reach::one;
use crate::world::{RelatedObject, World};

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

/// What a related object can affect: its kind's entry says.
pub fn footprint(object: &RelatedObject) -> Footprint {
    object.reach()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::Selector;
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
            let key = object.key();
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
        // A StatefulSet's governing Service reaches it by name, whatever it selects.
        let changed = f.apply(
            "Service",
            json!({"metadata": {"name": "pg", "namespace": "shop"},
                   "spec": {"clusterIP": "None", "selector": {"app": "postgres"}}}),
        );
        assert_eq!(changed, ["StatefulSet/shop/pg"]);
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
