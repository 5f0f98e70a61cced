//! Everything that can go wrong running the operator or reconciling one workload.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("cannot judge the workload: {0}")]
    Unjudgeable(String),
    #[error("leader election: {0}")]
    Lease(String),
    #[error("serving HTTP on {addr}: {source}")]
    Http {
        addr: SocketAddr,
        source: std::io::Error,
    },
}
