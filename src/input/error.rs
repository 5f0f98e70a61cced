//! The input layer's error: a file or document that could not be used, where it is, and why.

/// A document or file that could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {reason}", at(*.document, *.line))]
pub struct InputError {
    pub file: String,
    /// 1-based document index within the file (`None` for file-level problems).
    pub document: Option<usize>,
    /// 1-based line of the document's start.
    pub line: Option<usize>,
    pub reason: Reason,
}

fn at(document: Option<usize>, line: Option<usize>) -> String {
    let mut out = String::new();
    if let Some(d) = document {
        out.push_str(&format!(": document {d}"));
    }
    if let Some(l) = line {
        out.push_str(&format!(" (line {l})"));
    }
    out
}

/// Why a file or a document could not be used. The sources that are not comparable (I/O, YAML)
/// are kept as their text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    #[error("cannot read: {0}")]
    CannotRead(String),
    #[error("cannot list directory: {0}")]
    CannotList(String),
    #[error("file is {size_mib} MiB, larger than the {limit_mib} MiB limit")]
    TooLarge { size_mib: u64, limit_mib: u64 },
    #[error("not UTF-8 text (invalid byte at offset {0})")]
    NotUtf8(usize),
    #[error("not valid YAML or JSON: {0}")]
    NotYaml(String),
    #[error("expected a Kubernetes object (a mapping with apiVersion and kind), found {0}")]
    NotAnObject(&'static str),
    #[error("{0} must be a non-empty string")]
    Empty(&'static str),
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("{kind}: metadata.name is missing")]
    Unnamed { kind: String },
    /// The object does not decode as its kind: where (unless at the top) and why.
    #[error("{kind}: {detail}")]
    Invalid { kind: String, detail: String },
    #[error(
        "{kind}: apiVersion {api_version} is not served by Kubernetes 1.33 or later (use {current})"
    )]
    NotServed {
        kind: String,
        api_version: String,
        current: &'static str,
    },
    #[error(
        "unknown kind {kind:?} for apiVersion {api_version} (a typo, or an API Kubernetes does \
         not serve)"
    )]
    UnknownKind { kind: String, api_version: String },
    /// A workload without the pod template the checks read.
    #[error("{kind} {name}: no pod template to judge (spec{path} is missing)")]
    NoPodTemplate {
        kind: &'static str,
        name: String,
        /// Where the template belongs, under `spec`.
        path: &'static str,
    },
    #[error("List objects nested too deeply")]
    TooDeep,
    #[error("items[{index}]: {reason}")]
    InItem { index: usize, reason: Box<Reason> },
}
