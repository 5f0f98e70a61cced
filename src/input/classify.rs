//! Turns one parsed document into what prodready reads: a workload to judge, a related object
//! for the World, a policy, or something it has no use for.

use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Reason;
use crate::api::ReadinessPolicy;
use crate::workload::{WorkloadKind, WorkloadObject};
use crate::world::RelatedObject;
use crate::world::kinds::{self, DynamicKind, Kind, KindVisitor, TypedKind};

/// What one object is to prodready.
#[derive(Debug)]
pub enum Parsed {
    Workload(Box<WorkloadObject>),
    Related(Box<RelatedObject>),
    Policy(Box<ReadinessPolicy>),
    /// A kind prodready has no check for (a Role, an Event, a custom resource).
    Ignored,
}

impl Parsed {
    /// A workload as prodready files it: a Pod, Job or ReplicaSet that a controller owns is live
    /// state of its owner, anything else a workload to judge.
    pub fn filed(object: WorkloadObject) -> Parsed {
        match RelatedObject::owned(object) {
            Ok(related) => Parsed::Related(Box::new(related)),
            Err(workload) => Parsed::Workload(Box::new(workload)),
        }
    }
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

/// Most patches a document gets for YAML 1.1 scalars before its error is reported.
const MAX_YAML11_FIXES: usize = 32;

fn typed<T: DeserializeOwned>(mut value: Value, kind: &str) -> Result<T, Reason> {
    // Nearly every document decodes as is: only a failure pays for tracking the path.
    if let Ok(v) = T::deserialize(&value) {
        return Ok(v);
    }
    let mut fixes = 0;
    loop {
        let err = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        // kubectl reads YAML 1.1, where `0644` is an octal number and `yes` a boolean; a YAML
        // 1.2 reader leaves them strings. Convert the scalar the typed decoding tripped on, if
        // YAML 1.1 would have read it as the expected type, and try again.
        if fixes < MAX_YAML11_FIXES && yaml11_fix(&mut value, err.path(), &err.inner().to_string())
        {
            fixes += 1;
            continue;
        }
        let path = err.path().to_string();
        let detail = if path == "." {
            err.inner().to_string()
        } else {
            format!("{path}: {}", err.inner())
        };
        return Err(Reason::Invalid {
            kind: kind.to_string(),
            detail,
        });
    }
}

/// The YAML 1.1 reading of a plain scalar as the type a decoding error expected.
fn yaml11_scalar(s: &str, expected: &str) -> Option<Value> {
    let integer = expected.starts_with('i') || expected.starts_with('u');
    if integer {
        let (negative, digits) = match s.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let digits = digits.replace('_', "");
        let n = if let Some(oct) = digits.strip_prefix("0o") {
            i64::from_str_radix(oct, 8).ok()?
        } else if digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0x") {
            i64::from_str_radix(&digits[1..], 8).ok()?
        } else if let Some(bin) = digits.strip_prefix("0b") {
            i64::from_str_radix(bin, 2).ok()?
        } else {
            return None;
        };
        return Some(Value::from(if negative { -n } else { n }));
    }
    if expected == "a boolean" {
        return match s {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(Value::Bool(true)),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(Value::Bool(false)),
            _ => None,
        };
    }
    None
}

/// Patches the scalar at `path` when `message` is a type error YAML 1.1 would not have made.
fn yaml11_fix(value: &mut Value, path: &serde_path_to_error::Path, message: &str) -> bool {
    let Some(rest) = message.strip_prefix("invalid type: string \"") else {
        return false;
    };
    let Some((_, expected)) = rest.split_once("\", expected ") else {
        return false;
    };
    let mut cur = value;
    for seg in path.iter() {
        cur = match (seg, cur) {
            (serde_path_to_error::Segment::Map { key }, Value::Object(m)) => match m.get_mut(key) {
                Some(v) => v,
                None => return false,
            },
            (serde_path_to_error::Segment::Seq { index }, Value::Array(a)) => {
                match a.get_mut(*index) {
                    Some(v) => v,
                    None => return false,
                }
            }
            _ => return false,
        };
    }
    let Value::String(s) = cur else {
        return false;
    };
    match yaml11_scalar(s, expected) {
        Some(v) => {
            *cur = v;
            true
        }
        None => false,
    }
}

/// Classifies one object (not a List: the caller flattens those).
pub fn classify(value: Value) -> Result<Parsed, Reason> {
    let Some(obj) = value.as_object() else {
        return Err(Reason::NotAnObject(json_type(&value)));
    };
    let api_version = match obj.get("apiVersion") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err(Reason::Empty("apiVersion")),
        None => return Err(Reason::Missing("apiVersion")),
    };
    let kind = match obj.get("kind") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err(Reason::Empty("kind")),
        None => return Err(Reason::Missing("kind")),
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
        return Err(Reason::Unnamed { kind });
    }
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version.as_str()),
    };
    let workload = WorkloadKind::from_kind(&kind);
    if let Some(workload) = workload
        && workload.api_version() == api_version
    {
        return read_workload(workload, value, &kind);
    }
    let mut read = FromValue {
        value: Some(value),
        kind: &kind,
        api_version: &api_version,
        version,
    };
    if workload.is_none()
        && let Some(parsed) = kinds::visit_served(group, &kind, &mut read)
    {
        return parsed;
    }
    if group == crate::api::GROUP {
        // Reports are the operator's output, not input to judge.
        if kind != "ReadinessPolicy" {
            return Ok(Parsed::Ignored);
        }
        let value = read.value.take().unwrap_or_default();
        return typed(value, &kind).map(|o| Parsed::Policy(Box::new(o)));
    }
    if !BUILTIN_GROUPS.contains(&group) || BUILTIN_IGNORED.contains(&kind.as_str()) {
        return Ok(Parsed::Ignored);
    }
    Err(
        match WorkloadKind::from_kind(&kind).map(WorkloadKind::api_version) {
            Some(current) => Reason::NotServed {
                kind,
                api_version,
                current,
            },
            None => Reason::UnknownKind { kind, api_version },
        },
    )
}

/// Reads a workload, filed as a related object when a controller owns it.
fn read_workload(kind: WorkloadKind, value: Value, name: &str) -> Result<Parsed, Reason> {
    let object = match kind {
        WorkloadKind::Deployment => WorkloadObject::Deployment(typed(value, name)?),
        WorkloadKind::StatefulSet => WorkloadObject::StatefulSet(typed(value, name)?),
        WorkloadKind::DaemonSet => WorkloadObject::DaemonSet(typed(value, name)?),
        WorkloadKind::CronJob => WorkloadObject::CronJob(typed(value, name)?),
        WorkloadKind::Job => WorkloadObject::Job(typed(value, name)?),
        WorkloadKind::ReplicaSet => WorkloadObject::ReplicaSet(typed(value, name)?),
        WorkloadKind::Pod => WorkloadObject::Pod(typed(value, name)?),
    };
    Ok(Parsed::filed(object))
}

/// Reads one object as the related kind the table names.
struct FromValue<'v> {
    value: Option<Value>,
    /// The kind, apiVersion and version the object declares.
    kind: &'v str,
    api_version: &'v str,
    version: &'v str,
}

impl FromValue<'_> {
    fn read<K: Kind>(&mut self) -> Result<Parsed, Reason> {
        let value = self.value.take().unwrap_or_default();
        typed::<K>(value, self.kind).map(|o| Parsed::Related(Box::new(o.into())))
    }

    fn read_typed<K: TypedKind>(&mut self) -> Result<Parsed, Reason> {
        if K::THIS_VERSION_ONLY && self.version != K::SERVED.version {
            return Err(Reason::NotServed {
                kind: self.kind.to_string(),
                api_version: self.api_version.to_string(),
                current: K::SERVED.api_version,
            });
        }
        self.read::<K>()
    }
}

impl KindVisitor for FromValue<'_> {
    type Output = Result<Parsed, Reason>;

    fn namespaced<K: TypedKind<Scope = NamespaceResourceScope>>(&mut self) -> Self::Output {
        self.read_typed::<K>()
    }

    fn cluster<K: TypedKind<Scope = ClusterResourceScope>>(&mut self) -> Self::Output {
        self.read_typed::<K>()
    }

    fn dynamic<K: DynamicKind>(&mut self) -> Self::Output {
        self.read::<K>()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::WorkloadObject;

    #[test]
    fn yaml11_octal_modes_and_booleans_are_read_as_kubectl_reads_them() {
        let value: Value = serde_yaml_ng::from_str(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      \
             automountServiceAccountToken: no\n      containers: [{name: c, image: i}]\n      \
             volumes: [{name: s, secret: {secretName: s, defaultMode: 0440}}]\n",
        )
        .unwrap();
        let Ok(Parsed::Workload(w)) = classify(value) else {
            panic!("not read")
        };
        let WorkloadObject::Deployment(d) = *w else {
            panic!("not a Deployment")
        };
        let spec = d.spec.unwrap().template.spec.unwrap();
        assert_eq!(spec.automount_service_account_token, Some(false));
        let mode = spec.volumes.unwrap()[0]
            .secret
            .as_ref()
            .unwrap()
            .default_mode;
        assert_eq!(mode, Some(0o440));
    }

    #[test]
    fn a_real_type_error_is_still_reported() {
        let value: Value = serde_yaml_ng::from_str(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: two}\n",
        )
        .unwrap();
        let err = classify(value).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Deployment: spec.replicas: invalid type: string \"two\", expected i32"
        );
    }
}
