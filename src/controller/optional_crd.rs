//! Whether a CustomResourceDefinition the operator can do without is installed: asked of API
//! discovery, again and again, since a CRD can be installed (or removed) while the operator runs.
//! What a caller does about it (log once, count, start or stop a watch) follows from the
//! [`Change`] that [`Presence::observe`] reports.

use kube::Client;

/// An optional kind: its group, version and plural resource name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionalCrd {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
}

impl OptionalCrd {
    /// `plural.group/version`, the way messages name it.
    pub fn display(&self) -> String {
        format!("{}.{}/{}", self.plural, self.group, self.version)
    }

    /// Whether the API serves the resource now. A group version the API does not know is
    /// `false`; any other failure (the API unreachable) is the caller's to retry.
    pub async fn served(&self, client: &Client) -> Result<bool, kube::Error> {
        let group_version = format!("{}/{}", self.group, self.version);
        match client.list_api_group_resources(&group_version).await {
            Ok(list) => Ok(list.resources.iter().any(|r| r.name == self.plural)),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// What one more look found, compared with the one before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Served now, and was not (or had not been looked at).
    Appeared,
    /// Not served now, and was (or had not been looked at).
    Missing,
    /// As before.
    Same,
}

/// The last answer about one CRD: the caller acts on changes only, so it logs once per change
/// rather than on every look.
#[derive(Clone, Copy, Debug, Default)]
pub struct Presence {
    served: Option<bool>,
}

impl Presence {
    pub fn observe(&mut self, served: bool) -> Change {
        let before = self.served.replace(served);
        match (before, served) {
            (Some(b), s) if b == s => Change::Same,
            (_, true) => Change::Appeared,
            (_, false) => Change::Missing,
        }
    }

    /// The last answer; `None` before the first look.
    pub fn served(&self) -> Option<bool> {
        self.served
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_change_is_reported_once() {
        let mut p = Presence::default();
        assert_eq!(p.served(), None);
        assert_eq!(p.observe(false), Change::Missing);
        assert_eq!(p.observe(false), Change::Same);
        assert_eq!(p.observe(true), Change::Appeared);
        assert_eq!(p.observe(true), Change::Same);
        assert_eq!(p.observe(false), Change::Missing);
        assert_eq!(p.served(), Some(false));
        let mut first_seen = Presence::default();
        assert_eq!(first_seen.observe(true), Change::Appeared);
    }

    #[test]
    fn a_crd_names_itself() {
        let crd = OptionalCrd {
            group: "openreports.io",
            version: "v1alpha1",
            plural: "reports",
        };
        assert_eq!(crd.display(), "reports.openreports.io/v1alpha1");
    }
}
