//! `-n/--namespace` offline: manifests that name no namespace are given the one they will be
//! applied to, as `kubectl apply -n` would, so that a workload and the RoleBinding or
//! ClusterRoleBinding subject naming its ServiceAccount meet in the same namespace.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::workload::WorkloadObject;
use crate::world::RelatedObject;

fn fill(meta: &mut ObjectMeta, namespace: &str) {
    if meta.namespace.as_deref().is_none_or(str::is_empty) {
        meta.namespace = Some(namespace.to_string());
    }
}

pub fn workload(object: &mut WorkloadObject, namespace: &str) {
    fill(object.meta_mut(), namespace);
}

/// Gives a namespaced object without a namespace this one; cluster-scoped objects (volumes,
/// classes, cluster roles and their bindings, nodes, namespaces) are left as they are.
pub fn related(object: &mut RelatedObject, namespace: &str) {
    let meta = match object {
        RelatedObject::Service(o) => &mut o.metadata,
        RelatedObject::Ingress(o) => &mut o.metadata,
        RelatedObject::NetworkPolicy(o) => &mut o.metadata,
        RelatedObject::PodDisruptionBudget(o) => &mut o.metadata,
        RelatedObject::HorizontalPodAutoscaler(o) => &mut o.metadata,
        RelatedObject::ConfigMap(o) => &mut o.metadata,
        RelatedObject::Secret(o) => &mut o.metadata,
        RelatedObject::PersistentVolumeClaim(o) => &mut o.metadata,
        RelatedObject::ServiceAccount(o) => &mut o.metadata,
        RelatedObject::RoleBinding(o) => &mut o.metadata,
        RelatedObject::Pod(o) => &mut o.metadata,
        RelatedObject::ReplicaSet(o) => &mut o.metadata,
        RelatedObject::Job(o) => &mut o.metadata,
        RelatedObject::EndpointSlice(o) => &mut o.metadata,
        RelatedObject::Endpoints(o) => &mut o.metadata,
        RelatedObject::ServiceMonitor(o)
        | RelatedObject::PodMonitor(o)
        | RelatedObject::PrometheusRule(o)
        | RelatedObject::VeleroSchedule(o)
        | RelatedObject::VolumeSnapshot(o)
        | RelatedObject::SnapshotSchedule(o) => &mut o.metadata,
        RelatedObject::PersistentVolume(_)
        | RelatedObject::StorageClass(_)
        | RelatedObject::ClusterRoleBinding(_)
        | RelatedObject::ClusterRole(_)
        | RelatedObject::Node(_)
        | RelatedObject::Namespace(_) => return,
    };
    fill(meta, namespace);
}
