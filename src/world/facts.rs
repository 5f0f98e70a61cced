//! What the World keeps of each related object: only the facts checks read, so the controller's
//! memory stays small and no secret value is ever held.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::compact::{Labels, Named, Names};
use crate::text::credentials::Credential;
use crate::text::persistence::Persistence;

/// A port a Service exposes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePortFacts {
    pub name: Option<String>,
    pub port: i32,
    pub target_port: Option<IntOrString>,
    pub node_port: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceFacts {
    pub name: Box<str>,
    /// ClusterIP, NodePort, LoadBalancer, ExternalName.
    pub service_type: Box<str>,
    pub ports: Box<[ServicePortFacts]>,
    /// clusterIP: None: DNS names its pods one by one (a StatefulSet's governing Service).
    pub headless: bool,
    pub labels: Labels,
    /// Only the annotations checks read (`text::annotations::reads_service_annotation`): a Service's
    /// annotations often hold a copy of the whole object (`last-applied-configuration`).
    pub annotations: Labels,
}

impl ServiceFacts {
    pub fn is_public(&self) -> bool {
        matches!(&*self.service_type, "LoadBalancer" | "NodePort")
    }
}

/// A Service port an Ingress sends requests to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngressBackend {
    pub service: Box<str>,
    /// By number or by name (`None` when neither is set: the API server refuses that).
    pub port: Option<IntOrString>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct IngressFacts {
    pub name: Box<str>,
    /// Services the Ingress routes to (default backend and every rule path).
    pub services: Names,
    /// Each backend's Service and port, in order, each once.
    pub backends: Box<[IngressBackend]>,
    /// Rule hosts, in order.
    pub hosts: Box<[Box<str>]>,
    /// Hosts listed under `spec.tls` (an entry without hosts covers the default host: "*").
    pub tls_hosts: Box<[Box<str>]>,
    pub class: Option<Box<str>>,
    /// Only the annotations checks read (`text::annotations::reads_ingress_annotation`).
    pub annotations: Labels,
}

impl IngressFacts {
    pub fn has_tls(&self) -> bool {
        !self.tls_hosts.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkPolicyFacts {
    pub name: Box<str>,
    /// The policy restricts ingress (policyTypes contains Ingress, or defaults to it).
    pub ingress: bool,
    /// The policy restricts egress.
    pub egress: bool,
    /// An egress rule allows every destination on every port (no `to`/`ports`, or 0.0.0.0/0
    /// without ports).
    pub egress_allows_all: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdbFacts {
    pub name: Box<str>,
    pub min_available: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HpaFacts {
    pub name: Box<str>,
    pub target_kind: Box<str>,
    pub target_name: Box<str>,
    /// Kubernetes defaults minReplicas to 1.
    pub min_replicas: i32,
    pub max_replicas: i32,
}

/// A ConfigMap reduced to what checks read: its key names, the values that look like
/// connection strings, and what makes a value a credential (never the values themselves).
/// Values are judged with the same rules as env values (`text::credentials`): by content here,
/// by name later, against the policy's own patterns.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ConfigMapFacts {
    pub name: Box<str>,
    /// Every key (binaryData keys included).
    pub keys: Names,
    /// Keys whose value is empty: present for references, holding nothing worth judging.
    pub empty_keys: Names,
    /// Values holding a URL (`scheme://...`), per key, truncated.
    pub urls: Box<[(Box<str>, Box<str>)]>,
    /// Keys whose value is a credential by its content (a PEM private key, a known token, a
    /// URL with a password), with what it holds.
    pub content_credentials: Box<[(Box<str>, Credential)]>,
    /// Keys whose whole value is a literal (`text::credentials::is_literal`): a credential if
    /// the key is named like one.
    pub literal_keys: Names,
    /// `(key, field)`: a file-like value assigns a literal to this field (`password: hunter2`,
    /// `API_TOKEN=abc`): a credential if the field is named like one.
    pub literal_fields: Box<[(Box<str>, Box<str>)]>,
    /// Keys whose value is a Redis-style configuration (`save`, `appendonly` directives), with
    /// what it says of persistence.
    pub persistence: Box<[(Box<str>, Persistence)]>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SecretFacts {
    pub name: Box<str>,
    pub secret_type: Box<str>,
    /// Key names only: values are never kept.
    pub keys: Names,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PvcFacts {
    pub name: String,
    pub storage_class: Option<String>,
    pub access_modes: Vec<String>,
    pub volume_name: Option<String>,
    /// Pending, Bound, Lost; `None` when the input carries no status.
    pub phase: Option<String>,
    pub labels: Labels,
    pub created: Option<Timestamp>,
}

impl PvcFacts {
    pub fn is_read_write_once(&self) -> bool {
        self.access_modes
            .iter()
            .any(|m| m == "ReadWriteOnce" || m == "ReadWriteOncePod")
            && !self.access_modes.iter().any(|m| m == "ReadWriteMany")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvFacts {
    pub name: String,
    /// Retain, Delete or Recycle (Kubernetes defaults dynamically provisioned volumes to Delete).
    pub reclaim_policy: Option<String>,
    pub storage_class: Option<String>,
    /// The claim bound to it, as (namespace, name).
    pub claim: Option<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageClassFacts {
    pub name: String,
    /// Kubernetes defaults an unset reclaimPolicy to Delete.
    pub reclaim_policy: String,
    pub is_default: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccountFacts {
    pub name: String,
    pub automount_token: Option<bool>,
}

/// A RoleBinding or ClusterRoleBinding: which role it grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingFacts {
    /// `RoleBinding/ns/name` or `ClusterRoleBinding/name`.
    pub display: String,
    pub role_kind: String,
    pub role_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterRoleFacts {
    pub name: String,
    /// Grants every verb on every resource (cluster-admin or a look-alike).
    pub wildcard: bool,
}

/// Which namespaces a ServiceMonitor or PodMonitor looks into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MonitorNamespaces {
    Any,
    Names(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorFacts {
    /// `ServiceMonitor/ns/name` or `PodMonitor/ns/name`.
    pub display: String,
    pub namespaces: MonitorNamespaces,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VeleroScheduleFacts {
    pub display: String,
    /// Empty or `*`: every namespace.
    pub included_namespaces: Vec<String>,
    pub excluded_namespaces: Vec<String>,
    pub paused: bool,
}

impl VeleroScheduleFacts {
    pub fn covers(&self, namespace: &str) -> bool {
        !self.paused
            && !self.excluded_namespaces.iter().any(|n| n == namespace)
            && (self.included_namespaces.is_empty()
                || self
                    .included_namespaces
                    .iter()
                    .any(|n| n == "*" || n == namespace))
    }
}

/// A CronJob as a possible backup job.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CronJobFacts {
    pub name: String,
    /// Labelled as a backup (`prodready.dev/backup`, `app.kubernetes.io/component: backup`).
    pub labelled_backup: bool,
    /// Commands and arguments of its containers, joined and lower-cased.
    pub command_text: String,
    pub suspended: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ContainerStateFacts {
    pub name: String,
    pub restart_count: i32,
    pub ready: bool,
    pub waiting_reason: Option<String>,
    pub waiting_message: Option<String>,
    pub last_terminated_reason: Option<String>,
    pub last_terminated_at: Option<Timestamp>,
    pub last_exit_code: Option<i32>,
    pub started_at: Option<Timestamp>,
}

/// A pod's observed state.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PodFacts {
    pub name: String,
    pub node: Option<String>,
    pub phase: Option<String>,
    pub ready: bool,
    /// When the Ready condition last changed.
    pub ready_changed: Option<Timestamp>,
    pub created: Option<Timestamp>,
    pub deleting: bool,
    pub containers: Vec<ContainerStateFacts>,
}

/// One revision of a Helm release, decoded from its storage Secret.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HelmRevisionFacts {
    pub revision: u32,
    /// deployed, failed, pending-install, pending-upgrade, pending-rollback, superseded,
    /// uninstalling, uninstalled, unknown.
    pub status: String,
    pub chart_name: Option<String>,
    pub chart_version: Option<String>,
    pub app_version: Option<String>,
    pub deprecated: bool,
    pub description: Option<String>,
    pub last_deployed: Option<Timestamp>,
    /// Value paths set to `false` that disable autoscaling (`autoscaling.enabled`,
    /// `api.autoscaling.enabled`...), from the user's values over the chart's defaults.
    pub autoscaling_disabled: Vec<String>,
    /// The storage Secret's name.
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HelmReleaseFacts {
    pub name: String,
    pub revisions: BTreeMap<u32, HelmRevisionFacts>,
}

impl HelmReleaseFacts {
    /// The newest revision: the release's current state.
    pub fn latest(&self) -> Option<&HelmRevisionFacts> {
        self.revisions.values().next_back()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NodeFacts {
    pub name: String,
    pub zone: Option<String>,
}

/// Facts filed by the name they carry.
macro_rules! named_by {
    ($field:ident: $($t:ty),+) => {
        $(impl Named for $t {
            fn name(&self) -> &str {
                &self.$field
            }
        })+
    };
}

named_by!(name: ServiceFacts, IngressFacts, NetworkPolicyFacts, PdbFacts, HpaFacts);
named_by!(name: ConfigMapFacts, SecretFacts, PvcFacts, ServiceAccountFacts, CronJobFacts);
// Monitors are filed under their display, `ServiceMonitor/ns/name`: one index holds monitors
// of several namespaces, and of one kind only.
named_by!(display: MonitorFacts);

/// A snapshot schedule is kept as its display, `SnapshotSchedule/ns/name`, filed under it.
impl Named for String {
    fn name(&self) -> &str {
        self
    }
}

/// What namespace-scoped checks need of a workload's pod template: the labels its pods carry (a
/// Service or policy selects by them) and the ports its containers declare (a Service targets
/// them by number or by name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateFacts {
    /// `Kind/name` of the workload.
    pub workload: Box<str>,
    pub labels: Labels,
    pub ports: Box<[DeclaredPort]>,
}

/// A container port as declared in a pod template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredPort {
    pub name: Option<Box<str>>,
    pub number: i32,
}

impl TemplateFacts {
    /// Whether a container declares the port, given by number or by name.
    pub fn declares(&self, port: &IntOrString) -> bool {
        self.ports.iter().any(|p| match port {
            IntOrString::Int(n) => p.number == *n,
            IntOrString::String(s) => p.name.as_deref() == Some(s.as_str()),
        })
    }
}
