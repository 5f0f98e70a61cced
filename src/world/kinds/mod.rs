//! Every related kind, declared once: the table below lists each kind's Rust type, and each
//! kind's entry (an `impl Kind`, in the file of its API area) says where the API serves it, how
//! the operator watches it, which workloads a change of it reaches and which facts the World
//! keeps of it. Reading manifests (`input`), watching the cluster (`live::watch`) and resolving
//! changes (`live::affected`) all work from here, so adding a kind is one row and one entry, plus
//! its facts and the World's lookups for them (see docs/DESIGN.md, "Adding a related kind").
//!
//! Pods, Jobs and ReplicaSets are workloads too: they are read and watched as workloads, and
//! become related objects (live state of their owner) when a controller owns them, through
//! [`RelatedObject::owned`].

mod backup;
mod core;
mod known;
mod monitoring;
mod networking;
mod owned;
mod policy;
mod rbac;
mod storage;

use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use kube::api::DynamicObject;
use serde::de::DeserializeOwned;

pub use known::{KindSet, RelatedKind};

use super::World;
use super::reach::Footprint;
use crate::workload::WorkloadObject;

/// Where the API serves a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Served {
    /// The API group (`""` for the core group).
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// `group/version`, or the version alone for the core group.
    pub api_version: &'static str,
    pub namespaced: bool,
}

impl Served {
    /// Where k8s-openapi says `K` is served.
    pub const fn typed<K>() -> Served
    where
        K: k8s_openapi::Resource,
        K::Scope: KindScope,
    {
        Served {
            group: K::GROUP,
            version: K::VERSION,
            kind: K::KIND,
            api_version: K::API_VERSION,
            namespaced: <K::Scope as KindScope>::NAMESPACED,
        }
    }
}

/// A k8s-openapi scope: whether it is namespaced, and the visitor method for its kinds (a
/// namespaced kind can be asked for in one namespace, a cluster-scoped one cannot).
pub trait KindScope: k8s_openapi::ResourceScope + Sized {
    const NAMESPACED: bool;
    fn visit<K: TypedKind<Scope = Self>, V: KindVisitor>(visitor: &mut V) -> V::Output;
}

impl KindScope for NamespaceResourceScope {
    const NAMESPACED: bool = true;
    fn visit<K: TypedKind<Scope = Self>, V: KindVisitor>(visitor: &mut V) -> V::Output {
        visitor.namespaced::<K>()
    }
}

impl KindScope for ClusterResourceScope {
    const NAMESPACED: bool = false;
    fn visit<K: TypedKind<Scope = Self>, V: KindVisitor>(visitor: &mut V) -> V::Output {
        visitor.cluster::<K>()
    }
}

/// One watch of a kind in the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watch {
    /// What readiness waits for and the metrics count it as; the kind's name when `None`.
    pub name: Option<&'static str>,
    /// A field selector: what of the kind this watch carries.
    pub fields: Option<&'static str>,
    /// The World's kinds known once it has listed; the kind's own [`Kind::KINDS`] when `None`.
    pub present: Option<&'static [RelatedKind]>,
}

impl Watch {
    /// The whole kind, in one watch.
    pub const WHOLE: Watch = Watch {
        name: None,
        fields: None,
        present: None,
    };
}

/// What every related type is, written by the table: where it is served and its metadata.
pub trait Object: Sized + fmt::Debug + Clone + Send + Sync + DeserializeOwned + 'static {
    const SERVED: Served;
    fn meta(&self) -> &ObjectMeta;
    fn meta_mut(&mut self) -> &mut ObjectMeta;
}

/// A kind's entry: what prodready does with its objects besides reading them.
pub trait Kind: Object + Into<RelatedObject> {
    /// The kinds of the World its objects count as (a Helm release Secret is a kind of its own),
    /// the first being the usual one.
    const KINDS: &'static [RelatedKind];
    /// How the operator watches it; none for the kinds watched as workloads.
    const WATCHES: &'static [Watch] = &[Watch::WHOLE];
    /// An object of another version of its API group is refused as not served (its schema
    /// differs too much to be read as this one) rather than read.
    const THIS_VERSION_ONLY: bool = false;

    /// The World's kind of this object.
    fn related_kind(&self) -> RelatedKind {
        Self::KINDS[0]
    }

    /// Which workloads a change of it can affect.
    fn reach(&self) -> Footprint;

    /// Drops what no check reads before the object is cached (a Secret's values).
    fn strip(&mut self) {}

    /// Files its facts in the World, replacing those of an earlier version.
    fn apply(self, world: &mut World);

    /// Forgets the facts of the object `namespace/name` of the World's kind `kind` (one of
    /// [`Kind::KINDS`]). `namespace` is empty for cluster-scoped kinds.
    fn remove(world: &mut World, kind: RelatedKind, namespace: &str, name: &str);
}

/// A kind with a k8s-openapi type: the API serves it on every cluster.
pub trait TypedKind:
    Kind
    + k8s_openapi::Resource<Scope: KindScope>
    + k8s_openapi::Metadata<Ty = ObjectMeta>
    + serde::Serialize
{
}

impl<K> TypedKind for K where
    K: Kind
        + k8s_openapi::Resource<Scope: KindScope>
        + k8s_openapi::Metadata<Ty = ObjectMeta>
        + serde::Serialize
{
}

/// A custom resource, read as a dynamic object without depending on its crate: found by
/// discovery, and unknown (its checks skip) where the API does not serve it.
pub trait DynamicKind: Kind + From<DynamicObject> {}

/// Something done with a related kind's Rust type, picked at run time.
pub trait KindVisitor {
    type Output;
    fn namespaced<K: TypedKind<Scope = NamespaceResourceScope>>(&mut self) -> Self::Output;
    fn cluster<K: TypedKind<Scope = ClusterResourceScope>>(&mut self) -> Self::Output;
    fn dynamic<K: DynamicKind>(&mut self) -> Self::Output;
}

/// Calls `visitor` for the typed kind `K`, by its scope.
fn visit_typed<K: TypedKind, V: KindVisitor>(visitor: &mut V) -> V::Output {
    <K::Scope as KindScope>::visit::<K, V>(visitor)
}

/// The table: every related kind, `typed` with its k8s-openapi type or `dynamic` with where it
/// is served. Generates [`RelatedObject`], the dynamic kinds' types, and the dispatch.
macro_rules! related_kinds {
    (
        typed { $($t_variant:ident($t_type:ty),)* }
        dynamic { $($d_variant:ident($group:literal, $version:literal, $kind:literal, namespaced: $namespaced:literal),)* }
    ) => {
        /// A related object handed to the World, typed for the built-in kinds and dynamic for
        /// the custom resources prodready reads without depending on their crates.
        // Transient: each object is reduced to facts as soon as it is applied, so size is no
        // concern.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone, Debug)]
        pub enum RelatedObject {
            $($t_variant($t_type),)*
            $($d_variant($d_variant),)*
        }

        $(
            impl From<$t_type> for RelatedObject {
                fn from(object: $t_type) -> RelatedObject {
                    RelatedObject::$t_variant(object)
                }
            }

            impl Object for $t_type {
                const SERVED: Served = Served::typed::<$t_type>();

                fn meta(&self) -> &ObjectMeta {
                    &self.metadata
                }

                fn meta_mut(&mut self) -> &mut ObjectMeta {
                    &mut self.metadata
                }
            }
        )*

        $(
            #[doc = concat!("A `", $kind, "` (`", $group, "/", $version, "`), read as a dynamic object.")]
            #[derive(Clone, Debug, serde::Deserialize)]
            #[serde(transparent)]
            pub struct $d_variant(pub DynamicObject);

            impl From<DynamicObject> for $d_variant {
                fn from(object: DynamicObject) -> $d_variant {
                    $d_variant(object)
                }
            }

            impl DynamicKind for $d_variant {}

            impl From<$d_variant> for RelatedObject {
                fn from(object: $d_variant) -> RelatedObject {
                    RelatedObject::$d_variant(object)
                }
            }

            impl Object for $d_variant {
                const SERVED: Served = Served {
                    group: $group,
                    version: $version,
                    kind: $kind,
                    api_version: concat!($group, "/", $version),
                    namespaced: $namespaced,
                };

                fn meta(&self) -> &ObjectMeta {
                    &self.0.metadata
                }

                fn meta_mut(&mut self) -> &mut ObjectMeta {
                    &mut self.0.metadata
                }
            }
        )*

        impl RelatedObject {
            /// The object's metadata.
            pub fn meta(&self) -> &ObjectMeta {
                match self {
                    $(RelatedObject::$t_variant(o) => o.meta(),)*
                    $(RelatedObject::$d_variant(o) => o.meta(),)*
                }
            }

            pub fn meta_mut(&mut self) -> &mut ObjectMeta {
                match self {
                    $(RelatedObject::$t_variant(o) => o.meta_mut(),)*
                    $(RelatedObject::$d_variant(o) => o.meta_mut(),)*
                }
            }

            /// Where the API serves the object's kind.
            pub fn served(&self) -> Served {
                match self {
                    $(RelatedObject::$t_variant(_) => <$t_type>::SERVED,)*
                    $(RelatedObject::$d_variant(_) => <$d_variant>::SERVED,)*
                }
            }

            /// The World's kind of the object.
            pub fn related_kind(&self) -> RelatedKind {
                match self {
                    $(RelatedObject::$t_variant(o) => o.related_kind(),)*
                    $(RelatedObject::$d_variant(o) => o.related_kind(),)*
                }
            }

            /// Which workloads a change of the object can affect.
            pub fn reach(&self) -> Footprint {
                match self {
                    $(RelatedObject::$t_variant(o) => o.reach(),)*
                    $(RelatedObject::$d_variant(o) => o.reach(),)*
                }
            }

            /// Drops what no check reads before the object is cached.
            pub fn strip(&mut self) {
                match self {
                    $(RelatedObject::$t_variant(o) => o.strip(),)*
                    $(RelatedObject::$d_variant(o) => o.strip(),)*
                }
            }

            pub(super) fn apply_to(self, world: &mut World) {
                match self {
                    $(RelatedObject::$t_variant(o) => o.apply(world),)*
                    $(RelatedObject::$d_variant(o) => o.apply(world),)*
                }
            }
        }

        /// Forgets an object of the World's kind `kind`.
        pub(super) fn remove(world: &mut World, kind: RelatedKind, namespace: &str, name: &str) {
            $(
                if <$t_type as Kind>::KINDS.contains(&kind) {
                    return <$t_type as Kind>::remove(world, kind, namespace, name);
                }
            )*
            $(
                if <$d_variant as Kind>::KINDS.contains(&kind) {
                    return <$d_variant as Kind>::remove(world, kind, namespace, name);
                }
            )*
        }

        /// Calls `visitor` with every related type, in the table's order.
        pub fn visit_all<V: KindVisitor>(visitor: &mut V) -> Vec<V::Output> {
            vec![
                $(visit_typed::<$t_type, V>(visitor),)*
                $(visitor.dynamic::<$d_variant>(),)*
            ]
        }

        /// Calls `visitor` with the related type of the API group `group` named `kind` (in
        /// whatever version: the visitor decides what to make of another one).
        pub fn visit_served<V: KindVisitor>(group: &str, kind: &str, visitor: &mut V) -> Option<V::Output> {
            $(
                if <$t_type>::SERVED.group == group && <$t_type>::SERVED.kind == kind {
                    return Some(visit_typed::<$t_type, V>(visitor));
                }
            )*
            $(
                if <$d_variant>::SERVED.group == group && <$d_variant>::SERVED.kind == kind {
                    return Some(visitor.dynamic::<$d_variant>());
                }
            )*
            None
        }
    };
}

related_kinds! {
    typed {
        Service(k8s_openapi::api::core::v1::Service),
        Ingress(k8s_openapi::api::networking::v1::Ingress),
        NetworkPolicy(k8s_openapi::api::networking::v1::NetworkPolicy),
        PodDisruptionBudget(k8s_openapi::api::policy::v1::PodDisruptionBudget),
        HorizontalPodAutoscaler(k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler),
        ConfigMap(k8s_openapi::api::core::v1::ConfigMap),
        Secret(k8s_openapi::api::core::v1::Secret),
        PersistentVolumeClaim(k8s_openapi::api::core::v1::PersistentVolumeClaim),
        PersistentVolume(k8s_openapi::api::core::v1::PersistentVolume),
        StorageClass(k8s_openapi::api::storage::v1::StorageClass),
        ServiceAccount(k8s_openapi::api::core::v1::ServiceAccount),
        RoleBinding(k8s_openapi::api::rbac::v1::RoleBinding),
        ClusterRoleBinding(k8s_openapi::api::rbac::v1::ClusterRoleBinding),
        ClusterRole(k8s_openapi::api::rbac::v1::ClusterRole),
        Pod(k8s_openapi::api::core::v1::Pod),
        ReplicaSet(k8s_openapi::api::apps::v1::ReplicaSet),
        Job(k8s_openapi::api::batch::v1::Job),
        Node(k8s_openapi::api::core::v1::Node),
        EndpointSlice(k8s_openapi::api::discovery::v1::EndpointSlice),
        Endpoints(k8s_openapi::api::core::v1::Endpoints),
        Namespace(k8s_openapi::api::core::v1::Namespace),
    }
    dynamic {
        ServiceMonitor("monitoring.coreos.com", "v1", "ServiceMonitor", namespaced: true),
        PodMonitor("monitoring.coreos.com", "v1", "PodMonitor", namespaced: true),
        PrometheusRule("monitoring.coreos.com", "v1", "PrometheusRule", namespaced: true),
        VeleroSchedule("velero.io", "v1", "Schedule", namespaced: true),
        VolumeSnapshot("snapshot.storage.k8s.io", "v1", "VolumeSnapshot", namespaced: true),
        SnapshotSchedule("snapscheduler.backube", "v1", "SnapshotSchedule", namespaced: true),
    }
}

impl RelatedObject {
    /// A workload read from the input or a watch, as prodready files it: a Pod, Job or
    /// ReplicaSet that a controller owns is live state of its owner (`Ok`), anything else a
    /// workload to judge (`Err`, given back).
    // Either way the object is moved once, to where it is filed: boxing would only add an
    // allocation.
    #[allow(clippy::result_large_err)]
    pub fn owned(workload: WorkloadObject) -> Result<RelatedObject, WorkloadObject> {
        if !super::meta::has_controller(workload.meta()) {
            return Err(workload);
        }
        match workload {
            WorkloadObject::Pod(o) => Ok(RelatedObject::Pod(o)),
            WorkloadObject::Job(o) => Ok(RelatedObject::Job(o)),
            WorkloadObject::ReplicaSet(o) => Ok(RelatedObject::ReplicaSet(o)),
            other => Err(other),
        }
    }

    /// The key the object is remembered under, as `Kind/namespace/name` (no namespace for a
    /// cluster-scoped kind).
    pub fn key(&self) -> String {
        let meta = self.meta();
        let namespace = if meta.namespace.is_some() {
            super::meta::ns_of(meta)
        } else {
            String::new()
        };
        object_key(
            self.served().kind,
            &namespace,
            meta.name.as_deref().unwrap_or(""),
        )
    }
}

/// Reads a label selector out of a custom resource's spec.
fn dyn_selector(value: Option<&serde_json::Value>) -> Option<LabelSelector> {
    serde_json::from_value(value?.clone()).ok()
}

/// Reads a list of strings out of a custom resource's spec.
fn dyn_strings(value: Option<&serde_json::Value>) -> Vec<String> {
    value
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The key under which an object is remembered.
pub fn object_key(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind}/{namespace}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Names(Vec<(Served, Vec<Watch>, &'static [RelatedKind])>);

    impl KindVisitor for Names {
        type Output = ();
        fn namespaced<K: TypedKind<Scope = NamespaceResourceScope>>(&mut self) {
            self.0.push((K::SERVED, K::WATCHES.to_vec(), K::KINDS));
        }
        fn cluster<K: TypedKind<Scope = ClusterResourceScope>>(&mut self) {
            self.0.push((K::SERVED, K::WATCHES.to_vec(), K::KINDS));
        }
        fn dynamic<K: DynamicKind>(&mut self) {
            self.0.push((K::SERVED, K::WATCHES.to_vec(), K::KINDS));
        }
    }

    #[test]
    fn every_world_kind_comes_from_one_entry_and_every_entry_is_found_where_served() {
        let mut names = Names(Vec::new());
        visit_all(&mut names);
        let mut seen: Vec<RelatedKind> = Vec::new();
        for (served, _, kinds) in &names.0 {
            for k in *kinds {
                assert!(!seen.contains(k), "{k:?} in two entries");
                seen.push(*k);
            }
            let mut found = Names(Vec::new());
            visit_served(served.group, served.kind, &mut found).unwrap();
            assert_eq!(found.0[0].0, *served);
        }
        // CronJobs are workloads: the World files them from the workloads themselves.
        let missing: Vec<RelatedKind> = RelatedKind::ALL
            .into_iter()
            .filter(|k| !seen.contains(k) && *k != RelatedKind::CronJob)
            .collect();
        assert!(missing.is_empty(), "no entry for {missing:?}");
        assert_eq!(
            <k8s_openapi::api::networking::v1::Ingress>::SERVED.api_version,
            "networking.k8s.io/v1"
        );
        assert_eq!(<k8s_openapi::api::core::v1::Node>::SERVED.api_version, "v1");
        assert_eq!(<VeleroSchedule>::SERVED.api_version, "velero.io/v1");
        const { assert!(!<k8s_openapi::api::core::v1::Node>::SERVED.namespaced) };
    }
}
