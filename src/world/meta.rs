//! What every object's metadata is read for: its name, its namespace, its owner.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

pub(crate) fn name_of(meta: &ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

/// The namespace, `default` when the object names none (as the apiserver would file it).
pub(crate) fn ns_of(meta: &ObjectMeta) -> String {
    meta.namespace
        .clone()
        .unwrap_or_else(|| "default".to_string())
}

/// The controlling owner, else the first owner.
pub(crate) fn controller_of(owners: &Option<Vec<OwnerReference>>) -> Option<&OwnerReference> {
    owners
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
        .or_else(|| owners.as_ref()?.first())
}

/// Whether a controller owns the object (it is then live state of its owner, not judged alone).
pub(crate) fn has_controller(meta: &ObjectMeta) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true))
}

/// Who owns a pod, after resolving ReplicaSets to their Deployment where possible.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OwnerKey {
    pub kind: String,
    pub name: String,
}

/// A pod's top-level owner. A ReplicaSet named `<deployment>-<pod-template-hash>` is resolved
/// to its Deployment straight away, so pods are found even when ReplicaSets are not part of the
/// input, not watched, or not seen yet.
pub(crate) fn pod_owner(pod: &Pod) -> OwnerKey {
    let Some(owner) = controller_of(&pod.metadata.owner_references) else {
        return OwnerKey {
            kind: "Pod".into(),
            name: name_of(&pod.metadata),
        };
    };
    if owner.kind == "ReplicaSet"
        && let Some(hash) = pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("pod-template-hash"))
        && let Some(deployment) = owner
            .name
            .strip_suffix(hash.as_str())
            .and_then(|p| p.strip_suffix('-'))
    {
        return OwnerKey {
            kind: "Deployment".into(),
            name: deployment.to_string(),
        };
    }
    OwnerKey {
        kind: owner.kind.clone(),
        name: owner.name.clone(),
    }
}
