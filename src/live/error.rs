//! What can go wrong keeping the live state: a stored workload that no longer reads back, a list
//! that fails.

use crate::workload::WorkloadKind;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot inflate the stored {}: {source}", kind.as_str())]
    Inflate {
        kind: WorkloadKind,
        source: std::io::Error,
    },
    #[error("cannot decode the stored {}: {source}", kind.as_str())]
    Decode {
        kind: WorkloadKind,
        source: serde_json::Error,
    },
    #[error("{watch}: {source}")]
    List {
        watch: String,
        source: kube::runtime::watcher::Error,
    },
    #[error("{watch}: the list ended early")]
    ListEnded { watch: String },
}
