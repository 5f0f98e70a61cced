//! The footprint of every related object, remembered under the object's key
//! (`Kind/namespace/name`): a change needs the old footprint besides the new (a Service whose
//! selector moved affects the workloads it selected and those it selects now).
//!
//! Tens of thousands of objects are remembered, most of them ConfigMaps, Secrets, Services,
//! NetworkPolicies and PDBs, whose footprints repeat what their key already says: the object's
//! own namespace and name. Those are kept without it, and rebuilt from the key when read.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::world::{Footprint, Reference, Selector};

/// The namespace and name in a key made by [`crate::world::kinds::object_key`]: neither holds a `/`.
pub fn namespace_and_name(key: &str) -> (&str, &str) {
    let mut parts = key.splitn(3, '/').skip(1);
    (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
}

/// A footprint without what its key says.
#[derive(Debug)]
enum Remembered {
    Nothing,
    /// Workloads in the key's namespace that reference the object by its own name.
    ReferencedByName(Reference),
    /// Workloads in the key's namespace whose pod labels the selector matches.
    PodSelector(Box<Selector>),
    /// Anything else, as it is: rarer kinds, or footprints reaching beyond the object.
    Other(Box<Footprint>),
}

impl Remembered {
    fn of(key: &str, footprint: Footprint) -> Remembered {
        let (own_namespace, own_name) = namespace_and_name(key);
        match footprint {
            Footprint::Nothing => Remembered::Nothing,
            Footprint::Referenced {
                namespace,
                reference,
                name,
            } if namespace == own_namespace && name == own_name => {
                Remembered::ReferencedByName(reference)
            }
            Footprint::PodSelector {
                namespace,
                selector,
            } if namespace == own_namespace => Remembered::PodSelector(Box::new(selector)),
            other => Remembered::Other(Box::new(other)),
        }
    }

    fn footprint(&self, key: &str) -> Cow<'_, Footprint> {
        let (namespace, name) = namespace_and_name(key);
        match self {
            Remembered::Nothing => Cow::Owned(Footprint::Nothing),
            Remembered::ReferencedByName(reference) => Cow::Owned(Footprint::Referenced {
                namespace: namespace.to_string(),
                reference: *reference,
                name: name.to_string(),
            }),
            Remembered::PodSelector(selector) => Cow::Owned(Footprint::PodSelector {
                namespace: namespace.to_string(),
                selector: Selector::clone(selector),
            }),
            Remembered::Other(footprint) => Cow::Borrowed(footprint),
        }
    }
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Footprints {
    by_key: HashMap<Box<str>, Remembered>,
}

impl Footprints {
    /// Remembers an object's footprint; returns the one it replaces.
    pub fn insert(&mut self, key: &str, footprint: Footprint) -> Option<Footprint> {
        let remembered = Remembered::of(key, footprint);
        match self.by_key.get_mut(key) {
            Some(slot) => {
                let old = std::mem::replace(slot, remembered);
                Some(old.footprint(key).into_owned())
            }
            None => {
                self.by_key.insert(key.into(), remembered);
                None
            }
        }
    }

    /// Forgets an object's footprint, returning it.
    pub fn remove(&mut self, key: &str) -> Option<Footprint> {
        let old = self.by_key.remove(key)?;
        Some(old.footprint(key).into_owned())
    }

    pub fn get(&self, key: &str) -> Option<Cow<'_, Footprint>> {
        Some(self.by_key.get(key)?.footprint(key))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.by_key.keys().map(|k| &**k)
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn selector(app: &str) -> Selector {
        Selector::from_map(Some(&BTreeMap::from([(
            "app".to_string(),
            app.to_string(),
        )])))
    }

    #[test]
    fn every_footprint_reads_back_as_it_was_remembered() {
        let own = |reference| Footprint::Referenced {
            namespace: "shop".into(),
            reference,
            name: "db".into(),
        };
        let cases = [
            ("Secret/shop/db", own(Reference::Secret)),
            ("ConfigMap/shop/db", own(Reference::ConfigMap)),
            // A PersistentVolume reaches the claim bound to it: not its own name.
            (
                "PersistentVolume//pv-1",
                Footprint::Referenced {
                    namespace: "shop".into(),
                    reference: Reference::Claim,
                    name: "data".into(),
                },
            ),
            (
                "Service/shop/web",
                Footprint::PodSelector {
                    namespace: "shop".into(),
                    selector: selector("web"),
                },
            ),
            (
                "HorizontalPodAutoscaler/shop/web",
                Footprint::Owner {
                    namespace: "shop".into(),
                    kind: "Deployment".into(),
                    name: "web".into(),
                },
            ),
            (
                "Ingress/shop/web",
                Footprint::Services {
                    namespace: "shop".into(),
                    names: BTreeSet::from(["web".to_string()]),
                },
            ),
            ("StorageClass//fast", Footprint::All),
            ("Secret/shop/empty", Footprint::Nothing),
        ];
        let mut footprints = Footprints::default();
        for (key, footprint) in &cases {
            assert_eq!(footprints.insert(key, footprint.clone()), None);
        }
        assert_eq!(footprints.len(), cases.len());
        for (key, footprint) in &cases {
            assert_eq!(footprints.get(key).as_deref(), Some(footprint), "{key}");
        }
        // Replacing returns the old footprint, whole; removing returns the current one.
        let moved = Footprint::PodSelector {
            namespace: "shop".into(),
            selector: selector("api"),
        };
        assert_eq!(
            footprints.insert("Service/shop/web", moved.clone()),
            Some(cases[3].1.clone())
        );
        assert_eq!(footprints.remove("Service/shop/web"), Some(moved));
        assert_eq!(footprints.remove("Service/shop/web"), None);
        assert!(footprints.get("Service/shop/web").is_none());
        assert_eq!(footprints.len(), cases.len() - 1);
    }
}
