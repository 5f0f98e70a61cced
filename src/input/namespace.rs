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
    if object.served().namespaced {
        fill(object.meta_mut(), namespace);
    }
}
