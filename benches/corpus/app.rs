//! The corpus's unit: one app's documents, as read from real manifests and copied round after
//! round under new namespaces.

use std::collections::BTreeSet;

/// One app as read: its documents and what a copy must rename.
pub struct App {
    pub name: String,
    pub documents: Vec<Document>,
    pub workloads: usize,
    /// The namespaces its objects are in or create ("default" for those that name none).
    pub namespaces: BTreeSet<String>,
    /// Its cluster-scoped objects, as (kind, name).
    pub cluster_objects: BTreeSet<(String, String)>,
}

impl App {
    /// The namespace of the app's copy in round `round`.
    pub fn namespace(&self, round: usize) -> String {
        format!("{}-{round}", self.name)
    }
}

/// One document: its text as written, and what a copy needs to know of it.
pub struct Document {
    pub text: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub scope: Scope,
    /// The kind of a binding's `roleRef`.
    pub role_ref_kind: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Scope {
    Namespaced,
    Cluster,
    /// A Namespace object: the copy's namespace replaces its name.
    Namespace,
}
