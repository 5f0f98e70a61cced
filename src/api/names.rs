//! How prodready names and labels the reports it writes: part of its contract with the cluster
//! (`kubectl get rdr`, label selectors, OpenReports), shared by the controller and the output.

use sha2::{Digest, Sha256};

/// The field manager of every write prodready makes: reports, Events, OpenReports, the Lease.
pub const FIELD_MANAGER: &str = "prodready";
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "prodready");
pub const KIND_LABEL: &str = "prodready.dev/workload-kind";
pub const NAME_LABEL: &str = "prodready.dev/workload-name";
pub const RELEASE_LABEL: &str = "prodready.dev/release";
/// The labels prodready sets on its reports.
pub const OWN_LABELS: [&str; 4] = [MANAGED_BY.0, KIND_LABEL, NAME_LABEL, RELEASE_LABEL];
/// The summary condition: `kubectl wait --for=condition=ProductionReady` works on it.
pub const CONDITION: &str = "ProductionReady";

/// Object names are DNS subdomains: at most 253 characters.
const MAX_NAME: usize = 253;
const MAX_LABEL_VALUE: usize = 63;

fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest[..5].iter().map(|b| format!("{b:02x}")).collect()
}

/// `<kind>-<name>` in lower case; a name too long keeps its start and gains a hash of the
/// whole, so two long names never collide.
pub fn report_name(kind: &str, name: &str) -> String {
    let full = format!("{kind}-{name}").to_ascii_lowercase();
    if full.len() <= MAX_NAME {
        return full;
    }
    let hash = short_hash(&full);
    let keep = MAX_NAME - hash.len() - 1;
    let prefix = full[..keep].trim_end_matches(['-', '.']);
    format!("{prefix}-{hash}")
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A label value that Kubernetes accepts: at most 63 characters of `[A-Za-z0-9._-]`, starting
/// and ending alphanumeric. Anything else is cut and suffixed with a hash of the original.
pub fn label_value(value: &str) -> String {
    let valid = value.len() <= MAX_LABEL_VALUE
        && value.chars().all(is_label_char)
        && value
            .chars()
            .next()
            .is_none_or(|c| c.is_ascii_alphanumeric())
        && value
            .chars()
            .last()
            .is_none_or(|c| c.is_ascii_alphanumeric());
    if valid {
        return value.to_string();
    }
    let hash = short_hash(value);
    let cleaned: String = value
        .chars()
        .map(|c| if is_label_char(c) { c } else { '-' })
        .take(MAX_LABEL_VALUE - hash.len() - 1)
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if cleaned.is_empty() {
        hash
    } else {
        format!("{cleaned}-{hash}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_stay_within_kubernetes_limits() {
        assert_eq!(report_name("Deployment", "api"), "deployment-api");
        let long = "a".repeat(250);
        let name = report_name("StatefulSet", &long);
        assert!(name.len() <= 253);
        assert_ne!(name, report_name("StatefulSet", &"a".repeat(251)));
        assert_eq!(label_value("api"), "api");
        let long = label_value(&"x".repeat(100));
        assert!(long.len() <= 63 && long.starts_with("xxx"), "{long}");
        let odd = label_value("-my release!");
        assert!(odd.chars().all(is_label_char) && odd.starts_with("my-release"));
    }
}
