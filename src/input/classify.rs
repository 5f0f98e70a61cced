//! Turns one parsed document into what prodready reads: a workload to judge, a related object
//! for the World, a policy, or something it has no use for.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::ReadinessPolicy;
use crate::workload::WorkloadObject;
use crate::world::RelatedObject;

/// What one object is to prodready.
#[derive(Debug)]
pub enum Parsed {
    Workload(Box<WorkloadObject>),
    Related(Box<RelatedObject>),
    Policy(Box<ReadinessPolicy>),
    /// A kind prodready has no check for (a Role, an Event, a custom resource).
    Ignored,
}

/// API groups served by Kubernetes itself: an unknown kind in one of them is a mistake
/// (a typo, a removed API), not a custom resource.
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "networking.k8s.io",
    "policy",
    "autoscaling",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "discovery.k8s.io",
    "coordination.k8s.io",
    "events.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "scheduling.k8s.io",
    "node.k8s.io",
    "certificates.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "resource.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "internal.apiserver.k8s.io",
    "storagemigration.k8s.io",
];

/// Built-in kinds prodready reads nothing from.
const BUILTIN_IGNORED: &[&str] = &[
    "Event",
    "LimitRange",
    "ResourceQuota",
    "PodTemplate",
    "ReplicationController",
    "ComponentStatus",
    "Binding",
    "ControllerRevision",
    "Lease",
    "LeaseCandidate",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "CustomResourceDefinition",
    "APIService",
    "PriorityClass",
    "RuntimeClass",
    "CertificateSigningRequest",
    "ClusterTrustBundle",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "Role",
    "IngressClass",
    "IPAddress",
    "ServiceCIDR",
    "CSIDriver",
    "CSINode",
    "CSIStorageCapacity",
    "VolumeAttachment",
    "VolumeAttributesClass",
    "ResourceClaim",
    "ResourceClaimTemplate",
    "ResourceSlice",
    "DeviceClass",
    "DeviceTaintRule",
    "PodCertificateRequest",
    "StorageVersion",
    "StorageVersionMigration",
    "TokenReview",
    "TokenRequest",
    "SubjectAccessReview",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "LocalSubjectAccessReview",
    "SelfSubjectReview",
    "Eviction",
    "Scale",
    "Status",
];

/// Why a document could not be read.
pub type Reason = String;

fn typed<T: DeserializeOwned>(value: Value) -> Result<T, Reason> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        }
    })
}

fn dynamic(value: Value) -> Result<kube::api::DynamicObject, Reason> {
    typed(value)
}

fn has_controller(value: &Value) -> bool {
    value
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|owners| {
            owners
                .iter()
                .any(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
        })
}

/// Classifies one object (not a List: the caller flattens those).
pub fn classify(value: Value) -> Result<Parsed, Reason> {
    let Some(obj) = value.as_object() else {
        return Err(format!(
            "expected a Kubernetes object (a mapping with apiVersion and kind), found {}",
            json_type(&value)
        ));
    };
    let api_version = match obj.get("apiVersion") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err("apiVersion must be a non-empty string".into()),
        None => return Err("apiVersion is missing".into()),
    };
    let kind = match obj.get("kind") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err("kind must be a non-empty string".into()),
        None => return Err("kind is missing".into()),
    };
    let name_ok = value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty())
        || value
            .pointer("/metadata/generateName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
    if !name_ok {
        return Err(format!("{kind}: metadata.name is missing"));
    }
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version.as_str()),
    };
    let owned = has_controller(&value);
    let in_kind = |r: Result<Parsed, Reason>| r.map_err(|e| format!("{kind}: {e}"));
    let parsed = match (group, kind.as_str()) {
        ("apps", "Deployment") if version == "v1" => {
            in_kind(typed(value).map(|o| Parsed::Workload(Box::new(WorkloadObject::Deployment(o)))))
        }
        ("apps", "StatefulSet") if version == "v1" => in_kind(
            typed(value).map(|o| Parsed::Workload(Box::new(WorkloadObject::StatefulSet(o)))),
        ),
        ("apps", "DaemonSet") if version == "v1" => {
            in_kind(typed(value).map(|o| Parsed::Workload(Box::new(WorkloadObject::DaemonSet(o)))))
        }
        ("apps", "ReplicaSet") if version == "v1" => in_kind(typed(value).map(|o| {
            if owned {
                Parsed::Related(Box::new(RelatedObject::ReplicaSet(o)))
            } else {
                Parsed::Workload(Box::new(WorkloadObject::ReplicaSet(o)))
            }
        })),
        ("batch", "CronJob") if version == "v1" => {
            in_kind(typed(value).map(|o| Parsed::Workload(Box::new(WorkloadObject::CronJob(o)))))
        }
        ("batch", "Job") if version == "v1" => in_kind(typed(value).map(|o| {
            if owned {
                Parsed::Related(Box::new(RelatedObject::Job(o)))
            } else {
                Parsed::Workload(Box::new(WorkloadObject::Job(o)))
            }
        })),
        ("", "Pod") if version == "v1" => in_kind(typed(value).map(|o| {
            if owned {
                Parsed::Related(Box::new(RelatedObject::Pod(o)))
            } else {
                Parsed::Workload(Box::new(WorkloadObject::Pod(o)))
            }
        })),
        ("", "Service") => in_kind(typed(value).map(|o| related(RelatedObject::Service(o)))),
        ("", "ConfigMap") => in_kind(typed(value).map(|o| related(RelatedObject::ConfigMap(o)))),
        ("", "Secret") => in_kind(typed(value).map(|o| related(RelatedObject::Secret(o)))),
        ("", "PersistentVolumeClaim") => {
            in_kind(typed(value).map(|o| related(RelatedObject::PersistentVolumeClaim(o))))
        }
        ("", "PersistentVolume") => {
            in_kind(typed(value).map(|o| related(RelatedObject::PersistentVolume(o))))
        }
        ("", "ServiceAccount") => {
            in_kind(typed(value).map(|o| related(RelatedObject::ServiceAccount(o))))
        }
        ("", "Namespace") => in_kind(typed(value).map(|o| related(RelatedObject::Namespace(o)))),
        ("", "Node") => in_kind(typed(value).map(|o| related(RelatedObject::Node(o)))),
        ("", "Endpoints") => in_kind(typed(value).map(|o| related(RelatedObject::Endpoints(o)))),
        ("networking.k8s.io", "Ingress") if version == "v1" => {
            in_kind(typed(value).map(|o| related(RelatedObject::Ingress(o))))
        }
        ("networking.k8s.io", "NetworkPolicy") if version == "v1" => {
            in_kind(typed(value).map(|o| related(RelatedObject::NetworkPolicy(o))))
        }
        ("policy", "PodDisruptionBudget") => {
            in_kind(typed(value).map(|o| related(RelatedObject::PodDisruptionBudget(o))))
        }
        ("autoscaling", "HorizontalPodAutoscaler") => {
            in_kind(typed(value).map(|o| related(RelatedObject::HorizontalPodAutoscaler(o))))
        }
        ("storage.k8s.io", "StorageClass") => {
            in_kind(typed(value).map(|o| related(RelatedObject::StorageClass(o))))
        }
        ("rbac.authorization.k8s.io", "RoleBinding") => {
            in_kind(typed(value).map(|o| related(RelatedObject::RoleBinding(o))))
        }
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            in_kind(typed(value).map(|o| related(RelatedObject::ClusterRoleBinding(o))))
        }
        ("rbac.authorization.k8s.io", "ClusterRole") => {
            in_kind(typed(value).map(|o| related(RelatedObject::ClusterRole(o))))
        }
        ("discovery.k8s.io", "EndpointSlice") => {
            in_kind(typed(value).map(|o| related(RelatedObject::EndpointSlice(o))))
        }
        ("monitoring.coreos.com", "ServiceMonitor") => {
            in_kind(dynamic(value).map(|o| related(RelatedObject::ServiceMonitor(o))))
        }
        ("monitoring.coreos.com", "PodMonitor") => {
            in_kind(dynamic(value).map(|o| related(RelatedObject::PodMonitor(o))))
        }
        ("monitoring.coreos.com", "PrometheusRule") => {
            in_kind(dynamic(value).map(|o| related(RelatedObject::PrometheusRule(o))))
        }
        ("velero.io", "Schedule") => {
            in_kind(dynamic(value).map(|o| related(RelatedObject::VeleroSchedule(o))))
        }
        ("snapshot.storage.k8s.io", "VolumeSnapshot") => {
            in_kind(dynamic(value).map(|o| related(RelatedObject::VolumeSnapshot(o))))
        }
        ("snapscheduler.backube", "SnapshotSchedule") => {
            in_kind(dynamic(value).map(|o| related(RelatedObject::SnapshotSchedule(o))))
        }
        (crate::api::GROUP, "ReadinessPolicy") => {
            in_kind(typed(value).map(|o| Parsed::Policy(Box::new(o))))
        }
        (crate::api::GROUP, "ReadinessReport") => Ok(Parsed::Ignored),
        (g, k) if BUILTIN_GROUPS.contains(&g) => {
            if BUILTIN_IGNORED.contains(&k) {
                Ok(Parsed::Ignored)
            } else if crate::workload::WorkloadKind::from_kind(k).is_some()
                || matches!(k, "Ingress" | "NetworkPolicy")
            {
                Err(format!(
                    "{k}: apiVersion {api_version} is not served by Kubernetes 1.33 or later \
                     (use {})",
                    preferred_api_version(k)
                ))
            } else {
                Err(format!(
                    "unknown kind {k:?} for apiVersion {api_version} (a typo, or an API \
                     Kubernetes does not serve)"
                ))
            }
        }
        _ => Ok(Parsed::Ignored),
    }?;
    Ok(parsed)
}

fn related(o: RelatedObject) -> Parsed {
    Parsed::Related(Box::new(o))
}

fn preferred_api_version(kind: &str) -> &'static str {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => "apps/v1",
        "CronJob" | "Job" => "batch/v1",
        "Ingress" | "NetworkPolicy" => "networking.k8s.io/v1",
        _ => "v1",
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "an empty document",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}
