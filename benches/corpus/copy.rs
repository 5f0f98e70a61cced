//! How one copy of an app differs from the app: its objects are in the copy's namespace, and what
//! the app says of its own namespaces and cluster-scoped objects follows them. The edits are made
//! on the lines as written, so that every other byte of the copy reads as the app does.
//!
//! What follows the namespace: `namespace:` fields (objects' own, bindings' subjects, webhooks'
//! services), `kubernetes.io/metadata.name` selectors, `<service>.<ns>.svc` host names and
//! `namespace=<ns>` flags. Cluster-scoped objects get the copy's number after their name, as
//! distinct releases of a chart would, and the `roleRef`s and `*ClassName` fields naming them
//! follow.

use super::app::{App, Document, Scope};

/// Fields whose value names a cluster-scoped object of a kind.
const CLASS_FIELDS: &[(&str, &str)] = &[
    ("storageClassName", "StorageClass"),
    ("volume.beta.kubernetes.io/storage-class", "StorageClass"),
    ("priorityClassName", "PriorityClass"),
    ("ingressClassName", "IngressClass"),
    ("runtimeClassName", "RuntimeClass"),
];

/// Appends the app's copy of round `round` to `out`.
pub fn write(out: &mut String, app: &App, round: usize) {
    let namespace = app.namespace(round);
    let in_text = app
        .namespaces
        .iter()
        .flat_map(|ns| {
            [
                (format!(".{ns}.svc"), format!(".{namespace}.svc")),
                (format!("namespace={ns}"), format!("namespace={namespace}")),
            ]
        })
        .collect();
    let copy = Copy {
        app,
        namespace,
        suffix: format!("-{round}"),
        in_text,
    };
    for doc in &app.documents {
        out.push_str("---\n");
        copy.document(doc, out);
    }
}

struct Copy<'a> {
    app: &'a App,
    namespace: String,
    suffix: String,
    /// What names the app's namespaces inside text, and what names the copy's.
    in_text: Vec<(String, String)>,
}

impl Copy<'_> {
    fn document(&self, doc: &Document, out: &mut String) {
        // The top-level key a line is under (`metadata`, `roleRef`...), and the indentation of
        // that key's own fields.
        let mut top = "";
        let mut fields = None;
        for line in doc.text.lines() {
            let content = line.trim_start();
            let indent = line.len() - content.len();
            let blank = content.is_empty() || content.starts_with('#');
            if !blank && indent == 0 {
                top = content.split(':').next().unwrap_or("");
                fields = None;
            }
            if blank || indent == 0 {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            // A namespaced object that names no namespace gets the copy's, as its first field.
            if fields.is_none()
                && top == "metadata"
                && doc.scope == Scope::Namespaced
                && doc.namespace.is_none()
            {
                out.push_str(&format!("{:indent$}namespace: {}\n", "", self.namespace));
            }
            let own_field = *fields.get_or_insert(indent) == indent;
            let line = match field(line) {
                Some((head, key, value)) => {
                    let renamed = match (top, key) {
                        ("metadata", "name") if own_field => self.own_name(doc),
                        ("roleRef", "name") if own_field => {
                            self.cluster_name(doc.role_ref_kind.as_deref().unwrap_or(""), value)
                        }
                        _ => self.reference(key, value),
                    };
                    renamed.map_or_else(|| line.to_string(), |v| format!("{head}{v}"))
                }
                None => line.to_string(),
            };
            out.push_str(&self.host_names(line));
            out.push('\n');
        }
    }

    /// The object's new name: the copy's namespace for a Namespace, the name and the copy's
    /// number for another cluster-scoped object.
    fn own_name(&self, doc: &Document) -> Option<String> {
        match doc.scope {
            Scope::Namespace => Some(self.namespace.clone()),
            Scope::Cluster => Some(format!("{}{}", doc.name, self.suffix)),
            Scope::Namespaced => None,
        }
    }

    /// The new value of a field that names one of the app's namespaces or cluster objects.
    fn reference(&self, key: &str, value: &str) -> Option<String> {
        match key {
            "namespace" | "kubernetes.io/metadata.name" => self
                .app
                .namespaces
                .contains(value)
                .then(|| self.namespace.clone()),
            _ => {
                let (_, kind) = CLASS_FIELDS.iter().find(|(f, _)| *f == key)?;
                self.cluster_name(kind, value)
            }
        }
    }

    fn cluster_name(&self, kind: &str, name: &str) -> Option<String> {
        let key = (kind.to_string(), name.to_string());
        self.app
            .cluster_objects
            .contains(&key)
            .then(|| format!("{name}{}", self.suffix))
    }

    /// `<service>.<ns>.svc` host names and `namespace=<ns>` flags, in any text.
    fn host_names(&self, mut line: String) -> String {
        for (from, to) in &self.in_text {
            if line.contains(from.as_str()) {
                line = replace_whole(&line, from, to);
            }
        }
        line
    }
}

/// `from` replaced by `to` where no letter, digit or dash continues it (so that `namespace=data`
/// is not found in `namespace=database`).
fn replace_whole(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let after = &rest[at + from.len()..];
        let whole = !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-');
        out.push_str(&rest[..at]);
        out.push_str(if whole { to } else { from });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A `key: value` line (or `- key: value`) as the text before its value, the key and the value
/// (unquoted, without a trailing comment).
fn field(line: &str) -> Option<(&str, &str, &str)> {
    let content = line.trim_start().trim_start_matches("- ");
    let (key, value) = content.split_once(": ")?;
    let head = &line[..line.len() - value.len()];
    let value = value.split(" #").next().unwrap_or("").trim();
    let value = value.trim_matches(|c| c == '"' || c == '\'');
    Some((head, key, value))
}
