//! The cluster as the operator sees it: the World of related facts, the judged workloads and the
//! policies in force, kept current from watches. Shared by the controller (and the admission
//! webhook); it holds no reconcile logic, so it is tested without a cluster.

pub mod affected;
mod error;
pub mod footprints;
pub mod stored;
pub mod watch;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

pub use affected::{Footprint, WorkloadKey};
pub use error::Error;
pub use footprints::Footprints;
pub use stored::{Links, StoredWorkload};

use crate::engine::PolicySet;
use crate::workload::WorkloadObject;
use crate::world::World;

/// The annotation `kubectl apply` keeps a whole copy of the object in: never read, often large.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops what no check reads and what would only bloat the caches: managed fields and the
/// last-applied copy of the object.
pub fn strip_metadata(meta: &mut ObjectMeta) {
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
        if annotations.is_empty() {
            meta.annotations = None;
        }
    }
}

/// The judged top-level workloads, by key and by namespace, each kept as a [`StoredWorkload`].
#[derive(Debug, Default)]
pub struct WorkloadStore {
    objects: HashMap<WorkloadKey, Arc<StoredWorkload>>,
    by_namespace: BTreeMap<String, BTreeSet<WorkloadKey>>,
}

impl WorkloadStore {
    /// Adds or replaces a workload; returns the previous version.
    pub fn insert(&mut self, mut object: WorkloadObject) -> Option<Arc<StoredWorkload>> {
        strip_metadata(object.meta_mut());
        let key = WorkloadKey::of(&object);
        let stored = StoredWorkload::new(&object);
        // Freed before the next object arrives: a list of thousands never holds two copies.
        drop(object);
        self.by_namespace
            .entry(key.namespace.clone())
            .or_default()
            .insert(key.clone());
        self.objects.insert(key, Arc::new(stored))
    }

    pub fn remove(&mut self, key: &WorkloadKey) -> Option<Arc<StoredWorkload>> {
        let old = self.objects.remove(key)?;
        if let Some(keys) = self.by_namespace.get_mut(&key.namespace) {
            keys.remove(key);
            if keys.is_empty() {
                self.by_namespace.remove(&key.namespace);
            }
        }
        Some(old)
    }

    pub fn get(&self, key: &WorkloadKey) -> Option<&Arc<StoredWorkload>> {
        self.objects.get(key)
    }

    pub fn contains(&self, key: &WorkloadKey) -> bool {
        self.objects.contains_key(key)
    }

    /// Keys of the workloads in a namespace, in order.
    pub fn in_namespace(&self, namespace: &str) -> impl Iterator<Item = &WorkloadKey> {
        self.by_namespace.get(namespace).into_iter().flatten()
    }

    pub fn namespaces(&self) -> impl Iterator<Item = &str> {
        self.by_namespace.keys().map(String::as_str)
    }

    pub fn keys(&self) -> impl Iterator<Item = &WorkloadKey> {
        self.objects.keys()
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

/// Which watches have delivered their first complete list.
#[derive(Debug, Default)]
pub struct SyncFlags {
    pending: RwLock<BTreeSet<String>>,
    started: AtomicBool,
}

impl SyncFlags {
    /// Declares the watches that must sync before the state is complete.
    pub fn expect(&self, names: impl IntoIterator<Item = String>) {
        write(&self.pending).extend(names);
        self.started.store(true, Ordering::SeqCst);
    }

    pub fn mark_synced(&self, name: &str) {
        write(&self.pending).remove(name);
    }

    /// Whether a declared watch has listed (or been given up on).
    pub fn is_synced(&self, name: &str) -> bool {
        !read(&self.pending).contains(name)
    }

    /// Every declared watch has listed once.
    pub fn all_synced(&self) -> bool {
        self.started.load(Ordering::SeqCst) && read(&self.pending).is_empty()
    }

    pub fn pending(&self) -> Vec<String> {
        read(&self.pending).iter().cloned().collect()
    }

    /// What readiness waits for, as `/readyz` says it; `None` once every watch has listed.
    pub fn waiting_for(&self) -> Option<String> {
        (!self.all_synced()).then(|| format!("waiting for watches: {}", self.pending().join(", ")))
    }
}

/// Shared state: see the module documentation. Locks are held only for the length of one
/// apply or one evaluation, never across an await.
#[derive(Default)]
pub struct LiveState {
    pub world: RwLock<World>,
    pub workloads: RwLock<WorkloadStore>,
    pub policies: RwLock<PolicySet>,
    /// What each related object can affect, by `Kind/namespace/name`: the old footprint of an
    /// object that changes (a NetworkPolicy whose selector moved) is needed besides the new.
    pub footprints: RwLock<Footprints>,
    /// The ReadinessPolicy objects as watched, by name; `policies` is compiled from them.
    pub policy_sources: RwLock<BTreeMap<String, crate::api::ReadinessPolicy>>,
    pub sync: SyncFlags,
}

impl fmt::Debug for LiveState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveState")
            .field("workloads", &read(&self.workloads).len())
            .finish_non_exhaustive()
    }
}

/// Reads a lock, ignoring poisoning: a panic in one evaluation must not stop the operator, and
/// every writer leaves the state consistent between statements.
pub fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

pub fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

impl LiveState {
    pub fn new() -> Arc<LiveState> {
        Arc::new(LiveState::default())
    }

    /// Every workload key, for a full resync.
    pub fn all_workloads(&self) -> Vec<WorkloadKey> {
        read(&self.workloads).keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(ns: &str, name: &str) -> WorkloadObject {
        WorkloadObject::Deployment(
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": name, "namespace": ns,
                    "annotations": {LAST_APPLIED: "{...}", "keep": "me"},
                    "managedFields": [{"manager": "kubectl"}]},
                "spec": {"selector": {}, "template": {"spec": {"containers": []}}}
            }))
            .unwrap(),
        )
    }

    #[test]
    fn store_strips_caches_and_indexes_by_namespace() {
        let mut store = WorkloadStore::default();
        store.insert(deployment("a", "web"));
        store.insert(deployment("a", "api"));
        store.insert(deployment("b", "web"));
        let key = WorkloadKey::new(crate::workload::WorkloadKind::Deployment, "a", "web");
        let object = store.get(&key).unwrap().object().unwrap();
        let meta = object.meta().clone();
        assert!(meta.managed_fields.is_none());
        let annotations = meta.annotations.unwrap();
        assert!(!annotations.contains_key(LAST_APPLIED));
        assert_eq!(annotations["keep"], "me");
        let names: Vec<&str> = store.in_namespace("a").map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["api", "web"]);
        store.remove(&key);
        store.remove(&WorkloadKey::new(
            crate::workload::WorkloadKind::Deployment,
            "b",
            "web",
        ));
        assert_eq!(store.namespaces().collect::<Vec<_>>(), ["a"]);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn sync_flags_wait_for_every_declared_watch() {
        let flags = SyncFlags::default();
        assert!(!flags.all_synced(), "nothing declared yet is not synced");
        flags.expect(["Pod".to_string(), "Service".to_string()]);
        flags.mark_synced("Pod");
        assert!(!flags.all_synced());
        flags.mark_synced("Service");
        assert!(flags.all_synced());
    }
}
