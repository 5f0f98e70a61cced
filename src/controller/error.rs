//! Everything that can go wrong running the operator or reconciling one workload.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("cannot judge the workload: the object has no pod template to judge")]
    NoPodTemplate,
    #[error("cannot judge the workload: {0}")]
    Stored(#[from] crate::live::Error),
    /// A panic outside the checks (a check that panics is a finding of its own).
    #[error("cannot judge the workload: the engine panicked: {0}")]
    Panicked(String),
    #[error("leader election: {0}")]
    Lease(#[from] kube_lease_manager::LeaseManagerError),
    #[error("serving HTTP on {addr}: {source}")]
    Http {
        addr: SocketAddr,
        source: std::io::Error,
    },
}
