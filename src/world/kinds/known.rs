//! The related kinds the World indexes, and the set of kinds it has seen.

/// A kind of object that checks read besides the workload itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelatedKind {
    Service,
    Ingress,
    NetworkPolicy,
    PodDisruptionBudget,
    HorizontalPodAutoscaler,
    ConfigMap,
    Secret,
    PersistentVolumeClaim,
    PersistentVolume,
    StorageClass,
    ServiceAccount,
    RoleBinding,
    ClusterRoleBinding,
    ClusterRole,
    ServiceMonitor,
    PodMonitor,
    PrometheusRule,
    VeleroSchedule,
    VolumeSnapshot,
    SnapshotSchedule,
    HelmRelease,
    Pod,
    ReplicaSet,
    Job,
    CronJob,
    Node,
    EndpointSlice,
    Endpoints,
    Namespace,
}

impl RelatedKind {
    pub const ALL: [RelatedKind; 29] = [
        RelatedKind::Service,
        RelatedKind::Ingress,
        RelatedKind::NetworkPolicy,
        RelatedKind::PodDisruptionBudget,
        RelatedKind::HorizontalPodAutoscaler,
        RelatedKind::ConfigMap,
        RelatedKind::Secret,
        RelatedKind::PersistentVolumeClaim,
        RelatedKind::PersistentVolume,
        RelatedKind::StorageClass,
        RelatedKind::ServiceAccount,
        RelatedKind::RoleBinding,
        RelatedKind::ClusterRoleBinding,
        RelatedKind::ClusterRole,
        RelatedKind::ServiceMonitor,
        RelatedKind::PodMonitor,
        RelatedKind::PrometheusRule,
        RelatedKind::VeleroSchedule,
        RelatedKind::VolumeSnapshot,
        RelatedKind::SnapshotSchedule,
        RelatedKind::HelmRelease,
        RelatedKind::Pod,
        RelatedKind::ReplicaSet,
        RelatedKind::Job,
        RelatedKind::CronJob,
        RelatedKind::Node,
        RelatedKind::EndpointSlice,
        RelatedKind::Endpoints,
        RelatedKind::Namespace,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RelatedKind::Service => "Service",
            RelatedKind::Ingress => "Ingress",
            RelatedKind::NetworkPolicy => "NetworkPolicy",
            RelatedKind::PodDisruptionBudget => "PodDisruptionBudget",
            RelatedKind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            RelatedKind::ConfigMap => "ConfigMap",
            RelatedKind::Secret => "Secret",
            RelatedKind::PersistentVolumeClaim => "PersistentVolumeClaim",
            RelatedKind::PersistentVolume => "PersistentVolume",
            RelatedKind::StorageClass => "StorageClass",
            RelatedKind::ServiceAccount => "ServiceAccount",
            RelatedKind::RoleBinding => "RoleBinding",
            RelatedKind::ClusterRoleBinding => "ClusterRoleBinding",
            RelatedKind::ClusterRole => "ClusterRole",
            RelatedKind::ServiceMonitor => "ServiceMonitor",
            RelatedKind::PodMonitor => "PodMonitor",
            RelatedKind::PrometheusRule => "PrometheusRule",
            RelatedKind::VeleroSchedule => "Schedule (velero.io)",
            RelatedKind::VolumeSnapshot => "VolumeSnapshot",
            RelatedKind::SnapshotSchedule => "SnapshotSchedule",
            RelatedKind::HelmRelease => "Helm release Secret",
            RelatedKind::Pod => "Pod",
            RelatedKind::ReplicaSet => "ReplicaSet",
            RelatedKind::Job => "Job",
            RelatedKind::CronJob => "CronJob",
            RelatedKind::Node => "Node",
            RelatedKind::EndpointSlice => "EndpointSlice",
            RelatedKind::Endpoints => "Endpoints",
            RelatedKind::Namespace => "Namespace",
        }
    }

    fn bit(self) -> u64 {
        1 << (self as u32)
    }
}

/// A set of related kinds: which kinds the World has seen (offline) or watches (in a cluster).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindSet(u64);

impl KindSet {
    pub fn all() -> KindSet {
        KindSet(RelatedKind::ALL.iter().fold(0, |acc, k| acc | k.bit()))
    }

    pub fn insert(&mut self, kind: RelatedKind) {
        self.0 |= kind.bit();
    }

    pub fn remove(&mut self, kind: RelatedKind) {
        self.0 &= !kind.bit();
    }

    pub fn contains(self, kind: RelatedKind) -> bool {
        self.0 & kind.bit() != 0
    }
}
