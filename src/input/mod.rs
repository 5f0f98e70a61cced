//! Reads what `prodready audit` is given: files, directories, stdin; multi-document YAML and
//! JSON; `List` objects; `helm template`, `kustomize build` and `kubectl get -o yaml` output.
//! A document that cannot be read is reported with its file, index and line, and skipped: the
//! others are still judged.

pub mod classify;
mod direct;
mod error;
mod namespace;
mod split;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use classify::{Parsed, classify};
pub use error::{InputError, Reason};
pub use split::{RawDocument, split_documents};

use crate::api::{ReadinessPolicy, SourceLocation};
use crate::workload::WorkloadObject;
use crate::world::{RelatedKind, World};

/// Files larger than this are refused rather than read into memory.
pub const MAX_FILE_BYTES: u64 = 256 << 20;
/// `List` objects nested deeper than this are refused.
const MAX_LIST_DEPTH: usize = 8;

/// A workload read from the input, with where it came from.
#[derive(Clone, Debug)]
pub struct SourcedWorkload {
    /// Boxed: a typed workload is 3 KiB, and a list of 10,000 that grows by doubling would copy
    /// and fault in twice that.
    pub object: Box<WorkloadObject>,
    pub source: SourceLocation,
}

/// Everything read from the input.
#[derive(Debug, Default)]
pub struct Inventory {
    pub workloads: Vec<SourcedWorkload>,
    pub world: World,
    pub policies: Vec<(ReadinessPolicy, SourceLocation)>,
    pub errors: Vec<InputError>,
    /// Documents read successfully (objects inside Lists counted one by one).
    pub objects: usize,
    /// The namespace of objects that name none (`-n`); `None` leaves them to `default`.
    default_namespace: Option<String>,
}

/// The namespaced kinds that make up a namespace's manifests: with `--complete`, an object of
/// these kinds that the input does not hold does not exist. Cluster-scoped kinds, custom
/// resources that often live elsewhere (monitors, rules, Velero schedules) and live state are
/// not covered.
const COMPLETE_KINDS: &[RelatedKind] = &[
    RelatedKind::Service,
    RelatedKind::Ingress,
    RelatedKind::NetworkPolicy,
    RelatedKind::PodDisruptionBudget,
    RelatedKind::HorizontalPodAutoscaler,
    RelatedKind::ConfigMap,
    RelatedKind::Secret,
    RelatedKind::PersistentVolumeClaim,
    RelatedKind::ServiceAccount,
    RelatedKind::CronJob,
];

/// What one document holds: its objects (a List's items one by one), each classified or
/// refused with the reason.
type Decoded = Result<Vec<Result<Parsed, Reason>>, serde_yaml_ng::Error>;

/// Documents below this count are decoded on the calling thread: a pool costs more than it
/// saves on a handful of manifests.
const PARALLEL_FROM: usize = 64;

/// Documents decoded at once while the ones before them are indexed: enough to keep every core
/// busy between two hand-overs, few enough that decoded objects do not pile up (a window of
/// Deployments is a few MiB decoded).
const WINDOW: usize = 512;

/// Decodes every document and hands each outcome, in input order, to `take`. Parsing is the
/// bulk of the work and each document parses on its own: documents are decoded on every core,
/// and indexed on the calling thread while the next window is decoded, so indexing overlaps
/// parsing instead of following it.
fn decode_all(docs: &[RawDocument<'_>], mut take: impl FnMut(&RawDocument<'_>, Decoded)) {
    let indexed = crate::parallel::in_order(docs, WINDOW, PARALLEL_FROM, decode, |doc, outcome| {
        take(doc, outcome);
        Ok::<(), std::convert::Infallible>(())
    });
    let Ok(()) = indexed;
}

fn decode(doc: &RawDocument<'_>) -> Decoded {
    if let Some(parsed) = direct::decode(doc.text) {
        return Ok(vec![Ok(parsed)]);
    }
    let mut objects = Vec::new();
    match serde_yaml_ng::from_str::<Value>(doc.text)? {
        Value::Null => {}
        value => flatten(value, 0, &mut objects),
    }
    Ok(objects)
}

/// Classifies an object, or each item of a List (nested Lists too, to a limit).
fn flatten(value: Value, depth: usize, out: &mut Vec<Result<Parsed, Reason>>) {
    let is_list = value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k == "List" || k.ends_with("List"))
        && value.get("items").is_some_and(Value::is_array);
    if !is_list {
        out.push(classify(value));
        return;
    }
    if depth >= MAX_LIST_DEPTH {
        out.push(Err(Reason::TooDeep));
        return;
    }
    let Value::Object(mut map) = value else {
        return;
    };
    if let Some(Value::Array(items)) = map.remove("items") {
        for (i, item) in items.into_iter().enumerate() {
            let before = out.len();
            flatten(item, depth + 1, out);
            for result in &mut out[before..] {
                if let Err(reason) = result {
                    let inner = std::mem::replace(reason, Reason::TooDeep);
                    *reason = Reason::InItem {
                        index: i,
                        reason: Box::new(inner),
                    };
                }
            }
        }
    }
}

impl Inventory {
    /// An empty inventory of manifests: partial (an object it lacks may exist elsewhere) until
    /// declared complete.
    pub fn new() -> Inventory {
        let mut inventory = Inventory::default();
        inventory.world.set_partial(true);
        inventory
    }

    /// Gives objects that name no namespace this one (`-n`), as `kubectl apply -n` would. Set
    /// before reading.
    pub fn set_default_namespace(&mut self, namespace: &str) {
        self.default_namespace = Some(namespace.to_string());
    }

    /// Declares the input the whole of its namespaces (`--complete`): what it does not hold
    /// does not exist, so an absent NetworkPolicy, PDB or referenced object fails instead of
    /// skipping or warning.
    pub fn assume_complete(&mut self) {
        self.world.set_partial(false);
        for kind in COMPLETE_KINDS {
            self.world.mark_present(*kind);
        }
    }

    /// Reads a stream of documents (YAML or JSON) named `file` in messages.
    pub fn add_text(&mut self, file: &str, text: &str) {
        let docs = if looks_like_json(file, text) {
            vec![RawDocument {
                index: 1,
                line: 1,
                text,
            }]
        } else {
            split_documents(text)
        };
        decode_all(&docs, |doc, outcome| self.take(file, doc, outcome));
    }

    /// Indexes one decoded document: its objects, or why it could not be read.
    fn take(&mut self, file: &str, doc: &RawDocument<'_>, outcome: Decoded) {
        // Only workloads, policies and errors keep where they came from.
        let source = || SourceLocation {
            file: file.to_string(),
            document: doc.index,
            line: doc.line,
        };
        match outcome {
            Ok(objects) => {
                for object in objects {
                    match object {
                        Ok(parsed) => {
                            self.objects += 1;
                            self.add_parsed(parsed, source);
                        }
                        Err(reason) => self.error(&source(), reason),
                    }
                }
            }
            Err(e) => self.errors.push(InputError {
                file: file.to_string(),
                document: Some(doc.index),
                line: Some(
                    e.location()
                        .map_or(doc.line, |l| doc.line + l.line().saturating_sub(1)),
                ),
                reason: Reason::NotYaml(absolute_lines(&e.to_string(), doc.line - 1)),
            }),
        }
    }

    fn add_parsed(&mut self, parsed: Parsed, source: impl FnOnce() -> SourceLocation) {
        match parsed {
            Parsed::Workload(mut object) => {
                if let Some(ns) = &self.default_namespace {
                    namespace::workload(&mut object, ns);
                }
                // Workloads are the input itself: once any is read, the absence of a backup
                // CronJob among them is meaningful.
                self.world.mark_present(RelatedKind::CronJob);
                self.world.apply_workload(&object);
                // A bare Pod is its own live state.
                if let WorkloadObject::Pod(p) = object.as_ref() {
                    self.world
                        .apply(crate::world::RelatedObject::Pod(p.clone()));
                }
                self.workloads.push(SourcedWorkload {
                    object,
                    source: source(),
                });
            }
            Parsed::Related(mut object) => {
                if let Some(ns) = &self.default_namespace {
                    namespace::related(&mut object, ns);
                }
                self.world.apply(*object)
            }
            Parsed::Policy(p) => self.policies.push((*p, source())),
            Parsed::Ignored => {}
        }
    }

    fn error(&mut self, source: &SourceLocation, reason: Reason) {
        self.errors.push(InputError {
            file: source.file.clone(),
            document: Some(source.document),
            line: Some(source.line),
            reason,
        });
    }

    /// Reads a file or a directory (recursively: `.yaml`, `.yml` and `.json` files).
    pub fn add_path(&mut self, path: &Path) {
        let display = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                self.file_error(&display, Reason::CannotRead(e.to_string()));
                return;
            }
        };
        if meta.is_dir() {
            let mut files = Vec::new();
            collect_manifests(path, &mut files, &mut self.errors);
            for f in files {
                self.add_file(&f);
            }
        } else {
            self.add_file(path);
        }
    }

    fn add_file(&mut self, path: &Path) {
        let display = path.display().to_string();
        match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                self.file_error(
                    &display,
                    Reason::TooLarge {
                        size_mib: m.len() >> 20,
                        limit_mib: MAX_FILE_BYTES >> 20,
                    },
                );
                return;
            }
            Err(e) => {
                self.file_error(&display, Reason::CannotRead(e.to_string()));
                return;
            }
            _ => {}
        }
        match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => self.add_text(&display, &text),
                Err(e) => self.file_error(&display, Reason::NotUtf8(e.utf8_error().valid_up_to())),
            },
            Err(e) => self.file_error(&display, Reason::CannotRead(e.to_string())),
        }
    }

    fn file_error(&mut self, file: &str, reason: Reason) {
        self.errors.push(InputError {
            file: file.to_string(),
            document: None,
            line: None,
            reason,
        });
    }
}

fn looks_like_json(file: &str, text: &str) -> bool {
    file.ends_with(".json") || text.trim_start().starts_with('{') && !text.contains("\n---")
}

/// The YAML parser numbers lines from the start of the document it was given; the user needs
/// them from the start of the file.
fn absolute_lines(msg: &str, offset: usize) -> String {
    let mut out = String::with_capacity(msg.len() + 8);
    let mut rest = msg;
    while let Some(i) = rest.find("line ") {
        let (head, tail) = rest.split_at(i + "line ".len());
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        match tail[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&tail[..digits]),
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

fn collect_manifests(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(InputError {
                file: dir.display().to_string(),
                document: None,
                line: None,
                reason: Reason::CannotList(e.to_string()),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            collect_manifests(&p, out, errors);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            out.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_stream_is_read_in_order_with_each_bad_document_named() {
        let mut text = String::new();
        for i in 1..=300 {
            if i % 97 == 0 {
                text.push_str("kind: [unclosed\n---\n");
            } else {
                text.push_str(&format!(
                    "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: n}}\nspec: \
                     {{containers: [{{name: c, image: i}}]}}\n---\n"
                ));
            }
        }
        let mut inventory = Inventory::new();
        inventory.add_text("big.yaml", &text);
        let names: Vec<&str> = inventory
            .workloads
            .iter()
            .map(|w| w.object.meta().name.as_deref().unwrap())
            .collect();
        let expected: Vec<String> = (1..=300)
            .filter(|i| i % 97 != 0)
            .map(|i| format!("p{i}"))
            .collect();
        assert_eq!(names, expected);
        let bad: Vec<(Option<usize>, Option<usize>)> = inventory
            .errors
            .iter()
            .map(|e| (e.document, e.line))
            .collect();
        // Documents 97, 194 and 291 (each good one is 5 lines with its separator, a bad one 2);
        // the parser stops on the line after the unclosed sequence.
        assert_eq!(
            bad,
            [
                (Some(97), Some(96 * 5 + 2)),
                (Some(194), Some(192 * 5 + 2 + 2)),
                (Some(291), Some(288 * 5 + 2 * 2 + 2))
            ]
        );
        assert!(
            inventory.errors[0]
                .reason
                .to_string()
                .starts_with("not valid YAML or JSON")
        );
    }

    #[test]
    fn yaml_error_positions_count_from_the_start_of_the_file() {
        assert_eq!(
            absolute_lines("expected ',' at line 6 column 1 (at line 5 column 18)", 17),
            "expected ',' at line 23 column 1 (at line 22 column 18)"
        );
    }

    #[test]
    fn bad_documents_are_reported_and_the_rest_read() {
        let mut inv = Inventory::new();
        inv.add_text(
            "app.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: two}\n---\n\
             apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: b}\n---\n\
             kind: Service\nmetadata: {name: c}\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n---\n\
             a: [1\n---\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ok}\nspec: {template: {spec: {containers: []}}}\n",
        );
        let reasons: Vec<String> = inv.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(inv.workloads.len(), 1, "{reasons:#?}");
        assert_eq!(reasons.len(), 5, "{reasons:#?}");
        assert!(
            reasons[0].starts_with(
                "app.yaml: document 1 (line 1): Deployment: spec.replicas: invalid type"
            ),
            "{}",
            reasons[0]
        );
        assert!(
            reasons[1].contains("document 2 (line 6): unknown kind \"Deploymnet\""),
            "{}",
            reasons[1]
        );
        assert!(
            reasons[2].contains("apiVersion is missing"),
            "{}",
            reasons[2]
        );
        assert!(
            reasons[3].contains("ConfigMap: metadata.name is missing"),
            "{}",
            reasons[3]
        );
        assert!(
            reasons[4].contains("document 5") && reasons[4].contains("not valid YAML"),
            "{}",
            reasons[4]
        );
    }

    /// `-n`: namespace-less manifests land where `kubectl apply -n` would put them, so the
    /// workload's ServiceAccount is the one a ClusterRoleBinding names in that namespace.
    #[test]
    fn namespace_less_manifests_take_the_namespace_they_will_be_applied_to() {
        let yaml = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: argocd-application-controller}\n\
             spec:\n  selector: {matchLabels: {app: c}}\n  template:\n    metadata: {labels: {app: c}}\n    \
             spec:\n      serviceAccountName: argocd-application-controller\n      \
             containers: [{name: c, image: 'argocd:v2'}]\n---\n\
             apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: argocd-application-controller}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: argocd-application-controller}\n\
             rules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: argocd-application-controller}\n\
             roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: argocd-application-controller}\n\
             subjects: [{kind: ServiceAccount, name: argocd-application-controller, namespace: argocd}]\n";
        let judge = |namespace: Option<&str>| {
            let mut inv = Inventory::new();
            if let Some(ns) = namespace {
                inv.set_default_namespace(ns);
            }
            inv.add_text("argocd.yaml", yaml);
            let view = inv.workloads[0].object.view().expect("pod spec");
            let policy = crate::engine::CompiledPolicy::compile(None, &Default::default()).unwrap();
            let r = crate::engine::evaluate(&view, &inv.world, &policy, crate::testing::now());
            (
                view.namespace.to_string(),
                crate::testing::outcome(&r, "security-cluster-admin"),
            )
        };
        assert_eq!(judge(None), ("default".to_string(), "pass"));
        assert_eq!(judge(Some("argocd")), ("argocd".to_string(), "fail"));
        let mut inv = Inventory::new();
        inv.set_default_namespace("argocd");
        inv.add_text("argocd.yaml", yaml);
        assert!(
            inv.world
                .service_account("argocd", "argocd-application-controller")
                .is_some()
        );
    }

    /// `--complete`: the input is the whole namespace, so what it lacks is missing.
    #[test]
    fn complete_input_proves_absence() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n\
             spec:\n  replicas: 2\n  selector: {matchLabels: {app: api}}\n  template:\n    \
             metadata: {labels: {app: api}}\n    spec:\n      \
             containers: [{name: app, image: 'api:1', envFrom: [{secretRef: {name: api-env}}]}]\n";
        let r = crate::testing::judge(yaml);
        for id in [
            "network-no-policy",
            "availability-no-pdb",
            "config-missing-reference",
        ] {
            assert_eq!(crate::testing::outcome(&r, id), "skip", "{id}");
        }
        let r = crate::testing::judge_complete(yaml);
        for id in [
            "network-no-policy",
            "availability-no-pdb",
            "config-missing-reference",
        ] {
            assert_eq!(crate::testing::outcome(&r, id), "fail", "{id}");
        }
        assert!(!Inventory::default().world.is_partial());
        assert!(Inventory::new().world.is_partial());
    }

    #[test]
    fn lists_are_flattened_and_owned_objects_are_live_state() {
        let mut inv = Inventory::new();
        inv.add_text(
            "dump.json",
            r#"{"apiVersion":"v1","kind":"List","items":[
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"api-7d9-x","namespace":"shop","labels":{"pod-template-hash":"7d9"},
                 "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"api-7d9","uid":"1","controller":true}]},"spec":{"containers":[]}},
                {"apiVersion":"v1","kind":"Service","metadata":{"name":"api","namespace":"shop"}},
                {"apiVersion":"v1","kind":"Bogus"}]}"#,
        );
        assert_eq!(inv.workloads.len(), 0);
        assert_eq!(inv.world.pods_of("shop", "Deployment", "api").len(), 1);
        assert!(inv.world.service("shop", "api").is_some());
        assert_eq!(inv.errors.len(), 1);
        assert!(
            inv.errors[0]
                .reason
                .to_string()
                .starts_with("items[2]: Bogus: metadata.name is missing"),
            "{}",
            inv.errors[0]
        );
    }
}
