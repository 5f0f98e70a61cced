//! Real manifests, replicated: every app under a directory of public manifests, copied round after
//! round, each copy in a namespace of its own, until the copies hold `n` workloads. Real manifests
//! carry what synthetic ones lack (charts' labels, long scripts in ConfigMaps, init containers,
//! dozens of env entries), so their figures are the ones users see.
//!
//! An app is a file directly in a directory, or all the files directly in a directory (one app
//! however many files it spreads over, as kubernetes/examples does). How a copy differs from the
//! app is in `copy`; each document is otherwise copied as written, byte for byte, because a YAML
//! value written out again can change meaning for a YAML 1.1 reader (`"yes"` becomes a bool,
//! `0755` a string) and the peers read YAML 1.1.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use super::app::{App, Document, Scope};
use super::copy;

/// The kinds prodready judges as workloads (when no controller owns them).
const WORKLOAD_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
];

/// Kinds that live outside namespaces, besides Namespace itself.
const CLUSTER_SCOPED: &[&str] = &[
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "PersistentVolume",
    "CustomResourceDefinition",
    "APIService",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];

/// Where the real manifests are: `PRODREADY_REALWORLD`, else the repository's fixtures, else the
/// shared copy beside the repository.
pub fn source() -> PathBuf {
    if let Some(path) = std::env::var_os("PRODREADY_REALWORLD") {
        return path.into();
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = repo.join("tests/fixtures/realworld");
    if fixtures.is_dir() {
        fixtures
    } else {
        repo.join("../shared/realworld")
    }
}

/// YAML for `n` workloads copied from the apps under `root`, as one multi-document stream. A round
/// takes every app that still fits, so the count is exact whenever some app has one workload.
pub fn corpus(root: &Path, n: usize) -> String {
    assert!(
        root.is_dir(),
        "no real manifests at {} (set PRODREADY_REALWORLD to their directory)",
        root.display()
    );
    let apps = apps(root);
    assert!(
        !apps.is_empty(),
        "no manifests with workloads under {} (set PRODREADY_REALWORLD)",
        root.display()
    );
    let mut out = String::new();
    let mut left = n;
    for round in 0.. {
        let before = left;
        for app in &apps {
            if app.workloads <= left {
                copy::write(&mut out, app, round);
                left -= app.workloads;
            }
        }
        if left == 0 || left == before {
            break;
        }
    }
    out
}

fn apps(root: &Path) -> Vec<App> {
    let mut apps = Vec::new();
    collect(root, true, &mut apps);
    apps.retain(|a| a.workloads > 0);
    apps
}

/// The apps under `dir`: at the top, each file is one; below, a directory's files make one.
fn collect(dir: &Path, top: bool, apps: &mut Vec<App>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    let files: Vec<&PathBuf> = entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    if top {
        for file in files {
            apps.push(App::read(file, &[file]));
        }
    } else if !files.is_empty() {
        apps.push(App::read(dir, &files));
    }
    for sub in entries.iter().filter(|p| p.is_dir()) {
        collect(sub, false, apps);
    }
}

impl App {
    /// The app at `path` (a file, or a directory) made of `files`.
    fn read(path: &Path, files: &[&PathBuf]) -> App {
        let mut documents = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(file)
                .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            for part in split(&text) {
                let value: Value = serde_yaml_ng::from_str(&part)
                    .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
                if value.is_mapping() {
                    documents.push(Document::new(part, &value));
                }
            }
        }
        let mut namespaces = BTreeSet::new();
        let mut cluster_objects = BTreeSet::new();
        for doc in &documents {
            let name = doc.name.clone();
            match doc.scope {
                Scope::Namespace => drop(namespaces.insert(name)),
                Scope::Cluster => drop(cluster_objects.insert((doc.kind.clone(), name))),
                Scope::Namespaced => {
                    let ns = doc.namespace.as_deref().unwrap_or("default");
                    namespaces.insert(ns.to_string());
                }
            }
        }
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        App {
            // A DNS label, leaving room for the copy's number.
            name: stem
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                .chars()
                .take(50)
                .collect(),
            workloads: documents
                .iter()
                .filter(|d| WORKLOAD_KINDS.contains(&d.kind.as_str()))
                .count(),
            documents,
            namespaces,
            cluster_objects,
        }
    }
}

/// The documents of a multi-document file, as written.
fn split(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            parts.push(String::new());
        } else {
            let part = parts.last_mut().expect("one part at least");
            part.push_str(line);
            part.push('\n');
        }
    }
    parts
}

fn metadata_str<'a>(doc: &'a Value, field: &str) -> Option<&'a str> {
    doc.get("metadata")?.get(field)?.as_str()
}

impl Document {
    fn new(text: String, value: &Value) -> Document {
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
        let scope = match kind {
            "Namespace" => Scope::Namespace,
            k if CLUSTER_SCOPED.contains(&k) => Scope::Cluster,
            _ => Scope::Namespaced,
        };
        let role_ref_kind = value.get("roleRef").map(|r| {
            let kind = r.get("kind").and_then(Value::as_str);
            kind.unwrap_or("").to_string()
        });
        Document {
            name: metadata_str(value, "name").unwrap_or("").to_string(),
            namespace: metadata_str(value, "namespace").map(str::to_string),
            kind: kind.to_string(),
            scope,
            role_ref_kind,
            text,
        }
    }
}
