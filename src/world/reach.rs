//! What a related object can reach: a `Footprint` names the workloads a change of the object
//! can affect (the pods its selector matches, the Services it routes to, the workloads that
//! reference it...), as data. Each kind's entry (`kinds`) computes it; `live::affected` resolves
//! it against the workloads of the cluster.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::rbac::v1::Subject;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::Selector;
use super::meta::{controller_of, ns_of};

/// What a workload can reference by name in its namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reference {
    ConfigMap,
    Secret,
    Claim,
    ServiceAccount,
    /// A StatefulSet's governing Service (`serviceName`).
    Service,
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

/// The workloads of one namespace.
pub(crate) fn one(namespace: String) -> Footprint {
    Footprint::Namespaces(BTreeSet::from([namespace]))
}

/// The workloads that reference the object by its own name.
pub(crate) fn referenced(meta: &ObjectMeta, reference: Reference) -> Footprint {
    Footprint::Referenced {
        namespace: ns_of(meta),
        reference,
        name: meta.name.clone().unwrap_or_default(),
    }
}

/// The object's controlling owner.
pub(crate) fn owner(meta: &ObjectMeta) -> Footprint {
    match controller_of(&meta.owner_references) {
        Some(owner) => Footprint::Owner {
            namespace: ns_of(meta),
            kind: owner.kind.clone(),
            name: owner.name.clone(),
        },
        None => Footprint::Nothing,
    }
}

/// What a binding's subject reaches: a ServiceAccount's workloads, or every ServiceAccount's.
pub(crate) fn subject(s: &Subject, binding_ns: Option<&str>) -> Option<Footprint> {
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
