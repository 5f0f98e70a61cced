//! What a command reports before it exits 2: a cluster it cannot reach, a policy it cannot use,
//! an output it cannot write, a flag it cannot read.

use std::path::PathBuf;

use crate::engine::PolicyError;
use crate::input::InputError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot reach the cluster: {0}")]
    Unreachable(kube::Error),
    #[error("cannot read kubeconfig {}: {source}", path.display())]
    ReadKubeconfig {
        path: PathBuf,
        source: kube::config::KubeconfigError,
    },
    #[error("kubeconfig {}: {source}", path.display())]
    Kubeconfig {
        path: PathBuf,
        source: kube::config::KubeconfigError,
    },
    #[error("kubeconfig: {0}")]
    Context(kube::config::KubeconfigError),
    #[error("no cluster configuration found: {0}")]
    NoConfiguration(kube::config::InferConfigError),
    #[error("cannot build a client: {0}")]
    Client(kube::Error),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write to stdout: {0}")]
    Stdout(std::io::Error),
    #[error(transparent)]
    Input(#[from] InputError),
    /// The first unreadable document of many.
    #[error("{first} ({count} unreadable documents)")]
    Unreadable {
        first: Box<InputError>,
        count: usize,
    },
    #[error(
        "{}: no ReadinessPolicy found (expected apiVersion {}/v1alpha1, kind ReadinessPolicy)",
        .0.display(),
        crate::api::GROUP
    )]
    NoPolicy(PathBuf),
    #[error("{file}: document {document} (line {line}): {source}")]
    Policy {
        file: String,
        document: usize,
        line: usize,
        source: PolicyError,
    },
    #[error(transparent)]
    Engine(#[from] PolicyError),
    #[error("{0:?} is not a duration such as 90s, 30m or 1h")]
    NotADuration(String),
    #[error("{0:?}: the unit must be s, m, h or d")]
    DurationUnit(String),
    #[error("{0:?} is longer than any duration prodready can wait")]
    DurationTooLong(String),
    #[error("the duration must be longer than zero")]
    ZeroDuration,
}
